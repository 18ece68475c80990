/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HEALTHCHECK: a thread per running container with a healthcheck, running
 * the probe as an exec and recording State.Health. */
#include "container-internal.h"
#include "base/events.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

struct probe_run {
        struct container_store *s;
        char eid[65];
        int fd;
        struct berth_err err;
        int r;
};

static void *probe_runner(void *p)
{
        struct probe_run *x = p;
        x->r = container_exec_start(x->s, x->eid, false, x->fd, NULL, 0, &x->err);
        shutdown(x->fd, SHUT_RDWR);
        return NULL;
}

/* Run one probe in the container: its output
 (the first 4 KiB, as Docker
 * keeps) and exit code; a probe over `timeout_ns` is killed and counts as
 * a failure. */
static int run_probe(struct container_store *s, const char *cid, json_t *cmd, int64_t timeout_ns,
                     char **ret_out, int64_t *ret_code, struct berth_err *err)
{
        char eid[65];
        _cleanup_json_ json_t *body = json_pack("{s:O, s:b, s:b, s:b}", "Cmd", cmd, "AttachStdout",
                                                1, "AttachStderr", 1, "BerthHealthProbe", 1);
        int r = container_exec_create(s, cid, body, eid, err);
        if (r < 0)
                return r;
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
                pthread_mutex_lock(&s->lock);
                ct_exec_forget(eid);
                pthread_mutex_unlock(&s->lock);
                return err_errno(err, -errno, "socketpair");
        }
        /* the exec streams into sp[1]; we read sp[0] here, in this thread,
         * while a helper thread runs the exec */
        struct probe_run run = {.s = s, .fd = sp[1]};
        memcpy(run.eid, eid, 65);
        pthread_t t;
        pthread_create(&t, NULL, probe_runner, &run);

        char out[4096];
        size_t len = 0;
        bool timed_out = false;
        int64_t deadline = monotonic_ns() + timeout_ns;
        unsigned char hdr[8];
        size_t hdr_have = 0, left = 0;
        for (;;) {
                int64_t now = monotonic_ns();
                int ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
                struct pollfd p = {sp[0], POLLIN, 0};
                int pr = poll(&p, 1, timed_out ? 5000 : ms);
                if (pr == 0) {
                        if (timed_out)
                                break;
                        timed_out = true;
                        pthread_mutex_lock(&s->lock);
                        struct exec_rec *e = ct_exec_find_locked(eid);
                        pid_t pid = e ? e->pid : 0;
                        pthread_mutex_unlock(&s->lock);
                        if (pid > 0)
                                kill(pid, SIGKILL);
                        continue;
                }
                char buf[4096];
                ssize_t n = read(sp[0], buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n;) {
                        if (left == 0) {
                                hdr[hdr_have++] = (unsigned char)buf[i++];
                                if (hdr_have == 8) {
                                        left = ((size_t)hdr[4] << 24) | ((size_t)hdr[5] << 16) |
                                               ((size_t)hdr[6] << 8) | hdr[7];
                                        hdr_have = 0;
                                }
                                continue;
                        }
                        size_t take = (size_t)(n - i) < left ? (size_t)(n - i) : left;
                        size_t room = sizeof(out) - 1 - len;
                        memcpy(out + len, buf + i, take < room ? take : room);
                        len += take < room ? take : room;
                        i += (ssize_t)take;
                        left -= take;
                }
        }
        close(sp[0]);
        pthread_join(t, NULL);
        close(sp[1]);
        out[len] = '\0';
        int64_t code = 0;
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = ct_exec_find_locked(eid);
        if (e && e->exited)
                code = e->exit_code;
        else
                code = -1;
        ct_exec_forget(eid);
        pthread_mutex_unlock(&s->lock);
        if (timed_out) {
                *ret_out = timeout_ns < 1000000000
                               ? xasprintf("Health check exceeded timeout (%lldms)",
                                           (long long)(timeout_ns / 1000000))
                               : xasprintf("Health check exceeded timeout (%llds)",
                                           (long long)(timeout_ns / 1000000000));

                *ret_code = -1;
                return 0;
        }
        if (run.r < 0) {
                *ret_out = xstrdup(err_msg(&run.err));
                *ret_code = -1;
                return 0;
        }
        *ret_out = xstrdup(out);
        *ret_code = code;
        return 0;
}

struct health_job {
        struct container_store *s;
        char id[65];
        uint64_t exits; /* the run this job belongs to */
};

static int64_t health_param(json_t *h, const char *key, int64_t def)
{
        int64_t v = json_get_int(h, key, 0);
        return v > 0 ? v : def;
}

