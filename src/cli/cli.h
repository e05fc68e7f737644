/*
 * cli.h - the command table shared by the files of the cli layer: each
 * command is one file exporting `int cli_<name>(int argc, char **argv)`.
 */
#ifndef CLI_H
#define CLI_H

#include "lethe/lethe.h"

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} cli_command;

int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_unlearn(int argc, char **argv);
/* Remember the process's command line for result files (cli_join_args). */
void cli_record_args(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_lm(int argc, char **argv);
int cli_tokenizer(int argc, char **argv);
int cli_data(int argc, char **argv);
int cli_dm(int argc, char **argv);
int cli_select(int argc, char **argv);
int cli_hash(int argc, char **argv);
int cli_plot(int argc, char **argv);
int cli_mesh(int argc, char **argv);
int cli_mesh_swirl(int argc, char **argv);
int cli_mesh_data(int argc, char **argv);
int cli_um2n(int argc, char **argv);
/* The network of the checkpoint model (um2n.c; arch M2N_T for --method
 * um2n, M2N for --method m2n: a checkpoint of the other kind is refused)
 * moves m under the monitor of field f into moved (a copy of m with new
 * coordinates); 0, or the exit status with the message printed. poly:
 * M2N's grid is the polygon path's (lt_um2n_move_mesh). */
int cli_um2n_move(const char *model, lt_um2n_arch arch, const lt_mesh *m,
                  lt_gauss_field *f, bool poly, lt_mesh *moved);
int cli_report(int argc, char **argv);
/* lm / data subcommands living in their own files */
int cli_lm_unlearn(int argc, char **argv);
int cli_lm_eval(int argc, char **argv);
int cli_lm_eval_muse(int argc, char **argv);
int cli_data_muse(int argc, char **argv);

#endif
