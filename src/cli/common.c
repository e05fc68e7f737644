/*
 * common.c - pieces several commands share: loading a checkpoint with the
 * dataset splits it is evaluated on, the command line as one string for
 * result files, the unlearning metrics of a model for a forget set, atomic
 * text output and mask names.
 */
#include "cli/common.h"

#include <math.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int lt_cli_fits(const char *cmd, const char *model, const lt_model *m,
                       const char *data, const lt_dataset *d)
{
    if (d->c == m->in.channels && d->h == m->in.height &&
        d->w == m->in.width && d->classes == m->in.classes)
        return 0;
    fprintf(stderr, "lethe %s: %s expects %dx%dx%d inputs and %d classes; %s "
            "has %dx%dx%d and %d\n", cmd, model, m->in.channels, m->in.height,
            m->in.width, m->in.classes, data, d->c, d->h, d->w, d->classes);
    return 1;
}

int lt_cli_open(const char *cmd, const char *model, const char *data,
                const char *const *splits, int n, lt_model **m,
                lt_dataset *sets)
{
    *m = NULL;
    memset(sets, 0, (size_t)n * sizeof *sets);
    if (!model) {
        fprintf(stderr, "lethe %s: --model FILE is required\n", cmd);
        return 2;
    }
    int rc = lt_model_load(model, m) != LT_OK;
    for (int i = 0; !rc && i < n; i++)
        rc = lt_dataset_load(data, splits[i], &sets[i]) != LT_OK;
    if (rc)
        fprintf(stderr, "lethe %s: %s\n", cmd, lt_last_error());
    for (int i = 0; !rc && i < n; i++)
        rc = lt_cli_fits(cmd, model, *m, data, &sets[i]);
    if (rc) {
        for (int i = 0; i < n; i++)
            lt_dataset_free(&sets[i]);
        lt_model_free(*m);
        *m = NULL;
    }
    return rc;
}

void lt_cli_join_args(int argc, char **argv, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "lethe");
    for (int i = 0; i < argc && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, " %s", argv[i]);
}

float *lt_cli_logits(lt_model *m, const lt_dataset *d)
{
    float *l = malloc((size_t)(d->n * m->in.classes) * sizeof(float) + 4);
    if (!l)
        lt_set_error(LT_ERR_NOMEM, "out of memory for %lld logits",
                     (long long)d->n);
    else if (lt_evaluate(m, d, 500, NULL, NULL, l) != LT_OK) {
        free(l);
        l = NULL;
    }
    return l;
}

/* Rows idx[0..n) of the train logits and their labels (caller frees). */
static lt_split_logits lt_cli_rows(const float *all, const lt_dataset *tr,
                                   int k, const int64_t *idx, int64_t n,
                                   float **l, int32_t **y)
{
    *l = malloc((size_t)(n * k) * sizeof(float) + 4);
    *y = malloc((size_t)n * sizeof(int32_t) + 4);
    for (int64_t i = 0; *l && *y && i < n; i++) {
        memcpy(*l + i * k, all + idx[i] * k, (size_t)k * sizeof(float));
        (*y)[i] = tr->y[idx[i]];
    }
    return (lt_split_logits){*l, n, k, *y, n};
}

int lt_cli_metrics_from(const char *cmd, const float *ltr, const float *lte,
                        int k, const lt_dataset *tr, const lt_dataset *te,
                        const lt_forget_set *f, lt_unlearn_metrics *out)
{
    int rc = 1;
    float *l[2] = {NULL, NULL};
    int32_t *y[2] = {NULL, NULL};
    lt_split_logits fs = lt_cli_rows(ltr, tr, k, f->forget, f->n_forget,
                                     &l[0], &y[0]);
    lt_split_logits rs = lt_cli_rows(ltr, tr, k, f->retain, f->n_retain,
                                     &l[1], &y[1]);
    lt_split_logits ts = {lte, te->n, k, te->y, te->n};
    if (!l[0] || !l[1] || !y[0] || !y[1])
        lt_set_error(LT_ERR_NOMEM, "out of memory for the metrics");
    else
        rc = lt_unlearn_metrics_compute(&fs, &rs, &ts, f->kind ==
                                        LT_FORGET_CLASS ? f->cls : -1,
                                        out) != LT_OK;
    if (rc)
        fprintf(stderr, "lethe %s: metrics: %s\n", cmd, lt_last_error());
    for (int i = 0; i < 2; i++) {
        free(l[i]);
        free(y[i]);
    }
    return rc;
}

