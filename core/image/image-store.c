/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The content store: blobs by sha256, layer records, image records, and
 * the repair that runs at every open. See image.h for the layout.
 *
 * Crash safety rests on commit points written last with temp+fsync+rename:
 *   a layer exists once layers/<chain>.json exists; before the driver layer
 *   is created, tmp/pending-<cache id> names it, so that a crash part-way
 *   lets the next open remove the driver's half layer;
 *   an image exists once images/<id>.json exists, which is written after its
 *   config blob and all its layers.
 * Open then drops what no commit point covers: temp files, pending layers,
 * layers no image uses, blobs nothing refers to, references to missing images.
 */
#include "image-internal.h"
#include "tar/tar-layer.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

/* --- files --------------------------------------------------------------- */

int fsync_path(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int store_tmpfile(struct image_store *s, const char *prefix, char **ret_path, struct berth_err *err)
{
        char *p = xasprintf("%s/%s-XXXXXX", s->tmp, prefix);
        int fd = mkostemp(p, O_CLOEXEC);
        if (fd < 0) {
                int r = err_errno(err, -errno, "create a temp file in '%s'", s->tmp);
                free(p);
                return r;
        }
        *ret_path = p;
        return fd;
}

char *blob_path(struct image_store *s, const char *digest)
{
        return xasprintf("%s/%s", s->blobs, digest_hex(digest));
}

int blob_adopt(struct image_store *s, const char *tmp_path, const char *digest,
               struct berth_err *err)
{
        _cleanup_free_ char *dst = blob_path(s, digest);
        int r = fsync_path(tmp_path);
        if (r < 0)
                return err_errno(err, r, "fsync '%s'", tmp_path);
        if (rename(tmp_path, dst) < 0)
                return err_errno(err, -errno, "store blob '%s'", digest);
        (void)fsync_path(s->blobs);
        return 0;
}

int blob_put(struct image_store *s, const void *p, size_t n, const char *expect,
             char ret_digest[72], struct berth_err *err)
{
        char d[72];
        sha256_digest(p, n, d);
        if (expect && !streq(d, expect))
                return err_set(err, -EBADMSG, "blob digest mismatch: expected %s, content is %s",
                               expect, d);
        if (ret_digest)
                strcpy(ret_digest, d);
        _cleanup_free_ char *dst = blob_path(s, d);
        if (access(dst, F_OK) == 0)
                return 0;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = store_tmpfile(s, "blob", &tmp, err);
        if (fd < 0)
                return fd;
        int r = loop_write(fd, p, n);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, dst) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return err_errno(err, r, "write blob %s", d);
        }
        (void)fsync_path(s->blobs);
        return 0;
}

int blob_read(struct image_store *s, const char *digest, char **ret, size_t *ret_len,
              struct berth_err *err)
{
        _cleanup_free_ char *p = blob_path(s, digest);
        int r = read_full_file(p, ret, ret_len);
        if (r < 0)
                return err_errno(err, r, "read blob %s", digest);
        return 0;
}

static int save_json(const char *path, json_t *j, struct berth_err *err)
{
        _cleanup_free_ char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!txt)
                return err_set(err, -ENOMEM, "encode '%s'", path);
        int r = write_file_atomic(path, txt, strlen(txt), 0600);
        if (r < 0)
                return err_errno(err, r, "write '%s'", path);
        return 0;
}

