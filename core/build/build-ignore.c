/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .dockerignore (build-ignore.h). Each pattern becomes a small NFA over
 * code points, equivalent to the regular expression Docker builds from it
 * ('*' -> [^/]*, '?' -> [^/], "**" + '/' -> (.*\/)?, a final "**" -> .*).
 * One pass over a path answers for the path and all its parents at once:
 * a parent matches when the NFA accepts just before a '/'. So matching is
 * O(path x pattern) with no backtracking, whatever the input. */
#include "build-ignore.h"
#include "build-internal.h"

enum tok_kind {
        T_LIT,      /* one code point */
        T_ONE,      /* ?: any but '/' */
        T_CLASS,    /* [...] */
        T_STAR,     /* *: any but '/', repeated */
        T_DS_ENTRY, /* (.*\/)? : skip it, or go into T_DS_IN */
        T_DS_IN,    /* inside (.*\/): anything, leave on '/' */
        T_ANY_STAR, /* a final "**": anything */
};

struct range {
        uint32_t lo, hi;
};

struct tok {
        enum tok_kind kind;
        uint32_t c;
        bool negated;
        struct range *ranges;
        size_t n_ranges;
};

struct pattern {
        char *text; /* cleaned, without '!' */
        bool exception;
        /* Docker's suffix match: "**" followed by plain characters only
         * ("**.md") matches any path that ends with the rest, which is not
         * what the regexp would say */
        const char *suffix;
        struct tok *toks;
        size_t n_toks;
};

struct build_ignore {
        struct pattern *p;
        size_t n, cap;
        char **texts; /* build_ignore_pattern(): with '!' */
        size_t n_texts, cap_texts;
};

/* One code point from s (len > 0); invalid bytes are taken one by one. */
static uint32_t next_rune(const char *s, size_t *adv)
{
        const unsigned char *u = (const unsigned char *)s;
        int n = u[0] < 0x80         ? 1
                : (u[0] >> 5) == 6  ? 2
                : (u[0] >> 4) == 14 ? 3
                : (u[0] >> 3) == 30 ? 4
                                    : 0;
        if (n == 1) {
                *adv = 1;
                return u[0];
        }
        uint32_t c = n == 2 ? u[0] & 0x1f : n == 3 ? u[0] & 0x0f : u[0] & 0x07;
        for (int i = 1; i < n; i++) {
                if ((u[i] & 0xc0) != 0x80) {
                        n = 0;
                        break;
                }
                c = (c << 6) | (u[i] & 0x3f);
        }
        if (n == 0) {
                *adv = 1;
                return 0xfffd;
        }
        *adv = (size_t)n;
        return c;
}

static void pattern_done(struct pattern *p)
{
        for (size_t i = 0; i < p->n_toks; i++)
                free(p->toks[i].ranges);
        free(p->toks);
        free(p->text);
}

static void push_tok(struct pattern *p, size_t *cap, struct tok t)
{
        p->toks = build_grow(p->toks, cap, p->n_toks + 1, sizeof(*p->toks));
        p->toks[p->n_toks++] = t;
}

/* One side of a class range (Go's getEsc): '-' and ']' may not start one,
 * and something must follow it. */
static int class_char(const char **s, uint32_t *ret)
{
        const char *p = *s;
        if (!*p || *p == '-' || *p == ']')
                return -EINVAL;
        if (*p == '\\') {
                p++;
                if (!*p)
                        return -EINVAL;
        }
        size_t adv;
        *ret = next_rune(p, &adv);
        p += adv;
        if (!*p)
                return -EINVAL;
        *s = p;
        return 0;
}

/* Compile the pattern text; -EINVAL where Go's filepath.Match would say
 * ErrBadPattern. glob: filepath.Match itself, where "**" is two '*'. */
static int compile(struct pattern *pt, bool glob)
{
        size_t cap = 0;
        const char *s = pt->text;
        if (!glob && s[0] == '*' && s[1] == '*' && !strpbrk(s + 2, "*?[]\\"))
                pt->suffix = s + 2;
        while (*s) {
                if (!glob && s[0] == '*' && s[1] == '*') {
                        s += 2;
                        if (*s == '/')
                                s++;
                        if (!*s) {
                                push_tok(pt, &cap, (struct tok){.kind = T_ANY_STAR});
                        } else {
                                push_tok(pt, &cap, (struct tok){.kind = T_DS_ENTRY});
                                push_tok(pt, &cap, (struct tok){.kind = T_DS_IN});
                        }
                } else if (*s == '*') {
                        s++;
                        push_tok(pt, &cap, (struct tok){.kind = T_STAR});
                } else if (*s == '?') {
                        s++;
                        push_tok(pt, &cap, (struct tok){.kind = T_ONE});
                } else if (*s == '\\') {
                        s++;
                        if (!*s)
                                return -EINVAL;
                        size_t adv;
                        uint32_t c = next_rune(s, &adv);
                        s += adv;
                        push_tok(pt, &cap, (struct tok){.kind = T_LIT, .c = c});
                } else if (*s == '[') {
                        struct tok t = {.kind = T_CLASS};
                        size_t rcap = 0;
                        s++;
                        if (*s == '^') {
                                t.negated = true;
                                s++;
                        }
                        for (;;) {
                                if (*s == ']' && t.n_ranges > 0) {
                                        s++;
                                        break;
                                }
                                uint32_t lo, hi;
                                if (class_char(&s, &lo) < 0) {
                                        free(t.ranges);
                                        return -EINVAL;
                                }
                                hi = lo;
                                if (*s == '-') {
                                        s++;
                                        if (class_char(&s, &hi) < 0) {
                                                free(t.ranges);
                                                return -EINVAL;
                                        }
                                }
                                t.ranges =
                                    build_grow(t.ranges, &rcap, t.n_ranges + 1, sizeof(*t.ranges));
                                t.ranges[t.n_ranges++] = (struct range){lo, hi};
                        }
                        push_tok(pt, &cap, t);
                } else {
                        size_t adv;
                        uint32_t c = next_rune(s, &adv);
                        s += adv;
                        push_tok(pt, &cap, (struct tok){.kind = T_LIT, .c = c});
                }
        }
        return 0;
}

