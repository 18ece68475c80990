/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* start, stop, restart, rm, kill, pause, unpause: the project's containers
 * (found by label), the selected services or all, as docker compose v2 acts
 * on them: start in dependency order (dependencies first, waiting on their
 * depends_on conditions), stop in the reverse order, the containers of one
 * level of the graph in parallel; progress on stderr as v2's plain mode
 * prints it (" Container demo-web-1  Stopping"). With the project's files,
 * start copies the secrets and configs given by environment or content in
 * again, and the post_start and pre_stop hooks run around start, stop and
 * restart.
 *
 * The project is the compose files' when they load; with -p alone (or
 * COMPOSE_PROJECT_NAME when the files do not load) it is rebuilt from the
 * containers' labels: their services, and the depends_on label for the
 * order, as v2 does for `docker compose -p demo stop`. */
#include "compose.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

const struct cli_opt compose_start_opts[] = {
    {"wait", 0, CLI_BOOL, "Wait for services to be running|healthy. Implies detached mode.", NULL},
    {"wait-timeout", 0, CLI_INT,
     "Maximum duration in seconds to wait for the project to be running|healthy", NULL},
    {0},
};
const struct cli_opt compose_stop_opts[] = {
    {"timeout", 't', CLI_INT, "Specify a shutdown timeout in seconds", NULL},
    {0},
};
const struct cli_opt compose_restart_opts[] = {
    {"no-deps", 0, CLI_BOOL, "Don't restart dependent services", NULL},
    {"timeout", 't', CLI_INT, "Specify a shutdown timeout in seconds", NULL},
    {0},
};
const struct cli_opt compose_rm_opts[] = {
    {"all", 'a', CLI_BOOL, "Deprecated - no effect", NULL},
    {"force", 'f', CLI_BOOL, "Don't ask to confirm removal", NULL},
    {"stop", 's', CLI_BOOL, "Stop the containers, if required, before removing", NULL},
    {"volumes", 'v', CLI_BOOL, "Remove any anonymous volumes attached to containers", NULL},
    {0},
};
const struct cli_opt compose_kill_opts[] = {
    {"remove-orphans", 0, CLI_BOOL,
     "Remove containers for services not defined in the Compose file", NULL},
    {"signal", 's', CLI_STRING, "SIGNAL to send to the container", "SIGKILL"},
    {0},
};
const struct cli_opt compose_pause_opts[] = {{0}};

/* --- the project --------------------------------------------------------------- */

struct life {
        struct compose_cli *cc;
        const char *name;
        struct compose_project *project; /* when the files load */
        json_t *model;                   /* {"services": {S: {"depends_on": ...}}} at least */
        bool from_files;                 /* the model is the files'; else rebuilt from labels */
        json_t *containers;              /* the project's containers, all states, no one-offs */
};

static const char *label(const json_t *ctr, const char *key)
{
        return json_string_value(json_object_get(json_object_get(ctr, "Labels"), key));
}

/* The container's name as compose shows it: its name without the '/'. */
static const char *ctr_name(const json_t *ctr)
{
        const char *n = json_string_value(json_array_get(json_object_get(ctr, "Names"), 0));
        if (!n)
                return json_string_value(json_object_get(ctr, "Id"));
        return *n == '/' ? n + 1 : n;
}

static const char *ctr_service(const json_t *ctr)
{
        return label(ctr, LABEL_SERVICE) ?: ctr_name(ctr);
}

/* The depends_on label, "db:service_healthy:true,cache:service_started:false",
 * back into a depends_on map. A missing condition waits for running (or
 * healthy), a missing restart flag restarts, as v2 reads older labels. */
static json_t *depends_from_label(const char *s)
{
        json_t *deps = json_object();
        _cleanup_strv_ char **items = strv_split(strempty(s), ",");
        for (char **i = items; *i; i++) {
                _cleanup_strv_ char **f = strv_split(*i, ":");
                if (!f[0])
                        continue;
                bool restart = true;
                if (f[1] && f[2])
                        parse_bool(f[2], &restart);
                json_object_set_new(deps, f[0],
                                    json_pack("{s:s, s:b, s:b}", "condition",
                                              f[1] ? f[1] : "running_or_healthy", "restart",
                                              restart, "required", true));
        }
        return deps;
}

static json_t *model_from_labels(const char *name, const json_t *containers)
{
        json_t *services = json_object();
        size_t i;
        json_t *c;
        json_array_foreach (containers, i, c) {
                const char *s = ctr_service(c);
                if (!s || json_object_get(services, s))
                        continue;
                json_object_set_new(
                    services, s,
                    json_pack("{s:o}", "depends_on", depends_from_label(label(c, LABEL_DEPENDS))));
        }
        /* a dependency whose containers are gone is no edge of the graph */
        const char *k;
        json_t *v;
        json_object_foreach (services, k, v) {
                json_t *deps = json_object_get(v, "depends_on");
                const char *d;
                json_t *dv;
                void *tmp;
                json_object_foreach_safe (deps, tmp, d, dv)
                        if (!json_object_get(services, d))
                                json_object_del(deps, d);
        }
        return json_pack("{s:s, s:o}", "name", name, "services", services);
}

