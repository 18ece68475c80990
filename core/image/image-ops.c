/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lookup, tag, list, inspect, history, remove, prune and the df figures, in
 * the JSON shapes of Docker's Engine API. */
#include "image-internal.h"
#include "base/filters.h"

#include <fnmatch.h>
#include <inttypes.h>

int image_resolve(struct image_store *s, const char *ref, char **ret_id, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, ref, &img, err);
        if (r == 0)
                *ret_id = xstrdup(img->id);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_tag(struct image_store *s, const char *source, const char *target, struct berth_err *err)
{
        struct image_ref ref;
        int r = image_ref_parse(target, &ref, err);
        if (r < 0)
                return r;
        if (ref.digest) {
                image_ref_done(&ref);
                return err_set(err, -EINVAL, "refusing to create a tag with a digest reference");
        }
        _cleanup_free_ char *full = image_ref_full(&ref);
        image_ref_done(&ref);
        pthread_mutex_lock(&s->lock);
        struct image *img;
        r = image_resolve_locked(s, source, &img, err);
        if (r == 0) {
                ref_set(s, full, img->id, NULL);
                r = refs_save(s, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* --- summaries ----------------------------------------------------------- */

static json_t *names_json(struct image_store *s, const char *id, bool digests)
{
        _cleanup_strv_ char **names = image_names(s, id);
        json_t *a = json_array();
        for (char **n = names; *n; n++) {
                bool is_digest = strchr(*n, '@') != NULL;
                if (is_digest != digests)
                        continue;
                _cleanup_free_ char *fam = image_ref_familiar(*n);
                json_array_append_new(a, json_string(fam));
        }
        return a;
}

static bool has_children(struct image_store *s, const struct image *img)
{
        for (size_t i = 0; i < s->n_images; i++)
                if (streq_ptr(s->images[i]->parent, img->id))
                        return true;
        return false;
}

static json_t *labels_of(const struct image *img)
{
        json_t *l = json_object_get(json_object_get(img->config, "config"), "Labels");
        return json_is_object(l) ? json_incref(l) : json_null();
}

static json_t *summary(struct image_store *s, struct image *img)
{
        int64_t size = image_size(s, img);
        return json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:I}", "Id", img->id,
                         "ParentId", strempty(img->parent), "RepoTags",
                         names_json(s, img->id, false), "RepoDigests", names_json(s, img->id, true),
                         "Created", (json_int_t)(img->created_ns / 1000000000), "Size",
                         (json_int_t)size, "SharedSize", (json_int_t)-1, "VirtualSize",
                         (json_int_t)size, "Labels", labels_of(img), "Containers", (json_int_t)-1);
}

/* filters: {"key": {"value": true}} or {"key": ["value"]} (both forms exist) */
static char **filter_values(json_t *filters, const char *key)
{
        char **v = xzalloc(sizeof(char *));
        json_t *f = json_object_get(filters, key);
        const char *k;
        json_t *x;
        size_t i;
        if (json_is_object(f)) {
                json_object_foreach (f, k, x) {
                        if (json_is_true(x))
                                v = strv_push(v, xstrdup(k));
                }
        } else if (json_is_array(f)) {
                json_array_foreach (f, i, x) {
                        if (json_is_string(x))
                                v = strv_push(v, xstrdup(json_string_value(x)));
                }
        }
        return v;
}

static int parse_filters(const char *text, json_t **ret, struct berth_err *err)
{
        *ret = NULL;
        if (isempty(text))
                return 0;
        json_error_t je;
        *ret = json_loads(text, 0, &je);
        if (!json_is_object(*ret)) {
                json_decref(*ret);
                *ret = NULL;
                return err_set(err, -EINVAL, "invalid filters: %s", je.text);
        }
        return 0;
}

static bool label_match(const struct image *img, char **want)
{
        json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
        for (char **w = want; *w; w++) {
                char *eq = strchr(*w, '=');
                _cleanup_free_ char *key = eq ? xstrndup(*w, (size_t)(eq - *w)) : xstrdup(*w);
                json_t *v = json_object_get(labels, key);
                if (!v || (eq && !streq(strempty(json_string_value(v)), eq + 1)))
                        return false;
        }
        return true;
}

static bool name_matches(const char *full, char **pats)
{
        _cleanup_free_ char *fam = image_ref_familiar(full);
        char *sep = strchr(fam, '@');
        if (!sep) {
                char *slash = strrchr(fam, '/');
                sep = strrchr(slash ? slash : fam, ':');
        }
        _cleanup_free_ char *repo = sep ? xstrndup(fam, (size_t)(sep - fam)) : xstrdup(fam);
        for (char **p = pats; *p; p++)
                if (fnmatch(*p, fam, FNM_PATHNAME) == 0 || fnmatch(*p, repo, FNM_PATHNAME) == 0 ||
                    fnmatch(*p, full, FNM_PATHNAME) == 0)
                        return true;
        return false;
}

static bool reference_match(struct image_store *s, const struct image *img, char **pats)
{
        if (!pats[0])
                return true;
        _cleanup_strv_ char **names = image_names(s, img->id);
        for (char **n = names; *n; n++)
                if (name_matches(*n, pats))
                        return true;
        return false;
}

/* With a reference filter, an entry shows only the names that matched (as
 * dockerd does), so that `docker images REPO:TAG` prints one row. */
static void restrict_names(json_t *summary, const char *key, char **pats)
{
        json_t *a = json_object_get(summary, key);
        for (size_t i = json_array_size(a); i-- > 0;) {
                struct image_ref r;
                const char *n = json_string_value(json_array_get(a, i));
                bool keep = false;
                if (image_ref_parse(n, &r, NULL) == 0) {
                        _cleanup_free_ char *full = image_ref_full(&r);
                        keep = name_matches(full, pats);
                        image_ref_done(&r);
                }
                if (!keep)
                        json_array_remove(a, i);
        }
}

int image_list(struct image_store *s, const struct image_list_opts *opts, json_t **ret,
               struct berth_err *err)
{
        _cleanup_json_p_ json_t *f = NULL;
        int r = parse_filters(opts ? opts->filters : NULL, &f, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **dangling = filter_values(f, "dangling");
        _cleanup_strv_ char **labels = filter_values(f, "label");
        _cleanup_strv_ char **refs = filter_values(f, "reference");
        _cleanup_strv_ char **before = filter_values(f, "before");
        _cleanup_strv_ char **since = filter_values(f, "since");
        int want_dangling = -1;
        if (dangling[0]) {
                bool b;
                if (parse_bool(dangling[0], &b) < 0)
                        return err_set(err, -EINVAL, "invalid filter 'dangling=%s'", dangling[0]);
                want_dangling = b;
        }
        pthread_mutex_lock(&s->lock);
        int64_t before_ns = INT64_MAX, since_ns = INT64_MIN;
        if (before[0] || since[0]) {
                struct image *x;
                if (before[0]) {
                        r = image_resolve_locked(s, before[0], &x, err);
                        if (r < 0)
                                goto out;
                        before_ns = x->created_ns;
                }
                if (since[0]) {
                        r = image_resolve_locked(s, since[0], &x, err);
                        if (r < 0)
                                goto out;
                        since_ns = x->created_ns;
                }
        }
        json_t *a = json_array();
        for (size_t i = 0; i < s->n_images; i++) {
                struct image *img = s->images[i];
                _cleanup_strv_ char **names = image_names(s, img->id);
                bool tagged = names[0] != NULL;
                /* without -a, untagged images that are parents of others are hidden */
                if (!(opts && opts->all) && !tagged && has_children(s, img))
                        continue;
                if (want_dangling >= 0 && (want_dangling == tagged))
                        continue;
                if (labels[0] && !label_match(img, labels))
                        continue;
                if (!reference_match(s, img, refs))
                        continue;
                if (img->created_ns >= before_ns || img->created_ns <= since_ns)
                        continue;
                json_t *o = summary(s, img);
                if (refs[0]) {
                        restrict_names(o, "RepoTags", refs);
                        restrict_names(o, "RepoDigests", refs);
                }
                json_array_append_new(a, o);
        }
        /* newest first, as docker lists them */
        size_t n = json_array_size(a);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0; j--) {
                        json_t *x = json_array_get(a, j - 1), *y = json_array_get(a, j);
                        if (json_integer_value(json_object_get(x, "Created")) >=
                            json_integer_value(json_object_get(y, "Created")))
                                break;
                        json_incref(x);
                        json_array_set(a, j - 1, y);
                        json_array_set_new(a, j, x);
                }
        *ret = a;
        r = 0;
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int kv_add(void *ud, const char *k, const char *v)
{
        json_object_set_new(ud, k, json_string(v));
        return 0;
}

/* ContainerConfig as dockerd shows it: its Go struct, every field present
 * and zero unless the image config's container_config sets it (an image
 * made without one shows the zero struct). */
static json_t *container_config_json(json_t *ccfg)
{
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, s:n, s:s, s:n, s:s, s:n, s:n, "
            "s:n}",
            "Hostname", "", "Domainname", "", "User", "", "AttachStdin", 0, "AttachStdout", 0,
            "AttachStderr", 0, "Tty", 0, "OpenStdin", 0, "StdinOnce", 0, "Env", "Cmd", "Image", "",
            "Volumes", "WorkingDir", "", "Entrypoint", "OnBuild", "Labels");
        if (json_is_object(ccfg))
                json_object_update(o, ccfg);
        return o;
}

int image_inspect(struct image_store *s, const char *ref, json_t **ret, struct berth_err *err)
{
        _cleanup_free_ char *created = NULL, *tagtime = NULL;
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, ref, &img, err);
        if (r < 0)
                goto out;
        json_t *c = img->config;
        json_t *layers = json_array();
        for (char **ch = img->chain; *ch; ch++)
                json_array_append_new(layers, json_string(layer_find(s, *ch)->diff_id));
        json_t *gd = json_object();
        size_t n = strv_length(img->chain);
        if (n) {
                struct layer *top = layer_find(s, img->chain[n - 1]);
                (void)berth_storage_metadata(s->drv, top->cache_id, kv_add, gd, 0, NULL);
        }
        json_t *cfg = json_object_get(c, "config");
        json_t *ccfg = json_object_get(c, "container_config");
        created = format_rfc3339_ns(img->created_ns);
        tagtime = img->last_tag_ns
                      ? format_rfc3339_ns(img->last_tag_ns)
                      : xstrdup("0001-01-01T00:00:00Z"); /* Go's zero time, as dockerd */
        int64_t size = image_size(s, img);
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:O, s:s, s:s, s:I, s:I, "
            "s:{s:s, s:o}, s:{s:s, s:o}, s:{s:s?}}",
            "Id", img->id, "RepoTags", names_json(s, img->id, false), "RepoDigests",
            names_json(s, img->id, true), "Parent", strempty(img->parent), "Comment",
            strempty(json_string_value(json_object_get(c, "comment"))), "Created", created,
            "Container", strempty(json_string_value(json_object_get(c, "container"))),
            "ContainerConfig", container_config_json(ccfg), "DockerVersion",
            strempty(json_string_value(json_object_get(c, "docker_version"))), "Author",
            strempty(json_string_value(json_object_get(c, "author"))), "Config",
            json_is_object(cfg) ? cfg : json_null(), "Architecture",
            json_string_value(json_object_get(c, "architecture")) ?: "amd64", "Os",
            json_string_value(json_object_get(c, "os")) ?: "linux", "Size", (json_int_t)size,
            "VirtualSize", (json_int_t)size, "GraphDriver", "Name", s->drv->name, "Data", gd,
            "RootFS", "Type", "layers", "Layers", layers, "Metadata", "LastTagTime", tagtime);
        const char *variant = json_string_value(json_object_get(c, "variant"));
        if (variant)
                json_object_set_new(o, "Variant", json_string(variant));
        *ret = o;
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_history(struct image_store *s, const char *ref, json_t **ret, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        struct image *img;
        int r = image_resolve_locked(s, ref, &img, err);
        if (r < 0)
                goto out;
        json_t *hist = json_object_get(img->config, "history");
        json_t *a = json_array();
        size_t n_layers = strv_length(img->chain);
        size_t layer_i = 0;
        size_t n = json_array_size(hist);
        /* history entries in order; each non-empty one owns the next layer */
        struct {
                json_t *o;
                bool empty;
        } *rows = xzalloc((n + 1) * sizeof(*rows));
        for (size_t i = 0; i < n; i++) {
                json_t *h = json_array_get(hist, i);
                bool empty = json_is_true(json_object_get(h, "empty_layer"));
                int64_t size = 0;
                if (!empty && layer_i < n_layers)
                        size = layer_find(s, img->chain[layer_i++])->size;
                rows[i].o = json_pack(
                    "{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>", "Created",
                    (json_int_t)(parse_rfc3339_ns(
                                     json_string_value(json_object_get(h, "created"))) /
                                 1000000000),
                    "CreatedBy", strempty(json_string_value(json_object_get(h, "created_by"))),
                    "Tags", "Size", (json_int_t)size, "Comment",
                    strempty(json_string_value(json_object_get(h, "comment"))));
        }
        if (n == 0) /* no history: one row per layer */
                for (size_t i = 0; i < n_layers; i++)
                        json_array_append_new(
                            a, json_pack("{s:s, s:I, s:s, s:n, s:I, s:s}", "Id", "<missing>",
                                         "Created", (json_int_t)(img->created_ns / 1000000000),
                                         "CreatedBy", "", "Tags", "Size",
                                         (json_int_t)layer_find(s, img->chain[i])->size, "Comment",
                                         ""));
        /* newest first; the top row is the image itself */
        for (size_t i = n; i-- > 0;)
                json_array_append_new(a, rows[i].o);
        free(rows);
        /* the top row is the image itself, the next its parent, and so on
         * while parents are here (moby's rule: a built image shows its
         * intermediate images) */
        struct image *hi = img;
        for (size_t i = 0; hi && i < json_array_size(a); i++) {
                json_t *row = json_array_get(a, i);
                json_object_set_new(row, "Id", json_string(hi->id));
                json_object_set_new(row, "Tags", names_json(s, hi->id, false));
                hi = hi->parent ? image_find(s, hi->parent) : NULL;
        }
        *ret = a;
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* --- remove and prune ------------------------------------------------------ */

static int in_use(struct image_store *s, const char *id, char *who, size_t len)
{
        if (!s->usage_fn)
                return 0;
        return s->usage_fn(s->usage_ud, id, who, len);
}

static void untag_all(struct image_store *s, const char *id, json_t *out)
{
        _cleanup_strv_ char **names = image_names(s, id);
        for (char **n = names; *n; n++) {
                _cleanup_free_ char *fam = image_ref_familiar(*n);
                json_array_append_new(out, json_pack("{s:s}", "Untagged", fam));
                json_object_del(s->refs, *n);
        }
}

/* Delete `img` and (unless noprune) its untagged, childless parents. */
static int delete_chain(struct image_store *s, struct image *img, bool noprune, json_t *out,
                        int64_t *freed, struct berth_err *err)
{
        while (img) {
                _cleanup_free_ char *parent = img->parent ? xstrdup(img->parent) : NULL;
                _cleanup_free_ char *id = xstrdup(img->id);
                int64_t f = 0;
                int r = image_delete(s, img, &f, err);
                if (r < 0)
                        return r;
                *freed += f;
                json_array_append_new(out, json_pack("{s:s}", "Deleted", id));
                img = NULL;
                if (noprune || !parent)
                        break;
                struct image *p = image_find(s, parent);
                _cleanup_strv_ char **pn = p ? image_names(s, p->id) : NULL;
                if (p && !pn[0] && !has_children(s, p) && in_use(s, p->id, NULL, 0) <= 0)
                        img = p;
        }
        return 0;
}

int image_remove(struct image_store *s, const char *ref, bool force, bool noprune, json_t **ret,
                 struct berth_err *err)
{
        _cleanup_free_ char *by_name = NULL;
        _cleanup_strv_ char **names = NULL;
        pthread_mutex_lock(&s->lock);
        struct image *img;
        json_t *out = json_array();
        int64_t freed = 0;
        int r = image_resolve_locked(s, ref, &img, err);
        if (r < 0)
                goto out;
        /* by name: the reference that matched */
        struct image_ref pr;
        if (!startswith(ref, "sha256:") && image_ref_parse(ref, &pr, NULL) == 0) {
                _cleanup_free_ char *full = image_ref_full(&pr);
                image_ref_done(&pr);
                if (json_object_get(s->refs, full))
                        by_name = TAKE_PTR(full);
        }
        names = image_names(s, img->id);
        size_t n_names = 0; /* tags; digest references go with the image */
        for (char **n = names; *n; n++)
                n_names += !strchr(*n, '@');
        char who[128] = "";
        int users = in_use(s, img->id, who, sizeof(who));

        size_t others = by_name && strchr(by_name, '@') ? strv_length(names) : n_names;
        if (by_name && (others > 1 || (users > 0 && force))) {
                /* one of several names, or an image in use untagged by force */
                _cleanup_free_ char *fam = image_ref_familiar(by_name);
                json_object_del(s->refs, by_name);
                json_array_append_new(out, json_pack("{s:s}", "Untagged", fam));
                r = refs_save(s, err);
                goto out;
        }
        if (users > 0) {
                _cleanup_free_ char *shortid = xstrndup(img->id + 7, 12);
                if (by_name)
                        r = err_set(err, -EBUSY,
                                    "conflict: unable to remove repository reference \"%s\" (must "
                                    "force) - container %.12s is using its referenced image %s",
                                    ref, who, shortid);
                else
                        r = err_set(err, -EBUSY,
                                    "conflict: unable to delete %s (%s) - image is being used by "
                                    "running container %.12s",
                                    shortid, force ? "cannot be forced" : "must be forced", who);
                goto out;
        }
        if (!by_name && n_names > 1 && !force) {
                _cleanup_free_ char *shortid = xstrndup(img->id + 7, 12);
                r = err_set(err, -EBUSY,
                            "conflict: unable to delete %s (must be forced) - image is referenced "
                            "in multiple repositories",
                            shortid);
                goto out;
        }
        if (has_children(s, img)) {
                _cleanup_free_ char *shortid = xstrndup(img->id + 7, 12);
                if (by_name) { /* untag; the image stays for its children */
                        untag_all(s, img->id, out);
                        r = refs_save(s, err);
                        goto out;
                }
                r = err_set(err, -EBUSY,
                            "conflict: unable to delete %s (cannot be forced) - image has "
                            "dependent child images",
                            shortid);
                goto out;
        }
        untag_all(s, img->id, out);
        r = refs_save(s, err);
        if (r < 0)
                goto out;
        r = delete_chain(s, img, noprune, out, &freed, err);
out:
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                json_decref(out);
                return r;
        }
        *ret = out;
        return 0;
}

