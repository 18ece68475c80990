/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The compose model: normalization against golden files (input documents
 * and the normalized model, keys in v2's order), the dependency order,
 * the service hash and the schema check. */
#include "check-main.h"

#include "base/util.h"
#include "compose/compose-model.h"

#include <string.h>

#define DIR MODEL_DATA_DIR

static json_t *env(void)
{
        json_t *e = json_object();
        json_object_set_new(e, "HOME", json_string("/home/u"));
        json_object_set_new(e, "FOO", json_string("foo"));
        return e;
}

static int normalize(json_t *in, json_t **ret, struct berth_err *err)
{
        _cleanup_json_ json_t *e = env();
        _cleanup_json_ json_t *w = json_array();
        struct compose_normalize_ctx ctx = {
            .project_name = "proj", .working_dir = DIR, .environment = e, .warnings = w};
        return compose_normalize(in, &ctx, ret, err);
}

static json_t *parse(const char *text)
{
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        ck_assert_msg(j, "bad JSON in the test: %s: %s", text, je.text);
        return j;
}

/* The golden files: <case>.in.json normalized must equal <case>.out.json,
 * key order included ("@DIR@" there is the data directory). With
 * COMPOSE_MODEL_UPDATE=1 the expected files are rewritten instead. */
static void golden(const char *name)
{
        _cleanup_free_ char *in_path = xasprintf("%s/%s.in.json", DIR, name);
        _cleanup_free_ char *out_path = xasprintf("%s/%s.out.json", DIR, name);
        json_error_t je;
        _cleanup_json_ json_t *in = json_load_file(in_path, 0, &je);
        ck_assert_msg(in, "%s: %s", in_path, je.text);
        struct berth_err err = {};
        _cleanup_json_ json_t *model = NULL;
        int r = normalize(in, &model, &err);
        ck_assert_msg(r == 0, "%s: %s", name, err_msg(&err));
        _cleanup_free_ char *got = json_dumps(model, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        if (getenv("COMPOSE_MODEL_UPDATE")) {
                _cleanup_free_ char *txt = xstrdup(got);
                /* the data directory back to its placeholder */
                for (char *p; (p = strstr(txt, DIR));) {
                        char *n = xasprintf("%.*s@DIR@%s", (int)(p - txt), txt, p + strlen(DIR));
                        free(txt);
                        txt = n;
                }
                FILE *f = fopen(out_path, "w");
                ck_assert(f);
                fprintf(f, "%s\n", txt);
                fclose(f);
                return;
        }
        _cleanup_free_ char *want_txt = NULL;
        ck_assert_int_eq(read_full_file(out_path, &want_txt, NULL), 0);
        for (char *p; (p = strstr(want_txt, "@DIR@"));) {
                char *n = xasprintf("%.*s%s%s", (int)(p - want_txt), want_txt, DIR, p + 5);
                free(want_txt);
                want_txt = n;
        }
        _cleanup_json_ json_t *want = parse(want_txt);
        _cleanup_free_ char *want_dump = json_dumps(want, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        ck_assert_msg(streq(got, want_dump), "%s: got\n%s\nwant\n%s", name, got, want_dump);
}

START_TEST(test_golden_basic)
{
        golden("basic");
}
END_TEST
START_TEST(test_golden_ports)
{
        golden("ports");
}
END_TEST
START_TEST(test_golden_volumes)
{
        golden("volumes");
}
END_TEST
START_TEST(test_golden_environment)
{
        golden("environment");
}
END_TEST
START_TEST(test_golden_commands)
{
        golden("commands");
}
END_TEST
START_TEST(test_golden_build)
{
        golden("build");
}
END_TEST
START_TEST(test_golden_misc)
{
        golden("misc");
}
END_TEST

/* Each input must fail with a message containing the text. */
static const struct {
        const char *doc;
        const char *msg;
} norm_errors[] = {
    {"{\"services\": {\"web\": {\"image\": \"x\", \"depends_on\": [\"nope\"]}}}",
     "service \"web\" depends on undefined service \"nope\": invalid compose project"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"80:80/xyz\"]}}}",
     "services.web.ports[0]: invalid proto: xyz"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"a:b:c:80:80\"]}}}",
     "invalid IP address: a:b:c"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"8000-8002:80-81\"]}}}",
     "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [\"99999\"]}}}",
     "invalid containerPort: 99999"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"scale\": 2, \"container_name\": \"c\"}}}",
     "services.web: can't set container_name and scale as container name must be unique"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"deploy\": {\"replicas\": 3}, "
     "\"container_name\": \"c\"}}}",
     "can't set container_name and deploy.replicas"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"scale\": 2, \"deploy\": {\"replicas\": 3}}}}",
     "services.web: can't set distinct values on 'scale' and 'deploy.replicas'"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"volumes\": [\"data:/d\"]}}}",
     "service \"web\" refers to undefined volume data: invalid compose project"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"networks\": [\"n\"]}}}",
     "service \"web\" refers to undefined network n: invalid compose project"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"secrets\": [\"s\"]}}}",
     "service \"web\" refers to undefined secret s"},
    {"{\"services\": {\"web\": {\"command\": \"x\"}}}",
     "service \"web\" has neither an image nor a build context specified"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"network_mode\": \"host\", \"networks\": "
     "[\"a\"]}}, \"networks\": {\"a\": {}}}",
     "declares mutually exclusive `network_mode` and `networks`"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"healthcheck\": {\"interval\": \"10\"}}}}",
     "services.web.healthcheck: invalid duration for interval: \"10\""},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"healthcheck\": {\"test\": [\"echo\"]}}}}",
     "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\""},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"env_file\": \"nope.env\"}}}",
     "env file " DIR "/nope.env not found"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"command\": \"echo 'x\"}}}",
     "services.web: command: invalid command line string"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"environment\": [\"A =1\"]}}}",
     "environment variable A  is declared with a trailing space"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"volumes\": [\"a::b\"]}}}",
     "invalid spec: a::b: empty section between colons"},
    {"{\"services\": {\"web\": {\"image\": \"x\", \"mem_limit\": \"lots\"}}}",
     "services.web: invalid size for mem_limit: \"lots\""},
};

START_TEST(test_normalize_errors)
{
        _cleanup_json_ json_t *in = parse(norm_errors[_i].doc);
        struct berth_err err = {};
        json_t *model = NULL;
        int r = normalize(in, &model, &err);
        ck_assert_msg(r < 0, "accepted: %s", norm_errors[_i].doc);
        ck_assert_msg(strstr(err_msg(&err), norm_errors[_i].msg), "%s: got \"%s\", want \"%s\"",
                      norm_errors[_i].doc, err_msg(&err), norm_errors[_i].msg);
        ck_assert_ptr_null(model);
}
END_TEST

/* The default network joins the model only when a service uses it. */
START_TEST(test_default_network_only_when_used)
{
        _cleanup_json_ json_t *in =
            parse("{\"services\": {\"a\": {\"image\": \"x\", \"network_mode\": \"none\"}}}");
        struct berth_err err = {};
        _cleanup_json_ json_t *m = NULL;
        ck_assert_int_eq(normalize(in, &m, &err), 0);
        ck_assert_ptr_null(json_object_get(m, "networks"));
        ck_assert_ptr_null(
            json_object_get(json_object_get(json_object_get(m, "services"), "a"), "networks"));
}
END_TEST

/* --no-path-resolution: paths stay as written, env files are still read. */
START_TEST(test_no_path_resolution)
{
        _cleanup_json_ json_t *in = parse(
            "{\"services\": {\"w\": {\"build\": \".\", \"volumes\": [\"./d:/d\", \"~/h:/h\"], "
            "\"env_file\": \"b.env\"}}, \"secrets\": {\"s\": {\"file\": \"s.txt\"}}}");
        _cleanup_json_ json_t *e = env();
        struct compose_normalize_ctx ctx = {.project_name = "proj",
                                            .working_dir = DIR,
                                            .environment = e,
                                            .no_path_resolution = true};
        struct berth_err err = {};
        _cleanup_json_ json_t *m = NULL;
        ck_assert_msg(compose_normalize(in, &ctx, &m, &err) == 0, "%s", err_msg(&err));
        json_t *w = json_object_get(json_object_get(m, "services"), "w");
        ck_assert_str_eq(json_string_value(json_object_get(json_object_get(w, "build"), "context")),
                         ".");
        json_t *vols = json_object_get(w, "volumes");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(vols, 0), "source")),
                         "./d");
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(vols, 1), "source")),
                         "~/h");
        ck_assert_str_eq(
            json_string_value(json_object_get(json_object_get(w, "environment"), "FROM_FILE")),
            "second");
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(json_object_get(m, "secrets"), "s"), "file")),
                         "s.txt");
}
END_TEST

