/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side of a build context (berth build PATH): the directory as
 * the docker CLI tars it. Names are walked in byte order (Go's
 * filepath.Walk), owners are 0:0, the caller's filter (.dockerignore)
 * decides what is left out, and a Dockerfile from outside the context is added last
 * under a name of its own, listed in the .dockerignore that is sent. */
#include "tar-archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* The docker CLI writes the file type bits in the header's mode field
 * (0100644, not 0644), and the classic builder's COPY cache key (a tarsum
 * of the headers) includes that field: the headers are patched as they
 * pass, so that the same context hashes the same from either client. */
struct ctx_out {
        int fd;
        z_stream *z; /* --compress: gzip on the way out */
        int64_t bytes;
        int64_t skip; /* data bytes before the next header */
        char *buf;
        size_t cap;
};

static int64_t tar_number(const unsigned char *f, size_t n)
{
        int64_t v = 0;
        if (f[0] & 0x80) { /* base-256 */
                v = f[0] & 0x3f;
                for (size_t i = 1; i < n; i++)
                        v = (v << 8) | f[i];
                return v;
        }
        while (n && *f == ' ')
                f++, n--;
        for (size_t i = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++)
                v = v * 8 + (f[i] - '0');
        return v;
}

static void patch_header(unsigned char *h)
{
        unsigned type;
        switch (h[156]) {
        case '0':
        case '\0':
        case '1':
        case '7':
                type = 0100000;
                break;
        case '2':
                type = 0120000;
                break;
        case '3':
                type = 020000;
                break;
        case '4':
                type = 060000;
                break;
        case '5':
                type = 040000;
                break;
        case '6':
                type = 010000;
                break;
        default:
                return;
        }
        unsigned mode = (unsigned)tar_number(h + 100, 8) & 07777;
        char f[9];
        snprintf(f, sizeof(f), "%07o", mode | type);
        memcpy(h + 100, f, 8);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < 512; i++)
                sum += h[i];
        snprintf(f, sizeof(f), "%06o", sum);
        memcpy(h + 148, f, 7); /* six digits, NUL, and the space left */
}

/* n bytes to the fd, through gzip if asked; -1 with errno */
static int out_send(struct ctx_out *o, const void *p, size_t n, bool finish)
{
        if (!o->z) {
                if (loop_write(o->fd, p, n) < 0)
                        return -1;
                o->bytes += (int64_t)n;
                return 0;
        }
        unsigned char zbuf[65536];
        o->z->next_in = (Bytef *)p;
        o->z->avail_in = (uInt)n;
        int zr;
        do {
                o->z->next_out = zbuf;
                o->z->avail_out = sizeof(zbuf);
                zr = deflate(o->z, finish ? Z_FINISH : Z_NO_FLUSH);
                if (zr == Z_STREAM_ERROR) {
                        errno = EIO;
                        return -1;
                }
                size_t have = sizeof(zbuf) - o->z->avail_out;
                if (have && loop_write(o->fd, zbuf, have) < 0)
                        return -1;
                o->bytes += (int64_t)have;
        } while (o->z->avail_out == 0 || (finish && zr != Z_STREAM_END));
        return 0;
}

static la_ssize_t out_write(struct archive *a, void *ud, const void *data, size_t n)
{
        struct ctx_out *o = ud;
        (void)a;
        if (n > o->cap) {
                o->buf = xrealloc(o->buf, n);
                o->cap = n;
        }
        memcpy(o->buf, data, n);
        /* libarchive hands whole blocks of 512-byte records */
        for (size_t off = 0; n % 512 == 0 && off < n; off += 512) {
                unsigned char *h = (unsigned char *)o->buf + off;
                if (o->skip > 0) {
                        o->skip -= 512;
                        continue;
                }
                bool zero = true;
                for (size_t i = 0; i < 512 && zero; i++)
                        zero = h[i] == 0;
                if (zero)
                        continue;
                int64_t size = tar_number(h + 124, 12);
                patch_header(h);
                o->skip = (size + 511) / 512 * 512;
        }
        if (out_send(o, o->buf, n, false) < 0) {
                archive_set_error(a, errno, "write the context: %s", strerror(errno));
                return -1;
        }
        return (la_ssize_t)n;
}

