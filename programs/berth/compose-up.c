/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose up, create, run, down: the reconciliation of a project with
 * the engine, as docker compose v2 does it (compose-notes §2.3, §2.4, §3).
 *
 * up: the observed state is ONE GET /containers/json with the project's
 * label; networks and volumes are made (or reused) by name; images pulled or
 * built; then, service by service in dependency waves (the services of one
 * wave in parallel, each thread with its own connection), every container is
 * kept, created or recreated, with the reason printed; extras are removed.
 * Containers are then started in dependency order, each service as soon as
 * its depends_on conditions hold: the conditions are followed through ONE
 * event stream opened before the first start (start, die, health_status),
 * with one inspect of a dependency's containers to catch what happened
 * before, never by polling. An up that fails removes what it created itself
 * (containers, networks, volumes), so a failed first up leaves nothing. */
#include "compose.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- small helpers ------------------------------------------------------------- */

static void progress(struct compose_cli *cc, const char *kind, const char *name, const char *status)
{
        if (cc->progress && streq(cc->progress, "quiet"))
                return;
        fprintf(stderr, "%s %s %s  %s\n", cc->dry_run ? " DRY-RUN MODE - " : "", kind, name,
                status);
}

static const char *label_of(json_t *c, const char *key)
{
        json_t *l = json_object_get(c, "Labels");
        if (!l)
                l = json_object_get(json_object_get(c, "Config"), "Labels");
        return json_string_value(json_object_get(l, key));
}

/* "/p-web-1" -> "p-web-1" */
static const char *summary_name(json_t *c)
{
        const char *n = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (!n)
                n = json_get_str(c, "Name", "");
        return *n == '/' ? n + 1 : n;
}

static int api(struct client *c, const char *method, const char *path, json_t *body, json_t **ret,
               struct berth_err *err)
{
        return client_json(c, method, path, body, NULL, ret, err);
}

static char *path_fmt(const char *fmt, const char *arg)
{
        _cleanup_free_ char *e = cli_escape(arg);
        return xasprintf(fmt, e);
}

static char *filters_label(const char *key, const char *value)
{
        json_auto_t *f = json_pack("{s:[o]}", "label",
                                   value ? json_sprintf("%s=%s", key, value) : json_string(key));
        _cleanup_free_ char *s = json_dumps(f, JSON_COMPACT);
        return cli_escape(s);
}

static int stop_container(struct client *c, const char *id, int timeout, struct berth_err *err)
{
        _cleanup_free_ char *e = cli_escape(id);
        _cleanup_free_ char *p = timeout >= 0 ? xasprintf("/containers/%s/stop?t=%d", e, timeout)
                                              : xasprintf("/containers/%s/stop", e);
        return api(c, "POST", p, NULL, NULL, err);
}

static int remove_container(struct client *c, const char *id, bool force, bool volumes,
                            struct berth_err *err)
{
        _cleanup_free_ char *e = cli_escape(id);
        _cleanup_free_ char *p =
            xasprintf("/containers/%s?force=%d&v=%d", e, force ? 1 : 0, volumes ? 1 : 0);
        int r = api(c, "DELETE", p, NULL, NULL, err);
        return r == -ENOENT ? 0 : r;
}

/* A connection of its own for a worker thread, with the API version the main
 * one negotiated (no second ping). */
static int thread_client(struct compose_cli *cc, struct client *c, struct berth_err *err)
{
        int r = client_init(c, cc->cli->host, err);
        if (r < 0)
                return r;
        memcpy(c->version, cc->cli->client.version, sizeof(c->version));
        memcpy(c->server_version, cc->cli->client.server_version, sizeof(c->server_version));
        c->registry_auth = cc->cli->client.registry_auth;
        return 0;
}

/* Run fn on n items, at most cc->parallel at once, each worker with its own
 * connection. The first error is returned (the others still run to their
 * end: a half-done wave is rolled back as a whole). */
typedef int (*pool_fn)(struct compose_cli *cc, struct client *c, void *item, struct berth_err *err);
struct pool {
        struct compose_cli *cc;
        pool_fn fn;
        void **items;
        size_t n, next;
        pthread_mutex_t lock;
        int r;
        struct berth_err err;
};

static void *pool_worker(void *arg)
{
        struct pool *p = arg;
        struct client c;
        struct berth_err err = {0};
        int r = thread_client(p->cc, &c, &err);
        for (;;) {
                pthread_mutex_lock(&p->lock);
                if (r < 0 && p->r == 0) {
                        p->r = r;
                        p->err = err;
                }
                size_t i = p->next < p->n && r == 0 ? p->next++ : SIZE_MAX;
                pthread_mutex_unlock(&p->lock);
                if (i == SIZE_MAX)
                        break;
                err = (struct berth_err){0};
                r = p->fn(p->cc, &c, p->items[i], &err);
                if (r < 0) {
                        pthread_mutex_lock(&p->lock);
                        if (p->r == 0) {
                                p->r = r;
                                p->err = err;
                        }
                        pthread_mutex_unlock(&p->lock);
                        r = 0; /* go on with the others */
                }
        }
        client_done(&c);
        return NULL;
}

static int pool_run(struct compose_cli *cc, pool_fn fn, void **items, size_t n,
                    struct berth_err *err)
{
        if (n == 0)
                return 0;
        if (n == 1 || cc->parallel <= 1) {
                int first = 0;
                for (size_t i = 0; i < n; i++) {
                        struct berth_err e = {0};
                        int r = fn(cc, &cc->cli->client, items[i], &e);
                        if (r < 0 && first == 0) {
                                first = r;
                                *err = e;
                        }
                }
                return first;
        }
        struct pool p = {.cc = cc, .fn = fn, .items = items, .n = n};
        pthread_mutex_init(&p.lock, NULL);
        size_t nt = n < (size_t)cc->parallel ? n : (size_t)cc->parallel;
        pthread_t *t = xzalloc(nt * sizeof(*t));
        size_t started = 0;
        for (size_t i = 0; i < nt; i++)
                if (pthread_create(&t[i], NULL, pool_worker, &p) == 0)
                        started++;
                else
                        break;
        if (started == 0)
                pool_worker(&p);
        for (size_t i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        free(t);
        pthread_mutex_destroy(&p.lock);
        if (p.r < 0)
                *err = p.err;
        return p.r;
}

/* --- what an invocation created (the rollback list) ---------------------------- */

struct created {
        pthread_mutex_t lock;
        json_t *containers; /* [{"Id","Name"}] */
        json_t *networks;   /* [name] */
        json_t *volumes;    /* [name] */
};

static void created_add(struct created *cr, json_t *list, json_t *v)
{
        pthread_mutex_lock(&cr->lock);
        json_array_append_new(list, v);
        pthread_mutex_unlock(&cr->lock);
}

static void created_forget(struct created *cr, const char *id)
{
        pthread_mutex_lock(&cr->lock);
        size_t i;
        json_t *v;
        json_array_foreach (cr->containers, i, v)
                if (streq(json_get_str(v, "Id", ""), id)) {
                        json_array_remove(cr->containers, i);
                        break;
                }
        pthread_mutex_unlock(&cr->lock);
}

static void rollback(struct compose_cli *cc, struct created *cr)
{
        struct client *c = &cc->cli->client;
        size_t n = json_array_size(cr->containers), i;
        json_t *v;
        for (i = n; i-- > 0;) {
                json_t *ct = json_array_get(cr->containers, i);
                struct berth_err e = {0};
                progress(cc, "Container", json_get_str(ct, "Name", ""), "Removing");
                if (remove_container(c, json_get_str(ct, "Id", ""), true, true, &e) < 0)
                        fprintf(stderr, "WARN[0000] %s\n", e.msg);
                else
                        progress(cc, "Container", json_get_str(ct, "Name", ""), "Removed");
        }
        json_array_foreach (cr->networks, i, v) {
                struct berth_err e = {0};
                _cleanup_free_ char *p = path_fmt("/networks/%s", json_string_value(v));
                progress(cc, "Network", json_string_value(v), "Removing");
                if (api(c, "DELETE", p, NULL, NULL, &e) < 0)
                        fprintf(stderr, "WARN[0000] %s\n", e.msg);
                else
                        progress(cc, "Network", json_string_value(v), "Removed");
        }
        json_array_foreach (cr->volumes, i, v) {
                struct berth_err e = {0};
                _cleanup_free_ char *p = path_fmt("/volumes/%s", json_string_value(v));
                progress(cc, "Volume", json_string_value(v), "Removing");
                if (api(c, "DELETE", p, NULL, NULL, &e) < 0)
                        fprintf(stderr, "WARN[0000] %s\n", e.msg);
                else
                        progress(cc, "Volume", json_string_value(v), "Removed");
        }
}

static bool created_any(struct created *cr)
{
        return json_array_size(cr->containers) || json_array_size(cr->networks) ||
               json_array_size(cr->volumes);
}

/* --- networks and volumes ------------------------------------------------------ */

static json_t *ipam_body(json_t *ipam)
{
        json_t *b = json_object();
        const char *drv = json_get_str(ipam, "driver", NULL);
        json_object_set_new(b, "Driver", json_string(drv ? drv : "default"));
        json_t *opts = json_object_get(ipam, "options");
        json_object_set_new(b, "Options", opts ? json_deep_copy(opts) : json_object());
        json_t *cfg = json_array();
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get(ipam, "config"), i, e) {
                json_t *o = json_object();
                static const char *const keys[][2] = {{"subnet", "Subnet"},
                                                      {"ip_range", "IPRange"},
                                                      {"gateway", "Gateway"},
                                                      {"aux_addresses", "AuxiliaryAddresses"}};
                for (size_t k = 0; k < 4; k++) {
                        json_t *v = json_object_get(e, keys[k][0]);
                        if (v)
                                json_object_set(o, keys[k][1], v);
                }
                json_array_append_new(cfg, o);
        }
        json_object_set_new(b, "Config", cfg);
        return b;
}

static int ensure_network(struct compose_cli *cc, const char *project, const char *key, json_t *net,
                          struct created *cr, struct berth_err *err)
{
        struct client *c = &cc->cli->client;
        const char *name = json_get_str(net, "name", NULL);
        _cleanup_free_ char *def = xasprintf("%s_%s", project, key);
        if (!name)
                name = def;
        _cleanup_free_ char *p = path_fmt("/networks/%s", name);
        _cleanup_json_ json_t *got = NULL;
        struct berth_err e = {0};
        int r = api(c, "GET", p, NULL, &got, &e);
        bool external = json_get_bool(net, "external", false);
        if (r == 0) {
                if (external)
                        return 0;
                const char *lp = json_string_value(
                    json_object_get(json_object_get(got, "Labels"), LABEL_PROJECT));
                if (!lp)
                        fprintf(stderr,
                                "WARN[0000] a network with name %s exists but was not created by "
                                "compose.\nSet `external: true` to use an existing network\n",
                                name);
                else if (!streq(lp, project))
                        fprintf(stderr,
                                "WARN[0000] a network with name %s exists but was not created "
                                "for project \"%s\".\nSet `external: true` to use an existing "
                                "network\n",
                                name, project);
                return 0;
        }
        if (r != -ENOENT) {
                *err = e;
                return r;
        }
        if (external)
                return err_set(err, -ENOENT,
                               "network %s declared as external, but could not be found", name);
        if (cc->dry_run) {
                progress(cc, "Network", name, "Created");
                return 0;
        }
        json_t *labels = json_object();
        json_t *ul = json_object_get(net, "labels");
        if (json_is_object(ul))
                json_object_update(labels, ul);
        json_object_set_new(labels, LABEL_PROJECT, json_string(project));
        json_object_set_new(labels, LABEL_NETWORK, json_string(key));
        json_object_set_new(labels, LABEL_VERSION, json_string(COMPOSE_VERSION));
        json_auto_t *body =
            json_pack("{s:s,s:b,s:o}", "Name", name, "CheckDuplicate", 1, "Labels", labels);
        json_object_set_new(body, "Driver",
                            json_string(json_get_str(net, "driver", NULL) ?: "bridge"));
        json_t *o = json_object_get(net, "driver_opts");
        if (json_is_object(o))
                json_object_set(body, "Options", o);
        json_t *ipam = json_object_get(net, "ipam");
        if (json_is_object(ipam))
                json_object_set_new(body, "IPAM", ipam_body(ipam));
        json_object_set_new(body, "Internal", json_boolean(json_get_bool(net, "internal", false)));
        json_object_set_new(body, "Attachable",
                            json_boolean(json_get_bool(net, "attachable", false)));
        if (json_get_bool(net, "enable_ipv6", false))
                json_object_set_new(body, "EnableIPv6", json_true());
        progress(cc, "Network", name, "Creating");
        r = api(c, "POST", "/networks/create", body, NULL, err);
        if (r == -EEXIST) /* made meanwhile by another up */
                return 0;
        if (r < 0)
                return err_prefix(err, "failed to create network %s", name);
        created_add(cr, cr->networks, json_string(name));
        progress(cc, "Network", name, "Created");
        return 0;
}

