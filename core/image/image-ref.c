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

/* domain-component ('.' domain-component)* [':' port], a component being
 * [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?, or an IPv6 address in brackets
 * with an optional port. A first component of ".." or "repo:../x" is not a
 * domain: the name does not parse. */
static bool valid_port(const char *s, size_t n)
{
        return n > 0 && n <= 5 && strspn(s, "0123456789") >= n;
}

static bool valid_domain(const char *s, size_t n)
{
        if (n == 0)
                return false;
        const char *end = s + n;
        if (s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close == s + 1)
                        return false;
                for (const char *p = s + 1; p < close; p++)
                        if (!isxdigit((unsigned char)*p) && *p != ':')
                                return false;
                if (close + 1 == end)
                        return true;
                return close[1] == ':' && valid_port(close + 2, (size_t)(end - close - 2));
        }
        const char *colon = memchr(s, ':', n);
        const char *host_end = colon ? colon : end;
        if (colon && !valid_port(colon + 1, (size_t)(end - colon - 1)))
                return false;
        for (const char *p = s; p < host_end;) {
                const char *dot = memchr(p, '.', (size_t)(host_end - p));
                const char *c_end = dot ? dot : host_end;
                if (c_end == p || !isalnum((unsigned char)p[0]) ||
                    !isalnum((unsigned char)c_end[-1]))
                        return false;
                for (const char *q = p; q < c_end; q++)
                        if (!isalnum((unsigned char)*q) && *q != '-')
                                return false;
                p = dot ? dot + 1 : host_end;
                if (dot && p == host_end)
                        return false;
        }
        return true;
}

bool image_tag_valid(const char *t)
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
        /* a name of 255, a tag of 128 and a digest fit in this */
        if (strlen(s) > 512)
                return err_set(err, -EINVAL, "repository name must not be more than %d characters",
                               IMAGE_NAME_MAX);

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
                if (!image_tag_valid(colon + 1)) {
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
        /* Docker counts the name as it is stored, "docker.io/library/x". */
        if (strlen(ret->domain) + 1 + strlen(ret->path) > IMAGE_NAME_MAX) {
                image_ref_done(ret);
                return err_set(err, -EINVAL, "repository name must not be more than %d characters",
                               IMAGE_NAME_MAX);
        }
        if (!ret->tag && !ret->digest)
                ret->tag = xstrdup("latest");
        return 0;
}

int image_ref_join(const char *repo, const char *tag, char **ret, struct berth_err *err)
{
        if (isempty(tag)) {
                *ret = xstrdup(strempty(repo));
                return 0;
        }
        if (!image_tag_valid(tag))
                return err_set(err, -EINVAL, "invalid tag format: '%s'", tag);
        *ret = xasprintf("%s:%s", strempty(repo), tag);
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
