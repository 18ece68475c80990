/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attach and resize: a client's connection spliced to the shim's
 * streams; an attach before the start waits for it (docker run). */
#include "container-internal.h"
#include "base/events.h"

#include <poll.h>
#include <sys/socket.h>

struct pending_attach *ct_pending;

/* --- attach --------------------------------------------------------------------- */

/* Copy both ways between the client and the shim until the shim closes (the
 * container exited) or the client goes away. A half-close of the client is
 * passed on: it ends the container's stdin. */
void ct_splice_streams(int client, int shim)
{
        char buf[32768];
        bool client_open = true;
        for (;;) {
                struct pollfd p[2] = {{client_open ? client : -1, POLLIN, 0}, {shim, POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[1].revents) {
                        ssize_t n = read(shim, buf, sizeof(buf));
                        if (n <= 0)
                                return;
                        if (loop_write(client, buf, (size_t)n) < 0)
                                return;
                }
                if (client_open && p[0].revents) {
                        ssize_t n = read(client, buf, sizeof(buf));
                        if (n <= 0) {
                                client_open = false;
                                shutdown(shim, SHUT_WR);
                                continue;
                        }
                        if (loop_write(shim, buf, (size_t)n) < 0)
                                return;
                }
        }
}

int container_attach(struct container_store *s, const char *ref, int client, const char *extra,
                     size_t extra_len, bool want_in, bool want_out, bool want_err,
                     struct berth_err *err)
{
        int code;
        char id[65];
        _cleanup_free_ char *sock = NULL;
        struct pending_attach pa = {0};
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        memcpy(id, r->id, 65);
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
        if (pa.id[0]) {
                pthread_mutex_lock(&s->lock);
                pa.connected = true;
                struct pending_attach **pp = &ct_pending;
                while (*pp && *pp != &pa)
                        pp = &(*pp)->next;
                if (*pp)
                        *pp = pa.next;
                pthread_cond_broadcast(&s->changed);
                pthread_mutex_unlock(&s->lock);
                free(pa.socket);
        }
        if (fd < 0)
                return err_set(err, -EIO, "cannot attach to container %s", id);
        if (extra_len && want_in)
                loop_write(fd, extra, extra_len);
        ct_splice_streams(client, fd);
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
