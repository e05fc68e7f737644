/*
 * lethe/bench.h - the benchmark protocols as library functions, and the
 * result tables they fill.
 *
 * A protocol is a function from a config struct to a report: it builds or
 * reuses (from a cache folder, keyed by everything that shapes them) the
 * reference models it needs, runs every requested method, measures, and
 * fills an lt_report: a title, the settings it ran with (command, commit,
 * threads, ...) and one or more tables of rows. A row has text cells
 * (method, mask, optimizer, ...) and number cells recorded once per seed,
 * so the writers can print mean +- sample std. Protocols never print:
 * news goes to the config's progress callback, errors come back as an
 * lt_status with lt_last_error() set.
 *
 *     lt_bench_classify_cfg c = lt_bench_classify_defaults();
 *     c.seeds = 1;
 *     lt_report r = {0};
 *     if (lt_bench_classify(&c, &r) == LT_OK)
 *         lt_report_markdown(&r, stdout);
 *     lt_report_free(&r);
 *
 * Every *_defaults() constructor is the one place its defaults are
 * written; the command line starts from it.
 */
#ifndef LETHE_BENCH_H
#define LETHE_BENCH_H

#include "lethe/canvas.h"
#include "lethe/core.h"
#include "lethe/llm_unlearn.h"
#include "lethe/diffusion.h"
#include "lethe/dm_attack.h"
#include "lethe/lm.h"
#include "lethe/methods.h"
#include "lethe/train.h"

#include <stdbool.h>
#include <stdio.h>

/* ---- result tables ------------------------------------------------------ */

#define LT_TABLE_MAX_COLS 16
#define LT_TABLE_MAX_SEEDS 16
#define LT_TABLE_TEXT 48          /* bytes of one text cell */
#define LT_REPORT_MAX_TABLES 6

/* One column. fmt NULL: a text column; otherwise the printf format of one
 * number ("%.2f"), with values whose magnitude is below sci_below (and not
 * 0) printed as "%.2e". json_only columns are left out of Markdown. */
typedef struct {
    const char *key;       /* JSON name: "UA", "forget_quality" */
    const char *head;      /* Markdown header: "UA", "Forget quality" */
    const char *fmt;
    double sci_below;
    bool json_only;
} lt_table_col;

/* One row: text[c] for text columns, v[s][c] for the number columns of run
 * (seed) s < n. NaN marks a value not measured. */
typedef struct {
    char text[LT_TABLE_MAX_COLS][LT_TABLE_TEXT];
    int n;
    double v[LT_TABLE_MAX_SEEDS][LT_TABLE_MAX_COLS];
    bool failed;           /* a run failed (message says why) */
    bool diverged;         /* ... by diverging (loss NaN); numbers, if any,
                              are of the last good weights */
    char message[320];
} lt_table_row;

typedef struct {
    char title[512];
    int n_cols;
    lt_table_col cols[LT_TABLE_MAX_COLS];
    lt_table_row *rows;
    int n_rows, cap_rows;
} lt_table;

/* One setting of a report: text, or a number (is_num). */
typedef struct {
    char key[40];
    char text[1024];
    double num;
    bool is_num;
} lt_report_setting;

typedef struct {
    char title[512];
    lt_table tables[LT_REPORT_MAX_TABLES];
    int n_tables;
    lt_report_setting *settings;
    int n_settings;
    double seconds;        /* wall time of the protocol */
    void *owned;           /* column names and formats of a report read
                              from a file (lt_report_read_json); freed by
                              lt_report_free */
} lt_report;

/* A new table of r with these columns (NULL when r is full). */
LT_API lt_table *lt_report_table(lt_report *r, const char *title,
                          const lt_table_col *cols, int n_cols);
/* Record a setting (replaces one of the same key). */
LT_API lt_status lt_report_set(lt_report *r, const char *key, const char *text);
LT_API lt_status lt_report_set_num(lt_report *r, const char *key, double v);
/* The setting's text ("" if absent). */
LT_API const char *lt_report_get(const lt_report *r, const char *key);
LT_API void lt_report_free(lt_report *r);

