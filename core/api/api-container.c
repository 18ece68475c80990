/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container endpoints (docker-api.md §3.1, §3.2). */
#include "api.h"
#include "container/container.h"
#include "driver/driver.h"
#include "engine.h"
#include "image/image.h"
#include "base/log.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

int api_container_create(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_container_create, &body, err);
        if (r < 0)
                return r;
        /* Docker checks the logging driver at create, in these words. */
        json_t *lc = json_object_get(json_object_get(body, "HostConfig"), "LogConfig");
        const char *lt = json_get_str(lc, "Type", "");
        if (*lt && !driver_set_find(&req->engine->drivers, BERTH_KIND_LOGGING, lt))
                return err_set(err, -EINVAL, "logger: no log driver named '%s' is registered", lt);
        _cleanup_free_ char *id = NULL;
        json_t *warnings = NULL;
        r = container_create(req->engine->containers, api_query(req, "name"), body, &id, &warnings,
                             err);
        if (r < 0)
                return r;
        return api_reply_json(req, 201, json_pack("{s:s, s:o}", "Id", id, "Warnings", warnings));
}

int api_container_list(struct api_request *req, struct berth_err *err)
{
        int64_t limit = 0;
        const char *l = api_query(req, "limit");
        if (l && *l && parse_int64(l, &limit) < 0)
                return err_set(err, -EINVAL, "invalid limit '%s'", l);
        struct container_list_opts o = {
            .all = api_query_bool(req, "all", false),
            .limit = limit,
            .size = api_query_bool(req, "size", false),
            .filters = api_query(req, "filters"),
        };
        json_t *list = NULL;
        int r = container_list(req->engine->containers, &o, &list, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, list);
}

