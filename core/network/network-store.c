/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Network records, IPAM and the /networks endpoints (docker-api.md §3.5). */
#include "base/events.h"
#include "network-internal.h"
#include "base/filters.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/random.h>

static void new_id(char out[65])
{
        unsigned char raw[32];
        if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                abort();
        for (int i = 0; i < 32; i++)
                sprintf(out + 2 * i, "%02x", raw[i]);
}

bool nw_predefined(const char *name)
{
        return streq(name, "bridge") || streq(name, "host") || streq(name, "none");
}

const char *nw_name(struct netrec *n)
{
        return json_get_str(n->j, "Name", "");
}

/* The first IPAM config of one family: IPv4 ones hold no ':' in their
 * subnet, IPv6 ones do (a network's configs come in the order given). */
static json_t *ipam_of(struct netrec *n, bool v6)
{
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(json_object_get(n->j, "IPAM"), "Config"), i, c)
                if ((strchr(json_get_str(c, "Subnet", ""), ':') != NULL) == v6)
                        return c;
        return NULL;
}

static json_t *ipam0(struct netrec *n)
{
        return ipam_of(n, false);
}

const char *nw_subnet6(struct netrec *n)
{
        const char *v = json_get_str(ipam_of(n, true), "Subnet", NULL);
        return v && *v && json_get_bool(n->j, "EnableIPv6", false) ? v : NULL;
}

const char *nw_gateway6(struct netrec *n)
{
        const char *v = json_get_str(ipam_of(n, true), "Gateway", NULL);
        return nw_subnet6(n) && v && *v ? v : NULL;
}

int nw_parse_ip6(const char *s, u128 *ret)
{
        struct in6_addr a;
        if (!s || inet_pton(AF_INET6, s, &a) != 1)
                return -EINVAL;
        u128 v = 0;
        for (size_t i = 0; i < 16; i++)
                v = v << 8 | a.s6_addr[i];
        *ret = v;
        return 0;
}

void nw_ip6_text(u128 v, char buf[INET6_ADDRSTRLEN])
{
        struct in6_addr a;
        for (int i = 15; i >= 0; i--, v >>= 8)
                a.s6_addr[i] = (unsigned char)v;
        inet_ntop(AF_INET6, &a, buf, INET6_ADDRSTRLEN);
}

static u128 mask6(int prefix)
{
        return prefix == 0 ? 0 : ~(u128)0 << (128 - prefix);
}

int nw_parse_cidr6(const char *s, int min_prefix, int max_prefix, u128 *ret_addr, int *ret_prefix)
{
        char ip[INET6_ADDRSTRLEN];
        const char *slash = s ? strchr(s, '/') : NULL;
        int64_t p;
        if (!slash || (size_t)(slash - s) >= sizeof(ip))
                return -EINVAL;
        snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
        if (nw_parse_ip6(ip, ret_addr) < 0 || parse_int64(slash + 1, &p) < 0 || p < min_prefix ||
            p > max_prefix)
                return -EINVAL;
        *ret_addr &= mask6((int)p);
        *ret_prefix = (int)p;
        return 0;
}

static bool in_subnet6(u128 a, u128 base, int prefix)
{
        return (a & mask6(prefix)) == base;
}

/* The address part of "fd00::2/64" (or of a bare address), parsed. */
static int parse_ip6_of(const char *cidr, u128 *ret)
{
        char ip[INET6_ADDRSTRLEN];
        size_t l = strcspn(cidr, "/");
        if (l >= sizeof(ip))
                return -EINVAL;
        memcpy(ip, cidr, l);
        ip[l] = '\0';
        return nw_parse_ip6(ip, ret);
}

static int cmp_u128(const void *a, const void *b)
{
        u128 x = *(const u128 *)a, y = *(const u128 *)b;
        return x < y ? -1 : x > y;
}

/* As nw_alloc_locked for IPv6: the subnet's first address is the
 * gateway's by default, dynamic addresses follow in order from IPRange (or
 * the subnet). Only the addresses in use are looked at, never the range,
 * so a /64 costs what a /120 does. */
int nw_alloc6_locked(struct netrec *n, const char *want, char ret_ip[INET6_ADDRSTRLEN],
                     struct berth_err *err)
{
        u128 base, a;
        int prefix;
        if (!nw_subnet6(n) || nw_parse_cidr6(nw_subnet6(n), 1, 127, &base, &prefix) < 0)
                return err_set(err, -EINVAL, "network %s has no IPv6 subnet (EnableIPv6)",
                               nw_name(n));
        u128 last = base | ~mask6(prefix);
        size_t n_used = 0,
               cap = json_object_size(json_object_get(n->j, "Containers")) +
                     json_object_size(json_object_get(ipam_of(n, true), "AuxiliaryAddresses")) + 1;
        _cleanup_free_ u128 *used = xmalloc(cap * sizeof(*used));
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(n->j, "Containers"), k, v)
                if (parse_ip6_of(json_get_str(v, "IPv6Address", ""), &used[n_used]) == 0)
                        n_used++;
        json_object_foreach (json_object_get(ipam_of(n, true), "AuxiliaryAddresses"), k, v)
                if (nw_parse_ip6(json_string_value(v), &used[n_used]) == 0)
                        n_used++;
        if (nw_parse_ip6(nw_gateway6(n), &used[n_used]) == 0)
                n_used++;
        if (want && *want) {
                if (nw_parse_ip6(want, &a) < 0)
                        return err_set(err, -EINVAL, "invalid IPv6 address '%s'", want);
                if (!in_subnet6(a, base, prefix) || a == base)
                        return err_set(err, -EINVAL,
                                       "address '%s' is not a host address of subnet %s of network "
                                       "%s",
                                       want, nw_subnet6(n), nw_name(n));
                for (size_t i = 0; i < n_used; i++)
                        if (used[i] == a)
                                return err_set(err, -EEXIST,
                                               "Address already in use: %s on network %s", want,
                                               nw_name(n));
                nw_ip6_text(a, ret_ip);
                return 0;
        }
        u128 first = base + 1;
        const char *range = json_get_str(ipam_of(n, true), "IPRange", NULL);
        u128 rbase;
        int rprefix;
        if (range && *range && nw_parse_cidr6(range, 1, 128, &rbase, &rprefix) == 0) {
                if (rbase > first)
                        first = rbase;
                if ((rbase | ~mask6(rprefix)) < last)
                        last = rbase | ~mask6(rprefix);
        }
        qsort(used, n_used, sizeof(*used), cmp_u128);
        a = first;
        for (size_t i = 0; i < n_used && used[i] <= a; i++)
                if (used[i] == a)
                        a++;
        if (a >= first && a <= last && a != 0) {
                nw_ip6_text(a, ret_ip);
                return 0;
        }
        return err_set(err, -ENOSPC, "no address left in subnet %s of network %s", nw_subnet6(n),
                       nw_name(n));
}

