/*
 * tofu_models.c - the starting point of `lethe bench tofu`, built once and
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
#include "cli/tofu_models.h"

#include "cli/args.h"
#include "cli/common.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void lt_tofu_path(const lt_tofu_setup *s, const char *name, char *buf,
                  size_t n)
{
    snprintf(buf, n, "%s/%s", s->dir, name);
}

/* ---- data --------------------------------------------------------------- */

static int lt_tofu_fail(const char *what)
{
    return lt_cli_fail("bench tofu", what);
}

/* The WordNet sets, written with lt_tofu_save. */
static int lt_tofu_utility_data(const lt_tofu_setup_opts *o,
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
        return lt_tofu_fail("world facts");
    lt_tofu_path(s, "real_authors.json", path, sizeof path);
    st = lt_tofu_wordnet_authors_set(NULL, o->real_authors, o->seed, &set);
    if (st == LT_OK)
        st = lt_tofu_save(path, &set);
    lt_tofu_free(&set);
    return st == LT_OK ? 0 : lt_tofu_fail("real authors");
}

static int lt_tofu_data(const lt_tofu_setup_opts *o, lt_tofu_setup *s)
{
    char key[256], done[1200];
    snprintf(key, sizeof key, "authors=%d seed=%llu wf=%d ra=%d v1",
             o->authors, (unsigned long long)o->seed, o->world_facts,
             o->real_authors);
    snprintf(s->dir, sizeof s->dir, "%s/tofu-%016llx", o->cache,
             (unsigned long long)lt_cli_fnv(key));
    lt_tofu_path(s, "real_authors.json", done, sizeof done);
    if (access(done, F_OK) == 0)
        return 0;
    if (lt_cli_mkdirs(s->dir))
        return 1;
    if (lt_tofu_synth(o->authors, o->seed, s->dir) != LT_OK)
        return lt_tofu_fail(s->dir);
    if (lt_tofu_utility_data(o, s))
        return 1;
    printf("tofu data: %d authors, %d world facts, %d real authors in %s\n",
           o->authors, o->world_facts, o->real_authors, s->dir);
    return 0;
}

/* ---- training ------------------------------------------------------------- */

/* The QA records a model trains on: split + both utility sets. */
static int lt_tofu_train_set(const lt_tofu_setup *s, const char *split,
                             lt_tofu_set *out)
{
    char list[4000];
    snprintf(list, sizeof list, "%s/%s,%s/world_facts.json,%s/real_authors.json",
             s->dir, split, s->dir, s->dir);
    return lt_cli_tofu_load_list("bench tofu", list, out);
}

/* The shared tokenizer: trained on the full set's texts, or loaded. */
static int lt_tofu_tokenizer(const lt_tofu_setup_opts *o, const char *path,
                             const lt_tofu_setup *s, lt_tokenizer **t)
{
    if (access(path, F_OK) == 0)
        return lt_tokenizer_load(path, t) == LT_OK ? 0 : lt_tofu_fail(path);
    lt_tofu_set all;
    if (lt_tofu_train_set(s, "full.json", &all))
        return 1;
    const char *sp[] = {"<|endoftext|>"};
    lt_tokenizer_train_opts to = {o->vocab, 2, sp, 1};
    lt_status st = lt_lm_tokenizer_for_qa(&all, &to, t);
    lt_tofu_free(&all);
    if (st == LT_OK)
        st = lt_tokenizer_save(*t, path);
    return st == LT_OK ? 0 : lt_tofu_fail(path);
}

static lt_lm_train_cfg lt_tofu_train_cfg(const lt_tofu_setup_opts *o,
                                         const lt_tokenizer *t, int64_t n)
{
    lt_lm_train_cfg c = lt_lm_train_defaults();
    c.optim.lr = o->lr;
    c.epochs = o->epochs;
    c.batch = o->batch;
    c.seed = o->seed;
    int64_t steps = c.epochs * lt_lm_steps_per_epoch(&c, n);
    c.warmup = steps / 20 < 100 ? steps / 20 : 100;
    c.pad_id = lt_tokenizer_special_id(t, LT_TOK_PAD);
    if (c.pad_id < 0)
        c.pad_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    return c;
}

