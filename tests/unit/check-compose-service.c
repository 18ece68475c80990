/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose: a service of the normalized model as the Engine API create
 * body (compose-service.c, compiled in), against golden bodies written from
 * docker compose v2's mapping (pkg/compose/create.go): labels, Config,
 * ports, volumes as Binds or Mounts, secrets and configs, resources,
 * networks, and the service references resolved to containers (the
 * engine's container list is a fixture here). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "check-main.h"
#include "compose.h"

#define DATA COMPOSE_DATA_DIR "/service"

static json_t *fixture;    /* project.json */
static json_t *containers; /* what compose_containers answers, by service */
static struct compose_project proj;

/* The engine, as compose_containers would see it. */
int compose_containers(struct compose_cli *cc, const char *service, bool all, bool oneoff,
                       json_t **ret, struct berth_err *err)
{
        (void)cc;
        (void)all;
        (void)oneoff;
        (void)err;
        json_t *l = json_object_get(containers, service);
        *ret = l ? json_deep_copy(l) : json_array();
        return 0;
}

char *compose_container_name(struct compose_cli *cc, const char *project, const char *service,
                             int number)
{
        char sep = cc && cc->opts.compatibility ? '_' : '-';
        return xasprintf("%s%c%s%c%d", project, sep, service, sep, number);
}

static char **strv_of(json_t *a)
{
        char **v = xzalloc((json_array_size(a) + 1) * sizeof(char *));
        size_t i;
        json_t *s;
        json_array_foreach (a, i, s)
                v[i] = xstrdup(json_string_value(s));
        return v;
}

static void setup(void)
{
        struct berth_err err = {0};
        ck_assert_int_eq(json_load_path(DATA "/project.json", &fixture, &err), 0);
        containers = json_object_get(fixture, "containers");
        proj = (struct compose_project){
            .name = xstrdup(json_string_value(json_object_get(fixture, "name"))),
            .working_dir = xstrdup(json_string_value(json_object_get(fixture, "working_dir"))),
            .config_files = strv_of(json_object_get(fixture, "config_files")),
            .env_files = strv_of(json_object_get(fixture, "env_files")),
            .environment = json_incref(json_object_get(fixture, "environment")),
            .model = json_incref(json_object_get(fixture, "model")),
        };
}

static void teardown(void)
{
        free(proj.name);
        free(proj.working_dir);
        strv_free(proj.config_files);
        strv_free(proj.env_files);
        json_decref(proj.environment);
        json_decref(proj.model);
        json_decref(fixture);
}

static json_t *service(const char *name)
{
        return json_object_get(json_object_get(proj.model, "services"), name);
}

static json_t *body_of(struct compose_cli *cc, const char *svc, int number, const char *image_id,
                       const char *replace)
{
        struct berth_err err = {0};
        struct compose_service_args sa = {.project = &proj,
                                          .service = svc,
                                          .number = number,
                                          .image_id = image_id,
                                          .replace = replace};
        json_t *body = NULL;
        int r = compose_service_body(cc, &sa, &body, &err);
        ck_assert_msg(r == 0, "%s: %s", svc, err.msg);
        return body;
}

/* The hash label is compose_service_hash's (the model's owner tests it);
 * here only that it is the hash of the service with its references
 * resolved, then it is set aside for the comparison. */
static void check_and_drop_hash(json_t *body, json_t *resolved)
{
        json_t *labels = json_object_get(body, "Labels");
        char hex[65];
        struct berth_err err = {0};
        int r = compose_service_hash(resolved, hex, &err);
        if (r == -ENOTSUP)
                ck_assert_ptr_null(json_object_get(labels, LABEL_HASH));
        else {
                ck_assert_int_eq(r, 0);
                ck_assert_str_eq(json_string_value(json_object_get(labels, LABEL_HASH)), hex);
        }
        json_object_del(labels, LABEL_HASH);
}

static void expect_golden(json_t *body, const char *name)
{
        _cleanup_free_ char *path = xasprintf("%s/%s.body.json", DATA, name);
        if (getenv("BERTH_UPDATE_GOLDEN")) {
                struct berth_err err = {0};
                ck_assert_int_eq(json_save_path(path, body, 0644, &err), 0);
        }
        json_auto_t *want = NULL;
        struct berth_err err = {0};
        ck_assert_msg(json_load_path(path, &want, &err) == 0, "%s: %s", path, err.msg);
        if (!json_equal(want, body)) {
                /* the whole body on stderr: Check's messages are short */
                _cleanup_free_ char *got = json_dumps(body, JSON_INDENT(2) | JSON_SORT_KEYS);
                fprintf(stderr, "%s: got:\n%s\n", name, got);
                ck_abort_msg("%s: the body differs from %s (it is on stderr)", name, path);
        }
}

START_TEST(web_golden)
{
        char *envf[] = {"prod.env", NULL};
        struct compose_cli cc = {.opts = {.env_files = envf, .cwd = "/srv/demo"}};
        json_auto_t *body = body_of(&cc, "web", 2, "sha256:abc", "web-2");
        json_auto_t *resolved = json_deep_copy(service("web"));
        json_object_set_new(resolved, "pid", json_string("container:dbid1"));
        json_object_set_new(resolved, "volumes_from", json_pack("[s,s]", "cacheid1:ro", "legacy"));
        check_and_drop_hash(body, resolved);
        expect_golden(body, "web");
}
END_TEST

/* The key families one by one, so that a failure names what broke. */
START_TEST(web_families)
{
        char *envf[] = {"prod.env", "/etc/demo.env", NULL};
        struct compose_cli cc = {.opts = {.env_files = envf, .cwd = "/srv/demo"}};
        json_auto_t *b = body_of(&cc, "web", 2, "sha256:abc", "web-2");
        json_t *hc = json_object_get(b, "HostConfig");
        json_t *l = json_object_get(b, "Labels");
#define LBL(k) json_string_value(json_object_get(l, k))
        ck_assert_str_eq(LBL("com.example.role"), "front");
        ck_assert_str_eq(LBL(LABEL_PROJECT), "demo");
        ck_assert_str_eq(LBL(LABEL_SERVICE), "web");
        ck_assert_str_eq(LBL(LABEL_NUMBER), "2");
        ck_assert_str_eq(LBL(LABEL_ONEOFF), "False");
        ck_assert_str_eq(LBL(LABEL_WORKDIR), "/srv/demo");
        ck_assert_str_eq(LBL(LABEL_FILES),
                         "/srv/demo/compose.yaml,/srv/demo/compose.override.yaml");
        ck_assert_str_eq(LBL(LABEL_ENVFILE), "/srv/demo/prod.env,/etc/demo.env");
        ck_assert_str_eq(LBL(LABEL_VERSION), COMPOSE_VERSION);
        ck_assert_str_eq(LBL(LABEL_DEPENDS), "db:service_healthy:true,cache:service_started:false");
        ck_assert_str_eq(LBL(LABEL_IMAGE), "sha256:abc");
        ck_assert_str_eq(LBL(LABEL_REPLACE), "web-2");
#undef LBL
        /* Config */
        ck_assert_str_eq(json_string_value(json_object_get(b, "Image")), "nginx:1.25");
        ck_assert_int_eq(json_array_size(json_object_get(b, "Cmd")), 3);
        ck_assert_int_eq(json_array_size(json_object_get(b, "Entrypoint")), 1);
        json_auto_t *env = json_pack("[s,s,s,s]", "A=1", "B=2", "EMPTY=", "FROM_SHELL");
        ck_assert(json_equal(json_object_get(b, "Env"), env));
        ck_assert_int_eq(json_integer_value(json_object_get(b, "StopTimeout")), 90);
        ck_assert(json_is_true(json_object_get(b, "Tty")));
        ck_assert(json_is_true(json_object_get(b, "OpenStdin")));
        json_t *h = json_object_get(b, "Healthcheck");
        ck_assert_int_eq(json_integer_value(json_object_get(h, "Interval")), 30000000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(h, "StartPeriod")), 60000000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(h, "StartInterval")), 500000000LL);
        ck_assert_int_eq(json_integer_value(json_object_get(h, "Retries")), 3);
        /* ports */
        json_t *ex = json_object_get(b, "ExposedPorts");
        ck_assert_int_eq(json_object_size(ex), 6);
        ck_assert_ptr_nonnull(json_object_get(ex, "9101/udp"));
        json_auto_t *pb80 = json_pack("[{s:s,s:s}]", "HostIp", "127.0.0.1", "HostPort", "8080");
        ck_assert(json_equal(json_object_get(json_object_get(hc, "PortBindings"), "80/tcp"), pb80));
        /* volumes: the legacy form where it can say it */
        json_auto_t *binds = json_pack("[s,s]", "/srv/demo/html:/usr/share/nginx/html:ro,z",
                                       "demo_data:/var/data:rw");
        ck_assert(json_equal(json_object_get(hc, "Binds"), binds));
        ck_assert_int_eq(json_array_size(json_object_get(hc, "Mounts")), 7);
        /* resources: deploy limits win over mem_limit, cpus, pids_limit */
        ck_assert_int_eq(json_integer_value(json_object_get(hc, "Memory")), 268435456);
        ck_assert_int_eq(json_integer_value(json_object_get(hc, "NanoCpus")), 500000000);
        ck_assert_int_eq(json_integer_value(json_object_get(hc, "PidsLimit")), 100);
        ck_assert_int_eq(json_integer_value(json_object_get(hc, "MemoryReservation")), 67108864);
        /* references */
        ck_assert_str_eq(json_string_value(json_object_get(hc, "PidMode")), "container:dbid1");
        json_auto_t *vf = json_pack("[s,s]", "cacheid1:ro", "legacy");
        ck_assert(json_equal(json_object_get(hc, "VolumesFrom"), vf));
        json_auto_t *links = json_pack("[s,s,s,s]", "demo-db-1:database", "demo-db-1:db-2",
                                       "demo-db-1:demo-db-2", "redis:cache2");
        json_array_append_new(links, json_string("plain:plain"));
        ck_assert(json_equal(json_object_get(hc, "Links"), links));
        /* network: the highest priority first */
        ck_assert_str_eq(json_string_value(json_object_get(hc, "NetworkMode")), "demo_front");
        json_t *eps = json_object_get(json_object_get(b, "NetworkingConfig"), "EndpointsConfig");
        ck_assert_int_eq(json_object_size(eps), 1);
        json_t *ep = json_object_get(eps, "demo_front");
        json_auto_t *aliases = json_pack("[s,s,s]", "demo-web-2", "web", "www");
        ck_assert(json_equal(json_object_get(ep, "Aliases"), aliases));
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(ep, "IPAMConfig"), "IPv4Address")),
            "172.30.0.10");
        /* restart */
        json_auto_t *rp = json_pack("{s:s,s:i}", "Name", "on-failure", "MaximumRetryCount", 3);
        ck_assert(json_equal(json_object_get(hc, "RestartPolicy"), rp));
        json_auto_t *eh = json_pack("[s,s]", "db.local:10.0.0.5", "v6:::1");
        ck_assert(json_equal(json_object_get(hc, "ExtraHosts"), eh));
}
END_TEST

