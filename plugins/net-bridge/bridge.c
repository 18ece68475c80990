/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-bridge: a Linux bridge with one veth pair per container.
 *
 * Links and addresses go through libnl-3 (route), filtering and NAT through
 * libnftables: no ip(8) or nft(8) is forked, so joining a container costs a
 * handful of netlink round trips.
 *
 * nftables: one table of this daemon's own, "ip berth_<bridge>" (the default
 * network's bridge name, or the `table` option), rebuilt at start-up and
 * deleted at shutdown when no container is joined. Every per-network and
 * per-port change is an element added to or removed from a set or map of
 * that table, so nothing is ever looked up by rule handle and a change is
 * one small batch:
 *   bridges  (ifname)            all bridges of this daemon
 *   same     (ifname . ifname)   br . br: traffic within one network
 *   internal (ifname)            --internal networks: nothing in or out
 *   subnets  (ipv4 interval)     masqueraded on the way out
 *   pub_any  (proto . port)      -> container ip . port, on every local address
 *   pub_ip   (ip . proto . port) -> container ip . port, on one host address
 *
 * Published ports on 127.0.0.1 (the loopback path): DNAT in the nat output
 * chain for locally generated packets, route_localnet=1 on the bridge so
 * the kernel routes a 127.0.0.0/8 source out of it, and masquerade of that
 * source to the bridge's address. No userland proxy process is needed.
 * Hairpin (a container reaching a published port of its own network) is
 * masqueraded too ("ct status dnat" from the subnet back into the bridge).
 *
 * A published port is reserved by a socket bound to it (no SO_REUSEADDR)
 * that this driver holds until unpublish(): a port in use fails with
 * -EADDRINUSE, and nothing else can take it while the container runs.
 *
 * libnftables is loaded only while a batch runs (dlopen, one context,
 * dlclose): mapped, it and its libraries (libnftnl, libxtables, libgmp)
 * cost berthd about 1 MB of relocated pages and its context another 1 MB of
 * heap, all idle between the few moments the table changes (start-up, a
 * network, a published port). Loading it again costs about 0.4 ms
 * (measured), and it unloads cleanly: no C++, no unique symbols. */
#include <berth/network.h>

#include <arpa/inet.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <nftables/libnftables.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

struct net {
        struct net *next;
        char id[65];
        char ifname[IFNAMSIZ];
        char subnet[64];
        char gw_cidr[80];  /* the bridge's address: "10.213.0.1/16" */
        char subnet6[64];  /* "fd00:1::/64", or "": no IPv6 */
        char gw6_cidr[80]; /* the bridge's IPv6 address: "fd00:1::1/64" */
        char alias[256];   /* its ifalias, whose it is: "berth <data-root> network <name>" */
        unsigned mtu;
        int internal;
};

/* A joined endpoint's host end, to plug back into a bridge made again. */
struct member {
        struct member *next;
        char network_id[65];
        char hname[IFNAMSIZ];
};

/* A published port: its socket (-1 if it could not be held after a
 * restart) and its mapping, to put back into a table made again. */
struct reservation {
        struct reservation *next;
        char endpoint[65];
        uint32_t proto;
        uint16_t port;
        char host_ip[64];
        char container_ip[64];
        uint16_t container_port;
        int fd;
};

struct drv {
        const struct berth_host *host;
        pthread_mutex_t lock;
        char table[64];
        unsigned mtu;
        struct nl_sock *nl;
        struct net *nets;
        struct member *members;
        struct reservation *res;
        char alias_prefix[224]; /* "berth <data-root> network " */
        long joined;            /* endpoints joined (or restored) */
        bool built;             /* the table: from the first network to the last one's removal */
        bool built6;            /* the ip6 table: while an IPv6 network exists */
};

static int nl_to_errno(int e)
{
        switch (e < 0 ? -e : e) {
        case NLE_EXIST:
                return -EEXIST;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        default:
                return -EIO;
        }
}

