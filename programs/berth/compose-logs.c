/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `berth compose logs`, and the log streams an attached `up` prints: one
 * thread per container, each reading GET /containers/{id}/logs on a
 * connection of its own, cutting the output into lines and printing each
 * whole line under one lock, prefixed "web-1  | " as compose v2 does. */
#include "compose.h"

#include "base/http.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* compose's colour cycle for prefixes: cyan, yellow, green, magenta, blue,
 * then the same five in bold ("intense"). */
static const char *const log_colors[] = {"36",   "33",   "32",   "35",   "34",
                                         "36;1", "33;1", "32;1", "35;1", "34;1"};

struct log_stream {
        struct compose_logs *l;
        char *id;
        char *name;        /* the container name without "<project>-" */
        const char *color; /* ANSI code, NULL: monochrome */
        bool print_exit;   /* say "exited with code N" when a followed stream ends */
        int fd;            /* the stream's connection, -1 between connections */
        pthread_t thread;
        bool started;
        bool done;       /* its thread has ended */
        bool from_start; /* read from its (last) start, not the command's --since */
        /* the line being assembled */
        char *line;
        size_t len, cap;
};

struct compose_logs {
        struct compose_cli *cc;
        struct compose_logs_opts o;
        char since[40], until[40];
        bool color;
        pthread_mutex_t lock; /* the streams list, the width, stdout */
        struct log_stream **streams;
        size_t n;
        size_t width; /* longest name + 1 */
        size_t next_color;
        bool closing;
        /* "web-1 exited with code N" when a followed stream ends: logs -f
         * says it; an attached up says it from its own events */
        bool exit_lines;
        /* logs -f: containers started later are followed too (their start
         * events, read by a thread of their own) */
        int events_fd;
        bool events_chunked;
        pthread_t events_thread;
        bool events_started;
        char **services; /* the services followed; NULL: all */
};

/* A client of the thread's own (the CLI's is not shared across threads): the
 * same daemon, its own connection and buffer. */
struct thread_client {
        struct client c;
};

static void thread_client_init(struct thread_client *t, const struct client *src)
{
        t->c = *src;
        t->c.conn = (struct http_reader){.fd = -1, .buf = xmalloc(16384), .cap = 16384};
}

static void thread_client_done(struct thread_client *t)
{
        safe_close(t->c.conn.fd);
        free(t->c.conn.buf);
}

/* The name compose shows for a container: "web-1" for "<project>-web-1",
 * the whole name when it is not the default one (container_name, or a v1
 * "<project>_web_1"). */
static char *display_name(const json_t *c)
{
        /* a /containers/json entry, or an inspect (Config.Labels, Name) */
        json_t *labels = json_object_get(c, "Labels");
        if (!labels)
                labels = json_object_get(json_object_get(c, "Config"), "Labels");
        const char *project = json_string_value(json_object_get(labels, LABEL_PROJECT));
        const char *service = json_string_value(json_object_get(labels, LABEL_SERVICE));
        const char *number = json_string_value(json_object_get(labels, LABEL_NUMBER));
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (!name)
                name = json_string_value(json_object_get(c, "Name"));
        if (!name)
                name = json_string_value(json_object_get(c, "Id")) ?: "?";
        if (*name == '/')
                name++;
        if (project && service && number) {
                _cleanup_free_ char *def = xasprintf("%s-%s-%s", project, service, number);
                if (streq(name, def))
                        return xstrdup(name + strlen(project) + 1);
        }
        return xstrdup(name);
}

/* "sec.nsec" for since=/until=, from what the user wrote. */
static int api_time(const char *s, char *buf, size_t len)
{
        int64_t ns = 0;
        if (parse_timestamp_ns(s, now_ns(), &ns) < 0)
                return -EINVAL;
        snprintf(buf, len, "%lld.%09lld", (long long)(ns / 1000000000),
                 (long long)(ns % 1000000000));
        return 0;
}

/* The prefix, as compose pads it: the name left-aligned in width columns,
 * then " | ", coloured as a whole. */
static void put_prefix(struct compose_logs *l, struct log_stream *s, FILE *f)
{
        if (l->o.no_prefix)
                return;
        if (s->color)
                fprintf(f, "\033[%sm", s->color);
        fprintf(f, "%-*s | ", (int)l->width, s->name);
        if (s->color)
                fputs("\033[0m", f);
}

/* One line in one stdio call: other threads of the process (up's own
 * messages) write to stdout too, and stdio keeps each call whole. */
