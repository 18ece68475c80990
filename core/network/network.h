/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_NETWORK_NETWORK_H
#define BERTH_NETWORK_NETWORK_H

/* Networks: records, IPAM, the container hooks and the DNS responder.
 *
 * A network's record is its Docker inspect shape, kept at
 * <data-root>/networks/<id>.json and written atomically. Its "Containers"
 * map holds the active endpoints (a container that runs and is joined); the
 * addresses there are the IPAM allocations, so an allocation exists exactly
 * as long as the endpoint. That map lives in memory: the running
 * containers' records (NetworkSettings) are what is persisted, and a
 * daemon restart rebuilds the map from them, so a start or stop writes no
 * network record and there is one place that holds each allocation.
 * bridge, host and none always exist (for the drivers that are loaded).
 *
 * Errors follow the Engine API: -ENOENT "network x not found" (404),
 * -EEXIST for a name in use (409), -EBUSY for active endpoints (403),
 * -EINVAL for bad input (400). */

#include <jansson.h>
#include "base/err.h"

#include "base/config.h"
#include "driver/driver.h"

struct network_store;

int network_store_open(struct berth_config *cfg, const struct driver_set *drivers,
                       struct network_store **ret, struct berth_err *err);
/* Stops the DNS responders; kernel objects stay for running containers. */
struct network_store *network_store_close(struct network_store *s);

/* At daemon exit: with no container on any network, take the networks
 * off the host (bridges, rules, DNS responders); the records stay and the
 * next start builds them again. With containers running, leave all. */
void network_shutdown(struct network_store *s);

/* The Engine API's /networks endpoints. */
int network_create(struct network_store *s, json_t *body, char **ret_id, struct berth_err *err);
int network_inspect(struct network_store *s, const char *ref, json_t **ret, struct berth_err *err);
int network_list(struct network_store *s, const char *filters, json_t **ret, struct berth_err *err);
int network_remove(struct network_store *s, const char *ref, struct berth_err *err);
int network_prune(struct network_store *s, const char *filters, json_t **ret,
                  struct berth_err *err);

/* The endpoints of containers (network-endpoint.c). The container layer
 * owns container records: it passes a record (or its copy) in `rec` and
 * keeps what these functions write into its NetworkSettings. */

/* At create: check HostConfig.NetworkMode and NetworkingConfig and return
 * the NetworkSettings.Networks object of the new container. */
int network_container_create(struct network_store *s, json_t *hc, json_t *netcfg,
                             json_t **ret_networks, struct berth_err *err);
/* At start, before the spec is written: make the network namespace
 * (NetworkSettings.SandboxKey), join every network, publish the ports, and
 * fill NetworkSettings in `rec`. On failure everything is undone. For
 * --network container:X, join_key is X's namespace and join_networks X's
 * NetworkSettings.Networks (the caller looks them up); else NULL. */
int network_container_start(struct network_store *s, const char *id, json_t *rec,
                            const char *join_key, json_t *join_networks, struct berth_err *err);
/* When the container has exited (or its start failed): unpublish, leave,
 * release the addresses, remove the namespace, clear the live fields. */
void network_container_stop(struct network_store *s, const char *id, json_t *rec);
/* After a daemon restart, for a running container: let the drivers adopt
 * what the container uses again (port reservations, counts). */
void network_container_restore(struct network_store *s, const char *id, json_t *rec);
/* POST /networks/{id}/connect for container `id`: check, bring the
 * endpoint up when the container runs, and add it to rec's
 * NetworkSettings.Networks. */
int network_endpoint_connect(struct network_store *s, const char *ref, const char *id, json_t *rec,
                             bool running, json_t *endpoint_config, struct berth_err *err);
/* POST /networks/{id}/disconnect: take the endpoint down (with its
 * published ports when it is the primary one) and drop it from rec's
 * NetworkSettings. */
int network_endpoint_disconnect(struct network_store *s, const char *ref, const char *id,
                                json_t *rec, struct berth_err *err);
/* The "Ports" of GET /containers/json: [{IP,PrivatePort,PublicPort,Type}]
 * from NetworkSettings.Ports (exposed, unpublished ports without IP). */
json_t *network_list_ports(json_t *rec);

#endif
