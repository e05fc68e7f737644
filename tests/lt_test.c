/*
 * lt_test.c - implementation of the unit-test harness declared in
 * lt_test.h: registry and runner, closeness checks, the finite-difference
 * gradient checker, the golden-file reader and small file helpers.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "lt_test.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define LT_MAX_TESTS 512

static struct {
    const char *name;
    lt_test_fn fn;
} lt_tests[LT_MAX_TESTS];
static int lt_n_tests;
static int lt_cur_failures;
static const char *lt_cur_name = "";

void lt_test_register(const char *name, lt_test_fn fn)
{
    if (lt_n_tests < LT_MAX_TESTS) {
        lt_tests[lt_n_tests].name = name;
        lt_tests[lt_n_tests].fn = fn;
        lt_n_tests++;
    }
}

static int lt_expect_depth, lt_expected;

void lt_test_expect_fail_begin(void)
{
    lt_expect_depth = 1;
    lt_expected = 0;
}

int lt_test_expect_fail_end(void)
{
    lt_expect_depth = 0;
    return lt_expected;
}

void lt_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (lt_expect_depth) {
        lt_expected++;
        return;
    }
    lt_cur_failures++;
    if (lt_cur_failures > 20)
        return; /* one broken test should not flood the log */
    fprintf(stderr, "FAIL %s (%s:%d): ", lt_cur_name, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int lt_test_run_all(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < lt_n_tests; i++) {
        if (argc > 1 && !strstr(lt_tests[i].name, argv[1]))
            continue;
        lt_cur_name = lt_tests[i].name;
        lt_cur_failures = 0;
        lt_clear_error();
        lt_tests[i].fn();
        if (lt_cur_failures) {
            failed++;
            printf("  FAIL %s (%d checks)\n", lt_cur_name, lt_cur_failures);
        } else {
            passed++;
            printf("  ok   %s\n", lt_cur_name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (passed ? 0 : 1);
}

bool lt_check_close(const char *file, int line, const char *what,
                    const float *got, const float *want, int64_t n,
                    double rtol)
{
    if (!got || !want) {
        lt_test_fail(file, line, "%s: missing data (got=%p want=%p)", what,
                     (const void *)got, (const void *)want);
        return false;
    }
    double maxw = 0;
    for (int64_t i = 0; i < n; i++)
        if (fabs(want[i]) > maxw)
            maxw = fabs(want[i]);
    int64_t worst = -1, bad = 0;
    double worst_r = 0;
    for (int64_t i = 0; i < n; i++) {
        double lim = rtol * (fabs(want[i]) + 0.01 * maxw) + 1e-7;
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= lim)) { /* also catches NaN */
            bad++;
            double r = d / lim;
            if (worst < 0 || r > worst_r || isnan(d)) {
                worst = i;
                worst_r = r;
            }
        }
    }
    if (bad) {
        lt_test_fail(file, line, "%s: %lld of %lld elements differ; worst [%lld] "
                     "got %.8g want %.8g", what, (long long)bad, (long long)n,
                     (long long)worst, got[worst], want[worst]);
        return false;
    }
    return true;
}

bool lt_check_rel_l2(const char *file, int line, const char *what,
                     const float *got, const float *want, int64_t n,
                     double tol)
{
    double d = 0, w = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = (double)got[i] - want[i];
        d += e * e;
        w += (double)want[i] * want[i];
    }
    if (!(sqrt(d) <= tol * sqrt(w))) { /* also catches NaN */
        lt_test_fail(file, line, "%s: relative L2 error %.3g > %.3g", what,
                     w > 0 ? sqrt(d / w) : sqrt(d), tol);
        return false;
    }
    return true;
}

/* ---- finite differences --------------------------------------------------- */

lt_tensor *lt_gc_input(int ndim, const int64_t *shape, bool requires_grad,
                       uint64_t seed, float lo, float hi)
{
    lt_tensor *t = calloc(1, sizeof *t);
    int64_t n = lt_shape_numel(ndim, shape);
    float *d = calloc((size_t)n + 1, sizeof(float));
    float *g = requires_grad ? calloc((size_t)n + 1, sizeof(float)) : NULL;
    lt_rng r;
    lt_rng_init(&r, seed);
    lt_rng_fill_uniform(&r, d, n, lo, hi);
    lt_tensor_wrap(t, d, g, ndim, shape);
    return t;
}

