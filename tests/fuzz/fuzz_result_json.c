/*
 * fuzz_result_json.c - libFuzzer harness of the readers of Lethe's own
 * result JSON files that a later run takes as input: the forget truth
 * ratios of a TOFU evaluation (lt_tofu_eval_json_forget_tr, the retain
 * model's reference for forget quality) and the retrain model's Min-K%
 * AUC of a MUSE evaluation (lt_muse_retrain_auc_json, PrivLeak's
 * reference). Both read a path: the input is written to a scratch file.
 *
 * Oracles: truth ratios come back as n >= 1 numbers; the forget quality
 * of them against themselves has KS statistic 0 and p-value 1, and
 * against a fixed sample a statistic and p-value in [0, 1]. An AUC is
 * returned only with LT_OK.
 */
#include "fuzz.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fz_write("eval.json", data, size);
    double *tr = NULL;
    int64_t n = 0;
    lt_status s = lt_tofu_eval_json_forget_tr(p, &tr, &n);
    if (s == LT_OK) {
        FZ_CHECK(tr && n >= 1, "%lld truth ratios", (long long)n);
        double fq = -1, ks = -1;
        FZ_CHECK(lt_tofu_forget_quality(tr, n, tr, n, &fq, &ks) == LT_OK,
                 "forget quality against itself");
        FZ_CHECK(ks == 0 && fabs(fq - 1) < 1e-9, "self KS %g, p %g", ks, fq);
        const double ref[3] = {0.5, 0.7, 0.9};
        if (lt_tofu_forget_quality(tr, n, ref, 3, &fq, &ks) == LT_OK)
            FZ_CHECK(ks >= 0 && ks <= 1 && fq >= 0 && fq <= 1,
                     "KS %g, p %g", ks, fq);
    } else {
        FZ_CHECK(!tr && n == 0, "failed read left values");
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
    }
    free(tr);
    double auc = -12345;
    s = lt_muse_retrain_auc_json(p, 0.4, &auc);
    if (s != LT_OK)
        FZ_CHECK(auc == -12345 && (s == LT_ERR_FORMAT || s == LT_ERR_ARG),
                 "status %s, auc %g", lt_status_name(s), auc);
    return 0;
}
