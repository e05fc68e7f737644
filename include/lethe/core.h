/*
 * lethe/core.h - the core layer of Lethe: error values, the per-step arena,
 * float32 tensors, the reverse-mode autograd tape and the counter-based RNG.
 *
 * Conventions used by every public function of the library:
 *   - A function that makes a tensor returns it, or NULL on error. The error
 *     code and a human-readable message are then available from
 *     lt_last_status() / lt_last_error() (thread-local).
 *   - Every op accepts NULL inputs and returns NULL without touching the
 *     message, so a chain of ops can be checked once at the end:
 *         lt_tensor *y = lt_relu(c, lt_linear(c, x, w, b));
 *         if (!y) fprintf(stderr, "%s\n", lt_last_error());
 *   - Library code never aborts the process and never prints.
 *   - Tensors are float32, contiguous, row-major, at most LT_MAX_DIMS dims.
 *   - Tensors made by ops live in the context's arena until lt_ctx_reset();
 *     parameters live outside it (lt_tensor_wrap on caller memory).
 *   - The API is exactly the functions declared with LT_API in
 *     include/lethe/ (the headers); the shared library exports nothing else
 *     (tests/api_check.sh checks it).
 *
 * Process-global effects. Most state lives in an lt_ctx or a model, but a
 * few things are shared by the whole process; a program embedding Lethe
 * should know them:
 *   - Threads: lt_set_num_threads() sets OpenMP's thread count
 *     (omp_set_num_threads, for every OpenMP user of the process) and
 *     OpenBLAS's (the OpenMP build shares OpenMP's pool). Library loops run
 *     in OpenMP parallel regions on that pool. Random draws do not depend
 *     on the thread count (see the RNG below), but floating-point sums do
 *     in their last bits: OpenBLAS and the parallel reductions split them
 *     per thread. The same seed and thread count give identical numbers;
 *     another thread count can differ by rounding (measured: weights by up
 *     to 3e-7 after a few unlearning epochs, enough to move a Fashion-MNIST
 *     UA by about one point after FT's epochs).
 *   - libsvm: the first MIA-efficacy fit (lt_mia_efficacy) installs a
 *     silent print function with svm_set_print_string_function, so libsvm
 *     stays quiet for the rest of the process, other callers included.
 *   - LETHE_DATA: the dataset loaders (lt_dataset_dir, lethe/data.h) read
 *     this environment variable to find data folders; nothing is written
 *     to the environment by the library.
 *   - The `lethe` command (not the library) re-executes itself once with
 *     OPENBLAS_CORETYPE set when Debian's OpenBLAS picked its slow generic
 *     kernels on an AVX2/AVX-512 CPU (LETHE_BLAS_DETECT=1 prevents it).
 *   - Errors are thread-local (lt_last_error), so threads do not share
 *     messages; the library never prints and never exits.
 */
#ifndef LETHE_CORE_H
#define LETHE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a public function: liblethe is built with hidden visibility, so
 * only these are exported from the shared library. */
#if defined(__GNUC__) || defined(__clang__)
#define LT_API __attribute__((visibility("default")))
#else
#define LT_API
#endif

#define LT_MAX_DIMS 6
#define LT_NODE_MAX_IN 4
#define LT_NODE_MAX_ARGS 8

/* ---- error values ---------------------------------------------------- */

typedef enum {
    LT_OK = 0,
    LT_ERR_ARG,     /* bad argument (NULL, out of range, unknown name) */
    LT_ERR_SHAPE,   /* shapes do not agree */
    LT_ERR_ARENA,   /* the arena has no room left for this step */
    LT_ERR_NOMEM,   /* malloc failed */
    LT_ERR_GRAD,    /* backward from a tensor with no gradient path, ... */
    LT_ERR_NAN,     /* a loss or gradient is NaN or infinite */
    LT_ERR_IO,      /* a file could not be opened, read or written */
    LT_ERR_FORMAT,  /* a file is truncated or corrupt */
    LT_ERR_STATE    /* call made in the wrong state */
} lt_status;

