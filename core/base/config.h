/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_CONFIG_H
#define BERTH_BASE_CONFIG_H

/* berth.ini: built-in defaults, then the file, then command-line flags. */

#include <stdbool.h>
#include <stdint.h>
#include <berth/plugin.h>
#include "err.h"

#define CONFIG_DEFAULT_PATH BERTH_CONFDIR "/berth.ini"

struct config_entry {
        char *section;
        char *key;
        char *value;
        char *where; /* "FILE:LINE" */
        bool used;   /* claimed by the core or a loaded driver */
};

struct berth_config {
        char *path; /* the file read, or NULL when running on built-in defaults */

        /* [daemon] */
        char *data_root;
        char *exec_root;
        char *host;    /* socket path (without unix://) */
        char *pidfile; /* NULL: <exec_root>/berthd.pid */
        char *plugin_dir;
        int log_level; /* BERTH_LOG_* */

        /* [storage] [network] [volume] [logging] [auth] */
        char *storage_driver;
        char **network_drivers;
        char *network_default;
        char **volume_drivers;
        char *volume_default;
        char **logging_drivers;
        char *logging_default;
        char **auth_drivers;

        /* [registry] */
        char **registry_insecure;
        char *registry_ca;
        int registry_timeout;   /* seconds: connect, and a transfer without data */
        int registry_downloads; /* layers downloaded at once (dockerd's default: 3) */

        /* [build] */
        uint64_t build_cache_max; /* bytes the build cache may keep after a build (0: no bound) */

        struct config_entry *entries;
        size_t n_entries;

        /* Non-fatal findings ("FILE:LINE: unknown key 'x' in [daemon], ignoring").
         * The caller reports them. */
        char **warnings;
};

void config_init(struct berth_config *cfg);
void config_done(struct berth_config *cfg);

/* Read `path` over the defaults. If path is NULL, read CONFIG_DEFAULT_PATH
 * if it exists and run on the defaults if it does not. A syntax error or an
 * invalid value fails with "FILE:LINE: ..." in err. */
int config_load(struct berth_config *cfg, const char *path, struct berth_err *err);

/* Parse from a string instead of a file; `name` is used in messages. */
int config_load_string(struct berth_config *cfg, const char *name, const char *text,
                       struct berth_err *err);

/* A value from any section (driver sections are looked up here), or NULL. */
const char *config_lookup(struct berth_config *cfg, const char *section, const char *key,
                          const char **ret_where);

/* The socket path: "unix:///x" -> "/x". -EINVAL for other schemes. */
int parse_host(const char *s, char **ret_path);

/* Log levels by name: "debug" "info" "warn" "error" (dockerd's, plus "fatal"). */
int parse_log_level(const char *s, int *ret);
const char *log_level_name(int level);

void config_warn(struct berth_config *cfg, const char *fmt, ...) _printf_(2, 3);

#endif
