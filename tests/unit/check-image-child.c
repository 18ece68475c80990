/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Child images, as build steps and commit make them: the chain of parents,
 * diff IDs and empty_layer history entries, listing and pruning of
 * intermediate images, the usage figures the build cache reads. */
#include "check-main.h"
#include "image-test.h"

static const char *drivers[] = {"vfs", "overlay2"};
#define N_DRIVERS ((int)ELEMENTSOF(drivers))

static struct tstore T;

static void teardown(void)
{
        tstore_close(&T);
}

static struct membuf layer_with(const char *name, const char *data)
{
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, name, data);
        return tarb_finish(&t);
}

/* A file in the store's tmp/ holding bytes, as the executor makes one. */
static char *tmp_tar(const void *p, size_t n)
{
        struct berth_err e = {0};
        char *path = NULL;
        int fd = image_store_tmpfile(T.s, &path, &e);
        ck_assert_msg(fd >= 0, "%s", e.msg);
        ck_assert_int_eq(loop_write(fd, p, n), 0);
        close(fd);
        return path;
}

static json_t *inspect(const char *id)
{
        struct berth_err e = {0};
        json_t *o = NULL;
        ck_assert_msg(image_inspect(T.s, id, &o, &e) == 0, "%s", e.msg);
        return o;
}

static json_t *config_of(const char *id)
{
        struct berth_err e = {0};
        json_t *c = NULL;
        ck_assert_msg(image_config(T.s, id, &c, &e) == 0, "%s", e.msg);
        return c;
}

static size_t n_diff_ids(const char *id)
{
        _cleanup_json_p_ json_t *c = config_of(id);
        return json_array_size(json_object_get(json_object_get(c, "rootfs"), "diff_ids"));
}

/* the last history entry of an image */
static bool last_step_empty(const char *id, const char *created_by)
{
        _cleanup_json_p_ json_t *c = config_of(id);
        json_t *h = json_object_get(c, "history");
        json_t *last = json_array_get(h, json_array_size(h) - 1);
        ck_assert_str_eq(json_string_value(json_object_get(last, "created_by")), created_by);
        ck_assert_ptr_nonnull(json_object_get(last, "created"));
        return json_is_true(json_object_get(last, "empty_layer"));
}

static const char *parent_of(json_t *inspected)
{
        return json_string_value(json_object_get(inspected, "Parent"));
}

static size_t list_count(bool all)
{
        struct berth_err e = {0};
        struct image_list_opts o = {.all = all};
        _cleanup_json_p_ json_t *l = NULL;
        ck_assert_msg(image_list(T.s, &o, &l, &e) == 0, "%s", e.msg);
        return json_array_size(l);
}

static struct image_usage usage(const char *id)
{
        struct berth_err e = {0};
        struct image_usage u;
        ck_assert_msg(image_usage(T.s, id, &u, &e) == 0, "%s", e.msg);
        return u;
}

