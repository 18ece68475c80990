/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-runtime: the OCI runtime command line (runc's commands and flags, as
 * containerd, CRI-O and podman call them) over the runtime library. The
 * program only parses arguments, reports errors and, for `run`, stays as
 * the container's parent: every container operation is a library call. */

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "runtime/runtime.h"

static const char *opt_root = RUNTIME_DEFAULT_ROOT;
static const char *opt_log;
static bool opt_log_json;

/* Errors go to stderr and, when --log is given, to the log file, which is
 * where containerd and conmon look for them (JSON lines with
 * --log-format json, as runc writes). */
static void log_line(const char *level, const char *msg)
{
        if (!opt_log)
                return;
        FILE *f = fopen(opt_log, "ae");
        if (!f)
                return;
        char ts[64];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (opt_log_json) {
                json_t *j = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", ts);
                char *s = json_dumps(j, JSON_COMPACT);
                if (s)
                        fprintf(f, "%s\n", s);
                free(s);
                json_decref(j);
        } else {
                fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
        }
        fclose(f);
}

static int fail(const char *fmt, ...) _printf_(1, 2);
static int fail(const char *fmt, ...)
{
        char buf[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        fprintf(stderr, "berth-runtime: %s\n", buf);
        log_line("error", buf);
        return 1;
}

static int fail_err(const struct berth_err *e)
{
        return fail("%s", err_msg(e));
}

static int usage(FILE *f)
{
        fputs("Usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND\n"
              "\n"
              "Commands (as runc's):\n"
              "  create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--init] "
              "ID\n"
              "  start ID\n"
              "  run [--bundle DIR] [--detach] [--pid-file F] [--console-socket S] [--init] ID\n"
              "  state ID\n"
              "  kill [--all] ID [SIGNAL]\n"
              "  delete [--force] ID\n"
              "  exec [--process F | -t -e -u --cwd] [--console-socket S] [--pid-file F] "
              "[--detach] ID [CMD...]\n"
              "  ps [--format table|json] ID\n"
              "  list [--format table|json] [--quiet]\n"
              "  pause ID | resume ID\n"
              "  spec [--bundle DIR] [--rootless]\n"
              "  features\n"
              "  version\n",
              f);
        return f == stderr ? 1 : 0;
}

static int need_id(int argc, char **argv, const char **ret)
{
        if (optind >= argc) {
                fail("'%s' needs a container id", argv[0]);
                return -EINVAL;
        }
        *ret = argv[optind++];
        return 0;
}

static int print_json(json_t *j)
{
        char *s = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        if (!s)
                return fail("cannot format JSON");
        printf("%s\n", s);
        free(s);
        return 0;
}

static int parse_signal(const char *s)
{
        static const struct {
                const char *n;
                int sig;
        } t[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"KILL", SIGKILL},
                 {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},   {"CONT", SIGCONT},
                 {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM},
                 {"PIPE", SIGPIPE}, {"CHLD", SIGCHLD}};
        int64_t n;
        if (parse_int64(s, &n) >= 0)
                return n > 0 && n < NSIG ? (int)n : -EINVAL;
        if (startswith(s, "SIG"))
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (strcasecmp(t[i].n, s) == 0)
                        return t[i].sig;
        return -EINVAL;
}

/* ---- create / run ---- */

struct create_args {
        const char *bundle, *pid_file, *console_socket;
        bool no_pivot, detach, init;
        unsigned preserve_fds;
};

static int parse_fds(const char *s, unsigned *ret)
{
        int64_t n;
        if (parse_int64(s, &n) < 0 || n < 0 || n > 65536)
                return -EINVAL;
        *ret = (unsigned)n;
        return 0;
}

