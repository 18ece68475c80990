/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_COMPOSE_COMPOSE_LOAD_H
#define BERTH_COMPOSE_COMPOSE_LOAD_H

/* The loader's steps that tests reach directly (internal to compose/). */

#include "compose.h"

/* Merge `over` into `base` by compose's rules (13-merge.md): mappings
 * recursively, scalars replaced, sequences appended except command,
 * entrypoint, healthcheck.test; environment, labels, build.args, sysctls...
 * as maps; ports, volumes, secrets, configs, devices unique by target.
 * base may be changed; *ret is a new reference. */
int compose_merge(json_t *base, json_t *over, json_t **ret, struct berth_err *err);

/* The merged document before normalization ("name" first): what
 * `config --no-normalize` prints. */
int compose_load_merged(const struct compose_options *o, json_t **ret, struct berth_err *err);

#endif
