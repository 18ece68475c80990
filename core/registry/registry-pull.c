/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pull: manifest negotiation, layers downloaded several at a time with
 * their digests checked as they stream, applied in order behind them. */
#include "registry-internal.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <zlib.h>

#include "image/image.h"
#include "tar/tar-helper.h"

#define OUTBUF (256u * 1024)

static const char *const manifest_accept[] = {
    "Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST, NULL};

enum { DL_PENDING, DL_RUNNING, DL_DONE, DL_FAILED };

struct pull;

struct layer_dl {
        struct pull *p;
        char *digest, *media, *diff_id;
        int64_t size;
        char id[13];
        bool skip; /* the store has the layer */
        bool gz;
        bool zstd; /* spooled as it comes, decompressed by berth-tar after the digest check */
        int state;
        int r;
        struct berth_err err;
        struct berth_err sink_err; /* why the sink stopped the transfer */
        bool z_broken;             /* not gzip: told after the digest check */
        char *tar;
        int fd;
        EVP_MD_CTX *bh, *dh;
        z_stream z;
        bool z_init, z_end;
        bool fresh, bad;
        int64_t got;
        int64_t written, flushed; /* bytes of the tar written, and handed to writeback */
        int64_t last_emit;
        unsigned char *out;
};

struct pull {
        struct reg *rg;
        const char *path; /* repository path */
        registry_progress_fn fn;
        void *ud;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct layer_dl *l;
        size_t n;
        volatile bool abort;
        int retries;
};

static void emit(struct pull *p, json_t *m)
{
        if (!p->fn) {
                json_decref(m);
                return;
        }
        pthread_mutex_lock(&p->lock);
        if (p->fn(p->ud, m) < 0 && !p->abort) {
                /* nobody to pull for any more */
                p->abort = true;
                pthread_cond_broadcast(&p->cond);
        }
        pthread_mutex_unlock(&p->lock);
}

static void digest_final(EVP_MD_CTX *c, char ret[72])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(c, md, &n);
        strcpy(ret, "sha256:");
        for (int i = 0; i < 32; i++)
                sprintf(ret + 7 + 2 * i, "%02x", md[i]);
}

static void sha256_of(const void *p, size_t n, char ret[72])
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        EVP_DigestInit_ex(c, EVP_sha256(), NULL);
        EVP_DigestUpdate(c, p, n);
        digest_final(c, ret);
        EVP_MD_CTX_free(c);
}

static bool digest_ok(const char *d)
{
        const char *h = d ? startswith(d, "sha256:") : NULL;
        return h && strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

/* --- one layer ----------------------------------------------------------- */

static int dl_reset(struct layer_dl *d)
{
        EVP_DigestInit_ex(d->bh, EVP_sha256(), NULL);
        EVP_DigestInit_ex(d->dh, EVP_sha256(), NULL);
        if (d->gz)
                inflateReset(&d->z);
        d->z_end = false;
        d->z_broken = false;
        d->got = 0;
        d->written = d->flushed = 0;
        if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0)
                return -errno;
        return 0;
}

/* Write uncompressed bytes to the tar, starting writeback every few MiB
 * so that the disk works while the download goes on and the fdatasync at
 * the end has little left to wait for. */
static int dl_write(struct layer_dl *d, const void *p, size_t n)
{
        int r = loop_write(d->fd, p, n);
        if (r < 0)
                return r;
        d->written += (int64_t)n;
        if (d->written - d->flushed >= (4 << 20)) {
                (void)sync_file_range(d->fd, d->flushed, d->written - d->flushed,
                                      SYNC_FILE_RANGE_WRITE);
                d->flushed = d->written;
        }
        return 0;
}

static size_t dl_bad(struct layer_dl *d, int code, const char *fmt, const char *arg)
{
        d->bad = true;
        err_set(&d->sink_err, code, fmt, d->digest, arg);
        return 0;
}

