/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A .dockerignore (build_ignore_parse) and the matcher over paths: the
 * input up to a NUL byte is the file, each line after it a path of the
 * context to match (build_ignore_match, build_ignore_may_include_under);
 * then the Dockerfile and .dockerignore kept in (build_ignore_keep_build_files). */
#include "base/util.h"
#include "build/build-ignore.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *nul = memchr(data, '\0', size);
        size_t fl = nul ? (size_t)(nul - (const char *)data) : size;
        struct build_ignore *ig = NULL;
        struct berth_err err = {0};
        if (build_ignore_parse(data, fl, &ig, &err) < 0)
                return 0;
        _cleanup_free_ char *paths = nul ? xstrndup(nul + 1, size - fl - 1) : xstrdup("a/b\n.git");
        _cleanup_strv_ char **lines = strv_split(paths, "\n");
        for (char **l = lines; *l; l++) {
                (void)build_ignore_match(ig, *l, false);
                (void)build_ignore_match(ig, *l, true);
                (void)build_ignore_may_include_under(ig, *l);
        }
        build_ignore_keep_build_files(ig, lines[0]);
        for (size_t i = 0; i < build_ignore_count(ig); i++)
                (void)build_ignore_pattern(ig, i);
        build_ignore_free(ig);
        return 0;
}
