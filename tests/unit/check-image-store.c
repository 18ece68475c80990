/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image store: references, load through each storage driver with the
 * layering visible in the rootfs, shared layers, tags and removal, crash
 * repair, import, save round trip, list/inspect/history/prune/df. */
#include "check-main.h"
#include "image-test.h"

static const char *drivers[] = {"vfs", "overlay2"};
#define N_DRIVERS ((int)ELEMENTSOF(drivers))

static struct tstore T;

static void teardown(void)
{
        tstore_close(&T);
}

START_TEST(test_ref_parse)
{
        static const struct {
                const char *in, *full, *familiar;
        } ok[] = {
            {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
            {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
            {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
            {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest",
             "busybox:latest"},
            {"index.docker.io/library/busybox", "docker.io/library/busybox:latest",
             "busybox:latest"},
            {"myrepo/bb", "docker.io/myrepo/bb:latest", "myrepo/bb:latest"},
            {"docker.io/myrepo/bb:v1", "docker.io/myrepo/bb:v1", "myrepo/bb:v1"},
            {"localhost:5000/a/b:tag", "localhost:5000/a/b:tag", "localhost:5000/a/b:tag"},
            {"localhost/x", "localhost/x:latest", "localhost/x:latest"},
            {"quay.io/a/b-c_d.e:1.0-rc", "quay.io/a/b-c_d.e:1.0-rc", "quay.io/a/b-c_d.e:1.0-rc"},
            {"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "docker.io/library/"
             "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
             "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                struct image_ref r;
                struct berth_err e = {0};
                ck_assert_msg(image_ref_parse(ok[i].in, &r, &e) == 0, "%s: %s", ok[i].in, e.msg);
                _cleanup_free_ char *full = image_ref_full(&r);
                ck_assert_str_eq(full, ok[i].full);
                _cleanup_free_ char *fam = image_ref_familiar(full);
                ck_assert_str_eq(fam, ok[i].familiar);
                image_ref_done(&r);
        }
        static const char *bad[] = {
            "",      "Busybox",
            "a//b",  "a:",
            "-a",    "a@sha256:12",
            "a:b:c", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct image_ref r;
                struct berth_err e = {0};
                ck_assert_msg(image_ref_parse(bad[i], &r, &e) == -EINVAL, "'%s' was accepted",
                              bad[i]);
                ck_assert_ptr_nonnull(strstr(e.msg, "invalid"));
        }
}
END_TEST

/* The names that once entered the store with a wrong meaning, the length
 * limit as Docker counts it, and tags given apart from their repository. */
START_TEST(test_ref_parse_strict)
{
        static const struct {
                const char *in, *msg;
        } bad[] = {
            {"../x:latest", "invalid reference format"},
            {"repo:../y", "invalid reference format"},
            {"repo:a/b", "invalid reference format"},
            {"a..b/c", "invalid reference format"},
            {".x/y", "invalid reference format"},
            {"x-/y:1", "invalid reference format"},
            {"my.reg:port/y", "invalid reference format"},
            {"my.reg:123456/y", "invalid reference format"},
            {"reg.io./y", "invalid reference format"},
            {"Repo/x", "repository name must be lowercase"},
            {"x:.tag", "invalid reference format"},
            {"x:-tag", "invalid reference format"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct image_ref r;
                struct berth_err e = {0};
                ck_assert_msg(image_ref_parse(bad[i].in, &r, &e) == -EINVAL, "'%s' was accepted",
                              bad[i].in);
                ck_assert_msg(strstr(e.msg, bad[i].msg), "'%s': %s", bad[i].in, e.msg);
        }
        static const char *ok[] = {"my-reg.example.com:5000/a/b:v1", "localhost:5000/x",
                                   "10.0.0.1:5000/x:y", "[::1]:5000/x", "a_b/c__d:Tag_1.2-x"};
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                struct image_ref r;
                struct berth_err e = {0};
                ck_assert_msg(image_ref_parse(ok[i], &r, &e) == 0, "%s: %s", ok[i], e.msg);
                image_ref_done(&r);
        }

        /* 255 as stored: "docker.io/library/" (18) and 237 fit, 238 do not */
        char name[300];
        memset(name, 'a', sizeof(name));
        for (size_t n = 237; n <= 238; n++) {
                name[n] = '\0';
                struct image_ref r;
                struct berth_err e = {0};
                int rc = image_ref_parse(name, &r, &e);
                if (n == 237) {
                        ck_assert_int_eq(rc, 0);
                        image_ref_done(&r);
                } else {
                        ck_assert_int_eq(rc, -EINVAL);
                        ck_assert_str_eq(e.msg,
                                         "repository name must not be more than 255 characters");
                }
                name[n] = 'a';
        }
        name[299] = '\0';
        struct image_ref r;
        struct berth_err e = {0};
        ck_assert_int_eq(image_ref_parse(name, &r, &e), -EINVAL);
        ck_assert_str_eq(e.msg, "repository name must not be more than 255 characters");

        /* tags: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
        ck_assert(image_tag_valid("v1.0-rc_2"));
        ck_assert(image_tag_valid("_x"));
        ck_assert(!image_tag_valid(""));
        ck_assert(!image_tag_valid(".x"));
        ck_assert(!image_tag_valid("-x"));
        ck_assert(!image_tag_valid("a/b"));
        ck_assert(!image_tag_valid("../y"));
        ck_assert(!image_tag_valid("a:b"));
        char tag[130];
        memset(tag, 't', sizeof(tag));
        tag[128] = '\0';
        ck_assert(image_tag_valid(tag));
        tag[128] = 't';
        tag[129] = '\0';
        ck_assert(!image_tag_valid(tag));

        _cleanup_free_ char *joined = NULL;
        ck_assert_int_eq(image_ref_join("repo", "v1", &joined, &e), 0);
        ck_assert_str_eq(joined, "repo:v1");
        free(joined);
        joined = NULL;
        ck_assert_int_eq(image_ref_join("repo", "", &joined, &e), 0);
        ck_assert_str_eq(joined, "repo");
        free(joined);
        joined = NULL;
        /* "img" and "5000/x" would make the valid name img:5000/x */
        ck_assert_int_eq(image_ref_join("img", "5000/x", &joined, &e), -EINVAL);
        ck_assert_str_eq(e.msg, "invalid tag format: '5000/x'");
        ck_assert_ptr_null(joined);
}
END_TEST

static bool path_exists(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        struct stat st;
        return lstat(p, &st) == 0;
}

static char *read_rel(const char *root, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
        char *s = NULL;
        size_t n;
        if (read_full_file(p, &s, &n) < 0)
                return NULL;
        return s;
}

/* The layering of mkimage.sh's "multi", seen in a mounted rootfs. */
static void check_multi_rootfs(const char *root)
{
        ck_assert(path_exists(root, "bin/busybox"));
        ck_assert(path_exists(root, "bin/sh"));
        ck_assert_msg(!path_exists(root, "etc/deleteme"), "whiteout not honoured");
        ck_assert_msg(!path_exists(root, "data/file"), "whiteout of a lower file not honoured");
        ck_assert_msg(!path_exists(root, "opt/dir/a") && !path_exists(root, "opt/dir/b"),
                      "opaque directory not honoured");
        _cleanup_free_ char *c = read_rel(root, "opt/dir/c");
        ck_assert_str_eq(c, "c\n");
        _cleanup_free_ char *motd = read_rel(root, "etc/motd");
        ck_assert_str_eq(motd, "welcome to multi\n");
        _cleanup_free_ char *a = xasprintf("%s/data/file2", root),
                            *b = xasprintf("%s/data/hard", root),
                            *l = xasprintf("%s/data/link", root);
        struct stat sa, sb, sl;
        ck_assert_int_eq(lstat(a, &sa), 0);
        ck_assert_int_eq(lstat(b, &sb), 0);
        ck_assert_msg(sa.st_ino == sb.st_ino, "hard link is not a hard link");
        ck_assert_int_eq(lstat(l, &sl), 0);
        ck_assert(S_ISLNK(sl.st_mode));
        char tgt[64] = "";
        ck_assert_int_eq(readlink(l, tgt, sizeof(tgt) - 1), 5);
        ck_assert_str_eq(tgt, "file2");
        /* no whiteout device leaks into the view */
        ck_assert(!path_exists(root, "etc/.wh.deleteme"));
}

START_TEST(test_load_multi)
{
        tstore_open(&T, drivers[_i]);
        _cleanup_free_ char *tar = mkimage(T.root, "multi");
        struct berth_err e = {0};
        json_t *res = NULL;
        int r = load_file(&T, tar, &res, &e);
        ck_assert_msg(r == 0, "load: %s", e.msg);
        ck_assert_str_eq(json_string_value(json_array_get(res, 0)), "Loaded image: multi:latest");
        json_decref(res);

        _cleanup_free_ char *id = NULL;
        ck_assert_int_eq(image_resolve(T.s, "multi", &id, &e), 0);
        _cleanup_free_ char *id2 = NULL;
        ck_assert_int_eq(image_resolve(T.s, "docker.io/library/multi:latest", &id2, &e), 0);
        ck_assert_str_eq(id, id2);
        _cleanup_free_ char *prefix = xstrndup(id + 7, 12), *id3 = NULL;
        ck_assert_int_eq(image_resolve(T.s, prefix, &id3, &e), 0);
        ck_assert_str_eq(id, id3);
        char *none = NULL;
        ck_assert_int_eq(image_resolve(T.s, "nope", &none, &e), -ENOENT);
        ck_assert_str_eq(e.msg, "No such image: nope");

        /* the rootfs through the driver */
        _cleanup_free_ char *cache = NULL;
        ck_assert_int_eq(image_top_layer(T.s, id, &cache, &e), 0);
        char path[4096];
        r = berth_storage_get(T.drv, cache, NULL, 0, path, sizeof(path), &e);
        ck_assert_msg(r == 0, "get: %s", e.msg);
        check_multi_rootfs(path);
        ck_assert_int_eq(berth_storage_put(T.drv, cache, 0, &e), 0);

        /* inspect */
        json_t *o = NULL;
        ck_assert_int_eq(image_inspect(T.s, "multi:latest", &o, &e), 0);
        ck_assert_str_eq(json_string_value(json_object_get(o, "Id")), id);
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "RepoTags"), 0)),
                         "multi:latest");
        ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o, "RootFS"), "Layers")),
                          4);
        ck_assert(json_is_object(json_object_get(o, "ContainerConfig")));
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(o, "GraphDriver"), "Name")),
            drivers[_i]);
        ck_assert_str_eq(json_string_value(json_object_get(o, "Created")), "2024-01-01T00:00:00Z");
        ck_assert_int_gt(json_integer_value(json_object_get(o, "Size")), 1000000);
        json_decref(o);

        /* history: newest first, one row per history entry */
        ck_assert_int_eq(image_history(T.s, "multi", &o, &e), 0);
        ck_assert_uint_eq(json_array_size(o), 4);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 0), "Id")), id);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(o, 0), "CreatedBy")),
                         "RUN rm /data/file");
        json_decref(o);

        /* survives a reopen */
        tstore_reopen(&T);
        ck_assert_uint_eq(image_count(T.s), 1);
        ck_assert_int_eq(image_resolve(T.s, "multi", &none, &e), 0);
        free(none);
}
END_TEST