/* Robustness: every node of every golden input replaced in turn by a value
 * of each JSON type; the schema check and the normalizer must answer (a model or an error)
 * without crashing, and a model must be orderable, writable and hashable
 * (run under the sanitizer build in CI). */
static json_t *const *mutants(void)
{
        static json_t *m[9];
        if (!m[0]) {
                m[0] = json_null();
                m[1] = json_integer(-1);
                m[2] = json_string("x:y:z:w");
                m[3] = json_array();
                m[4] = json_object();
                m[5] = json_true();
                m[6] = json_real(0.5);
                m[7] = json_real(1e300);
                m[8] = json_integer(INT64_MAX);
        }
        return m;
}

static void try_model(json_t *doc)
{
        struct berth_err err = {};
        json_t *m = NULL;
        _cleanup_json_ json_t *w = json_array();
        struct berth_err serr = {};
        if (compose_schema_check(doc, NULL, w, &serr) < 0)
                ck_assert(*err_msg(&serr));
        if (normalize(doc, &m, &err) < 0) {
                ck_assert_ptr_null(m);
                ck_assert_ptr_nonnull(err_msg(&err));
                return;
        }
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_int_eq(compose_model_write(m, true, f, &err), 0);
        fclose(f);
        free(buf);
        const char *k;
        json_t *svc;
        json_object_foreach (json_object_get(m, "services"), k, svc) {
                char hex[65];
                ck_assert_int_eq(compose_service_hash(svc, hex, &err), 0);
        }
        json_t *order = NULL;
        if (compose_service_order(m, NULL, false, &order, &err) == 0)
                json_decref(order);
        json_decref(m);
}

