/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container life cycle: create (clone + set-up), start, kill, delete,
 * pause, exec.
 *
 * create: the caller compiles seccomp, checks rlimits and the executable,
 * opens namespace paths and creates the cgroup, then clone()s once with
 * every new-namespace flag. The child waits for GO (id maps written), sets
 * up the rootfs while the caller moves it into its cgroup, waits for
 * CGROUP before anything runs in the container (and before it makes a
 * cgroup namespace, whose root must be that cgroup), then either execs at
 * once (run) or blocks opening the exec fifo until `start` opens its other
 * end. Joining a cgroup v1 hierarchy waits for an RCU grace period (the
 * kernel's cgroup_threadgroup_rwsem), 5-20 ms here: overlapping it with the
 * mounts takes it off the path of every start.
 * Errors in the child travel back over the sync socket as a struct
 * berth_err; a successful execve closes the socket (CLOEXEC), which is how
 * the caller knows the exec happened. */

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "runtime-internal.h"

enum { MSG_GO = 1, MSG_READY, MSG_ERROR, MSG_CGROUP };

struct sync_msg {
        int32_t type;
        struct berth_err err;
};

struct child_args {
        const struct runtime_spec *spec;
        const struct runtime_create_opts *opts;
        int sync_fd;
        int *ns_fds;
        int console_fd;
        int fifo_fd;
        const struct rt_bpf *bpf;
        const char *exe;
        const struct rt_cgroup_layout *cg;
        const char *cg_path;
        const int *cg_self_fds; /* join the cgroup ourselves (v1), see rt_cgroup_open_self */
        size_t n_cg_self;
        pid_t host_pid;
};

static int sync_send(int fd, int type, const struct berth_err *e)
{
        struct sync_msg m = {.type = type};
        if (e)
                m.err = *e;
        return send(fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* 0 on EOF, the message type otherwise. */
static int sync_recv(int fd, struct sync_msg *m)
{
        ssize_t n;
        do
                n = recv(fd, m, sizeof(*m), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        return m->type;
}

static bool maps_root(const struct runtime_idmap *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (m[i].container_id == 0)
                        return true;
        return false;
}

static char *state_json_text(const struct runtime_spec *spec, const char *id, pid_t pid,
                             const char *status);

/* createContainer and startContainer hooks run in the container's
 * namespaces, so the child runs them; the state they read carries the pid
 * as the host sees it (read from the host's /proc/self at the start). */
static int container_hooks(struct child_args *a, int which, const char *status,
                           struct berth_err *err)
{
        _cleanup_free_ char *st = state_json_text(a->spec, a->opts->id, a->host_pid, status);
        return rt_hooks_run(a->spec, which, st, err);
}

/* The caller failed while the child was setting up in parallel: if the
 * child failed first, its error is the one to report. */
static int child_error(int fd, int r, struct berth_err *err)
{
        struct sync_msg m;
        ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
        if (n != (ssize_t)sizeof(m) || m.type != MSG_ERROR)
                return r;
        if (err) {
                *err = m.err;
                err_prefix(err, "container init");
        }
        return m.err.code < 0 ? m.err.code : -EIO;
}

static int wait_cgroup(int fd, struct berth_err *err)

{
        struct sync_msg m;
        if (sync_recv(fd, &m) != MSG_CGROUP)
                return err_set(err, -EPIPE, "the runtime went away before joining the cgroup");
        return 0;
}

static int child_setup(struct child_args *a, struct berth_err *err)
{
        const struct runtime_spec *s = a->spec;
        bool userns = s->ns[RT_NS_USER].enabled;
        struct rt_mount_ctx mc = {.spec = s,
                                  .cg_layout = a->cg,
                                  .cg_path = a->cg_path,
                                  .no_pivot = a->opts->no_pivot,
                                  .userns = userns,
                                  .console_bind = true};
        struct sync_msg m;
        int r, slave = -1;
        sigset_t none;

        /* The caller may block signals it forwards (run does): ours must not
         * reach the container's process. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        r = sync_recv(a->sync_fd, &m);
        if (r != MSG_GO)
                return err_set(err, -EPIPE, "the runtime went away before set-up");
        bool in_cgroup = false;
        if (a->n_cg_self) {
                if ((r = rt_cgroup_enter_self(a->cg_self_fds, a->n_cg_self)) < 0)
                        return err_errno(err, r, "join the cgroup '%s'", a->cg_path);
                in_cgroup = true;
        }
        if (userns && !s->ns[RT_NS_USER].path && maps_root(s->uid_maps, s->n_uid_maps) &&
            maps_root(s->gid_maps, s->n_gid_maps)) {
                /* Become the mapped root so files we create are owned by it. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return err_errno(err, -errno, "become root in the user namespace");
        }
        if (s->n_hooks[RT_HOOK_CREATE_CONTAINER] || s->n_hooks[RT_HOOK_START_CONTAINER]) {
                /* the host's /proc is still ours: it names our host pid */
                char buf[32];
                ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
                if (n > 0) {
                        buf[n] = '\0';
                        a->host_pid = atoi(buf);
                }
        }
        if ((r = rt_ns_join_paths(s, a->ns_fds, err)) < 0)
                return r;
        /* After the caller moved us into our cgroup, so that it is the
         * namespace's root. */
        if (s->ns[RT_NS_CGROUP].enabled && !s->ns[RT_NS_CGROUP].path) {
                if (!in_cgroup && (r = wait_cgroup(a->sync_fd, err)) < 0)
                        return r;
                in_cgroup = true;
                if (unshare(CLONE_NEWCGROUP) < 0)
                        return err_errno(err, -errno, "create the cgroup namespace");
        }
        if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return err_errno(err, -errno, "set hostname '%s'", s->hostname);
        if (s->process.has_oom_score_adj) {
                char buf[16];
                snprintf(buf, sizeof(buf), "%d", s->process.oom_score_adj);
                _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
                        return err_errno(err, -errno, "set oomScoreAdj %s", buf);
        }
        if ((r = rt_rootfs_prepare(&mc, err)) < 0)
                return r;
        if (s->n_hooks[RT_HOOK_CREATE_CONTAINER] &&
            (r = container_hooks(a, RT_HOOK_CREATE_CONTAINER, "created", err)) < 0)
                return r;
        if (s->process.terminal) {
                int master;
                if ((r = rt_console_create(&mc, &master, &slave, err)) < 0)
                        return r;
                r = rt_console_send(a->console_fd, master, err);
                safe_close(master);
                a->console_fd = safe_close(a->console_fd);
                if (r < 0)
                        return r;
        }
        if ((r = rt_rootfs_pivot(&mc, err)) < 0)
                return r;
        if (slave >= 0) {
                r = rt_console_make_controlling(slave, err);
                if (slave > 2)
                        safe_close(slave);
                if (r < 0)
                        return r;
        }
        if ((r = rt_rootfs_finish(&mc, err)) < 0)
                return r;
        if (!in_cgroup && (r = wait_cgroup(a->sync_fd, err)) < 0)
                return r;
        if (!a->opts->start_now) {
                char path[64];
                sync_send(a->sync_fd, MSG_READY, NULL);
                /* Blocks until `start` opens the other end. */
                snprintf(path, sizeof(path), "/proc/self/fd/%d", a->fifo_fd);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        return err_errno(err, -errno, "open the exec fifo (is /proc mounted?)");
                (void)!write(fd, "0", 1);
                safe_close(fd);
                safe_close(a->fifo_fd);
        }
        if (s->n_hooks[RT_HOOK_START_CONTAINER] &&
            (r = container_hooks(a, RT_HOOK_START_CONTAINER, "running", err)) < 0)
                return r;
        if ((r = rt_process_setup(&s->process, a->bpf, userns, true, err)) < 0)
                return r;
        rt_close_inherited_fds(a->opts->preserve_fds);
        return rt_process_exec(&s->process, a->exe, a->opts->init, a->sync_fd, err);
}

static _noreturn_ void child_main(struct child_args *a)
{
        struct berth_err err = {0};
        child_setup(a, &err);
        /* Once the caller of create is gone, nobody reads the socket: the
         * container's stderr is the only place left for the message. */
        if (sync_send(a->sync_fd, MSG_ERROR, &err) < 0 || !a->opts->start_now)
                dprintf(STDERR_FILENO, "berth-runtime: container init: %s\n", err_msg(&err));
        _exit(127);
}

static int connect_console(const char *path, struct berth_err *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return err_set(err, -ENAMETOOLONG, "console socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return err_errno(err, -errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                safe_close(fd);
                return err_errno(err, r, "connect to console socket '%s'", path);
        }
        return fd;
}

static int rm_state_dir(const char *dir)
{
        _cleanup_free_ char *a = xasprintf("%s/state.json", dir),
                            *b = xasprintf("%s/exec.fifo", dir);
        (void)unlink(a);
        (void)unlink(b);
        return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

static char *state_json_text(const struct runtime_spec *spec, const char *id, pid_t pid,
                             const char *status)
{
        json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s}", "ociVersion", RUNTIME_OCI_VERSION, "id", id,
                              "status", status, "pid", (int)pid, "bundle", spec->bundle);
        json_t *ann = json_object_get(spec->json, "annotations");
        if (ann)
                json_object_set(j, "annotations", ann);
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return s;
}

static int check_cgroups_path(const char *p, struct berth_err *err)
{
        if (p && strchr(p, ':'))
                return err_set(err, -EOPNOTSUPP,
                               "cgroupsPath '%s' is in systemd's slice:prefix:name form; "
                               "berth-runtime manages cgroups through cgroupfs only",
                               p);
        return 0;
}

int runtime_create(const struct runtime_spec *spec, const struct runtime_create_opts *opts,
                   pid_t *ret_pid, struct berth_err *err)
{
        const char *root = opts->root ? opts->root : RUNTIME_DEFAULT_ROOT;
        _cleanup_free_ char *dir = NULL, *fifo = NULL, *exe = NULL, *cg_path = NULL;
        struct rt_bpf bpf = {0};
        struct rt_cgroup_layout cg = {0};
        int ns_fds[RT_NS_MAX], sp[2] = {-1, -1}, console_fd = -1, fifo_fd = -1, own_pidns = -1;
        bool cg_created = false, dir_created = false;
        _cleanup_free_ int *self_fds = NULL;
        size_t n_self = 0;
        pid_t pid = -1;
        int r, flags = SIGCHLD;
        struct sync_msg m;

        for (int i = 0; i < RT_NS_MAX; i++)
                ns_fds[i] = -1;
        if ((r = rt_valid_id(opts->id, err)) < 0)
                return r;
        if (!spec->ns[RT_NS_MNT].enabled || spec->ns[RT_NS_MNT].path)
                return err_set(err, -EINVAL,
                               "linux.namespaces must include a new 'mount' namespace");
        if ((r = check_cgroups_path(spec->cgroups_path, err)) < 0)
                return r;
        if ((r = rt_rlimits_check(&spec->process, err)) < 0)
                return r;
        if ((r = rt_find_executable(spec->rootfs, &spec->process, &exe, err)) < 0)
                return r;
        if (spec->process.terminal && opts->console_fd < 0 && !opts->console_socket)
                return err_set(err, -EINVAL,
                               "process.terminal is true: a console socket is required "
                               "(--console-socket)");
        if (spec->seccomp) {
                _cleanup_free_ char *cache = xasprintf("%s/.seccomp-cache", root);
                if ((r = rt_seccomp_compile_cached(spec->seccomp, cache, &bpf, err)) < 0)
                        return r;
        }
        if ((r = rt_ns_open_paths(spec, ns_fds, err)) < 0)
                goto fail;
        if ((r = rt_cgroup_layout_detect(&cg, err)) < 0)
                goto fail;
        cg_path = spec->cgroups_path && *spec->cgroups_path
                      ? (spec->cgroups_path[0] == '/' ? xstrdup(spec->cgroups_path)
                                                      : xasprintf("/%s", spec->cgroups_path))
                      : rt_cgroup_default_path(opts->id);

        if ((r = mkdir_p(root, 0700)) < 0) {
                err_errno(err, r, "create state root '%s'", root);
                goto fail;
        }
        dir = rt_state_dir(root, opts->id);
        if (mkdir(dir, 0700) < 0) {
                r = -errno;
                if (r == -EEXIST)
                        err_set(err, r, "container '%s' already exists", opts->id);
                else
                        err_errno(err, r, "create '%s'", dir);
                goto fail;
        }
        dir_created = true;
        if (!opts->start_now) {
                fifo = xasprintf("%s/exec.fifo", dir);
                if (mkfifo(fifo, 0600) < 0 || (fifo_fd = open(fifo, O_PATH | O_CLOEXEC)) < 0) {
                        r = err_errno(err, -errno, "create '%s'", fifo);
                        goto fail;
                }
                /* The init opens it as the namespace's root, which may be an
                 * unprivileged uid on the host. */
                for (size_t i = 0; spec->ns[RT_NS_USER].enabled && i < spec->n_uid_maps; i++)
                        if (spec->uid_maps[i].container_id == 0)
                                (void)chown(fifo, spec->uid_maps[i].host_id,
                                            spec->n_gid_maps ? spec->gid_maps[0].host_id : 0);
        }
        if (spec->process.terminal) {
                if (opts->console_fd >= 0)
                        console_fd = opts->console_fd;
                else if ((console_fd = connect_console(opts->console_socket, err)) < 0) {
                        r = console_fd;
                        goto fail;
                }
        }
        if ((r = rt_cgroup_create(&cg, cg_path, &spec->resources, err)) < 0)
                goto fail;
        cg_created = true;
        /* Hooks see the container before its set-up: then GO waits for
         * them, and so for the cgroup, which we join for the child. */
        bool hooks = spec->n_hooks[RT_HOOK_PRESTART] || spec->n_hooks[RT_HOOK_CREATE_RUNTIME];
        if (!hooks && (r = rt_cgroup_open_self(&cg, cg_path, &self_fds, &n_self, err)) < 0)
                goto fail;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = err_errno(err, -errno, "socketpair");
                goto fail;
        }
        for (int i = 0; i < RT_NS_MAX; i++)
                if (spec->ns[i].enabled && !spec->ns[i].path && i != RT_NS_CGROUP)
                        flags |= rt_ns_clone_flag(i);
        if (ns_fds[RT_NS_PID] >= 0) {
                /* Only children enter a pid namespace: switch ours for the
                 * clone, and back. */
                own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (own_pidns < 0 || setns(ns_fds[RT_NS_PID], CLONE_NEWPID) < 0) {
                        r = err_errno(err, -errno, "join pid namespace '%s'",
                                      spec->ns[RT_NS_PID].path);
                        goto fail;
                }
        }
        /* In a pid namespace that others share, they see the child from
         * its birth: it is born non-dumpable, as runtime_exec's is. */
        int dumpable = ns_fds[RT_NS_PID] >= 0 ? prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) : -1;
        if (dumpable >= 0)
                prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        pid = (pid_t)syscall(SYS_clone, (unsigned long)flags, NULL, NULL, NULL, 0);
        if (pid != 0 && dumpable > 0)
                prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        if (pid == 0) {
                struct child_args a = {.spec = spec,
                                       .opts = opts,
                                       .sync_fd = sp[1],
                                       .ns_fds = ns_fds,
                                       .console_fd = console_fd,
                                       .fifo_fd = fifo_fd,
                                       .bpf = &bpf,
                                       .exe = exe,
                                       .cg = &cg,
                                       .cg_path = cg_path,
                                       .cg_self_fds = self_fds,
                                       .n_cg_self = n_self};
                safe_close(sp[0]);
                child_main(&a);
        }
        if (pid < 0)
                r = err_errno(err, -errno, "clone");
        if (own_pidns >= 0) {
                (void)setns(own_pidns, CLONE_NEWPID);
                own_pidns = safe_close(own_pidns);
        }
        sp[1] = safe_close(sp[1]);
        for (size_t i = 0; i < n_self; i++)
                close(self_fds[i]); /* the child has them */
        free(self_fds);
        self_fds = NULL;
        if (pid < 0)
                goto fail;

        if (spec->ns[RT_NS_USER].enabled && !spec->ns[RT_NS_USER].path) {
                if ((r = rt_write_idmap(pid, "uid_map", spec->uid_maps, spec->n_uid_maps, err)) <
                        0 ||
                    (r = rt_write_idmap(pid, "gid_map", spec->gid_maps, spec->n_gid_maps, err)) < 0)
                        goto fail;
        }
        if (!hooks && sync_send(sp[0], MSG_GO, NULL) < 0) {
                r = err_errno(err, -EPIPE, "container init died before set-up");
                goto fail;
        }
        if (!n_self && (r = rt_cgroup_enter(&cg, cg_path, pid, err)) < 0) {
                r = child_error(sp[0], r, err);
                goto fail;
        }
        if (hooks) {
                _cleanup_free_ char *st = state_json_text(spec, opts->id, pid, "creating");
                if ((r = rt_hooks_run(spec, RT_HOOK_PRESTART, st, err)) < 0 ||
                    (r = rt_hooks_run(spec, RT_HOOK_CREATE_RUNTIME, st, err)) < 0)
                        goto fail;
        }
        if ((hooks && sync_send(sp[0], MSG_GO, NULL) < 0) ||
            (!n_self && sync_send(sp[0], MSG_CGROUP, NULL) < 0)) {
                r = child_error(sp[0], err_errno(err, -EPIPE, "container init died before set-up"),
                                err);
                goto fail;
        }

        r = sync_recv(sp[0], &m);
        if (r == MSG_ERROR) {
                if (err)
                        *err = m.err;
                r = m.err.code < 0 ? m.err.code : -EIO;
                err_wrap(err, r, "container init");
                goto fail;
        }
        if (r < 0 || (r == 0 && !opts->start_now)) {
                r = err_set(err, -EIO, "container init exited during set-up");
                goto fail;
        }
        if (r != 0 && r != MSG_READY) {
                r = err_set(err, -EPROTO, "unexpected message %d from container init", r);
                goto fail;
        }

        struct runtime_state st = {.id = (char *)opts->id,
                                   .bundle = spec->bundle,
                                   .pid = pid,
                                   .created_ns = now_ns(),
                                   .cgroups_path = cg_path,
                                   .init = opts->init,
                                   .annotations = json_object_get(spec->json, "annotations")};
        if (rt_proc_start_time(pid, &st.start_time) < 0 && !opts->start_now) {
                r = err_set(err, -ESRCH, "container init exited during set-up");
                goto fail;
        }
        if ((r = rt_state_save(root, &st, err)) < 0)
                goto fail;
        if (opts->pid_file) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
                if ((r = write_file_replace(opts->pid_file, buf, (size_t)n, 0644)) < 0) {
                        err_errno(err, r, "write pid file '%s'", opts->pid_file);
                        goto fail;
                }
        }
        if (opts->start_now && spec->n_hooks[RT_HOOK_POSTSTART]) {
                _cleanup_free_ char *sj = state_json_text(spec, opts->id, pid, "running");
                (void)rt_hooks_run(spec, RT_HOOK_POSTSTART, sj, NULL);
        }
        safe_close(sp[0]);
        safe_close(fifo_fd);
        if (console_fd != opts->console_fd)
                safe_close(console_fd);
        for (int i = 0; i < RT_NS_MAX; i++)
                safe_close(ns_fds[i]);
        rt_bpf_done(&bpf);
        rt_cgroup_layout_done(&cg);
        if (ret_pid)
                *ret_pid = pid;
        return 0;