const char *nw_subnet(struct netrec *n)
{
        const char *v = json_get_str(ipam0(n), "Subnet", NULL);
        return v && *v ? v : NULL;
}

const char *nw_gateway(struct netrec *n)
{
        const char *v = json_get_str(ipam0(n), "Gateway", NULL);
        return v && *v ? v : NULL;
}

static int parse_cidr_max(const char *s, int max_prefix, uint32_t *ret_addr, int *ret_prefix);

int nw_parse_cidr(const char *s, uint32_t *ret_addr, int *ret_prefix)
{
        return parse_cidr_max(s, 30, ret_addr, ret_prefix);
}

static int parse_cidr_max(const char *s, int max_prefix, uint32_t *ret_addr, int *ret_prefix)
{
        char ip[64];
        const char *slash = strchr(s, '/');
        if (!slash || (size_t)(slash - s) >= sizeof(ip))
                return -EINVAL;
        snprintf(ip, sizeof(ip), "%.*s", (int)(slash - s), s);
        struct in_addr a;
        int64_t p;
        if (inet_pton(AF_INET, ip, &a) != 1 || parse_int64(slash + 1, &p) < 0 || p < 8 ||
            p > max_prefix)
                return -EINVAL;
        uint32_t mask = p == 0 ? 0 : 0xffffffffu << (32 - p);
        *ret_addr = ntohl(a.s_addr) & mask;
        *ret_prefix = (int)p;
        return 0;
}

static void ip_text(uint32_t a, char buf[16])
{
        struct in_addr ia = {htonl(a)};
        inet_ntop(AF_INET, &ia, buf, 16);
}

static int parse_ip(const char *s, uint32_t *ret)
{
        struct in_addr a;
        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

static bool ip_in_use_locked(struct netrec *n, uint32_t a)
{
        const char *cid;
        json_t *c;
        char ip[16];
        ip_text(a, ip);
        json_object_foreach (json_object_get(n->j, "Containers"), cid, c) {
                const char *v = json_get_str(c, "IPv4Address", "");
                size_t l = strcspn(v, "/");
                if (l == strlen(ip) && strncmp(v, ip, l) == 0)
                        return true;
        }
        /* AuxiliaryAddresses are reserved for hosts outside berth's care */
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(ipam0(n), "AuxiliaryAddresses"), k, v) {
                uint32_t x;
                if (parse_ip(json_string_value(v), &x) == 0 && x == a)
                        return true;
        }
        uint32_t gw;
        return parse_ip(nw_gateway(n), &gw) == 0 && gw == a;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

int nw_alloc_locked(struct netrec *n, const char *want, char ret_ip[16], struct berth_err *err)
{
        uint32_t base;
        int prefix;
        if (!nw_subnet(n) || nw_parse_cidr(nw_subnet(n), &base, &prefix) < 0)
                return err_set(err, -EINVAL, "network %s has no IPv4 subnet", nw_name(n));
        uint32_t size = 1u << (32 - prefix);
        if (want && *want) {
                uint32_t a;
                if (parse_ip(want, &a) < 0)
                        return err_set(err, -EINVAL, "invalid IPv4 address '%s'", want);
                if ((a & ~(size - 1)) != base || a == base || a == base + size - 1)
                        return err_set(err, -EINVAL,
                                       "address '%s' is not a host address of subnet %s of network "
                                       "%s",
                                       want, nw_subnet(n), nw_name(n));
                if (ip_in_use_locked(n, a))
                        return err_set(err, -EEXIST, "Address already in use: %s on network %s",
                                       want, nw_name(n));
                ip_text(a, ret_ip);
                return 0;
        }
        /* Dynamic addresses come from IPRange when the network has one;
         * a requested address only has to be in the subnet, as in Docker. */
        uint32_t first = base + 1, last = base + size - 2;
        const char *range = json_get_str(ipam0(n), "IPRange", NULL);
        uint32_t rbase;
        int rprefix;
        if (range && *range && parse_cidr_max(range, 32, &rbase, &rprefix) == 0) {
                uint32_t rsize = rprefix == 32 ? 1 : 1u << (32 - rprefix);
                if (rbase > first)
                        first = rbase;
                if (rbase + (rsize - 1) < last)
                        last = rbase + (rsize - 1);
        }
        /* The addresses in use, gathered once and sorted: the first free
         * one is the first gap, not a walk of every endpoint for each
         * candidate (k^2 compares for k containers on the network). */
        size_t n_used = 0, cap = json_object_size(json_object_get(n->j, "Containers")) +
                                 json_object_size(json_object_get(ipam0(n), "AuxiliaryAddresses")) +
                                 1;
        _cleanup_free_ uint32_t *used = xmalloc(cap * sizeof(*used));
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(n->j, "Containers"), k, v) {
                const char *t = json_get_str(v, "IPv4Address", "");
                char ip[16];
                size_t l = strcspn(t, "/");
                if (l < sizeof(ip)) {
                        memcpy(ip, t, l);
                        ip[l] = '\0';
                        if (parse_ip(ip, &used[n_used]) == 0)
                                n_used++;
                }
        }
        json_object_foreach (json_object_get(ipam0(n), "AuxiliaryAddresses"), k, v)
                if (parse_ip(json_string_value(v), &used[n_used]) == 0)
                        n_used++;
        if (parse_ip(nw_gateway(n), &used[n_used]) == 0)
                n_used++;
        qsort(used, n_used, sizeof(*used), cmp_u32);
        uint32_t a = first;
        for (size_t i = 0; i < n_used && used[i] <= a; i++)
                if (used[i] == a)
                        a++;
        if (a >= first && a <= last) {
                ip_text(a, ret_ip);
                return 0;
        }
        return err_set(err, -ENOSPC, "no address left in subnet %s of network %s", nw_subnet(n),
                       nw_name(n));
}