static json_t *load_json(const char *path)
{
        return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

/* --- times ---------------------------------------------------------------- */

char *format_rfc3339_ns(int64_t ns)
{
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char buf[64];
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        long frac = (long)(ns % 1000000000);
        if (frac == 0)
                return xasprintf("%sZ", buf);
        char f[16];
        snprintf(f, sizeof(f), "%09ld", frac);
        for (int i = 8; i > 0 && f[i] == '0'; i--)
                f[i] = '\0';
        return xasprintf("%s.%sZ", buf, f);
}

/* --- layers --------------------------------------------------------------- */

void chain_id_next(const char *parent_chain, const char *diff_id, char ret[72])
{
        if (!parent_chain) {
                snprintf(ret, 72, "%s", diff_id);
                return;
        }
        _cleanup_free_ char *s = xasprintf("%s %s", parent_chain, diff_id);
        sha256_digest(s, strlen(s), ret);
}

struct layer *layer_find(struct image_store *s, const char *chain_id)
{
        for (size_t i = 0; i < s->n_layers; i++)
                if (streq(s->layers[i]->chain_id, chain_id))
                        return s->layers[i];
        return NULL;
}

static struct layer *layer_free(struct layer *l)
{
        if (l) {
                free(l->chain_id);
                free(l->diff_id);
                free(l->parent);
                free(l->cache_id);
                free(l);
        }
        return NULL;
}

static char *layer_record_path(struct image_store *s, const char *chain_id)
{
        return xasprintf("%s/%s.json", s->layers_dir, digest_hex(chain_id));
}

static void random_id(char buf[65])
{
        unsigned char b[32];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
                abort();
        for (int i = 0; i < 32; i++)
                sprintf(buf + 2 * i, "%02x", b[i]);
}

int layer_add(struct image_store *s, const char *tar_path, const char *diff_id, const char *parent,
              struct layer **ret, bool *ret_created, struct berth_err *err)
{
        char chain[72];
        struct layer *pl = NULL;
        _cleanup_free_ char *bp = NULL, *rp = NULL;
        int r;

        chain_id_next(parent, diff_id, chain);
        *ret_created = false;
        struct layer *have = layer_find(s, chain);
        if (have) {
                *ret = have;
                return 0;
        }
        if (parent && !(pl = layer_find(s, parent)))
                return err_set(err, -ENOENT, "parent layer %s is missing", parent);

        char cache_id[65];
        random_id(cache_id);
        _cleanup_free_ char *pending = xasprintf("%s/pending-%s", s->tmp, cache_id);
        r = write_file_atomic(pending, "", 0, 0600);
        if (r < 0)
                return err_errno(err, r, "write '%s'", pending);

        r = berth_storage_create(s->drv, cache_id, pl ? pl->cache_id : NULL, NULL, 0, err);
        if (r < 0) {
                unlink(pending);
                return err_wrap(err, r, "create layer %s", diff_id);
        }
        _cleanup_close_ int fd = open(tar_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = err_errno(err, -errno, "open '%s'", tar_path);
                goto fail;
        }
        int64_t size = 0;
        r = berth_storage_apply_diff(s->drv, cache_id, pl ? pl->cache_id : NULL, fd,
                                     BERTH_WHITEOUT_AUFS, 0, &size, err);
        if (r < 0) {
                err_wrap(err, r, "apply layer %s", diff_id);
                goto fail;
        }
        struct layer *l = xzalloc(sizeof(*l));
        l->chain_id = xstrdup(chain);
        l->diff_id = xstrdup(diff_id);
        l->parent = parent ? xstrdup(parent) : NULL;
        l->cache_id = xstrdup(cache_id);
        l->size = size;

        /* the tar first (save needs it), then the record: the commit point */
        bp = blob_path(s, diff_id);
        if (!streq(bp, tar_path) && access(bp, F_OK) < 0)
                r = blob_adopt(s, tar_path, diff_id, err);
        if (r >= 0) {
                json_t *rec = json_pack("{s:s, s:s, s:s?, s:s, s:I}", "chain_id", l->chain_id,
                                        "diff_id", l->diff_id, "parent", l->parent, "cache_id",
                                        l->cache_id, "size", (json_int_t)l->size);
                rp = layer_record_path(s, chain);
                r = save_json(rp, rec, err);
                json_decref(rec);
        }
        if (r < 0) {
                layer_free(l);
                goto fail;
        }
        unlink(pending);
        s->layers = xrealloc(s->layers, (s->n_layers + 1) * sizeof(*s->layers));
        s->layers[s->n_layers++] = l;
        *ret = l;
        *ret_created = true;
        return 0;
fail:
        /* the marker stays if the driver layer does: the next open removes it */
        if (berth_storage_remove(s->drv, cache_id, 0, NULL) >= 0)
                unlink(pending);
        return r;
}

static bool diff_id_in_use(struct image_store *s, const char *diff_id, const struct layer *except)
{
        for (size_t i = 0; i < s->n_layers; i++)
                if (s->layers[i] != except && streq(s->layers[i]->diff_id, diff_id))
                        return true;
        return false;
}

int layer_delete(struct image_store *s, struct layer *l, struct berth_err *err)
{
        /* record first: once it is gone the layer does not exist, and a crash
         * after it leaves only a driver layer that open() cannot name - so
         * mark it pending first. */
        _cleanup_free_ char *pending = xasprintf("%s/pending-%s", s->tmp, l->cache_id);
        (void)write_file_atomic(pending, "", 0, 0600);
        _cleanup_free_ char *rp = layer_record_path(s, l->chain_id);
        if (unlink(rp) < 0 && errno != ENOENT)
                return err_errno(err, -errno, "remove '%s'", rp);
        int r = berth_storage_remove(s->drv, l->cache_id, 0, err);
        if (r < 0 && r != -ENOENT)
                return err_wrap(err, r, "remove layer %s", l->chain_id);
        unlink(pending);
        if (!diff_id_in_use(s, l->diff_id, l)) {
                _cleanup_free_ char *bp = blob_path(s, l->diff_id);
                unlink(bp);
        }
        for (size_t i = 0; i < s->n_layers; i++)
                if (s->layers[i] == l) {
                        memmove(s->layers + i, s->layers + i + 1,
                                (s->n_layers - i - 1) * sizeof(*s->layers));
                        s->n_layers--;
                        break;
                }
        layer_free(l);
        return 0;
}

/* --- images --------------------------------------------------------------- */

struct image *image_find(struct image_store *s, const char *id)
{
        for (size_t i = 0; i < s->n_images; i++)
                if (streq(s->images[i]->id, id))
                        return s->images[i];
        return NULL;
}

static bool is_hex(const char *s)
{
        return *s && strspn(s, "0123456789abcdef") == strlen(s);
}

static int no_such_image(struct berth_err *err, const char *ref)
{
        return err_set(err, -ENOENT, "No such image: %s", ref);
}

/* The index lookup: a reference (name:tag, name@digest), a full ID, or an
 * unambiguous prefix of one, with or without "sha256:". */
int image_resolve_locked(struct image_store *s, const char *ref, struct image **ret,
                         struct berth_err *err)
{
        if (isempty(ref))
                return no_such_image(err, "");
        const char *hex = startswith(ref, "sha256:");
        if (!hex) {
                struct image_ref r;
                if (image_ref_parse(ref, &r, NULL) == 0) {
                        _cleanup_free_ char *full = image_ref_full(&r);
                        image_ref_done(&r);
                        const char *id = json_string_value(json_object_get(s->refs, full));
                        struct image *img = id ? image_find(s, id) : NULL;
                        if (img) {
                                *ret = img;
                                return 0;
                        }
                }
                hex = ref;
        }
        if (!is_hex(hex) || strlen(hex) > 64)
                return no_such_image(err, ref);
        struct image *found = NULL;
        for (size_t i = 0; i < s->n_images; i++)
                if (startswith(s->images[i]->id + 7, hex)) {
                        if (found)
                                return err_set(err, -ENOENT,
                                               "No such image: %s (the ID prefix is ambiguous)",
                                               ref);
                        found = s->images[i];
                }
        if (!found)
                return no_such_image(err, ref);
        *ret = found;
        return 0;
}

static struct image *image_free(struct image *img)
{
        if (img) {
                free(img->id);
                json_decref(img->config);
                strv_free(img->chain);
                free(img->parent);
                free(img);
        }
        return NULL;
}

int config_check(json_t *cfg, const char *what, struct berth_err *err)
{
        if (!json_is_object(cfg))
                return err_set(err, -EBADMSG, "%s is not a JSON object", what);
        json_t *rootfs = json_object_get(cfg, "rootfs");
        if (!json_is_object(rootfs))
                return err_set(err, -EBADMSG, "%s lacks the required field 'rootfs'", what);
        if (!json_is_string(json_object_get(rootfs, "type")) ||
            !streq(json_string_value(json_object_get(rootfs, "type")), "layers"))
                return err_set(err, -EBADMSG, "%s: rootfs.type must be \"layers\"", what);
        json_t *ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(ids))
                return err_set(err, -EBADMSG, "%s lacks the required field 'rootfs.diff_ids'",
                               what);
        size_t i;
        json_t *v;
        json_array_foreach (ids, i, v) {
                if (!json_is_string(v) || !digest_valid(json_string_value(v)))
                        return err_set(err, -EBADMSG,
                                       "%s: rootfs.diff_ids[%zu] is not a sha256 digest", what, i);
        }
        json_t *os = json_object_get(cfg, "os");
        if (os && !json_is_string(os))
                return err_set(err, -EBADMSG, "%s: 'os' is not a string", what);
        return 0;
}