static int write_sysctl(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

#ifndef NFT_SONAME
#define NFT_SONAME "libnftables.so.1"
#endif

/* The functions of libnftables the driver calls, as members of struct nft
 * typed from the library's own header. */
#define NFT_FUNCS(X)                \
        X(nft_ctx_new)              \
        X(nft_ctx_free)             \
        X(nft_ctx_buffer_output)    \
        X(nft_ctx_buffer_error)     \
        X(nft_ctx_get_error_buffer) \
        X(nft_run_cmd_from_buffer)

struct nft {
        void *so;
        struct nft_ctx *ctx;
#define NFT_MEMBER(f) __typeof__(f) *f;
        NFT_FUNCS(NFT_MEMBER)
#undef NFT_MEMBER
};

static void nft_close(struct nft *n)
{
        if (n->ctx)
                n->nft_ctx_free(n->ctx);
        if (n->so)
                dlclose(n->so);
        *n = (struct nft){0};
}

static int nft_open(struct drv *d, struct nft *n, struct berth_err *err)
{
        *n = (struct nft){0};
        n->so = dlopen(NFT_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!n->so)
                return berth_host_err(d->host, err, -ELIBACC, "nftables: %s", dlerror());
#define NFT_LOOKUP(f)                                                                   \
        if (!(n->f = (__typeof__(f) *)dlsym(n->so, #f))) {                              \
                nft_close(n);                                                           \
                return berth_host_err(d->host, err, -ELIBBAD, "nftables: %s has no %s", \
                                      NFT_SONAME, #f);                                  \
        }
        NFT_FUNCS(NFT_LOOKUP)
#undef NFT_LOOKUP
        n->ctx = n->nft_ctx_new(NFT_CTX_DEFAULT);
        if (!n->ctx) {
                nft_close(n);
                return berth_host_err(d->host, err, -ENOMEM, "nftables: no context");
        }
        n->nft_ctx_buffer_output(n->ctx);
        n->nft_ctx_buffer_error(n->ctx);
        return 0;
}

/* Run an nft batch in an open session; on failure the first line of
 * libnftables' message. */
static int nft_exec(struct drv *d, struct nft *n, const char *cmd, struct berth_err *err)
{
        if (n->nft_run_cmd_from_buffer(n->ctx, cmd) == 0) {
                n->nft_ctx_get_error_buffer(n->ctx); /* drop warnings */
                return 0;
        }
        const char *msg = n->nft_ctx_get_error_buffer(n->ctx);
        int len = msg ? (int)strcspn(msg, "\n") : 0;
        return berth_host_err(d->host, err, -EIO, "nftables: %.*s (table ip %s)", len,
                              msg ? msg : "", d->table);
}

/* One batch in a session of its own. */
static int nft_run(struct drv *d, const char *cmd, struct berth_err *err)
{
        struct nft n;
        int r = nft_open(d, &n, err);
        if (r < 0)
                return r;
        r = nft_exec(d, &n, cmd, err);
        nft_close(&n);
        return r;
}

static struct net *net_find(struct drv *d, const char *id)
{
        for (struct net *n = d->nets; n; n = n->next)
                if (strcmp(n->id, id) == 0)
                        return n;
        return NULL;
}

static const char *opt(struct drv *d, const char *key, const char *def)
{
        const char *v = d->host->config_get(d->host->ctx, key, NULL);
        return v && *v ? v : def;
}

static int table_build(struct drv *d, struct berth_err *err)
{
        char buf[4096];
        /* "add" then "delete": the table starts empty whether it existed or not. */
        snprintf(buf, sizeof(buf),
                 "add table ip %1$s\n"
                 "delete table ip %1$s\n"
                 "table ip %1$s {\n"
                 " set bridges { type ifname; }\n"
                 " set internal { type ifname; }\n"
                 " set same { type ifname . ifname; }\n"
                 " set subnets { type ipv4_addr; flags interval; }\n"
                 " map pub_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
                 " map pub_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . "
                 "inet_service; }\n"
                 " chain prerouting { type nat hook prerouting priority -100; policy accept;\n"
                 "  fib daddr type local dnat ip to meta l4proto . th dport map @pub_any\n"
                 "  dnat ip to ip daddr . meta l4proto . th dport map @pub_ip\n"
                 " }\n"
                 " chain output { type nat hook output priority -100; policy accept;\n"
                 "  fib daddr type local dnat ip to meta l4proto . th dport map @pub_any\n"
                 "  dnat ip to ip daddr . meta l4proto . th dport map @pub_ip\n"
                 " }\n"
                 " chain postrouting { type nat hook postrouting priority 100; policy accept;\n"
                 "  oifname != @bridges ip saddr @subnets masquerade\n"
                 "  oifname @bridges ip saddr 127.0.0.0/8 masquerade\n"
                 "  oifname @bridges ct status dnat ip saddr @subnets masquerade\n"
                 " }\n"
                 " chain forward { type filter hook forward priority 0; policy accept;\n"
                 "  iifname . oifname @same accept\n"
                 "  iifname @internal drop\n"
                 "  oifname @internal drop\n"
                 "  iifname @bridges oifname @bridges drop\n"
                 " }\n"
                 "}\n",
                 d->table);
        return nft_run(d, buf, err);
}

/* The IPv6 twin of the table, "ip6 <table>": the same sets and chains
 * for the IPv6 networks, built with the first of them. Published ports
 * are those on an IPv6 host address. ::1 is not one of them: IPv6 has no
 * route_localnet, and the kernel drops the answers to a ::1 source that
 * was masqueraded out of a bridge, so only a userland proxy could serve
 * it. */
static int table6_build(struct drv *d, struct berth_err *err)
{
        char buf[4096];
        snprintf(buf, sizeof(buf),
                 "add table ip6 %1$s\n"
                 "delete table ip6 %1$s\n"
                 "table ip6 %1$s {\n"
                 " set bridges { type ifname; }\n"
                 " set internal { type ifname; }\n"
                 " set same { type ifname . ifname; }\n"
                 " set subnets { type ipv6_addr; flags interval; }\n"
                 " map pub_ip { type ipv6_addr . inet_proto . inet_service : ipv6_addr . "
                 "inet_service; }\n"
                 " chain prerouting { type nat hook prerouting priority -100; policy accept;\n"
                 "  dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub_ip\n"
                 " }\n"
                 " chain output { type nat hook output priority -100; policy accept;\n"
                 "  dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub_ip\n"
                 " }\n"
                 " chain postrouting { type nat hook postrouting priority 100; policy accept;\n"
                 "  oifname != @bridges ip6 saddr @subnets masquerade\n"
                 "  oifname @bridges ct status dnat ip6 saddr @subnets masquerade\n"
                 " }\n"
                 " chain forward { type filter hook forward priority 0; policy accept;\n"
                 "  iifname . oifname @same accept\n"
                 "  iifname @internal drop\n"
                 "  oifname @internal drop\n"
                 "  iifname @bridges oifname @bridges drop\n"
                 " }\n"
                 "}\n",
                 d->table);
        return nft_run(d, buf, err);
}

static int link_delete(struct nl_sock *sk, const char *name)
{
        struct rtnl_link *l = rtnl_link_alloc();
        rtnl_link_set_name(l, name);
        int r = rtnl_link_delete(sk, l);
        rtnl_link_put(l);
        return r < 0 ? nl_to_errno(r) : 0;
}

/* Apply the attributes set in `changes` to the link `name`. */
static int link_change(struct nl_sock *sk, const char *name, struct rtnl_link *changes)
{
        struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r < 0)
                return nl_to_errno(r);
        r = rtnl_link_change(sk, l, changes, 0);
        rtnl_link_put(l);
        return r < 0 ? nl_to_errno(r) : 0;
}

/* Bridges this daemon made (their alias says so) that nothing is plugged
 * into: left by a run that was killed. Those of networks that still exist
 * come back as the engine restores them; the others would stay forever. */
static void sweep_bridges(struct drv *d)
{
        struct nl_cache *cache = NULL;
        if (!d->alias_prefix[0] || rtnl_link_alloc_cache(d->nl, AF_UNSPEC, &cache) < 0)
                return;
        size_t plen = strlen(d->alias_prefix);
        for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *a = rtnl_link_get_ifalias(l);
                if (!a || strncmp(a, d->alias_prefix, plen) != 0)
                        continue;
                int idx = rtnl_link_get_ifindex(l);
                bool busy = false;
                for (struct nl_object *p = nl_cache_get_first(cache); p && !busy;
                     p = nl_cache_get_next(p))
                        busy = rtnl_link_get_master((struct rtnl_link *)p) == idx;
                if (busy)
                        continue;
                const char *name = rtnl_link_get_name(l);
                int r = link_delete(d->nl, name);
                berth_log(d->host, r < 0 ? BERTH_LOG_WARNING : BERTH_LOG_INFO,
                          "bridge '%s' (%s) left by an earlier run: %s", name, a,
                          r < 0 ? strerror(-r) : "removed");
        }
        nl_cache_free(cache);
}

/* The bridge and the table are names the whole host shares: a second
 * daemon with the same ones would rebuild this one's table and delete its
 * bridge on the way out. */
static int claim(struct drv *d, const char *what, const char *name, struct berth_err *err)
{
        if (!BERTH_HOST_HAS(d->host, claim_name))
                return 0;
        struct berth_err e = {0};
        int r = d->host->claim_name(d->host->ctx, what, name, &e);
        if (r == -EBUSY)
                return berth_host_err(d->host, err, r,
                                      "%s; give this daemon its own [network.bridge] bridge and "
                                      "subnet",
                                      e.msg);
        if (r < 0)
                return berth_host_err(d->host, err, r, "%s", e.msg);
        return 0;
}

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        struct drv *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->host = host;
        pthread_mutex_init(&d->lock, NULL);
        const char *table = opt(d, "table", NULL);
        const char *br = opt(d, "bridge", "berth0");
        snprintf(d->table, sizeof(d->table), "%s%s", table ? "" : "berth_", table ? table : br);
        for (char *p = d->table; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_'))
                        *p = '_';
        d->mtu = (unsigned)atoi(opt(d, "mtu", "1500"));
        if (d->mtu < 68 || d->mtu > 65535) {
                int r = berth_host_err(host, err, -EINVAL, "invalid mtu '%s'", opt(d, "mtu", ""));
                free(d);
                return r;
        }
        /* Before the table is touched: building it flushes it, and another
         * daemon's table of that name would lose its rules. */
        int r = claim(d, "bridge", br, err);
        if (r >= 0)
                r = claim(d, "nftables table", d->table, err);
        if (r < 0) {
                free(d);
                return r;
        }
        d->nl = nl_socket_alloc();
        r = d->nl ? nl_connect(d->nl, NETLINK_ROUTE) : -NLE_NOMEM;
        if (r < 0) {
                if (d->nl)
                        nl_socket_free(d->nl);
                free(d);
                return berth_host_err(host, err, nl_to_errno(r), "netlink: %s", nl_geterror(r));
        }
        const char *root = host->path(host->ctx, BERTH_PATH_DATA_ROOT);
        if (root)
                snprintf(d->alias_prefix, sizeof(d->alias_prefix), "berth %s network ", root);
        sweep_bridges(d);
        r = table_build(d, err);
        if (r < 0) {
                nl_socket_free(d->nl);
                free(d);
                return r;
        }
        d->built = true;
        /* Forwarding is what a bridge network is for (dockerd sets it too). */
        write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
        *ret_state = d;
        return 0;
}

static void drv_fini(void *state)
{
        struct drv *d = state;
        if (!d)
                return;
        for (struct reservation *x = d->res, *next; x; x = next) {
                next = x->next;
                if (x->fd >= 0)
                        close(x->fd);
                free(x);
        }
        for (struct member *m = d->members, *next; m; m = next) {
                next = m->next;
                free(m);
        }
        /* With no container joined, nothing needs the bridges or the table:
         * leave the host as it was (the next start builds them again). */
        if (d->joined <= 0) {
                for (struct net *n = d->nets; n; n = n->next)
                        link_delete(d->nl, n->ifname);
                char buf[160];
                snprintf(buf, sizeof(buf), "delete table ip %s\n", d->table);
                nft_run(d, buf, NULL);
                if (d->built6) {
                        snprintf(buf, sizeof(buf), "delete table ip6 %s\n", d->table);
                        nft_run(d, buf, NULL);
                }
        }
        for (struct net *n = d->nets, *next; n; n = next) {
                next = n->next;
                free(n);
        }
        nl_socket_free(d->nl);
        free(d);
}

/* An IPv6 address goes without duplicate address detection: it is usable
 * at once (not "tentative" for a second), and IPAM already made it unique. */
static int add_address(struct nl_sock *sk, int ifindex, const char *cidr)
{
        struct nl_addr *a = NULL;
        int family = strchr(cidr, ':') ? AF_INET6 : AF_INET;
        int r = nl_addr_parse(cidr, family, &a);
        if (r < 0)
                return -EINVAL;
        struct rtnl_addr *ra = rtnl_addr_alloc();
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_local(ra, a);
        if (family == AF_INET6)
                rtnl_addr_set_flags(ra, IFA_F_NODAD);
        r = rtnl_addr_add(sk, ra, 0);
        rtnl_addr_put(ra);
        nl_addr_put(a);
        return r < 0 ? nl_to_errno(r) : 0;
}

/* "10.213.0.0/16" + "10.213.0.1" -> "10.213.0.1/16" */
static void gw_cidr(const struct berth_net_config *cfg, char *buf, size_t len)
{
        const char *slash = strchr(cfg->subnet, '/');
        snprintf(buf, len, "%s%s", cfg->gateway, slash ? slash : "/32");
}

/* Set the bridge of `n` up on the host: the link (one of that name left
 * by an earlier run is taken over, and kept on failure: containers may
 * still hang on it), its address, its sysctls and the alias that says
 * whose it is. *ret_created: it was made here. */
static int bridge_setup(struct drv *d, const struct net *n, bool *ret_created,
                        struct berth_err *err)
{
        bool existed = if_nametoindex(n->ifname) != 0;
        struct rtnl_link *l = rtnl_link_alloc();
        rtnl_link_set_type(l, "bridge");
        rtnl_link_set_name(l, n->ifname);
        rtnl_link_set_mtu(l, n->mtu);
        rtnl_link_set_flags(l, IFF_UP);
        int r = rtnl_link_add(d->nl, l, NLM_F_CREATE);
        rtnl_link_put(l);
        if (r < 0)
                return berth_host_err(d->host, err, nl_to_errno(r), "create bridge '%s': %s",
                                      n->ifname, nl_geterror(r));
        int ifindex = (int)if_nametoindex(n->ifname);
        r = add_address(d->nl, ifindex, n->gw_cidr);
        if (r < 0 && r != -EEXIST) {
                if (!existed)
                        link_delete(d->nl, n->ifname);
                return berth_host_err(d->host, err, r, "add address %s to '%s': %s", n->gw_cidr,
                                      n->ifname, strerror(-r));
        }
        char path[128];
        snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", n->ifname);
        write_sysctl(path, "1");
        snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", n->ifname);
        write_sysctl(path, n->subnet6[0] ? "0" : "1");
        if (n->subnet6[0]) {
                r = add_address(d->nl, ifindex, n->gw6_cidr);
                if (r < 0 && r != -EEXIST) {
                        if (!existed)
                                link_delete(d->nl, n->ifname);
                        return berth_host_err(d->host, err, r, "add address %s to '%s': %s",
                                              n->gw6_cidr, n->ifname, strerror(-r));
                }
        }
        /* A separate change: the kernel applies IFLA_IFALIAS only to a link
         * that exists. Without it the bridge works; only its label is missing.
         * The same change fixes the bridge's MAC, derived from its gateway
         * address as containers' MACs are from theirs (no container has the
         * gateway's address): a bridge without one takes the lowest MAC of
         * its ports, which changes as containers come and go, and the
         * containers' neighbour entries for the gateway then point at a MAC
         * that is no longer there until they expire (up to 45 s without a
         * way to their gateway, their DNS or the host). */
        struct rtnl_link *c = rtnl_link_alloc();
        rtnl_link_set_ifalias(c, n->alias);
        unsigned g[4];
        struct nl_addr *mac = NULL;
        if (sscanf(n->gw_cidr, "%u.%u.%u.%u", &g[0], &g[1], &g[2], &g[3]) == 4) {
                char macs[32];
                snprintf(macs, sizeof(macs), "02:42:%02x:%02x:%02x:%02x", g[0] & 0xff, g[1] & 0xff,
                         g[2] & 0xff, g[3] & 0xff);
                if (nl_addr_parse(macs, AF_LLC, &mac) == 0)
                        rtnl_link_set_addr(c, mac);
        }
        r = link_change(d->nl, n->ifname, c);
        nl_addr_put(mac);
        rtnl_link_put(c);
        if (r < 0)
                berth_log(d->host, BERTH_LOG_WARNING, "set the alias of bridge '%s': %s, ignoring",
                          n->ifname, strerror(-r));
        *ret_created = !existed;
        return 0;
}

/* The table's elements for network `n`. */
static void net_elements(struct drv *d, const struct net *n, const char *op, char *buf, size_t len)
{
        int k = snprintf(buf, len,
                         "%3$s element ip %1$s bridges { \"%2$s\" }\n"
                         "%3$s element ip %1$s same { \"%2$s\" . \"%2$s\" }\n",
                         d->table, n->ifname, op);
        if (k < 0 || (size_t)k >= len)
                return;
        if (n->internal)
                snprintf(buf + k, len - (size_t)k, "%s element ip %s internal { \"%s\" }\n", op,
                         d->table, n->ifname);
        else
                snprintf(buf + k, len - (size_t)k, "%s element ip %s subnets { %s }\n", op,
                         d->table, n->subnet);
}

/* The ip6 table's elements for network `n` (an IPv6 one). */
static void net_elements6(struct drv *d, const struct net *n, const char *op, char *buf, size_t len)
{
        char member[128];
        if (n->internal)
                snprintf(member, sizeof(member), "internal { \"%s\" }", n->ifname);
        else
                snprintf(member, sizeof(member), "subnets { %s }", n->subnet6);
        snprintf(buf, len,
                 "%1$s element ip6 %2$s bridges { \"%3$s\" }\n"
                 "%1$s element ip6 %2$s same { \"%3$s\" . \"%3$s\" }\n"
                 "%1$s element ip6 %2$s %4$s\n",
                 op, d->table, n->ifname, member);
}

static bool any_net6(struct drv *d)
{
        for (struct net *n = d->nets; n; n = n->next)
                if (n->subnet6[0])
                        return true;
        return false;
}

static void element(char *buf, size_t len, const char *op, struct drv *d,
                    const struct berth_port_mapping *p);

static void reservation_element(struct drv *d, const struct reservation *x, char *buf, size_t len)
{
        struct berth_port_mapping p = {.proto = x->proto,
                                       .container_port = x->container_port,
                                       .host_port = x->port,
                                       .host_ip = x->host_ip,
                                       .container_ip = x->container_ip};
        element(buf, len, "add", d, &p);
}

/* Whether this daemon's table is in the kernel: 1 yes, 0 no, -errno when
 * it cannot tell. One nfnetlink request, so that every join can ask. */
static int table_present(struct drv *d, uint8_t family)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (fd < 0)
                return -errno;
        struct {
                struct nlmsghdr nh;
                struct nfgenmsg nf;
                char attrs[NLA_HDRLEN + 80];
        } req;
        memset(&req, 0, sizeof(req));
        size_t nlen = strlen(d->table) + 1;
        struct nlattr *a = (struct nlattr *)req.attrs;
        a->nla_type = NFTA_TABLE_NAME;
        a->nla_len = (uint16_t)(NLA_HDRLEN + nlen);
        memcpy(req.attrs + NLA_HDRLEN, d->table, nlen);
        req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct nfgenmsg)) + NLA_ALIGN(a->nla_len);
        req.nh.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
        req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.nh.nlmsg_seq = 1;
        req.nf.nfgen_family = family;
        req.nf.version = NFNETLINK_V0;
        int r = -EIO;
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                goto out;
        }
        char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) {
                r = -errno;
                goto out;
        }
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (NLMSG_OK(h, (size_t)n)) {
                if (h->nlmsg_type == NLMSG_ERROR) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);
                        r = e->error == -ENOENT ? 0 : e->error == 0 ? 1 : e->error;
                } else
                        r = 1;
        }
