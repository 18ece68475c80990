/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth run, start, stop, restart, kill, wait, logs: the commands that drive
 * a container's process. run follows docker's order (create, attach, wait,
 * start) so that no output is lost. */
#include "cli.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

/* Copy the attach stream to our stdout/stderr (demultiplexing the 8-byte
 * frames unless the container has a TTY) and our stdin to it. Returns when
 * the daemon closes the stream (the container's output ended). */
/* With a TTY: the window size follows ours (SIGWINCH), and ctrl-p ctrl-q
 * detaches, as in docker. */
struct tty_ctx {
        struct cli *cli;
        const char *resize_path; /* "/containers/ID/resize" */
        int winch_fd;            /* signalfd for SIGWINCH, or -1 */
        bool detached;
};

static void send_resize(struct tty_ctx *t)
{
        struct winsize ws;
        if (!t || !t->resize_path || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row)
                return;
        _cleanup_free_ char *p = xasprintf("%s?h=%u&w=%u", t->resize_path, ws.ws_row, ws.ws_col);
        struct berth_err err = {0};
        client_json(&t->cli->client, "POST", p, NULL, NULL, NULL, &err);
}

static void pump_tty(int sock, bool tty, bool send_stdin, struct tty_ctx *t)
{
        char buf[32768];
        unsigned char hdr[8];
        size_t hdr_have = 0, frame_left = 0;
        int frame_stream = 1;
        bool in_open = send_stdin;
        bool saw_ctrl_p = false;
        for (;;) {
                struct pollfd p[3] = {{sock, POLLIN, 0},
                                      {in_open ? STDIN_FILENO : -1, POLLIN, 0},
                                      {t ? t->winch_fd : -1, POLLIN, 0}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        (void)!read(t->winch_fd, &si, sizeof(si));
                        send_resize(t);
                }
                if (p[1].revents) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n <= 0) {
                                in_open = false;
                                shutdown(sock, SHUT_WR);
                        } else {
                                if (tty && t) {
                                        for (ssize_t i = 0; i < n; i++) {
                                                if (saw_ctrl_p && buf[i] == 0x11) {
                                                        t->detached = true;
                                                        return;
                                                }
                                                saw_ctrl_p = buf[i] == 0x10;
                                        }
                                }
                                if (loop_write(sock, buf, (size_t)n) < 0)
                                        in_open = false;
                        }
                }

                if (!p[0].revents)
                        continue;
                ssize_t n = read(sock, buf, sizeof(buf));
                if (n <= 0)
                        return;
                if (tty) {
                        loop_write(STDOUT_FILENO, buf, (size_t)n);
                        continue;
                }
                for (ssize_t i = 0; i < n;) {
                        if (frame_left == 0) {
                                hdr[hdr_have++] = (unsigned char)buf[i++];
                                if (hdr_have == 8) {
                                        frame_stream = hdr[0];
                                        frame_left = ((size_t)hdr[4] << 24) |
                                                     ((size_t)hdr[5] << 16) |
                                                     ((size_t)hdr[6] << 8) | hdr[7];
                                        hdr_have = 0;
                                }
                                continue;
                        }
                        size_t take = (size_t)(n - i) < frame_left ? (size_t)(n - i) : frame_left;
                        loop_write(frame_stream == 2 ? STDERR_FILENO : STDOUT_FILENO, buf + i,
                                   take);
                        i += (ssize_t)take;
                        frame_left -= take;
                }
        }
}

static void pump(int sock, bool tty, bool send_stdin)
{
        pump_tty(sock, tty, send_stdin, NULL);
}

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void)
{
        if (termios_saved)
                tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
}

static void raw_terminal(void)
{
        struct termios t;
        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return;
        termios_saved = true;
        atexit(restore_terminal);
        t = saved_termios;
        cfmakeraw(&t);
        tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
}

