/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event bus: a ring of the last EVENTS_RING events, a sequence number
 * per event, and a condition variable the streams wait on. Emitting never
 * blocks on a subscriber: a stream that falls more than the ring behind
 * skips what was overwritten.
 *
 * An event is serialized once, when it is published, and the ring keeps
 * only that line and its time: a jansson object of an event costs several
 * times its text, and a full ring of objects stayed in berthd's heap long
 * after the containers that made them were gone. A stream with filters
 * parses the lines it looks at, out of the bus lock; no json_t is shared
 * between threads (jansson marks an object while it dumps it in some
 * versions, so one dumped by two streams at once fails there).
 *
 * The lines are kept in one buffer of EVENTS_BYTES of their own, mapped
 * apart from the heap, one after the other: a line per malloc'd block
 * would be spread over the heap between the blocks of the containers
 * that made the events, and each page a live line holds cannot be given
 * back when those containers are gone (measured: 1.5 MB of heap RSS
 * after 100 containers, for 0.5 MB in use). An event whose bytes the
 * newest overwrote is gone, as one that fell out of the ring. */
#include "events.h"
#include "filters.h"
#include "json.h"
#include "log.h"

#include <poll.h>
#include <sys/mman.h>
#include <pthread.h>
#include <time.h>

#define EVENTS_BYTES (256 * 1024)

struct event {
        int64_t time_ns;
        uint64_t at; /* where its line starts in the stream of bytes written */
        size_t len;  /* the line: the event's JSON and a newline */
};

static struct {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        struct event ring[EVENTS_RING];
        uint64_t next;   /* sequence number of the next event */
        uint64_t oldest; /* sequence number of the oldest whose line is whole */
        char *buf;       /* EVENTS_BYTES, written at head % EVENTS_BYTES */
        uint64_t head;
} bus = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0}}, 0, 0, NULL, 0};

/* The first event still in the ring, under the lock. */
static uint64_t first_seq(void)
{
        uint64_t seq = bus.next > EVENTS_RING ? bus.next - EVENTS_RING : 0;
        return seq > bus.oldest ? seq : bus.oldest;
}

/* A copy of line (len bytes, newline included) into the ring, under the
 * lock; false when it cannot be kept. */
static bool ring_put(int64_t t, const char *line, size_t len)
{
        if (!bus.buf) {
                void *m = mmap(NULL, EVENTS_BYTES, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED)
                        return false;
                bus.buf = m;
        }
        if (len > EVENTS_BYTES / 4)
                return false;
        uint64_t at = bus.head;
        if (at % EVENTS_BYTES + len > EVENTS_BYTES) /* not across the end */
                at += EVENTS_BYTES - at % EVENTS_BYTES;
        uint64_t end = at + len;
        /* the lines that start before end - EVENTS_BYTES are overwritten */
        uint64_t seq = first_seq();
        while (seq < bus.next && bus.ring[seq % EVENTS_RING].at + EVENTS_BYTES < end)
                seq++;
        bus.oldest = seq;
        memcpy(bus.buf + at % EVENTS_BYTES, line, len);
        bus.ring[bus.next % EVENTS_RING] = (struct event){t, at, len};
        bus.head = end;
        return true;
}

static pthread_once_t clock_once = PTHREAD_ONCE_INIT;
static void init_cond(void)
{
        /* timed waits against CLOCK_MONOTONIC */
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&bus.changed, &a);
        pthread_condattr_destroy(&a);
}

/* A JSON string of s, whatever its bytes: json_string() refuses invalid
 * UTF-8 (an action cut short in the middle of a character, a name from
 * outside), and an event must not be lost, nor be NULL, for that. */
static json_t *string_lossy(const char *s)
{
        json_t *j = json_string(s ?: "");
        if (j)
                return j;
        _cleanup_free_ char *c = xstrdup(s);
        for (char *p = c; *p; p++)
                if ((unsigned char)*p >= 0x80)
                        *p = '?';
        return json_string(c);
}

