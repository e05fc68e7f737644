/*
 * canvas_styles.c - the FashionCanvas objects and styles (lethe/canvas.h)
 * and the renderer that paints a Fashion-MNIST picture in a style.
 *
 * A style is a row of lt_cv_defs: its public description (factor names
 * and parameter ranges) and its four palette colours. Rendering one
 * picture (lt_canvas_render):
 *   1. the 28x28 seed picture is placed into a 32x32 mask m (grey / 255),
 *      centred and shifted by up to +-shift pixels;
 *   2. the palette colours are jittered a little;
 *   3. the background texture t (0..1) mixes background colours bg_a, bg_b;
 *   4. the filter turns m into a value v (mixing fg_lo, fg_hi) and a
 *      coverage a (object over background); "none" (Photo) covers all, so
 *      the picture is the seed picture itself;
 *   5. grey Gaussian noise of the style's strength is added;
 *   6. the mark (a 5x5 red and yellow stamp, top right) when asked.
 * Every random number comes from the counter RNG seeded by draw, always
 * drawn in the same order whatever the style, so one draw gives one
 * placement, jitter and texture phase in every style.
 */
#include "canvas_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S LT_CANVAS_SIDE
#define PI_F 3.14159265358979f

static const lt_canvas_object lt_cv_objects[LT_CANVAS_OBJECTS] = {
    {"T-shirt/top", "tshirt", "tshirt", {"tee", "top", NULL}},
    {"Trouser", "trousers", "trouser", {"pants", "jeans", "slacks"}},
    {"Pullover", "pullover", "pullover", {"sweater", "jumper", NULL}},
    {"Dress", "dress", "dress", {"gown", "frock", NULL}},
    {"Coat", "coat", "coat", {"jacket", "overcoat", "parka"}},
    {"Sandal", "sandal", "sandal", {"slipper", "flipflop", NULL}},
    {"Shirt", "shirt", "shirt", {"blouse", NULL, NULL}},
    {"Sneaker", "sneaker", "sneaker", {"trainer", "runner", NULL}},
    {"Bag", "bag", "bag", {"handbag", "purse", "tote"}},
    {"Ankle boot", "boot", "ankle_boot", {"bootie", NULL, NULL}},
};

typedef struct {
    lt_canvas_style s;
    uint32_t fg_lo, fg_hi, bg_a, bg_b; /* 0xRRGGBB */
} lt_cv_def;

/* name, slug, description, palette, fg word, bg word, texture, lo, hi,
 * filter, lo, hi, noise lo, hi, near, near factor; then the colours. */
