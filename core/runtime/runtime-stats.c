/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resource usage of a container, read from its cgroup (v1 controllers on v1
 * and hybrid hosts, the unified tree on pure v2 hosts) in the shape of
 * Docker's stats object: cpu_stats, memory_stats, pids_stats, blkio_stats.
 * Missing files leave their fields out rather than failing: a host without a
 * controller still gets the rest. */

#include <unistd.h>

#include "base/json.h"
#include "runtime-internal.h"

static uint64_t ns_per_tick(void)
{
        long hz = sysconf(_SC_CLK_TCK);
        return hz > 0 ? 1000000000ULL / (uint64_t)hz : 10000000ULL;
}

static bool read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *line = NULL;
        if (!dir || read_one_line(p, &line) < 0)
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(line, &end, 10);
        if (errno || end == line)
                return false;
        *ret = v;
        return true;
}

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat) as an object. */
static json_t *read_kv(const char *dir, const char *file)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *data = NULL;
        if (!dir || read_full_file(p, &data, NULL) < 0)
                return NULL;
        json_t *o = json_object();
        _cleanup_strv_ char **lines = strv_split(data, "\n");
        for (char **l = lines; *l; l++) {
                char key[128];
                unsigned long long v;
                if (sscanf(*l, "%127s %llu", key, &v) == 2)
                        json_object_set_new(o, key, json_integer((json_int_t)v));
        }
        return o;
}

static uint64_t kv_get(json_t *o, const char *key)
{
        return (uint64_t)json_integer_value(json_object_get(o, key));
}

/* blkio.throttle.io_service_bytes_recursive: "8:0 Read 4096" lines. */
static json_t *read_blkio_v1(const char *dir, const char *file)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *data = NULL;
        json_t *a = json_array();
        if (!dir || read_full_file(p, &data, NULL) < 0)
                return a;
        _cleanup_strv_ char **lines = strv_split(data, "\n");
        for (char **l = lines; *l; l++) {
                unsigned maj, min;
                char op[16];
                unsigned long long v;
                if (sscanf(*l, "%u:%u %15s %llu", &maj, &min, op, &v) == 4)
                        json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:I}", "major", maj,
                                                           "minor", min, "op", op, "value",
                                                           (json_int_t)v));
        }
        return a;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." */
static void read_io_v2(const char *dir, json_t *bytes, json_t *ios)
{
        _cleanup_free_ char *p = xasprintf("%s/io.stat", dir), *data = NULL;
        if (read_full_file(p, &data, NULL) < 0)
                return;
        _cleanup_strv_ char **lines = strv_split(data, "\n");
        for (char **l = lines; *l; l++) {
                unsigned maj, min;
                if (sscanf(*l, "%u:%u", &maj, &min) != 2)
                        continue;
                _cleanup_strv_ char **f = strv_split(*l, " ");
                for (char **x = f + 1; *x; x++) {
                        static const struct {
                                const char *key, *op;
                                bool bytes;
                        } m[] = {{"rbytes=", "read", true},
                                 {"wbytes=", "write", true},
                                 {"rios=", "read", false},
                                 {"wios=", "write", false}};
                        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                                const char *v = startswith(*x, m[i].key);
                                if (!v)
                                        continue;
                                json_array_append_new(m[i].bytes ? bytes : ios,
                                                      json_pack("{s:i, s:i, s:s, s:I}", "major",
                                                                maj, "minor", min, "op", m[i].op,
                                                                "value",
                                                                (json_int_t)strtoull(v, NULL, 10)));
                        }
                }
        }
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* The host's CPU time in ns, all CPUs: Docker's system_cpu_usage. */
static uint64_t system_cpu_ns(void)
{
        _cleanup_free_ char *line = NULL;
        if (read_one_line("/proc/stat", &line) < 0 || !startswith(line, "cpu "))
                return 0;
        uint64_t sum = 0;
        _cleanup_strv_ char **f = strv_split(line + 4, " ");
        /* user nice system idle iowait irq softirq steal (guest is in user) */
        for (size_t i = 0; f[i] && i < 8; i++)
                sum += strtoull(f[i], NULL, 10);
        return sum * ns_per_tick();
}

