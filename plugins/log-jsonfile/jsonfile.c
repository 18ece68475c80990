/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log-jsonfile: one JSON object per line in the container's directory, with rotation. */
#include <berth/logging.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_option drv_options[] = {
    {"max-size", "-1", "rotate the log when it reaches this size (10m, 1g; -1: never)"},
    {"max-file", "1", "how many log files to keep when rotating"},
    {"compress", "false", "gzip rotated files"},
    {0},
};

static const struct berth_logging_ops drv_ops = {
    .size = sizeof(struct berth_logging_ops),
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "json-file", .version = "0.1.0",
                    .description =
                        "one JSON object per line in the container's directory, with rotation",
                    .features = 0, .init = drv_init, .options = drv_options, .ops = &drv_ops);
