/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose build, pull, push. A build is `berth build` run with the
 * flags the service's build section stands for (so the context is packed
 * and POST /build streamed exactly as the CLI does it); pulls run in
 * parallel, each thread on its own connection. */
#include "compose-ops.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static int run_cli(struct cli *cli, const struct cli_opt *opts,
                   int (*run)(struct cli *, struct cli_args *), const char *path, char **argv)
{
        const struct cli_command cmd = {.name = path,
                                        .usage = "",
                                        .summary = "",
                                        .opts = opts,
                                        .run = run,
                                        .min_args = 0,
                                        .max_args = -1};
        struct cli_args a;
        if (cli_parse(&cmd, path, (int)strv_length(argv), argv, &a) < 0) {
                cli_args_done(&a);
                return 1;
        }
        int r = run(cli, &a);
        cli_args_done(&a);
        return r;
}

static bool named(char **services, const char *s)
{
        return !services || !*services || strv_contains(services, s);
}

/* --- build ------------------------------------------------------------------- */

struct build_flags {
        bool no_cache, pull, quiet;
        char **build_args; /* --build-arg, over the file's */
};

static char *scalar_text(json_t *v)
{
        if (json_is_string(v))
                return xstrdup(json_string_value(v));
        if (json_is_integer(v))
                return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (json_is_real(v))
                return xasprintf("%g", json_real_value(v));
        if (json_is_boolean(v))
                return xstrdup(json_is_true(v) ? "true" : "false");
        return NULL;
}

/* "k=v" entries of a map (or a list already in that form) as repeated flags. */
static char **push_kv(char **argv, const char *flag, json_t *m, char sep)
{
        if (json_is_array(m)) {
                size_t i;
                json_t *v;
                json_array_foreach (m, i, v)
                        if (json_is_string(v))
                                argv = strv_push(argv,
                                                 xasprintf("--%s=%s", flag, json_string_value(v)));
                return argv;
        }
        const char *k;
        json_t *v;
        json_object_foreach (m, k, v) {
                if (json_is_array(v)) { /* extra_hosts: host: [ip, ...] */
                        size_t i;
                        json_t *x;
                        json_array_foreach (v, i, x)
                                argv = strv_push(argv, xasprintf("--%s=%s%c%s", flag, k, sep,
                                                                 json_string_value(x) ?: ""));
                        continue;
                }
                _cleanup_free_ char *s = scalar_text(v);
                if (s)
                        argv = strv_push(argv, xasprintf("--%s=%s%c%s", flag, k, sep, s));
                else /* KEY alone: berth build takes it from the environment */
                        argv = strv_push(argv, xasprintf("--%s=%s", flag, k));
        }
        return argv;
}

