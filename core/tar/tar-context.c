/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side of a build context (berth build PATH): the directory as
 * the docker CLI tars it. Names are walked in byte order (Go's
 * filepath.Walk), owners are 0:0, .dockerignore is applied as the CLI
 * applies it, and a Dockerfile from outside the context is added last
 * under a name of its own, listed in the .dockerignore that is sent. */
#include "tar-archive.h"
#include "build/build-ignore.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ctx_walk {
        struct archive *a;
        const struct build_ignore *ig;
        const char *extra_name; /* the added Dockerfile's name, or NULL */
        bool ignore_seen;       /* the .dockerignore entry was written */
        int64_t files;
};

static int cmp_names(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in the directory fd, sorted; NULL-terminated. */
static int sorted_names(int fd, char ***ret, struct berth_err *err, const char *what)
{
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0)
                return err_errno(err, -errno, "read directory '%s'", what);
        DIR *d = fdopendir(dfd);
        if (!d) {
                int r = err_errno(err, -errno, "read directory '%s'", what);
                close(dfd);
                return r;
        }
        rewinddir(d);
        char **v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 2 > cap) {
                        cap = cap ? cap * 2 : 16;
                        v = xrealloc(v, cap * sizeof(char *));
                }
                v[n++] = xstrdup(de->d_name);
                errno = 0;
        }
        int r = errno ? err_errno(err, -errno, "read directory '%s'", what) : 0;
        closedir(d);
        if (!v)
                v = xzalloc(sizeof(char *));
        v[n] = NULL;
        qsort(v, n, sizeof(char *), cmp_names);
        if (r < 0) {
                strv_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

static int write_header(struct ctx_walk *w, struct archive_entry *e, const char *rel,
                        struct berth_err *err)
{
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_uname(e, "root");
        archive_entry_set_gname(e, "root");
        if (archive_write_header(w->a, e) != ARCHIVE_OK)
                return err_set(err, -EIO, "tar '%s': %s", rel,
                               strempty(archive_error_string(w->a)));
        w->files++;
        return 0;
}

static int write_data(struct ctx_walk *w, const void *p, size_t n, const char *rel,
                      struct berth_err *err)
{
        if (n && archive_write_data(w->a, p, n) < 0)
                return err_set(err, -EIO, "tar '%s': %s", rel,
                               strempty(archive_error_string(w->a)));
        return 0;
}

/* The content of fd, all of it (a Dockerfile or the .dockerignore). */
static int read_all(int fd, char **ret, size_t *ret_len)
{
        size_t len = 0, cap = 4096;
        char *b = xmalloc(cap);
        for (;;) {
                if (len == cap)
                        b = xrealloc(b, cap *= 2);
                ssize_t n = read(fd, b + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(b);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        *ret = b;
        *ret_len = len;
        return 0;
}

static int add_regular(struct ctx_walk *w, struct archive_entry *e, int pfd, const char *name,
                       const char *rel, const struct stat *st, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return err_errno(err, -errno, "open '%s'", rel);
        if (w->extra_name && streq(rel, ".dockerignore")) {
                /* the added Dockerfile is listed, so that the daemon drops it
                 * from the context as it drops the Dockerfile */
                _cleanup_free_ char *data = NULL;
                size_t len;
                int r = read_all(fd, &data, &len);
                if (r < 0)
                        return err_errno(err, r, "read '%s'", rel);
                _cleanup_free_ char *tail = xasprintf("\n%s\n", w->extra_name);
                archive_entry_set_size(e, (int64_t)(len + strlen(tail)));
                w->ignore_seen = true;
                if ((r = write_header(w, e, rel, err)) < 0 ||
                    (r = write_data(w, data, len, rel, err)) < 0)
                        return r;
                return write_data(w, tail, strlen(tail), rel, err);
        }
        int r = write_header(w, e, rel, err);
        if (r < 0)
                return r;
        char buf[65536];
        int64_t left = st->st_size;
        while (left > 0) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return err_errno(err, -errno, "read '%s'", rel);
                if (n == 0) /* it shrank: libarchive pads, the header is out */
                        break;
                if (n > left)
                        n = (ssize_t)left;
                if ((r = write_data(w, buf, (size_t)n, rel, err)) < 0)
                        return r;
                left -= n;
        }
        return 0;
}

static int walk(struct ctx_walk *w, int dfd, const char *prefix, struct berth_err *err);

static void ignore_freep(struct build_ignore **p)
{
        build_ignore_free(*p);
}

/* One entry of the directory pfd; rel is its path in the context. */
static int add_one(struct ctx_walk *w, int pfd, const char *name, const char *rel,
                   struct berth_err *err)
{
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return err_errno(err, -errno, "stat '%s'", rel);
        bool excluded = w->ig && build_ignore_match(w->ig, rel, S_ISDIR(st.st_mode));
        if (excluded && !S_ISDIR(st.st_mode))
                return 0;
        if (excluded && !build_ignore_may_include_under(w->ig, rel))
                return 0;
        if (S_ISSOCK(st.st_mode)) /* as Go's tar writer: sockets are not archived */
                return 0;
        int r = 0;
        if (!excluded) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_copy_stat(e, &st);
                archive_entry_set_nlink(e, 1);
                archive_entry_set_pathname(e, rel);
                if (S_ISLNK(st.st_mode)) {
                        char t[4096];
                        ssize_t n = readlinkat(pfd, name, t, sizeof(t) - 1);
                        if (n < 0)
                                r = err_errno(err, -errno, "readlink '%s'", rel);
                        else {
                                t[n] = '\0';
                                archive_entry_set_symlink(e, t);
                                r = write_header(w, e, rel, err);
                        }
                } else if (S_ISREG(st.st_mode))
                        r = add_regular(w, e, pfd, name, rel, &st, err);
                else {
                        if (!S_ISDIR(st.st_mode))
                                archive_entry_set_size(e, 0);
                        r = write_header(w, e, rel, err);
                }
                archive_entry_free(e);
        }
        if (r < 0 || !S_ISDIR(st.st_mode))
                return r;
        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return err_errno(err, -errno, "open '%s'", rel);
        return walk(w, fd, rel, err);
}

static int walk(struct ctx_walk *w, int dfd, const char *prefix, struct berth_err *err)
{
        _cleanup_strv_ char **names = NULL;
        int r = sorted_names(dfd, &names, err, *prefix ? prefix : ".");
        if (r < 0)
                return r;
        for (char **n = names; *n && r >= 0; n++) {
                _cleanup_free_ char *rel = *prefix ? xasprintf("%s/%s", prefix, *n) : xstrdup(*n);
                r = add_one(w, dfd, *n, rel, err);
        }
        return r;
}

/* The Dockerfile from outside the context, and a .dockerignore naming it
 * when the context has none (the docker CLI's AddDockerfileToBuildContext). */
static int add_extra(struct ctx_walk *w, int extra_fd, struct berth_err *err)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_all(extra_fd, &data, &len);
        if (r < 0)
                return err_errno(err, r, "read the Dockerfile");
        time_t now = time(NULL);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, w->extra_name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0600);
        archive_entry_set_size(e, (int64_t)len);
        archive_entry_set_mtime(e, now, 0);
        r = write_header(w, e, w->extra_name, err);
        archive_entry_free(e);
        if (r >= 0)
                r = write_data(w, data, len, w->extra_name, err);
        if (r < 0 || w->ignore_seen)
                return r;
        _cleanup_free_ char *ign = xasprintf(".dockerignore\n%s\n", w->extra_name);
        e = archive_entry_new();
        archive_entry_set_pathname(e, ".dockerignore");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0600);
        archive_entry_set_size(e, (int64_t)strlen(ign));
        archive_entry_set_mtime(e, now, 0);
        r = write_header(w, e, ".dockerignore", err);
        archive_entry_free(e);
        if (r >= 0)
                r = write_data(w, ign, strlen(ign), ".dockerignore", err);
        return r;
}

