/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bad and hostile input to load: each is refused with an error naming the
 * cause, and the store is left exactly as it was (here: empty), with both
 * storage drivers. */
#include "check-main.h"
#include "image-test.h"

static const char *drivers[] = {"vfs", "overlay2"};
#define N_DRIVERS ((int)ELEMENTSOF(drivers))

static struct tstore T;
static char canary[128];

static void setup(void)
{
        snprintf(canary, sizeof(canary), "/tmp/berth-hostile-canary.%d", (int)getpid());
        unlink(canary);
}

static void teardown(void)
{
        tstore_close(&T);
        unlink(canary);
}

/* Load `layers` as one image and expect refusal with `code` and `needle`. */
static void expect_refused(const struct membuf *layers, size_t n, const struct darchive_opts *o,
                           int code, const char *needle)
{
        struct membuf a = make_darchive(layers, n, o);
        struct berth_err e = {0};
        int r = load_mem(&T, &a, &e);
        ck_assert_msg(r == code, "expected %d, got %d (%s)", code, r, e.msg);
        ck_assert_msg(strstr(e.msg, needle), "message lacks '%s': %s", needle, e.msg);
        assert_store_empty(&T);
        ck_assert_msg(access(canary, F_OK) < 0, "a file was written outside the layer");
        free(a.p);
}

static struct membuf one_file(const char *name)
{
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, name, "owned\n");
        return tarb_finish(&t);
}

START_TEST(test_dotdot)
{
        tstore_open(&T, drivers[_i]);
        _cleanup_free_ char *name = xasprintf("../../../../../../../..%s", canary);
        struct membuf l = one_file(name);
        expect_refused(&l, 1, NULL, -EXDEV, "would land outside the layer");
        free(l.p);
}
END_TEST

START_TEST(test_dotdot_inner)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("etc/../../x");
        expect_refused(&l, 1, NULL, -EXDEV, "would land outside the layer");
        free(l.p);
}
END_TEST

START_TEST(test_absolute)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, "ok", "fine");
        tarb_file(&t, canary, "owned\n");
        struct membuf l = tarb_finish(&t);
        expect_refused(&l, 1, NULL, -EXDEV, "absolute path");
        free(l.p);
}
END_TEST

START_TEST(test_symlink_escape)
{
        tstore_open(&T, drivers[_i]);
        /* "evil -> /tmp", then "evil/<canary name>" */
        struct tarb t;
        tarb_init(&t);
        tarb_symlink(&t, "evil", "/tmp");
        _cleanup_free_ char *name = xasprintf("evil/%s", strrchr(canary, '/') + 1);
        tarb_file(&t, name, "owned\n");
        struct membuf l = tarb_finish(&t);
        expect_refused(&l, 1, NULL, -EXDEV, "goes through the symlink 'evil'");
        free(l.p);
}
END_TEST

START_TEST(test_symlink_escape_relative)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        tarb_dir(&t, "a");
        tarb_symlink(&t, "a/up", "../../../../../../../../tmp");
        _cleanup_free_ char *name = xasprintf("a/up/%s", strrchr(canary, '/') + 1);
        tarb_file(&t, name, "owned\n");
        struct membuf l = tarb_finish(&t);
        expect_refused(&l, 1, NULL, -EXDEV, "goes through the symlink 'a/up'");
        free(l.p);
}
END_TEST

START_TEST(test_hardlink_escape)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        tarb_hardlink(&t, "passwd", "../../../../../../etc/passwd");
        struct membuf l = tarb_finish(&t);
        expect_refused(&l, 1, NULL, -EXDEV, "points outside the layer");
        free(l.p);
}
END_TEST

/* A ustar header claiming 2^50 bytes (base-256 size field), then nothing. */
START_TEST(test_absurd_size)
{
        tstore_open(&T, drivers[_i]);
        char h[512 * 3];
        memset(h, 0, sizeof(h));
        strcpy(h, "huge");
        memcpy(h + 100, "0000644", 8);
        memcpy(h + 108, "0000000", 8);
        memcpy(h + 116, "0000000", 8);
        unsigned char *sz = (unsigned char *)h + 124;
        sz[0] = 0x80;
        sz[5] = 0x04; /* 2^50 */
        memcpy(h + 136, "00000000000", 12);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        struct membuf l = {xmalloc(sizeof(h)), sizeof(h)};
        memcpy(l.p, h, sizeof(h));
        expect_refused(&l, 1, NULL, -EFBIG, "declares 1125899906842624 bytes");
        free(l.p);
}
END_TEST

