/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interpolation as the Compose Specification describes it and compose v2
 * does it: $VAR, ${VAR}, ${VAR:-d} ${VAR-d} ${VAR:?e} ${VAR?e} ${VAR:+a}
 * ${VAR+a}, nested, $$; a '$' before anything else is literal. And the
 * env-file syntax (.env, env_file:). */
#include "compose-interp.h"

#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct buf {
        char *s;
        size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = 0;
}

static void buf_adds(struct buf *b, const char *s)
{
        buf_add(b, s, strlen(s));
}

static char *buf_steal(struct buf *b)
{
        if (!b->s)
                return xstrdup("");
        char *s = b->s;
        b->s = NULL;
        return s;
}

static bool name_start(char c)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char(char c)
{
        return name_start(c) || (c >= '0' && c <= '9');
}

static const char *lookup(const struct compose_interp *ip, const char *name)
{
        const char *v = json_string_value(json_object_get(ip->env, name));
        if (!v)
                v = json_string_value(json_object_get(ip->env2, name));
        return v;
}

static void warn_unset(const struct compose_interp *ip, const char *name)
{
        if (!ip->warnings)
                return;
        _cleanup_free_ char *w =
            xasprintf("The \"%s\" variable is not set. Defaulting to a blank string.", name);
        size_t i;
        json_t *x;
        json_array_foreach (ip->warnings, i, x)
                if (streq(json_string_value(x), w))
                        return;
        json_array_append_new(ip->warnings, json_string(w));
}

/* The index of the '}' closing the "${" at s[0], counting nested braces as
 * compose does (the character after each '{' is skipped); -1 if none. */
static ssize_t closing_brace(const char *s)
{
        int open = 0;
        for (size_t i = 0; s[i]; i++) {
                if (s[i] == '}') {
                        open--;
                        if (open == 0)
                                return (ssize_t)i;
                }
                if (s[i] == '{') {
                        open++;
                        if (!s[i + 1])
                                break;
                        i++;
                }
        }
        return -1;
}

static int invalid(const char *tmpl, struct berth_err *err)
{
        return err_set(err, -EINVAL, "Invalid template: \"%s\"", tmpl);
}

static int interp(const struct compose_interp *ip, const char *s, struct buf *out,
                  struct berth_err *err);

/* The body of ${...}: NAME, or NAME OP WORD. */
static int braced(const struct compose_interp *ip, const char *tmpl, const char *body, size_t len,
                  struct buf *out, struct berth_err *err)
{
        size_t n = 0;
        if (len == 0 || !name_start(body[0]))
                return invalid(tmpl, err);
        while (n < len && name_char(body[n]))
                n++;
        _cleanup_free_ char *name = xstrndup(body, n);
        if (n == len) {
                const char *v = lookup(ip, name);
                if (!v)
                        warn_unset(ip, name);
                buf_adds(out, v ?: "");
                return 0;
        }
        bool colon = body[n] == ':';
        size_t op = n + (colon ? 1 : 0);
        if (op >= len || !strchr("-+?", body[op]))
                return invalid(tmpl, err);
        char kind = body[op];
        _cleanup_free_ char *word = xstrndup(body + op + 1, len - op - 1);
        if (strchr(word, '\n'))
                return invalid(tmpl, err);
        const char *v = lookup(ip, name);
        bool set = v && (!colon || *v);
        int r;
        switch (kind) {
        case '-':
                if (set) {
                        buf_adds(out, v);
                        return 0;
                }
                return interp(ip, word, out, err);
        case '+':
                if (set)
                        return interp(ip, word, out, err);
                buf_adds(out, v ?: "");
                return 0;
        default: {
                if (set) {
                        buf_adds(out, v);
                        return 0;
                }
                struct buf msg = {0};
                r = interp(ip, word, &msg, err);
                if (r < 0) {
                        free(msg.s);
                        return r;
                }
                _cleanup_free_ char *m = buf_steal(&msg);
                if (*m)
                        return err_set(err, -ENOENT, "required variable %s is missing a value: %s",
                                       name, m);
                return err_set(err, -ENOENT, "required variable %s is missing a value", name);
        }
        }
}

