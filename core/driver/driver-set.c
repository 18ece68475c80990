/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loaded drivers by kind, and lookup by name. */
#include "driver.h"

struct driver *driver_set_find(const struct driver_set *ds, uint32_t kind, const char *name)
{
        struct driver **l = NULL;
        switch (kind) {
        case BERTH_KIND_STORAGE:
                return ds->storage && streq(ds->storage->name, name) ? ds->storage : NULL;
        case BERTH_KIND_NETWORK:
                l = ds->network;
                break;
        case BERTH_KIND_VOLUME:
                l = ds->volume;
                break;
        case BERTH_KIND_LOGGING:
                l = ds->logging;
                break;
        case BERTH_KIND_AUTH:
                l = ds->auth;
                break;
        }
        for (; l && *l; l++)
                if (streq((*l)->name, name))
                        return *l;
        return NULL;
}