fail:
        if (pid > 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        safe_close(sp[0]);
        safe_close(sp[1]);
        safe_close(fifo_fd);
        safe_close(own_pidns);
        for (size_t i = 0; self_fds && i < n_self; i++)
                close(self_fds[i]);
        if (console_fd != opts->console_fd)
                safe_close(console_fd);
        for (int i = 0; i < RT_NS_MAX; i++)
                safe_close(ns_fds[i]);
        if (cg_created)
                rt_cgroup_destroy(&cg, cg_path, NULL);
        if (dir_created)
                rm_state_dir(dir);
        rt_bpf_done(&bpf);
        rt_cgroup_layout_done(&cg);
        return r < 0 ? r : -EIO;
}

static int open_pidfd(const struct runtime_state *s)
{
        int fd = (int)syscall(SYS_pidfd_open, s->pid, 0);
        uint64_t st;
        if (fd < 0)
                return -errno;
        /* The pidfd pins the process: check it is still ours. */
        if (rt_proc_start_time(s->pid, &st) < 0 || st != s->start_time) {
                safe_close(fd);
                return -ESRCH;
        }
        return fd;
}

int runtime_start(const char *root, const char *id, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        _cleanup_free_ char *dir = NULL, *fifo = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (s->status != RT_STATUS_CREATED)
                return err_set(err, -EINVAL, "container '%s' is %s, not created", id,
                               runtime_status_to_string(s->status));
        dir = rt_state_dir(root, id);
        fifo = xasprintf("%s/exec.fifo", dir);
        /* Non-blocking: a dead init must not hang `start`. */
        fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return err_errno(err, -errno, "open '%s'", fifo);
        for (int i = 0; i < 100000; i++) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                char c;
                if (poll(&p, 1, 50) > 0 && read(fd, &c, 1) == 1)
                        break;
                if (kill(s->pid, 0) < 0)
                        return err_set(err, -ESRCH, "container '%s': init exited before start", id);
        }
        (void)unlink(fifo);
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        if (runtime_spec_load(s->bundle, &spec, NULL) >= 0 && spec->n_hooks[RT_HOOK_POSTSTART]) {
                _cleanup_free_ char *sj = state_json_text(spec, id, s->pid, "running");
                (void)rt_hooks_run(spec, RT_HOOK_POSTSTART, sj, NULL);
        }
        return 0;
}

