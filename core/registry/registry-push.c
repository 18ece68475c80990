/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Push: blobs the registry has are skipped (HEAD), a cross-repository
 * mount is tried for layers berth knows under another repository of the
 * same registry, the rest are uploaded (monolithic, or in chunks when
 * large), then the config and a Docker schema-2 manifest. Layers are
 * compressed with a fixed zlib level and a header without time or name,
 * so the same image pushes to the same digests every time. */
#include "registry-internal.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <zlib.h>

#include "image/image.h"

/* Blobs larger than this go up in PATCH chunks of this size. */
#define CHUNK (8ll << 20)

struct push {
        struct reg *rg;
        const char *path;
        registry_progress_fn fn;
        void *ud;
        pthread_mutex_t lock;
        /* the layers, pushed by up to PUSH_THREADS threads */
        char **diff_ids, **tars;
        json_t **descs;
        int *results;
        struct berth_err *errs;
        size_t n, next;
        bool failed;
};

#define PUSH_THREADS 3

static void emit(struct push *p, json_t *m)
{
        pthread_mutex_lock(&p->lock);
        if (p->fn)
                (void)p->fn(p->ud, m);
        else
                json_decref(m);
        pthread_mutex_unlock(&p->lock);
}

static void hex_final(EVP_MD_CTX *c, char ret[72])
{
        unsigned char md[32];
        unsigned int n = 0;
        EVP_DigestFinal_ex(c, md, &n);
        strcpy(ret, "sha256:");
        for (int i = 0; i < 32; i++)
                sprintf(ret + 7 + 2 * i, "%02x", md[i]);
}

static int blob_exists(struct push *p, const char *digest, bool *ret, struct berth_err *err)
{
        _cleanup_free_ char *url = xasprintf("/v2/%s/blobs/%s", p->path, digest);
        struct reg_req q = {.method = "HEAD", .url = url, .body_fd = -1};
        struct reg_resp resp = {0};
        int r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return r;
        *ret = resp.status == 200;
        if (resp.status != 200 && resp.status != 404)
                r = reg_http_error(&resp, "check blob", err);
        reg_resp_done(&resp);
        return r;
}

static char *absolute(struct push *p, const char *loc)
{
        if (loc[0] == '/')
                return xasprintf("%s%s", p->rg->base, loc);
        return xstrdup(loc);
}

/* POST an upload session (or a mount: 201 sets *ret_mounted). */
static int start_upload(struct push *p, const char *mount, const char *from, char **ret_loc,
                        bool *ret_mounted, struct berth_err *err)
{
        _cleanup_free_ char *url = NULL;
        if (mount) {
                char *f = curl_easy_escape(NULL, from, 0);
                url = xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", p->path, mount, f);
                curl_free(f);
        } else
                url = xasprintf("/v2/%s/blobs/uploads/", p->path);
        struct reg_req q = {.method = "POST", .url = url, .body_fd = -1};
        struct reg_resp resp = {0};
        int r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return r;
        *ret_mounted = false;
        if (resp.status == 201 && mount)
                *ret_mounted = true;
        else if (resp.status == 202 && resp.location)
                *ret_loc = absolute(p, resp.location);
        else
                r = reg_http_error(&resp, "start blob upload", err);
        reg_resp_done(&resp);
        return r;
}

