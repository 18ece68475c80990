/* A tar of a tree, walked with O_NOFOLLOW descriptors from a directory
 * descriptor: what GET /containers/{id}/archive sends and what berth cp
 * uploads (through berth-tar, so that the CLI itself does not load
 * libarchive), and the sources of COPY and ADD. */
#include "tar-archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct tree {
        struct archive *a;
        /* COPY: overrides, the filter and xattrs (archive_write_copy) */
        int64_t uid, gid;
        int mode;
        archive_skip_fn skip;
        void *userdata;
        bool xattrs;
};

static int cmp_name(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in the directory d, sorted, so that the same tree gives the
 * same tar. */
static int sorted_names(DIR *d, char ***ret, size_t *ret_n)
{
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        if (n == cap) {
                                cap = cap ? cap * 2 : 16;
                                v = xrealloc(v, cap * sizeof(char *));
                        }
                        v[n++] = xstrdup(de->d_name);
                }
                errno = 0;
        }
        if (errno) {
                int r = -errno;
                for (size_t i = 0; i < n; i++)
                        free(v[i]);
                free(v);
                return r;
        }
        if (n > 1)
                qsort(v, n, sizeof(char *), cmp_name);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The xattrs COPY keeps: not trusted.* (overlayfs' own) nor the host's
 * SELinux label, as the layer diff leaves them out. From fd when the entry
 * is open, else from name in pfd, not followed. */
static void add_xattrs(struct archive_entry *e, int fd, int pfd, const char *name)
{
        _cleanup_free_ char *path = fd >= 0 ? NULL : xasprintf("/proc/self/fd/%d/%s", pfd, name);
        char names[4096];
        ssize_t nl =
            fd >= 0 ? flistxattr(fd, names, sizeof(names)) : llistxattr(path, names, sizeof(names));
        for (ssize_t i = 0; nl > 0 && i < nl; i += (ssize_t)strlen(names + i) + 1) {
                const char *k = names + i;
                if (startswith(k, "trusted.") || streq(k, "security.selinux"))
                        continue;
                char val[4096];
                ssize_t vl = fd >= 0 ? fgetxattr(fd, k, val, sizeof(val))
                                     : lgetxattr(path, k, val, sizeof(val));
                if (vl >= 0)
                        archive_entry_xattr_add_entry(e, k, val, (size_t)vl);
        }
}

/* name in pfd ("" for pfd itself) as arcname (NULL: not written, its
 * children named without a prefix); rel: its path in the source, for the
 * filter ("" for the source itself). */
static int tar_add(struct tree *t, int pfd, const char *name, const char *arcname, const char *rel,
                   struct berth_err *err)
{
        struct archive *a = t->a;
        struct stat st;
        int flags = *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
        if (fstatat(pfd, name, &st, flags) < 0)
                return err_errno(err, -errno, "stat '%s'", arcname ? arcname : rel);
        if (S_ISSOCK(st.st_mode)) /* as tar does: sockets are not archived */
                return 0;
        bool write = arcname != NULL;
        if (t->skip && *rel) {
                bool descend = false;
                if (t->skip(t->userdata, rel, S_ISDIR(st.st_mode), &descend)) {
                        if (!S_ISDIR(st.st_mode) || !descend)
                                return 0;
                        write = false; /* but what an exception keeps inside */
                }
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_nlink(e, 1);
        if (arcname)
                archive_entry_set_pathname(e, arcname);
        if (t->uid >= 0)
                archive_entry_set_uid(e, t->uid);
        if (t->gid >= 0)
                archive_entry_set_gid(e, t->gid);
        if (t->mode >= 0 && !S_ISLNK(st.st_mode))
                archive_entry_set_perm(e, (mode_t)t->mode);
        int r = 0, fd = -1;
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(pfd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        archive_entry_free(e);
                        return err_errno(err, -errno, "readlink '%s'", arcname);
                }
                target[n] = '\0';
                archive_entry_set_symlink(e, target);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                /* a followed path was opened O_PATH: reopen it for reading */
                if (*name)
                        fd = openat(pfd, name,
                                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                        (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                else {
                        _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", pfd);
                        fd =
                            open(p, O_RDONLY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                }
                if (fd < 0) {
                        archive_entry_free(e);
                        return err_errno(err, -errno, "open '%s'", arcname ? arcname : rel);
                }
        }
        if (t->xattrs && write && !S_ISLNK(st.st_mode))
                add_xattrs(e, fd, pfd, name);
        if (write && archive_write_header(a, e) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar '%s': %s", arcname, strempty(archive_error_string(a)));
        archive_entry_free(e);
        if (r >= 0 && write && S_ISREG(st.st_mode)) {
                char buf[65536];
                int64_t left = st.st_size;
                while (left > 0) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) /* it shrank: pad, the header is out already */
                                break;
                        if (n > left)
                                n = (ssize_t)left;
                        if (archive_write_data(a, buf, (size_t)n) < 0) {
                                r = err_set(err, -EIO, "tar '%s': %s", arcname,
                                            strempty(archive_error_string(a)));
                                break;
                        }
                        left -= n;
                }
        }
        if (r >= 0 && S_ISDIR(st.st_mode)) {
                DIR *d = fdopendir(fd);
                char **names = NULL;
                size_t n = 0;
                if (!d) {
                        r = err_errno(err, -errno, "read directory '%s'", arcname ? arcname : rel);
                } else {
                        fd = -1;
                        r = sorted_names(d, &names, &n);
                        if (r < 0)
                                r = err_errno(err, r, "read directory '%s'",
                                              arcname ? arcname : rel);
                }
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        _cleanup_free_ char *child =
                            arcname ? xasprintf("%s/%s", arcname, names[i]) : xstrdup(names[i]);
                        _cleanup_free_ char *crel =
                            *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
                        r = tar_add(t, dirfd(d), names[i], child, crel, err);
                }
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                if (d)
                        closedir(d);
        }
        safe_close(fd);
        return r;
}

static int write_tar(struct tree *t, int dirfd, const char *name, const char *top, int out_fd,
                     struct berth_err *err)
{
        t->a = archive_write_new();
        int r;
        archive_write_set_format_pax_restricted(t->a);
        if (archive_write_open_fd(t->a, out_fd) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(t->a)));
        else {
                r = tar_add(t, dirfd, name, top, "", err);
                if (archive_write_close(t->a) != ARCHIVE_OK && r >= 0)
                        r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(t->a)));
        }
        archive_write_free(t->a);
        return r;
}

