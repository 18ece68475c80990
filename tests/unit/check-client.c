/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CLI's HTTP/1.1 client (core/client/client.c) against a scripted server on a
 * Unix socket: bodies by length, chunks and EOF, keep-alive and reconnect,
 * interim answers, errors, chunked uploads and the upgrade of attach. The
 * server writes its answers a few bytes at a time so that every parser state
 * sees a partial read. */
#include "check-main.h"
#include "client/client.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

struct script {
        const char *replies[4]; /* one per request, in order; NULL: close instead */
        bool close_after[4];    /* close the connection after this reply */
        int n;
        char dir[64];
        char path[96];
        int listen_fd;
        char last_request[8192];
        size_t last_body_len; /* decoded length of a chunked request body */
        pthread_t thread;
};

static void slow_write(int fd, const char *s)
{
        size_t l = strlen(s);
        for (size_t off = 0; off < l; off += 7) {
                size_t n = l - off < 7 ? l - off : 7;
                ck_assert_int_eq(write(fd, s + off, n), (ssize_t)n);
                usleep(200);
        }
}

/* Read one request: the head, then a Content-Length or chunked body. */
static bool read_request(struct script *sc, int fd)
{
        size_t have = 0;
        char *buf = sc->last_request;
        while (!memmem(buf, have, "\r\n\r\n", 4)) {
                ssize_t n = read(fd, buf + have, sizeof(sc->last_request) - 1 - have);
                if (n <= 0)
                        return false;
                have += (size_t)n;
                buf[have] = '\0';
        }
        char *body = strstr(buf, "\r\n\r\n") + 4;
        size_t got = have - (size_t)(body - buf);
        const char *cl = strcasestr(buf, "Content-Length:");
        if (cl && cl < body) {
                size_t want = strtoul(cl + 15, NULL, 10);
                char tmp[4096];
                while (got < want) {
                        ssize_t n = read(fd, tmp, sizeof(tmp));
                        if (n <= 0)
                                return false;
                        got += (size_t)n;
                }
        } else if (strcasestr(buf, "chunked")) {
                /* the whole chunked body, then its decoded size */
                static char all[1 << 20];
                size_t al = got;
                memcpy(all, body, got);
                while (!memmem(all, al, "\r\n0\r\n\r\n", 7) &&
                       !(al >= 5 && !memcmp(all, "0\r\n\r\n", 5))) {
                        ssize_t n = read(fd, all + al, sizeof(all) - al);
                        if (n <= 0)
                                return false;
                        al += (size_t)n;
                }
                size_t dec = 0;
                char *p = all;
                for (;;) {
                        size_t sz = strtoul(p, &p, 16);
                        p = strstr(p, "\r\n") + 2;
                        if (!sz)
                                break;
                        dec += sz;
                        p += sz + 2;
                }
                sc->last_body_len = dec;
        }
        return true;
}