struct netrec *nw_find_locked(struct network_store *s, const char *ref)
{
        if (!ref || !*ref)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i]->id, ref))
                        return s->v[i];
        for (size_t i = 0; i < s->n; i++)
                if (streq(nw_name(s->v[i]), ref))
                        return s->v[i];
        struct netrec *found = NULL;
        for (size_t i = 0; i < s->n; i++)
                if (startswith(s->v[i]->id, ref)) {
                        if (found)
                                return NULL;
                        found = s->v[i];
                }
        return found;
}

int nw_not_found(struct berth_err *err, const char *ref)
{
        return err_set(err, -ENOENT, "network %s not found", ref);
}

int nw_save(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s.json", s->dir, n->id);
        return json_save_path(p, n->j, 0600, err);
}

static struct netrec *netrec_free(struct netrec *n)
{
        if (!n)
                return NULL;
        dns_stop(n);
        hostlock_release(n->claim);
        json_decref(n->j);
        free(n);
        return NULL;
}

static bool is_user_bridge(struct netrec *n)
{
        return n->drv && !nw_predefined(nw_name(n)) &&
               DRIVER_HAS(n->drv, berth_network_ops, join) &&
               (n->drv->desc->features & BERTH_NET_F_USES_IPAM);
}

/* Whether the driver reads the IPv6 fields (ABI 1.3, BERTH_NET_F_IPV6). */
static bool driver_has_ipv6(struct driver *d)
{
        return d->desc->abi_minor >= 3 && (d->desc->features & BERTH_NET_F_IPV6);
}

/* Claim the network's subnet on the host, so that no other daemon hands
 * out an overlapping one while this one runs. */
static int claim_subnet(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        uint32_t base;
        int prefix;
        if (n->claim || !nw_subnet(n) || nw_parse_cidr(nw_subnet(n), &base, &prefix) < 0)
                return 0;
        return hostlock_claim_subnet(HOSTLOCK_DIR, base, prefix, s->cfg->data_root, &n->claim, err);
}

/* Make the driver build the network on the host (again, after a restart). */
static int realise(struct network_store *s, struct netrec *n, uint64_t flags, struct berth_err *err)
{
        if (!n->drv || !DRIVER_HAS(n->drv, berth_network_ops, create_network))
                return 0;
        int r = claim_subnet(s, n, err);
        if (r == -EBUSY && streq(nw_name(n), "bridge")) {
                _cleanup_free_ char *m = xstrdup(err_msg(err));
                return err_set(
                    err, r, "%s; give this daemon its own [network.bridge] bridge and subnet", m);
        }
        if (r < 0)
                return r;
        json_t *o = json_object_get(n->j, "Options");
        const char *ifname = json_get_str(o, "com.docker.network.bridge.name", NULL);
        int64_t mtu = 0;
        parse_int64(json_get_str(o, "com.docker.network.driver.mtu", "0"), &mtu);
        struct berth_net_config cfg = {
            .id = n->id,
            .name = nw_name(n),
            .subnet = nw_subnet(n),
            .gateway = nw_gateway(n),
            .ifname = ifname,
            .internal = json_get_bool(n->j, "Internal", false),
            .mtu = (uint32_t)mtu,
        };
        if (nw_subnet6(n)) {
                if (!driver_has_ipv6(n->drv))
                        return err_set(err, -EINVAL, "network driver %s does not support IPv6",
                                       n->drv->name);
                cfg.subnet6 = nw_subnet6(n);
                cfg.gateway6 = nw_gateway6(n);
        }
        r = berth_network_create_network(n->drv, &cfg, flags, err);
        if (r < 0)
                return r;
        if (is_user_bridge(n)) {
                r = dns_start(s, n, err);
                if (r < 0)
                        log_warn("network %s: DNS responder: %s, ignoring", nw_name(n),
                                 err_msg(err));
                err_clear(err);
        }
        (void)s;
        return 0;
}

int nw_realise_again_locked(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        if (n->claim || !nw_subnet(n) || !n->drv ||
            !(n->drv->desc->features & BERTH_NET_F_USES_IPAM))
                return 0;
        int r = realise(s, n, BERTH_NET_RESTORE, err);
        if (r < 0)
                return err_prefix(err, "network %s", nw_name(n));
        return 0;
}

