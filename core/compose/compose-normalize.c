/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The merged compose document -> the normalized model, in the shape docker
 * compose v2 prints with `config --format json` (compose-go's loader:
 * canonical long forms, defaults, resolved paths, implicit networks and
 * dependencies, resource names, env_file folded into environment). Also the
 * model's consumers that need nothing but the model: the writer, the
 * service hash and the dependency order. */
#include "compose-interp.h"
#include "compose-model.h"

#include "base/sha256.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- small helpers ------------------------------------------------------ */

/* A scalar as the string Go's fmt.Sprint gives for it (compose stringifies
 * env, label and sysctl values that way); NULL for null and containers. */
static char *scalar_str(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return xstrdup(json_string_value(v));
        case JSON_INTEGER:
                return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_REAL: {
                double d = json_real_value(v);
                /* the shortest form that reads back as the same double */
                for (int prec = 1; prec <= 17; prec++) {
                        char *s = xasprintf("%.*g", prec, d);
                        if (strtod(s, NULL) == d)
                                return s;
                        free(s);
                }
                return xasprintf("%.17g", d);
        }
        case JSON_TRUE:
                return xstrdup("true");
        case JSON_FALSE:
                return xstrdup("false");
        default:
                return NULL;
        }
}

static bool is_ext_key(const char *k)
{
        return k[0] == 'x' && k[1] == '-';
}

static const char *ctx_home(const struct compose_normalize_ctx *ctx)
{
        const char *h = json_string_value(json_object_get(ctx->environment, "HOME"));
        return h ? h : getenv("HOME");
}

/* "~" expanded from HOME, then a relative path joined to the working
 * directory (and cleaned, as filepath.Join does); absolute paths are kept
 * as written. */
static char *resolve_path(const struct compose_normalize_ctx *ctx, const char *p, bool always)
{
        if (ctx->no_path_resolution && !always)
                return xstrdup(p);
        _cleanup_free_ char *exp = NULL;
        if (p[0] == '~') {
                const char *home = ctx_home(ctx);
                if (home) {
                        _cleanup_free_ char *j = xasprintf("%s/%s", home, p + 1);
                        exp = path_clean(j);
                        p = exp;
                }
        }
        if (p[0] == '/' || !ctx->working_dir || !*p)
                return xstrdup(p);
        _cleanup_free_ char *j = xasprintf("%s/%s", ctx->working_dir, p);
        return path_clean(j);
}

/* A path as the model shows it: kept as written under --no-path-resolution. */
static char *abs_path(const struct compose_normalize_ctx *ctx, const char *p)
{
        return resolve_path(ctx, p, false);
}

/* A path berth reads itself (env_file, label_file): always resolved. */
static char *file_path(const struct compose_normalize_ctx *ctx, const char *p)
{
        return resolve_path(ctx, p, true);
}

/* Go durations (time.ParseDuration, plus the d and w units compose
 * accepts) and their String() form. */
static int duration_parse(const char *s, int64_t *ret)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},      {"us", 1e3},    {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
                     {"ms", 1e6},    {"s", 1e9},     {"m", 60e9},        {"h", 3600e9},
                     {"d", 86400e9}, {"w", 604800e9}};
        const char *p = s;
        bool neg = false;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (streq(p, "0")) {
                *ret = 0;
                return 0;
        }
        if (!*p)
                return -EINVAL;
        double total = 0;
        while (*p) {
                if (!isdigit((unsigned char)*p) && *p != '.')
                        return -EINVAL;
                char *end;
                double v = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                p = end;
                size_t best = 0;
                double mul = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        size_t l = strlen(units[i].unit);
                        if (strncmp(p, units[i].unit, l) == 0 && l > best) {
                                best = l;
                                mul = units[i].ns;
                        }
                }
                if (!best)
                        return -EINVAL;
                p += best;
                total += v * mul;
        }
        if (total > 9.2e18)
                return -ERANGE;
        *ret = (int64_t)(neg ? -total : total);
        return 0;
}

/* time.Duration.String() */
static char *duration_format(int64_t d)
{
        if (d == 0)
                return xstrdup("0s");
        char buf[64];
        size_t w = sizeof(buf) - 1;
        buf[w] = 0;
        uint64_t u = d < 0 ? -(uint64_t)d : (uint64_t)d;
#define PUTC(c) (buf[--w] = (c))
        /* fraction digits of v at prec places, trailing zeros dropped */
#define FRAC(v, prec)                                          \
        do {                                                   \
                bool print = false;                            \
                for (int i_ = 0; i_ < (prec); i_++) {          \
                        unsigned digit = (unsigned)((v) % 10); \
                        print = print || digit != 0;           \
                        if (print)                             \
                                PUTC((char)('0' + digit));     \
                        (v) /= 10;                             \
                }                                              \
                if (print)                                     \
                        PUTC('.');                             \
        } while (0)
#define INT(v)                                        \
        do {                                          \
                if ((v) == 0)                         \
                        PUTC('0');                    \
                while ((v) > 0) {                     \
                        PUTC((char)('0' + (v) % 10)); \
                        (v) /= 10;                    \
                }                                     \
        } while (0)
        if (u < 1000000000ull) {
                int prec = 0;
                PUTC('s');
                if (u < 1000ull) {
                        PUTC('n');
                } else if (u < 1000000ull) {
                        prec = 3;
                        PUTC('\xb5');
                        PUTC('\xc2');
                } else {
                        prec = 6;
                        PUTC('m');
                }
                FRAC(u, prec);
                INT(u);
        } else {
                PUTC('s');
                FRAC(u, 9);
                uint64_t s = u % 60;
                INT(s);
                u /= 60;
                if (u > 0) {
                        PUTC('m');
                        uint64_t m = u % 60;
                        INT(m);
                        u /= 60;
                        if (u > 0) {
                                PUTC('h');
                                INT(u);
                        }
                }
        }
        if (d < 0)
                PUTC('-');
#undef PUTC
#undef FRAC
#undef INT
        return xstrdup(buf + w);
}

/* go-units RAMInBytes: "512m", "1.5g", "1024" (1024-based). */
static int bytes_parse(const char *s, int64_t *ret)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || v < 0 || !isdigit((unsigned char)*s))
                return -EINVAL;
        if (*end == ' ')
                end++;
        double mul = 1;
        switch (tolower((unsigned char)*end)) {
        case 'k':
                mul = 1024.0;
                break;
        case 'm':
                mul = 1024.0 * 1024;
                break;
        case 'g':
                mul = 1024.0 * 1024 * 1024;
                break;
        case 't':
                mul = 1024.0 * 1024 * 1024 * 1024;
                break;
        case 'p':
                mul = 1024.0 * 1024 * 1024 * 1024 * 1024;
                break;
        }
        if (mul > 1)
                end++;
        if (tolower((unsigned char)*end) == 'i')
                end++;
        if (tolower((unsigned char)*end) == 'b')
                end++;
        if (*end || v * mul > 9.2e18)
                return -EINVAL;
        *ret = (int64_t)(v * mul);
        return 0;
}

/* --- the normalizer ----------------------------------------------------- */

struct norm {
        const struct compose_normalize_ctx *ctx;
        json_t *doc; /* the model being built */
        struct berth_err *err;
};

static int fail(struct norm *n, const char *path, const char *fmt, ...) _printf_(3, 4);
static int fail(struct norm *n, const char *path, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        return err_set(n->err, -EINVAL, "%s: %s", path, strempty(m));
}

/* Durations at key k of o rewritten in Go's form. */
static int norm_duration(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        _cleanup_free_ char *s = scalar_str(v);
        int64_t d;
        if (!s || duration_parse(s, &d) < 0)
                return fail(n, path, "invalid duration for %s: \"%s\"", k, strempty(s));
        _cleanup_free_ char *f = duration_format(d);
        json_object_set_new(o, k, json_string(f));
        return 0;
}

/* UnitBytes fields: printed by v2 as a decimal string. */
static int norm_bytes(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        int64_t b;
        if (json_is_integer(v)) {
                b = json_integer_value(v);
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                if (parse_int64(s, &b) < 0 && bytes_parse(s, &b) < 0)
                        return fail(n, path, "invalid size for %s: \"%s\"", k, s);
        } else if (json_is_real(v) && fabs(json_real_value(v)) < 9.2e18) {
                b = (int64_t)json_real_value(v);
        } else {
                return fail(n, path, "%s must be a string or number", k);
        }
        json_object_set_new(o, k, json_sprintf("%" PRId64, b));
        return 0;
}

/* cpus (float32 in compose-go): a number; strings are parsed. */
static int norm_cpus(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        double d;
        if (json_is_number(v)) {
                d = json_number_value(v);
        } else if (json_is_string(v)) {
                char *end;
                d = strtod(json_string_value(v), &end);
                if (end == json_string_value(v) || *end)
                        return fail(n, path, "invalid value for %s: \"%s\"", k,
                                    json_string_value(v));
        } else {
                return fail(n, path, "%s must be a string or number", k);
        }
        if (!isfinite(d) || fabs(d) > 1e15)
                return fail(n, path, "invalid value for %s", k);
        float f = (float)d;
        if (f == floorf(f) && fabsf(f) < 1e15f)
                json_object_set_new(o, k, json_integer((json_int_t)f));
        else {
                /* float32 printed as Go prints it: the shortest decimal that
                 * reads back as the same float */
                for (int prec = 1; prec <= 9; prec++) {
                        char buf[32];
                        snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
                        if (strtof(buf, NULL) == f) {
                                d = strtod(buf, NULL);
                                break;
                        }
                }
                json_object_set_new(o, k, json_real(d));
        }
        return 0;
}

/* An integer field given as a string ("${N}" after interpolation). */
static int norm_int(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v) || json_is_integer(v))
                return 0;
        int64_t i;
        if (json_is_string(v) && parse_int64(json_string_value(v), &i) == 0) {
                json_object_set_new(o, k, json_integer(i));
                return 0;
        }
        if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
            fabs(json_real_value(v)) < 9.2e18) {
                json_object_set_new(o, k, json_integer((json_int_t)json_real_value(v)));
                return 0;
        }
        return fail(n, path, "%s must be an integer", k);
}