static int life_open(struct compose_cli *cc, struct life *l, char **services, struct berth_err *err)
{
        *l = (struct life){.cc = cc};
        /* services named on the command line have their profiles enabled */
        if (services && services[0] && !cc->opts.services)
                cc->opts.services = services;
        bool files = cc->opts.files && cc->opts.files[0];
        int r;
        if (files || !(cc->opts.project_name && *cc->opts.project_name)) {
                struct compose_project *p;
                r = compose_project(cc, &p, err);
                if (r == 0) {
                        l->project = p;
                        l->model = json_incref(p->model);
                        l->from_files = true;
                } else {
                        const char *env = getenv("COMPOSE_PROJECT_NAME");
                        if (!env || !*env)
                                return r;
                        err_clear(err);
                }
        }
        if ((r = compose_project_name(cc, &l->name, err)) < 0)
                return r;
        if ((r = compose_containers(cc, NULL, true, false, &l->containers, err)) < 0)
                return r;
        if (!l->model)
                l->model = model_from_labels(l->name, l->containers);
        return 0;
}

static void life_close(struct life *l)
{
        json_decref(l->model);
        json_decref(l->containers);
}

static json_t *services_of(const struct life *l)
{
        return json_object_get(l->model, "services");
}

static json_t *depends_of(const struct life *l, const char *service)
{
        return json_object_get(json_object_get(services_of(l), service), "depends_on");
}

/* --- which services, in which order -------------------------------------------- */

enum select_mode {
        SELECT_EXACT,      /* the named services (stop, rm, pause ...) */
        SELECT_WITH_DEPS,  /* and what they depend on (start) */
        SELECT_DEPENDENTS, /* and what depends on them with restart: true (restart) */
};

static bool edge(const json_t *dep, bool restart_only)
{
        return !restart_only || json_is_true(json_object_get(dep, "restart"));
}

/* The selected services as a set {S: true}. Unknown names are an error
 * when the project comes from its files, as v2's loader makes them. */
static int select_services(struct life *l, char **names, enum select_mode mode, bool no_deps,
                           json_t **ret, struct berth_err *err)
{
        json_t *services = services_of(l);
        json_auto_t *set = json_object();
        const char *k;
        json_t *v;
        if (!names || !names[0]) {
                json_object_foreach (services, k, v)
                        json_object_set_new(set, k, json_true());
                *ret = TAKE_PTR(set);
                return 0;
        }
        for (char **n = names; *n; n++) {
                if (!json_object_get(services, *n)) {
                        if (l->from_files)
                                return err_set(err, -ENOENT, "no such service: %s", *n);
                        if (mode == SELECT_WITH_DEPS)
                                return err_set(err, -ENOENT, "no such service: \"%s\": not found",
                                               *n);
                        continue;
                }
                json_object_set_new(set, *n, json_true());
        }
        if (no_deps || mode == SELECT_EXACT) {
                *ret = TAKE_PTR(set);
                return 0;
        }
        /* the closure, one service at a time until nothing is added */
        for (bool added = true; added;) {
                added = false;
                json_object_foreach (services, k, v) {
                        const char *d;
                        json_t *dv;
                        json_object_foreach (json_object_get(v, "depends_on"), d, dv) {
                                if (!json_object_get(services, d))
                                        continue;
                                if (mode == SELECT_WITH_DEPS && json_object_get(set, k) &&
                                    !json_object_get(set, d)) {
                                        json_object_set_new(set, d, json_true());
                                        added = true;
                                }
                                if (mode == SELECT_DEPENDENTS && edge(dv, true) &&
                                    json_object_get(set, d) && !json_object_get(set, k)) {
                                        json_object_set_new(set, k, json_true());
                                        added = true;
                                }
                        }
                }
        }
        *ret = TAKE_PTR(set);
        return 0;
}

/* The selected services grouped by level of the dependency graph: level 0
 * depends on nothing, level n on services of levels < n. An array of
 * arrays, dependencies first; within a level, in compose_service_order's
 * order. */