static int upload(struct push *p, const char *loc, const char *digest, int fd, const void *mem,
                  int64_t size, const char *id, struct berth_err *err)
{
        _cleanup_free_ char *where = xstrdup(loc);
        const char *oct[] = {"Content-Type: application/octet-stream", NULL, NULL};
        int r;
        int64_t off = 0;
        if (size > CHUNK) {
                /* chunked: PATCH the ranges, then PUT with the digest */
                for (; off < size; off += CHUNK) {
                        int64_t n = size - off < CHUNK ? size - off : CHUNK;
                        _cleanup_free_ char *cr = xasprintf(
                            "Content-Range: %lld-%lld", (long long)off, (long long)(off + n - 1));
                        const char *h[] = {oct[0], cr, NULL};
                        struct reg_req q = {.method = "PATCH",
                                            .url = where,
                                            .headers = h,
                                            .body_fd = fd,
                                            .body = fd < 0 ? (const char *)mem + off : NULL,
                                            .body_len = (size_t)n,
                                            .body_off = off,
                                            .body_size = n};
                        struct reg_resp resp = {0};
                        r = reg_do(p->rg, &q, &resp, err);
                        if (r < 0)
                                return r;
                        if (resp.status != 202 || !resp.location) {
                                r = reg_http_error(&resp, "upload blob chunk", err);
                                reg_resp_done(&resp);
                                return r;
                        }
                        free(where);
                        where = absolute(p, resp.location);
                        reg_resp_done(&resp);
                        if (id)
                                emit(p, reg_progress(id, "Pushing", off + n, size));
                }
        }
        _cleanup_free_ char *url =
            xasprintf("%s%sdigest=%s", where, strchr(where, '?') ? "&" : "?", digest);
        struct reg_req q = {.method = "PUT", .url = url, .headers = oct, .body_fd = -1};
        if (off == 0) {
                q.body_fd = fd;
                q.body = fd < 0 ? mem : NULL;
                q.body_len = (size_t)size;
                q.body_size = size;
                if (fd < 0 && size == 0)
                        q.body = "";
        }
        struct reg_resp resp = {0};
        r = reg_do(p->rg, &q, &resp, err);
        if (r < 0)
                return r;
        if (resp.status != 201)
                r = reg_http_error(&resp, "upload blob", err);
        reg_resp_done(&resp);
        if (r == 0 && id)
                emit(p, reg_progress(id, "Pushing", size, size));
        return r;
}

