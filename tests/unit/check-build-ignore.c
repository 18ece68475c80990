/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .dockerignore: reading, cleaning, Docker's matching rules (anchoring, *,
 * ?, **, classes, escapes, parents, exceptions with last-match-wins), the
 * walker's descend question, the build files kept, and hostile patterns. */
#include <time.h>

#include "check-main.h"
#include "build/build-ignore.h"

static struct build_ignore *ign(const char *s)
{
        struct build_ignore *ig = NULL;
        struct berth_err e = {0};
        ck_assert_msg(build_ignore_parse(s, strlen(s), &ig, &e) == 0, "%s: %s", s, e.msg);
        return ig;
}

static void bad(const char *s, const char *msg)
{
        struct build_ignore *ig = NULL;
        struct berth_err e = {0};
        ck_assert_msg(build_ignore_parse(s, strlen(s), &ig, &e) == -EINVAL, "%s: parsed", s);
        ck_assert_ptr_null(ig);
        ck_assert_msg(streq(e.msg, msg), "%s: got '%s', want '%s'", s, e.msg, msg);
}

/* Each path of `yes` is excluded, each of `no` is not. */
static void matches(const char *patterns, const char *const *yes, const char *const *no)
{
        struct build_ignore *ig = ign(patterns);
        for (; yes && *yes; yes++)
                ck_assert_msg(build_ignore_match(ig, *yes, false), "[%s] should exclude %s",
                              patterns, *yes);
        for (; no && *no; no++)
                ck_assert_msg(!build_ignore_match(ig, *no, false), "[%s] should keep %s", patterns,
                              *no);
        build_ignore_free(ig);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(reading)
{
        struct build_ignore *ig = ign("\xef\xbb\xbf# comment\n  \n/abs\n./rel\ndir/\n  spaced  \r\n"
                                      "!keep\n! spaced2\na/../b\n  # not a comment\n//x//y/.\n"
                                      "../up\n/\n");
        static const char *const want[] = {"abs",   "rel",      "dir", "spaced",
                                           "!keep", "!spaced2", "b",   "# not a comment",
                                           "x/y",   "../up",    "/"};
        ck_assert_uint_eq(build_ignore_count(ig), ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                ck_assert_str_eq(build_ignore_pattern(ig, i), want[i]);
        ck_assert_ptr_null(build_ignore_pattern(ig, ELEMENTSOF(want)));
        build_ignore_free(ig);
        ig = ign("");
        ck_assert_uint_eq(build_ignore_count(ig), 0);
        ck_assert(!build_ignore_match(ig, "anything", false));
        build_ignore_free(ig);
}
END_TEST

START_TEST(errors)
{
        bad("a\n!\n", "illegal exclusion pattern: \"!\"");
        bad("!  \n", "illegal exclusion pattern: \"!\"");
        bad("ok\n[\n", ".dockerignore line 2: syntax error in pattern \"[\"");
        bad("a[b\n", ".dockerignore line 1: syntax error in pattern \"a[b\"");
        bad("[]a]\n", ".dockerignore line 1: syntax error in pattern \"[]a]\"");
        bad("[a-]\n", ".dockerignore line 1: syntax error in pattern \"[a-]\"");
        bad("[-a]\n", ".dockerignore line 1: syntax error in pattern \"[-a]\"");
        bad("x\\\n", ".dockerignore line 1: syntax error in pattern \"x\\\"");
        struct build_ignore *ig = ign("[a-c]x\n[\\]]\n[^a]\n\\[\n");
        ck_assert_uint_eq(build_ignore_count(ig), 4);
        build_ignore_free(ig);
}
END_TEST

START_TEST(globs)
{
        matches("*.md", L("README.md", "a.md", ".md"), L("docs/a.md", "README.mdx", "md"));
        matches("**/*.md", L("a.md", "docs/a.md", "x/y/z.md"), L("a.mdx", "amd"));
        matches("docs/**", L("docs/a", "docs/a/b"), L("docs", "docsx/a", "x/docs/a"));
        matches("a/**/b", L("a/b", "a/x/b", "a/x/y/b", "a/b/c"), L("a/xb", "b", "x/a/b"));
        matches("**", L("a", "a/b", ".git"), NULL);
        /* "**" and plain characters: Docker's suffix match, not the regexp */
        matches("**.md", L("x.md", "a/b/c.md", ".md"), L("a.mdx"));
        matches("**/foo", L("foo", "a/foo", "a/b/foo/c"), L("xfoo", "foox"));
        matches("**foo", L("foo", "xfoo", "a/xfoo"), L("foox"));
        matches("?.txt", L("a.txt", "\xc3\xa9.txt"), L("ab.txt", ".txt"));
        matches("[abc].go", L("b.go"), L("d.go", "ab.go"));
        matches("[^abc].go", L("d.go"), L("a.go"));
        matches("[a-c]*", L("apple", "cat/x"), L("dog"));
        matches("a\\*b", L("a*b"), L("axb", "a\\*b"));
        matches("a\\?", L("a?"), L("ab"));
        matches("*", L("a", "a/b", ".dockerignore"), L(".", "./", ""));
        matches("*/b", L("a/b", "a/b/c"), L("b", "a/x/b"));
        /* regexp characters are literal */
        matches("a.b+(c)|{d}$", L("a.b+(c)|{d}$"), L("aXb+(c)|{d}$", "a.bb(c)|{d}$"));
        /* anchored at the root */
        matches("node_modules", L("node_modules", "node_modules/x/y"),
                L("src/node_modules", "node_modules2"));
        /* a parent that matches excludes the subtree; a trailing / is ignored */
        matches("dir/", L("dir", "dir/a", "dir/a/b"), L("dirx", "x/dir"));
        matches("/abs/x", L("abs/x", "abs/x/y"), L("abs"));
        /* paths are cleaned too */
        matches("*.md", L("./README.md", "/README.md", "x/../README.md"), NULL);
}
END_TEST

START_TEST(exceptions)
{
        /* last match wins */
        matches("*.log\n!important.log\n", L("x.log"), L("important.log", "y"));
        matches("!important.log\n*.log\n", L("x.log", "important.log"), NULL);
        matches("*\n!src\n!src/**\nsrc/*.tmp\n", L("README", "src/a.tmp"),
                L("src", "src/main.c", "src/d/e.c"));
        /* re-including inside an excluded directory */
        matches("build\n!build/keep\n", L("build", "build/other", "build/keep2"),
                L("build/keep", "build/keep/inner"));
        matches("a\n!a/b/c\n", L("a/b", "a/b/d", "a/x"), L("a/b/c", "a/b/c/d"));
        /* an exception that matches nothing changes nothing */
        matches("x\n!y\n", L("x", "x/y"), L("y"));
}
END_TEST

START_TEST(walker)
{
        struct build_ignore *ig = ign("build\n!build/keep\nsrc\n!**/*.py\nlogs\n!logsx\n");
        ck_assert(build_ignore_match(ig, "build", true));
        ck_assert(build_ignore_may_include_under(ig, "build"));
        ck_assert(build_ignore_may_include_under(ig, "build/keep"));
        ck_assert(!build_ignore_may_include_under(ig, "build/other"));
        /* Docker's walker only looks for exceptions that start with the
         * directory: the any-depth *.py exception matches src/a.py, but the
         * walker never goes into src (docker/cli#2919) */
        ck_assert(build_ignore_match(ig, "src", true));
        ck_assert(!build_ignore_match(ig, "src/a.py", false));
        ck_assert(!build_ignore_may_include_under(ig, "src"));
        /* "logsx" does not start with "logs/" */
        ck_assert(!build_ignore_may_include_under(ig, "logs"));
        ck_assert(build_ignore_may_include_under(ig, "./build/"));
        build_ignore_free(ig);
}
END_TEST

START_TEST(build_files)
{
        struct build_ignore *ig = ign("*\n");
        build_ignore_keep_build_files(ig, NULL);
        ck_assert(!build_ignore_match(ig, "Dockerfile", false));
        ck_assert(!build_ignore_match(ig, ".dockerignore", false));
        ck_assert(build_ignore_match(ig, "x", false));
        ck_assert_uint_eq(build_ignore_count(ig), 3);
        ck_assert_str_eq(build_ignore_pattern(ig, 1), "!.dockerignore");
        ck_assert_str_eq(build_ignore_pattern(ig, 2), "!Dockerfile");
        build_ignore_free(ig);
        ig = ign("sub\n.dockerignore\n");
        build_ignore_keep_build_files(ig, "sub/Dockerfile.dev");
        ck_assert(!build_ignore_match(ig, "sub/Dockerfile.dev", false));
        ck_assert(!build_ignore_match(ig, ".dockerignore", false));
        ck_assert(build_ignore_match(ig, "sub/other", false));
        ck_assert(build_ignore_may_include_under(ig, "sub"));
        build_ignore_free(ig);
        /* nothing added when nothing excludes them */
        ig = ign("*.o\n");
        build_ignore_keep_build_files(ig, NULL);
        ck_assert_uint_eq(build_ignore_count(ig), 1);
        build_ignore_free(ig);
}
END_TEST

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(hostile)
{
        double t0 = now_s();
        /* patterns that make backtracking matchers explode */
        struct build_ignore *ig = ign("*a*a*a*a*a*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/x\n");
        size_t n = 20000;
        char *p = xmalloc(n + 1);
        memset(p, 'a', n);
        p[n] = 0;
        ck_assert(!build_ignore_match(ig, p, false));
        for (size_t i = 1; i < n; i += 2)
                p[i] = '/';
        ck_assert(!build_ignore_match(ig, p, false));
        p[n - 2] = 'x'; /* ".../a/x" */
        p[n - 1] = 0;
        ck_assert(build_ignore_match(ig, p, false));
        free(p);
        build_ignore_free(ig);
        /* random pattern files: parse or fail cleanly, then match */
        static const char alphabet[] = "ab/*?[]^-\\!# \n.\xc3\xa9";
        uint64_t rng = 42;
        char buf[512];
        for (int iter = 0; iter < 20000; iter++) {
                size_t len = 0;
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                len = (rng >> 33) % sizeof(buf);
                for (size_t i = 0; i < len; i++) {
                        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                        buf[i] = alphabet[(rng >> 33) % (sizeof(alphabet) - 1)];
                }
                struct berth_err e = {0};
                ig = NULL;
                if (build_ignore_parse(buf, len, &ig, &e) < 0) {
                        ck_assert(e.msg[0]);
                        continue;
                }
                build_ignore_match(ig, "a/b/ab/\xc3\xa9/a", false);
                build_ignore_may_include_under(ig, "a/b");
                build_ignore_free(ig);
        }
        ck_assert_msg(now_s() - t0 < 20, "took %.1f s", now_s() - t0);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-ignore");
        TCase *tc = tcase_create("ignore");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, reading);
        tcase_add_test(tc, errors);
        tcase_add_test(tc, globs);
        tcase_add_test(tc, exceptions);
        tcase_add_test(tc, walker);
        tcase_add_test(tc, build_files);
        tcase_add_test(tc, hostile);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
