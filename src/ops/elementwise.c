/*
 * elementwise.c - binary add, sub, mul and div with NumPy broadcasting.
 *
 * A broadcast "plan" aligns the two shapes on their trailing dims, gives
 * every output dim the stride of each operand (0 where it is stretched),
 * drops size-1 dims and merges adjacent dims that every operand walks
 * contiguously. Same-shape operands so become one flat run, a bias-like
 * row vector over a matrix becomes [rows, cols] with strides 0/1, and
 * anything else is walked row by row (the innermost stride of each operand
 * is then 0 or 1). Backward reduces the gradient of a stretched operand
 * over its broadcast dims, summing in double.
 */
#include "lethe/ops.h"

#include <string.h>

#define BLOCK 4096
#define COLS 256
#define PAR_MIN 32768

/* Forward kernels assign y = a op b; gradient kernels accumulate
 * y += g * d(a op b)/d(operand). */
typedef enum {
    K_ADD, K_SUB, K_MUL, K_DIV,
    K_GRAD_ONE, K_GRAD_NEG, K_GRAD_MUL_A, K_GRAD_MUL_B, K_GRAD_DIV_A,
    K_GRAD_DIV_B
} bin_kernel;

static const char *const bin_name[] = {"add", "sub", "mul", "div"};

typedef struct {
    int nd;                               /* coalesced dims (>= 1) */
    int64_t shape[LT_MAX_DIMS];           /* coalesced output shape */
    int64_t st[2][LT_MAX_DIMS];           /* strides of a, b (0: stretched) */
    int64_t numel;
    int out_ndim;
    int64_t out_shape[LT_MAX_DIMS];       /* the real output shape */
} bplan;

/* Operand dim for output dim k of nd (1 where the operand has fewer). */
static int64_t aligned_dim(const lt_tensor *t, int nd, int k)
{
    int j = k - (nd - t->ndim);
    return j < 0 ? 1 : t->shape[j];
}

static lt_status bplan_shape(const lt_tensor *a, const lt_tensor *b,
                             const char *op, bplan *p)
{
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    p->out_ndim = nd;
    for (int k = 0; k < nd; k++) {
        int64_t da = aligned_dim(a, nd, k), db = aligned_dim(b, nd, k);
        if (da != db && da != 1 && db != 1) {
            char sa[96], sb[96];
            return lt_set_error(LT_ERR_SHAPE, "%s: shapes %s and %s do not "
                                "broadcast (%lld vs %lld at output dim %d)",
                                op, lt_shape_str(a, sa, sizeof sa),
                                lt_shape_str(b, sb, sizeof sb), (long long)da,
                                (long long)db, k);
        }
        p->out_shape[k] = da == 1 ? db : da;
    }
    p->numel = lt_shape_numel(nd, p->out_shape);
    return LT_OK;
}

static lt_status bplan_make(const lt_tensor *a, const lt_tensor *b,
                            const char *op, bplan *p)
{
    if (bplan_shape(a, b, op, p) != LT_OK)
        return lt_last_status();
    int nd = p->out_ndim, m = 0;
    int64_t full[2][LT_MAX_DIMS], run[2] = {1, 1};
    const lt_tensor *t[2] = {a, b};
    for (int k = nd - 1; k >= 0; k--) /* contiguous strides, 0 if stretched */
        for (int o = 0; o < 2; o++) {
            int64_t d = aligned_dim(t[o], nd, k);
            full[o][k] = d == 1 ? 0 : run[o];
            run[o] *= d;
        }
    for (int k = 0; k < nd; k++) {
        if (p->out_shape[k] == 1)
            continue; /* size-1 dims carry no elements */
        bool merge = m > 0;
        for (int o = 0; o < 2 && merge; o++)
            merge = p->st[o][m - 1] == full[o][k] * p->out_shape[k];
        if (merge) {
            p->shape[m - 1] *= p->out_shape[k];
            for (int o = 0; o < 2; o++)
                p->st[o][m - 1] = full[o][k];
        } else {
            p->shape[m] = p->out_shape[k];
            for (int o = 0; o < 2; o++)
                p->st[o][m] = full[o][k];
            m++;
        }
    }
    if (m == 0) { /* a single element */
        p->shape[0] = 1;
        p->st[0][0] = p->st[1][0] = 0;
        m = 1;
    }
    p->nd = m;
    return LT_OK;
}

