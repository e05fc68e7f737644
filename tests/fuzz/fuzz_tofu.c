/*
 * fuzz_tofu.c - libFuzzer harness of the TOFU question-answer loader
 * (lt_tofu_load: JSON Lines or one JSON array; it reads a path, so the
 * input is written to a scratch file).
 *
 * Oracles, when the input loads: at least one record, question and
 * answer present; lt_tofu_save then lt_tofu_load gives the same records
 * (every field, perturbed answers included); saving the reloaded set
 * gives a byte-identical file.
 */
#include "fuzz.h"

static int fz_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void fz_same(const lt_tofu_set *a, const lt_tofu_set *b)
{
    FZ_CHECK(a->n == b->n, "%lld records != %lld", (long long)a->n,
             (long long)b->n);
    for (int64_t i = 0; i < a->n; i++) {
        const lt_tofu_qa *x = &a->qa[i], *y = &b->qa[i];
        FZ_CHECK(fz_eq(x->question, y->question) && fz_eq(x->answer, y->answer),
                 "record %lld: question/answer differ", (long long)i);
        FZ_CHECK(fz_eq(x->paraphrased_question, y->paraphrased_question) &&
                 fz_eq(x->paraphrased_answer, y->paraphrased_answer),
                 "record %lld: paraphrases differ", (long long)i);
        FZ_CHECK(x->n_perturbed == y->n_perturbed, "record %lld: %d "
                 "perturbed != %d", (long long)i, x->n_perturbed,
                 y->n_perturbed);
        for (int k = 0; k < x->n_perturbed; k++)
            FZ_CHECK(fz_eq(x->perturbed_answer[k], y->perturbed_answer[k]),
                     "record %lld: perturbed %d differs", (long long)i, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = fz_write("in.json", data, size);
    lt_tofu_set a;
    lt_status s = lt_tofu_load(in, &a);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
        FZ_CHECK(a.n == 0 && a.qa == NULL, "failed load left records");
        return 0;
    }
    FZ_CHECK(a.n >= 1, "loaded an empty set");
    for (int64_t i = 0; i < a.n; i++)
        FZ_CHECK(a.qa[i].question && a.qa[i].answer &&
                 a.qa[i].n_perturbed >= 0, "record %lld", (long long)i);
    const char *p1 = fz_path("rt1.jsonl"), *p2 = fz_path("rt2.jsonl");
    s = lt_tofu_save(p1, &a);
    FZ_CHECK(s == LT_OK, "save of a loaded set: %s", lt_status_name(s));
    lt_tofu_set b;
    FZ_CHECK(lt_tofu_load(p1, &b) == LT_OK, "reload of a saved set");
    fz_same(&a, &b);
    FZ_CHECK(lt_tofu_save(p2, &b) == LT_OK, "second save");
    char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    FZ_CHECK(lt_read_file(p1, &b1, &n1) == LT_OK &&
             lt_read_file(p2, &b2, &n2) == LT_OK, "read back");
    FZ_CHECK(n1 == n2 && !memcmp(b1, b2, n1), "save is not deterministic");
    free(b1);
    free(b2);
    lt_tofu_free(&a);
    lt_tofu_free(&b);
    return 0;
}
