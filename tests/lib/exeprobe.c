/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
/* berth-exeprobe SECONDS [OWN...]: inside a container, watch /proc for processes of
 * the runtime (comm "berth-*": the child that enters the container for an
 * exec, before it execs the command) and try what CVE-2019-5736 starts with:
 * open their /proc/PID/exe for reading and for writing, and keep an O_PATH
 * handle to reopen for writing once they have exec'd. Nothing is ever
 * written. An exe that is one of the OWN files (the command the exec
 * runs) is the process after its exec, not the runtime, and is not counted.
 * Prints one line of counts:
 *   seen=N link=N read=N write=N reopen=N errors=E1,E2
 * (link: the exe link could be read; read/write: opens that succeeded;
 * reopen: write opens through a kept O_PATH handle that succeeded). Static,
 * so it runs in a busybox rootfs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEPT 64

static int kept[MAX_KEPT], n_kept;
static char errs[256];

static void note_errno(int e)
{
        char name[32];
        snprintf(name, sizeof(name), "%s",
                 e == EACCES    ? "EACCES"
                 : e == EPERM   ? "EPERM"
                 : e == ETXTBSY ? "ETXTBSY"
                 : e == ENOENT  ? "ENOENT"
                 : e == ESRCH   ? "ESRCH"
                                : "other");
        if (!strstr(errs, name) && strlen(errs) + strlen(name) + 2 < sizeof(errs)) {
                if (*errs)
                        strcat(errs, ",");
                strcat(errs, name);
        }
}

static struct stat own[16];
static int n_own;

static bool is_own(const struct stat *st)
{
        for (int i = 0; i < n_own; i++)
                if (own[i].st_dev == st->st_dev && own[i].st_ino == st->st_ino)
                        return true;
        return false;
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        double end = now() + (argc > 1 ? atof(argv[1]) : 10);
        int self = getpid(), seen = 0, link = 0, rd = 0, wr = 0, reopen = 0;
        int last_seen = 0;
        for (int i = 2; i < argc && n_own < 16; i++)
                if (stat(argv[i], &own[n_own]) == 0)
                        n_own++;
        while (now() < end) {
                DIR *d = opendir("/proc");
                if (!d)
                        return 1;
                struct dirent *e;
                while ((e = readdir(d))) {
                        int pid = atoi(e->d_name);
                        if (pid <= 1 || pid == self || pid == last_seen)
                                continue;
                        char path[64], comm[32] = "";
                        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
                        int fd = open(path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        ssize_t n = read(fd, comm, sizeof(comm) - 1);
                        close(fd);
                        if (n <= 0 || strncmp(comm, "berth", 5) != 0)
                                continue;
                        last_seen = pid;
                        seen++;
                        snprintf(path, sizeof(path), "/proc/%d/exe", pid);
                        char target[256];
                        struct stat st;
                        ssize_t l = readlink(path, target, sizeof(target) - 1);
                        if (l > 0) {
                                target[l] = '\0';
                                if (stat(target, &st) < 0 || !is_own(&st))
                                        link++;
                        }
                        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
                                if (fstat(fd, &st) < 0 || !is_own(&st))
                                        rd++;
                                close(fd);
                        } else
                                note_errno(errno);
                        if ((fd = open(path, O_WRONLY | O_CLOEXEC)) >= 0) {
                                if (fstat(fd, &st) < 0 || !is_own(&st))
                                        wr++;
                                close(fd);
                        } else
                                note_errno(errno);
                        if (n_kept < MAX_KEPT && (fd = open(path, O_PATH | O_CLOEXEC)) >= 0)
                                kept[n_kept++] = fd;
                        else if (fd < 0)
                                note_errno(errno);
                }
                closedir(d);
        }
        /* By now those processes have exec'd (or ended): the handles name
         * the file they ran from; the runtime's binary must not open for
         * writing through them. */
        for (int i = 0; i < n_kept; i++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", kept[i]);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                struct stat st;
                if (fd >= 0) {
                        if (fstat(fd, &st) < 0 || !is_own(&st))
                                reopen++;
                        close(fd);
                } else
                        note_errno(errno);
        }
        printf("seen=%d link=%d read=%d write=%d reopen=%d errors=%s\n", seen, link, rd, wr, reopen,
               *errs ? errs : "none");
        return 0;
}
