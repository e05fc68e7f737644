/*
 * lm_open.c - a language model with the tokenizer saved beside it
 * (lethe/lm.h): where that tokenizer lives, loading the pair with a check
 * that their vocabularies agree, and the padding id with its EOS fallback.
 */
#include "lethe/lm.h"

#include <stdio.h>
#include <string.h>

void lt_lm_tokenizer_path(const char *model, char *buf, size_t n)
{
    size_t k = strlen(model);
    const char *ext = ".safetensors";
    size_t e = strlen(ext);
    if (k >= e && !strcmp(model + k - e, ext))
        snprintf(buf, n, "%.*s.tokenizer.json", (int)(k - e), model);
    else
        snprintf(buf, n, "%s/tokenizer.json", model);
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
