/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test plugins for the loader: a good storage driver ("good"), and one for
 * each reason the loader refuses a plugin. VARIANT_* picks which. */
#include <berth/storage.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state {
        const struct berth_host *host;
        int gets;
};

static int t_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
#ifdef VARIANT_INITFAIL
        return berth_host_err(host, err, -EIO, "backing store '/nonexistent' is not usable");
#endif
        struct state *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
}

static void t_fini(void *st)
{
        free(st);
}

static int t_exists(void *drv, const char *id, uint64_t flags)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return strcmp(id, "present") == 0;
}

static int t_get(void *drv, const char *id, const char *label, uint64_t flags, char *ret_path,
                 size_t ret_len, struct berth_err *err)
{
        struct state *s = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (strcmp(id, "present") != 0)
                return berth_host_err(s->host, err, -ENOENT, "layer '%s' does not exist", id);
        const char *dir = s->host->path(s->host->ctx, BERTH_PATH_DRIVER);
        s->gets++;
        if ((size_t)snprintf(ret_path, ret_len, "%s/%s", dir, id) >= ret_len)
                return -ENAMETOOLONG;
        return 0;
}

static int t_status(void *drv, berth_kv_fn fn, void *ud, uint64_t flags)
{
        struct state *s = drv;
        const char *where = NULL;
        const char *v = s->host->config_get(s->host->ctx, "colour", &where);
        int r = fn(ud, "Colour", v ? v : "none");
        if (r)
                return r;
        return fn(ud, "Colour Set At", where);
}

__attribute__((unused)) static const struct berth_storage_ops t_ops = {
    .size = sizeof(struct berth_storage_ops),
    .exists = t_exists,
    .get = t_get,
    .status = t_status,
};

static const struct berth_option t_options[] = {
    {"colour", "none", "a test option"},
    {0},
};

#ifdef VARIANT_NOENTRY
/* No descriptor: an ordinary shared object. */
int not_a_plugin(void);
__attribute__((visibility("default"))) int not_a_plugin(void)
{
        (void)t_init;
        (void)t_fini;
        return (int)t_ops.size + (t_options[0].key != NULL);
}
#elif defined(VARIANT_ABI)
BERTH_EXPORT extern const struct berth_plugin berth_plugin_entry;
BERTH_EXPORT const struct berth_plugin berth_plugin_entry = {.abi_major = 99,
                                                             .abi_minor = 3,
                                                             .struct_size =
                                                                 sizeof(struct berth_plugin),
                                                             .kind = BERTH_KIND_STORAGE,
                                                             .name = "abi",
                                                             .init = t_init,
                                                             .fini = t_fini,
                                                             .ops = &t_ops,
                                                             .options = t_options};
#elif defined(VARIANT_SMALL)
BERTH_EXPORT extern const struct berth_plugin berth_plugin_entry;
BERTH_EXPORT const struct berth_plugin berth_plugin_entry = {.abi_major = BERTH_ABI_MAJOR,
                                                             .abi_minor = 0,
                                                             .struct_size = 16,
                                                             .kind = BERTH_KIND_STORAGE,
                                                             .name = "small",
                                                             .init = t_init,
                                                             .fini = t_fini,
                                                             .ops = &t_ops,
                                                             .options = t_options};
#else
#if defined(VARIANT_GOOD)
#define T_KIND BERTH_KIND_STORAGE
#define T_NAME "good"
#define T_OPS  &t_ops
#elif defined(VARIANT_WRONGKIND)
#define T_KIND BERTH_KIND_NETWORK
#define T_NAME "wrongkind"
#define T_OPS  &t_ops
#elif defined(VARIANT_INITFAIL)
#define T_KIND BERTH_KIND_STORAGE
#define T_NAME "initfail"
#define T_OPS  &t_ops
#elif defined(VARIANT_BADNAME)
#define T_KIND BERTH_KIND_STORAGE
#define T_NAME "somethingelse"
#define T_OPS  &t_ops
#elif defined(VARIANT_NOOPS)
#define T_KIND BERTH_KIND_STORAGE
#define T_NAME "noops"
#define T_OPS  NULL
#endif
BERTH_PLUGIN_DEFINE(.kind = T_KIND, .name = T_NAME, .version = "9.9.9",
                    .description = "test plugin", .features = BERTH_STORAGE_F_COPY_ON_WRITE,
                    .options = t_options, .init = t_init, .fini = t_fini, .ops = T_OPS);
#endif
