/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_IMAGE_TEST_H
#define BERTH_IMAGE_TEST_H
/* Helpers for the image and storage suites: a throw-away data root with a
 * loaded storage driver, tar archives built in memory, docker-archives
 * around them. Header-only so each suite stays one file. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "driver/driver.h"
#include "image/image-internal.h"
#include "tar/tar-layer.h"

struct tstore {
        char root[64];
        struct berth_config cfg;
        struct driver *drv;
        struct image_store *s;
};

static inline void run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void run_cmd(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = NULL;
        ck_assert(vasprintf(&c, fmt, ap) >= 0);
        va_end(ap);
        ck_assert_msg(system(c) == 0, "command failed: %s", c);
}

/* Data root under /tmp, or `mount_tmpfs_mb` > 0: a tmpfs of that size. */
static inline void tstore_open_sized(struct tstore *t, const char *driver, int tmpfs_mb)
{
        const char *dir = getenv("BERTH_PLUGIN_DIR");
        ck_assert_msg(dir != NULL, "BERTH_PLUGIN_DIR is not set (run through ctest)");
        strcpy(t->root, "/tmp/berth-check-image.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(t->root));
        config_init(&t->cfg);
        free(t->cfg.plugin_dir);
        t->cfg.plugin_dir = xstrdup(dir);
        free(t->cfg.data_root);
        t->cfg.data_root = xasprintf("%s/data", t->root);
        free(t->cfg.exec_root);
        t->cfg.exec_root = xasprintf("%s/run", t->root);
        ck_assert_int_eq(mkdir_p(t->cfg.data_root, 0700), 0);
        if (tmpfs_mb > 0) {
                _cleanup_free_ char *o = xasprintf("size=%dm", tmpfs_mb);
                ck_assert_int_eq(mount("tmpfs", t->cfg.data_root, "tmpfs", 0, o), 0);
        }
        struct berth_err e = {0};
        /* as berthd does: the layer host services come from the image code */
        driver_set_layer_services(host_layer_unpack, host_layer_diff);
        int r = driver_load(&t->cfg, BERTH_KIND_STORAGE, driver, &t->drv, &e);
        ck_assert_msg(r == 0, "load %s: %s", driver, e.msg);
        r = image_store_open(t->cfg.data_root, t->drv, &t->s, &e);
        ck_assert_msg(r == 0, "open store: %s", e.msg);
}

static inline void tstore_open(struct tstore *t, const char *driver)
{
        tstore_open_sized(t, driver, 0);
}

static inline void tstore_reopen(struct tstore *t)
{
        struct berth_err e = {0};
        t->s = image_store_close(t->s);
        int r = image_store_open(t->cfg.data_root, t->drv, &t->s, &e);
        ck_assert_msg(r == 0, "reopen store: %s", e.msg);
}

static inline void tstore_close(struct tstore *t)
{
        t->s = image_store_close(t->s);
        if (t->drv)
                t->drv = driver_unload(t->drv);
        /* whatever a failing test left mounted below the root */
        _cleanup_free_ char *c = xasprintf(
            "grep -o ' %s[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null; "
            "rm -rf '%s'",
            t->root, t->root);
        (void)!system(c);
        config_done(&t->cfg);
}

/* Entries under dir (recursively), excluding dir itself: 0 means empty. */
static inline int count_entries(const char *dir)
{
        _cleanup_free_ char *c = xasprintf("find '%s' -mindepth 1 2>/dev/null | wc -l", dir);
        FILE *f = popen(c, "r");
        int n = -1;
        if (f) {
                if (fscanf(f, "%d", &n) != 1)
                        n = -1;
                pclose(f);
        }
        return n;
}

/* The store holds nothing: no images, layers, blobs, temp files, driver layers. */
static inline void assert_store_empty(struct tstore *t)
{
        ck_assert_uint_eq(image_count(t->s), 0);
        const char *sub[] = {"images", "layers", "blobs/sha256", "tmp"};
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", t->s->root, sub[i]);
                ck_assert_msg(count_entries(p) == 0, "%s is not empty", p);
        }
        _cleanup_free_ char *d = xasprintf("%s/%s", t->cfg.data_root, t->drv->name);
        _cleanup_free_ char *c =
            xasprintf("find '%s' -mindepth 2 -maxdepth 2 ! -path '*/l/*' 2>/dev/null | wc -l", d);
        FILE *f = popen(c, "r");
        int n = -1;
        ck_assert(f && fscanf(f, "%d", &n) == 1);
        pclose(f);
        ck_assert_msg(n == 0, "the driver directory %s still holds layers", d);
}

/* --- tar in memory ----------------------------------------------------- */

struct membuf {
        char *p;
        size_t len;
};

static la_ssize_t membuf_write(struct archive *a, void *ud, const void *buf, size_t n)
{
        struct membuf *m = ud;
        m->p = xrealloc(m->p, m->len + n);
        memcpy(m->p + m->len, buf, n);
        m->len += n;
        return (la_ssize_t)n;
}

struct tarb {
        struct archive *a;
        struct membuf m;
};

static inline void tarb_init(struct tarb *t)
{
        memset(t, 0, sizeof(*t));
        t->a = archive_write_new();
        archive_write_set_format_pax_restricted(t->a);
        archive_write_set_bytes_per_block(t->a, 0);
        ck_assert_int_eq(archive_write_open(t->a, &t->m, NULL, membuf_write, NULL), ARCHIVE_OK);
}

