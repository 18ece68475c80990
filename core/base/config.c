/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <berth/plugin.h>
#include <ctype.h>
#include <ini.h>
#include <stdarg.h>

/* The sections whose keys the core reads itself. Driver sections are
 * "<kind>.<driver>" and are checked against the driver's declared options
 * once it is loaded (plugin-loader.c). */
static const char *const driver_kinds[] = {"storage", "network", "volume", "logging", "auth"};

static void set_str(char **p, const char *v)
{
        free(*p);
        *p = v ? xstrdup(v) : NULL;
}

static void set_strv(char ***p, const char *v)
{
        strv_free(*p);
        *p = strv_split(v, " \t,");
}

void config_init(struct berth_config *cfg)
{
        *cfg = (struct berth_config){0};
        set_str(&cfg->data_root, "/var/lib/berth");
        set_str(&cfg->exec_root, "/run/berth");
        set_str(&cfg->host, "/run/berth/berth.sock");
        set_str(&cfg->plugin_dir, BERTH_PLUGINDIR);
        cfg->log_level = BERTH_LOG_INFO;
        set_str(&cfg->storage_driver, "overlay2");
        set_strv(&cfg->network_drivers, "bridge host none");
        set_str(&cfg->network_default, "bridge");
        set_strv(&cfg->volume_drivers, "local");
        set_str(&cfg->volume_default, "local");
        set_strv(&cfg->logging_drivers, "json-file none");
        set_str(&cfg->logging_default, "json-file");
        cfg->auth_drivers = xzalloc(sizeof(char *));
        cfg->registry_insecure = xzalloc(sizeof(char *));
        cfg->registry_timeout = 30;
        cfg->registry_downloads = 3;
        cfg->build_cache_max = 2ull << 30;
        cfg->warnings = xzalloc(sizeof(char *));
}

void config_done(struct berth_config *cfg)
{
        free(cfg->path);
        free(cfg->data_root);
        free(cfg->exec_root);
        free(cfg->host);
        free(cfg->pidfile);
        free(cfg->plugin_dir);
        free(cfg->storage_driver);
        strv_free(cfg->network_drivers);
        free(cfg->network_default);
        strv_free(cfg->volume_drivers);
        free(cfg->volume_default);
        strv_free(cfg->logging_drivers);
        free(cfg->logging_default);
        strv_free(cfg->auth_drivers);
        strv_free(cfg->registry_insecure);
        free(cfg->registry_ca);
        for (size_t i = 0; i < cfg->n_entries; i++) {
                free(cfg->entries[i].section);
                free(cfg->entries[i].key);
                free(cfg->entries[i].value);
                free(cfg->entries[i].where);
        }
        free(cfg->entries);
        strv_free(cfg->warnings);
        *cfg = (struct berth_config){0};
}

void config_warn(struct berth_config *cfg, const char *fmt, ...)
{
        va_list ap;
        char *s;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s)
                cfg->warnings = strv_push(cfg->warnings, s);
}

int parse_host(const char *s, char **ret_path)
{
        const char *p = startswith(s, "unix://");
        if (!p)
                p = s[0] == '/' ? s : NULL;
        if (!p || p[0] != '/')
                return -EINVAL;
        if (strlen(p) >= 108) /* sizeof(sun_path) */
                return -ENAMETOOLONG;
        *ret_path = xstrdup(p);
        return 0;
}

static const struct {
        const char *name;
        int level;
} log_levels[] = {
    {"debug", BERTH_LOG_DEBUG},     {"info", BERTH_LOG_INFO}, {"warn", BERTH_LOG_WARNING},
    {"warning", BERTH_LOG_WARNING}, {"error", BERTH_LOG_ERR}, {"fatal", BERTH_LOG_ERR},
};

int parse_log_level(const char *s, int *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
                if (strcasecmp(s, log_levels[i].name) == 0) {
                        *ret = log_levels[i].level;
                        return 0;
                }
        return -EINVAL;
}