/* One run of n outputs; sa, sb are 0 or 1 (constants once inlined). */
static inline __attribute__((always_inline)) void
bin_row_s(bin_kernel k, const float *a, int64_t sa, const float *b,
          int64_t sb, const float *g, float *y, int64_t n)
{
#define ROW(expr)                                                          \
    for (int64_t i = 0; i < n; i++) {                                      \
        float u = a[i * sa], w = b[i * sb];                                \
        y[i] = (expr);                                                     \
    }                                                                      \
    break
#define GROW(expr)                                                         \
    for (int64_t i = 0; i < n; i++) {                                      \
        float u = a[i * sa], w = b[i * sb], gi = g[i];                     \
        (void)u;                                                           \
        (void)w;                                                           \
        y[i] += (expr);                                                    \
    }                                                                      \
    break
    switch (k) {
    case K_ADD:        ROW(u + w);
    case K_SUB:        ROW(u - w);
    case K_MUL:        ROW(u * w);
    case K_DIV:        ROW(u / w);
    case K_GRAD_ONE:   GROW(gi);
    case K_GRAD_NEG:   GROW(-gi);
    case K_GRAD_MUL_A: GROW(gi * w);              /* d(u*w)/du */
    case K_GRAD_MUL_B: GROW(gi * u);              /* d(u*w)/dw */
    case K_GRAD_DIV_A: GROW(gi / w);              /* d(u/w)/du */
    case K_GRAD_DIV_B: GROW(-gi * u / (w * w));   /* d(u/w)/dw */
    }
#undef ROW
#undef GROW
}

static void bin_row(bin_kernel k, const float *a, int64_t sa, const float *b,
                    int64_t sb, const float *g, float *y, int64_t n)
{
    if (sa && sb)
        bin_row_s(k, a, 1, b, 1, g, y, n);
    else if (sa)
        bin_row_s(k, a, 1, b, 0, g, y, n);
    else if (sb)
        bin_row_s(k, a, 0, b, 1, g, y, n);
    else
        bin_row_s(k, a, 0, b, 0, g, y, n);
}

/* Offsets of a and b at the start of row r (over all dims but the last). */
static void row_offsets(const bplan *p, int64_t r, int64_t *oa, int64_t *ob)
{
    *oa = *ob = 0;
    for (int d = p->nd - 2; d >= 0 && r > 0; d--) {
        int64_t i = r % p->shape[d];
        r /= p->shape[d];
        *oa += i * p->st[0][d];
        *ob += i * p->st[1][d];
    }
}

/* Apply kernel k over the whole output (y and g are output-shaped). */
static void bin_run(const bplan *p, bin_kernel k, const float *a,
                    const float *b, const float *g, float *y)
{
    if (p->numel == 0)
        return;
    int64_t len = p->shape[p->nd - 1], rows = p->numel / len;
    int64_t nc = (len + BLOCK - 1) / BLOCK, sa = p->st[0][p->nd - 1],
            sb = p->st[1][p->nd - 1];
#pragma omp parallel for schedule(static) if (p->numel > PAR_MIN)
    for (int64_t t = 0; t < rows * nc; t++) {
        int64_t r = t / nc, c0 = (t % nc) * BLOCK, oa, ob;
        int64_t n = len - c0 < BLOCK ? len - c0 : BLOCK, oy = r * len + c0;
        row_offsets(p, r, &oa, &ob);
        bin_row(k, a + oa + c0 * sa, sa, b + ob + c0 * sb, sb,
                g ? g + oy : NULL, y + oy, n);
    }
}

/* gx += sign * (t summed over the dims where operand `which` is stretched),
 * case [rows, cols] with the operand a row vector: column blocks. */
static void reduce_rows(const bplan *p, const float *t, float sign, float *gx)
{
    int64_t rows = p->shape[0], cols = p->shape[1];
    int64_t nblk = (cols + COLS - 1) / COLS;
#pragma omp parallel for schedule(static) if (p->numel > PAR_MIN)
    for (int64_t blk = 0; blk < nblk; blk++) {
        int64_t c0 = blk * COLS, n = cols - c0 < COLS ? cols - c0 : COLS;
        double acc[COLS] = {0};
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < n; j++)
                acc[j] += t[r * cols + c0 + j];
        for (int64_t j = 0; j < n; j++)
            gx[c0 + j] += sign * (float)acc[j];
    }
}