int archive_write_tree(int dirfd, const char *name, const char *top, int out_fd,
                       struct berth_err *err)
{
        struct tree t = {.uid = -1, .gid = -1, .mode = -1};
        return write_tar(&t, dirfd, name, top, out_fd, err);
}

int archive_write_copy(int dirfd, const char *name, const char *top, int64_t uid, int64_t gid,
                       int mode, archive_skip_fn skip, void *userdata, int out_fd,
                       struct berth_err *err)
{
        struct tree t = {.uid = uid,
                         .gid = gid,
                         .mode = mode,
                         .skip = skip,
                         .userdata = userdata,
                         .xattrs = true};
        const char *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        _cleanup_free_ char *parent = slash ? xstrndup(name, (size_t)(slash - name)) : xstrdup("");
        _cleanup_close_ int pfd = -1;
        /* the parent resolved inside dirfd (a symlink on the way cannot
         * lead out), the source itself never followed */
        if (!*base || streq(base, ".") || streq(base, "..")) {
                pfd = openat_in_root(dirfd, name, O_PATH | O_DIRECTORY);
                base = "";
        } else
                pfd = openat_in_root(dirfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return err_errno(err, pfd, "COPY source '%s'", name);
        struct stat st;
        if (fstatat(pfd, base, &st, *base ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
                return err_errno(err, -errno, "COPY source '%s'", name);
        const char *arcname;
        if (S_ISDIR(st.st_mode)) {
                arcname = *top ? top : NULL;
        } else {
                arcname = *top ? top : base;
                bool descend;
                if (skip && skip(userdata, base, false, &descend))
                        name = NULL; /* an empty tar */
        }
        if (!name) {
                struct archive *a = archive_write_new();
                archive_write_set_format_pax_restricted(a);
                int r = 0;
                if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK ||
                    archive_write_close(a) != ARCHIVE_OK)
                        r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(a)));
                archive_write_free(a);
                return r;
        }
        return write_tar(&t, pfd, base, arcname, out_fd, err);
}
