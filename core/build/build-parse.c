/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Dockerfile parser (build-parse.h has the rules). Every step is a
 * single pass over its input, so hostile input costs linear time; the only
 * recursion is ONBUILD's one level. */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>

#include "build-parse.h"
#include "build-internal.h"

/* --- small growable things ---------------------------------------------- */

void *build_grow(void *p, size_t *cap, size_t need, size_t size)
{
        if (need <= *cap)
                return p;
        size_t c = *cap ? *cap : 4;
        while (c < need)
                c *= 2;
        p = xrealloc(p, c * size);
        *cap = c;
        return p;
}

void build_sb_addn(struct build_sbuf *b, const char *s, size_t n)
{
        b->p = build_grow(b->p, &b->cap, b->len + n + 1, 1);
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = 0;
}

void build_sb_addc(struct build_sbuf *b, char c)
{
        build_sb_addn(b, &c, 1);
}

char *build_sb_take(struct build_sbuf *b)
{
        if (!b->p)
                return xstrdup("");
        char *p = b->p;
        *b = (struct build_sbuf){0};
        return p;
}

void build_strlist_push(struct build_strlist *l, char *s)
{
        l->v = build_grow(l->v, &l->cap, l->n + 2, sizeof(char *));
        l->v[l->n++] = s;
        l->v[l->n] = NULL;
}

void build_strlist_done(struct build_strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct build_strlist){0};
}

bool build_isspace(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static const char *ltrim(const char *s, const char *end)
{
        while (s < end && build_isspace(*s))
                s++;
        return s;
}

static const char *rtrim(const char *s, const char *end)
{
        while (end > s && build_isspace(end[-1]))
                end--;
        return end;
}

static int perr(struct berth_err *err, unsigned line, const char *fmt, ...) _printf_(3, 4);
static int perr(struct berth_err *err, unsigned line, const char *fmt, ...)
{
        char msg[BERTH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return err_set(err, -EINVAL, "dockerfile parse error line %u: %s", line, msg);
}

/* --- words ------------------------------------------------------------------ */

/* Docker's parseWords (ENV, LABEL, ARG, and heredoc detection): split at
 * blanks outside quotes; quotes and escapes stay in the words, for the
 * expansion to remove. */
static void split_words_quoted(const char *s, char esc, struct build_strlist *out)
{
        struct build_sbuf w = {0};
        bool in_word = false, blank_ok = false;
        char quote = 0;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!in_word) {
                        if (build_isspace(c))
                                continue;
                        in_word = true;
                }
                if (!quote && build_isspace(c)) {
                        if (blank_ok || w.len)
                                build_strlist_push(out, build_sb_take(&w));
                        free(w.p);
                        w = (struct build_sbuf){0};
                        in_word = blank_ok = false;
                        continue;
                }
                if (quote) {
                        if (c == quote)
                                quote = 0;
                } else if (c == '\'' || c == '"') {
                        quote = c;
                        blank_ok = true;
                }
                if (c == esc && quote != '\'') {
                        if (!p[1])
                                continue; /* an escape at the end is dropped */
                        build_sb_addc(&w, c);
                        c = *++p;
                }
                build_sb_addc(&w, c);
        }
        if (in_word && (blank_ok || w.len))
                build_strlist_push(out, build_sb_take(&w));
        free(w.p);
}

/* parseStringsWhitespaceDelimited: plain blank-separated words. */
static void split_words_plain(const char *s, struct build_strlist *out)
{
        const char *end = s + strlen(s);
        for (const char *p = ltrim(s, end); p < end; p = ltrim(p, end)) {
                const char *q = p;
                while (q < end && !build_isspace(*q))
                        q++;
                build_strlist_push(out, xstrndup(p, (size_t)(q - p)));
                p = q;
        }
}

/* The flags at the front of an instruction's arguments: words starting
 * with "--" (quotes and backslashes processed), up to the first other word
 * or a lone "--". Returns where the arguments start. */
static const char *extract_flags(const char *s, struct build_strlist *out)
{
        const char *p = s;
        for (;;) {
                while (*p && build_isspace(*p))
                        p++;
                if (p[0] != '-' || p[1] != '-')
                        return p;
                struct build_sbuf w = {0};
                char quote = 0;
                for (; *p && (quote || !build_isspace(*p)); p++) {
                        char c = *p;
                        if (!quote && (c == '\'' || c == '"')) {
                                quote = c;
                                continue;
                        }
                        if (quote && c == quote) {
                                quote = 0;
                                continue;
                        }
                        if (c == '\\') {
                                if (!p[1])
                                        continue;
                                c = *++p;
                        }
                        build_sb_addc(&w, c);
                }
                if (w.len == 2 && !quote && memcmp(w.p, "--", 2) == 0) {
                        free(w.p);
                        return p;
                }
                build_strlist_push(out, build_sb_take(&w));
        }
}

/* --- JSON form -------------------------------------------------------------- */

/* 1 and the strings if s is a JSON array of strings; 0 if it is not JSON
 * (the caller falls back to the shell form); -EINVAL for an array with
 * something else than strings, which Docker refuses. */
static int parse_json_array(const char *s, struct build_strlist *out)
{
        if (*s != '[')
                return 0;
        json_error_t jerr;
        json_t *j = json_loads(s, 0, &jerr);
        if (!j)
                return 0;
        if (!json_is_array(j)) {
                json_decref(j);
                return 0;
        }
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) {
                if (!json_is_string(v)) {
                        json_decref(j);
                        build_strlist_done(out);
                        return -EINVAL;
                }
                build_strlist_push(out, xstrdup(json_string_value(v)));
        }
        json_decref(j);
        return 1;
}

