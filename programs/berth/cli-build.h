/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PROGRAMS_BERTH_CLI_BUILD_H
#define BERTH_PROGRAMS_BERTH_CLI_BUILD_H

/* berth build: the parts that are pure functions of the flags and of the
 * input (cli-build-query.c), apart from the command (cli-build.c), so that
 * unit tests reach them. */

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* The flags of berth build that go into POST /build's query. */
struct cli_build_query {
        char **tags, **build_args, **labels, **cache_from, **extra_hosts, **ulimits,
            **security_opts; /* NULL-terminated or NULL */
        const char *dockerfile, *target, *network, *platform, *isolation, *cgroup_parent,
            *cpuset_cpus, *cpuset_mems, *remote;
        const char *memory, *memory_swap, *shm_size; /* as given ("64m"), or NULL */
        int64_t cpu_shares, cpu_period, cpu_quota;
        bool quiet, no_cache, pull, rm, force_rm, squash;
};

/* "?..." as the docker CLI 20.10 writes it: every key it always sends,
 * sorted as Go's url.Values.Encode sorts them, values escaped as Go's
 * url.QueryEscape does. --build-arg K without '=' takes $K, or null when K
 * is not set. -EINVAL with a docker-style message for a bad size or
 * ulimit. */
int cli_build_query_string(const struct cli_build_query *q, char **ret, struct berth_err *err);

/* A -t value: 0, or -EINVAL with the docker CLI's message ("invalid
 * reference format: repository name must be lowercase", "invalid reference
 * format"). */
int cli_build_check_tag(const char *tag, struct berth_err *err);

/* Go's units.HumanSize: decimal units, 4 significant digits ("3.072kB"). */
void cli_build_human_size(int64_t n, char *buf, size_t len);

/* Whether the first bytes of a stdin context are an archive the daemon
 * reads (a tar, or gzip, bzip2, xz, zstd data) rather than a bare
 * Dockerfile. */
bool cli_build_is_archive(const unsigned char *p, size_t n);

/* Docker's git URL test (git://, git@, github.com/, http(s)://...*.git
 * with an optional #fragment). */
bool cli_build_is_git_url(const char *s);
/* A git URL split into what git clone gets (github.com/ gains https://),
 * the ref of "#ref" (NULL: none) and the subdir of "#ref:dir" (NULL:
 * none). */
void cli_build_git_split(const char *s, char **ret_url, char **ret_ref, char **ret_subdir);

#endif
