/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * auth-readonly: an example authorization driver, built out of tree against
 * the installed SDK. It lets every client read (GET, HEAD) and lets only the
 * uids listed in its option "writers" change anything.
 *
 *   make && sudo make install      # installs auth-readonly.so into the plugin dir
 *   # /etc/berth/berth.ini:
 *   [auth]
 *   drivers = readonly
 *   [auth.readonly]
 *   writers = 0 1000
 */
#include <berth/auth.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct state {
        const struct berth_host *host;
        uint32_t writers[16];
        int n_writers;
};

static int ro_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        struct state *s = calloc(1, sizeof(*s));
        const char *where = NULL;
        if (!s)
                return -ENOMEM;
        s->host = host;
        const char *w = host->config_get(host->ctx, "writers", &where);
        while (w && *w) {
                char *end;
                unsigned long uid = strtoul(w, &end, 10);
                if (end == w || s->n_writers == 16) {
                        free(s);
                        return berth_host_err(host, err, -EINVAL,
                                              "%s: invalid value for 'writers': expected uids",
                                              where);
                }
                s->writers[s->n_writers++] = (uint32_t)uid;
                w = end + strspn(end, " ,");
        }
        *ret_state = s;
        return 0;
}

static void ro_fini(void *state)
{
        free(state);
}

static int ro_authorize_request(void *drv, const struct berth_auth_request *req, uint64_t flags,
                                struct berth_err *err)
{
        struct state *s = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
                return 0;
        for (int i = 0; i < s->n_writers; i++)
                if (s->writers[i] == req->uid)
                        return 0;
        return berth_host_err(s->host, err, -EACCES, "uid %u may only read (%s %s refused)",
                              req->uid, req->method, req->uri);
}

static const struct berth_auth_ops ro_ops = {
    .size = sizeof(struct berth_auth_ops),
    .authorize_request = ro_authorize_request,
};

static const struct berth_option ro_options[] = {
    {"writers", "", "uids allowed to change state (space-separated)"},
    {0},
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_AUTH, .name = "readonly", .version = "1.0.0",
                    .description = "read-only API for all but the listed uids", .features = 0,
                    .options = ro_options, .init = ro_init, .fini = ro_fini, .ops = &ro_ops);