const char *log_level_name(int level)
{
        for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
                if (log_levels[i].level == level)
                        return log_levels[i].name;
        return "info";
}

static bool valid_driver_name(const char *s)
{
        if (isempty(s) || strlen(s) > 64)
                return false;
        for (; *s; s++)
                if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
                    !strchr("-_.", *s))
                        return false;
        return true;
}

struct parse_state {
        struct berth_config *cfg;
        const char *name;
        FILE *f;          /* file mode */
        const char *text; /* string mode */
        unsigned line;
        bool too_long;
        struct berth_err *err;
};

/* Values of the core's own keys. Return 0, or -EINVAL with the message. */
typedef int (*apply_fn)(struct berth_config *cfg, const char *value, const char **ret_why);

static int apply_abs_path(char **dst, const char *v, const char **why)
{
        if (v[0] != '/') {
                *why = "must be an absolute path";
                return -EINVAL;
        }
        set_str(dst, v);
        return 0;
}

#define PATH_KEY(fn, field)                                                    \
        static int fn(struct berth_config *c, const char *v, const char **why) \
        {                                                                      \
                return apply_abs_path(&c->field, v, why);                      \
        }
PATH_KEY(apply_data_root, data_root)
PATH_KEY(apply_exec_root, exec_root)
PATH_KEY(apply_pidfile, pidfile)
PATH_KEY(apply_plugin_dir, plugin_dir)
PATH_KEY(apply_registry_ca, registry_ca)

static int apply_host(struct berth_config *c, const char *v, const char **why)
{
        char *p;
        if (parse_host(v, &p) < 0) {
                *why = "must be unix:///absolute/path (shorter than 108 bytes)";
                return -EINVAL;
        }
        free(c->host);
        c->host = p;
        return 0;
}

static int apply_log_level(struct berth_config *c, const char *v, const char **why)
{
        if (parse_log_level(v, &c->log_level) < 0) {
                *why = "must be one of debug, info, warn, error, fatal";
                return -EINVAL;
        }
        return 0;
}

static int apply_debug(struct berth_config *c, const char *v, const char **why)
{
        bool b;
        if (parse_bool(v, &b) < 0) {
                *why = "must be true or false";
                return -EINVAL;
        }
        if (b)
                c->log_level = BERTH_LOG_DEBUG;
        return 0;
}

static int apply_one_driver(char **dst, const char *v, const char **why)
{
        if (!valid_driver_name(v)) {
                *why = "must be a driver name of a-z, 0-9, '-', '_', '.'";
                return -EINVAL;
        }
        set_str(dst, v);
        return 0;
}

static int apply_driver_list(char ***dst, const char *v, const char **why)
{
        _cleanup_strv_ char **l = strv_split(v, " \t,");
        for (char **i = l; *i; i++)
                if (!valid_driver_name(*i)) {
                        *why = "must be driver names of a-z, 0-9, '-', '_', '.'";
                        return -EINVAL;
                }
        strv_free(*dst);
        *dst = TAKE_PTR(l);
        return 0;
}

#define DRIVER_KEY(fn, field)                                                  \
        static int fn(struct berth_config *c, const char *v, const char **why) \
        {                                                                      \
                return apply_one_driver(&c->field, v, why);                    \
        }
#define DRIVER_LIST_KEY(fn, field)                                             \
        static int fn(struct berth_config *c, const char *v, const char **why) \
        {                                                                      \
                return apply_driver_list(&c->field, v, why);                   \
        }
DRIVER_KEY(apply_storage_driver, storage_driver)
DRIVER_KEY(apply_network_default, network_default)
DRIVER_KEY(apply_volume_default, volume_default)
DRIVER_KEY(apply_logging_default, logging_default)
DRIVER_LIST_KEY(apply_network_drivers, network_drivers)
DRIVER_LIST_KEY(apply_volume_drivers, volume_drivers)
DRIVER_LIST_KEY(apply_logging_drivers, logging_drivers)
DRIVER_LIST_KEY(apply_auth_drivers, auth_drivers)

