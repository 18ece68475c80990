/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-none: a network namespace with only the loopback interface. */
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

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "none", .version = "0.1.0",
                    .description = "a network namespace with only the loopback interface",
                    .features = BERTH_NET_F_NEEDS_NETNS, .init = drv_init, .ops = &drv_ops);
