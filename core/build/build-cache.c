/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build cache index: step key -> image, one small JSON file per entry
 * (build-cache.h), held in memory sorted by key. The images themselves live
 * in the image store; the cache decides which of them only it keeps and
 * removes those when pruned. */
#include "build-cache.h"
#include "base/filters.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/util.h"
#include "image/image.h"

#include <dirent.h>
#include <pthread.h>

#define ID_LEN 25 /* Docker's build cache record IDs are 25 characters */

struct entry {
        char key[65];
        char *image;
        char *parent;
        char *description;
        int64_t created;
        int64_t last_used;
        int64_t uses;
};

struct build_cache {
        char *dir;
        struct image_store *images;
        uint64_t max_bytes;
        struct entry **v; /* sorted by key */
        size_t n;
        pthread_mutex_t lock;
};

static struct entry *entry_free(struct entry *e)
{
        if (e) {
                free(e->image);
                free(e->parent);
                free(e->description);
                free(e);
        }
        return NULL;
}

static bool key_valid(const char *key)
{
        return key && strlen(key) == 64 && strspn(key, "0123456789abcdef") == 64;
}

/* The index of key, or where it would go (*found false). */
static size_t entry_pos(struct build_cache *c, const char *key, bool *found)
{
        size_t lo = 0, hi = c->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int d = strcmp(c->v[mid]->key, key);
                if (d == 0) {
                        *found = true;
                        return mid;
                }
                if (d < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

static void entry_insert(struct build_cache *c, size_t pos, struct entry *e)
{
        c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
        memmove(c->v + pos + 1, c->v + pos, (c->n - pos) * sizeof(*c->v));
        c->v[pos] = e;
        c->n++;
}

static char *entry_path(struct build_cache *c, const char *key)
{
        return xasprintf("%s/%s", c->dir, key);
}

/* Forget the entry at pos, in memory and on disk. */
static void entry_drop(struct build_cache *c, size_t pos)
{
        _cleanup_free_ char *p = entry_path(c, c->v[pos]->key);
        (void)unlink(p);
        entry_free(c->v[pos]);
        memmove(c->v + pos, c->v + pos + 1, (c->n - pos - 1) * sizeof(*c->v));
        c->n--;
}

/* durable: a new entry is written with fsync; a use (last_used, uses) is
 * not worth one per step hit, and losing it costs only LRU order. */
static int entry_save(struct build_cache *c, const struct entry *e, bool durable,
                      struct berth_err *err)
{
        json_t *j =
            json_pack("{s:s, s:s?, s:I, s:I, s:I, s:s}", "image", e->image, "parent", e->parent,
                      "created", (json_int_t)e->created, "last_used", (json_int_t)e->last_used,
                      "uses", (json_int_t)e->uses, "description", strempty(e->description));
        _cleanup_free_ char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!txt)
                return err_set(err, -ENOMEM, "encode build cache entry %s", e->key);
        _cleanup_free_ char *p = entry_path(c, e->key);
        int r = durable ? write_file_atomic(p, txt, strlen(txt), 0600)
                        : write_file_replace(p, txt, strlen(txt), 0600);
        if (r < 0)
                return err_errno(err, r, "write '%s'", p);
        return 0;
}

static struct entry *entry_load(const char *dir, const char *key)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, key);
        json_t *j = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
        const char *image = json_string_value(json_object_get(j, "image"));
        const char *parent = json_string_value(json_object_get(j, "parent"));
        struct entry *e = NULL;
        if (digest_valid(image) && (!parent || digest_valid(parent))) {
                e = xzalloc(sizeof(*e));
                memcpy(e->key, key, 65);
                e->image = xstrdup(image);
                e->parent = parent ? xstrdup(parent) : NULL;
                e->description =
                    xstrdup(strempty(json_string_value(json_object_get(j, "description"))));
                e->created = json_integer_value(json_object_get(j, "created"));
                e->last_used = json_integer_value(json_object_get(j, "last_used"));
                e->uses = json_integer_value(json_object_get(j, "uses"));
        }
        json_decref(j);
        return e;
}

