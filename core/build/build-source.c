/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* COPY and ADD sources (build-source.h). Everything is reached from the
 * root descriptor: a plain path through openat2(RESOLVE_IN_ROOT), a glob
 * and the digest's walk one component at a time with O_NOFOLLOW, so a
 * symlink in the context (or in a stage's rootfs) never leads outside it. */
#include "build-source.h"
#include "build-internal.h"
#include "base/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* --- glob ----------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Docker's containsWildcards: an unescaped '*', '?' or '['. A path with
 * only escapes is a plain path, backslashes and all. */
static bool has_glob_chars(const char *s)
{
        for (; *s; s++) {
                if (*s == '\\' && s[1])
                        s++;
                else if (*s == '*' || *s == '?' || *s == '[')
                        return true;
        }
        return false;
}

/* The names in the directory fd (sorted, as Go's filepath.Walk visits
 * them); the fd is consumed. */
static int read_names(int fd, struct build_strlist *ret)
{
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct build_strlist l = {0};
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        build_strlist_push(&l, xstrdup(de->d_name));
                errno = 0;
        }
        int r = errno ? -errno : 0;
        closedir(d);
        if (r < 0) {
                build_strlist_done(&l);
                return r;
        }
        if (l.n > 1)
                qsort(l.v, l.n, sizeof(char *), cmp_name);
        *ret = l;
        return 0;
}

struct glob_walk {
        struct build_glob **comps; /* NULL for a literal component */
        char **lits;               /* literal components (escapes kept out) */
        size_t n;
        struct build_strlist out;
};

/* Component i of the pattern under the directory dfd, whose path is
 * prefix ("" for the root). Directories are entered with O_NOFOLLOW: a
 * symlink to a directory is not walked into, as Go's filepath.Walk does not
 * (so it cannot lead out of the root either). */
static int glob_at(struct glob_walk *w, int dfd, const char *prefix, size_t i)
{
        bool last = i + 1 == w->n;
        if (!w->comps[i]) {
                const char *name = w->lits[i];
                _cleanup_free_ char *path =
                    *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
                if (last) {
                        struct stat st;
                        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                build_strlist_push(&w->out, TAKE_PTR(path));
                        return 0;
                }
                _cleanup_close_ int fd =
                    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return 0;
                return glob_at(w, fd, path, i + 1);
        }
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct build_strlist names = {0};
        int r = read_names(fd, &names);
        if (r < 0)
                return r;
        for (size_t k = 0; k < names.n && r == 0; k++) {
                const char *name = names.v[k];
                if (!build_glob_match(w->comps[i], name))
                        continue;
                _cleanup_free_ char *path =
                    *prefix ? xasprintf("%s/%s", prefix, name) : xstrdup(name);
                if (last) {
                        build_strlist_push(&w->out, TAKE_PTR(path));
                        continue;
                }
                _cleanup_close_ int cfd =
                    openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (cfd >= 0)
                        r = glob_at(w, cfd, path, i + 1);
        }
        build_strlist_done(&names);
        return r;
}

/* The component with its escapes removed (it has no other glob character). */
static char *unescape(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        for (; *s; s++) {
                if (*s == '\\' && s[1])
                        s++;
                *o++ = *s;
        }
        *o = 0;
        return out;
}

int build_source_glob(int rootfd, const char *pattern, char ***ret, struct berth_err *err)
{
        /* cleaned as if rooted: ".." cannot climb above the root */
        _cleanup_free_ char *rooted = xasprintf("/%s", pattern);
        _cleanup_free_ char *cleaned = path_clean(rooted);
        const char *path = cleaned[1] ? cleaned + 1 : ".";

        if (!has_glob_chars(path)) {
                _cleanup_close_ int fd = openat_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
                if (fd < 0)
                        return err_set(err, -ENOENT,
                                       "file not found in build context or excluded by "
                                       ".dockerignore: stat %s: file does not exist",
                                       path);
                char **v = strv_push(NULL, xstrdup(path));
                *ret = v;
                return 0;
        }

        _cleanup_strv_ char **parts = strv_split(path, "/");
        struct glob_walk w = {.n = strv_length(parts)};
        w.comps = xzalloc(w.n * sizeof(*w.comps));
        w.lits = xzalloc(w.n * sizeof(*w.lits));
        int r = 0;
        for (size_t i = 0; i < w.n && r == 0; i++) {
                /* a component with only escapes is literal, as Go's Match
                 * reads it; an escape before nothing is a bad pattern */
                if (strpbrk(parts[i], "*?[") || endswith(parts[i], "\\"))
                        r = build_glob_new(parts[i], &w.comps[i]);
                else if (strchr(parts[i], '\\'))
                        w.lits[i] = unescape(parts[i]);
                else
                        w.lits[i] = xstrdup(parts[i]);
        }
        if (r < 0)
                r = err_set(err, -EINVAL, "syntax error in pattern");
        else {
                _cleanup_close_ int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
                r = fd < 0 ? err_errno(err, -errno, "dup") : glob_at(&w, fd, "", 0);
                if (r < 0)
                        r = err_errno(err, r, "COPY source '%s'", pattern);
                else if (w.out.n == 0)
                        r = err_set(err, -ENOENT, "no source files were specified");
        }
        for (size_t i = 0; i < w.n; i++) {
                build_glob_free(w.comps[i]);
                free(w.lits[i]);
        }
        free(w.comps);
        free(w.lits);
        if (r < 0) {
                build_strlist_done(&w.out);
                return r;
        }
        *ret = TAKE_PTR(w.out.v);
        return 0;
}

