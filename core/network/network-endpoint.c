/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The endpoints of containers: the network namespace, endpoints, published
 * ports, connect/disconnect, and what a daemon restart restores. The
 * container layer owns the records: it hands in a container's record (or
 * a copy of it) and stores what comes back; nothing here finds, locks or
 * saves a container record.
 *
 * The namespace is made by berthd, not by the runtime: a thread unshares
 * CLONE_NEWNET, bind-mounts /proc/thread-self/ns/net on
 * <exec-root>/netns/<id> and goes back, all without a fork. The spec joins
 * it by path (NetworkSettings.SandboxKey), so the drivers configure it
 * before the container's process exists, and it outlives the process until
 * the exit is handled, which makes cleanup independent of the kernel's. */
#include "base/events.h"
#include "network-internal.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>

static char *netns_path(struct network_store *s, const char *id)
{
        return xasprintf("%s/netns/%s", s->cfg->exec_root, id);
}

static int netns_create(const char *path, struct berth_err *err)
{
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return err_errno(err, r, "cannot create '%s'", dir);
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0)
                return err_errno(err, -errno, "cannot create '%s'", path);
        close(fd);
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return err_errno(err, -errno, "open /proc/thread-self/ns/net");
        if (unshare(CLONE_NEWNET) < 0) {
                r = -errno;
                unlink(path);
                return err_errno(err, r, "cannot make a network namespace");
        }
        r = mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
        if (setns(self, CLONE_NEWNET) < 0)
                abort(); /* never serve requests from a container's namespace */
        if (r < 0) {
                unlink(path);
                return err_errno(err, r, "cannot bind-mount the network namespace on '%s'", path);
        }
        return 0;
}

static void netns_remove(const char *path)
{
        umount2(path, MNT_DETACH);
        unlink(path);
}

static void new_hex(char out[65])
{
        unsigned char raw[32];
        if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
                abort();
        for (int i = 0; i < 32; i++)
                sprintf(out + 2 * i, "%02x", raw[i]);
}

static bool has_feature(struct netrec *n, uint64_t f)
{
        return n->drv && (n->drv->desc->features & f);
}

static struct netrec *find_for(struct network_store *s, const char *name, json_t *es)
{
        struct netrec *n = nw_find_locked(s, json_get_str(es, "NetworkID", ""));
        return n ? n : nw_find_locked(s, name);
}

/* Whether the network's driver takes the IPv6 fields (ABI 1.3). */
static bool drv_ipv6(struct netrec *n)
{
        return n->drv && n->drv->desc->abi_minor >= 3 && has_feature(n, BERTH_NET_F_IPV6);
}

struct epaddr {
        char v4[48];
        char v6[INET6_ADDRSTRLEN + 8];
};

static void endpoint_of(struct netrec *n, const char *cid, json_t *es, const char *netns,
                        const char *ifname, struct epaddr *addr, struct berth_endpoint *ep)
{
        snprintf(addr->v4, sizeof(addr->v4), "%s/%lld", json_get_str(es, "IPAddress", ""),
                 (long long)json_get_int(es, "IPPrefixLen", 0));
        const char *ip6 = json_get_str(es, "GlobalIPv6Address", "");
        snprintf(addr->v6, sizeof(addr->v6), "%s/%lld", ip6,
                 (long long)json_get_int(es, "GlobalIPv6PrefixLen", 0));
        *ep = (struct berth_endpoint){
            .network_id = n->id,
            .endpoint_id = json_get_str(es, "EndpointID", ""),
            .container_id = cid,
            .netns_path = netns,
            .ifname = ifname,
            .address = addr->v4,
            .gateway = json_get_str(es, "Gateway", NULL),
            .mac = json_get_str(es, "MacAddress", NULL),
        };
        if (*ip6 && drv_ipv6(n)) {
                ep->address6 = addr->v6;
                ep->gateway6 = json_get_str(es, "IPv6Gateway", NULL);
                if (ep->gateway6 && !*ep->gateway6)
                        ep->gateway6 = NULL;
        }
}

/* "02:42:ac:11:00:02": six hex pairs, a unicast address (the kernel
 * refuses a multicast one on an ethernet device). */
static bool mac_valid(const char *m)
{
        unsigned v[6];
        char end;
        if (!m || strlen(m) != 17 ||
            sscanf(m, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &end) != 6)
                return false;
        for (size_t i = 2; i < 17; i += 3)
                if (m[i] != ':')
                        return false;
        return !(v[0] & 1);
}

