/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CONTAINER_CONTAINER_H
#define BERTH_CONTAINER_CONTAINER_H

/* Containers: records, names, and the Docker-shaped views of them.
 *
 * A container's record is one JSON document in Docker's inspect shape (so
 * that inspect is the record, with a few live fields filled in), kept at
 * <data-root>/containers/<id>/config.v2.json and written atomically. The
 * store keeps every record in memory behind one lock; lookups are by full
 * ID, name (with or without '/'), or unique ID prefix.
 *
 * Errors follow the Engine API: -ENOENT "No such container: X", -EEXIST
 * for a name in use (409), -EINVAL for bad input (400). */

#include <jansson.h>
#include <stdbool.h>
#include "base/config.h"
#include "base/err.h"
#include "container-deps.h"
#include "driver/driver.h"

struct container_store;
struct image_store;

/* What the container store is opened with (kept by value). */
struct container_deps {
        struct berth_config *cfg;
        struct driver *storage;
        struct image_store *images;
        const struct ct_network_ops *net;
        void *net_ctx;
        const struct ct_volume_ops *vol;
        void *vol_ctx;
};

/* Load the records; nothing runs yet (see container_restore). */
int container_store_open(const struct container_deps *d, struct container_store **ret,
                         struct berth_err *err);
struct container_store *container_store_close(struct container_store *s);
/* At daemon shutdown, before the stores below are closed: background
 * threads (exit monitors, health checks) stand still from here on. The
 * store itself stays allocated for them. */
void container_store_shutdown(struct container_store *s);

/* After a daemon restart, once every store is open: for each container the
 * records call running, restore its network endpoints and volume mounts
 * and watch its shim again, or record its exit if it ended while berthd was
 * away. */
int container_restore(struct container_store *s);

/* The volume store's users callback (volume_users_fn): the containers
 * whose records mount volume `name`, and those of `pins` that exist. */
char **container_volume_users(void *userdata, const char *name, json_t *pins);

/* POST /containers/create: body is the request (Config fields at the top
 * level, HostConfig, NetworkingConfig); name may be NULL (one is made up).
 * *ret_id gets the 64-hex ID, *ret_warnings a JSON array (may be empty). */
int container_create(struct container_store *s, const char *name, json_t *body, char **ret_id,
                     json_t **ret_warnings, struct berth_err *err);

/* What a new record holds besides the create body and the image's config. */
struct container_record_in {
        const char *id;              /* 64 hex */
        const char *name;            /* with the leading '/'; NULL: no "Name" yet */
        const char *image_id;        /* "sha256:..." */
        const char *created;         /* RFC 3339 with nanoseconds */
        const char *dir;             /* the container's directory (<data-root>/containers/<id>) */
        const char *storage_driver;  /* "Driver" */
        const char *logging_default; /* LogConfig.Type when the body has none */
};
/* The pure part of create: the create body (Config fields at the top level,
 * HostConfig, NetworkingConfig) over the image's config (its "Config"
 * object, may be NULL) -> the inspect-shaped record of a new container in
 * *ret, with HostConfig defaults, State "created", empty Mounts and
 * NetworkSettings.Networks (create fills them from the volume and network
 * plans). No store, no driver, no I/O. -EINVAL for a bad HostConfig or no
 * command. */
int container_record_build(json_t *body, json_t *image_config, const struct container_record_in *in,
                           json_t **ret, struct berth_err *err);

/* Resolve a reference to the full ID. */
int container_resolve(struct container_store *s, const char *ref, char ret_id[65],
                      struct berth_err *err);

/* GET /containers/{id}/json: a copy of the record with live fields. */
int container_inspect(struct container_store *s, const char *ref, json_t **ret,
                      struct berth_err *err);

struct container_list_opts {
        bool all;
        int64_t limit; /* <= 0: no limit */
        bool size;
        const char *filters; /* the API's JSON */
};
/* GET /containers/json */
int container_list(struct container_store *s, const struct container_list_opts *o, json_t **ret,
                   struct berth_err *err);

/* DELETE /containers/{id}. A running container needs force (which kills it
 * first, once containers can run). */