/* Replace each node under `node` (a child of the document) in turn. */
static void mutate_walk(json_t *doc, json_t *node)
{
        if (json_is_object(node)) {
                const char *k;
                json_t *v;
                void *it;
                json_object_foreach_safe (node, it, k, v) {
                        json_t *saved = json_incref(v);
                        for (int i = 0; i < 9; i++) {
                                json_object_set(node, k, mutants()[i]);
                                try_model(doc);
                        }
                        json_object_set_new(node, k, saved);
                        mutate_walk(doc, saved);
                }
        } else if (json_is_array(node)) {
                for (size_t i = 0; i < json_array_size(node); i++) {
                        json_t *saved = json_incref(json_array_get(node, i));
                        for (int j = 0; j < 9; j++) {
                                json_array_set(node, i, mutants()[j]);
                                try_model(doc);
                        }
                        json_array_set_new(node, i, saved);
                        mutate_walk(doc, saved);
                }
        }
}

static const char *const golden_names[] = {"basic",    "ports", "volumes", "environment",
                                           "commands", "build", "misc"};

START_TEST(test_mutations)
{
        _cleanup_free_ char *in_path = xasprintf("%s/%s.in.json", DIR, golden_names[_i]);
        json_error_t je;
        _cleanup_json_ json_t *in = json_load_file(in_path, 0, &je);
        ck_assert_msg(in, "%s: %s", in_path, je.text);
        mutate_walk(in, in);
}
END_TEST

/* --- dependency order --------------------------------------------------- */