int archive_write_context(int dirfd, const char *dockerfile, const char *extra_name, int extra_fd,
                          int out_fd, int64_t *ret_files, int64_t *ret_bytes, struct berth_err *err)
{
        _cleanup_(ignore_freep) struct build_ignore *ig = NULL;
        _cleanup_close_ int ifd = openat(dirfd, ".dockerignore", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *idata = NULL;
        size_t ilen = 0;
        int r;
        if (ifd < 0 && errno != ENOENT)
                return err_errno(err, -errno, "open '.dockerignore'");
        if (ifd >= 0 && (r = read_all(ifd, &idata, &ilen)) < 0)
                return err_errno(err, r, "read '.dockerignore'");
        if (ifd >= 0) {
                if ((r = build_ignore_parse(idata, ilen, &ig, err)) < 0)
                        return err_prefix(err, "error checking context: .dockerignore");
                /* a Dockerfile from outside the context is not kept under
                 * its name in the context, as with the docker CLI */
                if (extra_name) {
                        if (build_ignore_match(ig, ".dockerignore", false))
                                build_ignore_add(ig, "!.dockerignore", NULL);
                } else
                        build_ignore_keep_build_files(ig, dockerfile);
        }
        struct ctx_walk w = {.ig = ig, .extra_name = extra_name};
        w.a = archive_write_new();
        archive_write_set_format_pax_restricted(w.a);
        if (archive_write_open_fd(w.a, out_fd) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(w.a)));
        else {
                r = walk(&w, dirfd, "", err);
                if (r >= 0 && extra_name)
                        r = add_extra(&w, extra_fd, err);
                if (archive_write_close(w.a) != ARCHIVE_OK && r >= 0)
                        r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(w.a)));
        }
        if (ret_bytes)
                *ret_bytes = archive_filter_bytes(w.a, -1);
        archive_write_free(w.a);
        if (ret_files)
                *ret_files = w.files;
        return r;
}