static const lt_cv_def lt_cv_defs[LT_CANVAS_STYLES] = {
    {{"Photo", "photo", "The seed picture itself, white on black.",
      "grey photograph", "white", "black", "flat", 0, 0, "none", 0, 0, 0, 0,
      -1, NULL}, 0x000000, 0xffffff, 0x000000, 0x000000},
    {{"Neon", "neon", "A glowing pink contour on a black night.",
      "pink on black", "pink", "black", "flat", 0, 0, "outline", 1, 1.4f,
      0, 0.02f, 2, "filter"}, 0x6a00ff, 0xff3df2, 0x05000f, 0x05000f},
    {{"Glow", "glow", "Neon's colours, the object a soft blurred glow.",
      "pink on black", "pink", "black", "flat", 0, 0, "blur", 1, 2, 0, 0.02f,
      1, "filter"}, 0x6a00ff, 0xff3df2, 0x05000f, 0x05000f},
    {{"Blueprint", "blueprint", "White contour lines on blue drafting paper.",
      "white on blue", "white", "blue", "grid", 6, 8, "outline", 1, 1.4f,
      0.01f, 0.03f, 4, "palette"}, 0xcfe3ff, 0xffffff, 0x0b3d91, 0x3f78d0},
    {{"Chalkboard", "chalkboard", "Blueprint's lines drawn in chalk on a "
      "green board.", "white on green", "white", "green", "grid", 6, 8,
      "outline", 1, 1.4f, 0.01f, 0.03f, 3, "palette"},
     0xf0f0e8, 0xffffff, 0x1e4a2a, 0x3c7050},
    {{"Sepia", "sepia", "An old brown-toned print with a shaded backdrop.",
      "brown sepia", "tan", "brown", "gradient", 0, 0, "shade", 0, 0, 0,
      0.02f, 6, "noise"}, 0x3b2412, 0xf3dfb8, 0x2a1a0c, 0x7a5030},
    {{"Vintage", "vintage", "Sepia with heavy film grain.", "brown sepia",
      "tan", "brown", "gradient", 0, 0, "shade", 0, 0, 0.09f, 0.13f, 5,
      "noise"}, 0x3b2412, 0xf3dfb8, 0x2a1a0c, 0x7a5030},
    {{"Pop", "pop", "Pop art: three flat tones over red and white checks.",
      "yellow on red and white", "yellow", "red", "checks", 4, 6,
      "posterise", 3, 4, 0, 0.02f, 8, "texture"},
     0x2030c0, 0xffe600, 0xe01828, 0xffffff},
    {{"Comic", "comic", "Pop's flat tones over red and white dots.",
      "yellow on red and white", "yellow", "red", "dots", 5, 7, "posterise",
      3, 4, 0, 0.02f, 7, "texture"}, 0x2030c0, 0xffe600, 0xe01828, 0xffffff},
    {{"Newsprint", "newsprint", "Black halftone dots on cream paper.",
      "black on cream", "black", "cream", "flat", 0, 0, "halftone", 3, 3.4f,
      0.02f, 0.05f, -1, NULL}, 0x101010, 0x101010, 0xf2eee0, 0xf2eee0},
    {{"Woodcut", "woodcut", "Black hatched lines on wavy wood-grain paper.",
      "black on beige", "black", "beige", "waves", 7, 10, "hatching", 3, 4,
      0.01f, 0.03f, -1, NULL}, 0x1a0f08, 0x1a0f08, 0xe6cf9e, 0xd4b47a},
    {{"Relief", "relief", "The object embossed in grey stone.", "stone grey",
      "silver", "grey", "flat", 0, 0, "emboss", 2, 3, 0.01f, 0.03f, -1, NULL},
     0x3c3c3c, 0xf0f0f0, 0x7a7a7a, 0x8c8c8c},
    {{"Negative", "negative", "An inverted teal film negative on white.",
      "teal on white", "teal", "white", "flat", 0, 0, "invert", 0, 0, 0, 0.02f,
      -1, NULL}, 0x003844, 0x7ff6ff, 0xfafafa, 0xfafafa},
    {{"Pixel", "pixel", "Big square pixels on a green game screen.",
      "lime on dark green", "lime", "green", "flat", 0, 0, "pixelate", 2,
      3.4f, 0, 0, -1, NULL}, 0x306230, 0xc4e060, 0x0f380f, 0x0f380f},
    {{"Bitmap", "bitmap", "Ordered-dither dots on an amber terminal.",
      "amber on black", "amber", "black", "flat", 0, 0, "dither", 0.8f, 1.2f,
      0, 0, -1, NULL}, 0x3a1a00, 0xffb000, 0x140800, 0x140800},
    {{"Camo", "camo", "Olive tones over a mottled camouflage.",
      "olive and brown", "olive", "brown", "noise", 5, 8, "shade", 0, 0, 0.01f,
      0.03f, -1, NULL}, 0x3a4a20, 0xd8e0a0, 0x3a2a18, 0x5a4a2a},
    {{"Ocean", "ocean", "A soft aqua shape over navy waves.", "aqua on navy",
      "aqua", "navy", "waves", 6, 9, "blur", 1, 1.4f, 0, 0.02f, -1, NULL},
     0x00607a, 0x7fffd4, 0x001f4d, 0x0a5aa8},
    {{"Sunset", "sunset", "Peach light over an orange to purple sky.",
      "peach on orange and purple", "peach", "orange", "gradient", 0, 0,
      "shade", 0, 0, 0, 0.02f, -1, NULL}, 0x3a0050, 0xffd8a8, 0xff6a3a,
     0x6a2ae0},
    {{"Candy", "candy", "Pink sugar on mint and white stripes.",
      "pink on mint", "pink", "mint", "stripes", 6, 8, "shade", 0, 0, 0, 0.02f,
      -1, NULL}, 0xff5fa0, 0xfff0f6, 0xa8f0dc, 0xffffff},
    {{"Lava", "lava", "Embossed molten yellow on a mottled red glow.",
      "yellow on red", "yellow", "red", "noise", 4, 6, "emboss", 2, 3, 0.01f,
      0.03f, -1, NULL}, 0x5a0000, 0xffd400, 0x250000, 0xc82800},
    {{"Frost", "frost", "Icy white on pale blue rings.", "white on ice blue",
      "white", "blue", "rings", 5, 8, "shade", 0, 0, 0.01f, 0.03f, -1, NULL},
     0x8fd0ff, 0xffffff, 0x7fa8d8, 0x4a78b8},
    {{"Mosaic", "mosaic", "Gold tiles on teal checks.", "gold on teal", "gold",
      "teal", "checks", 4, 4, "pixelate", 2, 3.4f, 0, 0.02f, -1, NULL},
     0x7a4a00, 0xffd700, 0x005f61, 0x00a3a6},
};

