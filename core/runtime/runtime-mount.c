/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's file system view (child side).
 *
 * Every mount target is resolved inside the rootfs with openat2(
 * RESOLVE_IN_ROOT), so a symlink in an image cannot send a mount outside the
 * rootfs, and the mount is made on /proc/self/fd/N of the resolved target.
 * After a mount the target is opened again before remounting it: the old fd
 * still names the directory underneath. */

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "runtime-internal.h"

/* Create dest (a directory, or an empty file if is_file) and its parents
 * inside the rootfs; return an O_PATH fd of it. */
static int mkdir_in_root(int rootfd, const char *dest, bool is_file)
{
        _cleanup_free_ char *p = xstrdup(dest);
        size_t len = strlen(p);
        int fd = openat_in_root(rootfd, p, O_PATH);
        if (fd >= 0 || fd != -ENOENT)
                return fd;
        for (size_t i = 1; i <= len; i++) {
                if (p[i] != '/' && p[i] != '\0')
                        continue;
                char saved = p[i];
                p[i] = '\0';
                int cfd = openat_in_root(rootfd, p, O_PATH);
                if (cfd == -ENOENT) {
                        char *slash = strrchr(p, '/');
                        *slash = '\0';
                        _cleanup_close_ int parent = openat_in_root(rootfd, p, O_PATH);
                        *slash = '/';
                        if (parent < 0)
                                return parent;
                        if (saved == '\0' && is_file) {
                                int f = openat(parent, slash + 1,
                                               O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
                                if (f < 0 && errno != EEXIST)
                                        return -errno;
                                safe_close(f);
                        } else if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST) {
                                return -errno;
                        }
                        cfd = openat_in_root(rootfd, p, O_PATH);
                }
                if (cfd < 0)
                        return cfd;
                p[i] = saved;
                if (saved == '\0')
                        return cfd;
                safe_close(cfd);
        }
        return -EINVAL;
}

static char *fd_path(int fd)
{
        return xasprintf("/proc/self/fd/%d", fd);
}

/* Flags a remount must keep: in a user namespace the kernel refuses to drop
 * nosuid/nodev/noexec/atime flags it has locked on a mount. */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;
        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

static int do_mount(const struct rt_mount_ctx *c, int rootfd, const struct runtime_mount *m,
                    struct berth_err *err)
{
        bool is_file = false;
        struct stat st;
        int r;

        if (m->bind && stat(m->source, &st) == 0 && !S_ISDIR(st.st_mode))
                is_file = true;
        if (m->bind && access(m->source, F_OK) < 0)
                return err_errno(err, -errno, "mount '%s': source '%s'", m->destination, m->source);
        _cleanup_close_ int fd = mkdir_in_root(rootfd, m->destination, is_file);
        if (fd < 0)
                return err_errno(err, fd, "mount '%s': create the mount point", m->destination);
        _cleanup_free_ char *target = fd_path(fd);

        if (streq(m->type, "cgroup")) {
                char real[4096];
                ssize_t n = readlink(target, real, sizeof(real) - 1);
                if (n < 0)
                        return err_errno(err, -errno, "mount '%s'", m->destination);
                real[n] = '\0';
                return rt_cgroup_mount(c->cg_layout, c->cg_path, real, m->flags,
                                       c->spec->ns[RT_NS_CGROUP].enabled, err);
        }

        unsigned long base = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
        if (m->bind) {
                if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
                        return err_errno(err, -errno, "bind mount '%s' on '%s'", m->source,
                                         m->destination);
                if (base) {
                        safe_close(fd);
                        fd = openat_in_root(rootfd, m->destination, O_PATH);
                        if (fd < 0)
                                return err_errno(err, fd, "reopen '%s'", m->destination);
                        free(target);
                        target = fd_path(fd);
                        if (mount(NULL, target, NULL,
                                  MS_BIND | MS_REMOUNT | base | locked_flags(target), NULL) < 0)
                                return err_errno(err, -errno, "remount '%s' with its options",
                                                 m->destination);
                }
        } else {
                r = mount(m->source ? m->source : m->type, target, m->type, base, m->data);
                if (r < 0 && errno == EPERM &&
                    (streq(m->type, "sysfs") || streq(m->type, "mqueue"))) {
                        /* A user namespace that does not own the network
                         * (or ipc) namespace may not mount a new sysfs
                         * (mqueue): bind the host's, as runc does. */
                        const char *src = streq(m->type, "sysfs") ? "/sys" : "/dev/mqueue";
                        r = mount(src, target, NULL, MS_BIND | MS_REC, NULL);
                }
                if (r < 0)
                        return err_errno(err, -errno, "mount %s on '%s'", m->type, m->destination);
        }
        if (m->propagation) {
                safe_close(fd);
                fd = openat_in_root(rootfd, m->destination, O_PATH);
                if (fd < 0)
                        return err_errno(err, fd, "reopen '%s'", m->destination);
                free(target);
                target = fd_path(fd);
                if (mount(NULL, target, NULL, m->propagation, NULL) < 0)
                        return err_errno(err, -errno, "set propagation of '%s'", m->destination);
        }
        return 0;
}

