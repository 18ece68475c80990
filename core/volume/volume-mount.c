/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The mounts of a container: -v, --mount, --volumes-from and the image's
 * VOLUMEs parsed and checked at create, the volumes they need created, and
 * at start the volumes mounted through their drivers, empty ones filled
 * from the image (copy-up), and the OCI mounts written.
 *
 * Mount points in the rootfs are made by the runtime, which resolves every
 * destination with openat2(RESOLVE_IN_ROOT): a symlink in the image (/data
 * -> /etc) lands inside the rootfs, never on the host. Copy-up reads the
 * image's directory the same way and never follows a symlink while it
 * copies. */
#include "volume-internal.h"
#include "base/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

void mount_spec_done(struct mount_spec *m)
{
        free(m->type);
        free(m->source);
        free(m->target);
        free(m->mode);
        free(m->propagation);
        free(m->driver);
        json_decref(m->driver_opts);
        json_decref(m->labels);
        memset(m, 0, sizeof(*m));
}

static bool propagation_valid(const char *p)
{
        static const char *const ok[] = {"shared", "rshared", "slave",
                                         "rslave", "private", "rprivate"};
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                if (streq(ok[i], p))
                        return true;
        return false;
}

static int check_target(const char *type, const char *t, struct berth_err *err)
{
        if (isempty(t))
                return err_set(err, -EINVAL,
                               "invalid mount config for type \"%s\": field Target must not be "
                               "empty",
                               type);
        if (t[0] != '/')
                return err_set(err, -EINVAL,
                               "invalid mount config for type \"%s\": invalid mount path: '%s' "
                               "mount path must be absolute",
                               type, t);
        if (streq(t, "/") || strspn(t, "/") == strlen(t))
                return err_set(err, -EINVAL,
                               "invalid mount config for type \"%s\": invalid specification: "
                               "destination can't be '/'",
                               type);
        return 0;
}

int mount_spec_parse_bind(const char *s, struct mount_spec *ret, struct berth_err *err)
{
        memset(ret, 0, sizeof(*ret));
        _cleanup_strv_ char **parts = NULL;
        size_t n = 0;
        for (const char *p = s;; n++) {
                const char *c = strchr(p, ':');
                parts = strv_push(parts, c ? xstrndup(p, (size_t)(c - p)) : xstrdup(p));
                if (!c)
                        break;
                p = c + 1;
        }
        n = strv_length(parts);
        if (n == 0 || n > 3 || isempty(parts[0]) || (n >= 2 && isempty(parts[1])))
                return err_set(err, -EINVAL, "invalid volume specification: '%s'", s);
        if (n == 1) {
                /* "/data": an anonymous volume */
                if (parts[0][0] != '/')
                        return err_set(err, -EINVAL, "invalid volume specification: '%s'", s);
                ret->type = xstrdup("volume");
                ret->target = xstrdup(parts[0]);
                ret->mode = xstrdup("");
                return 0;
        }
        bool bind = parts[0][0] == '/';
        const char *type = bind ? "bind" : "volume";
        int r = check_target(type, parts[1], err);
        if (r < 0) {
                err_prefix(err, "invalid volume specification: '%s'", s);
                return r;
        }
        if (!bind && !volume_name_valid(parts[0]))
                return err_set(err, -EINVAL,
                               "create %s: \"%s\" includes invalid characters for a local volume "
                               "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                               "intended to pass a host directory, use absolute path",
                               parts[0], parts[0]);
        ret->type = xstrdup(type);
        ret->source = xstrdup(parts[0]);
        ret->target = xstrdup(parts[1]);
        ret->mode = xstrdup(n == 3 ? parts[2] : "");
        ret->bind_create = bind;
        bool rw_seen = false;
        _cleanup_strv_ char **opts = strv_split(ret->mode, ",");
        for (char **o = opts; o && *o; o++) {
                if (streq(*o, "ro") || streq(*o, "rw")) {
                        if (rw_seen)
                                goto bad;
                        rw_seen = true;
                        ret->readonly = streq(*o, "ro");
                } else if (streq(*o, "z") || streq(*o, "Z") || streq(*o, "consistent") ||
                           streq(*o, "cached") || streq(*o, "delegated"))
                        ; /* SELinux labels and macOS consistency: nothing to do here */
                else if (streq(*o, "nocopy") && !bind)
                        ret->nocopy = true;
                else if (bind && propagation_valid(*o) && !ret->propagation)
                        ret->propagation = xstrdup(*o);
                else
                        goto bad;
        }
        return 0;
bad:
        mount_spec_done(ret);
        return err_set(err, -EINVAL, "invalid mode: %s", n == 3 ? parts[2] : "");
}

