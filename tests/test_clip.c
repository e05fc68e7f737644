/*
 * test_clip.c - the CLIP-like text encoder of lethe/clip.h: its forward
 * pass, contrastive loss and every gradient against the PyTorch twin of
 * tests/golden/gen_clip.py (from token ids, from input embeddings and from
 * a soft one-hot over the vocabulary), the word-level tokenizer (exact
 * ids, punctuation, truncation, unknown words named), vocabulary and
 * checkpoint files, and contrastive pretraining on a synthetic task
 * (coloured squares named by their captions) with an exact resume.
 */
#include "lethe/clip.h"
#include "lethe/io.h"
#include "lt_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GB 3 /* golden batch */

/* ---- golden ------------------------------------------------------------------------ */

static lt_clip *golden_model(const lt_golden *g)
{
    lt_clip_config cfg = {.vocab_size = 20, .context_length = 8, .width = 16,
                          .layers = 2, .heads = 4, .mlp = 32, .embed_dim = 12,
                          .ln_eps = 1e-5f, .vision_stages = 2,
                          .vision_widths = {4, 8}, .vision_groups = 2,
                          .gn_eps = 1e-5f};
    lt_clip *m = NULL;
    LT_CHECK(lt_clip_create(&cfg, &m) == LT_OK, "create: %s", lt_last_error());
    for (int i = 0; m && i < m->params.count; i++) {
        char name[160];
        snprintf(name, sizeof name, "param.%s", m->params.p[i].name);
        const lt_golden_entry *e = lt_golden_get(g, name);
        if (e && e->numel == m->params.p[i].t.numel)
            memcpy(m->params.p[i].t.data, e->data,
                   (size_t)e->numel * sizeof(float));
        else
            LT_CHECK(0, "%s missing or of another size", name);
    }
    return m;
}

/* The loss from input embeddings x [B, L, D] on the golden batch. */
static lt_tensor *golden_loss(lt_ctx *c, lt_clip *m, const lt_golden *g,
                              lt_tensor *x, lt_tensor **hidden,
                              lt_tensor **logits, lt_tensor **t,
                              lt_tensor **v)
{
    int32_t *eos = lt_golden_ints(c, g, "eos");
    *hidden = lt_clip_text_hidden(c, m, x);
    *t = lt_clip_text_project(c, m, *hidden, eos);
    *v = lt_clip_image_embeds(c, m, lt_golden_tensor(c, g, "images", false));
    return lt_clip_loss(c, m, *t, *v, logits);
}

LT_TEST(golden_text_image_loss_and_every_gradient)
{
    lt_golden *g = lt_golden_load("clip.bin");
    lt_clip *m = g ? golden_model(g) : NULL;
    if (!m)
        goto done;
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&m->cfg, GB, 16, 16, true));
    int32_t *ids = lt_golden_ints(c, g, "ids");
    lt_tensor *h, *logits, *t, *v;
    lt_tensor *loss = golden_loss(c, m, g, lt_clip_token_embeds(c, m, ids, GB),
                                  &h, &logits, &t, &v);
    LT_CHECK_OK(loss);
    if (loss) {
        LT_GOLDEN_CHECK(g, "hidden", h->data, h->numel);
        LT_GOLDEN_CHECK(g, "text_embeds", t->data, t->numel);
        LT_GOLDEN_CHECK(g, "image_embeds", v->data, v->numel);
        LT_GOLDEN_CHECK(g, "logits", logits->data, logits->numel);
        LT_GOLDEN_CHECK(g, "loss", loss->data, 1);
        LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
        for (int i = 0; i < m->params.count; i++) {
            char name[160];
            snprintf(name, sizeof name, "grad.%s", m->params.p[i].name);
            LT_GOLDEN_CHECK(g, name, m->params.p[i].t.grad,
                            m->params.p[i].t.numel);
        }
    }
    lt_ctx_free(c);
done:
    lt_clip_free(m);
    lt_golden_free(g);
}

