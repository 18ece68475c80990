/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_COMPOSE_COMPOSE_MODEL_H
#define BERTH_COMPOSE_COMPOSE_MODEL_H

/* Validation and normalization: the loader's last two steps (internal to
 * compose/). */

#include "compose-yaml.h"
#include "compose.h"

/* Check one interpolated file against the Compose Specification's types: an
 * error names the file, line and key path ("compose.yaml:12: services.web.
 * ports[1]: ..."). Keys berth does not support are added to `warnings` by
 * name; swarm-only deploy keys are ignored as compose ignores them. */
int compose_schema_check(const json_t *doc, const struct compose_marks *marks, json_t *warnings,
                         struct berth_err *err);

struct compose_normalize_ctx {
        const char *project_name;
        const char *working_dir;   /* relative paths resolve against it */
        const json_t *environment; /* for environment: KEY with no value */
        bool no_path_resolution;
        json_t *warnings;
};

/* The merged document (after extends, include and profiles) -> the model
 * (compose.h). Takes ownership of nothing; *ret is new. */
int compose_normalize(const json_t *merged, const struct compose_normalize_ctx *ctx, json_t **ret,
                      struct berth_err *err);

#endif
