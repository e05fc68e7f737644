/*
 * tokenizer_train.c - training a byte-level BPE tokenizer. The corpus is
 * cut at special tokens and pre-tokenized; distinct words are counted. Each
 * step merges the adjacent pair of tokens with the highest count (a word
 * counts as often as it occurs; ties go to the smallest (left id, right
 * id)). Pair counts are updated incrementally: every pair remembers the
 * words it occurs in, a merge rewrites only those words, and a max-heap
 * with lazy deletion finds the best pair (a popped entry whose count is out
 * of date is pushed back with the current count).
 */
#include "lethe/io.h"
#include "tokenizer_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t count;
    int32_t p;
} lt_trn_entry;

typedef struct {
    lt_tokenizer *t;
    /* distinct words: bytes in wpool, then their current symbols */
    char *wpool;
    size_t wpool_n, wpool_cap;
    lt_tok_smap wmap;
    uint64_t *woff;   /* bytes, later the first symbol */
    uint32_t *wlen;   /* bytes, later the number of symbols */
    int64_t *wcount;
    int32_t *wstamp;  /* the last merge that rewrote the word */
    int32_t nw, wcap;
    int32_t *sym;     /* all symbols of all words */
    /* pairs */
    lt_tok_imap pmap; /* left << 32 | right -> pair index */
    int32_t *pa, *pb, *phead, *plastw, *pstamp;
    int64_t *pcnt;
    uint8_t *pdone;   /* already a merge */
    int32_t np, pcap;
    /* the words each pair occurs in: linked lists in one pool */
    int32_t *node_w, *node_next;
    size_t nn, ncap;
    lt_trn_entry *heap;
    size_t hn, hcap;
    int32_t *touched; /* pairs with the new token, this merge */
    size_t nt, tcap;
} lt_trn;

static lt_status lt_trn_oom(void)
{
    return lt_set_error(LT_ERR_NOMEM, "lt_tokenizer_train: out of memory");
}

/* Grow *p (of elem-byte items, capacity *cap) to hold at least n. */
static bool lt_trn_grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 1024;
    while (c < n)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* ---- counting words ---------------------------------------------------- */

static lt_status lt_trn_add_word(lt_trn *r, const uint8_t *w, size_t n)
{
    if (lt_tok_smap_reserve(&r->wmap) != LT_OK)
        return LT_ERR_NOMEM;
    uint32_t h = lt_tok_hash_bytes(w, n, 0);
    lt_tok_sslot *s = lt_tok_smap_slot(&r->wmap, r->wpool, w, n, 0, h);
    if (s->hash) {
        r->wcount[s->val]++;
        return LT_OK;
    }
    size_t wc = (size_t)r->wcap, pc = r->wpool_cap;
    bool ok = lt_trn_grow((void **)&r->wpool, &pc, r->wpool_n + n, 1);
    r->wpool_cap = pc;
    size_t c1 = wc, c2 = wc, c3 = wc;
    ok = ok && lt_trn_grow((void **)&r->woff, &c1, (size_t)r->nw + 1, 8) &&
         lt_trn_grow((void **)&r->wlen, &c2, (size_t)r->nw + 1, 4) &&
         lt_trn_grow((void **)&r->wcount, &c3, (size_t)r->nw + 1, 8);
    if (!ok || n > UINT32_MAX)
        return lt_trn_oom();
    r->wcap = (int32_t)c1;
    memcpy(r->wpool + r->wpool_n, w, n);
    *s = (lt_tok_sslot){r->wpool_n, (uint32_t)n, h, r->nw, 0};
    r->wmap.n++;
    r->woff[r->nw] = r->wpool_n;
    r->wlen[r->nw] = (uint32_t)n;
    r->wcount[r->nw] = 1;
    r->nw++;
    r->wpool_n += n;
    return LT_OK;
}

static lt_status lt_trn_count(lt_trn *r, const uint8_t *s, size_t n)
{
    for (size_t pos = 0; pos < n;) {
        size_t at, len;
        int32_t id = lt_tok_find_added(r->t, 0, s, n, pos, &at, &len);
        while (pos < at) {
            size_t end = lt_tok_pretok_next(s, at, pos);
            if (lt_trn_add_word(r, s + pos, end - pos) != LT_OK)
                return LT_ERR_NOMEM;
            pos = end;
        }
        if (id < 0)
            break;
        pos = at + len;
    }
    return LT_OK;
}

/* ---- pairs --------------------------------------------------------------- */