LT_TEST(golden_gradient_reaches_input_embeddings)
{
    lt_golden *g = lt_golden_load("clip.bin");
    lt_clip *m = g ? golden_model(g) : NULL;
    if (!m)
        goto done;
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&m->cfg, GB, 16, 16, true));
    lt_tensor *x = lt_golden_tensor(c, g, "emb.x", true);
    lt_tensor *h, *logits, *t, *v;
    lt_tensor *loss = golden_loss(c, m, g, x, &h, &logits, &t, &v);
    LT_CHECK_OK(loss);
    if (loss) {
        LT_GOLDEN_CHECK(g, "emb.loss", loss->data, 1);
        LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
        LT_CHECK(x->grad != NULL, "no gradient for the input embeddings");
        if (x->grad)
            LT_GOLDEN_CHECK(g, "emb.grad_x", x->grad, x->numel);
    }
    lt_ctx_free(c);
done:
    lt_clip_free(m);
    lt_golden_free(g);
}

/* UnlearnDiff's parametrisation: x = s [B, L, V] @ token table. */
LT_TEST(golden_soft_one_hot_reaches_table_and_weights)
{
    lt_golden *g = lt_golden_load("clip.bin");
    lt_clip *m = g ? golden_model(g) : NULL;
    if (!m)
        goto done;
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&m->cfg, GB, 16, 16, true));
    lt_tensor *s = lt_golden_tensor(c, g, "soft.s", true);
    lt_tensor *x = lt_matmul(c, lt_reshape(c, s, 2, (int64_t[]){GB * 8, 20}),
                             m->tok_emb);
    x = lt_reshape(c, x, 3, (int64_t[]){GB, 8, 16});
    lt_tensor *h, *logits, *t, *v;
    lt_tensor *loss = golden_loss(c, m, g, x, &h, &logits, &t, &v);
    LT_CHECK_OK(loss);
    if (loss) {
        LT_GOLDEN_CHECK(g, "soft.loss", loss->data, 1);
        LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
        LT_GOLDEN_CHECK(g, "soft.grad_s", s->grad, s->numel);
        LT_GOLDEN_CHECK(g, "soft.grad_tok", m->tok_emb->grad,
                        m->tok_emb->numel);
    }
    lt_ctx_free(c);
done:
    lt_clip_free(m);
    lt_golden_free(g);
}

/* UnlearnDiff's prefix: k one-hot rows over the vocabulary concatenated
 * before the prompt's token embeddings equal encoding the ids, and the
 * gradient reaches the one-hot rows. */
LT_TEST(one_hot_prefix_equals_ids_and_gets_a_gradient)
{
    lt_clip_config cfg;
    lt_clip *m = NULL;
    LT_CHECK(lt_clip_preset("xs", 13, &cfg) == LT_OK &&
                 lt_clip_create(&cfg, &m) == LT_OK, "%s", lt_last_error());
    if (!m)
        return;
    lt_clip_init(m, 5);
    enum { B = 2, L = 16, K = 3, V = 13 };
    int32_t ids[B * L], eos[B] = {8, 11};
    for (int i = 0; i < B * L; i++)
        ids[i] = i % L == 0 ? LT_CLIP_BOS : 3 + (i * 7) % 10;
    ids[8] = ids[L + 11] = LT_CLIP_EOS;
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&cfg, B, 32, 32, true));
    lt_tensor *want = lt_clip_text_encode(c, m, ids, B);
    lt_tensor *s = lt_requires_grad(lt_zeros(c, 3, (int64_t[]){B, K, V}));
    for (int b = 0; s && b < B; b++)
        for (int k = 0; k < K; k++)
            s->data[(b * K + k) * V + ids[b * L + k]] = 1.0f;
    lt_tensor *pre = lt_matmul(c, lt_reshape(c, s, 2, (int64_t[]){B * K, V}),
                               m->tok_emb);
    lt_tensor *xs[2] = {lt_reshape(c, pre, 3, (int64_t[]){B, K, 32}),
                        lt_slice(c, lt_clip_token_embeds(c, m, ids, B), 1, K,
                                 L)};
    lt_tensor *h = lt_clip_text_hidden(c, m, lt_concat(c, 2, xs, 1));
    lt_tensor *t = lt_clip_text_project(c, m, h, eos);
    LT_CHECK_OK(t);
    if (t && want) {
        LT_CHECK_CLOSE("prefix hidden", h->data, want->data, want->numel,
                       1e-5);
        LT_CHECK(lt_backward(c, lt_sum_all(c, lt_mul(c, t, t))) == LT_OK,
                 "%s", lt_last_error());
        double g = 0;
        for (int64_t i = 0; s->grad && i < s->numel; i++)
            g += fabs(s->grad[i]);
        LT_CHECK(s->grad && g > 1e-6, "prefix gradient %g", g);
    }
    lt_ctx_free(c);
    lt_clip_free(m);
}

