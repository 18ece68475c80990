/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stop, kill, wait, restart, pause and top: acting on a running
 * container's process through the runtime library. */
#include "container-internal.h"
#include "base/events.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <strings.h>

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
        char id[65];
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
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

int container_kill(struct container_store *s, const char *ref, const char *signal,
                   struct berth_err *err)
{
        int sig = parse_signal(signal);
        if (sig < 0)
                return err_set(err, -EINVAL, "Invalid signal: %s", signal);
        char id[65];
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        memcpy(id, r->id, 65);
        if (!ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST,
                               "Cannot kill container: %s: Container %s is not running", ref, id);
        }
        if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT)
                r->stop_requested = true;
        uint64_t exits = r->exits;
        char sn[16];
        snprintf(sn, sizeof(sn), "%d", sig);
        events_container(r->j, "kill", json_pack("{s:s}", "signal", sn));
        pthread_mutex_unlock(&s->lock);
        thaw_if_paused(s, id);

        int rr = runtime_kill(s->runtime_root, id, sig, sig == SIGKILL, err);
        if (rr < 0 || sig != SIGKILL)
                return rr;
        /* As Docker: a SIGKILL is answered once the exit is recorded, so
         * that an inspect right after the kill shows the container stopped
         * (other signals may be caught: no wait for them). */
        pthread_mutex_lock(&s->lock);
        bool done = wait_exit_locked(s, id, exits, now_ns() + 30LL * 1000000000);
        pthread_mutex_unlock(&s->lock);
        if (!done)
                return err_set(err, -ETIMEDOUT, "container %s did not stop after SIGKILL", id);
        return 0;
}

int container_stop(struct container_store *s, const char *ref, int timeout, struct berth_err *err)
{
        char id[65];
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
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
        int code;
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
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
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
