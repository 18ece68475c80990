/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /containers/{id}/stats?stream=&one-shot= */
#include "api.h"
#include "container/container.h"
#include "engine.h"
#include "base/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

struct stats_job {
        struct container_store *s;
        char id[65];
        bool stream, one_shot;
        int fd;
};

static void *stats_main(void *p)
{
        struct stats_job *j = p;
        container_stats(j->s, j->id, j->stream, j->one_shot, j->fd);
        close(j->fd);
        free(j);
        return NULL;
}

int api_container_stats(struct api_request *req, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(req->engine->containers, req->param[0], id, err);
        if (r < 0)
                return r;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        struct stats_job *j = xzalloc(sizeof(*j));
        j->s = req->engine->containers;
        memcpy(j->id, id, 65);
        j->stream = api_query_bool(req, "stream", true);
        j->one_shot = api_query_bool(req, "one-shot", false);
        j->fd = p[1];
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &a, stats_main, j);
        pthread_attr_destroy(&a);
        if (r != 0) {
                close(p[0]);
                close(p[1]);
                free(j);
                return err_set(err, -EAGAIN, "cannot start a thread");
        }
        return api_reply_stream(req, 200, "application/json", p[0]);
}