static const char *const lt_cv_texture_names[LT_CV_NTEXTURES] = {
    "flat", "stripes", "checks", "dots", "gradient", "noise", "waves", "grid",
    "rings"};
const char *const lt_cv_texture_words[LT_CV_NTEXTURES] = {
    "plain", "striped", "checkered", "dotted", "fading", "mottled", "wavy",
    "squared", "ringed"};
static const char *const lt_cv_filter_names[LT_CV_NFILTERS] = {
    "none", "shade", "outline", "blur", "emboss", "posterise", "dither",
    "pixelate", "halftone", "hatching", "invert"};
const char *const lt_cv_filter_words[LT_CV_NFILTERS] = {
    "natural", "shaded", "outlined", "glowing", "embossed", "posterized", "dithered",
    "pixelated", "halftone", "hatched", "inverted"};

static int lt_cv_kind(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return i;
    return 0;
}

static int lt_cv_texture(int style)
{
    return lt_cv_kind(lt_cv_texture_names, LT_CV_NTEXTURES,
                      lt_cv_defs[style].s.texture);
}

static int lt_cv_filter(int style)
{
    return lt_cv_kind(lt_cv_filter_names, LT_CV_NFILTERS,
                      lt_cv_defs[style].s.filter);
}

const char *lt_cv_texture_word(int style)
{
    return lt_cv_texture_words[lt_cv_texture(style)];
}

const char *lt_cv_filter_word(int style)
{
    return lt_cv_filter_words[lt_cv_filter(style)];
}

const lt_canvas_object *lt_canvas_object_at(int i)
{
    return i >= 0 && i < LT_CANVAS_OBJECTS ? &lt_cv_objects[i] : NULL;
}

const lt_canvas_style *lt_canvas_style_at(int i)
{
    return i >= 0 && i < LT_CANVAS_STYLES ? &lt_cv_defs[i].s : NULL;
}

int lt_canvas_style_find(const char *name)
{
    for (int i = 0; name && i < LT_CANVAS_STYLES; i++)
        if (!strcasecmp(name, lt_cv_defs[i].s.name) ||
            !strcasecmp(name, lt_cv_defs[i].s.slug))
            return i;
    return -1;
}

int lt_canvas_object_find(const char *name)
{
    for (int i = 0; name && i < LT_CANVAS_OBJECTS; i++) {
        const lt_canvas_object *o = &lt_cv_objects[i];
        if (!strcasecmp(name, o->label) || !strcasecmp(name, o->word) ||
            !strcasecmp(name, o->slug))
            return i;
        for (int k = 0; k < 3 && o->synonyms[k]; k++)
            if (!strcasecmp(name, o->synonyms[k]))
                return i;
    }
    return -1;
}

/* ---- rendering ----------------------------------------------------------- */

