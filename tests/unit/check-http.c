/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HTTP/1.1 message parser both ends share (core/base/http.c): heads of
 * requests and responses, header folding and limits, bodies by length and
 * by chunks, fed through a pipe and a small buffer so that lines straddle
 * reads and the buffer compacts. */
#include "check-main.h"
#include "base/http.h"
#include "base/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>

struct feed {
        int fd;
        const char *data;
};

/* Write slowly, a few bytes at a time, so that every state sees a partial read. */
static void *writer(void *p)
{
        struct feed *f = p;
        size_t l = strlen(f->data);
        for (size_t off = 0; off < l; off += 5) {
                size_t n = l - off < 5 ? l - off : 5;
                if (write(f->fd, f->data + off, n) != (ssize_t)n)
                        break;
                usleep(100);
        }
        close(f->fd);
        return NULL;
}

struct fixture {
        struct http_reader r;
        struct feed f;
        pthread_t t;
};

static void open_feed(struct fixture *x, const char *data, size_t cap)
{
        int p[2];
        signal(SIGPIPE, SIG_IGN); /* the reader may stop early */
        ck_assert_int_eq(pipe(p), 0);
        x->f = (struct feed){p[1], data};
        x->r = (struct http_reader){.fd = p[0], .buf = xmalloc(cap), .cap = cap};
        ck_assert_int_eq(pthread_create(&x->t, NULL, writer, &x->f), 0);
}

static void close_feed(struct fixture *x)
{
        close(x->r.fd); /* a writer still busy gets EPIPE */
        pthread_join(x->t, NULL);
        free(x->r.buf);
}

/* Parse one request head from data: the parser's result. */
static int request(const char *data, struct http_head *h, char **head)
{
        struct fixture x;
        open_feed(&x, data, 4096);
        ssize_t n = http_read_head(&x.r, head);
        close_feed(&x);
        if (n <= 0)
                return n == 0 ? -EPIPE : (int)n;
        return http_parse_request(*head, h);
}

START_TEST(test_request_line)
{
        struct http_head h;
        char *head = NULL;
        ck_assert_int_eq(request("\r\nGET /v1.41/_ping?x=1 HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n"
                                 "Content-Type:  application/json  \r\n\r\nBODY",
                                 &h, &head),
                         0);
        ck_assert_str_eq(h.method, "GET");
        ck_assert_str_eq(h.target, "/v1.41/_ping?x=1");
        ck_assert_uint_eq(h.minor, 1);
        ck_assert_uint_eq(h.n, 3);
        ck_assert_str_eq(http_header(&h, "content-type"), "application/json");
        ck_assert_str_eq(http_header(&h, "X-EMPTY"), "");
        ck_assert_ptr_null(http_header(&h, "Missing"));
        free(head);
        ck_assert_int_eq(request("POST / HTTP/1.0\n\n", &h, &head), 0); /* bare LF */
        ck_assert_uint_eq(h.minor, 0);
        free(head);

        static const char *const bad[] = {
            "GET /\r\n\r\n",                      /* no version */
            "GET / HTTP/2.0\r\n\r\n",             /* not 1.x */
            "GET / http/1.1\r\n\r\n",             /* case */
            "GET  / HTTP/1.1\r\n\r\n",            /* two spaces */
            "GET x HTTP/1.1\r\n\r\n",             /* not origin-form */
            "G(T / HTTP/1.1\r\n\r\n",             /* not a token */
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n", /* space before the colon */
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\n: v\r\n\r\n",
            "GET / HTTP/1.1\r\n folded: first\r\n\r\n", /* a fold before any field */
            "GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",      /* a control character */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                head = NULL;
                ck_assert_msg(request(bad[i], &h, &head) == -EBADMSG, "accepted: %s", bad[i]);
                free(head);
        }
        /* EOF inside the head, and before any byte */
        ck_assert_int_eq(request("GET / HTTP/1.1\r\nHost: a\r\n", &h, &head), -EPIPE);
        struct fixture x;
        open_feed(&x, "", 64);
        ck_assert_int_eq(http_read_head(&x.r, &head), 0);
        close_feed(&x);
}
END_TEST

