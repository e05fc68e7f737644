/*
 * test_metrics.c - the classification-unlearning metrics against hand
 * values: accuracy, UA and class-excluded TA on tiny logits; true-label
 * confidence against a softmax worked out by hand; Avg. Gap (exact);
 * MIA-efficacy on cases whose answer is certain or follows from symmetry;
 * all four metrics at once; and the error paths.
 */
#include "lt_test.h"
#include "lethe/io.h"
#include "lethe/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_NEAR(got, want, tol)                                        \
    LT_CHECK(fabs((double)(got) - (double)(want)) <= (tol),               \
             "%s = %.10g, want %.10g", #got, (double)(got), (double)(want))
#define CHECK_ERR(expr, code, part)                                       \
    do {                                                                  \
        lt_status st_ = (expr);                                           \
        LT_CHECK(st_ == (code), "%s gave %s, want %s", #expr,             \
                 lt_status_name(st_), lt_status_name(code));              \
        LT_CHECK(strstr(lt_last_error(), part) != NULL,                   \
                 "message '%s' lacks '%s'", lt_last_error(), part);       \
    } while (0)

/* Predictions 0, 1, 0 (tie -> first), 2. */
static const float LOGITS4[4 * 3] = {2, 1, 0, 0, 3, 1, 1, 1, 0, 0, 0, 5};

LT_TEST(argmax_and_accuracy)
{
    int32_t pred[4];
    LT_CHECK(lt_argmax_rows(LOGITS4, 4, 3, pred) == LT_OK, "%s",
             lt_last_error());
    int32_t want[4] = {0, 1, 0, 2};
    LT_CHECK(memcmp(pred, want, sizeof want) == 0, "argmax %d %d %d %d",
             pred[0], pred[1], pred[2], pred[3]);
    const int32_t lab[4] = {0, 2, 1, 2}; /* rows 0 and 3 right */
    double acc = -1, ua = -1;
    LT_CHECK(lt_accuracy_pred(pred, lab, 4, &acc) == LT_OK, "pred");
    CHECK_NEAR(acc, 50.0, 0);
    LT_CHECK(lt_accuracy_logits(LOGITS4, 4, 3, lab, &acc) == LT_OK, "logits");
    CHECK_NEAR(acc, 50.0, 0);
    LT_CHECK(lt_unlearn_accuracy(LOGITS4, 4, 3, lab, &ua) == LT_OK, "ua");
    CHECK_NEAR(ua, 50.0, 0);
    const int32_t all[4] = {0, 1, 0, 2};
    LT_CHECK(lt_unlearn_accuracy(LOGITS4, 4, 3, all, &ua) == LT_OK, "ua");
    CHECK_NEAR(ua, 0.0, 0);
    LT_CHECK(lt_unlearn_accuracy(LOGITS4, 1, 3, lab + 1, &ua) == LT_OK, "ua");
    CHECK_NEAR(ua, 100.0, 0); /* row 0 predicts 0, label 2 */
}

LT_TEST(accuracy_excluding_class)
{
    const int32_t lab[4] = {0, 2, 1, 2};
    double acc = -1;
    /* exclude 2: rows 0 (right) and 2 (label 1, pred 0: wrong) */
    LT_CHECK(lt_accuracy_logits_excluding(LOGITS4, 4, 3, lab, 2, &acc) ==
                 LT_OK, "%s", lt_last_error());
    CHECK_NEAR(acc, 50.0, 0);
    /* exclude 1: rows 0, 1, 3 -> 0 and 3 right */
    LT_CHECK(lt_accuracy_logits_excluding(LOGITS4, 4, 3, lab, 1, &acc) ==
                 LT_OK, "%s", lt_last_error());
    CHECK_NEAR(acc, 200.0 / 3.0, 1e-12);
    /* exclude 0: rows 1, 2, 3 -> only 3 right */
    LT_CHECK(lt_accuracy_logits_excluding(LOGITS4, 4, 3, lab, 0, &acc) ==
                 LT_OK, "%s", lt_last_error());
    CHECK_NEAR(acc, 100.0 / 3.0, 1e-12);
    /* exclude -1: everything */
    LT_CHECK(lt_accuracy_logits_excluding(LOGITS4, 4, 3, lab, -1, &acc) ==
                 LT_OK, "%s", lt_last_error());
    CHECK_NEAR(acc, 50.0, 0);
    const int32_t twos[2] = {2, 2};
    CHECK_ERR(lt_accuracy_logits_excluding(LOGITS4, 2, 3, twos, 2, &acc),
              LT_ERR_ARG, "excluded label 2");
}

LT_TEST(true_label_confidence)
{
    /* [0,1,2] shifted by +-1000 must give the same softmax:
     * 1 + e + e^2 = 11.107337927389695 */
    const float lg[4 * 3] = {1000, 1001, 1002, -1000, -999, -998,
                             0, 1, 2, 0, -200, 0};
    const int32_t lab[4] = {0, 1, 2, 1};
    float conf[4];
    LT_CHECK(lt_true_label_confidence(lg, 4, 3, lab, conf) == LT_OK, "%s",
             lt_last_error());
    CHECK_NEAR(conf[0], 0.09003057317038046, 1e-7);
    CHECK_NEAR(conf[1], 0.24472847105479764, 1e-7);
    CHECK_NEAR(conf[2], 0.66524095577481771, 1e-7);
    /* e^-200 / 2 underflows float: 0, not NaN */
    LT_CHECK(conf[3] == 0.0f, "conf[3] = %g", (double)conf[3]);
    const float lg2[2] = {0, -200};
    const int32_t y0 = 0;
    LT_CHECK(lt_true_label_confidence(lg2, 1, 2, &y0, conf) == LT_OK, "c");
    LT_CHECK(conf[0] == 1.0f, "conf = %.9g", (double)conf[0]);
}

LT_TEST(avg_gap_exact)
{
    lt_unlearn_metrics m = {10.5, 99.25, 90, 20};
    lt_unlearn_metrics r = {8, 100, 94.5, 12.75};
    /* (2.5 + 0.75 + 4.5 + 7.25) / 4 = 3.75, exactly representable */
    LT_CHECK(lt_avg_gap(&m, &r) == 3.75, "gap %.17g", lt_avg_gap(&m, &r));
    LT_CHECK(lt_avg_gap(&r, &r) == 0.0, "self gap");
    LT_CHECK(lt_avg_gap(&r, &m) == 3.75, "symmetric");
    LT_CHECK(isnan(lt_avg_gap(NULL, &m)), "NULL gives NaN");
}

static double mia_of(const float *r, int64_t nr, const float *t, int64_t nt,
                     const float *f, int64_t nf)
{
    double mia = -1;
    LT_CHECK(lt_mia_efficacy(r, nr, t, nt, f, nf, &mia) == LT_OK, "%s",
             lt_last_error());
    return mia;
}

LT_TEST(mia_certain_cases)
{
    const float mem[6] = {0.97f, 0.99f, 1.0f, 0.98f, 0.995f, 0.96f};
    const float non[5] = {0.1f, 0.12f, 0.08f, 0.11f, 0.09f};
    const float low[3] = {0.05f, 0.05f, 0.05f};
    const float high[3] = {0.99f, 0.99f, 0.99f};
    const float mix[4] = {0.05f, 0.99f, 0.1f, 1.0f};
    CHECK_NEAR(mia_of(mem, 6, non, 5, low, 3), 100.0, 0);
    CHECK_NEAR(mia_of(mem, 6, non, 5, high, 3), 0.0, 0);
    CHECK_NEAR(mia_of(mem, 6, non, 5, mix, 4), 50.0, 0);
    /* fewer retain than test items: all retain items are members */
    CHECK_NEAR(mia_of(mem, 2, non, 5, mix, 4), 50.0, 0);
}

/*
 * Independent check by symmetry. Members sit at 0.5 + d_i and non-members
 * at 0.5 - d_i (with overlap: one d_i < 0). Reflecting x -> 1 - x and
 * swapping the classes maps the SVM problem onto itself, so the fitted
 * decision function is odd about 0.5 and, being smooth at gamma = 1 on
 * [0, 1], it changes sign there once: the 1-D threshold is 0.5. Retain
 * items after the first |test| (at 0.0, which would break the symmetry)
 * must be ignored.
 */
LT_TEST(mia_symmetric_threshold)
{
    const float d[6] = {-0.1f, 0.05f, 0.15f, 0.25f, 0.3f, 0.45f};
    float mem[6 + 8], non[6];
    for (int i = 0; i < 6; i++) {
        mem[i] = 0.5f + d[i];
        non[i] = 0.5f - d[i];
    }
    for (int i = 6; i < 14; i++)
        mem[i] = 0.0f;
    const float forget[8] = {0.05f, 0.2f, 0.35f, 0.44f,
                             0.56f, 0.7f, 0.85f, 0.98f};
    CHECK_NEAR(mia_of(mem, 14, non, 6, forget, 8), 50.0, 0);
    CHECK_NEAR(mia_of(mem, 14, non, 6, forget, 3), 100.0, 0);
    CHECK_NEAR(mia_of(mem, 14, non, 6, forget + 3, 5), 20.0, 0);
    CHECK_NEAR(mia_of(mem, 14, non, 6, forget + 5, 3), 0.0, 0);
}

LT_TEST(all_metrics_classwise)
{
    /* k = 3, forgotten class 2. Retain: confident and right (conf
     * e^10/(e^10+2) ~ 0.9999). Test: [1,0,0] -> pred 0; labels 0,1,2,0;
     * the class-2 row is dropped: TA = 2/3. Non-member confidences
     * e/(e+2) = 0.576 and 1/(e+2) = 0.212. Forget: [0,0,0] (conf 1/3,
     * pred 0: wrong, non-member side) and [0,0,10] (conf 0.9999, right,
     * member side): UA = 50, MIA = 50. */
    const float rl[4 * 3] = {10, 0, 0, 0, 10, 0, 0, 0, 10, 10, 0, 0};
    const int32_t ry[4] = {0, 1, 2, 0};
    const float tl[4 * 3] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0};
    const int32_t ty[4] = {0, 1, 2, 0};
    const float fl[2 * 3] = {0, 0, 0, 0, 0, 10};
    const int32_t fy[2] = {2, 2};
    lt_split_logits f = {fl, 2, 3, fy, 2}, r = {rl, 4, 3, ry, 4},
                    t = {tl, 4, 3, ty, 4};
    lt_unlearn_metrics m;
    LT_CHECK(lt_unlearn_metrics_compute(&f, &r, &t, 2, &m) == LT_OK, "%s",
             lt_last_error());
    CHECK_NEAR(m.ua, 50.0, 0);
    CHECK_NEAR(m.ra, 100.0, 0);
    CHECK_NEAR(m.ta, 200.0 / 3.0, 1e-12);
    CHECK_NEAR(m.mia, 50.0, 0);
    LT_CHECK(lt_unlearn_metrics_compute(&f, &r, &t, -1, &m) == LT_OK, "%s",
             lt_last_error());
    CHECK_NEAR(m.ta, 50.0, 0);
    /* mismatched lengths */
    lt_split_logits bad = {tl, 4, 3, ty, 3};
    CHECK_ERR(lt_unlearn_metrics_compute(&f, &r, &bad, 2, &m), LT_ERR_SHAPE,
              "test has 4 logit rows but 3 labels");
    bad = (lt_split_logits){fl, 2, 3, fy, 0};
    CHECK_ERR(lt_unlearn_metrics_compute(&bad, &r, &t, 2, &m), LT_ERR_SHAPE,
              "forget has 2 logit rows but 0 labels");
}

