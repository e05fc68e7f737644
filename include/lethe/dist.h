/*
 * lethe/dist.h - the process group of a distributed run (core layer). Lethe
 * scales out over MPI: `mpirun -n K lethe ...` starts K processes (ranks)
 * that split the work of one run between them. This header is the only
 * door to MPI: src/core/dist.c is the one file that includes mpi.h, and
 * only when the library is built with -DLETHE_MPI=ON. Without MPI, or in a
 * process not started by mpirun, the group is one rank (rank 0 of size 1)
 * and every call below is a no-op (collectives copy their input), so code
 * that uses this API runs unchanged in a single process.
 *
 * Every collective must be called by all ranks in the same order; they
 * return LT_ERR_IO naming the MPI error on failure. See docs/mpi.md.
 */
#ifndef LETHE_DIST_H
#define LETHE_DIST_H

#include "lethe/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How a data-parallel step combines the ranks' gradients:
 *   LT_DIST_OFF      no data parallelism (one process, or every rank
 *                    trains a model of its own, as in a sweep);
 *   LT_DIST_SUM      one MPI_Allreduce (sum) per step: fast, the order of
 *                    the additions is MPI's;
 *   LT_DIST_ORDERED  every shard's gradient is gathered to every rank and
 *                    summed in shard order: the same bits for any number
 *                    of ranks that splits the same shards. */
typedef enum { LT_DIST_OFF = 0, LT_DIST_SUM, LT_DIST_ORDERED } lt_dist_mode;

/* "off", "sum" or "ordered" -> mode (LT_ERR_ARG otherwise). */
LT_API lt_status lt_dist_mode_parse(const char *s, lt_dist_mode *mode);

/* Join the group if this process was started by an MPI launcher (mpirun
 * sets OMPI_COMM_WORLD_SIZE or PMIX_RANK); otherwise, or without MPI in the
 * build, stay a group of one. Call once from main, before any other
 * lt_dist_* call; lt_dist_finalize at exit. */
LT_API lt_status lt_dist_init(int *argc, char ***argv);
LT_API void lt_dist_finalize(void);

/* This process's rank in [0, size) and the number of ranks. */
LT_API int lt_dist_rank(void);
LT_API int lt_dist_size(void);

/* Whether the library was built with MPI (-DLETHE_MPI=ON). */
LT_API bool lt_dist_built_with_mpi(void);

/* In-place sum of buf[0, n) over all ranks; every rank gets the sum. */
LT_API lt_status lt_dist_allreduce_sum(float *buf, int64_t n);

/* Nonblocking sums, to overlap communication with computation (the
 * data-parallel reducer's overlap, lethe/train.h). isum_start begins an
 * in-place sum of buf[0, n) over all ranks: leave buf alone until
 * isum_wait, which completes every started sum. MPI moves the data only
 * inside MPI calls, so call isum_progress now and then in between. Every
 * rank must start the same sums in the same order; at most
 * LT_DIST_MAX_ISUM are outstanding. Without MPI they do nothing. */
#define LT_DIST_MAX_ISUM 1024
LT_API lt_status lt_dist_isum_start(float *buf, int64_t n);
LT_API lt_status lt_dist_isum_progress(void);
LT_API lt_status lt_dist_isum_wait(void);
/* The largest of every rank's v (e.g. a failure flag), on every rank. */
LT_API lt_status lt_dist_allreduce_max(int *v);

/* Every rank's `bytes` bytes at mine, concatenated in rank order into all
 * (size * bytes bytes), on every rank. */
LT_API lt_status lt_dist_allgather(const void *mine, void *all, size_t bytes);

/* root's `bytes` bytes at buf, to every rank. */
LT_API lt_status lt_dist_bcast(void *buf, size_t bytes, int root);

/* What this process spent in lt_dist_allreduce_sum, lt_dist_allgather and
 * the nonblocking sums since lt_dist_init (zeros in a group of one): the
 * calls (a nonblocking sum counts once), the wall time inside them (moving
 * the data and waiting for slower ranks; for a nonblocking sum only the
 * time not hidden behind computation) and the bytes this rank
 * contributed. */
typedef struct {
    int64_t calls;
    double seconds;
    double bytes;
} lt_dist_stats;
LT_API lt_dist_stats lt_dist_get_stats(void);

/* Wait for every rank. */
LT_API lt_status lt_dist_barrier(void);

/* Stop every rank of the run with exit status code (after a message): the
 * way out when one rank fails and the others may be waiting in a
 * collective (MPI_Finalize would wait for them forever). */
LT_API void lt_dist_abort(int code);

#ifdef __cplusplus
}
#endif
#endif