/* A boolean field: v2 omits false for its plain bool fields. */
static int norm_bool(struct norm *n, json_t *o, const char *k, const char *path, bool omit_false)
{
        json_t *v = json_object_get(o, k);
        if (!v)
                return 0;
        bool b;
        if (json_is_boolean(v))
                b = json_is_true(v);
        else if (json_is_string(v) && parse_bool(json_string_value(v), &b) == 0)
                ;
        else if (json_is_null(v))
                b = false;
        else
                return fail(n, path, "%s must be a boolean", k);
        if (!b && omit_false)
                json_object_del(o, k);
        else
                json_object_set_new(o, k, json_boolean(b));
        return 0;
}

/* A string or a list of strings -> a list (StringList). */
static int norm_string_list(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s)
                                return fail(n, path, "%s[%zu] must be a string", k, i);
                        json_array_set_new(v, i, json_string(s));
                }
                return 0;
        }
        _cleanup_free_ char *s = scalar_str(v);
        if (!s)
                return fail(n, path, "%s must be a string or a list of strings", k);
        json_t *a = json_array();
        json_array_append_new(a, json_string(s));
        json_object_set_new(o, k, a);
        return 0;
}

/* labels, sysctls, annotations, driver_opts... (Mapping): a list of K=V
 * (K alone = "") or a map whose values are stringified (null = ""). */
static int norm_mapping(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        json_t *m = json_object();
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s) {
                                json_decref(m);
                                return fail(n, path, "%s[%zu] must be a string", k, i);
                        }
                        char *eq = strchr(s, '=');
                        if (eq)
                                *eq++ = 0;
                        json_object_set_new(m, s, json_string(eq ? eq : ""));
                }
        } else if (json_is_object(v)) {
                const char *key;
                json_t *e;
                json_object_foreach (v, key, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s && !json_is_null(e)) {
                                json_decref(m);
                                return fail(n, path, "%s.%s must be a string, number or boolean", k,
                                            key);
                        }
                        json_object_set_new(m, key, json_string(s ? s : ""));
                }
        } else {
                json_decref(m);
                return fail(n, path, "%s must be a mapping or a list", k);
        }
        json_object_set_new(o, k, m);
        return 0;
}

/* environment, build.args (MappingWithEquals): K alone is null, to be
 * resolved from the project environment. */
static int norm_mapping_eq(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        json_t *m = json_object();
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s) {
                                json_decref(m);
                                return fail(n, path, "%s[%zu] must be a string", k, i);
                        }
                        char *eq = strchr(s, '=');
                        if (eq)
                                *eq++ = 0;
                        size_t l = strlen(s);
                        if (l && isspace((unsigned char)s[l - 1])) {
                                json_decref(m);
                                return fail(n, path,
                                            "environment variable %s is declared with a trailing "
                                            "space",
                                            s);
                        }
                        json_object_set_new(m, s, eq ? json_string(eq) : json_null());
                }
        } else if (json_is_object(v)) {
                const char *key;
                json_t *e;
                json_object_foreach (v, key, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s && !json_is_null(e)) {
                                json_decref(m);
                                return fail(n, path, "%s.%s must be a string, number or boolean", k,
                                            key);
                        }
                        json_object_set_new(m, key, s ? json_string(s) : json_null());
                }
        } else {
                json_decref(m);
                return fail(n, path, "%s must be a mapping or a list", k);
        }
        json_object_set_new(o, k, m);
        return 0;
}

/* Keys without a value take the project environment's; unresolved ones are
 * dropped (the container then does not get them at all). */
static void resolve_mapping_eq(struct norm *n, json_t *m)
{
        const char *key;
        json_t *e;
        void *tmp;
        json_object_foreach_safe (m, tmp, key, e) {
                if (!json_is_null(e))
                        continue;
                const char *val = json_string_value(json_object_get(n->ctx->environment, key));
                if (val)
                        json_object_set_new(m, key, json_string(val));
                else
                        json_object_del(m, key);
        }
}

/* extra_hosts (HostsList): a list of "host=ip" / "host:ip" or a map, printed
 * by v2 as a sorted list of "host=ip". */
static int norm_hosts(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        _cleanup_strv_ char **list = NULL;
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        _cleanup_free_ char *s = scalar_str(e);
                        if (!s)
                                return fail(n, path, "%s[%zu] must be a string", k, i);
                        char *sep = strchr(s, '=');
                        if (!sep)
                                sep = strchr(s, ':');
                        if (!sep)
                                return fail(n, path, "invalid additional host, missing IP: %s", s);
                        *sep = 0;
                        _cleanup_strv_ char **ips = strv_split(sep + 1, ",");
                        for (char **ip = ips; ip && *ip; ip++)
                                list = strv_push(list, xasprintf("%s\x01%s", s, *ip));
                }
        } else if (json_is_object(v)) {
                const char *host;
                json_t *e;
                json_object_foreach (v, host, e) {
                        if (json_is_array(e)) {
                                size_t i;
                                json_t *ip;
                                json_array_foreach (e, i, ip) {
                                        _cleanup_free_ char *s = scalar_str(ip);
                                        list = strv_push(list,
                                                         xasprintf("%s\x01%s", host, strempty(s)));
                                }
                        } else {
                                _cleanup_free_ char *s = scalar_str(e);
                                list = strv_push(list, xasprintf("%s\x01%s", host, strempty(s)));
                        }
                }
        } else {
                return fail(n, path, "%s must be a mapping or a list", k);
        }
        json_t *a = json_array();
        for (char **p = list; p && *p; p++) {
                char *sep = strchr(*p, '\x01');
                *sep = 0;
                const char *host = *p, *ip = sep + 1;
                if (!*host || strpbrk(host, ":=")) {
                        json_decref(a);
                        return fail(n, path, "bad host name '%s'", host);
                }
                size_t l = strlen(ip);
                _cleanup_free_ char *s = l > 2 && ip[0] == '[' && ip[l - 1] == ']'
                                             ? xasprintf("%s=%.*s", host, (int)l - 2, ip + 1)
                                             : xasprintf("%s=%s", host, ip);
                json_array_append_new(a, json_string(s));
        }
        /* sorted, as v2 prints them */
        size_t cnt = json_array_size(a);
        for (size_t i = 1; i < cnt; i++)
                for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(a, j - 1)),
                                                   json_string_value(json_array_get(a, j))) > 0;
                     j--) {
                        json_t *x = json_incref(json_array_get(a, j));
                        json_array_set(a, j, json_array_get(a, j - 1));
                        json_array_set_new(a, j - 1, x);
                }
        json_object_set_new(o, k, a);
        return 0;
}

/* Shell words as go-shellwords splits them (quotes and backslashes, no
 * expansion). */
static int shell_split(const char *s, json_t **ret)
{
        json_t *a = json_array();
        size_t n = strlen(s);
        char *buf = xzalloc(n + 1);
        size_t w = 0;
        bool have = false, sq = false, dq = false, esc = false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (esc) {
                        buf[w++] = c;
                        esc = false;
                        have = true;
                        continue;
                }
                if (c == '\\' && !sq) {
                        if (dq && !(s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' ||
                                    s[i + 1] == '`' || s[i + 1] == '\n')) {
                                buf[w++] = c;
                                continue;
                        }
                        esc = true;
                        continue;
                }
                if (c == '\'' && !dq) {
                        sq = !sq;
                        have = true;
                        continue;
                }
                if (c == '"' && !sq) {
                        dq = !dq;
                        have = true;
                        continue;
                }
                if (!sq && !dq && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
                        if (have) {
                                buf[w] = 0;
                                json_array_append_new(a, json_string(buf));
                                w = 0;
                                have = false;
                        }
                        continue;
                }
                buf[w++] = c;
                have = true;
        }
        if (sq || dq || esc) {
                free(buf);
                json_decref(a);
                return -EINVAL;
        }
        if (have) {
                buf[w] = 0;
                json_array_append_new(a, json_string(buf));
        }
        free(buf);
        *ret = a;
        return 0;
}

static int norm_command(struct norm *n, json_t *o, const char *k, const char *path)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v) || json_is_array(v)) {
                if (json_is_array(v)) {
                        size_t i;
                        json_t *e;
                        json_array_foreach (v, i, e) {
                                _cleanup_free_ char *s = scalar_str(e);
                                if (!s)
                                        return fail(n, path, "%s[%zu] must be a string", k, i);
                                json_array_set_new(v, i, json_string(s));
                        }
                }
                return 0;
        }
        if (!json_is_string(v))
                return fail(n, path, "%s must be a string or a list of strings", k);
        json_t *a;
        if (shell_split(json_string_value(v), &a) < 0)
                return fail(n, path, "%s: invalid command line string", k);
        json_object_set_new(o, k, a);
        return 0;
}

/* --- ports -------------------------------------------------------------- */

static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
        char *end;
        if (!*s || !isdigit((unsigned char)*s))
                return -EINVAL;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (*end == '-') {
                const char *q = end + 1;
                if (!isdigit((unsigned char)*q))
                        return -EINVAL;
                b = strtoul(q, &end, 10);
        }
        if (*end || a > 65535 || b > 65535 || b < a)
                return -EINVAL;
        *lo = (unsigned)a;
        *hi = (unsigned)b;
        return 0;
}

static int port_cmp(const void *a, const void *b)
{
        /* v2 sorts the ports of one spec by their "port/proto" key, as strings */
        char x[16], y[16];
        snprintf(x, sizeof(x), "%u", *(const unsigned *)a);
        snprintf(y, sizeof(y), "%u", *(const unsigned *)b);
        return strcmp(x, y);
}

/* The short syntax [[ip:](port|range):](port|range)[/proto], as
 * docker/go-connections' ParsePortSpec reads it, appended to out. */
