/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v1 resource files (also used on hybrid hosts). */

#include <inttypes.h>

#include "runtime-internal.h"

static char *dir_of(const struct rt_cgroup_layout *l, const char *ctrl, const char *path)
{
        for (size_t i = 0; i < l->n_v1; i++) {
                _cleanup_strv_ char **v = strv_split(l->v1[i].controllers, ",");
                if (strv_contains(v, ctrl))
                        return xasprintf("%s%s", l->v1[i].mountpoint, path);
        }
        return NULL;
}

static int set(const struct rt_cgroup_layout *l, const char *ctrl, const char *path,
               const char *file, struct berth_err *err, const char *fmt, ...) _printf_(6, 7);
static int set(const struct rt_cgroup_layout *l, const char *ctrl, const char *path,
               const char *file, struct berth_err *err, const char *fmt, ...)
{
        _cleanup_free_ char *dir = dir_of(l, ctrl, path), *val = NULL;
        va_list ap;
        int r;
        if (!dir)
                return err_set(err, -EOPNOTSUPP,
                               "the spec sets '%s' but the %s cgroup controller is not mounted",
                               file, ctrl);
        va_start(ap, fmt);
        if (vasprintf(&val, fmt, ap) < 0)
                val = NULL;
        va_end(ap);
        if (!val)
                return err_set(err, -ENOMEM, "out of memory");
        if ((r = rt_cg_write(l, dir, file, val)) < 0)
                return err_errno(err, r, "write '%s' to '%s/%s'", val, dir, file);
        return 0;
}

static int dev_rule(const struct rt_cgroup_layout *l, const char *path,
                    const struct runtime_dev_rule *d, struct berth_err *err)
{
        char maj[24], min[24];
        if (d->major < 0)
                snprintf(maj, sizeof(maj), "*");
        else
                snprintf(maj, sizeof(maj), "%" PRId64, d->major);
        if (d->minor < 0)
                snprintf(min, sizeof(min), "*");
        else
                snprintf(min, sizeof(min), "%" PRId64, d->minor);
        if (d->type == 'a')
                return set(l, "devices", path, d->allow ? "devices.allow" : "devices.deny", err,
                           "a");
        return set(l, "devices", path, d->allow ? "devices.allow" : "devices.deny", err,
                   "%c %s:%s %s", d->type, maj, min, d->access);
}

int rt_cg_v1_apply(const struct rt_cgroup_layout *l, const char *path,
                   const struct runtime_resources *res, struct berth_err *err)
{
        static const char *thr_files[4] = {
            "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
            "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
        int r;
        if (res->mem_limit > 0 && (r = set(l, "memory", path, "memory.limit_in_bytes", err,
                                           "%" PRId64, res->mem_limit)) < 0)
                return r;
        if (res->mem_reservation > 0 && (r = set(l, "memory", path, "memory.soft_limit_in_bytes",
                                                 err, "%" PRId64, res->mem_reservation)) < 0)
                return r;
        /* memory+swap, which is what the spec's "swap" means; without swap
         * accounting the file is absent and there is no swap to limit. */
        if (res->mem_swap != 0 && res->mem_swap != -1 && res->mem_limit > 0) {
                _cleanup_free_ char *dir = dir_of(l, "memory", path);
                _cleanup_free_ char *f =
                    dir ? xasprintf("%s/memory.memsw.limit_in_bytes", dir) : NULL;
                if (f && access(f, F_OK) == 0 &&
                    (r = set(l, "memory", path, "memory.memsw.limit_in_bytes", err, "%" PRId64,
                             res->mem_swap)) < 0)
                        return r;
        }
        if (res->cpu_shares > 0 &&
            (r = set(l, "cpu", path, "cpu.shares", err, "%" PRId64, res->cpu_shares)) < 0)
                return r;
        if (res->cpu_period > 0 &&
            (r = set(l, "cpu", path, "cpu.cfs_period_us", err, "%" PRId64, res->cpu_period)) < 0)
                return r;
        if (res->cpu_quota != -1 && res->cpu_quota != 0 &&
            (r = set(l, "cpu", path, "cpu.cfs_quota_us", err, "%" PRId64, res->cpu_quota)) < 0)
                return r;
        if (res->cpuset_cpus && *res->cpuset_cpus &&
            (r = set(l, "cpuset", path, "cpuset.cpus", err, "%s", res->cpuset_cpus)) < 0)
                return r;
        if (res->cpuset_mems && *res->cpuset_mems &&
            (r = set(l, "cpuset", path, "cpuset.mems", err, "%s", res->cpuset_mems)) < 0)
                return r;
        if (res->pids_max && (r = set(l, "pids", path, "pids.max", err, "max")) < 0)
                return r;
        if (res->pids_limit > 0 &&
            (r = set(l, "pids", path, "pids.max", err, "%" PRId64, res->pids_limit)) < 0)
                return r;
        if (res->blkio_weight > 0) {
                /* blkio.weight exists only with CFQ/BFQ; under BFQ the file is
                 * blkio.bfq.weight. */
                _cleanup_free_ char *dir = dir_of(l, "blkio", path);
                _cleanup_free_ char *f = dir ? xasprintf("%s/blkio.weight", dir) : NULL;
                const char *file =
                    f && (l->fake || access(f, F_OK) == 0) ? "blkio.weight" : "blkio.bfq.weight";
                if ((r = set(l, "blkio", path, file, err, "%" PRId64, res->blkio_weight)) < 0)
                        return err_wrap(err, r,
                                        "blockIO.weight (needs the BFQ or CFQ I/O "
                                        "scheduler)");
        }
        for (int k = 0; k < 4; k++)
                for (size_t i = 0; i < res->n_throttle[k]; i++)
                        if ((r = set(l, "blkio", path, thr_files[k], err,
                                     "%" PRId64 ":%" PRId64 " %" PRIu64, res->throttle[k][i].major,
                                     res->throttle[k][i].minor, res->throttle[k][i].rate)) < 0)
                                return r;
        for (size_t i = 0; i < res->n_devices; i++)
                if ((r = dev_rule(l, path, &res->devices[i], err)) < 0)
                        return r;
        /* The devices every container gets (runc's list): they are created
         * in /dev by the runtime, so a "deny all" in the spec must not hide
         * them. */
        static const struct runtime_dev_rule defaults[] = {
            {true, 'c', 1, 3, "rwm"},   {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},
            {true, 'c', 1, 8, "rwm"},   {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},
            {true, 'c', 5, 1, "rwm"},   {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
            {true, 'c', 10, 200, "rwm"}};
        if (res->n_devices > 0)
                for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
                        if ((r = dev_rule(l, path, &defaults[i], err)) < 0)
                                return r;
        return 0;
}
