/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth build: POST /build with the classic protocol, as the docker CLI
 * 20.10 sends it. The context tar is made by berth-tar while it is sent
 * (tar_pack_context), so that a large context is never held in memory or
 * on disk; the daemon's JSON stream is printed as it comes. */
#include "cli.h"
#include "cli-build.h"

#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build/build-ignore.h"
#include "tar/tar-helper.h"

extern char **environ;

const struct cli_opt cli_build_opts[] = {
    {"add-host", 0, CLI_LIST, "Add a custom host-to-IP mapping (host:ip)", NULL},
    {"build-arg", 0, CLI_LIST, "Set build-time variables", NULL},
    {"cache-from", 0, CLI_LIST, "Images to consider as cache sources", NULL},
    {"cgroup-parent", 0, CLI_STRING, "Optional parent cgroup for the container", NULL},
    {"compress", 0, CLI_BOOL, "Compress the build context using gzip", NULL},
    {"cpu-period", 0, CLI_INT, "Limit the CPU CFS (Completely Fair Scheduler) period", NULL},
    {"cpu-quota", 0, CLI_INT, "Limit the CPU CFS (Completely Fair Scheduler) quota", NULL},
    {"cpu-shares", 'c', CLI_INT, "CPU shares (relative weight)", NULL},
    {"cpuset-cpus", 0, CLI_STRING, "CPUs in which to allow execution (0-3, 0,1)", NULL},
    {"cpuset-mems", 0, CLI_STRING, "MEMs in which to allow execution (0-3, 0,1)", NULL},
    {"disable-content-trust", 0, CLI_BOOL,
     "Skip image verification (accepted; berth does not verify)", "true"},
    {"file", 'f', CLI_STRING, "Name of the Dockerfile (Default is 'PATH/Dockerfile')", NULL},
    {"force-rm", 0, CLI_BOOL, "Always remove intermediate containers", NULL},
    {"iidfile", 0, CLI_STRING, "Write the image ID to the file", NULL},
    {"isolation", 0, CLI_STRING, "Container isolation technology", NULL},
    {"label", 0, CLI_LIST, "Set metadata for an image", NULL},
    {"memory", 'm', CLI_STRING, "Memory limit", NULL},
    {"memory-swap", 0, CLI_STRING,
     "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", NULL},
    {"network", 0, CLI_STRING, "Set the networking mode for the RUN instructions during build",
     "default"},
    {"no-cache", 0, CLI_BOOL, "Do not use cache when building the image", NULL},
    {"platform", 0, CLI_STRING, "Set platform if server is multi-platform capable", NULL},
    {"pull", 0, CLI_BOOL, "Always attempt to pull a newer version of the image", NULL},
    {"quiet", 'q', CLI_BOOL, "Suppress the build output and print image ID on success", NULL},
    {"rm", 0, CLI_BOOL, "Remove intermediate containers after a successful build", "true"},
    {"security-opt", 0, CLI_LIST, "Security options", NULL},
    {"shm-size", 0, CLI_STRING, "Size of /dev/shm", NULL},
    {"squash", 0, CLI_BOOL, "Squash newly built layers into a single new layer", NULL},
    {"tag", 't', CLI_LIST, "Name and optionally a tag in the 'name:tag' format", NULL},
    {"target", 0, CLI_STRING, "Set the target build stage to build.", NULL},
    {"ulimit", 0, CLI_LIST, "Ulimit options", NULL},
    {0},
};

/* --- the context ---------------------------------------------------------- */

/* What feeds the request body, in a thread of its own while the main
 * thread sends it: berth-tar packing a directory, or stdin passed through. */
struct feeder {
        pthread_t thread;
        bool started, joined;
        int out; /* the pipe's write end; closed when done */
        /* a directory */
        int dirfd;
        bool gzip;
        const char *dockerfile, *extra_name;
        int extra_fd;
        /* stdin as it is: what was read to sniff it, then the rest */
        bool passthrough;
        unsigned char *head;
        size_t head_len;
        int64_t bytes;
        int r;
        struct berth_err err;
        const int *sock; /* the connection: cut when the context fails */
};

