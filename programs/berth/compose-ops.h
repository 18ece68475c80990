/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PROGRAMS_BERTH_COMPOSE_OPS_H
#define BERTH_PROGRAMS_BERTH_COMPOSE_OPS_H

/* What compose-query.c, compose-exec.c and compose-image.c share (private to
 * them; the commands' contract is compose.h). */

#include "compose.h"

/* The container of a service that exec, cp, port and logs --index act on:
 * number `index` (> 0), else the lowest number, one-off ("run") containers
 * last; oneoff: consider those too; all: stopped ones too. The error is
 * v2's: service "web" is not running [container #N]. */
int ops_service_container(struct compose_cli *cc, const char *service, int64_t index, bool oneoff,
                          bool all, json_t **ret, struct berth_err *err);

/* Rows (arrays of strings, the header first) as Go's tabwriter prints them:
 * each column but the last padded to its widest cell plus `padding`, and to
 * at least `minwidth`. */
void ops_table_print(json_t *rows, int minwidth, int padding, FILE *f);

/* A label of a container from /containers/json, or NULL. */
const char *ops_label(const json_t *c, const char *key);

/* A container's name without its leading '/'. */
const char *ops_name(const json_t *c);

#endif