static int service_levels(struct life *l, const json_t *selected, bool restart_only, json_t **ret,
                          struct berth_err *err)
{
        json_auto_t *order = NULL;
        int r = compose_service_order(l->model, NULL, false, &order, err);
        if (r < 0)
                return r;
        json_t *services = services_of(l);
        size_t n = json_array_size(order);
        json_auto_t *level = json_object();
        size_t i;
        json_t *s;
        json_array_foreach (order, i, s)
                json_object_set_new(level, json_string_value(s), json_integer(0));
        /* longest path, by relaxation; n rounds are enough without a cycle */
        for (size_t round = 0; round <= n; round++) {
                bool changed = false;
                json_array_foreach (order, i, s) {
                        const char *name = json_string_value(s);
                        int64_t lv = json_integer_value(json_object_get(level, name));
                        const char *d;
                        json_t *dv;
                        json_object_foreach (depends_of(l, name), d, dv) {
                                if (!json_object_get(services, d) || !edge(dv, restart_only))
                                        continue;
                                int64_t dl = json_integer_value(json_object_get(level, d));
                                if (dl + 1 > lv) {
                                        lv = dl + 1;
                                        changed = true;
                                }
                        }
                        json_object_set_new(level, name, json_integer(lv));
                }
                if (!changed)
                        break;
                if (round == n)
                        return err_set(err, -ELOOP, "dependency cycle detected");
        }
        json_auto_t *levels = json_array();
        json_array_foreach (order, i, s) {
                const char *name = json_string_value(s);
                if (!json_object_get(selected, name))
                        continue;
                size_t lv = (size_t)json_integer_value(json_object_get(level, name));
                while (json_array_size(levels) <= lv)
                        json_array_append_new(levels, json_array());
                json_array_append(json_array_get(levels, lv), s);
        }
        /* drop the empty levels (services not selected) */
        for (size_t k = json_array_size(levels); k-- > 0;)
                if (!json_array_size(json_array_get(levels, k)))
                        json_array_remove(levels, k);
        *ret = TAKE_PTR(levels);
        return 0;
}

/* The containers of a service, from a list. */
static json_t *containers_of(const json_t *list, const char *service)
{
        json_t *a = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c)
                if (streq_ptr(ctr_service(c), service))
                        json_array_append(a, c);
        return a;
}

/* --- progress ------------------------------------------------------------------ */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* One line per transition, as v2's plain progress writer prints its events. */
static void event(const struct compose_cli *cc, const char *name, const char *status)
{
        if (cc->progress && streq(cc->progress, "quiet"))
                return;
        pthread_mutex_lock(&out_lock);
        if (cc->progress && streq(cc->progress, "json")) {
                json_auto_t *j = json_object();
                if (cc->dry_run)
                        json_object_set_new(j, "dry-run", json_true());
                json_object_set_new(j, "id", json_sprintf("Container %s", name));
                json_object_set_new(j, "status", json_string(status));
                _cleanup_free_ char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (line)
                        fprintf(stderr, "%s\n", line);
        } else
                fprintf(stderr, "%s Container %s  %s\n", cc->dry_run ? " DRY-RUN MODE - " : "",
                        name, status);
        fflush(stderr);
        pthread_mutex_unlock(&out_lock);
}

/* An Engine API call; the daemon's refusals read as the docker CLI prints
 * them. */
static int api_body(struct client *c, const char *method, const char *path, json_t *body,
                    json_t **ret, struct berth_err *err)
{
        long status = 0;
        int r = client_json(c, method, path, body, &status, ret, err);
        if (r < 0 && status >= 400)
                return err_wrap(err, r, "Error response from daemon");
        return r;
}

static int api(struct client *c, const char *method, const char *path, json_t **ret,
               struct berth_err *err)
{
        long status = 0;
        int r = client_json(c, method, path, NULL, &status, ret, err);
        if (r < 0 && status >= 400)
                return err_wrap(err, r, "Error response from daemon");
        return r;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
}

/* --- parallel jobs ------------------------------------------------------------- */

struct job {
        json_t *ctr;
        int r;
        struct berth_err err;
};

struct runner;
typedef int (*job_fn)(struct runner *rn, struct client *c, struct job *j);

struct runner {
        struct compose_cli *cc;
        const json_t *services; /* the model's, for the hooks; NULL from labels */
        job_fn fn;
        const char *query; /* per verb: "?t=5", "?signal=SIGKILL" ... */
        struct job *jobs;
        size_t n, next;
        pthread_mutex_t lock;
};

static void *worker(void *arg)
{
        struct runner *rn = arg;
        struct client c;
        struct berth_err err = {0};
        bool ok = client_init(&c, rn->cc->cli->host, &err) == 0;
        if (ok)
                memcpy(c.version, rn->cc->cli->client.version, sizeof(c.version));
        for (;;) {
                pthread_mutex_lock(&rn->lock);
                size_t i = rn->next++;
                pthread_mutex_unlock(&rn->lock);
                if (i >= rn->n)
                        break;
                struct job *j = &rn->jobs[i];
                if (!ok) {
                        j->err = err;
                        j->r = err.code ?: -EIO;
                        continue;
                }
                j->r = rn->fn(rn, &c, j);
        }
        client_done(&c);
        return NULL;
}

/* Run fn on every container of the list, --parallel at a time; the first
 * failure (in list order) is returned, after all have run as v2's errgroup
 * lets them. */
