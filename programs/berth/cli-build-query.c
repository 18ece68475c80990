/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth build: the query the docker CLI 20.10 sends, and the tests it makes
 * on its input before sending (cli-build.h). */
#include "cli-build.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "image/image.h"

struct qbuf {
        char *p;
        size_t len, cap;
};

static void qadd(struct qbuf *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->p = xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

/* Go's url.QueryEscape */
static void qescape(struct qbuf *b, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
                        qadd(b, (const char *)p, 1);
                else if (*p == ' ')
                        qadd(b, "+", 1);
                else {
                        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
                        qadd(b, e, 3);
                }
        }
}

static void qparam(struct qbuf *b, const char *key, const char *value)
{
        qadd(b, b->len ? "&" : "?", 1);
        qescape(b, key);
        qadd(b, "=", 1);
        qescape(b, value);
}

static void qint(struct qbuf *b, const char *key, int64_t v)
{
        char s[24];
        snprintf(s, sizeof(s), "%lld", (long long)v);
        qparam(b, key, s);
}

/* json.Marshal's text: compact, map keys sorted (a struct's fields in
 * their order: JSON_PRESERVE_ORDER), <, > and & escaped (they can only be
 * inside strings) */
static char *go_json(const json_t *j, size_t order)
{
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | order | JSON_ENCODE_ANY);
        struct qbuf b = {0};
        qadd(&b, "", 0);
        for (const char *p = s ? s : "null"; *p; p++) {
                if (*p == '<')
                        qadd(&b, "\\u003c", 6);
                else if (*p == '>')
                        qadd(&b, "\\u003e", 6);
                else if (*p == '&')
                        qadd(&b, "\\u0026", 6);
                else
                        qadd(&b, p, 1);
        }
        return b.p;
}

static void qjson(struct qbuf *b, const char *key, json_t *j, size_t order)
{
        _cleanup_free_ char *s = go_json(j, order);
        json_decref(j);
        qparam(b, key, s);
}

/* docker's RAMInBytes-based flags: "" or NULL is 0 */
static int size_arg(const char *flag, const char *v, bool swap, int64_t *ret, struct berth_err *err)
{
        uint64_t n;
        *ret = 0;
        if (isempty(v))
                return 0;
        if (swap && streq(v, "-1")) {
                *ret = -1;
                return 0;
        }
        if (parse_size(v, &n) < 0 || n > INT64_MAX)
                return err_set(err, -EINVAL,
                               "invalid argument \"%s\" for \"%s\" flag: invalid size: '%s'", v,
                               flag, v);
        *ret = (int64_t)n;
        return 0;
}

static int ulimits_json(char **list, json_t **ret, struct berth_err *err)
{
        if (!list || !*list) {
                *ret = json_null();
                return 0;
        }
        json_t *a = json_array();
        for (char **u = list; *u; u++) {
                const char *eq = strchr(*u, '=');
                int64_t soft, hard;
                _cleanup_free_ char *lim = eq ? xstrdup(eq + 1) : NULL;
                char *colon = lim ? strchr(lim, ':') : NULL;
                if (colon)
                        *colon = '\0';
                if (!eq || eq == *u || parse_int64(lim, &soft) < 0 ||
                    parse_int64(colon ? colon + 1 : lim, &hard) < 0) {
                        json_decref(a);
                        return err_set(err, -EINVAL,
                                       "invalid argument \"%s\" for \"--ulimit\" flag: invalid "
                                       "ulimit argument: %s",
                                       *u, *u);
                }
                json_array_append_new(a, json_pack("{s:s%, s:I, s:I}", "Name", *u,
                                                   (size_t)(eq - *u), "Hard", (json_int_t)hard,
                                                   "Soft", (json_int_t)soft));
        }
        *ret = a;
        return 0;
}