START_TEST(test_folding_and_limits)
{
        struct http_head h;
        char *head = NULL;
        ck_assert_int_eq(
            request("GET / HTTP/1.1\r\nX-Long: a\r\n b\r\n\tc\r\nNext: d\r\n\r\n", &h, &head), 0);
        ck_assert_str_eq(http_header(&h, "X-Long"), "a   b  \tc");
        ck_assert_str_eq(http_header(&h, "Next"), "d");
        free(head);

        /* comma lists, any case */
        ck_assert_int_eq(request("GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n"
                                 "Expect: 100-Continue\r\n\r\n",
                                 &h, &head),
                         0);
        ck_assert(http_header_has(&h, "connection", "upgrade"));
        ck_assert(!http_header_has(&h, "connection", "close"));
        ck_assert(http_header_has(&h, "Expect", "100-continue"));
        free(head);

        /* HTTP_MAX_HEADERS fields, and one more */
        char *many = xstrdup("GET / HTTP/1.1\r\n");
        for (int i = 0; i < HTTP_MAX_HEADERS; i++) {
                char *m = xasprintf("%sX-%d: v\r\n", many, i);
                free(many);
                many = m;
        }
        char *req = xasprintf("%s\r\n", many);
        ck_assert_int_eq(request(req, &h, &head), 0);
        ck_assert_uint_eq(h.n, HTTP_MAX_HEADERS);
        free(head);
        free(req);
        req = xasprintf("%sX-more: v\r\n\r\n", many);
        ck_assert_int_eq(request(req, &h, &head), -E2BIG);
        free(head);
        free(req);
        free(many);

        /* a head larger than the buffer */
        struct fixture x;
        open_feed(&x,
                  "GET / HTTP/1.1\r\nX-Big: "
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
                  64);
        ck_assert_int_eq(http_read_head(&x.r, &head), -E2BIG);
        close_feed(&x);
        /* one that just fits, after a compaction */
        open_feed(
            &x,
            "GET /a HTTP/1.1\r\n\r\nGET /bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb HTTP/1.1\r\n\r\n",
            64);
        ck_assert_int_eq(http_read_head(&x.r, &head), 19);
        free(head);
        ck_assert_int_eq(http_read_head(&x.r, &head), 56);
        ck_assert_int_eq(http_parse_request(head, &h), 0);
        ck_assert_str_eq(h.target, "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        free(head);
        close_feed(&x);
}
END_TEST

/* Read a whole body of a request with this head from the same stream. */
static int body(const char *data, size_t cap, char *out, size_t outcap)
{
        struct fixture x;
        open_feed(&x, data, cap);
        char *head = NULL;
        struct http_head h;
        struct http_body b;
        ck_assert_int_gt(http_read_head(&x.r, &head), 0);
        int r = http_parse_request(head, &h);
        if (r == 0)
                r = http_body_init(&b, &h, true);
        size_t have = 0;
        while (r == 0) {
                ssize_t n = http_body_read(&x.r, &b, out + have, outcap - 1 - have);
                if (n <= 0) {
                        r = (int)n;
                        break;
                }
                have += (size_t)n;
        }
        out[have] = '\0';
        free(head);
        close_feed(&x);
        return r;
}

START_TEST(test_chunked)
{
        char out[256];
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "4;name=value\r\nWiki\r\n5 \r\npedia\r\n"
                              "E\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n",
                              64, out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, "Wikipedia in\r\n\r\nchunks.");
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 64,
                              out, sizeof(out)),
                         0);
        ck_assert_str_eq(out, "");
        /* bad hex, a size line with junk, a size that overflows */
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
                              64, out, sizeof(out)),
                         -EPROTO);
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2x\r\nab\r\n",
                              64, out, sizeof(out)),
                         -EPROTO);
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "10000000000000000\r\n",
                              64, out, sizeof(out)),
                         -EPROTO);
        /* no CR LF after the data */
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "2\r\nabXY\r\n0\r\n\r\n",
                              64, out, sizeof(out)),
                         -EPROTO);
        /* truncated: inside the data, before the last chunk, in the trailer */
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 64,
                              out, sizeof(out)),
                         -EPIPE);
        ck_assert_str_eq(out, "ab");
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
                              64, out, sizeof(out)),
                         -EPIPE);
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n",
                              64, out, sizeof(out)),
                         -EPIPE);
}
END_TEST