static int run_jobs(struct life *l, const json_t *ctrs, job_fn fn, const char *query,
                    struct berth_err *err)
{
        struct compose_cli *cc = l->cc;
        size_t n = json_array_size(ctrs);
        if (!n)
                return 0;
        _cleanup_free_ struct job *jobs = xzalloc(n * sizeof(*jobs));
        for (size_t i = 0; i < n; i++)
                jobs[i].ctr = json_array_get(ctrs, i);
        struct runner rn = {.cc = cc,
                            .services = l->project ? services_of(l) : NULL,
                            .fn = fn,
                            .query = query,
                            .jobs = jobs,
                            .n = n};
        pthread_mutex_init(&rn.lock, NULL);
        size_t nt = n;
        if (cc->parallel > 0 && (size_t)cc->parallel < nt)
                nt = (size_t)cc->parallel;
        _cleanup_free_ pthread_t *th = xzalloc(nt * sizeof(*th));
        size_t started = 0;
        for (; started < nt; started++)
                if (pthread_create(&th[started], NULL, worker, &rn) != 0)
                        break;
        if (started == 0)
                worker(&rn);
        for (size_t i = 0; i < started; i++)
                pthread_join(th[i], NULL);
        pthread_mutex_destroy(&rn.lock);
        for (size_t i = 0; i < n; i++)
                if (jobs[i].r < 0) {
                        *err = jobs[i].err;
                        return jobs[i].r;
                }
        return 0;
}

static char *ctr_path(const struct job *j, const char *verb, const char *query)
{
        const char *id = json_string_value(json_object_get(j->ctr, "Id"));
        return xasprintf("/containers/%s%s%s", strempty(id), verb, strempty(query));
}

/* The service's post_start or pre_stop hooks, exec'd in the container one
 * after the other (v2's runHook, detached): an exit status other than 0
 * fails the verb. */
static int run_hooks(struct runner *rn, struct client *c, struct job *j, const char *kind)
{
        const char *svc = ctr_service(j->ctr);
        json_t *hooks = json_object_get(json_object_get(rn->services, strempty(svc)), kind);
        if (!json_array_size(hooks) || rn->cc->dry_run)
                return 0;
        const char *id = json_string_value(json_object_get(j->ctr, "Id"));
        size_t i;
        json_t *h;
        json_array_foreach (hooks, i, h) {
                json_t *cmd = json_object_get(h, "command");
                json_auto_t *body = json_pack(
                    "{s:s, s:b, s:s, s:O, s:b, s:b}", "User",
                    strempty(json_string_value(json_object_get(h, "user"))), "Privileged",
                    json_is_true(json_object_get(h, "privileged")), "WorkingDir",
                    strempty(json_string_value(json_object_get(h, "working_dir"))), "Cmd",
                    json_is_array(cmd) ? cmd : json_null(), "AttachStdout", 0, "AttachStderr", 0);
                if (json_is_string(cmd))
                        json_object_set_new(
                            body, "Cmd",
                            json_pack("[s,s,s]", "/bin/sh", "-c", json_string_value(cmd)));
                json_t *env = json_array();
                const char *k;
                json_t *v;
                json_object_foreach (json_object_get(h, "environment"), k, v)
                        json_array_append_new(
                            env, json_is_string(v) ? json_sprintf("%s=%s", k, json_string_value(v))
                                                   : json_string(k));
                json_object_set_new(body, "Env", env);
                _cleanup_free_ char *path = xasprintf("/containers/%s/exec", strempty(id));
                json_auto_t *res = NULL;
                int r = api_body(c, "POST", path, body, &res, &j->err);
                if (r < 0)
                        return r;
                const char *eid = json_string_value(json_object_get(res, "Id"));
                if (!eid)
                        return err_set(&j->err, -EPROTO, "exec create: no Id");
                _cleanup_free_ char *sp = xasprintf("/exec/%s/start", eid);
                json_auto_t *sb = json_pack("{s:b, s:b}", "Detach", 1, "Tty", 0);
                if ((r = api_body(c, "POST", sp, sb, NULL, &j->err)) < 0)
                        return r;
                _cleanup_free_ char *ip = xasprintf("/exec/%s/json", eid);
                for (;;) {
                        json_auto_t *st = NULL;
                        if ((r = api(c, "GET", ip, &st, &j->err)) < 0)
                                return r;
                        if (!json_is_true(json_object_get(st, "Running"))) {
                                int64_t code = json_integer_value(json_object_get(st, "ExitCode"));
                                if (code != 0)
                                        return err_set(&j->err, -ECHILD,
                                                       "%s hook exited with status %lld",
                                                       strempty(svc), (long long)code);
                                break;
                        }
                        sleep_ms(100);
                }
        }
        return 0;
}

/* A verb with a Working and a Done event around one POST, and the hooks
 * that go before (pre_stop) and after (post_start) it. */
static int post_verb(struct runner *rn, struct client *c, struct job *j, const char *verb,
                     const char *working, const char *done, const char *failed,
                     const char *hook_before, const char *hook_after)
{
        const char *name = ctr_name(j->ctr);
        int r;
        if (working)
                event(rn->cc, name, working);
        if (hook_before && (r = run_hooks(rn, c, j, hook_before)) < 0) {
                /* the container is not running (anymore): nothing to stop */
                if (r == -ENOENT || r == -EEXIST) {
                        err_clear(&j->err);
                        return 0;
                }
                return r;
        }
        if (!rn->cc->dry_run) {
                _cleanup_free_ char *path = ctr_path(j, verb, rn->query);
                r = api(c, "POST", path, NULL, &j->err);
                if (r < 0) {
                        if (failed)
                                event(rn->cc, name, failed);
                        return r;
                }
        }
        if (hook_after && (r = run_hooks(rn, c, j, hook_after)) < 0)
                return r;
        event(rn->cc, name, done);
        return 0;
}

