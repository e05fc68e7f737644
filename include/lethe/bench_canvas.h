/*
 * lethe/bench_canvas.h - UnlearnCanvas on FashionCanvas (`lethe bench
 * canvas`, src/bench/canvas.c): per target (a style or an object), unlearn
 * it from a text-conditioned UNet with each method, draw the answer set
 * (every style x object canonical prompt "An {object} image in {style}
 * style." x seeds), judge it with the fixed style and object classifiers
 * and report UnlearnCanvas' seven metrics: UA, IRA, CRA
 * (lt_canvas_scores_of), FD of the answer set, time, peak memory and
 * storage.
 *
 * Per target t and method m (one unlearned model each, unlearning seed 1):
 *   - unlearn a fresh copy of the base (lethe/dm_text_unlearn.h,
 *     dm_text_salun.h, dm_canvas_unlearn.h); "original" leaves it;
 *   - the answer set: seeds samples of each of the 220 prompts with the
 *     sampler (DDIM-50, eta 0, SD-convention guidance 9: UnlearnCanvas'
 *     cfg 9 in Stable Diffusion's convention, which Lethe's text sampler
 *     uses, docs/canvas-unlearning.md), noise seeded by the sampler seed
 *     (the same noise for every method: paired);
 *   - UA, IRA, CRA of t from the per-prompt verdicts (accuracy.py's per-
 *     class accuracies, aggregated as the paper defines them);
 *   - FD of the answer set against a real test subset of the same size and
 *     balance (seeds pictures of every pair), in the penultimate features
 *     of each classifier, with the real-vs-real floor (test vs train
 *     subsets at the same N) in the settings;
 *   - time of the unlearning (mask pass included) in s, the process's peak
 *     RSS in MB, and storage: the full weights (4 bytes x every weight)
 *     against a sparse delta (4 bytes per changed weight plus a 1-bit map
 *     over the tensors that changed), in MB.
 * Methods: original, esd-x, esd-u, fmn, salun, each optionally "+saliency"
 * (the target's SalUn mask, generate_mask.py's pass) or "+none" (no mask:
 * for salun, what the script's never-true mask test makes it train).
 * Models unlearned elsewhere (`lethe dm unlearn`, e.g. AdvUnlearn, whose
 * robust encoder bench canvas does not train) are scored as rows of their
 * own (unlearned[], --unlearned NAME=FILE[:ENCODER]): the same answer set
 * drawn with that UNet and that encoder (default FILE.clip.safetensors),
 * for every target (unlearn one target per file and name that target);
 * time "-" (not measured here), storage counting the encoder's weights
 * when they differ from the base's.
 * Targets: a comma list of style:NAME / object:NAME, "all" (every style
 * but Photo, which SalUn maps to, and every object) or "subset" (a seeded
 * draw of subset_styles styles but Photo and subset_objects objects).
 */
#ifndef LETHE_BENCH_CANVAS_H
#define LETHE_BENCH_CANVAS_H

#include "lethe/bench.h"
#include "lethe/bench_attack.h"
#include "lethe/dm_text_salun.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *model;     /* base text UNet; NULL: a base_arch model
                              trained base_steps into the cache (--quick) */
    const char *encoder;   /* NULL: MODEL.clip.safetensors (a quick base:
                              quick_encoder) */
    const char *canvas;    /* FashionCanvas folder; NULL (quick): one of
                              quick_per_class pictures generated into the
                              cache */
    const char *base_arch; /* "text:xs" (only without model) */
    int64_t base_steps;    /* 200 (only without model) */
    const char *quick_encoder; /* models/fashion-canvas-clip-tiny-v1 */
    int quick_per_class;   /* 3 */
    const char *style_classifier, *object_classifier;
    const char *targets;   /* "subset" */
    int subset_styles, subset_objects; /* 6, 4 */
    uint64_t subset_seed;  /* 1 */
    const char *methods;   /* "original,esd-x,esd-u,fmn,salun" */
    lt_bench_asr_model unlearned[LT_BENCH_ASR_MAX_MODELS]; /* rows of
                              models unlearned elsewhere, after the
                              methods' (encoder NULL: FILE.clip.safetensors) */
    int n_unlearned;
    const char *cache;     /* folder of quick models and canvas, and of
                              every finished row (CACHE/runs) */
    bool resume;           /* reuse the rows kept in CACHE/runs by an
                              earlier (stopped) sweep (needs cache) */
    int seeds;             /* answer-set samples per prompt (5) */
    int runs;              /* unlearning runs per target and method (1):
                              run r adds r to the seed of every method and
                              to the answer set's sampling seed, and the
                              row holds mean +- std over the runs */
    lt_esd_config esd;     /* lt_esd_defaults (params set per method);
                              lt_esd_defaults_for(LT_ESD_SD) for today's
                              esd_sd.py (--esd-variant sd) */
    lt_fmn_config fmn;     /* lt_fmn_defaults */
    bool fmn_ti;           /* fmn: FMN's textual-inversion stage first
                              (train_ti.py), its learned tokens in place of
                              the concept's word (--fmn-ti; off: the word
                              itself, Lethe's documented shortcut) */
    lt_fmn_ti_config ti;   /* lt_fmn_ti_defaults */
    lt_salun_text_config salun; /* lt_salun_text_defaults */
    int salun_per_pair;    /* pictures per pair of SalUn's sets (3) */
    bool cra_without_target;
    lt_dm_sample_config sample; /* DDIM-50, eta 0, sd w 9, seed 1234 */
    uint64_t eval_seed;    /* the real subsets of FD and floor (1) */
    const char *grid_dir;  /* NULL, or a folder (it must exist) for the
                              answer sets' grids: the first sample of every
                              prompt, a row per style, a column per object,
                              as TARGET-METHOD.png (original.png once) */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;   /* recorded in the report */
    lt_bench_progress progress;
    void *ud;
} lt_bench_canvas_cfg;

LT_API lt_bench_canvas_cfg lt_bench_canvas_defaults(void);
/* CI's setting: a tiny text UNet trained 30 steps on a generated canvas
 * of 1 picture per class, targets style:neon and object:bag, 1 seed,
 * DDIM-2, esd 2 iterations, fmn 2 steps, salun 1 epoch of 1 picture per
 * pair; original,esd-x,fmn,salun. */
LT_API void lt_bench_canvas_quick(lt_bench_canvas_cfg *c);
/* Every check possible before any work (names, ranges, targets). */
LT_API lt_status lt_bench_canvas_check(const lt_bench_canvas_cfg *c);
/* Run the protocol into out. A method that diverges is a failed row.
 * Under mpirun the target x method rows are dealt to the ranks, rank 0
 * makes the quick canvas and base first, and every rank ends with the
 * whole table (docs/mpi.md). */
LT_API lt_status lt_bench_canvas(const lt_bench_canvas_cfg *c,
                                 lt_report *out);

#ifdef __cplusplus
}
#endif
#endif
