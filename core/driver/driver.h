/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_DRIVER_DRIVER_H
#define BERTH_DRIVER_DRIVER_H

/* Loaded driver plugins, and the one wrapper per vtable slot through which
 * the core calls them (SQLite's os.c): the wrapper checks that the slot
 * exists in the plugin's version of the vtable, answers -ENOTSUP for an
 * absent slot, puts the driver's name in errors, and is where tests inject
 * faults (BERTH_FAULT, see driver_fault()). */

#include <berth/berth.h>
#include "base/config.h"
#include "base/hostlock.h"

struct driver {
        char *path; /* the .so */
        char *name; /* as configured: "overlay2", "json-file" */
        uint32_t kind;
        const struct berth_plugin *desc;
        const void *ops;
        uint32_t ops_size;
        void *state;
        char *dir;     /* BERTH_PATH_DRIVER */
        char *run_dir; /* BERTH_PATH_DRIVER_RUN */
        char *section; /* "storage.overlay2" */
        struct berth_config *cfg;
        struct berth_host host;
        struct hostlock **claims; /* host-wide names (claim_name), NULL-terminated */
        bool initialised;
};

/* The loaded drivers by kind, as the engine loaded them; the stores get
 * this, never the engine. */
struct driver_set {
        struct driver *storage;
        struct driver **network; /* NULL-terminated, in berth.ini order */
        struct driver **volume;
        struct driver **logging;
        struct driver **auth;
};
/* The driver of that kind and name, or NULL when it is not loaded. */
struct driver *driver_set_find(const struct driver_set *ds, uint32_t kind, const char *name);

const char *driver_kind_name(uint32_t kind); /* "storage" ... */
const char *
driver_kind_prefix(uint32_t kind); /* file prefix: "storage", "net", "volume", "log", "auth" */
/* The file a driver of this kind and name is loaded from:
 * <plugin-dir>/<prefix>-<name with '-' and '.' dropped>.so */
char *driver_file(const char *plugin_dir, uint32_t kind, const char *name);

/* The host's layer services (struct berth_host.layer_unpack/layer_diff);
 * set before loading storage drivers. */
typedef int (*berth_layer_unpack_fn)(void *ctx, int tar_fd, const char *dest, uint32_t mode,
                                     uint64_t flags, int64_t *ret_size, struct berth_err *err);
typedef int (*berth_layer_diff_fn)(void *ctx, const char *dir, const char *const *lowers,
                                   uint32_t mode, int out_fd,
                                   int (*fn)(void *userdata, uint32_t kind, const char *path),
                                   void *userdata, uint64_t flags, int64_t *ret_size,
                                   struct berth_err *err);
void driver_set_layer_services(berth_layer_unpack_fn unpack, berth_layer_diff_fn diff);

/* Drivers built into this program (a NULL-terminated list of descriptors,
 * kept by reference): driver_load() takes one of these before it looks in
 * the plugin directory. */
void driver_set_builtins(const struct berth_plugin *const *list);
bool driver_is_builtin(uint32_t kind, const char *name);
/* dlopen the plugin at path and find its descriptor (driver-dlopen.c; the
 * static berth-shim replaces it with one that refuses). */
int driver_dlopen(const char *path, const char *kname, const char *name,
                  const struct berth_plugin **ret, struct berth_err *err);

/* Load, check and initialise one driver. Every refusal names the file. */
int driver_load(struct berth_config *cfg, uint32_t kind, const char *name, struct driver **ret,
                struct berth_err *err);
/* Call fini. The .so stays mapped (libvirt: modules are never unloaded). */
struct driver *driver_unload(struct driver *d);

/* Whether the driver's vtable has a non-NULL `slot`. */
#define DRIVER_HAS(d, T, slot)                                                        \
        ((d)->ops_size >= offsetof(struct T, slot) + sizeof(((struct T *)0)->slot) && \
         ((const struct T *)(d)->ops)->slot != NULL)

/* Fault injection for tests: BERTH_FAULT="storage.apply_diff=-28,volume.create=-5"
 * makes those wrappers fail with that code before calling the driver.
 * Returns 0 or the injected code. */
int driver_fault(const struct driver *d, const char *slot);

/* storage */
int berth_storage_create(struct driver *d, const char *id, const char *parent,
                         const char *const *opts, uint64_t flags, struct berth_err *err);
