/*
 * wordnet_qa.c - general-knowledge QA built from real text: the noun
 * glosses of WordNet (Debian's wordnet-base, /usr/share/wordnet/data.noun).
 * It stands in for TOFU's world_facts utility set: "what does the word X
 * mean?" answered by X's WordNet definition, with perturbed answers taken
 * from the definitions of sibling synsets (same hypernym) and then of other
 * nouns of the same lexicographer file. See lethe/tofu.h.
 *
 * data.noun format (one synset a line; lines starting with a space are the
 * licence header):
 *   offset lex_filenum n w_cnt(hex) {word lex_id}*w_cnt p_cnt(dec)
 *   {pointer_symbol offset pos source/target}*p_cnt | gloss
 * The gloss is the definition, optionally followed by '; "example"' parts.
 *
 * It also builds a "real authors" utility set (lt_tofu_wordnet_authors_set):
 * the synsets that are instances ("@i") of "writer, author" or of any
 * synset below it (novelist, poet, dramatist, ...), asked about by name
 * ("Who was Charles Dickens?") and answered by their gloss.
 */
#include "lethe/data.h"
#include "lethe/tofu.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WN_LEXFILES 64
#define WN_MIN_PERTURBED 3
#define WN_MAX_DEF 250

typedef struct {
    uint32_t offset;
    uint32_t hyper;  /* first hypernym's offset; 0 when none */
    int lexfile;
    bool instance;   /* has an instance hypernym (a proper name) */
    bool root;       /* the "writer, author" synset */
    char *lemma;     /* first word, '_' turned into ' ' */
    char *name;      /* first multi-word word (else the first word) */
    char *def;       /* definition part of the gloss ("" if none) */
} wn_syn;

/* A noun hypernym pointer ("@") or instance-hypernym pointer ("@i"). */
typedef struct {
    int64_t from;
    uint32_t to;
    bool instance;
} wn_edge;

/* A synset index with its sort key (hypernym, then offset). */
typedef struct {
    uint32_t hyper, offset;
    int64_t idx;
} wn_link;

typedef struct {
    const char **key;
    int *count;
    size_t cap, used;
} wn_counts;

typedef struct {
    const char *path;
    char *buf;
    wn_syn *syn;
    int64_t n, cap;
    wn_counts words;
    wn_link *by_hyper;             /* synsets sorted by hypernym */
    int64_t *by_lex;               /* synset indices grouped by lex file */
    int64_t lex_start[WN_LEXFILES + 1];
    wn_edge *edge;                 /* every noun @ / @i pointer */
    int64_t n_edge, edge_cap;
} wn_db;

/* ---- lemma counts (how many noun synsets hold a word) -------------------- */

static uint64_t wn_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint64_t)tolower((unsigned char)*s)) * 1099511628211ull;
    return h;
}

static size_t wn_slot(const char **key, size_t cap, const char *w)
{
    size_t i = (size_t)wn_hash(w) & (cap - 1);
    while (key[i] && strcasecmp(key[i], w))
        i = (i + 1) & (cap - 1);
    return i;
}

/* Double the table (kept at most half full). */
static bool wn_count_grow(wn_counts *c)
{
    size_t cap = c->cap ? 2 * c->cap : 1 << 16;
    const char **key = calloc(cap, sizeof *key);
    int *count = calloc(cap, sizeof *count);
    if (!key || !count) {
        free(key);
        free(count);
        return false;
    }
    for (size_t i = 0; i < c->cap; i++)
        if (c->key[i]) {
            size_t j = wn_slot(key, cap, c->key[i]);
            key[j] = c->key[i];
            count[j] = c->count[i];
        }
    free(c->key);
    free(c->count);
    c->key = key;
    c->count = count;
    c->cap = cap;
    return true;
}

static bool wn_count_add(wn_counts *c, const char *w)
{
    if (2 * (c->used + 1) > c->cap && !wn_count_grow(c))
        return false;
    size_t i = wn_slot(c->key, c->cap, w);
    if (!c->key[i]) {
        c->key[i] = w;
        c->used++;
    }
    c->count[i]++;
    return true;
}

static int wn_count_get(const wn_counts *c, const char *w)
{
    if (!c->cap)
        return 0;
    size_t i = wn_slot(c->key, c->cap, w);
    return c->key[i] ? c->count[i] : 0;
}

/* ---- parsing ------------------------------------------------------------- */

