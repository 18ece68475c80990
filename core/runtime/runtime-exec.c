/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last steps before execve(): the process part of the spec. Shared by
 * the container's init and by `exec`. */

#include <fcntl.h>
#include <grp.h>
#include <linux/openat2.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "init-loop.h"
#include "runtime-internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char **env, const char *key)
{
        size_t l = strlen(key);
        for (char **e = env; e && *e; e++)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

static bool is_executable_in(int rootfd, const char *path)
{
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
        struct stat st;
        int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd < 0)
                return false;
        bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
        safe_close(fd);
        return ok;
}

int rt_find_executable(const char *rootfs, const struct runtime_process *p, char **ret,
                       struct berth_err *err)
{
        const char *prog = p->args[0];
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return err_errno(err, -errno, "open rootfs '%s'", rootfs);
        if (strchr(prog, '/')) {
                _cleanup_free_ char *abs =
                    prog[0] == '/' ? xstrdup(prog) : xasprintf("%s/%s", p->cwd, prog);
                if (!is_executable_in(rootfd, abs)) {
                        /* Say which, in the words Docker's users (and the
                         * docker CLI's exit codes, 127 and 126) know. */
                        struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                                               .resolve = RESOLVE_IN_ROOT};
                        int fd = (int)syscall(SYS_openat2, rootfd, abs, &how, sizeof(how));
                        if (fd < 0)
                                return err_set(err, -ENOENT,
                                               "exec: \"%s\": stat %s: no such file or directory",
                                               prog, prog);
                        close(fd);
                        return err_set(err, -EACCES, "exec: \"%s\": permission denied", prog);
                }

                *ret = TAKE_PTR(abs);
                return 0;
        }
        const char *path = env_get(p->env, "PATH");
        _cleanup_strv_ char **dirs = strv_split(path ? path : DEFAULT_PATH, ":");
        for (char **d = dirs; *d; d++) {
                _cleanup_free_ char *cand = xasprintf("%s/%s", *d, prog);
                if (is_executable_in(rootfd, cand)) {
                        *ret = TAKE_PTR(cand);
                        return 0;
                }
        }
        return err_set(err, -ENOENT, "exec: \"%s\": executable file not found in $PATH", prog);
}

static bool have_cap(cap_value_t v)
{
        cap_t c = cap_get_proc();
        cap_flag_value_t f = CAP_CLEAR;
        if (c) {
                cap_get_flag(c, v, CAP_EFFECTIVE, &f);
                cap_free(c);
        }
        return f == CAP_SET;
}

int rt_rlimits_check(const struct runtime_process *p, struct berth_err *err)
{
        int can_raise = -1;
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit cur;
                const struct runtime_rlimit *l = &p->rlimits[i];
                if (getrlimit(l->resource, &cur) < 0)
                        return err_errno(err, -errno, "getrlimit %s", rt_rlimit_name(l->resource));
                if (cur.rlim_max == RLIM_INFINITY || l->hard <= cur.rlim_max)
                        continue;
                if (can_raise < 0)
                        can_raise = have_cap(CAP_SYS_RESOURCE);
                if (can_raise)
                        continue;
                return err_set(err, -EPERM,
                               "process.rlimits: %s hard limit %llu is above this host's hard "
                               "limit %llu, and raising it needs CAP_SYS_RESOURCE, which this "
                               "runtime does not have; ask for at most %llu",
                               rt_rlimit_name(l->resource), (unsigned long long)l->hard,
                               (unsigned long long)cur.rlim_max, (unsigned long long)cur.rlim_max);
        }
        return 0;
}

int rt_process_setup(const struct runtime_process *p, const struct rt_bpf *bpf, bool userns,
                     bool setgroups_ok, struct berth_err *err)
{
        int r;
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return err_errno(err, -errno, "set %s to %llu:%llu",
                                         rt_rlimit_name(p->rlimits[i].resource),
                                         (unsigned long long)rl.rlim_cur,
                                         (unsigned long long)rl.rlim_max);
        }
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return err_errno(err, -errno, "set no_new_privs");
        /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
         * while we still have it. The filter must then allow the few calls
         * below, as Docker's profile does. */
        if (!p->no_new_privileges && (r = rt_seccomp_load(bpf, err)) < 0)
                return r;
        if (p->has_caps && (r = rt_caps_drop_bounding(p->caps[RT_CAP_BOUNDING], err)) < 0)
                return r;
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return err_errno(err, -errno, "set keepcaps");
        if (setgroups_ok) {
                gid_t g[p->n_gids + 1];
                for (size_t i = 0; i < p->n_gids; i++)
                        g[i] = p->gids[i];
                if (setgroups(p->n_gids, g) < 0)
                        return err_errno(err, -errno, "setgroups");
        }
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return err_errno(err, -errno, "setgid %u", p->gid);
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return err_errno(err, -errno, "setuid %u", p->uid);
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return err_errno(err, -errno, "clear keepcaps");
        if (p->has_caps && (r = rt_caps_apply(p->caps, err)) < 0)
                return r;
        if (p->has_umask)
                umask(p->umask);
        else
                umask(022);
        if (chdir(p->cwd) < 0)
                return err_errno(err, -errno, "chdir to cwd '%s'", p->cwd);
        if (p->no_new_privileges && (r = rt_seccomp_load(bpf, err)) < 0)
                return r;
        (void)userns;
        return 0;
}

void rt_close_inherited_fds(unsigned preserve)
{
        /* Only stdio and the fds the caller asked to pass (--preserve-fds,
         * for socket activation) reach the container; CLOEXEC keeps our own
         * sync socket open until the exec itself. */
        (void)close_range(3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC);
}

int rt_process_exec(const struct runtime_process *p, const char *path, bool init, int sync_fd,
                    struct berth_err *err)
{
        extern char **environ;
        if (init)
                return rt_init_run(p, path, sync_fd, err);
        exec_reset_signals();
        environ = p->env;
        execv(path, p->args);
        return err_errno(err, -errno, "exec '%s'", path);
}

int rt_console_send(int sock, int master, struct berth_err *err)
{
        int r = fd_send(sock, master);
        if (r < 0)
                return err_errno(err, r, "send the pty master to the console socket");
        return 0;
}

int rt_console_make_controlling(int slave, struct berth_err *err)
{
        if (setsid() < 0)
                return err_errno(err, -errno, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return err_errno(err, -errno, "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return err_errno(err, -errno, "dup2 the pty");
        return 0;
}
