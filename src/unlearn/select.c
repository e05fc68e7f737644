/*
 * select.c - worst-case forget-set selection (see lethe/select.h): the
 * capped-simplex projection, the sign-SGD lower level on the weighted
 * retain loss, per-item losses at its solution and the projected upper
 * step on the weights, data-wise or class-wise; and the JSON summary of
 * a selection.
 */
#include "lethe/io.h"
#include "lethe/select.h"
#include "lethe/train.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- projection ------------------------------------------------------------- */

static double lt_capped_sum(const double *w, int64_t n, double mu)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = w[i] - mu;
        s += v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return s;
}

lt_status lt_project_capped_simplex(double *w, int64_t n, double m)
{
    if (!w || n < 1 || !(m > 0) || !(m < (double)n))
        return lt_set_error(LT_ERR_ARG, "projection: need 0 < m (%g) < n "
                            "(%lld)", m, (long long)n);
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(w[i]))
            return lt_set_error(LT_ERR_NAN, "projection: w[%lld] is NaN",
                                (long long)i);
        lo = w[i] < lo ? w[i] : lo;
        hi = w[i] > hi ? w[i] : hi;
    }
    lo -= 1; /* sum(lo) = n > m, sum(hi) = 0 < m: the root is between */
    for (int it = 0; it < 200 && hi - lo > 1e-15 * (1 + fabs(hi)); it++) {
        double mid = 0.5 * (lo + hi);
        if (lt_capped_sum(w, n, mid) > m)
            lo = mid;
        else
            hi = mid;
    }
    double mu = 0.5 * (lo + hi);
    for (int64_t i = 0; i < n; i++) {
        double v = w[i] - mu;
        w[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return LT_OK;
}

lt_select_cfg lt_select_defaults(void)
{
    lt_select_cfg c;
    memset(&c, 0, sizeof c);
    c.upper_epochs = 10;  /* the official select_epochs */
    c.lower_epochs = 10;  /* unlearn_steps: epochs of w_FT */
    c.lower_steps = 0;
    c.lower_lr = 0.01f;   /* theta_lr */
    c.upper_lr = 0.01f;   /* w_lr */
    c.gamma = 0.0f;
    c.batch = 256;
    c.seed = 1;
    return c;
}

/* ---- the lower level: sign-SGD on sum (1 - w_i) CE_i ------------------------ */

typedef struct {
    lt_ctx *c;
    float *x, *wt;
    int32_t *y;
    int64_t *perm, pos;
    float *logits;        /* [N, K] at the lower solution */
    double *item_w;       /* per-item weight (class-wise: its class's) */
} lt_sel_state;

static lt_status lt_sign_step(lt_sel_state *s, lt_model *m,
                              const lt_dataset *d, int64_t b, float lr)
{
    lt_ctx_reset(s->c);
    lt_tensor *in = lt_from_data(s->c, 4, (int64_t[]){b, d->c, d->h, d->w},
                                 s->x);
    lt_tensor *ce = in ? lt_cross_entropy(s->c, lt_model_forward(s->c, m, in,
                                                                 true),
                                          s->y, LT_REDUCE_NONE) : NULL;
    lt_tensor *wt = lt_from_data(s->c, 1, (int64_t[]){b}, s->wt);
    lt_tensor *l = ce && wt ? lt_mean_all(s->c, lt_mul(s->c, ce, wt)) : NULL;
    if (!l || lt_backward(s->c, l) != LT_OK)
        return lt_last_status();
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "select: the lower-level loss is "
                            "not finite (lower --lower-lr)");
    float *th = m->params.theta;
    const float *g = m->params.grad;
    for (int64_t i = 0; i < m->params.n_train; i++)
        th[i] -= g[i] > 0 ? lr : g[i] < 0 ? -lr : 0.0f;
    lt_params_zero_grad(&m->params);
    return LT_OK;
}

static lt_status lt_lower(lt_sel_state *s, lt_model *m, const lt_dataset *d,
                          const lt_select_cfg *cfg, int iter)
{
    lt_status st = LT_OK;
    if (cfg->lower_steps <= 0) { /* the official w_FT: lower_epochs passes */
        for (int e = 0; e < cfg->lower_epochs && st == LT_OK; e++) {
            lt_permutation(s->perm, d->n, cfg->seed + (uint64_t)iter * 7919u +
                                              (uint64_t)e * 104729u);
            for (int64_t i = 0; i < d->n && st == LT_OK; i += cfg->batch) {
                int64_t b = d->n - i < cfg->batch ? d->n - i : cfg->batch;
                lt_dataset_batch(d, s->perm + i, b, s->x, s->y, NULL, NULL);
                for (int64_t j = 0; j < b; j++)
                    s->wt[j] = (float)(1.0 - s->item_w[s->perm[i + j]]);
                st = lt_sign_step(s, m, d, b, cfg->lower_lr);
            }
        }
        return st;
    }
    for (int k = 0; k < cfg->lower_steps && st == LT_OK; k++) {
        if (s->pos + cfg->batch > d->n || (k == 0 && iter == 0)) {
            lt_permutation(s->perm, d->n, cfg->seed + (uint64_t)iter * 7919u);
            s->pos = 0;
        }
        int64_t b = cfg->batch < d->n ? cfg->batch : d->n;
        lt_dataset_batch(d, s->perm + s->pos, b, s->x, s->y, NULL, NULL);
        for (int64_t j = 0; j < b; j++)
            s->wt[j] = (float)(1.0 - s->item_w[s->perm[s->pos + j]]);
        s->pos += b;
        st = lt_sign_step(s, m, d, b, cfg->lower_lr);
    }
    return st;
}