static int parse_create(int argc, char **argv, struct create_args *a, bool run)
{
        static const struct option opts[] = {
            {"bundle", required_argument, NULL, 'b'},
            {"pid-file", required_argument, NULL, 'p'},
            {"console-socket", required_argument, NULL, 'c'},
            {"no-pivot", no_argument, NULL, 'P'},
            {"no-new-keyring", no_argument, NULL, 'K'},
            {"preserve-fds", required_argument, NULL, 'F'},
            {"detach", no_argument, NULL, 'd'},
            {"init", no_argument, NULL, 'i'},
            {"keep", no_argument, NULL, 'k'},
            {"no-subreaper", no_argument, NULL, 'S'},
            {},
        };
        int c;
        a->bundle = ".";
        while ((c = getopt_long(argc, argv, "b:d", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        a->bundle = optarg;
                        break;
                case 'p':
                        a->pid_file = optarg;
                        break;
                case 'c':
                        a->console_socket = optarg;
                        break;
                case 'P':
                        a->no_pivot = true;
                        break;
                case 'd':
                        if (!run)
                                return -EINVAL;
                        a->detach = true;
                        break;
                case 'i':
                        a->init = true;
                        break;
                case 'F':
                        if (parse_fds(optarg, &a->preserve_fds) < 0)
                                return -EINVAL;
                        break;
                case 'K':
                case 'k':
                case 'S':
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

static int cmd_create(int argc, char **argv)
{
        struct create_args a = {0};
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        struct berth_err e = {0};
        const char *id;
        if (parse_create(argc, argv, &a, false) < 0)
                return usage(stderr);
        if (need_id(argc, argv, &id) < 0)
                return 1;
        if (runtime_spec_load(a.bundle, &spec, &e) < 0)
                return fail_err(&e);
        struct runtime_create_opts o = {.root = opt_root,
                                        .id = id,
                                        .console_socket = a.console_socket,
                                        .console_fd = -1,
                                        .pid_file = a.pid_file,
                                        .no_pivot = a.no_pivot,
                                        .init = a.init,
                                        .preserve_fds = a.preserve_fds};
        if (runtime_create(spec, &o, NULL, &e) < 0)
                return fail_err(&e);
        return 0;
}

static void copy_once(int from, int to, bool *eof)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        *eof = true;
                return;
        }
        (void)loop_write(to, buf, (size_t)n);
}

/* Foreground `run`: forward signals, proxy the terminal if there is one,
 * and return the container's exit code. */
static int supervise(pid_t pid, int master)
{
        sigset_t set;
        struct termios saved;
        bool raw = false, master_eof = master < 0, in_eof = false;
        int status = -1;

        sigemptyset(&set);
        int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&set, sigs[i]);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                struct winsize ws;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                        ioctl(master, TIOCSWINSZ, &ws);
        }
        while (status < 0 || !master_eof) {
                struct pollfd p[3] = {
                    {.fd = sfd, .events = POLLIN},
                    {.fd = master_eof ? -1 : master, .events = POLLIN},
                    {.fd = (master < 0 || in_eof) ? -1 : STDIN_FILENO, .events = POLLIN}};
                if (poll(p, 3, status >= 0 ? 100 : -1) == 0)
                        break; /* exited, and the pty has gone quiet */
                if (p[1].revents)
                        copy_once(master, STDOUT_FILENO, &master_eof);
                if (p[2].revents)
                        copy_once(STDIN_FILENO, master, &in_eof);
                if (p[0].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) != sizeof(si))
                                continue;
                        if (si.ssi_signo == SIGCHLD) {
                                int st;
                                if (waitpid(pid, &st, WNOHANG) == pid)
                                        status =
                                            WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                        } else if (si.ssi_signo == SIGWINCH) {
                                struct winsize ws;
                                if (master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                        ioctl(master, TIOCSWINSZ, &ws);
                        } else {
                                kill(pid, (int)si.ssi_signo);
                        }
                }
        }
        if (status < 0)
                status = runtime_wait_exit(pid);
        if (raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return status;
}

static int cmd_run(int argc, char **argv)
{
        struct create_args a = {0};
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        struct berth_err e = {0};
        const char *id;
        int sp[2] = {-1, -1}, master = -1;
        pid_t pid;
        sigset_t set, old;

        if (parse_create(argc, argv, &a, true) < 0)
                return usage(stderr);
        if (need_id(argc, argv, &id) < 0)
                return 1;
        if (runtime_spec_load(a.bundle, &spec, &e) < 0)
                return fail_err(&e);
        struct runtime_create_opts o = {.root = opt_root,
                                        .id = id,
                                        .console_socket = a.console_socket,
                                        .console_fd = -1,
                                        .pid_file = a.pid_file,
                                        .no_pivot = a.no_pivot,
                                        .init = a.init,
                                        .start_now = !a.detach,
                                        .preserve_fds = a.preserve_fds};
        if (a.detach) {
                /* runc's run -d: create and start, and leave. */
                if (runtime_create(spec, &o, NULL, &e) < 0 || runtime_start(opt_root, id, &e) < 0)
                        return fail_err(&e);
                return 0;
        }
        if (spec->process.terminal && !a.console_socket) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        return fail("socketpair: %m");
                o.console_fd = sp[1];
        }
        /* Blocked before the container exists so no signal is lost; the
         * container's process starts with an empty mask. */
        sigemptyset(&set);
        int sigs[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
        for (size_t i = 0; i < ELEMENTSOF(sigs); i++)
                sigaddset(&set, sigs[i]);
        sigprocmask(SIG_BLOCK, &set, &old);
        if (runtime_create(spec, &o, &pid, &e) < 0)
                return fail_err(&e);
        if (sp[0] >= 0) {
                safe_close(sp[1]);
                master = fd_recv(sp[0]);
                safe_close(sp[0]);
        }
        int status = supervise(pid, master);
        safe_close(master);
        bool oom = false;
        if (runtime_oom_killed(opt_root, id, &oom, NULL) >= 0 && oom)
                fail("container '%s' was killed by the OOM killer (memory limit reached)", id);
        if (runtime_delete(opt_root, id, true, &e) < 0)
                fail_err(&e);
        return status;
}

