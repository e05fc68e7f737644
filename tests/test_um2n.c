/*
 * test_um2n.c - tests of M2N_T (src/models/um2n.c) against its PyTorch twin
 * (tests/golden/gen_um2n.py, um2n.bin) on a 36-node mesh, batch of two:
 * every DeformGAT layer's coordinates, the area and Chamfer losses, and the
 * gradient of every parameter (looked up by its state_dict name); boundary
 * nodes bit-identical to the input after every layer; every other output
 * coordinate inside the convex hull of its neighbours; UM2N's edge order;
 * the checkpoint round trip and the official lin_ aliases; bad batches.
 * The M2N baseline against its twin (gen_m2n.py, m2n.bin): the 20 x 20
 * grid, layers, coordinate loss, gradients; the checkpoint's architecture.
 */
#include "lt_test.h"

#include "lethe/safetensors.h"
#include "lethe/um2n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The weights of gen_um2n.py's formula(). */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static bool ends_with(const char *s, const char *t)
{
    size_t a = strlen(s), b = strlen(t);
    return a >= b && !strcmp(s + a - b, t);
}

static void formula_weights(lt_um2n *m, double att)
{
    for (int i = 0; i < m->params.count; i++) {
        lt_param *p = &m->params.p[i];
        uint32_t h = fnv1a(p->name);
        int nd = p->t.ndim;
        for (int64_t k = 0; k < p->t.numel; k++) {
            uint32_t q = (uint32_t)((uint64_t)k * 2654435761u + h);
            double v = 2.0 * ((double)q / 4294967296.0) - 1.0, w;
            if (nd == 1)
                w = ends_with(p->name, "norm.weight") ||
                            ends_with(p->name, "c_attn") ||
                            ends_with(p->name, "residual_weight")
                        ? 1.0 + 0.2 * v : 0.1 * v;
            else if (nd == 3)
                w = sqrt(6.0 / (double)(p->t.shape[1] + p->t.shape[2])) * v * att;
            else
                w = (1.0 / sqrt((double)p->t.shape[nd - 1])) * v;
            p->t.data[k] = (float)w;
        }
    }
}

typedef struct {
    lt_golden *g;
    lt_ctx *c;
    lt_um2n_batch b;
    int32_t *faces, *src, *dst;
} fixture;

static bool fixture_open(fixture *f, const char *file)
{
    memset(f, 0, sizeof *f);
    f->g = lt_golden_load(file);
    f->c = lt_ctx_new((size_t)256 << 20);
    if (!f->g || !f->c)
        return false;
    const lt_golden_entry *x = lt_golden_get(f->g, "x");
    const lt_golden_entry *fe = lt_golden_get(f->g, "faces");
    const lt_golden_entry *e = lt_golden_get(f->g, "src");
    if (!x || !fe || !e)
        return false;
    f->b.n_nodes = x->shape[0];
    f->b.n_graphs = 2;
    f->b.x = x->data;
    f->b.mesh_feat = lt_golden_get(f->g, "mesh_feat")->data;
    f->b.target = lt_golden_get(f->g, "target")->data;
    f->b.faces = lt_golden_ints(f->c, f->g, "faces");
    f->b.n_faces = fe->shape[0];
    f->b.src = lt_golden_ints(f->c, f->g, "src");
    f->b.dst = lt_golden_ints(f->c, f->g, "dst");
    f->b.n_edges = e->numel;
    return f->b.faces && f->b.src && f->b.dst;
}

static void fixture_close(fixture *f)
{
    lt_ctx_free(f->c);
    lt_golden_free(f->g);
}

/* The entry called name, or NULL (no test failure). */
static const lt_golden_entry *find(const lt_golden *g, const char *name)
{
    for (int i = 0; i < g->count; i++)
        if (!strcmp(g->e[i].name, name))
            return &g->e[i];
    return NULL;
}

/* ||got - want|| / ||want||, or / floor when floor > 0 (an absolute
 * bound for the gradients that cancel to ~0, see shift_invariant). */
