/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A cheap mutation fuzzer for the load path (outer archive, manifest,
 * config, layer tars): seeded byte flips, splices and truncations of valid
 * archives. Whatever happens, load must not crash (run it under the ASan
 * build), must fail or succeed cleanly, and a failure must leave the store
 * empty. A libFuzzer target can reuse fuzz_one(). */
#include "check-main.h"
#include "image-test.h"

static struct tstore T;

static void teardown(void)
{
        tstore_close(&T);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void fuzz_one(const struct membuf *seed)
{
        struct membuf m = {xmalloc(seed->len), seed->len};
        memcpy(m.p, seed->p, seed->len);
        int kind = (int)(next() % 4);
        if (kind == 0) { /* flip a few bytes */
                for (int i = 0, n = 1 + (int)(next() % 8); i < n; i++)
                        m.p[next() % m.len] ^= (char)(1 + next() % 255);
        } else if (kind == 1) { /* truncate */
                m.len = next() % m.len;
        } else if (kind == 2) { /* overwrite a header field area with digits */
                size_t at = (next() % (m.len / 512)) * 512 + 100 + next() % 60;
                for (size_t i = 0; i < 12 && at + i < m.len; i++)
                        m.p[at + i] = (char)('0' + next() % 10);
        } else { /* duplicate a block elsewhere */
                size_t from = (next() % (m.len / 512)) * 512, to = (next() % (m.len / 512)) * 512;
                memmove(m.p + to, m.p + from, 512);
        }
        struct berth_err e = {0};
        size_t before = image_count(T.s);
        int r = load_mem(&T, &m, &e);
        if (r < 0) {
                ck_assert_msg(e.msg[0], "a failure without a message (code %d)", r);
                ck_assert_uint_eq(image_count(T.s), before);
        }
        /* reset: remove whatever loaded */
        json_t *out = NULL;
        ck_assert_int_eq(image_prune(T.s, "{\"dangling\":[\"false\"]}", &out, &e), 0);
        json_decref(out);
        assert_store_empty(&T);
        free(m.p);
}

START_TEST(test_mutations)
{
        tstore_open(&T, "vfs");
        /* seed 1: a small two-layer archive with links and whiteouts */
        struct tarb t;
        tarb_init(&t);
        tarb_dir(&t, "d");
        tarb_file(&t, "d/f", "hello");
        tarb_symlink(&t, "d/s", "f");
        tarb_hardlink(&t, "d/h", "d/f");
        struct membuf l1 = tarb_finish(&t);
        tarb_init(&t);
        tarb_file(&t, "d/.wh.f", "");
        tarb_file(&t, "e/.wh..wh..opq", "");
        struct membuf l2 = tarb_finish(&t);
        struct membuf layers[] = {l1, l2};
        struct darchive_opts o = {.tag = "fuzz:1"};
        struct membuf seed = make_darchive(layers, 2, &o);
        struct berth_err e = {0};
        ck_assert_int_eq(load_mem(&T, &seed, &e), 0);
        for (int i = 0; i < 400; i++)
                fuzz_one(&seed);
        free(l1.p), free(l2.p), free(seed.p);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("image-fuzz");
        TCase *tc = tcase_create("mutations");
        tcase_add_checked_fixture(tc, NULL, teardown);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_mutations);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
