/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_NETWORK_NETWORK_INTERNAL_H
#define BERTH_NETWORK_NETWORK_INTERNAL_H

/* Shared by network-store.c (records, IPAM, API), network-endpoint.c
 * (the endpoints of containers) and network-dns.c (the DNS responder).
 * Callers above (the container layer) may hold their own locks when they
 * call in; nothing here calls out while holding the network store's. */

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include "driver/driver.h"
#include "base/hostlock.h"
#include "base/json.h"
#include "network.h"

struct dns;

struct netrec {
        char id[65];
        json_t *j; /* the inspect shape; Containers[cid].Aliases is ours (stripped on output) */
        struct driver *drv;
        struct dns *dns;        /* user-defined bridge networks */
        struct hostlock *claim; /* its subnet, claimed host-wide (base/hostlock.h) */
};

struct network_store {
        struct berth_config *cfg;
        struct driver_set drivers;
        char *dir;
        pthread_mutex_t lock;
        struct netrec **v;
        size_t n;
};

struct netrec *nw_find_locked(struct network_store *s, const char *ref);
int nw_not_found(struct berth_err *err, const char *ref);
int nw_save(struct network_store *s, struct netrec *n, struct berth_err *err);
const char *nw_name(struct netrec *n);
/* The first IPAM config's subnet and gateway, or NULL. */
const char *nw_subnet(struct netrec *n);
const char *nw_gateway(struct netrec *n);
bool nw_predefined(const char *name);
/* The IPv6 IPAM config's subnet and gateway when EnableIPv6, or NULL. */
const char *nw_subnet6(struct netrec *n);
const char *nw_gateway6(struct netrec *n);
/* IPv6 addresses as 128-bit numbers (host order). */
typedef unsigned __int128 u128;
int nw_parse_ip6(const char *s, u128 *ret);
void nw_ip6_text(u128 v, char buf[INET6_ADDRSTRLEN]);
/* "fd00:1::/64" -> network address and prefix, the prefix in min..max. */
int nw_parse_cidr6(const char *s, int min_prefix, int max_prefix, u128 *ret_addr, int *ret_prefix);
/* "10.1.0.0/16" -> network address (host order) and prefix. */
int nw_parse_cidr(const char *s, uint32_t *ret_addr, int *ret_prefix);

/* A network whose subnet another daemon held when this one started was
 * not built: try again (that daemon may have let it go), or fail naming
 * it. 0 for a network that is built. */
int nw_realise_again_locked(struct network_store *s, struct netrec *n, struct berth_err *err);

/* Pick an address: `want` if given (and free), else the first free one. */
int nw_alloc_locked(struct netrec *n, const char *want, char ret_ip[16], struct berth_err *err);
/* The same in the network's IPv6 subnet. */
int nw_alloc6_locked(struct netrec *n, const char *want, char ret_ip[INET6_ADDRSTRLEN],
                     struct berth_err *err);

/* network-endpoint.c: one endpoint of a running container up or down,
 * with the network store's lock held. es is NetworkSettings.Networks.<n>. */
int nw_endpoint_up_locked(struct network_store *s, struct netrec *n, const char *cid,
                          const char *cname, const char *hostname, const char *netns,
                          const char *ifname, json_t *es, struct berth_err *err);
/* netns: the container's namespace when it lives on (disconnect), NULL
 * when it is removed right after (the container exited). */
void nw_endpoint_down_locked(struct network_store *s, struct netrec *n, const char *cid,
                             const char *netns, json_t *es);

/* network-dns.c */
int dns_start(struct network_store *s, struct netrec *n, struct berth_err *err);
void dns_stop(struct netrec *n);

#endif
