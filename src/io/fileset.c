/*
 * fileset.c - the files one job reads and writes, and the check that no
 * output overwrites an input or another output (lethe/fileset.h).
 */
#include "lethe/fileset.h"
#include "lethe/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *lt_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

void lt_fileset_add(lt_fileset *s, bool out, const char *what,
                    const char *path)
{
    if (!path || !*path)
        return;
    int *n = out ? &s->n_out : &s->n_in;
    lt_file_role *r = out ? &s->out[*n] : &s->in[*n];
    if (*n >= LT_FILESET_MAX) {
        s->full = true;
        return;
    }
    r->what = lt_dup(what);
    r->path = lt_dup(path);
    (*n)++;
    s->full |= !r->what || !r->path;
}

void lt_fileset_add_list(lt_fileset *s, const char *what, const char *list)
{
    char one[4096];
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");
        snprintf(one, sizeof one, "%.*s", (int)k, p);
        lt_fileset_add(s, false, what, one);
        p += k + (p[k] == ',');
    }
}

void lt_fileset_add_dir(lt_fileset *s, bool out, const char *what,
                        const char *dir, const char *const *names)
{
    char w[512], path[4200];
    for (int i = 0; dir && *dir && names[i]; i++) {
        snprintf(w, sizeof w, "%s's %s", what, names[i]);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        lt_fileset_add(s, out, w, path);
    }
}

/* The input or earlier output that output i is, or NULL. */
static const lt_file_role *lt_fileset_clash(const lt_fileset *s, int i)
{
    for (int j = 0; j < s->n_in; j++)
        if (lt_same_file(s->out[i].path, s->in[j].path))
            return &s->in[j];
    for (int j = 0; j < i; j++)
        if (lt_same_file(s->out[i].path, s->out[j].path))
            return &s->out[j];
    return NULL;
}

lt_status lt_fileset_check(const lt_fileset *s)
{
    if (s->full)
        return lt_set_error(LT_ERR_ARG, "too many files to check");
    for (int i = 0; i < s->n_out; i++) {
        const lt_file_role *o = &s->out[i], *hit = lt_fileset_clash(s, i);
        if (hit)
            return lt_set_error(LT_ERR_ARG, "%s %s is the same file as %s%s%s",
                                o->what, o->path, hit->what,
                                strcmp(o->path, hit->path) ? " " : "",
                                strcmp(o->path, hit->path) ? hit->path : "");
    }
    return LT_OK;
}

void lt_fileset_free(lt_fileset *s)
{
    for (int i = 0; i < s->n_in; i++) {
        free(s->in[i].what);
        free(s->in[i].path);
    }
    for (int i = 0; i < s->n_out; i++) {
        free(s->out[i].what);
        free(s->out[i].path);
    }
    *s = (lt_fileset){0};
}
