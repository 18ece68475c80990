/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose's log streams (compose-logs.c, compiled in) against a fake
 * daemon on a Unix socket: frames cut anywhere by the chunks (inside the
 * 8-byte header, inside a line), a TTY's raw stream, the prefix padded to
 * the longest name and coloured, whole lines only, and the exit line when
 * `logs -f` follows a container that stops (not in up's streams: up says it
 * from its events). stdout is captured in a file. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check-main.h"
#include "compose.h"

/* --- what compose-logs.c needs from the rest of the CLI ---------------------- */

static struct compose_cli *the_cc;

struct compose_cli *compose_cli(struct cli *cli)
{
        (void)cli;
        return the_cc;
}

/* what `compose logs` finds and the flags it is given */
static json_t *listed;
static bool follow_flag;

int compose_containers(struct compose_cli *cc, const char *service, bool all, bool oneoff,
                       json_t **ret, struct berth_err *err)
{
        (void)cc;
        (void)service;
        (void)all;
        (void)oneoff;
        (void)err;
        *ret = listed ? json_incref(listed) : json_array();
        return 0;
}

int compose_project_name(struct compose_cli *cc, const char **ret, struct berth_err *err)
{
        (void)cc;
        (void)err;
        *ret = "demo";
        return 0;
}

int cli_connect(struct cli *cli, struct berth_err *err)
{
        (void)cli;
        (void)err;
        return 0;
}

char *cli_escape(const char *s)
{
        return xstrdup(s);
}

const char *cli_str(struct cli_args *a, const char *name)
{
        (void)a;
        if (streq(name, "index"))
                return "0";
        if (streq(name, "tail"))
                return "all";
        return NULL;
}

bool cli_flag(struct cli_args *a, const char *name)
{
        (void)a;
        return streq(name, "follow") && follow_flag;
}

int cli_fail(const struct berth_err *err)
{
        (void)err;
        return 1;
}

/* --- the fake daemon ------------------------------------------------------------ */

/* Per container: the inspect it answers, and its logs as chunks. */
struct fake_ctr {
        const char *id;
        const char *inspect;
        const char *const *chunks; /* NULL-terminated */
        const size_t *chunk_lens;  /* 0: strlen */
};

static const struct fake_ctr *fakes;
static size_t n_fakes;
static char sock_path[108];
static int listen_fd = -1;

static const struct fake_ctr *fake_for(const char *path)
{
        for (size_t i = 0; i < n_fakes; i++)
                if (strstr(path, fakes[i].id))
                        return &fakes[i];
        return NULL;
}

static void *serve_conn(void *arg)
{
        int fd = (int)(intptr_t)arg;
        char buf[8192];
        size_t have = 0;
        for (;;) {
                char *end;
                while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
                        ssize_t n = read(fd, buf + have, sizeof(buf) - have - 1);
                        if (n <= 0)
                                goto out;
                        have += (size_t)n;
                }
                buf[have] = '\0';
                char method[16], path[4096];
                if (sscanf(buf, "%15s %4095s", method, path) != 2)
                        goto out;
                size_t used = (size_t)(end + 4 - buf);
                memmove(buf, buf + used, have - used);
                have -= used;
                const struct fake_ctr *f = fake_for(path);
                if (!f) {
                        const char *nf = "{\"message\":\"no such container\"}";
                        dprintf(fd,
                                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                                "Content-Length: %zu\r\n\r\n%s",
                                strlen(nf), nf);
                        continue;
                }
                if (strstr(path, "/logs")) {
                        dprintf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                                    "Connection: close\r\n\r\n");
                        for (size_t i = 0; f->chunks[i]; i++) {
                                size_t l = f->chunk_lens && f->chunk_lens[i] ? f->chunk_lens[i]
                                                                             : strlen(f->chunks[i]);
                                dprintf(fd, "%zx\r\n", l);
                                (void)!write(fd, f->chunks[i], l);
                                (void)!write(fd, "\r\n", 2);
                                usleep(2000); /* separate reads, most of the time */
                        }
                        (void)!write(fd, "0\r\n\r\n", 5);
                        goto out;
                }
                dprintf(fd,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                        "%zu\r\n\r\n%s",
                        strlen(f->inspect), f->inspect);
        }
out:
        close(fd);
        return NULL;
}

static void *serve(void *arg)
{
        (void)arg;
        for (;;) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        return NULL;
                pthread_t t;
                pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd);
                pthread_detach(t);
        }
}