START_TEST(others_golden)
{
        struct compose_cli cc = {0};
        json_auto_t *db = body_of(&cc, "db", 1, NULL, NULL);
        check_and_drop_hash(db, service("db"));
        expect_golden(db, "db");

        /* network_mode service:web -> the container of web; entrypoint []
         * clears the image's; no image: project-service */
        json_auto_t *side = body_of(&cc, "sidecar", 1, NULL, NULL);
        json_auto_t *resolved = json_deep_copy(service("sidecar"));
        json_object_set_new(resolved, "network_mode", json_string("container:webid1"));
        check_and_drop_hash(side, resolved);
        expect_golden(side, "sidecar");

        /* deploy.restart_policy wins over restart; healthcheck disable;
         * container_name is the alias; mac_address on the first network */
        json_auto_t *job = body_of(&cc, "job", 1, NULL, NULL);
        check_and_drop_hash(job, service("job"));
        expect_golden(job, "job");
}
END_TEST

/* What up compares with a container's label is what the body wrote. */
START_TEST(resolved_hash)
{
        struct compose_cli cc = {0};
        struct compose_service_args sa = {.project = &proj, .service = "sidecar", .number = 1};
        struct berth_err err = {0};
        char got[65], want[65];
        json_auto_t *resolved = json_deep_copy(service("sidecar"));
        json_object_set_new(resolved, "network_mode", json_string("container:webid1"));
        int r = compose_service_hash(resolved, want, &err);
        if (r == -ENOTSUP) {
                ck_assert_int_eq(compose_service_resolved_hash(&cc, &sa, got, &err), -ENOTSUP);
                return;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(compose_service_resolved_hash(&cc, &sa, got, &err), 0);
        ck_assert_str_eq(got, want);
        json_auto_t *body = body_of(&cc, "sidecar", 1, NULL, NULL);
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(body, "Labels"), LABEL_HASH)), got);
        /* web's container is gone: the raw service's hash */
        json_object_set_new(containers, "web", json_array());
        ck_assert_int_eq(compose_service_hash(service("sidecar"), want, &err), 0);
        ck_assert_int_eq(compose_service_resolved_hash(&cc, &sa, got, &err), 0);
        ck_assert_str_eq(got, want);
        sa.service = "nope";
        ck_assert_int_eq(compose_service_resolved_hash(&cc, &sa, got, &err), -ENOENT);
}
END_TEST

