/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The project loader (compose.h): options -> files -> one merged document ->
 * the model. The steps follow docker compose v2's: the environment (OS, then
 * the .env files, whose COMPOSE_* keys also configure the loader), the files
 * (-f, COMPOSE_FILE, or discovery walking up from the working directory, plus
 * the override file), the project name, then per file: parse, !reset and
 * !override, interpolation, validation, include, extends, merge; then the
 * extension fields go, env_file is read into environment, profiles split
 * the services, and the normalizer makes the model. */
#include "compose-interp.h"
#include "compose-load.h"
#include "compose-model.h"

#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const char *const default_files[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                            "docker-compose.yaml", NULL};
static const char *const override_files[] = {"compose.override.yml", "compose.override.yaml",
                                             "docker-compose.override.yml",
                                             "docker-compose.override.yaml", NULL};

struct ld {
        const struct compose_options *o;
        char *cwd;
        json_t *osenv;
        json_t *warnings;
        bool interpolate;
        char *stdin_text; /* "-f -" is read once */
};

/* ---- small path helpers ---- */

static char *path_join(const char *dir, const char *p)
{
        if (!p || p[0] == '/' || !dir)
                return xstrdup(p ?: "");
        if (streq(p, "."))
                return xstrdup(dir);
        if (startswith(p, "./"))
                p += 2;
        size_t n = strlen(dir);
        return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", p);
}

static char *path_abs(const char *cwd, const char *p)
{
        _cleanup_free_ char *j = path_join(cwd, p);
        return path_clean(j);
}

static char *path_dir(const char *p)
{
        const char *s = strrchr(p, '/');
        if (!s)
                return xstrdup(".");
        if (s == p)
                return xstrdup("/");
        return xstrndup(p, (size_t)(s - p));
}

