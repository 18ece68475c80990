/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysinfo.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

static const char *go_arch(const char *m)
{
        static const struct {
                const char *uname, *go;
        } map[] = {{"x86_64", "amd64"}, {"aarch64", "arm64"},  {"i686", "386"},
                   {"i386", "386"},     {"armv7l", "arm"},     {"ppc64le", "ppc64le"},
                   {"s390x", "s390x"},  {"riscv64", "riscv64"}};
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].uname, m))
                        return map[i].go;
        return m;
}

static void os_release(struct sysinfo_host *h)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/os-release", "re");
        char line[512];
        snprintf(h->os_name, sizeof(h->os_name), "Linux");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char *v, *dst = NULL;
                size_t cap = 0;
                line[strcspn(line, "\n")] = '\0';
                if ((v = (char *)startswith(line, "PRETTY_NAME="))) {
                        dst = h->os_name;
                        cap = sizeof(h->os_name);
                } else if ((v = (char *)startswith(line, "VERSION_ID="))) {
                        dst = h->os_version;
                        cap = sizeof(h->os_version);
                } else
                        continue;
                if (*v == '"') {
                        v++;
                        v[strcspn(v, "\"")] = '\0';
                }
                snprintf(dst, cap, "%s", v);
        }
}

void sysinfo_read(struct sysinfo_host *h)
{
        struct utsname u;
        struct sysinfo si;
        struct statfs sf;

        *h = (struct sysinfo_host){0};
        if (uname(&u) == 0) {
                snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
                snprintf(h->machine, sizeof(h->machine), "%s", u.machine);
                snprintf(h->hostname, sizeof(h->hostname), "%s", u.nodename);
        }
        h->goarch = go_arch(h->machine);
        os_release(h);
        h->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (sysinfo(&si) == 0)
                h->mem_total = (int64_t)si.totalram * si.mem_unit;
        h->cgroup_version = 1;
        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                h->cgroup_version = 2;
        else if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                h->cgroup_hybrid = true;
}
