/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container record store: records in memory behind one lock, their
 * names, lookup, persistence, and the views of them (inspect, list). */
#include "container-internal.h"
#include "base/events.h"
#include "base/filters.h"
#include "network/network.h"
#include "volume/volume.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <malloc.h>
#include <pthread.h>
#include <regex.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

/* --- names --------------------------------------------------------------- */

bool container_name_valid(const char *name)
{
        const char *p = name[0] == '/' ? name + 1 : name;
        if (!isalnum((unsigned char)p[0]) || strlen(p) < 2 || strlen(p) > 255)
                return false;
        for (p++; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

/* Our own word lists: a harbour's worth of adjectives and things. */
static const char *const adjectives[] = {
    "amber", "brave",  "brisk",  "calm",   "clever", "crisp", "daring", "deft",  "eager",  "fair",
    "fleet", "gentle", "glad",   "grand",  "hardy",  "jolly", "keen",   "kind",  "lively", "lucky",
    "merry", "nimble", "noble",  "plucky", "proud",  "quick", "quiet",  "rapid", "salty",  "serene",
    "sharp", "shy",    "silent", "sleek",  "snug",   "spry",  "steady", "stout", "sturdy", "sunny",
    "swift", "tidy",   "trusty", "vivid",  "wary",   "wise",  "witty",  "zesty",
};
static const char *const nouns[] = {
    "anchor", "bollard", "buoy",   "capstan", "compass",    "cove",    "dinghy",   "dock",
    "ferry",  "fjord",   "galley", "gull",    "harbour",    "hawser",  "helm",     "hull",
    "inlet",  "jetty",   "keel",   "lantern", "lighthouse", "mast",    "mooring",  "oar",
    "pier",   "pilot",   "quay",   "reef",    "rudder",     "sail",    "schooner", "shoal",
    "skiff",  "sloop",   "spar",   "stern",   "tide",       "tugboat", "wharf",    "yawl",
};

char *container_name_generate(unsigned attempt)
{
        uint32_t r[3];
        if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
                r[0] = (uint32_t)now_ns();
                r[1] = (uint32_t)(now_ns() >> 20);
                r[2] = (uint32_t)(now_ns() >> 10);
        }
        const char *a = adjectives[r[0] % ELEMENTSOF(adjectives)];
        const char *n = nouns[r[1] % ELEMENTSOF(nouns)];
        /* 1,920 pairs: after a few clashes, a number makes room (Docker
         * appends a digit on a retry). */
        if (attempt < 4)
                return xasprintf("%s_%s", a, n);
        return xasprintf("%s_%s%u", a, n, r[2] % (attempt < 8 ? 10u : 100000u));
}

/* --- records ------------------------------------------------------------- */

struct record *ct_record_free(struct record *r)
{
        if (r) {
                free(r->name);
                free(r->shim_socket);
                json_decref(r->j);
                free(r);
        }
        return NULL;
}

char *ct_record_path(struct container_store *s, const char *id)
{
        return xasprintf("%s/%s/config.v2.json", s->dir, id);
}

int ct_record_save(struct container_store *s, struct record *r, struct berth_err *err)
{
        _cleanup_free_ char *p = ct_record_path(s, r->id);
        return json_save_path(p, r->j, 0600, err);
}

/* --- the indexes ----------------------------------------------------------- */

static size_t name_hash(const char *bare)
{
        size_t h = 14695981039346656037ULL; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *)bare; *p; p++)
                h = (h ^ *p) * 1099511628211ULL;
        return h;
}

/* the bucket of a name without its leading '/' */
static struct record **name_bucket(struct container_store *s, const char *bare)
{
        return &s->buckets[name_hash(bare) & (s->n_buckets - 1)];
}

static const char *bare_name(const char *name)
{
        return name[0] == '/' ? name + 1 : name;
}

void ct_name_index_locked(struct container_store *s, struct record *r)
{
        struct record **b = name_bucket(s, bare_name(r->name));
        r->name_next = *b;
        *b = r;
}