static int cmd_simple(int argc, char **argv)
{
        static const struct option opts[] = {
            {"force", no_argument, NULL, 'f'}, {"all", no_argument, NULL, 'a'}, {}};
        struct berth_err e = {0};
        bool force = false, all = false;
        const char *id;
        int c, r = 0;
        while ((c = getopt_long(argc, argv, "fa", opts, NULL)) >= 0) {
                if (c == 'f')
                        force = true;
                else if (c == 'a')
                        all = true;
                else
                        return usage(stderr);
        }
        if (need_id(argc, argv, &id) < 0)
                return 1;
        if (streq(argv[0], "start"))
                r = runtime_start(opt_root, id, &e);
        else if (streq(argv[0], "delete"))
                r = runtime_delete(opt_root, id, force, &e);
        else if (streq(argv[0], "pause") || streq(argv[0], "resume"))
                r = runtime_pause(opt_root, id, streq(argv[0], "pause"), &e);
        else if (streq(argv[0], "kill")) {
                int sig = SIGTERM;
                if (optind < argc && (sig = parse_signal(argv[optind])) < 0)
                        return fail("unknown signal '%s'", argv[optind]);
                r = runtime_kill(opt_root, id, sig, all, &e);
        } else if (streq(argv[0], "state")) {
                _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
                if ((r = runtime_state_load(opt_root, id, &s, &e)) >= 0)
                        return print_json(runtime_state_to_json(s));
        }
        return r < 0 ? fail_err(&e) : 0;
}

static int cmd_list(int argc, char **argv)
{
        static const struct option opts[] = {
            {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {}};
        bool json = false, quiet = false;
        _cleanup_strv_ char **ids = NULL;
        struct berth_err e = {0};
        int c;
        while ((c = getopt_long(argc, argv, "f:q", opts, NULL)) >= 0) {
                if (c == 'f')
                        json = streq(optarg, "json");
                else if (c == 'q')
                        quiet = true;
                else
                        return usage(stderr);
        }
        if (runtime_list(opt_root, &ids, &e) < 0)
                return fail_err(&e);
        json_t *arr = json_array();
        if (!json && !quiet)
                printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
        for (char **i = ids; *i; i++) {
                _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
                if (runtime_state_load(opt_root, *i, &s, NULL) < 0)
                        continue;
                json_t *j = runtime_state_to_json(s);
                if (json)
                        json_array_append(arr, j);
                else if (quiet)
                        printf("%s\n", s->id);
                else
                        printf("%-20s %-8d %-10s %-40s %s\n", s->id,
                               (int)json_integer_value(json_object_get(j, "pid")),
                               runtime_status_to_string(s->status), s->bundle,
                               json_string_value(json_object_get(j, "created")));
                json_decref(j);
        }
        if (json)
                return print_json(arr);
        json_decref(arr);
        return 0;
}

static int cmd_ps(int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {}};
        bool json = false;
        const char *id;
        struct berth_err e = {0};
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int c;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) >= 0) {
                if (c == 'f')
                        json = streq(optarg, "json");
                else
                        return usage(stderr);
        }
        if (need_id(argc, argv, &id) < 0)
                return 1;
        if (runtime_pids(opt_root, id, &pids, &n, &e) < 0)
                return fail_err(&e);
        if (json) {
                json_t *a = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(a, json_integer(pids[i]));
                return print_json(a);
        }
        FILE *f = popen("ps -ef", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        bool first = true;
        if (!f)
                return fail("run ps: %m");
        while (getline(&line, &cap, f) > 0) {
                int pid = 0;
                if (first || (sscanf(line, "%*s %d", &pid) == 1 && pid > 0)) {
                        bool show = first;
                        for (size_t i = 0; !show && i < n; i++)
                                show = pids[i] == pid;
                        if (show)
                                fputs(line, stdout);
                }
                first = false;
        }
        pclose(f);
        return 0;
}