static int ensure_volume(struct compose_cli *cc, const char *project, const char *key, json_t *vol,
                         struct created *cr, struct berth_err *err)
{
        struct client *c = &cc->cli->client;
        const char *name = json_get_str(vol, "name", NULL);
        _cleanup_free_ char *def = xasprintf("%s_%s", project, key);
        if (!name)
                name = def;
        _cleanup_free_ char *p = path_fmt("/volumes/%s", name);
        _cleanup_json_ json_t *got = NULL;
        struct berth_err e = {0};
        int r = api(c, "GET", p, NULL, &got, &e);
        bool external = json_get_bool(vol, "external", false);
        if (r == 0) {
                if (external)
                        return 0;
                const char *lp = json_string_value(
                    json_object_get(json_object_get(got, "Labels"), LABEL_PROJECT));
                if (!lp || !streq(lp, project))
                        fprintf(stderr,
                                "WARN[0000] volume \"%s\" already exists but was not created by "
                                "Docker Compose. Use `external: true` to use an existing "
                                "volume\n",
                                name);
                return 0;
        }
        if (r != -ENOENT) {
                *err = e;
                return r;
        }
        if (external)
                return err_set(err, -ENOENT, "external volume \"%s\" not found", name);
        if (cc->dry_run) {
                progress(cc, "Volume", name, "Created");
                return 0;
        }
        json_t *labels = json_object();
        json_t *ul = json_object_get(vol, "labels");
        if (json_is_object(ul))
                json_object_update(labels, ul);
        json_object_set_new(labels, LABEL_PROJECT, json_string(project));
        json_object_set_new(labels, LABEL_VOLUME, json_string(key));
        json_object_set_new(labels, LABEL_VERSION, json_string(COMPOSE_VERSION));
        json_auto_t *body =
            json_pack("{s:s,s:s,s:o}", "Name", name, "Driver",
                      json_get_str(vol, "driver", NULL) ?: "local", "Labels", labels);
        json_t *o = json_object_get(vol, "driver_opts");
        if (json_is_object(o))
                json_object_set(body, "DriverOpts", o);
        progress(cc, "Volume", name, "Creating");
        r = api(c, "POST", "/volumes/create", body, NULL, err);
        if (r < 0)
                return err_prefix(err, "failed to create volume %s", name);
        created_add(cr, cr->volumes, json_string(name));
        progress(cc, "Volume", name, "Created");
        return 0;
}

/* The networks and volumes the selected services use (v2 makes those of
 * the project; unused ones are not in the normalized model anyway). */