static int parse_port_spec(struct norm *n, const char *spec, const char *path, json_t *out)
{
        _cleanup_free_ char *copy = xstrdup(spec);
        size_t np = 1;
        for (const char *p = spec; *p; p++)
                np += *p == ':';
        char *last = strrchr(copy, ':');
        _cleanup_free_ char *ip = NULL, *host = NULL;
        char *cport;
        if (np == 1) {
                cport = copy;
        } else {
                *last = 0;
                cport = last + 1;
                char *prev = strrchr(copy, ':');
                if (np == 2) {
                        host = xstrdup(copy);
                } else {
                        *prev = 0;
                        host = xstrdup(prev + 1);
                        ip = xstrdup(copy);
                }
        }
        char *proto = strchr(cport, '/');
        if (proto)
                *proto++ = 0;
        if (proto)
                for (char *p = proto; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
        if (!proto || !*proto)
                proto = (char *)"tcp";
        if (ip && ip[0] == '[') {
                size_t l = strlen(ip);
                if (l < 2 || ip[l - 1] != ']')
                        return fail(n, path, "invalid IP address: %s", ip);
                memmove(ip, ip + 1, l - 2);
                ip[l - 2] = 0;
        }
        if (ip && *ip) {
                unsigned char b[16];
                if (inet_pton(AF_INET, ip, b) != 1 && inet_pton(AF_INET6, ip, b) != 1)
                        return fail(n, path, "invalid IP address: %s", ip);
        }
        if (!*cport)
                return fail(n, path, "no port specified: %s<empty>", spec);
        unsigned clo, chi, hlo = 0, hhi = 0;
        if (port_range(cport, &clo, &chi) < 0)
                return fail(n, path, "invalid containerPort: %s", cport);
        if (host && *host && port_range(host, &hlo, &hhi) < 0)
                return fail(n, path, "invalid hostPort: %s", host);
        if (host && *host && chi - clo != hhi - hlo && chi != clo)
                return fail(n, path,
                            "invalid ranges specified for container and host Ports: %s and %s",
                            cport, host);
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return fail(n, path, "invalid proto: %s", proto);
        unsigned cnt = chi - clo + 1;
        unsigned *order = xmalloc(cnt * sizeof(unsigned));
        for (unsigned i = 0; i < cnt; i++)
                order[i] = clo + i;
        qsort(order, cnt, sizeof(unsigned), port_cmp);
        for (unsigned i = 0; i < cnt; i++) {
                unsigned off = order[i] - clo;
                json_t *p = json_object();
                json_object_set_new(p, "mode", json_string("ingress"));
                if (ip && *ip)
                        json_object_set_new(p, "host_ip", json_string(ip));
                json_object_set_new(p, "target", json_integer(order[i]));
                if (host && *host) {
                        if (clo == chi && hlo != hhi)
                                json_object_set_new(p, "published",
                                                    json_sprintf("%u-%u", hlo, hhi));
                        else
                                json_object_set_new(p, "published", json_sprintf("%u", hlo + off));
                }
                json_object_set_new(p, "protocol", json_string(proto));
                json_array_append_new(out, p);
        }
        free(order);
        return 0;
}

static int norm_ports(struct norm *n, json_t *svc, const char *path)
{
        json_t *v = json_object_get(svc, "ports");
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return fail(n, path, "ports must be a list");
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                _cleanup_free_ char *ppath = xasprintf("%s.ports[%zu]", path, i);
                int r;
                if (json_is_string(e) || json_is_integer(e)) {
                        _cleanup_free_ char *s = scalar_str(e);
                        r = parse_port_spec(n, s, ppath, out);
                } else if (json_is_object(e)) {
                        json_t *p = json_deep_copy(e);
                        json_array_append_new(out, p);
                        r = norm_int(n, p, "target", ppath);
                        json_t *pub = json_object_get(p, "published");
                        if (r == 0 && pub && !json_is_null(pub)) {
                                _cleanup_free_ char *s = scalar_str(pub);
                                if (!s)
                                        r = fail(n, ppath, "published must be a string or number");
                                else
                                        json_object_set_new(p, "published", json_string(s));
                        }
                        if (!json_object_get(p, "protocol"))
                                json_object_set_new(p, "protocol", json_string("tcp"));
                        if (!json_object_get(p, "mode"))
                                json_object_set_new(p, "mode", json_string("ingress"));
                } else {
                        r = fail(n, ppath, "invalid type for port");
                }
                if (r < 0) {
                        json_decref(out);
                        return r;
                }
        }
        json_object_set_new(svc, "ports", out);
        return 0;
}

/* --- volumes ------------------------------------------------------------ */

static bool is_file_path(const char *s)
{
        return s[0] == '.' || s[0] == '/' || s[0] == '~';
}

/* SRC:TGT[:opts] as compose-go's format.ParseVolume reads it. */
static int parse_volume_spec(struct norm *n, const char *spec, const char *path, json_t **ret)
{
        size_t l = strlen(spec);
        if (l == 0)
                return fail(n, path, "invalid empty volume spec");
        json_t *vol = json_object();
        if (l <= 2) {
                json_object_set_new(vol, "type", json_string("volume"));
                json_object_set_new(vol, "target", json_string(spec));
                *ret = vol;
                return 0;
        }
        _cleanup_strv_ char **f = NULL;
        const char *start = spec;
        int depth = 0;
        for (const char *p = spec;; p++) {
                if (p[0] == '$' && p[1] == '{') {
                        depth++;
                        continue;
                }
                if (p[0] == '}' && depth > 0) {
                        depth--;
                        continue;
                }
                if ((*p == ':' && depth == 0) || !*p) {
                        if (p == start) {
                                json_decref(vol);
                                return fail(n, path,
                                            "invalid spec: %s: empty section between colons", spec);
                        }
                        f = strv_push(f, xstrndup(start, (size_t)(p - start)));
                        if (!*p)
                                break;
                        start = p + 1;
                }
        }
        size_t nf = strv_length(f);
        if (nf > 3) {
                json_decref(vol);
                return fail(n, path, "invalid spec: %s: too many colons", spec);
        }
        const char *source = nf >= 2 ? f[0] : "";
        const char *target = nf >= 2 ? f[1] : f[0];
        bool ro = false, nocopy = false;
        const char *selinux = NULL, *propagation = NULL;
        _cleanup_strv_ char **opts = nf == 3 ? strv_split(f[2], ",") : NULL;
        for (char **o = opts; o && *o; o++) {
                if (streq(*o, "ro"))
                        ro = true;
                else if (streq(*o, "rw"))
                        ro = false;
                else if (streq(*o, "nocopy"))
                        nocopy = true;
                else if (streq(*o, "z") || streq(*o, "Z"))
                        selinux = *o;
                else if (streq(*o, "rprivate") || streq(*o, "private") || streq(*o, "rshared") ||
                         streq(*o, "shared") || streq(*o, "rslave") || streq(*o, "slave"))
                        propagation = *o;
        }
        bool bind = is_file_path(source);
        json_object_set_new(vol, "type", json_string(bind ? "bind" : "volume"));
        if (*source) {
                _cleanup_free_ char *src = bind ? abs_path(n->ctx, source) : xstrdup(source);
                json_object_set_new(vol, "source", json_string(src));
        }
        _cleanup_free_ char *tgt = path_clean(target);
        json_object_set_new(vol, "target", json_string(tgt));
        if (ro)
                json_object_set_new(vol, "read_only", json_true());
        if (bind || selinux || propagation) {
                json_t *b = json_object();
                if (selinux)
                        json_object_set_new(b, "selinux", json_string(selinux));
                if (propagation)
                        json_object_set_new(b, "propagation", json_string(propagation));
                json_object_set_new(vol, "bind", b);
        }
        if (!bind) {
                json_t *vv = json_object();
                if (nocopy)
                        json_object_set_new(vv, "nocopy", json_true());
                json_object_set_new(vol, "volume", vv);
        }
        *ret = vol;
        return 0;
}

static int norm_volume_long(struct norm *n, json_t *vol, const char *path)
{
        const char *type = json_string_value(json_object_get(vol, "type"));
        if (!type)
                return fail(n, path, "type is required");
        const char *target = json_string_value(json_object_get(vol, "target"));
        if (target && *target) {
                _cleanup_free_ char *t = path_clean(target);
                json_object_set_new(vol, "target", json_string(t));
        }
        if (streq(type, "bind")) {
                const char *src = json_string_value(json_object_get(vol, "source"));
                if (!src)
                        return fail(
                            n, path,
                            "invalid mount config for type \"bind\": field Source must not be "
                            "empty");
                _cleanup_free_ char *a = abs_path(n->ctx, src);
                json_object_set_new(vol, "source", json_string(a));
        }
        /* create_host_path defaults to true, and v2 (compose-go's OptOut)
         * prints it only when false */
        int r = norm_bool(n, vol, "read_only", path, true);
        json_t *b = json_object_get(vol, "bind");
        if (r == 0 && json_is_object(b)) {
                r = norm_bool(n, b, "create_host_path", path, false);
                if (json_is_true(json_object_get(b, "create_host_path")))
                        json_object_del(b, "create_host_path");
        }
        json_t *vv = json_object_get(vol, "volume");
        if (r == 0 && json_is_object(vv)) {
                r = norm_bool(n, vv, "nocopy", path, true);
                if (r == 0)
                        r = norm_mapping(n, vv, "labels", path);
        }
        json_t *t = json_object_get(vol, "tmpfs");
        if (r == 0 && json_is_object(t)) {
                r = norm_bytes(n, t, "size", path);
                if (r == 0)
                        r = norm_int(n, t, "mode", path);
        }
        return r;
}

static int norm_volumes(struct norm *n, json_t *svc, const char *path)
{
        json_t *v = json_object_get(svc, "volumes");
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return fail(n, path, "volumes must be a list");
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                _cleanup_free_ char *vpath = xasprintf("%s.volumes[%zu]", path, i);
                json_t *vol = NULL;
                int r;
                if (json_is_string(e)) {
                        r = parse_volume_spec(n, json_string_value(e), vpath, &vol);
                } else if (json_is_object(e)) {
                        vol = json_deep_copy(e);
                        r = norm_volume_long(n, vol, vpath);
                } else {
                        r = fail(n, vpath, "invalid type for service volume mount");
                }
                if (vol)
                        json_array_append_new(out, vol);
                if (r < 0) {
                        json_decref(out);
                        return r;
                }
        }
        json_object_set_new(svc, "volumes", out);
        return 0;
}

/* --- env_file ----------------------------------------------------------- */

/* env_file entries read and folded under environment (environment wins,
 * later files win over earlier ones); the key is dropped afterwards, as
 * `docker compose config` and `up` do. */
