/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api.h"
#include "engine.h"
#include "log.h"

#include <ctype.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

/* Request bodies over this size are refused (JSON bodies are small; the
 * streamed bodies of load/build/import get their own path). */
#define BODY_MAX (64u << 20)

struct api_server {
        struct MHD_Daemon *mhd;
        struct engine *engine;
};

static void add_common_headers(struct MHD_Response *resp)
{
        MHD_add_response_header(resp, "Api-Version", API_VERSION);
        MHD_add_response_header(resp, "Docker-Experimental", "false");
        MHD_add_response_header(resp, "Ostype", "linux");
        MHD_add_response_header(resp, "Server", "berth/" BERTH_VERSION " (linux)");
}

void api_add_header(struct api_request *req, const char *name, const char *value)
{
        req->extra_headers = strv_push(req->extra_headers, xasprintf("%s: %s", name, value));
}

static int queue(struct api_request *req, unsigned status, struct MHD_Response *resp)
{
        add_common_headers(resp);
        for (char **h = req->extra_headers; h && *h; h++) {
                char *colon = strchr(*h, ':');
                *colon = '\0';
                MHD_add_response_header(resp, *h, colon + 2);
        }
        if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
                log_debug("cannot queue response %u for %s %s", status, req->method, req->url);
        MHD_destroy_response(resp);
        req->replied = true;
        return 0;
}

int api_reply_json(struct api_request *req, unsigned status, json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (!s)
                return api_reply_error(req, 500, "cannot encode the response");
        size_t l = strlen(s);
        s = xrealloc(s, l + 2);
        s[l++] = '\n'; /* as moby's encoder writes it */
        s[l] = '\0';
        struct MHD_Response *resp = MHD_create_response_from_buffer(l, s, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        return queue(req, status, resp);
}

int api_reply_text(struct api_request *req, unsigned status, const char *content_type,
                   const char *text)
{
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        return queue(req, status, resp);
}

int api_reply_empty(struct api_request *req, unsigned status)
{
        return api_reply_text(req, status, NULL, "");
}

int api_reply_error(struct api_request *req, unsigned status, const char *fmt, ...)
{
        char msg[BERTH_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (status >= 500)
                log_error("%s %s: %s", req->method, req->url, msg);
        else
                log_debug("%s %s: %u %s", req->method, req->url, status, msg);
        /* Content-Type exactly "application/json": the Go client compares it
         * as a plain string before it decodes the message. */
        return api_reply_json(req, status, json_pack("{s:s}", "message", msg));
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        int fd = (int)(intptr_t)cls;
        for (;;) {
                ssize_t n = read(fd, buf, max);
                if (n > 0)
                        return n;
                if (n == 0)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                if (errno != EINTR)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
        }
}

static void reply_stream_free(void *cls)
{
        close((int)(intptr_t)cls);
}

int api_reply_stream(struct api_request *req, unsigned status, const char *content_type, int fd)
{
        struct MHD_Response *resp = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, (void *)(intptr_t)fd, reply_stream_free);
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        return queue(req, status, resp);
}

struct upgrade {
        api_upgrade_fn fn;
        void *userdata;
        int sock;
        char *extra;
        size_t extra_len;
        struct MHD_UpgradeResponseHandle *urh;
};

static void *upgrade_main(void *p)
{
        struct upgrade *u = p;
        u->fn(u->userdata, u->sock, u->extra, u->extra_len);
        MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
        free(u->userdata);
        free(u->extra);
        free(u);
        return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *connection, void *con_cls,
                       const char *extra_in, size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
        struct upgrade *u = cls;
        u->sock = sock;
        u->urh = urh;
        if (extra_in_size) {
                u->extra = xmalloc(extra_in_size);
                memcpy(u->extra, extra_in, extra_in_size);
                u->extra_len = extra_in_size;
        }
        /* The socket is non-blocking under MHD; the stream code wants it
         * blocking. */
        int fl = fcntl(sock, F_GETFL);
        if (fl >= 0)
                fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, upgrade_main, u) != 0) {
                MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
                free(u->userdata);
                free(u->extra);
                free(u);
        }
        pthread_attr_destroy(&attr);
}