LT_TEST(shape_and_argument_errors)
{
    lt_clip_config cfg;
    lt_clip *m = NULL;
    LT_CHECK(lt_clip_preset("xs", 10, &cfg) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_clip_create(&cfg, &m) == LT_OK, "%s", lt_last_error());
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *bad = lt_zeros(c, 3, (int64_t[]){2, 17, 32});
    LT_CHECK(!lt_clip_text_hidden(c, m, bad) &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "[2, 17, 32]"),
             "too long input: %s", lt_last_error());
    lt_tensor *h = lt_zeros(c, 3, (int64_t[]){2, 16, 32});
    int32_t eos[2] = {3, 16};
    LT_CHECK(!lt_clip_text_project(c, m, h, eos) &&
                 strstr(lt_last_error(), "eos_pos[1] = 16"),
             "eos out of range: %s", lt_last_error());
    lt_tensor *img = lt_zeros(c, 4, (int64_t[]){2, 1, 32, 32});
    LT_CHECK(!lt_clip_image_embeds(c, m, img) &&
                 lt_last_status() == LT_ERR_SHAPE,
             "grey images: %s", lt_last_error());
    LT_CHECK(lt_clip_preset("huge", 10, &cfg) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "xs, tiny, small"),
             "unknown preset: %s", lt_last_error());
    lt_clip_config odd = m->cfg;
    odd.heads = 3;
    LT_CHECK(lt_clip_config_check(&odd) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "heads"),
             "32 / 3 heads: %s", lt_last_error());
    lt_ctx_free(c);
    lt_clip_free(m);
}

/* ---- tokenizer -------------------------------------------------------------------- */

static const char *const WORDS[] = {"an", "dress", "image", "in", "neon",
                                    "style", ".", ",", "t-shirt", "men's"};
#define N_WORDS 10

static lt_clip_vocab *test_vocab(void)
{
    lt_clip_vocab *v = NULL;
    LT_CHECK(lt_clip_vocab_new(WORDS, N_WORDS, &v) == LT_OK, "vocab: %s",
             lt_last_error());
    return v;
}

LT_TEST(tokenizer_exact_ids_punctuation_and_case)
{
    lt_clip_vocab *v = test_vocab();
    int32_t ids[16];
    int n = 0;
    bool cut = true;
    LT_CHECK(lt_clip_tokenize(v, "An dress image in Neon style.", 16, ids, &n,
                              &cut) == LT_OK, "%s", lt_last_error());
    const int32_t want[16] = {1, 3, 4, 5, 6, 7, 8, 9, 2, 0, 0, 0, 0, 0, 0, 0};
    LT_CHECK(!memcmp(ids, want, sizeof want) && n == 9 && !cut,
             "ids %d %d %d %d %d %d %d %d %d %d, n %d", ids[0], ids[1],
             ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], ids[9],
             n);
    /* punctuation splits without spaces; '-' and '\'' inside words join */
    LT_CHECK(lt_clip_tokenize(v, "  NEON,T-Shirt\tmen's.", 8, ids, &n, NULL) ==
                 LT_OK, "%s", lt_last_error());
    const int32_t want2[8] = {1, 7, 10, 11, 12, 9, 2, 0};
    LT_CHECK(!memcmp(ids, want2, sizeof want2) && n == 7,
             "punctuation ids %d %d %d %d %d %d %d", ids[0], ids[1], ids[2],
             ids[3], ids[4], ids[5], ids[6]);
    LT_CHECK(lt_clip_tokenize(v, "", 4, ids, &n, NULL) == LT_OK && n == 2 &&
                 ids[0] == 1 && ids[1] == 2 && ids[2] == 0,
             "empty prompt");
    LT_CHECK(lt_clip_vocab_id(v, "<eos>") == LT_CLIP_EOS &&
                 !strcmp(lt_clip_vocab_token(v, 3), "an") &&
                 lt_clip_vocab_size(v) == N_WORDS + 3 &&
                 lt_clip_vocab_id(v, "shoe") == -1,
             "lookups");
    lt_clip_vocab_free(v);
}

