/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json parsing: what is accepted, and that each bad field is named. */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "check-main.h"
#include "runtime/runtime-internal.h"

static char bundle[] = "/tmp/berth-rt-unit-spec.XXXXXX";

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(bundle));
        _cleanup_free_ char *r = xasprintf("%s/rootfs", bundle);
        ck_assert_int_eq(mkdir(r, 0755), 0);
}

static void teardown(void)
{
        _cleanup_free_ char *r = xasprintf("%s/rootfs", bundle);
        rmdir(r);
        rmdir(bundle);
}

static int parse(const char *text, struct runtime_spec **ret, struct berth_err *err)
{
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        ck_assert_msg(j != NULL, "test JSON does not parse: %s", je.text);
        int r = runtime_spec_parse(j, bundle, ret, err);
        json_decref(j);
        return r;
}

#define BASE_PROCESS "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"}"

START_TEST(test_full)
{
        struct runtime_spec *s = NULL;
        struct berth_err e = {0};
        int r =
            parse("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                  "\"hostname\":\"h\","
                  "\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\","
                  "\"user\":{\"uid\":5,\"gid\":6,\"umask\":18,\"additionalGids\":[7,8]},"
                  "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\"],"
                  "\"effective\":[\"CAP_KILL\"]},"
                  "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],"
                  "\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
                  "\"mounts\":[{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
                  "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
                  "{\"destination\":\"/data\",\"type\":\"none\",\"source\":\"data\","
                  "\"options\":[\"rbind\",\"ro\",\"rprivate\"]}],"
                  "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
                  "{\"type\":\"uts\"},{\"type\":\"network\",\"path\":\"/run/netns/x\"}],"
                  "\"cgroupsPath\":\"/a/b\",\"resources\":{\"memory\":{\"limit\":1000},"
                  "\"pids\":{\"limit\":0},\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
                  "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},\"maskedPaths\":[\"/proc/kcore\"],"
                  "\"rootfsPropagation\":\"rslave\"}}",
                  &s, &e);
        ck_assert_msg(r == 0, "%s", err_msg(&e));
        ck_assert(s->rootfs_readonly);
        ck_assert_str_eq(s->hostname, "h");
        ck_assert(endswith(s->rootfs, "/rootfs"));
        ck_assert_int_eq(strv_length(s->process.args), 3);
        ck_assert_str_eq(s->process.cwd, "/tmp");
        ck_assert_uint_eq(s->process.uid, 5);
        ck_assert_uint_eq(s->process.gid, 6);
        ck_assert(s->process.has_umask);
        ck_assert_uint_eq(s->process.umask, 022);
        ck_assert_uint_eq(s->process.n_gids, 2);
        ck_assert_uint_eq(s->process.caps[RT_CAP_BOUNDING], (1u << 0) | (1u << 5));
        ck_assert_uint_eq(s->process.caps[RT_CAP_EFFECTIVE], 1u << 5);
        ck_assert_uint_eq(s->process.caps[RT_CAP_AMBIENT], 0);
        ck_assert_uint_eq(s->process.n_rlimits, 1);
        ck_assert_int_eq(s->process.rlimits[0].resource, RLIMIT_NOFILE);
        ck_assert(s->process.no_new_privileges);
        ck_assert_int_eq(s->process.oom_score_adj, 100);
        ck_assert_uint_eq(s->n_mounts, 2);
        ck_assert_uint_eq(s->mounts[0].flags, MS_NOSUID | MS_STRICTATIME);
        ck_assert_str_eq(s->mounts[0].data, "mode=755,size=65536k");
        ck_assert(s->mounts[1].bind);
        ck_assert_uint_eq(s->mounts[1].flags, MS_BIND | MS_REC | MS_RDONLY);
        ck_assert_uint_eq(s->mounts[1].propagation, MS_PRIVATE | MS_REC);
        ck_assert(startswith(s->mounts[1].source, bundle)); /* relative to the bundle */
        ck_assert(s->ns[RT_NS_PID].enabled && !s->ns[RT_NS_PID].path);
        ck_assert_str_eq(s->ns[RT_NS_NET].path, "/run/netns/x");
        ck_assert(!s->ns[RT_NS_USER].enabled);
        ck_assert_str_eq(s->cgroups_path, "/a/b");
        ck_assert_int_eq(s->resources.mem_limit, 1000);
        ck_assert_int_eq(s->resources.pids_limit, -1); /* 0 is "unlimited" */
        ck_assert_int_eq(s->resources.cpu_shares, -1);
        ck_assert_uint_eq(s->resources.n_devices, 1);
        ck_assert_str_eq(s->sysctl[0], "net.ipv4.ip_forward");
        ck_assert_uint_eq(s->rootfs_propagation, MS_SLAVE | MS_REC);
        runtime_spec_free(s);
}
END_TEST