/* Build the in-memory image from its config; chain ids from diff ids. */
static struct image *image_new(const char *id, json_t *config)
{
        struct image *img = xzalloc(sizeof(*img));
        img->id = xstrdup(id);
        img->config = json_incref(config);
        img->chain = xzalloc(sizeof(char *));
        json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
        size_t i;
        json_t *v;
        char prev[72] = "";
        json_array_foreach (ids, i, v) {
                char c[72];
                chain_id_next(i ? prev : NULL, json_string_value(v), c);
                img->chain = strv_push(img->chain, xstrdup(c));
                strcpy(prev, c);
        }
        img->created_ns = parse_rfc3339_ns(json_string_value(json_object_get(config, "created")));
        return img;
}

static char *image_record_path(struct image_store *s, const char *id)
{
        return xasprintf("%s/%s.json", s->images_dir, digest_hex(id));
}

static int image_record_save(struct image_store *s, struct image *img, struct berth_err *err)
{
        json_t *rec =
            json_pack("{s:s, s:s?, s:I, s:I}", "id", img->id, "parent", img->parent, "loaded",
                      (json_int_t)img->loaded_ns, "last_tag_time", (json_int_t)img->last_tag_ns);
        _cleanup_free_ char *p = image_record_path(s, img->id);
        int r = save_json(p, rec, err);
        json_decref(rec);
        return r;
}