/* Set the thread's last error (printf-style message); returns code. */
LT_API lt_status lt_set_error(lt_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
LT_API lt_status lt_last_status(void);
LT_API const char *lt_last_error(void);
LT_API void lt_clear_error(void);
LT_API const char *lt_status_name(lt_status code);

/* ---- tensors ----------------------------------------------------------- */

enum {
    LT_REQUIRES_GRAD = 1u << 0, /* backward writes into ->grad */
    LT_EXTERNAL = 1u << 1       /* data/grad owned by the caller (a parameter) */
};

struct lt_node;

typedef struct lt_tensor {
    int ndim;
    int64_t shape[LT_MAX_DIMS];
    int64_t numel;
    float *data;
    float *grad;          /* same shape as data; NULL when not computed */
    uint32_t flags;
    struct lt_node *node; /* op that made this tensor (NULL for leaves) */
} lt_tensor;

/* ---- context: arena + tape + mode + RNG -------------------------------- */

typedef struct lt_ctx lt_ctx;

/* Create a context whose arena holds arena_bytes (all op outputs, saved
 * values, gradients and tape nodes of one step). NULL on failure. */
LT_API lt_ctx *lt_ctx_new(size_t arena_bytes);
LT_API void lt_ctx_free(lt_ctx *c);
/* Forget every tensor and tape node made since the last reset. O(1). */
LT_API void lt_ctx_reset(lt_ctx *c);
LT_API size_t lt_ctx_used(const lt_ctx *c);
LT_API size_t lt_ctx_peak(const lt_ctx *c);
LT_API size_t lt_ctx_capacity(const lt_ctx *c);

/* Gradient recording. When disabled (evaluation), ops record nothing and
 * their outputs never require a gradient. Returns the previous setting. */
LT_API bool lt_set_grad_enabled(lt_ctx *c, bool enabled);
LT_API bool lt_grad_enabled(const lt_ctx *c);

/* Frozen weights: the caller promises that caller-owned tensors (the
 * parameters, LT_EXTERNAL) keep their values while this is on, so that
 * bf16 mode rounds each weight once per context and keeps the rounded copy
 * across steps instead of rounding it at every call (generation and
 * sampling turn it on; a weight changed while it is on is not seen).
 * Turning it off, or lt_ctx_free, drops the copies. Off by default.
 * Returns the previous setting. */
LT_API bool lt_set_frozen_weights(lt_ctx *c, bool frozen);
LT_API bool lt_frozen_weights(const lt_ctx *c);
/* While frozen weights are on: the buffer of `bytes` kept for key (made
 * on first use, when *fresh is set and the caller fills it); NULL when
 * off or out of memory. */
LT_API void *lt_ctx_keep(lt_ctx *c, const void *key, size_t bytes,
                         bool *fresh);

/* Raw arena memory, 64-byte aligned, uninitialised (or zeroed). */
LT_API void *lt_alloc(lt_ctx *c, size_t bytes);
LT_API void *lt_alloc_zero(lt_ctx *c, size_t bytes);

/* New arena tensors. shape has ndim entries, each >= 1 (0 allowed only
 * where an op says so). Data uninitialised for lt_new, zero for lt_zeros. */
LT_API lt_tensor *lt_new(lt_ctx *c, int ndim, const int64_t *shape);
LT_API lt_tensor *lt_zeros(lt_ctx *c, int ndim, const int64_t *shape);
LT_API lt_tensor *lt_new_like(lt_ctx *c, const lt_tensor *t);
LT_API lt_tensor *lt_new1(lt_ctx *c, int64_t d0);
LT_API lt_tensor *lt_new2(lt_ctx *c, int64_t d0, int64_t d1);
LT_API lt_tensor *lt_new3(lt_ctx *c, int64_t d0, int64_t d1, int64_t d2);
LT_API lt_tensor *lt_new4(lt_ctx *c, int64_t d0, int64_t d1, int64_t d2,
                          int64_t d3);
LT_API lt_tensor *lt_from_data(lt_ctx *c, int ndim, const int64_t *shape,
                               const float *src);
LT_API lt_tensor *lt_scalar(lt_ctx *c, float v);

/* Describe caller-owned memory as a tensor (a parameter or a persistent
 * buffer). grad may be NULL; if non-NULL the tensor requires grad and
 * backward accumulates into it. Returns LT_OK or LT_ERR_ARG/SHAPE. */
LT_API lt_status lt_tensor_wrap(lt_tensor *t, float *data, float *grad,
                                int ndim, const int64_t *shape);

/* Mark an arena tensor as needing a gradient (e.g. an input image for an
 * attack); backward then allocates and fills t->grad. */
LT_API lt_tensor *lt_requires_grad(lt_tensor *t);

/* Shape helpers. */
LT_API int64_t lt_shape_numel(int ndim, const int64_t *shape);
LT_API bool lt_same_shape(const lt_tensor *a, const lt_tensor *b);
/* Writes "[2, 3, 4]" into buf (always NUL-terminated). */
LT_API const char *lt_shape_str(const lt_tensor *t, char *buf, size_t n);
/* The same for a bare shape of ndim dims (ndim 0: "[]"); returns buf. */
LT_API const char *lt_shape_fmt(int ndim, const int64_t *shape, char *buf,
                                size_t n);
/* Resolve a possibly negative axis; -1 (and an error set) if out of range. */
LT_API int lt_axis(const lt_tensor *t, int axis, const char *op);

/* ---- autograd tape ----------------------------------------------------- */

typedef lt_status (*lt_backward_fn)(lt_ctx *c, struct lt_node *n);

typedef struct lt_node {
    lt_backward_fn backward;
    const char *op;                 /* name for messages */
    lt_tensor *out;
    lt_tensor *in[LT_NODE_MAX_IN];  /* inputs that may need a gradient */
    int n_in;
    int64_t iarg[LT_NODE_MAX_ARGS]; /* op-specific integers */
    float farg[LT_NODE_MAX_ARGS];   /* op-specific floats */
    void *saved;                    /* op-specific arena data */
    void *saved2;
    struct lt_node *prev;
} lt_node;

/* True when grad recording is on and at least one input requires a
 * gradient: the op should then call lt_record(). */
LT_API bool lt_needs_grad(const lt_ctx *c, int n_in, lt_tensor *const *in);

/* Record an op on the tape: sets out->node and LT_REQUIRES_GRAD on out and
 * returns the node, whose iarg/farg/saved fields the op may fill. Call it
 * only when lt_needs_grad() is true; NULL means the arena is exhausted (the
 * error is set; the op must return NULL). Typical use:
 *     if (lt_needs_grad(c, 1, &x)) {
 *         lt_node *n = lt_record(c, y, relu_backward, "relu", 1, &x);
 *         if (!n) return NULL;
 *     }
 */
LT_API lt_node *lt_record(lt_ctx *c, lt_tensor *out, lt_backward_fn bw,
                          const char *op, int n_in, lt_tensor *const *in);

/* Inside a backward function: the gradient buffer of input i (already
 * allocated; accumulate into it with +=), or NULL when that input does not
 * need a gradient. The output gradient is n->out->grad. */
LT_API float *lt_in_grad(lt_ctx *c, lt_node *n, int i);

/* Run backward from a scalar loss: fills ->grad of every tensor that
 * requires a gradient on a path to the loss. Gradients of parameters
 * (LT_EXTERNAL) and of marked inputs are ACCUMULATED (+=): zero them
 * between steps. Intermediate (op-output) gradients are released during
 * backward to save memory; leaves, parameters and the start tensor keep
 * theirs. Errors: LT_ERR_GRAD (no gradient path, not a scalar), LT_ERR_NAN
 * (loss not finite), LT_ERR_ARENA. */
LT_API lt_status lt_backward(lt_ctx *c, lt_tensor *loss);
/* As lt_backward, but starts from a given output gradient (same numel). */
LT_API lt_status lt_backward_with(lt_ctx *c, lt_tensor *out,
                                  const float *grad_out);

/* Gradient-ready events, for work that can start on a parameter's gradient
 * while the rest of the backward pass runs (data parallelism overlaps its
 * all-reduce with backward so: lt_dp_overlap in lethe/train.h). With a hook
 * set, each backward pass first calls fn(ud, t, LT_GRAD_EXPECTED) once for
 * every distinct caller-owned tensor (LT_EXTERNAL and LT_REQUIRES_GRAD)
 * that a recorded node takes as input, then, while it runs,
 * fn(ud, t, LT_GRAD_FINAL) once per such tensor as soon as its gradient is
 * complete (the oldest node that uses it has run or was skipped). The
 * calls come from the calling thread. fn NULL removes the hook;
 * lt_ctx_reset keeps it. */
typedef enum { LT_GRAD_EXPECTED, LT_GRAD_FINAL } lt_grad_event;
typedef void (*lt_grad_hook)(void *ud, lt_tensor *t, lt_grad_event ev);
LT_API void lt_ctx_set_grad_hook(lt_ctx *c, lt_grad_hook fn, void *ud);

/* ---- RNG (counter-based: value i of stream s depends only on seed, s, i) -- */

typedef struct {
    uint64_t seed;
    uint64_t counter;
} lt_rng;

LT_API void lt_rng_init(lt_rng *r, uint64_t seed);
LT_API uint64_t lt_rng_u64(lt_rng *r);
/* Uniform in [0, 1). */
LT_API float lt_rng_uniform(lt_rng *r);
LT_API float lt_rng_normal(lt_rng *r);
/* Uniform integer in [0, n). */
LT_API uint64_t lt_rng_below(lt_rng *r, uint64_t n);
/* Stateless: the i-th 64-bit value of the stream (seed, stream). Any thread
 * can compute any element, so results do not depend on the thread count. */
LT_API uint64_t lt_hash3(uint64_t seed, uint64_t stream, uint64_t i);
LT_API float lt_u64_to_uniform(uint64_t x);
/* Fill n floats; consumes n counter values (thread-count independent). */
LT_API void lt_rng_fill_uniform(lt_rng *r, float *x, int64_t n, float lo,
                                float hi);
LT_API void lt_rng_fill_normal(lt_rng *r, float *x, int64_t n, float mean,
                               float std);
/* The context's RNG (dropout, etc.). */
LT_API lt_rng *lt_ctx_rng(lt_ctx *c);

/* ---- clock -------------------------------------------------------------- */

/* Seconds on the monotonic clock (CLOCK_MONOTONIC) from an arbitrary
 * origin: the one clock for durations (run times in reports, progress). */
LT_API double lt_clock_seconds(void);

/* ---- precision ------------------------------------------------------- */

/* The arithmetic of the matrix products (lt_matmul, lt_linear, lt_bmm, the
 * convolutions, attention's products). LT_PRECISION_FP32: fp32 throughout.
 * LT_PRECISION_BF16: mixed precision as autocast does it: the operands of
 * every matrix product are rounded to bfloat16 (round to nearest even) and
 * multiplied with fp32 accumulation into fp32 results; weights, gradients,
 * optimizer state, masks, losses and every other op stay fp32. With oneDNN
 * (the default build) the bf16 products run on AMX or AVX512-BF16 where the
 * CPU has them; elsewhere oneDNN's fallback or the OpenBLAS build's
 * emulation (round, then sgemm) computes the same products. */
/* LT_PRECISION_DEFAULT (0, what a zeroed config struct holds) means "the
 * process default": the `precision` field of the library's run configs
 * (lt_train_cfg, lt_unlearn_cfg, lt_bench_classify_cfg, ...) left at 0
 * runs in lt_default_precision(), which `--precision` on the command line
 * sets; a config naming FP32 or BF16 runs in that precision whatever the
 * default (the run makes it the process default while it runs and then
 * restores the old one, so two runs of different precisions must not run
 * at the same time in one process). A context's own precision is never
 * LT_PRECISION_DEFAULT. */
typedef enum {
    LT_PRECISION_DEFAULT = 0,
    LT_PRECISION_FP32 = 1,
    LT_PRECISION_BF16 = 2
} lt_precision;

/* The precision of contexts created from now on (lt_ctx_new); the process
 * default starts as LT_PRECISION_FP32 (LT_PRECISION_DEFAULT sets that
 * again). Set it once at start-up. */
LT_API void lt_set_default_precision(lt_precision p);
LT_API lt_precision lt_default_precision(void);
/* p, with LT_PRECISION_DEFAULT replaced by the process default. */
LT_API lt_precision lt_precision_resolve(lt_precision p);
/* The start of a library run configured with precision p: makes
 * lt_precision_resolve(p) the process default and returns the previous
 * default, which the run hands back to lt_set_default_precision at its
 * end. */
LT_API lt_precision lt_precision_enter(lt_precision p);
/* The precision of one context's ops (LT_PRECISION_DEFAULT: the process
 * default); returns the previous setting. */
LT_API lt_precision lt_set_precision(lt_ctx *c, lt_precision p);
LT_API lt_precision lt_ctx_precision(const lt_ctx *c);
/* "fp32" / "bf16" ("default" for LT_PRECISION_DEFAULT). lt_precision_parse
 * returns LT_ERR_ARG (message naming the value) for anything else. */
LT_API const char *lt_precision_name(lt_precision p);
LT_API lt_status lt_precision_parse(const char *name, lt_precision *out);
/* The matrix-product backend compiled in: "onednn" or "openblas". */
LT_API const char *lt_backend_name(void);

/* ---- threads ---------------------------------------------------------- */

LT_API void lt_set_num_threads(int n);
LT_API int lt_num_threads(void);

#ifdef __cplusplus
}
#endif
#endif
