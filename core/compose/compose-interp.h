/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_COMPOSE_COMPOSE_INTERP_H
#define BERTH_COMPOSE_COMPOSE_INTERP_H

/* ${VAR} interpolation and the env-file syntax (internal to compose/). */

#include "compose-yaml.h"

/* Where variables come from: `env` first, then `env2` (either may be NULL;
 * objects of strings). Unset variables used without a default add the
 * warning "The \"X\" variable is not set. Defaulting to a blank string." to
 * `warnings` (once per name) when it is not NULL. */
struct compose_interp {
        const json_t *env;
        const json_t *env2;
        json_t *warnings;
};

/* One string. Errors: "Invalid template: \"...\"" (-EINVAL, with the
 * template), "required variable X is missing a value: msg" (-ENOENT). */
int compose_interp_string(const struct compose_interp *ip, const char *s, char **ret,
                          struct berth_err *err);

/* Every string value (never a key) of a parsed document, in place; values
 * at the paths compose types (ports[].target, deploy.replicas, ...) are
 * re-typed when they were interpolated. Errors name the file, the line and
 * the key path: "compose.yaml:3: error while interpolating services.web.
 * image: required variable X is missing a value: msg". */
int compose_interp_tree(const struct compose_interp *ip, json_t *doc, const struct compose_marks *m,
                        struct berth_err *err);

/* The env-file syntax (.env, env_file:): adds to `out` (an object). Values
 * are interpolated against `lookup` first, then what the file set so far.
 * `VAR` alone takes lookup's value, or is skipped. Errors:
 * "file: line N: ...". */
int compose_env_parse(const char *file, const char *text, const json_t *lookup, json_t *out,
                      struct berth_err *err);
/* The same from a file (-ENOENT: "couldn't find env file: PATH"). raw: one
 * VAR=VAL a line, nothing else interpreted (format: raw). */
int compose_env_read(const char *path, const json_t *lookup, bool raw, json_t *out,
                     struct berth_err *err);

#endif
