/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "client.h"
#include "base/config.h"
#include "base/http.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* The CLI speaks HTTP/1.1 to berthd itself rather than through libcurl: the
 * transport is one Unix socket, no TLS, no proxies, no redirects, and loading
 * libcurl with its TLS stack (35 libraries and OpenSSL's configuration) cost
 * about 5 ms at the start of every command, a quarter of the budget of
 * `berth run --rm`. What is here: a kept-alive connection, Content-Length,
 * chunked and read-to-EOF bodies, chunked uploads, and the upgrade of attach. */

struct buf {
        char *data;
        size_t len, cap;
};

static void buf_add(struct buf *b, const char *p, size_t l)
{
        if (b->len + l + 1 > b->cap) {
                b->cap = (b->len + l + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, p, l);
        b->len += l;
        b->data[b->len] = '\0';
}

#define RBUF_SIZE 16384

/* The head of a response. */
struct resp {
        long status;
        bool close;
        struct http_body body;
        char api_version[16];
        char server[64];
        char path_stat[1024];
};

int client_init(struct client *c, const char *host, struct berth_err *err)
{
        *c = (struct client){.conn.fd = -1};
        const char *env = getenv("BERTH_HOST");
        const char *cfg_env = getenv("BERTH_CONFIG_FILE");
        c->explicit_host = host || (env && *env);
        if (c->explicit_host) {
                c->host = xstrdup(host ? host : env);
        } else {
                /* The daemon we would start reads this configuration: look
                 * for its socket where it will listen. */
                struct berth_config cfg;
                struct berth_err cerr = {0};
                config_init(&cfg);
                if (cfg_env && *cfg_env)
                        c->config_file = xstrdup(cfg_env);
                if (config_load(&cfg, c->config_file, &cerr) < 0) {
                        config_done(&cfg);
                        return err_set(err, cerr.code, "%s", cerr.msg);
                }
                c->host = xasprintf("unix://%s", cfg.host);
                c->exec_root = xstrdup(cfg.exec_root);
                config_done(&cfg);
        }
        if (parse_host(c->host, &c->socket_path) < 0)
                return err_set(err, -EINVAL,
                               "invalid host '%s': berth talks to unix:///absolute/path sockets",
                               c->host);
        c->conn.buf = xmalloc(RBUF_SIZE);
        c->conn.cap = RBUF_SIZE;
        snprintf(c->version, sizeof(c->version), "1.41");
        return 0;
}

static void drop_conn(struct client *c)
{
        c->conn.fd = safe_close(c->conn.fd);
        c->conn.off = c->conn.len = 0;
}

void client_done(struct client *c)
{
        drop_conn(c);
        free(c->conn.buf);
        free(c->socket_path);
        free(c->host);
        free(c->config_file);
        free(c->exec_root);
        *c = (struct client){.conn.fd = -1};
}

static int connect_daemon(struct client *c, struct berth_err *err)
{
        struct sockaddr_un sa;
        int dirfd = -1;
        int r = unix_sockaddr(c->socket_path, &sa, &dirfd);
        if (r < 0)
                return err_errno(err, r, "invalid socket path '%s'", c->socket_path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                r = -errno;
        else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                r = -errno;
        safe_close(dirfd);
        if (r < 0) {
                safe_close(fd);
                if (r == -ENOENT || r == -ECONNREFUSED)
                        return err_set(err, -ECONNREFUSED,
                                       "Cannot connect to the berth daemon at %s. Is the berth "
                                       "daemon running?",
                                       c->host);
                return err_errno(err, r, "cannot connect to the berth daemon at %s", c->host);
        }
        return fd;
}

static int io_error(struct client *c, int r, struct berth_err *err)
{
        if (r == -EPIPE || r == -ECONNRESET || r == 0)
                return err_set(err, -EIO, "the berth daemon at %s closed the connection", c->host);
        return err_errno(err, r, "error talking to the berth daemon at %s", c->host);
}

/* The parts of a response head the client uses. */
static int parse_resp(char *head, struct resp *h)
{
        struct http_head hh;
        *h = (struct resp){0};
        if (http_parse_response(head, &hh) < 0)
                return -EPROTO;
        h->status = hh.status;
        if (http_body_init(&h->body, &hh, false) < 0)
                return -EPROTO;
        h->close = http_header_has(&hh, "Connection", "close");
        const char *v;
        if ((v = http_header(&hh, "Api-Version")))
                snprintf(h->api_version, sizeof(h->api_version), "%s", v);
        if ((v = http_header(&hh, "Server")))
                snprintf(h->server, sizeof(h->server), "%s", v);
        if ((v = http_header(&hh, "X-Docker-Container-Path-Stat")))
                snprintf(h->path_stat, sizeof(h->path_stat), "%s", v);
        return 0;
}

static int read_head(struct client *c, struct resp *h)
{
        for (;;) {
                _cleanup_free_ char *head = NULL;
                ssize_t n = http_read_head(&c->conn, &head);
                if (n <= 0)
                        return n == 0 ? -EPIPE : n == -EBADMSG ? -EPROTO : (int)n;
                int r = parse_resp(head, h);
                if (r < 0)
                        return r;
                if (h->status >= 200 || h->status == 101)
                        return 0;
                /* 1xx: an interim answer, the real one follows */
        }
}

typedef int (*body_fn)(void *userdata, const char *data, size_t len);

/* The body of a response to `method`, piece by piece to fn. The connection
 * stays usable unless the body ends at EOF, fn stops early, or it breaks. */
static int read_body(struct client *c, const char *method, struct resp *h, body_fn fn, void *ud)
{
        char tmp[RBUF_SIZE];
        if (streq(method, "HEAD"))
                h->body.framing = HTTP_BODY_NONE;
        for (;;) {
                ssize_t n = http_body_read(&c->conn, &h->body, tmp, sizeof(tmp));
                if (n < 0) {
                        drop_conn(c);
                        return (int)n;
                }
                if (n == 0)
                        break;
                if (fn(ud, tmp, (size_t)n) != 0) {
                        drop_conn(c);
                        return 1;
                }
        }
        if (h->close || h->body.framing == HTTP_BODY_EOF)
                drop_conn(c);
        return 0;
}

/* Send a request on the kept connection (opened if needed) and read the head
 * of its answer. A connection the daemon closed while idle is replaced once,
 * unless the body came from a file descriptor and cannot be sent again. */
static int exchange(struct client *c, const char *method, const char *path, const char *ctype,
                    const void *body, size_t body_len, int in_fd, struct resp *h,
                    struct berth_err *err)
{
        _cleanup_free_ char *head = NULL;
        char len_hdr[48];
        if (in_fd >= 0)
                snprintf(len_hdr, sizeof(len_hdr), "Transfer-Encoding: chunked\r\n");
        else if (body || streq(method, "POST") || streq(method, "PUT"))
                snprintf(len_hdr, sizeof(len_hdr), "Content-Length: %zu\r\n", body_len);
        else
                len_hdr[0] = '\0';
        _cleanup_free_ char *auth =
            c->registry_auth ? xasprintf("X-Registry-Auth: %s\r\n", c->registry_auth) : NULL;
        _cleanup_free_ char *rcfg =
            c->registry_config ? xasprintf("X-Registry-Config: %s\r\n", c->registry_config) : NULL;
        head = xasprintf("%s %s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/" BERTH_VERSION
                         "\r\n%s%s%s%s%s%s\r\n",
                         method, path, ctype ? "Content-Type: " : "", ctype ? ctype : "",
                         ctype ? "\r\n" : "", len_hdr, auth ? auth : "", rcfg ? rcfg : "");
        for (int attempt = 0;; attempt++) {
                bool reused = c->conn.fd >= 0;
                if (!reused) {
                        int fd = connect_daemon(c, err);
                        if (fd < 0)
                                return fd;
                        c->conn.fd = fd;
                }
                int r = http_send_all(c->conn.fd, head, strlen(head));
                if (r == 0 && body_len)
                        r = http_send_all(c->conn.fd, body, body_len);
                if (r == 0 && in_fd >= 0) {
                        char chunk[65536];
                        for (;;) {
                                ssize_t n = read(in_fd, chunk, sizeof(chunk));
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n < 0) {
                                        drop_conn(c);
                                        return err_errno(err, -errno, "cannot read the input");
                                }
                                char sz[24];
                                int sl = snprintf(sz, sizeof(sz), "%zx\r\n", (size_t)n);
                                if ((r = http_send_all(c->conn.fd, sz, (size_t)sl)) < 0)
                                        break;
                                if (n == 0) {
                                        r = http_send_all(c->conn.fd, "\r\n", 2);
                                        break;
                                }
                                if ((r = http_send_all(c->conn.fd, chunk, (size_t)n)) < 0 ||
                                    (r = http_send_all(c->conn.fd, "\r\n", 2)) < 0)
                                        break;
                        }
                        /* A daemon that refused the upload early may have
                         * answered already: read what it said. */
                        if (r == -EPIPE || r == -ECONNRESET)
                                r = 0;
                }
                if (r == 0)
                        r = read_head(c, h);
                if (r == 0)
                        return 0;
                drop_conn(c);
                if (r == -EPROTO)
                        return err_set(err, -EPROTO, "%s does not answer like a berth daemon",
                                       c->host);
                if (!reused || attempt > 0 || in_fd >= 0)
                        return io_error(c, r, err);
        }
}

static int collect(void *ud, const char *data, size_t len)
{
        buf_add(ud, data, len);
        return 0;
}

int client_request(struct client *c, const char *method, const char *path, const char *content_type,
                   const void *body, size_t body_len, long *ret_status, char **ret_body,
                   size_t *ret_len, struct berth_err *err)
{
        struct resp h;
        struct buf out = {0};
        _cleanup_free_ char *p = xasprintf("/v%s%s", c->version, path);
        int r = exchange(c, method, p, content_type, body, body_len, -1, &h, err);
        if (r < 0)
                return r;
        memcpy(c->path_stat, h.path_stat, sizeof(c->path_stat));
        r = read_body(c, method, &h, collect, &out);
        if (r < 0) {
                free(out.data);
                return io_error(c, r, err);
        }
        *ret_status = h.status;
        if (!out.data)
                out.data = xstrdup("");
        if (ret_len)
                *ret_len = out.len;
        if (ret_body)
                *ret_body = out.data;
        else
                free(out.data);
        return 0;
}

static int code_for_status(long status)
{
        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 409:
                return -EEXIST;
        case 501:
                return -ENOTSUP;
        default:
                return -EIO;
        }
}

int client_json(struct client *c, const char *method, const char *path, json_t *body,
                long *ret_status, json_t **ret, struct berth_err *err)
{
        _cleanup_free_ char *req = body ? json_dumps(body, JSON_COMPACT) : NULL;
        _cleanup_free_ char *resp = NULL;
        size_t len = 0;
        long status = 0;
        if (body && !req)
                return err_set(err, -EINVAL, "cannot encode the request to %s %s", method, path);
        int r = client_request(c, method, path, req ? "application/json" : NULL, req,
                               req ? strlen(req) : 0, &status, &resp, &len, err);
        if (r < 0)
                return r;
        if (ret_status)
                *ret_status = status;
        json_error_t je;
        json_t *j = len ? json_loadb(resp, len, JSON_DECODE_ANY, &je) : NULL;
        if (status >= 400) {
                const char *msg = json_get_str(j, "message", NULL);
                if (msg)
                        err_set(err, code_for_status(status), "%s", msg);
                else
                        err_set(err, code_for_status(status), "request returned %ld for %s %s%s%s",
                                status, method, path, len ? ": " : "", len ? resp : "");
                json_decref(j);
                return err->code;
        }
        if (ret)
                *ret = j;
        else
                json_decref(j);
        return 0;
}

int client_stream(struct client *c, const char *method, const char *path, const char *content_type,
                  int in_fd, client_data_fn fn, void *userdata, long *ret_status,
                  struct berth_err *err)
{
        struct resp h;
        _cleanup_free_ char *p = xasprintf("/v%s%s", c->version, path);
        int r = exchange(c, method, p, content_type, NULL, 0, in_fd, &h, err);
        if (r < 0)
                return r;
        memcpy(c->path_stat, h.path_stat, sizeof(c->path_stat));
        if (ret_status)
                *ret_status = h.status;
        if (h.status >= 400) {
                struct buf b = {0};
                read_body(c, method, &h, collect, &b);
                _cleanup_free_ char *body = b.data;
                json_error_t je;
                json_t *j = body ? json_loads(body, 0, &je) : NULL;
                const char *msg = json_get_str(j, "message", NULL);
                err_set(err, code_for_status(h.status), "%s",
                        msg    ? msg
                        : body ? body
                               : "request failed");
                json_decref(j);
                return err->code;
        }
        r = read_body(c, method, &h, fn, userdata);
        if (r < 0)
                return io_error(c, r, err);
        return 0;
}

/* HEAD /_ping: 0, or -errno with *err set (-ECONNREFUSED: nothing listens). */
static int ping(struct client *c, struct berth_err *err)
{
        struct resp h;
        int r = exchange(c, "HEAD", "/_ping", NULL, NULL, 0, -1, &h, err);
        if (r < 0)
                return r;
        if (read_body(c, "HEAD", &h, collect, NULL) < 0 || (h.status != 200 && h.status != 500))
                return err_set(err, -EPROTO, "%s does not answer like a berth daemon", c->host);
        /* min(ours, server's); a server that does not say is 1.24, as the Go
         * client assumes. */
        const char *sv = h.api_version[0] ? h.api_version : "1.24";
        if (strverscmp(sv, c->version) < 0)
                snprintf(c->version, sizeof(c->version), "%s", sv);
        snprintf(c->server_version, sizeof(c->server_version), "%s", h.server);
        return 0;
}

char *client_find_daemon(void)
{
        static const char *const rel[] = {".", "../sbin", NULL};
        char *found = find_program("berthd", rel, BERTH_SBINDIR);
        if (found)
                return found;
        const char *path = getenv("PATH");
        _cleanup_strv_ char **dirs = strv_split(path ? path : "/usr/sbin:/usr/bin", ":");
        for (char **d = dirs; *d; d++) {
                _cleanup_free_ char *p = xasprintf("%s/berthd", *d);
                if (access(p, X_OK) == 0)
                        return TAKE_PTR(p);
        }
        return NULL;
}

/* Start berthd with its defaults, detached: a session of its own, stdio on
 * a log file in the exec root, no controlling terminal. It is our child
 * until we exit, so an early death (a bad config, say) is seen and reported
 * with the tail of its log. */
static int start_daemon(struct client *c, struct berth_err *err)
{
        _cleanup_free_ char *daemon = client_find_daemon();
        if (!daemon)
                return err_set(err, -ENOENT,
                               "Cannot connect to the berth daemon at %s, and berthd was not found "
                               "to start one",
                               c->host);
        if (geteuid() != 0)
                return err_set(
                    err, -EPERM,
                    "Cannot connect to the berth daemon at %s, and starting berthd needs root",
                    c->host);
        const char *log_dir = c->exec_root ? c->exec_root : "/run/berth";
        mkdir_p(log_dir, 0711);
        _cleanup_free_ char *log_path = xasprintf("%s/berthd.log", log_dir);
        int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (logfd < 0)
                return err_errno(err, -errno, "cannot open '%s'", log_path);
        off_t log_start = lseek(logfd, 0, SEEK_END);

        pid_t pid = fork();
        if (pid < 0) {
                close(logfd);
                return err_errno(err, -errno, "fork");
        }
        if (pid == 0) {
                setsid();
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(logfd, 1);
                dup2(logfd, 2);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (c->config_file)
                        execl(daemon, "berthd", "--config-file", c->config_file, (char *)NULL);
                else
                        execl(daemon, "berthd", (char *)NULL);
                dprintf(2, "berth: cannot execute '%s': %s\n", daemon, strerror(errno));
                _exit(127);
        }
        close(logfd);

        /* Wait for it to answer: up to 20 s, polling every 5 ms at first. */
        int64_t deadline = monotonic_ns() + 20LL * 1000000000;
        bool exited = false;
        int status = 0;
        for (unsigned i = 0; monotonic_ns() < deadline; i++) {
                struct berth_err perr = {0};
                if (ping(c, &perr) == 0)
                        return 0;
                if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
                        exited = true;
                        /* Another berth may have started one at the same time:
                         * give it a moment before calling this a failure. */
                        deadline = monotonic_ns() + 1LL * 1000000000;
                }
                struct timespec ts = {0, (i < 100 ? 5 : 50) * 1000000L};
                nanosleep(&ts, NULL);
        }
        char tail[600] = "";
        int fd = open(log_path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                off_t end = lseek(fd, 0, SEEK_END);
                off_t from = end - (off_t)sizeof(tail) + 1 > log_start
                                 ? end - (off_t)sizeof(tail) + 1
                                 : log_start;
                ssize_t n = pread(fd, tail, sizeof(tail) - 1, from);
                tail[n > 0 ? n : 0] = '\0';
                close(fd);
                size_t l = strlen(tail);
                while (l && tail[l - 1] == '\n')
                        tail[--l] = '\0';
        }
        if (exited)
                return err_set(
                    err, -ECONNREFUSED,
                    "berthd (%s) exited with status %d at start-up; its log (%s) ends with:\n%s",
                    daemon, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                    log_path, tail);
        return err_set(err, -ETIMEDOUT, "berthd (%s) did not answer on %s within 20 s; see %s",
                       daemon, c->host, log_path);
}