static void emit_line(struct log_stream *s, const char *p, size_t n)
{
        struct compose_logs *l = s->l;
        char *text = NULL;
        size_t len = 0;
        pthread_mutex_lock(&l->lock);
        FILE *m = open_memstream(&text, &len);
        if (m) {
                put_prefix(l, s, m);
                fwrite(p, 1, n, m);
                fputc('\n', m);
                fclose(m);
                fwrite(text, 1, len, stdout);
                fflush(stdout);
                free(text);
        }
        pthread_mutex_unlock(&l->lock);
}

static void emit_status(struct log_stream *s, const char *fmt, ...) _printf_(2, 3);
static void emit_status(struct log_stream *s, const char *fmt, ...)
{
        struct compose_logs *l = s->l;
        if (!l->exit_lines)
                return;
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&l->lock);
        if (s->color)
                fprintf(stdout, "\r\033[K\033[%sm", s->color);
        fprintf(stdout, "%s ", s->name);
        vfprintf(stdout, fmt, ap);
        if (s->color)
                fputs("\033[0m", stdout);
        fputc('\n', stdout);
        fflush(stdout);
        pthread_mutex_unlock(&l->lock);
        va_end(ap);
}

/* Output bytes of the container: whole lines are printed, the rest waits. */
static void feed(struct log_stream *s, const char *p, size_t n)
{
        while (n > 0) {
                const char *nl = memchr(p, '\n', n);
                size_t take = nl ? (size_t)(nl - p) : n;
                if (s->len + take + 1 > s->cap) {
                        s->cap = (s->len + take + 1) * 2;
                        s->line = xrealloc(s->line, s->cap);
                }
                memcpy(s->line + s->len, p, take);
                s->len += take;
                if (!nl)
                        return;
                size_t len = s->len;
                if (len > 0 && s->line[len - 1] == '\r')
                        len--;
                emit_line(s, s->line, len);
                s->len = 0;
                p += take + 1;
                n -= take + 1;
        }
}

static void flush_partial(struct log_stream *s)
{
        if (s->len > 0)
                emit_line(s, s->line, s->len);
        s->len = 0;
}

/* Read one logs response to its end: raw bytes with a TTY, else the 8-byte
 * frame headers (stream, 0, 0, 0, size big-endian) before each piece. */
static void read_stream(struct log_stream *s, int fd, bool chunked, bool tty)
{
        char rbuf[16384], buf[16384];
        struct http_reader r = {.fd = fd, .buf = rbuf, .cap = sizeof(rbuf)};
        struct http_body b = {.framing = chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF};
        unsigned char hdr[8];
        size_t hdr_have = 0, frame_left = 0;
        for (;;) {
                ssize_t n = http_body_read(&r, &b, buf, sizeof(buf));
                if (n <= 0)
                        break;
                if (tty) {
                        feed(s, buf, (size_t)n);
                        continue;
                }
                for (ssize_t i = 0; i < n;) {
                        if (frame_left == 0) {
                                hdr[hdr_have++] = (unsigned char)buf[i++];
                                if (hdr_have == 8) {
                                        frame_left = ((size_t)hdr[4] << 24) |
                                                     ((size_t)hdr[5] << 16) |
                                                     ((size_t)hdr[6] << 8) | hdr[7];
                                        hdr_have = 0;
                                }
                                continue;
                        }
                        size_t take = (size_t)(n - i) < frame_left ? (size_t)(n - i) : frame_left;
                        feed(s, buf + i, take);
                        i += (ssize_t)take;
                        frame_left -= take;
                }
        }
        flush_partial(s);
}

static bool is_closing(struct compose_logs *l)
{
        pthread_mutex_lock(&l->lock);
        bool c = l->closing;
        pthread_mutex_unlock(&l->lock);
        return c;
}

/* since= for the output of a container's last start. berthd stamps
 * StartedAt a moment after the process has begun writing: 10 ms before it
 * keeps its first lines without reaching back into a previous run. */
static void since_start(json_t *info, char *buf, size_t len)
{
        int64_t t =
            parse_rfc3339_ns(json_get_str(json_object_get(info, "State"), "StartedAt", NULL));
        if (t <= 0)
                return;
        t -= 10 * 1000000;
        snprintf(buf, len, "%lld.%09lld", (long long)(t / 1000000000), (long long)(t % 1000000000));
}

