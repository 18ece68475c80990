/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service of the normalized model -> the Engine API container create body,
 * field for field as docker compose v2 fills container.Config, HostConfig
 * and NetworkingConfig (its pkg/compose/create.go). Service references
 * (network_mode/ipc/pid "service:X", volumes_from, links) are resolved to the
 * containers the engine has for X, and the config hash is taken of the
 * resolved service, as v2 does, so that a recreated dependency recreates its
 * dependents. */
#include "compose.h"

#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Service keys that have a place in the create body or are read by other
 * commands (build, profiles, depends_on ...). Any other key reaches the
 * engine nowhere, and is reported instead of being dropped silently. */
static const char known_keys[] =
    "annotations attach build cap_add cap_drop cgroup cgroup_parent command configs "
    "container_name cpu_period cpu_quota cpu_shares cpus cpuset depends_on deploy "
    "develop devices dns dns_opt dns_search domainname entrypoint env_file "
    "environment expose extends external_links extra_hosts group_add healthcheck "
    "hostname image init ipc label_file labels links logging mac_address mem_limit "
    "mem_reservation mem_swappiness memswap_limit network_mode networks "
    "oom_kill_disable oom_score_adj pid pids_limit platform ports post_start "
    "pre_stop privileged profiles pull_policy read_only restart runtime scale "
    "secrets security_opt shm_size stdin_open stop_grace_period stop_signal "
    "storage_opt sysctls tmpfs tty ulimits user userns_mode uts volume_driver "
    "volumes volumes_from working_dir ";

struct conv {
        struct compose_cli *cc;
        const struct compose_service_args *sa;
        const struct compose_project *p;
        const char *service;
        json_t *svc; /* the service, references resolved (owned) */
        bool warn;   /* print warnings (once per service, not per replica) */
};