START_TEST(test_chain)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf la = layer_with("a", "aaaa"), ld = layer_with("d", "dddddd");
        char da[72], dd[72];
        sha256_digest(la.p, la.len, da);
        sha256_digest(ld.p, ld.len, dd);

        /* FROM scratch, ADD: the host's platform and one layer */
        _cleanup_free_ char *ta = tmp_tar(la.p, la.len);
        _cleanup_json_p_ json_t *cfg_a = json_pack("{s:[s]}", "Cmd", "sh");
        _cleanup_json_p_ json_t *cc_a =
            json_pack("{s:[s,s,s]}", "Cmd", "/bin/sh", "-c", "#(nop) ADD file:1 in / ");
        struct image_child ca = {.config = cfg_a,
                                 .container_config = cc_a,
                                 .created_by = "/bin/sh -c #(nop) ADD file:1 in / ",
                                 .layer_tar = ta};
        _cleanup_free_ char *A = NULL;
        int r = image_add_child(T.s, &ca, &A, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert(digest_valid(A));
        ck_assert_msg(access(ta, F_OK) < 0, "the tar in tmp/ was not moved in");
        {
                _cleanup_json_p_ json_t *c = config_of(A);
                ck_assert_str_eq(json_string_value(json_object_get(c, "os")), "linux");
                ck_assert_ptr_nonnull(json_string_value(json_object_get(c, "architecture")));
                json_t *ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
                ck_assert_uint_eq(json_array_size(ids), 1);
                ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), da);
                ck_assert_uint_eq(json_array_size(json_object_get(c, "history")), 1);
                ck_assert_str_eq(json_string_value(json_array_get(
                                     json_object_get(json_object_get(c, "config"), "Cmd"), 0)),
                                 "sh");
                ck_assert_ptr_null(json_object_get(c, "container"));
        }
        ck_assert(!last_step_empty(A, "/bin/sh -c #(nop) ADD file:1 in / "));
        _cleanup_json_p_ json_t *ia = inspect(A);
        ck_assert_str_eq(parent_of(ia), "");
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(ia, "ContainerConfig"), "Image")),
            "");
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(json_object_get(ia, "ContainerConfig"), "Cmd"), 2)),
                         "#(nop) ADD file:1 in / ");

        /* ENV: no layer at all */
        _cleanup_json_p_ json_t *cfg_b = json_pack("{s:[s], s:[s]}", "Cmd", "sh", "Env", "X=1");
        struct image_child cb = {.parent_id = A,
                                 .config = cfg_b,
                                 .container_id = "c0ffee",
                                 .created_by = "/bin/sh -c #(nop)  ENV X=1",
                                 .author = "me"};
        _cleanup_free_ char *B = NULL;
        ck_assert_msg(image_add_child(T.s, &cb, &B, &e) == 0, "%s", e.msg);
        ck_assert_uint_eq(n_diff_ids(B), 1);
        ck_assert(last_step_empty(B, "/bin/sh -c #(nop)  ENV X=1"));
        _cleanup_json_p_ json_t *ib = inspect(B);
        ck_assert_str_eq(parent_of(ib), A);
        ck_assert_str_eq(json_string_value(json_object_get(ib, "Container")), "c0ffee");
        ck_assert_str_eq(json_string_value(json_object_get(ib, "Author")), "me");
        ck_assert_str_eq(json_string_value(json_array_get(
                             json_object_get(json_object_get(ib, "Config"), "Env"), 0)),
                         "X=1");

        /* RUN that changed nothing: a tar of the end-of-archive blocks alone */
        char zeros[1024] = {0};
        _cleanup_free_ char *tc = tmp_tar(zeros, sizeof(zeros));
        struct image_child cc = {
            .parent_id = B, .config = cfg_b, .created_by = "/bin/sh -c true", .layer_tar = tc};
        _cleanup_free_ char *C = NULL;
        ck_assert_msg(image_add_child(T.s, &cc, &C, &e) == 0, "%s", e.msg);
        ck_assert_msg(access(tc, F_OK) < 0, "the empty tar in tmp/ was left behind");
        ck_assert_uint_eq(n_diff_ids(C), 1);
        ck_assert(last_step_empty(C, "/bin/sh -c true"));
        _cleanup_json_p_ json_t *ic = inspect(C);
        ck_assert_str_eq(parent_of(ic), B);
        /* the author comes from the parent when the step names none */
        ck_assert_str_eq(json_string_value(json_object_get(ic, "Author")), "me");
        /* no layer of its own: as big as its parent, and nothing of its own */
        ck_assert_int_eq(json_integer_value(json_object_get(ic, "Size")),
                         json_integer_value(json_object_get(ib, "Size")));

        /* RUN with changes, the tar outside the store: copied, left in place.
         * The parent's layer tar is removed first: a step must not read the
         * layers below it again. */
        _cleanup_free_ char *bp = blob_path(T.s, da);
        ck_assert_int_eq(unlink(bp), 0);
        _cleanup_free_ char *outside = xasprintf("%s/d.tar", T.root);
        ck_assert_int_eq(write_file_atomic(outside, ld.p, ld.len, 0600), 0);
        struct image_child cd = {.parent_id = C,
                                 .config = cfg_b,
                                 .created_by = "/bin/sh -c echo dddddd > d",
                                 .comment = "a step",
                                 .layer_tar = outside};
        _cleanup_free_ char *D = NULL;
        ck_assert_msg(image_add_child(T.s, &cd, &D, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(access(outside, F_OK), 0);
        {
                _cleanup_json_p_ json_t *c = config_of(D);
                json_t *ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
                ck_assert_uint_eq(json_array_size(ids), 2);
                ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), da);
                ck_assert_str_eq(json_string_value(json_array_get(ids, 1)), dd);
                json_t *h = json_object_get(c, "history");
                ck_assert_uint_eq(json_array_size(h), 4);
                ck_assert_str_eq(
                    json_string_value(json_object_get(json_array_get(h, 3), "comment")), "a step");
                ck_assert_ptr_null(json_object_get(c, "comment"));
        }
        ck_assert(!last_step_empty(D, "/bin/sh -c echo dddddd > d"));
        _cleanup_json_p_ json_t *id_ = inspect(D);
        ck_assert_str_eq(parent_of(id_), C);
        ck_assert_uint_eq(
            json_array_size(json_object_get(json_object_get(id_, "RootFS"), "Layers")), 2);
        /* the new layer sits on the parent's: both files are in the rootfs */
        {
                _cleanup_free_ char *top = NULL;
                ck_assert_int_eq(image_top_layer(T.s, D, &top, &e), 0);
                char path[PATH_MAX];
                ck_assert_msg(berth_storage_get(T.drv, top, NULL, 0, path, sizeof(path), &e) == 0,
                              "%s", e.msg);
                _cleanup_free_ char *fa = xasprintf("%s/a", path), *fd = xasprintf("%s/d", path);
                ck_assert_int_eq(access(fa, F_OK), 0);
                ck_assert_int_eq(access(fd, F_OK), 0);
                ck_assert_int_eq(berth_storage_put(T.drv, top, 0, &e), 0);
        }
        /* history: four rows, the empty steps without a size */
        {
                _cleanup_json_p_ json_t *h = NULL;
                ck_assert_int_eq(image_history(T.s, D, &h, &e), 0);
                ck_assert_uint_eq(json_array_size(h), 4);
                ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 0), "Size")),
                                 6);
                ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 1), "Size")),
                                 0);
                ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(h, 3), "Size")),
                                 4);
        }
        ck_assert_int_eq(image_tag(T.s, D, "app:1", &e), 0);

        /* intermediates: hidden from image ls, shown by -a */
        ck_assert_uint_eq(list_count(false), 1);
        ck_assert_uint_eq(list_count(true), 4);

        /* the usage figures */
        struct image_usage u = usage(D);
        ck_assert(u.tagged && !u.has_children && !u.in_use);
        ck_assert_int_eq(u.own_size, 6);
        u = usage(A);
        ck_assert(!u.tagged && u.has_children);
        ck_assert_int_eq(u.own_size, 0); /* its layer is in every child */
        u = usage(C);
        ck_assert(!u.tagged && u.has_children);
        ck_assert_int_eq(u.own_size, 0);
        ck_assert_int_eq(image_usage(T.s, "sha256:0000", &u, &e), -ENOENT);

        /* a missing parent: refused, the tar in tmp/ consumed, nothing added */
        _cleanup_free_ char *tx = tmp_tar(ld.p, ld.len);
        struct image_child cx = {.parent_id = "sha256:"
                                              "00000000000000000000000000000000000000000000000000"
                                              "00000000000000",
                                 .config = cfg_b,
                                 .created_by = "x",
                                 .layer_tar = tx};
        ck_assert_int_eq(image_add_child(T.s, &cx, NULL, &e), -ENOENT);
        ck_assert_msg(strstr(e.msg, "No such image"), "%s", e.msg);
        ck_assert_int_lt(access(tx, F_OK), 0);
        ck_assert_uint_eq(image_count(T.s), 4);

        /* rmi of the tagged head takes its untagged parents along */
        json_t *out = NULL;
        ck_assert_msg(image_remove(T.s, "app:1", false, false, &out, &e) == 0, "%s", e.msg);
        size_t deleted = 0;
        for (size_t i = 0; i < json_array_size(out); i++)
                deleted += json_object_get(json_array_get(out, i), "Deleted") != NULL;
        ck_assert_uint_eq(deleted, 4);
        json_decref(out);
        assert_store_empty(&T);
        free(la.p), free(ld.p);
}
END_TEST

