/*
 * test_muse.c - the MUSE-style evaluation of lethe/muse.h: "%"-separated
 * text files (parse, save, reload), the forget / holdout / retain split
 * (counts, determinism, holdout disjoint from forget, duplicates dropped),
 * cloze items on hand examples (and their questions tokenizing as prefixes
 * of the texts), the written corpus directory, PrivLeak arithmetic and
 * MUSE's PrivLeak golden (gen_muse_privleak.py), and
 * VerbMem / KnowMem / MIA AUCs on tiny models built here: equal to a
 * serial recomputation on a random model, and exactly 1 on texts a model
 * has memorised; the evaluation's JSON (PrivLeak, the run's precision and
 * backend).
 */
#include "lethe/lm.h"
#include "lethe/muse.h"
#include "lethe/rouge.h"
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static lt_text_set set_of(const char *const *t, int n)
{
    lt_text_set s = {0};
    for (int i = 0; i < n; i++)
        LT_CHECK(lt_text_set_push(&s, t[i], strlen(t[i])) == LT_OK, "push");
    return s;
}

static bool set_has(const lt_text_set *s, const char *t)
{
    for (int64_t i = 0; i < s->n; i++)
        if (!strcmp(s->text[i], t))
            return true;
    return false;
}

/* ---- text files ------------------------------------------------------------------ */

