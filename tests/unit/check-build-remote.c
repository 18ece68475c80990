/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fetching from URLs through the real berth-registry: registry_fetch (the
 * body, status errors, Last-Modified, the file name, the digest) and
 * build_remote_fetch (a context tar, a Dockerfile, a git repository with
 * refs and subdirectories). The servers are python3's http.server and git
 * daemon on 127.0.0.1 only, started once for the suite; without python3
 * or git the tests that need them say so and pass. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include "check-main.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/util.h"
#include "build/build-remote.h"
#include "registry/registry.h"

static char base[64]; /* www/ served over http, git/ over git://, work/ per test */
static int http_port; /* 0: python3 is missing */
static int git_port;  /* 0: git is missing */
static pid_t http_pid = -1, git_pid = -1;
static char work[128];

/* The (fixed) Last-Modified of www/file.txt. */
#define FILE_MTIME 1500000000

static const struct registry_opts opts = {.timeout_s = 10, .retries = 0};

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = NULL;
        if (vasprintf(&c, fmt, ap) < 0)
                abort();
        va_end(ap);
        _cleanup_free_ char *full = xasprintf("cd '%s' && { %s; } >/dev/null 2>&1", base, c);
        return system(full);
}

static bool have(const char *prog)
{
        _cleanup_free_ char *c = xasprintf("command -v %s >/dev/null 2>&1", prog);
        return system(c) == 0;
}

static int free_port(void)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(a);
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
            getsockname(s, (struct sockaddr *)&a, &l) < 0)
                abort();
        close(s);
        return ntohs(a.sin_port);
}

static bool port_open(int port)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        return ok;
}

