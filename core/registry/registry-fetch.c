/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry_fetch's work in berth-registry: one URL's body into the file
 * berthd handed over as fd 4, with what ADD <url> and a remote build
 * context need to know about it (Last-Modified, Content-Type, the file
 * name Docker would give it, the digest). */
#include "registry-internal.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <time.h>

struct fetch {
        int fd;
        EVP_MD_CTX *md;
        int64_t size;
        int64_t total; /* Content-Length, -1 unknown */
        int err;       /* -errno of a failed write, or -EFBIG */
        registry_progress_fn fn;
        void *userdata;
        int64_t last_progress;
        struct reg_resp *resp;
};

static void progress(struct fetch *f, bool force)
{
        if (!f->fn)
                return;
        int64_t now = monotonic_ns();
        if (!force && now - f->last_progress < 500000000)
                return;
        f->last_progress = now;
        (void)f->fn(f->userdata, reg_progress(NULL, "Downloading", f->size, f->total));
}

static size_t sink(void *ud, const char *p, size_t n, long status)
{
        (void)status;
        struct fetch *f = ud;
        if (f->total < 0 && f->resp->content_length >= 0)
                f->total = f->resp->content_length;
        if (f->total > REGISTRY_FETCH_MAX || f->size + (int64_t)n > REGISTRY_FETCH_MAX) {
                f->err = -EFBIG;
                return 0;
        }
        for (size_t done = 0; done < n;) {
                ssize_t m = write(f->fd, p + done, n - done);
                if (m < 0 && errno == EINTR)
                        continue;
                if (m <= 0) {
                        f->err = m < 0 ? -errno : -EIO;
                        return 0;
                }
                done += (size_t)m;
        }
        EVP_DigestUpdate(f->md, p, n);
        f->size += (int64_t)n;
        progress(f, false);
        return n;
}

/* Content-Disposition's filename parameter (attachment; filename="a.tgz"). */
static char *disposition_filename(const char *cd)
{
        for (const char *p = strchr(cd, ';'); p; p = strchr(p, ';')) {
                p++;
                while (isspace((unsigned char)*p))
                        p++;
                if (strncasecmp(p, "filename", 8) != 0)
                        continue;
                const char *v = p + 8;
                while (isspace((unsigned char)*v))
                        v++;
                if (*v != '=')
                        continue;
                v++;
                while (isspace((unsigned char)*v))
                        v++;
                if (*v == '"') {
                        v++;
                        return xstrndup(v, strcspn(v, "\""));
                }
                size_t k = strcspn(v, ";");
                while (k > 0 && isspace((unsigned char)v[k - 1]))
                        k--;
                return xstrndup(v, k);
        }
        return NULL;
}

/* The last segment of a path, as Go's filepath.Base, but NULL for a path
 * that is empty or ends in '/' (Docker then looks elsewhere). */
static char *last_segment(const char *path)
{
        if (isempty(path) || endswith(path, "/"))
                return NULL;
        const char *s = strrchr(path, '/');
        s = s ? s + 1 : path;
        return isempty(s) ? NULL : xstrdup(s);
}

/* A reason phrase for a status line without one (HTTP/2 sends none). */
static const char *status_text(long st)
{
        static const struct {
                long code;
                const char *text;
        } texts[] = {{400, "Bad Request"},
                     {401, "Unauthorized"},
                     {403, "Forbidden"},
                     {404, "Not Found"},
                     {405, "Method Not Allowed"},
                     {408, "Request Timeout"},
                     {410, "Gone"},
                     {429, "Too Many Requests"},
                     {500, "Internal Server Error"},
                     {501, "Not Implemented"},
                     {502, "Bad Gateway"},
                     {503, "Service Unavailable"},
                     {504, "Gateway Timeout"}};
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                if (texts[i].code == st)
                        return texts[i].text;
        return NULL;
}

static int status_error(const char *url, const struct reg_resp *resp, struct berth_err *err)
{
        long st = resp->status;
        int code = st == 404 || st == 410 ? -ENOENT : st == 401 || st == 403 ? -EACCES : -EIO;
        const char *text = !isempty(resp->reason) ? resp->reason : status_text(st);
        if (text)
                return err_set(err, code, "GET %s: %ld %s", url, st, text);
        return err_set(err, code, "GET %s: HTTP status %ld", url, st);
}

static int transport_error(const char *url, const struct registry_opts *o,
                           const struct reg_resp *resp, struct berth_err *err)
{
        const char *why = resp->body ? resp->body : curl_easy_strerror(resp->cc);
        switch (resp->cc) {
        case CURLE_OPERATION_TIMEDOUT:
                return err_set(err, -ETIMEDOUT, "GET %s: timed out (%lds without data): %s", url,
                               o->timeout_s > 0 ? o->timeout_s : 30, why);
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return err_set(err, -ECONNREFUSED, "GET %s: cannot connect: %s", url, why);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                return err_set(err, -EPROTO, "GET %s: TLS: %s", url, why);
        default:
                return err_set(err, -EIO, "GET %s: %s", url, why);
        }
}

/* The URL's scheme check, its host[:port] (for the insecure list) and the
 * decoded path. */
