/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image references as Docker parses and normalises them (the grammar of
 * distribution/reference): [domain/]path[:tag][@digest]. */
#include "image.h"

#include <ctype.h>

static bool is_alnum_lower(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
        if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (is_alnum_lower(c))
                        continue;
                if (c == '.' || c == '_') {
                        /* ".", "_" or "__" between alphanumerics */
                        if (c == '_' && s[i + 1] == '_')
                                i++;
                        if (!is_alnum_lower(s[i + 1]))
                                return false;
                        continue;
                }
                if (c == '-') {
                        while (s[i + 1] == '-')
                                i++;
                        if (!is_alnum_lower(s[i + 1]))
                                return false;
                        continue;
                }
                return false;
        }
        return true;
}

static bool valid_domain(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' || s[i] == ':' ||
                      s[i] == '[' || s[i] == ']'))
                        return false;
        return true;
}

static bool valid_tag(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
                        return false;
        return true;
}

static bool valid_digest(const char *d)
{
        const char *h = startswith(d, "sha256:");
        if (!h || strlen(h) != 64)
                return false;
        for (; *h; h++)
                if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
                        return false;
        return true;
}

void image_ref_done(struct image_ref *r)
{
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        *r = (struct image_ref){0};
}

int image_ref_parse(const char *s, struct image_ref *ret, struct berth_err *err)
{
        *ret = (struct image_ref){0};
        if (isempty(s))
                return err_set(err, -EINVAL, "invalid reference format: empty");
        if (strlen(s) > 255 * 2)
                return err_set(err, -EINVAL, "invalid reference format: '%s' is too long", s);

        _cleanup_free_ char *name = xstrdup(s);
        char *at = strchr(name, '@');
        if (at) {
                *at = '\0';
                if (!valid_digest(at + 1))
                        return err_set(err, -EINVAL, "invalid reference format: bad digest in '%s'",
                                       s);
                ret->digest = xstrdup(at + 1);
        }
        char *slash = strrchr(name, '/');
        char *colon = strrchr(slash ? slash : name, ':');
        if (colon) {
                *colon = '\0';
                if (!valid_tag(colon + 1)) {
                        image_ref_done(ret);
                        return err_set(err, -EINVAL, "invalid reference format: bad tag in '%s'",
                                       s);
                }
                ret->tag = xstrdup(colon + 1);
        }
        /* a domain is a first component with '.' or ':' or "localhost" */
        const char *rest = name;
        const char *first_slash = strchr(name, '/');
        if (first_slash) {
                size_t dl = (size_t)(first_slash - name);
                if (memchr(name, '.', dl) || memchr(name, ':', dl) ||
                    (dl == 9 && strncmp(name, "localhost", 9) == 0)) {
                        if (!valid_domain(name, dl)) {
                                image_ref_done(ret);
                                return err_set(err, -EINVAL,
                                               "invalid reference format: bad domain in '%s'", s);
                        }
                        ret->domain = xstrndup(name, dl);
                        rest = first_slash + 1;
                }
        }
        if (!ret->domain || streq(ret->domain, "index.docker.io")) {
                free(ret->domain);
                ret->domain = xstrdup("docker.io");
        }
        /* path components */
        for (const char *p = rest;;) {
                const char *e = strchrnul(p, '/');
                if (!valid_component(p, (size_t)(e - p))) {
                        bool upper = false;
                        for (const char *q = p; q < e; q++)
                                upper |= isupper((unsigned char)*q);
                        image_ref_done(ret);
                        return err_set(err, -EINVAL, "invalid reference format: %s '%s'",
                                       upper ? "repository name must be lowercase in"
                                             : "bad repository name in",
                                       s);
                }
                if (!*e)
                        break;
                p = e + 1;
        }
        if (strlen(rest) == 64 && strspn(rest, "0123456789abcdef") == 64 && !strchr(s, '/')) {
                image_ref_done(ret);
                return err_set(err, -EINVAL,
                               "invalid repository name (%s), cannot specify 64-byte hexadecimal "
                               "strings",
                               s);
        }
        if (streq(ret->domain, "docker.io") && !strchr(rest, '/'))
                ret->path = xasprintf("library/%s", rest);
        else
                ret->path = xstrdup(rest);
        if (!ret->tag && !ret->digest)
                ret->tag = xstrdup("latest");
        return 0;
}

char *image_ref_repo(const struct image_ref *r)
{
        return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_full(const struct image_ref *r)
{
        if (r->digest)
                return xasprintf("%s/%s@%s", r->domain, r->path, r->digest);
        return xasprintf("%s/%s:%s", r->domain, r->path, r->tag);
}

char *image_ref_familiar(const char *full)
{
        const char *s = full;
        const char *p = startswith(s, "docker.io/");
        if (p) {
                s = p;
                p = startswith(s, "library/");
                /* "library/x" only, not "library/x/y" */
                if (p && !strchr(p, '/'))
                        s = p;
        }
        return xstrdup(s);
}
