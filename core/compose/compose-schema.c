/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-file validation against the Compose Specification's JSON schema
 * (compose-spec.json as compose-go embeds it), reduced to what the errors
 * need: the types each key accepts, the keys each mapping allows, a few
 * enums and required keys. Messages follow compose-go's wording ("... must
 * be a string or number", "... additional properties 'foo' not allowed")
 * with berth's key paths ("services.web.ports[1]") and the file:line the
 * YAML reader recorded. */
#include "compose-model.h"

#include "base/util.h"

#include <string.h>

enum {
        T_STR = 1u << 0,
        T_INT = 1u << 1,
        T_NUM = 1u << 2, /* any number, integers included */
        T_BOOL = 1u << 3,
        T_NULL = 1u << 4,
        T_ARR = 1u << 5,
        T_OBJ = 1u << 6,
};

enum {
        F_WARN = 1u << 0, /* accepted, but berth ignores it: a warning */
};

struct field {
        const char *name;           /* NULL ends a list; "*" matches any key */
        unsigned types;             /* T_* accepted */
        const struct field *fields; /* a mapping's keys (closed unless "*" is one) */
        const struct field *items;  /* what a sequence holds */
        const char *enums;          /* space-separated values a string must take */
        const char *required;       /* space-separated keys a mapping must have */
        unsigned flags;
};

#define END                                        \
        {                                          \
                NULL, 0, NULL, NULL, NULL, NULL, 0 \
        }
#define KEY(n, t)                         \
        {                                 \
                .name = (n), .types = (t) \
        }
#define OBJ(n, t, f)                                     \
        {                                                \
                .name = (n), .types = (t), .fields = (f) \
        }
#define ARR(n, t, i)                                    \
        {                                               \
                .name = (n), .types = (t), .items = (i) \
        }
#define WARN(n, t)                                         \
        {                                                  \
                .name = (n), .types = (t), .flags = F_WARN \
        }
#define FIELDS(...) ((const struct field[]){__VA_ARGS__, END})

static const struct field string_item = KEY("", T_STR);
static const struct field scalar_item = KEY("", T_STR | T_NUM);
#define LIST_OF_STRINGS(n) ARR(n, T_ARR, &string_item)
#define STRING_OR_LIST(n)  ARR(n, T_STR | T_ARR, &string_item)
/* list_or_dict: ["K=V", ...] or {K: scalar|null} */
static const struct field dict_values[] = {KEY("*", T_STR | T_NUM | T_BOOL | T_NULL), END};
#define LIST_OR_DICT(n)                                                                           \
        {                                                                                         \
                .name = (n), .types = T_ARR | T_OBJ, .fields = dict_values, .items = &string_item \
        }
static const struct field opts_values[] = {KEY("*", T_STR | T_NUM), END};
#define DRIVER_OPTS(n) OBJ(n, T_OBJ, opts_values)
#define COMMAND(n)     ARR(n, T_NULL | T_STR | T_ARR, &string_item)
#define BOOLISH(n)     KEY(n, T_BOOL | T_STR)

static const struct field file_ref = {
    .types = T_STR | T_OBJ,
    .fields = FIELDS(KEY("source", T_STR), KEY("target", T_STR), KEY("uid", T_STR),
                     KEY("gid", T_STR), KEY("mode", T_NUM | T_STR)),
};
#define FILE_REFS(n) ARR(n, T_ARR, &file_ref)

static const struct field ulimit[] = {
    {
        .name = "*",
        .types = T_INT | T_STR | T_OBJ,
        .fields = FIELDS(KEY("hard", T_INT | T_STR), KEY("soft", T_INT | T_STR)),
        .required = "soft hard",
    },
    END,
};
#define ULIMITS(n) OBJ(n, T_OBJ, ulimit)

static const struct field hosts_values[] = {ARR("*", T_STR | T_ARR, &string_item), END};
#define EXTRA_HOSTS(n)                                                                             \
        {                                                                                          \
                .name = (n), .types = T_OBJ | T_ARR, .fields = hosts_values, .items = &string_item \
        }

static const struct field device_request = {
    .types = T_OBJ,
    .fields = FIELDS(LIST_OF_STRINGS("capabilities"), KEY("count", T_STR | T_INT),
                     LIST_OF_STRINGS("device_ids"), KEY("driver", T_STR), LIST_OR_DICT("options")),
};

