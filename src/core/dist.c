/*
 * dist.c - the process group of a distributed run (lethe/dist.h): the one
 * file of Lethe that talks to MPI. Built with -DLETHE_MPI=ON it joins
 * MPI_COMM_WORLD when an MPI launcher started the process; built without
 * it (the default) every function is the single-rank no-op, so the rest of
 * the library never needs to know whether MPI is there.
 */
#include "lethe/dist.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef LETHE_HAVE_MPI
#include <mpi.h>
#endif

static struct {
    int rank, size;
    bool mpi;             /* this process called MPI_Init */
    lt_dist_stats stats;  /* of the collectives that move data */
} lt_dist = {0, 1, false, {0, 0, 0}};

lt_dist_stats lt_dist_get_stats(void) { return lt_dist.stats; }


lt_status lt_dist_mode_parse(const char *s, lt_dist_mode *mode)
{
    static const char *const names[] = {"off", "sum", "ordered"};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) {
            *mode = (lt_dist_mode)i;
            return LT_OK;
        }
    return lt_set_error(LT_ERR_ARG, "'%s' is not a data-parallel reduction "
                        "(off, sum or ordered)", s ? s : "(null)");
}

bool lt_dist_built_with_mpi(void)
{
#ifdef LETHE_HAVE_MPI
    return true;
#else
    return false;
#endif
}

int lt_dist_rank(void) { return lt_dist.rank; }
int lt_dist_size(void) { return lt_dist.size; }

#ifdef LETHE_HAVE_MPI

/* Count one data-moving collective that began at t0 and moved bytes. */
static void lt_dist_count(double t0, double bytes)
{
    lt_dist.stats.calls++;
    lt_dist.stats.seconds += lt_clock_seconds() - t0;
    lt_dist.stats.bytes += bytes;
}

/* An MPI error code as an lt_status naming the call. */
static lt_status lt_dist_check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return LT_OK;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return lt_set_error(LT_ERR_IO, "%s (rank %d of %d): %s", what,
                        lt_dist.rank, lt_dist.size, msg);
}

/* Whether an MPI launcher started this process (Open MPI's mpirun, or any
 * PMIx / PMI launcher). */
static bool lt_dist_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
           getenv("PMI_SIZE");
}

lt_status lt_dist_init(int *argc, char ***argv)
{
    if (lt_dist.mpi || !lt_dist_launched())
        return LT_OK;
    int provided, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED,
                                       &provided);
    if (rc != MPI_SUCCESS)
        return lt_dist_check(rc, "MPI_Init_thread");
    lt_dist.mpi = true;
    /* errors come back as codes: the caller names the rank and the row */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &lt_dist.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &lt_dist.size);
    return LT_OK;
}

void lt_dist_finalize(void)
{
    if (lt_dist.mpi)
        MPI_Finalize();
    lt_dist.mpi = false;
    lt_dist.rank = 0;
    lt_dist.size = 1;
}

lt_status lt_dist_allreduce_sum(float *buf, int64_t n)
{
    if (!lt_dist.mpi)
        return LT_OK;
    double t0 = lt_clock_seconds();
    for (int64_t i = 0; i < n; i += INT_MAX / 2) {
        int len = n - i < INT_MAX / 2 ? (int)(n - i) : INT_MAX / 2;
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + i, len, MPI_FLOAT, MPI_SUM,
                               MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return lt_dist_check(rc, "MPI_Allreduce");
    }
    lt_dist_count(t0, 4.0 * (double)n);
    return LT_OK;
}

/* The outstanding nonblocking sums. */
static MPI_Request lt_dist_req[LT_DIST_MAX_ISUM];
static int lt_dist_n_req;

lt_status lt_dist_isum_start(float *buf, int64_t n)
{
    if (!lt_dist.mpi)
        return LT_OK;
    double t0 = lt_clock_seconds();
    for (int64_t i = 0; i < n; i += INT_MAX / 2) {
        int len = n - i < INT_MAX / 2 ? (int)(n - i) : INT_MAX / 2;
        if (lt_dist_n_req == LT_DIST_MAX_ISUM)
            return lt_set_error(LT_ERR_ARG, "nonblocking sum: more than %d "
                                "outstanding", LT_DIST_MAX_ISUM);
        int rc = MPI_Iallreduce(MPI_IN_PLACE, buf + i, len, MPI_FLOAT,
                                MPI_SUM, MPI_COMM_WORLD,
                                &lt_dist_req[lt_dist_n_req]);
        if (rc != MPI_SUCCESS)
            return lt_dist_check(rc, "MPI_Iallreduce");
        lt_dist_n_req++;
    }
    lt_dist_count(t0, 4.0 * (double)n);
    return LT_OK;
}

