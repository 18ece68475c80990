/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry client's parsers of outside input: X-Registry-Auth and
 * config.json credentials, server names, WWW-Authenticate challenges,
 * registry error bodies; and the progress messages it sends. */
#include "check-main.h"

#include "registry/registry-internal.h"
#include "registry/registry-proto.h"

#include <sys/stat.h>

START_TEST(test_auth_roundtrip)
{
        _cleanup_free_ char *h = registry_auth_encode("alice", "p@ss:w/rd+", "127.0.0.1:5000");
        ck_assert_ptr_null(strchr(h, '+'));
        ck_assert_ptr_null(strchr(h, '/'));
        struct registry_auth a;
        ck_assert_int_eq(registry_auth_decode(h, &a, NULL), 0);
        ck_assert_str_eq(a.username, "alice");
        ck_assert_str_eq(a.password, "p@ss:w/rd+");
        ck_assert_str_eq(a.serveraddress, "127.0.0.1:5000");
        registry_auth_done(&a);
        /* unpadded, as the docker CLI sends it */
        _cleanup_free_ char *nopad = xstrdup(h);
        nopad[strcspn(nopad, "=")] = '\0';
        ck_assert_int_eq(registry_auth_decode(nopad, &a, NULL), 0);
        ck_assert_str_eq(a.username, "alice");
        registry_auth_done(&a);
        /* empty: no credentials; "{}" (what docker sends anonymously) too */
        ck_assert_int_eq(registry_auth_decode("", &a, NULL), 0);
        ck_assert_ptr_null(a.username);
        ck_assert_int_eq(registry_auth_decode("e30=", &a, NULL), 0);
        ck_assert_ptr_null(a.username);
        struct berth_err err = {0};
        ck_assert_int_eq(registry_auth_decode("!!!not base64", &a, &err), -EINVAL);
        ck_assert_int_eq(registry_auth_decode("bm90IGpzb24", &a, &err), -EINVAL);
}
END_TEST

START_TEST(test_config_auth)
{
        /* config.json's {"auth": base64("user:password")} */
        json_t *j = json_pack("{s:s}", "auth", "Ym9iOnNlY3JldDp3aXRoOmNvbG9ucw==");
        struct registry_auth a;
        ck_assert_int_eq(registry_auth_from_json(j, &a, NULL), 0);
        ck_assert_str_eq(a.username, "bob");
        ck_assert_str_eq(a.password, "secret:with:colons");
        registry_auth_done(&a);
        json_decref(j);
        j = json_pack("{s:s}", "auth", "bm9jb2xvbg==");
        ck_assert_int_eq(registry_auth_from_json(j, &a, NULL), 0);
        ck_assert_ptr_null(a.username);
        registry_auth_done(&a);
        json_decref(j);
}
END_TEST