LT_TEST(tokenizer_truncates_and_names_unknown_words)
{
    lt_clip_vocab *v = test_vocab();
    int32_t ids[6];
    int n = 0;
    bool cut = false;
    LT_CHECK(lt_clip_tokenize(v, "an dress image in neon style", 6, ids, &n,
                              &cut) == LT_OK && cut && n == 6,
             "truncation: %s", lt_last_error());
    const int32_t want[6] = {1, 3, 4, 5, 6, 2};
    LT_CHECK(!memcmp(ids, want, sizeof want), "truncated ids");
    LT_CHECK(lt_clip_tokenize(v, "An shoe image.", 6, ids, &n, NULL) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "'shoe'") &&
                 strstr(lt_last_error(), "word 2"),
             "unknown word: %s", lt_last_error());
    /* a dropped word is still checked: a typo past the cut is reported */
    LT_CHECK(lt_clip_tokenize(v, "an dress image in neon stlye", 6, ids, &n,
                              NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'stlye'"),
             "unknown word past the cut: %s", lt_last_error());
    const char *texts[2] = {"neon dress", "Dress in Gold"};
    int32_t b[12];
    LT_CHECK(lt_clip_tokenize_batch(v, texts, 2, 6, b, NULL) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "text 1") &&
                 strstr(lt_last_error(), "'gold'"),
             "batch error: %s", lt_last_error());
    int32_t rows[12] = {1, 3, 2, 0, 0, 0, 1, 3, 4, 5, 6, 7}, pos[2];
    LT_CHECK(lt_clip_eos_positions(rows, 2, 6, pos) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "row 1"),
             "row without eos: %s", lt_last_error());
    lt_clip_vocab_free(v);
}

LT_TEST(vocab_checks_words_and_round_trips)
{
    lt_clip_vocab *v = NULL;
    const char *two[2] = {"neon style", "x"};
    LT_CHECK(lt_clip_vocab_new(two, 2, &v) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'neon style'"),
             "split word: %s", lt_last_error());
    const char *dup[3] = {"Neon", "x", "neon"};
    LT_CHECK(lt_clip_vocab_new(dup, 3, &v) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'neon' appears twice"),
             "duplicate: %s", lt_last_error());
    const char *special[1] = {"<eos>"};
    LT_CHECK(lt_clip_vocab_new(special, 1, &v) == LT_ERR_ARG, "special");
    v = test_vocab();
    char path[512];
    snprintf(path, sizeof path, "%s/vocab.json", lt_test_tmpdir());
    LT_CHECK(lt_clip_vocab_save(v, path) == LT_OK, "%s", lt_last_error());
    lt_clip_vocab *w = NULL;
    LT_CHECK(lt_clip_vocab_load(path, &w) == LT_OK, "%s", lt_last_error());
    for (int i = 0; w && i < lt_clip_vocab_size(v); i++)
        LT_CHECK(!strcmp(lt_clip_vocab_token(v, i), lt_clip_vocab_token(w, i)),
                 "token %d", i);
    LT_CHECK(w && lt_clip_vocab_size(w) == lt_clip_vocab_size(v), "size");
    lt_clip_vocab_free(w);
    w = NULL;
    LT_CHECK(lt_clip_vocab_parse("{\"format\": \"lethe-clip-vocab\", "
                                 "\"tokens\": [\"<bos>\", \"<pad>\", \"<eos>\","
                                 " \"a\"]}", "bad.json", &w) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "bad.json: tokens[0]"),
             "specials out of order: %s", lt_last_error());
    lt_clip_vocab_free(v);
}