static void warn(const struct conv *c, const char *fmt, ...) _printf_(2, 3);
static void warn(const struct conv *c, const char *fmt, ...)
{
        if (!c->warn)
                return;
        va_list ap;
        va_start(ap, fmt);
        fputs("WARN[0000] ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static const char *jstr(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool jtrue(const json_t *o, const char *key)
{
        return json_is_true(json_object_get(o, key));
}

static void set_str(json_t *o, const char *key, const char *v)
{
        if (v && *v)
                json_object_set_new(o, key, json_string(v));
}

/* A list of strings (or of numbers, stringified) copied as it is. */
static void set_strv(json_t *o, const char *key, const json_t *list)
{
        if (!json_is_array(list) || json_array_size(list) == 0)
                return;
        json_t *a = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (list, i, v) {
                if (json_is_string(v))
                        json_array_append(a, v);
                else if (json_is_integer(v))
                        json_array_append_new(
                            a, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        }
        json_object_set_new(o, key, a);
}

/* A map of scalars as a map of strings (labels, sysctls, options). */
static json_t *string_map(const json_t *m)
{
        json_t *o = json_object();
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)m, k, v) {
                if (json_is_string(v))
                        json_object_set(o, k, v);
                else if (json_is_integer(v))
                        json_object_set_new(
                            o, k, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
                else if (json_is_real(v))
                        json_object_set_new(o, k, json_sprintf("%g", json_real_value(v)));
                else if (json_is_boolean(v))
                        json_object_set_new(o, k, json_string(json_is_true(v) ? "true" : "false"));
                else
                        json_object_set_new(o, k, json_string(""));
        }
        return o;
}

/* Go durations as the model writes them ("1m30s", "500ms"); a bare number
 * is seconds. */
static int duration_ns(const json_t *v, int64_t *ret)
{
        if (json_is_integer(v)) {
                *ret = json_integer_value(v) * 1000000000LL;
                return 0;
        }
        const char *s = json_string_value(v);
        if (!s || !*s)
                return -EINVAL;
        const char *p = s;
        bool neg = false;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (streq(p, "0")) {
                *ret = 0;
                return 0;
        }
        double total = 0;
        while (*p) {
                char *end;
                double n = strtod(p, &end);
                if (end == p)
                        return -EINVAL;
                p = end;
                double mul;
                if (startswith(p, "ns"))
                        mul = 1, p += 2;
                else if (startswith(p, "us") || startswith(p, "\xc2\xb5s"))
                        mul = 1e3, p += *p == 'u' ? 2 : 3;
                else if (startswith(p, "ms"))
                        mul = 1e6, p += 2;
                else if (*p == 's')
                        mul = 1e9, p++;
                else if (*p == 'm')
                        mul = 60e9, p++;
                else if (*p == 'h')
                        mul = 3600e9, p++;
                else
                        return -EINVAL;
                total += n * mul;
        }
        *ret = (int64_t)llround(neg ? -total : total);
        return 0;
}

/* Byte sizes: the model writes them as decimal strings ("67108864"); a unit
 * ("64m") or a number is taken too. */
static int bytes_value(const json_t *v, int64_t *ret)
{
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        const char *s = json_string_value(v);
        if (!s)
                return -EINVAL;
        if (parse_int64(s, ret) == 0)
                return 0;
        uint64_t u;
        if (parse_size(s, &u) < 0 || u > INT64_MAX)
                return -EINVAL;
        *ret = (int64_t)u;
        return 0;
}

static int int_value(const json_t *v, int64_t *ret)
{
        if (json_is_integer(v)) {
                *ret = json_integer_value(v);
                return 0;
        }
        if (json_is_string(v))
                return parse_int64(json_string_value(v), ret);
        return -EINVAL;
}

static int number_value(const json_t *v, double *ret)
{
        if (json_is_number(v)) {
                *ret = json_number_value(v);
                return 0;
        }
        const char *s = json_string_value(v);
        if (!s || !*s)
                return -EINVAL;
        char *end;
        *ret = strtod(s, &end);
        return *end ? -EINVAL : 0;
}

static int bad_key(const struct conv *c, const char *key, const char *why, struct berth_err *err)
{
        return err_set(err, -EINVAL, "services.%s.%s: %s", c->service, key, why);
}

/* --- service references ------------------------------------------------------ */

/* The containers of another service of the project (stopped ones too), by
 * container number. */
static int service_containers(struct conv *c, const char *service, json_t **ret,
                              struct berth_err *err)
{
        return compose_containers(c->cc, service, true, false, ret, err);
}

static const char *container_name_of(const json_t *ctr)
{
        const char *n = json_string_value(json_array_get(json_object_get(ctr, "Names"), 0));
        return n && *n == '/' ? n + 1 : n;
}

/* "service:X" -> "container:<id of X's first container>". */
static int resolve_mode(struct conv *c, const char *key, const char *what, struct berth_err *err)
{
        const char *v = jstr(c->svc, key);
        const char *x = v ? startswith(v, "service:") : NULL;
        if (!x)
                return 0;
        json_auto_t *list = NULL;
        int r = service_containers(c, x, &list, err);
        if (r < 0)
                return r;
        const char *id = jstr(json_array_get(list, 0), "Id");
        if (!id)
                return err_set(err, -ENOENT,
                               "cannot share %s namespace with service %s: "
                               "container missing",
                               what, x);
        json_object_set_new(c->svc, key, json_sprintf("container:%s", id));
        return 0;
}

/* volumes_from: "X[:mode]" (a service) -> "<id>[:mode]"; "container:N[:mode]"
 * -> "N[:mode]". */
static int resolve_volumes_from(struct conv *c, struct berth_err *err)
{
        json_t *vf = json_object_get(c->svc, "volumes_from");
        size_t i;
        json_t *v;
        json_array_foreach (vf, i, v) {
                const char *s = json_string_value(v);
                if (!s)
                        continue;
                const char *rest = startswith(s, "container:");
                if (rest) {
                        json_array_set_new(vf, i, json_string(rest));
                        continue;
                }
                const char *colon = strchr(s, ':');
                _cleanup_free_ char *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
                json_auto_t *list = NULL;
                int r = service_containers(c, name, &list, err);
                if (r < 0)
                        return r;
                const char *id = jstr(json_array_get(list, 0), "Id");
                if (!id)
                        return err_set(err, -ENOENT,
                                       "cannot share volume with service %s: container missing",
                                       name);
                json_array_set_new(vf, i, json_sprintf("%s%s", id, colon ? colon : ""));
        }
        return 0;
}

static int resolve_references(struct conv *c, struct berth_err *err)
{
        int r = resolve_volumes_from(c, err);
        if (r < 0)
                return r;
        if ((r = resolve_mode(c, "network_mode", "network", err)) < 0)
                return r;
        if ((r = resolve_mode(c, "ipc", "IPC", err)) < 0)
                return r;
        return resolve_mode(c, "pid", "PID", err);
}

/* --- labels ------------------------------------------------------------------ */

static char *join(char *const *v, const char *sep)
{
        size_t n = 1;
        for (char *const *i = v; i && *i; i++)
                n += strlen(*i) + strlen(sep);
        char *s = xzalloc(n);
        for (char *const *i = v; i && *i; i++) {
                if (i != v)
                        strcat(s, sep);
                strcat(s, *i);
        }
        return s;
}

/* The env files chosen with --env-file (or COMPOSE_ENV_FILES), made
 * absolute from the current directory and comma-joined, as v2 writes them
 * in the environment_file label; NULL when none was chosen. */
static char *chosen_env_files(const struct compose_cli *cc)
{
        _cleanup_strv_ char **from_env = NULL;
        char **files = cc ? cc->opts.env_files : NULL;
        if (!files || !files[0]) {
                const char *e = getenv("COMPOSE_ENV_FILES");
                if (!e || !*e)
                        return NULL;
                files = from_env = strv_split(e, ",");
        }
        char cwdbuf[4096];
        const char *cwd = cc && cc->opts.cwd ? cc->opts.cwd : getcwd(cwdbuf, sizeof(cwdbuf));
        _cleanup_strv_ char **abs = NULL;
        for (char **f = files; *f; f++)
                abs = strv_push(abs,
                                (*f)[0] == '/' || !cwd ? xstrdup(*f) : xasprintf("%s/%s", cwd, *f));
        return abs ? join(abs, ",") : NULL;
}

static int set_labels(struct conv *c, json_t *body, struct berth_err *err)
{
        const struct compose_service_args *sa = c->sa;
        json_t *labels = string_map(json_object_get(c->svc, "labels"));
        json_object_set_new(body, "Labels", labels);

        json_object_set_new(labels, LABEL_PROJECT, json_string(c->p->name));
        json_object_set_new(labels, LABEL_SERVICE, json_string(c->service));
        json_object_set_new(labels, LABEL_VERSION, json_string(COMPOSE_VERSION));
        json_object_set_new(labels, LABEL_WORKDIR, json_string(strempty(c->p->working_dir)));
        _cleanup_free_ char *files = join(c->p->config_files, ",");
        json_object_set_new(labels, LABEL_FILES, json_string(files));
        json_object_set_new(labels, LABEL_ONEOFF, json_string(sa->number > 0 ? "False" : "True"));
        _cleanup_free_ char *ef = chosen_env_files(c->cc);
        if (ef)
                json_object_set_new(labels, LABEL_ENVFILE, json_string(ef));

        char hex[65];
        int r = compose_service_hash(c->svc, hex, err);
        if (r == 0)
                json_object_set_new(labels, LABEL_HASH, json_string(hex));
        else if (r != -ENOTSUP)
                return r;
        if (sa->number > 0)
                json_object_set_new(labels, LABEL_NUMBER, json_sprintf("%d", sa->number));

        /* "dep:condition:restart,...": always present, empty without deps */
        json_auto_t *deps = json_array();
        const char *d;
        json_t *dv;
        json_object_foreach (json_object_get(c->svc, "depends_on"), d, dv) {
                const char *cond = jstr(dv, "condition");
                json_array_append_new(deps,
                                      json_sprintf("%s:%s:%s", d, cond ? cond : "service_started",
                                                   jtrue(dv, "restart") ? "true" : "false"));
        }
        size_t n = json_array_size(deps);
        _cleanup_free_ char **dl = xzalloc((n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
                dl[i] = (char *)json_string_value(json_array_get(deps, i));
        _cleanup_free_ char *dep = join(dl, ",");
        json_object_set_new(labels, LABEL_DEPENDS, json_string(dep));

        if (sa->image_id)
                json_object_set_new(labels, LABEL_IMAGE, json_string(sa->image_id));
        if (sa->replace)
                json_object_set_new(labels, LABEL_REPLACE, json_string(sa->replace));
        return 0;
}

/* --- Config ------------------------------------------------------------------ */

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void set_env(struct conv *c, json_t *body)
{
        json_t *env = json_object_get(c->svc, "environment");
        size_t n = json_object_size(env);
        if (!n)
                return;
        _cleanup_free_ const char **keys = xzalloc(n * sizeof(char *));
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach (env, k, v)
                keys[i++] = k;
        /* v2 writes them in Go map order; sorted here so that bodies compare */
        qsort(keys, n, sizeof(char *), strcmp_ptr);
        json_t *a = json_array();
        for (i = 0; i < n; i++) {
                v = json_object_get(env, keys[i]);
                if (json_is_null(v))
                        json_array_append_new(a, json_string(keys[i]));
                else if (json_is_string(v))
                        json_array_append_new(a,
                                              json_sprintf("%s=%s", keys[i], json_string_value(v)));
                else {
                        json_auto_t *one = json_pack("{s:O}", "v", v);
                        json_auto_t *m = string_map(one);
                        json_array_append_new(a, json_sprintf("%s=%s", keys[i], jstr(m, "v")));
                }
        }
        json_object_set_new(body, "Env", a);
}

static int set_healthcheck(struct conv *c, json_t *body, struct berth_err *err)
{
        json_t *hc = json_object_get(c->svc, "healthcheck");
        if (!json_is_object(hc))
                return 0;
        json_t *h = json_object();
        json_object_set_new(body, "Healthcheck", h);
        if (jtrue(hc, "disable"))
                json_object_set_new(h, "Test", json_pack("[s]", "NONE"));
        else if (json_is_array(json_object_get(hc, "test")))
                json_object_set(h, "Test", json_object_get(hc, "test"));
        else if (jstr(hc, "test"))
                json_object_set_new(h, "Test", json_pack("[s,s]", "CMD-SHELL", jstr(hc, "test")));
        static const char *const durs[][2] = {{"interval", "Interval"},
                                              {"timeout", "Timeout"},
                                              {"start_period", "StartPeriod"},
                                              {"start_interval", "StartInterval"}};
        for (size_t i = 0; i < ELEMENTSOF(durs); i++) {
                json_t *v = json_object_get(hc, durs[i][0]);
                int64_t ns;
                if (!v || json_is_null(v))
                        continue;
                if (duration_ns(v, &ns) < 0) {
                        _cleanup_free_ char *k = xasprintf("healthcheck.%s", durs[i][0]);
                        return bad_key(c, k, "invalid duration", err);
                }
                json_object_set_new(h, durs[i][1], json_integer(ns));
        }
        if (json_object_get(hc, "start_interval"))
                warn(c,
                     "services.%s.healthcheck.start_interval: not supported by the engine, "
                     "ignoring",
                     c->service);
        if (json_object_get(hc, "start_interval") && !json_object_get(hc, "start_period"))
                return err_set(err, -EINVAL,
                               "healthcheck.start_interval requires healthcheck.start_period to "
                               "be set");
        int64_t retries;
        if (json_object_get(hc, "retries")) {
                if (int_value(json_object_get(hc, "retries"), &retries) < 0)
                        return bad_key(c, "healthcheck.retries", "invalid number", err);
                json_object_set_new(h, "Retries", json_integer(retries));
        }
        return 0;
}

/* expose: "8000", "8000/udp", "8000-8002/tcp", or a number. */
static int add_expose(struct conv *c, json_t *exposed, const json_t *e, struct berth_err *err)
{
        _cleanup_free_ char *s = json_is_integer(e)
                                     ? xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(e))
                                     : xstrdup(strempty(json_string_value(e)));
        char *slash = strchr(s, '/');
        const char *proto = "tcp";
        if (slash) {
                *slash = '\0';
                proto = slash + 1;
        }
        char *dash = strchr(s, '-');
        int64_t lo, hi;
        if (dash)
                *dash = '\0';
        if (parse_int64(s, &lo) < 0 || (dash && parse_int64(dash + 1, &hi) < 0))
                return bad_key(c, "expose", "invalid port", err);
        if (!dash)
                hi = lo;
        if (lo < 1 || hi > 65535 || hi < lo)
                return bad_key(c, "expose", "invalid port range", err);
        for (int64_t p = lo; p <= hi; p++) {
                _cleanup_free_ char *k = xasprintf("%lld/%s", (long long)p, proto);
                json_object_set_new(exposed, k, json_object());
        }
        return 0;
}

static int set_ports(struct conv *c, json_t *body, json_t *hc, struct berth_err *err)
{
        json_t *exposed = json_object();
        json_t *bindings = json_object();
        json_object_set_new(body, "ExposedPorts", exposed);
        json_object_set_new(hc, "PortBindings", bindings);
        size_t i;
        json_t *p;
        json_array_foreach (json_object_get(c->svc, "ports"), i, p) {
                int64_t target;
                if (int_value(json_object_get(p, "target"), &target) < 0 || target < 1 ||
                    target > 65535)
                        return bad_key(c, "ports", "invalid target port", err);
                const char *proto = jstr(p, "protocol");
                _cleanup_free_ char *k =
                    xasprintf("%lld/%s", (long long)target, proto && *proto ? proto : "tcp");
                json_object_set_new(exposed, k, json_object());
                json_t *pub = json_object_get(p, "published");
                _cleanup_free_ char *hp =
                    json_is_integer(pub)
                        ? xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(pub))
                        : xstrdup(strempty(json_string_value(pub)));
                json_t *l = json_object_get(bindings, k);
                if (!l) {
                        l = json_array();
                        json_object_set_new(bindings, k, l);
                }
                json_array_append_new(l, json_pack("{s:s, s:s}", "HostIp",
                                                   strempty(jstr(p, "host_ip")), "HostPort", hp));
        }
        json_array_foreach (json_object_get(c->svc, "expose"), i, p) {
                int r = add_expose(c, exposed, p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- volumes, secrets, configs ------------------------------------------------ */

static bool mount_target_taken(json_t *binds, json_t *mounts, const char *target)
{
        size_t i;
        json_t *v;
        json_array_foreach (mounts, i, v)
                if (streq_ptr(jstr(v, "Target"), target))
                        return true;
        json_array_foreach (binds, i, v) {
                /* "src:target:opts" */
                const char *s = json_string_value(v);
                const char *a = s ? strchr(s, ':') : NULL;
                if (!a)
                        continue;
                a++;
                size_t n = strcspn(a, ":");
                if (strlen(target) == n && strncmp(a, target, n) == 0)
                        return true;
        }
        return false;
}

/* The legacy "src:target:opts" form: rw|ro, then the SELinux label, the
 * propagation and nocopy, as the engine's bind parser reads them. */
static char *bind_string(const char *src, const json_t *v)
{
        const json_t *bind = json_object_get(v, "bind");
        const json_t *vol = json_object_get(v, "volume");
        char opts[128];
        snprintf(opts, sizeof(opts), "%s", jtrue(v, "read_only") ? "ro" : "rw");
        const char *sel = jstr(bind, "selinux"), *prop = jstr(bind, "propagation");
        if (sel && *sel)
                strncat(opts, ",", sizeof(opts) - strlen(opts) - 1),
                    strncat(opts, sel, sizeof(opts) - strlen(opts) - 1);
        if (prop && *prop)
                strncat(opts, ",", sizeof(opts) - strlen(opts) - 1),
                    strncat(opts, prop, sizeof(opts) - strlen(opts) - 1);
        if (jtrue(vol, "nocopy"))
                strncat(opts, ",nocopy", sizeof(opts) - strlen(opts) - 1);
        return xasprintf("%s:%s:%s", src, jstr(v, "target"), opts);
}

/* A bind that the Binds form can express: no bind options, or only
 * create_host_path (the default, which only Binds honour) and SELinux. */
static bool bind_needs_mount_api(const json_t *bind)
{
        if (!bind)
                return false;
        json_t *chp = json_object_get(bind, "create_host_path");
        if (json_is_false(chp))
                return true;
        const char *prop = jstr(bind, "propagation"), *rec = jstr(bind, "recursive");
        return (prop && *prop) || (rec && *rec);
}

static bool volume_needs_mount_api(const json_t *vol)
{
        if (!vol)
                return false;
        const char *sub = jstr(vol, "subpath");
        return json_object_size(json_object_get(vol, "labels")) > 0 || (sub && *sub) ||
               jtrue(vol, "nocopy");
}

static void append_owned(json_t *a, char *s)
{
        json_array_append_new(a, json_string(s));
        free(s);
}

/* The name of a project volume (its key in the model) on the engine. */
static const char *project_volume_name(const struct conv *c, const char *key)
{
        json_t *vol = json_object_get(json_object_get(c->p->model, "volumes"), key);
        if (!vol)
                return NULL;
        return jstr(vol, "name") ?: key;
}

static int add_volume(struct conv *c, json_t *binds, json_t *mounts, const json_t *v,
                      struct berth_err *err)
{
        const char *type = jstr(v, "type");
        const char *src = jstr(v, "source");
        const char *target = jstr(v, "target");
        if (!type)
                type = "volume";
        if (!target || !*target)
                return bad_key(c, "volumes", "a volume needs a target", err);
        if (streq(type, "npipe") || streq(type, "cluster")) {
                warn(c, "services.%s.volumes: %s mounts are not supported, ignoring %s", c->service,
                     type, target);
                return 0;
        }
        _cleanup_free_ char *abs_src = NULL;
        const json_t *bind = json_object_get(v, "bind");
        const json_t *vol = json_object_get(v, "volume");
        if (streq(type, "bind")) {
                if (!src || !*src)
                        return bad_key(c, "volumes", "a bind mount needs a source", err);
                if (src[0] != '/') {
                        const char *rel = startswith(src, "./") ?: src;
                        abs_src = xasprintf("%s/%s", strempty(c->p->working_dir), rel);
                        src = abs_src;
                }
                if (!bind_needs_mount_api(bind)) {
                        append_owned(binds, bind_string(src, v));
                        return 0;
                }
        } else if (streq(type, "volume") && src && *src) {
                const char *name = project_volume_name(c, src);
                if (name && !volume_needs_mount_api(vol)) {
                        append_owned(binds, bind_string(name, v));
                        return 0;
                }
                if (name)
                        src = name;
        }

        /* what the engine takes and does not apply */
        const char *sub = jstr(vol, "subpath"), *rec = jstr(bind, "recursive");
        if (sub && *sub)
                warn(c,
                     "services.%s.volumes: volume.subpath is not supported by the engine, the "
                     "whole volume is mounted at %s",
                     c->service, target);
        if (rec && *rec && !streq(rec, "enabled"))
                warn(c,
                     "services.%s.volumes: bind.recursive is not supported by the engine, "
                     "ignoring it for %s",
                     c->service, target);
        json_t *m = json_pack("{s:s}", "Type", type);
        if (src && *src)
                json_object_set_new(m, "Source", json_string(src));
        json_object_set_new(m, "Target", json_string(target));
        if (jtrue(v, "read_only"))
                json_object_set_new(m, "ReadOnly", json_true());
        set_str(m, "Consistency", jstr(v, "consistency"));
        if (streq(type, "bind") && bind) {
                json_t *bo = json_object();
                set_str(bo, "Propagation", jstr(bind, "propagation"));
                if (!json_is_false(json_object_get(bind, "create_host_path")))
                        json_object_set_new(bo, "CreateMountpoint", json_true());
                if (streq_ptr(rec, "disabled"))
                        json_object_set_new(bo, "NonRecursive", json_true());
                else if (streq_ptr(rec, "writable"))
                        json_object_set_new(bo, "ReadOnlyNonRecursive", json_true());
                else if (streq_ptr(rec, "readonly"))
                        json_object_set_new(bo, "ReadOnlyForceRecursive", json_true());
                json_object_set_new(m, "BindOptions", bo);
        } else if (streq(type, "volume") && vol) {
                json_t *vo = json_object();
                if (jtrue(vol, "nocopy"))
                        json_object_set_new(vo, "NoCopy", json_true());
                set_str(vo, "Subpath", jstr(vol, "subpath"));
                if (json_object_size(json_object_get(vol, "labels")))
                        json_object_set_new(vo, "Labels",
                                            string_map(json_object_get(vol, "labels")));
                json_object_set_new(m, "VolumeOptions", vo);
        } else if (streq(type, "tmpfs") && json_object_get(v, "tmpfs")) {
                const json_t *t = json_object_get(v, "tmpfs");
                json_t *to = json_object();
                int64_t n;
                if (json_object_get(t, "size")) {
                        if (bytes_value(json_object_get(t, "size"), &n) < 0) {
                                json_decref(to);
                                json_decref(m);
                                return bad_key(c, "volumes", "invalid tmpfs size", err);
                        }
                        json_object_set_new(to, "SizeBytes", json_integer(n));
                }
                if (json_object_get(t, "mode") && int_value(json_object_get(t, "mode"), &n) == 0)
                        json_object_set_new(to, "Mode", json_integer(n));
                json_object_set_new(m, "TmpfsOptions", to);
        } else if (streq(type, "image") && json_object_get(v, "image")) {
                json_t *io = json_object();
                set_str(io, "Subpath", jstr(json_object_get(v, "image"), "subpath"));
                json_object_set_new(m, "ImageOptions", io);
        }
        json_array_append_new(mounts, m);
        return 0;
}

/* secrets and configs from files: read-only binds, at /run/secrets/<source>
 * (a relative target under it) and /<source> (a relative target under /).
 * Those from environment or content are copied in (compose_service_files). */
static int add_file_refs(struct conv *c, json_t *binds, json_t *mounts, bool secrets,
                         struct berth_err *err)
{
        const char *kind = secrets ? "secrets" : "configs";
        const char *base = secrets ? "/run/secrets/" : "/";
        json_t *defs = json_object_get(c->p->model, kind);
        size_t i;
        json_t *ref;
        json_array_foreach (json_object_get(c->svc, kind), i, ref) {
                const char *source =
                    json_is_string(ref) ? json_string_value(ref) : jstr(ref, "source");
                const char *target = json_is_string(ref) ? NULL : jstr(ref, "target");
                json_t *def = json_object_get(defs, strempty(source));
                if (!source || !def)
                        return err_set(err, -EINVAL, "service \"%s\" refers to undefined %s %s",
                                       c->service, secrets ? "secret" : "config", strempty(source));
                const char *dname = jstr(def, "name") ?: source;
                if (jtrue(def, "external"))
                        return err_set(err, -ENOTSUP, "unsupported external %s %s",
                                       secrets ? "secret" : "config", dname);
                if (jstr(def, "driver"))
                        return err_set(err, -ENOTSUP, "compose does not support %s.*.driver", kind);
                if (jstr(def, "template_driver"))
                        return err_set(err, -ENOTSUP,
                                       "compose does not support %s.*.template_driver", kind);
                if (jstr(def, "environment") || (!secrets && jstr(def, "content")))
                        continue;
                const char *file = jstr(def, "file");
                if (!file) {
                        if (secrets && jstr(def, "content"))
                                continue;
                        return err_set(err, -EINVAL, "%s %s: no file, environment or content",
                                       secrets ? "secret" : "config", dname);
                }
                if (!json_is_string(ref) &&
                    (json_object_get(ref, "uid") || json_object_get(ref, "gid") ||
                     json_object_get(ref, "mode")))
                        warn(c,
                             "%s `uid`, `gid` and `mode` are not supported, they will be "
                             "ignored",
                             kind);
                struct stat st;
                if (secrets && stat(file, &st) < 0)
                        warn(c, "secret file %s does not exist", dname);
                _cleanup_free_ char *t = !target || !*target ? xasprintf("%s%s", base, source)
                                         : target[0] == '/'  ? xstrdup(target)
                                                             : xasprintf("%s%s", base, target);
                if (mount_target_taken(binds, mounts, t))
                        continue;
                json_array_append_new(mounts,
                                      json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source",
                                                file, "Target", t, "ReadOnly", 1));
        }
        return 0;
}

static int set_volumes(struct conv *c, json_t *hc, struct berth_err *err)
{
        json_auto_t *binds = json_array();
        json_auto_t *mounts = json_array();
        size_t i;
        json_t *v;
        int r;
        json_array_foreach (json_object_get(c->svc, "volumes"), i, v)
                if ((r = add_volume(c, binds, mounts, v, err)) < 0)
                        return r;
        if ((r = add_file_refs(c, binds, mounts, true, err)) < 0)
                return r;
        if ((r = add_file_refs(c, binds, mounts, false, err)) < 0)
                return r;
        if (json_array_size(binds))
                json_object_set(hc, "Binds", binds);
        if (json_array_size(mounts))
                json_object_set(hc, "Mounts", mounts);

        json_t *tmpfs = json_object_get(c->svc, "tmpfs");
        if (json_is_string(tmpfs))
                tmpfs = json_pack("[O]", tmpfs);
        else
                json_incref(tmpfs);
        if (json_array_size(tmpfs)) {
                json_t *t = json_object();
                json_array_foreach (tmpfs, i, v) {
                        const char *s = json_string_value(v);
                        if (!s)
                                continue;
                        const char *colon = strchr(s, ':');
                        _cleanup_free_ char *k =
                            colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
                        json_object_set_new(t, k, json_string(colon ? colon + 1 : ""));
                }
                json_object_set_new(hc, "Tmpfs", t);
        }
        json_decref(tmpfs);
        return 0;
}

/* --- networks ------------------------------------------------------------------ */

struct net_key {
        const char *key;
        int64_t priority;
};

static int by_priority(const void *a, const void *b)
{
        const struct net_key *x = a, *y = b;
        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        return strcmp(x->key, y->key);
}

/* The service's network keys, highest priority first, then by name (the
 * first is the one the container is created on). Returns a JSON array. */
static json_t *networks_by_priority(const json_t *svc)
{
        json_t *nets = json_object_get(svc, "networks");
        size_t n = json_object_size(nets);
        _cleanup_free_ struct net_key *v = xzalloc((n + 1) * sizeof(*v));
        size_t i = 0;
        const char *k;
        json_t *cfg;
        json_object_foreach (nets, k, cfg) {
                v[i].key = k;
                v[i].priority = json_integer_value(json_object_get(cfg, "priority"));
                i++;
        }
        qsort(v, n, sizeof(*v), by_priority);
        json_t *a = json_array();
        for (i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i].key));
        return a;
}

static const char *network_name(const struct conv *c, const char *key)
{
        json_t *net = json_object_get(json_object_get(c->p->model, "networks"), key);
        return jstr(net, "name") ?: key;
}

/* The container's own name on every network: container_name, or
 * project-service-N. */
static char *container_name(const struct conv *c)
{
        const char *cn = jstr(c->svc, "container_name");
        if (cn && *cn)
                return xstrdup(cn);
        return compose_container_name(c->cc, c->p->name, c->service, c->sa->number);
}

/* One network's EndpointSettings. Aliases: the container name, the service
 * name and the user's aliases. A one-off ("run") container has the service
 * name and the user's aliases (its container name only when the model
 * carries it as container_name): `run` drops them without --use-aliases,
 * as v2 does. links: the legacy links, on every endpoint as v2 sets them. */
static int endpoint(struct conv *c, const char *key, const char *cname, const json_t *links,
                    bool primary, json_t **ret, struct berth_err *err)
{
        json_t *cfg = json_object_get(json_object_get(c->svc, "networks"), key);
        json_t *ep = json_object();
        json_t *aliases = json_array();
        if (cname && *cname)
                json_array_append_new(aliases, json_string(cname));
        json_array_append_new(aliases, json_string(c->service));
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(cfg, "aliases"), i, a)
                if (json_is_string(a))
                        json_array_append(aliases, a);
        json_object_set_new(ep, "Aliases", aliases);
        if (json_array_size(links))
                json_object_set(ep, "Links", (json_t *)links);
        if (json_is_object(cfg)) {
                json_t *ipam = json_object();
                set_str(ipam, "IPv4Address", jstr(cfg, "ipv4_address"));
                set_str(ipam, "IPv6Address", jstr(cfg, "ipv6_address"));
                set_strv(ipam, "LinkLocalIPs", json_object_get(cfg, "link_local_ips"));
                json_object_set_new(ep, "IPAMConfig", ipam);
                set_str(ep, "MacAddress", jstr(cfg, "mac_address"));
                json_t *dopts = json_object_get(cfg, "driver_opts");
                const char *ifname = jstr(cfg, "interface_name");
                if (json_object_size(dopts) || (ifname && *ifname)) {
                        json_t *o = string_map(dopts);
                        if (ifname && *ifname)
                                json_object_set_new(o, "com.docker.network.endpoint.ifname",
                                                    json_string(ifname));
                        json_object_set_new(ep, "DriverOpts", o);
                }
                int64_t gw = json_integer_value(json_object_get(cfg, "gw_priority"));
                if (gw) {
                        json_object_set_new(ep, "GwPriority", json_integer(gw));
                        warn(c,
                             "services.%s.networks.%s.gw_priority: not supported by the "
                             "engine, ignoring",
                             c->service, key);
                }
        }
        const char *smac = jstr(c->svc, "mac_address");
        if (primary && smac && *smac) {
                const char *emac = jstr(ep, "MacAddress");
                if (emac && !streq(emac, smac)) {
                        json_decref(ep);
                        return err_set(err, -EINVAL,
                                       "the service-level mac_address should have the same value "
                                       "as network %s",
                                       key);
                }
                set_str(ep, "MacAddress", smac);
        }
        *ret = ep;
        return 0;
}

static int set_network(struct conv *c, json_t *body, json_t *hc, struct berth_err *err)
{
        const char *mode = jstr(c->svc, "network_mode");
        if (mode && *mode) {
                json_object_set_new(hc, "NetworkMode", json_string(mode));
                if (streq(mode, "disabled"))
                        json_object_set_new(body, "NetworkDisabled", json_true());
                return 0;
        }
        if (json_object_size(json_object_get(c->p->model, "networks")) == 0) {
                json_object_set_new(hc, "NetworkMode", json_string("none"));
                return 0;
        }
        json_auto_t *keys = networks_by_priority(c->svc);
        const char *primary = json_string_value(json_array_get(keys, 0)) ?: "default";
        const char *name = network_name(c, primary);
        json_object_set_new(hc, "NetworkMode", json_string(name));
        _cleanup_free_ char *cname = c->sa->number > 0 ? container_name(c)
                                     : jstr(c->svc, "container_name")
                                         ? xstrdup(jstr(c->svc, "container_name"))
                                         : NULL;
        json_t *ep;
        int r = endpoint(c, primary, cname, json_object_get(hc, "Links"), true, &ep, err);
        if (r < 0)
                return r;
        json_object_set_new(body, "NetworkingConfig",
                            json_pack("{s:{s:o}}", "EndpointsConfig", name, ep));
        return 0;
}

/* links: "svc[:alias]" -> "<ctr>:alias", "<ctr>:svc-N", "<ctr>:project-svc-N"
 * for each container of svc (N is this container's number, as v1 and v2
 * write it); external_links "ctr[:alias]" -> "ctr:alias". */
static int set_links(struct conv *c, json_t *hc, struct berth_err *err)
{
        json_t *links = json_array();
        json_object_set_new(hc, "Links", links);
        char sep = c->cc && c->cc->opts.compatibility ? '_' : '-';
        size_t i;
        json_t *l;
        json_array_foreach (json_object_get(c->svc, "links"), i, l) {
                const char *s = json_string_value(l);
                if (!s)
                        continue;
                const char *colon = strchr(s, ':');
                _cleanup_free_ char *svc = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
                const char *alias = colon ? colon + 1 : svc;
                json_auto_t *list = NULL;
                int r = service_containers(c, svc, &list, err);
                if (r < 0)
                        return r;
                size_t j;
                json_t *ctr;
                json_array_foreach (list, j, ctr) {
                        const char *n = container_name_of(ctr);
                        if (!n)
                                continue;
                        append_owned(links, xasprintf("%s:%s", n, alias));
                        append_owned(links, xasprintf("%s:%s%c%d", n, svc, sep, c->sa->number));
                        append_owned(links, xasprintf("%s:%s%c%s%c%d", n, c->p->name, sep, svc, sep,
                                                      c->sa->number));
                }
        }
        json_array_foreach (json_object_get(c->svc, "external_links"), i, l) {
                const char *s = json_string_value(l);
                if (!s)
                        continue;
                append_owned(links, strchr(s, ':') ? xstrdup(s) : xasprintf("%s:%s", s, s));
        }
        if (!json_array_size(links))
                json_object_del(hc, "Links");
        return 0;
}

/* --- HostConfig ---------------------------------------------------------------- */

static const char *restart_name(const char *cond)
{
        if (streq(cond, "none") || streq(cond, "no"))
                return "no";
        if (streq(cond, "any") || streq(cond, "always"))
                return "always";
        return cond;
}

static int set_restart(struct conv *c, json_t *hc, struct berth_err *err)
{
        const char *name = "";
        int64_t max = 0;
        _cleanup_free_ char *pname = NULL;
        const char *restart = jstr(c->svc, "restart");
        if (restart && *restart) {
                const char *colon = strchr(restart, ':');
                pname = colon ? xstrndup(restart, (size_t)(colon - restart)) : xstrdup(restart);
                if (colon && parse_int64(colon + 1, &max) < 0)
                        return bad_key(c, "restart", "invalid restart policy", err);
                name = restart_name(pname);
        }
        json_t *rp = json_object_get(json_object_get(c->svc, "deploy"), "restart_policy");
        if (json_is_object(rp)) {
                name = restart_name(jstr(rp, "condition") ?: "");
                max = 0;
                if (json_object_get(rp, "max_attempts") &&
                    int_value(json_object_get(rp, "max_attempts"), &max) < 0)
                        return bad_key(c, "deploy.restart_policy.max_attempts", "invalid number",
                                       err);
        }
        json_object_set_new(
            hc, "RestartPolicy",
            json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)max));
        return 0;
}

