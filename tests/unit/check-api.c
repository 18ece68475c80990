/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Routing rules of the Engine API (docker-api.md §1). */
#include "check-main.h"
#include "api/api.h"
#include "base/filters.h"

static int matches(const char *pattern, const char *path, char **out)
{
        char *params[API_MAX_PARAMS] = {0};
        size_t n = 0;
        bool ok = api_route_match(pattern, path, params, &n);
        char buf[512] = "";
        for (size_t i = 0; i < n; i++) {
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof(buf) - l, "%s%s", i ? "|" : "", params[i]);
                free(params[i]);
        }
        *out = xstrdup(buf);
        return ok;
}

START_TEST(test_plain)
{
        char *p = NULL;
        ck_assert(matches("/_ping", "/_ping", &p));
        free(p);
        ck_assert(matches("/_ping", "/_ping/", &p)); /* trailing slash tolerated */
        free(p);
        ck_assert(!matches("/_ping", "/_pingx", &p));
        free(p);
        ck_assert(!matches("/info", "/version", &p));
        free(p);
        ck_assert(matches("/containers/{id}/json", "/containers/abc/json", &p));
        ck_assert_str_eq(p, "abc");
        free(p);
        ck_assert(!matches("/containers/{id}/json", "/containers//json", &p));
        free(p);
}
END_TEST

START_TEST(test_image_names_with_slashes)
{
        char *p = NULL;
        ck_assert(
            matches("/images/{name*}/json", "/images/docker.io/library/busybox:latest/json", &p));
        ck_assert_str_eq(p, "docker.io/library/busybox:latest");
        free(p);
        ck_assert(matches("/images/{name*}/push", "/images/localhost:5000/a/b/push", &p));
        ck_assert_str_eq(p, "localhost:5000/a/b");
        free(p);
        ck_assert(matches("/images/{name*}", "/images/myrepo/bb:v1", &p));
        ck_assert_str_eq(p, "myrepo/bb:v1");
        free(p);
        /* an image literally named "json" */
        ck_assert(matches("/images/{name*}/json", "/images/json/json", &p));
        ck_assert_str_eq(p, "json");
        free(p);
        ck_assert(!matches("/images/{name*}/json", "/images/json", &p));
        free(p);
}
END_TEST

START_TEST(test_versions)
{
        ck_assert_int_eq(api_version_cmp("1.41", "1.41"), 0);
        ck_assert_int_lt(api_version_cmp("1.9", "1.24"), 0);
        ck_assert_int_gt(api_version_cmp("1.50", "1.41"), 0);
        ck_assert_int_gt(api_version_cmp("2.0", "1.99"), 0);
        ck_assert_int_lt(api_version_cmp("1", "1.1"), 0);
}
END_TEST

START_TEST(test_status_map)
{
        ck_assert_uint_eq(api_status_for(-ENOENT), 404);
        ck_assert_uint_eq(api_status_for(-EEXIST), 409);
        ck_assert_uint_eq(api_status_for(-EINVAL), 400);
        ck_assert_uint_eq(api_status_for(-EACCES), 403);
        ck_assert_uint_eq(api_status_for(-EIO), 500);
}
END_TEST

