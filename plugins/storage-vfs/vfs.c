/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage-vfs: every layer is a full copy of its parent plus its own
 * changes, for filesystems where overlayfs is unavailable. Slow and
 * space-hungry by design, but it works anywhere and needs no mounts.
 *
 * Layout under the driver directory:
 *   dir/<id>/      the layer's complete tree (get() returns it)
 *   parent/<id>    the parent's id ("" for a base layer)
 * Tar reading and diffing go through the engine's host services
 * (layer_unpack/layer_diff, ABI 1.1), which hold the path-escape checks.
 */
#include <berth/storage.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct vfs {
        const struct berth_host *host;
        char home[PATH_MAX];
};

static int valid_id(const char *id)
{
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > 128)
                return 0;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '-'))
                        return 0;
        return 1;
}

#define CHECK_ID(v, id, err)                                                                    \
        do {                                                                                    \
                if (!valid_id(id))                                                              \
                        return berth_host_err((v)->host, err, -EINVAL, "invalid layer id '%s'", \
                                              (id) ? (id) : "(null)");                          \
        } while (0)

static void layer_dir(const struct vfs *v, const char *id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/dir/%s", v->home, id);
}

static void parent_file(const struct vfs *v, const char *id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/parent/%s", v->home, id);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type == FTW_DP)
                return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int rm_rf(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
        return r < 0 ? -errno : r;
}

/* --- copying a tree ------------------------------------------------------
 * In-process rather than through cp(1): a helper process would outlive an
 * engine killed mid-copy and go on writing into a layer that the next start
 * is removing. Keeps owners, modes, times, xattrs, hard links, devices. */

struct inode_seen {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the destination root */
};

struct copier {
        int dst_root;
        struct inode_seen *seen;
        size_t n_seen;
};

static int copy_xattrs(int src_dir, int dst_dir, const char *name)
{
        char sp[64 + NAME_MAX], dp[64 + NAME_MAX], names[8192], val[65536];
        snprintf(sp, sizeof(sp), "/proc/self/fd/%d/%s", src_dir, name);
        snprintf(dp, sizeof(dp), "/proc/self/fd/%d/%s", dst_dir, name);
        ssize_t n = llistxattr(sp, names, sizeof(names));
        for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
                ssize_t vl = lgetxattr(sp, names + i, val, sizeof(val));
                if (vl >= 0 && lsetxattr(dp, names + i, val, (size_t)vl, 0) < 0 &&
                    errno != ENOTSUP && errno != EPERM)
                        return -errno;
        }
        return 0;
}

static int copy_data(int in, int out)
{
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                        return -errno;
                break;
        }
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                for (char *p = buf; n > 0;) {
                        ssize_t w = write(out, p, (size_t)n);
                        if (w < 0)
                                return -errno;
                        p += w, n -= w;
                }
        return n < 0 ? -errno : 0;
}

static int copy_dir(struct copier *c, int src, int dst, const char *rel);

static int copy_entry(struct copier *c, int src, int dst, const char *name, const char *rel)
{
        struct stat st;
        if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", name);
        int r = 0;
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dst, name, 0700) < 0)
                        return -errno;
                int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s2 < 0 || d2 < 0)
                        r = -errno;
                else
                        r = copy_dir(c, s2, d2, path);
                if (s2 >= 0)
                        close(s2);
                if (d2 >= 0)
                        close(d2);
                if (r < 0)
                        return r;
        } else if (S_ISREG(st.st_mode)) {
                if (st.st_nlink > 1)
                        for (size_t i = 0; i < c->n_seen; i++)
                                if (c->seen[i].dev == st.st_dev && c->seen[i].ino == st.st_ino)
                                        return linkat(c->dst_root, c->seen[i].path, dst, name, 0) <
                                                       0
                                                   ? -errno
                                                   : 0;
                int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (in < 0)
                        return -errno;
                int out =
                    openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (out < 0) {
                        r = -errno;
                        close(in);
                        return r;
                }
                r = copy_data(in, out);
                close(in);
                close(out);
                if (r < 0)
                        return r;
                if (st.st_nlink > 1) {
                        struct inode_seen *n = realloc(c->seen, (c->n_seen + 1) * sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        c->seen = n;
                        c->seen[c->n_seen++] =
                            (struct inode_seen){st.st_dev, st.st_ino, strdup(path)};
                }
        } else if (S_ISLNK(st.st_mode)) {
                char t[PATH_MAX];
                ssize_t n = readlinkat(src, name, t, sizeof(t) - 1);
                if (n < 0)
                        return -errno;
                t[n] = '\0';
                if (symlinkat(t, dst, name) < 0)
                        return -errno;
        } else if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
                return -errno;

        if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode)) {
                if (fchmodat(dst, name, st.st_mode & 07777, 0) < 0)
                        return -errno;
                if ((r = copy_xattrs(src, dst, name)) < 0)
                        return r;
        }
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        return utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_dir(struct copier *c, int src, int dst, const char *rel)
{
        int fd = dup(src);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        r = copy_entry(c, src, dst, de->d_name, rel);
        closedir(d);
        return r;
}

