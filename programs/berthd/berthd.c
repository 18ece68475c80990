/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berthd: the engine daemon. Loads berth.ini and the driver plugins, owns the
 * data root, serves Docker's Engine API on a Unix socket. Flags follow
 * dockerd's so several daemons can run side by side. */
#include "api/api.h"
#include "base/config.h"
#include "base/hostlock.h"
#include "engine.h"
#include "base/log.h"

#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static void usage(FILE *f)
{
        fputs(
            "\nUsage:\tberthd [OPTIONS]\n\n"
            "A self-sufficient runtime for containers.\n\n"
            "Options:\n"
            "      --config-file string        Daemon configuration file (default "
            "$BERTH_CONFIG_FILE or \"" CONFIG_DEFAULT_PATH "\")\n"
            "      --data-root string          Root directory of persistent state (default "
            "\"/var/lib/berth\")\n"
            "  -D, --debug                     Enable debug mode\n"
            "      --exec-root string          Root directory for execution state files (default "
            "\"/run/berth\")\n"
            "  -h, --help                      Print usage\n"
            "  -H, --host string               Daemon socket to connect to (default "
            "\"unix:///run/berth/berth.sock\")\n"
            "      --insecure-registry list    Registries allowed plain HTTP (HOST:PORT or CIDR)\n"
            "  -l, --log-level string          Set the logging level "
            "(\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\") (default \"info\")\n"
            "  -p, --pidfile string            Path to use for daemon PID file (default "
            "\"<exec-root>/berthd.pid\")\n"
            "  -v, --version                   Print version information and quit\n",
            f);
}

struct flags {
        const char *config_file;
        const char *data_root;
        const char *exec_root;
        const char *host;
        const char *pidfile;
        const char *log_level;
        bool debug;
        char **insecure;
};