static int set_bytes(struct conv *c, json_t *hc, const json_t *from, const char *key,
                     const char *field, const char *path, struct berth_err *err)
{
        json_t *v = json_object_get(from, key);
        int64_t n;
        if (!v || json_is_null(v))
                return 0;
        if (bytes_value(v, &n) < 0)
                return bad_key(c, path, "invalid size", err);
        if (n)
                json_object_set_new(hc, field, json_integer(n));
        return 0;
}

static int set_int(struct conv *c, json_t *hc, const json_t *from, const char *key,
                   const char *field, struct berth_err *err)
{
        json_t *v = json_object_get(from, key);
        int64_t n;
        if (!v || json_is_null(v))
                return 0;
        if (int_value(v, &n) < 0)
                return bad_key(c, key, "invalid number", err);
        json_object_set_new(hc, field, json_integer(n));
        return 0;
}

static int set_nanocpus(struct conv *c, json_t *hc, const json_t *v, const char *path,
                        struct berth_err *err)
{
        double cpus;
        if (!v || json_is_null(v))
                return 0;
        if (number_value(v, &cpus) < 0 || cpus < 0)
                return bad_key(c, path, "invalid number of CPUs", err);
        if (cpus > 0)
                json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)llround(cpus * 1e9)));
        return 0;
}

