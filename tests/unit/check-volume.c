/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mount-spec parser (-v and --mount syntaxes) and the volume-local
 * driver against the SDK's mock host. */
#include <berth/mock-host.h>
#include <berth/volume.h>
#include <dlfcn.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "check-main.h"
#include "volume/volume.h"

/* --- -v ---------------------------------------------------------------------- */

START_TEST(bind_named_volume)
{
        struct mount_spec m;
        struct berth_err err = {0};
        ck_assert_int_eq(mount_spec_parse_bind("data:/var/data:ro", &m, &err), 0);
        ck_assert_str_eq(m.type, "volume");
        ck_assert_str_eq(m.source, "data");
        ck_assert_str_eq(m.target, "/var/data");
        ck_assert(m.readonly);
        ck_assert(!m.bind_create);
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_bind("data:/d:nocopy,rw", &m, &err), 0);
        ck_assert(m.nocopy);
        ck_assert(!m.readonly);
        mount_spec_done(&m);
}
END_TEST

START_TEST(bind_host_path)
{
        struct mount_spec m;
        struct berth_err err = {0};
        ck_assert_int_eq(mount_spec_parse_bind("/srv/x:/x", &m, &err), 0);
        ck_assert_str_eq(m.type, "bind");
        ck_assert_str_eq(m.source, "/srv/x");
        ck_assert(m.bind_create);
        ck_assert(!m.readonly);
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_bind("/srv/x:/x:ro,rslave,z", &m, &err), 0);
        ck_assert(m.readonly);
        ck_assert_str_eq(m.propagation, "rslave");
        mount_spec_done(&m);
        ck_assert_int_eq(mount_spec_parse_bind("/anon", &m, &err), 0);
        ck_assert_str_eq(m.type, "volume");
        ck_assert_ptr_null(m.source);
        ck_assert_str_eq(m.target, "/anon");
        mount_spec_done(&m);
}
END_TEST

START_TEST(bind_refusals)
{
        static const struct {
                const char *spec, *msg;
        } bad[] = {
            {"data:rel", "mount path must be absolute"},
            {"data:/x:bogus", "invalid mode: bogus"},
            {"data:/x:ro,rw", "invalid mode: ro,rw"},
            {"data:/x:rslave", "invalid mode: rslave"}, /* propagation is for binds */
            {"/h:/x:nocopy", "invalid mode: nocopy"},   /* nocopy is for volumes */
            {"rel", "invalid volume specification: 'rel'"},
            {"a:/b:ro:x", "invalid volume specification"},
            {":/x", "invalid volume specification"},
            {"a/b:/x", "includes invalid characters"},
            {"data:/", "destination can't be '/'"},
            {"", "invalid volume specification"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct mount_spec m;
                struct berth_err err = {0};
                ck_assert_msg(mount_spec_parse_bind(bad[i].spec, &m, &err) == -EINVAL, "%s",
                              bad[i].spec);
                ck_assert_msg(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].spec, err.msg);
        }
}
END_TEST

/* --- --mount (as the CLI sends it) ------------------------------------------- */

static int parse_api(const char *json, struct mount_spec *m, struct berth_err *err)
{
        json_error_t je;
        json_t *j = json_loads(json, 0, &je);
        ck_assert_ptr_nonnull(j);
        int r = mount_spec_parse_api(j, m, err);
        json_decref(j);
        return r;
}

START_TEST(api_mounts)
{
        struct mount_spec m;
        struct berth_err err = {0};
        ck_assert_int_eq(parse_api("{\"Type\":\"volume\",\"Source\":\"vol\",\"Target\":\"/d\","
                                   "\"ReadOnly\":true,\"VolumeOptions\":{\"NoCopy\":true,"
                                   "\"DriverConfig\":{\"Name\":\"local\",\"Options\":{\"type\":"
                                   "\"tmpfs\"}}}}",
                                   &m, &err),
                         0);
        ck_assert_str_eq(m.type, "volume");
        ck_assert_str_eq(m.source, "vol");
        ck_assert(m.readonly && m.nocopy);
        ck_assert_str_eq(m.driver, "local");
        ck_assert_str_eq(json_string_value(json_object_get(m.driver_opts, "type")), "tmpfs");
        mount_spec_done(&m);
        ck_assert_int_eq(parse_api("{\"Type\":\"volume\",\"Target\":\"/d/\"}", &m, &err), 0);
        ck_assert_ptr_null(m.source); /* anonymous */
        mount_spec_done(&m);
        ck_assert_int_eq(parse_api("{\"Type\":\"bind\",\"Source\":\"/etc/hostname\",\"Target\":"
                                   "\"/h\",\"BindOptions\":{\"Propagation\":\"rshared\"}}",
                                   &m, &err),
                         0);
        ck_assert_str_eq(m.type, "bind");
        ck_assert_str_eq(m.propagation, "rshared");
        ck_assert(!m.bind_create);
        mount_spec_done(&m);
        ck_assert_int_eq(parse_api("{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{"
                                   "\"SizeBytes\":10485760,\"Mode\":448}}",
                                   &m, &err),
                         0);
        ck_assert_int_eq(m.tmpfs_size, 10485760);
        ck_assert_int_eq(m.tmpfs_mode, 0700);
        mount_spec_done(&m);
}
END_TEST

