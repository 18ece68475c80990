/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry endpoints (docker-api.md §3.2): POST /images/create with
 * fromImage (pull), POST /images/{name}/push, POST /auth. Progress goes out
 * as Docker's JSON messages while the work goes on. */
#include "api.h"
#include "engine.h"
#include "base/events.h"
#include "base/log.h"
#include "image/image.h"
#include "registry/registry.h"

static void opts_of(struct engine *e, struct registry_opts *o)
{
        *o = (struct registry_opts){
            .insecure = e->cfg->registry_insecure,
            .ca = e->cfg->registry_ca,
            .timeout_s = e->cfg->registry_timeout,
            .retries = -1,
            .parallel = e->cfg->registry_downloads,
        };
}

static int stream_progress(void *ud, json_t *msg)
{
        int *fd = ud;
        return api_stream_json(*fd, msg);
}

int api_image_pull(struct api_request *req, int body_fd, int out_fd, struct berth_err *err)
{
        (void)body_fd;
        const char *image = api_query(req, "fromImage");
        const char *tag = api_query(req, "tag");
        const char *platform = api_query(req, "platform");
        struct registry_auth auth;
        int r = registry_auth_decode(api_header(req, "X-Registry-Auth"), &auth, err);
        if (r < 0)
                return r;
        /* fromImage=busybox&tag=latest, tag=sha256:..., or the tag in fromImage;
         * no tag at all: every tag (docker pull -a) */
        _cleanup_free_ char *ref = NULL;
        bool all = false;
        if (startswith(strempty(tag), "sha256:"))
                ref = xasprintf("%s@%s", image, tag);
        else if (!isempty(tag)) {
                r = image_ref_join(image, tag, &ref, err);
                if (r < 0) {
                        registry_auth_done(&auth);
                        return r;
                }
        } else {
                const char *last = strrchr(image, '/');
                all = !strchr(image, '@') && !strchr(last ? last : image, ':');
                ref = xstrdup(image);
        }
        struct registry_opts o;
        opts_of(req->engine, &o);
        r = registry_pull(req->engine->images, &o, ref, all, isempty(platform) ? NULL : platform,
                          &auth, stream_progress, &out_fd, NULL, err);
        registry_auth_done(&auth);
        if (r < 0)
                log_info("pull '%s': %s", ref, err_msg(err));
        else
                events_emit("image", "pull", ref, json_pack("{s:s}", "name", ref));
        return r;
}

struct push_job {
        struct engine *engine;
        char *ref;
        struct registry_auth auth;
        int fd;
};

static void push_job_free(void *p)
{
        struct push_job *job = p;
        free(job->ref);
        registry_auth_done(&job->auth);
        free(job);
}

static void push_main(void *p, int fd)
{
        struct push_job *job = p;
        struct berth_err err = {0};
        job->fd = fd; /* stream_progress writes there */
        struct registry_opts o;
        opts_of(job->engine, &o);
        int r = registry_push(job->engine->images, &o, job->ref, &job->auth, stream_progress,
                              &job->fd, &err);
        if (r < 0) {
                log_info("push '%s': %s", job->ref, err_msg(&err));
                api_stream_error(job->fd, err_msg(&err));
        } else
                events_emit("image", "push", job->ref, json_pack("{s:s}", "name", job->ref));
}

int api_image_push(struct api_request *req, struct berth_err *err)
{
        const char *tag = api_query(req, "tag");
        _cleanup_free_ char *ref = NULL;
        int r = image_ref_join(req->param[0], tag, &ref, err);
        if (r < 0)
                return r;
        struct image_ref pr;
        r = image_ref_parse(ref, &pr, err);
        if (r < 0)
                return r;
        image_ref_done(&pr);
        /* a missing image is reported inside the stream, as moby does */
        struct push_job *job = xzalloc(sizeof(*job));
        r = registry_auth_decode(api_header(req, "X-Registry-Auth"), &job->auth, err);
        if (r < 0) {
                free(job);
                return r;
        }
        job->engine = req->engine;
        job->ref = TAKE_PTR(ref);
        return api_reply_from_thread(req, "application/json", push_main, job, push_job_free, err);
}

int api_auth(struct api_request *req, struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        int r = api_body_json(req, &body, err);
        if (r < 0)
                return r;
        struct registry_auth auth;
        r = registry_auth_from_json(body, &auth, err);
        if (r < 0)
                return r;
        struct registry_opts o;
        opts_of(req->engine, &o);
        _cleanup_free_ char *token = NULL;
        r = registry_login(&o, &auth, &token, err);
        registry_auth_done(&auth);
        if (r < 0) {
                if (r == -EACCES)
                        return api_reply_error(req, 401, "%s", err_msg(err));
                return r;
        }
        return api_reply_json(
            req, 200,
            json_pack("{s:s, s:s}", "Status", "Login Succeeded", "IdentityToken", strempty(token)));
}