/* Would the container's restart policy start it again after this exit? */
static bool policy_restarts(json_t *info, int64_t code)
{
        json_t *rp = json_object_get(json_object_get(info, "HostConfig"), "RestartPolicy");
        const char *name = json_get_str(rp, "Name", "");
        if (streq(name, "always") || streq(name, "unless-stopped"))
                return true;
        if (!streq(name, "on-failure") || code == 0)
                return false;
        int64_t max = json_get_int(rp, "MaximumRetryCount", 0);
        /* berthd counts the restart as the container exits, docker once it
         * has restarted: wait for one more either way */
        return max <= 0 || json_get_int(info, "RestartCount", 0) <= max;
}

static void *stream_main(void *arg)
{
        struct log_stream *s = arg;
        struct compose_logs *l = s->l;
        struct thread_client tc;
        thread_client_init(&tc, &l->cc->cli->client);
        _cleanup_free_ char *ip = xasprintf("/containers/%s/json", s->id);
        char since[40];
        snprintf(since, sizeof(since), "%s", l->since);
        for (;;) {
                struct berth_err err = {0};
                _cleanup_json_ json_t *info = NULL;
                if (client_json(&tc.c, "GET", ip, NULL, NULL, &info, &err) < 0)
                        break;
                bool tty = json_get_bool(json_object_get(info, "Config"), "Tty", false);
                if (s->from_start) {
                        since_start(info, since, sizeof(since));
                        s->from_start = false;
                }
                _cleanup_free_ char *tail = cli_escape(l->o.tail ? l->o.tail : "all");
                _cleanup_free_ char *p = xasprintf(
                    "/containers/%s/logs?stdout=1&stderr=1&follow=%d&timestamps=%d&tail=%s%s%s%s%s",
                    s->id, l->o.follow, l->o.timestamps, tail, *since ? "&since=" : "", since,
                    *l->until ? "&until=" : "", l->until);
                int fd = -1;
                bool chunked = false;
                if (client_raw(&tc.c, "GET", p, NULL, false, &fd, NULL, &chunked, &err) < 0) {
                        pthread_mutex_lock(&l->lock);
                        fprintf(stderr, "%s: %s\n", s->name, err.msg);
                        pthread_mutex_unlock(&l->lock);
                        break;
                }
                pthread_mutex_lock(&l->lock);
                bool closing = l->closing;
                if (!closing)
                        s->fd = fd;
                pthread_mutex_unlock(&l->lock);
                if (closing) {
                        close(fd);
                        break;
                }
                read_stream(s, fd, chunked, tty);
                pthread_mutex_lock(&l->lock);
                s->fd = -1;
                closing = l->closing;
                pthread_mutex_unlock(&l->lock);
                close(fd);
                if (closing || !l->o.follow || !s->print_exit)
                        break;

                /* The stream ends as the container stops, a moment before
                 * its state says so: wait for the state to settle, then say
                 * how it ended, and follow it again if its policy restarts
                 * it. */
                const char *started0 =
                    json_get_str(json_object_get(info, "State"), "StartedAt", "");
                _cleanup_free_ char *first_start = xstrdup(started0);
                json_t *st = NULL;
                bool running = false, restarting = false, again = false;
                for (int i = 0; i < 400 && !is_closing(l); i++) {
                        json_decref(info);
                        info = NULL;
                        if (client_json(&tc.c, "GET", ip, NULL, NULL, &info, &err) < 0)
                                break;
                        st = json_object_get(info, "State");
                        running = json_get_bool(st, "Running", false);
                        restarting = json_get_bool(st, "Restarting", false);
                        again = running && !streq(json_get_str(st, "StartedAt", ""), first_start);
                        if (!running || restarting || again)
                                break;
                        usleep(i < 20 ? 5000 : 50000);
                }
                if (!st || is_closing(l))
                        break;
                int64_t code = json_get_int(st, "ExitCode", 0);
                /* the daemon may leave it "exited" for a moment before its
                 * restart policy starts it again */
                for (int i = 0; !restarting && !again && i < 60 && !is_closing(l) &&
                                policy_restarts(info, code);
                     i++) {
                        usleep(50000);
                        json_decref(info);
                        info = NULL;
                        if (client_json(&tc.c, "GET", ip, NULL, NULL, &info, &err) < 0)
                                break;
                        st = json_object_get(info, "State");
                        running = json_get_bool(st, "Running", false);
                        restarting = json_get_bool(st, "Restarting", false);
                        again = running && !streq(json_get_str(st, "StartedAt", ""), first_start);
                }
                if (!st || is_closing(l))
                        break;
                if (!restarting && !again) {
                        emit_status(s, "exited with code %lld", (long long)code);
                        break;
                }
                emit_status(s, "exited with code %lld (restarting)", (long long)code);
                for (int i = 0; !running && i < 600 && !is_closing(l); i++) {
                        usleep(100 * 1000);
                        json_decref(info);
                        info = NULL;
                        if (client_json(&tc.c, "GET", ip, NULL, NULL, &info, &err) < 0)
                                break;
                        st = json_object_get(info, "State");
                        running = json_get_bool(st, "Running", false);
                }
                if (!running)
                        break;
                /* read it again from its new start */
                since_start(info, since, sizeof(since));
        }
        thread_client_done(&tc);
        pthread_mutex_lock(&l->lock);
        s->done = true;
        pthread_mutex_unlock(&l->lock);
        return NULL;
}