static pid_t start(char *const *argv, int out_fd)
{
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(out_fd >= 0 ? out_fd : null, 1);
                dup2(null, 2);
                if (chdir(base) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

/* A python server: www/ as http.server serves it, plus /cd/ (a
 * Content-Disposition name) and /html (text/html). It prints its port. */
static const char server_py[] =
    "import http.server, sys, functools\n"
    "class H(http.server.SimpleHTTPRequestHandler):\n"
    "    def log_message(self, *a): pass\n"
    "    def do_GET(self):\n"
    "        if self.path == '/cd/':\n"
    "            b = b'named body\\n'\n"
    "            self.send_response(200)\n"
    "            self.send_header('Content-Disposition', 'attachment; "
    "filename=\"sub/named.txt\"')\n"
    "            self.send_header('Content-Length', str(len(b)))\n"
    "            self.end_headers(); self.wfile.write(b); return\n"
    "        if self.path == '/redir/moved.txt':\n"
    "            self.send_response(302)\n"
    "            self.send_header('Location', '/file.txt')\n"
    "            self.send_header('Content-Length', '0')\n"
    "            self.end_headers(); return\n"
    "        if self.path == '/html':\n"
    "            b = b'<html><body>hi</body></html>\\n'\n"
    "            self.send_response(200)\n"
    "            self.send_header('Content-Type', 'text/html')\n"
    "            self.send_header('Content-Length', str(len(b)))\n"
    "            self.end_headers(); self.wfile.write(b); return\n"
    "        return super().do_GET()\n"
    "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(H, directory='www'))\n"
    "print(s.server_address[1], flush=True)\n"
    "s.serve_forever()\n";

static void servers_start(void)
{
        strcpy(base, "/tmp/berth-check-remote.XXXXXX");
        if (!mkdtemp(base))
                abort();
        if (sh("mkdir -p www ctx git work && printf 'hello over http\\n' > www/file.txt && "
               "printf 'FROM busybox\\nRUN true\\n' > www/Dockerfile && "
               "printf 'FROM busybox\\n' > ctx/Dockerfile && printf 'ctx file\\n' > ctx/a.txt && "
               "mkdir ctx/d && printf 'deep\\n' > ctx/d/b.txt && "
               "tar -C ctx -czf www/ctx.tar.gz . && tar -C ctx -cf www/ctx.tar . && "
               "head -c 3000000 /dev/urandom > www/big.bin && printf '\\1\\2\\3' > www/bin.dat") !=
            0)
                abort();
        _cleanup_free_ char *f = xasprintf("%s/www/file.txt", base);
        struct utimbuf t = {FILE_MTIME, FILE_MTIME};
        utime(f, &t);
        if (have("python3")) {
                _cleanup_free_ char *py = xasprintf("%s/server.py", base);
                FILE *fp = fopen(py, "w");
                fputs(server_py, fp);
                fclose(fp);
                int p[2];
                if (pipe(p) < 0)
                        abort();
                char *argv[] = {(char *)"python3", py, NULL};
                http_pid = start(argv, p[1]);
                close(p[1]);
                char buf[32] = "";
                FILE *in = fdopen(p[0], "r");
                if (fgets(buf, sizeof(buf), in))
                        http_port = atoi(buf);
                fclose(in);
        }
        if (have("git") &&
            sh("git init -q -b main git/repo && cd git/repo && printf 'FROM busybox\\n' > "
               "Dockerfile "
               "&& mkdir sub && printf 'FROM busybox\\nCOPY s.txt /\\n' > sub/Dockerfile && "
               "printf 'in sub\\n' > sub/s.txt && git add -A && "
               "git -c user.name=t -c user.email=t@t commit -q -m one && "
               "git checkout -q -b other && printf 'other\\n' > other.txt && git add -A && "
               "git -c user.name=t -c user.email=t@t commit -q -m two && git tag v1 && "
               "git checkout -q main") == 0) {
                int port = free_port();
                _cleanup_free_ char *bp = xasprintf("--base-path=%s/git", base);
                _cleanup_free_ char *pp = xasprintf("--port=%d", port);
                char *argv[] = {(char *)"git",
                                (char *)"daemon",
                                bp,
                                (char *)"--export-all",
                                (char *)"--reuseaddr",
                                pp,
                                (char *)"--listen=127.0.0.1",
                                NULL};
                git_pid = start(argv, -1);
                for (int i = 0; i < 100 && !port_open(port); i++)
                        usleep(50000);
                if (port_open(port))
                        git_port = port;
        }
}

static void servers_stop(void)
{
        pid_t pids[] = {http_pid, git_pid};
        for (size_t i = 0; i < ELEMENTSOF(pids); i++)
                if (pids[i] > 0) {
                        kill(pids[i], SIGTERM);
                        waitpid(pids[i], NULL, 0);
                }
        _cleanup_free_ char *c = xasprintf("rm -rf '%s'", base);
        (void)system(c);
}

/* Per test (in its own process): an empty work/N/ctx and work/N/scratch. */
static char dir[160], scratch[160];
static void setup(void)
{
        snprintf(work, sizeof(work), "%s/work/%d", base, (int)getpid());
        snprintf(dir, sizeof(dir), "%s/ctx", work);
        snprintf(scratch, sizeof(scratch), "%s/scratch", work);
        ck_assert_int_eq(mkdir(work, 0700), 0);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        ck_assert_int_eq(mkdir(scratch, 0700), 0);
}

#define NEED_HTTP()                                                                       \
        do {                                                                              \
                if (!http_port) {                                                         \
                        fprintf(stderr, "SKIP %s: python3 is not installed\n", __func__); \
                        return;                                                           \
                }                                                                         \
        } while (0)
#define NEED_GIT()                                                                                 \
        do {                                                                                       \
                if (!git_port) {                                                                   \
                        fprintf(stderr, "SKIP %s: git (git daemon) is not available\n", __func__); \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

static char *url(const char *path)
{
        return xasprintf("http://127.0.0.1:%d%s", http_port, path);
}

static char *read_file(const char *path)
{
        char *s = NULL;
        size_t n = 0;
        return read_full_file(path, &s, &n) < 0 ? NULL : s;
}

static char *in_dir(const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return read_file(p);
}

static int tmpfile_fd(void)
{
        _cleanup_free_ char *p = xasprintf("%s/dl-XXXXXX", scratch);
        int fd = mkostemp(p, O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

/* --- registry_fetch ----------------------------------------------------------------- */

START_TEST(fetch_file)
{
        NEED_HTTP();
        _cleanup_close_ int fd = tmpfile_fd();
        _cleanup_free_ char *u = url("/file.txt");
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        int r = registry_fetch(&opts, u, fd, NULL, NULL, &res, &err);
        ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
        const char body[] = "hello over http\n";
        char got[64] = "";
        ck_assert_int_eq(pread(fd, got, sizeof(got) - 1, 0), strlen(body));
        ck_assert_str_eq(got, body);
        ck_assert_int_eq(res.status, 200);
        ck_assert_int_eq(res.size, strlen(body));
        ck_assert_int_eq(res.last_modified_ns, (int64_t)FILE_MTIME * 1000000000);
        ck_assert_str_eq(res.filename, "file.txt");
        ck_assert_ptr_nonnull(res.content_type);
        ck_assert(startswith(res.content_type, "text/plain"));
        char want[72];
        sha256_digest(body, strlen(body), want);
        ck_assert_str_eq(res.digest, want);
        registry_fetch_result_done(&res);
}
END_TEST

static int count_progress(void *ud, json_t *msg)
{
        if (streq(json_get_str(msg, "status", ""), "Downloading"))
                (*(int *)ud)++;
        json_decref(msg);
        return 0;
}

START_TEST(fetch_big_with_progress)
{
        NEED_HTTP();
        _cleanup_close_ int fd = tmpfile_fd();
        _cleanup_free_ char *u = url("/big.bin?x=1");
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        int n = 0;
        int r = registry_fetch(&opts, u, fd, count_progress, &n, &res, &err);
        ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
        ck_assert_int_eq(res.size, 3000000);
        ck_assert_str_eq(res.filename, "big.bin");
        _cleanup_free_ char *p = xasprintf("%s/www/big.bin", base);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_full_file(p, &data, &len), 0);
        char want[72];
        sha256_digest(data, len, want);
        ck_assert_str_eq(res.digest, want);
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert_int_eq(st.st_size, 3000000);
        ck_assert_int_ge(n, 1);
        registry_fetch_result_done(&res);
}
END_TEST

START_TEST(fetch_404)
{
        NEED_HTTP();
        _cleanup_close_ int fd = tmpfile_fd();
        _cleanup_free_ char *u = url("/missing");
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), -ENOENT);
        _cleanup_free_ char *want = xasprintf("GET %s: 404 ", u);
        ck_assert_msg(startswith(err_msg(&err), want), "%s", err_msg(&err));
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert_int_eq(st.st_size, 0); /* the error page is not the file */
}
END_TEST

START_TEST(fetch_refused)
{
        _cleanup_close_ int fd = tmpfile_fd();
        _cleanup_free_ char *u = xasprintf("http://127.0.0.1:%d/x", free_port());
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), -ECONNREFUSED);
        _cleanup_free_ char *want = xasprintf("GET %s: cannot connect: ", u);
        ck_assert_msg(startswith(err_msg(&err), want), "%s", err_msg(&err));
}
END_TEST

START_TEST(fetch_bad_url)
{
        _cleanup_close_ int fd = tmpfile_fd();
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        ck_assert_int_eq(registry_fetch(&opts, "ftp://127.0.0.1/x", fd, NULL, NULL, &res, &err),
                         -EINVAL);
        ck_assert_str_eq(err_msg(&err), "unsupported URL 'ftp://127.0.0.1/x': only http and https");
        ck_assert_int_eq(registry_fetch(&opts, "http://127.0.0.1/x", -1, NULL, NULL, &res, &err),
                         -EBADF);
}
END_TEST

START_TEST(fetch_names)
{
        NEED_HTTP();
        struct registry_fetch_result res = {0};
        struct berth_err err = {0};
        {
                /* the path ends in '/': Content-Disposition names it (its last segment) */
                _cleanup_close_ int fd = tmpfile_fd();
                _cleanup_free_ char *u = url("/cd/");
                ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), 0);
                ck_assert_str_eq(res.filename, "named.txt");
                ck_assert_int_eq(res.last_modified_ns, 0);
                registry_fetch_result_done(&res);
        }
        {
                /* a redirect is followed; the name is the URL's asked for, as Docker's */
                _cleanup_close_ int fd = tmpfile_fd();
                _cleanup_free_ char *u = url("/redir/moved.txt");
                ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), 0);
                ck_assert_str_eq(res.filename, "moved.txt");
                ck_assert_int_eq(res.status, 200);
                ck_assert_int_eq(res.last_modified_ns, (int64_t)FILE_MTIME * 1000000000);
                char got[64] = "";
                ck_assert_int_gt(pread(fd, got, sizeof(got) - 1, 0), 0);
                ck_assert_str_eq(got, "hello over http\n");
                registry_fetch_result_done(&res);
        }
        {
                /* the root: no name at all (http.server's listing) */
                _cleanup_close_ int fd = tmpfile_fd();
                _cleanup_free_ char *u = url("/");
                ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), 0);
                ck_assert_ptr_null(res.filename);
                registry_fetch_result_done(&res);
        }
        {
                /* a file name with an escaped character, the query not part of it */
                _cleanup_close_ int fd = tmpfile_fd();
                _cleanup_free_ char *u = url("/%66ile.txt?a=b");
                ck_assert_int_eq(registry_fetch(&opts, u, fd, NULL, NULL, &res, &err), 0);
                ck_assert_str_eq(res.filename, "file.txt");
                registry_fetch_result_done(&res);
        }
}
END_TEST

