/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a client or a registry says about credentials: the X-Registry-Auth
 * header of the API (registry_auth_decode: base64url of a JSON object), and
 * a registry's WWW-Authenticate challenge (reg_challenge_param, the realm,
 * service and scope of a Bearer challenge). */
#include "base/util.h"
#include "registry/registry-internal.h"
#include "registry/registry.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = xstrndup((const char *)data, size);
        struct berth_err err = {0};
        struct registry_auth a = {0};
        if (registry_auth_decode(s, &a, &err) == 0)
                registry_auth_done(&a);
        static const char *const keys[] = {"realm", "service", "scope", "error"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                free(reg_challenge_param(s, keys[i]));
        return 0;
}