START_TEST(test_server_name)
{
        const char *cases[][2] = {
            {"https://index.docker.io/v1/", "docker.io"},    {"docker.io", "docker.io"},
            {"registry-1.docker.io", "docker.io"},           {"localhost:5000", "localhost:5000"},
            {"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"}, {"", "docker.io"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = registry_server_name(cases[i][0]);
                ck_assert_str_eq(n, cases[i][1]);
        }
}
END_TEST

START_TEST(test_challenge)
{
        const char *ch = "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                         "scope=\"repository:a/b:pull,push\"";
        _cleanup_free_ char *realm = reg_challenge_param(ch, "realm");
        _cleanup_free_ char *service = reg_challenge_param(ch, "service");
        _cleanup_free_ char *scope = reg_challenge_param(ch, "scope");
        _cleanup_free_ char *none = reg_challenge_param(ch, "error");
        ck_assert_str_eq(realm, "https://auth.example/token");
        ck_assert_str_eq(service, "registry.example");
        ck_assert_str_eq(scope, "repository:a/b:pull,push");
        ck_assert_ptr_null(none);
        _cleanup_free_ char *bare = reg_challenge_param("Basic realm=x", "realm");
        ck_assert_str_eq(bare, "x");
        /* "service" inside another value is not the parameter */
        _cleanup_free_ char *inner =
            reg_challenge_param("Bearer realm=\"a,xservice=b\"", "service");
        ck_assert_ptr_null(inner);
        _cleanup_free_ char *open = reg_challenge_param("Bearer realm=\"unterminated", "realm");
        ck_assert_str_eq(open, "unterminated");
        /* nor is one after a comma inside a quoted value */
        const char *q = "Bearer realm=\"https://auth.example/t?a=1,service=evil, scope=x\","
                        "service=\"real\"";
        _cleanup_free_ char *real = reg_challenge_param(q, "service");
        _cleanup_free_ char *noscope = reg_challenge_param(q, "scope");
        _cleanup_free_ char *qrealm = reg_challenge_param(q, "realm");
        ck_assert_str_eq(real, "real");
        ck_assert_ptr_null(noscope);
        ck_assert_str_eq(qrealm, "https://auth.example/t?a=1,service=evil, scope=x");
        /* quoted-pairs, keys in any case, spaces around the pairs */
        _cleanup_free_ char *esc = reg_challenge_param(
            "Bearer  Realm=\"a\\\"b\\\\c\" , error=insufficient_scope", "realm");
        ck_assert_str_eq(esc, "a\"b\\c");
        _cleanup_free_ char *err2 = reg_challenge_param(
            "Bearer  Realm=\"a\\\"b\\\\c\" , error=insufficient_scope", "error");
        ck_assert_str_eq(err2, "insufficient_scope");
}
END_TEST

START_TEST(test_http_error)
{
        struct berth_err err = {0};
        struct reg_resp r = {.status = 404};
        r.body = xstrdup("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                         "unknown\",\"detail\":{}}]}");
        r.len = strlen(r.body);
        ck_assert_int_eq(reg_http_error(&r, "manifest for x not found", &err), -ENOENT);
        ck_assert_str_eq(err.msg, "manifest for x not found: manifest unknown: manifest unknown");
        free(r.body);
        r = (struct reg_resp){.status = 401};
        ck_assert_int_eq(reg_http_error(&r, NULL, &err), -EACCES);
        ck_assert_str_eq(err.msg, "unauthorized: authentication required");
        r.body = xstrdup("{\"details\":\"invalid username or password\"}");
        r.len = strlen(r.body);
        ck_assert_int_eq(reg_http_error(&r, NULL, &err), -EACCES);
        ck_assert_str_eq(err.msg, "unauthorized: invalid username or password");
        free(r.body);
        r = (struct reg_resp){.status = 502, .body = xstrdup("Bad Gateway\r\nmore"), .len = 17};
        ck_assert_int_eq(reg_http_error(&r, NULL, &err), -EIO);
        ck_assert_str_eq(err.msg, "HTTP 502: Bad Gateway");
        free(r.body);
        /* garbage of every length must not crash */
        char buf[64];
        for (int i = 0; i < 2000; i++) {
                size_t n = (size_t)(i % 63);
                for (size_t k = 0; k < n; k++)
                        buf[k] = "{}[]\":,errors code message 0123"[(i * 7 + k * 13) % 32];
                buf[n] = '\0';
                r = (struct reg_resp){.status = 400 + i % 200, .body = buf, .len = n};
                reg_http_error(&r, NULL, &err);
                struct registry_auth a;
                if (registry_auth_decode(buf, &a, NULL) == 0)
                        registry_auth_done(&a);
                free(reg_challenge_param(buf, "realm"));
        }
}
END_TEST

START_TEST(test_progress)
{
        json_t *m = reg_progress("abc", "Downloading", 500, 1000);
        ck_assert_str_eq(json_get_str(m, "status", ""), "Downloading");
        ck_assert_str_eq(json_get_str(m, "id", ""), "abc");
        json_t *d = json_object_get(m, "progressDetail");
        ck_assert_int_eq(json_get_int(d, "current", 0), 500);
        ck_assert_int_eq(json_get_int(d, "total", 0), 1000);
        ck_assert_ptr_nonnull(strstr(json_get_str(m, "progress", ""), "500B/1kB"));
        json_decref(m);
        m = reg_progress("abc", "Pull complete", -1, -1);
        ck_assert_int_eq(json_object_size(json_object_get(m, "progressDetail")), 0);
        ck_assert_ptr_null(json_object_get(m, "progress"));
        json_decref(m);
        char id[13];
        reg_short_id("sha256:0123456789abcdef0123", id);
        ck_assert_str_eq(id, "0123456789ab");
}
END_TEST

static int collect(void *ud, json_t *msg)
{
        json_array_append_new(ud, msg);
        return 0;
}

static int client_gone(void *ud, json_t *msg)
{
        json_decref(msg);
        return -EPIPE;
}

/* --- berthd's side of the helper protocol, against stand-in helpers ---- */

/* Run a shell script as the helper (no image store): its result. Progress
 * goes into the array `progress`, or to a client that went away (GONE). */
#define GONE ((json_t *)1)
static int run_script(const char *body, json_t **ret_done, json_t *progress, struct berth_err *err)
{
        char dir[] = "/tmp/berth-check-registry.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/helper", dir);
        _cleanup_free_ char *text = xasprintf("#!/bin/sh\nread -r req <&3\n%s\n", body);
        ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0755), 0);
        json_t *req = json_pack("{s:s, s:{s:s}}", "op", "login", "auth", "password", "s3cret");
        registry_progress_fn fn = progress == GONE ? client_gone : progress ? collect : NULL;
        int r = registry_helper_run(path, NULL, req, 5, fn, progress, ret_done, err);
        json_decref(req);
        unlink(path);
        rmdir(dir);
        return r;
}

