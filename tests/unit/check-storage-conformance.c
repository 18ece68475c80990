/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One conformance suite for every storage driver (OpenSSL's provider test
 * model): the vtable contract of storage.h, run against overlay2 and vfs
 * through the core's wrappers. */
#include "check-main.h"
#include "image-test.h"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

static const char *drivers[] = {"vfs", "overlay2"};
#define N_DRIVERS ((int)ELEMENTSOF(drivers))

static struct tstore T;
static struct driver *D;

static void open_driver(int i)
{
        tstore_open(&T, drivers[i]);
        D = T.drv;
}

static void teardown(void)
{
        tstore_close(&T);
}

static int apply(const char *id, const char *parent, const struct membuf *m, struct berth_err *e)
{
        _cleanup_close_ int fd = mem_fd(m->p, m->len);
        int64_t sz = -1;
        int r = berth_storage_apply_diff(D, id, parent, fd, BERTH_WHITEOUT_AUFS, 0, &sz, e);
        return r;
}

static void make_layer(const char *id, const char *parent, const struct membuf *m)
{
        struct berth_err e = {0};
        int r = berth_storage_create(D, id, parent, NULL, 0, &e);
        ck_assert_msg(r == 0, "create %s: %s", id, e.msg);
        r = apply(id, parent, m, &e);
        ck_assert_msg(r == 0, "apply %s: %s", id, e.msg);
}

/* base: dirs, files with owners and modes, a symlink, a hard link, a fifo,
 * a device, an xattr; and files the child will delete */
static struct membuf base_tar(void)
{
        struct tarb t;
        tarb_init(&t);
        tarb_dir(&t, "etc");
        tarb_file(&t, "etc/keep", "keep\n");
        tarb_file(&t, "etc/gone", "gone\n");
        tarb_dir(&t, "opq");
        tarb_file(&t, "opq/old1", "1");
        tarb_file(&t, "opq/old2", "2");
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "etc/owned");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 04750);
        archive_entry_set_uid(e, 1234);
        archive_entry_set_gid(e, 5678);
        archive_entry_set_mtime(e, 1600000000, 0);
        archive_entry_set_size(e, 3);
        archive_entry_xattr_add_entry(e, "user.berth", "yes", 3);
        ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
        archive_write_data(t.a, "abc", 3);
        archive_entry_free(e);
        tarb_symlink(&t, "etc/link", "keep");
        tarb_hardlink(&t, "etc/hard", "etc/keep");
        tarb_entry(&t, "fifo", AE_IFIFO, 0600, NULL, NULL, NULL);
        e = archive_entry_new();
        archive_entry_set_pathname(e, "null");
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_perm(e, 0666);
        archive_entry_set_rdevmajor(e, 1);
        archive_entry_set_rdevminor(e, 3);
        ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
        archive_entry_free(e);
        return tarb_finish(&t);
}

/* child: delete etc/gone, make opq opaque with one new file, add a file,
 * replace a file */
static struct membuf child_tar(void)
{
        struct tarb t;
        tarb_init(&t);
        tarb_dir(&t, "etc");
        tarb_file(&t, "etc/.wh.gone", "");
        tarb_file(&t, "etc/keep", "changed\n");
        tarb_dir(&t, "opq");
        tarb_file(&t, "opq/.wh..wh..opq", "");
        tarb_file(&t, "opq/new", "new");
        tarb_file(&t, "added", "added\n");
        return tarb_finish(&t);
}