out:
        close(fd);
        return r;
}

/* With d->lock held: the ip6 table, built with the first IPv6 network,
 * and built again with its elements when it has gone. */
static int repair_table6_locked(struct drv *d, struct berth_err *err)
{
        if (!any_net6(d))
                return 0;
        if (d->built6 && table_present(d, NFPROTO_IPV6) != 0)
                return 0;
        if (d->built6)
                berth_log(d->host, BERTH_LOG_WARNING,
                          "nftables table ip6 %s has gone; building it again", d->table);
        int r = table6_build(d, err);
        if (r < 0)
                return r;
        d->built6 = true;
        size_t cap = 1, off = 0;
        for (struct net *n = d->nets; n; n = n->next)
                cap += 512;
        for (struct reservation *x = d->res; x; x = x->next)
                cap += 256;
        char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        buf[0] = '\0';
        for (struct net *n = d->nets; n; n = n->next)
                if (n->subnet6[0]) {
                        net_elements6(d, n, "add", buf + off, cap - off);
                        off += strlen(buf + off);
                }
        for (struct reservation *x = d->res; x; x = x->next)
                if (strchr(x->host_ip, ':')) {
                        reservation_element(d, x, buf + off, cap - off);
                        off += strlen(buf + off);
                }
        r = off ? nft_run(d, buf, err) : 0;
        free(buf);
        return r;
}