static struct cli cli;
static struct compose_cli cc;
static char out_path[64];
static int saved_stdout = -1;

static void start(const struct fake_ctr *f, size_t n, bool ansi)
{
        fakes = f;
        n_fakes = n;
        snprintf(sock_path, sizeof(sock_path), "/tmp/check-compose-logs.%d.sock", getpid());
        unlink(sock_path);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
        ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(listen_fd, 16), 0);
        pthread_t t;
        pthread_create(&t, NULL, serve, NULL);
        pthread_detach(t);

        struct berth_err err = {0};
        _cleanup_free_ char *host = xasprintf("unix://%s", sock_path);
        ck_assert_int_eq(client_init(&cli.client, host, &err), 0);
        cli.connected = true;
        cc = (struct compose_cli){.cli = &cli, .ansi = ansi};
        the_cc = &cc;

        /* stdout into a file */
        snprintf(out_path, sizeof(out_path), "/tmp/check-compose-logs.%d.out", getpid());
        fflush(stdout);
        saved_stdout = dup(STDOUT_FILENO);
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        dup2(fd, STDOUT_FILENO);
        close(fd);
}

/* What was printed (the capture ends). */
static char *output(void)
{
        fflush(stdout);
        dup2(saved_stdout, STDOUT_FILENO);
        close(saved_stdout);
        char *s = NULL;
        ck_assert_int_eq(read_full_file(out_path, &s, NULL), 0);
        unlink(out_path);
        unlink(sock_path);
        shutdown(listen_fd, SHUT_RDWR);
        close(listen_fd);
        client_done(&cli.client);
        return s;
}

static json_t *summary(const char *id, const char *name, const char *service, const char *state)
{
        return json_pack("{s:s, s:[s], s:s, s:{s:s, s:s, s:s}}", "Id", id, "Names", name, "State",
                         state, "Labels", LABEL_PROJECT, "demo", LABEL_SERVICE, service,
                         LABEL_NUMBER, "1");
}

static void run(const struct compose_logs_opts *o, json_t **containers, size_t n)
{
        struct compose_logs *l = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_logs_open(&cc, o, &l, &err), 0);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(compose_logs_add(l, containers[i], &err), 0);
                json_decref(containers[i]);
        }
        compose_logs_wait(l);
        compose_logs_close(l);
}

#define STOPPED                                                                       \
        "{\"Config\":{\"Tty\":%s},\"State\":{\"Running\":false,\"Restarting\":false," \
        "\"ExitCode\":%d,\"StartedAt\":\"2026-01-01T00:00:00Z\"},\"HostConfig\":{"    \
        "\"RestartPolicy\":"                                                          \
        "{\"Name\":\"no\"}}}"

/* Frames "\1\0\0\0\0\0\0\6hello\n" and "\2\0\0\0\0\0\0\14wor" "ld\npartial" cut
 * inside the header and inside the lines. */
static const char f1[] = "\1\0\0\0\0\0";
static const char f2[] = "\0\6hel";
static const char f3[] = "lo\n\2\0\0\0\0\0\0\22wor";
static const char f4[] = "ld\npartial-line";
static const char *const web_chunks[] = {f1, f2, f3, f4, NULL};
static const size_t web_lens[] = {sizeof(f1) - 1, sizeof(f2) - 1, sizeof(f3) - 1, sizeof(f4) - 1,
                                  0};
static const char *const tty_chunks[] = {"one\r\ntw", "o\r\n", NULL};

START_TEST(frames_and_padding)
{
        static char web_inspect[256], db_inspect[256];
        snprintf(web_inspect, sizeof(web_inspect), STOPPED, "false", 0);
        snprintf(db_inspect, sizeof(db_inspect), STOPPED, "true", 0);
        static const struct fake_ctr f[] = {
            {"aaaa", web_inspect, web_chunks, web_lens},
            {"bbbb", db_inspect, tty_chunks, NULL},
        };
        start(f, 2, false);
        struct compose_logs_opts o = {0};
        json_t *c[] = {summary("aaaa", "/demo-web-1", "web", "running"),
                       summary("bbbb", "/demo-db-1", "db", "running")};
        /* one at a time, so that the order of the lines is known */
        run(&o, c, 1);
        run(&o, c + 1, 1);
        _cleanup_free_ char *s = output();
        ck_assert_str_eq(s, "web-1  | hello\n"
                            "web-1  | world\n"
                            "web-1  | partial-line\n"
                            "db-1  | one\n"
                            "db-1  | two\n");
}
END_TEST

