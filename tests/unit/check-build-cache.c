/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build cache index over a real image store (vfs): hits and misses,
 * persistence, entries whose image went, the df figures, prune (dangling
 * vs all, keep-storage, filters) and the size bound. */
#include "check-main.h"
#include "image-test.h"
#include "build/build-cache.h"
#include "base/json.h"

#include <time.h>

static struct tstore T;
static struct build_cache *C;

static void teardown(void)
{
        C = build_cache_close(C);
        tstore_close(&T);
}

static void setup_cache(uint64_t max)
{
        struct berth_err e = {0};
        tstore_open(&T, "vfs");
        int r = build_cache_open(T.cfg.data_root, T.s, max, &C, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
}

static void reopen_cache(uint64_t max)
{
        struct berth_err e = {0};
        C = build_cache_close(C);
        int r = build_cache_open(T.cfg.data_root, T.s, max, &C, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
}

/* An image on `parent` (NULL: scratch) whose layer holds one file of
 * `size` bytes; size 0: no layer. */
static char *make_image(const char *parent, const char *name, size_t size)
{
        struct berth_err e = {0};
        _cleanup_free_ char *tar = NULL;
        if (size) {
                _cleanup_free_ char *data = xmalloc(size + 1);
                memset(data, 'x', size);
                data[size] = '\0';
                struct tarb t;
                tarb_init(&t);
                tarb_file(&t, name, data);
                struct membuf m = tarb_finish(&t);
                int fd = image_store_tmpfile(T.s, &tar, &e);
                ck_assert_msg(fd >= 0, "%s", e.msg);
                ck_assert_int_eq(loop_write(fd, m.p, m.len), 0);
                close(fd);
                free(m.p);
        }
        _cleanup_json_ json_t *cfg = json_pack("{s:[s]}", "Cmd", name);
        _cleanup_free_ char *by = xasprintf("/bin/sh -c make %s", name);
        struct image_child c = {
            .parent_id = parent, .config = cfg, .created_by = by, .layer_tar = tar};
        char *id = NULL;
        int r = image_add_child(T.s, &c, &id, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        return id;
}

/* A key: sha256 of a word, as hex */
static const char *key_of(const char *word, char buf[65])
{
        char d[72];
        sha256_digest(word, strlen(word), d);
        memcpy(buf, d + 7, 65);
        return buf;
}

static void put(const char *word, const char *image, const char *parent)
{
        struct berth_err e = {0};
        char k[65];
        _cleanup_free_ char *desc = xasprintf("RUN make %s", word);
        int r = build_cache_put(C, key_of(word, k), image, parent, desc, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
}

/* the hit's image ID, or NULL on a miss */
static char *get(const char *word)
{
        char k[65];
        char *id = NULL;
        int r = build_cache_get(C, key_of(word, k), &id);
        ck_assert_int_ge(r, 0);
        ck_assert_int_eq(r == 1, id != NULL);
        return id;
}

static bool image_exists(const char *id)
{
        struct berth_err e = {0};
        _cleanup_free_ char *have = NULL;
        return image_resolve(T.s, id, &have, &e) == 0;
}

static json_t *df(int64_t *total)
{
        struct berth_err e = {0};
        json_t *a = NULL;
        ck_assert_msg(build_cache_df(C, &a, total, &e) == 0, "%s", e.msg);
        ck_assert(json_is_array(a));
        return a;
}

/* the df object of an entry */
static json_t *df_entry(json_t *a, const char *word)
{
        char k[65];
        key_of(word, k);
        k[25] = '\0';
        size_t i;
        json_t *o;
        json_array_foreach (a, i, o)
                if (streq(json_string_value(json_object_get(o, "ID")), k))
                        return o;
        return NULL;
}

static json_t *prune(bool all, int64_t keep, const char *filters)
{
        struct berth_err e = {0};
        json_t *o = NULL;
        int r = build_cache_prune(C, all, keep, filters, &o, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        return o;
}

static size_t n_deleted(json_t *o)
{
        json_t *d = json_object_get(o, "CachesDeleted");
        ck_assert(json_is_null(d) || json_is_array(d));
        return json_array_size(d);
}

static int64_t reclaimed(json_t *o)
{
        return json_integer_value(json_object_get(o, "SpaceReclaimed"));
}

static void pause_ms(long ms)
{
        struct timespec ts = {0, ms * 1000000L};
        nanosleep(&ts, NULL);
}

START_TEST(test_put_get)
{
        setup_cache(0);
        struct berth_err e = {0};
        _cleanup_free_ char *A = make_image(NULL, "a", 10);
        _cleanup_free_ char *miss = get("a");
        ck_assert_ptr_null(miss);
        put("a", A, NULL);
        _cleanup_free_ char *hit = get("a");
        ck_assert_str_eq(hit, A);
        /* a later put of the same key replaces the entry */
        _cleanup_free_ char *B = make_image(NULL, "b", 20);
        put("a", B, NULL);
        _cleanup_free_ char *hit2 = get("a");
        ck_assert_str_eq(hit2, B);
        /* invalid keys and IDs */
        char *id = NULL;
        ck_assert_int_eq(build_cache_get(C, "ABC", &id), 0);
        ck_assert_int_eq(build_cache_put(C, "xyz", A, NULL, "d", &e), -EINVAL);
        char k[65];
        ck_assert_int_eq(build_cache_put(C, key_of("z", k), "sha256:12", NULL, "d", &e), -EINVAL);
        ck_assert_int_eq(build_cache_put(C, key_of("z", k), A, "nope", "d", &e), -EINVAL);
}
END_TEST

START_TEST(test_persistence)
{
        setup_cache(0);
        _cleanup_free_ char *A = make_image(NULL, "a", 10);
        _cleanup_free_ char *B = make_image(A, "b", 0);
        put("a", A, NULL);
        put("b", B, A);
        free(get("a"));
        free(get("a"));
        /* a temp file a crash left behind goes at open */
        _cleanup_free_ char *junk = xasprintf("%s/build/cache/x.tmp.1", T.cfg.data_root);
        ck_assert_int_eq(write_file_atomic(junk, "{", 1, 0600), 0);
        reopen_cache(0);
        ck_assert_int_lt(access(junk, F_OK), 0);
        _cleanup_free_ char *ha = get("a"), *hb = get("b");
        ck_assert_str_eq(ha, A);
        ck_assert_str_eq(hb, B);
        _cleanup_json_ json_t *a = df(NULL);
        ck_assert_uint_eq(json_array_size(a), 2);
        /* the put counts as a use, then three hits */
        ck_assert_int_eq(json_integer_value(json_object_get(df_entry(a, "a"), "UsageCount")), 4);
        ck_assert_str_eq(json_string_value(json_object_get(df_entry(a, "b"), "Description")),
                         "RUN make b");
}
END_TEST

START_TEST(test_image_gone)
{
        setup_cache(0);
        struct berth_err e = {0};
        _cleanup_free_ char *A = make_image(NULL, "a", 10);
        _cleanup_free_ char *B = make_image(NULL, "b", 10);
        put("a", A, NULL);
        put("b", B, NULL);
        json_t *out = NULL;
        ck_assert_int_eq(image_remove(T.s, A, false, false, &out, &e), 0);
        json_decref(out);
        _cleanup_free_ char *ha = get("a");
        ck_assert_ptr_null(ha);
        char k[65];
        _cleanup_free_ char *pa = xasprintf("%s/build/cache/%s", T.cfg.data_root, key_of("a", k));
        ck_assert_int_lt(access(pa, F_OK), 0);
        /* gone while the cache was closed: dropped at open */
        C = build_cache_close(C);
        ck_assert_int_eq(image_remove(T.s, B, false, false, &out, &e), 0);
        json_decref(out);
        reopen_cache(0);
        _cleanup_free_ char *pb = xasprintf("%s/build/cache/%s", T.cfg.data_root, key_of("b", k));
        ck_assert_int_lt(access(pb, F_OK), 0);
        _cleanup_json_ json_t *a = df(NULL);
        ck_assert_uint_eq(json_array_size(a), 0);
}
END_TEST

static int fake_usage(void *ud, const char *id, char *who, size_t len)
{
        (void)who, (void)len;
        return streq(id, ud) ? 1 : 0;
}

START_TEST(test_df)
{
        setup_cache(0);
        struct berth_err e = {0};
        /* A <- B, both only kept by the cache */
        _cleanup_free_ char *A = make_image(NULL, "a", 100);
        _cleanup_free_ char *B = make_image(A, "b", 30);
        put("a", A, NULL);
        put("b", B, A);
        int64_t total = -1;
        _cleanup_json_ json_t *a = df(&total);
        ck_assert_uint_eq(json_array_size(a), 2);
        json_t *ea = df_entry(a, "a"), *eb = df_entry(a, "b");
        ck_assert_ptr_nonnull(ea);
        ck_assert_ptr_nonnull(eb);
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(eb, "ID"))), 25);
        ck_assert_str_eq(json_string_value(json_object_get(eb, "Type")), "regular");
        ck_assert_str_eq(json_string_value(json_object_get(eb, "Parent")),
                         json_string_value(json_object_get(ea, "ID")));
        ck_assert_str_eq(json_string_value(json_object_get(ea, "Parent")), "");
        ck_assert(json_is_false(json_object_get(eb, "InUse")));
        ck_assert(json_is_false(json_object_get(eb, "Shared")));
        ck_assert(json_is_true(json_object_get(ea, "Shared"))); /* it has a child */
        ck_assert_int_eq(json_integer_value(json_object_get(eb, "Size")), 30);
        ck_assert_int_eq(json_integer_value(json_object_get(ea, "Size")), 0);
        ck_assert(parse_rfc3339_ns(json_string_value(json_object_get(eb, "CreatedAt"))) > 0);
        ck_assert(parse_rfc3339_ns(json_string_value(json_object_get(eb, "LastUsedAt"))) > 0);
        ck_assert_int_eq(json_integer_value(json_object_get(eb, "UsageCount")), 1);
        ck_assert_int_eq(total, 30);

        /* used by a container: in use, not the cache's either */
        image_store_set_usage_fn(T.s, fake_usage, B);
        json_decref(a);
        a = df(&total);
        ck_assert(json_is_true(json_object_get(df_entry(a, "b"), "InUse")));
        ck_assert_int_eq(total, 0);
        /* and prune leaves it */
        json_t *p = prune(false, 0, NULL);
        ck_assert_uint_eq(n_deleted(p), 0);
        json_decref(p);
        ck_assert(image_exists(B));
        image_store_set_usage_fn(T.s, NULL, NULL);

        /* tagged: kept by its name, nothing of it is the cache's */
        ck_assert_int_eq(image_tag(T.s, B, "app:1", &e), 0);
        json_decref(a);
        a = df(&total);
        ck_assert(json_is_true(json_object_get(df_entry(a, "b"), "Shared")));
        ck_assert(json_is_false(json_object_get(df_entry(a, "b"), "InUse")));
        ck_assert_int_eq(json_integer_value(json_object_get(df_entry(a, "b"), "Size")), 0);
        ck_assert_int_eq(total, 0);
        p = prune(false, 0, NULL);
        ck_assert_uint_eq(n_deleted(p), 0);
        json_decref(p);
}
END_TEST

START_TEST(test_prune_all_vs_default)
{
        setup_cache(0);
        struct berth_err e = {0};
        /* empty: Docker's answer */
        json_t *p = prune(false, 0, NULL);
        ck_assert(json_is_null(json_object_get(p, "CachesDeleted")));
        ck_assert_int_eq(reclaimed(p), 0);
        json_decref(p);

        /* a tagged image X with its entry; a dangling chain A <- B <- M (M: no layer) */
        _cleanup_free_ char *X = make_image(NULL, "x", 50);
        ck_assert_int_eq(image_tag(T.s, X, "keep:1", &e), 0);
        _cleanup_free_ char *A = make_image(NULL, "a", 100);
        _cleanup_free_ char *B = make_image(A, "b", 30);
        _cleanup_free_ char *M = make_image(B, "m", 0);
        put("x", X, NULL);
        put("a", A, NULL);
        put("b", B, A);
        put("m", M, B);
        /* the oldest use first would be A: it has a child, so the chain goes
         * from its head down */
        p = prune(false, 0, NULL);
        ck_assert_uint_eq(n_deleted(p), 3);
        ck_assert_int_eq(reclaimed(p), 130);
        json_decref(p);
        ck_assert(!image_exists(A) && !image_exists(B) && !image_exists(M));
        ck_assert(image_exists(X));
        _cleanup_free_ char *hx = get("x");
        ck_assert_str_eq(hx, X);
        /* all: the tagged image's entry goes too, the image stays */
        p = prune(true, 0, NULL);
        ck_assert_uint_eq(n_deleted(p), 1);
        ck_assert_int_eq(reclaimed(p), 0);
        json_decref(p);
        ck_assert(image_exists(X));
        _cleanup_free_ char *hx2 = get("x");
        ck_assert_ptr_null(hx2);
        ck_assert_uint_eq(image_count(T.s), 1);
}
END_TEST

START_TEST(test_prune_all_leaves_no_orphans)
{
        setup_cache(0);
        /* a dangling chain whose oldest entries have children: prune --all
         * must not drop the parents' entries first and strand their images */
        _cleanup_free_ char *A = make_image(NULL, "a", 100);
        _cleanup_free_ char *B = make_image(A, "b", 30);
        put("a", A, NULL);
        put("b", B, A);
        _cleanup_json_ json_t *p = prune(true, 0, NULL);
        ck_assert_uint_eq(n_deleted(p), 2);
        ck_assert_int_eq(reclaimed(p), 130);
        assert_store_empty(&T);
}
END_TEST

START_TEST(test_keep_storage)
{
        setup_cache(0);
        _cleanup_free_ char *A = make_image(NULL, "a", 100);
        _cleanup_free_ char *B = make_image(NULL, "b", 200);
        _cleanup_free_ char *D = make_image(NULL, "d", 300);
        put("a", A, NULL);
        put("b", B, NULL);
        put("d", D, NULL);
        free(get("a")); /* a is now the most recently used: b, d, a */
        json_t *p = prune(false, 350, NULL);
        ck_assert_uint_eq(n_deleted(p), 2);
        ck_assert_int_eq(reclaimed(p), 500);
        json_decref(p);
        ck_assert(image_exists(A) && !image_exists(B) && !image_exists(D));
        int64_t total;
        _cleanup_json_ json_t *a = df(&total);
        ck_assert_int_eq(total, 100);
        /* already within the bound: nothing */
        p = prune(false, 100, NULL);
        ck_assert_uint_eq(n_deleted(p), 0);
        json_decref(p);
}
END_TEST

START_TEST(test_filters)
{
        setup_cache(0);
        struct berth_err e = {0};
        _cleanup_free_ char *A = make_image(NULL, "a", 10);
        _cleanup_free_ char *B = make_image(NULL, "b", 20);
        _cleanup_free_ char *D = make_image(NULL, "d", 40);
        put("a", A, NULL);
        pause_ms(20);
        _cleanup_free_ char *mid = json_time_ns(now_ns());
        pause_ms(20);
        put("b", B, NULL);
        put("d", D, NULL);
        json_t *o = NULL;
        ck_assert_int_eq(build_cache_prune(C, false, 0, "{\"dangling\":[\"true\"]}", &o, &e),
                         -EINVAL);
        ck_assert_int_eq(build_cache_prune(C, false, 0, "{\"until\":[\"soon\"]}", &o, &e), -EINVAL);
        /* until an hour ago: nothing is that old */
        json_t *p = prune(false, 0, "{\"until\":[\"1h\"]}");
        ck_assert_uint_eq(n_deleted(p), 0);
        json_decref(p);
        /* until a time between the puts: only the first */
        _cleanup_free_ char *f = xasprintf("{\"until\":{\"%s\":true}}", mid);
        p = prune(false, 0, f);
        ck_assert_uint_eq(n_deleted(p), 1);
        ck_assert_int_eq(reclaimed(p), 10);
        json_decref(p);
        ck_assert(!image_exists(A) && image_exists(B));
        /* description, and id by prefix */
        p = prune(false, 0, "{\"description\":[\"make d\"]}");
        ck_assert_uint_eq(n_deleted(p), 1);
        json_decref(p);
        ck_assert(!image_exists(D) && image_exists(B));
        char k[65];
        key_of("b", k);
        k[12] = '\0';
        _cleanup_free_ char *fid = xasprintf("{\"id\":[\"%s\"]}", k);
        p = prune(false, 0, fid);
        ck_assert_uint_eq(n_deleted(p), 1);
        key_of("b", k);
        k[25] = '\0';
        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "CachesDeleted"), 0)),
                         k);
        ck_assert(!image_exists(B));
        json_decref(p);
}
END_TEST