static bool is_file(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* ---- environment ---- */

static json_t *env_object(char **envp)
{
        json_t *o = json_object();
        for (char **e = envp; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                if (!eq || eq == *e)
                        continue;
                _cleanup_free_ char *k = xstrndup(*e, (size_t)(eq - *e));
                json_t *v = json_string(eq + 1);
                if (v)
                        json_object_set_new(o, k, v);
        }
        return o;
}

static const char *env_get(const json_t *env, const char *k)
{
        return json_string_value(json_object_get(env, k));
}

static bool env_true(const json_t *env, const char *k)
{
        const char *v = env_get(env, k);
        bool b = false;
        return v && parse_bool(v, &b) == 0 && b;
}

/* The env files for a project directory: --env-file (relative to the
 * current directory), COMPOSE_ENV_FILES, else <dir>/.env if it is a file. */
static char **env_file_list(struct ld *ld, const json_t *env, const char *dir)
{
        char **v = NULL;
        if (ld->o->env_files && ld->o->env_files[0]) {
                for (char **f = ld->o->env_files; *f; f++)
                        v = strv_push(v, path_abs(ld->cwd, *f));
                return v;
        }
        const char *cef = env_get(env, "COMPOSE_ENV_FILES");
        if (cef && *cef) {
                _cleanup_(strv_freep) char **parts = strv_split(cef, ",");
                for (char **f = parts; f && *f; f++)
                        v = strv_push(v, path_abs(ld->cwd, *f));
                return v;
        }
        if (env_true(env, "COMPOSE_DISABLE_ENV_FILE"))
                return NULL;
        char *d = path_join(dir, ".env");
        if (is_file(d))
                return strv_push(v, d);
        free(d);
        return NULL;
}

/* The values of env files (later files win), interpolated against `lookup`. */
static int env_files_read(char **files, const json_t *lookup, json_t *out, struct berth_err *err)
{
        for (char **f = files; f && *f; f++) {
                int r = compose_env_read(*f, lookup, false, out, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- reading and preparing one file ---- */

struct doc {
        json_t *doc;
        struct compose_marks *marks;
        json_t *resets; /* [[key, key, ...], ...]: paths the file resets or overrides */
        char *path;
};

static void doc_done(struct doc *d)
{
        json_decref(d->doc);
        json_decref(d->resets);
        compose_marks_free(d->marks);
        free(d->path);
        *d = (struct doc){0};
}

/* Unwrap !reset (the key goes) and !override (the value stays): both make
 * the path reset in what earlier files defined. */
static json_t *unwrap_tags(json_t *v, json_t *path, json_t *resets, bool *drop)
{
        *drop = false;
        if (json_is_object(v) && json_object_size(v) == 1) {
                json_t *r = json_object_get(v, COMPOSE_TAG_RESET);
                json_t *o = json_object_get(v, COMPOSE_TAG_OVERRIDE);
                if (r) {
                        json_array_append_new(resets, json_deep_copy(path));
                        *drop = true;
                        return NULL;
                }
                if (o) {
                        json_array_append_new(resets, json_deep_copy(path));
                        json_t *inner = json_incref(o);
                        json_auto_t *nested = json_array();
                        bool d2;
                        json_t *u = unwrap_tags(inner, path, nested, &d2);
                        json_decref(inner);
                        return u;
                }
        }
        if (json_is_object(v)) {
                const char *k;
                json_t *x;
                void *tmp;
                json_object_foreach_safe (v, tmp, k, x) {
                        json_array_append_new(path, json_string(k));
                        bool d;
                        json_t *u = unwrap_tags(x, path, resets, &d);
                        json_array_remove(path, json_array_size(path) - 1);
                        if (d)
                                json_object_del(v, k);
                        else if (u != x)
                                json_object_set_new(v, k, u);
                        else
                                json_decref(u);
                }
        } else if (json_is_array(v)) {
                for (size_t i = 0; i < json_array_size(v);) {
                        json_t *x = json_array_get(v, i);
                        json_array_append_new(path, json_integer((json_int_t)i));
                        bool d;
                        json_t *u = unwrap_tags(x, path, resets, &d);
                        json_array_remove(path, json_array_size(path) - 1);
                        if (d) {
                                json_array_remove(v, i);
                                continue;
                        }
                        if (u != x)
                                json_array_set_new(v, i, u);
                        else
                                json_decref(u);
                        i++;
                }
        }
        return json_incref(v);
}

static int read_text(struct ld *ld, const char *path, char **ret, size_t *ret_len,
                     struct berth_err *err)
{
        if (streq(path, "-")) {
                if (!ld->stdin_text) {
                        FILE *f = ld->o->stdin_file ?: stdin;
                        size_t cap = 4096, n = 0;
                        char *b = xmalloc(cap);
                        size_t k;
                        while ((k = fread(b + n, 1, cap - n - 1, f)) > 0) {
                                n += k;
                                if (cap - n < 2)
                                        b = xrealloc(b, cap *= 2);
                        }
                        b[n] = 0;
                        ld->stdin_text = b;
                }
                *ret = xstrdup(ld->stdin_text);
                *ret_len = strlen(ld->stdin_text);
                return 0;
        }
        int r = read_full_file(path, ret, ret_len);
        if (r == -ENOENT)
                return err_set(err, r, "open %s: no such file or directory", path);
        if (r < 0)
                return err_errno(err, r, "open %s", path);
        return 0;
}

/* Parse, unwrap tags; interpolation and validation come after. On error,
 * *d is left empty. */
static void apply_resets(json_t *dict, const json_t *resets);

/* One document of a file: a mapping (null: empty), its tags unwrapped. */
static int doc_prepare(const char *path, json_t **doc, json_t *resets, struct berth_err *err)
{
        if (json_is_null(*doc)) {
                json_decref(*doc);
                *doc = json_object();
        }
        if (!json_is_object(*doc))
                return err_set(err, -EINVAL, "%s: top-level object must be a mapping", path);
        json_auto_t *p = json_array();
        bool drop;
        json_t *u = unwrap_tags(*doc, p, resets, &drop);
        json_decref(u);
        return 0;
}

static int doc_read(struct ld *ld, const char *path, struct doc *d, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_text(ld, path, &text, &len, err);
        if (r < 0)
                return r;
        json_auto_t *docs = NULL;
        r = compose_yaml_parse_all(path, text, len, &docs, &d->marks, err);
        if (r < 0)
                return r;
        d->path = xstrdup(path);
        d->resets = json_array();
        d->doc = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : json_null();
        r = doc_prepare(path, &d->doc, d->resets, err);
        /* the documents of one file merge in order, as compose merges them;
         * a later one's !reset and !override reach the earlier ones */
        for (size_t i = 1; r >= 0 && i < json_array_size(docs); i++) {
                json_t *next = json_incref(json_array_get(docs, i));
                json_auto_t *resets = json_array();
                r = doc_prepare(path, &next, resets, err);
                if (r >= 0) {
                        apply_resets(d->doc, resets);
                        json_array_extend(d->resets, resets);
                        json_t *m = NULL;
                        r = compose_merge(d->doc, next, &m, err);
                        if (r >= 0) {
                                json_decref(d->doc);
                                d->doc = m;
                        }
                }
                json_decref(next);
        }
        if (r < 0) {
                doc_done(d);
                return r;
        }
        return 0;
}

static int doc_interpolate(struct ld *ld, struct doc *d, const json_t *env, struct berth_err *err)
{
        if (!ld->interpolate)
                return 0;
        struct compose_interp ip = {.env = env, .warnings = ld->warnings};
        return compose_interp_tree(&ip, d->doc, d->marks, err);
}

/* ---- merge (override/merge.go's rules, as the spec's 13-merge.md) ---- */

static bool pmatch(const char *pattern, const char **path, size_t n)
{
        size_t i = 0;
        const char *p = pattern;
        while (*p) {
                const char *dot = strchr(p, '.');
                size_t len = dot ? (size_t)(dot - p) : strlen(p);
                if (i >= n)
                        return false;
                if (!(len == 1 && p[0] == '*') &&
                    (strlen(path[i]) != len || strncmp(path[i], p, len) != 0))
                        return false;
                i++;
                p += len + (dot ? 1 : 0);
        }
        return i == n;
}

/* "K=V" / "K" / {K: V} -> {K: V|null}. */
static json_t *to_map(const json_t *v)
{
        json_t *m = json_object();
        if (json_is_object(v)) {
                json_object_update(m, (json_t *)v);
                return m;
        }
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
                const char *s = json_string_value(x);
                if (!s)
                        continue;
                const char *eq = strchr(s, '=');
                if (eq) {
                        _cleanup_free_ char *k = xstrndup(s, (size_t)(eq - s));
                        json_object_set_new(m, k, json_string(eq + 1));
                } else
                        json_object_set_new(m, s, json_null());
        }
        return m;
}

static json_t *to_seq(const json_t *v)
{
        if (json_is_array(v))
                return json_deep_copy(v);
        json_t *a = json_array();
        if (json_is_string(v))
                json_array_append(a, (json_t *)v);
        else if (json_is_object(v)) {
                const char *k;
                json_t *x;
                json_object_foreach ((json_t *)v, k, x) {
                        if (json_is_null(x))
                                json_array_append_new(a, json_string(k));
                        else if (json_is_string(x))
                                json_array_append_new(
                                    a, json_sprintf("%s=%s", k, json_string_value(x)));
                        else {
                                _cleanup_free_ char *s = json_dumps(x, JSON_ENCODE_ANY);
                                json_array_append_new(a, json_sprintf("%s=%s", k, s));
                        }
                }
        }
        return a;
}

/* A list of names, or a mapping; each name's value the default. */
static json_t *names_to_map(const json_t *v, const json_t *def)
{
        if (json_is_object(v))
                return json_deep_copy(v);
        json_t *m = json_object();
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x)
                if (json_is_string(x))
                        json_object_set_new(m, json_string_value(x),
                                            def ? json_deep_copy(def) : json_null());
        return m;
}

static int merge_node(json_t *base, json_t *over, const char **path, size_t n, json_t **ret,
                      struct berth_err *err);

static int merge_maps(json_t *base, json_t *over, const char **path, size_t n, json_t **ret,
                      struct berth_err *err)
{
        const char *k;
        json_t *v;
        json_object_foreach (over, k, v) {
                json_t *e = json_object_get(base, k);
                if (!e) {
                        json_object_set(base, k, v);
                        continue;
                }
                if (n >= 30) {
                        json_object_set(base, k, v);
                        continue;
                }
                path[n] = k;
                json_t *m = NULL;
                int r = merge_node(e, v, path, n + 1, &m, err);
                if (r < 0)
                        return r;
                json_object_set_new(base, k, m);
        }
        *ret = json_incref(base);
        return 0;
}

static char *path_str(const char **path, size_t n)
{
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(path[i]) + 1;
        char *s = xzalloc(len);
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strcat(s, ".");
                strcat(s, path[i]);
        }
        return s;
}

/* base and over are borrowed; *ret is a new reference (base may be
 * modified in place). */
static int merge_node(json_t *base, json_t *over, const char **path, size_t n, json_t **ret,
                      struct berth_err *err)
{
        static const char *const map_merged[] = {"services.*.environment",
                                                 "services.*.labels",
                                                 "services.*.build.args",
                                                 "services.*.build.labels",
                                                 "services.*.sysctls",
                                                 "services.*.annotations",
                                                 "services.*.deploy.labels",
                                                 "networks.*.labels",
                                                 "volumes.*.labels",
                                                 "services.*.build.additional_contexts",
                                                 "services.*.volumes.*.volume.labels",
                                                 NULL};
        static const char *const seq_merged[] = {"services.*.dns",
                                                 "services.*.dns_opt",
                                                 "services.*.dns_search",
                                                 "services.*.env_file",
                                                 "services.*.tmpfs",
                                                 "services.*.label_file",
                                                 NULL};
        static const char *const overridden[] = {"services.*.command", "services.*.entrypoint",
                                                 "services.*.healthcheck.test",
                                                 "services.*.ulimits.*", NULL};

        for (const char *const *p = overridden; *p; p++)
                if (pmatch(*p, path, n)) {
                        *ret = json_incref(over);
                        return 0;
                }
        for (const char *const *p = map_merged; *p; p++)
                if (pmatch(*p, path, n)) {
                        json_t *a = to_map(base), *b = to_map(over);
                        json_object_update(a, b);
                        json_decref(b);
                        *ret = a;
                        return 0;
                }
        for (const char *const *p = seq_merged; *p; p++)
                if (pmatch(*p, path, n)) {
                        json_t *a = to_seq(base), *b = to_seq(over);
                        json_array_extend(a, b);
                        json_decref(b);
                        *ret = a;
                        return 0;
                }
        if (pmatch("services.*.extra_hosts", path, n) ||
            pmatch("services.*.build.extra_hosts", path, n)) {
                json_t *a = to_seq(base), *b = to_seq(over);
                size_t i;
                json_t *x;
                json_array_foreach (b, i, x) {
                        bool dup = false;
                        size_t j;
                        json_t *y;
                        json_array_foreach (a, j, y)
                                if (json_equal(x, y))
                                        dup = true;
                        if (!dup)
                                json_array_append(a, x);
                }
                json_decref(b);
                *ret = a;
                return 0;
        }
        if (pmatch("networks.*.ipam.config", path, n) && json_is_array(base) &&
            json_is_array(over)) {
                /* pools are merged by subnet */
                json_t *a = json_deep_copy(base);
                size_t i;
                json_t *x;
                json_array_foreach (over, i, x) {
                        json_t *sub = json_object_get(x, "subnet");
                        size_t j;
                        json_t *y;
                        bool merged = false;
                        json_array_foreach (a, j, y) {
                                if (json_is_object(y) && json_is_object(x) &&
                                    json_equal(json_object_get(y, "subnet"), sub)) {
                                        json_object_update(y, x);
                                        merged = true;
                                        break;
                                }
                        }
                        if (!merged)
                                json_array_append(a, x);
                }
                *ret = a;
                return 0;
        }
        if (pmatch("services.*.depends_on", path, n)) {
                json_auto_t *def =
                    json_pack("{s:s,s:b}", "condition", "service_started", "required", 1);
                json_auto_t *a = names_to_map(base, def), *b = names_to_map(over, def);
                return merge_maps(a, b, path, n, ret, err);
        }
        if (pmatch("services.*.networks", path, n)) {
                json_auto_t *a = names_to_map(base, NULL), *b = names_to_map(over, NULL);
                return merge_maps(a, b, path, n, ret, err);
        }
        if (pmatch("services.*.build", path, n)) {
                json_auto_t *a =
                    json_is_string(base) ? json_pack("{s:O}", "context", base) : json_incref(base);
                json_auto_t *b =
                    json_is_string(over) ? json_pack("{s:O}", "context", over) : json_incref(over);
                if (!json_is_object(a) || !json_is_object(b)) {
                        *ret = json_incref(over);
                        return 0;
                }
                return merge_maps(a, b, path, n, ret, err);
        }
        if (pmatch("services.*.logging", path, n) && json_is_object(base) && json_is_object(over)) {
                json_t *d1 = json_object_get(over, "driver"), *d2 = json_object_get(base, "driver");
                if (d1 && d2 && !json_equal(d1, d2)) {
                        *ret = json_incref(over);
                        return 0;
                }
                return merge_maps(base, over, path, n, ret, err);
        }
        if (json_is_null(over)) {
                *ret = json_incref(base);
                return 0;
        }
        if (json_is_object(base)) {
                if (!json_is_object(over)) {
                        _cleanup_free_ char *ps = path_str(path, n);
                        return err_set(err, -EINVAL, "cannot override %s", ps);
                }
                return merge_maps(base, over, path, n, ret, err);
        }
        if (json_is_array(base)) {
                if (!json_is_array(over)) {
                        _cleanup_free_ char *ps = path_str(path, n);
                        return err_set(err, -EINVAL, "cannot override %s", ps);
                }
                json_t *a = json_deep_copy(base);
                json_array_extend(a, over);
                *ret = a;
                return 0;
        }
        *ret = json_incref(over);
        return 0;
}

/* ---- unicity: later entries replace earlier ones with the same key ---- */

static char *key_kv(const json_t *v)
{
        const char *s = json_string_value(v);
        if (!s)
                return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *eq = strchr(s, '=');
        return eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
}

static char *strip_mode(const char *s, int field)
{
        /* "src:dst:mode" -> dst; "dst" -> dst (volumes); devices take the
         * second field too. Windows drive letters are not handled. */
        _cleanup_(strv_freep) char **parts = strv_split(s, ":");
        size_t n = strv_length(parts);
        if (n == 0)
                return xstrdup(s);
        if (n == 1)
                return xstrdup(parts[0]);
        return xstrdup(parts[field < (int)n ? field : 1]);
}

static char *key_volume(const json_t *v)
{
        if (json_is_object(v))
                return xstrdup(json_string_value(json_object_get(v, "target")) ?: "");
        const char *s = json_string_value(v);
        return s ? strip_mode(s, 1) : xstrdup("");
}

/* Ports: "[ip:][published:]target[/proto]" or the long form, keyed by
 * ip:published:target/proto. */
static char *key_port(const json_t *v)
{
        if (json_is_integer(v))
                return xasprintf("0.0.0.0::%" JSON_INTEGER_FORMAT "/tcp", json_integer_value(v));
        if (json_is_object(v)) {
                json_t *t = json_object_get(v, "target"), *p = json_object_get(v, "published");
                _cleanup_free_ char *ts = json_dumps(t, JSON_ENCODE_ANY);
                _cleanup_free_ char *ps = json_is_string(p) ? xstrdup(json_string_value(p))
                                          : p               ? json_dumps(p, JSON_ENCODE_ANY)
                                                            : xstrdup("");
                return xasprintf(
                    "%s:%s:%s/%s", json_string_value(json_object_get(v, "host_ip")) ?: "0.0.0.0",
                    ps, ts ?: "", json_string_value(json_object_get(v, "protocol")) ?: "tcp");
        }
        const char *s = json_string_value(v);
        if (!s)
                return xstrdup("");
        _cleanup_free_ char *body = xstrdup(s);
        const char *proto = "tcp";
        char *slash = strrchr(body, '/');
        if (slash) {
                *slash = 0;
                proto = slash + 1;
        }
        const char *ip = "0.0.0.0";
        char *rest = body;
        if (rest[0] == '[') {
                char *close = strchr(rest, ']');
                if (close && close[1] == ':') {
                        *close = 0;
                        ip = rest + 1;
                        rest = close + 2;
                }
        }
        char *last = strrchr(rest, ':');
        const char *target = last ? last + 1 : rest;
        const char *published = "";
        if (last) {
                *last = 0;
                char *c2 = strrchr(rest, ':');
                if (c2) {
                        *c2 = 0;
                        published = c2 + 1;
                        if (rest != ip)
                                ip = rest;
                } else
                        published = rest;
        }
        return xasprintf("%s:%s:%s/%s", ip, published, target, proto);
}

static char *key_mount(const json_t *v, const char *def)
{
        if (json_is_string(v))
                return xasprintf("%s/%s", def, json_string_value(v));
        const char *t = json_string_value(json_object_get(v, "target"));
        if (t)
                return xstrdup(t);
        return xasprintf("%s/%s", def, json_string_value(json_object_get(v, "source")) ?: "");
}

static char *key_envfile(const json_t *v)
{
        if (json_is_object(v))
                return xstrdup(json_string_value(json_object_get(v, "path")) ?: "");
        return key_kv(v);
}

enum ukey { U_KV, U_VOLUME, U_DEVICE, U_PORT, U_SECRET, U_CONFIG, U_ENVFILE, U_PLAIN };

static const struct {
        const char *path;
        enum ukey kind;
} unique_paths[] = {
    {"networks.*.labels", U_KV},
    {"networks.*.ipam.options", U_KV},
    {"services.*.annotations", U_KV},
    {"services.*.build.args", U_KV},
    {"services.*.build.additional_contexts", U_KV},
    {"services.*.build.tags", U_KV},
    {"services.*.build.labels", U_KV},
    {"services.*.cap_add", U_KV},
    {"services.*.cap_drop", U_KV},
    {"services.*.devices", U_DEVICE},
    {"services.*.configs", U_CONFIG},
    {"services.*.deploy.labels", U_KV},
    {"services.*.dns", U_KV},
    {"services.*.dns_opt", U_KV},
    {"services.*.dns_search", U_KV},
    {"services.*.environment", U_KV},
    {"services.*.env_file", U_ENVFILE},
    {"services.*.expose", U_PLAIN},
    {"services.*.labels", U_KV},
    {"services.*.links", U_KV},
    {"services.*.networks.*.aliases", U_KV},
    {"services.*.networks.*.link_local_ips", U_KV},
    {"services.*.ports", U_PORT},
    {"services.*.profiles", U_KV},
    {"services.*.secrets", U_SECRET},
    {"services.*.sysctls", U_KV},
    {"services.*.tmpfs", U_KV},
    {"services.*.volumes", U_VOLUME},
};

static char *unique_key(enum ukey kind, const json_t *v)
{
        switch (kind) {
        case U_VOLUME:
                return key_volume(v);
        case U_DEVICE:
                if (json_is_object(v))
                        return xstrdup(json_string_value(json_object_get(v, "target")) ?: "");
                return json_is_string(v) ? strip_mode(json_string_value(v), 1) : xstrdup("");
        case U_PORT:
                return key_port(v);
        case U_SECRET:
                return key_mount(v, "/run/secrets");
        case U_CONFIG:
                return key_mount(v, "");
        case U_ENVFILE:
                return key_envfile(v);
        case U_PLAIN:
                return json_is_string(v) ? xstrdup(json_string_value(v))
                                         : json_dumps(v, JSON_ENCODE_ANY);
        default:
                return key_kv(v);
        }
}

static void enforce_unicity(json_t *v, const char **path, size_t n)
{
        if (json_is_object(v)) {
                if (n >= 30)
                        return;
                const char *k;
                json_t *x;
                json_object_foreach (v, k, x) {
                        path[n] = k;
                        enforce_unicity(x, path, n + 1);
                }
                return;
        }
        if (!json_is_array(v))
                return;
        for (size_t u = 0; u < sizeof(unique_paths) / sizeof(unique_paths[0]); u++) {
                if (!pmatch(unique_paths[u].path, path, n))
                        continue;
                json_auto_t *keys = json_object();
                json_auto_t *out = json_array();
                size_t i;
                json_t *x;
                json_array_foreach (v, i, x) {
                        _cleanup_free_ char *k = unique_key(unique_paths[u].kind, x);
                        json_t *at = json_object_get(keys, k ?: "");
                        if (at)
                                json_array_set(out, (size_t)json_integer_value(at), x);
                        else {
                                json_object_set_new(keys, k ?: "",
                                                    json_integer((json_int_t)json_array_size(out)));
                                json_array_append(out, x);
                        }
                }
                json_array_clear(v);
                json_array_extend(v, out);
                return;
        }
}

/* Delete the paths a later file resets (!reset, !override) from the
 * document merged so far. */
static void apply_resets(json_t *dict, const json_t *resets)
{
        size_t i;
        json_t *p;
        json_array_foreach (resets, i, p) {
                json_t *cur = dict;
                size_t n = json_array_size(p);
                for (size_t j = 0; j < n && cur; j++) {
                        json_t *k = json_array_get(p, j);
                        bool last = j + 1 == n;
                        if (json_is_string(k) && json_is_object(cur)) {
                                if (last)
                                        json_object_del(cur, json_string_value(k));
                                else
                                        cur = json_object_get(cur, json_string_value(k));
                        } else if (json_is_integer(k) && json_is_array(cur)) {
                                if (last)
                                        json_array_remove(cur, (size_t)json_integer_value(k));
                                else
                                        cur = json_array_get(cur, (size_t)json_integer_value(k));
                        } else
                                cur = NULL;
                }
        }
}

int compose_merge(json_t *base, json_t *over, json_t **ret, struct berth_err *err)
{
        const char *path[32];
        json_t *m = NULL;
        int r = merge_node(base, over, path, 0, &m, err);
        if (r < 0)
                return r;
        enforce_unicity(m, path, 0);
        *ret = m;
        return 0;
}

/* ---- relative paths of a document loaded from another directory ---- */

static bool is_remote(const char *s)
{
        return strstr(s, "://") || startswith(s, "git@") || startswith(s, "github.com/");
}

static void rebase_str(json_t *v, const char *dir)
{
        const char *s = json_string_value(v);
        if (!s || !*s || s[0] == '/' || s[0] == '~' || is_remote(s))
                return;
        _cleanup_free_ char *j = path_join(dir, s);
        _cleanup_free_ char *c = path_clean(j);
        json_string_set(v, c);
}

/* Short volume syntax: a bind source starts with '.' or '/' or '~'. */
static void rebase_volume(json_t *vols, size_t i, const char *dir)
{
        json_t *v = json_array_get(vols, i);
        if (json_is_object(v)) {
                if (streq_ptr(json_string_value(json_object_get(v, "type")), "bind"))
                        rebase_str(json_object_get(v, "source"), dir);
                return;
        }
        const char *s = json_string_value(v);
        if (!s || s[0] != '.')
                return;
        const char *colon = strchr(s, ':');
        if (!colon)
                return;
        _cleanup_free_ char *src = xstrndup(s, (size_t)(colon - s));
        _cleanup_free_ char *j = path_join(dir, src);
        _cleanup_free_ char *c = path_clean(j);
        json_array_set_new(vols, i, json_sprintf("%s%s", c, colon));
}

static void rebase_service(json_t *svc, const char *dir)
{
        json_t *b = json_object_get(svc, "build");
        if (json_is_string(b))
                rebase_str(b, dir);
        else if (json_is_object(b))
                rebase_str(json_object_get(b, "context"), dir);
        json_t *ef = json_object_get(svc, "env_file");
        if (json_is_string(ef))
                rebase_str(ef, dir);
        size_t i;
        json_t *x;
        json_array_foreach (ef, i, x) {
                if (json_is_string(x))
                        rebase_str(x, dir);
                else
                        rebase_str(json_object_get(x, "path"), dir);
        }
        json_t *lf = json_object_get(svc, "label_file");
        if (json_is_string(lf))
                rebase_str(lf, dir);
        json_array_foreach (lf, i, x)
                rebase_str(x, dir);
        json_t *vols = json_object_get(svc, "volumes");
        for (i = 0; i < json_array_size(vols); i++)
                rebase_volume(vols, i, dir);
        json_t *ext = json_object_get(svc, "extends");
        if (json_is_object(ext))
                rebase_str(json_object_get(ext, "file"), dir);
}

static void rebase_doc(json_t *doc, const char *dir)
{
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(doc, "services"), k, v)
                if (json_is_object(v))
                        rebase_service(v, dir);
        static const char *const files[] = {"secrets", "configs", NULL};
        for (const char *const *f = files; *f; f++)
                json_object_foreach (json_object_get(doc, *f), k, v)
                        if (json_is_object(v))
                                rebase_str(json_object_get(v, "file"), dir);
}

