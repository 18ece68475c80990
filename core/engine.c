/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "engine.h"
#include "build/build-cache.h"
#include "build/build.h"
#include "container/container.h"
#include "image/image.h"
#include "tar/tar-layer.h"
#include "volume/volume.h"
#include "network/network.h"

#include <fcntl.h>
#include <sys/random.h>

static void drivers_free(struct driver **v)
{
        for (struct driver **d = v; d && *d; d++)
                driver_unload(*d);
        free(v);
}

struct engine *engine_close(struct engine *e)
{
        if (!e)
                return NULL;
        /* In reverse order of opening. */
        /* Exit monitors may still be blocked on their shims: the container
         * store stays allocated for them (the process is ending), and they
         * do nothing once they see the store shut down. */
        container_store_shutdown(e->containers);
        build_cache_close(e->build_cache);
        image_store_close(e->images);
        /* The volume store stays, as the container store does: exit
         * monitors may still release mounts. */
        network_store_close(e->networks);
        drivers_free(e->drivers.auth);
        drivers_free(e->drivers.logging);
        drivers_free(e->drivers.volume);
        drivers_free(e->drivers.network);
        driver_unload(e->drivers.storage);
        free(e->id);
        free(e);
        return NULL;
}

void engine_shutdown(struct engine *e)
{
        if (!e)
                return;
        container_store_shutdown(e->containers);
        network_shutdown(e->networks);
}

static void engine_closep(struct engine **e)
{
        engine_close(*e);
}

static int load_list(struct berth_config *cfg, uint32_t kind, char **names, struct driver ***ret,
                     struct berth_err *err)
{
        size_t n = strv_length(names);
        struct driver **v = xzalloc((n + 1) * sizeof(*v));
        for (size_t i = 0; i < n; i++) {
                int r = driver_load(cfg, kind, names[i], &v[i], err);
                if (r < 0) {
                        drivers_free(v);
                        return r;
                }
        }
        *ret = v;
        return 0;
}

/* A stable random ID, made once per data root (Docker's engine ID shape is
 * free-form; a 64-hex string reads like every other ID in the API). */
static int load_engine_id(const char *data_root, char **ret, struct berth_err *err)
{
        _cleanup_free_ char *path = xasprintf("%s/engine-id", data_root);
        char *id = NULL;
        if (read_one_line(path, &id) == 0 && strlen(id) == 64) {
                *ret = id;
                return 0;
        }
        free(id);
        unsigned char raw[32];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return err_errno(err, -errno, "cannot make an engine ID: getrandom");
        char hex[65];
        for (size_t i = 0; i < sizeof(raw); i++)
                sprintf(hex + 2 * i, "%02x", raw[i]);
        int r = write_file_atomic(path, hex, 64, 0600);
        if (r < 0)
                return err_errno(err, r, "write '%s'", path);
        *ret = xstrdup(hex);
        return 0;
}

/* The container layer's view of networks and volumes: the network_* and
 * volume_* functions on their stores. */
static int net_plan(void *ctx, json_t *hc, json_t *netcfg, json_t **ret, struct berth_err *err)
{
        return network_container_create(ctx, hc, netcfg, ret, err);
}
static int net_up(void *ctx, const char *id, json_t *rec, const char *join_key,
                  json_t *join_networks, struct berth_err *err)
{
        return network_container_start(ctx, id, rec, join_key, join_networks, err);
}
static void net_down(void *ctx, const char *id, json_t *rec)
{
        network_container_stop(ctx, id, rec);
}
static void net_restore(void *ctx, const char *id, json_t *rec)
{
        network_container_restore(ctx, id, rec);
}
static int net_connect(void *ctx, const char *net, const char *id, json_t *rec, bool running,
                       json_t *endpoint_config, struct berth_err *err)
{
        return network_endpoint_connect(ctx, net, id, rec, running, endpoint_config, err);
}
static int net_disconnect(void *ctx, const char *net, const char *id, json_t *rec,
                          struct berth_err *err)
{
        return network_endpoint_disconnect(ctx, net, id, rec, err);
}
static const struct ct_network_ops network_ops = {
    .plan = net_plan,
    .up = net_up,
    .down = net_down,
    .restore = net_restore,
    .connect = net_connect,
    .disconnect = net_disconnect,
};

static int vol_plan(void *ctx, const char *id, json_t *cfg, json_t *hc, json_t *from,
                    json_t **ret_mounts, struct berth_err *err)
{
        return volume_container_create(ctx, id, cfg, hc, from, ret_mounts, err);
}
static int vol_mount(void *ctx, json_t *rec, const char *rootfs, json_t *spec,
                     struct berth_err *err)
{
        return volume_container_start(ctx, rec, rootfs, spec, err);
}
static void vol_unmount(void *ctx, json_t *rec)
{
        volume_container_stop(ctx, rec);
}
static void vol_remove(void *ctx, json_t *rec, bool anonymous)
{
        volume_container_remove(ctx, rec, anonymous);
}
static void vol_restore(void *ctx, const char *id, json_t *mounts)
{
        volume_mounts_restore(ctx, id, mounts);
}
static const struct ct_volume_ops volume_ops = {
    .plan = vol_plan,
    .mount = vol_mount,
    .unmount = vol_unmount,
    .remove = vol_remove,
    .restore = vol_restore,
};