/* The address Docker derives from an IPv4 address: 02:42:a:b:c:d. */
static void mac_of_ip(const char *ip, char mac[32])
{
        struct in_addr ia = {0};
        inet_pton(AF_INET, ip, &ia);
        const unsigned char *b = (const unsigned char *)&ia.s_addr;
        snprintf(mac, 32, "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
}

/* es.MacAddress holds the requested address (EndpointSettings.MacAddress,
 * or Config.MacAddress for the first network) until the endpoint is up;
 * then the one in use. */
int nw_endpoint_up_locked(struct network_store *s, struct netrec *n, const char *cid,
                          const char *cname, const char *hostname, const char *netns,
                          const char *ifname, json_t *es, struct berth_err *err)
{
        char ip[16] = "", eid[65], mac[32] = "", addr[48] = "";
        char ip6[INET6_ADDRSTRLEN] = "", addr6[INET6_ADDRSTRLEN + 8] = "";
        int prefix = 0, prefix6 = 0;
        const char *want_mac = json_get_str(es, "MacAddress", "");
        if (*want_mac && !mac_valid(want_mac))
                return err_set(err, -EINVAL, "invalid MAC address '%s'", want_mac);
        int r = nw_realise_again_locked(s, n, err);
        if (r < 0)
                return r;
        new_hex(eid);
        if (has_feature(n, BERTH_NET_F_USES_IPAM)) {
                const char *want =
                    json_get_str(json_object_get(es, "IPAMConfig"), "IPv4Address", NULL);
                r = nw_alloc_locked(n, want, ip, err);
                if (r < 0)
                        return r;
                uint32_t base;
                nw_parse_cidr(nw_subnet(n), &base, &prefix);
                mac_of_ip(ip, mac);
                snprintf(addr, sizeof(addr), "%s/%d", ip, prefix);
        }
        const char *want6 = json_get_str(json_object_get(es, "IPAMConfig"), "IPv6Address", "");
        if (has_feature(n, BERTH_NET_F_USES_IPAM) && nw_subnet6(n)) {
                r = nw_alloc6_locked(n, want6, ip6, err);
                if (r < 0)
                        return r;
                u128 base6;
                nw_parse_cidr6(nw_subnet6(n), 1, 128, &base6, &prefix6);
                snprintf(addr6, sizeof(addr6), "%s/%d", ip6, prefix6);
        } else if (*want6)
                return err_set(err, -EINVAL,
                               "invalid IPv6 address '%s': network %s has no IPv6 subnet "
                               "(EnableIPv6)",
                               want6, nw_name(n));
        if (*want_mac && *mac)
                snprintf(mac, sizeof(mac), "%s", want_mac);
        bool internal = json_get_bool(n->j, "Internal", false);
        struct berth_endpoint ep = {
            .network_id = n->id,
            .endpoint_id = eid,
            .container_id = cid,
            .netns_path = netns,
            .ifname = ifname,
            .address = *addr ? addr : NULL,
            .gateway = *addr && !internal ? nw_gateway(n) : NULL,
            .mac = *mac ? mac : NULL,
            .address6 = *addr6 ? addr6 : NULL,
            .gateway6 = *addr6 && !internal ? nw_gateway6(n) : NULL,
        };
        r = berth_network_join(n->drv, &ep, 0, err);
        if (r < 0)
                return r;
        /* moby adds the short ID (and a hostname that is not the name) as
         * aliases on user-defined networks; compose relies on it. */
        json_t *aliases = json_array();
        json_array_extend(aliases, json_object_get(es, "Aliases"));
        if (!nw_predefined(nw_name(n))) {
                char shortid[13];
                snprintf(shortid, sizeof(shortid), "%.12s", cid);
                bool have = false;
                size_t i;
                json_t *v;
                json_array_foreach (aliases, i, v)
                        if (streq(strempty(json_string_value(v)), shortid))
                                have = true;
                if (!have)
                        json_array_append_new(aliases, json_string(shortid));
                if (hostname && *hostname && !streq(hostname, cname) && !streq(hostname, shortid))
                        json_array_append_new(aliases, json_string(hostname));
                json_object_set(es, "Aliases", aliases);
        }
        json_t *cs = json_object_get(n->j, "Containers");
        if (!json_is_object(cs)) {
                cs = json_object();
                json_object_set_new(n->j, "Containers", cs);
        }
        json_object_set_new(cs, cid,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "Name", cname, "EndpointID",
                                      eid, "MacAddress", mac, "IPv4Address", addr, "IPv6Address",
                                      addr6, "Aliases", aliases));
        json_object_set_new(es, "NetworkID", json_string(n->id));
        json_object_set_new(es, "EndpointID", json_string(eid));
        json_object_set_new(es, "Gateway", json_string(ep.gateway ? ep.gateway : ""));
        json_object_set_new(es, "IPAddress", json_string(ip));
        json_object_set_new(es, "IPPrefixLen", json_integer(prefix));
        json_object_set_new(es, "MacAddress", json_string(mac));
        json_object_set_new(es, "GlobalIPv6Address", json_string(ip6));
        json_object_set_new(es, "GlobalIPv6PrefixLen", json_integer(prefix6));
        json_object_set_new(es, "IPv6Gateway", json_string(ep.gateway6 ? ep.gateway6 : ""));
        events_emit("network", "connect", n->id,
                    json_pack("{s:s, s:s, s:s}", "container", cid, "name", nw_name(n), "type",
                              json_get_str(n->j, "Driver", "")));
        return 0;
}

