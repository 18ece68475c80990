/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_REGISTRY_REGISTRY_H
#define BERTH_REGISTRY_REGISTRY_H

/*
 * The registry client: pull, push and login over the distribution HTTP API
 * v2 (libcurl). Engine-side, no printing: progress goes out as Docker's JSON
 * progress messages ({"status","id","progressDetail","progress"}) through a
 * callback, which the API streams as they come and the CLI draws.
 *
 * The HTTP work runs in berth-registry, a helper process per operation
 * (registry-proto.h), so that berthd never loads libcurl and OpenSSL; these
 * functions run it and do the image store's part in the caller's process.
 * A helper that fails, is killed, or is silent past the timeout is an error
 * ("registry helper killed by signal 9"), and the pull leaves nothing.
 *
 * Pull: the manifest is negotiated (OCI index/manifest, Docker manifest
 * list/schema 2; the platform asked for or linux/amd64), then the layers
 * the store does not have are downloaded several at a time. Each blob is
 * hashed and decompressed as it streams; a layer goes to the image store
 * only when both its blob digest and its diff ID matched, and layers are
 * applied in order while later ones still download. The image is recorded
 * (and named) last: a failed pull leaves no image and no layer behind.
 *
 * Transport: https with the system CAs plus `ca`; plain http only for
 * registries in `insecure` (HOST[:PORT] or CIDR) and 127.0.0.0/8, which are
 * tried over https first, as dockerd does. Bearer tokens (the
 * WWW-Authenticate challenge and the token endpoint) and basic auth.
 * Transfers that fail half-way are retried with back-off and resumed with
 * Range; connects and stalls time out after `timeout_s`.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct image_store;

struct registry_opts {
        char **insecure; /* NULL-terminated HOST[:PORT] / CIDR entries, may be NULL */
        const char *ca;  /* extra CA bundle, or NULL */
        long timeout_s;  /* connect and stall timeout; 0: 30 s */
        int retries;     /* attempts after the first for a dropped transfer; <0: 3 */
        int parallel;    /* concurrent layer downloads; 0: 4 */
};

/* Credentials as the X-Registry-Auth header and POST /auth carry them. */
struct registry_auth {
        char *username;
        char *password;
        char *identitytoken; /* an OAuth refresh token */
        char *registrytoken; /* a bearer token used as is */
        char *serveraddress;
};
void registry_auth_done(struct registry_auth *a);
/* Parse the JSON object of POST /auth or the decoded X-Registry-Auth. */
int registry_auth_from_json(json_t *j, struct registry_auth *ret, struct berth_err *err);
/* X-Registry-Auth: base64url (padded or not) of that JSON; "" or NULL gives
 * no credentials. */
int registry_auth_decode(const char *header, struct registry_auth *ret, struct berth_err *err);
/* The reverse, for clients; NULL if they cannot be encoded (not UTF-8). */
char *registry_auth_encode(const char *username, const char *password, const char *server);

/* A progress message (stolen). A negative return (the client went away)
 * cancels a pull. */
typedef int (*registry_progress_fn)(void *userdata, json_t *msg);

/* Pull `ref` (a reference as `berth pull` takes it; with all_tags, a
 * repository whose every tag is pulled). `platform` is "os/arch[/variant]"
 * or NULL. *ret_id (may be NULL) receives the image ID of the (last)
 * image. Errors: -ENOENT (repository, tag or manifest unknown), -EACCES
 * (unauthorized, with the registry's message), -EBADMSG (digest mismatch,
 * bad or unsupported manifest), -ETIMEDOUT, -ECONNREFUSED / -EIO. */
int registry_pull(struct image_store *s, const struct registry_opts *o, const char *ref,
                  bool all_tags, const char *platform, const struct registry_auth *auth,
                  registry_progress_fn fn, void *userdata, char **ret_id, struct berth_err *err);

/* Push the image named `ref` (name[:tag]; without a tag, every tag of the
 * repository) to its registry: blobs the registry has are skipped, a
 * cross-repository mount is tried for blobs berth pulled from elsewhere on
 * that registry, then the manifest (Docker schema 2). */
int registry_push(struct image_store *s, const struct registry_opts *o, const char *ref,
                  const struct registry_auth *auth, registry_progress_fn fn, void *userdata,
                  struct berth_err *err);

/* Check credentials against a registry (GET /v2/ with the challenge it
 * answers). *ret_token (may be NULL) receives an identity token when the
 * token server issued one. -EACCES with the registry's message when wrong. */
int registry_login(const struct registry_opts *o, const struct registry_auth *auth,
                   char **ret_token, struct berth_err *err);

/* One URL downloaded, for ADD <url> and POST /build?remote=: what the
 * fetch learnt besides the bytes. */
struct registry_fetch_result {
        long status;              /* the final response's (after redirects) */
        int64_t size;             /* bytes written */
        int64_t last_modified_ns; /* Last-Modified (Unix ns), 0 without one or unparsable */
        char *content_type;       /* as sent ("text/plain; charset=utf-8"), or NULL */
        /* The name Docker gives the file: the URL path's last segment, or
         * when the path is empty or ends in '/', Content-Disposition's
         * filename (its last segment); NULL when neither gives one. */
        char *filename;
        char *digest; /* "sha256:<hex>" of the bytes written */
};
void registry_fetch_result_done(struct registry_fetch_result *r);

/* The largest download registry_fetch takes. */
#define REGISTRY_FETCH_MAX (8LL << 30)

/* GET `url` (http:// or https://, redirects followed to either) and write
 * its body to `fd`, which the caller owns and keeps: an open regular file,
 * writable, written from its current offset on (the helper shares the open
 * file, so the offset has moved on return; read it with pread or lseek
 * first); on a failure it holds part of the body or nothing, for the caller
 * to drop. The [registry] options apply as for registries: `ca` is trusted
 * besides the system CAs, a host listed in `insecure` is reached over https
 * without verification, timeout_s bounds connects and stalls (a download
 * that moves is never cut), a dropped transfer is tried again from the
 * start `retries` times. Progress (may be NULL): Docker's "Downloading"
 * messages, id NULL. The work runs in berth-registry (op "fetch"), which
 * says it is alive every second, so a long download does not time out.
 * Errors, each naming the URL:
 *   -EINVAL  "unsupported URL 'ftp://x': only http and https"
 *   -ENOENT, -EACCES, -EIO (by status): "GET http://h/x: 404 Not Found"
 *            for any status outside 2xx
 *   -ECONNREFUSED "GET http://h/x: cannot connect: <curl's words>"
 *            (refused, or "could not resolve host")
 *   -ETIMEDOUT "GET http://h/x: timed out (30s without data): ..."
 *   -EPROTO  "GET https://h/x: TLS: ..."
 *   -EFBIG   "GET http://h/x: larger than 8 GiB"
 *   -ENOSPC ... "GET http://h/x: write: No space left on device" */
int registry_fetch(const struct registry_opts *o, const char *url, int fd, registry_progress_fn fn,
                   void *userdata, struct registry_fetch_result *ret, struct berth_err *err);

/* The registry host of a server address as docker login takes it:
 * "https://index.docker.io/v1/", "docker.io" -> "docker.io"; "localhost:5000". */
char *registry_server_name(const char *server);

#endif