static int out_close(struct archive *a, void *ud)
{
        struct ctx_out *o = ud;
        if (o->z && out_send(o, NULL, 0, true) < 0) {
                archive_set_error(a, errno, "write the context: %s", strerror(errno));
                return ARCHIVE_FATAL;
        }
        return ARCHIVE_OK;
}

struct ctx_walk {
        struct archive *a;
        const struct tar_context_filter *ig; /* NULL: everything */
        const char *extra_name;              /* the added Dockerfile's name, or NULL */
        bool ignore_seen;                    /* the .dockerignore entry was written */
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

/* the owner's names stay (the docker CLI looks them up; only the numbers
 * become 0), so that the header sums match its context's */
static void set_names(struct archive_entry *e, uid_t uid, gid_t gid)
{
        static uid_t last_uid = (uid_t)-1;
        static gid_t last_gid = (gid_t)-1;
        static char uname[64], gname[64];
        if (uid != last_uid) {
                struct passwd *pw = getpwuid(uid);
                snprintf(uname, sizeof(uname), "%s", pw ? pw->pw_name : "");
                last_uid = uid;
        }
        if (gid != last_gid) {
                struct group *gr = getgrgid(gid);
                snprintf(gname, sizeof(gname), "%s", gr ? gr->gr_name : "");
                last_gid = gid;
        }
        archive_entry_set_uname(e, uname);
        archive_entry_set_gname(e, gname);
}

static int write_header(struct ctx_walk *w, struct archive_entry *e, const char *rel,
                        struct berth_err *err)
{
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
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

/* One entry of the directory pfd; rel is its path in the context. */
static int add_one(struct ctx_walk *w, int pfd, const char *name, const char *rel,
                   struct berth_err *err)
{
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return err_errno(err, -errno, "stat '%s'", rel);
        bool excluded = w->ig && w->ig->excluded(w->ig->userdata, rel, S_ISDIR(st.st_mode));
        if (excluded && !S_ISDIR(st.st_mode))
                return 0;
        if (excluded && !w->ig->may_include_under(w->ig->userdata, rel))
                return 0;
        if (S_ISSOCK(st.st_mode)) /* as Go's tar writer: sockets are not archived */
                return 0;
        int r = 0;
        if (!excluded) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_copy_stat(e, &st);
                archive_entry_set_nlink(e, 1);
                set_names(e, st.st_uid, st.st_gid);
                /* times to the second, no atime or ctime, as the docker CLI */
                archive_entry_unset_atime(e);
                archive_entry_unset_ctime(e);
                archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
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

int archive_write_context(int dirfd, const struct tar_context_filter *filter,
                          const char *extra_name, int extra_fd, bool gzip, int out_fd,
                          int64_t *ret_files, int64_t *ret_bytes, struct berth_err *err)
{
        int r;
        struct ctx_walk w = {.ig = filter, .extra_name = extra_name};
        struct ctx_out out = {.fd = out_fd};
        z_stream z = {0};
        if (gzip) {
                /* windowBits 15 + 16: a gzip wrapper */
                if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8,
                                 Z_DEFAULT_STRATEGY) != Z_OK)
                        return err_set(err, -ENOMEM, "gzip the context: deflateInit2 failed");
                out.z = &z;
        }
        w.a = archive_write_new();
        archive_write_set_format_pax_restricted(w.a);
        /* records only, no padding to a block: the docker CLI's size */
        archive_write_set_bytes_per_block(w.a, 10240);
        archive_write_set_bytes_in_last_block(w.a, 1);
        if (archive_write_open(w.a, &out, NULL, out_write, out_close) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(w.a)));
        else {
                r = walk(&w, dirfd, "", err);
                if (r >= 0 && extra_name)
                        r = add_extra(&w, extra_fd, err);
                if (archive_write_close(w.a) != ARCHIVE_OK && r >= 0)
                        r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(w.a)));
        }
        archive_write_free(w.a);
        if (gzip)
                deflateEnd(&z);
        free(out.buf);
        if (ret_bytes)
                *ret_bytes = out.bytes;
        if (ret_files)
                *ret_files = w.files;
        return r;
}
