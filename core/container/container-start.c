/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Start: mount the rootfs, write the bundle, spawn berth-shim, connect the
 * attaches that wait for the start, release the process; the exit monitor,
 * the exit's handling and the restart policy; and after a daemon restart,
 * the watch on the containers that still run. */
#include "container-internal.h"
#include "container-spec.h"
#include "base/events.h"
#include "base/log.h"
#include "runtime/runtime.h"
#include "network/network.h"
#include "shim-proto.h"
#include "volume/volume.h"

#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* --- the exit monitor ------------------------------------------------------ */

struct monitor {
        struct container_store *s;
        char id[65];
        int fd;
        pid_t shim_pid;
};

static void set_exited(struct container_store *s, struct record *r, json_t *ex)
{
        json_t *st = json_object_get(r->j, "State");
        json_object_set_new(st, "Status", json_string("exited"));
        json_object_set_new(st, "Running", json_false());
        json_object_set_new(st, "Paused", json_false());
        json_object_set_new(st, "Restarting", json_false());
        json_object_set_new(st, "Pid", json_integer(0));
        json_object_set_new(st, "ExitCode", json_integer(json_get_int(ex, "ExitCode", 255)));
        json_object_set_new(st, "OOMKilled", json_boolean(json_get_bool(ex, "OOMKilled", false)));
        _cleanup_free_ char *now = json_time_ns(now_ns());
        json_object_set_new(st, "FinishedAt", json_string(json_get_str(ex, "FinishedAt", now)));
        r->exits++;
        free(r->shim_socket);
        r->shim_socket = NULL;
}

static bool should_restart(struct record *r)
{
        json_t *rp = json_object_get(json_object_get(r->j, "HostConfig"), "RestartPolicy");
        const char *name = json_get_str(rp, "Name", "no");
        int code = (int)json_get_int(json_object_get(r->j, "State"), "ExitCode", 0);
        if (r->stop_requested || r->removed)
                return false;
        if (streq(name, "always") || streq(name, "unless-stopped"))
                return true;
        if (streq(name, "on-failure")) {
                int64_t max = json_get_int(rp, "MaximumRetryCount", 0);
                return code != 0 && (max == 0 || json_get_int(r->j, "RestartCount", 0) < max);
        }
        return false;
}

/* The container exited (the shim told the monitor, or berthd found its exit
 * record at start-up): unmount, record it, and apply --rm or the restart
 * policy. The unmounts run without the lock (a driver's unmount can be
 * slow, and every container call waits on the lock); meanwhile the record
 * still says running, so no start, remove or stop acts on it, and
 * `exiting` holds off connect/disconnect until its NetworkSettings are
 * final. */
static void handle_exit(struct container_store *s, const char *id, json_t *ex)
{
        const struct container_deps *d = &s->d;
        int code;
        bool autoremove = false, restart = false;
        int64_t restarts = 0;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, id, &code);
        _cleanup_json_ json_t *rec = r ? json_deep_copy(r->j) : NULL;
        if (r)
                r->exiting = true;
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return;

        d->net->down(d->net_ctx, id, rec);
        struct berth_err err = {0};
        berth_storage_put(d->storage, id, 0, &err);
        d->vol->unmount(d->vol_ctx, rec);
        _cleanup_free_ char *sd = ct_state_dir(s, id);
        ct_remove_files(sd);

        pthread_mutex_lock(&s->lock);
        r = ct_find_locked(s, id, &code);
        if (r) {
                r->exiting = false;
                json_object_set(r->j, "NetworkSettings", json_object_get(rec, "NetworkSettings"));
                set_exited(s, r, ex);
                char ec[24];
                snprintf(ec, sizeof(ec), "%lld",
                         (long long)json_get_int(json_object_get(r->j, "State"), "ExitCode", 0));
                events_container(r->j, "die", json_pack("{s:s}", "exitCode", ec));
                autoremove =
                    json_get_bool(json_object_get(r->j, "HostConfig"), "AutoRemove", false);
                restart = !autoremove && should_restart(r);
                if (restart) {
                        restarts = json_get_int(r->j, "RestartCount", 0) + 1;
                        json_object_set_new(r->j, "RestartCount", json_integer(restarts));
                }
                if (ct_record_save(s, r, &err) < 0)
                        log_error("container %s: %s", id, err.msg);
        }
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return;
        if (autoremove) {
                if (container_remove(s, id, false, true, &err) < 0)
                        log_error("container %s: --rm: %s", id, err.msg);
        } else if (restart) {
                /* Docker's back-off starts at 100 ms and doubles. */
                int64_t n = restarts;
                struct timespec ts = {0, 100000000L};
                for (int64_t i = 1; i < n && i < 8; i++) {
                        ts.tv_nsec *= 2;
                        if (ts.tv_nsec >= 1000000000L) {
                                ts.tv_sec += ts.tv_nsec / 1000000000L;
                                ts.tv_nsec %= 1000000000L;
                        }
                }
                nanosleep(&ts, NULL);
                if (container_start(s, id, &err) < 0)
                        log_error("container %s: restart: %s", id, err.msg);
        }
}