static size_t dl_sink(void *ud, const char *p, size_t n, long status)
{
        struct layer_dl *d = ud;
        if (d->p->abort)
                return 0;
        if (d->fresh) {
                d->fresh = false;
                /* a whole body where we asked for the rest: start over */
                if (status == 200 && d->got > 0 && dl_reset(d) < 0)
                        return dl_bad(d, -EIO, "layer %s: cannot rewind the download%s", "");
        }
        if (d->got + (int64_t)n > d->size)
                return dl_bad(d, -EBADMSG, "layer %s: the registry sent more bytes than its size%s",
                              "");
        EVP_DigestUpdate(d->bh, p, n);
        d->got += (int64_t)n;
        if (!d->gz) {
                /* uncompressed: the blob digest is the diff ID */
                if (dl_write(d, p, n) < 0)
                        return dl_bad(d, -errno, "layer %s: write%s", "");
        } else {
                d->z.next_in = (unsigned char *)p;
                d->z.avail_in = (unsigned)n;
                while (d->z.avail_in > 0 && !d->z_broken) {
                        if (d->z_end) {
                                /* another gzip member follows */
                                inflateReset(&d->z);
                                d->z_end = false;
                        }
                        d->z.next_out = d->out;
                        d->z.avail_out = OUTBUF;
                        int zr = inflate(&d->z, Z_NO_FLUSH);
                        if (zr == Z_STREAM_END)
                                d->z_end = true;
                        else if (zr != Z_OK && zr != Z_BUF_ERROR) {
                                /* go on hashing: a blob that does not match its
                                 * digest is reported as that */
                                d->z_broken = true;
                                break;
                        }
                        size_t out = OUTBUF - d->z.avail_out;
                        if (out > 0) {
                                EVP_DigestUpdate(d->dh, d->out, out);
                                if (dl_write(d, d->out, out) < 0)
                                        return dl_bad(d, -errno, "layer %s: write%s", "");
                        } else if (zr == Z_BUF_ERROR)
                                break;
                }
        }
        int64_t now = monotonic_ns();
        if (now - d->last_emit > 100000000 || d->got == d->size) {
                d->last_emit = now;
                emit(d->p, reg_progress(d->id, "Downloading", d->got, d->size));
        }
        return n;
}

static int dl_abort(void *ud)
{
        struct layer_dl *d = ud;
        return d->p->abort;
}

/* The spooled zstd blob, decompressed by berth-tar (libarchive) into a new
 * temp file that takes its place; the tar's digest in diff. */