int client_connect(struct client *c, struct berth_err *err)
{
        struct berth_err perr = {0};
        int r = ping(c, &perr);
        if (r == 0)
                return 0;
        if (r != -ECONNREFUSED || c->explicit_host) {
                *err = perr;
                return r;
        }
        return start_daemon(c, err);
}

/* --- raw connections (attach, wait) ------------------------------------------ */

/* A whole body from fd, delimited as h says. */
static char *read_fd_body(int fd, struct resp *h, size_t *ret_len)
{
        /* the buffered reader of the kept connection, on a copy of fd (it
         * closes what it reads to the end) */
        char rbuf[RBUF_SIZE];
        struct client c = {
            .conn = {.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), .buf = rbuf, .cap = sizeof(rbuf)}};
        struct buf b = {0};
        if (c.conn.fd >= 0)
                (void)read_body(&c, "POST", h, collect, &b);
        safe_close(c.conn.fd);
        if (ret_len)
                *ret_len = b.len;
        return b.data ? b.data : xstrdup("");
}

int client_read_body(int fd, bool chunked, char **ret, size_t *ret_len)
{
        struct resp h = {.status = 200,
                         .body.framing = chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF};
        *ret = read_fd_body(fd, &h, ret_len);
        return 0;
}

/* Read exactly the response head from fd, leaving what follows it (the raw
 * stream of an upgraded connection, or a body) unread in the socket: peek,
 * then consume up to the blank line. Returns the head's length. */