void ct_name_unindex_locked(struct container_store *s, struct record *r)
{
        for (struct record **p = name_bucket(s, bare_name(r->name)); *p; p = &(*p)->name_next)
                if (*p == r) {
                        *p = r->name_next;
                        r->name_next = NULL;
                        return;
                }
}

static void name_index_grow(struct container_store *s)
{
        size_t old_n = s->n_buckets;
        struct record **old = s->buckets;
        s->n_buckets = old_n ? old_n * 2 : 64;
        s->buckets = xzalloc(s->n_buckets * sizeof(*s->buckets));
        for (size_t i = 0; i < old_n; i++)
                for (struct record *r = old[i], *next; r; r = next) {
                        next = r->name_next;
                        ct_name_index_locked(s, r);
                }
        free(old);
}

/* the first position in by_id whose ID is not below key (compared over
 * key's length: a prefix lands on the first ID that starts with it) */
static size_t id_lower_bound(struct container_store *s, const char *key)
{
        size_t lo = 0, hi = s->n, l = strlen(key);
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strncmp(s->by_id[mid]->id, key, l) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

struct record *ct_find_locked(struct container_store *s, const char *ref, int *ret_error)
{
        *ret_error = -ENOENT;
        if (isempty(ref))
                return NULL;
        /* full ID, then name, then unique prefix (Docker's order) */
        size_t l = strlen(ref);
        bool hex = strspn(ref, "0123456789abcdef") == l;
        size_t at = hex ? id_lower_bound(s, ref) : s->n;
        if (hex && l == 64 && at < s->n && streq(s->by_id[at]->id, ref)) {
                *ret_error = 0;
                return s->by_id[at];
        }
        const char *bare = bare_name(ref);
        if (s->n_buckets)
                for (struct record *r = *name_bucket(s, bare); r; r = r->name_next)
                        if (streq(bare_name(r->name), bare)) {
                                *ret_error = 0;
                                return r;
                        }
        if (!hex || at >= s->n || strncmp(s->by_id[at]->id, ref, l) != 0)
                return NULL;
        if (at + 1 < s->n && strncmp(s->by_id[at + 1]->id, ref, l) == 0) {
                *ret_error = -EINVAL;
                return NULL;
        }
        *ret_error = 0;
        return s->by_id[at];
}

int ct_not_found(struct berth_err *err, const char *ref, int code)
{
        if (code == -EINVAL)
                return err_set(err, -EINVAL, "multiple IDs found with provided prefix: %s", ref);
        return err_set(err, -ENOENT, "No such container: %s", ref);
}

int ct_lock_find(struct container_store *s, const char *ref, struct record **ret,
                 struct berth_err *err)
{
        int code;
        pthread_mutex_lock(&s->lock);
        *ret = ct_find_locked(s, ref, &code);
        if (!*ret) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        return 0;
}

int ct_get_copy(struct container_store *s, const char *ref, char ret_id[65], json_t **ret_rec,
                struct berth_err *err)
{
        int code;
        pthread_mutex_lock(&s->lock);
        struct record *r = ct_find_locked(s, ref, &code);
        if (!r) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, code);
        }
        if (ret_id)
                memcpy(ret_id, r->id, 65);
        if (ret_rec)
                *ret_rec = json_deep_copy(r->j);
        pthread_mutex_unlock(&s->lock);
        return 0;
}

void ct_add_locked(struct container_store *s, struct record *r)
{
        s->recs = xrealloc(s->recs, (s->n + 1) * sizeof(*s->recs));
        s->recs[s->n] = r;
        size_t at = id_lower_bound(s, r->id);
        s->by_id = xrealloc(s->by_id, (s->n + 1) * sizeof(*s->by_id));
        memmove(&s->by_id[at + 1], &s->by_id[at], (s->n - at) * sizeof(*s->by_id));
        s->by_id[at] = r;
        s->n++;
        if (s->n > s->n_buckets)
                name_index_grow(s);
        ct_name_index_locked(s, r);
}

