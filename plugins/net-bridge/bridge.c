/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-bridge: a Linux bridge with one veth pair per container. */
#include <berth/network.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_option drv_options[] = {
    {"bridge", "berth0", "the host bridge of the default network"},
    {"subnet", "10.213.0.0/16", "subnet of the default network"},
    {"gateway", "", "gateway of the default network (default: the subnet's first address)"},
    {"mtu", "1500", "MTU of bridges and veth pairs"},
    {0},
};

static const struct berth_network_ops drv_ops = {
    .size = sizeof(struct berth_network_ops),
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "bridge", .version = "0.1.0",
                    .description = "a Linux bridge with one veth pair per container",
                    .features = BERTH_NET_F_NEEDS_NETNS | BERTH_NET_F_USES_IPAM, .init = drv_init,
                    .options = drv_options, .ops = &drv_ops);