int mount_spec_parse_api(json_t *m, struct mount_spec *ret, struct berth_err *err)
{
        memset(ret, 0, sizeof(*ret));
        if (!json_is_object(m))
                return err_set(err, -EINVAL, "invalid mount config: not an object");
        const char *type = json_get_str(m, "Type", "");
        if (!streq(type, "bind") && !streq(type, "volume") && !streq(type, "tmpfs"))
                return err_set(err, -EINVAL,
                               "invalid mount config for type \"%s\": mount type unknown", type);
        const char *src = json_get_str(m, "Source", "");
        const char *tgt = json_get_str(m, "Target", "");
        int r = check_target(type, tgt, err);
        if (r < 0)
                return r;
        json_t *bo = json_object_get(m, "BindOptions");
        json_t *vo = json_object_get(m, "VolumeOptions");
        json_t *to = json_object_get(m, "TmpfsOptions");
        bo = json_is_null(bo) ? NULL : bo;
        vo = json_is_null(vo) ? NULL : vo;
        to = json_is_null(to) ? NULL : to;
#define NOT_FOR(field, opt)                                                                 \
        do {                                                                                \
                if (opt)                                                                    \
                        return err_set(err, -EINVAL,                                        \
                                       "invalid mount config for type \"%s\": field " field \
                                       " must not be specified",                            \
                                       type);                                               \
        } while (0)
        if (streq(type, "bind")) {
                NOT_FOR("VolumeOptions", vo);
                NOT_FOR("TmpfsOptions", to);
                if (isempty(src))
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"bind\": field Source must "
                                       "not be empty");
                if (src[0] != '/')
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"bind\": invalid mount "
                                       "path: '%s' mount path must be absolute",
                                       src);
                struct stat st;
                if (stat(src, &st) < 0)
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"bind\": bind source path "
                                       "does not exist: %s",
                                       src);
                const char *prop = json_get_str(bo, "Propagation", "");
                if (*prop && !propagation_valid(prop))
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"bind\": invalid "
                                       "propagation mode: %s",
                                       prop);
                if (*prop)
                        ret->propagation = xstrdup(prop);
        } else if (streq(type, "volume")) {
                NOT_FOR("BindOptions", bo);
                NOT_FOR("TmpfsOptions", to);
                if (*src && !volume_name_valid(src))
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"volume\": invalid volume "
                                       "name: \"%s\"",
                                       src);
                json_t *dc = json_object_get(vo, "DriverConfig");
                ret->nocopy = json_get_bool(vo, "NoCopy", false);
                if (!isempty(json_get_str(dc, "Name", NULL)))
                        ret->driver = xstrdup(json_get_str(dc, "Name", ""));
                json_t *o = json_object_get(dc, "Options");
                if (json_is_object(o))
                        ret->driver_opts = json_deep_copy(o);
                json_t *l = json_object_get(vo, "Labels");
                if (json_is_object(l))
                        ret->labels = json_deep_copy(l);
        } else {
                NOT_FOR("BindOptions", bo);
                NOT_FOR("VolumeOptions", vo);
                if (*src) {
                        mount_spec_done(ret);
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"tmpfs\": field Source must "
                                       "not be specified");
                }
                ret->tmpfs_size = json_get_int(to, "SizeBytes", 0);
                ret->tmpfs_mode = (int)json_get_int(to, "Mode", 0);
                if (ret->tmpfs_size < 0 || ret->tmpfs_mode < 0 || ret->tmpfs_mode > 07777)
                        return err_set(err, -EINVAL,
                                       "invalid mount config for type \"tmpfs\": invalid "
                                       "TmpfsOptions");
        }
