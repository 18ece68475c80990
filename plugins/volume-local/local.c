/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* volume-local: volumes as directories under the data root, or mounts with
 * -o type/device/o (Docker's "local" driver).
 *
 * Layout: <root>/NAME/_data is the data (or the mount point of the
 * configured device), <root>/NAME/opts holds the options as "key=value"
 * lines, written atomically. <root> is the [volume.local] root setting, or
 * <data-root>/volumes as in Docker. Which containers mount a volume is kept
 * here only in memory, to know when the last user has gone: the engine
 * keeps the durable record of users. */
#include <berth/volume.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OPTS 8

struct user {
        struct user *next;
        char name[128]; /* the volume */
        char ref[72];   /* the container */
};

struct local {
        const struct berth_host *host;
        char root[3072];
        pthread_mutex_t lock;
        struct user *users;
};

static const struct berth_option drv_options[] = {
    {"root", NULL, "where volumes live (default: <data-root>/volumes)"},
    {NULL, NULL, NULL},
};

static int name_valid(const char *n)
{
        size_t l = strlen(n);
        if (l < 1 || l > 120 || n[0] == '.' || n[0] == '_')
                return 0;
        for (const char *p = n; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
                        return 0;
        return 1;
}

static int mkdir_parents(char *p, mode_t mode)
{
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                int r = mkdir(p, mode);
                *s = '/';
                if (r < 0 && errno != EEXIST)
                        return -errno;
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        struct local *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->host = host;
        pthread_mutex_init(&l->lock, NULL);
        const char *where = NULL;
        const char *root = host->config_get ? host->config_get(host->ctx, "root", &where) : NULL;
        if (root && root[0] != '/') {
                free(l);
                return berth_host_err(host, err, -EINVAL, "%s: root = %s: must be absolute",
                                      where ? where : "config", root);
        }
        if (root)
                snprintf(l->root, sizeof(l->root), "%s", root);
        else {
                const char *dr = host->path(host->ctx, BERTH_PATH_DATA_ROOT);
                if (!dr) {
                        free(l);
                        return berth_host_err(host, err, -EINVAL, "the host gives no data root");
                }
                snprintf(l->root, sizeof(l->root), "%s/volumes", dr);
        }
        int r = mkdir_parents(l->root, 0701);
        if (r < 0) {
                r = berth_host_err(host, err, r, "create '%s': %s", l->root, strerror(-r));
                free(l);
                return r;
        }
        *ret_state = l;
        return 0;
}

static void drv_fini(void *state)
{
        struct local *l = state;
        if (!l)
                return;
        while (l->users) {
                struct user *u = l->users;
                l->users = u->next;
                free(u);
        }
        free(l);
}

/* --- options --------------------------------------------------------------- */

struct opts {
        char type[64];
        char device[1024];
        char o[1024];
};

static int parse_opts(struct local *l, const char *const *opts, struct opts *ret,
                      struct berth_err *err)
{
        memset(ret, 0, sizeof(*ret));
        for (const char *const *p = opts; p && *p; p++) {
                const char *eq = strchr(*p, '=');
                if (!eq)
                        return berth_host_err(l->host, err, -EINVAL,
                                              "invalid option \"%s\": expected key=value", *p);
                size_t kl = (size_t)(eq - *p);
                const char *v = eq + 1;
                char *dst;
                size_t cap;
                if (kl == 4 && strncmp(*p, "type", 4) == 0)
                        dst = ret->type, cap = sizeof(ret->type);
                else if (kl == 6 && strncmp(*p, "device", 6) == 0)
                        dst = ret->device, cap = sizeof(ret->device);
                else if (kl == 1 && strncmp(*p, "o", 1) == 0)
                        dst = ret->o, cap = sizeof(ret->o);
                else
                        return berth_host_err(l->host, err, -EINVAL, "invalid option key: \"%.*s\"",
                                              (int)kl, *p);
                if (strlen(v) >= cap || strchr(v, '\n'))
                        return berth_host_err(l->host, err, -EINVAL, "invalid option value: \"%s\"",
                                              *p);
                snprintf(dst, cap, "%s", v);
        }
        if (!ret->type[0] && (ret->device[0] || ret->o[0]))
                return berth_host_err(l->host, err, -EINVAL, "missing required option: \"type\"");
        if (ret->type[0] && strcmp(ret->type, "tmpfs") != 0 && !ret->device[0])
                return berth_host_err(l->host, err, -EINVAL, "missing required option: \"device\"");
        return 0;
}

static int opts_load(struct local *l, const char *name, struct opts *ret)
{
        char p[3300];
        snprintf(p, sizeof(p), "%s/%s/opts", l->root, name);
        memset(ret, 0, sizeof(*ret));
        FILE *f = fopen(p, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        char line[1200];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (strncmp(line, "type=", 5) == 0)
                        snprintf(ret->type, sizeof(ret->type), "%s", line + 5);
                else if (strncmp(line, "device=", 7) == 0)
                        snprintf(ret->device, sizeof(ret->device), "%s", line + 7);
                else if (strncmp(line, "o=", 2) == 0)
                        snprintf(ret->o, sizeof(ret->o), "%s", line + 2);
        }
        fclose(f);
        return 0;
}

static int opts_save(struct local *l, const char *name, const struct opts *o)
{
        char p[3300], tmp[3310];
        snprintf(p, sizeof(p), "%s/%s/opts", l->root, name);
        snprintf(tmp, sizeof(tmp), "%s.tmp", p);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        char buf[2200];
        int n = snprintf(buf, sizeof(buf), "type=%s\ndevice=%s\no=%s\n", o->type, o->device, o->o);
        if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0) {
                int r = -errno ?: -EIO;
                close(fd);
                unlink(tmp);
                return r;
        }
        close(fd);
        if (rename(tmp, p) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

/* --- removal without following links or crossing mounts ----------------------- */

/* Whether dfd/name is the root of a mount: a bind of a directory of the same
 * file system has the same st_dev, so ask statx. */
static int mount_root_at(int dfd, const char *name)
{
        struct statx sx;
        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return 0;
        return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int rm_tree_at(int dfd, const char *name, dev_t dev)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (st.st_dev != dev || mount_root_at(dfd, name))
                return -EBUSY; /* a mount inside: never delete through it */
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                int q = rm_tree_at(dirfd(d), de->d_name, dev);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (r < 0)
                return r;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

static int is_mountpoint(const char *path)
{
        return mount_root_at(AT_FDCWD, path);
}

/* --- ops --------------------------------------------------------------------- */

static int vol_create(void *drv, const char *name, const char *const *opts, uint64_t flags,
                      struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (!name_valid(name))
                return berth_host_err(l->host, err, -EINVAL,
                                      "\"%s\" includes invalid characters for a local volume name, "
                                      "only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
                                      name);
        struct opts o;
        int r = parse_opts(l, opts, &o, err);
        if (r < 0)
                return r;
        char dir[3200], data[3300];
        snprintf(dir, sizeof(dir), "%s/%s", l->root, name);
        snprintf(data, sizeof(data), "%s/_data", dir);
        if (mkdir(dir, 0701) < 0) {
                if (errno == EEXIST)
                        return berth_host_err(l->host, err, -EEXIST, "volume \"%s\" exists", name);
                return berth_host_err(l->host, err, -errno, "create '%s': %s", dir,
                                      strerror(errno));
        }
        if (mkdir(data, 0755) < 0 || (r = opts_save(l, name, &o)) < 0) {
                r = r < 0 ? r : -errno;
                int dfd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat st;
                if (dfd >= 0 && fstat(dfd, &st) == 0)
                        rm_tree_at(dfd, name, st.st_dev);
                if (dfd >= 0)
                        close(dfd);
                return berth_host_err(l->host, err, r, "create '%s': %s", data, strerror(-r));
        }
        return 0;
}

static int exists(struct local *l, const char *name)
{
        char data[3300];
        struct stat st;
        if (!name_valid(name))
                return 0;
        snprintf(data, sizeof(data), "%s/%s/_data", l->root, name);
        return lstat(data, &st) == 0 && S_ISDIR(st.st_mode);
}

static int users_of(struct local *l, const char *name)
{
        int n = 0;
        for (struct user *u = l->users; u; u = u->next)
                if (strcmp(u->name, name) == 0)
                        n++;
        return n;
}

static int vol_remove(void *drv, const char *name, uint64_t flags, struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, BERTH_VOLUME_FORCE);
        pthread_mutex_lock(&l->lock);
        if (!exists(l, name)) {
                pthread_mutex_unlock(&l->lock);
                return berth_host_err(l->host, err, -ENOENT, "get %s: no such volume", name);
        }
        if (users_of(l, name) && !(flags & BERTH_VOLUME_FORCE)) {
                pthread_mutex_unlock(&l->lock);
                return berth_host_err(l->host, err, -EBUSY, "volume \"%s\" is mounted", name);
        }
        for (struct user **pu = &l->users; *pu;) {
                if (strcmp((*pu)->name, name) == 0) {
                        struct user *u = *pu;
                        *pu = u->next;
                        free(u);
                } else
                        pu = &(*pu)->next;
        }
        char data[3300];
        snprintf(data, sizeof(data), "%s/%s/_data", l->root, name);
        if (is_mountpoint(data) && umount2(data, MNT_DETACH) < 0) {
                int r = -errno;
                pthread_mutex_unlock(&l->lock);
                return berth_host_err(l->host, err, r, "unmount '%s': %s", data, strerror(-r));
        }
        int dfd = open(l->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dfd < 0 ? -errno : 0;
        struct stat st;
        if (r == 0 && fstat(dfd, &st) < 0)
                r = -errno;
        if (r == 0)
                r = rm_tree_at(dfd, name, st.st_dev);
        if (dfd >= 0)
                close(dfd);
        pthread_mutex_unlock(&l->lock);
        if (r < 0)
                return berth_host_err(l->host, err, r, "remove '%s/%s': %s", l->root, name,
                                      strerror(-r));
        return 0;
}

/* "size=10m,uid=1000,ro,bind" -> mount flags and the data string the
 * filesystem gets. */
static unsigned long split_o(const char *o, char *data, size_t len)
{
        static const struct {
                const char *name;
                unsigned long flag;
        } flags[] = {{"ro", MS_RDONLY},
                     {"nosuid", MS_NOSUID},
                     {"nodev", MS_NODEV},
                     {"noexec", MS_NOEXEC},
                     {"sync", MS_SYNCHRONOUS},
                     {"noatime", MS_NOATIME},
                     {"bind", MS_BIND},
                     {"rbind", MS_BIND | MS_REC},
                     {"rw", 0},
                     {"nodiratime", MS_NODIRATIME},
                     {"relatime", MS_RELATIME}};
        unsigned long f = 0;
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", o);
        data[0] = '\0';
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int known = 0;
                for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                        if (strcmp(flags[i].name, t) == 0) {
                                f |= flags[i].flag;
                                known = 1;
                        }
                if (!known) {
                        size_t dl = strlen(data);
                        snprintf(data + dl, len - dl, "%s%s", dl ? "," : "", t);
                }
        }
        return f;
}

static int do_mount(struct local *l, const char *name, const char *data, struct berth_err *err)
{
        struct opts o;
        int r = opts_load(l, name, &o);
        if (r < 0)
                return berth_host_err(l->host, err, r, "read the options of \"%s\": %s", name,
                                      strerror(-r));
        if (!o.type[0] || is_mountpoint(data))
                return 0;
        char fsdata[1024];
        unsigned long f = split_o(o.o, fsdata, sizeof(fsdata));
        const char *dev = o.device[0] ? o.device : o.type;
        if (f & MS_BIND) {
                if (mount(dev, data, NULL, f & (MS_BIND | MS_REC), NULL) < 0)
                        return berth_host_err(l->host, err, -errno,
                                              "bind '%s' on the volume \"%s\": %s", dev, name,
                                              strerror(errno));
                if ((f & ~(MS_BIND | MS_REC)) &&
                    mount(NULL, data, NULL, MS_BIND | MS_REMOUNT | (f & ~(MS_BIND | MS_REC)),
                          NULL) < 0) {
                        r = -errno;
                        umount2(data, MNT_DETACH);
                        return berth_host_err(l->host, err, r, "remount the volume \"%s\": %s",
                                              name, strerror(-r));
                }
                return 0;
        }
        if (mount(dev, data, o.type, f, fsdata[0] ? fsdata : NULL) < 0)
                return berth_host_err(l->host, err, -errno,
                                      "mount %s '%s' for the volume \"%s\" (o=%s): %s", o.type, dev,
                                      name, o.o, strerror(errno));
        return 0;
}

static int vol_mount(void *drv, const char *name, const char *ref, uint64_t flags, char *ret_path,
                     size_t ret_len, struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        char data[3300];
        snprintf(data, sizeof(data), "%s/%s/_data", l->root, name);
        pthread_mutex_lock(&l->lock);
        if (!exists(l, name)) {
                pthread_mutex_unlock(&l->lock);
                return berth_host_err(l->host, err, -ENOENT, "get %s: no such volume", name);
        }
        int r = 0;
        if (users_of(l, name) == 0)
                r = do_mount(l, name, data, err);
        if (r == 0) {
                struct user *u = calloc(1, sizeof(*u));
                if (!u)
                        r = -ENOMEM;
                else {
                        snprintf(u->name, sizeof(u->name), "%s", name);
                        snprintf(u->ref, sizeof(u->ref), "%s", ref ? ref : "");
                        u->next = l->users;
                        l->users = u;
                }
        }
        pthread_mutex_unlock(&l->lock);
        if (r < 0)
                return r;
        if (strlen(data) >= ret_len)
                return berth_host_err(l->host, err, -ENAMETOOLONG, "path too long");
        snprintf(ret_path, ret_len, "%s", data);
        return 0;
}

static int vol_unmount(void *drv, const char *name, const char *ref, uint64_t flags,
                       struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        pthread_mutex_lock(&l->lock);
        int found = 0;
        for (struct user **pu = &l->users; *pu; pu = &(*pu)->next) {
                struct user *u = *pu;
                if (strcmp(u->name, name) == 0 && strcmp(u->ref, ref ? ref : "") == 0) {
                        *pu = u->next;
                        free(u);
                        found = 1;
                        break;
                }
        }
        int r = 0;
        if (found && users_of(l, name) == 0) {
                char data[3300];
                snprintf(data, sizeof(data), "%s/%s/_data", l->root, name);
                struct opts o;
                if (opts_load(l, name, &o) == 0 && o.type[0] && is_mountpoint(data) &&
                    umount2(data, MNT_DETACH) < 0)
                        r = berth_host_err(l->host, err, -errno, "unmount '%s': %s", data,
                                           strerror(errno));
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

static int vol_path(void *drv, const char *name, uint64_t flags, char *ret_path, size_t ret_len,
                    struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (!exists(l, name))
                return berth_host_err(l->host, err, -ENOENT, "get %s: no such volume", name);
        if ((size_t)snprintf(ret_path, ret_len, "%s/%s/_data", l->root, name) >= ret_len)
                return berth_host_err(l->host, err, -ENAMETOOLONG, "path too long");
        return 0;
}

static int vol_get(void *drv, const char *name, berth_kv_fn fn, void *userdata, uint64_t flags,
                   struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (!exists(l, name))
                return berth_host_err(l->host, err, -ENOENT, "get %s: no such volume", name);
        struct opts o;
        int r = opts_load(l, name, &o);
        if (r < 0)
                return berth_host_err(l->host, err, r, "read the options of \"%s\": %s", name,
                                      strerror(-r));
        if (!fn)
                return 0;
        if (o.type[0] && (r = fn(userdata, "type", o.type)) < 0)
                return r;
        if (o.device[0] && (r = fn(userdata, "device", o.device)) < 0)
                return r;
        if (o.o[0] && (r = fn(userdata, "o", o.o)) < 0)
                return r;
        return 0;
}

static int vol_list(void *drv, berth_name_fn fn, void *userdata, uint64_t flags,
                    struct berth_err *err)
{
        struct local *l = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        DIR *d = opendir(l->root);
        if (!d)
                return berth_host_err(l->host, err, -errno, "open '%s': %s", l->root,
                                      strerror(errno));
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && r >= 0)
                if (exists(l, de->d_name))
                        r = fn(userdata, de->d_name);
        closedir(d);
        return r < 0 ? r : 0;
}

static const struct berth_volume_ops drv_ops = {
    .size = sizeof(struct berth_volume_ops),
    .create = vol_create,
    .remove = vol_remove,
    .mount = vol_mount,
    .unmount = vol_unmount,
    .path = vol_path,
    .get = vol_get,
    .list = vol_list,
};

BERTH_PLUGIN_DEFINE(
        .kind = BERTH_KIND_VOLUME, .name = "local", .version = "0.1.0",
        .description =
            "volumes as directories under the data root, or mounts with -o type/device/o",
        .features = 0, .options = drv_options, .init = drv_init, .fini = drv_fini, .ops = &drv_ops);