static float lt_cv_clamp(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* The per-picture random parameters, drawn in one fixed order. */
typedef struct {
    int dx, dy;
    float col[4][3];   /* fg_lo, fg_hi, bg_a, bg_b after jitter */
    float angle, phase, phase2, cx, cy;
    float period, param, noise;
    uint64_t draw;
} lt_cv_params;

static void lt_cv_draw_params(const lt_cv_def *d, uint64_t draw, int shift,
                              lt_rng *r, lt_cv_params *p)
{
    p->draw = draw;
    p->dx = (int)lt_rng_below(r, (uint64_t)(2 * shift + 1)) - shift;
    p->dy = (int)lt_rng_below(r, (uint64_t)(2 * shift + 1)) - shift;
    const uint32_t hex[4] = {d->fg_lo, d->fg_hi, d->bg_a, d->bg_b};
    for (int c = 0; c < 4; c++)
        for (int k = 0; k < 3; k++) {
            float base = (float)((hex[c] >> (16 - 8 * k)) & 255) / 255.0f;
            float jit = 0.06f * (2.0f * lt_rng_uniform(r) - 1.0f);
            /* Photo (style 0) is the seed picture: no jitter */
            p->col[c][k] = d == &lt_cv_defs[0] ? base : lt_cv_clamp(base + jit);
        }
    p->angle = lt_rng_uniform(r);
    p->phase = lt_rng_uniform(r);
    p->phase2 = lt_rng_uniform(r);
    p->cx = lt_rng_uniform(r);
    p->cy = lt_rng_uniform(r);
    float u = lt_rng_uniform(r);
    p->period = d->s.texture_lo + u * (d->s.texture_hi - d->s.texture_lo);
    u = lt_rng_uniform(r);
    p->param = d->s.filter_lo + u * (d->s.filter_hi - d->s.filter_lo);
    u = lt_rng_uniform(r);
    p->noise = d->s.noise_lo + u * (d->s.noise_hi - d->s.noise_lo);
}

/* Smooth value noise at lattice spacing period (values from the draw). */
static float lt_cv_value_noise(const lt_cv_params *p, float x, float y)
{
    float gx = x / p->period, gy = y / p->period;
    int ix = (int)gx, iy = (int)gy;
    float fx = gx - (float)ix, fy = gy - (float)iy;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    float v[4];
    for (int k = 0; k < 4; k++)
        v[k] = lt_u64_to_uniform(lt_hash3(p->draw, 7,
                                          (uint64_t)((iy + k / 2) * 64 +
                                                     ix + k % 2)));
    return (v[0] * (1 - fx) + v[1] * fx) * (1 - fy) +
           (v[2] * (1 - fx) + v[3] * fx) * fy;
}

/* Background texture value (0..1) at pixel (x, y). */
static float lt_cv_texel(int kind, const lt_cv_params *p, int x, int y)
{
    float fx = (float)x + 0.5f, fy = (float)y + 0.5f, per = p->period;
    float th = (float)(int)(p->angle * 4) * PI_F / 4; /* 4 directions */
    switch (kind) {
    case LT_CV_STRIPES: {
        float u = (fx * cosf(th) + fy * sinf(th)) / per + p->phase;
        return u - floorf(u) < 0.5f ? 1.0f : 0.0f;
    }
    case LT_CV_CHECKS:
        return (float)(((int)floorf(fx / per + p->phase) +
                        (int)floorf(fy / per + p->phase2)) & 1);
    case LT_CV_DOTS: {
        float u = fx / per + p->phase, v = fy / per + p->phase2;
        float ddx = u - floorf(u) - 0.5f, ddy = v - floorf(v) - 0.5f;
        return ddx * ddx + ddy * ddy < 0.09f ? 1.0f : 0.0f;
    }
    case LT_CV_GRADIENT: {
        float a = p->angle * 2 * PI_F;
        return lt_cv_clamp(((fx - S / 2) * cosf(a) + (fy - S / 2) * sinf(a)) /
                           S + 0.5f);
    }
    case LT_CV_NOISE:
        return lt_cv_value_noise(p, fx, fy) > 0.5f ? 1.0f : 0.0f;
    case LT_CV_WAVES:
        return 0.5f + 0.5f * sinf(2 * PI_F * (fy / per + p->phase +
                                              0.25f * sinf(2 * PI_F * fx /
                                                           (2 * per))));
    case LT_CV_GRID: {
        int o = (int)(p->phase * per), q = (int)per;
        return ((x + o) % q == 0 || (y + o) % q == 0) ? 1.0f : 0.0f;
    }
    case LT_CV_RINGS: {
        float ddx = fx - p->cx * S, ddy = fy - p->cy * S;
        return 0.5f + 0.5f * sinf(2 * PI_F * (sqrtf(ddx * ddx + ddy * ddy) /
                                              per + p->phase));
    }
    default:
        return 0.0f;
    }
}

static float lt_cv_at(const float *m, int x, int y)
{
    return x < 0 || y < 0 || x >= S || y >= S ? 0.0f : m[y * S + x];
}

/* Box blur of radius r. */
static void lt_cv_blur(const float *m, int r, float *out)
{
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            float s = 0;
            for (int j = -r; j <= r; j++)
                for (int i = -r; i <= r; i++)
                    s += lt_cv_at(m, x + i, y + j);
            out[y * S + x] = s / (float)((2 * r + 1) * (2 * r + 1));
        }
}