static int ensure_resources(struct compose_cli *cc, struct compose_project *p, struct created *cr,
                            struct berth_err *err)
{
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(p->model, "networks"), k, v) {
                int r = ensure_network(cc, p->name, k, v, cr, err);
                if (r < 0)
                        return r;
        }
        json_object_foreach (json_object_get(p->model, "volumes"), k, v) {
                int r = ensure_volume(cc, p->name, k, v, cr, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- the plan ------------------------------------------------------------------ */

enum act { ACT_CREATE, ACT_KEEP, ACT_RECREATE };
enum health { H_UNKNOWN, H_NONE, H_STARTING, H_HEALTHY, H_UNHEALTHY };

/* One container of a service after convergence. */
struct ctr {
        enum act act;
        int number;
        char *reason; /* why recreate */
        json_t *old;  /* observed summary, or NULL */
        char *id, *name;
        struct svc *svc;
        /* its state, from the summary, one inspect and the events */
        bool running, exited, known, started_now;
        int exit_code;
        enum health health;
};

struct svc {
        const char *name;
        json_t *config;
        char *image, *image_id;
        char hash[65];
        int scale;
        bool selected; /* named (or all): attached, and --wait waits for them */
        int level;
        struct ctr **ctrs;
        size_t n_ctrs;
        json_t *extras; /* observed containers over the scale: removed */
        enum { S_PENDING, S_STARTED, S_FAILED } state;
        bool waited;
        bool replaced; /* a container of it was created or recreated now */
};

struct up {
        struct compose_cli *cc;
        struct compose_project *p;
        struct created cr;
        struct svc **svcs;
        size_t n_svcs;
        json_t *observed; /* the one list */
        /* options */
        bool detach, no_start, no_deps, force_recreate, no_recreate, always_recreate_deps;
        bool remove_orphans, wait, abort_on_exit, abort_on_failure, build, no_build, quiet_pull;
        bool no_rollback, renew_anon, attach_deps, no_log_prefix, no_color, timestamps;
        const char *pull, *exit_code_from;
        int timeout;
        int64_t wait_timeout;
        json_t *scale;
        char **services;
        char **attach, **no_attach;
        const char *failed_service;
        const char *run_service; /* `run`: its deps are brought up, it is not */
};

static void ctr_free(struct ctr *c)
{
        if (!c)
                return;
        free(c->reason);
        json_decref(c->old);
        free(c->id);
        free(c->name);
        free(c);
}

static void up_done(struct up *u)
{
        for (size_t i = 0; i < u->n_svcs; i++) {
                struct svc *s = u->svcs[i];
                for (size_t j = 0; j < s->n_ctrs; j++)
                        ctr_free(s->ctrs[j]);
                free(s->ctrs);
                free(s->image);
                free(s->image_id);
                json_decref(s->extras);
                free(s);
        }
        free(u->svcs);
        json_decref(u->observed);
        json_decref(u->cr.containers);
        json_decref(u->cr.networks);
        json_decref(u->cr.volumes);
        pthread_mutex_destroy(&u->cr.lock);
        json_decref(u->scale);
}

static struct svc *svc_find(struct up *u, const char *name)
{
        for (size_t i = 0; i < u->n_svcs; i++)
                if (streq(u->svcs[i]->name, name))
                        return u->svcs[i];
        return NULL;
}

static int service_scale(struct up *u, const char *name, json_t *svc)
{
        json_t *s = json_object_get(u->scale, name);
        if (json_is_integer(s))
                return (int)json_integer_value(s);
        json_t *r = json_object_get(json_object_get(svc, "deploy"), "replicas");
        if (json_is_integer(r))
                return (int)json_integer_value(r);
        s = json_object_get(svc, "scale");
        if (json_is_integer(s))
                return (int)json_integer_value(s);
        return 1;
}

static int image_id(struct client *c, const char *image, char **ret, struct berth_err *err)
{
        _cleanup_free_ char *p = path_fmt("/images/%s/json", image);
        _cleanup_json_ json_t *j = NULL;
        int r = api(c, "GET", p, NULL, &j, err);
        if (r < 0)
                return r;
        *ret = xstrdup(json_get_str(j, "Id", ""));
        return 0;
}

/* Build the services named (compose-image.c does the building). */
static int build_services(struct up *u, char **names, struct berth_err *err)
{
        if (!names)
                return 0;
        int r = compose_build_services(u->cc, names, false, err);
        if (r < 0)
                return err_prefix(err, "failed to build");
        return 0;
}

/* Pull or build what the services need; their image IDs for the image label. */
static int ensure_images(struct up *u, struct berth_err *err)
{
        struct compose_cli *cc = u->cc;
        struct client *c = &cc->cli->client;
        _cleanup_strv_ char **to_build = NULL;
        for (size_t i = 0; i < u->n_svcs; i++) {
                struct svc *s = u->svcs[i];
                if (s->scale == 0)
                        continue;
                bool has_build = json_object_get(s->config, "build") != NULL;
                const char *policy = u->pull ? u->pull : json_get_str(s->config, "pull_policy", "");
                struct berth_err e = {0};
                int r = image_id(c, s->image, &s->image_id, &e);
                if (r < 0 && r != -ENOENT) {
                        *err = e;
                        return r;
                }
                bool missing = r == -ENOENT;
                if (has_build && !u->no_build && (u->build || missing || streq(policy, "build"))) {
                        to_build = strv_push(to_build, xstrdup(s->name));
                        continue;
                }
                bool pull = streq(policy, "always") || (missing && !streq(policy, "never"));
                if (missing && (streq(policy, "never") || (has_build && u->no_build))) {
                        u->failed_service = s->name;
                        return err_set(err, -ENOENT, "No such image: %s", s->image);
                }
                if (!pull)
                        continue;
                if (cc->dry_run) {
                        progress(cc, "Image", s->image, "Pulled");
                        continue;
                }
                progress(cc, "Image", s->image, "Pulling");
                const char *platform = json_get_str(s->config, "platform", NULL);
                int saved = -1;
                if (u->quiet_pull) { /* the progress goes nowhere, errors come back in err */
                        fflush(stderr);
                        saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
                        int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (saved >= 0 && nul >= 0)
                                dup2(nul, STDERR_FILENO);
                        safe_close(nul);
                }
                r = cli_pull_image(cc->cli, s->image, platform, err);
                if (saved >= 0) {
                        fflush(stderr);
                        dup2(saved, STDERR_FILENO);
                        close(saved);
                }
                if (r < 0) {
                        u->failed_service = s->name;
                        return r;
                }
                progress(cc, "Image", s->image, "Pulled");
                free(s->image_id);
                s->image_id = NULL;
                r = image_id(c, s->image, &s->image_id, err);
                if (r < 0)
                        return r;
        }
        if (to_build && !cc->dry_run) {
                int r = build_services(u, to_build, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < u->n_svcs; i++) {
                        struct svc *s = u->svcs[i];
                        if (!strv_contains(to_build, s->name))
                                continue;
                        free(s->image_id);
                        s->image_id = NULL;
                        r = image_id(c, s->image, &s->image_id, err);
                        if (r < 0)
                                return err_prefix(err, "service \"%s\" was not built", s->name);
                }
        }
        return 0;
}

static int by_number(const void *x, const void *y)
{
        json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
        int64_t na = 0, nb = 0;
        parse_int64(label_of(a, LABEL_NUMBER) ?: "0", &na);
        parse_int64(label_of(b, LABEL_NUMBER) ?: "0", &nb);
        return na < nb ? -1 : na > nb;
}

static bool summary_running(json_t *c)
{
        return streq(json_get_str(c, "State", ""), "running");
}

/* Decide, per container of s: keep, recreate (and why) or create; extras go. */
static void plan_service(struct up *u, struct svc *s)
{
        size_t n = 0, i;
        json_t *c;
        if (u->run_service && streq(s->name, u->run_service)) {
                s->extras = json_array();
                return;
        }
        json_array_foreach (u->observed, i, c)
                if (streq(label_of(c, LABEL_SERVICE) ?: "", s->name) &&
                    !streq(label_of(c, LABEL_ONEOFF) ?: "False", "True"))
                        n++;
        json_t **v = xzalloc((n + 1) * sizeof(*v));
        n = 0;
        json_array_foreach (u->observed, i, c)
                if (streq(label_of(c, LABEL_SERVICE) ?: "", s->name) &&
                    !streq(label_of(c, LABEL_ONEOFF) ?: "False", "True"))
                        v[n++] = c;
        qsort(v, n, sizeof(*v), by_number);
        s->extras = json_array();
        s->ctrs = xzalloc(((size_t)s->scale + 1) * sizeof(*s->ctrs));
        bool force = u->force_recreate && (s->selected || u->always_recreate_deps);
        for (i = 0; i < n; i++) {
                if ((int)i >= s->scale) {
                        json_array_append(s->extras, v[i]);
                        continue;
                }
                struct ctr *ct = xzalloc(sizeof(*ct));
                ct->svc = s;
                ct->old = json_incref(v[i]);
                ct->id = xstrdup(json_get_str(v[i], "Id", ""));
                ct->name = xstrdup(summary_name(v[i]));
                int64_t num = 0;
                parse_int64(label_of(v[i], LABEL_NUMBER) ?: "0", &num);
                ct->number = (int)num;
                ct->running = summary_running(v[i]);
                ct->act = ACT_KEEP;
                const char *h = label_of(v[i], LABEL_HASH);
                const char *img = label_of(v[i], LABEL_IMAGE);
                if (!u->no_recreate) {
                        if (force)
                                ct->reason = xstrdup("--force-recreate");
                        else if (!h || !streq(h, s->hash))
                                ct->reason = xasprintf("config hash differs (%.12s, now %.12s)",
                                                       h ?: "none", s->hash);
                        else if (s->image_id && *s->image_id && img && !streq(img, s->image_id))
                                ct->reason =
                                    xasprintf("image changed (%.19s, now %.19s)", img, s->image_id);
                        if (ct->reason)
                                ct->act = ACT_RECREATE;
                }
                s->ctrs[s->n_ctrs++] = ct;
        }
        /* missing numbers, lowest first */
        for (int num = 1; (int)s->n_ctrs < s->scale; num++) {
                bool used = false;
                for (size_t j = 0; j < n; j++) {
                        int64_t x = 0;
                        parse_int64(label_of(v[j], LABEL_NUMBER) ?: "0", &x);
                        if (x == num)
                                used = true;
                }
                if (used)
                        continue;
                struct ctr *ct = xzalloc(sizeof(*ct));
                ct->svc = s;
                ct->act = ACT_CREATE;
                ct->number = num;
                const char *cn = json_get_str(s->config, "container_name", NULL);
                ct->name =
                    cn ? xstrdup(cn) : compose_container_name(u->cc, u->p->name, s->name, num);
                s->ctrs[s->n_ctrs++] = ct;
        }
        free(v);
}

/* --- converge: create, recreate, remove ---------------------------------------- */

/* The service conversion may ask the engine (service: references) on the
 * main connection: workers take turns. */
static pthread_mutex_t service_lock = PTHREAD_MUTEX_INITIALIZER;

/* Secrets and configs given as content or environment, copied in before
 * each start as v2 does (compose-service.c makes the archive). */
static int inject_files(struct up *u, struct client *c, struct ctr *ct, struct berth_err *err)
{
        (void)c; /* the copy goes through the main connection, under the lock */
        struct compose_service_args sa = {.project = u->p,
                                          .service = ct->svc->name,
                                          .number = ct->number,
                                          .image_id = ct->svc->image_id};
        pthread_mutex_lock(&service_lock);
        int r = compose_service_copy_files(u->cc, &sa, ct->id, err);
        pthread_mutex_unlock(&service_lock);
        return r;
}

static bool hex64(const char *s)
{
        return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* The anonymous volumes of the container being replaced go to its
 * replacement (unless -V), as compose keeps them: the data in a database's
 * VOLUME survives a config change. */
static int inherit_anonymous(struct client *c, const char *old_id, json_t *body,
                             struct berth_err *err)
{
        _cleanup_free_ char *p = path_fmt("/containers/%s/json", old_id);
        _cleanup_json_ json_t *old = NULL;
        int r = api(c, "GET", p, NULL, &old, err);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        json_t *hc = json_object_get(body, "HostConfig");
        if (!json_is_object(hc))
                json_object_set_new(body, "HostConfig", hc = json_object());
        json_t *mounts = json_object_get(hc, "Mounts");
        json_t *binds = json_object_get(hc, "Binds");
        size_t i, k;
        json_t *m, *x;
        json_array_foreach (json_object_get(old, "Mounts"), i, m) {
                const char *name = json_get_str(m, "Name", NULL);
                const char *dest = json_get_str(m, "Destination", NULL);
                if (!streq(json_get_str(m, "Type", ""), "volume") || !hex64(name) || !dest)
                        continue;
                bool taken = false;
                json_t *anon = NULL;
                json_array_foreach (mounts, k, x)
                        if (streq(json_get_str(x, "Target", ""), dest)) {
                                if (json_get_str(x, "Source", NULL) &&
                                    *json_get_str(x, "Source", ""))
                                        taken = true;
                                else
                                        anon = x;
                        }
                json_array_foreach (binds, k, x) {
                        const char *b = json_string_value(x);
                        const char *col = b ? strchr(b, ':') : NULL;
                        if (col && strncmp(col + 1, dest, strlen(dest)) == 0 &&
                            (col[1 + strlen(dest)] == 0 || col[1 + strlen(dest)] == ':'))
                                taken = true;
                }
                if (taken)
                        continue;
                if (anon) {
                        json_object_set_new(anon, "Source", json_string(name));
                        continue;
                }
                if (!json_is_array(mounts))
                        json_object_set_new(hc, "Mounts", mounts = json_array());
                json_array_append_new(mounts, json_pack("{s:s,s:s,s:s}", "Type", "volume", "Source",
                                                        name, "Target", dest));
        }
        return 0;
}

/* Create a container of s under `name` (temp when replacing); *ret_id. */
static int create_one(struct up *u, struct client *c, struct ctr *ct, const char *name,
                      const char *replace, json_t *edit, char **ret_id, struct berth_err *err)
{
        struct compose_service_args sa = {.project = u->p,
                                          .service = ct->svc->name,
                                          .number = ct->number,
                                          .image_id = ct->svc->image_id,
                                          .replace = replace};
        _cleanup_json_ json_t *body = NULL;
        pthread_mutex_lock(&service_lock);
        int r = compose_service_body(u->cc, &sa, &body, err);
        pthread_mutex_unlock(&service_lock);
        if (r < 0)
                return r;
        if (edit)
                json_object_update_recursive(body, edit);
        if (replace && ct->id && !u->renew_anon) {
                r = inherit_anonymous(c, ct->id, body, err);
                if (r < 0)
                        return r;
        }
        _cleanup_free_ char *p = path_fmt("/containers/create?name=%s", name);
        _cleanup_json_ json_t *res = NULL;
        r = api(c, "POST", p, body, &res, err);
        if (r < 0)
                return r;
        const char *id = json_get_str(res, "Id", NULL);
        if (!id)
                return err_set(err, -EPROTO, "container create: no Id in the answer");
        *ret_id = xstrdup(id);
        created_add(&u->cr, u->cr.containers, json_pack("{s:s,s:s}", "Id", id, "Name", name));
        _cleanup_json_ json_t *nets = NULL;
        pthread_mutex_lock(&service_lock);
        r = compose_service_networks(u->cc, &sa, ct->name, &nets, err);
        pthread_mutex_unlock(&service_lock);
        if (r < 0)
                return r;
        size_t i;
        json_t *n;
        json_array_foreach (nets, i, n) {
                const char *net = json_get_str(n, "network", "");
                json_t *b = json_object_get(n, "body");
                json_auto_t *cb = NULL;
                if (json_object_get(b, "EndpointConfig") || json_object_get(b, "Container"))
                        cb = json_deep_copy(b);
                else
                        cb = json_pack("{s:O}", "EndpointConfig", b ? b : json_object());
                json_object_set_new(cb, "Container", json_string(id));
                _cleanup_free_ char *np = path_fmt("/networks/%s/connect", net);
                r = api(c, "POST", np, cb, NULL, err);
                if (r < 0)
                        return err_prefix(err, "connect %s to network %s", name, net);
        }
        return 0;
}

static int converge_ctr(struct up *u, struct client *c, struct ctr *ct, struct berth_err *err)
{
        struct compose_cli *cc = u->cc;
        if (ct->act == ACT_KEEP)
                return 0;
        if (ct->act == ACT_CREATE) {
                progress(cc, "Container", ct->name, "Creating");
                if (cc->dry_run) {
                        progress(cc, "Container", ct->name, "Created");
                        return 0;
                }
                int r = create_one(u, c, ct, ct->name, NULL, NULL, &ct->id, err);
                if (r < 0)
                        return r;
                ct->running = false;
                progress(cc, "Container", ct->name, "Created");
                return 0;
        }
        /* recreate: the new one under a temporary name, the old one stopped
         * and removed, the new one renamed */
        progress(cc, "Container", ct->name, "Recreate");
        /* why, always: the question users of v2 are left with (an unchanged
         * file recreating a container) */
        if (!streq(cc->progress, "quiet") && !streq(cc->progress, "json"))
                fprintf(stderr, "%s Container %s  Recreate reason: %s\n",
                        cc->dry_run ? " DRY-RUN MODE - " : "", ct->name, ct->reason);
        if (cc->dry_run) {
                ct->running = false;
                progress(cc, "Container", ct->name, "Recreated");
                return 0;
        }
        _cleanup_free_ char *tmp = xasprintf("%.12s_%s", ct->id, ct->name);
        _cleanup_free_ char *nid = NULL;
        int r = create_one(u, c, ct, tmp, ct->name, NULL, &nid, err);
        if (r < 0)
                return r;
        /* the replacement is not ours to roll back once the old is gone */
        created_forget(&u->cr, nid);
        int t = u->timeout;
        r = stop_container(c, ct->id, t, err);
        if (r < 0 && r != -ENOENT) {
                struct berth_err e2 = {0};
                remove_container(c, nid, true, false, &e2);
                return r;
        }
        r = remove_container(c, ct->id, true, false, err);
        if (r < 0) {
                struct berth_err e2 = {0};
                remove_container(c, nid, true, false, &e2);
                return r;
        }
        _cleanup_free_ char *en = cli_escape(ct->name);
        _cleanup_free_ char *rp = path_fmt("/containers/%s/rename?name=", nid);
        _cleanup_free_ char *rp2 = xasprintf("%s%s", rp, en);
        r = api(c, "POST", rp2, NULL, NULL, err);
        if (r < 0)
                return r;
        free(ct->id);
        ct->id = xstrdup(nid);
        ct->running = false;
        progress(cc, "Container", ct->name, "Recreated");
        return 0;
}

struct svc_job {
        struct up *u;
        struct svc *s;
};

static int converge_service(struct compose_cli *cc, struct client *c, void *item,
                            struct berth_err *err)
{
        (void)cc;
        struct svc_job *j = item;
        struct up *u = j->u;
        struct svc *s = j->s;
        int first = 0;
        /* planned now, its dependencies converged: the hash of a service
         * that shares a namespace or volumes with another names that
         * one's current container, as v2 compares it */
        if (!(u->run_service && streq(s->name, u->run_service))) {
                struct compose_service_args sa = {
                    .project = u->p, .service = s->name, .number = 1, .image_id = s->image_id};
                pthread_mutex_lock(&service_lock);
                int r = compose_service_resolved_hash(u->cc, &sa, s->hash, err);
                pthread_mutex_unlock(&service_lock);
                if (r < 0) {
                        s->state = S_FAILED;
                        return err_prefix(err, "service \"%s\"", s->name);
                }
        }
        plan_service(u, s);
        /* the extras, highest numbers first */
        for (size_t i = json_array_size(s->extras); i-- > 0;) {
                json_t *x = json_array_get(s->extras, i);
                const char *name = summary_name(x);
                progress(u->cc, "Container", name, "Stopping");
                if (!u->cc->dry_run) {
                        struct berth_err e = {0};
                        stop_container(c, json_get_str(x, "Id", ""), u->timeout, &e);
                        progress(u->cc, "Container", name, "Stopped");
                        progress(u->cc, "Container", name, "Removing");
                        if (remove_container(c, json_get_str(x, "Id", ""), true, false, &e) < 0)
                                fprintf(stderr, "WARN[0000] %s\n", e.msg);
                }
                progress(u->cc, "Container", name, "Removed");
        }
        for (size_t i = 0; i < s->n_ctrs; i++) {
                struct ctr *ct = s->ctrs[i];
                struct berth_err e = {0};
                if (ct->act != ACT_KEEP)
                        s->replaced = true;
                int r = converge_ctr(u, c, ct, &e);
                if (r < 0 && first == 0) {
                        first = r;
                        *err = e;
                        err_prefix(err, "service \"%s\"", s->name);
                }
                if (r < 0)
                        break;
        }
        if (first < 0)
                s->state = S_FAILED;
        return first;
}

static int converge(struct up *u, struct berth_err *err)
{
        int maxlevel = 0;
        for (size_t i = 0; i < u->n_svcs; i++)
                if (u->svcs[i]->level > maxlevel)
                        maxlevel = u->svcs[i]->level;
        struct svc_job *jobs = xzalloc((u->n_svcs + 1) * sizeof(*jobs));
        void **items = xzalloc((u->n_svcs + 1) * sizeof(void *));
        int r = 0;
        for (int lv = 0; lv <= maxlevel && r == 0; lv++) {
                size_t n = 0;
                for (size_t i = 0; i < u->n_svcs; i++)
                        if (u->svcs[i]->level == lv) {
                                jobs[n] = (struct svc_job){u, u->svcs[i]};
                                items[n] = &jobs[n];
                                n++;
                        }
                r = pool_run(u->cc, converge_service, items, n, err);
        }
        if (r < 0) {
                for (size_t i = 0; i < u->n_svcs; i++)
                        if (u->svcs[i]->state == S_FAILED)
                                u->failed_service = u->svcs[i]->name;
        }
        free(items);
        free(jobs);
        return r;
}

/* --- events: one stream for the project ---------------------------------------- */

/* The stream is read by a thread of its own (a chunked body cannot be read
 * without blocking between chunks) that passes the lines through a pipe:
 * the main loop polls that pipe and the signals together. */
struct evs {
        int fd;      /* the stream */
        int pipe[2]; /* lines from the reader thread */
        bool chunked, thread;
        pthread_t t;
        char *line;
        size_t len, cap;
};

static void *evs_reader(void *arg)
{
        struct evs *e = arg;
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, NULL);
        char rbuf[65536], buf[8192];
        struct http_reader r = {.fd = e->fd, .buf = rbuf, .cap = sizeof(rbuf)};
        struct http_body b = {.framing = e->chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF};
        for (;;) {
                ssize_t n = http_body_read(&r, &b, buf, sizeof(buf));
                if (n <= 0 || loop_write(e->pipe[1], buf, (size_t)n) < 0)
                        break;
        }
        e->pipe[1] = safe_close(e->pipe[1]);
        return NULL;
}

static int evs_open(struct compose_cli *cc, const char *project, struct evs *e,
                    struct berth_err *err)
{
        *e = (struct evs){.fd = -1, .pipe = {-1, -1}};
        json_auto_t *f = json_pack("{s:[o],s:[s],s:[s,s,s]}", "label",
                                   json_sprintf(LABEL_PROJECT "=%s", project), "type", "container",
                                   "event", "start", "die", "health_status");
        _cleanup_free_ char *fj = json_dumps(f, JSON_COMPACT);
        _cleanup_free_ char *q = cli_escape(fj);
        _cleanup_free_ char *p = xasprintf("/events?filters=%s", q);
        int r = client_raw(&cc->cli->client, "GET", p, NULL, false, &e->fd, NULL, &e->chunked, err);
        if (r < 0)
                return r;
        if (pipe2(e->pipe, O_CLOEXEC) < 0) {
                e->fd = safe_close(e->fd);
                return err_errno(err, -errno, "pipe");
        }
        if (pthread_create(&e->t, NULL, evs_reader, e) != 0) {
                e->fd = safe_close(e->fd);
                return err_set(err, -EAGAIN, "cannot start the event reader");
        }
        e->thread = true;
        return 0;
}

static void evs_close(struct evs *e)
{
        if (e->fd >= 0)
                shutdown(e->fd, SHUT_RDWR);
        if (e->thread)
                pthread_join(e->t, NULL);
        e->thread = false;
        e->fd = safe_close(e->fd);
        e->pipe[0] = safe_close(e->pipe[0]);
        e->pipe[1] = safe_close(e->pipe[1]);
        free(e->line);
        e->line = NULL;
}

/* The next event (1), a signal on sigfd (2), a timeout (0), or -EPIPE when
 * the stream ended. timeout_ms < 0: no timeout. */
static int evs_next(struct evs *e, int sigfd, int timeout_ms, json_t **ret)
{
        *ret = NULL;
        for (;;) {
                char *nl = e->line ? memchr(e->line, '\n', e->len) : NULL;
                if (nl) {
                        size_t l = (size_t)(nl - e->line);
                        json_t *j = json_loadb(e->line, l, 0, NULL);
                        memmove(e->line, nl + 1, e->len - l - 1);
                        e->len -= l + 1;
                        if (j) {
                                *ret = j;
                                return 1;
                        }
                        continue;
                }
                if (e->pipe[0] < 0)
                        return -EPIPE;
                struct pollfd p[2] = {{e->pipe[0], POLLIN, 0}, {sigfd, POLLIN, 0}};
                int n = poll(p, 2, timeout_ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == 0)
                        return 0;
                if (p[1].revents)
                        return 2;
                char buf[8192];
                ssize_t k = read(e->pipe[0], buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EPIPE;
                if (e->len + (size_t)k + 1 > e->cap) {
                        e->cap = (e->len + (size_t)k + 1) * 2;
                        e->line = xrealloc(e->line, e->cap);
                }
                memcpy(e->line + e->len, buf, (size_t)k);
                e->len += (size_t)k;
        }
}

static struct ctr *ctr_by_id(struct up *u, const char *id)
{
        for (size_t i = 0; i < u->n_svcs; i++)
                for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                        struct ctr *c = u->svcs[i]->ctrs[j];
                        if (c->id && streq(c->id, id))
                                return c;
                }
        return NULL;
}

/* Apply an event to the container it is about; that container, or NULL. */
static struct ctr *apply_event(struct up *u, json_t *ev)
{
        const char *id = json_get_str(ev, "id", NULL);
        json_t *actor = json_object_get(ev, "Actor");
        if (!id)
                id = json_get_str(actor, "ID", "");
        const char *action = json_get_str(ev, "Action", NULL);
        if (!action)
                action = json_get_str(ev, "status", "");
        struct ctr *c = ctr_by_id(u, id);
        if (!c)
                return NULL;
        const char *h;
        if (streq(action, "start")) {
                c->running = true;
                c->exited = false;
        } else if (streq(action, "die")) {
                c->running = false;
                c->exited = true;
                int64_t code = 0;
                parse_int64(json_get_str(json_object_get(actor, "Attributes"), "exitCode", "0"),
                            &code);
                c->exit_code = (int)code;
        } else if ((h = startswith(action, "health_status: "))) {
                c->health = streq(h, "healthy")     ? H_HEALTHY
                            : streq(h, "unhealthy") ? H_UNHEALTHY
                                                    : H_STARTING;
        }
        return c;
}

static int inspect_ctr(struct client *cl, struct ctr *c, struct berth_err *err)
{
        _cleanup_free_ char *p = path_fmt("/containers/%s/json", c->id);
        _cleanup_json_ json_t *j = NULL;
        int r = api(cl, "GET", p, NULL, &j, err);
        if (r < 0)
                return r;
        json_t *st = json_object_get(j, "State");
        c->running = json_get_bool(st, "Running", false);
        c->exited = !c->running && streq(json_get_str(st, "Status", ""), "exited");
        c->exit_code = (int)json_get_int(st, "ExitCode", 0);
        json_t *h = json_object_get(st, "Health");
        const char *hs = json_get_str(h, "Status", NULL);
        c->health = !hs                      ? H_NONE
                    : streq(hs, "healthy")   ? H_HEALTHY
                    : streq(hs, "unhealthy") ? H_UNHEALTHY
                                             : H_STARTING;
        c->known = true;
        return 0;
}

/* --- start in dependency order, conditions from the events ---------------------- */

/* Does the condition on dep hold? 1 yes, 0 not yet, <0 failed (*err). */
static int condition(struct up *u, struct svc *dep, const char *cond, bool required,
                     struct berth_err *err)
{
        if (dep->state == S_FAILED)
                return required ? err_set(err, -EIO, "dependency %s failed to start", dep->name)
                                : 1;
        if (dep->state != S_STARTED)
                return 0;
        if (!cond || streq(cond, "service_started") || dep->scale == 0)
                return 1;
        for (size_t i = 0; i < dep->n_ctrs; i++) {
                struct ctr *c = dep->ctrs[i];
                if (!c->known) {
                        int r = inspect_ctr(&u->cc->cli->client, c, err);
                        if (r < 0)
                                return r;
                }
        }
        struct berth_err e = {0};
        int r = 1;
        if (streq(cond, "service_completed_successfully")) {
                r = 0;
                for (size_t i = 0; i < dep->n_ctrs; i++) {
                        struct ctr *c = dep->ctrs[i];
                        if (!c->exited)
                                continue;
                        if (c->exit_code == 0) {
                                r = 1;
                                break;
                        }
                        r = err_set(&e, -EIO,
                                    "service \"%s\" didn't complete successfully: exit %d",
                                    dep->name, c->exit_code);
                        break;
                }
                if (r < 0 && !required) {
                        fprintf(stderr, "WARN[0000] optional dependency %s\n",
                                e.msg + strlen("service "));
                        return 1;
                }
        } else { /* service_healthy */
                for (size_t i = 0; i < dep->n_ctrs && r >= 0; i++) {
                        struct ctr *c = dep->ctrs[i];
                        if (c->exited)
                                r = err_set(&e, -EIO, "container %s exited (%d)", c->name,
                                            c->exit_code);
                        else if (c->health == H_NONE)
                                r = err_set(&e, -EIO, "container %s has no healthcheck configured",
                                            c->name);
                        else if (c->health == H_UNHEALTHY)
                                r = err_set(&e, -EIO, "container %s is unhealthy", c->name);
                        else if (c->health != H_HEALTHY)
                                r = 0;
                }
                if (r < 0) {
                        if (!required) {
                                fprintf(stderr,
                                        "WARN[0000] optional dependency \"%s\" failed to start: "
                                        "%s\n",
                                        dep->name, e.msg);
                                return 1;
                        }
                        err_prefix(&e, "dependency failed to start");
                }
        }
        if (r < 0)
                *err = e;
        return r;
}

static int start_ctr(struct up *u, struct client *cl, struct ctr *c, struct berth_err *err)
{
        struct compose_cli *cc = u->cc;
        if (c->running || cc->dry_run) {
                progress(cc, "Container", c->name, c->running ? "Running" : "Started");
                return 0;
        }
        int r = inject_files(u, cl, c, err);
        if (r < 0)
                return r;
        progress(cc, "Container", c->name, "Starting");
        _cleanup_free_ char *p = path_fmt("/containers/%s/start", c->id);
        r = api(cl, "POST", p, NULL, NULL, err);
        if (r < 0)
                return r;
        c->running = true;
        c->exited = false;
        c->started_now = true;
        c->known = false; /* its health: from the events, or one inspect */
        c->health = H_UNKNOWN;
        progress(cc, "Container", c->name, "Started");
        return 0;
}

static void print_waits(struct up *u, struct svc *s, const char *status)
{
        for (size_t i = 0; i < s->n_ctrs; i++)
                progress(u->cc, "Container", s->ctrs[i]->name, status);
}

struct start_job {
        struct up *u;
        struct ctr *c;
        int r;
        struct berth_err err;
};

static int start_one(struct compose_cli *cc, struct client *cl, void *item, struct berth_err *err)
{
        (void)cc;
        struct start_job *j = item;
        j->r = start_ctr(j->u, cl, j->c, &j->err);
        if (j->r < 0)
                *err = j->err;
        return j->r;
}

/* Start the containers of the services that became ready together, in
 * parallel (each worker with its own connection). */
static int start_services(struct up *u, struct svc **ready, size_t n, struct berth_err *err)
{
        size_t nc = 0;
        for (size_t i = 0; i < n; i++)
                nc += ready[i]->n_ctrs;
        struct start_job *jobs = xzalloc((nc + 1) * sizeof(*jobs));
        void **items = xzalloc((nc + 1) * sizeof(void *));
        size_t k = 0;
        /* depends_on.restart: a running dependent of a dependency that was
         * just (re)created is restarted with it */
        for (size_t i = 0; i < n && !u->cc->dry_run; i++) {
                const char *dn;
                json_t *dc;
                bool restart = false;
                json_object_foreach (json_object_get(ready[i]->config, "depends_on"), dn, dc) {
                        struct svc *d = svc_find(u, dn);
                        if (d && d->replaced && json_get_bool(dc, "restart", false))
                                restart = true;
                }
                for (size_t j = 0; restart && j < ready[i]->n_ctrs; j++) {
                        struct ctr *c = ready[i]->ctrs[j];
                        if (!c->running || c->act != ACT_KEEP)
                                continue;
                        struct berth_err e = {0};
                        progress(u->cc, "Container", c->name, "Restarting");
                        if (stop_container(&u->cc->cli->client, c->id, u->timeout, &e) == 0)
                                c->running = false;
                }
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < ready[i]->n_ctrs; j++) {
                        jobs[k] = (struct start_job){.u = u, .c = ready[i]->ctrs[j]};
                        items[k] = &jobs[k];
                        k++;
                }
        int r = pool_run(u->cc, start_one, items, k, err);
        for (size_t i = 0; i < k; i++)
                if (jobs[i].r < 0) {
                        struct svc *s = jobs[i].c->svc;
                        s->state = S_FAILED;
                        if (!u->failed_service) {
                                u->failed_service = s->name;
                                *err = jobs[i].err;
                                err_prefix(err, "service \"%s\"", s->name);
                        }
                }
        for (size_t i = 0; i < n; i++)
                if (ready[i]->state != S_FAILED)
                        ready[i]->state = S_STARTED;
        free(items);
        free(jobs);
        return r;
}

static int start_all(struct up *u, struct evs *ev, struct berth_err *err)
{
        _cleanup_free_ struct svc **ready = xzalloc((u->n_svcs + 1) * sizeof(*ready));
        for (;;) {
                bool progress_made = false, pending = false;
                size_t n_ready = 0;
                for (size_t i = 0; i < u->n_svcs; i++) {
                        struct svc *s = u->svcs[i];
                        if (s->state != S_PENDING)
                                continue;
                        pending = true;
                        bool deps_ok = true;
                        const char *dn;
                        json_t *dc;
                        if (!u->no_deps)
                                json_object_foreach (json_object_get(s->config, "depends_on"), dn,
                                                     dc) {
                                        struct svc *d = svc_find(u, dn);
                                        if (!d)
                                                continue; /* not in this up (disabled) */
                                        const char *cond = json_get_str(dc, "condition", NULL);
                                        bool req = json_get_bool(dc, "required", true);
                                        int r = condition(u, d, cond, req, err);
                                        if (r < 0) {
                                                u->failed_service = s->name;
                                                s->state = S_FAILED;
                                                return r;
                                        }
                                        if (r == 0) {
                                                deps_ok = false;
                                                if (d->state == S_STARTED && !d->waited) {
                                                        d->waited = true;
                                                        print_waits(u, d, "Waiting");
                                                }
                                        } else if (d->waited && cond &&
                                                   !streq(cond, "service_started")) {
                                                d->waited = false;
                                                print_waits(u, d,
                                                            streq(cond, "service_healthy")
                                                                ? "Healthy"
                                                                : "Exited");
                                        }
                                }
                        if (!deps_ok)
                                continue;
                        ready[n_ready++] = s;
                }
                if (n_ready) {
                        int r = start_services(u, ready, n_ready, err);
                        if (r < 0)
                                return r;
                        progress_made = true;
                }
                if (!pending)
                        return 0;
                if (progress_made)
                        continue;
                if (u->cc->dry_run)
                        return 0;
                json_t *e = NULL;
                int r = evs_next(ev, -1, -1, &e);
                if (r < 0)
                        return err_set(err, -EPIPE, "the event stream ended");
                apply_event(u, e);
                json_decref(e);
        }
}

/* --- orphans ------------------------------------------------------------------- */

static bool is_orphan(struct compose_project *p, json_t *c)
{
        const char *svc = label_of(c, LABEL_SERVICE) ?: "";
        if (streq(label_of(c, LABEL_ONEOFF) ?: "False", "True"))
                return !summary_running(c);
        if (json_object_get(json_object_get(p->model, "services"), svc))
                return false;
        if (p->disabled && json_object_get(p->disabled, svc))
                return false;
        return true;
}

static int handle_orphans(struct up *u, bool remove, struct berth_err *err)
{
        (void)err;
        _cleanup_free_ char *names = NULL;
        size_t i;
        json_t *c;
        if (!remove && getenv("COMPOSE_IGNORE_ORPHANS")) {
                bool b = false;
                if (parse_bool(getenv("COMPOSE_IGNORE_ORPHANS"), &b) == 0 && b)
                        return 0;
        }
        json_array_foreach (u->observed, i, c) {
                if (!is_orphan(u->p, c))
                        continue;
                const char *n = summary_name(c);
                if (remove) {
                        progress(u->cc, "Container", n, "Removing");
                        if (!u->cc->dry_run) {
                                struct berth_err e = {0};
                                stop_container(&u->cc->cli->client, json_get_str(c, "Id", ""),
                                               u->timeout, &e);
                                if (remove_container(&u->cc->cli->client, json_get_str(c, "Id", ""),
                                                     true, false, &e) < 0)
                                        fprintf(stderr, "WARN[0000] %s\n", e.msg);
                        }
                        progress(u->cc, "Container", n, "Removed");
                        continue;
                }
                char *x = xasprintf("%s%s%s", names ? names : "", names ? " " : "", n);
                free(names);
                names = x;
        }
        if (names)
                fprintf(stderr,
                        "WARN[0000] Found orphan containers ([%s]) for this project. If you "
                        "removed or renamed this service in your compose file, you can run this "
                        "command with the --remove-orphans flag to clean it up.\n",
                        names);
        return 0;
}

/* --- attached: logs until everything exits ------------------------------------- */

static const char *short_name(struct up *u, const char *name)
{
        size_t l = strlen(u->p->name);
        if (strncmp(name, u->p->name, l) == 0 && (name[l] == '-' || name[l] == '_'))
                return name + l + 1;
        return name;
}

static bool restarts(struct ctr *c)
{
        const char *rs = json_get_str(c->svc->config, "restart", "no");
        if (streq(rs, "always") || streq(rs, "unless-stopped"))
                return true;
        if (startswith(rs, "on-failure"))
                return c->exit_code != 0;
        return false;
}

/* SIGINT and SIGTERM through a signalfd. They are caught even when this
 * process was started with them ignored (a background job of a script), as
 * compose's Go runtime does; signal_fd_done puts everything back. */
struct sigsave {
        sigset_t mask;
        struct sigaction act[2];
};

static void noop_handler(int sig)
{
        (void)sig;
}

static int signal_fd(struct sigsave *sv)
{
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGINT);
        sigaddset(&m, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &m, &sv->mask);
        struct sigaction sa = {.sa_handler = noop_handler};
        sigaction(SIGINT, &sa, &sv->act[0]);
        sigaction(SIGTERM, &sa, &sv->act[1]);
        return signalfd(-1, &m, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void signal_fd_done(int fd, struct sigsave *sv)
{
        if (fd < 0)
                return;
        close(fd);
        /* a second Ctrl-C still pending is dropped, not delivered */
        sigset_t m;
        sigemptyset(&m);
        sigaddset(&m, SIGINT);
        sigaddset(&m, SIGTERM);
        struct sigaction ign = {.sa_handler = SIG_IGN};
        sigaction(SIGINT, &ign, NULL);
        sigaction(SIGTERM, &ign, NULL);
        pthread_sigmask(SIG_SETMASK, &sv->mask, NULL);
        sigaction(SIGINT, &sv->act[0], NULL);
        sigaction(SIGTERM, &sv->act[1], NULL);
}

static void stop_attached(struct up *u, int sigfd, bool *killed)
{
        for (size_t i = u->n_svcs; i-- > 0;) {
                struct svc *s = u->svcs[i];
                for (size_t j = 0; j < s->n_ctrs; j++) {
                        struct ctr *c = s->ctrs[j];
                        struct signalfd_siginfo si;
                        if (sigfd >= 0 && read(sigfd, &si, sizeof(si)) == sizeof(si))
                                *killed = true;
                        if (!c->id || !c->running)
                                continue;
                        struct berth_err e = {0};
                        progress(u->cc, "Container", c->name, *killed ? "Killing" : "Stopping");
                        _cleanup_free_ char *ec = cli_escape(c->id);
                        _cleanup_free_ char *p =
                            *killed ? xasprintf("/containers/%s/kill", ec)
                                    : (u->timeout >= 0
                                           ? xasprintf("/containers/%s/stop?t=%d", ec, u->timeout)
                                           : xasprintf("/containers/%s/stop", ec));
                        api(&u->cc->cli->client, "POST", p, NULL, NULL, &e);
                        progress(u->cc, "Container", c->name, *killed ? "Killed" : "Stopped");
                }
        }
}

static bool attached(struct up *u, struct ctr *c)
{
        if (u->attach)
                return strv_contains(u->attach, c->svc->name);
        if (u->no_attach && strv_contains(u->no_attach, c->svc->name))
                return false;
        if (json_is_false(json_object_get(c->svc->config, "attach")))
                return false;
        return c->svc->selected || u->attach_deps;
}

static int attach_loop(struct up *u, struct evs *ev, struct compose_logs *logs, int sigfd,
                       struct berth_err *err)
{
        (void)err;
        int code = 0;
        bool aborting = false, killed = false, interrupted = false;
        for (;;) {
                bool alive = false;
                for (size_t i = 0; i < u->n_svcs; i++)
                        for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                                struct ctr *c = u->svcs[i]->ctrs[j];
                                if (attached(u, c) && (c->running || (c->exited && restarts(c))))
                                        alive = true;
                        }
                if (!alive || aborting)
                        break;
                json_t *e = NULL;
                int r = evs_next(ev, sigfd, -1, &e);
                if (r == 2) {
                        struct signalfd_siginfo si;
                        (void)!read(sigfd, &si, sizeof(si));
                        fprintf(stderr, "Gracefully Stopping... press Ctrl+C again to force\n");
                        interrupted = true;
                        stop_attached(u, sigfd, &killed);
                        break;
                }
                if (r < 0)
                        break;
                const char *action = json_get_str(e, "Action", json_get_str(e, "status", ""));
                struct ctr *c = apply_event(u, e);
                if (c && streq(action, "die") && attached(u, c)) {
                        /* the streams leave the exit lines of an up to its events */
                        printf("%s exited with code %d%s\n", short_name(u, c->name), c->exit_code,
                               restarts(c) ? " (restarting)" : "");
                        fflush(stdout);
                        if (u->abort_on_exit || (u->abort_on_failure && c->exit_code != 0)) {
                                if (!u->exit_code_from || streq(c->svc->name, u->exit_code_from))
                                        code = c->exit_code;
                                aborting = true;
                                fprintf(stderr, "Aborting on container exit...\n");
                                stop_attached(u, sigfd, &killed);
                        }
                }
                json_decref(e);
        }
        if (logs)
                compose_logs_wait(logs);
        if (u->exit_code_from) {
                struct svc *s = svc_find(u, u->exit_code_from);
                if (s && s->n_ctrs) {
                        struct berth_err e2 = {0};
                        if (inspect_ctr(&u->cc->cli->client, s->ctrs[0], &e2) == 0)
                                code = s->ctrs[0]->exit_code;
                }
        }
        return interrupted ? 130 : code;
}

/* --wait: every selected container running (healthy when it has a check),
 * or a one-shot that exited 0. */
static int wait_ready(struct up *u, struct evs *ev, int sigfd, struct berth_err *err)
{
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t i = 0; i < u->n_svcs; i++)
                for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                        struct ctr *c = u->svcs[i]->ctrs[j];
                        if (c->svc->selected && c->id && !c->known) {
                                int r = inspect_ctr(&u->cc->cli->client, c, err);
                                if (r < 0)
                                        return r;
                        }
                }
        for (;;) {
                bool all = true;
                for (size_t i = 0; i < u->n_svcs; i++)
                        for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                                struct ctr *c = u->svcs[i]->ctrs[j];
                                if (!c->svc->selected)
                                        continue;
                                if (c->exited && c->exit_code == 0)
                                        continue;
                                if (c->exited && !restarts(c))
                                        return err_set(err, -EIO, "container %s exited (%d)",
                                                       c->name, c->exit_code);
                                if (c->health == H_UNHEALTHY)
                                        return err_set(err, -EIO, "container %s is unhealthy",
                                                       c->name);
                                if (!c->running || (c->health != H_NONE && c->health != H_HEALTHY))
                                        all = false;
                        }
                if (all)
                        break;
                int ms = -1;
                if (u->wait_timeout > 0) {
                        struct timespec t;
                        clock_gettime(CLOCK_MONOTONIC, &t);
                        int64_t el =
                            (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                        ms = (int)(u->wait_timeout * 1000 - el);
                        if (ms <= 0)
                                return err_set(err, -ETIMEDOUT,
                                               "application not healthy after %llds",
                                               (long long)u->wait_timeout);
                }
                json_t *e = NULL;
                int r = evs_next(ev, sigfd, ms, &e);
                if (r == 2)
                        return err_set(err, -EINTR, "canceled");
                if (r < 0)
                        return err_set(err, -EPIPE, "the event stream ended");
                if (r == 1) {
                        struct ctr *c = apply_event(u, e);
                        if (c && c->svc->selected && c->health == H_HEALTHY)
                                progress(u->cc, "Container", c->name, "Healthy");
                        json_decref(e);
                }
        }
        return 0;
}