static bool exists_in(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

static char *read_in(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        char *s = NULL;
        size_t n;
        return read_full_file(p, &s, &n) < 0 ? NULL : s;
}

static void check_child_view(const char *root)
{
        ck_assert(!exists_in(root, "etc/gone"));
        ck_assert(!exists_in(root, "etc/.wh.gone"));
        ck_assert(!exists_in(root, "opq/old1") && !exists_in(root, "opq/old2"));
        ck_assert(!exists_in(root, "opq/.wh..wh..opq"));
        _cleanup_free_ char *n = read_in(root, "opq/new"), *k = read_in(root, "etc/keep"),
                            *a = read_in(root, "added");
        ck_assert_str_eq(n, "new");
        ck_assert_str_eq(k, "changed\n");
        ck_assert_str_eq(a, "added\n");
        /* untouched files of the parent */
        _cleanup_free_ char *p = xasprintf("%s/etc/owned", root);
        struct stat st;
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert_uint_eq(st.st_uid, 1234);
        ck_assert_uint_eq(st.st_gid, 5678);
        ck_assert_uint_eq(st.st_mode & 07777, 04750);
        ck_assert_int_eq(st.st_mtim.tv_sec, 1600000000);
        char v[8] = "";
        ck_assert_int_eq(lgetxattr(p, "user.berth", v, sizeof(v)), 3);
        ck_assert(exists_in(root, "fifo"));
        _cleanup_free_ char *dev = xasprintf("%s/null", root);
        ck_assert_int_eq(lstat(dev, &st), 0);
        ck_assert(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
}

static int count_kv(void *u, const char *k, const char *v)
{
        (*(int *)u)++;
        return 0;
}

static int json_kv(void *u, const char *k, const char *v)
{
        json_object_set_new(u, k, json_string(v));
        return 0;
}

START_TEST(test_lifecycle)
{
        open_driver(_i);
        struct berth_err e = {0};
        ck_assert_int_eq(berth_storage_exists(D, "a", 0), 0);
        ck_assert_int_eq(berth_storage_create(D, "a", NULL, NULL, 0, &e), 0);
        ck_assert_int_eq(berth_storage_exists(D, "a", 0), 1);
        ck_assert_int_eq(berth_storage_create(D, "a", NULL, NULL, 0, &e), -EEXIST);
        ck_assert_int_eq(berth_storage_create(D, "b", "nope", NULL, 0, &e), -ENOENT);
        ck_assert_int_eq(berth_storage_exists(D, "b", 0), 0);
        ck_assert_int_eq(berth_storage_create(D, "../x", NULL, NULL, 0, &e), -EINVAL);
        ck_assert_int_eq(berth_storage_create(D, "B", NULL, NULL, 0, &e), -EINVAL);
        ck_assert_int_eq(berth_storage_create(D, "c", NULL, NULL, 1u << 9, &e), -EINVAL);
        const char *opts[] = {"frob=1", NULL};
        ck_assert_int_eq(berth_storage_create(D, "c", NULL, opts, 0, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e.msg, "frob"));
        ck_assert_int_eq(berth_storage_exists(D, "c", 0), 0);
        ck_assert_int_eq(berth_storage_create(D, "b", "a", NULL, 0, &e), 0);
        ck_assert_int_eq(berth_storage_remove(D, "b", 0, &e), 0);
        ck_assert_int_eq(berth_storage_remove(D, "b", 0, &e), -ENOENT);
        ck_assert_int_eq(berth_storage_remove(D, "a", 0, &e), 0);
        ck_assert_int_eq(berth_storage_exists(D, "a", 0), 0);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(D, "a", NULL, 0, path, sizeof(path), &e), -ENOENT);
        int n = 0;
        ck_assert_int_eq(berth_storage_status(D, count_kv, &n, 0), 0);
        ck_assert_int_gt(n, 0);
}
END_TEST

START_TEST(test_layering)
{
        open_driver(_i);
        struct berth_err e = {0};
        struct membuf b = base_tar(), c = child_tar();
        make_layer("base", NULL, &b);
        make_layer("child", "base", &c);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(D, "child", NULL, 0, path, sizeof(path), &e), 0);
        check_child_view(path);
        /* the hard link and symlink of the base */
        _cleanup_free_ char *k = xasprintf("%s/etc/link", path);
        struct stat st;
        ck_assert_int_eq(lstat(k, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));
        ck_assert_int_eq(berth_storage_put(D, "child", 0, &e), 0);
        /* the base is unchanged by the child */
        ck_assert_int_eq(berth_storage_get(D, "base", NULL, 0, path, sizeof(path), &e), 0);
        ck_assert(exists_in(path, "etc/gone") && exists_in(path, "opq/old1"));
        _cleanup_free_ char *h1 = xasprintf("%s/etc/hard", path),
                            *h2 = xasprintf("%s/etc/keep", path);
        struct stat s1, s2;
        ck_assert(lstat(h1, &s1) == 0 && lstat(h2, &s2) == 0 && s1.st_ino == s2.st_ino);
        ck_assert_int_eq(berth_storage_put(D, "base", 0, &e), 0);
        free(b.p), free(c.p);
}
END_TEST

/* diff() of the child, applied on a fresh layer over the same parent,
 * gives the same tree; the tar holds whiteouts in OCI form. */
