/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_LOG_H
#define BERTH_BASE_LOG_H

/* The programs' log (berthd, berth-shim). Library code does not log: it
 * returns errors. Only the program's main loop, request handlers at the API
 * boundary, and drivers (through the host table) write here. */

#include <berth/plugin.h>
#include <stdarg.h>
#include "util.h"

void log_setup(const char *program, int max_level);
int log_get_level(void);
void log_emitv(int level, const char *source, const char *fmt, va_list ap);
void log_emit(int level, const char *source, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_emit(BERTH_LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...)  log_emit(BERTH_LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...)  log_emit(BERTH_LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_emit(BERTH_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