int compose_logs_open(struct compose_cli *cc, const struct compose_logs_opts *o,
                      struct compose_logs **ret, struct berth_err *err)
{
        struct compose_logs *l = xzalloc(sizeof(*l));
        l->cc = cc;
        l->events_fd = -1;
        l->o = *o;
        if (o->since && api_time(o->since, l->since, sizeof(l->since)) < 0) {
                free(l);
                return err_set(err, -EINVAL, "invalid value for --since: \"%s\"", o->since);
        }
        if (o->until && api_time(o->until, l->until, sizeof(l->until)) < 0) {
                free(l);
                return err_set(err, -EINVAL, "invalid value for --until: \"%s\"", o->until);
        }
        /* colour only on a terminal (or --ansi always: cc->ansi without a
         * terminal on stderr), never with --no-color or NO_COLOR */
        l->color = !o->no_color && cc->ansi && !getenv("NO_COLOR") &&
                   (isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO));
        pthread_mutex_init(&l->lock, NULL);
        int r = cli_connect(cc->cli, err);
        if (r < 0) {
                pthread_mutex_destroy(&l->lock);
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static int add_stream(struct compose_logs *l, const json_t *container, bool from_start,
                      struct berth_err *err)
{
        const char *id = json_string_value(json_object_get(container, "Id"));
        if (!id)
                return err_set(err, -EINVAL, "compose: a container without an Id");
        struct log_stream *s = xzalloc(sizeof(*s));
        s->l = l;
        s->id = xstrdup(id);
        s->name = display_name(container);
        s->fd = -1;
        /* a container already stopped when we start reading has nothing
         * more to say about its exit */
        json_t *st = json_object_get(container, "State");
        const char *state =
            json_is_object(st) ? json_get_str(st, "Status", NULL) : json_string_value(st);
        s->print_exit = !state || !(streq(state, "exited") || streq(state, "dead"));
        s->from_start = from_start;

        pthread_mutex_lock(&l->lock);
        /* a container seen before keeps its colour */
        for (size_t i = 0; i < l->n && l->color; i++)
                if (streq(l->streams[i]->name, s->name))
                        s->color = l->streams[i]->color;
        if (l->color && !s->color)
                s->color = log_colors[l->next_color++ % ELEMENTSOF(log_colors)];
        l->streams = xrealloc(l->streams, (l->n + 1) * sizeof(*l->streams));
        l->streams[l->n++] = s;
        if (strlen(s->name) + 1 > l->width)
                l->width = strlen(s->name) + 1;
        s->started = true;
        int r = pthread_create(&s->thread, NULL, stream_main, s);
        if (r != 0) {
                s->started = false;
                s->done = true;
        }
        pthread_mutex_unlock(&l->lock);
        if (r != 0)
                return err_errno(err, -r, "cannot start a log stream");
        return 0;
}

int compose_logs_add(struct compose_logs *l, const json_t *container, struct berth_err *err)
{
        return add_stream(l, container, false, err);
}

/* A start event of the project: a container not being followed is, from
 * the time it started. */
static void on_start_event(struct compose_logs *l, json_t *ev)
{
        if (!streq(json_get_str(ev, "Action", json_get_str(ev, "status", "")), "start"))
                return;
        json_t *actor = json_object_get(ev, "Actor");
        json_t *attrs = json_object_get(actor, "Attributes");
        const char *id = json_get_str(actor, "ID", json_get_str(ev, "id", NULL));
        const char *service = json_get_str(attrs, LABEL_SERVICE, NULL);
        if (!id || !service || streq(json_get_str(attrs, LABEL_ONEOFF, ""), "True"))
                return;
        if (l->services && !strv_contains(l->services, service))
                return;
        bool following = false;
        pthread_mutex_lock(&l->lock);
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->streams[i]->id, id) && !l->streams[i]->done)
                        following = true;
        bool closing = l->closing;
        pthread_mutex_unlock(&l->lock);
        if (following || closing)
                return;
        json_auto_t *c = json_pack("{s:s, s:[s+], s:O}", "Id", id, "Names", "/",
                                   json_get_str(attrs, "name", id), "Labels", attrs);
        struct berth_err err = {0};
        (void)add_stream(l, c, true, &err);
}

