/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry transport: libcurl requests, https/http choice, the auth
 * challenge (bearer tokens, basic), registry error messages, credentials. */
#include "registry-internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/* --- insecure registries ---------------------------------------------- */

static void split_host(const char *domain, char **ret_host)
{
        if (domain[0] == '[') {
                const char *e = strchr(domain, ']');
                *ret_host = xstrndup(domain + 1, e ? (size_t)(e - domain - 1) : strlen(domain));
                return;
        }
        *ret_host = xstrndup(domain, strcspn(domain, ":"));
}

static bool in_cidr(const char *host, const char *cidr)
{
        const char *slash = strchr(cidr, '/');
        if (!slash)
                return false;
        _cleanup_free_ char *net = xstrndup(cidr, (size_t)(slash - cidr));
        int bits = atoi(slash + 1);
        struct in_addr a, n;
        if (inet_pton(AF_INET, host, &a) != 1 || inet_pton(AF_INET, net, &n) != 1 || bits < 0 ||
            bits > 32)
                return false;
        uint32_t mask = bits == 0 ? 0 : htonl(~0u << (32 - bits));
        return (a.s_addr & mask) == (n.s_addr & mask);
}

/* 2: listed as insecure (plain http, and https without verification, as
 * dockerd does); 1: loopback (plain http allowed, https still verified);
 * 0: https only. */
static int insecure_level(const struct registry_opts *o, const char *domain)
{
        _cleanup_free_ char *host = NULL;
        split_host(domain, &host);
        for (char **i = o->insecure; i && *i; i++)
                if (streq(*i, domain) || streq(*i, host) || in_cidr(host, *i))
                        return 2;
        if (streq(host, "localhost") || streq(host, "::1") || in_cidr(host, "127.0.0.0/8"))
                return 1;
        return 0;
}

/* --- requests ----------------------------------------------------------- */

void reg_resp_done(struct reg_resp *r)
{
        free(r->body);
        free(r->content_type);
        free(r->digest);
        free(r->location);
        free(r->www_auth);
        free(r->content_range);
        free(r->last_modified);
        free(r->content_disposition);
        free(r->reason);
        *r = (struct reg_resp){0};
}

int reg_open(const struct registry_opts *o, const struct registry_auth *auth, const char *domain,
             const char *scope, struct reg **ret, struct berth_err *err)
{
        (void)err;
        struct reg *rg = xzalloc(sizeof(*rg));
        rg->o = o;
        rg->auth = auth;
        rg->domain = xstrdup(domain);
        rg->host = xstrdup(streq(domain, "docker.io") ? "registry-1.docker.io" : domain);
        int lvl = insecure_level(o, domain);
        rg->insecure = lvl > 0;
        rg->skip_verify = lvl > 1;
        rg->scope = scope ? xstrdup(scope) : NULL;
        pthread_mutex_init(&rg->lock, NULL);
        if (auth && auth->registrytoken)
                rg->authz = xasprintf("Bearer %s", auth->registrytoken);
        *ret = rg;
        return 0;
}

struct reg *reg_close(struct reg *rg)
{
        if (!rg)
                return NULL;
        free(rg->domain);
        free(rg->host);
        free(rg->base);
        free(rg->scope);
        free(rg->authz);
        free(rg->identity_token);
        for (size_t i = 0; i < rg->n_pool; i++)
                curl_easy_cleanup(rg->pool[i]);
        pthread_mutex_destroy(&rg->lock);
        free(rg);
        return NULL;
}

static long timeout_of(const struct registry_opts *o)
{
        return o->timeout_s > 0 ? o->timeout_s : 30;
}

struct xfer {
        CURL *cu;
        const struct reg_req *q;
        struct reg_resp *resp;
        off_t up_pos;
        bool stopped;
};

