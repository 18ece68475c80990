/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Container stats from FAKE cgroup trees (plain files in /tmp): the v2 files
 * of a pure v2 host, which this hybrid machine has no controllers for, and
 * the v1 controllers, each read into Docker's stats shape. */
#include <sys/stat.h>

#include "check-main.h"
#include "base/json.h"
#include "runtime/runtime-internal.h"

static char tree[64];

static void setup(void)
{
        snprintf(tree, sizeof(tree), "/tmp/berth-rt-unit-stats.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tree));
}

static void teardown(void)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tree);
        (void)!system(cmd);
}

static void put(const char *rel, const char *value)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tree, rel);
        _cleanup_free_ char *d = xstrdup(p);
        *strrchr(d, '/') = '\0';
        ck_assert_int_eq(mkdir_p(d, 0755), 0);
        ck_assert_int_eq(write_file_atomic(p, value, strlen(value), 0644), 0);
}

static int64_t at(json_t *o, const char *a, const char *b)
{
        json_t *x = json_object_get(o, a);
        return json_integer_value(b ? json_object_get(x, b) : x);
}

START_TEST(test_v2)
{
        put("ct/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\n"
                           "nr_throttled 1\nthrottled_usec 30\n");
        put("ct/memory.current", "1048576\n");
        put("ct/memory.max", "max\n");
        put("ct/memory.stat", "anon 4096\nfile 8192\ninactive_file 4096\n");
        put("ct/pids.current", "3\n");
        put("ct/pids.max", "max\n");
        put("ct/io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n");
        struct rt_cgroup_layout l = {.version = 2, .unified = tree};
        _cleanup_json_ json_t *o = rt_cgroup_stats(&l, "/ct");
        json_t *cpu = json_object_get(o, "cpu_stats");
        ck_assert_int_eq(at(cpu, "cpu_usage", "total_usage"), 2500000);
        ck_assert_int_eq(at(cpu, "cpu_usage", "usage_in_usermode"), 2000000);
        ck_assert_int_eq(at(cpu, "cpu_usage", "usage_in_kernelmode"), 500000);
        ck_assert_int_eq(at(cpu, "throttling_data", "throttled_periods"), 1);
        ck_assert_int_eq(at(cpu, "throttling_data", "throttled_time"), 30000);
        ck_assert_int_gt(at(cpu, "system_cpu_usage", NULL), 0);
        ck_assert_int_ge(at(cpu, "online_cpus", NULL), 1);
        json_t *mem = json_object_get(o, "memory_stats");
        ck_assert_int_eq(at(mem, "usage", NULL), 1048576);
        ck_assert_int_gt(at(mem, "limit", NULL), 1048576); /* "max": the host's memory */
        ck_assert_int_eq(at(mem, "stats", "inactive_file"), 4096);
        ck_assert_int_eq(at(o, "pids_stats", "current"), 3);
        ck_assert_ptr_null(json_object_get(json_object_get(o, "pids_stats"), "limit"));
        json_t *io =
            json_object_get(json_object_get(o, "blkio_stats"), "io_service_bytes_recursive");
        ck_assert_uint_eq(json_array_size(io), 2);
        ck_assert_str_eq(json_get_str(json_array_get(io, 0), "op", ""), "read");
        ck_assert_int_eq(json_get_int(json_array_get(io, 0), "value", 0), 4096);
        ck_assert_int_eq(json_get_int(json_array_get(io, 1), "value", 0), 8192);
        ck_assert_int_eq(json_get_int(json_array_get(io, 1), "major", 0), 8);
}
END_TEST

START_TEST(test_v1)
{
        put("cpu,cpuacct/ct/cpuacct.usage", "123456789\n");
        put("cpu,cpuacct/ct/cpuacct.usage_percpu", "100000000 23456789 \n");
        put("cpu,cpuacct/ct/cpuacct.stat", "user 10\nsystem 5\n");
        put("cpu,cpuacct/ct/cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n");
        put("memory/ct/memory.usage_in_bytes", "2097152\n");
        put("memory/ct/memory.limit_in_bytes", "67108864\n");
        put("memory/ct/memory.stat", "cache 0\nrss 65536\ntotal_inactive_file 1024\n");
        put("pids/ct/pids.current", "2\n");
        put("pids/ct/pids.max", "100\n");
        put("blkio/ct/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 512\n8:0 Write 1024\n8:0 Total 1536\nTotal 1536\n");
        struct rt_cgroup_layout l = {.version = 1, .n_v1 = 3};
        l.v1[0].controllers = "cpu,cpuacct";
        l.v1[0].mountpoint = xasprintf("%s/cpu,cpuacct", tree);
        l.v1[1].controllers = "memory";
        l.v1[1].mountpoint = xasprintf("%s/memory", tree);
        l.v1[2].controllers = "pids";
        l.v1[2].mountpoint = xasprintf("%s/pids", tree);
        _cleanup_json_ json_t *o = rt_cgroup_stats(&l, "/ct");
        json_t *cpu = json_object_get(o, "cpu_stats");
        ck_assert_int_eq(at(cpu, "cpu_usage", "total_usage"), 123456789);
        ck_assert_uint_eq(
            json_array_size(json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage")), 2);
        ck_assert_int_gt(at(cpu, "cpu_usage", "usage_in_usermode"), 0);
        json_t *mem = json_object_get(o, "memory_stats");
        ck_assert_int_eq(at(mem, "usage", NULL), 2097152);
        ck_assert_int_eq(at(mem, "limit", NULL), 67108864);
        ck_assert_int_eq(at(mem, "stats", "total_inactive_file"), 1024);
        ck_assert_int_eq(at(o, "pids_stats", "current"), 2);
        ck_assert_int_eq(at(o, "pids_stats", "limit"), 100);
        /* no blkio hierarchy in this layout: an empty list, not a failure */
        ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o, "blkio_stats"),
                                                          "io_service_bytes_recursive")),
                          0);
        l.v1[2].controllers = "blkio";
        free(l.v1[2].mountpoint);
        l.v1[2].mountpoint = xasprintf("%s/blkio", tree);
        _cleanup_json_ json_t *o2 = rt_cgroup_stats(&l, "/ct");
        json_t *io =
            json_object_get(json_object_get(o2, "blkio_stats"), "io_service_bytes_recursive");
        ck_assert_uint_eq(json_array_size(io), 3); /* the per-device lines only */
        ck_assert_str_eq(json_get_str(json_array_get(io, 1), "op", ""), "Write");
        ck_assert_int_eq(json_get_int(json_array_get(io, 1), "value", 0), 1024);
        for (int i = 0; i < 3; i++)
                free(l.v1[i].mountpoint);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("runtime-stats");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_v2);
        tcase_add_test(tc, test_v1);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