static struct membuf layer_with(const char *name, const char *data)
{
        struct tarb t;
        tarb_init(&t);
        tarb_file(&t, name, data);
        return tarb_finish(&t);
}

START_TEST(test_shared_layers_and_rm)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf l1 = layer_with("base", "base\n"), l2 = layer_with("top", "top\n");
        struct membuf la[] = {l1}, lb[] = {l1, l2};
        struct darchive_opts oa = {.tag = "a:1"}, ob = {.tag = "b:1"};
        struct membuf A = make_darchive(la, 1, &oa), B = make_darchive(lb, 2, &ob);
        ck_assert_msg(load_mem(&T, &A, &e) == 0, "%s", e.msg);
        ck_assert_msg(load_mem(&T, &B, &e) == 0, "%s", e.msg);
        /* identical layers stored once */
        ck_assert_uint_eq(T.s->n_layers, 2);
        /* loading again changes nothing */
        ck_assert_msg(load_mem(&T, &B, &e) == 0, "%s", e.msg);
        ck_assert_uint_eq(T.s->n_layers, 2);
        ck_assert_uint_eq(image_count(T.s), 2);

        /* df: shared layer counted once */
        json_t *df = NULL;
        ck_assert_int_eq(image_df(T.s, &df, &e), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(df, "LayersSize")), 9);
        json_decref(df);

        /* two names: rm of one only untags */
        ck_assert_int_eq(image_tag(T.s, "a:1", "a:2", &e), 0);
        json_t *out = NULL;
        ck_assert_int_eq(image_remove(T.s, "a:1", false, false, &out, &e), 0);
        ck_assert_uint_eq(json_array_size(out), 1);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "Untagged")),
                         "a:1");
        json_decref(out);
        /* by ID with a name left: allowed (one name) */
        _cleanup_free_ char *ida = NULL;
        ck_assert_int_eq(image_resolve(T.s, "a:2", &ida, &e), 0);
        ck_assert_int_eq(image_tag(T.s, ida, "a:3", &e), 0);
        ck_assert_int_eq(image_remove(T.s, ida, false, false, &out, &e), -EBUSY);
        ck_assert_ptr_nonnull(strstr(e.msg, "must be forced"));
        ck_assert_int_eq(image_remove(T.s, ida, true, false, &out, &e), 0);
        ck_assert_uint_eq(json_array_size(out), 3); /* 2 untagged + deleted */
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 2), "Deleted")),
                         ida);
        json_decref(out);
        /* the shared layer stays for b */
        ck_assert_uint_eq(T.s->n_layers, 2);
        _cleanup_free_ char *cache = NULL;
        ck_assert_int_eq(image_top_layer(T.s, "b:1", &cache, &e), 0);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(T.drv, cache, NULL, 0, path, sizeof(path), &e), 0);
        ck_assert(path_exists(path, "base") && path_exists(path, "top"));
        ck_assert_int_eq(berth_storage_put(T.drv, cache, 0, &e), 0);

        ck_assert_int_eq(image_remove(T.s, "b:1", false, false, &out, &e), 0);
        json_decref(out);
        ck_assert_int_eq(image_remove(T.s, "b:1", false, false, &out, &e), -ENOENT);
        ck_assert_str_eq(e.msg, "No such image: b:1");
        assert_store_empty(&T);
        free(l1.p), free(l2.p), free(A.p), free(B.p);
}
END_TEST

