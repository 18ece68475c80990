/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-tar: all the tar work of berthd and berth cp, never run by users
 * (tar-helper.h: why a process of its own, and the protocol).
 *
 *   berth-tar pack NAME TOP        a tar of NAME in the directory open as fd
 *                                  3 ("" for fd 3 itself), its top entry
 *                                  called TOP, to stdout
 *   berth-tar unpack MODE FLAGS    the tar on stdin unpacked into the
 *                                  directory open as fd 3 (whiteout MODE,
 *                                  LAYER_UNPACK_* FLAGS), refusing entries
 *                                  that climb out of it or pass through a
 *                                  symlink; replies {"size"}
 *   berth-tar diff MODE DIR [LOWER...]
 *                                  the changes of DIR over the LOWERs as a
 *                                  tar on stdout; replies {"size"}
 *   berth-tar spool DIR            the image archive on stdin into DIR;
 *                                  replies {"hashes", "links"}
 *   berth-tar decompress READ-MSG DATA-MSG WRITE-MSG
 *                                  stdin decompressed to stdout; replies
 *                                  {"digest", "size"}
 *   berth-tar save                 a tar of the plan on stdin to stdout
 *   berth-tar context-unpack       the build context on stdin (a tar, maybe
 *                                  compressed) unpacked into the directory
 *                                  open as fd 3; replies {"size"}
 *   berth-tar pack-copy NAME TOP UID GID MODE [EXCLUDE...]
 *                                  a COPY source NAME in the directory open
 *                                  as fd 3 as a tar on stdout, its entries
 *                                  owned by UID:GID and of MODE (decimal;
 *                                  -1: their own), without what the
 *                                  EXCLUDE patterns match
 *   berth-tar context DOCKERFILE [NAME [tar|gzip]]
 *                                  the build context in the directory open
 *                                  as fd 3 as the docker CLI sends it
 *                                  (.dockerignore applied, DOCKERFILE
 *                                  kept), to stdout, gzip-compressed with
 *                                  "gzip"; with a NAME that is not "",
 *                                  stdin is a Dockerfile from outside,
 *                                  added as NAME; replies {"files", "size"}
 *
 * The reply, or {"error", "errno"}, goes to fd 4 as one JSON line; the exit
 * status is 0 or 1 (2 for a wrong invocation). */
#include "tar/tar-layer.h"
#include "base/json.h"
#include "build/build-ignore.h"
#include "tar/tar-archive.h"
#include "tar/tar-helper.h"
#include "build/build-ignore.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#define DIR_FD_PATH "/proc/self/fd/3"

static int cmd_unpack(char **argv, json_t *res, struct berth_err *err)
{
        int64_t size = 0;
        int r = tar_layer_unpack(STDIN_FILENO, DIR_FD_PATH, (uint32_t)strtoul(argv[0], NULL, 10),
                                 strtoull(argv[1], NULL, 10), &size, err);
        json_object_set_new(res, "size", json_integer(size));
        return r;
}

static int cmd_diff(char **argv, json_t *res, struct berth_err *err)
{
        int64_t size = 0;
        int r = tar_layer_diff(argv[1], (const char *const *)argv + 2,
                               (uint32_t)strtoul(argv[0], NULL, 10), STDOUT_FILENO, &size, err);
        json_object_set_new(res, "size", json_integer(size));
        return r;
}

static int cmd_spool(char **argv, json_t *res, struct berth_err *err)
{
        json_t *hashes = json_object(), *links = json_object();
        json_object_set_new(res, "hashes", hashes);
        json_object_set_new(res, "links", links);
        return tar_spool(STDIN_FILENO, argv[0], hashes, links, err);
}

static int cmd_decompress(char **argv, json_t *res, struct berth_err *err)
{
        char digest[72];
        int64_t size = 0;
        int r = tar_decompress(STDIN_FILENO, STDOUT_FILENO, argv[0], argv[1], argv[2], digest,
                               &size, err);
        json_object_set_new(res, "digest", json_string(digest));
        json_object_set_new(res, "size", json_integer(size));
        return r;
}

static int cmd_save(char **argv, json_t *res, struct berth_err *err)
{
        json_error_t je;
        _cleanup_json_ json_t *plan = json_loadf(stdin, 0, &je);
        if (!json_is_array(plan))
                return err_set(err, -EINVAL, "tar plan: %s", plan ? "not an array" : je.text);
        return tar_write_plan(plan, STDOUT_FILENO, err);
}

static int cmd_pack(char **argv, json_t *res, struct berth_err *err)
{
        return archive_write_tree(TAR_HELPER_DIR_FD, argv[0], argv[1], STDOUT_FILENO, err);
}

static int cmd_context_unpack(char **argv, json_t *res, struct berth_err *err)
{
        int64_t size = 0;
        int r = tar_layer_unpack(STDIN_FILENO, DIR_FD_PATH, BERTH_LAYER_WH_DELETE,
                                 LAYER_UNPACK_COPY | LAYER_UNPACK_CONTEXT, &size, err);
        json_object_set_new(res, "size", json_integer(size));
        return r;
}

static bool ctx_excluded(void *ig, const char *rel, bool is_dir)
{
        return build_ignore_match(ig, rel, is_dir);
}