int image_commit(struct image_store *s, const char *config, size_t config_len, const char *parent,
                 struct image **ret, struct berth_err *err)
{
        char id[72];
        sha256_digest(config, config_len, id);
        struct image *have = image_find(s, id);
        if (have) {
                *ret = have;
                return 0;
        }
        json_error_t je;
        _cleanup_json_p_ json_t *cfg = json_loadb(config, config_len, JSON_REJECT_DUPLICATES, &je);
        if (!cfg)
                return err_set(err, -EBADMSG, "image config %s is not JSON: %s (line %d)", id,
                               je.text, je.line);
        int r = config_check(cfg, "image config", err);
        if (r < 0)
                return r;
        struct image *img = image_new(id, cfg);
        for (char **c = img->chain; *c; c++)
                if (!layer_find(s, *c)) {
                        image_free(img);
                        return err_set(err, -ENOENT, "image %s: layer %s is missing", id, *c);
                }
        img->parent = parent ? xstrdup(parent) : NULL;
        img->loaded_ns = now_ns();
        r = blob_put(s, config, config_len, id, NULL, err);
        if (r >= 0)
                r = image_record_save(s, img, err);
        if (r < 0) {
                image_free(img);
                return r;
        }
        for (char **c = img->chain; *c; c++)
                layer_find(s, *c)->refs++;
        s->images = xrealloc(s->images, (s->n_images + 1) * sizeof(*s->images));
        s->images[s->n_images++] = img;
        *ret = img;
        return 0;
}

