/*
 * eval.c - `lethe eval` and `lethe predict`: load a self-describing
 * checkpoint, report loss and accuracy per split (optionally as JSON), or
 * write the logits of one split as a NumPy .npy file.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* UA, RA, TA and MIA-efficacy of model for the forget set f (selected
 * from spec when f is still empty). */
static int cli_eval_unlearn(const char *model, const char *data,
                           const char *spec, uint64_t seed,
                           lt_unlearn_metrics *out, lt_forget_set *f)
{
    static const char *const splits[2] = {"train", "test"};
    lt_model *m;
    lt_dataset d[2];
    int rc = cli_open("eval", model, data, splits, 2, &m, d);
    if (!rc && f->n == 0 && lt_forget_select(spec, &d[0], seed, f) != LT_OK)
        rc = cli_bad("eval", "--forget");
    if (!rc)
        rc = cli_unlearn_metrics("eval", m, &d[0], &d[1], f, out);
    cli_close(m, d, 2);
    return rc;
}

/* `lethe eval --forget SPEC [--retrain FILE]`: the unlearning metrics. */
static int cli_eval_forget(const char *spec, const char *retrain,
                           lt_checkpoint_eval *e, lt_forget_set *f)
{
    const lt_unlearn_metrics *m = &e->metrics, *r = &e->retrain;
    int rc = cli_eval_unlearn(e->model, e->data, spec, e->forget_seed,
                              &e->metrics, f);
    if (!rc)
        printf("forget %s (%lld items): UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n",
               f->spec, (long long)f->n_forget, m->ua, m->ra, m->ta, m->mia);
    if (!rc && retrain && !(rc = cli_eval_unlearn(retrain, e->data, spec,
                                                  e->forget_seed,
                                                  &e->retrain, f)))
        printf("retrain %s: UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n"
               "Avg. Gap %.2f\n", retrain, r->ua, r->ra, r->ta, r->mia,
               lt_avg_gap(m, r));
    e->forget = f;
    e->has_retrain = retrain != NULL;
    return rc;
}

/* Per-class accuracy and the confusion matrix (rows: true class, columns:
 * predicted) of logits [d->n, k] on d, printed. */
static void cli_print_confusion(const lt_dataset *d, const float *logits,
                                int k, int64_t *cm)
{
    memset(cm, 0, (size_t)k * (size_t)k * sizeof *cm);
    for (int64_t i = 0; i < d->n; i++) {
        const float *row = logits + i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            best = row[j] > row[best] ? j : best;
        if (d->y[i] >= 0 && d->y[i] < k)
            cm[(int64_t)d->y[i] * k + best]++;
    }
    printf("per-class accuracy %% (class: name)\n");
    for (int t = 0; t < k; t++) {
        int64_t tot = 0;
        for (int j = 0; j < k; j++)
            tot += cm[(int64_t)t * k + j];
        const char *name = lt_dataset_class_name(d, t);
        printf("  %2d %-14s %6.1f  (%lld)\n", t, name ? name : "",
               tot ? 100.0 * (double)cm[(int64_t)t * k + t] / (double)tot : 0.0,
               (long long)tot);
    }
    printf("confusion (rows: true class, columns: predicted)\n     ");
    for (int j = 0; j < k; j++)
        printf("%5d", j);
    for (int t = 0; t < k; t++) {
        printf("\n  %2d ", t);
        for (int j = 0; j < k; j++)
            printf("%5lld", (long long)cm[(int64_t)t * k + j]);
    }
    printf("\n");
}

/* Loss and accuracy of the checkpoint on one split (and its architecture
 * into arch); with confusion, per-class accuracy and the confusion matrix
 * too. */