/* A new row (text cells empty, no runs), or NULL (error set). */
LT_API lt_table_row *lt_table_add_row(lt_table *t);
/* The row whose text column col equals text, or NULL. */
LT_API lt_table_row *lt_table_find(const lt_table *t, int col, const char *text);
/* Append one run: v has LT_TABLE_MAX_COLS entries, v[c] for column c
 * (text columns and those past the table's last are ignored). */
LT_API lt_status lt_table_row_add_run(lt_table_row *row, const double *v);
/* Mean and sample std (n - 1; 0 for one run) of column c over the runs
 * whose value is not NaN; NaN when there are none. */
LT_API void lt_table_row_stats(const lt_table_row *row, int c, double *mean,
                        double *std);
/* The column keyed key, or -1. */
LT_API int lt_table_col_index(const lt_table *t, const char *key);

/* The report as Markdown: title, the line "Matrix products: PRECISION
 * (BACKEND)." when the settings have "precision" (every benchmark's do),
 * then each table (its title as a "###" heading when there are several)
 * with "mean ± std" cells when a row has several runs, then the failure
 * messages. */
LT_API void lt_report_markdown(const lt_report *r, FILE *f);
/* The same, written atomically to path. */
LT_API lt_status lt_report_write_markdown(const lt_report *r, const char *path);
/* {"title", "settings": {...}, "seconds", "tables": [{"title", "columns":
 * [{"key", "head", "number", "fmt", "sci_below", "json_only"}], "rows":
 * [{text keys, "seeds", key, key_std, ..., "runs": [...], "failed",
 * "diverged", "message"}]}]}, NaN written as null; atomically to path.
 * "runs" lists every run's numbers when a row has several (empty for one
 * run: its numbers are the row's). */
LT_API lt_status lt_report_write_json(const lt_report *r, const char *path);
struct cJSON;
/* The same with extra (taken, may be NULL) added to the top object under
 * key (the runs' records of bench attack). */
LT_API lt_status lt_report_write_json_with(const lt_report *r,
                                           const char *path, const char *key,
                                           struct cJSON *extra);

/* ---- reading and merging reports (src/bench/report_merge.c) ------------- */

/* Read a report written by lt_report_write_json back into out: title,
 * settings, total time, and each table's columns and rows with every
 * per-seed run (a row of one run: its values). The columns, with their
 * Markdown heads and formats, come from the table's "columns"; files
 * written before that key existed get them from the rows (string keys:
 * text columns, number or null keys: numbers printed "%.4g", headed by
 * their key). LT_ERR_IO naming path when it cannot be read, LT_ERR_FORMAT
 * naming it when it is not a report (not JSON, no "tables" array, a table
 * without "rows") or holds more tables, columns or runs than lt_report
 * can; out is left empty then. */
LT_API lt_status lt_report_read_json(const char *path, lt_report *out);
/* One report from n reports of the same benchmark that differ only in
 * their seed (the runs of one sweep made apart: one after another, on
 * several machines): tables matched by position (same count and columns),
 * rows by all their text cells (the first report's rows in its order, then
 * rows only later reports have); each row gets every run of every report
 * (so the writers print mean ± sample std over them), and is failed or
 * diverged if it was in any report (message: the first). Settings equal in
 * every report are kept; the others become "a | b | ..." in report order;
 * "seeds" is the sum of the reports' "seeds" (1 for a report without it);
 * seconds the sum. The title (and each table's) is the first report's
 * with its "seed N" turned into "seeds N1, N2, ... (mean ± std)" when
 * the titles differ only there, kept when all are equal, else the first
 * title plus "(N reports merged, mean ± std)". LT_ERR_ARG naming the report and table that do
 * not match, n outside 1..LT_TABLE_MAX_SEEDS, or a row that would exceed
 * LT_TABLE_MAX_SEEDS runs; out is left empty on error. */
