/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A third-party logging driver for the tests: "test-lines" appends each
 * message as "<stream> <line>" to <log_dir>/test-lines.log, through stdio.
 * It is not one of the drivers built into the static berth-shim, so a
 * container that uses it runs under berth-shim-dynamic, which dlopens it. */
#include <berth/logging.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int t_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        *ret_state = NULL;
        return 0;
}

static int t_validate(void *drv, const struct berth_log_info *info, uint64_t flags,
                      struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return 0;
}

static int t_open(void *drv, const struct berth_log_info *info, void **ret_writer, uint64_t flags,
                  struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        char path[4096];
        snprintf(path, sizeof(path), "%s/test-lines.log", info->log_dir);
        FILE *f = fopen(path, "ae");
        if (!f)
                return -errno;
        *ret_writer = f;
        return 0;
}

static int t_write(void *drv, void *writer, const struct berth_log_msg *msg, uint64_t flags,
                   struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        fprintf(writer, "%s %.*s", msg->stream == BERTH_LOG_STDERR ? "stderr" : "stdout",
                (int)msg->len, msg->line);
        return fflush(writer) == 0 ? 0 : -errno;
}

static int t_close(void *drv, void *writer, uint64_t flags)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return fclose(writer) == 0 ? 0 : -errno;
}

static const struct berth_logging_ops t_ops = {
    .size = sizeof(struct berth_logging_ops),
    .validate = t_validate,
    .open = t_open,
    .write = t_write,
    .close = t_close,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "test-lines", .version = "0.1",
                    .description = "test: one line per message, through stdio", .init = t_init,
                    .ops = &t_ops);
