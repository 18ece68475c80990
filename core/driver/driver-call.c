/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "driver.h"

/* Fault injection (tests): BERTH_FAULT="kind.slot=-errno,...". Parsed on
 * each call: it is read only by tests and the wrappers are not hot enough
 * for a getenv to matter next to a syscall-doing driver op. */
int driver_fault(const struct driver *d, const char *slot)
{
        const char *spec = getenv("BERTH_FAULT");
        if (_likely_(!spec))
                return 0;
        char want[128];
        snprintf(want, sizeof(want), "%s.%s=", driver_kind_name(d->kind), slot);
        const char *p = strstr(spec, want);
        if (!p || (p != spec && p[-1] != ','))
                return 0;
        int v = atoi(p + strlen(want));
        return v < 0 ? v : -EIO;
}

/* Put the driver's name in front of a driver's error, or make one up from
 * the code if the driver left the message empty. */
static int fail(const struct driver *d, const char *slot, int r, struct berth_err *err)
{
        if (!err)
                return r;
        if (err->code == 0 || !err->msg[0])
                return err_errno(err, r, "%s driver '%s': %s", driver_kind_name(d->kind), d->name,
                                 slot);
        err->code = r;
        return err_prefix(err, "%s driver '%s'", driver_kind_name(d->kind), d->name);
}

#define CALL(T, slot, ...)                                                                  \
        do {                                                                                \
                int _r = driver_fault(d, #slot);                                            \
                if (_r < 0)                                                                 \
                        return err_errno(err, _r, "%s driver '%s': %s (injected fault)",    \
                                         driver_kind_name(d->kind), d->name, #slot);        \
                if (!DRIVER_HAS(d, T, slot))                                                \
                        return err_set(err, -ENOTSUP, "%s driver '%s' does not support %s", \
                                       driver_kind_name(d->kind), d->name, #slot);          \
                err_clear(err);                                                             \
                _r = ((const struct T *)d->ops)->slot(d->state, __VA_ARGS__);               \
                return _r < 0 ? fail(d, #slot, _r, err) : _r;                               \
        } while (0)

/* Slots without a struct berth_err. */
#define CALL_NOERR(T, slot, ...)                                                \
        do {                                                                    \
                int _r = driver_fault(d, #slot);                                \
                if (_r < 0)                                                     \
                        return _r;                                              \
                if (!DRIVER_HAS(d, T, slot))                                    \
                        return -ENOTSUP;                                        \
                return ((const struct T *)d->ops)->slot(d->state, __VA_ARGS__); \
        } while (0)

/* storage */
int berth_storage_create(struct driver *d, const char *id, const char *parent,
                         const char *const *opts, uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, create, id, parent, opts, flags, err);
}
int berth_storage_remove(struct driver *d, const char *id, uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, remove, id, flags, err);
}
int berth_storage_exists(struct driver *d, const char *id, uint64_t flags)
{
        CALL_NOERR(berth_storage_ops, exists, id, flags);
}
int berth_storage_get(struct driver *d, const char *id, const char *mount_label, uint64_t flags,
                      char *ret_path, size_t ret_len, struct berth_err *err)
{
        CALL(berth_storage_ops, get, id, mount_label, flags, ret_path, ret_len, err);
}
int berth_storage_put(struct driver *d, const char *id, uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, put, id, flags, err);
}
int berth_storage_apply_diff(struct driver *d, const char *id, const char *parent, int tar_fd,
                             uint32_t whiteout_format, uint64_t flags, int64_t *ret_size,
                             struct berth_err *err)
{
        CALL(berth_storage_ops, apply_diff, id, parent, tar_fd, whiteout_format, flags, ret_size,
             err);
}
int berth_storage_diff(struct driver *d, const char *id, const char *parent, int out_fd,
                       uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, diff, id, parent, out_fd, flags, err);
}
int berth_storage_changes(struct driver *d, const char *id, const char *parent, berth_change_fn fn,
                          void *userdata, uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, changes, id, parent, fn, userdata, flags, err);
}
int berth_storage_diff_size(struct driver *d, const char *id, const char *parent, uint64_t flags,
                            int64_t *ret_size, struct berth_err *err)
{
        CALL(berth_storage_ops, diff_size, id, parent, flags, ret_size, err);
}
int berth_storage_status(struct driver *d, berth_kv_fn fn, void *userdata, uint64_t flags)
{
        CALL_NOERR(berth_storage_ops, status, fn, userdata, flags);
}
int berth_storage_metadata(struct driver *d, const char *id, berth_kv_fn fn, void *userdata,
                           uint64_t flags, struct berth_err *err)
{
        CALL(berth_storage_ops, metadata, id, fn, userdata, flags, err);
}

