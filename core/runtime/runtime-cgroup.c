/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroups: which hierarchy to use, and the operations common to v1 and v2.
 *
 * Layout: a cgroup2 file system at /sys/fs/cgroup is a pure v2 host. Anything
 * else is v1 or hybrid: the v1 controllers are used, each at its own mount
 * point from /proc/self/mountinfo, and a v2 hierarchy mounted beside them
 * (hybrid: /sys/fs/cgroup/unified, usually without controllers) is left
 * alone, because the controllers that limit anything live in v1 there. */

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "runtime-internal.h"

static const char *v1_known[] = {"cpu",     "cpuacct",    "cpuset", "memory",  "devices",
                                 "freezer", "blkio",      "pids",   "net_cls", "net_prio",
                                 "hugetlb", "perf_event", "rdma",   "misc"};

static bool v1_is_known(const char *c)
{
        for (size_t i = 0; i < ELEMENTSOF(v1_known); i++)
                if (streq(v1_known[i], c))
                        return true;
        return false;
}

void rt_cgroup_layout_done(struct rt_cgroup_layout *l)
{
        free(l->unified);
        for (size_t i = 0; i < l->n_v1; i++) {
                free(l->v1[i].controllers);
                free(l->v1[i].mountpoint);
        }
        memset(l, 0, sizeof(*l));
}

static bool fs_is(const char *path, unsigned long magic)
{
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && (unsigned long)sfs.f_type == magic;
}

