/*
 * lethe/unlearn.h - the unlearning layer: forget sets (which training items
 * to forget: a seeded random share, a whole class, or a list from a file,
 * split into sorted forget and retain index lists, and saved one index per
 * line so every result can record the set it used) and weight masks over a
 * model's flat trainable-parameter vector (SalUn's saliency mask: the top
 * fraction of |gradient of CE on the forget set| ranked globally; a seeded
 * random mask of the same size), given to lt_optim_step as its mask.
 */
#ifndef LETHE_UNLEARN_H
#define LETHE_UNLEARN_H

#include "lethe/data.h"
#include "lethe/models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- forget sets -------------------------------------------------------- */

typedef enum {
    LT_FORGET_RANDOM = 0, /* "random:10%" or "random:6000" */
    LT_FORGET_CLASS,      /* "class:K" */
    LT_FORGET_INDICES     /* "indices:FILE" (or built by lt_forget_from_list) */
} lt_forget_kind;

typedef struct {
    lt_forget_kind kind;
    int cls;              /* the class for LT_FORGET_CLASS, else -1 */
    char spec[512];       /* the spec it was made from (truncated if longer) */
    int64_t n;            /* size of the training set it splits */
    int64_t n_forget, n_retain; /* both >= 1, n_forget + n_retain == n */
    int64_t *forget;      /* [n_forget] training indices, ascending */
    int64_t *retain;      /* [n_retain] the others, ascending */
} lt_forget_set;

/* Split the training set train by spec:
 *   random:P%   a seeded random round(P/100 * n) items, 0 < P <= 100;
 *   random:K    a seeded random K items, 1 <= K <= n (whole number);
 *   class:K     every item with label K, 0 <= K < train->classes;
 *   indices:F   the training indices listed in file F, one per line; blank
 *               lines and '#' comments (whole line or after an index) are
 *               allowed; junk, negative, out-of-range (>= n) or repeated
 *               indices are LT_ERR_FORMAT naming F:line.
 * seed is used by random only (lt_permutation(n, seed), first K items).
 * Errors (LT_ERR_ARG, message names the spec): unknown kind, a value out of
 * range, an empty forget set, a forget set that is the whole training set
 * (nothing retained). On error *out is left empty (safe to free). */
LT_API lt_status lt_forget_select(const char *spec, const lt_dataset *train,
                                  uint64_t seed, lt_forget_set *out);
/* The file a spec reads: FILE of "indices:FILE", else NULL. */
LT_API const char *lt_forget_spec_file(const char *spec);
/* A forget set from an explicit list idx[0..k) (any order) of indices into
 * a training set of n items, e.g. a worst-case selection. Out-of-range and
 * repeated indices, k == 0 and k == n are LT_ERR_ARG. */
LT_API lt_status lt_forget_from_list(const int64_t *idx, int64_t k, int64_t n,
                                     lt_forget_kind kind, const char *spec,
                                     lt_forget_set *out);
LT_API void lt_forget_set_free(lt_forget_set *f);
/* Write the forget indices to path, one per line, after a '#' comment line
 * naming the spec and the sizes; readable back with "indices:PATH".
 * Atomic: written through lt_atomic_open (io.h), then renamed. */
LT_API lt_status lt_forget_save(const lt_forget_set *f, const char *path);

/* ---- weight masks ------------------------------------------------------- */

typedef enum {
    LT_MASK_NONE = 0,     /* "none": every weight free (pass NULL to optim) */
    LT_MASK_SALIENCY,     /* "saliency:R" */
    LT_MASK_RANDOM,       /* "random:R" */
    LT_MASK_SOFT          /* "soft:R": soft saliency, a gradient scale */
} lt_mask_kind;

typedef struct {
    lt_mask_kind kind;
    double ratio;         /* R in (0, 1]; 1 for none */
} lt_mask_spec;

/* Parse "none", "saliency:R", "random:R" or "soft:R" with R in (0, 1]. Errors
 * (LT_ERR_ARG) name the spec. */