/* With d->lock held. The table may have gone since it was built (`nft
 * delete table`, `nft flush ruleset`, a firewall reload): build it again
 * with every network's and published port's elements. */
static int repair_table_locked(struct drv *d, struct berth_err *err)
{
        if (!d->built) {
                int r = table_build(d, err);
                if (r == 0)
                        d->built = true;
                return r;
        }
        int r = repair_table6_locked(d, err);
        if (r < 0)
                return r;
        if (table_present(d, NFPROTO_IPV4) != 0)
                return 0;
        berth_log(d->host, BERTH_LOG_WARNING,
                  "nftables table ip %s has gone (deleted by hand, or a firewall reload?); "
                  "building it again",
                  d->table);
        r = table_build(d, err);
        if (r < 0)
                return r;
        size_t cap = 1, off = 0;
        for (struct net *n = d->nets; n; n = n->next)
                cap += 512;
        for (struct reservation *x = d->res; x; x = x->next)
                cap += 256;
        char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        buf[0] = '\0';
        for (struct net *n = d->nets; n; n = n->next) {
                net_elements(d, n, "add", buf + off, cap - off);
                off += strlen(buf + off);
        }
        for (struct reservation *x = d->res; x; x = x->next)
                if (!strchr(x->host_ip, ':')) {
                        reservation_element(d, x, buf + off, cap - off);
                        off += strlen(buf + off);
                }
        r = off ? nft_run(d, buf, err) : 0;
        free(buf);
        return r;
}

