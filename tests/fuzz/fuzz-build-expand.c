/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One word of a Dockerfile expanded (build_expand_word) and expanded and
 * split (build_expand_words, as EXPOSE), with the escape character the first
 * byte picks, against a few variables: set, empty and unset ones. */
#include "base/util.h"
#include "build/build-expand.h"

#include <stdint.h>

static const char *lookup(void *userdata, const char *name)
{
        if (streq(name, "A"))
                return "a";
        if (streq(name, "EMPTY"))
                return "";
        if (streq(name, "SP"))
                return "x  y\tz";
        if (streq(name, "Q"))
                return "'\"$A\\";
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        char escape = data[0] & 1 ? '`' : '\\';
        _cleanup_free_ char *word = xstrndup((const char *)data + 1, size - 1);
        struct berth_err err = {0};
        _cleanup_free_ char *out = NULL;
        (void)build_expand_word(word, escape, lookup, NULL, &out, &err);
        _cleanup_strv_ char **words = NULL;
        (void)build_expand_words(word, escape, lookup, NULL, &words, &err);
        return 0;
}