static void stats_v1(const struct rt_cgroup_layout *l, const char *path, json_t *o)
{
        _cleanup_free_ char *cpuacct = NULL, *cpu = NULL, *mem = NULL, *pids = NULL, *blk = NULL;
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_strv_ char **c = strv_split(l->v1[i].controllers, ",");
                char **slot[] = {&cpuacct, &cpu, &mem, &pids, &blk};
                const char *names[] = {"cpuacct", "cpu", "memory", "pids", "blkio"};
                for (size_t k = 0; k < ELEMENTSOF(names); k++)
                        if (strv_contains(c, names[k]) && !*slot[k])
                                *slot[k] = xasprintf("%s%s", l->v1[i].mountpoint, path);
        }
        uint64_t v = 0, tick = ns_per_tick();
        json_t *usage = json_object(), *cs = json_object_get(o, "cpu_stats");
        if (read_u64(cpuacct, "cpuacct.usage", &v))
                json_object_set_new(usage, "total_usage", json_integer((json_int_t)v));
        _cleanup_free_ char *pp = cpuacct ? xasprintf("%s/cpuacct.usage_percpu", cpuacct) : NULL;
        _cleanup_free_ char *percpu = NULL;
        if (pp && read_one_line(pp, &percpu) >= 0) {
                json_t *a = json_array();
                _cleanup_strv_ char **f = strv_split(percpu, " ");
                for (char **x = f; *x; x++)
                        json_array_append_new(a, json_integer((json_int_t)strtoull(*x, NULL, 10)));
                json_object_set_new(usage, "percpu_usage", a);
        }
        _cleanup_json_ json_t *st = read_kv(cpuacct, "cpuacct.stat");
        json_object_set_new(usage, "usage_in_usermode",
                            json_integer((json_int_t)(kv_get(st, "user") * tick)));
        json_object_set_new(usage, "usage_in_kernelmode",
                            json_integer((json_int_t)(kv_get(st, "system") * tick)));
        json_object_set_new(cs, "cpu_usage", usage);
        _cleanup_json_ json_t *cst = read_kv(cpu, "cpu.stat");
        json_object_set_new(cs, "throttling_data",
                            json_pack("{s:I, s:I, s:I}", "periods",
                                      (json_int_t)kv_get(cst, "nr_periods"), "throttled_periods",
                                      (json_int_t)kv_get(cst, "nr_throttled"), "throttled_time",
                                      (json_int_t)kv_get(cst, "throttled_time")));

        json_t *ms = json_object_get(o, "memory_stats");
        if (read_u64(mem, "memory.usage_in_bytes", &v))
                json_object_set_new(ms, "usage", json_integer((json_int_t)v));
        if (read_u64(mem, "memory.max_usage_in_bytes", &v))
                json_object_set_new(ms, "max_usage", json_integer((json_int_t)v));
        if (read_u64(mem, "memory.failcnt", &v))
                json_object_set_new(ms, "failcnt", json_integer((json_int_t)v));
        uint64_t host = host_memory();
        if (read_u64(mem, "memory.limit_in_bytes", &v))
                json_object_set_new(ms, "limit",
                                    json_integer((json_int_t)(host && v > host ? host : v)));
        json_t *mst = read_kv(mem, "memory.stat");
        if (mst)
                json_object_set_new(ms, "stats", mst);

        json_t *ps = json_object_get(o, "pids_stats");
        if (read_u64(pids, "pids.current", &v))
                json_object_set_new(ps, "current", json_integer((json_int_t)v));
        if (read_u64(pids, "pids.max", &v))
                json_object_set_new(ps, "limit", json_integer((json_int_t)v));

        json_t *bs = json_object_get(o, "blkio_stats");
        json_object_set_new(bs, "io_service_bytes_recursive",
                            read_blkio_v1(blk, "blkio.throttle.io_service_bytes_recursive"));
        json_object_set_new(bs, "io_serviced_recursive",
                            read_blkio_v1(blk, "blkio.throttle.io_serviced_recursive"));
}