/* Next space-separated token of *p (NUL-terminated in place), or NULL. */
static char *wn_token(char **p)
{
    char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s)
        return NULL;
    char *e = s;
    while (*e && *e != ' ')
        e++;
    if (*e)
        *e++ = '\0';
    *p = e;
    return s;
}

/* Parse an unsigned number of the given base that must fill the token. */
static bool wn_number(const char *t, int base, size_t digits, long *v)
{
    if (!t || (digits && strlen(t) != digits))
        return false;
    char *end;
    *v = strtol(t, &end, base);
    return *t && !*end && *v >= 0;
}

/* The definition: the gloss up to its first '; "' example, trimmed. */
static char *wn_definition(char *gloss)
{
    while (*gloss == ' ')
        gloss++;
    char *cut = strstr(gloss, "; \"");
    if (cut)
        *cut = '\0';
    if (*gloss == '"')
        *gloss = '\0';
    size_t n = strlen(gloss);
    while (n && (gloss[n - 1] == ' ' || gloss[n - 1] == ';'))
        gloss[--n] = '\0';
    return gloss;
}

static lt_status wn_bad(const wn_db *db, long line, const char *what)
{
    return lt_set_error(LT_ERR_FORMAT, "%s:%ld: malformed WordNet synset line"
                        " (%s)", db->path, line, what);
}

static lt_status wn_push_edge(wn_db *db, uint32_t to, bool instance)
{
    if (db->n_edge == db->edge_cap) {
        db->edge_cap = db->edge_cap ? 2 * db->edge_cap : 4096;
        wn_edge *e = realloc(db->edge, (size_t)db->edge_cap * sizeof *e);
        if (!e)
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
        db->edge = e;
    }
    db->edge[db->n_edge++] = (wn_edge){db->n, to, instance};
    return LT_OK;
}

static lt_status wn_parse_line(wn_db *db, char *s, long line, wn_syn *o)
{
    long off, lex, wc, pc, v;
    char *bar = strstr(s, " | ");
    if (!bar)
        return wn_bad(db, line, "no ' | ' before the gloss");
    *bar = '\0';
    o->def = wn_definition(bar + 3);
    if (!wn_number(wn_token(&s), 10, 8, &off) ||
        !wn_number(wn_token(&s), 10, 2, &lex) || lex >= WN_LEXFILES)
        return wn_bad(db, line, "bad offset or lexicographer file");
    char *type = wn_token(&s);
    if (!type || strcmp(type, "n"))
        return wn_bad(db, line, "synset type is not 'n'");
    if (!wn_number(wn_token(&s), 16, 2, &wc) || wc < 1)
        return wn_bad(db, line, "bad word count");
    o->offset = (uint32_t)off;
    o->lexfile = (int)lex;
    for (long i = 0; i < wc; i++) {
        char *w = wn_token(&s);
        if (!w || !wn_number(wn_token(&s), 16, 1, &v))
            return wn_bad(db, line, "word list shorter than its count");
        for (char *c = w; *c; c++)
            if (*c == '_')
                *c = ' ';
        if (!i)
            o->lemma = o->name = w;
        else if (!strchr(o->name, ' ') && strchr(w, ' '))
            o->name = w;
        if (i == 1 && !strcmp(o->lemma, "writer") && !strcmp(w, "author"))
            o->root = true;
        if (!wn_count_add(&db->words, w))
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    }
    if (!wn_number(wn_token(&s), 10, 3, &pc))
        return wn_bad(db, line, "bad pointer count");
    for (long i = 0; i < pc; i++) {
        char *sym = wn_token(&s), *to = wn_token(&s), *pos = wn_token(&s);
        if (!sym || !wn_number(to, 10, 8, &off) || !pos ||
            !wn_number(wn_token(&s), 16, 4, &v))
            return wn_bad(db, line, "pointer list shorter than its count");
        if (!strcmp(sym, "@i"))
            o->instance = true;
        bool up = !strcmp(pos, "n") &&
                  (!strcmp(sym, "@") || !strcmp(sym, "@i"));
        if (!o->hyper && up)
            o->hyper = (uint32_t)off;
        lt_status st = up ? wn_push_edge(db, (uint32_t)off, sym[1] == 'i')
                          : LT_OK;
        if (st != LT_OK)
            return st;
    }
    if (wn_token(&s))
        return wn_bad(db, line, "extra fields before the gloss");
    return LT_OK;
}

