/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-sysprobe NAME: make one harmless call of a syscall that seccomp
 * checks before the kernel checks a capability, and print the errno name
 * it failed with ("EPERM": refused; "EINVAL": it reached the kernel's
 * argument checks). Static, so it runs in a busybox rootfs. Never changes
 * anything: every call carries an argument the kernel refuses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
        switch (e) {
        case 0:
                return "OK";
        case EPERM:
                return "EPERM";
        case EINVAL:
                return "EINVAL";
        case EFAULT:
                return "EFAULT";
        case ENOSYS:
                return "ENOSYS";
        default:
                return strerror(e);
        }
}

int main(int argc, char **argv)
{
        long r;
        if (argc != 2) {
                fprintf(stderr, "usage: berth-sysprobe clock_settime|reboot\n");
                return 2;
        }
        if (strcmp(argv[1], "clock_settime") == 0) {
                struct timespec ts = {0, 0};
                /* no such clock: EINVAL, checked before CAP_SYS_TIME */
                r = syscall(SYS_clock_settime, (clockid_t)0x7fff, &ts);
        } else if (strcmp(argv[1], "reboot") == 0) {
                /* bad magic numbers: EINVAL once CAP_SYS_BOOT passed */
                r = syscall(SYS_reboot, 0, 0, 0, NULL);
        } else {
                fprintf(stderr, "berth-sysprobe: unknown probe %s\n", argv[1]);
                return 2;
        }
        puts(errname(r < 0 ? errno : 0));
        return 0;
}
