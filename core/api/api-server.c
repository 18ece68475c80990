/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api.h"
#include "engine.h"
#include "base/http.h"
#include "base/log.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>

/* The HTTP/1.1 server of the API socket: one thread accepts, each
 * connection gets a detached thread of its own that reads requests one
 * after the other (keep-alive), runs the handler and writes its reply, so
 * that a handler may block (a wait, a log follow, an attach) without
 * stalling anyone else. A hand-written server rather than libmicrohttpd,
 * whose GnuTLS and its eight libraries cost berthd 2.5 MB of RSS for a
 * plain-text Unix socket. */

/* Request bodies over this size are refused (JSON bodies are small; the
 * streamed bodies of load/build/import get their own path). */
#define BODY_MAX (64u << 20)
/* The request line and header fields: more is 431. */
#define HEAD_MAX        (64u << 10)
#define MAX_CONNECTIONS 1024
/* between requests, and the longest silence inside one */
#define IDLE_TIMEOUT_S 300
/* from a head's first byte to its blank line: a request line that never
 * ends its head (HTTP/0.9 style, or a slow-loris) is answered with 400 */
#define HEAD_TIMEOUT_S 10
/* handlers parse JSON (jansson recurses up to 2048 levels) and use 64 KiB
 * buffers; 2 MiB leaves ample room */
#define THREAD_STACK (2u << 20)

struct conn;

struct api_server {
        struct engine *engine;
        int listen_fd;
        int wake[2]; /* api_server_stop wakes the accepting thread */
        pthread_t acceptor;
        pthread_mutex_t lock;
        pthread_cond_t idle; /* n == 0 */
        struct conn *conns;
        unsigned n;
        bool stopping;
};

struct conn {
        struct api_server *s;
        struct conn *prev, *next;
        int fd;
        struct ucred cred;
        struct http_reader rd;
        struct http_head head;
        bool close;       /* after this request */
        bool linger;      /* the client may still be sending: drain before closing */
        bool upgrade_req; /* the request asked for Upgrade */
};

static const char *reason(unsigned status)
{
        static const struct {
                unsigned s;
                const char *t;
        } t[] = {{100, "Continue"},
                 {101, "UPGRADED"},
                 {200, "OK"},
                 {201, "Created"},
                 {204, "No Content"},
                 {304, "Not Modified"},
                 {400, "Bad Request"},
                 {401, "Unauthorized"},
                 {403, "Forbidden"},
                 {404, "Not Found"},
                 {405, "Method Not Allowed"},
                 {409, "Conflict"},
                 {413, "Request Entity Too Large"},
                 {431, "Request Header Fields Too Large"},
                 {500, "Internal Server Error"},
                 {501, "Not Implemented"},
                 {503, "Service Unavailable"}};
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (t[i].s == status)
                        return t[i].t;
        return "Unknown";
}

/* A streamed-body request: the handler's thread, the pipe it reads the body
 * from, and the pipe it writes the reply into. */
struct stream_job {
        struct api_request *req;
        pthread_t thread;
        int body_rd, body_wr;
        int out_rd, out_wr;
        bool started;
        /* moby's rule: a stream that fails before its reply has begun is
         * answered with a plain HTTP error (a pull of an unknown image is a
         * 404), later failures go into the stream */
        pthread_mutex_t lock;
        bool replying;
        int result;
        struct berth_err err;
};

static void *stream_main(void *p)
{
        struct stream_job *job = p;
        struct berth_err err = {0};
        log_debug("%s %s (streamed body)", job->req->method, job->req->url);
        int r = job->req->route->stream(job->req, job->body_rd, job->out_wr, &err);
        pthread_mutex_lock(&job->lock);
        if (r < 0 && (job->req->route->reply_when_done || !job->replying)) {
                job->result = r;
                job->err = err;
        } else if (r < 0)
                api_stream_error(job->out_wr, err_msg(&err));
        pthread_mutex_unlock(&job->lock);
        /* Drain what the client still sends, so that it is never blocked
         * writing a body nobody reads. */
        char buf[16384];
        while (read(job->body_rd, buf, sizeof(buf)) > 0)
                ;
        job->out_wr = safe_close(job->out_wr);
        return NULL;
}

