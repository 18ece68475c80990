/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * docker-archive and OCI image-layout load and save.
 *
 * Load reads the (possibly compressed) outer tar once, spooling its files
 * into a private directory under the store's tmp/ and hashing each as it is
 * written: the stream is not seekable and docker save puts manifest.json
 * last. Symlinks and hard links between archive entries (older docker save
 * links identical layer.tar files) are kept as a table and resolved within
 * the archive, never on disk. Then, in two phases:
 *   1. check everything without touching the store: manifests and configs
 *      parse and carry the required fields, every blob matches its digest,
 *      every layer's uncompressed digest matches the config's diff ID;
 *   2. create the missing layers, the image records and the tags; on any
 *      failure, undo what this load created.
 * So a load adds all its images or none.
 */
#include "image-internal.h"
#include "tar/tar-layer.h"
#include "tar/tar-helper.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

struct spool {
        char *dir;
        json_t *hashes; /* path -> digest of its bytes */
        json_t *links;  /* path -> target ("/x": archive-absolute, from hard links) */
};

static void spool_done(struct spool *sp)
{
        if (sp->dir) {
                (void)rm_rf_path(sp->dir);
                free(sp->dir);
        }
        json_decref(sp->hashes);
        json_decref(sp->links);
}

/* Join and normalise within the archive root; -EXDEV if ".." climbs out. */
static int archive_norm(const char *base, const char *rel, char **ret)
{
        _cleanup_free_ char *all =
            base && rel[0] != '/' ? xasprintf("%s/%s", base, rel) : xstrdup(rel);
        _cleanup_strv_ char **parts = strv_split(all, "/");
        char **out = xzalloc(sizeof(char *));
        size_t n = 0;
        for (char **p = parts; *p; p++) {
                if (streq(*p, "."))
                        continue;
                if (streq(*p, "..")) {
                        if (n == 0) {
                                strv_free(out);
                                return -EXDEV;
                        }
                        free(out[--n]);
                        out[n] = NULL;
                        continue;
                }
                out = strv_push(out, xstrdup(*p));
                n++;
        }
        size_t len = 1;
        for (char **p = out; *p; p++)
                len += strlen(*p) + 1;
        char *s = xzalloc(len);
        for (char **p = out; *p; p++) {
                if (p != out)
                        strcat(s, "/");
                strcat(s, *p);
        }
        strv_free(out);
        *ret = s;
        return 0;
}

/* The spooled file a path of the archive names, following links. */
static int spool_resolve(struct spool *sp, const char *path, char **ret_clean,
                         struct berth_err *err)
{
        _cleanup_free_ char *cur = NULL;
        if (archive_norm(NULL, path, &cur) < 0 || path[0] == '/')
                return err_set(err, -EXDEV, "archive path '%s' points outside the archive", path);
        for (int depth = 0; depth < 16; depth++) {
                json_t *t = json_object_get(sp->links, cur);
                if (!t) {
                        if (!json_object_get(sp->hashes, cur))
                                return err_set(err, -ENOENT, "the archive has no file '%s'", path);
                        *ret_clean = TAKE_PTR(cur);
                        return 0;
                }
                const char *target = json_string_value(t);
                _cleanup_free_ char *dir = xstrdup(cur);
                char *slash = strrchr(dir, '/');
                if (slash)
                        *slash = '\0';
                char *next = NULL;
                if (archive_norm(target[0] == '/' ? NULL : (slash ? dir : NULL),
                                 target[0] == '/' ? target + 1 : target, &next) < 0)
                        return err_set(err, -EXDEV,
                                       "archive link '%s' -> '%s' points outside the archive", cur,
                                       target);
                free(cur);
                cur = next;
        }
        return err_set(err, -ELOOP, "archive path '%s': too many links", path);
}

