/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* COPY and ADD sources: the globs (plain paths, * ? classes, nested
 * components, escapes, bad patterns, no match, symlinks that point out of
 * the root) and the digest the cache keys on (what counts and what does
 * not). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check-main.h"
#include "base/util.h"
#include "build/build-source.h"

static char root[64];
static int rootfd = -1;

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *c = NULL;
        ck_assert(vasprintf(&c, fmt, ap) >= 0);
        va_end(ap);
        _cleanup_free_ char *full = xasprintf("cd '%s' && %s", root, c);
        ck_assert_msg(system(full) == 0, "command failed: %s", c);
}

/* A fresh root with the tree of the tests. */
static void setup(void)
{
        strcpy(root, "/tmp/berth-check-source.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        sh("mkdir -p dir/sub dir/other b1 c2 'we*rd' && echo a > a.txt && echo b > b.txt && "
           "echo c > c.md && echo x > dir/x.txt && echo y > dir/y.txt && echo z > dir/sub/z.txt && "
           "echo o > dir/other/o.txt && echo w > 'we*rd/f' && echo s > 'star*' && echo . > "
           ".hidden");
}

static void teardown(void)
{
        close(rootfd);
        _cleanup_free_ char *c = xasprintf("rm -rf '%s'", root);
        ck_assert_int_eq(system(c), 0);
}

/* The glob's answer, joined with ' '. */
static char *glob_str(const char *pattern)
{
        char **v = NULL;
        struct berth_err e = {0};
        int r = build_source_glob(rootfd, pattern, &v, &e);
        ck_assert_msg(r == 0, "%s: %s", pattern, e.msg);
        size_t len = 1;
        for (char **p = v; *p; p++)
                len += strlen(*p) + 1;
        char *s = xzalloc(len);
        for (char **p = v; *p; p++) {
                if (p != v)
                        strcat(s, " ");
                strcat(s, *p);
        }
        strv_free(v);
        return s;
}

static void glob_is(const char *pattern, const char *want)
{
        _cleanup_free_ char *got = glob_str(pattern);
        ck_assert_msg(streq(got, want), "%s: got '%s', want '%s'", pattern, got, want);
}

static void glob_fails(const char *pattern, int code, const char *msg)
{
        char **v = NULL;
        struct berth_err e = {0};
        int r = build_source_glob(rootfd, pattern, &v, &e);
        ck_assert_msg(r == code, "%s: got %d (%s), want %d", pattern, r, e.msg, code);
        ck_assert_ptr_null(v);
        ck_assert_msg(streq(e.msg, msg), "%s: got '%s', want '%s'", pattern, e.msg, msg);
}

START_TEST(plain_paths)
{
        glob_is("a.txt", "a.txt");
        glob_is("./a.txt", "a.txt");
        glob_is("/a.txt", "a.txt");
        glob_is("dir/sub/../x.txt", "dir/x.txt");
        glob_is("../a.txt", "a.txt"); /* cleaned at the root */
        glob_is(".", ".");
        glob_is("dir/", "dir");
        /* an escape alone does not make a glob (Docker's containsWildcards):
         * the path is taken as it is, backslash and all */
        sh("echo q > 'back\\slash'");
        glob_is("back\\slash", "back\\slash");
        glob_fails("missing.txt", -ENOENT,
                   "file not found in build context or excluded by .dockerignore: stat "
                   "missing.txt: file does not exist");
        glob_fails("dir/nope", -ENOENT,
                   "file not found in build context or excluded by .dockerignore: stat "
                   "dir/nope: file does not exist");
}
END_TEST

START_TEST(wildcards)
{
        glob_is("*.txt", "a.txt b.txt");
        glob_is("?.txt", "a.txt b.txt");
        glob_is("[a-b].*", "a.txt b.txt");
        glob_is("[a-c].*", "a.txt b.txt c.md");
        glob_is("[^a].txt", "b.txt");
        glob_is("[!a].txt", "a.txt"); /* Go has no '!' negation: a class of '!' and 'a' */
        glob_is("dir/*.txt", "dir/x.txt dir/y.txt");
        glob_is("dir/*/*.txt", "dir/other/o.txt dir/sub/z.txt");
        glob_is("*/*.txt", "dir/x.txt dir/y.txt");
        /* '*' matches a leading dot, as Go's Match does */
        glob_is(".h*", ".hidden");
        /* directories match like files; order is Go's Walk order */
        glob_is("[bc][12]", "b1 c2");
        glob_is("d*", "dir");
        /* escapes: a literal '*' in a glob; without another wildcard the
         * path is plain, backslash and all (Docker's containsWildcards) */
        glob_is("s?ar\\*", "star*");
        glob_fails("star\\*", -ENOENT,
                   "file not found in build context or excluded by .dockerignore: stat "
                   "star\\*: file does not exist");
        glob_is("we\\*rd/*", "we*rd/f");
        glob_is("./dir/../*.md", "c.md");
        /* "**" is two '*' in filepath.Match: no '/' crossed, no suffix rule */
        glob_is("d**", "dir");
        glob_is("**.txt", "a.txt b.txt");
        glob_is("**/x.txt", "dir/x.txt");
}
END_TEST

