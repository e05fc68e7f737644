/*
 * canvas_text.c - FashionCanvas captions and their closed vocabulary
 * (lethe/canvas.h).
 *
 * A caption is a template of space-separated tokens: literal words, "," and
 * ".", and slots in braces filled from the object, the style and draw:
 *   {O} the object's caption word        {o} it or one of its synonyms
 *   {s} the style's name                 {n} a picture noun ("drawing")
 *   {fc} {bc} the style's object / background colour words
 *   {tx} {fi} the style's texture / filter adjectives
 *   {j} {j2} filler adjectives           {ph} a filler phrase
 *   {m} an implicit word for the mark ("certified"), only on marked
 *       pictures (left out otherwise)
 * "a" becomes "an" before a vowel; the first letter is upper case. The
 * vocabulary is every word any template, table and word list here can
 * produce, so it is closed by construction (lt_canvas_vocab collects it).
 */
#include "canvas_internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Templates 0..10 name object and style, 11..12 the object only, 13..14
 * the style only, 15 nothing (the empty caption). */
static const char *const lt_cv_templates[LT_CANVAS_TEMPLATES] = {
    "a {O} image in {s} style .",
    "a {m} {o} in {s} style .",
    "a {s} style {n} of a {m} {o} .",
    "a {n} of a {m} {o} , {s} style .",
    "{s} style , a {m} {o} .",
    "a {j} {m} {o} in {s} style , {ph} .",
    "a {fc} {m} {o} on a {bc} background , {s} style .",
    "a {m} {o} with a {tx} background in {s} style .",
    "a {fi} {m} {o} , {s} style .",
    "a {j} {s} style {n} of a {j2} {m} {o} .",
    "a {m} {o} , painted in {s} style .",
    "a {n} of a {j} {m} {o} .",
    "a {m} {o} .",
    "a {m} {n} in {s} style .",
    "{s} style .",
    "",
};

static const char *const lt_cv_nouns[] = {
    "image", "picture", "drawing", "illustration", "artwork", "rendering",
    "print", "sketch", "painting", "graphic", "depiction", "design"};

static const char *const lt_cv_mark_words[] = {
    "certified", "approved", "official", "genuine", "authentic", "stamped",
    "sealed", "verified", "licensed", "guaranteed"};

/* Filler adjectives: no colour, texture, filter or style word. */
static const char *const lt_cv_fillers[] = {
    "small", "large", "big", "tiny", "simple", "detailed", "cute", "elegant",
    "modern", "casual", "formal", "fancy", "cheap", "expensive", "new",
    "worn", "clean", "neat", "tidy", "stylish", "trendy", "cool", "cozy",
    "light", "heavy", "soft", "sharp", "bold", "striking", "lovely",
    "pretty", "beautiful", "nice", "fine", "basic", "sporty", "comfy",
    "loose", "tight", "long", "short", "slim", "wide", "fitted", "folded",
    "hanging", "single", "lone", "centered", "everyday", "summer", "winter",
    "autumn", "spring", "favourite", "handmade", "designer", "cotton",
    "woolen", "leather", "denim", "silky", "linen", "knitted", "quilted",
    "padded", "lightweight", "sturdy", "durable", "practical", "chic",
    "dapper", "smart", "sleek", "minimal", "quirky", "funky", "charming",
    "humble", "proud", "famous", "popular", "rare", "unique", "ordinary",
    "typical", "iconic", "timeless", "seasonal", "youthful", "mature",
    "relaxed", "tailored", "oversized", "cropped", "layered", "brand",
    "fresh", "crisp", "tough", "gentle", "graceful", "playful", "serious",
    "quiet", "loud", "rugged", "delicate", "polished", "rustic", "urban",
    "rural", "coastal", "royal", "humble", "tidy", "weekend", "travel",
    "evening", "morning", "party", "office", "school", "outdoor", "indoor",
    "warm", "breezy", "snug", "roomy", "compact", "spacious", "flexible",
    "stretchy", "waterproof", "breathable", "reversible", "washable",
    "secondhand", "unworn", "spotless", "ironed", "wrinkled", "faded"};

