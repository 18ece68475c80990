/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json.h"

#include <poll.h>

#include <time.h>

static bool json_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int json_parse_body(const char *body, size_t len, json_t **ret, struct berth_err *err)
{
        json_error_t je;
        /* Within len only: the body need not be NUL-terminated, and a NUL
         * byte in it is not a blank (strchr would find the terminator). */
        size_t i = 0, e = len;
        while (i < e && json_blank(body[i]))
                i++;
        while (e > i && json_blank(body[e - 1]))
                e--;
        if (i == e || (e - i == 4 && memcmp(body + i, "null", 4) == 0)) {
                *ret = json_object();
                return 0;
        }
        json_t *j = json_loadb(body, len, JSON_DECODE_ANY, &je);
        if (!j)
                return err_set(err, -EINVAL, "invalid JSON: %s (line %d, column %d)", je.text,
                               je.line, je.column);
        *ret = j;
        return 0;
}

/* The length of the valid UTF-8 sequence at p (of n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        size_t l;
        uint32_t cp;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                l = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                l = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                l = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (l > n)
                return 0;
        for (size_t k = 1; k < l; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (p[k] & 0x3f);
        }
        if ((l == 3 && cp < 0x800) || (l == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return l;
}

json_t *json_string_lossy(const char *s)
{
        size_t n = strlen(s);
        _cleanup_free_ char *out = xmalloc(3 * n + 1);
        size_t o = 0;
        for (size_t i = 0; i < n;) {
                size_t l = utf8_seq((const unsigned char *)s + i, n - i);
                if (l == 0) {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(out + o, s + i, l);
                o += l;
                i += l;
        }
        return json_stringn(out, o);
}

int json_load_path(const char *path, json_t **ret, struct berth_err *err)
{
        json_error_t je;
        if (access(path, F_OK) < 0)
                return err_errno(err, -errno, "'%s'", path);
        json_t *j = json_load_file(path, JSON_DECODE_ANY, &je);
        if (!j)
                return err_set(err, -EBADMSG, "'%s': invalid JSON: %s (line %d, column %d)", path,
                               je.text, je.line, je.column);
        *ret = j;
        return 0;
}

static int save(const char *path, json_t *j, mode_t mode, bool durable, struct berth_err *err)
{
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
                return err_set(err, -ENOMEM, "cannot encode JSON for '%s'", path);
        int r = durable ? write_file_atomic(path, s, strlen(s), mode)
                        : write_file_replace(path, s, strlen(s), mode);
        if (r < 0)
                return err_errno(err, r, "write '%s'", path);
        return 0;
}

int json_save_path(const char *path, json_t *j, mode_t mode, struct berth_err *err)
{
        return save(path, j, mode, true, err);
}

int json_save_volatile(const char *path, json_t *j, mode_t mode, struct berth_err *err)
{
        return save(path, j, mode, false, err);
}

const char *json_get_str(json_t *o, const char *key, const char *def)

{
        json_t *v = json_object_get(o, key);
        return json_is_string(v) ? json_string_value(v) : def;
}

int64_t json_get_int(json_t *o, const char *key, int64_t def)
{
        json_t *v = json_object_get(o, key);
        if (json_is_integer(v))
                return json_integer_value(v);
        if (json_is_real(v))
                return (int64_t)json_real_value(v);
        return def;
}

bool json_get_bool(json_t *o, const char *key, bool def)
{
        json_t *v = json_object_get(o, key);
        return json_is_boolean(v) ? json_is_true(v) : def;
}

char *json_time_ns(int64_t ns)
{
        time_t s = (time_t)(ns / 1000000000);
        struct tm tm;
        char buf[40];
        gmtime_r(&s, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        return xasprintf("%s.%09lldZ", buf, (long long)(ns % 1000000000));
}

int jline_read(struct jline_reader *r, int timeout_ms, json_t **ret, struct berth_err *err)
{
        for (;;) {
                char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
                if (nl) {
                        size_t n = (size_t)(nl - r->buf);
                        json_error_t je;
                        json_t *j = json_loadb(r->buf, n, 0, &je);
                        memmove(r->buf, nl + 1, r->len - n - 1);
                        r->len -= n + 1;
                        if (!json_is_object(j)) {
                                json_decref(j);
                                return err_set(err, -EBADMSG, "not a JSON object: %s",
                                               j ? "another JSON value" : je.text);
                        }
                        *ret = j;
                        return 0;
                }
                size_t max = r->max ? r->max : JLINE_MAX;
                if (r->len >= max)
                        return err_set(err, -EBADMSG, "a line longer than %zu bytes", max);
                if (timeout_ms >= 0) {
                        struct pollfd p = {.fd = r->fd, .events = POLLIN};
                        int k = poll(&p, 1, timeout_ms);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return err_errno(err, -errno, "poll");
                        if (k == 0)
                                return err_set(err, -ETIMEDOUT, "no message for %d s",
                                               timeout_ms / 1000);
                }
                if (r->cap - r->len < 65536) {
                        r->cap = r->cap ? r->cap * 2 : 131072;
                        r->buf = xrealloc(r->buf, r->cap);
                }
                ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return err_errno(err, -errno, "read");
                if (n == 0)
                        return err_set(err, -EPIPE, "end of stream%s",
                                       r->len ? " in the middle of a line" : "");
                r->len += (size_t)n;
        }
}

void jline_reader_done(struct jline_reader *r)
{
        free(r->buf);
        r->buf = NULL;
        r->len = r->cap = 0;
}

int jline_write(int fd, json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!s)
                return -ENOMEM;
        size_t n = strlen(s);
        s[n] = '\n'; /* the terminating NUL is not written */
        int r = loop_write(fd, s, n + 1);
        free(s);
        return r;
}

int json_print(FILE *f, const json_t *j, size_t flags)
{
        _cleanup_free_ char *s = json_dumps(j, flags);
        if (!s)
                return -EINVAL;
        fputs(s, f);
        fputc('\n', f);
        return 0;
}
