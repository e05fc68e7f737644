/*
 * common.h - helpers shared by the command files (see common.c). CLI-only:
 * each prints its own error message; the library underneath does not.
 */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include "lethe/lethe.h"
#include "lethe/bench.h"

#include "cli/args.h"

#include <stdio.h>

/* Load checkpoint model and the n splits of data ("train", "test") into
 * sets[0..n); check the data fits the model. 0, or an exit status with
 * the message printed (nothing left allocated). */
int cli_open(const char *cmd, const char *model, const char *data,
             const char *const *splits, int n, lt_model **m,
             lt_dataset *sets);
/* Free what cli_open loaded (safe after a failed cli_open). */
void cli_close(lt_model *m, lt_dataset *sets, int n);
/* The whole command line ("lethe bench dm --quick ...") for result files:
 * the one main() recorded with cli_record_args (cli.h), whatever
 * subcommand slice argc/argv is; argc/argv themselves only when nothing
 * was recorded. */
void cli_join_args(int argc, char **argv, char *buf, size_t n);
/* UA, RA, TA and MIA-efficacy (%) of m for forget set f of tr; te is the
 * test split. 0, or 1 with the message printed. */
int cli_unlearn_metrics(const char *cmd, lt_model *m, const lt_dataset *tr,
                        const lt_dataset *te, const lt_forget_set *f,
                        lt_unlearn_metrics *out);
/* Write text to path atomically (temp file, then rename). 0, or 1 with
 * the message printed. */
int cli_write_text(const char *path, const char *text);
/* s ends with suffix. */
bool cli_ends_with(const char *s, const char *suffix);
/* The value of the last "--name X" or "--name=X" in argv, or NULL (for
 * an option that must be known before the rest are parsed). */
const char *cli_arg_value(int argc, char **argv, const char *name);
/* lt_lm_open with the message printed: 0 or 1. */
int cli_lm_open(const char *cmd, const char *model, const char *tok,
                lt_llama **m, lt_tokenizer **t);
/* lt_fileset_check with the message printed, then free s: 0, or 2 when an
 * output would overwrite an input or another output. */
int cli_files_check(const char *cmd, lt_fileset *s);
/* Fortune collection name (lt_fortune_path) as an input of s. */
void cli_files_fortune(lt_fileset *s, const char *what, const char *dir,
                       const char *name);
/* All the outputs of a command, or none (lt_commit_begin/end of
 * lethe/io.h): cli_outputs_begin opens the commit set before a command's
 * final writes (0, or 1 with the message printed); cli_outputs_end(cmd,
 * rc) renames every staged file when rc is 0 and removes them otherwise,
 * returning rc, or 1 with the message printed when a rename fails. */
int cli_outputs_begin(const char *cmd);
int cli_outputs_end(const char *cmd, int rc);
/* "lethe CMD: WHAT: <last error>" on stderr (what may be NULL); returns 1. */
int cli_fail(const char *cmd, const char *what);
/* A comma-separated list of mesh boundary tags ("5" or "1,3") into tags
 * (at most CLI_MAX_TAGS): their count, 0 for NULL or "", -1 if bad. */
#define CLI_MAX_TAGS 16
int cli_parse_tags(const char *s, int *tags);
/* "lethe CMD: MSG" on stderr (a usage error); returns 2. */
int cli_usage(const char *cmd, const char *msg);
/* The same for a bad value of option opt: "lethe CMD: OPT: <last error>";
 * returns 2 (a usage error). */
int cli_bad(const char *cmd, const char *opt);
/* The data-parallel reduction of a training command into *mode: sum under
 * mpirun or with shards > 1, else off; dp (--dp: off, sum or ordered;
 * NULL: that default) overrides it. Off under mpirun is refused: every
 * rank would do the whole job. 0, or the exit code after the message. */
int cli_dp_mode(const char *cmd, const char *dp, int shards,
                lt_dist_mode *mode);

/* The progress of a benchmark protocol (lt_bench_event): notes on stdout,
 * a bar per training or unlearning run on stderr. */
void cli_bench_progress(void *ud, const lt_bench_event *ev);
/* One progress bar on stderr for run label at step of total (a new bar
 * when the label changes or step restarts at 1); cli_bar_end closes it. */
void cli_bar(const char *label, int64_t step, int64_t total,
             const char *extra);
void cli_bar_end(void);

/* Where a benchmark (or a merged report) goes: --json, --markdown,
 * --plot, the command line it records, and JSON to add under extra_key. */
typedef struct {
    const char *json, *markdown, *plot;
    char command[2048];
    struct cJSON *extra;   /* taken: added to the JSON under extra_key */
    const char *extra_key;
} cli_bench_out;

/* Print the report (rank 0 under mpirun) and write its files, all or
 * none (cli_outputs_begin); frees r and o->extra. The exit status: st's,
 * or 1 when a file could not be written. */
int cli_bench_finish(const char *cmd, lt_status st, lt_report *r,
                     const cli_bench_out *o);


/* A loss curve for --loss-plot (curve.c): points in up to CLI_CURVE_MAX
 * named series, drawn as one line plot. */
#define CLI_CURVE_MAX 8
typedef struct {
    double *x, *y;
    int *series;
    int n, cap;
    char names[CLI_CURVE_MAX][32];
    int n_names;
    bool failed;        /* out of memory on the way */
} cli_curve;
void cli_curve_add(cli_curve *c, const char *series, double x, double y);
/* The plot to path (PNG, atomically): 0, or 1 with the message printed. */
int cli_curve_write(const char *cmd, const cli_curve *c, const char *path,
                    const char *title, const char *xlabel, const char *ylabel);
void cli_curve_free(cli_curve *c);
#endif
