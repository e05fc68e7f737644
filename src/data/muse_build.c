/*
 * muse_build.c - a MUSE-shaped corpus folder from two fortune collections
 * in one call (lethe/fortunes.h, lt_muse_build): load, split, write. Used
 * by `lethe data muse` and the MUSE benchmark.
 */
#include "lethe/fortunes.h"
#include "lethe/io.h"

#include <string.h>

/* The first max (0: all) texts of collection name. */
static lt_status mb_collection(const lt_muse_build_cfg *c, const char *name,
                               lt_text_set *out)
{
    lt_text_set all = {0};
    lt_status st = lt_fortune_load(c->fortune_dir, name, &all);
    if (st != LT_OK || c->max_texts <= 0 || all.n <= c->max_texts) {
        *out = all;
        return st;
    }
    *out = (lt_text_set){0};
    for (int64_t i = 0; i < c->max_texts && st == LT_OK; i++)
        st = lt_text_set_push(out, all.text[i], strlen(all.text[i]));
    lt_text_set_free(&all);
    return st;
}

/* Cloze items of s that lt_muse_write keeps. */
static int64_t mb_qa_count(const lt_text_set *s, int64_t qa_max)
{
    lt_tofu_set q = {0};
    int64_t n = lt_muse_cloze_set(s, &q, NULL) == LT_OK ? q.n : 0;
    lt_tofu_free(&q);
    return qa_max > 0 && n > qa_max ? qa_max : n;
}

lt_muse_build_cfg lt_muse_build_defaults(void)
{
    return (lt_muse_build_cfg){.fortune_dir = LT_FORTUNE_DIR,
                               .forget = "literature", .retain = "science",
                               .holdout_frac = 0.2, .seed = 1,
                               .qa_max = 200};
}

lt_status lt_muse_build(const lt_muse_build_cfg *c, const char *dir,
                        lt_muse_build_info *info)
{
    if (!c || !c->forget || !c->retain || !dir)
        return lt_set_error(LT_ERR_ARG, "muse build: NULL argument");
    lt_text_set f = {0}, r = {0};
    lt_muse_corpus mc = {0};
    lt_status st = mb_collection(c, c->forget, &f);
    if (st == LT_OK)
        st = mb_collection(c, c->retain, &r);
    if (st == LT_OK)
        st = lt_muse_split(&f, &r, c->holdout_frac, c->seed, &mc);
    if (st == LT_OK)
        st = lt_mkdirs(dir);
    if (st == LT_OK)
        st = lt_muse_write(&mc, dir, c->qa_max, c->seed);
    if (st == LT_OK && info)
        *info = (lt_muse_build_info){mc.forget.n, mc.holdout.n, mc.retain.n,
                                     mb_qa_count(&mc.forget, c->qa_max),
                                     mb_qa_count(&mc.retain, c->qa_max)};
    lt_muse_corpus_free(&mc);
    lt_text_set_free(&f);
    lt_text_set_free(&r);
    return st;
}
