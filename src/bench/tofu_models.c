/*
 * tofu_models.c - the starting point of lt_bench_tofu, built once and
 * cached: the synthetic TOFU file set (lt_tofu_synth: full, forgetNN,
 * retainNN and their _perturbed evaluation files) plus two utility sets
 * from real text (WordNet noun glosses as world facts, WordNet writers as
 * real authors), one tokenizer trained on all of it, and two models
 * trained from scratch with the same seed and schedule:
 *   full    on full + world facts + real authors (TOFU's fine-tuned model;
 *           the utility sets stand in for what Llama-2 knew beforehand),
 *   retain  on retainNN + world facts + real authors (TOFU's retain model,
 *           the reference of forget quality).
 * Folder: <cache>/tofu-<key of the data>/, models named by a key of the
 * training options, so changing any option trains new ones.
 */
#include "bench/tofu_models.h"

#include "bench/bench_util.h"
#include "lethe/io.h"

#include <stdio.h>
#include <string.h>

void lt_tofu_path(const lt_tofu_setup *s, const char *name, char *buf,
                  size_t n)
{
    snprintf(buf, n, "%s/%s", s->dir, name);
}

/* ---- data --------------------------------------------------------------- */

/* The WordNet sets, written with lt_tofu_save. */
static lt_status lt_tofu_utility_data(const lt_bench_tofu_cfg *o,
                                      const lt_tofu_setup *s)
{
    char path[1200];
    lt_tofu_set set = {0};
    lt_tofu_path(s, "world_facts.json", path, sizeof path);
    lt_status st = lt_tofu_wordnet_set(NULL, o->world_facts, o->seed, &set);
    if (st == LT_OK)
        st = lt_tofu_save(path, &set);
    lt_tofu_free(&set);
    if (st != LT_OK)
        return lt_set_error(st, "world facts: %s", lt_last_error());
    lt_tofu_path(s, "real_authors.json", path, sizeof path);
    st = lt_tofu_wordnet_authors_set(NULL, o->real_authors, o->seed, &set);
    if (st == LT_OK)
        st = lt_tofu_save(path, &set);
    lt_tofu_free(&set);
    return st == LT_OK ? LT_OK : lt_set_error(st, "real authors: %s",
                                              lt_last_error());
}

static lt_status lt_tofu_data(const lt_bench_tofu_cfg *o, lt_tofu_setup *s)
{
    char key[256], done[1200];
    snprintf(key, sizeof key, "authors=%d seed=%llu wf=%d ra=%d v1",
             o->authors, (unsigned long long)o->seed, o->world_facts,
             o->real_authors);
    snprintf(s->dir, sizeof s->dir, "%s/tofu-%016llx", o->cache,
             (unsigned long long)lt_bench_fnv(key));
    lt_tofu_path(s, "real_authors.json", done, sizeof done);
    if (lt_bench_exists(done))
        return LT_OK;
    lt_status st = lt_mkdirs(s->dir);
    if (st == LT_OK && lt_tofu_synth(o->authors, o->seed, s->dir) != LT_OK)
        st = lt_set_error(LT_ERR_IO, "%s: %s", s->dir, lt_last_error());
    if (st == LT_OK)
        st = lt_tofu_utility_data(o, s);
    if (st == LT_OK)
        lt_bench_note(o->progress, o->ud, "tofu data: %d authors, %d world "
                      "facts, %d real authors in %s", o->authors,
                      o->world_facts, o->real_authors, s->dir);
    return st;
}

/* ---- training ------------------------------------------------------------- */

/* The QA records a model trains on: split + both utility sets. */
static lt_status lt_tofu_train_set(const lt_tofu_setup *s, const char *split,
                                   lt_tofu_set *out)
{
    char list[4000];
    snprintf(list, sizeof list, "%s/%s,%s/world_facts.json,%s/real_authors.json",
             s->dir, split, s->dir, s->dir);
    return lt_tofu_load_list(list, out);
}

