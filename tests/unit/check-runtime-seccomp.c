/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seccomp: compiling linux.seccomp, its errors, and the compiled-filter cache. */
#include <linux/seccomp.h>
#include <sys/stat.h>

#include "check-main.h"
#include "runtime/runtime-internal.h"

static json_t *load(const char *text)
{
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        ck_assert_msg(j != NULL, "%s", je.text);
        return j;
}

#define PROFILE                                                                                   \
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"                            \
        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"                             \
        "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"                                                \
        "\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\",\"no_such_call_xyz\"],"      \
        "\"action\":\"SCMP_ACT_ALLOW\"},"                                                         \
        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"      \
        "\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"                                                  \
        "{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"            \
        "\"value\":2114060288,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"                   \
        "{\"names\":[\"kill\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,\"value\":9," \
        "\"op\":\"SCMP_CMP_EQ\"},{\"index\":1,\"value\":15,\"op\":\"SCMP_CMP_EQ\"}]},"            \
        "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"

START_TEST(test_compile)
{
        json_t *j = load(PROFILE);
        struct rt_bpf b;
        struct berth_err e = {0};
        ck_assert_msg(rt_seccomp_compile(j, &b, &e) == 0, "%s", err_msg(&e));
        ck_assert_uint_gt(b.len, 10);
        ck_assert_ptr_nonnull(b.insns);
        ck_assert_uint_eq(b.flags, SECCOMP_FILTER_FLAG_LOG);
        rt_bpf_done(&b);
        json_decref(j);
}
END_TEST

static const struct {
        const char *json, *msg;
} bad[] = {
    {"{}", "'defaultAction' is missing"},
    {"{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "unknown defaultAction 'SCMP_ACT_MAYBE'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
     "unknown architecture 'SCMP_ARCH_VAX'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}",
     "unknown flag 'SECCOMP_FILTER_FLAG_FAST'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"]}]}",
     "syscalls[0] has no 'action'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_KILL\"}]}",
     "syscalls[0] needs 'names'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
     "\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
     "args[0] needs 'index' (0-5)"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
     "\"action\":\"SCMP_ACT_KILL\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
     "unknown op 'SCMP_CMP_XX'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x\"}",
     "listenerPath (SCMP_ACT_NOTIFY) is not supported"},
};

START_TEST(test_bad)
{
        json_t *j = load(bad[_i].json);
        struct rt_bpf b;
        struct berth_err e = {0};
        int r = rt_seccomp_compile(j, &b, &e);
        ck_assert_int_lt(r, 0);
        ck_assert_int_eq(r, e.code);
        ck_assert_msg(strstr(e.msg, bad[_i].msg), "'%s' lacks '%s'", e.msg, bad[_i].msg);
        ck_assert_ptr_null(b.insns);
        json_decref(j);
}
END_TEST

START_TEST(test_cache)
{
        char dir[] = "/tmp/berth-rt-unit-seccomp.XXXXXX";
        json_t *j = load(PROFILE);
        struct rt_bpf a, b, c;
        struct berth_err e = {0};
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
        ck_assert_int_eq(rt_seccomp_compile_cached(j, cache, &a, &e), 0);
        DIR *d = opendir(cache);
        struct dirent *de;
        char *file = NULL;
        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (endswith(de->d_name, ".bpf"))
                        file = xasprintf("%s/%s", cache, de->d_name);
        closedir(d);
        ck_assert_ptr_nonnull(file);
        ck_assert_int_eq(rt_seccomp_compile_cached(j, cache, &b, &e), 0);
        ck_assert_uint_eq(a.len, b.len);
        ck_assert_uint_eq(a.flags, b.flags);
        ck_assert_int_eq(memcmp(a.insns, b.insns, a.len * sizeof(struct sock_filter)), 0);
        /* A damaged entry is ignored and replaced. */
        ck_assert_int_eq(write_file_atomic(file, "garbage", 7, 0600), 0);
        ck_assert_int_eq(rt_seccomp_compile_cached(j, cache, &c, &e), 0);
        ck_assert_uint_eq(a.len, c.len);
        ck_assert_int_eq(memcmp(a.insns, c.insns, a.len * sizeof(struct sock_filter)), 0);
        struct stat st;
        ck_assert_int_eq(stat(file, &st), 0);
        ck_assert_int_gt(st.st_size, 7);
        rt_bpf_done(&a);
        rt_bpf_done(&b);
        rt_bpf_done(&c);
        json_decref(j);
        unlink(file);
        free(file);
        rmdir(cache);
        rmdir(dir);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("runtime-seccomp");
        TCase *t = tcase_create("seccomp");
        tcase_add_test(t, test_compile);
        tcase_add_loop_test(t, test_bad, 0, ELEMENTSOF(bad));
        tcase_add_test(t, test_cache);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
