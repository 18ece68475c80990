/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Layer tars in and out: the engine's side. The tars are read and written by
 * the helper berth-tar (tar-unpack.c, run through tar-helper.c), so that
 * berthd never maps libarchive; here are the walk over a layer that finds
 * its changes (for the change list in-process, for the tar in the helper)
 * and the host services that run the helper.
 */
#include "tar-layer.h"
#include "tar-helper.h"
#include "base/json.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

int layer_clean_path(const char *in, char **ret)
{
        *ret = NULL;
        if (in[0] == '/')
                return -EXDEV;
        size_t n = strlen(in);
        _cleanup_free_ char *out = xmalloc(n + 1);
        size_t o = 0;
        const char *p = in;
        while (*p) {
                const char *e = strchrnul(p, '/');
                size_t l = (size_t)(e - p);
                if (l == 2 && p[0] == '.' && p[1] == '.')
                        return -EXDEV;
                if (l > 0 && !(l == 1 && p[0] == '.')) {
                        if (o > 0)
                                out[o++] = '/';
                        memcpy(out + o, p, l);
                        o += l;
                }
                p = *e ? e + 1 : e;
        }
        out[o] = '\0';
        if (o > 0)
                *ret = TAKE_PTR(out);
        return 0;
}

/* --- diff ----------------------------------------------------------------- */

struct differ {
        const char *dir;
        const char *const *lowers;
        uint32_t mode;
        layer_emit_fn emit;
        void *w;
        berth_change_fn fn;
        void *ud;
        int64_t size;
        char **pending; /* unchanged ancestors not yet written to the tar */
        struct berth_err *err;
};

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in a directory (so that tars and change lists are stable). */
static int list_dir(const char *path, char ***ret)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        *ret = NULL;
        if (!d)
                return -errno;
        char **v = xzalloc(sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(de->d_name);
                v[n] = NULL;
        }
        qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        return 0;
}

/* Write an entry through the emitter, after the unchanged ancestors it
 * needs (naive diff). */
static int tar_write_entry(struct differ *df, const char *rel, const char *full,
                           const struct stat *st, const char *wh_name)
{
        if (!df->emit)
                return 0;
        /* ancestors first */
        for (char **p = df->pending; p && *p; p++) {
                _cleanup_free_ char *pfull = xasprintf("%s/%s", df->dir, *p);
                struct stat pst;
                if (lstat(pfull, &pst) < 0)
                        return err_errno(df->err, -errno, "stat '%s'", pfull);
                char **saved = df->pending;
                df->pending = NULL;
                int r = tar_write_entry(df, *p, pfull, &pst, NULL);
                df->pending = saved;
                if (r < 0)
                        return r;
        }
        df->pending = strv_free(df->pending);

        return df->emit(df->w, rel, full, st, wh_name, df->err);
}

static int report(struct differ *df, uint32_t kind, const char *rel, const char *full,
                  const struct stat *st, const char *wh_name)
{
        if (df->fn) {
                _cleanup_free_ char *p = xasprintf("/%s", rel);
                int r = df->fn(df->ud, kind, p);
                if (r)
                        return r;
        }
        if (st && S_ISREG(st->st_mode) && !wh_name)
                df->size += st->st_size;
        return tar_write_entry(df, rel, full, st, wh_name);
}

static bool exists_below(struct differ *df, const char *rel)
{
        for (const char *const *l = df->lowers; l && *l; l++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", *l, rel);
                struct stat st;
                if (lstat(p, &st) == 0)
                        return true;
        }
        return false;
}

static bool same_file(const char *a, const struct stat *sa, const char *b, const struct stat *sb)
{
        if ((sa->st_mode & S_IFMT) != (sb->st_mode & S_IFMT) || sa->st_mode != sb->st_mode ||
            sa->st_uid != sb->st_uid || sa->st_gid != sb->st_gid)
                return false;
        /* a directory counts as changed when its mtime moved (an entry came
         * or went), as in Docker's naive diff; its size means nothing */
        if (sa->st_mtim.tv_sec != sb->st_mtim.tv_sec || sa->st_mtim.tv_nsec != sb->st_mtim.tv_nsec)
                return false;
        if (S_ISDIR(sa->st_mode))
                return true;
        if (sa->st_size != sb->st_size || sa->st_rdev != sb->st_rdev)
                return false;
        if (S_ISLNK(sa->st_mode)) {
                char ta[PATH_MAX], tb[PATH_MAX];
                ssize_t na = readlink(a, ta, sizeof(ta)), nb = readlink(b, tb, sizeof(tb));
                return na == nb && na >= 0 && memcmp(ta, tb, (size_t)na) == 0;
        }
        return true;
}