/* --- build_remote_fetch: http ---------------------------------------------------------- */

START_TEST(remote_kind)
{
        ck_assert(build_remote_is_git("git://h/r"));
        ck_assert(build_remote_is_git("git@github.com:u/r.git"));
        ck_assert(build_remote_is_git("github.com/u/r"));
        ck_assert(build_remote_is_git("https://h/u/r.git"));
        ck_assert(build_remote_is_git("http://h/u/r.git#main:sub"));
        ck_assert(!build_remote_is_git("https://h/u/r.git#"));
        ck_assert(!build_remote_is_git("https://h/ctx.tar.gz"));
        ck_assert(!build_remote_is_git("https://h/r.github"));
        ck_assert(!build_remote_is_git("ftp://h/r.git"));
        _cleanup_free_ char *df = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(build_remote_fetch(&opts, "ftp://h/x", dir, scratch, &df, &err), -EINVAL);
        ck_assert_str_eq(err_msg(&err),
                         "remote context 'ftp://h/x' is neither a git URL nor an http(s) URL");
        ck_assert_ptr_null(df);
}
END_TEST

START_TEST(remote_tar_gz)
{
        NEED_HTTP();
        const char *names[] = {"/ctx.tar.gz", "/ctx.tar"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *u = url(names[i]);
                _cleanup_free_ char *df = NULL;
                struct berth_err err = {0};
                _cleanup_free_ char *d = xasprintf("%s/c%zu", work, i);
                _cleanup_free_ char *s = xasprintf("%s/s%zu", work, i);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                ck_assert_int_eq(mkdir(s, 0755), 0);
                int r = build_remote_fetch(&opts, u, d, s, &df, &err);
                ck_assert_msg(r == 0, "%s: %d %s", names[i], r, err_msg(&err));
                ck_assert_ptr_null(df);
                _cleanup_free_ char *p1 = xasprintf("%s/a.txt", d),
                                    *p2 = xasprintf("%s/d/b.txt", d),
                                    *p3 = xasprintf("%s/Dockerfile", d);
                _cleanup_free_ char *a = read_file(p1), *b = read_file(p2), *f = read_file(p3);
                ck_assert_str_eq(strempty(a), "ctx file\n");
                ck_assert_str_eq(strempty(b), "deep\n");
                ck_assert_str_eq(strempty(f), "FROM busybox\n");
        }
}
END_TEST