static int interp(const struct compose_interp *ip, const char *s, struct buf *out,
                  struct berth_err *err)
{
        const char *p = s;
        while (*p) {
                const char *d = strchr(p, '$');
                if (!d) {
                        buf_adds(out, p);
                        break;
                }
                buf_add(out, p, (size_t)(d - p));
                if (d[1] == '$') {
                        buf_adds(out, "$");
                        p = d + 2;
                } else if (name_start(d[1])) {
                        size_t n = 1;
                        while (name_char(d[1 + n]))
                                n++;
                        _cleanup_free_ char *name = xstrndup(d + 1, n);
                        const char *v = lookup(ip, name);
                        if (!v)
                                warn_unset(ip, name);
                        buf_adds(out, v ?: "");
                        p = d + 1 + n;
                } else if (d[1] == '{') {
                        ssize_t c = closing_brace(d + 1);
                        if (c < 0)
                                return invalid(s, err);
                        int r = braced(ip, s, d + 2, (size_t)c - 1, out, err);
                        if (r < 0)
                                return r;
                        p = d + 1 + c + 1;
                } else {
                        buf_adds(out, "$");
                        p = d + 1;
                }
        }
        return 0;
}

int compose_interp_string(const struct compose_interp *ip, const char *s, char **ret,
                          struct berth_err *err)
{
        struct buf b = {0};
        int r = interp(ip, s, &b, err);
        if (r < 0) {
                free(b.s);
                return r;
        }
        *ret = buf_steal(&b);
        return 0;
}

/* ---- the tree ---- */

enum cast { CAST_NONE, CAST_INT, CAST_FLOAT, CAST_BOOL };

/* The paths compose re-types after interpolation ("*": any key, "[]": any
 * list item). */
static const struct {
        const char *path;
        enum cast cast;
} casts[] = {
    {"services.*.cpu_count", CAST_INT},
    {"services.*.cpu_percent", CAST_FLOAT},
    {"services.*.cpu_period", CAST_INT},
    {"services.*.cpu_quota", CAST_INT},
    {"services.*.cpu_rt_period", CAST_INT},
    {"services.*.cpu_rt_runtime", CAST_INT},
    {"services.*.cpus", CAST_FLOAT},
    {"services.*.cpu_shares", CAST_INT},
    {"services.*.init", CAST_BOOL},
    {"services.*.depends_on.*.required", CAST_BOOL},
    {"services.*.depends_on.*.restart", CAST_BOOL},
    {"services.*.deploy.replicas", CAST_INT},
    {"services.*.deploy.update_config.parallelism", CAST_INT},
    {"services.*.deploy.update_config.max_failure_ratio", CAST_FLOAT},
    {"services.*.deploy.rollback_config.parallelism", CAST_INT},
    {"services.*.deploy.rollback_config.max_failure_ratio", CAST_FLOAT},
    {"services.*.deploy.restart_policy.max_attempts", CAST_INT},
    {"services.*.deploy.placement.max_replicas_per_node", CAST_INT},
    {"services.*.healthcheck.retries", CAST_INT},
    {"services.*.healthcheck.disable", CAST_BOOL},
    {"services.*.oom_kill_disable", CAST_BOOL},
    {"services.*.oom_score_adj", CAST_INT},
    {"services.*.pids_limit", CAST_INT},
    {"services.*.ports.[].target", CAST_INT},
    {"services.*.privileged", CAST_BOOL},
    {"services.*.read_only", CAST_BOOL},
    {"services.*.scale", CAST_INT},
    {"services.*.stdin_open", CAST_BOOL},
    {"services.*.tty", CAST_BOOL},
    {"services.*.ulimits.*", CAST_INT},
    {"services.*.ulimits.*.hard", CAST_INT},
    {"services.*.ulimits.*.soft", CAST_INT},
    {"services.*.volumes.[].read_only", CAST_BOOL},
    {"services.*.volumes.[].volume.nocopy", CAST_BOOL},
    {"networks.*.external", CAST_BOOL},
    {"networks.*.internal", CAST_BOOL},
    {"networks.*.attachable", CAST_BOOL},
    {"networks.*.enable_ipv4", CAST_BOOL},
    {"networks.*.enable_ipv6", CAST_BOOL},
    {"volumes.*.external", CAST_BOOL},
    {"secrets.*.external", CAST_BOOL},
    {"configs.*.external", CAST_BOOL},
};

#define MAX_DEPTH 64

