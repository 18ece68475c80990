/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Child images: a new image on top of an existing one, as a build step or a
 * commit makes it. The parent's config is taken from memory and its layers
 * stay as they are; only the new layer tar (if any) is read and hashed.
 * Also the read-only views the build cache needs: an image's config and
 * what only it keeps. */
#include "image-internal.h"
#include "base/json.h"

#include <fcntl.h>
#include <sys/utsname.h>

static bool in_tmp(struct image_store *s, const char *path)
{
        const char *rest = startswith(path, s->tmp);
        return rest && rest[0] == '/';
}

/* A layer tar whose first header block is all zero (or that is shorter
 * than one block) has no entries: the end-of-archive marker alone, what a
 * diff of an unchanged container gives. Docker records such a step as an
 * empty layer rather than a diff ID. */
static int tar_is_empty(int fd, bool *ret)
{
        unsigned char block[512];
        ssize_t n = pread(fd, block, sizeof(block), 0);
        if (n < 0)
                return -errno;
        bool empty = true;
        for (ssize_t i = 0; i < n && empty; i++)
                empty = block[i] == 0;
        *ret = empty;
        return 0;
}

/* Without the lock: hash the new layer tar. *ret_tar is a file in the
 * store's tmp/ (the caller's own, or a copy of a file elsewhere), or NULL
 * for a tar without entries. A tar in tmp/ that is not used is removed. */
int child_layer_prepare(struct image_store *s, const char *path, char **ret_tar, char ret_diff[72],
                        struct berth_err *err)
{
        bool ours = in_tmp(s, path);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int r = err_errno(err, -errno, "open layer '%s'", path);
                if (ours)
                        unlink(path);
                return r;
        }
        bool empty;
        int r = tar_is_empty(fd, &empty);
        if (r < 0) {
                if (ours)
                        unlink(path);
                return err_errno(err, r, "read layer '%s'", path);
        }
        if (empty) {
                if (ours)
                        unlink(path);
                *ret_tar = NULL;
                return 0;
        }
        if (ours) {
                r = hash_fd(fd, -1, ret_diff, NULL);
                if (r < 0) {
                        unlink(path);
                        return err_errno(err, r, "read layer '%s'", path);
                }
                *ret_tar = xstrdup(path);
                return 0;
        }
        /* the caller's file: layer_add moves its tar into the blobs, so copy */
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int out = store_tmpfile(s, "layer", &tmp, err);
        if (out < 0)
                return out;
        r = hash_fd(fd, out, ret_diff, NULL);
        if (r < 0) {
                unlink(tmp);
                return err_errno(err, r, "copy layer '%s'", path);
        }
        *ret_tar = TAKE_PTR(tmp);
        return 0;
}

static const char *host_arch(void)
{
        struct utsname u;
        return uname(&u) == 0 && streq(u.machine, "aarch64") ? "arm64" : "amd64";
}

/* The config a child starts from: a copy of the parent's, or for FROM
 * scratch the host's platform and no layers. */
static json_t *child_base_config(const struct image *parent)
{
        if (parent)
                return json_deep_copy(parent->config);
        return json_pack("{s:s, s:s, s:{s:s, s:[]}, s:[]}", "architecture", host_arch(), "os",
                         "linux", "rootfs", "type", "layers", "diff_ids", "history");
}

/* With the lock: add the layer (tar in tmp/, NULL for none) on the parent's
 * top layer, record the image with `parent_id` as its parent and tag it
 * with `full_ref` (NULL: none). cfg gets the diff ID. What this call made
 * is undone on failure; the tar is gone either way. */
int child_commit_locked(struct image_store *s, const char *parent_id, json_t *cfg, const char *tar,
                        const char *diff_id, const char *full_ref, char **ret_id,
                        struct berth_err *err)
{
        struct image *parent = NULL;
        struct layer *ly = NULL;
        bool created = false;
        _cleanup_free_ char *txt = NULL;
        int r = 0;