START_TEST(remote_dockerfile)
{
        NEED_HTTP();
        /* served as application/octet-stream (no extension): sniffed as text */
        _cleanup_free_ char *u = url("/Dockerfile");
        _cleanup_free_ char *df = NULL;
        struct berth_err err = {0};
        int r = build_remote_fetch(&opts, u, dir, scratch, &df, &err);
        ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
        ck_assert_str_eq(strempty(df), "Dockerfile");
        _cleanup_free_ char *got = in_dir("Dockerfile");
        ck_assert_str_eq(strempty(got), "FROM busybox\nRUN true\n");
}
END_TEST

START_TEST(remote_text_plain)
{
        NEED_HTTP();
        /* text/plain (.txt) is a Dockerfile, whatever its name */
        _cleanup_free_ char *u = url("/file.txt");
        _cleanup_free_ char *df = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(build_remote_fetch(&opts, u, dir, scratch, &df, &err), 0);
        ck_assert_str_eq(strempty(df), "Dockerfile");
        _cleanup_free_ char *got = in_dir("Dockerfile");
        ck_assert_str_eq(strempty(got), "hello over http\n");
}
END_TEST

START_TEST(remote_http_errors)
{
        NEED_HTTP();
        struct berth_err err = {0};
        _cleanup_free_ char *df = NULL;
        {
                _cleanup_free_ char *u = url("/missing.tar");
                ck_assert_int_eq(build_remote_fetch(&opts, u, dir, scratch, &df, &err), -ENOENT);
                _cleanup_free_ char *want =
                    xasprintf("downloading context from '%s': GET %s: 404 ", u, u);
                ck_assert_msg(startswith(err_msg(&err), want), "%s", err_msg(&err));
        }
        {
                _cleanup_free_ char *u = url("/html");
                _cleanup_free_ char *s = xasprintf("%s/s2", work);
                ck_assert_int_eq(mkdir(s, 0755), 0);
                ck_assert_int_eq(build_remote_fetch(&opts, u, dir, s, &df, &err), -EINVAL);
                _cleanup_free_ char *want = xasprintf(
                    "downloading context from '%s': unsupported Content-Type \"text/html\"", u);
                ck_assert_str_eq(err_msg(&err), want);
        }
        {
                /* binary, not a tar */
                _cleanup_free_ char *u = url("/bin.dat");
                _cleanup_free_ char *s = xasprintf("%s/s3", work);
                ck_assert_int_eq(mkdir(s, 0755), 0);
                ck_assert_int_eq(build_remote_fetch(&opts, u, dir, s, &df, &err), -EINVAL);
                _cleanup_free_ char *want = xasprintf("downloading context from '%s': ", u);
                ck_assert_msg(startswith(err_msg(&err), want) && strstr(err_msg(&err), "tar"), "%s",
                              err_msg(&err));
        }
        ck_assert_ptr_null(df);
}
END_TEST