static int cgroup_of(const struct runtime_state *s, struct rt_cgroup_layout *l,
                     struct berth_err *err)
{
        if (isempty(s->cgroups_path))
                return err_set(err, -ENOENT, "container '%s' has no cgroup", s->id);
        return rt_cgroup_layout_detect(l, err);
}

int runtime_kill(const char *root, const char *id, int sig, bool all, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (all) {
                struct rt_cgroup_layout l;
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if ((r = cgroup_of(s, &l, err)) < 0)
                        return r;
                r = rt_cgroup_pids(&l, s->cgroups_path, &pids, &n);
                rt_cgroup_layout_done(&l);
                if (r < 0)
                        return err_errno(err, r, "list the processes of '%s'", id);
                for (size_t i = 0; i < n; i++)
                        (void)kill(pids[i], sig);
                return 0;
        }
        if (s->status == RT_STATUS_STOPPED)
                return err_set(err, -ESRCH, "container '%s' is not running", id);
        _cleanup_close_ int pfd = open_pidfd(s);
        if (pfd < 0)
                return err_set(err, -ESRCH, "container '%s' is not running", id);
        if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
                return err_errno(err, -errno, "send signal %d to container '%s'", sig, id);
        return 0;
}

/* Wait for a process that is not our child. */
static int wait_gone(const struct runtime_state *s, int timeout_ms)
{
        _cleanup_close_ int pfd = open_pidfd(s);
        if (pfd < 0)
                return 0;
        struct pollfd p = {.fd = pfd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        return r > 0 ? 0 : -ETIMEDOUT;
}

int runtime_delete(const char *root, const char *id, bool force, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        _cleanup_free_ char *dir = NULL;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0) {
                /* A half-created container (no state file yet) is removed
                 * with --force. */
                dir = rt_state_dir(root, id);
                if (force && r != -ENOENT && rm_state_dir(dir) == 0)
                        return 0;
                if (force && r == -ENOENT)
                        return 0;
                return r;
        }
        if (s->status == RT_STATUS_RUNNING || s->status == RT_STATUS_PAUSED) {
                if (!force)
                        return err_set(err, -EBUSY,
                                       "container '%s' is %s: stop it first or use --force", id,
                                       runtime_status_to_string(s->status));
        }
        if (s->status != RT_STATUS_STOPPED) {
                _cleanup_close_ int pfd = open_pidfd(s);
                if (pfd >= 0)
                        (void)syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
                if (s->status == RT_STATUS_PAUSED) {
                        struct rt_cgroup_layout l;
                        if (cgroup_of(s, &l, NULL) >= 0) {
                                (void)rt_cgroup_freeze(&l, s->cgroups_path, false, NULL);
                                rt_cgroup_layout_done(&l);
                        }
                }
                if (wait_gone(s, 10000) < 0)
                        return err_set(err, -ETIMEDOUT,
                                       "container '%s': init did not die after SIGKILL", id);
        }
        if (!isempty(s->cgroups_path)) {
                struct rt_cgroup_layout l;
                if ((r = cgroup_of(s, &l, err)) < 0)
                        return r;
                /* Processes that left the pid namespace's reach (none should)
                 * would keep the cgroup busy: kill what is left. */
                _cleanup_free_ pid_t *pids = NULL;
                size_t n = 0;
                if (rt_cgroup_pids(&l, s->cgroups_path, &pids, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                (void)kill(pids[i], SIGKILL);
                r = rt_cgroup_destroy(&l, s->cgroups_path, err);
                rt_cgroup_layout_done(&l);
                if (r < 0)
                        return r;
        }
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        if (runtime_spec_load(s->bundle, &spec, NULL) >= 0 && spec->n_hooks[RT_HOOK_POSTSTOP]) {
                _cleanup_free_ char *sj = state_json_text(spec, id, s->pid, "stopped");
                (void)rt_hooks_run(spec, RT_HOOK_POSTSTOP, sj, NULL);
        }
        dir = rt_state_dir(root, id);
        if ((r = rm_state_dir(dir)) < 0)
                return err_errno(err, r, "remove '%s'", dir);
        return 0;
}

int runtime_pause(const char *root, const char *id, bool pause, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        struct rt_cgroup_layout l;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (pause && s->status != RT_STATUS_RUNNING)
                return err_set(err, -EINVAL, "container '%s' is %s, not running", id,
                               runtime_status_to_string(s->status));
        if (!pause && s->status != RT_STATUS_PAUSED)
                return err_set(err, -EINVAL, "container '%s' is %s, not paused", id,
                               runtime_status_to_string(s->status));
        if ((r = cgroup_of(s, &l, err)) < 0)
                return r;
        r = rt_cgroup_freeze(&l, s->cgroups_path, pause, err);
        rt_cgroup_layout_done(&l);
        return r;
}

int runtime_update(const char *root, const char *id, json_t *resources, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        struct runtime_resources res = {0};
        struct rt_cgroup_layout l;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (s->status == RT_STATUS_STOPPED)
                return err_set(err, -EINVAL, "container '%s' is stopped", id);
        if ((r = rt_resources_parse(resources, &res, err)) < 0) {
                rt_resources_done(&res);
                return r;
        }
        if ((r = cgroup_of(s, &l, err)) >= 0) {
                r = rt_cgroup_update(&l, s->cgroups_path, &res, err);
                rt_cgroup_layout_done(&l);
        }
        rt_resources_done(&res);
        return r;
}

int runtime_oom_killed(const char *root, const char *id, bool *ret, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        struct rt_cgroup_layout l;
        uint64_t n = 0;
        int r;
        *ret = false;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if ((r = cgroup_of(s, &l, err)) < 0)
                return r;
        r = rt_cgroup_oom_count(&l, s->cgroups_path, &n);
        rt_cgroup_layout_done(&l);
        if (r < 0)
                return err_errno(err, r, "read the OOM count of '%s'", id);
        *ret = n > 0;
        return 0;
}

int runtime_pids(const char *root, const char *id, pid_t **ret, size_t *ret_n,
                 struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        struct rt_cgroup_layout l;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if ((r = cgroup_of(s, &l, err)) < 0)
                return r;
        r = rt_cgroup_pids(&l, s->cgroups_path, ret, ret_n);
        rt_cgroup_layout_done(&l);
        if (r < 0)
                return err_errno(err, r, "list the processes of '%s'", id);
        return 0;
}

int runtime_wait_exit(pid_t pid)
{
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return 255;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int runtime_exec(const char *root, const char *id, const struct runtime_process *proc,
                 const struct runtime_exec_opts *opts, pid_t *ret_pid, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        _cleanup_free_ char *exe = NULL, *rootfs = NULL;
        _cleanup_close_ int pfd = -1, own_pidns = -1, console_fd = -1;
        struct rt_bpf bpf = {0};
        struct rt_cgroup_layout l = {0};
        _cleanup_free_ int *self_fds = NULL;
        size_t n_self = 0;
        int sp[2] = {-1, -1}, r, nsflags = 0;
        pid_t pid = -1;
        struct sync_msg m;

        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (s->status != RT_STATUS_RUNNING && s->status != RT_STATUS_CREATED)
                return err_set(err, -EINVAL, "container '%s' is %s, not running", id,
                               runtime_status_to_string(s->status));
        if ((r = runtime_spec_load(s->bundle, &spec, err)) < 0)
                return r;
        if ((pfd = open_pidfd(s)) < 0)
                return err_set(err, -ESRCH, "container '%s' is not running", id);
        rootfs = xasprintf("/proc/%d/root", (int)s->pid);
        if ((r = rt_rlimits_check(proc, err)) < 0 ||
            (r = rt_find_executable(rootfs, proc, &exe, err)) < 0)
                return r;
        if (proc->terminal && !(opts && (opts->console_socket || opts->has_console_fd)))
                return err_set(err, -EINVAL, "a terminal needs --console-socket");
        if (spec->seccomp) {
                _cleanup_free_ char *cache =
                    xasprintf("%s/.seccomp-cache", root ? root : RUNTIME_DEFAULT_ROOT);
                if ((r = rt_seccomp_compile_cached(spec->seccomp, cache, &bpf, err)) < 0)
                        return r;
        }
        if (proc->terminal && opts->has_console_fd) {
                if ((console_fd = fcntl(opts->console_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                        r = err_errno(err, -errno, "duplicate the console socket");
                        goto out;
                }
        } else if (proc->terminal &&
                   (console_fd = connect_console(opts->console_socket, err)) < 0) {
                r = console_fd;
                goto out;
        }
        for (int i = 0; i < RT_NS_MAX; i++)
                if (spec->ns[i].enabled && i != RT_NS_PID)
                        nsflags |= rt_ns_clone_flag(i);
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
                r = err_errno(err, -errno, "socketpair");
                goto out;
        }
        if (spec->ns[RT_NS_PID].enabled) {
                own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (own_pidns < 0 || setns(pfd, CLONE_NEWPID) < 0) {
                        r = err_errno(err, -errno, "join the pid namespace of '%s'", id);
                        goto out;
                }
        }
        /* v1: the child joins the container's cgroups itself (see
         * rt_cgroup_open_self); v2, or if that cannot be set up: we move it */
        bool have_cg = !isempty(s->cgroups_path) && rt_cgroup_layout_detect(&l, NULL) >= 0;
        if (have_cg && rt_cgroup_open_self(&l, s->cgroups_path, &self_fds, &n_self, NULL) < 0)
                n_self = 0;
        /* The child is in the container's pid namespace from its birth: it
         * is born non-dumpable (fork copies the flag), so that a process in
         * the container cannot open its /proc/PID/exe (the runtime's binary
         * on the host: CVE-2019-5736), mem or fds between its setns and its
         * exec, which makes the command dumpable again. */
        int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        pid = fork();
        if (pid != 0 && dumpable > 0)
                prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
        if (pid == 0) {
                struct berth_err e = {0};
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                safe_close(sp[0]);
                if (sync_recv(sp[1], &m) != MSG_GO)
                        _exit(127);
                /* One setns() with the pidfd enters them all at once, the
                 * user namespace first. */
                int jr = n_self ? rt_cgroup_enter_self(self_fds, n_self) : 0;
                if (jr < 0)
                        err_errno(&e, jr, "join the cgroup of '%s'", id);
                else if (nsflags && setns(pfd, nsflags) < 0)
                        err_errno(&e, -errno, "join the namespaces of '%s'", id);
                else if (chdir("/") < 0)
                        err_errno(&e, -errno, "chdir /");
                else {
                        int master = -1, slave = -1;
                        r = 0;
                        if (proc->terminal) {
                                struct rt_mount_ctx mc = {.spec = spec};
                                /* inside the container now: its devpts */
                                free(spec->rootfs);
                                spec->rootfs = xstrdup("");
                                r = rt_console_create(&mc, &master, &slave, &e);
                                if (r >= 0 && proc->console_height) {
                                        struct winsize ws = {.ws_row = proc->console_height,
                                                             .ws_col = proc->console_width};
                                        ioctl(slave, TIOCSWINSZ, &ws);
                                }
                                if (r >= 0)
                                        r = rt_console_send(console_fd, master, &e);
                                if (r >= 0)
                                        r = rt_console_make_controlling(slave, &e);
                        }
                        if (r >= 0)
                                r = rt_process_setup(proc, &bpf, spec->ns[RT_NS_USER].enabled, true,
                                                     &e);
                        if (r >= 0) {
                                rt_close_inherited_fds(opts ? opts->preserve_fds : 0);
                                rt_process_exec(proc, exe, false, sp[1], &e);
                        }
                }
                sync_send(sp[1], MSG_ERROR, &e);
                _exit(127);
        }
        if (pid < 0)
                r = err_errno(err, -errno, "fork");
        if (own_pidns >= 0)
                (void)setns(own_pidns, CLONE_NEWPID);
        sp[1] = safe_close(sp[1]);
        for (size_t i = 0; i < n_self; i++)
                close(self_fds[i]); /* the child has them */
        if (pid < 0)
                goto out;
        if (have_cg && !n_self && (r = rt_cgroup_enter(&l, s->cgroups_path, pid, err)) < 0)
                goto out;
        sync_send(sp[0], MSG_GO, NULL);
        r = sync_recv(sp[0], &m);
        if (r == MSG_ERROR) {
                if (err)
                        *err = m.err;
                r = m.err.code < 0 ? m.err.code : -EIO;
                err_wrap(err, r, "exec in '%s'", id);
                goto out;
        }
        if (r < 0)
                goto out;
        r = 0;
        if (opts && opts->pid_file) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
                if ((r = write_file_replace(opts->pid_file, buf, (size_t)n, 0644)) < 0)
                        err_errno(err, r, "write pid file '%s'", opts->pid_file);
        }
        if (ret_pid)
                *ret_pid = pid;
out:
        if (r < 0 && pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
        }
        safe_close(sp[0]);
        safe_close(sp[1]);
        rt_bpf_done(&bpf);
        rt_cgroup_layout_done(&l);
        return r;
}