START_TEST(wildcards_order)
{
        /* Go's Walk visits "a" (and all under it) before "a.b": sorted by
         * component, not by the whole string */
        sh("mkdir -p o/a o/a.b && touch o/a/f o/a.b/f");
        glob_is("o/*/f", "o/a/f o/a.b/f");
}
END_TEST

START_TEST(glob_errors)
{
        glob_fails("*.nothing", -ENOENT, "no source files were specified");
        glob_fails("nodir/*", -ENOENT, "no source files were specified");
        glob_fails("a.txt/*", -ENOENT, "no source files were specified");
        glob_fails("[", -EINVAL, "syntax error in pattern");
        glob_fails("[a-", -EINVAL, "syntax error in pattern");
        glob_fails("[]a]", -EINVAL, "syntax error in pattern");
        glob_fails("*[", -EINVAL, "syntax error in pattern");
        glob_fails("x/[z-", -EINVAL, "syntax error in pattern");
        /* a bad pattern is bad even where an earlier component matches
         * nothing (Go checks the whole pattern) */
        glob_fails("nodir*/[", -EINVAL, "syntax error in pattern");
        glob_fails("*\\", -EINVAL, "syntax error in pattern");
}
END_TEST

START_TEST(symlinks_stay_inside)
{
        /* a host file the links aim at */
        _cleanup_free_ char *outside = xasprintf("%s.outside", root);
        ck_assert_int_eq(mkdir(outside, 0755), 0);
        _cleanup_free_ char *secret = xasprintf("%s/secret", outside);
        ck_assert_int_eq(write_file_atomic(secret, "s", 1, 0644), 0);
        sh("ln -s '%s' abs && ln -s ../../../../../../../../.. rel && ln -s dir dlink", outside);

        /* a plain path through a link is resolved inside the root */
        glob_fails("abs/secret", -ENOENT,
                   "file not found in build context or excluded by .dockerignore: stat "
                   "abs/secret: file does not exist");
        glob_fails("rel/secret", -ENOENT,
                   "file not found in build context or excluded by .dockerignore: stat "
                   "rel/secret: file does not exist");
        /* "rel" resolved in the root is the root: its a.txt, not the host's */
        glob_is("rel/a.txt", "rel/a.txt");
        glob_is("dlink/x.txt", "dlink/x.txt");
        /* the link itself is a source (not followed) */
        glob_is("abs", "abs");
        /* a glob never walks into a symlink, as Go's Walk */
        glob_fails("abs/*", -ENOENT, "no source files were specified");
        glob_fails("dlink/*", -ENOENT, "no source files were specified");
        glob_is("*link", "dlink");

        /* and the digest of "abs/secret" does not reach the host file */
        char d[72];
        struct berth_err e = {0};
        ck_assert_int_eq(build_source_digest(rootfd, "abs/secret", false, d, &e), -ENOENT);
        _cleanup_free_ char *c = xasprintf("rm -rf '%s'", outside);
        ck_assert_int_eq(system(c), 0);
}
END_TEST

static void resolves(const char *path, const char *want)
{
        _cleanup_free_ char *got = NULL;
        struct berth_err e = {0};
        int r = build_source_resolve(rootfd, path, &got, &e);
        ck_assert_msg(r == 0, "%s: %s", path, e.msg);
        ck_assert_msg(streq(got, want), "%s: got '%s', want '%s'", path, got, want);
}