int image_prune(struct image_store *s, const char *filters, json_t **ret, struct berth_err *err)
{
        _cleanup_json_p_ json_t *f = NULL;
        int r = parse_filters(filters, &f, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **dangling = filter_values(f, "dangling");
        _cleanup_strv_ char **labels = filter_values(f, "label");
        _cleanup_strv_ char **until = filter_values(f, "until");
        bool only_dangling = true;
        if (dangling[0] && parse_bool(dangling[0], &only_dangling) < 0)
                return err_set(err, -EINVAL, "invalid filter 'dangling=%s'", dangling[0]);
        int64_t until_ns;
        r = filters_until(until[0], &until_ns, err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&s->lock);
        json_t *out = json_array();
        int64_t freed = 0;
        bool again = true;
        while (again) { /* removing a child can make its parent prunable */
                again = false;
                for (size_t i = 0; i < s->n_images; i++) {
                        struct image *img = s->images[i];
                        _cleanup_strv_ char **names = image_names(s, img->id);
                        if (only_dangling && names[0])
                                continue;
                        if (has_children(s, img) || in_use(s, img->id, NULL, 0) > 0)
                                continue;
                        if (img->created_ns >= until_ns)
                                continue;
                        if (labels[0] && !label_match(img, labels))
                                continue;
                        untag_all(s, img->id, out);
                        r = refs_save(s, err);
                        if (r == 0)
                                r = delete_chain(s, img, true, out, &freed, err);
                        if (r < 0)
                                goto out;
                        again = true;
                        break;
                }
        }
        *ret = json_pack("{s:o, s:I}", "ImagesDeleted",
                         json_array_size(out) ? json_incref(out) : json_null(), "SpaceReclaimed",
                         (json_int_t)freed);
        r = 0;
out:
        json_decref(out);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int image_df(struct image_store *s, json_t **ret, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        int64_t layers_size = 0;
        for (size_t i = 0; i < s->n_layers; i++)
                layers_size += s->layers[i]->size;
        json_t *imgs = json_array();
        for (size_t i = 0; i < s->n_images; i++) {
                struct image *img = s->images[i];
                json_t *o = summary(s, img);
                /* shared: bytes of layers that other images use too */
                int64_t shared = 0;
                for (char **c = img->chain; *c; c++) {
                        struct layer *l = layer_find(s, *c);
                        if (l->refs > 1)
                                shared += l->size;
                }
                int users = in_use(s, img->id, NULL, 0);
                json_object_set_new(o, "SharedSize", json_integer(shared));
                json_object_set_new(o, "Containers", json_integer(users > 0 ? users : 0));
                json_array_append_new(imgs, o);
        }
        *ret = json_pack("{s:I, s:o}", "LayersSize", (json_int_t)layers_size, "Images", imgs);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int image_layer_path(struct image_store *s, const char *diff_id, char **ret, struct berth_err *err)
{
        if (!digest_valid(diff_id))
                return err_set(err, -EINVAL, "invalid layer digest %s", diff_id);
        char *p = blob_path(s, diff_id);
        if (access(p, R_OK) < 0) {
                int r = err_errno(err, -errno, "layer %s", diff_id);
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}
