/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_IMAGE_IMAGE_H
#define BERTH_IMAGE_IMAGE_H

/*
 * The image store: the engine-side API behind the image endpoints and
 * commands. Plain C over jansson values; no HTTP, no printing.
 *
 * On disk, under <data_root>/image/<storage driver name> (one store per
 * driver, as Docker does: switching drivers neither shows nor removes the
 * other driver's images):
 *   blobs/sha256/<hex>      content, named by its sha256, verified as written:
 *                           image configs (the image ID is the config's digest,
 *                           as in Docker) and the uncompressed layer tars (kept
 *                           so that save reproduces the exact diff IDs)
 *   layers/<chain hex>.json a layer record: diff ID, chain ID, parent chain ID,
 *                           the storage driver's id ("cache id") and size
 *   images/<id hex>.json    an image record; written after its layers and its
 *                           config, so that an image that is listed is whole
 *   repositories.json       references ("docker.io/library/busybox:latest")
 *                           to image IDs
 *   tmp/                    temp files and pending-layer markers; emptied by
 *                           image_store_open(), which also removes layers no
 *                           image uses and blobs nothing refers to
 * Every file is written as temp file + fsync + rename.
 *
 * Layer reference counts are computed from the image records at open and
 * kept in memory: a layer goes when the last image using it goes.
 *
 * Errors: 0 or -errno, with the cause in *err. A missing image is -ENOENT
 * with "No such image: REF" (the text Docker clients look for); an image in
 * use is -EBUSY with Docker's "conflict: ..." wording.
 *
 * Thread safety: every function takes the store's lock; callers may share a
 * store between threads.
 */

#include <jansson.h>
#include <stdbool.h>

#include "driver/driver.h"
#include "base/err.h"

struct image_store;

/* Open (creating if needed) the store under data_root, using the loaded
 * storage driver `storage`, and repair what a crash left behind. */
int image_store_open(const char *data_root, struct driver *storage, struct image_store **ret_store,
                     struct berth_err *err);
struct image_store *image_store_close(struct image_store *s);

/* How many containers use an image; wired by the container subsystem so that
 * remove and prune refuse (or, with force, only untag) images in use.
 * Without it, no image is in use. */
typedef int (*image_usage_fn)(void *userdata, const char *image_id, char *ret_container,
                              size_t ret_len);
void image_store_set_usage_fn(struct image_store *s, image_usage_fn fn, void *userdata);

/* --- load / save / import ------------------------------------------------ */

/* A progress/result line of load or import ("Loaded image: busybox:latest"),
 * for the {"stream": "...\n"} messages of POST /images/load. */
typedef void (*image_progress_fn)(void *userdata, const char *line);

/* Read a docker-archive (docker save) or an OCI image layout, as a tar stream
 * (possibly compressed) from tar_fd until EOF, and add its images. Either
 * everything is loaded or (on any error) nothing is. *ret_results (if not
 * NULL) receives a JSON array of the lines also sent to progress. */
int image_load(struct image_store *s, int tar_fd, image_progress_fn progress, void *userdata,
               json_t **ret_results, struct berth_err *err);

#define IMAGE_SAVE_DOCKER 0u /* docker-archive + OCI layout in one tar (what docker 25+ writes) */
#define IMAGE_SAVE_OCI    1u /* OCI image layout only */
/* Write the images named by refs (NULL-terminated; names, IDs, digests) as
 * one tar to out_fd. Names keep their tags in the archive; IDs save untagged. */
int image_save(struct image_store *s, const char *const *refs, int out_fd, uint32_t format,
               struct berth_err *err);

/* A rootfs tarball (plain or compressed) from tar_fd to a one-layer image.
 * `ref` ("repo[:tag]", or NULL) tags it; `changes` (NULL-terminated,
 * "CMD [\"sh\"]", "ENV A=b", "WORKDIR /x", "ENTRYPOINT ...", "USER",
 * "EXPOSE", "LABEL", "VOLUME", "STOPSIGNAL") edit the config; `message` goes
 * into the history. *ret_id receives "sha256:<hex>". */
int image_import(struct image_store *s, int tar_fd, const char *ref, const char *const *changes,
                 const char *message, char **ret_id, struct berth_err *err);