START_TEST(test_filters_both_encodings)
{
        static const char *const allowed[] = {"label", "status", "dangling", NULL};
        struct berth_err err = {0};
        json_t *go = NULL, *py = NULL;
        ck_assert_int_eq(
            filters_parse("{\"label\":{\"a=b\":true,\"c\":true},\"status\":{\"exited\":true}}",
                          allowed, &go, &err),
            0);
        ck_assert_int_eq(filters_parse("{\"label\":[\"a=b\",\"c\"],\"status\":[\"exited\"]}",
                                       allowed, &py, &err),
                         0);
        ck_assert(json_equal(go, py));
        json_t *labels = json_pack("{s:s, s:s}", "a", "b", "c", "");
        ck_assert(filters_match_labels(go, "label", labels));
        json_object_set_new(labels, "a", json_string("x"));
        ck_assert(!filters_match_labels(go, "label", labels));
        ck_assert(filters_match_exact(go, "status", "exited"));
        ck_assert(!filters_match_exact(go, "status", "running"));
        ck_assert(filters_match_exact(go, "name", "anything")); /* absent key matches */
        json_decref(labels);
        json_decref(go);
        json_decref(py);

        json_t *f = NULL;
        ck_assert_int_eq(filters_parse("{\"colour\":[\"red\"]}", allowed, &f, &err), -EINVAL);
        ck_assert_str_eq(err.msg, "invalid filter 'colour'");
        json_decref(f);
        ck_assert_int_eq(filters_parse("not json", allowed, &f, &err), -EINVAL);
        json_decref(f);
        ck_assert_int_eq(filters_parse("", allowed, &f, &err), 0);
        ck_assert_int_eq(json_object_size(f), 0);
        json_decref(f);
        ck_assert_int_eq(filters_parse("{\"dangling\":[\"true\"]}", allowed, &f, &err), 0);
        ck_assert_int_eq(filters_bool(f, "dangling", &err), 1);
        ck_assert_int_eq(filters_bool(f, "label", &err), -1);
        json_decref(f);
        ck_assert_int_eq(filters_parse("{\"dangling\":[\"maybe\"]}", allowed, &f, &err), 0);
        ck_assert_int_eq(filters_bool(f, "dangling", &err), -EINVAL);
        json_decref(f);

        /* what moby refuses: a bare string, a map of non-booleans, numbers */
        static const char *const refused[] = {"{\"label\":\"a=b\"}", "{\"label\":{\"a\":\"yes\"}}",
                                              "{\"label\":[5]}", "{\"label\":5}"};
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                ck_assert_int_eq(filters_parse(refused[i], allowed, &f, &err), -EINVAL);
                ck_assert(startswith(err.msg, "invalid filter 'label'"));
                json_decref(f);
        }
        /* null: no values, as in Docker */
        ck_assert_int_eq(filters_parse("{\"label\":null}", allowed, &f, &err), 0);
        ck_assert(!filters_has(f, "label"));
        json_decref(f);
}
END_TEST

/* api_validate() against the texts dockerd 20.10 gives for the same bodies. */
static void refused(const struct api_schema *s, const char *body, const char *msg)
{
        json_error_t je;
        json_t *j = json_loads(body, JSON_DECODE_ANY, &je);
        ck_assert_msg(j, "bad test JSON: %s", body);
        struct berth_err err = {0};
        ck_assert_msg(api_validate(s, j, &err) == -EINVAL, "accepted: %s", body);
        ck_assert_str_eq(err.msg, msg);
        json_decref(j);
}

static json_t *accepted(const struct api_schema *s, const char *body)
{
        json_error_t je;
        json_t *j = json_loads(body, 0, &je);
        ck_assert_msg(j, "bad test JSON: %s", body);
        struct berth_err err = {0};
        ck_assert_msg(api_validate(s, j, &err) == 0, "%s: %s", body, err.msg);
        return j;
}