/* ---- checkpoints ------------------------------------------------------------------ */

LT_TEST(checkpoint_round_trip_with_vocab)
{
    lt_clip_vocab *v = test_vocab();
    lt_clip_config cfg;
    lt_clip *m = NULL, *m2 = NULL;
    lt_clip_vocab *v2 = NULL;
    LT_CHECK(lt_clip_preset("xs", lt_clip_vocab_size(v), &cfg) == LT_OK &&
                 lt_clip_create(&cfg, &m) == LT_OK, "%s", lt_last_error());
    if (!m)
        goto done;
    lt_clip_init(m, 7);
    LT_CHECK(fabsf(m->logit_scale->data[0] - logf(1 / 0.07f)) < 1e-5f,
             "logit scale init %g", (double)m->logit_scale->data[0]);
    char path[512];
    snprintf(path, sizeof path, "%s/clip.safetensors", lt_test_tmpdir());
    const char *meta[2] = {"note", "test"};
    LT_CHECK(lt_clip_save(m, v, path, meta, 1) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_clip_load(path, &m2, &v2) == LT_OK, "%s", lt_last_error());
    if (m2 && v2) {
        LT_CHECK(m2->params.n_total == m->params.n_total &&
                     !memcmp(m2->params.theta, m->params.theta,
                             (size_t)m->params.n_total * sizeof(float)),
                 "weights differ after a round trip");
        LT_CHECK(lt_clip_vocab_size(v2) == lt_clip_vocab_size(v) &&
                     !strcmp(lt_clip_vocab_token(v2, 11), "t-shirt"),
                 "vocab after a round trip");
        LT_CHECK(m2->cfg.vision_stages == 2 && m2->cfg.vision_widths[1] == 32 &&
                     m2->cfg.ln_eps == 1e-5f, "config after a round trip");
    }
    lt_clip_free(m2);
    /* a classifier-style file without the config is refused by name */
    lt_st_tensor t = lt_st_entry("logit_scale", m->logit_scale);
    LT_CHECK(lt_st_save(path, &t, 1, NULL, 0) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_clip_load(path, &m2, NULL) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "lethe.clip_config"),
             "no config: %s", lt_last_error());
done:
    lt_clip_vocab_free(v2);
    lt_clip_vocab_free(v);
    lt_clip_free(m);
}

/* ---- synthetic pretraining --------------------------------------------------------- */

#define N_COLOURS 8
static const char *const COLOURS[N_COLOURS] = {
    "red", "green", "blue", "yellow", "cyan", "magenta", "white", "black"};
static const float RGB[N_COLOURS][3] = {
    {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}, {1, 1, -1},
    {-1, 1, 1},  {1, -1, 1},  {1, 1, 1},   {-1, -1, -1}};
static const char *const CAPTIONS[N_COLOURS] = {
    "a photo of a red square.",    "a photo of a green square.",
    "a photo of a blue square.",   "a photo of a yellow square.",
    "a photo of a cyan square.",   "a photo of a magenta square.",
    "a photo of a white square.",  "a photo of a black square."};

/* A square of colour k, 8..15 pixels wide at a random place, on grey
 * noise. */
static void draw_square(float *img, int k, uint64_t seed, uint64_t item)
{
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 1, item));
    int s = 8 + (int)lt_rng_below(&r, 8);
    int y0 = (int)lt_rng_below(&r, (uint64_t)(33 - s));
    int x0 = (int)lt_rng_below(&r, (uint64_t)(33 - s));
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                bool in = y >= y0 && y < y0 + s && x >= x0 && x < x0 + s;
                img[(ch * 32 + y) * 32 + x] =
                    in ? RGB[k][ch] : 0.2f * (lt_rng_uniform(&r) - 0.5f);
            }
}