LT_API lt_status lt_report_merge(const lt_report *in, int n, lt_report *out);
/* Give r's columns the Markdown heads, formats and json_only flags of the
 * same-keyed columns of like's table at the same position (a report of
 * the same benchmark that names its columns: files written before
 * "columns" existed are read with their keys as heads and "%.4g").
 * LT_ERR_ARG naming the table when like has fewer tables or a table whose
 * column keys differ; r is unchanged then. */
LT_API lt_status lt_report_use_columns(lt_report *r, const lt_report *like);

/* The trade-off plot of a report (src/bench/plots.c): for every table
 * whose columns xkey and ykey are numbers, one series (named by the table's
 * title) with a point per row at the mean of the two columns, sample-std
 * error bars (rows of several runs), labelled by the row's visible text
 * columns; rows without both values are left out. log_x: a log x axis
 * (p-values such as TOFU's forget quality; rows with x <= 0 left out).
 * Written to path as PNG (lethe/plot.h), atomically. LT_ERR_ARG when no
 * table has both columns or no row a point. */
LT_API lt_status lt_report_plot(const lt_report *r, const char *xkey,
                                const char *ykey, bool log_x,
                                const char *path);
/* The trade-off plot each protocol names by its report's title: UA against
 * TA for the classification tables, forget quality (log) against model
 * utility for TOFU; LT_ERR_ARG for a report with neither. */
LT_API lt_status lt_report_plot_tradeoff(const lt_report *r, const char *path);

/* ---- the report page: lt_report_html (src/bench/report_html.c) ----------- */

/* What a report page shows. */
typedef struct {
    int reports;       /* result files (lt_report_write_json's JSON) */
    int tables, rows;  /* their tables and rows */
    int images;        /* PNG pictures (plots, sample grids) */
    int skipped;       /* other JSON files, listed but not shown */
} lt_report_page;

/* One static, self-contained HTML page for the results folder dir (the
 * files directly in it, by name): per result JSON its title, settings
 * (command, commit, seeds, threads, ...), total time and tables (text
 * cells, then each number as mean ± sample std, the per-seed runs of
 * every row, failures with their message), the PNG of the same name just
 * after it (the trade-off plot), then every other PNG; pictures are
 * embedded as data: URIs, so the page opens without a server or the
 * folder. Written atomically to out. LT_ERR_IO naming dir or a file that
 * cannot be read, LT_ERR_FORMAT naming a .json file that is not JSON,
 * LT_ERR_ARG when dir holds no result file and no picture. page (may be
 * NULL) receives the counts. */
LT_API lt_status lt_report_html(const char *dir, const char *out,
                                lt_report_page *page);

/* ---- progress ------------------------------------------------------------ */

typedef enum {
    LT_BENCH_NOTE,      /* text: one line of news */
    LT_BENCH_TRAIN,     /* a classifier trains: train */
    LT_BENCH_LM,        /* a language model trains: lm */
    LT_BENCH_LLM,       /* a language model unlearns: llm */
    LT_BENCH_UNLEARN    /* a classifier unlearns: unlearn */
} lt_bench_event_kind;

typedef struct {
    lt_bench_event_kind kind;
    const char *text;   /* NOTE: the line; otherwise what runs ("npo none
                           adamw lr 0.001") */
    const lt_train_event *train;
    const lt_lm_event *lm;
    const lt_llm_event *llm;
    const lt_unlearn_event *unlearn;
} lt_bench_event;

typedef void (*lt_bench_progress)(void *ud, const lt_bench_event *ev);

/* ---- classification: lt_bench_classify, lt_bench_worst_case ------------ */

