/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose-yaml.h"

/* Placeholder until the YAML reader lands. */
int compose_yaml_write(const json_t *v, FILE *f, struct berth_err *err)
{
        return json_dumpf(v, f, JSON_INDENT(2)) < 0 ? err_set(err, -EIO, "write failed") : 0;
}