/* ---- extends ---- */

struct tracker {
        const struct tracker *up;
        const char *file, *service;
};

static int cycle_error(const struct tracker *t, const char *file, const char *service,
                       struct berth_err *err)
{
        const struct tracker *chain[64];
        size_t n = 0;
        for (const struct tracker *x = t; x && n < 64; x = x->up)
                chain[n++] = x;
        size_t cap = 256;
        for (size_t i = 0; i < n; i++)
                cap += strlen(chain[i]->file) + strlen(chain[i]->service) + 32;
        cap += strlen(file) + strlen(service) + 32;
        char *s = xzalloc(cap);
        strcat(s, "Circular reference:");
        for (size_t i = n; i > 0; i--) {
                const struct tracker *x = chain[i - 1];
                size_t l = strlen(s);
                snprintf(s + l, cap - l, "\n  %s%s in %s", i == n ? "" : "extends ", x->service,
                         x->file);
        }
        size_t l = strlen(s);
        snprintf(s + l, cap - l, "\n  extends %s in %s", service, file);
        int r = err_set(err, -ELOOP, "%s", s);
        free(s);
        return r;
}

struct loading; /* one project's load (the main one or an include) */

static int load_extends_file(struct ld *ld, const json_t *env, const char *path, struct doc *d,
                             struct berth_err *err);

