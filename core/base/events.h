/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_EVENTS_H
#define BERTH_BASE_EVENTS_H

/* The engine's event bus (GET /events): every subsystem reports what
 * happened with one call, subscribers stream Docker's event JSON, and a
 * bounded ring keeps the last EVENTS_RING events for `since` replay. One
 * bus per process (berthd has one engine). */

#include <stdint.h>
#include "json.h"

#define EVENTS_RING 1024

/* Record an event: type "container", "image", ...; action "start",
 * "die", "exec_start: sh -c ..."; attrs (stolen, may be NULL) become
 * Actor.Attributes. For containers, attrs' "image" is also the legacy
 * "from". */
void events_emit(const char *type, const char *action, const char *actor_id, json_t *attrs);

/* The attributes of a container event: image, name (without '/') and the
 * container's labels, from an inspect-shaped record. */
json_t *events_container_attrs(json_t *rec);

/* A container event from its inspect-shaped record; extra (stolen, may be
 * NULL) adds attributes (exitCode, signal, oldName). */
void events_container(json_t *rec, const char *action, json_t *extra);

/* Stream events to out_fd, one JSON object per line: first those in the
 * ring from since_ns on, then live ones, until until_ns (0: no end) has
 * passed, out_fd's reader goes away, or client_fd (the client's socket,
 * only polled; -1: none) hangs up. filters as filters_parse() gives them
 * (type, event, container, image, label, ...); NULL: all. */
int events_stream(int64_t since_ns, int64_t until_ns, json_t *filters, int out_fd, int client_fd);

#endif
