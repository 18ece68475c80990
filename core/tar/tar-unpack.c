/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Layer tars in and out with libarchive: the code of berth-tar (never linked
 * into berthd; see tar-helper.h).
 *
 * Unpacking never resolves a path through the filesystem: every entry is
 * reached by walking its parent directories one component at a time with
 * openat(O_NOFOLLOW|O_DIRECTORY) from a descriptor of the layer root, so a
 * symlink that an earlier entry planted ("a -> /etc", then "a/passwd") is
 * seen and refused instead of followed. ".." and absolute names are refused
 * before anything is touched. The caller (the storage driver, and the engine
 * above it) throws the layer away on any failure, so a refusal leaves the
 * store as it was.
 */
#include "tar-layer.h"
#include "tar-archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* --- unpack --------------------------------------------------------------- */

struct dirtime {
        char *path;
        struct timespec ts[2];
};

struct unpack {
        int root_fd;
        uint32_t mode;
        json_t *seen; /* paths written by this layer (for opaque dirs in DELETE mode) */
        struct dirtime *dirs;
        size_t n_dirs;
        int64_t size;
        int64_t free_bytes;
        uint64_t flags;   /* LAYER_UNPACK_* */
        const char *what; /* "the layer", "the context": for messages */
        struct berth_err *err;
};

static int rm_children_at(int fd, const char *keep_prefix, json_t *keep)
{
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (keep) {
                        _cleanup_free_ char *p = keep_prefix
                                                     ? xasprintf("%s/%s", keep_prefix, de->d_name)
                                                     : xstrdup(de->d_name);
                        if (json_object_get(keep, p))
                                continue;
                }
                int r = rm_rf_at(dirfd(d), de->d_name);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

/* Open the directory that holds `path` (a cleaned relative path) by walking
 * from the root without following symlinks. Missing parents are created when
 * `create` is set. *ret_name points into path. */
static int open_parent(struct unpack *u, const char *path, bool create, int *ret_fd,
                       const char **ret_name)
{
        _cleanup_close_ int fd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return err_errno(u->err, -errno, "dup");
        const char *p = path;
        for (;;) {
                const char *slash = strchr(p, '/');
                if (!slash)
                        break;
                _cleanup_free_ char *comp = xstrndup(p, (size_t)(slash - p));
                int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
                                return err_errno(u->err, -errno, "create parent of '%s'", path);
                        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0) {
                        int r = -errno;
                        struct stat st;
                        if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                                return err_set(u->err, -EXDEV,
                                               "tar entry '%s' goes through the symlink '%.*s' "
                                               "(it would land outside %s)",
                                               path, (int)(slash - path), path, u->what);
                        if (r == -ENOTDIR || r == -ELOOP)
                                return err_set(u->err, -EXDEV,
                                               "tar entry '%s': '%.*s' is not a directory", path,
                                               (int)(slash - path), path);
                        return err_errno(u->err, r, "tar entry '%s': open '%.*s'", path,
                                         (int)(slash - path), path);
                }
                close(fd);
                fd = nfd;
                p = slash + 1;
        }
        *ret_name = p;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int pfd, const char *name,
                      const char *path)
{
        if (archive_entry_xattr_reset(e) == 0)
                return 0;
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
        _cleanup_free_ char *full = xasprintf("%s/%s", proc, name);
        const char *k;
        const void *v;
        size_t vl;
        while (archive_entry_xattr_next(e, &k, &v, &vl) == ARCHIVE_OK) {
                /* trusted.overlay.* would let a layer forge whiteouts and
                 * redirects for the overlay driver: never take it from a tar. */
                if (startswith(k, "trusted."))
                        continue;
                if (lsetxattr(full, k, v, vl, 0) < 0 && errno != ENOTSUP && errno != EPERM)
                        return err_errno(u->err, -errno, "tar entry '%s': set xattr '%s'", path, k);
        }
        return 0;
}