static int norm_env_file(struct norm *n, json_t *svc, const char *path)
{
        json_t *v = json_object_get(svc, "env_file");
        if (!v || json_is_null(v)) {
                json_object_del(svc, "env_file");
                return 0;
        }
        _cleanup_json_ json_t *list = json_is_array(v) ? json_incref(v) : json_array();
        if (json_is_string(v))
                json_array_append(list, v);
        else if (!json_is_array(v))
                return fail(n, path, "env_file must be a string or a list");
        json_t *env = json_object_get(svc, "environment");
        /* values interpolate from the project environment first, then the
         * service's (compose_env_read adds what the file set so far) */
        _cleanup_json_ json_t *lookup = json_object();
        if (env)
                json_object_update(lookup, env);
        if (json_is_object(n->ctx->environment))
                json_object_update(lookup, (json_t *)n->ctx->environment);
        _cleanup_json_ json_t *vars = json_object();
        size_t i;
        json_t *e;
        json_array_foreach (list, i, e) {
                const char *file;
                bool required = true, raw = false;
                if (json_is_string(e)) {
                        file = json_string_value(e);
                } else if (json_is_object(e)) {
                        file = json_string_value(json_object_get(e, "path"));
                        json_t *req = json_object_get(e, "required");
                        bool b;
                        if (json_is_boolean(req))
                                required = json_is_true(req);
                        else if (json_is_string(req) && parse_bool(json_string_value(req), &b) == 0)
                                required = b;
                        raw = streq_ptr(json_string_value(json_object_get(e, "format")), "raw");
                } else {
                        file = NULL;
                }
                if (!file)
                        return fail(n, path, "env_file[%zu]: path is required", i);
                _cleanup_free_ char *abs = file_path(n->ctx, file);
                if (access(abs, F_OK) < 0) {
                        if (!required)
                                continue;
                        return err_set(n->err, -ENOENT,
                                       "env file %s not found: stat %s: no such file or directory",
                                       abs, abs);
                }
                int r = compose_env_read(abs, lookup, raw, vars, n->err);
                if (r < 0)
                        return r;
        }
        json_object_del(svc, "env_file");
        if (json_object_size(vars) == 0)
                return 0;
        if (env)
                json_object_update(vars, env);
        json_object_set(svc, "environment", vars);
        return 0;
}

/* --- services ----------------------------------------------------------- */

static void add_dep(json_t *deps, const char *svc, bool restart)
{
        if (json_object_get(deps, svc))
                return;
        json_t *d = json_object();
        json_object_set_new(d, "condition", json_string("service_started"));
        if (restart)
                json_object_set_new(d, "restart", json_true());
        json_object_set_new(d, "required", json_true());
        json_object_set_new(deps, svc, d);
}

static int norm_depends_on(struct norm *n, json_t *svc, const char *path)
{
        json_t *v = json_object_get(svc, "depends_on");
        json_t *deps = json_object();
        if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        if (!json_is_string(e)) {
                                json_decref(deps);
                                return fail(n, path, "depends_on[%zu] must be a string", i);
                        }
                        add_dep(deps, json_string_value(e), false);
                }
        } else if (json_is_object(v)) {
                const char *k;
                json_t *e;
                json_object_foreach (v, k, e) {
                        json_t *d = json_is_object(e) ? json_deep_copy(e) : json_object();
                        if (!json_is_object(e) && !json_is_null(e)) {
                                json_decref(d);
                                json_decref(deps);
                                return fail(n, path, "depends_on.%s must be a mapping", k);
                        }
                        if (!json_object_get(d, "condition"))
                                json_object_set_new(d, "condition", json_string("service_started"));
                        if (!json_object_get(d, "required"))
                                json_object_set_new(d, "required", json_true());
                        json_object_set_new(deps, k, d);
                        int r = norm_bool(n, d, "restart", path, true);
                        if (r == 0)
                                r = norm_bool(n, d, "required", path, false);
                        if (r < 0) {
                                json_decref(deps);
                                return r;
                        }
                }
        } else if (v && !json_is_null(v)) {
                json_decref(deps);
                return fail(n, path, "depends_on must be a list or a mapping");
        }
        /* the implicit dependencies compose adds */
        json_t *links = json_object_get(svc, "links"), *e;
        size_t i;
        json_array_foreach (links, i, e) {
                const char *l = json_string_value(e);
                if (!l)
                        continue;
                _cleanup_free_ char *s = xstrdup(l);
                char *c = strchr(s, ':');
                if (c && !strchr(c + 1, ':'))
                        *c = 0;
                add_dep(deps, s, true);
        }
        static const char *const ns[] = {"network_mode", "ipc", "pid", "uts", "cgroup"};
        for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
                const char *m = json_string_value(json_object_get(svc, ns[j]));
                const char *ref = m ? startswith(m, "service:") : NULL;
                if (ref)
                        add_dep(deps, ref, true);
        }
        json_array_foreach (json_object_get(svc, "volumes_from"), i, e) {
                const char *vf = json_string_value(e);
                if (!vf || startswith(vf, "container:"))
                        continue;
                _cleanup_free_ char *s = xstrdup(vf);
                char *c = strchr(s, ':');
                if (c)
                        *c = 0;
                add_dep(deps, s, false);
        }
        if (json_object_size(deps))
                json_object_set_new(svc, "depends_on", deps);
        else {
                json_decref(deps);
                json_object_del(svc, "depends_on");
        }
        return 0;
}

static int norm_healthcheck(struct norm *n, json_t *svc, const char *path)
{
        json_t *h = json_object_get(svc, "healthcheck");
        if (!h || json_is_null(h))
                return 0;
        if (!json_is_object(h))
                return fail(n, path, "healthcheck must be a mapping");
        _cleanup_free_ char *hp = xasprintf("%s.healthcheck", path);
        json_t *t = json_object_get(h, "test");
        if (json_is_string(t)) {
                json_t *a = json_array();
                json_array_append_new(a, json_string("CMD-SHELL"));
                json_array_append(a, t);
                json_object_set_new(h, "test", a);
        }
        t = json_object_get(h, "test");
        if (json_is_array(t) && json_array_size(t) > 0) {
                const char *first = json_string_value(json_array_get(t, 0));
                if (!first ||
                    !(streq(first, "CMD") || streq(first, "CMD-SHELL") || streq(first, "NONE")))
                        return err_set(
                            n->err, -EINVAL,
                            "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" "
                            "or \"NONE\"");
        }
        static const char *const d[] = {"timeout", "interval", "start_period", "start_interval"};
        for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
                int r = norm_duration(n, h, d[i], hp);
                if (r < 0)
                        return r;
        }
        int r = norm_int(n, h, "retries", hp);
        if (r == 0)
                r = norm_bool(n, h, "disable", hp, true);
        return r;
}

/* A build context that is a URL or a builder-specific reference stays as
 * written. */
static bool remote_context(const char *c)
{
        static const char *const pfx[] = {"https://",    "http://", "git://",  "ssh://",
                                          "github.com/", "git@",    "service:"};
        if (strstr(c, "://"))
                return true;
        for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
                if (startswith(c, pfx[i]))
                        return true;
        return false;
}

static int norm_file_refs(struct norm *n, json_t *o, const char *k, const char *path,
                          bool secret_target);

static int norm_build(struct norm *n, json_t *svc, const char *path)
{
        json_t *b = json_object_get(svc, "build");
        if (!b || json_is_null(b))
                return 0;
        if (json_is_string(b)) {
                json_t *o = json_object();
                json_object_set(o, "context", b);
                json_object_set_new(svc, "build", o);
                b = o;
        } else if (!json_is_object(b)) {
                return fail(n, path, "build must be a string or a mapping");
        }
        _cleanup_free_ char *bp = xasprintf("%s.build", path);
        const char *ctxdir = json_string_value(json_object_get(b, "context"));
        if (!ctxdir)
                json_object_set_new(b, "context", json_string(ctxdir = "."));
        if (!remote_context(ctxdir)) {
                _cleanup_free_ char *a = abs_path(n->ctx, ctxdir);
                json_object_set_new(b, "context", json_string(a));
        }
        if (!json_object_get(b, "dockerfile") && !json_object_get(b, "dockerfile_inline"))
                json_object_set_new(b, "dockerfile", json_string("Dockerfile"));
        int r = norm_mapping_eq(n, b, "args", bp);
        if (r < 0)
                return r;
        json_t *args = json_object_get(b, "args");
        if (args)
                resolve_mapping_eq(n, args);
        static const char *const lists[] = {"cache_from", "cache_to", "no_cache_filter", "tags",
                                            "platforms"};
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && r == 0; i++)
                r = norm_string_list(n, b, lists[i], bp);
        if (r == 0)
                r = norm_mapping(n, b, "labels", bp);
        if (r == 0)
                r = norm_mapping(n, b, "additional_contexts", bp);
        if (r == 0)
                r = norm_hosts(n, b, "extra_hosts", bp);
        if (r == 0)
                r = norm_bytes(n, b, "shm_size", bp);
        if (r == 0)
                r = norm_file_refs(n, b, "secrets", bp, true);
        if (r == 0)
                r = norm_bool(n, b, "no_cache", bp, true);
        if (r == 0)
                r = norm_bool(n, b, "pull", bp, true);
        if (r == 0)
                r = norm_bool(n, b, "privileged", bp, true);
        if (r < 0)
                return r;
        json_t *ac = json_object_get(b, "additional_contexts");
        const char *k;
        json_t *e;
        json_object_foreach (ac, k, e) {
                const char *c = json_string_value(e);
                if (c && !remote_context(c) && !startswith(c, "docker-image:") &&
                    !startswith(c, "oci-layout:")) {
                        _cleanup_free_ char *a = abs_path(n->ctx, c);
                        json_object_set_new(ac, k, json_string(a));
                }
        }
        return 0;
}

/* Service secrets/configs: "name" -> {source}; secrets get their default
 * target /run/secrets/<source>; mode printed as an octal string. */
