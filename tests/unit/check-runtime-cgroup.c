/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroups against FAKE cgroupfs trees: plain directories and files in /tmp
 * standing in for /sys/fs/cgroup. This machine has no cgroup v2 controllers
 * (its v2 hierarchy is empty; the controllers are in v1), so the v2 code is
 * checked here, on a fake tree, for the files it writes and their values;
 * the integration test runtime-cgroups exercises the real v1 hierarchy.
 * One test is not fake: the v2 device program is attached to a real cgroup2
 * directory (the hybrid host's unified hierarchy serves) and checked by
 * opening devices from inside it. */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "check-main.h"
#include "runtime/runtime-internal.h"

static char tree[] = "/tmp/berth-rt-unit-cgroup.XXXXXX";

static void setup(void)
{
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
        ck_assert_int_eq(write_file_atomic(p, value, strlen(value), 0644), 0);
}

static char *get(const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tree, rel);
        char *s = NULL;
        ck_assert_msg(read_full_file(p, &s, NULL) == 0, "'%s' was not written", rel);
        return s;
}

#define ck_file(rel, want)                          \
        do {                                        \
                _cleanup_free_ char *_v = get(rel); \
                ck_assert_str_eq(_v, want);         \
        } while (0)

static struct runtime_resources resources(void)
{
        struct runtime_resources r = {
            .mem_limit = 64 << 20,
            .mem_swap = 128 << 20,
            .mem_reservation = 32 << 20,
            .cpu_shares = 1024,
            .cpu_quota = 50000,
            .cpu_period = 100000,
            .cpuset_cpus = (char *)"0-1",
            .cpuset_mems = (char *)"0",
            .pids_limit = 100,
            .blkio_weight = 500,
        };
        return r;
}

START_TEST(test_v2_fake_tree)
{
        struct rt_cgroup_layout l = {.version = 2, .unified = tree, .fake = true};
        struct runtime_resources res = resources();
        struct berth_err e = {0};
        bool frozen = true;
        uint64_t n = 0;

        put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
        ck_assert_msg(rt_cgroup_create(&l, "/berth/c1", &res, &e) == 0, "%s", err_msg(&e));
        /* controllers enabled from the root down to the leaf's parent */
        ck_file("cgroup.subtree_control", "+cpuset +cpu +io +memory +pids");
        ck_file("berth/cgroup.subtree_control", "+cpuset +cpu +io +memory +pids");
        ck_file("berth/c1/memory.max", "67108864");
        ck_file("berth/c1/memory.swap.max", "67108864"); /* memory+swap minus memory */
        ck_file("berth/c1/memory.low", "33554432");
        ck_file("berth/c1/cpu.weight", "39"); /* shares 1024 */
        ck_file("berth/c1/cpu.max", "50000 100000");
        ck_file("berth/c1/cpuset.cpus", "0-1");
        ck_file("berth/c1/cpuset.mems", "0");
        ck_file("berth/c1/pids.max", "100");
        ck_file("berth/c1/io.weight", "default 4950");

        ck_assert_int_eq(rt_cgroup_enter(&l, "/berth/c1", 4242, &e), 0);
        ck_file("berth/c1/cgroup.procs", "4242");
        pid_t *pids = NULL;
        size_t np = 0;
        ck_assert_int_eq(rt_cgroup_pids(&l, "/berth/c1", &pids, &np), 0);
        ck_assert_uint_eq(np, 1);
        ck_assert_int_eq(pids[0], 4242);
        free(pids);

        ck_assert_int_eq(rt_cgroup_freeze(&l, "/berth/c1", true, &e), 0);
        ck_file("berth/c1/cgroup.freeze", "1");
        ck_assert_int_eq(rt_cgroup_is_frozen(&l, "/berth/c1", &frozen), 0);
        ck_assert(frozen);
        ck_assert_int_eq(rt_cgroup_freeze(&l, "/berth/c1", false, &e), 0);
        ck_file("berth/c1/cgroup.freeze", "0");

        put("berth/c1/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n");
        ck_assert_int_eq(rt_cgroup_oom_count(&l, "/berth/c1", &n), 0);
        ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_v2_swap_below_limit)
{
        struct rt_cgroup_layout l = {.version = 2, .unified = tree, .fake = true};
        struct runtime_resources res = {.mem_limit = 100,
                                        .mem_swap = 50,
                                        .mem_reservation = -1,
                                        .cpu_shares = -1,
                                        .cpu_quota = -1,
                                        .cpu_period = -1,
                                        .pids_limit = -1,
                                        .blkio_weight = -1};
        struct berth_err e = {0};
        put("cgroup.controllers", "memory\n");
        ck_assert_int_eq(rt_cgroup_create(&l, "/x", &res, &e), -EINVAL);
        ck_assert_msg(strstr(e.msg, "below memory.limit"), "%s", e.msg);
}
END_TEST