/* gzip a layer tar into a temp file: its digest and size. */
static int compress_layer(struct push *p, const char *tar, char **ret_path, int *ret_fd,
                          char ret_digest[72], int64_t *ret_size, struct berth_err *err)
{
        _cleanup_close_ int in = open(tar, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return err_errno(err, -errno, "open layer '%s'", tar);
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int out = rstore_tmpfile("push", &path, err);
        if (out < 0)
                return out;
        z_stream z = {0};
        if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return err_set(err, -ENOMEM, "zlib: cannot start deflate");
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        EVP_DigestInit_ex(h, EVP_sha256(), NULL);
        size_t bs = 256 * 1024;
        _cleanup_free_ unsigned char *ib = xmalloc(bs), *ob = xmalloc(bs);
        int64_t total = 0;
        int r = 0, zr = Z_OK;
        bool eof = false;
        while (r == 0 && zr != Z_STREAM_END) {
                if (!eof && z.avail_in == 0) {
                        ssize_t n = read(in, ib, bs);
                        if (n < 0) {
                                r = err_errno(err, -errno, "read layer '%s'", tar);
                                break;
                        }
                        eof = n == 0;
                        z.next_in = ib;
                        z.avail_in = (unsigned)n;
                }
                z.next_out = ob;
                z.avail_out = (unsigned)bs;
                zr = deflate(&z, eof ? Z_FINISH : Z_NO_FLUSH);
                reg_heartbeat();
                size_t m = bs - z.avail_out;
                if (m) {
                        EVP_DigestUpdate(h, ob, m);
                        total += (int64_t)m;
                        if (loop_write(out, ob, m) < 0)
                                r = err_errno(err, -errno, "write '%s'", path);
                }
        }
        deflateEnd(&z);
        hex_final(h, ret_digest);
        EVP_MD_CTX_free(h);
        if (r < 0) {
                unlink(path);
                return r;
        }
        *ret_size = total;
        *ret_fd = TAKE_FD(out);
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int push_layer(struct push *p, const char *diff_id, const char *tar, json_t **ret_desc,
                      struct berth_err *err)
{
        char id[13];
        reg_short_id(diff_id, id);
        bool have = false;
        int r;
        _cleanup_json_ json_t *known = rstore_dist_get(diff_id);
        json_t *k = json_object_get(known, p->rg->domain);
        const char *kd = json_get_str(k, "digest", NULL);
        if (kd) {
                r = blob_exists(p, kd, &have, err);
                if (r < 0)
                        return r;
                const char *from = json_get_str(k, "repository", "");
                bool mounted = false;
                if (!have && !streq(from, p->path)) {
                        _cleanup_free_ char *loc = NULL;
                        r = start_upload(p, kd, from, &loc, &mounted, err);
                        if (r < 0)
                                return r;
                        if (mounted) {
                                json_t *m = json_pack("{s:o, s:s, s:{}}", "status",
                                                      json_sprintf("Mounted from %s", from), "id",
                                                      id, "progressDetail");
                                emit(p, m);
                        }
                }
                if (have || mounted) {
                        if (have)
                                emit(p, reg_progress(id, "Layer already exists", -1, -1));
                        const char *mt = json_get_str(k, "mediaType", MT_DOCKER_LAYER);
                        *ret_desc =
                            (json_pack("{s:s, s:I, s:s}", "mediaType",
                                       strstr(mt, "gzip") ? MT_DOCKER_LAYER : mt, "size",
                                       (json_int_t)json_get_int(k, "size", 0), "digest", kd));
                        return 0;
                }
        }
        char digest[72] = "";
        int64_t size = 0;
        _cleanup_free_ char *gz = NULL;
        _cleanup_close_ int fd = -1;
        r = compress_layer(p, tar, &gz, &fd, digest, &size, err);
        if (r < 0)
                return r;
        r = blob_exists(p, digest, &have, err);
        if (r == 0 && have)
                emit(p, reg_progress(id, "Layer already exists", -1, -1));
        else if (r == 0) {
                /* a dropped connection or a registry that restarts: a new
                 * upload session, after a back-off */
                int retries = p->rg->o->retries >= 0 ? p->rg->o->retries : 3;
                for (int attempt = 0;; attempt++) {
                        _cleanup_free_ char *loc = NULL;
                        bool mounted;
                        r = start_upload(p, NULL, NULL, &loc, &mounted, err);
                        if (r == 0)
                                r = upload(p, loc, digest, fd, NULL, size, id, err);
                        if (r == 0 || attempt >= retries ||
                            !(r == -EIO || r == -ETIMEDOUT || r == -ECONNREFUSED))
                                break;
                        emit(p, reg_progress(id, "Retrying", -1, -1));
                        for (unsigned t = 0; t < (10u << attempt); t++) {
                                usleep(20000);
                                reg_heartbeat();
                        }
                }
                if (r == 0)
                        emit(p, reg_progress(id, "Pushed", -1, -1));
        }
        unlink(gz);
        if (r < 0)
                return err_wrap(err, r, "layer %s", diff_id);
        rstore_dist_put(diff_id, p->rg->domain, p->path, digest, size, MT_DOCKER_LAYER);
        *ret_desc = (json_pack("{s:s, s:I, s:s}", "mediaType", MT_DOCKER_LAYER, "size",
                               (json_int_t)size, "digest", digest));
        return 0;
}

static void *push_worker(void *ud)
{
        struct push *p = ud;
        for (;;) {
                pthread_mutex_lock(&p->lock);
                size_t i = p->next;
                bool stop = p->failed || i >= p->n;
                if (!stop)
                        p->next++;
                pthread_mutex_unlock(&p->lock);
                if (stop)
                        return NULL;
                int r = push_layer(p, p->diff_ids[i], p->tars[i], &p->descs[i], &p->errs[i]);
                pthread_mutex_lock(&p->lock);
                p->results[i] = r;
                if (r < 0)
                        p->failed = true;
                pthread_mutex_unlock(&p->lock);
        }
}

int reg_push(const struct registry_opts *o, const char *refstr, const struct registry_auth *auth,
             registry_progress_fn fn, void *userdata, struct berth_err *err)
{
        struct image_ref ref;
        int r = image_ref_parse(refstr, &ref, err);
        if (r < 0)
                return r;
        if (ref.digest) {
                image_ref_done(&ref);
                return err_set(err, -EINVAL, "cannot push a digest reference '%s'", refstr);
        }
        _cleanup_free_ char *full = image_ref_full(&ref);
        _cleanup_free_ char *repo = image_ref_repo(&ref);
        _cleanup_free_ char *id = NULL, *config = NULL, *scope = NULL;
        _cleanup_strv_ char **diff_ids = NULL, **tars = NULL;
        size_t config_len = 0;
        struct push p = {.path = ref.path, .fn = fn, .ud = userdata};
        pthread_mutex_init(&p.lock, NULL);
        _cleanup_json_ json_t *descs = json_array();

        r = rstore_push_source(full, &id, &config, &config_len, &diff_ids, &tars, err);
        if (r < 0) {
                if (r == -ENOENT)
                        err_set(err, r, "An image does not exist locally with the tag: %s", repo);
                goto out;
        }
        emit(&p, json_pack("{s:o}", "status",
                           json_sprintf("The push refers to repository [%s]", repo)));
        /* scopes of the repositories a mount may read from, too */
        scope = xasprintf("repository:%s:pull,push", ref.path);
        for (char **d = diff_ids; *d; d++) {
                _cleanup_json_ json_t *known = rstore_dist_get(*d);
                const char *from =
                    json_get_str(json_object_get(known, ref.domain), "repository", NULL);
                _cleanup_free_ char *fs = from ? xasprintf("repository:%s:pull", from) : NULL;
                if (fs && !streq(from, ref.path) && !strstr(scope, fs)) {
                        char *n = xasprintf("%s %s", scope, fs);
                        free(scope);
                        scope = n;
                }
        }
        r = reg_open(o, auth, ref.domain, scope, &p.rg, err);
        if (r == 0)
                r = reg_ping(p.rg, err);
        if (r < 0)
                goto out;
        for (char **d = diff_ids; *d; d++) {
                char sid[13];
                reg_short_id(*d, sid);
                emit(&p, reg_progress(sid, "Preparing", -1, -1));
        }
        p.diff_ids = diff_ids;
        p.tars = tars;
        p.n = strv_length(diff_ids);
        p.descs = xzalloc((p.n + 1) * sizeof(*p.descs));
        p.results = xzalloc((p.n + 1) * sizeof(*p.results));
        p.errs = xzalloc((p.n + 1) * sizeof(*p.errs));
        {
                pthread_t th[PUSH_THREADS];
                size_t nt = 0;
                for (; nt < PUSH_THREADS && nt < p.n; nt++)
                        if (pthread_create(&th[nt], NULL, push_worker, &p) != 0)
                                break;
                if (nt == 0 && p.n > 0)
                        push_worker(&p);
                for (size_t i = 0; i < nt; i++)
                        pthread_join(th[i], NULL);
        }
        for (size_t i = 0; i < p.n && r == 0; i++) {
                if (p.results[i] < 0) {
                        *err = p.errs[i];
                        r = p.results[i];
                } else if (p.descs[i]) {
                        json_array_append_new(descs, p.descs[i]);
                        p.descs[i] = NULL;
                } else
                        r = err_set(err, -ECANCELED, "push cancelled");
        }
        if (r < 0)
                goto out;
        /* the config */
        bool have = false;
        r = blob_exists(&p, id, &have, err);
        if (r == 0 && !have) {
                _cleanup_free_ char *loc = NULL;
                bool mounted;
                r = start_upload(&p, NULL, NULL, &loc, &mounted, err);
                if (r == 0)
                        r = upload(&p, loc, id, -1, config, (int64_t)config_len, NULL, err);
        }
        if (r < 0) {
                err_wrap(err, r, "image config");
                goto out;
        }
        {
                /* a layer the registry holds as zstd keeps its media type,
                 * which only an OCI manifest can carry: then every
                 * descriptor takes its OCI name */
                bool oci = false;
                size_t i;
                json_t *dsc;
                json_array_foreach (descs, i, dsc)
                        oci = oci || streq(json_get_str(dsc, "mediaType", ""), MT_OCI_LAYER_ZSTD);
                json_array_foreach (descs, i, dsc)
                        if (oci && streq(json_get_str(dsc, "mediaType", ""), MT_DOCKER_LAYER))
                                json_object_set_new(dsc, "mediaType", json_string(MT_OCI_LAYER_GZ));
                const char *mt = oci ? MT_OCI_MANIFEST : MT_DOCKER_MANIFEST;
                _cleanup_json_ json_t *man =
                    json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:O}", "schemaVersion", 2, "mediaType",
                              mt, "config", "mediaType", oci ? MT_OCI_CONFIG : MT_DOCKER_CONFIG,
                              "size", (json_int_t)config_len, "digest", id, "layers", descs);
                _cleanup_free_ char *body = json_dumps(man, JSON_INDENT(3));
                if (!body) {
                        r = err_set(err, -EINVAL, "cannot encode the manifest");
                        goto out;
                }
                size_t len = strlen(body);
                char digest[72];
                {
                        EVP_MD_CTX *h = EVP_MD_CTX_new();
                        EVP_DigestInit_ex(h, EVP_sha256(), NULL);
                        EVP_DigestUpdate(h, body, len);
                        hex_final(h, digest);
                        EVP_MD_CTX_free(h);
                }
                _cleanup_free_ char *url = xasprintf("/v2/%s/manifests/%s", ref.path, ref.tag);
                _cleanup_free_ char *ct = xasprintf("Content-Type: %s", mt);
                const char *h[] = {ct, NULL};
                struct reg_req q = {.method = "PUT",
                                    .url = url,
                                    .headers = h,
                                    .body = body,
                                    .body_len = len,
                                    .body_fd = -1};
                struct reg_resp resp = {0};
                r = reg_do(p.rg, &q, &resp, err);
                if (r < 0)
                        goto out;
                if (resp.status != 201)
                        r = reg_http_error(&resp, "put manifest", err);
                reg_resp_done(&resp);
                if (r < 0)
                        goto out;
                emit(&p, json_pack("{s:o}", "status",
                                   json_sprintf("%s: digest: %s size: %zu", ref.tag, digest, len)));
                emit(&p, json_pack("{s:{}, s:{s:s, s:s, s:I}}", "progressDetail", "aux", "Tag",
                                   ref.tag, "Digest", digest, "Size", (json_int_t)len));
                _cleanup_free_ char *name = xasprintf("%s@%s", repo, digest);
                (void)rstore_add_name(id, name, NULL);
        }
out:
        for (size_t i = 0; p.descs && i < p.n; i++)
                json_decref(p.descs[i]);
        free(p.descs);
        free(p.results);
        free(p.errs);
        pthread_mutex_destroy(&p.lock);
        reg_close(p.rg);
        image_ref_done(&ref);
        return r;
}

int reg_login(const struct registry_opts *o, const struct registry_auth *auth, char **ret_token,
              struct berth_err *err)
{
        _cleanup_free_ char *domain = registry_server_name(auth->serveraddress);
        struct reg *rg = NULL;
        int r = reg_open(o, auth, domain, NULL, &rg, err);
        if (r == 0)
                r = reg_ping(rg, err);
        if (r == 0) {
                /* the ping took the challenge and got a token or set basic
                 * auth; ask again with it to see that it is accepted */
                struct reg_req q = {.method = "GET", .url = "/v2/", .body_fd = -1};
                struct reg_resp resp = {0};
                r = reg_do(rg, &q, &resp, err);
                if (r == 0 && resp.status != 200)
                        r = reg_http_error(&resp, NULL, err);
                if (r == 0 && ret_token && rg->identity_token)
                        *ret_token = xstrdup(rg->identity_token);
                reg_resp_done(&resp);
        }
        reg_close(rg);
        return r;
}