int container_remove(struct container_store *s, const char *ref, bool force, bool volumes,
                     struct berth_err *err);

/* POST /containers/{id}/rename */
int container_rename(struct container_store *s, const char *ref, const char *new_name,
                     struct berth_err *err);

/* POST /containers/prune: {"ContainersDeleted":[..]|null,"SpaceReclaimed":N} */
int container_prune(struct container_store *s, const char *filters, json_t **ret,
                    struct berth_err *err);

/* Running (container-run.c). start returns 1 when the container already
 * runs (304), stop returns 1 when it is not running (304). timeout -1: the
 * container's StopTimeout or 10 s. */
int container_start(struct container_store *s, const char *ref, struct berth_err *err);
int container_stop(struct container_store *s, const char *ref, int timeout, struct berth_err *err);
int container_restart(struct container_store *s, const char *ref, int timeout,
                      struct berth_err *err);
int container_kill(struct container_store *s, const char *ref, const char *signal,
                   struct berth_err *err);
/* condition: "not-running" (default), "next-exit", "removed". */
int container_wait(struct container_store *s, const char *ref, const char *condition,
                   int64_t *ret_code, struct berth_err *err);
/* Serve an attach on the client's raw connection until the container's
 * output ends or the client detaches; blocks. extra: stdin bytes already
 * read with the request. detach_keys: Docker's format, NULL or "" for the
 * default (ctrl-p,ctrl-q); watched for on a TTY's stdin only. */
int container_attach(struct container_store *s, const char *ref, int client, const char *extra,
                     size_t extra_len, bool want_in, bool want_out, bool want_err,
                     const char *detach_keys, struct berth_err *err);
/* For the builder's RUN steps: start a created container with its stdout
 * and stderr attached (registered before the start, so nothing is lost),
 * and hand its output to fn as it comes: Docker's multiplexed stream (an
 * 8-byte frame header: stream 1 or 2, 3 zero bytes, big-endian length) as
 * attach sends it for a container without a TTY. A silent process still
 * gets fn called (len 0) every 250 ms. fn returning < 0 (the build was
 * cancelled) kills the container; the call then returns -ECANCELED once
 * the output has ended. Blocks until the process's output ends; the exit
 * code is container_wait's. */
typedef int (*container_output_fn)(void *userdata, const char *data, size_t len);
int container_start_output(struct container_store *s, const char *ref, container_output_fn fn,
                           void *userdata, struct berth_err *err);
/* Docker's detach keys: comma separated, each a single character or
 * "ctrl-" with one of a-z @ [ \ ] ^ _. NULL or "": ctrl-p,ctrl-q. */
#define CONTAINER_DETACH_KEYS_MAX 16
int container_detach_keys(const char *spec, unsigned char ret[CONTAINER_DETACH_KEYS_MAX],
                          size_t *ret_len, struct berth_err *err);
/* Exec (docker exec): create an exec instance in a running container, start
 * it (detached, or streaming on the client's raw connection until the
 * process ends; its ExitCode is final when this returns), inspect it. */
int container_exec_create(struct container_store *s, const char *ref, json_t *body, char ret_id[65],
                          struct berth_err *err);
int container_exec_start(struct container_store *s, const char *id, bool detach, int client,
                         const char *extra, size_t extra_len, struct berth_err *err);
/* The window size of an exec's TTY (nothing to do for an exec without one). */
int container_exec_resize(struct container_store *s, const char *id, int h, int w,
                          struct berth_err *err);
int container_exec_inspect(struct container_store *s, const char *id, json_t **ret,
                           struct berth_err *err);
/* GET /containers/{id}/export: the container's filesystem as a tar. */
int container_export(struct container_store *s, const char *ref, int out_fd, struct berth_err *err);
/* POST /commit: a new image from the container's writable layer; target is
 * "repo[:tag]" or NULL (dangling). */
int container_commit(struct container_store *s, const char *ref, const char *target,
                     const char *const *changes, const char *comment, const char *author,
                     bool pause, json_t *config_over, char **ret_id, struct berth_err *err);
