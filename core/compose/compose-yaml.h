/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_COMPOSE_COMPOSE_YAML_H
#define BERTH_COMPOSE_COMPOSE_YAML_H

/* YAML documents as JSON trees (libyaml), for the loader. Scalars are typed
 * as go-yaml v3 types them (YAML 1.2 core schema: true/false, null/~/empty,
 * integers, floats; yes/no/on/off stay strings); quoted scalars are strings.
 * Anchors and aliases are resolved (an alias is a deep copy); "<<" merge keys
 * are applied (YAML 1.1, a mapping or a sequence of mappings, explicit keys
 * win). The tags !reset and !override are kept for the merge as
 * {COMPOSE_TAG_RESET: value} / {COMPOSE_TAG_OVERRIDE: value} wrappers. */

#include "base/err.h"
#include "base/json.h"

#include <stdio.h>

#define COMPOSE_TAG_RESET    "\001reset"
#define COMPOSE_TAG_OVERRIDE "\001override"

/* Where each node of a parsed document came from. */
struct compose_marks;

/* Parse one document. `file` names the source in messages. A syntax error
 * is "file:line:col: message". *ret_marks may be NULL if not wanted. */
int compose_yaml_parse(const char *file, const char *text, size_t len, json_t **ret,
                       struct compose_marks **ret_marks, struct berth_err *err);
/* The line (1-based) a node of the parsed tree started on; 0 when unknown
 * (a node made later, or a copy). */
int compose_marks_line(const struct compose_marks *m, const json_t *node);
const char *compose_marks_file(const struct compose_marks *m);
void compose_marks_free(struct compose_marks *m);

/* A JSON tree as block YAML, keys in the tree's order, strings quoted only
 * where YAML needs it (as go-yaml v3 writes them). */
int compose_yaml_write(const json_t *v, FILE *f, struct berth_err *err);

/* Every document of a stream, as a JSON array (a compose file may hold
 * several, which compose merges in order); anchors end with their
 * document. */
int compose_yaml_parse_all(const char *file, const char *text, size_t len, json_t **ret,
                           struct compose_marks **ret_marks, struct berth_err *err);

#endif