static bool image_gone(struct build_cache *c, const char *id)
{
        _cleanup_free_ char *have = NULL;
        return image_resolve(c->images, id, &have, NULL) == -ENOENT;
}

int build_cache_open(const char *data_root, struct image_store *images, uint64_t max_bytes,
                     struct build_cache **ret, struct berth_err *err)
{
        struct build_cache *c = xzalloc(sizeof(*c));
        c->dir = xasprintf("%s/build/cache", data_root);
        c->images = images;
        c->max_bytes = max_bytes;
        pthread_mutex_init(&c->lock, NULL);
        int r = mkdir_p(c->dir, 0700);
        if (r < 0) {
                err_errno(err, r, "create '%s'", c->dir);
                build_cache_close(c);
                return r;
        }
        _cleanup_closedir_ DIR *d = opendir(c->dir);
        if (!d) {
                r = err_errno(err, -errno, "open '%s'", c->dir);
                build_cache_close(c);
                return r;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct entry *e = key_valid(de->d_name) ? entry_load(c->dir, de->d_name) : NULL;
                if (!e || image_gone(c, e->image)) {
                        /* a temp file left by a crash, a damaged entry, or
                         * one whose image was removed */
                        entry_free(e);
                        (void)unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                bool found;
                size_t pos = entry_pos(c, e->key, &found);
                entry_insert(c, pos, e);
        }
        *ret = c;
        return 0;
}

struct build_cache *build_cache_close(struct build_cache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++)
                entry_free(c->v[i]);
        free(c->v);
        free(c->dir);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

int build_cache_get(struct build_cache *c, const char *key, char **ret_id)
{
        if (!key_valid(key))
                return 0;
        pthread_mutex_lock(&c->lock);
        bool found;
        size_t pos = entry_pos(c, key, &found);
        int r = 0;
        if (found && image_gone(c, c->v[pos]->image)) {
                entry_drop(c, pos);
                found = false;
        }
        if (found) {
                struct entry *e = c->v[pos];
                e->last_used = now_ns();
                e->uses++;
                (void)entry_save(c, e, false, NULL); /* a lost use only reorders the LRU */
                *ret_id = xstrdup(e->image);
                r = 1;
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

int build_cache_put(struct build_cache *c, const char *key, const char *image_id,
                    const char *parent_id, const char *description, struct berth_err *err)
{
        if (!key_valid(key))
                return err_set(err, -EINVAL, "invalid build cache key '%s'", strempty(key));
        if (!digest_valid(image_id) || (parent_id && !digest_valid(parent_id)))
                return err_set(err, -EINVAL, "invalid image ID '%s' for the build cache",
                               !digest_valid(image_id) ? strempty(image_id) : parent_id);
        struct entry *e = xzalloc(sizeof(*e));
        memcpy(e->key, key, 65);
        e->image = xstrdup(image_id);
        e->parent = parent_id ? xstrdup(parent_id) : NULL;
        e->description = xstrdup(strempty(description));
        e->created = e->last_used = now_ns();
        e->uses = 1;
        pthread_mutex_lock(&c->lock);
        int r = entry_save(c, e, true, err);
        if (r < 0) {
                entry_free(e);
        } else {
                bool found;
                size_t pos = entry_pos(c, key, &found);
                if (found) {
                        entry_free(c->v[pos]);
                        c->v[pos] = e;
                } else
                        entry_insert(c, pos, e);
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* What the image store says about an entry's image. */
struct state {
        bool gone;
        bool only_cache; /* untagged, no children, no container: only the cache keeps it */
        bool shared;     /* tagged or has children */
        bool in_use;
        int64_t size; /* bytes that go with the image; 0 unless only_cache */
};

static struct state entry_state(struct build_cache *c, const struct entry *e)
{
        struct image_usage u;
        struct state st = {0};
        int r = image_usage(c->images, e->image, &u, NULL);
        if (r < 0) {
                st.gone = r == -ENOENT;
                return st;
        }
        st.shared = u.tagged || u.has_children;
        st.in_use = u.in_use;
        st.only_cache = !st.shared && !u.in_use;
        st.size = st.only_cache ? u.own_size : 0;
        return st;
}

/* Drop the entries whose image is gone; fill states[] for the others. */
static struct state *refresh(struct build_cache *c)
{
        struct state *st = xzalloc((c->n + 1) * sizeof(*st));
        for (size_t i = 0; i < c->n;) {
                st[i] = entry_state(c, c->v[i]);
                if (st[i].gone) {
                        entry_drop(c, i);
                        continue;
                }
                i++;
        }
        return st;
}

static char *entry_id(const struct entry *e)
{
        return xstrndup(e->key, ID_LEN);
}

int build_cache_df(struct build_cache *c, json_t **ret, int64_t *ret_size, struct berth_err *err)
{
        (void)err;
        pthread_mutex_lock(&c->lock);
        _cleanup_free_ struct state *st = refresh(c);
        json_t *a = json_array();
        int64_t total = 0;
        for (size_t i = 0; i < c->n; i++) {
                struct entry *e = c->v[i];
                _cleanup_free_ char *id = entry_id(e), *parent = NULL;
                /* the entry that made this one's parent image */
                for (size_t j = 0; e->parent && !parent && j < c->n; j++)
                        if (streq(c->v[j]->image, e->parent))
                                parent = entry_id(c->v[j]);
                _cleanup_free_ char *created = json_time_ns(e->created),
                                    *used = json_time_ns(e->last_used);
                json_array_append_new(
                    a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:s, s:s, s:I}", "ID", id,
                                 "Parent", strempty(parent), "Type", "regular", "Description",
                                 strempty(e->description), "InUse", st[i].in_use, "Shared",
                                 st[i].shared, "Size", (json_int_t)st[i].size, "CreatedAt", created,
                                 "LastUsedAt", used, "UsageCount", (json_int_t)e->uses));
                total += st[i].size;
        }
        pthread_mutex_unlock(&c->lock);
        *ret = a;
        if (ret_size)
                *ret_size = total;
        return 0;
}

static bool filter_match(json_t *f, const struct entry *e, int64_t until_ns)
{
        if (e->last_used >= until_ns)
                return false;
        json_t *ids = filters_get(f, "id");
        if (json_array_size(ids)) {
                bool ok = false;
                size_t i;
                json_t *v;
                json_array_foreach (ids, i, v) {
                        const char *want = json_string_value(v);
                        ok |= !isempty(want) && startswith(e->key, want) != NULL;
                }
                if (!ok)
                        return false;
        }
        json_t *descs = filters_get(f, "description");
        if (json_array_size(descs)) {
                bool ok = false;
                size_t i;
                json_t *v;
                json_array_foreach (descs, i, v)
                        ok |= strstr(strempty(e->description), strempty(json_string_value(v))) !=
                              NULL;
                if (!ok)
                        return false;
        }
        return true;
}

/* Remove the image of a dangling entry, and then its parents that no entry
 * names and nothing else keeps (as rmi prunes untagged parents; the parents
 * that are entries themselves wait for their turn in the LRU order).
 * Returns the bytes freed; an image that became busy meanwhile stays. */
static int64_t remove_image(struct build_cache *c, const char *image_id, int64_t size)
{
        _cleanup_free_ char *id = xstrdup(image_id);
        int64_t freed = 0;
        while (id) {
                _cleanup_free_ char *parent = NULL;
                json_t *info = NULL;
                if (image_inspect(c->images, id, &info, NULL) == 0) {
                        const char *p = json_string_value(json_object_get(info, "Parent"));
                        parent = isempty(p) ? NULL : xstrdup(p);
                        json_decref(info);
                }
                json_t *out = NULL;
                if (image_remove(c->images, id, false, true, &out, NULL) < 0)
                        break; /* in use or a child appeared: it stays */
                json_decref(out);
                freed += size;
                free(id);
                id = NULL;
                if (!parent)
                        break;
                bool named = false;
                for (size_t i = 0; i < c->n && !named; i++)
                        named = streq(c->v[i]->image, parent);
                struct image_usage u;
                if (named || image_usage(c->images, parent, &u, NULL) < 0 || u.tagged ||
                    u.has_children || u.in_use)
                        break;
                size = u.own_size;
                id = TAKE_PTR(parent);
        }
        return freed;
}

static int prune_locked(struct build_cache *c, bool all, int64_t keep_storage, json_t *f,
                        int64_t until_ns, json_t *deleted, int64_t *freed)
{
        /* entries this prune may not take (their image stays): skipped */
        _cleanup_free_ char **skip = NULL;
        size_t n_skip = 0;
        for (;;) {
                _cleanup_free_ struct state *st = refresh(c);
                int64_t total = 0;
                for (size_t i = 0; i < c->n; i++)
                        total += st[i].size;
                if (keep_storage > 0 && total <= keep_storage)
                        break;
                /* the least recently used candidate; an image only the cache
                 * keeps first, so that a chain goes from its head down and no
                 * image is left without the entry that would prune it */
                size_t pick = SIZE_MAX;
                bool pick_only = false;
                for (size_t i = 0; i < c->n; i++) {
                        struct entry *e = c->v[i];
                        bool skipped = false;
                        for (size_t k = 0; k < n_skip && !skipped; k++)
                                skipped = streq(skip[k], e->key);
                        if (skipped || !filter_match(f, e, until_ns))
                                continue;
                        if (!all && !st[i].only_cache)
                                continue;
                        if (pick == SIZE_MAX || (st[i].only_cache && !pick_only) ||
                            (st[i].only_cache == pick_only &&
                             e->last_used < c->v[pick]->last_used)) {
                                pick = i;
                                pick_only = st[i].only_cache;
                        }
                }
                if (pick == SIZE_MAX)
                        break;
                struct entry *e = c->v[pick];
                if (st[pick].only_cache) {
                        int64_t got = remove_image(c, e->image, st[pick].size);
                        if (got == 0 && !image_gone(c, e->image) && !all) {
                                /* became busy meanwhile: keep the entry */
                                skip = xrealloc(skip, (n_skip + 1) * sizeof(*skip));
                                skip[n_skip++] = e->key;
                                continue;
                        }
                        *freed += got;
                }
                _cleanup_free_ char *id = entry_id(e);
                json_array_append_new(deleted, json_string(id));
                /* the key pointers in skip[] stay valid: entries are only
                 * dropped here, and a skipped one never is */
                entry_drop(c, pick);
        }
        return 0;
}

int build_cache_prune(struct build_cache *c, bool all, int64_t keep_storage, const char *filters,
                      json_t **ret, struct berth_err *err)
{
        static const char *const allowed[] = {"until", "id", "description", NULL};
        _cleanup_json_ json_t *f = NULL;
        int r = filters_parse(filters, allowed, &f, err);
        if (r < 0)
                return r;
        json_t *until = filters_get(f, "until");
        int64_t until_ns;
        r = filters_until(json_string_value(json_array_get(until, 0)), &until_ns, err);
        if (r < 0)
                return r;
        json_t *deleted = json_array();
        int64_t freed = 0;
        pthread_mutex_lock(&c->lock);
        r = prune_locked(c, all, keep_storage, f, until_ns, deleted, &freed);
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                json_decref(deleted);
                return r;
        }
        if (json_array_size(deleted) == 0) { /* Docker's CachesDeleted is null then */
                json_decref(deleted);
                deleted = json_null();
        }
        *ret =
            json_pack("{s:o, s:I}", "CachesDeleted", deleted, "SpaceReclaimed", (json_int_t)freed);
        return 0;
}

int build_cache_gc(struct build_cache *c, struct berth_err *err)
{
        if (c->max_bytes == 0)
                return 0;
        json_t *out = NULL;
        int64_t keep = c->max_bytes > INT64_MAX ? INT64_MAX : (int64_t)c->max_bytes;
        int r = build_cache_prune(c, false, keep, NULL, &out, err);
        json_decref(out);
        return r;
}