typedef struct {
    const char *data;        /* dataset name */
    const char *model;       /* architecture */
    const char *forget;      /* forget-set spec: random:10%, class:K, ... */
    const char *methods;     /* comma list, or "all" (every method but
                                retrain, the reference) */
    const char *lr;          /* per-method rates "ga=3e-5,rl=0.01" (NULL) */
    const char *lr_grid;     /* per-method grids "ga=1e-5:3e-5" (NULL): one
                                row per value */
    const char *optim;       /* optimizer of every method (NULL: each
                                method's default) */
    const char *mask;        /* mask of every method (NULL: each method's
                                default) */
    const char *cache;       /* folder of trained models and metrics */
    int seeds;               /* seeds 1..N: forget set, Retrain, methods */
    int train_epochs;        /* original and Retrain */
    float train_lr;          /* their base rate (cosine schedule) */
    bool be_drop_shadow;     /* be: evaluate the K-way weights (the shadow
                                class dropped; row "be-drop") instead of the
                                OPTML code's K+1-way model (row "be") */
    bool resume;             /* reuse the runs already saved in
                                <cache>/runs (docs/mpi.md) */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;     /* recorded in the report (NULL: none) */
    lt_bench_progress progress;
    void *ud;
} lt_bench_classify_cfg;

LT_API lt_bench_classify_cfg lt_bench_classify_defaults(void);
/* The small setting of `lethe bench classify --quick` (and of the Python
 * module's tests, on a 1,200-item subset): a 32-unit MLP trained one
 * epoch, one seed, the methods ft, ga and salun. On the full Fashion-MNIST
 * it takes minutes, most of them the MIA's SVM fits over 60,000 items. */
LT_API void lt_bench_classify_quick(lt_bench_classify_cfg *c);
/* Check every option that can be checked before any training. */
LT_API lt_status lt_bench_classify_check(const lt_bench_classify_cfg *c);
/* Train or reuse the original (cache) and, per seed, the Retrain model;
 * run every method from the original weights; one table: UA, RA, TA, MIA,
 * Avg. Gap to Retrain, RTE (s), a row per method (and grid value) with a
 * run per seed. A method that fails (diverges) is a row marked failed.
 * The cache keys hold the model, epochs, rate, precision and a hash of
 * the loaded data (shape, images and labels of both splits): another data
 * folder with other files trains its own models, the same files in any
 * folder share them (caches from before this key trains again). */
LT_API lt_status lt_bench_classify(const lt_bench_classify_cfg *c, lt_report *out);
/* The same for the random set c->forget (must be random:...) and for the
 * worst-case set of the same size chosen by bi-level selection on the
 * original model (cached); three tables: random, worst-case, and the two
 * side by side ("a → b (+d)" of the means). */
LT_API lt_status lt_bench_worst_case(const lt_bench_classify_cfg *c, lt_report *out);

/* ---- diffusion models: lt_bench_dm_eval (src/bench/dm_eval.c) ------------ */

typedef struct {
    const char *model;        /* class-conditional UNet checkpoint */
    const char *classifier;   /* evaluator (LT_FMNIST_EVAL_B) */
    const char *data;         /* its data set ("fashion-mnist") */
    int per_class;            /* samples per class (450: 4,500 in all) */
    lt_dm_sample_config sample; /* DDIM-50 (eta 0), salun w = 2, seed 1234 */
    uint64_t seed;            /* the real subsets of the FD and floors (1) */
    const char *grid;         /* PNG grid of the first 10 samples of each
                                 class, a class per row (NULL: none) */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;      /* recorded in the report (NULL: none) */
    lt_bench_progress progress;
    void *ud;
} lt_bench_dm_cfg;

LT_API lt_bench_dm_cfg lt_bench_dm_defaults(void);
LT_API lt_status lt_bench_dm_check(const lt_bench_dm_cfg *c);
/* The acceptance report of a base model: two tables (per class:
 * evaluator accuracy on samples vs on real test images, entropy, p(class),
 * FD to the class's real images with its floor; overall: FD with the
 * floor at the same N, precision/recall, nearest-training-image distance
 * of samples vs of test images) and the setting "accepted" (yes/no).
 * When samples is not NULL it receives the generated images [n, C, H, W]
 * in [-1, 1], class-major (free them). */
