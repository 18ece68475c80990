/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth build's client side: the POST /build query against what the
 * docker CLI 20.10 sent for the same flags (recorded), the checks on its
 * input (tags, stdin sniffing, git URLs, sizes), and the context tar that
 * berth-tar makes (.dockerignore applied, the build files kept, owners
 * 0:0, the docker CLI's header fields, an outside Dockerfile added). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-main.h"
#include "cli-build.h"
#include "base/util.h"
#include "tar/tar-helper.h"

/* recorded from docker 20.10.24: DOCKER_BUILDKIT=0 docker build ctx */
static const char docker_default[] =
    "?buildargs=%7B%7D&cachefrom=%5B%5D&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&"
    "cpusetmems=&cpushares=0&dockerfile=Dockerfile&labels=%7B%7D&memory=0&memswap=0&"
    "networkmode=default&rm=1&shmsize=0&target=&ulimits=null&version=1";

/* X=5 docker build -t a/b:1 -t c --build-arg X --build-arg Y --build-arg
 * Z=1 --label l=v --label k --target t --no-cache --pull -q --network host
 * --add-host h:1.2.3.4 --add-host i:::1 --shm-size 64m --cache-from img1
 * --platform Linux/amd64 --force-rm -m 100m --memory-swap -1 --cpu-shares 5
 * --cpuset-cpus 0 --cpu-period 1000 --cpu-quota 500 --cgroup-parent cg
 * --ulimit nofile=10:20 --rm=false ctx */
static const char docker_all[] =
    "?buildargs=%7B%22X%22%3A%225%22%2C%22Y%22%3Anull%2C%22Z%22%3A%221%22%7D&cachefrom=%5B%"
    "22img1%22%5D&cgroupparent=cg&cpuperiod=1000&cpuquota=500&cpusetcpus=0&cpusetmems=&"
    "cpushares=5&dockerfile=Dockerfile&extrahosts=h%3A1.2.3.4&extrahosts=i%3A%3A%3A1&forcerm=1&"
    "labels=%7B%22k%22%3A%22%22%2C%22l%22%3A%22v%22%7D&memory=104857600&memswap=-1&networkmode="
    "host&nocache=1&platform=linux%2Famd64&pull=1&q=1&rm=0&shmsize=67108864&t=a%2Fb%3A1&t=c&"
    "target=t&ulimits=%5B%7B%22Name%22%3A%22nofile%22%2C%22Hard%22%3A20%2C%22Soft%22%3A10%7D%5D&"
    "version=1";

#define L(...) ((char *[]){__VA_ARGS__, NULL})

START_TEST(query_as_docker)
{
        struct berth_err err = {0};
        char *q = NULL;
        struct cli_build_query d = {.dockerfile = "Dockerfile", .rm = true};
        ck_assert_int_eq(cli_build_query_string(&d, &q, &err), 0);
        ck_assert_str_eq(q, docker_default);
        free(q);

        setenv("X", "5", 1);
        unsetenv("Y");
        struct cli_build_query all = {
            .tags = L("a/b:1", "c"),
            .build_args = L("X", "Y", "Z=1"),
            .labels = L("l=v", "k"),
            .cache_from = L("img1"),
            .extra_hosts = L("h:1.2.3.4", "i:::1"),
            .ulimits = L("nofile=10:20"),
            .dockerfile = "Dockerfile",
            .target = "t",
            .network = "host",
            .platform = "Linux/amd64",
            .cgroup_parent = "cg",
            .cpuset_cpus = "0",
            .memory = "100m",
            .memory_swap = "-1",
            .shm_size = "64m",
            .cpu_shares = 5,
            .cpu_period = 1000,
            .cpu_quota = 500,
            .quiet = true,
            .no_cache = true,
            .pull = true,
            .rm = false,
            .force_rm = true,
        };
        ck_assert_int_eq(cli_build_query_string(&all, &q, &err), 0);
        ck_assert_str_eq(q, docker_all);
        free(q);

        /* Go's json.Marshal escapes <, > and &; url.QueryEscape the rest */
        struct cli_build_query h = {.build_args = L("A=<&> x"), .rm = true, .remote = "http://h/c"};
        ck_assert_int_eq(cli_build_query_string(&h, &q, &err), 0);
        ck_assert_ptr_nonnull(
            strstr(q, "?buildargs=%7B%22A%22%3A%22%5Cu003c%5Cu0026%5Cu003e+x%22%7D&"));
        ck_assert_ptr_nonnull(strstr(q, "&remote=http%3A%2F%2Fh%2Fc&rm=1&"));
        free(q);

        struct cli_build_query bad = {.build_args = L("=x")};
        ck_assert_int_eq(cli_build_query_string(&bad, &q, &err), -EINVAL);
        ck_assert_str_eq(err.msg, "invalid argument \"=x\" for \"--build-arg\" flag: invalid "
                                  "environment variable: =x");
        struct cli_build_query badmem = {.memory = "lots"};
        ck_assert_int_eq(cli_build_query_string(&badmem, &q, &err), -EINVAL);
        ck_assert_str_eq(err.msg, "invalid argument \"lots\" for \"-m, --memory\" flag: invalid "
                                  "size: 'lots'");
}
END_TEST

START_TEST(input_checks)
{
        struct berth_err err = {0};
        ck_assert_int_eq(cli_build_check_tag("a/b:1", &err), 0);
        ck_assert_int_eq(cli_build_check_tag("localhost:5000/x/y:v1.0", &err), 0);
        ck_assert_int_eq(cli_build_check_tag("Abc", &err), -EINVAL);
        ck_assert_str_eq(err.msg, "invalid reference format: repository name must be lowercase");
        ck_assert_int_eq(cli_build_check_tag("a b", &err), -EINVAL);
        ck_assert_str_eq(err.msg, "invalid reference format");

        char s[32];
        const struct {
                int64_t n;
                const char *want;
        } sizes[] = {
            {0, "0B"},          {999, "999B"},      {2048, "2.048kB"},    {3072, "3.072kB"},
            {10240, "10.24kB"}, {61952, "61.95kB"}, {1048576, "1.049MB"}, {123456789, "123.5MB"}};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                cli_build_human_size(sizes[i].n, s, sizeof(s));
                ck_assert_str_eq(s, sizes[i].want);
        }

        unsigned char buf[1024] = {0};
        ck_assert(!cli_build_is_archive((const unsigned char *)"FROM busybox\n", 13));
        ck_assert(cli_build_is_archive((const unsigned char *)"\x1f\x8b\x08\0", 4));
        ck_assert(cli_build_is_archive((const unsigned char *)"\xfd"
                                                              "7zXZ\0",
                                       6));
        ck_assert(!cli_build_is_archive(buf, sizeof(buf))); /* zeros: no header */
        memcpy(buf, "Dockerfile", 10);
        memcpy(buf + 100, "0000644", 7);
        buf[156] = '0';
        memcpy(buf + 257, "ustar", 6);
        unsigned sum = 0;
        memset(buf + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += buf[i];
        snprintf((char *)buf + 148, 8, "%06o", sum);
        ck_assert(cli_build_is_archive(buf, sizeof(buf)));
        buf[0] = 'X'; /* the checksum no longer adds up */
        ck_assert(!cli_build_is_archive(buf, sizeof(buf)));

        ck_assert(cli_build_is_git_url("git://host/r"));
        ck_assert(cli_build_is_git_url("git@github.com:o/r.git"));
        ck_assert(cli_build_is_git_url("github.com/o/r"));
        ck_assert(cli_build_is_git_url("https://h/o/r.git"));
        ck_assert(cli_build_is_git_url("https://h/o/r.git#main:sub"));
        ck_assert(!cli_build_is_git_url("https://h/o/ctx.tar.gz"));
        ck_assert(!cli_build_is_git_url("ctx.git"));
        char *url, *ref, *sub;
        cli_build_git_split("github.com/o/r#v1:a/b", &url, &ref, &sub);
        ck_assert_str_eq(url, "https://github.com/o/r");
        ck_assert_str_eq(ref, "v1");
        ck_assert_str_eq(sub, "a/b");
        free(url), free(ref), free(sub);
        cli_build_git_split("git://h/r.git#:dir", &url, &ref, &sub);
        ck_assert_str_eq(url, "git://h/r.git");
        ck_assert_ptr_null(ref);
        ck_assert_str_eq(sub, "dir");
        free(url), free(ref), free(sub);
        cli_build_git_split("git://h/r.git", &url, &ref, &sub);
        ck_assert_ptr_null(ref);
        ck_assert_ptr_null(sub);
        free(url);
}
END_TEST

/* --- the context tar ------------------------------------------------------ */

struct entry {
        char name[256];
        unsigned mode;
        unsigned uid, gid;
        char uname[33];
        char type;
        char *data;
        size_t size;
};

static unsigned long octal(const unsigned char *p, size_t n)
{
        unsigned long v = 0;
        for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
                v = v * 8 + (unsigned long)(p[i] - '0');
        return v;
}

/* a ustar reader, enough for short names (no pax records expected) */
static size_t read_tar(const char *path, struct entry *out, size_t max, size_t *ret_bytes)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_full_file(path, &data, &len), 0);
        *ret_bytes = len;
        size_t n = 0;
        for (size_t off = 0; off + 512 <= len;) {
                const unsigned char *h = (const unsigned char *)data + off;
                if (!h[0])
                        break;
                ck_assert_msg(h[156] != 'x' && h[156] != 'L', "unexpected extended header");
                ck_assert_int_lt(n, max);
                struct entry *e = &out[n++];
                memset(e, 0, sizeof(*e));
                snprintf(e->name, sizeof(e->name), "%.100s", (const char *)h);
                e->mode = (unsigned)octal(h + 100, 8);
                e->uid = (unsigned)octal(h + 108, 8);
                e->gid = (unsigned)octal(h + 116, 8);
                snprintf(e->uname, sizeof(e->uname), "%.32s", (const char *)h + 265);
                e->type = (char)h[156];
                e->size = octal(h + 124, 12);
                e->data = xstrndup(data + off + 512, e->size);
                off += 512 + (e->size + 511) / 512 * 512;
        }
        return n;
}