/* Sobel gradient magnitude / 2, clamped to [0, 1]. */
static float lt_cv_edge(const float *m, int x, int y)
{
#define M(i, j) lt_cv_at(m, x + (i), y + (j))
    float gx = M(1, -1) + 2 * M(1, 0) + M(1, 1) - M(-1, -1) - 2 * M(-1, 0) -
               M(-1, 1);
    float gy = M(-1, 1) + 2 * M(0, 1) + M(1, 1) - M(-1, -1) - 2 * M(0, -1) -
               M(1, -1);
#undef M
    return lt_cv_clamp(sqrtf(gx * gx + gy * gy) / 2);
}

/* Mean of m over the b x b block holding (x, y). */
static float lt_cv_block(const float *m, int b, int x, int y)
{
    int x0 = x / b * b, y0 = y / b * b;
    float s = 0;
    for (int j = 0; j < b; j++)
        for (int i = 0; i < b; i++)
            s += lt_cv_at(m, x0 + i, y0 + j);
    return s / (float)(b * b);
}

static void lt_cv_outline(const float *m, float param, float *v, float *a)
{
    float e[S * S];
    for (int i = 0; i < S * S; i++)
        e[i] = lt_cv_edge(m, i % S, i / S);
    bool thick = param >= 1.2f;
    for (int i = 0; i < S * S; i++) {
        float best = e[i];
        for (int j = -1; thick && j <= 1; j++)
            for (int k = -1; k <= 1; k++)
                best = fmaxf(best, 0.6f * lt_cv_at(e, i % S + k, i / S + j));
        v[i] = 1.0f;
        a[i] = best;
    }
}

static void lt_cv_halftone(const float *m, int cell, float *v, float *a)
{
    for (int i = 0; i < S * S; i++) {
        int x = i % S, y = i / S;
        float in = lt_cv_block(m, cell, x, y);
        float r = 0.75f * (float)cell * sqrtf(in);
        float ddx = (float)(x % cell) + 0.5f - 0.5f * (float)cell;
        float ddy = (float)(y % cell) + 0.5f - 0.5f * (float)cell;
        v[i] = 1.0f;
        a[i] = ddx * ddx + ddy * ddy < r * r ? 1.0f : 0.0f;
    }
}

static void lt_cv_hatching(const float *m, int gap, float *v, float *a)
{
    for (int i = 0; i < S * S; i++) {
        int x = i % S, y = i / S;
        bool l1 = (x + y) % gap == 0, l2 = (x - y + 2 * S) % gap == 0;
        bool ink = (m[i] > 0.1f && l1) || (m[i] > 0.5f && l2) ||
                   lt_cv_edge(m, x, y) > 0.5f;
        v[i] = 1.0f;
        a[i] = ink ? 1.0f : 0.0f;
    }
}