static int set_resources(struct conv *c, json_t *hc, struct berth_err *err)
{
        const json_t *s = c->svc;
        int r;
        set_str(hc, "CgroupParent", jstr(s, "cgroup_parent"));
        if ((r = set_bytes(c, hc, s, "mem_limit", "Memory", "mem_limit", err)) < 0 ||
            (r = set_bytes(c, hc, s, "memswap_limit", "MemorySwap", "memswap_limit", err)) < 0 ||
            (r = set_bytes(c, hc, s, "mem_reservation", "MemoryReservation", "mem_reservation",
                           err)) < 0 ||
            (r = set_int(c, hc, s, "mem_swappiness", "MemorySwappiness", err)) < 0 ||
            (r = set_int(c, hc, s, "cpu_shares", "CpuShares", err)) < 0 ||
            (r = set_int(c, hc, s, "cpu_period", "CpuPeriod", err)) < 0 ||
            (r = set_int(c, hc, s, "cpu_quota", "CpuQuota", err)) < 0 ||
            (r = set_nanocpus(c, hc, json_object_get(s, "cpus"), "cpus", err)) < 0)
                return r;
        set_str(hc, "CpusetCpus", jstr(s, "cpuset"));
        if (jtrue(s, "oom_kill_disable"))
                json_object_set_new(hc, "OomKillDisable", json_true());
        int64_t pids = 0;
        if (json_object_get(s, "pids_limit") &&
            int_value(json_object_get(s, "pids_limit"), &pids) < 0)
                return bad_key(c, "pids_limit", "invalid number", err);
        if (pids)
                json_object_set_new(hc, "PidsLimit", json_integer(pids));

        json_t *res = json_object_get(json_object_get(s, "deploy"), "resources");
        json_t *lim = json_object_get(res, "limits");
        if (json_is_object(lim)) {
                if ((r = set_bytes(c, hc, lim, "memory", "Memory", "deploy.resources.limits.memory",
                                   err)) < 0 ||
                    (r = set_nanocpus(c, hc, json_object_get(lim, "cpus"),
                                      "deploy.resources.limits.cpus", err)) < 0)
                        return r;
                int64_t p = 0;
                if (json_object_get(lim, "pids") && int_value(json_object_get(lim, "pids"), &p) < 0)
                        return bad_key(c, "deploy.resources.limits.pids", "invalid number", err);
                if (p > 0)
                        json_object_set_new(hc, "PidsLimit", json_integer(p));
                if (json_array_size(json_object_get(lim, "devices")) ||
                    json_array_size(json_object_get(lim, "generic_resources")))
                        warn(c,
                             "services.%s.deploy.resources.limits: devices are not supported, "
                             "ignoring",
                             c->service);
        }
        json_t *resv = json_object_get(res, "reservations");
        if (json_is_object(resv)) {
                if ((r = set_bytes(c, hc, resv, "memory", "MemoryReservation",
                                   "deploy.resources.reservations.memory", err)) < 0)
                        return r;
                if (json_array_size(json_object_get(resv, "devices")))
                        warn(c,
                             "services.%s.deploy.resources.reservations.devices: device "
                             "requests are not supported, ignoring",
                             c->service);
        }

        json_t *devices = json_array();
        size_t i;
        json_t *d;
        json_array_foreach (json_object_get(s, "devices"), i, d) {
                const char *src, *dst, *perm;
                _cleanup_strv_ char **parts = NULL;
                if (json_is_string(d)) {
                        parts = strv_split(json_string_value(d), ":");
                        src = parts[0];
                        dst = src && parts[1] ? parts[1] : src;
                        perm = src && parts[1] && parts[2] ? parts[2] : "rwm";
                } else {
                        src = jstr(d, "source");
                        dst = jstr(d, "target") ?: src;
                        perm = jstr(d, "permissions");
                        if (!perm || !*perm)
                                perm = "rwm";
                }
                if (!src)
                        continue;
                json_array_append_new(devices,
                                      json_pack("{s:s, s:s, s:s}", "PathOnHost", src,
                                                "PathInContainer", dst, "CgroupPermissions", perm));
        }
        if (json_array_size(devices))
                json_object_set_new(hc, "Devices", devices);
        else
                json_decref(devices);

        json_t *ul = json_object_get(s, "ulimits");
        if (json_object_size(ul)) {
                json_t *a = json_array();
                const char *name;
                json_t *u;
                json_object_foreach (ul, name, u) {
                        int64_t soft = 0, hard = 0;
                        if (json_is_object(u)) {
                                int_value(json_object_get(u, "soft"), &soft);
                                int_value(json_object_get(u, "hard"), &hard);
                                if (json_object_get(u, "single") &&
                                    int_value(json_object_get(u, "single"), &soft) == 0)
                                        hard = soft;
                        } else if (int_value(u, &soft) == 0)
                                hard = soft;
                        else {
                                json_decref(a);
                                return bad_key(c, "ulimits", "invalid limit", err);
                        }
                        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name", name, "Hard",
                                                           (json_int_t)hard, "Soft",
                                                           (json_int_t)soft));
                }
                json_object_set_new(hc, "Ulimits", a);
        }
        return 0;
}