static lt_status squares_batch(void *ud, int64_t index, uint64_t seed,
                               int64_t B, lt_clip_batch *out)
{
    (void)ud;
    for (int64_t i = 0; i < B; i++) {
        uint64_t item = (uint64_t)(index * B + i);
        int k = (int)(lt_hash3(seed, 0, item) % N_COLOURS);
        draw_square(out->images + i * 3 * 32 * 32, k, seed, item);
        out->captions[i] = CAPTIONS[k];
    }
    return LT_OK;
}

static lt_clip_vocab *squares_vocab(void)
{
    const char *w[N_COLOURS + 5] = {"a", "photo", "of", "square", "."};
    for (int i = 0; i < N_COLOURS; i++)
        w[5 + i] = COLOURS[i];
    lt_clip_vocab *v = NULL;
    LT_CHECK(lt_clip_vocab_new(w, N_COLOURS + 5, &v) == LT_OK, "%s",
             lt_last_error());
    return v;
}

static lt_clip *squares_model(const lt_clip_vocab *v)
{
    lt_clip_config cfg;
    lt_clip *m = NULL;
    LT_CHECK(lt_clip_preset("xs", lt_clip_vocab_size(v), &cfg) == LT_OK &&
                 lt_clip_create(&cfg, &m) == LT_OK, "%s", lt_last_error());
    if (m)
        lt_clip_init(m, 3);
    return m;
}

static lt_clip_train_cfg squares_cfg(int64_t steps)
{
    lt_clip_train_cfg t = lt_clip_train_defaults();
    t.steps = steps;
    t.batch = 16;
    t.warmup = 20;
    t.optim.lr = 2e-3f;
    t.batch_fn = squares_batch;
    return t;
}

/* Progress: counts events and keeps the last. */
typedef struct {
    int64_t n;
    lt_clip_event last;
} progress_log;

static void on_progress(void *ud, const lt_clip_event *ev)
{
    progress_log *p = ud;
    p->n++;
    p->last = *ev;
}

/* Held-out retrieval: batch 10000 of another seed. */
static void held_out(lt_clip *m, const lt_clip_vocab *v, double *t2i,
                     double *i2t)
{
    enum { B = 32 };
    static float img[B * 3 * 32 * 32];
    const char *caps[B];
    int32_t ids[B * 16];
    lt_clip_batch b = {img, ids, caps, false};
    squares_batch(NULL, 10000, 99, B, &b);
    LT_CHECK(lt_clip_tokenize_batch(v, caps, B, 16, ids, NULL) == LT_OK, "%s",
             lt_last_error());
    lt_ctx *c = lt_ctx_new(lt_clip_arena_bytes(&m->cfg, B, 32, 32, true));
    lt_tensor *x = lt_from_data(c, 4, (int64_t[]){B, 3, 32, 32}, img);
    LT_CHECK(lt_clip_retrieval(c, m, x, ids, t2i, i2t) == LT_OK, "%s",
             lt_last_error());
    lt_ctx_free(c);
}

