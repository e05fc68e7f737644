/*
 * eval.c - `lethe eval` and `lethe predict`: load a self-describing
 * checkpoint, report loss and accuracy per split (optionally as JSON), or
 * write the logits of one split as a NumPy .npy file.
 */
#include "cli/args.h"
#include "cli/cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load the checkpoint and the split; check they fit each other. */
static int lt_open(const char *cmd, const char *model, const char *data,
                   const char *split, lt_model **m, lt_dataset *d)
{
    if (!model) {
        fprintf(stderr, "lethe %s: --model FILE is required\n", cmd);
        return 2;
    }
    if (lt_model_load(model, m) != LT_OK) {
        fprintf(stderr, "lethe %s: %s\n", cmd, lt_last_error());
        return 1;
    }
    if (lt_dataset_load(data, split, d) != LT_OK) {
        fprintf(stderr, "lethe %s: %s\n", cmd, lt_last_error());
        lt_model_free(*m);
        return 1;
    }
    if (d->c != (*m)->in.channels || d->h != (*m)->in.height ||
        d->w != (*m)->in.width || d->classes != (*m)->in.classes) {
        fprintf(stderr, "lethe %s: %s expects %dx%dx%d inputs and %d classes;"
                " %s has %dx%dx%d and %d\n", cmd, model, (*m)->in.channels,
                (*m)->in.height, (*m)->in.width, (*m)->in.classes, data, d->c,
                d->h, d->w, d->classes);
        lt_dataset_free(d);
        lt_model_free(*m);
        return 1;
    }
    return 0;
}

/* Write text to path atomically (temp file, then rename). */
static int lt_write_text(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    bool ok = f && fputs(text, f) >= 0;
    if (f)
        ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        fprintf(stderr, "lethe: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int lt_cli_eval(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *json = NULL;
    int threads = 0;
    lt_opt opts[] = {
        {"--model", LT_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", LT_OPT_STR, &data, "dataset (default fashion-mnist)", 0, 0},
        {"--json", LT_OPT_STR, &json, "also write the results to this file", 0, 0},
        {"--threads", LT_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = lt_args_parse("eval", "usage: lethe eval --model FILE [--data SET]"
                           " [--json OUT]\nLoss and accuracy per split.", opts,
                           4, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (threads)
        lt_set_num_threads(threads);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model ? model : "");
    cJSON_AddStringToObject(root, "data", data);
    const char *splits[2] = {"train", "test"};
    for (int i = 0; i < 2 && rc == 0; i++) {
        lt_model *m;
        lt_dataset d;
        rc = lt_open("eval", model, data, splits[i], &m, &d);
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
            cJSON_AddStringToObject(root, "arch", m->arch);
            lt_dataset_free(&d);
            lt_model_free(m);
        }
    }
    if (!rc && json) {
        char *text = cJSON_Print(root);
        rc = lt_write_text(json, text);
        free(text);
    }
    cJSON_Delete(root);
    return rc;
}

int lt_cli_predict(int argc, char **argv)
{
    const char *model = NULL, *data = "fashion-mnist", *split = "test",
               *out = NULL;
    int threads = 0;
    lt_opt opts[] = {
        {"--model", LT_OPT_STR, &model, "checkpoint written by lethe train", 0, 0},
        {"--data", LT_OPT_STR, &data, "dataset (default fashion-mnist)", 0, 0},
        {"--split", LT_OPT_STR, &split, "train or test (default test)", 0, 0},
        {"--out", LT_OPT_STR, &out, "logits file to write (.npy, float32 [N, K])", 0, 0},
        {"--threads", LT_OPT_INT, &threads, "threads (default: all cores)", 1, 1024},
    };
    int rc = lt_args_parse("predict", "usage: lethe predict --model FILE "
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
    if ((rc = lt_open("predict", model, data, split, &m, &d)))
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