void lt_gc_input_free(lt_tensor *t)
{
    if (!t)
        return;
    free(t->data);
    free(t->grad);
    free(t);
}

static double lt_gc_eval(lt_ctx *c, lt_gc_fn fn, void *ud, lt_tensor **in,
                         const float *r, int64_t *n_out)
{
    lt_ctx_reset(c);
    bool old = lt_set_grad_enabled(c, false);
    lt_tensor *y = fn(c, in, ud);
    lt_set_grad_enabled(c, old);
    if (!y)
        return NAN;
    double s = 0;
    for (int64_t i = 0; i < y->numel; i++)
        s += (double)y->data[i] * r[i];
    if (n_out)
        *n_out = y->numel;
    return s;
}

static bool lt_gc_one_input(const char *file, int line, const char *what,
                            lt_ctx *c, lt_gc_fn fn, void *ud, lt_tensor **in,
                            int k, const float *r, double eps, double tol,
                            int max_checks)
{
    lt_tensor *t = in[k];
    int64_t n = t->numel, step = n > max_checks ? n / max_checks : 1;
    int bad = 0;
    for (int64_t i = 0; i < n; i += step) {
        float keep = t->data[i];
        t->data[i] = keep + (float)eps;
        double lp = lt_gc_eval(c, fn, ud, in, r, NULL);
        t->data[i] = keep - (float)eps;
        double lm = lt_gc_eval(c, fn, ud, in, r, NULL);
        t->data[i] = keep;
        double h = ((double)(keep + (float)eps) - (double)(keep - (float)eps));
        double num = (lp - lm) / h, ana = t->grad[i];
        double lim = tol * fmax(1.0, fmax(fabs(num), fabs(ana)));
        if (!(fabs(num - ana) <= lim)) {
            if (bad++ < 3)
                lt_test_fail(file, line, "%s: input %d element %lld: analytic "
                             "%.6g, numeric %.6g", what, k, (long long)i, ana,
                             num);
        }
    }
    return bad == 0;
}

bool lt_gradcheck(const char *file, int line, const char *what, lt_gc_fn fn,
                  void *ud, int n_in, lt_tensor **in, double eps, double tol,
                  int max_checks)
{
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    if (!c) {
        lt_test_fail(file, line, "%s: no context", what);
        return false;
    }
    for (int k = 0; k < n_in; k++)
        if (in[k]->grad)
            memset(in[k]->grad, 0, (size_t)in[k]->numel * sizeof(float));
    lt_tensor *y = fn(c, in, ud);
    if (!y) {
        lt_test_fail(file, line, "%s: forward failed: %s", what,
                     lt_last_error());
        lt_ctx_free(c);
        return false;
    }
    /* The projection r lives outside the arena: evaluations reset it. */
    float *r = malloc((size_t)y->numel * sizeof(float));
    lt_rng rr;
    lt_rng_init(&rr, 12345);
    lt_rng_fill_uniform(&rr, r, y->numel, -1.0f, 1.0f);
    bool ok = true;
    if (lt_backward_with(c, y, r) != LT_OK) {
        lt_test_fail(file, line, "%s: backward failed: %s", what,
                     lt_last_error());
        ok = false;
    }
    for (int k = 0; ok && k < n_in; k++)
        if (in[k]->grad)
            ok &= lt_gc_one_input(file, line, what, c, fn, ud, in, k, r, eps,
                                  tol, max_checks);
    free(r);
    lt_ctx_free(c);
    return ok;
}

/* ---- golden files ----------------------------------------------------------- */

static bool lt_read_exact(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n;
}

