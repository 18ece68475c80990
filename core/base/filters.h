/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_FILTERS_H
#define BERTH_BASE_FILTERS_H

/* The `filters` query parameter (docker-api.md §1). Two encodings arrive:
 * the Go CLI's {"label":{"a=b":true}} and docker-py's {"label":["a=b"]}.
 * Both become {"key":["value",...]}. Values of one key are ORed, keys are
 * ANDed. */

#include "json.h"

/* Parse `s` (NULL or empty: no filters) into *ret; keys not in `allowed`
 * (NULL-terminated), and values other than a list of strings, a map of
 * booleans or null, are -EINVAL "invalid filter 'x'". */
int filters_parse(const char *s, const char *const *allowed, json_t **ret, struct berth_err *err);

/* Only validate: parse and drop. */
int filters_check(const char *s, const char *const *allowed, struct berth_err *err);

/* The values of a key (a JSON array, possibly empty, never NULL; read only:
 * the empty one is shared by every thread). */
json_t *filters_get(json_t *f, const char *key);
/* The prunes' `until` value (NULL: none) as a time in ns: INT64_MAX when
 * absent, -EINVAL "invalid filter 'until=X'" when not a timestamp
 * (parse_timestamp_ns()). */
int filters_until(const char *value, int64_t *ret_ns, struct berth_err *err);
bool filters_has(json_t *f, const char *key);

/* Does `labels` (a JSON object of strings) satisfy every "label" filter
 * value ("key" or "key=value")? Keys are ANDed here, as Docker does for
 * label. */
bool filters_match_labels(json_t *f, const char *filter_key, json_t *labels);

/* Is `value` equal to one of the key's values (true if the key is absent)? */
bool filters_match_exact(json_t *f, const char *key, const char *value);

/* Is a `true`-ish boolean filter (dangling=true) set? -EINVAL via *ret_invalid
 * for values other than true/false/1/0. Returns -1 when absent. */
int filters_bool(json_t *f, const char *key, struct berth_err *err);

#endif