START_TEST(oneoff)
{
        struct compose_cli cc = {0};
        json_auto_t *b = body_of(&cc, "db", 0, NULL, NULL);
        json_t *l = json_object_get(b, "Labels");
        ck_assert_str_eq(json_string_value(json_object_get(l, LABEL_ONEOFF)), "True");
        ck_assert_ptr_null(json_object_get(l, LABEL_NUMBER));
        ck_assert_ptr_null(json_object_get(l, LABEL_ENVFILE));
        /* COMPOSE_ENV_FILES chooses them too */
        setenv("COMPOSE_ENV_FILES", "a.env,/b.env", 1);
        cc.opts.cwd = "/w";
        json_auto_t *b2 = body_of(&cc, "db", 0, NULL, NULL);
        unsetenv("COMPOSE_ENV_FILES");
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(b2, "Labels"), LABEL_ENVFILE)),
            "/w/a.env,/b.env");
        ck_assert_ptr_null(json_object_get(l, LABEL_IMAGE));
        ck_assert_ptr_null(json_object_get(l, LABEL_REPLACE));
        ck_assert_str_eq(json_string_value(json_object_get(l, LABEL_DEPENDS)), "");
        json_t *ep = json_object_get(
            json_object_get(json_object_get(b, "NetworkingConfig"), "EndpointsConfig"),
            "demo_back");
        ck_assert_ptr_nonnull(ep);
        /* the service's aliases, which run keeps with --use-aliases only */
        json_auto_t *aliases = json_pack("[s]", "db");
        ck_assert(json_equal(json_object_get(ep, "Aliases"), aliases));
}
END_TEST