LT_TEST(errors)
{
    double v;
    int32_t pred[4];
    const int32_t lab[4] = {0, 1, 3, 0};
    CHECK_ERR(lt_accuracy_logits(LOGITS4, 0, 3, lab, &v), LT_ERR_ARG,
              "n = 0");
    CHECK_ERR(lt_accuracy_pred(pred, lab, 0, &v), LT_ERR_ARG, "n = 0");
    CHECK_ERR(lt_accuracy_logits(LOGITS4, 4, 3, lab, &v), LT_ERR_ARG,
              "labels[2] = 3");
    CHECK_ERR(lt_accuracy_logits(NULL, 4, 3, lab, &v), LT_ERR_ARG,
              "logits is NULL");
    float conf[4];
    CHECK_ERR(lt_true_label_confidence(LOGITS4, 4, 3, lab, conf), LT_ERR_ARG,
              "labels[2]");
    const float nanlg[2 * 2] = {0, 1, NAN, 0};
    const int32_t y2[2] = {0, 1};
    CHECK_ERR(lt_argmax_rows(nanlg, 2, 2, pred), LT_ERR_NAN,
              "logits[1, 0] is NaN");
    CHECK_ERR(lt_accuracy_logits(nanlg, 2, 2, y2, &v), LT_ERR_NAN,
              "logits[1, 0]");
    CHECK_ERR(lt_true_label_confidence(nanlg, 2, 2, y2, conf), LT_ERR_NAN,
              "logits[1, 0]");

    const float a[3] = {0.9f, 0.95f, 1.0f}, b[3] = {0.1f, 0.2f, 0.3f};
    const float bn[3] = {0.1f, 0.2f, NAN}, bi[3] = {0.1f, INFINITY, 0.2f};
    CHECK_ERR(lt_mia_efficacy(a, 3, b, 3, b, 0, &v), LT_ERR_ARG,
              "forget_conf has n = 0");
    CHECK_ERR(lt_mia_efficacy(a, 0, b, 3, b, 3, &v), LT_ERR_ARG,
              "retain_conf has n = 0");
    CHECK_ERR(lt_mia_efficacy(a, 3, b, 0, b, 3, &v), LT_ERR_ARG,
              "test_conf has n = 0");
    CHECK_ERR(lt_mia_efficacy(a, 3, bn, 3, b, 3, &v), LT_ERR_NAN,
              "test_conf[2] = nan");
    CHECK_ERR(lt_mia_efficacy(a, 3, b, 3, bi, 3, &v), LT_ERR_NAN,
              "forget_conf[1] = inf");
    CHECK_ERR(lt_mia_efficacy(bn, 3, b, 3, b, 3, &v), LT_ERR_NAN,
              "retain_conf[2]");
    CHECK_ERR(lt_mia_efficacy(NULL, 3, b, 3, b, 3, &v), LT_ERR_ARG,
              "retain_conf is NULL");
}

