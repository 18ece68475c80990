/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api.h"
#include "engine.h"
#include "base/log.h"
#include "volume/volume.h"

#include <ctype.h>

/* Every endpoint berth serves. */
static const struct api_route routes[] = {
    {"GET", "/_ping", api_ping, NULL},
    {"GET", "/version", api_version, NULL},
    {"GET", "/info", api_info, NULL},
    {"GET", "/system/df", api_system_df, NULL},
    {"POST", "/build", NULL, api_build},
    {"POST", "/build/prune", api_build_prune, NULL},
    {"POST", "/commit", api_commit, NULL},

    /* containers */
    {"POST", "/containers/create", api_container_create, NULL},
    {"GET", "/containers/json", api_container_list, NULL},
    {"POST", "/containers/prune", api_container_prune, NULL},
    {"GET", "/containers/{id}/json", api_container_inspect, NULL},
    {"POST", "/containers/{id}/rename", api_container_rename, NULL},
    {"POST", "/containers/{id}/start", api_container_start, NULL},
    {"POST", "/containers/{id}/stop", api_container_stop, NULL},
    {"POST", "/containers/{id}/restart", api_container_restart, NULL},
    {"POST", "/containers/{id}/kill", api_container_kill, NULL},
    {"POST", "/containers/{id}/wait", api_container_wait, NULL},
    {"POST", "/containers/{id}/attach", api_container_attach, NULL},
    {"POST", "/containers/{id}/resize", api_container_resize, NULL},
    {"GET", "/containers/{id}/logs", api_container_logs, NULL},
    {"POST", "/containers/{id}/pause", api_container_pause, NULL},
    {"POST", "/containers/{id}/unpause", api_container_unpause, NULL},
    {"GET", "/containers/{id}/top", api_container_top, NULL},
    {"POST", "/containers/{id}/update", api_container_update, NULL},
    {"GET", "/containers/{id}/changes", api_container_changes, NULL},
    {"GET", "/containers/{id}/export", api_container_export, NULL},
    {"GET", "/containers/{id}/stats", api_container_stats, NULL},
    {"GET", "/events", api_events, NULL},
    {"GET", "/containers/{id}/archive", api_container_archive_get, NULL},
    {"PUT", "/containers/{id}/archive", NULL, api_container_archive_put, true},

    {"POST", "/containers/{id}/exec", api_exec_create, NULL},
    {"POST", "/exec/{id}/start", api_exec_start, NULL},
    {"GET", "/exec/{id}/json", api_exec_inspect, NULL},
    {"POST", "/exec/{id}/resize", api_exec_resize, NULL},

    /* {id*}: a link to remove is "parent/alias" (?link=1) */
    {"DELETE", "/containers/{id*}", api_container_remove, NULL},

    /* networks */
    {"GET", "/networks", api_network_list, NULL},
    {"POST", "/networks/create", api_network_create, NULL},
    {"POST", "/networks/prune", api_network_prune, NULL},
    {"GET", "/networks/{id}", api_network_inspect, NULL},
    {"DELETE", "/networks/{id}", api_network_remove, NULL},
    {"POST", "/networks/{id}/connect", api_network_connect, NULL},
    {"POST", "/networks/{id}/disconnect", api_network_disconnect, NULL},

    {"POST", "/auth", api_auth, NULL},

    /* images: the fixed paths before the {name*} ones */
    {"GET", "/images/json", api_image_list, NULL},
    {"POST", "/images/load", NULL, api_image_load},
    {"POST", "/images/create", NULL, api_image_create},
    {"GET", "/images/get", api_image_get, NULL},
    {"POST", "/images/prune", api_image_prune, NULL},
    {"GET", "/images/{name*}/json", api_image_inspect, NULL},
    {"GET", "/images/{name*}/history", api_image_history, NULL},
    {"GET", "/images/{name*}/get", api_image_get_one, NULL},
    {"POST", "/images/{name*}/tag", api_image_tag, NULL},
    {"POST", "/images/{name*}/push", api_image_push, NULL},
    {"DELETE", "/images/{name*}", api_image_remove, NULL},

    /* volumes */
    {"GET", "/volumes", api_volume_list, NULL},
    {"POST", "/volumes/create", api_volume_create, NULL},
    {"POST", "/volumes/prune", api_volume_prune, NULL},
    {"GET", "/volumes/{name}", api_volume_inspect, NULL},
    {"DELETE", "/volumes/{name}", api_volume_remove, NULL},

    /* Swarm mode: berth is never part of a swarm, so every swarm endpoint
     * answers as Docker does on a node that is not in one. */
    {"GET", "/swarm", api_swarm_inactive, NULL},
    {"POST", "/swarm/init", api_swarm_inactive, NULL},
    {"POST", "/swarm/join", api_swarm_inactive, NULL},
    {"POST", "/swarm/leave", api_swarm_leave, NULL},
    {"POST", "/swarm/update", api_swarm_inactive, NULL},
    {"GET", "/swarm/unlockkey", api_swarm_inactive, NULL},
    {"POST", "/swarm/unlock", api_swarm_inactive, NULL},
    {"GET", "/nodes", api_swarm_inactive, NULL},
    {"GET", "/nodes/{id}", api_swarm_inactive, NULL},
    {"DELETE", "/nodes/{id}", api_swarm_inactive, NULL},
    {"POST", "/nodes/{id}/update", api_swarm_inactive, NULL},
    {"GET", "/services", api_swarm_inactive, NULL},
    {"POST", "/services/create", api_swarm_inactive, NULL},
    {"GET", "/services/{id}", api_swarm_inactive, NULL},
    {"DELETE", "/services/{id}", api_swarm_inactive, NULL},
    {"POST", "/services/{id}/update", api_swarm_inactive, NULL},
    {"GET", "/services/{id}/logs", api_swarm_inactive, NULL},
    {"GET", "/tasks", api_swarm_inactive, NULL},
    {"GET", "/tasks/{id}", api_swarm_inactive, NULL},
    {"GET", "/tasks/{id}/logs", api_swarm_inactive, NULL},
    {"GET", "/secrets", api_swarm_inactive, NULL},
    {"POST", "/secrets/create", api_swarm_inactive, NULL},
    {"GET", "/secrets/{id}", api_swarm_inactive, NULL},
    {"DELETE", "/secrets/{id}", api_swarm_inactive, NULL},
    {"POST", "/secrets/{id}/update", api_swarm_inactive, NULL},
    {"GET", "/configs", api_swarm_inactive, NULL},
    {"POST", "/configs/create", api_swarm_inactive, NULL},
    {"GET", "/configs/{id}", api_swarm_inactive, NULL},
    {"DELETE", "/configs/{id}", api_swarm_inactive, NULL},
    {"POST", "/configs/{id}/update", api_swarm_inactive, NULL},
};