START_TEST(other_networks)
{
        struct compose_cli cc = {0};
        struct compose_service_args sa = {.project = &proj, .service = "web", .number = 1};
        struct berth_err err = {0};
        json_auto_t *nets = NULL;
        ck_assert_int_eq(compose_service_networks(&cc, &sa, "demo-web-1", &nets, &err), 0);
        json_auto_t *want =
            json_pack("[{s:s, s:{s:s, s:{s:[s,s], s:[s,s,s,s,s]}}}]", "network", "demo_back",
                      "body", "Container", "demo-web-1", "EndpointConfig", "Aliases", "demo-web-1",
                      "web", "Links", "demo-db-1:database", "demo-db-1:db-1", "demo-db-1:demo-db-1",
                      "redis:cache2", "plain:plain");
        ck_assert_msg(json_equal(nets, want), "%s", json_dumps(nets, JSON_COMPACT));

        json_auto_t *none = NULL;
        sa.service = "db";
        ck_assert_int_eq(compose_service_networks(&cc, &sa, "demo-db-1", &none, &err), 0);
        ck_assert_int_eq(json_array_size(none), 0);
}
END_TEST

START_TEST(files)
{
        struct compose_cli cc = {0};
        struct compose_service_args sa = {.project = &proj, .service = "web", .number = 1};
        struct berth_err err = {0};
        json_auto_t *f = NULL;
        ck_assert_int_eq(compose_service_files(&cc, &sa, &f, &err), 0);
        json_auto_t *want =
            json_pack("[{s:s,s:s,s:i},{s:s,s:s,s:i}]", "target", "/run/secrets/envsecret",
                      "content", "s3cret", "mode", 0444, "target", "/etc/inline.conf", "content",
                      "key=value\n", "mode", 0444);
        ck_assert_msg(json_equal(f, want), "%s", json_dumps(f, JSON_COMPACT));

        /* the variable is missing: v2's error */
        json_object_del(proj.environment, "DB_PASSWORD");
        json_auto_t *g = NULL;
        ck_assert_int_eq(compose_service_files(&cc, &sa, &g, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "environment variable \"DB_PASSWORD\" required by secret "
                                  "\"demo_envsecret\" is not set");
}
END_TEST

/* Keys the engine cannot honour are named on stderr, not dropped silently. */
START_TEST(warnings)
{
        char tmpl[] = "/tmp/check-compose-service-XXXXXX";
        int fd = mkstemp(tmpl);
        ck_assert_int_ge(fd, 0);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        struct compose_cli cc = {0};
        json_auto_t *b = body_of(&cc, "web", 1, NULL, NULL);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        _cleanup_free_ char *out = NULL;
        size_t len;
        ck_assert_int_eq(read_full_file(tmpl, &out, &len), 0);
        unlink(tmpl);
        close(fd);
        ck_assert_msg(strstr(out, "services.web.blkio_config: not supported by berth, ignoring"),
                      "%s", out);
        ck_assert_msg(strstr(out, "secret file demo_token does not exist"), "%s", out);
        ck_assert_msg(strstr(out, "secrets `uid`, `gid` and `mode` are not supported"), "%s", out);
        /* what the engine takes without applying it */
        ck_assert_msg(strstr(out, "services.web.healthcheck.start_interval: not supported by the "
                                  "engine, ignoring"),
                      "%s", out);
        ck_assert_msg(strstr(out, "volume.subpath is not supported by the engine, the whole "
                                  "volume is mounted at /var/sub"),
                      "%s", out);
        ck_assert_ptr_null(strstr(out, "pull_policy"));
        ck_assert_ptr_null(strstr(out, "profiles"));
}
END_TEST

START_TEST(errors)
{
        struct compose_cli cc = {0};
        struct berth_err err = {0};
        json_t *body = NULL;
        struct compose_service_args sa = {.project = &proj, .service = "sidecar", .number = 1};

        /* service:web with no container of web */
        json_object_set_new(containers, "web", json_array());
        ck_assert_int_eq(compose_service_body(&cc, &sa, &body, &err), -ENOENT);
        ck_assert_str_eq(err.msg,
                         "cannot share network namespace with service web: container missing");
        ck_assert_ptr_null(body);

        sa.service = "nope";
        ck_assert_int_eq(compose_service_body(&cc, &sa, &body, &err), -ENOENT);
        ck_assert_str_eq(err.msg, "no such service: nope");

        /* start_interval needs start_period (the engine ignores it otherwise) */
        json_object_del(json_object_get(service("web"), "healthcheck"), "start_period");
        sa.service = "web";
        json_object_set_new(containers, "web", json_array());
        ck_assert_int_eq(compose_service_body(&cc, &sa, &body, &err), -EINVAL);
        ck_assert_str_eq(err.msg,
                         "healthcheck.start_interval requires healthcheck.start_period to be set");

        /* external secrets are swarm's */
        json_object_set_new(json_object_get(json_object_get(proj.model, "secrets"), "token"),
                            "external", json_true());
        json_object_set_new(json_object_get(service("web"), "healthcheck"), "start_period",
                            json_string("1s"));
        ck_assert_int_eq(compose_service_body(&cc, &sa, &body, &err), -ENOTSUP);
        ck_assert_str_eq(err.msg, "unsupported external secret demo_token");
}
END_TEST

START_TEST(no_networks)
{
        struct compose_cli cc = {0};
        json_object_del(proj.model, "networks");
        json_auto_t *b = body_of(&cc, "cache", 1, NULL, NULL);
        json_t *hc = json_object_get(b, "HostConfig");
        ck_assert_str_eq(json_string_value(json_object_get(hc, "NetworkMode")), "none");
        ck_assert_ptr_null(json_object_get(b, "NetworkingConfig"));
}
END_TEST

START_TEST(image_name)
{
        struct compose_cli cc = {0};
        _cleanup_free_ char *a = compose_service_image(&cc, &proj, "sidecar");
        ck_assert_str_eq(a, "demo-sidecar");
        cc.opts.compatibility = true;
        _cleanup_free_ char *b = compose_service_image(&cc, &proj, "sidecar");
        ck_assert_str_eq(b, "demo_sidecar");
        _cleanup_free_ char *c = compose_service_image(&cc, &proj, "db");
        ck_assert_str_eq(c, "postgres:16");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-service");
        TCase *t = tcase_create("body");
        tcase_add_checked_fixture(t, setup, teardown);
        tcase_add_test(t, web_golden);
        tcase_add_test(t, web_families);
        tcase_add_test(t, others_golden);
        tcase_add_test(t, resolved_hash);
        tcase_add_test(t, oneoff);
        tcase_add_test(t, other_networks);
        tcase_add_test(t, files);
        tcase_add_test(t, warnings);
        tcase_add_test(t, errors);
        tcase_add_test(t, no_networks);
        tcase_add_test(t, image_name);
        suite_add_tcase(s, t);
        return s;
}

BERTH_CHECK_MAIN(suite)