static struct driver *driver_for(struct network_store *s, const char *api_name)
{
        return driver_set_find(&s->drivers, BERTH_KIND_NETWORK,
                               streq(api_name, "null") ? "none" : api_name);
}

/* extra: more fields of the IPAM config (IPRange, AuxiliaryAddresses), or NULL */
static json_t *new_record(const char *id, const char *name, const char *driver, const char *subnet,
                          const char *gateway, json_t *extra, bool internal, json_t *labels,
                          json_t *options)
{
        _cleanup_free_ char *now = json_time_ns(now_ns());
        json_t *cfg = json_array();
        if (subnet) {
                json_t *c = json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gateway);
                if (extra)
                        json_object_update(c, extra);
                json_array_append_new(cfg, c);
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:{}, s:o}, s:b, s:b, s:b, "
                         "s:{s:s}, s:b, s:{}, s:o, s:o}",
                         "Name", name, "Id", id, "Created", now, "Scope", "local", "Driver", driver,
                         "EnableIPv6", 0, "IPAM", "Driver", "default", "Options", "Config", cfg,
                         "Internal", internal, "Attachable", 0, "Ingress", 0, "ConfigFrom",
                         "Network", "", "ConfigOnly", 0, "Containers", "Options",
                         options ? json_incref(options) : json_object(), "Labels",
                         labels ? json_incref(labels) : json_object());
}

static void add_locked(struct network_store *s, struct netrec *n)
{
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = n;
}

static const char *bridge_opt(struct network_store *s, struct driver *d, const char *key)
{
        const char *v = config_lookup(s->cfg, d->section, key, NULL);
        if (v && *v)
                return v;
        for (const struct berth_option *o = d->desc->options; o && o->key; o++)
                if (streq(o->key, key))
                        return o->def && *o->def ? o->def : NULL;
        return NULL;
}

/* bridge, host and none, from the loaded drivers. The default bridge follows
 * berth.ini ([network.bridge] bridge, subnet, gateway) whenever no container
 * is on it. */
static int predefined(struct network_store *s, struct berth_err *err)
{
        static const char *const names[] = {"bridge", "host", "none"};
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                struct driver *d = driver_set_find(&s->drivers, BERTH_KIND_NETWORK, names[k]);
                if (!d)
                        continue;
                struct netrec *n = nw_find_locked(s, names[k]);
                if (n && !streq(n->id, names[k]) && !streq(nw_name(n), names[k]))
                        n = NULL;
                const char *subnet = NULL, *ifname = NULL;
                char gw[16] = "";
                if (streq(names[k], "bridge")) {
                        subnet = bridge_opt(s, d, "subnet");
                        ifname = bridge_opt(s, d, "bridge");
                        uint32_t base;
                        int prefix;
                        if (!subnet || nw_parse_cidr(subnet, &base, &prefix) < 0)
                                return err_set(err, -EINVAL,
                                               "[%s] subnet = %s is not an IPv4 subnet (a.b.c.d/n)",
                                               d->section, strempty(subnet));
                        const char *g = bridge_opt(s, d, "gateway");
                        if (g)
                                snprintf(gw, sizeof(gw), "%s", g);
                        else
                                ip_text(base + 1, gw);
                }
                /* Follow the configuration, unless the bridge is still up: the
                 * daemon takes it down at exit when no container uses it, so
                 * then containers from before the restart still run on it. */
                const char *old_if = n ? json_get_str(json_object_get(n->j, "Options"),
                                                      "com.docker.network.bridge.name", "")
                                       : "";
                if (n && subnet && !(*old_if && if_nametoindex(old_if))) {
                        json_object_set_new(
                            json_object_get(n->j, "IPAM"), "Config",
                            json_pack("[{s:s, s:s}]", "Subnet", subnet, "Gateway", gw));
                        json_object_set_new(json_object_get(n->j, "Options"),
                                            "com.docker.network.bridge.name", json_string(ifname));
                        int r = nw_save(s, n, err);
                        if (r < 0)
                                return r;
                }
                if (n)
                        continue;
                char id[65];
                new_id(id);
                json_t *opts = json_object();
                if (ifname) {
                        json_object_set_new(opts, "com.docker.network.bridge.default_bridge",
                                            json_string("true"));
                        json_object_set_new(opts, "com.docker.network.bridge.name",
                                            json_string(ifname));
                }
                n = xzalloc(sizeof(*n));
                memcpy(n->id, id, 65);
                n->drv = d;
                n->j = new_record(id, names[k], streq(names[k], "none") ? "null" : names[k], subnet,
                                  gw, NULL, false, NULL, opts);
                json_decref(opts);
                int r = nw_save(s, n, err);
                if (r < 0) {
                        netrec_free(n);
                        return r;
                }
                add_locked(s, n);
        }
        return 0;
}

