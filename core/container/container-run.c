/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running containers: start (mount the rootfs, write the bundle, spawn
 * berth-shim, connect the attaches that wait for the start, release the
 * process), the exit monitor, stop, kill, wait, restart, attach and logs. */
#include "container-internal.h"
#include "container-spec.h"
#include "base/events.h"
#include "image/image.h"
#include "tar/tar-layer.h"

#include "base/log.h"
#include "runtime/runtime.h"
#include "network/network.h"
#include "shim-proto.h"
#include "volume/volume.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/random.h>
#include <sys/wait.h>

#include <time.h>

extern char **environ;

static void health_start_locked(struct container_store *s, struct record *r);

static char *state_dir(struct container_store *s, const char *id)
{
        return xasprintf("%s/%s", s->run_dir, id);
}

static char *find_shim(void)
{
        static const char *const rel[] = {".", NULL};
        return find_program("berth-shim", rel, BERTH_SBINDIR);
}

static int connect_unix(const char *path)
{
        struct sockaddr_un sa;
        _cleanup_close_ int dirfd = -1;
        int r = unix_sockaddr(path, &sa, &dirfd);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* A line from fd (blocking, with a deadline in ms; -1: none). */
static int read_line(int fd, char *buf, size_t len, int timeout_ms)
{
        size_t n = 0;
        while (n + 1 < len) {
                struct pollfd p = {fd, POLLIN, 0};
                int r = poll(&p, 1, timeout_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r == 0)
                        return -ETIMEDOUT;
                ssize_t k = read(fd, buf + n, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return n ? (int)n : -EPIPE;
                if (buf[n] == '\n')
                        break;
                n++;
        }
        buf[n] = '\0';
        return (int)n;
}

/* --- the exit monitor ------------------------------------------------------ */

struct monitor {
        struct container_store *s;
        char id[65];
        int fd;
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
 * record at start-up): record it, unmount, and apply --rm or the restart
 * policy. */
static void handle_exit(struct container_store *s, const char *id, json_t *ex)
{
        struct engine *e = s->engine;
        int code;
        bool autoremove = false, restart = false;
        int64_t restarts = 0;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, id, &code);
        if (r) {
                set_exited(s, r, ex);
                network_container_stop(e, id, r->j);
                char ec[24];
                snprintf(ec, sizeof(ec), "%lld",
                         (long long)json_get_int(json_object_get(r->j, "State"), "ExitCode", 0));
                events_container(r->j, "die", json_pack("{s:s}", "exitCode", ec));
                struct berth_err err = {0};
                berth_storage_put(e->storage, id, 0, &err);
                volume_container_stop(e, r->j);
                _cleanup_free_ char *sd = state_dir(s, id);
                ct_remove_files(sd);
                autoremove =
                    json_get_bool(json_object_get(r->j, "HostConfig"), "AutoRemove", false);
                restart = !autoremove && should_restart(r);
                if (restart) {
                        restarts = json_get_int(r->j, "RestartCount", 0) + 1;
                        json_object_set_new(r->j, "RestartCount", json_integer(restarts));
                }
                if (ct_record_save(s, r, &err) < 0)
                        log_error("container %s: %s", id, err.msg);
                pthread_cond_broadcast(&s->changed);
        }
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return;
        struct berth_err err = {0};
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

static void *monitor_main(void *p)
{
        struct monitor *m = p;
        char line[1024];
        int r = read_line(m->fd, line, sizeof(line), -1);
        close(m->fd);
        json_error_t je;
        json_t *ex = r > 0 ? json_loads(line, 0, &je) : NULL;
        if (!ex) {
                /* The shim went away without a word: it was killed. Its
                 * container's init died with it (PDEATHSIG) or is orphaned;
                 * an exit.json may still be there. */
                _cleanup_free_ char *sd = state_dir(m->s, m->id);
                _cleanup_free_ char *ep = xasprintf("%s/%s", sd, SHIM_EXIT);
                struct berth_err err = {0};
                if (json_load_path(ep, &ex, &err) < 0)
                        ex = json_pack("{s:i, s:b}", "ExitCode", 255, "OOMKilled", 0);
        }
        if (!m->s->engine->closing)
                handle_exit(m->s, m->id, ex);
        json_decref(ex);
        free(m);
        return NULL;
}

/* The monitor's connection is made before the process is released, so that
 * even an instant exit is seen; the thread that reads it starts after the
 * record says "running". */
static int monitor_connect(const char *sock)
{
        int fd = connect_unix(sock);
        if (fd < 0)
                return fd;
        if (loop_write(fd, "wait\n", 5) < 0) {
                close(fd);
                return -EPIPE;
        }
        return fd;
}

static int monitor_spawn(struct container_store *s, const char *id, int fd, struct berth_err *err)
{
        struct monitor *m = xzalloc(sizeof(*m));
        m->s = s;
        snprintf(m->id, sizeof(m->id), "%s", id);
        m->fd = fd;
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        /* The exit path calls network drivers (libnftables' parser wants
         * far more than 64 KiB); untouched stack pages cost nothing. */
        pthread_attr_setstacksize(&a, 1024 * 1024);
        int r = pthread_create(&t, &a, monitor_main, m);
        pthread_attr_destroy(&a);
        if (r != 0) {
                close(fd);
                free(m);
                return err_set(err, -r, "cannot start a monitor thread");
        }
        return 0;
}

static int start_monitor(struct container_store *s, const char *id, const char *sock,
                         struct berth_err *err)
{
        int fd = monitor_connect(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim of %s", id);
        return monitor_spawn(s, id, fd, err);
}

/* --- start ------------------------------------------------------------------ */

/* Attaches that arrived before the start wait here (docker run's order:
 * create, attach, wait, start). start() connects them to the new shim
 * before it lets the process run, so no output is lost. */
struct pending_attach {
        char id[65];
        char *socket; /* set by start */
        bool connected;
        bool cancelled;
        struct pending_attach *next;
};
static struct pending_attach *pending;

static int spawn_shim(struct container_store *s, const char *id, const char *sd, int *ret_sync,
                      pid_t *ret_pid, struct berth_err *err)
{
        _cleanup_free_ char *shim = find_shim();
        if (!shim)
                return err_set(err, -ENOENT, "berth-shim was not found next to berthd or in %s",
                               BERTH_SBINDIR);
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                return err_errno(err, -errno, "socketpair");
        _cleanup_free_ char *logp = xasprintf("%s/shim.log", sd);
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        spawnattr_init_clean(&at, POSIX_SPAWN_SETSID);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_adddup2(&fa, sp[1], SHIM_SYNC_FD);
        char *argv[] = {(char *)"berth-shim", (char *)sd, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, shim, &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(sp[1]);
        if (r != 0) {
                close(sp[0]);
                return err_errno(err, -r, "cannot start '%s'", shim);
        }
        *ret_sync = sp[0];
        *ret_pid = pid;
        return 0;
}

/* Reap the shim once it has daemonised itself: berthd is its parent until
 * then, and a zombie per container would pile up otherwise. */
static void *reaper_main(void *p)
{
        pid_t pid = (pid_t)(intptr_t)p;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return NULL;
}

static void reap_later(pid_t pid)
{
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 32 * 1024);
        pthread_create(&t, &a, reaper_main, (void *)(intptr_t)pid);
        pthread_attr_destroy(&a);
}

static json_t *shim_config(struct container_store *s, struct record *r, const char *sd,
                           const char *cdir)
{
        struct berth_config *cfg = s->engine->cfg;
        json_t *c = json_object_get(r->j, "Config");
        json_t *hc = json_object_get(r->j, "HostConfig");
        json_t *lc = json_object_get(hc, "LogConfig");
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:O, s:s}}", "id",
            r->id, "name", r->name, "image", json_get_str(c, "Image", ""), "tty",
            json_get_bool(c, "Tty", false), "open_stdin", json_get_bool(c, "OpenStdin", false),
            "stdin_once", json_get_bool(c, "StdinOnce", false), "init",
            json_get_bool(hc, "Init", false), "bundle", sd, "runtime_root", s->runtime_root,
            "plugin_dir", cfg->plugin_dir, "data_root", cfg->data_root, "exec_root", cfg->exec_root,
            "log", "driver", json_get_str(lc, "Type", cfg->logging_default), "options",
            json_object_get(lc, "Config") ?: json_object(), "dir", cdir);
        if (cfg->path)
                json_object_set_new(j, "config_file", json_string(cfg->path));
        json_t *cs = json_object_get(hc, "ConsoleSize");
        if (json_array_size(cs) == 2 && json_integer_value(json_array_get(cs, 0)) > 0)
                json_object_set(j, "console_size", cs);
        return j;
}

