/*
 * test_unlearn.c - forget sets (random counts, seeds and rounding, class
 * selection on a hand-made dataset, index files with comments and their
 * errors at file:line, the writer's round trip) and weight masks (saliency
 * on hand vectors with ties, against a full sort on a large vector, random
 * mask counts and seeds, spec parsing), and the forget-set gradient of a
 * tiny MLP against central differences of the mean cross-entropy.
 */
#include "lt_test.h"
#include "lethe/unlearn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A dataset of n 1x2x2 items with labels y (copied) and fixed pixels. */
static lt_dataset hand_data(int64_t n, const int32_t *y, int classes)
{
    lt_dataset d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "hand");
    d.n = n;
    d.c = 1;
    d.h = d.w = 2;
    d.classes = classes;
    d.x = malloc((size_t)(n * 4) * sizeof(float));
    d.y = malloc((size_t)n * sizeof(int32_t));
    lt_rng r;
    lt_rng_init(&r, 7);
    lt_rng_fill_uniform(&r, d.x, n * 4, -1, 1);
    for (int64_t i = 0; i < n; i++)
        d.y[i] = y ? y[i] : (int32_t)(i % classes);
    return d;
}

static void hand_free(lt_dataset *d)
{
    free(d->x);
    free(d->y);
}

/* Forget and retain are ascending, disjoint and cover 0..n-1. */
static bool partition_ok(const lt_forget_set *f)
{
    if (f->n_forget + f->n_retain != f->n)
        return false;
    int64_t a = 0, b = 0;
    for (int64_t i = 0; i < f->n; i++) {
        if (a < f->n_forget && f->forget[a] == i)
            a++;
        else if (b < f->n_retain && f->retain[b] == i)
            b++;
        else
            return false;
    }
    return true;
}

static bool msg_has(const char *s)
{
    return strstr(lt_last_error(), s) != NULL;
}

LT_TEST(random_forget_counts_and_seeds)
{
    lt_dataset d = hand_data(1000, NULL, 10);
    const char *specs[] = {"random:10%", "random:37", "random:12.5%",
                           "random:999", "random:0.05%"};
    const int64_t want[] = {100, 37, 125, 999, 1}; /* 0.5 rounds up */
    for (int t = 0; t < 5; t++) {
        lt_forget_set f;
        LT_CHECK(lt_forget_select(specs[t], &d, 1, &f) == LT_OK, "%s: %s",
                 specs[t], lt_last_error());
        LT_CHECK(f.n_forget == want[t] && f.n_retain == 1000 - want[t] &&
                     f.kind == LT_FORGET_RANDOM && f.cls == -1 &&
                     !strcmp(f.spec, specs[t]),
                 "%s: %lld forget", specs[t], (long long)f.n_forget);
        LT_CHECK(partition_ok(&f), "%s: not a partition", specs[t]);
        lt_forget_set_free(&f);
    }
    /* The set is the first k of lt_permutation(n, seed), sorted. */
    int64_t perm[1000];
    lt_permutation(perm, 1000, 42);
    lt_forget_set a, b, c;
    LT_CHECK(lt_forget_select("random:10%", &d, 42, &a) == LT_OK, "a");
    LT_CHECK(lt_forget_select("random:100", &d, 42, &b) == LT_OK, "b");
    LT_CHECK(lt_forget_select("random:10%", &d, 43, &c) == LT_OK, "c");
    uint8_t in[1000] = {0};
    for (int i = 0; i < 100; i++)
        in[perm[i]] = 1;
    int hits = 0, same_c = 0;
    for (int i = 0; i < 100; i++) {
        hits += in[a.forget[i]];
        same_c += a.forget[i] == c.forget[i];
    }
    LT_CHECK(hits == 100, "forget set is not the permutation's head");
    LT_CHECK(!memcmp(a.forget, b.forget, 100 * sizeof(int64_t)),
             "10%% and 100 items differ with one seed");
    LT_CHECK(same_c < 100, "seeds 42 and 43 give the same set");
    lt_forget_set_free(&a);
    lt_forget_set_free(&b);
    lt_forget_set_free(&c);
    hand_free(&d);
}

