/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_LOGGING_H
#define BERTH_LOGGING_H

/*
 * Logging drivers (Docker's log drivers: StartLogging, StopLogging,
 * ReadLogs, Capabilities). The container's shim loads the driver and writes
 * each line of the container's output through it; berthd loads it to read
 * logs back for `logs` and to remove them with the container.
 */

#include <berth/plugin.h>

/* Feature bits. */
#define BERTH_LOG_F_READ (1ull << 0) /* read() is implemented: `logs` works */

#define BERTH_LOG_STDOUT 1u
#define BERTH_LOG_STDERR 2u

/* What the driver knows about the container whose output it handles. */
struct berth_log_info {
        const char *container_id;   /* 64-hex */
        const char *container_name; /* "/web" */
        const char *image;          /* image name as given */
        const char *log_dir;        /* a directory of the container's own the driver may use */
        const char *const *options; /* NULL or "key=value": --log-opt, over berth.ini's section */
};

/* One message. A line longer than the shim's buffer arrives in pieces with
 * partial=1 on all but the last (Docker's PartialLogMetaData). */
struct berth_log_msg {
        uint32_t stream;  /* BERTH_LOG_STDOUT or BERTH_LOG_STDERR */
        uint32_t partial; /* 1: the line goes on in the next message */
        int64_t time_ns;  /* CLOCK_REALTIME when the shim read it */
        const char *line; /* the bytes, with the trailing newline if there was one */
        size_t len;
};

/* What read() should deliver; Docker's ReadConfig. */
struct berth_log_read {
        int64_t since_ns; /* 0: from the start */
        int64_t until_ns; /* 0: no end */
        int64_t tail;     /* -1: all lines; N: only the last N */
        uint32_t follow;  /* 1: keep delivering new messages until fn returns non-zero
                             or the writer closes the log (container gone) */
        uint32_t reserved;
};

/* Return 0 to go on, anything else to stop read() (which returns it). */
typedef int (*berth_log_msg_fn)(void *userdata, const struct berth_log_msg *msg);

struct berth_logging_ops {
        uint32_t size;
        uint32_t reserved;

        /* Check `info->options` before a container is created: an unknown key
         * or invalid value is -EINVAL naming it. Nothing is written. */
        int (*validate)(void *drv, const struct berth_log_info *info, uint64_t flags,
                        struct berth_err *err);

        /* Begin logging for a container; returns a writer handle. */
        int (*open)(void *drv, const struct berth_log_info *info, void **ret_writer, uint64_t flags,
                    struct berth_err *err);

        /* Write one message. Called from one thread per writer. */
        int (*write)(void *drv, void *writer, const struct berth_log_msg *msg, uint64_t flags,
                     struct berth_err *err);

        /* Flush and release a writer. */
        int (*close)(void *drv, void *writer, uint64_t flags);

        /* Deliver stored messages in order, as `cfg` asks. */
        int (*read)(void *drv, const struct berth_log_info *info, const struct berth_log_read *cfg,
                    berth_log_msg_fn fn, void *userdata, uint64_t flags, struct berth_err *err);

        /* Delete everything stored for the container (it is being removed). */
        int (*remove)(void *drv, const struct berth_log_info *info, uint64_t flags,
                      struct berth_err *err);
};

#endif