START_TEST(test_v2_missing_controller_file)
{
        /* A real cgroupfs has no memory.max when the controller is not
         * enabled: the error must say so rather than create the file. */
        struct rt_cgroup_layout l = {.version = 2, .unified = tree, .fake = false};
        struct runtime_resources res = {.mem_limit = 100,
                                        .mem_swap = -1,
                                        .mem_reservation = -1,
                                        .cpu_shares = -1,
                                        .cpu_quota = -1,
                                        .cpu_period = -1,
                                        .pids_limit = -1,
                                        .blkio_weight = -1};
        struct berth_err e = {0};
        put("cgroup.controllers", "");
        ck_assert_int_eq(rt_cgroup_create(&l, "/y", &res, &e), -ENOENT);
        ck_assert_msg(strstr(e.msg, "memory.max' does not exist"), "%s", e.msg);
        _cleanup_free_ char *dir = xasprintf("%s/y", tree);
        ck_assert_int_lt(access(dir, F_OK), 0); /* removed again on failure */
}
END_TEST

START_TEST(test_v1_fake_tree)
{
        static const char *ctrls[] = {"memory", "cpu,cpuacct", "cpuset", "pids",
                                      "blkio",  "devices",     "freezer"};
        struct rt_cgroup_layout l = {.version = 1, .fake = true};
        struct runtime_resources res = resources();
        struct runtime_dev_rule rules[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rw"}};
        struct berth_err e = {0};
        bool frozen = false;
        uint64_t n = 0;

        res.devices = rules;
        res.n_devices = 2;
        for (size_t i = 0; i < ELEMENTSOF(ctrls); i++) {
                _cleanup_free_ char *mp = xasprintf("%s/%s", tree, ctrls[i]);
                ck_assert_int_eq(mkdir(mp, 0755), 0);
                l.v1[l.n_v1].controllers = xstrdup(ctrls[i]);
                l.v1[l.n_v1].mountpoint = xstrdup(mp);
                l.n_v1++;
        }
        put("cpuset/cpuset.cpus", "0-3\n");
        put("cpuset/cpuset.mems", "0\n");
        res.cpuset_cpus = NULL; /* inherited from the parent */
        ck_assert_msg(rt_cgroup_create(&l, "/berth/c1", &res, &e) == 0, "%s", err_msg(&e));
        ck_file("memory/berth/c1/memory.limit_in_bytes", "67108864");
        ck_file("memory/berth/c1/memory.soft_limit_in_bytes", "33554432");
        ck_file("cpu,cpuacct/berth/c1/cpu.shares", "1024");
        ck_file("cpu,cpuacct/berth/c1/cpu.cfs_quota_us", "50000");
        ck_file("cpu,cpuacct/berth/c1/cpu.cfs_period_us", "100000");
        ck_file("cpuset/berth/cpuset.cpus", "0-3\n");
        ck_file("cpuset/berth/c1/cpuset.cpus", "0-3\n");
        ck_file("cpuset/berth/c1/cpuset.mems", "0");
        ck_file("pids/berth/c1/pids.max", "100");
        ck_file("blkio/berth/c1/blkio.weight", "500");
        /* the last rule written: runc's default devices follow the spec's */
        ck_file("devices/berth/c1/devices.allow", "c 10:200 rwm");

        ck_assert_int_eq(rt_cgroup_enter(&l, "/berth/c1", 99, &e), 0);
        ck_file("freezer/berth/c1/cgroup.procs", "99");
        ck_file("memory/berth/c1/cgroup.procs", "99");
        ck_assert_int_eq(rt_cgroup_freeze(&l, "/berth/c1", true, &e), 0);
        ck_assert_int_eq(rt_cgroup_is_frozen(&l, "/berth/c1", &frozen), 0);
        ck_assert(frozen);
        put("memory/berth/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        ck_assert_int_eq(rt_cgroup_oom_count(&l, "/berth/c1", &n), 0);
        ck_assert_uint_eq(n, 3);
        for (size_t i = 0; i < l.n_v1; i++) {
                free(l.v1[i].controllers);
                free(l.v1[i].mountpoint);
        }
}
END_TEST

START_TEST(test_update)
{
        /* docker update: only the fields that are set, "max" for a lifted
         * pids limit, and no device rules (they were fixed at create). */
        struct rt_cgroup_layout l = {.version = 2, .unified = tree, .fake = true};
        struct runtime_dev_rule rules[] = {{true, 'c', 1, 3, "rw"}};
        struct runtime_resources res = {.mem_limit = 64 << 20,
                                        .mem_swap = -1,
                                        .mem_reservation = -1,
                                        .cpu_shares = -1,
                                        .cpu_quota = -1,
                                        .cpu_period = -1,
                                        .pids_limit = -1,
                                        .pids_max = true,
                                        .blkio_weight = -1,
                                        .devices = rules,
                                        .n_devices = 1};
        struct berth_err e = {0};
        _cleanup_free_ char *dir = xasprintf("%s/u", tree);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(rt_cgroup_update(&l, "/u", &res, &e), 0);
        ck_file("u/memory.max", "67108864");
        ck_file("u/pids.max", "max");
        _cleanup_free_ char *cpu = xasprintf("%s/u/cpu.max", tree);
        ck_assert_int_lt(access(cpu, F_OK), 0);

        json_t *j = json_pack("{s:{s:i}}", "pids", "limit", -1);
        struct runtime_resources parsed = {0};
        ck_assert_int_eq(rt_resources_parse(j, &parsed, &e), 0);
        ck_assert(parsed.pids_max);
        ck_assert_int_eq(parsed.pids_limit, -1);
        rt_resources_done(&parsed);
        json_decref(j);
        ck_assert_int_eq(rt_cgroup_update(&l, "/../u", &res, &e), -EINVAL);
}
END_TEST

START_TEST(test_shares_to_weight)
{
        ck_assert_uint_eq(rt_cg_shares_to_weight(2), 1);
        ck_assert_uint_eq(rt_cg_shares_to_weight(1024), 39);
        ck_assert_uint_eq(rt_cg_shares_to_weight(262144), 10000);
        ck_assert_uint_eq(rt_cg_shares_to_weight(1u << 30), 10000);
}
END_TEST

START_TEST(test_detect_host)
{
        struct rt_cgroup_layout l;
        struct berth_err e = {0};
        ck_assert_msg(rt_cgroup_layout_detect(&l, &e) == 0, "%s", err_msg(&e));
        if (l.version == 1) {
                /* hybrid or v1: the controllers come from mountinfo */
                bool mem = false;
                for (size_t i = 0; i < l.n_v1; i++)
                        mem = mem || streq(l.v1[i].controllers, "memory");
                ck_assert(mem);
        } else {
                ck_assert_str_eq(l.unified, "/sys/fs/cgroup");
        }
        rt_cgroup_layout_done(&l);
}
END_TEST

/* The quick layout (from /proc/self/cgroup) is the one mountinfo gives, on
 * a host with the usual layout; every hierarchy is found at its place. */
START_TEST(test_detect_quick_matches_mountinfo)
{
        struct rt_cgroup_layout q, m;
        struct berth_err e = {0};
        struct statfs sfs;
        ck_assert_int_eq(statfs("/sys/fs/cgroup", &sfs), 0);
        if (sfs.f_type == CGROUP2_SUPER_MAGIC)
                return; /* pure v2: neither is used */
        /* the usual layout (this machine's): memory at /sys/fs/cgroup/memory */
        if (statfs("/sys/fs/cgroup/memory", &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
                return;
        ck_assert_int_eq(rt_cgroup_layout_quick(&q, "/proc/self/cgroup", "/sys/fs/cgroup"), 0);
        ck_assert_msg(rt_cgroup_layout_mountinfo(&m, &e) == 0, "%s", err_msg(&e));
        ck_assert_int_eq(q.version, 1);
        ck_assert_uint_eq(q.n_v1, m.n_v1);
        for (size_t i = 0; i < m.n_v1; i++) {
                bool found = false;
                for (size_t k = 0; k < q.n_v1; k++)
                        if (streq(q.v1[k].controllers, m.v1[i].controllers)) {
                                ck_assert_str_eq(q.v1[k].mountpoint, m.v1[i].mountpoint);
                                found = true;
                        }
                ck_assert_msg(found, "quick layout lacks '%s'", m.v1[i].controllers);
        }
        ck_assert_str_eq(strempty(q.unified), strempty(m.unified));
        rt_cgroup_layout_done(&q);
        rt_cgroup_layout_done(&m);
}
END_TEST

/* A hierarchy that is not a cgroup mount at root/<controllers> (here a
 * plain directory), or none at all: -ENOENT, and detect reads mountinfo. */
START_TEST(test_detect_quick_falls_back)
{
        struct rt_cgroup_layout l;
        put("cgroup", "9:name=systemd:/\n4:memory:/x\n1:cpu,cpuacct:/\n0::/\n");
        _cleanup_free_ char *proc = xasprintf("%s/cgroup", tree);
        _cleanup_free_ char *mem = xasprintf("%s/memory", tree);
        _cleanup_free_ char *cpu = xasprintf("%s/cpu,cpuacct", tree);
        ck_assert_int_eq(mkdir(mem, 0755), 0);
        ck_assert_int_eq(mkdir(cpu, 0755), 0);
        ck_assert_int_eq(rt_cgroup_layout_quick(&l, proc, tree), -ENOENT);
        ck_assert_uint_eq(l.n_v1, 0);
        put("cgroup", "9:name=systemd:/\n0::/\n");
        ck_assert_int_eq(rt_cgroup_layout_quick(&l, proc, tree), -ENOENT);
        ck_assert_int_eq(rt_cgroup_layout_quick(&l, "/nonexistent/cgroup", tree), -ENOENT);
}
END_TEST

START_TEST(test_bad_path)
{
        struct rt_cgroup_layout l = {.version = 2, .unified = tree, .fake = true};
        struct runtime_resources res = resources();
        struct berth_err e = {0};
        ck_assert_int_eq(rt_cgroup_create(&l, "/a/../../etc", &res, &e), -EINVAL);
        ck_assert_int_eq(rt_cgroup_create(&l, "rel", &res, &e), -EINVAL);
}
END_TEST

/* Not fake: a real cgroup2 directory (the hybrid host's empty unified
 * hierarchy works, as device programs need no controller) and a child that
 * moves itself in and opens devices. */
static int try_devices(const char *dir, const struct runtime_dev_rule *rules, size_t n)
{
        struct berth_err e = {0};
        ck_assert_msg(rt_cg_v2_devices(dir, rules, n, &e) == 0, "%s", err_msg(&e));
        pid_t pid = fork();
        if (pid == 0) {
                char buf[32];
                int res = 0;
                snprintf(buf, sizeof(buf), "%d", (int)getpid());
                _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", dir);
                int fd = open(procs, O_WRONLY);
                if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
                        _exit(100);
                close(fd);
                if ((fd = open("/dev/null", O_RDWR)) >= 0) {
                        res |= 1;
                        close(fd);
                }
                if ((fd = open("/dev/kmsg", O_RDONLY)) >= 0) {
                        res |= 2;
                        close(fd);
                }
                if ((fd = open("/dev/kmsg", O_WRONLY)) >= 0) {
                        res |= 4;
                        close(fd);
                }
                _exit(res);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFEXITED(st));
        return WEXITSTATUS(st);
}

START_TEST(test_v2_device_program)
{
        struct rt_cgroup_layout l;
        struct statfs sfs;
        struct berth_err e = {0};
        if (geteuid() != 0 || rt_cgroup_layout_detect(&l, &e) < 0)
                return;
        if (!l.unified || statfs(l.unified, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC ||
            access("/dev/kmsg", F_OK) < 0) {
                rt_cgroup_layout_done(&l);
                return;
        }
        _cleanup_free_ char *a = xasprintf("%s/berth-rt-unit-dev-%d-a", l.unified, (int)getpid());
        _cleanup_free_ char *b = xasprintf("%s/berth-rt-unit-dev-%d-b", l.unified, (int)getpid());
        ck_assert_int_eq(mkdir(a, 0755), 0);
        ck_assert_int_eq(mkdir(b, 0755), 0);
        struct runtime_dev_rule deny_all[] = {{false, 'a', -1, -1, "rwm"}};
        struct runtime_dev_rule kmsg_read[] = {{false, 'a', -1, -1, "rwm"},
                                               {true, 'c', 1, 11, "r"}};
        int ra = try_devices(a, deny_all, 1);
        int rb = try_devices(b, kmsg_read, 2);
        rmdir(a);
        rmdir(b);
        rt_cgroup_layout_done(&l);
        ck_assert_int_eq(ra, 1); /* /dev/null (a default device) only */
        ck_assert_int_eq(rb, 3); /* and /dev/kmsg for reading, not writing */
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("runtime-cgroup");
        TCase *t = tcase_create("fake-cgroupfs");
        tcase_add_checked_fixture(t, setup, teardown);
        tcase_add_test(t, test_v2_fake_tree);
        tcase_add_test(t, test_v2_swap_below_limit);
        tcase_add_test(t, test_v2_missing_controller_file);
        tcase_add_test(t, test_v1_fake_tree);
        tcase_add_test(t, test_update);
        tcase_add_test(t, test_shares_to_weight);
        tcase_add_test(t, test_detect_host);
        tcase_add_test(t, test_detect_quick_matches_mountinfo);
        tcase_add_test(t, test_detect_quick_falls_back);
        tcase_add_test(t, test_bad_path);
        tcase_add_test(t, test_v2_device_program);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
