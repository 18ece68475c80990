/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* auth-nopriv: a test authorization driver that wants request bodies
 * (BERTH_AUTH_F_BODY) and denies any request whose body asks for
 * "Privileged": true. Like many real ones, it allows what it cannot see: a
 * request that reaches it without a body. The daemon must therefore never
 * act on a body that it did not show to such a driver (CVE-2024-41110). */
#include <berth/auth.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>

static int np_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        (void)err;
        *ret_state = (void *)host;
        return 0;
}

static void np_fini(void *state)
{
        (void)state;
}

/* "Privileged", blanks, ':', blanks, "true" anywhere in the body */
static int asks_privileged(const char *b, size_t n)
{
        static const char key[] = "\"Privileged\"";
        for (size_t i = 0; i + sizeof(key) - 1 <= n; i++) {
                if (memcmp(b + i, key, sizeof(key) - 1) != 0)
                        continue;
                size_t j = i + sizeof(key) - 1;
                while (j < n && isspace((unsigned char)b[j]))
                        j++;
                if (j >= n || b[j++] != ':')
                        continue;
                while (j < n && isspace((unsigned char)b[j]))
                        j++;
                if (n - j >= 4 && memcmp(b + j, "true", 4) == 0)
                        return 1;
        }
        return 0;
}

static int np_authorize_request(void *drv, const struct berth_auth_request *req, uint64_t flags,
                                struct berth_err *err)
{
        const struct berth_host *host = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        if (req->body && asks_privileged(req->body, req->body_len))
                return berth_host_err(host, err, -EACCES, "privileged containers are not allowed");
        return 0;
}

static const struct berth_auth_ops np_ops = {
    .size = sizeof(struct berth_auth_ops),
    .authorize_request = np_authorize_request,
};

static const struct berth_option np_options[] = {{0}};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_AUTH, .name = "nopriv", .version = "1.0.0",
                    .description = "denies bodies that ask for Privileged (test)",
                    .features = BERTH_AUTH_F_BODY, .ops = &np_ops, .options = np_options,
                    .init = np_init, .fini = np_fini);
