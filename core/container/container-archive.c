/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker cp on the engine side: GET/HEAD/PUT /containers/{id}/archive.
 *
 * The container's files are reached from a descriptor of its root: the
 * running container's own view (/proc/PID/root, with its volumes and
 * tmpfs), or for a stopped or created one the rootfs the storage driver
 * mounts, with its volumes and bind mounts bound under it in a mount
 * namespace of the copy's own (as Docker mounts them for the copy): the
 * namespace goes away with its thread, and nothing stays mounted. Every
 * path from the client is resolved with openat2(RESOLVE_IN_ROOT), so ".."
 * and absolute symlinks stay inside the container, as they would for a
 * process in it. Tars going out are written by walking directories with
 * O_NOFOLLOW descriptors; tars coming in go through the hardened unpacker
 * (berth-tar, through layer_unpack), which refuses entries that climb out or pass through a
 * symlink.
 *
 * Also export (the whole filesystem as a tar) and commit (a new image from
 * the container's writable layer). */
#include "container-internal.h"
#include "base/log.h"
#include "image/image.h"
#include "tar/tar-layer.h"
#include "tar/tar-helper.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct ct_root {
        char id[65];
        int fd; /* O_PATH of the container's / */
        bool mounted;
        bool readonly;     /* ReadonlyRootfs, for a stopped container's rootfs */
        char rootfs[4096]; /* where the storage driver mounted it */
        json_t *rec;       /* a stopped container's record, while its volumes are mounted */
        json_t *binds;     /* their OCI mounts, to bind under the rootfs */
};

static void root_close(struct container_store *s, struct ct_root *cr)
{
        cr->fd = safe_close(cr->fd);
        if (cr->rec) {
                s->d.vol->unmount(s->d.vol_ctx, cr->rec);
                json_decref(cr->rec);
                cr->rec = NULL;
        }
        json_decref(cr->binds);
        cr->binds = NULL;
        if (cr->mounted) {
                struct berth_err perr = {0};
                if (berth_storage_put(s->d.storage, cr->id, 0, &perr) < 0)
                        log_warn("container %s: %s, ignoring", cr->id, err_msg(&perr));
                cr->mounted = false;
        }
}

/* The running container's own view (/proc/PID/root), or for a stopped one
 * its rootfs mounted by the storage driver and its volumes mounted by their
 * drivers (cr->binds says where they go; with_root binds them). */
static int root_open(struct container_store *s, const char *ref, struct ct_root *cr,
                     struct berth_err *err)
{
        *cr = (struct ct_root){.fd = -1};
        struct record *r;
        int lr = ct_lock_find(s, ref, &r, err);
        if (lr < 0)
                return lr;
        memcpy(cr->id, r->id, 65);
        cr->readonly = json_get_bool(json_object_get(r->j, "HostConfig"), "ReadonlyRootfs", false);
        pid_t pid = r->shim_socket && ct_is_running(r->j)
                        ? (pid_t)json_get_int(json_object_get(r->j, "State"), "Pid", 0)
                        : 0;
        json_t *rec =
            json_array_size(json_object_get(r->j, "Mounts")) ? json_deep_copy(r->j) : NULL;
        pthread_mutex_unlock(&s->lock);
        if (pid > 0) {
                _cleanup_free_ char *p = xasprintf("/proc/%d/root", (int)pid);
                cr->fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (cr->fd >= 0) {
                        json_decref(rec);
                        return 0;
                }
                /* it exited meanwhile: go on with its rootfs */
        }
        int rr =
            berth_storage_get(s->d.storage, cr->id, NULL, 0, cr->rootfs, sizeof(cr->rootfs), err);
        if (rr < 0) {
                json_decref(rec);
                return rr;
        }
        cr->mounted = true;
        if (rec) {
                /* the spec's mounts array is all the volume layer adds to */
                _cleanup_json_ json_t *spec = json_pack("{s:[]}", "mounts");
                rr = s->d.vol->mount(s->d.vol_ctx, rec, cr->rootfs, spec, err);
                if (rr < 0) {
                        json_decref(rec);
                        root_close(s, cr);
                        return rr;
                }
                cr->rec = rec;
                cr->binds = json_incref(json_object_get(spec, "mounts"));
        }
        cr->fd = open(cr->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cr->fd < 0) {
                rr = err_errno(err, -errno, "open the root of container %s", cr->id);
                root_close(s, cr);
                return rr;
        }
        return 0;
}

