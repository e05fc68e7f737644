/*
 * dm.h - what the `lethe dm` command files share (dm.c: the class models,
 * sampling and evaluation; dm_text.c: the text encoder and text models on
 * FashionCanvas).
 */
#ifndef CLI_DM_H
#define CLI_DM_H

#include "cli/args.h"
#include "lethe/lethe.h"

typedef struct {
    lt_dm_train_config c;
    const char *model, *data, *out, *schedule, *clip, *init;
    const char *dp; /* --dp off|sum|ordered (docs/mpi.md) */
    int T, exclude;
    bool resume;
    /* the provenance recorded in the model file (o->c.meta points here):
     * lethe.command, lethe.commit, lethe.version, lethe.seed */
    char command[2048], seed[32];
    const char *meta[8];
} cli_dm_train_opts;

typedef struct {
    cli_progress bar;
    bool started;
} cli_dm_ui;

/* Initialise u for training: seeded, then the weights of --init (a dm
 * train file of the same architecture) when init is not NULL; an exit
 * code. */
int cli_dm_init_weights(const char *init, lt_unet *u, uint64_t seed);
/* The progress bar of a training run (ud: a cli_dm_ui). */
void cli_dm_train_progress(const lt_dm_train_event *e, void *ud);
/* dm train for a text model u (schedule s): canvas data and --encoder. */
int cli_dm_train_text(const cli_dm_train_opts *o, lt_unet *u,
                      const lt_dm_schedule *s);
/* lethe dm clip: pretrain the text encoder on a canvas folder. */
int cli_dm_clip(int argc, char **argv);
/* dm sample for a text model: contexts from --prompt. */
int cli_dm_sample_text(lt_unet *u, const lt_dm_schedule *s,
                       const char *model, const char *clip,
                       const char *prompt, int n,
                       const lt_dm_sample_config *cfg, float **x);

/* dm eval for a text model (the FashionCanvas acceptance report). */
int cli_dm_eval_text(int argc, char **argv);
/* Add the report outputs of dm eval (each may be NULL) to fs. */
void cli_dm_eval_outputs(lt_fileset *fs, const char *json,
                         const char *markdown, const char *grid);
/* Print report r of lt_bench_dm_*eval (status st), write --json and
 * --markdown when given, free it; the exit code. */
int cli_dm_report_out(lt_status st, lt_report *r, const char *json,
                      const char *markdown);
/* lethe dm unlearn: forget a class (dm_unlearn.c). */
int cli_dm_unlearn(int argc, char **argv);
/* lethe dm unlearn on a text model: ESD of --concept
 * (dm_unlearn_text.c), and whether argv asks for it (--concept, or
 * --method esd-x / esd-u / another ESD parameter set). */
int cli_dm_unlearn_text(int argc, char **argv);
bool cli_dm_unlearn_is_text(int argc, char **argv);
/* lethe dm unlearn --method sa: Selective Amnesia (dm_unlearn_sa.c), and
 * whether argv asks for it. */
int cli_dm_unlearn_sa(int argc, char **argv);
bool cli_dm_unlearn_is_sa(int argc, char **argv);
/* The prologue of the class-model dm unlearn commands (dm_unlearn.c):
 * --model readable, --out and --fim (NULL: none) writable, then the model
 * loaded into *u and *s. 0, or the exit code after the message. */
int cli_dm_unlearn_open(const char *model, const char *out, const char *fim,
                        lt_unet **u, lt_dm_schedule *s);
/* lethe dm unlearn --method advunlearn (dm_unlearn_adv.c), and whether
 * argv asks for it (cli_dm_unlearn dispatches to it first). */
int cli_dm_unlearn_adv(int argc, char **argv);
bool cli_dm_unlearn_is_adv(int argc, char **argv);
/* --method salun with --concept (dm_unlearn_salun.c). */
int cli_dm_unlearn_salun(int argc, char **argv);
/* FMN's data (dm_unlearn_fmn.c): the n canvas training pictures of one
 * style / object (x [n, 3, 32, 32] in [-1, 1]), their canonical captions'
 * contexts ctx [n, L, D] and the marks of the concept word and <eos>
 * mask [n, L]. */
typedef struct {
    int64_t n;
    float *x, *ctx, *mask;
    int32_t *ids; /* [n, L] the captions' ids */
    int32_t word; /* the concept's token */
} cli_dm_fmn_set;
/* concept "style:NAME" | "object:NAME", data "canvas:DIR" | "DIR"; an
 * exit code. */
int cli_dm_fmn_data(const char *concept, const char *data, lt_clip *clip,
                    const lt_clip_vocab *v, cli_dm_fmn_set *out);
void cli_dm_fmn_free(cli_dm_fmn_set *s);
/* lethe dm attack: prompt attacks on a text model (dm_attack.c). */
int cli_dm_attack(int argc, char **argv);
/* The usage text of lethe dm. */
extern const char *const cli_dm_usage_text;

#endif