/* ---- the upper level ---------------------------------------------------------- */

/* Per-item CE from the logits. */
static void lt_item_losses(const float *z, const lt_dataset *d, double *l)
{
    int64_t k = d->classes;
    for (int64_t i = 0; i < d->n; i++) {
        const float *r = z + i * k;
        float mx = r[0];
        for (int64_t j = 1; j < k; j++)
            mx = r[j] > mx ? r[j] : mx;
        double s = 0;
        for (int64_t j = 0; j < k; j++)
            s += exp((double)(r[j] - mx));
        l[i] = log(s) + mx - r[d->y[i]];
    }
}

/* The unit losses (items, or class means) into u[0..nu). */
static void lt_unit_losses(const lt_dataset *d, bool by_class,
                           const double *item, double *u, int64_t nu)
{
    if (!by_class) {
        memcpy(u, item, (size_t)nu * sizeof(double));
        return;
    }
    int64_t *cnt = calloc((size_t)nu, sizeof(int64_t));
    for (int64_t c = 0; c < nu; c++)
        u[c] = 0;
    for (int64_t i = 0; i < d->n; i++) {
        u[d->y[i]] += item[i];
        if (cnt)
            cnt[d->y[i]]++;
    }
    for (int64_t c = 0; cnt && c < nu; c++)
        u[c] = cnt[c] ? u[c] / (double)cnt[c] : 0;
    free(cnt);
}

/* Sort order of w, largest first (equal w: lower index first). qsort has
 * no context argument in C11, hence the file-level pointer (selection is
 * not meant to run concurrently). */
static const double *lt_sort_w;

static int lt_cmp_w(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    double x = lt_sort_w[i], y = lt_sort_w[j];
    if (x != y)
        return x > y ? -1 : 1;
    return i < j ? -1 : i > j;
}

static void lt_order_desc(const double *w, int64_t n, int64_t *order)
{
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    lt_sort_w = w;
    qsort(order, (size_t)n, sizeof *order, lt_cmp_w);
}

static void lt_binarize(double *w, int64_t n, int64_t m, int64_t *order)
{
    lt_order_desc(w, n, order);
    for (int64_t i = 0; i < n; i++)
        w[order[i]] = i < m ? 1.0 : 0.0;
}

/* Logits of every item in train mode (as the official optimize_select,
 * which never switches the model to eval), batches in order. */
static lt_status lt_train_mode_logits(lt_sel_state *s, lt_model *m,
                                      const lt_dataset *d, int batch)
{
    int64_t k = d->classes;
    for (int64_t i = 0; i < d->n; i += batch) {
        int64_t b = d->n - i < batch ? d->n - i : batch;
        for (int64_t j = 0; j < b; j++)
            s->perm[j] = i + j;
        lt_dataset_batch(d, s->perm, b, s->x, s->y, NULL, NULL);
        lt_ctx_reset(s->c);
        bool was = lt_set_grad_enabled(s->c, false);
        lt_tensor *in = lt_from_data(s->c, 4, (int64_t[]){b, d->c, d->h,
                                                          d->w}, s->x);
        lt_tensor *z = in ? lt_model_forward(s->c, m, in, true) : NULL;
        lt_set_grad_enabled(s->c, was);
        if (!z)
            return lt_last_status();
        memcpy(s->logits + i * k, z->data, (size_t)(b * k) * sizeof(float));
    }
    s->pos = d->n; /* perm was scratch: a step-mode lower level reshuffles */
    return LT_OK;
}

