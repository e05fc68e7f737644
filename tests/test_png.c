/*
 * test_png.c - PNG read/write (lethe/png.h): round trips of grey and RGB
 * images of odd sizes, the formats libpng turns into 8-bit grey / RGB
 * (palette, 16-bit, alpha, 1-bit grey: files built here by hand), grid
 * layout and value mapping at known pixels, and the error cases
 * (truncated, garbage, too large, missing) with no file left behind.
 */
#include "lt_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static void round_trip(int w, int h, int c)
{
    size_t n = (size_t)w * h * c;
    uint8_t *pix = malloc(n);
    for (size_t i = 0; i < n; i++)
        pix[i] = (uint8_t)(i * 37 + i / 7);
    const char *p = lt_test_path("rt.png");
    LT_CHECK(lt_png_write(p, w, h, c, pix) == LT_OK, "%s", lt_last_error());
    int rw, rh, rc;
    uint8_t *back = NULL;
    LT_CHECK(lt_png_read(p, &rw, &rh, &rc, &back) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(rw == w && rh == h && rc == c, "%dx%dx%d read as %dx%dx%d", w, h,
             c, rw, rh, rc);
    LT_CHECK(back && !memcmp(back, pix, n), "%dx%dx%d pixels differ", w, h, c);
    LT_CHECK(!lt_test_tmp_left(p), "temporary left beside %s", p);
    free(back);
    free(pix);
}

LT_TEST(png_round_trip)
{
    round_trip(1, 1, 1);
    round_trip(7, 3, 1);
    round_trip(33, 17, 3);
    round_trip(5, 129, 3);
}

LT_TEST(png_deterministic_bytes)
{
    uint8_t pix[4 * 3 * 3];
    for (int i = 0; i < 36; i++)
        pix[i] = (uint8_t)(i * 7);
    const char *a = lt_test_path("da.png"), *b = lt_test_path("db.png");
    LT_CHECK(lt_png_write(a, 4, 3, 3, pix) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_png_write(b, 4, 3, 3, pix) == LT_OK, "%s", lt_last_error());
    char *da, *db;
    size_t na, nb;
    LT_CHECK(lt_read_file(a, &da, &na) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_read_file(b, &db, &nb) == LT_OK, "%s", lt_last_error());
    LT_CHECK(na == nb && !memcmp(da, db, na), "same pixels, different bytes");
    LT_CHECK(na > 8 && !memcmp(da, "\x89PNG\r\n\x1a\n", 8), "no signature");
    free(da);
    free(db);
}

/* ---- hand-made PNG files ------------------------------------------------- */

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* Append chunk type/data to buf at *n (with length and CRC). */
static void chunk(uint8_t *buf, size_t *n, const char *type,
                  const uint8_t *data, uint32_t len)
{
    *n += put32(buf + *n, len);
    memcpy(buf + *n, type, 4);
    if (len)
        memcpy(buf + *n + 4, data, len);
    uLong crc = crc32(0, buf + *n, len + 4);
    *n += len + 4;
    *n += put32(buf + *n, (uint32_t)crc);
}

/* A whole PNG: IHDR (w, h, depth, colour type), optional PLTE / tRNS, and
 * raw (the filtered scanlines) deflated into one IDAT. Returns its size. */
static size_t make_png(uint8_t *buf, int w, int h, int depth, int type,
                       const uint8_t *plte, int plte_n, const uint8_t *trns,
                       int trns_n, const uint8_t *raw, size_t raw_n)
{
    size_t n = 0;
    memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
    n = 8;
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = (uint8_t)depth;
    ihdr[9] = (uint8_t)type;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    chunk(buf, &n, "IHDR", ihdr, 13);
    if (plte_n)
        chunk(buf, &n, "PLTE", plte, (uint32_t)plte_n * 3);
    if (trns_n)
        chunk(buf, &n, "tRNS", trns, (uint32_t)trns_n);
    uLongf zn = compressBound(raw_n);
    uint8_t *z = malloc(zn);
    compress(z, &zn, raw, raw_n);
    chunk(buf, &n, "IDAT", z, (uint32_t)zn);
    free(z);
    chunk(buf, &n, "IEND", NULL, 0);
    return n;
}

static void write_raw(const char *p, const uint8_t *d, size_t n)
{
    LT_CHECK(lt_write_file_atomic(p, d, n) == LT_OK, "%s", lt_last_error());
}

LT_TEST(png_formats_become_grey_or_rgb)
{
    uint8_t buf[1024], raw[64];
    int w, h, c;
    uint8_t *pix;
    /* palette with transparency: 3x1, indices 2 0 1 -> RGB, alpha dropped */
    const uint8_t plte[9] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    const uint8_t trns[3] = {0, 128, 255};
    const uint8_t praw[4] = {0, 2, 0, 1};
    size_t n = make_png(buf, 3, 1, 8, 3, plte, 3, trns, 3, praw, 4);
    write_raw(lt_test_path("pal.png"), buf, n);
    LT_CHECK(lt_png_read(lt_test_path("pal.png"), &w, &h, &c, &pix) == LT_OK, "%s",
             lt_last_error());
    const uint8_t want_pal[9] = {70, 80, 90, 10, 20, 30, 40, 50, 60};
    LT_CHECK(w == 3 && h == 1 && c == 3 && !memcmp(pix, want_pal, 9),
             "palette image read wrong (%dx%dx%d)", w, h, c);
    free(pix);
    /* 16-bit grey + alpha, 2x1: high bytes kept, alpha dropped */
    const uint8_t graw[9] = {0, 0x12, 0x34, 0xff, 0xff, 0xab, 0xcd, 0x00, 0x01};
    n = make_png(buf, 2, 1, 16, 4, NULL, 0, NULL, 0, graw, 9);
    write_raw(lt_test_path("ga16.png"), buf, n);
    LT_CHECK(lt_png_read(lt_test_path("ga16.png"), &w, &h, &c, &pix) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(w == 2 && c == 1 && pix[0] == 0x12 && pix[1] == 0xab,
             "16-bit grey+alpha read wrong: %d %d", pix ? pix[0] : -1,
             pix ? pix[1] : -1);
    free(pix);
    /* 1-bit grey, 10x2: bits 1010000011 / 0101111100 -> 0 or 255 */
    const uint8_t braw[6] = {0, 0xa0, 0xc0, 0, 0x5f, 0x00};
    n = make_png(buf, 10, 2, 1, 0, NULL, 0, NULL, 0, braw, 6);
    write_raw(lt_test_path("g1.png"), buf, n);
    LT_CHECK(lt_png_read(lt_test_path("g1.png"), &w, &h, &c, &pix) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(w == 10 && h == 2 && c == 1, "1-bit grey is %dx%dx%d", w, h, c);
    const uint8_t want_bits[20] = {255, 0, 255, 0, 0, 0, 0, 0, 255, 255,
                                   0, 255, 0, 255, 255, 255, 255, 255, 0, 0};
    LT_CHECK(pix && !memcmp(pix, want_bits, 20), "1-bit grey expanded wrong");
    free(pix);
    /* RGBA 8-bit, 1x1 -> RGB */
    const uint8_t araw[5] = {0, 1, 2, 3, 4};
    n = make_png(buf, 1, 1, 8, 6, NULL, 0, NULL, 0, araw, 5);
    write_raw(lt_test_path("rgba.png"), buf, n);
    LT_CHECK(lt_png_read(lt_test_path("rgba.png"), &w, &h, &c, &pix) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(c == 3 && pix[0] == 1 && pix[1] == 2 && pix[2] == 3,
             "RGBA read wrong");
    free(pix);
    (void)raw;
}

LT_TEST(png_grid_layout_and_values)
{
    /* 3 RGB images 2x3 (h 2, w 3), 2 columns: 2*(3+2)+2 = 12 wide, 2 rows
     * 2*(2+2)+2 = 10 high */
    float x[3 * 3 * 2 * 3];
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 6; p++)
                x[(i * 3 + k) * 6 + p] = -1.0f + 0.1f * (float)(i * 10 + k * 3 + p);
    x[0] = -5.0f;                     /* clamped to 0 */
    x[(2 * 3 + 2) * 6 + 5] = 7.0f;   /* clamped to 255 */
    const char *p = lt_test_path("grid.png");
    LT_CHECK(lt_png_grid(p, x, 3, 3, 2, 3, 2, -1.0f, 1.0f) == LT_OK, "%s",
             lt_last_error());
    int w, h, c;
    uint8_t *g = NULL;
    LT_CHECK(lt_png_read(p, &w, &h, &c, &g) == LT_OK, "%s", lt_last_error());
    LT_CHECK(w == 12 && h == 10 && c == 3, "grid is %dx%dx%d", w, h, c);
    if (!g || w != 12 || h != 10 || c != 3)
        return;
#define G(xx, yy, k) g[((yy) * 12 + (xx)) * 3 + (k)]
    LT_CHECK(G(0, 0, 0) == 0 && G(1, 1, 2) == 0 && G(5, 2, 1) == 0 &&
             G(11, 9, 0) == 0, "padding is not black");
    LT_CHECK(G(2, 2, 0) == 0, "clamp low: %d", G(2, 2, 0));
    /* image 0, channel 1, pixel (y 1, x 2) = p 5: -1 + 0.1 * 8 = -0.2 ->
     * round(255 * 0.4) = 102 */
    LT_CHECK(G(4, 3, 1) == 102, "image 0 ch 1 (1,2): %d", G(4, 3, 1));
    /* image 1 starts at x 7, y 2; channel 0 pixel (0, 1) = -1 + 0.1 * 11 =
     * 0.1 -> round(255 * 0.55) = 140 */
    LT_CHECK(G(8, 2, 0) == 140, "image 1 ch 0 (0,1): %d", G(8, 2, 0));
    /* image 2 starts at x 2, y 6; channel 2 pixel (1, 2) was set to 7 */
    LT_CHECK(G(4, 7, 2) == 255, "clamp high: %d", G(4, 7, 2));
    /* the empty fourth cell (x 7.., y 6..) is black */
    LT_CHECK(G(8, 7, 0) == 0 && G(9, 6, 2) == 0, "empty cell not black");
#undef G
    free(g);
    /* grey grid of one image: 1 column, value mapping on [0, 1] */
    float one[4] = {0.0f, 0.5f, 1.0f, NAN};
    LT_CHECK(lt_png_grid(p, one, 1, 1, 2, 2, 4, 0.0f, 1.0f) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_png_read(p, &w, &h, &c, &g) == LT_OK, "%s", lt_last_error());
    LT_CHECK(w == 6 && h == 6 && c == 1, "grey grid is %dx%dx%d", w, h, c);
    LT_CHECK(g && g[2 * 6 + 2] == 0 && g[2 * 6 + 3] == 128 &&
             g[3 * 6 + 2] == 255 && g[3 * 6 + 3] == 0, "grey grid values");
    free(g);
    LT_CHECK(lt_png_grid(p, one, 1, 2, 2, 2, 1, 0.0f, 1.0f) == LT_ERR_ARG,
             "2 channels accepted");
    LT_CHECK(lt_png_grid(p, one, 1, 1, 2, 2, 1, 1.0f, 1.0f) == LT_ERR_ARG,
             "empty range accepted");
}

static void expect_format_error(const char *name, const void *d, size_t n)
{
    const char *p = lt_test_path(name);
    write_raw(p, d, n);
    int w = 1, h = 1, c = 1;
    uint8_t *pix = (uint8_t *)1;
    lt_status s = lt_png_read(p, &w, &h, &c, &pix);
    LT_CHECK(s == LT_ERR_FORMAT, "%s: status %s", name, lt_status_name(s));
    LT_CHECK(strstr(lt_last_error(), p) != NULL, "%s: message '%s' does not "
             "name the file", name, lt_last_error());
    LT_CHECK(pix == NULL && w == 0 && h == 0 && c == 0, "%s: outputs not "
             "cleared", name);
}

LT_TEST(png_read_errors)
{
    uint8_t pix[40 * 30 * 3];
    for (size_t i = 0; i < sizeof pix; i++)
        pix[i] = (uint8_t)(i * 13 + (i >> 5));
    const char *p = lt_test_path("good.png");
    LT_CHECK(lt_png_write(p, 40, 30, 3, pix) == LT_OK, "%s", lt_last_error());
    char *good;
    size_t n;
    LT_CHECK(lt_read_file(p, &good, &n) == LT_OK, "%s", lt_last_error());
    expect_format_error("trunc_half.png", good, n / 2);
    expect_format_error("trunc_end.png", good, n - 5); /* IEND cut */
    expect_format_error("trunc_sig.png", good, 5);
    expect_format_error("empty.png", good, 0);
    expect_format_error("garbage.png", "this is not a picture at all", 28);
    char *bad = malloc(n);
    memcpy(bad, good, n);
    bad[n / 2] ^= 0x55; /* inside IDAT: CRC mismatch */
    expect_format_error("crc.png", bad, n);
    memcpy(bad, good, n);
    bad[16] = 0x7f;     /* width 2^30+40: beyond LT_PNG_MAX_SIDE */
    expect_format_error("huge.png", bad, n);
    free(bad);
    free(good);
    /* a valid file wider than LT_PNG_MAX_SIDE */
    uint8_t wide[20001] = {0}, zbuf[512];
    size_t m = make_png(zbuf, 20000, 1, 8, 0, NULL, 0, NULL, 0, wide,
                        sizeof wide);
    expect_format_error("wide.png", zbuf, m);
    /* 16000x16000 promised by a 100-byte file: refused before allocating */
    uint8_t buf[256], raw[2] = {0, 0};
    m = make_png(buf, 16000, 16000, 8, 2, NULL, 0, NULL, 0, raw, 2);
    expect_format_error("forged.png", buf, m);
    int w, h, c;
    uint8_t *q;
    LT_CHECK(lt_png_read(lt_test_path("absent.png"), &w, &h, &c, &q) == LT_ERR_IO,
             "missing file not LT_ERR_IO");
    LT_CHECK(strstr(lt_last_error(), "absent.png") != NULL, "message '%s'",
             lt_last_error());
}

LT_TEST(png_write_errors_leave_nothing)
{
    uint8_t pix[12] = {0};
    const char *p = lt_test_path("nothing.png");
    LT_CHECK(lt_png_write(p, 2, 2, 2, pix) == LT_ERR_ARG, "2 channels");
    LT_CHECK(lt_png_write(p, 0, 2, 1, pix) == LT_ERR_ARG, "width 0");
    LT_CHECK(lt_png_write(p, LT_PNG_MAX_SIDE + 1, 1, 1, pix) == LT_ERR_ARG,
             "too wide");
    LT_CHECK(!lt_test_exists(p) && !lt_test_tmp_left(p), "a file was left behind");
    const char *q = lt_test_path("no-such-folder/x.png");
    LT_CHECK(lt_png_write(q, 2, 2, 3, pix) == LT_ERR_IO, "missing folder");
    LT_CHECK(strstr(lt_last_error(), "no-such-folder/x.png") != NULL,
             "message '%s'", lt_last_error());
    /* a failed write over an existing file keeps it */
    LT_CHECK(lt_png_write(p, 2, 2, 3, pix) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_png_write(p, 2, 2, 7, pix) == LT_ERR_ARG, "7 channels");
    int w, h, c;
    uint8_t *b;
    LT_CHECK(lt_png_read(p, &w, &h, &c, &b) == LT_OK && w == 2 && c == 3,
             "existing file damaged");
    free(b);
}

LT_TEST_MAIN()