static int32_t lt_trn_pair(lt_trn *r, int32_t a, int32_t b)
{
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    int32_t p = lt_tok_imap_get(&r->pmap, key);
    if (p >= 0)
        return p;
    size_t c = (size_t)r->pcap, c2 = c, c3 = c, c4 = c, c5 = c, c6 = c, c7 = c;
    size_t need = (size_t)r->np + 1;
    if (!lt_trn_grow((void **)&r->pa, &c, need, 4) ||
        !lt_trn_grow((void **)&r->pb, &c2, need, 4) ||
        !lt_trn_grow((void **)&r->phead, &c3, need, 4) ||
        !lt_trn_grow((void **)&r->plastw, &c4, need, 4) ||
        !lt_trn_grow((void **)&r->pstamp, &c5, need, 4) ||
        !lt_trn_grow((void **)&r->pcnt, &c6, need, 8) ||
        !lt_trn_grow((void **)&r->pdone, &c7, need, 1) ||
        lt_tok_imap_put(&r->pmap, key, r->np) != LT_OK) {
        lt_trn_oom();
        return -1;
    }
    r->pcap = (int32_t)c;
    p = r->np++;
    r->pa[p] = a;
    r->pb[p] = b;
    r->phead[p] = -1;
    r->plastw[p] = -1;
    r->pstamp[p] = -1;
    r->pcnt[p] = 0;
    r->pdone[p] = 0;
    return p;
}

/* Note that word w contains pair p (once per word in a row). */
static lt_status lt_trn_where(lt_trn *r, int32_t p, int32_t w)
{
    if (r->plastw[p] == w)
        return LT_OK;
    size_t c = r->ncap, c2 = r->ncap;
    if (r->nn >= INT32_MAX ||
        !lt_trn_grow((void **)&r->node_w, &c, r->nn + 1, 4) ||
        !lt_trn_grow((void **)&r->node_next, &c2, r->nn + 1, 4))
        return lt_trn_oom();
    r->ncap = c;
    r->node_w[r->nn] = w;
    r->node_next[r->nn] = r->phead[p];
    r->phead[p] = (int32_t)r->nn++;
    r->plastw[p] = w;
    return LT_OK;
}

/* ---- the heap: highest count first, then smallest (left, right) -------- */

static bool lt_trn_before(const lt_trn *r, lt_trn_entry x, lt_trn_entry y)
{
    if (x.count != y.count)
        return x.count > y.count;
    if (r->pa[x.p] != r->pa[y.p])
        return r->pa[x.p] < r->pa[y.p];
    return r->pb[x.p] < r->pb[y.p];
}

static lt_status lt_trn_push(lt_trn *r, int32_t p)
{
    if (!lt_trn_grow((void **)&r->heap, &r->hcap, r->hn + 1, sizeof *r->heap))
        return lt_trn_oom();
    lt_trn_entry e = {r->pcnt[p], p};
    size_t i = r->hn++;
    while (i > 0 && lt_trn_before(r, e, r->heap[(i - 1) / 2])) {
        r->heap[i] = r->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    r->heap[i] = e;
    return LT_OK;
}

static lt_trn_entry lt_trn_pop(lt_trn *r)
{
    lt_trn_entry top = r->heap[0], v = r->heap[--r->hn];
    size_t i = 0, n = r->hn;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && lt_trn_before(r, r->heap[c + 1], r->heap[c]))
            c++;
        if (!lt_trn_before(r, r->heap[c], v))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (n)
        r->heap[i] = v;
    return top;
}

/* ---- merging ------------------------------------------------------------ */

static lt_status lt_trn_symbols(lt_trn *r)
{
    r->sym = malloc((r->wpool_n ? r->wpool_n : 1) * sizeof *r->sym);
    r->wstamp = malloc(((size_t)r->nw + 1) * sizeof *r->wstamp);
    if (!r->sym || !r->wstamp)
        return lt_trn_oom();
    for (size_t i = 0; i < r->wpool_n; i++)
        r->sym[i] = r->t->byte_id[(uint8_t)r->wpool[i]];
    for (int32_t w = 0; w < r->nw; w++) {
        r->wstamp[w] = -1;
        const int32_t *s = r->sym + r->woff[w];
        for (uint32_t i = 0; i + 1 < r->wlen[w]; i++) {
            int32_t p = lt_trn_pair(r, s[i], s[i + 1]);
            if (p < 0 || lt_trn_where(r, p, w) != LT_OK)
                return LT_ERR_NOMEM;
            r->pcnt[p] += r->wcount[w];
        }
    }
    for (int32_t p = 0; p < r->np; p++)
        if (lt_trn_push(r, p) != LT_OK)
            return LT_ERR_NOMEM;
    return LT_OK;
}