static void put(const char *dir, const char *name, const char *content)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        fclose(f);
}

static const struct entry *find(const struct entry *e, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(e[i].name, name))
                        return &e[i];
        return NULL;
}

static char tmpdir[64];

static void make_context(void)
{
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/check-build-cli-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        _cleanup_free_ char *d = xasprintf("%s/ctx", tmpdir);
        ck_assert_int_eq(mkdir(d, 0755), 0);
        _cleanup_free_ char *sub = xasprintf("%s/sub", d);
        ck_assert_int_eq(mkdir(sub, 0750), 0);
        _cleanup_free_ char *skip = xasprintf("%s/skip", d);
        ck_assert_int_eq(mkdir(skip, 0755), 0);
        _cleanup_free_ char *nm = xasprintf("%s/node_modules", d);
        ck_assert_int_eq(mkdir(nm, 0755), 0);
        put(d, "Dockerfile", "FROM busybox\n");
        put(d, "a.md", "a");
        put(d, "b.txt", "b");
        put(d, "sub/c.md", "c");
        put(d, "sub/d", "d");
        put(d, "skip/s", "s");
        put(d, "skip/keep.md", "k");
        put(d, "node_modules/m", "m");
        put(d, ".dockerignore", "*.md\n**/*.md\nskip\n!skip/keep.md\nnode_modules\nDockerfile\n");
        _cleanup_free_ char *ln = xasprintf("%s/link", d);
        ck_assert_int_eq(symlink("b.txt", ln), 0);
        _cleanup_free_ char *owned = xasprintf("%s/b.txt", d);
        ck_assert_int_eq(chown(owned, 1234, 4321), 0);
        ck_assert_int_eq(chmod(owned, 0640), 0);
}