        if (parent_id && !(parent = image_find(s, parent_id))) {
                r = err_set(err, -ENOENT, "No such image: %s", parent_id);
                goto out;
        }
        if (tar) {
                size_t n = parent ? strv_length(parent->chain) : 0;
                json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
                if (json_array_size(ids) != n) {
                        r = err_set(err, -EBADMSG, "image %s: its config lists %zu layers, not %zu",
                                    parent_id, json_array_size(ids), n);
                        goto out;
                }
                r = layer_add(s, tar, diff_id, n ? parent->chain[n - 1] : NULL, &ly, &created, err);
                if (r < 0)
                        goto out;
                json_array_append_new(ids, json_string(diff_id));
        }
        txt = json_dumps(cfg, JSON_COMPACT);
        if (!txt) {
                r = err_set(err, -EINVAL, "cannot encode the image config");
                goto out;
        }
        char id[72];
        sha256_digest(txt, strlen(txt), id);
        bool existed = image_find(s, id) != NULL;
        struct image *img;
        r = image_commit(s, txt, strlen(txt), parent_id, &img, err);
        if (r < 0)
                goto out;
        if (full_ref) {
                ref_set(s, full_ref, img->id, NULL);
                r = refs_save(s, err);
                if (r < 0) {
                        json_object_del(s->refs, full_ref);
                        if (!existed)
                                (void)image_delete(s, img, NULL, NULL);
                        goto out;
                }
        }
        if (ret_id)
                *ret_id = xstrdup(img->id);
out:
        if (r < 0 && created && ly->refs == 0)
                (void)layer_delete(s, ly, NULL);
        if (tar)
                unlink(tar); /* adopted into the blobs, or not needed */
        return r;
}

json_t *child_history_entry(const char *now, const char *created_by, const char *author,
                            const char *comment, bool empty_layer)
{
        json_t *h = json_pack("{s:s}", "created", now);
        if (created_by)
                json_object_set_new(h, "created_by", json_string(created_by));
        if (!isempty(author))
                json_object_set_new(h, "author", json_string(author));
        if (!isempty(comment))
                json_object_set_new(h, "comment", json_string(comment));
        if (empty_layer)
                json_object_set_new(h, "empty_layer", json_true());
        return h;
}

void child_history_append(json_t *cfg, json_t *h)
{
        json_t *hist = json_object_get(cfg, "history");
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(cfg, "history", hist);
        }
        json_array_append_new(hist, h);
}

int image_add_child(struct image_store *s, const struct image_child *c, char **ret_id,
                    struct berth_err *err)
{
        _cleanup_free_ char *tar = NULL, *now = NULL;
        char diff[72] = "";
        int r;

        if (c->layer_tar) {
                r = child_layer_prepare(s, c->layer_tar, &tar, diff, err);
                if (r < 0)
                        return r;
        }
        pthread_mutex_lock(&s->lock);
        struct image *parent = c->parent_id ? image_find(s, c->parent_id) : NULL;
        if (c->parent_id && !parent) {
                pthread_mutex_unlock(&s->lock);
                if (tar)
                        unlink(tar);
                return err_set(err, -ENOENT, "No such image: %s", c->parent_id);
        }
        _cleanup_json_p_ json_t *cfg = child_base_config(parent);
        json_object_set_new(cfg, "config",
                            json_is_object(c->config) ? json_deep_copy(c->config) : json_object());
        if (json_is_object(c->container_config))
                json_object_set_new(cfg, "container_config", json_deep_copy(c->container_config));
        else
                json_object_del(cfg, "container_config");
        if (c->container_id)
                json_object_set_new(cfg, "container", json_string(c->container_id));
        else
                json_object_del(cfg, "container");
        now = json_time_ns(now_ns());
        json_object_set_new(cfg, "created", json_string(now));
        if (!isempty(c->author))
                json_object_set_new(cfg, "author", json_string(c->author));
        json_object_del(cfg, "comment");
        child_history_append(cfg, child_history_entry(now, strempty(c->created_by), c->author,
                                                      c->comment, tar == NULL));
        r = child_commit_locked(s, c->parent_id, cfg, tar, diff, NULL, ret_id, err);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_config(struct image_store *s, const char *image_id, json_t **ret, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, image_id, &img, err);
        if (r == 0)
                *ret = json_deep_copy(img->config);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_usage(struct image_store *s, const char *image_id, struct image_usage *ret,
                struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, image_id, &img, err);
        if (r == 0) {
                *ret = (struct image_usage){0};
                char **names = image_names(s, img->id);
                ret->tagged = names[0] != NULL;
                strv_free(names);
                for (size_t i = 0; i < s->n_images && !ret->has_children; i++)
                        ret->has_children = streq_ptr(s->images[i]->parent, img->id);
                ret->in_use = s->usage_fn && s->usage_fn(s->usage_ud, img->id, NULL, 0) > 0;
                size_t n = strv_length(img->chain);
                struct layer *top = n ? layer_find(s, img->chain[n - 1]) : NULL;
                if (top && top->refs == 1)
                        ret->own_size = top->size;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
