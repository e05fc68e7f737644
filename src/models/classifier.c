/*
 * classifier.c - the image classifiers: architecture parsing, parameter
 * declaration with PyTorch state_dict names, initialisation and forward
 * passes of the MLP, the small CNN and the CIFAR-style ResNets. Every
 * architecture is a feature extractor (its penultimate activations) and
 * one final linear layer, the head, named by the model; the forward pass
 * is the head applied to the features, so lt_model_features returns
 * exactly what the logits are computed from.
 */
#include "lethe/models.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

const char *lt_model_names(void)
{
    return "mlp:IN-H1-...-K, cnn, cnn:C1-C2-F, resnet8, resnet18";
}

/* The parameter of m named by a printf format. */
#define P(m, ...) lt_params_getf(&(m)->params, __VA_ARGS__)

/* ---- declaration helpers ---------------------------------------------- */

static bool add(lt_model *m, const char *prefix, const char *leaf, int ndim,
                const int64_t *shape, bool trainable)
{
    char name[LT_PARAM_NAME_MAX];
    snprintf(name, sizeof name, "%s.%s", prefix, leaf);
    return lt_params_add(&m->params, name, ndim, shape, trainable) >= 0;
}

static bool add_linear(lt_model *m, const char *prefix, int in, int out)
{
    return add(m, prefix, "weight", 2, (int64_t[]){out, in}, true) &&
           add(m, prefix, "bias", 1, (int64_t[]){out}, true);
}

static bool add_conv(lt_model *m, const char *prefix, int in, int out, int k,
                     bool bias)
{
    return add(m, prefix, "weight", 4, (int64_t[]){out, in, k, k}, true) &&
           (!bias || add(m, prefix, "bias", 1, (int64_t[]){out}, true));
}

static bool add_bn(lt_model *m, const char *prefix, int ch)
{
    const int64_t s[1] = {ch};
    return add(m, prefix, "weight", 1, s, true) &&
           add(m, prefix, "bias", 1, s, true) &&
           add(m, prefix, "running_mean", 1, s, false) &&
           add(m, prefix, "running_var", 1, s, false);
}

/* ---- MLP ------------------------------------------------------------------ */

/* x [N, C, H, W] -> the last hidden layer after its ReLU [N, H_last]
 * (the flattened input for an MLP without hidden layers). */
static lt_tensor *mlp_features(lt_ctx *c, lt_model *m, lt_tensor *x, bool tr)
{
    (void)tr;
    lt_tensor *h = lt_reshape(c, x, 2, (int64_t[]){x ? x->shape[0] : 0, -1});
    for (int i = 0; i + 2 < m->n_widths; i++)
        h = lt_relu(c, lt_linear(c, h, P(m, "layers.%d.weight", 2 * i),
                                 P(m, "layers.%d.bias", 2 * i)));
    return h;
}

/* Up to max positive sizes "A-B-..." at p into w; their count, or -1. */
static int parse_widths(const char *p, int *w, int max)
{
    int n = 0;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 1 << 20 || n == max ||
            (*end && *end != '-'))
            return -1;
        w[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return n;
}

static lt_status mlp_declare(lt_model *m, const char *spec)
{
    m->n_widths = parse_widths(spec + 4, m->widths, 8); /* after "mlp:" */
    if (m->n_widths < 0)
        return lt_set_error(LT_ERR_ARG, "model '%s': expected "
                            "mlp:IN-H1-...-K with 2 to 8 positive sizes",
                            spec);
    int in = m->in.channels * m->in.height * m->in.width;
    if (m->n_widths < 2 || m->widths[0] != in ||
        m->widths[m->n_widths - 1] != m->in.classes)
        return lt_set_error(LT_ERR_ARG, "model '%s': the first size must be "
                            "the input size %d and the last the number of "
                            "classes %d", spec, in, m->in.classes);
    for (int i = 0; i + 1 < m->n_widths; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layers.%d", 2 * i);
        if (!add_linear(m, prefix, m->widths[i], m->widths[i + 1]))
            return lt_last_status();
    }
    m->features = mlp_features;
    snprintf(m->head, sizeof m->head, "layers.%d", 2 * (m->n_widths - 2));
    return LT_OK;
}