static int make_device(const struct rt_mount_ctx *c, int rootfd, const char *path, char type,
                       int64_t major, int64_t minor, mode_t mode, uid_t uid, gid_t gid,
                       struct berth_err *err)
{
        mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        _cleanup_close_ int dfd = mkdir_in_root(rootfd, dir[0] ? dir : "/", false);
        if (dfd < 0)
                return err_errno(err, dfd, "device '%s': parent directory", path);
        if (!c->userns) {
                (void)unlinkat(dfd, slash + 1, 0);
                if (mknodat(dfd, slash + 1, kind | (mode & 07777),
                            makedev((unsigned)major, (unsigned)minor)) < 0)
                        return err_errno(err, -errno, "mknod '%s'", path);
                if (fchownat(dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(dfd, slash + 1, mode & 07777, 0) < 0)
                        return err_errno(err, -errno, "set owner and mode of '%s'", path);
                return 0;
        }
        /* mknod is not allowed in a user namespace: bind the host's node. */
        _cleanup_close_ int fd = mkdir_in_root(rootfd, path, true);
        if (fd < 0)
                return err_errno(err, fd, "device '%s'", path);
        _cleanup_free_ char *target = fd_path(fd);
        if (mount(path, target, NULL, MS_BIND, NULL) < 0)
                return err_errno(err, -errno, "bind device '%s'", path);
        return 0;
}

static bool spec_mounts(const struct runtime_spec *s, const char *dest, bool *ret_bind)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, dest)) {
                        if (ret_bind)
                                *ret_bind = s->mounts[i].bind;
                        return true;
                }
        return false;
}

