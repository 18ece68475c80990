/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host-wide name claims (core/base/hostlock.c): another process holding a
 * name, or an overlapping subnet, is refused with its owner named; a
 * claim of a process that died is taken over; a release frees the name. */
#include "check-main.h"
#include "base/hostlock.h"

#include <arpa/inet.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/check-hostlock.XXXXXX";

static void setup(void)
{
        ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        ck_assert_int_eq(system(cmd), 0);
}

static uint32_t ip(const char *s)
{
        struct in_addr a;
        ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
        return ntohl(a.s_addr);
}

/* A process of its own (another daemon) that claims the bridge "br0" and
 * the subnet 10.1.0.0/16 as owner "/other", and holds them until killed. */
static pid_t other_daemon(void)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct hostlock *a = NULL, *b = NULL;
                struct berth_err e = {0};
                char ok = hostlock_claim(dir, "bridge", "br0", "/other", &a, &e) == 0 &&
                          hostlock_claim_subnet(dir, ip("10.1.0.0"), 16, "/other", &b, &e) == 0;
                if (write(p[1], &ok, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(p[1]);
        char ok = 0;
        ck_assert_int_eq(read(p[0], &ok, 1), 1);
        ck_assert(ok);
        close(p[0]);
        return pid;
}

static void end(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

START_TEST(test_held_elsewhere)
{
        pid_t pid = other_daemon();
        struct hostlock *l = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(hostlock_claim(dir, "bridge", "br0", "/mine", &l, &e), -EBUSY);
        ck_assert_str_eq(e.msg, "bridge br0 is in use by the daemon of /other");
        /* another kind of name is another name */
        ck_assert_int_eq(hostlock_claim(dir, "nftables table", "br0", "/mine", &l, &e), 0);
        hostlock_release(l);

        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.1.0.0"), 16, "/mine", &l, &e), -EBUSY);
        ck_assert_msg(strstr(e.msg, "subnet 10.1.0.0/16 is in use by the daemon of /other"), "%s",
                      e.msg);
        /* overlapping, inside or around */
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.1.7.0"), 24, "/mine", &l, &e), -EBUSY);
        ck_assert_msg(strstr(e.msg, "(its subnet 10.1.0.0/16)"), "%s", e.msg);
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.0.0.0"), 8, "/mine", &l, &e), -EBUSY);
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.2.0.0"), 16, "/mine", &l, &e), 0);
        hostlock_release(l);

        /* a dead holder's claims are free: the kernel dropped its locks */
        end(pid);
        ck_assert_int_eq(hostlock_claim(dir, "bridge", "br0", "/mine", &l, &e), 0);
        struct hostlock *s = NULL;
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.1.2.0"), 24, "/mine", &s, &e), 0);
        _cleanup_free_ char *f = xasprintf("%s/bridge-br0", dir);
        _cleanup_free_ char *owner = NULL;
        ck_assert_int_eq(read_one_line(f, &owner), 0);
        ck_assert_str_eq(owner, "/mine");
        /* the stale overlapping file went, the new one is there */
        _cleanup_free_ char *stale = xasprintf("%s/subnet-10.1.0.0_16", dir);
        _cleanup_free_ char *fresh = xasprintf("%s/subnet-10.1.2.0_24", dir);
        ck_assert_int_eq(access(stale, F_OK), -1);
        ck_assert_int_eq(access(fresh, F_OK), 0);
        hostlock_release(l);
        hostlock_release(s);
        ck_assert_int_eq(access(f, F_OK), -1);
        ck_assert_int_eq(access(fresh, F_OK), -1);
}
END_TEST

START_TEST(test_own_claims)
{
        struct hostlock *a = NULL, *b = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.5.0.0"), 24, "/mine", &a, &e), 0);
        /* this process's own subnets are the network store's business */
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.5.0.0"), 16, "/mine", &b, &e), 0);
        ck_assert_int_eq(hostlock_claim_subnet(dir, ip("10.5.0.0"), 24, "/mine", &a, &e), -EBUSY);
        ck_assert_msg(strstr(e.msg, "already in use by this daemon"), "%s", e.msg);
        hostlock_release(a);
        hostlock_release(b);
        ck_assert_ptr_null(hostlock_release(NULL));
}
END_TEST

START_TEST(test_release_all)
{
        struct hostlock *a = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(hostlock_claim(dir, "bridge", "br9", "/mine", &a, &e), 0);
        _cleanup_free_ char *f = xasprintf("%s/bridge-br9", dir);
        ck_assert_int_eq(access(f, F_OK), 0);
        hostlock_release_all();
        ck_assert_int_eq(access(f, F_OK), -1);
        /* another daemon takes the name; the late release leaves its file */
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        if (pid == 0) {
                struct hostlock *b = NULL;
                char ok = hostlock_claim(dir, "bridge", "br9", "/other", &b, &e) == 0;
                if (write(p[1], &ok, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        char ok = 0;
        ck_assert_int_eq(read(p[0], &ok, 1), 1);
        ck_assert(ok);
        hostlock_release(a);
        ck_assert_int_eq(access(f, F_OK), 0);
        end(pid);
}
END_TEST

/* A killed daemon's files (its locks gone with it) go at the next claim. */
START_TEST(test_stale_files)
{
        _cleanup_free_ char *f = xasprintf("%s/bridge-gone", dir);
        ck_assert_int_eq(write_file_atomic(f, "/dead\n", 6, 0644), 0);
        struct hostlock *a = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(hostlock_claim(dir, "bridge", "other", "/mine", &a, &e), 0);
        ck_assert_int_eq(access(f, F_OK), -1);
        hostlock_release(a);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("hostlock");
        TCase *tc = tcase_create("core");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_held_elsewhere);
        tcase_add_test(tc, test_own_claims);
        tcase_add_test(tc, test_release_all);
        tcase_add_test(tc, test_stale_files);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
