/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage-overlay2: layers as overlayfs lower/upper directories, in
 * Docker's overlay2 layout under the driver directory:
 *
 *   <id>/diff/     the layer's own files (the upper dir when mounted RW);
 *                  whiteouts as 0/0 char devices, opaque dirs by the
 *                  trusted.overlay.opaque xattr, as overlayfs reads them
 *   <id>/link      the layer's short name: l/<link> -> ../<id>/diff
 *   <id>/lower     the parents' short names, top first: "l/A:l/B"
 *   <id>/parent    the parent's id (for diff and changes)
 *   <id>/work/     overlayfs' workdir;  <id>/merged/  the mount point
 *   l/<link>       symlinks; mounts name lowers as "l/<link>" relative to
 *                  the driver directory, so that a 125-layer chain stays
 *                  below the page-size limit of mount options
 *
 * get()/put() counts live in the driver's run directory (<run>/<id>.count),
 * so a restarted engine knows which mounts it holds; after a reboot the run
 * directory is empty and nothing is mounted, which agrees.
 */
#include <berth/storage.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINK_LEN  26
#define MAX_DEPTH 128

struct ovl {
        const struct berth_host *host;
        char home[PATH_MAX];
        char run[PATH_MAX];
        int index_off;        /* the kernel knows index=, pass index=off (as Docker) */
        pthread_mutex_t lock; /* mount counts */
};

static int has_overlayfs(void)
{
        FILE *f = fopen("/proc/filesystems", "re");
        char line[256];
        int found = 0;
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strstr(line, "\toverlay\n"))
                        found = 1;
        fclose(f);
        return found;
}

static int valid_id(const char *id)
{
        size_t n = id ? strlen(id) : 0;
        if (n == 0 || n > 128 || (id[0] == 'l' && n == 1))
                return 0;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '-'))
                        return 0;
        return 1;
}

#define CHECK_ID(o, id, err)                                                                    \
        do {                                                                                    \
                if (!valid_id(id))                                                              \
                        return berth_host_err((o)->host, err, -EINVAL, "invalid layer id '%s'", \
                                              (id) ? (id) : "(null)");                          \
        } while (0)

static void lpath(const struct ovl *o, char *buf, size_t len, const char *id, const char *sub)
{
        if (sub)
                snprintf(buf, len, "%s/%s/%s", o->home, id, sub);
        else
                snprintf(buf, len, "%s/%s", o->home, id);
}

static int read_small(const char *path, char *buf, size_t len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, len - 1);
        int e = errno;
        close(fd);
        if (n < 0)
                return -e;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

static int write_small(const char *path, const char *s)
{
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        size_t n = strlen(s);
        int r = write(fd, s, n) == (ssize_t)n ? 0 : -EIO;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type == FTW_DP)
                return rmdir(path) < 0 && errno != ENOENT ? -errno : 0;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

static int rm_rf(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS);
        return r < 0 ? -errno : r;
}

/* A layer exists once its "link" file does (written last by create). */
static int layer_exists(const struct ovl *o, const char *id)
{
        char p[PATH_MAX];
        lpath(o, p, sizeof(p), id, "link");
        return access(p, F_OK) == 0;
}

static int is_mounted(const char *path)
{
        struct stat a, b;
        char parent[PATH_MAX + 4];
        snprintf(parent, sizeof(parent), "%s/..", path);
        if (stat(path, &a) < 0 || stat(parent, &b) < 0)
                return 0;
        return a.st_dev != b.st_dev;
}

static void count_path(const struct ovl *o, const char *id, char *buf, size_t len)
{
        snprintf(buf, len, "%s/%s.count", o->run, id);
}

static int count_get(const struct ovl *o, const char *id)
{
        char p[PATH_MAX], b[32];
        count_path(o, id, p, sizeof(p));
        if (read_small(p, b, sizeof(b)) < 0)
                return 0;
        return atoi(b);
}

static int count_set(const struct ovl *o, const char *id, int n)
{
        char p[PATH_MAX], b[32];
        count_path(o, id, p, sizeof(p));
        if (n <= 0)
                return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
        snprintf(b, sizeof(b), "%d\n", n);
        return write_small(p, b);
}