void events_emit(const char *type, const char *action, const char *actor_id, json_t *attrs)
{
        pthread_once(&clock_once, init_cond);
        if (!attrs)
                attrs = json_object();
        int64_t t = now_ns();
        json_t *actor = json_object();
        json_object_set_new(actor, "ID", string_lossy(actor_id));
        json_object_set_new(actor, "Attributes", attrs);
        json_t *e = json_object();
        json_object_set_new(e, "Type", string_lossy(type));
        json_object_set_new(e, "Action", string_lossy(action));
        json_object_set_new(e, "Actor", actor);
        json_object_set_new(e, "scope", json_string("local"));
        json_object_set_new(e, "time", json_integer((json_int_t)(t / 1000000000)));
        json_object_set_new(e, "timeNano", json_integer((json_int_t)t));
        /* the fields of API < 1.22 that compose v1 still reads */
        if (streq(type, "container") || streq(type, "image")) {
                json_object_set_new(e, "status", string_lossy(action));
                json_object_set_new(e, "id", string_lossy(actor_id));
                const char *from = json_get_str(attrs, "image", NULL);
                if (from && streq(type, "container"))
                        json_object_set_new(e, "from", json_string(from));
        }
        char *dump = json_dumps(e, JSON_COMPACT);
        if (!dump) {
                log_warn("event %s %s of '%s' cannot be encoded, dropping", type, action,
                         actor_id ?: "");
                json_decref(e);
                return;
        }
        json_decref(e);
        size_t len = strlen(dump);
        dump[len++] = '\n'; /* over the NUL: the ring keeps lengths */
        pthread_mutex_lock(&bus.lock);
        bool kept = ring_put(t, dump, len);
        if (kept) {
                bus.next++;
                pthread_cond_broadcast(&bus.changed);
        }
        pthread_mutex_unlock(&bus.lock);
        if (!kept)
                log_warn("event %s %s of '%s' is too large for the event ring, dropping", type,
                         action, actor_id ?: "");
        free(dump);
}

json_t *events_container_attrs(json_t *rec)
{
        json_t *cfg = json_object_get(rec, "Config");
        json_t *a = json_object();
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(cfg, "Labels"), k, v)
                if (json_is_string(v)) /* a copy: the record is not the bus's */
                        json_object_set_new(a, k, json_string(json_string_value(v)));
        json_object_set_new(a, "image", json_string(json_get_str(cfg, "Image", "")));
        const char *name = json_get_str(rec, "Name", "");
        json_object_set_new(a, "name", json_string(name[0] == '/' ? name + 1 : name));
        return a;
}

void events_container(json_t *rec, const char *action, json_t *extra)
{
        json_t *a = events_container_attrs(rec);
        if (extra) {
                json_object_update(a, extra);
                json_decref(extra);
        }
        events_emit("container", action, json_get_str(rec, "Id", ""), a);
}

/* "exec_start: sh -c x" is the event "exec_start" for filtering. */
static bool match_action(json_t *f, const char *action)
{
        json_t *vals = filters_get(f, "event");
        if (!json_array_size(vals))
                return true;
        size_t n = strcspn(action, ":"), i;
        json_t *v;
        json_array_foreach (vals, i, v) {
                const char *s = json_string_value(v);
                if (s && (streq(s, action) || (strlen(s) == n && strncmp(s, action, n) == 0)))
                        return true;
        }
        return false;
}

static bool match_any(json_t *f, const char *key, const char *a, const char *b)
{
        json_t *vals = filters_get(f, key);
        if (!json_array_size(vals))
                return true;
        size_t i;
        json_t *v;
        json_array_foreach (vals, i, v) {
                const char *s = json_string_value(v);
                if (!s)
                        continue;
                if ((a && (streq(s, a) || (strlen(s) >= 1 && startswith(a, s) &&
                                           strspn(s, "0123456789abcdef") == strlen(s)))) ||
                    (b && streq(s, b)))
                        return true;
        }
        return false;
}

