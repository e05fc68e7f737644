/*
 * paths.c - the output discipline of every `lethe` command (paths.h):
 * collect the files a command reads and writes, then refuse, before any
 * work, an output that would overwrite an input or another output.
 */
#include "cli/paths.h"

#include "lethe/fortunes.h"
#include "lethe/io.h"
#include "lethe/lm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_check_paths(const char *cmd, const cli_path *in, int n_in,
                    const cli_path *out, int n_out)
{
    for (int i = 0; i < n_out; i++) {
        const cli_path *o = &out[i];
        if (!o->path || !*o->path)
            continue;
        const cli_path *hit = NULL;
        for (int j = 0; !hit && j < n_in; j++)
            if (lt_same_file(o->path, in[j].path))
                hit = &in[j];
        for (int j = 0; !hit && j < i; j++)
            if (lt_same_file(o->path, out[j].path))
                hit = &out[j];
        if (!hit)
            continue;
        fprintf(stderr, "lethe %s: %s %s is the same file as %s", cmd,
                o->what, o->path, hit->what);
        if (strcmp(o->path, hit->path))
            fprintf(stderr, " %s", hit->path);
        fprintf(stderr, "\n");
        return 2;
    }
    return 0;
}

/* A copy the lists own, formatted; NULL (and p->full) when out of room. */
static const char *cli_paths_own(cli_paths *p, const char *fmt, ...)
{
    if (p->n_owned >= (int)(sizeof p->owned / sizeof *p->owned)) {
        p->full = true;
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s) {
        p->full = true;
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p->owned[p->n_owned++] = s;
}

void cli_paths_add(cli_paths *p, bool out, const char *what,
                   const char *path)
{
    if (!path || !*path)
        return;
    int *n = out ? &p->n_out : &p->n_in;
    const char *w = cli_paths_own(p, "%s", what),
               *s = cli_paths_own(p, "%s", path);
    if (*n >= CLI_PATHS_MAX || !w || !s) {
        p->full = true;
        return;
    }
    (out ? p->out : p->in)[(*n)++] = (cli_path){w, s};
}

void cli_paths_in_list(cli_paths *p, const char *what, const char *list)
{
    for (const char *s = list; s && *s;) {
        size_t k = strcspn(s, ",");
        const char *one = k ? cli_paths_own(p, "%.*s", (int)k, s) : NULL;
        cli_paths_add(p, false, what, one);
        s += k + (s[k] == ',');
    }
}

void cli_paths_in_forget(cli_paths *p, const char *what, const char *spec)
{
    if (spec && !strncmp(spec, "indices:", 8))
        cli_paths_add(p, false, what, spec + 8);
}

void cli_paths_in_fortune(cli_paths *p, const char *what, const char *dir,
                          const char *name)
{
    if (name && !strchr(name, '/'))
        name = cli_paths_own(p, "%s/%s", dir ? dir : LT_FORTUNE_DIR, name);
    cli_paths_add(p, false, what, name);
}

/* The files lt_llama_save writes into a Hugging Face folder (and
 * lt_llama_load reads from one; src/models/llama_io.c). */
static const char *const cli_hf_files[] = {"model.safetensors", "config.json",
                                           NULL};

static bool cli_is_st(const char *path)
{
    size_t n = strlen(path), k = strlen(".safetensors");
    return n >= k && !strcmp(path + n - k, ".safetensors");
}

static void cli_paths_lm(cli_paths *p, bool out, const char *what,
                         const char *model, const char *tok_what,
                         const char *tok)
{
    if (!model || !*model)
        return;
    cli_paths_add(p, out, what, model);
    if (!cli_is_st(model))
        cli_paths_add_dir(p, out, what, model, cli_hf_files);
    if (!tok) {
        char t[4200];
        lt_lm_tokenizer_path(model, t, sizeof t);
        cli_paths_add(p, out, cli_paths_own(p, "%s's tokenizer", what), t);
    }
    cli_paths_add(p, out, tok_what, tok);
}

void cli_paths_in_lm(cli_paths *p, const char *what, const char *model,
                     const char *tok_what, const char *tok)
{
    cli_paths_lm(p, false, what, model, tok_what, tok);
}

void cli_paths_out_lm(cli_paths *p, const char *what, const char *out)
{
    cli_paths_lm(p, true, what, out, NULL, NULL);
}

void cli_paths_add_dir(cli_paths *p, bool out, const char *what,
                       const char *dir, const char *const *names)
{
    for (int i = 0; dir && *dir && names[i]; i++)
        cli_paths_add(p, out, cli_paths_own(p, "%s's %s", what, names[i]),
                      cli_paths_own(p, "%s/%s", dir, names[i]));
}

int cli_paths_check(const char *cmd, cli_paths *p)
{
    int rc = p->full ? 2 : cli_check_paths(cmd, p->in, p->n_in, p->out,
                                           p->n_out);
    if (p->full)
        fprintf(stderr, "lethe %s: too many files to check\n", cmd);
    for (int i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    p->n_owned = 0;
    return rc;
}
