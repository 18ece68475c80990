/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and resize: a client's connection spliced to the shim's
 * streams; an attach before the start waits for it (docker run). */
#include "container-internal.h"
#include "base/events.h"

#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

struct pending_attach *ct_pending;

/* --- attach --------------------------------------------------------------------- */

int container_detach_keys(const char *spec, unsigned char ret[CONTAINER_DETACH_KEYS_MAX],
                          size_t *ret_len, struct berth_err *err)
{
        if (isempty(spec))
                spec = "ctrl-p,ctrl-q";
        size_t n = 0;
        for (const char *p = spec;;) {
                size_t l = strcspn(p, ",");
                int c = -1;
                if (l == 1)
                        c = (unsigned char)p[0];
                else if (l == 6 && strncasecmp(p, "ctrl-", 5) == 0) {
                        char k = p[5];
                        if (k >= 'a' && k <= 'z')
                                c = k - 'a' + 1;
                        else if (k >= 'A' && k <= 'Z')
                                c = k - 'A' + 1;
                        else if (k == '@')
                                c = 0;
                        else if (k >= '[' && k <= '_') /* [ \ ] ^ _ */
                                c = k - '[' + 27;
                }
                if (c < 0 || n == CONTAINER_DETACH_KEYS_MAX)
                        return err_set(err, -EINVAL, "Invalid detach keys (%s) provided", spec);
                ret[n++] = (unsigned char)c;
                if (!p[l])
                        break;
                p += l + 1;
        }
        *ret_len = n;
        return 0;
}

/* Copy both ways between the client and the shim until the shim closes (the
 * container exited) or the client goes away. A half-close of the client is
 * passed on: it ends the container's stdin. With detach keys, the client's
 * bytes that match the sequence are held back; the whole sequence ends the
 * copy (1) and leaves the process running with its stdin open, as Docker's
 * detach does. */
