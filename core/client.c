/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "client.h"
#include "config.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

struct buf {
        char *data;
        size_t len, cap;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
        struct buf *b = ud;
        size_t l = size * n;
        if (b->len + l + 1 > b->cap) {
                b->cap = (b->len + l + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, ptr, l);
        b->len += l;
        b->data[b->len] = '\0';
        return l;
}

struct hdrs {
        char api_version[16];
        char server[64];
};

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
        struct hdrs *h = ud;
        size_t l = size * n;
        char line[256];
        if (l >= sizeof(line))
                return l;
        memcpy(line, ptr, l);
        line[l] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (strncasecmp(line, "Api-Version:", 12) == 0)
                snprintf(h->api_version, sizeof(h->api_version), "%s",
                         line + 12 + strspn(line + 12, " "));
        else if (strncasecmp(line, "Server:", 7) == 0)
                snprintf(h->server, sizeof(h->server), "%s", line + 7 + strspn(line + 7, " "));
        return l;
}

int client_init(struct client *c, const char *host, struct berth_err *err)
{
        *c = (struct client){0};
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
        c->curl = curl_easy_init();
        if (!c->curl)
                return err_set(err, -ENOMEM, "cannot initialise libcurl");
        snprintf(c->version, sizeof(c->version), "1.41");
        return 0;
}

void client_done(struct client *c)
{
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->socket_path);
        free(c->host);
        free(c->config_file);
        free(c->exec_root);
        *c = (struct client){0};
}

static int perform(struct client *c, const char *method, const char *url, const char *content_type,
                   const void *body, size_t body_len, long *ret_status, struct buf *out,
                   struct hdrs *h, CURLcode *ret_cc)
{
        struct curl_slist *headers = NULL;
        CURL *cu = c->curl;

