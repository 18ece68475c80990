/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's record -> the OCI runtime spec (config.json) the runtime
 * runs, with Docker's defaults: its capability set, masked and read-only
 * paths, /dev, /proc, /sys, shm and mqueue mounts, the generated
 * /etc/hostname, /etc/hosts and /etc/resolv.conf, cgroup resources, and the
 * default seccomp profile. */
#include "container.h"
#include "container-spec.h"
#include "base/json.h"

#include <ctype.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

/* Docker's default capability set: CapEff 00000000a80425fb. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* Every capability the kernel of this ABI knows, for --privileged and ALL. */
static const char *const all_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

static const char *const masked_paths[] = {
    "/proc/asound",      "/proc/acpi",          "/proc/interrupts", "/proc/kcore",
    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/proc/scsi",          "/sys/firmware",    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger"};

/* Syscalls the default profile refuses with EPERM whatever the
 * container's capabilities: those that reach the host kernel's global
 * state and that Docker's default profile never allows. berth's profile is
 * a deny list: fewer rules than an allow list, so the BPF program is short
 * to compile and to run, and new harmless syscalls keep working. */
static const char *const denied_syscalls[] = {
    "add_key",    "create_module", "get_kernel_syms", "kexec_file_load", "kexec_load", "keyctl",
    "move_pages", "nfsservctl",    "query_module",    "request_key",     "swapoff",    "swapon",
    "sysfs",      "_sysctl",       "uselib",          "userfaultfd",     "ustat",      "vm86",
    "vm86old",    "personality",   "pivot_root",
};

/* Syscalls Docker's default profile opens only to a container granted one
 * of their capabilities (its "includes": {"caps": [...]} rules); the kernel
 * still checks the capability itself. A syscall listed under two
 * capabilities is open with either. */
static const struct {
        const char *cap;
        const char *syscall;
} cap_syscalls[] = {
    {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
    {"CAP_SYS_ADMIN", "bpf"},
    {"CAP_SYS_ADMIN", "fanotify_init"},
    {"CAP_SYS_ADMIN", "fsconfig"},
    {"CAP_SYS_ADMIN", "fsmount"},
    {"CAP_SYS_ADMIN", "fsopen"},
    {"CAP_SYS_ADMIN", "fspick"},
    {"CAP_SYS_ADMIN", "lookup_dcookie"},
    {"CAP_SYS_ADMIN", "mount"},
    {"CAP_SYS_ADMIN", "mount_setattr"},
    {"CAP_SYS_ADMIN", "move_mount"},
    {"CAP_SYS_ADMIN", "open_tree"},
    {"CAP_SYS_ADMIN", "perf_event_open"},
    {"CAP_SYS_ADMIN", "quotactl"},
    {"CAP_SYS_ADMIN", "quotactl_fd"},
    {"CAP_SYS_ADMIN", "setdomainname"},
    {"CAP_SYS_ADMIN", "sethostname"},
    {"CAP_SYS_ADMIN", "setns"},
    {"CAP_SYS_ADMIN", "syslog"},
    {"CAP_SYS_ADMIN", "umount"},
    {"CAP_SYS_ADMIN", "umount2"},
    {"CAP_SYS_ADMIN", "unshare"},
    {"CAP_SYS_BOOT", "reboot"},
    {"CAP_SYS_MODULE", "delete_module"},
    {"CAP_SYS_MODULE", "init_module"},
    {"CAP_SYS_MODULE", "finit_module"},
    {"CAP_SYS_PACCT", "acct"},
    {"CAP_SYS_PTRACE", "kcmp"},
    {"CAP_SYS_PTRACE", "pidfd_getfd"},
    {"CAP_SYS_PTRACE", "process_madvise"},
    {"CAP_SYS_PTRACE", "process_vm_readv"},
    {"CAP_SYS_PTRACE", "process_vm_writev"},
    {"CAP_SYS_PTRACE", "ptrace"},
    {"CAP_SYS_RAWIO", "iopl"},
    {"CAP_SYS_RAWIO", "ioperm"},
    {"CAP_SYS_TIME", "settimeofday"},
    {"CAP_SYS_TIME", "stime"},
    {"CAP_SYS_TIME", "clock_settime"},
    {"CAP_SYS_TTY_CONFIG", "vhangup"},
    {"CAP_SYS_NICE", "get_mempolicy"},
    {"CAP_SYS_NICE", "mbind"},
    {"CAP_SYS_NICE", "set_mempolicy"},
    {"CAP_SYS_NICE", "set_mempolicy_home_node"},
    {"CAP_SYSLOG", "syslog"},
    {"CAP_BPF", "bpf"},
    {"CAP_PERFMON", "perf_event_open"},
};

/* Open to every container on kernels from 4.8 on, where seccomp is checked
 * again after a tracer changed the syscall (Docker's minKernel rule). */
static const char *const ptrace_syscalls[] = {"ptrace", "process_vm_readv", "process_vm_writev"};

/* Namespace flags that clone() must not carry without CAP_SYS_ADMIN
 * (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET). */
static const uint64_t clone_ns_flags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                          0x10000000, 0x20000000, 0x40000000};

