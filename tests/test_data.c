/*
 * test_data.c - datasets: the real Fashion-MNIST files (installed by the
 * build's dependency step), a CIFAR-10 test file written here, error cases
 * (unknown name, missing folder, truncated file), subsets, permutations and
 * augmentation.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

LT_TEST(fashion_mnist_loads)
{
    lt_dataset tr, te;
    LT_CHECK(lt_dataset_load("fashion-mnist", "train", &tr) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_dataset_load("fashion-mnist", "test", &te) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(tr.n == 60000 && te.n == 10000 && tr.c == 1 && tr.h == 28 &&
                 tr.classes == 10, "sizes %lld %lld", (long long)tr.n,
             (long long)te.n);
    /* The first training item is an ankle boot (9), the first test item too. */
    LT_CHECK(tr.y && tr.y[0] == 9 && te.y[0] == 9, "first labels");
    double s = 0;
    for (int64_t i = 0; tr.x && i < tr.n * 784; i++)
        s += tr.x[i];
    LT_CHECK(fabs(s / (double)(tr.n * 784)) < 0.01, "normalised mean %g",
             s / (double)(tr.n * 784));
    int64_t hist[10] = {0};
    for (int64_t i = 0; tr.y && i < tr.n; i++)
        hist[tr.y[i]]++;
    for (int k = 0; k < 10; k++)
        LT_CHECK(hist[k] == 6000, "class %d has %lld items", k,
                 (long long)hist[k]);
    lt_dataset sub;
    int64_t idx[3] = {5, 0, 59999};
    LT_CHECK(lt_dataset_subset(&tr, idx, 3, &sub) == LT_OK, "subset");
    LT_CHECK(sub.y[1] == tr.y[0] && sub.x[784 + 100] == tr.x[100] &&
                 sub.y[2] == tr.y[59999],
             "subset content");
    lt_dataset_free(&sub);
    idx[2] = 60000;
    LT_CHECK(lt_dataset_subset(&tr, idx, 3, &sub) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "60000"),
             "bad index accepted");
    lt_dataset_free(&tr);
    lt_dataset_free(&te);
}

LT_TEST(dataset_errors)
{
    lt_dataset d;
    LT_CHECK(lt_dataset_load("imagenet", "train", &d) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "unknown dataset"),
             "%s", lt_last_error());
    LT_CHECK(lt_dataset_load("fashion-mnist:/nonexistent/fm", "train", &d) ==
                     LT_ERR_IO &&
                 strstr(lt_last_error(), "/nonexistent/fm"),
             "%s", lt_last_error());
    LT_CHECK(lt_dataset_load("fashion-mnist", "validation", &d) == LT_ERR_ARG,
             "bad split accepted");
    /* A folder whose image file has a wrong magic number. */
    char dir[] = "/tmp/lethe_data_XXXXXX";
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256], spec[300];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    fwrite("\x00\x00\x08\x07\x00\x00\x00\x01", 1, 8, f);
    fclose(f);
    snprintf(spec, sizeof spec, "mnist:%s", dir);
    LT_CHECK(lt_dataset_load(spec, "train", &d) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), path),
             "%s", lt_last_error());
    unlink(path);
    rmdir(dir);
}

LT_TEST(cifar10_reads_and_rejects_truncation)
{
    char dir[] = "/tmp/lethe_cifar_XXXXXX", path[256], spec[300];
    LT_CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    uint8_t *rec = malloc(3073);
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 10000; i++) {
        rec[0] = (uint8_t)(i % 10);
        for (int k = 0; k < 3072; k++)
            rec[1 + k] = (uint8_t)((i + k) & 255);
        fwrite(rec, 1, 3073, f);
    }
    fclose(f);
    lt_dataset d;
    LT_CHECK(lt_dataset_load(spec, "test", &d) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(d.n == 10000 && d.c == 3 && d.y[7] == 7, "cifar shape/labels");
    /* item 1, green plane (k = 1024 + 5): byte (1 + 1029) & 255 */
    float want = ((float)((1 + 1029) & 255) / 255.0f - 0.4822f) / 0.2435f;
    LT_CHECK(d.x && fabsf(d.x[3072 + 1024 + 5] - want) < 1e-6f, "pixel");
    lt_dataset_free(&d);
    truncate(path, 3073 * 10 + 100);
    LT_CHECK(lt_dataset_load(spec, "test", &d) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "truncated at record 10"),
             "%s", lt_last_error());
    free(rec);
    unlink(path);
    rmdir(dir);
}

LT_TEST(permutation_and_augmentation)
{
    int64_t p[100], q[100];
    lt_permutation(p, 100, 7);
    lt_permutation(q, 100, 7);
    LT_CHECK(memcmp(p, q, sizeof p) == 0, "same seed, different order");
    int seen[100] = {0};
    for (int i = 0; i < 100; i++)
        seen[p[i]]++;
    for (int i = 0; i < 100; i++)
        LT_CHECK(seen[i] == 1, "not a permutation at %d", i);
    /* A 1x2x3 image: flip-only augmentation mirrors rows or keeps them. */
    float px[6] = {1, 2, 3, 4, 5, 6};
    int32_t lab = 3;
    lt_dataset d = {.n = 1, .c = 1, .h = 2, .w = 3, .classes = 4, .x = px,
                    .y = &lab, .std = {1}};
    lt_augment flip = {.hflip = true};
    lt_rng r;
    lt_rng_init(&r, 1);
    int flipped = 0, kept = 0;
    for (int t = 0; t < 64; t++) {
        float out[6];
        int32_t y;
        int64_t i0 = 0;
        lt_dataset_batch(&d, &i0, 1, out, &y, &flip, &r);
        LT_CHECK(y == 3, "label");
        if (out[0] == 3 && out[1] == 2 && out[2] == 1 && out[3] == 6)
            flipped++;
        else if (!memcmp(out, px, sizeof px))
            kept++;
    }
    LT_CHECK(flipped + kept == 64 && flipped > 10 && kept > 10,
             "flips %d keeps %d", flipped, kept);
    /* Crop with padding 1 only shifts: every output pixel is an input
     * pixel or the black value (-mean/std = 0 here). */
    lt_augment crop = {.crop_pad = 1};
    for (int t = 0; t < 32; t++) {
        float out[6];
        int32_t y;
        int64_t i0 = 0;
        lt_dataset_batch(&d, &i0, 1, out, &y, &crop, &r);
        for (int k = 0; k < 6; k++)
            LT_CHECK(out[k] == 0 || (out[k] >= 1 && out[k] <= 6), "pixel %g",
                     out[k]);
    }
}

/* Augmentation names; "auto" follows the images' colour. */
LT_TEST(augment_names)
{
    lt_dataset grey = {.c = 1}, colour = {.c = 3};
    lt_augment a;
    LT_CHECK(lt_augment_parse("auto", &grey, &a) == LT_OK &&
                 a.crop_pad == 2 && !a.hflip, "auto on grey");
    LT_CHECK(lt_augment_parse("auto", &colour, &a) == LT_OK &&
                 a.crop_pad == 4 && a.hflip, "auto on colour");
    LT_CHECK(lt_augment_parse("crop", &colour, &a) == LT_OK &&
                 a.crop_pad == 4 && !a.hflip, "crop");
    LT_CHECK(lt_augment_parse("none", &grey, &a) == LT_OK &&
                 a.crop_pad == 0 && !a.hflip, "none");
    LT_CHECK(lt_augment_parse("flip", &grey, &a) == LT_ERR_ARG &&
                 strstr(lt_last_error(), "'flip'"), "%s", lt_last_error());
}

LT_TEST_MAIN()