static void stats_v2(const struct rt_cgroup_layout *l, const char *path, json_t *o)
{
        _cleanup_free_ char *dir = xasprintf("%s%s", l->unified, path);
        uint64_t v = 0;
        _cleanup_json_ json_t *cst = read_kv(dir, "cpu.stat");
        json_t *cs = json_object_get(o, "cpu_stats");
        json_object_set_new(
            cs, "cpu_usage",
            json_pack("{s:I, s:I, s:I}", "total_usage",
                      (json_int_t)kv_get(cst, "usage_usec") * 1000, "usage_in_usermode",
                      (json_int_t)kv_get(cst, "user_usec") * 1000, "usage_in_kernelmode",
                      (json_int_t)kv_get(cst, "system_usec") * 1000));
        json_object_set_new(cs, "throttling_data",
                            json_pack("{s:I, s:I, s:I}", "periods",
                                      (json_int_t)kv_get(cst, "nr_periods"), "throttled_periods",
                                      (json_int_t)kv_get(cst, "nr_throttled"), "throttled_time",
                                      (json_int_t)kv_get(cst, "throttled_usec") * 1000));
        json_t *ms = json_object_get(o, "memory_stats");
        if (read_u64(dir, "memory.current", &v))
                json_object_set_new(ms, "usage", json_integer((json_int_t)v));
        uint64_t host = host_memory();
        if (!read_u64(dir, "memory.max", &v)) /* "max" */
                v = host;
        json_object_set_new(ms, "limit", json_integer((json_int_t)(host && v > host ? host : v)));
        json_t *mst = read_kv(dir, "memory.stat");
        if (mst)
                json_object_set_new(ms, "stats", mst);
        json_t *ps = json_object_get(o, "pids_stats");
        if (read_u64(dir, "pids.current", &v))
                json_object_set_new(ps, "current", json_integer((json_int_t)v));
        if (read_u64(dir, "pids.max", &v))
                json_object_set_new(ps, "limit", json_integer((json_int_t)v));
        json_t *bs = json_object_get(o, "blkio_stats"), *bytes = json_array(), *ios = json_array();
        read_io_v2(dir, bytes, ios);
        json_object_set_new(bs, "io_service_bytes_recursive", bytes);
        json_object_set_new(bs, "io_serviced_recursive", ios);
}

json_t *rt_cgroup_stats(const struct rt_cgroup_layout *l, const char *path)
{
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        json_t *o =
            json_pack("{s:{s:I, s:i}, s:{}, s:{}, s:{}}", "cpu_stats", "system_cpu_usage",
                      (json_int_t)system_cpu_ns(), "online_cpus", (int)(ncpu > 0 ? ncpu : 1),
                      "memory_stats", "pids_stats", "blkio_stats");
        if (l->version == 2)
                stats_v2(l, path, o);
        else
                stats_v1(l, path, o);
        return o;
}

int runtime_stats(const char *root, const char *id, json_t **ret, struct berth_err *err)
{
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        struct rt_cgroup_layout l;
        int r;
        if ((r = runtime_state_load(root, id, &s, err)) < 0)
                return r;
        if (isempty(s->cgroups_path))
                return err_set(err, -ENOENT, "container '%s' has no cgroup", id);
        if ((r = rt_cgroup_layout_detect(&l, err)) < 0)
                return r;
        *ret = rt_cgroup_stats(&l, s->cgroups_path);
        rt_cgroup_layout_done(&l);
        return 0;
}