static int fake_usage(void *ud, const char *id, char *who, size_t len)
{
        if (who)
                snprintf(who, len, "c0ffee0123456789");
        return 1;
}

START_TEST(test_in_use)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf l1 = layer_with("f", "x");
        struct darchive_opts o = {.tag = "u:1"};
        struct membuf A = make_darchive(&l1, 1, &o);
        ck_assert_msg(load_mem(&T, &A, &e) == 0, "%s", e.msg);
        image_store_set_usage_fn(T.s, fake_usage, NULL);
        json_t *out = NULL;
        ck_assert_int_eq(image_remove(T.s, "u:1", false, false, &out, &e), -EBUSY);
        ck_assert_ptr_nonnull(
            strstr(e.msg, "conflict: unable to remove repository reference \"u:1\" (must force) - "
                          "container c0ffee012345 is using"));
        /* force: untag, the image stays (dangling) */
        ck_assert_int_eq(image_remove(T.s, "u:1", true, false, &out, &e), 0);
        json_decref(out);
        ck_assert_uint_eq(image_count(T.s), 1);
        /* prune leaves images in use */
        ck_assert_int_eq(image_prune(T.s, NULL, &out, &e), 0);
        ck_assert(json_is_null(json_object_get(out, "ImagesDeleted")));
        json_decref(out);
        image_store_set_usage_fn(T.s, NULL, NULL);
        ck_assert_int_eq(image_prune(T.s, NULL, &out, &e), 0);
        ck_assert_uint_eq(json_array_size(json_object_get(out, "ImagesDeleted")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(out, "SpaceReclaimed")), 1);
        json_decref(out);
        assert_store_empty(&T);
        free(l1.p), free(A.p);
}
END_TEST