START_TEST(test_diff_roundtrip)
{
        open_driver(_i);
        struct berth_err e = {0};
        struct membuf b = base_tar(), c = child_tar();
        make_layer("base", NULL, &b);
        make_layer("child", "base", &c);
        int fd = memfd_create("diff", MFD_CLOEXEC);
        int r = berth_storage_diff(D, "child", NULL, fd, 0, &e);
        ck_assert_msg(r == 0, "diff: %s", e.msg);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        ck_assert_int_eq(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
        struct archive_entry *en;
        bool wh = false, opq = false, added = false, untouched = false;
        while (archive_read_next_header(a, &en) == ARCHIVE_OK) {
                const char *p = archive_entry_pathname(en);
                wh |= streq(p, "etc/.wh.gone");
                /* a naive diff cannot know a directory was made opaque:
                 * a whiteout per old entry says the same */
                opq |= streq(p, "opq/.wh..wh..opq") || streq(p, "opq/.wh.old1");
                added |= streq(p, "added");
                untouched |= streq(p, "etc/owned");
        }
        archive_read_free(a);
        ck_assert_msg(wh && opq && added, "diff lacks entries: wh=%d opq=%d added=%d", wh, opq,
                      added);
        ck_assert_msg(!untouched, "diff holds an unchanged file");
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        ck_assert_int_eq(berth_storage_create(D, "copy", "base", NULL, 0, &e), 0);
        int64_t sz;
        r = berth_storage_apply_diff(D, "copy", "base", fd, BERTH_WHITEOUT_AUFS, 0, &sz, &e);
        ck_assert_msg(r == 0, "apply diff: %s", e.msg);
        close(fd);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(D, "copy", NULL, 0, path, sizeof(path), &e), 0);
        check_child_view(path);
        ck_assert_int_eq(berth_storage_put(D, "copy", 0, &e), 0);
        free(b.p), free(c.p);
}
END_TEST

struct seen {
        char buf[4096];
};

static int record_change(void *ud, uint32_t kind, const char *path)
{
        struct seen *s = ud;
        size_t l = strlen(s->buf);
        snprintf(s->buf + l, sizeof(s->buf) - l, "%c %s;", "CAD"[kind], path);
        return 0;
}

/* A container layer: writes through the mount, changes(), diff_size(). */
START_TEST(test_rw_layer_changes)
{
        open_driver(_i);
        struct berth_err e = {0};
        struct membuf b = base_tar();
        make_layer("base", NULL, &b);
        ck_assert_int_eq(berth_storage_create(D, "ctr", "base", NULL, BERTH_STORAGE_CREATE_RW, &e),
                         0);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(D, "ctr", NULL, 0, path, sizeof(path), &e), 0);
        run_cmd("echo hello > '%s/new' && echo more >> '%s/opq/old1' && rm '%s/etc/gone'", path,
                path, path);
        ck_assert_int_eq(berth_storage_put(D, "ctr", 0, &e), 0);
        struct seen s = {""};
        int r = berth_storage_changes(D, "ctr", NULL, record_change, &s, 0, &e);
        ck_assert_msg(r == 0, "changes: %s", e.msg);
        ck_assert_msg(strstr(s.buf, "C /etc;"), "%s", s.buf);
        ck_assert_msg(strstr(s.buf, "D /etc/gone;"), "%s", s.buf);
        ck_assert_msg(strstr(s.buf, "C /opq/old1;"), "%s", s.buf);
        ck_assert_msg(strstr(s.buf, "A /new;"), "%s", s.buf);
        ck_assert_msg(!strstr(s.buf, "/etc/owned"), "%s", s.buf);
        /* parents before children */
        ck_assert(strstr(s.buf, "C /etc;") < strstr(s.buf, "/etc/gone"));
        int64_t sz = -1;
        ck_assert_int_eq(berth_storage_diff_size(D, "ctr", NULL, 0, &sz, &e), 0);
        ck_assert_int_eq(sz, 6 + 6); /* "hello\n" + "1more\n" */
        free(b.p);
}
END_TEST

static bool mounted(const char *p)
{
        _cleanup_free_ char *c = xasprintf("grep -q ' %s ' /proc/self/mounts", p);
        return system(c) == 0;
}

/* get/put nest; the count survives a reload of the driver (an engine
 * restart) and the last put unmounts. */