int rt_cgroup_layout_quick(struct rt_cgroup_layout *l, const char *proc_cgroup, const char *root)
{
        memset(l, 0, sizeof(*l));
        l->version = 1;
        _cleanup_fclose_ FILE *f = fopen(proc_cgroup, "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int r = 0;
        if (!f)
                return -errno;
        while (r == 0 && getline(&line, &cap, f) > 0) {
                /* "ID:CONTROLLERS:PATH"; ID 0 is the v2 hierarchy */
                char *c = strchr(line, ':'), *e = c ? strchr(c + 1, ':') : NULL;
                if (!e)
                        continue;
                *e = '\0';
                c++;
                if (!*c || startswith(c, "name="))
                        continue; /* v2, or name=systemd and friends: not ours */
                _cleanup_free_ char *all = xstrdup(c), *ctrls = NULL;
                char *save = NULL, *tok;
                for (tok = strtok_r(c, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                        if (!v1_is_known(tok))
                                continue;
                        char *n = ctrls ? xasprintf("%s,%s", ctrls, tok) : xstrdup(tok);
                        free(ctrls);
                        ctrls = n;
                }
                if (!ctrls)
                        continue;
                _cleanup_free_ char *mp = xasprintf("%s/%s", root, all);
                if (l->n_v1 >= RT_CG_V1_MAX || !fs_is(mp, CGROUP_SUPER_MAGIC)) {
                        r = -ENOENT;
                        break;
                }
                l->v1[l->n_v1].controllers = TAKE_PTR(ctrls);
                l->v1[l->n_v1].mountpoint = TAKE_PTR(mp);
                l->n_v1++;
        }
        if (r == 0 && l->n_v1 == 0)
                r = -ENOENT;
        if (r == 0) {
                _cleanup_free_ char *u = xasprintf("%s/unified", root);
                if (fs_is(u, CGROUP2_SUPER_MAGIC))
                        l->unified = TAKE_PTR(u);
        }
        if (r < 0)
                rt_cgroup_layout_done(l);
        return r;
}

int rt_cgroup_layout_detect(struct rt_cgroup_layout *l, struct berth_err *err)
{
        struct statfs sfs;
        memset(l, 0, sizeof(*l));
        if (statfs("/sys/fs/cgroup", &sfs) < 0)
                return err_errno(err, -errno, "statfs '/sys/fs/cgroup'");
        if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
                l->version = 2;
                l->unified = xstrdup("/sys/fs/cgroup");
                return 0;
        }
        /* mountinfo grows with every mount on the host (each container's
         * rootfs and /dev/shm): reading it on each create, exec and state
         * would cost the runtime O(containers). The usual layout, each
         * hierarchy at /sys/fs/cgroup/<its controllers>, is found from the
         * dozen lines of /proc/self/cgroup; any other falls back. */
        if (rt_cgroup_layout_quick(l, "/proc/self/cgroup", "/sys/fs/cgroup") == 0)
                return 0;
        return rt_cgroup_layout_mountinfo(l, err);
}

int rt_cgroup_layout_mountinfo(struct rt_cgroup_layout *l, struct berth_err *err)
{
        memset(l, 0, sizeof(*l));
        l->version = 1;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        if (!f)
                return err_errno(err, -errno, "open /proc/self/mountinfo");
        while (getline(&line, &cap, f) > 0) {
                char *sep = strstr(line, " - "), *fields[6], *save = NULL, *tok;
                char fstype[32], source[64], opts[512];
                int n = 0;
                if (!sep)
                        continue;
                if (sscanf(sep + 3, "%31s %63s %511s", fstype, source, opts) != 3)
                        continue;
                if (streq(fstype, "cgroup2")) {
                        if (!l->unified) {
                                *sep = '\0';
                                for (tok = strtok_r(line, " ", &save); tok && n < 6;
                                     tok = strtok_r(NULL, " ", &save))
                                        fields[n++] = tok;
                                if (n >= 5)
                                        l->unified = xstrdup(fields[4]);
                        }
                        continue;
                }
                if (!streq(fstype, "cgroup") || l->n_v1 >= RT_CG_V1_MAX)
                        continue;
                _cleanup_free_ char *ctrls = NULL;
                for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                        if (!v1_is_known(tok))
                                continue;
                        char *c = ctrls ? xasprintf("%s,%s", ctrls, tok) : xstrdup(tok);
                        free(ctrls);
                        ctrls = c;
                }
                if (!ctrls)
                        continue; /* name=systemd and friends: not ours */
                *sep = '\0';
                save = NULL;
                for (tok = strtok_r(line, " ", &save); tok && n < 6;
                     tok = strtok_r(NULL, " ", &save))
                        fields[n++] = tok;
                if (n < 5)
                        continue;
                l->v1[l->n_v1].controllers = TAKE_PTR(ctrls);
                l->v1[l->n_v1].mountpoint = xstrdup(fields[4]);
                l->n_v1++;
        }
        if (l->n_v1 == 0)
                return err_set(err, -ENOENT,
                               "no cgroup v1 controllers are mounted and /sys/fs/cgroup is not "
                               "cgroup2");
        return 0;
}

char *rt_cgroup_default_path(const char *id)
{
        return xasprintf("/berth/%s", id);
}

static bool v1_has(const struct rt_cgroup_layout *l, size_t i, const char *ctrl)
{
        _cleanup_strv_ char **v = strv_split(l->v1[i].controllers, ",");
        return strv_contains(v, ctrl);
}

static char *v1_dir(const struct rt_cgroup_layout *l, const char *ctrl, const char *path)
{
        for (size_t i = 0; i < l->n_v1; i++)
                if (v1_has(l, i, ctrl))
                        return xasprintf("%s%s", l->v1[i].mountpoint, path);
        return NULL;
}

int rt_cg_write(const struct rt_cgroup_layout *l, const char *dir, const char *file,
                const char *value)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd =
            open(p, O_WRONLY | O_CLOEXEC | (l->fake ? O_CREAT | O_TRUNC : 0), 0644);
        size_t len = strlen(value);
        if (fd < 0)
                return -errno;
        if (write(fd, value, len) != (ssize_t)len)
                return errno ? -errno : -EIO;
        return 0;
}

static int read_file_in(const char *dir, const char *file, char **ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        return read_full_file(p, ret, NULL);
}

