/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI hooks: each runs with the container's state JSON on stdin; a non-zero
 * exit or a timeout fails the step that runs it. */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "init-loop.h"
#include "runtime-internal.h"

static const char *hook_name(int which)
{
        static const char *n[RT_HOOK_MAX] = {"prestart",       "createRuntime", "createContainer",
                                             "startContainer", "poststart",     "poststop"};
        return n[which];
}

static int run_one(const struct runtime_hook *h, const char *state, struct berth_err *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return err_errno(err, -errno, "fork");
        }
        if (pid == 0) {
                exec_reset_signals(); /* not berthd's or the shim's ignored SIGPIPE */
                dup2(p[0], STDIN_FILENO);
                char *argv0[] = {h->path, NULL};
                execve(h->path, strv_length(h->args) ? h->args : argv0, h->env);
                _exit(127);
        }
        safe_close(p[0]);
        (void)loop_write(p[1], state, strlen(state));
        safe_close(p[1]);
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
                struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
                int r = poll(&pfd, 1, h->timeout > 0 ? h->timeout * 1000 : -1);
                safe_close(pidfd);
                if (r == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return err_set(err, -ETIMEDOUT, "hook '%s' timed out after %d s", h->path,
                                       h->timeout);
                }
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return err_set(err, -EIO, "hook '%s' failed (status %d)", h->path,
                               WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return 0;
}

int rt_hooks_run(const struct runtime_spec *spec, int which, const char *state,
                 struct berth_err *err)
{
        if (spec->n_hooks[which] && !state)
                return err_set(err, -EINVAL, "%s hook: cannot encode the container's state",
                               hook_name(which));
        for (size_t i = 0; i < spec->n_hooks[which]; i++) {
                int r = run_one(&spec->hooks[which][i], state, err);
                if (r < 0)
                        return err_wrap(err, r, "%s hook", hook_name(which));
        }
        return 0;
}
