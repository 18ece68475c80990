/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PROGRAMS_BERTH_SHIM_SHIM_H
#define BERTH_PROGRAMS_BERTH_SHIM_SHIM_H

#include "base/err.h"
#include "container/shim-proto.h"

/* The static berth-shim (shim-static.c): registers its built-in logging
 * drivers and returns 0 if `driver` is one of them; for any other driver,
 * execs berth-shim-dynamic with argv (the same fds) and returns only on
 * failure. */
int shim_static_logging(char **argv, const char *driver, struct berth_err *err);

#endif