static lt_status wn_read(wn_db *db)
{
    FILE *f = fopen(db->path, "rb");
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot open (install Debian's "
                            "wordnet-base, or give the folder holding "
                            "data.noun)", db->path);
    size_t cap = 1 << 20, n = 0;
    db->buf = malloc(cap);
    while (db->buf) {
        n += fread(db->buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1)
            break;
        char *b = realloc(db->buf, cap *= 2);
        if (!b)
            free(db->buf);
        db->buf = b;
    }
    bool err = ferror(f);
    fclose(f);
    if (!db->buf)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    if (err)
        return lt_set_error(LT_ERR_IO, "%s: read error", db->path);
    db->buf[n] = '\0';
    return LT_OK;
}

static lt_status wn_parse(wn_db *db)
{
    long line = 0;
    for (char *p = db->buf; *p;) {
        char *e = strchr(p, '\n');
        if (e)
            *e = '\0';
        line++;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[--len] = '\0';
        if (len && p[0] != ' ') {
            if (db->n == db->cap) {
                db->cap = db->cap ? 2 * db->cap : 4096;
                wn_syn *s = realloc(db->syn, (size_t)db->cap * sizeof *s);
                if (!s)
                    return lt_set_error(LT_ERR_NOMEM, "%s: out of memory",
                                        db->path);
                db->syn = s;
            }
            wn_syn *o = &db->syn[db->n];
            memset(o, 0, sizeof *o);
            lt_status st = wn_parse_line(db, p, line, o);
            if (st != LT_OK)
                return st;
            db->n++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (!db->n)
        return lt_set_error(LT_ERR_FORMAT, "%s: no synsets", db->path);
    return LT_OK;
}

/* ---- indexes ------------------------------------------------------------- */

static int wn_cmp_link(const void *x, const void *y)
{
    const wn_link *a = x, *b = y;
    if (a->hyper != b->hyper)
        return a->hyper < b->hyper ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static lt_status wn_index(wn_db *db)
{
    db->by_hyper = malloc((size_t)db->n * sizeof *db->by_hyper);
    db->by_lex = malloc((size_t)db->n * sizeof(int64_t));
    if (!db->by_hyper || !db->by_lex)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    for (int64_t i = 0; i < db->n; i++)
        db->by_hyper[i] = (wn_link){db->syn[i].hyper, db->syn[i].offset, i};
    qsort(db->by_hyper, (size_t)db->n, sizeof *db->by_hyper, wn_cmp_link);
    memset(db->lex_start, 0, sizeof db->lex_start);
    for (int64_t i = 0; i < db->n; i++)
        db->lex_start[db->syn[i].lexfile + 1]++;
    for (int l = 0; l < WN_LEXFILES; l++)
        db->lex_start[l + 1] += db->lex_start[l];
    int64_t fill[WN_LEXFILES];
    memcpy(fill, db->lex_start, sizeof fill);
    for (int64_t i = 0; i < db->n; i++)
        db->by_lex[fill[db->syn[i].lexfile]++] = i;
    return LT_OK;
}

static void wn_free(wn_db *db)
{
    free(db->buf);
    free(db->syn);
    free(db->words.key);
    free(db->words.count);
    free(db->by_hyper);
    free(db->by_lex);
    free(db->edge);
}

/* ---- selection ----------------------------------------------------------- */

static bool wn_def_usable(const char *d)
{
    size_t n = strlen(d);
    return n >= 3 && n <= WN_MAX_DEF;
}

/* A noun whose meaning can be asked for: a common, monosemous noun with a
 * definition of reasonable length. */
static bool wn_eligible(const wn_db *db, const wn_syn *s)
{
    size_t n = strlen(s->lemma), d = strlen(s->def);
    if (s->instance || n < 3 || n > 40 || d < 15 || d > 200)
        return false;
    for (const char *c = s->lemma; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == ' ' || *c == '-'))
            return false;
    return wn_count_get(&db->words, s->lemma) == 1;
}

static bool wn_pick_ok(const wn_db *db, const wn_syn *s, int64_t j,
                       const int64_t *got, int n)
{
    const wn_syn *o = &db->syn[j];
    if (o == s || !wn_def_usable(o->def) || !strcmp(o->def, s->def))
        return false;
    for (int k = 0; k < n; k++)
        if (got[k] == j || !strcmp(db->syn[got[k]].def, o->def))
            return false;
    return true;
}

/* Up to LT_TOFU_N_PERTURBED synsets whose definitions serve as wrong
 * answers for s: siblings first (random order), then its lex file. */
static int wn_perturb_picks(wn_db *db, const wn_syn *s, lt_rng *r,
                            int64_t *got)
{
    int n = 0;
    int64_t lo = 0, hi = db->n;
    while (lo < hi) { /* first entry with hyper >= s->hyper */
        int64_t mid = (lo + hi) / 2;
        if (db->by_hyper[mid].hyper < s->hyper)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t end = lo;
    while (s->hyper && end < db->n && db->by_hyper[end].hyper == s->hyper)
        end++;
    /* Draw siblings without replacement: a drawn one is swapped to the end
     * of the remaining range (the range stays sorted by hypernym). */
    wn_link *bh = db->by_hyper;
    for (int64_t m = end - lo; n < LT_TOFU_N_PERTURBED && m > 0; m--) {
        int64_t k = lo + (int64_t)lt_rng_below(r, (uint64_t)m);
        wn_link t = bh[k];
        if (wn_pick_ok(db, s, t.idx, got, n))
            got[n++] = t.idx;
        bh[k] = bh[lo + m - 1];
        bh[lo + m - 1] = t;
    }
    int64_t a = db->lex_start[s->lexfile], b = db->lex_start[s->lexfile + 1];
    for (int t = 0; n < LT_TOFU_N_PERTURBED && b > a && t < 200; t++) {
        int64_t j = db->by_lex[a + (int64_t)lt_rng_below(r, (uint64_t)(b - a))];
        if (wn_pick_ok(db, s, j, got, n))
            got[n++] = j;
    }
    return n;
}

/* ---- QA ------------------------------------------------------------------ */

/* Question phrasings: text before and after the quoted lemma. */
static const char *const wn_questions[][2] = {
    {"What does the word \"", "\" mean?"},
    {"What is the meaning of the noun \"", "\"?"},
    {"How would you define \"", "\"?"},
    {"What is meant by \"", "\"?"}};

/* "<Def>." with the first letter capitalised. */
static void wn_sentence(char *out, size_t n, const char *def)
{
    size_t d = strlen(def);
    bool stop = d && strchr(".?!", def[d - 1]);
    snprintf(out, n, "%s%s", def, stop ? "" : ".");
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

static void wn_paraphrase(char *out, size_t n, const char *lemma,
                          const char *def)
{
    size_t d = strlen(def);
    bool stop = d && strchr(".?!", def[d - 1]);
    snprintf(out, n, "The noun \"%s\" refers to %s%s", lemma, def,
             stop ? "" : ".");
}

static lt_status wn_add_qa(const wn_db *db, const wn_syn *s, lt_rng *r,
                           const int64_t *got, int np, lt_tofu_set *out)
{
    char q[160], pq[160], a[WN_MAX_DEF + 8], pa[WN_MAX_DEF + 80];
    char pert[LT_TOFU_N_PERTURBED][WN_MAX_DEF + 80];
    const char *pp[LT_TOFU_N_PERTURBED];
    int nq = (int)(sizeof wn_questions / sizeof *wn_questions);
    int qi = (int)lt_rng_below(r, (uint64_t)nq);
    int pqi = (qi + 1 + (int)lt_rng_below(r, (uint64_t)nq - 1)) % nq;
    snprintf(q, sizeof q, "%s%s%s", wn_questions[qi][0], s->lemma,
             wn_questions[qi][1]);
    snprintf(pq, sizeof pq, "%s%s%s", wn_questions[pqi][0], s->lemma,
             wn_questions[pqi][1]);
    wn_sentence(a, sizeof a, s->def);
    wn_paraphrase(pa, sizeof pa, s->lemma, s->def);
    for (int k = 0; k < np; k++) {
        wn_paraphrase(pert[k], sizeof pert[k], s->lemma, db->syn[got[k]].def);
        pp[k] = pert[k];
    }
    return lt_tofu_push(out, q, a, pq, pa, pp, np);
}

static lt_status wn_build(wn_db *db, int64_t n, uint64_t seed,
                          lt_tofu_set *out)
{
    int64_t *cand = malloc((size_t)db->n * sizeof *cand), nc = 0;
    int64_t *perm = malloc((size_t)db->n * sizeof *perm);
    lt_status st = LT_OK;
    if (!cand || !perm)
        st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    for (int64_t i = 0; st == LT_OK && i < db->n; i++)
        if (wn_eligible(db, &db->syn[i]))
            cand[nc++] = i;
    if (st == LT_OK)
        lt_permutation(perm, nc, lt_hash3(seed, 0x776e, 0));
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 0x776e, 1));
    for (int64_t i = 0; st == LT_OK && i < nc && out->n < n; i++) {
        const wn_syn *s = &db->syn[cand[perm[i]]];
        int64_t got[LT_TOFU_N_PERTURBED];
        int np = wn_perturb_picks(db, s, &r, got);
        if (np >= WN_MIN_PERTURBED)
            st = wn_add_qa(db, s, &r, got, np, out);
    }
    if (st == LT_OK && out->n < n)
        st = lt_set_error(LT_ERR_ARG, "%s: only %lld nouns qualify for QA "
                          "(asked for %lld)", db->path, (long long)out->n,
                          (long long)n);
    free(cand);
    free(perm);
    return st;
}

/* Read, parse and index <wordnet_dir>/data.noun; path must outlive db. */
static lt_status wn_load(const char *wordnet_dir, char *path, size_t cap,
                         wn_db *db)
{
    snprintf(path, cap, "%s/data.noun",
             wordnet_dir && *wordnet_dir ? wordnet_dir : LT_WORDNET_DIR);
    memset(db, 0, sizeof *db);
    db->path = path;
    lt_status st = wn_read(db);
    if (st == LT_OK)
        st = wn_parse(db);
    if (st == LT_OK)
        st = wn_index(db);
    return st;
}

lt_status lt_tofu_wordnet_set(const char *wordnet_dir, int64_t n,
                              uint64_t seed, lt_tofu_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_wordnet_set: NULL output");
    memset(out, 0, sizeof *out);
    if (n < 1)
        return lt_set_error(LT_ERR_ARG, "wordnet-qa: n must be >= 1 (got "
                            "%lld)", (long long)n);
    char path[4096];
    wn_db db;
    lt_status st = wn_load(wordnet_dir, path, sizeof path, &db);
    if (st == LT_OK)
        st = wn_build(&db, n, seed, out);
    wn_free(&db);
    if (st != LT_OK)
        lt_tofu_free(out);
    return st;
}

lt_status lt_tofu_wordnet_qa(const char *wordnet_dir, int64_t n,
                             uint64_t seed, const char *out_file)
{
    if (!out_file || !*out_file)
        return lt_set_error(LT_ERR_ARG, "wordnet-qa: empty or NULL output "
                            "file");
    lt_tofu_set s;
    lt_status st = lt_tofu_wordnet_set(wordnet_dir, n, seed, &s);
    if (st == LT_OK)
        st = lt_tofu_save(out_file, &s);
    lt_tofu_free(&s);
    return st;
}

/* ---- real authors -------------------------------------------------------- */

#define WN_AUTHOR_MAX_NAME 60

/* A writer: a synset that is an instance of a writer class. */
typedef struct {
    int64_t idx; /* the writer's synset */
    int64_t cls; /* its first writer-class instance hypernym */
} wn_author;

/* Index of the synset at offset (data.noun is sorted by offset), or -1. */
static int64_t wn_find(const wn_db *db, uint32_t offset)
{
    int64_t lo = 0, hi = db->n;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (db->syn[mid].offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < db->n && db->syn[lo].offset == offset ? lo : -1;
}

/* under[i]: synset i is "writer, author" or lies below it by "@" links.
 * Fails when the file has no "writer, author" synset. */
static lt_status wn_writer_classes(const wn_db *db, bool *under)
{
    bool any = false;
    for (int64_t i = 0; i < db->n; i++)
        any |= under[i] = db->syn[i].root;
    if (!any)
        return lt_set_error(LT_ERR_FORMAT, "%s: no \"writer, author\" "
                            "synset", db->path);
    for (bool changed = true; changed;) {
        changed = false;
        for (int64_t k = 0; k < db->n_edge; k++) {
            const wn_edge *e = &db->edge[k];
            if (e->instance || under[e->from])
                continue;
            int64_t j = wn_find(db, e->to);
            if (j >= 0 && under[j])
                under[e->from] = changed = true;
        }
    }
    return LT_OK;
}

static bool wn_author_usable(const wn_syn *s)
{
    size_t n = strlen(s->name), d = strlen(s->def);
    return s->name[0] >= 'A' && s->name[0] <= 'Z' && n <= WN_AUTHOR_MAX_NAME &&
           d >= 15 && d <= 200;
}

/* The writers (instances of a writer class) with a usable name and gloss
 * whose name no other writer shares, in file order. *na is their count. */
static lt_status wn_authors(wn_db *db, wn_author **out, int64_t *na)
{
    bool *under = calloc((size_t)db->n, sizeof *under);
    wn_author *a = malloc((size_t)db->n * sizeof *a);
    wn_counts names = {0};
    lt_status st = under && a ? wn_writer_classes(db, under)
                              : lt_set_error(LT_ERR_NOMEM, "%s: out of "
                                             "memory", db->path);
    int64_t n = 0;
    for (int64_t k = 0; st == LT_OK && k < db->n_edge; k++) {
        const wn_edge *e = &db->edge[k];
        int64_t j = e->instance ? wn_find(db, e->to) : -1;
        if (j < 0 || !under[j] || !wn_author_usable(&db->syn[e->from]) ||
            (n && a[n - 1].idx == e->from))
            continue;
        a[n++] = (wn_author){e->from, j};
        if (!wn_count_add(&names, db->syn[e->from].name))
            st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    }
    int64_t kept = 0;
    for (int64_t i = 0; st == LT_OK && i < n; i++)
        if (wn_count_get(&names, db->syn[a[i].idx].name) == 1)
            a[kept++] = a[i];
    free(under);
    free(names.key);
    free(names.count);
    if (st != LT_OK) {
        free(a);
        return st;
    }
    *out = a;
    *na = kept;
    return LT_OK;
}

/* Split a gloss into its body and a trailing "(dates)" parenthesis (one
 * holding a digit); dates is "" when there is none. */
static void wn_split_dates(const char *def, char *body, size_t nb,
                           char *dates, size_t nd)
{
    size_t d = strlen(def);
    const char *open = d && def[d - 1] == ')' ? strrchr(def, '(') : NULL;
    bool digit = false;
    for (const char *c = open; c && *c; c++)
        digit |= *c >= '0' && *c <= '9';
    if (!open || !digit || open == def)
        open = def + d;
    size_t b = (size_t)(open - def);
    while (b && def[b - 1] == ' ')
        b--;
    snprintf(body, nb, "%.*s", (int)b, def);
    snprintf(dates, nd, "%s", open);
}

/* The article a body needs after "was": none when it has one already. */
static const char *wn_article(const char *body)
{
    static const char *const has[] = {"a ", "an ", "the ", "one "};
    static const char *const not_an[] = {"Uni", "Uru", "Ukr", "Eur", "use",
                                         "uni", "one"};
    for (size_t i = 0; i < sizeof has / sizeof *has; i++)
        if (!strncmp(body, has[i], strlen(has[i])))
            return "";
    for (size_t i = 0; i < sizeof not_an / sizeof *not_an; i++)
        if (!strncmp(body, not_an[i], strlen(not_an[i])))
            return "a ";
    return strchr("AEIOUaeiou", body[0]) && body[0] ? "an " : "a ";
}

/* The paraphrase form "Name (dates) is remembered as a body." with the
 * body and dates of gloss def (used for the perturbed answers too). */
static void wn_author_para(char *out, size_t n, const char *name,
                           const char *def)
{
    char body[WN_MAX_DEF + 8], dates[WN_MAX_DEF + 8];
    wn_split_dates(def, body, sizeof body, dates, sizeof dates);
    bool alive = !strncmp(dates, "(born", 5);
    snprintf(out, n, "%s%s%s is %s as %s%s.", name, *dates ? " " : "", dates,
             alive ? "known" : "remembered", wn_article(body), body);
}

static lt_status wn_author_qa(const wn_db *db, const wn_syn *s,
                              const int64_t *got, int np, lt_tofu_set *out)
{
    char q[WN_AUTHOR_MAX_NAME + 40], pq[WN_AUTHOR_MAX_NAME + 40];
    char body[WN_MAX_DEF + 8], dates[WN_MAX_DEF + 8];
    char a[2 * WN_MAX_DEF + 120], pa[2 * WN_MAX_DEF + 120];
    char pert[LT_TOFU_N_PERTURBED][2 * WN_MAX_DEF + 120];
    const char *pp[LT_TOFU_N_PERTURBED];
    wn_split_dates(s->def, body, sizeof body, dates, sizeof dates);
    bool alive = !strncmp(dates, "(born", 5);
    snprintf(q, sizeof q, "Who %s %s?", alive ? "is" : "was", s->name);
    snprintf(pq, sizeof pq, "What is %s known for?", s->name);
    snprintf(a, sizeof a, "%s %s %s%s%s%s.", s->name, alive ? "is" : "was",
             wn_article(body), body, *dates ? " " : "", dates);
    wn_author_para(pa, sizeof pa, s->name, s->def);
    for (int k = 0; k < np; k++) {
        wn_author_para(pert[k], sizeof pert[k], s->name,
                       db->syn[got[k]].def);
        pp[k] = pert[k];
    }
    return lt_tofu_push(out, q, a, pq, pa, pp, np);
}

/* Up to LT_TOFU_N_PERTURBED other writers whose glosses serve as wrong
 * answers for writer i: those of the same class first (random order), then
 * any writers. scratch holds na entries. */
static int wn_author_picks(const wn_db *db, const wn_author *a, int64_t na,
                           int64_t i, lt_rng *r, int64_t *scratch,
                           int64_t *got)
{
    const wn_syn *s = &db->syn[a[i].idx];
    int64_t m = 0;
    for (int64_t j = 0; j < na; j++)
        if (j != i && a[j].cls == a[i].cls)
            scratch[m++] = a[j].idx;
    int n = 0;
    for (; n < LT_TOFU_N_PERTURBED && m > 0; m--) {
        int64_t k = (int64_t)lt_rng_below(r, (uint64_t)m);
        int64_t j = scratch[k];
        scratch[k] = scratch[m - 1];
        if (wn_pick_ok(db, s, j, got, n))
            got[n++] = j;
    }
    for (int t = 0; n < LT_TOFU_N_PERTURBED && na > 1 && t < 200; t++) {
        int64_t j = a[lt_rng_below(r, (uint64_t)na)].idx;
        if (wn_pick_ok(db, s, j, got, n))
            got[n++] = j;
    }
    return n;
}

static lt_status wn_build_authors(wn_db *db, int64_t n, uint64_t seed,
                                  lt_tofu_set *out)
{
    wn_author *a = NULL;
    int64_t na = 0;
    lt_status st = wn_authors(db, &a, &na);
    if (st != LT_OK)
        return st;
    int64_t *perm = malloc((size_t)(na + 1) * sizeof *perm);
    int64_t *scratch = malloc((size_t)(na + 1) * sizeof *scratch);
    if (!perm || !scratch)
        st = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", db->path);
    if (st == LT_OK)
        lt_permutation(perm, na, lt_hash3(seed, 0x6175, 0));
    lt_rng r;
    lt_rng_init(&r, lt_hash3(seed, 0x6175, 1));
    for (int64_t i = 0; st == LT_OK && i < na && out->n < n; i++) {
        int64_t got[LT_TOFU_N_PERTURBED];
        int np = wn_author_picks(db, a, na, perm[i], &r, scratch, got);
        if (np >= WN_MIN_PERTURBED)
            st = wn_author_qa(db, &db->syn[a[perm[i]].idx], got, np, out);
    }
    if (st == LT_OK && out->n < n)
        st = lt_set_error(LT_ERR_ARG, "%s: only %lld writers qualify for QA "
                          "(asked for %lld)", db->path, (long long)out->n,
                          (long long)n);
    free(a);
    free(perm);
    free(scratch);
    return st;
}

lt_status lt_tofu_wordnet_authors_set(const char *wordnet_dir, int64_t n,
                                      uint64_t seed, lt_tofu_set *out)
{
    if (!out)
        return lt_set_error(LT_ERR_ARG, "lt_tofu_wordnet_authors_set: NULL "
                            "output");
    memset(out, 0, sizeof *out);
    if (n < 1)
        return lt_set_error(LT_ERR_ARG, "wordnet-qa --kind authors: n must "
                            "be >= 1 (got %lld)", (long long)n);
    char path[4096];
    wn_db db;
    lt_status st = wn_load(wordnet_dir, path, sizeof path, &db);
    if (st == LT_OK)
        st = wn_build_authors(&db, n, seed, out);
    wn_free(&db);
    if (st != LT_OK)
        lt_tofu_free(out);
    return st;
}