static int unzstd(struct layer_dl *d, char diff[72])
{
        struct berth_err *err = &d->err;
        _cleanup_free_ char *tar = NULL;
        _cleanup_close_ int fd = rstore_tmpfile("layer", &tar, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ char *rm = xasprintf("layer %s: cannot read", d->digest);
        _cleanup_free_ char *dm = xasprintf("layer %s: not valid zstd data", d->digest);
        _cleanup_free_ char *wm = xasprintf("layer %s: write", d->digest);
        int r = lseek(d->fd, 0, SEEK_SET) < 0
                    ? err_errno(err, -errno, "layer %s: rewind", d->digest)
                    : tar_decompress_run(d->fd, fd, rm, dm, wm, diff, NULL, err);
        if (r < 0) {
                unlink(tar);
                return r;
        }
        unlink(d->tar);
        free(d->tar);
        d->tar = TAKE_PTR(tar);
        safe_close(d->fd);
        d->fd = TAKE_FD(fd);
        return 0;
}

static int download(struct layer_dl *d)
{
        struct pull *p = d->p;
        struct berth_err *err = &d->err;
        d->fd = rstore_tmpfile("layer", &d->tar, err);
        if (d->fd < 0)
                return d->fd;
        d->bh = EVP_MD_CTX_new();
        d->dh = EVP_MD_CTX_new();
        d->out = xmalloc(OUTBUF);
        if (d->gz) {
                if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
                        return err_set(err, -ENOMEM, "zlib: cannot start inflate");
                d->z_init = true;
                /* the blob's sha256 and the diff ID check every byte already:
                 * gzip's own CRC would be a third pass */
                (void)inflateValidate(&d->z, 0);
        }
        int r = dl_reset(d);
        if (r < 0)
                return err_errno(err, r, "layer %s: truncate", d->digest);
        _cleanup_free_ char *url = xasprintf("/v2/%s/blobs/%s", p->path, d->digest);
        for (int attempt = 0;; attempt++) {
                struct reg_resp resp = {0};
                struct reg_req q = {.method = "GET",
                                    .url = url,
                                    .body_fd = -1,
                                    .sink = dl_sink,
                                    .sink_ud = d,
                                    .abort_fn = dl_abort,
                                    .range_from = d->got};
                d->fresh = true;
                err_clear(err);
                r = reg_do(p->rg, &q, &resp, err);
                if (d->bad) {
                        reg_resp_done(&resp);
                        *err = d->sink_err;
                        return err->code;
                }
                if (p->abort) {
                        reg_resp_done(&resp);
                        return err_set(err, -ECANCELED, "cancelled");
                }
                if (r == 0 && resp.status == 416) {
                        /* the rest we asked for is not there: all again */
                        reg_resp_done(&resp);
                        if (dl_reset(d) < 0)
                                return err_errno(err, -errno, "layer %s: truncate", d->digest);
                        r = err_set(err, -EIO, "layer %s: range not satisfiable", d->digest);
                } else if (r == 0 && resp.status != 200 && resp.status != 206) {
                        _cleanup_free_ char *what = xasprintf("layer %s", d->digest);
                        long status = resp.status;
                        r = reg_http_error(&resp, what, err);
                        reg_resp_done(&resp);
                        if (status < 500) /* a server error may pass: try again */
                                return r;
                } else if (r == 0) {
                        reg_resp_done(&resp);
                        if (d->got == d->size)
                                break;
                        r = err_set(err, -EIO, "layer %s: the registry sent %lld of %lld bytes",
                                    d->digest, (long long)d->got, (long long)d->size);
                } else if (r != -ETIMEDOUT && r != -ECONNREFUSED && r != -EIO)
                        return r;
                if (attempt >= p->retries)
                        return err_wrap(err, r, "after %d attempts", attempt + 1);
                /* back off (0.2, 0.4, 0.8 s ...), then resume where it broke */
                int64_t wait = 200000000LL << (attempt < 5 ? attempt : 5);
                emit(p, reg_progress(d->id, "Retrying", -1, -1));
                for (int64_t t = 0; t < wait && !p->abort; t += 20000000) {
                        usleep(20000);
                        reg_heartbeat();
                }
        }
        char blob[72], diff[72];
        digest_final(d->bh, blob);
        if (!streq(blob, d->digest))
                return err_set(err, -EBADMSG,
                               "filesystem layer verification failed for digest %s: the blob's "
                               "content is %s",
                               d->digest, blob);
        if (d->gz && (d->z_broken || !d->z_end))
                return err_set(err, -EBADMSG, "layer %s: not valid gzip data%s", d->digest,
                               d->z_broken ? "" : " (it ends early)");
        emit(p, reg_progress(d->id, "Verifying Checksum", -1, -1));
        if (d->gz)
                digest_final(d->dh, diff);
        else if (d->zstd) {
                r = unzstd(d, diff);
                if (r < 0)
                        return r;
        } else
                strcpy(diff, blob);
        if (!streq(diff, d->diff_id))
                return err_set(err, -EBADMSG,
                               "layer %s: its content (diff ID %s) is not the layer the image "
                               "config names (%s)",
                               d->digest, diff, d->diff_id);
        /* flushed here, in parallel with the other downloads, so that the
         * store's fsync when it adopts the tar (in order, one at a time)
         * finds nothing left to write */
        if (fdatasync(d->fd) < 0)
                return err_errno(err, -errno, "layer %s: fsync", d->digest);
        emit(p, reg_progress(d->id, "Download complete", -1, -1));
        return 0;
}

static void dl_done(struct layer_dl *d)
{
        if (d->z_init)
                inflateEnd(&d->z);
        EVP_MD_CTX_free(d->bh);
        EVP_MD_CTX_free(d->dh);
        free(d->out);
        safe_close(d->fd);
        if (d->tar)
                unlink(d->tar);
        free(d->tar);
        free(d->digest);
        free(d->media);
        free(d->diff_id);
}

static void *worker(void *ud)
{
        struct pull *p = ud;
        for (;;) {
                struct layer_dl *d = NULL;
                pthread_mutex_lock(&p->lock);
                for (size_t i = 0; i < p->n && !p->abort; i++)
                        if (!p->l[i].skip && p->l[i].state == DL_PENDING) {
                                d = &p->l[i];
                                d->state = DL_RUNNING;
                                break;
                        }
                pthread_mutex_unlock(&p->lock);
                if (!d)
                        return NULL;
                int r = download(d);
                pthread_mutex_lock(&p->lock);
                d->r = r;
                d->state = r < 0 ? DL_FAILED : DL_DONE;
                if (r < 0)
                        p->abort = true;
                pthread_cond_broadcast(&p->cond);
                pthread_mutex_unlock(&p->lock);
        }
}

/* --- manifests ----------------------------------------------------------- */

struct manifest {
        char *body;
        size_t len;
        char *media;
        char digest[72];
        json_t *j;
};

static void manifest_done(struct manifest *m)
{
        free(m->body);
        free(m->media);
        json_decref(m->j);
        *m = (struct manifest){0};
}

static int get_manifest(struct pull *p, const char *full, const char *reference, const char *expect,
                        struct manifest *ret, struct berth_err *err)
{
        _cleanup_free_ char *url = xasprintf("/v2/%s/manifests/%s", p->path, reference);
        struct reg_req q = {.method = "GET",
                            .url = url,
                            .headers = manifest_accept,
                            .body_fd = -1,
                            .max_body = REG_MANIFEST_MAX};
        struct reg_resp resp = {0};
        int r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return r;
        if (resp.truncated || resp.content_length > (off_t)REG_MANIFEST_MAX) {
                reg_resp_done(&resp);
                return err_set(err, -EBADMSG, "manifest of '%s' is larger than %u bytes, refused",
                               full, REG_MANIFEST_MAX);
        }
        if (resp.status == 404) {
                _cleanup_free_ char *what = xasprintf("manifest for %s not found", full);
                r = reg_http_error(&resp, what, err);
                reg_resp_done(&resp);
                return r;
        }
        if (resp.status != 200) {
                r = reg_http_error(&resp, NULL, err);
                reg_resp_done(&resp);
                return r;
        }
        *ret = (struct manifest){0};
        ret->body = resp.body ? resp.body : xstrdup("");
        ret->len = resp.len;
        resp.body = NULL;
        sha256_of(ret->body, ret->len, ret->digest);
        if (expect && !streq(expect, ret->digest)) {
                reg_resp_done(&resp);
                manifest_done(ret);
                return err_set(err, -EBADMSG, "manifest of '%s' does not match its digest %s", full,
                               expect);
        }
        json_error_t je;
        ret->j = json_loadb(ret->body, ret->len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(ret->j)) {
                reg_resp_done(&resp);
                manifest_done(ret);
                return err_set(err, -EBADMSG, "manifest of '%s' is not a JSON object", full);
        }
        const char *mt = json_get_str(ret->j, "mediaType", NULL);
        if (!mt && resp.content_type)
                mt = resp.content_type;
        ret->media = xstrndup(strempty(mt), strcspn(strempty(mt), "; "));
        reg_resp_done(&resp);
        return 0;
}

static const char *host_arch(void)
{
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__powerpc64__)
        return "ppc64le";
#else
        return "unknown";
#endif
}

