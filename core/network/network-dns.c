/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DNS responder of a user-defined network: UDP port 53 on the network's
 * gateway address (and TCP port 53, one query per connection), one thread
 * with poll(). A and AAAA queries for the name, an alias
 * or the short ID of a container on the network are answered from the
 * network's record (other types for those names get an empty answer, so
 * resolvers do not go on asking elsewhere). A name with a dot is relayed
 * to the host's resolvers (/etc/resolv.conf, read per query so that
 * changes apply); a single label that is not on the network gets NXDOMAIN
 * and never leaves the host.
 *
 * Written by hand: the part of DNS needed here (one question, one A or AAAA record)
 * is a few dozen lines, and no Debian library serves it in-process. */
#include "network-internal.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

struct dns {
        struct network_store *s;
        char netid[65];
        int fd;  /* UDP */
        int tcp; /* listening */
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

/* An answer: the name's IPv4 address and, when it has one, its IPv6 one. */
struct addrs {
        struct in_addr a;
        struct in6_addr aaaa;
        bool has_aaaa;
};

static bool find_in(struct netrec *n, const char *name, struct addrs *ret)
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
                char ip[INET6_ADDRSTRLEN + 8];
                snprintf(ip, sizeof(ip), "%s", json_get_str(c, "IPv6Address", ""));
                ip[strcspn(ip, "/")] = '\0';
                ret->has_aaaa = inet_pton(AF_INET6, ip, &ret->aaaa) == 1;
                snprintf(ip, sizeof(ip), "%s", json_get_str(c, "IPv4Address", ""));
                ip[strcspn(ip, "/")] = '\0';
                if (inet_pton(AF_INET, ip, &ret->a) == 1)
                        return true;
        }
        return false;
}

/* The address of `name` for the container that asks from `src`: on this
 * network, else on the other user-defined networks that container is
 * connected to (as Docker's embedded DNS answers). */
static bool lookup(struct dns *d, const char *name, const char *src, struct addrs *ret,
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

/* A reply to query q (the question ends at qend) into r; its length. a is
 * the record's data (type 1: 4 bytes, type 28: 16), or NULL: no answer. */
static size_t reply(unsigned char *r, size_t cap, const unsigned char *q, size_t qend,
                    unsigned rcode, uint16_t type, const void *a)
{
        size_t alen = type == 28 ? 16 : 4;
        if (qend + 12 + alen > cap)
                return 0;
        memcpy(r, q, qend);
        r[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04); /* QR, opcode, AA, RD */
        r[3] = (unsigned char)(0x80 | rcode);                /* RA */
        r[6] = 0;
        r[7] = a ? 1 : 0;
        memset(r + 8, 0, 4);
        size_t off = qend;
        if (a) {
                const unsigned char rr[] = {
                    0xc0, 0x0c, (unsigned char)(type >> 8), (unsigned char)type, 0, 1, 0, 0, 0,
                    10,   0,    (unsigned char)alen};
                memcpy(r + off, rr, sizeof(rr));
                off += sizeof(rr);
                memcpy(r + off, a, alen);
                off += alen;
        }
        return off;
}

/* Relay a query to the host's first reachable resolver (over UDP); the
 * answer's length in r, 0 on failure. */
static size_t forward(unsigned char *r, size_t cap, const unsigned char *q, size_t len)
{
        _cleanup_free_ char *conf = NULL;
        if (read_full_file("/etc/resolv.conf", &conf, NULL) < 0)
                return 0;
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
                ssize_t n = recv(u, r, cap, 0);
                if (n > 0)
                        return (size_t)n;
        }
        return 0;
}

/* The reply to one query from `src`, into r; 0: none. *ret_gone when the
 * network has been removed (the thread ends). */
static size_t answer(struct dns *d, const unsigned char *q, size_t n, const char *src,
                     unsigned char *r, size_t cap, bool *ret_gone)
{
        *ret_gone = false;
        if (n < 12 || (q[2] & 0x80))
                return 0;
        char name[256];
        size_t qend;
        uint16_t type;
        if (parse_question(q, n, name, sizeof(name), &qend, &type) < 0)
                return reply(r, cap, q, 12, 1 /* FORMERR */, 0, NULL);
        struct addrs a = {0};
        if (lookup(d, name, src, &a, ret_gone))
                return reply(r, cap, q, qend, 0, type,
                             type == 1                  ? (const void *)&a.a
                             : type == 28 && a.has_aaaa ? (const void *)&a.aaaa
                                                        : NULL);
        if (*ret_gone)
                return 0;
        size_t len = strchr(name, '.') ? forward(r, cap, q, n) : 0;
        return len ? len : reply(r, cap, q, qend, strchr(name, '.') ? 2 : 3, 0, NULL);
}