static bool path_matches(const char *pattern, const char **path, size_t n)
{
        _cleanup_free_ char *pat = xstrdup(pattern);
        size_t i = 0;
        char *save = NULL;
        for (char *t = strtok_r(pat, ".", &save); t; t = strtok_r(NULL, ".", &save), i++) {
                if (i >= n)
                        return false;
                if (streq(t, "*"))
                        continue;
                if (!streq(t, path[i]))
                        return false;
        }
        return i == n;
}

static enum cast cast_for(const char **path, size_t n)
{
        for (size_t i = 0; i < sizeof(casts) / sizeof(casts[0]); i++)
                if (path_matches(casts[i].path, path, n))
                        return casts[i].cast;
        return CAST_NONE;
}

static char *path_string(const char **path, size_t n)
{
        struct buf b = {0};
        for (size_t i = 0; i < n; i++) {
                if (i)
                        buf_adds(&b, ".");
                buf_adds(&b, path[i]);
        }
        return buf_steal(&b);
}

struct walk {
        const struct compose_interp *ip;
        const struct compose_marks *marks;
        const char *path[MAX_DEPTH];
        size_t n;
};

static int where(struct walk *w, const json_t *node, struct berth_err *err, int r)
{
        _cleanup_free_ char *p = path_string(w->path, w->n);
        int line = compose_marks_line(w->marks, node);
        const char *file = compose_marks_file(w->marks);
        if (r == -EINVAL && startswith(err_msg(err), "Invalid template: ")) {
                const char *t = err_msg(err) + strlen("Invalid template: ");
                _cleanup_free_ char *tmpl = xstrndup(t + 1, strlen(t) - 2);
                if (file && line)
                        return err_set(err, r,
                                       "%s:%d: invalid interpolation format for %s.\nYou may need "
                                       "to escape any $ with another $.\n%s",
                                       file, line, p, tmpl);
                return err_set(err, r,
                               "invalid interpolation format for %s.\nYou may need to escape any "
                               "$ with another $.\n%s",
                               p, tmpl);
        }
        if (file && line)
                return err_wrap(err, r, "%s:%d: error while interpolating %s", file, line, p);
        return err_wrap(err, r, "error while interpolating %s", p);
}

static int cast_value(struct walk *w, const json_t *node, const char *s, enum cast c, json_t **ret,
                      struct berth_err *err)
{
        char *end = NULL;
        errno = 0;
        switch (c) {
        case CAST_INT: {
                long long v = strtoll(s, &end, 10);
                if (!*s || *end || errno)
                        return where(w, node, err,
                                     err_set(err, -EINVAL,
                                             "failed to cast to expected type: strconv.ParseInt: "
                                             "parsing \"%s\": invalid syntax",
                                             s));
                *ret = json_integer(v);
                return 0;
        }
        case CAST_FLOAT: {
                double v = strtod(s, &end);
                if (!*s || *end || errno)
                        return where(w, node, err,
                                     err_set(err, -EINVAL,
                                             "failed to cast to expected type: strconv.ParseFloat: "
                                             "parsing \"%s\": invalid syntax",
                                             s));
                *ret = json_real(v);
                return 0;
        }
        case CAST_BOOL: {
                if (!strcasecmp(s, "true") || !strcasecmp(s, "y") || !strcasecmp(s, "yes") ||
                    !strcasecmp(s, "on")) {
                        *ret = json_true();
                        return 0;
                }
                if (!strcasecmp(s, "false") || !strcasecmp(s, "n") || !strcasecmp(s, "no") ||
                    !strcasecmp(s, "off")) {
                        *ret = json_false();
                        return 0;
                }
                return where(w, node, err,
                             err_set(err, -EINVAL,
                                     "failed to cast to expected type: invalid boolean: %s", s));
        }
        default:
                *ret = json_string(s);
                return 0;
        }
}