static bool lt_golden_read_entry(FILE *f, lt_golden_entry *e)
{
    uint32_t len, nd;
    if (!lt_read_exact(f, &len, 4) || len >= sizeof e->name ||
        !lt_read_exact(f, e->name, len))
        return false;
    e->name[len] = '\0';
    if (!lt_read_exact(f, &nd, 4) || nd > LT_MAX_DIMS)
        return false;
    e->ndim = (int)nd;
    e->numel = 1;
    for (uint32_t d = 0; d < nd; d++) {
        if (!lt_read_exact(f, &e->shape[d], 8) || e->shape[d] < 0)
            return false;
        e->numel *= e->shape[d];
    }
    e->data = malloc((size_t)e->numel * sizeof(float) + 4);
    return e->data && lt_read_exact(f, e->data, (size_t)e->numel * 4);
}

lt_golden *lt_golden_load(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", LT_GOLDEN_DIR, file);
    FILE *f = fopen(path, "rb");
    char magic[4];
    uint32_t count;
    if (!f || !lt_read_exact(f, magic, 4) || memcmp(magic, "LTG1", 4) ||
        !lt_read_exact(f, &count, 4) || count > 100000) {
        lt_test_fail(__FILE__, __LINE__, "cannot read golden file %s", path);
        if (f)
            fclose(f);
        return NULL;
    }
    lt_golden *g = calloc(1, sizeof *g);
    g->e = calloc(count, sizeof *g->e);
    for (uint32_t i = 0; i < count; i++, g->count++)
        if (!lt_golden_read_entry(f, &g->e[i])) {
            lt_test_fail(__FILE__, __LINE__, "golden file %s: entry %u is "
                         "truncated or corrupt", path, i);
            free(g->e[i].data);
            break;
        }
    fclose(f);
    return g;
}

void lt_golden_free(lt_golden *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->count; i++)
        free(g->e[i].data);
    free(g->e);
    free(g);
}

const lt_golden_entry *lt_golden_get(const lt_golden *g, const char *name)
{
    for (int i = 0; g && i < g->count; i++)
        if (!strcmp(g->e[i].name, name))
            return &g->e[i];
    lt_test_fail(__FILE__, __LINE__, "golden entry '%s' not found", name);
    return NULL;
}

lt_tensor *lt_golden_tensor(lt_ctx *c, const lt_golden *g, const char *name,
                            bool requires_grad)
{
    const lt_golden_entry *e = lt_golden_get(g, name);
    if (!e)
        return NULL;
    int64_t one = 1;
    lt_tensor *t = e->ndim ? lt_from_data(c, e->ndim, e->shape, e->data)
                           : lt_from_data(c, 1, &one, e->data);
    if (t && requires_grad)
        lt_requires_grad(t);
    return t;
}

int32_t *lt_golden_ints(lt_ctx *c, const lt_golden *g, const char *name)
{
    const lt_golden_entry *e = lt_golden_get(g, name);
    if (!e)
        return NULL;
    int32_t *v = lt_alloc(c, (size_t)e->numel * sizeof(int32_t) + 4);
    for (int64_t i = 0; v && i < e->numel; i++)
        v[i] = (int32_t)lrintf(e->data[i]);
    return v;
}

bool lt_golden_check(const char *file, int line, const lt_golden *g,
                     const char *name, const float *got, int64_t n,
                     double rtol)
{
    const lt_golden_entry *e = lt_golden_get(g, name);
    if (!e)
        return false;
    if (e->numel != n) {
        lt_test_fail(file, line, "%s: %lld values, golden has %lld", name,
                     (long long)n, (long long)e->numel);
        return false;
    }
    return lt_check_close(file, line, name, got, e->data, n, rtol);
}

bool lt_test_tmp_left(const char *path)
{
    char pat[4200];
    if (snprintf(pat, sizeof pat, "%s.tmp*", path) >= (int)sizeof pat)
        return false;
    glob_t g;
    int r = glob(pat, GLOB_NOSORT, NULL, &g);
    bool left = r == 0 && g.gl_pathc > 0;
    if (r == 0)
        globfree(&g);
    return left;
}

/* ---- the temporary folder ---------------------------------------------- */

static char lt_tmpdir[64];

