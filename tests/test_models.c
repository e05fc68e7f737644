/*
 * test_models.c - the image classifiers against their PyTorch twins
 * (tests/golden/gen_models.py): with weights filled from the same formula
 * on both sides, Lethe must reproduce eval- and train-mode logits, the
 * loss, gradients, running statistics and the weights after one SGD and
 * one Adam step. The penultimate features are what the final linear layer
 * reads: head(features) is the forward pass bit for bit, and the features
 * times the weights give PyTorch's logits. Also: unknown names and bad
 * specs are clear errors.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* The formula of gen_models.py's fill(). */
static void fill(lt_model *m)
{
    for (int j = 0; j < m->params.count; j++) {
        lt_param *p = &m->params.p[j];
        lt_tensor *t = &p->t;
        for (int64_t k = 0; k < t->numel; k++) {
            uint64_t h = ((uint64_t)k * 2654435761u + 97531u * (uint64_t)(j + 1)) &
                         0xffffffffu;
            double u = (double)h / 2147483648.0 - 1.0, v;
            if (t->ndim >= 2)
                v = u / sqrt((double)(t->numel / t->shape[0]));
            else if (ends_with(p->name, "running_var"))
                v = 1 + 0.5 * fabs(u);
            else if (ends_with(p->name, ".weight"))
                v = 1 + 0.1 * u;
            else
                v = 0.1 * u;
            t->data[k] = (float)v;
        }
    }
}

/* Gradients of every named tensor, by relative L2 error: see lt_check_rel_l2 for why.
 * Measured: ~1e-7 for MLP/CNN, ~1e-3 for ResNet-8 and ~2.5e-2 for
 * ResNet-18, where batch norm over only 4x4x4 = 64 values per channel in
 * layer4 amplifies rounding enough that exactly one of 32768 inputs of the
 * last ReLU has the opposite sign in PyTorch (11723 zeros there, 11722
 * here; the gradients reaching that ReLU agree to 8 digits). PyTorch
 * itself moves conv1's gradient by 1e-3 when it switches convolution
 * algorithm (mkldnn on/off). Hence a tolerance per model. */
static double lt_grad_tol(const char *tag)
{
    return !strcmp(tag, "resnet18") ? 5e-2 : !strcmp(tag, "resnet8") ? 5e-3
                                                                      : 1e-4;
}

static void check_grads(const lt_golden *g, lt_model *m, const char *tag)
{
    const char *what = "grad";
    char key[160];
    for (int i = 0; i < g->count; i++) {
        const char *n = g->e[i].name;
        size_t pre = strlen(tag) + strlen(what) + 2;
        snprintf(key, sizeof key, "%s.%s.", tag, what);
        if (strncmp(n, key, pre))
            continue;
        lt_tensor *t = lt_params_get(&m->params, n + pre);
        LT_CHECK(t != NULL, "%s: %s", n, lt_last_error());
        if (!t)
            continue;
        LT_CHECK(g->e[i].numel == t->numel, "%s: size", n);
        if (g->e[i].numel == t->numel)
            LT_CHECK_REL_L2(n, t->grad, g->e[i].data, t->numel,
                            lt_grad_tol(tag));
    }
}

static void step_and_check(const lt_golden *g, lt_model *m, const char *tag,
                           const float *grads, lt_optim_config cfg,
                           const char *what)
{
    /* The step is elementwise, so feed PyTorch's own gradient to the named
     * tensors and compare their new values exactly (1e-4). */
    fill(m);
    memcpy(m->params.grad, grads, (size_t)m->params.n_train * sizeof(float));
    char key[160];
    for (int i = 0; i < g->count; i++) {
        snprintf(key, sizeof key, "%s.grad.", tag);
        if (strncmp(g->e[i].name, key, strlen(key)))
            continue;
        lt_tensor *t = lt_params_get(&m->params, g->e[i].name + strlen(key));
        if (t && t->numel == g->e[i].numel)
            memcpy(t->grad, g->e[i].data, (size_t)t->numel * sizeof(float));
    }
    lt_optim o;
    lt_optim_init(&o, &cfg, m->params.n_train);
    LT_CHECK(lt_optim_step(&o, m->params.theta, m->params.grad, NULL, cfg.lr) ==
                 LT_OK, "%s", lt_last_error());
    lt_optim_free(&o);
    for (int i = 0; i < g->count; i++) {
        snprintf(key, sizeof key, "%s.%s.", tag, what);
        if (strncmp(g->e[i].name, key, strlen(key)))
            continue;
        lt_tensor *t = lt_params_get(&m->params, g->e[i].name + strlen(key));
        LT_CHECK(t != NULL, "%s", lt_last_error());
        if (t)
            LT_GOLDEN_CHECK(g, g->e[i].name, t->data, t->numel);
    }
}