int image_delete(struct image_store *s, struct image *img, int64_t *ret_freed,
                 struct berth_err *err)
{
        _cleanup_free_ char *p = image_record_path(s, img->id);
        if (unlink(p) < 0 && errno != ENOENT)
                return err_errno(err, -errno, "remove '%s'", p);
        (void)fsync_path(s->images_dir);
        for (size_t i = 0; i < s->n_images; i++)
                if (s->images[i] == img) {
                        memmove(s->images + i, s->images + i + 1,
                                (s->n_images - i - 1) * sizeof(*s->images));
                        s->n_images--;
                        break;
                }
        /* children pointing at it lose their parent link */
        for (size_t i = 0; i < s->n_images; i++)
                if (streq_ptr(s->images[i]->parent, img->id)) {
                        free(s->images[i]->parent);
                        s->images[i]->parent = NULL;
                        (void)image_record_save(s, s->images[i], NULL);
                }
        int64_t freed = 0;
        int r = 0;
        /* top down, so that a layer goes before its parent */
        for (size_t n = strv_length(img->chain); n-- > 0;) {
                struct layer *l = layer_find(s, img->chain[n]);
                if (!l)
                        continue;
                if (l->refs > 0)
                        l->refs--;
                if (l->refs == 0) {
                        int64_t sz = l->size;
                        int q = layer_delete(s, l, err);
                        if (q < 0 && r == 0)
                                r = q; /* keep going: open() finishes the job */
                        else if (q == 0)
                                freed += sz;
                }
        }
        _cleanup_free_ char *bp = blob_path(s, img->id); /* one config per ID */
        unlink(bp);
        image_free(img);
        if (ret_freed)
                *ret_freed = freed;
        return r;
}

int64_t image_size(struct image_store *s, const struct image *img)
{
        int64_t sz = 0;
        for (char **c = img->chain; *c; c++) {
                struct layer *l = layer_find(s, *c);
                if (l)
                        sz += l->size;
        }
        return sz;
}

/* --- references ------------------------------------------------------------ */

int refs_save(struct image_store *s, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/repositories.json", s->root);
        json_t *doc = json_pack("{s:O}", "refs", s->refs);
        int r = save_json(p, doc, err);
        json_decref(doc);
        return r;
}

int ref_set(struct image_store *s, const char *full, const char *id, struct berth_err *err)
{
        json_object_set_new(s->refs, full, json_string(id));
        struct image *img = image_find(s, id);
        if (img) {
                img->last_tag_ns = now_ns();
                (void)image_record_save(s, img, NULL);
        }
        return 0;
}

char **image_names(struct image_store *s, const char *id)
{
        char **v = xzalloc(sizeof(char *));
        const char *k;
        json_t *val;
        json_object_foreach (s->refs, k, val) {
                if (streq(json_string_value(val), id))
                        v = strv_push(v, xstrdup(k));
        }
        size_t n = strv_length(v);
        for (size_t i = 1; i < n; i++) /* few names: insertion sort */
                for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
                        char *t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        return v;
}

/* --- open and repair ----------------------------------------------------- */

static int load_layers(struct image_store *s, struct berth_err *err)
{
        _cleanup_closedir_ DIR *d = opendir(s->layers_dir);
        if (!d)
                return err_errno(err, -errno, "open '%s'", s->layers_dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", s->layers_dir, de->d_name);
                if (!endswith(de->d_name, ".json")) { /* a write_file_atomic leftover */
                        unlink(p);
                        continue;
                }
                _cleanup_json_p_ json_t *j = load_json(p);
                const char *chain = json_string_value(json_object_get(j, "chain_id"));
                const char *diff = json_string_value(json_object_get(j, "diff_id"));
                const char *cache = json_string_value(json_object_get(j, "cache_id"));
                const char *parent = json_string_value(json_object_get(j, "parent"));
                if (!digest_valid(chain) || !digest_valid(diff) || !cache ||
                    berth_storage_exists(s->drv, cache, 0) != 1) {
                        /* unreadable or its driver layer is gone: drop it */
                        if (cache)
                                (void)berth_storage_remove(s->drv, cache, 0, NULL);
                        unlink(p);
                        continue;
                }
                struct layer *l = xzalloc(sizeof(*l));
                l->chain_id = xstrdup(chain);
                l->diff_id = xstrdup(diff);
                l->parent = parent ? xstrdup(parent) : NULL;
                l->cache_id = xstrdup(cache);
                l->size = json_integer_value(json_object_get(j, "size"));
                s->layers = xrealloc(s->layers, (s->n_layers + 1) * sizeof(*s->layers));
                s->layers[s->n_layers++] = l;
        }
        return 0;
}