/* An untagged parent with a child cannot go; once the child is gone, its
 * own layer is its own. */
START_TEST(test_usage_after_child_goes)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf la = layer_with("a", "aaaa"), lb = layer_with("b", "bb");
        _cleanup_free_ char *ta = tmp_tar(la.p, la.len), *tb = tmp_tar(lb.p, lb.len);
        _cleanup_json_p_ json_t *cfg = json_object();
        struct image_child ca = {.config = cfg, .created_by = "a", .layer_tar = ta};
        _cleanup_free_ char *A = NULL, *B = NULL;
        ck_assert_msg(image_add_child(T.s, &ca, &A, &e) == 0, "%s", e.msg);
        struct image_child cb = {.parent_id = A, .config = cfg, .created_by = "b", .layer_tar = tb};
        ck_assert_msg(image_add_child(T.s, &cb, &B, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(usage(A).own_size, 0);
        ck_assert_int_eq(usage(B).own_size, 2);
        json_t *out = NULL;
        ck_assert_int_eq(image_remove(T.s, A, false, false, &out, &e), -EBUSY);
        ck_assert_msg(strstr(e.msg, "dependent child images"), "%s", e.msg);
        /* noprune: the parent stays, and now owns its layer */
        ck_assert_int_eq(image_remove(T.s, B, false, true, &out, &e), 0);
        json_decref(out);
        struct image_usage u = usage(A);
        ck_assert(!u.tagged && !u.has_children);
        ck_assert_int_eq(u.own_size, 4);
        ck_assert_uint_eq(list_count(false), 1);
        free(la.p), free(lb.p);
}
END_TEST

/* commit: the container's image becomes the new image's parent, and a
 * container that changed nothing adds no layer. */
START_TEST(test_commit_parent)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf la = layer_with("a", "aaaa"), lc = layer_with("c", "ccc");
        _cleanup_free_ char *ta = tmp_tar(la.p, la.len);
        _cleanup_json_p_ json_t *cfg = json_pack("{s:[s]}", "Cmd", "sh");
        struct image_child ca = {.config = cfg, .created_by = "a", .layer_tar = ta};
        _cleanup_free_ char *A = NULL;
        ck_assert_msg(image_add_child(T.s, &ca, &A, &e) == 0, "%s", e.msg);
        _cleanup_free_ char *top = NULL;
        ck_assert_int_eq(image_top_layer(T.s, A, &top, &e), 0);

        /* a container with one new file */
        ck_assert_msg(berth_storage_create(T.drv, "ctr1", top, NULL, 0, &e) == 0, "%s", e.msg);
        _cleanup_close_ int fd = mem_fd(lc.p, lc.len);
        ck_assert_msg(
            berth_storage_apply_diff(T.drv, "ctr1", top, fd, BERTH_WHITEOUT_AUFS, 0, NULL, &e) == 0,
            "%s", e.msg);
        _cleanup_json_p_ json_t *ccfg = json_pack("{s:[s,s]}", "Cmd", "touch", "c");
        _cleanup_free_ char *C1 = NULL;
        int r = image_commit_container(T.s, A, T.drv, "ctr1", ccfg, NULL, "msg", "au", "com:1", &C1,
                                       &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        _cleanup_json_p_ json_t *i1 = inspect("com:1");
        ck_assert_str_eq(parent_of(i1), A);
        ck_assert_str_eq(json_string_value(json_object_get(i1, "Comment")), "msg");
        ck_assert_uint_eq(n_diff_ids(C1), 2);

        /* a container that changed nothing */
        ck_assert_msg(berth_storage_create(T.drv, "ctr2", top, NULL, 0, &e) == 0, "%s", e.msg);
        _cleanup_free_ char *C2 = NULL;
        r = image_commit_container(T.s, A, T.drv, "ctr2", ccfg, NULL, NULL, NULL, NULL, &C2, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_uint_eq(n_diff_ids(C2), 1);
        _cleanup_json_p_ json_t *c2 = config_of(C2);
        json_t *h = json_object_get(c2, "history");
        ck_assert(json_is_true(
            json_object_get(json_array_get(h, json_array_size(h) - 1), "empty_layer")));
        _cleanup_json_p_ json_t *i2 = inspect(C2);
        ck_assert_str_eq(parent_of(i2), A);

        /* the base has children now: by ID it cannot go */
        json_t *out = NULL;
        ck_assert_int_eq(image_remove(T.s, A, false, false, &out, &e), -EBUSY);
        ck_assert_int_eq(berth_storage_remove(T.drv, "ctr1", 0, &e), 0);
        ck_assert_int_eq(berth_storage_remove(T.drv, "ctr2", 0, &e), 0);
        ck_assert_int_eq(image_remove(T.s, C2, false, false, &out, &e), 0);
        json_decref(out);
        /* rmi of the commit prunes the untagged base */
        ck_assert_int_eq(image_remove(T.s, "com:1", false, false, &out, &e), 0);
        json_decref(out);
        assert_store_empty(&T);
        free(la.p), free(lc.p);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("image-child");
        TCase *tc = tcase_create("child");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_chain, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_usage_after_child_goes, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_commit_parent, 0, N_DRIVERS);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