/* The JSON records hold their keys and values; write to a temp file. */
static char *json_of(lt_status (*save)(const char *, const void *),
                     const void *rec)
{
    char path[] = "/tmp/lt_metrics_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0, "mkstemp");
    close(fd);
    char *text = NULL;
    LT_CHECK(save(path, rec) == LT_OK &&
                 lt_read_file(path, &text, NULL) == LT_OK, "%s",
             lt_last_error());
    unlink(path);
    return text;
}

static lt_status save_unlearn(const char *p, const void *r)
{
    return lt_unlearn_save_json(p, r);
}

static lt_status save_eval(const char *p, const void *e)
{
    return lt_checkpoint_eval_save_json(p, e);
}

LT_TEST(json_records)
{
    lt_unlearn_cfg cfg = lt_unlearn_defaults(LT_METHOD_SALUN);
    lt_forget_set f = {.n_forget = 7};
    snprintf(f.spec, sizeof f.spec, "random:10%%");
    lt_unlearn_report rep = {.steps = 12, .seconds = 1.5};
    lt_unlearn_record r = {"in.st", "out.st", "sgd", &cfg, &f, &rep,
                           {1, 2, 3, 4}};
    char *t = json_of(save_unlearn, &r);
    LT_CHECK(t && strstr(t, "\"method\":\t\"salun\"") &&
                 strstr(t, "\"mask\":\t\"saliency:0.5\"") &&
                 strstr(t, "\"steps\":\t12") && strstr(t, "\"MIA\":\t4") &&
                 strstr(t, "\"rte_s\":\t1.5") && t[strlen(t) - 1] == '}',
             "%s", t ? t : "");
    free(t);
    lt_checkpoint_eval e = {.model = "m.st", .data = "fm", .arch = "mlp",
                            .train = {10, 0.5, 90}, .test = {5, 0.7, 80}};
    t = json_of(save_eval, &e);
    LT_CHECK(t && strstr(t, "\"arch\":\t\"mlp\"") &&
                 strstr(t, "\"accuracy\":\t80") && !strstr(t, "forget"),
             "%s", t ? t : "");
    free(t);
    e.forget = &f;
    e.metrics = (lt_unlearn_metrics){10, 20, 30, 40};
    e.retrain = (lt_unlearn_metrics){12, 20, 30, 40};
    e.has_retrain = true;
    t = json_of(save_eval, &e);
    LT_CHECK(t && strstr(t, "\"n_forget\":\t7") &&
                 strstr(t, "\"avg_gap\":\t0.5") && !strstr(t, "arch"),
             "%s", t ? t : "");
    free(t);
}

