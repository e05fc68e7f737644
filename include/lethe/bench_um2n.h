/*
 * lethe/bench_um2n.h - the UM2N benchmark (`lethe bench um2n`,
 * src/bench/um2n.c, um2n_swirl.c), UM2N's three evaluation cases, one
 * table each:
 *   helmholtz  a Helmholtz split made by `lethe mesh data` on the square;
 *   hole       the same on the square with a hole (`lethe mesh data
 *              --mesh hole.msh --pin-tags 5`);
 *   swirl      the swirl run (lt_swirl_run), the mesh moved at every step.
 * Rows (mesh movers):
 *   uniform     the mesh as it is (error reduction 0 by definition);
 *   MA          Monge-Ampere (Helmholtz/hole: the mesh stored in each
 *               sample, its ER from the stored errors, its time the MA
 *               solve as measured when the sample was made, "ma_seconds";
 *               swirl: MA warm-started every step);
 *   M2N         the M2N baseline (checkpoint of arch m2n);
 *   UM2N        M2N_T trained with the area + Chamfer loss;
 *   UM2N-coord  M2N_T trained with the coordinate loss;
 * each network row from its checkpoint (a row without one is left out).
 * Helmholtz and hole, per row: the mean and sample std of the error
 * reduction ER = (e_uniform - e_moved) / e_uniform (L2 error of the P1
 * Helmholtz solution against the exact field) over the meshes that did
 * not tangle, the number of meshes, of tangled (failed) meshes and of
 * tangled cells, and the mean wall time per mesh (MA: the solve; networks:
 * the forward pass, M2N's grid resampling included; the monitor is not
 * counted for either). Swirl, per row: the L2 error at T against the
 * exact state, ER at T against the uniform run, the moves, the moves whose
 * mesh tangled (not used: the step keeps the previous mesh) and their
 * tangled cells, MA's failed moves, and the wall time per move (MA: the
 * relaxation with its monitor evaluations; networks: the forward pass).
 */
#ifndef LETHE_BENCH_UM2N_H
#define LETHE_BENCH_UM2N_H

#include "lethe/bench.h"
#include "lethe/um2n.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The cases, a bit set (lt_bench_um2n_cases parses "helmholtz", "swirl",
 * "hole", "all" or a comma-separated list). */
enum {
    LT_BENCH_UM2N_HELMHOLTZ = 1,
    LT_BENCH_UM2N_SWIRL = 2,
    LT_BENCH_UM2N_HOLE = 4,
    LT_BENCH_UM2N_ALL = 7
};
LT_API lt_status lt_bench_um2n_cases(const char *s, int *cases);

typedef struct {
    int cases;              /* LT_BENCH_UM2N_* (HELMHOLTZ) */
    const char *data;       /* Helmholtz data set folder (lethe mesh data);
                               NULL only with quick */
    const char *hole_data;  /* hole data set folder; NULL only with quick */
    const char *hole_mesh;  /* quick: the hole mesh the quick hole samples
                               are made on (tag 5 pinned) */
    const char *swirl_mesh; /* the swirl's mesh (.msh); NULL only with
                               quick (a quick_swirl_grid square) */
    int swirl_steps;        /* even; 0: 1000 (the official T = 1), with
                               quick LT_BENCH_UM2N_QUICK_SWIRL_STEPS */
    int quick_swirl_grid;   /* 8 */
    const char *split;      /* "test" */
    const char *um2n, *m2n, *um2n_coord; /* checkpoints (NULL: no row, or
                               with quick a network trained here) */
    bool quick;             /* CI: quick_samples samples on a structured
                               quick_grid x quick_grid square made into
                               cache, each missing network trained
                               quick_epochs epochs on them, evaluated on
                               the same samples; hole: quick_samples
                               samples on hole_mesh; swirl: a
                               quick_swirl_grid square (a smoke test, not
                               a measurement) */
    int quick_samples;      /* 4 */
    int quick_grid;         /* 5 (36 vertices) */
    int quick_epochs;       /* 2 */
    uint64_t seed;          /* quick data and network seeds (1) */
    const char *cache;      /* folder of the quick samples, and of the
                               network rows kept as they finish
                               (CACHE/runs; NULL: none kept) */
    bool resume;            /* reuse the rows kept in CACHE/runs by an
                               earlier (stopped) run */
    lt_precision precision; /* of the run's matrix products (core.h) */
    const char *command;    /* recorded in the report */
    lt_bench_progress progress;
    void *ud;
} lt_bench_um2n_cfg;

#define LT_BENCH_UM2N_QUICK_SWIRL_STEPS 4
LT_API lt_bench_um2n_cfg lt_bench_um2n_defaults(void);
/* Every check possible before any work. */
LT_API lt_status lt_bench_um2n_check(const lt_bench_um2n_cfg *c);
/* Run the protocol into out (one table, settings with command, commit,
 * precision and backend). Under mpirun the rows are dealt to the ranks,
 * rank 0 makes the quick samples first, and every rank ends with the
 * whole table (docs/mpi.md). */
LT_API lt_status lt_bench_um2n(const lt_bench_um2n_cfg *c, lt_report *out);

#ifdef __cplusplus
}
#endif
#endif