int berth_storage_remove(struct driver *d, const char *id, uint64_t flags, struct berth_err *err);
int berth_storage_exists(struct driver *d, const char *id, uint64_t flags);
int berth_storage_get(struct driver *d, const char *id, const char *mount_label, uint64_t flags,
                      char *ret_path, size_t ret_len, struct berth_err *err);
int berth_storage_put(struct driver *d, const char *id, uint64_t flags, struct berth_err *err);
int berth_storage_apply_diff(struct driver *d, const char *id, const char *parent, int tar_fd,
                             uint32_t whiteout_format, uint64_t flags, int64_t *ret_size,
                             struct berth_err *err);
int berth_storage_diff(struct driver *d, const char *id, const char *parent, int out_fd,
                       uint64_t flags, struct berth_err *err);
int berth_storage_changes(struct driver *d, const char *id, const char *parent, berth_change_fn fn,
                          void *userdata, uint64_t flags, struct berth_err *err);
int berth_storage_diff_size(struct driver *d, const char *id, const char *parent, uint64_t flags,
                            int64_t *ret_size, struct berth_err *err);
int berth_storage_status(struct driver *d, berth_kv_fn fn, void *userdata, uint64_t flags);
int berth_storage_metadata(struct driver *d, const char *id, berth_kv_fn fn, void *userdata,
                           uint64_t flags, struct berth_err *err);

/* network */
int berth_network_create_network(struct driver *d, const struct berth_net_config *cfg,
                                 uint64_t flags, struct berth_err *err);
int berth_network_delete_network(struct driver *d, const char *network_id, uint64_t flags,
                                 struct berth_err *err);
int berth_network_join(struct driver *d, const struct berth_endpoint *ep, uint64_t flags,
                       struct berth_err *err);
int berth_network_leave(struct driver *d, const struct berth_endpoint *ep, uint64_t flags,
                        struct berth_err *err);
int berth_network_publish(struct driver *d, const struct berth_endpoint *ep,
                          const struct berth_port_mapping *ports, size_t n, uint64_t flags,
                          struct berth_err *err);
int berth_network_unpublish(struct driver *d, const struct berth_endpoint *ep,
                            const struct berth_port_mapping *ports, size_t n, uint64_t flags,
                            struct berth_err *err);
int berth_network_status(struct driver *d, berth_kv_fn fn, void *userdata, uint64_t flags);

/* volume */
int berth_volume_create(struct driver *d, const char *name, const char *const *opts, uint64_t flags,
                        struct berth_err *err);
int berth_volume_remove(struct driver *d, const char *name, uint64_t flags, struct berth_err *err);
int berth_volume_mount(struct driver *d, const char *name, const char *ref, uint64_t flags,
                       char *ret_path, size_t ret_len, struct berth_err *err);
int berth_volume_unmount(struct driver *d, const char *name, const char *ref, uint64_t flags,
                         struct berth_err *err);
int berth_volume_path(struct driver *d, const char *name, uint64_t flags, char *ret_path,
                      size_t ret_len, struct berth_err *err);
int berth_volume_get(struct driver *d, const char *name, berth_kv_fn fn, void *userdata,
                     uint64_t flags, struct berth_err *err);
int berth_volume_list(struct driver *d, berth_name_fn fn, void *userdata, uint64_t flags,
                      struct berth_err *err);

/* logging */
int berth_logging_validate(struct driver *d, const struct berth_log_info *info, uint64_t flags,
                           struct berth_err *err);
int berth_logging_open(struct driver *d, const struct berth_log_info *info, void **ret_writer,
                       uint64_t flags, struct berth_err *err);
int berth_logging_write(struct driver *d, void *writer, const struct berth_log_msg *msg,
                        uint64_t flags, struct berth_err *err);
int berth_logging_close(struct driver *d, void *writer, uint64_t flags);
int berth_logging_read(struct driver *d, const struct berth_log_info *info,
                       const struct berth_log_read *cfg, berth_log_msg_fn fn, void *userdata,
                       uint64_t flags, struct berth_err *err);
int berth_logging_remove(struct driver *d, const struct berth_log_info *info, uint64_t flags,
                         struct berth_err *err);

/* auth */
int berth_auth_authorize_request(struct driver *d, const struct berth_auth_request *req,
                                 uint64_t flags, struct berth_err *err);
int berth_auth_authorize_response(struct driver *d, const struct berth_auth_request *req,
                                  uint32_t status, const void *body, size_t body_len,
                                  uint64_t flags, struct berth_err *err);

#endif
