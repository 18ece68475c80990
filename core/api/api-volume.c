/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /volumes: create, list, inspect, remove, prune. */
#include "api.h"
#include "engine.h"
#include "volume/volume.h"

int api_volume_create(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_volume_create, &body, err);
        if (r < 0)
                return r;
        json_t *v = NULL;
        r = volume_create(req->engine->volumes, body, &v, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 201, v);
}

int api_volume_list(struct api_request *req, struct berth_err *err)
{
        json_t *v = NULL;
        int r = volume_list(req->engine->volumes, api_query(req, "filters"), &v, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, v);
}

int api_volume_inspect(struct api_request *req, struct berth_err *err)
{
        json_t *v = NULL;
        int r = volume_inspect(req->engine->volumes, req->param[0], &v, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, v);
}

int api_volume_remove(struct api_request *req, struct berth_err *err)
{
        int r = volume_remove(req->engine->volumes, req->param[0],
                              api_query_bool(req, "force", false), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_volume_prune(struct api_request *req, struct berth_err *err)
{
        json_t *v = NULL;
        int r = volume_prune(req->engine->volumes, api_query(req, "filters"),
                             api_version_cmp(req->version, "1.42") >= 0, &v, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, v);
}
