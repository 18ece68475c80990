/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image store's side of pull and push: an image added layer by layer
 * while later layers still download (all or nothing, like load), what push
 * reads, and the blob digests layers had in registries (distribution/). */
#include "image-pull.h"
#include "image-internal.h"
#include "base/json.h"

#include <sys/stat.h>

struct image_txn {
        struct image_store *s;
        char parent[72];
        struct layer **made;
        size_t n_made;
        bool done;
};

int image_txn_begin(struct image_store *s, struct image_txn **ret)
{
        struct image_txn *t = xzalloc(sizeof(*t));
        t->s = s;
        *ret = t;
        return 0;
}

bool image_store_has_chain(struct image_store *s, const char *chain_id)
{
        pthread_mutex_lock(&s->lock);
        bool have = layer_find(s, chain_id) != NULL;
        pthread_mutex_unlock(&s->lock);
        return have;
}

void image_chain_id(const char *parent_chain, const char *diff_id, char ret[72])
{
        chain_id_next(parent_chain, diff_id, ret);
}

int image_store_tmp_dir(struct image_store *s, const char *prefix, char **ret_path,
                        struct berth_err *err)
{
        char *p = xasprintf("%s/%s-XXXXXX", s->tmp, prefix);
        if (!mkdtemp(p)) {
                int r = err_errno(err, -errno, "create a temp directory in '%s'", s->tmp);
                free(p);
                return r;
        }
        *ret_path = p;
        return 0;
}

void image_store_tmp_dir_remove(const char *path)
{
        (void)rm_rf_path(path);
}

