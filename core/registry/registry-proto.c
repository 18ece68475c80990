/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON lines between berthd and berth-registry (registry-proto.h):
 * the request's options and credentials (the framing is json.c's). Both sides link it;
 * it needs neither libcurl nor OpenSSL. */
#include "registry-proto.h"
#include "base/json.h"

json_t *jline_strv(char *const *v)
{
        json_t *a = json_array();
        for (; v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

char **jline_strv_parse(json_t *a)
{
        if (!json_is_array(a))
                return NULL;
        char **out = xzalloc(sizeof(char *));
        size_t i;
        json_t *v;
        json_array_foreach (a, i, v) {
                if (!json_is_string(v))
                        return strv_free(out);
                out = strv_push(out, xstrdup(json_string_value(v)));
        }
        return out;
}

json_t *registry_opts_to_json(const struct registry_opts *o)
{
        return json_pack("{s:o, s:s?, s:I, s:i, s:i}", "insecure", jline_strv(o->insecure), "ca",
                         o->ca, "timeout", (json_int_t)o->timeout_s, "retries", o->retries,
                         "parallel", o->parallel);
}

void registry_opts_from_json(json_t *j, struct registry_opts *o)
{
        char **ins = jline_strv_parse(json_object_get(j, "insecure"));
        const char *ca = json_get_str(j, "ca", NULL);
        *o = (struct registry_opts){.insecure = ins ? ins : xzalloc(sizeof(char *)),
                                    .ca = ca ? xstrdup(ca) : NULL,
                                    .timeout_s = json_get_int(j, "timeout", 0),
                                    .retries = (int)json_get_int(j, "retries", -1),
                                    .parallel = (int)json_get_int(j, "parallel", 0)};
}

void registry_opts_done(struct registry_opts *o)
{
        strv_free(o->insecure);
        free((char *)o->ca);
        *o = (struct registry_opts){0};
}

json_t *registry_auth_to_json(const struct registry_auth *a)
{
        return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?}", "username", a->username, "password",
                         a->password, "identitytoken", a->identitytoken, "registrytoken",
                         a->registrytoken, "serveraddress", a->serveraddress);
}

json_t *registry_err_to_json(int code, const struct berth_err *err)
{
        return json_pack("{s:i, s:s}", "code", code, "message", err_msg(err));
}

int registry_err_from_json(json_t *j, struct berth_err *err)
{
        int64_t code = json_get_int(j, "code", -EIO);
        if (code >= 0 || code < -4095)
                code = -EIO;
        return err_set(err, (int)code, "%s", json_get_str(j, "message", "unknown error"));
}

void registry_fetch_result_done(struct registry_fetch_result *r)
{
        free(r->content_type);
        free(r->filename);
        free(r->digest);
        *r = (struct registry_fetch_result){0};
}