static int wait_status(int fd, bool chunked, int64_t *ret)
{
        _cleanup_free_ char *body = NULL;
        client_read_body(fd, chunked, &body, NULL);
        json_error_t je;
        _cleanup_json_ json_t *j = json_loads(body, 0, &je);
        if (!j)
                return -EIO;
        json_t *e = json_object_get(j, "Error");
        if (json_is_object(e) && json_get_str(e, "Message", NULL)) {
                fprintf(stderr, "berth: %s\n", json_get_str(e, "Message", ""));
                return -EIO;
        }
        *ret = json_get_int(j, "StatusCode", 0);
        return 0;
}

/* The streaming part of run, start -a and attach: the terminal set up when
 * there is a TTY (window size now and on SIGWINCH, raw mode for typed
 * input), the attach stream pumped until it ends, then the wait answer.
 * Returns 1 if the user detached (ctrl-p ctrl-q), 0 with the exit code in
 * *ret_code, or -errno. Closes afd and wfd. */
/* The terminal part of a session: pump afd (closed here) with the window
 * size sent to resize_path; true if the user detached. */
static bool terminal_pump(struct cli *cli, const char *rp, int afd, bool tty, bool in)
{
        struct tty_ctx tc = {.cli = cli, .winch_fd = -1};
        if (tty && isatty(STDOUT_FILENO)) {
                sigset_t m;
                sigemptyset(&m);
                sigaddset(&m, SIGWINCH);
                sigprocmask(SIG_BLOCK, &m, NULL);
                tc.winch_fd = signalfd(-1, &m, SFD_CLOEXEC);
                tc.resize_path = rp;
                send_resize(&tc);
        }
        if (tty && in && isatty(STDIN_FILENO))
                raw_terminal();
        pump_tty(afd, tty, in, tty ? &tc : NULL);
        close(afd);
        restore_terminal();
        safe_close(tc.winch_fd);
        return tc.detached;
}

static int session(struct cli *cli, const char *id, int afd, int wfd, bool chunked, bool tty,
                   bool in, int64_t *ret_code)
{
        _cleanup_free_ char *rp = xasprintf("/containers/%s/resize", id);
        if (terminal_pump(cli, rp, afd, tty, in)) {
                close(wfd);
                return 1;
        }
        int r = wait_status(wfd, chunked, ret_code);
        close(wfd);
        return r;
}

/* The exit status of `run` for a start that failed: 127 for a command that
 * does not exist, 126 for one that cannot run, 125 otherwise. */
static int start_failure_status(const char *msg)
{
        if (strstr(msg, "not found") || strstr(msg, "no such file"))
                return 127;
        if (strstr(msg, "ermission denied") || strstr(msg, "not executable"))
                return 126;
        return 125;
}

int cli_cmd_run(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        char id[65];
        bool detach = cli_flag(a, "detach");
        bool tty = cli_flag(a, "tty"), interactive = cli_flag(a, "interactive");
        if (tty && interactive && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "berth: the input device is not a TTY\n");
                return 1;
        }
        if (cli_create(cli, a, id, &err) < 0)
                return err.msg[0] ? cli_fail125(&err) : 125;
        _cleanup_free_ char *sid = cli_escape(id);
        if (detach) {
                _cleanup_free_ char *p = xasprintf("/containers/%s/start", sid);
                if (client_json(&cli->client, "POST", p, NULL, NULL, NULL, &err) < 0) {
                        int st = start_failure_status(err.msg);
                        cli_fail125(&err);
                        return st;
                }
                puts(id);
                return 0;
        }
        int attach_fd = -1, wait_fd = -1;
        bool wait_chunked = false;
        _cleanup_free_ char *ap = xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1%s",
                                            sid, interactive ? "&stdin=1" : "");
        if (client_raw(&cli->client, "POST", ap, NULL, true, &attach_fd, NULL, NULL, &err) < 0)
                return cli_fail125(&err);
        _cleanup_free_ char *wp = xasprintf("/containers/%s/wait?condition=%s", sid,
                                            cli_flag(a, "rm") ? "removed" : "next-exit");
        if (client_raw(&cli->client, "POST", wp, NULL, false, &wait_fd, NULL, &wait_chunked, &err) <
            0) {
                close(attach_fd);
                return cli_fail125(&err);
        }
        _cleanup_free_ char *sp = xasprintf("/containers/%s/start", sid);
        if (client_json(&cli->client, "POST", sp, NULL, NULL, NULL, &err) < 0) {
                close(attach_fd);
                close(wait_fd);
                int st = start_failure_status(err.msg);
                cli_fail125(&err);
                return st;
        }
        int64_t code = 0;
        int r = session(cli, id, attach_fd, wait_fd, wait_chunked, tty, interactive, &code);
        return r == 1 ? 0 : r < 0 ? 125 : (int)code;
}

