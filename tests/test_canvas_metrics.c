/*
 * test_canvas_metrics.c - UnlearnCanvas' UA / IRA / CRA
 * (lethe/canvas_metrics.h) on a hand-made 3-style x 2-object table whose
 * scores are worked out by hand below, the counting of verdicts into
 * that table, and the bad-input errors.
 */
#include "lt_test.h"
#include "lethe/canvas_metrics.h"

#include <math.h>
#include <string.h>

/* 5 images per cell. Style hits (rows: styles, columns: objects):
 *   s0 5 4 | s1 1 0 | s2 2 5  -> style accuracies 0.9, 0.1, 0.7;
 * object hits:
 *   s0 5 2 | s1 4 0 | s2 2 5  -> object accuracies 11/15, 7/15. */
static const int64_t N[6] = {5, 5, 5, 5, 5, 5};
static const int64_t SH[6] = {5, 4, 1, 0, 2, 5};
static const int64_t OH[6] = {5, 2, 4, 0, 2, 5};

static void expect(lt_canvas_axis ax, int target, bool excl, double ua,
                   double ira, double cra)
{
    lt_canvas_table t = {3, 2, N, SH, OH};
    lt_canvas_scores s = {-1, -1, -1};
    LT_CHECK(lt_canvas_scores_of(&t, ax, target, excl, &s) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(fabs(s.ua - ua) < 1e-12 && fabs(s.ira - ira) < 1e-12 &&
             fabs(s.cra - cra) < 1e-12,
             "axis %d target %d excl %d: got UA %.6f IRA %.6f CRA %.6f, "
             "want %.6f %.6f %.6f", ax, target, excl, s.ua, s.ira, s.cra, ua,
             ira, cra);
}

LT_TEST(ua_ira_cra_of_a_hand_made_table)
{
    /* style 1: UA 1 - 0.1; IRA (0.9 + 0.7) / 2; CRA (11/15 + 7/15) / 2,
     * or without style 1's row (7/10 + 7/10) / 2 */
    expect(LT_CANVAS_STYLE, 1, false, 0.9, 0.8, 0.6);
    expect(LT_CANVAS_STYLE, 1, true, 0.9, 0.8, 0.7);
    /* style 0: UA 0.1; IRA (0.1 + 0.7) / 2; CRA without s0: (6/10 + 5/10)/2 */
    expect(LT_CANVAS_STYLE, 0, false, 1 - 0.9, 0.4, 0.6);
    expect(LT_CANVAS_STYLE, 0, true, 1 - 0.9, 0.4, 0.55);
    /* object 1: UA 1 - 7/15; IRA 11/15; CRA (0.9 + 0.1 + 0.7) / 3, or
     * over object 0's column only (1 + 0.2 + 0.4) / 3 */
    expect(LT_CANVAS_OBJECT, 1, false, 8.0 / 15, 11.0 / 15, 1.7 / 3);
    expect(LT_CANVAS_OBJECT, 1, true, 8.0 / 15, 11.0 / 15, 1.6 / 3);
}

LT_TEST(verdicts_count_into_the_table)
{
    /* rebuild the table above from per-image verdicts: in cell k, the
     * first SH[k] images get the right style, the first OH[k] the right
     * object, the others a wrong one */
    int32_t st[30], ob[30], sp[30], op[30];
    int m = 0;
    for (int s = 0; s < 3; s++)
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < 5; i++, m++) {
                st[m] = s;
                ob[m] = o;
                sp[m] = i < SH[s * 2 + o] ? s : (s + 1) % 3;
                op[m] = i < OH[s * 2 + o] ? o : 1 - o;
            }
    int64_t n[6], sh[6], oh[6];
    LT_CHECK(lt_canvas_count(3, 2, m, st, ob, sp, op, n, sh, oh) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(!memcmp(n, N, sizeof n) && !memcmp(sh, SH, sizeof sh) &&
             !memcmp(oh, OH, sizeof oh), "counted table differs");
    st[7] = 3;
    LT_CHECK(lt_canvas_count(3, 2, m, st, ob, sp, op, n, sh, oh) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "image 7"),
             "out-of-range prompt: %s", lt_last_error());
}

LT_TEST(canvas_scores_bad_input)
{
    lt_canvas_scores s;
    lt_canvas_table t = {3, 2, N, SH, OH};
    LT_CHECK(lt_canvas_scores_of(&t, LT_CANVAS_STYLE, 3, false, &s) ==
             LT_ERR_ARG, "target out of range");
    LT_CHECK(lt_canvas_scores_of(&t, LT_CANVAS_OBJECT, -1, false, &s) ==
             LT_ERR_ARG, "negative target");
    int64_t bad[6] = {5, 5, 5, 6, 5, 5};
    t.style_hits = bad;
    LT_CHECK(lt_canvas_scores_of(&t, LT_CANVAS_STYLE, 0, false, &s) ==
                 LT_ERR_ARG && strstr(lt_last_error(), "style 1, object 1"),
             "hits above n: %s", lt_last_error());
    lt_canvas_table one = {1, 2, N, SH, OH};
    LT_CHECK(lt_canvas_scores_of(&one, LT_CANVAS_STYLE, 0, false, &s) ==
             LT_ERR_ARG, "a single style");
}

LT_TEST_MAIN()
