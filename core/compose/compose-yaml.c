/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* YAML <-> JSON trees for the Compose loader (compose-yaml.h). The reader
 * walks libyaml's event stream; the writer is hand-written because libyaml's
 * emitter does not indent sequences under their key, which go-yaml v3 (what
 * `docker compose config` prints with) does. */
#include "compose-yaml.h"

#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Marks: node pointer -> line, an open-addressing table. The singletons
 * json_true/false/null are never marked (they are shared). */
struct compose_marks {
        char *file;
        const json_t **keys;
        int *lines;
        size_t cap, n;
};

static size_t ptr_hash(const void *p)
{
        uintptr_t x = (uintptr_t)p;
        x ^= x >> 17;
        x *= 0xed5ad4bbU;
        x ^= x >> 11;
        return (size_t)x;
}

static void marks_put(struct compose_marks *m, const json_t *node, int line);

static void marks_grow(struct compose_marks *m)
{
        size_t oc = m->cap;
        const json_t **ok = m->keys;
        int *ol = m->lines;
        m->cap = oc ? oc * 2 : 256;
        m->keys = xzalloc(m->cap * sizeof(*m->keys));
        m->lines = xzalloc(m->cap * sizeof(*m->lines));
        m->n = 0;
        for (size_t i = 0; i < oc; i++)
                if (ok[i])
                        marks_put(m, ok[i], ol[i]);
        free(ok);
        free(ol);
}

static void marks_put(struct compose_marks *m, const json_t *node, int line)
{
        if (!node || node == json_true() || node == json_false() || node == json_null())
                return;
        if ((m->n + 1) * 2 > m->cap)
                marks_grow(m);
        size_t i = ptr_hash(node) & (m->cap - 1);
        while (m->keys[i] && m->keys[i] != node)
                i = (i + 1) & (m->cap - 1);
        if (!m->keys[i])
                m->n++;
        m->keys[i] = node;
        m->lines[i] = line;
}

int compose_marks_line(const struct compose_marks *m, const json_t *node)
{
        if (!m || !m->cap || !node)
                return 0;
        size_t i = ptr_hash(node) & (m->cap - 1);
        while (m->keys[i]) {
                if (m->keys[i] == node)
                        return m->lines[i];
                i = (i + 1) & (m->cap - 1);
        }
        return 0;
}

const char *compose_marks_file(const struct compose_marks *m)
{
        return m ? m->file : NULL;
}

void compose_marks_free(struct compose_marks *m)
{
        if (!m)
                return;
        free(m->file);
        free(m->keys);
        free(m->lines);
        free(m);
}

/* ---- scalars as go-yaml v3 resolves them ---- */

static bool parse_go_int(const char *s, int64_t *ret)
{
        char buf[128];
        size_t n = 0;
        for (const char *p = s; *p; p++) {
                if (*p == '_')
                        continue;
                if (n + 1 >= sizeof(buf))
                        return false;
                buf[n++] = *p;
        }
        buf[n] = 0;
        const char *p = buf;
        bool neg = false;
        if (*p == '+' || *p == '-')
                neg = *p++ == '-';
        int base = 10;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                base = 16, p += 2;
        else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
                base = 8, p += 2;
        else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
                base = 2, p += 2;
        else if (p[0] == '0' && p[1])
                base = 8, p += 1;
        if (!*p)
                return false;
        uint64_t v = 0;
        for (; *p; p++) {
                int d;
                if (*p >= '0' && *p <= '9')
                        d = *p - '0';
                else if (*p >= 'a' && *p <= 'f')
                        d = *p - 'a' + 10;
                else if (*p >= 'A' && *p <= 'F')
                        d = *p - 'A' + 10;
                else
                        return false;
                if (d >= base)
                        return false;
                if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
                        return false;
                v = v * (uint64_t)base + (uint64_t)d;
        }
        if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
                return false;
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool is_yaml_float(const char *s)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
        } else {
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
                if (*p == '.') {
                        p++;
                        while (isdigit((unsigned char)*p))
                                p++;
                }
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        return *p == 0;
}