int api_container_inspect(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = container_inspect(req->engine->containers, req->param[0], &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_container_remove(struct api_request *req, struct berth_err *err)
{
        int r = api_query_bool(req, "link", false)
                    ? container_link_remove(req->engine->containers, req->param[0], err)
                    : container_remove(req->engine->containers, req->param[0],
                                       api_query_bool(req, "force", false),
                                       api_query_bool(req, "v", false), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_container_rename(struct api_request *req, struct berth_err *err)
{
        int r =
            container_rename(req->engine->containers, req->param[0], api_query(req, "name"), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_container_prune(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = container_prune(req->engine->containers, api_query(req, "filters"), &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

/* --- running ------------------------------------------------------------- */

static int timeout_param(struct api_request *req, int *ret, struct berth_err *err)
{
        const char *t = api_query(req, "t");
        int64_t v = -1;
        if (t && *t && parse_int64(t, &v) < 0)
                return err_set(err, -EINVAL, "invalid value for t: '%s'", t);
        *ret = (int)v;
        return 0;
}

int api_container_start(struct api_request *req, struct berth_err *err)
{
        int r = container_start(req->engine->containers, req->param[0], err);
        if (r < 0)
                return r;
        return api_reply_empty(req, r == 1 ? 304 : 204);
}

int api_container_stop(struct api_request *req, struct berth_err *err)
{
        int t;
        int r = timeout_param(req, &t, err);
        if (r < 0)
                return r;
        r = container_stop(req->engine->containers, req->param[0], t, err);
        if (r < 0)
                return r;
        return api_reply_empty(req, r == 1 ? 304 : 204);
}

int api_container_restart(struct api_request *req, struct berth_err *err)
{
        int t;
        int r = timeout_param(req, &t, err);
        if (r < 0)
                return r;
        r = container_restart(req->engine->containers, req->param[0], t, err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_container_kill(struct api_request *req, struct berth_err *err)
{
        int r =
            container_kill(req->engine->containers, req->param[0], api_query(req, "signal"), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_container_resize(struct api_request *req, struct berth_err *err)
{
        int64_t h, w;
        if (parse_int64(strempty(api_query(req, "h")), &h) < 0 ||
            parse_int64(strempty(api_query(req, "w")), &w) < 0 || h < 0 || w < 0 || h > 65535 ||
            w > 65535)
                return err_set(err, -EINVAL, "invalid height or width for resize");
        int r = container_resize(req->engine->containers, req->param[0], (int)h, (int)w, err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 200);
}

/* wait: the headers go out at once (docker run sends wait before start and
 * blocks until it sees them); the body when the condition is met. */
struct wait_job {
        struct container_store *s;
        char id[65];
        char *condition;
};

static void wait_main(void *p, int fd)
{
        struct wait_job *w = p;
        struct berth_err err = {0};
        int64_t code = 0;
        int r = container_wait(w->s, w->id, w->condition, &code, &err);
        json_t *j =
            r < 0 ? json_pack("{s:i, s:{s:s}}", "StatusCode", -1, "Error", "Message", err_msg(&err))
                  : json_pack("{s:I, s:n}", "StatusCode", (json_int_t)code, "Error");
        api_stream_json(fd, j);
}

static void wait_job_free(void *p)
{
        struct wait_job *w = p;
        free(w->condition);
        free(w);
}

int api_container_wait(struct api_request *req, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(req->engine->containers, req->param[0], id, err);
        if (r < 0)
                return r;
        const char *cond = api_query(req, "condition");
        if (cond && *cond && !streq(cond, "not-running") && !streq(cond, "next-exit") &&
            !streq(cond, "removed"))
                return err_set(err, -EINVAL, "invalid condition: \"%s\"", cond);
        struct wait_job *w = xzalloc(sizeof(*w));
        w->s = req->engine->containers;
        memcpy(w->id, id, 65);
        w->condition = xstrdup(strempty(cond));
        return api_reply_from_thread(req, "application/json", wait_main, w, wait_job_free, err);
}

/* --- logs ---------------------------------------------------------------------- */

struct logs_job {
        struct engine *e;
        struct driver *drv;
        char id[65];
        char *name;
        char *dir;
        char **opts;
        struct berth_log_read rd;
        bool out, errs, timestamps, tty;
        int fd;
};

static int logs_msg(void *ud, const struct berth_log_msg *m)
{
        struct logs_job *j = ud;
        if ((m->stream == BERTH_LOG_STDOUT && !j->out) ||
            (m->stream == BERTH_LOG_STDERR && !j->errs))
                return 0;
        char ts[48] = "";
        size_t tl = 0;
        if (j->timestamps) {
                _cleanup_free_ char *t = json_time_ns(m->time_ns);
                tl = (size_t)snprintf(ts, sizeof(ts), "%s ", t);
        }
        size_t len = tl + m->len;
        if (!j->tty) {
                unsigned char hdr[8] = {(unsigned char)(m->stream == BERTH_LOG_STDERR ? 2 : 1),
                                        0,
                                        0,
                                        0,
                                        (unsigned char)(len >> 24),
                                        (unsigned char)(len >> 16),
                                        (unsigned char)(len >> 8),
                                        (unsigned char)len};
                if (loop_write(j->fd, hdr, sizeof(hdr)) < 0)
                        return -EPIPE;
        }
        if ((tl && loop_write(j->fd, ts, tl) < 0) || loop_write(j->fd, m->line, m->len) < 0)
                return -EPIPE;
        return 0;
}

static void logs_job_free(void *p)
{
        struct logs_job *j = p;
        free(j->name);
        free(j->dir);
        strv_free(j->opts);
        free(j);
}

/* A read of the log of the container whose record is rec (all of it; the
 * caller narrows it), for the streams out and errs. */
static int logs_job_new(struct engine *e, json_t *rec, bool out, bool errs, struct logs_job **ret,
                        struct berth_err *err)
{
        json_t *lc = json_object_get(json_object_get(rec, "HostConfig"), "LogConfig");
        const char *type = json_get_str(lc, "Type", e->cfg->logging_default);
        struct driver *drv = driver_set_find(&e->drivers, BERTH_KIND_LOGGING, type);
        if (!drv)
                return err_set(err, -EINVAL, "logging driver '%s' is not loaded", type);
        if (!DRIVER_HAS(drv, berth_logging_ops, read))
                return err_set(err, -ENOTSUP,
                               "configured logging driver does not support reading: the container "
                               "uses the '%s' logging driver, which keeps no logs",
                               type);
        struct logs_job *job = xzalloc(sizeof(*job));
        job->e = e;
        job->drv = drv;
        snprintf(job->id, sizeof(job->id), "%s", json_get_str(rec, "Id", ""));
        job->name = xstrdup(json_get_str(rec, "Name", ""));
        job->dir = xasprintf("%s/containers/%s", e->cfg->data_root, job->id);
        job->opts = xzalloc(sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(lc, "Config"), k, v)
                job->opts = strv_push(job->opts, xasprintf("%s=%s", k, json_string_value(v) ?: ""));
        job->out = out;
        job->errs = errs;
        job->tty = json_get_bool(json_object_get(rec, "Config"), "Tty", false);
        job->rd.tail = -1;
        *ret = job;
        return 0;
}

static void logs_main(void *p, int fd)
{
        struct logs_job *j = p;
        j->fd = fd;
        struct berth_log_info info = {.container_id = j->id,
                                      .container_name = j->name,
                                      .log_dir = j->dir,
                                      .options = (const char *const *)j->opts};
        struct berth_err err = {0};
        berth_logging_read(j->drv, &info, &j->rd, logs_msg, j, 0, &err);
}

struct attach_job {
        struct engine *e;
        char id[65];
        bool in, out, err, logs, stream;
        char *detach_keys;
};

/* logs=1: what the container has written so far, from its log driver, in
 * the attach's framing. */
/* Wait (a little) until the client has read what was sent on sock (the
 * 101): docker-py reads the head through a buffer and then takes the raw
 * socket, so bytes that came with the head would be lost. On a Unix socket
 * SIOCOUTQ counts what the peer has not read yet. */
static void wait_peer_read(int sock)
{
        for (int i = 0; i < 100; i++) {
                int n = 0;
                if (ioctl(sock, SIOCOUTQ, &n) < 0 || n <= 0)
                        return;
                usleep(2000);
        }
}

static void attach_logs(struct attach_job *a, int sock)
{
        struct berth_err err = {0};
        _cleanup_json_ json_t *rec = NULL;
        struct logs_job *job;
        if (container_inspect(a->e->containers, a->id, &rec, &err) < 0 ||
            logs_job_new(a->e, rec, a->out, a->err, &job, &err) < 0) {
                log_debug("attach %s: no logs: %s", a->id, err_msg(&err));
                return;
        }
        wait_peer_read(sock);
        logs_main(job, sock);
        logs_job_free(job);
}

static void attach_main(void *ud, int sock, const char *extra, size_t extra_len)
{
        struct attach_job *a = ud;
        struct berth_err err = {0};
        if (a->logs && (a->out || a->err))
                attach_logs(a, sock);
        if (a->stream)
                container_attach(a->e->containers, a->id, sock, extra, extra_len, a->in, a->out,
                                 a->err, a->detach_keys, &err);
        free(a->detach_keys);
}

int api_container_attach(struct api_request *req, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(req->engine->containers, req->param[0], id, err);
        if (r < 0)
                return r;
        json_t *j = NULL;
        r = container_inspect(req->engine->containers, id, &j, err);
        if (r < 0)
                return r;
        bool tty = json_get_bool(json_object_get(j, "Config"), "Tty", false);
        bool paused = json_get_bool(json_object_get(j, "State"), "Paused", false);
        json_decref(j);
        if (paused)
                return err_set(err, -EEXIST,
                               "You cannot attach to a paused container, unpause it first");
        const char *keys = api_query(req, "detachKeys");
        unsigned char kb[CONTAINER_DETACH_KEYS_MAX];
        size_t kn;
        r = container_detach_keys(keys, kb, &kn, err);
        if (r < 0)
                return r;
        struct attach_job *a = xzalloc(sizeof(*a));
        a->e = req->engine;
        memcpy(a->id, id, 65);
        a->in = api_query_bool(req, "stdin", false);
        a->out = api_query_bool(req, "stdout", false);
        a->err = api_query_bool(req, "stderr", false);
        a->logs = api_query_bool(req, "logs", false);
        a->stream = api_query_bool(req, "stream", false);
        a->detach_keys = keys ? xstrdup(keys) : NULL;
        return api_reply_upgrade(req,
                                 tty ? "application/vnd.docker.raw-stream"
                                     : "application/vnd.docker.multiplexed-stream",
                                 attach_main, a);
}

static int parse_unix_time(const char *s, int64_t *ret)
{
        /* "seconds" or "seconds.nanoseconds", as the CLI sends them */
        char *end;
        double v = strtod(s, &end);
        if (end == s || *end)
                return -EINVAL;
        *ret = (int64_t)(v * 1e9);
        return 0;
}

int api_container_logs(struct api_request *req, struct berth_err *err)
{
        struct engine *e = req->engine;
        bool out = api_query_bool(req, "stdout", false),
             errs = api_query_bool(req, "stderr", false);
        if (!out && !errs)
                return err_set(err, -EINVAL, "Bad parameters: you must choose at least one stream");
        json_t *j = NULL;
        int r = container_inspect(e->containers, req->param[0], &j, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *rec = j;
        struct logs_job *job;
        r = logs_job_new(e, rec, out, errs, &job, err);
        if (r < 0)
                return r;
        job->timestamps = api_query_bool(req, "timestamps", false);
        const char *tail = api_query(req, "tail");
        if (tail && *tail && !streq(tail, "all")) {
                int64_t n;
                if (parse_int64(tail, &n) < 0 || n < 0)
                        n = -1;
                job->rd.tail = n;
        }
        const char *since = api_query(req, "since"), *until = api_query(req, "until");
        if ((since && *since && parse_unix_time(since, &job->rd.since_ns) < 0) ||
            (until && *until && parse_unix_time(until, &job->rd.until_ns) < 0)) {
                logs_job_free(job);
                return err_set(err, -EINVAL, "invalid since/until value");
        }
        bool running = json_get_bool(json_object_get(rec, "State"), "Running", false);
        job->rd.follow = api_query_bool(req, "follow", false) && running;
        const char *ctype = job->tty ? "application/vnd.docker.raw-stream"
                                     : "application/vnd.docker.multiplexed-stream";
        return api_reply_from_thread(req, ctype, logs_main, job, logs_job_free, err);
}

int api_container_pause(struct api_request *req, struct berth_err *err)
{
        int r = container_pause(req->engine->containers, req->param[0], true, err);
        return r < 0 ? r : api_reply_empty(req, 204);
}

int api_container_unpause(struct api_request *req, struct berth_err *err)
{
        int r = container_pause(req->engine->containers, req->param[0], false, err);
        return r < 0 ? r : api_reply_empty(req, 204);
}

int api_container_update(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_container_update, &body, err);
        if (r < 0)
                return r;
        json_t *warnings = NULL;
        r = container_update(req->engine->containers, req->param[0], body, &warnings, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, json_pack("{s:o}", "Warnings", warnings));
}

int api_container_changes(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = container_changes(req->engine->containers, req->param[0], &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_container_top(struct api_request *req, struct berth_err *err)
{
        const char *ps_args = api_query(req, "ps_args");
        if (ps_args && *ps_args && !streq(ps_args, "-ef") && !streq(ps_args, "aux"))
                return err_set(err, -EINVAL,
                               "ps_args '%s' is not supported (berth reads /proc; use none or -ef)",
                               ps_args);
        json_t *j = NULL;
        int r = container_top(req->engine->containers, req->param[0], &j, err);
        return r < 0 ? r : api_reply_json(req, 200, j);
}

/* --- exec ------------------------------------------------------------------------ */

int api_exec_create(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_exec_create, &body, err);
        if (r < 0)
                return r;
        char id[65];
        r = container_exec_create(req->engine->containers, req->param[0], body, id, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}

struct exec_job {
        struct container_store *s;
        char id[65];
        bool tty;
};

static void exec_main(void *ud, int sock, const char *extra, size_t extra_len)
{
        struct exec_job *j = ud;
        struct berth_err err = {0};
        if (container_exec_start(j->s, j->id, false, sock, extra, extra_len, &err) < 0) {
                /* The stream is already raw: say it as a frame on stderr
                 * (as text with a TTY, which has no frames). */
                char msg[BERTH_ERR_MSG_MAX + 2];
                int l = snprintf(msg, sizeof(msg), "%s\n", err_msg(&err));
                unsigned char hdr[8] = {
                    2, 0, 0, 0, 0, 0, (unsigned char)(l >> 8), (unsigned char)l};
                if (!j->tty)
                        loop_write(sock, hdr, sizeof(hdr));
                loop_write(sock, msg, (size_t)l);
        }
}

int api_exec_start(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_exec_start, &body, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j = NULL;
        r = container_exec_inspect(req->engine->containers, req->param[0], &j, err);
        if (r < 0)
                return r;
        bool tty = json_get_bool(json_object_get(j, "ProcessConfig"), "tty", false);
        if (json_get_bool(body, "Detach", false)) {
                r = container_exec_start(req->engine->containers, req->param[0], true, -1, NULL, 0,
                                         err);
                if (r < 0)
                        return r;
                return api_reply_empty(req, 200);
        }
        struct exec_job *job = xzalloc(sizeof(*job));
        job->s = req->engine->containers;
        job->tty = tty;
        snprintf(job->id, sizeof(job->id), "%s", req->param[0]);
        return api_reply_upgrade(req,
                                 tty ? "application/vnd.docker.raw-stream"
                                     : "application/vnd.docker.multiplexed-stream",
                                 exec_main, job);
}

int api_exec_inspect(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = container_exec_inspect(req->engine->containers, req->param[0], &j, err);
        return r < 0 ? r : api_reply_json(req, 200, j);
}

int api_exec_resize(struct api_request *req, struct berth_err *err)
{
        int64_t h, w;
        if (parse_int64(strempty(api_query(req, "h")), &h) < 0 ||
            parse_int64(strempty(api_query(req, "w")), &w) < 0 || h < 0 || w < 0 || h > 65535 ||
            w > 65535)
                return err_set(err, -EINVAL, "invalid height or width for resize");
        int r = container_exec_resize(req->engine->containers, req->param[0], (int)h, (int)w, err);
        return r < 0 ? r : api_reply_empty(req, 200);
}

struct export_job {
        struct container_store *s;
        char id[65];
};

static void export_main(void *p, int fd)
{
        struct export_job *j = p;
        struct berth_err err = {0};
        if (container_export(j->s, j->id, fd, &err) < 0)
                log_error("export of %s: %s", j->id, err_msg(&err));
}

int api_container_export(struct api_request *req, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(req->engine->containers, req->param[0], id, err);
        if (r < 0)
                return r;
        struct export_job *j = xzalloc(sizeof(*j));
        j->s = req->engine->containers;
        memcpy(j->id, id, 65);
        return api_reply_from_thread(req, "application/x-tar", export_main, j, free, err);
}

int api_commit(struct api_request *req, struct berth_err *err)
{
        const char *cref = api_query(req, "container");
        if (isempty(cref))
                return err_set(err, -EINVAL, "No container name or ID supplied");
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_commit, &body, err);
        if (r < 0)
                return r;
        const char *repo = api_query(req, "repo"), *tag = api_query(req, "tag");
        _cleanup_free_ char *target = NULL;
        if (!isempty(repo)) {
                r = image_ref_join(repo, tag, &target, err);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_ char **changes = api_query_all(req, "changes");
        /* "changes" may also hold several lines in one value */
        char **split = xzalloc(sizeof(char *));
        for (char **c = changes; *c; c++) {
                _cleanup_strv_ char **lines = strv_split(*c, "\n");
                for (char **l = lines; *l; l++)
                        split = strv_push(split, xstrdup(*l));
        }
        _cleanup_free_ char *id = NULL;
        r = container_commit(req->engine->containers, cref, target, (const char *const *)split,
                             api_query(req, "comment"), api_query(req, "author"),
                             api_query_bool(req, "pause", true), body, &id, err);
        strv_free(split);
        if (r < 0)
                return r;
        return api_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}
