/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image endpoints (docker-api.md §3.2, §3.4): list, inspect, history,
 * tag, remove, prune, load, save, import, system df. */
#include "api.h"
#include "base/events.h"
#include "base/filters.h"
#include "build/build-cache.h"
#include "container/container.h"

#include "engine.h"
#include "image/image.h"
#include "base/log.h"
#include "volume/volume.h"

#include <fnmatch.h>

static const char *const image_list_filters[] = {"reference", "dangling", "label",
                                                 "before",    "since",    NULL};

/* With a reference filter, moby lists only the matching names of each image
 * (docker images busybox shows one row, not one per tag of the image). A
 * pattern matches "repo:tag" or the bare "repo", as reference.FamiliarMatch. */
static bool ref_matches(const char *pattern, const char *ref)
{
        if (fnmatch(pattern, ref, 0) == 0)
                return true;
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(ref, ':');
        if (colon && (!slash || colon > slash)) {
                _cleanup_free_ char *repo = xstrndup(ref, (size_t)(colon - ref));
                return fnmatch(pattern, repo, 0) == 0;
        }
        return false;
}

static void restrict_tags(json_t *list, const char *filters)
{
        _cleanup_json_ json_t *f = NULL;
        struct berth_err err = {0};
        if (filters_parse(filters, NULL, &f, &err) < 0 || !filters_has(f, "reference"))
                return;
        size_t i, k;
        json_t *img;
        json_array_foreach (list, i, img) {
                json_t *tags = json_object_get(img, "RepoTags");
                json_t *kept = json_array();
                json_t *t;
                json_array_foreach (tags, k, t) {
                        size_t n;
                        json_t *p;
                        json_array_foreach (filters_get(f, "reference"), n, p) {
                                if (ref_matches(json_string_value(p), json_string_value(t))) {
                                        json_array_append(kept, t);
                                        break;
                                }
                        }
                }
                json_object_set_new(img, "RepoTags", kept);
        }
}

int api_image_list(struct api_request *req, struct berth_err *err)
{
        /* Old clients pass the reference as ?filter=NAME. */
        const char *legacy = api_query(req, "filter");
        const char *filters = api_query(req, "filters");
        _cleanup_free_ char *merged = NULL;
        if (legacy && *legacy) {
                _cleanup_json_ json_t *f = NULL;
                if (filters && *filters) {
                        int r = json_parse_body(filters, strlen(filters), &f, err);
                        if (r < 0)
                                return r;
                } else
                        f = json_object();
                json_object_set_new(f, "reference", json_pack("[s]", legacy));
                merged = json_dumps(f, JSON_COMPACT);
                if (!merged)
                        return err_set(err, -EINVAL, "invalid filter '%s'", legacy);
                filters = merged;
        }
        int r = filters_check(filters, image_list_filters, err);
        if (r < 0)
                return r;
        struct image_list_opts o = {
            .all = api_query_bool(req, "all", false),
            .digests = api_query_bool(req, "digests", false),
            .filters = filters,
        };
        json_t *list = NULL;
        r = image_list(req->engine->images, &o, &list, err);
        if (r < 0)
                return r;
        restrict_tags(list, filters);
        return api_reply_json(req, 200, list);
}