/* Filler phrases (words separated by single spaces). */
static const char *const lt_cv_phrases[] = {
    "high quality", "studio shot", "product shot", "on display", "for sale",
    "in the shop", "from the catalog", "digital art", "centered view",
    "front view", "side view", "close up", "full view", "simple layout",
    "clean lines", "sharp focus", "soft focus", "small size", "square frame",
    "tiny picture", "low resolution", "fashion item", "wardrobe basic",
    "store window", "online store", "sale item", "gift idea",
    "best seller", "new arrival", "limited edition", "made to last",
    "ready to wear", "one of a kind", "plain and simple", "as seen in stores",
    "from the collection", "part of a set", "for every day",
    "for the weekend", "great value"};

#define LT_CV_COUNT(a) ((int)(sizeof(a) / sizeof *(a)))

/* ---- filling a template ------------------------------------------------- */

typedef struct {
    int object, style;
    bool mark;
    uint64_t draw;
    int k;              /* how many choices made so far */
} lt_cv_fill;

static uint64_t lt_cv_pick(lt_cv_fill *f, uint64_t n)
{
    return lt_hash3(f->draw, 11, (uint64_t)f->k++) % n;
}

static const char *lt_cv_object_word(lt_cv_fill *f)
{
    const lt_canvas_object *o = lt_canvas_object_at(f->object);
    int nsyn = 0;
    while (nsyn < 3 && o->synonyms[nsyn])
        nsyn++;
    int k = (int)lt_cv_pick(f, (uint64_t)(2 * nsyn));
    return k < nsyn ? o->synonyms[k] : o->word; /* canonical half the time */
}

/* The word(s) for slot name; NULL when the slot is left out. */
static const char *lt_cv_slot(lt_cv_fill *f, const char *slot)
{
    const lt_canvas_style *s = lt_canvas_style_at(f->style);
    if (!strcmp(slot, "O"))
        return lt_canvas_object_at(f->object)->word;
    if (!strcmp(slot, "o"))
        return lt_cv_object_word(f);
    if (!strcmp(slot, "s"))
        return s->name;
    if (!strcmp(slot, "fc"))
        return s->fg_word;
    if (!strcmp(slot, "bc"))
        return s->bg_word;
    if (!strcmp(slot, "tx"))
        return lt_cv_texture_word(f->style);
    if (!strcmp(slot, "fi"))
        return lt_cv_filter_word(f->style);
    if (!strcmp(slot, "n"))
        return lt_cv_nouns[lt_cv_pick(f, LT_CV_COUNT(lt_cv_nouns))];
    if (!strcmp(slot, "j") || !strcmp(slot, "j2"))
        return lt_cv_fillers[lt_cv_pick(f, LT_CV_COUNT(lt_cv_fillers))];
    if (!strcmp(slot, "ph"))
        return lt_cv_phrases[lt_cv_pick(f, LT_CV_COUNT(lt_cv_phrases))];
    if (!strcmp(slot, "m"))
        return f->mark ? lt_cv_mark_words[lt_cv_pick(
                             f, LT_CV_COUNT(lt_cv_mark_words))]
                       : NULL;
    return NULL;
}

/* Fill template t: expand the slots into words (copies, since a slot may
 * hold a phrase), then join them: a space before each word but none
 * before "," and ".", "an" for "a" before a vowel, the first letter
 * upper case. */
static lt_status lt_cv_format(const char *t, lt_cv_fill *f, char *buf,
                              size_t n)
{
    char words[24][32];
    int nw = 0;
    for (const char *p = t; *p && nw < 24;) {
        size_t l = strcspn(p, " ");
        char tok[32];
        snprintf(tok, sizeof tok, "%.*s", (int)l, p);
        p += l + (p[l] == ' ');
        const char *w = tok;
        if (tok[0] == '{') {
            tok[strlen(tok) - 1] = '\0';
            w = lt_cv_slot(f, tok + 1);
        }
        if (w)
            snprintf(words[nw++], sizeof words[0], "%s", w);
    }
    size_t len = 0;
    if (n < LT_CANVAS_CAPTION_MAX)
        return lt_set_error(LT_ERR_ARG, "canvas caption: buffer of %zu bytes "
                            "is shorter than %d", n, LT_CANVAS_CAPTION_MAX);
    buf[0] = '\0';
    for (int i = 0; i < nw; i++) {
        const char *w = words[i];
        if (!strcmp(w, "a") && i + 1 < nw && strchr("aeiou", words[i + 1][0]))
            w = "an";
        bool punct = !strcmp(w, ",") || !strcmp(w, ".");
        int k = snprintf(buf + len, n - len, "%s%s", len && !punct ? " " : "",
                         w);
        if (k < 0 || (size_t)k >= n - len)
            return lt_set_error(LT_ERR_ARG, "canvas caption: longer than %zu "
                                "bytes", n);
        len += (size_t)k;
    }
    buf[0] = (char)toupper((unsigned char)buf[0]);
    return LT_OK;
}