static int walk_node(struct walk *w, json_t *node, json_t **replace, struct berth_err *err)
{
        int r;
        *replace = NULL;
        if (json_is_string(node)) {
                const char *s = json_string_value(node);
                if (!strchr(s, '$'))
                        return 0;
                _cleanup_free_ char *v = NULL;
                r = compose_interp_string(w->ip, s, &v, err);
                if (r < 0)
                        return where(w, node, err, r);
                enum cast c = cast_for(w->path, w->n);
                if (c != CAST_NONE)
                        return cast_value(w, node, v, c, replace, err);
                json_string_set(node, v);
                return 0;
        }
        if (w->n >= MAX_DEPTH)
                return 0;
        if (json_is_object(node)) {
                const char *k;
                json_t *v;
                void *it = json_object_iter(node);
                while (it) {
                        k = json_object_iter_key(it);
                        v = json_object_iter_value(it);
                        w->path[w->n++] = k;
                        json_t *rep = NULL;
                        r = walk_node(w, v, &rep, err);
                        w->n--;
                        if (r < 0)
                                return r;
                        if (rep)
                                json_object_iter_set_new(node, it, rep);
                        it = json_object_iter_next(node, it);
                }
        } else if (json_is_array(node)) {
                size_t i;
                json_t *v;
                json_array_foreach (node, i, v) {
                        w->path[w->n++] = "[]";
                        json_t *rep = NULL;
                        r = walk_node(w, v, &rep, err);
                        w->n--;
                        if (r < 0)
                                return r;
                        if (rep)
                                json_array_set_new(node, i, rep);
                }
        }
        return 0;
}

int compose_interp_tree(const struct compose_interp *ip, json_t *doc, const struct compose_marks *m,
                        struct berth_err *err)
{
        struct walk w = {.ip = ip, .marks = m};
        json_t *rep = NULL;
        int r = walk_node(&w, doc, &rep, err);
        json_decref(rep);
        return r;
}

/* ---- env files ---- */

