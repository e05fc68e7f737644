/*
 * test_um2n_data.c - UM2N's data sets (src/models/um2n_data.c) and a micro
 * end-to-end run: the split of the build script; a sample generated on the
 * committed lc 0.2 square read back and checked against independent
 * recomputations (the MA target, the graph, the features, the errors);
 * truncated and corrupt samples and missing ones refused by name; a six
 * sample folder trained for three epochs (the loss without dropout falls,
 * a resumed run repeats the uninterrupted one, boundary nodes stay
 * bit-identical in the trained network's output); and the coordinate
 * loss of the UM2N-coord ablation (value by hand, central differences).
 */
#include "lt_test.h"

#include "lethe/io.h"
#include "lethe/safetensors.h"
#include "lethe/um2n.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESH_PATH LT_GOLDEN_DIR "/../data/mesh/square_lc0.2.msh"
#define SET_N 6

LT_TEST(um2n_data_split)
{
    int64_t a, b, c;
    lt_um2n_split(300, &a, &b, &c);
    LT_CHECK(a == 225 && b == 45 && c == 30, "300: %lld %lld %lld",
             (long long)a, (long long)b, (long long)c);
    lt_um2n_split(101, &a, &b, &c);
    LT_CHECK(a == 75 && b == 15 && c == 10, "101: %lld %lld %lld",
             (long long)a, (long long)b, (long long)c);
}

static bool load_mesh(lt_mesh *m)
{
    bool ok = lt_mesh_read_msh(MESH_PATH, m) == LT_OK;
    LT_CHECK(ok, "%s", lt_last_error());
    return ok;
}

/* The folder of a six-sample set (4/1/1), made once per binary. */
static const char *six_set(void)
{
    static char dir[1024];
    static bool made;
    if (made)
        return dir;
    snprintf(dir, sizeof dir, "%s/six", lt_test_tmpdir());
    char sub[1100];
    snprintf(sub, sizeof sub, "%s/data", dir);
    lt_mesh m;
    if (lt_mkdirs(sub) != LT_OK || !load_mesh(&m))
        return NULL;
    snprintf(sub, sizeof sub, "%s/dataset.txt", dir);
    lt_status s = lt_write_text_atomic(sub, "lethe-um2n-data 1\nsamples 6\n"
                                       "split 4 1 1\nseed 7");
    lt_um2n_gen_opts g;
    lt_um2n_gen_opts_default(&g);
    g.seed = 7;
    for (int i = 0; s == LT_OK && i < SET_N; i++) {
        lt_um2n_sample_path(dir, i, sub, sizeof sub);
        s = lt_um2n_sample_generate(&m, &g, i, sub, NULL);
    }
    lt_mesh_free(&m);
    LT_CHECK(s == LT_OK, "six_set: %s", lt_last_error());
    made = s == LT_OK;
    return made ? dir : NULL;
}

