/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_API_API_H
#define BERTH_API_API_H

/* Docker's Engine API over a Unix socket (docs: ../shared/docker-api.md).
 *
 * The server (api-server.c, HTTP/1.1 of http.c) runs one thread per
 * connection, so a handler may block (a wait, a log follow) without stalling
 * other clients. The order runs one way: server -> router (api-router.c) ->
 * handlers (api-<area>.c) -> the request object (api-request.h). */

#include <stdbool.h>
#include <sys/types.h>
#include "api-request.h"
#include "base/json.h"

#define API_VERSION     "1.41"
#define API_MIN_VERSION "1.24"

struct engine;
struct api_server;

typedef int (*api_handler)(struct api_request *req, struct berth_err *err);

/* A handler of a streamed request body (load, import, build): it runs in a
 * thread of its own from the moment the headers arrive, reads the body from
 * body_fd until EOF while the client is still sending it, and writes its
 * reply body (JSON messages, api_stream_json()) to out_fd. The reply is 200,
 * chunked, application/json; an error returned from the handler is appended
 * as Docker's in-stream {"errorDetail":{"message":...},"error":...}. */
typedef int (*api_stream_handler)(struct api_request *req, int body_fd, int out_fd,
                                  struct berth_err *err);

/* The JSON bodies as moby's Go types (api-validate.c): a value of the wrong
 * type is -EINVAL with Go's message; null and unknown keys pass; a string
 * where moby takes a string or a list (Cmd, CapDrop...) becomes a list, a
 * null in a list or map of strings becomes "". */
struct api_schema;
extern const struct api_schema api_schema_container_create, api_schema_container_update,
    api_schema_commit, api_schema_exec_create, api_schema_exec_start, api_schema_network_create,
    api_schema_network_connect, api_schema_network_disconnect, api_schema_volume_create;
int api_validate(const struct api_schema *s, json_t *body, struct berth_err *err);
/* api_body_json() and api_validate(). */
int api_body_checked(struct api_request *req, const struct api_schema *s, json_t **ret,
                     struct berth_err *err);

struct api_route {
        const char *method;        /* "GET"; "HEAD" requests also match "GET" routes */
        const char *pattern;       /* "/containers/{id}/json"; "{name*}" spans '/' (image names) */
        api_handler handler;       /* NULL for streamed-body routes */
        api_stream_handler stream; /* streamed-body routes */
        /* A streamed-body route whose reply waits for the handler: 200 with
         * an empty body, or the error's own status (PUT .../archive). The
         * handler writes nothing to out_fd. */
        bool reply_when_done;
};

/* Routing (api-router.c): resolve (version prefix, path, route; replies
 * itself on failure), then invoke (authorization, handler). */
int api_resolve(struct api_request *req);
/* Ask the configured authorization drivers; on a denial reply 403 and
 * return -EACCES. */
int api_authorize(struct api_request *req);
int api_invoke(struct api_request *req);
int api_dispatch(struct api_request *req);
/* Match a path against a route pattern; the {..} parts go to params
 * (allocated; n_params counts them). */
bool api_route_match(const char *pattern, const char *path, char **params, size_t *n_params);
/* Compare "1.24" style versions: <0, 0, >0. */
int api_version_cmp(const char *a, const char *b);

/* The server (api-server.c). listen_fd is a bound, listening Unix socket. */
int api_server_start(struct engine *engine, int listen_fd, struct api_server **ret,
                     struct berth_err *err);
void api_server_stop(struct api_server *s);

/* Handlers of the system endpoints (api-system.c). */
int api_ping(struct api_request *req, struct berth_err *err);
int api_version(struct api_request *req, struct berth_err *err);
int api_info(struct api_request *req, struct berth_err *err);
/* Swarm endpoints: 503, as Docker answers on a node outside any swarm. */
int api_swarm_inactive(struct api_request *req, struct berth_err *err);
int api_swarm_leave(struct api_request *req, struct berth_err *err);
int api_system_df(struct api_request *req, struct berth_err *err);
int api_build_prune(struct api_request *req, struct berth_err *err);

/* Containers (api-container.c). */
int api_container_create(struct api_request *req, struct berth_err *err);
int api_container_list(struct api_request *req, struct berth_err *err);
int api_container_inspect(struct api_request *req, struct berth_err *err);
int api_container_remove(struct api_request *req, struct berth_err *err);
int api_container_rename(struct api_request *req, struct berth_err *err);
int api_container_prune(struct api_request *req, struct berth_err *err);
int api_container_stats(struct api_request *req, struct berth_err *err); /* api-stats.c */
int api_events(struct api_request *req, struct berth_err *err);          /* api-events.c */
/* api-archive.c */
int api_container_archive_get(struct api_request *req, struct berth_err *err);
int api_container_archive_put(struct api_request *req, int body_fd, int out_fd,
                              struct berth_err *err);
int api_container_start(struct api_request *req, struct berth_err *err);
int api_container_stop(struct api_request *req, struct berth_err *err);
int api_container_restart(struct api_request *req, struct berth_err *err);
int api_container_kill(struct api_request *req, struct berth_err *err);
int api_container_wait(struct api_request *req, struct berth_err *err);
int api_container_attach(struct api_request *req, struct berth_err *err);
int api_container_resize(struct api_request *req, struct berth_err *err);
int api_container_logs(struct api_request *req, struct berth_err *err);
int api_container_pause(struct api_request *req, struct berth_err *err);
int api_container_unpause(struct api_request *req, struct berth_err *err);
int api_container_top(struct api_request *req, struct berth_err *err);
int api_container_update(struct api_request *req, struct berth_err *err);
int api_container_changes(struct api_request *req, struct berth_err *err);
int api_container_export(struct api_request *req, struct berth_err *err);
int api_commit(struct api_request *req, struct berth_err *err);

int api_exec_create(struct api_request *req, struct berth_err *err);
int api_exec_start(struct api_request *req, struct berth_err *err);
int api_exec_inspect(struct api_request *req, struct berth_err *err);
int api_exec_resize(struct api_request *req, struct berth_err *err);

/* Networks (api-network.c). */
int api_network_list(struct api_request *req, struct berth_err *err);
int api_network_inspect(struct api_request *req, struct berth_err *err);
int api_network_create(struct api_request *req, struct berth_err *err);
int api_network_remove(struct api_request *req, struct berth_err *err);
int api_network_prune(struct api_request *req, struct berth_err *err);
int api_network_connect(struct api_request *req, struct berth_err *err);
int api_network_disconnect(struct api_request *req, struct berth_err *err);

/* Images (api-image.c). */
int api_image_list(struct api_request *req, struct berth_err *err);
int api_image_inspect(struct api_request *req, struct berth_err *err);
int api_image_history(struct api_request *req, struct berth_err *err);
int api_image_tag(struct api_request *req, struct berth_err *err);
int api_image_remove(struct api_request *req, struct berth_err *err);
int api_image_prune(struct api_request *req, struct berth_err *err);
int api_image_get(struct api_request *req, struct berth_err *err);
int api_image_get_one(struct api_request *req, struct berth_err *err);
int api_image_load(struct api_request *req, int body_fd, int out_fd, struct berth_err *err);
int api_build(struct api_request *req, int body_fd, int out_fd, struct berth_err *err);
int api_image_create(struct api_request *req, int body_fd, int out_fd, struct berth_err *err);
/* Registry (api-registry.c): pull (create with fromImage), push, auth. */
int api_image_pull(struct api_request *req, int body_fd, int out_fd, struct berth_err *err);
int api_image_push(struct api_request *req, struct berth_err *err);
int api_auth(struct api_request *req, struct berth_err *err);

#endif