START_TEST(test_validate_bodies)
{
        const struct api_schema *c = &api_schema_container_create;
#define GO "json: cannot unmarshal "
        refused(c, "[]", GO "array into Go value of type runconfig.ContainerConfigWrapper");
        refused(c, "{\"Env\":\"A=1\"}",
                GO "string into Go struct field ContainerConfigWrapper.Env of type []string");
        refused(c, "{\"Env\":[1]}",
                GO "number into Go struct field ContainerConfigWrapper.Env of type string");
        refused(c, "{\"Cmd\":[1]}",
                GO "array into Go struct field ContainerConfigWrapper.Cmd of type string");
        refused(c, "{\"Labels\":{\"a\":1}}",
                GO "number into Go struct field ContainerConfigWrapper.Labels of type string");
        refused(c, "{\"Volumes\":{\"/a\":1}}",
                GO "number into Go struct field ContainerConfigWrapper.Volumes of type struct {}");
        refused(c, "{\"HostConfig\":5}",
                GO "number into Go struct field ContainerConfigWrapper.HostConfig of type "
                   "container.HostConfig");
        refused(c, "{\"HostConfig\":{\"CapDrop\":5}}",
                GO "number into Go struct field HostConfig.HostConfig.CapDrop of type string");
        refused(c, "{\"HostConfig\":{\"Memory\":\"64m\"}}",
                GO "string into Go struct field HostConfig.HostConfig.Memory of type int64");
        refused(c, "{\"HostConfig\":{\"Memory\":1.5}}",
                GO "number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64");
        refused(c, "{\"HostConfig\":{\"Memory\":1e30}}",
                GO "number 1e30 into Go struct field HostConfig.HostConfig.Memory of type int64");
        refused(c, "{\"HostConfig\":{\"BlkioWeight\":70000}}",
                GO "number 70000 into Go struct field HostConfig.HostConfig.BlkioWeight of type "
                   "uint16");
        refused(c, "{\"HostConfig\":{\"Privileged\":\"yes\"}}",
                GO "string into Go struct field HostConfig.HostConfig.Privileged of type bool");
        refused(c, "{\"HostConfig\":{\"Binds\":\"/a:/b\"}}",
                GO "string into Go struct field HostConfig.HostConfig.Binds of type []string");
        refused(c, "{\"HostConfig\":{\"PortBindings\":{\"80/tcp\":\"8080\"}}}",
                GO "string into Go struct field HostConfig.HostConfig.PortBindings of type "
                   "[]nat.PortBinding");
        refused(c, "{\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":8080}]}}}",
                GO "number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of "
                   "type string");
        refused(c, "{\"HostConfig\":{\"RestartPolicy\":\"always\"}}",
                GO "string into Go struct field HostConfig.HostConfig.RestartPolicy of type "
                   "container.RestartPolicy");
        refused(c, "{\"HostConfig\":{\"Mounts\":[{\"TmpfsOptions\":{\"SizeBytes\":\"1\"}}]}}",
                GO "string into Go struct field TmpfsOptions.HostConfig.Mounts.TmpfsOptions."
                   "SizeBytes of type int64");
        refused(c, "{\"NetworkingConfig\":{\"EndpointsConfig\":{\"n\":{\"Aliases\":\"a\"}}}}",
                GO "string into Go struct field EndpointSettings.NetworkingConfig."
                   "EndpointsConfig.Aliases of type []string");
        /* the first error in the document's order wins, as in Go */
        refused(c, "{\"Tty\":1,\"Env\":5}",
                GO "number into Go struct field ContainerConfigWrapper.Tty of type bool");

        /* what Go takes: null, unknown keys, StrSlice strings (made lists),
         * null in lists and maps of strings (made "") */
        json_t *j = accepted(c, "{\"Image\":null,\"Frobnicate\":[1],\"Cmd\":\"ls -l\","
                                "\"Env\":[\"A=1\",null],\"Labels\":{\"a\":null},"
                                "\"HostConfig\":{\"CapDrop\":\"ALL\",\"Memory\":null}}");
        json_t *want = json_loads("{\"Image\":null,\"Frobnicate\":[1],\"Cmd\":[\"ls -l\"],"
                                  "\"Env\":[\"A=1\",\"\"],\"Labels\":{\"a\":\"\"},"
                                  "\"HostConfig\":{\"CapDrop\":[\"ALL\"],\"Memory\":null}}",
                                  0, NULL);
        ck_assert(json_equal(j, want));
        json_decref(j);
        json_decref(want);

        refused(&api_schema_container_update, "{\"PidsLimit\":true}",
                GO "bool into Go struct field UpdateConfig.PidsLimit of type int64");
        refused(&api_schema_exec_create, "{\"Cmd\":\"ls\"}",
                GO "string into Go struct field ExecConfig.Cmd of type []string");
        refused(&api_schema_exec_create, "{\"Cmd\":[\"ls\",1]}",
                GO "number into Go struct field ExecConfig.Cmd of type string");
        refused(&api_schema_network_create, "{\"IPAM\":{\"Config\":{}}}",
                GO "object into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig");
        refused(&api_schema_network_create, "{\"Internal\":\"yes\"}",
                GO "string into Go struct field NetworkCreateRequest.Internal of type bool");
        refused(&api_schema_volume_create, "\"x\"",
                GO "string into Go value of type volume.VolumeCreateBody");
        refused(&api_schema_volume_create, "{\"DriverOpts\":{\"a\":1}}",
                GO "number into Go struct field VolumeCreateBody.DriverOpts of type string");
#undef GO
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("api");
        TCase *tc = tcase_create("router");
        tcase_add_test(tc, test_plain);
        tcase_add_test(tc, test_image_names_with_slashes);
        tcase_add_test(tc, test_versions);
        tcase_add_test(tc, test_status_map);
        tcase_add_test(tc, test_filters_both_encodings);
        tcase_add_test(tc, test_validate_bodies);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