static int apply_meta(struct unpack *u, struct archive_entry *e, int pfd, const char *name,
                      const char *path, mode_t type)
{
        bool root = u->flags & LAYER_UNPACK_OWNER_ROOT;
        if (fchownat(pfd, name, root ? 0 : archive_entry_uid(e), root ? 0 : archive_entry_gid(e),
                     AT_SYMLINK_NOFOLLOW) < 0)
                return err_errno(u->err, -errno, "tar entry '%s': chown", path);
        if (type != AE_IFLNK && fchmodat(pfd, name, archive_entry_perm(e), 0) < 0)
                return err_errno(u->err, -errno, "tar entry '%s': chmod", path);
        int r = set_xattrs(u, e, pfd, name, path);
        if (r < 0)
                return r;
        struct timespec ts[2] = {
            {archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e),
             archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
                                           : archive_entry_mtime_nsec(e)},
            {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
        };
        if (type == AE_IFDIR) {
                /* later entries inside it would change the times again */
                u->dirs = xrealloc(u->dirs, (u->n_dirs + 1) * sizeof(*u->dirs));
                u->dirs[u->n_dirs].path = xstrdup(path);
                memcpy(u->dirs[u->n_dirs].ts, ts, sizeof(ts));
                u->n_dirs++;
                return 0;
        }
        if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return err_errno(u->err, -errno, "tar entry '%s': set times", path);
        return 0;
}

static int write_data(struct unpack *u, struct archive *a, int fd, const char *path, int64_t size)
{
        const void *buf;
        size_t len;
        la_int64_t off;
        int r;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                if (off < 0 || off + (int64_t)len > size)
                        return err_set(u->err, -EINVAL, "tar entry '%s': data beyond its size",
                                       path);
                const char *b = buf;
                while (len > 0) {
                        ssize_t n = pwrite(fd, b, len, off);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return err_errno(u->err, -errno, "tar entry '%s': write", path);
                        }
                        b += n, len -= (size_t)n, off += n;
                }
        }
        if (r != ARCHIVE_EOF)
                return err_set(u->err, -EINVAL,
                               u->flags & LAYER_UNPACK_CONTEXT
                                   ? "the build context tar is truncated or corrupt (at '%s': %s)"
                                   : "invalid or truncated layer tar at '%s': %s",
                               path, strempty(archive_error_string(a)));
        if (ftruncate(fd, size) < 0) /* a sparse file's trailing hole */
                return err_errno(u->err, -errno, "tar entry '%s': truncate", path);
        return 0;
}