void nw_endpoint_down_locked(struct network_store *s, struct netrec *n, const char *cid,
                             const char *netns, json_t *es)
{
        struct epaddr addr;
        struct berth_endpoint ep;
        endpoint_of(n, cid, es, netns, NULL, &addr, &ep);
        struct berth_err err = {0};
        events_emit("network", "disconnect", n->id,
                    json_pack("{s:s, s:s, s:s}", "container", cid, "name", nw_name(n), "type",
                              json_get_str(n->j, "Driver", "")));
        if (n->drv && berth_network_leave(n->drv, &ep, 0, &err) < 0)
                log_warn("container %.12s: leave network %s: %s, ignoring", cid, nw_name(n),
                         err_msg(&err));
        json_object_del(json_object_get(n->j, "Containers"), cid);
        json_object_set_new(es, "EndpointID", json_string(""));
        json_object_set_new(es, "Gateway", json_string(""));
        json_object_set_new(es, "IPPrefixLen", json_integer(0));
        /* a requested address stays for the next start; a derived one goes */
        char derived[32];
        mac_of_ip(json_get_str(es, "IPAddress", ""), derived);
        if (streq(json_get_str(es, "MacAddress", ""), derived))
                json_object_set_new(es, "MacAddress", json_string(""));
        json_object_set_new(es, "IPAddress", json_string(""));
        json_object_set_new(es, "GlobalIPv6Address", json_string(""));
        json_object_set_new(es, "GlobalIPv6PrefixLen", json_integer(0));
        json_object_set_new(es, "IPv6Gateway", json_string(""));
}

/* --ip6, --link-local-ip need IPv6 on the network */
static int es_check(json_t *cfg, struct berth_err *err)
{
        const char *ip6 = json_get_str(json_object_get(cfg, "IPAMConfig"), "IPv6Address", "");
        struct in6_addr a6;
        if (*ip6 && inet_pton(AF_INET6, ip6, &a6) != 1)
                return err_set(err, -EINVAL, "invalid IPv6 address: %s", ip6);
        const char *mac = json_get_str(cfg, "MacAddress", "");
        if (*mac && !mac_valid(mac))
                return err_set(err, -EINVAL, "invalid MAC address '%s'", mac);
        return 0;
}

/* An --ip6 needs a network with IPv6 (Docker refuses it at create too). */
static int ip6_check(struct netrec *n, json_t *cfg, struct berth_err *err)
{
        const char *ip6 = json_get_str(json_object_get(cfg, "IPAMConfig"), "IPv6Address", "");
        if (*ip6 && !nw_subnet6(n))
                return err_set(err, -EINVAL,
                               "invalid IPv6 address '%s': network %s has no IPv6 subnet "
                               "(EnableIPv6)",
                               ip6, nw_name(n));
        return 0;
}

static json_t *new_es(json_t *cfg)
{
        json_t *es = json_pack("{s:n, s:n, s:[], s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:n}",
                               "IPAMConfig", "Links", "Aliases", "NetworkID", "", "EndpointID", "",
                               "Gateway", "", "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                               "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress", "",
                               "DriverOpts");
        json_t *ipam = json_object_get(cfg, "IPAMConfig");
        if (json_is_object(ipam))
                json_object_set(es, "IPAMConfig", ipam);
        json_t *al = json_object_get(cfg, "Aliases");
        if (json_is_array(al))
                json_object_set(es, "Aliases", al);
        const char *mac = json_get_str(cfg, "MacAddress", "");
        if (*mac)
                json_object_set_new(es, "MacAddress", json_string(mac));
        return es;
}

static const char *default_network(struct network_store *s, const char *mode)
{
        return streq(mode, "default") ? s->cfg->network_default : mode;
}

int network_container_create(struct network_store *s, json_t *hc, json_t *netcfg,
                             json_t **ret_networks, struct berth_err *err)
{
        const char *mode = json_get_str(hc, "NetworkMode", "default");
        if (!*mode)
                mode = "default";
        const char *other = startswith(mode, "container:");
        if (other) {
                /* --network container:X: no network of its own (the
                 * container layer checks that X exists) */
                if (json_object_size(json_object_get(hc, "PortBindings")) ||
                    json_get_bool(hc, "PublishAllPorts", false))
                        return err_set(err, -EINVAL,
                                       "conflicting options: port publishing and the container "
                                       "type network mode");
                *ret_networks = json_object();
                return 0;
        }
        json_t *epc = json_object_get(netcfg, "EndpointsConfig");
        const char *k;
        json_t *v;
        json_object_foreach (epc, k, v) {
                int r = es_check(v, err);
                if (r < 0)
                        return r;
        }
        json_t *nets = json_object();
        const char *net = default_network(s, mode);
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, net);
        if (!n) {
                pthread_mutex_unlock(&s->lock);
                json_decref(nets);
                return nw_not_found(err, net);
        }
        json_t *cfg = json_object_get(epc, mode);
        if (!cfg)
                cfg = json_object_get(epc, net);
        if (!cfg)
                cfg = json_object_get(epc, "default");
        int r = ip6_check(n, cfg, err);
        if (r < 0) {
                pthread_mutex_unlock(&s->lock);
                json_decref(nets);
                return r;
        }
        json_t *es = new_es(cfg);
        json_object_set_new(es, "NetworkID", json_string(n->id));
        json_object_set_new(nets, nw_name(n), es);
        bool exclusive = nw_predefined(nw_name(n)) && !streq(nw_name(n), "bridge");
        json_object_foreach (epc, k, v) {
                if (streq(k, mode) || streq(k, net) || streq(k, "default"))
                        continue;
                struct netrec *x = nw_find_locked(s, k);
                if (!x) {
                        pthread_mutex_unlock(&s->lock);
                        json_decref(nets);
                        return nw_not_found(err, k);
                }
                if (exclusive || nw_predefined(nw_name(x)))
                        continue;
                r = ip6_check(x, v, err);
                if (r < 0) {
                        pthread_mutex_unlock(&s->lock);
                        json_decref(nets);
                        return r;
                }
                json_t *xs = new_es(v);
                json_object_set_new(xs, "NetworkID", json_string(x->id));
                json_object_set_new(nets, nw_name(x), xs);
        }
        pthread_mutex_unlock(&s->lock);
        *ret_networks = nets;
        return 0;
}