/* network */
int berth_network_create_network(struct driver *d, const struct berth_net_config *cfg,
                                 uint64_t flags, struct berth_err *err)
{
        CALL(berth_network_ops, create_network, cfg, flags, err);
}
int berth_network_delete_network(struct driver *d, const char *network_id, uint64_t flags,
                                 struct berth_err *err)
{
        CALL(berth_network_ops, delete_network, network_id, flags, err);
}
int berth_network_join(struct driver *d, const struct berth_endpoint *ep, uint64_t flags,
                       struct berth_err *err)
{
        CALL(berth_network_ops, join, ep, flags, err);
}
int berth_network_leave(struct driver *d, const struct berth_endpoint *ep, uint64_t flags,
                        struct berth_err *err)
{
        CALL(berth_network_ops, leave, ep, flags, err);
}
int berth_network_publish(struct driver *d, const struct berth_endpoint *ep,
                          const struct berth_port_mapping *ports, size_t n, uint64_t flags,
                          struct berth_err *err)
{
        CALL(berth_network_ops, publish, ep, ports, n, flags, err);
}
int berth_network_unpublish(struct driver *d, const struct berth_endpoint *ep,
                            const struct berth_port_mapping *ports, size_t n, uint64_t flags,
                            struct berth_err *err)
{
        CALL(berth_network_ops, unpublish, ep, ports, n, flags, err);
}
int berth_network_status(struct driver *d, berth_kv_fn fn, void *userdata, uint64_t flags)
{
        CALL_NOERR(berth_network_ops, status, fn, userdata, flags);
}

/* volume */
int berth_volume_create(struct driver *d, const char *name, const char *const *opts, uint64_t flags,
                        struct berth_err *err)
{
        CALL(berth_volume_ops, create, name, opts, flags, err);
}
int berth_volume_remove(struct driver *d, const char *name, uint64_t flags, struct berth_err *err)
{
        CALL(berth_volume_ops, remove, name, flags, err);
}
int berth_volume_mount(struct driver *d, const char *name, const char *ref, uint64_t flags,
                       char *ret_path, size_t ret_len, struct berth_err *err)
{
        CALL(berth_volume_ops, mount, name, ref, flags, ret_path, ret_len, err);
}
int berth_volume_unmount(struct driver *d, const char *name, const char *ref, uint64_t flags,
                         struct berth_err *err)
{
        CALL(berth_volume_ops, unmount, name, ref, flags, err);
}
int berth_volume_path(struct driver *d, const char *name, uint64_t flags, char *ret_path,
                      size_t ret_len, struct berth_err *err)
{
        CALL(berth_volume_ops, path, name, flags, ret_path, ret_len, err);
}
int berth_volume_get(struct driver *d, const char *name, berth_kv_fn fn, void *userdata,
                     uint64_t flags, struct berth_err *err)
{
        CALL(berth_volume_ops, get, name, fn, userdata, flags, err);
}
int berth_volume_list(struct driver *d, berth_name_fn fn, void *userdata, uint64_t flags,
                      struct berth_err *err)
{
        CALL(berth_volume_ops, list, fn, userdata, flags, err);
}

/* logging */
int berth_logging_validate(struct driver *d, const struct berth_log_info *info, uint64_t flags,
                           struct berth_err *err)
{
        CALL(berth_logging_ops, validate, info, flags, err);
}
int berth_logging_open(struct driver *d, const struct berth_log_info *info, void **ret_writer,
                       uint64_t flags, struct berth_err *err)
{
        CALL(berth_logging_ops, open, info, ret_writer, flags, err);
}
int berth_logging_write(struct driver *d, void *writer, const struct berth_log_msg *msg,
                        uint64_t flags, struct berth_err *err)
{
        CALL(berth_logging_ops, write, writer, msg, flags, err);
}
int berth_logging_close(struct driver *d, void *writer, uint64_t flags)
{
        CALL_NOERR(berth_logging_ops, close, writer, flags);
}
int berth_logging_read(struct driver *d, const struct berth_log_info *info,
                       const struct berth_log_read *cfg, berth_log_msg_fn fn, void *userdata,
                       uint64_t flags, struct berth_err *err)
{
        CALL(berth_logging_ops, read, info, cfg, fn, userdata, flags, err);
}
int berth_logging_remove(struct driver *d, const struct berth_log_info *info, uint64_t flags,
                         struct berth_err *err)
{
        CALL(berth_logging_ops, remove, info, flags, err);
}

/* auth */
int berth_auth_authorize_request(struct driver *d, const struct berth_auth_request *req,
                                 uint64_t flags, struct berth_err *err)
{
        CALL(berth_auth_ops, authorize_request, req, flags, err);
}
int berth_auth_authorize_response(struct driver *d, const struct berth_auth_request *req,
                                  uint32_t status, const void *body, size_t body_len,
                                  uint64_t flags, struct berth_err *err)
{
        CALL(berth_auth_ops, authorize_response, req, status, body, body_len, flags, err);
}
