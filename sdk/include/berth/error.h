/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

/*
 * Errors across the plugin boundary.
 *
 * Every operation that can fail returns an int: 0 on success or a negative
 * errno value. When a message helps, the operation also fills a
 * struct berth_err whose code equals the return value. The message buffer is
 * inline so that neither side ever frees memory the other allocated, and so
 * that an error can be filled in a forked child and copied over a pipe.
 *
 * Drivers fill errors through the host's err() service (see plugin.h);
 * the core prepends context on the way up ("mount 'abc': ...").
 */

#include <stdint.h>

#define BERTH_ERR_MSG_MAX 1024

struct berth_err {
        int32_t code; /* 0 or a negative errno; equals the failing return value */
        char msg[BERTH_ERR_MSG_MAX];
};

#endif