static int apply_insecure(struct berth_config *c, const char *v, const char **why)
{
        _cleanup_strv_ char **l = strv_split(v, " \t,");
        for (char **i = l; *i; i++)
                if (strchr(*i, '/') && !strchr(*i, '.')) {
                        *why = "must be HOST[:PORT] or CIDR entries";
                        return -EINVAL;
                }
        strv_free(c->registry_insecure);
        c->registry_insecure = TAKE_PTR(l);
        return 0;
}

static int apply_registry_timeout(struct berth_config *c, const char *v, const char **why)
{
        int64_t n;
        if (parse_int64(v, &n) < 0 || n < 1 || n > 3600) {
                *why = "must be a number of seconds from 1 to 3600";
                return -EINVAL;
        }
        c->registry_timeout = (int)n;
        return 0;
}

static int apply_registry_downloads(struct berth_config *c, const char *v, const char **why)
{
        int64_t n;
        if (parse_int64(v, &n) < 0 || n < 1 || n > 32) {
                *why = "must be a number from 1 to 32";
                return -EINVAL;
        }
        c->registry_downloads = (int)n;
        return 0;
}

static int apply_build_cache_max(struct berth_config *c, const char *v, const char **why)
{
        if (parse_size(v, &c->build_cache_max) < 0) {
                *why = "must be a size in bytes, with an optional suffix k, m, g or t (2GB, 512m)";
                return -EINVAL;
        }
        return 0;
}

static const struct {
        const char *section;
        const char *key;
        apply_fn apply;
} core_keys[] = {
    {"daemon", "data-root", apply_data_root},
    {"daemon", "exec-root", apply_exec_root},
    {"daemon", "host", apply_host},
    {"daemon", "pidfile", apply_pidfile},
    {"daemon", "plugin-dir", apply_plugin_dir},
    {"daemon", "log-level", apply_log_level},
    {"daemon", "debug", apply_debug},
    {"storage", "driver", apply_storage_driver},
    {"network", "drivers", apply_network_drivers},
    {"network", "default", apply_network_default},
    {"volume", "drivers", apply_volume_drivers},
    {"volume", "default", apply_volume_default},
    {"logging", "drivers", apply_logging_drivers},
    {"logging", "driver", apply_logging_default},
    {"auth", "drivers", apply_auth_drivers},
    {"registry", "insecure", apply_insecure},
    {"registry", "ca", apply_registry_ca},
    {"registry", "timeout", apply_registry_timeout},
    {"registry", "max-concurrent-downloads", apply_registry_downloads},
    {"build", "cache-max", apply_build_cache_max},
};

static bool is_driver_section(const char *section)
{
        for (size_t i = 0; i < ELEMENTSOF(driver_kinds); i++) {
                const char *rest = startswith(section, driver_kinds[i]);
                if (rest && rest[0] == '.' && valid_driver_name(rest + 1))
                        return true;
        }
        return false;
}