/* --- published ports ------------------------------------------------------- */

static int parse_port_key(const char *key, uint16_t *ret_port, uint32_t *ret_proto)
{
        int64_t p;
        char buf[32];
        snprintf(buf, sizeof(buf), "%s", key);
        char *slash = strchr(buf, '/');
        const char *proto = slash ? slash + 1 : "tcp";
        if (slash)
                *slash = '\0';
        if (parse_int64(buf, &p) < 0 || p < 1 || p > 65535)
                return -EINVAL;
        if (streq(proto, "tcp"))
                *ret_proto = BERTH_PROTO_TCP;
        else if (streq(proto, "udp"))
                *ret_proto = BERTH_PROTO_UDP;
        else
                return -EPROTONOSUPPORT;
        *ret_port = (uint16_t)p;
        return 0;
}

static const char *host_ip_of(const char *ip)
{
        return !ip || !*ip || streq(ip, "::") ? "0.0.0.0" : ip;
}

/* A free port: what the kernel hands out for port 0 (the ephemeral range). */
static int free_port(const char *ip, uint32_t proto, uint16_t *ret)
{
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } u = {0};
        socklen_t l;
        if (inet_pton(AF_INET, ip, &u.in.sin_addr) == 1) {
                u.in.sin_family = AF_INET;
                l = sizeof(u.in);
        } else if (inet_pton(AF_INET6, ip, &u.in6.sin6_addr) == 1) {
                u.in6.sin6_family = AF_INET6;
                l = sizeof(u.in6);
        } else
                return -EAFNOSUPPORT;
        _cleanup_close_ int fd =
            socket(u.sa.sa_family,
                   (proto == BERTH_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, &u.sa, l) < 0 || getsockname(fd, &u.sa, &l) < 0)
                return -errno;
        *ret = ntohs(u.sa.sa_family == AF_INET6 ? u.in6.sin6_port : u.in.sin_port);
        return 0;
}

/* The container address a host address forwards to: the endpoint's
 * address of the host address's family ("" when it has none). */
static const char *cip_for(const char *hip, const char *cip, const char *cip6)
{
        return strchr(hip, ':') ? strempty(cip6) : cip;
}

struct portmap {
        struct berth_port_mapping *v;
        size_t n;
        char **strs;
};

static void portmap_done(struct portmap *m)
{
        free(m->v);
        strv_free(m->strs);
}

static void portmap_add(struct portmap *m, uint32_t proto, uint16_t cport, uint16_t hport,
                        const char *hip, const char *cip)
{
        m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
        char *h = xstrdup(hip), *c = xstrdup(cip);
        m->strs = strv_push(m->strs, h);
        m->strs = strv_push(m->strs, c);
        m->v[m->n++] = (struct berth_port_mapping){.proto = proto,
                                                   .container_port = cport,
                                                   .host_port = hport,
                                                   .host_ip = h,
                                                   .container_ip = c};
}

/* NetworkSettings.Ports from PortBindings, PublishAllPorts and
 * ExposedPorts, with free host ports picked; the mappings in *m. */