int ct_splice_streams(int client, int shim, const unsigned char *keys, size_t nkeys)
{
        char buf[32768];
        unsigned char out[sizeof(buf) + CONTAINER_DETACH_KEYS_MAX];
        size_t held = 0; /* how much of keys the last bytes matched */
        bool client_open = true;
        for (;;) {
                struct pollfd p[2] = {{client_open ? client : -1, POLLIN, 0}, {shim, POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                if (p[1].revents) {
                        ssize_t n = read(shim, buf, sizeof(buf));
                        if (n <= 0)
                                return 0;
                        if (loop_write(client, buf, (size_t)n) < 0)
                                return 0;
                }
                if (client_open && p[0].revents) {
                        ssize_t n = read(client, buf, sizeof(buf));
                        if (n <= 0) {
                                client_open = false;
                                if (held && loop_write(shim, keys, held) < 0)
                                        return 0;
                                shutdown(shim, SHUT_WR);
                                continue;
                        }
                        size_t o = 0;
                        bool detach = false;
                        for (ssize_t i = 0; i < n && !detach && nkeys; i++) {
                                unsigned char c = (unsigned char)buf[i];
                                if (c != keys[held]) {
                                        /* not the sequence after all: pass on
                                         * what was held, and try c afresh */
                                        memcpy(out + o, keys, held);
                                        o += held;
                                        held = 0;
                                        if (c != keys[0]) {
                                                out[o++] = c;
                                                continue;
                                        }
                                }
                                if (++held == nkeys)
                                        detach = true;
                        }
                        const void *w = nkeys ? (const void *)out : (const void *)buf;
                        size_t wl = nkeys ? o : (size_t)n;
                        if (wl && loop_write(shim, w, wl) < 0)
                                return 0;
                        if (detach)
                                return 1;
                }
        }
}

/* A pending attach is connected (or gave up): off the list, and start(),
 * which waits for it, told. */
static void pending_done(struct container_store *s, struct pending_attach *pa)
{
        pthread_mutex_lock(&s->lock);
        pa->connected = true;
        struct pending_attach **pp = &ct_pending;
        while (*pp && *pp != pa)
                pp = &(*pp)->next;
        if (*pp)
                *pp = pa->next;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
        free(pa->socket);
}

int container_attach(struct container_store *s, const char *ref, int client, const char *extra,
                     size_t extra_len, bool want_in, bool want_out, bool want_err,
                     const char *detach_keys, struct berth_err *err)
{
        unsigned char keys[CONTAINER_DETACH_KEYS_MAX];
        size_t nkeys = 0;
        int kr = container_detach_keys(detach_keys, keys, &nkeys, err);
        if (kr < 0)
                return kr;
        int code;
        char id[65];
        _cleanup_free_ char *sock = NULL;
        struct pending_attach pa = {0};
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        memcpy(id, r->id, 65);
        /* Docker watches for the detach keys on a terminal's input only */
        if (!want_in || !json_get_bool(json_object_get(r->j, "Config"), "Tty", false))
                nkeys = 0;
        events_container(r->j, "attach", NULL);
        if (r->shim_socket && ct_is_running(r->j)) {
                sock = xstrdup(r->shim_socket);
        } else {
                /* not running: wait for the next start, as docker does */
                memcpy(pa.id, id, 65);
                pa.next = ct_pending;
                ct_pending = &pa;
                while (!pa.socket && !pa.cancelled) {
                        r = ct_find_locked(s, id, &code);
                        if (!r || r->removed)
                                break;
                        pthread_cond_wait(&s->changed, &s->lock);
                }
                sock = pa.socket ? xstrdup(pa.socket) : NULL;
        }
        pthread_mutex_unlock(&s->lock);

        int fd = sock ? ct_connect_unix(sock) : -1;
        if (fd >= 0) {
                char req[64];
                int l = snprintf(req, sizeof(req), "attach%s%s%s\n", want_in ? " stdin" : "",
                                 want_out ? " stdout" : "", want_err ? " stderr" : "");
                char ok[16];
                if (loop_write(fd, req, (size_t)l) < 0 ||
                    ct_read_line(fd, ok, sizeof(ok), 10000) <= 0) {
                        close(fd);
                        fd = -1;
                }
        }
        /* tell start() this attach is ready */
        if (pa.id[0])
                pending_done(s, &pa);
        if (fd < 0)
                return err_set(err, -EIO, "cannot attach to container %s", id);
        if (extra_len && want_in)
                loop_write(fd, extra, extra_len);
        if (ct_splice_streams(client, fd, keys, nkeys) == 1) {
                pthread_mutex_lock(&s->lock);
                if ((r = ct_find_locked(s, id, &code)))
                        events_container(r->j, "detach", NULL);
                pthread_mutex_unlock(&s->lock);
        }
        close(fd);
        return 0;
}

int container_resize(struct container_store *s, const char *ref, int h, int w,
                     struct berth_err *err)
{
        int code;
        _cleanup_free_ char *sock = NULL;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (r && r->shim_socket)
                sock = xstrdup(r->shim_socket);
        pthread_mutex_unlock(&s->lock);
        if (!r)
                return ct_not_found(err, ref, code);
        if (!sock)
                return err_set(err, -EEXIST, "Container %s is not running", ref);
        _cleanup_close_ int fd = ct_connect_unix(sock);
        if (fd < 0)
                return err_errno(err, fd, "connect to the shim");
        char req[64], ok[16];
        int l = snprintf(req, sizeof(req), "resize %d %d\n", h, w);
        if (loop_write(fd, req, (size_t)l) < 0 || ct_read_line(fd, ok, sizeof(ok), 5000) <= 0)
                return err_set(err, -EIO, "cannot resize the terminal of %s", ref);
        return 0;
}

/* --- a start with its output (the builder's RUN steps) ----------------------------- */

struct start_job {
        struct container_store *s;
        char id[65];
        int r;
        struct berth_err err;
};

static void *start_main(void *p)
{
        struct start_job *j = p;
        j->r = container_start(j->s, j->id, &j->err);
        return NULL;
}

int container_start_output(struct container_store *s, const char *ref, container_output_fn fn,
                           void *userdata, struct berth_err *err)
{
        struct start_job job = {.s = s};
        struct pending_attach pa = {0};
        struct record *r;
        int code;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        memcpy(job.id, r->id, 65);
        if (ct_is_running(r->j)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EBUSY, "container %s is already running", job.id);
        }
        /* registered before the start, so that the start waits for it */
        memcpy(pa.id, job.id, 65);
        pa.next = ct_pending;
        ct_pending = &pa;
        pthread_mutex_unlock(&s->lock);

        pthread_t t;
        if (pthread_create(&t, NULL, start_main, &job) != 0) {
                pending_done(s, &pa);
                return err_set(err, -EAGAIN, "cannot start a thread for container %s", job.id);
        }

        pthread_mutex_lock(&s->lock);
        while (!pa.socket && !pa.cancelled) {
                r = ct_find_locked(s, job.id, &code);
                if (!r || r->removed)
                        break;
                pthread_cond_wait(&s->changed, &s->lock);
        }
        _cleanup_free_ char *sock = pa.socket ? xstrdup(pa.socket) : NULL;
        pthread_mutex_unlock(&s->lock);

        int fd = sock ? ct_connect_unix(sock) : -1;
        if (fd >= 0) {
                char ok[16];
                static const char req[] = "attach stdout stderr\n";
                if (loop_write(fd, req, sizeof(req) - 1) < 0 ||
                    ct_read_line(fd, ok, sizeof(ok), 10000) <= 0)
                        fd = safe_close(fd);
        }
        pending_done(s, &pa);

        /* the output until the shim closes it; a silent process still
         * gets fn called now and then, so that a cancelled build stops it */
        bool killed = false;
        while (fd >= 0) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, 250);
                if (n < 0 && errno == EINTR)
                        continue;
                char buf[16384];
                ssize_t l = 0;
                if (n > 0) {
                        l = read(fd, buf, sizeof(buf));
                        if (l < 0 && errno == EINTR)
                                continue;
                        if (l <= 0)
                                break;
                }
                if (!killed && fn(userdata, buf, (size_t)l) < 0) {
                        struct berth_err kerr = {0};
                        container_kill(s, job.id, "KILL", &kerr);
                        killed = true;
                }
        }
        safe_close(fd);
        pthread_join(t, NULL);
        if (job.r < 0) {
                *err = job.err;
                return job.r;
        }
        if (!sock)
                return err_set(err, -EIO, "cannot attach to container %s", job.id);
        return killed ? -ECANCELED : 0;
}
