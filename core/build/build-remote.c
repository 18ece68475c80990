/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A remote build context (POST /build?remote=): a git repository cloned by
 * the git binary, or an http(s) download that is a tar or a Dockerfile
 * (build-remote.h). */
#include "build-remote.h"

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "build-internal.h"
#include "registry/registry.h"
#include "tar/tar-helper.h"

/* What of git's stderr a message keeps. */
#define GIT_STDERR_MAX (16u << 10)

static bool is_http(const char *s)
{
        return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

bool build_remote_is_git(const char *remote)
{
        if (startswith(remote, "git://") || startswith(remote, "github.com/") ||
            startswith(remote, "git@"))
                return true;
        if (!is_http(remote))
                return false;
        /* \.git(#.+)?$ */
        const char *hash = strchr(remote, '#');
        if (hash && hash[1] == '\0')
                return false;
        size_t n = hash ? (size_t)(hash - remote) : strlen(remote);
        return n >= 4 && strncmp(remote + n - 4, ".git", 4) == 0;
}

/* --- git ------------------------------------------------------------------------- */

static int clone_error(int code, struct berth_err *err, const char *why)
{
        return err_set(err, code,
                       "unable to prepare context: unable to 'git clone' to temporary context "
                       "directory: %s",
                       why);
}

/* git's stderr, without the "Cloning into '...'" chatter and trailing blanks. */
static char *git_message(const char *out)
{
        struct build_sbuf sb = {0};
        for (const char *l = out; *l;) {
                size_t n = strcspn(l, "\n");
                if (!startswith(l, "Cloning into ") && n > 0) {
                        if (sb.len > 0)
                                build_sb_addc(&sb, '\n');
                        build_sb_addn(&sb, l, n);
                }
                l += n;
                if (*l == '\n')
                        l++;
        }
        char *m = build_sb_take(&sb);
        size_t len = strlen(m);
        while (len > 0 && isspace((unsigned char)m[len - 1]))
                m[--len] = '\0';
        if (len == 0) {
                free(m);
                return xstrdup("git failed without a message");
        }
        return m;
}

/* Run git with argv in a clean environment; its stderr in *ret_stderr.
 * 0 when it exited 0, -EIO when it failed, -ENOENT when there is no git. */
static int run_git(char *const *argv, long timeout_s, char **ret_stderr, struct berth_err *err)
{
        const char *path = getenv("PATH");
        const char *home = getenv("HOME");
        _cleanup_free_ char *e_path =
            xasprintf("PATH=%s", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin");
        _cleanup_free_ char *e_home = xasprintf("HOME=%s", home ? home : "/root");
        /* http(s) remotes: a stall ends the clone as it ends a download */
        _cleanup_free_ char *e_stall =
            xasprintf("GIT_HTTP_LOW_SPEED_TIME=%ld", timeout_s > 0 ? timeout_s : 30);
        char *envp[] = {e_path,
                        e_home,
                        (char *)"LC_ALL=C",
                        (char *)"GIT_TERMINAL_PROMPT=0",
                        (char *)"GIT_SSH_COMMAND=ssh -o BatchMode=yes",
                        (char *)"GIT_HTTP_LOW_SPEED_LIMIT=1",
                        e_stall,
                        NULL};
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        spawnattr_init_clean(&at, 0);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
        pid_t pid;
        int r = posix_spawnp(&pid, "git", &fa, &at, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(pfd[1]);
        if (r != 0) {
                close(pfd[0]);
                if (r == ENOENT)
                        return clone_error(-ENOENT, err, "the git program is not installed");
                return err_errno(err, -r, "cannot run git");
        }
        char *buf = xzalloc(GIT_STDERR_MAX + 1);
        size_t len = 0;
        for (;;) {
                char tmp[4096];
                ssize_t n = read(pfd[0], tmp, sizeof(tmp));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size_t k = (size_t)n < GIT_STDERR_MAX - len ? (size_t)n : GIT_STDERR_MAX - len;
                memcpy(buf + len, tmp, k);
                len += k;
        }
        buf[len] = '\0';
        close(pfd[0]);
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        *ret_stderr = buf;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        return -EIO;
}

/* The directory `sub` of the clone at `root`, resolved inside it (a
 * symlink cannot lead out), as a path. */
static int resolve_subdir(const char *root, const char *sub, const char *url, char **ret,
                          struct berth_err *err)
{
        /* lexically first, as moby joins and cleans the path before it
         * follows symlinks in the repository's scope */
        _cleanup_strv_ char **parts = strv_split(sub, "/");
        if (sub[0] == '/' || strv_contains(parts, ".."))
                return err_set(err, -EINVAL,
                               "unable to prepare context: subdirectory '%s' of '%s' is outside "
                               "the repository",
                               sub, url);
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return err_errno(err, -errno, "open '%s'", root);
        _cleanup_close_ int fd = openat_in_root(rootfd, sub, O_PATH);
        if (fd < 0)
                return err_set(err, -EINVAL,
                               "unable to prepare context: subdirectory '%s' of '%s' does not "
                               "exist",
                               sub, url);
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
                return err_set(err, -EINVAL,
                               "unable to prepare context: subdirectory '%s' of '%s' is not a "
                               "directory",
                               sub, url);
        char proc[64], real[PATH_MAX], rroot[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, real, sizeof(real) - 1);
        if (n < 0 || !realpath(root, rroot))
                return err_errno(err, n < 0 ? -errno : -errno, "resolve '%s' in '%s'", sub, root);
        real[n] = '\0';
        const char *rest = startswith(real, rroot);
        if (!rest || (*rest != '/' && *rest != '\0'))
                return err_set(err, -EINVAL,
                               "unable to prepare context: subdirectory '%s' of '%s' is outside "
                               "the repository",
                               sub, url);
        *ret = xstrdup(real);
        return 0;
}

static int fetch_git(const struct registry_opts *o, const char *remote, const char *dir,
                     const char *scratch, struct berth_err *err)
{
        _cleanup_free_ char *url = NULL, *ref = NULL, *sub = NULL;
        const char *hash = strchr(remote, '#');
        url = hash ? xstrndup(remote, (size_t)(hash - remote)) : xstrdup(remote);
        if (startswith(url, "github.com/")) {
                char *u = xasprintf("https://%s", url);
                free(url);
                url = u;
        }
        if (hash) {
                const char *frag = hash + 1, *colon = strchr(frag, ':');
                ref = colon ? xstrndup(frag, (size_t)(colon - frag)) : xstrdup(frag);
                if (colon && colon[1])
                        sub = xstrdup(colon + 1);
        }
        if (ref && ref[0] == '-')
                return clone_error(-EINVAL, err, "a ref cannot start with '-'");
        /* without a subdirectory the clone is the context; with one, the
         * clone goes to scratch and the subdirectory becomes the context */
        _cleanup_free_ char *target = sub ? xasprintf("%s/remote-git", scratch) : xstrdup(dir);
        char *argv[16];
        size_t k = 0;
        argv[k++] = (char *)"git";
        argv[k++] = (char *)"clone";
        argv[k++] = (char *)"--quiet";
        argv[k++] = (char *)"--depth=1";
        argv[k++] = (char *)"--recurse-submodules";
        argv[k++] = (char *)"--shallow-submodules";
        if (!isempty(ref)) {
                argv[k++] = (char *)"--branch";
                argv[k++] = ref;
        }
        argv[k++] = (char *)"--";
        argv[k++] = url;
        argv[k++] = target;
        argv[k] = NULL;
        _cleanup_free_ char *out = NULL;
        int r = run_git(argv, o ? o->timeout_s : 0, &out, err);
        if (r == -EIO) {
                _cleanup_free_ char *m = git_message(out);
                return clone_error(-EIO, err, m);
        }
        if (r < 0 || !sub)
                return r;
        _cleanup_free_ char *src = NULL;
        r = resolve_subdir(target, sub, remote, &src, err);
        if (r < 0)
                return r;
        /* the (empty) dir gives way to the subdirectory; both live in the
         * caller's build scratch, on one file system */
        if (rename(src, dir) < 0)
                return err_errno(err, -errno, "move '%s' to '%s'", src, dir);
        return 0;
}

/* --- http(s) ---------------------------------------------------------------------- */

/* The media type without parameters, lower case ("" for none). */
static char *media_type(const char *ct)
{
        if (!ct)
                return xstrdup("");
        size_t n = strcspn(ct, ";");
        while (n > 0 && isspace((unsigned char)ct[n - 1]))
                n--;
        char *m = xstrndup(ct, n);
        for (char *p = m; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return m;
}

/* What moby's content sniffing decides for a body sent as
 * application/octet-stream: an archive by its magic, else text (no binary
 * bytes in the first 512) is the Dockerfile; anything else goes to the tar
 * reader, which says what is wrong with it. */
bool build_archive_magic(const void *data, size_t n)
{
        static const struct {
                size_t off;
                const char *magic;
                size_t len;
        } archives[] = {{0, "\x1f\x8b", 2},
                        {0, "BZh", 3},
                        {0,
                         "\xfd"
                         "7zXZ\0",
                         6},
                        {0, "\x28\xb5\x2f\xfd", 4},
                        {257, "ustar", 5}};
        const unsigned char *p = data;
        for (size_t i = 0; i < ELEMENTSOF(archives); i++)
                if (n >= archives[i].off + archives[i].len &&
                    memcmp(p + archives[i].off, archives[i].magic, archives[i].len) == 0)
                        return true;
        return false;
}

static bool sniff_text(const unsigned char *p, size_t n)
{
        if (build_archive_magic(p, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f' &&
                    p[i] != 0x1b)
                        return false;
        return true;
}

static bool is_archive_type(const char *mt)
{
        static const char *const types[] = {
            "application/tar",    "application/x-tar",   "application/gzip",
            "application/x-gzip", "application/x-gtar",  "application/x-compressed-tar",
            "application/bzip2",  "application/x-bzip2", "application/x-bzip",
            "application/xz",     "application/x-xz",    "application/zstd",
            "application/x-zstd", "application/x-tgz",   NULL};
        for (const char *const *t = types; *t; t++)
                if (streq(mt, *t))
                        return true;
        return false;
}

/* The file at `from` as dir/Dockerfile: moved, or copied across file systems. */
static int place_dockerfile(int fd, const char *from, const char *dir, struct berth_err *err)
{
        _cleanup_free_ char *to = xasprintf("%s/Dockerfile", dir);
        if (rename(from, to) == 0)
                return 0;
        if (errno != EXDEV)
                return err_errno(err, -errno, "move '%s' to '%s'", from, to);
        _cleanup_close_ int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return err_errno(err, -errno, "create '%s'", to);
        char buf[65536];
        for (off_t off = 0;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return err_errno(err, -errno, "read '%s'", from);
                if (n == 0)
                        return 0;
                int r = loop_write(out, buf, (size_t)n);
                if (r < 0)
                        return err_errno(err, r, "write '%s'", to);
                off += n;
        }
}

static int fetch_http(const struct registry_opts *o, const char *url, const char *dir,
                      const char *scratch, char **ret_dockerfile, struct berth_err *err)
{
        static const struct registry_opts none = {.retries = -1};
        _cleanup_free_ char *path = xasprintf("%s/remote-context", scratch);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_errno(err, -errno, "create '%s'", path);
        struct registry_fetch_result res = {0};
        int r = registry_fetch(o ? o : &none, url, fd, NULL, NULL, &res, err);
        if (r < 0)
                return err_prefix(err, "downloading context from '%s'", url);
        _cleanup_free_ char *mt = media_type(res.content_type);
        int64_t size = res.size;
        registry_fetch_result_done(&res);
        if (size == 0)
                return err_set(err, -EINVAL, "downloading context from '%s': empty response", url);
        bool text = streq(mt, "text/plain");
        if (isempty(mt) || streq(mt, "application/octet-stream")) {
                unsigned char head[512];
                ssize_t n = pread(fd, head, sizeof(head), 0);
                if (n < 0)
                        return err_errno(err, -errno, "read '%s'", path);
                text = sniff_text(head, (size_t)n);
        } else if (!text && !is_archive_type(mt))
                return err_set(err, -EINVAL,
                               "downloading context from '%s': unsupported Content-Type \"%s\"",
                               url, mt);
        if (text) {
                r = place_dockerfile(fd, path, dir, err);
                if (r < 0)
                        return r;
                *ret_dockerfile = xstrdup("Dockerfile");
                return 0;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return err_errno(err, -errno, "seek '%s'", path);
        r = tar_context_unpack(fd, dir, NULL, err);
        if (r < 0)
                return err_prefix(err, "downloading context from '%s'", url);
        return 0;
}

int build_remote_download(const struct registry_opts *o, const char *url, const char *dir,
                          registry_progress_fn fn, void *userdata, char **ret_name, char **ret_file,
                          char ret_digest[72], struct berth_err *err)
{
        static const struct registry_opts none = {.retries = -1};
        /* a temporary name first: the real one is known after the headers */
        _cleanup_free_ char *tmp = xasprintf("%s/.download", dir);
        _cleanup_close_ int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_errno(err, -errno, "create '%s'", tmp);
        struct registry_fetch_result res = {0};
        int r = registry_fetch(o ? o : &none, url, fd, fn, userdata, &res, err);
        if (r < 0) {
                (void)unlink(tmp);
                return err_prefix(err, "ADD failed");
        }
        /* a name from the server is one path segment, but never "." or ".." */
        const char *file = res.filename && !streq(res.filename, ".") && !streq(res.filename, "..")
                               ? res.filename
                               : "download";
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        struct timespec ts[2] = {{.tv_sec = res.last_modified_ns / 1000000000,
                                  .tv_nsec = res.last_modified_ns % 1000000000},
                                 {.tv_sec = res.last_modified_ns / 1000000000,
                                  .tv_nsec = res.last_modified_ns % 1000000000}};
        if (fchmod(fd, 0600) < 0 || futimens(fd, ts) < 0 || rename(tmp, path) < 0) {
                r = err_errno(err, -errno, "ADD failed: place the download as '%s'", path);
                (void)unlink(tmp);
                registry_fetch_result_done(&res);
                return r;
        }
        snprintf(ret_digest, 72, "%s", res.digest);
        *ret_file = xstrdup(file);
        *ret_name = file == res.filename ? xstrdup(file) : NULL;
        registry_fetch_result_done(&res);
        return 0;
}

int build_remote_fetch(const struct registry_opts *o, const char *remote, const char *dir,
                       const char *scratch, char **ret_dockerfile, struct berth_err *err)
{
        *ret_dockerfile = NULL;
        if (isempty(remote))
                return err_set(err, -EINVAL,
                               "remote context '' is neither a git URL nor an "
                               "http(s) URL");
        if (build_remote_is_git(remote))
                return fetch_git(o, remote, dir, scratch, err);
        if (is_http(remote))
                return fetch_http(o, remote, dir, scratch, ret_dockerfile, err);
        return err_set(err, -EINVAL, "remote context '%s' is neither a git URL nor an http(s) URL",
                       remote);
}
