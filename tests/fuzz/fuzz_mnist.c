/*
 * fuzz_mnist.c - libFuzzer harness of the MNIST / Fashion-MNIST dataset
 * loader (lt_dataset_load over IDX image and label files: shape and label
 * checks on top of lt_idx_load).
 *
 * Input: byte 0 picks the set (even: mnist, odd: fashion-mnist), bytes
 * 1..4 are the little-endian length L of the images file, the next L
 * bytes are t10k-images-idx3-ubyte and the rest t10k-labels-idx1-ubyte.
 * Oracles, when it loads: N 28x28 grey images and N labels, every label
 * below 10, and (for raw files) each pixel and label equal to the bytes
 * of the files.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint32_t L = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
                 (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
    const uint8_t *p = data + 5;
    size_t rest = size - 5;
    if (L > rest)
        L = (uint32_t)rest;
    fz_write("t10k-images-idx3-ubyte", p, L);
    fz_write("t10k-labels-idx1-ubyte", p + L, rest - L);
    char spec[600];
    snprintf(spec, sizeof spec, "%s:%s", data[0] & 1 ? "fashion-mnist"
                                                     : "mnist", fz_dir());
    lt_dataset d;
    lt_status s = lt_dataset_load(spec, "test", &d);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT, "unexpected status %s",
                 lt_status_name(s));
        FZ_CHECK(!d.x && !d.y, "failed load left data behind");
        return 0;
    }
    FZ_CHECK(d.c == 1 && d.h == 28 && d.w == 28 && d.classes == 10,
             "geometry %d %d %d %d", d.c, d.h, d.w, d.classes);
    for (int64_t i = 0; i < d.n; i++)
        FZ_CHECK(d.y[i] >= 0 && d.y[i] < 10, "label %lld", (long long)i);
    bool gz = (L >= 2 && p[0] == 0x1f && p[1] == 0x8b) ||
              (rest - L >= 2 && p[L] == 0x1f && p[L + 1] == 0x8b);
    if (gz) { /* compressed: the sizes below are of the gzip stream */
        lt_dataset_free(&d);
        return 0;
    }
    FZ_CHECK(L == 16 + (size_t)d.n * 784 && rest - L == 8 + (size_t)d.n,
             "n %lld does not match the files", (long long)d.n);
    for (int64_t i = 0; i < d.n; i++)
        FZ_CHECK(d.y[i] == p[L + 8 + i], "label %lld", (long long)i);
    for (int64_t i = 0; i < d.n * 784; i++) {
        float v = ((float)p[16 + i] / 255.0f - d.mean[0]) / d.std[0];
        FZ_CHECK(d.x[i] == v, "pixel %lld", (long long)i);
    }
    lt_dataset_free(&d);
    return 0;
}