static int parse_url(const char *url, char **ret_domain, char **ret_path, struct berth_err *err)
{
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
                return err_set(err, -EINVAL, "unsupported URL '%s': only http and https", url);
        CURLU *u = curl_url();
        char *host = NULL, *port = NULL, *path = NULL;
        int r = 0;
        if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
                r = err_set(err, -EINVAL, "invalid URL '%s'", url);
        else {
                (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
                (void)curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
                *ret_domain = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
                *ret_path = xstrdup(strempty(path));
        }
        curl_free(host);
        curl_free(port);
        curl_free(path);
        curl_url_cleanup(u);
        return r;
}

/* Wait before another try, telling berthd it is alive meanwhile. */
static void backoff(int attempt)
{
        int64_t until = monotonic_ns() + (int64_t)(1 << (attempt < 4 ? attempt : 4)) * 500000000;
        while (monotonic_ns() < until) {
                reg_heartbeat();
                struct timespec ts = {0, 200000000};
                nanosleep(&ts, NULL);
        }
}

int reg_fetch(const struct registry_opts *o, const char *url, int fd, registry_progress_fn fn,
              void *userdata, struct registry_fetch_result *ret, struct berth_err *err)
{
        _cleanup_free_ char *domain = NULL, *path = NULL;
        int r = parse_url(url, &domain, &path, err);
        if (r < 0)
                return r;
        off_t start = lseek(fd, 0, SEEK_CUR);
        if (start < 0)
                return err_errno(err, -errno, "GET %s: the file to write", url);
        struct reg *rg = NULL;
        r = reg_open(o, NULL, domain, NULL, &rg, err);
        if (r < 0)
                return r;
        /* a URL says its scheme itself, and a redirect may change it, as
         * for any HTTP client; a host in `insecure` is not verified */
        rg->insecure = true;
        struct reg_resp resp = {0};
        struct fetch f = {.fd = fd, .fn = fn, .userdata = userdata};
        struct reg_req q = {
            .method = "GET", .url = url, .body_fd = -1, .sink = sink, .sink_ud = &f};
        int retries = o->retries < 0 ? 3 : o->retries;
        f.md = EVP_MD_CTX_new();
        for (int attempt = 0;; attempt++) {
                f.size = 0;
                f.total = -1;
                f.err = 0;
                f.resp = &resp;
                EVP_DigestInit_ex(f.md, EVP_sha256(), NULL);
                if (attempt > 0 && (ftruncate(fd, start) < 0 || lseek(fd, start, SEEK_SET) < 0)) {
                        r = err_errno(err, -errno, "GET %s: truncate the file for another try",
                                      url);
                        break;
                }
                r = reg_perform(rg, &q, !rg->skip_verify, &resp);
                if (r < 0) {
                        err_errno(err, r, "GET %s", url);
                        break;
                }
                if (f.err == -EFBIG) {
                        r = err_set(err, -EFBIG, "GET %s: larger than %lld GiB", url,
                                    REGISTRY_FETCH_MAX >> 30);
                        break;
                }
                if (f.err < 0) {
                        r = err_errno(err, f.err, "GET %s: write", url);
                        break;
                }
                if (resp.cc != CURLE_OK) {
                        if (reg_retryable(resp.cc) && attempt < retries) {
                                reg_resp_done(&resp);
                                backoff(attempt);
                                continue;
                        }
                        r = transport_error(url, o, &resp, err);
                        break;
                }
                if (resp.status < 200 || resp.status > 299) {
                        r = status_error(url, &resp, err);
                        break;
                }
                /* a 2xx other than 200 kept its (small) body in resp */
                if (resp.len > 0 && sink(&f, resp.body, resp.len, resp.status) != resp.len) {
                        r = err_errno(err, f.err < 0 ? f.err : -EIO, "GET %s: write", url);
                        break;
                }
                break;
        }
        if (r == 0) {
                unsigned char md[EVP_MAX_MD_SIZE];
                unsigned int mdlen = 0;
                EVP_DigestFinal_ex(f.md, md, &mdlen);
                char hex[2 * EVP_MAX_MD_SIZE + 1];
                for (unsigned int i = 0; i < mdlen; i++)
                        snprintf(hex + 2 * i, 3, "%02x", md[i]);
                if (f.total < 0)
                        f.total = f.size;
                progress(&f, true);
                time_t lm = resp.last_modified ? curl_getdate(resp.last_modified, NULL) : -1;
                char *name = last_segment(path);
                if (!name && resp.content_disposition) {
                        _cleanup_free_ char *cd = disposition_filename(resp.content_disposition);
                        name = cd ? last_segment(cd) : NULL;
                }
                *ret = (struct registry_fetch_result){
                    .status = resp.status,
                    .size = f.size,
                    .last_modified_ns = lm > 0 ? (int64_t)lm * 1000000000 : 0,
                    .content_type = resp.content_type ? xstrdup(resp.content_type) : NULL,
                    .filename = name,
                    .digest = xasprintf("sha256:%s", hex)};
        }
        EVP_MD_CTX_free(f.md);
        reg_resp_done(&resp);
        reg_close(rg);
        return r;
}