#define ERR_NOT_STRINGS "when using JSON array syntax, arrays must be comprised of strings only"

/* --- durations (Go's time.ParseDuration) ------------------------------------ */

int build_parse_duration(const char *s, int64_t *ret_ns, struct berth_err *err)
{
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = {
            {"ns", 1},       {"us", 1000},         {"\xc2\xb5s", 1000},   {"\xce\xbcs", 1000},
            {"ms", 1000000}, {"s", 1000000000ull}, {"m", 60000000000ull}, {"h", 3600000000000ull},
        };
        const char *orig = s, *p = s;
        bool neg = false;
        uint64_t total = 0;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (streq(p, "0")) {
                *ret_ns = 0;
                return 0;
        }
        if (!*p)
                goto invalid;
        while (*p) {
                if (!(isdigit((unsigned char)*p) || *p == '.'))
                        goto invalid;
                uint64_t v = 0, frac = 0, scale = 1;
                bool digits = false, overflow = false;
                for (; isdigit((unsigned char)*p); p++) {
                        digits = true;
                        if (v > (UINT64_MAX - 9) / 10)
                                overflow = true;
                        else
                                v = v * 10 + (uint64_t)(*p - '0');
                }
                if (overflow)
                        goto invalid;
                if (*p == '.') {
                        for (p++; isdigit((unsigned char)*p); p++) {
                                digits = true;
                                if (scale <= UINT64_MAX / 100) {
                                        frac = frac * 10 + (uint64_t)(*p - '0');
                                        scale *= 10;
                                }
                        }
                }
                if (!digits)
                        goto invalid;
                const char *u = p;
                while (*p && *p != '.' && !isdigit((unsigned char)*p))
                        p++;
                size_t ul = (size_t)(p - u);
                if (!ul)
                        return err_set(err, -EINVAL, "time: missing unit in duration \"%s\"", orig);
                uint64_t mult = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].unit) == ul && memcmp(units[i].unit, u, ul) == 0)
                                mult = units[i].ns;
                if (!mult)
                        return err_set(err, -EINVAL,
                                       "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ul, u,
                                       orig);
                if (v > (uint64_t)INT64_MAX / mult)
                        goto invalid;
                v *= mult;
                v += (uint64_t)((long double)frac * (long double)mult / (long double)scale);
                total += v;
                if (total > (uint64_t)INT64_MAX)
                        goto invalid;
        }
        *ret_ns = neg ? -(int64_t)total : (int64_t)total;
        return 0;
invalid:
        return err_set(err, -EINVAL, "time: invalid duration \"%s\"", orig);
}

/* --- instructions ----------------------------------------------------------- */

enum kind {
        K_FROM,
        K_ARG,
        K_ENV,
        K_LABEL,
        K_RUN,
        K_CMD,
        K_ENTRYPOINT,
        K_SHELL,
        K_COPY,
        K_ADD,
        K_WORKDIR,
        K_USER,
        K_STOPSIGNAL,
        K_MAINTAINER,
        K_EXPOSE,
        K_VOLUME,
        K_HEALTHCHECK,
        K_ONBUILD,
};

struct flagdef {
        const char *name;
        char type; /* 's' string, 'b' bool, 'm' repeatable string */
};

static const struct flagdef flags_from[] = {{"platform", 's'}, {0}};
static const struct flagdef flags_run[] = {
    {"mount", 'm'}, {"network", 's'}, {"security", 's'}, {"device", 'm'}, {0}};
static const struct flagdef flags_copy[] = {{"from", 's'},
                                            {"chown", 's'},
                                            {"chmod", 's'},
                                            {"link", 'b'},
                                            {"parents", 'b'},
                                            {"exclude", 'm'},
                                            {0}};
static const struct flagdef flags_add[] = {
    {"chown", 's'},    {"chmod", 's'},   {"link", 'b'},   {"keep-git-dir", 'b'},
    {"checksum", 's'}, {"exclude", 'm'}, {"unpack", 'b'}, {0}};
static const struct flagdef flags_health[] = {{"interval", 's'},     {"timeout", 's'},
                                              {"start-period", 's'}, {"start-interval", 's'},
                                              {"retries", 's'},      {0}};
static const struct flagdef flags_none[] = {{0}};

static const struct kwdef {
        const char *name;
        enum kind kind;
        const struct flagdef *flags;
} keywords[] = {
    {"FROM", K_FROM, flags_from},
    {"ARG", K_ARG, flags_none},
    {"ENV", K_ENV, flags_none},
    {"LABEL", K_LABEL, flags_none},
    {"RUN", K_RUN, flags_run},
    {"CMD", K_CMD, flags_none},
    {"ENTRYPOINT", K_ENTRYPOINT, flags_none},
    {"SHELL", K_SHELL, flags_none},
    {"COPY", K_COPY, flags_copy},
    {"ADD", K_ADD, flags_add},
    {"WORKDIR", K_WORKDIR, flags_none},
    {"USER", K_USER, flags_none},
    {"STOPSIGNAL", K_STOPSIGNAL, flags_none},
    {"MAINTAINER", K_MAINTAINER, flags_none},
    {"EXPOSE", K_EXPOSE, flags_none},
    {"VOLUME", K_VOLUME, flags_none},
    {"HEALTHCHECK", K_HEALTHCHECK, flags_health},
    {"ONBUILD", K_ONBUILD, flags_none},
};

static const struct kwdef *keyword_find(const char *upper)
{
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (streq(keywords[i].name, upper))
                        return &keywords[i];
        return NULL;
}