static json_t *order_of(const char *doc, char **only, bool no_deps, struct berth_err *err, int *ret)
{
        _cleanup_json_ json_t *model = parse(doc);
        json_t *o = NULL;
        *ret = compose_service_order(model, only, no_deps, &o, err);
        return o;
}

static char *joined(json_t *a)
{
        char *s = xstrdup("");
        size_t i;
        json_t *e;
        json_array_foreach (a, i, e) {
                char *n = xasprintf("%s%s%s", s, i ? " " : "", json_string_value(e));
                free(s);
                s = n;
        }
        return s;
}

#define CHAIN                                                                       \
        "{\"services\": {\"web\": {\"depends_on\": {\"api\": {}, \"cache\": {}}}, " \
        "\"api\": {\"depends_on\": {\"db\": {}}}, \"db\": {}, \"cache\": {}, "      \
        "\"lone\": {}, \"opt\": {\"depends_on\": {\"gone\": {\"required\": false}}}}}"

START_TEST(test_order)
{
        struct berth_err err = {};
        int r;
        _cleanup_json_ json_t *all = order_of(CHAIN, NULL, false, &err, &r);
        ck_assert_int_eq(r, 0);
        _cleanup_free_ char *s = joined(all);
        ck_assert_str_eq(s, "db api cache lone opt web");

        char *only[] = {"web", NULL};
        _cleanup_json_ json_t *w = order_of(CHAIN, only, false, &err, &r);
        ck_assert_int_eq(r, 0);
        _cleanup_free_ char *s2 = joined(w);
        ck_assert_str_eq(s2, "db api cache web");

        _cleanup_json_ json_t *nd = order_of(CHAIN, only, true, &err, &r);
        ck_assert_int_eq(r, 0);
        _cleanup_free_ char *s3 = joined(nd);
        ck_assert_str_eq(s3, "web");

        char *two[] = {"api", "lone", NULL};
        _cleanup_json_ json_t *t = order_of(CHAIN, two, false, &err, &r);
        ck_assert_int_eq(r, 0);
        _cleanup_free_ char *s4 = joined(t);
        ck_assert_str_eq(s4, "db api lone");

        char *bad[] = {"nope", NULL};
        json_t *b = order_of(CHAIN, bad, false, &err, &r);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(b);
        ck_assert_str_eq(err_msg(&err), "no such service: nope");
}
END_TEST

START_TEST(test_order_errors)
{
        struct berth_err err = {};
        int r;
        json_t *o =
            order_of("{\"services\": {\"a\": {\"depends_on\": {\"b\": {}}}, \"b\": "
                     "{\"depends_on\": {\"c\": {}}}, \"c\": {\"depends_on\": {\"a\": {}}}}}",
                     NULL, false, &err, &r);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(o);
        ck_assert_str_eq(err_msg(&err), "dependency cycle detected: a -> b -> c -> a");

        struct berth_err err2 = {};
        o = order_of("{\"services\": {\"x\": {\"depends_on\": {\"x\": {}}}}}", NULL, false, &err2,
                     &r);
        ck_assert_int_lt(r, 0);
        ck_assert_str_eq(err_msg(&err2), "dependency cycle detected: x -> x");

        struct berth_err err3 = {};
        o = order_of("{\"services\": {\"web\": {\"depends_on\": {\"x\": {}}}}}", NULL, false, &err3,
                     &r);
        ck_assert_int_lt(r, 0);
        ck_assert_str_eq(err_msg(&err3),
                         "service \"web\" depends on undefined service \"x\": invalid compose "
                         "project");
}
END_TEST

/* --- service hash ------------------------------------------------------- */

static void hash_of(const char *svc, char hex[65])
{
        _cleanup_json_ json_t *s = parse(svc);
        struct berth_err err = {};
        ck_assert_int_eq(compose_service_hash(s, hex, &err), 0);
        ck_assert_uint_eq(strlen(hex), 64);
}

#define BASE_SVC                                                                               \
        "{\"image\": \"nginx\", \"environment\": {\"A\": \"1\", \"B\": \"2\"}, \"networks\": " \
        "{\"default\": null}"