int network_store_open(struct berth_config *cfg, const struct driver_set *drivers,
                       struct network_store **ret, struct berth_err *err)
{
        struct network_store *s = xzalloc(sizeof(*s));
        s->cfg = cfg;
        s->drivers = *drivers;
        s->dir = xasprintf("%s/networks", cfg->data_root);
        pthread_mutex_init(&s->lock, NULL);
        int r = mkdir_p(s->dir, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", s->dir);
                network_store_close(s);
                return r;
        }
        _cleanup_closedir_ DIR *dir = opendir(s->dir);
        struct dirent *de;
        while (dir && (de = readdir(dir))) {
                if (!endswith(de->d_name, ".json") || strlen(de->d_name) != 64 + 5)
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", s->dir, de->d_name);
                json_t *j = NULL;
                struct berth_err e2 = {0};
                if (json_load_path(p, &j, &e2) < 0) {
                        log_warn("network record '%s': %s, ignoring", p, err_msg(&e2));
                        continue;
                }
                struct netrec *n = xzalloc(sizeof(*n));
                snprintf(n->id, sizeof(n->id), "%.64s", de->d_name);
                n->j = j;
                /* The live endpoints are rebuilt from the records of the
                 * running containers (network_restore_containers()): one
                 * place holds each allocation, and starting a container
                 * writes no network record. */
                json_object_set_new(j, "Containers", json_object());
                n->drv = driver_for(s, json_get_str(j, "Driver", ""));
                if (!n->drv)
                        log_warn("network %s: driver '%s' is not loaded", nw_name(n),
                                 json_get_str(j, "Driver", ""));
                add_locked(s, n);
        }
        r = predefined(s, err);
        if (r < 0) {
                network_store_close(s);
                return r;
        }
        for (size_t i = 0; i < s->n; i++) {
                struct berth_err e2 = {0};
                r = realise(s, s->v[i], BERTH_NET_RESTORE, &e2);
                if (r < 0) {
                        if (streq(nw_name(s->v[i]), "bridge")) {
                                err_set(err, r, "default network: %s", err_msg(&e2));
                                network_store_close(s);
                                return r;
                        }
                        log_warn("network %s: %s", nw_name(s->v[i]), err_msg(&e2));
                }
        }
        *ret = s;
        return 0;
}

struct network_store *network_store_close(struct network_store *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                netrec_free(s->v[i]);
        free(s->v);
        free(s->dir);
        free(s);
        return NULL;
}

void network_shutdown(struct network_store *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        bool busy = false;
        for (size_t i = 0; i < s->n; i++)
                if (json_object_size(json_object_get(s->v[i]->j, "Containers")))
                        busy = true;
        for (size_t i = 0; i < s->n && !busy; i++) {
                struct netrec *n = s->v[i];
                dns_stop(n);
                if (n->drv && DRIVER_HAS(n->drv, berth_network_ops, delete_network))
                        berth_network_delete_network(n->drv, n->id, 0, NULL);
        }
        pthread_mutex_unlock(&s->lock);
}

/* A copy for the API: without our private endpoint fields. */
static json_t *view(struct netrec *n)
{
        json_t *j = json_deep_copy(n->j);
        const char *k;
        json_t *c;
        json_object_foreach (json_object_get(j, "Containers"), k, c)
                json_object_del(c, "Aliases");
        return j;
}

int network_inspect(struct network_store *s, const char *ref, json_t **ret, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, ref);
        if (n)
                *ret = view(n);
        pthread_mutex_unlock(&s->lock);
        return n ? 0 : nw_not_found(err, ref);
}

static bool label_match(json_t *labels, json_t *want)
{
        size_t i;
        json_t *v;
        json_array_foreach (want, i, v) {
                const char *f = json_string_value(v);
                if (!f)
                        continue;
                const char *eq = strchr(f, '=');
                _cleanup_free_ char *k = eq ? xstrndup(f, (size_t)(eq - f)) : xstrdup(f);
                json_t *l = json_object_get(labels, k);
                if (!l || (eq && !streq(strempty(json_string_value(l)), eq + 1)))
                        return false;
        }
        return true;
}

static bool any_match(json_t *want, const char *value, bool prefix)
{
        if (!json_array_size(want))
                return true;
        size_t i;
        json_t *v;
        json_array_foreach (want, i, v) {
                const char *f = json_string_value(v);
                if (f && (prefix ? startswith(value, f) != NULL : strstr(value, f) != NULL))
                        return true;
        }
        return false;
}

/* filters: {"name":[..],"id":[..],"driver":[..],"label":[..],"type":["custom"|"builtin"],
 * "dangling":["true"]}, as a JSON text; values may also be {"x":true} maps. */
static int nw_filters_parse(const char *text, json_t **ret, struct berth_err *err)
{
        json_t *f = json_object();
        if (text && *text) {
                json_error_t je;
                json_t *in = json_loads(text, 0, &je);
                if (!json_is_object(in)) {
                        json_decref(in);
                        json_decref(f);
                        return err_set(err, -EINVAL, "invalid filters '%s'", text);
                }
                const char *k;
                json_t *v;
                json_object_foreach (in, k, v) {
                        json_t *l = json_array();
                        if (json_is_array(v))
                                json_array_extend(l, v);
                        else if (json_is_object(v)) {
                                const char *kk;
                                json_t *vv;
                                json_object_foreach (v, kk, vv)
                                        json_array_append_new(l, json_string(kk));
                        }
                        json_object_set_new(f, k, l);
                }
                json_decref(in);
        }
        *ret = f;
        return 0;
}

static bool matches(struct netrec *n, json_t *f)
{
        if (!any_match(json_object_get(f, "name"), nw_name(n), false) ||
            !any_match(json_object_get(f, "id"), n->id, true) ||
            !label_match(json_object_get(n->j, "Labels"), json_object_get(f, "label")))
                return false;
        json_t *dr = json_object_get(f, "driver");
        if (json_array_size(dr)) {
                bool ok = false;
                size_t i;
                json_t *v;
                json_array_foreach (dr, i, v)
                        if (streq(strempty(json_string_value(v)), json_get_str(n->j, "Driver", "")))
                                ok = true;
                if (!ok)
                        return false;
        }
        json_t *ty = json_object_get(f, "type");
        if (json_array_size(ty)) {
                const char *t = json_string_value(json_array_get(ty, 0));
                bool builtin = nw_predefined(nw_name(n));
                if ((streq(strempty(t), "custom") && builtin) ||
                    (streq(strempty(t), "builtin") && !builtin))
                        return false;
        }
        json_t *dg = json_object_get(f, "dangling");
        if (json_array_size(dg)) {
                const char *t = json_string_value(json_array_get(dg, 0));
                bool dangling = !nw_predefined(nw_name(n)) &&
                                !json_object_size(json_object_get(n->j, "Containers"));
                if ((streq(strempty(t), "true") || streq(strempty(t), "1")) != dangling)
                        return false;
        }
        return true;
}