static bool kernel_at_least(int major, int minor)
{
        struct utsname u;
        int ma = 0, mi = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
                return true;
        return ma > major || (ma == major && mi >= minor);
}

static bool has_cap(json_t *caps, const char *cap)
{
        size_t i;
        json_t *v;
        json_array_foreach (caps, i, v)
                if (streq(json_string_value(v) ?: "", cap))
                        return true;
        return false;
}

/* Whether a capability in caps opens syscall. */
static bool opened_by_caps(json_t *caps, const char *syscall)
{
        for (size_t k = 0; k < ELEMENTSOF(cap_syscalls); k++)
                if (streq(cap_syscalls[k].syscall, syscall) && has_cap(caps, cap_syscalls[k].cap))
                        return true;
        return false;
}

json_t *seccomp_profile_for_caps(json_t *caps)
{
        bool ptrace_ok = kernel_at_least(4, 8);
        json_t *names = json_array();
        for (size_t i = 0; i < ELEMENTSOF(denied_syscalls); i++)
                json_array_append_new(names, json_string(denied_syscalls[i]));
        for (size_t i = 0; i < ELEMENTSOF(cap_syscalls); i++) {
                const char *sc = cap_syscalls[i].syscall;
                bool seen = false;
                for (size_t k = 0; k < i; k++)
                        seen |= streq(cap_syscalls[k].syscall, sc);
                bool by_kernel = false;
                for (size_t k = 0; k < ELEMENTSOF(ptrace_syscalls); k++)
                        by_kernel |= ptrace_ok && streq(ptrace_syscalls[k], sc);
                if (!seen && !by_kernel && !opened_by_caps(caps, sc))
                        json_array_append_new(names, json_string(sc));
        }
        json_t *rules = json_array();
        json_array_append_new(rules, json_pack("{s:o, s:s, s:i}", "names", names, "action",
                                               "SCMP_ACT_ERRNO", "errnoRet", 1));
        if (!has_cap(caps, "CAP_SYS_ADMIN")) {
                for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++)
                        json_array_append_new(
                            rules,
                            json_pack("{s:[s], s:s, s:i, s:[{s:i, s:I, s:I, s:s}]}", "names",
                                      "clone", "action", "SCMP_ACT_ERRNO", "errnoRet", 1, "args",
                                      "index", 0, "value", (json_int_t)clone_ns_flags[i],
                                      "valueTwo", (json_int_t)clone_ns_flags[i], "op",
                                      "SCMP_CMP_MASKED_EQ"));
                /* clone3 passes its flags in memory a filter cannot read:
                 * ENOSYS makes the C library fall back to clone(), which is
                 * checked. */
                json_array_append_new(rules, json_pack("{s:[s], s:s, s:i}", "names", "clone3",
                                                       "action", "SCMP_ACT_ERRNO", "errnoRet", 38));
        }
        return json_pack("{s:s, s:i, s:[s,s,s], s:o}", "defaultAction", "SCMP_ACT_ALLOW",
                         "defaultErrnoRet", 1, "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                         "SCMP_ARCH_X32", "syscalls", rules);
}