#undef NOT_FOR
        ret->type = xstrdup(type);
        ret->source = *src ? xstrdup(src) : NULL;
        ret->target = xstrdup(tgt);
        ret->readonly = json_get_bool(m, "ReadOnly", false);
        return 0;
}

/* --- create ------------------------------------------------------------------ */

struct specs {
        struct mount_spec *v;
        size_t n;
};

static void specs_done(struct specs *s)
{
        for (size_t i = 0; i < s->n; i++)
                mount_spec_done(&s->v[i]);
        free(s->v);
}

static struct mount_spec *specs_find(struct specs *s, const char *target)
{
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->v[i].target, target))
                        return &s->v[i];
        return NULL;
}

static void specs_add(struct specs *s, struct mount_spec *m)
{
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = *m;
        memset(m, 0, sizeof(*m));
}

/* Normalise a target: no trailing slashes, so /data and /data/ clash. */
static void trim_target(struct mount_spec *m)
{
        size_t l = strlen(m->target);
        while (l > 1 && m->target[l - 1] == '/')
                m->target[--l] = '\0';
}

static int collect(json_t *cfg, json_t *hc, json_t *from, struct specs *out, struct berth_err *err)
{
        size_t i;
        json_t *v;
        int r;
        /* --volumes-from first: the container's own mounts override them. */
        json_array_foreach (json_object_get(hc, "VolumesFrom"), i, v) {
                const char *ref = json_string_value(v);
                if (isempty(ref))
                        return err_set(err, -EINVAL, "invalid --volumes-from: empty");
                _cleanup_free_ char *cref = xstrdup(ref);
                char *colon = strchr(cref, ':');
                const char *mode = NULL;
                if (colon) {
                        *colon = '\0';
                        mode = colon + 1;
                        if (!streq(mode, "ro") && !streq(mode, "rw"))
                                return err_set(err, -EINVAL, "invalid mode for volumes-from: %s",
                                               mode);
                }
                size_t k;
                json_t *m;
                json_array_foreach (json_array_get(from, i), k, m) {
                        const char *t = json_get_str(m, "Type", "");
                        if (!streq(t, "volume") && !streq(t, "bind"))
                                continue;
                        struct mount_spec ms = {0};
                        ms.type = xstrdup(t);
                        ms.source = xstrdup(streq(t, "volume") ? json_get_str(m, "Name", "")
                                                               : json_get_str(m, "Source", ""));
                        ms.target = xstrdup(json_get_str(m, "Destination", ""));
                        ms.readonly = mode ? streq(mode, "ro") : !json_get_bool(m, "RW", true);
                        ms.mode = xstrdup(mode ? mode : json_get_str(m, "Mode", ""));
                        const char *p = json_get_str(m, "Propagation", "");
                        ms.propagation = *p ? xstrdup(p) : NULL;
                        ms.nocopy = true; /* the data is the other container's */
                        ms.inherited = true;
                        if (streq(t, "volume"))
                                ms.driver = xstrdup(json_get_str(m, "Driver", ""));
                        struct mount_spec *old = specs_find(out, ms.target);
                        if (old) {
                                mount_spec_done(old);
                                *old = ms;
                        } else
                                specs_add(out, &ms);
                }
        }
        json_array_foreach (json_object_get(hc, "Binds"), i, v) {
                struct mount_spec ms;
                if (!json_is_string(v))
                        return err_set(err, -EINVAL, "invalid volume specification: not a string");
                r = mount_spec_parse_bind(json_string_value(v), &ms, err);
                if (r < 0)
                        return r;
                trim_target(&ms);
                struct mount_spec *old = specs_find(out, ms.target);
                if (old && !old->inherited) {
                        mount_spec_done(&ms);
                        return err_set(err, -EINVAL, "Duplicate mount point: %s", old->target);
                }
                if (old) {
                        mount_spec_done(old);
                        *old = ms;
                } else
                        specs_add(out, &ms);
        }
        json_array_foreach (json_object_get(hc, "Mounts"), i, v) {
                struct mount_spec ms;
                r = mount_spec_parse_api(v, &ms, err);
                if (r < 0)
                        return r;
                trim_target(&ms);
                struct mount_spec *old = specs_find(out, ms.target);
                if (old && !old->inherited) {
                        mount_spec_done(&ms);
                        return err_set(err, -EINVAL, "Duplicate mount point: %s", old->target);
                }
                if (old) {
                        mount_spec_done(old);
                        *old = ms;
                } else
                        specs_add(out, &ms);
        }
        /* The image's VOLUMEs (and -v /dst): anonymous volumes where nothing
         * else is mounted. */
        const char *key;
        json_object_foreach (json_object_get(cfg, "Volumes"), key, v) {
                struct mount_spec ms = {0};
                ms.type = xstrdup("volume");
                ms.target = xstrdup(key);
                ms.mode = xstrdup("");
                r = check_target("volume", key, err);
                if (r < 0) {
                        mount_spec_done(&ms);
                        return r;
                }
                trim_target(&ms);
                if (specs_find(out, ms.target) ||
                    json_object_get(json_object_get(hc, "Tmpfs"), ms.target)) {
                        mount_spec_done(&ms);
                        continue;
                }
                specs_add(out, &ms);
        }
        return 0;
}

