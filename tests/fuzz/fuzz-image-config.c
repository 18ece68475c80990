/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An image config as a registry or a loaded archive gives it: parsed as the
 * store parses one (no duplicate keys) and checked (config_check); then a
 * Dockerfile-style change (the first line of the input, as POST /commit and
 * /images/create?changes= give them) applied to it (image_apply_change). */
#include "base/json.h"
#include "base/util.h"
#include "image/image-internal.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *nl = memchr(data, '\n', size);
        size_t cl = nl ? (size_t)(nl - (const char *)data) : size;
        _cleanup_free_ char *change = xstrndup((const char *)data, cl);
        const char *js = nl ? nl + 1 : "";
        size_t jl = nl ? size - cl - 1 : 0;
        json_error_t je;
        _cleanup_json_ json_t *cfg = json_loadb(js, jl, JSON_REJECT_DUPLICATES, &je);
        struct berth_err err = {0};
        if (!cfg || config_check(cfg, "image config", &err) < 0) {
                json_decref(cfg);
                cfg = json_pack("{s:{s:s, s:[]}, s:{}}", "rootfs", "type", "layers", "diff_ids",
                                "config");
        }
        (void)image_apply_change(cfg, change, &err);
        char *dump = json_dumps(cfg, JSON_COMPACT);
        free(dump);
        return 0;
}
