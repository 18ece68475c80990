/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-init: the init of `run --init`. berthd bind-mounts this static
 * program into the container at /sbin/docker-init (where Docker puts its
 * own) and prepends it to the command, so it is pid 1: it runs the command
 * as its child, passes every signal it can catch on to it, reaps whatever
 * zombies the pid namespace hands it, and exits with the child's status
 * (128+N for a signal), as docker-init (tini) does.
 *
 * Linked statically and without the engine library: it runs inside images
 * that may have no libc at all. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/init-loop.h"

int main(int argc, char **argv)
{
        int first = 1;
        if (first < argc && strcmp(argv[first], "--") == 0)
                first++;
        if (first >= argc) {
                fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
                return 2;
        }
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        pid_t child = fork();
        if (child < 0) {
                fprintf(stderr, "berth-init: fork: %s\n", strerror(errno));
                return 1;
        }
        if (child == 0) {
                /* the command starts as a container's first process would,
                 * whatever berth-init inherited */
                exec_reset_signals();
                /* its own process group, the terminal's foreground one if
                 * there is a terminal, so ctrl-c reaches it */
                setpgid(0, 0);
                if (isatty(STDIN_FILENO)) {
                        sigset_t ttou, old;
                        sigemptyset(&ttou);
                        sigaddset(&ttou, SIGTTOU);
                        sigprocmask(SIG_BLOCK, &ttou, &old);
                        tcsetpgrp(STDIN_FILENO, getpgrp());
                        sigprocmask(SIG_SETMASK, &old, NULL);
                }
                execvp(argv[first], argv + first);
                int e = errno;
                fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(e));
                _exit(e == ENOENT ? 127 : 126);
        }
        init_wait_loop(child, &all);
}
