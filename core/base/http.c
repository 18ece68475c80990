/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t http_fill(struct http_reader *r)
{
        if (r->off == r->len)
                r->off = r->len = 0;
        if (r->len == r->cap) { /* compact */
                memmove(r->buf, r->buf + r->off, r->len - r->off);
                r->len -= r->off;
                r->off = 0;
                if (r->len == r->cap)
                        return -E2BIG;
        }
        for (;;) {
                ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
                if (n >= 0) {
                        r->len += (size_t)n;
                        return n;
                }
                if (errno != EINTR)
                        return -errno;
        }
}

int http_read_line(struct http_reader *r, char *line, size_t len)
{
        for (;;) {
                char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
                if (nl) {
                        size_t l = (size_t)(nl - (r->buf + r->off));
                        size_t keep = l && nl[-1] == '\r' ? l - 1 : l;
                        if (keep >= len)
                                keep = len - 1;
                        memcpy(line, r->buf + r->off, keep);
                        line[keep] = '\0';
                        r->off += l + 1;
                        return (int)keep;
                }
                ssize_t n = http_fill(r);
                if (n < 0)
                        return (int)n;
                if (n == 0)
                        return -EPIPE;
        }
}

ssize_t http_read_some(struct http_reader *r, void *dst, size_t max)
{
        if (r->off == r->len) {
                ssize_t n = http_fill(r);
                if (n <= 0)
                        return n;
        }
        size_t l = r->len - r->off < max ? r->len - r->off : max;
        memcpy(dst, r->buf + r->off, l);
        r->off += l;
        return (ssize_t)l;
}

/* 0 once fd has something to read (or its end), -ETIMEDOUT at deadline
 * (CLOCK_MONOTONIC, ns). */