int cli_build_query_string(const struct cli_build_query *q, char **ret, struct berth_err *err)
{
        int64_t memory, memswap, shm;
        int r;
        if ((r = size_arg("-m, --memory", q->memory, false, &memory, err)) < 0 ||
            (r = size_arg("--memory-swap", q->memory_swap, true, &memswap, err)) < 0 ||
            (r = size_arg("--shm-size", q->shm_size, false, &shm, err)) < 0)
                return r;
        json_t *ulimits = NULL;
        if ((r = ulimits_json(q->ulimits, &ulimits, err)) < 0)
                return r;

        json_t *args = json_object();
        for (char **a = q->build_args; a && *a; a++) {
                const char *eq = strchr(*a, '=');
                if (eq == *a || !**a) {
                        json_decref(args);
                        json_decref(ulimits);
                        return err_set(err, -EINVAL,
                                       "invalid argument \"%s\" for \"--build-arg\" flag: invalid "
                                       "environment variable: %s",
                                       *a, *a);
                }
                if (eq) {
                        _cleanup_free_ char *k = xstrndup(*a, (size_t)(eq - *a));
                        json_object_set_new(args, k, json_string(eq + 1));
                } else {
                        const char *env = getenv(*a);
                        json_object_set_new(args, *a, env ? json_string(env) : json_null());
                }
        }
        json_t *labels = json_object();
        for (char **l = q->labels; l && *l; l++) {
                const char *eq = strchr(*l, '=');
                _cleanup_free_ char *k = eq ? xstrndup(*l, (size_t)(eq - *l)) : xstrdup(*l);
                json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
        }
        json_t *cache = json_array();
        for (char **c = q->cache_from; c && *c; c++)
                json_array_append_new(cache, json_string(*c));

        /* in the order of the sorted keys */
        struct qbuf b = {0};
        qjson(&b, "buildargs", args, JSON_SORT_KEYS);
        qjson(&b, "cachefrom", cache, JSON_SORT_KEYS);
        qparam(&b, "cgroupparent", strempty(q->cgroup_parent));
        qint(&b, "cpuperiod", q->cpu_period);
        qint(&b, "cpuquota", q->cpu_quota);
        qparam(&b, "cpusetcpus", strempty(q->cpuset_cpus));
        qparam(&b, "cpusetmems", strempty(q->cpuset_mems));
        qint(&b, "cpushares", q->cpu_shares);
        qparam(&b, "dockerfile", strempty(q->dockerfile));
        for (char **h = q->extra_hosts; h && *h; h++)
                qparam(&b, "extrahosts", *h);
        if (q->force_rm)
                qparam(&b, "forcerm", "1");
        if (!isempty(q->isolation) && strcasecmp(q->isolation, "default") != 0)
                qparam(&b, "isolation", q->isolation);
        qjson(&b, "labels", labels, JSON_SORT_KEYS);
        qint(&b, "memory", memory);
        qint(&b, "memswap", memswap);
        qparam(&b, "networkmode", q->network ? q->network : "default");
        if (q->no_cache)
                qparam(&b, "nocache", "1");
        if (!isempty(q->platform)) {
                _cleanup_free_ char *p = xstrdup(q->platform);
                for (char *c = p; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                qparam(&b, "platform", p);
        }
        if (q->pull)
                qparam(&b, "pull", "1");
        if (q->quiet)
                qparam(&b, "q", "1");
        if (!isempty(q->remote))
                qparam(&b, "remote", q->remote);
        qparam(&b, "rm", q->rm ? "1" : "0");
        for (char **s = q->security_opts; s && *s; s++)
                qparam(&b, "securityopt", *s);
        qint(&b, "shmsize", shm);
        if (q->squash)
                qparam(&b, "squash", "1");
        for (char **t = q->tags; t && *t; t++)
                qparam(&b, "t", *t);
        qparam(&b, "target", strempty(q->target));
        qjson(&b, "ulimits", ulimits, JSON_PRESERVE_ORDER);
        qparam(&b, "version", "1");
        *ret = b.p;
        return 0;
}

int cli_build_check_tag(const char *tag, struct berth_err *err)
{
        struct image_ref ref;
        struct berth_err why = {0};
        if (image_ref_parse(tag, &ref, &why) == 0) {
                image_ref_done(&ref);
                return 0;
        }
        return err_set(err, -EINVAL, "invalid reference format%s",
                       strstr(why.msg, "must be lowercase") ? ": repository name must be lowercase"
                                                            : "");
}

void cli_build_human_size(int64_t n, char *buf, size_t len)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        double v = (double)n;
        size_t i = 0;
        while (v >= 1000.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000.0;
                i++;
        }
        snprintf(buf, len, "%.4g%s", v, units[i]);
}

bool cli_build_is_archive(const unsigned char *p, size_t n)
{
        static const struct {
                const char *magic;
                size_t len;
        } compressed[] = {
            {"\x1f\x8b\x08", 3}, /* gzip */
            {"BZh", 3},          /* bzip2 */
            {"\xfd"
             "7zXZ\x00",
             6},                     /* xz */
            {"\x28\xb5\x2f\xfd", 4}, /* zstd */
        };
        for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
                if (n >= compressed[i].len &&
                    memcmp(p, compressed[i].magic, compressed[i].len) == 0)
                        return true;
        if (n < 512)
                return false;
        /* a tar header: its checksum adds up (Go's tar reader's test) */
        unsigned long want = 0, sum = 0;
        for (size_t i = 148; i < 156 && p[i] >= '0' && p[i] <= '7'; i++)
                want = want * 8 + (unsigned long)(p[i] - '0');
        for (size_t i = 0; i < 512; i++)
                sum += (i >= 148 && i < 156) ? ' ' : p[i];
        return p[148] != 0 && sum == want;
}

bool cli_build_is_git_url(const char *s)
{
        if (startswith(s, "git://") || startswith(s, "github.com/") || startswith(s, "git@"))
                return true;
        if (!startswith(s, "http://") && !startswith(s, "https://"))
                return false;
        const char *hash = strchr(s, '#');
        size_t end = hash ? (size_t)(hash - s) : strlen(s);
        if (hash && !hash[1])
                return false;
        return end >= 4 && strncmp(s + end - 4, ".git", 4) == 0;
}

void cli_build_git_split(const char *s, char **ret_url, char **ret_ref, char **ret_subdir)
{
        const char *hash = strchr(s, '#');
        _cleanup_free_ char *base = hash ? xstrndup(s, (size_t)(hash - s)) : xstrdup(s);
        *ret_url = startswith(base, "github.com/") ? xasprintf("https://%s", base) : xstrdup(base);
        *ret_ref = *ret_subdir = NULL;
        if (!hash || !hash[1])
                return;
        const char *colon = strchr(hash + 1, ':');
        if (colon) {
                if (colon > hash + 1)
                        *ret_ref = xstrndup(hash + 1, (size_t)(colon - hash - 1));
                if (colon[1])
                        *ret_subdir = xstrdup(colon + 1);
        } else
                *ret_ref = xstrdup(hash + 1);
}