/* A cgroup's directory may be busy for a moment while its last processes
 * finish exiting; rmdir succeeds once they are gone. */
static int rmdir_wait(const char *dir)
{
        for (int i = 0; i < 200; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return -EBUSY;
}

static int v1_cpuset_init(const struct rt_cgroup_layout *l, const char *mountpoint,
                          const char *path)
{
        /* A new cpuset is empty and refuses tasks: copy cpus and mems down
         * each level that has none. */
        _cleanup_free_ char *p = xstrdup(path), *cur = xstrdup(mountpoint);
        char *save = NULL;
        for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                char *next = xasprintf("%s/%s", cur, tok);
                for (int k = 0; k < 2; k++) {
                        const char *f = k ? "cpuset.mems" : "cpuset.cpus";
                        _cleanup_free_ char *mine = NULL, *parent = NULL;
                        if (read_file_in(next, f, &mine) >= 0 && mine[0] && mine[0] != '\n')
                                continue;
                        if (read_file_in(cur, f, &parent) < 0)
                                continue;
                        (void)rt_cg_write(l, next, f, parent);
                }
                free(cur);
                cur = next;
        }
        return 0;
}

int rt_cgroup_create(const struct rt_cgroup_layout *l, const char *path,
                     const struct runtime_resources *res, struct berth_err *err)
{
        int r;
        if (!path || path[0] != '/' || strstr(path, ".."))
                return err_set(err, -EINVAL, "cgroupsPath '%s' must be an absolute path",
                               strempty(path));
        if (l->version == 2) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->unified, path);
                if ((r = mkdir_p(dir, 0755)) < 0)
                        return err_errno(err, r, "create cgroup '%s'", dir);
                if ((r = rt_cg_v2_enable_controllers(l, path, err)) < 0 ||
                    (r = rt_cg_v2_apply(l, path, res, err)) < 0) {
                        (void)rmdir(dir);
                        return r;
                }
                return 0;
        }
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->v1[i].mountpoint, path);
                if ((r = mkdir_p(dir, 0755)) < 0) {
                        err_errno(err, r, "create cgroup '%s'", dir);
                        rt_cgroup_destroy(l, path, NULL);
                        return r;
                }
                if (v1_has(l, i, "cpuset"))
                        v1_cpuset_init(l, l->v1[i].mountpoint, path);
        }
        if ((r = rt_cg_v1_apply(l, path, res, err)) < 0) {
                rt_cgroup_destroy(l, path, NULL);
                return r;
        }
        return 0;
}

int rt_cgroup_update(const struct rt_cgroup_layout *l, const char *path,
                     const struct runtime_resources *res, struct berth_err *err)
{
        struct runtime_resources r = *res;
        r.n_devices = 0; /* the device rules are fixed at create */
        if (!path || path[0] != '/' || strstr(path, ".."))
                return err_set(err, -EINVAL, "cgroupsPath '%s' must be an absolute path",
                               strempty(path));
        return l->version == 2 ? rt_cg_v2_apply(l, path, &r, err)
                               : rt_cg_v1_apply(l, path, &r, err);
}

int rt_cgroup_open_self(const struct rt_cgroup_layout *l, const char *path, int **ret_fds,
                        size_t *ret_n, struct berth_err *err)
{
        *ret_fds = NULL;
        *ret_n = 0;
        if (l->version == 2 || l->fake || !l->n_v1)
                return 0;
        int *fds = xmalloc(l->n_v1 * sizeof(*fds));
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *p = xasprintf("%s%s/tasks", l->v1[i].mountpoint, path);
                fds[i] = open(p, O_WRONLY | O_CLOEXEC);
                if (fds[i] < 0) {
                        int r = err_errno(err, -errno, "open '%s'", p);
                        while (i--)
                                close(fds[i]);
                        free(fds);
                        return r;
                }
        }
        *ret_fds = fds;
        *ret_n = l->n_v1;
        return 0;
}