/* Copy the contents of directory src into the existing directory dst. */
static int copy_tree(const char *src, const char *dst)
{
        int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0)
                return -errno;
        int d = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) {
                int r = -errno;
                close(s);
                return r;
        }
        struct copier c = {.dst_root = d};
        int r = copy_dir(&c, s, d, "");
        struct stat st;
        if (r == 0 && fstat(s, &st) == 0) {
                struct timespec ts[2] = {st.st_atim, st.st_mtim};
                (void)fchown(d, st.st_uid, st.st_gid);
                (void)fchmod(d, st.st_mode & 07777);
                (void)futimens(d, ts);
        }
        for (size_t i = 0; i < c.n_seen; i++)
                free(c.seen[i].path);
        free(c.seen);
        close(s);
        close(d);
        return r;
}

static int layer_exists(const struct vfs *v, const char *id)
{
        char p[PATH_MAX];
        parent_file(v, id, p, sizeof(p));
        return access(p, F_OK) == 0;
}

/* The parent id of a layer ("" for a base layer). */
static int read_parent(const struct vfs *v, const char *id, char *buf, size_t len)
{
        char p[PATH_MAX];
        parent_file(v, id, p, sizeof(p));
        FILE *f = fopen(p, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, (int)len, f))
                buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int vfs_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        if (!BERTH_HOST_HAS(host, layer_unpack) || !BERTH_HOST_HAS(host, layer_diff))
                return berth_host_err(host, err, -EPROTO,
                                      "the engine lacks the layer_unpack/layer_diff services "
                                      "(ABI 1.1); upgrade berth");
        struct vfs *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->host = host;
        snprintf(v->home, sizeof(v->home), "%s", host->path(host->ctx, BERTH_PATH_DRIVER));
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/dir", v->home);
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                free(v);
                return berth_host_err(host, err, r, "create '%s': %s", p, strerror(-r));
        }
        snprintf(p, sizeof(p), "%s/parent", v->home);
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                free(v);
                return berth_host_err(host, err, r, "create '%s': %s", p, strerror(-r));
        }
        *ret_state = v;
        return 0;
}

static void vfs_fini(void *state)
{
        free(state);
}

static int vfs_remove(void *drv, const char *id, uint64_t flags, struct berth_err *err);

static int vfs_create(void *drv, const char *id, const char *parent, const char *const *opts,
                      uint64_t flags, struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, BERTH_STORAGE_CREATE_RW);
        CHECK_ID(v, id, err);
        if (opts && opts[0])
                return berth_host_err(v->host, err, -EINVAL,
                                      "unknown storage option '%s' (vfs takes none)", opts[0]);
        if (parent) {
                CHECK_ID(v, parent, err);
                if (!layer_exists(v, parent))
                        return berth_host_err(v->host, err, -ENOENT,
                                              "parent layer '%s' does not exist", parent);
        }
        if (layer_exists(v, id))
                return berth_host_err(v->host, err, -EEXIST, "layer '%s' already exists", id);

        char dir[PATH_MAX], pf[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        parent_file(v, id, pf, sizeof(pf));
        int r;
        /* a leftover of a crash part-way through create() */
        (void)rm_rf(dir);
        if (parent) {
                char pdir[PATH_MAX];
                layer_dir(v, parent, pdir, sizeof(pdir));
                if (mkdir(dir, 0755) < 0)
                        return berth_host_err(v->host, err, -errno, "create '%s': %s", dir,
                                              strerror(errno));
                r = copy_tree(pdir, dir);
                if (r < 0) {
                        berth_host_err(v->host, err, r, "copy layer '%s' for '%s': %s", parent, id,
                                       strerror(-r));
                        goto fail;
                }
        } else if (mkdir(dir, 0755) < 0)
                return berth_host_err(v->host, err, -errno, "create '%s': %s", dir,
                                      strerror(errno));

        /* the parent file is the commit point: a layer without it does not exist */
        FILE *f = fopen(pf, "we");
        if (!f) {
                r = berth_host_err(v->host, err, -errno, "create '%s': %s", pf, strerror(errno));
                goto fail;
        }
        fprintf(f, "%s\n", parent ? parent : "");
        if (fclose(f) != 0) {
                r = berth_host_err(v->host, err, -errno, "write '%s': %s", pf, strerror(errno));
                goto fail;
        }
        return 0;
fail:
        (void)vfs_remove(drv, id, 0, NULL);
        return r;
}

