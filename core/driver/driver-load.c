/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "driver.h"
#include "base/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>

static const struct {
        uint32_t kind;
        const char *name;
        const char *prefix;
} kinds[] = {
    {BERTH_KIND_STORAGE, "storage", "storage"}, {BERTH_KIND_NETWORK, "network", "net"},
    {BERTH_KIND_VOLUME, "volume", "volume"},    {BERTH_KIND_LOGGING, "logging", "log"},
    {BERTH_KIND_AUTH, "auth", "auth"},
};

const char *driver_kind_name(uint32_t kind)
{
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (kinds[i].kind == kind)
                        return kinds[i].name;
        return NULL;
}

const char *driver_kind_prefix(uint32_t kind)
{
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (kinds[i].kind == kind)
                        return kinds[i].prefix;
        return NULL;
}

char *driver_file(const char *plugin_dir, uint32_t kind, const char *name)
{
        _cleanup_free_ char *flat = xzalloc(strlen(name) + 1);
        size_t j = 0;
        for (const char *s = name; *s; s++)
                if (*s != '-' && *s != '.')
                        flat[j++] = *s;
        return xasprintf("%s/%s-%s.so", plugin_dir, driver_kind_prefix(kind), flat);
}

/* --- host services ---------------------------------------------------- */

static void host_log(void *ctx, int level, const char *fmt, va_list ap)
{
        struct driver *d = ctx;
        char src[96];
        snprintf(src, sizeof(src), "%s.%s", driver_kind_name(d->kind), d->name);
        log_emitv(level, src, fmt, ap);
}

static int host_err(void *ctx, struct berth_err *err, int code, const char *fmt, va_list ap)
{
        return err_setv(err, code, fmt, ap);
}

static const char *host_config_get(void *ctx, const char *key, const char **ret_where)
{
        struct driver *d = ctx;
        return config_lookup(d->cfg, d->section, key, ret_where);
}

static const char *host_path(void *ctx, uint32_t which)
{
        struct driver *d = ctx;
        switch (which) {
        case BERTH_PATH_DATA_ROOT:
                return d->cfg->data_root;
        case BERTH_PATH_EXEC_ROOT:
                return d->cfg->exec_root;
        case BERTH_PATH_DRIVER:
                return d->dir;
        case BERTH_PATH_DRIVER_RUN:
                return d->run_dir;
        default:
                return NULL;
        }
}

static int host_run_helper(void *ctx, const char *const argv[], char *out, size_t out_len,
                           struct berth_err *err)
{
        int outp[2], errp[2];
        if (!argv || !argv[0] || argv[0][0] != '/')
                return err_set(err, -EINVAL, "helper path must be absolute");
        if (pipe2(outp, O_CLOEXEC) < 0)
                return err_errno(err, -errno, "pipe");
        if (pipe2(errp, O_CLOEXEC) < 0) {
                int r = -errno;
                close(outp[0]);
                close(outp[1]);
                return err_errno(err, r, "pipe");
        }
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(outp[0]), close(outp[1]), close(errp[0]), close(errp[1]);
                return err_errno(err, r, "fork for '%s'", argv[0]);
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                dup2(null, 0);
                dup2(outp[1], 1);
                dup2(errp[1], 2);
                execv(argv[0], (char *const *)argv);
                dprintf(2, "exec: %s", strerror(errno));
                _exit(127);
        }
        close(outp[1]);
        close(errp[1]);
        char ebuf[512];
        size_t olen = 0, elen = 0;
        struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
        int open_fds = 2;
        while (open_fds > 0) {
                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        char tmp[4096];
                        ssize_t n = read(pfd[i].fd, tmp, sizeof(tmp));
                        if (n <= 0) {
                                close(pfd[i].fd);
                                pfd[i].fd = -1;
                                open_fds--;
                                continue;
                        }
                        if (i == 0 && out && out_len > 1) {
                                size_t c = (size_t)n;
                                if (c > out_len - 1 - olen)
                                        c = out_len - 1 - olen;
                                memcpy(out + olen, tmp, c);
                                olen += c;
                        } else if (i == 1) {
                                size_t c = (size_t)n;
                                if (c > sizeof(ebuf) - 1 - elen)
                                        c = sizeof(ebuf) - 1 - elen;
                                memcpy(ebuf + elen, tmp, c);
                                elen += c;
                        }
                }
        }
        if (out && out_len)
                out[olen] = '\0';
        ebuf[elen] = '\0';
        while (elen > 0 && (ebuf[elen - 1] == '\n' || ebuf[elen - 1] == ' '))
                ebuf[--elen] = '\0';
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return err_errno(err, -errno, "wait for '%s'", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                return err_set(err, -ECHILD, "'%s' exited with status %d: %s", argv[0],
                               WEXITSTATUS(status), elen ? ebuf : "(no output)");
        return err_set(err, -ECHILD, "'%s' killed by signal %d", argv[0], WTERMSIG(status));
}

