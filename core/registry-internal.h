/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_REGISTRY_INTERNAL_H
#define BERTH_REGISTRY_INTERNAL_H

/* Shared between the registry-*.c files. */

#include <curl/curl.h>
#include <pthread.h>

#include "json.h"
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
/* An error from a registry's reply: its {"errors":[...]} as Docker words
 * them ("manifest unknown: manifest unknown"), with a code from the status. */
int reg_http_error(const struct reg_resp *resp, const char *what, struct berth_err *err);
/* A parameter of a WWW-Authenticate challenge (realm="...",service=...), or NULL. */
char *reg_challenge_param(const char *challenge, const char *key);
/* Is a transport error worth another try. */
bool reg_retryable(CURLcode cc);

/* Docker's progress messages. */
json_t *reg_progress(const char *id, const char *status, int64_t current, int64_t total);
/* The short ID Docker shows for a layer: 12 hex of its digest. */
void reg_short_id(const char *digest, char ret[13]);

#endif
