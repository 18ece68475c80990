/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running berth-tar: see tar-helper.h. */
#include "tar-helper.h"
#include "base/json.h"
#include "base/sha256.h"

#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPLY_MAX (64u << 20) /* a load's table of files, at most */

extern char **environ;

static int spawn_helper(const char *path, const char *const *args, int in, int out, int dir,
                        int result, pid_t *ret_pid)
{
        size_t n = strv_length((char **)args);
        _cleanup_free_ char **argv = xzalloc((n + 2) * sizeof(char *));
        argv[0] = (char *)"berth-tar";
        for (size_t i = 0; i < n; i++)
                argv[i + 1] = (char *)args[i];

        /* the sources first moved above the targets (0-4), so that no dup2
         * overwrites a source still to be used; they are O_CLOEXEC */
        int src[5] = {in, out, -1, dir, result}, hi[5] = {-1, -1, -1, -1, -1};
        int r = 0;
        for (int i = 0; i < 5 && r == 0; i++)
                if (src[i] >= 0 && (hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
                        r = -errno;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        spawnattr_init_clean(&at, 0);
        for (int i = 0; i < 5 && r == 0; i++) {
                if (i == 2)
                        continue; /* stderr: ours */
                if (hi[i] >= 0)
                        posix_spawn_file_actions_adddup2(&fa, hi[i], i);
                else if (i < 2)
                        posix_spawn_file_actions_addopen(&fa, i, "/dev/null",
                                                         i ? O_WRONLY : O_RDONLY, 0);
                else
                        posix_spawn_file_actions_addclose(&fa, i);
        }
        if (r == 0)
                r = -posix_spawn(ret_pid, path, &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        for (int i = 0; i < 5; i++)
                safe_close(hi[i]);
        return r;
}

int tar_helper_run(const char *const *args, const struct tar_helper_io *io, json_t **ret,
                   struct berth_err *err)
{
        _cleanup_free_ char *path = find_libexec_program("berth-tar");
        if (!path)
                return err_set(err, -ENOENT, "the tar helper berth-tar was not found in %s",
                               BERTH_LIBEXECDIR "/berth");
        int rp[2], ip[2] = {-1, -1};
        if (pipe2(rp, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "tar helper: pipe");
        if (io->in < 0 && io->input && pipe2(ip, O_CLOEXEC) < 0) {
                int r = err_errno(err, -errno, "tar helper: pipe");
                close(rp[0]);
                close(rp[1]);
                return r;
        }
        pid_t pid;
        int r =
            spawn_helper(path, args, io->in >= 0 ? io->in : ip[0], io->out, io->dir, rp[1], &pid);
        close(rp[1]);
        safe_close(ip[0]);
        if (r < 0) {
                close(rp[0]);
                safe_close(ip[1]);
                return err_errno(err, r, "run the tar helper '%s'", path);
        }
        if (ip[1] >= 0) {
                /* it reads all of it before it writes anything; a helper
                 * that died gives EPIPE here (SIGPIPE is ignored), and the
                 * wait below says why */
                (void)loop_write(ip[1], io->input, strlen(io->input));
                close(ip[1]);
        }
        struct jline_reader rd = {.fd = rp[0], .max = REPLY_MAX};
        _cleanup_json_ json_t *j = NULL;
        struct berth_err why = {0};
        int rr = jline_read(&rd, -1, &j, &why);
        jline_reader_done(&rd);
        close(rp[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return err_errno(err, -errno, "wait for the tar helper");
        if (WIFSIGNALED(st))
                return err_set(err, -ECHILD, "tar helper killed by signal %d", WTERMSIG(st));
        if (rr < 0)
                return err_set(err, -EPROTO,
                               "tar helper exited with status %d and no valid reply (%s)",
                               WEXITSTATUS(st), err_msg(&why));
        json_t *e = json_object_get(j, "error");
        if (e) {
                int code = (int)json_integer_value(json_object_get(j, "errno"));
                return err_set(err, code < 0 ? code : -EIO, "%s", json_string_value(e));
        }
        if (WEXITSTATUS(st) != 0)
                return err_set(err, -EPROTO, "tar helper exited with status %d", WEXITSTATUS(st));
        if (ret)
                *ret = TAKE_PTR(j);
        return 0;
}

int tar_pack_tree(int dirfd, const char *name, const char *top, int out_fd, struct berth_err *err)
{
        const char *args[] = {"pack", name, top, NULL};
        return tar_helper_run(args, &(struct tar_helper_io){.in = -1, .out = out_fd, .dir = dirfd},
                              NULL, err);
}

int tar_pack_context(int dirfd, const char *dockerfile, const char *extra_name, int extra_fd,
                     bool gzip, int out_fd, int64_t *ret_files, int64_t *ret_bytes,
                     struct berth_err *err)
{
        const char *args[] = {"context", dockerfile ? dockerfile : "Dockerfile",
                              extra_name ? extra_name : "", gzip ? "gzip" : "tar", NULL};
        _cleanup_json_ json_t *res = NULL;
        int r = tar_helper_run(
            args,
            &(struct tar_helper_io){.in = extra_name ? extra_fd : -1, .out = out_fd, .dir = dirfd},
            &res, err);
        if (r < 0)
                return r;
        if (ret_files)
                *ret_files = json_get_int(res, "files", 0);
        if (ret_bytes)
                *ret_bytes = json_get_int(res, "size", 0);
        return 0;
}

int tar_helper_reply(int r, json_t *result, const struct berth_err *err)
{
        json_t *j = r < 0 ? json_pack("{s:s, s:i}", "error", err_msg(err), "errno", r)
                          : (result ? json_incref(result) : json_object());
        if (jline_write(TAR_HELPER_RESULT_FD, j) < 0)
                return 1;
        return r < 0 ? 1 : 0;
}

int tar_decompress_run(int in_fd, int out_fd, const char *read_msg, const char *data_msg,
                       const char *write_msg, char ret_digest[72], int64_t *ret_size,
                       struct berth_err *err)
{
        const char *args[] = {"decompress", read_msg, data_msg, write_msg, NULL};
        _cleanup_json_ json_t *res = NULL;
        int r = tar_helper_run(args, &(struct tar_helper_io){.in = in_fd, .out = out_fd, .dir = -1},
                               &res, err);
        if (r < 0)
                return r;
        const char *d = json_get_str(res, "digest", "");
        if (!digest_valid(d))
                return err_set(err, -EPROTO, "the tar helper sent no digest");
        snprintf(ret_digest, 72, "%s", d);
        if (ret_size)
                *ret_size = json_get_int(res, "size", 0);
        return 0;
}

int tar_context_unpack(int in_fd, const char *dest, int64_t *ret_size, struct berth_err *err)
{
        _cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return err_errno(err, -errno, "build context: open '%s'", dest);
        const char *args[] = {"context-unpack", NULL};
        _cleanup_json_ json_t *res = NULL;
        int r = tar_helper_run(args, &(struct tar_helper_io){.in = in_fd, .out = -1, .dir = dfd},
                               &res, err);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = json_get_int(res, "size", 0);
        return 0;
}

int tar_pack_copy(int dirfd, const char *name, const char *top, const struct tar_copy_opts *o,
                  int out_fd, struct berth_err *err)
{
        char uid[24], gid[24], mode[16];
        snprintf(uid, sizeof(uid), "%" PRId64, o && o->uid >= 0 ? o->uid : -1);
        snprintf(gid, sizeof(gid), "%" PRId64, o && o->gid >= 0 ? o->gid : -1);
        snprintf(mode, sizeof(mode), "%d", o && o->mode >= 0 ? o->mode : -1);
        size_t n = o && o->exclude ? strv_length((char **)o->exclude) : 0;
        _cleanup_free_ const char **args = xzalloc((n + 7) * sizeof(char *));
        size_t i = 0;
        args[i++] = "pack-copy";
        args[i++] = name;
        args[i++] = top;
        args[i++] = uid;
        args[i++] = gid;
        args[i++] = mode;
        for (size_t k = 0; k < n; k++)
                args[i++] = o->exclude[k];
        return tar_helper_run(args, &(struct tar_helper_io){.in = -1, .out = out_fd, .dir = dirfd},
                              NULL, err);
}