static int cmd_spec(int argc, char **argv)
{
        static const struct option opts[] = {
            {"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, 'r'}, {}};
        const char *bundle = ".";
        bool rootless = false;
        int c;
        while ((c = getopt_long(argc, argv, "b:", opts, NULL)) >= 0) {
                if (c == 'b')
                        bundle = optarg;
                else if (c == 'r')
                        rootless = true;
                else
                        return usage(stderr);
        }
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
        if (access(path, F_OK) == 0)
                return fail("'%s' already exists", path);
        json_t *j = runtime_spec_default(rootless);
        if (!j)
                return fail("internal error: the spec template does not parse");
        if (json_dump_file(j, path, JSON_INDENT(2)) < 0) {
                json_decref(j);
                return fail("write '%s': %m", path);
        }
        json_decref(j);
        return 0;
}

static int cmd_exec(int argc, char **argv)
{
        static const struct option opts[] = {
            {"process", required_argument, NULL, 'p'},
            {"tty", no_argument, NULL, 't'},
            {"console-socket", required_argument, NULL, 'c'},
            {"pid-file", required_argument, NULL, 'P'},
            {"detach", no_argument, NULL, 'd'},
            {"cwd", required_argument, NULL, 'w'},
            {"env", required_argument, NULL, 'e'},
            {"user", required_argument, NULL, 'u'},
            {"additional-gids", required_argument, NULL, 'g'},
            {"cap", required_argument, NULL, 'C'},
            {"no-new-privs", no_argument, NULL, 'n'},
            {"preserve-fds", required_argument, NULL, 'F'},
            {},
        };
        const char *process_file = NULL, *cwd = NULL, *user = NULL, *id;
        struct runtime_exec_opts eo = {0};
        bool tty = false, nnp = false;
        _cleanup_strv_ char **env = xzalloc(sizeof(char *));
        _cleanup_strv_ char **caps = xzalloc(sizeof(char *));
        struct berth_err e = {0};
        struct runtime_process proc = {0};
        pid_t pid;
        int c, r;

        while ((c = getopt_long(argc, argv, "+p:tdu:e:", opts, NULL)) >= 0) {
                switch (c) {
                case 'p':
                        process_file = optarg;
                        break;
                case 't':
                        tty = true;
                        break;
                case 'c':
                        eo.console_socket = optarg;
                        break;
                case 'P':
                        eo.pid_file = optarg;
                        break;
                case 'd':
                        eo.detach = true;
                        break;
                case 'w':
                        cwd = optarg;
                        break;
                case 'e':
                        env = strv_push(env, xstrdup(optarg));
                        break;
                case 'u':
                        user = optarg;
                        break;
                case 'C':
                        caps = strv_push(caps, xstrdup(optarg));
                        break;
                case 'n':
                        nnp = true;
                        break;
                case 'F':
                        if (parse_fds(optarg, &eo.preserve_fds) < 0)
                                return fail("--preserve-fds '%s': want a number", optarg);
                        break;
                case 'g':
                        break;
                default:
                        return usage(stderr);
                }
        }
        if (need_id(argc, argv, &id) < 0)
                return 1;
        if (process_file) {
                json_error_t je;
                json_t *j = json_load_file(process_file, 0, &je);
                if (!j)
                        return fail("process file '%s': %s", process_file, je.text);
                r = runtime_process_parse(j, &proc, &e);
                json_decref(j);
                if (r < 0)
                        return fail("process file '%s': %s", process_file, err_msg(&e));
        } else {
                /* Start from the container's own process and change what the
                 * flags say, as runc does. */
                _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
                if (runtime_state_load(opt_root, id, &s, &e) < 0)
                        return fail_err(&e);
                _cleanup_free_ char *cfg = xasprintf("%s/config.json", s->bundle);
                json_t *j = json_load_file(cfg, 0, NULL);
                json_t *p = json_deep_copy(json_object_get(j, "process"));
                json_decref(j);
                if (!p)
                        return fail("cannot read the process of '%s' from '%s'", id, cfg);
                if (optind >= argc) {
                        json_decref(p);
                        return fail("exec needs a command or --process");
                }
                json_t *args = json_array();
                for (int i = optind; i < argc; i++)
                        json_array_append_new(args, json_string(argv[i]));
                json_object_set_new(p, "args", args);
                json_object_set_new(p, "terminal", json_boolean(tty));
                if (cwd)
                        json_object_set_new(p, "cwd", json_string(cwd));
                json_t *penv = json_object_get(p, "env");
                if (!penv)
                        json_object_set_new(p, "env", penv = json_array());
                for (char **v = env; *v; v++)
                        json_array_append_new(penv, json_string(*v));
                if (nnp)
                        json_object_set_new(p, "noNewPrivileges", json_true());
                if (user) {
                        unsigned uid = 0, gid = 0;
                        int n = sscanf(user, "%u:%u", &uid, &gid);
                        if (n < 1) {
                                json_decref(p);
                                return fail("--user '%s': want UID[:GID]", user);
                        }
                        json_object_set_new(
                            p, "user",
                            json_pack("{s:i,s:i}", "uid", (int)uid, "gid", n == 2 ? (int)gid : 0));
                }
                json_t *pc = json_object_get(p, "capabilities");
                for (char **v = caps; pc && *v; v++) {
                        const char *sets[] = {"bounding", "effective", "permitted"};
                        for (size_t k = 0; k < ELEMENTSOF(sets); k++) {
                                json_t *arr = json_object_get(pc, sets[k]);
                                if (arr)
                                        json_array_append_new(arr, json_string(*v));
                        }
                }
                r = runtime_process_parse(p, &proc, &e);
                json_decref(p);
                if (r < 0)
                        return fail_err(&e);
        }
        if (proc.terminal && !eo.console_socket) {
                runtime_process_done(&proc);
                return fail("exec with a terminal needs --console-socket");
        }
        r = runtime_exec(opt_root, id, &proc, &eo, &pid, &e);
        runtime_process_done(&proc);
        if (r < 0)
                return fail_err(&e);
        if (eo.detach)
                return 0;
        return runtime_wait_exit(pid);
}

extern char **environ;

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"root", required_argument, NULL, 'r'},
            {"log", required_argument, NULL, 'l'},
            {"log-format", required_argument, NULL, 'L'},
            {"debug", no_argument, NULL, 'D'},
            {"systemd-cgroup", no_argument, NULL, 's'},
            {"rootless", required_argument, NULL, 'R'},
            {"criu", required_argument, NULL, 'C'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'v'},
            {},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        opt_root = optarg;
                        break;
                case 'l':
                        opt_log = optarg;
                        break;
                case 'L':
                        if (!streq(optarg, "json") && !streq(optarg, "text"))
                                return fail("--log-format '%s': want text or json", optarg);
                        opt_log_json = streq(optarg, "json");
                        break;
                case 's':
                        return fail("--systemd-cgroup is not supported: berth-runtime manages "
                                    "cgroups through cgroupfs; drop the flag (and use a "
                                    "/path cgroupsPath)");
                case 'D':
                case 'R':
                case 'C':
                        break;
                case 'h':
                        return usage(stdout);
                case 'v':
                        printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION,
                               RUNTIME_OCI_VERSION);
                        return 0;
                default:
                        return usage(stderr);
                }
        }
        if (optind >= argc)
                return usage(stderr);
        char **sub = argv + optind;
        int subc = argc - optind;
        const char *cmd = sub[0];
        optind = 1;
        /* (run from a sealed copy, the kernel names us after its fd) */
        prctl(PR_SET_NAME, program_invocation_short_name, 0, 0, 0);
        /* The commands whose children enter a container run from a sealed
         * copy of this program: a process in the container that reaches
         * one through /proc/PID/exe finds the copy, which cannot be
         * written, not the host's binary (CVE-2019-5736). Where the copy
         * cannot be made, they run from the file. */
        if ((streq(cmd, "create") || streq(cmd, "run") || streq(cmd, "exec")) &&
            !running_sealed()) {
                int fd = sealed_copy("/proc/self/exe", "berth-runtime");
                if (fd >= 0) {
                        fexecve(fd, argv, environ);
                        close(fd);
                }
        }
        if (streq(cmd, "create"))
                return cmd_create(subc, sub);
        if (streq(cmd, "run"))
                return cmd_run(subc, sub);
        if (streq(cmd, "start") || streq(cmd, "delete") || streq(cmd, "kill") ||
            streq(cmd, "state") || streq(cmd, "pause") || streq(cmd, "resume"))
                return cmd_simple(subc, sub);
        if (streq(cmd, "list"))
                return cmd_list(subc, sub);
        if (streq(cmd, "ps"))
                return cmd_ps(subc, sub);
        if (streq(cmd, "spec"))
                return cmd_spec(subc, sub);
        if (streq(cmd, "exec"))
                return cmd_exec(subc, sub);
        if (streq(cmd, "features"))
                return print_json(runtime_features());
        if (streq(cmd, "version")) {
                printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION, RUNTIME_OCI_VERSION);
                return 0;
        }
        return fail("unknown command '%s'", cmd);
}