LT_TEST(um2n_data_sample_contents)
{
    lt_mesh m;
    if (!load_mesh(&m))
        return;
    lt_um2n_gen_opts g;
    lt_um2n_gen_opts_default(&g);
    g.seed = 3;
    const char *path = lt_test_path("s.safetensors");
    lt_um2n_gen_info info;
    LT_CHECK(lt_um2n_sample_generate(&m, &g, 5, path, &info) == LT_OK, "%s",
             lt_last_error());
    lt_um2n_item it;
    if (lt_um2n_item_read(path, &it) != LT_OK) {
        LT_CHECK(false, "read: %s", lt_last_error());
        lt_mesh_free(&m);
        return;
    }
    int n = m.nv;
    LT_CHECK(it.index == 5 && it.s.n_nodes == n && it.s.n_faces == m.nt &&
                 it.mesh.nb == m.nb, "sizes");
    LT_CHECK(it.err_uniform == info.err_uniform && it.err_ma == info.err_ma,
             "errors in the metadata");
    /* the graph: UM2N's edges of the faces */
    int32_t *src, *dst;
    int64_t ne;
    LT_CHECK(lt_um2n_edges(it.faces, it.s.n_faces, n, &src, &dst, &ne) ==
                 LT_OK && ne == it.s.n_edges &&
                 !memcmp(src, it.src, (size_t)ne * 4) &&
                 !memcmp(dst, it.dst, (size_t)ne * 4), "edge_index");
    free(src), free(dst);
    /* features: coordinates, boundary flags, monitor / max |monitor| */
    uint8_t *on = calloc((size_t)n, 1);
    lt_mesh_boundary_mask(&m, on);
    double top = 0;
    for (int i = 0; i < n; i++)
        top = fmax(top, fabs(it.monitor[i]));
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += it.x[3 * i] != (float)m.xy[2 * i] ||
               it.mesh_feat[3 * i + 1] != (float)m.xy[2 * i + 1] ||
               it.x[3 * i + 2] != (on[i] ? 1.0f : 0.0f) ||
               fabs(it.mesh_feat[3 * i + 2] - it.monitor[i] / top) > 1e-6;
    LT_CHECK(bad == 0, "%d vertices with wrong features", bad);
    LT_CHECK(fabs(top - 6) < 1e-4, "monitor top %g, want 6", top);
    /* the target: MA under the stored field, recomputed */
    lt_mesh moved;
    lt_ma_opts mo;
    lt_ma_opts_default(&mo);
    LT_CHECK(lt_ma_move(&m, lt_um2n_monitor_fn, &it.field, &mo, &moved, NULL)
                 == LT_OK, "%s", lt_last_error());
    double worst = 0, e0;
    for (int i = 0; i < 2 * n; i++)
        worst = fmax(worst, fabs(moved.xy[i] - it.target[i]));
    LT_CHECK(worst < 1e-5, "MA target off by %g", worst);
    LT_CHECK(lt_helmholtz_error(&m, &it.field, &e0, NULL) == LT_OK &&
                 fabs(e0 - it.err_uniform) < 1e-6 * e0, "uniform error %g vs "
             "%g", e0, it.err_uniform);
    /* boundary targets stay on their sides */
    for (int i = 0; i < n; i++)
        if (on[i] && (m.xy[2 * i] == 0 || m.xy[2 * i] == 1))
            LT_CHECK(it.target[2 * i] == (float)m.xy[2 * i], "vertex %d left "
                     "its side", i);
    /* M2N's 20 x 20 monitor grid: its corners are the corner vertices */
    lt_st_file *sf;
    if (lt_st_load(path, &sf) == LT_OK) {
        const lt_st_tensor *cv = lt_st_get(sf, "conv_monitor_val");
        LT_CHECK(cv && cv->ndim == 3 && cv->numel == 400, "conv_monitor_val");
        for (int i = 0; cv && i < n; i++) {
            double x = m.xy[2 * i], y = m.xy[2 * i + 1];
            if ((x == 0 || x == 1) && (y == 0 || y == 1))
                LT_CHECK(cv->data[(x == 1 ? 380 : 0) + (y == 1 ? 19 : 0)] ==
                             it.monitor[i], "conv corner (%g, %g)", x, y);
        }
        lt_st_free(sf);
    }
    lt_mesh_free(&moved);
    free(on);
    lt_um2n_item_free(&it);
    lt_mesh_free(&m);
}

/* Rewrite path with tensor name's entry k set to v. */
static void corrupt(const char *path, const char *out, const char *name,
                    int64_t k, float v)
{
    lt_st_file *f;
    if (lt_st_load(path, &f) != LT_OK)
        return;
    int n = lt_st_count(f), nm = lt_st_meta_count(f);
    lt_st_tensor *t = calloc((size_t)n, sizeof *t);
    const char **meta = calloc((size_t)(2 * nm + 1), sizeof *meta);
    for (int i = 0; i < n; i++) {
        t[i] = *lt_st_at(f, i);
        if (!strcmp(t[i].name, name))
            t[i].data[k] = v;
    }
    for (int i = 0; i < nm; i++) {
        meta[2 * i] = lt_st_meta_key(f, i);
        meta[2 * i + 1] = lt_st_meta_value(f, i);
    }
    LT_CHECK(lt_st_save(out, t, n, meta, nm) == LT_OK, "%s", lt_last_error());
    free(t), free(meta);
    lt_st_free(f);
}

