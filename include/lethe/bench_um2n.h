/*
 * lethe/bench_um2n.h - the UM2N benchmark (`lethe bench um2n`,
 * src/bench/um2n.c): on a Helmholtz test split made by `lethe mesh data`,
 * one row per mesh mover:
 *   uniform     the mesh as it is (error reduction 0 by definition);
 *   MA          the Monge-Ampere mesh stored in each sample (its ER from
 *               the stored errors, its time the MA solve as measured when
 *               the sample was generated, "ma_seconds");
 *   M2N         the M2N baseline (checkpoint of arch m2n);
 *   UM2N        M2N_T trained with the area + Chamfer loss;
 *   UM2N-coord  M2N_T trained with the coordinate loss;
 * each network row from its checkpoint (a row without one is left out).
 * Per row: the mean and sample std of the error reduction
 * ER = (e_uniform - e_moved) / e_uniform (L2 error of the P1 Helmholtz
 * solution against the exact field) over the meshes that did not tangle,
 * the number of meshes, of tangled (failed) meshes and of tangled cells,
 * and the mean wall time per mesh (MA: the solve; networks: the forward
 * pass, M2N's grid resampling included; the monitor is not counted for
 * either). Only the square Helmholtz sets are wired in: the swirl and
 * hole cases are not benchmarked yet.
 */
#ifndef LETHE_BENCH_UM2N_H
#define LETHE_BENCH_UM2N_H

#include "lethe/bench.h"
#include "lethe/um2n.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *data;       /* data set folder (lethe mesh data); NULL only
                               with quick */
    const char *split;      /* "test" */
    const char *um2n, *m2n, *um2n_coord; /* checkpoints (NULL: no row, or
                               with quick a network trained here) */
    bool quick;             /* CI: quick_samples samples on a structured
                               quick_grid x quick_grid square made into
                               cache, each missing network trained
                               quick_epochs epochs on them, evaluated on
                               the same samples (a smoke test, not a
                               measurement) */
    int quick_samples;      /* 4 */
    int quick_grid;         /* 5 (36 vertices) */
    int quick_epochs;       /* 2 */
    uint64_t seed;          /* quick data and network seeds (1) */
    const char *cache;      /* folder of the quick samples and of every
                               finished row (CACHE/runs; NULL: rows not
                               kept) */
    bool resume;            /* reuse the rows kept in CACHE/runs by an
                               earlier (stopped) sweep (needs cache) */
    lt_precision precision; /* of the run's matrix products (core.h) */
    const char *command;    /* recorded in the report */
    lt_bench_progress progress;
    void *ud;
} lt_bench_um2n_cfg;

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