static const struct field service_hook = {
    .types = T_OBJ,
    .fields = FIELDS(COMMAND("command"), KEY("user", T_STR), BOOLISH("privileged"),
                     KEY("working_dir", T_STR), LIST_OR_DICT("environment")),
    .required = "command",
};

static const struct field build_fields[] = {
    KEY("context", T_STR),
    KEY("dockerfile", T_STR),
    KEY("dockerfile_inline", T_STR),
    LIST_OF_STRINGS("entitlements"),
    LIST_OR_DICT("args"),
    LIST_OR_DICT("ssh"),
    LIST_OR_DICT("labels"),
    LIST_OF_STRINGS("cache_from"),
    LIST_OF_STRINGS("cache_to"),
    BOOLISH("no_cache"),
    STRING_OR_LIST("no_cache_filter"),
    LIST_OR_DICT("additional_contexts"),
    KEY("network", T_STR),
    KEY("provenance", T_STR | T_BOOL),
    KEY("sbom", T_STR | T_BOOL),
    BOOLISH("pull"),
    KEY("target", T_STR),
    KEY("shm_size", T_INT | T_STR),
    EXTRA_HOSTS("extra_hosts"),
    KEY("isolation", T_STR),
    BOOLISH("privileged"),
    FILE_REFS("secrets"),
    LIST_OF_STRINGS("tags"),
    ULIMITS("ulimits"),
    LIST_OF_STRINGS("platforms"),
    END,
};

static const struct field port_item = {
    .types = T_NUM | T_STR | T_OBJ,
    .fields = FIELDS(KEY("name", T_STR), KEY("mode", T_STR), KEY("host_ip", T_STR),
                     KEY("target", T_INT | T_STR), KEY("published", T_STR | T_INT),
                     KEY("protocol", T_STR), KEY("app_protocol", T_STR)),
};

static const struct field volume_item = {
    .types = T_STR | T_OBJ,
    .fields = FIELDS(
        {.name = "type", .types = T_STR, .enums = "bind volume tmpfs cluster npipe image"},
        KEY("source", T_STR), KEY("target", T_STR), BOOLISH("read_only"), KEY("consistency", T_STR),
        OBJ("bind", T_OBJ,
            FIELDS(KEY("propagation", T_STR), BOOLISH("create_host_path"),
                   {.name = "recursive",
                    .types = T_STR,
                    .enums = "enabled disabled writable readonly"},
                   {.name = "selinux", .types = T_STR, .enums = "z Z"})),
        OBJ("volume", T_OBJ,
            FIELDS(LIST_OR_DICT("labels"), BOOLISH("nocopy"), KEY("subpath", T_STR))),
        OBJ("tmpfs", T_OBJ, FIELDS(KEY("size", T_INT | T_STR), KEY("mode", T_NUM | T_STR))),
        OBJ("image", T_OBJ, FIELDS(KEY("subpath", T_STR)))),
    .required = "type",
};

static const struct field depends_entry[] = {
    {
        .name = "*",
        .types = T_OBJ,
        .fields = FIELDS(BOOLISH("restart"), KEY("required", T_BOOL),
                         {.name = "condition",
                          .types = T_STR,
                          .enums = "service_started service_healthy "
                                   "service_completed_successfully"}),
        .required = "condition",
    },
    END,
};

static const struct field service_network[] = {
    {
        .name = "*",
        .types = T_OBJ | T_NULL,
        .fields =
            FIELDS(LIST_OF_STRINGS("aliases"), KEY("interface_name", T_STR),
                   KEY("ipv4_address", T_STR), KEY("ipv6_address", T_STR),
                   LIST_OF_STRINGS("link_local_ips"), KEY("mac_address", T_STR),
                   DRIVER_OPTS("driver_opts"), KEY("priority", T_NUM), KEY("gw_priority", T_NUM)),
    },
    END,
};

static const struct field env_file_item = {
    .types = T_STR | T_OBJ,
    .fields = FIELDS(KEY("path", T_STR), KEY("format", T_STR), BOOLISH("required")),
    .required = "path",
};