static int pick_platform(json_t *index, const char *platform, const char *full, json_t **ret,
                         struct berth_err *err)
{
        _cleanup_strv_ char **want = strv_split(platform ? platform : "", "/");
        const char *os = want[0] ? want[0] : "linux";
        const char *arch = want[0] && want[1] ? want[1] : host_arch();
        const char *variant = want[0] && want[1] ? want[2] : NULL;
        size_t i;
        json_t *m;
        json_array_foreach (json_object_get(index, "manifests"), i, m) {
                json_t *pl = json_object_get(m, "platform");
                if (streq_ptr(json_get_str(pl, "os", NULL), os) &&
                    streq_ptr(json_get_str(pl, "architecture", NULL), arch) &&
                    (!variant || streq_ptr(json_get_str(pl, "variant", NULL), variant))) {
                        *ret = m;
                        return 0;
                }
        }
        return err_set(err, -ENOENT,
                       "no matching manifest for %s/%s%s%s in the manifest list entries of '%s'",
                       os, arch, variant ? "/" : "", strempty(variant), full);
}

/* --- one image ----------------------------------------------------------- */

static int layer_kind(const char *mt, bool *ret_gz, bool *ret_zstd)
{
        *ret_gz = *ret_zstd = false;
        if (streq(mt, MT_DOCKER_LAYER) || streq(mt, MT_OCI_LAYER_GZ) ||
            streq(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") ||
            streq(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")) {
                *ret_gz = true;
                return 0;
        }
        if (streq(mt, MT_OCI_LAYER_ZSTD) ||
            streq(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd")) {
                *ret_zstd = true;
                return 0;
        }
        if (streq(mt, MT_OCI_LAYER) || streq(mt, "application/vnd.docker.image.rootfs.diff.tar") ||
            streq(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar"))
                return 0;
        return -EBADMSG;
}

static int get_config(struct pull *p, json_t *desc, char **ret, size_t *ret_len,
                      struct berth_err *err)
{
        const char *digest = json_get_str(desc, "digest", NULL);
        int64_t size = json_get_int(desc, "size", -1);
        if (!digest_ok(digest) || size < 0 || size > (int64_t)REG_CONFIG_MAX)
                return err_set(err, -EBADMSG, "manifest: bad or oversized config descriptor");
        _cleanup_free_ char *url = xasprintf("/v2/%s/blobs/%s", p->path, digest);
        struct reg_req q = {.method = "GET", .url = url, .body_fd = -1, .max_body = REG_CONFIG_MAX};
        struct reg_resp resp = {0};
        int r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return err_wrap(err, r, "image config %s", digest);
        if (resp.status != 200 || resp.truncated) {
                _cleanup_free_ char *what = xasprintf("image config %s", digest);
                r = resp.truncated ? err_set(err, -EBADMSG, "%s: too large", what)
                                   : reg_http_error(&resp, what, err);
                reg_resp_done(&resp);
                return r;
        }
        char got[72];
        sha256_of(strempty(resp.body), resp.len, got);
        if (!streq(got, digest)) {
                reg_resp_done(&resp);
                return err_set(err, -EBADMSG,
                               "image config %s: content does not match its digest (it is %s)",
                               digest, got);
        }
        *ret = resp.body ? resp.body : xstrdup("");
        *ret_len = resp.len;
        resp.body = NULL;
        reg_resp_done(&resp);
        return 0;
}

static int pull_image(struct pull *p, const struct image_ref *ref, const char *platform,
                      const struct registry_opts *o, char **ret_id, struct berth_err *err)
{
        _cleanup_free_ char *full = image_ref_full(ref);
        _cleanup_free_ char *fam = image_ref_familiar(full);
        _cleanup_free_ char *repo = image_ref_repo(ref);
        const char *reference = ref->digest ? ref->digest : ref->tag;
        struct manifest top = {0}, m = {0};
        _cleanup_free_ char *config = NULL;
        _cleanup_json_ json_t *cfg = NULL;
        size_t config_len = 0;
        bool txn = false;
        pthread_t *threads = NULL;
        size_t n_threads = 0;
        int r;

        /* the first message once the manifest is there: a pull that fails
         * before it (unknown name, auth) is a plain HTTP error */
        r = get_manifest(p, full, reference, ref->digest, &top, err);
        if (r < 0)
                goto out;
        emit(p, json_pack("{s:o, s:s}", "status", json_sprintf("Pulling from %s", p->path), "id",
                          reference));
        struct manifest *img = &top;
        if (streq(top.media, MT_OCI_INDEX) || streq(top.media, MT_DOCKER_LIST)) {
                json_t *desc = NULL;
                r = pick_platform(top.j, platform, full, &desc, err);
                if (r < 0)
                        goto out;
                const char *d = json_get_str(desc, "digest", NULL);
                if (!digest_ok(d)) {
                        r = err_set(err, -EBADMSG, "manifest list of '%s': bad digest", full);
                        goto out;
                }
                r = get_manifest(p, full, d, d, &m, err);
                if (r < 0)
                        goto out;
                img = &m;
        }
        if (!streq(img->media, MT_OCI_MANIFEST) && !streq(img->media, MT_DOCKER_MANIFEST)) {
                r = err_set(err, -EBADMSG,
                            "manifest of '%s' has media type '%s', which berth does not support",
                            full, img->media[0] ? img->media : "(none)");
                goto out;
        }
        r = get_config(p, json_object_get(img->j, "config"), &config, &config_len, err);
        if (r < 0)
                goto out;
        r = json_parse_body(config, config_len, &cfg, err);
        if (r < 0)
                goto out;
        json_t *diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        json_t *layers = json_object_get(img->j, "layers");
        if (!json_is_array(layers) || json_array_size(layers) != json_array_size(diff_ids) ||
            json_array_size(layers) > 1000) {
                r = err_set(err, -EBADMSG,
                            "manifest of '%s' lists %zu layers, its image config %zu", full,
                            json_array_size(layers), json_array_size(diff_ids));
                goto out;
        }
        char id[72];
        sha256_of(config, config_len, id);
        bool had = rstore_has_image(id);

        p->n = json_array_size(layers);
        p->l = xzalloc((p->n + 1) * sizeof(*p->l));
        for (size_t i = 0; i < p->n; i++) {
                json_t *ld = json_array_get(layers, i);
                struct layer_dl *d = &p->l[i];
                d->p = p;
                d->fd = -1;
                d->digest = xstrdup(json_get_str(ld, "digest", ""));
                d->media = xstrdup(json_get_str(ld, "mediaType", ""));
                d->size = json_get_int(ld, "size", -1);
                d->diff_id = xstrdup(strempty(json_string_value(json_array_get(diff_ids, i))));
                reg_short_id(d->digest, d->id);
                if (!digest_ok(d->digest) || !digest_ok(d->diff_id) || d->size < 0 ||
                    d->size > (1LL << 40)) {
                        r = err_set(err, -EBADMSG, "manifest of '%s': bad layer %zu descriptor",
                                    full, i);
                        goto out;
                }
                r = layer_kind(d->media, &d->gz, &d->zstd);
                if (r < 0) {
                        r = err_set(err, r,
                                    "layer %s has media type '%s', which berth does not know",
                                    d->digest, d->media);
                        goto out;
                }
        }
        {
                _cleanup_strv_ char **ids = xzalloc((p->n + 1) * sizeof(char *));
                _cleanup_free_ bool *have = xzalloc((p->n + 1) * sizeof(bool));
                for (size_t i = 0; i < p->n; i++)
                        ids[i] = xstrdup(p->l[i].diff_id);
                r = rstore_layers_present(ids, have, err);
                if (r < 0)
                        goto out;
                for (size_t i = 0; i < p->n; i++) {
                        p->l[i].skip = have[i];
                        emit(p,
                             reg_progress(p->l[i].id,
                                          have[i] ? "Already exists" : "Pulling fs layer", -1, -1));
                }
        }
        n_threads = (size_t)(o->parallel > 0 ? o->parallel : 4);
        if (n_threads > p->n)
                n_threads = p->n;
        /* the layers behind the first n_threads wait for a download slot */
        for (size_t i = 0, k = 0; i < p->n; i++)
                if (!p->l[i].skip && k++ >= n_threads)
                        emit(p, reg_progress(p->l[i].id, "Waiting", -1, -1));
        threads = xzalloc((n_threads + 1) * sizeof(*threads));
        for (size_t i = 0; i < n_threads; i++)
                if (pthread_create(&threads[i], NULL, worker, p) != 0) {
                        n_threads = i;
                        r = err_set(err, -EAGAIN, "cannot start a download thread");
                        goto out;
                }
        r = rstore_txn_begin(err);
        txn = r == 0;
        for (size_t i = 0; r == 0 && i < p->n; i++) {
                struct layer_dl *d = &p->l[i];
                if (!d->skip) {
                        pthread_mutex_lock(&p->lock);
                        while (d->state != DL_DONE && d->state != DL_FAILED && !p->abort)
                                pthread_cond_wait(&p->cond, &p->lock);
                        pthread_mutex_unlock(&p->lock);
                        if (d->state != DL_DONE) {
                                /* the first failure is the one to report */
                                r = -ECANCELED;
                                break;
                        }
                        emit(p, reg_progress(d->id, "Extracting", d->size, d->size));
                }
                r = rstore_txn_layer(d->skip ? NULL : d->tar, d->diff_id, err);
                if (r < 0) {
                        err_wrap(err, r, "layer %s", d->digest);
                        break;
                }
                if (!d->skip) {
                        free(d->tar); /* now the store's: moved by berthd */
                        d->tar = NULL;
                        emit(p, reg_progress(d->id, "Pull complete", -1, -1));
                }
        }
        if (r == -ECANCELED) {
                pthread_mutex_lock(&p->lock);
                p->abort = true;
                pthread_mutex_unlock(&p->lock);
        }
        if (r < 0) {
                pthread_mutex_lock(&p->lock);
                p->abort = true;
                pthread_mutex_unlock(&p->lock);
        }
        for (size_t i = 0; i < n_threads; i++)
                pthread_join(threads[i], NULL);
        n_threads = 0;
        if (r == -ECANCELED) {
                /* report the first layer that failed for a reason of its own */
                for (size_t i = 0; i < p->n; i++)
                        if (p->l[i].state == DL_FAILED && p->l[i].r != -ECANCELED) {
                                *err = p->l[i].err;
                                r = p->l[i].r;
                                break;
                        }
                if (r == -ECANCELED)
                        err_set(err, r, "pull cancelled");
        }
        if (r < 0)
                goto out;
        {
                const char *names[3] = {NULL};
                _cleanup_free_ char *tagged = NULL, *digested = NULL;
                size_t k = 0;
                if (!ref->digest)
                        names[k++] = tagged = xasprintf("%s:%s", repo, ref->tag);
                names[k++] = digested = xasprintf("%s@%s", repo, top.digest);
                _cleanup_free_ char *new_id = NULL;
                r = rstore_txn_commit(config, config_len, names, &new_id, err);
                if (r < 0)
                        goto out;
                txn = false;
                for (size_t i = 0; i < p->n; i++)
                        if (!p->l[i].skip)
                                rstore_dist_put(p->l[i].diff_id, p->rg->domain, p->path,
                                                p->l[i].digest, p->l[i].size, p->l[i].media);
                json_t *dm = json_pack("{s:o}", "status", json_sprintf("Digest: %s", top.digest));
                emit(p, dm);
                json_t *sm = json_pack(
                    "{s:o}", "status",
                    json_sprintf("Status: %s for %s",
                                 had ? "Image is up to date" : "Downloaded newer image", fam));
                emit(p, sm);
                if (ret_id) {
                        free(*ret_id);
                        *ret_id = TAKE_PTR(new_id);
                }
        }
out:
        if (n_threads) {
                pthread_mutex_lock(&p->lock);
                p->abort = true;
                pthread_mutex_unlock(&p->lock);
                for (size_t i = 0; i < n_threads; i++)
                        pthread_join(threads[i], NULL);
        }
        free(threads);
        if (txn)
                rstore_txn_abort();
        for (size_t i = 0; p->l && i < p->n; i++)
                dl_done(&p->l[i]);
        free(p->l);
        p->l = NULL;
        p->n = 0;
        p->abort = false;
        manifest_done(&top);
        manifest_done(&m);
        return r;
}

static int list_tags(struct pull *p, const char *repo, char ***ret, struct berth_err *err)
{
        _cleanup_free_ char *url = xasprintf("/v2/%s/tags/list", p->path);
        struct reg_req q = {.method = "GET", .url = url, .body_fd = -1, .max_body = 16u << 20};
        struct reg_resp resp = {0};
        int r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 200) {
                _cleanup_free_ char *what = xasprintf("tags of %s", repo);
                r = reg_http_error(&resp, what, err);
                reg_resp_done(&resp);
                return r;
        }
        json_error_t je;
        _cleanup_json_ json_t *j = json_loadb(strempty(resp.body), resp.len, 0, &je);
        reg_resp_done(&resp);
        char **tags = xzalloc(sizeof(char *));
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get(j, "tags"), i, t)
                if (json_is_string(t))
                        tags = strv_push(tags, xstrdup(json_string_value(t)));
        *ret = tags;
        return 0;
}

int reg_pull(const struct registry_opts *o, const char *refstr, bool all_tags, const char *platform,
             const struct registry_auth *auth, registry_progress_fn fn, void *userdata,
             char **ret_id, struct berth_err *err)
{
        struct image_ref ref;
        int r = image_ref_parse(refstr, &ref, err);
        if (r < 0)
                return r;
        const char *last = strrchr(refstr, '/');
        if (all_tags && (ref.digest || strchr(last ? last : refstr, ':'))) {
                image_ref_done(&ref);
                return err_set(err, -EINVAL, "tag can't be used with --all-tags/-a");
        }
        _cleanup_free_ char *scope = xasprintf("repository:%s:pull", ref.path);
        struct pull p = {.path = ref.path,
                         .fn = fn,
                         .ud = userdata,
                         .retries = o->retries >= 0 ? o->retries : 3};
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.cond, NULL);
        r = reg_open(o, auth, ref.domain, scope, &p.rg, err);
        if (r == 0)
                r = reg_ping(p.rg, err);
        if (r == 0 && all_tags) {
                _cleanup_free_ char *repo = image_ref_repo(&ref);
                _cleanup_strv_ char **tags = NULL;
                r = list_tags(&p, repo, &tags, err);
                for (char **t = tags; r == 0 && t && *t; t++) {
                        free(ref.tag);
                        ref.tag = xstrdup(*t);
                        r = pull_image(&p, &ref, platform, o, ret_id, err);
                }
        } else if (r == 0)
                r = pull_image(&p, &ref, platform, o, ret_id, err);
        reg_close(p.rg);
        pthread_mutex_destroy(&p.lock);
        pthread_cond_destroy(&p.cond);
        image_ref_done(&ref);
        return r;
}