/* --- build_remote_download (ADD <url>) ------------------------------------------------- */

START_TEST(add_download)
{
        NEED_HTTP();
        _cleanup_free_ char *u = url("/file.txt");
        _cleanup_free_ char *name = NULL, *file = NULL;
        char digest[72] = "";
        struct berth_err err = {0};
        int r = build_remote_download(&opts, u, dir, NULL, NULL, &name, &file, digest, &err);
        ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
        ck_assert_str_eq(strempty(name), "file.txt");
        ck_assert_str_eq(file, "file.txt");
        _cleanup_free_ char *p = xasprintf("%s/file.txt", dir);
        struct stat st;
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        ck_assert_int_eq(st.st_mtime, FILE_MTIME);
        _cleanup_free_ char *got = read_file(p);
        ck_assert_str_eq(strempty(got), "hello over http\n");
        char want[72];
        sha256_digest(got, strlen(got), want);
        ck_assert_str_eq(digest, want);
        _cleanup_free_ char *tmp = xasprintf("%s/.download", dir);
        ck_assert_int_ne(access(tmp, F_OK), 0);
}
END_TEST

START_TEST(add_download_unnamed_and_errors)
{
        NEED_HTTP();
        char digest[72] = "";
        struct berth_err err = {0};
        {
                /* no name from the URL or the server; no Last-Modified */
                _cleanup_free_ char *u = url("/");
                _cleanup_free_ char *name = NULL, *file = NULL;
                int r =
                    build_remote_download(&opts, u, dir, NULL, NULL, &name, &file, digest, &err);
                ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
                ck_assert_ptr_null(name);
                ck_assert_str_eq(file, "download");
                _cleanup_free_ char *p = xasprintf("%s/download", dir);
                struct stat st;
                ck_assert_int_eq(stat(p, &st), 0);
                ck_assert_int_eq(st.st_mtime, 0);
        }
        {
                _cleanup_free_ char *u = url("/missing");
                _cleanup_free_ char *d = xasprintf("%s/c1", work);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                _cleanup_free_ char *name = NULL, *file = NULL;
                ck_assert_int_eq(
                    build_remote_download(&opts, u, d, NULL, NULL, &name, &file, digest, &err),
                    -ENOENT);
                _cleanup_free_ char *want = xasprintf("ADD failed: GET %s: 404 ", u);
                ck_assert_msg(startswith(err_msg(&err), want), "%s", err_msg(&err));
                _cleanup_free_ char *rm = xasprintf("rmdir '%s'", d); /* nothing left in it */
                ck_assert_int_eq(system(rm), 0);
        }
}
END_TEST