static const struct field update_config[] = {
    KEY("parallelism", T_INT | T_STR),
    KEY("delay", T_STR),
    KEY("failure_action", T_STR),
    KEY("monitor", T_STR),
    KEY("max_failure_ratio", T_NUM | T_STR),
    {.name = "order", .types = T_STR, .enums = "start-first stop-first"},
    END,
};

static const struct field deploy_fields[] = {
    KEY("mode", T_STR),
    KEY("endpoint_mode", T_STR),
    KEY("replicas", T_INT | T_STR),
    LIST_OR_DICT("labels"),
    OBJ("rollback_config", T_OBJ, update_config),
    OBJ("update_config", T_OBJ, update_config),
    OBJ("resources", T_OBJ,
        FIELDS(OBJ("limits", T_OBJ,
                   FIELDS(KEY("cpus", T_NUM | T_STR), KEY("memory", T_STR),
                          KEY("pids", T_INT | T_STR))),
               OBJ("reservations", T_OBJ,
                   FIELDS(KEY("cpus", T_NUM | T_STR), KEY("memory", T_STR),
                          ARR("generic_resources", T_ARR,
                              (&(const struct field){
                                  .types = T_OBJ,
                                  .fields = FIELDS(KEY("discrete_resource_spec", T_OBJ))})),
                          ARR("devices", T_ARR, &device_request))))),
    OBJ("restart_policy", T_OBJ,
        FIELDS(KEY("condition", T_STR), KEY("delay", T_STR), KEY("max_attempts", T_INT | T_STR),
               KEY("window", T_STR))),
    OBJ("placement", T_OBJ,
        FIELDS(LIST_OF_STRINGS("constraints"),
               ARR("preferences", T_ARR,
                   (&(const struct field){.types = T_OBJ, .fields = FIELDS(KEY("spread", T_STR))})),
               KEY("max_replicas_per_node", T_INT | T_STR))),
    END,
};

static const struct field healthcheck_fields[] = {
    BOOLISH("disable"),
    KEY("interval", T_STR),
    KEY("retries", T_NUM | T_STR),
    COMMAND("test"),
    KEY("timeout", T_STR),
    KEY("start_period", T_STR),
    KEY("start_interval", T_STR),
    END,
};

static const struct field watch_item = {
    .types = T_OBJ,
    .fields = FIELDS(
        STRING_OR_LIST("ignore"), STRING_OR_LIST("include"), KEY("path", T_STR),
        {.name = "action", .types = T_STR, .enums = "rebuild sync restart sync+restart sync+exec"},
        KEY("target", T_STR), {.name = "exec", .types = T_OBJ, .fields = NULL},
        KEY("initial_sync", T_BOOL)),
    .required = "path action",
};

