/*
 * select.c - `lethe select`: pick a worst-case (or easiest) forget set for
 * a trained classifier by bi-level selection (lethe/select.h), data-wise or
 * class-wise; write the indices one per line (readable by --forget
 * indices:FILE) and a JSON summary (class histogram, objective per upper
 * iteration, settings, time).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    lt_select_cfg c;
    const char *model, *data, *size, *by, *out, *json;
    bool worst;
} cli_select_opts;

static const char *cli_select_usage =
    "usage: lethe select --model FILE --size 10% --worst-case --out "
    "forget.idx [options]\n       lethe select --model FILE --by class "
    "--count C --worst-case --out forget.idx\nBi-level worst-case forget-set "
    "selection (docs/methods.md): the set whose\nloss stays lowest "
    "after unlearning it; --easiest selects the opposite.";

static int cli_select_parse(int argc, char **argv, cli_select_opts *o)
{
    *o = (cli_select_opts){.c = lt_select_defaults(), .data = "fashion-mnist",
                          .size = "10%", .by = "item"};
    lt_select_cfg *c = &o->c;
    int count = 0;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &o->model, "trained checkpoint", 0, 0},
        {"--data", CLI_OPT_STR, &o->data, "its training data", 0, 0},
        {"--size", CLI_OPT_STR, &o->size, "items to select: P% or a count", 0, 0},
        {"--by", CLI_OPT_STR, &o->by, "item or class", 0, 0},
        {"--count", CLI_OPT_INT, &count, "classes to select (--by class)", 1, 100000},
        {"--worst-case", CLI_OPT_FLAG, &o->worst, "select the hardest set", 0, 0},
        {"--easiest", CLI_OPT_FLAG, &c->easiest, "select the easiest set", 0, 0},
        {"--upper-epochs", CLI_OPT_INT, &c->upper_epochs, "upper iterations", 1, 100000},
        {"--lower-epochs", CLI_OPT_INT, &c->lower_epochs, "sign-SGD epochs each (official: 10)", 1, 100000},
        {"--lower-steps", CLI_OPT_INT, &c->lower_steps, "sign-SGD minibatch steps each instead of epochs (0: use --lower-epochs)", 0, 1000000},
        {"--init-uniform", CLI_OPT_FLAG, &c->init_uniform, "start w at m/N (default: a random binary set, as the official code)", 0, 0},
        {"--eval-losses", CLI_OPT_FLAG, &c->eval_losses, "per-item losses in eval mode (default: train mode, as the official code)", 0, 0},
        {"--lower-lr", CLI_OPT_FLOAT, &c->lower_lr, "sign-SGD step", 0, 10},
        {"--upper-lr", CLI_OPT_FLOAT, &c->upper_lr, "step on the weights", 1e-9, 1e6},
        {"--gamma", CLI_OPT_FLOAT, &c->gamma, "l2 on the weights", 0, 1e6},
        {"--binarize-every", CLI_OPT_INT, &c->binarize_every, "round w to 0/1 every B iterations (0: end only)", 0, 100000},
        {"--batch", CLI_OPT_INT, &c->batch, "lower-level minibatch", 1, 65536},
        {"--out", CLI_OPT_STR, &o->out, "indices file to write", 0, 0},
        {"--json", CLI_OPT_STR, &o->json, "summary (default OUT.json)", 0, 0},
        {"--seed", CLI_OPT_U64, &c->seed, "minibatch order", 0, 0},
    };
    int rc = cli_args_parse("select", cli_select_usage, opts,
                           CLI_NOPTS(opts), argc, argv);
    const char *need = !o->model ? "--model FILE" : !o->out ? "--out FILE" :
                       o->worst == c->easiest ?
                       "exactly one of --worst-case and --easiest" : NULL;
    if (rc == 0 && need) {
        fprintf(stderr, "lethe select: %s is required\n", need);
        rc = 2;
    }
    if (rc == 0 && strcmp(o->by, "item") && strcmp(o->by, "class")) {
        fprintf(stderr, "lethe select: --by '%s' is not item or class\n", o->by);
        rc = 2;
    }
    c->by_class = !strcmp(o->by, "class");
    c->m = count;
    if (rc == 0 && c->by_class && count < 1)
        rc = cli_usage("select", "--by class needs --count C");
    return rc;
}

/* --size P% or N over n items. */
static int cli_select_size(const char *s, int64_t n, int64_t *m)
{
    char *end;
    double v = strtod(s, &end);
    bool pct = *end == '%';
    if (end == s || (*end && !(pct && !end[1])) || !(v > 0))
        *m = -1;
    else
        *m = pct ? llround(v / 100.0 * (double)n) : (int64_t)v;
    if (*m < 1 || *m >= n || (!pct && v != floor(v))) {
        fprintf(stderr, "lethe select: --size '%s': need a share or count "
                "between 1 and %lld items\n", s, (long long)n - 1);
        return 2;
    }
    return 0;
}

static void cli_select_progress(void *ud, int it, int n, double obj)
{
    (void)ud;
    char extra[64];
    snprintf(extra, sizeof extra, "objective %.5f", obj);
    cli_bar("upper iterations", it, n, extra);
}

static int cli_select_go(cli_select_opts *o, lt_model *m, const lt_dataset *tr)
{
    lt_select_cfg *c = &o->c;
    int rc = c->by_class ? 0 : cli_select_size(o->size, tr->n, &c->m);
    if (rc)
        return rc;
    c->progress = cli_select_progress;
    lt_select_result r;
    lt_forget_set f = {0};
    char spec[600];
    snprintf(spec, sizeof spec, "%s %s %s", c->easiest ? "easiest" :
             "worst-case", c->by_class ? "classes" : "items", o->size);
    const char *js = o->json;
    lt_status st = lt_select_worst(m, tr, c, &r);
    cli_bar_end();
    if (st != LT_OK ||
        lt_forget_from_list(r.idx, r.n, tr->n, LT_FORGET_INDICES, spec, &f) !=
            LT_OK || lt_forget_save(&f, o->out) != LT_OK ||
        lt_select_save_json(js, o->model, tr, c, &r) != LT_OK)
        rc = cli_fail("select", NULL);
    else
        printf("selected %lld of %lld training items in %.1f s: %s (summary "
               "%s)\n", (long long)r.n, (long long)tr->n, r.seconds, o->out,
               js);
    lt_forget_set_free(&f);
    lt_select_result_free(&r);
    return rc;
}

int cli_select(int argc, char **argv)
{
    cli_select_opts o;
    int rc = cli_select_parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    char json[4200];
    snprintf(json, sizeof json, "%s.json", o.out); /* the default summary */
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", o.model);
    lt_dataset_fileset_add(&p, "--data", o.data);
    lt_fileset_add(&p, true, "--out", o.out);
    lt_fileset_add(&p, true, o.json ? "--json" : "--out's summary",
                  o.json ? o.json : json);
    if (!o.json)
        o.json = json;
    if ((rc = cli_files_check("select", &p)))
        return rc;
    static const char *const splits[1] = {"train"};
    lt_model *m = NULL;
    lt_dataset d[1];
    rc = cli_open("select", o.model, o.data, splits, 1, &m, d);
    if (!rc && !(rc = cli_outputs_begin("select"))) /* both files or none */
        rc = cli_outputs_end("select", cli_select_go(&o, m, &d[0]));
    cli_close(m, d, 1);
    return rc;
}
