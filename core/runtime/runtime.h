/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_RUNTIME_RUNTIME_H
#define BERTH_RUNTIME_RUNTIME_H

/* The runtime: turns an OCI bundle (config.json + rootfs) into a container.
 *
 * berthd (through berth-shim) and the berth-runtime program call the same
 * functions. The process model is deliberately small: one clone() with every
 * new-namespace flag at once, a SOCK_SEQPACKET sync socket between the caller
 * and the child, and no re-exec of ourselves: the child that clone() returns
 * in sets up the container and execs the user's process directly, so that
 * process is pid 1 of the new pid namespace.
 *
 * runtime_create() must be called from a single-threaded process: the child
 * of a raw clone() in a multi-threaded process may find malloc's locks held.
 * berthd therefore calls it from the shim (or runs berth-runtime), never from
 * one of its worker threads.
 *
 * State lives in <root>/<id>/ (state.json, exec.fifo while "created"). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#define RUNTIME_DEFAULT_ROOT "/run/berth-runtime"
#define RUNTIME_OCI_VERSION  "1.1.0"

enum {
        RT_NS_PID,
        RT_NS_NET,
        RT_NS_MNT,
        RT_NS_IPC,
        RT_NS_UTS,
        RT_NS_USER,
        RT_NS_CGROUP,
        RT_NS_TIME,
        RT_NS_MAX,
};

/* Capability sets, in the order of the spec's process.capabilities. */
enum {
        RT_CAP_BOUNDING,
        RT_CAP_EFFECTIVE,
        RT_CAP_INHERITABLE,
        RT_CAP_PERMITTED,
        RT_CAP_AMBIENT,
        RT_CAP_MAX,
};

struct runtime_ns {
        bool enabled;
        char *path; /* join this namespace instead of creating one */
};

struct runtime_idmap {
        uint32_t container_id, host_id, size;
};

struct runtime_mount {
        char *destination;
        char *type;
        char *source;
        char *data;                /* the options that are not flags */
        unsigned long flags;       /* MS_* set */
        unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, ...) */
        unsigned long propagation; /* MS_PRIVATE|MS_REC ... or 0 */
        bool bind;
};

struct runtime_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct runtime_device {
        char *path;
        char type; /* c, b, u, p */
        int64_t major, minor;
        uint32_t mode; /* 0: 0666 */
        uint32_t uid, gid;
};

struct runtime_dev_rule {
        bool allow;
        char type;            /* a, c, b */
        int64_t major, minor; /* -1: any */
        char access[4];
};

struct runtime_blkio_dev {
        int64_t major, minor;
        uint64_t rate;
};

/* -1 in a signed field means "not set". */
struct runtime_resources {
        int64_t mem_limit, mem_swap, mem_reservation;
        int64_t cpu_shares, cpu_quota, cpu_period;
        char *cpuset_cpus, *cpuset_mems;
        int64_t pids_limit;
        bool pids_max; /* a negative pids.limit: write "max" (an update back to no limit) */
        int64_t blkio_weight;
        struct runtime_blkio_dev *throttle[4]; /* read bps, write bps, read iops, write iops */
        size_t n_throttle[4];
        struct runtime_dev_rule *devices;
        size_t n_devices;
};

struct runtime_process {
        bool terminal;
        unsigned short console_height, console_width; /* consoleSize; 0: not set */
        uint32_t uid, gid;
        uint32_t *gids;
        size_t n_gids;
        bool has_umask;
        uint32_t umask;
        char **args;
        char **env;
        char *cwd;
        bool has_caps;
        uint64_t caps[RT_CAP_MAX];
        struct runtime_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
};

struct runtime_hook {
        char *path;
        char **args;
        char **env;
        int timeout; /* seconds, 0: none */
};

enum {
        RT_HOOK_PRESTART,
        RT_HOOK_CREATE_RUNTIME,
        RT_HOOK_CREATE_CONTAINER,
        RT_HOOK_START_CONTAINER,
        RT_HOOK_POSTSTART,
        RT_HOOK_POSTSTOP,
        RT_HOOK_MAX,
};

struct runtime_spec {
        json_t *json; /* the whole config.json, kept for hooks and annotations */
        char *bundle; /* absolute */
        char *rootfs; /* absolute */
        bool rootfs_readonly;
        char *hostname;
        struct runtime_process process;
        struct runtime_mount *mounts;
        size_t n_mounts;
        struct runtime_ns ns[RT_NS_MAX];
        struct runtime_idmap *uid_maps, *gid_maps;
        size_t n_uid_maps, n_gid_maps;
        char *cgroups_path;
        struct runtime_resources resources;
        char **masked_paths;
        char **readonly_paths;
        char **sysctl; /* key, value, key, value, ... */
        struct runtime_device *devices;
        size_t n_devices;
        unsigned long rootfs_propagation;
        struct runtime_hook *hooks[RT_HOOK_MAX];
        size_t n_hooks[RT_HOOK_MAX];
        json_t *seccomp; /* linux.seccomp, compiled by runtime_create */
};

