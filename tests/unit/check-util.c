/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-main.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"

#include <fcntl.h>
#include <sys/stat.h>

START_TEST(test_strv_split)
{
        _cleanup_strv_ char **v = strv_split("  a, b\tc,,", " ,\t");
        ck_assert_int_eq(strv_length(v), 3);
        ck_assert_str_eq(v[0], "a");
        ck_assert_str_eq(v[1], "b");
        ck_assert_str_eq(v[2], "c");
        ck_assert(strv_contains(v, "b"));
        ck_assert(!strv_contains(v, "d"));
        _cleanup_strv_ char **e = strv_split("", " ");
        ck_assert_int_eq(strv_length(e), 0);
}
END_TEST

START_TEST(test_parse)
{
        bool b;
        int64_t i;
        uint64_t sz;
        ck_assert_int_eq(parse_bool("Yes", &b), 0);
        ck_assert(b);
        ck_assert_int_eq(parse_bool("off", &b), 0);
        ck_assert(!b);
        ck_assert_int_eq(parse_bool("maybe", &b), -EINVAL);
        ck_assert_int_eq(parse_int64("-42", &i), 0);
        ck_assert_int_eq(i, -42);
        ck_assert_int_eq(parse_int64("42x", &i), -EINVAL);
        ck_assert_int_eq(parse_int64("", &i), -EINVAL);
        ck_assert_int_eq(parse_int64("99999999999999999999", &i), -ERANGE);
        ck_assert_int_eq(parse_size("10m", &sz), 0);
        ck_assert_uint_eq(sz, 10u << 20);
        ck_assert_int_eq(parse_size("1GiB", &sz), 0);
        ck_assert_uint_eq(sz, 1u << 30);
        ck_assert_int_eq(parse_size("512", &sz), 0);
        ck_assert_uint_eq(sz, 512);
        ck_assert_int_eq(parse_size("12q", &sz), -EINVAL);
        ck_assert_int_eq(parse_size("-1", &sz), -EINVAL);
        ck_assert_int_eq(parse_size("99999999999t", &sz), -ERANGE);
}
END_TEST

START_TEST(test_err_prefix)
{
        struct berth_err e = {0};
        ck_assert_int_eq(err_errno(&e, -ENOENT, "lowerdir '%s'", "/x"), -ENOENT);
        ck_assert_str_eq(e.msg, "lowerdir '/x': No such file or directory");
        ck_assert_int_eq(err_prefix(&e, "mount overlay for '%s'", "web"), -ENOENT);
        ck_assert_str_eq(e.msg,
                         "mount overlay for 'web': lowerdir '/x': No such file or directory");
        struct berth_err bare = {.code = -EACCES};
        err_prefix(&bare, "open");
        ck_assert_str_eq(bare.msg, "open: Permission denied");
        /* NULL err is allowed everywhere */
        ck_assert_int_eq(err_set(NULL, -EIO, "x"), -EIO);
}
END_TEST

START_TEST(test_err_wrap)
{
        /* The code passed up is kept, also with no err to fill... */
        ck_assert_int_eq(err_wrap(NULL, -ENOENT, "load"), -ENOENT);
        /* ...and when the callee returned it without a message. */
        struct berth_err e = {0};
        ck_assert_int_eq(err_wrap(&e, -EBUSY, "remove layer %s", "x"), -EBUSY);
        ck_assert_int_eq(e.code, -EBUSY);
        ck_assert_str_eq(e.msg, "remove layer x: Device or resource busy");
        ck_assert_int_eq(err_wrap(&e, -EBUSY, "image store"), -EBUSY);
        ck_assert_str_eq(e.msg, "image store: remove layer x: Device or resource busy");
        /* what is returned is what err says */
        struct berth_err f = {0};
        err_set(&f, -EINVAL, "bad");
        ck_assert_int_eq(err_wrap(&f, -EINVAL, "parse"), f.code);
}
END_TEST

