/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose up's decisions without a daemon (compose-up.c compiled in,
 * what it calls outside stubbed): keep / recreate (and why) / create per
 * container from the labels, the scale's extras, orphans, the one-off's
 * --entrypoint words and -p specs, the depends_on label, IPAM bodies. */
#include "check-main.h"

#include "compose-up.c"

/* --- the rest of the CLI, stubbed: the decisions never reach them -------- */
char *cli_escape(const char *s)
{
        return xstrdup(s);
}
int cli_connect(struct cli *cli, struct berth_err *err)
{
        (void)cli, (void)err;
        return 0;
}
int cli_fail(const struct berth_err *err)
{
        (void)err;
        return 1;
}
int cli_pull_image(struct cli *cli, const char *name, const char *platform, struct berth_err *err)
{
        (void)cli, (void)name, (void)platform;
        return err_set(err, -ENOTSUP, "stub");
}
int cli_parse(const struct cli_command *cmd, const char *path, int argc, char **argv,
              struct cli_args *a)
{
        (void)cmd, (void)path, (void)argc, (void)argv, (void)a;
        return -EINVAL;
}
void cli_args_done(struct cli_args *a)
{
        (void)a;
}
bool cli_flag(struct cli_args *a, const char *name)
{
        (void)a, (void)name;
        return false;
}
const char *cli_str(struct cli_args *a, const char *name)
{
        (void)a, (void)name;
        return NULL;
}
char **cli_list(struct cli_args *a, const char *name)
{
        (void)a, (void)name;
        return NULL;
}
json_t *cli_kv_object(char **list, bool need_eq, const char **ret_bad)
{
        (void)list, (void)need_eq, (void)ret_bad;
        return json_object();
}
int cli_cmd_start(struct cli *cli, struct cli_args *a)
{
        (void)cli, (void)a;
        return 1;
}
const struct cli_opt cli_start_opts[] = {{0}};
int compose_build_services(struct compose_cli *cc, char **services, bool quiet,
                           struct berth_err *err)
{
        (void)cc, (void)services, (void)quiet;
        return err_set(err, -ENOTSUP, "stub");
}
struct compose_cli *compose_cli(struct cli *cli)
{
        (void)cli;
        return NULL;
}
int compose_project(struct compose_cli *cc, struct compose_project **ret, struct berth_err *err)
{
        (void)cc, (void)ret;
        return err_set(err, -ENOTSUP, "stub");
}
int compose_project_name(struct compose_cli *cc, const char **ret, struct berth_err *err)
{
        (void)cc, (void)ret;
        return err_set(err, -ENOTSUP, "stub");
}
int compose_containers(struct compose_cli *cc, const char *service, bool all, bool oneoff,
                       json_t **ret, struct berth_err *err)
{
        (void)cc, (void)service, (void)all, (void)oneoff, (void)ret;
        return err_set(err, -ENOTSUP, "stub");
}
char *compose_container_name(struct compose_cli *cc, const char *project, const char *service,
                             int number)
{
        (void)cc;
        return xasprintf("%s-%s-%d", project, service, number);
}
int compose_logs_open(struct compose_cli *cc, const struct compose_logs_opts *o,
                      struct compose_logs **ret, struct berth_err *err)
{
        (void)cc, (void)o, (void)ret;
        return err_set(err, -ENOTSUP, "stub");
}
int compose_logs_add(struct compose_logs *l, const json_t *container, struct berth_err *err)
{
        (void)l, (void)container, (void)err;
        return 0;
}
void compose_logs_wait(struct compose_logs *l)
{
        (void)l;
}
void compose_logs_close(struct compose_logs *l)
{
        (void)l;
}
int compose_service_body(struct compose_cli *cc, const struct compose_service_args *sa,
                         json_t **ret_body, struct berth_err *err)
{
        (void)cc, (void)sa, (void)ret_body;
        return err_set(err, -ENOTSUP, "stub");
}
int compose_service_networks(struct compose_cli *cc, const struct compose_service_args *sa,
                             const char *container_name, json_t **ret, struct berth_err *err)
{
        (void)cc, (void)sa, (void)container_name, (void)err;
        *ret = json_array();
        return 0;
}
int compose_service_copy_files(struct compose_cli *cc, const struct compose_service_args *sa,
                               const char *container_id, struct berth_err *err)
{
        (void)cc, (void)sa, (void)container_id, (void)err;
        return 0;
}
int compose_service_resolved_hash(struct compose_cli *cc, const struct compose_service_args *sa,
                                  char hex[65], struct berth_err *err)
{
        (void)cc, (void)sa, (void)err;
        hex[0] = 0;
        return 0;
}
char *compose_service_image(struct compose_cli *cc, const struct compose_project *p,
                            const char *service)
{
        (void)cc, (void)p;
        return xstrdup(service);
}
const struct cli_command cli_compose_sub[] = {{0}};

/* --- fixtures -------------------------------------------------------------- */

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

