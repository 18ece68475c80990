/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_REGISTRY_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_REGISTRY_INTERNAL_H

/* Shared between the files of berth-registry, the helper process that
 * berthd runs for each pull, push and login (registry-proto.h): the HTTP
 * client (registry-http.c), pull and push, and the helper's side of the
 * conversation with berthd (registry-remote.c). Only the helper links
 * these, and with them libcurl and OpenSSL. */

#include <curl/curl.h>
#include <pthread.h>

#include "base/json.h"
#include "registry.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZ    "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"

/* Largest manifest we read (Docker's limit), and config. */
#define REG_MANIFEST_MAX (4u << 20)
#define REG_CONFIG_MAX   (16u << 20)
#define REG_ERRBODY_MAX  (64u << 10)

/* One registry and repository, shared by the threads of a pull or push. */
struct reg {
        const struct registry_opts *o;
        const struct registry_auth *auth;
        char *domain;     /* as in references: "docker.io", "127.0.0.1:5000" */
        char *host;       /* where to connect: "registry-1.docker.io", "127.0.0.1:5000" */
        char *base;       /* "https://host" once decided */
        bool insecure;    /* plain http allowed */
        bool skip_verify; /* listed insecure: https without verification */
        char *scope;      /* "repository:library/busybox:pull" (space-separated list) */
        pthread_mutex_t lock;
        char *authz;          /* "Bearer ..." / "Basic ..." for the scope, or NULL */
        char *identity_token; /* a refresh token the token server gave back */
        CURL *pool[8];        /* idle handles, kept for their connections */
        size_t n_pool;
};

/* A request. The response body goes to `sink` when the status is 200/206
 * and a sink is set, else it is kept (up to max_body) in the response. */
struct reg_req {
        const char *method;
        const char *url; /* absolute, or a path from /v2/ on */
        const char *const *headers;
        const void *body; /* upload from memory ... */
        size_t body_len;
        int body_fd; /* ... or from a file (-1 unless set) */
        off_t body_off, body_size;
        size_t max_body;
        size_t (*sink)(void *ud, const char *p, size_t n, long status); /* n, or 0 to stop */
        void *sink_ud;
        int (*abort_fn)(void *ud); /* non-zero: stop now */
        off_t range_from;          /* > 0: ask for bytes from here */
};

struct reg_resp {
        long status;
        char *body;
        size_t len;
        bool truncated;
        char *content_type, *digest, *location, *www_auth, *content_range;
        char *last_modified, *content_disposition;
        char *reason;         /* the status line's reason phrase ("Not Found"), or NULL */
        off_t content_length; /* -1 unknown */
        CURLcode cc;
};
void reg_resp_done(struct reg_resp *r);

int reg_open(const struct registry_opts *o, const struct registry_auth *auth, const char *domain,
             const char *scope, struct reg **ret, struct berth_err *err);
struct reg *reg_close(struct reg *rg);
/* GET /v2/: choose https or http, and take the auth challenge. */
int reg_ping(struct reg *rg, struct berth_err *err);
/* Perform a request (answering one auth challenge). A transport failure
 * is an error; an HTTP status is not. */
int reg_do(struct reg *rg, const struct reg_req *q, struct reg_resp *resp, struct berth_err *err);
/* One exchange with q->url (absolute) as it is: no registry ping, no auth
 * challenge answered. A transport failure is in resp->cc (curl's words in
 * resp->body); -ENOMEM only when there is no curl handle. */
int reg_perform(struct reg *rg, const struct reg_req *q, bool verify, struct reg_resp *resp);
/* An error from a registry's reply: its {"errors":[...]} as Docker words
 * them ("manifest unknown: manifest unknown"), with a code from the status. */
int reg_http_error(const struct reg_resp *resp, const char *what, struct berth_err *err);
/* A parameter of a WWW-Authenticate challenge (realm="...",service=...), or NULL. */
char *reg_challenge_param(const char *challenge, const char *key);
/* Is a transport error worth another try. */
bool reg_retryable(CURLcode cc);

/* The operations themselves, in the helper; as registry_pull/push/login
 * in registry.h, with the image store reached through the rstore_* calls. */
int reg_pull(const struct registry_opts *o, const char *ref, bool all_tags, const char *platform,
             const struct registry_auth *auth, registry_progress_fn fn, void *userdata,
             char **ret_id, struct berth_err *err);
int reg_push(const struct registry_opts *o, const char *ref, const struct registry_auth *auth,
             registry_progress_fn fn, void *userdata, struct berth_err *err);
int reg_login(const struct registry_opts *o, const struct registry_auth *auth, char **ret_token,
              struct berth_err *err);
/* registry_fetch's work in the helper: url's body written to fd from its
 * current offset (a regular file, truncated back for a retry). */
int reg_fetch(const struct registry_opts *o, const char *url, int fd, registry_progress_fn fn,
              void *userdata, struct registry_fetch_result *ret, struct berth_err *err);

/* --- the image store, in berthd (registry-remote.c) ---------------------
 * Each call is a request that berthd answers (image-pull.h does the work);
 * calls from several threads are served one at a time. */

/* Start the conversation on fd with berthd: the operation's request, and
 * the directory (in the store's tmp/) where the helper's files go. */
int remote_open(int fd, json_t **ret_request, struct berth_err *err);
/* A message to berthd (stolen). */
int remote_send(json_t *m);
/* The progress callback of the operations: {"progress": msg}. */
int remote_progress(void *userdata, json_t *msg);
/* Tell berthd the helper is alive, at most once a second: called from
 * where the work waits (transfers, compression, back-off). */
void reg_heartbeat(void);

/* A new file in the operation's directory: its fd, its path in *ret_path. */
int rstore_tmpfile(const char *prefix, char **ret_path, struct berth_err *err);
/* Which layers (bottom first; a layer counts with all below it) the store has. */
int rstore_layers_present(char *const *diff_ids, bool *ret, struct berth_err *err);
bool rstore_has_image(const char *id);
/* image_txn_begin/layer/commit/free; tar_path NULL: a layer the store has. */
int rstore_txn_begin(struct berth_err *err);
int rstore_txn_layer(const char *tar_path, const char *diff_id, struct berth_err *err);
int rstore_txn_commit(const char *config, size_t config_len, const char *const *names,
                      char **ret_id, struct berth_err *err);
void rstore_txn_abort(void);
int rstore_push_source(const char *ref, char **ret_id, char **ret_config, size_t *ret_len,
                       char ***ret_diff_ids, char ***ret_tars, struct berth_err *err);
json_t *rstore_dist_get(const char *diff_id);
void rstore_dist_put(const char *diff_id, const char *domain, const char *repository,
                     const char *digest, int64_t size, const char *media_type);
int rstore_add_name(const char *id, const char *name, struct berth_err *err);

/* Docker's progress messages. */
json_t *reg_progress(const char *id, const char *status, int64_t current, int64_t total);
/* The short ID Docker shows for a layer: 12 hex of its digest. */
void reg_short_id(const char *digest, char ret[13]);

#endif
