/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth-registry: the registry client as a program of its own, run by
 * berthd for one pull, push, login or fetch (core/registry/registry-proto.h). It holds
 * libcurl and OpenSSL, which berthd thus never maps: once loaded, OpenSSL
 * cannot be unloaded, and an idle daemon would keep their megabytes.
 * berthd stays the image store's only owner; this process talks HTTP and
 * writes the files it is told to. */
#include <curl/curl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "registry/registry-internal.h"
#include "registry/registry-proto.h"

static int run(json_t *req, json_t **ret_done, struct berth_err *err)
{
        const char *op = json_get_str(req, "op", "");
        const char *ref = json_get_str(req, "ref", NULL);
        struct registry_opts o;
        struct registry_auth auth;
        registry_opts_from_json(json_object_get(req, "opts"), &o);
        int r = registry_auth_from_json(json_object_get(req, "auth"), &auth, err);
        if (r < 0) {
                registry_opts_done(&o);
                return r;
        }
        _cleanup_free_ char *result = NULL;
        if (streq(op, "pull") && ref) {
                r = reg_pull(&o, ref, json_get_bool(req, "all_tags", false),
                             json_get_str(req, "platform", NULL), &auth, remote_progress, NULL,
                             &result, err);
                *ret_done = json_pack("{s:s?}", "id", result);
        } else if (streq(op, "push") && ref) {
                r = reg_push(&o, ref, &auth, remote_progress, NULL, err);
                *ret_done = json_object();
        } else if (streq(op, "fetch") && json_get_str(req, "url", NULL)) {
                struct registry_fetch_result f = {0};
                r = reg_fetch(&o, json_get_str(req, "url", NULL), REGISTRY_HELPER_DATA_FD,
                              remote_progress, NULL, &f, err);
                if (r == 0)
                        *ret_done = json_pack("{s:I, s:I, s:I, s:s?, s:s?, s:s}", "status",
                                              (json_int_t)f.status, "size", (json_int_t)f.size,
                                              "last_modified", (json_int_t)f.last_modified_ns,
                                              "content_type", f.content_type, "filename",
                                              f.filename, "digest", f.digest);
                registry_fetch_result_done(&f);
        } else if (streq(op, "login")) {
                r = reg_login(&o, &auth, &result, err);
                *ret_done = json_pack("{s:s?}", "token", result);
        } else
                r = err_set(err, -EINVAL, "unknown request '%s'", op);
        registry_auth_done(&auth);
        registry_opts_done(&o);
        return r;
}

int main(int argc, char **argv)
{
        (void)argv;
        /* dies with berthd, which holds the other end of everything */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* a descriptor berthd's other threads made without O_CLOEXEC (a
         * client's pipe) must not stay open here; fd 4 is berthd's on
         * purpose (a fetch's file, else /dev/null) */
        (void)close_range(REGISTRY_HELPER_DATA_FD + 1, ~0u, 0);
        signal(SIGPIPE, SIG_IGN);
        struct stat st;
        if (argc != 1 || fstat(REGISTRY_HELPER_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
                fprintf(stderr, "berth-registry: the registry client of berthd, which runs it\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "berth-registry: cannot initialise libcurl\n");
                return 1;
        }
        struct berth_err err = {0};
        _cleanup_json_ json_t *req = NULL, *done = NULL;
        int r = remote_open(REGISTRY_HELPER_FD, &req, &err);
        if (r == 0)
                r = run(req, &done, &err);
        json_t *m = r < 0 ? json_pack("{s:o}", "error", registry_err_to_json(r, &err))
                          : json_pack("{s:O}", "done", done);
        if (remote_send(m) < 0)
                return 1;
        return r < 0 ? 1 : 0;
}
