/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `features`: what this runtime understands, in the shape of the OCI
 * runtime-spec features document, so engines can ask instead of probing. */

#include <sys/capability.h>

#include "runtime-internal.h"

json_t *runtime_features(void)
{
        static const char *mount_opts[] = {
            "ro",         "rw",          "nosuid",      "suid",          "nodev",      "dev",
            "noexec",     "exec",        "sync",        "async",         "dirsync",    "remount",
            "mand",       "nomand",      "noatime",     "atime",         "nodiratime", "diratime",
            "relatime",   "norelatime",  "strictatime", "nostrictatime", "bind",       "rbind",
            "private",    "rprivate",    "shared",      "rshared",       "slave",      "rslave",
            "unbindable", "runbindable", "tmpcopyup"};
        static const char *actions[] = {
            "SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",   "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"};
        static const char *ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                    "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                                    "SCMP_CMP_NE"};
        static const char *archs[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                      "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
        json_t *mo = json_array(), *ns = json_array(), *caps = json_array(), *a = json_array(),
               *o = json_array(), *ar = json_array(), *hooks = json_array();
        for (size_t i = 0; i < ELEMENTSOF(mount_opts); i++)
                json_array_append_new(mo, json_string(mount_opts[i]));
        for (int i = 0; i < RT_NS_MAX; i++)
                json_array_append_new(ns, json_string(rt_ns_name(i)));
        for (int c = 0; c <= rt_cap_last(); c++) {
                char *n = cap_to_name(c);
                if (!n)
                        continue;
                for (char *p = n; *p; p++)
                        if (*p >= 'a' && *p <= 'z')
                                *p = (char)(*p - 32);
                json_array_append_new(caps, json_string(n));
                cap_free(n);
        }
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                json_array_append_new(a, json_string(actions[i]));
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                json_array_append_new(o, json_string(ops[i]));
        for (size_t i = 0; i < ELEMENTSOF(archs); i++)
                json_array_append_new(ar, json_string(archs[i]));
        const char *hk[] = {"prestart",       "createRuntime", "createContainer",
                            "startContainer", "poststart",     "poststop"};
        for (size_t i = 0; i < ELEMENTSOF(hk); i++)
                json_array_append_new(hooks, json_string(hk[i]));
        return json_pack(
            "{s:s,s:s,s:o,s:o,s:{s:o,s:o,s:{s:b,s:b,s:b,s:b},s:{s:b,s:o,s:o,s:o,s:[s,s]},"
            "s:{s:b}}}",
            "ociVersionMin", "1.0.0", "ociVersionMax", RUNTIME_OCI_VERSION, "hooks", hooks,
            "mountOptions", mo, "linux", "namespaces", ns, "capabilities", caps, "cgroup", "v1", 1,
            "v2", 1, "systemd", 0, "systemdUser", 0, "seccomp", "enabled", 1, "actions", a,
            "operators", o, "archs", ar, "supportedFlags", "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG", "apparmor", "enabled", 0);
}