START_TEST(test_files)
{
        char dir[] = "/tmp/berth-check-util.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *deep = xasprintf("%s/a/b/c", dir);
        ck_assert_int_eq(mkdir_p(deep, 0755), 0);
        ck_assert_int_eq(mkdir_p(deep, 0755), 0);
        _cleanup_free_ char *f = xasprintf("%s/file", deep);
        ck_assert_int_eq(write_file_atomic(f, "hello\nworld\n", 12, 0600), 0);
        struct stat st;
        ck_assert_int_eq(stat(f, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0600);
        _cleanup_free_ char *line = NULL;
        ck_assert_int_eq(read_one_line(f, &line), 0);
        ck_assert_str_eq(line, "hello");
        /* no temporary file is left next to it */
        _cleanup_free_ char *cmd = xasprintf("test $(ls -A %s | wc -l) -eq 1", deep);
        ck_assert_int_eq(system(cmd), 0);
        _cleanup_free_ char *missing = xasprintf("%s/nope/file", dir);
        ck_assert_int_eq(write_file_atomic(missing, "x", 1, 0600), -ENOENT);
        _cleanup_free_ char *rm = xasprintf("rm -rf %s", dir);
        ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* RFC 4648's test vectors, both ways; refusals. */
START_TEST(test_base64)
{
        static const char *const v[][2] = {{"", ""},
                                           {"f", "Zg=="},
                                           {"fo", "Zm8="},
                                           {"foo", "Zm9v"},
                                           {"foob", "Zm9vYg=="},
                                           {"fooba", "Zm9vYmE="},
                                           {"foobar", "Zm9vYmFy"}};
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                char *e = base64_encode(v[i][0], strlen(v[i][0]));
                ck_assert_str_eq(e, v[i][1]);
                free(e);
                unsigned char *d = NULL;
                size_t n = 0;
                ck_assert_int_eq(base64_decode(v[i][1], strlen(v[i][1]), &d, &n), 0);
                ck_assert_uint_eq(n, strlen(v[i][0]));
                ck_assert(memcmp(d, v[i][0], n) == 0);
                free(d);
        }
        unsigned char *d = NULL;
        size_t n = 0;
        ck_assert_int_eq(base64_decode("Zm9v!", 5, &d, &n), -EINVAL);
        ck_assert_int_eq(base64_decode("Zg===", 5, &d, &n), -EINVAL);
        ck_assert_int_eq(base64_decode("Zg=a", 4, &d, &n), -EINVAL);
        ck_assert_int_eq(base64_decode("Zm9v", 4, &d, &n), 0); /* binary-safe */
        free(d);
        static const unsigned char bin[] = {0, 0xff, 0x10, 0x80};
        char *e = base64_encode(bin, sizeof(bin));
        ck_assert_int_eq(base64_decode(e, strlen(e), &d, &n), 0);
        ck_assert_uint_eq(n, sizeof(bin));
        ck_assert(memcmp(d, bin, n) == 0);
        free(d);
        free(e);
}
END_TEST

START_TEST(test_timestamp)
{
        const int64_t now = INT64_C(1765100000) * 1000000000; /* 2025-12-07T09:33:20Z */
        int64_t t;
        ck_assert_int_eq(parse_timestamp_ns("1700000000", now, &t), 0);
        ck_assert_int_eq(t, INT64_C(1700000000) * 1000000000);
        ck_assert_int_eq(parse_timestamp_ns("1700000000.25", now, &t), 0);
        ck_assert_int_eq(t, INT64_C(1700000000) * 1000000000 + 250000000);
        ck_assert_int_eq(parse_timestamp_ns("0", now, &t), 0); /* the epoch, not "now" */
        ck_assert_int_eq(t, 0);
        ck_assert_int_eq(parse_timestamp_ns("10m", now, &t), 0);
        ck_assert_int_eq(t, now - INT64_C(600) * 1000000000);
        ck_assert_int_eq(parse_timestamp_ns("1h30m", now, &t), 0);
        ck_assert_int_eq(t, now - INT64_C(5400) * 1000000000);
        ck_assert_int_eq(parse_timestamp_ns("1.5h", now, &t), 0);
        ck_assert_int_eq(t, now - INT64_C(5400) * 1000000000);
        ck_assert_int_eq(parse_timestamp_ns("300ms", now, &t), 0);
        ck_assert_int_eq(t, now - 300000000);
        ck_assert_int_eq(parse_timestamp_ns("2025-12-07T09:33:20Z", now, &t), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(parse_timestamp_ns("2025-12-07T09:33:20.5Z", now, &t), 0);
        ck_assert_int_eq(t, now + 500000000);
        ck_assert_int_eq(parse_timestamp_ns("2025-12-07T10:33:20+01:00", now, &t), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(parse_timestamp_ns("2025-12-07T09:33:20", now, &t), 0);
        ck_assert_int_eq(t, now);
        ck_assert_int_eq(parse_timestamp_ns("2025-12-07", now, &t), 0);
        ck_assert_int_eq(t, now - INT64_C(34400) * 1000000000);
        const char *bad[] = {"",
                             "x",
                             "10x",
                             "1.",
                             "2025-13-45",
                             "2025-12-07T09:33:20Q",
                             "2025-12-07T09:33:20.Z",
                             "h",
                             "1700000000.x"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(parse_timestamp_ns(bad[i], now, &t) == -EINVAL, "'%s' accepted",
                              bad[i]);
}
END_TEST

/* A request body: blank or "null" is {}; the bytes past len are never read
 * (the body is not NUL-terminated: an allocation of exactly len bytes, so
 * that the sanitizer build sees a read past it), and a NUL byte is not a
 * blank. */
START_TEST(test_json_parse_body)
{
        static const struct {
                const char *in;
                size_t len;
                int r;
                const char *out;
        } cases[] = {
            {"", 0, 0, "{}"},
            {" \r\n\t", 4, 0, "{}"},
            {"null", 4, 0, "{}"},
            {" null \n", 7, 0, "{}"},
            {"nullx", 5, -EINVAL, NULL},
            {"null", 3, -EINVAL, NULL},
            {"\0", 1, -EINVAL, NULL},
            {"\0\0 ", 3, -EINVAL, NULL},
            {"[1] ", 4, 0, "[1]"},
            {"{\"a\":1}", 7, 0, "{\"a\":1}"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *body = xmalloc(cases[i].len ? cases[i].len : 1);
                memcpy(body, cases[i].in, cases[i].len);
                json_t *j = NULL;
                struct berth_err err = {0};
                int r = json_parse_body(body, cases[i].len, &j, &err);
                ck_assert_msg(r == cases[i].r, "case %zu: %d", i, r);
                if (r == 0) {
                        char *d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
                        ck_assert_str_eq(d, cases[i].out);
                        free(d);
                        json_decref(j);
                }
                free(body);
        }
}
END_TEST

/* Bytes that are not UTF-8 become U+FFFD one by one; valid sequences stay. */
START_TEST(test_json_string_lossy)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"", ""},
            {"plain /path", "plain /path"},
            {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3",
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"},
            {"a\xff"
             "b",
             "a\xef\xbf\xbd"
             "b"},
            {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
            {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong '/' */
            {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* a surrogate */
            {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *j = json_string_lossy(cases[i].in);
                ck_assert_msg(j, "case %zu: no string", i);
                ck_assert_str_eq(json_string_value(j), cases[i].out);
                json_decref(j);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_strv_split);
        tcase_add_test(tc, test_parse);
        tcase_add_test(tc, test_err_prefix);
        tcase_add_test(tc, test_err_wrap);
        tcase_add_test(tc, test_files);
        tcase_add_test(tc, test_base64);
        tcase_add_test(tc, test_timestamp);
        tcase_add_test(tc, test_json_parse_body);
        tcase_add_test(tc, test_json_string_lossy);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
