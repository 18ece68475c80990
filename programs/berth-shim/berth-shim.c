/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-shim STATE_DIR: see shim.h for the protocol. Single-threaded and
 * small on purpose (it stays for the container's whole life): one poll loop
 * over the output pipes or PTY, the control socket, its clients and a
 * signalfd. */
#include "shim.h"
#include "driver/driver.h"
#include "base/json.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>

#define MAX_CLIENTS  64
#define LINE_MAX_LOG (16 * 1024)
#define MAX_EXECS    16
#define SHED_IDLE_MS 5000 /* see shed_memory() */

struct client {
        int fd;
        bool want_out, want_err, want_in;
        bool is_wait;
        int exec; /* index of the exec session this connection streams, or -1 */

        char req[128];
        size_t req_len;
        bool established;
};

struct shim {
        char *dir;
        json_t *cfg;
        const char *id;
        bool tty, open_stdin, stdin_once;
        pid_t pid;
        int out_fd, err_fd; /* pipes, or out_fd = the PTY master */
        int in_fd;          /* the container's stdin (pipe write end or PTY master dup) */
        int listen_fd;
        int sync_fd;
        int sig_fd;
        struct client clients[MAX_CLIENTS];
        struct exec_session {
                bool used;
                char id[65];
                pid_t pid;
                int out_fd, err_fd, in_fd;
                int client; /* -1: detached */
                bool tty;   /* out_fd is the PTY master, err_fd unused */
                bool exited;
                int status;
        } execs[MAX_EXECS];

        /* logging */
        struct berth_config bcfg;
        struct driver *log;
        void *writer;
        char linebuf[2][LINE_MAX_LOG];
        size_t linelen[2];
        bool exited;
        int exit_code;
};

static void shed_memory(void);

static void fatal_sync(struct shim *s, const struct berth_err *err)
{
        char buf[BERTH_ERR_MSG_MAX + 48];
        json_t *j =
            json_pack("{s:s, s:i}", "error", err_msg(err), "errno", err->code < 0 ? -err->code : 0);
        char *t = json_dumps(j, JSON_COMPACT);
        snprintf(buf, sizeof(buf), "%s\n", t ? t : "{\"error\":\"(not UTF-8)\"}");
        free(t);
        json_decref(j);
        if (s->sync_fd >= 0)
                (void)!write(s->sync_fd, buf, strlen(buf));
}

/* --- logging ------------------------------------------------------------- */

static void log_chunk(struct shim *s, uint32_t stream, const char *data, size_t len)
{
        if (!s->writer)
                return;
        int k = stream == BERTH_LOG_STDERR ? 1 : 0;
        int64_t t = now_ns();
        /* Split into lines; a line longer than the buffer goes out in pieces
         * marked partial, as Docker does. */
        for (size_t i = 0; i < len; i++) {
                s->linebuf[k][s->linelen[k]++] = data[i];
                bool nl = data[i] == '\n';
                if (nl || s->linelen[k] == LINE_MAX_LOG) {
                        struct berth_log_msg m = {.stream = stream,
                                                  .partial = !nl,
                                                  .time_ns = t,
                                                  .line = s->linebuf[k],
                                                  .len = s->linelen[k]};
                        berth_logging_write(s->log, s->writer, &m, 0, NULL);
                        s->linelen[k] = 0;
                }
        }
}

static void log_flush(struct shim *s)
{
        for (int k = 0; k < 2; k++)
                if (s->writer && s->linelen[k]) {
                        struct berth_log_msg m = {.stream = k ? BERTH_LOG_STDERR : BERTH_LOG_STDOUT,
                                                  .partial = 1,
                                                  .time_ns = now_ns(),
                                                  .line = s->linebuf[k],
                                                  .len = s->linelen[k]};
                        berth_logging_write(s->log, s->writer, &m, 0, NULL);
                        s->linelen[k] = 0;
                }
}

static const char *log_driver(json_t *cfg)
{
        return json_get_str(json_object_get(cfg, "log"), "driver", "json-file");
}

static int open_log(struct shim *s, struct berth_err *err)
{
        json_t *lc = json_object_get(s->cfg, "log");
        const char *driver = log_driver(s->cfg);
        config_init(&s->bcfg);
        const char *cf = json_get_str(s->cfg, "config_file", NULL);
        if (cf) {
                int r = config_load(&s->bcfg, cf, err);
                if (r < 0)
                        return r;
        }
        free(s->bcfg.plugin_dir);
        s->bcfg.plugin_dir = xstrdup(json_get_str(s->cfg, "plugin_dir", BERTH_PLUGINDIR));
        free(s->bcfg.data_root);
        s->bcfg.data_root = xstrdup(json_get_str(s->cfg, "data_root", "/var/lib/berth"));
        free(s->bcfg.exec_root);
        s->bcfg.exec_root = xstrdup(json_get_str(s->cfg, "exec_root", "/run/berth"));
        int r = driver_load(&s->bcfg, BERTH_KIND_LOGGING, driver, &s->log, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **opts = xzalloc(sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(lc, "options"), k, v)
                opts = strv_push(opts, xasprintf("%s=%s", k, json_string_value(v) ?: ""));
        struct berth_log_info info = {
            .container_id = s->id,
            .container_name = json_get_str(s->cfg, "name", ""),
            .image = json_get_str(s->cfg, "image", ""),
            .log_dir = json_get_str(lc, "dir", s->dir),
            .options = (const char *const *)opts,
        };
        r = berth_logging_open(s->log, &info, &s->writer, 0, err);
        if (r == -ENOTSUP) /* a driver that does not store anything */
                return 0;
        return r;
}

/* --- clients ------------------------------------------------------------- */

static void client_close(struct client *c)
{
        c->fd = safe_close(c->fd);
        *c = (struct client){.fd = -1, .exec = -1};
}

/* --- exec sessions ---------------------------------------------------------
 * "exec ID [stdin] [detach] [tty]": the process is <dir>/exec-ID.json (an OCI
 * process), its exit code goes to <dir>/exec-ID.exit before its stream is
 * closed, so berthd can report it the moment the client sees the end. With
 * tty the runtime makes a PTY inside the container (as for the init of a
 * `run -t`) and hands its master back over a socketpair; the stream is then
 * raw. */

static int start_exec(struct shim *s, struct client *c, int ci, char **w)
{
        struct berth_err err = {0};
        const char *eid = w[1];
        bool want_stdin = false, detach = false, tty = false;
        for (char **x = w + 1; *x && x[1]; x++) {
                want_stdin |= streq(x[1], "stdin");
                detach |= streq(x[1], "detach");
                tty |= streq(x[1], "tty");
        }
        if (!eid || strlen(eid) != 64 || strspn(eid, "0123456789abcdef") != 64)
                return err_set(&err, -EINVAL, "bad exec id"), -EINVAL;
        int slot = -1;
        for (int i = 0; i < MAX_EXECS; i++)
                if (!s->execs[i].used) {
                        slot = i;
                        break;
                }
        _cleanup_free_ char *path = xasprintf("%s/exec-%s.json", s->dir, eid);
        _cleanup_json_ json_t *j = NULL;
        struct runtime_process proc = {0};
        int r = slot < 0 ? err_set(&err, -EBUSY, "too many exec sessions") : 0;
        if (r >= 0)
                r = json_load_path(path, &j, &err);
        if (r >= 0)
                r = runtime_process_parse(j, &proc, &err);
        int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, sp[2] = {-1, -1};
        pid_t pid = -1;
        if (r >= 0 && tty && !proc.terminal)
                r = err_set(&err, -EINVAL, "exec with a TTY: the process has no terminal");
        if (r >= 0 && tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                r = err_errno(&err, -errno, "socketpair");
        if (r >= 0 && !tty &&
            ((want_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
             pipe2(er, O_CLOEXEC) < 0))
                r = err_errno(&err, -errno, "pipe");
        if (r >= 0) {
                struct runtime_exec_opts eo = {.has_console_fd = tty, .console_fd = sp[1]};
                int saved[3] = {dup(0), dup(1), dup(2)};
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(want_stdin && !tty ? in[0] : null, 0);
                dup2(tty ? null : out[1], 1);
                dup2(tty ? null : er[1], 2);
                close(null);
                r = runtime_exec(json_get_str(s->cfg, "runtime_root", NULL), s->id, &proc, &eo,
                                 &pid, &err);
                for (int k = 0; k < 3; k++) {
                        dup2(saved[k], k);
                        close(saved[k]);
                }
        }
        if (r >= 0 && tty) {
                int m = fd_recv(sp[0]);
                if (m < 0) {
                        r = err_errno(&err, m, "receive the exec's terminal from the runtime");
                        kill(pid, SIGKILL);
                } else {
                        out[0] = m;
                        if (want_stdin)
                                in[1] = fcntl(m, F_DUPFD_CLOEXEC, 3);
                }
        }
        safe_close(sp[0]);
        safe_close(sp[1]);
        runtime_process_done(&proc);
        safe_close(in[0]);
        safe_close(out[1]);
        safe_close(er[1]);
        if (r < 0) {
                safe_close(in[1]);
                safe_close(out[0]);
                safe_close(er[0]);
                _cleanup_free_ char *msg = xasprintf("error %s\n", err_msg(&err));
                for (char *p = msg; p[1]; p++)
                        if (*p == '\n')
                                *p = ' ';
                (void)!write(c->fd, msg, strlen(msg));
                return r;
        }
        struct exec_session *e = &s->execs[slot];
        *e = (struct exec_session){.used = true,
                                   .pid = pid,
                                   .out_fd = out[0],
                                   .err_fd = er[0],
                                   .in_fd = in[1],
                                   .tty = tty,
                                   .client = detach ? -1 : ci};
        snprintf(e->id, sizeof(e->id), "%s", eid);
        char ok[32];
        int l = snprintf(ok, sizeof(ok), "ok %d\n", (int)pid);
        (void)!write(c->fd, ok, (size_t)l);
        if (!detach) {
                c->exec = slot;
                c->established = true;
                c->want_in = want_stdin;
        }
        shed_memory(); /* the runtime's exec path */
        return detach ? 1 : 0;
}

static void exec_output(struct shim *s, struct exec_session *e, int stream)
{
        int *fd = stream == 2 ? &e->err_fd : &e->out_fd;
        char buf[32768];
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n <= 0) {
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        return;
                /* EOF, or EIO from a PTY master once its slave is closed */
                *fd = safe_close(*fd);
                return;
        }
        if (e->client < 0 || s->clients[e->client].fd < 0)
                return;
        size_t len = (size_t)n;
        if (e->tty) {
                if (loop_write(s->clients[e->client].fd, buf, len) < 0)
                        client_close(&s->clients[e->client]);
                return;
        }
        unsigned char hdr[8] = {(unsigned char)stream,
                                0,
                                0,
                                0,
                                (unsigned char)(len >> 24),
                                (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8),
                                (unsigned char)len};
        int cfd = s->clients[e->client].fd;
        if (loop_write(cfd, hdr, sizeof(hdr)) < 0 || loop_write(cfd, buf, len) < 0)
                client_close(&s->clients[e->client]);
}

/* The exec's process has exited and its output is drained: record the exit
 * code, then end the stream. */
static void exec_finish(struct shim *s, struct exec_session *e)
{
        int code = WIFEXITED(e->status) ? WEXITSTATUS(e->status) : 128 + WTERMSIG(e->status);
        _cleanup_free_ char *path = xasprintf("%s/exec-%s.exit", s->dir, e->id);
        char buf[64];
        int l = snprintf(buf, sizeof(buf), "{\"ExitCode\":%d}\n", code);
        write_file_replace(path, buf, (size_t)l, 0644);
        if (e->client >= 0)
                client_close(&s->clients[e->client]);
        safe_close(e->in_fd);
        safe_close(e->out_fd);
        safe_close(e->err_fd);
        *e = (struct exec_session){0};
        shed_memory();
}

/* Send output to each attached client that asked for the stream. A client
 * that cannot keep up loses its connection rather than stalling the
 * container (its output is in the log). */
static void fan_out(struct shim *s, int stream, const char *data, size_t len)
{
        unsigned char hdr[8] = {(unsigned char)stream,
                                0,
                                0,
                                0,
                                (unsigned char)(len >> 24),
                                (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8),
                                (unsigned char)len};
        for (int i = 0; i < MAX_CLIENTS; i++) {
                struct client *c = &s->clients[i];
                if (c->fd < 0 || !c->established || c->is_wait)
                        continue;
                if ((stream == 1 && !c->want_out) || (stream == 2 && !c->want_err))
                        continue;
                int r = 0;
                if (!s->tty)
                        r = loop_write(c->fd, hdr, sizeof(hdr));
                if (r >= 0)
                        r = loop_write(c->fd, data, len);
                if (r < 0)
                        client_close(c);
        }
}

static void handle_output(struct shim *s, int fd, int stream)
{
        char buf[32768];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        return;
                /* EOF (or EIO on a PTY whose last holder went away) */
                if (stream == 2)
                        s->err_fd = safe_close(s->err_fd);
                else
                        s->out_fd = safe_close(s->out_fd);
                return;
        }
        log_chunk(s, stream == 2 ? BERTH_LOG_STDERR : BERTH_LOG_STDOUT, buf, (size_t)n);
        fan_out(s, stream, buf, (size_t)n);
}

static void parse_request(struct shim *s, struct client *c)
{
        c->req[c->req_len] = '\0';
        c->req[strcspn(c->req, "\r\n")] = '\0';
        _cleanup_strv_ char **w = strv_split(c->req, " ");
        if (!w[0]) {
                client_close(c);
                return;
        }
        if (streq(w[0], "attach")) {
                for (char **x = w + 1; *x; x++) {
                        if (streq(*x, "stdin"))
                                c->want_in = s->in_fd >= 0;
                        else if (streq(*x, "stdout"))
                                c->want_out = true;
                        else if (streq(*x, "stderr"))
                                c->want_err = true;
                }
                c->established = true;
                (void)!write(c->fd, "ok\n", 3);
        } else if (streq(w[0], "resize") && w[1] && w[2]) {
                /* "resize H W" for the container, "resize H W EXEC-ID" for
                 * an exec session */
                struct winsize ws = {.ws_row = (unsigned short)atoi(w[1]),
                                     .ws_col = (unsigned short)atoi(w[2])};
                if (w[3]) {
                        for (int i = 0; i < MAX_EXECS; i++)
                                if (s->execs[i].used && s->execs[i].tty &&
                                    streq(s->execs[i].id, w[3]) && s->execs[i].out_fd >= 0)
                                        ioctl(s->execs[i].out_fd, TIOCSWINSZ, &ws);
                } else if (s->tty && s->out_fd >= 0)
                        ioctl(s->out_fd, TIOCSWINSZ, &ws);
                (void)!write(c->fd, "ok\n", 3);
                client_close(c);
        } else if (streq(w[0], "wait")) {
                c->is_wait = true;
                c->established = true;
        } else if (streq(w[0], "exec")) {
                int r = start_exec(s, c, (int)(c - s->clients), w);
                if (r != 0)
                        client_close(c);
        } else {

                (void)!write(c->fd, "error unknown request\n", 22);
                client_close(c);
        }
}

static void handle_client(struct shim *s, struct client *c)
{
        if (!c->established) {
                ssize_t n = read(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len);
                if (n <= 0) {
                        client_close(c);
                        return;
                }
                c->req_len += (size_t)n;
                char *nl = memchr(c->req, '\n', c->req_len);
                if (!nl) {
                        if (c->req_len >= sizeof(c->req) - 1)
                                client_close(c);
                        return;
                }
                /* bytes after the request line are already stdin */
                size_t rest = c->req_len - (size_t)(nl + 1 - c->req);
                char extra[128];
                memcpy(extra, nl + 1, rest);
                c->req_len = (size_t)(nl - c->req);
                parse_request(s, c);
                if (c->fd >= 0 && rest && c->want_in && s->in_fd >= 0)
                        loop_write(s->in_fd, extra, rest);
                return;
        }
        char buf[32768];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (c->exec >= 0) {
                struct exec_session *e = &s->execs[c->exec];
                if (n > 0) {
                        if (e->in_fd >= 0)
                                loop_write(e->in_fd, buf, (size_t)n);
                        return;
                }
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        return;
                /* stdin ended: the exec's stdin ends; its output goes on */
                e->in_fd = safe_close(e->in_fd);
                c->want_in = false;
                return;
        }
        if (n > 0) {
                if (c->want_in && s->in_fd >= 0)
                        loop_write(s->in_fd, buf, (size_t)n);
                return;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;

        /* The client half-closed (stdin EOF) or went away. */
        if (c->want_in && s->stdin_once && !s->tty)
                s->in_fd = safe_close(s->in_fd);
        if (c->is_wait || !c->want_out)
                client_close(c);
        else {
                /* keep sending output: stop reading from it */
                c->want_in = false;
                shutdown(c->fd, SHUT_RD);
                c->is_wait = false;
                c->req_len = 0;
                c->established = true;
                /* mark so poll no longer watches it for input */
                c->want_in = false;
        }
}

static void accept_client(struct shim *s)
{
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i].fd < 0) {
                        s->clients[i] = (struct client){.fd = fd, .exec = -1};
                        return;
                }

        close(fd);
}

/* --- exit ------------------------------------------------------------------ */

/* After start, berthd keeps the sync channel as its monitor connection: the
 * exit line goes there as to any "wait" client (one connection less on the
 * path of every start). */
static void sync_becomes_wait(struct shim *s)
{
        for (int i = 0; i < MAX_CLIENTS; i++) {
                struct client *c = &s->clients[i];
                if (c->fd >= 0)
                        continue;
                *c = (struct client){
                    .fd = s->sync_fd, .exec = -1, .is_wait = true, .established = true};
                s->sync_fd = -1;
                return;
        }
        s->sync_fd = safe_close(s->sync_fd);
}

static void finish(struct shim *s, int status)
{
        const char *root = json_get_str(s->cfg, "runtime_root", RUNTIME_DEFAULT_ROOT);
        struct berth_err err = {0};
        bool oom = false;
        runtime_oom_killed(root, s->id, &oom, &err);
        s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        /* Output still in the pipes belongs to the container's last words. */
        for (int round = 0; round < 100 && (s->out_fd >= 0 || s->err_fd >= 0); round++) {
                struct pollfd p[2] = {{s->out_fd, POLLIN, 0}, {s->err_fd, POLLIN, 0}};
                if (poll(p, 2, 50) <= 0)
                        break;
                if (p[0].revents)
                        handle_output(s, s->out_fd, 1);
                if (p[1].revents)
                        handle_output(s, s->err_fd, 2);
        }
        log_flush(s);
        if (s->writer)
                berth_logging_close(s->log, s->writer, 0);
        s->writer = NULL;
        runtime_delete(root, s->id, true, &err);

        _cleanup_free_ char *finished = json_time_ns(now_ns());
        json_t *ex = json_pack("{s:i, s:b, s:s}", "ExitCode", s->exit_code, "OOMKilled", oom,
                               "FinishedAt", finished);
        _cleanup_free_ char *path = xasprintf("%s/%s", s->dir, SHIM_EXIT);
        json_save_volatile(path, ex, 0644, &err);
        char *line = json_dumps(ex, JSON_COMPACT);
        json_decref(ex);
        for (int i = 0; i < MAX_CLIENTS; i++) {
                struct client *c = &s->clients[i];
                if (c->fd < 0)
                        continue;
                if (c->is_wait && line) {
                        loop_write(c->fd, line, strlen(line));
                        loop_write(c->fd, "\n", 1);
                }
                client_close(c);
        }
        free(line);
        _cleanup_free_ char *sock = xasprintf("%s/%s", s->dir, SHIM_SOCKET);
        unlink(sock);
        _cleanup_free_ char *pidf = xasprintf("%s/%s", s->dir, SHIM_PIDFILE);
        unlink(pidf);
        exit(0);
}

/* --- memory ----------------------------------------------------------------
 * The shim stays for the container's whole life, and most of the code it ran
 * to get there (the runtime: the spec, mounts, cgroups, seccomp's compiler)
 * it will not run again. After such work (the start, an exec's set-up and
 * end) and after SHED_IDLE_MS without any event, it gives those pages back:
 * the read-only segments of the program and of every object it maps (code
 * and constants: clean file pages, which come back from the page cache on
 * their next use) leave its page tables, and free heap goes back to the
 * kernel. What the monitor loop runs comes back on first use, 64 KiB around
 * each fault (the kernel's fault-around). Writable segments are not touched:
 * MADV_DONTNEED would lose their data. The cost is a few page faults after
 * each shed; the gain is a shim whose resident set is what it runs now. */

static int shed_object(struct dl_phdr_info *info, size_t size, void *data)
{
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        for (int i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
                        continue;
                uintptr_t a = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
                uintptr_t b =
                    (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
                madvise((void *)a, b - a, MADV_DONTNEED);
        }
        return 0;
}

static void shed_memory(void)
{
        malloc_trim(0);
        dl_iterate_phdr(shed_object, NULL);
}

/* --- setup ----------------------------------------------------------------- */

static int listen_socket(struct shim *s, struct berth_err *err)
{
        struct sockaddr_un sa;
        _cleanup_free_ char *path = xasprintf("%s/%s", s->dir, SHIM_SOCKET);
        _cleanup_close_ int dirfd = -1;
        if (unix_sockaddr(path, &sa, &dirfd) < 0)
                return err_set(err, -ENAMETOOLONG, "socket path '%s' is too long", path);
        unlink(path);

        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(s->listen_fd, 16) < 0)
                return err_errno(err, -errno, "listen on '%s'", path);
        return 0;
}

static int create_container(struct shim *s, struct berth_err *err)
{
        _cleanup_(runtime_spec_freep) struct runtime_spec *spec = NULL;
        const char *bundle = json_get_str(s->cfg, "bundle", s->dir);
        int r = runtime_spec_load(bundle, &spec, err);
        if (r < 0)
                return r;
        struct runtime_create_opts o = {
            .root = json_get_str(s->cfg, "runtime_root", NULL),
            .id = s->id,
            .console_fd = -1,
            .init = json_get_bool(s->cfg, "init", false),
        };
        int sp[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
        int saved[3] = {dup(0), dup(1), dup(2)};
        if (s->tty) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        return err_errno(err, -errno, "socketpair");
                o.console_fd = sp[1];
        } else {
                if ((s->open_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
                    pipe2(errp, O_CLOEXEC) < 0)
                        return err_errno(err, -errno, "pipe");
                /* The container's process inherits 0, 1 and 2. */
                if (s->open_stdin)
                        dup2(in[0], 0);
                else {
                        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        dup2(null, 0);
                        close(null);
                }
                dup2(out[1], 1);
                dup2(errp[1], 2);
        }
        r = runtime_create(spec, &o, &s->pid, err);
        dup2(saved[0], 0);
        dup2(saved[1], 1);
        dup2(saved[2], 2);
        for (int i = 0; i < 3; i++)
                close(saved[i]);
        if (s->tty) {
                close(sp[1]);
                if (r >= 0) {
                        int m = fd_recv(sp[0]);
                        if (m < 0)
                                r = err_errno(err, m, "receive the console from the runtime");
                        else {
                                s->out_fd = m;
                                s->in_fd = dup(m);
                                fcntl(s->in_fd, F_SETFD, FD_CLOEXEC);
                                json_t *size = json_object_get(s->cfg, "console_size");
                                if (json_array_size(size) == 2) {
                                        struct winsize ws = {
                                            .ws_row = (unsigned short)json_integer_value(
                                                json_array_get(size, 0)),
                                            .ws_col = (unsigned short)json_integer_value(
                                                json_array_get(size, 1))};
                                        ioctl(m, TIOCSWINSZ, &ws);
                                }
                        }
                }
                close(sp[0]);
        } else {
                safe_close(in[0]);
                close(out[1]);
                close(errp[1]);
                s->in_fd = in[1];
                s->out_fd = out[0];
                s->err_fd = errp[0];
        }
        return r;
}

static int run(struct shim *s)
{
        struct berth_err err = {0};
        int r;
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        s->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);

        r = open_log(s, &err);
        if (r >= 0)
                r = listen_socket(s, &err);
        if (r >= 0)
                r = create_container(s, &err);
        if (r < 0) {
                fatal_sync(s, &err);
                return 1;
        }
        _cleanup_free_ char *pidf = xasprintf("%s/%s", s->dir, SHIM_PIDFILE);
        char buf[64];
        int l = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
        write_file_replace(pidf, buf, (size_t)l, 0644);
        l = snprintf(buf, sizeof(buf), "{\"pid\":%d}\n", (int)s->pid);
        loop_write(s->sync_fd, buf, (size_t)l);

        for (int i = 0; i < MAX_CLIENTS; i++)
                s->clients[i] = (struct client){.fd = -1, .exec = -1};
        bool started = false, shed = true;
        for (;;) {
                struct pollfd p[MAX_CLIENTS + 5 + 2 * MAX_EXECS];

                int idx[MAX_CLIENTS];
                int n = 0;
                p[n++] = (struct pollfd){s->sig_fd, POLLIN, 0};
                p[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
                p[n++] = (struct pollfd){started ? s->out_fd : -1, POLLIN, 0};
                p[n++] = (struct pollfd){started ? s->err_fd : -1, POLLIN, 0};
                p[n++] = (struct pollfd){s->sync_fd, POLLIN, 0};
                int base = n;
                for (int i = 0; i < MAX_CLIENTS; i++) {
                        struct client *c = &s->clients[i];
                        bool want_read =
                            c->fd >= 0 && (!c->established || c->want_in || c->is_wait);
                        idx[n - base] = i;
                        p[n++] = (struct pollfd){want_read ? c->fd : -1, POLLIN, 0};
                }
                int ebase = n;
                for (int i = 0; i < MAX_EXECS; i++) {
                        p[n++] =
                            (struct pollfd){s->execs[i].used ? s->execs[i].out_fd : -1, POLLIN, 0};
                        p[n++] =
                            (struct pollfd){s->execs[i].used ? s->execs[i].err_fd : -1, POLLIN, 0};
                }

                /* Once things have been quiet for a while, give back what
                 * the last burst of work touched (a log rotation, its
                 * compression, an attach): an idle shim stays small. */
                int ready = poll(p, (nfds_t)n, shed ? -1 : SHED_IDLE_MS);
                if (ready < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (ready == 0) {
                        shed_memory();
                        shed = true;
                        continue;
                }
                shed = false;
                if (p[0].revents) {
                        struct signalfd_siginfo si;
                        if (read(s->sig_fd, &si, sizeof(si)) == sizeof(si) &&
                            si.ssi_signo == SIGCHLD) {
                                int status;
                                pid_t w;
                                while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
                                        if (w == s->pid)
                                                finish(s, status);
                                        for (int i = 0; i < MAX_EXECS; i++)
                                                if (s->execs[i].used && s->execs[i].pid == w) {
                                                        s->execs[i].exited = true;
                                                        s->execs[i].status = status;
                                                }
                                }
                        }
                        /* SIGTERM, SIGINT, SIGHUP: the shim stays with its
                         * container; berthd stops containers through the
                         * runtime. */
                }
                if (p[1].revents)
                        accept_client(s);
                if (p[2].revents)
                        handle_output(s, s->out_fd, 1);
                if (p[3].revents)
                        handle_output(s, s->err_fd, 2);
                if (p[4].revents) {
                        char cmd[64];
                        ssize_t k = read(s->sync_fd, cmd, sizeof(cmd) - 1);
                        if (k <= 0) {
                                /* berthd went away: the container goes on. If
                                 * it never said start, start it: a created
                                 * container must not wait forever. */
                                s->sync_fd = safe_close(s->sync_fd);
                                if (!started) {
                                        runtime_start(json_get_str(s->cfg, "runtime_root", NULL),
                                                      s->id, &err);
                                        started = true;
                                }
                        } else {
                                cmd[k] = '\0';
                                if (startswith(cmd, "start") && !started) {
                                        r = runtime_start(
                                            json_get_str(s->cfg, "runtime_root", NULL), s->id,
                                            &err);
                                        started = true;
                                        if (r < 0) {
                                                fatal_sync(s, &err);
                                                s->sync_fd = safe_close(s->sync_fd);
                                        } else {
                                                loop_write(s->sync_fd, "{\"started\":true}\n", 17);
                                                sync_becomes_wait(s);
                                                shed_memory();
                                        }
                                }
                        }
                }
                for (int i = base; i < ebase; i++)
                        if (p[i].revents && s->clients[idx[i - base]].fd >= 0)
                                handle_client(s, &s->clients[idx[i - base]]);
                for (int i = 0; i < MAX_EXECS; i++) {
                        struct exec_session *e = &s->execs[i];
                        if (!e->used)
                                continue;
                        if (p[ebase + 2 * i].revents && e->out_fd >= 0)
                                exec_output(s, e, 1);
                        if (p[ebase + 2 * i + 1].revents && e->err_fd >= 0)
                                exec_output(s, e, 2);
                        if (e->exited && e->tty && e->out_fd >= 0) {
                                /* Processes the exec left behind may hold
                                 * the PTY open: the session ends with its
                                 * process, after what is already buffered. */
                                fcntl(e->out_fd, F_SETFL, O_NONBLOCK);
                                while (e->out_fd >= 0) {
                                        struct pollfd q = {e->out_fd, POLLIN, 0};
                                        if (poll(&q, 1, 0) <= 0)
                                                break;
                                        exec_output(s, e, 1);
                                }
                                e->out_fd = safe_close(e->out_fd);
                        }
                        if (e->exited && e->out_fd < 0 && e->err_fd < 0)
                                exec_finish(s, e);
                }
        }
        return 1;
}

int main(int argc, char **argv)
{
        struct shim s = {.out_fd = -1,
                         .err_fd = -1,
                         .in_fd = -1,
                         .listen_fd = -1,
                         .sync_fd = SHIM_SYNC_FD,
                         .sig_fd = -1};
        struct berth_err err = {0};
        if (argc != 2 || argv[1][0] != '/') {
                fprintf(stderr, "usage: berth-shim /STATE/DIR (started by berthd, not by hand)\n");
                return 2;
        }
        /* berthd runs us from a sealed copy (ct_spawn_shim), whose name
         * the kernel takes from /proc/self/fd/N: argv[0] is the file. */
        if (argv[0][0] == '/')
                program_path_set(argv[0]);
        prctl(PR_SET_NAME, program_invocation_short_name, 0, 0, 0);
        if (fcntl(SHIM_SYNC_FD, F_GETFD) < 0)
                s.sync_fd = -1;
        s.dir = argv[1];
        _cleanup_free_ char *cfgp = xasprintf("%s/%s", s.dir, SHIM_CONFIG);
        if (json_load_path(cfgp, &s.cfg, &err) < 0) {
                fatal_sync(&s, &err);
                return 1;
        }
#ifdef BERTH_SHIM_STATIC
        if (shim_static_logging(argv, log_driver(s.cfg), &err) < 0) {
                fatal_sync(&s, &err);
                return 1;
        }
#endif
        if (s.sync_fd >= 0)
                fcntl(s.sync_fd, F_SETFD, FD_CLOEXEC);
        s.id = json_get_str(s.cfg, "id", "");
        s.tty = json_get_bool(s.cfg, "tty", false);
        s.open_stdin = json_get_bool(s.cfg, "open_stdin", false);
        s.stdin_once = json_get_bool(s.cfg, "stdin_once", false);
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        return run(&s);
}
