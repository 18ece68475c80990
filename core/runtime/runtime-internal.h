/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_RUNTIME_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_RUNTIME_INTERNAL_H

/* What the runtime-*.c files share and nobody else needs. Functions marked
 * "child" run in the cloned container process, after clone() and before
 * execve(): they must not touch the caller's state and report through err. */

#include <linux/filter.h>

#include "runtime.h"

/* runtime-ns.c */
const char *rt_ns_name(int ns);     /* "pid", "network", ... as in the spec */
const char *rt_ns_procname(int ns); /* "pid", "net", ... as in /proc/PID/ns */
int rt_ns_from_name(const char *name);
int rt_ns_clone_flag(int ns);
/* child: join the namespaces that have a path (user first, pid excluded) */
int rt_ns_join_paths(const struct runtime_spec *spec, int *fds, struct berth_err *err);
/* parent: open every namespace path now, so a bad path fails before clone */
int rt_ns_open_paths(const struct runtime_spec *spec, int fds[RT_NS_MAX], struct berth_err *err);
int rt_write_idmap(pid_t pid, const char *file, const struct runtime_idmap *m, size_t n,
                   struct berth_err *err);

/* runtime-caps.c */
int rt_caps_parse(json_t *caps, uint64_t ret[RT_CAP_MAX], struct berth_err *err);
int rt_cap_from_name(const char *name, int *ret);
int rt_caps_drop_bounding(uint64_t bounding, struct berth_err *err);       /* child */
int rt_caps_apply(const uint64_t caps[RT_CAP_MAX], struct berth_err *err); /* child */
int rt_cap_last(void);

/* runtime-seccomp.c */
struct rt_bpf {
        struct sock_filter *insns;
        unsigned short len;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
};
/* Compile linux.seccomp once, in the caller, so the child only loads it. */
int rt_seccomp_compile(json_t *seccomp, struct rt_bpf *ret, struct berth_err *err);
/* The same through a cache of compiled filters in cache_dir (NULL: none). */
int rt_seccomp_compile_cached(json_t *seccomp, const char *cache_dir, struct rt_bpf *ret,
                              struct berth_err *err);
int rt_seccomp_load(const struct rt_bpf *bpf, struct berth_err *err); /* child */
void rt_bpf_done(struct rt_bpf *bpf);

/* linux.resources (runtime-spec.c); a NULL j leaves every field unset (-1). */
int rt_resources_parse(json_t *j, struct runtime_resources *res, struct berth_err *err);
void rt_resources_done(struct runtime_resources *res);

/* runtime-cgroup*.c */
#define RT_CG_V1_MAX 16
struct rt_cgroup_layout {
        int version;   /* 1 (v1 controllers, also on hybrid hosts) or 2 */
        char *unified; /* v2 mount point */
        size_t n_v1;
        struct {
                char *controllers; /* "cpu,cpuacct" */
                char *mountpoint;
        } v1[RT_CG_V1_MAX];
        bool fake; /* a test tree of plain files: create files on write */
};
int rt_cgroup_layout_detect(struct rt_cgroup_layout *ret, struct berth_err *err);
/* The two ways detect finds a v1 or hybrid layout: from /proc/self/mountinfo
 * (any layout, O(mounts on the host)), and quick: the hierarchies named in
 * proc_cgroup ("/proc/self/cgroup") each at root/<controllers> (a cgroup
 * mount there), 0 or -ENOENT when the layout is not that one. */
int rt_cgroup_layout_mountinfo(struct rt_cgroup_layout *ret, struct berth_err *err);
int rt_cgroup_layout_quick(struct rt_cgroup_layout *ret, const char *proc_cgroup, const char *root);
void rt_cgroup_layout_done(struct rt_cgroup_layout *l);

/* path: the container's cgroup, relative to each hierarchy's root. */
int rt_cgroup_create(const struct rt_cgroup_layout *l, const char *path,
                     const struct runtime_resources *res, struct berth_err *err);
/* Change the limits of an existing cgroup: the fields of res that are set
 * (not -1, not NULL); its device rules are left as they are. */
int rt_cgroup_update(const struct rt_cgroup_layout *l, const char *path,
                     const struct runtime_resources *res, struct berth_err *err);
int rt_cgroup_enter(const struct rt_cgroup_layout *l, const char *path, pid_t pid,
                    struct berth_err *err);
/* cgroup v1: a process moves its own (only) thread by writing "0" to each
 * hierarchy's `tasks`, which the kernel does without the global
 * cgroup_threadgroup_rwsem, so without its RCU grace period (6-20 ms on
 * every start when the parent writes the pid to cgroup.procs). open_self
 * opens those files before the clone (*ret_n = 0 on v2, where the parent
 * moves the process); enter_self is called by the child itself. */