static int vfs_remove(void *drv, const char *id, uint64_t flags, struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(v, id, err);
        char dir[PATH_MAX], pf[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        parent_file(v, id, pf, sizeof(pf));
        int existed = layer_exists(v, id) || access(dir, F_OK) == 0;
        /* the commit point goes first, so a crash part-way leaves no "layer" */
        if (unlink(pf) < 0 && errno != ENOENT)
                return berth_host_err(v->host, err, -errno, "remove '%s': %s", pf, strerror(errno));
        int r = rm_rf(dir);
        if (r < 0)
                return berth_host_err(v->host, err, r, "remove '%s': %s", dir, strerror(-r));
        return existed ? 0 : berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
}

static int vfs_exists(void *drv, const char *id, uint64_t flags)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (!valid_id(id))
                return 0;
        return layer_exists(v, id);
}

static int vfs_get(void *drv, const char *id, const char *mount_label, uint64_t flags,
                   char *ret_path, size_t ret_len, struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(v, id, err);
        if (!layer_exists(v, id))
                return berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
        char dir[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        if (strlen(dir) >= ret_len)
                return berth_host_err(v->host, err, -ENAMETOOLONG, "path of layer '%s' too long",
                                      id);
        strcpy(ret_path, dir);
        return 0;
}

static int vfs_put(void *drv, const char *id, uint64_t flags, struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(v, id, err);
        /* nothing is mounted: a full copy is always there */
        return layer_exists(v, id)
                   ? 0
                   : berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
}

static int vfs_apply_diff(void *drv, const char *id, const char *parent, int tar_fd,
                          uint32_t whiteout_format, uint64_t flags, int64_t *ret_size,
                          struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(v, id, err);
        if (whiteout_format != BERTH_WHITEOUT_AUFS)
                return berth_host_err(v->host, err, -EINVAL, "unknown whiteout format %u",
                                      whiteout_format);
        if (!layer_exists(v, id))
                return berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
        char dir[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        int64_t size = 0;
        int r =
            v->host->layer_unpack(v->host->ctx, tar_fd, dir, BERTH_LAYER_WH_DELETE, 0, &size, err);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* Run the engine's differ on `id` against `parent` (NULL: its own). */
static int do_diff(struct vfs *v, const char *id, const char *parent, int out_fd,
                   berth_change_fn fn, void *ud, int64_t *ret_size, struct berth_err *err)
{
        CHECK_ID(v, id, err);
        if (!layer_exists(v, id))
                return berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
        char own_parent[256] = "";
        if (!parent) {
                int r = read_parent(v, id, own_parent, sizeof(own_parent));
                if (r < 0)
                        return berth_host_err(v->host, err, r, "layer '%s': read parent: %s", id,
                                              strerror(-r));
                parent = own_parent[0] ? own_parent : NULL;
        } else {
                CHECK_ID(v, parent, err);
                if (!layer_exists(v, parent))
                        return berth_host_err(v->host, err, -ENOENT,
                                              "parent layer '%s' does not exist", parent);
        }
        char dir[PATH_MAX], pdir[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        const char *lowers[2] = {NULL, NULL};
        if (parent) {
                layer_dir(v, parent, pdir, sizeof(pdir));
                lowers[0] = pdir;
        }
        return v->host->layer_diff(v->host->ctx, dir, lowers, BERTH_LAYER_WH_DELETE, out_fd, fn, ud,
                                   0, ret_size, err);
}

static int vfs_diff(void *drv, const char *id, const char *parent, int out_fd, uint64_t flags,
                    struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, out_fd, NULL, NULL, NULL, err);
}

static int vfs_changes(void *drv, const char *id, const char *parent, berth_change_fn fn,
                       void *userdata, uint64_t flags, struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, -1, fn, userdata, NULL, err);
}

static int vfs_diff_size(void *drv, const char *id, const char *parent, uint64_t flags,
                         int64_t *ret_size, struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, -1, NULL, NULL, ret_size, err);
}

static int vfs_status(void *drv, berth_kv_fn fn, void *userdata, uint64_t flags)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return fn(userdata, "Copy-on-write", "false");
}

static int vfs_metadata(void *drv, const char *id, berth_kv_fn fn, void *userdata, uint64_t flags,
                        struct berth_err *err)
{
        struct vfs *v = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(v, id, err);
        if (!layer_exists(v, id))
                return berth_host_err(v->host, err, -ENOENT, "layer '%s' does not exist", id);
        char dir[PATH_MAX];
        layer_dir(v, id, dir, sizeof(dir));
        return fn(userdata, "Dir", dir);
}

static const struct berth_storage_ops vfs_ops = {
    .size = sizeof(struct berth_storage_ops),
    .create = vfs_create,
    .remove = vfs_remove,
    .exists = vfs_exists,
    .get = vfs_get,
    .put = vfs_put,
    .apply_diff = vfs_apply_diff,
    .diff = vfs_diff,
    .changes = vfs_changes,
    .diff_size = vfs_diff_size,
    .status = vfs_status,
    .metadata = vfs_metadata,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_STORAGE, .name = "vfs", .version = "1.0.0",
                    .description = "full copies of each layer, for filesystems without overlayfs",
                    .features = 0, .init = vfs_init, .fini = vfs_fini, .ops = &vfs_ops);
