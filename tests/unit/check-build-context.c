/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's tar work for builds, through the real berth-tar: the build
 * context unpacked (plain and compressed, owners and modes kept, not a tar,
 * truncated, hostile entries refused with nothing written outside) and
 * COPY sources packed (naming, owner and mode overrides, excludes,
 * symlinks, resolution inside the root). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check-main.h"
#include "base/util.h"
#include "tar/tar-helper.h"

static char base[64]; /* holds ctx/ (the destination) and out/ (a canary) */
static char ctx[96], outside[96];

static void setup(void)
{
        strcpy(base, "/tmp/berth-check-ctx.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(base));
        snprintf(ctx, sizeof(ctx), "%s/ctx", base);
        snprintf(outside, sizeof(outside), "%s/out", base);
        ck_assert_int_eq(mkdir(ctx, 0755), 0);
        ck_assert_int_eq(mkdir(outside, 0755), 0);
}

static void teardown(void)
{
        _cleanup_free_ char *c = xasprintf("rm -rf '%s'", base);
        ck_assert_int_eq(system(c), 0);
}

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = NULL;
        ck_assert(vasprintf(&c, fmt, ap) >= 0);
        va_end(ap);
        _cleanup_free_ char *full = xasprintf("cd '%s' && %s", base, c);
        ck_assert_msg(system(full) == 0, "command failed: %s", c);
}

/* --- making tars ---------------------------------------------------------- */

struct ent {
        const char *name;
        mode_t type; /* AE_IF*; 0: a file */
        const char *data;
        const char *link;     /* symlink target */
        const char *hardlink; /* hard link target */
        int mode, uid, gid;   /* 0: 0644, root */
        int major, minor;
};

enum { PLAIN, GZIP, BZIP2, XZ, ZSTD };