START_TEST(width_over_all_streams)
{
        static char inspect[256];
        snprintf(inspect, sizeof(inspect), STOPPED, "true", 0);
        static const char *const one[] = {"x\n", NULL};
        static const struct fake_ctr f[] = {
            {"aaaa", inspect, one, NULL},
            {"bbbb", inspect, one, NULL},
        };
        start(f, 2, false);
        struct compose_logs_opts o = {0};
        json_t *c[] = {summary("aaaa", "/demo-web-1", "web", "running"),
                       summary("bbbb", "/demo-worker-1", "worker", "running")};
        run(&o, c, 2);
        _cleanup_free_ char *s = output();
        /* both padded to "worker-1" + 1, whichever came first */
        ck_assert_ptr_nonnull(strstr(s, "web-1     | x\n"));
        ck_assert_ptr_nonnull(strstr(s, "worker-1  | x\n"));
        ck_assert_uint_eq(strlen(s), strlen("web-1     | x\n") * 2);
}
END_TEST

START_TEST(colour_and_no_prefix)
{
        static char inspect[256];
        snprintf(inspect, sizeof(inspect), STOPPED, "true", 0);
        static const char *const one[] = {"x\n", NULL};
        static const struct fake_ctr f[] = {{"aaaa", inspect, one, NULL}};
        /* cc.ansi without a terminal on stderr: --ansi always */
        start(f, 1, true);
        unsetenv("NO_COLOR");
        struct compose_logs_opts o = {0};
        json_t *c[] = {summary("aaaa", "/demo-web-1", "web", "running")};
        run(&o, c, 1);
        struct compose_logs_opts np = {.no_prefix = true};
        json_t *c2[] = {summary("aaaa", "/demo-web-1", "web", "running")};
        run(&np, c2, 1);
        struct compose_logs_opts nc = {.no_color = true};
        json_t *c3[] = {summary("aaaa", "/demo-web-1", "web", "running")};
        run(&nc, c3, 1);
        _cleanup_free_ char *s = output();
        if (isatty(STDERR_FILENO))
                return; /* auto colour then depends on stdout, a file here */
        ck_assert_str_eq(s, "\033[36mweb-1  | \033[0mx\n"
                            "x\n"
                            "web-1  | x\n");
}
END_TEST

START_TEST(exit_line_when_followed)
{
        static char inspect[256];
        snprintf(inspect, sizeof(inspect), STOPPED, "false", 3);
        static const char fr[] = "\1\0\0\0\0\0\0\4bye\n";
        static const char *const chunks[] = {fr, NULL};
        static const size_t lens[] = {sizeof(fr) - 1, 0};
        static const struct fake_ctr f[] = {{"aaaa", inspect, chunks, lens},
                                            {"cccc", inspect, chunks, lens}};
        start(f, 2, false);
        follow_flag = true;
        struct cli_args a = {0};
        /* logs -f: the exit line of a container followed while it ran */
        listed = json_pack("[o]", summary("aaaa", "/demo-web-1", "web", "running"));
        ck_assert_int_eq(compose_cmd_logs(&cli, &a), 0);
        json_decref(listed);
        /* already stopped when read: nothing to say about its exit */
        listed = json_pack("[o]", summary("cccc", "/demo-job-1", "job", "exited"));
        ck_assert_int_eq(compose_cmd_logs(&cli, &a), 0);
        json_decref(listed);
        /* not the default name: shown whole */
        listed = json_pack("[o]", summary("aaaa", "/custom", "web", "running"));
        ck_assert_int_eq(compose_cmd_logs(&cli, &a), 0);
        json_decref(listed);
        listed = NULL;
        /* the streams of an attached up: it prints exits from its events */
        struct compose_logs_opts o = {.follow = true};
        json_t *c[] = {summary("aaaa", "/demo-web-1", "web", "running")};
        run(&o, c, 1);
        _cleanup_free_ char *s = output();
        ck_assert_str_eq(s, "web-1  | bye\n"
                            "web-1 exited with code 3\n"
                            "job-1  | bye\n"
                            "custom  | bye\n"
                            "custom exited with code 3\n"
                            "web-1  | bye\n");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-logs");
        TCase *t = tcase_create("streams");
        tcase_set_timeout(t, 20);
        tcase_add_test(t, frames_and_padding);
        tcase_add_test(t, width_over_all_streams);
        tcase_add_test(t, colour_and_no_prefix);
        tcase_add_test(t, exit_line_when_followed);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