/* A model from scratch on split + utility sets, saved with the tokenizer
 * beside it. */
static int lt_tofu_train(const lt_tofu_setup_opts *o, const lt_tofu_setup *s,
                         const lt_tokenizer *t, const char *split,
                         const char *out)
{
    lt_tofu_set set;
    if (lt_tofu_train_set(s, split, &set))
        return 1;
    lt_llama_config cfg;
    lt_llama *m = NULL;
    lt_lm_data d = {0};
    lt_status st = lt_llama_preset(o->config, lt_tokenizer_vocab_size(t), &cfg);
    cfg.bos_token_id = lt_tokenizer_special_id(t, LT_TOK_BOS);
    cfg.eos_token_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    if (st == LT_OK)
        st = lt_llama_create(&cfg, &m);
    if (st == LT_OK)
        st = lt_lm_data_qa(t, &set, cfg.max_position_embeddings, &d);
    lt_tofu_free(&set);
    lt_cli_lm_ui ui = {0};
    snprintf(ui.label, sizeof ui.label, "%s", split);
    lt_lm_train_cfg tc = lt_tofu_train_cfg(o, t, d.n);
    tc.progress = lt_cli_lm_progress;
    tc.ud = &ui;
    lt_lm_report rep = {0};
    if (st == LT_OK) {
        lt_llama_init(m, o->seed);
        st = lt_lm_train(m, &d, &tc, &rep);
    }
    if (ui.started)
        lt_progress_end(&ui.bar);
    char tok_path[1200];
    lt_cli_lm_tok_path(out, tok_path, sizeof tok_path);
    if (st == LT_OK)
        st = lt_tokenizer_save(t, tok_path);
    if (st == LT_OK)
        st = lt_llama_save(m, out, 0);
    int64_t n = d.n;
    lt_llama_free(m);
    lt_lm_data_free(&d);
    if (st != LT_OK)
        return lt_tofu_fail(out);
    printf("trained %s on %s + utility sets: %lld examples, loss %.4f -> "
           "%.4f, %.0f s\n", out, split, (long long)n, rep.first_loss,
           rep.last_loss, rep.seconds);
    return 0;
}

int lt_tofu_setup_run(const lt_tofu_setup_opts *o, lt_tofu_setup *out)
{
    *out = (lt_tofu_setup){0};
    if (lt_tofu_data(o, out))
        return 1;
    char key[256], tok[1200], retain[64];
    snprintf(key, sizeof key, "config=%s epochs=%d batch=%d lr=%g vocab=%d v1",
             o->config, o->epochs, o->batch, (double)o->lr, o->vocab);
    unsigned long long h = (unsigned long long)lt_cli_fnv(key);
    snprintf(tok, sizeof tok, "%s/tokenizer-%016llx.json", out->dir, h);
    snprintf(out->full_model, sizeof out->full_model,
             "%s/full-%016llx.safetensors", out->dir, h);
    snprintf(out->retain_model, sizeof out->retain_model,
             "%s/retain%02d-%016llx.safetensors", out->dir,
             100 - o->forget_pct, h);
    snprintf(retain, sizeof retain, "retain%02d.json", 100 - o->forget_pct);
    lt_tokenizer *t = NULL;
    if (lt_tofu_tokenizer(o, tok, out, &t))
        return 1;
    double t0 = lt_now();
    int rc = 0;
    if (access(out->full_model, F_OK) != 0)
        rc = lt_tofu_train(o, out, t, "full.json", out->full_model);
    if (!rc && access(out->retain_model, F_OK) != 0)
        rc = lt_tofu_train(o, out, t, retain, out->retain_model);
    out->train_seconds = lt_now() - t0;
    lt_tokenizer_free(t);
    return rc;
}
