/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_IMAGE_IMAGE_PULL_H
#define BERTH_IMAGE_IMAGE_PULL_H

/* The image store's side of pull and push (image-pull.c). */

#include "image.h"

/* An image added layer by layer (bottom first), each layer applied as soon
 * as it is given, then recorded and named by image_txn_commit(). Freed
 * without a commit, it removes the layers it created: all or nothing. */
struct image_txn;
int image_txn_begin(struct image_store *s, struct image_txn **ret);
/* A verified, uncompressed layer tar in the store's tmp/ (in a directory of
 * image_store_tmp_dir), whose digest is diff_id (checked to be a digest:
 * it names files); moved into the store (or removed if the store has the
 * layer already). tar_path NULL: a layer the store has. */
int image_txn_layer(struct image_txn *t, const char *tar_path, const char *diff_id,
                    struct berth_err *err);
/* Record the image (its config's diff IDs must be the layers added) and
 * point `names` at it ("repo:tag", "repo@sha256:..."). */
int image_txn_commit(struct image_txn *t, const char *config, size_t config_len,
                     const char *const *names, char **ret_id, struct berth_err *err);
struct image_txn *image_txn_free(struct image_txn *t);

bool image_store_has_chain(struct image_store *s, const char *chain_id);
void image_chain_id(const char *parent_chain, const char *diff_id, char ret[72]);
/* A new directory in the store's tmp/ (same filesystem as the store) for the
 * files of one pull or push, removed with what is in it by
 * image_store_tmp_dir_remove(). Left behind by a crash, the next open of
 * the store removes it. */
int image_store_tmp_dir(struct image_store *s, const char *prefix, char **ret_path,
                        struct berth_err *err);
void image_store_tmp_dir_remove(const char *path);
int image_has(struct image_store *s, const char *id);
/* Point one more name at an existing image. */
int image_add_name(struct image_store *s, const char *id, const char *name, struct berth_err *err);

/* What push sends: the image ID, its config bytes, its diff IDs and the
 * paths of their uncompressed tars, bottom first. */
int image_push_source(struct image_store *s, const char *ref, char **ret_id, char **ret_config,
                      size_t *ret_len, char ***ret_diff_ids, char ***ret_tars,
                      struct berth_err *err);

/* The compressed blob a layer is known as on a registry (recorded by pull
 * and push): {"<domain>": {"digest","size","mediaType","repository"}}. */
json_t *image_dist_get(struct image_store *s, const char *diff_id);
void image_dist_put(struct image_store *s, const char *diff_id, const char *domain,
                    const char *repository, const char *digest, int64_t size,
                    const char *media_type);

#endif
