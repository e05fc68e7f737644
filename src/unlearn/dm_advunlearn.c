/*
 * dm_advunlearn.c - AdvUnlearn (lethe/dm_advunlearn.h): bi-level
 * adversarial training of a text-conditioned diffusion model's text
 * encoder (or, as a variant, of an ESD parameter set of its UNet). The
 * inner problem finds a continuous prefix embedding that makes the trained
 * model predict, on the concept's partially denoised image, what the
 * original model predicts for the concept; the outer step is ESD's
 * negative-guidance regression with that prefix in the trained branch plus
 * a retain regression on prompts of other concepts. Frozen copies of the
 * starting weights give every "original" prediction and context; the
 * trained parameters are chosen by name and updated through an Adam mask,
 * so everything else stays bit-identical.
 */
#include "lethe/dm_advunlearn.h"
#include "lethe/data.h"
#include "lethe/optim.h"
#include "lethe/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration -------------------------------------------------------------- */

lt_adv_config lt_adv_defaults(void)
{
    return (lt_adv_config){
        .train = LT_ADV_TRAIN_ENCODER, .unet_params = LT_ESD_U,
        .attack = LT_ADV_PGD, .k = 1, .attack_steps = 30,
        .attack_lr = 1e-3f, .warmup = 200, .update_every = 1,
        .retain_weight = 0.5f, .retain_batch = 5, .eta = 1.0f,
        .start_guidance = 3.0f, .ddim_steps = 50, .steps = 1000,
        .lr = 1e-5f, .seed = 1};
}

float lt_adv_retain_weight(bool implicit)
{
    return implicit ? 0.3f : 0.5f;
}

lt_status lt_adv_target_parse(const char *name, lt_adv_target *out)
{
    if (name && !strcmp(name, "encoder"))
        *out = LT_ADV_TRAIN_ENCODER;
    else if (name && !strcmp(name, "unet"))
        *out = LT_ADV_TRAIN_UNET;
    else
        return lt_set_error(LT_ERR_ARG, "advunlearn: trained part '%s': "
                            "unknown (encoder, unet)", name ? name : "");
    return LT_OK;
}

lt_status lt_adv_attack_parse(const char *name, lt_adv_attack *out)
{
    if (name && !strcmp(name, "pgd"))
        *out = LT_ADV_PGD;
    else if (name && (!strcmp(name, "fast-at") || !strcmp(name, "fast_at")))
        *out = LT_ADV_FAST_AT;
    else
        return lt_set_error(LT_ERR_ARG, "advunlearn: attack '%s': unknown "
                            "(pgd, fast-at)", name ? name : "");
    return LT_OK;
}

const char *lt_adv_target_name(lt_adv_target t)
{
    return t == LT_ADV_TRAIN_UNET ? "unet" : "encoder";
}

const char *lt_adv_attack_name(lt_adv_attack a)
{
    return a == LT_ADV_FAST_AT ? "fast-at" : "pgd";
}