static int parse_flags(int argc, char **argv, struct flags *fl)
{
        enum { OPT_CONFIG = 1000, OPT_DATA_ROOT, OPT_EXEC_ROOT, OPT_INSECURE };
        static const struct option opts[] = {
            {"config-file", required_argument, NULL, OPT_CONFIG},
            {"data-root", required_argument, NULL, OPT_DATA_ROOT},
            {"exec-root", required_argument, NULL, OPT_EXEC_ROOT},
            {"insecure-registry", required_argument, NULL, OPT_INSECURE},
            {"host", required_argument, NULL, 'H'},
            {"pidfile", required_argument, NULL, 'p'},
            {"log-level", required_argument, NULL, 'l'},
            {"debug", no_argument, NULL, 'D'},
            {"version", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":H:p:l:Dvh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_CONFIG:
                        fl->config_file = optarg;
                        break;
                case OPT_DATA_ROOT:
                        fl->data_root = optarg;
                        break;
                case OPT_EXEC_ROOT:
                        fl->exec_root = optarg;
                        break;
                case OPT_INSECURE:
                        fl->insecure = strv_push(fl->insecure, xstrdup(optarg));
                        break;
                case 'H':
                        fl->host = optarg;
                        break;
                case 'p':
                        fl->pidfile = optarg;
                        break;
                case 'l':
                        fl->log_level = optarg;
                        break;
                case 'D':
                        fl->debug = true;
                        break;
                case 'v':
                        printf("berthd version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
                        exit(EXIT_SUCCESS);
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case ':':
                        fprintf(stderr,
                                "berthd: flag needs an argument: %s\nSee 'berthd --help'.\n",
                                argv[optind - 1]);
                        return -EINVAL;
                default:
                        fprintf(stderr, "berthd: unknown flag: %s\nSee 'berthd --help'.\n",
                                argv[optind - 1]);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "berthd: unexpected argument '%s'\nSee 'berthd --help'.\n",
                        argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* Flags override the file, which overrides the built-in defaults. */
static int apply_flags(struct berth_config *cfg, const struct flags *fl, struct berth_err *err)
{
        const struct {
                const char *flag;
                const char *value;
                char **dst;
        } paths[] = {
            {"--data-root", fl->data_root, &cfg->data_root},
            {"--exec-root", fl->exec_root, &cfg->exec_root},
            {"--pidfile", fl->pidfile, &cfg->pidfile},
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                if (!paths[i].value)
                        continue;
                if (paths[i].value[0] != '/')
                        return err_set(err, -EINVAL, "%s '%s': must be an absolute path",
                                       paths[i].flag, paths[i].value);
                free(*paths[i].dst);
                *paths[i].dst = xstrdup(paths[i].value);
        }
        if (fl->host) {
                char *p;
                if (parse_host(fl->host, &p) < 0)
                        return err_set(err, -EINVAL,
                                       "-H '%s': berthd listens on unix:///absolute/path only",
                                       fl->host);
                free(cfg->host);
                cfg->host = p;
        }
        if (fl->log_level && parse_log_level(fl->log_level, &cfg->log_level) < 0)
                return err_set(err, -EINVAL,
                               "--log-level '%s': must be one of debug, info, warn, error, fatal",
                               fl->log_level);
        if (fl->debug)
                cfg->log_level = BERTH_LOG_DEBUG;
        for (char **i = fl->insecure; i && *i; i++)
                cfg->registry_insecure = strv_push(cfg->registry_insecure, xstrdup(*i));
        if (!cfg->pidfile)
                cfg->pidfile = xasprintf("%s/berthd.pid", cfg->exec_root);
        return 0;
}

/* One berthd per data root: an flock held for the daemon's life. The lock
 * file also says who holds it, for the message. */
static int lock_data_root(const char *data_root, int *ret_fd, struct berth_err *err)
{
        _cleanup_free_ char *path = xasprintf("%s/berthd.lock", data_root);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return err_errno(err, -errno, "cannot open lock file '%s'", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;
                char pid[32] = "";
                ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
                if (n > 0)
                        pid[strcspn(pid, "\n")] = '\0';
                if (r == -EWOULDBLOCK)
                        return err_set(err, -EBUSY,
                                       "another berthd (pid %s) is already using data root '%s'",
                                       *pid ? pid : "unknown", data_root);
                return err_errno(err, r, "cannot lock '%s'", path);
        }
        char buf[32];
        int l = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)l, 0) != l)
                return err_errno(err, -errno, "cannot write lock file '%s'", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_pidfile(const char *path, struct berth_err *err)
{
        _cleanup_free_ char *old = NULL;
        if (read_one_line(path, &old) == 0) {
                int64_t pid;
                /* a zombie (a daemon killed whose parent has not reaped it,
                 * as under an init that does not reap) runs no more */
                _cleanup_free_ char *stat_path = xasprintf("/proc/%s/stat", old);
                _cleanup_free_ char *stat = NULL;
                const char *paren =
                    read_one_line(stat_path, &stat) == 0 ? strrchr(stat, ')') : NULL;
                bool zombie = paren && paren[1] == ' ' && paren[2] == 'Z';
                if (parse_int64(old, &pid) == 0 && pid > 0 && pid != getpid() && !zombie &&
                    kill((pid_t)pid, 0) == 0) {
                        _cleanup_free_ char *comm_path =
                            xasprintf("/proc/%lld/comm", (long long)pid);
                        _cleanup_free_ char *comm = NULL;
                        if (read_one_line(comm_path, &comm) == 0 && streq(comm, "berthd"))
                                return err_set(err, -EBUSY,
                                               "pid file '%s' names a running berthd (pid %lld)",
                                               path, (long long)pid);
                }
        }
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        if (*dir)
                mkdir_p(dir, 0755);
        char buf[32];
        int l = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        int r = write_file_atomic(path, buf, (size_t)l, 0644);
        if (r < 0)
                return err_errno(err, r, "cannot write pid file '%s'", path);
        return 0;
}

static int listen_unix(const char *path, int *ret_fd, struct berth_err *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return err_set(err, -ENAMETOOLONG, "socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);

        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        if (*dir) {
                int r = mkdir_p(dir, 0755);
                if (r < 0)
                        return err_errno(err, r, "cannot create '%s'", dir);
        }

        /* A socket file that answers belongs to a live daemon; one that does
         * not is left over from a crash and goes. */
        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return err_set(err, -EADDRINUSE, "socket '%s' is in use by another daemon", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return err_errno(err, -errno, "cannot remove stale socket '%s'", path);

        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return err_errno(err, -errno, "socket");
        mode_t old = umask(0117);
        int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return err_errno(err, -errno, "cannot bind '%s'", path);
        if (listen(fd, 128) < 0) {
                r = -errno;
                unlink(path);
                return err_errno(err, r, "cannot listen on '%s'", path);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int main(int argc, char **argv)
{
        struct flags fl = {0};
        struct berth_config cfg;
        struct berth_err err = {0};
        struct engine *engine = NULL;
        struct api_server *server = NULL;
        int lock_fd = -1, listen_fd = -1, r, status = EXIT_FAILURE;
        bool pidfile_written = false, socket_bound = false;
        sigset_t mask;

        /* One malloc arena for every thread: a thread per connection would
         * otherwise leave arenas of its own holding freed memory that the
         * idle trim cannot return (measured: 1.1 MB of an idle daemon's RSS
         * after a pull, a push and a load); berthd's threads wait on I/O,
         * not on malloc. */
        mallopt(M_ARENA_MAX, 1);

        if (parse_flags(argc, argv, &fl) < 0)
                return 125;
        log_setup("berthd", BERTH_LOG_INFO);

        config_init(&cfg);
        /* --config-file, else $BERTH_CONFIG_FILE (which the CLI also reads to
         * find the socket), else the default path if it exists. */
        if (!fl.config_file && getenv("BERTH_CONFIG_FILE") && *getenv("BERTH_CONFIG_FILE"))
                fl.config_file = getenv("BERTH_CONFIG_FILE");
        r = config_load(&cfg, fl.config_file, &err);
        if (r >= 0)
                r = apply_flags(&cfg, &fl, &err);
        strv_free(fl.insecure);
        if (r < 0) {
                log_error("%s", err.msg);
                config_done(&cfg);
                return EXIT_FAILURE;
        }
        log_setup("berthd", cfg.log_level);

        /* Signals are taken synchronously by the main thread below; every
         * thread started from here on inherits the blocked mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = mkdir_p(cfg.data_root, 0711);
        if (r < 0) {
                err_errno(&err, r, "cannot create data root '%s'", cfg.data_root);
                goto fail;
        }
        r = mkdir_p(cfg.exec_root, 0711);
        if (r < 0) {
                err_errno(&err, r, "cannot create exec root '%s'", cfg.exec_root);
                goto fail;
        }
        r = lock_data_root(cfg.data_root, &lock_fd, &err);
        if (r < 0)
                goto fail;
        /* before the engine opens: a daemon that will refuse to run must not
         * restore (or reap) another one's containers first */
        r = write_pidfile(cfg.pidfile, &err);
        if (r < 0)
                goto fail;
        pidfile_written = true;
        r = engine_open(&cfg, &engine, &err);
        for (char **w = cfg.warnings; *w; w++)
                log_warn("%s", *w);
        if (r < 0)
                goto fail;
        r = listen_unix(cfg.host, &listen_fd, &err);
        if (r < 0)
                goto fail;
        socket_bound = true;
        r = api_server_start(engine, listen_fd, &server, &err);
        if (r < 0)
                goto fail;
        listen_fd = -1; /* the HTTP server owns and closes it */

        log_info("berthd %s (build %s) serving API %s on unix://%s, data root %s, config %s",
                 BERTH_VERSION, BERTH_GIT_COMMIT, API_VERSION, cfg.host, cfg.data_root,
                 cfg.path ? cfg.path : "built-in defaults");
        /* Start-up frees far more than it keeps (the seccomp profile's
         * compilation, the stores' scans): give those pages back, 0.8 MB of
         * the idle daemon's RSS. */
        malloc_trim(0);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&mask, &si);
                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        err_errno(&err, -errno, "sigwaitinfo");
                        goto fail;
                }
                if (sig == SIGHUP) {
                        log_info("SIGHUP: configuration reload is not supported, ignoring");
                        continue;
                }
                log_info("received %s, shutting down", strsignal(sig));
                break;
        }
        status = EXIT_SUCCESS;
        goto out;

fail:
        log_error("%s", err_msg(&err));
out:
        /* Stop taking requests first, then remove the socket so that a
         * client never connects to a daemon that is going away. */
        api_server_stop(server);
        if (listen_fd >= 0)
                close(listen_fd);
        if (socket_bound)
                unlink(cfg.host);
        if (pidfile_written)
                unlink(cfg.pidfile);
        /* With requests still in flight the engine stays as it is (their
         * threads may use it); containers run on under their shims either
         * way. A failed start has no server and closes the engine. */
        if (!server)
                engine_close(engine);
        else
                engine_shutdown(engine);
        /* the host-wide names this daemon held, also with the engine left
         * standing; engine_close() has given its own up */
        hostlock_release_all();
        if (lock_fd >= 0)
                close(lock_fd);
        config_done(&cfg);
        return status;
}