static int cli_eval_split(const lt_checkpoint_eval *e, const char *split,
                          bool confusion, lt_split_score *s, char *arch,
                          size_t n)
{
    lt_model *m;
    lt_dataset d;
    int rc = cli_open("eval", e->model, e->data, &split, 1, &m, &d);
    int k = rc ? 0 : m->in.classes;
    float *logits = NULL;
    int64_t *cm = NULL;
    if (!rc && confusion &&
        (!(logits = malloc((size_t)(d.n * k) * sizeof(float))) ||
         !(cm = malloc((size_t)k * (size_t)k * sizeof *cm))))
        rc = cli_bad("eval", "--confusion (out of memory)");
    if (!rc && lt_evaluate(m, &d, 500, &s->loss, &s->accuracy, logits) != LT_OK)
        rc = cli_fail("eval", NULL);
    if (!rc) {
        s->n = d.n;
        printf("%-5s  n %6lld  loss %.4f  accuracy %.2f%%\n", split,
               (long long)d.n, s->loss, s->accuracy);
        snprintf(arch, n, "%s", m->arch);
        if (confusion)
            cli_print_confusion(&d, logits, k, cm);
    }
    free(logits);
    free(cm);
    cli_close(m, &d, 1);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *json = NULL,
               *forget = NULL, *retrain = NULL;
    uint64_t seed = 1;
    bool confusion = false;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", CLI_OPT_STR, &data, "dataset", 0, 0},
        {"--forget", CLI_OPT_STR, &forget, "random:10%|class:K|indices:FILE: report UA, RA, TA, MIA", 0, 0},
        {"--retrain", CLI_OPT_STR, &retrain, "Retrain checkpoint: also report its metrics and Avg. Gap", 0, 0},
        {"--seed", CLI_OPT_U64, &seed, "seed of a random forget set", 0, 0},
        {"--json", CLI_OPT_STR, &json, "also write the results to this file", 0, 0},
        {"--confusion", CLI_OPT_FLAG, &confusion, "print per-class test accuracy and the confusion matrix", 0, 0},
    };
    int rc = cli_args_parse("eval", "usage: lethe eval --model FILE [--data SET]"
                           " [--forget SPEC [--retrain FILE]] [--json OUT]"
                           " [--confusion]\n"
                           "Loss and accuracy per split; with --forget the "
                           "unlearning metrics (%).", opts,
                           CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (retrain && !forget)
        return cli_usage("eval", "--retrain needs --forget");
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", model);
    lt_fileset_add(&p, false, "--retrain", retrain);
    lt_fileset_add(&p, false, "--forget", lt_forget_spec_file(forget));
    lt_dataset_fileset_add(&p, "--data", data);
    lt_fileset_add(&p, true, "--json", json);
    if ((rc = cli_files_check("eval", &p)))
        return rc;
    lt_forget_set f = {0};
    char arch[256] = "";
    lt_checkpoint_eval e = {.model = model, .data = data, .arch = arch,
                            .forget_seed = seed};
    if (forget)
        rc = cli_eval_forget(forget, retrain, &e, &f);
    else if (!(rc = cli_eval_split(&e, "train", false, &e.train, arch,
                                   sizeof arch)))
        rc = cli_eval_split(&e, "test", confusion, &e.test, arch, sizeof arch);
    if (!rc && json && lt_checkpoint_eval_save_json(json, &e) != LT_OK)
        rc = cli_fail("eval", NULL);
    lt_forget_set_free(&f);
    return rc;
}

int cli_predict(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *split = "test",
               *out = NULL;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", CLI_OPT_STR, &data, "dataset", 0, 0},
        {"--split", CLI_OPT_STR, &split, "train or test", 0, 0},
        {"--out", CLI_OPT_STR, &out, "logits file to write (.npy, float32 [N, K])", 0, 0},
    };
    int rc = cli_args_parse("predict", "usage: lethe predict --model FILE "
                           "--out logits.npy [--data SET] [--split S]\nWrite "
                           "the model's logits on a split.", opts,
                           CLI_NOPTS(opts), argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out)
        return cli_usage("predict", "--out FILE is required");
    lt_fileset p = {0};
    lt_fileset_add(&p, false, "--model", model);
    lt_dataset_fileset_add(&p, "--data", data);
    lt_fileset_add(&p, true, "--out", out);
    if ((rc = cli_files_check("predict", &p)))
        return rc;
    lt_model *m;
    lt_dataset d;
    if ((rc = cli_open("predict", model, data, &split, 1, &m, &d)))
        return rc;
    int k = m->in.classes;
    float *logits = malloc((size_t)(d.n * k) * sizeof(float));
    double acc = 0;
    if (!logits || lt_evaluate(m, &d, 500, NULL, &acc, logits) != LT_OK ||
        lt_npy_save(out, logits, 2, (int64_t[]){d.n, k}) != LT_OK)
        rc = cli_fail("predict", NULL);
    else
        printf("wrote %s: logits [%lld, %d] (accuracy %.2f%%)\n", out,
               (long long)d.n, k, acc);
    free(logits);
    cli_close(m, &d, 1);
    return rc;
}