static int host_claim_name(void *ctx, const char *what, const char *name, struct berth_err *err)
{
        struct driver *d = ctx;
        struct hostlock *l = NULL;
        int r = hostlock_claim(HOSTLOCK_DIR, what, name, d->cfg->data_root, &l, err);
        if (r < 0)
                return r;
        size_t n = 0;
        while (d->claims && d->claims[n])
                n++;
        d->claims = xrealloc(d->claims, (n + 2) * sizeof(*d->claims));
        d->claims[n] = l;
        d->claims[n + 1] = NULL;
        return 0;
}

/* The layer services of the host table (ABI 1.1) live in the image code,
 * which berthd links and the shim does not: the daemon hands them in, so
 * that a program that only hosts a logging driver does not pull libarchive
 * in. */
static struct {
        berth_layer_unpack_fn unpack;
        berth_layer_diff_fn diff;
} layer_services;

void driver_set_layer_services(berth_layer_unpack_fn unpack, berth_layer_diff_fn diff)
{
        layer_services.unpack = unpack;
        layer_services.diff = diff;
}

/* --- built-in drivers ------------------------------------------------ */

/* Drivers linked into the program instead of loaded from a .so: the static
 * berth-shim has the standard logging drivers built in, from the same source
 * as their plugins (it does not dlopen). They pass the same checks. */
static const struct berth_plugin *const *builtins;

void driver_set_builtins(const struct berth_plugin *const *list)
{
        builtins = list;
}

static const struct berth_plugin *builtin_find(uint32_t kind, const char *name)
{
        for (size_t i = 0; builtins && builtins[i]; i++)
                if (builtins[i]->kind == kind && builtins[i]->name &&
                    streq(builtins[i]->name, name))
                        return builtins[i];
        return NULL;
}

bool driver_is_builtin(uint32_t kind, const char *name)
{
        return builtin_find(kind, name) != NULL;
}

/* --- loading ---------------------------------------------------------- */

/* The size of the descriptor as ABI 1.0 defined it: everything up to and
 * including `ops`. A plugin with a smaller struct cannot be read safely. */
#define DESC_MIN_SIZE (offsetof(struct berth_plugin, ops) + sizeof(void *))

struct driver *driver_unload(struct driver *d)
{
        if (!d)
                return NULL;
        if (d->initialised && d->desc->fini)
                d->desc->fini(d->state);
        /* After fini: what it removes on the way out is still this engine's. */
        for (struct hostlock **l = d->claims; l && *l; l++)
                hostlock_release(*l);
        free(d->claims);
        /* No dlclose(): a driver may have started threads or registered
         * atexit handlers, and unmapping their code would crash later. */
        free(d->path);
        free(d->name);
        free(d->dir);
        free(d->run_dir);
        free(d->section);
        free(d);
        return NULL;
}

static void driver_freep(struct driver **d)
{
        driver_unload(*d);
}

static void check_options(struct driver *d)
{
        struct berth_config *cfg = d->cfg;
        for (size_t i = 0; i < cfg->n_entries; i++) {
                struct config_entry *e = &cfg->entries[i];
                if (!streq(e->section, d->section))
                        continue;
                bool known = false;
                for (const struct berth_option *o = d->desc->options; o && o->key; o++)
                        if (streq(o->key, e->key))
                                known = true;
                if (!known)
                        config_warn(cfg,
                                    "%s: unknown key '%s' in [%s] (driver '%s' has no such "
                                    "option), ignoring",
                                    e->where, e->key, e->section, d->name);
        }
}

int driver_load(struct berth_config *cfg, uint32_t kind, const char *name, struct driver **ret,
                struct berth_err *err)
{
        const char *kname = driver_kind_name(kind);
        _cleanup_(driver_freep) struct driver *d = NULL;
        int r;

        if (!kname)
                return err_set(err, -EINVAL, "unknown driver kind %u", kind);