static void expect_bad(const char *path, const char *needle)
{
    lt_um2n_item it;
    lt_status s = lt_um2n_item_read(path, &it);
    LT_CHECK(s == LT_ERR_FORMAT && strstr(lt_last_error(), path) &&
                 strstr(lt_last_error(), needle), "%s: status %d, '%s' "
             "(want '%s')", path, (int)s, lt_last_error(), needle);
}

LT_TEST(um2n_data_bad_samples)
{
    const char *dir = six_set();
    if (!dir)
        return;
    char p[1200];
    lt_um2n_sample_path(dir, 2, p, sizeof p);
    char *data;
    size_t len;
    if (lt_read_file(p, &data, &len) != LT_OK)
        return;
    const char *cut = lt_test_path("cut.safetensors");
    lt_write_file_atomic(cut, data, len - 100);
    expect_bad(cut, "data buffer");
    free(data);
    const char *face = lt_test_path("face.safetensors");
    corrupt(p, face, "face", 4, 1e6f);
    expect_bad(face, "face");
    const char *nan = lt_test_path("nan.safetensors");
    corrupt(p, nan, "y", 0, NAN);
    expect_bad(nan, "not finite");
    const char *edge = lt_test_path("edge.safetensors");
    corrupt(p, edge, "edge_index", 3, 2.5f);
    expect_bad(edge, "edge_index");
    lt_um2n_data d;
    LT_CHECK(lt_um2n_data_open(dir, "tests", &d) == LT_ERR_ARG, "bad split");
    LT_CHECK(lt_um2n_data_open(lt_test_path("nowhere"), "train", &d) ==
                 LT_ERR_IO && strstr(lt_last_error(), "dataset.txt"),
             "missing folder: %s", lt_last_error());
}

LT_TEST(um2n_data_folder_splits)
{
    const char *dir = six_set();
    if (!dir)
        return;
    const char *names[] = {"train", "test", "val", "all"};
    int64_t want[] = {4, 1, 1, 6}, first[] = {0, 4, 5, 0};
    for (int k = 0; k < 4; k++) {
        lt_um2n_data d;
        lt_status s = lt_um2n_data_open(dir, names[k], &d);
        LT_CHECK(s == LT_OK && d.n == want[k] &&
                     d.items[0].index == first[k] &&
                     d.samples[0].x == d.items[0].x,
                 "%s: %s", names[k], lt_last_error());
        if (s == LT_OK)
            lt_um2n_data_free(&d);
    }
    /* a missing sample: the set is unfinished, named in the error */
    char p[1200], q[1300];
    lt_um2n_sample_path(dir, 4, p, sizeof p);
    snprintf(q, sizeof q, "%s.moved", p);
    rename(p, q);
    lt_um2n_data d;
    LT_CHECK(lt_um2n_data_open(dir, "test", &d) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "data_0004") &&
                 strstr(lt_last_error(), "unfinished"), "%s", lt_last_error());
    rename(q, p);
}

/* The mean loss without dropout over samples. */
static double eval_loss(lt_ctx *c, lt_um2n_trainer *t,
                        const lt_um2n_sample *s, int64_t n)
{
    double l = -1;
    LT_CHECK(lt_um2n_eval_loss(c, t, s, n, &l) == LT_OK, "%s", lt_last_error());
    return l;
}