int rt_cgroup_enter_self(const int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (write(fds[i], "0", 1) != 1)
                        return -errno;
        return 0;
}

int rt_cgroup_enter(const struct rt_cgroup_layout *l, const char *path, pid_t pid,
                    struct berth_err *err)
{
        char buf[32];
        int r;
        snprintf(buf, sizeof(buf), "%d", (int)pid);
        if (l->version == 2) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->unified, path);
                if ((r = rt_cg_write(l, dir, "cgroup.procs", buf)) < 0)
                        return err_errno(err, r, "move pid %d into cgroup '%s'", (int)pid, dir);
                return 0;
        }
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->v1[i].mountpoint, path);
                if ((r = rt_cg_write(l, dir, "cgroup.procs", buf)) < 0)
                        return err_errno(err, r, "move pid %d into cgroup '%s'", (int)pid, dir);
        }
        return 0;
}

/* rt_cgroup_create made the parents of `path` (mkdir_p): remove those that
 * are now empty, so the last container of "/berth/<id>" takes "/berth" with
 * it. A parent still in use refuses (EBUSY/ENOTEMPTY) and stays. */
static void rmdir_parents(const char *root, const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *slash = strrchr(p, '/'); slash && slash != p; slash = strrchr(p, '/')) {
                *slash = '\0';
                _cleanup_free_ char *dir = xasprintf("%s%s", root, p);
                if (rmdir(dir) < 0)
                        return;
        }
}

int rt_cgroup_destroy(const struct rt_cgroup_layout *l, const char *path, struct berth_err *err)
{
        int r, ret = 0;
        if (l->version == 2) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->unified, path);
                if ((r = rmdir_wait(dir)) < 0)
                        return err_errno(err, r, "remove cgroup '%s'", dir);
                rmdir_parents(l->unified, path);
                return 0;
        }
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *dir = xasprintf("%s%s", l->v1[i].mountpoint, path);
                if ((r = rmdir_wait(dir)) < 0 && ret == 0)
                        ret = err_errno(err, r, "remove cgroup '%s'", dir);
                else if (r == 0)
                        rmdir_parents(l->v1[i].mountpoint, path);
        }
        return ret;
}