int api_reply_upgrade(struct api_request *req, const char *content_type, api_upgrade_fn fn,
                      void *userdata)
{
        struct upgrade *u = xzalloc(sizeof(*u));
        u->fn = fn;
        u->userdata = userdata;
        struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, u);
        if (!resp) {
                free(u);
                free(userdata);
                return api_reply_error(req, 500, "cannot upgrade the connection");
        }
        MHD_add_response_header(resp, "Connection", "Upgrade");
        MHD_add_response_header(resp, "Upgrade", "tcp");
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        return queue(req, 101, resp);
}

unsigned api_status_for(int code)
{
        switch (-code) {
        case ENOENT:
        case ESRCH:
                return 404;
        case EEXIST:
        case EBUSY:
        case ENOTEMPTY:
                return 409;
        case EINVAL:
        case E2BIG:
        case ENAMETOOLONG:
        case EBADMSG:
        case ERANGE:
                return 400;
        case EACCES:
        case EPERM:
                return 403;
        case ENOTSUP:
        case ENOSYS:
                return 501;
        default:
                return 500;
        }
}

const char *api_query(struct api_request *req, const char *key)
{
        return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool api_query_bool(struct api_request *req, const char *key, bool def)
{
        const char *v = api_query(req, key);
        if (!v)
                return def;
        while (isspace((unsigned char)*v))
                v++;
        char t[8];
        size_t n = strcspn(v, " \t");
        if (n >= sizeof(t))
                return true;
        for (size_t i = 0; i < n; i++)
                t[i] = (char)tolower((unsigned char)v[i]);
        t[n] = '\0';
        return !(streq(t, "") || streq(t, "0") || streq(t, "no") || streq(t, "false") ||
                 streq(t, "none"));
}

struct collect {
        const char *key;
        char **v;
};

static enum MHD_Result collect_values(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
        struct collect *c = cls;
        if (key && streq(key, c->key))
                c->v = strv_push(c->v, xstrdup(strempty(value)));
        return MHD_YES;
}

char **api_query_all(struct api_request *req, const char *key)
{
        struct collect c = {key, xzalloc(sizeof(char *))};
        MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_values, &c);
        return c.v;
}