START_TEST(test_list_and_prune)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf l1 = layer_with("f", "1"), l2 = layer_with("g", "2");
        struct darchive_opts o1 = {.tag = "one:latest"}, o2 = {.tag = "two:latest"};
        struct membuf A = make_darchive(&l1, 1, &o1), B = make_darchive(&l2, 1, &o2);
        ck_assert(load_mem(&T, &A, &e) == 0 && load_mem(&T, &B, &e) == 0);
        json_t *l = NULL;
        struct image_list_opts lo = {0};
        ck_assert_int_eq(image_list(T.s, &lo, &l, &e), 0);
        ck_assert_uint_eq(json_array_size(l), 2);
        json_decref(l);
        lo.filters = "{\"reference\":{\"one\":true}}";
        ck_assert_int_eq(image_list(T.s, &lo, &l, &e), 0);
        ck_assert_uint_eq(json_array_size(l), 1);
        ck_assert_str_eq(
            json_string_value(json_array_get(json_object_get(json_array_get(l, 0), "RepoTags"), 0)),
            "one:latest");
        json_decref(l);
        /* retag two's name onto one: two becomes dangling */
        ck_assert_int_eq(image_tag(T.s, "one", "two", &e), 0);
        lo.filters = "{\"dangling\":[\"true\"]}";
        ck_assert_int_eq(image_list(T.s, &lo, &l, &e), 0);
        ck_assert_uint_eq(json_array_size(l), 1);
        ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(l, 0), "RepoTags")), 0);
        json_decref(l);
        lo.filters = "{\"label\":{\"nope\":true}}";
        ck_assert_int_eq(image_list(T.s, &lo, &l, &e), 0);
        ck_assert_uint_eq(json_array_size(l), 0);
        json_decref(l);
        lo.filters = "{bad";
        ck_assert_int_eq(image_list(T.s, &lo, &l, &e), -EINVAL);

        json_t *out = NULL;
        ck_assert_int_eq(image_prune(T.s, "{\"dangling\":{\"true\":true}}", &out, &e), 0);
        ck_assert_uint_eq(json_array_size(json_object_get(out, "ImagesDeleted")), 1);
        json_decref(out);
        ck_assert_uint_eq(image_count(T.s), 1);
        /* -a: every unused image */
        ck_assert_int_eq(image_prune(T.s, "{\"dangling\":{\"false\":true}}", &out, &e), 0);
        json_decref(out);
        assert_store_empty(&T);
        free(l1.p), free(l2.p), free(A.p), free(B.p);
}
END_TEST