int image_txn_layer(struct image_txn *t, const char *tar_path, const char *diff_id,
                    struct berth_err *err)
{
        struct image_store *s = t->s;
        if (!digest_valid(diff_id))
                return err_set(err, -EBADMSG, "'%s' is not a layer digest", diff_id);
        pthread_mutex_lock(&s->lock);
        struct layer *l;
        bool created = false;
        char chain[72];
        chain_id_next(t->parent[0] ? t->parent : NULL, diff_id, chain);
        if (!tar_path && !layer_find(s, chain)) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "layer %s went away during the pull", diff_id);
        }
        int r = layer_add(s, tar_path, diff_id, t->parent[0] ? t->parent : NULL, &l, &created, err);
        if (r == 0) {
                /* until the image is recorded, nothing refers to the layer:
                 * hold it, so that a prune meanwhile leaves it alone */
                l->refs++;
                t->made = xrealloc(t->made, (t->n_made + 1) * sizeof(*t->made));
                t->made[t->n_made++] = l;
                snprintf(t->parent, sizeof(t->parent), "%s", l->chain_id);
                if (!created && tar_path)
                        unlink(tar_path);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void release(struct image_txn *t, bool remove)
{
        for (size_t i = t->n_made; i-- > 0;) {
                struct layer *l = t->made[i];
                l->refs--;
                if (remove && l->refs == 0)
                        (void)layer_delete(t->s, l, NULL);
        }
        free(t->made);
        t->made = NULL;
        t->n_made = 0;
}

int image_txn_commit(struct image_txn *t, const char *config, size_t config_len,
                     const char *const *names, char **ret_id, struct berth_err *err)
{
        struct image_store *s = t->s;
        _cleanup_json_p_ json_t *cfg = NULL;
        int r = json_parse_body(config, config_len, &cfg, err);
        if (r < 0)
                return err_wrap(err, r, "image config");
        r = config_check(cfg, "image config", err);
        if (r < 0)
                return r;
        /* the config's layers must be the ones added, in order */
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        char chain[72] = "";
        size_t i;
        json_t *d;
        json_array_foreach (ids, i, d)
                chain_id_next(chain[0] ? chain : NULL, json_string_value(d), chain);
        if (!streq(chain, t->parent))
                return err_set(err, -EBADMSG, "the layers added do not match the image config");
        pthread_mutex_lock(&s->lock);
        struct image *img;
        r = image_commit(s, config, config_len, NULL, &img, err);
        if (r == 0) {
                for (const char *const *n = names; n && *n; n++) {
                        struct image_ref ref;
                        if (image_ref_parse(*n, &ref, NULL) < 0)
                                continue;
                        _cleanup_free_ char *full = image_ref_full(&ref);
                        image_ref_done(&ref);
                        ref_set(s, full, img->id, NULL);
                }
                r = refs_save(s, err);
        }
        if (r == 0) {
                release(t, false);
                t->done = true;
                if (ret_id)
                        *ret_id = xstrdup(img->id);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

struct image_txn *image_txn_free(struct image_txn *t)
{
        if (!t)
                return NULL;
        if (!t->done) {
                pthread_mutex_lock(&t->s->lock);
                release(t, true);
                pthread_mutex_unlock(&t->s->lock);
        }
        free(t->made);
        free(t);
        return NULL;
}

int image_add_name(struct image_store *s, const char *id, const char *name, struct berth_err *err)
{
        struct image_ref ref;
        int r = image_ref_parse(name, &ref, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *full = image_ref_full(&ref);
        image_ref_done(&ref);
        pthread_mutex_lock(&s->lock);
        r = image_find(s, id) ? ref_set(s, full, id, err)
                              : err_set(err, -ENOENT, "No such image: %s", id);
        if (r == 0)
                r = refs_save(s, err);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_has(struct image_store *s, const char *id)
{
        pthread_mutex_lock(&s->lock);
        bool have = image_find(s, id) != NULL;
        pthread_mutex_unlock(&s->lock);
        return have;
}

int image_push_source(struct image_store *s, const char *ref, char **ret_id, char **ret_config,
                      size_t *ret_len, char ***ret_diff_ids, char ***ret_tars,
                      struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, ref, &img, err);
        char **ids = NULL, **tars = NULL;
        char *cfg = NULL;
        size_t len = 0;
        if (r == 0)
                r = blob_read(s, img->id, &cfg, &len, err);
        if (r == 0) {
                ids = xzalloc(sizeof(char *));
                tars = xzalloc(sizeof(char *));
                json_t *a = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
                size_t i;
                json_t *d;
                json_array_foreach (a, i, d) {
                        ids = strv_push(ids, xstrdup(json_string_value(d)));
                        tars = strv_push(tars, blob_path(s, json_string_value(d)));
                }
                *ret_id = xstrdup(img->id);
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        *ret_config = cfg;
        *ret_len = len;
        *ret_diff_ids = ids;
        *ret_tars = tars;
        return 0;
}

/* distribution/<diff id hex>.json: {"<domain>": {"digest","size","mediaType","repository"}} */
static char *dist_path(struct image_store *s, const char *diff_id)
{
        return xasprintf("%s/distribution/%s.json", s->root, digest_hex(diff_id));
}

json_t *image_dist_get(struct image_store *s, const char *diff_id)
{
        if (!digest_valid(diff_id))
                return NULL;
        _cleanup_free_ char *p = dist_path(s, diff_id);
        json_t *j = NULL;
        if (json_load_path(p, &j, NULL) < 0)
                return NULL;
        return j;
}

void image_dist_put(struct image_store *s, const char *diff_id, const char *domain,
                    const char *repository, const char *digest, int64_t size,
                    const char *media_type)
{
        if (!digest_valid(diff_id))
                return;
        _cleanup_free_ char *dir = xasprintf("%s/distribution", s->root);
        (void)mkdir(dir, 0700);
        pthread_mutex_lock(&s->lock);
        json_t *j = image_dist_get(s, diff_id);
        if (!json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        json_object_set_new(j, domain,
                            json_pack("{s:s, s:I, s:s, s:s}", "digest", digest, "size",
                                      (json_int_t)size, "mediaType", media_type, "repository",
                                      repository));
        _cleanup_free_ char *p = dist_path(s, diff_id);
        (void)json_save_path(p, j, 0600, NULL);
        json_decref(j);
        pthread_mutex_unlock(&s->lock);
}