static void remove_created(struct volume_store *vs, const char *id, char **names)
{
        for (char **n = names; n && *n; n++) {
                struct berth_err e2 = {0};
                if (volume_remove_for(vs, *n, id, &e2) < 0)
                        log_warn("volume %s: %s, ignoring", *n, err_msg(&e2));
        }
}

int volume_container_create(struct volume_store *vs, const char *id, json_t *cfg, json_t *hc,
                            json_t *from, json_t **ret_mounts, struct berth_err *err)
{
        struct specs sp = {0};
        _cleanup_strv_ char **created = NULL;
        json_t *mounts = json_array();
        int r = collect(cfg, hc, from, &sp, err);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < sp.n; i++) {
                struct mount_spec *m = &sp.v[i];
                if (streq(m->type, "volume") && m->driver && !isempty(m->driver) &&
                    !vs_driver(vs, m->driver)) {
                        r = err_set(err, -ENOENT,
                                    "error looking up volume plugin %s: plugin \"%s\" not found",
                                    m->driver, m->driver);
                        goto fail;
                }
        }
        /* Everything is checked: now make what is missing. */
        for (size_t i = 0; i < sp.n; i++) {
                struct mount_spec *m = &sp.v[i];
                json_t *j = NULL;
                if (streq(m->type, "volume")) {
                        bool made = false;
                        _cleanup_free_ char *name = NULL, *drv = NULL;
                        r = volume_ensure(vs, m->source, m->driver, m->driver_opts, m->labels, id,
                                          &made, &name, err);
                        if (r < 0)
                                goto fail;
                        if (made)
                                created = strv_push(created, xstrdup(name));
                        r = volume_driver_of(vs, name, &drv, err);
                        if (r < 0)
                                goto fail;
                        char path[4096] = "";
                        struct driver *d = vs_driver(vs, drv);
                        if (d)
                                berth_volume_path(d, name, 0, path, sizeof(path), NULL);
                        j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume",
                                      "Name", name, "Source", path, "Destination", m->target,
                                      "Driver", drv, "Mode",
                                      !isempty(m->mode) ? m->mode
                                      : m->source       ? "z"
                                                        : "",
                                      "RW", !m->readonly, "Propagation", "");
                } else if (streq(m->type, "bind")) {
                        struct stat st;
                        if (m->bind_create && stat(m->source, &st) < 0) {
                                r = mkdir_p(m->source, 0755);
                                if (r < 0) {
                                        err_errno(err, r, "create the bind source '%s'", m->source);
                                        goto fail;
                                }
                        }
                        j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source",
                                      m->source, "Destination", m->target, "Mode",
                                      m->mode ? m->mode : "", "RW", !m->readonly, "Propagation",
                                      m->propagation ? m->propagation : "rprivate");
                } else {
                        j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "tmpfs", "Source",
                                      "", "Destination", m->target, "Mode", "", "RW", !m->readonly,
                                      "Propagation", "");
                }
                json_array_append_new(mounts, j);
        }
        specs_done(&sp);
        *ret_mounts = mounts;
        return 0;
