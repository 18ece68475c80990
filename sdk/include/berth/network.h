/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_NETWORK_H
#define BERTH_NETWORK_H

/*
 * Network drivers (libnetwork's driver API, reduced to what a single host
 * needs). The engine owns networks, endpoints and IP address management
 * (IPAM): it tells the driver which subnet a network has and which address an
 * endpoint gets; the driver only builds the plumbing (bridges, veth pairs,
 * routes, firewall rules, port forwarding).
 *
 * Lifecycle: create_network() once per network (and again with
 * BERTH_NET_RESTORE after an engine restart), join() when a container with a
 * network namespace starts, publish() after join for its published ports,
 * unpublish() and leave() when it stops, delete_network() when the network is
 * removed. Every op undoes its own partial work when it fails.
 */

#include <berth/plugin.h>

/* Feature bits. */
#define BERTH_NET_F_NEEDS_NETNS   (1ull << 0) /* containers get a netns of their own (bridge, none) */
#define BERTH_NET_F_USES_IPAM     (1ull << 1) /* the engine allocates addresses for endpoints */
#define BERTH_NET_F_PORTS         (1ull << 2) /* publish() is implemented */
#define BERTH_NET_F_USER_NETWORKS (1ull << 3) /* `network create -d NAME` is allowed */
#define BERTH_NET_F_HOST_NETNS    (1ull << 4) /* containers share the host's netns (host) */
/* ABI 1.3: the driver reads the IPv6 fields of struct berth_net_config and
 * struct berth_endpoint and takes IPv6 host addresses in publish(). The
 * engine gives a driver an IPv6 network only if it declares this bit and
 * was built against ABI 1.3 or later; a driver reads those fields only if
 * host->abi_minor >= 3 (an older engine does not pass them). */
#define BERTH_NET_F_IPV6 (1ull << 5)

/* create_network() / delete_network() flags. */
#define BERTH_NET_RESTORE \
        (1ull << 0) /* re-adopt existing state after a restart; no error if present */

struct berth_net_config {
        const char *id;      /* 64-hex network id */
        const char *name;    /* "bridge", "myproj_default" */
        const char *subnet;  /* "10.213.0.0/16", or NULL for drivers without IPAM */
        const char *gateway; /* "10.213.0.1", or NULL */
        const char *ifname;  /* host interface to create, e.g. "berth0"; NULL: driver picks */
        uint32_t internal;   /* 1: no route out of the network (--internal) */
        uint32_t mtu;        /* 0: default (1500) */
        const char *const *options; /* NULL or NULL-terminated "key=value" (-o/--opt) */
        /* ABI 1.3 (see BERTH_NET_F_IPV6) */
        const char *subnet6;  /* "fd00:1::/64", or NULL: no IPv6 on the network */
        const char *gateway6; /* "fd00:1::1" when subnet6 is set */
};

struct berth_endpoint {
        const char *network_id;
        const char *endpoint_id;  /* 64-hex */
        const char *container_id; /* 64-hex */
        const char *netns_path;   /* the container's network namespace, e.g. /proc/PID/ns/net */
        const char *ifname;       /* name inside the container: "eth0", "eth1" */
        const char *address;      /* "10.213.0.5/16" from the engine's IPAM, or NULL */
        const char *gateway;      /* default route via, or NULL for no default route */
        const char *mac;          /* "02:42:..", or NULL to derive one from the address */
        uint32_t mtu;
        uint32_t reserved;
        /* ABI 1.3 (see BERTH_NET_F_IPV6) */
        const char *address6; /* "fd00:1::2/64", or NULL */
        const char *gateway6; /* IPv6 default route via, or NULL */
};

#define BERTH_PROTO_TCP 6u
#define BERTH_PROTO_UDP 17u

struct berth_port_mapping {
        uint32_t proto; /* BERTH_PROTO_* */
        uint16_t container_port;
        uint16_t host_port;       /* never 0 here: the engine picks free ports before */
        const char *host_ip;      /* "0.0.0.0", "127.0.0.1", "::1" (an IPv6 one: ABI 1.3) */
        const char *container_ip; /* the endpoint's address of host_ip's family, no prefix */
};

struct berth_network_ops {
        uint32_t size;
        uint32_t reserved;

        /* Build what network `cfg->id` needs on the host (for bridge: the
         * bridge, its address, forwarding and masquerade rules). -EEXIST if
         * it exists, unless BERTH_NET_RESTORE. */
        int (*create_network)(void *drv, const struct berth_net_config *cfg, uint64_t flags,
                              struct berth_err *err);

        /* Remove everything create_network() built. -ENOENT if unknown. The
         * engine never calls this while endpoints are joined. */
        int (*delete_network)(void *drv, const char *network_id, uint64_t flags,
                              struct berth_err *err);

        /* Connect the container whose network namespace is ep->netns_path: for
         * bridge, a veth pair with the inner end moved into the namespace,
         * renamed ep->ifname, given ep->address, ep->mac, ep->mtu and the
         * default route via ep->gateway; loopback is brought up. */
        int (*join)(void *drv, const struct berth_endpoint *ep, uint64_t flags,
                    struct berth_err *err);

        /* Undo join(). Must succeed when the namespace is already gone (the
         * container exited and the kernel removed its end of the pair).
         * ep->netns_path is NULL when the engine removes the namespace right
         * after (the container exited): what lives in it goes with it. */
        int (*leave)(void *drv, const struct berth_endpoint *ep, uint64_t flags,
                     struct berth_err *err);

        /* Forward the host ports in `ports` to the endpoint. A host port that
         * is taken is -EADDRINUSE naming ip:port. All or nothing. */
        int (*publish)(void *drv, const struct berth_endpoint *ep,
                       const struct berth_port_mapping *ports, size_t n_ports, uint64_t flags,
                       struct berth_err *err);

        /* Remove what publish() set up for these ports. */
        int (*unpublish)(void *drv, const struct berth_endpoint *ep,
                         const struct berth_port_mapping *ports, size_t n_ports, uint64_t flags,
                         struct berth_err *err);

        /* Key/value state for `info` and `network inspect`. */
        int (*status)(void *drv, berth_kv_fn fn, void *userdata, uint64_t flags);
};

#endif
