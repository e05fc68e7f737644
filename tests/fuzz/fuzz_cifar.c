/*
 * fuzz_cifar.c - libFuzzer harness of the CIFAR-10 / CIFAR-100 binary
 * loader (lt_dataset_load "cifar10:DIR" / "cifar100:DIR", split test: one
 * file of exactly 10000 records, label byte(s) then 3072 pixels).
 *
 * Input: byte 0 holds flags (bit 0: CIFAR-100, else CIFAR-10; bit 1: pad
 * the file to full length), byte 1 a signed length change (-2..2) used
 * when padding, the rest is the start of the file. Padding fills the file
 * up to 10000 records (plus the change) with valid records, so the
 * record count, the trailing-bytes check and the last record are reached;
 * without it the loader sees a short file. Oracles: the file loads
 * exactly when it is 10000 records long with every label below the class
 * count; then it gives 10000 items of 3x32x32 whose labels are the file's
 * label bytes (the fine label for CIFAR-100).
 *
 * A padded load converts 30 million pixels (about a second under ASan),
 * so the libFuzzer build (LETHE_LIBFUZZER) skips padded inputs and fuzzes
 * the record reader on short files; the replay build (ctest) runs the
 * padded seeds of the corpus, which cover the full-length checks.
 */
#include "fuzz.h"

#define FZ_RECORDS 10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    bool c100 = data[0] & 1, pad = data[0] & 2;
    int delta = (int)(int8_t)data[1] % 3;
    const uint8_t *p = data + 2;
    size_t n = size - 2, lb = c100 ? 2 : 1, rec = lb + 3072;
#ifdef LETHE_LIBFUZZER
    if (pad)
        return 0;
#endif
    const uint8_t *file = p;
    uint8_t *buf = NULL;
    if (pad) {
        size_t total = (size_t)((long)(FZ_RECORDS * rec) + delta);
        if (n > total)
            n = total;
        buf = malloc(total);
        FZ_CHECK(buf != NULL, "out of memory");
        memcpy(buf, p, n);
        for (size_t i = n; i < total; i++) {
            size_t o = i % rec;
            buf[i] = o < lb ? (uint8_t)(o == lb - 1 ? 3 : 1) : 0x80;
        }
        file = buf;
        n = total;
    }
    fz_write(c100 ? "test.bin" : "test_batch.bin", file, n);
    char spec[600];
    snprintf(spec, sizeof spec, "%s:%s", c100 ? "cifar100" : "cifar10",
             fz_dir());
    /* the file is valid exactly when it has 10000 records with labels
     * below the class count */
    bool valid = n == FZ_RECORDS * rec;
    for (size_t i = 0; valid && i < FZ_RECORDS; i++)
        valid = file[i * rec + lb - 1] < (c100 ? 100 : 10);
    lt_dataset d;
    lt_status s = lt_dataset_load(spec, "test", &d);
    FZ_CHECK((s == LT_OK) == valid, "status %s for a %s file",
             lt_status_name(s), valid ? "valid" : "bad");
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT, "unexpected status %s",
                 lt_status_name(s));
        FZ_CHECK(!d.x && !d.y, "failed load left data behind");
    } else {
        FZ_CHECK(d.n == FZ_RECORDS && d.c == 3 && d.h == 32 && d.w == 32 &&
                 d.classes == (c100 ? 100 : 10), "geometry");
        for (int64_t i = 0; i < d.n; i++)
            FZ_CHECK(d.y[i] >= 0 && d.y[i] < d.classes &&
                     d.y[i] == file[(size_t)i * rec + lb - 1],
                     "label %lld", (long long)i);
        lt_dataset_free(&d);
    }
    free(buf);
    return 0;
}