START_TEST(test_gc)
{
        setup_cache(250);
        struct berth_err e = {0};
        _cleanup_free_ char *A = make_image(NULL, "a", 100);
        _cleanup_free_ char *B = make_image(NULL, "b", 200);
        _cleanup_free_ char *D = make_image(NULL, "d", 50);
        put("a", A, NULL);
        put("b", B, NULL);
        put("d", D, NULL);
        ck_assert_msg(build_cache_gc(C, &e) == 0, "%s", e.msg);
        /* 350 bytes over a bound of 250: the least recently used goes */
        ck_assert(!image_exists(A) && image_exists(B) && image_exists(D));
        int64_t total;
        _cleanup_json_ json_t *a = df(&total);
        ck_assert_int_eq(total, 250);
        /* no bound: nothing goes */
        reopen_cache(0);
        _cleanup_free_ char *E = make_image(NULL, "e", 500);
        put("e", E, NULL);
        ck_assert_int_eq(build_cache_gc(C, &e), 0);
        ck_assert(image_exists(B) && image_exists(D) && image_exists(E));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-cache");
        TCase *tc = tcase_create("cache");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_put_get);
        tcase_add_test(tc, test_persistence);
        tcase_add_test(tc, test_image_gone);
        tcase_add_test(tc, test_df);
        tcase_add_test(tc, test_prune_all_vs_default);
        tcase_add_test(tc, test_prune_all_leaves_no_orphans);
        tcase_add_test(tc, test_keep_storage);
        tcase_add_test(tc, test_filters);
        tcase_add_test(tc, test_gc);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