/* config.json */
int runtime_spec_load(const char *bundle, struct runtime_spec **ret, struct berth_err *err);
/* Parse a config already in memory; bundle is where a relative root.path is
 * resolved. Takes a reference on json. */
int runtime_spec_parse(json_t *json, const char *bundle, struct runtime_spec **ret,
                       struct berth_err *err);
int runtime_process_parse(json_t *json, struct runtime_process *ret, struct berth_err *err);
void runtime_process_done(struct runtime_process *p);
struct runtime_spec *runtime_spec_free(struct runtime_spec *spec);
static inline void runtime_spec_freep(struct runtime_spec **s)
{
        runtime_spec_free(*s);
}
/* Drop from every set of a spec's process.capabilities the capabilities
 * that are not in this process's bounding set: no process started from
 * here can hold them, and asking for them fails the start with EPERM. For
 * --privileged, "every capability" means every one the host lets us have
 * (a host without CAP_SYS_RESOURCE in its bounding set, say). */
void runtime_caps_within_bounding(json_t *capabilities);

/* The default config.json `berth-runtime spec` writes (runc's template). */
json_t *runtime_spec_default(bool rootless);

/* Life cycle */
struct runtime_create_opts {
        const char *root; /* NULL: RUNTIME_DEFAULT_ROOT */
        const char *id;
        const char *console_socket; /* path of a unix socket to send the PTY master to */
        int console_fd;             /* or an already connected socket; -1: none */
        const char *pid_file;
        bool no_pivot;
        bool init;             /* a minimal init as pid 1 that reaps and forwards signals */
        bool start_now;        /* exec at once (run) instead of waiting for start */
        unsigned preserve_fds; /* pass fds 3 .. 3+N-1 on to the container */
};

int runtime_create(const struct runtime_spec *spec, const struct runtime_create_opts *opts,
                   pid_t *ret_pid, struct berth_err *err);
int runtime_start(const char *root, const char *id, struct berth_err *err);
int runtime_kill(const char *root, const char *id, int sig, bool all, struct berth_err *err);
int runtime_delete(const char *root, const char *id, bool force, struct berth_err *err);
int runtime_pause(const char *root, const char *id, bool pause, struct berth_err *err);
/* Change the cgroup limits of a created, running or paused container to
 * those set in `resources` (linux.resources of the OCI spec; what it does
 * not set stays as it is; device rules are not changed), as runc update. */
int runtime_update(const char *root, const char *id, json_t *resources, struct berth_err *err);
/* Whether the kernel OOM-killed anything in the container's cgroup. */
int runtime_oom_killed(const char *root, const char *id, bool *ret, struct berth_err *err);
/* Resource usage from the container's cgroup in Docker's stats shape:
 * {"cpu_stats":{"cpu_usage":{..},"system_cpu_usage","online_cpus",..},
 *  "memory_stats":{"usage","limit","stats":{..}},"pids_stats","blkio_stats"}
 * (runtime-stats.c). */
int runtime_stats(const char *root, const char *id, json_t **ret, struct berth_err *err);
/* The pids in the container's cgroup. */
int runtime_pids(const char *root, const char *id, pid_t **ret, size_t *ret_n,
                 struct berth_err *err);

struct runtime_exec_opts {
        const char *console_socket;
        /* Or, with has_console_fd, a connected socket (a socketpair end) to
         * send the PTY master to: the shim receives it without a path. */
        bool has_console_fd;
        int console_fd;
        const char *pid_file;
        bool detach;
        unsigned preserve_fds;
};
/* Start proc inside the running container id; returns its pid. */
int runtime_exec(const char *root, const char *id, const struct runtime_process *proc,
                 const struct runtime_exec_opts *opts, pid_t *ret_pid, struct berth_err *err);

/* State (runtime-state.c) */
enum runtime_status {
        RT_STATUS_CREATING,
        RT_STATUS_CREATED,
        RT_STATUS_RUNNING,
        RT_STATUS_PAUSED,
        RT_STATUS_STOPPED,
};
const char *runtime_status_to_string(enum runtime_status s);

struct runtime_state {
        char *id;
        char *bundle;
        pid_t pid;
        uint64_t start_time; /* field 22 of /proc/pid/stat: tells pid reuse apart */
        int64_t created_ns;
        char *cgroups_path;
        bool init;
        enum runtime_status status; /* filled by runtime_state_load */
        json_t *annotations;
};
int runtime_state_load(const char *root, const char *id, struct runtime_state **ret,
                       struct berth_err *err);
struct runtime_state *runtime_state_free(struct runtime_state *s);
static inline void runtime_state_freep(struct runtime_state **s)
{
        runtime_state_free(*s);
}
/* The OCI state JSON. */
json_t *runtime_state_to_json(const struct runtime_state *s);
/* Ids of the containers under root. */
int runtime_list(const char *root, char ***ret, struct berth_err *err);

/* A JSON description of what this runtime supports (`features`). */
json_t *runtime_features(void);

/* Wait for a child; return the shell-style exit code (128+signal). */
int runtime_wait_exit(pid_t pid);

#endif