void ct_drop_locked(struct container_store *s, struct record *r)
{
        size_t at = id_lower_bound(s, r->id);
        for (; at < s->n && streq(s->by_id[at]->id, r->id); at++)
                if (s->by_id[at] == r) {
                        memmove(&s->by_id[at], &s->by_id[at + 1],
                                (s->n - at - 1) * sizeof(*s->by_id));
                        break;
                }
        ct_name_unindex_locked(s, r);
        /* creation order is what ps lists by: the pointer is searched from
         * the newest end, where --rm containers are */
        for (size_t i = s->n; i-- > 0;)
                if (s->recs[i] == r) {
                        memmove(&s->recs[i], &s->recs[i + 1], (s->n - i - 1) * sizeof(*s->recs));
                        s->n--;
                        return;
                }
}

/* The daemon trims when its last client goes, but a remove's and an
 * exit's frees come later, and the threads that made them give their
 * malloc caches back only when they end: the trim waits for those
 * (measured: 0.35 MB of heap RSS after 100 containers came and went, kept
 * until the next request). With no container the heap is small and the
 * trim quick. */
static int trim_pending;

static void *trim_main(void *p)
{
        (void)p;
        nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
        __atomic_store_n(&trim_pending, 0, __ATOMIC_RELAXED);
        malloc_trim(0);
        return NULL;
}

void ct_trim_if_empty(struct container_store *s)
{
        pthread_mutex_lock(&s->lock);
        bool empty = s->n == 0;
        pthread_mutex_unlock(&s->lock);
        if (!empty || __atomic_exchange_n(&trim_pending, 1, __ATOMIC_RELAXED))
                return;
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 64 * 1024);
        if (pthread_create(&t, &a, trim_main, NULL) != 0)
                __atomic_store_n(&trim_pending, 0, __ATOMIC_RELAXED);
        pthread_attr_destroy(&a);
}

int container_store_open(const struct container_deps *d, struct container_store **ret,
                         struct berth_err *err)
{
        struct container_store *s = xzalloc(sizeof(*s));
        s->d = *d;
        s->dir = xasprintf("%s/containers", d->cfg->data_root);
        s->run_dir = xasprintf("%s/containers", d->cfg->exec_root);
        s->runtime_root = xasprintf("%s/runtime", d->cfg->exec_root);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->changed, NULL);
        int r = mkdir_p(s->dir, 0700);
        if (r < 0) {
                err_errno(err, r, "cannot create '%s'", s->dir);
                container_store_close(s);
                return r;
        }
        _cleanup_closedir_ DIR *dir = opendir(s->dir);
        struct dirent *de;
        while (dir && (de = readdir(dir))) {
                if (strlen(de->d_name) != 64 || strspn(de->d_name, "0123456789abcdef") != 64)
                        continue;
                _cleanup_free_ char *p = ct_record_path(s, de->d_name);
                json_t *j = NULL;
                struct berth_err lerr = {0};
                if (json_load_path(p, &j, &lerr) < 0) {
                        /* A directory without a record is a create that did
                         * not finish: nothing refers to it. */
                        config_warn(d->cfg, "container %s has no readable record (%s), ignoring",
                                    de->d_name, lerr.msg);
                        continue;
                }
                struct record *rec = xzalloc(sizeof(*rec));
                memcpy(rec->id, de->d_name, 65);
                rec->name = xstrdup(json_get_str(j, "Name", "/unnamed"));
                rec->j = j;
                ct_add_locked(s, rec);
        }
        mkdir_p(s->run_dir, 0700);
        *ret = s;
        return 0;
}

void container_store_shutdown(struct container_store *s)
{
        if (s)
                atomic_store(&s->closing, true);
}

struct container_store *container_store_close(struct container_store *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                ct_record_free(s->recs[i]);
        free(s->recs);
        free(s->by_id);
        free(s->buckets);
        free(s->dir);
        free(s->run_dir);
        free(s->runtime_root);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->changed);
        free(s);
        return NULL;
}

int container_resolve(struct container_store *s, const char *ref, char ret_id[65],
                      struct berth_err *err)
{
        return ct_get_copy(s, ref, ret_id, NULL, err);
}