static int norm_file_refs(struct norm *n, json_t *o, const char *k, const char *path,
                          bool secret_target)
{
        json_t *v = json_object_get(o, k);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return fail(n, path, "%s must be a list", k);
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                json_t *ref;
                if (json_is_string(e)) {
                        ref = json_object();
                        json_object_set(ref, "source", e);
                } else if (json_is_object(e)) {
                        ref = json_deep_copy(e);
                } else {
                        return fail(n, path, "%s[%zu]: unsupported type", k, i);
                }
                json_array_set_new(v, i, ref);
                const char *src = json_string_value(json_object_get(ref, "source"));
                if (!src)
                        return fail(n, path, "%s[%zu]: source is required", k, i);
                if (secret_target && !json_object_get(ref, "target"))
                        json_object_set_new(ref, "target", json_sprintf("/run/secrets/%s", src));
                json_t *mode = json_object_get(ref, "mode");
                if (mode && !json_is_null(mode)) {
                        int64_t m;
                        if (json_is_integer(mode))
                                m = json_integer_value(mode);
                        else if (json_is_string(mode)) {
                                char *end;
                                m = strtoll(json_string_value(mode), &end, 8);
                                if (*end || end == json_string_value(mode))
                                        return fail(n, path, "%s[%zu]: invalid mode \"%s\"", k, i,
                                                    json_string_value(mode));
                        } else
                                return fail(n, path, "%s[%zu]: invalid mode", k, i);
                        json_object_set_new(ref, "mode", json_sprintf("0%" PRIo64, (uint64_t)m));
                }
                static const char *const ids[] = {"uid", "gid"};
                for (size_t j = 0; j < 2; j++) {
                        json_t *id = json_object_get(ref, ids[j]);
                        if (id && !json_is_string(id)) {
                                _cleanup_free_ char *s = scalar_str(id);
                                json_object_set_new(ref, ids[j], json_string(strempty(s)));
                        }
                }
        }
        return 0;
}

static int norm_devices(struct norm *n, json_t *svc, const char *path)
{
        json_t *v = json_object_get(svc, "devices");
        if (!json_is_array(v))
                return 0;
        size_t i;
        json_t *e;
        json_array_foreach (v, i, e) {
                if (!json_is_string(e))
                        continue;
                _cleanup_strv_ char **f = NULL;
                const char *s = json_string_value(e), *start = s;
                for (const char *p = s;; p++)
                        if (!*p || *p == ':') {
                                f = strv_push(f, xstrndup(start, (size_t)(p - start)));
                                if (!*p)
                                        break;
                                start = p + 1;
                        }
                size_t nf = strv_length(f);
                if (nf > 3)
                        return fail(n, path, "confusing device mapping, please use long syntax: %s",
                                    s);
                json_t *d = json_object();
                json_object_set_new(d, "source", json_string(f[0]));
                json_object_set_new(d, "target", json_string(nf >= 2 && *f[1] ? f[1] : f[0]));
                json_object_set_new(d, "permissions", json_string(nf == 3 ? f[2] : "rwm"));
                json_array_set_new(v, i, d);
        }
        return 0;
}

static int norm_ulimits(struct norm *n, json_t *svc, const char *path)
{
        json_t *u = json_object_get(svc, "ulimits");
        const char *k;
        json_t *e;
        json_object_foreach (u, k, e) {
                if (json_is_string(e)) {
                        int64_t i;
                        if (parse_int64(json_string_value(e), &i) < 0)
                                return fail(n, path, "ulimits.%s must be an integer", k);
                        json_object_set_new(u, k, json_integer(i));
                } else if (json_is_object(e)) {
                        _cleanup_free_ char *up = xasprintf("%s.ulimits.%s", path, k);
                        int r = norm_int(n, e, "soft", up);
                        if (r == 0)
                                r = norm_int(n, e, "hard", up);
                        if (r < 0)
                                return r;
                } else if (!json_is_integer(e)) {
                        return fail(n, path, "ulimits.%s must be an integer or a mapping", k);
                }
        }
        return 0;
}

static int norm_deploy(struct norm *n, json_t *svc, const char *path)
{
        json_t *d = json_object_get(svc, "deploy");
        if (!json_is_object(d))
                return 0;
        _cleanup_free_ char *dp = xasprintf("%s.deploy", path);
        int r = norm_int(n, d, "replicas", dp);
        if (r == 0)
                r = norm_mapping(n, d, "labels", dp);
        json_t *res = json_object_get(d, "resources");
        static const char *const rk[] = {"limits", "reservations"};
        for (size_t i = 0; i < 2 && r == 0; i++) {
                json_t *lim = json_object_get(res, rk[i]);
                if (!json_is_object(lim))
                        continue;
                _cleanup_free_ char *lp = xasprintf("%s.resources.%s", dp, rk[i]);
                r = norm_cpus(n, lim, "cpus", lp);
                if (r == 0)
                        r = norm_bytes(n, lim, "memory", lp);
                if (r == 0)
                        r = norm_int(n, lim, "pids", lp);
        }
        json_t *rp = json_object_get(d, "restart_policy");
        if (r == 0 && json_is_object(rp)) {
                _cleanup_free_ char *pp = xasprintf("%s.restart_policy", dp);
                r = norm_duration(n, rp, "delay", pp);
                if (r == 0)
                        r = norm_duration(n, rp, "window", pp);
                if (r == 0)
                        r = norm_int(n, rp, "max_attempts", pp);
        }
        static const char *const uk[] = {"update_config", "rollback_config"};
        for (size_t i = 0; i < 2 && r == 0; i++) {
                json_t *uc = json_object_get(d, uk[i]);
                if (!json_is_object(uc))
                        continue;
                _cleanup_free_ char *up = xasprintf("%s.%s", dp, uk[i]);
                r = norm_duration(n, uc, "delay", up);
                if (r == 0)
                        r = norm_duration(n, uc, "monitor", up);
        }
        return r;
}

static int norm_service_networks(struct norm *n, json_t *svc, const char *path, bool *uses_default)
{
        json_t *v = json_object_get(svc, "networks");
        if (json_is_array(v)) {
                json_t *m = json_object();
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e) {
                        if (!json_is_string(e)) {
                                json_decref(m);
                                return fail(n, path, "networks[%zu] must be a string", i);
                        }
                        json_object_set_new(m, json_string_value(e), json_null());
                }
                json_object_set_new(svc, "networks", m);
                v = m;
        } else if (v && !json_is_object(v) && !json_is_null(v)) {
                return fail(n, path, "networks must be a list or a mapping");
        }
        const char *k;
        json_t *e;
        json_object_foreach (v, k, e) {
                if (!json_is_object(e))
                        continue;
                _cleanup_free_ char *np = xasprintf("%s.networks.%s", path, k);
                int r = norm_string_list(n, e, "aliases", np);
                if (r == 0)
                        r = norm_mapping(n, e, "driver_opts", np);
                if (r == 0)
                        r = norm_int(n, e, "priority", np);
                if (r == 0)
                        r = norm_int(n, e, "gw_priority", np);
                if (r < 0)
                        return r;
        }
        if (json_object_get(svc, "network_mode") || json_object_get(svc, "provider")) {
                if (json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0))
                        json_object_del(svc, "networks");
                return 0;
        }
        if (!v || json_is_null(v) || json_object_size(v) == 0) {
                json_t *m = json_object();
                json_object_set_new(m, "default", json_null());
                json_object_set_new(svc, "networks", m);
                *uses_default = true;
        } else if (json_object_get(v, "default")) {
                *uses_default = true;
        }
        return 0;
}

/* Lifecycle hooks: commands shell-split and environments as maps, like
 * the service's own. */
static int norm_hooks(struct norm *n, json_t *svc, const char *k, const char *path)
{
        json_t *v = json_object_get(svc, k);
        size_t i;
        json_t *h;
        json_array_foreach (v, i, h) {
                if (!json_is_object(h))
                        continue;
                _cleanup_free_ char *hp = xasprintf("%s.%s[%zu]", path, k, i);
                int r;
                if ((r = norm_command(n, h, "command", hp)) < 0 ||
                    (r = norm_mapping_eq(n, h, "environment", hp)) < 0 ||
                    (r = norm_bool(n, h, "privileged", hp, true)) < 0)
                        return r;
        }
        return 0;
}

/* develop.watch: paths absolute, include/ignore as lists. */
static int norm_develop(struct norm *n, json_t *svc, const char *path)
{
        json_t *watch = json_object_get(json_object_get(svc, "develop"), "watch");
        size_t i;
        json_t *t;
        json_array_foreach (watch, i, t) {
                if (!json_is_object(t))
                        continue;
                _cleanup_free_ char *tp = xasprintf("%s.develop.watch[%zu]", path, i);
                int r;
                if ((r = norm_string_list(n, t, "include", tp)) < 0 ||
                    (r = norm_string_list(n, t, "ignore", tp)) < 0)
                        return r;
                const char *p = json_string_value(json_object_get(t, "path"));
                if (p) {
                        _cleanup_free_ char *a = abs_path(n->ctx, p);
                        json_object_set_new(t, "path", json_string(a));
                }
                json_t *exec = json_object_get(t, "exec");
                if (json_is_object(exec) && (r = norm_command(n, exec, "command", tp)) < 0)
                        return r;
        }
        return 0;
}

/* What Go's omitempty drops from v2's rendering of a service: empty maps,
 * lists and strings, and zero numbers, except in the fields that are
 * pointers there (build, deploy, healthcheck...: kept even when empty),
 * command/entrypoint ([] clears the image's) and scale. */
static void omit_empty(json_t *svc)
{
        static const char *const keep[] = {"build",    "deploy",  "healthcheck",     "logging",
                                           "develop",  "extends", "credential_spec", "blkio_config",
                                           "provider", "command", "entrypoint",      "scale",
                                           "init",     "attach",  "networks"};
        static const char *const zero_num[] = {"cpu_count",     "cpu_percent",    "cpu_period",
                                               "cpu_quota",     "cpu_rt_period",  "cpu_rt_runtime",
                                               "cpus",          "cpu_shares",     "oom_score_adj",
                                               "pids_limit",    "mem_limit",      "mem_reservation",
                                               "memswap_limit", "mem_swappiness", "shm_size"};
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (svc, tmp, k, v) {
                bool kept = is_ext_key(k);
                if (!kept && json_is_null(v)) {
                        /* nil in Go: absent (the JSON writer restores
                         * command and entrypoint as null) */
                        json_object_del(svc, k);
                        continue;
                }
                for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]) && !kept; i++)
                        kept = streq(k, keep[i]);
                if (kept)
                        continue;
                bool empty = (json_is_array(v) && json_array_size(v) == 0) ||
                             (json_is_object(v) && json_object_size(v) == 0) ||
                             (json_is_string(v) && !*json_string_value(v)) || json_is_null(v);
                for (size_t i = 0; i < sizeof(zero_num) / sizeof(zero_num[0]) && !empty; i++)
                        if (streq(k, zero_num[i]))
                                empty = (json_is_number(v) && json_number_value(v) == 0) ||
                                        (json_is_string(v) && streq(json_string_value(v), "0"));
                if (empty)
                        json_object_del(svc, k);
        }
}