LT_TEST(random_forget_errors)
{
    lt_dataset d = hand_data(1000, NULL, 10);
    const char *bad[] = {"random:0%", "random:150%", "random:0", "random:1001",
                         "random:100%", "random:1000", "random:0.04%",
                         "random:abc", "random:5.5", "random:-3", "random:",
                         "random:%", "bogus:1", "", "indices:"};
    for (int t = 0; t < 15; t++) {
        lt_forget_set f;
        lt_status s = lt_forget_select(bad[t], &d, 1, &f);
        LT_CHECK(s == LT_ERR_ARG && msg_has(bad[t]), "'%s' gave %d: %s",
                 bad[t], (int)s, lt_last_error());
        LT_CHECK(f.forget == NULL && f.retain == NULL && f.n_forget == 0,
                 "'%s' left a set", bad[t]);
        lt_forget_set_free(&f);
    }
    lt_forget_set f;
    lt_forget_select("random:100%", &d, 1, &f);
    LT_CHECK(msg_has("nothing is retained"), "%s", lt_last_error());
    lt_forget_select("random:0.04%", &d, 1, &f);
    LT_CHECK(msg_has("empty"), "%s", lt_last_error());
    lt_forget_select("random:150%", &d, 1, &f);
    LT_CHECK(msg_has("out of range"), "%s", lt_last_error());
    hand_free(&d);
}