LT_API lt_status lt_bench_dm_eval(const lt_bench_dm_cfg *c, lt_report *out,
                                  float **samples);

/* ---- text diffusion models: lt_bench_dm_text_eval (dm_text_eval.c) ------- */

typedef struct {
    const char *model;        /* text-conditioned UNet checkpoint */
    const char *encoder;      /* its text encoder (NULL: MODEL.clip.safetensors,
                                 the copy lethe dm train writes) */
    const char *canvas;       /* FashionCanvas folder of the real pictures
                                 (the one the model was trained on) */
    const char *style_classifier;  /* LT_CANVAS_EVAL_STYLE */
    const char *object_classifier; /* LT_CANVAS_EVAL_OBJECT */
    int per_pair;             /* samples per (style, object) pair (2: 440) */
    lt_dm_sample_config sample; /* lt_dm_sample_defaults_text: DDIM-50,
                                   sd guidance 7.5, seed 1234 */
    uint64_t seed;            /* the real subsets (1) */
    int prompt_check;         /* pictures per style and per object of the
                                 prompt check below (2; 0: off) */
    bool prompt_only;         /* the prompt check alone: no samples, no
                                 acceptance verdict */
    const char *grid;         /* PNG: the first sample of every pair, a row
                                 per style, a column per object (NULL: none) */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;      /* recorded in the report (NULL: none) */
    lt_bench_progress progress;
    void *ud;
} lt_bench_dm_text_cfg;

LT_API lt_bench_dm_text_cfg lt_bench_dm_text_defaults(void);
LT_API lt_status lt_bench_dm_text_check(const lt_bench_dm_text_cfg *c);
/* The acceptance report of a text model: per style and per object, the
 * evaluators' accuracy on samples of the canonical prompts against their
 * accuracy on real test pictures (pass >= 0.9x); overall, FD in both
 * classifiers' features with the real-vs-real floor at the same N (the
 * object features' FD must be <= 5x), precision/recall and the copying
 * check; the setting "accepted" (yes/no). samples (may be NULL) receives
 * the images [n, 3, 32, 32] in [-1, 1], pair-major (free them). */
LT_API lt_status lt_bench_dm_text_eval(const lt_bench_dm_text_cfg *c,
                                       lt_report *out, float **samples);

/* Does a text model use its prompt? (dm_text_prompt.c) The model as a
 * diffusion classifier on real test pictures, nothing sampled: a picture
 * noised at t = (2k + 1) T / 10, k = 0..4 (one noise per picture and t,
 * shared by the candidates) is given the candidate prompt with the lowest
 * summed denoising error. Style axis: k pictures per style, candidates
 * the picture's object in every style; object axis: k pictures per
 * object, the picture's style with every object (canonical prompts). */
#define LT_BENCH_PROMPT_STEPS 5

typedef struct {
    double accuracy;  /* % of pictures whose own prompt wins */
    double gain;      /* mean % reduction of the denoising error by the
                         true prompt over the empty caption */
} lt_bench_prompt_score;

typedef struct {
    int pictures, candidates;
    double chance;                /* 100 / candidates */
    lt_bench_prompt_score all;    /* errors summed over the timesteps */
    lt_bench_prompt_score by_t[LT_BENCH_PROMPT_STEPS]; /* at each alone */
} lt_bench_prompt_axis;

typedef struct {
    lt_bench_prompt_axis style, object;
} lt_bench_prompt_check;

/* Timestep k (0..LT_BENCH_PROMPT_STEPS-1) of the check: (2k + 1) T / 10. */
LT_API int lt_bench_prompt_timestep(int T, int k);
/* k pictures per class (1..10) from a seeded one-per-pair subset of the
 * test split te (pixels in [0, 1]). LT_ERR_ARG for a class model. */