START_TEST(test_truncated_layer)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        char big[20000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        tarb_file(&t, "big", big);
        struct membuf l = tarb_finish(&t);
        l.len = 5000; /* cut inside the data */
        expect_refused(&l, 1, NULL, -EINVAL, "truncated");
        free(l.p);
}
END_TEST

START_TEST(test_truncated_archive)
{
        tstore_open(&T, drivers[_i]);
        _cleanup_free_ char *tar = mkimage(T.root, "busybox");
        _cleanup_free_ char *cut = xasprintf("%s/cut.tar", T.root);
        run_cmd("head -c 600000 '%s' > '%s'", tar, cut);
        struct berth_err e = {0};
        int r = load_file(&T, cut, NULL, &e);
        ck_assert_msg(r == -EINVAL, "got %d: %s", r, e.msg);
        ck_assert_msg(strstr(e.msg, "truncated"), "%s", e.msg);
        assert_store_empty(&T);
}
END_TEST

START_TEST(test_diff_id_mismatch)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        struct darchive_opts o = {
            .wrong_diff_id =
                "sha256:0000000000000000000000000000000000000000000000000000000000000000"};
        expect_refused(&l, 1, &o, -EBADMSG, "does not match the config: its diff ID is sha256:");
        free(l.p);
}
END_TEST

START_TEST(test_config_digest_mismatch)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        char d[72];
        sha256_digest(l.p, l.len, d);
        /* the config file is named by the digest of other bytes */
        _cleanup_free_ char *m = xasprintf(
            "[{\"Config\":\"%064d.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"%s/layer.tar\"]}]", 7,
            d + 7);
        /* and a file by that name exists */
        struct tarb t;
        tarb_init(&t);
        _cleanup_free_ char *lp = xasprintf("%s/layer.tar", d + 7);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, lp);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)l.len);
        ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
        archive_write_data(t.a, l.p, l.len);
        archive_entry_free(e);
        _cleanup_free_ char *cn = xasprintf("%064d.json", 7);
        _cleanup_free_ char *cfg = xasprintf(
            "{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", d);
        tarb_file(&t, cn, cfg);
        tarb_file(&t, "manifest.json", m);
        struct membuf a = tarb_finish(&t);
        struct berth_err er = {0};
        int r = load_mem(&T, &a, &er);
        ck_assert_msg(r == -EBADMSG, "got %d: %s", r, er.msg);
        ck_assert_msg(strstr(er.msg, "does not match its digest"), "%s", er.msg);
        assert_store_empty(&T);
        free(a.p);
        free(l.p);
}
END_TEST

START_TEST(test_manifest_not_json)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        struct darchive_opts o = {.manifest_override = "[{\"Config\": oops"};
        expect_refused(&l, 1, &o, -EBADMSG, "manifest.json is not JSON");
        free(l.p);
}
END_TEST

START_TEST(test_manifest_lacks_layers)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        struct darchive_opts o = {.manifest_override = "[{\"Config\":\"x.json\"}]"};
        expect_refused(&l, 1, &o, -EBADMSG, "lacks the required field 'Layers'");
        free(l.p);
}
END_TEST

START_TEST(test_config_not_json)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        struct darchive_opts o = {.config_override = "{not json"};
        expect_refused(&l, 1, &o, -EBADMSG, "is not JSON");
        free(l.p);
}
END_TEST

START_TEST(test_config_lacks_rootfs)
{
        tstore_open(&T, drivers[_i]);
        struct membuf l = one_file("a");
        struct darchive_opts o = {.config_override = "{\"os\":\"linux\"}"};
        expect_refused(&l, 1, &o, -EBADMSG, "lacks the required field 'rootfs'");
        free(l.p);
}
END_TEST

START_TEST(test_not_an_archive)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, "hello", "world");
        struct membuf a = tarb_finish(&t);
        struct berth_err e = {0};
        ck_assert_int_eq(load_mem(&T, &a, &e), -EBADMSG);
        ck_assert_ptr_nonnull(strstr(e.msg, "neither manifest.json"));
        assert_store_empty(&T);
        struct membuf junk = {xstrdup("this is not a tar at all, not even close........"), 48};
        ck_assert_int_eq(load_mem(&T, &junk, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e.msg, "invalid"));
        assert_store_empty(&T);
        free(a.p);
        free(junk.p);
}
END_TEST