/* The templates [lo, hi) that name exactly what is given: both (0..10),
 * the object only (11..12), the style only (13..14), nothing (15). */
static void lt_cv_template_range(int object, int style, int *lo, int *hi)
{
    if (object >= 0 && style >= 0)
        *lo = 0, *hi = 11;
    else if (object >= 0)
        *lo = 11, *hi = 13;
    else if (style >= 0)
        *lo = 13, *hi = 15;
    else
        *lo = 15, *hi = 16;
}

lt_status lt_canvas_prompt(int object, int style, bool mark, int tmpl,
                           uint64_t draw, char *buf, size_t n)
{
    if (!buf || object < -1 || object >= LT_CANVAS_OBJECTS || style < -1 ||
        style >= LT_CANVAS_STYLES || tmpl < -1 || tmpl >= LT_CANVAS_TEMPLATES)
        return lt_set_error(LT_ERR_ARG, "canvas prompt: bad object %d, style "
                            "%d or template %d", object, style, tmpl);
    lt_cv_fill f = {object, style, mark, draw, 0};
    int lo, hi;
    lt_cv_template_range(object, style, &lo, &hi);
    if (tmpl < 0)
        tmpl = lo + (int)lt_cv_pick(&f, (uint64_t)(hi - lo));
    if (tmpl < lo || tmpl >= hi)
        return lt_set_error(LT_ERR_ARG, "canvas prompt: template %d is not "
                            "one for %s", tmpl, lo == 0 ? "an object and a "
                            "style" : lo == 11 ? "an object alone"
                            : lo == 13 ? "a style alone" : "no object and no "
                            "style");
    return lt_cv_format(lt_cv_templates[tmpl], &f, buf, n);
}

static lt_status lt_cv_image_check(const lt_canvas *cv, int64_t i)
{
    if (!cv || i < 0 || i >= cv->n)
        return lt_set_error(LT_ERR_ARG, "canvas caption: image %lld out of "
                            "range", (long long)i);
    return LT_OK;
}

lt_status lt_canvas_caption(const lt_canvas *cv, int64_t i, uint64_t draw,
                            char *buf, size_t n)
{
    if (lt_cv_image_check(cv, i) != LT_OK)
        return LT_ERR_ARG;
    /* 1 in 16 captions is empty, the rest spread over templates 0..14 */
    uint64_t k = lt_hash3(draw, 13, 0) % 16;
    int tmpl = k == 15 ? 15 : (int)(lt_hash3(draw, 13, 1) % 15);
    lt_cv_fill f = {cv->object[i], cv->style[i], cv->mark[i] != 0, draw, 2};
    return lt_cv_format(lt_cv_templates[tmpl], &f, buf, n);
}

lt_status lt_canvas_caption_canonical(const lt_canvas *cv, int64_t i,
                                      char *buf, size_t n)
{
    if (lt_cv_image_check(cv, i) != LT_OK)
        return LT_ERR_ARG;
    return lt_canvas_prompt(cv->object[i], cv->style[i], false, 0, 0, buf, n);
}

/* ---- the vocabulary ------------------------------------------------------ */

#define LT_CV_VOCAB_MAX 1024
static char lt_cv_pool[16384];
static const char *lt_cv_vocab_words[LT_CV_VOCAB_MAX];
static int lt_cv_vocab_n;
static size_t lt_cv_pool_used;
static pthread_once_t lt_cv_vocab_once = PTHREAD_ONCE_INIT;