static bool env_space(char c)
{
        return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool any_space(char c)
{
        return env_space(c) || c == '\n';
}

static const char *skip_statement_start(const char *p, int *line)
{
        for (;;) {
                while (*p && any_space(*p)) {
                        if (*p == '\n')
                                (*line)++;
                        p++;
                }
                if (*p != '#')
                        return p;
                while (*p && *p != '\n')
                        p++;
        }
}

/* Backslash escapes in double quotes: \a \b \c? \f \n \r \t \v \$ \" \\ and
 * \0NNN octal; others are kept as written. */
static char *expand_escapes(const char *s)
{
        struct buf b = {0};
        buf_adds(&b, "");
        for (const char *p = s; *p; p++) {
                if (*p != '\\' || !p[1]) {
                        buf_add(&b, p, 1);
                        continue;
                }
                char c = p[1], o;
                switch (c) {
                case 'a':
                        o = '\a';
                        break;
                case 'b':
                        o = '\b';
                        break;
                case 'f':
                        o = '\f';
                        break;
                case 'n':
                        o = '\n';
                        break;
                case 'r':
                        o = '\r';
                        break;
                case 't':
                        o = '\t';
                        break;
                case 'v':
                        o = '\v';
                        break;
                case '"':
                        o = '"';
                        break;
                case '\\':
                        o = '\\';
                        break;
                case '$':
                        buf_adds(&b, "$$");
                        p++;
                        continue;
                case '0': {
                        int v = 0, n = 0;
                        while (n < 3 && p[2 + n] >= '0' && p[2 + n] <= '7')
                                v = v * 8 + (p[2 + n] - '0'), n++;
                        if (n < 3) { /* Go's UnquoteChar wants three octal digits */
                                buf_add(&b, p, 1);
                                continue;
                        }
                        char ch = (char)v;
                        buf_add(&b, &ch, 1);
                        p += 1 + n;
                        continue;
                }
                default:
                        buf_add(&b, p, 1);
                        continue;
                }
                buf_add(&b, &o, 1);
                p++;
        }
        return buf_steal(&b);
}

static int env_expand(const char *value, const json_t *lookup_env, json_t *out, char **ret,
                      struct berth_err *err)
{
        struct compose_interp ip = {.env = lookup_env, .env2 = out};
        return compose_interp_string(&ip, value, ret, err);
}

int compose_env_parse(const char *file, const char *text, const json_t *lookup_env, json_t *out,
                      struct berth_err *err)
{
        /* a UTF-8 byte order mark is no part of the first key */
        if (startswith(text, "\xef\xbb\xbf"))
                text += 3;
        _cleanup_free_ char *src = xasprintf("%s\n", text);
        const char *p = src;
        int line = 1, r;
        for (;;) {
                p = skip_statement_start(p, &line);
                if (!*p)
                        break;
                if (startswith(p, "export") && env_space(p[6])) {
                        p += 6;
                        while (env_space(*p))
                                p++;
                }
                const char *q = p;
                bool inherited = false;
                for (; *q; q++) {
                        if (env_space(*q))
                                continue;
                        if (*q == '=' || *q == ':' || *q == '\n') {
                                inherited = *q == '\n';
                                break;
                        }
                        unsigned char c = (unsigned char)*q;
                        if (c == '_' || c == '.' || c == '-' || c == '[' || c == ']' ||
                            isalnum(c) || c >= 0x80)
                                continue;
                        const char *eol = strchr(p, '\n');
                        return err_set(err, -EINVAL,
                                       "failed to read %s: line %d: unexpected character \"%c\" in "
                                       "variable name \"%.*s\"",
                                       file, line, *q, (int)(eol - p), p);
                }
                size_t klen = (size_t)(q - p);
                while (klen && any_space(p[klen - 1]))
                        klen--;
                _cleanup_free_ char *key = xstrndup(p, klen);
                if (strchr(key, ' ') || strchr(key, '\t'))
                        return err_set(err, -EINVAL,
                                       "failed to read %s: line %d: key cannot contain a space",
                                       file, line);
                p = q + 1;
                if (inherited) {
                        line++;
                        const char *v = json_string_value(json_object_get(lookup_env, key));
                        if (v)
                                json_object_set_new(out, key, json_string(v));
                        continue;
                }
                while (env_space(*p))
                        p++;
                _cleanup_free_ char *value = NULL;
                if (*p == '"' || *p == '\'') {
                        char quote = *p;
                        struct buf b = {0};
                        buf_adds(&b, "");
                        bool esc = false, closed = false;
                        int start_line = line;
                        const char *s = p + 1;
                        for (; *s; s++) {
                                if (*s == '\n')
                                        line++;
                                if (*s != quote) {
                                        if (!esc && *s == '\\') {
                                                esc = true;
                                                continue;
                                        }
                                        if (esc) {
                                                esc = false;
                                                buf_adds(&b, "\\");
                                        }
                                        buf_add(&b, s, 1);
                                        continue;
                                }
                                if (esc) {
                                        esc = false;
                                        buf_add(&b, s, 1);
                                        continue;
                                }
                                closed = true;
                                break;
                        }
                        _cleanup_free_ char *raw = buf_steal(&b);
                        if (!closed) {
                                const char *eol = strchr(p, '\n');
                                return err_set(
                                    err, -EINVAL,
                                    "failed to read %s: line %d: unterminated quoted value %.*s",
                                    file, start_line, (int)(eol - p), p);
                        }
                        if (quote == '"') {
                                _cleanup_free_ char *e = expand_escapes(raw);
                                r = env_expand(e, lookup_env, out, &value, err);
                                if (r < 0)
                                        return err_prefix(err, "failed to read %s", file);
                        } else {
                                value = xstrdup(raw);
                        }
                        p = s + 1;
                } else {
                        const char *eol = strchr(p, '\n');
                        size_t n = (size_t)(eol - p);
                        const char *c = strstr(p, " #");
                        if (c && c < eol)
                                n = (size_t)(c - p);
                        while (n && isspace((unsigned char)p[n - 1]))
                                n--;
                        _cleanup_free_ char *raw = xstrndup(p, n);
                        r = env_expand(raw, lookup_env, out, &value, err);
                        if (r < 0)
                                return err_prefix(err, "failed to read %s", file);
                        p = eol + 1;
                        line++;
                }
                json_object_set_new(out, key, json_string(value));
        }
        return 0;
}

int compose_env_read(const char *path, const json_t *lookup_env, bool raw, json_t *out,
                     struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_full_file(path, &text, &len);
        if (r == -ENOENT)
                return err_set(err, r, "couldn't find env file: %s", path);
        if (r == -EISDIR)
                return err_set(err, r, "%s is a directory", path);
        if (r < 0)
                return err_errno(err, r, "couldn't read env file: %s", path);
        if (memchr(text, 0, len))
                return err_set(err, -EINVAL, "failed to read %s: it contains a NUL byte", path);
        if (!raw)
                return compose_env_parse(path, text, lookup_env, out, err);
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                size_t n = strlen(l);
                if (n && l[n - 1] == '\r')
                        l[--n] = 0;
                char *eq = strchr(l, '=');
                if (!n || l[0] == '#')
                        continue;
                if (!eq) {
                        const char *v = json_string_value(json_object_get(lookup_env, l));
                        if (v)
                                json_object_set_new(out, l, json_string(v));
                        continue;
                }
                *eq = 0;
                json_object_set_new(out, l, json_string(eq + 1));
        }
        return 0;
}