/* Replace (a, b) by n in word w, left to right, and update pair counts. */
static lt_status lt_trn_rewrite(lt_trn *r, int32_t w, int32_t a, int32_t b,
                                int32_t n, int32_t stamp)
{
    int32_t *s = r->sym + r->woff[w];
    uint32_t len = r->wlen[w], k = 0;
    int64_t c = r->wcount[w];
    uint32_t first = 0;
    while (first + 1 < len && !(s[first] == a && s[first + 1] == b))
        first++;
    if (first + 1 >= len)
        return LT_OK; /* the word lost the pair in an earlier merge */
    for (uint32_t i = 0; i + 1 < len; i++)
        r->pcnt[lt_tok_imap_get(&r->pmap, (uint64_t)(uint32_t)s[i] << 32 |
                                              (uint32_t)s[i + 1])] -= c;
    for (uint32_t i = 0; i < len; k++) {
        if (i + 1 < len && s[i] == a && s[i + 1] == b) {
            s[k] = n;
            i += 2;
        } else {
            s[k] = s[i++];
        }
    }
    r->wlen[w] = k;
    for (uint32_t i = 0; i + 1 < k; i++) {
        int32_t p = lt_trn_pair(r, s[i], s[i + 1]);
        if (p < 0)
            return LT_ERR_NOMEM;
        r->pcnt[p] += c;
        if (s[i] != n && s[i + 1] != n)
            continue;
        if (lt_trn_where(r, p, w) != LT_OK)
            return LT_ERR_NOMEM;
        if (r->pstamp[p] != stamp) {
            r->pstamp[p] = stamp;
            size_t tc = r->tcap;
            if (!lt_trn_grow((void **)&r->touched, &tc, r->nt + 1, 4))
                return lt_trn_oom();
            r->tcap = tc;
            r->touched[r->nt++] = p;
        }
    }
    return LT_OK;
}

/* The id of the token a + b, made if new. */
static int32_t lt_trn_new_token(lt_trn *r, int32_t a, int32_t b)
{
    lt_tokenizer *t = r->t;
    size_t la = t->len[a], lb = t->len[b];
    char *buf = malloc(la + lb + 1);
    if (!buf) {
        lt_trn_oom();
        return -1;
    }
    memcpy(buf, t->pool + t->off[a], la);
    memcpy(buf + la, t->pool + t->off[b], lb);
    int32_t id = lt_tok_lookup(t, buf, la + lb, false);
    if (id < 0) {
        id = t->n;
        if (lt_tok_set(t, id, buf, la + lb, 0) != LT_OK)
            id = -1;
    }
    free(buf);
    return id;
}

/* Merge pair p everywhere; stamp numbers the merge. */
static lt_status lt_trn_merge(lt_trn *r, int32_t p, int32_t stamp)
{
    int32_t a = r->pa[p], b = r->pb[p];
    int32_t n = lt_trn_new_token(r, a, b);
    if (n < 0)
        return LT_ERR_NOMEM;
    if (!r->pdone[p]) {
        lt_status st = lt_tok_add_merge(r->t, a, b, n);
        if (st != LT_OK)
            return st;
        r->pdone[p] = 1;
    }
    r->nt = 0;
    for (int32_t k = r->phead[p]; k >= 0; k = r->node_next[k]) {
        int32_t w = r->node_w[k];
        if (r->wstamp[w] == stamp)
            continue;
        r->wstamp[w] = stamp;
        if (lt_trn_rewrite(r, w, a, b, n, stamp) != LT_OK)
            return LT_ERR_NOMEM;
    }
    r->pcnt[p] = 0;
    for (size_t i = 0; i < r->nt; i++)
        if (r->pcnt[r->touched[i]] > 0 && lt_trn_push(r, r->touched[i]) != LT_OK)
            return LT_ERR_NOMEM;
    return LT_OK;
}

static lt_status lt_trn_run(lt_trn *r, const lt_tokenizer_train_opts *o)
{
    lt_status st = lt_trn_symbols(r);
    for (int32_t stamp = 0; st == LT_OK && r->t->n < o->vocab_size && r->hn;) {
        lt_trn_entry e = lt_trn_pop(r);
        int64_t cur = r->pcnt[e.p];
        if (cur != e.count) { /* out of date */
            if (cur > 0)
                st = lt_trn_push(r, e.p);
            continue;
        }
        if (cur < o->min_frequency)
            break;
        st = lt_trn_merge(r, e.p, stamp++);
    }
    return st;
}

/* ---- the public entry points ------------------------------------------- */