static void *health_main(void *p)
{
        struct health_job *job = p;
        struct container_store *s = job->s;
        int code;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, job->id, &code);
        json_t *h =
            r ? json_deep_copy(json_object_get(json_object_get(r->j, "Config"), "Healthcheck"))
              : NULL;
        pthread_mutex_unlock(&s->lock);
        json_t *test = json_object_get(h, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        json_t *cmd = json_array();
        if (kind && streq(kind, "CMD-SHELL")) {
                json_array_append_new(cmd, json_string("/bin/sh"));
                json_array_append_new(cmd, json_string("-c"));
                json_array_append(cmd, json_array_get(test, 1));
        } else

                for (size_t i = 1; i < json_array_size(test); i++)
                        json_array_append(cmd, json_array_get(test, i));
        int64_t interval = health_param(h, "Interval", 30LL * 1000000000);
        int64_t timeout = health_param(h, "Timeout", 30LL * 1000000000);
        int64_t retries = health_param(h, "Retries", 3);
        int64_t start_period = json_get_int(h, "StartPeriod", 0);
        int64_t started = monotonic_ns();
        int64_t streak = 0;
        for (;;) {
                /* sleep one interval, waking early if the container stops */
                int64_t until = now_ns() + interval;
                bool gone = false;
                pthread_mutex_lock(&s->lock);
                for (;;) {
                        r = ct_find_locked(s, job->id, &code);
                        if (!r || r->exits != job->exits || !ct_is_running(r->j) || ct_closing(s)) {
                                gone = true;
                                break;
                        }
                        struct timespec ts = {.tv_sec = until / 1000000000,
                                              .tv_nsec = until % 1000000000};
                        if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
                                break;
                }
                pthread_mutex_unlock(&s->lock);
                if (gone)
                        break;
                _cleanup_free_ char *start_ts = json_time_ns(now_ns());
                char *out = NULL;
                int64_t ec = -1;
                struct berth_err err = {0};
                run_probe(s, job->id, cmd, timeout, &out, &ec, &err);
                _cleanup_free_ char *end_ts = json_time_ns(now_ns());
                bool ok = ec == 0;
                bool in_start_period = monotonic_ns() - started < start_period;
                pthread_mutex_lock(&s->lock);
                r = ct_find_locked(s, job->id, &code);
                if (r && r->exits == job->exits) {
                        json_t *st = json_object_get(r->j, "State");
                        json_t *hs = json_object_get(st, "Health");
                        if (ok)
                                streak = 0;
                        else if (!in_start_period)
                                streak++;
                        const char *status = json_get_str(hs, "Status", "starting");
                        _cleanup_free_ char *was = xstrdup(status);
                        if (ok)
                                status = "healthy";
                        else if (streak >= retries)
                                status = "unhealthy";
                        json_t *log = json_deep_copy(json_object_get(hs, "Log"));
                        if (!json_is_array(log)) {
                                json_decref(log);
                                log = json_array();
                        }
                        json_array_append_new(
                            log, json_pack("{s:s, s:s, s:I, s:s}", "Start", start_ts, "End", end_ts,
                                           "ExitCode", (json_int_t)ec, "Output", out ? out : ""));
                        while (json_array_size(log) > 5)
                                json_array_remove(log, 0);
                        json_object_set_new(st, "Health",
                                            json_pack("{s:s, s:I, s:o}", "Status", status,
                                                      "FailingStreak", (json_int_t)streak, "Log",
                                                      log));
                        if (!streq(was, status)) {
                                _cleanup_free_ char *a = xasprintf("health_status: %s", status);
                                events_container(r->j, a, NULL);
                        }
                        ct_record_save(s, r, NULL);
                        pthread_cond_broadcast(&s->changed);
                }
                pthread_mutex_unlock(&s->lock);
                free(out);
        }
        json_decref(cmd);
        json_decref(h);
        free(job);
        return NULL;
}

/* Called with the lock held, when a container starts running. */
void ct_health_start_locked(struct container_store *s, struct record *r)
{
        json_t *h = json_object_get(json_object_get(r->j, "Config"), "Healthcheck");
        json_t *test = json_object_get(h, "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        if (!kind || streq(kind, "NONE") || json_array_size(test) < 2)
                return;
        json_object_set_new(
            json_object_get(r->j, "State"), "Health",
            json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log"));
        struct health_job *job = xzalloc(sizeof(*job));
        job->s = s;
        memcpy(job->id, r->id, 65);
        job->exits = r->exits;
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, health_main, job) != 0)
                free(job);
        pthread_attr_destroy(&a);
}
