/*
 * test_io.c - tests of the io layer's IDX reader: a valid file (raw and
 * gzip), and every kind of damage (bad magic, wrong type, truncated header,
 * truncated payload, trailing bytes, missing file, a header whose size
 * overflows, a header promising more than the file can hold) gives a clear
 * error.
 */
#include "lt_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char lt_tmp_path[64];

/* Writes bytes to a fresh temp file (gzip-compressed if gz). */
static const char *lt_write_tmp(const uint8_t *b, size_t n, bool gz)
{
    strcpy(lt_tmp_path, "/tmp/lethe_idx_XXXXXX");
    int fd = mkstemp(lt_tmp_path);
    if (fd < 0)
        return NULL;
    if (gz) {
        close(fd);
        gzFile f = gzopen(lt_tmp_path, "wb");
        gzwrite(f, b, (unsigned)n);
        gzclose(f);
    } else {
        if (write(fd, b, n) != (ssize_t)n)
            lt_test_fail(__FILE__, __LINE__, "short write");
        close(fd);
    }
    return lt_tmp_path;
}

static const uint8_t lt_good[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
                                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

LT_TEST(idx_reads_raw_and_gzip)
{
    for (int gz = 0; gz < 2; gz++) {
        const char *p = lt_write_tmp(lt_good, sizeof lt_good, gz);
        lt_idx x;
        LT_CHECK(lt_idx_load(p, &x) == LT_OK, "gz=%d: %s", gz, lt_last_error());
        LT_CHECK(x.ndim == 3 && x.shape[0] == 2 && x.shape[1] == 2 &&
                     x.shape[2] == 3 && x.numel == 12,
                 "gz=%d: shape", gz);
        LT_CHECK(x.data && x.data[0] == 1 && x.data[11] == 12, "gz=%d: data",
                 gz);
        lt_idx_free(&x);
        unlink(p);
    }
}

static void lt_expect_bad(const uint8_t *b, size_t n, const char *needle)
{
    const char *p = lt_write_tmp(b, n, false);
    lt_idx x;
    lt_status s = lt_idx_load(p, &x);
    LT_CHECK(s == LT_ERR_FORMAT, "expected a format error for '%s', got %d",
             needle, (int)s);
    LT_CHECK(strstr(lt_last_error(), needle) && strstr(lt_last_error(), p),
             "message '%s' lacks '%s' or the path", lt_last_error(), needle);
    LT_CHECK(x.data == NULL, "data left allocated");
    unlink(p);
}

LT_TEST(idx_rejects_damaged_files)
{
    uint8_t b[sizeof lt_good + 1];
    memcpy(b, lt_good, sizeof lt_good);
    b[0] = 1;
    lt_expect_bad(b, sizeof lt_good, "bad magic");
    memcpy(b, lt_good, sizeof lt_good);
    b[2] = 0x0d; /* float data */
    lt_expect_bad(b, sizeof lt_good, "not unsigned byte");
    lt_expect_bad(lt_good, 10, "truncated IDX header");
    lt_expect_bad(lt_good, sizeof lt_good - 1, "truncated");
    memcpy(b, lt_good, sizeof lt_good);
    b[sizeof lt_good] = 99;
    lt_expect_bad(b, sizeof lt_good + 1, "trailing bytes");
    lt_expect_bad(lt_good, 2, "too short");
    lt_idx x;
    LT_CHECK(lt_idx_load("/nonexistent/lethe.idx", &x) == LT_ERR_IO &&
                 strstr(lt_last_error(), "/nonexistent/lethe.idx"),
             "missing file: %s", lt_last_error());
}

/* Headers whose element count overflows int64 if formed before the check:
 * (2^32-1)^2 (a 12-byte file), and 65536 * 65536 * 2^31 * 2, which wraps to
 * exactly 0 and was accepted as an empty array of that shape. */
LT_TEST(idx_rejects_overflowing_headers)
{
    const uint8_t sq[] = {0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff,
                          0xff, 0xff, 0xff, 0xff};
    lt_expect_bad(sq, sizeof sq, "implausible size");
    const uint8_t wrap[] = {0, 0, 8, 4, 0, 1, 0, 0, 0, 1, 0, 0,
                            0x80, 0, 0, 0, 0, 0, 0, 2};
    lt_expect_bad(wrap, sizeof wrap, "implausible size");
}

/* A header promising 4 GiB in a 12-byte file is refused by its size,
 * before the data is allocated (raw: exact size; gzip: the 1032:1 bound of
 * deflate). */
LT_TEST(idx_checks_file_size_before_allocating)
{
    const uint8_t big[] = {0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0};
    lt_expect_bad(big, sizeof big, "the file holds 0");
    const char *p = lt_write_tmp(big, sizeof big, true);
    lt_idx x;
    LT_CHECK(lt_idx_load(p, &x) == LT_ERR_FORMAT &&
                 strstr(lt_last_error(), "more than a gzip file"),
             "gzip: %s", lt_last_error());
    unlink(p);
}

/* FIPS 180-4 test vectors, and the streaming form over odd splits. */
LT_TEST(sha256_known_answers)
{
    char hex[65];
    lt_sha256("", 0, hex);
    LT_CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                          "a495991b7852b855"), "empty: %s", hex);
    lt_sha256("abc", 3, hex);
    LT_CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                          "b410ff61f20015ad"), "abc: %s", hex);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lt_sha256(m, strlen(m), hex);
    LT_CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167"
                          "f6ecedd419db06c1"), "448 bits: %s", hex);
    lt_sha256_ctx s;
    lt_sha256_init(&s);
    char a[1001];
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++)
        lt_sha256_update(&s, a, i % 2 ? 999 : 1001); /* 10^6 in all */
    lt_sha256_hex(&s, hex);
    LT_CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e"
                          "046d39ccc7112cd0"), "a x 10^6: %s", hex);
}

LT_TEST_MAIN()