/* --- up ------------------------------------------------------------------------ */

/* The services in dependency order, with their wave (level). */
static int up_services(struct up *u, struct berth_err *err)
{
        _cleanup_json_ json_t *order = NULL;
        int r = compose_service_order(u->p->model, u->services, u->no_deps, &order, err);
        if (r < 0)
                return r;
        json_t *services = json_object_get(u->p->model, "services");
        u->n_svcs = json_array_size(order);
        u->svcs = xzalloc((u->n_svcs + 1) * sizeof(*u->svcs));
        for (size_t i = 0; i < u->n_svcs; i++) {
                struct svc *s = xzalloc(sizeof(*s));
                u->svcs[i] = s;
                s->name = json_string_value(json_array_get(order, i));
                /* the name lives in the model */
                const char *k;
                json_t *v;
                json_object_foreach (services, k, v)
                        if (streq(k, s->name)) {
                                s->name = k;
                                s->config = v;
                        }
                if (!s->config)
                        return err_set(err, -ENOENT, "no such service: %s", s->name);
                s->selected = !u->services || strv_contains(u->services, s->name);
                s->scale = service_scale(u, s->name, s->config);
                if (s->scale > 1 && json_object_get(s->config, "container_name"))
                        return err_set(err, -EINVAL,
                                       "services.%s: can't set container_name and %s as container "
                                       "name must be unique",
                                       s->name, "scale");
                s->image = compose_service_image(u->cc, u->p, s->name);
                int lv = 0;
                const char *dn;
                json_t *dc;
                json_object_foreach (json_object_get(s->config, "depends_on"), dn, dc) {
                        (void)dc;
                        for (size_t j = 0; j < i; j++)
                                if (streq(u->svcs[j]->name, dn) && u->svcs[j]->level + 1 > lv)
                                        lv = u->svcs[j]->level + 1;
                }
                s->level = lv;
        }
        return 0;
}

