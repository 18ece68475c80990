/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage-vfs: full copies of each layer, for filesystems without overlayfs. */
#include <berth/storage.h>

#include <errno.h>
#include <stdlib.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static const struct berth_storage_ops drv_ops = {
    .size = sizeof(struct berth_storage_ops),
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_STORAGE, .name = "vfs", .version = "0.1.0",
                    .description = "full copies of each layer, for filesystems without overlayfs",
                    .features = 0, .init = drv_init, .ops = &drv_ops);