/* With d->lock held. The bridge of `n` may have gone since it was made
 * (`ip link del`): make it again, and plug the host ends of the endpoints
 * still joined back into it (the kernel let go of them with the bridge). */
static int repair_bridge_locked(struct drv *d, struct net *n, struct berth_err *err)
{
        if (if_nametoindex(n->ifname))
                return 0;
        berth_log(d->host, BERTH_LOG_WARNING,
                  "bridge '%s' of network %.12s has gone (deleted by hand?); making it again",
                  n->ifname, n->id);
        bool created;
        int r = bridge_setup(d, n, &created, err);
        if (r < 0)
                return r;
        int br = (int)if_nametoindex(n->ifname);
        for (struct member *m = d->members; m; m = m->next) {
                if (strcmp(m->network_id, n->id) != 0 || !if_nametoindex(m->hname))
                        continue;
                struct rtnl_link *c = rtnl_link_alloc();
                rtnl_link_set_master(c, br);
                r = link_change(d->nl, m->hname, c);
                rtnl_link_put(c);
                if (r < 0)
                        berth_log(d->host, BERTH_LOG_WARNING,
                                  "plug '%s' into bridge '%s' again: %s, ignoring", m->hname,
                                  n->ifname, strerror(-r));
        }
        return 0;
}

static int drv_create_network(void *state, const struct berth_net_config *cfg, uint64_t flags,
                              struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, BERTH_NET_RESTORE);
        if (!cfg->subnet || !cfg->gateway)
                return berth_host_err(d->host, err, -EINVAL,
                                      "the bridge driver needs a subnet and a gateway");
        char ifname[IFNAMSIZ];
        if (cfg->ifname && *cfg->ifname)
                snprintf(ifname, sizeof(ifname), "%s", cfg->ifname);
        else
                snprintf(ifname, sizeof(ifname), "br-%.12s", cfg->id);
        unsigned mtu = cfg->mtu ? cfg->mtu : d->mtu;
        int r;

        pthread_mutex_lock(&d->lock);
        if (net_find(d, cfg->id)) {
                r = (flags & BERTH_NET_RESTORE)
                        ? 0
                        : berth_host_err(d->host, err, -EEXIST, "network %s exists", cfg->id);
                pthread_mutex_unlock(&d->lock);
                return r;
        }
        r = repair_table_locked(d, err);
        if (r < 0)
                goto out;
        struct net *net = calloc(1, sizeof(*net));
        if (!net) {
                r = -ENOMEM;
                goto out;
        }
        snprintf(net->id, sizeof(net->id), "%s", cfg->id);
        snprintf(net->ifname, sizeof(net->ifname), "%s", ifname);
        snprintf(net->subnet, sizeof(net->subnet), "%s", cfg->subnet);
        gw_cidr(cfg, net->gw_cidr, sizeof(net->gw_cidr));
        snprintf(net->alias, sizeof(net->alias), "%s%s", d->alias_prefix,
                 cfg->name ? cfg->name : cfg->id);
        net->mtu = mtu;
        net->internal = cfg->internal != 0;
        if (d->host->abi_minor >= 3 && cfg->subnet6 && *cfg->subnet6) {
                if (!cfg->gateway6 || !*cfg->gateway6) {
                        free(net);
                        r = berth_host_err(d->host, err, -EINVAL,
                                           "the bridge driver needs an IPv6 gateway");
                        goto out;
                }
                const char *slash = strchr(cfg->subnet6, '/');
                snprintf(net->subnet6, sizeof(net->subnet6), "%s", cfg->subnet6);
                snprintf(net->gw6_cidr, sizeof(net->gw6_cidr), "%s%s", cfg->gateway6,
                         slash ? slash : "/128");
        }
        bool created = false;
        r = bridge_setup(d, net, &created, err);
        if (r < 0) {
                free(net);
                goto out;
        }
        char buf[1024];
        net_elements(d, net, "add", buf, sizeof(buf));
        r = nft_run(d, buf, err);
        if (r == 0 && net->subnet6[0]) {
                /* in the list first: a table built now gets its elements */
                net->next = d->nets;
                d->nets = net;
                bool had = d->built6;
                r = repair_table6_locked(d, err);
                if (r == 0 && had) {
                        net_elements6(d, net, "add", buf, sizeof(buf));
                        r = nft_run(d, buf, err);
                }
                d->nets = net->next;
                if (r < 0) { /* the ip table's elements go again */
                        net_elements(d, net, "delete", buf, sizeof(buf));
                        nft_run(d, buf, NULL);
                }
        }
        if (r < 0) {
                if (created)
                        link_delete(d->nl, ifname);
                free(net);
                goto out;
        }
        if (net->subnet6[0] && !net->internal) {
                /* forwarding is what lets IPv6 traffic leave the network, as
                 * for IPv4 (dockerd sets it for IPv6 networks too) */
                write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
        }
        net->next = d->nets;
        d->nets = net;
        r = 0;
out:
        pthread_mutex_unlock(&d->lock);
        return r;
}