/* One upper iteration: lower level, losses, projected step. */
static lt_status lt_upper(lt_sel_state *s, lt_model *m, const lt_dataset *d,
                          const lt_select_cfg *cfg, const float *theta0,
                          double *w, int64_t nu, double *u, double *item,
                          int iter, double *objective)
{
    memcpy(m->params.theta, theta0,
           (size_t)m->params.n_total * sizeof(float));
    for (int64_t i = 0; i < d->n; i++)
        s->item_w[i] = w[cfg->by_class ? d->y[i] : i];
    lt_status st = lt_lower(s, m, d, cfg, iter);
    if (st == LT_OK)
        st = cfg->eval_losses ? lt_evaluate(m, d, 500, NULL, NULL, s->logits)
                              : lt_train_mode_logits(s, m, d, cfg->batch);
    if (st != LT_OK)
        return st;
    lt_item_losses(s->logits, d, item);
    lt_unit_losses(d, cfg->by_class, item, u, nu);
    double obj = 0, sign = cfg->easiest ? -1.0 : 1.0;
    for (int64_t i = 0; i < nu; i++) {
        obj += w[i] * u[i];
        w[i] -= cfg->upper_lr * (sign * u[i] + 2.0 * cfg->gamma * w[i]);
    }
    *objective = obj / (double)cfg->m; /* the mean loss of the set */
    return lt_project_capped_simplex(w, nu, (double)cfg->m);
}

/* ---- the driver ----------------------------------------------------------------- */

static lt_status lt_sel_alloc(lt_sel_state *s, const lt_model *m,
                              const lt_dataset *d, int batch)
{
    memset(s, 0, sizeof *s);
    size_t item = (size_t)d->c * (size_t)d->h * (size_t)d->w;
    s->c = lt_ctx_new(lt_arena_bytes_for(m, batch));
    s->x = malloc((size_t)batch * item * sizeof(float));
    s->wt = malloc((size_t)batch * sizeof(float));
    s->y = malloc((size_t)batch * sizeof(int32_t));
    s->perm = malloc((size_t)d->n * sizeof(int64_t));
    s->logits = malloc((size_t)d->n * (size_t)d->classes * sizeof(float));
    s->item_w = malloc((size_t)d->n * sizeof(double));
    if (!s->c || !s->x || !s->wt || !s->y || !s->perm || !s->logits ||
        !s->item_w)
        return lt_set_error(LT_ERR_NOMEM, "select: out of memory for %lld "
                            "items", (long long)d->n);
    return LT_OK;
}

static void lt_sel_free(lt_sel_state *s)
{
    lt_ctx_free(s->c);
    free(s->x);
    free(s->wt);
    free(s->y);
    free(s->perm);
    free(s->logits);
    free(s->item_w);
}

static lt_status lt_select_check(const lt_model *m, const lt_dataset *d,
                                 const lt_select_cfg *cfg, int64_t *nu)
{
    *nu = cfg->by_class ? d->classes : d->n;
    if (cfg->m < 1 || cfg->m >= *nu)
        return lt_set_error(LT_ERR_ARG, "select: %lld %s of %lld: need at "
                            "least 1 and fewer than all", (long long)cfg->m,
                            cfg->by_class ? "classes" : "items",
                            (long long)*nu);
    if (cfg->upper_epochs < 1 || cfg->lower_steps < 0 || cfg->batch < 1 ||
        (cfg->lower_steps == 0 && cfg->lower_epochs < 1) ||
        !(cfg->upper_lr > 0) || !(cfg->lower_lr >= 0) || !(cfg->gamma >= 0))
        return lt_set_error(LT_ERR_ARG, "select: bad settings (upper epochs "
                            "%d, lower steps %d, batch %d, lrs %g / %g, "
                            "gamma %g)", cfg->upper_epochs, cfg->lower_steps,
                            cfg->batch, (double)cfg->upper_lr,
                            (double)cfg->lower_lr, (double)cfg->gamma);
    if (d->c != m->in.channels || d->h != m->in.height ||
        d->w != m->in.width || d->classes != m->in.classes)
        return lt_set_error(LT_ERR_ARG, "select: data %s does not fit model "
                            "%s", d->name, m->arch);
    return LT_OK;
}

/* The selected training indices (top m units; classes expand to items). */
static lt_status lt_select_output(const lt_dataset *d, const double *w,
                                  int64_t nu, const lt_select_cfg *cfg,
                                  int64_t *order, lt_select_result *out)
{
    lt_order_desc(w, nu, order);
    bool *pick = calloc((size_t)nu, sizeof(bool));
    out->idx = malloc((size_t)d->n * sizeof(int64_t));
    if (!pick || !out->idx) {
        free(pick);
        return lt_set_error(LT_ERR_NOMEM, "select: out of memory");
    }
    for (int64_t i = 0; i < cfg->m; i++)
        pick[order[i]] = true;
    out->n = 0;
    for (int64_t i = 0; i < d->n; i++)
        if (pick[cfg->by_class ? d->y[i] : i])
            out->idx[out->n++] = i;
    free(pick);
    return LT_OK;
}