static bool class_has(const struct tok *t, uint32_t c)
{
        bool in = false;
        for (size_t i = 0; i < t->n_ranges && !in; i++)
                in = t->ranges[i].lo <= c && c <= t->ranges[i].hi;
        return in != t->negated;
}

/* Follow the epsilon edges (they only point forward). */
static void closure(const struct pattern *pt, bool *st)
{
        for (size_t i = 0; i < pt->n_toks; i++) {
                if (!st[i])
                        continue;
                switch (pt->toks[i].kind) {
                case T_STAR:
                case T_ANY_STAR:
                        st[i + 1] = true;
                        break;
                case T_DS_ENTRY:
                        st[i + 1] = true;
                        st[i + 2] = true;
                        break;
                default:
                        break;
                }
        }
}

static bool suffix_match(const char *suffix, size_t sl, const char *path, size_t n)
{
        if (n >= sl && memcmp(path + n - sl, suffix, sl) == 0)
                return true;
        return sl > 0 && suffix[0] == '/' && n == sl - 1 && memcmp(path, suffix + 1, n) == 0;
}

/* Whether the pattern matches path or one of its parent directories. */
static bool pattern_match(const struct pattern *pt, const char *path)
{
        if (pt->suffix) {
                size_t sl = strlen(pt->suffix);
                for (const char *s = strchr(path + (*path ? 1 : 0), '/'); s; s = strchr(s + 1, '/'))
                        if (suffix_match(pt->suffix, sl, path, (size_t)(s - path)))
                                return true;
                return suffix_match(pt->suffix, sl, path, strlen(path));
        }
        size_t m = pt->n_toks;
        _cleanup_free_ bool *cur = xzalloc(m + 1), *nxt = xzalloc(m + 1);
        cur[0] = true;
        closure(pt, cur);
        for (const char *s = path; *s;) {
                if (*s == '/' && cur[m] && s != path)
                        return true; /* a parent directory matches */
                size_t adv;
                uint32_t c = next_rune(s, &adv);
                s += adv;
                memset(nxt, 0, m + 1);
                bool any = false;
                for (size_t i = 0; i < m; i++) {
                        if (!cur[i])
                                continue;
                        const struct tok *t = &pt->toks[i];
                        switch (t->kind) {
                        case T_LIT:
                                if (c == t->c)
                                        nxt[i + 1] = any = true;
                                break;
                        case T_ONE:
                                if (c != '/')
                                        nxt[i + 1] = any = true;
                                break;
                        case T_CLASS:
                                if (class_has(t, c))
                                        nxt[i + 1] = any = true;
                                break;
                        case T_STAR:
                                if (c != '/')
                                        nxt[i] = any = true;
                                break;
                        case T_DS_IN:
                                nxt[i] = any = true;
                                if (c == '/')
                                        nxt[i + 1] = true;
                                break;
                        case T_ANY_STAR:
                                nxt[i] = any = true;
                                break;
                        case T_DS_ENTRY:
                                break;
                        }
                }
                if (!any)
                        return false;
                closure(pt, nxt);
                bool *tmp = cur;
                cur = nxt;
                nxt = tmp;
        }
        return cur[m];
}

static void push_text(struct build_ignore *ig, char *t)
{
        ig->texts = build_grow(ig->texts, &ig->cap_texts, ig->n_texts + 1, sizeof(char *));
        ig->texts[ig->n_texts++] = t;
}

/* A line as the ignorefile reader and the pattern matcher take it; line
 * numbers only for messages (0: none). */