static int logs_add_ctr(struct compose_logs *logs, struct up *u, struct ctr *c,
                        struct berth_err *err)
{
        json_auto_t *j = json_pack("{s:s,s:[o],s:{s:s,s:s,s:s}}", "Id", c->id, "Names",
                                   json_sprintf("/%s", c->name), "Labels", LABEL_PROJECT,
                                   u->p->name, LABEL_SERVICE, c->svc->name, LABEL_NUMBER, "");
        json_object_set_new(json_object_get(j, "Labels"), LABEL_NUMBER,
                            json_sprintf("%d", c->number));
        return compose_logs_add(logs, j, err);
}

static int up_run(struct up *u)
{
        struct compose_cli *cc = u->cc;
        struct berth_err err = {0};
        int rc = 1;
        int sigfd = -1;
        struct sigsave oldmask;
        struct evs ev = {.fd = -1, .pipe = {-1, -1}};
        struct compose_logs *logs = NULL;
        bool started_phase = false;

        int r = compose_project(cc, &u->p, &err);
        if (r < 0)
                return cli_fail(&err);
        r = cli_connect(cc->cli, &err);
        if (r < 0)
                return cli_fail(&err);
        if (u->exit_code_from && u->services && !strv_contains(u->services, u->exit_code_from)) {
                u->services = strv_push(u->services, xstrdup(u->exit_code_from));
                cc->opts.services = u->services;
        }
        r = up_services(u, &err);
        if (r < 0)
                goto fail;
        r = compose_containers(cc, NULL, true, true, &u->observed, &err);
        if (r < 0)
                goto fail;
        r = ensure_resources(cc, u->p, &u->cr, &err);
        if (r < 0)
                goto fail;
        r = ensure_images(u, &err);
        if (r < 0)
                goto fail;
        handle_orphans(u, u->remove_orphans, &err);
        r = converge(u, &err);
        if (r < 0)
                goto fail;
        if (u->no_start) {
                rc = 0;
                goto out;
        }
        started_phase = true;
        if (!cc->dry_run) {
                /* before the first start: nothing is missed */
                r = evs_open(cc, u->p->name, &ev, &err);
                if (r < 0)
                        goto fail;
                /* what the kept running containers did between the list and
                 * the subscription: one inspect each */
                for (size_t i = 0; i < u->n_svcs; i++)
                        for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                                struct ctr *c = u->svcs[i]->ctrs[j];
                                if (c->act == ACT_KEEP && c->running &&
                                    inspect_ctr(&cc->cli->client, c, &err) < 0)
                                        goto fail;
                        }
        }
        bool attach = !u->detach && !u->wait && !cc->dry_run;
        char since[48];
        if (attach) {
                _cleanup_free_ char *names = NULL;
                for (size_t i = 0; i < u->n_svcs; i++)
                        for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                                struct ctr *c = u->svcs[i]->ctrs[j];
                                if (!attached(u, c))
                                        continue;
                                char *x = xasprintf("%s%s%s", names ? names : "", names ? ", " : "",
                                                    short_name(u, c->name));
                                free(names);
                                names = x;
                        }
                printf("Attaching to %s\n", names ? names : "");
                fflush(stdout);
                /* what they print from now on, not an earlier run's output */
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                snprintf(since, sizeof(since), "%lld.%09ld", (long long)now.tv_sec, now.tv_nsec);
                struct compose_logs_opts lo = {.follow = true,
                                               .since = since,
                                               .no_color = u->no_color || !cc->ansi,
                                               .no_prefix = u->no_log_prefix,
                                               .timestamps = u->timestamps};
                if (compose_logs_open(cc, &lo, &logs, &err) < 0) {
                        fprintf(stderr, "WARN[0000] %s\n", err.msg);
                        logs = NULL;
                        err = (struct berth_err){0};
                }
                sigfd = signal_fd(&oldmask);
        }
        r = start_all(u, &ev, &err);
        if (r < 0)
                goto fail;
        if (logs)
                for (size_t i = 0; i < u->n_svcs; i++)
                        for (size_t j = 0; j < u->svcs[i]->n_ctrs; j++) {
                                struct ctr *c = u->svcs[i]->ctrs[j];
                                struct berth_err e2 = {0};
                                if (attached(u, c) && logs_add_ctr(logs, u, c, &e2) < 0)
                                        fprintf(stderr, "WARN[0000] %s\n", e2.msg);
                        }
        if (u->wait && !cc->dry_run) {
                if (sigfd < 0)
                        sigfd = signal_fd(&oldmask);
                r = wait_ready(u, &ev, sigfd, &err);
                if (r == -EINTR) {
                        rc = 130;
                        goto out;
                }
                if (r < 0) {
                        /* the project stays: --wait reports, it does not undo */
                        cli_fail(&err);
                        goto out;
                }
        }
        rc = 0;
        if (attach)
                rc = attach_loop(u, &ev, logs, sigfd, &err);
        goto out;