/* --- views --------------------------------------------------------------- */

static int kv_into(void *ud, const char *k, const char *v)
{
        json_object_set_new(ud, k, json_string(v));
        return 0;
}

int container_inspect(struct container_store *s, const char *ref, json_t **ret,
                      struct berth_err *err)
{
        json_t *j = NULL;
        int r = ct_get_copy(s, ref, NULL, &j, err);
        if (r < 0)
                return r;
        /* GraphDriver from the storage driver, live. */
        json_t *data = json_object();
        berth_storage_metadata(s->d.storage, json_get_str(j, "Id", ""), kv_into, data, 0, NULL);
        json_object_set_new(j, "GraphDriver",
                            json_pack("{s:s, s:o}", "Name", s->d.storage->name, "Data", data));
        /* records made before create set it: the same runtime (see create) */
        json_t *hc = json_object_get(j, "HostConfig");
        if (json_is_object(hc) && isempty(json_get_str(hc, "Runtime", NULL)))
                json_object_set_new(hc, "Runtime", json_string("runc"));
        *ret = j;
        return 0;
}

int64_t ct_parse_time(const char *s)
{
        return parse_rfc3339_ns(s) / 1000000000;
}

static char *status_text(json_t *state)
{
        const char *st = json_get_str(state, "Status", "created");
        char d[64];
        if (streq(st, "running") || streq(st, "paused")) {
                int64_t t = ct_parse_time(json_get_str(state, "StartedAt", ""));
                human_duration(time(NULL) - t, d, sizeof(d));
                const char *h = json_get_str(json_object_get(state, "Health"), "Status", NULL);
                const char *hs = !h                      ? ""
                                 : streq(h, "starting")  ? " (health: starting)"
                                 : streq(h, "healthy")   ? " (healthy)"
                                 : streq(h, "unhealthy") ? " (unhealthy)"
                                                         : "";
                return xasprintf("Up %s%s%s", d, streq(st, "paused") ? " (Paused)" : "", hs);
        }
        if (streq(st, "exited")) {
                int64_t t = ct_parse_time(json_get_str(state, "FinishedAt", ""));
                human_duration(time(NULL) - t, d, sizeof(d));
                return xasprintf("Exited (%lld) %s ago",
                                 (long long)json_get_int(state, "ExitCode", 0), d);
        }
        if (streq(st, "created"))
                return xstrdup("Created");
        return xstrdup(st);
}

static bool match_filters(json_t *f, json_t *j)
{
        json_t *state = json_object_get(j, "State");
        json_t *cfg = json_object_get(j, "Config");
        const char *id = json_get_str(j, "Id", "");
        const char *name = json_get_str(j, "Name", "");
        size_t i;
        json_t *v;
        if (!filters_match_labels(f, "label", json_object_get(cfg, "Labels")))
                return false;
        if (!filters_match_exact(f, "status", json_get_str(state, "Status", "")))
                return false;
        if (filters_has(f, "id")) {
                bool ok = false;
                json_array_foreach (filters_get(f, "id"), i, v)
                        if (startswith(id, json_string_value(v)))
                                ok = true;
                if (!ok)
                        return false;
        }
        if (filters_has(f, "name")) {
                bool ok = false;
                json_array_foreach (filters_get(f, "name"), i, v) {
                        regex_t re;
                        if (regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB) == 0) {
                                if (regexec(&re, name + 1, 0, NULL, 0) == 0 ||
                                    regexec(&re, name, 0, NULL, 0) == 0)
                                        ok = true;
                                regfree(&re);
                        }
                }
                if (!ok)
                        return false;
        }
        if (filters_has(f, "volume") &&
            !volume_filter_match(filters_get(f, "volume"), json_object_get(j, "Mounts")))
                return false;
        if (filters_has(f, "health")) {
                const char *h = json_get_str(json_object_get(state, "Health"), "Status", "none");
                if (!filters_match_exact(f, "health", h))
                        return false;
        }
        if (filters_has(f, "exited")) {

                if (!streq(json_get_str(state, "Status", ""), "exited"))
                        return false;
                char code[16];
                snprintf(code, sizeof(code), "%lld", (long long)json_get_int(state, "ExitCode", 0));
                if (!filters_match_exact(f, "exited", code))
                        return false;
        }
        if (filters_has(f, "ancestor")) {
                bool ok = false;
                const char *img = json_get_str(cfg, "Image", "");
                const char *img_id = json_get_str(j, "Image", "");
                json_array_foreach (filters_get(f, "ancestor"), i, v) {
                        const char *a = json_string_value(v);
                        if (streq(a, img) || streq(a, img_id) || startswith(img_id + 7, a) ||
                            fnmatch(a, img, 0) == 0)
                                ok = true;
                        _cleanup_free_ char *withtag = xasprintf("%s:latest", a);
                        if (streq(withtag, img))
                                ok = true;
                }
                if (!ok)
                        return false;
        }
        return true;
}

