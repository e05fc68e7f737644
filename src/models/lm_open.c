/*
 * lm_open.c - a language model with the tokenizer saved beside it
 * (lethe/lm.h): where that tokenizer lives, loading the pair with a check
 * that their vocabularies agree and that the tokenizer is the very file
 * the model was saved with (its SHA-256 in the model's metadata), the
 * padding id with its EOS fallback, saving the pair, and a model config
 * that fits a tokenizer.
 */
#include "lethe/fileset.h"
#include "lethe/io.h"
#include "lethe/lm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool lm_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

void lt_lm_tokenizer_path(const char *model, char *buf, size_t n)
{
    if (lm_ends_with(model, ".safetensors"))
        snprintf(buf, n, "%.*s.tokenizer.json",
                 (int)(strlen(model) - strlen(".safetensors")), model);
    else
        snprintf(buf, n, "%s/tokenizer.json", model);
}

lt_status lt_lm_check_pair(const lt_llama *m, const char *model,
                           const char *tok)
{
    if (!m || !model || !tok)
        return lt_set_error(LT_ERR_ARG, "lm pair: NULL argument");
    if (!m->tokenizer_sha256[0])
        return LT_OK; /* an older checkpoint: nothing recorded */
    char *text = NULL, hex[65];
    size_t len = 0;
    if (lt_read_file(tok, &text, &len) != LT_OK)
        return lt_last_status();
    lt_sha256(text, len, hex);
    free(text);
    if (strcmp(hex, m->tokenizer_sha256))
        return lt_set_error(LT_ERR_FORMAT, "tokenizer %s is not the one "
                            "model %s was saved with (its SHA-256 is "
                            "%.16s..., the model records %.16s...): save "
                            "the model and its tokenizer again together, or "
                            "name a tokenizer with --tokenizer", tok, model,
                            hex, m->tokenizer_sha256);
    return LT_OK;
}

lt_status lt_lm_open(const char *model, const char *tok, lt_llama **m,
                     lt_tokenizer **t)
{
    char def[4200];
    *m = NULL;
    *t = NULL;
    if (!tok) {
        lt_lm_tokenizer_path(model, def, sizeof def);
        tok = def;
    }
    lt_status st = lt_llama_load(model, m);
    if (st == LT_OK)
        st = lt_tokenizer_load(tok, t);
    /* the pair beside each other must be the one saved together (a crash
     * between the two renames, or a file copied over one of them); a
     * tokenizer named by the caller is the caller's choice */
    if (st == LT_OK && tok == def && (*m)->tokenizer_sha256[0])
        st = lt_lm_check_pair(*m, model, tok);
    if (st == LT_OK && lt_tokenizer_vocab_size(*t) != (*m)->cfg.vocab_size)
        st = lt_set_error(LT_ERR_FORMAT, "tokenizer %s has %d tokens but "
                          "model %s has a vocabulary of %d", tok,
                          lt_tokenizer_vocab_size(*t), model,
                          (*m)->cfg.vocab_size);
    if (st == LT_OK)
        return LT_OK;
    lt_llama_free(*m);
    lt_tokenizer_free(*t);
    *m = NULL;
    *t = NULL;
    return st;
}

int32_t lt_lm_pad_id(const lt_tokenizer *t)
{
    int32_t pad = lt_tokenizer_special_id(t, LT_TOK_PAD);
    return pad >= 0 ? pad : lt_tokenizer_special_id(t, LT_TOK_EOS);
}

lt_status lt_lm_save(const lt_llama *m, const lt_tokenizer *t,
                     const char *out, char *tok_path, size_t n)
{
    char buf[4200];
    if (!m || !t || !out || !*out)
        return lt_set_error(LT_ERR_ARG, "lm save: NULL argument");
    if (!tok_path || !n) {
        tok_path = buf;
        n = sizeof buf;
    }
    lt_lm_tokenizer_path(out, tok_path, n);
    /* the tokenizer's exact bytes (those lt_tokenizer_save writes), whose
     * hash goes into the model's metadata */
    char *json = lt_tokenizer_to_json(t), hex[65];
    if (!json)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", tok_path);
    size_t len = strlen(json);
    lt_sha256(json, len, hex);
    const char *meta[2] = {"lethe.tokenizer_sha256", hex};
    lt_status st;
    if (!lm_ends_with(out, ".safetensors")) { /* a folder: the model makes it */
        st = lt_llama_save_meta(m, out, 0, meta, 1);
        if (st == LT_OK)
            st = lt_write_file_atomic(tok_path, json, len);
        free(json);
        return st;
    }
    /* A file: the tokenizer first, so that a model file is never there
     * without its tokenizer (not even after a crash between the two). */
    bool had = access(tok_path, F_OK) == 0;
    st = lt_write_file_atomic(tok_path, json, len);
    free(json);
    if (st == LT_OK && (st = lt_llama_save_meta(m, out, 0, meta, 1)) != LT_OK &&
        !had && !lt_commit_active())
        remove(tok_path); /* keeps the error */
    return st;
}

lt_status lt_lm_config(const char *spec, const lt_tokenizer *t,
                       lt_llama_config *out)
{
    if (!spec || !t || !out)
        return lt_set_error(LT_ERR_ARG, "lm config: NULL argument");
    int V = lt_tokenizer_vocab_size(t);
    lt_status st = lm_ends_with(spec, ".json") ?
                   lt_llama_config_load(spec, out) :
                   lt_llama_preset(spec, V, out);
    if (st != LT_OK)
        return st;
    if (out->vocab_size != V)
        return lt_set_error(LT_ERR_ARG, "%s has vocab_size %d but the "
                            "tokenizer has %d tokens", spec, out->vocab_size,
                            V);
    out->bos_token_id = lt_tokenizer_special_id(t, LT_TOK_BOS);
    out->eos_token_id = lt_tokenizer_special_id(t, LT_TOK_EOS);
    return LT_OK;
}

void lt_lm_fileset_add(lt_fileset *s, bool out, const char *what,
                       const char *model, const char *tok_what,
                       const char *tok)
{
    /* the files lt_llama_save writes into (and lt_llama_load reads from) a
     * Hugging Face folder */
    static const char *const hf[] = {"model.safetensors", "config.json", NULL};
    if (!model || !*model)
        return;
    lt_fileset_add(s, out, what, model);
    if (!lm_ends_with(model, ".safetensors"))
        lt_fileset_add_dir(s, out, what, model, hf);
    if (!tok) {
        char t[4200], w[256];
        lt_lm_tokenizer_path(model, t, sizeof t);
        snprintf(w, sizeof w, "%s's tokenizer", what);
        lt_fileset_add(s, out, w, t);
    }
    lt_fileset_add(s, out, tok_what, tok);
}
