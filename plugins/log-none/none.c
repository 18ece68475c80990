/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log-none: discard the container's output (Docker's "none" driver).
 *
 * read is left NULL and BERTH_LOG_F_READ unset: the engine answers -ENOTSUP
 * and `berth logs` says the configured logging driver does not support
 * reading. Options: Docker accepts any --log-opt with "none" and ignores
 * them (its ValidateLogOpts skips this driver), so that a compose file's
 * logging options do not break a container switched to none; we do the
 * same, refusing only what is not key=value at all.
 */
#include <berth/logging.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = (void *)host;
        return 0;
}

static int drv_validate(void *drv, const struct berth_log_info *info, uint64_t flags,
                        struct berth_err *err)
{
        const struct berth_host *host = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        for (const char *const *p = info ? info->options : NULL; p && *p; p++) {
                const char *eq = strchr(*p, '=');
                if (!eq || eq == *p)
                        return berth_host_err(host, err, -EINVAL,
                                              "invalid log option '%s': not key=value", *p);
        }
        return 0;
}

/* Any non-NULL handle: there is nothing to keep per container. */
static char writer_token;

static int drv_open(void *drv, const struct berth_log_info *info, void **ret_writer, uint64_t flags,
                    struct berth_err *err)
{
        int r = drv_validate(drv, info, flags, err);
        if (r < 0)
                return r;
        *ret_writer = &writer_token;
        return 0;
}

static int drv_write(void *drv, void *writer, const struct berth_log_msg *msg, uint64_t flags,
                     struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static int drv_close(void *drv, void *writer, uint64_t flags)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static int drv_remove(void *drv, const struct berth_log_info *info, uint64_t flags,
                      struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static const struct berth_logging_ops drv_ops = {
    .size = sizeof(struct berth_logging_ops),
    .validate = drv_validate,
    .open = drv_open,
    .write = drv_write,
    .close = drv_close,
    .read = NULL, /* nothing is kept: -ENOTSUP from the engine */
    .remove = drv_remove,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "none", .version = "1.0.0",
                    .description = "discard the container's output", .features = 0,
                    .init = drv_init, .ops = &drv_ops);