/* MIA-efficacy against the official SVC_MIA code path with scikit-learn's
 * SVC (tests/golden/gen_svc_mia.py) on overlapping member / non-member
 * confidences, where the fitted boundary actually matters. */
static int svc_read(FILE *f, char tag, float *v, int cap)
{
    static char line[65536];
    if (!fgets(line, sizeof line, f) || line[0] != tag)
        return -1;
    int n = 0;
    char *p = line + 1, *end;
    for (double x = strtod(p, &end); end != p && n < cap; x = strtod(p, &end)) {
        v[n++] = (float)x;
        p = end;
    }
    return n;
}

LT_TEST(mia_efficacy_matches_sklearn_svc_golden)
{
    char path[512], name[64], line[256];
    snprintf(path, sizeof path, "%s/svc_mia.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static float r[1000], t[1000], fg[1000];
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        int nr, nt, nf;
        double want, got = -1;
        if (sscanf(line, "c %63s %d %d %d %lf", name, &nr, &nt, &nf, &want)
            != 5)
            continue;
        LT_CHECK(svc_read(f, 'r', r, 1000) == nr && svc_read(f, 't', t, 1000)
                 == nt && svc_read(f, 'f', fg, 1000) == nf, "%s: read", name);
        LT_CHECK(lt_mia_efficacy(r, nr, t, nt, fg, nf, &got) == LT_OK, "%s",
                 lt_last_error());
        LT_CHECK(fabs(got - want) < 1e-9, "%s: MIA-efficacy %.6f, sklearn "
                 "%.6f", name, got, want);
        cases++;
    }
    fclose(f);
    LT_CHECK(cases == 4, "read %d cases", cases);
}

LT_TEST_MAIN()