START_TEST(test_refcount_restart)
{
        open_driver(_i);
        struct berth_err e = {0};
        struct membuf b = base_tar();
        make_layer("base", NULL, &b);
        ck_assert_int_eq(berth_storage_create(D, "ctr", "base", NULL, BERTH_STORAGE_CREATE_RW, &e),
                         0);
        char p1[4096], p2[4096];
        ck_assert_int_eq(berth_storage_get(D, "ctr", NULL, 0, p1, sizeof(p1), &e), 0);
        ck_assert_int_eq(berth_storage_get(D, "ctr", NULL, 0, p2, sizeof(p2), &e), 0);
        ck_assert_str_eq(p1, p2);
        bool cow = streq(drivers[_i], "overlay2");
        ck_assert(!cow || mounted(p1));
        ck_assert_int_eq(berth_storage_put(D, "ctr", 0, &e), 0);
        ck_assert(!cow || mounted(p1));
        /* "restart" */
        T.s = image_store_close(T.s);
        T.drv = driver_unload(T.drv);
        ck_assert_int_eq(driver_load(&T.cfg, BERTH_KIND_STORAGE, drivers[_i], &T.drv, &e), 0);
        D = T.drv;
        ck_assert_int_eq(image_store_open(T.cfg.data_root, D, &T.s, &e), 0);
        ck_assert(!cow || mounted(p1));
        ck_assert(exists_in(p1, "etc/keep"));
        ck_assert_int_eq(berth_storage_put(D, "ctr", 0, &e), 0);
        ck_assert(!mounted(p1));
        /* metadata */
        json_t *md = json_object();
        ck_assert_int_eq(berth_storage_metadata(D, "ctr", json_kv, md, 0, &e), 0);
        if (cow) {
                ck_assert_ptr_nonnull(json_object_get(md, "LowerDir"));
                ck_assert_ptr_nonnull(json_object_get(md, "UpperDir"));
                ck_assert_ptr_nonnull(json_object_get(md, "MergedDir"));
                ck_assert_ptr_nonnull(json_object_get(md, "WorkDir"));
        } else
                ck_assert_ptr_nonnull(json_object_get(md, "Dir"));
        json_decref(md);
        ck_assert_int_eq(berth_storage_remove(D, "ctr", 0, &e), 0);
        ck_assert_int_eq(berth_storage_remove(D, "base", 0, &e), 0);
        free(b.p);
}
END_TEST

/* 100 layers deep: overlay2's short links keep the mount options small. */
START_TEST(test_deep_chain)
{
        open_driver(_i);
        struct berth_err e = {0};
        char prev[16] = "", id[16];
        for (int i = 0; i < 100; i++) {
                snprintf(id, sizeof(id), "l%03d", i);
                _cleanup_free_ char *name = xasprintf("f%03d", i);
                struct tarb t;
                tarb_init(&t);
                tarb_file(&t, name, "x");
                struct membuf m = tarb_finish(&t);
                make_layer(id, prev[0] ? prev : NULL, &m);
                free(m.p);
                strcpy(prev, id);
        }
        char path[4096];
        int r = berth_storage_get(D, prev, NULL, 0, path, sizeof(path), &e);
        ck_assert_msg(r == 0, "get: %s", e.msg);
        ck_assert(exists_in(path, "f000") && exists_in(path, "f050") && exists_in(path, "f099"));
        ck_assert_int_eq(berth_storage_put(D, prev, 0, &e), 0);
}
END_TEST

/* apply_diff refuses an escaping tar with -EXDEV; the engine then removes
 * the layer, and remove() copes with the half-filled layer. */
START_TEST(test_apply_refusal)
{
        open_driver(_i);
        struct berth_err e = {0};
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, "ok", "1");
        tarb_symlink(&t, "esc", "/");
        tarb_file(&t, "esc/berth-should-not-exist", "1");
        struct membuf m = tarb_finish(&t);
        ck_assert_int_eq(berth_storage_create(D, "bad", NULL, NULL, 0, &e), 0);
        ck_assert_int_eq(apply("bad", NULL, &m, &e), -EXDEV);
        ck_assert_ptr_nonnull(strstr(e.msg, drivers[_i]));
        ck_assert(access("/berth-should-not-exist", F_OK) < 0);
        ck_assert_int_eq(berth_storage_remove(D, "bad", 0, &e), 0);
        ck_assert_int_eq(berth_storage_exists(D, "bad", 0), 0);
        free(m.p);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("storage-conformance");
        TCase *tc = tcase_create("contract");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_lifecycle, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_layering, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_diff_roundtrip, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_rw_layer_changes, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_refcount_restart, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_deep_chain, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_apply_refusal, 0, N_DRIVERS);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