static int ports_plan(json_t *rec, const char *cip, const char *cip6, json_t **ret_ports,
                      struct portmap *m, struct berth_err *err)
{
        json_t *hc = json_object_get(rec, "HostConfig");
        json_t *bindings = json_object_get(hc, "PortBindings");
        json_t *exposed = json_object_get(json_object_get(rec, "Config"), "ExposedPorts");
        bool all = json_get_bool(hc, "PublishAllPorts", false);
        _cleanup_json_ json_t *ports = json_object();
        const char *key;
        json_t *v;
        json_object_foreach (exposed, key, v) {
                if (!json_object_get(bindings, key))
                        json_object_set_new(
                            ports, key,
                            all ? json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", "")
                                : json_null());
        }
        json_object_foreach (bindings, key, v) {
                if (json_array_size(v))
                        json_object_set(ports, key, v);
                else if (!json_object_get(ports, key))
                        json_object_set_new(ports, key, json_null());
        }
        json_t *out = json_object();
        json_object_foreach (ports, key, v) {
                uint16_t cport;
                uint32_t proto;
                int r = parse_port_key(key, &cport, &proto);
                if (r < 0) {
                        json_decref(out);
                        return err_set(err, -EINVAL, "invalid port '%s'", key);
                }
                if (json_is_null(v)) {
                        json_object_set_new(out, key, json_null());
                        continue;
                }
                json_t *l = json_array();
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        const char *hip = host_ip_of(json_get_str(b, "HostIp", ""));
                        const char *hp = json_get_str(b, "HostPort", "");
                        int64_t h = 0;
                        if (*hp && (parse_int64(hp, &h) < 0 || h < 0 || h > 65535)) {
                                json_decref(l);
                                json_decref(out);
                                return err_set(err, -EINVAL, "invalid host port '%s' for %s", hp,
                                               key);
                        }
                        if (!*cip_for(hip, cip, cip6)) {
                                json_decref(l);
                                json_decref(out);
                                return err_set(err, -EINVAL,
                                               "cannot publish %s on IPv6 address %s: the "
                                               "container has no IPv6 address (a network with "
                                               "EnableIPv6)",
                                               key, hip);
                        }
                        if (h == 0) {
                                uint16_t fp = 0;
                                r = free_port(hip, proto, &fp);
                                if (r < 0) {
                                        json_decref(l);
                                        json_decref(out);
                                        return err_errno(err, r, "no free port on %s for %s", hip,
                                                         key);
                                }
                                h = fp;
                        }
                        json_array_append_new(l, json_pack("{s:s, s:o}", "HostIp", hip, "HostPort",
                                                           json_sprintf("%lld", (long long)h)));
                        portmap_add(m, proto, cport, (uint16_t)h, hip, cip_for(hip, cip, cip6));
                }
                json_object_set_new(out, key, l);
        }
        *ret_ports = out;
        return 0;
}

/* The mappings NetworkSettings.Ports records, to unpublish or restore them. */
static void ports_recorded(json_t *ns, const char *cip, const char *cip6, struct portmap *m)
{
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(ns, "Ports"), key, v) {
                uint16_t cport;
                uint32_t proto;
                if (parse_port_key(key, &cport, &proto) < 0)
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        int64_t h = 0;
                        parse_int64(json_get_str(b, "HostPort", "0"), &h);
                        const char *hip = host_ip_of(json_get_str(b, "HostIp", ""));
                        if (h > 0 && h < 65536 && *cip_for(hip, cip, cip6))
                                portmap_add(m, proto, cport, (uint16_t)h, hip,
                                            cip_for(hip, cip, cip6));
                }
        }
}

/* The endpoint's IPv6 address for published ports, when its driver can
 * forward to one; else NULL. */
static const char *ip6_of(struct netrec *n, json_t *es)
{
        return drv_ipv6(n) ? json_get_str(es, "GlobalIPv6Address", NULL) : NULL;
}

/* The network that publishes the ports: the first one whose driver can. */
static struct netrec *primary_locked(struct network_store *s, json_t *nets, json_t **ret_es)
{
        const char *name;
        json_t *es;
        json_object_foreach (nets, name, es) {
                struct netrec *n = find_for(s, name, es);
                if (n && has_feature(n, BERTH_NET_F_PORTS) && *json_get_str(es, "EndpointID", "")) {
                        *ret_es = es;
                        return n;
                }
        }
        return NULL;
}

static void clear_live(json_t *ns)
{
        json_object_set_new(ns, "SandboxKey", json_string(""));
        json_object_set_new(ns, "SandboxID", json_string(""));
        json_object_set_new(ns, "Ports", json_object());
        json_object_set_new(ns, "IPAddress", json_string(""));
        json_object_set_new(ns, "IPPrefixLen", json_integer(0));
        json_object_set_new(ns, "Gateway", json_string(""));
        json_object_set_new(ns, "MacAddress", json_string(""));
        json_object_set_new(ns, "EndpointID", json_string(""));
        json_object_set_new(ns, "GlobalIPv6Address", json_string(""));
        json_object_set_new(ns, "GlobalIPv6PrefixLen", json_integer(0));
        json_object_set_new(ns, "IPv6Gateway", json_string(""));
}

/* /etc/hosts gets the container's own address and name, and a container on
 * a user-defined network asks that network's DNS responder (on its
 * gateway address, also on an --internal network). Both go into the copy
 * of the record that start() writes the files from (ExtraHosts, Dns), not
 * into the stored record. The host's search domains are not copied for
 * such a container: a short name is answered by the responder and never
 * leaves as "name.example.org". */
static void etc_inputs(struct network_store *s, json_t *rec, const char *hostname)
{
        json_t *hc = json_object_get(rec, "HostConfig");
        json_t *nets = json_object_get(json_object_get(rec, "NetworkSettings"), "Networks");
        const char *name;
        json_t *es;
        bool hosts_done = false, dns_done = json_array_size(json_object_get(hc, "Dns")) > 0;
        json_object_foreach (nets, name, es) {
                const char *ip = json_get_str(es, "IPAddress", "");
                if (!*ip)
                        continue;
                if (!hosts_done && *hostname) {
                        json_t *eh = json_object_get(hc, "ExtraHosts");
                        if (!json_is_array(eh)) {
                                eh = json_array();
                                json_object_set_new(hc, "ExtraHosts", eh);
                        }
                        json_array_append_new(eh, json_sprintf("%s:%s", hostname, ip));
                        hosts_done = true;
                }
                struct netrec *n = nw_predefined(name) ? NULL : find_for(s, name, es);
                const char *dns = n && n->dns ? nw_gateway(n) : NULL;
                if (!dns_done && dns) {
                        json_object_set_new(hc, "Dns", json_pack("[s]", dns));
                        json_object_set_new(hc, "DnsOptions", json_pack("[s]", "ndots:0"));
                        dns_done = true;
                }
        }
}