        curl_easy_reset(cu);
        curl_easy_setopt(cu, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
        curl_easy_setopt(cu, CURLOPT_URL, url);
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
        if (streq(method, "HEAD"))
                curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(cu, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(cu, CURLOPT_HEADERDATA, h);
        curl_easy_setopt(cu, CURLOPT_USERAGENT, "berth-cli/" BERTH_VERSION);
        if (body || streq(method, "POST") || streq(method, "PUT")) {
                curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body ? body : "");
                curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
        if (content_type) {
                _cleanup_free_ char *ct = xasprintf("Content-Type: %s", content_type);
                headers = curl_slist_append(headers, ct);
        }
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(cu, CURLOPT_HTTPHEADER, headers);
        CURLcode cc = curl_easy_perform(cu);
        curl_slist_free_all(headers);
        *ret_cc = cc;
        if (cc != CURLE_OK)
                return -EIO;
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, ret_status);
        return 0;
}

static int transport_error(struct client *c, CURLcode cc, struct berth_err *err)
{
        if (cc == CURLE_COULDNT_CONNECT)
                return err_set(
                    err, -ECONNREFUSED,
                    "Cannot connect to the berth daemon at %s. Is the berth daemon running?",
                    c->host);
        return err_set(err, -EIO, "error talking to the berth daemon at %s: %s", c->host,
                       curl_easy_strerror(cc));
}

int client_request(struct client *c, const char *method, const char *path, const char *content_type,
                   const void *body, size_t body_len, long *ret_status, char **ret_body,
                   size_t *ret_len, struct berth_err *err)
{
        struct buf out = {0};
        struct hdrs h = {0};
        CURLcode cc;
        _cleanup_free_ char *url = xasprintf("http://localhost/v%s%s", c->version, path);
        if (perform(c, method, url, content_type, body, body_len, ret_status, &out, &h, &cc) < 0) {
                free(out.data);
                return transport_error(c, cc, err);
        }
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

struct stream_ctx {
        CURL *curl;
        int in_fd;
        client_data_fn fn;
        void *userdata;
        struct buf errbody;
        bool stopped;
};

static size_t stream_read_body(char *ptr, size_t size, size_t n, void *ud)
{
        struct stream_ctx *sc = ud;
        for (;;) {
                ssize_t r = read(sc->in_fd, ptr, size * n);
                if (r >= 0)
                        return (size_t)r;
                if (errno != EINTR)
                        return CURL_READFUNC_ABORT;
        }
}

static size_t stream_on_data(char *ptr, size_t size, size_t n, void *ud)
{
        struct stream_ctx *sc = ud;
        long status = 0;
        curl_easy_getinfo(sc->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 400)
                return on_data(ptr, size, n, &sc->errbody);
        if (sc->fn(sc->userdata, ptr, size * n) != 0) {
                sc->stopped = true;
                return 0; /* curl stops with CURLE_WRITE_ERROR */
        }
        return size * n;
}

int client_stream(struct client *c, const char *method, const char *path, const char *content_type,
                  int in_fd, client_data_fn fn, void *userdata, long *ret_status,
                  struct berth_err *err)
{
        struct stream_ctx sc = {.curl = c->curl, .in_fd = in_fd, .fn = fn, .userdata = userdata};
        struct curl_slist *headers = NULL;
        struct hdrs h = {0};
        CURL *cu = c->curl;
        _cleanup_free_ char *url = xasprintf("http://localhost/v%s%s", c->version, path);

        curl_easy_reset(cu);
        curl_easy_setopt(cu, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
        curl_easy_setopt(cu, CURLOPT_URL, url);
        curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(cu, CURLOPT_USERAGENT, "berth-cli/" BERTH_VERSION);
        curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, stream_on_data);
        curl_easy_setopt(cu, CURLOPT_WRITEDATA, &sc);
        curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(cu, CURLOPT_HEADERDATA, &h);
        if (in_fd >= 0) {
                curl_easy_setopt(cu, CURLOPT_POST, 1L);
                curl_easy_setopt(cu, CURLOPT_READFUNCTION, stream_read_body);
                curl_easy_setopt(cu, CURLOPT_READDATA, &sc);
                headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        } else if (streq(method, "POST")) {
                curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        }
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
        if (content_type) {
                _cleanup_free_ char *ct = xasprintf("Content-Type: %s", content_type);
                headers = curl_slist_append(headers, ct);
        }
        if (c->registry_auth) {
                _cleanup_free_ char *ra = xasprintf("X-Registry-Auth: %s", c->registry_auth);
                headers = curl_slist_append(headers, ra);
        }
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(cu, CURLOPT_HTTPHEADER, headers);
        CURLcode cc = curl_easy_perform(cu);
        curl_slist_free_all(headers);
        long status = 0;
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &status);
        if (ret_status)
                *ret_status = status;
        _cleanup_free_ char *body = sc.errbody.data;
        if (status >= 400) {
                json_error_t je;
                json_t *j = body ? json_loads(body, 0, &je) : NULL;
                const char *msg = json_get_str(j, "message", NULL);
                err_set(err, code_for_status(status), "%s",
                        msg    ? msg
                        : body ? body
                               : "request failed");
                json_decref(j);
                return err->code;
        }
        if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && sc.stopped))
                return transport_error(c, cc, err);
        return 0;
}

static int ping(struct client *c, CURLcode *ret_cc)
{
        struct buf out = {0};
        struct hdrs h = {0};
        long status = 0;
        int r =
            perform(c, "HEAD", "http://localhost/_ping", NULL, NULL, 0, &status, &out, &h, ret_cc);
        free(out.data);
        if (r < 0)
                return r;
        if (status != 200 && status != 500)
                return -EPROTO;
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
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *dir = dirname(self);
                const char *cands[] = {"%s/berthd", "%s/../sbin/berthd"};
                for (size_t i = 0; i < ELEMENTSOF(cands); i++) {
                        _cleanup_free_ char *p = xasprintf(cands[i], dir);
                        if (access(p, X_OK) == 0)
                                return realpath(p, NULL);
                }
        }
        if (access(BERTH_SBINDIR "/berthd", X_OK) == 0)
                return xstrdup(BERTH_SBINDIR "/berthd");
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
                CURLcode cc;
                if (ping(c, &cc) == 0)
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
        CURLcode cc;
        if (ping(c, &cc) == 0)
                return 0;
        if (cc == CURLE_OK)
                return err_set(err, -EPROTO, "%s does not answer like a berth daemon", c->host);
        bool absent = cc == CURLE_COULDNT_CONNECT;
        if (!absent || c->explicit_host)
                return transport_error(c, cc, err);
        return start_daemon(c, err);
}