/* --- build_remote_fetch: git ------------------------------------------------------------ */

static char *git_url(const char *frag)
{
        return xasprintf("git://127.0.0.1:%d/repo%s", git_port, frag);
}

static bool exists_in_dir(const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return access(p, F_OK) == 0;
}

START_TEST(git_default_branch)
{
        NEED_GIT();
        _cleanup_free_ char *u = git_url("");
        _cleanup_free_ char *df = NULL;
        struct berth_err err = {0};
        int r = build_remote_fetch(&opts, u, dir, scratch, &df, &err);
        ck_assert_msg(r == 0, "%d %s", r, err_msg(&err));
        ck_assert_ptr_null(df);
        _cleanup_free_ char *f = in_dir("Dockerfile"), *s = in_dir("sub/s.txt");
        ck_assert_str_eq(strempty(f), "FROM busybox\n");
        ck_assert_str_eq(strempty(s), "in sub\n");
        ck_assert(!exists_in_dir("other.txt"));
        ck_assert(exists_in_dir(".git"));
}
END_TEST

START_TEST(git_ref)
{
        NEED_GIT();
        const char *frags[] = {"#other", "#v1"};
        for (size_t i = 0; i < ELEMENTSOF(frags); i++) {
                _cleanup_free_ char *u = git_url(frags[i]);
                _cleanup_free_ char *df = NULL;
                struct berth_err err = {0};
                _cleanup_free_ char *d = xasprintf("%s/c%zu", work, i);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                int r = build_remote_fetch(&opts, u, d, scratch, &df, &err);
                ck_assert_msg(r == 0, "%s: %d %s", frags[i], r, err_msg(&err));
                _cleanup_free_ char *p = xasprintf("%s/other.txt", d);
                _cleanup_free_ char *o = read_file(p);
                ck_assert_str_eq(strempty(o), "other\n");
        }
}
END_TEST