START_TEST(test_length_and_framing)
{
        char out[256];
        ck_assert_int_eq(
            body("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloEXTRA", 48, out, sizeof(out)),
            0);
        ck_assert_str_eq(out, "hello");
        ck_assert_int_eq(
            body("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nhello", 48, out, sizeof(out)),
            -EPIPE);
        ck_assert_int_eq(body("GET / HTTP/1.1\r\n\r\nNOT A BODY", 32, out, sizeof(out)), 0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(
            body("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 64, out, sizeof(out)), -EBADMSG);
        ck_assert_int_eq(
            body("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 64, out, sizeof(out)), -EBADMSG);
        ck_assert_int_eq(body("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 64,
                              out, sizeof(out)),
                         -ENOTSUP);
        ck_assert_int_eq(
            body("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 64, out, sizeof(out)),
            -ENOTSUP);
}
END_TEST

START_TEST(test_status_line)
{
        static const struct {
                const char *head;
                int r;
                unsigned status, minor;
                const char *reason;
        } t[] = {
            {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 200, 1, "OK"},
            {"HTTP/1.0 404 Not Found\r\n\r\n", 0, 404, 0, "Not Found"},
            {"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n", 0, 101, 1, "UPGRADED"},
            {"HTTP/1.1 204\r\n\r\n", 0, 204, 1, ""},
            {"HTTP/2 200 OK\r\n\r\n", -EBADMSG, 0, 0, NULL},
            {"HTTP/1.1 20 OK\r\n\r\n", -EBADMSG, 0, 0, NULL},
            {"HTTP/1.1 2000 OK\r\n\r\n", -EBADMSG, 0, 0, NULL},
            {"ICY 200 OK\r\n\r\n", -EBADMSG, 0, 0, NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                char *head = xstrdup(t[i].head);
                struct http_head h;
                ck_assert_int_eq(http_parse_response(head, &h), t[i].r);
                if (t[i].r == 0) {
                        ck_assert_uint_eq(h.status, t[i].status);
                        ck_assert_uint_eq(h.minor, t[i].minor);
                        ck_assert_str_eq(h.reason, t[i].reason);
                }
                free(head);
        }
        /* a response without a length reads to EOF; 204 and 1xx have none */
        char head[] = "HTTP/1.1 200 OK\r\n\r\n";
        struct http_head h;
        struct http_body b;
        ck_assert_int_eq(http_parse_response(head, &h), 0);
        ck_assert_int_eq(http_body_init(&b, &h, false), 0);
        ck_assert_int_eq(b.framing, HTTP_BODY_EOF);
        h.status = 204;
        ck_assert_int_eq(http_body_init(&b, &h, false), 0);
        ck_assert_int_eq(b.framing, HTTP_BODY_NONE);
}
END_TEST

/* A head begun must end within head_timeout_ms: a request line without the
 * blank line after it is -ETIMEDOUT then, not a wait for the connection's
 * idle timeout; a silent connection is not timed (0 means none); a head
 * that ends in time is read as before. */
START_TEST(test_head_timeout)
{
        int p[2];
        char *head = NULL;
        ck_assert_int_eq(pipe(p), 0);
        struct http_reader r = {
            .fd = p[0], .buf = xmalloc(4096), .cap = 4096, .head_timeout_ms = 200};
        ck_assert_int_eq(write(p[1], "GET /_ping\r\n", 12), 12);
        int64_t t0 = monotonic_ns();
        ck_assert_int_eq(http_read_head(&r, &head), -ETIMEDOUT);
        int64_t ms = (monotonic_ns() - t0) / 1000000;
        ck_assert_msg(ms >= 150 && ms < 2000, "timed out after %lld ms", (long long)ms);
        ck_assert_ptr_null(head);
        /* the rest of the head in time */
        r.off = r.len = 0;
        ck_assert_int_eq(write(p[1], "GET /a HTTP/1.1\r\n", 17), 17);
        ck_assert_int_eq(write(p[1], "\r\n", 2), 2);
        ck_assert_int_eq(http_read_head(&r, &head), 19);
        free(head);
        close(p[1]);
        close(p[0]);
        free(r.buf);
}
END_TEST

static Suite *http_suite(void)
{
        Suite *s = suite_create("http");
        TCase *tc = tcase_create("parser");
        tcase_add_test(tc, test_request_line);
        tcase_add_test(tc, test_folding_and_limits);
        tcase_add_test(tc, test_chunked);
        tcase_add_test(tc, test_length_and_framing);
        tcase_add_test(tc, test_status_line);
        tcase_add_test(tc, test_head_timeout);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(http_suite)