static int memfd(void)
{
        int fd = memfd_create("tar", MFD_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static int make_tar(const struct ent *ents, int filter)
{
        int fd = memfd();
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        switch (filter) {
        case GZIP:
                archive_write_add_filter_gzip(a);
                break;
        case BZIP2:
                archive_write_add_filter_bzip2(a);
                break;
        case XZ:
                archive_write_add_filter_xz(a);
                break;
        case ZSTD:
                archive_write_add_filter_zstd(a);
                break;
        }
        ck_assert_int_eq(archive_write_open_fd(a, fd), ARCHIVE_OK);
        for (const struct ent *e = ents; e->name; e++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e->name);
                archive_entry_set_filetype(ae, e->type ? e->type : AE_IFREG);
                archive_entry_set_perm(ae, e->mode ? (mode_t)e->mode : 0644);
                archive_entry_set_uid(ae, e->uid);
                archive_entry_set_gid(ae, e->gid);
                archive_entry_set_mtime(ae, 1000000000, 0);
                if (e->link)
                        archive_entry_set_symlink(ae, e->link);
                if (e->hardlink)
                        archive_entry_set_hardlink(ae, e->hardlink);
                if (e->major || e->minor)
                        archive_entry_set_rdev(ae, makedev(e->major, e->minor));
                size_t n = e->data ? strlen(e->data) : 0;
                archive_entry_set_size(ae, (la_int64_t)n);
                ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
                if (n)
                        ck_assert_int_eq(archive_write_data(a, e->data, n), (la_ssize_t)n);
                archive_entry_free(ae);
        }
        ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static int bytes_fd(const void *p, size_t n)
{
        int fd = memfd();
        ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* The first n bytes of what fd holds, in a new fd. */
static int cut(int fd, off_t n)
{
        char *buf = xmalloc((size_t)n);
        ck_assert_int_eq(pread(fd, buf, (size_t)n, 0), n);
        int r = bytes_fd(buf, (size_t)n);
        free(buf);
        return r;
}

static off_t fd_size(int fd)
{
        struct stat st;
        ck_assert_int_eq(fstat(fd, &st), 0);
        return st.st_size;
}

/* --- unpacking ------------------------------------------------------------ */

static const struct ent CONTEXT[] = {
    {.name = "Dockerfile", .data = "FROM scratch\n"},
    {.name = "d/", .type = AE_IFDIR, .mode = 0750, .uid = 1000, .gid = 2000},
    {.name = "d/f", .data = "hello", .mode = 0600, .uid = 1000, .gid = 2000},
    {.name = "l", .type = AE_IFLNK, .link = "d/f"},
    {.name = "abs", .type = AE_IFLNK, .link = "/etc/passwd"},
    {.name = "h", .hardlink = "d/f"},
    {.name = ".wh.x", .data = "not a whiteout"},
    {.name = "./e/deep/er", .data = "x"},
    {0},
};

static void check_context(void)
{
        struct stat st;
        _cleanup_free_ char *f = xasprintf("%s/d/f", ctx);
        ck_assert_int_eq(lstat(f, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        ck_assert_int_eq(st.st_uid, 1000);
        ck_assert_int_eq(st.st_gid, 2000);
        ck_assert_int_eq(st.st_size, 5);
        ck_assert_int_eq(st.st_mtime, 1000000000);
        ck_assert_int_eq(st.st_nlink, 2); /* h */
        _cleanup_free_ char *d = xasprintf("%s/d", ctx);
        ck_assert_int_eq(lstat(d, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0750);
        ck_assert_int_eq(st.st_mtime, 1000000000);
        char t[64] = {0};
        _cleanup_free_ char *l = xasprintf("%s/abs", ctx);
        ck_assert_int_eq(readlink(l, t, sizeof(t) - 1), 11);
        ck_assert_str_eq(t, "/etc/passwd");
        _cleanup_free_ char *wh = xasprintf("%s/.wh.x", ctx);
        ck_assert_int_eq(lstat(wh, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        _cleanup_free_ char *e = xasprintf("%s/e/deep/er", ctx);
        ck_assert_int_eq(access(e, F_OK), 0);
}

static void unpack_ok(int fd, int64_t want_size)
{
        struct berth_err err = {0};
        int64_t size = -1;
        int r = tar_context_unpack(fd, ctx, &size, &err);
        ck_assert_msg(r == 0, "unpack: %s", err.msg);
        ck_assert_int_eq(size, want_size);
        close(fd);
}

START_TEST(context_plain)
{
        /* 13 + 5 + 14 + 1 bytes of files; the hard link holds none */
        unpack_ok(make_tar(CONTEXT, PLAIN), 33);
        check_context();
}
END_TEST

START_TEST(context_compressed)
{
        static const int filters[] = {GZIP, BZIP2, XZ, ZSTD};
        for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
                sh("rm -rf ctx && mkdir ctx");
                unpack_ok(make_tar(CONTEXT, filters[i]), 33);
                check_context();
        }
}
END_TEST

START_TEST(context_empty)
{
        /* an empty body is an empty context; so is a tar with no entries */
        unpack_ok(bytes_fd("", 0), 0);
        unpack_ok(make_tar((const struct ent[]){{0}}, PLAIN), 0);
        unpack_ok(make_tar((const struct ent[]){{0}}, GZIP), 0);
}
END_TEST

static int planted; /* files the test itself put in out/ */

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* The unpack fails with code and message (exactly, or its start when the
 * message ends with '('), and nothing is left outside ctx. */
static void refused(int fd, int code, const char *msg)
{
        struct berth_err err = {0};
        int r = tar_context_unpack(fd, ctx, NULL, &err);
        close(fd);
        ck_assert_msg(r == code, "got %d (%s), want %d", r, err.msg, code);
        if (endswith(msg, "("))
                ck_assert_msg(startswith(err.msg, msg), "got '%s', want '%s...'", err.msg, msg);
        else
                ck_assert_msg(streq(err.msg, msg), "got '%s', want '%s'", err.msg, msg);
        /* the base holds ctx/ and out/ and nothing more; out/ is empty */
        ck_assert_msg(count_entries(base) == 2 && count_entries(outside) == planted,
                      "something was written outside the context (%s: %d entries, %s: %d)", base,
                      count_entries(base), outside, count_entries(outside));
}

START_TEST(context_not_tar)
{
        static const char text[] = "this is not a tar archive, just some text\n";
        refused(bytes_fd(text, sizeof(text) - 1), -EINVAL,
                "the build context is not a tar archive (Unrecognized archive format)");
        /* compressed text: the decompressor takes it, no tar reader does */
        sh("printf 'just text\\n' | gzip > text.gz && printf 'text\\n' | xz > text.xz");
        _cleanup_free_ char *gz = xasprintf("%s/text.gz", base);
        _cleanup_free_ char *xz = xasprintf("%s/text.xz", base);
        int fd = open(gz, O_RDONLY | O_CLOEXEC), fd2 = open(xz, O_RDONLY | O_CLOEXEC);
        ck_assert(fd >= 0 && fd2 >= 0);
        unlink(gz);
        unlink(xz);
        refused(fd, -EINVAL,
                "the build context is not a tar archive (Unrecognized archive format)");
        refused(fd2, -EINVAL,
                "the build context is not a tar archive (Unrecognized archive format)");
        /* a JSON body, as a confused client sends */
        refused(bytes_fd("{\"a\": 1}", 8), -EINVAL,
                "the build context is not a tar archive (Unrecognized archive format)");
}
END_TEST

START_TEST(context_truncated)
{
        static const struct ent big[] = {
            {.name = "a",
             .data = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
            {.name = "b",
             .data = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},
            {0},
        };
        int fd = make_tar(big, PLAIN);
        /* in the second entry's header, then in its data */
        int t1 = cut(fd, fd_size(fd) > 1536 ? 1024 + 700 : 700);
        refused(t1, -EINVAL, "the build context tar is truncated or corrupt (");
        sh("rm -rf ctx && mkdir ctx");
        close(fd);

        /* a file's data cut short: pax header (512) + its data (512) +
         * header of a (512) + a bit of its data */
        static const struct ent one[] = {{.name = "a", .data = "0123456789"}, {0}};
        fd = make_tar(one, PLAIN);
        int t2 = cut(fd, 512 + 5);
        struct berth_err err = {0};
        int r = tar_context_unpack(t2, ctx, NULL, &err);
        close(t2);
        close(fd);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_msg(strstr(err.msg, "truncated"), "%s", err.msg);
        sh("rm -rf ctx && mkdir ctx");

        /* compressed streams cut short */
        static const int filters[] = {GZIP, BZIP2, XZ, ZSTD};
        for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
                fd = make_tar(CONTEXT, filters[i]);
                refused(cut(fd, fd_size(fd) / 2), -EINVAL,
                        "the build context tar is truncated or corrupt (");
                close(fd);
                sh("rm -rf ctx && mkdir ctx");
        }
}
END_TEST

START_TEST(context_hostile)
{
        refused(make_tar((const struct ent[]){{.name = "../escape", .data = "x"}, {0}}, PLAIN),
                -EINVAL,
                "build context: tar entry '../escape' would land outside the context (absolute "
                "path or '..')");
        refused(make_tar((const struct ent[]){{.name = "a/../../escape", .data = "x"}, {0}}, GZIP),
                -EINVAL,
                "build context: tar entry 'a/../../escape' would land outside the context "
                "(absolute path or '..')");
        _cleanup_free_ char *abs = xasprintf("%s/escape", outside);
        _cleanup_free_ char *abs_msg = xasprintf(
            "build context: tar entry '%s' would land outside the context (absolute path or '..')",
            abs);
        refused(make_tar((const struct ent[]){{.name = abs, .data = "x"}, {0}}, PLAIN), -EINVAL,
                abs_msg);

        /* a symlink, then a file through it: absolute and relative */
        refused(make_tar((const struct ent[]){{.name = "l", .type = AE_IFLNK, .link = outside},
                                              {.name = "l/pwned", .data = "x"},
                                              {0}},
                         PLAIN),
                -EINVAL,
                "build context: tar entry 'l/pwned' goes through the symlink 'l' (it would land "
                "outside the context)");
        sh("rm -rf ctx && mkdir ctx");
        refused(
            make_tar((const struct ent[]){{.name = "d/", .type = AE_IFDIR},
                                          {.name = "d/l", .type = AE_IFLNK, .link = "../../out"},
                                          {.name = "d/l/sub/pwned", .data = "x"},
                                          {0}},
                     XZ),
            -EINVAL,
            "build context: tar entry 'd/l/sub/pwned' goes through the symlink 'd/l' (it would "
            "land outside the context)");
        sh("rm -rf ctx && mkdir ctx");

        /* hard links out: by '..', by an absolute name, through a symlink */
        refused(make_tar((const struct ent[]){{.name = "h", .hardlink = "../out/x"}, {0}}, PLAIN),
                -EINVAL, "build context: hard link 'h' -> '../out/x' points outside the context");
        refused(
            make_tar((const struct ent[]){{.name = "h", .hardlink = "/etc/passwd"}, {0}}, PLAIN),
            -EINVAL, "build context: hard link 'h' -> '/etc/passwd' points outside the context");
        sh("echo secret > out/x");
        planted = 1;
        refused(
            make_tar((const struct ent[]){{.name = "l", .type = AE_IFLNK, .link = outside},
                                          {.name = "h", .hardlink = "l/x"},
                                          {0}},
                     PLAIN),
            -EINVAL,
            "build context: tar entry 'l/x' goes through the symlink 'l' (it would land outside "
            "the context)");
        sh("rm out/x && rm -rf ctx && mkdir ctx");
        planted = 0;

        /* device files and FIFOs */
        refused(
            make_tar(
                (const struct ent[]){
                    {.name = "dev/null", .type = AE_IFCHR, .major = 1, .minor = 3, .mode = 0666},
                    {0}},
                PLAIN),
            -EINVAL, "build context: 'dev/null' is a device file");
        refused(make_tar((const struct ent[]){{.name = "sda", .type = AE_IFBLK, .major = 8}, {0}},
                         GZIP),
                -EINVAL, "build context: 'sda' is a device file");
        refused(make_tar((const struct ent[]){{.name = "p", .type = AE_IFIFO}, {0}}, PLAIN),
                -EINVAL, "build context: 'p' is a FIFO");
        _cleanup_free_ char *dev = xasprintf("%s/dev/null", ctx);
        _cleanup_free_ char *blk = xasprintf("%s/sda", ctx);
        _cleanup_free_ char *fifo = xasprintf("%s/p", ctx);
        ck_assert(access(dev, F_OK) < 0 && access(blk, F_OK) < 0 && access(fifo, F_OK) < 0);
}
END_TEST

/* Tars from another writer (Python's tarfile, GNU format: long names in
 * ././@LongLink entries), as docker-py sends them. */
START_TEST(context_python_tars)
{
        if (system("command -v python3 >/dev/null") != 0)
                return;
        sh("python3 - <<'EOF'\n"
           "import io, tarfile\n"
           "def mk(name, entries):\n"
           "    with tarfile.open(name, 'w', format=tarfile.GNU_FORMAT) as t:\n"
           "        for e in entries:\n"
           "            ti = tarfile.TarInfo(e['name']); ti.type = e.get('type', tarfile.REGTYPE)\n"
           "            ti.linkname = e.get('link', ''); data = e.get('data', b'')\n"
           "            ti.uid = e.get('uid', 0); ti.mode = e.get('mode', 0o644)\n"
           "            if ti.type == tarfile.REGTYPE: ti.size = len(data)\n"
           "            ti.devmajor, ti.devminor = e.get('dev', (0, 0))\n"
           "            t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)\n"
           "long = 'x' * 150\n"
           "mk('ok.tar', [{'name': long + '/f', 'data': b'hi', 'uid': 4242, 'mode': 0o600},\n"
           "              {'name': 'Dockerfile', 'data': b'FROM scratch'}])\n"
           "mk('longdotdot.tar', [{'name': long + '/../../' + long, 'data': b'x'}])\n"
           "mk('sym.tar', [{'name': 'l', 'type': tarfile.SYMTYPE, 'link': '../out'},\n"
           "               {'name': 'l/' + long, 'data': b'x'}])\n"
           "mk('hard.tar', [{'name': 'h', 'type': tarfile.LNKTYPE, 'link': '../out/' + long}])\n"
           "mk('dev.tar', [{'name': 'zero', 'type': tarfile.CHRTYPE, 'dev': (1, 5)}])\n"
           "EOF");
        const char *names[] = {"ok", "longdotdot", "sym", "hard", "dev"};
        int fds[5];
        for (size_t i = 0; i < 5; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s.tar", base, names[i]);
                fds[i] = open(p, O_RDONLY | O_CLOEXEC);
                ck_assert_int_ge(fds[i], 0);
                unlink(p);
        }
        unpack_ok(fds[0], 14);
        char lng[151];
        memset(lng, 'x', 150);
        lng[150] = 0;
        _cleanup_free_ char *f = xasprintf("%s/%s/f", ctx, lng);
        struct stat st;
        ck_assert_int_eq(lstat(f, &st), 0);
        ck_assert_int_eq(st.st_uid, 4242);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        sh("rm -rf ctx && mkdir ctx");
        _cleanup_free_ char *m1 = xasprintf("build context: tar entry '%s/../../%s' would land "
                                            "outside the context (absolute path or '..')",
                                            lng, lng);
        refused(fds[1], -EINVAL, m1);
        _cleanup_free_ char *m2 = xasprintf("build context: tar entry 'l/%s' goes through the "
                                            "symlink 'l' (it would land outside the context)",
                                            lng);
        refused(fds[2], -EINVAL, m2);
        _cleanup_free_ char *m3 = xasprintf(
            "build context: hard link 'h' -> '../out/%s' points outside the context", lng);
        refused(fds[3], -EINVAL, m3);
        refused(fds[4], -EINVAL, "build context: 'zero' is a device file");
}
END_TEST

/* --- packing COPY sources ------------------------------------------------- */

static int srcfd = -1;

static void setup_src(void)
{
        setup();
        sh("mkdir -p src/sub && cd src && printf a > a.txt && printf '#!/bin/sh\n' > run.sh && "
           "chmod 755 run.sh && chown 1234:5678 run.sh && printf b > sub/b.log && "
           "printf k > sub/keep.log && chmod 700 sub && ln -s a.txt l && ln -s /etc abs && "
           "ln -s sub dl && printf h > .hidden && ln a.txt hard && mkfifo fifo && "
           "touch -h -d '2001-09-09 01:46:40 UTC' a.txt sub l");
        _cleanup_free_ char *src = xasprintf("%s/src", base);
        srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(srcfd, 0);
        _cleanup_free_ char *a = xasprintf("%s/src/a.txt", base);
        (void)setxattr(a, "user.k", "v", 1, 0);
}

static void teardown_src(void)
{
        close(srcfd);
        teardown();
}

/* The tar tar_pack_copy writes, one line per entry: "name type perm
 * uid:gid [-> target] [=data] [xattr]". */
static int pack(const char *name, const char *top, const struct tar_copy_opts *o, char **ret,
                struct berth_err *err)
{
        int fd = memfd();
        int r = tar_pack_copy(srcfd, name, top, o, fd, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_format_empty(a);
        ck_assert_int_eq(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
        struct archive_entry *e;
        _cleanup_free_ char *out = xstrdup("");
        int ar;
        while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                mode_t t = archive_entry_filetype(e);
                char data[64] = "";
                if (t == AE_IFREG) {
                        la_ssize_t n = archive_read_data(a, data, sizeof(data) - 1);
                        ck_assert_int_ge(n, 0);
                        data[n] = 0;
                }
                const char *k = NULL;
                const void *v;
                size_t vl;
                bool xa = archive_entry_xattr_reset(e) > 0 &&
                          archive_entry_xattr_next(e, &k, &v, &vl) == ARCHIVE_OK;
                char *line =
                    xasprintf("%s%s %c %04o %ld:%ld%s%s%s%s%s\n", out, archive_entry_pathname(e),
                              t == AE_IFDIR   ? 'd'
                              : t == AE_IFLNK ? 'l'
                              : t == AE_IFREG ? 'f'
                                              : 'o',
                              (unsigned)archive_entry_perm(e), (long)archive_entry_uid(e),
                              (long)archive_entry_gid(e), t == AE_IFLNK ? " -> " : "",
                              t == AE_IFLNK ? archive_entry_symlink(e) : "",
                              t == AE_IFREG ? " =" : "", data, xa ? " xattr" : "");
                free(out);
                out = line;
        }
        ck_assert_int_eq(ar, ARCHIVE_EOF);
        archive_read_free(a);
        close(fd);
        *ret = TAKE_PTR(out);
        return 0;
}

/* xattrs only where the file system takes user.* (checked once) */
static const char *XA(void)
{
        _cleanup_free_ char *a = xasprintf("%s/src/a.txt", base);
        char v[4];
        return getxattr(a, "user.k", v, sizeof(v)) == 1 ? " xattr" : "";
}

static void pack_is(const char *name, const char *top, const struct tar_copy_opts *o,
                    const char *want)
{
        _cleanup_free_ char *got = NULL;
        struct berth_err err = {0};
        int r = pack(name, top, o, &got, &err);
        ck_assert_msg(r == 0, "pack %s: %s", name, err.msg);
        ck_assert_msg(streq(got, want), "pack '%s' as '%s':\n--- got\n%s--- want\n%s", name, top,
                      got, want);
}

START_TEST(copy_dir_naming)
{
        _cleanup_free_ char *flat = xasprintf(".hidden f 0644 0:0 =h\n"
                                              "a.txt f 0644 0:0 =a%s\n"
                                              "abs l 0777 0:0 -> /etc\n"
                                              "dl l 0777 0:0 -> sub\n"
                                              "hard f 0644 0:0 =a%s\n"
                                              "l l 0777 0:0 -> a.txt\n"
                                              "run.sh f 0755 1234:5678 =#!/bin/sh\n\n"
                                              "sub/ d 0700 0:0\n"
                                              "sub/b.log f 0644 0:0 =b\n"
                                              "sub/keep.log f 0644 0:0 =k\n",
                                              XA(), XA());
        /* top "": the contents only; the FIFO is there too */
        _cleanup_free_ char *got = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(pack("", "", NULL, &got, &err), 0);
        ck_assert_ptr_nonnull(strstr(got, "fifo o 0644 0:0\n"));
        /* (the FIFO aside, to compare the rest) */
        sh("rm src/fifo");
        pack_is(".", "", NULL, flat);
        pack_is("", "", NULL, flat);
        pack_is("sub/..", "", NULL, flat);
        /* top "x": the directory itself as "x", then x/... */
        _cleanup_free_ char *topped = xstrdup("x/ d 0755 0:0\n");
        for (char *l = flat, *nl; *l; l = nl + 1) {
                nl = strchr(l, '\n');
                if (startswith(l, "run.sh")) /* its content holds a newline */
                        nl = strchr(nl + 1, '\n');
                char *t = xasprintf("%sx/%.*s", topped, (int)(nl - l + 1), l);
                free(topped);
                topped = t;
        }
        pack_is(".", "x", NULL, topped);
        pack_is("sub", "", NULL, "b.log f 0644 0:0 =b\nkeep.log f 0644 0:0 =k\n");
        pack_is(
            "sub", "app/dst", NULL,
            "app/dst/ d 0700 0:0\napp/dst/b.log f 0644 0:0 =b\napp/dst/keep.log f 0644 0:0 =k\n");
}
END_TEST

START_TEST(copy_file_naming)
{
        _cleanup_free_ char *a = xasprintf("a.txt f 0644 0:0 =a%s\n", XA());
        _cleanup_free_ char *d = xasprintf("dst.txt f 0644 0:0 =a%s\n", XA());
        pack_is("a.txt", "", NULL, a);
        pack_is("a.txt", "dst.txt", NULL, d);
        pack_is("sub/b.log", "", NULL, "b.log f 0644 0:0 =b\n");
        /* a symlink is stored, not followed, also at the top */
        pack_is("l", "", NULL, "l l 0777 0:0 -> a.txt\n");
        pack_is("abs", "etc", NULL, "etc l 0777 0:0 -> /etc\n");
        /* a symlink on the way is resolved inside the source root */
        pack_is("dl/b.log", "", NULL, "b.log f 0644 0:0 =b\n");
        struct berth_err err = {0};
        _cleanup_free_ char *got = NULL;
        ck_assert_int_eq(pack("abs/passwd", "", NULL, &got, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "COPY source 'abs/passwd': No such file or directory");
        ck_assert_int_eq(pack("nope", "", NULL, &got, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "COPY source 'nope': No such file or directory");
}
END_TEST

START_TEST(copy_overrides)
{
        sh("rm src/fifo");
        const struct tar_copy_opts o = {.uid = 1000, .gid = 2000, .mode = 0640};
        _cleanup_free_ char *want = xasprintf("x/ d 0640 1000:2000\n"
                                              "x/.hidden f 0640 1000:2000 =h\n"
                                              "x/a.txt f 0640 1000:2000 =a%s\n"
                                              "x/abs l 0777 1000:2000 -> /etc\n"
                                              "x/dl l 0777 1000:2000 -> sub\n"
                                              "x/hard f 0640 1000:2000 =a%s\n"
                                              "x/l l 0777 1000:2000 -> a.txt\n"
                                              "x/run.sh f 0640 1000:2000 =#!/bin/sh\n\n"
                                              "x/sub/ d 0640 1000:2000\n"
                                              "x/sub/b.log f 0640 1000:2000 =b\n"
                                              "x/sub/keep.log f 0640 1000:2000 =k\n",
                                              XA(), XA());
        pack_is("", "x", &o, want);
        /* -1: each its own; the owner alone, the mode alone */
        pack_is("run.sh", "", &(struct tar_copy_opts){.uid = 0, .gid = -1, .mode = -1},
                "run.sh f 0755 0:5678 =#!/bin/sh\n\n");
        pack_is("run.sh", "", &(struct tar_copy_opts){.uid = -1, .gid = -1, .mode = 04711},
                "run.sh f 4711 1234:5678 =#!/bin/sh\n\n");
        pack_is("l", "", &(struct tar_copy_opts){.uid = 5, .gid = 6, .mode = 0600},
                "l l 0777 5:6 -> a.txt\n");
}
END_TEST

static struct tar_copy_opts excl(const char *const *patterns)
{
        return (struct tar_copy_opts){.uid = -1, .gid = -1, .mode = -1, .exclude = patterns};
}

#define PATS(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(copy_excludes)
{
        sh("rm src/fifo src/.hidden src/hard src/abs src/dl src/run.sh");
        _cleanup_free_ char *a = xasprintf("a.txt f 0644 0:0 =a%s\n", XA());
        char *want = NULL;

        struct tar_copy_opts o = excl(PATS("*.log"));
        /* '*' does not cross '/': sub/b.log stays */
        want = xasprintf("%sl l 0777 0:0 -> a.txt\nsub/ d 0700 0:0\nsub/b.log f 0644 0:0 =b\n"
                         "sub/keep.log f 0644 0:0 =k\n",
                         a);
        pack_is("", "", &o, want);
        free(want);

        o = excl(PATS("**/*.log", "!sub/keep.log"));
        want =
            xasprintf("%sl l 0777 0:0 -> a.txt\nsub/ d 0700 0:0\nsub/keep.log f 0644 0:0 =k\n", a);
        pack_is("", "", &o, want);
        free(want);

        /* a directory excluded whole */
        o = excl(PATS("sub", "l"));
        pack_is("", "", &o, a);

        /* excluded, but an exception reaches inside: the directory's own
         * entry is left out, what the exception keeps is there */
        o = excl(PATS("sub", "!sub/keep.log"));
        want = xasprintf("%sl l 0777 0:0 -> a.txt\nsub/keep.log f 0644 0:0 =k\n", a);
        pack_is("", "", &o, want);
        free(want);

        /* relative to the source, with a top */
        o = excl(PATS("b.*"));
        pack_is("sub", "d", &o, "d/ d 0700 0:0\nd/keep.log f 0644 0:0 =k\n");

        /* a file source matched by its own name: nothing */
        o = excl(PATS("*.txt"));
        pack_is("a.txt", "", &o, "");
        pack_is("a.txt", "other", &o, "");
        o = excl(PATS("*.log"));
        pack_is("a.txt", "", &o, a);

        /* a bad pattern */
        o = excl(PATS("ok", "[z-"));
        struct berth_err err = {0};
        _cleanup_free_ char *got = NULL;
        ck_assert_int_eq(pack("", "", &o, &got, &err), -EINVAL);
        ck_assert_str_eq(err.msg, "COPY --exclude: syntax error in pattern \"[z-\"");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-context");
        TCase *tc = tcase_create("unpack");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, context_plain);
        tcase_add_test(tc, context_compressed);
        tcase_add_test(tc, context_empty);
        tcase_add_test(tc, context_not_tar);
        tcase_add_test(tc, context_truncated);
        tcase_add_test(tc, context_hostile);
        tcase_add_test(tc, context_python_tars);
        suite_add_tcase(s, tc);
        tc = tcase_create("copy");
        tcase_add_checked_fixture(tc, setup_src, teardown_src);
        tcase_add_test(tc, copy_dir_naming);
        tcase_add_test(tc, copy_file_naming);
        tcase_add_test(tc, copy_overrides);
        tcase_add_test(tc, copy_excludes);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
