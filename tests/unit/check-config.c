/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check-main.h"
#include "base/config.h"

static bool has_warning(struct berth_config *c, const char *needle)
{
        for (char **w = c->warnings; w && *w; w++)
                if (strstr(*w, needle))
                        return true;
        return false;
}

START_TEST(test_defaults)
{
        struct berth_config c;
        config_init(&c);
        ck_assert_str_eq(c.data_root, "/var/lib/berth");
        ck_assert_str_eq(c.exec_root, "/run/berth");
        ck_assert_str_eq(c.host, "/run/berth/berth.sock");
        ck_assert_str_eq(c.storage_driver, "overlay2");
        ck_assert_str_eq(c.network_default, "bridge");
        ck_assert_int_eq(strv_length(c.network_drivers), 3);
        ck_assert_str_eq(c.logging_default, "json-file");
        ck_assert_int_eq(strv_length(c.auth_drivers), 0);
        config_done(&c);
}
END_TEST

START_TEST(test_named_file_missing)
{
        /* An explicitly named file that does not exist is an error. */
        struct berth_config c;
        struct berth_err e = {0};
        config_init(&c);
        ck_assert_int_eq(config_load(&c, "/nonexistent/berth.ini", &e), -ENOENT);
        ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/berth.ini"));
        config_done(&c);
}
END_TEST