static void pack_z(const char *dockerfile, const char *extra_name, const char *extra_content,
                   bool gzip, const char *out)
{
        _cleanup_free_ char *d = xasprintf("%s/ctx", tmpdir);
        _cleanup_close_ int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(dfd, 0);
        ck_assert_int_ge(ofd, 0);
        int efd = -1;
        if (extra_content) {
                _cleanup_free_ char *ef = xasprintf("%s/outside", tmpdir);
                put(tmpdir, "outside", extra_content);
                efd = open(ef, O_RDONLY | O_CLOEXEC);
        }
        struct berth_err err = {0};
        int64_t files = 0, bytes = 0;
        int r = tar_pack_context(dfd, dockerfile, extra_name, efd, gzip, ofd, &files, &bytes, &err);
        ck_assert_msg(r == 0, "tar_pack_context: %s", err.msg);
        struct stat st;
        ck_assert_int_eq(fstat(ofd, &st), 0);
        ck_assert_int_eq(bytes, st.st_size);
        ck_assert_int_gt(files, 0);
        safe_close(efd);
}

static void pack(const char *dockerfile, const char *extra_name, const char *extra_content,
                 const char *out)
{
        pack_z(dockerfile, extra_name, extra_content, false, out);
}

START_TEST(context_dockerignore)
{
        make_context();
        _cleanup_free_ char *out = xasprintf("%s/ctx.tar", tmpdir);
        pack(NULL, NULL, NULL, out);
        struct entry e[32];
        size_t bytes;
        size_t n = read_tar(out, e, 32, &bytes);
        /* in byte order, excluded ones gone, an exception inside an excluded
         * directory kept without the directory, the Dockerfile and
         * .dockerignore kept although excluded */
        const char *want[] = {".dockerignore", "Dockerfile", "b.txt", "link",
                              "skip/keep.md",  "sub/",       "sub/d"};
        ck_assert_int_eq(n, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(e[i].name, want[i]);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(e[i].uid, 0);
                ck_assert_int_eq(e[i].gid, 0);
        }
        /* the mode field carries the type bits, as the docker CLI writes it */
        ck_assert_int_eq(find(e, n, "b.txt")->mode, 0100640);
        ck_assert_int_eq(find(e, n, "sub/")->mode, 040750);
        ck_assert_int_eq(find(e, n, "link")->mode & 0170000, 0120000);
        ck_assert_int_eq(find(e, n, "link")->type, '2');
        ck_assert_str_eq(find(e, n, "Dockerfile")->data, "FROM busybox\n");
        /* no padding to a 10 KiB block: records and the two zero blocks */
        ck_assert_int_eq(bytes % 512, 0);
        ck_assert_int_lt(bytes, 10240);
        for (size_t i = 0; i < n; i++)
                free(e[i].data);

        /* --compress: the same tar, gzip-compressed */
        _cleanup_free_ char *gz = xasprintf("%s/ctx.tar.gz", tmpdir);
        pack_z(NULL, NULL, NULL, true, gz);
        _cleanup_free_ char *gzdata = NULL;
        size_t gzlen = 0;
        ck_assert_int_eq(read_full_file(gz, &gzdata, &gzlen), 0);
        ck_assert_int_gt(gzlen, 2);
        ck_assert_int_eq((unsigned char)gzdata[0], 0x1f);
        ck_assert_int_eq((unsigned char)gzdata[1], 0x8b);
        _cleanup_free_ char *unz = xasprintf("gzip -dc '%s' > '%s/unz.tar'", gz, tmpdir);
        ck_assert_int_eq(system(unz), 0);
        _cleanup_free_ char *unzp = xasprintf("%s/unz.tar", tmpdir);
        _cleanup_free_ char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        ck_assert_int_eq(read_full_file(out, &a, &al), 0);
        ck_assert_int_eq(read_full_file(unzp, &b, &bl), 0);
        ck_assert_int_eq(al, bl);
        ck_assert(memcmp(a, b, al) == 0);

        /* -f sub/d: that one is kept, Dockerfile is not */
        _cleanup_free_ char *ign = xasprintf("%s/ctx/.dockerignore", tmpdir);
        put(tmpdir, "ctx/.dockerignore", "Dockerfile\nsub\n.dockerignore\n");
        pack("sub/d", NULL, NULL, out);
        n = read_tar(out, e, 32, &bytes);
        ck_assert_ptr_nonnull(find(e, n, "sub/d"));
        ck_assert_ptr_nonnull(find(e, n, ".dockerignore"));
        ck_assert_ptr_null(find(e, n, "Dockerfile"));
        ck_assert_ptr_null(find(e, n, "sub/"));
        ck_assert_ptr_null(find(e, n, "sub/c.md"));
        for (size_t i = 0; i < n; i++)
                free(e[i].data);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(context_outside_dockerfile)
{
        make_context();
        _cleanup_free_ char *out = xasprintf("%s/ctx.tar", tmpdir);
        pack(".dockerfile.0123456789abcdef0123", ".dockerfile.0123456789abcdef0123",
             "FROM scratch\n", out);
        struct entry e[32];
        size_t bytes;
        size_t n = read_tar(out, e, 32, &bytes);
        /* added last, 0600; listed in the .dockerignore that is sent; the
         * context's own Dockerfile stays excluded */
        ck_assert_str_eq(e[n - 1].name, ".dockerfile.0123456789abcdef0123");
        ck_assert_str_eq(e[n - 1].data, "FROM scratch\n");
        ck_assert_int_eq(e[n - 1].mode & 07777, 0600);
        ck_assert_int_eq(e[n - 1].uid, 0);
        ck_assert_ptr_null(find(e, n, "Dockerfile"));
        ck_assert_str_eq(find(e, n, ".dockerignore")->data,
                         "*.md\n**/*.md\nskip\n!skip/keep.md\nnode_modules\nDockerfile\n"
                         "\n.dockerfile.0123456789abcdef0123\n");
        for (size_t i = 0; i < n; i++)
                free(e[i].data);

        /* no .dockerignore in the context: one is added, naming itself too */
        _cleanup_free_ char *ign = xasprintf("%s/ctx/.dockerignore", tmpdir);
        ck_assert_int_eq(unlink(ign), 0);
        pack(".dockerfile.x", ".dockerfile.x", "FROM scratch\n", out);
        n = read_tar(out, e, 32, &bytes);
        ck_assert_str_eq(e[n - 2].name, ".dockerfile.x");
        ck_assert_str_eq(e[n - 1].name, ".dockerignore");
        ck_assert_str_eq(e[n - 1].data, ".dockerignore\n.dockerfile.x\n");
        ck_assert_ptr_nonnull(find(e, n, "Dockerfile")); /* nothing excludes it now */
        ck_assert_ptr_nonnull(find(e, n, "a.md"));
        for (size_t i = 0; i < n; i++)
                free(e[i].data);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(context_bad_dockerignore)
{
        make_context();
        put(tmpdir, "ctx/.dockerignore", "a\n!\n");
        _cleanup_free_ char *d = xasprintf("%s/ctx", tmpdir);
        _cleanup_close_ int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *out = xasprintf("%s/ctx.tar", tmpdir);
        _cleanup_close_ int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        struct berth_err err = {0};
        ck_assert_int_eq(tar_pack_context(dfd, NULL, NULL, -1, false, ofd, NULL, NULL, &err),
                         -EINVAL);
        ck_assert_msg(strstr(err.msg, ".dockerignore") && strstr(err.msg, "illegal exclusion"),
                      "%s", err.msg);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-cli");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, query_as_docker);
        tcase_add_test(tc, input_checks);
        tcase_add_test(tc, context_dockerignore);
        tcase_add_test(tc, context_outside_dockerfile);
        tcase_add_test(tc, context_bad_dockerignore);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