START_TEST(test_crash_repair)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        /* a driver layer whose load died before its record */
        ck_assert_int_eq(berth_storage_create(T.drv, "deadbeef", NULL, NULL, 0, &e), 0);
        _cleanup_free_ char *pend = xasprintf("%s/tmp/pending-deadbeef", T.s->root);
        ck_assert_int_eq(write_file_atomic(pend, "", 0, 0600), 0);
        /* a spool directory and a half-written blob */
        run_cmd("mkdir -p '%s/tmp/load-x/f' && echo x > '%s/tmp/blob-abc'", T.s->root, T.s->root);
        /* a layer committed, but the image record never written */
        struct membuf l1 = layer_with("f", "x");
        char diff[72];
        sha256_digest(l1.p, l1.len, diff);
        _cleanup_free_ char *tmp = NULL;
        int fd = store_tmpfile(T.s, "t", &tmp, &e);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(loop_write(fd, l1.p, l1.len), 0);
        close(fd);
        struct layer *ly;
        bool created;
        ck_assert_int_eq(layer_add(T.s, tmp, diff, NULL, &ly, &created, &e), 0);
        ck_assert(created);
        /* an image record whose layers are missing (and a stray temp of it) */
        run_cmd("echo '{\"id\":\"sha256:%064d\"}' > '%s/images/%064d.json'; touch "
                "'%s/images/x.json.tmp.1'",
                0, T.s->root, 0, T.s->root);
        /* a tag to nothing */
        run_cmd("echo '{\"refs\":{\"docker.io/library/x:latest\":\"sha256:%064d\"}}' > "
                "'%s/repositories.json'",
                1, T.s->root);
        tstore_reopen(&T);
        ck_assert_int_eq(berth_storage_exists(T.drv, "deadbeef", 0), 0);
        assert_store_empty(&T);
        json_t *l = NULL;
        ck_assert_int_eq(image_list(T.s, NULL, &l, &e), 0);
        ck_assert_uint_eq(json_array_size(l), 0);
        json_decref(l);
        free(l1.p);
}
END_TEST