/* --- resolve -------------------------------------------------------------- */

static char *fd_path(int fd)
{
        char proc[64], buf[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        return xstrdup(buf);
}

int build_source_resolve(int rootfd, const char *path, char **ret, struct berth_err *err)
{
        _cleanup_close_ int fd = openat_in_root(rootfd, path, O_PATH);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP) {
                _cleanup_free_ char *rooted = xasprintf("/%s", path);
                _cleanup_free_ char *cleaned = path_clean(rooted);
                return err_set(err, -ENOENT,
                               "file not found in build context or excluded by .dockerignore: "
                               "stat %s: file does not exist",
                               cleaned[1] ? cleaned + 1 : ".");
        }
        if (fd < 0)
                return err_errno(err, fd, "COPY source '%s'", path);
        /* the kernel's name of what it found, below the root's */
        _cleanup_free_ char *root = fd_path(rootfd), *found = fd_path(fd);
        if (!root || !found)
                return err_errno(err, -errno ?: -EIO, "COPY source '%s': read its path", path);
        size_t rl = streq(root, "/") ? 0 : strlen(root);
        if (strncmp(found, root, rl) != 0 || (found[rl] && found[rl] != '/'))
                return err_set(err, -EXDEV, "COPY source '%s' resolved outside the root ('%s')",
                               path, found);
        const char *rel = found + rl;
        while (*rel == '/')
                rel++;
        *ret = xstrdup(*rel ? rel : ".");
        return 0;
}

/* --- digest --------------------------------------------------------------- */

struct digest_walk {
        struct hasher h;
        bool keep_owner;
        struct berth_err *err;
        char buf[64 * 1024];
};

/* Each field ends with a NUL, so no two different entries hash alike. */
static void add_field(struct digest_walk *w, const char *fmt, ...) _printf_(2, 3);
static void add_field(struct digest_walk *w, const char *fmt, ...)
{
        char small[128];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(small)) {
                hasher_update(&w->h, small, (size_t)n + 1);
                return;
        }
        _cleanup_free_ char *big = NULL;
        va_start(ap, fmt);
        n = vasprintf(&big, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        hasher_update(&w->h, big, (size_t)n + 1);
}

static ssize_t list_xattrs(int fd, const char *path, char *buf, size_t size)
{
        return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(path, buf, size);
}

static ssize_t get_xattr(int fd, const char *path, const char *k, void *buf, size_t size)
{
        return fd >= 0 ? fgetxattr(fd, k, buf, size) : lgetxattr(path, k, buf, size);
}

/* The xattrs of fd, or (fd -1) of name in dfd, not followed; sorted;
 * trusted.* and security.* are the host's business, not the source's. */
static int add_xattrs(struct digest_walk *w, int fd, int dfd, const char *name, const char *rel)
{
        _cleanup_free_ char *proc = fd >= 0 ? NULL : xasprintf("/proc/self/fd/%d/%s", dfd, name);
        ssize_t n = list_xattrs(fd, proc, NULL, 0);
        if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
                return 0;
        if (n < 0)
                return err_errno(w->err, -errno, "list the xattrs of '%s'", rel);
        if (n == 0)
                return 0;
        _cleanup_free_ char *names = xmalloc((size_t)n);
        n = list_xattrs(fd, proc, names, (size_t)n);
        if (n < 0)
                return err_errno(w->err, -errno, "list the xattrs of '%s'", rel);
        struct build_strlist keys = {0};
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
                const char *k = names + i;
                if (!startswith(k, "trusted.") && !startswith(k, "security."))
                        build_strlist_push(&keys, xstrdup(k));
        }
        if (keys.n > 1)
                qsort(keys.v, keys.n, sizeof(char *), cmp_name);
        int r = 0;
        for (size_t i = 0; i < keys.n && r == 0; i++) {
                ssize_t vl = get_xattr(fd, proc, keys.v[i], NULL, 0);
                _cleanup_free_ char *v = vl > 0 ? xmalloc((size_t)vl) : NULL;
                if (vl > 0)
                        vl = get_xattr(fd, proc, keys.v[i], v, (size_t)vl);
                if (vl < 0) {
                        if (errno == ENODATA)
                                continue; /* gone meanwhile */
                        r = err_errno(w->err, -errno, "read the xattr '%s' of '%s'", keys.v[i],
                                      rel);
                        break;
                }
                add_field(w, "x%s", keys.v[i]);
                add_field(w, "%zd", vl);
                hasher_update(&w->h, v, (size_t)vl);
        }
        build_strlist_done(&keys);
        return r;
}

