/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_HTTP_H
#define BERTH_BASE_HTTP_H

/* HTTP/1.1 messages, for both ends of the API socket (the server in
 * api-server.c, the CLI's client in client.c): a buffered reader of a
 * connection, the head of a request or a response, and bodies delimited by
 * Content-Length, by chunks or by the end of the connection. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 100

struct http_reader {
        int fd;
        char *buf; /* cap bytes; [off, len) read and not yet used */
        size_t off, len, cap;
        /* A head begun must be complete within this time (0: no limit), so
         * that a request line without its blank line is answered, not held
         * until the connection's idle timeout. */
        int head_timeout_ms;
};

/* Read more into the buffer (compacting it when full): the bytes read, 0 at
 * EOF, -E2BIG when the unused bytes fill the buffer, -errno (-EAGAIN after
 * an SO_RCVTIMEO). */
ssize_t http_fill(struct http_reader *r);
/* One line without its CR LF, cut to len - 1 bytes: its length; -EPIPE at EOF. */
int http_read_line(struct http_reader *r, char *line, size_t len);
/* Up to max bytes, the buffered ones first, else one read: 0 at EOF. */
ssize_t http_read_some(struct http_reader *r, void *dst, size_t max);

/* Read a head, up to and including its blank line (empty lines before it are
 * skipped), into *ret (allocated, NUL-terminated): its length; 0 at EOF
 * before the first byte; -E2BIG when it does not fit in the buffer; -EPIPE
 * at EOF inside it; -ETIMEDOUT when its end has not come head_timeout_ms
 * after its first byte; -EBADMSG when it holds a NUL byte. */
ssize_t http_read_head(struct http_reader *r, char **ret);

struct http_header {
        const char *name, *value;
};

struct http_head {
        const char *method, *target; /* a request */
        unsigned status;             /* a response */
        const char *reason;
        unsigned minor; /* HTTP/1.minor */
        struct http_header h[HTTP_MAX_HEADERS];
        size_t n;
};

/* Parse a head read by http_read_head, in place (it points into it):
 * "METHOD /target HTTP/1.x" or "HTTP/1.x NNN reason", then the header
 * fields; a field continued on the next line (obsolete folding) is joined
 * with spaces. -EBADMSG on bad syntax, -E2BIG over HTTP_MAX_HEADERS. */
int http_parse_request(char *head, struct http_head *h);
int http_parse_response(char *head, struct http_head *h);
/* The first field of that name (any case), or NULL. */
const char *http_header(const struct http_head *h, const char *name);
/* Does a comma-separated field (Connection, Transfer-Encoding) list token? */
bool http_header_has(const struct http_head *h, const char *name, const char *token);

enum http_framing { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_EOF };

struct http_body {
        enum http_framing framing;
        uint64_t left; /* of the body, or of the current chunk */
        bool in_chunks, done;
};

/* How the body of a message with this head is delimited: chunked, by
 * Content-Length, else none (a request) or until EOF (a response).
 * -ENOTSUP for a transfer coding other than chunked, -EBADMSG for a bad
 * Content-Length. */
int http_body_init(struct http_body *b, const struct http_head *h, bool request);
/* Read up to max bytes of the body: 0 at its end; -EPROTO on a bad chunk
 * size, -EPIPE when the connection ends inside it, -errno. */
ssize_t http_body_read(struct http_reader *r, struct http_body *b, void *dst, size_t max);

/* All of p to the socket (MSG_NOSIGNAL: a peer gone is -EPIPE, not SIGPIPE). */
int http_send_all(int fd, const void *p, size_t l);

#endif