static char *header_value(const char *line, size_t n, const char *name)
{
        size_t k = strlen(name);
        if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
                return NULL;
        const char *v = line + k + 1;
        const char *e = line + n;
        while (v < e && isspace((unsigned char)*v))
                v++;
        while (e > v && isspace((unsigned char)e[-1]))
                e--;
        return xstrndup(v, (size_t)(e - v));
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
        struct xfer *x = ud;
        size_t n = sz * nm;
        struct reg_resp *r = x->resp;
        char *v;
        if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* a new response (after a redirect or 100): forget the last */
                char *fields[] = {r->content_type,
                                  r->digest,
                                  r->location,
                                  r->www_auth,
                                  r->content_range,
                                  r->last_modified,
                                  r->content_disposition,
                                  r->reason};
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        free(fields[i]);
                r->content_type = r->digest = r->location = r->www_auth = r->content_range = NULL;
                r->last_modified = r->content_disposition = r->reason = NULL;
                r->content_length = -1;
                /* "HTTP/1.1 404 Not Found": the reason phrase, for messages */
                const char *e = p + n, *q = memchr(p, ' ', n);
                if (q && (q = memchr(q + 1, ' ', (size_t)(e - q - 1)))) {
                        q++;
                        while (e > q && isspace((unsigned char)e[-1]))
                                e--;
                        r->reason = xstrndup(q, (size_t)(e - q));
                }
        } else if ((v = header_value(p, n, "Last-Modified"))) {
                free(r->last_modified);
                r->last_modified = v;
        } else if ((v = header_value(p, n, "Content-Disposition"))) {
                free(r->content_disposition);
                r->content_disposition = v;
        } else if ((v = header_value(p, n, "Content-Type"))) {
                free(r->content_type);
                r->content_type = v;
        } else if ((v = header_value(p, n, "Docker-Content-Digest"))) {
                free(r->digest);
                r->digest = v;
        } else if ((v = header_value(p, n, "Location"))) {
                free(r->location);
                r->location = v;
        } else if ((v = header_value(p, n, "WWW-Authenticate"))) {
                free(r->www_auth);
                r->www_auth = v;
        } else if ((v = header_value(p, n, "Content-Range"))) {
                free(r->content_range);
                r->content_range = v;
        } else if ((v = header_value(p, n, "Content-Length"))) {
                r->content_length = strtoll(v, NULL, 10);
                free(v);
        }
        return n;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
        struct xfer *x = ud;
        size_t n = sz * nm;
        long status = 0;
        curl_easy_getinfo(x->cu, CURLINFO_RESPONSE_CODE, &status);
        x->resp->status = status;
        if (x->q->sink && (status == 200 || status == 206)) {
                size_t m = x->q->sink(x->q->sink_ud, p, n, status);
                if (m != n)
                        x->stopped = true;
                return m;
        }
        size_t max = x->q->max_body ? x->q->max_body : REG_ERRBODY_MAX;
        struct reg_resp *r = x->resp;
        if (r->len + n > max) {
                r->truncated = true;
                x->stopped = true;
                return 0;
        }
        r->body = xrealloc(r->body, r->len + n + 1);
        memcpy(r->body + r->len, p, n);
        r->len += n;
        r->body[r->len] = '\0';
        return n;
}

static size_t on_upload(char *p, size_t sz, size_t nm, void *ud)
{
        struct xfer *x = ud;
        size_t n = sz * nm;
        const struct reg_req *q = x->q;
        if (q->body_fd >= 0) {
                off_t left = q->body_size - x->up_pos;
                if ((off_t)n > left)
                        n = (size_t)left;
                ssize_t m = pread(q->body_fd, p, n, q->body_off + x->up_pos);
                if (m < 0)
                        return CURL_READFUNC_ABORT;
                x->up_pos += m;
                return (size_t)m;
        }
        size_t left = q->body_len - (size_t)x->up_pos;
        if (n > left)
                n = left;
        memcpy(p, (const char *)q->body + x->up_pos, n);
        x->up_pos += (off_t)n;
        return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
        (void)dt, (void)dn, (void)ut, (void)un;
        struct xfer *x = ud;
        reg_heartbeat(); /* curl calls this at least once a second */
        if (x->q->abort_fn && x->q->abort_fn(x->q->sink_ud)) {
                x->stopped = true;
                return 1;
        }
        return 0;
}

