/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log-none: discard the container's output. */
#include <berth/logging.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_logging_ops drv_ops = {
    .size = sizeof(struct berth_logging_ops),
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "none", .version = "0.1.0",
                    .description = "discard the container's output", .features = 0,
                    .init = drv_init, .ops = &drv_ops);