/* security_opt: a seccomp profile path is sent as the profile's JSON, as the
 * docker CLI does; "systempaths=unconfined" empties the masked and
 * read-only paths. */
static int set_security(struct conv *c, json_t *hc, struct berth_err *err)
{
        json_t *opts = json_object_get(c->svc, "security_opt");
        if (!json_array_size(opts))
                return 0;
        json_t *a = json_array();
        json_object_set_new(hc, "SecurityOpt", a);
        size_t i;
        json_t *o;
        json_array_foreach (opts, i, o) {
                const char *s = json_string_value(o);
                if (!s)
                        continue;
                if (streq(s, "systempaths=unconfined")) {
                        json_object_set_new(hc, "MaskedPaths", json_array());
                        json_object_set_new(hc, "ReadonlyPaths", json_array());
                        continue;
                }
                const char *prof = startswith(s, "seccomp=") ?: startswith(s, "seccomp:");
                if (!prof || streq(prof, "unconfined") || streq(prof, "builtin")) {
                        json_array_append(a, o);
                        continue;
                }
                _cleanup_free_ char *path =
                    prof[0] == '/' ? xstrdup(prof)
                                   : xasprintf("%s/%s", strempty(c->p->working_dir), prof);
                json_auto_t *j = NULL;
                int r = json_load_path(path, &j, err);
                if (r < 0)
                        return err_prefix(err, "opening seccomp profile (%s) failed", prof);
                _cleanup_free_ char *compact = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (!compact)
                        return err_set(err, -ENOMEM, "out of memory");
                append_owned(a, xasprintf("seccomp=%s", compact));
        }
        return 0;
}