/* GET /containers/{id}/stats: write Docker's stats objects (one per line) to
 * out_fd: one (one_shot: at once; else two samples a second apart), or one a
 * second while stream is set, until the container is removed or out_fd fails
 * (container-stats.c). */
int container_stats(struct container_store *s, const char *id, bool stream, bool one_shot,
                    int out_fd);
/* docker cp (container-archive.c), running, stopped or created containers;
 * paths are resolved inside the container's root, with its volumes and bind
 * mounts (for one that is not running, mounted in a private mount namespace
 * for the copy only). stat: {name,size,mode,mtime,
 * linkTarget} with Go's FileMode bits; get: a tar of the path to out_fd;
 * put: a tar from tar_fd extracted into the directory path. */
int container_archive_stat(struct container_store *s, const char *ref, const char *path,
                           json_t **ret, struct berth_err *err);
int container_archive_get(struct container_store *s, const char *ref, const char *path, int out_fd,
                          struct berth_err *err);
int container_archive_put(struct container_store *s, const char *ref, const char *path, int tar_fd,
                          bool no_overwrite_dir_non_dir, bool copy_uid_gid, struct berth_err *err);
/* For the builder's COPY, ADD and WORKDIR: fn runs with an O_PATH
 * descriptor of the root of container `ref` (a created one's rootfs is
 * mounted for the call), to resolve paths in with openat_in_root(). */
typedef int (*container_root_fn)(void *userdata, int rootfd, struct berth_err *err);
int container_with_root(struct container_store *s, const char *ref, container_root_fn fn,
                        void *userdata, struct berth_err *err);
/* The container's writable layer as a layer tar (what commit stores). */
int container_layer_diff(struct container_store *s, const char *ref, int out_fd,
                         struct berth_err *err);
/* run --init: mount berth-init into the OCI spec and put it before the
 * command; -ENOENT when the program is not installed (container-init.c). */
int container_init_apply(json_t *spec, const char *rootfs);
int container_pause(struct container_store *s, const char *ref, bool pause, struct berth_err *err);
/* POST /containers/{id}/update (docker update): the resource fields of body
 * that are set (non-zero) and RestartPolicy (when it has a Name) replace the
 * record's HostConfig ones; a running container's cgroup gets them at once.
 * *ret_warnings: a JSON array. */
int container_update(struct container_store *s, const char *ref, json_t *body,
                     json_t **ret_warnings, struct berth_err *err);
/* GET /containers/{id}/changes (docker diff): [{"Path","Kind"}] of the
 * container's writable layer, sorted by path; Kind 0 modified, 1 added,
 * 2 deleted. */
int container_changes(struct container_store *s, const char *ref, json_t **ret,
                      struct berth_err *err);
/* GET /containers/{id}/top: {"Titles":[..],"Processes":[[..],..]} from /proc. */
int container_top(struct container_store *s, const char *ref, json_t **ret, struct berth_err *err);
int container_resize(struct container_store *s, const char *ref, int h, int w,
                     struct berth_err *err);

/* POST /networks/{net}/connect and /disconnect for the container ref
 * (container-network.c). */
int container_network_connect(struct container_store *s, const char *net, const char *ref,
                              json_t *endpoint_config, struct berth_err *err);
int container_network_disconnect(struct container_store *s, const char *net, const char *ref,
                                 struct berth_err *err);

/* DELETE /containers/{parent/alias}?link=1: remove the legacy link alias
 * of parent (container-network.c). */
int container_link_remove(struct container_store *s, const char *link, struct berth_err *err);

/* Counts for /info. */
void container_counts(struct container_store *s, int64_t *total, int64_t *running, int64_t *paused,
                      int64_t *stopped);

/* How many containers use image_id; the first one's ID in ret_container. */
int container_image_usage(void *userdata, const char *image_id, char *ret_container,
                          size_t ret_len);

/* Names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (with an optional leading '/'). */
bool container_name_valid(const char *name);
/* A random "adjective_noun" name; from the fourth attempt on, with a
 * number appended, so that drawing again always finds a free one. */
char *container_name_generate(unsigned attempt);

#endif