START_TEST(test_values)
{
        struct berth_config c;
        struct berth_err e = {0};
        config_init(&c);
        int r = config_load_string(&c, "t.ini",
                                   "; comment\n"
                                   "[daemon]\n"
                                   "data-root = /srv/berth\n"
                                   "host = unix:///tmp/b.sock\n"
                                   "log-level = debug\n"
                                   "[storage]\n"
                                   "driver = vfs   ; inline comment\n"
                                   "[network]\n"
                                   "drivers = bridge, none\n"
                                   "[storage.vfs]\n"
                                   "colour = blue\n"
                                   "[registry]\n"
                                   "insecure = myreg:5000 10.1.0.0/16\n",
                                   &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_str_eq(c.data_root, "/srv/berth");
        ck_assert_str_eq(c.host, "/tmp/b.sock");
        ck_assert_int_eq(c.log_level, BERTH_LOG_DEBUG);
        ck_assert_str_eq(c.storage_driver, "vfs");
        ck_assert_int_eq(strv_length(c.network_drivers), 2);
        ck_assert_int_eq(strv_length(c.registry_insecure), 2);
        const char *where;
        ck_assert_str_eq(config_lookup(&c, "storage.vfs", "colour", &where), "blue");
        ck_assert_str_eq(where, "t.ini:11");
        ck_assert_ptr_null(config_lookup(&c, "storage.vfs", "size", &where));
        ck_assert_str_eq(where, "default");
        ck_assert_int_eq(strv_length(c.warnings), 0);
        config_done(&c);
}
END_TEST

START_TEST(test_unknown_warns_with_line)
{
        struct berth_config c;
        struct berth_err e = {0};
        config_init(&c);
        int r = config_load_string(&c, "w.ini",
                                   "[daemon]\n"
                                   "colour = red\n"
                                   "[nonsense]\n"
                                   "a = b\n"
                                   "[storage.overlay2]\n"
                                   "size = 1G\n",
                                   &e);
        ck_assert_int_eq(r, 0);
        ck_assert(has_warning(&c, "w.ini:2: unknown key 'colour' in [daemon]"));
        ck_assert(has_warning(&c, "w.ini:4: unknown section [nonsense]"));
        /* driver sections are kept for the driver to claim */
        ck_assert_str_eq(config_lookup(&c, "storage.overlay2", "size", NULL), "1G");
        config_done(&c);
}
END_TEST

START_TEST(test_invalid_values_fail_with_line)
{
        static const struct {
                const char *text;
                const char *expect;
        } cases[] = {
            {"[daemon]\ndata-root = relative/path\n",
             "x.ini:2: invalid value 'relative/path' for 'data-root'"},
            {"[daemon]\nlog-level = loud\n", "x.ini:2: invalid value 'loud' for 'log-level'"},
            {"[daemon]\nhost = tcp://0.0.0.0:2375\n",
             "x.ini:2: invalid value 'tcp://0.0.0.0:2375' for 'host'"},
            {"[daemon]\n\ndebug = perhaps\n", "x.ini:3: invalid value 'perhaps' for 'debug'"},
            {"[storage]\ndriver = Over/Lay\n", "x.ini:2: invalid value 'Over/Lay' for 'driver'"},
            {"[daemon]\nthis line has no equals sign\n", "x.ini:2: syntax error"},
            {"[daemon\n", "x.ini:1: syntax error"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct berth_config c;
                struct berth_err e = {0};
                config_init(&c);
                ck_assert_int_eq(config_load_string(&c, "x.ini", cases[i].text, &e), -EINVAL);
                ck_assert_msg(strstr(e.msg, cases[i].expect), "case %zu: got '%s'", i, e.msg);
                config_done(&c);
        }
}
END_TEST

START_TEST(test_long_line)
{
        struct berth_config c;
        struct berth_err e = {0};
        config_init(&c);
        size_t n = 10000;
        char *text = xmalloc(n + 64);
        strcpy(text, "[registry]\ninsecure = ");
        size_t l = strlen(text);
        memset(text + l, 'a', n);
        strcpy(text + l + n, "\n");
        ck_assert_int_eq(config_load_string(&c, "l.ini", text, &e), -EINVAL);
        ck_assert_msg(strstr(e.msg, "l.ini:2: line longer than"), "%s", e.msg);
        free(text);
        config_done(&c);

        /* 1000 bytes is fine (inih's stack default would cut it at 200) */
        config_init(&c);
        text = xasprintf("[registry]\ninsecure = %0999d\n", 7);
        ck_assert_msg(config_load_string(&c, "l.ini", text, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(strlen(c.registry_insecure[0]), 999);
        free(text);
        config_done(&c);
}
END_TEST

START_TEST(test_build_cache_max)
{
        static const struct {
                const char *value;
                uint64_t bytes;
        } ok[] = {
            {"0", 0},
            {"1048576", 1048576},
            {"512MB", 512ull << 20},
            {"2GB", 2ull << 30},
            {"10G", 10ull << 30},
            {"64k", 64ull << 10},
            {"1GiB", 1ull << 30},
        };
        struct berth_config c;
        struct berth_err e = {0};
        config_init(&c);
        ck_assert_uint_eq(c.build_cache_max, 2ull << 30);
        config_done(&c);
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                config_init(&c);
                _cleanup_free_ char *text = xasprintf("[build]\ncache-max = %s\n", ok[i].value);
                ck_assert_msg(config_load_string(&c, "b.ini", text, &e) == 0, "%s", e.msg);
                ck_assert_msg(c.build_cache_max == ok[i].bytes, "'%s' gave %llu", ok[i].value,
                              (unsigned long long)c.build_cache_max);
                ck_assert_int_eq(strv_length(c.warnings), 0);
                config_done(&c);
        }
        static const char *const bad[] = {"lots", "-1", "2X", "1.5G"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                config_init(&c);
                _cleanup_free_ char *text = xasprintf("[build]\n\ncache-max = %s\n", bad[i]);
                ck_assert_int_eq(config_load_string(&c, "b.ini", text, &e), -EINVAL);
                _cleanup_free_ char *want =
                    xasprintf("b.ini:3: invalid value '%s' for 'cache-max'", bad[i]);
                ck_assert_msg(strstr(e.msg, want), "got '%s'", e.msg);
                config_done(&c);
        }
}
END_TEST

START_TEST(test_shipped_default_parses_cleanly)
{
        /* conf/berth.ini is the documented default: it must parse with no
         * warning and give the built-in defaults. */
        const char *src = getenv("BERTH_SOURCE_DIR");
        ck_assert_ptr_nonnull(src);
        _cleanup_free_ char *p = xasprintf("%s/conf/berth.ini", src);
        struct berth_config c, d;
        struct berth_err e = {0};
        config_init(&c);
        config_init(&d);
        ck_assert_msg(config_load(&c, p, &e) == 0, "%s", e.msg);
        for (char **w = c.warnings; *w; w++)
                ck_abort_msg("warning: %s", *w);
        ck_assert_str_eq(c.data_root, d.data_root);
        ck_assert_str_eq(c.exec_root, d.exec_root);
        ck_assert_str_eq(c.host, d.host);
        ck_assert_str_eq(c.storage_driver, d.storage_driver);
        ck_assert_str_eq(c.network_default, d.network_default);
        ck_assert_str_eq(c.logging_default, d.logging_default);
        ck_assert_int_eq(c.log_level, d.log_level);
        ck_assert_uint_eq(c.build_cache_max, d.build_cache_max);
        config_done(&c);
        config_done(&d);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("ini");
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_named_file_missing);
        tcase_add_test(tc, test_values);
        tcase_add_test(tc, test_unknown_warns_with_line);
        tcase_add_test(tc, test_invalid_values_fail_with_line);
        tcase_add_test(tc, test_long_line);
        tcase_add_test(tc, test_build_cache_max);
        tcase_add_test(tc, test_shipped_default_parses_cleanly);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