fail:
        volume_unpin(vs, id);
        remove_created(vs, id, created);
        specs_done(&sp);
        json_decref(mounts);
        return r;
}

/* --- start ------------------------------------------------------------------- */

static void copy_xattrs(int src, int dst)
{
        char names[4096];
        ssize_t n = flistxattr(src, names, sizeof(names));
        for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
                char val[4096];
                ssize_t l = fgetxattr(src, names + off, val, sizeof(val));
                if (l >= 0)
                        fsetxattr(dst, names + off, val, (size_t)l, 0);
        }
}

/* Copy the directory srcfd's entries into dstfd, never following a link. */
static int copy_dir(int srcfd, int dstfd, int depth)
{
        if (depth > 128)
                return -ELOOP;
        int dup = fcntl(srcfd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return -errno;
        DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return -errno;
        }
        struct dirent *de;
        int r = 0;
        while (r == 0 && (de = readdir(d))) {
                const char *n = de->d_name;
                if (streq(n, ".") || streq(n, ".."))
                        continue;
                struct stat st;
                if (fstatat(srcfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dstfd, n, 0700) < 0 && errno != EEXIST) {
                                r = -errno;
                                break;
                        }
                        _cleanup_close_ int s2 =
                            openat(srcfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int d2 =
                            openat(dstfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s2 < 0 || d2 < 0) {
                                r = -errno;
                                break;
                        }
                        r = copy_dir(s2, d2, depth + 1);
                        if (r < 0)
                                break;
                        copy_xattrs(s2, d2);
                        if (fchown(d2, st.st_uid, st.st_gid) < 0 ||
                            fchmod(d2, st.st_mode & 07777) < 0) {
                                r = -errno;
                                break;
                        }
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_close_ int s2 =
                            openat(srcfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        _cleanup_close_ int d2 = openat(
                            dstfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        if (s2 < 0 || d2 < 0) {
                                r = -errno;
                                break;
                        }
                        char buf[65536];
                        ssize_t k;
                        while ((k = read(s2, buf, sizeof(buf))) > 0)
                                if (loop_write(d2, buf, (size_t)k) < 0) {
                                        r = -errno;
                                        break;
                                }
                        if (k < 0)
                                r = -errno;
                        if (r < 0)
                                break;
                        copy_xattrs(s2, d2);
                        if (fchown(d2, st.st_uid, st.st_gid) < 0 ||
                            fchmod(d2, st.st_mode & 07777) < 0) {
                                r = -errno;
                                break;
                        }
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t l = readlinkat(srcfd, n, target, sizeof(target) - 1);
                        if (l < 0) {
                                r = -errno;
                                break;
                        }
                        target[l] = '\0';
                        if (symlinkat(target, dstfd, n) < 0 ||
                            fchownat(dstfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = -errno;
                                break;
                        }
                } else {
                        if (mknodat(dstfd, n, st.st_mode, st.st_rdev) < 0 ||
                            fchownat(dstfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
                                r = -errno;
                                break;
                        }
                }
                struct timespec ts[2] = {st.st_atim, st.st_mtim};
                utimensat(dstfd, n, ts, AT_SYMLINK_NOFOLLOW);
        }
        closedir(d);
        return r;
}

static bool dir_empty(int fd)
{
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup < 0)
                return false;
        DIR *d = fdopendir(dup);
        if (!d) {
                close(dup);
                return false;
        }
        struct dirent *de;
        bool empty = true;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        empty = false;
        closedir(d);
        return empty;
}

/* Fill an empty volume with what the image has at target, as Docker does
 * on first use: contents, owners, modes, links, xattrs. */
static int copy_up(const char *rootfs, const char *target, const char *volpath,
                   struct berth_err *err)
{
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return err_errno(err, -errno, "open the rootfs '%s'", rootfs);
        _cleanup_close_ int src = openat_in_root(rootfd, target, O_RDONLY | O_DIRECTORY);
        if (src < 0)
                return 0; /* nothing there (or not a directory): nothing to copy */
        _cleanup_close_ int dst = open(volpath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return err_errno(err, -errno, "open the volume '%s'", volpath);
        if (!dir_empty(dst))
                return 0;
        int r = copy_dir(src, dst, 0);
        if (r < 0)
                return err_errno(err, r, "copy the image's '%s' into the volume '%s'", target,
                                 volpath);
        struct stat st;
        if (fstat(src, &st) == 0) {
                if (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0)
                        return err_errno(err, -errno, "set the owner of the volume '%s'", volpath);
        }
        return 0;
}

static bool nocopy_for(json_t *hc, json_t *m)
{
        const char *dst = json_get_str(m, "Destination", "");
        _cleanup_strv_ char **modes = strv_split(json_get_str(m, "Mode", ""), ",");
        if (strv_contains(modes, "nocopy"))
                return true;
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Mounts"), i, v) {
                const char *t = json_get_str(v, "Target", "");
                size_t l = strlen(t);
                while (l > 1 && t[l - 1] == '/')
                        l--;
                if (strlen(dst) == l && strncmp(t, dst, l) == 0 &&
                    json_get_bool(json_object_get(v, "VolumeOptions"), "NoCopy", false))
                        return true;
        }
        return false;
}

static json_t *tmpfs_options(json_t *hc, json_t *m)
{
        const char *dst = json_get_str(m, "Destination", "");
        json_t *o = json_pack("[s,s,s]", "nosuid", "nodev", "noexec");
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Mounts"), i, v) {
                const char *t = json_get_str(v, "Target", "");
                size_t l = strlen(t);
                while (l > 1 && t[l - 1] == '/')
                        l--;
                if (strlen(dst) != l || strncmp(t, dst, l) != 0)
                        continue;
                json_t *to = json_object_get(v, "TmpfsOptions");
                if (json_get_int(to, "SizeBytes", 0) > 0)
                        json_array_append_new(
                            o,
                            json_sprintf("size=%lld", (long long)json_get_int(to, "SizeBytes", 0)));
                if (json_get_int(to, "Mode", 0) > 0)
                        json_array_append_new(
                            o, json_sprintf("mode=%llo", (long long)json_get_int(to, "Mode", 0)));
        }
        if (!json_get_bool(m, "RW", true))
                json_array_append_new(o, json_string("ro"));
        return o;
}

static size_t depth(const char *p)
{
        size_t n = 0;
        for (; *p; p++)
                n += *p == '/';
        return n;
}

static int by_depth(const void *a, const void *b)
{
        json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
        size_t dx = depth(json_get_str(x, "Destination", ""));
        size_t dy = depth(json_get_str(y, "Destination", ""));
        return dx < dy ? -1 : dx > dy;
}

int volume_container_start(struct volume_store *vs, json_t *rec, const char *rootfs, json_t *spec,
                           struct berth_err *err)
{
        json_t *list = json_object_get(rec, "Mounts");
        json_t *hc = json_object_get(rec, "HostConfig");
        const char *id = json_get_str(rec, "Id", "");
        size_t n = json_array_size(list);
        if (!n)
                return 0;
        json_t **sorted = xzalloc(n * sizeof(*sorted));
        for (size_t i = 0; i < n; i++)
                sorted[i] = json_array_get(list, i);
        /* Parents before children (stable for equal depth: array order). */
        for (size_t i = 1; i < n; i++)
                for (size_t k = i; k > 0 && by_depth(&sorted[k - 1], &sorted[k]) > 0; k--) {
                        json_t *t = sorted[k];
                        sorted[k] = sorted[k - 1];
                        sorted[k - 1] = t;
                }
        json_t *oci = json_object_get(spec, "mounts");
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                json_t *m = sorted[i];
                const char *type = json_get_str(m, "Type", "");
                const char *dst = json_get_str(m, "Destination", "");
                bool rw = json_get_bool(m, "RW", true);
                if (streq(type, "volume")) {
                        const char *name = json_get_str(m, "Name", "");
                        struct driver *d = vs_driver(vs, json_get_str(m, "Driver", ""));
                        if (!d) {
                                r = err_set(err, -ENOENT, "volume %s: driver \"%s\" not loaded",
                                            name, json_get_str(m, "Driver", ""));
                                break;
                        }
                        char path[4096];
                        r = berth_volume_mount(d, name, id, 0, path, sizeof(path), err);
                        if (r < 0) {
                                err_prefix(err, "mount the volume %s", name);
                                break;
                        }
                        if (!nocopy_for(hc, m)) {
                                r = copy_up(rootfs, dst, path, err);
                                if (r < 0)
                                        break;
                        }
                        json_array_append_new(oci, json_pack("{s:s, s:s, s:s, s:[s,s,s]}",
                                                             "destination", dst, "type", "bind",
                                                             "source", path, "options", "rbind",
                                                             rw ? "rw" : "ro", "rprivate"));
                } else if (streq(type, "bind")) {
                        const char *p = json_get_str(m, "Propagation", "");
                        json_array_append_new(
                            oci,
                            json_pack("{s:s, s:s, s:s, s:[s,s,s]}", "destination", dst, "type",
                                      "bind", "source", json_get_str(m, "Source", ""), "options",
                                      "rbind", rw ? "rw" : "ro", *p ? p : "rprivate"));
                } else if (streq(type, "tmpfs")) {
                        json_array_append_new(oci,
                                              json_pack("{s:s, s:s, s:s, s:o}", "destination", dst,
                                                        "type", "tmpfs", "source", "tmpfs",
                                                        "options", tmpfs_options(hc, m)));
                }
        }
        free(sorted);
        if (r < 0)
                volume_container_stop(vs, rec);
        return r;
}

void volume_container_stop(struct volume_store *vs, json_t *rec)
{
        const char *id = json_get_str(rec, "Id", "");
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get(rec, "Mounts"), i, m) {
                if (!streq(json_get_str(m, "Type", ""), "volume"))
                        continue;
                struct driver *d = vs_driver(vs, json_get_str(m, "Driver", ""));
                struct berth_err e2 = {0};
                if (d && berth_volume_unmount(d, json_get_str(m, "Name", ""), id, 0, &e2) < 0)
                        log_warn("container %s: %s, ignoring", id, err_msg(&e2));
        }
}