json_t *seccomp_default_profile(void)
{
        _cleanup_json_ json_t *caps = json_array();
        for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                json_array_append_new(caps, json_string(default_caps[i]));
        return seccomp_profile_for_caps(caps);
}

static bool cap_known(const char *c)
{
        for (size_t i = 0; i < ELEMENTSOF(all_caps); i++)
                if (streq(all_caps[i], c))
                        return true;
        return false;
}

/* "NET_ADMIN" or "CAP_NET_ADMIN" (CLI 20.10 and 28 differ), any case. */
static char *cap_name(const char *s)
{
        char *c =
            startswith(s, "CAP_") || startswith(s, "cap_") ? xstrdup(s) : xasprintf("CAP_%s", s);
        for (char *p = c; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        return c;
}

static int capabilities(json_t *hc, json_t **ret, struct berth_err *err)
{
        json_t *set = json_array();
        bool privileged = json_get_bool(hc, "Privileged", false);
        const char *const *base = privileged ? all_caps : default_caps;
        size_t nbase = privileged ? ELEMENTSOF(all_caps) : ELEMENTSOF(default_caps);
        bool drop_all = false;
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "CapDrop"), i, v) {
                _cleanup_free_ char *c = cap_name(json_string_value(v) ?: "");
                if (streq(c, "CAP_ALL"))
                        drop_all = true;
                else if (!cap_known(c)) {
                        json_decref(set);
                        return err_set(err, -EINVAL, "unknown capability to drop: \"%s\"",
                                       json_string_value(v));
                }
        }
        for (size_t k = 0; k < nbase && !drop_all; k++) {
                bool dropped = false;
                json_array_foreach (json_object_get(hc, "CapDrop"), i, v) {
                        _cleanup_free_ char *c = cap_name(json_string_value(v) ?: "");
                        if (streq(c, base[k]))
                                dropped = true;
                }
                if (!dropped)
                        json_array_append_new(set, json_string(base[k]));
        }
        json_array_foreach (json_object_get(hc, "CapAdd"), i, v) {
                _cleanup_free_ char *c = cap_name(json_string_value(v) ?: "");
                if (streq(c, "CAP_ALL")) {
                        json_array_clear(set);
                        for (size_t k = 0; k < ELEMENTSOF(all_caps); k++)
                                json_array_append_new(set, json_string(all_caps[k]));
                        continue;
                }
                if (!cap_known(c)) {
                        json_decref(set);
                        return err_set(err, -EINVAL, "unknown capability to add: \"%s\"",
                                       json_string_value(v));
                }
                bool have = false;
                size_t j;
                json_t *x;
                json_array_foreach (set, j, x)
                        if (streq(json_string_value(x), c))
                                have = true;
                if (!have)
                        json_array_append_new(set, json_string(c));
        }
        *ret = json_pack("{s:O, s:O, s:O}", "bounding", set, "effective", set, "permitted", set);
        json_decref(set);
        return 0;
}

/* Read a file of the image's rootfs without following a symlink out of it. */
static int read_in_root(const char *rootfs, const char *path, char **ret)
{
        _cleanup_close_ int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, rfd, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        size_t cap = 4096, len = 0;
        char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > (8u << 20))
                                break;
                        buf = xrealloc(buf, cap *= 2);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret = buf;
        return 0;
}

/* The fields of one line of an /etc/passwd or /etc/group text, split at
 * ':' with empty fields kept (a passwd line often has an empty GECOS). */
static char **split_fields(const char *line)
{
        size_t n = 1;
        for (const char *p = line; *p; p++)
                n += *p == ':';
        char **f = xzalloc((n + 1) * sizeof(char *));
        size_t k = 0;
        for (const char *p = line;; p++)
                if (*p == ':' || *p == '\0') {
                        f[k++] = xstrndup(line, (size_t)(p - line));
                        if (!*p)
                                break;
                        line = p + 1;
                }
        return f;
}

static bool numeric(const char *s)
{
        return *s && strspn(s, "0123456789") == strlen(s);
}