static const struct field service_fields[] = {
    OBJ("develop", T_OBJ | T_NULL, FIELDS(ARR("watch", T_ARR, &watch_item))),
    OBJ("deploy", T_OBJ | T_NULL, deploy_fields),
    LIST_OR_DICT("annotations"),
    BOOLISH("attach"),
    OBJ("build", T_STR | T_OBJ, build_fields),
    WARN("blkio_config", T_OBJ),
    LIST_OF_STRINGS("cap_add"),
    LIST_OF_STRINGS("cap_drop"),
    KEY("cgroup", T_STR),
    KEY("cgroup_parent", T_STR),
    COMMAND("command"),
    FILE_REFS("configs"),
    KEY("container_name", T_STR),
    WARN("cpu_count", T_STR | T_INT),
    WARN("cpu_percent", T_STR | T_INT),
    KEY("cpu_shares", T_NUM | T_STR),
    KEY("cpu_quota", T_NUM | T_STR),
    KEY("cpu_period", T_NUM | T_STR),
    WARN("cpu_rt_period", T_NUM | T_STR),
    WARN("cpu_rt_runtime", T_NUM | T_STR),
    KEY("cpus", T_NUM | T_STR),
    KEY("cpuset", T_STR),
    WARN("credential_spec", T_OBJ),
    {.name = "depends_on", .types = T_ARR | T_OBJ, .items = &string_item, .fields = depends_entry},
    WARN("device_cgroup_rules", T_ARR),
    ARR("devices", T_ARR,
        (&(const struct field){
            .types = T_STR | T_OBJ,
            .fields = FIELDS(KEY("source", T_STR), KEY("target", T_STR), KEY("permissions", T_STR)),
            .required = "source"})),
    STRING_OR_LIST("dns"),
    LIST_OF_STRINGS("dns_opt"),
    STRING_OR_LIST("dns_search"),
    KEY("domainname", T_STR),
    COMMAND("entrypoint"),
    ARR("env_file", T_STR | T_ARR, &env_file_item),
    STRING_OR_LIST("label_file"),
    LIST_OR_DICT("environment"),
    ARR("expose", T_ARR, &scalar_item),
    OBJ("extends", T_STR | T_OBJ, FIELDS(KEY("service", T_STR), KEY("file", T_STR))),
    WARN("provider", T_OBJ),
    LIST_OF_STRINGS("external_links"),
    EXTRA_HOSTS("extra_hosts"),
    {.name = "gpus", .types = T_STR | T_ARR, .items = &device_request, .enums = "all"},
    ARR("group_add", T_ARR, &scalar_item),
    OBJ("healthcheck", T_OBJ, healthcheck_fields),
    KEY("hostname", T_STR),
    KEY("image", T_STR),
    BOOLISH("init"),
    KEY("ipc", T_STR),
    WARN("isolation", T_STR),
    LIST_OR_DICT("labels"),
    LIST_OF_STRINGS("links"),
    OBJ("logging", T_OBJ,
        FIELDS(KEY("driver", T_STR),
               OBJ("options", T_OBJ,
                   ((const struct field[]){KEY("*", T_STR | T_NUM | T_NULL), END})))),
    KEY("mac_address", T_STR),
    KEY("mem_limit", T_NUM | T_STR),
    KEY("mem_reservation", T_STR | T_INT),
    KEY("mem_swappiness", T_INT | T_STR),
    KEY("memswap_limit", T_NUM | T_STR),
    KEY("network_mode", T_STR),
    WARN("models", T_ARR | T_OBJ),
    {.name = "networks", .types = T_ARR | T_OBJ, .items = &string_item, .fields = service_network},
    BOOLISH("oom_kill_disable"),
    KEY("oom_score_adj", T_STR | T_INT),
    KEY("pid", T_STR | T_NULL),
    KEY("pids_limit", T_NUM | T_STR),
    KEY("platform", T_STR),
    ARR("ports", T_ARR, &port_item),
    WARN("pre_start", T_ARR),
    ARR("post_start", T_ARR, &service_hook),
    ARR("pre_stop", T_ARR, &service_hook),
    BOOLISH("privileged"),
    LIST_OF_STRINGS("profiles"),
    KEY("pull_policy", T_STR),
    WARN("pull_refresh_after", T_STR),
    BOOLISH("read_only"),
    KEY("restart", T_STR),
    KEY("runtime", T_STR),
    KEY("scale", T_INT | T_STR),
    LIST_OF_STRINGS("security_opt"),
    KEY("shm_size", T_NUM | T_STR),
    FILE_REFS("secrets"),
    LIST_OR_DICT("sysctls"),
    BOOLISH("stdin_open"),
    KEY("stop_grace_period", T_STR),
    KEY("stop_signal", T_STR),
    OBJ("storage_opt", T_OBJ,
        ((const struct field[]){KEY("*", T_STR | T_NUM | T_BOOL | T_NULL), END})),
    STRING_OR_LIST("tmpfs"),
    BOOLISH("tty"),
    ULIMITS("ulimits"),
    KEY("use_api_socket", T_BOOL),
    KEY("user", T_STR),
    KEY("uts", T_STR),
    KEY("userns_mode", T_STR),
    ARR("volumes", T_ARR, &volume_item),
    LIST_OF_STRINGS("volumes_from"),
    KEY("working_dir", T_STR),
    END,
};

/* external: true, or the deprecated {name: X} */
#define EXTERNAL(n) OBJ(n, T_BOOL | T_STR | T_OBJ, FIELDS(KEY("name", T_STR)))