const char *api_header(struct api_request *req, const char *name)
{
        return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int api_body_json(struct api_request *req, json_t **ret, struct berth_err *err)
{
        return json_parse_body(req->body ? req->body : "", req->body_len, ret, err);
}

int api_stream_json(int fd, json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (!s)
                return -ENOMEM;
        size_t l = strlen(s);
        s = xrealloc(s, l + 2);
        s[l++] = '\n';
        int r = loop_write(fd, s, l);
        free(s);
        return r;
}

int api_stream_error(int fd, const char *msg)
{
        return api_stream_json(
            fd, json_pack("{s:{s:s}, s:s}", "errorDetail", "message", msg, "error", msg));
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

static int stream_start(struct api_request *req)
{
        struct stream_job *job = xzalloc(sizeof(*job));
        int bp[2], op[2];
        job->req = req;
        job->body_rd = job->body_wr = job->out_rd = job->out_wr = -1;
        pthread_mutex_init(&job->lock, NULL);
        req->stream = job;
        if (pipe2(bp, O_CLOEXEC) < 0 || pipe2(op, O_CLOEXEC) < 0)
                return api_reply_error(req, 500, "cannot make pipes: %s", strerror(errno));
        job->body_rd = bp[0];
        job->body_wr = bp[1];
        job->out_rd = op[0];
        job->out_wr = op[1];
        if (pthread_create(&job->thread, NULL, stream_main, job) != 0)
                return api_reply_error(req, 500, "cannot start a thread for %s", req->url);
        job->started = true;
        return 0;
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

static void request_free(struct api_request *req)
{
        if (!req)
                return;
        stream_free(req->stream);
        free(req->path);
        for (size_t i = 0; i < API_MAX_PARAMS; i++)
                free(req->param[i]);
        free(req->body);
        strv_free(req->extra_headers);
        free(req);
}

static void peer_credentials(struct api_request *req)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred uc;
        socklen_t l = sizeof(uc);
        req->peer_uid = (uid_t)-1;
        req->peer_gid = (gid_t)-1;
        if (ci && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &l) == 0) {
                req->peer_uid = uc.uid;
                req->peer_gid = uc.gid;
                req->peer_pid = uc.pid;
        }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
        struct api_server *s = cls;
        struct api_request *req = *con_cls;

        if (!req) {
                /* First call: headers only. */
                req = xzalloc(sizeof(*req));
                req->engine = s->engine;
                req->conn = conn;
                req->method = method;
                req->url = url;
                peer_credentials(req);
                *con_cls = req;
                api_resolve(req);
                /* A streamed body is handed to its handler while it arrives. */
                if (!req->replied && req->route->stream && api_authorize(req) == 0)
                        stream_start(req);
                return MHD_YES;
        }
        struct stream_job *job = req->stream;
        if (job) {
                if (*upload_data_size > 0) {
                        /* Blocks while the handler is behind: back-pressure
                         * on the client, not memory. */
                        if (job->body_wr >= 0 &&
                            loop_write(job->body_wr, upload_data, *upload_data_size) < 0)
                                job->body_wr = safe_close(job->body_wr);
                        *upload_data_size = 0;
                        return MHD_YES;
                }
                if (req->replied)
                        return MHD_YES;
                job->body_wr = safe_close(job->body_wr);
                if (req->route->reply_when_done && job->started) {
                        pthread_join(job->thread, NULL);
                        job->started = false;
                        if (job->result < 0)
                                api_reply_error(req, api_status_for(job->result), "%s",
                                                err_msg(&job->err));
                        else
                                api_reply_empty(req, 200);
                        return MHD_YES;
                }
                /* the reply begins with the first message, or is an error */
                struct pollfd pfd = {.fd = job->out_rd, .events = POLLIN};
                while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
                        ;
                pthread_mutex_lock(&job->lock);
                job->replying = true;
                int result = job->result;
                pthread_mutex_unlock(&job->lock);
                if (result < 0)
                        return api_reply_error(req, api_status_for(result), "%s",
                                               err_msg(&job->err)) == 0
                                   ? MHD_YES
                                   : MHD_NO;
                int fd = job->out_rd;
                job->out_rd = -1;
                api_reply_stream(req, 200, "application/json", fd);
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                if (req->replied || req->body_error)
                        return MHD_YES;
                if (req->body_len + n > BODY_MAX) {
                        req->body_error = -EFBIG;
                        return MHD_YES;
                }
                if (req->body_len + n + 1 > req->body_cap) {
                        req->body_cap = (req->body_len + n + 1) * 2;
                        req->body = xrealloc(req->body, req->body_cap);
                }
                memcpy(req->body + req->body_len, upload_data, n);
                req->body_len += n;
                req->body[req->body_len] = '\0';
                return MHD_YES;
        }
        if (req->replied)
                return MHD_YES;
        if (req->body_error) {
                api_reply_error(req, 413, "request body larger than %u bytes", BODY_MAX);
                return MHD_YES;
        }
        api_invoke(req);
        if (!req->replied)
                api_reply_error(req, 500, "handler for %s %s sent no reply", method, url);
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        request_free(*con_cls);
        *con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_debug("http: %s", buf);
}

int api_server_start(struct engine *engine, int listen_fd, struct api_server **ret,
                     struct berth_err *err)
{
        struct api_server *s = xzalloc(sizeof(*s));
        s->engine = engine;
        s->mhd = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_UPGRADE |
                MHD_USE_ERROR_LOG | MHD_USE_ITC,
            0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)0, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, s,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
        if (!s->mhd) {
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
        /* Stop accepting. Requests in flight (a wait, a log follow, an
         * attach) are not waited for: they may last as long as a container,
         * and the daemon is going away; the process exit closes them. */
        MHD_socket fd = MHD_quiesce_daemon(s->mhd);
        if (fd != MHD_INVALID_SOCKET)
                close(fd);
}