/* --network container:X: join the namespace of X (SandboxKey names it;
 * stop leaves it alone), with X's names and DNS in the /etc files. */
static int join_other(struct network_store *s, json_t *rec, const char *key, json_t *nets,
                      struct berth_err *err)
{
        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *hc = json_object_get(rec, "HostConfig");
        const char *hostname = json_get_str(json_object_get(rec, "Config"), "Hostname", "");
        json_object_set_new(ns, "SandboxKey", json_string(key));
        /* our name on X's address, X's DNS (etc_inputs on a view sharing our
         * HostConfig) */
        _cleanup_json_ json_t *view =
            json_pack("{s:O, s:{s:O}}", "HostConfig", hc, "NetworkSettings", "Networks",
                      nets ? nets : json_object());
        pthread_mutex_lock(&s->lock);
        etc_inputs(s, view, hostname);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int network_container_start(struct network_store *s, const char *id, json_t *rec,
                            const char *join_key, json_t *join_networks, struct berth_err *err)
{
        const char *other = startswith(
            json_get_str(json_object_get(rec, "HostConfig"), "NetworkMode", ""), "container:");
        if (other) {
                if (isempty(join_key))
                        return err_set(err, -EINVAL,
                                       "container %s has no network namespace to join", other);
                return join_other(s, rec, join_key, join_networks, err);
        }

        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *nets = json_object_get(ns, "Networks");
        json_t *hc = json_object_get(rec, "HostConfig");
        const char *cname = json_get_str(rec, "Name", "/");
        cname += cname[0] == '/';
        const char *hostname = json_get_str(json_object_get(rec, "Config"), "Hostname", "");
        if (!json_object_size(nets) && !streq(json_get_str(hc, "NetworkMode", ""), "host")) {
                /* a record from before networks: the default network */
                json_t *n2 = NULL;
                int r = network_container_create(s, hc, json_object_get(rec, "NetworkingConfig"),
                                                 &n2, err);
                if (r < 0)
                        return r;
                json_object_set_new(ns, "Networks", n2);
                nets = n2;
        }
        int r = 0;
        _cleanup_free_ char *path = netns_path(s, id);
        const char *name;
        json_t *es;

        pthread_mutex_lock(&s->lock);
        bool host = false;
        json_object_foreach (nets, name, es) {
                struct netrec *n = find_for(s, name, es);
                if (!n) {
                        pthread_mutex_unlock(&s->lock);
                        return nw_not_found(err, name);
                }
                if (!n->drv) {
                        pthread_mutex_unlock(&s->lock);
                        return err_set(err, -ENOENT, "network %s: driver %s is not loaded", name,
                                       json_get_str(n->j, "Driver", ""));
                }
                if (has_feature(n, BERTH_NET_F_HOST_NETNS))
                        host = true;
        }
        if (host) {
                pthread_mutex_unlock(&s->lock);
                return 0; /* the spec leaves the network namespace alone */
        }
        r = netns_create(path, err);
        if (r < 0) {
                pthread_mutex_unlock(&s->lock);
                return r;
        }
        json_object_set_new(ns, "SandboxKey", json_string(path));
        json_object_set_new(ns, "SandboxID", json_string(id));
        unsigned idx = 0;
        /* Config.MacAddress (API < 1.44) is for eth0 */
        const char *cfg_mac = json_get_str(json_object_get(rec, "Config"), "MacAddress", "");
        json_object_foreach (nets, name, es) {
                struct netrec *n = find_for(s, name, es);
                char ifname[16];
                snprintf(ifname, sizeof(ifname), "eth%u", idx);
                if (idx == 0 && *cfg_mac && has_feature(n, BERTH_NET_F_USES_IPAM) &&
                    !*json_get_str(es, "MacAddress", ""))
                        json_object_set_new(es, "MacAddress", json_string(cfg_mac));
                if (has_feature(n, BERTH_NET_F_USES_IPAM))
                        idx++;
                r = nw_endpoint_up_locked(s, n, id, cname, hostname, path, ifname, es, err);
                if (r < 0) {
                        err_prefix(err, "network %s", name);
                        goto fail;
                }
        }
        json_t *pes = NULL;
        struct netrec *p = primary_locked(s, nets, &pes);
        pthread_mutex_unlock(&s->lock);

        json_t *ports = NULL;
        struct portmap m = {0};
        if (p) {
                r = ports_plan(rec, json_get_str(pes, "IPAddress", ""), ip6_of(p, pes), &ports, &m,
                               err);
                if (r == 0 && m.n) {
                        struct epaddr addr;
                        struct berth_endpoint ep;
                        endpoint_of(p, id, pes, path, "eth0", &addr, &ep);
                        r = berth_network_publish(p->drv, &ep, m.v, m.n, 0, err);
                }
                portmap_done(&m);
                if (r < 0) {
                        json_decref(ports);
                        pthread_mutex_lock(&s->lock);
                        goto fail;
                }
                json_object_set_new(ns, "Ports", ports);
        }
        pthread_mutex_lock(&s->lock);
        etc_inputs(s, rec, hostname);
        pthread_mutex_unlock(&s->lock);
        if (p) {
                const char *keys[] = {"IPAddress",   "IPPrefixLen",        "Gateway",
                                      "MacAddress",  "EndpointID",         "GlobalIPv6Address",
                                      "IPv6Gateway", "GlobalIPv6PrefixLen"};
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        json_object_set(ns, keys[k], json_object_get(pes, keys[k]));
        }
        return 0;

fail:
        pthread_mutex_unlock(&s->lock);
        network_container_stop(s, id, rec);
        return r;
}

void network_container_stop(struct network_store *s, const char *id, json_t *rec)
{
        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *nets = json_object_get(ns, "Networks");
        const char *name;
        json_t *es;
        pthread_mutex_lock(&s->lock);
        json_t *pes = NULL;
        struct netrec *p = primary_locked(s, nets, &pes);
        if (p) {
                struct portmap m = {0};
                ports_recorded(ns, json_get_str(pes, "IPAddress", ""), ip6_of(p, pes), &m);
                if (m.n) {
                        struct epaddr addr;
                        struct berth_endpoint ep;
                        endpoint_of(p, id, pes, NULL, "eth0", &addr, &ep);
                        berth_network_unpublish(p->drv, &ep, m.v, m.n, 0, NULL);
                }
                portmap_done(&m);
        }
        json_object_foreach (nets, name, es) {
                if (!*json_get_str(es, "EndpointID", ""))
                        continue;
                struct netrec *n = find_for(s, name, es);
                /* No namespace: it goes away right after (see leave()). */
                if (n)
                        nw_endpoint_down_locked(s, n, id, NULL, es);
                else
                        json_object_set_new(es, "EndpointID", json_string(""));
        }
        pthread_mutex_unlock(&s->lock);
        /* the namespace of another container (--network container:X) is not
         * ours to remove */
        const char *sk = json_get_str(ns, "SandboxKey", "");
        /* a start that did not finish has its namespace and no record of
         * it yet: it is at the one path a namespace of id can have */
        _cleanup_free_ char *own = *sk ? NULL : netns_path(s, id);
        if (!startswith(json_get_str(json_object_get(rec, "HostConfig"), "NetworkMode", ""),
                        "container:")) {
                if (*sk)
                        netns_remove(sk);
                else if (access(own, F_OK) == 0)
                        netns_remove(own);
        }
        if (ns)
                clear_live(ns);
}

void network_container_restore(struct network_store *s, const char *id, json_t *rec)
{
        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *nets = json_object_get(ns, "Networks");
        const char *name;
        json_t *es;
        const char *cname = json_get_str(rec, "Name", "/");
        cname += cname[0] == '/';
        pthread_mutex_lock(&s->lock);
        json_object_foreach (nets, name, es) {
                struct netrec *n = find_for(s, name, es);
                if (!n || !n->drv || !*json_get_str(es, "EndpointID", ""))
                        continue;
                char cidr[48] = "", cidr6[INET6_ADDRSTRLEN + 8] = "";
                if (*json_get_str(es, "IPAddress", ""))
                        snprintf(cidr, sizeof(cidr), "%s/%lld", json_get_str(es, "IPAddress", ""),
                                 (long long)json_get_int(es, "IPPrefixLen", 0));
                if (*json_get_str(es, "GlobalIPv6Address", ""))
                        snprintf(cidr6, sizeof(cidr6), "%s/%lld",
                                 json_get_str(es, "GlobalIPv6Address", ""),
                                 (long long)json_get_int(es, "GlobalIPv6PrefixLen", 0));
                json_object_set_new(json_object_get(n->j, "Containers"), id,
                                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "Name", cname,
                                              "EndpointID", json_get_str(es, "EndpointID", ""),
                                              "MacAddress", json_get_str(es, "MacAddress", ""),
                                              "IPv4Address", cidr, "IPv6Address", cidr6, "Aliases",
                                              json_object_get(es, "Aliases") ?: json_array()));
                struct epaddr addr;
                struct berth_endpoint ep;
                endpoint_of(n, id, es, json_get_str(ns, "SandboxKey", NULL), NULL, &addr, &ep);
                struct berth_err err = {0};
                if (berth_network_join(n->drv, &ep, BERTH_NET_RESTORE, &err) < 0)
                        log_warn("container %.12s: restore network %s: %s", id, name,
                                 err_msg(&err));
        }
        json_t *pes = NULL;
        struct netrec *p = primary_locked(s, nets, &pes);
        if (p) {
                struct portmap m = {0};
                ports_recorded(ns, json_get_str(pes, "IPAddress", ""), ip6_of(p, pes), &m);
                struct epaddr addr;
                struct berth_endpoint ep;
                endpoint_of(p, id, pes, NULL, "eth0", &addr, &ep);
                struct berth_err err = {0};
                if (m.n &&
                    berth_network_publish(p->drv, &ep, m.v, m.n, BERTH_NET_RESTORE, &err) < 0)
                        log_warn("container %.12s: restore published ports: %s", id, err_msg(&err));
                portmap_done(&m);
        }
        pthread_mutex_unlock(&s->lock);
}