lt_status lt_select_worst(lt_model *m, const lt_dataset *d,
                          const lt_select_cfg *cfg, lt_select_result *out)
{
    memset(out, 0, sizeof *out);
    int64_t nu;
    lt_status st = lt_select_check(m, d, cfg, &nu);
    if (st != LT_OK)
        return st;
    double t0 = lt_clock_seconds();
    size_t nt = (size_t)m->params.n_total;
    float *theta0 = malloc(nt * sizeof(float));
    double *w = malloc((size_t)nu * sizeof(double));
    double *u = malloc((size_t)nu * sizeof(double));
    double *item = malloc((size_t)d->n * sizeof(double));
    int64_t *order = malloc((size_t)nu * sizeof(int64_t));
    out->objective = calloc((size_t)cfg->upper_epochs, sizeof(double));
    lt_sel_state s;
    st = lt_sel_alloc(&s, m, d, cfg->batch < d->n ? cfg->batch : (int)d->n);
    if (st == LT_OK && (!theta0 || !w || !u || !item || !order ||
                        !out->objective))
        st = lt_set_error(LT_ERR_NOMEM, "select: out of memory");
    if (st == LT_OK) {
        memcpy(theta0, m->params.theta, nt * sizeof(float));
        for (int64_t i = 0; i < nu; i++)
            w[i] = (double)cfg->m / (double)nu;
        if (!cfg->init_uniform && !cfg->by_class) {
            /* the official update_w: a random binary forget set of m */
            lt_permutation(order, nu, cfg->seed * 2654435761u + 0x5e1u);
            for (int64_t i = 0; i < nu; i++)
                w[order[i]] = i < cfg->m ? 1.0 : 0.0;
        }
    }
    for (int it = 0; st == LT_OK && it < cfg->upper_epochs; it++) {
        st = lt_upper(&s, m, d, cfg, theta0, w, nu, u, item, it,
                      &out->objective[it]);
        out->n_objective = it + 1;
        if (st == LT_OK && cfg->binarize_every > 0 &&
            (it + 1) % cfg->binarize_every == 0)
            lt_binarize(w, nu, cfg->m, order);
        if (st == LT_OK && cfg->progress)
            cfg->progress(cfg->ud, it + 1, cfg->upper_epochs,
                          out->objective[it]);
    }
    if (st == LT_OK)
        st = lt_select_output(d, w, nu, cfg, order, out);
    if (theta0) /* the caller gets the original weights back */
        memcpy(m->params.theta, theta0, nt * sizeof(float));
    out->seconds = lt_clock_seconds() - t0;
    lt_sel_free(&s);
    free(theta0);
    free(w);
    free(u);
    free(item);
    free(order);
    if (st != LT_OK)
        lt_select_result_free(out);
    return st;
}

void lt_select_result_free(lt_select_result *r)
{
    free(r->idx);
    free(r->objective);
    memset(r, 0, sizeof *r);
}

/* ---- summary ---------------------------------------------------------------- */

lt_status lt_select_save_json(const char *path, const char *model,
                              const lt_dataset *d, const lt_select_cfg *c,
                              const lt_select_result *r)
{
    if (!path || !d || !c || !r)
        return lt_set_error(LT_ERR_ARG, "select summary: NULL argument");
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", model ? model : "");
    cJSON_AddStringToObject(j, "data", d->name);
    cJSON_AddStringToObject(j, "objective_kind", c->easiest ? "easiest" :
                            "worst-case");
    cJSON_AddStringToObject(j, "by", c->by_class ? "class" : "item");
    cJSON_AddNumberToObject(j, "m", (double)c->m);
    cJSON_AddNumberToObject(j, "n_selected", (double)r->n);
    cJSON_AddNumberToObject(j, "upper_epochs", c->upper_epochs);
    cJSON_AddNumberToObject(j, "lower_steps", c->lower_steps);
    cJSON_AddNumberToObject(j, "lower_lr", c->lower_lr);
    cJSON_AddNumberToObject(j, "upper_lr", c->upper_lr);
    cJSON_AddNumberToObject(j, "gamma", c->gamma);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "seconds", r->seconds);
    cJSON_AddNumberToObject(j, "threads", lt_num_threads());
    lt_json_add_precision(j, LT_PRECISION_DEFAULT);
    cJSON *h = cJSON_AddArrayToObject(j, "class_histogram");
    for (int k = 0; k < d->classes; k++) {
        int64_t cnt = 0;
        for (int64_t i = 0; i < r->n; i++)
            cnt += d->y[r->idx[i]] == k;
        cJSON_AddItemToArray(h, cJSON_CreateNumber((double)cnt));
    }
    cJSON *ob = cJSON_AddArrayToObject(j, "objective");
    for (int i = 0; i < r->n_objective; i++)
        cJSON_AddItemToArray(ob, cJSON_CreateNumber(r->objective[i]));
    return lt_json_save(path, j, true);
}