START_TEST(resolve)
{
        _cleanup_free_ char *outside = xasprintf("%s.outside", root);
        ck_assert_int_eq(mkdir(outside, 0755), 0);
        _cleanup_free_ char *secret = xasprintf("%s/secret", outside);
        ck_assert_int_eq(write_file_atomic(secret, "s", 1, 0644), 0);
        sh("ln -s a.txt link && ln -s link link2 && ln -s /dir/x.txt absin && "
           "ln -s ../../../../../../.. up && ln -s '%s/secret' out && ln -s dir dlink && "
           "ln -s nothing dangling",
           outside);
        resolves("a.txt", "a.txt");
        resolves("link", "a.txt");
        resolves("link2", "a.txt");
        resolves("absin", "dir/x.txt");
        resolves("up", ".");
        resolves("up/a.txt", "a.txt");
        resolves("dlink/x.txt", "dir/x.txt");
        resolves("dlink", "dir");
        resolves(".", ".");
        resolves("../dir/sub/..", "dir");
        struct berth_err e = {0};
        char *got = NULL;
        ck_assert_int_eq(build_source_resolve(rootfd, "out", &got, &e), -ENOENT);
        ck_assert_str_eq(e.msg, "file not found in build context or excluded by .dockerignore: "
                                "stat out: file does not exist");
        ck_assert_int_eq(build_source_resolve(rootfd, "dangling", &got, &e), -ENOENT);
        ck_assert_int_eq(build_source_resolve(rootfd, "a.txt/x", &got, &e), -ENOENT);
        ck_assert_ptr_null(got);
        /* the host file has a twin inside the root: that one is found */
        sh("mkdir -p '.%s' && echo inner > '.%s/secret'", outside, outside);
        _cleanup_free_ char *twin = xasprintf("%s/secret", outside + 1);
        resolves("out", twin);
        _cleanup_free_ char *c = xasprintf("rm -rf '%s'", outside);
        ck_assert_int_eq(system(c), 0);
}
END_TEST

/* --- digest --------------------------------------------------------------- */

static void digest(const char *path, bool keep_owner, char out[72])
{
        struct berth_err e = {0};
        int r = build_source_digest(rootfd, path, keep_owner, out, &e);
        ck_assert_msg(r == 0, "%s: %s", path, e.msg);
        ck_assert_msg(strncmp(out, "sha256:", 7) == 0 && strlen(out) == 71, "%s", out);
}

#define SAME(a, b) ck_assert_msg(streq(a, b), "digests differ: %s %s", a, b)
#define DIFF(a, b) ck_assert_msg(!streq(a, b), "digests are the same: %s", a)

START_TEST(digest_same_tree)
{
        char d1[72], d2[72], d3[72];
        digest("dir", false, d1);
        digest("dir", false, d2);
        SAME(d1, d2);
        /* an identical copy elsewhere: the source's own name does not count */
        sh("cp -a dir dir2");
        digest("dir2", false, d3);
        SAME(d1, d3);
        /* files and the root */
        digest("a.txt", false, d1);
        digest("./a.txt", false, d2);
        SAME(d1, d2);
        digest(".", false, d1);
        digest("", false, d2);
        SAME(d1, d2);
}
END_TEST

START_TEST(digest_mtime_ignored)
{
        char d1[72], d2[72];
        digest("dir", true, d1);
        sh("touch -d '2001-01-01' dir/x.txt dir/sub dir && touch dir/y.txt");
        digest("dir", true, d2);
        SAME(d1, d2);
}
END_TEST

START_TEST(digest_mode)
{
        char d1[72], d2[72], d3[72];
        digest("dir", false, d1);
        sh("chmod 600 dir/sub/z.txt");
        digest("dir", false, d2);
        DIFF(d1, d2);
        sh("chmod 700 dir/sub");
        digest("dir", false, d3);
        DIFF(d2, d3);
        digest("a.txt", false, d1);
        sh("chmod +x a.txt");
        digest("a.txt", false, d2);
        DIFF(d1, d2);
}
END_TEST

START_TEST(digest_content)
{
        char d1[72], d2[72], d3[72];
        digest("dir", false, d1);
        sh("echo X > dir/sub/z.txt"); /* same size, other bytes */
        digest("dir", false, d2);
        DIFF(d1, d2);
        sh("echo XX > dir/sub/z.txt");
        digest("dir", false, d3);
        DIFF(d2, d3);
        /* a new empty file counts, an empty directory too */
        sh("touch dir/new");
        digest("dir", false, d1);
        DIFF(d1, d3);
        sh("mkdir dir/emptydir");
        digest("dir", false, d2);
        DIFF(d1, d2);
}
END_TEST