static void set_extra_hosts(struct conv *c, json_t *hc)
{
        json_t *eh = json_object_get(c->svc, "extra_hosts");
        json_t *a = json_array();
        if (json_is_object(eh)) {
                const char *k;
                json_t *v;
                json_object_foreach (eh, k, v) {
                        if (json_is_array(v)) {
                                size_t i;
                                json_t *ip;
                                json_array_foreach (v, i, ip)
                                        append_owned(a, xasprintf("%s:%s", k,
                                                                  strempty(json_string_value(ip))));
                        } else
                                append_owned(a,
                                             xasprintf("%s:%s", k, strempty(json_string_value(v))));
                }
        } else {
                size_t i;
                json_t *v;
                json_array_foreach (eh, i, v) {
                        const char *s = json_string_value(v);
                        if (!s)
                                continue;
                        /* the model writes "host=ip"; the engine wants "host:ip" */
                        size_t n = strcspn(s, "=:");
                        append_owned(a, xasprintf("%.*s:%s", (int)n, s, s[n] ? s + n + 1 : ""));
                }
        }
        if (json_array_size(a))
                json_object_set_new(hc, "ExtraHosts", a);
        else
                json_decref(a);
}

static int set_host_config(struct conv *c, json_t *body, json_t *hc, struct berth_err *err)
{
        const json_t *s = c->svc;
        int r;
        if ((r = set_ports(c, body, hc, err)) < 0 || (r = set_volumes(c, hc, err)) < 0 ||
            (r = set_restart(c, hc, err)) < 0 || (r = set_links(c, hc, err)) < 0 ||
            (r = set_network(c, body, hc, err)) < 0 || (r = set_resources(c, hc, err)) < 0 ||
            (r = set_security(c, hc, err)) < 0)
                return r;
        json_object_set_new(hc, "Privileged", json_boolean(jtrue(s, "privileged")));
        json_object_set_new(hc, "ReadonlyRootfs", json_boolean(jtrue(s, "read_only")));
        if (json_is_boolean(json_object_get(s, "init")))
                json_object_set(hc, "Init", json_object_get(s, "init"));
        set_strv(hc, "CapAdd", json_object_get(s, "cap_add"));
        set_strv(hc, "CapDrop", json_object_get(s, "cap_drop"));
        if ((r = set_bytes(c, hc, s, "shm_size", "ShmSize", "shm_size", err)) < 0 ||
            (r = set_int(c, hc, s, "oom_score_adj", "OomScoreAdj", err)) < 0)
                return r;
        if (json_object_size(json_object_get(s, "sysctls")))
                json_object_set_new(hc, "Sysctls", string_map(json_object_get(s, "sysctls")));
        set_extra_hosts(c, hc);
        json_t *dns = json_object_get(s, "dns");
        if (json_is_string(dns))
                json_object_set_new(hc, "Dns", json_pack("[O]", dns));
        else
                set_strv(hc, "Dns", dns);
        json_t *dnss = json_object_get(s, "dns_search");
        if (json_is_string(dnss))
                json_object_set_new(hc, "DnsSearch", json_pack("[O]", dnss));
        else
                set_strv(hc, "DnsSearch", dnss);
        set_strv(hc, "DnsOptions", json_object_get(s, "dns_opt"));
        json_t *log = json_object_get(s, "logging");
        json_object_set_new(hc, "LogConfig",
                            json_pack("{s:s, s:o}", "Type", strempty(jstr(log, "driver")), "Config",
                                      string_map(json_object_get(log, "options"))));
        set_strv(hc, "GroupAdd", json_object_get(s, "group_add"));
        set_str(hc, "IpcMode", jstr(s, "ipc"));
        set_str(hc, "PidMode", jstr(s, "pid"));
        set_str(hc, "UTSMode", jstr(s, "uts"));
        set_str(hc, "UsernsMode", jstr(s, "userns_mode"));
        set_str(hc, "CgroupnsMode", jstr(s, "cgroup"));
        set_str(hc, "Runtime", jstr(s, "runtime"));
        set_str(hc, "VolumeDriver", jstr(s, "volume_driver"));
        set_strv(hc, "VolumesFrom", json_object_get(s, "volumes_from"));
        if (json_object_size(json_object_get(s, "storage_opt")))
                json_object_set_new(hc, "StorageOpt",
                                    string_map(json_object_get(s, "storage_opt")));
        if (json_object_size(json_object_get(s, "annotations"))) {
                json_object_set_new(hc, "Annotations",
                                    string_map(json_object_get(s, "annotations")));
                warn(c, "services.%s.annotations: not supported by the engine, ignoring",
                     c->service);
        }
        return 0;
}