static void instr_done(struct build_instr *in)
{
        free(in->keyword);
        free(in->original);
        for (size_t i = 0; i < in->n_flags; i++) {
                free(in->flags[i].name);
                free(in->flags[i].value);
        }
        free(in->flags);
        if (in->args)
                for (size_t i = 0; i < in->n_args; i++)
                        free(in->args[i]);
        free(in->args);
        for (size_t i = 0; i < in->n_kv; i++) {
                free(in->kv[i].key);
                free(in->kv[i].value);
        }
        free(in->kv);
        for (size_t i = 0; i < in->n_heredocs; i++) {
                free(in->heredocs[i].name);
                free(in->heredocs[i].body);
        }
        free(in->heredocs);
        free(in->trigger);
        free(in->trigger_keyword);
        *in = (struct build_instr){0};
}

static void set_args(struct build_instr *in, struct build_strlist *l, enum build_form form)
{
        if (!l->v)
                build_strlist_push(l, NULL), l->n = 0; /* an empty, NULL-terminated vector */
        in->args = l->v;
        in->n_args = l->n;
        in->form = form;
        *l = (struct build_strlist){0};
}

static void set_shell(struct build_instr *in, const char *rest)
{
        struct build_strlist l = {0};
        build_strlist_push(&l, xstrdup(rest));
        set_args(in, &l, BUILD_FORM_SHELL);
}

static int check_flags(struct build_instr *in, const struct build_strlist *raw,
                       const struct flagdef *defs, struct berth_err *err)
{
        size_t cap = 0;
        for (size_t i = 0; i < raw->n; i++) {
                const char *a = raw->v[i] + 2, *eq = strchr(a, '=');
                _cleanup_free_ char *name = eq ? xstrndup(a, (size_t)(eq - a)) : xstrdup(a);
                const char *value = eq ? eq + 1 : NULL;
                const struct flagdef *d = NULL;
                for (const struct flagdef *f = defs; f->name; f++)
                        if (streq(f->name, name))
                                d = f;
                if (!d)
                        return perr(err, in->line, "Unknown flag: %s", name);
                if (d->type != 'm')
                        for (size_t k = 0; k < in->n_flags; k++)
                                if (streq(in->flags[k].name, name))
                                        return perr(err, in->line, "Duplicate flag specified: %s",
                                                    name);
                char *v;
                if (d->type == 'b') {
                        if (value && !*value)
                                return perr(err, in->line, "Missing a value on flag: %s", name);
                        if (!value || strcasecmp(value, "true") == 0)
                                v = xstrdup("true");
                        else if (strcasecmp(value, "false") == 0)
                                v = xstrdup("false");
                        else
                                return perr(err, in->line,
                                            "Expecting boolean value for flag %s, not: %s", name,
                                            value);
                } else {
                        if (!value)
                                return perr(err, in->line, "Missing a value on flag: %s", name);
                        v = xstrdup(value);
                }
                in->flags = build_grow(in->flags, &cap, in->n_flags + 1, sizeof(*in->flags));
                in->flags[in->n_flags++] = (struct build_flag){TAKE_PTR(name), v};
        }
        return 0;
}

/* ENV and LABEL: "k=v k2=v2" or the legacy "k the rest". */
static int parse_name_val(struct build_instr *in, const char *rest, char esc, struct berth_err *err)
{
        struct build_strlist words = {0};
        size_t cap = 0;
        int r = 0;
        split_words_quoted(rest, esc, &words);
        if (words.n == 0) {
                r = perr(err, in->line, "%s requires at least one argument", in->keyword);
                goto out;
        }
        if (!strchr(words.v[0], '=')) {
                const char *p = rest;
                while (*p && !build_isspace(*p))
                        p++;
                const char *v = ltrim(p, p + strlen(p));
                if (!*v) {
                        r = perr(err, in->line, "%s must have two arguments", in->keyword);
                        goto out;
                }
                in->kv = xzalloc(sizeof(*in->kv));
                in->kv[0] = (struct build_kv){xstrndup(rest, (size_t)(p - rest)), xstrdup(v)};
                in->n_kv = 1;
                in->form = BUILD_FORM_KV;
                goto out;
        }
        for (size_t i = 0; i < words.n; i++) {
                const char *eq = strchr(words.v[i], '=');
                if (!eq) {
                        r = perr(err, in->line,
                                 "Syntax error - can't find = in \"%s\". Must be of the form: "
                                 "name=value",
                                 words.v[i]);
                        goto out;
                }
                if (eq == words.v[i]) {
                        r = perr(err, in->line, "%s names can not be blank", in->keyword);
                        goto out;
                }
                in->kv = build_grow(in->kv, &cap, in->n_kv + 1, sizeof(*in->kv));
                in->kv[in->n_kv++] = (struct build_kv){
                    xstrndup(words.v[i], (size_t)(eq - words.v[i])), xstrdup(eq + 1)};
        }
        in->form = BUILD_FORM_KV;
out:
        build_strlist_done(&words);
        return r;
}

static int parse_arg(struct build_instr *in, const char *rest, char esc, struct berth_err *err)
{
        struct build_strlist words = {0};
        size_t cap = 0;
        int r = 0;
        split_words_quoted(rest, esc, &words);
        if (words.n == 0) {
                r = perr(err, in->line, "ARG requires at least one argument");
                goto out;
        }
        for (size_t i = 0; i < words.n; i++) {
                const char *eq = strchr(words.v[i], '=');
                if (eq == words.v[i] || !words.v[i][0]) {
                        r = perr(err, in->line, "ARG names can not be blank");
                        goto out;
                }
                in->kv = build_grow(in->kv, &cap, in->n_kv + 1, sizeof(*in->kv));
                in->kv[in->n_kv++] =
                    eq ? (struct build_kv){xstrndup(words.v[i], (size_t)(eq - words.v[i])),
                                           xstrdup(eq + 1)}
                       : (struct build_kv){xstrdup(words.v[i]), NULL};
        }
        in->form = BUILD_FORM_KV;
out:
        build_strlist_done(&words);
        return r;
}