static int job_start(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/start", "Starting", "Started", NULL, NULL, "post_start");
}

static int job_stop(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/stop", "Stopping", "Stopped", "Error while Stopping",
                         "pre_stop", NULL);
}

static int job_restart(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/restart", "Restarting", "Started", NULL, "pre_stop",
                         "post_start");
}

static int job_kill(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/kill", "Killing", "Killed", "Error while Killing", NULL, NULL);
}

static int job_pause(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/pause", NULL, "Paused", NULL, NULL, NULL);
}

static int job_unpause(struct runner *rn, struct client *c, struct job *j)
{
        return post_verb(rn, c, j, "/unpause", NULL, "Unpaused", NULL, NULL, NULL);
}

static int job_remove(struct runner *rn, struct client *c, struct job *j)
{
        const char *name = ctr_name(j->ctr);
        event(rn->cc, name, "Removing");
        if (!rn->cc->dry_run) {
                const char *id = json_string_value(json_object_get(j->ctr, "Id"));
                _cleanup_free_ char *path = xasprintf("/containers/%s%s", strempty(id), rn->query);
                int r = api(c, "DELETE", path, NULL, &j->err);
                if (r < 0)
                        return r;
        }
        event(rn->cc, name, "Removed");
        return 0;
}

/* --- waiting on dependencies --------------------------------------------------- */

static int inspect(struct compose_cli *cc, const json_t *ctr, json_t **ret, struct berth_err *err)
{
        _cleanup_free_ char *path =
            xasprintf("/containers/%s/json", json_string_value(json_object_get(ctr, "Id")));
        return api(&cc->cli->client, "GET", path, ret, err);
}

/* v2's three checks, on every container of the dependency: 1 when the
 * condition holds, 0 to poll again, < 0 when it never will. */
static int check_healthy(struct compose_cli *cc, const json_t *ctrs, bool fallback_running,
                         struct berth_err *err)
{
        size_t i;
        json_t *c;
        json_array_foreach (ctrs, i, c) {
                json_auto_t *j = NULL;
                int r = inspect(cc, c, &j, err);
                if (r < 0)
                        return r;
                const char *name = ctr_name(c);
                json_t *state = json_object_get(j, "State");
                const char *status = json_string_value(json_object_get(state, "Status"));
                if (streq_ptr(status, "exited"))
                        return err_set(
                            err, -ECHILD, "container %s exited (%lld)", name,
                            (long long)json_integer_value(json_object_get(state, "ExitCode")));
                json_t *hc = json_object_get(json_object_get(j, "Config"), "Healthcheck");
                json_t *test = json_object_get(hc, "Test");
                bool none = !hc || json_is_null(hc) ||
                            streq_ptr(json_string_value(json_array_get(test, 0)), "NONE");
                if (none && fallback_running) {
                        if (!streq_ptr(status, "running"))
                                return 0;
                        continue;
                }
                json_t *health = json_object_get(state, "Health");
                if (!health)
                        return err_set(err, -EINVAL, "container %s has no healthcheck configured",
                                       name);
                const char *hs = json_string_value(json_object_get(health, "Status"));
                if (streq_ptr(hs, "healthy"))
                        continue;
                if (streq_ptr(hs, "unhealthy"))
                        return err_set(err, -ECHILD, "container %s is unhealthy", name);
                if (streq_ptr(hs, "starting"))
                        return 0;
                return err_set(err, -EINVAL, "container %s had unexpected health status \"%s\"",
                               name, strempty(hs));
        }
        return 1;
}

static int check_completed(struct compose_cli *cc, const json_t *ctrs, int64_t *ret_code,
                           struct berth_err *err)
{
        size_t i;
        json_t *c;
        json_array_foreach (ctrs, i, c) {
                json_auto_t *j = NULL;
                int r = inspect(cc, c, &j, err);
                if (r < 0)
                        return r;
                json_t *state = json_object_get(j, "State");
                if (streq_ptr(json_string_value(json_object_get(state, "Status")), "exited")) {
                        *ret_code = json_integer_value(json_object_get(state, "ExitCode"));
                        return 1;
                }
        }
        return 0;
}

static void events_for(struct compose_cli *cc, const json_t *ctrs, const char *status)
{
        size_t i;
        json_t *c;
        json_array_foreach (ctrs, i, c)
                event(cc, ctr_name(c), status);
}

/* Wait until one dependency's condition holds (v2's waitDependency, which
 * polls every 500 ms; 100 ms here). deadline: monotonic ns, 0 for none. */
