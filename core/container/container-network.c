/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker network connect/disconnect on the container's side: the
 * container's record is locked, the network layer brings the endpoint up
 * or down on a copy of it, and the record takes the new NetworkSettings
 * and is saved here, by its only writer. */
#include "container-internal.h"

#include <ctype.h>

/* Find ref with the lock held, once no exit is being handled for it (its
 * NetworkSettings are final then). */
static int lock_settled(struct container_store *s, const char *ref, struct record **ret,
                        struct berth_err *err)
{
        int r = ct_lock_find(s, ref, ret, err);
        if (r < 0)
                return r;
        char id[65];
        memcpy(id, (*ret)->id, 65);
        while (*ret && (*ret)->exiting) {
                pthread_cond_wait(&s->changed, &s->lock);
                int code;
                *ret = ct_find_locked(s, id, &code);
        }
        if (!*ret) {
                pthread_mutex_unlock(&s->lock);
                return ct_not_found(err, ref, -ENOENT);
        }
        return 0;
}

int container_network_connect(struct container_store *s, const char *net, const char *ref,
                              json_t *endpoint_config, struct berth_err *err)
{
        struct record *rc;
        int r = lock_settled(s, ref, &rc, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *copy = json_deep_copy(rc->j);
        r = s->d.net->connect(s->d.net_ctx, net, rc->id, copy, ct_is_running(rc->j),
                              endpoint_config, err);
        if (r == 0) {
                json_object_set(rc->j, "NetworkSettings", json_object_get(copy, "NetworkSettings"));
                r = ct_record_save(s, rc, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

int container_network_disconnect(struct container_store *s, const char *net, const char *ref,
                                 struct berth_err *err)
{
        struct record *rc;
        int r = lock_settled(s, ref, &rc, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *copy = json_deep_copy(rc->j);
        r = s->d.net->disconnect(s->d.net_ctx, net, rc->id, copy, err);
        if (r == 0) {
                json_object_set(rc->j, "NetworkSettings", json_object_get(copy, "NetworkSettings"));
                r = ct_record_save(s, rc, err);
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* --- legacy links (--link name:alias) ----------------------------------------- */

/* "db", "/db", "/web/db" -> "db" */
static const char *base_name(const char *s)
{
        const char *slash = strrchr(s, '/');
        return slash ? slash + 1 : s;
}

int ct_links_resolve(struct container_store *s, json_t *hc, const char *parent,
                     struct berth_err *err)
{
        json_t *links = json_object_get(hc, "Links");
        if (!json_array_size(links))
                return 0;
        const char *mode = json_get_str(hc, "NetworkMode", "");
        if (streq(mode, "host") || startswith(mode, "container:"))
                return err_set(err, -EINVAL,
                               "conflicting options: %s type networking can't be used with links. "
                               "This would result in undefined behavior",
                               streq(mode, "host") ? "host" : "container");
        _cleanup_json_ json_t *out = json_array();
        size_t i;
        json_t *v;
        pthread_mutex_lock(&s->lock);
        json_array_foreach (links, i, v) {
                const char *l = strempty(json_string_value(v));
                const char *colon = strchr(l, ':');
                _cleanup_free_ char *name = colon ? xstrndup(l, (size_t)(colon - l)) : xstrdup(l);
                const char *alias = base_name(colon ? colon + 1 : name);
                int code;
                struct record *c = *name && *alias ? ct_find_locked(s, name, &code) : NULL;
                if (!c) {
                        pthread_mutex_unlock(&s->lock);
                        if (!*name || !*alias)
                                return err_set(err, -EINVAL, "invalid link '%s'", l);
                        /* not 404: the CLI would pull the image */
                        return err_set(err, -EINVAL, "could not get container for %s", name);
                }
                json_array_append_new(out, json_sprintf("%s:%s/%s", c->name, parent, alias));
        }
        pthread_mutex_unlock(&s->lock);
        json_object_set(hc, "Links", out);
        return 0;
}

/* The variables of one linked port: ALIAS_PORT_80_TCP[_ADDR|_PORT|_PROTO]. */
static void port_env(json_t *env, const char *alias, const char *ip, int port, const char *proto)
{
        _cleanup_free_ char *up = xstrdup(proto);
        for (char *c = up; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        json_array_append_new(
            env, json_sprintf("%s_PORT_%d_%s=%s://%s:%d", alias, port, up, proto, ip, port));
        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_ADDR=%s", alias, port, up, ip));
        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_PORT=%d", alias, port, up, port));
        json_array_append_new(env, json_sprintf("%s_PORT_%d_%s_PROTO=%s", alias, port, up, proto));
}

struct exposed {
        int port;
        char proto[8];
};

static int exposed_cmp(const void *a, const void *b)
{
        const struct exposed *x = a, *y = b;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return strcmp(x->proto, y->proto); /* tcp before udp */
}

/* What Docker gives a container for one link: the environment of the
 * linked container's exposed ports, its name and its environment (less
 * HOME and PATH), the ALIAS in upper case with '-' as '_'. */
static json_t *link_env(json_t *child, const char *link_name, const char *ip)
{
        _cleanup_free_ char *alias = xstrdup(base_name(link_name));
        for (char *c = alias; *c; c++)
                *c = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
        json_t *env = json_array();
        json_t *ports = json_object_get(json_object_get(child, "Config"), "ExposedPorts");
        size_t n = 0;
        struct exposed *v = xzalloc((json_object_size(ports) + 1) * sizeof(*v));
        const char *key;
        json_t *x;
        json_object_foreach (ports, key, x) {
                int64_t p;
                char buf[32];
                snprintf(buf, sizeof(buf), "%s", key);
                char *slash = strchr(buf, '/');
                if (slash)
                        *slash = '\0';
                if (parse_int64(buf, &p) < 0 || p < 1 || p > 65535)
                        continue;
                v[n].port = (int)p;
                snprintf(v[n].proto, sizeof(v[n].proto), "%s", slash ? slash + 1 : "tcp");
                n++;
        }
        qsort(v, n, sizeof(*v), exposed_cmp);
        if (n)
                json_array_append_new(
                    env, json_sprintf("%s_PORT=%s://%s:%d", alias, v[0].proto, ip, v[0].port));
        for (size_t i = 0; i < n; i++)
                port_env(env, alias, ip, v[i].port, v[i].proto);
        free(v);
        json_array_append_new(env, json_sprintf("%s_NAME=%s", alias, link_name));
        size_t i;
        json_array_foreach (json_object_get(json_object_get(child, "Config"), "Env"), i, x) {
                const char *e = strempty(json_string_value(x));
                const char *eq = strchr(e, '=');
                if (!eq || startswith(e, "HOME=") || startswith(e, "PATH="))
                        continue;
                json_array_append_new(env, json_sprintf("%s_ENV_%s", alias, e));
        }
        return env;
}

static bool env_has(json_t *env, const char *kv)
{
        size_t l = strcspn(kv, "=");
        size_t i;
        json_t *x;
        json_array_foreach (env, i, x) {
                const char *e = strempty(json_string_value(x));
                if (strncmp(e, kv, l) == 0 && (e[l] == '=' || e[l] == '\0'))
                        return true;
        }
        return false;
}

int ct_links_apply(struct container_store *s, json_t *rec, struct berth_err *err)
{
        json_t *hc = json_object_get(rec, "HostConfig");
        json_t *links = json_object_get(hc, "Links");
        json_t *nets = json_object_get(json_object_get(rec, "NetworkSettings"), "Networks");
        if (!json_array_size(links) || !json_object_get(nets, "bridge"))
                return 0;
        json_t *cfg = json_object_get(rec, "Config");
        json_t *own = json_object_get(cfg, "Env");
        _cleanup_json_ json_t *env = json_array();
        json_t *eh = json_object_get(hc, "ExtraHosts");
        if (!json_is_array(eh)) {
                eh = json_array();
                json_object_set_new(hc, "ExtraHosts", eh);
        }
        size_t i;
        json_t *v;
        pthread_mutex_lock(&s->lock);
        json_array_foreach (links, i, v) {
                const char *l = strempty(json_string_value(v));
                const char *colon = strchr(l, ':');
                if (!colon)
                        continue;
                _cleanup_free_ char *child = xstrndup(l, (size_t)(colon - l));
                int code;
                struct record *c = ct_find_locked(s, child, &code);
                if (!c || !ct_is_running(c->j)) {
                        pthread_mutex_unlock(&s->lock);
                        return err_set(err, -EINVAL,
                                       "Cannot link to a non running container: %s AS %s", child,
                                       colon + 1);
                }
                const char *ip = json_get_str(
                    json_object_get(
                        json_object_get(json_object_get(c->j, "NetworkSettings"), "Networks"),
                        "bridge"),
                    "IPAddress", "");
                if (!*ip)
                        continue;
                /* the alias, the linked container's hostname and name */
                const char *alias = base_name(colon + 1);
                const char *host = json_get_str(json_object_get(c->j, "Config"), "Hostname", "");
                json_array_append_new(eh, json_sprintf("%s%s%s%s%s:%s", alias, *host ? " " : "",
                                                       host, streq(alias, c->name + 1) ? "" : " ",
                                                       streq(alias, c->name + 1) ? "" : c->name + 1,
                                                       ip));
                _cleanup_json_ json_t *le = link_env(c->j, colon + 1, ip);
                size_t k;
                json_t *e;
                json_array_foreach (le, k, e)
                        if (!env_has(own, json_string_value(e)) &&
                            !env_has(env, json_string_value(e)))
                                json_array_append(env, e);
        }
        pthread_mutex_unlock(&s->lock);
        /* the container's own variables win */
        json_array_extend(env, own);
        json_object_set(cfg, "Env", env);
        return 0;
}

int container_link_remove(struct container_store *s, const char *link, struct berth_err *err)
{
        _cleanup_free_ char *full = xasprintf("%s%s", link[0] == '/' ? "" : "/", link);
        const char *slash = strrchr(full, '/');
        if (slash == full)
                return err_set(err, -EINVAL, "Conflict, cannot remove the default link name.");
        _cleanup_free_ char *parent = xstrndup(full, (size_t)(slash - full));
        struct record *rc;
        int r = ct_lock_find(s, parent, &rc, err);
        if (r < 0)
                return r;
        json_t *links = json_object_get(json_object_get(rc->j, "HostConfig"), "Links");
        size_t i;
        json_t *v;
        json_array_foreach (links, i, v) {
                const char *colon = strchr(strempty(json_string_value(v)), ':');
                if (colon && streq(colon + 1, full)) {
                        json_array_remove(links, i);
                        r = ct_record_save(s, rc, err);
                        pthread_mutex_unlock(&s->lock);
                        return r;
                }
        }
        pthread_mutex_unlock(&s->lock);
        return err_set(err, -ENOENT, "Could not find link %s", full);
}