static const struct {
        const char *json, *msg;
} bad[] = {
    {"[]", "must be a JSON object"},
    {"{\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS "}", "'ociVersion' is missing"},
    {"{\"ociVersion\":\"2.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS "}",
     "unsupported ociVersion '2.0'"},
    {"{\"ociVersion\":\"1.0\"," BASE_PROCESS "}", "'root' is missing"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"nope\"}," BASE_PROCESS "}",
     "No such file or directory"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}}", "'process' is missing"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[]}}",
     "process.args must name the program"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"a\"],"
     "\"cwd\":\"tmp\"}}",
     "process.cwd 'tmp' must be an absolute path"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"a\"],"
     "\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
     "unknown type 'RLIMIT_BOGUS'"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"a\"],"
     "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":2,\"hard\":1}]}}",
     "soft limit above its hard limit"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"a\"],"
     "\"capabilities\":{\"effective\":[\"CAP_NOPE\"]}}}",
     "effective: unknown capability 'CAP_NOPE'"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
     "'pid' listed twice"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}",
     "needs linux.uidMappings"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS ",\"hostname\":\"x\"}",
     "'hostname' needs a new uts namespace"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]}",
     "mounts[0].destination 'rel' must be an absolute path"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\"}]}",
     "a bind mount needs a source"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}}",
     "'linux.resources.memory.limit' must be an integer"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"linux\":{\"rootfsPropagation\":\"sideways\"}}",
     "rootfsPropagation: unknown 'sideways'"},
    {"{\"ociVersion\":\"1.0\",\"root\":{\"path\":\"rootfs\"}," BASE_PROCESS
     ",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}",
     "hooks.prestart[0] needs an absolute 'path'"},
};

START_TEST(test_bad)
{
        struct runtime_spec *s = NULL;
        struct berth_err e = {0};
        int r = parse(bad[_i].json, &s, &e);
        ck_assert_msg(r < 0, "accepted: %s", bad[_i].json);
        ck_assert_int_eq(r, e.code);
        ck_assert_msg(strstr(e.msg, bad[_i].msg), "error '%s' lacks '%s'", e.msg, bad[_i].msg);
        ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_default_template)
{
        json_t *j = runtime_spec_default(false);
        struct runtime_spec *s = NULL;
        struct berth_err e = {0};
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(runtime_spec_parse(j, bundle, &s, &e) == 0, "%s", err_msg(&e));
        ck_assert(s->ns[RT_NS_MNT].enabled && s->ns[RT_NS_PID].enabled);
        ck_assert(s->process.terminal);
        runtime_spec_free(s);
        json_decref(j);
        j = runtime_spec_default(true);
        ck_assert_msg(runtime_spec_parse(j, bundle, &s, &e) == 0, "%s", err_msg(&e));
        ck_assert(s->ns[RT_NS_USER].enabled);
        ck_assert_uint_eq(s->n_uid_maps, 1);
        runtime_spec_free(s);
        json_decref(j);
}
END_TEST

START_TEST(test_load_errors)
{
        struct runtime_spec *s = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(runtime_spec_load("/nonexistent-bundle", &s, &e), -ENOENT);
        ck_assert(strstr(e.msg, "bundle '/nonexistent-bundle'"));
        _cleanup_free_ char *cfg = xasprintf("%s/config.json", bundle);
        ck_assert_int_eq(write_file_atomic(cfg, "{\"a\":", 5, 0644), 0);
        ck_assert_int_eq(runtime_spec_load(bundle, &s, &e), -EINVAL);
        ck_assert_msg(strstr(e.msg, "config.json': line 1"), "%s", e.msg);
        unlink(cfg);
}
END_TEST

START_TEST(test_names)
{
        int v;
        ck_assert_int_eq(rt_ns_from_name("network"), RT_NS_NET);
        ck_assert_int_lt(rt_ns_from_name("net"), 0);
        ck_assert_int_eq(rt_cap_from_name("CAP_SYS_ADMIN", &v), 0);
        ck_assert_int_eq(v, 21);
        ck_assert_int_lt(rt_cap_from_name("SYS_ADMIN", &v), 0);
        ck_assert_int_eq(rt_valid_id("abc-1.2_x", NULL), 0);
        ck_assert_int_lt(rt_valid_id("../x", NULL), 0);
        ck_assert_int_lt(rt_valid_id("", NULL), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("runtime-spec");
        TCase *t = tcase_create("spec");
        tcase_add_checked_fixture(t, setup, teardown);
        tcase_add_test(t, test_full);
        tcase_add_loop_test(t, test_bad, 0, ELEMENTSOF(bad));
        tcase_add_test(t, test_default_template);
        tcase_add_test(t, test_load_errors);
        tcase_add_test(t, test_names);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