int api_version_cmp(const char *a, const char *b)
{
        while (*a || *b) {
                long x = strtol(a, (char **)&a, 10);
                long y = strtol(b, (char **)&b, 10);
                if (x != y)
                        return x < y ? -1 : 1;
                if (*a == '.')
                        a++;
                if (*b == '.')
                        b++;
                if (!*a && !*b)
                        break;
        }
        return 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char)tolower((unsigned char)c);
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

/* Percent-decode; -EINVAL on a bad escape or an embedded NUL. */
static int url_decode(const char *s, char **ret)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        for (; *s; s++) {
                if (*s == '%') {
                        int h = hexval(s[1]), l = h >= 0 ? hexval(s[2]) : -1;
                        if (h < 0 || l < 0 || (h == 0 && l == 0)) {
                                free(out);
                                return -EINVAL;
                        }
                        *o++ = (char)(h * 16 + l);
                        s += 2;
                } else
                        *o++ = *s;
        }
        *o = '\0';
        *ret = out;
        return 0;
}

/* Match `path` against `pattern` segment by segment. A "{x*}" segment takes
 * one or more segments, as many as leave the rest of the pattern matching:
 * image names carry '/' (docker-api.md §1: match the known suffix from the
 * right). */
bool api_route_match(const char *pattern, const char *path, char **params, size_t *n_params)
{
        while (*pattern && *path) {
                if (*pattern != '/' || *path != '/')
                        return false;
                pattern++;
                path++;
                size_t pl = strcspn(pattern, "/");
                size_t sl = strcspn(path, "/");
                if (pattern[0] == '{' && pl >= 2 && pattern[pl - 1] == '}') {
                        bool greedy = pattern[pl - 2] == '*';
                        /* a greedy span may start with '/': rm --link /web/db
                         * asks for DELETE /containers//web/db */
                        if (sl == 0 && (!greedy || !path[0]))
                                return false;
                        if (!greedy) {
                                if (*n_params >= API_MAX_PARAMS)
                                        return false;
                                params[(*n_params)++] = xstrndup(path, sl);
                                pattern += pl;
                                path += sl;
                                continue;
                        }
                        /* Try the longest span first. */
                        const char *rest_pattern = pattern + pl;
                        size_t total = strlen(path);
                        for (size_t end = total; end > 0; end--) {
                                if (end != total && path[end] != '/')
                                        continue;
                                size_t saved = *n_params;
                                if (saved >= API_MAX_PARAMS)
                                        return false;
                                params[(*n_params)++] = xstrndup(path, end);
                                if (api_route_match(rest_pattern, path + end, params, n_params))
                                        return true;
                                while (*n_params > saved)
                                        free(params[--(*n_params)]);
                        }
                        return false;
                }
                if (pl != sl || strncmp(pattern, path, pl) != 0)
                        return false;
                pattern += pl;
                path += sl;
        }
        /* A trailing slash on the request is tolerated. */
        if (!*pattern && streq(path, "/"))
                return true;
        return !*pattern && !*path;
}

/* The largest body an auth driver is shown (Docker's maxBodySize). */
#define AUTH_BODY_MAX (1u << 20)

/* Every configured authorization driver sees each request before it is
 * routed, as Docker's authz plugins do; the first denial answers 403. */
