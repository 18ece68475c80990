/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A JSON request body as the API handlers take it: parsed (json_parse_body,
 * as api_body_json), checked against the schema the first byte picks
 * (api_validate), and a create body that passes is built into a container
 * record (container_record_build, the pure part of create), over no image
 * config or a small one. */
#include "api/api.h"
#include "base/json.h"
#include "base/util.h"
#include "container/container.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct api_schema *const schemas[] = {
            &api_schema_container_create, &api_schema_container_update,
            &api_schema_commit,           &api_schema_exec_create,
            &api_schema_exec_start,       &api_schema_network_create,
            &api_schema_network_connect,  &api_schema_network_disconnect,
            &api_schema_volume_create,
        };
        if (size < 1)
                return 0;
        unsigned pick = data[0];
        data++, size--;
        _cleanup_json_ json_t *body = NULL;
        struct berth_err err = {0};
        if (json_parse_body((const char *)data, size, &body, &err) < 0)
                return 0;
        const struct api_schema *s = schemas[pick % ELEMENTSOF(schemas)];
        if (api_validate(s, body, &err) < 0 || s != &api_schema_container_create)
                return 0;

        _cleanup_json_ json_t *image_config = NULL;
        if (pick & 0x80)
                image_config =
                    json_pack("{s:[s], s:[s], s:{s:{}}, s:s, s:s}", "Cmd", "sh", "Env", "PATH=/bin",
                              "ExposedPorts", "80/tcp", "WorkingDir", "/w", "User", "1000");
        const struct container_record_in in = {
            .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            .name = "/fuzz",
            .image_id = "sha256:"
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            .created = "2026-01-01T00:00:00.000000000Z",
            .dir = "/nonexistent/containers/fuzz",
            .storage_driver = "overlay2",
            .logging_default = "json-file",
        };
        _cleanup_json_ json_t *rec = NULL;
        if (container_record_build(body, image_config, &in, &rec, &err) == 0) {
                char *dump = json_dumps(rec, JSON_COMPACT);
                free(dump);
        }
        return 0;
}
