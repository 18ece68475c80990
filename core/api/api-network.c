/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network endpoints (docker-api.md §3.5). */
#include "api.h"
#include "container/container.h"
#include "engine.h"
#include "base/filters.h"
#include "network/network.h"

int api_network_list(struct api_request *req, struct berth_err *err)
{
        static const char *const allowed[] = {"dangling", "driver", "id",   "label",
                                              "name",     "scope",  "type", NULL};
        int r = filters_check(api_query(req, "filters"), allowed, err);
        if (r < 0)
                return r;
        json_t *l = NULL;
        r = network_list(req->engine->networks, api_query(req, "filters"), &l, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, l);
}

int api_network_inspect(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = network_inspect(req->engine->networks, req->param[0], &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_network_create(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_network_create, &body, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = NULL;
        r = network_create(req->engine->networks, body, &id, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 201, json_pack("{s:s, s:s}", "Id", id, "Warning", ""));
}

int api_network_remove(struct api_request *req, struct berth_err *err)
{
        int r = network_remove(req->engine->networks, req->param[0], err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 204);
}

int api_network_prune(struct api_request *req, struct berth_err *err)
{
        static const char *const allowed[] = {"until", "label", "label!", NULL};
        int r = filters_check(api_query(req, "filters"), allowed, err);
        if (r < 0)
                return r;
        json_t *j = NULL;
        r = network_prune(req->engine->networks, api_query(req, "filters"), &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_network_connect(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_network_connect, &body, err);
        if (r < 0)
                return r;
        r = container_network_connect(req->engine->containers, req->param[0],
                                      json_get_str(body, "Container", ""),
                                      json_object_get(body, "EndpointConfig"), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 200);
}

int api_network_disconnect(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_checked(req, &api_schema_network_disconnect, &body, err);
        if (r < 0)
                return r;
        r = container_network_disconnect(req->engine->containers, req->param[0],
                                         json_get_str(body, "Container", ""), err);
        if (r < 0)
                return r;
        return api_reply_empty(req, 200);
}