START_TEST(test_outer_escape)
{
        tstore_open(&T, drivers[_i]);
        struct tarb t;
        tarb_init(&t);
        _cleanup_free_ char *name = xasprintf("../../../../../../..%s", canary);
        tarb_file(&t, name, "owned");
        struct membuf a = tarb_finish(&t);
        struct berth_err e = {0};
        ck_assert_int_eq(load_mem(&T, &a, &e), -EXDEV);
        ck_assert_ptr_nonnull(strstr(e.msg, "would land outside the archive"));
        assert_store_empty(&T);
        ck_assert(access(canary, F_OK) < 0);
        free(a.p);
}
END_TEST

/* A second image that fails must not take the first (good) one with it,
 * and must not disturb what was there before. */
START_TEST(test_failure_keeps_existing)
{
        tstore_open(&T, drivers[_i]);
        struct membuf good = one_file("good");
        struct darchive_opts og = {.tag = "good:1"};
        struct membuf a = make_darchive(&good, 1, &og);
        struct berth_err e = {0};
        ck_assert_int_eq(load_mem(&T, &a, &e), 0);
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, "fine", "x");
        tarb_file(&t, "../bad", "x");
        struct membuf bad = tarb_finish(&t);
        struct membuf two[] = {good, bad};
        struct darchive_opts ob = {.tag = "good:1"};
        struct membuf b = make_darchive(two, 2, &ob);
        ck_assert_int_eq(load_mem(&T, &b, &e), -EXDEV);
        ck_assert_uint_eq(image_count(T.s), 1);
        ck_assert_uint_eq(T.s->n_layers, 1);
        _cleanup_free_ char *id = NULL;
        ck_assert_int_eq(image_resolve(T.s, "good:1", &id, &e), 0);
        /* and the tag still points at the first image */
        ck_assert_int_eq(T.s->n_images, 1);
        ck_assert_str_eq(T.s->images[0]->id, id);
        free(good.p), free(bad.p), free(a.p), free(b.p);
}
END_TEST

/* A data root on a 16 MiB tmpfs and an image of ~50 MB. */
START_TEST(test_disk_full)
{
        tstore_open_sized(&T, drivers[_i], 16);
        _cleanup_free_ char *dir = xasprintf("/tmp/berth-check-big.%d", (int)getpid());
        run_cmd("mkdir -p '%s'", dir);
        _cleanup_free_ char *tar = mkimage(dir, "big");
        struct berth_err e = {0};
        int r = load_file(&T, tar, NULL, &e);
        run_cmd("rm -rf '%s'", dir);
        ck_assert_msg(r == -ENOSPC || r == -EFBIG, "got %d: %s", r, e.msg);
        ck_assert_msg(strstr(e.msg, "No space left on device") || strstr(e.msg, "bytes free"), "%s",
                      e.msg);
        assert_store_empty(&T);
}
END_TEST

/* Room to spool the archive but not to unpack it as well: the failure
 * comes from the layer writes (ENOSPC or the per-entry free-space check). */
START_TEST(test_disk_full_late)
{
        tstore_open_sized(&T, drivers[_i], 72);
        _cleanup_free_ char *dir = xasprintf("/tmp/berth-check-big.%d", (int)getpid());
        run_cmd("mkdir -p '%s'", dir);
        _cleanup_free_ char *tar = mkimage(dir, "big");
        struct berth_err e = {0};
        int r = load_file(&T, tar, NULL, &e);
        run_cmd("rm -rf '%s'", dir);
        ck_assert_msg(r == -ENOSPC || r == -EFBIG, "got %d: %s", r, e.msg);
        ck_assert_msg(strstr(e.msg, "No space left on device") || strstr(e.msg, "bytes free"), "%s",
                      e.msg);
        assert_store_empty(&T);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("image-hostile");
        TCase *tc = tcase_create("refusals");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_dotdot, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_dotdot_inner, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_absolute, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_symlink_escape, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_symlink_escape_relative, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_hardlink_escape, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_absurd_size, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_truncated_layer, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_truncated_archive, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_diff_id_mismatch, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_config_digest_mismatch, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_manifest_not_json, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_manifest_lacks_layers, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_config_not_json, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_config_lacks_rootfs, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_not_an_archive, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_outer_escape, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_failure_keeps_existing, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_disk_full, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_disk_full_late, 0, N_DRIVERS);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