LT_API lt_status lt_mask_parse(const char *spec, lt_mask_spec *out);
/* The spec's name as lt_mask_parse reads it: "none", "saliency:0.5", ...
 * (the ratio printed with %g). */
LT_API void lt_mask_format(const lt_mask_spec *s, char *buf, size_t n);
/* The number of ones a mask of ratio r over n entries has: round(r * n). */
LT_API int64_t lt_mask_count(int64_t n, double ratio);
/* The global top-k mask: mask[i] = 1 for the k largest x[i] (by |x[i]|
 * when by_abs), ties to the lower index, else 0; O(n) time (two radix-
 * histogram passes) and 512 KiB of scratch. 0 <= k <= n. LT_ERR_NAN
 * naming the first NaN entry (the mask is then untouched). */
LT_API lt_status lt_mask_top_k(const float *x, int64_t n, int64_t k,
                               bool by_abs, float *mask);
/* mask[i] = 1 for the round(ratio * n) entries of largest |g[i]|, ranked
 * over all n entries (equal |g| ranked by lower index first), else 0.
 * O(n) time (two 16-bit radix histogram passes on the float bits), no copy
 * of g. LT_ERR_NAN if some g[i] is NaN; LT_ERR_ARG on a bad ratio. */
LT_API lt_status lt_mask_saliency(const float *g, int64_t n, double ratio,
                                  float *mask);
/* mask[i] = 1 for exactly round(ratio * n) entries chosen uniformly at
 * random (seeded; sequential selection sampling, O(n), no extra memory). */
LT_API lt_status lt_mask_random(int64_t n, double ratio, uint64_t seed,
                                float *mask);
/* Soft saliency, a gradient scale of Lethe's own (not a published method;
 * NOT SalUn's soft-thresholding variant, which is the proximal shrink
 * below, method salun-soft): tau = the smallest |g| among the
 * round(ratio * n) largest; mask[i] = min(1, |g[i]| / tau) (all ones if
 * tau == 0). Not a 0/1 mask: it scales the gradient, nothing is frozen. */
LT_API lt_status lt_mask_soft(const float *g, int64_t n, double ratio,
                              float *mask);
/* SalUn's soft thresholding (RL_proximal, Unlearn-Saliency
 * Classification/unlearn/RL_pro.py), the shrink after every step: with
 * d = theta - theta0 and tau = the k-th smallest |d| (k >= 1; k < 1 or
 * k > n: nothing changes), theta[i] -= tau where d > tau, += tau where
 * d < -tau, = theta0[i] elsewhere (the official expression, float for
 * float). work: n floats of scratch or NULL (then allocated). *tau_out
 * (may be NULL) receives tau. */
LT_API lt_status lt_proximal_shrink(float *theta, const float *theta0,
                                    int64_t n, int64_t k, float *work,
                                    float *tau_out);
/* RL_proximal's k at 0-based epoch e: int(ratio * ((total - (e * len +
 * 1)) / total * n)) with total = epochs * len, len = batches per epoch of
 * the forget loader plus the retain loader (constant within an epoch on
 * the official CIFAR path); 0 when negative. */
LT_API int64_t lt_proximal_count(double ratio, int epochs, int64_t len,
                                 int e, int64_t n);
/* Fill mask[0..n) as spec says: none gives all ones, saliency and soft
 * need g (LT_ERR_ARG if NULL), random uses seed. */
LT_API lt_status lt_mask_build(const lt_mask_spec *spec, const float *g,
                               int64_t n, uint64_t seed, float *mask);

/* The saliency input: zero m->params.grad, then accumulate into it the
 * gradient of the MEAN cross-entropy over the items idx[0..k) of d, with
 * the model in eval mode (BatchNorm uses running statistics, nothing is
 * updated), batch items at a time (batch <= 0: 256). The mean loss is
 * stored in *loss when non-NULL. d must have the model's input shape. */
LT_API lt_status lt_forget_gradient(lt_model *m, const lt_dataset *d,
                                    const int64_t *idx, int64_t k, int batch,
                                    double *loss);

#ifdef __cplusplus
}
#endif
#endif
