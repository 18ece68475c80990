/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_VOLUME_VOLUME_H
#define BERTH_VOLUME_VOLUME_H

/* Volumes: the engine's records of them, and the mounts of containers.
 *
 * A volume's data and options belong to its driver; the engine keeps a
 * record per volume (name, driver, labels, options as given, creation time)
 * at <data-root>/volume-meta/NAME.json, written atomically. Which containers
 * use a volume is not stored twice: the container layer answers it from
 * the containers' records ("Mounts" entries of Type "volume") through the
 * users callback, so it cannot drift from them.
 *
 * Errors follow the Engine API: -ENOENT "get x: no such volume" (404),
 * -EBUSY "remove x: volume is in use - [ids]" (409), -EINVAL (400). */

#include <stdbool.h>
#include "base/config.h"
#include "base/json.h"
#include "driver/driver.h"

struct volume_store;

/* The label Docker puts on volumes it makes up (rm -v, prune). */
#define VOLUME_LABEL_ANONYMOUS "com.docker.volume.anonymous"

int volume_store_open(struct berth_config *cfg, const struct driver_set *drivers,
                      struct volume_store **ret, struct berth_err *err);

/* Which containers use volume `name`: the IDs of those whose records mount
 * it, and of those named in `pins` (a JSON array of IDs, may be NULL) whose
 * records exist; NULL when none. Called with the volume store's lock held. */
typedef char **(*volume_users_fn)(void *userdata, const char *name, json_t *pins);
/* Until it is set, no volume has users. */
void volume_store_set_users_fn(struct volume_store *s, volume_users_fn fn, void *userdata);
struct volume_store *volume_store_close(struct volume_store *s);

/* POST /volumes/create. body: {"Name","Driver","DriverOpts","Labels"}; an
 * existing name with the same driver returns the existing volume. */
int volume_create(struct volume_store *s, json_t *body, json_t **ret, struct berth_err *err);
/* GET /volumes/{name} */
int volume_inspect(struct volume_store *s, const char *name, json_t **ret, struct berth_err *err);
/* GET /volumes: {"Volumes":[..],"Warnings":null} */
int volume_list(struct volume_store *s, const char *filters, json_t **ret, struct berth_err *err);
/* DELETE /volumes/{name}[?force]: refused while a container uses it. force
 * only makes a missing volume not an error, as in Docker. */
int volume_remove(struct volume_store *s, const char *name, bool force, struct berth_err *err);
/* POST /volumes/prune: {"VolumesDeleted":[..],"SpaceReclaimed":N}. Without
 * an "all" filter, api_ge_142 decides: only anonymous volumes (1.42+) or all. */
int volume_prune(struct volume_store *s, const char *filters, bool api_ge_142, json_t **ret,
                 struct berth_err *err);
/* GET /system/df's Volumes: each volume with UsageData {Size, RefCount}. */
json_t *volume_df(struct volume_store *s);
/* Names of the containers (IDs) that use a volume; NULL when none. */
char **volume_users(struct volume_store *s, const char *name);
/* For container mounts: find or create a volume (name NULL or "": an
 * anonymous one with a generated name); *ret_created says which. pin: the
 * ID of the container being created with it (counted as a user while its
 * record exists), or NULL. */
int volume_ensure(struct volume_store *s, const char *name, const char *driver, json_t *opts,
                  json_t *labels, const char *pin, bool *ret_created, char **ret_name,
                  struct berth_err *err);
int volume_driver_of(struct volume_store *s, const char *name, char **ret_driver,
                     struct berth_err *err);
bool volume_is_anonymous(struct volume_store *s, const char *name);
/* Remove a volume that no container but `container` uses (the one being
 * removed, or whose create is undone). */
int volume_remove_for(struct volume_store *s, const char *name, const char *container,
                      struct berth_err *err);
/* Drop the pins of a container whose create is being undone. */
void volume_unpin(struct volume_store *s, const char *id);
/* Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool volume_name_valid(const char *name);

/* ps --filter volume=X: whether one of `mounts` (a container's Mounts) has
 * a value of `values` as its volume name or its destination. */
bool volume_filter_match(json_t *values, json_t *mounts);

/* The /volumes handlers (api-volume.c). */
struct api_request;
int api_volume_create(struct api_request *req, struct berth_err *err);
int api_volume_list(struct api_request *req, struct berth_err *err);
int api_volume_inspect(struct api_request *req, struct berth_err *err);
int api_volume_remove(struct api_request *req, struct berth_err *err);
int api_volume_prune(struct api_request *req, struct berth_err *err);

/* --- container mounts (volume-mount.c) --------------------------------------- */

/* One mount of a container, from -v (Binds), --mount (Mounts), --tmpfs,
 * --volumes-from or the image's VOLUME. */
struct mount_spec {
        char *type;   /* "volume", "bind", "tmpfs" */
        char *source; /* volume name (NULL: anonymous) or host path */
        char *target;
        bool readonly;
        char *mode;        /* -v's third field as given, for inspect's Mode */
        char *propagation; /* NULL: rprivate for binds */
        bool nocopy;
        bool bind_create; /* -v: create a missing host directory */
        char *driver;     /* volume driver, NULL: the default */
        json_t *driver_opts;
        json_t *labels;
        int64_t tmpfs_size; /* bytes, 0: none */
        int tmpfs_mode;     /* 0: none */
        bool inherited;     /* from --volumes-from: the container's own mounts override it */
};
void mount_spec_done(struct mount_spec *m);
/* "-v" syntax: NAME:/dst[:opts], /src:/dst[:opts], /dst (anonymous). */
int mount_spec_parse_bind(const char *s, struct mount_spec *ret, struct berth_err *err);
/* One entry of HostConfig.Mounts (what --mount sends). */
int mount_spec_parse_api(json_t *m, struct mount_spec *ret, struct berth_err *err);

/* At container create: check every mount spec of the record being made
 * (cfg: its Config, hc: its HostConfig), then create the volumes it needs
 * (named ones that do not exist yet, anonymous ones) and missing -v host
 * directories. from: for each entry of HostConfig.VolumesFrom, the
 * "Mounts" of that container (the caller looks them up). *ret_mounts gets
 * the inspect "Mounts" array. All or nothing. */
int volume_container_create(struct volume_store *vs, const char *id, json_t *cfg, json_t *hc,
                            json_t *from, json_t **ret_mounts, struct berth_err *err);
/* At start, with the rootfs mounted: mount the volumes through their
 * drivers, fill empty ones from the image, and append the OCI mounts to
 * spec["mounts"]. On failure what was mounted is released again. */
int volume_container_start(struct volume_store *vs, json_t *rec, const char *rootfs, json_t *spec,
                           struct berth_err *err);
/* The container stopped: release its volume mounts. */
void volume_container_stop(struct volume_store *vs, json_t *rec);
/* The container is removed: with anonymous, remove its anonymous volumes
 * that no other container uses (rm -v, --rm). */
void volume_container_remove(struct volume_store *vs, json_t *rec, bool anonymous);
/* After a daemon restart, for a running container: mount its volumes
 * again, so that the drivers count it as a user (the last user leaving,
 * not the first, releases a mount). */
void volume_mounts_restore(struct volume_store *vs, const char *id, json_t *mounts);

#endif
