/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PLUGIN_H
#define BERTH_PLUGIN_H

/*
 * The berth plugin ABI.
 *
 * A driver is a shared object that exports exactly one symbol,
 * BERTH_PLUGIN_SYMBOL, defined with BERTH_PLUGIN_DEFINE(). It is a const
 * descriptor: ABI version, struct size, kind, name, version, feature bits,
 * init/fini and a pointer to the vtable ("ops") of its kind.
 *
 * The loader reads abi_major, struct_size and kind before it touches
 * anything else, and refuses a plugin whose ABI major differs from its own,
 * whose descriptor is smaller than the first ABI's, or whose kind is not the
 * one asked for. Structures only ever grow at their end; each slot added
 * after ABI 1.0 is marked with the minor version that added it, and the core
 * never reads past the size the plugin declares (the model is SQLite's
 * sqlite3_vfs.iVersion). A NULL slot means "not supported": the core answers
 * -ENOTSUP without calling.
 *
 * Rules for driver authors:
 *  - include only <berth/...> headers; reach the engine only through the
 *    struct berth_host handed to init();
 *  - every op takes `uint64_t flags` and must fail with -EINVAL on a bit it
 *    does not know (see BERTH_CHECK_FLAGS);
 *  - return 0 or -errno; fill the struct berth_err through host->err();
 *  - never call exit(), never install signal handlers, never log to stdout;
 *  - ABI structs hold fixed-width integers and pointers only: no enums, no
 *    bool, so that the layout does not depend on the compiler.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include <berth/error.h>

#define BERTH_ABI_MAJOR 1
#define BERTH_ABI_MINOR 3

/* The one exported symbol. Its name never changes, so that an ABI mismatch
 * is reported as such rather than as "not a berth plugin". */
#define BERTH_PLUGIN_SYMBOL      berth_plugin_entry
#define BERTH_PLUGIN_SYMBOL_NAME "berth_plugin_entry"

/* Driver kinds (struct berth_plugin.kind). */
#define BERTH_KIND_STORAGE 1u /* ops: struct berth_storage_ops (storage.h) */
#define BERTH_KIND_NETWORK 2u /* ops: struct berth_network_ops (network.h) */
#define BERTH_KIND_VOLUME  3u /* ops: struct berth_volume_ops (volume.h) */
#define BERTH_KIND_LOGGING 4u /* ops: struct berth_logging_ops (logging.h) */
#define BERTH_KIND_AUTH    5u /* ops: struct berth_auth_ops (auth.h) */

/* Log levels for host->log(), the syslog numbers. */
#define BERTH_LOG_ERR     3
#define BERTH_LOG_WARNING 4
#define BERTH_LOG_NOTICE  5
#define BERTH_LOG_INFO    6
#define BERTH_LOG_DEBUG   7

/* host->path() keys. */
#define BERTH_PATH_DATA_ROOT 1u /* the engine's data root, e.g. /var/lib/berth */
#define BERTH_PATH_EXEC_ROOT 2u /* the engine's runtime state, e.g. /run/berth */
#define BERTH_PATH_DRIVER \
        3u                       /* a directory of the driver's own under the data root;
                                   created before init(), e.g. /var/lib/berth/overlay2 */
#define BERTH_PATH_DRIVER_RUN 4u /* the same under the exec root, e.g. /run/berth/overlay2 */

/* One option a driver reads from its berth.ini section. The core warns about
 * keys in the section that the driver does not declare. */
struct berth_option {
        const char *key;         /* "max-size" */
        const char *def;         /* default as text, or NULL */
        const char *description; /* one line, shown by `berthd --help-drivers` */
};

/* Called once per key/value pair that an op reports (status, metadata). */
typedef int (*berth_kv_fn)(void *userdata, const char *key, const char *value);

/*
 * Services the engine offers to a driver. Handed to init(); valid until
 * fini() returns. `ctx` is the first argument of every service.
 */
struct berth_host {
        uint32_t size;      /* sizeof(struct berth_host) as the engine built it */
        uint32_t abi_minor; /* the engine's BERTH_ABI_MINOR */
        void *ctx;

        /* Write a line to the engine's log, attributed to the driver. */
        void (*log)(void *ctx, int level, const char *fmt, va_list ap);

        /* Fill *err (may be NULL) with code and a message; returns code so that
         * `return host->err(host->ctx, err, -ENOENT, "...")` reads naturally. */
        int (*err)(void *ctx, struct berth_err *err, int code, const char *fmt, va_list ap);

        /* The value of `key` in the driver's berth.ini section
         * ([storage.overlay2], [logging.json-file], ...), or NULL if unset.
         * If ret_where is not NULL it receives "FILE:LINE" of the setting
         * (or "default"), for messages about invalid values. The strings live
         * as long as the engine. */
        const char *(*config_get)(void *ctx, const char *key, const char **ret_where);

        /* A well-known path (BERTH_PATH_*), or NULL for an unknown key. */
        const char *(*path)(void *ctx, uint32_t which);

        /* Run a helper program (argv[0] an absolute path) with no shell,
         * stdin from /dev/null, and wait for it. Its stdout is captured into
         * out (NUL-terminated, truncated at out_len) if out is not NULL.
         * Returns 0 if it exited 0, -ECHILD and a message holding its stderr
         * otherwise. */
        int (*run_helper)(void *ctx, const char *const argv[], char *out, size_t out_len,
                          struct berth_err *err);

        /* ABI 1.1: layer tar handling, so that every storage driver shares one
         * hardened tar reader and writer instead of each carrying its own
         * path-escape checks. Check host->size before use (BERTH_HOST_HAS). */

