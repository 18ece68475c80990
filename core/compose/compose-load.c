/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "compose-model.h"

#include "base/util.h"

#include <ctype.h>
#include <string.h>

int compose_load(const struct compose_options *o, struct compose_project **ret,
                 struct berth_err *err)
{
        (void)o;
        *ret = NULL;
        return err_set(err, -ENOTSUP, "compose: the project loader is not built yet");
}

void compose_project_free(struct compose_project *p)
{
        (void)p;
}

bool compose_name_valid(const char *name)
{
        if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '-'))
                        return false;
        return true;
}

char *compose_name_normalize(const char *basename)
{
        char *s = xzalloc(strlen(basename) + 1);
        size_t n = 0;
        for (const char *p = basename; *p; p++) {
                char c = (char)tolower((unsigned char)*p);
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                        if (n == 0 && (c == '_' || c == '-'))
                                continue;
                        s[n++] = c;
                }
        }
        return s;
}
