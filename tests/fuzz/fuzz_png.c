/*
 * fuzz_png.c - libFuzzer harness of the PNG reader (lt_png_read; it reads
 * a path, so the input is written to a scratch file).
 *
 * Oracles: a failed read is LT_ERR_FORMAT (or LT_ERR_NOMEM) and leaves the
 * outputs zero / NULL; a successful one gives 1 or 3 channels and sides in
 * 1..LT_PNG_MAX_SIDE, and writing the pixels back (lt_png_write) and reading
 * them again gives the same size and the same bytes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fz_write("in.png", data, size);
    int w, h, c;
    uint8_t *pix;
    lt_status s = lt_png_read(p, &w, &h, &c, &pix);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM, "status %s",
                 lt_status_name(s));
        FZ_CHECK(!pix && !w && !h && !c, "failed read left outputs set");
        return 0;
    }
    FZ_CHECK(c == 1 || c == 3, "%d channels", c);
    FZ_CHECK(w >= 1 && h >= 1 && w <= LT_PNG_MAX_SIDE && h <= LT_PNG_MAX_SIDE,
             "size %dx%d", w, h);
    const char *q = fz_path("out.png");
    FZ_CHECK(lt_png_write(q, w, h, c, pix) == LT_OK, "rewrite");
    int w2, h2, c2;
    uint8_t *pix2;
    FZ_CHECK(lt_png_read(q, &w2, &h2, &c2, &pix2) == LT_OK, "reread");
    FZ_CHECK(w2 == w && h2 == h && c2 == c, "%dx%dx%d reread as %dx%dx%d", w,
             h, c, w2, h2, c2);
    FZ_CHECK(!memcmp(pix, pix2, (size_t)w * h * c), "pixels changed");
    free(pix);
    free(pix2);
    return 0;
}