int lt_cli_unlearn_metrics(const char *cmd, lt_model *m, const lt_dataset *tr,
                           const lt_dataset *te, const lt_forget_set *f,
                           lt_unlearn_metrics *out)
{
    float *ltr = lt_cli_logits(m, tr), *lte = ltr ? lt_cli_logits(m, te) : NULL;
    int rc = 1;
    if (lte)
        rc = lt_cli_metrics_from(cmd, ltr, lte, m->in.classes, tr, te, f, out);
    else
        fprintf(stderr, "lethe %s: metrics: %s\n", cmd, lt_last_error());
    free(ltr);
    free(lte);
    return rc;
}

int lt_cli_augment(const char *cmd, const char *spec, const lt_dataset *d,
                   lt_augment *out)
{
    bool colour = d->c == 3;
    const char *a = spec;
    if (!strcmp(a, "auto")) /* torchvision recipes: pad 4 + flip on CIFAR, */
        a = colour ? "crop+flip" : "crop"; /* pad 2 crop on 28x28 grey */
    bool crop = !strcmp(a, "crop") || !strcmp(a, "crop+flip");
    if (!crop && strcmp(a, "none")) {
        fprintf(stderr, "lethe %s: --augment '%s' is not auto, none, crop or "
                "crop+flip\n", cmd, spec);
        return 2;
    }
    *out = (lt_augment){crop ? (colour ? 4 : 2) : 0, !strcmp(a, "crop+flip")};
    return 0;
}

int lt_cli_write_text(const char *path, const char *text)
{
    if (lt_write_file_atomic(path, text, strlen(text)) == LT_OK)
        return 0;
    fprintf(stderr, "lethe: %s\n", lt_last_error());
    return 1;
}

void lt_cli_mask_text(const lt_mask_spec *s, char *buf, size_t n)
{
    static const char *const kinds[] = {"none", "saliency", "random", "soft"};
    if (s->kind == LT_MASK_NONE)
        snprintf(buf, n, "none");
    else
        snprintf(buf, n, "%s:%g", kinds[s->kind], s->ratio);
}

/* ---- language models ---------------------------------------------------- */

bool lt_cli_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

void lt_cli_lm_tok_path(const char *model, char *buf, size_t n)
{
    size_t k = strlen(model);
    if (lt_cli_ends_with(model, ".safetensors"))
        snprintf(buf, n, "%.*s.tokenizer.json", (int)(k - 12), model);
    else
        snprintf(buf, n, "%s/tokenizer.json", model);
}

int lt_cli_lm_open(const char *cmd, const char *model, const char *tok,
                   lt_llama **m, lt_tokenizer **t)
{
    char def[4200];
    *m = NULL;
    *t = NULL;
    if (!tok) {
        lt_cli_lm_tok_path(model, def, sizeof def);
        tok = def;
    }
    if (lt_llama_load(model, m) != LT_OK || lt_tokenizer_load(tok, t) != LT_OK) {
        fprintf(stderr, "lethe %s: %s\n", cmd, lt_last_error());
    } else if (lt_tokenizer_vocab_size(*t) != (*m)->cfg.vocab_size) {
        fprintf(stderr, "lethe %s: tokenizer %s has %d tokens but model %s "
                "has a vocabulary of %d\n", cmd, tok,
                lt_tokenizer_vocab_size(*t), model, (*m)->cfg.vocab_size);
    } else {
        return 0;
    }
    lt_llama_free(*m);
    lt_tokenizer_free(*t);
    *m = NULL;
    *t = NULL;
    return 1;
}

/* ---- caches -------------------------------------------------------------- */

uint64_t lt_cli_fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

uint64_t lt_cli_fnv(const char *s)
{
    return lt_cli_fnv_bytes(LT_CLI_FNV_INIT, s, strlen(s));
}