static void *feed(void *p)
{
        struct feeder *f = p;
        if (!f->passthrough)
                f->r = tar_pack_context(f->dirfd, f->dockerfile, f->extra_name, f->extra_fd,
                                        f->gzip, f->out, NULL, &f->bytes, &f->err);
        else {
                f->r = loop_write(f->out, f->head, f->head_len);
                f->bytes = (int64_t)f->head_len;
                char buf[65536];
                while (f->r >= 0) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                if (n < 0)
                                        f->r = -errno;
                                break;
                        }
                        f->r = loop_write(f->out, buf, (size_t)n);
                        f->bytes += n;
                }
                if (f->r < 0)
                        err_errno(&f->err, f->r, "send the build context from stdin");
        }
        /* a context that could not be read in full must not look like a
         * whole one: the request is cut, so the daemon drops it, rather
         * than ended as if the tar were complete */
        if (f->r < 0 && f->r != -EPIPE && f->sock && *f->sock >= 0)
                shutdown(*f->sock, SHUT_RDWR);
        close(f->out);
        f->out = -1;
        return NULL;
}

static int feeder_join(struct feeder *f)
{
        if (f->started && !f->joined) {
                pthread_join(f->thread, NULL);
                f->joined = true;
        }
        return f->r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

static void rm_tree(const char *path)
{
        if (path)
                nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ".dockerfile." and 20 random hex digits, as the docker CLI names it */
static char *random_dockerfile_name(void)
{
        unsigned char r[10];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                for (size_t i = 0; i < sizeof(r); i++)
                        r[i] = (unsigned char)(rand() ^ (int)now_ns());
        char *s = xmalloc(12 + 2 * sizeof(r) + 1);
        strcpy(s, ".dockerfile.");
        for (size_t i = 0; i < sizeof(r); i++)
                sprintf(s + 12 + 2 * i, "%02x", r[i]);
        return s;
}

/* git clone --depth 1 [--branch ref] url dir; its stderr in the message */
static int git_clone(const char *url, const char *ref, const char *dir, struct berth_err *err)
{
        const char *argv[12];
        size_t n = 0;
        argv[n++] = "git";
        argv[n++] = "clone";
        argv[n++] = "--quiet";
        argv[n++] = "--depth";
        argv[n++] = "1";
        argv[n++] = "--recurse-submodules";
        if (ref) {
                argv[n++] = "--branch";
                argv[n++] = ref;
        }
        argv[n++] = "--";
        argv[n++] = url;
        argv[n++] = dir;
        argv[n] = NULL;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
        setenv("GIT_TERMINAL_PROMPT", "0", 1);
        pid_t pid;
        int r = -posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return err_errno(err, r, "unable to prepare context: cannot run git to clone '%s'",
                                 url);
        }
        char out[2048];
        size_t len = 0;
        for (;;) {
                ssize_t k = read(p[0], out + len, sizeof(out) - 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t)k;
                if (len == sizeof(out) - 1) {
                        char sink[4096];
                        while (read(p[0], sink, sizeof(sink)) > 0)
                                ;
                        break;
                }
        }
        close(p[0]);
        out[len] = '\0';
        while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
                out[--len] = '\0';
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return err_errno(err, -errno, "wait for git");
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;
        return err_set(err, -EIO,
                       "unable to prepare context: git clone '%s' failed: %s%sexit status %d", url,
                       out, len ? ": " : "", WIFEXITED(st) ? WEXITSTATUS(st) : 128);
}

static int read_stdin_head(unsigned char *buf, size_t want, size_t *ret)
{
        size_t n = 0;
        while (n < want) {
                ssize_t k = read(STDIN_FILENO, buf + n, want - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        *ret = n;
        return 0;
}

static int write_file_all(const char *path, int in_fd, const unsigned char *head, size_t head_len)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = loop_write(fd, head, head_len);
        char buf[65536];
        while (r >= 0) {
                ssize_t n = read(in_fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                r = loop_write(fd, buf, (size_t)n);
        }
        return r;
}

/* The context argument resolved into what to send. */
struct build_ctx {
        char *tmpdir;     /* a git clone or a stdin Dockerfile: removed at the end */
        char *remote;     /* remote=URL: no body */
        int dirfd;        /* a directory to pack, or -1 */
        char *dockerfile; /* the query's dockerfile= */
        char *extra_name; /* a Dockerfile from outside, added under this name */
        int extra_fd;     /* its content */
        bool passthrough; /* stdin sent as it is */
        unsigned char *head;
        size_t head_len;
};

static void build_ctx_done(struct build_ctx *c)
{
        rm_tree(c->tmpdir);
        free(c->tmpdir);
        free(c->remote);
        safe_close(c->dirfd);
        free(c->dockerfile);
        free(c->extra_name);
        if (c->extra_fd > STDERR_FILENO)
                close(c->extra_fd);
        free(c->head);
}

/* dir: the context directory; file: -f (NULL: none); file_rel_cwd: -f is
 * relative to the working directory (a local context) rather than to the
 * context (a git one). */
static int resolve_dir(struct build_ctx *c, const char *dir, const char *file, bool file_rel_cwd,
                       struct berth_err *err)
{
        _cleanup_free_ char *root = realpath(dir, NULL);
        if (!root)
                return err_errno(err, -errno, "unable to prepare context: path \"%s\" not found",
                                 dir);
        c->dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dirfd < 0)
                return err_errno(err, -errno, "unable to prepare context: open '%s'", root);
        /* a bad .dockerignore is refused before anything is sent (berth-tar
         * applies it while it packs) */
        _cleanup_free_ char *ign = xasprintf("%s/.dockerignore", root);
        _cleanup_free_ char *idata = NULL;
        size_t ilen = 0;
        int r = read_full_file(ign, &idata, &ilen);
        if (r < 0 && r != -ENOENT)
                return err_errno(err, r, "error checking context: read '%s'", ign);
        if (r == 0) {
                struct build_ignore *ig = NULL;
                if ((r = build_ignore_parse(idata, ilen, &ig, err)) < 0)
                        return err_prefix(err, "error checking context: '%s'", ign);
                build_ignore_free(ig);
        }
        if (file && streq(file, "-")) {
                c->extra_name = random_dockerfile_name();
                c->extra_fd = STDIN_FILENO;
                c->dockerfile = xstrdup(c->extra_name);
                return 0;
        }
        _cleanup_free_ char *given = NULL;
        if (!file)
                given = xasprintf("%s/Dockerfile", root);
        else if (file[0] == '/')
                given = xstrdup(file);
        else if (file_rel_cwd) {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                given = xasprintf("%s/%s", cwd ? cwd : ".", file);
        } else
                given = xasprintf("%s/%s", root, file);
        _cleanup_free_ char *df = realpath(given, NULL);
        if (!df) {
                /* Go's wording: "lstat PATH: no such file or directory" */
                char why[128];
                snprintf(why, sizeof(why), "%s", strerror(errno));
                why[0] = (char)tolower((unsigned char)why[0]);
                return err_set(err, -errno,
                               "unable to prepare context: unable to evaluate symlinks in "
                               "Dockerfile path: lstat %s: %s",
                               given, why);
        }
        size_t rl = strlen(root);
        if (strncmp(df, root, rl) == 0 && (df[rl] == '/' || rl == 1) && df[rl + (rl > 1)]) {
                c->dockerfile = xstrdup(df + rl + (rl > 1));
                return 0;
        }
        c->extra_fd = open(df, O_RDONLY | O_CLOEXEC);
        if (c->extra_fd < 0)
                return err_errno(err, -errno, "unable to prepare context: open '%s'", df);
        c->extra_name = random_dockerfile_name();
        c->dockerfile = xstrdup(c->extra_name);
        return 0;
}

static int resolve_context(struct build_ctx *c, const char *arg, const char *file,
                           struct berth_err *err)
{
        *c = (struct build_ctx){.dirfd = -1, .extra_fd = -1};
        if (streq(arg, "-")) {
                if (file && streq(file, "-"))
                        return err_set(err, -EINVAL,
                                       "invalid argument: can't use stdin for both build context "
                                       "and dockerfile");
                c->head = xmalloc(512);
                int r = read_stdin_head(c->head, 512, &c->head_len);
                if (r < 0)
                        return err_errno(err, r,
                                         "unable to prepare context: failed to peek context "
                                         "header from STDIN");
                if (cli_build_is_archive(c->head, c->head_len)) {
                        c->passthrough = true;
                        c->dockerfile = xstrdup(file ? file : "Dockerfile");
                        return 0;
                }
                /* a bare Dockerfile: a context of that one file */
                char tmpl[] = "/tmp/berth-build-context-XXXXXX";
                if (!mkdtemp(tmpl))
                        return err_errno(err, -errno, "unable to prepare context: mkdtemp");
                c->tmpdir = xstrdup(tmpl);
                _cleanup_free_ char *p = xasprintf("%s/Dockerfile", tmpl);
                if ((r = write_file_all(p, STDIN_FILENO, c->head, c->head_len)) < 0)
                        return err_errno(err, r, "unable to prepare context: write '%s'", p);
                return resolve_dir(c, tmpl, NULL, false, err);
        }
        struct stat st;
        if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
                return resolve_dir(c, arg, file, true, err);
        if (cli_build_is_git_url(arg)) {
                _cleanup_free_ char *url = NULL, *ref = NULL, *sub = NULL;
                cli_build_git_split(arg, &url, &ref, &sub);
                char tmpl[] = "/tmp/berth-build-git-XXXXXX";
                if (!mkdtemp(tmpl))
                        return err_errno(err, -errno, "unable to prepare context: mkdtemp");
                c->tmpdir = xstrdup(tmpl);
                int r = git_clone(url, ref, tmpl, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *dir = sub ? xasprintf("%s/%s", tmpl, sub) : xstrdup(tmpl);
                _cleanup_free_ char *real = realpath(dir, NULL);
                if (!real || !startswith(real, tmpl) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                        return err_set(err, -ENOENT,
                                       "unable to prepare context: error reading subdirectory "
                                       "'%s' of '%s': not a directory in the repository",
                                       strempty(sub), url);
                return resolve_dir(c, real, file, false, err);
        }
        if (startswith(arg, "http://") || startswith(arg, "https://")) {
                /* the daemon fetches it (remote=, as docker-py sends it) */
                c->remote = xstrdup(arg);
                c->dockerfile = xstrdup(file ? file : "Dockerfile");
                return 0;
        }
        return err_set(err, -ENOENT, "unable to prepare context: path \"%s\" not found", arg);
}

/* --- the response --------------------------------------------------------- */

struct build_out {
        struct feeder *feeder;
        bool quiet, remote, sent_shown, failed_feed;
        char *buf;
        size_t len, cap;
        char *qbuf; /* -q: the stream, printed at the end */
        size_t qlen, qcap;
        char iid[160];
        char error[BERTH_ERR_MSG_MAX];
        int error_code;
        bool has_error;
};

static void buf_append(char **p, size_t *len, size_t *cap, const char *s, size_t n)
{
        if (*len + n + 1 > *cap) {
                *cap = (*len + n + 1) * 2;
                *p = xrealloc(*p, *cap);
        }
        memcpy(*p + *len, s, n);
        *len += n;
        (*p)[*len] = '\0';
}

/* "Sending build context to Docker daemon  N" (the size in 8 columns, as
 * docker's progress line), once the body is out (the daemon answers only
 * after it has read all of it) */
static int show_sent(struct build_out *o)
{
        if (o->sent_shown)
                return 0;
        o->sent_shown = true;
        if (o->remote)
                return 0;
        if (feeder_join(o->feeder) < 0) {
                o->failed_feed = true;
                return -1;
        }
        if (!o->quiet) {
                char sz[32];
                cli_build_human_size(o->feeder->bytes, sz, sizeof(sz));
                printf("Sending build context to Docker daemon %8s\n", sz);
                fflush(stdout);
        }
        return 0;
}

/* one message; non-zero: the build ended with an error */
static int handle(struct build_out *o, json_t *m)
{
        json_t *detail = json_object_get(m, "errorDetail");
        const char *error = json_get_str(m, "error", NULL);
        if (detail || error) {
                snprintf(o->error, sizeof(o->error), "%s",
                         json_get_str(detail, "message", error ? error : "unknown error"));
                o->error_code = (int)json_get_int(detail, "code", 0);
                o->has_error = true;
                return 1;
        }
        json_t *aux = json_object_get(m, "aux");
        const char *id = json_get_str(aux, "ID", NULL);
        if (id)
                snprintf(o->iid, sizeof(o->iid), "%s", id);
        const char *stream = json_get_str(m, "stream", NULL);
        if (stream) {
                if (o->quiet)
                        buf_append(&o->qbuf, &o->qlen, &o->qcap, stream, strlen(stream));
                else {
                        fputs(stream, stdout);
                        fflush(stdout);
                }
        }
        const char *status = json_get_str(m, "status", NULL);
        if (status && !o->quiet) {
                const char *sid = json_get_str(m, "id", NULL);
                const char *progress = json_get_str(m, "progress", NULL);
                if (sid)
                        printf("%s: ", sid);
                printf("%s%s%s\n", status, progress ? " " : "", strempty(progress));
                fflush(stdout);
        }
        return 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
        struct build_out *o = ud;
        if (show_sent(o) < 0)
                return 1;
        buf_append(&o->buf, &o->len, &o->cap, data, len);
        char *start = o->buf, *nl;
        int stop = 0;
        while (!stop && (nl = memchr(start, '\n', (size_t)(o->buf + o->len - start)))) {
                *nl = '\0';
                json_error_t je;
                json_t *m = json_loads(start, JSON_DECODE_ANY, &je);
                if (m)
                        stop = handle(o, m);
                json_decref(m);
                start = nl + 1;
        }
        o->len = (size_t)(o->buf + o->len - start);
        memmove(o->buf, start, o->len);
        return stop;
}

/* --- the command ---------------------------------------------------------- */

static int64_t int_flag(struct cli_args *a, const char *name)
{
        int64_t v = 0;
        const char *s = cli_str(a, name);
        if (s)
                (void)parse_int64(s, &v); /* checked when parsed */
        return v;
}

int cli_cmd_build(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r;
        for (char **t = cli_list(a, "tag"); t && *t; t++)
                if (cli_build_check_tag(*t, &err) < 0) {
                        fprintf(stderr,
                                "invalid argument \"%s\" for \"-t, --tag\" flag: %s\nSee '%s "
                                "--help'.\n",
                                *t, err.msg, a->path);
                        return 125;
                }
        bool quiet = cli_flag(a, "quiet");
        struct cli_build_query q = {
            .tags = cli_list(a, "tag"),
            .build_args = cli_list(a, "build-arg"),
            .labels = cli_list(a, "label"),
            .cache_from = cli_list(a, "cache-from"),
            .extra_hosts = cli_list(a, "add-host"),
            .ulimits = cli_list(a, "ulimit"),
            .security_opts = cli_list(a, "security-opt"),
            .target = cli_str(a, "target"),
            .network = cli_str(a, "network"),
            .platform = cli_str(a, "platform"),
            .isolation = cli_str(a, "isolation"),
            .cgroup_parent = cli_str(a, "cgroup-parent"),
            .cpuset_cpus = cli_str(a, "cpuset-cpus"),
            .cpuset_mems = cli_str(a, "cpuset-mems"),
            .memory = cli_str(a, "memory"),
            .memory_swap = cli_str(a, "memory-swap"),
            .shm_size = cli_str(a, "shm-size"),
            .cpu_shares = int_flag(a, "cpu-shares"),
            .cpu_period = int_flag(a, "cpu-period"),
            .cpu_quota = int_flag(a, "cpu-quota"),
            .quiet = quiet,
            .no_cache = cli_flag(a, "no-cache"),
            .pull = cli_flag(a, "pull"),
            .rm = cli_flag(a, "rm"),
            .force_rm = cli_flag(a, "force-rm"),
            .squash = cli_flag(a, "squash"),
        };
        /* the flags' own errors before anything is read or sent */
        _cleanup_free_ char *probe = NULL;
        if (cli_build_query_string(&q, &probe, &err) < 0) {
                fprintf(stderr, "%s\nSee '%s --help'.\n", err.msg, a->path);
                return 125;
        }
        const char *iidfile = cli_str(a, "iidfile");
        if (iidfile && unlink(iidfile) < 0 && errno != ENOENT) {
                fprintf(stderr, "Removing image ID file: %s\n", strerror(errno));
                return 1;
        }

        struct build_ctx ctx;
        r = resolve_context(&ctx, a->pos[0], cli_str(a, "file"), &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err.msg);
                build_ctx_done(&ctx);
                return 1;
        }
        q.dockerfile = ctx.dockerfile;
        q.remote = ctx.remote;
        _cleanup_free_ char *query = NULL;
        if ((r = cli_build_query_string(&q, &query, &err)) < 0) {
                build_ctx_done(&ctx);
                return cli_fail(&err);
        }
        if ((r = cli_connect(cli, &err)) < 0) {
                build_ctx_done(&ctx);
                return cli_fail(&err);
        }
        _cleanup_free_ char *rcfg = cli_registry_config(cli);
        cli->client.registry_config = rcfg;

        struct feeder f = {.out = -1,
                           .dirfd = ctx.dirfd,
                           .dockerfile = ctx.dockerfile,
                           .extra_name = ctx.extra_name,
                           .extra_fd = ctx.extra_fd,
                           .passthrough = ctx.passthrough,
                           .gzip = cli_flag(a, "compress"),
                           .head = ctx.head,
                           .head_len = ctx.head_len,
                           .sock = &cli->client.conn.fd};
        int in = -1;
        if (!ctx.remote) {
                int p[2];
                if (pipe2(p, O_CLOEXEC) < 0) {
                        r = err_errno(&err, -errno, "pipe");
                        build_ctx_done(&ctx);
                        return cli_fail(&err);
                }
                in = p[0];
                f.out = p[1];
                if ((r = -pthread_create(&f.thread, NULL, feed, &f)) < 0) {
                        close(p[0]);
                        close(p[1]);
                        err_errno(&err, r, "start the context sender");
                        build_ctx_done(&ctx);
                        return cli_fail(&err);
                }
                f.started = true;
        }
        struct build_out o = {.feeder = &f, .quiet = quiet, .remote = ctx.remote != NULL};
        _cleanup_free_ char *path = xasprintf("/build%s", query);
        long status = 0;
        r = client_stream(&cli->client, "POST", path, ctx.remote ? NULL : "application/x-tar", in,
                          on_data, &o, &status, &err);
        safe_close(in); /* a helper still writing (the daemon gave up) gets EPIPE */
        int fr = feeder_join(&f);
        cli->client.registry_config = NULL;
        int rc = 0;
        if (fr < 0 && fr != -EPIPE && (r < 0 || o.failed_feed || !o.sent_shown)) {
                /* the context could not be read: say why, not what the
                 * daemon made of a cut tar */
                fprintf(stderr, "%s\n", err_msg(&f.err));
                rc = 1;
        } else if (r < 0) {
                /* the docker CLI printed it while sending (-q: kept back,
                 * then shown on stderr with the error) */
                if (status >= 400 && fr >= 0 && quiet && !ctx.remote) {
                        char sz[32];
                        cli_build_human_size(f.bytes, sz, sizeof(sz));
                        fprintf(stderr, "Sending build context to Docker daemon %8s\n", sz);
                } else if (status >= 400 && fr >= 0)
                        (void)show_sent(&o);
                rc = cli_fail(&err);
        } else if (o.has_error) {
                if (quiet) {
                        /* what -q kept back, as the docker CLI shows it */
                        if (!ctx.remote) {
                                char sz[32];
                                cli_build_human_size(f.bytes, sz, sizeof(sz));
                                fprintf(stderr, "Sending build context to Docker daemon %8s\n", sz);
                        }
                        fprintf(stderr, "%s", o.qbuf ? o.qbuf : "");
                }
                fprintf(stderr, "%s\n", o.error);
                rc = o.error_code ? o.error_code : 1;
        } else {
                (void)show_sent(&o);
                if (quiet && o.qbuf) {
                        fputs(o.qbuf, stdout);
                        fflush(stdout);
                }
                if (!o.iid[0] && quiet && o.qbuf) {
                        /* no aux (an older API): the ID is the stream */
                        _cleanup_free_ char *t = xstrdup(o.qbuf);
                        t[strcspn(t, "\r\n")] = '\0';
                        snprintf(o.iid, sizeof(o.iid), "%s", t);
                }
                if (iidfile) {
                        if (!o.iid[0]) {
                                fprintf(stderr,
                                        "Server did not provide an image ID. Cannot write %s\n",
                                        iidfile);
                                rc = 1;
                        } else {
                                _cleanup_close_ int fd =
                                    open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                                if (fd < 0 || loop_write(fd, o.iid, strlen(o.iid)) < 0) {
                                        fprintf(stderr, "Cannot write %s: %s\n", iidfile,
                                                strerror(errno));
                                        rc = 1;
                                }
                        }
                }
        }
        free(o.buf);
        free(o.qbuf);
        build_ctx_done(&ctx);
        return rc;
}

/* --- berth builder prune -------------------------------------------------- */

static const struct cli_opt builder_prune_opts[] = {
    {"all", 'a', CLI_BOOL, "Remove all unused build cache, not just dangling ones", NULL},
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. 'until=24h')", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {"keep-storage", 0, CLI_STRING, "Amount of disk space to keep for cache", NULL},
    {0},
};

static int cmd_builder_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        bool all = cli_flag(a, "all");
        uint64_t keep = 0;
        const char *ks = cli_str(a, "keep-storage");
        if (ks && (parse_size(ks, &keep) < 0 || keep > INT64_MAX)) {
                fprintf(stderr,
                        "invalid argument \"%s\" for \"--keep-storage\" flag: invalid size: "
                        "'%s'\nSee '%s --help'.\n",
                        ks, ks, a->path);
                return 125;
        }
        for (char **f = cli_list(a, "filter"); f && *f; f++)
                if (!strchr(*f, '=')) {
                        fprintf(stderr,
                                "invalid argument \"%s\" for \"--filter\" flag: bad format of "
                                "filter (expected name=value)\nSee '%s --help'.\n",
                                *f, a->path);
                        return 125;
                }
        char sz[32];
        if (!cli_flag(a, "force")) {
                /* the docker CLI's prompt, on one line; a "no" still
                 * reports nothing reclaimed */
                char line[16];
                printf("WARNING! This will remove all %sbuild cache. Are you sure you want to "
                       "continue? [y/N] ",
                       all ? "" : "dangling ");
                fflush(stdout);
                if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
                        cli_build_human_size(0, sz, sizeof(sz));
                        printf("Total reclaimed space: %s\n", sz);
                        return 0;
                }
        }
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *fj = cli_filters_json(cli_list(a, "filter"), NULL, NULL);
        _cleanup_free_ char *fq = cli_escape(fj ? fj : "");
        _cleanup_free_ char *path = xasprintf("/build/prune?%sfilters=%s&keep-storage=%" PRIu64,
                                              all ? "all=1&" : "", fq, keep);
        _cleanup_json_ json_t *res = NULL;
        r = client_json(&cli->client, "POST", path, NULL, NULL, &res, &err);
        if (r < 0)
                return cli_fail(&err);
        json_t *del = json_object_get(res, "CachesDeleted");
        if (json_array_size(del)) {
                size_t i;
                json_t *x;
                printf("Deleted build cache objects:\n");
                json_array_foreach (del, i, x)
                        printf("%s\n", json_string_value(x) ? json_string_value(x) : "");
                printf("\n");
        }
        cli_build_human_size(json_get_int(res, "SpaceReclaimed", 0), sz, sizeof(sz));
        printf("Total reclaimed space: %s\n", sz);
        return 0;
}

const struct cli_command cli_builder_sub[] = {
    {"build", NULL, "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", NULL,
     cli_build_opts, cli_cmd_build, NULL, 1, 1, false},
    {"prune", NULL, "", "Remove build cache", NULL, builder_prune_opts, cmd_builder_prune, NULL, 0,
     0, false},
    {0},
};