START_TEST(test_import)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct tarb t;
        tarb_init(&t);
        tarb_dir(&t, "./");
        tarb_dir(&t, "./etc");
        tarb_file(&t, "./etc/hello", "hi\n");
        struct membuf m = tarb_finish(&t);
        _cleanup_close_ int fd = mem_fd(m.p, m.len);
        const char *changes[] = {"CMD [\"/bin/sh\",\"-c\",\"cat /etc/hello\"]",
                                 "ENV A=b",
                                 "ENV C d",
                                 "WORKDIR /etc",
                                 "ENTRYPOINT /bin/env",
                                 "EXPOSE 80",
                                 NULL};
        _cleanup_free_ char *id = NULL;
        int r = image_import(T.s, fd, "imported:1", changes, "from test", &id, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        json_t *o = NULL;
        ck_assert_int_eq(image_inspect(T.s, "imported:1", &o, &e), 0);
        json_t *c = json_object_get(o, "Config");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Cmd"), 2)),
                         "cat /etc/hello");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Env"), 0)), "A=b");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Env"), 1)), "C=d");
        ck_assert_str_eq(json_string_value(json_object_get(c, "WorkingDir")), "/etc");
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "Entrypoint"), 2)),
                         "/bin/env");
        ck_assert(json_object_get(json_object_get(c, "ExposedPorts"), "80/tcp"));
        ck_assert_str_eq(json_string_value(json_object_get(o, "Comment")), "from test");
        json_decref(o);
        /* bad change */
        const char *bad[] = {"FROB x", NULL};
        ck_assert_int_eq(image_import(T.s, fd, "x", bad, NULL, NULL, &e), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e.msg, "FROB"));
        free(m.p);
}
END_TEST

