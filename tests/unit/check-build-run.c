/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The builder's texts that clients and caches compare: Go's formatting of
 * a []string (%q) and of a time.Duration, as moby writes them into the
 * history of a CMD, ENTRYPOINT, SHELL or HEALTHCHECK step. */
#include "check-main.h"
#include "build/build-exec.h"

static void quoted(json_t *arr, const char *want)
{
        char *got = go_quote_strv(arr);
        ck_assert_msg(streq(got, want), "got '%s', want '%s'", got, want);
        free(got);
        json_decref(arr);
}

START_TEST(go_strv)
{
        quoted(json_pack("[s,s,s]", "/bin/sh", "-c", "echo hi"),
               "[\"/bin/sh\" \"-c\" \"echo hi\"]");
        quoted(json_array(), "[]");
        quoted(json_pack("[s]", "a\"b\\c\nd\te"), "[\"a\\\"b\\\\c\\nd\\te\"]");
        quoted(json_pack("[s]", "\x01\x7f"), "[\"\\x01\\x7f\"]");
        quoted(json_pack("[s]", "héllo"), "[\"héllo\"]");
}
END_TEST

static void duration(int64_t ns, const char *want)
{
        char buf[64];
        go_duration(ns, buf, sizeof(buf));
        ck_assert_msg(streq(buf, want), "%lld ns: got '%s', want '%s'", (long long)ns, buf, want);
}

START_TEST(go_durations)
{
        duration(0, "0s");
        duration(500000000, "500ms");
        duration(1500, "1500ns");
        duration(2000, "2µs");
        duration(1000000000, "1s");
        duration(1500000000, "1.5s");
        duration(90 * 1000000000LL, "1m30s");
        duration(3600 * 1000000000LL, "1h0m0s");
        duration(3725 * 1000000000LL + 250000000, "1h2m5.25s");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-run");
        TCase *tc = tcase_create("go");
        tcase_add_test(tc, go_strv);
        tcase_add_test(tc, go_durations);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