static int add_line(struct build_ignore *ig, const char *line, size_t len, unsigned lineno,
                    struct berth_err *err)
{
        if (len && line[0] == '#')
                return 0;
        const char *s = line, *e = line + len;
        while (s < e && build_isspace(*s))
                s++;
        while (e > s && build_isspace(e[-1]))
                e--;
        if (s == e)
                return 0;
        bool exception = *s == '!';
        if (exception) {
                s++;
                while (s < e && build_isspace(*s))
                        s++;
        }
        if (s == e)
                return err_set(err, -EINVAL, "illegal exclusion pattern: \"!\"");
        _cleanup_free_ char *raw = xstrndup(s, (size_t)(e - s));
        if (memchr(s, 0, (size_t)(e - s)))
                return err_set(err, -EINVAL, ".dockerignore line %u: syntax error in pattern",
                               lineno);
        char *text = path_clean(raw);
        if (text[0] == '/' && text[1]) {
                memmove(text, text + 1, strlen(text));
        }
        struct pattern pt = {.text = text, .exception = exception};
        if (compile(&pt, false) < 0) {
                int r = lineno ? err_set(err, -EINVAL,
                                         ".dockerignore line %u: syntax error in pattern \"%s\"",
                                         lineno, text)
                               : err_set(err, -EINVAL, "syntax error in pattern \"%s\"", text);
                pattern_done(&pt);
                return r;
        }
        ig->p = build_grow(ig->p, &ig->cap, ig->n + 1, sizeof(*ig->p));
        ig->p[ig->n++] = pt;
        push_text(ig, exception ? xasprintf("!%s", text) : xstrdup(text));
        return 0;
}

int build_ignore_parse(const void *data, size_t len, struct build_ignore **ret,
                       struct berth_err *err)
{
        struct build_ignore *ig = xzalloc(sizeof(*ig));
        const char *p = data, *end = p + len;
        unsigned lineno = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *e = nl ? nl : end;
                const char *s = p;
                p = nl ? nl + 1 : end;
                lineno++;
                if (lineno == 1 && e - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                        s += 3;
                if (e > s && e[-1] == '\r')
                        e--;
                int r = add_line(ig, s, (size_t)(e - s), lineno, err);
                if (r < 0) {
                        build_ignore_free(ig);
                        return r;
                }
        }
        *ret = ig;
        return 0;
}

struct build_ignore *build_ignore_free(struct build_ignore *ig)
{
        if (!ig)
                return NULL;
        for (size_t i = 0; i < ig->n; i++)
                pattern_done(&ig->p[i]);
        free(ig->p);
        for (size_t i = 0; i < ig->n_texts; i++)
                free(ig->texts[i]);
        free(ig->texts);
        free(ig);
        return NULL;
}

int build_ignore_add(struct build_ignore *ig, const char *line, struct berth_err *err)
{
        return add_line(ig, line, strlen(line), 0, err);
}

bool build_ignore_match(const struct build_ignore *ig, const char *relpath, _unused_ bool is_dir)
{
        _cleanup_free_ char *path = path_clean(relpath);
        const char *p = path;
        while (*p == '/')
                p++;
        if (streq(p, ".") || !*p)
                return false; /* the context root itself */
        bool matched = false;
        for (size_t i = 0; i < ig->n; i++) {
                const struct pattern *pt = &ig->p[i];
                /* an exclusion cannot change an excluded path, nor an
                 * exception a kept one */
                if (pt->exception != matched)
                        continue;
                if (pattern_match(pt, p))
                        matched = !pt->exception;
        }
        return matched;
}

bool build_ignore_may_include_under(const struct build_ignore *ig, const char *dir)
{
        _cleanup_free_ char *d = path_clean(dir);
        const char *p = d;
        while (*p == '/')
                p++;
        size_t n = strlen(p);
        for (size_t i = 0; i < ig->n; i++) {
                const struct pattern *pt = &ig->p[i];
                if (!pt->exception)
                        continue;
                /* (pattern + "/") starts with (dir + "/") */
                size_t tl = strlen(pt->text);
                if (tl >= n && memcmp(pt->text, p, n) == 0 && (tl == n || pt->text[n] == '/'))
                        return true;
        }
        return false;
}

void build_ignore_keep_build_files(struct build_ignore *ig, const char *dockerfile)
{
        if (build_ignore_match(ig, ".dockerignore", false))
                build_ignore_add(ig, "!.dockerignore", NULL);
        const char *df = dockerfile ? dockerfile : "Dockerfile";
        if (build_ignore_match(ig, df, false)) {
                _cleanup_free_ char *line = xasprintf("!%s", df);
                build_ignore_add(ig, line, NULL);
        }
}

size_t build_ignore_count(const struct build_ignore *ig)
{
        return ig->n_texts;
}

const char *build_ignore_pattern(const struct build_ignore *ig, size_t i)
{
        return i < ig->n_texts ? ig->texts[i] : NULL;
}

struct build_glob {
        struct pattern p;
};

int build_glob_new(const char *pattern, struct build_glob **ret)
{
        struct build_glob *g = xzalloc(sizeof(*g));
        g->p.text = xstrdup(pattern);
        if (compile(&g->p, true) < 0) {
                build_glob_free(g);
                return -EINVAL;
        }
        *ret = g;
        return 0;
}

bool build_glob_match(const struct build_glob *g, const char *name)
{
        /* no '/' in name: pattern_match's parent rule never applies */
        return !strchr(name, '/') && pattern_match(&g->p, name);
}

struct build_glob *build_glob_free(struct build_glob *g)
{
        if (g) {
                pattern_done(&g->p);
                free(g);
        }
        return NULL;
}