static int wait_readable(int fd, int64_t deadline)
{
        for (;;) {
                int64_t left = deadline - monotonic_ns();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {fd, POLLIN, 0};
                int n = poll(&p, 1, (int)((left + 999999) / 1000000));
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

ssize_t http_read_head(struct http_reader *r, char **ret)
{
        size_t scanned = 0; /* bytes after off known to hold no end of head */
        bool any = false;
        int64_t deadline = 0; /* set at the head's first byte */
        for (;;) {
                /* empty lines before the start line */
                while (scanned == 0 && r->off < r->len &&
                       (r->buf[r->off] == '\r' || r->buf[r->off] == '\n')) {
                        r->off++;
                        any = true;
                }
                const char *p = r->buf + r->off;
                size_t avail = r->len - r->off;
                for (size_t i = scanned; i < avail; i++) {
                        if (p[i] != '\n')
                                continue;
                        size_t end = i + 1 < avail && p[i + 1] == '\n'                       ? i + 2
                                     : i + 2 < avail && p[i + 1] == '\r' && p[i + 2] == '\n' ? i + 3
                                                                                             : 0;
                        if (!end)
                                continue;
                        if (memchr(p, '\0', end))
                                return -EBADMSG;
                        *ret = xstrndup(p, end);
                        r->off += end;
                        return (ssize_t)end;
                }
                scanned = avail > 2 ? avail - 2 : 0; /* (compaction keeps it valid) */
                if (r->head_timeout_ms > 0 && (avail || any)) {
                        if (!deadline)
                                deadline = monotonic_ns() + (int64_t)r->head_timeout_ms * 1000000;
                        int pr = wait_readable(r->fd, deadline);
                        if (pr < 0)
                                return pr;
                }
                ssize_t n = http_fill(r);
                if (n < 0)
                        return n;
                if (n == 0)
                        return avail || any ? -EPIPE : 0;
                any = true;
        }
}

static bool is_tchar(char c)
{
        return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "HTTP/1.x": the minor version, or -1 */
static int http_version(const char *s)
{
        if (strncmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8])
                return -1;
        return s[7] - '0';
}

/* Split off the start line; join folded lines; parse the fields. */
static int parse_fields(char *head, char **start, struct http_head *h)
{
        *h = (struct http_head){0};
        char *nl = strchr(head, '\n');
        if (!nl || nl[1] == ' ' || nl[1] == '\t') /* no field may begin with a fold */
                return -EBADMSG;
        for (char *p = nl + 1; (p = strchr(p, '\n')); p++)
                if (p[1] == ' ' || p[1] == '\t') {
                        *p = ' ';
                        if (p[-1] == '\r')
                                p[-1] = ' ';
                }
        *start = head;
        *nl = '\0';
        if (nl > head && nl[-1] == '\r')
                nl[-1] = '\0';
        for (char *line = nl + 1; *line;) {
                char *end = strchr(line, '\n');
                *end = '\0';
                if (end > line && end[-1] == '\r')
                        end[-1] = '\0';
                char *next = end + 1;
                if (*line) {
                        char *colon = line;
                        while (is_tchar(*colon))
                                colon++;
                        if (*colon != ':' || colon == line)
                                return -EBADMSG;
                        *colon = '\0';
                        char *v = colon + 1 + strspn(colon + 1, " \t");
                        size_t vl = strlen(v);
                        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                                v[--vl] = '\0';
                        for (char *c = v; *c; c++)
                                if ((unsigned char)*c < 0x20 && *c != '\t')
                                        return -EBADMSG;
                        if (h->n == HTTP_MAX_HEADERS)
                                return -E2BIG;
                        h->h[h->n++] = (struct http_header){line, v};
                }
                line = next;
        }
        return 0;
}

static int parse_request_line(char *line, struct http_head *h)
{
        char *sp1 = strchr(line, ' ');
        char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || sp1 == line)
                return -EBADMSG;
        *sp1 = *sp2 = '\0';
        for (char *c = line; *c; c++)
                if (!is_tchar(*c))
                        return -EBADMSG;
        if (sp1[1] != '/')
                return -EBADMSG;
        for (char *c = sp1 + 1; *c; c++)
                if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                        return -EBADMSG;
        int minor = http_version(sp2 + 1);
        if (minor < 0)
                return -EBADMSG;
        h->method = line;
        h->target = sp1 + 1;
        h->minor = (unsigned)minor;
        return 0;
}

static int parse_status_line(char *line, struct http_head *h)
{
        char *sp = strchr(line, ' ');
        if (!sp)
                return -EBADMSG;
        *sp = '\0';
        int minor = http_version(line);
        char *s = sp + 1;
        if (minor < 0 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
            !isdigit((unsigned char)s[2]) || (s[3] && s[3] != ' '))
                return -EBADMSG;
        h->minor = (unsigned)minor;
        h->status = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
        h->reason = s[3] ? s + 4 : "";
        return 0;
}

int http_parse_request(char *head, struct http_head *h)
{
        char *line;
        int r = parse_fields(head, &line, h);
        return r < 0 ? r : parse_request_line(line, h);
}

int http_parse_response(char *head, struct http_head *h)
{
        char *line;
        int r = parse_fields(head, &line, h);
        return r < 0 ? r : parse_status_line(line, h);
}

const char *http_header(const struct http_head *h, const char *name)
{
        for (size_t i = 0; i < h->n; i++)
                if (strcasecmp(h->h[i].name, name) == 0)
                        return h->h[i].value;
        return NULL;
}

bool http_header_has(const struct http_head *h, const char *name, const char *token)
{
        size_t tl = strlen(token);
        for (size_t i = 0; i < h->n; i++) {
                if (strcasecmp(h->h[i].name, name) != 0)
                        continue;
                for (const char *v = h->h[i].value; *v;) {
                        v += strspn(v, " \t,");
                        size_t l = strcspn(v, ",");
                        while (l && (v[l - 1] == ' ' || v[l - 1] == '\t'))
                                l--;
                        if (l == tl && strncasecmp(v, token, tl) == 0)
                                return true;
                        v += strcspn(v, ",");
                }
        }
        return false;
}

int http_body_init(struct http_body *b, const struct http_head *h, bool request)
{
        *b = (struct http_body){.framing = request ? HTTP_BODY_NONE : HTTP_BODY_EOF};
        if (!request && (h->status < 200 || h->status == 204 || h->status == 304)) {
                b->framing = HTTP_BODY_NONE;
                return 0;
        }
        const char *te = http_header(h, "Transfer-Encoding");
        if (te) {
                /* only chunked, which must come last */
                if (strcasecmp(te, "chunked") != 0)
                        return -ENOTSUP;
                b->framing = HTTP_BODY_CHUNKED;
                return 0;
        }
        const char *cl = http_header(h, "Content-Length");
        if (cl) {
                char *end;
                errno = 0;
                if (!isdigit((unsigned char)*cl))
                        return -EBADMSG;
                unsigned long long v = strtoull(cl, &end, 10);
                if (errno || *end)
                        return -EBADMSG;
                b->framing = HTTP_BODY_LENGTH;
                b->left = v;
        }
        return 0;
}

/* The next chunk's size line (after the CR LF ending the previous chunk). */
static int next_chunk(struct http_reader *r, struct http_body *b)
{
        char line[256];
        int n;
        if (b->in_chunks && (n = http_read_line(r, line, sizeof(line))) != 0)
                return n < 0 ? n : -EPROTO;
        b->in_chunks = true;
        if ((n = http_read_line(r, line, sizeof(line))) < 0)
                return n;
        uint64_t size = 0;
        const char *p = line;
        for (; isxdigit((unsigned char)*p); p++) {
                if (size >> 59)
                        return -EPROTO;
                size = size * 16 +
                       (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : tolower(*p) - 'a' + 10);
        }
        p += strspn(p, " \t");
        if (p == line || (*p && *p != ';'))
                return -EPROTO;
        if (size == 0) { /* the last chunk, then trailer fields up to a blank line */
                while ((n = http_read_line(r, line, sizeof(line))) > 0)
                        ;
                if (n < 0)
                        return n;
                b->done = true;
        }
        b->left = size;
        return 0;
}

ssize_t http_body_read(struct http_reader *r, struct http_body *b, void *dst, size_t max)
{
        if (b->done || b->framing == HTTP_BODY_NONE)
                return 0;
        if (b->framing == HTTP_BODY_EOF) {
                ssize_t n = http_read_some(r, dst, max);
                b->done = n == 0;
                return n;
        }
        while (b->left == 0) {
                if (b->framing == HTTP_BODY_LENGTH) {
                        b->done = true;
                        return 0;
                }
                int e = next_chunk(r, b);
                if (e < 0)
                        return e;
                if (b->done)
                        return 0;
        }
        ssize_t n = http_read_some(r, dst, b->left < max ? b->left : max);
        if (n == 0)
                return -EPIPE;
        if (n > 0)
                b->left -= (uint64_t)n;
        return n;
}

int http_send_all(int fd, const void *p, size_t l)
{
        for (const char *s = p; l;) {
                ssize_t n = send(fd, s, l, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                s += n;
                l -= (size_t)n;
        }
        return 0;
}