static double rel_err(const float *got, const float *want, int64_t n,
                      double floor)
{
    double d = 0, w = 0;
    for (int64_t k = 0; k < n; k++) {
        d += ((double)got[k] - want[k]) * ((double)got[k] - want[k]);
        w += (double)want[k] * want[k];
    }
    return sqrt(d) / (floor > 0 ? floor : sqrt(w));
}

/* The tensors whose true gradient is a sum that cancels to ~0: att_r and
 * the last layer's lin_l bias only shift all scores entering a node by
 * the same amount, to which the softmax is blind where SELU is linear.
 * Their float32 values are rounding noise; they are held to an absolute
 * bound, 1e-3 x the gradient norm of the same layer's att_l. */
static double shift_invariant(const lt_um2n *m, const char *name)
{
    int k = 0;
    if (sscanf(name, "deformer.gat_%d.", &k) != 1 ||
        !(ends_with(name, "att_r") ||
          !strcmp(name, "deformer.gat_4.lin_l.bias")))
        return 0;
    char nm[64];
    snprintf(nm, sizeof nm, "deformer.gat_%d.att_l", k);
    for (int i = 0; i < m->params.count; i++)
        if (!strcmp(m->params.p[i].name, nm)) {
            const lt_tensor *t = &m->params.p[i].t;
            double n = 0;
            for (int64_t j = 0; j < t->numel; j++)
                n += (double)t->grad[j] * t->grad[j];
            return 1e-3 * sqrt(n);
        }
    return 0;
}

/* Compares one parameter's gradient with its full or sampled golden;
 * returns the error (-1: both noise). */
static double check_grad(const lt_golden *g, const lt_param *p, double tol,
                         double floor)
{
    char nm[160], nn[170];
    if (floor > 0)
        tol = 1.0; /* the absolute bound is floor itself */
    float got[256];
    const float *gv = p->t.grad;
    snprintf(nm, sizeof nm, "g.%s", p->name);
    const lt_golden_entry *e = find(g, nm);
    if (!e) {
        snprintf(nm, sizeof nm, "s.%s", p->name);
        e = find(g, nm);
        LT_CHECK(e && e->numel <= 256, "no golden gradient for %s", p->name);
        if (!e || e->numel > 256)
            return INFINITY;
        int64_t stride = p->t.numel / 256;
        for (int64_t k = 0; k < e->numel; k++)
            got[k] = p->t.grad[k * stride];
        gv = got;
        double norm = 0;
        for (int64_t k = 0; k < p->t.numel; k++)
            norm += (double)p->t.grad[k] * p->t.grad[k];
        snprintf(nn, sizeof nn, "n.%s", p->name);
        const lt_golden_entry *n = find(g, nn);
        LT_CHECK(n && fabs(sqrt(norm) - n->data[0]) <=
                          tol * (floor > 0 ? floor : n->data[0]),
                 "%s: norm %g vs %g", nn, sqrt(norm), n ? n->data[0] : NAN);
    } else {
        LT_CHECK(e->numel == p->t.numel, "%s size", nm);
        if (e->numel != p->t.numel)
            return INFINITY;
    }
    double r = rel_err(gv, e->data, e->numel, floor);
    LT_CHECK(r <= tol, "%s: relative L2 error %g > %g", nm, r, tol);
    return r;
}

/* p inside the convex hull of q[0..k) (2-D), with tolerance tol: for
 * every line through two points of q with all of q on one side, p is on
 * that side too. */
static bool in_hull(const float *p, const float (*q)[2], int k, double tol)
{
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            if (a == b)
                continue;
            double ux = q[b][0] - q[a][0], uy = q[b][1] - q[a][1];
            bool left = true;
            for (int j = 0; j < k && left; j++)
                left = ux * (q[j][1] - q[a][1]) - uy * (q[j][0] - q[a][0]) >=
                       -1e-12;
            if (left && ux * (p[1] - q[a][1]) - uy * (p[0] - q[a][0]) < -tol)
                return false;
        }
    return true;
}