START_TEST(test_hash)
{
        char base[65], same[65], other[65];
        hash_of(BASE_SVC "}", base);
        /* stable across runs: the canonical form is documented */
        hash_of(
            "{\"environment\": {\"B\": \"2\", \"A\": \"1\"}, \"networks\": {\"default\": null}, "
            "\"image\": \"nginx\"}",
            same);
        ck_assert_str_eq(base, same);
        /* fields that do not change the container do not change the hash */
        static const char *const neutral[] = {
            ", \"depends_on\": {\"db\": {\"condition\": \"service_started\", \"required\": true}}}",
            ", \"build\": {\"context\": \"/x\", \"dockerfile\": \"Dockerfile\"}}",
            ", \"profiles\": [\"debug\"]}",
            ", \"pull_policy\": \"always\"}",
            ", \"scale\": 3}",
            ", \"deploy\": {\"replicas\": 3}}",
            ", \"x-note\": \"not runtime\"}",
        };
        for (size_t i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++) {
                _cleanup_free_ char *doc = xasprintf("%s%s", BASE_SVC, neutral[i]);
                hash_of(doc, other);
                ck_assert_msg(streq(base, other), "%s changed the hash", neutral[i]);
        }
        /* runtime fields do */
        static const char *const changing[] = {
            ", \"environment\": {\"A\": \"1\", \"B\": \"3\"}}",
            ", \"command\": [\"sh\"]}",
            ", \"deploy\": {\"replicas\": 3, \"resources\": {\"limits\": {\"memory\": \"1\"}}}}",
        };
        for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++) {
                _cleanup_free_ char *doc = xasprintf("%s%s", BASE_SVC, changing[i]);
                hash_of(doc, other);
                ck_assert_msg(!streq(base, other), "%s kept the hash", changing[i]);
        }
        /* a known value: the canonical form must not drift between versions
         * (sha256 of {"image":"nginx"}) */
        hash_of("{\"image\": \"nginx\", \"build\": {}}", other);
        ck_assert_str_eq(other, "87132e95dfbdfe0f3b4b5fc5d97e77562f531773bb439b3b9624ef0863f7fcbb");
}
END_TEST

/* The hash of a service normalized from its short and its long forms is the
 * same. */
START_TEST(test_hash_short_long)
{
        _cleanup_json_ json_t *a = parse(
            "{\"services\": {\"w\": {\"image\": \"x\", \"ports\": [\"8080:80\"], \"environment\": "
            "[\"A=1\"]}}}");
        _cleanup_json_ json_t *b = parse(
            "{\"services\": {\"w\": {\"environment\": {\"A\": 1}, \"image\": \"x\", \"ports\": "
            "[{\"target\": 80, \"published\": 8080}]}}}");
        struct berth_err err = {};
        _cleanup_json_ json_t *ma = NULL, *mb = NULL;
        ck_assert_int_eq(normalize(a, &ma, &err), 0);
        ck_assert_int_eq(normalize(b, &mb, &err), 0);
        char ha[65], hb[65];
        ck_assert_int_eq(
            compose_service_hash(json_object_get(json_object_get(ma, "services"), "w"), ha, &err),
            0);
        ck_assert_int_eq(
            compose_service_hash(json_object_get(json_object_get(mb, "services"), "w"), hb, &err),
            0);
        ck_assert_str_eq(ha, hb);
}
END_TEST

/* --- the writer --------------------------------------------------------- */