static int walk_overlay(struct differ *df, const char *rel)
{
        _cleanup_free_ char *here = rel ? xasprintf("%s/%s", df->dir, rel) : xstrdup(df->dir);
        _cleanup_strv_ char **names = NULL;
        int r = list_dir(here, &names);
        if (r < 0)
                return err_errno(df->err, r, "read directory '%s'", here);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *crel = rel ? xasprintf("%s/%s", rel, *n) : xstrdup(*n);
                _cleanup_free_ char *full = xasprintf("%s/%s", df->dir, crel);
                struct stat st;
                if (lstat(full, &st) < 0)
                        return err_errno(df->err, -errno, "stat '%s'", full);
                if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                        r = report(df, BERTH_CHANGE_DELETED, crel, full, &st, *n);
                        if (r)
                                return r;
                        continue;
                }
                uint32_t kind = exists_below(df, crel) ? BERTH_CHANGE_MODIFIED : BERTH_CHANGE_ADDED;
                r = report(df, kind, crel, full, &st, NULL);
                if (r)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        char v[4];
                        ssize_t vl = lgetxattr(full, OVL_OPAQUE_XATTR, v, sizeof(v));
                        if (vl == 1 && v[0] == 'y' && df->emit) {
                                _cleanup_free_ char *o = xasprintf("%s/x", crel);
                                r = tar_write_entry(df, o, full, &st,
                                                    &WH_OPAQUE[strlen(WH_PREFIX)]);
                                if (r)
                                        return r;
                        }
                        r = walk_overlay(df, crel);
                        if (r)
                                return r;
                }
        }
        return 0;
}

static int walk_naive(struct differ *df, const char *rel)
{
        const char *base = df->lowers ? df->lowers[0] : NULL;
        _cleanup_free_ char *here = rel ? xasprintf("%s/%s", df->dir, rel) : xstrdup(df->dir);
        _cleanup_strv_ char **names = NULL, **old = NULL;
        int r = list_dir(here, &names);
        if (r < 0)
                return err_errno(df->err, r, "read directory '%s'", here);
        if (base) {
                _cleanup_free_ char *there = rel ? xasprintf("%s/%s", base, rel) : xstrdup(base);
                if (list_dir(there, &old) < 0)
                        old = NULL; /* absent or not a directory below: all added */
        }
        char **n = names, **o = old;
        while ((n && *n) || (o && *o)) {
                int c = !(o && *o) ? -1 : !*n ? 1 : strcmp(*n, *o);
                if (c > 0) { /* only below: deleted */
                        _cleanup_free_ char *crel = rel ? xasprintf("%s/%s", rel, *o) : xstrdup(*o);
                        _cleanup_free_ char *full = xasprintf("%s/%s", df->dir, crel);
                        r = report(df, BERTH_CHANGE_DELETED, crel, full, NULL, *o);
                        if (r)
                                return r;
                        o++;
                        continue;
                }
                _cleanup_free_ char *crel = rel ? xasprintf("%s/%s", rel, *n) : xstrdup(*n);
                _cleanup_free_ char *full = xasprintf("%s/%s", df->dir, crel);
                struct stat st, pst;
                if (lstat(full, &st) < 0)
                        return err_errno(df->err, -errno, "stat '%s'", full);
                bool in_parent = false;
                _cleanup_free_ char *pfull = NULL;
                if (c == 0) {
                        pfull = xasprintf("%s/%s", base, crel);
                        in_parent = lstat(pfull, &pst) == 0;
                        o++;
                }
                n++;
                if (!in_parent)
                        r = report(df, BERTH_CHANGE_ADDED, crel, full, &st, NULL);
                else if (!same_file(full, &st, pfull, &pst))
                        r = report(df, BERTH_CHANGE_MODIFIED, crel, full, &st, NULL);
                else if (S_ISDIR(st.st_mode)) {
                        df->pending = strv_push(df->pending, xstrdup(crel));
                        size_t depth = strv_length(df->pending);
                        r = walk_naive(df, crel);
                        /* nothing below changed: forget it again */
                        if (df->pending && strv_length(df->pending) >= depth) {
                                free(df->pending[depth - 1]);
                                df->pending[depth - 1] = NULL;
                        }
                        if (r)
                                return r;
                        continue;
                } else
                        r = 0;
                if (r)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        r = walk_naive(df, crel);
                        if (r)
                                return r;
                }
        }
        return 0;
}