static void warn_unsupported(struct conv *c)
{
        const char *k;
        json_t *v;
        json_object_foreach (c->svc, k, v) {
                /* a whole word of the list */
                bool known = false;
                size_t n = strlen(k);
                for (const char *p = strstr(known_keys, k); p && !known; p = strstr(p + 1, k))
                        known = (p == known_keys || p[-1] == ' ') && p[n] == ' ';
                if (!known && !startswith(k, "x-"))
                        warn(c, "services.%s.%s: not supported by berth, ignoring", c->service, k);
        }
}

/* --- the API ------------------------------------------------------------------- */

static int conv_init(struct conv *c, struct compose_cli *cc, const struct compose_service_args *sa,
                     struct berth_err *err)
{
        *c = (struct conv){.cc = cc, .sa = sa, .p = sa->project, .service = sa->service};
        if (!c->p || !c->service)
                return err_set(err, -EINVAL, "compose: no project or service");
        json_t *svc = json_object_get(json_object_get(c->p->model, "services"), c->service);
        if (!json_is_object(svc))
                return err_set(err, -ENOENT, "no such service: %s", c->service);
        c->svc = json_deep_copy(svc);
        c->warn = sa->number <= 1;
        return resolve_references(c, err);
}

int compose_service_resolved_hash(struct compose_cli *cc, const struct compose_service_args *sa,
                                  char hex[65], struct berth_err *err)
{
        struct conv c;
        struct berth_err rerr = {0};
        hex[0] = '\0';
        int r = conv_init(&c, cc, sa, &rerr);
        json_auto_t *svc = c.svc;
        if (!svc)
                return err_set(err, r, "%s", rerr.msg);
        if (r < 0) {
                /* a referenced container is missing: the raw service, whose
                 * hash matches no container, so that it is recreated (v2) */
                json_decref(svc);
                svc = json_deep_copy(
                    json_object_get(json_object_get(sa->project->model, "services"), sa->service));
        }
        return compose_service_hash(svc, hex, err);
}

int compose_service_body(struct compose_cli *cc, const struct compose_service_args *sa,
                         json_t **ret_body, struct berth_err *err)
{
        struct conv c;
        *ret_body = NULL;
        int r = conv_init(&c, cc, sa, err);
        json_auto_t *svc = c.svc;
        if (r < 0)
                return r;
        json_auto_t *body = json_object();
        json_t *hc = json_object();
        json_object_set_new(body, "HostConfig", hc);

        _cleanup_free_ char *image = compose_service_image(cc, c.p, c.service);
        json_object_set_new(body, "Image", json_string(image));
        json_t *cmd = json_object_get(svc, "command");
        if (json_is_array(cmd))
                json_object_set(body, "Cmd", cmd);
        else if (json_is_string(cmd))
                json_object_set_new(body, "Cmd", json_pack("[s]", json_string_value(cmd)));
        json_t *ep = json_object_get(svc, "entrypoint");
        if (json_is_array(ep))
                json_object_set(body, "Entrypoint", ep);
        else if (json_is_string(ep))
                json_object_set_new(body, "Entrypoint",
                                    *json_string_value(ep) ? json_pack("[O]", ep) : json_array());
        set_env(&c, body);
        if ((r = set_labels(&c, body, err)) < 0)
                return r;
        set_str(body, "Hostname", jstr(svc, "hostname"));
        set_str(body, "Domainname", jstr(svc, "domainname"));
        set_str(body, "User", jstr(svc, "user"));
        set_str(body, "WorkingDir", jstr(svc, "working_dir"));
        set_str(body, "StopSignal", jstr(svc, "stop_signal"));
        json_object_set_new(body, "Tty", json_boolean(jtrue(svc, "tty")));
        json_object_set_new(body, "OpenStdin", json_boolean(jtrue(svc, "stdin_open")));
        json_object_set_new(body, "StdinOnce", json_false());
        json_object_set_new(body, "AttachStdin", json_false());
        json_object_set_new(body, "AttachStdout", json_true());
        json_object_set_new(body, "AttachStderr", json_true());
        json_t *sgp = json_object_get(svc, "stop_grace_period");
        if (sgp && !json_is_null(sgp)) {
                int64_t ns;
                if (duration_ns(sgp, &ns) < 0)
                        return bad_key(&c, "stop_grace_period", "invalid duration", err);
                json_object_set_new(body, "StopTimeout", json_integer(ns / 1000000000LL));
        }
        if ((r = set_healthcheck(&c, body, err)) < 0)
                return r;
        if ((r = set_host_config(&c, body, hc, err)) < 0)
                return r;
        warn_unsupported(&c);
        *ret_body = TAKE_PTR(body);
        return 0;
}

