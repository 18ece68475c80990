/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth cp: files between a container and the host, with docker cp's rules
 * for the destination (an existing directory receives the source under its
 * own name; a missing path becomes the source's copy; a trailing "/" asserts
 * a directory; "SRC/." copies a directory's contents). The tar goes through
 * GET/PUT /containers/{id}/archive; on the host side it is unpacked by the
 * same hardened unpacker the engine uses for layers. */
#include "cli.h"
#include "tar/tar-layer.h"
#include "tar/tar-helper.h"

#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <sys/wait.h>
#include <sys/stat.h>

const struct cli_opt cli_cp_opts[] = {
    {"archive", 'a', CLI_BOOL, "Archive mode (copy all uid/gid information)", NULL},
    {"follow-link", 'L', CLI_BOOL, "Always follow symbol link in SRC_PATH", NULL},
    {"quiet", 'q', CLI_BOOL, "Suppress progress output during copy", NULL},
    {0},
};

/* "NAME:PATH" names a container path; an absolute or ./ path is local. */
static bool split_arg(const char *arg, char **ret_ctr, const char **ret_path)
{
        const char *colon = strchr(arg, ':');
        if (arg[0] == '/' || arg[0] == '.' || !colon || colon == arg)
                return false;
        *ret_ctr = xstrndup(arg, (size_t)(colon - arg));
        *ret_path = colon + 1;
        return true;
}

static bool asserts_dir(const char *p)
{
        size_t l = strlen(p);
        return l && (p[l - 1] == '/' || (l >= 2 && streq(p + l - 2, "/.")) || streq(p, "."));
}

static char *base_of(const char *p)
{
        _cleanup_free_ char *c = xstrdup(p);
        size_t l = strlen(c);
        while (l > 1 && c[l - 1] == '/')
                c[--l] = '\0';
        return xstrdup(basename(c));
}

static char *dir_of(const char *p)
{
        _cleanup_free_ char *c = xstrdup(p);
        size_t l = strlen(c);
        while (l > 1 && c[l - 1] == '/')
                c[--l] = '\0';
        return xstrdup(dirname(c));
}

/* The container path's stat (HEAD): 0 and *ret, -ENOENT, or another error. */
static int remote_stat(struct cli *cli, const char *ctr, const char *path, json_t **ret,
                       struct berth_err *err)
{
        _cleanup_free_ char *ec = cli_escape(ctr), *ep = cli_escape(path);
        _cleanup_free_ char *p = xasprintf("/containers/%s/archive?path=%s", ec, ep);
        long status = 0;
        _cleanup_free_ char *body = NULL;
        int r = client_request(&cli->client, "HEAD", p, NULL, NULL, 0, &status, &body, NULL, err);
        if (r < 0)
                return r;
        if (status == 404) {
                /* the container, or the path? */
                _cleanup_free_ char *ip = xasprintf("/containers/%s/json", ec);
                r = client_json(&cli->client, "GET", ip, NULL, NULL, NULL, err);
                if (r < 0)
                        return r;
                return err_set(err, -ENOENT, "Could not find the file %s in container %s", path,
                               ctr);
        }
        if (status >= 400)
                return err_set(err, -EIO, "stat %s:%s: status %ld", ctr, path, status);
        _cleanup_free_ unsigned char *dec = NULL;
        size_t n = 0;
        json_error_t je;
        *ret = base64_decode(cli->client.path_stat, strlen(cli->client.path_stat), &dec, &n) == 0
                   ? json_loadb((const char *)dec, n, 0, &je)
                   : NULL;
        if (!*ret)
                return err_set(err, -EIO, "the daemon sent no stat of %s:%s", ctr, path);
        return 0;
}

static bool mode_is_dir(json_t *st)
{
        return (json_integer_value(json_object_get(st, "mode")) >> 31) & 1;
}

static int write_out(void *ud, const char *data, size_t len)
{
        return loop_write(*(int *)ud, data, len) < 0 ? 1 : 0;
}

static int discard(void *ud, const char *data, size_t len)
{
        (void)ud, (void)data, (void)len;
        return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)f;
        return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int copy_from(struct cli *cli, struct cli_args *a, const char *ctr, const char *path,
                     const char *dst)
{
        struct berth_err err = {0};
        _cleanup_json_ json_t *st = NULL;
        _cleanup_free_ char *src = xstrdup(path);
        int r = remote_stat(cli, ctr, src, &st, &err);
        if (r < 0)
                return cli_fail(&err);
        if (cli_flag(a, "follow-link") &&
            ((json_integer_value(json_object_get(st, "mode")) >> 27) & 1)) {
                free(src);
                src = xstrdup(json_get_str(st, "linkTarget", path));
                json_decref(TAKE_PTR(st));
                if (remote_stat(cli, ctr, src, &st, &err) < 0)
                        return cli_fail(&err);
        }
        bool src_dir = mode_is_dir(st);
        _cleanup_free_ char *ec = cli_escape(ctr), *ep = cli_escape(src);
        _cleanup_free_ char *p = xasprintf("/containers/%s/archive?path=%s", ec, ep);
        if (streq(dst, "-")) {
                int fd = STDOUT_FILENO;
                if (client_stream(&cli->client, "GET", p, NULL, -1, write_out, &fd, NULL, &err) < 0)
                        return cli_fail(&err);
                return 0;
        }

        struct stat dst_st;
        bool exists = stat(dst, &dst_st) == 0;
        if (exists && !S_ISDIR(dst_st.st_mode) && src_dir) {
                fprintf(stderr, "berth: cannot copy a directory to a file: \"%s\"\n", dst);
                return 1;
        }
        if (!exists && asserts_dir(dst) && !src_dir) {
                fprintf(stderr, "berth: no such directory: \"%s\"\n", dst);
                return 1;
        }
        _cleanup_free_ char *parent = dir_of(dst);
        _cleanup_free_ char *into = exists && S_ISDIR(dst_st.st_mode) ? xstrdup(dst) : NULL;
        _cleanup_free_ char *tmp = NULL;
        if (!into) {
                /* unpack beside the destination, then rename into place */
                tmp = xasprintf("%s/.berth-cp-XXXXXX", parent);
                if (!mkdtemp(tmp)) {
                        fprintf(stderr, "berth: cannot create a directory in \"%s\": %m\n", parent);
                        return 1;
                }
        }
        FILE *tf = tmpfile();
        int tfd = tf ? fileno(tf) : -1;
        r = tfd < 0 ? err_errno(&err, -errno, "temporary file")
                    : client_stream(&cli->client, "GET", p, NULL, -1, write_out, &tfd, NULL, &err);
        if (r >= 0 && lseek(tfd, 0, SEEK_SET) < 0)
                r = err_errno(&err, -errno, "rewind the temporary file");
        if (r >= 0) {
                /* through berth-tar: the hardened unpacker, without
                 * libarchive in this program */
                r = layer_unpack(tfd, into ? into : tmp, BERTH_LAYER_WH_DELETE, LAYER_UNPACK_COPY,
                                 NULL, &err);
        }
        if (tf)
                fclose(tf);
        if (r >= 0 && tmp) {
                size_t l = strlen(src);
                bool contents = l >= 2 && streq(src + l - 2, "/.");
                _cleanup_free_ char *top =
                    contents ? xstrdup(tmp) : xasprintf("%s/%s", tmp, json_get_str(st, "name", ""));
                if (contents)
                        chmod(tmp, 0755);
                if (rename(top, dst) < 0)
                        r = err_errno(&err, -errno, "move the copy to '%s'", dst);
        }
        if (tmp) /* what is left of it: nothing, or a failed copy */
                nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

static int copy_to(struct cli *cli, struct cli_args *a, const char *src, const char *ctr,
                   const char *path)
{
        struct berth_err err = {0};
        _cleanup_free_ char *ec = cli_escape(ctr);
        const char *opts = cli_flag(a, "archive") ? "&noOverwriteDirNonDir=true&copyUIDGID=true"
                                                  : "&noOverwriteDirNonDir=true";
        if (streq(src, "-")) {
                _cleanup_free_ char *ep = cli_escape(path);
                _cleanup_free_ char *p =
                    xasprintf("/containers/%s/archive?path=%s%s", ec, ep, opts);
                if (client_stream(&cli->client, "PUT", p, "application/x-tar", STDIN_FILENO,
                                  discard, NULL, NULL, &err) < 0)
                        return cli_fail(&err);
                return 0;
        }
        struct stat sst;
        int sr = cli_flag(a, "follow-link") ? stat(src, &sst) : lstat(src, &sst);
        if (sr < 0) {
                fprintf(stderr, "berth: could not find the file %s on the host: %m\n", src);
                return 1;
        }
        bool src_dir = S_ISDIR(sst.st_mode);
        _cleanup_json_ json_t *dst_st = NULL;
        int r = remote_stat(cli, ctr, path, &dst_st, &err);
        if (r < 0 && r != -ENOENT)
                return cli_fail(&err);
        bool exists = r >= 0, dst_dir = exists && mode_is_dir(dst_st);
        if (exists && !dst_dir && src_dir) {
                fprintf(stderr, "berth: cannot copy a directory to a file: \"%s:%s\"\n", ctr, path);
                return 1;
        }
        if (!exists && asserts_dir(path) && !src_dir) {
                fprintf(stderr, "berth: no such directory: \"%s:%s\"\n", ctr, path);
                return 1;
        }
        size_t l = strlen(src);
        bool contents = src_dir && l >= 2 && streq(src + l - 2, "/.");
        _cleanup_free_ char *sbase = base_of(src), *dbase = base_of(path);
        _cleanup_free_ char *into = dst_dir ? xstrdup(path) : dir_of(path);
        const char *top = dst_dir ? (contents ? "." : sbase) : dbase;

        /* the tar of the source, named for the destination */
        _cleanup_free_ char *sparent = dir_of(src);
        int pfd = open(sparent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0) {
                fprintf(stderr, "berth: open '%s': %m\n", sparent);
                return 1;
        }
        FILE *tf = tmpfile();
        int tfd = tf ? fileno(tf) : -1;
        const char *name = contents || streq(sbase, "/") ? "" : sbase;
        int dfd = pfd;
        if (contents || streq(sbase, "/"))
                dfd = open(src, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
                r = err_errno(&err, -errno, "temporary file");
        else if (dfd < 0)
                r = err_errno(&err, -errno, "open '%s'", src);
        else if (cli_flag(a, "follow-link") && !contents) {
                int ofd = open(src, O_PATH | O_CLOEXEC);
                r = ofd < 0 ? err_errno(&err, -errno, "open '%s'", src)
                            : tar_pack_tree(ofd, "", top, tfd, &err);
                safe_close(ofd);
        } else {
                r = tar_pack_tree(dfd, name, top, tfd, &err);
        }
        if (dfd != pfd)
                safe_close(dfd);
        close(pfd);
        if (r >= 0 && lseek(tfd, 0, SEEK_SET) < 0)
                r = err_errno(&err, -errno, "rewind the temporary file");
        if (r >= 0) {
                _cleanup_free_ char *ep = cli_escape(into);
                _cleanup_free_ char *p =
                    xasprintf("/containers/%s/archive?path=%s%s", ec, ep, opts);
                r = client_stream(&cli->client, "PUT", p, "application/x-tar", tfd, discard, NULL,
                                  NULL, &err);
        }
        if (tf)
                fclose(tf);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

int cli_cmd_cp(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_free_ char *sc = NULL, *dc = NULL;
        const char *sp = NULL, *dp = NULL;
        bool s_remote = split_arg(a->pos[0], &sc, &sp);
        bool d_remote = split_arg(a->pos[1], &dc, &dp);
        if (s_remote && d_remote) {
                fprintf(stderr, "berth: copying between containers is not supported\n");
                return 1;
        }
        if (!s_remote && !d_remote) {
                fprintf(stderr, "berth: must specify at least one container source\n");
                return 1;
        }
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        if (s_remote)
                return copy_from(cli, a, sc, isempty(sp) ? "/" : sp, a->pos[1]);
        return copy_to(cli, a, a->pos[0], dc, isempty(dp) ? "/" : dp);
}