static int ovl_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        int r = has_overlayfs();
        if (r <= 0)
                return berth_host_err(host, err, -ENODEV,
                                      "the kernel has no overlay filesystem (not in "
                                      "/proc/filesystems); use '[storage] driver = vfs'");
        if (!BERTH_HOST_HAS(host, layer_unpack) || !BERTH_HOST_HAS(host, layer_diff))
                return berth_host_err(host, err, -EPROTO,
                                      "the engine lacks the layer_unpack/layer_diff services "
                                      "(ABI 1.1); upgrade berth");
        struct ovl *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->host = host;
        snprintf(o->home, sizeof(o->home), "%s", host->path(host->ctx, BERTH_PATH_DRIVER));
        snprintf(o->run, sizeof(o->run), "%s", host->path(host->ctx, BERTH_PATH_DRIVER_RUN));
        o->index_off = access("/sys/module/overlay/parameters/index", F_OK) == 0;
        pthread_mutex_init(&o->lock, NULL);
        char l[PATH_MAX];
        snprintf(l, sizeof(l), "%s/l", o->home);
        if (mkdir(l, 0700) < 0 && errno != EEXIST) {
                r = -errno;
                free(o);
                return berth_host_err(host, err, r, "create '%s': %s", l, strerror(-r));
        }
        *ret_state = o;
        return 0;
}

static void ovl_fini(void *state)
{
        struct ovl *o = state;
        pthread_mutex_destroy(&o->lock);
        free(o);
}

static void random_link(char buf[LINK_LEN + 1])
{
        static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        unsigned char r[LINK_LEN];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
                for (int i = 0; i < LINK_LEN; i++)
                        r[i] = (unsigned char)rand();
        for (int i = 0; i < LINK_LEN; i++)
                buf[i] = chars[r[i] % 36];
        buf[LINK_LEN] = '\0';
}

static int ovl_remove(void *drv, const char *id, uint64_t flags, struct berth_err *err);

static int ovl_create(void *drv, const char *id, const char *parent, const char *const *opts,
                      uint64_t flags, struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, BERTH_STORAGE_CREATE_RW);
        CHECK_ID(o, id, err);
        if (opts && opts[0])
                return berth_host_err(o->host, err, -EINVAL,
                                      "unknown storage option '%s' (overlay2 takes none here)",
                                      opts[0]);
        char p[PATH_MAX], lower[8192] = "";
        if (parent) {
                CHECK_ID(o, parent, err);
                if (!layer_exists(o, parent))
                        return berth_host_err(o->host, err, -ENOENT,
                                              "parent layer '%s' does not exist", parent);
                char plink[64], plower[8192] = "";
                lpath(o, p, sizeof(p), parent, "link");
                if (read_small(p, plink, sizeof(plink)) < 0)
                        return berth_host_err(o->host, err, -EIO, "layer '%s' has no link", parent);
                lpath(o, p, sizeof(p), parent, "lower");
                (void)read_small(p, plower, sizeof(plower));
                int depth = 1;
                for (const char *c = plower; *c; c++)
                        depth += *c == ':';
                if (depth >= MAX_DEPTH)
                        return berth_host_err(o->host, err, -EMLINK,
                                              "layer '%s' would have more than %d parents", id,
                                              MAX_DEPTH);
                snprintf(lower, sizeof(lower), "l/%s%s%s", plink, plower[0] ? ":" : "", plower);
        }
        if (layer_exists(o, id))
                return berth_host_err(o->host, err, -EEXIST, "layer '%s' already exists", id);

        int r;
        lpath(o, p, sizeof(p), id, NULL);
        (void)rm_rf(p); /* a leftover of a crash part-way through */
        if (mkdir(p, 0700) < 0)
                return berth_host_err(o->host, err, -errno, "create '%s': %s", p, strerror(errno));
        const char *subs[] = {"diff", "work", "merged"};
        for (size_t i = 0; i < 3; i++) {
                lpath(o, p, sizeof(p), id, subs[i]);
                if (mkdir(p, i == 0 ? 0755 : 0700) < 0) {
                        r = berth_host_err(o->host, err, -errno, "create '%s': %s", p,
                                           strerror(errno));
                        goto fail;
                }
        }
        if (parent) {
                lpath(o, p, sizeof(p), id, "lower");
                if ((r = write_small(p, lower)) < 0)
                        goto fail_io;
                lpath(o, p, sizeof(p), id, "parent");
                if ((r = write_small(p, parent)) < 0)
                        goto fail_io;
        }
        char link[LINK_LEN + 1], lp[PATH_MAX], target[PATH_MAX];
        random_link(link);
        snprintf(lp, sizeof(lp), "%s/l/%s", o->home, link);
        snprintf(target, sizeof(target), "../%s/diff", id);
        if (symlink(target, lp) < 0) {
                r = berth_host_err(o->host, err, -errno, "create '%s': %s", lp, strerror(errno));
                goto fail;
        }
        lpath(o, p, sizeof(p), id, "link");
        if ((r = write_small(p, link)) < 0) {
                unlink(lp);
                goto fail_io;
        }
        return 0;