int container_list(struct container_store *s, const struct container_list_opts *o, json_t **ret,
                   struct berth_err *err)
{
        static const char *const allowed[] = {"label",    "status",  "id",     "name",    "exited",
                                              "ancestor", "before",  "since",  "health",  "network",
                                              "volume",   "publish", "expose", "is-task", NULL};
        _cleanup_json_ json_t *f = NULL;
        int r = filters_parse(o->filters, allowed, &f, err);
        if (r < 0)
                return r;
        json_t *out = json_array();
        pthread_mutex_lock(&s->lock);
        /* Newest first. */
        for (size_t k = s->n; k-- > 0;) {
                json_t *j = s->recs[k]->j;
                json_t *state = json_object_get(j, "State");
                const char *st = json_get_str(state, "Status", "created");
                bool running =
                    streq(st, "running") || streq(st, "paused") || streq(st, "restarting");
                if (!o->all && !running && !filters_has(f, "status"))
                        continue;
                if (!match_filters(f, j))
                        continue;
                json_t *cfg = json_object_get(j, "Config");
                json_t *cmd = json_array();
                json_array_extend(cmd, json_object_get(cfg, "Entrypoint"));
                json_array_extend(cmd, json_object_get(cfg, "Cmd"));
                char *command = xstrdup("");
                size_t i;
                json_t *v;
                json_array_foreach (cmd, i, v) {
                        char *n = xasprintf("%s%s%s", command, i ? " " : "", json_string_value(v));
                        free(command);
                        command = n;
                }
                json_decref(cmd);
                _cleanup_free_ char *status = status_text(state);
                /* Copies: the rows are dumped after the lock is dropped,
                 * while exit handling may edit the record's own objects. */
                json_t *labels = json_object_get(cfg, "Labels");
                json_t *nets = json_object_get(json_object_get(j, "NetworkSettings"), "Networks");
                json_t *mounts = json_object_get(j, "Mounts");
                json_t *e = json_pack(
                    "{s:s, s:[s], s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:s, s:{s:s}, s:{s:o}, s:o}",
                    "Id", s->recs[k]->id, "Names", s->recs[k]->name, "Image",
                    json_get_str(cfg, "Image", ""), "ImageID", json_get_str(j, "Image", ""),
                    "Command", command, "Created",
                    (json_int_t)ct_parse_time(json_get_str(j, "Created", "")), "Ports",
                    network_list_ports(j), "Labels",
                    json_is_object(labels) ? json_deep_copy(labels) : json_object(), "State", st,
                    "Status", status, "HostConfig", "NetworkMode",
                    json_get_str(json_object_get(j, "HostConfig"), "NetworkMode", "default"),
                    "NetworkSettings", "Networks",
                    json_is_object(nets) ? json_deep_copy(nets) : json_object(), "Mounts",
                    json_is_array(mounts) ? json_deep_copy(mounts) : json_array());
                free(command);
                if (o->size) {
                        int64_t sz = 0;
                        berth_storage_diff_size(s->d.storage, s->recs[k]->id, NULL, 0, &sz, NULL);
                        json_object_set_new(e, "SizeRw", json_integer(sz));
                        json_object_set_new(e, "SizeRootFs", json_integer(sz));
                }
                json_array_append_new(out, e);
                if (o->limit > 0 && (int64_t)json_array_size(out) >= o->limit)
                        break;
        }
        pthread_mutex_unlock(&s->lock);
        *ret = out;
        return 0;
}