/* Layer output `out` against its input `in`: boundary rows bit-identical,
 * interior rows in the hull of their neighbours' input positions. */
static void check_layer(const fixture *f, const float *in, const float *out,
                        int layer)
{
    int outside = 0, moved = 0;
    for (int64_t i = 0; i < f->b.n_nodes; i++) {
        if (f->b.x[3 * i + 2] != 0) {
            moved += memcmp(in + 2 * i, out + 2 * i, 2 * sizeof(float)) != 0;
            continue;
        }
        float q[16][2];
        int k = 0;
        for (int64_t e = 0; e < f->b.n_edges && k < 16; e++)
            if (f->b.dst[e] == i) {
                q[k][0] = in[2 * f->b.src[e]];
                q[k][1] = in[2 * f->b.src[e] + 1];
                k++;
            }
        outside += !in_hull(out + 2 * i, (const float (*)[2])q, k, 1e-6);
    }
    LT_CHECK(moved == 0, "layer %d: %d boundary nodes moved", layer, moved);
    LT_CHECK(outside == 0, "layer %d: %d nodes outside their hull", layer,
             outside);
}

/* Forward, layers, losses and gradients against one golden file. */
static void twin_case(const char *file, double att, double grad_tol)
{
    fixture f;
    LT_CHECK(fixture_open(&f, file), "fixture: %s", lt_last_error());
    lt_um2n m;
    LT_CHECK(lt_um2n_init(&m, 1) == LT_OK, "%s", lt_last_error());
    formula_weights(&m, att);
    lt_tensor *cs[LT_UM2N_GAT_LAYERS];
    lt_tensor *out = lt_um2n_forward(f.c, &m, &f.b, false, cs);
    LT_CHECK_OK(out);
    lt_tensor *loss = lt_um2n_loss(f.c, out, &f.b);
    LT_CHECK_OK(loss);
    if (!loss)
        goto done;
    float c0[2 * 72];
    for (int64_t i = 0; i < f.b.n_nodes && i < 72; i++) {
        c0[2 * i] = f.b.x[3 * i];
        c0[2 * i + 1] = f.b.x[3 * i + 1];
    }
    for (int k = 0; k < LT_UM2N_GAT_LAYERS; k++) {
        char nm[32];
        snprintf(nm, sizeof nm, "coords%d", k + 1);
        LT_GOLDEN_CHECK(f.g, nm, cs[k]->data, cs[k]->numel);
        check_layer(&f, k ? cs[k - 1]->data : c0, cs[k]->data, k + 1);
    }
    lt_tensor *la = lt_um2n_area_loss(f.c, out, &f.b, LT_UM2N_AREA_SCALE);
    LT_CHECK(la != NULL, "%s", lt_last_error());
    if (la)
        LT_GOLDEN_CHECK(f.g, "area_loss", la->data, 1);
    LT_GOLDEN_CHECK(f.g, "loss", loss->data, 1);
    lt_params_zero_grad(&m.params);
    LT_CHECK(lt_backward(f.c, loss) == LT_OK, "%s", lt_last_error());
    double worst = 0;
    for (int i = 0; i < m.params.count; i++) {
        double fl = shift_invariant(&m, m.params.p[i].name);
        double r = check_grad(f.g, &m.params.p[i], grad_tol, fl);
        if (fl == 0)
            worst = fmax(worst, r);
    }
    printf("  %s: worst gradient rel-L2 error %.2g (shift-invariant tensors "
           "aside) over %d tensors\n", file, worst, m.params.count);
    int golden_params = 0;
    for (int i = 0; i < f.g->count; i++) {
        const char *n = f.g->e[i].name;
        golden_params += !strncmp(n, "g.", 2) || !strncmp(n, "s.", 2);
    }
    LT_CHECK(golden_params == m.params.count, "%d parameters, twin has %d",
             m.params.count, golden_params);
done:
    lt_um2n_free(&m);
    fixture_close(&f);
}