/* Make the mount point dst inside the root (a directory, or an empty file
 * for a file's bind), as the runtime would at start. */
static int mountpoint_make(int rootfd, const char *dst, bool dir)
{
        _cleanup_free_ char *p = xstrdup(dst);
        for (char *c = p + 1;; c++) {
                if (*c != '/' && *c != '\0')
                        continue;
                char save = *c;
                *c = '\0';
                int fd = openat_in_root(rootfd, p, O_PATH);
                if (fd >= 0)
                        close(fd);
                else if (fd == -ENOENT) {
                        char *slash = strrchr(p, '/');
                        *slash = '\0';
                        _cleanup_close_ int pfd = openat_in_root(rootfd, p, O_PATH | O_DIRECTORY);
                        *slash = '/';
                        if (pfd < 0)
                                return pfd;
                        if (save == '\0' && !dir) {
                                int f = openat(pfd, slash + 1,
                                               O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (f < 0)
                                        return -errno;
                                close(f);
                        } else if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST)
                                return -errno;
                } else
                        return fd;
                *c = save;
                if (!save)
                        return 0;
        }
}

/* Bind the volumes (OCI mounts of type bind) under the root at rootfd, in
 * this thread's own mount namespace. */
static int binds_apply(int rootfd, json_t *binds, struct berth_err *err)
{
        size_t i;
        json_t *m;
        json_array_foreach (binds, i, m) {
                const char *dst = json_get_str(m, "destination", "");
                const char *src = json_get_str(m, "source", "");
                if (!streq(json_get_str(m, "type", ""), "bind") || !*dst || !*src)
                        continue;
                bool ro = false;
                size_t k;
                json_t *o;
                json_array_foreach (json_object_get(m, "options"), k, o)
                        ro |= streq(json_string_value(o) ?: "", "ro");
                struct stat st;
                if (stat(src, &st) < 0)
                        return err_errno(err, -errno, "the source of %s", dst);
                int r = mountpoint_make(rootfd, dst, S_ISDIR(st.st_mode));
                if (r < 0)
                        return err_errno(err, r, "make the mount point %s", dst);
                _cleanup_close_ int fd = openat_in_root(rootfd, dst, O_PATH);
                if (fd < 0)
                        return err_errno(err, fd, "open the mount point %s", dst);
                _cleanup_free_ char *at = xasprintf("/proc/self/fd/%d", fd);
                if (mount(src, at, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return err_errno(err, -errno, "bind %s on %s", src, dst);
                if (ro) {
                        _cleanup_close_ int top = openat_in_root(rootfd, dst, O_PATH);
                        _cleanup_free_ char *tat = xasprintf("/proc/self/fd/%d", top);
                        if (top < 0 ||
                            mount(NULL, tat, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
                                return err_errno(err, top < 0 ? top : -errno, "make %s read-only",
                                                 dst);
                }
        }
        return 0;
}

typedef int (*root_fn)(struct ct_root *cr, void *arg, struct berth_err *err);

struct root_job {
        struct ct_root *cr;
        root_fn fn;
        void *arg;
        struct berth_err *err;
        int r;
};

/* In a thread of its own: a private mount namespace (binds made here never
 * reach the host's), the volumes bound under the rootfs, the operation. The
 * namespace, and every bind in it, goes away when the thread ends. */
static void *root_job_run(void *p)
{
        struct root_job *j = p;
        if (unshare(CLONE_FS | CLONE_NEWNS) < 0) {
                j->r = err_errno(j->err, -errno, "a mount namespace for the copy");
                return NULL;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
                j->r = err_errno(j->err, -errno, "make the copy's mounts private");
                return NULL;
        }
        /* this namespace's copy of the rootfs mount, which the binds go on */
        int fd = open(j->cr->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                j->r = err_errno(j->err, -errno, "open the root of container %s", j->cr->id);
                return NULL;
        }
        j->r = binds_apply(fd, j->cr->binds, j->err);
        if (j->r >= 0) {
                int host_fd = j->cr->fd;
                j->cr->fd = fd;
                j->r = j->fn(j->cr, j->arg, j->err);
                j->cr->fd = host_fd;
        }
        close(fd);
        return NULL;
}

static int with_root(struct container_store *s, const char *ref, root_fn fn, void *arg,
                     struct berth_err *err)
{
        struct ct_root cr;
        int r = root_open(s, ref, &cr, err);
        if (r < 0)
                return r;
        if (!json_array_size(cr.binds))
                r = fn(&cr, arg, err);
        else {
                struct root_job j = {.cr = &cr, .fn = fn, .arg = arg, .err = err};
                pthread_t t;
                r = -pthread_create(&t, NULL, root_job_run, &j);
                if (r < 0)
                        err_errno(err, r, "start the copy's thread");
                else {
                        pthread_join(t, NULL);
                        r = j.r;
                }
        }
        root_close(s, &cr);
        return r;
}

/* A path as the client gave it, split Docker's way: the directory (resolved
 * through symlinks), the last component (a symlink there is not followed,
 * unless the path ends in "/" or "/."), and whether it asserts a directory. */
struct cpath {
        char *dir, *base; /* base "" for the root itself */
        bool follow;
};

static void cpath_done(struct cpath *p)
{
        free(p->dir);
        free(p->base);
}

static int cpath_parse(const char *path, struct cpath *ret, struct berth_err *err)
{
        if (isempty(path))
                return err_set(err, -EINVAL, "path must not be empty");
        _cleanup_free_ char *p = path[0] == '/' ? xstrdup(path) : xasprintf("/%s", path);
        size_t l = strlen(p);
        bool follow = false;
        if (l > 1 && (p[l - 1] == '/' || (l >= 2 && streq(p + l - 2, "/.")))) {
                follow = true;
                while (l > 1 && (p[l - 1] == '/' || (p[l - 1] == '.' && p[l - 2] == '/')))
                        p[--l] = '\0';
        }
        char *slash = strrchr(p, '/');
        ret->follow = follow;
        ret->base = xstrdup(slash + 1);
        *slash = '\0';
        ret->dir = xstrdup(*p ? p : "/");
        return 0;
}

/* Go's os.FileMode bits, which the stat header carries. */
static uint32_t go_mode(mode_t m)
{
        uint32_t g = m & 0777;
        switch (m & S_IFMT) {
        case S_IFDIR:
                g |= 1u << 31;
                break;
        case S_IFLNK:
                g |= 1u << 27;
                break;
        case S_IFIFO:
                g |= 1u << 25;
                break;
        case S_IFSOCK:
                g |= 1u << 24;
                break;
        case S_IFBLK:
                g |= 1u << 26;
                break;
        case S_IFCHR:
                g |= (1u << 26) | (1u << 21);
                break;
        }
        if (m & S_ISUID)
                g |= 1u << 23;
        if (m & S_ISGID)
                g |= 1u << 22;
        if (m & S_ISVTX)
                g |= 1u << 20;
        return g;
}

/* Open what the path names: *ret_dirfd is its directory, *ret_name its name
 * there ("." for the root or a followed path, with *ret_dirfd the object). */
static int resolve(int rootfd, const struct cpath *cp, const char *shown, const char *cid,
                   int *ret_dirfd, char **ret_name, struct stat *ret_st, struct berth_err *err)
{
        int fd;
        const char *name;
        if (cp->follow || !*cp->base) {
                _cleanup_free_ char *full = xasprintf("%s/%s", cp->dir, cp->base);
                fd = openat_in_root(rootfd, full, O_PATH);
                name = "";
        } else {
                fd = openat_in_root(rootfd, cp->dir, O_PATH | O_DIRECTORY);
                name = cp->base;
        }
        if (fd < 0 && (fd == -ENOENT || fd == -ENOTDIR))
                return err_set(err, -ENOENT, "Could not find the file %s in container %s", shown,
                               cid);
        if (fd < 0)
                return err_errno(err, fd, "resolve '%s' in container %s", shown, cid);
        if (fstatat(fd, name, ret_st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0) {
                int r = -errno;
                close(fd);
                if (r == -ENOENT)
                        return err_set(err, -ENOENT, "Could not find the file %s in container %s",
                                       shown, cid);
                return err_errno(err, r, "stat '%s' in container %s", shown, cid);
        }
        *ret_dirfd = fd;
        *ret_name = xstrdup(name);
        return 0;
}

struct stat_job {
        const char *path;
        json_t **ret;
};

static int do_stat(struct ct_root *cr, void *arg, struct berth_err *err)
{
        struct stat_job *sj = arg;
        struct cpath cp = {0};
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        int r = cpath_parse(sj->path, &cp, err);
        if (r >= 0)
                r = resolve(cr->fd, &cp, sj->path, cr->id, &dfd, &name, &st, err);
        if (r >= 0) {
                char target[4096] = "";
                if (S_ISLNK(st.st_mode)) {
                        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
                        target[n > 0 ? n : 0] = '\0';
                }
                _cleanup_free_ char *lt =
                    !*target ? xstrdup("")
                    : target[0] == '/'
                        ? xstrdup(target)
                        : xasprintf("%s%s%s", cp.dir, streq(cp.dir, "/") ? "" : "/", target);
                _cleanup_free_ char *mtime =
                    json_time_ns((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
                *sj->ret =
                    json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", *cp.base ? cp.base : "/", "size",
                              (json_int_t)st.st_size, "mode", (json_int_t)go_mode(st.st_mode),
                              "mtime", mtime, "linkTarget", lt);
        }
        cpath_done(&cp);
        return r;
}

int container_archive_stat(struct container_store *s, const char *ref, const char *path,
                           json_t **ret, struct berth_err *err)
{
        struct stat_job sj = {.path = path, .ret = ret};
        return with_root(s, ref, do_stat, &sj, err);
}

/* --- GET: the tar ------------------------------------------------------------- */

struct get_job {
        const char *path;
        int out_fd;
};

static int do_get(struct ct_root *cr, void *arg, struct berth_err *err)
{
        struct get_job *gj = arg;
        const char *path = gj->path;
        struct cpath cp = {0};
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *name = NULL;
        struct stat st;
        int r = cpath_parse(path, &cp, err);
        if (r >= 0)
                r = resolve(cr->fd, &cp, path, cr->id, &dfd, &name, &st, err);
        if (r >= 0) {
                /* The top entry is named as the path's last component; a
                 * path ending in "/." gives the directory's contents under
                 * ".", which is what the clients rebase from. */
                size_t l = strlen(path);
                const char *top = l >= 2 && streq(path + l - 2, "/.") ? "."
                                  : *cp.base                          ? cp.base
                                                                      : ".";
                r = tar_pack_tree(dfd, name, top, gj->out_fd, err);
        }
        cpath_done(&cp);
        return r;
}

int container_archive_get(struct container_store *s, const char *ref, const char *path, int out_fd,
                          struct berth_err *err)
{
        struct get_job gj = {.path = path, .out_fd = out_fd};
        return with_root(s, ref, do_get, &gj, err);
}

/* --- PUT: extract into a directory ------------------------------------------------- */

struct put_job {
        const char *path;
        int tar_fd;
        bool no_overwrite_dir_non_dir, copy_uid_gid;
};

static int do_put(struct ct_root *cr, void *arg, struct berth_err *err)
{
        struct put_job *pj = arg;
        const char *path = pj->path;
        if (isempty(path))
                return err_set(err, -EINVAL, "path must not be empty");
        /* a running one's read-only root refuses writes by itself (and its
         * volumes take them); a stopped one's is mounted writable here */
        if (cr->readonly && cr->mounted)
                return err_set(err, -EROFS, "container rootfs is marked read-only");
        _cleanup_close_ int fd = openat_in_root(cr->fd, path, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT)
                return err_set(err, -ENOENT, "Could not find the file %s in container %s", path,
                               cr->id);
        if (fd == -ENOTDIR)
                return err_set(err, -EINVAL, "extraction point is not a directory");
        if (fd < 0)
                return err_errno(err, fd, "open '%s' in container %s", path, cr->id);
        /* The unpacker opens the directory by this name: the magic link is
         * the very directory resolved above. */
        _cleanup_free_ char *dest = xasprintf("/proc/self/fd/%d", fd);
        uint64_t flags = LAYER_UNPACK_COPY | (pj->copy_uid_gid ? 0 : LAYER_UNPACK_OWNER_ROOT) |
                         (pj->no_overwrite_dir_non_dir ? LAYER_UNPACK_NO_TYPE_CHANGE : 0);
        int r = layer_unpack(pj->tar_fd, dest, BERTH_LAYER_WH_DELETE, flags, NULL, err);
        if (r == -EXDEV) { /* a hostile tar: the client's fault */
                char m[BERTH_ERR_MSG_MAX];
                snprintf(m, sizeof(m), "%s", err_msg(err));
                r = err_set(err, -EINVAL, "%s", m);
        }
        if (r < 0)
                err_prefix(err, "copy into %s:%s", cr->id, path);
        return r;
}

int container_archive_put(struct container_store *s, const char *ref, const char *path, int tar_fd,
                          bool no_overwrite_dir_non_dir, bool copy_uid_gid, struct berth_err *err)
{
        struct put_job pj = {.path = path,
                             .tar_fd = tar_fd,
                             .no_overwrite_dir_non_dir = no_overwrite_dir_non_dir,
                             .copy_uid_gid = copy_uid_gid};
        return with_root(s, ref, do_put, &pj, err);
}

/* --- export --------------------------------------------------------------------------- */

int container_export(struct container_store *s, const char *ref, int out_fd, struct berth_err *err)
{
        char id[65];
        int r = container_resolve(s, ref, id, err);
        if (r < 0)
                return r;
        char rootfs[4096];
        r = berth_storage_get(s->d.storage, id, NULL, 0, rootfs, sizeof(rootfs), err);
        if (r < 0)
                return r;
        /* The whole tree, as a plain tar: a diff against nothing. */
        r = layer_diff(rootfs, NULL, BERTH_LAYER_WH_DELETE, out_fd, NULL, NULL, 0, NULL, err);
        struct berth_err perr = {0};
        berth_storage_put(s->d.storage, id, 0, &perr);
        return r;
}

/* --- commit -------------------------------------------------------------------------- */

int container_commit(struct container_store *s, const char *ref, const char *target,
                     const char *const *changes, const char *comment, const char *author,
                     bool pause, json_t *config_over, char **ret_id, struct berth_err *err)
{
        _cleanup_json_ json_t *rec = NULL;
        int r = container_inspect(s, ref, &rec, err);
        if (r < 0)
                return r;
        const char *id = json_get_str(rec, "Id", "");
        json_t *st = json_object_get(rec, "State");
        bool paused_here = false;
        if (pause && json_get_bool(st, "Running", false) && !json_get_bool(st, "Paused", false)) {
                struct berth_err perr = {0};
                paused_here = container_pause(s, id, true, &perr) == 0;
        }
        json_t *cfg = json_deep_copy(json_object_get(rec, "Config"));
        if (json_is_object(config_over))
                json_object_update(cfg, config_over);
        r = image_commit_container(s->d.images, json_get_str(rec, "Image", ""), s->d.storage, id,
                                   cfg, changes, comment, author, target, ret_id, err);
        json_decref(cfg);
        if (paused_here) {
                struct berth_err perr = {0};
                container_pause(s, id, false, &perr);
        }
        return r;
}

/* --- changes ------------------------------------------------------------------------- */

/* What Docker keeps in a container's init layer, below its writable one: the
 * mount points of the files and file systems the runtime provides. They are
 * no change of the container's own, so docker diff never shows them. */
static const char *const init_paths[] = {
    "/.dockerenv", "/dev",      "/dev/console", "/dev/pts",      "/dev/shm",        "/proc",
    "/sys",        "/etc/mtab", "/etc/hosts",   "/etc/hostname", "/etc/resolv.conf"};

static bool is_init_path(const char *p)
{
        for (size_t i = 0; i < ELEMENTSOF(init_paths); i++)
                if (streq(p, init_paths[i]))
                        return true;
        return false;
}

static int change_add(void *userdata, uint32_t kind, const char *path)
{
        json_array_append_new(userdata, json_pack("{s:s, s:i}", "Path", path, "Kind", (int)kind));
        return 0;
}

static int change_cmp(const void *a, const void *b)
{
        return strcmp(json_get_str(*(json_t *const *)a, "Path", ""),
                      json_get_str(*(json_t *const *)b, "Path", ""));
}

/* Whether dir is a strict ancestor of path. */
static bool under(const char *dir, const char *path)
{
        size_t n = strlen(dir);
        return streq(dir, "/") ? path[1] != '\0' : strncmp(path, dir, n) == 0 && path[n] == '/';
}

int container_changes(struct container_store *s, const char *ref, json_t **ret,
                      struct berth_err *err)
{
        char id[65];
        int r = container_resolve(s, ref, id, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *all = json_array();
        r = berth_storage_changes(s->d.storage, id, NULL, change_add, all, 0, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(all);
        _cleanup_free_ json_t **v = xzalloc((n ? n : 1) * sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(all, i);
        qsort(v, n, sizeof(*v), change_cmp);
        /* Drop the init paths, and a directory shown as modified only because
         * an init path was made in it. */
        json_t *out = json_array();
        for (size_t i = 0; i < n; i++) {
                const char *p = json_get_str(v[i], "Path", "");
                if (is_init_path(p))
                        continue;
                if (json_get_int(v[i], "Kind", 0) == BERTH_CHANGE_MODIFIED) {
                        bool init_child = false, other_child = false;
                        for (size_t k = 0; k < n; k++) {
                                const char *q = json_get_str(v[k], "Path", "");
                                if (!under(p, q))
                                        continue;
                                bool in_init = is_init_path(q);
                                for (size_t m = 0; !in_init && m < ELEMENTSOF(init_paths); m++)
                                        in_init = under(init_paths[m], q);
                                if (in_init)
                                        init_child = true;
                                else
                                        other_child = true;
                        }
                        if (init_child && !other_child)
                                continue;
                }
                json_array_append(out, v[i]);
        }
        *ret = out;
        return 0;
}

/* --- the builder's file steps ---------------------------------------------------------- */

struct user_root_job {
        container_root_fn fn;
        void *userdata;
};

static int do_user_root(struct ct_root *cr, void *arg, struct berth_err *err)
{
        struct user_root_job *j = arg;
        if (cr->readonly && cr->mounted)
                return err_set(err, -EROFS, "container rootfs is marked read-only");
        return j->fn(j->userdata, cr->fd, err);
}

int container_with_root(struct container_store *s, const char *ref, container_root_fn fn,
                        void *userdata, struct berth_err *err)
{
        struct user_root_job j = {.fn = fn, .userdata = userdata};
        return with_root(s, ref, do_user_root, &j, err);
}

int container_layer_diff(struct container_store *s, const char *ref, int out_fd,
                         struct berth_err *err)
{
        char id[65];
        int r = container_resolve(s, ref, id, err);
        if (r < 0)
                return r;
        return berth_storage_diff(s->d.storage, id, NULL, out_fd, 0, err);
}