int rt_cgroup_open_self(const struct rt_cgroup_layout *l, const char *path, int **ret_fds,
                        size_t *ret_n, struct berth_err *err);
int rt_cgroup_enter_self(const int *fds, size_t n);
int rt_cgroup_destroy(const struct rt_cgroup_layout *l, const char *path, struct berth_err *err);
int rt_cgroup_freeze(const struct rt_cgroup_layout *l, const char *path, bool freeze,
                     struct berth_err *err);
int rt_cgroup_is_frozen(const struct rt_cgroup_layout *l, const char *path, bool *ret);
int rt_cgroup_oom_count(const struct rt_cgroup_layout *l, const char *path, uint64_t *ret);
int rt_cgroup_pids(const struct rt_cgroup_layout *l, const char *path, pid_t **ret, size_t *ret_n);
/* child: the spec's "cgroup" mount at dest (already resolved in the rootfs) */
int rt_cgroup_mount(const struct rt_cgroup_layout *l, const char *path, const char *dest,
                    unsigned long flags, bool cgroupns, struct berth_err *err);
char *rt_cgroup_default_path(const char *id);
/* Docker's stats shape from the cgroup at path (runtime-stats.c). */
json_t *rt_cgroup_stats(const struct rt_cgroup_layout *l, const char *path);

/* v1/v2 back ends (runtime-cgroup-v1.c, runtime-cgroup-v2.c) */
int rt_cg_write(const struct rt_cgroup_layout *l, const char *dir, const char *file,
                const char *value);
int rt_cg_v1_apply(const struct rt_cgroup_layout *l, const char *path,
                   const struct runtime_resources *res, struct berth_err *err);
int rt_cg_v2_apply(const struct rt_cgroup_layout *l, const char *path,
                   const struct runtime_resources *res, struct berth_err *err);
int rt_cg_v2_enable_controllers(const struct rt_cgroup_layout *l, const char *path,
                                struct berth_err *err);
uint64_t rt_cg_shares_to_weight(uint64_t shares);
/* Attach a device program built from rules (plus the default devices) to
 * the v2 cgroup directory dir. */
int rt_cg_v2_devices(const char *dir, const struct runtime_dev_rule *rules, size_t n,
                     struct berth_err *err);

/* runtime-mount.c (child) */
struct rt_mount_ctx {
        const struct runtime_spec *spec;
        const struct rt_cgroup_layout *cg_layout;
        const char *cg_path;
        bool no_pivot;
        bool userns;
        bool console_bind; /* bind the pty on /dev/console (not for exec) */
};
int rt_rootfs_prepare(const struct rt_mount_ctx *c, struct berth_err *err);
int rt_rootfs_pivot(const struct rt_mount_ctx *c, struct berth_err *err);
int rt_rootfs_finish(const struct rt_mount_ctx *c, struct berth_err *err);
unsigned long rt_mount_flag(const char *opt, bool *ret_clear, bool *ret_propagation);

/* runtime-exec.c */
/* parent: the absolute path of args[0] inside rootfs (PATH from env), so a
 * missing program fails `create`, not `start`. */
int rt_find_executable(const char *rootfs, const struct runtime_process *p, char **ret,
                       struct berth_err *err);
int rt_rlimits_check(const struct runtime_process *p, struct berth_err *err);
/* child: rlimits, user, groups, caps, no_new_privs, seccomp, umask, cwd;
 * seccomp goes as late as the filter allows. */
int rt_process_setup(const struct runtime_process *p, const struct rt_bpf *bpf, bool userns,
                     bool setgroups_ok, struct berth_err *err);
/* child: execve(); returns only on failure. With init, fork first and stay
 * as a reaper; sync_fd is closed in the init once its child exists. */
int rt_process_exec(const struct runtime_process *p, const char *path, bool init, int sync_fd,
                    struct berth_err *err);
const char *rt_rlimit_name(int resource);
void rt_close_inherited_fds(unsigned preserve); /* child, just before exec */

/* runtime-init.c */
int rt_init_run(const struct runtime_process *p, const char *path, int sync_fd,
                struct berth_err *err);

/* runtime-mount.c (child) */
int rt_console_create(const struct rt_mount_ctx *c, int *ret_master, int *ret_slave,
                      struct berth_err *err);
int rt_console_send(int sock, int master, struct berth_err *err);
int rt_console_make_controlling(int slave, struct berth_err *err);

/* runtime-state.c */
char *rt_state_dir(const char *root, const char *id);
int rt_state_save(const char *root, const struct runtime_state *s, struct berth_err *err);
int rt_proc_start_time(pid_t pid, uint64_t *ret);
int rt_valid_id(const char *id, struct berth_err *err);

/* runtime-hooks.c */
int rt_hooks_run(const struct runtime_spec *spec, int which, const char *state_json,
                 struct berth_err *err);

#endif