static int drv_delete_network(void *state, const char *network_id, uint64_t flags,
                              struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, 0);
        pthread_mutex_lock(&d->lock);
        struct net **pp = &d->nets;
        while (*pp && strcmp((*pp)->id, network_id) != 0)
                pp = &(*pp)->next;
        struct net *n = *pp;
        if (!n) {
                pthread_mutex_unlock(&d->lock);
                return berth_host_err(d->host, err, -ENOENT, "network %s is not known", network_id);
        }
        *pp = n->next;
        char buf[1024];
        net_elements(d, n, "delete", buf, sizeof(buf));
        nft_run(d, buf, NULL);
        if (n->subnet6[0] && d->built6) {
                net_elements6(d, n, "delete", buf, sizeof(buf));
                nft_run(d, buf, NULL);
        }
        if (d->built6 && !any_net6(d)) {
                snprintf(buf, sizeof(buf), "delete table ip6 %s\n", d->table);
                nft_run(d, buf, NULL);
                d->built6 = false;
        }
        int r = link_delete(d->nl, n->ifname);
        if (!d->nets && d->joined <= 0) {
                /* the last network: nothing needs the table until the next one */
                snprintf(buf, sizeof(buf), "delete table ip %s\n", d->table);
                nft_run(d, buf, NULL);
                d->built = false;
        }
        pthread_mutex_unlock(&d->lock);
        if (r < 0 && r != -ENODEV)
                r = berth_host_err(d->host, err, r, "delete bridge '%s': %s", n->ifname,
                                   strerror(-r));
        else
                r = 0;
        free(n);
        return r;
}

/* A netlink socket in the network namespace at `path`: made while this
 * thread is in it, it stays bound to it after the thread goes back. */
static int ns_socket(const char *path, struct nl_sock **ret, int *ret_nsfd)
{
        int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return -errno;
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0) {
                int r = -errno;
                close(nsfd);
                return r;
        }
        if (setns(nsfd, CLONE_NEWNET) < 0) {
                int r = -errno;
                close(self);
                close(nsfd);
                return r;
        }
        struct nl_sock *sk = nl_socket_alloc();
        int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* a thread stuck in a container's namespace must not go on */
        close(self);
        if (r < 0) {
                if (sk)
                        nl_socket_free(sk);
                close(nsfd);
                return nl_to_errno(r);
        }
        *ret = sk;
        *ret_nsfd = nsfd;
        return 0;
}

static int link_up(struct nl_sock *sk, const char *name, int *ret_ifindex)
{
        struct rtnl_link *l = NULL;
        int r = rtnl_link_get_kernel(sk, 0, name, &l);
        if (r < 0)
                return nl_to_errno(r);
        if (ret_ifindex)
                *ret_ifindex = rtnl_link_get_ifindex(l);
        struct rtnl_link *c = rtnl_link_alloc();
        rtnl_link_set_flags(c, IFF_UP);
        r = rtnl_link_change(sk, l, c, 0);
        rtnl_link_put(c);
        rtnl_link_put(l);
        return r < 0 ? nl_to_errno(r) : 0;
}

/* Write a sysctl of the network namespace nsfd: /proc/sys/net resolves
 * to the namespace of the thread that opens the file. */
static int ns_sysctl(int nsfd, const char *path, const char *value)
{
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        if (setns(nsfd, CLONE_NEWNET) < 0) {
                int r = -errno;
                close(self);
                return r;
        }
        int r = write_sysctl(path, value);
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* a thread stuck in a container's namespace must not go on */
        close(self);
        return r;
}

static int add_default_route(struct nl_sock *sk, int family, int ifindex, const char *gateway)
{
        struct nl_addr *dst = NULL, *gw = NULL;
        nl_addr_parse(family == AF_INET6 ? "::/0" : "0.0.0.0/0", family, &dst);
        int r = nl_addr_parse(gateway, family, &gw);
        if (r == 0) {
                struct rtnl_route *rt = rtnl_route_alloc();
                struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
                rtnl_route_set_family(rt, (uint8_t)family);
                rtnl_route_set_dst(rt, dst);
                rtnl_route_nh_set_gateway(nh, gw);
                rtnl_route_nh_set_ifindex(nh, ifindex);
                rtnl_route_add_nexthop(rt, nh);
                r = rtnl_route_add(sk, rt, NLM_F_CREATE);
                r = r < 0 ? nl_to_errno(r) : 0;
                rtnl_route_put(rt);
        } else
                r = -EINVAL;
        nl_addr_put(dst);
        if (gw)
                nl_addr_put(gw);
        return r;
}

static void host_ifname(const struct berth_endpoint *ep, char buf[IFNAMSIZ])
{
        snprintf(buf, IFNAMSIZ, "vb%.11s", ep->endpoint_id);
}

