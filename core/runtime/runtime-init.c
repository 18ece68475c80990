/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal pid 1 (docker run --init): the container's process runs as its
 * child; this loop forwards every catchable signal to it, reaps every zombie
 * the pid namespace hands us, and exits with the child's status. It is the
 * already-set-up runtime child itself, so there is no extra execve(). */

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "init-loop.h"
#include "runtime-internal.h"

int rt_init_run(const struct runtime_process *p, const char *path, int sync_fd,
                struct berth_err *err)
{
        extern char **environ;
        sigset_t all;
        pid_t child;

        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        child = fork();
        if (child < 0)
                return err_errno(err, -errno, "init: fork");
        if (child == 0) {
                exec_reset_signals();
                environ = p->env;
                execv(path, p->args);
                /* The parent still listens on sync_fd until this exec. */
                err_errno(err, -errno, "exec '%s'", path);
                return err->code;
        }
        safe_close(sync_fd);
        prctl(PR_SET_NAME, "berth-init", 0, 0, 0);
        /* We stay in the container running the runtime's code: its
         * processes must not reach our exe (the runtime's binary), memory
         * or fds through /proc/1. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        init_wait_loop(child, &all);
}