START_TEST(test_write_json)
{
        _cleanup_json_ json_t *in = parse(
            "{\"services\": {\"web\": {\"image\": \"a&b\", \"ports\": [\"80\"]}}, \"volumes\": "
            "{\"v\": {}}}");
        struct berth_err err = {};
        _cleanup_json_ json_t *m = NULL;
        ck_assert_int_eq(normalize(in, &m, &err), 0);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        ck_assert_int_eq(compose_model_write(m, true, f, &err), 0);
        fclose(f);
        /* v2: the project is a Go map (sorted keys, 2-space indent), command
         * and entrypoint always present, HTML-safe escapes */
        ck_assert_str_eq(buf, "{\n"
                              "  \"name\": \"proj\",\n"
                              "  \"networks\": {\n"
                              "    \"default\": {\n"
                              "      \"name\": \"proj_default\",\n"
                              "      \"ipam\": {}\n"
                              "    }\n"
                              "  },\n"
                              "  \"services\": {\n"
                              "    \"web\": {\n"
                              "      \"command\": null,\n"
                              "      \"entrypoint\": null,\n"
                              "      \"image\": \"a\\u0026b\",\n"
                              "      \"networks\": {\n"
                              "        \"default\": null\n"
                              "      },\n"
                              "      \"ports\": [\n"
                              "        {\n"
                              "          \"mode\": \"ingress\",\n"
                              "          \"target\": 80,\n"
                              "          \"protocol\": \"tcp\"\n"
                              "        }\n"
                              "      ]\n"
                              "    }\n"
                              "  },\n"
                              "  \"volumes\": {\n"
                              "    \"v\": {\n"
                              "      \"name\": \"proj_v\"\n"
                              "    }\n"
                              "  }\n"
                              "}\n");
        free(buf);

        /* deploy's struct values, present in JSON even when empty; absent
         * from the YAML rendering */
        _cleanup_json_ json_t *d =
            parse("{\"services\": {\"web\": {\"image\": \"x\", \"deploy\": {\"replicas\": 2}}}}");
        _cleanup_json_ json_t *dm = NULL;
        ck_assert_int_eq(normalize(d, &dm, &err), 0);
        f = open_memstream(&buf, &len);
        ck_assert_int_eq(compose_model_write(dm, true, f, &err), 0);
        fclose(f);
        ck_assert_msg(strstr(buf,
                             "\"deploy\": {\n        \"replicas\": 2,\n        \"resources\": {},\n"
                             "        \"placement\": {}\n      }"),
                      "%s", buf);
        free(buf);
        ck_assert_ptr_null(json_object_get(
            json_object_get(json_object_get(json_object_get(dm, "services"), "web"), "deploy"),
            "resources"));
}
END_TEST

/* --- schema ------------------------------------------------------------- */

static int check_yaml(const char *yaml, json_t *warnings, struct berth_err *err)
{
        _cleanup_json_ json_t *doc = NULL;
        struct compose_marks *marks = NULL;
        struct berth_err perr = {};
        int r = compose_yaml_parse("compose.yaml", yaml, strlen(yaml), &doc, &marks, &perr);
        ck_assert_msg(r == 0, "bad YAML in the test: %s", err_msg(&perr));
        r = compose_schema_check(doc, marks, warnings, err);
        compose_marks_free(marks);
        return r;
}