int network_list(struct network_store *s, const char *filters, json_t **ret, struct berth_err *err)
{
        _cleanup_json_ json_t *f = NULL;
        int r = nw_filters_parse(filters, &f, err);
        if (r < 0)
                return r;
        json_t *l = json_array();
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++)
                if (matches(s->v[i], f))
                        json_array_append_new(l, view(s->v[i]));
        pthread_mutex_unlock(&s->lock);
        *ret = l;
        return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
        int p = pa < pb ? pa : pb;
        uint32_t m = p == 0 ? 0 : 0xffffffffu << (32 - p);
        return (a & m) == (b & m);
}

static bool subnet_taken_locked(struct network_store *s, uint32_t a, int p, bool host_too)
{
        for (size_t i = 0; i < s->n; i++) {
                uint32_t b;
                int pb;
                if (nw_subnet(s->v[i]) && nw_parse_cidr(nw_subnet(s->v[i]), &b, &pb) == 0 &&
                    overlaps(a, p, b, pb))
                        return true;
        }
        if (!host_too)
                return false;
        struct ifaddrs *ifa = NULL;
        bool taken = false;
        if (getifaddrs(&ifa) == 0) {
                for (struct ifaddrs *x = ifa; x; x = x->ifa_next)
                        if (x->ifa_addr && x->ifa_addr->sa_family == AF_INET) {
                                uint32_t h =
                                    ntohl(((struct sockaddr_in *)x->ifa_addr)->sin_addr.s_addr);
                                if (overlaps(a, p, h, 32))
                                        taken = true;
                        }
                freeifaddrs(ifa);
        }
        return taken;
}

/* Docker's rule (libnetwork's config.ValidateName): any name that is not
 * empty or blank; spaces and other characters are fine, since a network's
 * name names no file or interface (those use the ID). */
static bool name_valid(const char *s)
{
        for (; s && *s; s++)
                if (!isspace((unsigned char)*s))
                        return true;
        return false;
}

/* The IPv6 IPAM config of a network from the one given (Subnet, Gateway,
 * IPRange, AuxiliaryAddresses), checked and normalised. Docker takes the
 * subnet from its default IPv6 pools only where an administrator set
 * those up; berth has none, so a subnet must be given. */
static int ipam6_config(struct driver *d, bool enable6, json_t *c, json_t **ret,
                        struct berth_err *err)
{
        if (!enable6)
                return err_set(err, -EINVAL,
                               "IPv6 subnet '%s' given, but IPv6 is not enabled on the network "
                               "(EnableIPv6, --ipv6)",
                               json_get_str(c, "Subnet", ""));
        if (!driver_has_ipv6(d))
                return err_set(err, -EINVAL, "network driver %s does not support IPv6", d->name);
        const char *subnet = json_get_str(c, "Subnet", "");
        if (!*subnet)
                return err_set(err, -EINVAL,
                               "no IPv6 subnet given: could not find an available, non-overlapping "
                               "IPv6 address pool among the defaults to assign to the network "
                               "(give one, e.g. --subnet fd00:1::/64)");
        u128 base, gw, x;
        int prefix;
        if (nw_parse_cidr6(subnet, 1, 126, &base, &prefix) < 0)
                return err_set(err, -EINVAL, "invalid subnet '%s' (an IPv6 prefix, length 1..126)",
                               subnet);
        char t[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];
        nw_ip6_text(base, t);
        snprintf(buf, sizeof(buf), "%s/%d", t, prefix);
        json_t *o = json_pack("{s:s}", "Subnet", buf);
        *ret = o;
        const char *g = json_get_str(c, "Gateway", "");
        if (*g && (nw_parse_ip6(g, &gw) < 0 || !in_subnet6(gw, base, prefix) || gw == base))
                return err_set(err, -EINVAL, "invalid gateway '%s' for subnet '%s'", g, subnet);
        if (!*g)
                gw = base + 1;
        nw_ip6_text(gw, t);
        json_object_set_new(o, "Gateway", json_string(t));
        const char *range = json_get_str(c, "IPRange", "");
        if (*range) {
                int rp;
                if (nw_parse_cidr6(range, 1, 128, &x, &rp) < 0 || rp < prefix ||
                    !in_subnet6(x, base, prefix))
                        return err_set(err, -EINVAL, "invalid ip range '%s' for subnet '%s'", range,
                                       subnet);
                nw_ip6_text(x, t);
                snprintf(buf, sizeof(buf), "%s/%d", t, rp);
                json_object_set_new(o, "IPRange", json_string(buf));
        }
        json_t *aux = json_object_get(c, "AuxiliaryAddresses");
        const char *k;
        json_t *v;
        json_object_foreach (aux, k, v)
                if (nw_parse_ip6(json_string_value(v), &x) < 0 || !in_subnet6(x, base, prefix))
                        return err_set(err, -EINVAL,
                                       "invalid auxiliary address %s='%s' for subnet '%s'", k,
                                       strempty(json_string_value(v)), subnet);
        if (json_object_size(aux))
                json_object_set(o, "AuxiliaryAddresses", aux);
        return 0;
}

