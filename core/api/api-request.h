/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_API_API_REQUEST_H
#define BERTH_API_API_REQUEST_H

/* The request object every handler uses (api-request.c): the query, the
 * headers and the body of one request, and the reply chosen for it. The
 * server (api-server.c) makes it and sends the reply, the router
 * (api-router.c) fills in the route and the version, a handler reads it and
 * answers with one of the api_reply_*() calls, or returns -errno with a
 * message, which becomes Docker's {"message": ...} with the status the code
 * maps to (api_status_for()). */

#include <stdbool.h>
#include <sys/types.h>
#include "base/json.h"

#define API_MAX_PARAMS 4

struct engine;
struct api_route;
struct http_head;

/* Write one JSON message and a newline to a stream (steals j); -EPIPE when
 * the client went away. */
int api_stream_json(int fd, json_t *j);
/* Docker's in-stream error message. */
int api_stream_error(int fd, const char *msg);

/* The hand-over of an upgraded connection, in the connection's thread:
 * fn(userdata, sock, extra, extra_len) owns the conversation (extra are
 * bytes the client sent after the request, already read) and returns when
 * it is over; the connection is then closed. userdata is freed with free()
 * after fn returns. */
typedef void (*api_upgrade_fn)(void *userdata, int sock, const char *extra, size_t extra_len);

struct api_reply {
        unsigned status;
        char *ctype;
        char *body;
        size_t len;
        int stream_fd; /* api_reply_stream(): the producer's pipe */
        api_upgrade_fn upgrade;
        void *userdata;
};

struct api_request {
        struct engine *engine;
        const char *method;
        const char *url;  /* as received, without the query */
        char *path;       /* percent-decoded, without the /vX.Y prefix */
        char version[16]; /* from the prefix, or API_VERSION */
        const struct api_route *route;
        char *param[API_MAX_PARAMS]; /* the {..} parts of the pattern, in order */
        char *body;
        size_t body_len;
        size_t body_cap;
        int body_error; /* -EFBIG when the body was over the limit */
        uid_t peer_uid;
        gid_t peer_gid;
        pid_t peer_pid;
        char **extra_headers; /* "Name: value" added to the reply */
        void *stream;         /* a streamed-body job (api-server.c) */
        bool replied;
        bool head;
        /* Filled by the server before the request is routed. */
        int fd;                       /* the client's socket */
        const struct http_head *http; /* the parsed request line and headers */
        char **query;                 /* decoded key, value, key, value, ... */
        bool query_nul; /* a key or value held %00: refused, as it would cut the C string */
        /* The reply chosen (the first api_reply_*() call), which the server
         * sends. */
        struct api_reply reply;
};

/* Add a header to the reply this request will get. */
void api_add_header(struct api_request *req, const char *name, const char *value);

/* Query parameters. */
const char *api_query(struct api_request *req, const char *key);
/* moby's rule: false iff "", "0", "no", "false", "none" (trimmed, any case);
 * an absent key gives def. */
bool api_query_bool(struct api_request *req, const char *key, bool def);
/* All values of a repeated key (names=a&names=b), NULL-terminated; free with strv_free. */
char **api_query_all(struct api_request *req, const char *key);
/* A header of the request, or NULL. */
const char *api_header(struct api_request *req, const char *name);
/* The client's socket, to notice it going away (POLLRDHUP) during a long
 * reply; not to be read or written. */
int api_conn_fd(struct api_request *req);
/* The body as JSON (empty and "null" give {}); -EINVAL with a message. */
int api_body_json(struct api_request *req, json_t **ret, struct berth_err *err);

/* Replies. Each returns 0, so a handler can end with `return api_reply_...`. */
int api_reply_json(struct api_request *req, unsigned status, json_t *j); /* steals j */
int api_reply_empty(struct api_request *req, unsigned status);
int api_reply_text(struct api_request *req, unsigned status, const char *content_type,
                   const char *text);
int api_reply_error(struct api_request *req, unsigned status, const char *fmt, ...) _printf_(3, 4);
/* Stream the bytes a producer writes into `fd` (a pipe's read end; the
 * reply owns it) as a chunked body; headers go out at once. */
int api_reply_stream(struct api_request *req, unsigned status, const char *content_type, int fd);

/* A 200 whose body fn writes from a detached thread of its own:
 * fn(job, fd) writes into fd, the write end of a pipe that the reply
 * streams; when fn returns, fd is closed and free_job(job) called (if not
 * NULL). When no thread can be started the job is freed all the same and
 * -errno returned with a message. */
typedef void (*api_thread_fn)(void *job, int fd);
int api_reply_from_thread(struct api_request *req, const char *content_type, api_thread_fn fn,
                          void *job, void (*free_job)(void *job), struct berth_err *err);

/* Answer 101 (or 200 when the client sent no Upgrade, as old clients do)
 * and hand the raw connection to fn (api_upgrade_fn). */
int api_reply_upgrade(struct api_request *req, const char *content_type, api_upgrade_fn fn,
                      void *userdata);

unsigned api_status_for(int code);

/* For the server (api-server.c). */

/* A request of a client on socket fd, whose request head is http (which
 * must outlive it). */
struct api_request *api_request_new(struct engine *engine, int fd, const struct http_head *http);
/* The query of the request target (after the '?'; NULL for none), which
 * api_query() and its kin decode and read. */
void api_request_set_query(struct api_request *req, const char *query);
/* Drop the reply chosen, closing a streamed reply's pipe (so that its
 * producer cannot block). */
void api_reply_clear(struct api_request *req);
/* Free the request; its streamed-body job (req->stream) is the server's to
 * end first. */
void api_request_free(struct api_request *req);

#endif