fail_io:
        berth_host_err(o->host, err, r, "write '%s': %s", p, strerror(-r));
fail:
        lpath(o, p, sizeof(p), id, NULL);
        (void)rm_rf(p);
        return r;
}

static int ovl_remove(void *drv, const char *id, uint64_t flags, struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(o, id, err);
        char p[PATH_MAX], link[64];
        lpath(o, p, sizeof(p), id, NULL);
        if (access(p, F_OK) < 0)
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        lpath(o, p, sizeof(p), id, "merged");
        if (is_mounted(p))
                (void)umount2(p, MNT_DETACH);
        (void)count_set(o, id, 0);
        lpath(o, p, sizeof(p), id, "link");
        if (read_small(p, link, sizeof(link)) == 0 && link[0] && !strchr(link, '/')) {
                char lp[PATH_MAX];
                snprintf(lp, sizeof(lp), "%s/l/%s", o->home, link);
                (void)unlink(lp);
        }
        /* the commit point goes first */
        (void)unlink(p);
        lpath(o, p, sizeof(p), id, NULL);
        int r = rm_rf(p);
        if (r < 0)
                return berth_host_err(o->host, err, r, "remove '%s': %s", p, strerror(-r));
        return 0;
}

static int ovl_exists(void *drv, const char *id, uint64_t flags)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return valid_id(id) && layer_exists(drv, id);
}

/* Mount in a child that chdirs into the driver directory: the lowerdir
 * option then names "l/<link>" relative paths, and the engine's own working
 * directory stays untouched in a threaded process. */
static int do_mount(struct ovl *o, const char *target, const char *opts)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (chdir(o->home) < 0)
                        _exit(errno);
                if (mount("overlay", target, "overlay", 0, opts) < 0)
                        _exit(errno);
                _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(st))
                return -EIO;
        return -WEXITSTATUS(st);
}

static int ovl_get(void *drv, const char *id, const char *mount_label, uint64_t flags,
                   char *ret_path, size_t ret_len, struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(o, id, err);
        if (!layer_exists(o, id))
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        char p[PATH_MAX], merged[PATH_MAX], lower[8192] = "";
        lpath(o, p, sizeof(p), id, "lower");
        (void)read_small(p, lower, sizeof(lower));
        lpath(o, merged, sizeof(merged), id, "merged");
        /* a base layer needs no mount: its diff is the whole tree */
        if (!lower[0]) {
                lpath(o, p, sizeof(p), id, "diff");
                if (strlen(p) >= ret_len)
                        return berth_host_err(o->host, err, -ENAMETOOLONG, "path too long");
                strcpy(ret_path, p);
                return 0;
        }
        if (strlen(merged) >= ret_len)
                return berth_host_err(o->host, err, -ENAMETOOLONG, "path too long");
        pthread_mutex_lock(&o->lock);
        int n = count_get(o, id);
        int r = 0;
        if (n == 0 || !is_mounted(merged)) {
                char opts[8192 + 512], work_rel[PATH_MAX], diff_rel[PATH_MAX];
                snprintf(diff_rel, sizeof(diff_rel), "%s/diff", id);
                snprintf(work_rel, sizeof(work_rel), "%s/work", id);
                /* always with an upper: image layers are written only by
                 * apply_diff, container layers by the container */
                int len = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s%s",
                                   lower, diff_rel, work_rel, o->index_off ? ",index=off" : "");
                long page = sysconf(_SC_PAGESIZE);
                /* With absolute paths when they fit in the kernel's page of
                 * options: mounted from here, without a child (forking the
                 * engine costs more than the mount). */
                char abs[8192];
                size_t al = (size_t)snprintf(abs, sizeof(abs), "lowerdir=");
                for (const char *e = lower; *e && al < sizeof(abs);) {
                        size_t el = strcspn(e, ":");
                        al += (size_t)snprintf(abs + al, sizeof(abs) - al, "%s%s/%.*s",
                                               e == lower ? "" : ":", o->home, (int)el, e);
                        e += el + (e[el] == ':');
                }
                if (al < sizeof(abs))
                        al += (size_t)snprintf(abs + al, sizeof(abs) - al,
                                               ",upperdir=%s/%s,workdir=%s/%s%s", o->home, diff_rel,
                                               o->home, work_rel, o->index_off ? ",index=off" : "");
                if (al < (size_t)page - 1 && al < sizeof(abs)) {
                        r = mount("overlay", merged, "overlay", 0, abs) < 0 ? -errno : 0;
                        if (r < 0) {
                                r = berth_host_err(o->host, err, r,
                                                   "mount overlay for layer '%s' (%s): %s", id, abs,
                                                   strerror(-r));
                                goto out;
                        }
                        n = 0;
                        goto counted;
                }
                if (len >= (int)sizeof(opts) || len >= page - 1) {
                        r = berth_host_err(o->host, err, -E2BIG,
                                           "mount options for layer '%s' are %d bytes, over the "
                                           "%ld-byte limit",
                                           id, len, page - 1);
                        goto out;
                }
                r = do_mount(o, merged, opts);
                if (r < 0) {
                        r = berth_host_err(o->host, err, r, "mount overlay for layer '%s' (%s): %s",
                                           id, opts, strerror(-r));
                        goto out;
                }
                n = 0;
        }
