/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "filters.h"

#include <pthread.h>

int filters_parse(const char *s, const char *const *allowed, json_t **ret, struct berth_err *err)
{
        _cleanup_json_ json_t *in = NULL;
        json_t *out = json_object();
        const char *key;
        json_t *v;

        *ret = out;
        if (isempty(s) || streq(s, "null") || streq(s, "{}"))
                return 0;
        int r = json_parse_body(s, strlen(s), &in, err);
        if (r < 0)
                return err_wrap(err, r, "invalid filters '%s'", s);
        if (!json_is_object(in))
                return err_set(err, -EINVAL, "invalid filters '%s': not a JSON object", s);
        json_object_foreach (in, key, v) {
                bool ok = !allowed;
                for (const char *const *a = allowed; a && *a; a++)
                        if (streq(*a, key))
                                ok = true;
                if (!ok)
                        return err_set(err, -EINVAL, "invalid filter '%s'", key);
                json_t *vals = json_array();
                json_object_set_new(out, key, vals);
                if (json_is_array(v)) {
                        size_t i;
                        json_t *x;
                        json_array_foreach (v, i, x) {
                                if (!json_is_string(x))
                                        return err_set(
                                            err, -EINVAL,
                                            "invalid filter '%s': values must be strings", key);
                                json_array_append(vals, x);
                        }
                } else if (json_is_object(v)) {
                        const char *k;
                        json_t *b;
                        json_object_foreach (v, k, b) {
                                if (!json_is_boolean(b))
                                        return err_set(
                                            err, -EINVAL,
                                            "invalid filter '%s': values must be true or false",
                                            key);
                                if (json_is_true(b))
                                        json_array_append_new(vals, json_string(k));
                        }
                } else if (!json_is_null(v))
                        /* moby takes {"k":{"v":true}} or {"k":["v"]}, nothing else */
                        return err_set(err, -EINVAL, "invalid filter '%s'", key);
        }
        return 0;
}

/* One empty array for every thread, made once: API threads filter at once. */
static json_t *empty;
static void make_empty(void)
{
        empty = json_array();
}

int filters_until(const char *value, int64_t *ret_ns, struct berth_err *err)
{
        *ret_ns = INT64_MAX;
        if (value && parse_timestamp_ns(value, now_ns(), ret_ns) < 0)
                return err_set(err, -EINVAL, "invalid filter 'until=%s'", value);
        return 0;
}

json_t *filters_get(json_t *f, const char *key)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        json_t *v = json_object_get(f, key);
        if (v)
                return v;
        pthread_once(&once, make_empty);
        return empty;
}

bool filters_has(json_t *f, const char *key)
{
        return json_array_size(json_object_get(f, key)) > 0;
}

bool filters_match_labels(json_t *f, const char *filter_key, json_t *labels)
{
        size_t i;
        json_t *x;
        json_array_foreach (filters_get(f, filter_key), i, x) {
                const char *want = json_string_value(x);
                const char *eq = strchr(want, '=');
                _cleanup_free_ char *k = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
                json_t *have = json_object_get(labels, k);
                if (!have)
                        return false;
                if (eq && !streq(json_string_value(have) ?: "", eq + 1))
                        return false;
        }
        return true;
}

bool filters_match_exact(json_t *f, const char *key, const char *value)
{
        json_t *vals = json_object_get(f, key);
        size_t i;
        json_t *x;
        if (!json_array_size(vals))
                return true;
        json_array_foreach (vals, i, x)
                if (streq(json_string_value(x), value))
                        return true;
        return false;
}

int filters_bool(json_t *f, const char *key, struct berth_err *err)
{
        json_t *vals = json_object_get(f, key);
        if (!json_array_size(vals))
                return -1;
        bool any_true = false;
        size_t i;
        json_t *x;
        json_array_foreach (vals, i, x) {
                bool b;
                if (parse_bool(json_string_value(x), &b) < 0)
                        return err_set(err, -EINVAL,
                                       "invalid filter '%s=%s': expected true or false", key,
                                       json_string_value(x));
                any_true |= b;
        }
        return any_true;
}

int filters_check(const char *s, const char *const *allowed, struct berth_err *err)
{
        json_t *f = NULL;
        int r = filters_parse(s, allowed, &f, err);
        json_decref(f);
        return r;
}
