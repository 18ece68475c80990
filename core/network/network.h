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
struct container_store;

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
int network_connect(struct network_store *s, struct container_store *cs, const char *ref,
                    json_t *body, struct berth_err *err);
int network_disconnect(struct network_store *s, struct container_store *cs, const char *ref,
                       json_t *body, struct berth_err *err);

/* Container hooks (network-container.c). */

/* At create: check HostConfig.NetworkMode and NetworkingConfig and return
 * the NetworkSettings.Networks object of the new container. */
int network_container_create(struct network_store *s, json_t *hc, json_t *netcfg,
                             json_t **ret_networks, struct berth_err *err);
/* At start, before the spec is written: make the network namespace
 * (NetworkSettings.SandboxKey), join every network, publish the ports, and
 * fill NetworkSettings in `rec`. On failure everything is undone. */
int network_container_start(struct network_store *s, struct container_store *cs, const char *id,
                            json_t *rec, struct berth_err *err);
/* When the container has exited (or its start failed): unpublish, leave,
 * release the addresses, remove the namespace, clear the live fields. */
void network_container_stop(struct network_store *s, const char *id, json_t *rec);
/* After a daemon restart, for a running container: let the drivers adopt
 * what the container uses again (port reservations, counts). */
void network_container_restore(struct network_store *s, const char *id, json_t *rec);
/* The "Ports" of GET /containers/json: [{IP,PrivatePort,PublicPort,Type}]
 * from NetworkSettings.Ports (exposed, unpublished ports without IP). */
json_t *network_list_ports(json_t *rec);

#endif
