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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Right before execve() of a container's process: every signal at its
 * default disposition and none blocked. An ignored disposition survives
 * execve(), and berthd and the shim ignore SIGPIPE (a `yes | head` in the
 * container would spin forever) and may hold the signals glibc keeps for
 * its threads (32, 33) ignored too. glibc's sigaction() refuses those two,
 * so this talks to the kernel directly; SIGKILL and SIGSTOP it refuses,
 * and they are never ignored anyway. */
static inline void exec_reset_signals(void)
{
        struct {
                void *handler;
                unsigned long flags;
                void *restorer;
                unsigned long mask;
        } dfl = {0}; /* SIG_DFL, the kernel's struct sigaction */
        unsigned long none = 0;
        for (int sig = 1; sig <= 64; sig++)
                (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
        (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

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
