/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net-host: the container shares the host's network namespace. The engine
 * reads BERTH_NET_F_HOST_NETNS and gives such a container no network
 * namespace of its own; there is nothing to set up, so join and leave
 * succeed without doing anything. */
#include <berth/network.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        (void)err;
        *ret_state = (void *)host;
        return 0;
}

static int drv_join(void *state, const struct berth_endpoint *ep, uint64_t flags,
                    struct berth_err *err)
{
        (void)state, (void)ep, (void)err;
        BERTH_CHECK_FLAGS(flags, BERTH_NET_RESTORE);
        return 0;
}

static int drv_leave(void *state, const struct berth_endpoint *ep, uint64_t flags,
                     struct berth_err *err)
{
        (void)state, (void)ep, (void)err;
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static const struct berth_network_ops drv_ops = {
    .size = sizeof(struct berth_network_ops),
    .join = drv_join,
    .leave = drv_leave,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_NETWORK, .name = "host", .version = "1.0.0",
                    .description = "the container shares the host's network namespace",
                    .features = BERTH_NET_F_HOST_NETNS, .init = drv_init, .ops = &drv_ops);