int layer_walk(const char *dir, const char *const *lowers, uint32_t mode, layer_emit_fn emit,
               void *w, berth_change_fn fn, void *userdata, int64_t *ret_size,
               struct berth_err *err)
{
        if (mode != BERTH_LAYER_WH_OVERLAY && mode != BERTH_LAYER_WH_DELETE)
                return err_set(err, -EINVAL, "layer_diff: unknown whiteout mode %u", mode);
        struct differ df = {.dir = dir,
                            .lowers = lowers,
                            .mode = mode,
                            .emit = emit,
                            .w = w,
                            .fn = fn,
                            .ud = userdata,
                            .err = err};
        int r = mode == BERTH_LAYER_WH_OVERLAY ? walk_overlay(&df, NULL) : walk_naive(&df, NULL);
        if (r == 0 && ret_size)
                *ret_size = df.size;
        strv_free(df.pending);
        return r;
}

int layer_unpack(int tar_fd, const char *dest, uint32_t mode, uint64_t flags, int64_t *ret_size,
                 struct berth_err *err)
{
        _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return err_errno(err, -errno, "open layer directory '%s'", dest);
        char m[16], f[32];
        snprintf(m, sizeof(m), "%" PRIu32, mode);
        snprintf(f, sizeof(f), "%" PRIu64, flags);
        const char *args[] = {"unpack", m, f, NULL};
        _cleanup_json_ json_t *res = NULL;
        int r = tar_helper_run(args, &(struct tar_helper_io){.in = tar_fd, .out = -1, .dir = dfd},
                               &res, err);
        if (r == 0 && ret_size)
                *ret_size = json_get_int(res, "size", 0);
        return r;
}

int layer_diff(const char *dir, const char *const *lowers, uint32_t mode, int out_fd,
               berth_change_fn fn, void *userdata, uint64_t flags, int64_t *ret_size,
               struct berth_err *err)
{
        if (flags)
                return err_set(err, -EINVAL, "layer_diff: unknown flags 0x%" PRIx64, flags);
        /* the change list and the sizes need no tar: here */
        if (out_fd < 0 || fn) {
                int r = layer_walk(dir, lowers, mode, NULL, NULL, fn, userdata, ret_size, err);
                if (r || out_fd < 0)
                        return r;
        }
        char m[16];
        snprintf(m, sizeof(m), "%" PRIu32, mode);
        _cleanup_free_ const char **args =
            xzalloc((strv_length((char **)lowers) + 4) * sizeof(char *));
        size_t n = 0;
        args[n++] = "diff";
        args[n++] = m;
        args[n++] = dir;
        for (const char *const *l = lowers; l && *l; l++)
                args[n++] = *l;
        _cleanup_json_ json_t *res = NULL;
        int r = tar_helper_run(args, &(struct tar_helper_io){.in = -1, .out = out_fd, .dir = -1},
                               &res, err);
        if (r == 0 && ret_size)
                *ret_size = json_get_int(res, "size", 0);
        return r;
}

int host_layer_unpack(void *ctx, int tar_fd, const char *dest, uint32_t mode, uint64_t flags,
                      int64_t *ret_size, struct berth_err *err)
{
        if (flags) /* the engine-only LAYER_UNPACK_* bits are not for drivers */
                return err_set(err, -EINVAL, "layer_unpack: unknown flags 0x%" PRIx64, flags);
        return layer_unpack(tar_fd, dest, mode, flags, ret_size, err);
}

int host_layer_diff(void *ctx, const char *dir, const char *const *lowers, uint32_t mode,
                    int out_fd, berth_change_fn fn, void *userdata, uint64_t flags,
                    int64_t *ret_size, struct berth_err *err)
{
        return layer_diff(dir, lowers, mode, out_fd, fn, userdata, flags, ret_size, err);
}