static int norm_service(struct norm *n, const char *name, json_t *svc, bool *uses_default)
{
        _cleanup_free_ char *path = xasprintf("services.%s", name);
        int r;
        const char *pp = json_string_value(json_object_get(svc, "pull_policy"));
        if (pp && streq(pp, "if_not_present"))
                json_object_set_new(svc, "pull_policy", json_string("missing"));

        if ((r = norm_build(n, svc, path)) < 0 || (r = norm_command(n, svc, "command", path)) < 0 ||
            (r = norm_command(n, svc, "entrypoint", path)) < 0 ||
            (r = norm_mapping_eq(n, svc, "environment", path)) < 0)
                return r;
        json_t *env = json_object_get(svc, "environment");
        if (env)
                resolve_mapping_eq(n, env);
        if ((r = norm_env_file(n, svc, path)) < 0 || (r = norm_ports(n, svc, path)) < 0 ||
            (r = norm_volumes(n, svc, path)) < 0 || (r = norm_depends_on(n, svc, path)) < 0 ||
            (r = norm_healthcheck(n, svc, path)) < 0 || (r = norm_deploy(n, svc, path)) < 0 ||
            (r = norm_devices(n, svc, path)) < 0 || (r = norm_ulimits(n, svc, path)) < 0 ||
            (r = norm_file_refs(n, svc, "secrets", path, true)) < 0 ||
            (r = norm_file_refs(n, svc, "configs", path, false)) < 0 ||
            (r = norm_hosts(n, svc, "extra_hosts", path)) < 0 ||
            (r = norm_service_networks(n, svc, path, uses_default)) < 0)
                return r;
        static const char *const maps[] = {"labels", "annotations", "sysctls", "storage_opt"};
        for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
                if ((r = norm_mapping(n, svc, maps[i], path)) < 0)
                        return r;
        json_t *logging = json_object_get(svc, "logging");
        if (json_is_object(logging) && (r = norm_mapping(n, logging, "options", path)) < 0)
                return r;
        static const char *const lists[] = {
            "dns",      "dns_search",     "tmpfs",       "expose",       "cap_add",
            "cap_drop", "dns_opt",        "group_add",   "security_opt", "profiles",
            "links",    "external_links", "volumes_from"};
        for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
                if ((r = norm_string_list(n, svc, lists[i], path)) < 0)
                        return r;
        static const char *const bytes[] = {"mem_limit", "mem_reservation", "memswap_limit",
                                            "mem_swappiness", "shm_size"};
        for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
                if ((r = norm_bytes(n, svc, bytes[i], path)) < 0)
                        return r;
        static const char *const ints[] = {"scale",     "cpu_shares",    "cpu_period",
                                           "cpu_quota", "cpu_rt_period", "cpu_rt_runtime",
                                           "cpu_count", "oom_score_adj", "pids_limit"};
        for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
                if ((r = norm_int(n, svc, ints[i], path)) < 0)
                        return r;
        if ((r = norm_cpus(n, svc, "cpus", path)) < 0 ||
            (r = norm_duration(n, svc, "stop_grace_period", path)) < 0)
                return r;
        static const char *const omit_false[] = {
            "privileged", "read_only", "stdin_open", "tty", "oom_kill_disable", "use_api_socket"};
        for (size_t i = 0; i < sizeof(omit_false) / sizeof(omit_false[0]); i++)
                if ((r = norm_bool(n, svc, omit_false[i], path, true)) < 0)
                        return r;
        static const char *const hooks[] = {"pre_start", "post_start", "pre_stop"};
        for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
                if ((r = norm_hooks(n, svc, hooks[i], path)) < 0)
                        return r;
        if ((r = norm_develop(n, svc, path)) < 0)
                return r;
        if ((r = norm_bool(n, svc, "init", path, false)) < 0 ||
            (r = norm_bool(n, svc, "attach", path, false)) < 0)
                return r;
        /* label_file: read under labels (labels win), then dropped, as
         * v2's loader does; values interpolate from the labels read so far */
        if (json_object_get(svc, "label_file")) {
                if ((r = norm_string_list(n, svc, "label_file", path)) < 0)
                        return r;
                _cleanup_json_ json_t *vars = json_object();
                size_t i;
                json_t *e;
                json_array_foreach (json_object_get(svc, "label_file"), i, e) {
                        _cleanup_free_ char *abs = file_path(n->ctx, json_string_value(e));
                        if (access(abs, F_OK) < 0)
                                return err_set(n->err, -ENOENT, "label file %s not found", abs);
                        /* earlier files' labels are what later ones interpolate from */
                        _cleanup_json_ json_t *lookup = json_deep_copy(vars);
                        if ((r = compose_env_read(abs, lookup, false, vars, n->err)) < 0)
                                return r;
                }
                json_object_del(svc, "label_file");
                json_t *labels = json_object_get(svc, "labels");
                if (labels)
                        json_object_update(vars, labels);
                if (json_object_size(vars))
                        json_object_set(svc, "labels", vars);
        }
        omit_empty(svc);
        return 0;
}

/* --- top level ---------------------------------------------------------- */

/* networks/volumes/secrets/configs: external: {name} folded into name,
 * names defaulted (<project>_<key>, or the key itself when external). */
static int norm_resources(struct norm *n, const char *kind)
{
        json_t *top = json_object_get(n->doc, kind);
        if (!top || json_is_null(top)) {
                json_object_del(n->doc, kind);
                return 0;
        }
        if (!json_is_object(top))
                return fail(n, kind, "must be a mapping");
        const char *k;
        json_t *e;
        json_object_foreach (top, k, e) {
                _cleanup_free_ char *path = xasprintf("%s.%s", kind, k);
                if (json_is_null(e)) {
                        e = json_object();
                        json_object_set_new(top, k, e);
                } else if (!json_is_object(e)) {
                        return fail(n, path, "must be a mapping");
                }
                json_t *ext = json_object_get(e, "external");
                const char *name = json_string_value(json_object_get(e, "name"));
                if (json_is_object(ext)) {
                        const char *extname = json_string_value(json_object_get(ext, "name"));
                        if (extname) {
                                if (n->ctx->warnings)
                                        json_array_append_new(
                                            n->ctx->warnings,
                                            json_sprintf("%s: external.name is deprecated. Please "
                                                         "set name and external: true",
                                                         path));
                                if (name && !streq(name, extname))
                                        return fail(
                                            n, path,
                                            "name and external.name conflict; only use name");
                                if (!name)
                                        json_object_set_new(e, "name", json_string(name = extname));
                        }
                        json_object_set_new(e, "external", json_true());
                        ext = json_object_get(e, "external");
                }
                int r = norm_bool(n, e, "external", path, true);
                if (r < 0)
                        return r;
                bool external = json_is_true(json_object_get(e, "external"));
                if (!name) {
                        if (external)
                                json_object_set_new(e, "name", json_string(k));
                        else
                                json_object_set_new(e, "name",
                                                    json_sprintf("%s_%s", n->ctx->project_name, k));
                }
                if ((r = norm_mapping(n, e, "labels", path)) < 0 ||
                    (r = norm_mapping(n, e, "driver_opts", path)) < 0)
                        return r;
                if (streq(kind, "networks")) {
                        if ((r = norm_bool(n, e, "internal", path, true)) < 0 ||
                            (r = norm_bool(n, e, "attachable", path, true)) < 0)
                                return r;
                        json_t *ipam = json_object_get(e, "ipam");
                        if (json_is_object(ipam) &&
                            (r = norm_mapping(n, ipam, "options", path)) < 0)
                                return r;
                }
                if (streq(kind, "secrets") || streq(kind, "configs")) {
                        const char *file = json_string_value(json_object_get(e, "file"));
                        if (file) {
                                _cleanup_free_ char *a = abs_path(n->ctx, file);
                                json_object_set_new(e, "file", json_string(a));
                        }
                }
                if (streq(kind, "volumes")) {
                        /* a local volume that is really a bind mount */
                        json_t *opts = json_object_get(e, "driver_opts");
                        const char *dev = json_string_value(json_object_get(opts, "device"));
                        if (streq_ptr(json_string_value(json_object_get(e, "driver")), "local") &&
                            streq_ptr(json_string_value(json_object_get(opts, "o")), "bind") &&
                            dev) {
                                _cleanup_free_ char *a = abs_path(n->ctx, dev);
                                json_object_set_new(opts, "device", json_string(a));
                        }
                }
        }
        return 0;
}