static int whiteout(struct unpack *u, struct archive_entry *e, const char *path, int pfd,
                    const char *name)
{
        const char *dir_end = strrchr(path, '/');
        _cleanup_free_ char *dir = dir_end ? xstrndup(path, (size_t)(dir_end - path)) : NULL;

        if (streq(name, WH_OPAQUE)) {
                if (u->mode == BERTH_LAYER_WH_OVERLAY) {
                        if (fsetxattr(pfd, OVL_OPAQUE_XATTR, "y", 1, 0) < 0)
                                return err_errno(u->err, -errno,
                                                 "opaque directory '%s': set " OVL_OPAQUE_XATTR,
                                                 strempty(dir));
                        return 0;
                }
                /* Full copy: everything the parent layers put in the directory
                 * goes; what this layer put there already stays. */
                int fd = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                int r = rm_children_at(fd, dir, u->seen);
                if (r < 0)
                        return err_errno(u->err, r, "opaque directory '%s'", strempty(dir));
                return 0;
        }
        const char *target = name + strlen(WH_PREFIX);
        if (!*target || streq(target, ".") || streq(target, "..") || strchr(target, '/'))
                return err_set(u->err, -EXDEV, "invalid whiteout entry '%s'", path);
        int r = rm_rf_at(pfd, target);
        if (r < 0 && r != -ENOENT)
                return err_errno(u->err, r, "whiteout '%s': remove '%s'", path, target);
        if (u->mode == BERTH_LAYER_WH_OVERLAY) {
                if (mknodat(pfd, target, S_IFCHR | 0000, makedev(0, 0)) < 0)
                        return err_errno(u->err, -errno, "whiteout '%s': mknod", path);
                if (fchownat(pfd, target, archive_entry_uid(e), archive_entry_gid(e),
                             AT_SYMLINK_NOFOLLOW) < 0)
                        return err_errno(u->err, -errno, "whiteout '%s': chown", path);
        }
        return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *e)
{
        const char *raw = archive_entry_pathname(e);
        if (!raw)
                return err_set(u->err, -EINVAL, "tar entry without a name");
        _cleanup_free_ char *path = NULL;
        if (layer_clean_path(raw, &path) < 0)
                return err_set(u->err, -EXDEV,
                               "tar entry '%s' would land outside %s (absolute path or '..')", raw,
                               u->what);
        if (!path) /* "./": the layer root itself */
                return 0;
        mode_t type = archive_entry_filetype(e);
        const char *hl = archive_entry_hardlink(e);
        int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
        if (size < 0 || size > u->free_bytes)
                return err_set(u->err, -EFBIG,
                               "tar entry '%s' declares %" PRId64 " bytes, more than the %" PRId64
                               " bytes free for %s",
                               path, size, u->free_bytes, u->what);

        _cleanup_close_ int pfd = -1;
        const char *name;
        int r = open_parent(u, path, true, &pfd, &name);
        if (r < 0)
                return r;

        if (startswith(name, WH_PREFIX) && !(u->flags & LAYER_UNPACK_COPY))
                return whiteout(u, e, path, pfd, name);

        json_object_set_new(u->seen, path, json_true());

        struct stat st;
        bool exists = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && (u->flags & LAYER_UNPACK_NO_TYPE_CHANGE) && !hl &&
            S_ISDIR(st.st_mode) != (type == AE_IFDIR))
                return err_set(u->err, -EEXIST,
                               S_ISDIR(st.st_mode)
                                   ? "cannot overwrite directory \"%s\" with non-directory"
                                   : "cannot overwrite non-directory \"%s\" with directory",
                               path);
        if (exists && !(hl == NULL && type == AE_IFDIR && S_ISDIR(st.st_mode))) {
                r = rm_rf_at(pfd, name);
                if (r < 0)
                        return err_errno(u->err, r, "tar entry '%s': replace", path);
                exists = false;
        }

        if (hl) {
                _cleanup_free_ char *target = NULL;
                if (layer_clean_path(hl, &target) < 0 || !target)
                        return err_set(u->err, -EXDEV, "hard link '%s' -> '%s' points outside %s",
                                       path, hl, u->what);
                _cleanup_close_ int tfd = -1;
                const char *tname;
                r = open_parent(u, target, false, &tfd, &tname);
                if (r < 0)
                        return r;
                if (linkat(tfd, tname, pfd, name, 0) < 0)
                        return err_errno(u->err, -errno, "hard link '%s' -> '%s'", path, target);
                return 0;
        }

        switch (type) {
        case AE_IFREG: {
                _cleanup_close_ int fd =
                    openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return err_errno(u->err, -errno, "tar entry '%s': create", path);
                r = write_data(u, a, fd, path, size);
                if (r < 0)
                        return r;
                u->size += size;
                u->free_bytes -= size;
                break;
        }
        case AE_IFDIR:
                if (!exists && mkdirat(pfd, name, 0700) < 0)
                        return err_errno(u->err, -errno, "tar entry '%s': mkdir", path);
                break;
        case AE_IFLNK: {
                const char *t = archive_entry_symlink(e);
                if (!t)
                        return err_set(u->err, -EINVAL, "symlink '%s' without a target", path);
                if (symlinkat(t, pfd, name) < 0)
                        return err_errno(u->err, -errno, "tar entry '%s': symlink", path);
                break;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                if (u->flags & LAYER_UNPACK_CONTEXT)
                        return err_set(u->err, -EINVAL, "'%s' is a %s", path,
                                       type == AE_IFIFO ? "FIFO" : "device file");
                if (mknodat(pfd, name, type | archive_entry_perm(e),
                            makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) < 0)
                        return err_errno(u->err, -errno, "tar entry '%s': mknod", path);
                break;
        default:
                if (type == AE_IFSOCK && (u->flags & LAYER_UNPACK_CONTEXT))
                        return err_set(u->err, -EINVAL, "'%s' is a socket", path);
                return err_set(u->err, -EINVAL, "tar entry '%s' has an unsupported type 0%o", path,
                               (unsigned)type);
        }
        return apply_meta(u, e, pfd, name, path, type);
}

/* The context's body as libarchive failed to read it: no format took the
 * first bytes (libarchive's FILE_FORMAT errno, EILSEQ: not a tar), or a
 * decompressor or the tar reader ran out of input or met garbage (MISC or a
 * later header). */