static void stream_start(struct api_request *req)
{
        struct stream_job *job = xzalloc(sizeof(*job));
        int bp[2], op[2];
        job->req = req;
        job->body_rd = job->body_wr = job->out_rd = job->out_wr = -1;
        pthread_mutex_init(&job->lock, NULL);
        req->stream = job;
        if (pipe2(bp, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0) {
                api_reply_error(req, 500, "cannot make pipes: %s", strerror(errno));
                return;
        }
        job->body_rd = bp[0];
        job->body_wr = bp[1];
        job->out_rd = op[0];
        job->out_wr = op[1];
        if (pthread_create(&job->thread, NULL, stream_main, job) != 0) {
                api_reply_error(req, 500, "cannot start a thread for %s", req->url);
                return;
        }
        job->started = true;
}

/* The body is over: reply when the handler is done (reply_when_done), or
 * with its stream once it begins, or with the error it failed with first. */
static void stream_reply(struct api_request *req)
{
        struct stream_job *job = req->stream;
        job->body_wr = safe_close(job->body_wr);
        if (req->route->reply_when_done) {
                pthread_join(job->thread, NULL);
                job->started = false;
                if (job->result < 0)
                        api_reply_error(req, api_status_for(job->result), "%s", err_msg(&job->err));
                else
                        api_reply_empty(req, 200);
                return;
        }
        struct pollfd pfd = {.fd = job->out_rd, .events = POLLIN};
        while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
                ;
        pthread_mutex_lock(&job->lock);
        job->replying = true;
        int result = job->result;
        pthread_mutex_unlock(&job->lock);
        if (result < 0)
                api_reply_error(req, api_status_for(result), "%s", err_msg(&job->err));
        else
                api_reply_stream(req, 200, "application/json", TAKE_FD(job->out_rd));
}

static void stream_free(struct stream_job *job)
{
        if (!job)
                return;
        job->body_wr = safe_close(job->body_wr);
        job->out_rd = safe_close(job->out_rd); /* a writer still busy gets EPIPE */
        if (job->started)
                pthread_join(job->thread, NULL);
        safe_close(job->body_rd);
        safe_close(job->out_wr);
        pthread_mutex_destroy(&job->lock);
        free(job);
}

/* --- one connection -------------------------------------------------------- */

static int send_head(struct conn *c, struct api_request *req, const char *framing)
{
        const struct api_reply *rp = &req->reply;
        _cleanup_free_ char *h = NULL;
        size_t hl = 0;
        FILE *f = open_memstream(&h, &hl);
        if (!f)
                return -ENOMEM;
        fprintf(f, "HTTP/1.1 %u %s\r\n", rp->status, reason(rp->status));
        fprintf(f, "Api-Version: " API_VERSION "\r\nDocker-Experimental: false\r\n"
                   "Ostype: linux\r\nServer: berth/" BERTH_VERSION " (linux)\r\n");
        for (char **x = req->extra_headers; x && *x; x++)
                fprintf(f, "%s\r\n", *x);
        if (rp->ctype)
                fprintf(f, "Content-Type: %s\r\n", rp->ctype);
        fprintf(f, "%s%s\r\n", framing, c->close && !rp->upgrade ? "Connection: close\r\n" : "");
        if (fclose(f) != 0)
                return -ENOMEM;
        return http_send_all(c->fd, h, hl);
}

/* Copy the stream's pipe to the client, in chunks (or raw to EOF for an
 * HTTP/1.0 client), until the producer closes it or the client goes away. */
static int relay(struct conn *c, int fd, bool chunked)
{
        char buf[16 + 32768 + 2];
        for (;;) {
                struct pollfd p[2] = {{fd, POLLIN, 0}, {c->fd, POLLRDHUP, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
                        return -EPIPE;
                if (!p[0].revents)
                        continue;
                ssize_t n = read(fd, buf + 16, 32768);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (!chunked) {
                        int r = n ? http_send_all(c->fd, buf + 16, (size_t)n) : 0;
                        if (r < 0 || n == 0)
                                return r;
                        continue;
                }
                char size[16];
                int sl = snprintf(size, sizeof(size), "%zx\r\n", (size_t)n);
                memcpy(buf + 16 - sl, size, (size_t)sl);
                memcpy(buf + 16 + n, "\r\n", 2);
                int r = http_send_all(c->fd, buf + 16 - sl, (size_t)sl + (size_t)n + 2);
                if (r < 0 || n == 0)
                        return r;
        }
}

static void send_reply(struct conn *c, struct api_request *req)
{
        struct api_reply *rp = &req->reply;
        bool head = req->head;
        int r;
        if (rp->upgrade) {
                /* Docker's 101, or, when the client did not ask for an
                 * upgrade (old clients), a 200 and the raw stream */
                if (!c->upgrade_req)
                        rp->status = 200;
                r = send_head(c, req,
                              c->upgrade_req ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "");
                struct timeval none = {0};
                setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
                if (r == 0)
                        rp->upgrade(rp->userdata, c->fd, c->rd.buf + c->rd.off,
                                    c->rd.len - c->rd.off);
                c->close = true;
        } else if (rp->stream_fd >= 0) {
                bool chunked = !c->close && !head;
                r = send_head(c, req, chunked ? "Transfer-Encoding: chunked\r\n" : "");
                if (r == 0 && !head)
                        r = relay(c, rp->stream_fd, chunked);
                if (r < 0 || !chunked)
                        c->close = true;
        } else {
                char len[48] = "";
                if (rp->status >= 200 && rp->status != 204 && rp->status != 304)
                        snprintf(len, sizeof(len), "Content-Length: %zu\r\n", rp->len);
                r = send_head(c, req, len);
                if (r == 0 && !head && rp->len)
                        r = http_send_all(c->fd, rp->body, rp->len);
                if (r < 0)
                        c->close = true;
        }
}

/* The request body: into the handler's pipe for a streamed-body route
 * (blocking while the handler is behind: back-pressure on the client, not
 * memory), else into req->body up to BODY_MAX; once a reply is chosen it is
 * read and dropped. */
static int read_body(struct conn *c, struct api_request *req, struct http_body *b)
{
        struct stream_job *job = req->replied ? NULL : req->stream;
        char buf[16384];
        for (;;) {
                ssize_t n = http_body_read(&c->rd, b, buf, sizeof(buf));
                if (n <= 0)
                        return (int)n;
                if (job) {
                        if (job->body_wr >= 0 && loop_write(job->body_wr, buf, (size_t)n) < 0)
                                job->body_wr = safe_close(job->body_wr);
                        continue;
                }
                if (req->replied || req->body_error)
                        continue;
                if (req->body_len + (size_t)n > BODY_MAX) {
                        req->body_error = -EFBIG;
                        return 0;
                }
                if (req->body_len + (size_t)n + 1 > req->body_cap) {
                        req->body_cap = (req->body_len + (size_t)n + 1) * 2;
                        req->body = xrealloc(req->body, req->body_cap);
                }
                memcpy(req->body + req->body_len, buf, (size_t)n);
                req->body_len += (size_t)n;
                req->body[req->body_len] = '\0';
        }
}

/* One request and its reply: 0 to go on with the next, <0 to close. */
static int serve_one(struct conn *c)
{
        _cleanup_free_ char *raw = NULL;
        ssize_t hl = http_read_head(&c->rd, &raw);
        if (hl == 0 ||
            (hl < 0 && hl != -E2BIG && hl != -EBADMSG && hl != -ETIMEDOUT && hl != -EPIPE))
                return -1; /* EOF, the idle timeout, or the client went away */
        c->head = (struct http_head){0};
        struct api_request *req = api_request_new(c->s->engine, c->fd, &c->head);
        req->peer_uid = c->cred.uid;
        req->peer_gid = c->cred.gid;
        req->peer_pid = c->cred.pid;
        c->upgrade_req = false;
        int r = hl < 0 ? (int)hl : http_parse_request(raw, &c->head);
        struct http_body body = {0};
        if (r == 0) {
                req->method = c->head.method;
                char *q = strchr(c->head.target, '?');
                if (q)
                        *q++ = '\0';
                req->url = c->head.target;
                api_request_set_query(req, q);
                c->close = c->head.minor == 0 || http_header_has(&c->head, "Connection", "close");
                c->upgrade_req = http_header(&c->head, "Upgrade") != NULL;
                r = http_body_init(&body, &c->head, true);
                if (http_header(&c->head, "Transfer-Encoding") &&
                    http_header(&c->head, "Content-Length"))
                        c->close = true; /* which length a proxy saw is unknown */
        }
        if (r < 0) {
                c->close = c->linger = true;
                if (r == -E2BIG)
                        api_reply_error(req, 431, "request header fields too large");
                else if (r == -ETIMEDOUT || r == -EPIPE)
                        api_reply_error(req, 400,
                                        "malformed HTTP request: the head did not end (no blank "
                                        "line after the request line and header fields)");
                else if (r == -ENOTSUP)
                        api_reply_error(req, 501, "transfer coding not supported: %s",
                                        http_header(&c->head, "Transfer-Encoding"));
                else
                        api_reply_error(req, 400, "malformed HTTP request");
                goto reply;
        }
        bool has_body = body.framing == HTTP_BODY_CHUNKED || body.left > 0;
        api_resolve(req);
        if (!req->replied && body.framing == HTTP_BODY_LENGTH && body.left > BODY_MAX &&
            !req->route->stream) {
                c->close = c->linger = true;
                api_reply_error(req, 413, "request body larger than %u bytes", BODY_MAX);
                goto reply;
        }
        if (has_body && http_header_has(&c->head, "Expect", "100-continue")) {
                if (req->replied) { /* the client will not send the body */
                        c->close = c->linger = true;
                        goto reply;
                }
                if (c->head.minor > 0 &&
                    http_send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
                        goto out;
        }
        if (!req->replied && req->route->stream && api_authorize(req) == 0)
                stream_start(req);
        bool streamed = req->stream && !req->replied;
        r = read_body(c, req, &body);
        if (r < 0) {
                c->close = true;
                if (r != -EPROTO || streamed)
                        goto out; /* the client went away, or no reply can go out */
                c->linger = true;
                if (!req->replied)
                        api_reply_error(req, 400, "malformed chunked request body");
                goto reply;
        }
        if (streamed) {
                stream_reply(req);
                goto reply;
        }
        if (req->body_error) {
                c->close = c->linger = true;
                api_reply_error(req, 413, "request body larger than %u bytes", BODY_MAX);
        }
        api_invoke(req);
        if (!req->replied)
                api_reply_error(req, 500, "handler for %s %s sent no reply", req->method, req->url);
reply:
        send_reply(c, req);
        r = c->close ? -1 : 0;
out:
        if (!req->replied || hl < 0)
                r = -1;
        api_reply_clear(
            req); /* closes a relayed stream first: its writer must not block the join */
        stream_free(req->stream);
        api_request_free(req); /* after the join: a streamed-body handler reads it */
        return r;
}

/* Close after an error reply while the client may still be sending: read
 * what it sends for a while, so that it reads the reply rather than a
 * reset connection. */
static void linger_close(int fd)
{
        char buf[16384];
        int64_t end = monotonic_ns() + 2000000000LL;
        shutdown(fd, SHUT_WR);
        struct pollfd p = {fd, POLLIN, 0};
        while (monotonic_ns() < end && poll(&p, 1, 500) > 0 && read(fd, buf, sizeof(buf)) > 0)
                ;
        close(fd);
}

static void *conn_main(void *p)
{
        struct conn *c = p;
        struct api_server *s = c->s;
        while (serve_one(c) == 0 && !__atomic_load_n(&s->stopping, __ATOMIC_RELAXED))
                ;
        pthread_mutex_lock(&s->lock);
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        bool idle = --s->n == 0;
        if (idle)
                pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->lock);
        if (c->linger)
                linger_close(c->fd);
        else
                close(c->fd);
        free(c->rd.buf);
        free(c);
        /* The last client gone: give back what the requests freed (a pull's
         * or a load's JSON, the arenas of the connection threads), so that an
         * idle berthd is as small after work as before it. */
        if (idle)
                malloc_trim(0);
        return NULL;
}

static void refuse(int fd)
{
        static const char body[] = "{\"message\":\"too many connections\"}\n";
        char msg[256];
        int l = snprintf(msg, sizeof(msg),
                         "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         sizeof(body) - 1, body);
        (void)!send(fd, msg, (size_t)l, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
}

static void *accept_main(void *p)
{
        struct api_server *s = p;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, THREAD_STACK);
        for (;;) {
                struct pollfd pf[2] = {{s->listen_fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                        break;
                if (pf[1].revents)
                        break;
                if (!pf[0].revents)
                        continue;
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE)
                                poll(NULL, 0, 100); /* let connections end */
                        continue;
                }
                struct conn *c = xzalloc(sizeof(*c));
                *c = (struct conn){.s = s, .fd = fd};
                c->rd = (struct http_reader){.fd = fd,
                                             .buf = xmalloc(HEAD_MAX),
                                             .cap = HEAD_MAX,
                                             .head_timeout_ms = HEAD_TIMEOUT_S * 1000};
                socklen_t l = sizeof(c->cred);
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &l) < 0)
                        c->cred = (struct ucred){.uid = (uid_t)-1, .gid = (gid_t)-1};
                struct timeval tv = {.tv_sec = IDLE_TIMEOUT_S};
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                pthread_mutex_lock(&s->lock);
                bool full = s->n >= MAX_CONNECTIONS;
                if (!full) {
                        c->next = s->conns;
                        if (s->conns)
                                s->conns->prev = c;
                        s->conns = c;
                        s->n++;
                }
                pthread_t t;
                if (!full && pthread_create(&t, &attr, conn_main, c) != 0) {
                        s->conns = c->next;
                        if (c->next)
                                c->next->prev = NULL;
                        s->n--;
                        full = true;
                }
                pthread_mutex_unlock(&s->lock);
                if (full) {
                        log_debug("refusing a connection: %u open", s->n);
                        refuse(fd);
                        free(c->rd.buf);
                        free(c);
                }
        }
        pthread_attr_destroy(&attr);
        return NULL;
}

int api_server_start(struct engine *engine, int listen_fd, struct api_server **ret,
                     struct berth_err *err)
{
        struct api_server *s = xzalloc(sizeof(*s));
        s->engine = engine;
        s->listen_fd = listen_fd;
        s->wake[0] = s->wake[1] = -1;
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->idle, NULL);
        if (pipe2(s->wake, O_CLOEXEC) < 0 ||
            pthread_create(&s->acceptor, NULL, accept_main, s) != 0) {
                safe_close(s->wake[0]);
                safe_close(s->wake[1]);
                free(s);
                return err_set(err, -EIO, "cannot start the HTTP server on the API socket");
        }
        *ret = s;
        return 0;
}

void api_server_stop(struct api_server *s)
{
        if (!s)
                return;
        /* Stop accepting, then end every connection: idle ones at once,
         * streams and upgraded ones as their threads see the socket shut.
         * A handler still busy (a stop with a timeout, say) gets 5 s. */
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_mutex_unlock(&s->lock);
        (void)!write(s->wake[1], "", 1);
        pthread_join(s->acceptor, NULL);
        close(s->listen_fd);
        close(s->wake[0]);
        close(s->wake[1]);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 5;
        pthread_mutex_lock(&s->lock);
        for (struct conn *c = s->conns; c; c = c->next)
                shutdown(c->fd, SHUT_RDWR);
        while (s->n > 0 && pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == 0)
                ;
        bool done = s->n == 0;
        pthread_mutex_unlock(&s->lock);
        if (!done) {
                log_info("%u API connections still busy at shutdown", s->n);
                return; /* their threads still use s */
        }
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->idle);
        free(s);
}