static int load_images(struct image_store *s, struct berth_err *err)
{
        _cleanup_closedir_ DIR *d = opendir(s->images_dir);
        if (!d)
                return err_errno(err, -errno, "open '%s'", s->images_dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", s->images_dir, de->d_name);
                if (!endswith(de->d_name, ".json")) {
                        unlink(p);
                        continue;
                }
                _cleanup_json_p_ json_t *j = load_json(p);
                const char *id = json_string_value(json_object_get(j, "id"));
                _cleanup_free_ char *cfg = NULL;
                size_t cfg_len = 0;
                bool ok = digest_valid(id) && blob_read(s, id, &cfg, &cfg_len, NULL) == 0;
                char d2[72];
                if (ok) {
                        sha256_digest(cfg, cfg_len, d2);
                        ok = streq(d2, id);
                }
                _cleanup_json_p_ json_t *c = ok ? json_loadb(cfg, cfg_len, 0, NULL) : NULL;
                ok = ok && c && config_check(c, "config", NULL) == 0;
                struct image *img = ok ? image_new(id, c) : NULL;
                for (char **ch = img ? img->chain : NULL; ch && *ch; ch++)
                        if (!layer_find(s, *ch))
                                ok = false;
                if (!ok) {
                        /* a half image (or damaged): never list it */
                        image_free(img);
                        unlink(p);
                        continue;
                }
                const char *parent = json_string_value(json_object_get(j, "parent"));
                img->parent = parent ? xstrdup(parent) : NULL;
                img->loaded_ns = json_integer_value(json_object_get(j, "loaded"));
                img->last_tag_ns = json_integer_value(json_object_get(j, "last_tag_time"));
                for (char **ch = img->chain; *ch; ch++)
                        layer_find(s, *ch)->refs++;
                s->images = xrealloc(s->images, (s->n_images + 1) * sizeof(*s->images));
                s->images[s->n_images++] = img;
        }
        return 0;
}

static void repair(struct image_store *s)
{
        /* pending layers: the driver may hold a half one */
        _cleanup_closedir_ DIR *d = opendir(s->tmp);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                const char *cache = startswith(de->d_name, "pending-");
                if (cache && strchr(cache, '.')) /* a marker's own temp file */
                        cache = NULL;
                bool used = false;
                for (size_t i = 0; cache && i < s->n_layers; i++)
                        used |= streq(s->layers[i]->cache_id, cache);
                /* The marker goes only with the layer. A removal can fail
                 * while the tar helper of a killed process is still writing
                 * into the layer (it dies of its parent's death a moment
                 * later): try for up to 0.2 s, then leave it to the next open. */
                if (cache && !used) {
                        int r = -EAGAIN;
                        for (int i = 0; i < 20 && r < 0 && r != -ENOENT; i++) {
                                if (i > 0)
                                        usleep(10000);
                                r = berth_storage_remove(s->drv, cache, 0, NULL);
                        }
                        if (r < 0 && r != -ENOENT)
                                continue;
                }
                (void)rm_rf_at(dirfd(d), de->d_name);
        }
        /* layers no image uses (a load that crashed before its image record),
         * top first so that parents go after their children */
        bool again = true;
        while (again) {
                again = false;
                for (size_t i = 0; i < s->n_layers; i++) {
                        struct layer *l = s->layers[i];
                        if (l->refs)
                                continue;
                        bool parent_of_other = false;
                        for (size_t j = 0; j < s->n_layers; j++)
                                parent_of_other |= streq_ptr(s->layers[j]->parent, l->chain_id);
                        if (parent_of_other)
                                continue;
                        if (layer_delete(s, l, NULL) == 0)
                                again = true;
                        break;
                }
        }
        /* references to images that are gone */
        const char *k;
        json_t *v, *tmp;
        bool changed = false;
        json_object_foreach_safe (s->refs, tmp, k, v) {
                if (!json_is_string(v) || !image_find(s, json_string_value(v))) {
                        json_object_del(s->refs, k);
                        changed = true;
                }
        }
        if (changed)
                (void)refs_save(s, NULL);
        /* blobs nothing refers to */
        _cleanup_closedir_ DIR *b = opendir(s->blobs);
        while (b && (de = readdir(b))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *dg = xasprintf("sha256:%s", de->d_name);
                bool used = image_find(s, dg) != NULL;
                for (size_t i = 0; !used && i < s->n_layers; i++)
                        used = streq(s->layers[i]->diff_id, dg);
                if (!used)
                        (void)unlinkat(dirfd(b), de->d_name, 0);
        }
}