int container_start(struct container_store *s, const char *ref, struct berth_err *err)
{
        struct engine *e = s->engine;
        int code, r;
        char id[65];
        _cleanup_json_ json_t *rec = NULL;

        pthread_mutex_lock(&s->lock);
        struct record *rc = ct_find_locked(s, ref, &code);
        if (!rc) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
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
        _cleanup_free_ char *sd = state_dir(s, id);
        char rootfs[4096];
        bool mounted = false, networked = false;
        int sync_fd = -1, mon_fd = -1;
        pid_t shim_pid = -1, pid = -1;
        _cleanup_json_ json_t *spec = NULL, *shimcfg = NULL, *msg = NULL;
        _cleanup_free_ char *cfgpath = NULL, *shimpath = NULL, *sock = NULL;
        json_error_t je;
        char line[2048];

        ct_remove_files(sd);
        r = mkdir_p(sd, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", sd);
                goto fail;
        }
        r = berth_storage_get(e->storage, id, NULL, 0, rootfs, sizeof(rootfs), err);
        if (r < 0)
                goto fail;
        mounted = true;
        r = network_container_start(e, id, rec, err);
        if (r < 0)
                goto fail;
        networked = true;
        r = container_write_etc(rec, cdir, err);
        if (r < 0)
                goto fail;
        r = container_spec(rec, rootfs, cdir, NULL, &spec, err);
        if (r < 0)
                goto fail;
        r = volume_container_start(e, rec, rootfs, spec, err);
        if (r < 0)
                goto fail;
        bool builtin_init = json_get_bool(json_object_get(rec, "HostConfig"), "Init", false) &&
                            container_init_apply(spec, rootfs) < 0;
        cfgpath = xasprintf("%s/config.json", sd);
        r = json_save_volatile(cfgpath, spec, 0600, err);
        if (r < 0)
                goto fail;
        shimcfg = shim_config(s, rc, sd, cdir);
        json_object_set_new(shimcfg, "init", json_boolean(builtin_init));
        shimpath = xasprintf("%s/%s", sd, SHIM_CONFIG);
        r = json_save_volatile(shimpath, shimcfg, 0600, err);
        if (r < 0)
                goto fail;
        r = spawn_shim(s, id, sd, &sync_fd, &shim_pid, err);
        if (r < 0)
                goto fail;
        reap_later(shim_pid);

        r = read_line(sync_fd, line, sizeof(line), 60000);
        msg = r > 0 ? json_loads(line, 0, &je) : NULL;
        if (!msg || !json_get_int(msg, "pid", 0)) {
                const char *m = json_get_str(msg, "error", NULL);
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
        for (struct pending_attach *pa = pending; pa; pa = pa->next)
                if (streq(pa->id, id) && !pa->cancelled && !pa->socket)
                        pa->socket = xstrdup(sock);
        pthread_cond_broadcast(&s->changed);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += 5;
        for (;;) {
                bool waiting = false;
                for (struct pending_attach *pa = pending; pa; pa = pa->next)
                        if (streq(pa->id, id) && !pa->cancelled && pa->socket && !pa->connected)
                                waiting = true;
                if (!waiting ||
                    pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT)
                        break;
        }
        pthread_mutex_unlock(&s->lock);

        /* After "started", the shim writes the exit on this channel: it is
         * the monitor's connection from then on (ct_restore connects anew). */
        if (loop_write(sync_fd, "start\n", 6) < 0 ||
            (r = read_line(sync_fd, line, sizeof(line), 60000)) <= 0) {
                r = err_set(err, -EIO, "the shim of %s did not start the container", id);
                goto fail;
        }
        json_decref(msg);
        msg = json_loads(line, 0, &je);
        if (!json_get_bool(msg, "started", false)) {
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
                health_start_locked(s, rc);
                ct_record_save(s, rc, NULL);
                events_container(rc->j, "start", NULL);
        }
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        r = monitor_spawn(s, id, mon_fd, err);
        if (r < 0)
                log_error("container %s: %s", id, err->msg);
        return 0;

fail:
        if (sync_fd >= 0)
                close(sync_fd);
        if (mon_fd >= 0)
                close(mon_fd);
        if (pid > 0)
                runtime_delete(s->runtime_root, id, true, NULL);
        if (networked)
                network_container_stop(e, id, rec);
        if (mounted) {
                volume_container_stop(e, rec);
                berth_storage_put(e->storage, id, 0, NULL);
        }
        pthread_mutex_lock(&s->lock);
        rc = ct_find_locked(s, id, &code);
        if (rc) {
                rc->starting = false;
                json_t *st = json_object_get(rc->j, "State");
                json_object_set_new(st, "Error", json_string(err_msg(err)));
                /* Docker marks a container whose process could not start as
                 * exited with 127 (not found) or 126 (not executable). */
                if (strstr(err_msg(err), "not found"))
                        json_object_set_new(st, "ExitCode", json_integer(127));
                else if (strstr(err_msg(err), "ermission denied") ||
                         strstr(err_msg(err), "not executable"))
                        json_object_set_new(st, "ExitCode", json_integer(126));
                ct_record_save(s, rc, NULL);
                for (struct pending_attach *pa = pending; pa; pa = pa->next)
                        if (streq(pa->id, id))
                                pa->cancelled = true;
        }
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        ct_remove_files(sd);
        return r < 0 ? r : -EIO;
}

/* --- stop, kill, wait --------------------------------------------------------- */

static int parse_signal(const char *s)
{
        static const struct {
                const char *n;
                int sig;
        } t[] = {{"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
                 {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
                 {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
                 {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
                 {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
                 {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
                 {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
                 {"PWR", SIGPWR},       {"SYS", SIGSYS}};
        if (isempty(s))
                return SIGKILL;
        int64_t n;
        if (parse_int64(s, &n) == 0)
                return n > 0 && n < 65 ? (int)n : -EINVAL;
        const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (strcasecmp(t[i].n, name) == 0)
                        return t[i].sig;
        return -EINVAL;
}

/* --- pause, top ------------------------------------------------------------------ */

int container_pause(struct container_store *s, const char *ref, bool pause, struct berth_err *err)
{
        int code;
        char id[65];
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        memcpy(id, r->id, 65);
        json_t *st = json_object_get(r->j, "State");
        bool running = json_get_bool(st, "Running", false);
        bool paused = json_get_bool(st, "Paused", false);
        int rr = 0;
        if (!running)
                rr = err_set(err, -EEXIST, "Container %s is not running", id);
        else if (pause && paused)
                rr = err_set(err, -EEXIST, "Container %s is already paused", id);
        else if (!pause && !paused)
                rr = err_set(err, -EEXIST, "Container %s is not paused", id);
        if (rr == 0)
                rr = runtime_pause(s->runtime_root, id, pause, err);
        if (rr == 0) {
                json_object_set_new(st, "Paused", json_boolean(pause));
                json_object_set_new(st, "Status", json_string(pause ? "paused" : "running"));
                ct_record_save(s, r, NULL);
                events_container(r->j, pause ? "pause" : "unpause", NULL);
                pthread_cond_broadcast(&s->changed);
        }
        pthread_mutex_unlock(&s->lock);
        return rr;
}

/* Thaw a paused container before a signal: frozen tasks do not act on
 * signals, SIGKILL included, until they are thawed. */
static void thaw_if_paused(struct container_store *s, const char *id)
{
        struct berth_err err = {0};
        int code;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, id, &code);
        bool paused = r && json_get_bool(json_object_get(r->j, "State"), "Paused", false);
        pthread_mutex_unlock(&s->lock);
        if (paused)
                container_pause(s, id, false, &err);
}

static void proc_field(pid_t pid, const char *file, char *buf, size_t len)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
        buf[0] = '\0';
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, len - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
}

int container_top(struct container_store *s, const char *ref, json_t **ret, struct berth_err *err)
{
        int code;
        char id[65];
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        bool running = r && json_get_bool(json_object_get(r->j, "State"), "Running", false);
        if (r)
                memcpy(id, r->id, 65);
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return ct_not_found(err, ref, code);
        if (!running)
                return err_set(err, -EEXIST, "Container %s is not running", id);
        pid_t *pids = NULL;
        size_t n = 0;
        int rr = runtime_pids(s->runtime_root, id, &pids, &n, err);
        if (rr < 0)
                return rr;
        long hz = sysconf(_SC_CLK_TCK);
        json_t *procs = json_array();
        for (size_t i = 0; i < n; i++) {
                char stat[1024], status[4096], cmd[4096];
                proc_field(pids[i], "stat", stat, sizeof(stat));
                proc_field(pids[i], "status", status, sizeof(status));
                char *rp = strrchr(stat, ')');
                if (!rp)
                        continue;
                /* fields after "(comm) ": state ppid ... utime(14) stime(15) */
                char st;
                int ppid;
                unsigned long ut = 0, stt = 0;
                sscanf(rp + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &st, &ppid, &ut,
                       &stt);
                const char *u = strstr(status, "\nUid:");
                unsigned uid = u ? (unsigned)strtoul(u + 5, NULL, 10) : 0;
                int fd = -1;
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/cmdline", (int)pids[i]);
                fd = open(p, O_RDONLY | O_CLOEXEC);
                ssize_t cl = fd >= 0 ? read(fd, cmd, sizeof(cmd) - 1) : 0;
                if (fd >= 0)
                        close(fd);
                if (cl < 0)
                        cl = 0;
                for (ssize_t k = 0; k < cl; k++)
                        if (!cmd[k])
                                cmd[k] = ' ';
                while (cl > 0 && cmd[cl - 1] == ' ')
                        cl--;
                cmd[cl] = '\0';
                unsigned long secs = hz > 0 ? (ut + stt) / (unsigned long)hz : 0;
                json_t *row = json_array();
                json_array_append_new(procs, row);
                json_array_append_new(row, json_sprintf("%u", uid));

                json_array_append_new(row, json_sprintf("%d", (int)pids[i]));
                json_array_append_new(row, json_sprintf("%d", ppid));
                json_array_append_new(row, json_string("0"));
                json_array_append_new(row, json_string("-"));
                json_array_append_new(row, json_string("?"));
                json_array_append_new(
                    row, json_sprintf("%02lu:%02lu:%02lu", secs / 3600, secs / 60 % 60, secs % 60));
                json_array_append_new(row, json_string(cl ? cmd : "?"));
        }
        free(pids);
        *ret = json_pack("{s:[s,s,s,s,s,s,s,s], s:o}", "Titles", "UID", "PID", "PPID", "C", "STIME",
                         "TTY", "TIME", "CMD", "Processes", procs);
        return 0;
}

int container_kill(struct container_store *s, const char *ref, const char *signal,
                   struct berth_err *err)
{
        int sig = parse_signal(signal);
        if (sig < 0)
                return err_set(err, -EINVAL, "Invalid signal: %s", signal);
        int code;
        char id[65];
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        memcpy(id, r->id, 65);
        if (!ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST,
                               "Cannot kill container: %s: Container %s is not running", ref, id);
        }
        if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
                r->stop_requested = true;
        char sn[16];
        snprintf(sn, sizeof(sn), "%d", sig);
        events_container(r->j, "kill", json_pack("{s:s}", "signal", sn));
        pthread_mutex_unlock(&s->lock);
        thaw_if_paused(s, id);

        return runtime_kill(s->runtime_root, id, sig, sig == SIGKILL, err);
}

/* Wait (with the lock held) until the record's exit count passes `exits`
 * or the deadline (ns, 0: none) passes. */
static bool wait_exit_locked(struct container_store *s, const char *id, uint64_t exits,
                             int64_t deadline_ns)
{
        for (;;) {
                int code;
                struct record *r = ct_find_locked(s, id, &code);
                if (!r || r->exits > exits || r->removed)
                        return true;
                if (deadline_ns) {
                        struct timespec ts = {.tv_sec = deadline_ns / 1000000000,
                                              .tv_nsec = deadline_ns % 1000000000};
                        if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
                                return false;
                } else
                        pthread_cond_wait(&s->changed, &s->lock);
        }
}

int container_stop(struct container_store *s, const char *ref, int timeout, struct berth_err *err)
{
        int code;
        char id[65];
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        if (!ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                return 1; /* 304 */
        }
        memcpy(id, r->id, 65);
        r->stop_requested = true;
        uint64_t exits = r->exits;
        json_t *cfg = json_object_get(r->j, "Config");
        int sig = parse_signal(json_get_str(cfg, "StopSignal", "SIGTERM"));
        if (sig < 0)
                sig = SIGTERM;
        if (timeout < 0)
                timeout = (int)json_get_int(cfg, "StopTimeout", 10);
        pthread_mutex_unlock(&s->lock);

        struct berth_err kerr = {0};
        thaw_if_paused(s, id);
        runtime_kill(s->runtime_root, id, sig, false, &kerr);

        pthread_mutex_lock(&s->lock);
        bool done = wait_exit_locked(s, id, exits, now_ns() + (int64_t)timeout * 1000000000);
        pthread_mutex_unlock(&s->lock);
        if (!done) {
                runtime_kill(s->runtime_root, id, SIGKILL, true, &kerr);
                pthread_mutex_lock(&s->lock);
                done = wait_exit_locked(s, id, exits, now_ns() + 30LL * 1000000000);
                pthread_mutex_unlock(&s->lock);
                if (!done)
                        return err_set(err, -ETIMEDOUT, "container %s did not stop after SIGKILL",
                                       id);
        }
        pthread_mutex_lock(&s->lock);
        if ((r = ct_find_locked(s, id, &code)))
                events_container(r->j, "stop", NULL);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

/* rm -f: SIGKILL at once, as Docker does (a stop signal first would go to a
 * PID 1 that ignores it), then wait for the exit to be recorded. */
int ct_kill_and_wait(struct container_store *s, const char *id, struct berth_err *err)
{
        int code;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, id, &code);
        if (!r || !ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                return 0;
        }
        r->stop_requested = true;
        uint64_t exits = r->exits;
        events_container(r->j, "kill", json_pack("{s:s}", "signal", "9"));
        pthread_mutex_unlock(&s->lock);

        struct berth_err kerr = {0};
        thaw_if_paused(s, id);
        runtime_kill(s->runtime_root, id, SIGKILL, true, &kerr);
        pthread_mutex_lock(&s->lock);
        bool done = wait_exit_locked(s, id, exits, now_ns() + 30LL * 1000000000);
        pthread_mutex_unlock(&s->lock);
        if (!done)
                return err_set(err, -ETIMEDOUT, "container %s did not stop after SIGKILL", id);
        return 0;
}

int container_restart(struct container_store *s, const char *ref, int timeout,
                      struct berth_err *err)
{
        int r = container_stop(s, ref, timeout, err);
        if (r < 0)
                return r;
        r = container_start(s, ref, err);
        if (r >= 0) {
                int code;
                pthread_mutex_lock(&s->lock);
                struct record *rc = ct_find_locked(s, ref, &code);
                if (rc)
                        events_container(rc->j, "restart", NULL);
                pthread_mutex_unlock(&s->lock);
        }
        return r < 0 ? r : 0;
}

int container_wait(struct container_store *s, const char *ref, const char *condition,
                   int64_t *ret_code, struct berth_err *err)
{
        int code;
        char id[65];
        const char *cond = isempty(condition) ? "not-running" : condition;
        if (!streq(cond, "not-running") && !streq(cond, "next-exit") && !streq(cond, "removed"))
                return err_set(err, -EINVAL, "invalid condition: \"%s\"", cond);
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        memcpy(id, r->id, 65);
        int64_t last = json_get_int(json_object_get(r->j, "State"), "ExitCode", 0);
        if (streq(cond, "not-running") && !ct_is_running(r->j) && !r->starting) {
                *ret_code = last;
                pthread_mutex_unlock(&s->lock);
                return 0;
        }
        uint64_t exits = r->exits;
        for (;;) {
                r = ct_find_locked(s, id, &code);
                if (!r) {
                        /* removed: its last exit code is in the tombstones */
                        *ret_code = last;
                        for (size_t i = 0; i < ELEMENTSOF(s->tomb); i++)
                                if (streq(s->tomb[i].id, id))
                                        *ret_code = s->tomb[i].code;
                        break;
                }

                last = json_get_int(json_object_get(r->j, "State"), "ExitCode", 0);
                if (!streq(cond, "removed") && r->exits > exits && !ct_is_running(r->j)) {
                        *ret_code = last;
                        break;
                }
                pthread_cond_wait(&s->changed, &s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return 0;
}

/* --- attach --------------------------------------------------------------------- */

/* Copy both ways between the client and the shim until the shim closes (the
 * container exited) or the client goes away. A half-close of the client is
 * passed on: it ends the container's stdin. */
static void splice_streams(int client, int shim)
{
        char buf[32768];
        bool client_open = true;
        for (;;) {
                struct pollfd p[2] = {{client_open ? client : -1, POLLIN, 0}, {shim, POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[1].revents) {
                        ssize_t n = read(shim, buf, sizeof(buf));
                        if (n <= 0)
                                return;
                        if (loop_write(client, buf, (size_t)n) < 0)
                                return;
                }
                if (client_open && p[0].revents) {
                        ssize_t n = read(client, buf, sizeof(buf));
                        if (n <= 0) {
                                client_open = false;
                                shutdown(shim, SHUT_WR);
                                continue;
                        }
                        if (loop_write(shim, buf, (size_t)n) < 0)
                                return;
                }
        }
}

int container_attach(struct container_store *s, const char *ref, int client, const char *extra,
                     size_t extra_len, bool want_in, bool want_out, bool want_err,
                     struct berth_err *err)
{
        int code;
        char id[65];
        _cleanup_free_ char *sock = NULL;
        struct pending_attach pa = {0};
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        memcpy(id, r->id, 65);
        events_container(r->j, "attach", NULL);
        if (r->shim_socket && ct_is_running(r->j)) {
                sock = xstrdup(r->shim_socket);
        } else {
                /* not running: wait for the next start, as docker does */
                memcpy(pa.id, id, 65);
                pa.next = pending;
                pending = &pa;
                while (!pa.socket && !pa.cancelled) {
                        r = ct_find_locked(s, id, &code);
                        if (!r || r->removed)
                                break;
                        pthread_cond_wait(&s->changed, &s->lock);
                }
                sock = pa.socket ? xstrdup(pa.socket) : NULL;
        }
        pthread_mutex_unlock(&s->lock);

        int fd = sock ? connect_unix(sock) : -1;
        if (fd >= 0) {
                char req[64];
                int l = snprintf(req, sizeof(req), "attach%s%s%s\n", want_in ? " stdin" : "",
                                 want_out ? " stdout" : "", want_err ? " stderr" : "");
                char ok[16];
                if (loop_write(fd, req, (size_t)l) < 0 ||
                    read_line(fd, ok, sizeof(ok), 10000) <= 0) {
                        close(fd);
                        fd = -1;
                }
        }
        /* tell start() this attach is ready */
        if (pa.id[0]) {
                pthread_mutex_lock(&s->lock);
                pa.connected = true;
                struct pending_attach **pp = &pending;
                while (*pp && *pp != &pa)
                        pp = &(*pp)->next;
                if (*pp)
                        *pp = pa.next;
                pthread_cond_broadcast(&s->changed);
                pthread_mutex_unlock(&s->lock);
                free(pa.socket);
        }
        if (fd < 0)
                return err_set(err, -EIO, "cannot attach to container %s", id);
        if (extra_len && want_in)
                loop_write(fd, extra, extra_len);
        splice_streams(client, fd);
        close(fd);
        return 0;
}

int container_resize(struct container_store *s, const char *ref, int h, int w,
                     struct berth_err *err)
{
        int code;
        _cleanup_free_ char *sock = NULL;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (r && r->shim_socket)
                sock = xstrdup(r->shim_socket);
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return ct_not_found(err, ref, code);
        if (!sock)
                return err_set(err, -EEXIST, "Container %s is not running", ref);
        _cleanup_close_ int fd = connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim");
        char req[64], ok[16];
        int l = snprintf(req, sizeof(req), "resize %d %d\n", h, w);
        if (loop_write(fd, req, (size_t)l) < 0 || read_line(fd, ok, sizeof(ok), 5000) <= 0)
                return err_set(err, -EIO, "cannot resize the terminal of %s", ref);
        return 0;
}

/* --- after a daemon restart ------------------------------------------------------- */

/* For every container the records call running: if its shim is alive,
 * watch it again; if it exited while berthd was away, its exit.json says
 * how; if neither, it died with the machine. */
int ct_restore(struct container_store *s)
{
        for (size_t i = 0; i < s->n; i++) {
                struct record *r = s->recs[i];
                if (!ct_is_running(r->j))
                        continue;
                _cleanup_free_ char *sd = state_dir(s, r->id);
                _cleanup_free_ char *sock = xasprintf("%s/%s", sd, SHIM_SOCKET);
                struct berth_err err = {0};
                int fd = connect_unix(sock);
                if (fd >= 0) {
                        close(fd);
                        r->shim_socket = xstrdup(sock);
                        if (start_monitor(s, r->id, sock, &err) == 0) {
                                health_start_locked(s, r);
                                continue;
                        }
                }
                _cleanup_free_ char *ep = xasprintf("%s/%s", sd, SHIM_EXIT);
                json_t *ex = NULL;
                if (json_load_path(ep, &ex, &err) < 0)
                        ex = json_pack("{s:i, s:b}", "ExitCode", 255, "OOMKilled", 0);
                set_exited(s, r, ex);
                json_decref(ex);
                berth_storage_put(s->engine->storage, r->id, 0, &err);
                volume_container_stop(s->engine, r->j);
                ct_remove_files(sd);
                ct_record_save(s, r, &err);
        }
        return 0;
}

/* --- exec ------------------------------------------------------------------------- */

struct exec_rec {
        char id[65];
        char cid[65];
        json_t *cfg; /* the create body */
        bool running, started, exited;
        int64_t exit_code;
        pid_t pid;
        int want_h, want_w; /* a resize that came before the process ran */
        struct exec_rec *next;
};
static struct exec_rec *execs;

/* "exec_start: sh -c echo" as Docker names exec events (a static buffer:
 * called with the store's lock held) */
static const char *exec_action(const char *what, json_t *cmd)
{
        static char buf[512];
        size_t l = (size_t)snprintf(buf, sizeof(buf), "%s:", what);
        size_t i;
        json_t *v;
        json_array_foreach (cmd, i, v)
                if (l < sizeof(buf))
                        l += (size_t)snprintf(buf + l, sizeof(buf) - l, " %s",
                                              json_string_value(v) ?: "");
        return buf;
}
static int exec_resize_shim(const char *sock, const char *id, int h, int w, struct berth_err *err);

static struct exec_rec *exec_find_locked(const char *id)
{
        for (struct exec_rec *e = execs; e; e = e->next)
                if (streq(e->id, id))
                        return e;
        return NULL;
}

int container_exec_create(struct container_store *s, const char *ref, json_t *body, char ret_id[65],
                          struct berth_err *err)
{
        int code;
        json_t *cmd = json_object_get(body, "Cmd");
        if (!json_array_size(cmd))
                return err_set(err, -EINVAL, "No exec command specified");
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        json_t *st = json_object_get(r->j, "State");
        if (!json_get_bool(st, "Running", false)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "Container %s is not running", r->id);
        }
        if (json_get_bool(st, "Paused", false)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST,
                               "Container %s is paused, unpause the container before exec", r->id);
        }
        struct exec_rec *e = xzalloc(sizeof(*e));
        char tmp[65];
        for (;;) {
                unsigned char raw[32];
                if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                        abort();
                for (int i = 0; i < 32; i++)
                        sprintf(tmp + 2 * i, "%02x", raw[i]);
                if (!exec_find_locked(tmp))
                        break;
        }
        memcpy(e->id, tmp, 65);
        memcpy(e->cid, r->id, 65);
        e->cfg = json_deep_copy(body);
        e->next = execs;
        execs = e;
        /* the container's record lists its execs, as Docker's ExecIDs
         * (health probes are not listed) */
        json_t *ids = json_object_get(r->j, "ExecIDs");
        if (!json_is_array(ids)) {
                ids = json_array();
                json_object_set_new(r->j, "ExecIDs", ids);
        }
        if (!json_get_bool(body, "BerthHealthProbe", false)) {
                json_array_append_new(ids, json_string(tmp));
                events_container(r->j, exec_action("exec_create", cmd), NULL);
        }

        memcpy(ret_id, tmp, 65);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

/* The OCI process of an exec: the container's own process (capabilities,
 * rlimits, no-new-privileges) with the exec's command, env, cwd and user. */
static int exec_process(struct container_store *s, struct exec_rec *e, json_t **ret,
                        struct berth_err *err)
{
        _cleanup_free_ char *sd = state_dir(s, e->cid);
        _cleanup_free_ char *cp = xasprintf("%s/config.json", sd);
        _cleanup_json_ json_t *spec = NULL;
        int r = json_load_path(cp, &spec, err);
        if (r < 0)
                return r;
        json_t *proc = json_deep_copy(json_object_get(spec, "process"));
        json_object_set(proc, "args", json_object_get(e->cfg, "Cmd"));
        json_object_set_new(proc, "terminal", json_boolean(json_get_bool(e->cfg, "Tty", false)));
        json_t *cs = json_object_get(e->cfg, "ConsoleSize"); /* [h, w], API 1.42 */
        if (json_get_bool(e->cfg, "Tty", false) && json_array_size(cs) == 2 &&
            json_integer_value(json_array_get(cs, 0)) > 0)
                json_object_set_new(proc, "consoleSize",
                                    json_pack("{s:O, s:O}", "height", json_array_get(cs, 0),
                                              "width", json_array_get(cs, 1)));
        json_t *env = json_deep_copy(json_object_get(proc, "env"));
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(e->cfg, "Env"), i, v) {
                const char *kv = json_string_value(v);
                if (!kv)
                        continue;
                size_t kl = strcspn(kv, "=");
                size_t k;
                json_t *o;
                bool replaced = false;
                json_array_foreach (env, k, o)
                        if (strncmp(json_string_value(o), kv, kl) == 0 &&
                            json_string_value(o)[kl] == '=') {
                                json_array_set(env, k, v);
                                replaced = true;
                                break;
                        }
                if (!replaced)
                        json_array_append(env, v);
        }
        json_object_set_new(proc, "env", env);
        const char *wd = json_get_str(e->cfg, "WorkingDir", "");
        if (*wd)
                json_object_set_new(proc, "cwd", json_string(wd));
        const char *user = json_get_str(e->cfg, "User", "");
        if (*user) {
                json_t *u = NULL;
                r = container_resolve_user(json_get_str(json_object_get(spec, "root"), "path", "/"),
                                           user, NULL, &u, err);
                if (r < 0) {
                        json_decref(proc);
                        return r;
                }
                json_object_set_new(proc, "user", u);
        }
        *ret = proc;
        return 0;
}

static void exec_done(struct container_store *s, const char *id, const char *sd)
{
        _cleanup_free_ char *ep = xasprintf("%s/exec-%s.exit", sd, id);
        json_t *ex = NULL;
        struct berth_err err = {0};
        bool have = json_load_path(ep, &ex, &err) == 0;
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = exec_find_locked(id);
        if (e && have) {
                e->exited = true;
                e->running = false;
                e->exit_code = json_get_int(ex, "ExitCode", 0);
        }
        pthread_mutex_unlock(&s->lock);
        json_decref(ex);
}

int container_exec_start(struct container_store *s, const char *id, bool detach, int client,
                         const char *extra, size_t extra_len, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        if (e->started) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "Error: Exec command %s is already running", id);
        }
        e->started = true;
        char cid[65];
        memcpy(cid, e->cid, 65);
        int code;
        struct record *r = ct_find_locked(s, cid, &code);
        _cleanup_free_ char *sock = r && r->shim_socket ? xstrdup(r->shim_socket) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!sock)
                return err_set(err, -EEXIST, "Container %s is not running", cid);

        _cleanup_json_ json_t *proc = NULL;
        int rr = exec_process(s, e, &proc, err);
        if (rr < 0)
                return rr;
        _cleanup_free_ char *sd = state_dir(s, cid);
        _cleanup_free_ char *pp = xasprintf("%s/exec-%s.json", sd, id);
        rr = json_save_volatile(pp, proc, 0600, err);
        if (rr < 0)
                return rr;
        bool in = json_get_bool(e->cfg, "AttachStdin", false) && !detach;
        _cleanup_close_ int fd = connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim of %s", cid);
        char req[128], line[BERTH_ERR_MSG_MAX];
        int l =
            snprintf(req, sizeof(req), "exec %s%s%s%s\n", id, in ? " stdin" : "",
                     detach ? " detach" : "", json_get_bool(e->cfg, "Tty", false) ? " tty" : "");
        if (loop_write(fd, req, (size_t)l) < 0 || read_line(fd, line, sizeof(line), 30000) <= 0)
                return err_set(err, -EIO, "the shim of %s did not answer the exec", cid);
        if (!startswith(line, "ok ")) {
                const char *m = startswith(line, "error ");
                /* as Docker: an exec that could not start ends with 126 */
                pthread_mutex_lock(&s->lock);
                e->exited = true;
                e->exit_code = 126;
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EIO, "%s", m ? m : line);
        }

        pthread_mutex_lock(&s->lock);
        e->pid = (pid_t)atoi(line + 3);
        e->running = true;
        if (!json_get_bool(e->cfg, "BerthHealthProbe", false) &&
            (r = ct_find_locked(s, cid, &code)))
                events_container(r->j, exec_action("exec_start", json_object_get(e->cfg, "Cmd")),
                                 NULL);
        int wh = e->want_h, ww = e->want_w;
        pthread_mutex_unlock(&s->lock);
        if (wh) /* the docker CLI resizes right after the upgrade */
                exec_resize_shim(sock, id, wh, ww, NULL);
        if (detach)
                return 0;
        if (extra_len && in)
                loop_write(fd, extra, extra_len);
        splice_streams(client, fd);
        /* The exit code is final before the client's connection closes. */
        exec_done(s, id, sd);
        return 0;
}

int container_exec_inspect(struct container_store *s, const char *id, json_t **ret,
                           struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        char cid[65];
        memcpy(cid, e->cid, 65);
        bool need_check = e->running && !e->exited;
        pthread_mutex_unlock(&s->lock);
        if (need_check) {
                /* a detached exec: its exit file says whether it ended */
                _cleanup_free_ char *sd = state_dir(s, cid);
                exec_done(s, id, sd);
        }
        pthread_mutex_lock(&s->lock);
        json_t *cmd = json_object_get(e->cfg, "Cmd");
        json_t *args = json_array();
        for (size_t i = 1; i < json_array_size(cmd); i++)
                json_array_append(args, json_array_get(cmd, i));
        *ret = json_pack(
            "{s:s, s:b, s:O, s:{s:b, s:s, s:O, s:b, s:s}, s:b, s:b, s:b, s:b, s:s, s:s, s:i}", "ID",
            e->id, "Running", e->running && !e->exited, "ExitCode",
            e->exited ? json_integer(e->exit_code) : json_null(), "ProcessConfig", "tty",
            json_get_bool(e->cfg, "Tty", false), "entrypoint",
            json_string_value(json_array_get(cmd, 0)) ?: "", "arguments", args, "privileged",
            json_get_bool(e->cfg, "Privileged", false), "user", json_get_str(e->cfg, "User", ""),
            "OpenStdin", json_get_bool(e->cfg, "AttachStdin", false), "OpenStderr",
            json_get_bool(e->cfg, "AttachStderr", false), "OpenStdout",
            json_get_bool(e->cfg, "AttachStdout", false), "CanRemove", 0, "ContainerID", e->cid,
            "DetachKeys", "", "Pid", (int)e->pid);
        json_decref(args);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int container_exec_resize(struct container_store *s, const char *id, int h, int w,
                          struct berth_err *err)
{
        if (h <= 0 || w <= 0)
                return 0;
        pthread_mutex_lock(&s->lock);
        struct exec_rec *e = exec_find_locked(id);
        if (!e) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such exec instance: %s", id);
        }
        bool tty = json_get_bool(e->cfg, "Tty", false);
        bool live = tty && e->running && !e->exited;
        if (tty && !e->running) {
                e->want_h = h;
                e->want_w = w;
        }
        int code;
        struct record *r = ct_find_locked(s, e->cid, &code);
        _cleanup_free_ char *sock = live && r && r->shim_socket ? xstrdup(r->shim_socket) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!sock) /* no terminal (or no longer, or not yet): as Docker */
                return 0;
        return exec_resize_shim(sock, id, h, w, err);
}

static int exec_resize_shim(const char *sock, const char *id, int h, int w, struct berth_err *err)
{
        _cleanup_close_ int fd = connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim");
        char req[160], ok[16];
        int l = snprintf(req, sizeof(req), "resize %d %d %s\n", h, w, id);
        if (loop_write(fd, req, (size_t)l) < 0 || read_line(fd, ok, sizeof(ok), 5000) <= 0)
                return err_set(err, -EIO, "cannot resize the terminal of exec %s", id);
        return 0;
}

/* --- health checks ------------------------------------------------------------------ */

static void exec_forget(const char *id)
{
        for (struct exec_rec **pp = &execs; *pp; pp = &(*pp)->next)
                if (streq((*pp)->id, id)) {
                        struct exec_rec *e = *pp;
                        *pp = e->next;
                        json_decref(e->cfg);
                        free(e);
                        return;
                }
}

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
                exec_forget(eid);
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
                        struct exec_rec *e = exec_find_locked(eid);
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
        struct exec_rec *e = exec_find_locked(eid);
        if (e && e->exited)
                code = e->exit_code;
        else
                code = -1;
        exec_forget(eid);
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
                        if (!r || r->exits != job->exits || !ct_is_running(r->j) ||
                            s->engine->closing) {
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
static void health_start_locked(struct container_store *s, struct record *r)
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

/* --- export --------------------------------------------------------------------------- */

int container_export(struct container_store *s, const char *ref, int out_fd, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(s, ref, id, err);
        if (r < 0)
                return r;
        char rootfs[4096];
        r = berth_storage_get(s->engine->storage, id, NULL, 0, rootfs, sizeof(rootfs), err);
        if (r < 0)
                return r;
        /* The whole tree, as a plain tar: a diff against nothing. */
        r = layer_diff(rootfs, NULL, BERTH_LAYER_WH_DELETE, out_fd, NULL, NULL, 0, NULL, err);
        struct berth_err perr = {0};
        berth_storage_put(s->engine->storage, id, 0, &perr);
        return r;
}

/* --- commit -------------------------------------------------------------------------- */

int container_commit(struct container_store *s, const char *ref, const char *target,
                     const char *const *changes, const char *comment, const char *author,
                     bool pause, json_t *config_over, char **ret_id, struct berth_err *err)
{
        _cleanup_json_ json_t *rec = NULL;
        int r = container_inspect(s, ref, &rec, err);
        if (r < 0)
                return r;
        const char *id = json_get_str(rec, "Id", "");
        json_t *st = json_object_get(rec, "State");
        bool paused_here = false;
        if (pause && json_get_bool(st, "Running", false) && !json_get_bool(st, "Paused", false)) {
                struct berth_err perr = {0};
                paused_here = container_pause(s, id, true, &perr) == 0;
        }
        json_t *cfg = json_deep_copy(json_object_get(rec, "Config"));
        if (json_is_object(config_over))
                json_object_update(cfg, config_over);
        r = image_commit_container(s->engine->images, json_get_str(rec, "Image", ""),
                                   s->engine->storage, id, cfg, changes, comment, author, target,
                                   ret_id, err);
        json_decref(cfg);
        if (paused_here) {
                struct berth_err perr = {0};
                container_pause(s, id, false, &perr);
        }
        return r;
}
