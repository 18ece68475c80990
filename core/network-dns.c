/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DNS responder of a user-defined network: UDP port 53 on the network's
 * gateway address, one thread with poll(). A queries for the name, an alias
 * or the short ID of a container on the network are answered from the
 * network's record (other types for those names get an empty answer, so
 * resolvers do not go on asking elsewhere). A name with a dot is relayed
 * to the host's resolvers (/etc/resolv.conf, read per query so that
 * changes apply); a single label that is not on the network gets NXDOMAIN
 * and never leaves the host.
 *
 * Written by hand: the part of DNS needed here (one question, one A record)
 * is a few dozen lines, and no Debian library serves it in-process. */
#include "network-internal.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

struct dns {
        struct network_store *s;
        char netid[65];
        int fd;
        int wake[2];
};

/* The question's name ("web.example"), its end offset, type. */
static int parse_question(const unsigned char *q, size_t len, char *name, size_t name_len,
                          size_t *ret_end, uint16_t *ret_type)
{
        if (len < 12 || (q[4] << 8 | q[5]) != 1)
                return -EINVAL;
        size_t off = 12, o = 0;
        for (;;) {
                if (off >= len)
                        return -EINVAL;
                unsigned l = q[off++];
                if (l == 0)
                        break;
                if (l > 63 || off + l > len || o + l + 2 > name_len)
                        return -EINVAL;
                if (o)
                        name[o++] = '.';
                for (unsigned i = 0; i < l; i++)
                        name[o++] = (char)tolower(q[off + i]);
                off += l;
        }
        name[o] = '\0';
        if (off + 4 > len)
                return -EINVAL;
        *ret_type = (uint16_t)(q[off] << 8 | q[off + 1]);
        *ret_end = off + 4;
        return 0;
}

static bool ip_is(json_t *c, const char *ip)
{
        const char *v = json_get_str(c, "IPv4Address", "");
        size_t l = strcspn(v, "/");
        return l == strlen(ip) && strncmp(v, ip, l) == 0;
}

static bool find_in(struct netrec *n, const char *name, struct in_addr *ret)
{
        const char *cid;
        json_t *c;
        json_object_foreach (json_object_get(n->j, "Containers"), cid, c) {
                bool match = strcasecmp(json_get_str(c, "Name", ""), name) == 0 ||
                             (strlen(name) == 12 && strncmp(cid, name, 12) == 0);
                size_t i;
                json_t *a;
                json_array_foreach (json_object_get(c, "Aliases"), i, a)
                        if (strcasecmp(strempty(json_string_value(a)), name) == 0)
                                match = true;
                if (!match)
                        continue;
                char ip[32];
                snprintf(ip, sizeof(ip), "%s", json_get_str(c, "IPv4Address", ""));
                ip[strcspn(ip, "/")] = '\0';
                if (inet_pton(AF_INET, ip, ret) == 1)
                        return true;
        }
        return false;
}

/* The address of `name` for the container that asks from `src`: on this
 * network, else on the other user-defined networks that container is
 * connected to (as Docker's embedded DNS answers). */
static bool lookup(struct dns *d, const char *name, const char *src, struct in_addr *ret,
                   bool *ret_gone)
{
        struct network_store *s = d->s;
        bool found = false;
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, d->netid);
        *ret_gone = !n || n->dns != d;
        if (!*ret_gone)
                found = find_in(n, name, ret);
        if (!*ret_gone && !found) {
                const char *cid = NULL, *k;
                json_t *c;
                json_object_foreach (json_object_get(n->j, "Containers"), k, c)
                        if (ip_is(c, src))
                                cid = k;
                for (size_t i = 0; cid && !found && i < s->n; i++)
                        if (s->v[i] != n && s->v[i]->dns &&
                            json_object_get(json_object_get(s->v[i]->j, "Containers"), cid))
                                found = find_in(s->v[i], name, ret);
        }
        pthread_mutex_unlock(&s->lock);
        return found;
}