static void *events_main(void *arg)
{
        struct compose_logs *l = arg;
        char rbuf[16384], buf[4096];
        struct http_reader r = {.fd = l->events_fd, .buf = rbuf, .cap = sizeof(rbuf)};
        struct http_body b = {.framing = l->events_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF};
        char *line = NULL;
        size_t len = 0;
        for (;;) {
                ssize_t n = http_body_read(&r, &b, buf, sizeof(buf));
                if (n <= 0)
                        break;
                line = xrealloc(line, len + (size_t)n + 1);
                memcpy(line + len, buf, (size_t)n);
                len += (size_t)n;
                char *start = line, *nl;
                while ((nl = memchr(start, '\n', len - (size_t)(start - line)))) {
                        *nl = '\0';
                        json_error_t je;
                        json_t *ev = json_loads(start, 0, &je);
                        if (ev) {
                                on_start_event(l, ev);
                                json_decref(ev);
                        }
                        start = nl + 1;
                }
                len -= (size_t)(start - line);
                memmove(line, start, len);
        }
        free(line);
        return NULL;
}

/* Subscribe to the project's start events (before the containers are
 * listed, so that none starts unseen in between); the thread reading them
 * is started by follow_started_run once the listed ones are followed. */
static int follow_started_open(struct compose_logs *l, const char *project, char **services,
                               struct berth_err *err)
{
        json_auto_t *f = json_pack("{s:[s+], s:[s], s:[s]}", "label", LABEL_PROJECT "=", project,
                                   "type", "container", "event", "start");
        _cleanup_free_ char *fj = json_dumps(f, JSON_COMPACT);
        _cleanup_free_ char *fq = cli_escape(fj ? fj : "{}");
        _cleanup_free_ char *path = xasprintf("/events?filters=%s", fq);
        l->services = services;
        return client_raw(&l->cc->cli->client, "GET", path, NULL, false, &l->events_fd, NULL,
                          &l->events_chunked, err);
}

static void follow_started_run(struct compose_logs *l)
{
        if (l->events_fd >= 0 && pthread_create(&l->events_thread, NULL, events_main, l) == 0)
                l->events_started = true;
}

static void follow_started_stop(struct compose_logs *l)
{
        if (l->events_fd < 0)
                return;
        shutdown(l->events_fd, SHUT_RDWR);
        if (l->events_started)
                pthread_join(l->events_thread, NULL);
        l->events_fd = safe_close(l->events_fd);
        l->events_started = false;
}

void compose_logs_wait(struct compose_logs *l)
{
        if (!l)
                return;
        /* up may add streams while we wait: join until none is left */
        for (size_t i = 0;; i++) {
                pthread_mutex_lock(&l->lock);
                struct log_stream *s = i < l->n ? l->streams[i] : NULL;
                pthread_mutex_unlock(&l->lock);
                if (!s)
                        break;
                if (s->started) {
                        pthread_join(s->thread, NULL);
                        s->started = false;
                }
        }
}

void compose_logs_close(struct compose_logs *l)
{
        if (!l)
                return;
        follow_started_stop(l);
        pthread_mutex_lock(&l->lock);
        l->closing = true;
        for (size_t i = 0; i < l->n; i++)
                if (l->streams[i]->fd >= 0)
                        shutdown(l->streams[i]->fd, SHUT_RDWR);
        pthread_mutex_unlock(&l->lock);
        compose_logs_wait(l);
        for (size_t i = 0; i < l->n; i++) {
                free(l->streams[i]->id);
                free(l->streams[i]->name);
                free(l->streams[i]->line);
                free(l->streams[i]);
        }
        free(l->streams);
        pthread_mutex_destroy(&l->lock);
        free(l);
}

/* --- berth compose logs ------------------------------------------------------ */

