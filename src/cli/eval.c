/*
 * eval.c - `lethe eval` and `lethe predict`: load a self-describing
 * checkpoint, report loss and accuracy per split (optionally as JSON), or
 * write the logits of one split as a NumPy .npy file.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load the checkpoint and one split. */
static int cli_open_split(const char *cmd, const char *model, const char *data,
                   const char *split, lt_model **m, lt_dataset *d)
{
    return cli_open(cmd, model, data, &split, 1, m, d);
}


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
    if (rc)
        return rc;
    if (f->n == 0 && lt_forget_select(spec, &d[0], seed, f) != LT_OK) {
        fprintf(stderr, "lethe eval: --forget: %s\n", lt_last_error());
        rc = 2;
    }
    if (!rc)
        rc = cli_unlearn_metrics("eval", m, &d[0], &d[1], f, out);
    lt_model_free(m);
    lt_dataset_free(&d[0]);
    lt_dataset_free(&d[1]);
    return rc;
}

static void cli_add_metrics(cJSON *o, const char *name,
                           const lt_unlearn_metrics *m)
{
    cJSON *s = cJSON_AddObjectToObject(o, name);
    cJSON_AddNumberToObject(s, "UA", m->ua);
    cJSON_AddNumberToObject(s, "RA", m->ra);
    cJSON_AddNumberToObject(s, "TA", m->ta);
    cJSON_AddNumberToObject(s, "MIA", m->mia);
}

/* `lethe eval --forget SPEC [--retrain FILE]`: the unlearning metrics. */
static int cli_eval_forget(const char *model, const char *data,
                          const char *spec, const char *retrain,
                          uint64_t seed, cJSON *root)
{
    lt_forget_set f = {0};
    lt_unlearn_metrics m, r;
    int rc = cli_eval_unlearn(model, data, spec, seed, &m, &f);
    if (!rc)
        printf("forget %s (%lld items): UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n",
               f.spec, (long long)f.n_forget, m.ua, m.ra, m.ta, m.mia);
    if (!rc && retrain && !(rc = cli_eval_unlearn(retrain, data, spec, seed,
                                                 &r, &f)))
        printf("retrain %s: UA %.2f  RA %.2f  TA %.2f  MIA %.2f\n"
               "Avg. Gap %.2f\n", retrain, r.ua, r.ra, r.ta, r.mia,
               lt_avg_gap(&m, &r));
    if (!rc) {
        cJSON_AddStringToObject(root, "forget", f.spec);
        cJSON_AddNumberToObject(root, "forget_seed", (double)seed);
        cJSON_AddNumberToObject(root, "n_forget", (double)f.n_forget);
        cli_add_metrics(root, "metrics", &m);
        if (retrain) {
            cli_add_metrics(root, "retrain", &r);
            cJSON_AddNumberToObject(root, "avg_gap", lt_avg_gap(&m, &r));
        }
    }
    lt_forget_set_free(&f);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *json = NULL,
               *forget = NULL, *retrain = NULL;
    int threads = 0;
    uint64_t seed = 1;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", CLI_OPT_STR, &data, "dataset (default fashion-mnist)", 0, 0},
        {"--forget", CLI_OPT_STR, &forget, "random:10%|class:K|indices:FILE: report UA, RA, TA, MIA", 0, 0},
        {"--retrain", CLI_OPT_STR, &retrain, "Retrain checkpoint: also report its metrics and Avg. Gap", 0, 0},
        {"--seed", CLI_OPT_U64, &seed, "seed of a random forget set (1)", 0, 0},
        {"--json", CLI_OPT_STR, &json, "also write the results to this file", 0, 0},
        {"--threads", CLI_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("eval", "usage: lethe eval --model FILE [--data SET]"
                           " [--forget SPEC [--retrain FILE]] [--json OUT]\n"
                           "Loss and accuracy per split; with --forget the "
                           "unlearning metrics (%).", opts,
                           (int)(sizeof opts / sizeof *opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (threads)
        lt_set_num_threads(threads);
    if (retrain && !forget) {
        fprintf(stderr, "lethe eval: --retrain needs --forget\n");
        return 2;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model ? model : "");
    cJSON_AddStringToObject(root, "data", data);
    const char *splits[2] = {"train", "test"};
    for (int i = 0; i < 2 && rc == 0 && !forget; i++) {
        lt_model *m;
        lt_dataset d;
        rc = cli_open_split("eval", model, data, splits[i], &m, &d);
        double loss = 0, acc = 0;
        if (!rc && lt_evaluate(m, &d, 500, &loss, &acc, NULL) != LT_OK) {
            fprintf(stderr, "lethe eval: %s\n", lt_last_error());
            rc = 1;
        }
        if (!rc) {
            printf("%-5s  n %6lld  loss %.4f  accuracy %.2f%%\n", splits[i],
                   (long long)d.n, loss, acc);
            cJSON *s = cJSON_AddObjectToObject(root, splits[i]);
            cJSON_AddNumberToObject(s, "n", (double)d.n);
            cJSON_AddNumberToObject(s, "loss", loss);
            cJSON_AddNumberToObject(s, "accuracy", acc);
            if (i == 0)
                cJSON_AddStringToObject(root, "arch", m->arch);
            lt_dataset_free(&d);
            lt_model_free(m);
        }
    }
    if (!rc && forget)
        rc = cli_eval_forget(model, data, forget, retrain, seed, root);
    if (!rc && json) {
        char *text = cJSON_Print(root);
        rc = cli_write_text(json, text);
        free(text);
    }
    cJSON_Delete(root);
    return rc;
}

int cli_predict(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *split = "test",
               *out = NULL;
    int threads = 0;
    cli_opt opts[] = {
        {"--model", CLI_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", CLI_OPT_STR, &data, "dataset (default fashion-mnist)", 0, 0},
        {"--split", CLI_OPT_STR, &split, "train or test (default test)", 0, 0},
        {"--out", CLI_OPT_STR, &out, "logits file to write (.npy, float32 [N, K])", 0, 0},
        {"--threads", CLI_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = cli_args_parse("predict", "usage: lethe predict --model FILE "
                           "--out logits.npy [--data SET] [--split S]\nWrite "
                           "the model's logits on a split.", opts, 5, argc,
                           argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!out) {
        fprintf(stderr, "lethe predict: --out FILE is required\n");
        return 2;
    }
    if (threads)
        lt_set_num_threads(threads);
    lt_model *m;
    lt_dataset d;
    if ((rc = cli_open_split("predict", model, data, split, &m, &d)))
        return rc;
    int k = m->in.classes;
    float *logits = malloc((size_t)(d.n * k) * sizeof(float));
    double acc = 0;
    if (!logits || lt_evaluate(m, &d, 500, NULL, &acc, logits) != LT_OK ||
        lt_npy_save(out, logits, 2, (int64_t[]){d.n, k}) != LT_OK) {
        fprintf(stderr, "lethe predict: %s\n", lt_last_error());
        rc = 1;
    } else
        printf("wrote %s: logits [%lld, %d] (accuracy %.2f%%)\n", out,
               (long long)d.n, k, acc);
    free(logits);
    lt_dataset_free(&d);
    lt_model_free(m);
    return rc;
}