static int setup_dev(const struct rt_mount_ctx *c, int rootfd, struct berth_err *err)
{
        static const struct {
                const char *path;
                int major, minor;
        } defaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                        {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
        static const struct {
                const char *src, *dst;
        } links[] = {{"/proc/self/fd", "fd"},
                     {"/proc/self/fd/0", "stdin"},
                     {"/proc/self/fd/1", "stdout"},
                     {"/proc/self/fd/2", "stderr"},
                     {"/proc/kcore", "core"}};
        const struct runtime_spec *s = c->spec;
        bool bind = false;
        int r;

        /* Only a /dev the runtime mounts itself gets populated; a bind-mounted
         * /dev is the user's. */
        if (spec_mounts(s, "/dev", &bind) && !bind) {
                for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                        if ((r = make_device(c, rootfd, defaults[i].path, 'c', defaults[i].major,
                                             defaults[i].minor, 0666, 0, 0, err)) < 0)
                                return r;
                _cleanup_close_ int dev = openat_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
                if (dev < 0)
                        return err_errno(err, dev, "open /dev in the rootfs");
                for (size_t i = 0; i < ELEMENTSOF(links); i++)
                        if (symlinkat(links[i].src, dev, links[i].dst) < 0 && errno != EEXIST)
                                return err_errno(err, -errno, "symlink /dev/%s", links[i].dst);
                if (spec_mounts(s, "/dev/pts", NULL)) {
                        if (symlinkat("pts/ptmx", dev, "ptmx") < 0 && errno != EEXIST)
                                return err_errno(err, -errno, "symlink /dev/ptmx");
                }
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const struct runtime_device *d = &s->devices[i];
                if ((r = make_device(c, rootfd, d->path, d->type, d->major, d->minor, d->mode,
                                     d->uid, d->gid, err)) < 0)
                        return r;
        }
        return 0;
}

int rt_rootfs_prepare(const struct rt_mount_ctx *c, struct berth_err *err)
{
        const struct runtime_spec *s = c->spec;
        int r;

        /* Nothing done below may reach the host's mount table. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return err_errno(err, -errno, "make / private");
        if (mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return err_errno(err, -errno, "bind the rootfs '%s'", s->rootfs);
        if (s->rootfs_propagation && mount(NULL, s->rootfs, NULL, s->rootfs_propagation, NULL) < 0)
                return err_errno(err, -errno, "set rootfsPropagation");
        _cleanup_close_ int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return err_errno(err, -errno, "open rootfs '%s'", s->rootfs);
        for (size_t i = 0; i < s->n_mounts; i++)
                if ((r = do_mount(c, rootfd, &s->mounts[i], err)) < 0)
                        return r;
        return setup_dev(c, rootfd, err);
}

/* The PTY comes from the container's own devpts, so its slave is visible
 * inside; it is bound to /dev/console as the spec asks. */
int rt_console_create(const struct rt_mount_ctx *c, int *ret_master, int *ret_slave,
                      struct berth_err *err)
{
        _cleanup_free_ char *ptmx = xasprintf("%s/dev/pts/ptmx", c->spec->rootfs);
        _cleanup_close_ int master = -1, slave = -1, rootfd = -1, cfd = -1;
        int n;
        master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return err_errno(err, -errno, "open '%s' (a terminal needs /dev/pts)", ptmx);
        n = 0;
        if (ioctl(master, TIOCSPTLCK, &n) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                return err_errno(err, -errno, "unlock the pty");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return err_errno(err, -errno, "open the pty slave");
        if (c->console_bind) {
                rootfd = open(c->spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (rootfd < 0)
                        return err_errno(err, -errno, "open rootfs");
                cfd = mkdir_in_root(rootfd, "/dev/console", true);
                if (cfd < 0)
                        return err_errno(err, cfd, "create /dev/console");
                _cleanup_free_ char *src = xasprintf("%s/dev/pts/%d", c->spec->rootfs, n);
                _cleanup_free_ char *target = fd_path(cfd);
                if (mount(src, target, NULL, MS_BIND, NULL) < 0)
                        return err_errno(err, -errno, "bind the pty on /dev/console");
        }
        *ret_master = TAKE_FD(master);
        *ret_slave = TAKE_FD(slave);
        return 0;
}

int rt_rootfs_pivot(const struct rt_mount_ctx *c, struct berth_err *err)
{
        if (chdir(c->spec->rootfs) < 0)
                return err_errno(err, -errno, "chdir to the rootfs");
        if (c->no_pivot) {
                if (mount(c->spec->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return err_errno(err, -errno, "move the rootfs to /");
                if (chroot(".") < 0)
                        return err_errno(err, -errno, "chroot");
        } else {
                /* pivot_root(".", ".") stacks the old root on the new one;
                 * detaching "." then drops it without a temporary dir. */
                if (syscall(SYS_pivot_root, ".", ".") < 0)
                        return err_errno(err, -errno, "pivot_root");
                if (umount2(".", MNT_DETACH) < 0)
                        return err_errno(err, -errno, "detach the old root");
        }
        if (chdir("/") < 0)
                return err_errno(err, -errno, "chdir /");
        return 0;
}

static int write_sysctl(const char *key, const char *value, struct berth_err *err)
{
        _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
                if (*p == '.')
                        *p = '/';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, value, strlen(value)) < 0)
                return err_errno(err, -errno, "sysctl '%s'", key);
        return 0;
}

int rt_rootfs_finish(const struct rt_mount_ctx *c, struct berth_err *err)
{
        const struct runtime_spec *s = c->spec;
        int r;
        for (char **k = s->sysctl; k && k[0] && k[1]; k += 2)
                if ((r = write_sysctl(k[0], k[1], err)) < 0)
                        return r;
        for (char **p = s->masked_paths; p && *p; p++) {
                struct stat st;
                if (stat(*p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return err_errno(err, -errno, "masked path '%s'", *p);
                }
                if (S_ISDIR(st.st_mode))
                        r = mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0k");
                else
                        r = mount("/dev/null", *p, NULL, MS_BIND, NULL);
                if (r < 0)
                        return err_errno(err, -errno, "mask '%s'", *p);
        }
        for (char **p = s->readonly_paths; p && *p; p++) {
                if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return err_errno(err, -errno, "read-only path '%s'", *p);
                }
                if (mount(NULL, *p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(*p),
                          NULL) < 0)
                        return err_errno(err, -errno, "remount '%s' read-only", *p);
        }
        if (s->rootfs_readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
                return err_errno(err, -errno, "remount the rootfs read-only");
        return 0;
}
