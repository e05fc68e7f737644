/*
 * common.c - pieces several commands share: loading a checkpoint with the
 * dataset splits it is evaluated on, the command line as one string for
 * result files, error-printing wrappers of library calls, atomic text
 * output, and the terminal view of progress (benchmarks, training).
 */
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/dist.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_open(const char *cmd, const char *model, const char *data,
             const char *const *splits, int n, lt_model **m,
             lt_dataset *sets)
{
    if (model)
        return lt_model_open(model, data, splits, n, m, sets) == LT_OK ? 0
               : cli_fail(cmd, NULL);
    fprintf(stderr, "lethe %s: --model FILE is required\n", cmd);
    return 2;
}

void cli_close(lt_model *m, lt_dataset *sets, int n)
{
    lt_model_free(m);
    for (int i = 0; i < n; i++)
        lt_dataset_free(&sets[i]);
}

static int cli_argc;
static char **cli_argv;

void cli_record_args(int argc, char **argv)
{
    cli_argc = argc;
    cli_argv = argv;
}

void cli_join_args(int argc, char **argv, char *buf, size_t n)
{
    if (cli_argv) { /* the whole line, not the subcommand's slice */
        argc = cli_argc - 1;
        argv = cli_argv + 1;
    }
    size_t k = (size_t)snprintf(buf, n, "lethe");
    for (int i = 0; i < argc && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, " %s", argv[i]);
}

int cli_unlearn_metrics(const char *cmd, lt_model *m, const lt_dataset *tr,
                        const lt_dataset *te, const lt_forget_set *f,
                        lt_unlearn_metrics *out)
{
    if (lt_unlearn_metrics_of(m, tr, te, f, out) == LT_OK)
        return 0;
    return cli_fail(cmd, "metrics");
}

int cli_write_text(const char *path, const char *text)
{
    if (lt_write_file_atomic(path, text, strlen(text)) == LT_OK)
        return 0;
    fprintf(stderr, "lethe: %s\n", lt_last_error());
    return 1;
}

bool cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

const char *cli_arg_value(int argc, char **argv, const char *name)
{
    size_t k = strlen(name);
    const char *v = NULL;
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], name, k) && argv[i][k] == '=')
            v = argv[i] + k + 1;
        else if (!strcmp(argv[i], name) && i + 1 < argc)
            v = argv[i + 1];
    return v;
}

int cli_lm_open(const char *cmd, const char *model, const char *tok,
                lt_llama **m, lt_tokenizer **t)
{
    return lt_lm_open(model, tok, m, t) == LT_OK ? 0 : cli_fail(cmd, NULL);
}

int cli_files_check(const char *cmd, lt_fileset *s)
{
    int rc = lt_fileset_check(s) == LT_OK ? 0 : (cli_fail(cmd, NULL), 2);
    lt_fileset_free(s);
    return rc;
}

void cli_files_fortune(lt_fileset *s, const char *what, const char *dir,
                       const char *name)
{
    char path[4096];
    if (name && *name && lt_fortune_path(dir, name, path, sizeof path))
        lt_fileset_add(s, false, what, path);
}

int cli_fail(const char *cmd, const char *what)
{
    fprintf(stderr, "lethe %s: %s%s%s\n", cmd, what ? what : "",
            what ? ": " : "", lt_last_error());
    return 1;
}

int cli_parse_tags(const char *s, int *tags)
{
    int n = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || (*end && *end != ',') || n == CLI_MAX_TAGS ||
            v < -1000000000L || v > 1000000000L)
            return -1;
        tags[n++] = (int)v;
        s = *end ? end + 1 : end;
    }
    return n;
}

int cli_usage(const char *cmd, const char *msg)
{
    fprintf(stderr, "lethe %s: %s\n", cmd, msg);
    return 2;
}

int cli_bad(const char *cmd, const char *opt)
{
    cli_fail(cmd, opt);
    return 2;
}

int cli_dp_mode(const char *cmd, const char *dp, int shards,
                lt_dist_mode *mode)
{
    *mode = lt_dist_size() > 1 || shards > 1 ? LT_DIST_SUM : LT_DIST_OFF;
    if (dp && lt_dist_mode_parse(dp, mode) != LT_OK)
        return cli_bad(cmd, "--dp");
    if (*mode == LT_DIST_OFF && lt_dist_size() > 1)
        return cli_usage(cmd, "--dp off under mpirun: every rank would do "
                         "the whole job");
    return 0;
}