static int wait_one(struct compose_cli *cc, const char *dep, const char *cond, bool required,
                    const json_t *ctrs, int64_t deadline, struct berth_err *err)
{
        for (;;) {
                int r;
                if (streq(cond, "service_completed_successfully")) {
                        int64_t code = 0;
                        r = check_completed(cc, ctrs, &code, err);
                        if (r > 0 && code != 0) {
                                if (!required) {
                                        fprintf(stderr,
                                                "WARN[0000] optional dependency \"%s\" didn't "
                                                "complete successfully: exit %lld\n",
                                                dep, (long long)code);
                                        return 0;
                                }
                                return err_set(err, -ECHILD,
                                               "service \"%s\" didn't complete successfully: exit "
                                               "%lld",
                                               dep, (long long)code);
                        }
                        if (r > 0)
                                events_for(cc, ctrs, "Exited");
                } else {
                        bool fallback = !streq(cond, "service_healthy");
                        r = check_healthy(cc, ctrs, fallback, err);
                        if (r < 0 && !fallback && required)
                                return err_wrap(err, r, "dependency failed to start");
                        if (r < 0 && !required) {
                                fprintf(
                                    stderr, "WARN[0000] optional dependency \"%s\" %s: %s\n", dep,
                                    fallback ? "is not running or is unhealthy" : "failed to start",
                                    err_msg(err));
                                err_clear(err);
                                return 0;
                        }
                        if (r > 0)
                                events_for(cc, ctrs, "Healthy");
                }
                if (r != 0)
                        return r < 0 ? r : 0;
                if (deadline && monotonic_ns() > deadline)
                        return err_set(err, -ETIMEDOUT, "timeout waiting for dependencies");
                sleep_ms(100);
        }
}

/* A service that is meant to have no container (scale: 0, deploy.replicas:
 * 0) is not waited for. */
static bool scaled_to_zero(const json_t *svc)
{
        json_t *scale = json_object_get(svc, "scale");
        json_t *rep = json_object_get(json_object_get(svc, "deploy"), "replicas");
        return (json_is_integer(scale) && json_integer_value(scale) == 0) ||
               (json_is_integer(rep) && json_integer_value(rep) == 0);
}

/* Wait on the depends_on conditions of a service before it starts; a
 * service_started dependency is already started by the order. restart:
 * only the dependencies that restart with it, and optional ones when the
 * project comes from labels (v2's restart and stop do the same). */
