/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_IMAGE_IMAGE_INTERNAL_H
#define BERTH_IMAGE_IMAGE_INTERNAL_H

/* Shared between the image-*.c files; not for other subsystems. */

#include <pthread.h>

#include "image.h"
#include "base/sha256.h"

#define _cleanup_json_p_ _cleanup_(json_decrefp)

/* Limits on what an archive may make us hold in memory. */
#define IMAGE_JSON_MAX (16u << 20) /* manifest.json, index.json, a config */

struct layer {
        char *chain_id; /* sha256:<hex> */
        char *diff_id;  /* sha256:<hex> of the uncompressed tar */
        char *parent;   /* chain id, or NULL */
        char *cache_id; /* the storage driver's id */
        int64_t size;   /* bytes of file content */
        unsigned refs;  /* images whose rootfs includes it (computed at open) */
};

struct image {
        char *id; /* sha256:<hex> of the config */
        json_t *config;
        char **chain;       /* chain ids, bottom first */
        char *parent;       /* image id or NULL */
        int64_t created_ns; /* the config's "created" */
        int64_t loaded_ns;
        int64_t last_tag_ns;
};

struct image_store {
        char *root; /* <data_root>/image */
        char *blobs, *layers_dir, *images_dir, *tmp;
        struct driver *drv;
        struct image **images;
        size_t n_images;
        struct layer **layers;
        size_t n_layers;
        json_t *refs; /* "docker.io/library/busybox:latest" -> "sha256:<id>" */
        pthread_mutex_t lock;
        image_usage_fn usage_fn;
        void *usage_ud;
};

char *blob_path(struct image_store *s, const char *digest);
/* Store bytes as a blob; if `expect` is not NULL the digest must match. */
int blob_put(struct image_store *s, const void *p, size_t n, const char *expect,
             char ret_digest[72], struct berth_err *err);
/* Move a temp file (in s->tmp, already hashed to `digest`) into the blobs. */
int blob_adopt(struct image_store *s, const char *tmp_path, const char *digest,
               struct berth_err *err);
int blob_read(struct image_store *s, const char *digest, char **ret, size_t *ret_len,
              struct berth_err *err);

/* A new temp file under s->tmp: returns its fd, path in *ret_path. */
int store_tmpfile(struct image_store *s, const char *prefix, char **ret_path,
                  struct berth_err *err);
int fsync_path(const char *path);

struct layer *layer_find(struct image_store *s, const char *chain_id);
void chain_id_next(const char *parent_chain, const char *diff_id, char ret[72]);
/* Create and fill a layer from an uncompressed tar file (tar_path, already
 * hashed to diff_id; adopted into the blobs on success), on `parent` (a
 * chain id or NULL). If the layer exists already, nothing is done. */
int layer_add(struct image_store *s, const char *tar_path, const char *diff_id, const char *parent,
              struct layer **ret, bool *ret_created, struct berth_err *err);
/* Remove a layer with no references, its driver layer and its tar blob. */
int layer_delete(struct image_store *s, struct layer *l, struct berth_err *err);

struct image *image_find(struct image_store *s, const char *id);
/* An image by reference, ID or unambiguous ID prefix; -ENOENT "No such
 * image: REF". */
int image_resolve_locked(struct image_store *s, const char *ref, struct image **ret,
                         struct berth_err *err);
/* Record an image whose layers exist: config bytes (their digest is the
 * ID), optional parent image id. Refs of the layers are taken. If the image
 * exists, returns it. */
int image_commit(struct image_store *s, const char *config, size_t config_len, const char *parent,
                 struct image **ret, struct berth_err *err);
/* Drop an image record (refs must be gone) and release its layers. */
int image_delete(struct image_store *s, struct image *img, int64_t *ret_freed,
                 struct berth_err *err);
/* Validate a config: JSON object with rootfs.type "layers" and diff_ids. */
int config_check(json_t *cfg, const char *what, struct berth_err *err);
/* Apply one Dockerfile-style change ("CMD [\"sh\"]", "ENV A=b", ...) to a
 * config's "config" object (image-import.c). */
int image_apply_change(json_t *cfg, const char *change, struct berth_err *err);

int refs_save(struct image_store *s, struct berth_err *err);
/* Point `full` at `id`; the image that had it loses it. */
int ref_set(struct image_store *s, const char *full, const char *id, struct berth_err *err);
/* Names (full) pointing at an image, sorted. */
char **image_names(struct image_store *s, const char *id);
int64_t image_size(struct image_store *s, const struct image *img);

/* Child images (image-child.c), for image_add_child and commit. Without
 * the lock: hash a new layer tar; *ret_tar is a file in tmp/ (the given
 * one when it lies there, else a copy), or NULL when the tar has no
 * entries; a tar in tmp/ that is not used is removed, also on failure. */
int child_layer_prepare(struct image_store *s, const char *path, char **ret_tar, char ret_diff[72],
                        struct berth_err *err);
/* With the lock: add the layer `tar` (from child_layer_prepare; NULL: none)
 * on the top layer of `parent_id` (NULL: none), append its diff ID to cfg,
 * and record cfg as an image whose parent is parent_id, tagged full_ref
 * (a full reference, or NULL). On failure what it made is undone; the tar
 * file is gone either way. */
int child_commit_locked(struct image_store *s, const char *parent_id, json_t *cfg, const char *tar,
                        const char *diff_id, const char *full_ref, char **ret_id,
                        struct berth_err *err);
/* A history entry; empty_layer when the step added no layer. */
json_t *child_history_entry(const char *now, const char *created_by, const char *author,
                            const char *comment, bool empty_layer);
void child_history_append(json_t *cfg, json_t *entry);

/* RFC 3339 time parsing/formatting */
char *format_rfc3339_ns(int64_t ns);

#endif