int image_store_open(const char *data_root, struct driver *storage, struct image_store **ret_store,
                     struct berth_err *err)
{
        struct image_store *s = xzalloc(sizeof(*s));
        _cleanup_free_ char *rp = NULL;
        _cleanup_json_p_ json_t *doc = NULL;
        int r;
        s->drv = storage;
        /* one store per driver, as Docker's image/<driver>/: layer records
         * name the driver's layers, so another driver's open must not see
         * (and clean away) them */
        s->root = xasprintf("%s/image/%s", data_root, storage->name);
        s->blobs = xasprintf("%s/blobs/sha256", s->root);
        s->layers_dir = xasprintf("%s/layers", s->root);
        s->images_dir = xasprintf("%s/images", s->root);
        s->tmp = xasprintf("%s/tmp", s->root);
        pthread_mutex_init(&s->lock, NULL);
        const char *dirs[] = {s->blobs, s->layers_dir, s->images_dir, s->tmp};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_p(dirs[i], 0700);
                if (r < 0) {
                        err_errno(err, r, "create '%s'", dirs[i]);
                        goto fail;
                }
        }
        rp = xasprintf("%s/repositories.json", s->root);
        doc = load_json(rp);
        json_t *refs = json_object_get(doc, "refs");
        s->refs = json_is_object(refs) ? json_incref(refs) : json_object();
        r = load_layers(s, err);
        if (r < 0)
                goto fail;
        r = load_images(s, err);
        if (r < 0)
                goto fail;
        repair(s);
        *ret_store = s;
        return 0;
fail:
        image_store_close(s);
        return err_wrap(err, r, "open image store in '%s'", data_root);
}

struct image_store *image_store_close(struct image_store *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_images; i++)
                image_free(s->images[i]);
        for (size_t i = 0; i < s->n_layers; i++)
                layer_free(s->layers[i]);
        free(s->images);
        free(s->layers);
        json_decref(s->refs);
        free(s->root);
        free(s->blobs);
        free(s->layers_dir);
        free(s->images_dir);
        free(s->tmp);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

void image_store_set_usage_fn(struct image_store *s, image_usage_fn fn, void *userdata)
{
        pthread_mutex_lock(&s->lock);
        s->usage_fn = fn;
        s->usage_ud = userdata;
        pthread_mutex_unlock(&s->lock);
}

size_t image_count(struct image_store *s)
{
        pthread_mutex_lock(&s->lock);
        size_t n = s->n_images;
        pthread_mutex_unlock(&s->lock);
        return n;
}

int image_top_layer(struct image_store *s, const char *image_id, char **ret_cache_id,
                    struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img = NULL;
        int r = image_resolve_locked(s, image_id, &img, err);
        if (r == 0) {
                size_t n = strv_length(img->chain);
                struct layer *l = n ? layer_find(s, img->chain[n - 1]) : NULL;
                *ret_cache_id = l ? xstrdup(l->cache_id) : NULL;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}