static ssize_t read_raw_head(int fd, char *head, size_t cap)
{
        size_t have = 0;
        for (;;) {
                /* the last 3 bytes taken, then what the socket holds */
                char win[3 + 4096];
                size_t carry = have < 3 ? have : 3;
                memcpy(win, head + have - carry, carry);
                ssize_t n = recv(fd, win + carry, sizeof(win) - carry, MSG_PEEK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                char *end = memmem(win, carry + (size_t)n, "\r\n\r\n", 4);
                size_t take = end ? (size_t)(end + 4 - win) - carry : (size_t)n;
                if (have + take >= cap)
                        return -E2BIG;
                if (loop_read(fd, head + have, take) != (ssize_t)take)
                        return -EIO;
                have += take;
                head[have] = '\0';
                if (end)
                        return (ssize_t)have;
        }
}

int client_raw(struct client *c, const char *method, const char *path, const char *body,
               bool upgrade, int *ret_fd, long *ret_status, bool *ret_chunked,
               struct berth_err *err)
{
        int r = connect_daemon(c, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = r;
        size_t bl = body ? strlen(body) : 0;
        _cleanup_free_ char *req = xasprintf(
            "%s /v%s%s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/" BERTH_VERSION
            "\r\nContent-Length: %zu\r\n%s%s\r\n%s",
            method, c->version, path, bl, body ? "Content-Type: application/json\r\n" : "",
            upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "", body ? body : "");
        if ((r = http_send_all(fd, req, strlen(req))) < 0)
                return io_error(c, r, err);
        char head[8192];
        ssize_t hl = read_raw_head(fd, head, sizeof(head));
        if (hl < 0)
                return io_error(c, (int)hl, err);
        struct resp h;
        if (parse_resp(head, &h) < 0)
                return err_set(err, -EPROTO, "%s does not answer like a berth daemon", c->host);
        if (ret_status)
                *ret_status = h.status;
        if (h.status >= 400) {
                _cleanup_free_ char *b = read_fd_body(fd, &h, NULL);
                json_error_t je;
                json_t *j = json_loads(b, 0, &je);
                err_set(err, code_for_status(h.status), "%s", json_get_str(j, "message", b));
                json_decref(j);
                return err->code;
        }
        if (ret_chunked)
                *ret_chunked = h.body.framing == HTTP_BODY_CHUNKED;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
