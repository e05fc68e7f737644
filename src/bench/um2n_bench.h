/*
 * um2n_bench.h - what src/bench/um2n.c (the Helmholtz and hole tables, the
 * networks) shares with src/bench/um2n_swirl.c (the swirl table): the
 * networks of the benchmark, loaded or (quick) trained once for all cases.
 */
#ifndef LETHE_SRC_BENCH_UM2N_BENCH_H
#define LETHE_SRC_BENCH_UM2N_BENCH_H

#include "lethe/bench_um2n.h"

#include <stdint.h>

#define U2_NETS 3

typedef struct {
    const char *name, *file;
    lt_um2n_arch arch;
    lt_um2n_loss_kind loss;
} u2_net;

/* M2N, UM2N, UM2N-coord; have[i]: a row for spec[i] (a checkpoint, or
 * quick). */
typedef struct {
    u2_net spec[U2_NETS];
    lt_um2n model[U2_NETS];
    bool have[U2_NETS];
} u2_nets;

/* The rows of one table spread over the ranks of an MPI job
 * (bench_dist.h, docs/mpi.md): the units of work are the rows that cost
 * (every network's row, the swirl's MA row), numbered over the whole run
 * in the order one process makes them; unit u is rank u mod K's. Rows
 * every rank makes itself (uniform, the stored MA of the Helmholtz sets)
 * count as rank 0's. */
#define U2_MAX_ROWS 8
typedef struct {
    int64_t unit;              /* units claimed so far */
    int owner[U2_MAX_ROWS];    /* rank of each row of the table under way */
    char row[64];              /* the unit under way (for a failure) */
} u2_units;

/* A new table's owners (all rank 0 until claimed). */
void u2_table_begin(u2_units *u);
/* Claim the next unit, the row (name, timed) that t gets next: true when
 * this rank computes it now; false when another rank does or an earlier
 * run kept it (c->resume: then loaded), a row added to t either way.
 * *key receives the row's key in CACHE/runs. */
bool u2_claim(const lt_bench_um2n_cfg *c, u2_units *u, lt_table *t,
              const char *name, const char *timed, uint64_t *key);
/* Keep the finished row (the table's last) under key when c->cache. */
lt_status u2_keep(const lt_bench_um2n_cfg *c, const lt_table *t,
                  uint64_t key);
/* Collective, after each table: the ranks agree on st (a failure names
 * its rank and row) and then all hold every row. */
lt_status u2_table_done(u2_units *u, lt_table *t, lt_status st);

/* The swirl table into r: uniform, MA and every network of nets. */
lt_status lt_bench_um2n_swirl(const lt_bench_um2n_cfg *c, u2_nets *nets,
                              lt_ctx *ctx, u2_units *u, lt_report *r);

#endif