fail:
        if (u->failed_service) {
                _cleanup_free_ char *q = xasprintf("\"%s\"", u->failed_service);
                if (!strstr(err.msg, q))
                        err_prefix(&err, "service \"%s\"", u->failed_service);
        }
        cli_fail(&err);
        if (!u->no_rollback && !cc->dry_run && created_any(&u->cr)) {
                if (u->failed_service)
                        fprintf(stderr, "service \"%s\" failed: removing what this up created\n",
                                u->failed_service);
                else
                        fprintf(stderr, "removing what this up created\n");
                rollback(cc, &u->cr);
        }
        (void)started_phase;
        rc = err.code == -EINTR ? 130 : 1;
out:
        if (logs)
                compose_logs_close(logs);
        evs_close(&ev);
        signal_fd_done(sigfd, &oldmask);
        return rc;
}

static int parse_scale(char **list, json_t **ret)
{
        json_t *o = json_object();
        for (char **s = list; s && *s; s++) {
                const char *eq = strchr(*s, '=');
                int64_t n = 0;
                if (!eq || parse_int64(eq + 1, &n) < 0 || n < 0) {
                        fprintf(stderr, "invalid --scale value %s: expected SERVICE=NUM\n", *s);
                        json_decref(o);
                        return -EINVAL;
                }
                _cleanup_free_ char *k = xstrndup(*s, (size_t)(eq - *s));
                json_object_set_new(o, k, json_integer(n));
        }
        *ret = o;
        return 0;
}

static bool env_flag(const char *name)
{
        const char *v = getenv(name);
        bool b = false;
        return v && parse_bool(v, &b) == 0 && b;
}

static int up_common(struct cli *cli, struct cli_args *a, bool create)
{
        struct compose_cli *cc = compose_cli(cli);
        struct up u = {.cc = cc, .timeout = -1};
        pthread_mutex_init(&u.cr.lock, NULL);
        u.cr.containers = json_array();
        u.cr.networks = json_array();
        u.cr.volumes = json_array();
        u.no_start = create || cli_flag(a, "no-start");
        u.detach = create || cli_flag(a, "detach");
        u.force_recreate = cli_flag(a, "force-recreate");
        u.no_recreate = cli_flag(a, "no-recreate");
        u.remove_orphans = cli_flag(a, "remove-orphans") || env_flag("COMPOSE_REMOVE_ORPHANS");
        u.build = cli_flag(a, "build");
        u.no_build = cli_flag(a, "no-build");
        u.quiet_pull = cli_flag(a, "quiet-pull");
        u.pull = cli_str(a, "pull");
        if (u.pull && streq(u.pull, "policy"))
                u.pull = NULL;
        if (!create) {
                u.renew_anon = cli_flag(a, "renew-anon-volumes");
                u.no_deps = cli_flag(a, "no-deps");
                u.always_recreate_deps = cli_flag(a, "always-recreate-deps");
                u.wait = cli_flag(a, "wait");
                u.abort_on_exit = cli_flag(a, "abort-on-container-exit");
                u.abort_on_failure = cli_flag(a, "abort-on-container-failure");
                u.exit_code_from = cli_str(a, "exit-code-from");
                if (u.exit_code_from)
                        u.abort_on_exit = true;
                u.no_rollback = cli_flag(a, "no-rollback");
                u.attach_deps = cli_flag(a, "attach-dependencies");
                u.attach = cli_list(a, "attach");
                u.no_attach = cli_list(a, "no-attach");
                u.no_log_prefix = cli_flag(a, "no-log-prefix");
                u.no_color = cli_flag(a, "no-color");
                u.timestamps = cli_flag(a, "timestamps");
                const char *t = cli_str(a, "timeout");
                int64_t n = 0;
                if (t && parse_int64(t, &n) == 0)
                        u.timeout = (int)n;
                const char *wt = cli_str(a, "wait-timeout");
                if (wt && parse_int64(wt, &n) == 0)
                        u.wait_timeout = n;
        }
        if (u.force_recreate && u.no_recreate) {
                fprintf(stderr, "--force-recreate and --no-recreate are incompatible\n");
                return 1;
        }
        if (u.detach && u.abort_on_exit && !create) {
                fprintf(stderr, "--abort-on-container-exit and --detach are incompatible\n");
                return 1;
        }
        if (u.build && u.no_build) {
                fprintf(stderr, "--build and --no-build are incompatible\n");
                return 1;
        }
        if (parse_scale(cli_list(a, "scale"), &u.scale) < 0)
                return 1;
        char **svcs = NULL;
        for (size_t i = 0; i < a->n_pos; i++)
                svcs = strv_push(svcs, xstrdup(a->pos[i]));
        u.services = svcs;
        cc->opts.services = svcs;
        int rc = up_run(&u);
        cc->opts.services = NULL;
        strv_free(u.services);
        up_done(&u);
        return rc;
}

const struct cli_opt compose_up_opts[] = {
    {"abort-on-container-exit", 0, CLI_BOOL,
     "Stops all containers if any container was stopped. Incompatible with -d", NULL},
    {"abort-on-container-failure", 0, CLI_BOOL,
     "Stops all containers if any container exited with failure. Incompatible with -d", NULL},
    {"always-recreate-deps", 0, CLI_BOOL,
     "Recreate dependent containers. Incompatible with "
     "--no-recreate.",
     NULL},
    {"attach", 0, CLI_LIST, "Restrict attaching to the specified services", NULL},
    {"attach-dependencies", 0, CLI_BOOL, "Automatically attach to log output of dependent services",
     NULL},
    {"build", 0, CLI_BOOL, "Build images before starting containers", NULL},
    {"detach", 'd', CLI_BOOL, "Detached mode: Run containers in the background", NULL},
    {"exit-code-from", 0, CLI_STRING,
     "Return the exit code of the selected service container. Implies --abort-on-container-exit",
     NULL},
    {"force-recreate", 0, CLI_BOOL,
     "Recreate containers even if their configuration and image haven't changed", NULL},
    {"no-attach", 0, CLI_LIST, "Do not attach (stream logs) to the specified services", NULL},
    {"no-build", 0, CLI_BOOL, "Don't build an image, even if it's policy", NULL},
    {"no-color", 0, CLI_BOOL, "Produce monochrome output", NULL},
    {"no-deps", 0, CLI_BOOL, "Don't start linked services", NULL},
    {"no-log-prefix", 0, CLI_BOOL, "Don't print prefix in logs", NULL},
    {"no-recreate", 0, CLI_BOOL,
     "If containers already exist, don't recreate them. Incompatible with --force-recreate.", NULL},
    {"no-rollback", 0, CLI_BOOL, "Keep what a failed up created (berth removes it by default)",
     NULL},
    {"no-start", 0, CLI_BOOL, "Don't start the services after creating them", NULL},
    {"pull", 0, CLI_STRING, "Pull image before running (\"always\"|\"missing\"|\"never\")",
     "policy"},
    {"quiet-pull", 0, CLI_BOOL, "Pull without printing progress information", NULL},
    {"remove-orphans", 0, CLI_BOOL,
     "Remove containers for services not defined in the Compose file", NULL},
    {"renew-anon-volumes", 'V', CLI_BOOL,
     "Recreate anonymous volumes instead of retrieving data from the previous containers", NULL},
    {"scale", 0, CLI_LIST,
     "Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if "
     "present.",
     NULL},
    {"timeout", 't', CLI_INT,
     "Use this timeout in seconds for container shutdown when attached or when containers are "
     "already running",
     NULL},
    {"timestamps", 0, CLI_BOOL, "Show timestamps", NULL},
    {"wait", 0, CLI_BOOL, "Wait for services to be running|healthy. Implies detached mode.", NULL},
    {"wait-timeout", 0, CLI_INT,
     "Maximum duration in seconds to wait for the project to be "
     "running|healthy",
     NULL},
    {"yes", 'y', CLI_BOOL, "Assume \"yes\" as answer to all prompts and run non-interactively",
     NULL},
    {0},
};

int compose_cmd_up(struct cli *cli, struct cli_args *a)
{
        return up_common(cli, a, false);
}

const struct cli_opt compose_create_opts[] = {
    {"build", 0, CLI_BOOL, "Build images before starting containers", NULL},
    {"force-recreate", 0, CLI_BOOL,
     "Recreate containers even if their configuration and image haven't changed", NULL},
    {"no-build", 0, CLI_BOOL, "Don't build an image, even if it's policy", NULL},
    {"no-recreate", 0, CLI_BOOL,
     "If containers already exist, don't recreate them. Incompatible with --force-recreate.", NULL},
    {"pull", 0, CLI_STRING, "Pull image before running (\"always\"|\"missing\"|\"never\")",
     "policy"},
    {"quiet-pull", 0, CLI_BOOL, "Pull without printing progress information", NULL},
    {"remove-orphans", 0, CLI_BOOL,
     "Remove containers for services not defined in the Compose file", NULL},
    {"scale", 0, CLI_LIST,
     "Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if "
     "present.",
     NULL},
    {"yes", 'y', CLI_BOOL, "Assume \"yes\" as answer to all prompts and run non-interactively",
     NULL},
    {0},
};