/* Resolve `extends` of services[name] (in place), recursively. file: the
 * file the services come from; dir: where its relative paths resolve. */
static int apply_service_extends(struct ld *ld, const json_t *env, json_t *services,
                                 const char *name, const char *file, const char *dir,
                                 const struct tracker *t, struct berth_err *err)
{
        json_t *svc = json_object_get(services, name);
        if (!json_is_object(svc))
                return 0;
        json_t *ext = json_object_get(svc, "extends");
        if (!ext)
                return 0;
        const char *ref = NULL, *efile = NULL;
        if (json_is_string(ext))
                ref = json_string_value(ext);
        else if (json_is_object(ext)) {
                ref = json_string_value(json_object_get(ext, "service"));
                efile = json_string_value(json_object_get(ext, "file"));
        }
        if (!ref)
                return err_set(err, -EINVAL, "extends.%s.service is required", name);
        for (const struct tracker *x = t; x; x = x->up)
                if (streq(x->file, file) && streq(x->service, name))
                        return cycle_error(t, file, name, err);
        struct tracker here = {t, file, name};

        struct doc other = {0};
        json_t *base_services = services;
        const char *base_file = file;
        _cleanup_free_ char *abs = NULL, *bdir = NULL;
        int r;
        if (efile) {
                abs = path_abs(dir, efile);
                r = load_extends_file(ld, env, abs, &other, err);
                if (r < 0)
                        return r;
                base_services = json_object_get(other.doc, "services");
                if (!json_is_object(base_services)) {
                        doc_done(&other);
                        return err_set(err, -EINVAL,
                                       "cannot extend service \"%s\" in %s: no services section",
                                       name, abs);
                }
                if (!json_object_get(base_services, ref)) {
                        doc_done(&other);
                        return err_set(err, -ENOENT,
                                       "cannot extend service \"%s\" in %s: service \"%s\" not "
                                       "found in %s",
                                       name, file, ref, efile);
                }
                base_file = abs;
                bdir = path_dir(abs);
        } else if (!json_object_get(services, ref)) {
                return err_set(err, -ENOENT,
                               "cannot extend service \"%s\" in %s: service \"%s\" not found", name,
                               file, ref);
        }
        r = apply_service_extends(ld, env, base_services, ref, base_file, bdir ?: dir, &here, err);
        if (r < 0) {
                doc_done(&other);
                return r;
        }
        json_auto_t *base = json_deep_copy(json_object_get(base_services, ref));
        doc_done(&other);
        if (!json_is_object(base))
                return 0;
        if (bdir) /* absolute: an absolute path is never rebased twice down a chain */
                rebase_service(base, bdir);
        /* what a service does not inherit */
        json_object_del(base, "extends");
        const char *path[32] = {"services", "x"};
        json_t *merged = NULL;
        r = merge_node(base, svc, path, 2, &merged, err);
        if (r < 0)
                return r;
        json_object_del(merged, "extends");
        enforce_unicity(merged, (const char *[32]){"services", "x"}, 2);
        json_object_set_new(services, name, merged);
        return 0;
}

