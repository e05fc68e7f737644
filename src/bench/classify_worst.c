/*
 * classify_worst.c - lt_bench_worst_case (lethe/bench.h): the
 * classification table of classify.c for a random forget set and for the
 * worst-case set of the same size (lt_select_worst on the original model,
 * cached in the cache folder as an indices file), then a third table with
 * the change of each mean from the one to the other.
 */
#include "bench/bench_dist.h"
#include "bench/classify.h"
#include "lethe/dist.h"
#include "lethe/select.h"

#include <stdio.h>
#include <string.h>

static void lt_wc_progress(void *ud, int it, int n, double obj)
{
    const lt_cls *b = ud;
    NOTE(b, "  selection: upper iteration %d/%d, mean loss of the set %.5f",
         it, n, obj);
}

/* The worst-case set of the random spec's size, cached as an indices
 * file; its path into path. */
static lt_status lt_wc_select(lt_cls *b, char *path, size_t n)
{
    lt_forget_set r = {0};
    lt_status st = lt_forget_select(b->c->forget, &b->tr, 1, &r);
    lt_select_cfg c = lt_select_defaults();
    c.m = r.n_forget;
    lt_forget_set_free(&r);
    if (st != LT_OK)
        return lt_set_error(st, "forget: %s", lt_last_error());
    char key[256];
    snprintf(key, sizeof key, "worst|v2|%016llx|%lld|%d|%d|%d|%g|%g|%g|%d%d",
             (unsigned long long)b->orig_key, (long long)c.m, c.upper_epochs,
             c.lower_epochs, c.lower_steps, (double)c.lower_lr,
             (double)c.upper_lr, (double)c.gamma, (int)c.init_uniform,
             (int)c.eval_losses);
    snprintf(path, n, "%s/worst-%016llx.idx", b->c->cache,
             (unsigned long long)lt_bench_fnv(key));
    if (lt_bench_exists(path)) {
        NOTE(b, "worst-case set: cached %s", path);
        return LT_OK;
    }
    c.progress = lt_wc_progress;
    c.ud = b;
    lt_select_result s = {0};
    lt_forget_set fs = {0};
    st = lt_select_worst(b->orig, &b->tr, &c, &s);
    if (st == LT_OK)
        st = lt_forget_from_list(s.idx, s.n, b->tr.n, LT_FORGET_INDICES,
                                 "worst-case", &fs);
    if (st == LT_OK)
        st = lt_forget_save(&fs, path);
    if (st == LT_OK)
        NOTE(b, "worst-case set: %lld items selected in %.1f s (%s)",
             (long long)s.n, s.seconds, path);
    lt_forget_set_free(&fs);
    lt_select_result_free(&s);
    return st;
}

/* The third table: random -> worst-case means per row and column. */
static lt_status lt_wc_compare(lt_report *r)
{
    const lt_table *a = &r->tables[0], *w = &r->tables[1];
    lt_table_col cols[7] = {{"label", "Method", NULL, 0, false}};
    int src[7] = {0, C_UA, C_RA, C_TA, C_MIA, C_GAP, C_RTE};
    for (int c = 1; c < 7; c++)
        cols[c] = (lt_table_col){lt_cls_cols[src[c]].key,
                                 lt_cls_cols[src[c]].head, NULL, 0, false};
    lt_table *t = lt_report_table(r, "random → worst-case (means; change)",
                                  cols, 7);
    for (int i = 0; t && i < a->n_rows; i++) {
        const lt_table_row *ra = &a->rows[i];
        const lt_table_row *rw = lt_table_find(w, C_LABEL, ra->text[C_LABEL]);
        lt_table_row *o = lt_table_add_row(t);
        if (!o)
            return LT_ERR_NOMEM;
        snprintf(o->text[0], LT_TABLE_TEXT, "%s", ra->text[C_LABEL]);
        for (int c = 1; c < 7; c++) {
            double ma, mw, s;
            lt_table_row_stats(ra, src[c], &ma, &s);
            if (!rw || !rw->n || !ra->n) {
                snprintf(o->text[c], LT_TABLE_TEXT, "%s", ra->n ?
                         "failed on one set" : "failed");
                continue;
            }
            lt_table_row_stats(rw, src[c], &mw, &s);
            snprintf(o->text[c], LT_TABLE_TEXT, "%.2f → %.2f (%+.2f)", ma,
                     mw, mw - ma);
        }
    }
    return t ? LT_OK : LT_ERR_ARG;
}

static lt_status lt_bench_worst_case_body(const lt_bench_classify_cfg *c,
    lt_report *out)
{
    double t0 = lt_clock_seconds();
    *out = (lt_report){0};
    if (strncmp(c->forget, "random:", 7))
        return lt_set_error(LT_ERR_ARG, "worst-case: forget must be "
                            "random:P%% or random:N, not '%s'", c->forget);
    lt_cls *b;
    char path[1200], spec[1300];
    lt_status st = lt_cls_open(c, &b);
    if (st == LT_OK) {
        snprintf(out->title, sizeof out->title, "%s, %s: random (%s) -> "
                 "worst-case set of the same size, %d seed%s", b->tr.name,
                 c->model, c->forget, c->seeds, c->seeds > 1 ? "s" : "");
        st = lt_cls_settings(b, out);
    }
    if (st == LT_OK) /* under mpirun: rank 0 selects, the others load */
        st = lt_bench_agree(lt_dist_rank() == 0 ? lt_wc_select(b, path,
                            sizeof path) : LT_OK, "worst-case selection");
    if (st == LT_OK && lt_dist_rank() != 0)
        st = lt_wc_select(b, path, sizeof path);
    if (st == LT_OK)
        st = lt_cls_table(b, out, "random forget set");
    if (st == LT_OK) {
        snprintf(spec, sizeof spec, "indices:%s", path);
        b->forget = spec;
        st = lt_report_set(out, "worst_case_set", path);
    }
    if (st == LT_OK)
        st = lt_cls_table(b, out, "worst-case forget set");
    if (st == LT_OK)
        st = lt_wc_compare(out);
    lt_cls_close(b);
    out->seconds = lt_clock_seconds() - t0;
    return st;
}

/* The run in the precision its config asks for (core.h). */
lt_status lt_bench_worst_case(const lt_bench_classify_cfg *c, lt_report *out)
{
    lt_precision old =
        lt_precision_enter(c ? c->precision : LT_PRECISION_DEFAULT);
    lt_status r = lt_bench_worst_case_body(c, out);
    lt_set_default_precision(old);
    return r;
}
