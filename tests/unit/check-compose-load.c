/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compose-load.c: discovery, the environment and its precedence, the
 * project name, the multi-file merge with !reset/!override, extends,
 * include, profiles, env_file, and their errors. Assertions are on the
 * merged document before normalization (compose_load_merged), which is
 * what the loader owns. */
#include "check-main.h"
#include "compose/compose-load.h"

#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA COMPOSE_DATA_DIR "/loader"

static char tmp[] = "/tmp/check-compose-load-XXXXXX";

static void setup(void)
{
        strcpy(tmp, "/tmp/check-compose-load-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
        rm_rf_path(tmp);
}

/* Write tmp/<rel> (parents made). */
static void put(const char *rel, const char *text)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", tmp, rel);
        _cleanup_free_ char *dir = xstrdup(p);
        *strrchr(dir, '/') = 0;
        ck_assert_int_eq(mkdir_p(dir, 0755), 0);
        ck_assert_int_eq(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static char *tpath(const char *rel)
{
        return rel ? xasprintf("%s/%s", tmp, rel) : xstrdup(tmp);
}

struct run {
        const char *cwd;      /* relative to tmp; NULL: tmp */
        const char *files[4]; /* relative to cwd (or absolute) */
        const char *env[8];   /* the process environment */
        const char *profiles[4];
        const char *services[4];
        const char *env_files[3];
        const char *project_name;
        const char *project_dir;
        bool no_interpolate;
};

static int load(const struct run *rn, struct compose_project **ret, struct berth_err *err)
{
        _cleanup_free_ char *cwd = tpath(rn->cwd);
        struct compose_options o = {
            .cwd = cwd,
            .files = rn->files[0] ? (char **)rn->files : NULL,
            .environ = (char **)rn->env,
            .profiles = rn->profiles[0] ? (char **)rn->profiles : NULL,
            .services = rn->services[0] ? (char **)rn->services : NULL,
            .env_files = rn->env_files[0] ? (char **)rn->env_files : NULL,
            .project_name = rn->project_name,
            .project_dir = rn->project_dir,
            .no_interpolate = rn->no_interpolate,
            .no_normalize = true,
        };
        return compose_load(&o, ret, err);
}

static struct compose_project *load_ok(const struct run *rn)
{
        struct compose_project *p = NULL;
        struct berth_err err = {0};
        int r = load(rn, &p, &err);
        ck_assert_msg(r == 0, "%s", err_msg(&err));
        return p;
}

static void load_fails(const struct run *rn, const char *msg)
{
        struct compose_project *p = NULL;
        struct berth_err err = {0};
        ck_assert_int_lt(load(rn, &p, &err), 0);
        ck_assert_ptr_null(p);
        /* "@" stands for the temporary directory */
        _cleanup_free_ char *want = NULL;
        const char *at = strchr(msg, '@');
        if (at) {
                want = xstrdup("");
                for (const char *s = msg; *s; s++) {
                        char *n =
                            *s == '@' ? xasprintf("%s%s", want, tmp) : xasprintf("%s%c", want, *s);
                        free(want);
                        want = n;
                }
        }
        ck_assert_str_eq(err_msg(&err), want ?: msg);
}

static void assert_json(const json_t *v, const char *expect)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(s, expect);
}

static json_t *service(struct compose_project *p, const char *name)
{
        return json_object_get(json_object_get(p->model, "services"), name);
}

START_TEST(discovery_walks_up)
{
        put("My_App.v2/compose.yaml", "services:\n  web:\n    image: nginx\n");
        put("My_App.v2/compose.override.yml", "services:\n  web:\n    tty: true\n");
        put("My_App.v2/sub/deeper/.keep", "");
        struct compose_project *p = load_ok(&(struct run){.cwd = "My_App.v2/sub/deeper"});
        ck_assert_str_eq(p->name, "my_appv2");
        _cleanup_free_ char *wd = tpath("My_App.v2");
        ck_assert_str_eq(p->working_dir, wd);
        _cleanup_free_ char *f0 = tpath("My_App.v2/compose.yaml");
        _cleanup_free_ char *f1 = tpath("My_App.v2/compose.override.yml");
        ck_assert_str_eq(p->config_files[0], f0);
        ck_assert_str_eq(p->config_files[1], f1);
        ck_assert_ptr_null(p->config_files[2]);
        assert_json(service(p, "web"), "{\"image\":\"nginx\",\"tty\":true}");
        compose_project_free(p);
}
END_TEST

START_TEST(discovery_several_and_none)
{
        put("compose.yaml", "services:\n  a:\n    image: a\n");
        put("docker-compose.yml", "services:\n  b:\n    image: b\n");
        struct compose_project *p = load_ok(&(struct run){0});
        ck_assert_ptr_nonnull(service(p, "a"));
        ck_assert_ptr_null(service(p, "b"));
        _cleanup_free_ char *w0 =
            xasprintf("Found multiple config files with supported names: %s/compose.yaml, "
                      "%s/docker-compose.yml",
                      tmp, tmp);
        _cleanup_free_ char *w1 = xasprintf("Using %s/compose.yaml", tmp);
        ck_assert_str_eq(json_string_value(json_array_get(p->warnings, 0)), w0);
        ck_assert_str_eq(json_string_value(json_array_get(p->warnings, 1)), w1);
        compose_project_free(p);

        put("empty/.keep", "");
        /* the search walks up to / and finds nothing under /tmp's tree */
        struct run rn = {.cwd = "empty", .files = {"nope.yaml"}};
        load_fails(&rn, "open @/empty/nope.yaml: no such file or directory");
}
END_TEST

START_TEST(project_name_rules)
{
        put("Dir/compose.yaml", "name: from-file\nservices:\n  a:\n    image: a\n");
        put("Dir/noname.yaml", "services:\n  a:\n    image: a\n");
        put("Dir/badname.yaml", "name: Bad\nservices:\n  a:\n    image: a\n");
        put("Dir/interp.yaml",
            "name: ${N:-dflt}\nservices:\n  a:\n    image: ${COMPOSE_PROJECT_NAME}\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "Dir"});
        ck_assert_str_eq(p->name, "from-file");
        ck_assert_str_eq(json_string_value(json_object_get(p->model, "name")), "from-file");
        compose_project_free(p);
        p = load_ok(&(struct run){.cwd = "Dir", .project_name = "cli"});
        ck_assert_str_eq(p->name, "cli");
        compose_project_free(p);
        p = load_ok(&(struct run){.cwd = "Dir", .env = {"COMPOSE_PROJECT_NAME=env"}});
        ck_assert_str_eq(p->name, "env");
        compose_project_free(p);
        p = load_ok(&(struct run){.cwd = "Dir", .files = {"noname.yaml"}});
        ck_assert_str_eq(p->name, "dir");
        compose_project_free(p);
        p = load_ok(&(struct run){.cwd = "Dir", .files = {"interp.yaml"}, .env = {"N=n1"}});
        ck_assert_str_eq(p->name, "n1");
        /* the name is exported for interpolation */
        assert_json(service(p, "a"), "{\"image\":\"n1\"}");
        compose_project_free(p);
        load_fails(&(struct run){.cwd = "Dir", .project_name = "MyApp"},
                   "invalid project name \"MyApp\": must consist only of lowercase alphanumeric "
                   "characters, hyphens, and underscores as well as start with a letter or number");
        load_fails(&(struct run){.cwd = "Dir", .files = {"badname.yaml"}},
                   "invalid project name \"Bad\": must consist only of lowercase alphanumeric "
                   "characters, hyphens, and underscores as well as start with a letter or number");
        char *n = compose_name_normalize("-_My.Proj ect_1");
        ck_assert_str_eq(n, "myproject_1");
        free(n);
        ck_assert(compose_name_valid("a-b_c1"));
        ck_assert(!compose_name_valid("_a"));
        ck_assert(!compose_name_valid("a.b"));
}
END_TEST

START_TEST(env_precedence)
{
        put("p/compose.yaml", "services:\n  a:\n    image: ${TAG}-${ONLY}-${FROMALT:-none}\n");
        put("p/.env", "TAG=dotenv\nONLY=dot\nCOMPOSE_PROJECT_NAME=fromdotenv\n");
        put("p/alt.env", "TAG=alt\nFROMALT=yes\n");
        /* the shell beats .env; COMPOSE_* keys of .env configure the loader */
        struct compose_project *p = load_ok(&(struct run){.cwd = "p", .env = {"TAG=shell"}});
        assert_json(service(p, "a"), "{\"image\":\"shell-dot-none\"}");
        ck_assert_str_eq(p->name, "fromdotenv");
        ck_assert_str_eq(json_string_value(json_object_get(p->environment, "ONLY")), "dot");
        _cleanup_free_ char *envf = tpath("p/.env");
        ck_assert_str_eq(p->env_files[0], envf);
        compose_project_free(p);
        /* --env-file replaces .env */
        p = load_ok(&(struct run){.cwd = "p", .env_files = {"alt.env"}});
        assert_json(service(p, "a"), "{\"image\":\"alt--yes\"}");
        ck_assert_str_eq(p->name, "p");
        ck_assert_int_eq(json_array_size(p->warnings), 1);
        ck_assert_str_eq(json_string_value(json_array_get(p->warnings, 0)),
                         "The \"ONLY\" variable is not set. Defaulting to a blank string.");
        compose_project_free(p);
        /* COMPOSE_DISABLE_ENV_FILE */
        p = load_ok(&(struct run){.cwd = "p", .env = {"COMPOSE_DISABLE_ENV_FILE=1"}});
        assert_json(service(p, "a"), "{\"image\":\"--none\"}");
        ck_assert_ptr_null(p->env_files[0]);
        compose_project_free(p);
        /* --no-interpolate keeps the text */
        p = load_ok(&(struct run){.cwd = "p", .no_interpolate = true});
        assert_json(service(p, "a"), "{\"image\":\"${TAG}-${ONLY}-${FROMALT:-none}\"}");
        compose_project_free(p);
        /* a missing --env-file is an error */
        load_fails(&(struct run){.cwd = "p", .env_files = {"nope.env"}},
                   "couldn't find env file: @/p/nope.env");
}
END_TEST

START_TEST(compose_file_variable)
{
        put("q/a.yaml", "services:\n  a:\n    image: a\n");
        put("q/b.yaml", "services:\n  a:\n    tty: true\n  b:\n    image: b\n");
        put("q/.env", "COMPOSE_FILE=a.yaml;b.yaml\nCOMPOSE_PATH_SEPARATOR=;\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "q"});
        assert_json(json_object_get(p->model, "services"),
                    "{\"a\":{\"image\":\"a\",\"tty\":true},\"b\":{\"image\":\"b\"}}");
        compose_project_free(p);
        /* -f wins over COMPOSE_FILE */
        p = load_ok(&(struct run){.cwd = "q", .files = {"a.yaml"}});
        assert_json(json_object_get(p->model, "services"), "{\"a\":{\"image\":\"a\"}}");
        compose_project_free(p);
}
END_TEST

START_TEST(dotenv_read_twice)
{
        /* the .env of the current directory names the file and sets values;
         * the project directory's .env fills in the rest (compose's e2e
         * TestComposeFileSetByDotEnv) */
        put("d/.env", "COMPOSE_FILE=\"${COMPOSE_FILE:-development/compose.yaml}\"\n"
                      "IMAGE_NAME=test\nCOMPOSE_PROFILES=test\n");
        put("d/development/.env", "IMAGE_NAME=\"${IMAGE_NAME:-backend}\"\n"
                                  "IMAGE_TAG=\"${IMAGE_TAG:-latest}\"\n");
        put("d/development/compose.yaml",
            "services:\n  backend:\n    image: $IMAGE_NAME:$IMAGE_TAG\n"
            "  test:\n    profiles: [test]\n    image: enabled:profile\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "d"});
        assert_json(json_object_get(p->model, "services"),
                    "{\"backend\":{\"image\":\"test:latest\"},\"test\":{\"profiles\":[\"test\"],"
                    "\"image\":\"enabled:profile\"}}");
        _cleanup_free_ char *envf = tpath("d/development/.env");
        ck_assert_str_eq(p->env_files[0], envf);
        ck_assert_str_eq(p->name, "development");
        compose_project_free(p);
        p = load_ok(&(struct run){.cwd = "d", .project_dir = "development"});
        assert_json(service(p, "backend"), "{\"image\":\"backend:latest\"}");
        compose_project_free(p);
}
END_TEST

START_TEST(merge_rules)
{
        put("m/compose.yaml", "services:\n"
                              "  web:\n"
                              "    image: nginx\n"
                              "    command: [\"a\", \"b\"]\n"
                              "    entrypoint: sh\n"
                              "    environment:\n"
                              "      - A=1\n"
                              "      - B=1\n"
                              "    labels:\n"
                              "      x: \"1\"\n"
                              "    ports:\n"
                              "      - \"8080:80\"\n"
                              "      - \"443:443\"\n"
                              "    volumes:\n"
                              "      - ./a:/data\n"
                              "      - logs:/logs\n"
                              "    depends_on: [db]\n"
                              "    networks: [front]\n"
                              "    build: .\n"
                              "    logging:\n"
                              "      driver: json-file\n"
                              "      options: {max-size: 1m}\n"
                              "    dns: 8.8.8.8\n"
                              "    cap_add: [NET_ADMIN]\n"
                              "    healthcheck:\n"
                              "      test: [\"CMD\", \"a\"]\n"
                              "      retries: 3\n"
                              "    x-private: 1\n"
                              "  db:\n"
                              "    image: postgres\n"
                              "x-top: 1\n"
                              "networks:\n"
                              "  front: {}\n");
        put("m/compose.override.yaml", "services:\n"
                                       "  web:\n"
                                       "    command: [\"c\"]\n"
                                       "    environment:\n"
                                       "      B: \"2\"\n"
                                       "      C: \"3\"\n"
                                       "    labels: [\"y=2\"]\n"
                                       "    ports:\n"
                                       "      - \"8080:80\"\n"
                                       "      - \"9000:9000\"\n"
                                       "    volumes:\n"
                                       "      - ./b:/data\n"
                                       "    depends_on:\n"
                                       "      db:\n"
                                       "        condition: service_healthy\n"
                                       "    networks:\n"
                                       "      back:\n"
                                       "        aliases: [w]\n"
                                       "    build:\n"
                                       "      dockerfile: Dockerfile.dev\n"
                                       "    logging:\n"
                                       "      options: {max-file: \"3\"}\n"
                                       "    dns: [1.1.1.1]\n"
                                       "    cap_add: [NET_ADMIN, SYS_TIME]\n"
                                       "    healthcheck:\n"
                                       "      test: [\"CMD\", \"b\"]\n"
                                       "networks:\n"
                                       "  back: {}\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "m"});
        assert_json(service(p, "web"),
                    "{\"image\":\"nginx\",\"command\":[\"c\"],\"entrypoint\":\"sh\","
                    "\"environment\":{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\"},"
                    "\"labels\":{\"x\":\"1\",\"y\":\"2\"},"
                    "\"ports\":[\"8080:80\",\"443:443\",\"9000:9000\"],"
                    "\"volumes\":[\"./b:/data\",\"logs:/logs\"],"
                    "\"depends_on\":{\"db\":{\"condition\":\"service_healthy\",\"required\":true}},"
                    "\"networks\":{\"front\":null,\"back\":{\"aliases\":[\"w\"]}},"
                    "\"build\":{\"context\":\".\",\"dockerfile\":\"Dockerfile.dev\"},"
                    "\"logging\":{\"driver\":\"json-file\",\"options\":{\"max-size\":\"1m\","
                    "\"max-file\":\"3\"}},"
                    "\"dns\":[\"8.8.8.8\",\"1.1.1.1\"],\"cap_add\":[\"NET_ADMIN\",\"SYS_TIME\"],"
                    "\"healthcheck\":{\"test\":[\"CMD\",\"b\"],\"retries\":3}}");
        /* extension fields are gone, at the top and in services */
        ck_assert_ptr_null(json_object_get(p->model, "x-top"));
        assert_json(json_object_get(p->model, "networks"), "{\"front\":{},\"back\":{}}");
        compose_project_free(p);
}
END_TEST

START_TEST(merge_logging_driver_change)
{
        json_auto_t *a = json_loads("{\"services\":{\"s\":{\"logging\":{\"driver\":\"json-file\","
                                    "\"options\":{\"a\":\"1\"}},\"ulimits\":{\"nofile\":{\"soft\":"
                                    "1,\"hard\":2}},\"expose\":[\"80\"],\"secrets\":[\"s1\",{"
                                    "\"source\":\"s2\",\"target\":\"/x\"}]}}}",
                                    0, NULL);
        json_auto_t *b = json_loads("{\"services\":{\"s\":{\"logging\":{\"driver\":\"syslog\"},"
                                    "\"ulimits\":{\"nofile\":{\"soft\":3}},\"expose\":[\"80\","
                                    "\"81\"],\"secrets\":[{\"source\":\"s1\"},{\"source\":\"s3\","
                                    "\"target\":\"/x\"}]}}}",
                                    0, NULL);
        json_t *m = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_merge(a, b, &m, &err), 0);
        assert_json(m, "{\"services\":{\"s\":{\"logging\":{\"driver\":\"syslog\"},\"ulimits\":{"
                       "\"nofile\":{\"soft\":3}},\"expose\":[\"80\",\"81\"],\"secrets\":[{"
                       "\"source\":\"s1\"},{\"source\":\"s3\",\"target\":\"/x\"}]}}}");
        json_decref(m);
        /* IPAM pools merge by subnet */
        json_auto_t *n1 = json_loads("{\"networks\":{\"n\":{\"ipam\":{\"config\":[{\"subnet\":"
                                     "\"10.1.0.0/16\",\"gateway\":\"10.1.0.1\"}]}}}}",
                                     0, NULL);
        json_auto_t *n2 = json_loads("{\"networks\":{\"n\":{\"ipam\":{\"config\":[{\"subnet\":"
                                     "\"10.1.0.0/16\",\"gateway\":\"10.1.0.254\"},{\"subnet\":"
                                     "\"10.2.0.0/16\"}]}}}}",
                                     0, NULL);
        ck_assert_int_eq(compose_merge(n1, n2, &m, &err), 0);
        assert_json(m, "{\"networks\":{\"n\":{\"ipam\":{\"config\":[{\"subnet\":\"10.1.0.0/16\","
                       "\"gateway\":\"10.1.0.254\"},{\"subnet\":\"10.2.0.0/16\"}]}}}}");
        json_decref(m);
        /* a mapping cannot become a scalar */
        json_auto_t *c = json_loads("{\"services\":{\"s\":{\"deploy\":{\"a\":1}}}}", 0, NULL);
        json_auto_t *d = json_loads("{\"services\":{\"s\":{\"deploy\":\"x\"}}}", 0, NULL);
        ck_assert_int_lt(compose_merge(c, d, &m, &err), 0);
        ck_assert_str_eq(err_msg(&err), "cannot override services.s.deploy");
}
END_TEST

START_TEST(reset_and_override)
{
        put("r/compose.yaml", "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n"
                              "    environment: {A: \"1\"}\n    command: echo\n"
                              "    volumes: [\"a:/a\"]\n");
        put("r/compose.override.yaml", "services:\n  web:\n    ports: !reset []\n"
                                       "    environment: !override {B: \"2\"}\n"
                                       "    command: !reset null\n"
                                       "    volumes: !override [\"b:/b\"]\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "r"});
        assert_json(service(p, "web"),
                    "{\"image\":\"nginx\",\"environment\":{\"B\":\"2\"},\"volumes\":[\"b:/b\"]}");
        compose_project_free(p);
}
END_TEST

START_TEST(documents_of_one_file)
{
        put("md/compose.yaml",
            "name: first\nservices:\n  a:\n    image: a\n    ports: [\"80:80\"]\n"
            "---\n"
            "name: second\nservices:\n  a:\n    ports: !reset []\n"
            "    environment: [X=1]\n  b:\n    image: b\n"
            "---\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "md"});
        ck_assert_str_eq(p->name, "second");
        assert_json(json_object_get(p->model, "services"),
                    "{\"a\":{\"image\":\"a\",\"environment\":[\"X=1\"]},\"b\":{\"image\":\"b\"}}");
        compose_project_free(p);
}
END_TEST

START_TEST(merge_keys_and_version)
{
        put("k/compose.yaml", "version: \"3.8\"\n"
                              "x-defaults: &defaults\n  restart: always\n  tty: true\n"
                              "services:\n  a:\n    <<: *defaults\n    image: a\n    tty: false\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "k"});
        assert_json(service(p, "a"), "{\"image\":\"a\",\"tty\":false,\"restart\":\"always\"}");
        ck_assert_ptr_null(json_object_get(p->model, "version"));
        _cleanup_free_ char *w =
            xasprintf("%s/k/compose.yaml: the attribute `version` is obsolete, it will be "
                      "ignored, please remove it to avoid potential confusion",
                      tmp);
        ck_assert_str_eq(json_string_value(json_array_get(p->warnings, 0)), w);
        compose_project_free(p);
}
END_TEST

START_TEST(extends)
{
        struct compose_options o = {
            .cwd = DATA "/extends", .no_normalize = true, .environ = (char *[]){NULL}};
        struct compose_project *p = NULL;
        struct berth_err err = {0};
        ck_assert_msg(compose_load(&o, &p, &err) == 0, "%s", err_msg(&err));
        assert_json(service(p, "web"), "{\"image\":\"busybox\",\"environment\":{\"A\":\"1\","
                                       "\"B\":\"2\"},\"command\":[\"sleep\",\"2\"],\"volumes\":["
                                       "\"./data:/data\"],\"ports\":[\"8080:80\",\"9090:90\"]}");
        /* from another file: its relative paths resolve against its directory,
         * env_file is read into environment */
        assert_json(service(p, "remote"),
                    "{\"image\":\"core:1\",\"volumes\":[\"" DATA "/extends/common/cfg:/cfg:ro\"],"
                    "\"build\":\"" DATA "/extends/common/ctx\",\"labels\":{\"from\":\"shared\","
                    "\"own\":\"yes\"},\"environment\":{\"SHARED\":\"1\"}}");
        compose_project_free(p);

        o.files = (char *[]){"cycle.yaml", NULL};
        ck_assert_int_eq(compose_load(&o, &p, &err), -ELOOP);
        ck_assert_str_eq(err_msg(&err), "Circular reference:\n"
                                        "  a in " DATA "/extends/cycle.yaml\n"
                                        "  extends b in " DATA "/extends/cycle.yaml\n"
                                        "  extends a in " DATA "/extends/cycle.yaml");
}
END_TEST

START_TEST(extends_errors)
{
        put("e/compose.yaml", "services:\n  a:\n    extends: nope\n");
        load_fails(&(struct run){.cwd = "e"},
                   "cannot extend service \"a\" in @/e/compose.yaml: service \"nope\" not found");
        put("e/compose.yaml", "services:\n  a:\n    extends: {file: other.yaml, service: nope}\n");
        put("e/other.yaml", "services:\n  b:\n    image: b\n");
        load_fails(&(struct run){.cwd = "e"}, "cannot extend service \"a\" in @/e/compose.yaml: "
                                              "service \"nope\" not found in other.yaml");
}
END_TEST

START_TEST(include)
{
        struct compose_options o = {
            .cwd = DATA "/include", .no_normalize = true, .environ = (char *[]){NULL}};
        struct compose_project *p = NULL;
        struct berth_err err = {0};
        ck_assert_msg(compose_load(&o, &p, &err) == 0, "%s", err_msg(&err));
        /* each include is its own project (own .env, own directory); the
         * local definition is merged over the included one */
        assert_json(json_object_get(p->model, "services"),
                    "{\"app\":{\"image\":\"app\",\"depends_on\":[\"db\"]},"
                    "\"db\":{\"image\":\"postgres:16\",\"volumes\":[\"" DATA
                    "/include/sub/pgdata:/var/lib/postgresql/data\"],"
                    "\"environment\":{\"LOCAL\":\"1\"}},"
                    "\"cache\":{\"image\":\"redis:7\"}}");
        assert_json(json_object_get(p->model, "volumes"), "{\"dbdata\":{}}");
        ck_assert_ptr_null(json_object_get(p->model, "include"));
        compose_project_free(p);

        o.cwd = DATA "/include-cycle";
        ck_assert_int_eq(compose_load(&o, &p, &err), -ELOOP);
        ck_assert_str_eq(err_msg(&err),
                         "include cycle detected:\n" DATA
                         "/include-cycle/compose.yaml\n include " DATA
                         "/include-cycle/a.yaml\n include " DATA "/include-cycle/compose.yaml");
}
END_TEST

static const char *profiles_yaml =
    "services:\n"
    "  web: {image: a, depends_on: [db]}\n"
    "  db: {image: b}\n"
    "  debug: {image: c, profiles: [debug]}\n"
    "  tools: {image: d, profiles: [tools, debug]}\n"
    "  opt:\n"
    "    image: e\n"
    "    depends_on: {debug: {condition: service_started, required: false}}\n";

static char *names(const json_t *o)
{
        char *s = xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)o, k, v) {
                char *n = xasprintf("%s%s%s", s, *s ? "," : "", k);
                free(s);
                s = n;
        }
        return s;
}

static void assert_profiles(const struct run *rn, const char *enabled, const char *disabled)
{
        struct compose_project *p = load_ok(rn);
        _cleanup_free_ char *e = names(json_object_get(p->model, "services"));
        _cleanup_free_ char *d = names(p->disabled);
        ck_assert_str_eq(e, enabled);
        ck_assert_str_eq(d, disabled);
        compose_project_free(p);
}

START_TEST(profiles)
{
        put("pr/compose.yaml", profiles_yaml);
        assert_profiles(&(struct run){.cwd = "pr"}, "web,db,opt", "debug,tools");
        assert_profiles(&(struct run){.cwd = "pr", .profiles = {"debug"}}, "web,db,debug,tools,opt",
                        "");
        assert_profiles(&(struct run){.cwd = "pr", .env = {"COMPOSE_PROFILES=tools"}},
                        "web,db,tools,opt", "debug");
        assert_profiles(&(struct run){.cwd = "pr", .profiles = {"*"}}, "web,db,debug,tools,opt",
                        "");
        /* a service named on the command line enables its profiles */
        assert_profiles(&(struct run){.cwd = "pr", .services = {"tools"}}, "web,db,debug,tools,opt",
                        "");
        /* the optional dependency on a disabled service is dropped */
        struct compose_project *p = load_ok(&(struct run){.cwd = "pr"});
        assert_json(service(p, "opt"), "{\"image\":\"e\",\"depends_on\":{}}");
        compose_project_free(p);

        put("pr2/compose.yaml", "services:\n  web: {image: a, depends_on: [debug]}\n"
                                "  debug: {image: c, profiles: [debug]}\n");
        load_fails(
            &(struct run){.cwd = "pr2"},
            "service \"web\" depends on undefined service \"debug\": invalid compose project");
        put("pr3/compose.yaml", "services:\n  web:\n    image: a\n    depends_on:\n"
                                "      ghost: {condition: service_healthy}\n");
        load_fails(
            &(struct run){.cwd = "pr3"},
            "service \"web\" depends on undefined service \"ghost\": invalid compose project");
}
END_TEST

START_TEST(env_file)
{
        put("ef/compose.yaml", "services:\n  a:\n    image: a\n"
                               "    env_file: [a.env, {path: opt.env, required: false}, b.env]\n"
                               "    environment: {B: override, FROMSHELL: null}\n");
        put("ef/a.env", "A=1\nB=1\nC=${A}x\n");
        put("ef/b.env", "D=${C}y\n");
        struct compose_project *p = load_ok(&(struct run){.cwd = "ef", .env = {"FROMSHELL=sh"}});
        assert_json(service(p, "a"),
                    "{\"image\":\"a\",\"environment\":{\"A\":\"1\",\"B\":"
                    "\"override\",\"C\":\"1x\",\"D\":\"1xy\",\"FROMSHELL\":\"sh\"}}");
        compose_project_free(p);
        /* in an env file, ${} looks at the project environment first, then
         * the service's environment, then the files read so far */
        put("ef/compose.yaml", "services:\n  a:\n    image: a\n"
                               "    env_file: [a.env, c.env]\n    environment: {S: svc}\n");
        put("ef/c.env", "X=${A}-${S}-${B}\n");
        p = load_ok(&(struct run){.cwd = "ef", .env = {"A=shell"}});
        ck_assert_str_eq(json_string_value(
                             json_object_get(json_object_get(service(p, "a"), "environment"), "X")),
                         "shell-svc-1");
        compose_project_free(p);
        put("ef/compose.yaml", "services:\n  a:\n    image: a\n    env_file: missing.env\n");
        load_fails(&(struct run){.cwd = "ef"}, "env file @/ef/missing.env not found: stat "
                                               "@/ef/missing.env: no such file or directory");
        /* a command acting on other services does not read it */
        put("ef/compose.yaml", "services:\n  a:\n    image: a\n    env_file: missing.env\n"
                               "  b:\n    image: b\n");
        p = load_ok(&(struct run){.cwd = "ef", .services = {"b"}});
        ck_assert_ptr_nonnull(service(p, "b"));
        compose_project_free(p);
}
END_TEST

START_TEST(errors_name_the_file)
{
        put("er/compose.yaml", "services:\n  web:\n    image: ${IMG:?set IMG please}\n");
        load_fails(&(struct run){.cwd = "er"},
                   "@/er/compose.yaml:3: error while interpolating services.web.image: required "
                   "variable IMG is missing a value: set IMG please");
        put("er/compose.yaml", "services:\n  web:\n    image: [oops\n");
        load_fails(&(struct run){.cwd = "er"}, "@/er/compose.yaml:4:1: did not find expected ',' "
                                               "or ']' while parsing a flow sequence");
        put("er/compose.yaml", "- a\n- b\n");
        load_fails(&(struct run){.cwd = "er"},
                   "@/er/compose.yaml: top-level object must be a mapping");
        put("er/compose.yaml", "");
        load_fails(&(struct run){.cwd = "er"}, "empty compose file");
}
END_TEST

START_TEST(stdin_file)
{
        put("s/.keep", "");
        _cleanup_free_ char *cwd = tpath("s");
        const char *text = "services:\n  a:\n    image: from-stdin\n";
        FILE *in = fmemopen((void *)text, strlen(text), "r");
        struct compose_options o = {.cwd = cwd,
                                    .files = (char *[]){"-", NULL},
                                    .environ = (char *[]){NULL},
                                    .stdin_file = in,
                                    .no_normalize = true};
        struct compose_project *p = NULL;
        struct berth_err err = {0};
        ck_assert_msg(compose_load(&o, &p, &err) == 0, "%s", err_msg(&err));
        fclose(in);
        ck_assert_str_eq(p->name, "s");
        ck_assert_str_eq(p->config_files[0], "-");
        ck_assert_str_eq(p->working_dir, cwd);
        assert_json(service(p, "a"), "{\"image\":\"from-stdin\"}");
        compose_project_free(p);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-load");
        TCase *tc = tcase_create("all");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, discovery_walks_up);
        tcase_add_test(tc, discovery_several_and_none);
        tcase_add_test(tc, project_name_rules);
        tcase_add_test(tc, env_precedence);
        tcase_add_test(tc, compose_file_variable);
        tcase_add_test(tc, dotenv_read_twice);
        tcase_add_test(tc, merge_rules);
        tcase_add_test(tc, merge_logging_driver_change);
        tcase_add_test(tc, reset_and_override);
        tcase_add_test(tc, documents_of_one_file);
        tcase_add_test(tc, merge_keys_and_version);
        tcase_add_test(tc, extends);
        tcase_add_test(tc, extends_errors);
        tcase_add_test(tc, include);
        tcase_add_test(tc, profiles);
        tcase_add_test(tc, env_file);
        tcase_add_test(tc, errors_name_the_file);
        tcase_add_test(tc, stdin_file);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