/* The first line of an /etc/passwd or /etc/group text that names `want`:
 * a number matches the id (field 2), anything else the name (field 0), as
 * runc's user lookup does. NULL: none. */
static char **find_entry(const char *text, const char *want)
{
        if (!text)
                return NULL;
        _cleanup_strv_ char **lines = strv_split(text, "\n");
        size_t key = numeric(want) ? 2 : 0;
        for (char **l = lines; *l; l++) {
                char **f = split_fields(*l);
                if (strv_length(f) >= 3 && !startswith(f[0], "#")) {
                        if (key == 0 ? streq(f[0], want)
                                     : numeric(f[2]) &&
                                           strtoul(f[2], NULL, 10) == strtoul(want, NULL, 10))
                                return f;
                }
                strv_free(f);
        }
        return NULL;
}

int container_resolve_user(const char *rootfs, const char *user, json_t *group_add, json_t **ret,
                           struct berth_err *err)
{
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        read_in_root(rootfs, "/etc/passwd", &passwd);
        read_in_root(rootfs, "/etc/group", &group);
        _cleanup_free_ char *u = xstrdup(isempty(user) ? "0" : user);
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        if (isempty(u))
                u[0] = '0', u[1] = '\0';
        uint32_t uid = 0, gid = 0;
        _cleanup_strv_ char **pw = find_entry(passwd, u);
        if (pw && strv_length(pw) >= 4) {
                uid = (uint32_t)strtoul(pw[2], NULL, 10);
                gid = (uint32_t)strtoul(pw[3], NULL, 10);
        } else if (numeric(u))
                uid = (uint32_t)strtoul(u, NULL, 10);
        else
                return err_set(err, -EINVAL,
                               "unable to find user %s: no matching entries in passwd file", u);
        bool explicit_group = g && *g;
        if (explicit_group) {
                _cleanup_strv_ char **gr = find_entry(group, g);
                if (gr)
                        gid = (uint32_t)strtoul(gr[2], NULL, 10);
                else if (numeric(g))
                        gid = (uint32_t)strtoul(g, NULL, 10);
                else
                        return err_set(err, -EINVAL,
                                       "unable to find group %s: no matching entries in group file",
                                       g);
        }
        /* Docker's order: the primary group, the groups /etc/group lists
         * the user's name in (only when no group was named), then
         * --group-add. */
        json_t *gids = json_array();
        json_array_append_new(gids, json_integer(gid));
        if (pw && !explicit_group && group) {
                _cleanup_strv_ char **lines = strv_split(group, "\n");
                for (char **l = lines; *l; l++) {
                        _cleanup_strv_ char **f = split_fields(*l);
                        if (strv_length(f) < 4 || !numeric(f[2]))
                                continue;
                        _cleanup_strv_ char **members = strv_split(f[3], ",");
                        if (strv_contains(members, pw[0]))
                                json_array_append_new(
                                    gids, json_integer((json_int_t)strtoul(f[2], NULL, 10)));
                }
        }
        size_t i;
        json_t *v;
        json_array_foreach (group_add, i, v) {
                const char *s = json_string_value(v);
                if (!s)
                        continue;
                _cleanup_strv_ char **gr = find_entry(group, s);
                if (gr)
                        json_array_append_new(gids,
                                              json_integer((json_int_t)strtoul(gr[2], NULL, 10)));
                else if (numeric(s))
                        json_array_append_new(gids, json_integer((json_int_t)strtoul(s, NULL, 10)));
                else {
                        json_decref(gids);
                        return err_set(err, -EINVAL, "unable to find group %s", s);
                }
        }
        *ret = json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)uid, "gid", (json_int_t)gid,
                         "additionalGids", gids);
        return 0;
}

char *container_user_home(const char *rootfs, uint32_t uid)
{
        _cleanup_free_ char *passwd = NULL;
        read_in_root(rootfs, "/etc/passwd", &passwd);
        char n[16];
        snprintf(n, sizeof(n), "%u", uid);
        _cleanup_strv_ char **pw = find_entry(passwd, n);
        if (pw && strv_length(pw) >= 6 && *pw[5])
                return xstrdup(pw[5]);
        return xstrdup(uid == 0 ? "/root" : "/");
}

