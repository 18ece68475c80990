/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose.h"

int compose_service_body(struct compose_cli *cc, const struct compose_service_args *sa,
                         json_t **ret_body, struct berth_err *err)
{
        (void)cc;
        (void)sa;
        *ret_body = NULL;
        return err_set(err, -ENOTSUP, "compose: services are not converted yet");
}

int compose_service_networks(struct compose_cli *cc, const struct compose_service_args *sa,
                             const char *container_name, json_t **ret, struct berth_err *err)
{
        (void)cc;
        (void)sa;
        (void)container_name;
        *ret = json_array();
        (void)err;
        return 0;
}

int compose_service_files(struct compose_cli *cc, const struct compose_service_args *sa,
                          json_t **ret, struct berth_err *err)
{
        (void)cc;
        (void)sa;
        *ret = json_array();
        (void)err;
        return 0;
}

char *compose_service_image(struct compose_cli *cc, const struct compose_project *p,
                            const char *service)
{
        json_t *svc = json_object_get(json_object_get(p->model, "services"), service);
        const char *img = json_string_value(json_object_get(svc, "image"));
        if (img)
                return xstrdup(img);
        return xasprintf("%s%c%s", p->name, cc->opts.compatibility ? '_' : '-', service);
}
