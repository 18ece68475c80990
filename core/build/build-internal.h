/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_INTERNAL_H
#define BERTH_BUILD_BUILD_INTERNAL_H

/* Helpers shared by the build/ files: amortised growth, so that no step is
 * quadratic in hostile input (strv_push counts its vector on every call). */

#include <sys/types.h>

#include "base/util.h"

/* p grown to hold at least need elements of size bytes; *cap updated. */
void *build_grow(void *p, size_t *cap, size_t need, size_t size);

struct build_sbuf {
        char *p;
        size_t len, cap;
};
void build_sb_addn(struct build_sbuf *b, const char *s, size_t n);
void build_sb_addc(struct build_sbuf *b, char c);
/* The string (never NULL), leaving b empty. */
char *build_sb_take(struct build_sbuf *b);

/* A NULL-terminated vector with its length. */
struct build_strlist {
        char **v;
        size_t n, cap;
};
void build_strlist_push(struct build_strlist *l, char *s); /* takes s */
void build_strlist_done(struct build_strlist *l);

/* A string -> index map (open addressing), so that lookups by name stay
 * O(1) however many stages, ARGs or ENV keys hostile input declares. Keys
 * are borrowed: they must outlive the map. icase: ASCII case-insensitive. */
struct build_smap {
        const char **keys;
        size_t *vals;
        size_t cap, n;
        bool icase;
};
/* The index stored for key, or -1. */
ssize_t build_smap_get(const struct build_smap *m, const char *key);
/* Store (or replace) key -> val. */
void build_smap_put(struct build_smap *m, const char *key, size_t val);
void build_smap_done(struct build_smap *m);

/* Go's filepath.Match(pattern, name) for one path component (name holds
 * no '/'): '*' '?' [...] [^...] ranges and the '\' escape; "**" is two
 * '*'. new: -EINVAL for a pattern Go calls ErrBadPattern, checked whole. */
struct build_glob;
int build_glob_new(const char *pattern, struct build_glob **ret);
bool build_glob_match(const struct build_glob *g, const char *name);
struct build_glob *build_glob_free(struct build_glob *g);
static inline void build_glob_freep(struct build_glob **g)
{
        build_glob_free(*g);
}

/* Go's unicode.IsSpace for ASCII. */
bool build_isspace(char c);

#endif
