/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CLIENT_CLIENT_H
#define BERTH_CLIENT_CLIENT_H

/* An Engine API client over the Unix socket (HTTP/1.1, written here: see
 * client.c). Used by the berth CLI (and by tests). One connection, kept alive
 * across requests. */

#include "base/http.h"
#include "base/json.h"

#define CLIENT_DEFAULT_HOST "unix:///run/berth/berth.sock"

struct client {
        struct http_reader conn; /* the kept-alive connection (fd -1 if none) */
        char *socket_path;
        char *host;         /* as given: unix:///... */
        bool explicit_host; /* -H or BERTH_HOST: never start a daemon */
        char *config_file;  /* $BERTH_CONFIG_FILE: handed to an auto-started berthd */
        char *exec_root;    /* where an auto-started berthd logs */
        char version[16];   /* negotiated API version */
        char server_version[64];
        const char *registry_auth;   /* X-Registry-Auth sent with each request, or NULL */
        const char *registry_config; /* X-Registry-Config (POST /build), or NULL */
        char path_stat[1024];        /* X-Docker-Container-Path-Stat of the last client_request */
};

/* Resolve the host: the argument, then $BERTH_HOST, then [daemon] host of
 * the configuration berthd would read ($BERTH_CONFIG_FILE, else
 * /etc/berth/berth.ini if present), then the built-in default. */
int client_init(struct client *c, const char *host, struct berth_err *err);
void client_done(struct client *c);

/* Ping the daemon and negotiate the API version. If nothing answers on the
 * default socket, start berthd in the background and wait until it answers
 * (the embedded default); with an explicit host, fail instead. */
int client_connect(struct client *c, struct berth_err *err);

/* One request. path is below the version prefix ("/containers/json?all=1").
 * *ret_body is NUL-terminated. A transport failure is an error; an HTTP
 * error status is not (the caller reads *ret_status). */
int client_request(struct client *c, const char *method, const char *path, const char *content_type,
                   const void *body, size_t body_len, long *ret_status, char **ret_body,
                   size_t *ret_len, struct berth_err *err);

/* A JSON request; an HTTP status >= 400 becomes an error whose message is the
 * daemon's {"message"} and whose code follows the status (404 -ENOENT, 409
 * -EEXIST, 400 -EINVAL, 403 -EACCES, else -EIO). *ret may be NULL. */
int client_json(struct client *c, const char *method, const char *path, json_t *body,
                long *ret_status, json_t **ret, struct berth_err *err);

/* A streaming request: the body is read from in_fd until EOF (-1: no body)
 * and sent chunked; the response body goes to fn as it arrives, unless the
 * status is an error (>= 400), which becomes *err like client_json(). fn
 * returns 0 to go on, non-zero to stop. */
typedef int (*client_data_fn)(void *userdata, const char *data, size_t len);
int client_stream(struct client *c, const char *method, const char *path, const char *content_type,
                  int in_fd, client_data_fn fn, void *userdata, long *ret_status,
                  struct berth_err *err);

/* A request on a connection of its own, returned to the caller once the
 * response headers are read: for attach (upgrade: 101 and then raw bytes
 * both ways) and for a wait whose body comes later. *ret_fd reads the body
 * (a chunked one through client_chunked_read). An error status (>= 400)
 * is turned into *err from its body, as client_json does. */
int client_raw(struct client *c, const char *method, const char *path, const char *body,
               bool upgrade, int *ret_fd, long *ret_status, bool *ret_chunked,
               struct berth_err *err);
/* Read a whole chunked (or, if !chunked, EOF-delimited) body. */
int client_read_body(int fd, bool chunked, char **ret, size_t *ret_len);

/* Where berthd is:
 next to this program, in ../sbin, in the install sbindir,
 * or on PATH. */
char *client_find_daemon(void);

#endif