int compose_cmd_create(struct cli *cli, struct cli_args *a)
{
        return up_common(cli, a, true);
}

/* --- down ---------------------------------------------------------------------- */

/* "db:service_healthy:false,cache:service_started:true" -> the service names */
static char **depends_label(const char *v)
{
        char **out = NULL;
        _cleanup_strv_ char **parts = strv_split(v ? v : "", ",");
        for (char **p = parts; p && *p; p++)
                out = strv_push(out, xstrndup(*p, strcspn(*p, ":")));
        return out;
}

struct down_job {
        struct compose_cli *cc;
        json_t *c;
        int timeout;
        bool volumes;
};

static int down_one(struct compose_cli *cc, struct client *cl, void *item, struct berth_err *err)
{
        struct down_job *j = item;
        const char *id = json_get_str(j->c, "Id", ""), *name = summary_name(j->c);
        if (summary_running(j->c) || streq(json_get_str(j->c, "State", ""), "paused") ||
            streq(json_get_str(j->c, "State", ""), "restarting")) {
                progress(cc, "Container", name, "Stopping");
                if (!cc->dry_run) {
                        int r = stop_container(cl, id, j->timeout, err);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
                progress(cc, "Container", name, "Stopped");
        }
        progress(cc, "Container", name, "Removing");
        if (!cc->dry_run) {
                int r = remove_container(cl, id, true, j->volumes, err);
                if (r < 0)
                        return r;
        }
        progress(cc, "Container", name, "Removed");
        return 0;
}

static int down_list(struct compose_cli *cc, const char *what, const char *label_key,
                     const char *project, json_t **ret, struct berth_err *err)
{
        _cleanup_free_ char *f = filters_label(label_key, project);
        _cleanup_free_ char *p = xasprintf("/%s?filters=%s", what, f);
        json_t *j = NULL;
        int r = api(&cc->cli->client, "GET", p, NULL, &j, err);
        if (r < 0)
                return r;
        if (json_is_object(j)) { /* volumes: {"Volumes": [...]} */
                json_t *v = json_incref(json_object_get(j, "Volumes"));
                json_decref(j);
                j = json_is_array(v) ? v : (json_decref(v), json_array());
        }
        *ret = j;
        return 0;
}

static int remove_named(struct compose_cli *cc, const char *kind, const char *fmt, const char *name,
                        bool *removed)
{
        struct berth_err e = {0};
        progress(cc, kind, name, "Removing");
        if (cc->dry_run) {
                progress(cc, kind, name, "Removed");
                *removed = true;
                return 0;
        }
        _cleanup_free_ char *p = path_fmt(fmt, name);
        int r = api(&cc->cli->client, "DELETE", p, NULL, NULL, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (streq(kind, "Network") || streq(kind, "Volume"))
                        fprintf(stderr, "WARN[0000] %s %s: %s\n", kind, name, e.msg);
                else
                        fprintf(stderr, "%s %s: %s\n", kind, name, e.msg);
                return r;
        }
        progress(cc, kind, name, "Removed");
        *removed = true;
        return 0;
}

const struct cli_opt compose_down_opts[] = {
    {"remove-orphans", 0, CLI_BOOL,
     "Remove containers for services not defined in the Compose file", NULL},
    {"rmi", 0, CLI_STRING,
     "Remove images used by services. \"local\" remove only images that don't have a custom tag "
     "(\"local\"|\"all\")",
     NULL},
    {"timeout", 't', CLI_INT, "Specify a shutdown timeout in seconds", NULL},
    {"volumes", 'v', CLI_BOOL,
     "Remove named volumes declared in the \"volumes\" section of the Compose file and anonymous "
     "volumes attached to containers",
     NULL},
    {0},
};

int compose_cmd_down(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        bool remove_orphans = cli_flag(a, "remove-orphans") || env_flag("COMPOSE_REMOVE_ORPHANS");
        bool volumes = cli_flag(a, "volumes");
        const char *rmi = cli_str(a, "rmi");
        int timeout = -1;
        int64_t n = 0;
        if (cli_str(a, "timeout") && parse_int64(cli_str(a, "timeout"), &n) == 0)
                timeout = (int)n;
        if (rmi && !streq(rmi, "local") && !streq(rmi, "all")) {
                fprintf(stderr, "invalid --rmi flag value %s: must be local or all\n", rmi);
                return 1;
        }
        const char *name;
        struct compose_project *p = NULL;
        /* -p (or COMPOSE_PROJECT_NAME) alone is enough: the model then comes
         * from the labels; a compose file, when there is one, is used */
        bool named = cc->opts.project_name || getenv("COMPOSE_PROJECT_NAME");
        if (named && !cc->opts.files) {
                struct berth_err e = {0};
                if (compose_project(cc, &p, &e) < 0)
                        p = NULL;
        }
        int r = compose_project_name(cc, &name, &err);
        if (r < 0)
                return cli_fail(&err);
        if (!p && !named) {
                r = compose_project(cc, &p, &err);
                if (r < 0)
                        return cli_fail(&err);
        }
        if (p && !streq(p->name, name))
                p = NULL;
        r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *all = NULL;
        r = compose_containers(cc, NULL, true, remove_orphans, &all, &err);
        if (r < 0)
                return cli_fail(&err);
        json_t *model_services = p ? json_object_get(p->model, "services") : NULL;
        _cleanup_json_ json_t *list = json_array();
        _cleanup_free_ char *orphans = NULL;
        size_t i;
        json_t *c;
        json_array_foreach (all, i, c) {
                const char *svc = label_of(c, LABEL_SERVICE) ?: "";
                if (a->n_pos && !strv_contains(a->pos, (char *)svc))
                        continue;
                if (p && !json_object_get(model_services, svc) &&
                    !(p->disabled && json_object_get(p->disabled, svc))) {
                        if (!remove_orphans) {
                                char *x = xasprintf("%s%s%s", orphans ? orphans : "",
                                                    orphans ? " " : "", summary_name(c));
                                free(orphans);
                                orphans = x;
                                continue;
                        }
                }
                json_array_append(list, c);
        }
        if (orphans)
                fprintf(stderr,
                        "WARN[0000] Found orphan containers ([%s]) for this project. If you "
                        "removed or renamed this service in your compose file, you can run this "
                        "command with the --remove-orphans flag to clean it up.\n",
                        orphans);
        bool removed_any = json_array_size(list) > 0;
        int rc = 0;

        /* reverse dependency order: a service stops after those that depend
         * on it (from the depends_on label, else the model) */
        size_t nc = json_array_size(list);
        _cleanup_free_ int *rank = xzalloc((nc + 1) * sizeof(int));
        for (int pass = 0; pass < 64; pass++) {
                bool changed = false;
                for (size_t x = 0; x < nc; x++) {
                        json_t *cx = json_array_get(list, x);
                        const char *sx = label_of(cx, LABEL_SERVICE) ?: "";
                        /* every service cx depends on ranks after it */
                        _cleanup_strv_ char **deps = depends_label(label_of(cx, LABEL_DEPENDS));
                        if (!deps && model_services) {
                                const char *dn;
                                json_t *dv;
                                json_object_foreach (
                                    json_object_get(json_object_get(model_services, sx),
                                                    "depends_on"),
                                    dn, dv) {
                                        (void)dv;
                                        deps = strv_push(deps, xstrdup(dn));
                                }
                        }
                        for (size_t y = 0; y < nc; y++) {
                                const char *sy =
                                    label_of(json_array_get(list, y), LABEL_SERVICE) ?: "";
                                if (strv_contains(deps, sy) && !streq(sy, sx) &&
                                    rank[y] < rank[x] + 1) {
                                        rank[y] = rank[x] + 1;
                                        changed = true;
                                }
                        }
                }
                if (!changed)
                        break;
        }
        int maxrank = 0;
        for (size_t x = 0; x < nc; x++)
                if (rank[x] > maxrank)
                        maxrank = rank[x];
        struct down_job *jobs = xzalloc((nc + 1) * sizeof(*jobs));
        void **items = xzalloc((nc + 1) * sizeof(void *));
        for (int rk = 0; rk <= maxrank && nc; rk++) {
                size_t k = 0;
                for (size_t x = 0; x < nc; x++)
                        if (rank[x] == rk) {
                                jobs[k] = (struct down_job){cc, json_array_get(list, x), timeout,
                                                            volumes};
                                items[k] = &jobs[k];
                                k++;
                        }
                if (pool_run(cc, down_one, items, k, &err) < 0) {
                        cli_fail(&err);
                        rc = 1;
                }
        }
        free(items);
        free(jobs);

        if (a->n_pos == 0) {
                _cleanup_json_ json_t *nets = NULL;
                if (down_list(cc, "networks", LABEL_PROJECT, name, &nets, &err) < 0) {
                        cli_fail(&err);
                        return 1;
                }
                json_t *nt;
                json_array_foreach (nets, i, nt)
                        remove_named(cc, "Network", "/networks/%s", json_get_str(nt, "Name", ""),
                                     &removed_any);
        }
        if (rmi) {
                _cleanup_json_ json_t *imgs = json_object();
                json_array_foreach (all, i, c) {
                        const char *svc = label_of(c, LABEL_SERVICE) ?: "";
                        const char *img = json_get_str(c, "Image", NULL);
                        if (!img)
                                continue;
                        bool custom = true;
                        if (model_services)
                                custom = json_object_get(json_object_get(model_services, svc),
                                                         "image") != NULL;
                        else {
                                _cleanup_free_ char *def = xasprintf(
                                    "%s%c%s", name, cc->opts.compatibility ? '_' : '-', svc);
                                custom = !streq(img, def) && !startswith(img, def);
                        }
                        if (streq(rmi, "all") || !custom)
                                json_object_set_new(imgs, img, json_true());
                }
                if (p) {
                        const char *k;
                        json_t *v;
                        json_object_foreach (model_services, k, v) {
                                _cleanup_free_ char *img = compose_service_image(cc, p, k);
                                if (streq(rmi, "all") || !json_object_get(v, "image"))
                                        json_object_set_new(imgs, img, json_true());
                        }
                }
                const char *img;
                json_t *v;
                json_object_foreach (imgs, img, v) {
                        (void)v;
                        if (remove_named(cc, "Image", "/images/%s", img, &removed_any) < 0 &&
                            !cc->dry_run)
                                rc = 1;
                }
        }
        if (volumes && a->n_pos == 0) {
                _cleanup_json_ json_t *vols = NULL;
                if (down_list(cc, "volumes", LABEL_PROJECT, name, &vols, &err) < 0) {
                        cli_fail(&err);
                        return 1;
                }
                json_t *vt;
                json_array_foreach (vols, i, vt)
                        remove_named(cc, "Volume", "/volumes/%s", json_get_str(vt, "Name", ""),
                                     &removed_any);
        }
        if (!removed_any)
                fprintf(stderr, "Warning: No resource found to remove for project \"%s\".\n", name);
        return rc;
}

/* --- run ----------------------------------------------------------------------- */

/* Split a command line as a POSIX shell would split words (quotes and
 * backslashes; no expansion): --entrypoint's string. */
static json_t *shell_split(const char *s)
{
        json_t *out = json_array();
        struct {
                char *p;
                size_t n;
        } w = {xzalloc(strlen(s) + 1), 0};
        bool in_word = false;
        char q = 0;
        for (; *s; s++) {
                if (q) {
                        if (*s == q)
                                q = 0;
                        else if (q == '"' && *s == '\\' && s[1] && strchr("\"\\$`", s[1]))
                                w.p[w.n++] = *++s;
                        else
                                w.p[w.n++] = *s;
                        continue;
                }
                if (*s == '\'' || *s == '"') {
                        q = *s;
                        in_word = true;
                } else if (*s == '\\' && s[1]) {
                        w.p[w.n++] = *++s;
                        in_word = true;
                } else if (strchr(" \t\n", *s)) {
                        if (in_word) {
                                json_array_append_new(out, json_stringn(w.p, w.n));
                                w.n = 0;
                                in_word = false;
                        }
                } else {
                        w.p[w.n++] = *s;
                        in_word = true;
                }
        }
        if (in_word)
                json_array_append_new(out, json_stringn(w.p, w.n));
        free(w.p);
        return out;
}

/* "-p [ip:][host:]container[/proto]" into PortBindings and ExposedPorts */
static int publish_port(json_t *body, const char *spec)
{
        _cleanup_free_ char *s = xstrdup(spec);
        char *proto = strchr(s, '/');
        if (proto)
                *proto++ = 0;
        char *f[3] = {NULL, NULL, NULL};
        int n = 0;
        for (char *t = s; t && n < 3;) {
                f[n++] = t;
                char *c = strchr(t, ':');
                if (c)
                        *c++ = 0;
                t = c;
        }
        const char *ip = n == 3 ? f[0] : "", *host = n >= 2 ? f[n - 2] : "", *ctr = f[n - 1];
        if (!ctr || !*ctr)
                return -EINVAL;
        _cleanup_free_ char *key = xasprintf("%s/%s", ctr, proto && *proto ? proto : "tcp");
        json_t *hc = json_object_get(body, "HostConfig");
        if (!hc)
                json_object_set_new(body, "HostConfig", hc = json_object());
        json_t *pb = json_object_get(hc, "PortBindings");
        if (!json_is_object(pb))
                json_object_set_new(hc, "PortBindings", pb = json_object());
        json_t *l = json_object_get(pb, key);
        if (!json_is_array(l))
                json_object_set_new(pb, key, l = json_array());
        json_array_append_new(l, json_pack("{s:s,s:s}", "HostIp", ip, "HostPort", host));
        json_t *ep = json_object_get(body, "ExposedPorts");
        if (!json_is_object(ep))
                json_object_set_new(body, "ExposedPorts", ep = json_object());
        json_object_set_new(ep, key, json_object());
        return 0;
}

static void random_hex(char *out, size_t n)
{
        unsigned char b[32];
        FILE *f = fopen("/dev/urandom", "re");
        if (!f || fread(b, 1, sizeof(b), f) != sizeof(b)) {
                for (size_t i = 0; i < sizeof(b); i++)
                        b[i] = (unsigned char)(rand() ^ (int)time(NULL));
        }
        if (f)
                fclose(f);
        for (size_t i = 0; i < n / 2 && i < sizeof(b); i++)
                sprintf(out + 2 * i, "%02x", b[i]);
}

const struct cli_opt compose_run_opts[] = {
    {"build", 0, CLI_BOOL, "Build image before starting container", NULL},
    {"cap-add", 0, CLI_LIST, "Add Linux capabilities", NULL},
    {"cap-drop", 0, CLI_LIST, "Drop Linux capabilities", NULL},
    {"detach", 'd', CLI_BOOL, "Run container in background and print container ID", NULL},
    {"entrypoint", 0, CLI_STRING, "Override the entrypoint of the image", NULL},
    {"env", 'e', CLI_LIST, "Set environment variables", NULL},
    {"interactive", 'i', CLI_BOOL, "Keep STDIN open even if not attached", "true"},
    {"label", 'l', CLI_LIST, "Add or override a label", NULL},
    {"name", 0, CLI_STRING, "Assign a name to the container", NULL},
    {"no-TTY", 'T', CLI_BOOL, "Disable pseudo-TTY allocation (default: auto-detected)", NULL},
    {"no-deps", 0, CLI_BOOL, "Don't start linked services", NULL},
    {"publish", 'p', CLI_LIST, "Publish a container's port(s) to the host", NULL},
    {"pull", 0, CLI_STRING, "Pull image before running (\"always\"|\"missing\"|\"never\")",
     "policy"},
    {"quiet", 'q', CLI_BOOL, "Don't print anything to STDOUT", NULL},
    {"quiet-pull", 0, CLI_BOOL, "Pull without printing progress information", NULL},
    {"remove-orphans", 0, CLI_BOOL,
     "Remove containers for services not defined in the Compose file", NULL},
    {"rm", 0, CLI_BOOL, "Automatically remove the container when it exits", NULL},
    {"service-ports", 'P', CLI_BOOL,
     "Run command with all service's ports enabled and mapped to the host", NULL},
    {"tty", 't', CLI_BOOL, "Allocate a pseudo-TTY", NULL},
    {"use-aliases", 0, CLI_BOOL,
     "Use the service's network useAliases in the network(s) the container connects to", NULL},
    {"user", 'u', CLI_STRING, "Run as specified username or uid", NULL},
    {"volume", 'v', CLI_LIST, "Bind mount a volume", NULL},
    {"workdir", 'w', CLI_STRING, "Working directory inside the container", NULL},
    {0},
};

/* Drop the service aliases from the body's endpoints (run without
 * --use-aliases) */
static void strip_aliases(json_t *body)
{
        const char *k;
        json_t *v;
        json_object_foreach (
            json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig"), k, v)
                json_object_del(v, "Aliases");
}

int compose_cmd_run(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        const char *service = a->pos[0];
        bool detach = cli_flag(a, "detach"), rm = cli_flag(a, "rm");
        bool service_ports = cli_flag(a, "service-ports");
        char **publish = cli_list(a, "publish");
        if (service_ports && publish) {
                fprintf(stderr, "--service-ports and --publish are incompatible\n");
                return 1;
        }
        bool no_tty = cli_flag(a, "no-TTY") || !isatty(STDOUT_FILENO);
        bool interactive = true;
        const char *iv = cli_str(a, "interactive");
        if (iv)
                parse_bool(iv, &interactive);
        if (cli_flag(a, "tty"))
                no_tty = false;
        else if (!cli_flag(a, "no-TTY") && !isatty(STDIN_FILENO))
                no_tty = true;

        /* the deps first (and the networks, volumes and image), waiting on
         * the conditions the service puts on them */
        struct up u = {.cc = cc, .timeout = -1, .detach = true, .run_service = service};
        pthread_mutex_init(&u.cr.lock, NULL);
        u.cr.containers = json_array();
        u.cr.networks = json_array();
        u.cr.volumes = json_array();
        u.scale = json_object();
        u.no_deps = cli_flag(a, "no-deps");
        u.build = cli_flag(a, "build");
        u.pull = cli_str(a, "pull");
        if (u.pull && streq(u.pull, "policy"))
                u.pull = NULL;
        u.quiet_pull = cli_flag(a, "quiet-pull");
        u.remove_orphans = cli_flag(a, "remove-orphans");
        u.no_recreate = false;
        u.services = strv_push(NULL, xstrdup(service));
        cc->opts.services = u.services;
        int rc = up_run(&u);
        cc->opts.services = NULL;
        struct svc *s = rc == 0 ? svc_find(&u, service) : NULL;
        if (rc != 0 || !s) {
                strv_free(u.services);
                up_done(&u);
                return rc ? rc : 1;
        }

        char slug[65] = {0};
        random_hex(slug, 64);
        struct compose_service_args sa = {
            .project = u.p, .service = service, .number = 0, .image_id = s->image_id};
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *name = NULL;
        char id[80] = {0};
        if (compose_service_body(cc, &sa, &body, &err) < 0)
                goto fail;
        if (cli_str(a, "name"))
                name = xstrdup(cli_str(a, "name"));
        else
                name = xasprintf(
                    "%s%c%s%crun%c%.12s", u.p->name, cc->opts.compatibility ? '_' : '-', service,
                    cc->opts.compatibility ? '_' : '-', cc->opts.compatibility ? '_' : '-', slug);
        json_t *labels = json_object_get(body, "Labels");
        if (!json_is_object(labels))
                json_object_set_new(body, "Labels", labels = json_object());
        json_object_set_new(labels, LABEL_ONEOFF, json_string("True"));
        json_object_set_new(labels, LABEL_SLUG, json_string(slug));
        json_object_del(labels, LABEL_NUMBER);
        const char *bad = NULL;
        json_t *ul = cli_kv_object(cli_list(a, "label"), false, &bad);
        if (ul)
                json_object_update(labels, ul);
        json_decref(ul);
        if (a->n_pos > 1) {
                json_t *cmd = json_array();
                for (size_t i = 1; i < a->n_pos; i++)
                        json_array_append_new(cmd, json_string(a->pos[i]));
                json_object_set_new(body, "Cmd", cmd);
        }
        if (cli_str(a, "entrypoint")) {
                json_object_set_new(body, "Entrypoint", shell_split(cli_str(a, "entrypoint")));
                if (a->n_pos <= 1)
                        json_object_set_new(body, "Cmd", json_array());
        }
        if (cli_str(a, "user"))
                json_object_set_new(body, "User", json_string(cli_str(a, "user")));
        if (cli_str(a, "workdir"))
                json_object_set_new(body, "WorkingDir", json_string(cli_str(a, "workdir")));
        json_t *env = json_object_get(body, "Env");
        if (!json_is_array(env))
                json_object_set_new(body, "Env", env = json_array());
        for (char **e = cli_list(a, "env"); e && *e; e++) {
                if (strchr(*e, '='))
                        json_array_append_new(env, json_string(*e));
                else if (getenv(*e))
                        json_array_append_new(env, json_sprintf("%s=%s", *e, getenv(*e)));
        }
        json_object_set_new(body, "Tty", json_boolean(!no_tty));
        bool open_stdin = !detach && interactive;
        json_object_set_new(body, "OpenStdin", json_boolean(open_stdin));
        json_object_set_new(body, "StdinOnce", json_boolean(open_stdin));
        json_object_set_new(body, "AttachStdin", json_boolean(open_stdin));
        json_object_set_new(body, "AttachStdout", json_boolean(!detach));
        json_object_set_new(body, "AttachStderr", json_boolean(!detach));
        json_t *hc = json_object_get(body, "HostConfig");
        if (!json_is_object(hc))
                json_object_set_new(body, "HostConfig", hc = json_object());
        json_object_set_new(hc, "RestartPolicy", json_pack("{s:s}", "Name", "no"));
        if (detach && rm)
                json_object_set_new(hc, "AutoRemove", json_true());
        if (!service_ports)
                json_object_del(hc, "PortBindings");
        for (char **pp = publish; pp && *pp; pp++)
                if (publish_port(body, *pp) < 0) {
                        err_set(&err, -EINVAL, "invalid publish spec %s", *pp);
                        goto fail;
                }
        json_t *binds = json_object_get(hc, "Binds");
        for (char **v = cli_list(a, "volume"); v && *v; v++) {
                if (!json_is_array(binds))
                        json_object_set_new(hc, "Binds", binds = json_array());
                json_array_append_new(binds, json_string(*v));
        }
        const char *caps[][2] = {{"cap-add", "CapAdd"}, {"cap-drop", "CapDrop"}};
        for (size_t k = 0; k < 2; k++)
                for (char **v = cli_list(a, caps[k][0]); v && *v; v++) {
                        json_t *l = json_object_get(hc, caps[k][1]);
                        if (!json_is_array(l))
                                json_object_set_new(hc, caps[k][1], l = json_array());
                        json_array_append_new(l, json_string(*v));
                }
        if (!cli_flag(a, "use-aliases"))
                strip_aliases(body);
        {
                _cleanup_free_ char *p = path_fmt("/containers/create?name=%s", name);
                _cleanup_json_ json_t *res = NULL;
                if (api(&cli->client, "POST", p, body, &res, &err) < 0)
                        goto fail;
                snprintf(id, sizeof(id), "%s", json_get_str(res, "Id", ""));
        }
        {
                _cleanup_json_ json_t *nets = NULL;
                if (compose_service_networks(cc, &sa, name, &nets, &err) < 0)
                        goto fail_rm;
                size_t i;
                json_t *nn;
                json_array_foreach (nets, i, nn) {
                        json_t *b = json_object_get(nn, "body");
                        json_auto_t *cb =
                            json_object_get(b, "EndpointConfig")
                                ? json_deep_copy(b)
                                : json_pack("{s:O}", "EndpointConfig", b ? b : json_object());
                        if (!cli_flag(a, "use-aliases"))
                                json_object_del(json_object_get(cb, "EndpointConfig"), "Aliases");
                        json_object_set_new(cb, "Container", json_string(id));
                        _cleanup_free_ char *np =
                            path_fmt("/networks/%s/connect", json_get_str(nn, "network", ""));
                        if (api(&cli->client, "POST", np, cb, NULL, &err) < 0)
                                goto fail_rm;
                }
        }
        {
                struct ctr tmp = {.svc = s, .id = id, .number = 0};
                if (inject_files(&u, &cli->client, &tmp, &err) < 0)
                        goto fail_rm;
        }
        if (detach) {
                _cleanup_free_ char *p = path_fmt("/containers/%s/start", id);
                if (api(&cli->client, "POST", p, NULL, NULL, &err) < 0)
                        goto fail_rm;
                if (!cli_flag(a, "quiet"))
                        printf("%s\n", id);
                rc = 0;
                goto out;
        }
        {
                /* attached as `berth start -a [-i]` is: same terminal handling,
                 * exit code = the container's */
                static const struct cli_command start = {
                    "start", NULL, "", "", NULL, cli_start_opts, cli_cmd_start, NULL, 1, 1, false};
                char *argv[] = {"-a", open_stdin ? "-i" : "-a", id, NULL};
                struct cli_args sa2;
                if (cli_parse(&start, "berth compose run", 3, argv, &sa2) < 0) {
                        cli_args_done(&sa2);
                        rc = 1;
                } else {
                        rc = cli_cmd_start(cli, &sa2);
                        cli_args_done(&sa2);
                }
                if (rm) { /* not forced: after a detach (ctrl-p ctrl-q) it keeps running */
                        struct berth_err e2 = {0};
                        remove_container(&cli->client, id, false, true, &e2);
                }
                goto out;
        }
fail_rm : {
        struct berth_err e2 = {0};
        remove_container(&cli->client, id, true, true, &e2);
}
fail:
        rc = cli_fail(&err);
out:
        strv_free(u.services);
        up_done(&u);
        return rc;
}