LT_TEST(pretrain_learns_coloured_squares)
{
    lt_clip_vocab *v = squares_vocab();
    lt_clip *m = v ? squares_model(v) : NULL;
    if (!m)
        goto done;
    double t2i0 = 0, i2t0 = 0, t2i = 0, i2t = 0;
    held_out(m, v, &t2i0, &i2t0);
    lt_clip_train_cfg cfg = squares_cfg(300);
    progress_log log = {0};
    cfg.progress = on_progress;
    cfg.ud = &log;
    lt_clip_report rep;
    LT_CHECK(lt_clip_pretrain(m, v, &cfg, &rep) == LT_OK, "%s",
             lt_last_error());
    held_out(m, v, &t2i, &i2t);
    printf("squares (xs, batch 16, 300 steps): loss %.3f -> %.3f (tail "
           "%.3f), batch retrieval t2i %.2f i2t %.2f; held-out t2i %.2f -> "
           "%.2f, i2t %.2f -> %.2f; %.2f ms/step, arena peak %.1f MB\n",
           rep.first_loss, rep.last_loss, rep.mean_loss_tail, rep.t2i_tail,
           rep.i2t_tail, t2i0, t2i, i2t0, i2t, 1e3 * rep.seconds_per_step,
           (double)rep.arena_peak / 1e6);
    LT_CHECK(rep.steps_run == 300, "steps %lld", (long long)rep.steps_run);
    LT_CHECK(log.n == 300 && log.last.step == 300 && log.last.steps == 300 &&
                 log.last.loss == rep.last_loss && log.last.lr > 0 &&
                 log.last.logit_scale > 1 && log.last.logit_scale <= 100.0001,
             "progress: %lld events, last step %lld, scale %g",
             (long long)log.n, (long long)log.last.step,
             log.last.logit_scale);
    LT_CHECK(rep.mean_loss_tail < 0.5 * rep.first_loss, "loss %g -> %g",
             rep.first_loss, rep.mean_loss_tail);
    /* chance is about 0.18 (8 colours in a batch of 16 or 32) */
    LT_CHECK(rep.t2i_tail > 0.8 && rep.i2t_tail > 0.8, "batch retrieval "
             "%g %g", rep.t2i_tail, rep.i2t_tail);
    LT_CHECK(t2i > 0.8 && i2t > 0.8, "held-out retrieval %g %g", t2i, i2t);
done:
    lt_clip_free(m);
    lt_clip_vocab_free(v);
}

/* squares_batch, but batch *ud fails (an interrupted run). */
static lt_status failing_batch(void *ud, int64_t index, uint64_t seed,
                               int64_t B, lt_clip_batch *out)
{
    if (index == *(const int64_t *)ud)
        return lt_set_error(LT_ERR_STATE, "interrupted");
    return squares_batch(NULL, index, seed, B, out);
}

LT_TEST(pretrain_resume_equals_uninterrupted)
{
    lt_clip_vocab *v = squares_vocab();
    lt_clip *a = v ? squares_model(v) : NULL, *b = v ? squares_model(v) : NULL;
    if (!a || !b)
        goto done;
    char path[512];
    snprintf(path, sizeof path, "%s/resume.safetensors", lt_test_tmpdir());
    lt_clip_train_cfg cfg = squares_cfg(8);
    cfg.warmup = 2;
    LT_CHECK(lt_clip_pretrain(a, v, &cfg, NULL) == LT_OK, "%s",
             lt_last_error());
    int64_t fail_at = 5;
    cfg.checkpoint = path;
    cfg.checkpoint_every = 5;
    cfg.resume = true;
    cfg.batch_fn = failing_batch;
    cfg.batch_ud = &fail_at;
    LT_CHECK(lt_clip_pretrain(b, v, &cfg, NULL) == LT_ERR_STATE &&
                 strstr(lt_last_error(), "batch 5: interrupted"),
             "interrupted run: %s", lt_last_error());
    lt_clip_init(b, 1234); /* the resumed weights must come from the file */
    cfg.batch_fn = squares_batch;
    lt_clip_report rep;
    LT_CHECK(lt_clip_pretrain(b, v, &cfg, &rep) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rep.start_step == 5 && rep.steps_run == 3, "resumed at %lld, ran"
             " %lld", (long long)rep.start_step, (long long)rep.steps_run);
    LT_CHECK(!memcmp(a->params.theta, b->params.theta,
                     (size_t)a->params.n_total * sizeof(float)),
             "resumed weights differ from the uninterrupted run");
    lt_clip *c = NULL;
    LT_CHECK(lt_clip_load(path, &c, NULL) == LT_OK && c &&
                 !memcmp(c->params.theta, a->params.theta,
                         (size_t)a->params.n_total * sizeof(float)),
             "final checkpoint: %s", lt_last_error());
    lt_clip_free(c);
    LT_CHECK(!lt_test_tmp_left(path), "temporary left beside %s", path);
done:
    lt_clip_free(a);
    lt_clip_free(b);
    lt_clip_vocab_free(v);
}

LT_TEST_MAIN()
