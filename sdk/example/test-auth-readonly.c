/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The example driver tested on its own, against the SDK's mock host. */
#include <berth/mock-host.h>
#include <berth/auth.h>

#include <assert.h>
#include <stdio.h>
#include <unistd.h>

extern const struct berth_plugin berth_plugin_entry;

int main(void)
{
        struct berth_mock_host m;
        struct berth_err err = {0};
        void *state = NULL;
        const struct berth_auth_ops *ops = berth_plugin_entry.ops;

        berth_mock_host_init(&m, "/tmp/berth-example-test");
        berth_mock_host_set(&m, "writers", "0 1000");
        assert(berth_plugin_entry.kind == BERTH_KIND_AUTH);
        assert(berth_plugin_entry.init(&m.host, &state, &err) == 0);

        struct berth_auth_request get = {.uid = 42, .method = "GET", .uri = "/containers/json"};
        struct berth_auth_request post = {.uid = 42, .method = "POST", .uri = "/containers/create"};
        struct berth_auth_request root = {.uid = 0, .method = "POST", .uri = "/containers/create"};
        assert(ops->authorize_request(state, &get, 0, &err) == 0);
        assert(ops->authorize_request(state, &post, 0, &err) == -EACCES);
        assert(strstr(err.msg, "uid 42 may only read") != NULL);
        assert(ops->authorize_request(state, &root, 0, &err) == 0);
        assert(ops->authorize_request(state, &get, 1, &err) == -EINVAL); /* unknown flag */
        berth_plugin_entry.fini(state);
        /* leave nothing behind: the mock host's directories */
        for (int i = 0; i < 4; i++)
                rmdir(m.paths[i]);
        rmdir(m.root);

        puts("auth-readonly: 5 passed, 0 failed");
        return 0;
}