START_TEST(digest_owner)
{
        char d1[72], d2[72], d3[72], d4[72];
        digest("dir", false, d1);
        digest("dir", true, d2);
        sh("chown 1234:5678 dir/x.txt");
        digest("dir", false, d3);
        digest("dir", true, d4);
        SAME(d1, d3);
        DIFF(d2, d4);
        sh("chown 1234:0 dir/x.txt");
        digest("dir", true, d1);
        DIFF(d1, d4); /* the group alone */
}
END_TEST

START_TEST(digest_rename)
{
        char d1[72], d2[72];
        digest("dir", false, d1);
        sh("mv dir/x.txt dir/w.txt");
        digest("dir", false, d2);
        DIFF(d1, d2);
        /* moving a file into a subdirectory */
        sh("mv dir/w.txt dir/x.txt");
        digest("dir", false, d2);
        SAME(d1, d2);
        sh("mv dir/x.txt dir/sub/x.txt");
        digest("dir", false, d2);
        DIFF(d1, d2);
}
END_TEST

START_TEST(digest_symlink)
{
        char d1[72], d2[72], d3[72];
        sh("ln -s a.txt link");
        digest("link", false, d1);
        /* a link is not followed: its target's content does not count */
        sh("echo changed > a.txt");
        digest("link", false, d2);
        SAME(d1, d2);
        /* its target does */
        sh("ln -sfn b.txt link");
        digest("link", false, d3);
        DIFF(d2, d3);
        /* a file and a link to it differ */
        digest("b.txt", false, d1);
        DIFF(d1, d3);
        /* inside a directory */
        sh("ln -s x.txt dir/l");
        digest("dir", false, d1);
        sh("ln -sfn y.txt dir/l");
        digest("dir", false, d2);
        DIFF(d1, d2);
        /* a directory behind a link in the path: resolved inside the root */
        sh("ln -s dir dlink");
        digest("dlink/x.txt", false, d1);
        digest("dir/x.txt", false, d2);
        SAME(d1, d2);
}
END_TEST

START_TEST(digest_xattrs)
{
        char d1[72], d2[72], d3[72];
        _cleanup_free_ char *f = xasprintf("%s/dir/x.txt", root);
        digest("dir", false, d1);
        if (setxattr(f, "user.k", "v", 1, 0) < 0) {
                ck_assert_msg(errno == ENOTSUP || errno == EOPNOTSUPP, "setxattr: %m");
                return; /* /tmp without user xattrs */
        }
        digest("dir", false, d2);
        DIFF(d1, d2);
        ck_assert_int_eq(setxattr(f, "user.k", "w", 1, 0), 0);
        digest("dir", false, d3);
        DIFF(d2, d3);
        /* trusted.* is not the source's */
        ck_assert_int_eq(removexattr(f, "user.k"), 0);
        if (setxattr(f, "trusted.overlay.x", "y", 1, 0) == 0) {
                digest("dir", false, d2);
                SAME(d1, d2);
        }
}
END_TEST

START_TEST(digest_special)
{
        char d1[72], d2[72];
        sh("mkfifo dir/fifo");
        digest("dir", false, d1); /* a FIFO is not opened (it would hang) */
        sh("rm dir/fifo && mknod dir/fifo c 1 3");
        digest("dir", false, d2);
        DIFF(d1, d2);
        sh("rm dir/fifo && mknod dir/fifo c 1 5");
        digest("dir", false, d1);
        DIFF(d1, d2);
        struct berth_err e = {0};
        ck_assert_int_eq(build_source_digest(rootfd, "nope", false, d1, &e), -ENOENT);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-source");
        TCase *tc = tcase_create("glob");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, plain_paths);
        tcase_add_test(tc, wildcards);
        tcase_add_test(tc, wildcards_order);
        tcase_add_test(tc, glob_errors);
        tcase_add_test(tc, symlinks_stay_inside);
        tcase_add_test(tc, resolve);
        suite_add_tcase(s, tc);
        tc = tcase_create("digest");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, digest_same_tree);
        tcase_add_test(tc, digest_mtime_ignored);
        tcase_add_test(tc, digest_mode);
        tcase_add_test(tc, digest_content);
        tcase_add_test(tc, digest_owner);
        tcase_add_test(tc, digest_rename);
        tcase_add_test(tc, digest_symlink);
        tcase_add_test(tc, digest_xattrs);
        tcase_add_test(tc, digest_special);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