/* ---- small CNN: 2 x (conv3x3 + relu + maxpool2), fc, relu, fc ----------- */

/* x [N, C, H, W] -> fc1 after its ReLU [N, F]. */
static lt_tensor *cnn_features(lt_ctx *c, lt_model *m, lt_tensor *x, bool tr)
{
    (void)tr;
    lt_conv_args a = {.pad_h = 1, .pad_w = 1};
    lt_tensor *h = lt_max_pool2d(c, lt_relu(c, lt_conv2d(c, x,
        P(m, "conv1.weight"), P(m, "conv1.bias"), a)), 2, 2, 0);
    h = lt_max_pool2d(c, lt_relu(c, lt_conv2d(c, h, P(m, "conv2.weight"),
        P(m, "conv2.bias"), a)), 2, 2, 0);
    h = lt_reshape(c, h, 2, (int64_t[]){h ? h->shape[0] : 0, -1});
    return lt_relu(c, lt_linear(c, h, P(m, "fc1.weight"), P(m, "fc1.bias")));
}

/* "cnn" (conv widths 32 and 64, fc 128) or "cnn:C1-C2-F". */
static lt_status cnn_declare(lt_model *m, const char *spec)
{
    int w[3] = {32, 64, 128};
    if (spec[3] == ':' && parse_widths(spec + 4, w, 3) != 3)
        return lt_set_error(LT_ERR_ARG, "model '%s': expected cnn:C1-C2-F "
                            "(two conv widths and the hidden fc width)", spec);
    int hh = m->in.height / 4, ww = m->in.width / 4;
    if (hh < 1 || ww < 1)
        return lt_set_error(LT_ERR_ARG, "model 'cnn': input %dx%d is smaller "
                            "than 4x4", m->in.height, m->in.width);
    if (!add_conv(m, "conv1", m->in.channels, w[0], 3, true) ||
        !add_conv(m, "conv2", w[0], w[1], 3, true) ||
        !add_linear(m, "fc1", w[1] * hh * ww, w[2]) ||
        !add_linear(m, "fc2", w[2], m->in.classes))
        return lt_last_status();
    m->features = cnn_features;
    snprintf(m->head, sizeof m->head, "fc2");
    return LT_OK;
}

/* ---- ResNet (BasicBlock, torchvision names, 3x3 stem, no max-pool) ------- */

static lt_tensor *bn(lt_ctx *c, lt_model *m, lt_tensor *x, bool tr,
                     const char *prefix)
{
    return lt_batch_norm(c, x, P(m, "%s.weight", prefix),
                         P(m, "%s.bias", prefix),
                         P(m, "%s.running_mean", prefix),
                         P(m, "%s.running_var", prefix), tr, BN_MOMENTUM,
                         BN_EPS);
}

static lt_tensor *conv(lt_ctx *c, lt_model *m, lt_tensor *x, const char *pfx,
                       int stride, int pad)
{
    lt_conv_args a = {.stride_h = stride, .stride_w = stride, .pad_h = pad,
                      .pad_w = pad};
    return lt_conv2d(c, x, P(m, "%s.weight", pfx), NULL, a);
}

static lt_tensor *block(lt_ctx *c, lt_model *m, lt_tensor *x, bool tr,
                        int layer, int idx, int stride, bool down)
{
    char p[64], q[64];
    snprintf(p, sizeof p, "layer%d.%d.conv1", layer, idx);
    snprintf(q, sizeof q, "layer%d.%d.bn1", layer, idx);
    lt_tensor *h = lt_relu(c, bn(c, m, conv(c, m, x, p, stride, 1), tr, q));
    snprintf(p, sizeof p, "layer%d.%d.conv2", layer, idx);
    snprintf(q, sizeof q, "layer%d.%d.bn2", layer, idx);
    h = bn(c, m, conv(c, m, h, p, 1, 1), tr, q);
    lt_tensor *sc = x;
    if (down) {
        snprintf(p, sizeof p, "layer%d.%d.downsample.0", layer, idx);
        snprintf(q, sizeof q, "layer%d.%d.downsample.1", layer, idx);
        sc = bn(c, m, conv(c, m, x, p, stride, 0), tr, q);
    }
    return lt_relu(c, lt_add(c, h, sc));
}

