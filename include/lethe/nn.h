/*
 * lethe/nn.h - parameters of a model in one flat buffer with named views
 * (nn layer). Trainable parameters occupy theta[0, n_train) and share
 * grad[0, n_train), so optimizers and masks see one vector; buffers (batch
 * norm running statistics) follow in theta[n_train, n_total) and get no
 * gradient. Names follow PyTorch's state_dict() ("layer1.0.conv1.weight").
 */
#ifndef LETHE_NN_H
#define LETHE_NN_H

#include "lethe/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LT_PARAM_NAME_MAX 96

typedef struct {
    char name[LT_PARAM_NAME_MAX];
    bool trainable;
    int64_t offset;     /* into theta */
    lt_tensor t;        /* view: data = theta + offset (grad too if trainable) */
} lt_param;

typedef struct {
    lt_param *p;
    int count, cap;
    int64_t n_train, n_total;
    float *theta, *grad; /* NULL until lt_params_finalize */
    bool final;
} lt_params;

LT_API void lt_params_init(lt_params *ps);
LT_API void lt_params_free(lt_params *ps);
/* Declare a parameter (trainable) or buffer; returns its index or -1.
 * Must be called before lt_params_finalize. Duplicate names are errors. */
LT_API int lt_params_add(lt_params *ps, const char *name, int ndim,
                         const int64_t *shape, bool trainable);
/* Allocate theta (zeroed) and grad, and point every view at them. */
LT_API lt_status lt_params_finalize(lt_params *ps);
/* The view of a parameter by name, or NULL (error set). */
LT_API lt_tensor *lt_params_get(lt_params *ps, const char *name);
/* lt_params_get of a printf-formatted name ("layers.%d.weight", i). */
LT_API lt_tensor *lt_params_getf(lt_params *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
LT_API lt_tensor *lt_params_at(lt_params *ps, int index);
LT_API void lt_params_zero_grad(lt_params *ps);

#ifdef __cplusplus
}
#endif
#endif