/* compose-go's consistency checks that berth relies on. */
static int check_consistency(struct norm *n)
{
        json_t *services = json_object_get(n->doc, "services");
        json_t *networks = json_object_get(n->doc, "networks");
        json_t *volumes = json_object_get(n->doc, "volumes");
        json_t *secrets = json_object_get(n->doc, "secrets");
        json_t *configs = json_object_get(n->doc, "configs");
        const char *name;
        json_t *svc;
        json_object_foreach (services, name, svc) {
                if (!json_object_get(svc, "image") && !json_object_get(svc, "build") &&
                    !json_object_get(svc, "provider"))
                        return err_set(n->err, -EINVAL,
                                       "service \"%s\" has neither an image nor a build context "
                                       "specified: invalid compose project",
                                       name);
                json_t *build = json_object_get(svc, "build");
                if (json_object_get(build, "dockerfile") &&
                    json_object_get(build, "dockerfile_inline"))
                        return err_set(n->err, -EINVAL,
                                       "service \"%s\" declares mutualy exclusive dockerfile and "
                                       "dockerfile_inline: invalid compose project",
                                       name);
                const char *nm = json_string_value(json_object_get(svc, "network_mode"));
                json_t *nets = json_object_get(svc, "networks");
                if (nm && json_object_size(nets) > 0)
                        return err_set(n->err, -EINVAL,
                                       "service %s declares mutually exclusive `network_mode` and "
                                       "`networks`: invalid compose project",
                                       name);
                const char *k;
                json_t *e;
                json_object_foreach (nets, k, e)
                        if (!json_object_get(networks, k))
                                return err_set(n->err, -EINVAL,
                                               "service \"%s\" refers to undefined network %s: "
                                               "invalid compose project",
                                               name, k);
                json_object_foreach (json_object_get(svc, "depends_on"), k, e)
                        if (!json_object_get(services, k) &&
                            !json_is_false(json_object_get(e, "required")))
                                return err_set(
                                    n->err, -EINVAL,
                                    "service \"%s\" depends on undefined service \"%s\": "
                                    "invalid compose project",
                                    name, k);
                size_t i;
                json_array_foreach (json_object_get(svc, "volumes"), i, e) {
                        const char *src = json_string_value(json_object_get(e, "source"));
                        if (streq_ptr(json_string_value(json_object_get(e, "type")), "volume") &&
                            src && *src && !json_object_get(volumes, src))
                                return err_set(n->err, -EINVAL,
                                               "service \"%s\" refers to undefined volume %s: "
                                               "invalid compose project",
                                               name, src);
                }
                json_array_foreach (json_object_get(svc, "secrets"), i, e) {
                        const char *src = json_string_value(json_object_get(e, "source"));
                        if (src && !json_object_get(secrets, src))
                                return err_set(n->err, -EINVAL,
                                               "service \"%s\" refers to undefined secret %s: "
                                               "invalid compose project",
                                               name, src);
                }
                json_array_foreach (json_object_get(svc, "configs"), i, e) {
                        const char *src = json_string_value(json_object_get(e, "source"));
                        if (src && !json_object_get(configs, src))
                                return err_set(n->err, -EINVAL,
                                               "service \"%s\" refers to undefined config %s: "
                                               "invalid compose project",
                                               name, src);
                }
                json_t *scale = json_object_get(svc, "scale");
                json_t *deploy = json_object_get(svc, "deploy");
                json_t *replicas = json_object_get(deploy, "replicas");
                if (json_is_integer(scale) && json_is_integer(replicas) &&
                    json_integer_value(scale) != json_integer_value(replicas))
                        return err_set(n->err, -EINVAL,
                                       "services.%s: can't set distinct values on 'scale' and "
                                       "'deploy.replicas': invalid compose project",
                                       name);
                if (json_is_integer(scale) && json_is_object(deploy))
                        json_object_set(deploy, "replicas", scale);
                if (json_is_integer(scale) && json_integer_value(scale) < 0)
                        return err_set(n->err, -EINVAL,
                                       "services.%s.scale: must be greater than or equal to 0",
                                       name);
                if (json_is_integer(replicas) && json_integer_value(replicas) < 0)
                        return err_set(n->err, -EINVAL,
                                       "services.%s.deploy.replicas: must be greater than or equal "
                                       "to 0",
                                       name);
                int64_t count = json_is_integer(scale)      ? json_integer_value(scale)
                                : json_is_integer(replicas) ? json_integer_value(replicas)
                                                            : 1;
                if (count > 1 && json_object_get(svc, "container_name"))
                        return err_set(n->err, -EINVAL,
                                       "services.%s: can't set container_name and %s as container "
                                       "name must be unique: invalid compose project",
                                       name, json_is_integer(scale) ? "scale" : "deploy.replicas");
        }
        return 0;
}

/* --- key order ---------------------------------------------------------- */

/* v2 prints structs in compose-go's field order and maps with sorted keys
 * (encoding/json and go-yaml both sort map keys). Each struct the model
 * holds is named by its path, map keys as "*" and list items as "[]";
 * objects not listed are maps. Extension keys (x-*) follow a struct's
 * fields, sorted. */
struct order {
        const char *path;
        const char *fields;
};
static const struct order orders[] = {
    {"", "name services networks volumes secrets configs models"},
    {"services.*",
     "name profiles annotations attach build develop blkio_config cap_add cap_drop "
     "cgroup_parent cgroup cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period "
     "cpu_rt_runtime cpus cpuset cpu_shares command configs container_name credential_spec "
     "depends_on deploy device_cgroup_rules devices dns dns_opt dns_search dockerfile "
     "domainname entrypoint provider environment env_file expose extends external_links "
     "extra_hosts group_add gpus hostname healthcheck image init ipc isolation labels "
     "label_file links logging log_driver log_opt mem_limit mem_reservation memswap_limit "
     "mem_swappiness mac_address models net network_mode networks oom_kill_disable "
     "oom_score_adj pid pids_limit platform ports privileged pull_policy read_only restart "
     "runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal "
     "storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts "
     "volume_driver volumes volumes_from working_dir pre_start post_start pre_stop"},
    {"services.*.build",
     "context dockerfile dockerfile_inline entitlements args provenance sbom ssh labels "
     "cache_from cache_to no_cache no_cache_filter additional_contexts pull extra_hosts "
     "isolation network target secrets shm_size tags ulimits platforms privileged"},
    {"services.*.build.secrets.[]", "source target uid gid mode"},
    {"services.*.build.ulimits.*", "soft hard"},
    {"services.*.ports.[]", "name mode host_ip target published protocol app_protocol"},
    {"services.*.volumes.[]", "type source target read_only consistency bind volume tmpfs image"},
    {"services.*.volumes.[].bind", "selinux propagation create_host_path recursive"},
    {"services.*.volumes.[].volume", "labels nocopy subpath"},
    {"services.*.volumes.[].tmpfs", "size mode"},
    {"services.*.volumes.[].image", "subpath"},
    {"services.*.depends_on.*", "condition restart required"},
    {"services.*.healthcheck", "test timeout interval retries start_period start_interval disable"},
    {"services.*.deploy",
     "mode replicas labels update_config rollback_config resources restart_policy "
     "placement endpoint_mode"},
    {"services.*.deploy.update_config",
     "parallelism delay failure_action monitor max_failure_ratio order"},
    {"services.*.deploy.rollback_config",
     "parallelism delay failure_action monitor max_failure_ratio order"},
    {"services.*.deploy.resources", "limits reservations"},
    {"services.*.deploy.resources.limits", "cpus memory pids devices generic_resources"},
    {"services.*.deploy.resources.reservations", "cpus memory pids devices generic_resources"},
    {"services.*.deploy.resources.reservations.devices.[]",
     "capabilities driver count device_ids options"},
    {"services.*.deploy.restart_policy", "condition delay max_attempts window"},
    {"services.*.deploy.placement", "constraints preferences max_replicas_per_node"},
    {"services.*.networks.*",
     "aliases driver_opts gw_priority interface_name ipv4_address ipv6_address "
     "link_local_ips mac_address priority"},
    {"services.*.logging", "driver options"},
    {"services.*.secrets.[]", "source target uid gid mode"},
    {"services.*.configs.[]", "source target uid gid mode"},
    {"services.*.ulimits.*", "soft hard"},
    {"services.*.env_file.[]", "path required format"},
    {"services.*.extends", "file service"},
    {"services.*.devices.[]", "source target permissions"},
    {"services.*.pre_start.[]",
     "command image user privileged working_dir environment per_replica"},
    {"services.*.post_start.[]",
     "command image user privileged working_dir environment per_replica"},
    {"services.*.pre_stop.[]", "command image user privileged working_dir environment per_replica"},
    {"services.*.develop", "watch"},
    {"services.*.develop.watch.[]", "path action target exec include ignore initial_sync"},
    {"services.*.develop.watch.[].exec",
     "command image user privileged working_dir environment per_replica"},
    {"services.*.gpus.[]", "capabilities driver count device_ids options"},
    {"networks.*", "name driver driver_opts ipam external internal attachable labels enable_ipv4 "
                   "enable_ipv6"},
    {"networks.*.ipam", "driver config options"},
    {"networks.*.ipam.config.[]", "subnet gateway ip_range aux_addresses"},
    {"volumes.*", "name driver driver_opts external labels"},
    {"secrets.*",
     "name file environment content external labels driver driver_opts template_driver"},
    {"configs.*",
     "name file environment content external labels driver driver_opts template_driver"},
};

static int key_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *ordered(const json_t *v, const char *path);

static json_t *ordered_object(const json_t *v, const char *path)
{
        const char *fields = NULL;
        for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
                if (streq(orders[i].path, path))
                        fields = orders[i].fields;
        size_t n = json_object_size(v), cnt = 0;
        const char **keys = xmalloc((n + 1) * sizeof(char *));
        const char *k;
        json_t *e;
        json_object_foreach ((json_t *)v, k, e)
                keys[cnt++] = k;
        qsort(keys, cnt, sizeof(char *), key_cmp);
        json_t *out = json_object();
        if (fields) {
                _cleanup_strv_ char **f = strv_split(fields, " ");
                for (char **p = f; *p; p++) {
                        json_t *c = json_object_get(v, *p);
                        if (!c)
                                continue;
                        _cleanup_free_ char *cp = xasprintf("%s%s%s", path, *path ? "." : "", *p);
                        json_object_set_new(out, *p, ordered(c, cp));
                }
                for (size_t i = 0; i < cnt; i++) {
                        if (json_object_get(out, keys[i]))
                                continue;
                        _cleanup_free_ char *cp =
                            xasprintf("%s%s%s", path, *path ? "." : "", keys[i]);
                        json_object_set_new(out, keys[i], ordered(json_object_get(v, keys[i]), cp));
                }
                /* x-* last: move them after the fields */
                for (size_t i = 0; i < cnt; i++)
                        if (is_ext_key(keys[i])) {
                                json_t *x = json_incref(json_object_get(out, keys[i]));
                                json_object_del(out, keys[i]);
                                json_object_set_new(out, keys[i], x);
                        }
        } else {
                _cleanup_free_ char *cp = xasprintf("%s%s*", path, *path ? "." : "");
                for (size_t i = 0; i < cnt; i++)
                        json_object_set_new(out, keys[i], ordered(json_object_get(v, keys[i]), cp));
        }
        free(keys);
        return out;
}

static json_t *ordered(const json_t *v, const char *path)
{
        if (json_is_object(v))
                return ordered_object(v, path);
        if (json_is_array(v)) {
                _cleanup_free_ char *cp = xasprintf("%s%s[]", path, *path ? "." : "");
                json_t *a = json_array();
                size_t i;
                json_t *e;
                json_array_foreach (v, i, e)
                        json_array_append_new(a, ordered(e, cp));
                return a;
        }
        return json_deep_copy(v);
}

static int sorted_keys(const json_t *o, const char ***ret);

/* --- entry points ------------------------------------------------------- */