START_TEST(test_helper_protocol)
{
        struct berth_err err = {0};
        json_t *done = NULL;
        json_t *progress = json_array();
        /* the request arrives on fd 3 (not in argv or the environment);
         * progress passes through unchanged */
        ck_assert_int_eq(run_script("echo '{\"progress\":{\"status\":\"x\",\"id\":\"y\"}}' >&3\n"
                                    "echo '{\"alive\":true}' >&3\n"
                                    "printf '{\"done\":%s}\\n' \"$req\" >&3",
                                    &done, progress, &err),
                         0);
        ck_assert_str_eq(json_get_str(done, "op", ""), "login");
        ck_assert_str_eq(json_get_str(json_object_get(done, "auth"), "password", ""), "s3cret");
        ck_assert_int_eq(json_array_size(progress), 1);
        ck_assert_str_eq(json_get_str(json_array_get(progress, 0), "id", ""), "y");
        json_decref(done);
        json_decref(progress);
        /* an error the helper reports keeps its code */
        ck_assert_int_eq(run_script("echo '{\"error\":{\"code\":-2,\"message\":\"manifest "
                                    "unknown\"}}' >&3",
                                    NULL, NULL, &err),
                         -ENOENT);
        ck_assert_str_eq(err_msg(&err), "manifest unknown");
}
END_TEST

START_TEST(test_helper_failures)
{
        struct berth_err err = {0};
        int64_t t0 = monotonic_ns();
        /* malformed or unknown messages end the helper (it would sleep on) */
        ck_assert_int_eq(run_script("echo 'not json' >&3\nexec sleep 30", NULL, NULL, &err),
                         -EBADMSG);
        ck_assert_ptr_nonnull(strstr(err_msg(&err), "registry helper"));
        ck_assert_int_eq(run_script("echo '{\"what\":1}' >&3\nexec sleep 30", NULL, NULL, &err),
                         -EPROTO);
        ck_assert_ptr_nonnull(strstr(err_msg(&err), "unknown message"));
        /* a store call where there is no store */
        ck_assert_int_eq(
            run_script("echo '{\"call\":\"txn_begin\"}' >&3\nexec sleep 30", NULL, NULL, &err),
            -EPROTO);
        ck_assert(monotonic_ns() - t0 < 20000000000LL);
        /* a client that went away: the helper is ended, not waited for */
        ck_assert_int_eq(run_script("echo '{\"progress\":{\"status\":\"x\"}}' >&3\nexec sleep 30",
                                    NULL, GONE, &err),
                         -ECANCELED);
        ck_assert(monotonic_ns() - t0 < 20000000000LL);
        /* a helper that dies says how */
        ck_assert_int_eq(run_script("kill -9 $$", NULL, NULL, &err), -EIO);
        ck_assert_str_eq(err_msg(&err), "registry helper killed by signal 9");
        ck_assert_int_eq(run_script("exit 3", NULL, NULL, &err), -EIO);
        ck_assert_str_eq(err_msg(&err), "registry helper exited with status 3");
        ck_assert_int_eq(run_script("printf '{\"done\":' >&3", NULL, NULL, &err), -EIO);
        ck_assert_str_eq(err_msg(&err), "registry helper exited without a result");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("registry");
        TCase *tc = tcase_create("parsers");
        tcase_add_test(tc, test_auth_roundtrip);
        tcase_add_test(tc, test_config_auth);
        tcase_add_test(tc, test_server_name);
        tcase_add_test(tc, test_challenge);
        tcase_add_test(tc, test_http_error);
        tcase_add_test(tc, test_progress);
        suite_add_tcase(s, tc);
        tc = tcase_create("helper");
        tcase_add_test(tc, test_helper_protocol);
        tcase_add_test(tc, test_helper_failures);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
