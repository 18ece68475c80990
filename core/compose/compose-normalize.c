/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose-model.h"

/* Placeholder until the normalizer lands: the merged document as is. */
int compose_normalize(const json_t *merged, const struct compose_normalize_ctx *ctx, json_t **ret,
                      struct berth_err *err)
{
        (void)err;
        json_t *m = json_deep_copy(merged);
        json_object_set_new(m, "name", json_string(ctx->project_name));
        *ret = m;
        return 0;
}

int compose_model_write(const json_t *model, bool json, FILE *f, struct berth_err *err)
{
        if (json)
                return json_dumpf(model, f, JSON_INDENT(4)) < 0 ? err_set(err, -EIO, "write failed")
                                                                : 0;
        return compose_yaml_write(model, f, err);
}

int compose_service_hash(const json_t *service, char hex[65], struct berth_err *err)
{
        (void)service;
        hex[0] = 0;
        return err_set(err, -ENOTSUP, "compose: service hash not built yet");
}

int compose_service_order(const json_t *model, char **only, bool no_deps, json_t **ret,
                          struct berth_err *err)
{
        (void)only;
        (void)no_deps;
        (void)err;
        json_t *a = json_array();
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(model, "services"), k, v)
                json_array_append_new(a, json_string(k));
        *ret = a;
        return 0;
}