static void *serve(void *p)
{
        struct script *sc = p;
        int i = 0;
        while (i < sc->n) {
                int fd = accept4(sc->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        return NULL;
                while (i < sc->n) {
                        if (!read_request(sc, fd))
                                break;
                        if (!sc->replies[i]) {
                                i++;
                                break; /* close without answering */
                        }
                        slow_write(fd, sc->replies[i]);
                        if (sc->close_after[i++])
                                break;
                }
                close(fd);
        }
        return NULL;
}

static void start(struct script *sc, struct client *c)
{
        snprintf(sc->dir, sizeof(sc->dir), "/tmp/check-client.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(sc->dir));
        snprintf(sc->path, sizeof(sc->path), "%s/s.sock", sc->dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sc->path);
        sc->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(sc->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(sc->listen_fd, 8), 0);
        ck_assert_int_eq(pthread_create(&sc->thread, NULL, serve, sc), 0);
        struct berth_err err = {0};
        char host[128];
        snprintf(host, sizeof(host), "unix://%s", sc->path);
        ck_assert_int_eq(client_init(c, host, &err), 0);
}

static void stop(struct script *sc, struct client *c)
{
        client_done(c);
        shutdown(sc->listen_fd, SHUT_RDWR);
        pthread_join(sc->thread, NULL);
        close(sc->listen_fd);
        unlink(sc->path);
        rmdir(sc->dir);
}

START_TEST(test_length_and_keepalive)
{
        struct script sc = {.n = 3};
        sc.replies[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}";
        sc.replies[1] = "HTTP/1.1 204 No Content\r\n\r\n";
        sc.replies[2] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]";
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        json_t *j = NULL;
        ck_assert_int_eq(client_json(&c, "GET", "/x", NULL, NULL, &j, &err), 0);
        ck_assert_str_eq(json_get_str(j, "a", ""), "b c");
        json_decref(j);
        ck_assert(strstr(sc.last_request, "GET /v1.41/x HTTP/1.1\r\n"));
        int fd = c.conn.fd;
        long st = 0;
        ck_assert_int_eq(client_json(&c, "POST", "/y", NULL, &st, NULL, &err), 0);
        ck_assert_int_eq(st, 204);
        ck_assert(strstr(sc.last_request, "Content-Length: 0\r\n"));
        j = NULL;
        ck_assert_int_eq(client_json(&c, "GET", "/z", NULL, NULL, &j, &err), 0);
        ck_assert(json_is_array(j));
        json_decref(j);
        ck_assert_int_eq(c.conn.fd, fd); /* one connection for all three */
        stop(&sc, &c);
}
END_TEST

static int concat(void *ud, const char *data, size_t len)
{
        strncat(ud, data, len);
        return 0;
}

START_TEST(test_chunked_and_interim)
{
        struct script sc = {.n = 1};
        sc.replies[0] =
            "HTTP/1.1 100 Continue\r\n\r\n"
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        char out[256] = "";
        long st = 0;
        ck_assert_int_eq(client_stream(&c, "GET", "/logs", NULL, -1, concat, out, &st, &err), 0);
        ck_assert_int_eq(st, 200);
        ck_assert_str_eq(out, "hello 0123456789");
        ck_assert_int_ge(c.conn.fd, 0); /* reusable after a chunked body */
        stop(&sc, &c);
}
END_TEST

START_TEST(test_eof_body)
{
        struct script sc = {.n = 1};
        sc.replies[0] = "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil the end";
        sc.close_after[0] = true;
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        char *body = NULL;
        long st = 0;
        ck_assert_int_eq(client_request(&c, "GET", "/e", NULL, NULL, 0, &st, &body, NULL, &err), 0);
        ck_assert_str_eq(body, "until the end");
        free(body);
        ck_assert_int_eq(c.conn.fd, -1);
        stop(&sc, &c);
}
END_TEST

START_TEST(test_reconnect_after_idle_close)
{
        /* the server drops the kept connection without answering the second
         * request: the client sends it again on a new connection */
        struct script sc = {.n = 3};
        sc.replies[0] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1";
        sc.replies[1] = NULL;
        sc.replies[2] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2";
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        char *body = NULL;
        long st = 0;
        ck_assert_int_eq(client_request(&c, "GET", "/a", NULL, NULL, 0, &st, &body, NULL, &err), 0);
        ck_assert_str_eq(body, "1");
        free(body);
        ck_assert_int_eq(client_request(&c, "GET", "/b", NULL, NULL, 0, &st, &body, NULL, &err), 0);
        ck_assert_str_eq(body, "2");
        free(body);
        stop(&sc, &c);
}
END_TEST

START_TEST(test_error_status)
{
        struct script sc = {.n = 1};
        sc.replies[0] = "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n"
                        "Content-Length: 36\r\n\r\n{\"message\":\"name \\\"x\\\" is in use\"}  ";
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        ck_assert_int_eq(client_json(&c, "POST", "/c", NULL, NULL, NULL, &err), -EEXIST);
        ck_assert_str_eq(err.msg, "name \"x\" is in use");
        stop(&sc, &c);
}
END_TEST

START_TEST(test_chunked_upload)
{
        struct script sc = {.n = 1};
        sc.replies[0] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        struct client c;
        start(&sc, &c);
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        static char data[200000];
        memset(data, 'x', sizeof(data));
        pid_t w = fork();
        if (w == 0) {
                close(p[0]);
                ck_assert_int_eq(loop_write(p[1], data, sizeof(data)), 0);
                _exit(0);
        }
        close(p[1]);
        struct berth_err err = {0};
        char out[16] = "";
        ck_assert_int_eq(client_stream(&c, "POST", "/images/load", "application/x-tar", p[0],
                                       concat, out, NULL, &err),
                         0);
        close(p[0]);
        ck_assert_str_eq(out, "ok");
        ck_assert_uint_eq(sc.last_body_len, sizeof(data));
        ck_assert(strstr(sc.last_request, "Transfer-Encoding: chunked\r\n"));
        stop(&sc, &c);
}
END_TEST

START_TEST(test_upgrade_leaves_stream)
{
        /* the raw stream follows the 101 head in the same bytes */
        struct script sc = {.n = 1};
        sc.replies[0] =
            "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nRAW BYTES";
        sc.close_after[0] = true;
        struct client c;
        start(&sc, &c);
        struct berth_err err = {0};
        int fd = -1;
        long st = 0;
        ck_assert_int_eq(
            client_raw(&c, "POST", "/containers/x/attach", NULL, true, &fd, &st, NULL, &err), 0);
        ck_assert_int_eq(st, 101);
        char *rest = NULL;
        client_read_body(fd, false, &rest, NULL);
        ck_assert_str_eq(rest, "RAW BYTES");
        free(rest);
        close(fd);
        ck_assert(strstr(sc.last_request, "Upgrade: tcp\r\n"));
        stop(&sc, &c);
}
END_TEST

START_TEST(test_refused)
{
        struct client c;
        struct berth_err err = {0};
        ck_assert_int_eq(client_init(&c, "unix:///tmp/check-client-none/nothing.sock", &err), 0);
        ck_assert_int_eq(client_json(&c, "GET", "/x", NULL, NULL, NULL, &err), -ECONNREFUSED);
        ck_assert(strstr(err.msg, "Cannot connect to the berth daemon"));
        client_done(&c);
}
END_TEST

static Suite *client_suite(void)
{
        Suite *s = suite_create("client");
        TCase *tc = tcase_create("http");
        tcase_add_test(tc, test_length_and_keepalive);
        tcase_add_test(tc, test_chunked_and_interim);
        tcase_add_test(tc, test_eof_body);
        tcase_add_test(tc, test_reconnect_after_idle_close);
        tcase_add_test(tc, test_error_status);
        tcase_add_test(tc, test_chunked_upload);
        tcase_add_test(tc, test_upgrade_leaves_stream);
        tcase_add_test(tc, test_refused);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(client_suite)