/* Each document must be refused with exactly this message. */
static const struct {
        const char *yaml;
        const char *msg;
} schema_errors[] = {
    {"services:\n  web:\n    image: x\n    ports:\n      - 80\n      - {a: [1]}\n",
     "compose.yaml:6: services.web.ports[1] additional properties 'a' not allowed"},
    {"services:\n  web:\n    image: x\n    ports:\n      - 80\n      - [1]\n",
     "compose.yaml:6: services.web.ports[1] must be a mapping, number or string"},
    {"services:\n  web:\n    image: x\n    foo: bar\n",
     "compose.yaml:4: services.web additional properties 'foo' not allowed"},
    {"services:\n  web:\n    image: x\nfoo: 1\n",
     "compose.yaml:4: additional properties 'foo' not allowed"},
    {"services:\n  web:\n    image: x\n    environment:\n      FOO:\n        a: 1\n",
     "compose.yaml:6: services.web.environment.FOO must be a boolean, null, number or string"},
    {"services:\n  web:\n    image: [x]\n", "compose.yaml:3: services.web.image must be a string"},
    {"services:\n  web:\n    image: x\n    privileged: 1\n",
     "compose.yaml:4: services.web.privileged must be a boolean or string"},
    {"services:\n  web:\n    image: x\n    volumes:\n      - type: disk\n        target: /x\n",
     "compose.yaml:5: services.web.volumes[0].type value must be one of 'bind', 'volume', "
     "'tmpfs', 'cluster', 'npipe', 'image'"},
    {"services:\n  web:\n    image: x\n    volumes:\n      - target: /x\n",
     "compose.yaml:5: services.web.volumes[0] missing property 'type'"},
    {"services:\n  web:\n    image: x\n    depends_on:\n      db:\n        required: true\n",
     "compose.yaml:6: services.web.depends_on.db missing property 'condition'"},
    {"services:\n  web:\n    image: x\n    healthcheck:\n      interval: 10s\n      tests: x\n",
     "compose.yaml:6: services.web.healthcheck additional properties 'tests' not allowed"},
    {"services:\n  web:\n    image: x\n    deploy:\n      resources:\n        limits:\n"
     "          memory: 1\n",
     "compose.yaml:7: services.web.deploy.resources.limits.memory must be a string"},
    {"services:\n  web:\n    image: x\nnetworks:\n  n:\n    external:\n      id: 1\n",
     "compose.yaml:7: networks.n.external additional properties 'id' not allowed"},
    {"services:\n  web:\n    image: x\n    ulimits:\n      nofile:\n        soft: 1\n",
     "compose.yaml:6: services.web.ulimits.nofile missing property 'hard'"},
    {"services: []\n", "compose.yaml:1: services must be a mapping"},
    {"services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, true]\n",
     "compose.yaml:5: services.web.healthcheck.test[1] must be a string"},
};

START_TEST(test_schema_errors)
{
        struct berth_err err = {};
        _cleanup_json_ json_t *w = json_array();
        int r = check_yaml(schema_errors[_i].yaml, w, &err);
        ck_assert_msg(r < 0, "accepted:\n%s", schema_errors[_i].yaml);
        ck_assert_str_eq(err_msg(&err), schema_errors[_i].msg);
}
END_TEST

/* A document using most keys in their several forms passes, silently:
 * swarm-only deploy keys and x-* extensions included. */
START_TEST(test_schema_valid)
{
        static const char yaml[] =
            "version: '3.8'\n"
            "name: demo\n"
            "x-common: &common\n"
            "  restart: always\n"
            "services:\n"
            "  web:\n"
            "    <<: *common\n"
            "    build:\n"
            "      context: .\n"
            "      args: [A=1]\n"
            "      x-note: fine\n"
            "    image: x\n"
            "    command: echo hi\n"
            "    entrypoint: [sh, -c]\n"
            "    environment: {A: 1, B: true, C: null, D: x}\n"
            "    env_file: [a.env, {path: b.env, required: false}]\n"
            "    ports: [80, '8080:80', {target: 81, published: '8081'}]\n"
            "    expose: [80, '81']\n"
            "    volumes: [./a:/a, {type: bind, source: ., target: /b, bind: {create_host_path: "
            "true}}]\n"
            "    networks:\n"
            "      front: {aliases: [w], ipv4_address: 10.0.0.2}\n"
            "      back:\n"
            "    depends_on: {db: {condition: service_healthy, restart: true}}\n"
            "    healthcheck: {test: [CMD, 'true'], interval: 10s, retries: 3}\n"
            "    labels: [a=b]\n"
            "    ulimits: {nofile: {soft: 1, hard: 2}, nproc: 10}\n"
            "    extra_hosts: {h: 1.2.3.4}\n"
            "    deploy:\n"
            "      mode: replicated\n"
            "      replicas: 2\n"
            "      placement: {constraints: [a==b]}\n"
            "      update_config: {parallelism: 1, order: start-first}\n"
            "      resources: {limits: {cpus: '0.5', memory: 50M}}\n"
            "    secrets: [s, {source: s, target: t, mode: 0440}]\n"
            "    x-extra: {anything: [1]}\n"
            "  db:\n"
            "    image: postgres\n"
            "    depends_on: [cache]\n"
            "    networks: [back]\n"
            "  cache:\n"
            "    image: redis\n"
            "    scale: '2'\n"
            "networks:\n"
            "  front:\n"
            "    ipam: {config: [{subnet: 10.0.0.0/24}]}\n"
            "  back:\n"
            "volumes:\n"
            "  data:\n"
            "  ext: {external: true}\n"
            "secrets:\n"
            "  s: {file: ./s.txt}\n";
        struct berth_err err = {};
        _cleanup_json_ json_t *w = json_array();
        ck_assert_msg(check_yaml(yaml, w, &err) == 0, "%s", err_msg(&err));
        ck_assert_uint_eq(json_array_size(w), 0);
}
END_TEST

