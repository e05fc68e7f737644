/*
 * mesh_data.c - `lethe mesh data`: a UM2N Helmholtz data set, as
 * build_helmholtz_square.py makes one. The unit square is meshed once
 * (gmsh at --lc, or a given --mesh), then every sample draws a random
 * field, solves, moves the mesh with Monge-Ampere and is written as one
 * safetensors file (lt_um2n_sample_generate). The folder's dataset.txt
 * records the settings and the train/test/val split; a second run with the
 * same options skips the samples already written, so generation resumes.
 * --pin-tags keeps the vertices of chosen boundary tags fixed under MA (the
 * square with a hole: --mesh hole.msh --pin-tags 5).
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_DEFAULT_N 300
#define DATA_DEFAULT_LC 0.05f

typedef struct {
    const char *out, *mesh, *pin;
    float lc;
    int64_t n;
    int algo, max_tries, npin, pin_tags[CLI_MAX_TAGS];
    uint64_t seed;
    bool iso, test_set;
} data_opts;

/* The folder's description: what a resumed run must repeat. */
static void data_describe(const data_opts *o, const lt_mesh *m, char *buf,
                          size_t len)
{
    int64_t tr, te, va;
    lt_um2n_split(o->n, &tr, &te, &va);
    if (o->test_set)
        tr = 0, te = o->n, va = 0;
    char mesh[1200];
    if (o->mesh)
        snprintf(mesh, sizeof mesh, "file %s", o->mesh);
    else
        snprintf(mesh, sizeof mesh, "gmsh lc %g algo %d", (double)o->lc,
                 o->algo);
    int k = snprintf(buf, len, "lethe-um2n-data 1\nsamples %lld\nsplit %lld "
                     "%lld %lld\nseed %llu\nfield %s\nmesh %s\nnodes %d\n"
                     "faces %d", (long long)o->n, (long long)tr, (long long)te,
                     (long long)va, (unsigned long long)o->seed,
                     o->iso ? "iso" : "aniso", mesh, m->nv, m->nt);
    /* a set without pinned tags keeps the description it always had */
    for (int i = 0; i < o->npin && k > 0 && (size_t)k < len; i++)
        k += snprintf(buf + k, len - (size_t)k, "%s%d", i ? "," : "\npinned ",
                      o->pin_tags[i]);
}

/* The mesh of the set: DIR/mesh.msh when it exists (a resumed run), else
 * made by gmsh or copied from --mesh. */
static int data_mesh(const data_opts *o, lt_mesh *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mesh.msh", o->out);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        if (lt_mesh_read_msh(path, m) != LT_OK)
            return cli_fail("mesh data", NULL);
        return 0;
    }
    if (o->mesh) {
        if (lt_mesh_read_msh(o->mesh, m) != LT_OK)
            return cli_fail("mesh data", NULL);
        if (lt_mesh_write_msh(path, m) != LT_OK) {
            lt_mesh_free(m);
            return cli_fail("mesh data", NULL);
        }
        return 0;
    }
    if (lt_mesh_gmsh_square(path, 1.0, o->lc, o->algo) != LT_OK ||
        lt_mesh_read_msh(path, m) != LT_OK)
        return cli_fail("mesh data", NULL);
    return 0;
}

/* dataset.txt: written when new, else it must say what desc says. */
static int data_check_set(const data_opts *o, const char *desc)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/dataset.txt", o->out);
    char *old = NULL;
    size_t len = 0;
    if (lt_read_file(path, &old, &len) == LT_OK) {
        bool same = len == strlen(desc) + 1 && !strncmp(old, desc, len - 1);
        free(old);
        if (!same) {
            fprintf(stderr, "lethe mesh data: %s describes another data set "
                    "(other --n, --seed, --lc, --mesh, --iso, --test-set or --pin-tags); "
                    "rerun with its options or choose another --out\n", path);
            return 1;
        }
        return 0;
    }
    if (lt_write_text_atomic(path, desc) != LT_OK)
        return cli_fail("mesh data", NULL);
    return 0;
}

/* Whether sample i is complete (it reads back as sample i). */
static bool data_done(const char *path, int64_t i, double *e0, double *e1)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fclose(f);
    lt_um2n_item it;
    if (lt_um2n_item_read(path, &it) != LT_OK) {
        printf("%s: unreadable (%s): making it again\n", path, lt_last_error());
        return false;
    }
    bool ok = it.index == i;
    *e0 = it.err_uniform;
    *e1 = it.err_ma;
    lt_um2n_item_free(&it);
    return ok;
}