static int drv_join(void *state, const struct berth_endpoint *ep, uint64_t flags,
                    struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, BERTH_NET_RESTORE);
        char hname[IFNAMSIZ];
        host_ifname(ep, hname);
        struct member *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        snprintf(m->network_id, sizeof(m->network_id), "%s", ep->network_id);
        snprintf(m->hname, sizeof(m->hname), "%s", hname);
        if (flags & BERTH_NET_RESTORE) {
                pthread_mutex_lock(&d->lock);
                d->joined++;
                m->next = d->members;
                d->members = m;
                pthread_mutex_unlock(&d->lock);
                return 0;
        }
        if (!ep->netns_path || !ep->address) {
                free(m);
                return berth_host_err(d->host, err, -EINVAL,
                                      "the bridge driver needs a namespace and an address");
        }

        /* What was removed behind this daemon's back comes back here, where
         * a container needs it. */
        pthread_mutex_lock(&d->lock);
        struct net *n = net_find(d, ep->network_id);
        int r = n ? repair_table_locked(d, err) : 0;
        if (r >= 0 && n)
                r = repair_bridge_locked(d, n, err);
        int br = n ? (int)if_nametoindex(n->ifname) : 0;
        pthread_mutex_unlock(&d->lock);
        if (r < 0) {
                free(m);
                return r;
        }
        if (!br) {
                free(m);
                return berth_host_err(d->host, err, -ENOENT, "network %.12s has no bridge",
                                      ep->network_id);
        }

        struct nl_sock *nsk = NULL;
        int nsfd = -1;
        r = ns_socket(ep->netns_path, &nsk, &nsfd);
        if (r < 0) {
                free(m);
                return berth_host_err(d->host, err, r, "enter network namespace '%s': %s",
                                      ep->netns_path, strerror(-r));
        }

        /* The MAC Docker derives from the address: 02:42:a:b:c:d. */
        struct in_addr ia = {0};
        char ipbuf[64];
        snprintf(ipbuf, sizeof(ipbuf), "%s", ep->address);
        ipbuf[strcspn(ipbuf, "/")] = '\0';
        inet_pton(AF_INET, ipbuf, &ia);
        const unsigned char *b = (const unsigned char *)&ia.s_addr;
        char mac[32];
        if (ep->mac && *ep->mac)
                snprintf(mac, sizeof(mac), "%s", ep->mac);
        else
                snprintf(mac, sizeof(mac), "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
        unsigned mtu = ep->mtu ? ep->mtu : d->mtu;

        /* One request: the pair, its host end up on the bridge, its inner end
         * created right in the namespace under its final name. */
        struct rtnl_link *veth = rtnl_link_veth_alloc();
        struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        rtnl_link_set_name(veth, hname);
        rtnl_link_set_mtu(veth, mtu);
        rtnl_link_set_master(veth, br);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, ep->ifname ? ep->ifname : "eth0");
        rtnl_link_set_mtu(peer, mtu);
        rtnl_link_set_ns_fd(peer, nsfd);
        struct nl_addr *lladdr = NULL;
        if (nl_addr_parse(mac, AF_LLC, &lladdr) == 0) {
                rtnl_link_set_addr(peer, lladdr);
                nl_addr_put(lladdr);
        }
        /* d->nl is shared: libnl sockets are not for concurrent use */
        pthread_mutex_lock(&d->lock);
        r = rtnl_link_add(d->nl, veth, NLM_F_CREATE | NLM_F_EXCL);
        pthread_mutex_unlock(&d->lock);
        rtnl_link_put(peer);
        rtnl_link_veth_release(veth);
        if (r < 0) {
                r = berth_host_err(d->host, err, nl_to_errno(r), "create veth pair '%s': %s", hname,
                                   nl_geterror(r));
                goto out;
        }

        int ifindex = 0;
        const char *what = "bring up lo";
        r = link_up(nsk, "lo", NULL);
        if (r >= 0) {
                what = "bring up the container's interface";
                r = link_up(nsk, ep->ifname ? ep->ifname : "eth0", &ifindex);
        }
        if (r >= 0) {
                what = "add the container's address";
                r = add_address(nsk, ifindex, ep->address);
        }
        if (r >= 0 && ep->gateway && *ep->gateway) {
                what = "add the default route";
                r = add_default_route(nsk, AF_INET, ifindex, ep->gateway);
        }
        const char *addr6 = d->host->abi_minor >= 3 ? ep->address6 : NULL;
        if (r >= 0 && addr6 && *addr6) {
                /* the namespace may come with IPv6 off for new interfaces
                 * (net.ipv6.conf.default.disable_ipv6 inherited) */
                char path[96];
                snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
                         ep->ifname ? ep->ifname : "eth0");
                what = "enable IPv6 on the container's interface";
                r = ns_sysctl(nsfd, path, "0");
                if (r >= 0) {
                        what = "add the container's IPv6 address";
                        r = add_address(nsk, ifindex, addr6);
                }
                if (r >= 0 && ep->gateway6 && *ep->gateway6) {
                        what = "add the default IPv6 route";
                        r = add_default_route(nsk, AF_INET6, ifindex, ep->gateway6);
                }
        }
        if (r < 0) {
                pthread_mutex_lock(&d->lock);
                link_delete(d->nl, hname);
                pthread_mutex_unlock(&d->lock);
                r = berth_host_err(d->host, err, r, "%s (%s): %s", what, ep->address, strerror(-r));
                goto out;
        }
        pthread_mutex_lock(&d->lock);
        d->joined++;
        m->next = d->members;
        d->members = m;
        m = NULL;
        pthread_mutex_unlock(&d->lock);
out:
        free(m);
        nl_socket_free(nsk);
        close(nsfd);
        return r;
}

static int drv_leave(void *state, const struct berth_endpoint *ep, uint64_t flags,
                     struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, 0);
        char hname[IFNAMSIZ];
        host_ifname(ep, hname);
        pthread_mutex_lock(&d->lock);
        if (d->joined > 0) /* not counted when it exited while berthd was away */
                d->joined--;
        for (struct member **pp = &d->members; *pp; pp = &(*pp)->next)
                if (strcmp((*pp)->hname, hname) == 0) {
                        struct member *x = *pp;
                        *pp = x->next;
                        free(x);
                        break;
                }
        /* Without a namespace the engine is about to remove it (the
         * container exited): the kernel then destroys the inner end and with
         * it the host end, in its batched namespace cleanup. Deleting the
         * pair here would wait for RCU grace periods, some 30-40 ms per
         * container on the exit path, for nothing. */
        int r = ep->netns_path ? link_delete(d->nl, hname) : 0;
        pthread_mutex_unlock(&d->lock);
        if (r < 0 && r != -ENODEV)
                return berth_host_err(d->host, err, r, "delete veth '%s': %s", hname, strerror(-r));
        return 0;
}