/* Attention vectors at their initialisation scale (measured worst
 * gradient error 2e-5). */
LT_TEST(um2n_twin_init_scale)
{
    twin_case("um2n.bin", 1.0, 1e-4);
}

/* Attention vectors x 0.01: soft attention (measured 4e-5). */
LT_TEST(um2n_twin_soft_attention)
{
    twin_case("um2n_soft.bin", 0.01, 1e-4);
}

/* lt_um2n_edges gives processor.find_edges' order. */
LT_TEST(um2n_edges_order)
{
    lt_golden *g = lt_golden_load("um2n_soft.bin");
    lt_ctx *c = lt_ctx_new(1 << 20);
    const lt_golden_entry *f = lt_golden_get(g, "faces1");
    const lt_golden_entry *e = lt_golden_get(g, "edges1");
    int32_t *faces = lt_golden_ints(c, g, "faces1");
    int32_t *want = lt_golden_ints(c, g, "edges1");
    int32_t *src = NULL, *dst = NULL;
    int64_t ne = 0;
    LT_CHECK(f && e && faces && want, "golden");
    if (f && e && faces && want &&
        lt_um2n_edges(faces, f->shape[0], 36, &src, &dst, &ne) == LT_OK) {
        LT_CHECK(ne == e->shape[1], "%lld edges, want %lld", (long long)ne,
                 (long long)e->shape[1]);
        LT_CHECK(ne == e->shape[1] &&
                 !memcmp(src, want, (size_t)ne * sizeof(int32_t)) &&
                 !memcmp(dst, want + ne, (size_t)ne * sizeof(int32_t)),
                 "edge order differs");
    }
    free(src);
    free(dst);
    const int32_t bad[3] = {0, 1, 40};
    LT_CHECK(lt_um2n_edges(bad, 1, 36, &src, &dst, &ne) == LT_ERR_ARG &&
             strstr(lt_last_error(), "out of range"), "bad face");
    lt_ctx_free(c);
    lt_golden_free(g);
}