/* A container whose shim died: its processes are nobody's children now
 * and would keep running, on the network, with an address the exit hands
 * to the next container. The runtime's forced delete kills every process
 * in its cgroup and removes the cgroup; it is a no-op for a container the
 * shim already deleted. */
static void kill_orphan(struct container_store *s, const char *id)
{
        struct berth_err err = {0};
        if (runtime_delete(s->runtime_root, id, true, &err) < 0)
                log_error("container %s: its shim died, and its processes: %s", id, err.msg);
}

/* What an exit asks of berthd: the record, the restart policy, the
 * network's and volumes' teardown; then the shim, berthd's child when
 * this berthd started it, is reaped (it ends once it has written the
 * exit). */
static void *exit_main(void *p)
{
        struct monitor *m = p;
        char line[1024];
        int r = ct_read_line(m->fd, line, sizeof(line), -1);
        close(m->fd);
        json_error_t je;
        json_t *ex = r > 0 ? json_loads(line, 0, &je) : NULL;
        bool shim_lost = !ex;
        if (shim_lost) {
                /* The shim went away without a word: it was killed, and
                 * an exit.json may still be there. */
                _cleanup_free_ char *sd = ct_state_dir(m->s, m->id);
                _cleanup_free_ char *ep = xasprintf("%s/%s", sd, SHIM_EXIT);
                struct berth_err err = {0};
                if (json_load_path(ep, &ex, &err) < 0)
                        ex = json_pack("{s:i, s:b}", "ExitCode", 255, "OOMKilled", 0);
        }
        if (!ct_closing(m->s)) {
                if (shim_lost)
                        kill_orphan(m->s, m->id);
                handle_exit(m->s, m->id, ex);
        }
        json_decref(ex);
        if (!ct_closing(m->s))
                ct_trim_if_empty(m->s);
        if (m->shim_pid > 0)
                while (waitpid(m->shim_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        free(m);
        return NULL;
}

/* One thread waits on the exit channels of all running containers, and
 * each exit is handled in a thread of its own, which ends with it. A
 * thread per running container would cost its stack while it waits, and
 * glibc keeps the stacks of ended threads for reuse (up to 40 MB): after
 * N containers came and went, the touched pages of N stacks would stay in
 * berthd's RSS. Exits are few at a time, so are their threads' stacks.
 * The watcher ends, and closes its epoll fd, when nothing is left to
 * watch. */
static struct {
        pthread_mutex_t lock;
        int epfd;
        unsigned watched;
        bool running;
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER, .epfd = -1};

static void exit_spawn(struct monitor *m)
{
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        /* The exit path calls network drivers (libnftables' parser wants
         * far more than 64 KiB); untouched stack pages cost nothing. */
        pthread_attr_setstacksize(&a, 1024 * 1024);
        int r = pthread_create(&t, &a, exit_main, m);
        pthread_attr_destroy(&a);
        if (r != 0)
                exit_main(m);
}

static void *watch_main(void *p)
{
        int epfd = (int)(intptr_t)p;
        for (;;) {
                struct epoll_event ev[16];
                int n = epoll_wait(epfd, ev, 16, -1);
                if (n < 0 && errno != EINTR) {
                        log_error("exit monitor: epoll_wait: %s", strerror(errno));
                        sleep(1);
                }
                for (int i = 0; i < n; i++) {
                        struct monitor *m = ev[i].data.ptr;
                        epoll_ctl(epfd, EPOLL_CTL_DEL, m->fd, NULL);
                        pthread_mutex_lock(&watch.lock);
                        watch.watched--;
                        pthread_mutex_unlock(&watch.lock);
                        exit_spawn(m);
                }
                pthread_mutex_lock(&watch.lock);
                bool done = watch.watched == 0;
                if (done) {
                        watch.running = false;
                        close(epfd);
                        watch.epfd = -1;
                }
                pthread_mutex_unlock(&watch.lock);
                if (done)
                        return NULL;
        }
}

/* The monitor's connection is made before the process is released, so that
 * even an instant exit is seen; the watch on it starts after the record
 * says "running". */
static int monitor_connect(const char *sock)
{
        int fd = ct_connect_unix(sock);
        if (fd < 0)
                return fd;
        if (loop_write(fd, "wait\n", 5) < 0) {
                close(fd);
                return -EPIPE;
        }
        return fd;
}

/* SHIM_PID: the shim when it is berthd's child, to be reaped after the
 * exit; 0 for one a previous berthd started. */
static int monitor_spawn(struct container_store *s, const char *id, int fd, pid_t shim_pid,
                         struct berth_err *err)
{
        struct monitor *m = xzalloc(sizeof(*m));
        m->s = s;
        snprintf(m->id, sizeof(m->id), "%s", id);
        m->fd = fd;
        m->shim_pid = shim_pid;
        int r = 0;
        pthread_mutex_lock(&watch.lock);
        if (watch.epfd < 0 && (watch.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                r = -errno;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = m};
        if (r == 0 && epoll_ctl(watch.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                r = -errno;
        if (r == 0) {
                watch.watched++;
                if (!watch.running) {
                        pthread_t t;
                        pthread_attr_t a;
                        pthread_attr_init(&a);
                        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
                        pthread_attr_setstacksize(&a, 64 * 1024);
                        r = -pthread_create(&t, &a, watch_main, (void *)(intptr_t)watch.epfd);
                        pthread_attr_destroy(&a);
                        if (r == 0)
                                watch.running = true;
                        else {
                                epoll_ctl(watch.epfd, EPOLL_CTL_DEL, fd, NULL);
                                watch.watched--;
                        }
                }
        }
        pthread_mutex_unlock(&watch.lock);
        if (r < 0) {
                close(fd);
                free(m);
                if (shim_pid > 0)
                        ct_reap_later(shim_pid);
                return err_errno(err, r, "cannot watch the exit of %s", id);
        }
        return 0;
}

static int start_monitor(struct container_store *s, const char *id, const char *sock,
                         struct berth_err *err)
{
        int fd = monitor_connect(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim of %s", id);
        return monitor_spawn(s, id, fd, 0, err);
}

/* --- start ------------------------------------------------------------------ */

/* --network container:X: X's namespace and networks, read under the lock;
 * X must be running. Nothing for other modes. */
static int join_target(struct container_store *s, json_t *rec, char **ret_key, json_t **ret_nets,
                       struct berth_err *err)
{
        const char *other = startswith(
            json_get_str(json_object_get(rec, "HostConfig"), "NetworkMode", ""), "container:");
        if (!other)
                return 0;
        struct record *t;
        int r = ct_lock_find(s, other, &t, err);
        if (r < 0)
                return r;
        if (!ct_is_running(t->j)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "cannot join network of a non running container: %s",
                               t->id);
        }
        json_t *tns = json_object_get(t->j, "NetworkSettings");
        const char *tmode = json_get_str(json_object_get(t->j, "HostConfig"), "NetworkMode", "");
        /* a host-mode X: the host's namespace, by the path of berthd's pid 1 */
        *ret_key =
            xstrdup(streq(tmode, "host") ? "/proc/1/ns/net" : json_get_str(tns, "SandboxKey", ""));
        *ret_nets = json_deep_copy(json_object_get(tns, "Networks"));
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int container_start(struct container_store *s, const char *ref, struct berth_err *err)
{
        const struct container_deps *d = &s->d;
        int code, r;
        char id[65];
        _cleanup_json_ json_t *rec = NULL;

        struct record *rc;
        int lr = ct_lock_find(s, ref, &rc, err);
        if (lr < 0)
                return lr;
        if (ct_is_running(rc->j) || rc->starting) {
                pthread_mutex_unlock(&s->lock);
                return 1; /* already started: 304 */
        }
        rc->starting = true;
        rc->stop_requested = false;
        memcpy(id, rc->id, 65);
        rec = json_deep_copy(rc->j);
        pthread_mutex_unlock(&s->lock);

        _cleanup_free_ char *cdir = xasprintf("%s/%s", s->dir, id);
        _cleanup_free_ char *sd = ct_state_dir(s, id);
        char rootfs[4096];
        bool mounted = false, networked = false;
        int sync_fd = -1, mon_fd = -1;
        int proc_errno = 0; /* the shim's code for a process that could not run */
        pid_t shim_pid = -1, pid = -1;
        _cleanup_json_ json_t *spec = NULL, *shimcfg = NULL, *msg = NULL;
        _cleanup_free_ char *cfgpath = NULL, *shimpath = NULL, *sock = NULL, *join_key = NULL;
        _cleanup_json_ json_t *join_nets = NULL;
        json_error_t je;
        char line[2048];

        ct_remove_files(sd);
        r = mkdir_p(sd, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", sd);
                goto fail;
        }
        r = berth_storage_get(d->storage, id, NULL, 0, rootfs, sizeof(rootfs), err);
        if (r < 0)
                goto fail;
        mounted = true;
        r = join_target(s, rec, &join_key, &join_nets, err);
        if (r < 0)
                goto fail;
        r = d->net->up(d->net_ctx, id, rec, join_key, join_nets, err);
        if (r < 0)
                goto fail;
        networked = true;
        r = ct_links_apply(s, rec, err);
        if (r < 0)
                goto fail;
        r = container_write_etc(rec, cdir, err);
        if (r < 0)
                goto fail;
        r = container_spec(rec, rootfs, cdir, NULL, &spec, err);
        if (r < 0)
                goto fail;
        /* --privileged: every capability this host lets berthd have (the
         * spec itself names them all: it does not depend on the host) */
        if (json_get_bool(json_object_get(rec, "HostConfig"), "Privileged", false))
                runtime_caps_within_bounding(
                    json_object_get(json_object_get(spec, "process"), "capabilities"));
        r = d->vol->mount(d->vol_ctx, rec, rootfs, spec, err);
        if (r < 0)
                goto fail;
        bool builtin_init = json_get_bool(json_object_get(rec, "HostConfig"), "Init", false) &&
                            container_init_apply(spec, rootfs) < 0;
        cfgpath = xasprintf("%s/config.json", sd);
        r = json_save_volatile(cfgpath, spec, 0600, err);
        if (r < 0)
                goto fail;
        shimcfg = ct_shim_config(s, id, rec, sd, cdir);
        json_object_set_new(shimcfg, "init", json_boolean(builtin_init));
        shimpath = xasprintf("%s/%s", sd, SHIM_CONFIG);
        r = json_save_volatile(shimpath, shimcfg, 0600, err);
        if (r < 0)
                goto fail;
        r = ct_spawn_shim(s, id, sd, &sync_fd, &shim_pid, err);
        if (r < 0)
                goto fail;

        r = ct_read_line(sync_fd, line, sizeof(line), 60000);
        msg = r > 0 ? json_loads(line, 0, &je) : NULL;
        if (!msg || !json_get_int(msg, "pid", 0)) {
                const char *m = json_get_str(msg, "error", NULL);
                proc_errno = (int)json_get_int(msg, "errno", 0);
                if (m)
                        r = err_set(err, -EIO, "%s", m);
                else {
                        _cleanup_free_ char *logp = xasprintf("%s/shim.log", sd);
                        _cleanup_free_ char *tail = NULL;
                        read_full_file(logp, &tail, NULL);
                        r = err_set(err, -EIO, "the shim did not start the container%s%s",
                                    tail && *tail ? ": " : "", strempty(tail));
                }
                goto fail;
        }
        pid = (pid_t)json_get_int(msg, "pid", 0);
        sock = xasprintf("%s/%s", sd, SHIM_SOCKET);

        /* Let the attaches that wait for this start connect first. */
        pthread_mutex_lock(&s->lock);
        for (struct pending_attach *pa = ct_pending; pa; pa = pa->next)
                if (streq(pa->id, id) && !pa->cancelled && !pa->socket)
                        pa->socket = xstrdup(sock);
        pthread_cond_broadcast(&s->changed);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 5;
        for (;;) {
                bool waiting = false;
                for (struct pending_attach *pa = ct_pending; pa; pa = pa->next)
                        if (streq(pa->id, id) && !pa->cancelled && pa->socket && !pa->connected)
                                waiting = true;
                if (!waiting ||
                    pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT)
                        break;
        }
        pthread_mutex_unlock(&s->lock);

        /* After "started", the shim writes the exit on this channel: it is
         * the monitor's connection from then on (container_restore connects anew). */
        if (loop_write(sync_fd, "start\n", 6) < 0 ||
            (r = ct_read_line(sync_fd, line, sizeof(line), 60000)) <= 0) {
                r = err_set(err, -EIO, "the shim of %s did not start the container", id);
                goto fail;
        }
        json_decref(msg);
        msg = json_loads(line, 0, &je);
        if (!json_get_bool(msg, "started", false)) {
                proc_errno = (int)json_get_int(msg, "errno", 0);
                r = err_set(err, -EIO, "%s",
                            json_get_str(msg, "error", "the container did not start"));
                goto fail;
        }
        mon_fd = sync_fd;
        sync_fd = -1;

        pthread_mutex_lock(&s->lock);
        rc = ct_find_locked(s, id, &code);
        if (rc) {
                json_t *st = json_object_get(rc->j, "State");
                _cleanup_free_ char *now = json_time_ns(now_ns());
                json_object_set_new(st, "Status", json_string("running"));
                json_object_set_new(st, "Running", json_true());
                json_object_set_new(st, "Pid", json_integer(pid));
                json_object_set_new(st, "ExitCode", json_integer(0));
                json_object_set_new(st, "Error", json_string(""));
                json_object_set_new(st, "StartedAt", json_string(now));
                json_object_set_new(st, "OOMKilled", json_false());
                json_object_set(rc->j, "NetworkSettings", json_object_get(rec, "NetworkSettings"));
                free(rc->shim_socket);
                rc->shim_socket = xstrdup(sock);
                rc->starting = false;
                ct_health_start_locked(s, rc);
                ct_record_save(s, rc, NULL);
                events_container(rc->j, "start", NULL);
        }
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        r = monitor_spawn(s, id, mon_fd, shim_pid, err);
        if (r < 0)
                log_error("container %s: %s", id, err->msg);
        return 0;

fail:
        if (shim_pid > 0)
                ct_reap_later(shim_pid);
        if (sync_fd >= 0)
                close(sync_fd);
        if (mon_fd >= 0)
                close(mon_fd);
        if (pid > 0)
                runtime_delete(s->runtime_root, id, true, NULL);
        if (networked)
                d->net->down(d->net_ctx, id, rec);
        if (mounted) {
                d->vol->unmount(d->vol_ctx, rec);
                berth_storage_put(d->storage, id, 0, NULL);
        }
        bool autoremove = false;
        pthread_mutex_lock(&s->lock);
        rc = ct_find_locked(s, id, &code);
        if (rc) {
                rc->starting = false;
                autoremove =
                    json_get_bool(json_object_get(rc->j, "HostConfig"), "AutoRemove", false);
                json_t *st = json_object_get(rc->j, "State");
                json_object_set_new(st, "Error", json_string(err_msg(err)));
                /* Docker marks a container whose process could not start as
                 * exited with 127 (not found) or 126 (not executable). */
                if (proc_errno == ENOENT)
                        json_object_set_new(st, "ExitCode", json_integer(127));
                else if (proc_errno == EACCES || proc_errno == ENOEXEC)
                        json_object_set_new(st, "ExitCode", json_integer(126));
                ct_record_save(s, rc, NULL);
                for (struct pending_attach *pa = ct_pending; pa; pa = pa->next)
                        if (streq(pa->id, id))
                                pa->cancelled = true;
        }
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        ct_remove_files(sd);
        /* As Docker: an AutoRemove container whose start failed is removed
         * before the start answers, so that a wait for "removed" (docker
         * run --rm) returns, with the exit code recorded above. */
        if (autoremove) {
                struct berth_err rerr = {0};
                int rr = container_remove(s, id, true, true, &rerr);
                if (rr < 0 && rr != -ENOENT)
                        log_error("container %s: --rm after a failed start: %s", id, rerr.msg);
        }
        return r < 0 ? r : -EIO;
}

/* --- after a daemon restart ------------------------------------------------------- */

/* For every container the records call running: if its shim is alive,
 * give its endpoints and volume mounts back to the drivers and watch it
 * again; if it exited while berthd was away, its exit.json says how; if
 * neither, it died with the machine. With the lock held: an exit the new
 * monitors see waits until all is restored. */
int container_restore(struct container_store *s)
{
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
                struct record *r = s->recs[i];
                _cleanup_free_ char *sd = ct_state_dir(s, r->id);
                if (!ct_is_running(r->j)) {
                        /* A start that berthd died in: its shim may run the
                         * process, though the record was not saved as
                         * running. What it made goes, as for a dead shim. */
                        struct stat st;
                        if (stat(sd, &st) < 0)
                                continue;
                        log_info("container %.12s: a start did not finish, undoing it", r->id);
                        struct berth_err err = {0};
                        kill_orphan(s, r->id);
                        s->d.net->down(s->d.net_ctx, r->id, r->j);
                        berth_storage_put(s->d.storage, r->id, 0, &err);
                        s->d.vol->unmount(s->d.vol_ctx, r->j);
                        ct_remove_files(sd);
                        continue;
                }
                _cleanup_free_ char *sock = xasprintf("%s/%s", sd, SHIM_SOCKET);
                struct berth_err err = {0};
                int fd = ct_connect_unix(sock);
                if (fd >= 0) {
                        close(fd);
                        r->shim_socket = xstrdup(sock);
                        if (start_monitor(s, r->id, sock, &err) == 0) {
                                s->d.net->restore(s->d.net_ctx, r->id, r->j);
                                s->d.vol->restore(s->d.vol_ctx, r->id,
                                                  json_object_get(r->j, "Mounts"));
                                ct_health_start_locked(s, r);
                                continue;
                        }
                }
                _cleanup_free_ char *ep = xasprintf("%s/%s", sd, SHIM_EXIT);
                json_t *ex = NULL;
                if (json_load_path(ep, &ex, &err) < 0)
                        ex = json_pack("{s:i, s:b}", "ExitCode", 255, "OOMKilled", 0);
                /* Its shim died while berthd was away: what still runs of
                 * it goes, as in the monitor. */
                kill_orphan(s, r->id);
                s->d.net->down(s->d.net_ctx, r->id, r->j);
                set_exited(s, r, ex);
                json_decref(ex);
                berth_storage_put(s->d.storage, r->id, 0, &err);
                s->d.vol->unmount(s->d.vol_ctx, r->j);
                ct_remove_files(sd);
                ct_record_save(s, r, &err);
        }
        pthread_mutex_unlock(&s->lock);
        return 0;
}
