/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* commit: a container's writable layer becomes a new image on top of its
 * image, the image being its parent. The layer tar comes from the storage
 * driver's diff (OCI layer format); the config is the image's, with the
 * container's config and the --change edits, one more diff ID (none when
 * the container changed nothing) and one more history entry. */
#include "image-internal.h"
#include "image.h"
#include "base/json.h"

int image_commit_container(struct image_store *s, const char *base_id, struct driver *storage,
                           const char *container_id, json_t *container_config,
                           const char *const *changes, const char *comment, const char *author,
                           const char *ref, char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *tmp = NULL, *tar = NULL, *full = NULL, *now = NULL;
        _cleanup_json_p_ json_t *cfg = NULL;
        char diff[72] = "";
        int r;

        if (ref) {
                struct image_ref pr;
                r = image_ref_parse(ref, &pr, err);
                if (r < 0)
                        return r;
                full = image_ref_full(&pr);
                image_ref_done(&pr);
        }
        /* the container's changes, as a layer tar in the store's tmp/ */
        int fd = image_store_tmpfile(s, &tmp, err);
        if (fd < 0)
                return fd;
        r = berth_storage_diff(storage, container_id, NULL, fd, 0, err);
        if (r >= 0 && fsync(fd) < 0)
                r = err_errno(err, -errno, "fsync '%s'", tmp);
        close(fd);
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        r = child_layer_prepare(s, tmp, &tar, diff, err);
        if (r < 0)
                return r;

        pthread_mutex_lock(&s->lock);
        struct image *base = image_find(s, base_id);
        if (!base) {
                r = err_set(err, -ENOENT, "No such image: %s", base_id);
                goto out;
        }
        cfg = json_deep_copy(base->config);
        json_t *c = json_object();
        static const char *const keys[] = {
            "Hostname",   "Domainname",  "User",   "Env",          "Cmd",
            "Entrypoint", "WorkingDir",  "Labels", "ExposedPorts", "Volumes",
            "StopSignal", "Healthcheck", "OnBuild"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                json_t *v = json_object_get(container_config, keys[i]);
                if (v && !json_is_null(v))
                        json_object_set(c, keys[i], v);
        }
        json_object_set_new(cfg, "config", c);
        for (const char *const *ch = changes; ch && *ch; ch++) {
                r = image_apply_change(c, *ch, err);
                if (r < 0)
                        goto out;
        }
        now = json_time_ns(now_ns());
        json_object_set_new(cfg, "created", json_string(now));
        json_object_set_new(cfg, "container", json_string(container_id));
        /* Docker keeps the container's own config, before --change, as
         * container_config; image inspect shows it as ContainerConfig */
        if (json_is_object(container_config))
                json_object_set(cfg, "container_config", container_config);
        else
                json_object_del(cfg, "container_config");
        if (!isempty(comment))
                json_object_set_new(cfg, "comment", json_string(comment));
        else
                json_object_del(cfg, "comment");
        if (!isempty(author))
                json_object_set_new(cfg, "author", json_string(author));
        else
                json_object_del(cfg, "author");
        child_history_append(cfg, child_history_entry(now, NULL, author, comment, tar == NULL));
        /* the base becomes the parent, as with Docker: rmi of the commit
         * prunes an untagged base, and the base cannot go while it is used */
        r = child_commit_locked(s, base->id, cfg, tar, diff, full, ret_id, err);
        free(tar); /* child_commit_locked removed the file */
        tar = NULL;
out:
        pthread_mutex_unlock(&s->lock);
        if (tar)
                unlink(tar);
        return r;
}