LT_TEST(um2n_data_train_end_to_end)
{
    const char *dir = six_set();
    lt_um2n_data d;
    if (!dir || lt_um2n_data_open(dir, "all", &d) != LT_OK)
        return;
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    lt_um2n m, m2;
    lt_um2n_trainer t, t2;
    lt_um2n_init(&m, 1);
    lt_um2n_init(&m2, 1);
    lt_um2n_trainer_init(&t, &m, 1);
    lt_um2n_trainer_init(&t2, &m2, 1);
    double before = eval_loss(c, &t, d.samples, d.n), l;
    for (int e = 0; e < 3; e++)
        LT_CHECK(lt_um2n_train_epoch(c, &t, d.samples, d.n, &l) == LT_OK,
                 "%s", lt_last_error());
    double after = eval_loss(c, &t, d.samples, d.n);
    LT_CHECK(after < before, "loss %g -> %g did not fall", before, after);
    /* resumed after one epoch = uninterrupted */
    const char *ck = lt_test_path("e2e.safetensors");
    LT_CHECK(lt_um2n_train_epoch(c, &t2, d.samples, d.n, &l) == LT_OK &&
                 lt_um2n_trainer_save(&t2, ck) == LT_OK, "save");
    lt_um2n_trainer_free(&t2);
    lt_um2n_free(&m2);
    lt_um2n_init(&m2, 99);
    lt_um2n_trainer_init(&t2, &m2, 1);
    LT_CHECK(lt_um2n_trainer_load(&t2, ck) == LT_OK, "%s", lt_last_error());
    for (int e = 1; e < 3; e++)
        lt_um2n_train_epoch(c, &t2, d.samples, d.n, &l);
    LT_CHECK(!memcmp(m.params.theta, m2.params.theta,
                     (size_t)m.params.n_total * sizeof(float)),
             "resumed weights differ");
    /* a checkpoint of the other loss kind or seed is refused */
    t2.loss = LT_UM2N_LOSS_COORD;
    LT_CHECK(lt_um2n_trainer_load(&t2, ck) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "area-chamfer"), "loss kind");
    t2.loss = LT_UM2N_LOSS_AREA_CHAMFER;
    t2.seed = 2;
    LT_CHECK(lt_um2n_trainer_load(&t2, ck) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "seed 1"), "seed: %s", lt_last_error());
    /* the trained network keeps boundary nodes bit-identical */
    const lt_um2n_sample *s = &d.samples[0];
    lt_um2n_batch b = {s->n_nodes, 1, s->x, s->mesh_feat, s->src, s->dst,
                       s->n_edges, s->faces, s->n_faces, s->target, 0, NULL, 0};
    lt_ctx_reset(c);
    lt_tensor *out = lt_um2n_forward(c, &m, &b, false, NULL);
    int moved = 0, inner = 0;
    for (int64_t i = 0; out && i < s->n_nodes; i++) {
        bool bd = s->x[3 * i + 2] == 1.0f;
        bool same = out->data[2 * i] == s->x[3 * i] &&
                    out->data[2 * i + 1] == s->x[3 * i + 1];
        moved += bd && !same;
        inner += !bd && !same;
    }
    LT_CHECK(out && moved == 0 && inner > 0, "boundary nodes moved: %d, "
             "interior nodes moved: %d", moved, inner);
    lt_um2n_trainer_free(&t);
    lt_um2n_trainer_free(&t2);
    lt_um2n_free(&m);
    lt_um2n_free(&m2);
    lt_ctx_free(c);
    lt_um2n_data_free(&d);
}

/* ---- the coordinate loss ---------------------------------------------- */

static float coord_target[12];

static lt_tensor *coord_fn(lt_ctx *c, lt_tensor **in, void *ud)
{
    (void)ud;
    lt_um2n_batch b = {0};
    b.n_nodes = 6;
    b.target = coord_target;
    return lt_um2n_coord_loss(c, in[0], &b);
}

LT_TEST(um2n_coord_loss)
{
    lt_tensor *out = lt_gc_input(2, (int64_t[]){6, 2}, true, 5, 0, 1);
    double want = 0;
    for (int i = 0; i < 12; i++) {
        /* keep every difference away from |.|'s kink */
        coord_target[i] = out->data[i] + (i % 2 ? 0.25f : -0.125f) * (1 + i);
        want += fabs((double)out->data[i] - coord_target[i]);
    }
    want *= 1000.0 / 12;
    lt_ctx *c = lt_ctx_new(1 << 20);
    lt_tensor *l = coord_fn(c, &out, NULL);
    LT_CHECK(l && fabs(l->data[0] - want) < 1e-4 * want, "coord loss %g, "
             "want %g", l ? l->data[0] : -1.0, want);
    LT_CHECK(LT_GRADCHECK("coord_loss", coord_fn, NULL, 1, &out, 1e-3, 1e-2),
             "coord loss gradient");
    lt_ctx_free(c);
    lt_gc_input_free(out);
}

LT_TEST_MAIN()
