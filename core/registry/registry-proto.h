/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_REGISTRY_REGISTRY_PROTO_H
#define BERTH_REGISTRY_REGISTRY_PROTO_H

/*
 * berthd <-> berth-registry: the registry client runs in a helper process,
 * so that berthd never maps libcurl and OpenSSL's TLS (megabytes of RSS that
 * OpenSSL pins once loaded). berthd spawns one helper per pull, push or
 * login with a socketpair as its fd 3 and keeps sole ownership of the image
 * store: the helper talks HTTP, writes layer tars into a temp directory of
 * the store's tmp/ that berthd made for the operation and removes after it,
 * and asks berthd for everything else.
 *
 * JSON objects, one per line, both ways:
 *
 *   berthd -> helper, first: the request (credentials only here, never in
 *     argv or the environment)
 *     {"op":"pull"|"push"|"login"|"fetch", "ref", "all_tags", "platform", "url",
 *      "opts":{"insecure":[...],"ca","timeout","retries","parallel"},
 *      "auth":{"username","password",...}, "tmp":DIR}
 *   helper -> berthd:
 *     {"progress":{...}}   Docker's progress message, passed on unchanged
 *     {"alive":true}       at least every second while it works
 *     {"call":NAME, ...}   an image store operation; berthd answers
 *                          {"ok":VALUE} or {"error":{"code","message"}}
 *     {"done":{...}}       the result (then it exits 0); a fetch's:
 *                          {"status","size","last_modified","content_type",
 *                           "filename","digest"}; or
 *     {"error":{"code","message"}}  the failure (then it exits 1)
 *
 * berthd answers calls in order and reads nothing else; a message it does
 * not understand, a helper silent for longer than the registry timeout plus
 * a margin, or a client that went away ends the helper with SIGKILL, and the
 * image store rolls back what the operation had added.
 */

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "base/json.h"
#include "registry.h"

/* The helper's end of the socketpair. */
#define REGISTRY_HELPER_FD 3
/* The file a fetch writes (berthd's, opened by it); /dev/null for the
 * other operations. */
#define REGISTRY_HELPER_DATA_FD 4
/* String vectors as JSON arrays, and back (NULL unless an array of strings). */
json_t *jline_strv(char *const *v);
char **jline_strv_parse(json_t *a);

json_t *registry_opts_to_json(const struct registry_opts *o);
/* o->insecure is allocated: free with registry_opts_done(). */
void registry_opts_from_json(json_t *j, struct registry_opts *o);
void registry_opts_done(struct registry_opts *o);
json_t *registry_auth_to_json(const struct registry_auth *a);

/* {"code":-N,"message":...} and back (a code outside -4095..-1 becomes -EIO). */
json_t *registry_err_to_json(int code, const struct berth_err *err);
int registry_err_from_json(json_t *j, struct berth_err *err);

/* berthd's side: run `program` (berth-registry, or a stand-in in the unit
 * tests) for `request`, serving its calls against `s` (NULL: none allowed)
 * and passing its progress to fn. *ret_done (may be NULL) receives the
 * helper's result. `timeout_s` is the registry timeout; the helper may be
 * silent for that plus a margin. */
int registry_helper_run(const char *program, struct image_store *s, json_t *request, long timeout_s,
                        registry_progress_fn fn, void *userdata, json_t **ret_done,
                        struct berth_err *err);
/* The same with data_fd (-1: none) as the helper's REGISTRY_HELPER_DATA_FD. */
int registry_helper_run_fd(const char *program, struct image_store *s, json_t *request,
                           long timeout_s, int data_fd, registry_progress_fn fn, void *userdata,
                           json_t **ret_done, struct berth_err *err);

#endif