static int data_run(const data_opts *o, const lt_mesh *m)
{
    lt_um2n_gen_opts g;
    lt_um2n_gen_opts_default(&g);
    g.seed = o->seed;
    g.iso = o->iso;
    g.max_tries = o->max_tries;
    g.ma.pin_tags = o->pin_tags;
    g.ma.npin_tags = o->npin;
    int64_t made = 0;
    double er_sum = 0, t0 = lt_clock_seconds();
    for (int64_t i = 0; i < o->n; i++) {
        char path[4096];
        lt_um2n_sample_path(o->out, i, path, sizeof path);
        double e0 = 0, e1 = 0;
        if (data_done(path, i, &e0, &e1)) {
            er_sum += (e0 - e1) / e0;
            continue;
        }
        lt_um2n_gen_info info;
        if (lt_um2n_sample_generate(m, &g, i, path, &info) != LT_OK)
            return cli_fail("mesh data", NULL);
        made++;
        er_sum += (info.err_uniform - info.err_ma) / info.err_uniform;
        printf("sample %lld/%lld: MA %d iterations (%.2f s, %d tries), "
               "%d tangled, L2 error %.4e -> %.4e (ER %.1f%%)\n",
               (long long)i + 1, (long long)o->n, info.ma_iters,
               info.ma_seconds, info.tries, info.tangled, info.err_uniform,
               info.err_ma,
               100 * (info.err_uniform - info.err_ma) / info.err_uniform);
    }
    printf("%s: %lld samples (%lld made now, %lld already there, %.1f s); "
           "mean MA error reduction %.2f%%\n", o->out, (long long)o->n,
           (long long)made, (long long)(o->n - made),
           lt_clock_seconds() - t0, 100 * er_sum / (double)o->n);
    return 0;
}

int cli_mesh_data(int argc, char **argv)
{
    data_opts o = {.lc = DATA_DEFAULT_LC, .n = DATA_DEFAULT_N,
                   .algo = LT_GMSH_FRONTAL_DELAUNAY, .max_tries = 20};
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &o.out, "data set folder (made; resumed when it exists)", 0, 0},
        {"--lc", CLI_OPT_FLOAT, &o.lc, "gmsh characteristic length (UM2N: 0.05, 0.055)", 1e-3, 1},
        {"--algo", CLI_OPT_INT, &o.algo, "gmsh Mesh.Algorithm (6)", 1, 11},
        {"--mesh", CLI_OPT_STR, &o.mesh, "use this .msh instead of gmsh", 0, 0},
        {"--n", CLI_OPT_I64, &o.n, "samples (UM2N: 300, split 225/45/30)", 1, 1000000},
        {"--seed", CLI_OPT_U64, &o.seed, "draws the random fields", 0, 0},
        {"--iso", CLI_OPT_FLAG, &o.iso, "isotropic bumps", 0, 0},
        {"--test-set", CLI_OPT_FLAG, &o.test_set, "every sample in the test split (the 101-sample test set)", 0, 0},
        {"--max-tries", CLI_OPT_INT, &o.max_tries, "fields drawn per sample until MA converges (20)", 1, 1000},
        {"--pin-tags", CLI_OPT_STR, &o.pin, "MA pins the vertices of these boundary tags (the hole: 5; a Lethe variant)", 0, 0},
    };
    int rc = cli_args_parse("mesh data", "usage: lethe mesh data --out DIR "
                            "[--lc 0.05 | --mesh F.msh] [--n 300] [--seed S] "
                            "[--test-set] [--pin-tags T,...]", opts,
                            CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!o.out)
        return cli_usage("mesh data", "--out DIR is required");
    if ((o.npin = cli_parse_tags(o.pin, o.pin_tags)) < 0)
        return cli_usage("mesh data", "--pin-tags: expected a comma-separated "
                         "list of at most 16 tags");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data", o.out);
    if (lt_mkdirs(dir) != LT_OK)
        return cli_fail("mesh data", NULL);
    lt_mesh m;
    if ((rc = data_mesh(&o, &m)))
        return rc;
    char desc[2048];
    data_describe(&o, &m, desc, sizeof desc);
    printf("%s: %d vertices, %d triangles; %lld samples\n", o.out, m.nv, m.nt,
           (long long)o.n);
    if (!(rc = data_check_set(&o, desc)))
        rc = data_run(&o, &m);
    lt_mesh_free(&m);
    return rc;
}