/* ---- benchmark progress ----------------------------------------------------- */

static struct {
    cli_progress bar;
    char label[200];
    bool open;
} cli_ui;

void cli_bar_end(void)
{
    if (cli_ui.open)
        cli_progress_end(&cli_ui.bar);
    cli_ui.open = false;
}

void cli_bar(const char *label, int64_t step, int64_t total,
                          const char *extra)
{
    if (!cli_ui.open || strcmp(cli_ui.label, label) || step <= 1) {
        cli_bar_end();
        snprintf(cli_ui.label, sizeof cli_ui.label, "%s", label);
        cli_progress_start(&cli_ui.bar, cli_ui.label, total);
        cli_ui.open = true;
    }
    cli_progress_update(&cli_ui.bar, step, extra);
}

void cli_bench_progress(void *ud, const lt_bench_event *ev)
{
    (void)ud;
    char extra[128];
    switch (ev->kind) {
    case LT_BENCH_NOTE:
        cli_bar_end();
        printf("%s\n", ev->text);
        break;
    case LT_BENCH_TRAIN:
        if (ev->train->epoch_end) {
            cli_bar_end();
            fprintf(stderr, "  %s: epoch %d/%d loss %.4f\n", ev->text,
                    ev->train->epoch, ev->train->epochs, ev->train->loss);
            break;
        }
        snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f",
                 ev->train->epoch, ev->train->epochs, ev->train->loss);
        cli_bar(ev->text, ev->train->step, ev->train->steps, extra);
        break;
    case LT_BENCH_UNLEARN:
        if (ev->unlearn->pass_end)
            break;
        snprintf(extra, sizeof extra, "epoch %d/%d %s loss %.4f",
                 ev->unlearn->epoch, ev->unlearn->epochs, ev->unlearn->phase,
                 ev->unlearn->loss);
        cli_bar(ev->text, ev->unlearn->step, ev->unlearn->steps, extra);
        break;
    case LT_BENCH_LM:
        snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f %.0f tok/s",
                 ev->lm->epoch, ev->lm->epochs, ev->lm->loss,
                 ev->lm->tokens_per_s);
        cli_bar(ev->text, ev->lm->step, ev->lm->steps, extra);
        break;
    case LT_BENCH_LLM:
        snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f forget NLL %.3f",
                 ev->llm->epoch, ev->llm->epochs, ev->llm->loss,
                 ev->llm->forget_nll);
        cli_bar(ev->text, ev->llm->step, ev->llm->steps, extra);
        break;
    }
}

int cli_outputs_begin(const char *cmd)
{
    return lt_commit_begin() == LT_OK ? 0 : cli_fail(cmd, NULL);
}

int cli_outputs_end(const char *cmd, int rc)
{
    if (lt_commit_end(rc == 0) != LT_OK && rc == 0)
        rc = cli_fail(cmd, NULL);
    return rc;
}

/* Print the report, write its files; the exit status of the run. */
int cli_bench_finish(const char *cmd, lt_status st, lt_report *r,
                     const cli_bench_out *o)
{
    int rc = st == LT_OK ? 0 : cli_fail(cmd, NULL);
    cli_bar_end();
    bool rows = false, taken = false; /* under mpirun rank 0 prints and writes */
    for (int i = 0; i < r->n_tables && lt_dist_rank() == 0; i++)
        rows |= r->tables[i].n_rows > 0;
    if (rows) { /* a partial table is still worth keeping */
        printf("\n");
        lt_report_markdown(r, stdout);
        printf("total %.0f s\n", r->seconds);
        int wrc = cli_outputs_begin(cmd); /* both files or neither */
        if (!wrc && o->markdown &&
            lt_report_write_markdown(r, o->markdown) != LT_OK)
            wrc = cli_fail(cmd, o->markdown);
        if (!wrc && o->json) {
            taken = true; /* extra goes with the report, written or not */
            if (lt_report_write_json_with(r, o->json, o->extra_key,
                                          o->extra) != LT_OK)
                wrc = cli_fail(cmd, o->json);
        }
        if (!wrc && o->plot && lt_report_plot_tradeoff(r, o->plot) != LT_OK)
            wrc = cli_fail(cmd, o->plot);
        if (cli_outputs_end(cmd, wrc))
            rc = 1;
    }
    if (!taken)
        cJSON_Delete(o->extra);
    lt_report_free(r);
    return rc;
}
