/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * image-tool: a thin command line over the image store, without a daemon,
 * for the integration tests (image-interop, image-crash) and the load
 * benchmark. Not installed.
 *
 *   image-tool -r ROOT [-d DRIVER] load FILE|-
 *   image-tool -r ROOT [-d DRIVER] save [--oci] OUT REF...
 *   image-tool -r ROOT [-d DRIVER] import FILE|- [REF] [CHANGE...]
 *   image-tool -r ROOT [-d DRIVER] ls [FILTERS] | inspect REF | history REF
 *   image-tool -r ROOT [-d DRIVER] tag SRC DST | rm [-f] REF | prune [-a] | df
 *   image-tool -r ROOT [-d DRIVER] mount REF   (prints the rootfs; stays mounted)
 *   image-tool -r ROOT [-d DRIVER] umount REF
 * JSON results go to stdout; errors to stderr with exit status 1.
 */
#include <fcntl.h>
#include <getopt.h>

#include "driver/driver.h"
#include "image/image-internal.h"
#include "tar/tar-layer.h"

static void line(void *ud, const char *s)
{
        printf("%s\n", s);
}

static void dump(json_t *j)
{
        char *s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
        printf("%s\n", s);
        free(s);
        json_decref(j);
}

int main(int argc, char **argv)
{
        const char *root = NULL, *driver = "overlay2";
        int c;
        while ((c = getopt(argc, argv, "+r:d:")) != -1) {
                if (c == 'r')
                        root = optarg;
                else if (c == 'd')
                        driver = optarg;
                else
                        return 2;
        }
        if (!root || optind >= argc) {
                fprintf(stderr, "usage: image-tool -r ROOT [-d DRIVER] COMMAND ...\n");
                return 2;
        }
        const char *cmd = argv[optind++];
        char **args = argv + optind;
        int nargs = argc - optind;

        struct berth_config cfg;
        struct berth_err e = {0};
        config_init(&cfg);
        free(cfg.data_root);
        cfg.data_root = xstrdup(root);
        free(cfg.exec_root);
        cfg.exec_root = xasprintf("%s/run", root);
        const char *pd = getenv("BERTH_PLUGIN_DIR");
        if (pd) {
                free(cfg.plugin_dir);
                cfg.plugin_dir = xstrdup(pd);
        }
        struct driver *d = NULL;
        struct image_store *s = NULL;
        driver_set_layer_services(host_layer_unpack, host_layer_diff);
        int r = driver_load(&cfg, BERTH_KIND_STORAGE, driver, &d, &e);
        if (r == 0)
                r = image_store_open(root, d, &s, &e);
        if (r < 0)
                goto fail;

        json_t *j = NULL;
        if (streq(cmd, "load") && nargs == 1) {
                int fd = streq(args[0], "-") ? 0 : open(args[0], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        r = err_errno(&e, -errno, "open '%s'", args[0]);
                        goto fail;
                }
                r = image_load(s, fd, line, NULL, NULL, &e);
        } else if (streq(cmd, "save") && nargs >= 2) {
                uint32_t fmt = IMAGE_SAVE_DOCKER;
                if (streq(args[0], "--oci")) {
                        fmt = IMAGE_SAVE_OCI;
                        args++, nargs--;
                }
                int fd = streq(args[0], "-")
                             ? 1
                             : open(args[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        r = err_errno(&e, -errno, "open '%s'", args[0]);
                        goto fail;
                }
                r = image_save(s, (const char *const *)args + 1, fd, fmt, &e);
                if (fd != 1)
                        close(fd);
        } else if (streq(cmd, "import") && nargs >= 1) {
                int fd = streq(args[0], "-") ? 0 : open(args[0], O_RDONLY | O_CLOEXEC);
                char *id = NULL;
                if (fd < 0) {
                        r = err_errno(&e, -errno, "open '%s'", args[0]);
                        goto fail;
                }
                r = image_import(s, fd, nargs > 1 ? args[1] : NULL,
                                 nargs > 2 ? (const char *const *)args + 2 : NULL, NULL, &id, &e);
                if (r == 0)
                        printf("%s\n", id);
                free(id);
        } else if (streq(cmd, "ls")) {
                struct image_list_opts o = {.all = true, .filters = nargs ? args[0] : NULL};
                r = image_list(s, &o, &j, &e);
        } else if (streq(cmd, "inspect") && nargs == 1) {
                r = image_inspect(s, args[0], &j, &e);
        } else if (streq(cmd, "history") && nargs == 1) {
                r = image_history(s, args[0], &j, &e);
        } else if (streq(cmd, "tag") && nargs == 2) {
                r = image_tag(s, args[0], args[1], &e);
        } else if (streq(cmd, "rm") && nargs >= 1) {
                bool force = streq(args[0], "-f");
                r = image_remove(s, args[force ? 1 : 0], force, false, &j, &e);
        } else if (streq(cmd, "prune")) {
                r = image_prune(
                    s, nargs && streq(args[0], "-a") ? "{\"dangling\":[\"false\"]}" : NULL, &j, &e);
        } else if (streq(cmd, "df")) {
                r = image_df(s, &j, &e);
        } else if ((streq(cmd, "mount") || streq(cmd, "umount")) && nargs == 1) {
                char *cache = NULL;
                r = image_top_layer(s, args[0], &cache, &e);
                if (r == 0 && cache) {
                        char path[4096];
                        if (streq(cmd, "mount")) {
                                r = berth_storage_get(d, cache, NULL, 0, path, sizeof(path), &e);
                                if (r == 0)
                                        printf("%s\n", path);
                        } else
                                r = berth_storage_put(d, cache, 0, &e);
                }
                free(cache);
        } else {
                fprintf(stderr, "image-tool: unknown command or arguments: %s\n", cmd);
                r = 2;
        }
        if (r < 0)
                goto fail;
        if (j)
                dump(j);
        image_store_close(s);
        driver_unload(d);
        config_done(&cfg);
        return r;
fail:
        fprintf(stderr, "Error: %s\n", err_msg(&e));
        image_store_close(s);
        if (d)
                driver_unload(d);
        config_done(&cfg);
        return 1;
}
