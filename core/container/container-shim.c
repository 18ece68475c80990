/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim client: berth-shim's state directory, its spawn and the sync
 * channel of the start, and the line protocol on its socket. */
#include "container-internal.h"
#include "shim-proto.h"
#include "base/log.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

extern char **environ;

char *ct_state_dir(struct container_store *s, const char *id)
{
        return xasprintf("%s/%s", s->run_dir, id);
}

static char *find_shim(void)
{
        static const char *const rel[] = {".", NULL};
        return find_program("berth-shim", rel, BERTH_SBINDIR);
}

int ct_connect_unix(const char *path)
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
int ct_read_line(int fd, char *buf, size_t len, int timeout_ms)
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

/* Shims run from one sealed memfd copy of berth-shim, made at the first
 * start: the runtime's children (an exec's, before it execs) are forks of
 * the shim, and a container that reaches one through /proc/PID/exe finds
 * the copy, which cannot be written, not the host's binary (CVE-2019-5736).
 * The copy is shared by every shim. Where it cannot be made, the shims run
 * from the file, with a warning. */
static pthread_mutex_t sealed_lock = PTHREAD_MUTEX_INITIALIZER;
static int sealed_fd = -1;
static char *sealed_of;

static char *shim_exec_path(const char *shim)
{
        pthread_mutex_lock(&sealed_lock);
        if (!sealed_of || !streq(sealed_of, shim)) {
                int fd = sealed_copy(shim, NULL);
                /* above the fds the spawn sets up (0-3) */
                int high = fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 10);
                if (fd >= 0 && high < 0)
                        high = -errno;
                safe_close(fd);
                if (high < 0)
                        log_warn("cannot make a sealed copy of '%s': %s, the shim runs from the "
                                 "file",
                                 shim, strerror(-high));
                else {
                        safe_close(sealed_fd);
                        sealed_fd = high;
                        free(sealed_of);
                        sealed_of = xstrdup(shim);
                }
        }
        char *p = sealed_of && streq(sealed_of, shim) ? xasprintf("/proc/self/fd/%d", sealed_fd)
                                                      : xstrdup(shim);
        pthread_mutex_unlock(&sealed_lock);
        return p;
}

int ct_spawn_shim(struct container_store *s, const char *id, const char *sd, int *ret_sync,
                  pid_t *ret_pid, struct berth_err *err)
{
        _cleanup_free_ char *shim = find_shim();
        if (!shim)
                return err_set(err, -ENOENT, "berth-shim was not found next to berthd or in %s",
                               BERTH_SBINDIR);
        _cleanup_free_ char *exe = shim_exec_path(shim);
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
        /* argv[0]: the file, for the shim to find its siblings from */
        char *argv[] = {shim, (char *)sd, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, exe, &fa, &at, argv, environ);
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

void ct_reap_later(pid_t pid)
{
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 32 * 1024);
        pthread_create(&t, &a, reaper_main, (void *)(intptr_t)pid);
        pthread_attr_destroy(&a);
}

json_t *ct_shim_config(struct container_store *s, const char *id, json_t *rec, const char *sd,
                       const char *cdir)
{
        struct berth_config *cfg = s->d.cfg;
        json_t *c = json_object_get(rec, "Config");
        json_t *hc = json_object_get(rec, "HostConfig");
        json_t *lc = json_object_get(hc, "LogConfig");
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:O, s:s}}", "id",
            id, "name", json_get_str(rec, "Name", "/unnamed"), "image",
            json_get_str(c, "Image", ""), "tty", json_get_bool(c, "Tty", false), "open_stdin",
            json_get_bool(c, "OpenStdin", false), "stdin_once",
            json_get_bool(c, "StdinOnce", false), "init", json_get_bool(hc, "Init", false),
            "bundle", sd, "runtime_root", s->runtime_root, "plugin_dir", cfg->plugin_dir,
            "data_root", cfg->data_root, "exec_root", cfg->exec_root, "log", "driver",
            json_get_str(lc, "Type", cfg->logging_default), "options",
            json_object_get(lc, "Config") ?: json_object(), "dir", cdir);
        if (cfg->path)
                json_object_set_new(j, "config_file", json_string(cfg->path));
        json_t *cs = json_object_get(hc, "ConsoleSize");
        if (json_array_size(cs) == 2 && json_integer_value(json_array_get(cs, 0)) > 0)
                json_object_set(j, "console_size", cs);
        return j;
}