static int build_one(struct compose_cli *cc, struct compose_project *p, const char *service,
                     json_t *build, const struct build_flags *f, struct berth_err *err)
{
        _cleanup_free_ char *image = compose_service_image(cc, p, service);
        _cleanup_strv_ char **argv = NULL;
        argv = strv_push(argv, xasprintf("--tag=%s", image));
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(build, "tags"), i, v)
                argv = strv_push(argv, xasprintf("--tag=%s", json_string_value(v)));
        const char *context = json_get_str(build, "context", ".");
        char inline_path[] = "/tmp/berth-compose-dockerfile.XXXXXX";
        bool inline_file = false;
        const char *inl = json_get_str(build, "dockerfile_inline", NULL);
        if (inl) {
                int fd = mkstemp(inline_path);
                if (fd < 0)
                        return err_errno(err, -errno, "cannot write the inline Dockerfile");
                int r = loop_write(fd, inl, strlen(inl));
                close(fd);
                inline_file = true;
                if (r < 0) {
                        unlink(inline_path);
                        return err_errno(err, r, "cannot write the inline Dockerfile");
                }
                argv = strv_push(argv, xasprintf("--file=%s", inline_path));
        } else if (json_get_str(build, "dockerfile", NULL)) {
                const char *df = json_get_str(build, "dockerfile", NULL);
                /* relative to the context, as compose means it */
                if (df[0] == '/' || strstr(context, "://") || startswith(context, "git@"))
                        argv = strv_push(argv, xasprintf("--file=%s", df));
                else
                        argv = strv_push(argv, xasprintf("--file=%s/%s", context, df));
        }
        argv = push_kv(argv, "build-arg", json_object_get(build, "args"), '=');
        for (char **b = f->build_args; b && *b; b++)
                argv = strv_push(argv, xasprintf("--build-arg=%s", *b));
        argv = push_kv(argv, "label", json_object_get(build, "labels"), '=');
        json_array_foreach (json_object_get(build, "cache_from"), i, v)
                argv = strv_push(argv, xasprintf("--cache-from=%s", json_string_value(v)));
        /* extra_hosts "host=ip" (the long form compose writes) -> "host:ip" */
        json_t *eh = json_object_get(build, "extra_hosts");
        if (json_is_array(eh)) {
                json_array_foreach (eh, i, v) {
                        _cleanup_free_ char *h = xstrdup(json_string_value(v) ?: "");
                        char *eq = strchr(h, '=');
                        if (eq)
                                *eq = ':';
                        argv = strv_push(argv, xasprintf("--add-host=%s", h));
                }
        } else if (json_is_object(eh)) {
                argv = push_kv(argv, "add-host", eh, ':');
        }
        if (json_get_str(build, "target", NULL))
                argv = strv_push(argv, xasprintf("--target=%s", json_get_str(build, "target", "")));
        if (json_get_str(build, "network", NULL))
                argv =
                    strv_push(argv, xasprintf("--network=%s", json_get_str(build, "network", "")));
        json_t *shm = json_object_get(build, "shm_size");
        _cleanup_free_ char *shm_s = shm ? scalar_text(shm) : NULL;
        if (shm_s)
                argv = strv_push(argv, xasprintf("--shm-size=%s", shm_s));
        if (f->no_cache || json_is_true(json_object_get(build, "no_cache")))
                argv = strv_push(argv, xstrdup("--no-cache"));
        if (f->pull || json_is_true(json_object_get(build, "pull")))
                argv = strv_push(argv, xstrdup("--pull"));
        if (f->quiet)
                argv = strv_push(argv, xstrdup("--quiet"));
        argv = strv_push(argv, xstrdup(context));
        if (!f->quiet)
                fprintf(stderr, " %s Building\n", service);
        /* berth build prints the image ID with -q: compose's -q prints nothing */
        int saved = -1;
        if (f->quiet) {
                fflush(stdout);
                saved = dup(STDOUT_FILENO);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDOUT_FILENO);
                        close(null);
                }
        }
        int rc = run_cli(cc->cli, cli_build_opts, cli_cmd_build, "berth compose build", argv);
        if (saved >= 0) {
                fflush(stdout);
                dup2(saved, STDOUT_FILENO);
                close(saved);
        }
        if (inline_file)
                unlink(inline_path);
        if (rc != 0)
                return err_set(err, -ECHILD, "failed to build service \"%s\"", service);
        if (!f->quiet)
                fprintf(stderr, " %s Built\n", service);
        return 0;
}