int compose_normalize(const json_t *merged, const struct compose_normalize_ctx *ctx, json_t **ret,
                      struct berth_err *err)
{
        if (!json_is_object(merged))
                return err_set(err, -EINVAL, "compose: the project is not a mapping");
        _cleanup_json_ json_t *doc = json_deep_copy(merged);
        struct norm n = {.ctx = ctx, .doc = doc, .err = err};
        json_object_del(doc, "version");
        json_object_del(doc, "include");
        json_object_set_new(doc, "name", json_string(ctx->project_name));
        json_t *services = json_object_get(doc, "services");
        if (!services || json_is_null(services)) {
                services = json_object();
                json_object_set_new(doc, "services", services);
        }
        if (!json_is_object(services))
                return err_set(err, -EINVAL, "services must be a mapping");
        bool uses_default = false;
        const char *name;
        json_t *svc;
        json_object_foreach (services, name, svc) {
                if (json_is_null(svc)) {
                        svc = json_object();
                        json_object_set_new(services, name, svc);
                }
                if (!json_is_object(svc))
                        return err_set(err, -EINVAL, "services.%s must be a mapping", name);
                int r = norm_service(&n, name, svc, &uses_default);
                if (r < 0)
                        return r;
        }
        json_t *networks = json_object_get(doc, "networks");
        if (uses_default && !json_object_get(networks, "default")) {
                if (!json_is_object(networks)) {
                        networks = json_object();
                        json_object_set_new(doc, "networks", networks);
                }
                json_object_set_new(networks, "default", json_null());
        }
        static const char *const kinds[] = {"networks", "volumes", "secrets", "configs"};
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                int r = norm_resources(&n, kinds[i]);
                if (r < 0)
                        return r;
        }
        int r = check_consistency(&n);
        if (r < 0)
                return r;
        *ret = ordered(doc, "");
        return 0;
}

/* encoding/json's HTML-safe escaping (<, >, & and U+2028/2029), which v2's
 * JSON output has. These bytes only occur inside JSON strings. */
static char *go_json_escape(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n * 6 + 1), *w = out;
        for (const char *p = s; *p; p++) {
                if (*p == '<' || *p == '>' || *p == '&') {
                        w += sprintf(w, "\\u%04x", (unsigned)*p);
                } else if (startswith(p, "\xe2\x80\xa8") || startswith(p, "\xe2\x80\xa9")) {
                        w += sprintf(w, "\\u%s", p[2] == '\xa8' ? "2028" : "2029");
                        p += 2;
                } else {
                        *w++ = *p;
                }
        }
        *w = 0;
        return out;
}

/* What encoding/json adds to v2's JSON that go-yaml leaves out: "command"
 * and "entrypoint" on every service (null when unset), and the struct
 * values Go cannot omit: a network's "ipam", a deploy's "resources" and
 * "placement" ({} when unset). */
static void json_only_fields(json_t *m)
{
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(m, "services"), k, v) {
                if (!json_is_object(v))
                        continue;
                if (!json_object_get(v, "command"))
                        json_object_set_new(v, "command", json_null());
                if (!json_object_get(v, "entrypoint"))
                        json_object_set_new(v, "entrypoint", json_null());
                json_t *d = json_object_get(v, "deploy");
                if (json_is_object(d)) {
                        if (!json_object_get(d, "resources"))
                                json_object_set_new(d, "resources", json_object());
                        if (!json_object_get(d, "placement"))
                                json_object_set_new(d, "placement", json_object());
                }
        }
        json_object_foreach (json_object_get(m, "networks"), k, v)
                if (json_is_object(v) && !json_object_get(v, "ipam"))
                        json_object_set_new(v, "ipam", json_object());
}

int compose_model_write(const json_t *model, bool json, FILE *f, struct berth_err *err)
{
        if (!json) {
                _cleanup_json_ json_t *m = ordered(model, "");
                return compose_yaml_write(m, f, err);
        }
        _cleanup_json_ json_t *copy = json_deep_copy(model);
        json_only_fields(copy);
        _cleanup_json_ json_t *m = ordered(copy, "");
        /* the project itself is a Go map there: its keys sorted */
        _cleanup_json_ json_t *top = json_object();
        _cleanup_free_ const char **keys = NULL;
        int cnt = sorted_keys(m, &keys);
        for (int i = 0; i < cnt; i++)
                json_object_set(top, keys[i], json_object_get(m, keys[i]));
        _cleanup_free_ char *s = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        if (!s)
                return err_set(err, -EINVAL, "compose: the model cannot be encoded as JSON");
        _cleanup_free_ char *esc = go_json_escape(s);
        if (fputs(esc, f) < 0 || fputc('\n', f) < 0)
                return err_errno(err, -EIO, "write the model");
        return 0;
}

/* The config hash: sha256 (lowercase hex) of the service's canonical JSON.
 * Canonical form: the normalized service (compose_normalize's output) with
 * build, pull_policy, scale, deploy.replicas, depends_on, profiles and the
 * x-* extensions removed (they do not change the container that runs; deploy is dropped
 * when nothing else is left in it), then encoded by jansson as compact
 * JSON with object keys sorted bytewise, arrays in their order, strings
 * as UTF-8 with only the escapes JSON requires, integers in decimal and
 * reals with 17 significant digits. The hash therefore changes exactly
 * when a runtime field's normalized value changes, and never with key
 * order or the short/long form of an entry. It is berth's own and does
 * not reproduce v2's bytes. Service references (network_mode:
 * service:X, volumes_from) are hashed as written: callers that want a
 * recreate when X is recreated substitute container ids first, as v2
 * does. */
int compose_service_hash(const json_t *service, char hex[65], struct berth_err *err)
{
        if (!json_is_object(service))
                return err_set(err, -EINVAL, "compose: a service must be a mapping");
        _cleanup_json_ json_t *s = json_deep_copy(service);
        static const char *const drop[] = {"build", "pull_policy", "scale", "depends_on",
                                           "profiles"};
        for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
                json_object_del(s, drop[i]);
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (s, tmp, k, v)
                if (is_ext_key(k))
                        json_object_del(s, k);
        json_t *deploy = json_object_get(s, "deploy");
        if (json_is_object(deploy)) {
                json_object_del(deploy, "replicas");
                if (json_object_size(deploy) == 0)
                        json_object_del(s, "deploy");
        }
        _cleanup_free_ char *txt = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
                                                     JSON_REAL_PRECISION(17));
        if (!txt)
                return err_set(err, -EINVAL, "compose: the service cannot be encoded as JSON");
        char digest[72];
        sha256_digest(txt, strlen(txt), digest);
        memcpy(hex, digest_hex(digest), 64);
        hex[64] = 0;
        return 0;
}

/* --- dependency order --------------------------------------------------- */

struct order_walk {
        json_t *services;
        json_t *out;   /* names, dependencies first */
        json_t *state; /* name -> 1 visiting, 2 done */
        struct berth_err *err;
};

static int sorted_keys(const json_t *o, const char ***ret)
{
        size_t n = json_object_size(o), cnt = 0;
        const char **keys = xmalloc((n + 1) * sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v)
                keys[cnt++] = k;
        qsort(keys, cnt, sizeof(char *), key_cmp);
        *ret = keys;
        return (int)cnt;
}

static int visit(struct order_walk *w, const char *name, json_t *stack)
{
        json_int_t st = json_integer_value(json_object_get(w->state, name));
        if (st == 2)
                return 0;
        if (st == 1) {
                /* v2's wording: the path from the first repeated service */
                size_t start = 0, i;
                json_t *e;
                json_array_foreach (stack, i, e)
                        if (streq(json_string_value(e), name)) {
                                start = i;
                                break;
                        }
                _cleanup_free_ char *msg = xstrdup("dependency cycle detected: ");
                for (i = start; i < json_array_size(stack); i++) {
                        char *m =
                            xasprintf("%s%s -> ", msg, json_string_value(json_array_get(stack, i)));
                        free(msg);
                        msg = m;
                }
                return err_set(w->err, -ELOOP, "%s%s", msg, name);
        }
        json_object_set_new(w->state, name, json_integer(1));
        json_array_append_new(stack, json_string(name));
        json_t *deps = json_object_get(json_object_get(w->services, name), "depends_on");
        _cleanup_free_ const char **keys = NULL;
        int cnt = sorted_keys(deps, &keys);
        for (int i = 0; i < cnt; i++) {
                if (!json_object_get(w->services, keys[i])) {
                        if (json_is_false(
                                json_object_get(json_object_get(deps, keys[i]), "required")))
                                continue;
                        return err_set(
                            w->err, -ENOENT,
                            "service \"%s\" depends on undefined service \"%s\": invalid "
                            "compose project",
                            name, keys[i]);
                }
                int r = visit(w, keys[i], stack);
                if (r < 0)
                        return r;
        }
        json_array_remove(stack, json_array_size(stack) - 1);
        json_object_set_new(w->state, name, json_integer(2));
        json_array_append_new(w->out, json_string(name));
        return 0;
}

int compose_service_order(const json_t *model, char **only, bool no_deps, json_t **ret,
                          struct berth_err *err)
{
        json_t *services = json_object_get(model, "services");
        _cleanup_json_ json_t *out = json_array();
        _cleanup_json_ json_t *state = json_object();
        _cleanup_json_ json_t *stack = json_array();
        struct order_walk w = {services, out, state, err};
        /* the whole graph is checked, so a cycle is reported whichever
         * services were asked for */
        _cleanup_free_ const char **keys = NULL;
        int cnt = sorted_keys(services, &keys);
        for (int i = 0; i < cnt; i++) {
                int r = visit(&w, keys[i], stack);
                if (r < 0)
                        return r;
        }
        if (!only || !*only) {
                *ret = TAKE_PTR(out);
                return 0;
        }
        _cleanup_json_ json_t *want = json_object();
        for (char **p = only; *p; p++) {
                if (!json_object_get(services, *p))
                        return err_set(err, -ENOENT, "no such service: %s", *p);
                json_object_set_new(want, *p, json_true());
        }
        if (!no_deps) {
                /* out is in dependency order: walking it backwards, a wanted
                 * service makes its dependencies wanted */
                for (size_t i = json_array_size(out); i-- > 0;) {
                        const char *s = json_string_value(json_array_get(out, i));
                        if (!json_object_get(want, s))
                                continue;
                        const char *k;
                        json_t *e;
                        json_object_foreach (
                            json_object_get(json_object_get(services, s), "depends_on"), k, e)
                                if (json_object_get(services, k))
                                        json_object_set_new(want, k, json_true());
                }
        }
        json_t *res = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (out, i, e)
                if (json_object_get(want, json_string_value(e)))
                        json_array_append(res, e);
        *ret = res;
        return 0;
}