static int wait_dependencies(struct life *l, const char *service, bool restart,
                             struct berth_err *err)
{
        bool restart_only = restart;
        const char *d;
        json_t *dv;
        json_object_foreach (depends_of(l, service), d, dv) {
                const char *cond = json_string_value(json_object_get(dv, "condition"));
                json_t *dsvc = json_object_get(services_of(l), d);
                if (!cond || streq(cond, "service_started") || !edge(dv, restart_only) || !dsvc ||
                    scaled_to_zero(dsvc))
                        continue;
                bool required =
                    !json_is_false(json_object_get(dv, "required")) && (l->from_files || !restart);
                json_auto_t *ctrs = containers_of(l->containers, d);
                events_for(l->cc, ctrs, "Waiting");
                if (!json_array_size(ctrs)) {
                        if (required)
                                return err_set(err, -ENOENT, "%s is missing dependency %s", service,
                                               d);
                        fprintf(stderr, "WARN[0000] %s is missing dependency %s\n", service, d);
                        continue;
                }
                if (l->cc->dry_run)
                        continue;
                int r = wait_one(l->cc, d, cond, required, ctrs, 0, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- the commands -------------------------------------------------------------- */

static int fail(const struct berth_err *err)
{
        fprintf(stderr, "%s\n", err_msg(err));
        return 1;
}

static bool is_running(const json_t *ctr)
{
        return streq_ptr(json_string_value(json_object_get(ctr, "State")), "running");
}

/* The containers of the selected services, in the order of the list. */
static json_t *containers_in(const json_t *list, const json_t *selected, bool only_stopped)
{
        json_t *a = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                if (!json_object_get(selected, strempty(ctr_service(c))))
                        continue;
                if (only_stopped && is_running(c))
                        continue;
                json_array_append(a, c);
        }
        return a;
}

typedef int (*verb_fn)(struct life *l, struct cli_args *a, struct berth_err *err);

static int run_verb(struct cli *cli, struct cli_args *a, verb_fn fn)
{
        struct berth_err err = {0};
        struct life l;
        int r = life_open(compose_cli(cli), &l, a->pos, &err);
        if (r == 0)
                r = fn(&l, a, &err);
        life_close(&l);
        return r < 0 ? fail(&err) : 0;
}

/* --wait: every started service running (or healthy when it has a
 * healthcheck), or completed when another waits for it to complete. */
static int start_wait(struct life *l, const json_t *selected, int64_t secs, struct berth_err *err)
{
        int64_t deadline = secs > 0 ? monotonic_ns() + secs * 1000000000LL : 0;
        const char *svc;
        json_t *v;
        json_object_foreach ((json_t *)selected, svc, v) {
                const char *cond = "running_or_healthy";
                const char *o;
                json_t *ov;
                json_object_foreach (services_of(l), o, ov) {
                        json_t *dep = json_object_get(json_object_get(ov, "depends_on"), svc);
                        if (streq_ptr(json_string_value(json_object_get(dep, "condition")),
                                      "service_completed_successfully"))
                                cond = "service_completed_successfully";
                }
                json_auto_t *ctrs = containers_of(l->containers, svc);
                if (!json_array_size(ctrs))
                        continue;
                int r = wait_one(l->cc, svc, cond, true, ctrs, deadline, err);
                if (r == -ETIMEDOUT)
                        return err_set(err, -ETIMEDOUT, "application not healthy after %llds",
                                       (long long)secs);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Secrets and configs from environment or content, copied in before each
 * start as v2 does (file ones are bind mounts). */
static int copy_files(struct life *l, const json_t *ctrs, struct berth_err *err)
{
        if (!l->project || l->cc->dry_run)
                return 0;
        size_t i;
        json_t *c;
        json_array_foreach (ctrs, i, c) {
                int64_t n = 0;
                parse_int64(strempty(label(c, LABEL_NUMBER)), &n);
                struct compose_service_args sa = {
                    .project = l->project, .service = ctr_service(c), .number = (int)n};
                if (!json_object_get(services_of(l), strempty(sa.service)))
                        continue;
                int r = compose_service_copy_files(
                    l->cc, &sa, json_string_value(json_object_get(c, "Id")), err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int do_start(struct life *l, struct cli_args *a, struct berth_err *err)
{
        if (!l->from_files && !json_array_size(l->containers))
                return err_set(err, -ENOENT, "no container found for project \"%s\": not found",
                               l->name);
        json_auto_t *selected = NULL, *levels = NULL;
        int r;
        if ((r = select_services(l, a->pos, SELECT_WITH_DEPS, false, &selected, err)) < 0 ||
            (r = service_levels(l, selected, false, &levels, err)) < 0)
                return r;
        size_t i, k;
        json_t *lv, *s;
        json_array_foreach (levels, i, lv) {
                json_auto_t *todo = json_array();
                json_array_foreach (lv, k, s) {
                        const char *svc = json_string_value(s);
                        if (!json_array_size(l->containers))
                                return err_set(err, -ENOENT,
                                               "service \"%s\" has no container to start", svc);
                        if ((r = wait_dependencies(l, svc, false, err)) < 0)
                                return r;
                        json_auto_t *ctrs = containers_of(l->containers, svc);
                        size_t m;
                        json_t *c;
                        json_array_foreach (ctrs, m, c)
                                if (!is_running(c))
                                        json_array_append(todo, c);
                }
                if ((r = copy_files(l, todo, err)) < 0)
                        return r;
                if ((r = run_jobs(l, todo, job_start, NULL, err)) < 0)
                        return r;
        }
        if (cli_flag(a, "wait") && !l->cc->dry_run) {
                const char *t = cli_str(a, "wait-timeout");
                return start_wait(l, selected, t ? atoll(t) : 0, err);
        }
        return 0;
}

int compose_cmd_start(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_start);
}

/* Stop the selected services' containers, dependents first. */
static int stop_services(struct life *l, char **names, const char *timeout, struct berth_err *err)
{
        json_auto_t *selected = NULL, *levels = NULL;
        int r;
        if ((r = select_services(l, names, SELECT_EXACT, false, &selected, err)) < 0 ||
            (r = service_levels(l, selected, false, &levels, err)) < 0)
                return r;
        /* no -t: the engine applies each container's stop timeout */
        _cleanup_free_ char *query = timeout ? xasprintf("?t=%s", timeout) : NULL;
        for (size_t i = json_array_size(levels); i-- > 0;) {
                json_auto_t *todo = json_array();
                size_t k;
                json_t *s;
                json_array_foreach (json_array_get(levels, i), k, s) {
                        json_auto_t *ctrs = containers_of(l->containers, json_string_value(s));
                        json_array_extend(todo, ctrs);
                }
                if ((r = run_jobs(l, todo, job_stop, query, err)) < 0)
                        return r;
        }
        return 0;
}

static int do_stop(struct life *l, struct cli_args *a, struct berth_err *err)
{
        return stop_services(l, a->pos, cli_str(a, "timeout"), err);
}

int compose_cmd_stop(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_stop);
}

static int do_restart(struct life *l, struct cli_args *a, struct berth_err *err)
{
        json_auto_t *selected = NULL, *levels = NULL;
        int r;
        if ((r = select_services(l, a->pos, SELECT_DEPENDENTS, cli_flag(a, "no-deps"), &selected,
                                 err)) < 0 ||
            (r = service_levels(l, selected, true, &levels, err)) < 0)
                return r;
        const char *t = cli_str(a, "timeout");
        _cleanup_free_ char *query = t ? xasprintf("?t=%s", t) : NULL;
        size_t i, k;
        json_t *lv, *s;
        json_array_foreach (levels, i, lv) {
                json_auto_t *todo = json_array();
                json_array_foreach (lv, k, s) {
                        const char *svc = json_string_value(s);
                        if ((r = wait_dependencies(l, svc, true, err)) < 0)
                                return r;
                        json_auto_t *ctrs = containers_of(l->containers, svc);
                        json_array_extend(todo, ctrs);
                }
                if ((r = run_jobs(l, todo, job_restart, query, err)) < 0)
                        return r;
        }
        return 0;
}

int compose_cmd_restart(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_restart);
}

static bool answer_yes(void)
{
        char line[64];
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        bool b = false;
        return streq(line, "y") || streq(line, "Y") || (parse_bool(line, &b) == 0 && b);
}

static int do_rm(struct life *l, struct cli_args *a, struct berth_err *err)
{
        struct compose_cli *cc = l->cc;
        bool force = cli_flag(a, "force"), stop = cli_flag(a, "stop");
        int r;
        if (stop) {
                if ((r = stop_services(l, a->pos, NULL, err)) < 0)
                        return r;
                json_decref(l->containers);
                l->containers = NULL;
                if ((r = compose_containers(cc, NULL, true, false, &l->containers, err)) < 0)
                        return r;
        }
        json_auto_t *selected = NULL;
        if ((r = select_services(l, a->pos, SELECT_EXACT, false, &selected, err)) < 0)
                return r;
        json_auto_t *candidates = containers_in(l->containers, selected, false);
        /* the list's state may be stale: inspect, as v2 does */
        json_auto_t *stopped = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (candidates, i, c) {
                json_auto_t *j = NULL;
                r = inspect(cc, c, &j, err);
                if (r == -ENOENT) {
                        err_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                bool running =
                    json_is_true(json_object_get(json_object_get(j, "State"), "Running"));
                if (!running || (stop && cc->dry_run))
                        json_array_append(stopped, c);
        }
        if (!json_array_size(stopped)) {
                fprintf(stderr, "No stopped containers\n");
                return 0;
        }
        _cleanup_free_ char *names = NULL;
        json_array_foreach (stopped, i, c) {
                char *n = xasprintf("%s%s%s", names ? names : "", names ? ", " : "", ctr_name(c));
                free(names);
                names = n;
        }
        if (force)
                printf("Going to remove %s\n", names);
        else {
                printf("Going to remove %s\nAre you sure? [yN] ", names);
                fflush(stdout);
                if (!answer_yes())
                        return 0;
        }
        fflush(stdout);
        _cleanup_free_ char *query =
            xasprintf("?v=%d&force=%d", cli_flag(a, "volumes") ? 1 : 0, force ? 1 : 0);
        return run_jobs(l, stopped, job_remove, query, err);
}

int compose_cmd_rm(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_rm);
}

static int do_kill(struct life *l, struct cli_args *a, struct berth_err *err)
{
        /* the names are checked against the model */
        json_auto_t *selected = NULL;
        int r = select_services(l, a->pos, SELECT_EXACT, false, &selected, err);
        if (r < 0)
                return r;
        /* running containers, one-offs too */
        json_auto_t *running = NULL;
        if ((r = compose_containers(l->cc, NULL, false, true, &running, err)) < 0)
                return r;
        json_auto_t *todo = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (running, i, c) {
                const char *svc = strempty(ctr_service(c));
                if (a->n_pos && !strv_contains(a->pos, svc))
                        continue;
                if (!cli_flag(a, "remove-orphans") && !json_object_get(services_of(l), svc))
                        continue;
                json_array_append(todo, c);
        }
        if (!json_array_size(todo)) {
                fprintf(stderr, "No container to kill\n");
                return 0;
        }
        _cleanup_free_ char *esc = cli_escape(cli_str(a, "signal"));
        _cleanup_free_ char *query = xasprintf("?signal=%s", esc);
        return run_jobs(l, todo, job_kill, query, err);
}

int compose_cmd_kill(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_kill);
}

static int pause_or_unpause(struct life *l, struct cli_args *a, job_fn fn, struct berth_err *err)
{
        json_auto_t *selected = NULL, *running = NULL;
        int r;
        if ((r = select_services(l, a->pos, SELECT_EXACT, false, &selected, err)) < 0 ||
            (r = compose_containers(l->cc, NULL, false, false, &running, err)) < 0)
                return r;
        json_auto_t *todo = containers_in(running, selected, false);
        return run_jobs(l, todo, fn, NULL, err);
}

static int do_pause(struct life *l, struct cli_args *a, struct berth_err *err)
{
        return pause_or_unpause(l, a, job_pause, err);
}

static int do_unpause(struct life *l, struct cli_args *a, struct berth_err *err)
{
        return pause_or_unpause(l, a, job_unpause, err);
}

int compose_cmd_pause(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_pause);
}

int compose_cmd_unpause(struct cli *cli, struct cli_args *a)
{
        return run_verb(cli, a, do_unpause);
}