counted:
        r = count_set(o, id, n + 1);

        if (r < 0) {
                if (n == 0)
                        (void)umount2(merged, MNT_DETACH);
                r = berth_host_err(o->host, err, r, "record mount count of '%s': %s", id,
                                   strerror(-r));
                goto out;
        }
        strcpy(ret_path, merged);
out:
        pthread_mutex_unlock(&o->lock);
        return r;
}

static int ovl_put(void *drv, const char *id, uint64_t flags, struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(o, id, err);
        if (!layer_exists(o, id))
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        char p[PATH_MAX], lower[8192] = "";
        lpath(o, p, sizeof(p), id, "lower");
        (void)read_small(p, lower, sizeof(lower));
        if (!lower[0])
                return 0; /* never mounted */
        pthread_mutex_lock(&o->lock);
        int n = count_get(o, id);
        int r = 0;
        if (n > 1) {
                r = count_set(o, id, n - 1);
                goto out;
        }
        lpath(o, p, sizeof(p), id, "merged");
        if (is_mounted(p) && umount2(p, 0) < 0) {
                r = berth_host_err(o->host, err, -errno, "unmount '%s': %s", p, strerror(errno));
                goto out;
        }
        r = count_set(o, id, 0);
out:
        pthread_mutex_unlock(&o->lock);
        return r;
}

static int ovl_apply_diff(void *drv, const char *id, const char *parent, int tar_fd,
                          uint32_t whiteout_format, uint64_t flags, int64_t *ret_size,
                          struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(o, id, err);
        if (whiteout_format != BERTH_WHITEOUT_AUFS)
                return berth_host_err(o->host, err, -EINVAL, "unknown whiteout format %u",
                                      whiteout_format);
        if (!layer_exists(o, id))
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        char p[PATH_MAX];
        lpath(o, p, sizeof(p), id, "diff");
        int64_t size = 0;
        int r =
            o->host->layer_unpack(o->host->ctx, tar_fd, p, BERTH_LAYER_WH_OVERLAY, 0, &size, err);
        if (r < 0)
                return r;
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* The absolute diff dirs of the parents of `id`, top first. */
static int lower_dirs(struct ovl *o, const char *id, char ***ret, struct berth_err *err)
{
        char p[PATH_MAX], lower[8192] = "";
        lpath(o, p, sizeof(p), id, "lower");
        (void)read_small(p, lower, sizeof(lower));
        size_t n = 1;
        for (const char *c = lower; *c; c++)
                n += *c == ':';
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        size_t i = 0;
        for (char *save = NULL, *tok = strtok_r(lower, ":", &save); tok;
             tok = strtok_r(NULL, ":", &save)) {
                char lp[PATH_MAX], real[PATH_MAX];
                snprintf(lp, sizeof(lp), "%s/%s", o->home, tok);
                if (!realpath(lp, real)) {
                        int r = -errno;
                        for (size_t j = 0; j < i; j++)
                                free(v[j]);
                        free(v);
                        return berth_host_err(o->host, err, r, "layer '%s': lower '%s' is broken",
                                              id, tok);
                }
                v[i++] = strdup(real);
        }
        *ret = v;
        return 0;
}

static int do_diff(struct ovl *o, const char *id, const char *parent, int out_fd,
                   berth_change_fn fn, void *ud, int64_t *ret_size, struct berth_err *err)
{
        CHECK_ID(o, id, err);
        if (!layer_exists(o, id))
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        if (parent) {
                char own[256] = "", p[PATH_MAX];
                lpath(o, p, sizeof(p), id, "parent");
                (void)read_small(p, own, sizeof(own));
                if (strcmp(own, parent) != 0)
                        return berth_host_err(o->host, err, -ENOTSUP,
                                              "overlay2 diffs a layer only against its own parent "
                                              "('%s'), not '%s'",
                                              own, parent);
        }
        char **lowers = NULL;
        int r = lower_dirs(o, id, &lowers, err);
        if (r < 0)
                return r;
        char d[PATH_MAX];
        lpath(o, d, sizeof(d), id, "diff");
        r = o->host->layer_diff(o->host->ctx, d, (const char *const *)lowers,
                                BERTH_LAYER_WH_OVERLAY, out_fd, fn, ud, 0, ret_size, err);
        for (char **l = lowers; *l; l++)
                free(*l);
        free(lowers);
        return r;
}

static int ovl_diff(void *drv, const char *id, const char *parent, int out_fd, uint64_t flags,
                    struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, out_fd, NULL, NULL, NULL, err);
}