static bool ctx_may_include_under(void *ig, const char *dir)
{
        return build_ignore_may_include_under(ig, dir);
}

/* The context's .dockerignore, with the Dockerfile and itself kept as the
 * docker CLI keeps them (a Dockerfile from outside: only itself); NULL
 * when there is none. */
static int context_ignore(const char *dockerfile, bool outside, struct build_ignore **ret,
                          struct berth_err *err)
{
        *ret = NULL;
        _cleanup_close_ int fd =
            openat(TAR_HELPER_DIR_FD, ".dockerignore", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : err_errno(err, -errno, "open '.dockerignore'");
        _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", fd);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_full_file(p, &data, &len);
        if (r < 0)
                return err_errno(err, r, "read '.dockerignore'");
        if ((r = build_ignore_parse(data, len, ret, err)) < 0)
                return err_prefix(err, "error checking context: .dockerignore");
        if (!outside)
                build_ignore_keep_build_files(*ret, dockerfile);
        else if (build_ignore_match(*ret, ".dockerignore", false))
                build_ignore_add(*ret, "!.dockerignore", NULL);
        return 0;
}

static int cmd_context(char **argv, json_t *res, struct berth_err *err)
{
        const char *extra = argv[1] && *argv[1] ? argv[1] : NULL;
        bool gzip = argv[1] && argv[2] && streq(argv[2], "gzip");
        struct build_ignore *ig = NULL;
        int r = context_ignore(argv[0], extra != NULL, &ig, err);
        if (r < 0)
                return r;
        struct tar_context_filter filter = {ctx_excluded, ctx_may_include_under, ig};
        int64_t files = 0, size = 0;
        r = archive_write_context(TAR_HELPER_DIR_FD, ig ? &filter : NULL, extra, STDIN_FILENO, gzip,
                                  STDOUT_FILENO, &files, &size, err);
        build_ignore_free(ig);
        json_object_set_new(res, "files", json_integer(files));
        json_object_set_new(res, "size", json_integer(size));
        return r;
}

static bool copy_skip(void *userdata, const char *rel, bool is_dir, bool *ret_descend)
{
        const struct build_ignore *ig = userdata;
        if (!build_ignore_match(ig, rel, is_dir))
                return false;
        *ret_descend = is_dir && build_ignore_may_include_under(ig, rel);
        return true;
}

static int parse_id(const char *s, int64_t max, int64_t *ret)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < -1 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int cmd_pack_copy(char **argv, json_t *res, struct berth_err *err)
{
        int64_t uid, gid, mode;
        if (parse_id(argv[2], UINT32_MAX - 1, &uid) < 0 ||
            parse_id(argv[3], UINT32_MAX - 1, &gid) < 0 || parse_id(argv[4], 07777, &mode) < 0)
                return err_set(err, -EINVAL, "pack-copy: bad owner or mode '%s:%s' '%s'", argv[2],
                               argv[3], argv[4]);
        struct build_ignore *ig = NULL;
        int r = 0;
        if (argv[5]) {
                r = build_ignore_parse("", 0, &ig, err);
                for (char **p = argv + 5; r == 0 && *p; p++)
                        r = build_ignore_add(ig, *p, err);
                if (r < 0)
                        r = err_prefix(err, "COPY --exclude");
        }
        if (r == 0)
                r = archive_write_copy(TAR_HELPER_DIR_FD, argv[0], argv[1], uid, gid, (int)mode,
                                       ig ? copy_skip : NULL, ig, STDOUT_FILENO, err);
        build_ignore_free(ig);
        return r;
}

static const struct {
        const char *name;
        int min_args, max_args;
        int (*fn)(char **argv, json_t *res, struct berth_err *err);
} cmds[] = {
    {"pack", 2, 2, cmd_pack},
    {"unpack", 2, 2, cmd_unpack},
    {"diff", 2, INT32_MAX, cmd_diff},
    {"spool", 1, 1, cmd_spool},
    {"decompress", 3, 3, cmd_decompress},
    {"save", 0, 0, cmd_save},
    {"context-unpack", 0, 0, cmd_context_unpack},
    {"pack-copy", 5, INT32_MAX, cmd_pack_copy},
    {"context", 1, 3, cmd_context},
};

int main(int argc, char **argv)
{
        /* gone with the engine; nothing of it but the fds of the protocol */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)close_range(TAR_HELPER_RESULT_FD + 1, ~0U, 0);
        signal(SIGPIPE, SIG_IGN); /* a reader that went away: EPIPE, said in the reply */
        for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
                if (!streq(argv[1], cmds[i].name))
                        continue;
                if (argc - 2 < cmds[i].min_args || argc - 2 > cmds[i].max_args)
                        break;
                struct berth_err err = {0};
                _cleanup_json_ json_t *res = json_object();
                int r = cmds[i].fn(argv + 2, res, &err);
                return tar_helper_reply(r, res, &err);
        }
        fprintf(stderr, "usage: berth-tar pack|unpack|diff|spool|decompress|save|context-unpack|"
                        "pack-copy|context ARGS (run by berth, see berth-tar.c)\n");
        return 2;
}