/* --- raw connections (attach, wait) ------------------------------------------ */

static int read_byte(int fd, char *c)
{
        for (;;) {
                ssize_t n = read(fd, c, 1);
                if (n == 1)
                        return 0;
                if (n == 0)
                        return -EPIPE;
                if (errno != EINTR)
                        return -errno;
        }
}

static int read_header_line(int fd, char *buf, size_t len)
{
        size_t n = 0;
        for (;;) {
                char c;
                int r = read_byte(fd, &c);
                if (r < 0)
                        return r;
                if (c == '\n')
                        break;
                if (n + 1 < len && c != '\r')
                        buf[n++] = c;
        }
        buf[n] = '\0';
        return (int)n;
}

int client_read_body(int fd, bool chunked, char **ret, size_t *ret_len)
{
        struct buf b = {0};
        char line[64];
        if (!chunked) {
                char tmp[4096];
                ssize_t n;
                while ((n = read(fd, tmp, sizeof(tmp))) > 0)
                        on_data(tmp, 1, (size_t)n, &b);
        } else {
                for (;;) {
                        int r = read_header_line(fd, line, sizeof(line));
                        if (r < 0)
                                break;
                        unsigned long size = strtoul(line, NULL, 16);
                        if (size == 0)
                                break;
                        char *chunk = xmalloc(size);
                        if (loop_read(fd, chunk, size) != (ssize_t)size) {
                                free(chunk);
                                break;
                        }
                        on_data(chunk, 1, size, &b);
                        free(chunk);
                        read_header_line(fd, line, sizeof(line)); /* CRLF after the chunk */
                }
        }
        *ret = b.data ? b.data : xstrdup("");
        if (ret_len)
                *ret_len = b.len;
        return 0;
}

int client_raw(struct client *c, const char *method, const char *path, const char *body,
               bool upgrade, int *ret_fd, long *ret_status, bool *ret_chunked,
               struct berth_err *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->socket_path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return err_set(
                    err, -ECONNREFUSED,
                    "Cannot connect to the berth daemon at %s. Is the berth daemon running?",
                    c->host);
        size_t bl = body ? strlen(body) : 0;
        _cleanup_free_ char *req = xasprintf(
            "%s /v%s%s HTTP/1.1\r\nHost: berth\r\nUser-Agent: berth-cli/" BERTH_VERSION
            "\r\nContent-Length: %zu\r\n%s%s\r\n%s",
            method, c->version, path, bl, body ? "Content-Type: application/json\r\n" : "",
            upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : "", body ? body : "");
        if (loop_write(fd, req, strlen(req)) < 0)
                return err_errno(err, -errno, "write to the berth daemon");
        char line[1024];
        if (read_header_line(fd, line, sizeof(line)) < 0)
                return err_set(err, -EIO, "the berth daemon closed the connection");
        long status = strtol(line + strcspn(line, " "), NULL, 10);
        bool chunked = false;
        long clen = -1;
        for (;;) {
                int r = read_header_line(fd, line, sizeof(line));
                if (r < 0)
                        return err_set(err, -EIO, "the berth daemon closed the connection");
                if (r == 0)
                        break;
                if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
                        chunked = true;
                if (strncasecmp(line, "Content-Length:", 15) == 0)
                        clen = strtol(line + 15, NULL, 10);
        }
        if (ret_status)
                *ret_status = status;
        if (status >= 400) {
                _cleanup_free_ char *b = NULL;
                if (clen >= 0) {
                        b = xzalloc((size_t)clen + 1);
                        loop_read(fd, b, (size_t)clen);
                } else
                        client_read_body(fd, chunked, &b, NULL);
                json_error_t je;
                json_t *j = json_loads(b, 0, &je);
                err_set(err, code_for_status(status), "%s", json_get_str(j, "message", b));
                json_decref(j);
                return err->code;
        }
        if (ret_chunked)
                *ret_chunked = chunked;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
