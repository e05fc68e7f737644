/*
 * lethe/models.h - image classifiers (models layer): MLP ("mlp:784-512-10"),
 * a small CNN ("cnn": conv widths 32, 64, fc 128; "cnn:C1-C2-F" sets all
 * three), CIFAR-style ResNet-8 ("resnet8", widths 16/32/64)
 * and ResNet-18 ("resnet18", widths 64..512), both with a 3x3 stem,
 * BatchNorm and no max-pool. Parameter names and layouts equal PyTorch's
 * state_dict() of the twin modules in tests/golden/gen_models.py
 * (torchvision naming: conv1, bn1, layer1.0.conv1, ..., downsample.0, fc).
 */
#ifndef LETHE_MODELS_H
#define LETHE_MODELS_H

#include "lethe/nn.h"
#include "lethe/ops.h"
#include "lethe/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lt_model lt_model;

typedef struct {
    int channels, height, width; /* input image shape */
    int classes;
} lt_input_spec;

struct lt_model {
    char arch[128];       /* the spec string it was made from */
    lt_input_spec in;
    lt_params params;
    /* x [N, C, H, W] (MLP flattens) -> logits [N, classes]: the head
     * applied to the features. */
    lt_tensor *(*forward)(lt_ctx *c, lt_model *m, lt_tensor *x,
                          bool training);
    /* x [N, C, H, W] -> penultimate activations [N, D], the input of the
     * final linear layer (the head). */
    lt_tensor *(*features)(lt_ctx *c, lt_model *m, lt_tensor *x,
                           bool training);
    char head[32];        /* parameter prefix of the head ("fc", "fc2") */
    int widths[8];        /* arch details (hidden sizes, stage widths) */
    int n_widths;
};

/* Build the model named by arch for inputs of the given shape; parameters
 * are declared and allocated (zero) but not initialised. */
LT_API lt_status lt_model_create(const char *arch, lt_input_spec in,
                                 lt_model **out);
LT_API void lt_model_free(lt_model *m);
/* PyTorch-default initialisation (Linear/Conv: U(+-1/sqrt(fan_in)) ResNet
 * convs: Kaiming normal, fan_out; BatchNorm: weight 1, bias 0, running
 * mean 0, var 1), seeded. */
LT_API void lt_model_init(lt_model *m, uint64_t seed);
LT_API lt_tensor *lt_model_forward(lt_ctx *c, lt_model *m, lt_tensor *x,
                                   bool training);
/* Penultimate features of x [N, C, H, W] in eval mode (BatchNorm with its
 * running statistics): [N, D], the input of the final linear layer, so
 * lt_model_head(c, m, features) equals the eval-mode forward pass bit for
 * bit. mlp: the last hidden layer after its ReLU (the flattened input when
 * there is none); cnn: fc1 after its ReLU (D = 128, or F); resnets: the globally
 * average-pooled last stage (D = 64 / 512). Gradients are recorded when
 * the context records them. */
LT_API lt_tensor *lt_model_features(lt_ctx *c, lt_model *m, lt_tensor *x);
/* The final linear layer: features [N, D] -> logits [N, classes]. */
LT_API lt_tensor *lt_model_head(lt_ctx *c, lt_model *m, lt_tensor *features);
/* D, the width of the features (the head's input size). */
LT_API int lt_model_feature_dim(lt_model *m);
/* Save all parameters and buffers as F32 safetensors with PyTorch names;
 * the metadata records "lethe.arch" and "lethe.input" (C,H,W,K) plus the
 * caller's pairs (meta[2i] key, meta[2i+1] value). Atomic (temp+rename). */
LT_API lt_status lt_model_save(const lt_model *m, const char *path,
                               const char *const *meta, int n_meta);
/* Load a checkpoint written by lt_model_save: the architecture comes from
 * its metadata. */
LT_API lt_status lt_model_load(const char *path, lt_model **out);
/* Copy weights from a safetensors file (e.g. exported from PyTorch) into
 * m: every parameter must be present with the same shape; tensors m does
 * not have are an error (another architecture), except PyTorch's
 * "num_batches_tracked" counters. */
LT_API lt_status lt_model_load_weights(lt_model *m, const char *path);

/* Comma-separated list of the accepted architecture names. */
LT_API const char *lt_model_names(void);

#ifdef __cplusplus
}
#endif
#endif