static int lt_tmp_rm(const char *path, const struct stat *st, int flag,
                     struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

__attribute__((destructor)) static void lt_tmp_cleanup(void)
{
    if (!lt_tmpdir[0])
        return;
    chmod(lt_tmpdir, 0777); /* a test may have made it read-only */
    nftw(lt_tmpdir, lt_tmp_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *lt_test_tmpdir(void)
{
    if (!lt_tmpdir[0]) {
        snprintf(lt_tmpdir, sizeof lt_tmpdir, "/tmp/lt_test.XXXXXX");
        if (!mkdtemp(lt_tmpdir))
            lt_tmpdir[0] = 0;
    }
    return lt_tmpdir;
}

/* ---- a small real data set ---------------------------------------------- */

/* The first n items of a real Fashion-MNIST IDX file (gzip) as a raw IDX
 * file: header skip bytes, n records of rec bytes. */
static bool lt_idx_head(const char *src, const char *dst, int magic, int n,
                        int skip, int rec)
{
    gzFile in = gzopen(src, "rb");
    FILE *out = fopen(dst, "wb");
    unsigned char hdr[16], *buf = malloc((size_t)n * (size_t)rec);
    bool ok = in && out && buf && gzread(in, hdr, (unsigned)skip) == skip &&
              gzread(in, buf, (unsigned)(n * rec)) == n * rec;
    unsigned be[4] = {(unsigned)magic, (unsigned)n, 28, 28};
    for (int i = 0; ok && i < skip / 4; i++) {
        unsigned char b[4] = {be[i] >> 24, be[i] >> 16, be[i] >> 8, be[i]};
        ok = fwrite(b, 1, 4, out) == 4;
    }
    ok = ok && fwrite(buf, 1, (size_t)n * (size_t)rec, out) ==
               (size_t)n * (size_t)rec;
    if (in)
        gzclose(in);
    if (out)
        ok = fclose(out) == 0 && ok;
    free(buf);
    return ok;
}

/* fashion-mnist:DIR with the first 1000 training and 300 test items (the
 * MIA's SVM scales with the set sizes). */
const char *lt_test_small_fmnist(char *spec, size_t n)
{
    const char *env = getenv("LETHE_DATA");
    char src[256], dir[128], a[512], b[512];
    snprintf(src, sizeof src, "%s/fashion-mnist",
             env ? env : "/usr/share/datasets");
    snprintf(dir, sizeof dir, "%s/fm", lt_test_tmpdir());
    if (mkdir(dir, 0777) && errno != EEXIST)
        return NULL;
    const char *names[2] = {"train", "t10k"};
    int counts[2] = {1000, 300};
    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s-images-idx3-ubyte.gz", src, names[i]);
        snprintf(b, sizeof b, "%s/%s-images-idx3-ubyte", dir, names[i]);
        if (!lt_idx_head(a, b, 0x803, counts[i], 16, 784))
            return NULL;
        snprintf(a, sizeof a, "%s/%s-labels-idx1-ubyte.gz", src, names[i]);
        snprintf(b, sizeof b, "%s/%s-labels-idx1-ubyte", dir, names[i]);
        if (!lt_idx_head(a, b, 0x801, counts[i], 8, 1))
            return NULL;
    }
    snprintf(spec, n, "fashion-mnist:%s", dir);
    return spec;
}

const char *lt_test_path(const char *name)
{
    static char buf[8][512];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", lt_test_tmpdir(), name);
    return p;
}

bool lt_test_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

const char *lt_test_json_precision(const char *path, const char *want)
{
    static char why[768];
    char *text = NULL;
    cJSON *j = lt_read_file(path, &text, NULL) == LT_OK ? cJSON_Parse(text)
                                                        : NULL;
    free(text);
    const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "precision"));
    const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(j, "backend"));
    bool ok = p && b && !strcmp(p, want) && !strcmp(b, lt_backend_name());
    snprintf(why, sizeof why, "%s: precision %s (want %s), backend %s "
             "(want %s)", path, p ? p : "(none)", want, b ? b : "(none)",
             lt_backend_name());
    cJSON_Delete(j);
    return ok ? NULL : why;
}
