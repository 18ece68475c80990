/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storage-overlay2: layers as overlayfs lower/upper directories. */
#include <berth/storage.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

struct ovl {
        const struct berth_host *host;
        const char *home;
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

static int ovl_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        int r = has_overlayfs();
        if (r <= 0)
                return berth_host_err(
                    host, err, -ENODEV,
                    "the kernel has no overlay filesystem (not in /proc/filesystems); "
                    "use '[storage] driver = vfs'");
        struct ovl *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->host = host;
        o->home = host->path(host->ctx, BERTH_PATH_DRIVER);
        *ret_state = o;
        return 0;
}

static void ovl_fini(void *state)
{
        free(state);
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
        return fn(userdata, "Native Overlay Diff", "true");
}

static const struct berth_storage_ops ovl_ops = {
    .size = sizeof(struct berth_storage_ops),
    .status = ovl_status,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_STORAGE, .name = "overlay2", .version = "0.1.0",
                    .description = "overlayfs layers (Docker's overlay2 layout)",
                    .features = BERTH_STORAGE_F_COPY_ON_WRITE | BERTH_STORAGE_F_NATIVE_DIFF,
                    .init = ovl_init, .fini = ovl_fini, .ops = &ovl_ops);