lt_status lt_dist_isum_progress(void)
{
    if (!lt_dist.mpi || lt_dist_n_req == 0)
        return LT_OK;
    double t0 = lt_clock_seconds();
    int done = 0;
    int rc = MPI_Testall(lt_dist_n_req, lt_dist_req, &done,
                         MPI_STATUSES_IGNORE);
    lt_dist.stats.seconds += lt_clock_seconds() - t0;
    if (done)
        lt_dist_n_req = 0;
    return lt_dist_check(rc, "MPI_Testall");
}

lt_status lt_dist_isum_wait(void)
{
    if (!lt_dist.mpi || lt_dist_n_req == 0)
        return LT_OK;
    double t0 = lt_clock_seconds();
    int rc = MPI_Waitall(lt_dist_n_req, lt_dist_req, MPI_STATUSES_IGNORE);
    lt_dist.stats.seconds += lt_clock_seconds() - t0;
    lt_dist_n_req = 0;
    return lt_dist_check(rc, "MPI_Waitall");
}

lt_status lt_dist_allreduce_max(int *v)
{
    if (!lt_dist.mpi)
        return LT_OK;
    return lt_dist_check(MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX,
                                       MPI_COMM_WORLD), "MPI_Allreduce");
}

lt_status lt_dist_allgather(const void *mine, void *all, size_t bytes)
{
    if (!lt_dist.mpi) {
        memmove(all, mine, bytes);
        return LT_OK;
    }
    if (bytes > INT_MAX)
        return lt_set_error(LT_ERR_ARG, "allgather: %zu bytes per rank is "
                            "more than MPI's int count", bytes);
    double t0 = lt_clock_seconds();
    lt_status st = lt_dist_check(MPI_Allgather(mine, (int)bytes, MPI_BYTE,
                                               all, (int)bytes, MPI_BYTE,
                                               MPI_COMM_WORLD),
                                 "MPI_Allgather");
    lt_dist_count(t0, (double)bytes);
    return st;
}

lt_status lt_dist_bcast(void *buf, size_t bytes, int root)
{
    if (!lt_dist.mpi)
        return LT_OK;
    if (bytes > INT_MAX)
        return lt_set_error(LT_ERR_ARG, "bcast: %zu bytes is more than "
                            "MPI's int count", bytes);
    return lt_dist_check(MPI_Bcast(buf, (int)bytes, MPI_BYTE, root,
                                   MPI_COMM_WORLD), "MPI_Bcast");
}

lt_status lt_dist_barrier(void)
{
    if (!lt_dist.mpi)
        return LT_OK;
    return lt_dist_check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

void lt_dist_abort(int code)
{
    if (lt_dist.mpi)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

#else /* one rank: no MPI in this build */

lt_status lt_dist_init(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return LT_OK;
}

void lt_dist_finalize(void) {}

lt_status lt_dist_allreduce_sum(float *buf, int64_t n)
{
    (void)buf;
    (void)n;
    return LT_OK;
}

lt_status lt_dist_isum_start(float *buf, int64_t n)
{
    (void)buf;
    (void)n;
    return LT_OK;
}

lt_status lt_dist_isum_progress(void) { return LT_OK; }
lt_status lt_dist_isum_wait(void) { return LT_OK; }

lt_status lt_dist_allreduce_max(int *v)
{
    (void)v;
    return LT_OK;
}

lt_status lt_dist_allgather(const void *mine, void *all, size_t bytes)
{
    memmove(all, mine, bytes);
    return LT_OK;
}

lt_status lt_dist_bcast(void *buf, size_t bytes, int root)
{
    (void)buf;
    (void)bytes;
    (void)root;
    return LT_OK;
}

lt_status lt_dist_barrier(void) { return LT_OK; }

void lt_dist_abort(int code) { exit(code); }

#endif