static bool is_null_word(const char *s)
{
        return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

static int bool_word(const char *s)
{
        if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                return 1;
        if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                return 0;
        return -1;
}

static bool is_special_float(const char *s)
{
        static const char *const w[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                        "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN"};
        for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
                if (streq(s, w[i]))
                        return true;
        return false;
}

/* YYYY-MM-DD, optionally followed by a time: what go-yaml would decode as
 * a timestamp (so writes quoted). */
static bool is_timestamp(const char *s)
{
        for (int i = 0; i < 10; i++) {
                bool dash = i == 4 || i == 7;
                if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i]))
                        return false;
        }
        return s[10] == 0 || s[10] == 'T' || s[10] == 't' || s[10] == ' ';
}

static json_t *plain_scalar(const char *s)
{
        if (is_null_word(s))
                return json_null();
        int b = bool_word(s);
        if (b >= 0)
                return json_boolean(b);
        int64_t i;
        if ((isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+') && parse_go_int(s, &i))
                return json_integer(i);
        if (is_yaml_float(s)) {
                double d = strtod(s, NULL);
                if (isfinite(d))
                        return json_real(d);
        }
        return json_string(s);
}

/* ---- the reader ---- */

struct anchor {
        char *name;
        json_t *node;
};

struct reader {
        yaml_parser_t parser;
        const char *file;
        struct compose_marks *marks;
        struct anchor *anchors;
        size_t n_anchors;
        int depth;
        size_t nodes; /* made so far, alias copies included */
};

/* Aliases are copies: a few lines can ask for billions of nodes ("billion
 * laughs"). compose stops at the same count. */
#define MAX_NODES 100000

static int parse_error(struct reader *rd, struct berth_err *err)
{
        yaml_parser_t *p = &rd->parser;
        const yaml_mark_t *mk = p->problem ? &p->problem_mark : &p->context_mark;
        if (p->context)
                return err_set(err, -EBADMSG, "%s:%zu:%zu: %s %s", rd->file, mk->line + 1,
                               mk->column + 1, p->problem ? p->problem : "syntax error",
                               p->context);
        return err_set(err, -EBADMSG, "%s:%zu:%zu: %s", rd->file, mk->line + 1, mk->column + 1,
                       p->problem ? p->problem : "syntax error");
}

static void anchor_set(struct reader *rd, const char *name, json_t *node)
{
        for (size_t i = 0; i < rd->n_anchors; i++)
                if (streq(rd->anchors[i].name, name)) {
                        json_decref(rd->anchors[i].node);
                        rd->anchors[i].node = json_incref(node);
                        return;
                }
        rd->anchors = xrealloc(rd->anchors, (rd->n_anchors + 1) * sizeof(*rd->anchors));
        rd->anchors[rd->n_anchors++] = (struct anchor){xstrdup(name), json_incref(node)};
}

static json_t *anchor_get(struct reader *rd, const char *name)
{
        for (size_t i = rd->n_anchors; i > 0; i--)
                if (streq(rd->anchors[i - 1].name, name))
                        return rd->anchors[i - 1].node;
        return NULL;
}

/* A copy of an aliased node, marked like the original; NULL past
 * MAX_NODES. */
static json_t *copy_marked(struct reader *rd, json_t *v)
{
        json_t *c;
        if (++rd->nodes > MAX_NODES)
                return NULL;
        if (json_is_object(v)) {
                c = json_object();
                const char *k;
                json_t *x;
                json_object_foreach (v, k, x) {
                        json_t *y = copy_marked(rd, x);
                        if (!y) {
                                json_decref(c);
                                return NULL;
                        }
                        json_object_set_new(c, k, y);
                }
        } else if (json_is_array(v)) {
                c = json_array();
                size_t i;
                json_t *x;
                json_array_foreach (v, i, x) {
                        json_t *y = copy_marked(rd, x);
                        if (!y) {
                                json_decref(c);
                                return NULL;
                        }
                        json_array_append_new(c, y);
                }
        } else {
                c = json_copy(v);
        }
        int line = compose_marks_line(rd->marks, v);
        if (line)
                marks_put(rd->marks, c, line);
        return c;
}

static bool tag_is(const yaml_char_t *tag, const char *name)
{
        return tag && streq((const char *)tag, name);
}

static json_t *wrap_tag(const yaml_char_t *tag, json_t *v)
{
        if (tag_is(tag, "!reset"))
                return json_pack("{s:o}", COMPOSE_TAG_RESET, v);
        if (tag_is(tag, "!override"))
                return json_pack("{s:o}", COMPOSE_TAG_OVERRIDE, v);
        return v;
}

static int read_node(struct reader *rd, yaml_event_t *ev, json_t **ret, struct berth_err *err);

static int next_event(struct reader *rd, yaml_event_t *ev, struct berth_err *err)
{
        if (!yaml_parser_parse(&rd->parser, ev))
                return parse_error(rd, err);
        return 0;
}

/* Apply a "<<" value to the keys collected so far: keys not already set are
 * added (the first merged mapping wins over later ones). */
static int merge_into(struct reader *rd, json_t *obj, json_t *explicit_keys, json_t *src, int line,
                      struct berth_err *err)
{
        if (json_is_object(src)) {
                const char *k;
                json_t *v;
                json_object_foreach (src, k, v)
                        if (!json_object_get(explicit_keys, k) && !json_object_get(obj, k))
                                json_object_set(obj, k, v);
                return 0;
        }
        if (json_is_array(src)) {
                size_t i;
                json_t *v;
                json_array_foreach (src, i, v) {
                        if (!json_is_object(v))
                                return err_set(err, -EBADMSG,
                                               "%s:%d: map merge requires map or sequence of maps "
                                               "as the value",
                                               rd->file, line);
                        int r = merge_into(rd, obj, explicit_keys, v, line, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return err_set(err, -EBADMSG,
                       "%s:%d: map merge requires map or sequence of maps as the value", rd->file,
                       line);
}

static int read_mapping(struct reader *rd, yaml_event_t *start, json_t **ret, struct berth_err *err)
{
        json_auto_t *obj = json_object();
        json_auto_t *explicit_keys = json_object();
        json_auto_t *merges = json_array();
        int line = (int)start->start_mark.line + 1;
        int r;
        for (;;) {
                yaml_event_t ev;
                r = next_event(rd, &ev, err);
                if (r < 0)
                        return r;
                if (ev.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                bool merge_key = ev.type == YAML_SCALAR_EVENT && ev.data.scalar.plain_implicit &&
                                 streq((const char *)ev.data.scalar.value, "<<");
                int kline = (int)ev.start_mark.line + 1;
                json_t *key = NULL;
                if (merge_key) {
                        yaml_event_delete(&ev);
                } else {
                        r = read_node(rd, &ev, &key, err);
                        yaml_event_delete(&ev);
                        if (r < 0)
                                return r;
                }
                yaml_event_t vev;
                r = next_event(rd, &vev, err);
                if (r < 0) {
                        json_decref(key);
                        return r;
                }
                json_t *val = NULL;
                r = read_node(rd, &vev, &val, err);
                yaml_event_delete(&vev);
                if (r < 0) {
                        json_decref(key);
                        return r;
                }
                if (merge_key) {
                        json_array_append_new(merges, json_pack("{s:o,s:i}", "v", val, "l", kline));
                        continue;
                }
                _cleanup_free_ char *ks = NULL;
                if (json_is_string(key))
                        ks = xstrdup(json_string_value(key));
                else if (json_is_integer(key))
                        ks = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(key));
                else if (json_is_real(key))
                        ks = xasprintf("%g", json_real_value(key));
                else if (json_is_true(key))
                        ks = xstrdup("true");
                else if (json_is_false(key))
                        ks = xstrdup("false");
                else if (json_is_null(key))
                        ks = xstrdup("null");
                else {
                        json_decref(key);
                        json_decref(val);
                        return err_set(err, -EBADMSG, "%s:%d: a mapping key must be a scalar",
                                       rd->file, kline);
                }
                json_decref(key);
                if (json_object_get(explicit_keys, ks)) {
                        json_decref(val);
                        return err_set(err, -EBADMSG,
                                       "%s:%d: mapping key \"%s\" already defined at line %d",
                                       rd->file, kline, ks,
                                       (int)json_integer_value(json_object_get(explicit_keys, ks)));
                }
                json_object_set_new(explicit_keys, ks, json_integer(kline));
                json_object_set_new(obj, ks, val);
        }
        size_t i;
        json_t *m;
        json_array_foreach (merges, i, m) {
                json_t *src = json_object_get(m, "v");
                /* a tagged merge value is not a merge */
                r = merge_into(rd, obj, explicit_keys, src,
                               (int)json_integer_value(json_object_get(m, "l")), err);
                if (r < 0)
                        return r;
        }
        /* explicit keys keep their place; merged keys go after them, as
         * go-yaml's map has no order anyway */
        marks_put(rd->marks, obj, line);
        *ret = json_incref(obj);
        return 0;
}

static int read_sequence(struct reader *rd, yaml_event_t *start, json_t **ret,
                         struct berth_err *err)
{
        json_auto_t *arr = json_array();
        int r;
        for (;;) {
                yaml_event_t ev;
                r = next_event(rd, &ev, err);
                if (r < 0)
                        return r;
                if (ev.type == YAML_SEQUENCE_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                json_t *v = NULL;
                r = read_node(rd, &ev, &v, err);
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;
                json_array_append_new(arr, v);
        }
        marks_put(rd->marks, arr, (int)start->start_mark.line + 1);
        *ret = json_incref(arr);
        return 0;
}

static int read_node(struct reader *rd, yaml_event_t *ev, json_t **ret, struct berth_err *err)
{
        json_t *v = NULL;
        const yaml_char_t *anchor = NULL, *tag = NULL;
        int line = (int)ev->start_mark.line + 1;
        int r;

        if (++rd->nodes > MAX_NODES) {
                return err_set(err, -E2BIG,
                               "%s:%d: compose file exceeds maximum node visit limit (%d)",
                               rd->file, line, MAX_NODES);
        }
        if (++rd->depth > 512) {
                rd->depth--;
                return err_set(err, -EBADMSG, "%s:%d: document nested too deeply", rd->file, line);
        }
        switch (ev->type) {
        case YAML_ALIAS_EVENT: {
                const char *name = (const char *)ev->data.alias.anchor;
                json_t *a = anchor_get(rd, name);
                if (!a) {
                        rd->depth--;
                        return err_set(err, -EBADMSG, "%s:%d: unknown anchor '%s' referenced",
                                       rd->file, line, name);
                }
                v = copy_marked(rd, a);
                if (!v) {
                        rd->depth--;
                        return err_set(err, -E2BIG,
                                       "%s:%d: compose file exceeds maximum node visit limit (%d)",
                                       rd->file, line, MAX_NODES);
                }
                break;
        }
        case YAML_SCALAR_EVENT: {
                const char *s = (const char *)ev->data.scalar.value;
                anchor = ev->data.scalar.anchor;
                tag = ev->data.scalar.tag;
                bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                const char *t = (const char *)tag;
                /* !reset and !override wrap what they tag, typed as usual;
                 * any other tag of the document's own (and "!") makes a
                 * string, as a quoted scalar is */
                bool ours = tag_is(tag, "!reset") || tag_is(tag, "!override");
                if (t && streq(t, YAML_STR_TAG))
                        v = json_string(s);
                else if (t && streq(t, YAML_NULL_TAG))
                        v = json_null();
                else if (quoted || (t && !ours && !startswith(t, "tag:yaml.org,2002:")))
                        v = json_string(s);
                else
                        v = plain_scalar(s);
                if (!v) /* invalid UTF-8 */
                        v = json_string_lossy(s);
                marks_put(rd->marks, v, line);
                break;
        }
        case YAML_MAPPING_START_EVENT:
                anchor = ev->data.mapping_start.anchor;
                tag = ev->data.mapping_start.tag;
                r = read_mapping(rd, ev, &v, err);
                if (r < 0) {
                        rd->depth--;
                        return r;
                }
                break;
        case YAML_SEQUENCE_START_EVENT:
                anchor = ev->data.sequence_start.anchor;
                tag = ev->data.sequence_start.tag;
                r = read_sequence(rd, ev, &v, err);
                if (r < 0) {
                        rd->depth--;
                        return r;
                }
                break;
        default:
                rd->depth--;
                return err_set(err, -EBADMSG, "%s:%d: unexpected YAML event", rd->file, line);
        }
        rd->depth--;
        if (anchor)
                anchor_set(rd, (const char *)anchor, v);
        json_t *w = wrap_tag(tag, v);
        if (w != v)
                marks_put(rd->marks, w, line);
        *ret = w;
        return 0;
}

static void anchors_clear(struct reader *rd)
{
        for (size_t i = 0; i < rd->n_anchors; i++) {
                free(rd->anchors[i].name);
                json_decref(rd->anchors[i].node);
        }
        free(rd->anchors);
        rd->anchors = NULL;
        rd->n_anchors = 0;
}

/* The documents of a stream: one (all: false; a second one is an error),
 * or every one into a JSON array (all: true). */
static int parse_stream(const char *file, const char *text, size_t len, bool all, json_t **ret,
                        struct compose_marks **ret_marks, struct berth_err *err)
{
        struct reader rd = {.file = file};
        rd.marks = xzalloc(sizeof(*rd.marks));
        rd.marks->file = xstrdup(file);
        json_auto_t *docs = json_array();
        json_t *doc = NULL;
        int r = 0;

        if (!yaml_parser_initialize(&rd.parser)) {
                compose_marks_free(rd.marks);
                return err_set(err, -ENOMEM, "out of memory");
        }
        yaml_parser_set_input_string(&rd.parser, (const unsigned char *)text, len);
        bool in_doc = false, done = false;
        while (!done) {
                yaml_event_t ev;
                r = next_event(&rd, &ev, err);
                if (r < 0)
                        break;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (json_array_size(docs) && !all) {
                                r = err_set(err, -EBADMSG,
                                            "%s:%zu: only one YAML document is supported", file,
                                            ev.start_mark.line + 1);
                                done = true;
                        }
                        in_doc = true;
                        doc = NULL;
                        break;
                case YAML_DOCUMENT_END_EVENT:
                        in_doc = false;
                        /* an empty document is null; anchors end with it */
                        json_array_append_new(docs, doc ?: json_null());
                        doc = NULL;
                        anchors_clear(&rd);
                        break;
                case YAML_STREAM_START_EVENT:
                        break;
                default:
                        if (!in_doc || doc) {
                                r = err_set(err, -EBADMSG, "%s:%zu: unexpected YAML content", file,
                                            ev.start_mark.line + 1);
                                done = true;
                                break;
                        }
                        r = read_node(&rd, &ev, &doc, err);
                        if (r < 0)
                                done = true;
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&rd.parser);
        anchors_clear(&rd);
        json_decref(doc);
        if (r < 0) {
                compose_marks_free(rd.marks);
                return r;
        }
        if (all)
                *ret = json_incref(docs);
        else
                *ret = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : json_null();
        if (ret_marks)
                *ret_marks = rd.marks;
        else
                compose_marks_free(rd.marks);
        return 0;
}

int compose_yaml_parse(const char *file, const char *text, size_t len, json_t **ret,
                       struct compose_marks **ret_marks, struct berth_err *err)
{
        return parse_stream(file, text, len, false, ret, ret_marks, err);
}

int compose_yaml_parse_all(const char *file, const char *text, size_t len, json_t **ret,
                           struct compose_marks **ret_marks, struct berth_err *err)
{
        return parse_stream(file, text, len, true, ret, ret_marks, err);
}

/* ---- the writer ---- */

static bool is_old_bool(const char *s)
{
        static const char *const w[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                        "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
        for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
                if (streq(s, w[i]))
                        return true;
        return false;
}

/* [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)? */
static bool is_base60_float(const char *s)
{
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (!isdigit((unsigned char)*p))
                return false;
        while (isdigit((unsigned char)*p) || *p == '_')
                p++;
        int groups = 0;
        while (*p == ':') {
                p++;
                if (!isdigit((unsigned char)*p))
                        return false;
                if (isdigit((unsigned char)p[1])) {
                        if (*p > '5')
                                return false;
                        p += 2;
                } else
                        p++;
                groups++;
        }
        if (!groups)
                return false;
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p) || *p == '_')
                        p++;
        }
        return *p == 0;
}

/* Would a plain scalar read back as something other than this string? */
static bool resolves_to_other(const char *s)
{
        if (is_null_word(s) || bool_word(s) >= 0 || is_special_float(s) || streq(s, "<<"))
                return true;
        int64_t i;
        if ((isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.') &&
            (parse_go_int(s, &i) || is_yaml_float(s)))
                return true;
        return is_timestamp(s);
}

static bool is_printable_byte(unsigned char c)
{
        /* libyaml's and go-yaml's is_printable: no tab */
        return c == '\n' || (c >= 0x20 && c != 0x7f);
}

/* libyaml's scalar analysis, block context: may this string be written
 * plain? */
static bool plain_allowed(const char *s)
{
        size_t n = strlen(s);
        if (!n)
                return false;
        if (startswith(s, "---") || startswith(s, "..."))
                return false;
        if (s[0] == ' ' || s[n - 1] == ' ' || s[0] == '\t' || s[n - 1] == '\t')
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                bool next_blank = s[i + 1] == 0 || s[i + 1] == ' ' || s[i + 1] == '\t';
                if (!is_printable_byte(c) || c == '\n' || c == '\r')
                        return false;
                if (i == 0) {
                        if (strchr("#,[]{}&*!|>'\"%@`", c))
                                return false;
                        if ((c == '?' || c == ':' || c == '-') && next_blank)
                                return false;
                } else {
                        if (c == ':' && next_blank)
                                return false;
                        if (c == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t'))
                                return false;
                }
        }
        /* a non-breaking or odd Unicode space is fine; BOM is not */
        if ((unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
            (unsigned char)s[2] == 0xbf)
                return false;
        return true;
}

static bool single_allowed(const char *s)
{
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (!is_printable_byte(c) || c == '\n' || c == '\r')
                        return false;
        }
        return true;
}

static void write_double(const char *s, FILE *f)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case 0x1b:
                        fputs("\\e", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\x%02X", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

/* A multi-line string as a literal block, when libyaml would allow it. */
static bool literal_allowed(const char *s)
{
        if (s[0] == ' ' || s[0] == '\n')
                return false;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (!is_printable_byte(c) && c != '\n')
                        return false;
                if (c == '\r')
                        return false;
                if ((c == ' ' || c == '\t') && (p[1] == '\n' || p[1] == 0))
                        return false;
        }
        return true;
}

static void write_indent(int n, FILE *f)
{
        for (int i = 0; i < n; i++)
                fputc(' ', f);
}

static void write_literal(const char *s, int indent, FILE *f)
{
        size_t n = strlen(s);
        size_t trail = 0;
        while (trail < n && s[n - 1 - trail] == '\n')
                trail++;
        fputs(trail == 0 ? "|-" : trail == 1 ? "|" : "|+", f);
        fputc('\n', f);
        /* every line of the body, the last newline being the block's own */
        const char *p = s;
        const char *end = s + n - (trail ? 1 : 0);
        for (;;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (len)
                        write_indent(indent, f);
                fwrite(p, 1, len, f);
                fputc('\n', f);
                if (!nl)
                        break;
                p = nl + 1;
        }
}

/* A scalar string (key or value). indent is for literal blocks. */
static void write_string(const char *s, bool key, int indent, FILE *f)
{
        if (!key && strchr(s, '\n') && literal_allowed(s)) {
                write_literal(s, indent, f);
                return;
        }
        if (resolves_to_other(s) || is_old_bool(s) || is_base60_float(s)) {
                write_double(s, f);
        } else if (plain_allowed(s)) {
                fputs(s, f);
        } else if (single_allowed(s)) {
                fputc('\'', f);
                for (const char *p = s; *p; p++) {
                        if (*p == '\'')
                                fputc('\'', f);
                        fputc(*p, f);
                }
                fputc('\'', f);
        } else {
                write_double(s, f);
        }
        if (!key)
                fputc('\n', f);
}

static void write_real(double d, FILE *f)
{
        if (d == floor(d) && fabs(d) < 1e15) {
                fprintf(f, "%.0f", d);
                return;
        }
        /* Go's strconv.FormatFloat(d, 'g', -1, 64): the shortest repr */
        char buf[64];
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof(buf), "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        fputs(buf, f);
}

static void write_scalar(const json_t *v, int indent, FILE *f)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                write_string(json_string_value(v), false, indent, f);
                return;
        case JSON_INTEGER:
                fprintf(f, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
                return;
        case JSON_REAL:
                write_real(json_real_value(v), f);
                fputc('\n', f);
                return;
        case JSON_TRUE:
                fputs("true\n", f);
                return;
        case JSON_FALSE:
                fputs("false\n", f);
                return;
        default:
                fputs("null\n", f);
                return;
        }
}

static bool is_empty_coll(const json_t *v)
{
        return (json_is_object(v) && json_object_size(v) == 0) ||
               (json_is_array(v) && json_array_size(v) == 0);
}

static void write_block(const json_t *v, int indent, bool first_inline, FILE *f);

/* A value after "key:" or "- ". */
static void write_value(const json_t *v, int indent, FILE *f)
{
        if (json_is_object(v) && json_object_size(v)) {
                fputc('\n', f);
                write_block(v, indent + 2, false, f);
        } else if (json_is_array(v) && json_array_size(v)) {
                fputc('\n', f);
                write_block(v, indent + 2, false, f);
        } else if (is_empty_coll(v)) {
                fputs(json_is_object(v) ? " {}\n" : " []\n", f);
        } else {
                fputc(' ', f);
                write_scalar(v, indent + 2, f);
        }
}

/* A non-empty mapping or sequence at `indent`; first_inline: the first line
 * continues a "- " already written. */
static void write_block(const json_t *v, int indent, bool first_inline, FILE *f)
{
        bool first = true;
        if (json_is_object(v)) {
                const char *k;
                json_t *x;
                json_object_foreach ((json_t *)v, k, x) {
                        if (!(first && first_inline))
                                write_indent(indent, f);
                        first = false;
                        write_string(k, true, indent, f);
                        fputc(':', f);
                        write_value(x, indent, f);
                }
                return;
        }
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
                if (!(first && first_inline))
                        write_indent(indent, f);
                first = false;
                fputs("- ", f);
                if ((json_is_object(x) || json_is_array(x)) && !is_empty_coll(x))
                        write_block(x, indent + 2, true, f);
                else if (is_empty_coll(x))
                        fputs(json_is_object(x) ? "{}\n" : "[]\n", f);
                else
                        write_scalar(x, indent + 2, f);
        }
}

int compose_yaml_write(const json_t *v, FILE *f, struct berth_err *err)
{
        if ((json_is_object(v) || json_is_array(v)) && !is_empty_coll(v))
                write_block(v, 0, false, f);
        else if (is_empty_coll(v))
                fputs(json_is_object(v) ? "{}\n" : "[]\n", f);
        else
                write_scalar(v, 0, f);
        if (ferror(f))
                return err_set(err, -EIO, "write failed");
        return 0;
}
