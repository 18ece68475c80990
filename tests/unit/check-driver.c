/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plugin loader: a good plugin, and every refusal with the file named. */
#include "check-main.h"
#include "driver/driver.h"

static char root[64];
static struct berth_config cfg;

static void setup(void)
{
        const char *dir = getenv("BERTH_TEST_PLUGIN_DIR");
        ck_assert_msg(dir != NULL, "BERTH_TEST_PLUGIN_DIR is not set (run through ctest)");
        strcpy(root, "/tmp/berth-check-driver.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        config_init(&cfg);
        free(cfg.plugin_dir);
        cfg.plugin_dir = xstrdup(dir);
        free(cfg.data_root);
        cfg.data_root = xasprintf("%s/data", root);
        free(cfg.exec_root);
        cfg.exec_root = xasprintf("%s/run", root);
}

static void teardown(void)
{
        config_done(&cfg);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", root);
        (void)!system(cmd);
}

static void expect_refusal(const char *name, uint32_t kind, int code, const char *reason)
{
        struct driver *d = NULL;
        struct berth_err e = {0};
        int r = driver_load(&cfg, kind, name, &d, &e);
        ck_assert_msg(r == code, "%s: expected %d, got %d (%s)", name, code, r, e.msg);
        ck_assert_ptr_null(d);
        ck_assert_int_eq(e.code, code);
        _cleanup_free_ char *file = driver_file(cfg.plugin_dir, kind, name);
        ck_assert_msg(strstr(e.msg, file), "%s: message does not name the file: %s", name, e.msg);
        ck_assert_msg(strstr(e.msg, reason), "%s: message lacks '%s': %s", name, reason, e.msg);
}

START_TEST(test_file_name_rule)
{
        _cleanup_free_ char *a = driver_file("/p", BERTH_KIND_LOGGING, "json-file");
        ck_assert_str_eq(a, "/p/log-jsonfile.so");
        _cleanup_free_ char *b = driver_file("/p", BERTH_KIND_NETWORK, "bridge");
        ck_assert_str_eq(b, "/p/net-bridge.so");
        _cleanup_free_ char *c = driver_file("/p", BERTH_KIND_STORAGE, "overlay2");
        ck_assert_str_eq(c, "/p/storage-overlay2.so");
}
END_TEST

static int collect(void *ud, const char *k, const char *v)
{
        size_t l = strlen(ud);
        snprintf((char *)ud + l, 256 - l, "%s=%s;", k, v);
        return 0;
}

START_TEST(test_good)
{
        struct driver *d = NULL;
        struct berth_err e = {0};
        free(cfg.entries); /* no stale entries */
        cfg.entries = NULL;
        cfg.n_entries = 0;
        ck_assert_int_eq(
            config_load_string(&cfg, "g.ini", "[storage.good]\ncolour = teal\nshape = round\n", &e),
            0);
        int r = driver_load(&cfg, BERTH_KIND_STORAGE, "good", &d, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_str_eq(d->desc->name, "good");
        ck_assert_str_eq(d->desc->version, "9.9.9");
        ck_assert_uint_eq(d->kind, BERTH_KIND_STORAGE);

        /* the driver's directories were made before init */
        _cleanup_free_ char *dir = xasprintf("%s/data/good", root);
        ck_assert_int_eq(access(dir, F_OK), 0);

        /* an undeclared key in the driver's section is a warning with file:line */
        bool warned = false;
        for (char **w = cfg.warnings; *w; w++)
                if (strstr(*w, "g.ini:3: unknown key 'shape' in [storage.good]"))
                        warned = true;
        ck_assert(warned);

        /* slots through the wrappers */
        ck_assert_int_eq(berth_storage_exists(d, "present", 0), 1);
        ck_assert_int_eq(berth_storage_exists(d, "absent", 0), 0);
        ck_assert_int_eq(berth_storage_exists(d, "present", 1u << 7), -EINVAL); /* unknown flag */
        char path[256];
        ck_assert_int_eq(berth_storage_get(d, "present", NULL, 0, path, sizeof(path), &e), 0);
        _cleanup_free_ char *want = xasprintf("%s/present", dir);
        ck_assert_str_eq(path, want);
        ck_assert_int_eq(berth_storage_get(d, "absent", NULL, 0, path, sizeof(path), &e), -ENOENT);
        ck_assert_str_eq(e.msg, "storage driver 'good': layer 'absent' does not exist");

        /* a NULL slot is -ENOTSUP without a call */
        ck_assert_int_eq(berth_storage_create(d, "x", NULL, NULL, 0, &e), -ENOTSUP);
        ck_assert_str_eq(e.msg, "storage driver 'good' does not support create");

        /* the config service reaches the driver's own section */
        char seen[256] = "";
        ck_assert_int_eq(berth_storage_status(d, collect, seen, 0), 0);
        ck_assert_str_eq(seen, "Colour=teal;Colour Set At=g.ini:2;");

        /* fault injection through the wrapper */
        setenv("BERTH_FAULT", "storage.get=-28", 1);
        ck_assert_int_eq(berth_storage_get(d, "present", NULL, 0, path, sizeof(path), &e), -ENOSPC);
        ck_assert_ptr_nonnull(strstr(e.msg, "injected"));
        unsetenv("BERTH_FAULT");

        driver_unload(d);
}
END_TEST

/* A built-in driver (as the static berth-shim has): found before the
 * plugin directory, named as built in, and checked as a plugin is. */
static int bi_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = NULL;
        return 0;
}
static int bi_exists(void *drv, const char *id, uint64_t flags)
{
        return 42;
}
static const struct berth_storage_ops bi_ops = {.size = sizeof(struct berth_storage_ops),
                                                .exists = bi_exists};
static const struct berth_plugin bi_good = {.abi_major = BERTH_ABI_MAJOR,
                                            .abi_minor = BERTH_ABI_MINOR,
                                            .struct_size = sizeof(struct berth_plugin),
                                            .kind = BERTH_KIND_STORAGE,
                                            .name = "good", /* also a file in the plugin dir */
                                            .init = bi_init,
                                            .ops = &bi_ops};
static const struct berth_plugin bi_abi = {.abi_major = 99,
                                           .struct_size = sizeof(struct berth_plugin),
                                           .kind = BERTH_KIND_STORAGE,
                                           .name = "old",
                                           .init = bi_init,
                                           .ops = &bi_ops};

START_TEST(test_builtin)
{
        static const struct berth_plugin *const list[] = {&bi_good, &bi_abi, NULL};
        driver_set_builtins(list);
        struct driver *d = NULL;
        struct berth_err e = {0};
        ck_assert(driver_is_builtin(BERTH_KIND_STORAGE, "good"));
        ck_assert(!driver_is_builtin(BERTH_KIND_LOGGING, "good"));
        ck_assert(!driver_is_builtin(BERTH_KIND_STORAGE, "other"));
        int r = driver_load(&cfg, BERTH_KIND_STORAGE, "good", &d, &e);
        ck_assert_msg(r == 0, "%s", e.msg);
        ck_assert_ptr_eq(d->desc, &bi_good);
        ck_assert_msg(strstr(d->path, "built into"), "%s", d->path);
        ck_assert_int_eq(berth_storage_exists(d, "x", 0), 42);
        driver_unload(d);
        r = driver_load(&cfg, BERTH_KIND_STORAGE, "old", &d, &e);
        ck_assert_int_eq(r, -EPROTO);
        ck_assert_msg(
            strstr(e.msg, "plugin '(built into check-driver)' was built for plugin ABI 99"), "%s",
            e.msg);
        /* other names still come from the plugin directory */
        expect_refusal("absent", BERTH_KIND_STORAGE, -ENOENT, "is missing");
        driver_set_builtins(NULL);
}
END_TEST

START_TEST(test_missing)
{
        expect_refusal("absent", BERTH_KIND_STORAGE, -ENOENT, "is missing");
}
END_TEST

START_TEST(test_corrupt)
{
        expect_refusal("corrupt", BERTH_KIND_STORAGE, -ENOEXEC, "cannot load plugin");
}
END_TEST

START_TEST(test_no_entry)
{
        expect_refusal("noentry", BERTH_KIND_STORAGE, -ENOEXEC,
                       "is not a berth plugin (no symbol 'berth_plugin_entry')");
}
END_TEST

START_TEST(test_abi_mismatch)
{
        expect_refusal("abi", BERTH_KIND_STORAGE, -EPROTO,
                       "built for plugin ABI 99.3, this berth speaks ABI 1.");
}
END_TEST

START_TEST(test_small_struct)
{
        expect_refusal("small", BERTH_KIND_STORAGE, -EPROTO, "has a descriptor of 16 bytes");
}
END_TEST

START_TEST(test_wrong_kind)
{
        /* a network driver in a storage file */
        expect_refusal("wrongkind", BERTH_KIND_STORAGE, -EPROTO,
                       "is a network driver, not a storage driver");
}
END_TEST

START_TEST(test_init_failed)
{
        expect_refusal("initfail", BERTH_KIND_STORAGE, -EIO,
                       "failed to initialise: backing store '/nonexistent' is not usable");
}
END_TEST

START_TEST(test_bad_name)
{
        expect_refusal("badname", BERTH_KIND_STORAGE, -EPROTO,
                       "calls itself 'somethingelse', not 'badname'");
}
END_TEST

START_TEST(test_no_ops)
{
        expect_refusal("noops", BERTH_KIND_STORAGE, -EPROTO, "has no operations table");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("driver");
        TCase *tc = tcase_create("loader");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_file_name_rule);
        tcase_add_test(tc, test_good);
        tcase_add_test(tc, test_builtin);
        tcase_add_test(tc, test_missing);
        tcase_add_test(tc, test_corrupt);
        tcase_add_test(tc, test_no_entry);
        tcase_add_test(tc, test_abi_mismatch);
        tcase_add_test(tc, test_small_struct);
        tcase_add_test(tc, test_wrong_kind);
        tcase_add_test(tc, test_init_failed);
        tcase_add_test(tc, test_bad_name);
        tcase_add_test(tc, test_no_ops);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
