/*
 * dm_unlearn_fmn.c - the data of `lethe dm unlearn --method fmn`: the
 * FashionCanvas training pictures of one style or object (--concept
 * style:NAME | object:NAME), each with its canonical caption ("An {object}
 * image in {style} style.", UnlearnCanvas' prompt) encoded by the model's
 * text encoder, and the marks of the concept's word and the <eos> in it
 * (lt_fmn_canvas_data of lethe/dm_canvas_unlearn.h). The script's own
 * prompts ("a photo of X", "a photo in the style of X") use words outside
 * FashionCanvas' vocabulary.
 */
#include "cli/common.h"
#include "cli/dm.h"
#include "lethe/dm_canvas_unlearn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "style:NAME" / "object:NAME" -> the index (*is_style says which), or
 * an exit code. */
static int parse_target(const char *concept, bool *is_style, int *idx)
{
    const char *name = NULL;
    if (!strncmp(concept, "style:", 6)) {
        *is_style = true;
        name = concept + 6;
        *idx = lt_canvas_style_find(name);
    } else if (!strncmp(concept, "object:", 7)) {
        *is_style = false;
        name = concept + 7;
        *idx = lt_canvas_object_find(name);
    }
    if (!name || *idx < 0) {
        fprintf(stderr, "lethe dm unlearn: --concept '%s': fmn takes "
                "style:NAME or object:NAME of FashionCanvas (e.g. style:neon, "
                "object:bag)\n", concept);
        return 2;
    }
    return 0;
}

int cli_dm_fmn_data(const char *concept, const char *data, lt_clip *clip,
                    const lt_clip_vocab *v, cli_dm_fmn_set *out)
{
    memset(out, 0, sizeof *out);
    bool is_style = false;
    int idx = -1, rc = parse_target(concept, &is_style, &idx);
    if (rc)
        return rc;
    if (!data)
        return cli_usage("dm unlearn", "--method fmn needs --data canvas:DIR "
                         "(the FashionCanvas folder: its pictures of the "
                         "concept)");
    lt_canvas cv = {0};
    const char *dir = !strncmp(data, "canvas:", 7) ? data + 7 : data;
    if (lt_canvas_load(dir, "train", &cv) != LT_OK)
        return cli_fail("dm unlearn", "--data");
    lt_fmn_canvas_set set;
    if (lt_fmn_canvas_data(&cv, clip, v, is_style, idx, &set) != LT_OK)
        rc = cli_fail("dm unlearn", "--data");
    else
        *out = (cli_dm_fmn_set){set.n, set.x, set.ctx, set.mask, set.ids,
                                set.word};
    lt_canvas_free(&cv);
    return rc;
}

void cli_dm_fmn_free(cli_dm_fmn_set *s)
{
    free(s->x);
    free(s->ctx);
    free(s->mask);
    free(s->ids);
    memset(s, 0, sizeof *s);
}
