/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api-request.h"
#include "base/http.h"
#include "base/log.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

struct api_request *api_request_new(struct engine *engine, int fd, const struct http_head *http)
{
        struct api_request *req = xzalloc(sizeof(*req));
        *req = (struct api_request){.engine = engine,
                                    .method = "",
                                    .url = "",
                                    .fd = fd,
                                    .http = http,
                                    .reply.stream_fd = -1};
        return req;
}

void api_add_header(struct api_request *req, const char *name, const char *value)
{
        req->extra_headers = strv_push(req->extra_headers, xasprintf("%s: %s", name, value));
}

/* Take the reply (the first one a request gets; later ones are dropped). */
static bool set_reply(struct api_request *req, unsigned status, const char *content_type)
{
        if (req->replied) {
                log_debug("%s %s: a second reply (%u) dropped", req->method, req->url, status);
                return false;
        }
        req->replied = true;
        req->reply.status = status;
        req->reply.ctype = content_type ? xstrdup(content_type) : NULL;
        return true;
}

int api_reply_text(struct api_request *req, unsigned status, const char *content_type,
                   const char *text)
{
        if (set_reply(req, status, content_type)) {
                req->reply.len = strlen(text);
                req->reply.body = xstrdup(text);
        }
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
        api_reply_text(req, status, "application/json", s);
        free(s);
        return 0;
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
        /* The message may quote what the client sent, or be cut inside a
         * character: it goes out as valid UTF-8 all the same. */
        return api_reply_json(req, status, json_pack("{s:o}", "message", json_string_lossy(msg)));
}

int api_reply_stream(struct api_request *req, unsigned status, const char *content_type, int fd)
{
        if (set_reply(req, status, content_type))
                req->reply.stream_fd = fd;
        else
                close(fd);
        return 0;
}

struct thread_reply {
        api_thread_fn fn;
        void *job;
        void (*free_job)(void *job);
        int fd;
};

static void thread_reply_free(struct thread_reply *t)
{
        safe_close(t->fd);
        if (t->free_job)
                t->free_job(t->job);
        free(t);
}

static void *thread_reply_main(void *p)
{
        struct thread_reply *t = p;
        t->fn(t->job, t->fd);
        thread_reply_free(t);
        return NULL;
}

int api_reply_from_thread(struct api_request *req, const char *content_type, api_thread_fn fn,
                          void *job, void (*free_job)(void *job), struct berth_err *err)
{
        struct thread_reply *t = xzalloc(sizeof(*t));
        *t = (struct thread_reply){.fn = fn, .job = job, .free_job = free_job, .fd = -1};
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                int r = err_errno(err, -errno, "pipe");
                thread_reply_free(t);
                return r;
        }
        t->fd = p[1];
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        int r = pthread_create(&thread, &a, thread_reply_main, t);
        pthread_attr_destroy(&a);
        if (r != 0) {
                close(p[0]);
                thread_reply_free(t);
                return err_set(err, -r, "cannot start a thread for %s", req->url);
        }
        return api_reply_stream(req, 200, content_type, p[0]);
}

int api_reply_upgrade(struct api_request *req, const char *content_type, api_upgrade_fn fn,
                      void *userdata)
{
        if (!set_reply(req, 101, content_type)) {
                free(userdata);
                return 0;
        }
        req->reply.upgrade = fn;
        req->reply.userdata = userdata;
        return 0;
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

/* A query component: %XX and '+' decoded (a bad escape stays as it is);
 * *nul is set when it holds %00. */
static char *query_decode(const char *s, size_t l, bool *nul)
{
        char *out = xmalloc(l + 1), *o = out;
        for (size_t i = 0; i < l; i++) {
                if (s[i] == '%' && i + 2 < l && isxdigit((unsigned char)s[i + 1]) &&
                    isxdigit((unsigned char)s[i + 2])) {
                        char hex[3] = {s[i + 1], s[i + 2], 0};
                        *o = (char)strtol(hex, NULL, 16);
                        *nul |= *o++ == '\0';
                        i += 2;
                } else
                        *o++ = s[i] == '+' ? ' ' : s[i];
        }
        *o = '\0';
        return out;
}

static char **query_parse(const char *q, bool *nul)
{
        char **v = xzalloc(sizeof(char *));
        while (q && *q) {
                size_t l = strcspn(q, "&");
                const char *eq = memchr(q, '=', l);
                size_t kl = eq ? (size_t)(eq - q) : l;
                if (l) {
                        v = strv_push(v, query_decode(q, kl, nul));
                        v = strv_push(v, eq ? query_decode(eq + 1, l - kl - 1, nul) : xstrdup(""));
                }
                q += l + (q[l] == '&');
        }
        return v;
}

const char *api_query(struct api_request *req, const char *key)
{
        for (char **q = req->query; q && q[0]; q += 2)
                if (streq(q[0], key))
                        return q[1];
        return NULL;
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

char **api_query_all(struct api_request *req, const char *key)
{
        char **v = xzalloc(sizeof(char *));
        for (char **q = req->query; q && q[0]; q += 2)
                if (streq(q[0], key))
                        v = strv_push(v, xstrdup(q[1]));
        return v;
}

const char *api_header(struct api_request *req, const char *name)
{
        return http_header(req->http, name);
}

int api_conn_fd(struct api_request *req)
{
        return req->fd;
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

void api_request_set_query(struct api_request *req, const char *query)
{
        strv_free(req->query);
        req->query_nul = false;
        req->query = query_parse(query, &req->query_nul);
}

void api_reply_clear(struct api_request *req)
{
        struct api_reply *r = &req->reply;
        free(r->ctype);
        free(r->body);
        free(r->userdata);
        safe_close(r->stream_fd);
        *r = (struct api_reply){.stream_fd = -1};
}

void api_request_free(struct api_request *req)
{
        if (!req)
                return;
        api_reply_clear(req);
        free(req->path);
        for (size_t i = 0; i < API_MAX_PARAMS; i++)
                free(req->param[i]);
        free(req->body);
        strv_free(req->extra_headers);
        strv_free(req->query);
        free(req);
}