/* x [N, C, H, W] -> globally average-pooled last stage [N, width]. */
static lt_tensor *resnet_features(lt_ctx *c, lt_model *m, lt_tensor *x,
                                  bool tr)
{
    lt_tensor *h = lt_relu(c, bn(c, m, conv(c, m, x, "conv1", 1, 1), tr, "bn1"));
    int blocks = m->widths[7], in = m->widths[0];
    for (int s = 0; s < m->n_widths; s++)
        for (int b = 0; b < blocks; b++) {
            int stride = (s > 0 && b == 0) ? 2 : 1;
            bool down = b == 0 && (stride != 1 || in != m->widths[s]);
            h = block(c, m, h, tr, s + 1, b, stride, down);
            in = m->widths[s];
        }
    return lt_global_avg_pool(c, h);
}

static lt_status resnet_declare(lt_model *m, int stages, int base, int blocks)
{
    char p[64];
    m->n_widths = stages;
    m->widths[7] = blocks;
    if (!add_conv(m, "conv1", m->in.channels, base, 3, false) ||
        !add_bn(m, "bn1", base))
        return lt_last_status();
    int in = base;
    for (int s = 0; s < stages; s++) {
        int w = base << s;
        m->widths[s] = w;
        for (int b = 0; b < blocks; b++) {
            int stride = (s > 0 && b == 0) ? 2 : 1;
            bool ok = true;
            snprintf(p, sizeof p, "layer%d.%d.conv1", s + 1, b);
            ok = ok && add_conv(m, p, in, w, 3, false);
            snprintf(p, sizeof p, "layer%d.%d.bn1", s + 1, b);
            ok = ok && add_bn(m, p, w);
            snprintf(p, sizeof p, "layer%d.%d.conv2", s + 1, b);
            ok = ok && add_conv(m, p, w, w, 3, false);
            snprintf(p, sizeof p, "layer%d.%d.bn2", s + 1, b);
            ok = ok && add_bn(m, p, w);
            if (b == 0 && (stride != 1 || in != w)) {
                snprintf(p, sizeof p, "layer%d.%d.downsample.0", s + 1, b);
                ok = ok && add_conv(m, p, in, w, 1, false);
                snprintf(p, sizeof p, "layer%d.%d.downsample.1", s + 1, b);
                ok = ok && add_bn(m, p, w);
            }
            if (!ok)
                return lt_last_status();
            in = w;
        }
    }
    if (!add_linear(m, "fc", in, m->in.classes))
        return lt_last_status();
    m->features = resnet_features;
    snprintf(m->head, sizeof m->head, "fc");
    return LT_OK;
}

/* ---- the head, shared by every architecture ------------------------------ */

lt_tensor *lt_model_head(lt_ctx *c, lt_model *m, lt_tensor *features)
{
    return lt_linear(c, features, P(m, "%s.weight", m->head),
                     P(m, "%s.bias", m->head));
}

/* Every architecture's forward: its features, then the final linear. */
static lt_tensor *classifier_forward(lt_ctx *c, lt_model *m, lt_tensor *x,
                                     bool training)
{
    return lt_model_head(c, m, m->features(c, m, x, training));
}

/* ---- creation and initialisation ---------------------------------------- */