LT_TEST(class_forget)
{
    int32_t y[10] = {0, 1, 2, 0, 1, 2, 0, 0, 1, 2};
    lt_dataset d = hand_data(10, y, 4); /* class 3 has no items */
    lt_forget_set f;
    LT_CHECK(lt_forget_select("class:0", &d, 9, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t wf[4] = {0, 3, 6, 7}, wr[6] = {1, 2, 4, 5, 8, 9};
    LT_CHECK(f.n_forget == 4 && f.n_retain == 6 &&
                 !memcmp(f.forget, wf, sizeof wf) &&
                 !memcmp(f.retain, wr, sizeof wr),
             "class:0 forget %lld", (long long)f.n_forget);
    LT_CHECK(f.kind == LT_FORGET_CLASS && f.cls == 0, "kind %d cls %d",
             (int)f.kind, f.cls);
    lt_forget_set_free(&f);
    LT_CHECK(lt_forget_select("class:2", &d, 9, &f) == LT_OK &&
                 f.n_forget == 3 && f.forget[0] == 2 && f.forget[1] == 5 &&
                 f.forget[2] == 9 && f.cls == 2, "class:2");
    lt_forget_set_free(&f);
    const char *bad[] = {"class:4", "class:-1", "class:x", "class:",
                         "class:1.0", "class:3"};
    for (int t = 0; t < 6; t++)
        LT_CHECK(lt_forget_select(bad[t], &d, 1, &f) == LT_ERR_ARG &&
                     msg_has(bad[t]), "'%s': %s", bad[t], lt_last_error());
    LT_CHECK(msg_has("empty"), "class:3 %s", lt_last_error());
    hand_free(&d);
    int32_t one[3] = {1, 1, 1};
    d = hand_data(3, one, 2);
    LT_CHECK(lt_forget_select("class:1", &d, 1, &f) == LT_ERR_ARG &&
                 msg_has("nothing is retained"), "%s", lt_last_error());
    hand_free(&d);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    LT_CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

LT_TEST(indices_file)
{
    char dir[] = "/tmp/lethe_unlearn_XXXXXX", path[128], spec[160];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/forget.txt", dir);
    snprintf(spec, sizeof spec, "indices:%s", path);
    lt_dataset d = hand_data(10, NULL, 2);
    write_text(path, "# three items\n7\n\n  2  # two\n\t5\r\n# end\n");
    lt_forget_set f;
    LT_CHECK(lt_forget_select(spec, &d, 0, &f) == LT_OK, "%s",
             lt_last_error());
    int64_t want[3] = {2, 5, 7};
    LT_CHECK(f.n_forget == 3 && !memcmp(f.forget, want, sizeof want) &&
                 f.kind == LT_FORGET_INDICES && partition_ok(&f),
             "indices: %lld items", (long long)f.n_forget);
    lt_forget_set_free(&f);
    struct {
        const char *text, *where, *what;
        lt_status code;
    } bad[] = {
        {"1\n2\nabc\n", ":3:", "not a training index", LT_ERR_FORMAT},
        {"1\n\n10\n", ":3:", "out of range", LT_ERR_FORMAT},
        {"4\n# c\n4\n", ":3:", "twice", LT_ERR_FORMAT},
        {"-1\n", ":1:", "not a training index", LT_ERR_FORMAT},
        {"1\n3x\n", ":2:", "not a training index", LT_ERR_FORMAT},
        {"1 2\n", ":1:", "not a training index", LT_ERR_FORMAT},
        {"# nothing\n\n", "empty", "empty", LT_ERR_ARG},
        {"0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", "retained", "all 10",
         LT_ERR_ARG},
    };
    for (int t = 0; t < 8; t++) {
        write_text(path, bad[t].text);
        lt_status s = lt_forget_select(spec, &d, 0, &f);
        LT_CHECK(s == bad[t].code && msg_has(path) && msg_has(bad[t].where) &&
                     msg_has(bad[t].what),
                 "case %d gave %d: %s", t, (int)s, lt_last_error());
    }
    unlink(path);
    LT_CHECK(lt_forget_select(spec, &d, 0, &f) == LT_ERR_IO && msg_has(path),
             "missing file: %s", lt_last_error());
    rmdir(dir);
    hand_free(&d);
}

LT_TEST(forget_save_round_trip)
{
    char dir[] = "/tmp/lethe_unlearn_XXXXXX", path[128], spec[160];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/set.txt", dir);
    snprintf(spec, sizeof spec, "indices:%s", path);
    lt_dataset d = hand_data(500, NULL, 5);
    lt_forget_set a, b;
    LT_CHECK(lt_forget_select("random:10%", &d, 3, &a) == LT_OK, "select");
    LT_CHECK(lt_forget_save(&a, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_forget_select(spec, &d, 99, &b) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(b.n_forget == 50 && !memcmp(a.forget, b.forget,
                                         50 * sizeof(int64_t)) &&
                 !memcmp(a.retain, b.retain, 450 * sizeof(int64_t)),
             "round trip differs");
    FILE *f = fopen(path, "r");
    char line[128] = "", l2[32] = "";
    LT_CHECK(f && fgets(line, sizeof line, f) && fgets(l2, sizeof l2, f),
             "read back");
    if (f)
        fclose(f);
    LT_CHECK(!strcmp(line, "# lethe forget set random:10%: 50 of 500 "
                           "training items\n"), "header '%s'", line);
    char first[32];
    snprintf(first, sizeof first, "%lld\n", (long long)a.forget[0]);
    LT_CHECK(!strcmp(l2, first), "first index '%s'", l2);
    /* Only the file itself is left: the temp file was renamed. */
    char tmp[200];
    LT_CHECK(!lt_test_tmp_left(path), "temp file left behind");
    snprintf(tmp, sizeof tmp, "%s/no/such/dir", dir);
    LT_CHECK(lt_forget_save(&a, tmp) == LT_ERR_IO && msg_has(tmp),
             "bad path: %s", lt_last_error());
    lt_forget_set_free(&a);
    lt_forget_set_free(&b);
    unlink(path);
    rmdir(dir);
    hand_free(&d);
}

LT_TEST(forget_from_list)
{
    lt_forget_set f;
    int64_t idx[3] = {7, 1, 4};
    LT_CHECK(lt_forget_from_list(idx, 3, 9, LT_FORGET_INDICES, "worst:3",
                                 &f) == LT_OK, "%s", lt_last_error());
    LT_CHECK(f.n_forget == 3 && f.forget[0] == 1 && f.forget[1] == 4 &&
                 f.forget[2] == 7 && f.n_retain == 6 && partition_ok(&f) &&
                 !strcmp(f.spec, "worst:3"), "sorted list");
    lt_forget_set_free(&f);
    int64_t dup[3] = {2, 5, 2}, out[2] = {1, 9};
    LT_CHECK(lt_forget_from_list(dup, 3, 9, LT_FORGET_INDICES, "d", &f) ==
                 LT_ERR_ARG && msg_has("twice"), "%s", lt_last_error());
    LT_CHECK(lt_forget_from_list(out, 2, 9, LT_FORGET_INDICES, "o", &f) ==
                 LT_ERR_ARG && msg_has("out of range"), "%s",
             lt_last_error());
    LT_CHECK(lt_forget_from_list(idx, 0, 9, LT_FORGET_INDICES, "z", &f) ==
                 LT_ERR_ARG && msg_has("empty"), "%s", lt_last_error());
}

/* ---- masks --------------------------------------------------------------- */

static int64_t mask_ones(const float *m, int64_t n)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        LT_CHECK(m[i] == 0.0f || m[i] == 1.0f, "mask[%lld] = %g",
                 (long long)i, m[i]);
        k += m[i] == 1.0f;
    }
    return k;
}

static void check_saliency(const float *g, int n, double r,
                           const char *want)
{
    float m[16];
    LT_CHECK(lt_mask_saliency(g, n, r, m) == LT_OK, "%s", lt_last_error());
    char got[17];
    for (int i = 0; i < n; i++)
        got[i] = m[i] == 1.0f ? '1' : '0';
    got[n] = 0;
    LT_CHECK(!strcmp(got, want), "ratio %g: mask %s, want %s", r, got, want);
}

LT_TEST(saliency_mask_hand)
{
    /* |g| = .5 3 1 1 2 0 1 .5 3 1: ranking 1, 8 (3), 4 (2), 2, 3, 6, 9 (1),
     * 0, 7 (.5), 5 (0); equal |g| go to the lower index first. */
    const float g[10] = {0.5f, -3, 1, -1, 2, 0, 1, -0.5f, 3, 1};
    check_saliency(g, 10, 1.0, "1111111111");
    check_saliency(g, 10, 0.5, "0111100010");
    check_saliency(g, 10, 0.3, "0100100010");
    check_saliency(g, 10, 0.2, "0100000010");
    check_saliency(g, 10, 0.1, "0100000000");
    check_saliency(g, 10, 0.05, "0100000000"); /* round(0.5) = 1 */
    check_saliency(g, 10, 0.04, "0000000000");
    check_saliency(g, 10, 0.9, "1111101111");
    check_saliency(g, 10, 0.6, "0111101010");
    /* Keys that share the high 16 bits and differ in the low ones; zeros of
     * both signs tie. */
    float up = nextafterf(1.0f, 2.0f), up2 = nextafterf(up, 2.0f);
    const float h[8] = {1.0f, -0.0f, up, -up2, 0.0f, -1.0f, up, 1e-30f};
    check_saliency(h, 8, 0.125, "00010000");
    check_saliency(h, 8, 0.25, "00110000");
    check_saliency(h, 8, 0.375, "00110010");
    check_saliency(h, 8, 0.5, "10110010");
    check_saliency(h, 8, 0.75, "10110111");
    check_saliency(h, 8, 0.875, "11110111");
    const float inf[4] = {1, INFINITY, -INFINITY, 2};
    check_saliency(inf, 4, 0.25, "0100");
    check_saliency(inf, 4, 0.75, "0111");
    const float nan[3] = {1, NAN, 2};
    float m[3];
    LT_CHECK(lt_mask_saliency(nan, 3, 0.5, m) == LT_ERR_NAN &&
                 msg_has("entry 1"), "%s", lt_last_error());
    LT_CHECK(lt_mask_saliency(g, 10, 0, m) == LT_ERR_ARG, "ratio 0");
    LT_CHECK(lt_mask_saliency(g, 10, 1.5, m) == LT_ERR_ARG, "ratio 1.5");
}

static const float *g_sort;

static int by_rank(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float x = fabsf(g_sort[i]), y = fabsf(g_sort[j]);
    if (x != y)
        return x > y ? -1 : 1;
    return i < j ? -1 : 1;
}

LT_TEST(saliency_mask_matches_full_sort)
{
    enum { N = 100003 };
    float *g = malloc(N * sizeof(float)), *m = malloc(N * sizeof(float));
    int64_t *ord = malloc(N * sizeof(int64_t));
    lt_rng r;
    lt_rng_init(&r, 5);
    lt_rng_fill_normal(&r, g, N, 0, 1e-3f);
    for (int i = 0; i < N; i += 3) /* many exact ties */
        g[i] = roundf(g[i] * 2e3f) / 2e3f;
    g_sort = g;
    for (int i = 0; i < N; i++)
        ord[i] = i;
    qsort(ord, N, sizeof(int64_t), by_rank);
    const double ratios[] = {0.5, 0.37, 0.001, 0.999, 1e-5};
    for (int t = 0; t < 5; t++) {
        int64_t k = lt_mask_count(N, ratios[t]);
        LT_CHECK(k == llround(ratios[t] * N), "count %lld", (long long)k);
        LT_CHECK(lt_mask_saliency(g, N, ratios[t], m) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(mask_ones(m, N) == k, "ratio %g: %lld ones, want %lld",
                 ratios[t], (long long)mask_ones(m, N), (long long)k);
        int64_t wrong = 0;
        for (int64_t i = 0; i < N; i++)
            wrong += m[ord[i]] != (i < k ? 1.0f : 0.0f);
        LT_CHECK(wrong == 0, "ratio %g: %lld entries differ from the sort",
                 ratios[t], (long long)wrong);
    }
    free(g);
    free(m);
    free(ord);
}

LT_TEST(random_mask)
{
    enum { N = 10007 };
    float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
    const double ratios[] = {0.5, 0.1, 1.0, 0.33333, 1e-4};
    for (int t = 0; t < 5; t++) {
        LT_CHECK(lt_mask_random(N, ratios[t], 11, a) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(mask_ones(a, N) == llround(ratios[t] * N), "ratio %g: %lld",
                 ratios[t], (long long)mask_ones(a, N));
    }
    lt_mask_random(N, 0.5, 11, a);
    lt_mask_random(N, 0.5, 11, b);
    LT_CHECK(!memcmp(a, b, N * sizeof(float)), "same seed differs");
    lt_mask_random(N, 0.5, 12, b);
    LT_CHECK(memcmp(a, b, N * sizeof(float)) != 0, "seeds 11 and 12 agree");
    /* Spread over the vector: both halves hold about half the ones. */
    int64_t first = 0;
    for (int i = 0; i < N / 2; i++)
        first += a[i] == 1.0f;
    LT_CHECK(first > 2300 && first < 2700, "first half holds %lld of 5004",
             (long long)first);
    LT_CHECK(lt_mask_random(N, 0, 1, a) == LT_ERR_ARG, "ratio 0");
    free(a);
    free(b);
}

LT_TEST(mask_spec)
{
    lt_mask_spec s;
    LT_CHECK(lt_mask_parse("none", &s) == LT_OK && s.kind == LT_MASK_NONE &&
                 s.ratio == 1, "none");
    LT_CHECK(lt_mask_parse("saliency:0.5", &s) == LT_OK &&
                 s.kind == LT_MASK_SALIENCY && s.ratio == 0.5, "saliency");
    LT_CHECK(lt_mask_parse("random:1", &s) == LT_OK &&
                 s.kind == LT_MASK_RANDOM && s.ratio == 1, "random");
    const char *bad[] = {"saliency:0", "saliency:1.5", "saliency:",
                         "saliency:0.5x", "random:-0.1", "saliency:nan",
                         "sal:0.5", "", "None", "random:inf"};
    for (int t = 0; t < 10; t++)
        LT_CHECK(lt_mask_parse(bad[t], &s) == LT_ERR_ARG && msg_has(bad[t]) &&
                     s.kind == LT_MASK_NONE, "'%s': %s", bad[t],
                 lt_last_error());
    float m[4], g[4] = {1, -4, 2, 3};
    lt_mask_parse("none", &s);
    LT_CHECK(lt_mask_build(&s, NULL, 4, 0, m) == LT_OK && mask_ones(m, 4) == 4,
             "none is all ones");
    lt_mask_parse("saliency:0.5", &s);
    LT_CHECK(lt_mask_build(&s, NULL, 4, 0, m) == LT_ERR_ARG, "no gradient");
    LT_CHECK(lt_mask_build(&s, g, 4, 0, m) == LT_OK && m[0] == 0 &&
                 m[1] == 1 && m[2] == 0 && m[3] == 1, "saliency build");
    lt_mask_parse("random:0.75", &s);
    LT_CHECK(lt_mask_build(&s, NULL, 4, 3, m) == LT_OK && mask_ones(m, 4) == 3,
             "random build");
}

/* ---- the saliency input -------------------------------------------------- */

LT_TEST(forget_gradient_matches_finite_difference)
{
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("mlp:4-3-2", (lt_input_spec){1, 2, 2, 2}, &m) ==
                 LT_OK, "%s", lt_last_error());
    if (!m)
        return;
    lt_model_init(m, 3);
    int32_t y[7] = {0, 1, 1, 0, 1, 0, 0};
    lt_dataset d = hand_data(7, y, 2);
    int64_t idx[5] = {4, 1, 6, 3, 0}; /* batch 2: three minibatches */
    int64_t n = m->params.n_train;
    LT_CHECK(n == 23, "mlp:4-3-2 has %lld trainable parameters", (long long)n);
    for (int64_t i = 0; i < n; i++)
        m->params.grad[i] = 5.0f; /* must be zeroed first */
    double loss;
    LT_CHECK(lt_forget_gradient(m, &d, idx, 5, 2, &loss) == LT_OK, "%s",
             lt_last_error());
    float *ga = malloc((size_t)n * sizeof(float));
    memcpy(ga, m->params.grad, (size_t)n * sizeof(float));
    /* The loss is the mean CE on those items, as lt_evaluate computes it. */
    lt_dataset sub;
    double ev = 0;
    LT_CHECK(lt_dataset_subset(&d, idx, 5, &sub) == LT_OK &&
                 lt_evaluate(m, &sub, 5, &ev, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(fabs(loss - ev) < 1e-6, "loss %g, evaluate %g", loss, ev);
    lt_dataset_free(&sub);
    float *fd = malloc((size_t)n * sizeof(float));
    const float eps = 1e-3f;
    for (int64_t i = 0; i < n; i++) {
        float keep = m->params.theta[i];
        double lp, lm;
        m->params.theta[i] = keep + eps;
        lt_forget_gradient(m, &d, idx, 5, 3, &lp);
        m->params.theta[i] = keep - eps;
        lt_forget_gradient(m, &d, idx, 5, 0, &lm);
        m->params.theta[i] = keep;
        fd[i] = (float)((lp - lm) / (2.0 * (double)eps));
    }
    for (int64_t i = 0; i < n; i++)
        LT_CHECK(fabsf(ga[i] - fd[i]) <= 2e-3f * (1 + fabsf(fd[i])),
                 "grad[%lld] %g, finite difference %g", (long long)i, ga[i],
                 fd[i]);
    double norm = 0;
    for (int64_t i = 0; i < n; i++)
        norm += fabs(ga[i]);
    LT_CHECK(norm > 1e-2, "gradient is ~zero (%g): test is vacuous", norm);
    int64_t bad_idx[1] = {7};
    LT_CHECK(lt_forget_gradient(m, &d, bad_idx, 1, 2, NULL) == LT_ERR_ARG &&
                 msg_has("out of range"), "%s", lt_last_error());
    d.w = 3;
    LT_CHECK(lt_forget_gradient(m, &d, idx, 1, 2, NULL) == LT_ERR_SHAPE,
             "shape: %s", lt_last_error());
    d.w = 2;
    free(ga);
    free(fd);
    hand_free(&d);
    lt_model_free(m);
}

/* lt_mask_format writes what lt_mask_parse reads. */
LT_TEST(mask_format_round_trips)
{
    const char *specs[] = {"none", "saliency:0.5", "random:0.25", "soft:1"};
    for (int i = 0; i < 4; i++) {
        lt_mask_spec m, back;
        char buf[64];
        LT_CHECK(lt_mask_parse(specs[i], &m) == LT_OK, "%s", specs[i]);
        lt_mask_format(&m, buf, sizeof buf);
        LT_CHECK(!strcmp(buf, specs[i]) && lt_mask_parse(buf, &back) ==
                     LT_OK && back.kind == m.kind && back.ratio == m.ratio,
                 "%s -> %s", specs[i], buf);
    }
}

LT_TEST_MAIN()