int api_image_inspect(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = image_inspect(req->engine->images, req->param[0], &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_image_history(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = image_history(req->engine->images, req->param[0], &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_image_tag(struct api_request *req, struct berth_err *err)
{
        const char *repo = api_query(req, "repo");
        const char *tag = api_query(req, "tag");
        if (isempty(repo))
                return err_set(err, -EINVAL, "repository name must have at least one component");
        /* `repo` may carry the tag itself (CLI 28: repo=docker.io/x/y&tag=v1). */
        _cleanup_free_ char *target = NULL;
        int r = image_ref_join(repo, tag, &target, err);
        if (r < 0)
                return r;
        r = image_tag(req->engine->images, req->param[0], target, err);
        if (r < 0)
                return r;
        events_emit("image", "tag", req->param[0], json_pack("{s:s}", "name", target));
        return api_reply_empty(req, 201);
}

int api_image_remove(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r =
            image_remove(req->engine->images, req->param[0], api_query_bool(req, "force", false),
                         api_query_bool(req, "noprune", false), &j, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *x;
        json_array_foreach (j, i, x) {
                const char *u = json_get_str(x, "Untagged", NULL),
                           *d = json_get_str(x, "Deleted", NULL);
                if (u)
                        events_emit("image", "untag", u, json_pack("{s:s}", "name", u));
                if (d)
                        events_emit("image", "delete", d, json_pack("{s:s}", "name", d));
        }
        return api_reply_json(req, 200, j);
}

int api_image_prune(struct api_request *req, struct berth_err *err)
{
        static const char *const allowed[] = {"dangling", "until", "label", "label!", NULL};
        const char *filters = api_query(req, "filters");
        int r = filters_check(filters, allowed, err);
        if (r < 0)
                return r;
        json_t *j = NULL;
        r = image_prune(req->engine->images, filters, &j, err);
        if (r < 0)
                return r;
        return api_reply_json(req, 200, j);
}

int api_system_df(struct api_request *req, struct berth_err *err)
{
        json_t *j = NULL;
        int r = image_df(req->engine->images, &j, err);
        if (r < 0)
                return r;
        /* Containers with the size of their writable layer, volumes, and the
         * build cache (BuilderSize: its total, which API 1.41 still sends). */
        struct container_list_opts co = {.all = true, .size = true};
        json_t *cl = NULL;
        if (container_list(req->engine->containers, &co, &cl, err) == 0)
                json_object_set_new(j, "Containers", cl);
        if (!json_object_get(j, "Containers"))
                json_object_set_new(j, "Containers", json_array());

        json_object_set_new(j, "Volumes", volume_df(req->engine->volumes));
        json_t *bc = NULL;
        int64_t bc_size = 0;
        if (build_cache_df(req->engine->build_cache, &bc, &bc_size, err) == 0) {
                json_object_set_new(j, "BuildCache", bc);
                json_object_set_new(j, "BuilderSize", json_integer(bc_size));
        }
        if (!json_object_get(j, "BuildCache"))
                json_object_set_new(j, "BuildCache", json_array());
        return api_reply_json(req, 200, j);
}

/* --- load -------------------------------------------------------------- */

struct load_ctx {
        int out_fd;
        bool quiet;
};

static void load_progress(void *ud, const char *line)
{
        struct load_ctx *c = ud;
        const char *what =
            startswith(line, "Loaded image ID: ") ?: startswith(line, "Loaded image: ");
        if (what)
                events_emit("image", "load", what, json_pack("{s:s}", "name", what));
        /* Docker's messages: {"stream":"Loaded image: busybox:latest\n"} */
        api_stream_json(c->out_fd, json_pack("{s:o}", "stream", json_sprintf("%s\n", line)));
}

int api_image_load(struct api_request *req, int body_fd, int out_fd, struct berth_err *err)
{
        struct load_ctx c = {.out_fd = out_fd, .quiet = api_query_bool(req, "quiet", false)};
        return image_load(req->engine->images, body_fd, load_progress, &c, NULL, err);
}

/* --- import ------------------------------------------------------------ */

int api_image_create(struct api_request *req, int body_fd, int out_fd, struct berth_err *err)
{
        const char *src = api_query(req, "fromSrc");
        const char *image = api_query(req, "fromImage");
        if (image && *image)
                return api_image_pull(req, body_fd, out_fd, err);
        if (!src || !streq(src, "-"))
                return err_set(err, -EINVAL,
                               "fromSrc must be '-' (a tarball in the request body)%s%s",
                               src ? "; import from URL is not supported: " : "", strempty(src));
        const char *repo = api_query(req, "repo");
        const char *tag = api_query(req, "tag");
        _cleanup_free_ char *ref = NULL;
        if (!isempty(repo)) {
                int r = image_ref_join(repo, tag, &ref, err);
                if (r < 0)
                        return r;
        }
        _cleanup_strv_ char **changes = api_query_all(req, "changes");
        _cleanup_free_ char *id = NULL;
        int r = image_import(req->engine->images, body_fd, ref, (const char *const *)changes,
                             api_query(req, "message"), &id, err);
        if (r < 0)
                return r;
        events_emit("image", "import", id, json_pack("{s:s}", "name", ref ? ref : id));
        return api_stream_json(out_fd, json_pack("{s:s}", "status", id));
}

/* --- save -------------------------------------------------------------- */

struct save_job {
        struct engine *engine;
        char **refs;
};

static void save_main(void *p, int fd)
{
        struct save_job *job = p;
        struct berth_err err = {0};
        int r = image_save(job->engine->images, (const char *const *)job->refs, fd,
                           IMAGE_SAVE_DOCKER, &err);
        if (r < 0)
                /* The tar stream is cut short; the client sees a truncated
                 * archive and fails on it. The daemon log says why. */
                log_error("save: %s", err_msg(&err));
}

static void save_job_free(void *p)
{
        struct save_job *job = p;
        strv_free(job->refs);
        free(job);
}

/* Takes refs. */
static int save_refs(struct api_request *req, char **refs, struct berth_err *err)
{
        if (strv_length(refs) == 0) {
                strv_free(refs);
                return err_set(err, -EINVAL, "no image names given");
        }
        /* Resolve first, so that a missing image is a plain 404. */
        for (char **i = refs; *i; i++) {
                _cleanup_free_ char *id = NULL;
                int r = image_resolve(req->engine->images, *i, &id, err);
                if (r < 0) {
                        strv_free(refs);
                        return r;
                }
        }
        struct save_job *job = xzalloc(sizeof(*job));
        job->engine = req->engine;
        job->refs = refs;
        return api_reply_from_thread(req, "application/x-tar", save_main, job, save_job_free, err);
}

int api_image_get(struct api_request *req, struct berth_err *err)
{
        return save_refs(req, api_query_all(req, "names"), err);
}

int api_image_get_one(struct api_request *req, struct berth_err *err)
{
        return save_refs(req, strv_push(NULL, xstrdup(req->param[0])), err);
}