static bool match(json_t *f, json_t *e)
{
        if (!f)
                return true;
        const char *type = json_get_str(e, "Type", "");
        json_t *actor = json_object_get(e, "Actor");
        json_t *attrs = json_object_get(actor, "Attributes");
        const char *id = json_get_str(actor, "ID", "");
        if (!filters_match_exact(f, "type", type) ||
            !match_action(f, json_get_str(e, "Action", "")))
                return false;
        if (filters_has(f, "container") &&
            (!streq(type, "container") ||
             !match_any(f, "container", id, json_get_str(attrs, "name", NULL))))
                return false;
        if (filters_has(f, "image")) {
                const char *img = streq(type, "image") ? id : json_get_str(attrs, "image", NULL);
                if (!img || !match_any(f, "image", img, json_get_str(attrs, "name", NULL)))
                        return false;
        }
        for (const char *const *k = (const char *const[]){"network", "volume", "daemon", NULL}; *k;
             k++)
                if (filters_has(f, *k) && (!streq(type, *k) || !match_any(f, *k, id, NULL)))
                        return false;
        return filters_match_labels(f, "label", attrs);
}

/* An idle stream writes nothing, so a client that left is only seen by
 * looking: the pipe's reader closed, or the client's socket hung up. */
static bool reader_gone(int fd, int client_fd)
{
        struct pollfd p[2] = {{fd, 0, 0}, {client_fd, POLLRDHUP, 0}};
        if (poll(p, 2, 0) <= 0)
                return false;
        return (p[0].revents & (POLLERR | POLLHUP)) ||
               (p[1].revents & (POLLRDHUP | POLLERR | POLLHUP));
}

int events_stream(int64_t since_ns, int64_t until_ns, json_t *filters, int out_fd, int client_fd)
{
        pthread_once(&clock_once, init_cond);
        pthread_mutex_lock(&bus.lock);
        uint64_t seq = first_seq();
        if (!since_ns && !until_ns) /* neither: only what happens from now on */
                seq = bus.next;
        for (;;) {
                if (seq < first_seq()) /* overwritten meanwhile */
                        seq = first_seq();
                while (seq < bus.next) {
                        const struct event *e = &bus.ring[seq % EVENTS_RING];
                        seq++;
                        int64_t t = e->time_ns;
                        if (t < since_ns || (until_ns && t > until_ns))
                                continue;
                        _cleanup_free_ char *line = xmalloc(e->len + 1);
                        memcpy(line, bus.buf + e->at % EVENTS_BYTES, e->len);
                        line[e->len] = '\0';
                        pthread_mutex_unlock(&bus.lock);
                        if (json_object_size(filters)) {
                                json_error_t je;
                                _cleanup_json_ json_t *j = json_loads(line, 0, &je);
                                if (!j || !match(filters, j)) {
                                        pthread_mutex_lock(&bus.lock);
                                        continue;
                                }
                        }
                        int r = loop_write(out_fd, line, strlen(line));
                        if (r < 0)
                                return r;
                        pthread_mutex_lock(&bus.lock);
                }
                if (until_ns && now_ns() > until_ns)
                        break;
                pthread_mutex_unlock(&bus.lock);
                bool gone = reader_gone(out_fd, client_fd);
                pthread_mutex_lock(&bus.lock);
                if (gone)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                int64_t wait_ns = 1000000000;
                if (until_ns) {
                        int64_t left = until_ns - now_ns() + 1000000;
                        if (left < wait_ns)
                                wait_ns = left > 0 ? left : 0;
                }
                ts.tv_sec += (ts.tv_nsec + wait_ns) / 1000000000;
                ts.tv_nsec = (ts.tv_nsec + wait_ns) % 1000000000;
                if (seq == bus.next)
                        pthread_cond_timedwait(&bus.changed, &bus.lock, &ts);
        }
        pthread_mutex_unlock(&bus.lock);
        return 0;
}