        d = xzalloc(sizeof(*d));
        d->path = driver_file(cfg->plugin_dir, kind, name);
        d->name = xstrdup(name);
        d->kind = kind;
        d->cfg = cfg;
        d->section = xasprintf("%s.%s", kname, name);

        const struct berth_plugin *desc = builtin_find(kind, name);
        if (desc) {
                free(d->path);
                d->path = xasprintf("(built into %s)", program_invocation_short_name);
        } else {
                r = driver_dlopen(d->path, kname, name, &desc, err);
                if (r < 0)
                        return r;
        }

        /* ABI major, struct size and kind before anything else. */
        if (desc->abi_major != BERTH_ABI_MAJOR)
                return err_set(err, -EPROTO,
                               "%s driver '%s': plugin '%s' was built for plugin ABI %u.%u, this "
                               "berth speaks ABI %u.%u",
                               kname, name, d->path, desc->abi_major, desc->abi_minor,
                               BERTH_ABI_MAJOR, BERTH_ABI_MINOR);
        if (desc->struct_size < DESC_MIN_SIZE)
                return err_set(err, -EPROTO,
                               "%s driver '%s': plugin '%s' has a descriptor of %u bytes, ABI %u "
                               "needs at least %zu",
                               kname, name, d->path, desc->struct_size, BERTH_ABI_MAJOR,
                               DESC_MIN_SIZE);
        if (desc->kind != kind) {
                const char *actual = driver_kind_name(desc->kind);
                if (actual)
                        return err_set(
                            err, -EPROTO,
                            "%s driver '%s': plugin '%s' is a %s driver, not a %s driver", kname,
                            name, d->path, actual, kname);
                return err_set(err, -EPROTO, "%s driver '%s': plugin '%s' has unknown kind %u",
                               kname, name, d->path, desc->kind);
        }
        if (!desc->name || !streq(desc->name, name))
                return err_set(err, -EPROTO,
                               "%s driver '%s': plugin '%s' calls itself '%s', not '%s'", kname,
                               name, d->path, strempty(desc->name), name);
        if (!desc->ops || ((const uint32_t *)desc->ops)[0] < 2 * sizeof(uint32_t))
                return err_set(err, -EPROTO, "%s driver '%s': plugin '%s' has no operations table",
                               kname, name, d->path);
        if (!desc->init)
                return err_set(err, -EPROTO, "%s driver '%s': plugin '%s' has no init function",
                               kname, name, d->path);

        d->desc = desc;
        d->ops = desc->ops;
        d->ops_size = ((const uint32_t *)desc->ops)[0];

        if (kind == BERTH_KIND_STORAGE) {
                d->dir = xasprintf("%s/%s", cfg->data_root, name);
                d->run_dir = xasprintf("%s/%s", cfg->exec_root, name);
        } else {
                d->dir = xasprintf("%s/drivers/%s-%s", cfg->data_root, kname, name);
                d->run_dir = xasprintf("%s/drivers/%s-%s", cfg->exec_root, kname, name);
        }
        r = mkdir_p(d->dir, 0700);
        if (r < 0)
                return err_errno(err, r, "%s driver '%s': cannot create '%s'", kname, name, d->dir);
        r = mkdir_p(d->run_dir, 0700);
        if (r < 0)
                return err_errno(err, r, "%s driver '%s': cannot create '%s'", kname, name,
                                 d->run_dir);

        d->host = (struct berth_host){
            .size = sizeof(struct berth_host),
            .abi_minor = BERTH_ABI_MINOR,
            .ctx = d,
            .log = host_log,
            .err = host_err,
            .config_get = host_config_get,
            .path = host_path,
            .run_helper = host_run_helper,
            /* ABI 1.1, implemented in tar/tar-layer.c */
            .layer_unpack = layer_services.unpack,
            .layer_diff = layer_services.diff,
            .claim_name = host_claim_name, /* ABI 1.2 */
        };

        check_options(d);

        struct berth_err ierr = {0};
        r = desc->init(&d->host, &d->state, &ierr);
        if (r < 0) {
                if (ierr.code == 0)
                        ierr.code = r;
                return err_set(err, r, "%s driver '%s': plugin '%s' failed to initialise: %s",
                               kname, name, d->path, err_msg(&ierr));
        }
        d->initialised = true;
        *ret = TAKE_PTR(d);
        return 0;
}