/* For pull and build: add an image from its config bytes and its layer
 * tars (plain or compressed files, bottom first), checking each layer's
 * uncompressed digest against the config's diff IDs as load does. Files in
 * the store's tmp/ (see image_store_tmpfile) are moved into the store, so
 * download there; other files are only read. `names` (NULL-terminated, may
 * be NULL) become tags, or RepoDigests for "name@sha256:..." (the manifest
 * digest of a pull). All or nothing, like load. */
int image_add(struct image_store *s, const char *config, size_t config_len,
              const char *const *layer_paths, const char *const *names, char **ret_id,
              struct berth_err *err);
/* commit: a new image from `base_id` plus the writable layer of container
 * `container_id` (the storage driver's diff; none, with an empty_layer
 * history entry, when the container changed nothing), its config taken
 * from the container's Config (Docker's shape) edited by `changes`; tagged
 * `ref` ("repo[:tag]") or dangling. Its parent is `base_id`, as in Docker:
 * rmi of the commit prunes an untagged base. */
int image_commit_container(struct image_store *s, const char *base_id, struct driver *storage,
                           const char *container_id, json_t *container_config,
                           const char *const *changes, const char *comment, const char *author,
                           const char *ref, char **ret_id, struct berth_err *err);
/* For the builder: a child of `parent_id` (NULL: FROM scratch), one build
 * step. Its config is the parent's (rootfs, history, os, architecture kept;
 * scratch: the host's os/architecture and no layers) with:
 *  - "config" replaced by a copy of `config` (Docker's container Config
 *    shape: Env, Cmd, Entrypoint, WorkingDir, User, Labels, ExposedPorts,
 *    Volumes, StopSignal, Healthcheck, OnBuild, Shell ...);
 *  - "container_config" a copy of `container_config` (may be NULL: none),
 *    whose Cmd is the step's cache text, as Docker's classic builder writes;
 *  - "container" = `container_id` (NULL: none, the parent's is dropped);
 *  - "created" now; "author" = `author` when not NULL (else the parent's);
 *    "comment" left out;
 *  - one history entry {created, created_by, author?, comment?,
 *    empty_layer: true when there is no new layer};
 *  - with `layer_tar` (an uncompressed layer tar) one more diff ID; a tar
 *    with no entries (its first 512-byte block all zero, or shorter than
 *    that) counts as no layer (empty_layer), as Docker does.
 * A layer_tar in the store's tmp/ (see image_store_tmpfile) is always
 * consumed: moved into the store, or removed (empty tar, an identical
 * layer already there, or failure). A file elsewhere is copied and left.
 * The image's record names `parent_id` as its parent (image ls hides it
 * once it has children; rmi of a child prunes it). Existing layers are not
 * read or hashed again: the cost is the new layer alone. On failure nothing
 * new stays in the store. -ENOENT "No such image" if the parent is gone.
 * *ret_id gets "sha256:<hex>"; the same config twice gives the same image. */
struct image_child {
        const char *parent_id;
        json_t *config;
        json_t *container_config;
        const char *container_id;
        const char *created_by;
        const char *author;
        const char *comment;
        const char *layer_tar;
};
int image_add_child(struct image_store *s, const struct image_child *c, char **ret_id,
                    struct berth_err *err);
/* The config of an image (the whole JSON document the ID is the digest of),
 * as a new reference (a copy: the caller may edit it). */
int image_config(struct image_store *s, const char *image_id, json_t **ret, struct berth_err *err);
/* Image ID -> the bytes of its layers no other image holds, plus whether it
 * has names or children or a container; for the build cache's df and prune. */
struct image_usage {
        bool tagged; /* has a name (a tag or a digest reference) */
        bool has_children;
        bool in_use;      /* a container uses it (image_store_set_usage_fn) */
        int64_t own_size; /* bytes of the top layer when no other image uses it; else 0 */
};
int image_usage(struct image_store *s, const char *image_id, struct image_usage *ret,
                struct berth_err *err);
/* The stored tar of the layer whose diff ID is diff_id (for the builder's
 * --cache-from, which takes a layer of another image). */
int image_layer_path(struct image_store *s, const char *diff_id, char **ret, struct berth_err *err);
/* A new temp file in the store
 (same filesystem, removed by the next open
 * if left behind): returns the fd, its path in *ret_path. */
int image_store_tmpfile(struct image_store *s, char **ret_path, struct berth_err *err);

/* --- queries ----------------------------------------------------------- */

