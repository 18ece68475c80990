/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_ENGINE_H
#define BERTH_ENGINE_H

/* The engine, the composition root: the configuration, the loaded drivers
 * and the stores of images, containers, volumes and networks and the build
 * cache index, each opened
 * with what it needs and wired to the others by callbacks. One per
 * berthd. */

#include "base/config.h"
#include "driver/driver.h"

struct engine {
        struct berth_config *cfg;
        char *id; /* persistent engine ID (data-root/engine-id) */
        int64_t started_ns;

        struct driver_set drivers; /* handed to the stores that need them */

        struct image_store *images;
        struct container_store *containers;
        struct volume_store *volumes;
        struct network_store *networks;
        struct build_cache *build_cache;
};

/* Load every configured driver (the first refusal fails with the file and
 * the reason), open the stores in order, wire their callbacks and restore
 * the containers that ran before berthd restarted. Creates the data root's
 * layout. */
int engine_open(struct berth_config *cfg, struct engine **ret, struct berth_err *err);
struct engine *engine_close(struct engine *e);
/* Shut down with requests still in flight: the engine stays allocated for
 * their threads; background threads stand still, and the networks leave
 * the host if no container uses them (network_shutdown). Containers run on
 * under their shims. */
void engine_shutdown(struct engine *e);

/* Names of the feature bits of a driver kind, for `info` ("copy-on-write"). */
const char *engine_feature_name(uint32_t kind, unsigned bit);

#endif
