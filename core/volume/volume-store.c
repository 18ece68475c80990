/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volume records, and the /volumes endpoints' operations. */
#include "base/events.h"
#include "volume.h"
#include "base/filters.h"
#include "volume-internal.h"
#include "base/log.h"

#include <fnmatch.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/stat.h>

bool volume_name_valid(const char *n)
{
        size_t l = strlen(n);
        if (l < 2 || l > 120 ||
            !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", n[0]))
                return false;
        return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == l;
}

static char *rec_path(struct volume_store *s, const char *name)
{
        return xasprintf("%s/%s.json", s->dir, name);
}

struct driver *vs_driver(struct volume_store *s, const char *name)
{
        return driver_set_find(&s->drivers, BERTH_KIND_VOLUME, name);
}

static int adopt(void *ud, const char *name)
{
        struct volume_store *s = ((void **)ud)[0];
        struct driver *d = ((void **)ud)[1];
        if (json_object_get(s->recs, name))
                return 0;
        /* Data the driver has without a record (a crash between the two
         * writes, or an older data root): keep it visible. */
        _cleanup_free_ char *now = json_time_ns(now_ns());
        json_t *rec = json_pack("{s:s, s:s, s:{}, s:{}, s:s}", "Name", name, "Driver", d->name,
                                "Labels", "Options", "CreatedAt", now);
        _cleanup_free_ char *p = rec_path(s, name);
        json_save_path(p, rec, 0600, NULL);
        json_object_set_new(s->recs, name, rec);
        return 0;
}

int volume_store_open(struct berth_config *cfg, const struct driver_set *drivers,
                      struct volume_store **ret, struct berth_err *err)
{
        struct volume_store *s = xzalloc(sizeof(*s));
        s->cfg = cfg;
        s->drivers = *drivers;
        s->dir = xasprintf("%s/volume-meta", cfg->data_root);
        pthread_mutex_init(&s->lock, NULL);
        s->recs = json_object();
        s->pins = json_object();
        int r = mkdir_p(s->dir, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", s->dir);
                volume_store_close(s);
                return r;
        }
        _cleanup_closedir_ DIR *d = opendir(s->dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (!endswith(de->d_name, ".json"))
                        continue;
                _cleanup_free_ char *name =
                    xstrndup(de->d_name, strlen(de->d_name) - strlen(".json"));
                _cleanup_free_ char *p = xasprintf("%s/%s", s->dir, de->d_name);
                json_t *rec = NULL;
                struct berth_err e2 = {0};
                if (!volume_name_valid(name) || json_load_path(p, &rec, &e2) < 0) {
                        log_warn("volume record '%s': %s, ignoring", p, err_msg(&e2));
                        continue;
                }
                struct driver *drv = vs_driver(s, json_get_str(rec, "Driver", ""));
                if (!drv || berth_volume_get(drv, name, NULL, NULL, 0, NULL) == -ENOENT) {
                        /* The driver lost it (or is not loaded): a record
                         * without data would only fail later. */
                        log_warn("volume '%s': driver '%s' %s, dropping its record", name,
                                 json_get_str(rec, "Driver", ""),
                                 drv ? "does not have it" : "is not loaded");
                        json_decref(rec);
                        if (drv)
                                unlink(p);
                        continue;
                }
                json_object_set_new(s->recs, name, rec);
        }
        for (struct driver **dv = s->drivers.volume; dv && *dv; dv++) {
                void *ud[2] = {s, *dv};
                berth_volume_list(*dv, adopt, ud, 0, NULL);
        }
        *ret = s;
        return 0;
}

struct volume_store *volume_store_close(struct volume_store *s)
{
        if (!s)
                return NULL;
        json_decref(s->recs);
        json_decref(s->pins);
        free(s->dir);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

static int not_found(struct berth_err *err, const char *name)
{
        return err_set(err, -ENOENT, "get %s: no such volume", name);
}

static json_t *view(struct volume_store *s, json_t *rec)
{
        const char *name = json_get_str(rec, "Name", "");
        char path[4096] = "";
        struct driver *d = vs_driver(s, json_get_str(rec, "Driver", ""));
        if (d)
                berth_volume_path(d, name, 0, path, sizeof(path), NULL);
        json_t *labels = json_object_get(rec, "Labels");
        json_t *opts = json_object_get(rec, "Options");
        return json_pack(
            "{s:s, s:s, s:O, s:s, s:s, s:O, s:s}", "CreatedAt", json_get_str(rec, "CreatedAt", ""),
            "Driver", json_get_str(rec, "Driver", ""), "Labels",
            json_is_object(labels) ? labels : json_null(), "Mountpoint", path, "Name", name,
            "Options", json_is_object(opts) ? opts : json_null(), "Scope", "local");
}

static void new_name(char ret[65])
{
        uint8_t b[32];
        if (getrandom(b, sizeof(b), 0) != sizeof(b))
                for (size_t i = 0; i < sizeof(b); i++)
                        b[i] = (uint8_t)rand();
        for (size_t i = 0; i < 32; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
}

static void pin_locked(struct volume_store *s, const char *name, const char *id)
{
        if (isempty(id))
                return;
        json_t *l = json_object_get(s->pins, name);
        if (!l) {
                l = json_array();
                json_object_set_new(s->pins, name, l);
        }
        json_array_append_new(l, json_string(id));
}

int volume_ensure(struct volume_store *s, const char *name, const char *driver, json_t *opts,
                  json_t *labels, const char *pin, bool *ret_created, char **ret_name,
                  struct berth_err *err)
{
        char gen[65];
        bool anonymous = isempty(name);
        if (anonymous) {
                new_name(gen);
                name = gen;
        }
        if (isempty(driver))
                driver = s->cfg->volume_default;
        if (!volume_name_valid(name))
                return err_set(err, -EINVAL,
                               "create %s: \"%s\" includes invalid characters for a local volume "
                               "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                               "intended to pass a host directory, use absolute path",
                               name, name);
        if (opts && !json_is_object(opts) && !json_is_null(opts))
                return err_set(err, -EINVAL, "create %s: DriverOpts must be an object", name);
        if (labels && !json_is_object(labels) && !json_is_null(labels))
                return err_set(err, -EINVAL, "create %s: Labels must be an object", name);
        const char *k;
        json_t *v;
        json_object_foreach (opts, k, v)
                if (!json_is_string(v))
                        return err_set(err, -EINVAL, "create %s: option \"%s\" must be a string",
                                       name, k);
        json_object_foreach (labels, k, v)
                if (!json_is_string(v))
                        return err_set(err, -EINVAL, "create %s: label \"%s\" must be a string",
                                       name, k);
        struct driver *d = vs_driver(s, driver);
        if (!d)
                return err_set(err, -ENOENT,
                               "create %s: error looking up volume plugin %s: plugin \"%s\" not "
                               "found",
                               name, driver, driver);

        pthread_mutex_lock(&s->lock);
        json_t *have = json_object_get(s->recs, name);
        if (have) {
                const char *hd = json_get_str(have, "Driver", "");
                if (streq(hd, driver))
                        pin_locked(s, name, pin);
                pthread_mutex_unlock(&s->lock);
                if (!streq(hd, driver))
                        return err_set(
                            err, -EEXIST,
                            "create %s: volume name is already in use with driver \"%s\"", name,
                            hd);
                if (ret_created)
                        *ret_created = false;
                if (ret_name)
                        *ret_name = xstrdup(name);
                return 0;
        }
        _cleanup_strv_ char **o = NULL;
        json_object_foreach (opts, k, v)
                o = strv_push(o, xasprintf("%s=%s", k, json_string_value(v)));
        int r = berth_volume_create(d, name, (const char *const *)o, 0, err);
        if (r < 0) {
                pthread_mutex_unlock(&s->lock);
                return err_prefix(err, "create %s", name);
        }
        _cleanup_free_ char *now = json_time_ns(now_ns());
        /* CreatedAt in Docker's shape: seconds, with the zone. */
        now[19] = '\0';
        _cleanup_free_ char *created = xasprintf("%sZ", now);
        json_t *lab = json_is_object(labels) ? json_deep_copy(labels) : json_object();
        if (anonymous)
                json_object_set_new(lab, VOLUME_LABEL_ANONYMOUS, json_string(""));
        json_t *rec = json_pack(
            "{s:s, s:s, s:o, s:o, s:s}", "Name", name, "Driver", driver, "Labels", lab, "Options",
            json_is_object(opts) ? json_deep_copy(opts) : json_object(), "CreatedAt", created);
        _cleanup_free_ char *p = rec_path(s, name);
        r = json_save_path(p, rec, 0600, err);
        if (r < 0) {
                berth_volume_remove(d, name, BERTH_VOLUME_FORCE, NULL);
                json_decref(rec);
                pthread_mutex_unlock(&s->lock);
                return r;
        }
        json_object_set_new(s->recs, name, rec);
        events_emit("volume", "create", name, json_pack("{s:s}", "driver", driver));
        pin_locked(s, name, pin);
        pthread_mutex_unlock(&s->lock);
        if (ret_created)
                *ret_created = true;
        if (ret_name)
                *ret_name = xstrdup(name);
        return 0;
}

int volume_create(struct volume_store *s, json_t *body, json_t **ret, struct berth_err *err)
{
        const char *name = json_get_str(body, "Name", "");
        _cleanup_free_ char *made = NULL;
        int r = volume_ensure(s, name, json_get_str(body, "Driver", ""),
                              json_object_get(body, "DriverOpts"), json_object_get(body, "Labels"),
                              NULL, NULL, &made, err);
        if (r < 0)
                return r;
        /* A generated name is a named volume all the same (docker volume
         * create without a name): it has no anonymous label. */
        if (isempty(name)) {
                pthread_mutex_lock(&s->lock);
                json_t *rec = json_object_get(s->recs, made);
                if (rec) {
                        json_object_del(json_object_get(rec, "Labels"), VOLUME_LABEL_ANONYMOUS);
                        _cleanup_free_ char *p = rec_path(s, made);
                        json_save_path(p, rec, 0600, NULL);
                }
                pthread_mutex_unlock(&s->lock);
        }
        return volume_inspect(s, made, ret, err);
}

int volume_inspect(struct volume_store *s, const char *name, json_t **ret, struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        json_t *rec = json_object_get(s->recs, name);
        json_t *v = rec ? view(s, rec) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!v)
                return not_found(err, name);
        *ret = v;
        return 0;
}

int volume_driver_of(struct volume_store *s, const char *name, char **ret_driver,
                     struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        json_t *rec = json_object_get(s->recs, name);
        char *d = rec ? xstrdup(json_get_str(rec, "Driver", "")) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (!d)
                return not_found(err, name);
        *ret_driver = d;
        return 0;
}

bool volume_is_anonymous(struct volume_store *s, const char *name)
{
        pthread_mutex_lock(&s->lock);
        json_t *rec = json_object_get(s->recs, name);
        bool a = rec && json_object_get(json_object_get(rec, "Labels"), VOLUME_LABEL_ANONYMOUS);
        pthread_mutex_unlock(&s->lock);
        return a;
}

void volume_unpin(struct volume_store *s, const char *id)
{
        pthread_mutex_lock(&s->lock);
        const char *k;
        void *tmp;
        json_t *l;
        json_object_foreach_safe (s->pins, tmp, k, l) {
                for (size_t i = json_array_size(l); i-- > 0;)
                        if (streq(json_string_value(json_array_get(l, i)), id))
                                json_array_remove(l, i);
                if (!json_array_size(l))
                        json_object_del(s->pins, k);
        }
        pthread_mutex_unlock(&s->lock);
}

void volume_store_set_users_fn(struct volume_store *s, volume_users_fn fn, void *userdata)
{
        s->users_fn = fn;
        s->users_ud = userdata;
}

/* With s->lock held (the users callback takes the container store's lock
 * after it). */
static char **users_locked(struct volume_store *s, const char *name)
{
        if (!s->users_fn)
                return NULL;
        json_t *pins = json_object_get(s->pins, name);
        char **out = s->users_fn(s->users_ud, name, pins);
        /* Pins whose container is gone are done. */
        json_t *live = json_array();
        size_t k;
        json_t *m;
        json_array_foreach (pins, k, m)
                if (strv_contains(out, json_string_value(m)))
                        json_array_append(live, m);
        if (json_array_size(live))
                json_object_set_new(s->pins, name, live);
        else {
                json_object_del(s->pins, name);
                json_decref(live);
        }
        return out;
}

char **volume_users(struct volume_store *s, const char *name)
{
        pthread_mutex_lock(&s->lock);
        char **out = users_locked(s, name);
        pthread_mutex_unlock(&s->lock);
        return out;
}

static bool match(json_t *f, json_t *rec)
{
        if (!filters_match_labels(f, "label", json_object_get(rec, "Labels")))
                return false;
        if (!filters_match_exact(f, "driver", json_get_str(rec, "Driver", "")))
                return false;
        if (filters_has(f, "name")) {
                bool ok = false;
                size_t i;
                json_t *v;
                const char *n = json_get_str(rec, "Name", "");
                json_array_foreach (filters_get(f, "name"), i, v)
                        if (strstr(n, json_string_value(v)))
                                ok = true;
                if (!ok)
                        return false;
        }
        return true;
}

int volume_list(struct volume_store *s, const char *filters, json_t **ret, struct berth_err *err)
{
        static const char *const allowed[] = {"dangling", "driver", "label", "name", NULL};
        _cleanup_json_ json_t *f = NULL;
        int r = filters_parse(filters, allowed, &f, err);
        if (r < 0)
                return r;
        int dangling = filters_bool(f, "dangling", err);
        if (dangling < -1)
                return dangling;
        json_t *list = json_array();
        pthread_mutex_lock(&s->lock);
        json_t *copy = json_deep_copy(s->recs);
        pthread_mutex_unlock(&s->lock);
        const char *k;
        json_t *rec;
        json_object_foreach (copy, k, rec) {
                if (!match(f, rec))
                        continue;
                if (dangling >= 0) {
                        _cleanup_strv_ char **u = volume_users(s, k);
                        if ((u == NULL) != (dangling == 1))
                                continue;
                }
                json_array_append_new(list, view(s, rec));
        }
        json_decref(copy);
        *ret = json_pack("{s:o, s:n}", "Volumes", list, "Warnings");
        return 0;
}

/* Remove a volume no container uses; `except` (a container ID or NULL) is
 * not counted as a user: the container being removed, or whose create is
 * undone. */
static int remove_one(struct volume_store *s, const char *name, const char *except,
                      struct berth_err *err)
{
        pthread_mutex_lock(&s->lock);
        json_t *rec = json_object_get(s->recs, name);
        if (!rec) {
                pthread_mutex_unlock(&s->lock);
                return not_found(err, name);
        }
        _cleanup_strv_ char **users = users_locked(s, name);
        if (users && except && streq(users[0], except) && !users[1])
                users = strv_free(users);
        if (users) {
                _cleanup_free_ char *list = xstrdup("");
                for (char **u = users; *u; u++) {
                        char *n = xasprintf("%s%s%s", list, *list ? " " : "", *u);
                        free(list);
                        list = n;
                }
                pthread_mutex_unlock(&s->lock);
                return err_set(err, -EBUSY, "remove %s: volume is in use - [%s]", name, list);
        }
        struct driver *d = vs_driver(s, json_get_str(rec, "Driver", ""));
        int r = d ? berth_volume_remove(d, name, 0, err) : 0;
        if (r < 0 && r != -ENOENT) {
                pthread_mutex_unlock(&s->lock);
                return err_prefix(err, "remove %s", name);
        }
        _cleanup_free_ char *p = rec_path(s, name);
        unlink(p);
        events_emit("volume", "destroy", name,
                    json_pack("{s:s}", "driver", json_get_str(rec, "Driver", "")));
        json_object_del(s->recs, name);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

int volume_remove_for(struct volume_store *s, const char *name, const char *container,
                      struct berth_err *err)
{
        return remove_one(s, name, container, err);
}

int volume_remove(struct volume_store *s, const char *name, bool force, struct berth_err *err)
{
        int r = remove_one(s, name, NULL, err);
        if (r == -ENOENT && force)
                return 0;
        return r;
}

static int64_t tree_size(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return 0;
        if (!S_ISDIR(st.st_mode))
                return S_ISREG(st.st_mode) ? st.st_size : 0;
        int64_t n = 0;
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", path, de->d_name);
                n += tree_size(p);
        }
        return n;
}

json_t *volume_df(struct volume_store *s)
{
        json_t *out = json_array();
        pthread_mutex_lock(&s->lock);
        json_t *copy = json_deep_copy(s->recs);
        pthread_mutex_unlock(&s->lock);
        const char *k;
        json_t *rec;
        json_object_foreach (copy, k, rec) {
                json_t *v = view(s, rec);
                _cleanup_strv_ char **users = volume_users(s, k);
                json_object_set_new(
                    v, "UsageData",
                    json_pack("{s:I, s:I}", "Size",
                              (json_int_t)tree_size(json_get_str(v, "Mountpoint", "")), "RefCount",
                              (json_int_t)strv_length(users)));
                json_array_append_new(out, v);
        }
        json_decref(copy);
        return out;
}

int volume_prune(struct volume_store *s, const char *filters, bool api_ge_142, json_t **ret,
                 struct berth_err *err)
{
        static const char *const allowed[] = {"label", "label!", "all", NULL};
        _cleanup_json_ json_t *f = NULL;
        int r = filters_parse(filters, allowed, &f, err);
        if (r < 0)
                return r;
        int all = filters_bool(f, "all", err);
        if (all < -1)
                return all;
        bool only_anonymous = all == 1 ? false : all == 0 ? true : api_ge_142;
        pthread_mutex_lock(&s->lock);
        json_t *copy = json_deep_copy(s->recs);
        pthread_mutex_unlock(&s->lock);
        json_t *deleted = json_array();
        int64_t reclaimed = 0;
        const char *k;
        json_t *rec;
        json_object_foreach (copy, k, rec) {
                json_t *labels = json_object_get(rec, "Labels");
                if (only_anonymous && !json_object_get(labels, VOLUME_LABEL_ANONYMOUS))
                        continue;
                if (!filters_match_labels(f, "label", labels))
                        continue;
                if (filters_has(f, "label!")) {
                        bool any = false;
                        size_t i;
                        json_t *v;
                        json_array_foreach (filters_get(f, "label!"), i, v) {
                                _cleanup_json_ json_t *one = json_pack("{s:[O]}", "label", v);
                                if (filters_match_labels(one, "label", labels))
                                        any = true;
                        }
                        if (any)
                                continue;
                }
                _cleanup_strv_ char **users = volume_users(s, k);
                if (users)
                        continue;
                char path[4096] = "";
                struct driver *d = vs_driver(s, json_get_str(rec, "Driver", ""));
                int64_t sz = 0;
                if (d && berth_volume_path(d, k, 0, path, sizeof(path), NULL) == 0)
                        sz = tree_size(path);
                struct berth_err e2 = {0};
                if (remove_one(s, k, NULL, &e2) < 0) {
                        log_warn("volume prune: %s, ignoring", err_msg(&e2));
                        continue;
                }
                reclaimed += sz;
                json_array_append_new(deleted, json_string(k));
        }
        json_decref(copy);
        *ret = json_pack("{s:o, s:I}", "VolumesDeleted", deleted, "SpaceReclaimed",
                         (json_int_t)reclaimed);
        return 0;
}
