/*
 * dm_unlearn_fmn.c - the data of `lethe dm unlearn --method fmn`: the
 * FashionCanvas training pictures of one style or object (--concept
 * style:NAME | object:NAME), each with its canonical caption ("An {object}
 * image in {style} style.", UnlearnCanvas' prompt) encoded by the model's
 * text encoder, and the marks of the concept's word and the <eos> in it
 * (lt_fmn_positions). The script's own prompts ("a photo of X", "a photo
 * in the style of X") use words outside FashionCanvas' vocabulary.
 */
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/canvas.h"
#include "lethe/dm_text_unlearn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "style:NAME" / "object:NAME" -> the index (*is_style says which), or
 * an exit code. */
static int parse_target(const char *concept, bool *is_style, int *idx)
{
    const char *name = NULL;
    if (!strncmp(concept, "style:", 6)) {
        *is_style = true;
        name = concept + 6;
        *idx = lt_canvas_style_find(name);
    } else if (!strncmp(concept, "object:", 7)) {
        *is_style = false;
        name = concept + 7;
        *idx = lt_canvas_object_find(name);
    }
    if (!name || *idx < 0) {
        fprintf(stderr, "lethe dm unlearn: --concept '%s': fmn takes "
                "style:NAME or object:NAME of FashionCanvas (e.g. style:neon, "
                "object:bag)\n", concept);
        return 2;
    }
    return 0;
}

/* The concept's caption word, lower case, into buf. */
static void concept_word(bool is_style, int idx, char *buf, size_t n)
{
    const char *w = is_style ? lt_canvas_style_at(idx)->name
                             : lt_canvas_object_at(idx)->word;
    size_t i = 0;
    for (; w[i] && i + 1 < n; i++)
        buf[i] = (char)tolower((unsigned char)w[i]);
    buf[i] = 0;
}

/* Context and marks of caption text into ctx [L, D] and mask [L]. */
static int encode(lt_clip *clip, const lt_clip_vocab *v, const char *text,
                  int32_t cid, lt_ctx *c, int32_t *ids, float *ctx,
                  float *mask)
{
    int L = clip->cfg.context_length, D = clip->cfg.width;
    if (lt_clip_tokenize(v, text, L, ids, NULL, NULL) != LT_OK ||
        lt_fmn_positions(ids, L, &cid, 1, true, mask, NULL) != LT_OK)
        return cli_fail("dm unlearn", "a concept caption");
    lt_ctx_reset(c);
    lt_tensor *h = lt_clip_text_encode(c, clip, ids, 1);
    if (!h)
        return cli_fail("dm unlearn", "--encoder");
    memcpy(ctx, h->data, (size_t)L * D * sizeof *ctx);
    return 0;
}

int cli_dm_fmn_data(const char *concept, const char *data, lt_clip *clip,
                    const lt_clip_vocab *v, cli_dm_fmn_set *out)
{
    memset(out, 0, sizeof *out);
    bool is_style = false;
    int idx = -1, rc = parse_target(concept, &is_style, &idx);
    if (rc)
        return rc;
    if (!data)
        return cli_usage("dm unlearn", "--method fmn needs --data canvas:DIR "
                         "(the FashionCanvas folder: its pictures of the "
                         "concept)");
    char word[64];
    concept_word(is_style, idx, word, sizeof word);
    int32_t cid = lt_clip_vocab_id(v, word);
    if (cid < 0) {
        fprintf(stderr, "lethe dm unlearn: the encoder's vocabulary lacks "
                "'%s'\n", word);
        return 2;
    }
    lt_canvas cv = {0};
    const char *dir = !strncmp(data, "canvas:", 7) ? data + 7 : data;
    if (lt_canvas_load(dir, "train", &cv) != LT_OK)
        return cli_fail("dm unlearn", "--data");
    int64_t n = 0, per = 3 * 32 * 32;
    int L = clip->cfg.context_length, D = clip->cfg.width;
    for (int64_t i = 0; i < cv.n; i++)
        n += (is_style ? cv.style[i] : cv.object[i]) == idx;
    out->x = malloc((size_t)(n * per) * sizeof *out->x);
    out->ctx = malloc((size_t)(n * L * D) * sizeof *out->ctx);
    out->mask = malloc((size_t)(n * L) * sizeof *out->mask);
    int32_t *ids = malloc((size_t)L * sizeof *ids);
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&clip->cfg, 1, 32, 32, false));
    rc = n > 0 && out->x && out->ctx && out->mask && ids && c
             ? 0
             : n == 0 ? cli_usage("dm unlearn", "--data has no picture of "
                                  "the concept")
                      : cli_fail("dm unlearn", NULL);
    if (c)
        lt_set_grad_enabled(c, false);
    char cap[LT_CANVAS_CAPTION_MAX];
    for (int64_t i = 0, k = 0; !rc && i < cv.n; i++) {
        if ((is_style ? cv.style[i] : cv.object[i]) != idx)
            continue;
        for (int64_t j = 0; j < per; j++)
            out->x[k * per + j] = 2 * cv.x[i * per + j] - 1;
        if (lt_canvas_caption_canonical(&cv, i, cap, sizeof cap) != LT_OK)
            rc = cli_fail("dm unlearn", "--data");
        else
            rc = encode(clip, v, cap, cid, c, ids, out->ctx + k * L * D,
                        out->mask + k * L);
        k++;
    }
    out->n = n;
    lt_ctx_free(c);
    free(ids);
    lt_canvas_free(&cv);
    if (rc)
        cli_dm_fmn_free(out);
    return rc;
}

void cli_dm_fmn_free(cli_dm_fmn_set *s)
{
    free(s->x);
    free(s->ctx);
    free(s->mask);
    memset(s, 0, sizeof *s);
}