START_TEST(test_save_roundtrip)
{
        tstore_open(&T, drivers[_i]);
        _cleanup_free_ char *tar = mkimage(T.root, "multi");
        struct berth_err e = {0};
        ck_assert_int_eq(load_file(&T, tar, NULL, &e), 0);
        _cleanup_free_ char *id = NULL;
        ck_assert_int_eq(image_resolve(T.s, "multi", &id, &e), 0);
        _cleanup_free_ char *out = xasprintf("%s/saved.tar", T.root);
        {
                _cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                const char *refs[] = {"multi", NULL};
                int r = image_save(T.s, refs, fd, IMAGE_SAVE_DOCKER, &e);
                ck_assert_msg(r == 0, "%s", e.msg);
        }
        const char *refs[] = {"nope", NULL};
        ck_assert_int_eq(image_save(T.s, refs, 1, IMAGE_SAVE_DOCKER, &e), -ENOENT);
        /* into an empty store: the same ID, the same tag */
        json_t *o = NULL;
        ck_assert_int_eq(image_remove(T.s, "multi", false, false, &o, &e), 0);
        json_decref(o);
        assert_store_empty(&T);
        json_t *res = NULL;
        int r = load_file(&T, out, &res, &e);
        ck_assert_msg(r == 0, "reload: %s", e.msg);
        ck_assert_str_eq(json_string_value(json_array_get(res, 0)), "Loaded image: multi:latest");
        json_decref(res);
        _cleanup_free_ char *id2 = NULL;
        ck_assert_int_eq(image_resolve(T.s, "multi", &id2, &e), 0);
        ck_assert_str_eq(id, id2);
        /* and the OCI-only layout loads too (untagged names come from annotations) */
        _cleanup_free_ char *oci = xasprintf("%s/oci.tar", T.root);
        {
                _cleanup_close_ int fd = open(oci, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                const char *r2[] = {"multi:latest", NULL};
                ck_assert_int_eq(image_save(T.s, r2, fd, IMAGE_SAVE_OCI, &e), 0);
        }
        ck_assert_int_eq(image_remove(T.s, "multi", false, false, &o, &e), 0);
        json_decref(o);
        r = load_file(&T, oci, &res, &e);
        ck_assert_msg(r == 0, "reload oci: %s", e.msg);
        ck_assert_str_eq(json_string_value(json_array_get(res, 0)), "Loaded image: multi:latest");
        json_decref(res);
}
END_TEST

START_TEST(test_gzip_layer)
{
        tstore_open(&T, drivers[_i]);
        _cleanup_free_ char *tar = mkimage(T.root, "gz");
        struct berth_err e = {0};
        int r = load_file(&T, tar, NULL, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        _cleanup_free_ char *cache = NULL;
        ck_assert_int_eq(image_top_layer(T.s, "gz", &cache, &e), 0);
        char path[4096];
        ck_assert_int_eq(berth_storage_get(T.drv, cache, NULL, 0, path, sizeof(path), &e), 0);
        ck_assert(path_exists(path, "bin/busybox"));
        ck_assert_int_eq(berth_storage_put(T.drv, cache, 0, &e), 0);
        /* a compressed docker-archive (docker save | gzip) */
        _cleanup_free_ char *bb = mkimage(T.root, "busybox");
        run_cmd("gzip -n '%s'", bb);
        _cleanup_free_ char *bbgz = xasprintf("%s.gz", bb);
        json_t *res = NULL;
        r = load_file(&T, bbgz, &res, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_str_eq(json_string_value(json_array_get(res, 0)), "Loaded image: busybox:latest");
        json_decref(res);
}
END_TEST

/* The pull/build entry point: a gzip layer file and a plain one outside
 * the store (left in place), a tag and a repo digest. */
START_TEST(test_add)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        struct membuf l1 = layer_with("one", "1"), l2 = layer_with("two", "22");
        char d1[72], d2[72];
        sha256_digest(l1.p, l1.len, d1);
        sha256_digest(l2.p, l2.len, d2);
        _cleanup_free_ char *p1 = xasprintf("%s/l1.tar", T.root),
                            *p2 = xasprintf("%s/l2.tar", T.root);
        ck_assert_int_eq(write_file_atomic(p1, l1.p, l1.len, 0600), 0);
        ck_assert_int_eq(write_file_atomic(p2, l2.p, l2.len, 0600), 0);
        run_cmd("gzip -n '%s'", p1);
        _cleanup_free_ char *p1gz = xasprintf("%s.gz", p1);
        _cleanup_free_ char *cfg = xasprintf(
            "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
            "\"diff_ids\":[\"%s\",\"%s\"]}}",
            d1, d2);
        const char *layers[] = {p1gz, p2, NULL};
        const char *names[] = {
            "pulled:1",
            "pulled@sha256:1111111111111111111111111111111111111111111111111111111111111111", NULL};
        _cleanup_free_ char *id = NULL;
        int r = image_add(T.s, cfg, strlen(cfg), layers, names, &id, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_int_eq(access(p2, F_OK), 0); /* the caller's file stays */
        json_t *o = NULL;
        ck_assert_int_eq(image_inspect(T.s, "pulled:1", &o, &e), 0);
        ck_assert_str_eq(
            json_string_value(json_array_get(json_object_get(o, "RepoDigests"), 0)),
            "pulled@sha256:1111111111111111111111111111111111111111111111111111111111111111");
        json_decref(o);
        _cleanup_free_ char *id2 = NULL;
        ck_assert_int_eq(
            image_resolve(
                T.s,
                "pulled@sha256:1111111111111111111111111111111111111111111111111111111111111111",
                &id2, &e),
            0);
        ck_assert_str_eq(id, id2);
        /* zstd: decompressed and checked against the same diff ID */
        run_cmd("zstd -q -k '%s' -o '%s.zst'", p2, p2);
        _cleanup_free_ char *p2z = xasprintf("%s.zst", p2);
        const char *zl[] = {p1gz, p2z, NULL};
        r = image_add(T.s, cfg, strlen(cfg), zl, NULL, NULL, &e);
        ck_assert_msg(r == 0, "zstd: %s", e.msg);
        /* a wrong layer: refused, nothing added */
        const char *wrong[] = {p2, p2, NULL};
        ck_assert_int_eq(image_add(T.s, cfg, strlen(cfg), wrong, NULL, NULL, &e), -EBADMSG);
        ck_assert_uint_eq(image_count(T.s), 1);
        free(l1.p), free(l2.p);
}
END_TEST

/* One store per driver: opening the data root with another driver neither
 * lists nor cleans away the first driver's images. */
START_TEST(test_driver_switch)
{
        tstore_open(&T, "vfs");
        struct berth_err e = {0};
        struct membuf l1 = layer_with("f", "x");
        struct darchive_opts o = {.tag = "keep:1"};
        struct membuf A = make_darchive(&l1, 1, &o);
        ck_assert_int_eq(load_mem(&T, &A, &e), 0);
        struct driver *ovl = NULL;
        struct image_store *s2 = NULL;
        ck_assert_int_eq(driver_load(&T.cfg, BERTH_KIND_STORAGE, "overlay2", &ovl, &e), 0);
        ck_assert_int_eq(image_store_open(T.cfg.data_root, ovl, &s2, &e), 0);
        ck_assert_uint_eq(image_count(s2), 0);
        image_store_close(s2);
        driver_unload(ovl);
        tstore_reopen(&T);
        ck_assert_uint_eq(image_count(T.s), 1);
        free(l1.p), free(A.p);
}
END_TEST

/* Older docker save links identical layer.tar files; links resolve inside
 * the archive only. */
static struct membuf linked_archive(const char *link_target, char ret_cfg_name[80])
{
        struct membuf l = layer_with("f", "x");
        char d[72];
        sha256_digest(l.p, l.len, d);
        struct tarb t;
        tarb_init(&t);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, "a/layer.tar");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)l.len);
        ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
        archive_write_data(t.a, l.p, l.len);
        archive_entry_free(e);
        tarb_symlink(&t, "b/layer.tar", link_target);
        _cleanup_free_ char *cfg = xasprintf(
            "{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", d);
        char cd[72];
        sha256_digest(cfg, strlen(cfg), cd);
        snprintf(ret_cfg_name, 80, "%s.json", cd + 7);
        tarb_file(&t, ret_cfg_name, cfg);
        _cleanup_free_ char *m = xasprintf(
            "[{\"Config\":\"%s\",\"RepoTags\":[\"linked:1\"],\"Layers\":[\"b/layer.tar\"]}]",
            ret_cfg_name);
        tarb_file(&t, "manifest.json", m);
        free(l.p);
        return tarb_finish(&t);
}

