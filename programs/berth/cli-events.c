/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth events: the daemon's event stream, printed as docker prints it:
 * "TIME TYPE ACTION ID (attr=value, ...)", or through --format. */
#include "cli.h"

#include <ctype.h>
#include <time.h>

const struct cli_opt cli_events_opts[] = {
    {"filter", 'f', CLI_LIST, "Filter output based on conditions provided", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"since", 0, CLI_STRING, "Show all events created since timestamp", NULL},
    {"until", 0, CLI_STRING, "Stream events until this timestamp", NULL},
    {0},
};

/* A unix timestamp ("1700000000[.5]"), a duration before now ("10m",
 * "1h30m", "45s"), or an RFC 3339 time, as "seconds.nanoseconds". */
static int parse_when(const char *s, char **ret)
{
        size_t l = strlen(s);
        if (l && strspn(s, "0123456789.") == l) {
                *ret = xstrdup(s);
                return 0;
        }
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!rest)
                rest = strptime(s, "%Y-%m-%d", &tm);
        if (rest) {
                *ret = xasprintf("%lld", (long long)timegm(&tm));
                return 0;
        }
        double total = 0;
        const char *p = s;
        while (*p) {
                char *end;
                double v = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                double unit;
                if (startswith(end, "ms"))
                        unit = 1e-3, end += 2;
                else if (*end == 'h')
                        unit = 3600, end++;
                else if (*end == 'm')
                        unit = 60, end++;
                else if (*end == 's')
                        unit = 1, end++;
                else
                        return -EINVAL;
                total += v * unit;
                p = end;
        }
        int64_t t = now_ns() - (int64_t)(total * 1e9);
        *ret = xasprintf("%lld.%09lld", (long long)(t / 1000000000), (long long)(t % 1000000000));
        return 0;
}

struct printer {
        const char *fmt;
        char *buf;
        size_t len;
        int rc;
};

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_event(struct printer *p, json_t *e)
{
        if (p->fmt && streq(p->fmt, "json")) {
                (void)json_print(stdout, e, JSON_COMPACT);
        } else if (p->fmt) {
                struct berth_err err = {0};
                if (cli_format(p->fmt, e, stdout, &err) < 0) {
                        fprintf(stderr, "berth: %s\n", err.msg);
                        p->rc = 64;
                }
        } else {
                int64_t ns = json_get_int(e, "timeNano", 0);
                time_t sec = (time_t)(ns / 1000000000);
                struct tm tm;
                gmtime_r(&sec, &tm);
                char t[64];
                strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
                json_t *actor = json_object_get(e, "Actor"),
                       *attrs = json_object_get(actor, "Attributes");
                printf("%s.%09lldZ %s %s %s", t, (long long)(ns % 1000000000),
                       json_get_str(e, "Type", ""), json_get_str(e, "Action", ""),
                       json_get_str(actor, "ID", ""));
                size_t n = json_object_size(attrs), i = 0;
                if (n) {
                        const char **keys = xzalloc(n * sizeof(char *));
                        const char *k;
                        json_t *v;
                        json_object_foreach (attrs, k, v)
                                keys[i++] = k;
                        qsort(keys, n, sizeof(char *), cmp_key);
                        printf(" (");
                        for (i = 0; i < n; i++)
                                printf("%s%s=%s", i ? ", " : "", keys[i],
                                       json_get_str(attrs, keys[i], ""));
                        printf(")");
                        free(keys);
                }
                printf("\n");
        }
        fflush(stdout);
}

static int on_data(void *ud, const char *data, size_t len)
{
        struct printer *p = ud;
        p->buf = xrealloc(p->buf, p->len + len + 1);
        memcpy(p->buf + p->len, data, len);
        p->len += len;
        p->buf[p->len] = '\0';
        char *start = p->buf, *nl;
        while ((nl = strchr(start, '\n'))) {
                *nl = '\0';
                json_error_t je;
                json_t *e = json_loads(start, 0, &je);
                if (e)
                        print_event(p, e);
                json_decref(e);
                start = nl + 1;
        }
        p->len = strlen(start);
        memmove(p->buf, start, p->len + 1);
        return p->rc;
}

int cli_cmd_events(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_free_ char *since = NULL, *until = NULL, *q = xstrdup("");
        const char *s = cli_str(a, "since"), *u = cli_str(a, "until");
        if (s && parse_when(s, &since) < 0) {
                fprintf(stderr, "berth: invalid value for --since: \"%s\"\n", s);
                return 125;
        }
        if (u && parse_when(u, &until) < 0) {
                fprintf(stderr, "berth: invalid value for --until: \"%s\"\n", u);
                return 125;
        }
        _cleanup_free_ char *filters = cli_filters_json(cli_list(a, "filter"), NULL, NULL);
        _cleanup_free_ char *ef = filters ? cli_escape(filters) : NULL;
        _cleanup_free_ char *path =
            xasprintf("/events?%s%s%s%s%s%s", since ? "since=" : "", strempty(since),
                      until ? "&until=" : "", strempty(until), ef ? "&filters=" : "", strempty(ef));
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        struct printer p = {.fmt = cli_str(a, "format")};
        r = client_stream(&cli->client, "GET", path, NULL, -1, on_data, &p, NULL, &err);
        free(p.buf);
        if (r < 0)
                return cli_fail(&err);
        return p.rc;
}