START_TEST(api_refusals)
{
        static const struct {
                const char *json, *msg;
        } bad[] = {
            {"{\"Type\":\"volume\",\"Source\":\"v\"}", "field Target must not be empty"},
            {"{\"Type\":\"bind\",\"Source\":\"rel\",\"Target\":\"/x\"}", "must be absolute"},
            {"{\"Type\":\"bind\",\"Source\":\"/nonexistent-berth\",\"Target\":\"/x\"}",
             "invalid mount config for type \"bind\": bind source path does not exist: "
             "/nonexistent-berth"},
            {"{\"Type\":\"bind\",\"Target\":\"/x\"}", "field Source must not be empty"},
            {"{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/x\",\"BindOptions\":{"
             "\"Propagation\":\"sideways\"}}",
             "invalid propagation mode: sideways"},
            {"{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/x\",\"VolumeOptions\":{}}",
             "field VolumeOptions must not be specified"},
            {"{\"Type\":\"tmpfs\",\"Source\":\"x\",\"Target\":\"/x\"}",
             "field Source must not be specified"},
            {"{\"Type\":\"npipe\",\"Target\":\"/x\"}", "mount type unknown"},
            {"{\"Type\":\"volume\",\"Target\":\"x\"}", "must be absolute"},
            {"{\"Type\":\"volume\",\"Source\":\"a/b\",\"Target\":\"/x\"}", "invalid volume name"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct mount_spec m;
                struct berth_err err = {0};
                ck_assert_msg(parse_api(bad[i].json, &m, &err) == -EINVAL, "%s", bad[i].json);
                ck_assert_msg(strstr(err.msg, bad[i].msg), "%s: %s", bad[i].json, err.msg);
        }
}
END_TEST

/* --- volume-local against the mock host -------------------------------------- */

static const struct berth_plugin *plugin(void)
{
        void *h = dlopen(VOLUME_LOCAL_SO, RTLD_NOW | RTLD_LOCAL);
        ck_assert_msg(h != NULL, "%s", dlerror());
        const struct berth_plugin *p = dlsym(h, BERTH_PLUGIN_SYMBOL_NAME);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->kind, BERTH_KIND_VOLUME);
        return p;
}

static char root[] = "/tmp/berth-check-volume.XXXXXX";
static struct berth_mock_host mock;

static int collect_kv(void *ud, const char *k, const char *v)
{
        char *buf = ud;
        size_t l = strlen(buf);
        snprintf(buf + l, 512 - l, "%s=%s;", k, v);
        return 0;
}

static int collect_name(void *ud, const char *n)
{
        char *buf = ud;
        size_t l = strlen(buf);
        snprintf(buf + l, 512 - l, "%s;", n);
        return 0;
}