/* The shared tokenizer: trained on the full set's texts, or loaded. */
static lt_status lt_tofu_tokenizer(const lt_bench_tofu_cfg *o,
                                   const char *path, const lt_tofu_setup *s,
                                   lt_tokenizer **t)
{
    if (lt_bench_exists(path))
        return lt_tokenizer_load(path, t);
    lt_tofu_set all;
    lt_status st = lt_tofu_train_set(s, "full.json", &all);
    if (st != LT_OK)
        return st;
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts to = {o->vocab, 2, sp, 1};
    st = lt_lm_tokenizer_for_qa(&all, &to, t);
    lt_tofu_free(&all);
    if (st == LT_OK)
        st = lt_tokenizer_save(*t, path);
    return st;
}

/* A model from scratch on split + utility sets, saved with the tokenizer
 * beside it. */
static lt_status lt_tofu_train(const lt_bench_tofu_cfg *o,
                               const lt_tofu_setup *s, const lt_tokenizer *t,
                               const char *split, const char *out)
{
    lt_bench_lm_recipe r = {o->config, o->train_epochs, o->train_batch,
                            o->train_lr, o->seed};
    lt_tofu_set set;
    lt_status st = lt_tofu_train_set(s, split, &set);
    if (st != LT_OK)
        return st;
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    lt_bench_fwd fwd = {o->progress, o->ud, split};
    lt_lm_report rep = {0};
    st = lt_bench_lm_new(&r, t, 0, &m);
    if (st == LT_OK)
        st = lt_lm_data_qa(t, &set, m->cfg.max_position_embeddings, &d);
    lt_tofu_free(&set);
    if (st == LT_OK)
        st = lt_bench_lm_fit(&r, m, t, &d, &fwd, out, &rep);
    if (st == LT_OK)
        lt_bench_note(o->progress, o->ud, "trained %s on %s + utility sets: "
                      "%lld examples, loss %.4f -> %.4f, %.0f s", out, split,
                      (long long)d.n, rep.first_loss, rep.last_loss,
                      rep.seconds);
    lt_llama_free(m);
    lt_lm_data_free(&d);
    return st == LT_OK ? LT_OK : lt_set_error(st, "%s: %s", out,
                                              lt_last_error());
}

lt_status lt_tofu_setup_run(const lt_bench_tofu_cfg *o, lt_tofu_setup *out)
{
    *out = (lt_tofu_setup){0};
    lt_status st = lt_tofu_data(o, out);
    if (st != LT_OK)
        return st;
    char key[256], tok[1200], retain[64];
    snprintf(key, sizeof key, "config=%s epochs=%d batch=%d lr=%g vocab=%d v1",
             o->config, o->train_epochs, o->train_batch, (double)o->train_lr,
             o->vocab);
    unsigned long long h = (unsigned long long)lt_bench_fnv(key);
    snprintf(tok, sizeof tok, "%s/tokenizer-%016llx.json", out->dir, h);
    /* the models of a bf16 run are its own (the tokenizer is shared) */
    h = (unsigned long long)lt_bench_fnv_precision(h);
    snprintf(out->full_model, sizeof out->full_model,
             "%s/full-%016llx.safetensors", out->dir, h);
    snprintf(out->retain_model, sizeof out->retain_model,
             "%s/retain%02d-%016llx.safetensors", out->dir,
             100 - o->forget_pct, h);
    snprintf(retain, sizeof retain, "retain%02d.json", 100 - o->forget_pct);
    lt_tokenizer *t = NULL;
    st = lt_tofu_tokenizer(o, tok, out, &t);
    double t0 = lt_clock_seconds();
    if (st == LT_OK && !lt_bench_exists(out->full_model))
        st = lt_tofu_train(o, out, t, "full.json", out->full_model);
    if (st == LT_OK && !lt_bench_exists(out->retain_model))
        st = lt_tofu_train(o, out, t, retain, out->retain_model);
    out->train_seconds = lt_clock_seconds() - t0;
    lt_tokenizer_free(t);
    return st;
}