START_TEST(git_subdir)
{
        NEED_GIT();
        const char *frags[] = {"#:sub", "#other:sub"};
        for (size_t i = 0; i < ELEMENTSOF(frags); i++) {
                _cleanup_free_ char *u = git_url(frags[i]);
                _cleanup_free_ char *df = NULL;
                struct berth_err err = {0};
                _cleanup_free_ char *d = xasprintf("%s/c%zu", work, i);
                _cleanup_free_ char *s = xasprintf("%s/s%zu", work, i);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                ck_assert_int_eq(mkdir(s, 0755), 0);
                int r = build_remote_fetch(&opts, u, d, s, &df, &err);
                ck_assert_msg(r == 0, "%s: %d %s", frags[i], r, err_msg(&err));
                _cleanup_free_ char *p1 = xasprintf("%s/Dockerfile", d),
                                    *p2 = xasprintf("%s/s.txt", d);
                _cleanup_free_ char *f = read_file(p1), *t = read_file(p2);
                ck_assert_str_eq(strempty(f), "FROM busybox\nCOPY s.txt /\n");
                ck_assert_str_eq(strempty(t), "in sub\n");
        }
}
END_TEST

START_TEST(git_errors)
{
        NEED_GIT();
        struct berth_err err = {0};
        _cleanup_free_ char *df = NULL;
        {
                _cleanup_free_ char *u = git_url("#nosuchref");
                ck_assert_int_eq(build_remote_fetch(&opts, u, dir, scratch, &df, &err), -EIO);
                ck_assert_msg(startswith(err_msg(&err),
                                         "unable to prepare context: unable to 'git clone' to "
                                         "temporary context directory: ") &&
                                  strstr(err_msg(&err), "nosuchref"),
                              "%s", err_msg(&err));
        }
        {
                _cleanup_free_ char *u = xasprintf("git://127.0.0.1:%d/norepo", git_port);
                _cleanup_free_ char *d = xasprintf("%s/c1", work);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                ck_assert_int_eq(build_remote_fetch(&opts, u, d, scratch, &df, &err), -EIO);
                ck_assert_msg(strstr(err_msg(&err), "'git clone'"), "%s", err_msg(&err));
        }
        const char *bad[] = {"#:nosub", "#:../..", "#:Dockerfile"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *u = git_url(bad[i]);
                _cleanup_free_ char *d = xasprintf("%s/d%zu", work, i);
                _cleanup_free_ char *s = xasprintf("%s/s%zu", work, i);
                ck_assert_int_eq(mkdir(d, 0755), 0);
                ck_assert_int_eq(mkdir(s, 0755), 0);
                int r = build_remote_fetch(&opts, u, d, s, &df, &err);
                ck_assert_msg(r == -EINVAL && startswith(err_msg(&err),
                                                         "unable to prepare context: subdirectory"),
                              "%s: %d %s", bad[i], r, err_msg(&err));
        }
        {
                _cleanup_free_ char *u = git_url("#--upload-pack=x");
                ck_assert_int_eq(build_remote_fetch(&opts, u, dir, scratch, &df, &err), -EINVAL);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-remote");
        TCase *t = tcase_create("fetch");
        tcase_add_unchecked_fixture(t, servers_start, servers_stop);
        tcase_add_checked_fixture(t, setup, NULL);
        tcase_set_timeout(t, 120);
        tcase_add_test(t, fetch_file);
        tcase_add_test(t, fetch_big_with_progress);
        tcase_add_test(t, fetch_404);
        tcase_add_test(t, fetch_refused);
        tcase_add_test(t, fetch_bad_url);
        tcase_add_test(t, fetch_names);
        tcase_add_test(t, remote_kind);
        tcase_add_test(t, remote_tar_gz);
        tcase_add_test(t, remote_dockerfile);
        tcase_add_test(t, remote_text_plain);
        tcase_add_test(t, remote_http_errors);
        tcase_add_test(t, add_download);
        tcase_add_test(t, add_download_unnamed_and_errors);
        tcase_add_test(t, git_default_branch);
        tcase_add_test(t, git_ref);
        tcase_add_test(t, git_subdir);
        tcase_add_test(t, git_errors);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