static int context_format_error(struct archive *a, bool first, struct berth_err *err)
{
        const char *why = strempty(archive_error_string(a));
        if (first && archive_format(a) == 0 && archive_errno(a) == EILSEQ)
                return err_set(err, -EINVAL, "the build context is not a tar archive (%s)", why);
        return err_set(err, -EINVAL, "the build context tar is truncated or corrupt (%s)", why);
}

/* A context that cannot be unpacked is the client's fault (a 400), but for
 * what the host ran out of. */
static int context_errno(int r)
{
        switch (r) {
        case -ENOSPC:
        case -EDQUOT:
        case -EFBIG:
        case -ENOMEM:
        case -EIO:
        case -EMFILE:
        case -ENFILE:
                return r;
        default:
                return -EINVAL;
        }
}

int tar_layer_unpack(int tar_fd, const char *dest, uint32_t mode, uint64_t flags, int64_t *ret_size,
                     struct berth_err *err)
{
        if (flags & ~(LAYER_UNPACK_COPY | LAYER_UNPACK_OWNER_ROOT | LAYER_UNPACK_NO_TYPE_CHANGE |
                      LAYER_UNPACK_CONTEXT))
                return err_set(err, -EINVAL, "layer_unpack: unknown flags 0x%" PRIx64, flags);
        if (mode != BERTH_LAYER_WH_OVERLAY && mode != BERTH_LAYER_WH_DELETE)
                return err_set(err, -EINVAL, "layer_unpack: unknown whiteout mode %u", mode);

        struct unpack u = {.mode = mode,
                           .flags = flags,
                           .what = flags & LAYER_UNPACK_CONTEXT ? "the context" : "the layer",
                           .err = err,
                           .seen = json_object()};
        struct statvfs sv;
        int r;
        struct archive *a = NULL;

        u.root_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (u.root_fd < 0) {
                r = err_errno(err, -errno, "open layer directory '%s'", dest);
                goto out;
        }
        u.free_bytes =
            fstatvfs(u.root_fd, &sv) == 0 ? (int64_t)(sv.f_bavail * sv.f_frsize) : INT64_MAX;
        a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_empty(a);
        if (archive_read_open_fd(a, tar_fd, 128 * 1024) != ARCHIVE_OK) {
                r = flags & LAYER_UNPACK_CONTEXT ? context_format_error(a, true, err)
                                                 : err_set(err, -EINVAL, "invalid layer tar: %s",
                                                           strempty(archive_error_string(a)));
                goto out;
        }
        for (bool first = true;; first = false) {
                struct archive_entry *e;
                int ar = archive_read_next_header(a, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
                        r = flags & LAYER_UNPACK_CONTEXT
                                ? context_format_error(a, first, err)
                                : err_set(err, -EINVAL, "invalid or truncated layer tar: %s",
                                          strempty(archive_error_string(a)));
                        goto out;
                }
                r = unpack_entry(&u, a, e);
                if (r < 0)
                        goto out;
        }
        /* Directory times last, deepest first. */
        for (size_t i = u.n_dirs; i-- > 0;) {
                _cleanup_close_ int pfd = -1;
                const char *name;
                if (open_parent(&u, u.dirs[i].path, false, &pfd, &name) < 0)
                        continue;
                (void)utimensat(pfd, name, u.dirs[i].ts, AT_SYMLINK_NOFOLLOW);
        }
        if (ret_size)
                *ret_size = u.size;
        r = 0;
out:
        if (r < 0 && (flags & LAYER_UNPACK_CONTEXT) &&
            !startswith(err_msg(err), "the build context"))
                r = err_wrap(err, context_errno(r), "build context");
        if (a)
                archive_read_free(a);
        safe_close(u.root_fd);
        for (size_t i = 0; i < u.n_dirs; i++)
                free(u.dirs[i].path);
        free(u.dirs);
        json_decref(u.seen);
        return r;
}

/* --- diff: the tar writer of layer_walk ----------------------------------- */

struct diff_writer {
        struct archive *out;
        json_t *links; /* "dev:ino" -> first path, for hard links */
};

