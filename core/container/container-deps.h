/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_CONTAINER_DEPS_H
#define BERTH_CONTAINER_CONTAINER_DEPS_H

/* What the container layer needs of networks and volumes, as narrow
 * tables of functions. The engine fills them from the network_* and
 * volume_* functions; the unit tests fill them with fakes. Every slot gets
 * the table's ctx first. A `rec` is a container record (or a copy of it)
 * that the container layer owns: the callee may edit the parts named in
 * its contract (NetworkSettings, spec mounts) and never keeps it. The
 * container layer is the only writer of container records.
 *
 * Locks: a slot is called without the container store's lock unless its
 * contract says so. The network store's lock comes after the container
 * store's (connect, disconnect, restore); the volume store's comes before
 * it (the volume store asks the container layer for a volume's users with
 * its own lock held), so the volume slots that take the volume store's
 * lock (plan, remove) are never called with the container lock held. */

#include <jansson.h>
#include <stdbool.h>
#include "base/err.h"

struct ct_network_ops {
        /* At create: check HostConfig.NetworkMode and the NetworkingConfig;
         * *ret_networks: the new record's NetworkSettings.Networks. */
        int (*plan)(void *ctx, json_t *hc, json_t *netcfg, json_t **ret_networks,
                    struct berth_err *err);
        /* At start: make the namespace, bring every endpoint up, publish the
         * ports, fill rec's NetworkSettings; all or nothing. join_key and
         * join_networks: container:X's namespace and networks, else NULL. */
        int (*up)(void *ctx, const char *id, json_t *rec, const char *join_key,
                  json_t *join_networks, struct berth_err *err);
        /* At exit or after a failed start: endpoints down, namespace gone,
         * rec's live NetworkSettings cleared. */
        void (*down)(void *ctx, const char *id, json_t *rec);
        /* After a daemon restart, for a running container: the drivers
         * adopt its endpoints and published ports again. Called with the
         * container store's lock held. */
        void (*restore)(void *ctx, const char *id, json_t *rec);
        /* Connect to network `net`: check, bring the endpoint up when
         * running, add it to rec's NetworkSettings.Networks. Called with
         * the container store's lock held. */
        int (*connect)(void *ctx, const char *net, const char *id, json_t *rec, bool running,
                       json_t *endpoint_config, struct berth_err *err);
        /* Disconnect from `net`: endpoint (and its published ports) down,
         * dropped from rec's NetworkSettings. Called with the container
         * store's lock held. */
        int (*disconnect)(void *ctx, const char *net, const char *id, json_t *rec,
                          struct berth_err *err);
};

struct ct_volume_ops {
        /* At create: check the mounts of Config/HostConfig, create the
         * volumes they need; from: the Mounts of each --volumes-from
         * container; *ret_mounts: the record's Mounts. All or nothing. */
        int (*plan)(void *ctx, const char *id, json_t *cfg, json_t *hc, json_t *from,
                    json_t **ret_mounts, struct berth_err *err);
        /* At start, the rootfs mounted: mount rec's volumes and append the
         * OCI mounts to spec["mounts"]; on failure nothing stays mounted.
         * Also for docker cp on a container that is not running (spec then
         * holds only "mounts"); unmount releases them after the copy. */
        int (*mount)(void *ctx, json_t *rec, const char *rootfs, json_t *spec,
                     struct berth_err *err);
        /* At exit or after a failed start: release rec's volume mounts
         * (at a restore, with the container store's lock held). */
        void (*unmount)(void *ctx, json_t *rec);
        /* At remove (or an undone create): with anonymous, remove rec's
         * anonymous volumes that no other container uses. */
        void (*remove)(void *ctx, json_t *rec, bool anonymous);
        /* After a daemon restart, for a running container: mount its
         * volumes again, so that the drivers count it as a user. Called
         * with the container store's lock held. */
        void (*restore)(void *ctx, const char *id, json_t *mounts);
};

#endif
