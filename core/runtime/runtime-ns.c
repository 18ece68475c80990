/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Namespaces: the spec's names, clone flags, joining by path, id maps. */

#include <fcntl.h>
#include <sched.h>

#include "runtime-internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
        const char *spec, *proc;
        int flag;
} ns_table[RT_NS_MAX] = {
    [RT_NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [RT_NS_NET] = {"network", "net", CLONE_NEWNET},
    [RT_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [RT_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [RT_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [RT_NS_USER] = {"user", "user", CLONE_NEWUSER},
    [RT_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [RT_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *rt_ns_name(int ns)
{
        return ns_table[ns].spec;
}

const char *rt_ns_procname(int ns)
{
        return ns_table[ns].proc;
}

int rt_ns_clone_flag(int ns)
{
        return ns_table[ns].flag;
}

int rt_ns_from_name(const char *name)
{
        for (int i = 0; i < RT_NS_MAX; i++)
                if (streq(ns_table[i].spec, name))
                        return i;
        return -EINVAL;
}

int rt_ns_open_paths(const struct runtime_spec *spec, int fds[RT_NS_MAX], struct berth_err *err)
{
        for (int i = 0; i < RT_NS_MAX; i++)
                fds[i] = -1;
        for (int i = 0; i < RT_NS_MAX; i++) {
                if (!spec->ns[i].enabled || !spec->ns[i].path)
                        continue;
                fds[i] = open(spec->ns[i].path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        int r = -errno;
                        for (int k = 0; k < i; k++)
                                fds[k] = safe_close(fds[k]);
                        return err_errno(err, r, "%s namespace path '%s'", ns_table[i].spec,
                                         spec->ns[i].path);
                }
        }
        return 0;
}

/* The user namespace goes first: joining it grants the capabilities the
 * other setns() calls need when they are owned by it. The pid namespace was
 * joined by the parent before clone(): setns(CLONE_NEWPID) only affects
 * children. */
int rt_ns_join_paths(const struct runtime_spec *spec, int *fds, struct berth_err *err)
{
        static const int order[] = {RT_NS_USER, RT_NS_IPC,    RT_NS_UTS, RT_NS_NET,
                                    RT_NS_TIME, RT_NS_CGROUP, RT_NS_MNT};
        for (size_t k = 0; k < ELEMENTSOF(order); k++) {
                int i = order[k];
                if (fds[i] < 0)
                        continue;
                if (setns(fds[i], ns_table[i].flag) < 0)
                        return err_errno(err, -errno, "join %s namespace '%s'", ns_table[i].spec,
                                         spec->ns[i].path);
                fds[i] = safe_close(fds[i]);
        }
        return 0;
}

int rt_write_idmap(pid_t pid, const char *file, const struct runtime_idmap *m, size_t n,
                   struct berth_err *err)
{
        char buf[4096];
        size_t len = 0;
        _cleanup_free_ char *path = xasprintf("/proc/%d/%s", (int)pid, file);
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
                                 m[i].host_id, m[i].size);
                if (w < 0 || (size_t)w >= sizeof(buf) - len)
                        return err_set(err, -E2BIG, "%s: too many mappings", file);
                len += (size_t)w;
        }
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return err_errno(err, -errno, "open '%s'", path);
        if (write(fd, buf, len) != (ssize_t)len)
                return err_errno(err, -errno, "write %s", file);
        return 0;
}