/* A /containers/json entry of project p. */
static json_t *summary(const char *service, int number, const char *hash, const char *image,
                       const char *state, bool oneoff)
{
        json_t *l = json_pack("{s:s,s:s,s:s}", LABEL_PROJECT, "p", LABEL_SERVICE, service,
                              LABEL_ONEOFF, oneoff ? "True" : "False");
        if (number)
                json_object_set_new(l, LABEL_NUMBER, json_sprintf("%d", number));
        if (hash)
                json_object_set_new(l, LABEL_HASH, json_string(hash));
        if (image)
                json_object_set_new(l, LABEL_IMAGE, json_string(image));
        return json_pack("{s:s,s:[s],s:s,s:o}", "Id",
                         oneoff ? "ffff000000000000" : "aaaa000000000000", "Names",
                         oneoff ? "/p-web-run-1" : "/p-web-x", "State", state, "Labels", l);
}

static struct compose_cli cc;
static struct compose_project proj;

static void up_init(struct up *u, json_t *observed)
{
        *u = (struct up){.cc = &cc, .p = &proj, .observed = observed, .timeout = -1};
        pthread_mutex_init(&u->cr.lock, NULL);
        u->cr.containers = json_array();
        u->cr.networks = json_array();
        u->cr.volumes = json_array();
        u->scale = json_object();
}

static struct svc *svc_new(struct up *u, const char *name, int scale, const char *hash,
                           const char *image_id)
{
        struct svc *s = xzalloc(sizeof(*s));
        s->name = name;
        s->config = json_object_get(json_object_get(proj.model, "services"), name);
        s->scale = scale;
        s->selected = true;
        snprintf(s->hash, sizeof(s->hash), "%s", hash);
        s->image_id = image_id ? xstrdup(image_id) : NULL;
        u->svcs = xrealloc(u->svcs, (u->n_svcs + 1) * sizeof(*u->svcs));
        u->svcs[u->n_svcs++] = s;
        return s;
}

static void setup(void)
{
        proj = (struct compose_project){
            .name = xstrdup("p"),
            .model = json_pack("{s:{s:{s:s},s:{s:s}}}", "services", "web", "image", "busybox", "db",
                               "image", "busybox"),
            .disabled = json_pack("{s:{}}", "debug"),
        };
}

static void teardown(void)
{
        free(proj.name);
        json_decref(proj.model);
        json_decref(proj.disabled);
}

/* --- the decisions ------------------------------------------------------------ */

START_TEST(keep_recreate_create)
{
        struct up u;
        up_init(&u, json_pack("[o,o,o]", summary("web", 1, H1, "sha256:img", "running", false),
                              summary("web", 2, H2, "sha256:img", "exited", false),
                              summary("web", 3, H1, "sha256:old", "running", false)));
        struct svc *s = svc_new(&u, "web", 5, H1, "sha256:img");
        plan_service(&u, s);
        ck_assert_uint_eq(s->n_ctrs, 5);
        ck_assert_int_eq(s->ctrs[0]->act, ACT_KEEP);
        ck_assert(s->ctrs[0]->running);
        ck_assert_int_eq(s->ctrs[1]->act, ACT_RECREATE);
        ck_assert_ptr_nonnull(strstr(s->ctrs[1]->reason, "config hash differs"));
        ck_assert_int_eq(s->ctrs[2]->act, ACT_RECREATE);
        ck_assert_ptr_nonnull(strstr(s->ctrs[2]->reason, "image changed"));
        /* the missing numbers, named as compose names them */
        ck_assert_int_eq(s->ctrs[3]->act, ACT_CREATE);
        ck_assert_int_eq(s->ctrs[3]->number, 4);
        ck_assert_str_eq(s->ctrs[3]->name, "p-web-4");
        ck_assert_int_eq(s->ctrs[4]->number, 5);
        ck_assert_uint_eq(json_array_size(s->extras), 0);
        up_done(&u);
}
END_TEST

START_TEST(no_recreate_and_force)
{
        struct up u;
        up_init(&u, json_pack("[o]", summary("web", 1, H2, "sha256:img", "running", false)));
        u.no_recreate = true;
        struct svc *s = svc_new(&u, "web", 1, H1, "sha256:img");
        plan_service(&u, s);
        ck_assert_int_eq(s->ctrs[0]->act, ACT_KEEP);
        up_done(&u);

        up_init(&u, json_pack("[o]", summary("web", 1, H1, "sha256:img", "running", false)));
        u.force_recreate = true;
        s = svc_new(&u, "web", 1, H1, "sha256:img");
        plan_service(&u, s);
        ck_assert_int_eq(s->ctrs[0]->act, ACT_RECREATE);
        ck_assert_str_eq(s->ctrs[0]->reason, "--force-recreate");
        up_done(&u);

        /* forcing one service leaves its dependencies alone */
        up_init(&u, json_pack("[o]", summary("web", 1, H1, "sha256:img", "running", false)));
        u.force_recreate = true;
        s = svc_new(&u, "web", 1, H1, "sha256:img");
        s->selected = false;
        plan_service(&u, s);
        ck_assert_int_eq(s->ctrs[0]->act, ACT_KEEP);
        up_done(&u);
}
END_TEST

