/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_RUNTIME_INIT_LOOP_H
#define BERTH_RUNTIME_INIT_LOOP_H
/* The loop of a pid 1 whose command runs as `child` (berth-init, and the
 * runtime's built-in init): every signal in `all` (blocked by the caller) is
 * passed on to the child, every zombie the pid namespace hands us is reaped,
 * and we exit with the child's status, 128+N for a signal (pid 1 cannot be
 * killed by its own signal, so it reports the death as a shell does). Header
 * only: berth-init is linked statically without the engine library. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static inline __attribute__((noreturn)) void init_wait_loop(pid_t child, const sigset_t *all)
{
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        /* SIGSTOP and SIGKILL never get here: the kernel
                         * does not deliver them to a pid 1 from inside */
                        kill(child, sig);
                        continue;
                }
                for (;;) {
                        int st;
                        pid_t w = waitpid(-1, &st, WNOHANG);
                        if (w <= 0)
                                break;
                        if (w != child)
                                continue; /* an orphan, reaped */
                        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                }
        }
}

#endif