static void twin(const char *tag, const char *arch, lt_input_spec in)
{
    lt_golden *g = lt_golden_load("models.bin");
    lt_model *m = NULL;
    char key[128];
    LT_CHECK(lt_model_create(arch, in, &m) == LT_OK, "%s", lt_last_error());
    lt_ctx *c = lt_ctx_new((size_t)512 << 20);
    if (!m || !g || !c)
        goto out;
    fill(m);
    snprintf(key, sizeof key, "%s.x", tag);
    lt_tensor *x = lt_golden_tensor(c, g, key, false);
    snprintf(key, sizeof key, "%s.y", tag);
    int32_t *y = lt_golden_ints(c, g, key);
    lt_set_grad_enabled(c, false);
    lt_tensor *ev = lt_model_forward(c, m, x, false);
    LT_CHECK_OK(ev);
    snprintf(key, sizeof key, "%s.logits_eval", tag);
    if (ev)
        LT_GOLDEN_CHECK(g, key, ev->data, ev->numel);
    lt_set_grad_enabled(c, true);
    lt_tensor *tr = lt_model_forward(c, m, x, true);
    lt_tensor *loss = lt_cross_entropy(c, tr, y, LT_REDUCE_MEAN);
    LT_CHECK_OK(loss);
    if (!loss)
        goto out;
    snprintf(key, sizeof key, "%s.logits_train", tag);
    LT_GOLDEN_CHECK(g, key, tr->data, tr->numel);
    snprintf(key, sizeof key, "%s.loss_train", tag);
    LT_GOLDEN_CHECK(g, key, loss->data, 1);
    LT_CHECK(lt_backward(c, loss) == LT_OK, "%s", lt_last_error());
    check_grads(g, m, tag);
    float sq[256];
    int n = 0;
    for (int i = 0; i < m->params.count && n < 256; i++)
        if (m->params.p[i].trainable) {
            double s = 0;
            for (int64_t k = 0; k < m->params.p[i].t.numel; k++)
                s += (double)m->params.p[i].t.grad[k] * m->params.p[i].t.grad[k];
            sq[n++] = (float)s;
        }
    snprintf(key, sizeof key, "%s.grad_sq", tag);
    const lt_golden_entry *gsq = lt_golden_get(g, key);
    if (gsq && gsq->numel == n)
        LT_CHECK_REL_L2(key, sq, gsq->data, n, 1e-2);
    snprintf(key, sizeof key, "%s.bn1.running_mean", tag);
    lt_tensor *rm = lt_params_get(&m->params, "bn1.running_mean");
    if (rm)
        LT_GOLDEN_CHECK(g, key, rm->data, rm->numel);
    lt_clear_error();
    float *grads = malloc((size_t)m->params.n_train * sizeof(float));
    memcpy(grads, m->params.grad, (size_t)m->params.n_train * sizeof(float));
    lt_optim_config sgd = lt_optim_defaults(LT_OPT_SGD);
    sgd.lr = 0.1f;
    sgd.weight_decay = 5e-4f;
    step_and_check(g, m, tag, grads, sgd, "sgd");
    lt_optim_config adam = lt_optim_defaults(LT_OPT_ADAM);
    step_and_check(g, m, tag, grads, adam, "adam");
    free(grads);
out:
    lt_ctx_free(c);
    lt_model_free(m);
    lt_golden_free(g);
}

static const lt_input_spec fmnist = {1, 28, 28, 10};

LT_TEST(mlp_matches_pytorch) { twin("mlp", "mlp:784-64-32-10", fmnist); }
LT_TEST(cnn_matches_pytorch) { twin("cnn", "cnn", fmnist); }
LT_TEST(resnet8_matches_pytorch) { twin("resnet8", "resnet8", fmnist); }
LT_TEST(cnn_widths_match_pytorch)
{
    twin("cnnw", "cnn:8-12-20", (lt_input_spec){3, 32, 32, 10});
}
LT_TEST(resnet18_matches_pytorch)
{
    twin("resnet18", "resnet18", (lt_input_spec){3, 32, 32, 10});
}

/* y[n, k] = x[n, d] W^T + b in double, W [k, d] row-major. */
static void affine(const float *x, int64_t n, int64_t d, const float *w,
                   const float *b, int64_t k, bool relu, float *y)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) {
            double s = b[j];
            for (int64_t e = 0; e < d; e++)
                s += (double)x[i * d + e] * w[j * d + e];
            y[i * k + j] = (float)(relu && s < 0 ? 0 : s);
        }
}

