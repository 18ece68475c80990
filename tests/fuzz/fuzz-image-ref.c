/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An image reference as the API and the CLI take it (image_ref_parse), and
 * what is made of a parsed one: the full name, the repository, the familiar
 * name; and the same bytes as a tag. */
#include "base/util.h"
#include "image/image.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = xstrndup((const char *)data, size);
        struct berth_err err = {0};
        (void)image_tag_valid(s);
        struct image_ref ref = {0};
        if (image_ref_parse(s, &ref, &err) < 0)
                return 0;
        _cleanup_free_ char *full = image_ref_full(&ref);
        _cleanup_free_ char *repo = image_ref_repo(&ref);
        free(image_ref_familiar(full));
        /* the full name parses back to the same reference (the familiar one
         * is for display: as in Docker, "docker.io/docker.io/x" is shown as
         * "docker.io/x", "docker.io/a.b/c" as "a.b/c", which read back as
         * other names) */
        struct image_ref again = {0};
        if (image_ref_parse(full, &again, &err) < 0)
                abort();
        _cleanup_free_ char *full2 = image_ref_full(&again);
        _cleanup_free_ char *repo2 = image_ref_repo(&again);
        if (!streq(full, full2) || !streq(repo, repo2))
                abort();
        image_ref_done(&again);
        image_ref_done(&ref);
        return 0;
}
