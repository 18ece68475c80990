/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_AUTH_H
#define BERTH_AUTH_H

/*
 * Authorization drivers (Docker's authorization plugins: AuthZReq and
 * AuthZRes). Every API request passes through each configured auth driver
 * in order before it is served, and its response after; any driver can deny.
 * The peer is identified by the Unix socket's credentials (SO_PEERCRED).
 */

#include <berth/plugin.h>

/* Feature bits. */
#define BERTH_AUTH_F_RESPONSE (1ull << 0) /* authorize_response() wants to see responses */
/* Wants request bodies: JSON ones, up to 1 MiB. A request whose body
 * cannot be shown (another Content-Type, or larger) is denied before it
 * reaches the driver, so that no body is acted on unseen. Streamed bodies
 * (PUT /containers/{id}/archive: a tar) are not shown. */
#define BERTH_AUTH_F_BODY (1ull << 1)

struct berth_auth_request {
        uint32_t uid; /* the client's credentials from the socket */
        uint32_t gid;
        int32_t pid;
        uint32_t reserved;
        const char *method;         /* "POST" */
        const char *uri;            /* "/v1.41/containers/create?name=web", as sent */
        const char *const *headers; /* NULL-terminated "Name: value" */
        const void *body;           /* NULL unless BERTH_AUTH_F_BODY and the body is JSON */
        size_t body_len;
};

struct berth_auth_ops {
        uint32_t size;
        uint32_t reserved;

        /* Decide on a request before it is served: 0 allows; -EACCES denies,
         * and the message in *err is what the client sees (HTTP 403,
         * "authorization denied by plugin NAME: MESSAGE"). Any other error
         * also denies, as Docker does when a plugin fails. */
        int (*authorize_request)(void *drv, const struct berth_auth_request *req, uint64_t flags,
                                 struct berth_err *err);

        /* Decide on a response before it is sent (only with
         * BERTH_AUTH_F_RESPONSE; streamed responses are decided on their status
         * and headers alone, body NULL). Same return convention. */
        int (*authorize_response)(void *drv, const struct berth_auth_request *req, uint32_t status,
                                  const void *body, size_t body_len, uint64_t flags,
                                  struct berth_err *err);
};

#endif
