/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volume-local: volumes as directories under the data root, or mounts with -o type/device/o. */
#include <berth/volume.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_volume_ops drv_ops = {
    .size = sizeof(struct berth_volume_ops),
};

BERTH_PLUGIN_DEFINE(
        .kind = BERTH_KIND_VOLUME, .name = "local", .version = "0.1.0",
        .description =
            "volumes as directories under the data root, or mounts with -o type/device/o",
        .features = 0, .init = drv_init, .ops = &drv_ops);