/* --- connect, disconnect ----------------------------------------------------- */

int network_endpoint_connect(struct network_store *s, const char *ref, const char *id, json_t *rec,
                             bool running, json_t *endpoint_config, struct berth_err *err)
{
        int r = 0;
        const char *cname = json_get_str(rec, "Name", "/");
        cname += cname[0] == '/';
        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *nets = json_object_get(ns, "Networks");
        if (!json_is_object(nets)) {
                nets = json_object();
                json_object_set_new(ns, "Networks", nets);
        }
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, ref);
        if (!n) {
                r = nw_not_found(err, ref);
                goto out;
        }
        if (json_object_get(nets, nw_name(n))) {
                r = err_set(err, -EPERM, "endpoint with name %s already exists in network %s",
                            cname, nw_name(n));
                goto out;
        }
        const char *mode = json_get_str(json_object_get(rec, "HostConfig"), "NetworkMode", "");
        if (startswith(mode, "container:")) {
                r = err_set(err, -EPERM,
                            "container sharing network namespace with another container or host "
                            "cannot be connected to any other network");
                goto out;
        }
        if (nw_predefined(nw_name(n)) || streq(mode, "host") || streq(mode, "none")) {
                r = err_set(err, -EPERM,
                            "container cannot be disconnected from host network or connected to "
                            "host network (or none)");
                goto out;
        }
        r = es_check(endpoint_config, err);
        if (r == 0)
                r = ip6_check(n, endpoint_config, err);
        if (r < 0)
                goto out;
        json_t *es = new_es(endpoint_config);
        json_object_set_new(es, "NetworkID", json_string(n->id));
        if (running) {
                const char *sk = json_get_str(ns, "SandboxKey", "");
                char ifname[16];
                snprintf(ifname, sizeof(ifname), "eth%zu", json_object_size(nets));
                r = nw_endpoint_up_locked(
                    s, n, id, cname, json_get_str(json_object_get(rec, "Config"), "Hostname", ""),
                    sk, ifname, es, err);
                if (r < 0) {
                        json_decref(es);
                        goto out;
                }
        }
        json_object_set_new(nets, nw_name(n), es);
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