static int diff_emit(void *w, const char *rel, const char *full, const struct stat *st,
                     const char *wh_name, struct berth_err *err)
{
        struct diff_writer *df = w;
        struct archive_entry *e = archive_entry_new();
        int r = 0;
        _cleanup_close_ int fd = -1;
        if (wh_name) {
                /* a whiteout: an empty file ".wh.NAME" beside where NAME was */
                const char *slash = strrchr(rel, '/');
                _cleanup_free_ char *p =
                    slash ? xasprintf("%.*s/%s%s", (int)(slash - rel), rel, WH_PREFIX, wh_name)
                          : xasprintf("%s%s", WH_PREFIX, wh_name);
                archive_entry_set_pathname(e, p);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, 0);
                if (st)
                        archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        } else {
                archive_entry_copy_stat(e, st);
                archive_entry_set_pathname(e, rel);
                archive_entry_unset_atime(e);
                archive_entry_unset_ctime(e);
                archive_entry_unset_birthtime(e);
                if (S_ISLNK(st->st_mode)) {
                        char buf[PATH_MAX];
                        ssize_t n = readlink(full, buf, sizeof(buf) - 1);
                        if (n < 0) {
                                r = err_errno(err, -errno, "readlink '%s'", full);
                                goto out;
                        }
                        buf[n] = '\0';
                        archive_entry_set_symlink(e, buf);
                } else if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
                        char key[64];
                        snprintf(key, sizeof(key), "%lu:%lu", (unsigned long)st->st_dev,
                                 (unsigned long)st->st_ino);
                        json_t *first = json_object_get(df->links, key);
                        if (first) {
                                archive_entry_set_hardlink(e, json_string_value(first));
                                archive_entry_set_size(e, 0);
                        } else
                                json_object_set_new(df->links, key, json_string(rel));
                }
                if (!S_ISLNK(st->st_mode)) {
                        char names[4096];
                        ssize_t nl = llistxattr(full, names, sizeof(names));
                        for (ssize_t i = 0; nl > 0 && i < nl; i += (ssize_t)strlen(names + i) + 1) {
                                const char *k = names + i;
                                if (startswith(k, "trusted.") || streq(k, "security.selinux"))
                                        continue;
                                char val[4096];
                                ssize_t vl = lgetxattr(full, k, val, sizeof(val));
                                if (vl >= 0)
                                        archive_entry_xattr_add_entry(e, k, val, (size_t)vl);
                        }
                }
                if (S_ISREG(st->st_mode) && archive_entry_size(e) > 0) {
                        fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0) {
                                r = err_errno(err, -errno, "open '%s'", full);
                                goto out;
                        }
                }
        }
        if (archive_write_header(df->out, e) != ARCHIVE_OK) {
                r = err_set(err, -EIO, "write tar header for '%s': %s", rel,
                            strempty(archive_error_string(df->out)));
                goto out;
        }
        if (fd >= 0) {
                char buf[128 * 1024];
                ssize_t n;
                while ((n = read(fd, buf, sizeof(buf))) > 0)
                        if (archive_write_data(df->out, buf, (size_t)n) != n) {
                                r = err_set(err, -EIO, "write tar data for '%s': %s", rel,
                                            strempty(archive_error_string(df->out)));
                                goto out;
                        }
                if (n < 0)
                        r = err_errno(err, -errno, "read '%s'", full);
        }
out:
        archive_entry_free(e);
        return r;
}

int tar_layer_diff(const char *dir, const char *const *lowers, uint32_t mode, int out_fd,
                   int64_t *ret_size, struct berth_err *err)
{
        struct diff_writer w = {.out = archive_write_new(), .links = json_object()};
        int r;
        archive_write_set_format_pax_restricted(w.out);
        archive_write_set_bytes_per_block(w.out, 0); /* no padding to 10 KiB */
        if (archive_write_open_fd(w.out, out_fd) != ARCHIVE_OK)
                r = err_set(err, -EIO, "open tar output: %s",
                            strempty(archive_error_string(w.out)));
        else
                r = layer_walk(dir, lowers, mode, diff_emit, &w, NULL, NULL, ret_size, err);
        if (r == 0 && archive_write_close(w.out) != ARCHIVE_OK)
                r = err_set(err, -EIO, "finish tar output: %s",
                            strempty(archive_error_string(w.out)));
        archive_write_free(w.out);
        json_decref(w.links);
        return r;
}