void volume_container_remove(struct volume_store *vs, json_t *rec, bool anonymous)
{
        if (!anonymous)
                return;
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get(rec, "Mounts"), i, m) {
                const char *name = json_get_str(m, "Name", "");
                if (!streq(json_get_str(m, "Type", ""), "volume") || !volume_is_anonymous(vs, name))
                        continue;
                struct berth_err e2 = {0};
                int r = volume_remove_for(vs, name, json_get_str(rec, "Id", ""), &e2);
                if (r < 0 && r != -EBUSY && r != -ENOENT)
                        log_warn("remove volume %s: %s, ignoring", name, err_msg(&e2));
        }
}

void volume_mounts_restore(struct volume_store *vs, const char *id, json_t *mounts)
{
        size_t i;
        json_t *m;
        json_array_foreach (mounts, i, m) {
                struct driver *d = vs_driver(vs, json_get_str(m, "Driver", ""));
                char path[4096];
                if (d && streq(json_get_str(m, "Type", ""), "volume"))
                        berth_volume_mount(d, json_get_str(m, "Name", ""), id, 0, path,
                                           sizeof(path), NULL);
        }
}

bool volume_filter_match(json_t *values, json_t *mounts)
{
        size_t i, k;
        json_t *v, *m;
        json_array_foreach (values, i, v)
                json_array_foreach (mounts, k, m) {
                        const char *want = json_string_value(v);
                        if (!want)
                                continue;
                        if (streq(json_get_str(m, "Destination", ""), want) ||
                            (streq(json_get_str(m, "Type", ""), "volume") &&
                             streq(json_get_str(m, "Name", ""), want)))
                                return true;
                }
        return false;
}