static bool any_ip(const char *ip)
{
        return !ip || !*ip || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

/* A host address of IPv6 (not "::", which an engine before ABI 1.3 may
 * pass to mean every address), for the ip6 table. */
static bool ip6(const char *ip)
{
        return !any_ip(ip) && strchr(ip, ':') != NULL;
}

static const char *proto_name(uint32_t p)
{
        return p == BERTH_PROTO_UDP ? "udp" : "tcp";
}

/* Hold host_ip:port so that no one else binds it while it is published. */
static int reserve(const struct berth_port_mapping *p, int *ret_fd)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } u = {.in = {.sin_family = AF_INET, .sin_port = htons(p->host_port)}};
        socklen_t len = sizeof(u.in);
        if (ip6(p->host_ip)) {
                u.in6 = (struct sockaddr_in6){.sin6_family = AF_INET6,
                                              .sin6_port = htons(p->host_port)};
                len = sizeof(u.in6);
                if (inet_pton(AF_INET6, p->host_ip, &u.in6.sin6_addr) != 1)
                        return -EAFNOSUPPORT;
        } else if (!any_ip(p->host_ip) && inet_pton(AF_INET, p->host_ip, &u.in.sin_addr) != 1)
                return -EAFNOSUPPORT;
        int fd = socket(u.sa.sa_family,
                        (p->proto == BERTH_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        if (u.sa.sa_family == AF_INET6) {
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
                setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
        } else
                setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
        if (bind(fd, &u.sa, len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static void element(char *buf, size_t len, const char *op, struct drv *d,
                    const struct berth_port_mapping *p)
{
        if (ip6(p->host_ip))
                snprintf(buf, len, "%s element ip6 %s pub_ip { %s . %s . %u : %s . %u }\n", op,
                         d->table, p->host_ip, proto_name(p->proto), p->host_port, p->container_ip,
                         p->container_port);
        else if (any_ip(p->host_ip))
                snprintf(buf, len, "%s element ip %s pub_any { %s . %u : %s . %u }\n", op, d->table,
                         proto_name(p->proto), p->host_port, p->container_ip, p->container_port);
        else
                snprintf(buf, len, "%s element ip %s pub_ip { %s . %s . %u : %s . %u }\n", op,
                         d->table, p->host_ip, proto_name(p->proto), p->host_port, p->container_ip,
                         p->container_port);
}

static void release_locked(struct drv *d, const char *endpoint, const struct berth_port_mapping *p)
{
        for (struct reservation **pp = &d->res; *pp;) {
                struct reservation *x = *pp;
                if (strcmp(x->endpoint, endpoint) == 0 &&
                    (!p || (x->proto == p->proto && x->port == p->host_port))) {
                        *pp = x->next;
                        if (x->fd >= 0)
                                close(x->fd);
                        free(x);
                } else
                        pp = &x->next;
        }
}

static int drv_publish(void *state, const struct berth_endpoint *ep,
                       const struct berth_port_mapping *ports, size_t n_ports, uint64_t flags,
                       struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, BERTH_NET_RESTORE);
        if (n_ports == 0)
                return 0;
        size_t cap = n_ports * 200 + 1;
        char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        size_t off = 0;
        int r = 0;
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < n_ports; i++) {
                const struct berth_port_mapping *p = &ports[i];
                struct in6_addr a6;
                if (ip6(p->host_ip) && inet_pton(AF_INET6, p->host_ip, &a6) == 1 &&
                    IN6_IS_ADDR_LOOPBACK(&a6)) {
                        r = berth_host_err(d->host, err, -EADDRNOTAVAIL,
                                           "cannot publish [%s]:%u/%s: IPv6 loopback traffic is "
                                           "not routed to containers (berth has no userland "
                                           "proxy); publish on 127.0.0.1 or on another IPv6 "
                                           "address of the host",
                                           p->host_ip, p->host_port, proto_name(p->proto));
                        goto fail;
                }
                if (ip6(p->host_ip) && (d->host->abi_minor < 3 || !d->built6)) {
                        r = berth_host_err(d->host, err, -EAFNOSUPPORT,
                                           "cannot publish [%s]:%u/%s: no IPv6 network", p->host_ip,
                                           p->host_port, proto_name(p->proto));
                        goto fail;
                }
                int fd = -1;
                r = reserve(p, &fd);
                if (r < 0 && !(flags & BERTH_NET_RESTORE)) {
                        r = berth_host_err(d->host, err, r, "cannot publish %s:%u/%s: %s%s",
                                           any_ip(p->host_ip) ? "0.0.0.0" : p->host_ip,
                                           p->host_port, proto_name(p->proto),
                                           r == -EADDRINUSE ? "port is already allocated: " : "",
                                           strerror(-r));
                        goto fail;
                }
                struct reservation *x = calloc(1, sizeof(*x));
                if (!x) {
                        if (fd >= 0)
                                close(fd);
                        r = -ENOMEM;
                        goto fail;
                }
                snprintf(x->endpoint, sizeof(x->endpoint), "%s", ep->endpoint_id);
                x->proto = p->proto;
                x->port = p->host_port;
                snprintf(x->host_ip, sizeof(x->host_ip), "%s", p->host_ip ? p->host_ip : "");
                snprintf(x->container_ip, sizeof(x->container_ip), "%s",
                         p->container_ip ? p->container_ip : "");
                x->container_port = p->container_port;
                x->fd = fd;
                x->next = d->res;
                d->res = x;
                element(buf + off, cap - off, "add", d, p);
                off += strlen(buf + off);
        }
        r = nft_run(d, buf, err);
        if (r < 0)
                goto fail;
        pthread_mutex_unlock(&d->lock);
        free(buf);
        return 0;
fail:
        release_locked(d, ep->endpoint_id, NULL);
        pthread_mutex_unlock(&d->lock);
        free(buf);
        return r;
}

static int drv_unpublish(void *state, const struct berth_endpoint *ep,
                         const struct berth_port_mapping *ports, size_t n_ports, uint64_t flags,
                         struct berth_err *err)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, 0);
        (void)err;
        struct nft n;
        bool have_nft = nft_open(d, &n, NULL) == 0;
        pthread_mutex_lock(&d->lock);
        for (size_t i = 0; i < n_ports; i++) {
                char buf[256];
                /* One by one: a batch fails whole on an element already gone. */
                element(buf, sizeof(buf), "delete", d, &ports[i]);
                if (have_nft)
                        nft_exec(d, &n, buf, NULL);
                release_locked(d, ep->endpoint_id, &ports[i]);
        }
        pthread_mutex_unlock(&d->lock);
        if (have_nft)
                nft_close(&n);
        return 0;
}

static int drv_status(void *state, berth_kv_fn fn, void *userdata, uint64_t flags)
{
        struct drv *d = state;
        BERTH_CHECK_FLAGS(flags, 0);
        char n[32];
        pthread_mutex_lock(&d->lock);
        snprintf(n, sizeof(n), "%ld", d->joined);
        pthread_mutex_unlock(&d->lock);
        int r = fn(userdata, "nftables table", d->table);
        if (r == 0)
                r = fn(userdata, "endpoints", n);
        return r;
}

static const struct berth_option drv_options[] = {
    {"bridge", "berth0", "the host bridge of the default network"},
    {"subnet", "10.213.0.0/16", "subnet of the default network"},
    {"gateway", "", "gateway of the default network (default: the subnet's first address)"},
    {"mtu", "1500", "MTU of bridges and veth pairs"},
    {"table", "", "nftables table (family ip) of this daemon (default: berth_<bridge>)"},
    {0},
};

static const struct berth_network_ops drv_ops = {
    .size = sizeof(struct berth_network_ops),
    .create_network = drv_create_network,
    .delete_network = drv_delete_network,
    .join = drv_join,
    .leave = drv_leave,
    .publish = drv_publish,
    .unpublish = drv_unpublish,
    .status = drv_status,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "bridge", .version = "1.0.0",
                    .description = "a Linux bridge with one veth pair per container",
                    .features = BERTH_NET_F_NEEDS_NETNS | BERTH_NET_F_USES_IPAM |
                                BERTH_NET_F_PORTS | BERTH_NET_F_USER_NETWORKS | BERTH_NET_F_IPV6,
                    .init = drv_init, .fini = drv_fini, .options = drv_options, .ops = &drv_ops);