LT_API lt_status lt_bench_dm_text_prompt_check(lt_unet *u,
                                               const lt_dm_schedule *s,
                                               lt_clip *clip,
                                               const lt_clip_vocab *v,
                                               const lt_canvas *te, int k,
                                               uint64_t seed,
                                               lt_bench_prompt_check *out);

/* ---- prompt attacks on text diffusion models: lt_bench_dm_attack --------- */

/* One attack run (lethe dm attack; src/bench/dm_attack.c): the concept's
 * prompts, each attacked with lt_atk_run (lethe/dm_attack.h) against the
 * unlearned model with the in-loop detector, then the unattacked and the
 * final image of every prompt judged by the second classifier. */
typedef struct {
    const char *original;   /* the model before unlearning (required by
                               unlearndiff and p4d; target images) */
    const char *unlearned;  /* the attacked model */
    const char *encoder;    /* the attacked model's encoder (NULL:
                               UNLEARNED.clip.safetensors) */
    const char *original_encoder; /* the original model's encoder (target
                               images, P4D's reference; NULL: the attacked
                               model's, as before AdvUnlearn) */
    const char *concept;    /* "object:NAME", "style:NAME" or "mark" */
    const char *prompt;     /* NULL: captions of the concept drawn per
                               prompt; else this text for every prompt
                               (each at its own seed) */
    int n_prompts;          /* 10 */
    uint64_t prompt_seed;   /* prompt i: its words drawn from and generated
                               at seed prompt_seed + i (1) */
    int k;                  /* 0: 3, or 5 for the mark */
    const char *detector;   /* in-loop classifier (NULL: the committed
                               evaluator of the concept's axis) */
    const char *judge;      /* the verdict's classifier (NULL: the
                               detector, reported as not independent) */
    const char *prompts_json; /* per-prompt results and adversarial prompts,
                                 with the run's precision and backend
                                 (NULL: not written) */
    const char *grid;       /* PNG: a row per prompt, its unattacked and its
                               last generated image (NULL: none) */
    const char *command;    /* recorded in the report */
    lt_atk_config atk;      /* lt_atk_defaults (the official schedule) */
    lt_bench_progress progress;
    void *ud;
} lt_bench_attack_cfg;

LT_API lt_bench_attack_cfg lt_bench_attack_defaults(void);
/* The report: settings, and a table of pre-ASR and ASR (percent, 95%
 * Wilson intervals) by the in-loop detector and by the judge. Errors:
 * LT_ERR_ARG for an unknown concept, no detector for the mark, classifiers
 * of the wrong class count; the files' loaders' errors. */
LT_API lt_status lt_bench_dm_attack(const lt_bench_attack_cfg *c,
                                    lt_report *out);

/* ---- LLM unlearning on synthetic TOFU: lt_bench_tofu --------------------- */

typedef struct {
    const char *cache;       /* folder of data and models */
    const char *config;      /* model preset */
    int authors;             /* fictitious authors (TOFU: 200) */
    int forget_pct;          /* 1, 5 or 10 */
    int world_facts;         /* WordNet noun QA items (TOFU: 117) */
    int real_authors;        /* WordNet writer QA items (TOFU: 100) */
    int train_epochs, train_batch, vocab;
    float train_lr;
    uint64_t seed;           /* data, training and unlearning */
    const char *methods;     /* comma list or "all" */
    const char *masks;       /* comma list of LLM masks */
    const char *optims;      /* comma list of optimizers */
    const char *baseline;    /* methods also run with the gradient,
                                magnitude, SNIP and random masks ("none") */
    const char *lr;          /* per-method rates "m=v,..." (NULL) */
    const char *lr_grid;     /* search mode: only rows m=v1:v2 (no mask,
                                first optimizer) */
    int epochs, batch;       /* unlearning */
    int max_items;           /* evaluated items per split (0: all) */
    float sophia_scale;      /* rate factor of Sophia rows */
    bool npo_mean;           /* npo(-gd): the mean-token NLL log ratio of
                                WAGLE's and SOUL's code (rows "npo[mean]")
                                instead of NPO's per-sequence sums */
    bool resume;             /* reuse the rows kept in <cache>/runs */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;
    lt_bench_progress progress;
    void *ud;
} lt_bench_tofu_cfg;

