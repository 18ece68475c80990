/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_JSON_H
#define BERTH_BASE_JSON_H

/* jansson with cleanup attributes and a few shapes the API uses often. */

#include <jansson.h>
#include <stdio.h>
#include "err.h"

/* jansson provides json_decrefp (for json_auto_t). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Parse a request body; an empty body or "null" gives an empty object, as
 * the clients send both (docs/docker-api.md §1). */
int json_parse_body(const char *body, size_t len, json_t **ret, struct berth_err *err);

/* A JSON string of s whatever its bytes: each byte that does not begin a
 * valid UTF-8 sequence (overlong forms, surrogates and code points past
 * U+10FFFF included, as jansson refuses them) becomes U+FFFD, as Go's
 * encoder writes it. For messages that quote what a client sent. */
json_t *json_string_lossy(const char *s);

/* Read a file of JSON (-ENOENT if absent, -EBADMSG with position if bad). */
int json_load_path(const char *path, json_t **ret, struct berth_err *err);
/* Write compact JSON atomically. */
int json_save_path(const char *path, json_t *j, mode_t mode, struct berth_err *err);
/* Without the fsyncs (write_file_replace): for the exec root. */
int json_save_volatile(const char *path, json_t *j, mode_t mode, struct berth_err *err);

/* Lenient getters: the default when the key is missing or null or of another type. */
const char *json_get_str(json_t *o, const char *key, const char *def);
int64_t json_get_int(json_t *o, const char *key, int64_t def);
bool json_get_bool(json_t *o, const char *key, bool def);

/* JSON lines, one object per line: how berthd talks with its helpers
 * (berth-registry, berth-tar). */
#define JLINE_MAX (32u << 20) /* the default longest line: an image config (16 MiB) in base64 */
struct jline_reader {
        int fd;
        size_t max; /* longest line; 0: JLINE_MAX */
        char *buf;
        size_t len, cap;
};
/* The next line as a JSON object. timeout_ms < 0 waits for ever. -EPIPE at
 * the end of the stream, -ETIMEDOUT, -EBADMSG (not a JSON object, too long). */
int jline_read(struct jline_reader *r, int timeout_ms, json_t **ret, struct berth_err *err);
void jline_reader_done(struct jline_reader *r);
/* Write j (stolen) and a newline. */
int jline_write(int fd, json_t *j);

/* RFC 3339 with nanoseconds, UTC ("2026-11-27T20:46:50.123456789Z"). */
char *json_time_ns(int64_t ns);

/* j and a newline on f, for the programs' output; -EINVAL and nothing
 * written if j cannot be encoded (json_dumps() returned NULL). */
int json_print(FILE *f, const json_t *j, size_t flags);

#endif