/* Features of the twin of tag: D wide, non-negative (after a ReLU),
 * head(features) == forward exactly, features W^T + b == PyTorch's
 * eval-mode logits. Returns the features (arena) for further checks. */
static lt_tensor *check_features(lt_ctx *c, const lt_golden *g,
                                 const char *tag, lt_model *m, int dim)
{
    char key[128];
    snprintf(key, sizeof key, "%s.x", tag);
    lt_tensor *x = lt_golden_tensor(c, g, key, false);
    lt_tensor *f = lt_model_features(c, m, x);
    lt_tensor *y = lt_model_forward(c, m, x, false);
    lt_tensor *h = lt_model_head(c, m, f);
    LT_CHECK_OK(f);
    LT_CHECK_OK(y);
    LT_CHECK_OK(h);
    if (!f || !y || !h)
        return NULL;
    int64_t n = x->shape[0], k = m->in.classes;
    LT_CHECK(f->ndim == 2 && f->shape[0] == n && f->shape[1] == dim &&
                 lt_model_feature_dim(m) == dim, "%s: features [%lld, %lld],"
             " feature dim %d, want %d", tag, (long long)f->shape[0],
             (long long)f->shape[1], lt_model_feature_dim(m), dim);
    LT_CHECK(!memcmp(h->data, y->data, (size_t)y->numel * sizeof(float)),
             "%s: head(features) differs from the forward pass", tag);
    int neg = 0;
    for (int64_t i = 0; i < f->numel; i++)
        neg += f->data[i] < 0;
    LT_CHECK(neg == 0, "%s: %d negative features after a ReLU", tag, neg);
    float *logits = malloc(sizeof(float) * (size_t)(n * k));
    char w[64], b[64];
    snprintf(w, sizeof w, "%s.weight", m->head);
    snprintf(b, sizeof b, "%s.bias", m->head);
    affine(f->data, n, dim, lt_params_get(&m->params, w)->data,
           lt_params_get(&m->params, b)->data, k, false, logits);
    snprintf(key, sizeof key, "%s.logits_eval", tag);
    LT_GOLDEN_CHECK(g, key, logits, n * k);
    free(logits);
    return f;
}

LT_TEST(features_are_the_input_of_the_last_layer)
{
    static const struct {
        const char *tag, *arch;
        int dim;
    } cases[] = {{"mlp", "mlp:784-64-32-10", 32}, {"cnn", "cnn", 128},
                 {"resnet8", "resnet8", 64}};
    lt_golden *g = lt_golden_load("models.bin");
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_set_grad_enabled(c, false);
    for (size_t i = 0; g && i < sizeof cases / sizeof *cases; i++) {
        lt_model *m = NULL;
        LT_CHECK(lt_model_create(cases[i].arch, fmnist, &m) == LT_OK, "%s",
                 lt_last_error());
        fill(m);
        lt_tensor *f = check_features(c, g, cases[i].tag, m, cases[i].dim);
        if (f && !strcmp(cases[i].tag, "mlp")) { /* relu(W1 relu(W0 x)) */
            lt_tensor *x = lt_golden_tensor(c, g, "mlp.x", false);
            int64_t n = x->shape[0];
            float *h0 = malloc(sizeof(float) * (size_t)n * 64);
            float *h1 = malloc(sizeof(float) * (size_t)n * 32);
            affine(x->data, n, 784, lt_params_get(&m->params,
                   "layers.0.weight")->data, lt_params_get(&m->params,
                   "layers.0.bias")->data, 64, true, h0);
            affine(h0, n, 64, lt_params_get(&m->params,
                   "layers.2.weight")->data, lt_params_get(&m->params,
                   "layers.2.bias")->data, 32, true, h1);
            LT_CHECK_CLOSE("mlp features by hand", f->data, h1, n * 32, 1e-5);
            free(h0);
            free(h1);
        }
        lt_ctx_reset(c);
        lt_model_free(m);
    }
    lt_ctx_free(c);
    lt_golden_free(g);
}

LT_TEST(features_of_a_linear_model_are_its_input)
{
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("mlp:784-10", fmnist, &m) == LT_OK, "%s",
             lt_last_error());
    lt_model_init(m, 3);
    lt_ctx *c = lt_ctx_new((size_t)16 << 20);
    lt_tensor *x = lt_new4(c, 2, 1, 28, 28);
    for (int64_t i = 0; i < x->numel; i++)
        x->data[i] = (float)(i % 17) - 8;
    lt_tensor *f = lt_model_features(c, m, x);
    LT_CHECK(f && f->ndim == 2 && f->shape[1] == 784 &&
                 lt_model_feature_dim(m) == 784 &&
                 !memcmp(f->data, x->data, sizeof(float) * 2 * 784),
             "features of mlp:784-10 are not the flattened input");
    LT_CHECK(lt_model_features(c, m, lt_new4(c, 2, 1, 28, 27)) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE &&
                 strstr(lt_last_error(), "expected [N, 1, 28, 28]"), "%s",
             lt_last_error());
    lt_ctx_free(c);
    lt_model_free(m);
}