int network_endpoint_disconnect(struct network_store *s, const char *ref, const char *id,
                                json_t *rec, struct berth_err *err)
{
        int r = 0;
        json_t *ns = json_object_get(rec, "NetworkSettings");
        json_t *nets = json_object_get(ns, "Networks");
        pthread_mutex_lock(&s->lock);
        struct netrec *n = nw_find_locked(s, ref);
        json_t *es = n ? json_object_get(nets, nw_name(n)) : NULL;
        if (!n)
                r = nw_not_found(err, ref);
        else if (!es)
                r = err_set(err, -EPERM, "container %s is not connected to network %s", id,
                            nw_name(n));
        else if (has_feature(n, BERTH_NET_F_HOST_NETNS))
                r = err_set(err, -EPERM,
                            "container cannot be disconnected from host network or connected to "
                            "host network");
        if (r == 0) {
                json_t *pes = NULL;
                if (primary_locked(s, nets, &pes) == n && pes == es) {
                        /* its published ports go with it */
                        struct portmap m = {0};
                        ports_recorded(ns, json_get_str(es, "IPAddress", ""), ip6_of(n, es), &m);
                        struct epaddr addr;
                        struct berth_endpoint ep;
                        endpoint_of(n, id, es, NULL, "eth0", &addr, &ep);
                        if (m.n)
                                berth_network_unpublish(n->drv, &ep, m.v, m.n, 0, NULL);
                        portmap_done(&m);
                        json_object_set_new(ns, "Ports", json_object());
                }
                if (*json_get_str(es, "EndpointID", ""))
                        nw_endpoint_down_locked(s, n, id, json_get_str(ns, "SandboxKey", NULL), es);
                json_object_del(nets, nw_name(n));
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

json_t *network_list_ports(json_t *rec)
{
        json_t *l = json_array();
        const char *key;
        json_t *v;
        json_object_foreach (json_object_get(json_object_get(rec, "NetworkSettings"), "Ports"), key,
                             v) {
                uint16_t cport;
                uint32_t proto;
                if (parse_port_key(key, &cport, &proto) < 0)
                        continue;
                const char *type = proto == BERTH_PROTO_UDP ? "udp" : "tcp";
                if (!json_array_size(v)) {
                        json_array_append_new(
                            l, json_pack("{s:i, s:s}", "PrivatePort", cport, "Type", type));
                        continue;
                }
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        int64_t h = 0;
                        parse_int64(json_get_str(b, "HostPort", "0"), &h);
                        json_array_append_new(
                            l, json_pack("{s:s, s:i, s:I, s:s}", "IP",
                                         host_ip_of(json_get_str(b, "HostIp", "")), "PrivatePort",
                                         cport, "PublicPort", (json_int_t)h, "Type", type));
                }
        }
        return l;
}
