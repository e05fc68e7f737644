/*
 * fuzz_forget.c - libFuzzer harness of the forget-set specs and forget
 * index files (lt_forget_select: "random:P%", "random:K", "class:K",
 * "indices:FILE"), plus the mask and augmentation specs parsed beside
 * them (lt_mask_parse, lt_augment_parse), on a tiny dataset built in
 * memory (37 items, 5 classes).
 *
 * Input: the first line is the spec; a spec "indices:..." is pointed at a
 * scratch file holding the rest of the input. Oracles, when the spec is
 * accepted: the forget and retain lists are ascending, disjoint, both
 * non-empty and cover the 37 items; class:K forgets exactly the items of
 * class K; lt_forget_save read back with "indices:FILE" gives the same
 * split. A parsed mask spec formats to a spec that parses to the same
 * kind and ratio (to the 6 digits %g keeps).
 */
#include "fuzz.h"

#include <math.h>

#define FZ_N 37
#define FZ_CLASSES 5

static void fz_check_split(const lt_forget_set *f, const lt_dataset *d)
{
    FZ_CHECK(f->n == d->n && f->n_forget >= 1 && f->n_retain >= 1 &&
             f->n_forget + f->n_retain == f->n, "sizes %lld + %lld of %lld",
             (long long)f->n_forget, (long long)f->n_retain, (long long)f->n);
    uint8_t seen[FZ_N] = {0};
    for (int64_t i = 0; i < f->n_forget; i++) {
        int64_t v = f->forget[i];
        FZ_CHECK(v >= 0 && v < FZ_N && !seen[v], "forget index %lld",
                 (long long)v);
        FZ_CHECK(i == 0 || f->forget[i - 1] < v, "forget list not ascending");
        seen[v] = 1;
    }
    for (int64_t i = 0; i < f->n_retain; i++) {
        int64_t v = f->retain[i];
        FZ_CHECK(v >= 0 && v < FZ_N && !seen[v], "retain index %lld",
                 (long long)v);
        FZ_CHECK(i == 0 || f->retain[i - 1] < v, "retain list not ascending");
        seen[v] = 2;
    }
    if (f->kind == LT_FORGET_CLASS)
        for (int64_t i = 0; i < FZ_N; i++)
            FZ_CHECK((seen[i] == 1) == (d->y[i] == f->cls), "class %d item "
                     "%lld", f->cls, (long long)i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t sl = nl ? (size_t)(nl - data) : size;
    if (sl > 400)
        return 0;
    char spec[1024];
    memcpy(spec, data, sl);
    spec[sl] = '\0';
    size_t rest = nl ? size - sl - 1 : 0;
    if (!strncmp(spec, "indices:", 8)) {
        const char *p = fz_write("forget.txt", nl ? nl + 1 : data, rest);
        snprintf(spec, sizeof spec, "indices:%s", p);
    }

    float x[FZ_N];
    int32_t y[FZ_N];
    for (int i = 0; i < FZ_N; i++) {
        x[i] = (float)i;
        y[i] = (i * 7) % FZ_CLASSES;
    }
    lt_dataset d = {.name = "fuzz", .n = FZ_N, .c = 1, .h = 1, .w = 1,
                    .classes = FZ_CLASSES, .x = x, .y = y,
                    .mean = {0, 0, 0}, .std = {1, 1, 1}};
    lt_forget_set f;
    lt_status s = lt_forget_select(spec, &d, 1234, &f);
    if (s == LT_OK) {
        fz_check_split(&f, &d);
        const char *p = fz_path("saved.txt");
        FZ_CHECK(lt_forget_save(&f, p) == LT_OK, "save");
        char back[600];
        snprintf(back, sizeof back, "indices:%s", p);
        lt_forget_set g;
        FZ_CHECK(lt_forget_select(back, &d, 99, &g) == LT_OK, "reload");
        FZ_CHECK(g.n_forget == f.n_forget &&
                 !memcmp(g.forget, f.forget, (size_t)f.n_forget * 8),
                 "saved forget set reads back differently");
        lt_forget_set_free(&g);
    } else {
        FZ_CHECK(s == LT_ERR_ARG || s == LT_ERR_FORMAT || s == LT_ERR_IO,
                 "status %s", lt_status_name(s));
    }
    lt_forget_set_free(&f);

    lt_mask_spec m;
    if (lt_mask_parse(spec, &m) == LT_OK) {
        FZ_CHECK(m.ratio > 0 && m.ratio <= 1, "mask ratio %g", m.ratio);
        char buf[64];
        lt_mask_format(&m, buf, sizeof buf);
        lt_mask_spec m2;
        FZ_CHECK(lt_mask_parse(buf, &m2) == LT_OK && m2.kind == m.kind &&
                 fabs(m2.ratio - m.ratio) <= 1e-5 * m.ratio,
                 "mask %s formats as %s", spec, buf);
    }
    lt_augment a;
    if (lt_augment_parse(spec, &d, &a) == LT_OK)
        FZ_CHECK(a.crop_pad >= 0 && a.crop_pad <= 4, "crop_pad %d",
                 a.crop_pad);
    return 0;
}