START_TEST(scale_down_and_oneoffs)
{
        struct up u;
        up_init(&u, json_pack("[o,o,o,o]", summary("web", 3, H1, NULL, "running", false),
                              summary("web", 1, H1, NULL, "running", false),
                              summary("web", 2, H1, NULL, "running", false),
                              summary("web", 0, H1, NULL, "exited", true)));
        struct svc *s = svc_new(&u, "web", 1, H1, NULL);
        plan_service(&u, s);
        /* number 1 kept, 2 and 3 are the extras; the one-off is no replica */
        ck_assert_uint_eq(s->n_ctrs, 1);
        ck_assert_int_eq(s->ctrs[0]->number, 1);
        ck_assert_uint_eq(json_array_size(s->extras), 2);
        ck_assert_str_eq(label_of(json_array_get(s->extras, 0), LABEL_NUMBER), "2");
        ck_assert_str_eq(label_of(json_array_get(s->extras, 1), LABEL_NUMBER), "3");
        up_done(&u);
}
END_TEST

START_TEST(orphans)
{
        json_auto_t *gone = summary("gone", 1, H1, NULL, "running", false);
        json_auto_t *web = summary("web", 1, H1, NULL, "running", false);
        json_auto_t *debug = summary("debug", 1, H1, NULL, "running", false);
        json_auto_t *run_exited = summary("web", 0, H1, NULL, "exited", true);
        json_auto_t *run_running = summary("web", 0, H1, NULL, "running", true);
        ck_assert(is_orphan(&proj, gone));
        ck_assert(!is_orphan(&proj, web));
        ck_assert(!is_orphan(&proj, debug)); /* disabled by a profile */
        ck_assert(is_orphan(&proj, run_exited));
        ck_assert(!is_orphan(&proj, run_running));
}
END_TEST

/* --- the small parsers ---------------------------------------------------------- */

START_TEST(entrypoint_words)
{
        json_auto_t *w = shell_split("sh -c 'echo a  b' \"x\\\"y\" z\\ w");
        json_auto_t *want = json_pack("[s,s,s,s,s]", "sh", "-c", "echo a  b", "x\"y", "z w");
        ck_assert(json_equal(w, want));
        json_auto_t *empty = shell_split("  ");
        ck_assert_uint_eq(json_array_size(empty), 0);
}
END_TEST

START_TEST(publish_specs)
{
        json_auto_t *b = json_object();
        ck_assert_int_eq(publish_port(b, "127.0.0.1:8080:80"), 0);
        ck_assert_int_eq(publish_port(b, "9090:90/udp"), 0);
        ck_assert_int_eq(publish_port(b, "7000"), 0);
        ck_assert_int_eq(publish_port(b, ""), -EINVAL);
        json_auto_t *want =
            json_pack("{s:[{s:s,s:s}],s:[{s:s,s:s}],s:[{s:s,s:s}]}", "80/tcp", "HostIp",
                      "127.0.0.1", "HostPort", "8080", "90/udp", "HostIp", "", "HostPort", "9090",
                      "7000/tcp", "HostIp", "", "HostPort", "");
        ck_assert(
            json_equal(json_object_get(json_object_get(b, "HostConfig"), "PortBindings"), want));
        ck_assert_ptr_nonnull(json_object_get(json_object_get(b, "ExposedPorts"), "90/udp"));
}
END_TEST

START_TEST(depends_on_label)
{
        _cleanup_strv_ char **d =
            depends_label("db:service_healthy:false,cache:service_started:true");
        ck_assert_uint_eq(strv_length(d), 2);
        ck_assert_str_eq(d[0], "db");
        ck_assert_str_eq(d[1], "cache");
        _cleanup_strv_ char **none = depends_label(NULL);
        ck_assert_ptr_null(none);
}
END_TEST

START_TEST(ipam)
{
        json_auto_t *in = json_pack("{s:s,s:[{s:s,s:s}]}", "driver", "default", "config", "subnet",
                                    "10.5.0.0/24", "gateway", "10.5.0.1");
        json_auto_t *out = ipam_body(in);
        json_auto_t *want = json_pack("{s:s,s:{},s:[{s:s,s:s}]}", "Driver", "default", "Options",
                                      "Config", "Subnet", "10.5.0.0/24", "Gateway", "10.5.0.1");
        ck_assert(json_equal(out, want));
        ck_assert(hex64(H1));
        ck_assert(!hex64("data"));
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-up");
        TCase *t = tcase_create("plan");
        tcase_add_checked_fixture(t, setup, teardown);
        tcase_add_test(t, keep_recreate_create);
        tcase_add_test(t, no_recreate_and_force);
        tcase_add_test(t, scale_down_and_oneoffs);
        tcase_add_test(t, orphans);
        suite_add_tcase(s, t);
        TCase *p = tcase_create("parsers");
        tcase_add_test(p, entrypoint_words);
        tcase_add_test(p, publish_specs);
        tcase_add_test(p, depends_on_label);
        tcase_add_test(p, ipam);
        suite_add_tcase(s, p);
        return s;
}

BERTH_CHECK_MAIN(suite)