LT_TEST(model_errors)
{
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("resnet9000", fmnist, &m) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "unknown model 'resnet9000'"),
             "%s", lt_last_error());
    LT_CHECK(lt_model_create("mlp:100-10", fmnist, &m) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "input size 784"),
             "%s", lt_last_error());
    LT_CHECK(lt_model_create("mlp:784-x-10", fmnist, &m) == LT_ERR_ARG,
             "junk spec accepted");
    static const char *const bad_cnn[] = {"cnn:8-12", "cnn:8-12-20-4",
                                          "cnn:8-0-20", "cnn:", "cnnx"};
    for (int i = 0; i < 5; i++)
        LT_CHECK(lt_model_create(bad_cnn[i], fmnist, &m) == LT_ERR_ARG &&
                     strstr(lt_last_error(), bad_cnn[i]) && !m,
                 "'%s' accepted or unnamed: %s", bad_cnn[i], lt_last_error());
    LT_CHECK(lt_model_create("resnet8", fmnist, &m) == LT_OK, "%s",
             lt_last_error());
    lt_ctx *c = lt_ctx_new(1 << 24);
    lt_tensor *x = lt_zeros(c, 4, (int64_t[]){2, 3, 28, 28});
    LT_CHECK(lt_model_forward(c, m, x, false) == NULL &&
                 lt_last_status() == LT_ERR_SHAPE,
             "wrong channel count accepted");
    lt_ctx_free(c);
    lt_model_free(m);
}

LT_TEST(loads_pytorch_exported_weights)
{
    /* resnet8_torch.safetensors is PyTorch's state_dict() written by
     * gen_models.py (with int64 num_batches_tracked counters). */
    lt_golden *g = lt_golden_load("models.bin");
    lt_model *m = NULL;
    LT_CHECK(lt_model_create("resnet8", fmnist, &m) == LT_OK, "create");
    LT_CHECK(lt_model_load_weights(m, LT_GOLDEN_DIR
                                   "/resnet8_torch.safetensors") == LT_OK,
             "%s", lt_last_error());
    lt_ctx *c = lt_ctx_new((size_t)64 << 20);
    lt_set_grad_enabled(c, false);
    lt_tensor *y = lt_model_forward(c, m, lt_golden_tensor(c, g, "export.x",
                                                           false), false);
    LT_CHECK_OK(y);
    if (y)
        LT_GOLDEN_CHECK(g, "export.logits", y->data, y->numel);
    lt_ctx_free(c);
    lt_model_free(m);
    lt_golden_free(g);
}

LT_TEST(checkpoint_round_trip_and_mismatch)
{
    lt_model *m = NULL, *back = NULL, *other = NULL;
    LT_CHECK(lt_model_create("resnet8", fmnist, &m) == LT_OK, "create");
    lt_model_init(m, 5);
    char path[] = "/tmp/lethe_ckpt_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const char *meta[] = {"note", "round trip"};
    LT_CHECK(lt_model_save(m, path, meta, 1) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_model_load(path, &back) == LT_OK, "%s", lt_last_error());
    LT_CHECK(back && !strcmp(back->arch, "resnet8") &&
                 back->params.n_total == m->params.n_total &&
                 !memcmp(back->params.theta, m->params.theta,
                         (size_t)m->params.n_total * sizeof(float)),
             "weights or architecture changed in the round trip");
    /* The same file into another architecture: a clear error. */
    LT_CHECK(lt_model_create("cnn", fmnist, &other) == LT_OK, "create cnn");
    LT_CHECK(lt_model_load_weights(other, path) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), path) &&
                 strstr(lt_last_error(), "not a cnn"),
             "%s", lt_last_error());
    lt_model_free(other);
    LT_CHECK(lt_model_create("resnet8", (lt_input_spec){3, 32, 32, 10},
                             &other) == LT_OK, "create");
    LT_CHECK(lt_model_load_weights(other, path) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "conv1.weight"),
             "%s", lt_last_error());
    lt_model_free(other);
    unlink(path);
    lt_model_free(m);
    lt_model_free(back);
}

LT_TEST_MAIN()
