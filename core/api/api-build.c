/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /build: the classic builder's protocol (builder-notes.md §1.2-1.4).
 * The query decoded into build_opts, the context from the body, the stream
 * out as the build writes it. */
#include "api.h"
#include "engine.h"
#include "base/events.h"
#include "base/log.h"
#include "build/build.h"
#include "registry/registry.h"

#include <poll.h>

struct build_out {
        int fd;
        int conn;
};

static int out_msg(void *ud, json_t *msg)
{
        struct build_out *o = ud;
        if (!msg) {
                /* still there? the reply pipe's reader, and the client */
                struct pollfd p[2] = {{o->fd, 0, 0}, {o->conn, POLLRDHUP, 0}};
                if (poll(p, o->conn >= 0 ? 2 : 1, 0) > 0 &&
                    ((p[0].revents & (POLLERR | POLLHUP)) ||
                     (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))))
                        return -EPIPE;
                return 0;
        }
        return api_stream_json(o->fd, msg);
}

/* A JSON query parameter: an object (or, for cachefrom, an array). */
static int query_json(struct api_request *req, const char *key, bool array, json_t **ret,
                      struct berth_err *err)
{
        const char *v = api_query(req, key);
        *ret = NULL;
        if (isempty(v))
                return 0;
        json_error_t je;
        json_t *j = json_loads(v, JSON_DECODE_ANY, &je);
        if (json_is_null(j)) { /* the docker CLI sends "null" for no ulimits */
                json_decref(j);
                return 0;
        }
        if (!j || (array ? !json_is_array(j) : !json_is_object(j))) {
                json_decref(j);
                return err_set(err, -EINVAL, "invalid %s: %s", key, j ? "wrong type" : je.text);
        }
        *ret = j;
        return 0;
}

static void set_int(json_t *hc, const char *name, struct api_request *req, const char *key)
{
        const char *v = api_query(req, key);
        int64_t n;
        if (!isempty(v) && parse_int64(v, &n) >= 0 && n != 0)
                json_object_set_new(hc, name, json_integer(n));
}

static void set_str(json_t *hc, const char *name, struct api_request *req, const char *key)
{
        const char *v = api_query(req, key);
        if (!isempty(v))
                json_object_set_new(hc, name, json_string(v));
}