static bool default_in(char **names, const char *def)
{
        return def && strv_contains(names, def);
}

int engine_open(struct berth_config *cfg, struct engine **ret, struct berth_err *err)
{
        _cleanup_(engine_closep) struct engine *e = xzalloc(sizeof(*e));
        int r;

        e->cfg = cfg;
        e->started_ns = now_ns();

        r = mkdir_p(cfg->data_root, 0711);
        if (r < 0)
                return err_errno(err, r, "cannot create data root '%s'", cfg->data_root);
        r = load_engine_id(cfg->data_root, &e->id, err);
        if (r < 0)
                return r;

        if (!default_in(cfg->network_drivers, cfg->network_default))
                return err_set(err, -EINVAL, "[network] default = %s is not in drivers = ...",
                               cfg->network_default);
        if (!default_in(cfg->logging_drivers, cfg->logging_default))
                return err_set(err, -EINVAL, "[logging] driver = %s is not in drivers = ...",
                               cfg->logging_default);
        if (!default_in(cfg->volume_drivers, cfg->volume_default))
                return err_set(err, -EINVAL, "[volume] default = %s is not in drivers = ...",
                               cfg->volume_default);

        driver_set_layer_services(host_layer_unpack, host_layer_diff);
        r = driver_load(cfg, BERTH_KIND_STORAGE, cfg->storage_driver, &e->drivers.storage, err);
        if (r < 0)
                return r;
        r = load_list(cfg, BERTH_KIND_NETWORK, cfg->network_drivers, &e->drivers.network, err);
        if (r < 0)
                return r;
        r = load_list(cfg, BERTH_KIND_VOLUME, cfg->volume_drivers, &e->drivers.volume, err);
        if (r < 0)
                return r;
        r = load_list(cfg, BERTH_KIND_LOGGING, cfg->logging_drivers, &e->drivers.logging, err);
        if (r < 0)
                return r;
        r = load_list(cfg, BERTH_KIND_AUTH, cfg->auth_drivers, &e->drivers.auth, err);
        if (r < 0)
                return r;

        r = image_store_open(cfg->data_root, e->drivers.storage, &e->images, err);
        if (r < 0)
                return r;
        build_sweep(cfg->data_root); /* what builds of a daemon that died left */
        r = build_cache_open(cfg->data_root, e->images, cfg->build_cache_max, &e->build_cache, err);
        if (r < 0)
                return r;
        r = network_store_open(cfg, &e->drivers, &e->networks, err);
        if (r < 0)
                return r;
        r = volume_store_open(cfg, &e->drivers, &e->volumes, err);
        if (r < 0)
                return r;
        struct container_deps cd = {
            .cfg = cfg,
            .storage = e->drivers.storage,
            .images = e->images,
            .net = &network_ops,
            .net_ctx = e->networks,
            .vol = &volume_ops,
            .vol_ctx = e->volumes,
        };
        r = container_store_open(&cd, &e->containers, err);
        if (r < 0)
                return r;
        /* Images and volumes in use by a container are not removed. */
        image_store_set_usage_fn(e->images, container_image_usage, e->containers);
        volume_store_set_users_fn(e->volumes, container_volume_users, e->containers);
        /* Last, with every store open: exits seen now find all they need. */
        container_restore(e->containers);
        /* the step containers of builds a dead daemon left */
        build_reap(e->containers);

        /* A section for a driver that is not loaded is probably a typo. */
        for (size_t i = 0; i < cfg->n_entries; i++) {
                struct config_entry *ce = &cfg->entries[i];
                bool loaded = streq(ce->section, e->drivers.storage->section);
                struct driver **lists[] = {e->drivers.network, e->drivers.volume,
                                           e->drivers.logging, e->drivers.auth};
                for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                        for (struct driver **d = lists[l]; *d; d++)
                                if (streq((*d)->section, ce->section))
                                        loaded = true;
                if (!loaded)
                        config_warn(cfg,
                                    "%s: section [%s] is for a driver that is not loaded, ignoring",
                                    ce->where, ce->section);
        }
        *ret = TAKE_PTR(e);
        return 0;
}

const char *engine_feature_name(uint32_t kind, unsigned bit)
{
        static const char *const storage[] = {"copy-on-write", "native-diff", "quota"};
        static const char *const network[] = {"netns", "ipam", "ports", "user-networks",
                                              "host-netns"};
        static const char *const volume[] = {"global-scope"};
        static const char *const logging[] = {"read"};
        static const char *const auth[] = {"response", "body"};
#define PICK(a) return bit < ELEMENTSOF(a) ? a[bit] : NULL
        switch (kind) {
        case BERTH_KIND_STORAGE:
                PICK(storage);
        case BERTH_KIND_NETWORK:
                PICK(network);
        case BERTH_KIND_VOLUME:
                PICK(volume);
        case BERTH_KIND_LOGGING:
                PICK(logging);
        case BERTH_KIND_AUTH:
                PICK(auth);
        }
#undef PICK
        return NULL;
}