static const struct {
        const char *name;
        const char *oci;
} rlimit_names[] = {
    {"core", "RLIMIT_CORE"},         {"cpu", "RLIMIT_CPU"},
    {"data", "RLIMIT_DATA"},         {"fsize", "RLIMIT_FSIZE"},
    {"locks", "RLIMIT_LOCKS"},       {"memlock", "RLIMIT_MEMLOCK"},
    {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
    {"nofile", "RLIMIT_NOFILE"},     {"nproc", "RLIMIT_NPROC"},
    {"rss", "RLIMIT_RSS"},           {"rtprio", "RLIMIT_RTPRIO"},
    {"rttime", "RLIMIT_RTTIME"},     {"sigpending", "RLIMIT_SIGPENDING"},
    {"stack", "RLIMIT_STACK"},       {"as", "RLIMIT_AS"},
};

/* HostConfig's resource fields -> linux.resources without its devices. */
json_t *container_spec_resources(json_t *hc)
{
        json_t *res = json_object();
        json_t *memory = json_object();
        if (json_get_int(hc, "Memory", 0) > 0)
                json_object_set_new(memory, "limit", json_integer(json_get_int(hc, "Memory", 0)));
        if (json_get_int(hc, "MemorySwap", 0) != 0)
                json_object_set_new(memory, "swap",
                                    json_integer(json_get_int(hc, "MemorySwap", 0)));
        if (json_get_int(hc, "MemoryReservation", 0) > 0)
                json_object_set_new(memory, "reservation",
                                    json_integer(json_get_int(hc, "MemoryReservation", 0)));
        if (json_get_bool(hc, "OomKillDisable", false))
                json_object_set_new(memory, "disableOOMKiller", json_true());
        json_object_set_new(res, "memory", memory);
        json_t *cpu = json_object();
        if (json_get_int(hc, "CpuShares", 0) > 0)
                json_object_set_new(cpu, "shares", json_integer(json_get_int(hc, "CpuShares", 0)));
        int64_t nano = json_get_int(hc, "NanoCpus", 0);
        if (nano > 0) {
                json_object_set_new(cpu, "period", json_integer(100000));
                json_object_set_new(cpu, "quota", json_integer(nano / 10000));
        } else {
                if (json_get_int(hc, "CpuQuota", 0) > 0)
                        json_object_set_new(cpu, "quota",
                                            json_integer(json_get_int(hc, "CpuQuota", 0)));
                if (json_get_int(hc, "CpuPeriod", 0) > 0)
                        json_object_set_new(cpu, "period",
                                            json_integer(json_get_int(hc, "CpuPeriod", 0)));
        }
        if (!isempty(json_get_str(hc, "CpusetCpus", NULL)))
                json_object_set_new(cpu, "cpus", json_string(json_get_str(hc, "CpusetCpus", "")));
        if (!isempty(json_get_str(hc, "CpusetMems", NULL)))
                json_object_set_new(cpu, "mems", json_string(json_get_str(hc, "CpusetMems", "")));
        json_object_set_new(res, "cpu", cpu);
        int64_t pids = json_get_int(hc, "PidsLimit", 0);
        if (pids > 0)
                json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t)pids));
        if (json_get_int(hc, "BlkioWeight", 0) > 0)
                json_object_set_new(
                    res, "blockIO",
                    json_pack("{s:I}", "weight", json_get_int(hc, "BlkioWeight", 0)));
        return res;
}

/* Deny all (allow all when privileged), then HostConfig.DeviceCgroupRules
 * ("c 1:3 mr", '*' for any number), which create has checked. */