static bool is_core_section(const char *section)
{
        for (size_t i = 0; i < ELEMENTSOF(core_keys); i++)
                if (streq(core_keys[i].section, section))
                        return true;
        return false;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
        struct parse_state *st = user;
        struct berth_config *cfg = st->cfg;
        _cleanup_free_ char *where = xasprintf("%s:%u", st->name, st->line);

        if (st->err->code < 0)
                return 0;
        if (!*section) {
                config_warn(cfg, "%s: key '%s' outside any section, ignoring", where, key);
                return 1;
        }
        if (is_core_section(section)) {
                for (size_t i = 0; i < ELEMENTSOF(core_keys); i++) {
                        if (!streq(core_keys[i].section, section) || !streq(core_keys[i].key, key))
                                continue;
                        const char *why = "invalid";
                        if (core_keys[i].apply(cfg, value, &why) < 0)
                                err_set(st->err, -EINVAL,
                                        "%s: invalid value '%s' for '%s' in [%s]: %s", where, value,
                                        key, section, why);
                        return 1;
                }
                config_warn(cfg, "%s: unknown key '%s' in [%s], ignoring", where, key, section);
                return 1;
        }
        if (!is_driver_section(section)) {
                config_warn(cfg, "%s: unknown section [%s], ignoring", where, section);
                return 1;
        }
        /* A driver's option: kept for the driver, checked once it is loaded.
         * A repeated key replaces the earlier value. */
        for (size_t i = 0; i < cfg->n_entries; i++) {
                struct config_entry *e = &cfg->entries[i];
                if (streq(e->section, section) && streq(e->key, key)) {
                        set_str(&e->value, value);
                        set_str(&e->where, where);
                        return 1;
                }
        }
        cfg->entries = xrealloc(cfg->entries, (cfg->n_entries + 1) * sizeof(*cfg->entries));
        cfg->entries[cfg->n_entries++] = (struct config_entry){
            .section = xstrdup(section),
            .key = xstrdup(key),
            .value = xstrdup(value),
            .where = TAKE_PTR(where),
        };
        return 1;
}

#define MAX_LINE 4096

static char *read_line(char *str, int num, void *stream)
{
        struct parse_state *st = stream;
        char *r;

        if (st->f) {
                r = fgets(str, num, st->f);
                if (!r)
                        return NULL;
        } else {
                if (!*st->text)
                        return NULL;
                size_t l = strcspn(st->text, "\n");
                if (st->text[l] == '\n')
                        l++;
                if (l >= (size_t)num)
                        l = (size_t)num - 1;
                memcpy(str, st->text, l);
                str[l] = '\0';
                st->text += l;
                r = str;
        }
        st->line++;
        size_t len = strlen(str);
        if (len == (size_t)num - 1 && str[len - 1] != '\n' && !st->too_long) {
                st->too_long = true;
                err_set(st->err, -EINVAL, "%s:%u: line longer than %d bytes", st->name, st->line,
                        MAX_LINE - 2);
        }
        return r;
}

static int parse_stream(struct parse_state *st)
{
        ini_use_stack = false;
        ini_max_line = MAX_LINE;
        ini_initial_alloc = MAX_LINE;
        ini_allow_realloc = false;
        int r = ini_parse_stream(read_line, st, on_entry, st);
        if (st->err->code < 0)
                return st->err->code;
        if (r > 0)
                return err_set(st->err, -EINVAL,
                               "%s:%d: syntax error (expected [section] or key = value)", st->name,
                               r);
        if (r < 0)
                return err_set(st->err, -ENOMEM, "%s: cannot parse", st->name);
        return 0;
}

int config_load_string(struct berth_config *cfg, const char *name, const char *text,
                       struct berth_err *err)
{
        struct parse_state st = {.cfg = cfg, .name = name, .text = text, .err = err};
        err_clear(err);
        return parse_stream(&st);
}

int config_load(struct berth_config *cfg, const char *path, struct berth_err *err)
{
        const char *p = path ? path : CONFIG_DEFAULT_PATH;
        _cleanup_fclose_ FILE *f = fopen(p, "re");

        err_clear(err);
        if (!f) {
                if (!path && errno == ENOENT)
                        return 0; /* no config file: built-in defaults */
                return err_errno(err, -errno, "cannot read config file '%s'", p);
        }
        struct parse_state st = {.cfg = cfg, .name = p, .f = f, .err = err};
        int r = parse_stream(&st);
        if (r < 0)
                return r;
        set_str(&cfg->path, p);
        return 0;
}

const char *config_lookup(struct berth_config *cfg, const char *section, const char *key,
                          const char **ret_where)
{
        for (size_t i = 0; i < cfg->n_entries; i++) {
                struct config_entry *e = &cfg->entries[i];
                if (streq(e->section, section) && streq(e->key, key)) {
                        e->used = true;
                        if (ret_where)
                                *ret_where = e->where;
                        return e->value;
                }
        }
        if (ret_where)
                *ret_where = "default";
        return NULL;
}