static inline void tarb_entry(struct tarb *t, const char *name, mode_t type, mode_t perm,
                              const char *data, const char *link, const char *hardlink)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, perm);
        archive_entry_set_mtime(e, 1700000000, 0);
        size_t n = data ? strlen(data) : 0;
        archive_entry_set_size(e, (la_int64_t)n);
        if (link)
                archive_entry_set_symlink(e, link);
        if (hardlink) {
                archive_entry_set_hardlink(e, hardlink);
                archive_entry_set_size(e, 0);
                n = 0;
        }
        ck_assert_int_eq(archive_write_header(t->a, e), ARCHIVE_OK);
        if (n)
                ck_assert_int_eq(archive_write_data(t->a, data, n), (la_ssize_t)n);
        archive_entry_free(e);
}

static inline void tarb_file(struct tarb *t, const char *name, const char *data)
{
        tarb_entry(t, name, AE_IFREG, 0644, data, NULL, NULL);
}
static inline void tarb_dir(struct tarb *t, const char *name)
{
        tarb_entry(t, name, AE_IFDIR, 0755, NULL, NULL, NULL);
}
static inline void tarb_symlink(struct tarb *t, const char *name, const char *target)
{
        tarb_entry(t, name, AE_IFLNK, 0777, NULL, target, NULL);
}
static inline void tarb_hardlink(struct tarb *t, const char *name, const char *target)
{
        tarb_entry(t, name, AE_IFREG, 0644, NULL, NULL, target);
}
/* Finish; the caller frees m.p. */
static inline struct membuf tarb_finish(struct tarb *t)
{
        ck_assert_int_eq(archive_write_close(t->a), ARCHIVE_OK);
        archive_write_free(t->a);
        return t->m;
}

/* A file descriptor reading the bytes (a memfd at offset 0). */
static inline int mem_fd(const void *p, size_t n)
{
        int fd = memfd_create("berth-test", MFD_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(loop_write(fd, p, n), 0);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* A docker-archive around layer tars; `tweak` lets a test break one part:
 * "config" replaced by config_override if not NULL, manifest by
 * manifest_override. */
struct darchive_opts {
        const char *tag;               /* "x:latest" */
        const char *config_override;   /* raw config bytes */
        const char *manifest_override; /* raw manifest.json */
        const char *wrong_diff_id;     /* replaces the first diff id in the config */
};

static inline struct membuf make_darchive(const struct membuf *layers, size_t n,
                                          const struct darchive_opts *o)
{
        json_t *ids = json_array(), *paths = json_array();
        struct tarb t;
        tarb_init(&t);
        for (size_t i = 0; i < n; i++) {
                char d[72];
                sha256_digest(layers[i].p, layers[i].len, d);
                json_array_append_new(
                    ids, json_string(i == 0 && o && o->wrong_diff_id ? o->wrong_diff_id : d));
                _cleanup_free_ char *dir = xasprintf("%s", d + 7);
                _cleanup_free_ char *p = xasprintf("%s/layer.tar", dir);
                json_array_append_new(paths, json_string(p));
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, p);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t)layers[i].len);
                ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
                ck_assert_int_eq(archive_write_data(t.a, layers[i].p, layers[i].len),
                                 (la_ssize_t)layers[i].len);
                archive_entry_free(e);
        }
        json_t *cfg = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:o}}", "architecture", "amd64",
                                "os", "linux", "created", "2024-01-01T00:00:00Z", "config", "Cmd",
                                "sh", "rootfs", "type", "layers", "diff_ids", ids);
        _cleanup_free_ char *ctxt =
            o && o->config_override ? xstrdup(o->config_override) : json_dumps(cfg, JSON_COMPACT);
        json_decref(cfg);
        char cd[72];
        sha256_digest(ctxt, strlen(ctxt), cd);
        _cleanup_free_ char *cname = xasprintf("%s.json", cd + 7);
        tarb_file(&t, cname, ctxt);
        json_t *m = json_pack("[{s:s, s:[s], s:o}]", "Config", cname, "RepoTags",
                              o && o->tag ? o->tag : "test:latest", "Layers", paths);
        _cleanup_free_ char *mtxt =
            o && o->manifest_override ? xstrdup(o->manifest_override) : json_dumps(m, JSON_COMPACT);
        json_decref(m);
        tarb_file(&t, "manifest.json", mtxt);
        return tarb_finish(&t);
}

/* Load bytes; returns the code, message in *e. */
static inline int load_mem(struct tstore *t, const struct membuf *b, struct berth_err *e)
{
        _cleanup_close_ int fd = mem_fd(b->p, b->len);
        json_t *res = NULL;
        int r = image_load(t->s, fd, NULL, NULL, &res, e);
        json_decref(res);
        return r;
}

static inline int load_file(struct tstore *t, const char *path, json_t **res, struct berth_err *e)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return image_load(t->s, fd, NULL, NULL, res, e);
}

/* Build a test image with tests/lib/mkimage.sh into dir; returns the path. */
static inline char *mkimage(const char *dir, const char *kind)
{
        const char *src = getenv("BERTH_SOURCE_DIR");
        ck_assert_ptr_nonnull(src);
        char *out = xasprintf("%s/%s.tar", dir, kind);
        run_cmd("'%s/tests/lib/mkimage.sh' %s '%s'", src, kind, out);
        return out;
}

#endif
