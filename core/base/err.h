/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_ERR_H
#define BERTH_BASE_ERR_H

/* Error values with context (crun's error handling, systemd's -errno).
 *
 *   r = mount_layer(...);
 *   if (r < 0)
 *           return err_prefix(err, "mount overlay for '%s'", name);
 *
 * produces "mount overlay for 'web': lowerdir '...': No such file or
 * directory". Library code fills and returns; only the boundary that consumes
 * the error (CLI, API, daemon main) prints or logs it.
 *
 * Decide by the code, never by the words of the message: the message is for
 * people and changes with every prefix added on the way up (systemd's
 * join_bridge() tests -ENODEV, not a string). */

#include <berth/error.h>
#include <stdarg.h>

#include "util.h"

/* Set code and message; return code. A message ending in ": %m"-like context
 * is written by the caller; err may be NULL. */
int err_set(struct berth_err *err, int code, const char *fmt, ...) _printf_(3, 4);
int err_setv(struct berth_err *err, int code, const char *fmt, va_list ap);
/* Like err_set, appending ": strerror(-code)". */
int err_errno(struct berth_err *err, int code, const char *fmt, ...) _printf_(3, 4);
/* Prepend "context: " to the message already in err (or to strerror of the
 * code if empty) and return code, the error being passed up (<0): it becomes
 * err's code, and it is what a NULL err still returns. */
int err_wrap(struct berth_err *err, int code, const char *fmt, ...) _printf_(3, 4);
/* err_wrap() with the code already in err. Without the caller's code it
 * cannot keep one err does not hold: a NULL err, or one the failing callee
 * left empty, gives -EIO. Prefer err_wrap(err, r, ...). */
int err_prefix(struct berth_err *err, const char *fmt, ...) _printf_(2, 3);
void err_clear(struct berth_err *err);
/* The message, or strerror of the code if none was set. */
const char *err_msg(const struct berth_err *err);

#endif