static CURLcode ssl_ctx_cb(CURL *cu, void *ctx, void *ud)
{
        (void)cu;
        const char *ca = ud;
        X509_STORE *st = SSL_CTX_get_cert_store(ctx);
        if (!X509_STORE_load_file(st, ca))
                return CURLE_SSL_CACERT_BADFILE;
        return CURLE_OK;
}

static char *get_authz(struct reg *rg)
{
        pthread_mutex_lock(&rg->lock);
        char *a = rg->authz ? xstrdup(rg->authz) : NULL;
        pthread_mutex_unlock(&rg->lock);
        return a;
}

/* One HTTP exchange, no auth handling. */
static int perform(struct reg *rg, const struct reg_req *q, const char *url, const char *authz,
                   bool verify, struct reg_resp *resp)
{
        /* handles are kept for the next request: their connections, TLS
         * sessions and CA store are reused */
        CURL *cu = NULL;
        pthread_mutex_lock(&rg->lock);
        if (rg->n_pool > 0)
                cu = rg->pool[--rg->n_pool];
        pthread_mutex_unlock(&rg->lock);
        if (cu)
                curl_easy_reset(cu);
        else if (!(cu = curl_easy_init()))
                return -ENOMEM;
        struct xfer x = {.cu = cu, .q = q, .resp = resp};
        struct curl_slist *h = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        *resp = (struct reg_resp){.content_length = -1};

        curl_easy_setopt(cu, CURLOPT_URL, url);
        curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(cu, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
        curl_easy_setopt(cu, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(cu, CURLOPT_MAXREDIRS, 8L);
        curl_easy_setopt(cu, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(cu, CURLOPT_REDIR_PROTOCOLS_STR, rg->insecure ? "http,https" : "https");
        curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT, timeout_of(rg->o));
        curl_easy_setopt(cu, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(cu, CURLOPT_LOW_SPEED_TIME, timeout_of(rg->o));
        curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(cu, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(cu, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(cu, CURLOPT_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(cu, CURLOPT_XFERINFODATA, &x);
        if (!verify) {
                curl_easy_setopt(cu, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(cu, CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (rg->o->ca) {
                curl_easy_setopt(cu, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
                curl_easy_setopt(cu, CURLOPT_SSL_CTX_DATA, (void *)rg->o->ca);
        }
        if (streq(q->method, "HEAD"))
                curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
        else if (!streq(q->method, "GET")) {
                curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, q->method);
                if (q->body || q->body_fd >= 0) {
                        curl_easy_setopt(cu, CURLOPT_UPLOAD, 1L);
                        curl_easy_setopt(cu, CURLOPT_READFUNCTION, on_upload);
                        curl_easy_setopt(cu, CURLOPT_READDATA, &x);
                        curl_easy_setopt(
                            cu, CURLOPT_INFILESIZE_LARGE,
                            (curl_off_t)(q->body_fd >= 0 ? q->body_size : (off_t)q->body_len));
                } else {
                        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
                        curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
                }
        }
        for (const char *const *i = q->headers; i && *i; i++)
                h = curl_slist_append(h, *i);
        if (authz) {
                _cleanup_free_ char *a = xasprintf("Authorization: %s", authz);
                h = curl_slist_append(h, a);
        }
        if (q->range_from > 0) {
                _cleanup_free_ char *r = xasprintf("Range: bytes=%lld-", (long long)q->range_from);
                h = curl_slist_append(h, r);
        }
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
        CURLcode cc = curl_easy_perform(cu);
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_slist_free_all(h);
        if (cc == CURLE_WRITE_ERROR && resp->truncated)
                cc = CURLE_OK; /* reported by the caller: the body is over its limit */
        resp->cc = cc;
        if (cc != CURLE_OK && errbuf[0]) {
                /* keep curl's detailed text for the message */
                free(resp->body);
                resp->body = xstrdup(errbuf);
                resp->len = strlen(errbuf);
        }
        pthread_mutex_lock(&rg->lock);
        if (rg->n_pool < ELEMENTSOF(rg->pool)) {
                rg->pool[rg->n_pool++] = cu;
                cu = NULL;
        }
        pthread_mutex_unlock(&rg->lock);
        if (cu)
                curl_easy_cleanup(cu);
        return 0;
}

int reg_perform(struct reg *rg, const struct reg_req *q, bool verify, struct reg_resp *resp)
{
        return perform(rg, q, q->url, NULL, verify, resp);
}

bool reg_retryable(CURLcode cc)
{
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

static int transport_error(struct reg *rg, const struct reg_req *q, const char *url,
                           const struct reg_resp *resp, struct berth_err *err)
{
        const char *why = resp->body ? resp->body : curl_easy_strerror(resp->cc);
        switch (resp->cc) {
        case CURLE_OPERATION_TIMEDOUT:
                return err_set(err, -ETIMEDOUT, "%s %s: registry timed out (%lds without data): %s",
                               q->method, url, timeout_of(rg->o), why);
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                return err_set(err, -ECONNREFUSED, "%s %s: cannot connect to registry: %s",
                               q->method, url, why);
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CONNECT_ERROR:
                return err_set(err, -EPROTO, "%s %s: TLS: %s", q->method, url, why);
        default:
                return err_set(err, -EIO, "%s %s: %s", q->method, url, why);
        }
}

/* The parameters of a WWW-Authenticate challenge: Scheme key="value",key=value...
 * Read pair by pair, so that a "key=" inside a quoted value (a realm's
 * query string) is not taken for a parameter; a quoted value may hold
 * escaped characters (\" and \\), an unterminated one runs to the end. */
char *reg_challenge_param(const char *ch, const char *key)
{
        size_t k = strlen(key);
        const char *p = ch;
        /* the scheme ("Bearer"), unless the challenge starts with a parameter */
        size_t first = strcspn(p, " =,");
        if (p[first] == ' ')
                p += first;
        while (*p) {
                p += strspn(p, " ,");
                const char *name = p;
                p += strcspn(p, "= ,");
                size_t nl = (size_t)(p - name);
                if (*p != '=')
                        continue; /* a bare token */
                p++;
                bool match = nl == k && strncasecmp(name, key, k) == 0;
                if (*p != '"') {
                        size_t vl = strcspn(p, " ,");
                        if (match)
                                return xstrndup(p, vl);
                        p += vl;
                        continue;
                }
                p++;
                _cleanup_free_ char *v = xmalloc(strlen(p) + 1);
                size_t o = 0;
                while (*p && *p != '"') {
                        if (*p == '\\' && p[1])
                                p++;
                        v[o++] = *p++;
                }
                v[o] = '\0';
                if (*p == '"')
                        p++;
                if (match)
                        return TAKE_PTR(v);
        }
        return NULL;
}

static char *basic_authz(const struct registry_auth *a)
{
        _cleanup_free_ char *up = xasprintf("%s:%s", strempty(a->username), strempty(a->password));
        size_t n = strlen(up);
        char *out = xzalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (unsigned char *)up, (int)n);
        char *r = xasprintf("Basic %s", out);
        free(out);
        return r;
}

static char *url_escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s, 0);
        char *r = xstrdup(e);
        curl_free(e);
        return r;
}

/* Ask the token server of a Bearer challenge for a token of our scope. */
static int fetch_token(struct reg *rg, const char *challenge, struct berth_err *err)
{
        _cleanup_free_ char *realm = reg_challenge_param(challenge, "realm");
        _cleanup_free_ char *service = reg_challenge_param(challenge, "service");
        _cleanup_free_ char *cscope = reg_challenge_param(challenge, "scope");
        if (!realm)
                return err_set(err, -EPROTO,
                               "registry '%s' asks for a bearer token without a realm", rg->domain);
        if (!startswith(realm, "https://") && !(rg->insecure && startswith(realm, "http://")))
                return err_set(err, -EPROTO, "token realm '%s' of registry '%s' is not https",
                               realm, rg->domain);
        _cleanup_free_ char *qs = xstrdup("");
        if (service) {
                _cleanup_free_ char *e = url_escape(service);
                char *n = xasprintf("%s&service=%s", qs, e);
                free(qs);
                qs = n;
        }
        _cleanup_strv_ char **scopes = strv_split(strempty(rg->scope), " ");
        if (cscope && !strv_contains(scopes, cscope))
                scopes = strv_push(scopes, xstrdup(cscope));
        for (char **s = scopes; *s; s++) {
                _cleanup_free_ char *e = url_escape(*s);
                char *n = xasprintf("%s&scope=%s", qs, e);
                free(qs);
                qs = n;
        }
        const struct registry_auth *a = rg->auth;
        struct reg_resp resp = {0};
        struct reg_req q = {.method = "GET", .body_fd = -1, .max_body = 1u << 20};
        _cleanup_free_ char *url = NULL, *form = NULL, *authz = NULL;
        const char *form_hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
        if (a && a->identitytoken) {
                /* OAuth2: the refresh token for an access token */
                _cleanup_free_ char *e = url_escape(a->identitytoken);
                url = xstrdup(realm);
                form =
                    xasprintf("grant_type=refresh_token&client_id=berth&refresh_token=%s%s", e, qs);
                q.method = "POST";
                q.body = form;
                q.body_len = strlen(form);
                q.headers = form_hdr;
        } else {
                url = xasprintf("%s%s%s&account=%s", realm, strchr(realm, '?') ? "&" : "?",
                                qs[0] ? qs + 1 : "client_id=berth",
                                a && a->username ? a->username : "");
                if (a && a->username)
                        authz = basic_authz(a);
        }
        q.url = url;
        perform(rg, &q, url, authz, true, &resp);
        if (resp.cc != CURLE_OK) {
                transport_error(rg, &q, url, &resp, err);
                reg_resp_done(&resp);
                return err_prefix(err, "get a token from '%s'", realm);
        }
        if (resp.status != 200) {
                int r = reg_http_error(&resp, NULL, err);
                reg_resp_done(&resp);
                if (r == -EACCES)
                        return r;
                return err_wrap(err, r, "get a token from '%s'", realm);
        }
        json_error_t je;
        _cleanup_json_ json_t *j = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
        reg_resp_done(&resp);
        const char *tok = json_get_str(j, "token", NULL);
        if (isempty(tok))
                tok = json_get_str(j, "access_token", NULL);
        if (isempty(tok))
                return err_set(err, -EPROTO, "token server '%s' answered without a token", realm);
        pthread_mutex_lock(&rg->lock);
        free(rg->authz);
        rg->authz = xasprintf("Bearer %s", tok);
        const char *refresh = json_get_str(j, "refresh_token", NULL);
        if (!isempty(refresh)) {
                free(rg->identity_token);
                rg->identity_token = xstrdup(refresh);
        }
        pthread_mutex_unlock(&rg->lock);
        return 1;
}

/* Answer a 401's challenge: 1 when there is new auth to try, 0 when not. */
static int authenticate(struct reg *rg, const char *challenge, const char *used,
                        struct berth_err *err)
{
        if (!challenge)
                return 0;
        if (strncasecmp(challenge, "Bearer", 6) == 0) {
                if (used && startswith(used, "Bearer ") && rg->auth && rg->auth->registrytoken)
                        return 0;
                return fetch_token(rg, challenge, err);
        }
        if (strncasecmp(challenge, "Basic", 5) == 0) {
                if (!rg->auth || !rg->auth->username)
                        return 0;
                _cleanup_free_ char *b = basic_authz(rg->auth);
                if (streq_ptr(used, b))
                        return 0;
                pthread_mutex_lock(&rg->lock);
                free(rg->authz);
                rg->authz = TAKE_PTR(b);
                pthread_mutex_unlock(&rg->lock);
                return 1;
        }
        return 0;
}

int reg_do(struct reg *rg, const struct reg_req *q, struct reg_resp *resp, struct berth_err *err)
{
        _cleanup_free_ char *url = NULL;
        if (!rg->base) {
                int r = reg_ping(rg, err);
                if (r < 0)
                        return r;
        }
        url = q->url[0] == '/' ? xasprintf("%s%s", rg->base, q->url) : xstrdup(q->url);
        for (int attempt = 0;; attempt++) {
                _cleanup_free_ char *authz = get_authz(rg);
                int r = perform(rg, q, url, authz, !rg->skip_verify, resp);
                if (r < 0)
                        return err_errno(err, r, "%s %s", q->method, url);
                if (resp->cc != CURLE_OK) {
                        r = transport_error(rg, q, url, resp, err);
                        reg_resp_done(resp);
                        return r;
                }
                if (resp->status != 401 || attempt > 0)
                        return 0;
                _cleanup_free_ char *ch = resp->www_auth ? xstrdup(resp->www_auth) : NULL;
                r = authenticate(rg, ch, authz, err);
                if (r <= 0) {
                        if (r < 0)
                                reg_resp_done(resp);
                        return r;
                }
                reg_resp_done(resp);
        }
}

int reg_ping(struct reg *rg, struct berth_err *err)
{
        /* https first; plain http only for an insecure registry whose https
         * does not answer. Where plain http is allowed, the https probe does
         * not verify (it only asks whether TLS is spoken, and saves loading
         * the CA store for a plain registry); a registry that does speak TLS
         * is then asked again, verified, before anything is believed. */
        const char *schemes[] = {"https", "http"};
        struct reg_req q = {.method = "GET", .body_fd = -1};
        struct reg_resp resp = {0};
        int r = 0;
        for (size_t i = 0; i < (rg->insecure ? 2u : 1u); i++) {
                _cleanup_free_ char *url = xasprintf("%s://%s/v2/", schemes[i], rg->host);
                q.url = url;
                bool probe = i == 0 && rg->insecure && !rg->skip_verify;
                perform(rg, &q, url, NULL, !rg->skip_verify && !probe, &resp);
                if (resp.cc == CURLE_OK && probe) {
                        reg_resp_done(&resp);
                        perform(rg, &q, url, NULL, true, &resp);
                }
                if (resp.cc == CURLE_OK) {
                        rg->base = xasprintf("%s://%s", schemes[i], rg->host);
                        break;
                }
                err_clear(err);
                r = transport_error(rg, &q, url, &resp, err);
                CURLcode cc = resp.cc;
                reg_resp_done(&resp);
                /* a certificate that does not verify is not a reason to
                 * talk plain http; nor is a registry that does not answer */
                if (cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_PEER_FAILED_VERIFICATION ||
                    cc == CURLE_COULDNT_CONNECT || cc == CURLE_SSL_CACERT_BADFILE)
                        return r;
        }
        if (!rg->base)
                return r;
        if (resp.status == 401) {
                _cleanup_free_ char *authz = get_authz(rg);
                r = authenticate(rg, resp.www_auth, authz, err);
                if (r < 0) {
                        reg_resp_done(&resp);
                        return r;
                }
        } else if (resp.status >= 500) {
                r = reg_http_error(&resp, NULL, err);
                reg_resp_done(&resp);
                return err_wrap(err, r, "registry '%s'", rg->domain);
        }
        reg_resp_done(&resp);
        return 0;
}

int reg_http_error(const struct reg_resp *resp, const char *what, struct berth_err *err)
{
        int code = resp->status == 404   ? -ENOENT
                   : resp->status == 401 ? -EACCES
                   : resp->status == 403 ? -EACCES
                   : resp->status == 400 ? -EINVAL
                   : resp->status == 429 ? -EAGAIN
                                         : -EIO;
        json_error_t je;
        _cleanup_json_ json_t *j =
            resp->body ? json_loadb(resp->body, resp->len, JSON_DECODE_ANY, &je) : NULL;
        json_t *errors = json_object_get(j, "errors");
        _cleanup_free_ char *msg = NULL;
        if (json_array_size(errors) > 0) {
                size_t i;
                json_t *e;
                json_array_foreach (errors, i, e) {
                        _cleanup_free_ char *c = xstrdup(json_get_str(e, "code", "error"));
                        for (char *p = c; *p; p++)
                                *p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
                        char *m = xasprintf("%s%s%s: %s", strempty(msg), msg ? "; " : "", c,
                                            json_get_str(e, "message", ""));
                        free(msg);
                        msg = m;
                }
        } else if (json_get_str(j, "details", NULL) || json_get_str(j, "message", NULL)) {
                const char *m = json_get_str(j, "details", NULL);
                msg = xstrdup(m ? m : json_get_str(j, "message", ""));
        } else if (resp->status == 401)
                msg = xstrdup("unauthorized: authentication required");
        else if (resp->body && resp->len > 0 && resp->len < 512)
                msg = xasprintf("HTTP %ld: %.*s", resp->status, (int)strcspn(resp->body, "\r\n"),
                                resp->body);
        else
                msg = xasprintf("HTTP status %ld", resp->status);
        if (code == -EACCES && !strstr(msg, "unauthorized") && !strstr(msg, "denied")) {
                char *m = xasprintf("unauthorized: %s", msg);
                free(msg);
                msg = m;
        }
        if (what)
                return err_set(err, code, "%s: %s", what, msg);
        return err_set(err, code, "%s", msg);
}

/* --- progress ----------------------------------------------------------- */

void reg_short_id(const char *digest, char ret[13])
{
        const char *h = strchr(digest, ':');
        snprintf(ret, 13, "%s", h ? h + 1 : digest);
}

static void human(int64_t n, char *buf, size_t len)
{
        const char *u[] = {"B", "kB", "MB", "GB", "TB"};
        double v = (double)n;
        size_t i = 0;
        while (v >= 1000 && i + 1 < ELEMENTSOF(u)) {
                v /= 1000;
                i++;
        }
        if (i == 0)
                snprintf(buf, len, "%lldB", (long long)n);
        else
                snprintf(buf, len, "%.4g%s", v, u[i]);
}

json_t *reg_progress(const char *id, const char *status, int64_t current, int64_t total)
{
        json_t *m = json_pack("{s:s}", "status", status);
        if (id)
                json_object_set_new(m, "id", json_string(id));
        if (current < 0) {
                if (id)
                        json_object_set_new(m, "progressDetail", json_object());
                return m;
        }
        json_object_set_new(m, "progressDetail",
                            total > 0 ? json_pack("{s:I, s:I}", "current", (json_int_t)current,
                                                  "total", (json_int_t)total)
                                      : json_pack("{s:I}", "current", (json_int_t)current));
        char cur[32], tot[32], bar[64];
        human(current, cur, sizeof(cur));
        if (total > 0) {
                human(total, tot, sizeof(tot));
                int w = 50, fill = (int)(w * (current > total ? total : current) / total);
                memset(bar, '=', (size_t)fill);
                int k = fill;
                if (fill < w)
                        bar[k++] = '>';
                while (k < w)
                        bar[k++] = ' ';
                bar[w] = '\0';
                json_object_set_new(m, "progress", json_sprintf("[%s] %8s/%s", bar, cur, tot));
        } else
                json_object_set_new(m, "progress", json_sprintf("%8s", cur));
        return m;
}