int lt_cli_mkdirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; ; p++) {
        bool end = !*p;
        if (*p == '/' || end) {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST) {
                fprintf(stderr, "lethe bench: cannot create %s: %s\n", buf,
                        strerror(errno));
                return 1;
            }
            if (end)
                return 0;
            *p = '/';
        }
    }
}


/* ---- TOFU files ------------------------------------------------------------ */

int lt_cli_tofu_load_list(const char *cmd, const char *list, lt_tofu_set *out)
{
    *out = (lt_tofu_set){0};
    char path[4096];
    for (const char *p = list; *p; ) {
        size_t k = strcspn(p, ",");
        snprintf(path, sizeof path, "%.*s", (int)k, p);
        lt_tofu_set part = {0};
        lt_status st = lt_tofu_load(path, &part);
        for (int64_t i = 0; st == LT_OK && i < part.n; i++) {
            const lt_tofu_qa *q = &part.qa[i];
            st = lt_tofu_push(out, q->question, q->answer,
                              q->paraphrased_question, q->paraphrased_answer,
                              (const char *const *)q->perturbed_answer,
                              q->n_perturbed);
        }
        lt_tofu_free(&part);
        if (st != LT_OK) {
            fprintf(stderr, "lethe %s: %s\n", cmd, lt_last_error());
            lt_tofu_free(out);
            return 1;
        }
        p += k + (p[k] == ',');
    }
    if (out->n == 0) {
        fprintf(stderr, "lethe %s: no QA records in '%s'\n", cmd, list);
        return 1;
    }
    return 0;
}

/* ---- result files ---------------------------------------------------------- */

void lt_cli_json_num(cJSON *o, const char *key, double v)
{
    if (isnan(v))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, v);
}

int lt_cli_write_json(const char *path, cJSON *root)
{
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "lethe: out of memory writing %s\n", path);
        return 1;
    }
    int rc = lt_cli_write_text(path, text);
    free(text);
    return rc;
}

int lt_cli_write_markdown(const char *path, lt_cli_printer print,
                          const void *ctx, const char *title)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        fprintf(stderr, "lethe: cannot write %s: out of memory\n", path);
        return 1;
    }
    print(f, ctx, title, true);
    fclose(f);
    int rc = lt_cli_write_text(path, buf);
    free(buf);
    return rc;
}

/* ---- option lists and progress ----------------------------------------------- */

bool lt_cli_list_item(const char *list, int i, char *buf, size_t n)
{
    const char *p = list;
    for (; i > 0 && p; i--) {
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    if (!p || !*p)
        return false;
    snprintf(buf, n, "%.*s", (int)strcspn(p, ","), p);
    return true;
}

int lt_cli_lr_spec(const char *spec, const char *method, float *lr)
{
    size_t k = strlen(method);
    for (const char *p = spec; p && *p; ) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return -1;
        if ((size_t)(eq - p) == k && !strncmp(p, method, k)) {
            char *end;
            *lr = strtof(eq + 1, &end);
            return end == p + n && *lr > 0 ? 1 : -1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

void lt_cli_lm_progress(void *ud, const lt_lm_event *ev)
{
    lt_cli_lm_ui *ui = ud;
    if (!ui->started) {
        lt_progress_start(&ui->bar, ui->label, ev->steps);
        ui->started = true;
    }
    char extra[96];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f %.0f tok/s",
             ev->epoch, ev->epochs, ev->loss, ev->tokens_per_s);
    lt_progress_update(&ui->bar, ev->step, extra);
}

void lt_cli_llm_progress(void *ud, const lt_llm_event *ev)
{
    lt_cli_lm_ui *ui = ud;
    if (!ui->started) {
        lt_progress_start(&ui->bar, ui->label, ev->steps);
        ui->started = true;
    }
    char extra[96];
    snprintf(extra, sizeof extra, "epoch %d/%d loss %.4f forget NLL %.3f",
             ev->epoch, ev->epochs, ev->loss, ev->forget_nll);
    lt_progress_update(&ui->bar, ev->step, extra);
}

int lt_cli_fail(const char *cmd, const char *what)
{
    fprintf(stderr, "lethe %s: %s%s%s\n", cmd, what ? what : "",
            what ? ": " : "", lt_last_error());
    return 1;
}
