/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth.ini (config_load_string), then its lookups. */
#include "base/config.h"
#include "base/util.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = xstrndup((const char *)data, size);
        struct berth_config cfg;
        struct berth_err err = {0};
        config_init(&cfg);
        if (config_load_string(&cfg, "fuzz.ini", text, &err) == 0) {
                const char *where = NULL;
                (void)config_lookup(&cfg, "daemon", "data-root", &where);
                (void)config_lookup(&cfg, "storage", "driver", &where);
        }
        config_done(&cfg);
        return 0;
}