/* Whether another network's IPv6 subnet overlaps `subnet`. */
static bool subnet6_taken_locked(struct network_store *s, const char *subnet)
{
        u128 a, b;
        int pa, pb;
        if (nw_parse_cidr6(subnet, 1, 128, &a, &pa) < 0)
                return false;
        for (size_t i = 0; i < s->n; i++)
                if (nw_subnet6(s->v[i]) &&
                    nw_parse_cidr6(nw_subnet6(s->v[i]), 1, 128, &b, &pb) == 0 &&
                    (a & mask6(pa < pb ? pa : pb)) == (b & mask6(pa < pb ? pa : pb)))
                        return true;
        return false;
}

int network_create(struct network_store *s, json_t *body, char **ret_id, struct berth_err *err)
{
        const char *name = json_get_str(body, "Name", "");
        if (!name_valid(name))
                return err_set(err, -EINVAL, "invalid name: name is empty");
        const char *dname = json_get_str(body, "Driver", "");
        if (!*dname)
                dname = "bridge";
        struct driver *d = driver_for(s, dname);
        if (!d)
                return err_set(err, -ENOENT, "plugin \"%s\" not found", dname);
        if (!(d->desc->features & BERTH_NET_F_USER_NETWORKS))
                return err_set(err, -EPERM,
                               "only one instance of \"%s\" network is allowed (driver %s does not "
                               "make user-defined networks)",
                               dname, d->name);
        json_t *cfg0 = NULL, *cfg6 = NULL;
        size_t i;
        json_t *c;
        json_array_foreach (json_object_get(json_object_get(body, "IPAM"), "Config"), i, c) {
                bool v6 = strchr(json_get_str(c, "Subnet", ""), ':') ||
                          (!*json_get_str(c, "Subnet", "") &&
                           strchr(json_get_str(c, "Gateway", ""), ':'));
                if (v6 && !cfg6)
                        cfg6 = c;
                else if (!v6 && !cfg0)
                        cfg0 = c;
        }
        const char *keys[] = {"Subnet", "IPRange", "Gateway"};
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                if (strchr(json_get_str(cfg0, keys[k], ""), ':'))
                        return err_set(err, -EINVAL, "invalid %s '%s' for IPv4 subnet '%s'",
                                       keys[k], json_get_str(cfg0, keys[k], ""),
                                       json_get_str(cfg0, "Subnet", ""));
        bool enable6 = json_get_bool(body, "EnableIPv6", false);
        _cleanup_json_ json_t *ipam6 = NULL;
        if (enable6 || cfg6) {
                int r = ipam6_config(d, enable6, cfg6, &ipam6, err);
                if (r < 0)
                        return r;
        }
        const char *subnet = json_get_str(cfg0, "Subnet", NULL);
        const char *gateway = json_get_str(cfg0, "Gateway", NULL);
        if (subnet && !*subnet)
                subnet = NULL;
        if (gateway && !*gateway)
                gateway = NULL;
        uint32_t base = 0, gw = 0;
        int prefix = 0;
        if (subnet && nw_parse_cidr(subnet, &base, &prefix) < 0)
                return err_set(err, -EINVAL, "invalid subnet '%s' (an IPv4 a.b.c.d/n, n 8..30)",
                               subnet);
        if (gateway && (parse_ip(gateway, &gw) < 0 ||
                        (subnet && (gw & (0xffffffffu << (32 - prefix))) != base)))
                return err_set(err, -EINVAL, "invalid gateway '%s' for subnet '%s'", gateway,
                               strempty(subnet));
        _cleanup_json_ json_t *extra = json_object();
        const char *range = json_get_str(cfg0, "IPRange", NULL);
        if (range && *range) {
                uint32_t rbase;
                int rprefix;
                if (!subnet)
                        return err_set(err, -EINVAL,
                                       "invalid ip range '%s': it needs a subnet of the network",
                                       range);
                if (parse_cidr_max(range, 32, &rbase, &rprefix) < 0 || rprefix < prefix ||
                    (rbase & (0xffffffffu << (32 - prefix))) != base)
                        return err_set(err, -EINVAL, "invalid ip range '%s' for subnet '%s'", range,
                                       subnet);
                char rt[16], rs[32];
                ip_text(rbase, rt);
                snprintf(rs, sizeof(rs), "%s/%d", rt, rprefix);
                json_object_set_new(extra, "IPRange", json_string(rs));
        }
        json_t *aux = json_object_get(cfg0, "AuxiliaryAddresses");
        if (json_object_size(aux)) {
                const char *k;
                json_t *v;
                json_object_foreach (aux, k, v) {
                        uint32_t x;
                        if (parse_ip(json_string_value(v), &x) < 0 ||
                            (subnet && (x & (0xffffffffu << (32 - prefix))) != base))
                                return err_set(err, -EINVAL,
                                               "invalid auxiliary address %s='%s' for subnet '%s'",
                                               k, strempty(json_string_value(v)), strempty(subnet));
                }
                json_object_set(extra, "AuxiliaryAddresses", aux);
        }
        char sub[32], gwt[16];
        char id[65];
        new_id(id);
        json_t *opts = json_object_get(body, "Options");
        pthread_mutex_lock(&s->lock);
        struct netrec *clash = nw_find_locked(s, name);
        if (clash && streq(nw_name(clash), name)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EEXIST, "network with name %s already exists", name);
        }
        if (ipam6 && subnet6_taken_locked(s, json_get_str(ipam6, "Subnet", ""))) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EPERM,
                               "Pool overlaps with other one on this address space: %s",
                               json_get_str(ipam6, "Subnet", ""));
        }
        bool ipam = d->desc->features & BERTH_NET_F_USES_IPAM;
        struct hostlock *claim = NULL;
        if (subnet) {
                struct berth_err e = {0};
                if (subnet_taken_locked(s, base, prefix, false) ||
                    (ipam && hostlock_claim_subnet(HOSTLOCK_DIR, base, prefix, s->cfg->data_root,
                                                   &claim, &e) < 0)) {
                        pthread_mutex_unlock(&s->lock);
                        return err_set(
                            err, -EPERM,
                            "Pool overlaps with other one on this address space: %s%s%s%s", subnet,
                            e.code ? " (" : "", e.code ? e.msg : "", e.code ? ")" : "");
                }
        } else {
                /* /24s from 10.214.0.0/15, skipping the host's addresses
                 * and the subnets other daemons on the host hold */
                bool found = false;
                for (uint32_t k = 0; k < 512 && !found; k++) {
                        base = (10u << 24 | 214u << 16) + (k << 8);
                        prefix = 24;
                        if (subnet_taken_locked(s, base, prefix, true))
                                continue;
                        struct berth_err e = {0};
                        int r = ipam ? hostlock_claim_subnet(HOSTLOCK_DIR, base, prefix,
                                                             s->cfg->data_root, &claim, &e)
                                     : 0;
                        if (r < 0 && r != -EBUSY) {
                                pthread_mutex_unlock(&s->lock);
                                return err_set(err, r, "%s", e.msg);
                        }
                        found = r == 0;
                }
                if (!found) {
                        pthread_mutex_unlock(&s->lock);
                        return err_set(err, -ENOSPC,
                                       "could not find an available, non-overlapping IPv4 "
                                       "address pool among the defaults to assign to the network");
                }
        }
        ip_text(base, gwt);
        snprintf(sub, sizeof(sub), "%s/%d", gwt, prefix);
        ip_text(gateway ? gw : base + 1, gwt);
        struct netrec *n = xzalloc(sizeof(*n));
        memcpy(n->id, id, 65);
        n->drv = d;
        n->claim = claim;
        n->j = new_record(id, name, d->name, ipam ? sub : NULL, gwt, extra,
                          json_get_bool(body, "Internal", false),
                          json_is_object(json_object_get(body, "Labels"))
                              ? json_object_get(body, "Labels")
                              : NULL,
                          json_is_object(opts) ? opts : NULL);
        json_object_set_new(n->j, "Attachable", json_boolean(json_get_bool(body, "Attachable", 0)));
        if (ipam6) {
                json_object_set_new(n->j, "EnableIPv6", json_true());
                json_array_append(json_object_get(json_object_get(n->j, "IPAM"), "Config"), ipam6);
        }
        int r = realise(s, n, 0, err);
        if (r == 0) {
                r = nw_save(s, n, err);
                if (r < 0 && DRIVER_HAS(d, berth_network_ops, delete_network))
                        berth_network_delete_network(d, id, 0, NULL);
        }
        if (r < 0) {
                pthread_mutex_unlock(&s->lock);
                netrec_free(n);
                return r;
        }
        add_locked(s, n);
        events_emit(
            "network", "create", id,
            json_pack("{s:s, s:s}", "name", name, "type", json_get_str(n->j, "Driver", "")));
        pthread_mutex_unlock(&s->lock);
        *ret_id = xstrdup(id);
        return 0;
}