lt_status lt_model_create(const char *arch, lt_input_spec in, lt_model **out)
{
    *out = NULL;
    if (!arch || in.channels < 1 || in.height < 1 || in.width < 1 ||
        in.classes < 2)
        return lt_set_error(LT_ERR_ARG, "model: bad architecture or input "
                            "shape");
    lt_model *m = calloc(1, sizeof *m);
    if (!m)
        return lt_set_error(LT_ERR_NOMEM, "model: out of memory");
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    m->in = in;
    lt_params_init(&m->params);
    lt_status s;
    if (!strncmp(arch, "mlp:", 4))
        s = mlp_declare(m, arch);
    else if (!strcmp(arch, "cnn") || !strncmp(arch, "cnn:", 4))
        s = cnn_declare(m, arch);
    else if (!strcmp(arch, "resnet8"))
        s = resnet_declare(m, 3, 16, 1);
    else if (!strcmp(arch, "resnet18"))
        s = resnet_declare(m, 4, 64, 2);
    else
        s = lt_set_error(LT_ERR_ARG, "unknown model '%s' (known: %s)", arch,
                         lt_model_names());
    if (s == LT_OK)
        s = lt_params_finalize(&m->params);
    m->forward = classifier_forward;
    if (s != LT_OK) {
        lt_model_free(m);
        return s;
    }
    *out = m;
    return LT_OK;
}

void lt_model_free(lt_model *m)
{
    if (!m)
        return;
    lt_params_free(&m->params);
    free(m);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

void lt_model_init(lt_model *m, uint64_t seed)
{
    lt_rng r;
    lt_rng_init(&r, seed);
    bool resnet = !strncmp(m->arch, "resnet", 6);
    float bias_bound = 0;
    for (int i = 0; i < m->params.count; i++) {
        lt_param *p = &m->params.p[i];
        lt_tensor *t = &p->t;
        int64_t fan_in = t->ndim >= 2 ? t->numel / t->shape[0] : 1;
        if (t->ndim >= 2) {
            bias_bound = 1.0f / sqrtf((float)fan_in);
            if (resnet && t->ndim == 4) {
                float fan_out = (float)(t->shape[0] * t->shape[2] * t->shape[3]);
                lt_rng_fill_normal(&r, t->data, t->numel, 0,
                                   sqrtf(2.0f / fan_out));
            } else
                lt_rng_fill_uniform(&r, t->data, t->numel, -bias_bound,
                                    bias_bound);
        } else if (ends_with(p->name, "running_var") ||
                   (ends_with(p->name, ".weight") && t->ndim == 1)) {
            for (int64_t k = 0; k < t->numel; k++)
                t->data[k] = 1.0f; /* BatchNorm scale, running variance */
        } else if (ends_with(p->name, ".bias") && i > 0 &&
                   m->params.p[i - 1].t.ndim >= 2) {
            lt_rng_fill_uniform(&r, t->data, t->numel, -bias_bound,
                                bias_bound);
        } else
            memset(t->data, 0, (size_t)t->numel * sizeof(float));
    }
}

/* The input check shared by the forward pass and the features. */
static bool input_ok(const lt_model *m, const lt_tensor *x)
{
    if (x->ndim == 4 && x->shape[1] == m->in.channels &&
        x->shape[2] == m->in.height && x->shape[3] == m->in.width)
        return true;
    char b[64];
    lt_set_error(LT_ERR_SHAPE, "model %s: input %s, expected [N, %d, %d, %d]",
                 m->arch, lt_shape_str(x, b, sizeof b), m->in.channels,
                 m->in.height, m->in.width);
    return false;
}

lt_tensor *lt_model_forward(lt_ctx *c, lt_model *m, lt_tensor *x,
                            bool training)
{
    if (!x || !input_ok(m, x))
        return NULL;
    return m->forward(c, m, x, training);
}

lt_tensor *lt_model_features(lt_ctx *c, lt_model *m, lt_tensor *x)
{
    if (!x || !input_ok(m, x))
        return NULL;
    return m->features(c, m, x, false);
}

int lt_model_feature_dim(lt_model *m)
{
    const lt_tensor *w = P(m, "%s.weight", m->head);
    return w ? (int)w->shape[1] : 0;
}
