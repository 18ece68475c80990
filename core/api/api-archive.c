/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker cp: HEAD/GET/PUT /containers/{id}/archive?path= */
#include "api.h"
#include "container/container.h"
#include "engine.h"
#include "base/log.h"

static int stat_header(struct api_request *req, const char *path, struct berth_err *err)
{
        _cleanup_json_ json_t *st = NULL;
        int r = container_archive_stat(req->engine->containers, req->param[0], path, &st, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *j = json_dumps(st, JSON_COMPACT);
        if (!j)
                return err_set(err, -EINVAL, "cannot encode the stat of '%s'", path);
        size_t l = strlen(j);
        _cleanup_free_ char *b64 = base64_encode(j, l);
        api_add_header(req, "X-Docker-Container-Path-Stat", b64);
        return 0;
}

struct get_job {
        struct container_store *s;
        char *ref, *path;
};

static void get_main(void *p, int fd)
{
        struct get_job *j = p;
        struct berth_err err = {0};
        if (container_archive_get(j->s, j->ref, j->path, fd, &err) < 0)
                log_error("copy from %s:%s: %s", j->ref, j->path, err_msg(&err));
}

static void get_job_free(void *p)
{
        struct get_job *j = p;
        free(j->ref);
        free(j->path);
        free(j);
}

int api_container_archive_get(struct api_request *req, struct berth_err *err)
{
        const char *path = api_query(req, "path");
        if (isempty(path))
                return err_set(err, -EINVAL, "path must not be empty");
        int r = stat_header(req, path, err);
        if (r < 0)
                return r;
        if (req->head)
                return api_reply_empty(req, 200);
        struct get_job *j = xzalloc(sizeof(*j));
        j->s = req->engine->containers;
        j->ref = xstrdup(req->param[0]);
        j->path = xstrdup(path);
        return api_reply_from_thread(req, "application/x-tar", get_main, j, get_job_free, err);
}

int api_container_archive_put(struct api_request *req, int body_fd, int out_fd,
                              struct berth_err *err)
{
        (void)out_fd;
        const char *path = api_query(req, "path");
        return container_archive_put(req->engine->containers, req->param[0], path, body_fd,
                                     api_query_bool(req, "noOverwriteDirNonDir", false),
                                     api_query_bool(req, "copyUIDGID", false), err);
}
