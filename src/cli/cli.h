/*
 * cli.h - the command table shared by the files of the cli layer: each
 * command is one file exporting `int lt_cli_<name>(int argc, char **argv)`.
 */
#ifndef LETHE_CLI_H
#define LETHE_CLI_H

#include "lethe/lethe.h"

typedef struct {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
} lt_cli_command;

int lt_cli_train(int argc, char **argv);
int lt_cli_eval(int argc, char **argv);
int lt_cli_predict(int argc, char **argv);
int lt_cli_unlearn(int argc, char **argv);
int lt_cli_bench(int argc, char **argv);
int lt_cli_lm(int argc, char **argv);
int lt_cli_tokenizer(int argc, char **argv);
int lt_cli_data(int argc, char **argv);
int lt_cli_select(int argc, char **argv);
/* lm / bench / data subcommands living in their own files */
int lt_cli_lm_unlearn(int argc, char **argv);
int lt_cli_lm_eval(int argc, char **argv);
int lt_cli_lm_eval_muse(int argc, char **argv);
int lt_cli_data_muse(int argc, char **argv);
int lt_cli_bench_tofu(int argc, char **argv);
int lt_cli_bench_muse(int argc, char **argv);

#endif
