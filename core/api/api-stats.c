/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /containers/{id}/stats?stream=&one-shot= */
#include "api.h"
#include "container/container.h"
#include "engine.h"
#include "base/log.h"

struct stats_job {
        struct container_store *s;
        char id[65];
        bool stream, one_shot;
};

static void stats_main(void *p, int fd)
{
        struct stats_job *j = p;
        container_stats(j->s, j->id, j->stream, j->one_shot, fd);
}

int api_container_stats(struct api_request *req, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(req->engine->containers, req->param[0], id, err);
        if (r < 0)
                return r;
        struct stats_job *j = xzalloc(sizeof(*j));
        j->s = req->engine->containers;
        memcpy(j->id, id, 65);
        j->stream = api_query_bool(req, "stream", true);
        j->one_shot = api_query_bool(req, "one-shot", false);
        return api_reply_from_thread(req, "application/json", stats_main, j, free, err);
}