/* Keys berth accepts but ignores are named in a warning, with their line. */
START_TEST(test_schema_warnings)
{
        struct berth_err err = {};
        _cleanup_json_ json_t *w = json_array();
        ck_assert_int_eq(check_yaml("services:\n  web:\n    image: x\n    blkio_config:\n      "
                                    "weight: 10\n    isolation: default\n",
                                    w, &err),
                         0);
        ck_assert_uint_eq(json_array_size(w), 2);
        ck_assert_str_eq(json_string_value(json_array_get(w, 0)),
                         "compose.yaml:5: services.web.blkio_config is not supported by berth and "
                         "will be ignored");
        ck_assert_str_eq(
            json_string_value(json_array_get(w, 1)),
            "compose.yaml:6: services.web.isolation is not supported by berth and will "
            "be ignored");
}
END_TEST

/* Without marks the message is the path alone; !reset values pass. */
START_TEST(test_schema_no_marks)
{
        _cleanup_json_ json_t *doc =
            parse("{\"services\": {\"web\": {\"image\": \"x\", \"ports\": [true]}}}");
        struct berth_err err = {};
        ck_assert_int_lt(compose_schema_check(doc, NULL, NULL, &err), 0);
        ck_assert_str_eq(err_msg(&err),
                         "services.web.ports[0] must be a mapping, number or string");
        _cleanup_json_ json_t *reset = json_pack("{s:{s:{s:s, s:{s:b}}}}", "services", "web",
                                                 "image", "x", "ports", COMPOSE_TAG_RESET, 1);
        struct berth_err err2 = {};
        ck_assert_msg(compose_schema_check(reset, NULL, NULL, &err2) == 0, "%s", err_msg(&err2));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-model");
        TCase *tc = tcase_create("normalize");
        tcase_add_test(tc, test_golden_basic);
        tcase_add_test(tc, test_golden_ports);
        tcase_add_test(tc, test_golden_volumes);
        tcase_add_test(tc, test_golden_environment);
        tcase_add_test(tc, test_golden_commands);
        tcase_add_test(tc, test_golden_build);
        tcase_add_test(tc, test_golden_misc);
        tcase_add_loop_test(tc, test_normalize_errors, 0,
                            (int)(sizeof(norm_errors) / sizeof(norm_errors[0])));
        tcase_add_test(tc, test_default_network_only_when_used);
        tcase_add_test(tc, test_no_path_resolution);
        tcase_add_loop_test(tc, test_mutations, 0,
                            (int)(sizeof(golden_names) / sizeof(golden_names[0])));
        suite_add_tcase(s, tc);
        TCase *to = tcase_create("order");
        tcase_add_test(to, test_order);
        tcase_add_test(to, test_order_errors);
        suite_add_tcase(s, to);
        TCase *th = tcase_create("hash");
        tcase_add_test(th, test_hash);
        tcase_add_test(th, test_hash_short_long);
        tcase_add_test(th, test_write_json);
        suite_add_tcase(s, th);
        TCase *ts = tcase_create("schema");
        tcase_add_loop_test(ts, test_schema_errors, 0,
                            (int)(sizeof(schema_errors) / sizeof(schema_errors[0])));
        tcase_add_test(ts, test_schema_valid);
        tcase_add_test(ts, test_schema_warnings);
        tcase_add_test(ts, test_schema_no_marks);
        suite_add_tcase(s, ts);
        return s;
}

BERTH_CHECK_MAIN(suite)