static bool starts(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

bool lt_adv_encoder_selects(const char *name)
{
    return starts(name, "text_model.encoder.layers.") ||
           starts(name, "text_model.final_layer_norm.");
}

lt_status lt_adv_encoder_mask(const lt_clip *m, float *mask,
                              int64_t *n_selected)
{
    if (!m || !mask)
        return lt_set_error(LT_ERR_ARG, "advunlearn mask: NULL argument");
    const lt_params *ps = &m->params;
    memset(mask, 0, (size_t)ps->n_train * sizeof *mask);
    int64_t n = 0;
    for (int j = 0; j < ps->count; j++) {
        const lt_param *p = &ps->p[j];
        if (!p->trainable || !lt_adv_encoder_selects(p->name))
            continue;
        for (int64_t i = 0; i < p->t.numel; i++)
            mask[p->offset + i] = 1;
        n += p->t.numel;
    }
    if (n_selected)
        *n_selected = n;
    return n ? LT_OK : lt_set_error(LT_ERR_ARG, "advunlearn: the encoder "
                                    "has no transformer layer to train");
}

/* ---- the run's state ------------------------------------------------------------ */

struct lt_adv {
    lt_adv_data d;
    lt_adv_config cfg;
    lt_clip *E, *E0;        /* trained / original encoder (E0 == E: frozen) */
    lt_unet *U, *U0;        /* trained / original UNet (U0 == U: frozen) */
    lt_params *trained;     /* E's or U's parameters */
    int L, D, n_words, rb;  /* rb: retain batch (<= n_retain) */
    int64_t img;            /* C * R * R */
    float *c_p, *c_0, *c_r; /* contexts of E0: [L, D], [L, D], [n, L, D] */
    int32_t *adv_ids;       /* <bos> <pad>*k words <eos> <pad>.. */
    float *prefix, *var, *used, *acc; /* [k, D] each */
    bool have_prefix;
    float *mask, *z, *zr, *start, *rstart;
    int64_t *perm, *ridx, perm_left, epoch;
    lt_optim opt, aopt;
    lt_ctx *c;
    int64_t step, round;
    int attack_j;           /* steps of the current round */
    float attack_loss;
    double t0;
};

/* Gradients of ps: off (mode 0), on for the masked tensors (1) or for all
 * trainable ones (2). */
static void grads_set(lt_params *ps, const float *mask, int mode)
{
    for (int j = 0; j < ps->count; j++) {
        lt_param *p = &ps->p[j];
        bool on = p->trainable && p->t.grad &&
                  (mode == 2 || (mode == 1 && mask[p->offset] != 0));
        if (on)
            p->t.flags |= LT_REQUIRES_GRAD;
        else
            p->t.flags &= ~(uint32_t)LT_REQUIRES_GRAD;
    }
}

void lt_adv_free(lt_adv *r)
{
    if (!r)
        return;
    if (r->E)
        grads_set(&r->E->params, NULL, 2);
    if (r->U)
        grads_set(&r->U->params, NULL, 2);
    if (r->E0 != r->E)
        lt_clip_free(r->E0);
    if (r->U0 != r->U)
        lt_unet_free(r->U0);
    void *bufs[] = {r->c_p, r->c_0, r->c_r, r->adv_ids, r->prefix, r->var,
                    r->used, r->acc, r->mask, r->z, r->zr, r->start,
                    r->rstart, r->perm, r->ridx};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    lt_optim_free(&r->opt);
    lt_optim_free(&r->aopt);
    lt_ctx_free(r->c);
    free(r);
}

float *lt_adv_prefix(lt_adv *r)
{
    return r ? r->prefix : NULL;
}

float *lt_adv_attack_var(lt_adv *r)
{
    return r ? r->var : NULL;
}

static lt_status check_config(const lt_adv_config *g)
{
    bool ok = g->k >= 1 && g->attack_steps >= 1 && g->attack_lr > 0 &&
              isfinite(g->attack_lr) && g->warmup >= 0 &&
              g->update_every >= 1 && g->retain_weight >= 0 &&
              isfinite(g->retain_weight) && g->retain_batch >= 1 &&
              isfinite(g->eta) && isfinite(g->start_guidance) &&
              g->ddim_steps >= 1 && g->steps >= 1 && g->lr > 0 &&
              isfinite(g->lr) && (unsigned)g->train <= LT_ADV_TRAIN_UNET &&
              (unsigned)g->attack <= LT_ADV_FAST_AT &&
              (unsigned)g->unet_params <= LT_ESD_NOTIME;
    if (!ok)
        return lt_set_error(LT_ERR_ARG, "advunlearn: need k, attack steps, "
                            "update interval, retain batch, DDIM steps and "
                            "iterations >= 1, warm-up >= 0, learning rates "
                            "> 0, gamma >= 0 and finite eta and guidance");
    return LT_OK;
}

/* The concept's word count and the adversarial layout. */
static lt_status layout(lt_adv *r)
{
    const int32_t *ids = r->d.concept_ids;
    int L = r->L, k = r->cfg.k, V = r->E->cfg.vocab_size, n = -1;
    if (ids[0] != LT_CLIP_BOS)
        return lt_set_error(LT_ERR_ARG, "advunlearn: the concept's ids do "
                            "not start with <bos>");
    for (int i = 1; i < L && n < 0; i++)
        if (ids[i] == LT_CLIP_EOS)
            n = i - 1;
    if (n < 1)
        return lt_set_error(LT_ERR_ARG, "advunlearn: the concept has no "
                            "word or no <eos> within %d tokens", L);
    if (n + k + 2 > L)
        return lt_set_error(LT_ERR_ARG, "advunlearn: %d prefix token(s) and "
                            "the concept's %d word(s) do not fit the context "
                            "of %d (k + words + 2 > %d)", k, n, L, L);
    for (int i = 0; i < L; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return lt_set_error(LT_ERR_ARG, "advunlearn: concept id %d at "
                                "%d outside the vocabulary of %d", ids[i], i,
                                V);
    r->n_words = n;
    for (int i = 0; i < L; i++)
        r->adv_ids[i] = LT_CLIP_PAD;
    r->adv_ids[0] = LT_CLIP_BOS;
    memcpy(r->adv_ids + 1 + k, ids + 1, (size_t)(n + 1) * sizeof *ids);
    return LT_OK;
}

/* Encode n prompts' ids with m (no tape) into out [n, L, D]. */
static lt_status encode_plain(lt_adv *r, lt_clip *m, const int32_t *ids,
                              int64_t n, float *out)
{
    size_t per = (size_t)r->L * r->D;
    for (int64_t i = 0; i < n; i++) {
        lt_ctx_reset(r->c);
        bool was = lt_set_grad_enabled(r->c, false);
        lt_tensor *h = lt_clip_text_encode(r->c, m, ids + i * r->L, 1);
        lt_set_grad_enabled(r->c, was);
        if (!h)
            return lt_last_status();
        memcpy(out + (size_t)i * per, h->data, per * sizeof *out);
    }
    return LT_OK;
}

static lt_status check_data(const lt_adv_data *d, const lt_adv_config *cfg)
{
    if (!d->clip || !d->u || !d->s || !d->concept_ids)
        return lt_set_error(LT_ERR_ARG, "advunlearn: NULL argument");
    if (d->u->cfg.kind != LT_UNET_TEXT)
        return lt_set_error(LT_ERR_ARG, "advunlearn: unet %s is class-"
                            "conditional; AdvUnlearn erases a prompt from a "
                            "text-conditioned model (text:...)", d->u->arch);
    if (d->clip->cfg.context_length != d->u->cfg.ctx_len ||
        d->clip->cfg.width != d->u->cfg.ctx_dim)
        return lt_set_error(LT_ERR_ARG, "advunlearn: the encoder gives %dx%d "
                            "contexts, %s takes %dx%d",
                            d->clip->cfg.context_length, d->clip->cfg.width,
                            d->u->arch, d->u->cfg.ctx_len, d->u->cfg.ctx_dim);
    if (cfg->retain_weight > 0 && (d->n_retain < 1 || !d->retain_ids))
        return lt_set_error(LT_ERR_ARG, "advunlearn: gamma %g needs retain "
                            "prompts (none given; gamma 0 drops the term)",
                            (double)cfg->retain_weight);
    int V = d->clip->cfg.vocab_size;
    for (int64_t i = 0; cfg->retain_weight > 0 &&
                        i < d->n_retain * d->u->cfg.ctx_len; i++)
        if (d->retain_ids[i] < 0 || d->retain_ids[i] >= V)
            return lt_set_error(LT_ERR_ARG, "advunlearn: retain prompt %lld "
                                "has an id outside the vocabulary",
                                (long long)(i / d->u->cfg.ctx_len));
    return LT_OK;
}

/* Frozen copies of the trained model; masks; contexts of the original. */
static lt_status setup(lt_adv *r)
{
    lt_status st = LT_OK;
    bool enc = r->cfg.train == LT_ADV_TRAIN_ENCODER;
    r->E = r->E0 = r->d.clip;
    r->U = r->U0 = r->d.u;
    if (enc) {
        st = lt_clip_create(&r->E->cfg, &r->E0);
        if (st == LT_OK)
            memcpy(r->E0->params.theta, r->E->params.theta,
                   (size_t)r->E->params.n_total * sizeof(float));
    } else {
        st = lt_unet_create(r->U->arch, &r->U0);
        if (st == LT_OK)
            memcpy(r->U0->params.theta, r->U->params.theta,
                   (size_t)r->U->params.n_total * sizeof(float));
    }
    if (st != LT_OK) {
        if (enc)
            r->E0 = r->E;
        else
            r->U0 = r->U;
        return st;
    }
    r->trained = enc ? &r->E->params : &r->U->params;
    r->mask = malloc((size_t)r->trained->n_train * sizeof *r->mask);
    if (!r->mask)
        return lt_set_error(LT_ERR_NOMEM, "advunlearn: out of memory");
    st = enc ? lt_adv_encoder_mask(r->E, r->mask, NULL)
             : lt_esd_mask(r->U, r->cfg.unet_params, r->mask, NULL);
    if (st != LT_OK)
        return st;
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = r->cfg.lr;
    oc.weight_decay = 0;
    st = lt_optim_init(&r->opt, &oc, r->trained->n_train);
    if (st == LT_OK)
        st = encode_plain(r, r->E0, r->d.concept_ids, 1, r->c_p);
    if (st == LT_OK)
        st = lt_dm_empty_context(r->E0, r->c_0);
    if (st == LT_OK && r->rb > 0)
        st = encode_plain(r, r->E0, r->d.retain_ids, r->d.n_retain, r->c_r);
    return st;
}

lt_status lt_adv_new(const lt_adv_data *d, const lt_adv_config *cfg,
                     lt_adv **out)
{
    if (!d || !cfg || !out)
        return lt_set_error(LT_ERR_ARG, "advunlearn: NULL argument");
    *out = NULL;
    if (check_config(cfg) != LT_OK || check_data(d, cfg) != LT_OK)
        return lt_last_status();
    lt_adv *r = calloc(1, sizeof *r);
    if (!r)
        return lt_set_error(LT_ERR_NOMEM, "advunlearn: out of memory");
    *r = (lt_adv){.d = *d, .cfg = *cfg, .E = d->clip, .E0 = d->clip,
                  .U = d->u, .U0 = d->u, .L = d->u->cfg.ctx_len,
                  .D = d->u->cfg.ctx_dim, .attack_loss = NAN,
                  .t0 = lt_clock_seconds()};
    r->img = (int64_t)d->u->cfg.in_ch * d->u->cfg.res * d->u->cfg.res;
    r->rb = cfg->retain_weight > 0
                ? (int)(d->n_retain < cfg->retain_batch ? d->n_retain
                                                        : cfg->retain_batch)
                : 0;
    size_t LD = (size_t)r->L * r->D, kD = (size_t)cfg->k * r->D;
    size_t nr = r->rb ? (size_t)d->n_retain : 0, rb = (size_t)r->rb;
    r->c_p = malloc(LD * sizeof(float));
    r->c_0 = malloc(LD * sizeof(float));
    r->c_r = malloc((nr * LD + 1) * sizeof(float));
    r->adv_ids = malloc((size_t)r->L * sizeof *r->adv_ids);
    r->prefix = calloc(kD, sizeof(float));
    r->var = calloc(kD, sizeof(float));
    r->used = calloc(kD, sizeof(float));
    r->acc = calloc(kD, sizeof(float));
    r->z = malloc((size_t)r->img * sizeof(float));
    r->start = malloc((size_t)r->img * sizeof(float));
    r->zr = malloc((rb * r->img + 1) * sizeof(float));
    r->rstart = malloc((rb * r->img + 1) * sizeof(float));
    r->perm = malloc((nr + 1) * sizeof *r->perm);
    r->ridx = malloc((rb + 1) * sizeof *r->ridx);
    size_t bytes = lt_unet_arena_bytes(d->u, 3 + 2 * r->rb, true) +
                   lt_clip_arena_bytes(&d->clip->cfg, 1 + r->rb, 8, 8, true);
    r->c = lt_ctx_new(bytes);
    lt_status st = r->c_p && r->c_0 && r->c_r && r->adv_ids && r->prefix &&
                           r->var && r->used && r->acc && r->z && r->start &&
                           r->zr && r->rstart && r->perm && r->ridx && r->c
                       ? LT_OK
                       : lt_set_error(LT_ERR_NOMEM, "advunlearn: out of "
                                      "memory");
    if (st == LT_OK)
        st = layout(r);
    if (st == LT_OK)
        st = setup(r);
    if (st != LT_OK) {
        lt_adv_free(r);
        return st;
    }
    *out = r;
    return LT_OK;
}

/* ---- the forward passes ---------------------------------------------------------- */

/* The trained encoder's context [1, L, D] of the adversarial layout with
 * the prefix rows adv [k, D] (on the tape when adv is). */
static lt_tensor *adv_context(lt_adv *r, lt_tensor *adv)
{
    int k = r->cfg.k, L = r->L, D = r->D;
    lt_tensor *head = lt_new2(r->c, 1, D), *tail = lt_new2(r->c, L - 1 - k,
                                                           D);
    if (!head || !tail)
        return NULL;
    const float *tok = r->E->tok_emb->data;
    memcpy(head->data, tok + (int64_t)LT_CLIP_BOS * D, (size_t)D *
           sizeof(float));
    for (int i = 1 + k; i < L; i++)
        memcpy(tail->data + (int64_t)(i - 1 - k) * D,
               tok + (int64_t)r->adv_ids[i] * D, (size_t)D * sizeof(float));
    lt_tensor *parts[3] = {head, adv, tail};
    lt_tensor *x = lt_concat(r->c, 3, parts, 0);
    int64_t shape[3] = {1, L, D};
    return x ? lt_clip_text_hidden(r->c, r->E, lt_reshape(r->c, x, 3, shape))
             : NULL;
}

/* The UNet u's prediction on n images x [n, C, R, R] at timestep t with
 * the contexts ctx (a tensor [n, L, D]). */
static lt_tensor *eps(lt_adv *r, lt_unet *u, const float *x, int n, int t,
                      lt_tensor *ctx, bool training)
{
    int64_t shape[4] = {n, u->cfg.in_ch, u->cfg.res, u->cfg.res};
    lt_tensor *xt = lt_from_data(r->c, 4, shape, (float *)x);
    float *tf = lt_alloc(r->c, (size_t)n * sizeof *tf);
    if (!xt || !tf || !ctx)
        return NULL;
    for (int i = 0; i < n; i++)
        tf[i] = (float)t;
    return lt_unet_forward_text(r->c, u, xt, tf, ctx, training);
}

/* A plain context tensor [n, L, D] over data. */
static lt_tensor *plain_ctx(lt_adv *r, const float *data, int n)
{
    return lt_from_data(r->c, 3, (int64_t[]){n, r->L, r->D}, (float *)data);
}

/* t_enc, t_ddpm and the start noise of draw index k of stream. */
static void draw_ts(lt_adv *r, uint64_t stream, int64_t k, lt_adv_draw *d)
{
    lt_esd_config ec = lt_esd_defaults();
    ec.seed = lt_hash3(r->cfg.seed, stream, 0);
    ec.ddim_steps = r->cfg.ddim_steps;
    lt_esd_draw e = {.start = d->start};
    lt_esd_draws(&ec, r->U, r->d.s, k, &e);
    d->t_enc = e.t_enc;
    d->t_ddpm = e.t_ddpm;
}

static lt_status check_draw(lt_adv *r, const lt_adv_draw *d, bool outer)
{
    if (!d->start || (outer && r->rb && (!d->retain_start || !d->retain)))
        return lt_set_error(LT_ERR_ARG, "advunlearn: draws without noise or "
                            "retain prompts");
    if (d->t_enc < 0 || d->t_enc >= r->cfg.ddim_steps || d->t_ddpm < 0 ||
        d->t_ddpm >= r->d.s->T)
        return lt_set_error(LT_ERR_ARG, "advunlearn: t_enc %d / t %d out of "
                            "range", d->t_enc, d->t_ddpm);
    for (int b = 0; outer && b < r->rb; b++)
        if (d->retain[b] < 0 || d->retain[b] >= r->d.n_retain)
            return lt_set_error(LT_ERR_ARG, "advunlearn: retain index %lld "
                                "out of range", (long long)d->retain[b]);
    return LT_OK;
}

/* z of the draw for context ctx into out (DDIM of the trained UNet). */
static lt_status start_point(lt_adv *r, int t_enc, const float *noise,
                             const float *ctx, float *out)
{
    memcpy(out, noise, (size_t)r->img * sizeof *out);
    return lt_esd_start(r->U, r->d.s, r->cfg.ddim_steps, t_enc,
                        r->cfg.start_guidance, ctx, r->c_0, out);
}

/* ---- the attack ------------------------------------------------------------------- */

lt_status lt_adv_attack_begin(lt_adv *r)
{
    if (!r)
        return lt_set_error(LT_ERR_ARG, "advunlearn: NULL run");
    int k = r->cfg.k, D = r->D, V = r->E->cfg.vocab_size;
    if (r->have_prefix && !r->cfg.attack_random_init) {
        memcpy(r->var, r->prefix, (size_t)k * D * sizeof *r->var);
    } else {
        lt_rng g;
        lt_rng_init(&g, lt_hash3(r->cfg.seed, 85, (uint64_t)r->round));
        for (int i = 0; i < k; i++) {
            int64_t id = LT_CLIP_N_SPECIAL +
                         (int64_t)lt_rng_below(&g, (uint64_t)(V -
                                                   LT_CLIP_N_SPECIAL));
            memcpy(r->var + (int64_t)i * D, r->E->tok_emb->data + id * D,
                   (size_t)D * sizeof *r->var);
        }
    }
    memset(r->acc, 0, (size_t)k * D * sizeof *r->acc);
    lt_optim_free(&r->aopt);
    lt_optim_config oc = lt_optim_defaults(LT_OPT_ADAM);
    oc.lr = r->cfg.attack_lr;
    oc.weight_decay = 0;
    r->attack_j = 0;
    return lt_optim_init(&r->aopt, &oc, (int64_t)k * D);
}

/* The attack loss at the variable: MSE(U(z | E(adv)), U0(z | c_p)). */
static lt_tensor *attack_loss(lt_adv *r, const lt_adv_draw *d,
                              lt_tensor **leaf)
{
    bool was = lt_set_grad_enabled(r->c, false);
    lt_tensor *ep = eps(r, r->U0, r->z, 1, d->t_ddpm, plain_ctx(r, r->c_p, 1),
                        false);
    lt_set_grad_enabled(r->c, was);
    int64_t shp[2] = {r->cfg.k, r->D};
    *leaf = lt_requires_grad(lt_from_data(r->c, 2, shp, r->var));
    lt_tensor *en = ep && *leaf ? eps(r, r->U, r->z, 1, d->t_ddpm,
                                      adv_context(r, *leaf), false)
                                : NULL;
    return en ? lt_mse(r->c, en, ep, LT_REDUCE_MEAN) : NULL;
}

lt_status lt_adv_attack_step(lt_adv *r, const lt_adv_draw *d, float *loss,
                             float *grad)
{
    if (!r || !loss)
        return lt_set_error(LT_ERR_ARG, "advunlearn attack: NULL argument");
    lt_adv_draw own = {.start = r->start};
    if (!d) {
        uint64_t stream = lt_hash3(r->cfg.seed, 81, (uint64_t)r->round);
        draw_ts(r, stream, r->attack_j, &own);
        d = &own;
    }
    if (check_draw(r, d, false) != LT_OK)
        return lt_last_status();
    if (start_point(r, d->t_enc, d->start, r->c_p, r->z) != LT_OK)
        return lt_last_status();
    int64_t n = (int64_t)r->cfg.k * r->D;
    lt_ctx_reset(r->c);
    grads_set(&r->E->params, NULL, 0);
    grads_set(&r->U->params, NULL, 0);
    lt_tensor *leaf = NULL, *l = attack_loss(r, d, &leaf);
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "advunlearn attack step %d: %s",
                            r->attack_j + 1, lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "advunlearn attack step %d: loss %g",
                            r->attack_j + 1, (double)l->data[0]);
    for (int64_t i = 0; i < n; i++) {
        float gi = leaf->grad[i];
        r->acc[i] = r->cfg.attack_zero_grad ? gi : r->acc[i] + gi;
        if (r->cfg.attack == LT_ADV_FAST_AT)
            r->acc[i] = (float)((r->acc[i] > 0) - (r->acc[i] < 0));
    }
    memcpy(r->used, r->var, (size_t)n * sizeof *r->used);
    if (grad)
        memcpy(grad, r->acc, (size_t)n * sizeof *grad);
    if (lt_optim_step(&r->aopt, r->var, r->acc, NULL, r->cfg.attack_lr) !=
        LT_OK)
        return lt_last_status();
    *loss = l->data[0];
    r->attack_loss = *loss;
    r->attack_j++;
    return LT_OK;
}

void lt_adv_attack_end(lt_adv *r)
{
    if (!r || r->attack_j == 0)
        return;
    memcpy(r->prefix, r->used, (size_t)r->cfg.k * r->D * sizeof *r->prefix);
    r->have_prefix = true;
    r->round++;
}

static lt_status attack_round(lt_adv *r)
{
    lt_status st = lt_adv_attack_begin(r);
    for (int j = 0; st == LT_OK && j < r->cfg.attack_steps; j++) {
        float l;
        st = lt_adv_attack_step(r, NULL, &l, NULL);
    }
    if (st == LT_OK)
        lt_adv_attack_end(r);
    return st;
}

/* ---- the outer step ----------------------------------------------------------------- */

/* Retain prompts of step k: PromptDataset's draws without replacement,
 * restarted when fewer than the batch are left unseen. */
static void draw_retain(lt_adv *r, int64_t *out)
{
    int64_t n = r->d.n_retain;
    if (r->perm_left < r->rb) {
        lt_permutation(r->perm, n, lt_hash3(r->cfg.seed, 84,
                                            (uint64_t)r->epoch++));
        r->perm_left = n;
    }
    for (int b = 0; b < r->rb; b++)
        out[b] = r->perm[n - r->perm_left--];
}

static void own_outer_draws(lt_adv *r, lt_adv_draw *d)
{
    *d = (lt_adv_draw){.start = r->start, .retain_start = r->rstart,
                       .retain = r->ridx};
    draw_ts(r, 83, r->step, d);
    lt_rng g;
    lt_rng_init(&g, lt_hash3(r->cfg.seed, 86, (uint64_t)r->step));
    lt_rng_fill_normal(&g, r->rstart, (int64_t)r->rb * r->img, 0, 1);
    if (r->rb)
        draw_retain(r, r->ridx);
}

/* The outer loss; *esd and *ret get its two terms. */
static lt_tensor *outer_loss(lt_adv *r, const lt_adv_draw *d, bool adv,
                             float *esd, float *ret)
{
    lt_ctx *c = r->c;
    int rb = r->rb, t = d->t_ddpm;
    bool tr = r->cfg.train == LT_ADV_TRAIN_UNET;
    size_t LD = (size_t)r->L * r->D;
    bool was = lt_set_grad_enabled(c, false);
    lt_tensor *e0 = eps(r, r->U0, r->z, 1, t, plain_ctx(r, r->c_0, 1), false);
    lt_tensor *ep = e0 ? eps(r, r->U0, r->z, 1, t, plain_ctx(r, r->c_p, 1),
                             false)
                       : NULL;
    lt_tensor *tg = ep ? lt_sub(c, e0, lt_affine(c, lt_sub(c, ep, e0),
                                                 r->cfg.eta, 0))
                       : NULL;
    lt_tensor *erp = NULL;
    float *cr = rb ? lt_alloc(c, rb * LD * sizeof *cr) : NULL;
    for (int b = 0; b < rb && cr; b++)
        memcpy(cr + b * LD, r->c_r + d->retain[b] * LD, LD * sizeof *cr);
    if (rb && cr && tg)
        erp = eps(r, r->U0, r->zr, rb, t, plain_ctx(r, cr, rb), false);
    lt_set_grad_enabled(c, was);
    if (!tg || (rb && !erp))
        return NULL;
    lt_tensor *ctx_n = NULL;
    if (adv) {
        lt_tensor *pre = lt_from_data(c, 2, (int64_t[]){r->cfg.k, r->D},
                                      r->prefix);
        ctx_n = pre ? adv_context(r, pre) : NULL;
    } else {
        ctx_n = lt_clip_text_encode(c, r->E, r->d.concept_ids, 1);
    }
    lt_tensor *en = eps(r, r->U, r->z, 1, t, ctx_n, tr);
    lt_tensor *l = en ? lt_mse(c, en, tg, LT_REDUCE_MEAN) : NULL;
    *esd = l ? l->data[0] : NAN;
    *ret = 0;
    if (!l || !rb)
        return l;
    int32_t *ids = lt_alloc(c, (size_t)rb * r->L * sizeof *ids);
    if (!ids)
        return NULL;
    for (int b = 0; b < rb; b++)
        memcpy(ids + (int64_t)b * r->L, r->d.retain_ids + d->retain[b] * r->L,
               (size_t)r->L * sizeof *ids);
    lt_tensor *ern = eps(r, r->U, r->zr, rb, t,
                         lt_clip_text_encode(c, r->E, ids, rb), tr);
    lt_tensor *lr = ern ? lt_mse(c, ern, erp, LT_REDUCE_MEAN) : NULL;
    if (!lr)
        return NULL;
    *ret = lr->data[0];
    return lt_add(c, l, lt_affine(c, lr, r->cfg.retain_weight, 0));
}

lt_status lt_adv_train_step(lt_adv *r, const lt_adv_draw *d, lt_adv_event *ev)
{
    if (!r || !ev)
        return lt_set_error(LT_ERR_ARG, "advunlearn step: NULL argument");
    lt_adv_draw own;
    if (!d) {
        own_outer_draws(r, &own);
        d = &own;
    }
    long long k = (long long)r->step + 1;
    if (check_draw(r, d, true) != LT_OK)
        return lt_set_error(LT_ERR_ARG, "advunlearn step %lld: %s", k,
                            lt_last_error());
    bool adv = r->step >= r->cfg.warmup;
    if (adv && !r->have_prefix)
        return lt_set_error(LT_ERR_ARG, "advunlearn step %lld: past the "
                            "warm-up but no attack has run", k);
    lt_status st = start_point(r, d->t_enc, d->start, r->c_p, r->z);
    size_t LD = (size_t)r->L * r->D;
    for (int b = 0; st == LT_OK && b < r->rb; b++)
        st = start_point(r, d->t_enc, d->retain_start + b * r->img,
                         r->c_r + d->retain[b] * LD, r->zr + b * r->img);
    if (st != LT_OK)
        return lt_set_error(st, "advunlearn step %lld: %s", k,
                            lt_last_error());
    bool enc = r->cfg.train == LT_ADV_TRAIN_ENCODER;
    grads_set(&r->E->params, r->mask, enc ? 1 : 0);
    grads_set(&r->U->params, r->mask, enc ? 0 : 1);
    lt_ctx_reset(r->c);
    lt_params_zero_grad(r->trained);
    float esd = NAN, ret = NAN;
    lt_tensor *l = outer_loss(r, d, adv, &esd, &ret);
    if (!l || lt_backward(r->c, l) != LT_OK)
        return lt_set_error(lt_last_status(), "advunlearn step %lld: %s", k,
                            lt_last_error());
    if (!isfinite(l->data[0]))
        return lt_set_error(LT_ERR_NAN, "advunlearn step %lld: loss %g", k,
                            (double)l->data[0]);
    if (lt_optim_step(&r->opt, r->trained->theta, r->trained->grad, r->mask,
                      r->cfg.lr) != LT_OK)
        return lt_last_status();
    r->step++;
    *ev = (lt_adv_event){.step = r->step, .steps = r->cfg.steps,
                         .loss = l->data[0], .esd_loss = esd,
                         .retain_loss = ret, .attack_loss = r->attack_loss,
                         .adversarial = adv,
                         .seconds = lt_clock_seconds() - r->t0};
    return LT_OK;
}

lt_status lt_adv_step(lt_adv *r, lt_adv_event *ev)
{
    if (!r || !ev)
        return lt_set_error(LT_ERR_ARG, "advunlearn step: NULL argument");
    r->attack_loss = NAN;
    if (r->step >= r->cfg.warmup && r->step % r->cfg.update_every == 0 &&
        attack_round(r) != LT_OK)
        return lt_set_error(lt_last_status(), "advunlearn step %lld: %s",
                            (long long)r->step + 1, lt_last_error());
    return lt_adv_train_step(r, NULL, ev);
}

/* ---- state ---------------------------------------------------------------------- */

int64_t lt_adv_steps_done(const lt_adv *r)
{
    return r ? r->step : 0;
}

/* The settings a state must share with the run that loads it. */
static void state_keys(const lt_adv *r, char v[][64])
{
    const lt_adv_config *c = &r->cfg;
    snprintf(v[0], 64, "%s", lt_adv_target_name(c->train));
    snprintf(v[1], 64, "%s", c->train == LT_ADV_TRAIN_UNET
                                 ? lt_esd_params_name(c->unet_params)
                                 : "text_encoder_full");
    snprintf(v[2], 64, "%lld", (long long)r->trained->n_total);
    snprintf(v[3], 64, "%d", c->k);
    snprintf(v[4], 64, "%llu", (unsigned long long)c->seed);
    snprintf(v[5], 64, "%.9g", (double)c->lr);
    snprintf(v[6], 64, "%lld", (long long)(r->rb ? r->d.n_retain : 0));
}

static const char *const STATE_KEYS[] = {"trained", "params", "size", "k",
                                         "seed", "lr", "retain_prompts"};
#define N_STATE_KEYS 7

lt_status lt_adv_save_state(const lt_adv *r, const char *path)
{
    if (!r || !path)
        return lt_set_error(LT_ERR_ARG, "advunlearn state: NULL argument");
    int64_t nt = r->trained->n_total, ntr = r->trained->n_train;
    lt_st_tensor ts[4] = {
        {.name = "adam.m", .ndim = 1, .shape = {ntr}, .data = r->opt.m},
        {.name = "adam.v", .ndim = 1, .shape = {ntr}, .data = r->opt.v},
        {.name = "prefix", .ndim = 1, .shape = {(int64_t)r->cfg.k * r->D},
         .data = r->prefix},
        {.name = "theta", .ndim = 1, .shape = {nt},
         .data = r->trained->theta}};
    char v[N_STATE_KEYS][64], cnt[5][32];
    state_keys(r, v);
    int64_t counters[5] = {r->step, r->opt.step, r->round, r->epoch,
                           r->perm_left * 2 + r->have_prefix};
    const char *meta[2 * (N_STATE_KEYS + 5)];
    static const char *const names[5] = {"step", "adam_step", "round",
                                         "epoch", "left_prefix"};
    for (int i = 0; i < N_STATE_KEYS; i++) {
        meta[2 * i] = STATE_KEYS[i];
        meta[2 * i + 1] = v[i];
    }
    for (int i = 0; i < 5; i++) {
        snprintf(cnt[i], sizeof cnt[i], "%lld", (long long)counters[i]);
        meta[2 * (N_STATE_KEYS + i)] = names[i];
        meta[2 * (N_STATE_KEYS + i) + 1] = cnt[i];
    }
    return lt_st_save(path, ts, 4, meta, N_STATE_KEYS + 5);
}

static lt_status read_vec(const lt_st_file *f, const char *path,
                          const char *name, float *dst, int64_t n)
{
    lt_tensor t;
    lt_tensor_wrap(&t, dst, NULL, 1, (int64_t[]){n});
    if (lt_st_read_into(f, name, &t) != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s: %s", path, lt_last_error());
    return LT_OK;
}

/* The counters of the state; LT_ERR_FORMAT when one is missing. */
static lt_status read_counters(const lt_st_file *f, const char *path,
                               int64_t *out)
{
    static const char *const names[5] = {"step", "adam_step", "round",
                                         "epoch", "left_prefix"};
    for (int i = 0; i < 5; i++) {
        const char *s = lt_st_meta(f, names[i]);
        char *end = NULL;
        out[i] = s ? strtoll(s, &end, 10) : -1;
        if (!s || *end || out[i] < 0)
            return lt_set_error(LT_ERR_FORMAT, "%s: no valid '%s' in the "
                                "metadata", path, names[i]);
    }
    return LT_OK;
}

lt_status lt_adv_load_state(lt_adv *r, const char *path)
{
    if (!r || !path)
        return lt_set_error(LT_ERR_ARG, "advunlearn state: NULL argument");
    lt_st_file *f = NULL;
    if (lt_st_load(path, &f) != LT_OK)
        return lt_last_status();
    char v[N_STATE_KEYS][64];
    state_keys(r, v);
    lt_status st = LT_OK;
    for (int i = 0; st == LT_OK && i < N_STATE_KEYS; i++) {
        const char *got = lt_st_meta(f, STATE_KEYS[i]);
        if (!got || strcmp(got, v[i]))
            st = lt_set_error(LT_ERR_ARG, "%s: cannot resume: its %s is "
                              "'%s', this run's is '%s'", path,
                              STATE_KEYS[i], got ? got : "(missing)", v[i]);
    }
    int64_t c[5];
    int64_t nt = r->trained->n_total, ntr = r->trained->n_train;
    if (st == LT_OK)
        st = read_counters(f, path, c);
    if (st == LT_OK && c[4] / 2 > (r->rb ? r->d.n_retain : 0))
        st = lt_set_error(LT_ERR_FORMAT, "%s: bad retain position", path);
    if (st == LT_OK)
        st = read_vec(f, path, "theta", r->trained->theta, nt);
    if (st == LT_OK)
        st = read_vec(f, path, "adam.m", r->opt.m, ntr);
    if (st == LT_OK)
        st = read_vec(f, path, "adam.v", r->opt.v, ntr);
    if (st == LT_OK)
        st = read_vec(f, path, "prefix", r->prefix,
                      (int64_t)r->cfg.k * r->D);
    lt_st_free(f);
    if (st != LT_OK)
        return st;
    r->step = c[0];
    r->opt.step = c[1];
    r->round = c[2];
    r->epoch = c[3];
    r->perm_left = c[4] / 2;
    r->have_prefix = c[4] % 2;
    if (r->rb && r->epoch > 0)
        lt_permutation(r->perm, r->d.n_retain,
                       lt_hash3(r->cfg.seed, 84, (uint64_t)(r->epoch - 1)));
    return LT_OK;
}

lt_status lt_adv_run(const lt_adv_data *d, const lt_adv_config *cfg,
                     lt_adv_fn cb, void *ud)
{
    lt_adv *r = NULL;
    lt_status st = lt_adv_new(d, cfg, &r);
    while (st == LT_OK && r->step < cfg->steps) {
        lt_adv_event ev;
        st = lt_adv_step(r, &ev);
        if (st == LT_OK && cb)
            cb(&ev, ud);
    }
    lt_adv_free(r);
    return st;
}
