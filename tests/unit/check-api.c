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
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