static char type_char(mode_t m)
{
        return S_ISREG(m)    ? 'f'
               : S_ISDIR(m)  ? 'd'
               : S_ISLNK(m)  ? 'l'
               : S_ISCHR(m)  ? 'c'
               : S_ISBLK(m)  ? 'b'
               : S_ISFIFO(m) ? 'p'
                             : 's';
}

/* A regular file: its xattrs, size and content, read from one descriptor
 * that is checked to be what was stat'ed. */
static int hash_file(struct digest_walk *w, int dfd, const char *name, const char *rel,
                     const struct stat *st)
{
        /* O_NONBLOCK: should it have become a FIFO since the stat, the
         * open does not hang; it is checked below */
        _cleanup_close_ int fd =
            openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return err_errno(w->err, -errno, "open '%s'", rel);
        struct stat now;
        if (fstat(fd, &now) < 0)
                return err_errno(w->err, -errno, "stat '%s'", rel);
        if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
                return err_set(w->err, -EAGAIN, "'%s' changed while it was read", rel);
        int r = add_xattrs(w, fd, -1, NULL, rel);
        if (r < 0)
                return r;
        add_field(w, "%" PRId64, (int64_t)st->st_size);
        for (;;) {
                ssize_t n = read(fd, w->buf, sizeof(w->buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return err_errno(w->err, -errno, "read '%s'", rel);
                if (n == 0)
                        return 0;
                hasher_update(&w->h, w->buf, (size_t)n);
        }
}

/* One entry (name in dfd, "" for dfd itself), then what a directory holds,
 * in name order. */
static int digest_entry(struct digest_walk *w, int dfd, const char *name, const char *rel)
{
        struct stat st;
        if (fstatat(dfd, name, &st, *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0)
                return err_errno(w->err, -errno, "stat '%s'", rel);
        add_field(w, "%s", rel);
        add_field(w, "%c%04o", type_char(st.st_mode), (unsigned)(st.st_mode & 07777));
        if (w->keep_owner)
                add_field(w, "%u:%u", (unsigned)st.st_uid, (unsigned)st.st_gid);
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                add_field(w, "%u,%u", major(st.st_rdev), minor(st.st_rdev));
        if (S_ISLNK(st.st_mode)) {
                /* a symlink has no xattrs COPY keeps */
                _cleanup_free_ char *t = xmalloc((size_t)st.st_size + 2);
                ssize_t n = readlinkat(dfd, name, t, (size_t)st.st_size + 1);
                if (n < 0)
                        return err_errno(w->err, -errno, "readlink '%s'", rel);
                t[n] = 0;
                add_field(w, "%s", t);
                return 0;
        }
        if (S_ISREG(st.st_mode))
                return hash_file(w, dfd, *name ? name : ".", rel, &st);
        if (!S_ISDIR(st.st_mode)) /* never opened: a FIFO would hang */
                return add_xattrs(w, -1, dfd, name, rel);
        _cleanup_close_ int self =
            openat(dfd, *name ? name : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (self < 0)
                return err_errno(w->err, -errno, "open '%s'", rel);
        int r = add_xattrs(w, self, -1, NULL, rel);
        if (r < 0)
                return r;
        /* read_names takes a descriptor of its own; self stays for the
         * children */
        int fd = fcntl(self, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return err_errno(w->err, -errno, "dup");
        struct build_strlist names = {0};
        r = read_names(fd, &names);
        if (r < 0)
                return err_errno(w->err, r, "read the directory '%s'", rel);
        for (size_t i = 0; i < names.n && r == 0; i++) {
                _cleanup_free_ char *child =
                    streq(rel, ".") ? xstrdup(names.v[i]) : xasprintf("%s/%s", rel, names.v[i]);
                r = digest_entry(w, self, names.v[i], child);
        }
        build_strlist_done(&names);
        return r;
}

int build_source_digest(int rootfd, const char *path, bool keep_owner, char ret[72],
                        struct berth_err *err)
{
        _cleanup_free_ char *rooted = xasprintf("/%s", path);
        _cleanup_free_ char *cleaned = path_clean(rooted);
        const char *p = cleaned + 1;
        const char *slash = strrchr(p, '/');
        _cleanup_free_ char *parent = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup("");
        const char *base = slash ? slash + 1 : p;

        /* the parent resolved inside the root, the source itself not
         * followed (a symlink is hashed as a link) */
        _cleanup_close_ int pfd = openat_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return err_errno(err, pfd, "COPY source '%s'", path);
        struct digest_walk *w = xzalloc(sizeof(*w));
        w->keep_owner = keep_owner;
        w->err = err;
        hasher_init(&w->h);
        int r;
        if (*base) {
                r = digest_entry(w, pfd, base, ".");
        } else {
                /* the root itself: an O_PATH fd cannot be read, reopen it */
                _cleanup_close_ int dfd = openat_in_root(rootfd, "", O_RDONLY | O_DIRECTORY);
                r = dfd < 0 ? err_errno(err, dfd, "open the source root")
                            : digest_entry(w, dfd, "", ".");
        }
        if (r == 0)
                hasher_final(&w->h, ret);
        hasher_done(&w->h);
        free(w);
        return r;
}