static int ovl_changes(void *drv, const char *id, const char *parent, berth_change_fn fn,
                       void *userdata, uint64_t flags, struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, -1, fn, userdata, NULL, err);
}

static int ovl_diff_size(void *drv, const char *id, const char *parent, uint64_t flags,
                         int64_t *ret_size, struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        return do_diff(drv, id, parent, -1, NULL, NULL, ret_size, err);
}

static const char *fs_name(long magic)
{
        switch ((unsigned long)magic) {
        case 0xEF53:
                return "extfs";
        case 0x58465342:
                return "xfs";
        case 0x9123683E:
                return "btrfs";
        case 0x01021994:
                return "tmpfs";
        default:
                return "unknown";
        }
}

static int ovl_status(void *drv, berth_kv_fn fn, void *userdata, uint64_t flags)
{
        struct ovl *o = drv;
        struct statfs sf;
        BERTH_CHECK_FLAGS(flags, 0);
        int r = fn(userdata, "Backing Filesystem",
                   statfs(o->home, &sf) == 0 ? fs_name((long)sf.f_type) : "unknown");
        if (r)
                return r;
        r = fn(userdata, "Supports d_type", "true");
        if (r)
                return r;
        r = fn(userdata, "Using metacopy", "false");
        if (r)
                return r;
        return fn(userdata, "Native Overlay Diff", "true");
}

static int ovl_metadata(void *drv, const char *id, berth_kv_fn fn, void *userdata, uint64_t flags,
                        struct berth_err *err)
{
        struct ovl *o = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        CHECK_ID(o, id, err);
        if (!layer_exists(o, id))
                return berth_host_err(o->host, err, -ENOENT, "layer '%s' does not exist", id);
        char **lowers = NULL;
        int r = lower_dirs(o, id, &lowers, err);
        if (r < 0)
                return r;
        size_t len = 1;
        for (char **l = lowers; *l; l++)
                len += strlen(*l) + 1;
        char *joined = calloc(1, len);
        for (char **l = lowers; joined && *l; l++) {
                if (l != lowers)
                        strcat(joined, ":");
                strcat(joined, *l);
        }
        for (char **l = lowers; *l; l++)
                free(*l);
        free(lowers);
        char p[PATH_MAX];
        if (joined && joined[0])
                r = fn(userdata, "LowerDir", joined);
        free(joined);
        if (r)
                return r;
        static const struct {
                const char *key, *sub;
        } kv[] = {{"MergedDir", "merged"}, {"UpperDir", "diff"}, {"WorkDir", "work"}};
        for (size_t i = 0; i < 3; i++) {
                lpath(o, p, sizeof(p), id, kv[i].sub);
                if ((r = fn(userdata, kv[i].key, p)))
                        return r;
        }
        return 0;
}

static const struct berth_storage_ops ovl_ops = {
    .size = sizeof(struct berth_storage_ops),
    .create = ovl_create,
    .remove = ovl_remove,
    .exists = ovl_exists,
    .get = ovl_get,
    .put = ovl_put,
    .apply_diff = ovl_apply_diff,
    .diff = ovl_diff,
    .changes = ovl_changes,
    .diff_size = ovl_diff_size,
    .status = ovl_status,
    .metadata = ovl_metadata,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_STORAGE, .name = "overlay2", .version = "1.0.0",
                    .description = "overlayfs layers (Docker's overlay2 layout)",
                    .features = BERTH_STORAGE_F_COPY_ON_WRITE | BERTH_STORAGE_F_NATIVE_DIFF,
                    .init = ovl_init, .fini = ovl_fini, .ops = &ovl_ops);
