/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small subset of Go's text/template, the part docker users write in
 * --format: literal text, {{.Field.Sub}}, {{.}}, {{json .X}}, {{upper .X}},
 * {{lower .X}}, {{index .X "key" 0}} (a map key with dots in it, as labels
 * have, or an array element), and the escapes \t \n in the literal text. */
#include "cli.h"

#include <ctype.h>

static json_t *lookup(json_t *data, const char *path, size_t len)
{
        json_t *cur = data;
        const char *p = path, *end = path + len;
        if (p < end && *p == '.')
                p++;
        while (p < end && cur) {
                const char *dot = memchr(p, '.', (size_t)(end - p));
                size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
                if (l == 0)
                        break;
                char key[128];
                snprintf(key, sizeof(key), "%.*s", (int)l, p);
                cur = json_object_get(cur, key);
                p += l + (dot ? 1 : 0);
        }
        return cur;
}

static void print_value(json_t *v, FILE *out)
{
        if (!v || json_is_null(v)) {
                fputs("<no value>", out);
                return;
        }
        switch (json_typeof(v)) {
        case JSON_STRING:
                fputs(json_string_value(v), out);
                break;
        case JSON_INTEGER:
                fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                break;
        case JSON_REAL:
                fprintf(out, "%g", json_real_value(v));
                break;
        case JSON_TRUE:
                fputs("true", out);
                break;
        case JSON_FALSE:
                fputs("false", out);
                break;
        case JSON_ARRAY: {
                /* Go prints slices as [a b c] */
                size_t i;
                json_t *x;
                fputc('[', out);
                json_array_foreach (v, i, x) {
                        if (i)
                                fputc(' ', out);
                        print_value(x, out);
                }
                fputc(']', out);
                break;
        }
        default: {
                char *s = json_dumps(v, JSON_COMPACT);
                fputs(s ? s : "", out);
                free(s);
        }
        }
}

/* The arguments of {{index .X a b ...}} in [p, end): each a Go string
 * literal ("key", map lookup) or a decimal integer (array element), applied
 * in turn to *v. A missing key or element leaves NULL, printed as the
 * empty string (Go's index gives the zero value, "" for the string maps
 * docker's labels are). */
static int index_args(json_t **v, const char *p, const char *end)
{
        for (;;) {
                while (p < end && isspace((unsigned char)*p))
                        p++;
                if (p >= end)
                        return 0;
                if (*p == '"') {
                        const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
                        if (!q)
                                return -EINVAL;
                        char key[256];
                        if ((size_t)(q - p - 1) >= sizeof(key))
                                return -EINVAL;
                        snprintf(key, sizeof(key), "%.*s", (int)(q - p - 1), p + 1);
                        *v = json_is_object(*v) ? json_object_get(*v, key) : NULL;
                        p = q + 1;
                } else if (isdigit((unsigned char)*p)) {
                        size_t i = 0;
                        while (p < end && isdigit((unsigned char)*p))
                                i = i * 10 + (size_t)(*p++ - '0');
                        *v = json_is_array(*v) ? json_array_get(*v, i) : NULL;
                } else {
                        return -EINVAL;
                }
                if (p < end && !isspace((unsigned char)*p))
                        return -EINVAL;
        }
}

int cli_format(const char *tmpl, json_t *data, FILE *out, struct berth_err *err)
{
        const char *p = tmpl;
        if (startswith(p, "table "))
                p += 6;
        while (*p) {
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        fputc(p[1] == 't' ? '\t' : '\n', out);
                        p += 2;
                        continue;
                }
                if (p[0] != '{' || p[1] != '{') {
                        fputc(*p++, out);
                        continue;
                }
                const char *close = strstr(p + 2, "}}");
                if (!close)
                        return err_set(err, -EINVAL, "template: unclosed action in \"%s\"", tmpl);
                const char *a = p + 2, *b = close;
                while (a < b && (isspace((unsigned char)*a) || *a == '-'))
                        a++;
                while (b > a && (isspace((unsigned char)b[-1]) || b[-1] == '-'))
                        b--;
                const char *fn = NULL;
                size_t fnlen = 0;
                if (*a != '.') {
                        fn = a;
                        while (a < b && !isspace((unsigned char)*a))
                                a++;
                        fnlen = (size_t)(a - fn);
                        while (a < b && isspace((unsigned char)*a))
                                a++;
                }
                if (a >= b || *a != '.')
                        return err_set(err, -EINVAL, "template: unsupported action \"{{%.*s}}\"",
                                       (int)(close - p - 2), p + 2);
                bool is_index = fnlen == 5 && strncmp(fn, "index", 5) == 0;
                const char *pe = a;
                if (is_index)
                        while (pe < b && !isspace((unsigned char)*pe))
                                pe++;
                else
                        pe = b;
                json_t *v = lookup(data, a, (size_t)(pe - a));
                if (is_index) {
                        int r = index_args(&v, pe, b);
                        if (r < 0)
                                return err_set(err, r,
                                               "template: bad arguments to index in \"{{%.*s}}\"",
                                               (int)(close - p - 2), p + 2);
                        if (v)
                                print_value(v, out);
                } else if (!fn) {
                        print_value(v, out);
                } else if (fnlen == 4 && strncmp(fn, "json", 4) == 0) {
                        char *s =
                            v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("null");
                        fputs(s ? s : "", out);
                        free(s);
                } else if ((fnlen == 5 && strncmp(fn, "upper", 5) == 0) ||
                           (fnlen == 5 && strncmp(fn, "lower", 5) == 0)) {
                        char *buf = NULL;
                        size_t bl = 0;
                        FILE *m = open_memstream(&buf, &bl);
                        print_value(v, m);
                        fclose(m);
                        for (char *c = buf; *c; c++)
                                *c = (char)(fn[0] == 'u' ? toupper((unsigned char)*c)
                                                         : tolower((unsigned char)*c));
                        fputs(buf, out);
                        free(buf);
                } else
                        return err_set(err, -EINVAL, "template: function \"%.*s\" not defined",
                                       (int)fnlen, fn);
                p = close + 2;
        }
        fputc('\n', out);
        return 0;
}
