/*
 * lt_test.h - the unit-test harness: registration and checks, a
 * finite-difference gradient checker and a loader for the PyTorch golden
 * files written by the tests/golden generators.
 *
 * A test file defines tests with LT_TEST(name) { ... } and ends with
 * LT_TEST_MAIN(). Each binary prints one line per failure and closes with
 * "N passed, N failed"; its exit status is non-zero on any failure.
 */
#ifndef LT_TEST_H
#define LT_TEST_H

#include "lethe/lethe.h"

#include <stdio.h>

typedef void (*lt_test_fn)(void);
void lt_test_register(const char *name, lt_test_fn fn);
int lt_test_run_all(int argc, char **argv);
/* Records a failure of the current test (file:line and message). */
void lt_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LT_TEST(name)                                                    \
    static void name(void);                                              \
    __attribute__((constructor)) static void name##_reg(void)            \
    {                                                                    \
        lt_test_register(#name, name);                                   \
    }                                                                    \
    static void name(void)

#define LT_TEST_MAIN()                                                   \
    int main(int argc, char **argv) { return lt_test_run_all(argc, argv); }

#define LT_CHECK(cond, ...)                                              \
    do {                                                                 \
        if (!(cond))                                                     \
            lt_test_fail(__FILE__, __LINE__, __VA_ARGS__);               \
    } while (0)

/* This binary's temporary folder (made on first use, removed with all it
 * holds when the binary exits); "" if it could not be made. */
const char *lt_test_tmpdir(void);

/* A fashion-mnist:DIR spec (into spec) naming a copy of the first 1000
 * training and 300 test items of the real Fashion-MNIST (in this binary's
 * temporary folder); NULL if it could not be written. */
const char *lt_test_small_fmnist(char *spec, size_t n);

/* "<tmpdir>/name" in one of 8 rotating buffers (so a few can be used at
 * once); and whether a path exists. */
const char *lt_test_path(const char *name);
bool lt_test_exists(const char *path);

/* NULL when the JSON file at path has "precision": want and "backend":
 * lt_backend_name() at its top level, else what is wrong (a static
 * buffer): the two fields every result file records. */
const char *lt_test_json_precision(const char *path, const char *want);

/* True when a temporary of an atomic write of path ("<path>.tmp*", any
 * suffix) exists beside it. */
bool lt_test_tmp_left(const char *path);

/* Between these two calls failures are counted but not reported, so a
 * test can check that a checker rejects bad input. _end returns the count. */
void lt_test_expect_fail_begin(void);
int lt_test_expect_fail_end(void);

/* A tensor op result that must not be NULL; prints the library error. */
#define LT_CHECK_OK(t)                                                   \
    LT_CHECK((t) != NULL, "%s is NULL: %s", #t, lt_last_error())

/* Elementwise: |got - want| <= rtol * (|want| + 0.01 * max|want|) + 1e-7.
 * Returns true when all close; on failure reports the worst element. */
bool lt_check_close(const char *file, int line, const char *what,
                    const float *got, const float *want, int64_t n,
                    double rtol);
#define LT_CHECK_CLOSE(what, got, want, n, rtol)                          \
    lt_check_close(__FILE__, __LINE__, what, got, want, n, rtol)

/* Whole-array: ||got - want||_2 <= tol * ||want||_2. For gradients of deep
 * ReLU networks, where one ReLU input within float32 rounding of zero may
 * fall on the other side of the kink in a correct implementation, so an
 * elementwise bound is the wrong instrument. */
bool lt_check_rel_l2(const char *file, int line, const char *what,
                     const float *got, const float *want, int64_t n,
                     double tol);
#define LT_CHECK_REL_L2(what, got, want, n, tol)                          \
    lt_check_rel_l2(__FILE__, __LINE__, what, got, want, n, tol)

/* ---- finite-difference gradient check ------------------------------------
 * fn builds an output tensor (any shape) from the inputs; the checker forms
 * L = sum(out * r) for a fixed random r, compares d L / d input from
 * lt_backward_with() to central differences (perturbation eps, L summed in
 * double) for up to max_checks elements per input, and reports mismatches
 * beyond |a - n| <= tol * max(1, |a|, |n|). Inputs are external tensors
 * (lt_gc_input) so the checker can reset the arena between evaluations.
 * Inputs that should not be checked (integer-like, running stats) are made
 * with requires_grad = false. Returns true when all checks pass. */
typedef lt_tensor *(*lt_gc_fn)(lt_ctx *c, lt_tensor **in, void *ud);
lt_tensor *lt_gc_input(int ndim, const int64_t *shape, bool requires_grad,
                       uint64_t seed, float lo, float hi);
void lt_gc_input_free(lt_tensor *t);
bool lt_gradcheck(const char *file, int line, const char *what, lt_gc_fn fn,
                  void *ud, int n_in, lt_tensor **in, double eps, double tol,
                  int max_checks);
#define LT_GRADCHECK(what, fn, ud, n_in, in, eps, tol)                    \
    lt_gradcheck(__FILE__, __LINE__, what, fn, ud, n_in, in, eps, tol, 200)

/* ---- golden files ----------------------------------------------------------
 * Format (little endian): "LTG1", u32 count, then per entry: u32 name
 * length, name bytes, u32 ndim, i64 shape[ndim], f32 data[numel]. */
typedef struct {
    char name[128];
    int ndim;
    int64_t shape[LT_MAX_DIMS];
    int64_t numel;
    float *data;
} lt_golden_entry;

typedef struct {
    int count;
    lt_golden_entry *e;
} lt_golden;

/* Loads tests/golden/<file>; NULL (and a test failure) if unreadable. */
lt_golden *lt_golden_load(const char *file);
void lt_golden_free(lt_golden *g);
/* The entry called name; NULL (and a test failure) if absent. */
const lt_golden_entry *lt_golden_get(const lt_golden *g, const char *name);
/* The entry as a new arena tensor (optionally requiring grad). */
lt_tensor *lt_golden_tensor(lt_ctx *c, const lt_golden *g, const char *name,
                            bool requires_grad);
/* The entry as an int32 array in the arena (for labels, ids, indices). */
int32_t *lt_golden_ints(lt_ctx *c, const lt_golden *g, const char *name);
/* Compare a float array with entry name at rtol. */
bool lt_golden_check(const char *file, int line, const lt_golden *g,
                     const char *name, const float *got, int64_t n,
                     double rtol);
#define LT_GOLDEN_CHECK(g, name, got, n)                                  \
    lt_golden_check(__FILE__, __LINE__, g, name, got, n, 1e-4)

#endif