static int build_services(struct compose_cli *cc, char **services, const struct build_flags *f,
                          struct berth_err *err)
{
        struct compose_project *p;
        int r = compose_project(cc, &p, err);
        if (r < 0)
                return r;
        json_t *defs = json_object_get(p->model, "services");
        for (char **s = services; s && *s; s++)
                if (!json_object_get(defs, *s))
                        return err_set(err, -ESRCH, "no such service: %s", *s);
        r = cli_connect(cc->cli, err);
        if (r < 0)
                return r;
        const char *name;
        json_t *svc;
        json_object_foreach (defs, name, svc) {
                json_t *build = json_object_get(svc, "build");
                if (!build || !named(services, name))
                        continue;
                r = build_one(cc, p, name, build, f, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int compose_build_services(struct compose_cli *cc, char **services, bool quiet,
                           struct berth_err *err)
{
        struct build_flags f = {.quiet = quiet};
        return build_services(cc, services, &f, err);
}

const struct cli_opt compose_build_opts[] = {
    {"build-arg", 0, CLI_LIST, "Set build-time variables for services", NULL},
    {"no-cache", 0, CLI_BOOL, "Do not use cache when building the image", NULL},
    {"pull", 0, CLI_BOOL, "Always attempt to pull a newer version of the image", NULL},
    {"quiet", 'q', CLI_BOOL, "Don't print anything to STDOUT", NULL},
    {0},
};

int compose_cmd_build(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        _cleanup_strv_ char **services = NULL;
        for (size_t i = 0; i < a->n_pos; i++)
                services = strv_push(services, xstrdup(a->pos[i]));
        struct build_flags f = {.no_cache = cli_flag(a, "no-cache"),
                                .pull = cli_flag(a, "pull"),
                                .quiet = cli_flag(a, "quiet"),
                                .build_args = cli_list(a, "build-arg")};
        if (build_services(cc, services, &f, &err) < 0) {
                if (err.code != -ECHILD)
                        return cli_fail(&err);
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        return 0;
}

/* --- pull ------------------------------------------------------------------------ */

const struct cli_opt compose_pull_opts[] = {
    {"ignore-buildable", 0, CLI_BOOL, "Ignore images that can be built", NULL},
    {"ignore-pull-failures", 0, CLI_BOOL, "Pull what it can and ignores images with pull failures",
     NULL},
    {"include-deps", 0, CLI_BOOL, "Also pull services declared as dependencies", NULL},
    {"policy", 0, CLI_STRING, "Apply pull policy (\"missing\"|\"always\")", NULL},
    {"quiet", 'q', CLI_BOOL, "Pull without printing progress information", NULL},
    {0},
};

struct pull_job {
        struct compose_cli *cc;
        const char *service;
        char *image;
        bool buildable;
        struct berth_err err;
        int rc;
        pthread_t thread;
};

struct pull_pool {
        struct pull_job *jobs;
        size_t n, next;
        pthread_mutex_t lock;
        FILE *status; /* progress lines, or NULL when quiet */
};

static void *pull_worker(void *arg)
{
        struct pull_pool *pool = arg;
        struct cli own = *pool->jobs[0].cc->cli;
        /* a connection of this thread's own */
        own.client.conn = (struct http_reader){.fd = -1, .buf = xmalloc(16384), .cap = 16384};
        for (;;) {
                pthread_mutex_lock(&pool->lock);
                struct pull_job *j = pool->next < pool->n ? &pool->jobs[pool->next++] : NULL;
                if (j && pool->status) {
                        fprintf(pool->status, " %s Pulling\n", j->service);
                        fflush(pool->status);
                }
                pthread_mutex_unlock(&pool->lock);
                if (!j)
                        break;
                j->rc = cli_pull_image(&own, j->image, NULL, &j->err);
                pthread_mutex_lock(&pool->lock);
                if (pool->status) {
                        if (j->rc == 0)
                                fprintf(pool->status, " %s Pulled\n", j->service);
                        else
                                fprintf(pool->status, " %s %s\n", j->service,
                                        j->buildable ? "Warning" : "Error");
                        fflush(pool->status);
                }
                pthread_mutex_unlock(&pool->lock);
        }
        safe_close(own.client.conn.fd);
        free(own.client.conn.buf);
        return NULL;
}

static bool image_present(struct cli *cli, const char *image)
{
        _cleanup_free_ char *e = cli_escape(image);
        _cleanup_free_ char *p = xasprintf("/images/%s/json", e);
        struct berth_err err = {0};
        long status = 0;
        _cleanup_free_ char *body = NULL;
        return client_request(&cli->client, "GET", p, NULL, NULL, 0, &status, &body, NULL, &err) ==
                   0 &&
               status == 200;
}

int compose_cmd_pull(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        struct compose_project *p;
        if (compose_project(cc, &p, &err) < 0 || cli_connect(cli, &err) < 0)
                return cli_fail(&err);
        const char *policy = cli_str(a, "policy");
        if (policy && !streq(policy, "missing") && !streq(policy, "always")) {
                fprintf(stderr, "invalid pull policy \"%s\"\n", policy);
                return 1;
        }
        json_t *defs = json_object_get(p->model, "services");
        _cleanup_strv_ char **only = NULL;
        for (size_t i = 0; i < a->n_pos; i++) {
                if (!json_object_get(defs, a->pos[i])) {
                        fprintf(stderr, "no such service: %s\n", a->pos[i]);
                        return 1;
                }
                only = strv_push(only, xstrdup(a->pos[i]));
        }
        if (only && cli_flag(a, "include-deps")) {
                _cleanup_json_ json_t *order = NULL;
                if (compose_service_order(p->model, only, false, &order, &err) < 0)
                        return cli_fail(&err);
                size_t i;
                json_t *s;
                json_array_foreach (order, i, s)
                        if (!strv_contains(only, json_string_value(s)))
                                only = strv_push(only, xstrdup(json_string_value(s)));
        }
        bool quiet = cli_flag(a, "quiet");
        size_t n = 0;
        struct pull_job *jobs = xzalloc((json_object_size(defs) + 1) * sizeof(*jobs));
        const char *name;
        json_t *svc;
        json_object_foreach (defs, name, svc) {
                if (!named(only, name))
                        continue;
                const char *image = json_get_str(svc, "image", NULL);
                bool buildable = json_object_get(svc, "build") != NULL;
                if (!image)
                        continue;
                if (buildable && cli_flag(a, "ignore-buildable"))
                        continue;
                const char *pp = json_get_str(svc, "pull_policy", "");
                if (streq(pp, "never") || streq(pp, "build"))
                        continue;
                bool missing_only =
                    streq_ptr(policy, "missing") ||
                    (!policy && (streq(pp, "missing") || streq(pp, "if_not_present")));
                if (missing_only && image_present(cli, image))
                        continue;
                jobs[n++] = (struct pull_job){
                    .cc = cc, .service = name, .image = xstrdup(image), .buildable = buildable};
        }
        int rc = 0;
        if (n > 0) {
                struct pull_pool pool = {.jobs = jobs, .n = n};
                pthread_mutex_init(&pool.lock, NULL);
                /* cli_pull_image shows the registry's progress on stderr: keep
                 * only our per-service lines (on a copy of stderr), and
                 * nothing with -q */
                fflush(stderr);
                int saved = dup(STDERR_FILENO);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (!quiet && saved >= 0)
                        pool.status = fdopen(dup(saved), "w");
                if (null >= 0) {
                        dup2(null, STDERR_FILENO);
                        close(null);
                }
                size_t workers = (size_t)(cc->parallel > 0 ? cc->parallel : 4);
                if (workers > n)
                        workers = n;
                pthread_t *t = xzalloc(workers * sizeof(pthread_t));
                size_t started = 0;
                for (size_t i = 0; i < workers; i++)
                        if (pthread_create(&t[i], NULL, pull_worker, &pool) == 0)
                                started++;
                        else
                                break;
                if (started == 0)
                        pull_worker(&pool);
                for (size_t i = 0; i < started; i++)
                        pthread_join(t[i], NULL);
                free(t);
                if (pool.status)
                        fclose(pool.status);
                if (saved >= 0) {
                        dup2(saved, STDERR_FILENO);
                        close(saved);
                }
                pthread_mutex_destroy(&pool.lock);
                for (size_t i = 0; i < n; i++) {
                        if (jobs[i].rc == 0)
                                continue;
                        if (jobs[i].buildable || cli_flag(a, "ignore-pull-failures")) {
                                fprintf(stderr, "WARN[0000] %s: %s\n", jobs[i].service,
                                        jobs[i].err.msg);
                                continue;
                        }
                        fprintf(stderr, "%s\n", jobs[i].err.msg);
                        rc = 1;
                }
        }
        for (size_t i = 0; i < n; i++)
                free(jobs[i].image);
        free(jobs);
        return rc;
}

/* --- push -------------------------------------------------------------------- */

const struct cli_opt compose_push_opts[] = {
    {"ignore-push-failures", 0, CLI_BOOL, "Push what it can and ignores images with push failures",
     NULL},
    {"include-deps", 0, CLI_BOOL, "Also push images of services declared as dependencies", NULL},
    {"quiet", 'q', CLI_BOOL, "Push without printing progress information", NULL},
    {0},
};

int compose_cmd_push(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        struct compose_project *p;
        if (compose_project(cc, &p, &err) < 0 || cli_connect(cli, &err) < 0)
                return cli_fail(&err);
        json_t *defs = json_object_get(p->model, "services");
        _cleanup_strv_ char **only = NULL;
        for (size_t i = 0; i < a->n_pos; i++)
                only = strv_push(only, xstrdup(a->pos[i]));
        if (only && cli_flag(a, "include-deps")) {
                _cleanup_json_ json_t *order = NULL;
                if (compose_service_order(p->model, only, false, &order, &err) < 0)
                        return cli_fail(&err);
                size_t i;
                json_t *s;
                json_array_foreach (order, i, s)
                        if (!strv_contains(only, json_string_value(s)))
                                only = strv_push(only, xstrdup(json_string_value(s)));
        }
        bool quiet = cli_flag(a, "quiet");
        int rc = 0;
        const char *name;
        json_t *svc;
        json_object_foreach (defs, name, svc) {
                json_t *build = json_object_get(svc, "build");
                const char *image = json_get_str(svc, "image", NULL);
                if (!named(only, name) || !build || !image)
                        continue;
                _cleanup_strv_ char **tags = strv_push(NULL, xstrdup(image));
                size_t i;
                json_t *t;
                json_array_foreach (json_object_get(build, "tags"), i, t)
                        tags = strv_push(tags, xstrdup(json_string_value(t)));
                for (char **tag = tags; *tag; tag++) {
                        if (!quiet)
                                fprintf(stderr, " %s Pushing\n", *tag);
                        _cleanup_strv_ char **argv = strv_push(NULL, xstrdup("--quiet"));
                        argv = strv_push(argv, xstrdup(*tag));
                        /* berth push -q prints the name pushed: compose does not */
                        fflush(stdout);
                        int saved = dup(STDOUT_FILENO);
                        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (null >= 0) {
                                dup2(null, STDOUT_FILENO);
                                close(null);
                        }
                        int r =
                            run_cli(cli, cli_push_opts, cli_cmd_push, "berth compose push", argv);
                        fflush(stdout);
                        if (saved >= 0) {
                                dup2(saved, STDOUT_FILENO);
                                close(saved);
                        }
                        if (r != 0) {
                                if (!cli_flag(a, "ignore-push-failures"))
                                        return r;
                                continue;
                        }
                        if (!quiet)
                                fprintf(stderr, " %s Pushed\n", *tag);
                }
        }
        return rc;
}