static const struct field network_fields[] = {
    KEY("name", T_STR),
    KEY("driver", T_STR),
    DRIVER_OPTS("driver_opts"),
    OBJ("ipam", T_OBJ,
        FIELDS(KEY("driver", T_STR),
               ARR("config", T_ARR,
                   (&(const struct field){
                       .types = T_OBJ,
                       .fields = FIELDS(KEY("subnet", T_STR), KEY("ip_range", T_STR),
                                        KEY("gateway", T_STR),
                                        OBJ("aux_addresses", T_OBJ,
                                            ((const struct field[]){KEY("*", T_STR), END})))})),
               OBJ("options", T_OBJ, ((const struct field[]){KEY("*", T_STR), END})))),
    EXTERNAL("external"),
    BOOLISH("internal"),
    BOOLISH("enable_ipv4"),
    BOOLISH("enable_ipv6"),
    BOOLISH("attachable"),
    LIST_OR_DICT("labels"),
    END,
};

static const struct field volume_fields[] = {
    KEY("name", T_STR),   KEY("driver", T_STR),   DRIVER_OPTS("driver_opts"),
    EXTERNAL("external"), LIST_OR_DICT("labels"), END,
};

static const struct field secret_fields[] = {
    KEY("name", T_STR),
    KEY("environment", T_STR),
    KEY("file", T_STR),
    KEY("content", T_STR),
    EXTERNAL("external"),
    LIST_OR_DICT("labels"),
    KEY("driver", T_STR),
    DRIVER_OPTS("driver_opts"),
    KEY("template_driver", T_STR),
    END,
};

static const struct field include_item = {
    .types = T_STR | T_OBJ,
    .fields =
        FIELDS(STRING_OR_LIST("path"), STRING_OR_LIST("env_file"), KEY("project_directory", T_STR)),
};

static const struct field top_fields[] = {
    KEY("version", T_STR),
    KEY("name", T_STR),
    ARR("include", T_ARR, &include_item),
    OBJ("services", T_OBJ, ((const struct field[]){OBJ("*", T_OBJ, service_fields), END})),
    WARN("models", T_OBJ),
    OBJ("networks", T_OBJ, ((const struct field[]){OBJ("*", T_OBJ | T_NULL, network_fields), END})),
    OBJ("volumes", T_OBJ, ((const struct field[]){OBJ("*", T_OBJ | T_NULL, volume_fields), END})),
    OBJ("secrets", T_OBJ, ((const struct field[]){OBJ("*", T_OBJ, secret_fields), END})),
    OBJ("configs", T_OBJ, ((const struct field[]){OBJ("*", T_OBJ, secret_fields), END})),
    END,
};

static const struct field top = {.name = "", .types = T_OBJ, .fields = top_fields};

struct check {
        const struct compose_marks *marks;
        int line; /* the line of the nearest enclosing node that has one: true, false
                   * and null are shared singletons the marks cannot place */
        json_t *warnings;
        struct berth_err *err;
};

/* "file:line: " for a node, as much of it as is known. */
static char *where(const struct check *c, const json_t *node)
{
        const char *file = c->marks ? compose_marks_file(c->marks) : NULL;
        int line = c->marks ? compose_marks_line(c->marks, node) : 0;
        if (line <= 0)
                line = c->line;
        if (file && line > 0)
                return xasprintf("%s:%d: ", file, line);
        if (file)
                return xasprintf("%s: ", file);
        return xstrdup("");
}

static char *type_names(unsigned t)
{
        /* sorted as compose-go sorts them, "object" read as "mapping" */
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {{T_ARR, "array"}, {T_BOOL, "boolean"}, {T_INT, "integer"}, {T_OBJ, "mapping"},
                     {T_NULL, "null"}, {T_NUM, "number"},   {T_STR, "string"}};
        if (t & T_NUM)
                t &= ~T_INT;
        const char *list[8];
        size_t n = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (t & names[i].bit)
                        list[n++] = names[i].name;
        char *s = xstrdup("");
        for (size_t i = 0; i < n; i++) {
                const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";
                char *x = xasprintf("%s%s%s", s, sep, list[i]);
                free(s);
                s = x;
        }
        return s;
}

static unsigned type_of(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                return T_STR;
        case JSON_INTEGER:
                return T_INT;
        case JSON_REAL:
                return T_NUM;
        case JSON_TRUE:
        case JSON_FALSE:
                return T_BOOL;
        case JSON_NULL:
                return T_NULL;
        case JSON_ARRAY:
                return T_ARR;
        default:
                return T_OBJ;
        }
}

