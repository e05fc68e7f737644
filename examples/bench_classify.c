/*
 * bench_classify.c - run a benchmark protocol from C: the classification
 * unlearning table (lethe/bench.h) at a small setting, printed as
 * Markdown and written as JSON.
 *
 *     cc bench_classify.c $(pkg-config --cflags --libs lethe)
 *     ./a.out [DATA [CACHE]]
 *
 * DATA is a dataset name (default fashion-mnist), CACHE the folder for the
 * trained models (default out/example-cache).
 */
#include <lethe/lethe.h>

#include <stdio.h>

/* The protocol's news, one line each. */
static void on_progress(void *ud, const lt_bench_event *ev)
{
    (void)ud;
    if (ev->kind == LT_BENCH_NOTE)
        printf("%s\n", ev->text);
}

int main(int argc, char **argv)
{
    lt_bench_classify_cfg c = lt_bench_classify_defaults();
    c.data = argc > 1 ? argv[1] : "fashion-mnist";
    c.cache = argc > 2 ? argv[2] : "out/example-cache";
    c.model = "mlp:784-32-10"; /* small and quick: one seed, one epoch */
    c.methods = "ft,ga,salun";
    c.seeds = 1;
    c.train_epochs = 1;
    c.progress = on_progress;
    lt_report r;
    lt_status st = lt_bench_classify(&c, &r);
    if (st == LT_OK) {
        lt_report_markdown(&r, stdout);
        st = lt_report_write_json(&r, "bench_classify.json");
    }
    if (st != LT_OK)
        fprintf(stderr, "bench_classify: %s\n", lt_last_error());
    lt_report_free(&r);
    return st == LT_OK ? 0 : 1;
}