START_TEST(test_linked_layers)
{
        tstore_open(&T, drivers[_i]);
        struct berth_err e = {0};
        char cn[80];
        struct membuf a = linked_archive("../a/layer.tar", cn);
        int r = load_mem(&T, &a, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_uint_eq(image_count(T.s), 1);
        free(a.p);
        json_t *o = NULL;
        ck_assert_int_eq(image_remove(T.s, "linked:1", false, false, &o, &e), 0);
        json_decref(o);
        /* a link out of the archive */
        struct membuf b = linked_archive("../../../../etc/passwd", cn);
        ck_assert_int_eq(load_mem(&T, &b, &e), -EXDEV);
        ck_assert_msg(strstr(e.msg, "points outside the archive"), "%s", e.msg);
        assert_store_empty(&T);
        free(b.p);
        struct membuf c = linked_archive("/etc/passwd", cn);
        ck_assert_int_eq(load_mem(&T, &c, &e), -ENOENT);
        ck_assert_msg(strstr(e.msg, "the archive has no file 'b/layer.tar'"), "%s", e.msg);
        assert_store_empty(&T);
        free(c.p);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("image-store");
        TCase *tc = tcase_create("refs");
        tcase_add_test(tc, test_ref_parse);
        tcase_add_test(tc, test_ref_parse_strict);
        suite_add_tcase(s, tc);
        tc = tcase_create("store");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_load_multi, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_shared_layers_and_rm, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_in_use, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_list_and_prune, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_crash_repair, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_import, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_save_roundtrip, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_gzip_layer, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_add, 0, N_DRIVERS);
        tcase_add_test(tc, test_driver_switch);
        tcase_add_loop_test(tc, test_linked_layers, 0, N_DRIVERS);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