/* One query over TCP (RFC 7766: a 2-byte length before each message);
 * the connection is closed after the answer. */
static bool serve_tcp(struct dns *d, int c, const char *src)
{
        unsigned char q[1502], r[4098];
        struct pollfd p = {c, POLLIN, 0};
        size_t got = 0, want = 2;
        while (got < want) {
                if (poll(&p, 1, 2000) != 1)
                        return true;
                ssize_t k = read(c, q + got, want - got);
                if (k <= 0)
                        return true;
                got += (size_t)k;
                if (got == 2) {
                        want = 2 + (size_t)(q[0] << 8 | q[1]);
                        if (want > sizeof(q))
                                return true;
                }
        }
        bool gone;
        size_t len = answer(d, q + 2, want - 2, src, r + 2, sizeof(r) - 2, &gone);
        if (len) {
                r[0] = (unsigned char)(len >> 8);
                r[1] = (unsigned char)len;
                loop_write(c, r, len + 2);
        }
        return !gone;
}

static void *dns_main(void *p)
{
        struct dns *d = p;
        for (;;) {
                struct pollfd pf[3] = {
                    {d->fd, POLLIN, 0}, {d->tcp, POLLIN, 0}, {d->wake[0], POLLIN, 0}};
                if (poll(pf, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[2].revents)
                        break;
                struct sockaddr_storage from;
                socklen_t fl = sizeof(from);
                char src[INET_ADDRSTRLEN] = "";
                bool go_on = true;
                if (pf[0].revents) {
                        unsigned char q[1500], r[4096];
                        ssize_t n = recvfrom(d->fd, q, sizeof(q), MSG_DONTWAIT,
                                             (struct sockaddr *)&from, &fl);
                        if (n > 0) {
                                if (from.ss_family == AF_INET)
                                        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr,
                                                  src, sizeof(src));
                                bool gone;
                                size_t len = answer(d, q, (size_t)n, src, r, sizeof(r), &gone);
                                if (len)
                                        sendto(d->fd, r, len, MSG_DONTWAIT,
                                               (struct sockaddr *)&from, fl);
                                go_on = !gone;
                        }
                }
                if (go_on && pf[1].revents) {
                        fl = sizeof(from);
                        int c = accept4(d->tcp, (struct sockaddr *)&from, &fl,
                                        SOCK_CLOEXEC | SOCK_NONBLOCK);
                        if (c >= 0) {
                                if (from.ss_family == AF_INET)
                                        inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr,
                                                  src, sizeof(src));
                                go_on = serve_tcp(d, c, src);
                                close(c);
                        }
                }
                if (!go_on)
                        break;
        }
        close(d->fd);
        close(d->tcp);
        close(d->wake[0]);
        free(d);
        return NULL;
}

static int bound_socket(const char *ip, int type, int *ret, struct berth_err *err)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53)};
        if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                return err_set(err, -EINVAL, "invalid gateway '%s'", ip);
        int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return err_errno(err, -errno, "socket");
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            (type == SOCK_STREAM && listen(fd, 16) < 0)) {
                int r = -errno;
                close(fd);
                return err_errno(err, r, "bind %s:53/%s", ip, type == SOCK_STREAM ? "tcp" : "udp");
        }
        *ret = fd;
        return 0;
}

int dns_start(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        if (n->dns || !nw_gateway(n))
                return 0;
        int fd = -1, tcp = -1;
        int r = bound_socket(nw_gateway(n), SOCK_DGRAM, &fd, err);
        if (r < 0)
                return r;
        r = bound_socket(nw_gateway(n), SOCK_STREAM, &tcp, err);
        if (r < 0) {
                close(fd);
                return r;
        }
        struct dns *d = xzalloc(sizeof(*d));
        d->s = s;
        memcpy(d->netid, n->id, 65);
        d->fd = fd;
        d->tcp = tcp;
        if (pipe2(d->wake, O_CLOEXEC) < 0) {
                r = -errno;
                close(fd);
                close(tcp);
                free(d);
                return err_errno(err, r, "pipe");
        }
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, 256 * 1024);
        r = pthread_create(&t, &at, dns_main, d);
        pthread_attr_destroy(&at);
        if (r != 0) {
                close(fd);
                close(tcp);
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