        /* Unpack the uncompressed layer tar read from tar_fd until EOF into
         * the directory `dest`, never following a symlink: an entry that
         * would land outside `dest` ("..", absolute, through a symlink an
         * earlier entry planted, a hard link to outside) fails with -EXDEV.
         * Whiteouts (".wh.NAME", ".wh..wh..opq") are translated per `mode`
         * (BERTH_LAYER_WH_*). *ret_size receives the bytes of file content. */
        int (*layer_unpack)(void *ctx, int tar_fd, const char *dest, uint32_t mode, uint64_t flags,
                            int64_t *ret_size, struct berth_err *err);

        /* Compare the tree `dir` with what lies below it and report it:
         * mode BERTH_LAYER_WH_OVERLAY: `dir` is an overlay upper directory
         *   (whiteouts as 0/0 char devices, opaque dirs by xattr) and
         *   `lowers` the NULL-terminated lower directories, top first, used
         *   only to tell "added" from "modified";
         * mode BERTH_LAYER_WH_DELETE: `dir` is a full tree and lowers[0]
         *   (or NULL: nothing) the full tree of its parent (a naive diff).
         * Writes an OCI layer tar to out_fd if out_fd >= 0, calls fn (if not
         * NULL) per changed path, parents first, and stores the bytes of file
         * content in *ret_size (if not NULL). */
        int (*layer_diff)(void *ctx, const char *dir, const char *const *lowers, uint32_t mode,
                          int out_fd, int (*fn)(void *userdata, uint32_t kind, const char *path),
                          void *userdata, uint64_t flags, int64_t *ret_size, struct berth_err *err);

        /* ABI 1.2: claim a name that is unique on the host, not only in
         * this engine ("bridge" "berth0", "nftables table" "berth_berth0"),
         * so that a second engine on the same host (another data root)
         * cannot take it while this one runs. Held until the driver is
         * unloaded, after fini(). -EBUSY when another engine holds it, with
         * a message naming that engine's data root. Check host->size before
         * use (BERTH_HOST_HAS). */
        int (*claim_name)(void *ctx, const char *what, const char *name, struct berth_err *err);
};

/* Whiteout translation modes of layer_unpack()/layer_diff(). */
#define BERTH_LAYER_WH_OVERLAY 1u /* 0/0 char devices and trusted.overlay.opaque=y */
#define BERTH_LAYER_WH_DELETE  2u /* delete the whited-out paths (full-copy drivers) */

/* Whether the engine's host table has service `slot` (an ABI 1.1+ one). */
#define BERTH_HOST_HAS(h, slot) \
        ((h)->size >= offsetof(struct berth_host, slot) + sizeof((h)->slot) && (h)->slot != NULL)

/* The descriptor. */
struct berth_plugin {
        uint32_t abi_major;   /* BERTH_ABI_MAJOR the plugin was built against */
        uint32_t abi_minor;   /* BERTH_ABI_MINOR the plugin was built against */
        uint32_t struct_size; /* sizeof(struct berth_plugin) as the plugin built it */
        uint32_t kind;        /* BERTH_KIND_* */
        const char *name;     /* driver name as berth.ini and the API use it: "overlay2" */
        const char *version;  /* the driver's own version, free-form: "1.0.0" */
        const char *description;
        uint64_t features; /* kind-specific BERTH_*_F_* bits; shown by `berth info` */

        /* Options read from the driver's berth.ini section; NULL-key terminated. */
        const struct berth_option *options;

        /* Set the driver up. Return 0 and an opaque per-instance state in
         * *ret_state (may be NULL), or -errno and a message in *err: the engine
         * then refuses to start and names the file and the message. */
        int (*init)(const struct berth_host *host, void **ret_state, struct berth_err *err);

        /* Release what init() set up. Called once at engine shutdown; may be
         * NULL. Must not fail; kernel objects that belong to containers stay. */
        void (*fini)(void *state);

        /* The vtable of the plugin's kind; its first field is its size. */
        const void *ops;
};

/* Fail with -EINVAL on a flag bit the driver does not know (libvirt's
 * virCheckFlags). Use at the top of every op. */
#define BERTH_CHECK_FLAGS(flags, known)           \
        do {                                      \
                if ((flags) & ~(uint64_t)(known)) \
                        return -EINVAL;           \
        } while (0)

#if defined(__GNUC__)
#define BERTH_EXPORT __attribute__((visibility("default")))
#else
#define BERTH_EXPORT
#endif

/* Define the entry symbol:
 *   BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "json-file", ...);
 * The ABI fields are filled in from the headers the plugin is built with. */
#define BERTH_PLUGIN_DEFINE(...)                                           \
        BERTH_EXPORT extern const struct berth_plugin BERTH_PLUGIN_SYMBOL; \
        BERTH_EXPORT const struct berth_plugin BERTH_PLUGIN_SYMBOL = {     \
            .abi_major = BERTH_ABI_MAJOR,                                  \
            .abi_minor = BERTH_ABI_MINOR,                                  \
            .struct_size = sizeof(struct berth_plugin),                    \
            __VA_ARGS__}

/* printf-style wrappers over the host table, for driver code. */
static inline void berth_log(const struct berth_host *h, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void berth_log(const struct berth_host *h, int level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        h->log(h->ctx, level, fmt, ap);
        va_end(ap);
}

static inline int berth_host_err(const struct berth_host *h, struct berth_err *err, int code,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int berth_host_err(const struct berth_host *h, struct berth_err *err, int code,
                                 const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        code = h->err(h->ctx, err, code, fmt, ap);
        va_end(ap);
        return code;
}

#endif