LT_API lt_bench_tofu_cfg lt_bench_tofu_defaults(void);
/* The small setting CI runs (micro model, 10 authors, few rows). */
LT_API void lt_bench_tofu_quick(lt_bench_tofu_cfg *c);
LT_API lt_status lt_bench_tofu_check(const lt_bench_tofu_cfg *c);
/* One table: the retain model, the original, then every method x mask x
 * optimizer (and baseline-mask) row: forget quality, model utility, forget
 * ROUGE-L / probability / truth ratio, retain ROUGE-L, time. */
LT_API lt_status lt_bench_tofu(const lt_bench_tofu_cfg *c, lt_report *out);

/* ---- LLM unlearning on real text, MUSE-style: lt_bench_muse -------------- */

typedef struct {
    const char *cache, *config;
    const char *forget, *retain;   /* fortune collections (or files) */
    const char *fortune_dir;
    int max_texts;           /* first N texts of each collection (0: all) */
    float holdout;           /* share of the forget collection held out */
    int qa_max;              /* cloze QA items per KnowMem file (0: all) */
    uint64_t seed;
    int train_epochs, train_batch, vocab, window;
    float train_lr;
    const char *methods;     /* main rows */
    const char *lr;          /* per-method rates "m=v,..." ("") */
    int epochs, batch;       /* unlearning */
    const char *scal;        /* scalability percentages ("none": off) */
    int seq;                 /* sustainability requests (0: off) */
    const char *scal_methods;
    int prefix, max_new;     /* VerbMem prompt and continuation tokens */
    lt_precision precision;  /* of the run's matrix products (core.h): 0,
                                LT_PRECISION_DEFAULT, the process default */
    const char *command;
    lt_bench_progress progress;
    void *ud;
} lt_bench_muse_cfg;

LT_API lt_bench_muse_cfg lt_bench_muse_defaults(void);
LT_API void lt_bench_muse_quick(lt_bench_muse_cfg *c);
LT_API lt_status lt_bench_muse_check(const lt_bench_muse_cfg *c);
/* Up to three tables: references and main rows, scalability,
 * sustainability; each row VerbMem, KnowMem forget / retain, PrivLeak,
 * the four MIA AUCs and the time. */
LT_API lt_status lt_bench_muse(const lt_bench_muse_cfg *c, lt_report *out);

/* The default unlearning rate of method k in lt_bench_muse (AdamW, 5
 * epochs, batch 8): below the TOFU-tuned library defaults for the
 * methods that wipe KnowMem retain at those. */
LT_API float lt_bench_muse_default_lr(lt_llm_method k);

/* ---- bindings ------------------------------------------------------------ */

/* sizeof the public struct named type ("lt_unlearn_cfg", ...; the list is
 * in src/bench/abi.c), or 0 with LT_ERR_ARG for a name not listed. A
 * binding that mirrors the structs (python/lethe) checks its layout with
 * it when it loads the library. */
LT_API size_t lt_abi_sizeof(const char *type);

/* ---- helpers shared with the command line ------------------------------- */

/* The commit the library was built from ("unknown" outside git). */
LT_API const char *lt_bench_commit(void);
/* Item i (0-based) of a comma list into buf; false past the end. */
LT_API bool lt_list_item(const char *list, int i, char *buf, size_t n);
/* The rate listed for method in "m=v,m2=v2" into *lr: 1 (set), 0 (not
 * listed), -1 (malformed). */
LT_API int lt_lr_spec(const char *spec, const char *method, float *lr);

#endif