/* --- start, stop, restart, kill, wait ------------------------------------------- */

const struct cli_opt cli_start_opts[] = {
    {"attach", 'a', CLI_BOOL, "Attach STDOUT/STDERR and forward signals", NULL},
    {"interactive", 'i', CLI_BOOL, "Attach container's STDIN", NULL},
    {0},
};

int cli_cmd_start(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        bool attach = cli_flag(a, "attach"), interactive = cli_flag(a, "interactive");
        if (attach || interactive) {
                if (a->n_pos != 1) {
                        fprintf(stderr,
                                "berth: you cannot start and attach multiple containers at once\n");
                        return 1;
                }
                _cleanup_free_ char *e = cli_escape(a->pos[0]);
                _cleanup_json_ json_t *j = NULL;
                _cleanup_free_ char *ip = xasprintf("/containers/%s/json", e);
                if (client_json(&cli->client, "GET", ip, NULL, NULL, &j, &err) < 0)
                        return cli_fail(&err);
                bool tty = json_get_bool(json_object_get(j, "Config"), "Tty", false);
                int afd = -1, wfd = -1;
                bool chunked = false;
                _cleanup_free_ char *ap =
                    xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1%s", e,
                              interactive ? "&stdin=1" : "");
                if (client_raw(&cli->client, "POST", ap, NULL, true, &afd, NULL, NULL, &err) < 0)
                        return cli_fail(&err);
                _cleanup_free_ char *wp = xasprintf("/containers/%s/wait?condition=next-exit", e);
                if (client_raw(&cli->client, "POST", wp, NULL, false, &wfd, NULL, &chunked, &err) <
                    0) {
                        close(afd);
                        return cli_fail(&err);
                }
                _cleanup_free_ char *sp = xasprintf("/containers/%s/start", e);
                if (client_json(&cli->client, "POST", sp, NULL, NULL, NULL, &err) < 0) {
                        close(afd);
                        close(wfd);
                        return cli_fail(&err);
                }
                int64_t code = 0;
                r = session(cli, json_get_str(j, "Id", a->pos[0]), afd, wfd, chunked, tty,
                            interactive, &code);
                return r == 1 ? 0 : r < 0 ? 1 : (int)code;
        }
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *p = xasprintf("/containers/%s/start", e);
                if (client_json(&cli->client, "POST", p, NULL, NULL, NULL, &err) < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                puts(a->pos[i]);
        }
        return rc;
}

const struct cli_opt cli_stop_opts[] = {
    {"signal", 's', CLI_STRING, "Signal to send to the container", NULL},
    {"time", 't', CLI_INT, "Seconds to wait before killing the container", NULL},
    {0},
};

static int each(struct cli *cli, struct cli_args *a, const char *verb, const char *query)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *p = xasprintf("/containers/%s/%s%s", e, verb, query);
                if (client_json(&cli->client, "POST", p, NULL, NULL, NULL, &err) < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                puts(a->pos[i]);
        }
        return rc;
}

int cli_cmd_stop(struct cli *cli, struct cli_args *a)
{
        const char *t = cli_str(a, "time");
        _cleanup_free_ char *q = t ? xasprintf("?t=%s", t) : xstrdup("");
        return each(cli, a, "stop", q);
}

int cli_cmd_restart(struct cli *cli, struct cli_args *a)
{
        const char *t = cli_str(a, "time");
        _cleanup_free_ char *q = t ? xasprintf("?t=%s", t) : xstrdup("");
        return each(cli, a, "restart", q);
}

const struct cli_opt cli_kill_opts[] = {
    {"signal", 's', CLI_STRING, "Signal to send to the container", "KILL"},
    {0},
};