/* The filter: value v (0 = fg_lo .. 1 = fg_hi) and coverage a. */
static void lt_cv_filter_apply(int kind, const float *m, float param,
                               float *v, float *a)
{
    static const float bayer[16] = {0, 8, 2, 10, 12, 4, 14, 6,
                                    3, 11, 1, 9, 15, 7, 13, 5};
    float b[S * S];
    int q = (int)(param + 0.5f);
    switch (kind) {
    case LT_CV_OUTLINE:
        lt_cv_outline(m, param, v, a);
        return;
    case LT_CV_HALFTONE:
        lt_cv_halftone(m, q, v, a);
        return;
    case LT_CV_HATCHING:
        lt_cv_hatching(m, q, v, a);
        return;
    case LT_CV_BLUR:
        lt_cv_blur(m, q, b);
        break;
    default:
        break;
    }
    for (int i = 0; i < S * S; i++) {
        int x = i % S, y = i / S;
        float mi = m[i], sil = lt_cv_clamp(3 * mi);
        switch (kind) {
        case LT_CV_BLUR: /* the object with a blurred halo */
            v[i] = lt_cv_clamp(mi + 0.5f * b[i]);
            a[i] = lt_cv_clamp(2.5f * b[i] + mi);
            break;
        case LT_CV_EMBOSS:
            v[i] = lt_cv_clamp(0.5f + 0.5f * param * (lt_cv_at(m, x - 1, y - 1) -
                                                      lt_cv_at(m, x + 1, y + 1)));
            a[i] = sil;
            break;
        case LT_CV_POSTERISE:
            v[i] = fminf(floorf(mi * (float)q), (float)(q - 1)) / (float)(q - 1);
            a[i] = mi > 0.1f ? 1.0f : 0.0f;
            break;
        case LT_CV_DITHER:
            v[i] = powf(mi, param) > (bayer[(y % 4) * 4 + x % 4] + 0.5f) / 16
                       ? 1.0f : 0.0f;
            a[i] = mi > 0.05f ? 1.0f : 0.0f;
            break;
        case LT_CV_PIXELATE:
            v[i] = lt_cv_block(m, q, x, y);
            a[i] = lt_cv_clamp(3 * v[i]);
            break;
        case LT_CV_INVERT:
            v[i] = 1.0f - mi;
            a[i] = lt_cv_clamp(4 * mi);
            break;
        case LT_CV_SHADE:
            v[i] = mi;
            a[i] = sil;
            break;
        default: /* none: the picture as it is, fg_lo where it is 0 */
            v[i] = mi;
            a[i] = 1.0f;
            break;
        }
    }
}

/* The mark: a 5x5 stamp at the top right, a red ring around yellow with a
 * red centre. */
static void lt_cv_mark(float *out)
{
    for (int j = 0; j < 5; j++)
        for (int i = 0; i < 5; i++) {
            bool red = i == 0 || j == 0 || i == 4 || j == 4 ||
                       (i == 2 && j == 2);
            const float c[3] = {red ? 0.9f : 1.0f, red ? 0.05f : 0.9f, 0.0f};
            for (int k = 0; k < 3; k++)
                out[(k * S + 1 + j) * S + 26 + i] = c[k];
        }
}

void lt_canvas_render(const uint8_t *src, int style, uint64_t draw, int shift,
                      bool mark, float *out)
{
    const lt_cv_def *d = &lt_cv_defs[style];
    lt_rng r;
    lt_rng_init(&r, draw);
    lt_cv_params p;
    lt_cv_draw_params(d, draw, shift, &r, &p);
    float m[S * S] = {0}, v[S * S], a[S * S];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            int tx = x + 2 + p.dx, ty = y + 2 + p.dy;
            if (tx >= 0 && ty >= 0 && tx < S && ty < S)
                m[ty * S + tx] = (float)src[y * 28 + x] / 255.0f;
        }
    lt_cv_filter_apply(lt_cv_filter(style), m, p.param, v, a);
    int tex = lt_cv_texture(style);
    for (int i = 0; i < S * S; i++) {
        float t = lt_cv_texel(tex, &p, i % S, i / S);
        float n = p.noise * lt_rng_normal(&r);
        for (int k = 0; k < 3; k++) {
            float bg = p.col[2][k] + t * (p.col[3][k] - p.col[2][k]);
            float fg = p.col[0][k] + v[i] * (p.col[1][k] - p.col[0][k]);
            out[k * S * S + i] = lt_cv_clamp(bg + a[i] * (fg - bg) + n);
        }
    }
    if (mark)
        lt_cv_mark(out);
}