START_TEST(local_lifecycle)
{
        /* Mounts of this test stay in a namespace of its own (Check forks
         * each test), so a failure cannot leave one on the host. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "SKIP local_lifecycle: no mount namespace (%m)\n");
                return;
        }
        ck_assert_ptr_nonnull(mkdtemp(root));
        berth_mock_host_init(&mock, root);
        const struct berth_plugin *p = plugin();
        const struct berth_volume_ops *ops = p->ops;
        void *st = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(p->init(&mock.host, &st, &err), 0);

        ck_assert_int_eq(ops->create(st, "v1", NULL, 0, &err), 0);
        char path[4096], want[4096];
        snprintf(want, sizeof(want), "%s/data/volumes/v1/_data", root);
        ck_assert_int_eq(ops->path(st, "v1", 0, path, sizeof(path), &err), 0);
        ck_assert_str_eq(path, want);
        struct stat sb;
        ck_assert_int_eq(stat(want, &sb), 0);
        ck_assert(S_ISDIR(sb.st_mode));
        ck_assert_int_eq(ops->create(st, "v1", NULL, 0, &err), -EEXIST);
        ck_assert_int_eq(ops->create(st, "v1", NULL, 1u << 7, &err), -EINVAL); /* unknown flag */

        const char *const opts[] = {"type=tmpfs", "o=size=1m,mode=0700", NULL};
        ck_assert_int_eq(ops->create(st, "t1", opts, 0, &err), 0);
        char kv[512] = "";
        ck_assert_int_eq(ops->get(st, "t1", collect_kv, kv, 0, &err), 0);
        ck_assert_str_eq(kv, "type=tmpfs;o=size=1m,mode=0700;");

        /* options persist across a new driver instance (a restart) */
        p->fini(st);
        ck_assert_int_eq(p->init(&mock.host, &st, &err), 0);
        kv[0] = '\0';
        ck_assert_int_eq(ops->get(st, "t1", collect_kv, kv, 0, &err), 0);
        ck_assert_str_eq(kv, "type=tmpfs;o=size=1m,mode=0700;");

        char names[512] = "";
        ck_assert_int_eq(ops->list(st, collect_name, names, 0, &err), 0);
        ck_assert(strstr(names, "v1;") && strstr(names, "t1;"));

        /* refusals leave nothing behind */
        const char *const bad1[] = {"foo=bar", NULL};
        ck_assert_int_eq(ops->create(st, "b1", bad1, 0, &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "\"foo\""), "%s", err.msg);
        const char *const bad2[] = {"type=ext4", NULL};
        ck_assert_int_eq(ops->create(st, "b2", bad2, 0, &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "device"), "%s", err.msg);
        ck_assert_int_eq(ops->create(st, "../x", NULL, 0, &err), -EINVAL);
        snprintf(want, sizeof(want), "%s/data/volumes/b1", root);
        ck_assert_int_eq(access(want, F_OK), -1);

        /* mount: a tmpfs with the size asked for, shared by refs, released by the last */
        ck_assert_int_eq(ops->mount(st, "t1", "c1", 0, path, sizeof(path), &err), 0);
        struct statfs sf;
        ck_assert_int_eq(statfs(path, &sf), 0);
        ck_assert_uint_eq(sf.f_type, 0x01021994); /* TMPFS_MAGIC */
        ck_assert_uint_eq((uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize, 1024 * 1024);
        ck_assert_int_eq(ops->mount(st, "t1", "c2", 0, path, sizeof(path), &err), 0);
        ck_assert_int_eq(ops->remove(st, "t1", 0, &err), -EBUSY);
        ck_assert_int_eq(ops->unmount(st, "t1", "c1", 0, &err), 0);
        ck_assert_int_eq(statfs(path, &sf), 0);
        ck_assert_uint_eq(sf.f_type, 0x01021994);
        ck_assert_int_eq(ops->unmount(st, "t1", "c2", 0, &err), 0);
        ck_assert_int_eq(statfs(path, &sf), 0);
        ck_assert_uint_ne(sf.f_type, 0x01021994);

        /* bind: type=none,o=bind,device=DIR */
        char dev[4096];
        snprintf(dev, sizeof(dev), "%s/bindsrc", root);
        ck_assert_int_eq(mkdir(dev, 0755), 0);
        char devopt[4200];
        snprintf(devopt, sizeof(devopt), "device=%s", dev);
        const char *const bopts[] = {"type=none", "o=bind", devopt, NULL};
        ck_assert_int_eq(ops->create(st, "b3", bopts, 0, &err), 0);
        ck_assert_int_eq(ops->mount(st, "b3", "c1", 0, path, sizeof(path), &err), 0);
        char f[4200];
        snprintf(f, sizeof(f), "%s/through", path);
        FILE *fp = fopen(f, "w");
        ck_assert_ptr_nonnull(fp);
        fclose(fp);
        snprintf(f, sizeof(f), "%s/through", dev);
        ck_assert_int_eq(access(f, F_OK), 0);
        ck_assert_int_eq(ops->unmount(st, "b3", "c1", 0, &err), 0);
        /* removing the volume never deletes the bound device's files */
        ck_assert_int_eq(ops->remove(st, "b3", 0, &err), 0);
        ck_assert_int_eq(access(f, F_OK), 0);

        /* remove: data and options go; a symlink inside is not followed */
        ck_assert_int_eq(ops->path(st, "v1", 0, path, sizeof(path), &err), 0);
        snprintf(f, sizeof(f), "%s/link", path);
        ck_assert_int_eq(symlink(dev, f), 0);
        ck_assert_int_eq(ops->remove(st, "v1", 0, &err), 0);
        snprintf(f, sizeof(f), "%s/through", dev);
        ck_assert_int_eq(access(f, F_OK), 0);
        ck_assert_int_eq(ops->remove(st, "v1", 0, &err), -ENOENT);
        ck_assert_int_eq(ops->path(st, "v1", 0, path, sizeof(path), &err), -ENOENT);
        ck_assert_int_eq(ops->remove(st, "t1", 0, &err), 0);
        p->fini(st);
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("volume");
        TCase *tc = tcase_create("spec");
        tcase_add_test(tc, bind_named_volume);
        tcase_add_test(tc, bind_host_path);
        tcase_add_test(tc, bind_refusals);
        tcase_add_test(tc, api_mounts);
        tcase_add_test(tc, api_refusals);
        suite_add_tcase(s, tc);
        tc = tcase_create("local");
        tcase_add_test(tc, local_lifecycle);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