static bool valid_stage_name(const char *s)
{
        if (!isalpha((unsigned char)*s))
                return false;
        for (s++; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
                        return false;
        return true;
}

/* RUN, CMD, ENTRYPOINT, HEALTHCHECK CMD: exec form if JSON, else shell. */
static int parse_maybe_json(struct build_instr *in, const char *rest, struct berth_err *err)
{
        struct build_strlist l = {0};
        if (!*rest) {
                set_args(in, &l, BUILD_FORM_NONE);
                return 0;
        }
        int r = parse_json_array(rest, &l);
        if (r < 0)
                return perr(err, in->line, ERR_NOT_STRINGS);
        if (r > 0)
                set_args(in, &l, BUILD_FORM_EXEC);
        else
                set_shell(in, rest);
        return 0;
}

/* COPY, ADD, VOLUME: exec form if JSON, else blank-separated words. */
static int parse_maybe_json_list(struct build_instr *in, const char *rest, struct berth_err *err)
{
        struct build_strlist l = {0};
        int r = parse_json_array(rest, &l);
        if (r < 0)
                return perr(err, in->line, ERR_NOT_STRINGS);
        if (r > 0) {
                set_args(in, &l, BUILD_FORM_EXEC);
                return 0;
        }
        split_words_plain(rest, &l);
        set_args(in, &l, BUILD_FORM_WORDS);
        return 0;
}

static int parse_health(struct build_instr *in, const char *rest,
                        const struct build_strlist *rawflags, struct berth_err *err)
{
        const char *p = rest;
        while (*p && !build_isspace(*p))
                p++;
        if (p == rest)
                return perr(err, in->line, "HEALTHCHECK requires at least one argument");
        _cleanup_free_ char *typ = xstrndup(rest, (size_t)(p - rest));
        for (char *c = typ; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        const char *cmd = ltrim(p, p + strlen(p));
        if (streq(typ, "NONE")) {
                if (*cmd)
                        return perr(err, in->line, "HEALTHCHECK NONE takes no arguments");
                in->health.none = true;
                struct build_strlist l = {0};
                set_args(in, &l, BUILD_FORM_NONE);
                return 0;
        }
        int r = check_flags(in, rawflags, flags_health, err);
        if (r < 0)
                return r;
        if (!streq(typ, "CMD"))
                return perr(err, in->line, "Unknown type \"%s\" in HEALTHCHECK (try CMD)", typ);
        r = parse_maybe_json(in, cmd, err);
        if (r < 0)
                return r;
        if (in->form == BUILD_FORM_NONE)
                return perr(err, in->line, "Missing command after HEALTHCHECK CMD");
        static const char *const names[] = {"interval", "timeout", "start-period",
                                            "start-interval"};
        int64_t *slots[] = {&in->health.interval_ns, &in->health.timeout_ns,
                            &in->health.start_period_ns, &in->health.start_interval_ns};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const struct build_flag *f = build_instr_flag(in, names[i]);
                if (!f || !*f->value)
                        continue;
                int64_t d;
                struct berth_err e = {0};
                if (build_parse_duration(f->value, &d, &e) < 0)
                        return perr(err, in->line, "%s", e.msg);
                if (d != 0 && d < 1000000)
                        return perr(err, in->line, "Interval \"%s\" cannot be less than 1ms",
                                    names[i]);
                *slots[i] = d;
        }
        const struct build_flag *f = build_instr_flag(in, "retries");
        if (f && *f->value) {
                int64_t n = 0;
                int pr = parse_int64(f->value, &n);
                if (pr < 0 || n > INT32_MAX || n < INT32_MIN)
                        return perr(err, in->line, "strconv.ParseInt: parsing \"%s\": %s", f->value,
                                    pr == -EINVAL ? "invalid syntax" : "value out of range");
                if (n < 1)
                        return perr(err, in->line, "--retries must be at least 1 (not %" PRId64 ")",
                                    n);
                in->health.retries = n;
        }
        return 0;
}

/* "[digits]<<[-]NAME" with NAME possibly quoted: a heredoc opener. */
static bool heredoc_word(const char *w, struct build_heredoc *h)
{
        const char *p = w;
        int fd = -1;
        if (isdigit((unsigned char)*p)) {
                fd = 0;
                for (; isdigit((unsigned char)*p); p++)
                        fd = fd < 100000 ? fd * 10 + (*p - '0') : fd;
        }
        if (p[0] != '<' || p[1] != '<')
                return false;
        p += 2;
        bool strip = false;
        if (*p == '-') {
                strip = true;
                p++;
        }
        if (!*p || strchr(p, '<'))
                return false;
        struct build_sbuf name = {0};
        bool quoted = false;
        char q = 0;
        for (; *p; p++) {
                if (!q && (*p == '\'' || *p == '"')) {
                        q = *p;
                        quoted = true;
                        continue;
                }
                if (q && *p == q) {
                        q = 0;
                        continue;
                }
                build_sb_addc(&name, *p);
        }
        if (!name.len) {
                free(name.p);
                return false;
        }
        *h = (struct build_heredoc){
            .name = build_sb_take(&name), .expand = !quoted, .strip_tabs = strip, .fd = fd};
        return true;
}

/* --- the line reader and the main loop ------------------------------------- */

struct parser {
        const char *p, *end;
        unsigned lineno;
        char esc;
        struct berth_err *err;
};

/* The next physical line, without "\n" and a trailing "\r" (Go's
 * ScanLines). 1, 0 at the end, or -EINVAL for an overlong line. */
static int next_line(struct parser *ps, const char **ret, size_t *ret_len)
{
        if (ps->p >= ps->end)
                return 0;
        const char *s = ps->p;
        const char *nl = memchr(s, '\n', (size_t)(ps->end - s));
        const char *e = nl ? nl : ps->end;
        ps->p = nl ? nl + 1 : ps->end;
        ps->lineno++;
        if ((size_t)(e - s) > BUILD_LINE_MAX)
                return perr(ps->err, ps->lineno,
                            "dockerfile line greater than max allowed size of %u", BUILD_LINE_MAX);
        if (e > s && e[-1] == '\r')
                e--;
        *ret = s;
        *ret_len = (size_t)(e - s);
        return 1;
}

static bool is_comment(const char *s, size_t n)
{
        const char *p = ltrim(s, s + n);
        return p < s + n && *p == '#';
}

/* Strip the escape character (and blanks after it) at the end: true if the
 * line continues. */
static bool trim_continuation(const char *s, size_t *n, char esc)
{
        size_t l = *n;
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
                l--;
        /* Docker's ([^E])E[ \t]*$|^E[ \t]*$: a doubled escape at the end
         * is text, not a continuation */
        if (l > 0 && s[l - 1] == esc && (l == 1 || s[l - 2] != esc)) {
                *n = l - 1;
                return true;
        }
        return false;
}

static int read_heredocs(struct parser *ps, struct build_instr *in)
{
        for (size_t i = 0; i < in->n_heredocs; i++) {
                struct build_heredoc *h = &in->heredocs[i];
                struct build_sbuf body = {0};
                for (;;) {
                        const char *l;
                        size_t n;
                        int r = next_line(ps, &l, &n);
                        if (r < 0) {
                                free(body.p);
                                return r;
                        }
                        if (r == 0) {
                                free(body.p);
                                return perr(ps->err, in->line, "unterminated heredoc");
                        }
                        if (h->strip_tabs)
                                while (n && *l == '\t')
                                        l++, n--;
                        if (n == strlen(h->name) && memcmp(l, h->name, n) == 0)
                                break;
                        build_sb_addn(&body, l, n);
                        build_sb_addc(&body, '\n');
                }
                h->body = build_sb_take(&body);
                in->end_line = ps->lineno;
        }
        return 0;
}

static void find_heredocs(struct build_instr *in, const char *args, char esc)
{
        struct build_strlist words = {0};
        size_t cap = 0;
        split_words_quoted(args, esc, &words);
        for (size_t i = 0; i < words.n; i++) {
                struct build_heredoc h;
                if (!heredoc_word(words.v[i], &h))
                        continue;
                in->heredocs =
                    build_grow(in->heredocs, &cap, in->n_heredocs + 1, sizeof(*in->heredocs));
                in->heredocs[in->n_heredocs++] = h;
        }
        build_strlist_done(&words);
}

/* One logical line into *in. ps is NULL for an ONBUILD trigger (no heredocs). */
static int parse_instr(struct parser *ps, char esc, const char *line, unsigned lineno,
                       struct build_instr *in, struct berth_err *err);

static int parse_onbuild(struct build_instr *in, const char *rest, char esc, struct berth_err *err)
{
        if (!*rest)
                return perr(err, in->line, "ONBUILD requires at least one argument");
        const char *p = rest;
        while (*p && !build_isspace(*p))
                p++;
        _cleanup_free_ char *kw = xstrndup(rest, (size_t)(p - rest));
        for (char *c = kw; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        if (streq(kw, "ONBUILD"))
                return perr(err, in->line, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (streq(kw, "FROM") || streq(kw, "MAINTAINER"))
                return perr(err, in->line, "%s isn't allowed as an ONBUILD trigger", kw);
        /* Docker checks the trigger only when it fires (in the child
         * image); its JSON must still be well-formed now. */
        struct build_instr t = {0};
        struct berth_err e = {0};
        int r = parse_instr(NULL, esc, rest, in->line, &t, &e);
        bool json_bad = r < 0 && strstr(e.msg, ERR_NOT_STRINGS);
        if (r >= 0 && t.n_heredocs) {
                /* the trigger's heredoc bodies follow, as for the instruction
                 * itself: the caller reads them into this ONBUILD */
                in->heredocs = TAKE_PTR(t.heredocs);
                in->n_heredocs = t.n_heredocs;
                t.n_heredocs = 0;
        }
        instr_done(&t);
        if (json_bad)
                return perr(err, in->line, ERR_NOT_STRINGS);
        in->trigger = xstrdup(rest);
        in->trigger_keyword = TAKE_PTR(kw);
        struct build_strlist l = {0};
        set_args(in, &l, BUILD_FORM_NONE);
        return 0;
}

static int parse_instr(struct parser *ps, char esc, const char *line, unsigned lineno,
                       struct build_instr *in, struct berth_err *err)
{
        const char *end = line + strlen(line);
        const char *s = ltrim(line, end);
        end = rtrim(s, end);
        const char *p = s;
        while (p < end && !build_isspace(*p))
                p++;
        in->line = in->end_line = lineno;
        in->original = xstrndup(s, (size_t)(end - s));
        in->keyword = xstrndup(s, (size_t)(p - s));
        for (char *c = in->keyword; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        const struct kwdef *kw = keyword_find(in->keyword);
        if (!kw)
                return perr(err, lineno, "unknown instruction: %s", in->keyword);

        _cleanup_free_ char *tail = xstrndup(p, (size_t)(end - p));
        struct build_strlist rawflags = {0};
        const char *a = extract_flags(tail, &rawflags);
        a = ltrim(a, a + strlen(a));
        _cleanup_free_ char *rest = xstrndup(a, (size_t)(rtrim(a, a + strlen(a)) - a));
        int r = 0;
        if (kw->kind != K_HEALTHCHECK) {
                r = check_flags(in, &rawflags, kw->flags, err);
                if (r < 0)
                        goto out;
        }

        struct build_strlist l = {0};
        switch (kw->kind) {
        case K_FROM:
                split_words_plain(rest, &l);
                if (!(l.n == 1 || (l.n == 3 && strcasecmp(l.v[1], "AS") == 0))) {
                        build_strlist_done(&l);
                        r = perr(err, lineno, "FROM requires either one or three arguments");
                        break;
                }
                if (l.n == 3 && !valid_stage_name(l.v[2])) {
                        r = perr(err, lineno,
                                 "invalid name for build stage: \"%s\", name can't start with a "
                                 "number or contain symbols",
                                 l.v[2]);
                        build_strlist_done(&l);
                        break;
                }
                set_args(in, &l, BUILD_FORM_WORDS);
                break;
        case K_ARG:
                r = parse_arg(in, rest, esc, err);
                break;
        case K_ENV:
        case K_LABEL:
                r = parse_name_val(in, rest, esc, err);
                break;
        case K_RUN:
        case K_CMD:
        case K_ENTRYPOINT:
                r = parse_maybe_json(in, rest, err);
                if (r >= 0 && kw->kind == K_RUN && in->form == BUILD_FORM_SHELL)
                        find_heredocs(in, rest, esc);
                break;
        case K_SHELL:
                r = parse_json_array(rest, &l);
                if (r < 0) {
                        r = perr(err, lineno, ERR_NOT_STRINGS);
                        break;
                }
                if (r == 0) {
                        build_strlist_done(&l);
                        r = perr(err, lineno, "SHELL requires the arguments to be in JSON form");
                        break;
                }
                if (l.n == 0) {
                        build_strlist_done(&l);
                        r = perr(err, lineno, "SHELL requires at least one argument");
                        break;
                }
                set_args(in, &l, BUILD_FORM_EXEC);
                r = 0;
                break;
        case K_COPY:
        case K_ADD:
                r = parse_maybe_json_list(in, rest, err);
                if (r < 0)
                        break;
                if (in->form == BUILD_FORM_WORDS)
                        find_heredocs(in, rest, esc);
                if (in->n_args < 2)
                        r = perr(err, lineno,
                                 "%s requires at least two arguments, but only one was provided. "
                                 "Destination could not be determined.",
                                 in->keyword);
                break;
        case K_WORKDIR:
        case K_USER:
        case K_STOPSIGNAL:
        case K_MAINTAINER:
                if (!*rest) {
                        r = perr(err, lineno, "%s requires exactly one argument", in->keyword);
                        break;
                }
                set_shell(in, rest);
                in->form = BUILD_FORM_WORDS;
                break;
        case K_EXPOSE:
                split_words_plain(rest, &l);
                if (l.n == 0) {
                        build_strlist_done(&l);
                        r = perr(err, lineno, "EXPOSE requires at least one argument");
                        break;
                }
                set_args(in, &l, BUILD_FORM_WORDS);
                break;
        case K_VOLUME:
                r = parse_maybe_json_list(in, rest, err);
                if (r < 0)
                        break;
                if (in->n_args == 0) {
                        r = perr(err, lineno, "VOLUME requires at least one argument");
                        break;
                }
                for (size_t i = 0; i < in->n_args; i++) {
                        const char *v = in->args[i];
                        if (ltrim(v, v + strlen(v)) == v + strlen(v)) {
                                r = perr(err, lineno,
                                         "VOLUME specified can not be an empty string");
                                break;
                        }
                }
                break;
        case K_HEALTHCHECK:
                r = parse_health(in, rest, &rawflags, err);
                break;
        case K_ONBUILD:
                r = parse_onbuild(in, rest, esc, err);
                break;
        }
        if (r >= 0 && !in->args) {
                enum build_form form = in->form;
                set_args(in, &l, form);
        }
        if (r >= 0 && ps && in->n_heredocs)
                r = read_heredocs(ps, in);
out:
        build_strlist_done(&rawflags);
        return r;
}

/* --- the file -------------------------------------------------------------- */

static void stage_done(struct build_stage *s)
{
        free(s->name);
        free(s->base);
        free(s->platform);
        if (s->from) {
                instr_done(s->from);
                free(s->from);
        }
        for (size_t i = 0; i < s->n_instrs; i++)
                instr_done(&s->instrs[i]);
        free(s->instrs);
}

struct build_file *build_file_free(struct build_file *f)
{
        if (!f)
                return NULL;
        free(f->syntax);
        for (size_t i = 0; i < f->n_meta_args; i++)
                instr_done(&f->meta_args[i]);
        free(f->meta_args);
        for (size_t i = 0; i < f->n_stages; i++)
                stage_done(&f->stages[i]);
        free(f->stages);
        strv_free(f->warnings);
        if (f->priv) {
                build_smap_done(f->priv);
                free(f->priv);
        }
        free(f);
        return NULL;
}

static void file_freep(struct build_file **f)
{
        build_file_free(*f);
}

/* ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ : 1 and key, value if the line
 * has a directive's shape. */
static bool directive_shape(const char *s, size_t n, char **ret_key, char **ret_value)
{
        const char *p = s, *end = s + n;
        if (p >= end || *p != '#')
                return false;
        p = ltrim(p + 1, end);
        const char *k = p;
        if (p >= end || !isalpha((unsigned char)*p))
                return false;
        while (p < end && isalnum((unsigned char)*p))
                p++;
        const char *ke = p;
        p = ltrim(p, end);
        if (p >= end || *p != '=')
                return false;
        p = ltrim(p + 1, end);
        const char *ve = rtrim(p, end);
        if (ve == p)
                return false;
        *ret_key = xstrndup(k, (size_t)(ke - k));
        for (char *c = *ret_key; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        *ret_value = xstrndup(p, (size_t)(ve - p));
        return true;
}

/* 1 if the line was a directive (consumed), 0 if the directives are over,
 * -EINVAL for a bad one. */
static int directive(struct parser *ps, struct build_file *f, const char *s, size_t n,
                     bool *seen_escape)
{
        _cleanup_free_ char *key = NULL, *value = NULL;
        if (!directive_shape(s, n, &key, &value))
                return 0;
        if (streq(key, "escape")) {
                if (*seen_escape)
                        return err_set(ps->err, -EINVAL,
                                       "only one escape parser directive can be used");
                if (!streq(value, "`") && !streq(value, "\\"))
                        return err_set(ps->err, -EINVAL,
                                       "invalid escape token '%s' does not match ` or \\", value);
                *seen_escape = true;
                ps->esc = value[0];
                f->escape = ps->esc;
                return 1;
        }
        if (streq(key, "syntax")) {
                if (f->syntax)
                        return err_set(ps->err, -EINVAL,
                                       "only one syntax parser directive can be used");
                f->syntax = TAKE_PTR(value);
                return 1;
        }
        return 0; /* an unknown key is a comment and ends the directives */
}

static int add_instr(struct build_file *f, struct build_instr *in, size_t *cap_meta,
                     size_t *cap_stages, size_t *cap_instrs, struct berth_err *err)
{
        if (streq(in->keyword, "FROM")) {
                struct build_stage st = {0};
                st.base = xstrdup(in->args[0]);
                if (in->n_args == 3) {
                        st.name = xstrdup(in->args[2]);
                        for (char *c = st.name; *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        if (build_smap_get(f->priv, st.name) >= 0) {
                                int r = perr(err, in->line, "%s stage name already used", st.name);
                                stage_done(&st);
                                return r;
                        }
                        build_smap_put(f->priv, st.name, f->n_stages);
                }
                const struct build_flag *pl = build_instr_flag(in, "platform");
                st.platform = pl ? xstrdup(pl->value) : NULL;
                st.from = xmalloc(sizeof(*st.from));
                *st.from = *in;
                f->stages = build_grow(f->stages, cap_stages, f->n_stages + 1, sizeof(*f->stages));
                f->stages[f->n_stages++] = st;
                *cap_instrs = 0;
                return 0;
        }
        if (f->n_stages == 0) {
                if (!streq(in->keyword, "ARG"))
                        return perr(err, in->line, "no build stage in current context");
                f->meta_args =
                    build_grow(f->meta_args, cap_meta, f->n_meta_args + 1, sizeof(*f->meta_args));
                f->meta_args[f->n_meta_args++] = *in;
                return 0;
        }
        struct build_stage *st = &f->stages[f->n_stages - 1];
        st->instrs = build_grow(st->instrs, cap_instrs, st->n_instrs + 1, sizeof(*st->instrs));
        st->instrs[st->n_instrs++] = *in;
        return 0;
}

int build_parse(const void *data, size_t len, const char *name, struct build_file **ret,
                struct berth_err *err)
{
        _cleanup_(file_freep) struct build_file *f = xzalloc(sizeof(*f));
        struct build_smap *names = xzalloc(sizeof(*names));
        names->icase = true;
        f->priv = names;
        struct parser ps = {.p = data, .end = (const char *)data + len, .esc = '\\', .err = err};
        f->escape = '\\';
        if (len == 0)
                return err_set(err, -EINVAL, "the Dockerfile (%s) cannot be empty",
                               name ? name : "Dockerfile");
        struct build_strlist warnings = {0};
        size_t cap_meta = 0, cap_stages = 0, cap_instrs = 0;
        bool directives = true, seen_escape = false;
        struct build_sbuf line = {0};
        int r;
        const char *l;
        size_t n;
        while ((r = next_line(&ps, &l, &n)) > 0) {
                if (ps.lineno == 1 && n >= 3 && memcmp(l, "\xef\xbb\xbf", 3) == 0)
                        l += 3, n -= 3;
                const char *s = ltrim(l, l + n);
                n -= (size_t)(s - l);
                l = s;
                if (directives) {
                        r = directive(&ps, f, l, n, &seen_escape);
                        if (r < 0)
                                goto fail;
                        if (r > 0)
                                continue;
                        directives = false;
                }
                if (is_comment(l, n))
                        continue;
                unsigned start = ps.lineno;
                bool more = trim_continuation(l, &n, ps.esc);
                if (!more && n == 0)
                        continue;
                line.len = 0;
                build_sb_addn(&line, l, n);
                bool empty_cont = false;
                while (more) {
                        r = next_line(&ps, &l, &n);
                        if (r < 0)
                                goto fail;
                        if (r == 0)
                                break;
                        if (is_comment(l, n))
                                continue;
                        if (ltrim(l, l + n) == l + n) {
                                empty_cont = true;
                                continue;
                        }
                        more = trim_continuation(l, &n, ps.esc);
                        build_sb_addn(&line, l, n);
                }
                if (memchr(line.p, 0, line.len)) {
                        /* NUL is not text: Docker's Go strings would carry it
                         * into an instruction name or a path; refuse it here. */
                        r = perr(err, start, "unexpected NUL byte");
                        goto fail;
                }
                if (empty_cont)
                        build_strlist_push(
                            &warnings,
                            xasprintf("[WARNING]: Empty continuation line found in:\n    %s",
                                      line.p));
                struct build_instr in = {0};
                r = parse_instr(&ps, ps.esc, line.p, start, &in, err);
                if (r < 0) {
                        instr_done(&in);
                        goto fail;
                }
                in.end_line = ps.lineno;
                r = add_instr(f, &in, &cap_meta, &cap_stages, &cap_instrs, err);
                if (r < 0) {
                        instr_done(&in);
                        goto fail;
                }
        }
        if (r < 0)
                goto fail;
        free(line.p);
        if (f->n_stages == 0) {
                build_strlist_done(&warnings);
                if (f->n_meta_args == 0)
                        return err_set(err, -EINVAL,
                                       "failed to parse Dockerfile: file with no instructions");
                return err_set(err, -EINVAL, "No image was generated. Is your Dockerfile empty?");
        }
        if (warnings.n)
                build_strlist_push(&warnings,
                                   xstrdup("[WARNING]: Empty continuation lines will become "
                                           "errors in a future release."));
        f->warnings = warnings.v;
        *ret = TAKE_PTR(f);
        return 0;
fail:
        free(line.p);
        build_strlist_done(&warnings);
        return r;
}

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

struct build_instr *build_instr_dup(const struct build_instr *in)
{
        struct build_instr *c = xmalloc(sizeof(*c));
        *c = *in;
        c->keyword = xstrdup(in->keyword);
        c->original = dup_or_null(in->original);
        c->trigger = dup_or_null(in->trigger);
        c->trigger_keyword = dup_or_null(in->trigger_keyword);
        c->flags = in->n_flags ? xmalloc(in->n_flags * sizeof(*c->flags)) : NULL;
        for (size_t i = 0; i < in->n_flags; i++)
                c->flags[i] =
                    (struct build_flag){xstrdup(in->flags[i].name), xstrdup(in->flags[i].value)};
        c->args = xmalloc((in->n_args + 1) * sizeof(char *));
        for (size_t i = 0; i < in->n_args; i++)
                c->args[i] = xstrdup(in->args[i]);
        c->args[in->n_args] = NULL;
        c->kv = in->n_kv ? xmalloc(in->n_kv * sizeof(*c->kv)) : NULL;
        for (size_t i = 0; i < in->n_kv; i++)
                c->kv[i] = (struct build_kv){xstrdup(in->kv[i].key), dup_or_null(in->kv[i].value)};
        c->heredocs = in->n_heredocs ? xmalloc(in->n_heredocs * sizeof(*c->heredocs)) : NULL;
        for (size_t i = 0; i < in->n_heredocs; i++) {
                c->heredocs[i] = in->heredocs[i];
                c->heredocs[i].name = xstrdup(in->heredocs[i].name);
                c->heredocs[i].body = dup_or_null(in->heredocs[i].body);
        }
        return c;
}

struct build_instr *build_instr_free(struct build_instr *in)
{
        if (!in)
                return NULL;
        instr_done(in);
        free(in);
        return NULL;
}

const struct build_flag *build_instr_flag(const struct build_instr *in, const char *name)
{
        const struct build_flag *found = NULL;
        for (size_t i = 0; i < in->n_flags; i++)
                if (streq(in->flags[i].name, name))
                        found = &in->flags[i];
        return found;
}

int build_file_stage_index(const struct build_file *f, const char *name_or_index, size_t before)
{
        if (before > f->n_stages)
                before = f->n_stages;
        ssize_t named = f->priv ? build_smap_get(f->priv, name_or_index) : -1;
        if (named >= 0 && (size_t)named < before)
                return (int)named;
        int64_t ix;
        if (*name_or_index && isdigit((unsigned char)*name_or_index) &&
            parse_int64(name_or_index, &ix) == 0 && ix >= 0 && (uint64_t)ix < before)
                return (int)ix;
        return -1;
}

/* --- the name map ----------------------------------------------------------- */

static size_t build_smap_hash(const char *s, bool icase)
{
        size_t h = 1469598103934665603ull;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                h = (h ^ (icase ? (unsigned char)tolower(c) : c)) * 1099511628211ull;
        }
        return h;
}

static bool build_smap_eq(const struct build_smap *m, const char *a, const char *b)
{
        return m->icase ? strcasecmp(a, b) == 0 : streq(a, b);
}

ssize_t build_smap_get(const struct build_smap *m, const char *key)
{
        if (!m->cap)
                return -1;
        for (size_t i = build_smap_hash(key, m->icase) & (m->cap - 1);;
             i = (i + 1) & (m->cap - 1)) {
                if (!m->keys[i])
                        return -1;
                if (build_smap_eq(m, m->keys[i], key))
                        return (ssize_t)m->vals[i];
        }
}

void build_smap_put(struct build_smap *m, const char *key, size_t val)
{
        if ((m->n + 1) * 2 > m->cap) {
                struct build_smap g = {.cap = m->cap ? m->cap * 2 : 16, .icase = m->icase};
                g.keys = xzalloc(g.cap * sizeof(*g.keys));
                g.vals = xzalloc(g.cap * sizeof(*g.vals));
                for (size_t i = 0; i < m->cap; i++)
                        if (m->keys[i])
                                build_smap_put(&g, m->keys[i], m->vals[i]);
                free(m->keys);
                free(m->vals);
                *m = g;
        }
        size_t i = build_smap_hash(key, m->icase) & (m->cap - 1);
        for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
                if (build_smap_eq(m, m->keys[i], key)) {
                        m->vals[i] = val;
                        return;
                }
        m->keys[i] = key;
        m->vals[i] = val;
        m->n++;
}

void build_smap_done(struct build_smap *m)
{
        free(m->keys);
        free(m->vals);
        *m = (struct build_smap){.icase = m->icase};
}