static void reply(int fd, const struct sockaddr_storage *to, socklen_t to_len,
                  const unsigned char *q, size_t qend, unsigned rcode, const struct in_addr *a)
{
        unsigned char r[512];
        if (qend + 16 > sizeof(r))
                return;
        memcpy(r, q, qend);
        r[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
        r[3] = (unsigned char)(0x80 | rcode);                /* RA */
        r[6] = 0;
        r[7] = a ? 1 : 0;
        memset(r + 8, 0, 4);
        size_t off = qend;
        if (a) {
                static const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 10, 0, 4};
                memcpy(r + off, rr, sizeof(rr));
                off += sizeof(rr);
                memcpy(r + off, &a->s_addr, 4);
                off += 4;
        }
        sendto(fd, r, off, MSG_DONTWAIT, (const struct sockaddr *)to, to_len);
}

/* Relay a query to the host's first reachable resolver; false on failure. */
static bool forward(int fd, const struct sockaddr_storage *to, socklen_t to_len,
                    const unsigned char *q, size_t len)
{
        _cleanup_free_ char *conf = NULL;
        if (read_full_file("/etc/resolv.conf", &conf, NULL) < 0)
                return false;
        _cleanup_strv_ char **lines = strv_split(conf, "\n");
        for (char **l = lines; *l; l++) {
                char ip[64];
                if (sscanf(*l, "nameserver %63s", ip) != 1)
                        continue;
                struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
                if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                        continue;
                _cleanup_close_ int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (u < 0 || connect(u, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                    send(u, q, len, 0) < 0)
                        continue;
                struct pollfd p = {u, POLLIN, 0};
                if (poll(&p, 1, 2000) != 1)
                        continue;
                unsigned char buf[4096];
                ssize_t n = recv(u, buf, sizeof(buf), 0);
                if (n <= 0)
                        continue;
                sendto(fd, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)to, to_len);
                return true;
        }
        return false;
}

static void *dns_main(void *p)
{
        struct dns *d = p;
        for (;;) {
                struct pollfd pf[2] = {{d->fd, POLLIN, 0}, {d->wake[0], POLLIN, 0}};
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[1].revents)
                        break;
                unsigned char q[1500];
                struct sockaddr_storage from;
                socklen_t fl = sizeof(from);
                ssize_t n =
                    recvfrom(d->fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
                if (n < 12 || (q[2] & 0x80))
                        continue;
                char name[256];
                size_t qend;
                uint16_t type;
                if (parse_question(q, (size_t)n, name, sizeof(name), &qend, &type) < 0) {
                        if (n >= 12)
                                reply(d->fd, &from, fl, q, 12, 1 /* FORMERR */, NULL);
                        continue;
                }
                struct in_addr a;
                bool gone = false;
                char src[INET_ADDRSTRLEN] = "";
                if (from.ss_family == AF_INET)
                        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, src,
                                  sizeof(src));
                if (lookup(d, name, src, &a, &gone))
                        reply(d->fd, &from, fl, q, qend, 0, type == 1 ? &a : NULL);
                else if (gone)
                        break;
                else if (!strchr(name, '.') || !forward(d->fd, &from, fl, q, (size_t)n))
                        reply(d->fd, &from, fl, q, qend, strchr(name, '.') ? 2 : 3, NULL);
        }
        close(d->fd);
        close(d->wake[0]);
        free(d);
        return NULL;
}

int dns_start(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        if (n->dns || !nw_gateway(n))
                return 0;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
        if (inet_pton(AF_INET, nw_gateway(n), &sa.sin_addr) != 1)
                return err_set(err, -EINVAL, "invalid gateway '%s'", nw_gateway(n));
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return err_errno(err, -errno, "socket");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return err_errno(err, r, "bind %s:53", nw_gateway(n));
        }
        struct dns *d = xzalloc(sizeof(*d));
        d->s = s;
        memcpy(d->netid, n->id, 65);
        d->fd = fd;
        if (pipe2(d->wake, O_CLOEXEC) < 0) {
                int r = -errno;
                close(fd);
                free(d);
                return err_errno(err, r, "pipe");
        }
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 128 * 1024);
        int r = pthread_create(&t, &at, dns_main, d);
        pthread_attr_destroy(&at);
        if (r != 0) {
                close(fd);
                close(d->wake[0]);
                close(d->wake[1]);
                free(d);
                return err_set(err, -r, "cannot start the DNS thread");
        }
        n->dns = d;
        return 0;
}

/* The thread owns its struct and ends on the wake-up (it may be waiting
 * for the store's lock, which the caller holds, so it is not joined). */
void dns_stop(struct netrec *n)
{
        struct dns *d = n->dns;
        if (!d)
                return;
        n->dns = NULL;
        close(d->wake[1]);
}