/* Save, load, the official lin_ aliases, and a damaged file. */
LT_TEST(um2n_checkpoint)
{
    lt_um2n a, b;
    LT_CHECK(lt_um2n_init(&a, 3) == LT_OK && lt_um2n_init(&b, 4) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(a.params.n_train > 1800000 && a.params.n_train < 1900000,
             "%lld parameters", (long long)a.params.n_train);
    char path[256];
    snprintf(path, sizeof path, "%s/um2n_ck.safetensors", lt_test_tmpdir());
    LT_CHECK(lt_um2n_save(&a, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_um2n_load(&b, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(!memcmp(a.params.theta, b.params.theta,
                     (size_t)a.params.n_total * sizeof(float)), "round trip");
    /* the official state_dict also holds gat_k.lin_.* (= lin_l) */
    int n = a.params.count;
    lt_st_tensor *t = malloc((size_t)(n + 1) * sizeof *t);
    for (int i = 0; i < n; i++)
        t[i] = lt_st_entry(a.params.p[i].name, &a.params.p[i].t);
    t[n] = lt_st_entry("deformer.gat_3.lin_.bias",
                       lt_params_get(&a.params, "deformer.gat_3.lin_l.bias"));
    LT_CHECK(lt_st_save(path, t, n + 1, NULL, 0) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_um2n_load(&b, path) == LT_OK, "alias: %s", lt_last_error());
    lt_um2n c;
    lt_um2n_init(&c, 5);
    t[n] = lt_st_entry("deformer.gat_3.lin_.bias",
                       lt_params_get(&c.params, "deformer.gat_3.lin_l.bias"));
    LT_CHECK(lt_st_save(path, t, n + 1, NULL, 0) == LT_OK, "%s",
             lt_last_error());
    float before = c.params.theta[7];
    LT_CHECK(lt_um2n_load(&c, path) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "differs"), "alias that differs: %s",
             lt_last_error());
    LT_CHECK(c.params.theta[7] == before, "failed load changed the model");
    free(t);
    lt_um2n_free(&a);
    lt_um2n_free(&b);
    lt_um2n_free(&c);
}

LT_TEST(um2n_bad_batch)
{
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_um2n m;
    LT_CHECK(lt_um2n_init(&m, 1) == LT_OK, "%s", lt_last_error());
    float x[9] = {0}, feat[9] = {0};
    lt_um2n_batch b = {3, 2, x, feat, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    LT_CHECK(!lt_um2n_forward(c, &m, &b, false, NULL) &&
             lt_last_status() == LT_ERR_ARG &&
             strstr(lt_last_error(), "multiple"), "3 nodes in 2 graphs");
    b.n_graphs = 1;
    const int32_t e[2] = {0, 3};
    b.src = e;
    b.dst = e + 1;
    b.n_edges = 1;
    LT_CHECK(!lt_um2n_forward(c, &m, &b, false, NULL) &&
             strstr(lt_last_error(), "dst[0] = 3"), "edge out of range: %s",
             lt_last_error());
    const int32_t face[3] = {0, 1, 5};
    float tgt[6] = {0};
    b.faces = face;
    b.n_faces = 1;
    b.target = tgt;
    lt_tensor *o3 = lt_from_data(c, 2, (int64_t[]){3, 2}, x);
    LT_CHECK(!lt_um2n_area_loss(c, o3, &b, 300) &&
             strstr(lt_last_error(), "faces[2] = 5"), "face out of range: %s",
             lt_last_error());
    b.target = NULL;
    lt_tensor *out = lt_from_data(c, 2, (int64_t[]){3, 2}, x);
    LT_CHECK(!lt_um2n_loss(c, out, &b) && strstr(lt_last_error(), "target"),
             "loss without target");
    lt_um2n_free(&m);
    lt_ctx_free(c);
}

/* Seven samples (batches of 5 and 2) from the golden mesh's two graphs. */
static void make_samples(fixture *f, lt_um2n_sample *s, int n)
{
    int64_t n1 = f->b.n_nodes / 2, f1 = f->b.n_faces / 2;
    int32_t *faces = lt_golden_ints(f->c, f->g, "faces1");
    int32_t *e = lt_golden_ints(f->c, f->g, "edges1");
    int64_t ne = lt_golden_get(f->g, "edges1")->shape[1];
    for (int i = 0; i < n; i++) {
        int64_t o = (i % 2) * n1;
        s[i] = (lt_um2n_sample){n1, f->b.x + 3 * o, f->b.mesh_feat + 3 * o,
                                f->b.target + 2 * o, faces, f1, e, e + ne,
                                ne};
    }
}

/* Two epochs straight, and one epoch + save + load into a fresh model
 * and trainer + one epoch, end bit-identical. */
LT_TEST(um2n_train_resume)
{
    fixture f;
    LT_CHECK(fixture_open(&f, "um2n_soft.bin"), "fixture");
    lt_um2n_sample s[7];
    make_samples(&f, s, 7);
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_um2n a, b, r;
    lt_um2n_trainer ta, tb, tr;
    LT_CHECK(lt_um2n_init(&a, 9) == LT_OK && lt_um2n_init(&b, 9) == LT_OK &&
             lt_um2n_init(&r, 1) == LT_OK, "%s", lt_last_error());
    float w0 = a.params.theta[100];
    LT_CHECK(lt_um2n_trainer_init(&ta, &a, 7) == LT_OK &&
             lt_um2n_trainer_init(&tb, &b, 7) == LT_OK &&
             lt_um2n_trainer_init(&tr, &r, 7) == LT_OK, "%s", lt_last_error());
    double l1 = 0, l2 = 0, lb = 0;
    LT_CHECK(lt_um2n_train_epoch(c, &ta, s, 7, &l1) == LT_OK &&
             lt_um2n_train_epoch(c, &ta, s, 7, &l2) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(ta.opt.step == 4 && ta.epoch == 2, "steps %lld epochs %lld",
             (long long)ta.opt.step, (long long)ta.epoch);
    LT_CHECK(isfinite(l1) && isfinite(l2) && l1 > 0, "losses %g %g", l1, l2);
    LT_CHECK(a.params.theta[100] != w0, "weights did not move");
    char path[256];
    snprintf(path, sizeof path, "%s/um2n_train.safetensors", lt_test_tmpdir());
    LT_CHECK(lt_um2n_train_epoch(c, &tb, s, 7, &lb) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lb == l1, "first epochs differ: %.9g vs %.9g", lb, l1);
    LT_CHECK(lt_um2n_trainer_save(&tb, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_um2n_trainer_load(&tr, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(tr.epoch == 1 && tr.opt.step == 2, "counters not restored");
    LT_CHECK(lt_um2n_train_epoch(c, &tr, s, 7, &lb) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lb == l2, "resumed epoch loss %.9g vs %.9g", lb, l2);
    LT_CHECK(!memcmp(a.params.theta, r.params.theta,
                     (size_t)a.params.n_total * sizeof(float)) &&
             !memcmp(ta.opt.m, tr.opt.m, (size_t)ta.opt.n * sizeof(float)) &&
             !memcmp(ta.opt.v, tr.opt.v, (size_t)ta.opt.n * sizeof(float)),
             "resumed run differs");
    /* a weights-only file is not a training checkpoint */
    LT_CHECK(lt_um2n_save(&a, path) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_um2n_trainer_load(&tr, path) == LT_ERR_FORMAT &&
             strstr(lt_last_error(), "epoch"), "weights-only file: %s",
             lt_last_error());
    lt_um2n_trainer_free(&ta);
    lt_um2n_trainer_free(&tb);
    lt_um2n_trainer_free(&tr);
    lt_um2n_free(&a);
    lt_um2n_free(&b);
    lt_um2n_free(&r);
    lt_ctx_free(c);
    fixture_close(&f);
}

/* One step of the training loop (dropout 0) against torch.optim.Adam on
 * the twin: the loss (area loss / 5) and every weight update (the
 * shift-invariant tensors, whose gradient is noise, only to |step| <= lr). */
LT_TEST(um2n_train_step_matches_torch_adam)
{
    fixture f;
    LT_CHECK(fixture_open(&f, "um2n_soft.bin"), "fixture");
    lt_golden *g = lt_golden_load("um2n_adam.bin");
    lt_um2n_sample s[2];
    make_samples(&f, s, 2);
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_um2n m;
    lt_um2n_trainer t;
    LT_CHECK(lt_um2n_init(&m, 1) == LT_OK, "%s", lt_last_error());
    formula_weights(&m, 0.01);
    m.dropout = 0;
    float *before = malloc((size_t)m.params.n_total * sizeof(float));
    memcpy(before, m.params.theta, (size_t)m.params.n_total * sizeof(float));
    double loss = 0;
    LT_CHECK(lt_um2n_trainer_init(&t, &m, 1) == LT_OK &&
             lt_um2n_train_epoch(c, &t, s, 2, &loss) == LT_OK, "%s",
             lt_last_error());
    float lf = (float)loss;
    LT_GOLDEN_CHECK(g, "loss", &lf, 1);
    double worst = 0;
    for (int i = 0; i < m.params.count && g; i++) {
        const lt_param *p = &m.params.p[i];
        char nm[160];
        float u[2048];
        snprintf(nm, sizeof nm, "u.%s", p->name);
        const lt_golden_entry *e = find(g, nm);
        int64_t stride = 1;
        if (!e) {
            snprintf(nm, sizeof nm, "v.%s", p->name);
            e = find(g, nm);
            stride = p->t.numel / 256;
        }
        LT_CHECK(e && e->numel <= 2048, "no update for %s", p->name);
        if (!e || e->numel > 2048)
            continue;
        for (int64_t k = 0; k < e->numel; k++)
            u[k] = p->t.data[k * stride] - before[p->offset + k * stride];
        if (shift_invariant(&m, p->name) > 0) {
            /* a noise gradient: Adam's first step is +-lr, any sign */
            float top = 0;
            for (int64_t k = 0; k < e->numel; k++)
                top = fmaxf(top, fabsf(u[k]));
            LT_CHECK(top <= LT_UM2N_LR * 1.001f, "%s: step %g > lr", nm, top);
            continue;
        }
        double r = rel_err(u, e->data, e->numel, 0);
        LT_CHECK(r <= 1e-3, "%s: update rel-L2 error %g", nm, r);
        worst = fmax(worst, r);
    }
    printf("  Adam step: worst update rel-L2 error %.2g\n", worst);
    free(before);
    lt_um2n_trainer_free(&t);
    lt_um2n_free(&m);
    lt_ctx_free(c);
    lt_golden_free(g);
    fixture_close(&f);
}

/* M2N's inputs of graph gi against the twin's grid and side masks. */
static void check_m2n_inputs(const fixture *f, int gi)
{
    int64_t per = f->b.n_nodes / 2, nf = f->b.n_faces / 2;
    int32_t lf[3 * 50];
    float grid[LT_M2N_GRID * LT_M2N_GRID], side[4 * 36];
    LT_CHECK(per == 36 && nf == 50, "mesh size");
    if (per != 36 || nf != 50)
        return;
    for (int64_t k = 0; k < 3 * nf; k++)
        lf[k] = (int32_t)(f->b.faces[3 * (gi * nf) + k] - gi * per);
    LT_CHECK(lt_m2n_inputs(f->b.mesh_feat + 3 * gi * per, per, lf, nf, grid,
                           side) == LT_OK, "%s", lt_last_error());
    const lt_golden_entry *g = lt_golden_get(f->g, "conv");
    const lt_golden_entry *sd = lt_golden_get(f->g, "side");
    if (!g || !sd)
        return;
    double worst = 0;
    for (int k = 0; k < LT_M2N_GRID * LT_M2N_GRID; k++)
        worst = fmax(worst, fabs(grid[k] - g->data[gi * 400 + k]));
    LT_CHECK(worst < 1e-5, "graph %d: grid differs by %g", gi, worst);
    LT_CHECK(!memcmp(side, sd->data + 4 * gi * per, sizeof side),
             "graph %d: side masks differ", gi);
}

/* The M2N baseline against its twin (gen_m2n.py): the resampled grid,
 * every layer, the coordinate loss and every gradient (measured worst
 * gradient error printed; tolerance as M2N_T's). */
LT_TEST(m2n_twin)
{
    fixture f;
    LT_CHECK(fixture_open(&f, "m2n.bin"), "fixture: %s", lt_last_error());
    check_m2n_inputs(&f, 0);
    check_m2n_inputs(&f, 1);
    lt_um2n m;
    LT_CHECK(lt_um2n_init_arch(&m, LT_UM2N_ARCH_M2N, 1) == LT_OK, "%s",
             lt_last_error());
    formula_weights(&m, 0.01);
    lt_tensor *cs[LT_UM2N_GAT_LAYERS];
    lt_tensor *out = lt_um2n_forward(f.c, &m, &f.b, false, cs);
    LT_CHECK_OK(out);
    lt_tensor *loss = out ? lt_um2n_coord_loss(f.c, out, &f.b) : NULL;
    LT_CHECK_OK(loss);
    if (!loss)
        goto done;
    for (int k = 0; k < LT_UM2N_GAT_LAYERS; k++) {
        char nm[32];
        snprintf(nm, sizeof nm, "coords%d", k + 1);
        LT_GOLDEN_CHECK(f.g, nm, cs[k]->data, cs[k]->numel);
    }
    LT_GOLDEN_CHECK(f.g, "loss", loss->data, 1);
    lt_params_zero_grad(&m.params);
    LT_CHECK(lt_backward(f.c, loss) == LT_OK, "%s", lt_last_error());
    double worst = 0;
    for (int i = 0; i < m.params.count; i++) {
        double fl = shift_invariant(&m, m.params.p[i].name);
        double r = check_grad(f.g, &m.params.p[i], 1e-4, fl);
        if (fl == 0)
            worst = fmax(worst, r);
    }
    printf("  m2n.bin: worst gradient rel-L2 error %.2g over %d tensors\n",
           worst, m.params.count);
    int golden_params = 0;
    for (int i = 0; i < f.g->count; i++) {
        const char *n = f.g->e[i].name;
        golden_params += !strncmp(n, "g.", 2) || !strncmp(n, "s.", 2);
    }
    LT_CHECK(golden_params == m.params.count, "%d parameters, twin has %d",
             m.params.count, golden_params);
    /* no faces: the grid cannot be sampled */
    lt_um2n_batch nb = f.b;
    nb.faces = NULL;
    nb.n_faces = 0;
    LT_CHECK(!lt_um2n_forward(f.c, &m, &nb, false, NULL) &&
             strstr(lt_last_error(), "faces"), "no faces: %s",
             lt_last_error());
done:
    lt_um2n_free(&m);
    fixture_close(&f);
}

/* Checkpoints record their architecture; the wrong kind is refused. */
LT_TEST(m2n_checkpoint_arch)
{
    lt_um2n a, b, t;
    LT_CHECK(lt_um2n_init_arch(&a, LT_UM2N_ARCH_M2N, 3) == LT_OK &&
             lt_um2n_init_arch(&b, LT_UM2N_ARCH_M2N, 4) == LT_OK &&
             lt_um2n_init(&t, 5) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_params_get(&a.params, "gfe.conv2.weight") &&
             lt_params_get(&a.params, "gfe.conv2.weight")->shape[2] == 5 &&
             lt_params_get(&a.params, "deformer.lin.weight")->shape[1] == 39,
             "M2N's shapes");
    char pa[256], pt[256];
    snprintf(pa, sizeof pa, "%s/m2n_ck.safetensors", lt_test_tmpdir());
    snprintf(pt, sizeof pt, "%s/m2n_t_ck.safetensors", lt_test_tmpdir());
    LT_CHECK(lt_um2n_save(&a, pa) == LT_OK && lt_um2n_save(&t, pt) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(lt_um2n_load(&b, pa) == LT_OK, "%s", lt_last_error());
    LT_CHECK(!memcmp(a.params.theta, b.params.theta,
                     (size_t)a.params.n_total * sizeof(float)), "round trip");
    lt_um2n_arch k = LT_UM2N_ARCH_M2N_T;
    LT_CHECK(lt_um2n_file_arch(pa, &k) == LT_OK && k == LT_UM2N_ARCH_M2N,
             "file arch m2n");
    LT_CHECK(lt_um2n_file_arch(pt, &k) == LT_OK && k == LT_UM2N_ARCH_M2N_T,
             "file arch m2n_t");
    float before = t.params.theta[0];
    LT_CHECK(lt_um2n_load(&t, pa) == LT_ERR_ARG &&
             strstr(lt_last_error(), "an M2N (m2n) checkpoint"),
             "M2N into UM2N: %s", lt_last_error());
    LT_CHECK(t.params.theta[0] == before, "refused load changed the model");
    LT_CHECK(lt_um2n_load(&a, pt) == LT_ERR_ARG &&
             strstr(lt_last_error(), "a UM2N (M2N_T) checkpoint"),
             "UM2N into M2N: %s", lt_last_error());
    LT_CHECK(lt_um2n_arch_parse("m2n", &k) == LT_OK && k == LT_UM2N_ARCH_M2N &&
             lt_um2n_arch_parse("um2n", &k) == LT_OK &&
             k == LT_UM2N_ARCH_M2N_T &&
             lt_um2n_arch_parse("mrn", &k) == LT_ERR_ARG, "arch names");
    lt_um2n_free(&a);
    lt_um2n_free(&b);
    lt_um2n_free(&t);
}

LT_TEST_MAIN()