/* Resolve a reference (name[:tag], name@digest, full or short ID) to an
 * image ID "sha256:<hex>". -ENOENT "No such image: REF". */
int image_resolve(struct image_store *s, const char *ref, char **ret_id, struct berth_err *err);

struct image_list_opts {
        bool all;            /* -a: include intermediate images */
        bool digests;        /* (RepoDigests are always filled) */
        const char *filters; /* the API's filters JSON: reference, dangling, label, before, since */
};
/* GET /images/json: an array of Docker's image summary objects. */
int image_list(struct image_store *s, const struct image_list_opts *opts, json_t **ret,
               struct berth_err *err);

/* GET /images/{name}/json: Docker's inspect object (with ContainerConfig). */
int image_inspect(struct image_store *s, const char *ref, json_t **ret, struct berth_err *err);

/* GET /images/{name}/history: [{Id, Created, CreatedBy, Tags, Size, Comment}]. */
int image_history(struct image_store *s, const char *ref, json_t **ret, struct berth_err *err);

/* --- changes ----------------------------------------------------------- */

/* POST /images/{name}/tag?repo=&tag=: `target` is "repo[:tag]" (tag
 * defaults to latest); -EINVAL for an invalid reference. */
int image_tag(struct image_store *s, const char *source, const char *target, struct berth_err *err);

/* DELETE /images/{name}: the [{"Untagged":..},{"Deleted":..}] array.
 * By name with other names on the image: untag only. By ID (or the last
 * name): delete, and the layers no other image uses. `force` deletes an
 * image with several names by ID, and untags an image in use by a container
 * (which stays, dangling). `noprune` keeps untagged parents. */
int image_remove(struct image_store *s, const char *ref, bool force, bool noprune, json_t **ret,
                 struct berth_err *err);

/* POST /images/prune: {"ImagesDeleted": [...] | null, "SpaceReclaimed": N}.
 * `filters` is the API's JSON: dangling (true: only dangling - the default;
 * false: every unused image), until, label. */
int image_prune(struct image_store *s, const char *filters, json_t **ret, struct berth_err *err);

/* --- figures ------------------------------------------------------------ */

/* For GET /system/df: {"LayersSize": N, "Images": [summary + Containers,
 * SharedSize]}. Shared layers are counted once in LayersSize. */
int image_df(struct image_store *s, json_t **ret, struct berth_err *err);

/* The storage id and top layer of an image, for the container subsystem to
 * create a container layer on: `ret_cache_id` is the driver id of the top
 * layer (NULL for an image without layers). */
int image_top_layer(struct image_store *s, const char *image_id, char **ret_cache_id,
                    struct berth_err *err);

/* Number of images (for GET /info "Images"). */
size_t image_count(struct image_store *s);

/* --- references (image-ref.c) ------------------------------------------- */

struct image_ref {
        char *domain; /* "docker.io", "localhost:5000" */
        char *path;   /* "library/busybox", "a/b" */
        char *tag;    /* "latest" (default when no digest), or NULL */
        char *digest; /* "sha256:<hex>" or NULL */
};
/* Parse and normalise as Docker does: "busybox" -> docker.io/library/busybox:latest.
 * -EINVAL naming what is wrong. */
int image_ref_parse(const char *s, struct image_ref *ret, struct berth_err *err);
void image_ref_done(struct image_ref *r);
/* The longest repository name, counted as stored ("docker.io/library/x"). */
#define IMAGE_NAME_MAX 255
/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
bool image_tag_valid(const char *tag);
/* "repo:tag" from a repository and a tag given apart (the tag, commit and
 * import endpoints; pull's tag); the tag is checked by itself, so that a tag
 * of "a/b" or "5000/x" cannot make another name. An empty tag gives repo.
 * -EINVAL "invalid tag format". */
int image_ref_join(const char *repo, const char *tag, char **ret, struct berth_err *err);
/* "docker.io/library/busybox:latest" (full) */
char *image_ref_full(const struct image_ref *r);
/* The repository without tag/digest, fully qualified: "docker.io/library/busybox" */
char *image_ref_repo(const struct image_ref *r);
/* How Docker displays a full reference: "busybox:latest", "myrepo/bb:v1",
 * "localhost:5000/a/b:tag" (docker.io/ and library/ dropped). */
char *image_ref_familiar(const char *full);

#endif