static json_t *device_rules(json_t *hc, bool privileged)
{
        json_t *devs = json_pack("[{s:b, s:s}]", "allow", privileged, "access", "rwm");
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "DeviceCgroupRules"), i, v) {
                char type, maj[24], min[24], access[8];
                const char *s = json_string_value(v);
                if (!s || sscanf(s, "%c %23[0-9*]:%23[0-9*] %7[rwm]", &type, maj, min, access) != 4)
                        continue;
                json_t *d = json_pack("{s:b, s:s#, s:s}", "allow", true, "type", &type, (int)1,
                                      "access", access);
                if (!streq(maj, "*"))
                        json_object_set_new(d, "major", json_integer(strtoll(maj, NULL, 10)));
                if (!streq(min, "*"))
                        json_object_set_new(d, "minor", json_integer(strtoll(min, NULL, 10)));
                json_array_append_new(devs, d);
        }
        return devs;
}

static json_t *mount(const char *dst, const char *type, const char *src, const char *opts)
{
        json_t *o = json_array();
        _cleanup_strv_ char **l = strv_split(opts, ",");
        for (char **i = l; *i; i++)
                json_array_append_new(o, json_string(*i));
        return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
                         "options", o);
}

int container_spec(json_t *rec, const char *rootfs, const char *cdir, const char *cgroup_parent,
                   json_t **ret, struct berth_err *err)
{
        json_t *cfg = json_object_get(rec, "Config");
        json_t *hc = json_object_get(rec, "HostConfig");
        const char *id = json_get_str(rec, "Id", "");
        bool privileged = json_get_bool(hc, "Privileged", false);
        bool tty = json_get_bool(cfg, "Tty", false);
        int r;

        /* process */
        json_t *args = json_array();
        json_array_extend(args, json_object_get(cfg, "Entrypoint"));
        json_array_extend(args, json_object_get(cfg, "Cmd"));
        json_t *env = json_array();
        bool has_path = false, has_home = false;
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(cfg, "Env"), i, v) {
                const char *s = json_string_value(v);
                has_path |= startswith(s, "PATH=") != NULL;
                has_home |= startswith(s, "HOME=") != NULL;
        }
        if (!has_path)
                json_array_append_new(
                    env, json_string(
                             "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        json_array_append_new(env, json_sprintf("HOSTNAME=%s", json_get_str(cfg, "Hostname", "")));
        if (tty)
                json_array_append_new(env, json_string("TERM=xterm"));
        json_array_extend(env, json_object_get(cfg, "Env"));

        json_t *user = NULL;
        r = container_resolve_user(rootfs, json_get_str(cfg, "User", ""),
                                   json_object_get(hc, "GroupAdd"), &user, err);
        if (r < 0) {
                json_decref(args);
                json_decref(env);
                return r;
        }
        if (!has_home) {
                _cleanup_free_ char *home =
                    container_user_home(rootfs, (uint32_t)json_get_int(user, "uid", 0));
                json_array_append_new(env, json_sprintf("HOME=%s", home));
        }
        json_t *caps = NULL;
        r = capabilities(hc, &caps, err);
        if (r < 0) {
                json_decref(args);
                json_decref(env);
                json_decref(user);
                return r;
        }
        const char *wd = json_get_str(cfg, "WorkingDir", "");
        json_t *process =
            json_pack("{s:b, s:o, s:o, s:o, s:s, s:o}", "terminal", tty, "user", user, "args", args,
                      "env", env, "cwd", *wd ? wd : "/", "capabilities", caps);
        json_t *rl = json_array();
        json_array_foreach (json_object_get(hc, "Ulimits"), i, v) {
                const char *n = json_get_str(v, "Name", "");
                const char *oci = NULL;
                for (size_t k = 0; k < ELEMENTSOF(rlimit_names); k++)
                        if (streq(rlimit_names[k].name, n))
                                oci = rlimit_names[k].oci;
                if (!oci) {
                        json_decref(rl);
                        json_decref(process);
                        return err_set(err, -EINVAL, "invalid ulimit type: %s", n);
                }
                json_array_append_new(rl, json_pack("{s:s, s:I, s:I}", "type", oci, "soft",
                                                    json_get_int(v, "Soft", 0), "hard",
                                                    json_get_int(v, "Hard", 0)));
        }
        json_object_set_new(process, "rlimits", rl);
        bool nnp = false, unconfined = privileged;
        json_array_foreach (json_object_get(hc, "SecurityOpt"), i, v) {
                const char *s = json_string_value(v);
                if (!s)
                        continue;
                if (streq(s, "no-new-privileges") || streq(s, "no-new-privileges:true") ||
                    streq(s, "no-new-privileges=true"))
                        nnp = true;
                else if (streq(s, "seccomp=unconfined") || streq(s, "seccomp:unconfined"))
                        unconfined = true;
                else if (startswith(s, "label") || startswith(s, "apparmor"))
                        ; /* no LSM on this host: accepted and ignored, as Docker does without one */
                else {
                        json_decref(process);
                        return err_set(err, -EINVAL, "invalid --security-opt: \"%s\"", s);
                }
        }
        json_object_set_new(process, "noNewPrivileges", json_boolean(nnp));
        if (json_object_get(hc, "OomScoreAdj"))
                json_object_set(process, "oomScoreAdj", json_object_get(hc, "OomScoreAdj"));

        /* mounts */
        int64_t shm = json_get_int(hc, "ShmSize", 0);
        _cleanup_free_ char *shm_opts = xasprintf("nosuid,noexec,nodev,mode=1777,size=%lld",
                                                  (long long)(shm > 0 ? shm : 64 * 1024 * 1024));
        json_t *mounts = json_array();
        json_array_append_new(mounts, mount("/proc", "proc", "proc", "nosuid,noexec,nodev"));
        json_array_append_new(
            mounts, mount("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
        json_array_append_new(mounts,
                              mount("/dev/pts", "devpts", "devpts",
                                    "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
        json_array_append_new(
            mounts, mount("/sys", "sysfs", "sysfs",
                          privileged ? "nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro"));
        json_array_append_new(mounts, mount("/sys/fs/cgroup", "cgroup", "cgroup",
                                            privileged ? "nosuid,noexec,nodev,relatime,rw"
                                                       : "nosuid,noexec,nodev,relatime,ro"));
        json_array_append_new(mounts,
                              mount("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
        json_array_append_new(mounts, mount("/dev/shm", "tmpfs", "shm", shm_opts));
        static const char *const etc[] = {"resolv.conf", "hostname", "hosts"};
        for (size_t k = 0; k < ELEMENTSOF(etc); k++) {
                _cleanup_free_ char *src = xasprintf("%s/%s", cdir, etc[k]);
                _cleanup_free_ char *dst = xasprintf("/etc/%s", etc[k]);
                json_array_append_new(mounts, mount(dst, "bind", src, "rbind,rprivate"));
        }
        const char *key;
        json_object_foreach (json_object_get(hc, "Tmpfs"), key, v) {
                const char *o = json_string_value(v);
                _cleanup_free_ char *opts =
                    xasprintf("nosuid,nodev,noexec%s%s", o && *o ? "," : "", strempty(o));
                json_array_append_new(mounts, mount(key, "tmpfs", "tmpfs", opts));
        }

        /* linux */
        json_t *ns = json_pack("[{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "ipc", "type",
                               "uts", "type", "mount");
        const char *netmode = json_get_str(hc, "NetworkMode", "default");
        /* the namespace berthd made and configured (network-endpoint.c) */
        const char *sandbox =
            json_get_str(json_object_get(rec, "NetworkSettings"), "SandboxKey", "");
        if (*sandbox)
                json_array_append_new(ns,
                                      json_pack("{s:s, s:s}", "type", "network", "path", sandbox));
        else if (!streq(netmode, "host"))
                json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
        if (streq(json_get_str(hc, "PidMode", ""), "host"))
                json_array_remove(ns, 0);

        json_t *res = container_spec_resources(hc);
        json_object_set_new(res, "devices", device_rules(hc, privileged));

        json_t *sysctl = json_object();
        json_object_foreach (json_object_get(hc, "Sysctls"), key, v)
                json_object_set(sysctl, key, v);

        _cleanup_free_ char *cgpath =
            xasprintf("%s/%s", cgroup_parent ? cgroup_parent : "/berth", id);
        json_t *lnx = json_pack("{s:o, s:s, s:o, s:o}", "namespaces", ns, "cgroupsPath", cgpath,
                                "resources", res, "sysctl", sysctl);
        if (!privileged) {
                json_t *mp = json_array(), *rp = json_array();
                for (size_t k = 0; k < ELEMENTSOF(masked_paths); k++)
                        json_array_append_new(mp, json_string(masked_paths[k]));
                for (size_t k = 0; k < ELEMENTSOF(readonly_paths); k++)
                        json_array_append_new(rp, json_string(readonly_paths[k]));
                json_object_set_new(lnx, "maskedPaths", mp);
                json_object_set_new(lnx, "readonlyPaths", rp);
        }
        if (!unconfined)
                json_object_set_new(lnx, "seccomp",
                                    seccomp_profile_for_caps(json_object_get(
                                        json_object_get(process, "capabilities"), "bounding")));

        *ret = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0",
                         "process", process, "root", "path", rootfs, "readonly",
                         json_get_bool(hc, "ReadonlyRootfs", false), "hostname",
                         json_get_str(cfg, "Hostname", ""), "mounts", mounts, "linux", lnx);
        return 0;
}

/* /etc/hostname, /etc/hosts, /etc/resolv.conf in the container's directory,
 * bind-mounted by the spec above. */
int container_write_etc(json_t *rec, const char *cdir, struct berth_err *err)
{
        json_t *cfg = json_object_get(rec, "Config");
        json_t *hc = json_object_get(rec, "HostConfig");
        const char *hostname = json_get_str(cfg, "Hostname", "");
        _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
        _cleanup_free_ char *p = xasprintf("%s/hostname", cdir);
        int r = write_file_replace(p, hn, strlen(hn), 0644);
        if (r < 0)
                return err_errno(err, r, "write '%s'", p);

        char *hosts =
            xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                      "ff02::2\tip6-allrouters\n");
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "ExtraHosts"), i, v) {
                const char *s = json_string_value(v);
                const char *c = s ? strrchr(s, ':') : NULL;
                if (!c)
                        continue;
                char *n = xasprintf("%s%s\t%.*s\n", hosts, c + 1, (int)(c - s), s);
                free(hosts);
                hosts = n;
        }
        free(p);
        p = xasprintf("%s/hosts", cdir);
        r = write_file_replace(p, hosts, strlen(hosts), 0644);
        free(hosts);
        if (r < 0)
                return err_errno(err, r, "write '%s'", p);

        /* resolv.conf: --dns if given, else the host's, without loopback
         * resolvers a container cannot reach. */
        char *rc = xstrdup("");
        if (json_array_size(json_object_get(hc, "Dns"))) {
                json_array_foreach (json_object_get(hc, "Dns"), i, v) {
                        char *n = xasprintf("%snameserver %s\n", rc, json_string_value(v));
                        free(rc);
                        rc = n;
                }
        } else {
                _cleanup_free_ char *host = NULL;
                if (read_full_file("/etc/resolv.conf", &host, NULL) == 0) {
                        _cleanup_strv_ char **lines = strv_split(host, "\n");
                        for (char **l = lines; *l; l++) {
                                if (startswith(*l, "nameserver") &&
                                    (strstr(*l, " 127.") || strstr(*l, " ::1")))
                                        continue;
                                char *n = xasprintf("%s%s\n", rc, *l);
                                free(rc);
                                rc = n;
                        }
                }
        }
        json_array_foreach (json_object_get(hc, "DnsSearch"), i, v) {
                char *n = xasprintf("%ssearch %s\n", rc, json_string_value(v));
                free(rc);
                rc = n;
        }
        json_array_foreach (json_object_get(hc, "DnsOptions"), i, v) {
                char *n = xasprintf("%soptions %s\n", rc, json_string_value(v));
                free(rc);
                rc = n;
        }
        free(p);
        p = xasprintf("%s/resolv.conf", cdir);
        r = write_file_replace(p, rc, strlen(rc), 0644);
        free(rc);
        if (r < 0)
                return err_errno(err, r, "write '%s'", p);
        return 0;
}