static int spool_read(struct spool *sp, const char *path, size_t max, char **ret, size_t *ret_len,
                      char ret_digest[72], struct berth_err *err)
{
        _cleanup_free_ char *clean = NULL;
        int r = spool_resolve(sp, path, &clean, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *full = xasprintf("%s/f/%s", sp->dir, clean);
        struct stat st;
        if (stat(full, &st) < 0)
                return err_errno(err, -errno, "archive file '%s'", path);
        if ((size_t)st.st_size > max)
                return err_set(err, -EFBIG,
                               "archive file '%s' is %" PRId64 " bytes, more than the %zu allowed",
                               path, (int64_t)st.st_size, max);
        r = read_full_file(full, ret, ret_len);
        if (r < 0)
                return err_errno(err, r, "read archive file '%s'", path);
        if (ret_digest)
                snprintf(ret_digest, 72, "%s",
                         json_string_value(json_object_get(sp->hashes, clean)));
        return 0;
}

/* The helper writes the files under <dir>/f and says what it wrote. */
static int spool_archive(struct image_store *s, int fd, struct spool *sp, struct berth_err *err)
{
        int r;
        sp->hashes = json_object();
        sp->links = json_object();
        sp->dir = xasprintf("%s/load-XXXXXX", s->tmp);
        if (!mkdtemp(sp->dir)) {
                r = err_errno(err, -errno, "create '%s'", sp->dir);
                free(sp->dir);
                sp->dir = NULL;
                return r;
        }
        _cleanup_free_ char *files = xasprintf("%s/f", sp->dir);
        if (mkdir(files, 0700) < 0)
                return err_errno(err, -errno, "create '%s'", files);
        const char *args[] = {"spool", files, NULL};
        _cleanup_json_p_ json_t *res = NULL;
        r = tar_helper_run(args, &(struct tar_helper_io){.in = fd, .out = -1, .dir = -1}, &res,
                           err);
        if (r < 0)
                return r;
        json_t *h = json_object_get(res, "hashes"), *l = json_object_get(res, "links");
        if (!json_is_object(h) || !json_is_object(l))
                return err_set(err, -EPROTO, "the tar helper sent no table of the archive");
        json_object_update(sp->hashes, h);
        json_object_update(sp->links, l);
        return 0;
}

/* --- phase 1: what the archive holds ------------------------------------ */

struct load_image {
        char *config;
        size_t config_len;
        char id[72];
        char **tags;   /* full references */
        char **layers; /* uncompressed layer tar paths */
        char **diff_ids;
};

struct loader {
        struct image_store *s;
        struct spool sp;
        struct load_image *imgs;
        size_t n_imgs;
        json_t *prepared; /* archive path -> [tar path, diff id] */
};

static void loader_done(struct loader *l)
{
        for (size_t i = 0; i < l->n_imgs; i++) {
                free(l->imgs[i].config);
                strv_free(l->imgs[i].tags);
                strv_free(l->imgs[i].layers);
                strv_free(l->imgs[i].diff_ids);
        }
        free(l->imgs);
        json_decref(l->prepared);
        spool_done(&l->sp);
}

/* An uncompressed layer tar for archive path `path`, and its diff ID. */
/* An uncompressed layer tar for the file `full` (named `what` in messages):
 * the file itself if it is not compressed (its digest `hash` if known, else
 * computed), or a decompressed copy in the store's tmp/. */
static int layer_file_prepare(struct image_store *s, const char *full, const char *what,
                              const char *hash, bool must_copy, char **ret_tar, char ret_diff[72],
                              struct berth_err *err)
{
        unsigned char magic[6] = {0};
        {
                _cleanup_close_ int fd = open(full, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return err_errno(err, -errno, "open layer '%s'", what);
                (void)loop_read(fd, magic, sizeof(magic));
        }
        bool compressed =
            (magic[0] == 0x1f && magic[1] == 0x8b) ||
            (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) ||
            (magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') ||
            (magic[0] == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X');
        _cleanup_free_ char *tar = NULL;
        _cleanup_close_ int out = -1;
        if (!compressed && hash) {
                *ret_tar = xstrdup(full);
                snprintf(ret_diff, 72, "%s", hash);
                return 0;
        }
        if (compressed || must_copy) {
                out = store_tmpfile(s, "layer", &tar, err);
                if (out < 0)
                        return out;
        }
        _cleanup_close_ int in = open(full, O_RDONLY | O_CLOEXEC);
        int r;
        if (in < 0)
                r = err_errno(err, -errno, "open layer '%s'", what);
        else if (!compressed) {
                /* a plain tar: hashed (and copied) here */
                r = hash_fd(in, out, ret_diff, NULL);
                if (r < 0)
                        err_errno(err, r, "layer '%s': read", what);
        } else {
                _cleanup_free_ char *rm = xasprintf("layer '%s': cannot read", what);
                _cleanup_free_ char *dm = xasprintf("layer '%s': corrupt or truncated", what);
                _cleanup_free_ char *wm = xasprintf("layer '%s': write uncompressed copy", what);
                r = tar_decompress_run(in, out, rm, dm, wm, ret_diff, NULL, err);
        }
        if (r < 0) {
                if (tar)
                        unlink(tar);
                return r;
        }
        *ret_tar = tar ? TAKE_PTR(tar) : xstrdup(full);
        return 0;
}

static int prepare_layer(struct loader *l, const char *path, const char *expect_blob,
                         char **ret_tar, char ret_diff[72], struct berth_err *err)
{
        _cleanup_free_ char *clean = NULL;
        int r = spool_resolve(&l->sp, path, &clean, err);
        if (r < 0)
                return r;
        json_t *have = json_object_get(l->prepared, clean);
        if (have) {
                *ret_tar = xstrdup(json_string_value(json_array_get(have, 0)));
                strcpy(ret_diff, json_string_value(json_array_get(have, 1)));
                return 0;
        }
        const char *hash = json_string_value(json_object_get(l->sp.hashes, clean));
        if (expect_blob && !streq(hash, expect_blob))
                return err_set(
                    err, -EBADMSG,
                    "layer blob '%s' does not match its digest: expected %s, content is %s", path,
                    expect_blob, hash);
        _cleanup_free_ char *full = xasprintf("%s/f/%s", l->sp.dir, clean);
        char diff[72];
        _cleanup_free_ char *tar = NULL;
        r = layer_file_prepare(l->s, full, path, hash, false, &tar, diff, err);
        if (r < 0)
                return r;
        json_object_set_new(l->prepared, clean, json_pack("[s,s]", tar, diff));
        *ret_tar = TAKE_PTR(tar);
        strcpy(ret_diff, diff);
        return 0;
}

/* The part of a name like "<hex>.json" or "blobs/sha256/<hex>" that claims a digest. */
static bool name_claims_digest(const char *path, char ret[72])
{
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t n = strspn(base, "0123456789abcdef");
        if (n != 64 || !(base[64] == '\0' || streq(base + 64, ".json")))
                return false;
        snprintf(ret, 72, "sha256:%.64s", base);
        return true;
}

static int add_image(struct loader *l, const char *config_path, const char *expect_config,
                     json_t *layer_paths, json_t *layer_blobs, char **tags, struct berth_err *err)
{
        struct load_image li = {0};
        _cleanup_json_p_ json_t *cfg = NULL;
        _cleanup_free_ char *what = NULL;
        char dg[72], claim[72];
        int r =
            spool_read(&l->sp, config_path, IMAGE_JSON_MAX, &li.config, &li.config_len, dg, err);
        if (r < 0)
                goto fail;
        if ((expect_config && !streq(dg, expect_config)) ||
            (!expect_config && name_claims_digest(config_path, claim) && !streq(claim, dg))) {
                r = err_set(err, -EBADMSG,
                            "config '%s' does not match its digest: expected %s, content is %s",
                            config_path, expect_config ? expect_config : claim, dg);
                goto fail;
        }
        strcpy(li.id, dg);
        json_error_t je;
        cfg = json_loadb(li.config, li.config_len, JSON_REJECT_DUPLICATES, &je);
        if (!cfg) {
                r = err_set(err, -EBADMSG, "config '%s' is not JSON: %s (line %d)", config_path,
                            je.text, je.line);
                goto fail;
        }
        what = xasprintf("config '%s'", config_path);
        r = config_check(cfg, what, err);
        if (r < 0)
                goto fail;
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (json_array_size(ids) != json_array_size(layer_paths)) {
                r = err_set(err, -EBADMSG, "config '%s' lists %zu layers, the manifest %zu",
                            config_path, json_array_size(ids), json_array_size(layer_paths));
                goto fail;
        }
        li.layers = xzalloc(sizeof(char *));
        li.diff_ids = xzalloc(sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach (layer_paths, i, v) {
                if (!json_is_string(v)) {
                        r = err_set(err, -EBADMSG, "manifest: layer %zu is not a path", i);
                        goto fail;
                }
                char *tar = NULL;
                char diff[72];
                const char *blob =
                    layer_blobs ? json_string_value(json_array_get(layer_blobs, i)) : NULL;
                r = prepare_layer(l, json_string_value(v), blob, &tar, diff, err);
                if (r < 0)
                        goto fail;
                const char *want = json_string_value(json_array_get(ids, i));
                if (!streq(diff, want)) {
                        free(tar);
                        r = err_set(err, -EBADMSG,
                                    "layer '%s' does not match the config: its diff ID is %s, the "
                                    "config says %s",
                                    json_string_value(v), diff, want);
                        goto fail;
                }
                li.layers = strv_push(li.layers, tar);
                li.diff_ids = strv_push(li.diff_ids, xstrdup(diff));
        }
        li.tags = tags;
        l->imgs = xrealloc(l->imgs, (l->n_imgs + 1) * sizeof(*l->imgs));
        l->imgs[l->n_imgs++] = li;
        return 0;
fail:
        free(li.config);
        strv_free(li.layers);
        strv_free(li.diff_ids);
        strv_free(tags);
        return r;
}

static int parse_tags(json_t *arr, char ***ret, struct berth_err *err)
{
        char **tags = xzalloc(sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                struct image_ref ref;
                int r = json_is_string(v) ? image_ref_parse(json_string_value(v), &ref, err)
                                          : err_set(err, -EINVAL, "not a string");
                if (r < 0) {
                        strv_free(tags);
                        return err_wrap(err, r, "invalid RepoTags entry");
                }
                if (ref.digest) {
                        image_ref_done(&ref);
                        continue;
                }
                tags = strv_push(tags, image_ref_full(&ref));
                image_ref_done(&ref);
        }
        *ret = tags;
        return 0;
}

static int read_docker_archive(struct loader *l, struct berth_err *err)
{
        _cleanup_free_ char *txt = NULL;
        size_t len;
        int r = spool_read(&l->sp, "manifest.json", IMAGE_JSON_MAX, &txt, &len, NULL, err);
        if (r < 0)
                return r;
        json_error_t je;
        _cleanup_json_p_ json_t *m = json_loadb(txt, len, 0, &je);
        if (!m)
                return err_set(err, -EBADMSG, "manifest.json is not JSON: %s (line %d)", je.text,
                               je.line);
        if (!json_is_array(m) || json_array_size(m) == 0)
                return err_set(err, -EBADMSG, "manifest.json is not a non-empty array");
        size_t i;
        json_t *e;
        json_array_foreach (m, i, e) {
                json_t *cfg = json_object_get(e, "Config");
                json_t *layers = json_object_get(e, "Layers");
                json_t *tags = json_object_get(e, "RepoTags");
                if (!json_is_string(cfg))
                        return err_set(err, -EBADMSG,
                                       "manifest.json entry %zu lacks the required field 'Config'",
                                       i);
                if (!json_is_array(layers))
                        return err_set(err, -EBADMSG,
                                       "manifest.json entry %zu lacks the required field 'Layers'",
                                       i);
                if (tags && !json_is_array(tags) && !json_is_null(tags))
                        return err_set(err, -EBADMSG,
                                       "manifest.json entry %zu: 'RepoTags' is not an array", i);
                char **t = NULL;
                r = parse_tags(tags, &t, err);
                if (r < 0)
                        return r;
                r = add_image(l, json_string_value(cfg), NULL, layers, NULL, t, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *host_arch(void)
{
        struct utsname u;
        static char arch[32];
        if (uname(&u) < 0)
                return "amd64";
        if (streq(u.machine, "x86_64"))
                return "amd64";
        if (streq(u.machine, "aarch64"))
                return "arm64";
        snprintf(arch, sizeof(arch), "%s", u.machine);
        return arch;
}

static int oci_blob_json(struct loader *l, json_t *desc, const char *what, json_t **ret,
                         struct berth_err *err)
{
        const char *dg = json_string_value(json_object_get(desc, "digest"));
        if (!digest_valid(dg))
                return err_set(err, -EBADMSG, "%s: descriptor without a valid sha256 digest", what);
        _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", digest_hex(dg));
        _cleanup_free_ char *txt = NULL;
        size_t len;
        char have[72];
        int r = spool_read(&l->sp, p, IMAGE_JSON_MAX, &txt, &len, have, err);
        if (r < 0)
                return r;
        if (!streq(have, dg))
                return err_set(err, -EBADMSG,
                               "%s blob %s does not match its digest (content is %s)", what, dg,
                               have);
        json_error_t je;
        *ret = json_loadb(txt, len, 0, &je);
        if (!*ret)
                return err_set(err, -EBADMSG, "%s %s is not JSON: %s", what, dg, je.text);
        return 0;
}

static int read_oci_index(struct loader *l, json_t *index, int depth, struct berth_err *err);

static int read_oci_manifest(struct loader *l, json_t *desc, struct berth_err *err)
{
        _cleanup_json_p_ json_t *m = NULL;
        int r = oci_blob_json(l, desc, "manifest", &m, err);
        if (r < 0)
                return r;
        json_t *cfg = json_object_get(m, "config");
        json_t *layers = json_object_get(m, "layers");
        if (!json_is_object(cfg) ||
            !digest_valid(json_string_value(json_object_get(cfg, "digest"))))
                return err_set(err, -EBADMSG, "manifest lacks the required field 'config'");
        if (!json_is_array(layers))
                return err_set(err, -EBADMSG, "manifest lacks the required field 'layers'");
        json_t *paths = json_array(), *blobs = json_array();
        size_t i;
        json_t *d;
        json_array_foreach (layers, i, d) {
                const char *ld = json_string_value(json_object_get(d, "digest"));
                if (!digest_valid(ld)) {
                        json_decref(paths);
                        json_decref(blobs);
                        return err_set(err, -EBADMSG, "manifest: layer %zu has no valid digest", i);
                }
                json_array_append_new(paths, json_sprintf("blobs/sha256/%s", digest_hex(ld)));
                json_array_append_new(blobs, json_string(ld));
        }
        /* the name: containerd's full-name annotation, or a ref.name that is a reference */
        json_t *ann = json_object_get(desc, "annotations");
        const char *name = json_string_value(json_object_get(ann, "io.containerd.image.name"));
        const char *refname =
            json_string_value(json_object_get(ann, "org.opencontainers.image.ref.name"));
        if (!name && refname && (strchr(refname, ':') || strchr(refname, '/')))
                name = refname;
        char **tags = xzalloc(sizeof(char *));
        struct image_ref ref;
        if (name && image_ref_parse(name, &ref, NULL) == 0) {
                if (!ref.digest)
                        tags = strv_push(tags, image_ref_full(&ref));
                image_ref_done(&ref);
        }
        _cleanup_free_ char *cpath = xasprintf(
            "blobs/sha256/%s", digest_hex(json_string_value(json_object_get(cfg, "digest"))));
        r = add_image(l, cpath, json_string_value(json_object_get(cfg, "digest")), paths, blobs,
                      tags, err);
        json_decref(paths);
        json_decref(blobs);
        return r;
}

static int read_oci_index(struct loader *l, json_t *index, int depth, struct berth_err *err)
{
        json_t *ms = json_object_get(index, "manifests");
        if (!json_is_array(ms))
                return err_set(err, -EBADMSG, "index lacks the required field 'manifests'");
        if (depth > 4)
                return err_set(err, -ELOOP, "indexes nested too deep");
        size_t i;
        json_t *d;
        int found = 0;
        json_array_foreach (ms, i, d) {
                const char *mt = json_string_value(json_object_get(d, "mediaType"));
                int r;
                if (mt &&
                    (streq(mt, "application/vnd.oci.image.index.v1+json") ||
                     streq(mt, "application/vnd.docker.distribution.manifest.list.v2+json"))) {
                        _cleanup_json_p_ json_t *sub = NULL;
                        r = oci_blob_json(l, d, "index", &sub, err);
                        if (r < 0)
                                return r;
                        /* a nested index inherits the outer name */
                        json_t *ann = json_object_get(d, "annotations");
                        json_t *sms = json_object_get(sub, "manifests");
                        size_t j;
                        json_t *sd;
                        json_array_foreach (sms, j, sd) {
                                if (ann && !json_object_get(sd, "annotations"))
                                        json_object_set(sd, "annotations", ann);
                        }
                        r = read_oci_index(l, sub, depth + 1, err);
                        if (r < 0)
                                return r;
                        found++;
                        continue;
                }
                json_t *plat = json_object_get(d, "platform");
                if (plat) {
                        const char *os = json_string_value(json_object_get(plat, "os"));
                        const char *arch = json_string_value(json_object_get(plat, "architecture"));
                        if ((os && !streq(os, "linux")) || (arch && !streq(arch, host_arch())))
                                continue; /* another platform's manifest */
                }
                r = read_oci_manifest(l, d, err);
                if (r < 0)
                        return r;
                found++;
        }
        if (!found && depth == 0)
                return err_set(err, -ENOENT, "the OCI layout has no image for linux/%s",
                               host_arch());
        return 0;
}

static int read_oci_layout(struct loader *l, struct berth_err *err)
{
        _cleanup_free_ char *txt = NULL;
        size_t len;
        int r = spool_read(&l->sp, "index.json", IMAGE_JSON_MAX, &txt, &len, NULL, err);
        if (r < 0)
                return r;
        json_error_t je;
        _cleanup_json_p_ json_t *idx = json_loadb(txt, len, 0, &je);
        if (!idx)
                return err_set(err, -EBADMSG, "index.json is not JSON: %s (line %d)", je.text,
                               je.line);
        return read_oci_index(l, idx, 0, err);
}

/* --- phase 2 ------------------------------------------------------------- */

static void emit(json_t *results, image_progress_fn progress, void *ud, const char *fmt, ...)
    _printf_(4, 5);
static void emit(json_t *results, image_progress_fn progress, void *ud, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *line = NULL;
        if (vasprintf(&line, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (progress)
                progress(ud, line);
        json_array_append_new(results, json_string(line));
}

/* Phase 2: layers, image records, then names; on failure undo what this
 * call created. Called with the lock held. */
static int commit_images(struct image_store *s, struct load_image *imgs, size_t n_imgs,
                         json_t *results, image_progress_fn progress, void *userdata,
                         struct berth_err *err)
{
        struct layer **made_layers = NULL;
        size_t n_made_layers = 0;
        struct image **made_images = NULL;
        size_t n_made_images = 0;
        int r = 0;

        for (size_t i = 0; i < n_imgs; i++) {
                struct load_image *li = &imgs[i];
                char parent[72] = "";
                for (size_t k = 0; li->layers[k]; k++) {
                        struct layer *ly;
                        bool created;
                        _cleanup_free_ char *bp = blob_path(s, li->diff_ids[k]);
                        const char *src = access(bp, F_OK) == 0 ? bp : li->layers[k];
                        r = layer_add(s, src, li->diff_ids[k], parent[0] ? parent : NULL, &ly,
                                      &created, err);
                        if (r < 0)
                                goto fail;
                        if (created) {
                                made_layers = xrealloc(made_layers,
                                                       (n_made_layers + 1) * sizeof(*made_layers));
                                made_layers[n_made_layers++] = ly;
                        }
                        strcpy(parent, ly->chain_id);
                }
                bool existed = image_find(s, li->id) != NULL;
                struct image *img;
                r = image_commit(s, li->config, li->config_len, NULL, &img, err);
                if (r < 0)
                        goto fail;
                if (!existed) {
                        made_images =
                            xrealloc(made_images, (n_made_images + 1) * sizeof(*made_images));
                        made_images[n_made_images++] = img;
                }
        }
        /* all images are in: now the names */
        for (size_t i = 0; i < n_imgs; i++) {
                struct load_image *li = &imgs[i];
                for (char **t = li->tags; t && *t; t++) {
                        const char *old = json_string_value(json_object_get(s->refs, *t));
                        _cleanup_free_ char *fam = image_ref_familiar(*t);
                        if (old && !streq(old, li->id) && !strchr(*t, '@'))
                                emit(results, progress, userdata,
                                     "The image %s already exists, renaming the old one with ID "
                                     "%s to empty string",
                                     fam, old);
                        ref_set(s, *t, li->id, NULL);
                }
        }
        r = refs_save(s, err);
        if (r < 0)
                goto fail;
        free(made_layers);
        free(made_images);
        return 0;
fail:
        for (size_t i = n_made_images; i-- > 0;) {
                const char *k;
                json_t *v, *tmp;
                json_object_foreach_safe (s->refs, tmp, k, v) {
                        if (streq(json_string_value(v), made_images[i]->id))
                                json_object_del(s->refs, k);
                }
                (void)image_delete(s, made_images[i], NULL, NULL);
        }
        for (size_t i = n_made_layers; i-- > 0;) {
                bool alive = false;
                for (size_t j = 0; j < s->n_layers; j++)
                        alive |= s->layers[j] == made_layers[i];
                if (alive && made_layers[i]->refs == 0)
                        (void)layer_delete(s, made_layers[i], NULL);
        }
        free(made_layers);
        free(made_images);
        return r;
}

int image_load(struct image_store *s, int tar_fd, image_progress_fn progress, void *userdata,
               json_t **ret_results, struct berth_err *err)
{
        struct loader l = {.s = s, .prepared = json_object()};
        json_t *results = json_array();
        bool locked = false;
        int r;

        /* spool and check without the lock: only commit_images() touches
         * the shared state, so listing stays responsive during a long load */
        r = spool_archive(s, tar_fd, &l.sp, err);
        if (r < 0)
                goto out;
        if (json_object_get(l.sp.hashes, "manifest.json"))
                r = read_docker_archive(&l, err);
        else if (json_object_get(l.sp.hashes, "index.json"))
                r = read_oci_layout(&l, err);
        else
                r = err_set(err, -EBADMSG,
                            "not an image archive: neither manifest.json (docker save) nor "
                            "index.json (OCI layout) found");
        if (r < 0)
                goto out;
        pthread_mutex_lock(&s->lock);
        locked = true;
        r = commit_images(s, l.imgs, l.n_imgs, results, progress, userdata, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < l.n_imgs; i++) {
                struct load_image *li = &l.imgs[i];
                if (!li->tags || !li->tags[0])
                        emit(results, progress, userdata, "Loaded image ID: %s", li->id);
                for (char **t = li->tags; t && *t; t++) {
                        _cleanup_free_ char *fam = image_ref_familiar(*t);
                        emit(results, progress, userdata, "Loaded image: %s", fam);
                }
        }
out:
        loader_done(&l);
        if (locked)
                pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                json_decref(results);
                return err_wrap(err, r, "load");
        }
        if (ret_results)
                *ret_results = results;
        else
                json_decref(results);
        return 0;
}

int image_store_tmpfile(struct image_store *s, char **ret_path, struct berth_err *err)
{
        return store_tmpfile(s, "add", ret_path, err);
}

int image_add(struct image_store *s, const char *config, size_t config_len,
              const char *const *layer_paths, const char *const *names, char **ret_id,
              struct berth_err *err)
{
        struct load_image li = {0};
        int r;
        json_error_t je;
        _cleanup_json_p_ json_t *cfg = json_loadb(config, config_len, JSON_REJECT_DUPLICATES, &je);
        if (!cfg)
                return err_set(err, -EBADMSG, "image config is not JSON: %s (line %d)", je.text,
                               je.line);
        r = config_check(cfg, "image config", err);
        if (r < 0)
                return r;
        json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        size_t n = strv_length((char **)layer_paths);
        if (json_array_size(ids) != n)
                return err_set(err, -EBADMSG, "image config lists %zu layers, %zu were given",
                               json_array_size(ids), n);
        li.tags = xzalloc(sizeof(char *));
        for (const char *const *t = names; t && *t; t++) {
                struct image_ref ref;
                r = image_ref_parse(*t, &ref, err);
                if (r < 0) {
                        strv_free(li.tags);
                        return r;
                }
                li.tags = strv_push(li.tags, image_ref_full(&ref));
                image_ref_done(&ref);
        }
        sha256_digest(config, config_len, li.id);
        li.config = xmalloc(config_len);
        memcpy(li.config, config, config_len);
        li.config_len = config_len;
        li.layers = xzalloc(sizeof(char *));
        li.diff_ids = xzalloc(sizeof(char *));
        json_t *results = json_array();
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < n; i++) {
                char *tar = NULL, diff[72];
                /* a file outside the store's tmp/ is the caller's: copy it */
                bool ours = startswith(layer_paths[i], s->tmp) != NULL &&
                            layer_paths[i][strlen(s->tmp)] == '/';
                r = layer_file_prepare(s, layer_paths[i], layer_paths[i], NULL, !ours, &tar, diff,
                                       err);
                if (r < 0)
                        goto out;
                li.layers = strv_push(li.layers, tar);
                li.diff_ids = strv_push(li.diff_ids, xstrdup(diff));
                const char *want = json_string_value(json_array_get(ids, i));
                if (!streq(diff, want)) {
                        r = err_set(err, -EBADMSG,
                                    "layer '%s' does not match the config: its diff ID is %s, "
                                    "the config says %s",
                                    layer_paths[i], diff, want);
                        goto out;
                }
        }
        r = commit_images(s, &li, 1, results, NULL, NULL, err);
        if (r == 0 && ret_id)
                *ret_id = xstrdup(li.id);
out:
        /* decompressed copies that were not adopted into the store */
        for (size_t i = 0; li.layers[i]; i++)
                if (!streq(li.layers[i], layer_paths[i]))
                        unlink(li.layers[i]);
        pthread_mutex_unlock(&s->lock);
        json_decref(results);
        free(li.config);
        strv_free(li.tags);
        strv_free(li.layers);
        strv_free(li.diff_ids);
        return r;
}

/* --- save ----------------------------------------------------------------- */

/* An entry of a tar plan (tar-archive.h): a directory (key NULL), or a
 * "file" path or inline "data" (taken, freed here). -1 if the entry could
 * not be made (take is NULL: its JSON could not be encoded). */
static int plan_add(json_t *plan, const char *name, const char *key, char *take)
{
        int r = json_array_append_new(plan, key ? json_pack("{s:s, s:s}", "name", name, key, take)
                                                : json_pack("{s:s, s:b}", "name", name, "dir", 1));
        free(take);
        return r;
}

static json_t *oci_manifest_for(struct image_store *s, struct image *img)
{
        struct stat st;
        _cleanup_free_ char *cp = blob_path(s, img->id);
        json_int_t csize = stat(cp, &st) == 0 ? (json_int_t)st.st_size : 0;
        json_t *layers = json_array();
        for (char **c = img->chain; *c; c++) {
                struct layer *l = layer_find(s, *c);
                _cleanup_free_ char *lp = blob_path(s, l->diff_id);
                json_int_t lsize = stat(lp, &st) == 0 ? (json_int_t)st.st_size : 0;
                json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
                                                        "application/vnd.oci.image.layer.v1.tar",
                                                        "digest", l->diff_id, "size", lsize));
        }
        return json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                         "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                         "application/vnd.oci.image.config.v1+json", "digest", img->id, "size",
                         csize, "layers", layers);
}

int image_save(struct image_store *s, const char *const *refs, int out_fd, uint32_t format,
               struct berth_err *err)
{
        if (format != IMAGE_SAVE_DOCKER && format != IMAGE_SAVE_OCI)
                return err_set(err, -EINVAL, "save: unknown format %u", format);
        if (!refs || !refs[0])
                return err_set(err, -EINVAL, "save: no image given");
        int r = 0;
        pthread_mutex_lock(&s->lock);
        /* resolve first: a missing name fails before any byte is written */
        struct image **imgs = xzalloc(sizeof(*imgs) * (strv_length((char **)refs) + 1));
        char **names = xzalloc(sizeof(char *) * (strv_length((char **)refs) + 1));
        size_t n = 0;
        for (size_t i = 0; refs[i]; i++) {
                struct image *img;
                r = image_resolve_locked(s, refs[i], &img, err);
                if (r < 0)
                        goto out_unlocked_free;
                imgs[n] = img;
                /* a name (not an ID or digest) is kept as a tag */
                struct image_ref ref;
                const char *id_part = startswith(refs[i], "sha256:") ? refs[i] + 7 : refs[i];
                bool is_id = strncmp(img->id + 7, id_part, strlen(id_part)) == 0;
                if (!is_id && image_ref_parse(refs[i], &ref, NULL) == 0) {
                        if (!ref.digest)
                                names[n] = image_ref_full(&ref);
                        image_ref_done(&ref);
                }
                n++;
        }
        json_t *seen = json_object();
        json_t *manifest = json_array();
        json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                  "application/vnd.oci.image.index.v1+json", "manifests");
        /* berth-tar writes the tar from a plan of it (tar_write_plan) */
        json_t *plan = json_array();
        bool unencodable = false;
        plan_add(plan, "blobs/", NULL, NULL);
        plan_add(plan, "blobs/sha256/", NULL, NULL);
        for (size_t i = 0; i < n; i++) {
                struct image *img = imgs[i];
                json_t *mlayers = json_array();
                for (char **c = img->chain; *c; c++) {
                        struct layer *l = layer_find(s, *c);
                        _cleanup_free_ char *name =
                            xasprintf("blobs/sha256/%s", digest_hex(l->diff_id));
                        json_array_append_new(mlayers, json_string(name));
                        if (json_object_get(seen, l->diff_id))
                                continue;
                        json_object_set_new(seen, l->diff_id, json_true());
                        plan_add(plan, name, "file", blob_path(s, l->diff_id));
                }
                _cleanup_free_ char *cname = xasprintf("blobs/sha256/%s", digest_hex(img->id));
                if (!json_object_get(seen, img->id)) {
                        json_object_set_new(seen, img->id, json_true());
                        plan_add(plan, cname, "file", blob_path(s, img->id));
                }
                json_t *om = oci_manifest_for(s, img);
                _cleanup_free_ char *omtxt = json_dumps(om, JSON_COMPACT);
                json_decref(om);
                if (!omtxt) {
                        unencodable = true;
                        break;
                }
                char mdg[72];
                sha256_digest(omtxt, strlen(omtxt), mdg);
                _cleanup_free_ char *mname = xasprintf("blobs/sha256/%s", digest_hex(mdg));
                if (!json_object_get(seen, mdg)) {
                        json_object_set_new(seen, mdg, json_true());
                        plan_add(plan, mname, "data", xstrdup(omtxt));
                }
                json_t *desc = json_pack("{s:s, s:s, s:I}", "mediaType",
                                         "application/vnd.oci.image.manifest.v1+json", "digest",
                                         mdg, "size", (json_int_t)strlen(omtxt));
                json_t *tags = json_array();
                if (names[i]) {
                        _cleanup_free_ char *fam = image_ref_familiar(names[i]);
                        const char *colon = strrchr(names[i], ':');
                        json_object_set_new(desc, "annotations",
                                            json_pack("{s:s, s:s}", "io.containerd.image.name",
                                                      names[i], "org.opencontainers.image.ref.name",
                                                      colon ? colon + 1 : "latest"));
                        json_array_append_new(tags, json_string(fam));
                }
                json_array_append_new(json_object_get(index, "manifests"), desc);
                json_array_append_new(manifest, json_pack("{s:s, s:o, s:o}", "Config", cname,
                                                          "RepoTags", tags, "Layers", mlayers));
        }
        plan_add(plan, "oci-layout", "data", xstrdup("{\"imageLayoutVersion\":\"1.0.0\"}"));
        if (plan_add(plan, "index.json", "data", json_dumps(index, JSON_COMPACT)) < 0)
                unencodable = true;
        if (format == IMAGE_SAVE_DOCKER &&
            plan_add(plan, "manifest.json", "data", json_dumps(manifest, JSON_COMPACT)) < 0)
                unencodable = true;
        char *txt = unencodable ? NULL : json_dumps(plan, JSON_COMPACT);
        json_decref(plan);
        const char *args[] = {"save", NULL};
        r = txt ? tar_helper_run(
                      args,
                      &(struct tar_helper_io){.in = -1, .out = out_fd, .dir = -1, .input = txt},
                      NULL, err)
                : err_set(err, -EINVAL, "cannot encode the archive's manifests");
        free(txt);
        json_decref(seen);
        json_decref(manifest);
        json_decref(index);
out_unlocked_free:
        pthread_mutex_unlock(&s->lock);
        free(imgs);
        for (size_t i = 0; i < n + 1; i++)
                free(names[i]);
        free(names);
        return r < 0 ? err_wrap(err, r, "save") : 0;
}