int api_authorize(struct api_request *req)
{
        struct driver **drivers = req->engine->drivers.auth;
        if (!drivers || !drivers[0])
                return 0;
        const char *ct = api_header(req, "Content-Type");
        bool json_body = ct && startswith(ct, "application/json");
        struct berth_auth_request ar = {
            .uid = req->peer_uid,
            .gid = req->peer_gid,
            .pid = req->peer_pid,
            .method = req->method,
            .uri = req->url,
        };
        for (struct driver **d = drivers; *d; d++) {
                struct berth_err err = {0};
                bool wants = (*d)->desc->features & BERTH_AUTH_F_BODY;
                /* A driver that decides on bodies must see every body the
                 * handler will act on: one it is not shown (not declared
                 * JSON, which the handlers parse all the same, or over the
                 * limit) would pass as a request without a body. */
                if (wants && req->body_len > 0 && (!json_body || req->body_len > AUTH_BODY_MAX)) {
                        api_reply_error(req, 403,
                                        "authorization denied by plugin %s: its request body "
                                        "cannot be shown to the plugin (%s)",
                                        (*d)->name,
                                        json_body ? "larger than 1 MiB"
                                                  : "Content-Type is not application/json");
                        return -EACCES;
                }
                bool body = json_body && wants;
                ar.body = body ? req->body : NULL;
                ar.body_len = body ? req->body_len : 0;
                int r = berth_auth_authorize_request(*d, &ar, 0, &err);
                if (r == -ENOTSUP)
                        continue;
                if (r < 0) {
                        /* The wrapper put "auth driver 'x': " in front. */
                        const char *m = err_msg(&err);
                        _cleanup_free_ char *prefix = xasprintf("auth driver '%s': ", (*d)->name);
                        const char *rest = startswith(m, prefix);
                        api_reply_error(req, 403, "authorization denied by plugin %s: %s",
                                        (*d)->name, rest ? rest : m);
                        return -EACCES;
                }
        }
        return 0;
}

int api_resolve(struct api_request *req)
{
        const char *p = req->url;
        int r;

        /* The version prefix: /v1.41/... */
        if (p[0] == '/' && p[1] == 'v' && isdigit((unsigned char)p[2])) {
                size_t l = strcspn(p + 2, "/");
                if (l < sizeof(req->version)) {
                        memcpy(req->version, p + 2, l);
                        req->version[l] = '\0';
                        bool ok =
                            strspn(req->version, "0123456789.") == l && strchr(req->version, '.');
                        if (!ok)
                                return api_reply_error(req, 400, "malformed API version '%s'",
                                                       req->version);
                        if (api_version_cmp(req->version, API_VERSION) > 0)
                                return api_reply_error(req, 400,
                                                       "client version %s is too new. Maximum "
                                                       "supported API version is %s",
                                                       req->version, API_VERSION);
                        if (api_version_cmp(req->version, API_MIN_VERSION) < 0)
                                return api_reply_error(
                                    req, 400,
                                    "client version %s is too old. Minimum supported API version "
                                    "is %s, please upgrade your client to a newer version",
                                    req->version, API_MIN_VERSION);
                        p += 2 + l;
                }
        }
        if (!req->version[0])
                snprintf(req->version, sizeof(req->version), "%s", API_VERSION);

        r = url_decode(*p ? p : "/", &req->path);
        if (r < 0)
                return api_reply_error(req, 400, "malformed path '%s'", req->url);
        if (req->query_nul)
                return api_reply_error(req, 400,
                                       "malformed query: a NUL byte (%%00) in a parameter");

        req->head = streq(req->method, "HEAD");
        bool path_matched = false;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                const struct api_route *rt = &routes[i];
                char *params[API_MAX_PARAMS] = {0};
                size_t n = 0;
                if (!api_route_match(rt->pattern, req->path, params, &n)) {
                        /* a partial match leaves its parameters behind */
                        for (size_t k = 0; k < n; k++)
                                free(params[k]);
                        continue;
                }
                path_matched = true;
                if (!streq(rt->method, req->method) && !(req->head && streq(rt->method, "GET"))) {
                        for (size_t k = 0; k < n; k++)
                                free(params[k]);
                        continue;
                }
                memcpy(req->param, params, sizeof(params));
                req->route = rt;
                return 0;
        }
        /* Authorization comes before "not found", as in Docker. */
        if (api_authorize(req) < 0)
                return 0;
        if (path_matched)
                return api_reply_error(req, 405, "method %s not allowed for %s", req->method,
                                       req->path);
        return api_reply_error(req, 404, "page not found");
}

int api_invoke(struct api_request *req)
{
        if (req->replied || !req->route)
                return 0;
        if (api_authorize(req) < 0)
                return 0;
        struct berth_err err = {0};
        log_debug("%s %s", req->method, req->url);
        int r = req->route->handler(req, &err);
        if (r < 0 && !req->replied)
                return api_reply_error(req, api_status_for(r), "%s", err_msg(&err));
        return 0;
}

int api_dispatch(struct api_request *req)
{
        api_resolve(req);
        return api_invoke(req);
}
