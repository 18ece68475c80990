/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_CONTAINER_SPEC_H
#define BERTH_CONTAINER_CONTAINER_SPEC_H

#include <jansson.h>
#include <stdint.h>
#include "base/err.h"

/* The OCI runtime spec for a container record (Docker's inspect shape),
 * whose root filesystem is mounted at rootfs and whose generated files
 * (hostname, hosts, resolv.conf) live in cdir. cgroup_parent: NULL for
 * "/berth". */
int container_spec(json_t *rec, const char *rootfs, const char *cdir, const char *cgroup_parent,
                   json_t **ret, struct berth_err *err);

/* linux.resources (without devices) for HostConfig's resource fields:
 * what start puts in the spec and update applies to a running container. */
json_t *container_spec_resources(json_t *hc);

/* Write cdir/hostname, cdir/hosts and cdir/resolv.conf. */
int container_write_etc(json_t *rec, const char *cdir, struct berth_err *err);

/* berth's seccomp profile (linux.seccomp JSON) for a container whose
 * capability set is caps (an array of "CAP_..." names), with Docker's
 * rules: the syscalls a capability needs are open when it is granted
 * (CAP_SYS_ADMIN: mount, unshare, setns, clone with namespace flags...),
 * ptrace from kernel 4.8 on. */
json_t *seccomp_profile_for_caps(json_t *caps);
/* The profile for Docker's default capability set. */
json_t *seccomp_default_profile(void);

/* USER[:GROUP] (names or ids) -> {"uid","gid","additionalGids"}, reading the
 * image's /etc/passwd and /etc/group inside rootfs without following links
 * out of it. additionalGids are Docker's: the primary gid, the groups that
 * list the user's name (unless a group was given), then group_add (names or
 * numbers). */
int container_resolve_user(const char *rootfs, const char *user, json_t *group_add, json_t **ret,
                           struct berth_err *err);

/* HOME for uid, as runc sets it when the environment has none: the home
 * directory of uid's entry in the image's /etc/passwd, else "/root" for
 * root and "/" for anyone else. */
char *container_user_home(const char *rootfs, uint32_t uid);

#endif