/* A tokenizer with the special tokens and the 256 byte tokens. */
static lt_status lt_trn_base(const lt_tokenizer_train_opts *o,
                             lt_tokenizer **out)
{
    lt_tokenizer *t = lt_tok_new();
    if (!t)
        return LT_ERR_NOMEM;
    lt_status st = LT_OK;
    for (int i = 0; i < o->n_special && st == LT_OK; i++)
        st = lt_tok_set(t, i, o->special_tokens[i],
                        strlen(o->special_tokens[i]),
                        LT_TOKF_ADDED | LT_TOKF_SPECIAL | LT_TOKF_LITERAL);
    int32_t id = o->n_special;
    for (uint32_t cp = 0; cp < 324 && st == LT_OK; cp++) {
        int b = lt_tok_cp_byte(cp);
        if (b >= 0) {
            uint8_t c = (uint8_t)b;
            st = lt_tok_set(t, id++, &c, 1, 0);
        }
    }
    if (st == LT_OK)
        st = lt_tok_finish(t);
    if (st != LT_OK) {
        lt_tokenizer_free(t);
        return st;
    }
    *out = t;
    return LT_OK;
}

static lt_status lt_trn_check(const lt_tokenizer_train_opts *o)
{
    if (!o)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_train: NULL options");
    if (o->n_special < 0 || (o->n_special && !o->special_tokens))
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_train: bad special tokens");
    if (o->vocab_size < 256 + o->n_special)
        return lt_set_error(LT_ERR_ARG,
                            "lt_tokenizer_train: vocab_size %ld is below the "
                            "256 byte tokens + %d special tokens",
                            (long)o->vocab_size, o->n_special);
    if (o->min_frequency < 1)
        return lt_set_error(LT_ERR_ARG,
                            "lt_tokenizer_train: min_frequency must be >= 1");
    for (int i = 0; i < o->n_special; i++) {
        const char *s = o->special_tokens[i];
        if (!s || !*s)
            return lt_set_error(LT_ERR_ARG,
                                "lt_tokenizer_train: special token %d is empty",
                                i);
        for (size_t k = 0, n = strlen(s); k < n;) {
            uint32_t cp;
            k += (size_t)lt_tok_utf8_next((const uint8_t *)s + k, n - k, &cp);
            if (cp == LT_TOK_BADCP)
                return lt_set_error(LT_ERR_ARG,
                                    "lt_tokenizer_train: special token %d is "
                                    "not valid UTF-8", i);
        }
        for (int j = 0; j < i; j++)
            if (strcmp(s, o->special_tokens[j]) == 0)
                return lt_set_error(LT_ERR_ARG,
                                    "lt_tokenizer_train: special token '%s' "
                                    "appears twice", s);
    }
    return LT_OK;
}

static void lt_trn_free(lt_trn *r)
{
    free(r->wpool);
    lt_tok_smap_free(&r->wmap);
    free(r->woff);
    free(r->wlen);
    free(r->wcount);
    free(r->wstamp);
    free(r->sym);
    lt_tok_imap_free(&r->pmap);
    free(r->pa);
    free(r->pb);
    free(r->phead);
    free(r->plastw);
    free(r->pstamp);
    free(r->pcnt);
    free(r->pdone);
    free(r->node_w);
    free(r->node_next);
    free(r->heap);
    free(r->touched);
}

lt_status lt_tokenizer_train(const char *const *texts, const size_t *lens,
                             size_t n_texts, const lt_tokenizer_train_opts *o,
                             lt_tokenizer **out)
{
    if (out)
        *out = NULL;
    if (!out || (!texts && n_texts))
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_train: NULL argument");
    lt_status st = lt_trn_check(o);
    if (st != LT_OK)
        return st;
    lt_trn r;
    memset(&r, 0, sizeof r);
    st = lt_trn_base(o, &r.t);
    for (size_t i = 0; i < n_texts && st == LT_OK; i++) {
        if (!texts[i] && (!lens || lens[i]))
            st = lt_set_error(LT_ERR_ARG, "lt_tokenizer_train: text %zu is NULL",
                              i);
        else if (texts[i])
            st = lt_trn_count(&r, (const uint8_t *)texts[i],
                              lens ? lens[i] : strlen(texts[i]));
    }
    if (st == LT_OK)
        st = lt_trn_run(&r, o);
    if (st == LT_OK)
        st = lt_tok_finish(r.t);
    lt_trn_free(&r);
    if (st != LT_OK) {
        lt_tokenizer_free(r.t);
        return st;
    }
    *out = r.t;
    return LT_OK;
}

lt_status lt_tokenizer_train_file(const char *path,
                                  const lt_tokenizer_train_opts *o,
                                  lt_tokenizer **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return lt_set_error(LT_ERR_ARG, "lt_tokenizer_train_file: NULL argument");
    char *buf = NULL;
    size_t n = 0;
    lt_status st = lt_read_file(path, &buf, &n);
    if (st == LT_OK) {
        const char *texts[1] = {buf};
        st = lt_tokenizer_train(texts, &n, 1, o, out);
    }
    free(buf);
    return st;
}
