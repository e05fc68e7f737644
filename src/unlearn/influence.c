/*
 * influence.c - IU, the one-shot influence-function method of the
 * reference (Unlearn-Sparse / SalUn "wfisher"): v = n_f/n * (mean forget
 * gradient - mean retain gradient), F^-1 v by the reference's rank-1
 * WoodFisher recursion over per-sample retain gradients, and one step
 * theta += alpha * F^-1 v on the unmasked weights.
 */
#include "lethe/methods.h"

#include <stdlib.h>
#include <string.h>

static double lt_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

/* k <- the reference's WoodFisher estimate of F^-1 k from the per-sample
 * gradients of retain[0..count) (eval mode, in order): o starts as the
 * first gradient g; for each later g: t = o.g, k -= (k.g)/(N+t) o,
 * o -= t/(N+t) o, with N = n_damp. */
static lt_status lt_woodfisher(lt_model *m, const lt_dataset *d,
                               const int64_t *retain, int64_t count,
                               double n_damp, float *k, float *o)
{
    int64_t n = m->params.n_train;
    const float *g = m->params.grad;
    for (int64_t s = 0; s < count; s++) {
        lt_status st = lt_forget_gradient(m, d, retain + s, 1, 1, NULL);
        if (st != LT_OK)
            return st;
        if (s == 0) {
            memcpy(o, g, (size_t)n * sizeof(float));
            continue;
        }
        double t = lt_dot(o, g, n);
        float ck = (float)(lt_dot(k, g, n) / (n_damp + t));
        float co = (float)(t / (n_damp + t));
        for (int64_t i = 0; i < n; i++) {
            k[i] -= ck * o[i];
            o[i] -= co * o[i];
        }
    }
    return LT_OK;
}

lt_status lt_influence_unlearn(lt_model *m, const lt_dataset *d,
                               const lt_forget_set *f, float alpha,
                               int n_samples, const float *mask, int batch)
{
    if (n_samples < 1)
        return lt_set_error(LT_ERR_ARG, "iu: %d retain samples", n_samples);
    int64_t n = m->params.n_train;
    float *k = malloc((size_t)n * sizeof(float));
    float *o = malloc((size_t)n * sizeof(float));
    if (!k || !o) {
        free(k);
        free(o);
        return lt_set_error(LT_ERR_NOMEM, "iu: cannot allocate 2 x %lld "
                            "floats", (long long)n);
    }
    lt_status st = lt_forget_gradient(m, d, f->retain, f->n_retain, batch,
                                      NULL);
    if (st == LT_OK)
        memcpy(o, m->params.grad, (size_t)n * sizeof(float));
    if (st == LT_OK)
        st = lt_forget_gradient(m, d, f->forget, f->n_forget, batch, NULL);
    float share = (float)((double)f->n_forget / (double)f->n);
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        k[i] = share * (m->params.grad[i] - o[i]);
    /* The reference stops after the sample with index N + 1. */
    int64_t count = (int64_t)n_samples + 2 < f->n_retain
                    ? (int64_t)n_samples + 2 : f->n_retain;
    if (st == LT_OK)
        st = lt_woodfisher(m, d, f->retain, count, (double)n_samples, k, o);
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        m->params.theta[i] += alpha * k[i] * (mask ? mask[i] : 1.0f);
    lt_params_zero_grad(&m->params);
    free(k);
    free(o);
    return st;
}
