/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-host: the container shares the host's network namespace. */
#include <berth/network.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_network_ops drv_ops = {
    .size = sizeof(struct berth_network_ops),
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "host", .version = "0.1.0",
                    .description = "the container shares the host's network namespace",
                    .features = BERTH_NET_F_HOST_NETNS, .init = drv_init, .ops = &drv_ops);
