/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Registry credentials: the JSON of POST /auth and X-Registry-Auth, the
 * config.json "auth" field, server names. Apart from the transport so that
 * the CLI can use them without libcurl or OpenSSL. */
#include "registry.h"
#include "base/json.h"
#include "base/util.h"

void registry_auth_done(struct registry_auth *a)
{
        free(a->username);
        free(a->password);
        free(a->identitytoken);
        free(a->registrytoken);
        free(a->serveraddress);
        *a = (struct registry_auth){0};
}

static char *dup_field(json_t *j, const char *k)
{
        const char *v = json_get_str(j, k, NULL);
        return isempty(v) ? NULL : xstrdup(v);
}

int registry_auth_from_json(json_t *j, struct registry_auth *ret, struct berth_err *err)
{
        *ret = (struct registry_auth){0};
        if (!json_is_object(j))
                return err_set(err, -EINVAL, "registry credentials must be a JSON object");
        ret->username = dup_field(j, "username");
        ret->password = dup_field(j, "password");
        ret->identitytoken = dup_field(j, "identitytoken");
        ret->registrytoken = dup_field(j, "registrytoken");
        ret->serveraddress = dup_field(j, "serveraddress");
        /* the CLI's config.json shape: "auth" is base64("user:password") */
        const char *basic = json_get_str(j, "auth", NULL);
        if (!ret->username && !isempty(basic)) {
                _cleanup_free_ unsigned char *out = NULL;
                size_t m = 0;
                char *colon =
                    base64_decode(basic, strlen(basic), &out, &m) == 0 ? memchr(out, ':', m) : NULL;
                if (colon) {
                        ret->username = xstrndup((char *)out, (size_t)(colon - (char *)out));
                        ret->password = xstrndup(colon + 1, m - (size_t)(colon + 1 - (char *)out));
                }
        }
        return 0;
}

int registry_auth_decode(const char *header, struct registry_auth *ret, struct berth_err *err)
{
        *ret = (struct registry_auth){0};
        if (isempty(header))
                return 0;
        _cleanup_free_ unsigned char *out = NULL;
        size_t m = 0;
        if (base64url_decode(header, &out, &m) < 0)
                return err_set(err, -EINVAL, "X-Registry-Auth is not base64");
        json_error_t je;
        _cleanup_json_ json_t *j = json_loadb((char *)out, m, 0, &je);
        if (!j)
                return err_set(err, -EINVAL, "X-Registry-Auth is not JSON: %s", je.text);
        return registry_auth_from_json(j, ret, err);
}

char *registry_auth_encode(const char *username, const char *password, const char *server)
{
        _cleanup_json_ json_t *j =
            json_pack("{s:s, s:s, s:s}", "username", strempty(username), "password",
                      strempty(password), "serveraddress", strempty(server));
        _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
                return NULL;
        char *out = base64_encode(s, strlen(s));
        for (char *p = out; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        return out;
}

char *registry_server_name(const char *server)
{
        if (isempty(server))
                return xstrdup("docker.io");
        const char *s = server;
        const char *p;
        if ((p = startswith(s, "https://")) || (p = startswith(s, "http://")))
                s = p;
        char *name = xstrndup(s, strcspn(s, "/"));
        if (streq(name, "index.docker.io") || streq(name, "registry-1.docker.io")) {
                free(name);
                name = xstrdup("docker.io");
        }
        return name;
}
