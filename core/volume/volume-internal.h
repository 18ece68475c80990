/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_VOLUME_VOLUME_INTERNAL_H
#define BERTH_VOLUME_VOLUME_INTERNAL_H

/* Shared by volume-store.c (records) and volume-mount.c (the mounts of
 * containers). */

#include <pthread.h>
#include "driver/driver.h"
#include "volume.h"

struct volume_store {
        struct berth_config *cfg;
        struct driver_set drivers;
        char *dir; /* <data-root>/volume-meta */
        pthread_mutex_t lock;
        json_t *recs; /* name -> {Name, Driver, Labels, Options, CreatedAt} */
        /* name -> [container IDs]: containers being created with this
         * volume, which their records do not show yet. A pin counts while
         * its container's record exists, so it needs no release: a failed
         * create drops the record, a finished one names the volume itself.
         * This closes the window in which `volume rm` could remove a volume
         * a container is being created with. */
        json_t *pins;
        volume_users_fn users_fn; /* which containers use a volume */
        void *users_ud;
};

/* The loaded volume driver of that name, or NULL. */
struct driver *vs_driver(struct volume_store *s, const char *name);

#endif