int compose_service_networks(struct compose_cli *cc, const struct compose_service_args *sa,
                             const char *container_name, json_t **ret, struct berth_err *err)
{
        struct conv c;
        *ret = NULL;
        int r = conv_init(&c, cc, sa, err);
        json_auto_t *svc = c.svc;
        if (r < 0)
                return r;
        c.warn = false;
        json_auto_t *list = json_array();
        const char *mode = jstr(svc, "network_mode");
        if (!(mode && *mode)) {
                json_auto_t *keys = networks_by_priority(svc);
                json_auto_t *hc = json_object();
                if (json_array_size(keys) > 1 && (r = set_links(&c, hc, err)) < 0)
                        return r;
                for (size_t i = 1; i < json_array_size(keys); i++) {
                        const char *key = json_string_value(json_array_get(keys, i));
                        json_t *ep;
                        if ((r = endpoint(&c, key, container_name, json_object_get(hc, "Links"),
                                          false, &ep, err)) < 0)
                                return r;
                        json_array_append_new(list, json_pack("{s:s, s:{s:s, s:o}}", "network",
                                                              network_name(&c, key), "body",
                                                              "Container", strempty(container_name),
                                                              "EndpointConfig", ep));
                }
        }
        *ret = TAKE_PTR(list);
        return 0;
}

int compose_service_files(struct compose_cli *cc, const struct compose_service_args *sa,
                          json_t **ret, struct berth_err *err)
{
        struct conv c;
        *ret = NULL;
        int r = conv_init(&c, cc, sa, err);
        json_auto_t *svc = c.svc;
        if (r < 0)
                return r;
        json_auto_t *list = json_array();
        for (int secrets = 1; secrets >= 0; secrets--) {
                const char *kind = secrets ? "secrets" : "configs";
                const char *base = secrets ? "/run/secrets/" : "/";
                json_t *defs = json_object_get(c.p->model, kind);
                size_t i;
                json_t *ref;
                json_array_foreach (json_object_get(svc, kind), i, ref) {
                        const char *source =
                            json_is_string(ref) ? json_string_value(ref) : jstr(ref, "source");
                        const char *target = json_is_string(ref) ? NULL : jstr(ref, "target");
                        json_t *def = json_object_get(defs, strempty(source));
                        if (!def)
                                continue;
                        const char *content = jstr(def, "content");
                        const char *envname = jstr(def, "environment");
                        if (!content && envname) {
                                content = jstr(c.p->environment, envname);
                                if (!content)
                                        return err_set(err, -ENOENT,
                                                       "environment variable \"%s\" required by "
                                                       "%s \"%s\" is not set",
                                                       envname, secrets ? "secret" : "config",
                                                       jstr(def, "name") ?: source);
                        }
                        if (!content || !*content)
                                continue;
                        if (jtrue(svc, "read_only"))
                                return err_set(err, -EINVAL,
                                               "cannot create %s \"%s\" in read-only service %s: "
                                               "`file` is the sole supported option",
                                               secrets ? "secret" : "config",
                                               jstr(def, "name") ?: source, c.service);
                        _cleanup_free_ char *t =
                            !target || !*target ? xasprintf("%s%s", base, source)
                            : target[0] == '/'  ? xstrdup(target)
                                                : xasprintf("%s%s", base, target);
                        int64_t mode = 0444;
                        json_t *m = json_is_string(ref) ? NULL : json_object_get(ref, "mode");
                        if (json_is_integer(m))
                                mode = json_integer_value(m);
                        else if (json_is_string(m)) {
                                char *end;
                                long v = strtol(json_string_value(m), &end, 8);
                                if (!*end)
                                        mode = v;
                        }
                        json_t *f = json_pack("{s:s, s:s, s:I}", "target", t, "content", content,
                                              "mode", (json_int_t)mode);
                        const char *uid = json_is_string(ref) ? NULL : jstr(ref, "uid");
                        const char *gid = json_is_string(ref) ? NULL : jstr(ref, "gid");
                        if (uid)
                                json_object_set_new(f, "uid", json_string(uid));
                        if (gid)
                                json_object_set_new(f, "gid", json_string(gid));
                        json_array_append_new(list, f);
                }
        }
        *ret = TAKE_PTR(list);
        return 0;
}

char *compose_service_image(struct compose_cli *cc, const struct compose_project *p,
                            const char *service)
{
        json_t *svc = json_object_get(json_object_get(p->model, "services"), service);
        const char *img = json_string_value(json_object_get(svc, "image"));
        if (img)
                return xstrdup(img);
        bool compat = cc ? cc->opts.compatibility : p->compatibility;
        return xasprintf("%s%c%s", p->name, compat ? '_' : '-', service);
}

/* One regular file as a tar archive (ustar): the header, the content padded
 * to 512 bytes, two empty blocks. The name is relative to "/", where the
 * archive is put; a long one goes in the prefix field. */
static int tar_one(const char *target, const char *content, int64_t mode, int64_t uid, int64_t gid,
                   char **ret, size_t *ret_len)
{
        const char *name = target;
        while (*name == '/')
                name++;
        size_t nlen = strlen(name), clen = strlen(content);
        char hdr[512] = {0};
        if (nlen <= 100)
                memcpy(hdr, name, nlen);
        else {
                /* split at a '/' so that the prefix has <= 155 bytes and the rest <= 100 */
                const char *cut = NULL;
                for (const char *p = name; *p; p++)
                        if (*p == '/' && (size_t)(p - name) <= 155 && strlen(p + 1) <= 100)
                                cut = p;
                if (!cut)
                        return -ENAMETOOLONG;
                memcpy(hdr, cut + 1, strlen(cut + 1));
                memcpy(hdr + 345, name, (size_t)(cut - name));
        }
        snprintf(hdr + 100, 8, "%07llo", (unsigned long long)(mode & 07777));
        snprintf(hdr + 108, 8, "%07llo", (unsigned long long)uid);
        snprintf(hdr + 116, 8, "%07llo", (unsigned long long)gid);
        snprintf(hdr + 124, 12, "%011llo", (unsigned long long)clen);
        snprintf(hdr + 136, 12, "%011llo", (unsigned long long)time(NULL));
        hdr[156] = '0';
        memcpy(hdr + 257, "ustar", 6);
        memcpy(hdr + 263, "00", 2);
        memset(hdr + 148, ' ', 8);
        unsigned sum = 0;
        for (size_t i = 0; i < sizeof(hdr); i++)
                sum += (unsigned char)hdr[i];
        snprintf(hdr + 148, 8, "%06o", sum);
        hdr[155] = ' ';
        size_t padded = (clen + 511) / 512 * 512;
        size_t len = 512 + padded + 1024;
        char *buf = xzalloc(len);
        memcpy(buf, hdr, 512);
        memcpy(buf + 512, content, clen);
        *ret = buf;
        *ret_len = len;
        return 0;
}

int compose_service_copy_files(struct compose_cli *cc, const struct compose_service_args *sa,
                               const char *container_id, struct berth_err *err)
{
        json_auto_t *files = NULL;
        int r = compose_service_files(cc, sa, &files, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *f;
        json_array_foreach (files, i, f) {
                const char *target = jstr(f, "target");
                const char *uid = jstr(f, "uid"), *gid = jstr(f, "gid");
                int64_t u = 0, g = 0;
                if ((uid && parse_int64(uid, &u) < 0) || (gid && parse_int64(gid, &g) < 0))
                        return err_set(err, -EINVAL, "%s: uid and gid must be numbers", target);
                _cleanup_free_ char *tar = NULL;
                size_t len;
                r = tar_one(target, jstr(f, "content"),
                            json_integer_value(json_object_get(f, "mode")), u, g, &tar, &len);
                if (r < 0)
                        return err_errno(err, r, "%s", target);
                _cleanup_free_ char *path =
                    xasprintf("/containers/%s/archive?path=%%2F%s", container_id,
                              uid || gid ? "&copyUIDGID=1" : "");
                long status = 0;
                _cleanup_free_ char *body = NULL;
                size_t blen;
                r = client_request(&cc->cli->client, "PUT", path, "application/x-tar", tar, len,
                                   &status, &body, &blen, err);
                if (r < 0)
                        return r;
                if (status >= 400) {
                        json_auto_t *j = json_loadb(body, blen, 0, NULL);
                        const char *m = jstr(j, "message");
                        return err_set(err, status == 404 ? -ENOENT : -EIO,
                                       "Error response from daemon: %s", m ? m : strempty(body));
                }
        }
        return 0;
}