int cli_cmd_kill(struct cli *cli, struct cli_args *a)
{
        _cleanup_free_ char *s = cli_escape(cli_str(a, "signal"));
        _cleanup_free_ char *q = xasprintf("?signal=%s", s);
        return each(cli, a, "kill", q);
}

int cli_cmd_wait(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *p = xasprintf("/containers/%s/wait", e);
                _cleanup_json_ json_t *j = NULL;
                if (client_json(&cli->client, "POST", p, NULL, NULL, &j, &err) < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                printf("%lld\n", (long long)json_get_int(j, "StatusCode", 0));
        }
        return rc;
}

/* --- logs ------------------------------------------------------------------------ */

const struct cli_opt cli_logs_opts[] = {
    {"details", 0, CLI_BOOL, "Show extra details provided to logs", NULL},
    {"follow", 'f', CLI_BOOL, "Follow log output", NULL},
    {"since", 0, CLI_STRING,
     "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 "
     "minutes)",
     NULL},
    {"tail", 'n', CLI_STRING, "Number of lines to show from the end of the logs", "all"},
    {"timestamps", 't', CLI_BOOL, "Show timestamps", NULL},
    {"until", 0, CLI_STRING,
     "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for "
     "42 minutes)",
     NULL},
    {0},
};

/* "42m", "1h30m", "10s", an RFC 3339 time, or unix seconds -> "sec.nsec". */
static int time_arg(const char *s, char *buf, size_t len)
{
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (rest && (*rest == 'Z' || *rest == '\0' || *rest == '.')) {
                snprintf(buf, len, "%lld", (long long)timegm(&tm));
                return 0;
        }
        char *end;
        double v = strtod(s, &end);
        if (end != s && *end == '\0') {
                snprintf(buf, len, "%s", s);
                return 0;
        }
        double total = 0;
        const char *p = s;
        while (*p) {
                v = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                double mul = *end == 'h' ? 3600 : *end == 'm' ? 60 : *end == 's' ? 1 : -1;
                if (mul < 0)
                        return -EINVAL;
                total += v * mul;
                p = end + 1;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t = (double)ts.tv_sec + ts.tv_nsec / 1e9 - total;
        snprintf(buf, len, "%.9f", t);
        return 0;
}

int cli_cmd_logs(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *ip = xasprintf("/containers/%s/json", e);
        _cleanup_json_ json_t *j = NULL;
        if (client_json(&cli->client, "GET", ip, NULL, NULL, &j, &err) < 0)
                return cli_fail(&err);
        bool tty = json_get_bool(json_object_get(j, "Config"), "Tty", false);
        char since[64] = "", until[64] = "";
        if (cli_str(a, "since") && time_arg(cli_str(a, "since"), since, sizeof(since)) < 0) {
                fprintf(stderr, "berth: invalid value for --since: \"%s\"\n", cli_str(a, "since"));
                return 125;
        }
        if (cli_str(a, "until") && time_arg(cli_str(a, "until"), until, sizeof(until)) < 0) {
                fprintf(stderr, "berth: invalid value for --until: \"%s\"\n", cli_str(a, "until"));
                return 125;
        }
        _cleanup_free_ char *tail = cli_escape(cli_str(a, "tail"));
        _cleanup_free_ char *p = xasprintf(
            "/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d&tail=%s%s%s%s%s", e,
            cli_flag(a, "follow"), cli_flag(a, "timestamps"), tail, *since ? "&since=" : "", since,
            *until ? "&until=" : "", until);
        int fd = -1;
        bool chunked = false;
        if (client_raw(&cli->client, "GET", p, NULL, false, &fd, NULL, &chunked, &err) < 0)
                return cli_fail(&err);
        /* A chunked stream: decode the chunks and demultiplex the frames. */
        int pp[2];
        if (!chunked) {
                pump(fd, tty, false);
                close(fd);
                return 0;
        }
        if (pipe(pp) < 0)
                return 1;
        pid_t child = fork();
        if (child == 0) {
                close(pp[0]);
                char line[64];
                for (;;) {
                        size_t n = 0;
                        char c;
                        while (read(fd, &c, 1) == 1 && c != '\n')
                                if (n + 1 < sizeof(line) && c != '\r')
                                        line[n++] = c;
                        line[n] = '\0';
                        unsigned long size = strtoul(line, NULL, 16);
                        if (size == 0)
                                break;
                        char *chunk = xmalloc(size);
                        if (loop_read(fd, chunk, size) != (ssize_t)size)
                                _exit(0);
                        loop_write(pp[1], chunk, size);
                        free(chunk);
                        while (read(fd, &c, 1) == 1 && c != '\n')
                                ;
                }
                _exit(0);
        }
        close(pp[1]);
        close(fd);
        pump(pp[0], tty, false);
        close(pp[0]);
        waitpid(child, NULL, 0);
        return 0;
}

int cli_cmd_pause(struct cli *cli, struct cli_args *a)
{
        return each(cli, a, "pause", "");
}

int cli_cmd_unpause(struct cli *cli, struct cli_args *a)
{
        return each(cli, a, "unpause", "");
}

int cli_cmd_top(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *p = xasprintf("/containers/%s/top", e);
        _cleanup_json_ json_t *j = NULL;
        if (client_json(&cli->client, "GET", p, NULL, NULL, &j, &err) < 0)
                return cli_fail(&err);
        json_t *titles = json_object_get(j, "Titles");
        size_t nt = json_array_size(titles);
        /* every column padded, the command last */
        size_t w[16] = {0};
        json_t *rows = json_object_get(j, "Processes"), *row, *c;
        size_t i, k;
        json_array_foreach (titles, k, c)
                if (k < 16 && strlen(json_string_value(c)) > w[k])
                        w[k] = strlen(json_string_value(c));
        json_array_foreach (rows, i, row)
                json_array_foreach (row, k, c)
                        if (k < 16 && strlen(json_string_value(c) ?: "") > w[k])
                                w[k] = strlen(json_string_value(c) ?: "");
        json_array_foreach (titles, k, c)
                printf(k + 1 < nt ? "%-*s   " : "%-*s\n", (int)w[k], json_string_value(c));
        json_array_foreach (rows, i, row)
                json_array_foreach (row, k, c)
                        printf(k + 1 < nt ? "%-*s   " : "%-*s\n", k + 1 < nt ? (int)w[k] : 0,
                               json_string_value(c) ?: "");
        return 0;
}

const struct cli_opt cli_exec_opts[] = {
    {"detach", 'd', CLI_BOOL, "Detached mode: run command in the background", NULL},
    {"detach-keys", 0, CLI_STRING, "Override the key sequence for detaching a container", NULL},
    {"env", 'e', CLI_LIST, "Set environment variables", NULL},
    {"interactive", 'i', CLI_BOOL, "Keep STDIN open even if not attached", NULL},
    {"privileged", 0, CLI_BOOL, "Give extended privileges to the command", NULL},
    {"tty", 't', CLI_BOOL, "Allocate a pseudo-TTY", NULL},
    {"user", 'u', CLI_STRING, "Username or UID (format: \"<name|uid>[:<group|gid>]\")", NULL},
    {"workdir", 'w', CLI_STRING, "Working directory inside the container", NULL},
    {0},
};

int cli_cmd_exec(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        bool detach = cli_flag(a, "detach"), interactive = cli_flag(a, "interactive");
        bool tty = cli_flag(a, "tty");
        if (tty && interactive && !detach && !isatty(STDIN_FILENO)) {
                fprintf(stderr, "berth: the input device is not a TTY\n");
                return 1;
        }
        json_t *cmd = json_array();
        for (size_t i = 1; i < a->n_pos; i++)
                json_array_append_new(cmd, json_string(a->pos[i]));
        json_t *env = json_array();
        for (char **e = cli_list(a, "env"); e && *e; e++)
                json_array_append_new(env, json_string(*e));
        _cleanup_json_ json_t *body = json_pack(
            "{s:o, s:o, s:b, s:b, s:b, s:b, s:b, s:b, s:s, s:s}", "Cmd", cmd, "Env", env,
            "AttachStdin", interactive && !detach, "AttachStdout", !detach, "AttachStderr", !detach,
            "Detach", detach, "Tty", tty, "Privileged", cli_flag(a, "privileged"), "User",
            strempty(cli_str(a, "user")), "WorkingDir", strempty(cli_str(a, "workdir")));
        struct winsize ws;
        if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
                json_object_set_new(body, "ConsoleSize", json_pack("[i, i]", ws.ws_row, ws.ws_col));
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *p = xasprintf("/containers/%s/exec", e);
        _cleanup_json_ json_t *res = NULL;
        if (client_json(&cli->client, "POST", p, body, NULL, &res, &err) < 0)
                return cli_fail(&err);
        const char *id = json_get_str(res, "Id", "");
        _cleanup_free_ char *sp = xasprintf("/exec/%s/start", id);
        if (detach) {
                _cleanup_json_ json_t *b = json_pack("{s:b, s:b}", "Detach", 1, "Tty", 0);
                if (client_json(&cli->client, "POST", sp, b, NULL, NULL, &err) < 0)
                        return cli_fail(&err);
                return 0;
        }
        int fd = -1;
        if (client_raw(&cli->client, "POST", sp,
                       tty ? "{\"Detach\":false,\"Tty\":true}" : "{\"Detach\":false,\"Tty\":false}",
                       true, &fd, NULL, NULL, &err) < 0)
                return cli_fail(&err);
        _cleanup_free_ char *rp = xasprintf("/exec/%s/resize", id);
        if (terminal_pump(cli, rp, fd, tty, interactive))
                return 0;
        _cleanup_free_ char *ip = xasprintf("/exec/%s/json", id);
        _cleanup_json_ json_t *ins = NULL;
        if (client_json(&cli->client, "GET", ip, NULL, NULL, &ins, &err) < 0)
                return cli_fail(&err);
        return (int)json_get_int(ins, "ExitCode", 126);
}

const struct cli_opt cli_attach_opts[] = {
    {"detach-keys", 0, CLI_STRING, "Override the key sequence for detaching a container", NULL},
    {"no-stdin", 0, CLI_BOOL, "Do not attach STDIN", NULL},
    {"sig-proxy", 0, CLI_BOOL, "Proxy all received signals to the process", "true"},
    {0},
};

int cli_cmd_attach(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *ip = xasprintf("/containers/%s/json", e);
        _cleanup_json_ json_t *j = NULL;
        if (client_json(&cli->client, "GET", ip, NULL, NULL, &j, &err) < 0)
                return cli_fail(&err);
        json_t *st = json_object_get(j, "State");
        if (!json_get_bool(st, "Running", false)) {
                fprintf(stderr,
                        "berth: You cannot attach to a stopped container, start it first\n");
                return 1;
        }
        if (json_get_bool(st, "Paused", false)) {
                fprintf(stderr,
                        "berth: You cannot attach to a paused container, unpause it first\n");
                return 1;
        }
        json_t *c = json_object_get(j, "Config");
        bool tty = json_get_bool(c, "Tty", false);
        bool in = !cli_flag(a, "no-stdin") && json_get_bool(c, "OpenStdin", false);
        const char *id = json_get_str(j, "Id", "");
        int afd = -1, wfd = -1;
        bool chunked = false;
        _cleanup_free_ char *ap = xasprintf("/containers/%s/attach?stream=1&stdout=1&stderr=1%s",
                                            id, in ? "&stdin=1" : "");
        if (client_raw(&cli->client, "POST", ap, NULL, true, &afd, NULL, NULL, &err) < 0)
                return cli_fail(&err);
        _cleanup_free_ char *wp = xasprintf("/containers/%s/wait?condition=next-exit", id);
        if (client_raw(&cli->client, "POST", wp, NULL, false, &wfd, NULL, &chunked, &err) < 0) {
                close(afd);
                return cli_fail(&err);
        }
        int64_t code = 0;
        r = session(cli, id, afd, wfd, chunked, tty, in, &code);
        return r == 1 ? 0 : r < 0 ? 1 : (int)code;
}