/* General case: each operand element sums its reduced sub-array. */
static void reduce_general(const bplan *p, int which, const float *t,
                           float sign, float *gx, int64_t xn)
{
    int64_t os[LT_MAX_DIMS], run = 1, rcount = 1;
    int kd[LT_MAX_DIMS], rd[LT_MAX_DIMS], nk = 0, nr = 0;
    for (int d = p->nd - 1; d >= 0; d--) {
        os[d] = run;
        run *= p->shape[d];
    }
    for (int d = 0; d < p->nd; d++) {
        if (p->st[which][d])
            kd[nk++] = d;
        else {
            rd[nr++] = d;
            rcount *= p->shape[d];
        }
    }
    int64_t in_n = p->shape[rd[nr - 1]], in_s = os[rd[nr - 1]];
#pragma omp parallel for schedule(static) if (p->numel > PAR_MIN)
    for (int64_t j = 0; j < xn; j++) {
        int64_t base = 0, rem = j;
        for (int q = nk - 1; q >= 0; q--) {
            base += rem % p->shape[kd[q]] * os[kd[q]];
            rem /= p->shape[kd[q]];
        }
        double acc = 0;
        for (int64_t outer = 0; outer < rcount / in_n; outer++) {
            int64_t off = base, r = outer;
            for (int q = nr - 2; q >= 0; q--) {
                off += r % p->shape[rd[q]] * os[rd[q]];
                r /= p->shape[rd[q]];
            }
            for (int64_t i = 0; i < in_n; i++)
                acc += t[off + i * in_s];
        }
        gx[j] += sign * (float)acc;
    }
}

static void reduce_to(const bplan *p, int which, const float *t, float sign,
                      float *gx, int64_t xn)
{
    if (p->numel == 0)
        return;
    if (p->nd == 2 && !p->st[which][0] && p->st[which][1])
        reduce_rows(p, t, sign, gx);
    else
        reduce_general(p, which, t, sign, gx, xn);
}

/* The gradient kernel of operand `which` for forward op, and its sign when
 * it is a plain +-g (then no temporary is needed to reduce it). */
static bin_kernel grad_kernel(bin_kernel op, int which)
{
    static const bin_kernel k[4][2] = {
        {K_GRAD_ONE, K_GRAD_ONE}, {K_GRAD_ONE, K_GRAD_NEG},
        {K_GRAD_MUL_A, K_GRAD_MUL_B}, {K_GRAD_DIV_A, K_GRAD_DIV_B}};
    return k[op][which];
}

static lt_status binary_backward(lt_ctx *c, lt_node *n)
{
    bplan p;
    bin_kernel op = (bin_kernel)n->iarg[0];
    if (bplan_make(n->in[0], n->in[1], bin_name[op], &p) != LT_OK)
        return lt_last_status();
    const float *a = n->in[0]->data, *b = n->in[1]->data, *gy = n->out->grad;
    for (int which = 0; which < 2; which++) {
        float *gx = lt_in_grad(c, n, which);
        if (!gx)
            continue;
        bin_kernel k = grad_kernel(op, which);
        int64_t xn = n->in[which]->numel;
        if (xn == p.numel) { /* not stretched: same element order as out */
            bin_run(&p, k, a, b, gy, gx);
            continue;
        }
        const float *t = gy;
        float sign = k == K_GRAD_NEG ? -1.0f : 1.0f;
        if (k != K_GRAD_ONE && k != K_GRAD_NEG) {
            float *tmp = lt_alloc_zero(c, (size_t)p.numel * sizeof(float));
            if (!tmp)
                return lt_last_status();
            bin_run(&p, k, a, b, gy, tmp);
            t = tmp;
        }
        reduce_to(&p, which, t, sign, gx, xn);
    }
    return LT_OK;
}

static lt_tensor *binary(lt_ctx *c, lt_tensor *a, lt_tensor *b, bin_kernel op)
{
    if (!a || !b)
        return NULL;
    bplan p;
    if (bplan_make(a, b, bin_name[op], &p) != LT_OK)
        return NULL;
    lt_tensor *y = lt_new(c, p.out_ndim, p.out_shape);
    if (!y)
        return NULL;
    bin_run(&p, op, a->data, b->data, NULL, y->data);
    lt_tensor *in[2] = {a, b};
    if (lt_needs_grad(c, 2, in)) {
        lt_node *n = lt_record(c, y, binary_backward, bin_name[op], 2, in);
        if (!n)
            return NULL;
        n->iarg[0] = op;
    }
    return y;
}

lt_tensor *lt_add(lt_ctx *c, lt_tensor *a, lt_tensor *b)
{
    return binary(c, a, b, K_ADD);
}

lt_tensor *lt_sub(lt_ctx *c, lt_tensor *a, lt_tensor *b)
{
    return binary(c, a, b, K_SUB);
}

lt_tensor *lt_mul(lt_ctx *c, lt_tensor *a, lt_tensor *b)
{
    return binary(c, a, b, K_MUL);
}

lt_tensor *lt_div(lt_ctx *c, lt_tensor *a, lt_tensor *b)
{
    return binary(c, a, b, K_DIV);
}