static int apply_extends(struct ld *ld, const json_t *env, json_t *doc, const char *file,
                         const char *dir, struct berth_err *err)
{
        json_t *services = json_object_get(doc, "services");
        if (!json_is_object(services))
                return 0;
        const char *k;
        json_t *v;
        json_auto_t *names = json_array();
        json_object_foreach (services, k, v)
                json_array_append_new(names, json_string(k));
        size_t i;
        json_array_foreach (names, i, v) {
                int r = apply_service_extends(ld, env, services, json_string_value(v), file, dir,
                                              NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int load_extends_file(struct ld *ld, const json_t *env, const char *path, struct doc *d,
                             struct berth_err *err)
{
        int r = doc_read(ld, path, d, err);
        if (r < 0)
                return r;
        r = doc_interpolate(ld, d, env, err);
        if (r < 0) {
                doc_done(d);
                return r;
        }
        return 0;
}

/* ---- one project's files -> one document ---- */

static int load_files(struct ld *ld, char **files, const char *workdir, const json_t *env,
                      json_t *included, json_t **ret, struct berth_err *err);

static int apply_include(struct ld *ld, json_t *doc, const char *workdir, const json_t *env,
                         json_t *included, struct berth_err *err)
{
        json_t *inc = json_object_get(doc, "include");
        if (!inc)
                return 0;
        if (!json_is_array(inc))
                return err_set(err, -EINVAL, "`include` must be a list");
        size_t i;
        json_t *item;
        int r;
        json_array_foreach (inc, i, item) {
                _cleanup_(strv_freep) char **paths = NULL;
                _cleanup_(strv_freep) char **envf = NULL;
                const char *pdir = NULL;
                json_t *p = json_is_string(item) ? item : json_object_get(item, "path");
                if (json_is_string(p))
                        paths = strv_push(paths, path_abs(workdir, json_string_value(p)));
                size_t j;
                json_t *x;
                json_array_foreach (p, j, x)
                        if (json_is_string(x))
                                paths = strv_push(paths, path_abs(workdir, json_string_value(x)));
                if (!paths)
                        return err_set(err, -EINVAL, "include[%zu]: path is required", i);
                pdir = json_string_value(json_object_get(item, "project_directory"));
                _cleanup_free_ char *projdir = pdir ? path_abs(workdir, pdir) : path_dir(paths[0]);
                size_t k;
                json_t *inc_path;
                json_array_foreach (included, k, inc_path)
                        if (streq(json_string_value(inc_path), paths[0])) {
                                size_t cap = 64;
                                json_t *y;
                                size_t m;
                                json_array_foreach (included, m, y)
                                        cap += strlen(json_string_value(y)) + 12;
                                cap += strlen(paths[0]);
                                _cleanup_free_ char *msg = xzalloc(cap);
                                strcat(msg, "include cycle detected:");
                                json_array_foreach (included, m, y) {
                                        strcat(msg, m ? "\n include " : "\n");
                                        strcat(msg, json_string_value(y));
                                }
                                strcat(msg, "\n include ");
                                strcat(msg, paths[0]);
                                return err_set(err, -ELOOP, "%s", msg);
                        }
                json_t *ef = json_object_get(item, "env_file");
                if (json_is_string(ef))
                        envf = strv_push(envf, path_abs(workdir, json_string_value(ef)));
                json_array_foreach (ef, j, x)
                        if (json_is_string(x) && !streq(json_string_value(x), "/dev/null"))
                                envf = strv_push(envf, path_abs(workdir, json_string_value(x)));
                if (!ef) {
                        char *d = path_join(projdir, ".env");
                        if (is_file(d))
                                envf = strv_push(envf, d);
                        else
                                free(d);
                }
                json_auto_t *fromfile = json_object();
                r = env_files_read(envf, env, fromfile, err);
                if (r < 0)
                        return r;
                json_auto_t *ienv = json_deep_copy(env);
                const char *ek;
                json_t *ev;
                json_object_foreach (fromfile, ek, ev)
                        if (!json_object_get(ienv, ek))
                                json_object_set(ienv, ek, ev);
                json_auto_t *imported = NULL;
                r = load_files(ld, paths, projdir, ienv, included, &imported, err);
                if (r < 0)
                        return r;
                rebase_doc(imported, projdir);
                static const char *const kinds[] = {"services", "volumes", "networks",
                                                    "secrets",  "configs", NULL};
                for (const char *const *kind = kinds; *kind; kind++) {
                        json_t *from = json_object_get(imported, *kind);
                        if (!json_is_object(from))
                                continue;
                        json_t *to = json_object_get(doc, *kind);
                        if (!json_is_object(to)) {
                                to = json_object();
                                json_object_set_new(doc, *kind, to);
                        }
                        const char *name;
                        json_t *res;
                        json_object_foreach (from, name, res) {
                                json_t *local = json_object_get(to, name);
                                if (!local) {
                                        json_object_set(to, name, res);
                                        continue;
                                }
                                const char *path[32] = {*kind, name};
                                json_t *m = NULL;
                                json_auto_t *copy = json_deep_copy(res);
                                r = merge_node(copy, local, path, 2, &m, err);
                                if (r < 0)
                                        return r;
                                json_object_set_new(to, name, m);
                        }
                }
        }
        json_object_del(doc, "include");
        return 0;
}

static int load_files(struct ld *ld, char **files, const char *workdir, const json_t *env,
                      json_t *included, json_t **ret, struct berth_err *err)
{
        json_auto_t *dict = json_object();
        int r;
        for (char **f = files; f && *f; f++) {
                struct doc d = {0};
                r = doc_read(ld, *f, &d, err);
                if (r < 0)
                        goto fail;
                r = doc_interpolate(ld, &d, env, err);
                if (r < 0)
                        goto fail;
                /* the check reads values ("8080:80"); uninterpolated
                 * templates are not values yet */
                if (ld->interpolate) {
                        r = compose_schema_check(d.doc, d.marks, ld->warnings, err);
                        if (r < 0)
                                goto fail;
                }
                json_array_append_new(included, json_string(*f));
                r = apply_include(ld, d.doc, workdir, env, included, err);
                json_array_remove(included, json_array_size(included) - 1);
                if (r < 0)
                        goto fail;
                apply_resets(dict, d.resets);
                r = apply_extends(ld, env, d.doc, *f, workdir, err);
                if (r < 0)
                        goto fail;
                if (json_object_get(d.doc, "version")) {
                        json_array_append_new(
                            ld->warnings,
                            json_sprintf("%s: the attribute `version` is obsolete, it will be "
                                         "ignored, please remove it to avoid potential confusion",
                                         *f));
                        json_object_del(d.doc, "version");
                }
                json_t *m = NULL;
                r = compose_merge(dict, d.doc, &m, err);
                if (r < 0) {
                        err_prefix(err, "%s", *f);
                        goto fail;
                }
                json_decref(dict);
                dict = m;
                doc_done(&d);
                continue;
fail:
                doc_done(&d);
                return r;
        }
        *ret = json_incref(dict);
        return 0;
}

/* ---- after the merge ---- */

static void drop_extensions(json_t *doc)
{
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (doc, tmp, k, v)
                if (startswith(k, "x-"))
                        json_object_del(doc, k);
        static const char *const kinds[] = {"services", "volumes", "networks",
                                            "secrets",  "configs", NULL};
        for (const char *const *kind = kinds; *kind; kind++) {
                const char *name;
                json_t *res;
                json_object_foreach (json_object_get(doc, *kind), name, res) {
                        if (!json_is_object(res))
                                continue;
                        json_object_foreach_safe (res, tmp, k, v)
                                if (startswith(k, "x-"))
                                        json_object_del(res, k);
                }
        }
}

/* env_file -> environment (environment wins), as compose does before it
 * discards env_file. */
static int resolve_env_files(json_t *doc, const char *workdir, const json_t *env, char **selected,
                             struct berth_err *err)
{
        const char *name;
        json_t *svc;
        json_object_foreach (json_object_get(doc, "services"), name, svc) {
                json_t *ef = json_object_get(svc, "env_file");
                if (!ef)
                        continue;
                json_auto_t *list = to_seq(ef);
                json_auto_t *vars = json_object();
                json_t *environment = json_object_get(svc, "environment");
                size_t i;
                json_t *x;
                json_array_foreach (list, i, x) {
                        const char *p = json_is_string(x)
                                            ? json_string_value(x)
                                            : json_string_value(json_object_get(x, "path"));
                        if (!p)
                                continue;
                        bool required = !json_is_false(json_object_get(x, "required"));
                        bool raw =
                            streq_ptr(json_string_value(json_object_get(x, "format")), "raw");
                        _cleanup_free_ char *abs = path_abs(workdir, p);
                        if (!is_file(abs)) {
                                /* compose reads env files only for the services
                                 * a command acts on: another service's missing
                                 * file is no error */
                                if (!required || (selected && !strv_contains(selected, name)))
                                        continue;
                                return err_set(err, -ENOENT,
                                               "env file %s not found: stat %s: no "
                                               "such file or directory",
                                               abs, abs);
                        }
                        /* ${} in the file: the project environment first,
                         * then the service's environment, then what the
                         * files set so far (compose's order) */
                        json_auto_t *lookup = json_deep_copy(env);
                        json_auto_t *senv = environment ? to_map(environment) : json_object();
                        const char *ek;
                        json_t *ev;
                        json_object_foreach (senv, ek, ev)
                                if (json_is_string(ev) && !json_object_get(lookup, ek))
                                        json_object_set(lookup, ek, ev);
                        int r = compose_env_read(abs, lookup, raw, vars, err);
                        if (r < 0)
                                return err_prefix(err, "service \"%s\"", name);
                }
                json_auto_t *m = json_object();
                const char *k;
                json_t *v;
                json_object_foreach (vars, k, v)
                        json_object_set(m, k, v);
                if (environment) {
                        json_auto_t *e = to_map(environment);
                        json_object_foreach (e, k, v) {
                                if (json_is_null(v) && env_get(env, k))
                                        json_object_set_new(m, k, json_string(env_get(env, k)));
                                else
                                        json_object_set(m, k, v);
                        }
                }
                json_object_set(svc, "environment", m);
                json_object_del(svc, "env_file");
        }
        return 0;
}

static bool has_profile(const json_t *svc, char **active)
{
        json_t *p = json_object_get(svc, "profiles");
        if (!json_is_array(p) || json_array_size(p) == 0)
                return true;
        size_t i;
        json_t *x;
        json_array_foreach (p, i, x) {
                const char *s = json_string_value(x);
                if (!s)
                        continue;
                for (char **a = active; a && *a; a++)
                        if (streq(*a, "*") || streq(*a, s))
                                return true;
        }
        return false;
}

static int apply_profiles(struct ld *ld, json_t *doc, const json_t *env, json_t *disabled,
                          char ***ret_active, struct berth_err *err)
{
        char **active = NULL;
        for (char **p = ld->o->profiles; p && *p; p++)
                active = strv_push(active, xstrdup(*p));
        if (!active) {
                const char *cp = env_get(env, "COMPOSE_PROFILES");
                if (cp && *cp) {
                        _cleanup_(strv_freep) char **parts = strv_split(cp, ",");
                        for (char **p = parts; p && *p; p++)
                                active = strv_push(active, xstrdup(*p));
                }
        }
        json_t *services = json_object_get(doc, "services");
        /* services named on the command line enable their profiles */
        for (char **s = ld->o->services; s && *s; s++) {
                json_t *svc = json_object_get(services, *s);
                if (!svc || has_profile(svc, active))
                        continue;
                size_t i;
                json_t *x;
                json_array_foreach (json_object_get(svc, "profiles"), i, x)
                        if (json_is_string(x))
                                active = strv_push(active, xstrdup(json_string_value(x)));
        }
        const char *name;
        json_t *svc;
        void *tmp;
        json_object_foreach_safe (services, tmp, name, svc) {
                if (has_profile(svc, active))
                        continue;
                json_object_set(disabled, name, svc);
                json_object_del(services, name);
        }
        /* depends_on a disabled or unknown service */
        json_object_foreach (services, name, svc) {
                json_t *deps = json_object_get(svc, "depends_on");
                if (json_is_array(deps)) {
                        size_t i;
                        json_t *x;
                        json_array_foreach (deps, i, x) {
                                const char *d = json_string_value(x);
                                if (d && !json_object_get(services, d)) {
                                        strv_free(active);
                                        return err_set(err, -EINVAL,
                                                       "service \"%s\" depends on undefined "
                                                       "service \"%s\": invalid compose project",
                                                       name, d);
                                }
                        }
                } else if (json_is_object(deps)) {
                        const char *d;
                        json_t *c;
                        json_object_foreach_safe (deps, tmp, d, c) {
                                if (json_object_get(services, d))
                                        continue;
                                if (json_is_false(json_object_get(c, "required"))) {
                                        json_object_del(deps, d);
                                        continue;
                                }
                                strv_free(active);
                                return err_set(err, -EINVAL,
                                               "service \"%s\" depends on undefined service "
                                               "\"%s\": invalid compose project",
                                               name, d);
                        }
                }
        }
        *ret_active = active;
        return 0;
}

/* ---- files and names ---- */

/* The files of names[] present in dir, in that order. */
static char **find_files(const char *dir, const char *const *names)
{
        char **found = NULL;
        for (const char *const *n = names; *n; n++) {
                char *p = path_join(dir, *n);
                if (is_file(p))
                        found = strv_push(found, p);
                else
                        free(p);
        }
        return found;
}

/* Several candidates: compose warns and takes the first. */
static void warn_several(struct ld *ld, const char *what, char **found)
{
        if (strv_length(found) < 2)
                return;
        _cleanup_free_ char *list = NULL;
        for (char **f = found; *f; f++) {
                char *nl = xasprintf("%s%s%s", list ?: "", list ? ", " : "", *f);
                free(list);
                list = nl;
        }
        json_array_append_new(
            ld->warnings,
            json_sprintf("Found multiple %s files with supported names: %s", what, list));
        json_array_append_new(ld->warnings, json_sprintf("Using %s", found[0]));
}

static int discover(struct ld *ld, const char *start, char ***ret, struct berth_err *err)
{
        _cleanup_free_ char *dir = xstrdup(start);
        for (;;) {
                _cleanup_(strv_freep) char **found = find_files(dir, default_files);
                if (found) {
                        warn_several(ld, "config", found);
                        char **files = strv_push(NULL, xstrdup(found[0]));
                        _cleanup_(strv_freep) char **over = find_files(dir, override_files);
                        if (over) {
                                warn_several(ld, "override", over);
                                files = strv_push(files, xstrdup(over[0]));
                        }
                        *ret = files;
                        return 0;
                }
                if (streq(dir, "/"))
                        break;
                char *up = path_dir(dir);
                free(dir);
                dir = up;
        }
        return err_set(err, -ENOENT, "no configuration file provided: not found");
}

static const char *basename_of(const char *p)
{
        const char *s = strrchr(p, '/');
        return s && s[1] ? s + 1 : p;
}

static int invalid_name(const char *n, struct berth_err *err)
{
        return err_set(err, -EINVAL,
                       "invalid project name \"%s\": must consist only of lowercase alphanumeric "
                       "characters, hyphens, and underscores as well as start with a letter or "
                       "number",
                       n);
}

/* -p, COMPOSE_PROJECT_NAME, the last file's `name:`, the directory. */
static int project_name(struct ld *ld, char **files, const char *workdir, const json_t *env,
                        char **ret, struct berth_err *err)
{
        const char *n = ld->o->project_name;
        if (!n || !*n)
                n = env_get(env, "COMPOSE_PROJECT_NAME");
        if (n && *n) {
                if (!compose_name_valid(n))
                        return invalid_name(n, err);
                *ret = xstrdup(n);
                return 0;
        }
        _cleanup_free_ char *from_file = NULL;
        for (char **f = files; f && *f; f++) {
                struct doc d = {0};
                int r = doc_read(ld, *f, &d, err);
                if (r < 0)
                        return r;
                json_t *name = json_object_get(d.doc, "name");
                if (json_is_string(name) && *json_string_value(name)) {
                        free(from_file);
                        if (ld->interpolate) {
                                struct compose_interp ip = {.env = env};
                                r = compose_interp_string(&ip, json_string_value(name), &from_file,
                                                          err);
                                if (r < 0) {
                                        doc_done(&d);
                                        return err_prefix(err, "%s: error while interpolating name",
                                                          *f);
                                }
                        } else
                                from_file = xstrdup(json_string_value(name));
                }
                doc_done(&d);
        }
        if (from_file && *from_file) {
                if (!compose_name_valid(from_file))
                        return invalid_name(from_file, err);
                *ret = xstrdup(from_file);
                return 0;
        }
        char *b = compose_name_normalize(basename_of(workdir));
        if (!*b) {
                free(b);
                return err_set(err, -EINVAL, "project name must not be empty");
        }
        *ret = b;
        return 0;
}

int compose_load(const struct compose_options *o, struct compose_project **ret,
                 struct berth_err *err)
{
        struct ld ld = {.o = o, .interpolate = !o->no_interpolate};
        _cleanup_(strv_freep) char **files = NULL;
        _cleanup_(strv_freep) char **envf = NULL;
        _cleanup_(strv_freep) char **active = NULL;
        _cleanup_free_ char *workdir = NULL, *name = NULL, *dir0 = NULL;
        json_auto_t *dotenv = NULL, *env = NULL, *merged = NULL, *disabled = NULL, *included = NULL;
        int r;

        *ret = NULL;
        if (o->cwd)
                ld.cwd = xstrdup(o->cwd);
        else {
                char buf[PATH_MAX];
                if (!getcwd(buf, sizeof(buf)))
                        return err_errno(err, -errno, "getcwd");
                ld.cwd = xstrdup(buf);
        }
        ld.osenv = env_object(o->environ ?: environ);
        ld.warnings = json_array();

        /* the first look at the env file: its COMPOSE_* keys configure us */
        const char *first =
            o->files && o->files[0] && !streq(o->files[0], "-") ? o->files[0] : NULL;
        if (o->project_dir)
                dir0 = path_abs(ld.cwd, o->project_dir);
        else if (first) {
                _cleanup_free_ char *a = path_abs(ld.cwd, first);
                dir0 = path_dir(a);
        } else
                dir0 = xstrdup(ld.cwd);
        envf = env_file_list(&ld, ld.osenv, dir0);
        dotenv = json_object();
        r = env_files_read(envf, ld.osenv, dotenv, err);
        if (r < 0)
                goto out;
        const char *k;
        json_t *v;
        json_object_foreach (dotenv, k, v)
                if (startswith(k, "COMPOSE_") && !json_object_get(ld.osenv, k))
                        json_object_set(ld.osenv, k, v);

        /* the files */
        if (o->files && o->files[0]) {
                for (char **f = o->files; *f; f++)
                        files =
                            strv_push(files, streq(*f, "-") ? xstrdup("-") : path_abs(ld.cwd, *f));
        } else if (env_get(ld.osenv, "COMPOSE_FILE") && *env_get(ld.osenv, "COMPOSE_FILE")) {
                const char *sep = env_get(ld.osenv, "COMPOSE_PATH_SEPARATOR");
                _cleanup_(strv_freep) char **parts =
                    strv_split(env_get(ld.osenv, "COMPOSE_FILE"), sep && *sep ? sep : ":");
                for (char **f = parts; f && *f; f++)
                        files = strv_push(files, path_abs(ld.cwd, *f));
        } else {
                r = discover(&ld, dir0, &files, err);
                if (r < 0)
                        goto out;
        }
        for (char **f = files; *f; f++)
                if (!streq(*f, "-") && !is_file(*f)) {
                        struct stat st;
                        r = stat(*f, &st) < 0 ? -errno : -EISDIR;
                        if (r == -ENOENT)
                                err_set(err, r, "open %s: no such file or directory", *f);
                        else
                                err_errno(err, r, "open %s", *f);
                        goto out;
                }

        /* the project directory and its environment */
        if (o->project_dir)
                workdir = path_abs(ld.cwd, o->project_dir);
        else if (!streq(files[0], "-"))
                workdir = path_dir(files[0]);
        else
                workdir = xstrdup(ld.cwd);
        /* compose reads the env files twice, the second time from the
         * project directory once the files are known; neither overwrites
         * what is set (the shell, then the first read) */
        env = json_deep_copy(ld.osenv);
        json_object_foreach (dotenv, k, v)
                if (!json_object_get(env, k))
                        json_object_set(env, k, v);
        if (!json_object_get(env, "PWD"))
                json_object_set_new(env, "PWD", json_string(ld.cwd));
        if (!streq(workdir, dir0)) {
                strv_free(envf);
                envf = env_file_list(&ld, ld.osenv, workdir);
                json_decref(dotenv);
                dotenv = json_object();
                r = env_files_read(envf, env, dotenv, err);
                if (r < 0)
                        goto out;
                json_object_foreach (dotenv, k, v)
                        if (!json_object_get(env, k))
                                json_object_set(env, k, v);
        }

        r = project_name(&ld, files, workdir, env, &name, err);
        if (r < 0)
                goto out;
        json_object_set_new(env, "COMPOSE_PROJECT_NAME", json_string(name));

        included = json_array();
        r = load_files(&ld, files, workdir, env, included, &merged, err);
        if (r < 0)
                goto out;
        if (json_object_size(merged) == 0) {
                r = err_set(err, -EINVAL, "empty compose file");
                goto out;
        }
        drop_extensions(merged);
        json_object_del(merged, "name");
        r = resolve_env_files(merged, workdir, env, o->services, err);
        if (r < 0)
                goto out;
        disabled = json_object();
        r = apply_profiles(&ld, merged, env, disabled, &active, err);
        if (r < 0)
                goto out;

        struct compose_project *p = xzalloc(sizeof(*p));
        p->name = xstrdup(name);
        p->working_dir = xstrdup(workdir);
        p->config_files = xzalloc(sizeof(char *));
        for (char **f = files; *f; f++)
                p->config_files = strv_push(p->config_files, xstrdup(*f));
        p->env_files = xzalloc(sizeof(char *));
        for (char **f = envf; f && *f; f++)
                p->env_files = strv_push(p->env_files, xstrdup(*f));
        p->environment = json_incref(env);
        p->warnings = json_incref(ld.warnings);
        p->disabled = json_incref(disabled);
        p->compatibility = o->compatibility;
        if (o->no_normalize) {
                json_t *m = json_object();
                json_object_set_new(m, "name", json_string(name));
                json_object_update(m, merged);
                p->model = m;
        } else {
                struct compose_normalize_ctx ctx = {
                    .project_name = name,
                    .working_dir = workdir,
                    .environment = env,
                    .no_path_resolution = o->no_path_resolution,
                    .warnings = ld.warnings,
                };
                r = compose_normalize(merged, &ctx, &p->model, err);
                if (r < 0) {
                        compose_project_free(p);
                        goto out;
                }
        }
        *ret = p;
        r = 0;
out:
        free(ld.cwd);
        free(ld.stdin_text);
        json_decref(ld.osenv);
        json_decref(ld.warnings);
        return r;
}

int compose_load_merged(const struct compose_options *o, json_t **ret, struct berth_err *err)
{
        struct compose_options o2 = *o;
        o2.no_normalize = true;
        struct compose_project *p = NULL;
        int r = compose_load(&o2, &p, err);
        if (r < 0)
                return r;
        *ret = json_incref(p->model);
        compose_project_free(p);
        return 0;
}

void compose_project_free(struct compose_project *p)
{
        if (!p)
                return;
        free(p->name);
        free(p->working_dir);
        strv_free(p->config_files);
        strv_free(p->env_files);
        json_decref(p->environment);
        json_decref(p->model);
        json_decref(p->warnings);
        json_decref(p->disabled);
        free(p);
}

bool compose_name_valid(const char *name)
{
        if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '-'))
                        return false;
        return true;
}

char *compose_name_normalize(const char *basename)
{
        char *s = xzalloc(strlen(basename) + 1);
        size_t n = 0;
        for (const char *p = basename; *p; p++) {
                char c = (char)tolower((unsigned char)*p);
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                        if (n == 0 && (c == '_' || c == '-'))
                                continue;
                        s[n++] = c;
                }
        }
        return s;
}