static int remove_locked(struct network_store *s, struct netrec *n, struct berth_err *err)
{
        if (nw_predefined(nw_name(n)))
                return err_set(err, -EPERM, "%s is a pre-defined network and cannot be removed",
                               nw_name(n));
        if (json_object_size(json_object_get(n->j, "Containers")))
                return err_set(err, -EPERM,
                               "error while removing network: network %s id %s has active "
                               "endpoints",
                               nw_name(n), n->id);
        dns_stop(n);
        if (n->drv && DRIVER_HAS(n->drv, berth_network_ops, delete_network)) {
                int r = berth_network_delete_network(n->drv, n->id, 0, err);
                if (r < 0 && r != -ENOENT)
                        return r;
                err_clear(err);
        }
        _cleanup_free_ char *p = xasprintf("%s/%s.json", s->dir, n->id);
        unlink(p);
        events_emit(
            "network", "destroy", n->id,
            json_pack("{s:s, s:s}", "name", nw_name(n), "type", json_get_str(n->j, "Driver", "")));
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] == n) {
                        memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
                        s->n--;
                        break;
                }
        netrec_free(n);
        return 0;
}

int network_remove(struct network_store *s, const char *ref, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, ref);
        int r = n ? remove_locked(s, n, err) : nw_not_found(err, ref);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int network_prune(struct network_store *s, const char *filters, json_t **ret, struct berth_err *err)
{
        _cleanup_json_ json_t *f = NULL;
        int r = nw_filters_parse(filters, &f, err);
        if (r < 0)
                return r;
        /* until: only networks created before that time */
        int64_t until_ns;
        r = filters_until(json_string_value(json_array_get(json_object_get(f, "until"), 0)),
                          &until_ns, err);
        if (r < 0)
                return r;
        json_t *deleted = json_array();
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n;) {
                struct netrec *n = s->v[i];
                _cleanup_free_ char *name = xstrdup(nw_name(n));
                if (nw_predefined(name) || json_object_size(json_object_get(n->j, "Containers")) ||
                    parse_rfc3339_ns(json_get_str(n->j, "Created", "")) >= until_ns ||
                    !label_match(json_object_get(n->j, "Labels"), json_object_get(f, "label")) ||
                    remove_locked(s, n, NULL) < 0) {
                        i++;
                        continue;
                }
                json_array_append_new(deleted, json_string(name));
        }
        pthread_mutex_unlock(&s->lock);
        *ret = json_pack("{s:o}", "NetworksDeleted", deleted);
        return 0;
}