static bool type_ok(unsigned have, unsigned want)
{
        if (have == T_INT)
                return want & (T_INT | T_NUM);
        return want & have;
}

static int walk_node(struct check *c, const json_t *v, const struct field *f, const char *path);

static int walk(struct check *c, const json_t *v, const struct field *f, const char *path)
{
        int saved = c->line;
        int r = walk_node(c, v, f, path);
        c->line = saved;
        return r;
}

static int walk_node(struct check *c, const json_t *v, const struct field *f, const char *path)
{
        if (c->marks && compose_marks_line(c->marks, v) > 0)
                c->line = compose_marks_line(c->marks, v);
        /* !reset drops the value whatever it is; !override checks what it holds */
        if (json_is_object(v) && json_object_get(v, COMPOSE_TAG_RESET))
                return 0;
        if (json_is_object(v) && json_object_get(v, COMPOSE_TAG_OVERRIDE))
                v = json_object_get(v, COMPOSE_TAG_OVERRIDE);
        if (!type_ok(type_of(v), f->types)) {
                _cleanup_free_ char *w = where(c, v);
                _cleanup_free_ char *t = type_names(f->types);
                return err_set(c->err, -EINVAL, "%s%s must be a %s", w, path, t);
        }
        if (f->flags & F_WARN) {
                if (c->warnings) {
                        _cleanup_free_ char *w = where(c, v);
                        json_array_append_new(c->warnings,
                                              json_sprintf("%s%s is not supported by berth and "
                                                           "will be ignored",
                                                           w, path));
                }
                return 0;
        }
        if (f->enums && json_is_string(v)) {
                _cleanup_strv_ char **e = strv_split(f->enums, " ");
                if (!strv_contains(e, json_string_value(v))) {
                        _cleanup_free_ char *w = where(c, v);
                        _cleanup_free_ char *list = xstrdup("");
                        for (char **p = e; *p; p++) {
                                char *x = xasprintf("%s%s'%s'", list, p == e ? "" : ", ", *p);
                                free(list);
                                list = x;
                        }
                        return err_set(c->err, -EINVAL, "%s%s value must be one of %s", w, path,
                                       list);
                }
        }
        if (json_is_object(v) && f->fields) {
                const char *k;
                json_t *e;
                json_object_foreach ((json_t *)v, k, e) {
                        if (startswith(k, "x-"))
                                continue;
                        const struct field *sub = NULL, *any = NULL;
                        for (const struct field *x = f->fields; x->name; x++) {
                                if (streq(x->name, k))
                                        sub = x;
                                else if (streq(x->name, "*"))
                                        any = x;
                        }
                        if (!sub)
                                sub = any;
                        if (!sub) {
                                _cleanup_free_ char *w = where(c, e);
                                return err_set(c->err, -EINVAL,
                                               "%s%s%sadditional properties '%s' not allowed", w,
                                               path, *path ? " " : "", k);
                        }
                        _cleanup_free_ char *sp = xasprintf("%s%s%s", path, *path ? "." : "", k);
                        int r = walk(c, e, sub, sp);
                        if (r < 0)
                                return r;
                }
                if (f->required) {
                        _cleanup_strv_ char **req = strv_split(f->required, " ");
                        for (char **p = req; *p; p++)
                                if (!json_object_get(v, *p)) {
                                        _cleanup_free_ char *w = where(c, v);
                                        return err_set(c->err, -EINVAL,
                                                       "%s%s missing property '%s'", w, path, *p);
                                }
                }
        }
        if (json_is_array(v) && f->items) {
                size_t i;
                json_t *e;
                json_array_foreach ((json_t *)v, i, e) {
                        _cleanup_free_ char *sp = xasprintf("%s[%zu]", path, i);
                        int r = walk(c, e, f->items, sp);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int compose_schema_check(const json_t *doc, const struct compose_marks *marks, json_t *warnings,
                         struct berth_err *err)
{
        struct check c = {.marks = marks, .warnings = warnings, .err = err};
        if (!json_is_object(doc)) {
                _cleanup_free_ char *w = where(&c, doc);
                return err_set(err, -EINVAL, "%stop-level object must be a mapping", w);
        }
        return walk(&c, doc, &top, "");
}
