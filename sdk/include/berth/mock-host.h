/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_MOCK_HOST_H
#define BERTH_MOCK_HOST_H

/*
 * A stand-in for the engine, so that a driver can be unit-tested on its own
 * (collectd's plugin_mock.c). Header-only: include it in ONE test file.
 *
 *   struct berth_mock_host m;
 *   berth_mock_host_init(&m, "/tmp/mydriver-test");
 *   berth_mock_host_set(&m, "max-size", "10m");
 *   void *state;
 *   struct berth_err err = {0};
 *   int r = berth_plugin_entry.init(&m.host, &state, &err);
 *
 * Log lines go to stderr; config_get answers from the pairs set; every
 * BERTH_PATH_* is a directory under the given root (created); run_helper is
 * not provided (NULL): a driver must cope with an older or smaller host.
 */

#include <berth/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define BERTH_MOCK_MAX_KEYS 32

struct berth_mock_host {
        struct berth_host host;
        char root[256];
        char paths[4][320];
        const char *keys[BERTH_MOCK_MAX_KEYS];
        const char *values[BERTH_MOCK_MAX_KEYS];
        int n_keys;
        int n_logs; /* lines logged so far */
};

static inline void berth_mock_log(void *ctx, int level, const char *fmt, va_list ap)
{
        struct berth_mock_host *m = ctx;
        m->n_logs++;
        (void)level;
        fprintf(stderr, "[mock %d] ", level);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

static inline int berth_mock_err(void *ctx, struct berth_err *err, int code, const char *fmt,
                                 va_list ap)
{
        (void)ctx;
        if (err) {
                err->code = code;
                vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        }
        return code;
}

static inline const char *berth_mock_config_get(void *ctx, const char *key, const char **where)
{
        struct berth_mock_host *m = ctx;
        for (int i = 0; i < m->n_keys; i++)
                if (strcmp(m->keys[i], key) == 0) {
                        if (where)
                                *where = "mock.ini:1";
                        return m->values[i];
                }
        if (where)
                *where = "default";
        return NULL;
}

static inline const char *berth_mock_path(void *ctx, uint32_t which)
{
        struct berth_mock_host *m = ctx;
        if (which < 1 || which > 4)
                return NULL;
        return m->paths[which - 1];
}

static inline void berth_mock_host_init(struct berth_mock_host *m, const char *root)
{
        static const char *const names[] = {"data", "run", "driver", "driver-run"};
        memset(m, 0, sizeof(*m));
        snprintf(m->root, sizeof(m->root), "%s", root);
        mkdir(root, 0700);
        for (int i = 0; i < 4; i++) {
                snprintf(m->paths[i], sizeof(m->paths[i]), "%s/%s", root, names[i]);
                mkdir(m->paths[i], 0700);
        }
        m->host.size = sizeof(struct berth_host);
        m->host.abi_minor = BERTH_ABI_MINOR;
        m->host.ctx = m;
        m->host.log = berth_mock_log;
        m->host.err = berth_mock_err;
        m->host.config_get = berth_mock_config_get;
        m->host.path = berth_mock_path;
}

static inline int berth_mock_host_set(struct berth_mock_host *m, const char *key, const char *value)
{
        if (m->n_keys >= BERTH_MOCK_MAX_KEYS)
                return -ENOSPC;
        m->keys[m->n_keys] = key;
        m->values[m->n_keys] = value;
        m->n_keys++;
        return 0;
}

#endif
