/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_SYSINFO_H
#define BERTH_BASE_SYSINFO_H

/* Facts about the host that `info` and `version` report. */

#include "util.h"

struct sysinfo_host {
        char kernel[128];   /* uname -r */
        char machine[32];   /* uname -m: x86_64 */
        const char *goarch; /* Docker's name: amd64 */
        char os_name[128];  /* PRETTY_NAME of os-release */
        char os_version[64];
        char hostname[128];
        long ncpu;
        int64_t mem_total;
        int cgroup_version; /* 1 (v1 or hybrid) or 2 (unified) */
        bool cgroup_hybrid; /* v1 controllers with a cgroup2 mount beside them */
};

void sysinfo_read(struct sysinfo_host *h);

#endif