int api_build(struct api_request *req, int body_fd, int out_fd, struct berth_err *err)
{
        struct engine *e = req->engine;
        const char *version = api_query(req, "version");
        if (!isempty(version) && streq(version, "2"))
                return err_set(err, -EINVAL,
                               "berth has no BuildKit: the classic builder (version 1) builds; "
                               "set DOCKER_BUILDKIT=0 to use it");
        if (!isempty(version) && !streq(version, "1"))
                return err_set(err, -EINVAL, "unsupported builder version \"%s\"", version);
        if (streq_ptr(api_query(req, "remote"), "client-session"))
                return err_set(err, -EINVAL,
                               "experimental session with v1 builder is no longer supported, use "
                               "builder version v2 (BuildKit) instead");
        if (!isempty(api_query(req, "securityopt")))
                return err_set(err, -EINVAL,
                               "The daemon on this platform does not support setting security "
                               "options on build");
        if (api_query_bool(req, "squash", false))
                return err_set(err, -EINVAL, "squash is only supported with experimental mode");

        _cleanup_strv_ char **tags = api_query_all(req, "t");
        _cleanup_json_ json_t *buildargs = NULL, *labels = NULL, *cachefrom = NULL, *ulimits = NULL,
                              *regcfg = NULL;
        int r = query_json(req, "buildargs", false, &buildargs, err);
        if (r >= 0)
                r = query_json(req, "labels", false, &labels, err);
        if (r >= 0)
                r = query_json(req, "cachefrom", true, &cachefrom, err);
        if (r >= 0)
                r = query_json(req, "ulimits", true, &ulimits, err);
        if (r < 0)
                return r;

        /* the RUN containers' host config */
        _cleanup_json_ json_t *hc = json_object();
        const char *net = api_query(req, "networkmode");
        if (!isempty(net) && !streq(net, "default"))
                json_object_set_new(hc, "NetworkMode", json_string(net));
        _cleanup_strv_ char **hosts = api_query_all(req, "extrahosts");
        if (hosts && *hosts) {
                json_t *a = json_array();
                for (char **h = hosts; *h; h++) /* one value may hold several, comma-separated */
                {
                        _cleanup_strv_ char **parts = strv_split(*h, ",");
                        for (char **p = parts; p && *p; p++)
                                json_array_append_new(a, json_string(*p));
                }
                json_object_set_new(hc, "ExtraHosts", a);
        }
        set_int(hc, "ShmSize", req, "shmsize");
        set_int(hc, "Memory", req, "memory");
        set_int(hc, "MemorySwap", req, "memswap");
        set_int(hc, "CpuShares", req, "cpushares");
        set_int(hc, "CpuPeriod", req, "cpuperiod");
        set_int(hc, "CpuQuota", req, "cpuquota");
        set_str(hc, "CpusetCpus", req, "cpusetcpus");
        set_str(hc, "CpusetMems", req, "cpusetmems");
        set_str(hc, "CgroupParent", req, "cgroupparent");
        if (json_array_size(ulimits))
                json_object_set(hc, "Ulimits", ulimits);

        /* X-Registry-Config: base64url JSON {server: AuthConfig}; moby
         * ignores what it cannot decode */
        const char *rch = api_header(req, "X-Registry-Config");
        if (!isempty(rch)) {
                unsigned char *dec = NULL;
                size_t dl = 0;
                if (base64url_decode(rch, &dec, &dl) >= 0) {
                        json_error_t je;
                        regcfg = json_loadb((const char *)dec, dl, 0, &je);
                        if (!json_is_object(regcfg)) {
                                json_decref(regcfg);
                                regcfg = NULL;
                        }
                }
                free(dec);
        }

        _cleanup_strv_ char **cf = NULL;
        size_t i;
        json_t *v;
        json_array_foreach (cachefrom, i, v)
                if (json_is_string(v))
                        cf = strv_push(cf, xstrdup(json_string_value(v)));

        bool rm = api_query_bool(req, "rm", true);
        bool forcerm = api_query_bool(req, "forcerm", false);
        struct build_opts o = {
            .tags = tags,
            .dockerfile = api_query(req, "dockerfile"),
            .buildargs = buildargs,
            .labels = labels,
            .cache_from = cf,
            .target = api_query(req, "target"),
            .platform = api_query(req, "platform"),
            .remote = api_query(req, "remote"),
            .nocache = api_query_bool(req, "nocache", false),
            .pull = api_query_bool(req, "pull", false),
            .rm = rm || forcerm,
            .forcerm = forcerm,
            .quiet = api_query_bool(req, "q", false),
            .want_aux = api_version_cmp(req->version, "1.30") >= 0,
            .hostconfig = hc,
            .registry_config = regcfg,
        };
        if (isempty(o.target))
                o.target = NULL;
        if (isempty(o.dockerfile))
                o.dockerfile = NULL;
        if (isempty(o.platform))
                o.platform = NULL;

        struct registry_opts ro = {
            .insecure = e->cfg->registry_insecure,
            .ca = e->cfg->registry_ca,
            .timeout_s = e->cfg->registry_timeout,
            .retries = -1,
            .parallel = e->cfg->registry_downloads,
        };
        struct build_deps d = {
            .cfg = e->cfg,
            .images = e->images,
            .containers = e->containers,
            .cache = e->build_cache,
            .registry = &ro,
        };
        struct build_out bo = {.fd = out_fd, .conn = api_conn_fd(req)};
        _cleanup_free_ char *id = NULL;
        r = build_run(&d, &o, body_fd, out_msg, &bo, &id, err);
        if (r == 0 && id) {
                for (char **t = tags; t && *t; t++)
                        events_emit("image", "tag", id, json_pack("{s:s}", "name", *t));
                log_info("build: %s", id);
        }
        return r > 0 ? 0 : r;
}
