/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_CACHE_H
#define BERTH_BUILD_BUILD_CACHE_H

/* The build cache: a persistent index from a step's key to the image the
 * step made. Docker's classic builder finds a cached step by walking the
 * children of the parent image and comparing their container configs (the
 * whole store for FROM scratch); berth keeps the key -> image map on disk
 * instead, so that a hit is one lookup however many images there are.
 *
 * The key is the executor's (build-run.c): sha256 over the parent image ID,
 * the step's cache text (Docker's ContainerConfig.Cmd), the compared config
 * fields, the build args the step uses and the digest of COPY/ADD sources.
 *
 * On disk, <data_root>/build/cache/<key hex>: one small JSON file per entry
 * {"image": "sha256:...", "parent": "sha256:..."|null, "created": ns,
 *  "last_used": ns, "uses": N, "description": "the instruction"},
 * written atomically (temp file + rename). Entries whose image is gone are
 * dropped when met. The index is loaded at open (entries in memory, a few
 * hundred bytes each).
 *
 * Size: an entry's size is the bytes of the image's top layer that only
 * the cache keeps (the image is untagged, has no children, no container
 * uses it); what /system/df reports and what prune can reclaim.
 *
 * Thread safety: every function takes the cache's lock, and under it the
 * image store's (never the other way round). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"

struct build_cache;
struct image_store;

/* Open (creating <data_root>/build/cache). max_bytes: [build] cache-max
 * (0: no bound). */
int build_cache_open(const char *data_root, struct image_store *images, uint64_t max_bytes,
                     struct build_cache **ret, struct berth_err *err);
struct build_cache *build_cache_close(struct build_cache *c);

/* 1 and *ret_id ("sha256:...") on a hit whose image still exists (its use
 * recorded), 0 on a miss. key: 64 lower-case hex. */
int build_cache_get(struct build_cache *c, const char *key, char **ret_id);
/* Record key -> image_id (replacing an older entry). */
int build_cache_put(struct build_cache *c, const char *key, const char *image_id,
                    const char *parent_id, const char *description, struct berth_err *err);

/* GET /system/df: Docker's "BuildCache" array, one object per entry:
 * {ID (the key's first 25 hex), Parent (the ID of the entry that made
 *  the parent image, or ""), Type "regular", Description, InUse (a
 *  container uses the image), Shared (true when the image is tagged or has
 *  children), Size, CreatedAt, LastUsedAt (RFC 3339), UsageCount (the put
 *  counts as one use)}, and the total of the Size fields in *ret_size. */
int build_cache_df(struct build_cache *c, json_t **ret, int64_t *ret_size, struct berth_err *err);

/* POST /build/prune (docker builder prune): remove entries, oldest use
 * first, and the images only the cache kept (untagged, childless, unused;
 * repeated, since removing one can free its parent; images only the cache
 * keeps go before the others, so that a chain goes from its head down):
 *  - all: every entry; otherwise only entries whose image only the cache
 *    keeps ("dangling" cache, Docker's default);
 *  - keep_storage > 0: stop once what is left is at most that many bytes;
 *  - filters: the API's JSON; "until" (a timestamp or Go duration: entries
 *    last used before it), "id" (a prefix of the key), "description" (a
 *    substring); others -EINVAL.
 * *ret: {"CachesDeleted": [ids] | null, "SpaceReclaimed": N}. */
int build_cache_prune(struct build_cache *c, bool all, int64_t keep_storage, const char *filters,
                      json_t **ret, struct berth_err *err);

/* After a build: keep the cache within max_bytes, collecting the oldest
 * used entries first (as a prune with keep_storage = max_bytes). */
int build_cache_gc(struct build_cache *c, struct berth_err *err);

#endif
