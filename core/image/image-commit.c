/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* commit: a container's writable layer becomes a new image on top of its
 * image. The layer tar comes from the storage driver's diff (OCI layer
 * format); the config is the image's, with the container's config and the
 * --change edits, one more diff ID and one more history entry. */
#include "image-internal.h"
#include "image.h"
#include "base/json.h"

#include <fcntl.h>
#include <sys/stat.h>

static int hash_file(const char *path, char ret[72], struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return err_errno(err, -errno, "open '%s'", path);
        int r = hash_fd(fd, -1, ret, NULL);
        if (r < 0)
                return err_errno(err, r, "read '%s'", path);
        return 0;
}

int image_commit_container(struct image_store *s, const char *base_id, struct driver *storage,
                           const char *container_id, json_t *container_config,
                           const char *const *changes, const char *comment, const char *author,
                           const char *ref, char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *cfgbytes = NULL, *tmp = NULL;
        size_t cfglen = 0;
        _cleanup_strv_ char **paths = xzalloc(sizeof(char *));
        int r;

        pthread_mutex_lock(&s->lock);
        struct image *img = image_find(s, base_id);
        if (!img) {
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -ENOENT, "No such image: %s", base_id);
        }
        r = blob_read(s, img->id, &cfgbytes, &cfglen, err);
        for (char **c = img->chain; r >= 0 && c && *c; c++) {
                struct layer *l = layer_find(s, *c);
                if (!l) {
                        r = err_set(err, -EIO, "layer %s of %s is missing", *c, base_id);
                        break;
                }
                paths = strv_push(paths, blob_path(s, l->diff_id));
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;

        /* the container's changes, as a layer tar in the store's tmp/ */
        int fd = image_store_tmpfile(s, &tmp, err);
        if (fd < 0)
                return fd;
        r = berth_storage_diff(storage, container_id, NULL, fd, 0, err);
        if (r >= 0 && fsync(fd) < 0)
                r = err_errno(err, -errno, "fsync '%s'", tmp);
        close(fd);
        char diff_id[72];
        if (r >= 0)
                r = hash_file(tmp, diff_id, err);
        if (r < 0) {
                unlink(tmp);
                return r;
        }

        json_error_t je;
        _cleanup_json_ json_t *cfg = json_loadb(cfgbytes, cfglen, 0, &je);
        if (!cfg) {
                unlink(tmp);
                return err_set(err, -EBADMSG, "config of %s: %s", base_id, je.text);
        }
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
                if (r < 0) {
                        unlink(tmp);
                        return r;
                }
        }
        _cleanup_free_ char *now = json_time_ns(now_ns());
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
        json_t *rootfs = json_object_get(cfg, "rootfs");
        json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(diff_id));
        json_t *hist = json_object_get(cfg, "history");
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(cfg, "history", hist);
        }
        json_t *h = json_pack("{s:s}", "created", now);
        if (!isempty(author))
                json_object_set_new(h, "author", json_string(author));
        if (!isempty(comment))
                json_object_set_new(h, "comment", json_string(comment));
        json_array_append_new(hist, h);
        _cleanup_free_ char *out = json_dumps(cfg, JSON_COMPACT);
        if (!out) {
                unlink(tmp);
                return err_set(err, -EINVAL, "cannot encode the image config");
        }

        paths = strv_push(paths, xstrdup(tmp));
        const char *names[2] = {ref, NULL};
        r = image_add(s, out, strlen(out), (const char *const *)paths, ref ? names : NULL, ret_id,
                      err);
        if (r < 0)
                unlink(tmp);
        return r;
}