LT_TEST(parse_splits_at_percent_lines)
{
    const char *buf = "a\n%\nb b\n\n%\n \t\n%\n\tc %\n%\r\nd\n";
    lt_text_set s;
    LT_CHECK(lt_text_set_parse(buf, strlen(buf), "x", &s) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(s.n == 4, "4 texts (blank one dropped), got %lld",
             (long long)s.n);
    if (s.n == 4)
        LT_CHECK(!strcmp(s.text[0], "a") && !strcmp(s.text[1], "b b") &&
                 !strcmp(s.text[2], "\tc %") && !strcmp(s.text[3], "d"),
                 "texts '%s' '%s' '%s' '%s'", s.text[0], s.text[1],
                 s.text[2], s.text[3]);
    lt_text_set_free(&s);
    LT_CHECK(lt_text_set_parse("%\n\n%\n", 5, "empty.txt", &s) ==
             LT_ERR_FORMAT && strstr(lt_last_error(), "empty.txt"),
             "no texts: %s", lt_last_error());
}

/* A NUL byte used to be kept and then cut the text silently (issue 20;
 * found by tests/fuzz/fuzz_text.c). */
LT_TEST(parse_refuses_nul_bytes)
{
    const char buf[] = "first text\n%\nsecond \0hidden\n%\n";
    lt_text_set s;
    LT_CHECK(lt_text_set_parse(buf, sizeof buf - 1, "nul.txt", &s) ==
             LT_ERR_FORMAT && strstr(lt_last_error(), "nul.txt:3") &&
             strstr(lt_last_error(), "NUL") && s.n == 0 && !s.text,
             "NUL byte: %s", lt_last_error());
    lt_text_set t = {0};
    LT_CHECK(lt_text_set_push(&t, "a\0b", 3) == LT_ERR_ARG && t.n == 0,
             "push of a NUL byte: %s", lt_last_error());
    lt_text_set_free(&t);
}

LT_TEST(save_and_reload_round_trip)
{
    char dir[] = "/tmp/lt_muse_XXXXXX";
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/t.txt", dir);
    const char *t[3] = {"one\n  two", "\t-- three", "four%"};
    lt_text_set s = set_of(t, 3), r;
    LT_CHECK(lt_text_set_save(path, &s) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_text_set_load(path, &r) == LT_OK, "%s", lt_last_error());
    LT_CHECK(r.n == 3, "3 texts back");
    for (int i = 0; i < 3 && r.n == 3; i++)
        LT_CHECK(!strcmp(r.text[i], t[i]), "text %d", i);
    lt_text_set_free(&r);
    /* lt_lm_data_text reads the same documents */
    const char *bad[1] = {"x\n%\ny"};
    lt_text_set b = set_of(bad, 1);
    LT_CHECK(lt_text_set_save(path, &b) == LT_ERR_ARG, "a '%%' line is "
             "refused");
    LT_CHECK(lt_fortune_load("/nonexistent-dir", "literature", &r) ==
             LT_ERR_IO && strstr(lt_last_error(),
                                 "/nonexistent-dir/literature"),
             "missing collection named: %s", lt_last_error());
    unlink(path);
    rmdir(dir);
    lt_text_set_free(&s);
    lt_text_set_free(&b);
}

/* ---- the split ------------------------------------------------------------------------ */

LT_TEST(split_counts_determinism_and_disjointness)
{
    const char *f[11] = {"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7",
                         "f8", "f9", "f3"};
    const char *r[5] = {"r0", "f5", "r1", "r2", "r0"};
    lt_text_set fs = set_of(f, 11), rs = set_of(r, 5);
    lt_muse_corpus a, b;
    LT_CHECK(lt_muse_split(&fs, &rs, 0.2, 7, &a) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_muse_split(&fs, &rs, 0.2, 7, &b) == LT_OK, "%s",
             lt_last_error());
    /* 10 distinct forget-side texts: 2 held out, 8 forgotten; retain loses
     * its duplicate and the text equal to a forget-side one */
    LT_CHECK(a.holdout.n == 2 && a.forget.n == 8 && a.retain.n == 3,
             "counts %lld %lld %lld", (long long)a.forget.n,
             (long long)a.holdout.n, (long long)a.retain.n);
    LT_CHECK(!strcmp(a.retain.text[0], "r0") &&
             !strcmp(a.retain.text[2], "r2"), "retain order");
    for (int64_t i = 0; i < a.holdout.n; i++)
        LT_CHECK(!set_has(&a.forget, a.holdout.text[i]), "holdout %s in "
                 "forget", a.holdout.text[i]);
    for (int i = 0; i < 10; i++)
        LT_CHECK(set_has(&a.forget, f[i]) != set_has(&a.holdout, f[i]),
                 "%s in exactly one side", f[i]);
    for (int64_t i = 1; i < a.forget.n; i++)
        LT_CHECK(strcmp(a.forget.text[i - 1], a.forget.text[i]) < 0,
                 "forget in file order");
    for (int64_t i = 0; i < a.holdout.n && b.holdout.n == a.holdout.n; i++)
        LT_CHECK(!strcmp(a.holdout.text[i], b.holdout.text[i]),
                 "same seed, same holdout");
    /* another seed draws another holdout (checked over a few seeds) */
    bool differs = false;
    for (uint64_t seed = 8; seed < 12 && !differs; seed++) {
        lt_muse_corpus c;
        LT_CHECK(lt_muse_split(&fs, &rs, 0.2, seed, &c) == LT_OK, "split");
        for (int64_t i = 0; i < c.holdout.n; i++)
            differs = differs || !set_has(&a.holdout, c.holdout.text[i]);
        lt_muse_corpus_free(&c);
    }
    LT_CHECK(differs, "the seed decides the holdout");
    lt_muse_corpus_free(&b);
    LT_CHECK(lt_muse_split(&fs, &rs, 0.99, 7, &b) == LT_ERR_ARG,
             "no forget text left");
    LT_CHECK(lt_muse_split(&fs, &rs, 1.0, 7, &b) == LT_ERR_ARG, "frac 1");
    lt_muse_corpus_free(&a);
    lt_text_set_free(&fs);
    lt_text_set_free(&rs);
}

LT_TEST(written_qa_is_capped_by_a_seeded_draw)
{
    const char *f[6] = {"a b c d e f g", "h i j k l m n", "o p q r s t u",
                        "v w x y z a b", "c d e f g h i", "j k l m n o p"};
    const char *r[1] = {"q r s t u v w"};
    lt_text_set fs = set_of(f, 6), rs = set_of(r, 1);
    lt_muse_corpus c;
    LT_CHECK(lt_muse_split(&fs, &rs, 0.2, 3, &c) == LT_OK, "split");
    char dir[] = "/tmp/lt_muse_XXXXXX", path[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    lt_tofu_set all, got[2];
    LT_CHECK(lt_muse_cloze_set(&c.forget, &all, NULL) == LT_OK &&
             all.n == 5, "5 forget items");
    for (int k = 0; k < 2; k++) {
        LT_CHECK(lt_muse_write(&c, dir, 2, 9) == LT_OK, "%s",
                 lt_last_error());
        snprintf(path, sizeof path, "%s/knowmem_forget.json", dir);
        LT_CHECK(lt_tofu_load(path, &got[k]) == LT_OK && got[k].n == 2,
                 "2 items written");
    }
    int64_t j = 0; /* a subsequence of the items, the same both times */
    for (int64_t i = 0; i < all.n && j < got[0].n; i++)
        j += !strcmp(all.qa[i].question, got[0].qa[j].question);
    LT_CHECK(j == 2, "kept in text order");
    for (int64_t i = 0; i < 2 && got[1].n == 2; i++)
        LT_CHECK(!strcmp(got[0].qa[i].answer, got[1].qa[i].answer),
                 "deterministic");
    snprintf(path, sizeof path, "%s/knowmem_retain.json", dir);
    lt_tofu_set rq;
    LT_CHECK(lt_tofu_load(path, &rq) == LT_OK && rq.n == 1, "retain item");
    lt_tofu_free(&rq);
    const char *names[6] = {"forget.txt", "retain.txt", "holdout.txt",
                            "train.txt", "knowmem_forget.json",
                            "knowmem_retain.json"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    lt_tofu_free(&all);
    lt_tofu_free(&got[0]);
    lt_tofu_free(&got[1]);
    lt_muse_corpus_free(&c);
    lt_text_set_free(&fs);
    lt_text_set_free(&rs);
}

/* ---- cloze items ------------------------------------------------------------------------ */

static void check_cloze(const char *text, const char *q, const char *a)
{
    char *gq = NULL, *ga = NULL;
    lt_status s = lt_muse_cloze(text, &gq, &ga);
    if (!q) {
        LT_CHECK(s == LT_ERR_ARG && !gq && !ga, "no item from '%s'", text);
        return;
    }
    LT_CHECK(s == LT_OK && gq && ga && !strcmp(gq, q) && !strcmp(ga, a),
             "'%s' -> '%s' / '%s', want '%s' / '%s'", text,
             gq ? gq : "(null)", ga ? ga : "(null)", q, a);
    free(gq);
    free(ga);
}

LT_TEST(cloze_items_by_hand)
{
    check_cloze("A is for Apple.\n\t\t-- Hester Pryne",
                "A is for Apple.\n\t\t--", "Hester Pryne");
    check_cloze("Brevity is wit.\n  --  Wm. Shakespeare, \"Hamlet\"\n",
                "Brevity is wit.\n  --", "Wm. Shakespeare, \"Hamlet\"");
    check_cloze("One two three four five six seven.",
                "One two three four", "five six seven.");
    /* only the last line's words; the answer follows a blank */
    check_cloze("one two three four five\nsix  seven",
                "one two three four five\nsix", "seven");
    check_cloze("Too short to ask.", NULL, NULL);
    check_cloze("one two three four five\nsix", NULL, NULL);
    check_cloze("\t\t-- Nobody Before", NULL, NULL);
    /* a bare "--" line gives neither kind of item */
    check_cloze("alpha beta gamma delta epsilon zeta eta\n--",
                NULL, NULL);
    const char *t[4] = {"A is for Apple.\n\t\t-- Hester Pryne", "Too short.",
                        "One two three four five six seven.", "x"};
    lt_text_set s = set_of(t, 4);
    lt_tofu_set qa;
    int64_t skipped = -1;
    LT_CHECK(lt_muse_cloze_set(&s, &qa, &skipped) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(qa.n == 2 && skipped == 2, "2 items, 2 skipped: %lld %lld",
             (long long)qa.n, (long long)skipped);
    if (qa.n == 2)
        LT_CHECK(!strcmp(qa.qa[1].answer, "five six seven."), "item 2");
    lt_tofu_free(&qa);
    lt_text_set_free(&s);
}

/* ---- tiny models ------------------------------------------------------------------------- */

static const char *const texts[6] = {
    "A is for Apple, said the teacher to the class.\n\t\t-- Hester Pryne",
    "Brevity is the soul of wit, and tediousness the limbs.\n\t\t-- Wm. Shakespeare",
    "The cat sat on the mat and looked at the moon again tonight.",
    "Time flies like an arrow; fruit flies like a banana.\n\t\t-- Groucho",
    "All that glitters is not gold, often have you heard that told.",
    "The quick brown fox jumps over the lazy dog again and again."};

static lt_tokenizer *tiny_tok(void)
{
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts o = {320, 2, sp, 1};
    lt_tokenizer *t = NULL;
    LT_CHECK(lt_tokenizer_train(texts, NULL, 6, &o, &t) == LT_OK,
             "tokenizer: %s", lt_last_error());
    return t;
}

static lt_llama *tiny_llama(const lt_tokenizer *t, uint64_t seed)
{
    int32_t eos = lt_tokenizer_special_id(t, LT_TOK_EOS);
    lt_llama_config c = {.vocab_size = lt_tokenizer_vocab_size(t),
                         .hidden_size = 32, .n_layers = 2, .n_heads = 2,
                         .n_kv_heads = 2, .head_dim = 16,
                         .intermediate_size = 64, .rms_norm_eps = 1e-6,
                         .rope_theta = 10000, .max_position_embeddings = 64,
                         .bos_token_id = eos, .eos_token_id = eos};
    lt_llama *m = NULL;
    LT_CHECK(lt_llama_create(&c, &m) == LT_OK, "create: %s", lt_last_error());
    if (m)
        lt_llama_init(m, seed);
    return m;
}

LT_TEST(cloze_questions_tokenize_as_prefixes)
{
    lt_tokenizer *t = tiny_tok();
    for (int i = 0; t && i < 6; i++) {
        char *q = NULL, *a = NULL;
        LT_CHECK(lt_muse_cloze(texts[i], &q, &a) == LT_OK, "text %d", i);
        int32_t *iq = NULL, *it = NULL;
        size_t nq = 0, nt = 0;
        LT_CHECK(q && lt_tokenizer_encode(t, q, strlen(q), &iq, &nq) ==
                 LT_OK && lt_tokenizer_encode(t, texts[i], strlen(texts[i]),
                                              &it, &nt) == LT_OK, "encode");
        LT_CHECK(nq < nt && !memcmp(iq, it, nq * sizeof *iq),
                 "text %d: question tokens are a prefix", i);
        free(iq);
        free(it);
        free(q);
        free(a);
    }
    lt_tokenizer_free(t);
}

LT_TEST(verbmem_knowmem_equal_serial_recomputation)
{
    lt_tokenizer *t = tiny_tok();
    lt_llama *m = t ? tiny_llama(t, 11) : NULL;
    if (!m) {
        lt_tokenizer_free(t);
        return;
    }
    lt_text_set s = set_of(texts, 6);
    LT_CHECK(lt_text_set_push(&s, "Hi.", 3) == LT_OK, "push");
    lt_muse_opts o = lt_muse_defaults();
    o.prefix = 5;
    o.max_new = 12;
    double per[7], mean = -1;
    int64_t used = -1, skipped = -1;
    LT_CHECK(lt_muse_verbmem(m, t, &s, &o, &mean, &used, &skipped, per) ==
             LT_OK, "verbmem: %s", lt_last_error());
    LT_CHECK(used == 6 && skipped == 1 && isnan(per[6]), "short text "
             "skipped: %lld %lld", (long long)used, (long long)skipped);
    double sum = 0;
    for (int i = 0; i < 6; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        LT_CHECK(lt_tokenizer_encode(t, texts[i], strlen(texts[i]), &ids,
                                     &n) == LT_OK && n >= 17, "encode");
        int32_t p[6] = {lt_tokenizer_start_id(t)};
        memcpy(p + 1, ids, 5 * sizeof *ids);
        char *gen = NULL, *ref = NULL;
        size_t len;
        LT_CHECK(lt_muse_continue(m, t, p, 6, 12, &gen) == LT_OK &&
                 lt_tokenizer_decode(t, ids + 5, 12, &ref, &len) == LT_OK,
                 "continue: %s", lt_last_error());
        double f1 = lt_rouge_l(gen, ref, o.stem).f1;
        LT_CHECK(per[i] == f1, "text %d: %g vs serial %g", i, per[i], f1);
        sum += f1;
        free(gen);
        free(ref);
        free(ids);
    }
    LT_CHECK(fabs(mean - sum / 6) < 1e-12, "mean");
    /* KnowMem against a serial recomputation (prompts that fit: no
     * left truncation) */
    o.qa_max_new = 8;
    lt_tofu_set qa;
    LT_CHECK(lt_muse_cloze_set(&s, &qa, NULL) == LT_OK, "cloze");
    double *pi = calloc((size_t)qa.n, sizeof *pi);
    char **gen = calloc((size_t)qa.n, sizeof *gen);
    LT_CHECK(lt_muse_knowmem(m, t, &qa, &o, &mean, pi, gen) == LT_OK,
             "knowmem: %s", lt_last_error());
    for (int64_t i = 0; i < qa.n; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        LT_CHECK(lt_tokenizer_encode(t, qa.qa[i].question,
                                     strlen(qa.qa[i].question), &ids, &n) ==
                 LT_OK, "encode");
        LT_CHECK(n + 1 + 8 <= 64, "item %lld fits", (long long)i);
        int32_t *p = malloc((n + 1) * sizeof *p);
        p[0] = lt_tokenizer_start_id(t);
        memcpy(p + 1, ids, n * sizeof *ids);
        char *g = NULL;
        LT_CHECK(lt_muse_continue(m, t, p, (int64_t)n + 1, o.qa_max_new, &g)
                 == LT_OK, "continue");
        lt_muse_answer_cut(g);
        LT_CHECK(g && gen[i] && !strcmp(g, gen[i]), "item %lld answer",
                 (long long)i);
        LT_CHECK(pi[i] == lt_rouge_l(g, qa.qa[i].answer, o.stem).f1,
                 "item %lld F1", (long long)i);
        free(g);
        free(p);
        free(ids);
        free(gen[i]);
    }
    free(gen);
    free(pi);
    lt_tofu_free(&qa);
    lt_text_set_free(&s);
    lt_llama_free(m);
    lt_tokenizer_free(t);
}

LT_TEST(answer_cut_and_privleak)
{
    char g[] = " \tMark Twain, \"Life\"\n\t\t-- x";
    LT_CHECK(!strcmp(lt_muse_answer_cut(g), "Mark Twain, \"Life\""), "cut "
             "'%s'", g);
    /* MUSE's orientation: AUCs come in with forget as member (0.9: the
     * model remembers), MUSE's AUC is 1 - that: (0.1 - 0.5) / 0.5 */
    LT_CHECK(fabs(lt_muse_privleak(0.9, 0.5) + 80.0) < 1e-12 &&
             lt_muse_privleak(0.5, 0.5) == 0.0 &&
             fabs(lt_muse_privleak(0.25, 0.5) - 50.0) < 1e-12 &&
             fabs(lt_muse_privleak(0.8, 0.6) + 50.0) < 1e-12,
             "privleak arithmetic");
    LT_CHECK(isnan(lt_muse_privleak(0.7, 1.0)) &&
             isnan(lt_muse_privleak(NAN, 0.5)), "privleak undefined");
}

/* The JSON of `lethe lm eval --benchmark muse --json`: PrivLeak from the
 * Min-K% AUC, and the precision (the process default, as --precision sets
 * it) and backend of the run. */
LT_TEST(result_json_records_privleak_precision_and_backend)
{
    lt_muse_result r;
    memset(&r, 0, sizeof r);
    for (int a = 0; a < LT_MIA_N; a++)
        r.auc[a] = 0.9;
    lt_muse_opts o = lt_muse_defaults();
    char path[] = "/tmp/lt_muse_XXXXXX";
    int fd = mkstemp(path);
    LT_CHECK(fd >= 0, "temp file");
    if (fd < 0)
        return;
    close(fd);
    lt_precision old = lt_default_precision();
    lt_set_default_precision(LT_PRECISION_BF16);
    LT_CHECK(lt_muse_write_json(path, "lethe lm eval", "m.safetensors", "d",
                                &r, &o, 0.5) == LT_OK, "%s", lt_last_error());
    lt_set_default_precision(old);
    const char *why = lt_test_json_precision(path, "bf16");
    LT_CHECK(!why, "%s", why);
    char *text = NULL;
    LT_CHECK(lt_read_file(path, &text, NULL) == LT_OK, "%s", lt_last_error());
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *pl = cJSON_GetObjectItem(j, "privleak");
    LT_CHECK(cJSON_IsNumber(pl) && fabs(pl->valuedouble + 80.0) < 1e-9,
             "privleak %g", cJSON_IsNumber(pl) ? pl->valuedouble : NAN);
    cJSON_Delete(j);
    free(text);
    unlink(path);
}

/* PrivLeak against MUSE's own code path (tests/golden/gen_muse_privleak.py:
 * Min-40% per text, sklearn's ROC AUC with holdout as member, the relative
 * difference) on hand-made token log-probs. The "hand" case is a model that
 * still remembers its forget texts: MUSE reports it strongly negative. */
#define PL_MAXT 64
typedef struct { double s[4][PL_MAXT]; int n[4]; } pl_case;

LT_TEST(privleak_matches_muse_golden)
{
    char path[512], name[64], grp[8], cur[64] = "";
    snprintf(path, sizeof path, "%s/muse_privleak.txt", LT_GOLDEN_DIR);
    FILE *f = fopen(path, "r");
    LT_CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    static char line[8192];
    static pl_case c;
    memset(&c, 0, sizeof c);
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        int off = 0;
        if (sscanf(line, "t %63s %7s %n", name, grp, &off) == 2) {
            if (strcmp(name, cur)) {
                memset(&c, 0, sizeof c);
                snprintf(cur, sizeof cur, "%s", name);
            }
            int g = !strcmp(grp, "fu") ? 0 : !strcmp(grp, "hu") ? 1 :
                    !strcmp(grp, "fr") ? 2 : 3;
            float lp[64];
            int n = 0;
            char *p = line + off, *end;
            for (double v = strtod(p, &end); end != p && n < 64;
                 v = strtod(p, &end)) {
                lp[n++] = (float)v;
                p = end;
            }
            LT_CHECK(c.n[g] < PL_MAXT, "%s: too many texts", name);
            if (c.n[g] < PL_MAXT)
                c.s[g][c.n[g]++] = lt_mia_min_k(lp, n, 0.4);
            continue;
        }
        double au, ar, leak;
        if (sscanf(line, "p %63s %lf %lf %lf", name, &au, &ar, &leak) != 4)
            continue;
        double a_u = lt_auc(c.s[0], c.n[0], c.s[1], c.n[1]);
        double a_r = lt_auc(c.s[2], c.n[2], c.s[3], c.n[3]);
        LT_CHECK(fabs((1 - a_u) - au) < 1e-12 && fabs((1 - a_r) - ar) < 1e-12,
                 "%s: MUSE AUCs %.17g %.17g want %.17g %.17g", name, 1 - a_u,
                 1 - a_r, au, ar);
        double got = lt_muse_privleak(a_u, a_r);
        LT_CHECK(fabs(got - leak) < 1e-9, "%s: PrivLeak %.17g want %.17g",
                 name, got, leak);
        if (!strcmp(name, "hand"))
            LT_CHECK(got < -50, "hand: a model that remembers its forget "
                     "texts must come out strongly negative, got %g", got);
        cases++;
    }
    fclose(f);
    LT_CHECK(cases == 4, "read %d PrivLeak cases, want 4", cases);
}

/* Examples [EOS] + text + [EOS] (as the plain-text stream shows a text
 * after the previous one's EOS), every token after the first scored. */
static void text_data(const lt_tokenizer *t, int n, lt_lm_data *d)
{
    memset(d, 0, sizeof *d);
    int32_t eos = lt_tokenizer_special_id(t, LT_TOK_EOS);
    d->tokens = malloc(1024 * sizeof *d->tokens);
    d->offset = calloc((size_t)n + 1, sizeof *d->offset);
    d->n_prompt = calloc((size_t)n, sizeof *d->n_prompt);
    for (int i = 0; i < n; i++) {
        int32_t *ids = NULL;
        size_t k = 0;
        LT_CHECK(lt_tokenizer_encode(t, texts[i], strlen(texts[i]), &ids,
                                     &k) == LT_OK, "encode");
        int64_t o = d->offset[i];
        d->tokens[o] = eos;
        memcpy(d->tokens + o + 1, ids, k * sizeof *ids);
        d->tokens[o + 1 + (int64_t)k] = eos;
        d->offset[i + 1] = o + (int64_t)k + 2;
        d->max_len = (int64_t)k + 2 > d->max_len ? (int64_t)k + 2
                                                  : d->max_len;
        free(ids);
    }
    d->n = d->cap = n;
    d->n_tokens = d->cap_tokens = d->offset[n];
}

LT_TEST(memorised_texts_score_one_and_are_detected)
{
    lt_tokenizer *t = tiny_tok();
    lt_llama *m = t ? tiny_llama(t, 3) : NULL;
    if (!m) {
        lt_tokenizer_free(t);
        return;
    }
    lt_lm_data d;
    text_data(t, 3, &d);
    lt_lm_train_cfg cfg = lt_lm_train_defaults();
    cfg.optim.lr = 1e-2f;
    cfg.epochs = 150;
    cfg.batch = 3;
    cfg.warmup = 10;
    lt_lm_report rep;
    LT_CHECK(lt_lm_train(m, &d, &cfg, &rep) == LT_OK, "train: %s",
             lt_last_error());
    lt_text_set mem = set_of(texts, 3), other = set_of(texts + 3, 3);
    lt_muse_opts o = lt_muse_defaults();
    o.prefix = 4;
    double per[3], mean = 0;
    int64_t used = 0, skipped = 0;
    LT_CHECK(lt_muse_verbmem(m, t, &mem, &o, &mean, &used, &skipped, per) ==
             LT_OK && used == 3, "verbmem: %s", lt_last_error());
    LT_CHECK(mean == 1.0, "memorised texts: VerbMem %g (%g %g %g)", mean,
             per[0], per[1], per[2]);
    lt_tofu_set qa;
    char *gen[3] = {0};
    LT_CHECK(lt_muse_cloze_set(&mem, &qa, NULL) == LT_OK && qa.n == 3,
             "cloze");
    LT_CHECK(lt_muse_knowmem(m, t, &qa, &o, &mean, NULL, gen) == LT_OK,
             "knowmem: %s", lt_last_error());
    LT_CHECK(mean == 1.0, "memorised answers: KnowMem %g", mean);
    for (int i = 0; i < 3; i++) {
        LT_CHECK(gen[i] && !strcmp(gen[i], qa.qa[i].answer), "answer %d "
                 "'%s' vs '%s'", i, gen[i] ? gen[i] : "", qa.qa[i].answer);
        free(gen[i]);
    }
    double auc[LT_MIA_N];
    LT_CHECK(lt_mia_aucs(m, t, &mem, &other, 0.4, 4, auc) == LT_OK, "aucs");
    LT_CHECK(auc[LT_MIA_LOSS] == 1.0 && auc[LT_MIA_MINK] == 1.0 &&
             auc[LT_MIA_ZLIB] == 1.0, "members separated: %g %g %g",
             auc[LT_MIA_LOSS], auc[LT_MIA_MINK], auc[LT_MIA_ZLIB]);
    /* the whole evaluation from a written corpus directory */
    char dir[] = "/tmp/lt_muse_XXXXXX";
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    lt_muse_corpus c = {0};
    lt_text_set all = set_of(texts, 6), ret = set_of(texts + 4, 2);
    LT_CHECK(lt_muse_split(&all, &ret, 0.0, 1, &c) == LT_ERR_ARG,
             "retain all inside the forget collection");
    lt_text_set fsrc = set_of(texts, 4);
    LT_CHECK(lt_muse_split(&fsrc, &ret, 0.25, 1, &c) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_muse_write(&c, dir, 0, 1) == LT_OK, "write: %s", lt_last_error());
    lt_muse_data md;
    LT_CHECK(lt_muse_data_load(dir, &md) == LT_OK, "load: %s",
             lt_last_error());
    LT_CHECK(md.forget.n == 3 && md.holdout.n == 1 && md.qa_forget.n == 3 &&
             md.qa_retain.n == 2, "corpus counts %lld %lld %lld %lld",
             (long long)md.forget.n, (long long)md.holdout.n,
             (long long)md.qa_forget.n, (long long)md.qa_retain.n);
    lt_muse_result r;
    LT_CHECK(lt_muse_eval(m, t, &md, &o, &r) == LT_OK, "eval: %s",
             lt_last_error());
    double v2;
    LT_CHECK(lt_muse_verbmem(m, t, &md.forget, &o, &v2, &used, &skipped,
                             NULL) == LT_OK && v2 == r.verbmem &&
             used == r.verbmem_n, "eval's VerbMem");
    LT_CHECK(lt_mia_aucs(m, t, &md.forget, &md.holdout, o.k, o.batch, auc)
             == LT_OK && auc[LT_MIA_MINKPP] == r.auc[LT_MIA_MINKPP],
             "eval's AUC");
    const char *names[6] = {"forget.txt", "retain.txt", "holdout.txt",
                            "train.txt", "knowmem_forget.json",
                            "knowmem_retain.json"};
    char path[256];
    snprintf(path, sizeof path, "%s/train.txt", dir);
    lt_text_set tr;
    LT_CHECK(lt_text_set_load(path, &tr) == LT_OK && tr.n == 5,
             "train = forget + retain");
    lt_text_set_free(&tr);
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        LT_CHECK(unlink(path) == 0, "%s written", names[i]);
    }
    rmdir(dir);
    lt_muse_data_free(&md);
    lt_muse_corpus_free(&c);
    lt_text_set_free(&all);
    lt_text_set_free(&ret);
    lt_text_set_free(&fsrc);
    lt_tofu_free(&qa);
    lt_text_set_free(&mem);
    lt_text_set_free(&other);
    lt_lm_data_free(&d);
    lt_llama_free(m);
    lt_tokenizer_free(t);
}

/* lt_muse_build: two collections (files), cut to max_texts, into a new
 * folder, with the sizes reported. */
LT_TEST(muse_build_writes_a_corpus_folder)
{
    char dir[] = "/tmp/lt_muse_XXXXXX", f[128], r[128], out[128], p[256];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(f, sizeof f, "%s/lit", dir);
    snprintf(r, sizeof r, "%s/sci", dir);
    snprintf(out, sizeof out, "%s/corpus/x", dir);
    FILE *a = fopen(f, "w"), *b = fopen(r, "w");
    LT_CHECK(a && b, "fopen");
    for (int i = 0; a && b && i < 12; i++) {
        fprintf(a, "forget text %d says one two three four five\n%%\n", i);
        fprintf(b, "retain text %d says six seven eight nine\n%%\n", i);
    }
    if (a)
        fclose(a);
    if (b)
        fclose(b);
    lt_muse_build_cfg c = {.forget = f, .retain = r, .max_texts = 10,
                           .holdout_frac = 0.2, .seed = 1, .qa_max = 3};
    lt_muse_build_info n;
    LT_CHECK(lt_muse_build(&c, out, &n) == LT_OK, "%s", lt_last_error());
    LT_CHECK(n.forget == 8 && n.holdout == 2 && n.retain == 10 &&
                 n.qa_forget == 3 && n.qa_retain == 3,
             "sizes %lld %lld %lld %lld %lld", (long long)n.forget,
             (long long)n.holdout, (long long)n.retain,
             (long long)n.qa_forget, (long long)n.qa_retain);
    const char *names[6] = {"forget.txt", "retain.txt", "holdout.txt",
                            "train.txt", "knowmem_forget.json",
                            "knowmem_retain.json"};
    for (int i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/%s", out, names[i]);
        LT_CHECK(access(p, R_OK) == 0, "%s written", p);
        unlink(p);
    }
    c.forget = "/nonexistent/lit";
    LT_CHECK(lt_muse_build(&c, out, NULL) != LT_OK &&
                 strstr(lt_last_error(), "/nonexistent/lit"), "%s",
             lt_last_error());
    rmdir(out);
    snprintf(p, sizeof p, "%s/corpus", dir);
    rmdir(p);
    unlink(f);
    unlink(r);
    rmdir(dir);
}

LT_TEST_MAIN()