const struct cli_opt compose_logs_opts[] = {
    {"follow", 'f', CLI_BOOL, "Follow log output", NULL},
    {"index", 0, CLI_INT, "index of the container if service has multiple replicas", "0"},
    {"no-color", 0, CLI_BOOL, "Produce monochrome output", NULL},
    {"no-log-prefix", 0, CLI_BOOL, "Don't print prefix in logs", NULL},
    {"since", 0, CLI_STRING,
     "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 "
     "minutes)",
     NULL},
    {"tail", 'n', CLI_STRING, "Number of lines to show from the end of the logs for each container",
     "all"},
    {"timestamps", 't', CLI_BOOL, "Show timestamps", NULL},
    {"until", 0, CLI_STRING,
     "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 "
     "minutes)",
     NULL},
    {0},
};

static bool service_selected(const json_t *c, char **services, size_t n)
{
        if (n == 0)
                return true;
        const char *svc =
            json_string_value(json_object_get(json_object_get(c, "Labels"), LABEL_SERVICE));
        for (size_t i = 0; i < n; i++)
                if (svc && streq(svc, services[i]))
                        return true;
        return false;
}

int compose_cmd_logs(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        int64_t index = 0;
        if (parse_int64(cli_str(a, "index"), &index) < 0 || index < 0) {
                fprintf(stderr, "invalid argument \"%s\" for \"--index\" flag\n",
                        cli_str(a, "index"));
                return 1;
        }
        if (index > 0 && a->n_pos != 1) {
                fprintf(stderr, "--index requires one service to be selected\n");
                return 1;
        }
        struct compose_logs_opts o = {
            .follow = cli_flag(a, "follow"),
            .timestamps = cli_flag(a, "timestamps"),
            .no_color = cli_flag(a, "no-color"),
            .no_prefix = cli_flag(a, "no-log-prefix"),
            .tail = cli_str(a, "tail"),
            .since = cli_str(a, "since"),
            .until = cli_str(a, "until"),
        };
        const char *project;
        if (compose_project_name(cc, &project, &err) < 0)
                return cli_fail(&err);
        /* with a compose file, only its services (and not those with
         * attach: false unless named) */
        json_t *model_services =
            cc->project ? json_object_get(cc->project->model, "services") : NULL;
        _cleanup_strv_ char **followed = NULL;
        for (size_t k = 0; k < a->n_pos; k++)
                followed = strv_push(followed, xstrdup(a->pos[k]));
        if (!followed && model_services) {
                const char *name;
                json_t *def;
                json_object_foreach (model_services, name, def)
                        if (!json_is_false(json_object_get(def, "attach")))
                                followed = strv_push(followed, xstrdup(name));
                if (!followed) /* none: follow none */
                        followed = strv_push(NULL, xstrdup(""));
        }

        struct compose_logs *l = NULL;
        if (compose_logs_open(cc, &o, &l, &err) < 0)
                return cli_fail(&err);
        l->exit_lines = true;
        /* -f follows the containers that start later too, as v2 does; the
         * subscription comes before the list so that none starts unseen */
        if (o.follow && index == 0) {
                struct berth_err eerr = {0};
                (void)follow_started_open(l, project, followed, &eerr);
        }
        _cleanup_json_ json_t *list = NULL;
        if (compose_containers(cc, NULL, true, false, &list, &err) < 0) {
                compose_logs_close(l);
                return cli_fail(&err);
        }
        size_t i;
        json_t *c;
        int found = 0;
        json_array_foreach (list, i, c) {
                if (!service_selected(c, a->pos, a->n_pos))
                        continue;
                json_t *labels = json_object_get(c, "Labels");
                const char *svc = json_string_value(json_object_get(labels, LABEL_SERVICE));
                if (model_services && a->n_pos == 0) {
                        json_t *def = json_object_get(model_services, svc ?: "");
                        if (!def || json_is_false(json_object_get(def, "attach")))
                                continue;
                }
                if (index > 0) {
                        int64_t num = 0;
                        const char *ns = json_string_value(json_object_get(labels, LABEL_NUMBER));
                        if (!ns || parse_int64(ns, &num) < 0 || num != index)
                                continue;
                }
                if (compose_logs_add(l, c, &err) < 0) {
                        compose_logs_close(l);
                        return cli_fail(&err);
                }
                found++;
        }
        if (index > 0 && !found) {
                compose_logs_close(l);
                fprintf(stderr, "service \"%s\" is not running container #%lld\n", a->pos[0],
                        (long long)index);
                return 1;
        }
        follow_started_run(l);
        compose_logs_wait(l);
        compose_logs_close(l);
        return 0;
}