/* --- changes -------------------------------------------------------------- */

bool ct_is_running(json_t *j)
{
        const char *st = json_get_str(json_object_get(j, "State"), "Status", "");
        return streq(st, "running") || streq(st, "paused") || streq(st, "restarting");
}

int ct_remove_files(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        ct_remove_files(p);
                else
                        unlink(p);
        }
        return rmdir(dir) < 0 ? -errno : 0;
}

int container_rename(struct container_store *s, const char *ref, const char *new_name,
                     struct berth_err *err)
{
        if (isempty(new_name) || !container_name_valid(new_name))
                return err_set(
                    err, -EINVAL,
                    "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                    strempty(new_name));
        _cleanup_free_ char *full = xasprintf("/%s", new_name[0] == '/' ? new_name + 1 : new_name);
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        for (struct record *o = *name_bucket(s, full + 1); o; o = o->name_next)
                if (o != r && streq(o->name, full)) {
                        pthread_mutex_unlock(&s->lock);
                        return err_set(err, -EEXIST,
                                       "Conflict. The container name \"%s\" is already in use by "
                                       "container \"%s\". You have to remove (or rename) that "
                                       "container to be able to reuse that name.",
                                       full, o->id);
                }
        char *old = r->name;
        ct_name_unindex_locked(s, r);
        r->name = xstrdup(full);
        ct_name_index_locked(s, r);
        json_object_set_new(r->j, "Name", json_string(full));
        int rr = ct_record_save(s, r, err);
        if (rr < 0) {
                ct_name_unindex_locked(s, r);
                free(r->name);
                r->name = old;
                ct_name_index_locked(s, r);
                json_object_set_new(r->j, "Name", json_string(old));
        } else {
                events_container(r->j, "rename",
                                 json_pack("{s:s}", "oldName", old[0] == '/' ? old + 1 : old));
                free(old);
        }
        pthread_mutex_unlock(&s->lock);
        return rr;
}

void container_counts(struct container_store *s, int64_t *total, int64_t *running, int64_t *paused,
                      int64_t *stopped)
{
        *total = *running = *paused = *stopped = 0;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
                const char *st =
                    json_get_str(json_object_get(s->recs[i]->j, "State"), "Status", "");
                (*total)++;
                if (streq(st, "running") || streq(st, "restarting"))
                        (*running)++;
                else if (streq(st, "paused"))
                        (*paused)++;
                else
                        (*stopped)++;
        }
        pthread_mutex_unlock(&s->lock);
}

int container_image_usage(void *userdata, const char *image_id, char *ret_container, size_t ret_len)
{
        struct container_store *s = userdata;
        int n = 0;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++)
                if (streq(json_get_str(s->recs[i]->j, "Image", ""), image_id)) {
                        if (n++ == 0 && ret_container)
                                snprintf(ret_container, ret_len, "%s", s->recs[i]->id);
                }
        pthread_mutex_unlock(&s->lock);
        return n;
}

char **container_volume_users(void *userdata, const char *name, json_t *pins)
{
        struct container_store *s = userdata;
        char **out = NULL;
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
                const char *id = s->recs[i]->id;
                bool user = false;
                size_t k;
                json_t *m;
                json_array_foreach (json_object_get(s->recs[i]->j, "Mounts"), k, m)
                        if (streq(json_get_str(m, "Type", ""), "volume") &&
                            streq(json_get_str(m, "Name", ""), name))
                                user = true;
                json_array_foreach (pins, k, m)
                        if (streq(json_string_value(m), id))
                                user = true;
                if (user)
                        out = strv_push(out, xstrdup(id));
        }
        pthread_mutex_unlock(&s->lock);
        return out;
}