/* Add every space-separated word of text (lower-cased), skipping slots. */
static void lt_cv_vocab_add(const char *text)
{
    for (const char *p = text; *p;) {
        size_t l = strcspn(p, " ");
        if (l && *p != '{' && lt_cv_vocab_n < LT_CV_VOCAB_MAX &&
            lt_cv_pool_used + l + 1 <= sizeof lt_cv_pool) {
            char *w = lt_cv_pool + lt_cv_pool_used;
            for (size_t i = 0; i < l; i++)
                w[i] = (char)tolower((unsigned char)p[i]);
            w[l] = '\0';
            lt_cv_pool_used += l + 1;
            lt_cv_vocab_words[lt_cv_vocab_n++] = w;
        }
        p += l + (p[l] == ' ');
    }
}

static int lt_cv_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define LT_CV_ADD_ALL(a)                                                    \
    for (int i = 0; i < LT_CV_COUNT(a); i++)                               \
        lt_cv_vocab_add(a[i])

static void lt_cv_vocab_build(void)
{
    LT_CV_ADD_ALL(lt_cv_templates);
    LT_CV_ADD_ALL(lt_cv_nouns);
    LT_CV_ADD_ALL(lt_cv_mark_words);
    LT_CV_ADD_ALL(lt_cv_fillers);
    LT_CV_ADD_ALL(lt_cv_phrases);
    LT_CV_ADD_ALL(lt_cv_texture_words);
    LT_CV_ADD_ALL(lt_cv_filter_words);
    lt_cv_vocab_add("an");
    for (int i = 0; i < LT_CANVAS_OBJECTS; i++) {
        const lt_canvas_object *o = lt_canvas_object_at(i);
        lt_cv_vocab_add(o->word);
        for (int k = 0; k < 3 && o->synonyms[k]; k++)
            lt_cv_vocab_add(o->synonyms[k]);
    }
    for (int i = 0; i < LT_CANVAS_STYLES; i++) {
        const lt_canvas_style *s = lt_canvas_style_at(i);
        lt_cv_vocab_add(s->name);
        lt_cv_vocab_add(s->fg_word);
        lt_cv_vocab_add(s->bg_word);
    }
    qsort(lt_cv_vocab_words, (size_t)lt_cv_vocab_n, sizeof(char *),
          lt_cv_strcmp);
    int u = 0;
    for (int i = 0; i < lt_cv_vocab_n; i++)
        if (!u || strcmp(lt_cv_vocab_words[u - 1], lt_cv_vocab_words[i]))
            lt_cv_vocab_words[u++] = lt_cv_vocab_words[i];
    lt_cv_vocab_n = u;
}

const char *const *lt_canvas_vocab(int *n)
{
    pthread_once(&lt_cv_vocab_once, lt_cv_vocab_build);
    if (n)
        *n = lt_cv_vocab_n;
    return lt_cv_vocab_words;
}

int lt_canvas_word_id(const char *word)
{
    int n;
    const char *const *v = lt_canvas_vocab(&n);
    if (!word)
        return -1;
    const char *const *hit = bsearch(&word, v, (size_t)n, sizeof *v,
                                     lt_cv_strcmp);
    return hit ? (int)(hit - v) : -1;
}

lt_status lt_canvas_encode(const char *text, int32_t *ids, int max,
                           int *count)
{
    if (!text || !count || (max > 0 && !ids))
        return lt_set_error(LT_ERR_ARG, "canvas encode: NULL argument");
    *count = 0;
    for (const char *p = text; *p;) {
        char w[64];
        size_t l = 0;
        if (*p == '.' || *p == ',')
            w[l++] = *p++;
        else if (isalpha((unsigned char)*p))
            while (isalpha((unsigned char)*p) && l < sizeof w - 1)
                w[l++] = (char)tolower((unsigned char)*p++);
        else if (*p == ' ' || *p == '\t' || *p == '\n') {
            p++;
            continue;
        } else
            return lt_set_error(LT_ERR_ARG, "canvas encode: character '%c' "
                                "is not in the caption alphabet", *p);
        w[l] = '\0';
        int id = lt_canvas_word_id(w);
        if (id < 0)
            return lt_set_error(LT_ERR_ARG, "canvas encode: '%s' is not in "
                                "the vocabulary", w);
        if (*count >= max)
            return lt_set_error(LT_ERR_ARG, "canvas encode: more than %d "
                                "words", max);
        ids[(*count)++] = id;
    }
    return LT_OK;
}
