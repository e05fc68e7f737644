/*
 * um2n_bench.h - what src/bench/um2n.c (the Helmholtz and hole tables, the
 * networks) shares with src/bench/um2n_swirl.c (the swirl table): the
 * networks of the benchmark, loaded or (quick) trained once for all cases.
 */
#ifndef LETHE_SRC_BENCH_UM2N_BENCH_H
#define LETHE_SRC_BENCH_UM2N_BENCH_H

#include "lethe/bench_um2n.h"

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

/* The swirl table into r: uniform, MA and every network of nets. */
lt_status lt_bench_um2n_swirl(const lt_bench_um2n_cfg *c, u2_nets *nets,
                              lt_ctx *ctx, lt_report *r);

#endif