int rt_cgroup_freeze(const struct rt_cgroup_layout *l, const char *path, bool freeze,
                     struct berth_err *err)
{
        _cleanup_free_ char *dir = NULL;
        int r;
        if (l->version == 2) {
                dir = xasprintf("%s%s", l->unified, path);
                if ((r = rt_cg_write(l, dir, "cgroup.freeze", freeze ? "1" : "0")) < 0)
                        return err_errno(err, r, "write '%s/cgroup.freeze'", dir);
                return 0;
        }
        dir = v1_dir(l, "freezer", path);
        if (!dir)
                return err_set(err, -EOPNOTSUPP, "the freezer cgroup controller is not mounted");
        if ((r = rt_cg_write(l, dir, "freezer.state", freeze ? "FROZEN" : "THAWED")) < 0)
                return err_errno(err, r, "write '%s/freezer.state'", dir);
        /* FREEZING is transitional: wait until the kernel is done. */
        for (int i = 0; freeze && i < 1000; i++) {
                _cleanup_free_ char *s = NULL;
                if (read_file_in(dir, "freezer.state", &s) < 0 || startswith(s, "FROZEN"))
                        break;
                struct timespec ts = {0, 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return 0;
}

int rt_cgroup_is_frozen(const struct rt_cgroup_layout *l, const char *path, bool *ret)
{
        _cleanup_free_ char *dir = NULL, *s = NULL;
        int r;
        *ret = false;
        if (l->version == 2) {
                dir = xasprintf("%s%s", l->unified, path);
                if ((r = read_file_in(dir, "cgroup.freeze", &s)) < 0)
                        return r;
                *ret = s[0] == '1';
                return 0;
        }
        dir = v1_dir(l, "freezer", path);
        if (!dir)
                return -EOPNOTSUPP;
        if ((r = read_file_in(dir, "freezer.state", &s)) < 0)
                return r;
        *ret = !startswith(s, "THAWED");
        return 0;
}

static uint64_t find_counter(const char *text, const char *key)
{
        size_t kl = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
                        return strtoull(p + kl + 1, NULL, 10);
        return 0;
}

int rt_cgroup_oom_count(const struct rt_cgroup_layout *l, const char *path, uint64_t *ret)
{
        _cleanup_free_ char *dir = NULL, *s = NULL;
        int r;
        *ret = 0;
        if (l->version == 2) {
                dir = xasprintf("%s%s", l->unified, path);
                if ((r = read_file_in(dir, "memory.events", &s)) < 0)
                        return r;
                *ret = find_counter(s, "oom_kill");
                return 0;
        }
        dir = v1_dir(l, "memory", path);
        if (!dir)
                return -EOPNOTSUPP;
        if ((r = read_file_in(dir, "memory.oom_control", &s)) < 0)
                return r;
        *ret = find_counter(s, "oom_kill");
        return 0;
}

int rt_cgroup_pids(const struct rt_cgroup_layout *l, const char *path, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *dir = NULL, *s = NULL;
        int r;
        if (l->version == 2)
                dir = xasprintf("%s%s", l->unified, path);
        else if (!(dir = v1_dir(l, "pids", path)) && !(dir = v1_dir(l, "memory", path)))
                return -EOPNOTSUPP;
        if ((r = read_file_in(dir, "cgroup.procs", &s)) < 0)
                return r;
        _cleanup_strv_ char **v = strv_split(s, "\n");
        pid_t *p = xzalloc(sizeof(pid_t) * (strv_length(v) + 1));
        size_t n = 0;
        for (char **i = v; *i; i++)
                p[n++] = (pid_t)atoi(*i);
        *ret = p;
        *ret_n = n;
        return 0;
}

int rt_cgroup_mount(const struct rt_cgroup_layout *l, const char *path, const char *dest,
                    unsigned long flags, bool cgroupns, struct berth_err *err)
{
        unsigned long f = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
        if (l->version == 2) {
                if (cgroupns) {
                        if (mount("cgroup2", dest, "cgroup2", f, NULL) < 0)
                                return err_errno(err, -errno, "mount cgroup2 on '%s'", dest);
                        return 0;
                }
                _cleanup_free_ char *src = xasprintf("%s%s", l->unified, path);
                if (mount(src, dest, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
                        return err_errno(err, -errno, "bind cgroup '%s' on '%s'", src, dest);
                return 0;
        }
        /* v1: a tmpfs with one bind mount of the container's own cgroup per
         * hierarchy, as runc and docker lay it out. */
        if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return err_errno(err, -errno, "mount tmpfs on '%s'", dest);
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_free_ char *src = xasprintf("%s%s", l->v1[i].mountpoint, path);
                _cleanup_free_ char *sub = xasprintf("%s/%s", dest, l->v1[i].controllers);
                if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                        return err_errno(err, -errno, "mkdir '%s'", sub);
                if (access(src, F_OK) < 0)
                        continue;
                if (mount(src, sub, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    mount(NULL, sub, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
                        return err_errno(err, -errno, "bind cgroup '%s' on '%s'", src, sub);
                if (strchr(l->v1[i].controllers, ',')) {
                        _cleanup_strv_ char **v = strv_split(l->v1[i].controllers, ",");
                        for (char **c = v; *c; c++) {
                                _cleanup_free_ char *link = xasprintf("%s/%s", dest, *c);
                                (void)symlink(l->v1[i].controllers, link);
                        }
                }
        }
        if ((f & MS_RDONLY) &&
            mount(NULL, dest, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
                  "mode=755") < 0)
                return err_errno(err, -errno, "remount '%s' read-only", dest);
        return 0;
}
