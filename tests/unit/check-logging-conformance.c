/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging drivers: one conformance suite run against every logging driver
 * plugin (the "conformance" case, looped over drivers[]), then the
 * json-file specifics: Docker's exact line format and escaping, rotation,
 * compression, tail, since/until, follow, remove, options. The plugins are
 * loaded from the build's plugin directory through the core's loader and
 * called only through the core's wrappers, as the engine calls them.
 *
 * Built a second time as check-logging-builtin, with LOGGING_BUILTIN: the
 * same suite against the same sources linked in as built-in drivers, as the
 * static berth-shim has them (OpenSSL's providers: one suite, in-tree and
 * as a module).
 */
#include "check-main.h"
#include "driver/driver.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#define CID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define T0   INT64_C(1700000000000000000) /* 2023-11-14T22:13:20Z */
#define SEC  INT64_C(1000000000)
#define NOPE (UINT64_C(1) << 63) /* a flag no driver knows */
#define LOGF "%s/" CID "-json.log"

static const char *const drivers[] = {"json-file", "none"};
#define N_DRIVERS ((int)(sizeof(drivers) / sizeof(drivers[0])))

static char root[64];
static char *logdir;
static struct berth_config cfg;

#ifdef LOGGING_BUILTIN
extern const struct berth_plugin berth_builtin_log_jsonfile, berth_builtin_log_none;
static const struct berth_plugin *const builtins[] = {&berth_builtin_log_jsonfile,
                                                      &berth_builtin_log_none, NULL};
#endif

static void setup(void)
{
#ifdef LOGGING_BUILTIN
        driver_set_builtins(builtins);
#endif
        const char *dir = getenv("BERTH_PLUGIN_DIR");
        ck_assert_msg(dir != NULL, "BERTH_PLUGIN_DIR is not set (run through ctest)");
        strcpy(root, "/tmp/berth-check-logging.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(root));
        config_init(&cfg);
        free(cfg.plugin_dir);
        cfg.plugin_dir = xstrdup(dir);
        free(cfg.data_root);
        cfg.data_root = xasprintf("%s/data", root);
        free(cfg.exec_root);
        cfg.exec_root = xasprintf("%s/run", root);
        logdir = xasprintf("%s/containers/" CID, root);
        ck_assert_int_eq(mkdir_p(logdir, 0700), 0);
}

static void teardown(void)
{
        config_done(&cfg);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", root);
        (void)!system(cmd);
        free(logdir);
}

static struct driver *load_ini(const char *name, const char *ini)
{
        struct berth_err e = {0};
        struct driver *d = NULL;
        if (ini)
                ck_assert_int_eq(config_load_string(&cfg, "t.ini", ini, &e), 0);
        int r = driver_load(&cfg, BERTH_KIND_LOGGING, name, &d, &e);
        ck_assert_msg(r == 0, "load %s: %s", name, e.msg);
#ifdef LOGGING_BUILTIN
        ck_assert_msg(strstr(d->path, "built into"), "%s: loaded from '%s'", name, d->path);
#endif
        return d;
}

static struct driver *load(const char *name)
{
        return load_ini(name, NULL);
}

static struct berth_log_info info_opts(const char *const *opts)
{
        return (struct berth_log_info){.container_id = CID,
                                       .container_name = "/web",
                                       .image = "busybox",
                                       .log_dir = logdir,
                                       .options = opts};
}

static bool can_read(struct driver *d)
{
        return (d->desc->features & BERTH_LOG_F_READ) != 0;
}

/* --- collecting what read() delivers ------------------------------------- */

struct got_msg {
        uint32_t stream, partial;
        int64_t time_ns;
        char *line;
        size_t len;
};

struct got {
        pthread_mutex_t lock;
        size_t n, cap;
        struct got_msg *m;
        size_t stop_at; /* return 7 once this many were seen (0: never) */
};

static void got_init(struct got *g)
{
        *g = (struct got){.lock = PTHREAD_MUTEX_INITIALIZER};
}

static void got_free(struct got *g)
{
        for (size_t i = 0; i < g->n; i++)
                free(g->m[i].line);
        free(g->m);
}

static size_t got_count(struct got *g)
{
        pthread_mutex_lock(&g->lock);
        size_t n = g->n;
        pthread_mutex_unlock(&g->lock);
        return n;
}

static int collect(void *userdata, const struct berth_log_msg *m)
{
        struct got *g = userdata;
        pthread_mutex_lock(&g->lock);
        if (g->n == g->cap) {
                g->cap = g->cap ? g->cap * 2 : 64;
                g->m = realloc(g->m, g->cap * sizeof(*g->m));
        }
        char *copy = malloc(m->len + 1);
        memcpy(copy, m->line, m->len);
        copy[m->len] = '\0';
        g->m[g->n++] = (struct got_msg){m->stream, m->partial, m->time_ns, copy, m->len};
        size_t n = g->n;
        pthread_mutex_unlock(&g->lock);
        return g->stop_at && n >= g->stop_at ? 7 : 0;
}

static int read_all(struct driver *d, const struct berth_log_read *rc, struct got *g)
{
        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        int r = berth_logging_read(d, &info, rc, collect, g, 0, &e);
        ck_assert_msg(r >= 0, "read: %s", e.msg);
        return r;
}

static const struct berth_log_read READ_ALL = {.tail = -1};

/* --- writing ------------------------------------------------------------ */

static void *open_writer(struct driver *d, const char *const *opts)
{
        struct berth_log_info info = info_opts(opts);
        struct berth_err e = {0};
        void *w = NULL;
        int r = berth_logging_open(d, &info, &w, 0, &e);
        ck_assert_msg(r == 0, "open: %s", e.msg);
        return w;
}

static void put(struct driver *d, void *w, uint32_t stream, int64_t t, const char *line,
                uint32_t partial)
{
        struct berth_log_msg m = {
            .stream = stream, .partial = partial, .time_ns = t, .line = line, .len = strlen(line)};
        struct berth_err e = {0};
        int r = berth_logging_write(d, w, &m, 0, &e);
        ck_assert_msg(r == 0, "write: %s", e.msg);
}

/* "line NNNNN xxxx...\n", 100 bytes with the newline. */
static void numbered(char *buf, int i)
{
        int n = snprintf(buf, 101, "line %05d ", i);
        memset(buf + n, 'x', 99 - (size_t)n);
        buf[99] = '\n';
        buf[100] = '\0';
}

static int number_of(const struct got_msg *m)
{
        int i = -1;
        ck_assert_int_eq(sscanf(m->line, "line %d ", &i), 1);
        return i;
}

static void write_numbered(struct driver *d, void *w, int from, int to)
{
        char buf[128];
        for (int i = from; i < to; i++) {
                numbered(buf, i);
                put(d, w, BERTH_LOG_STDOUT, T0 + i * SEC, buf, 0);
        }
}

static off_t file_size(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? st.st_size : -1;
}

static char *log_file(const char *suffix)
{
        return xasprintf(LOGF "%s", logdir, suffix);
}

/* The messages are a run of consecutive numbers ending at `last`. */
static void assert_run_to(struct got *g, int last)
{
        ck_assert_uint_gt(g->n, 0);
        int first = number_of(&g->m[0]);
        for (size_t i = 0; i < g->n; i++)
                ck_assert_int_eq(number_of(&g->m[i]), first + (int)i);
        ck_assert_int_eq(number_of(&g->m[g->n - 1]), last);
}

/* --- the conformance cases, for every driver ---------------------------- */

START_TEST(test_conf_unknown_flags)
{
        struct driver *d = load(drivers[_i]);
        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        void *w = NULL;

        ck_assert_int_eq(berth_logging_validate(d, &info, NOPE, &e), -EINVAL);
        ck_assert_int_eq(berth_logging_open(d, &info, &w, NOPE, &e), -EINVAL);
        ck_assert_int_eq(berth_logging_open(d, &info, &w, 0, &e), 0);
        struct berth_log_msg m = {
            .stream = BERTH_LOG_STDOUT, .time_ns = T0, .line = "x\n", .len = 2};
        ck_assert_int_eq(berth_logging_write(d, w, &m, NOPE, &e), -EINVAL);
        ck_assert_int_eq(berth_logging_close(d, w, NOPE), -EINVAL);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        struct got g;
        got_init(&g);
        int r = berth_logging_read(d, &info, &READ_ALL, collect, &g, NOPE, &e);
        ck_assert_int_eq(r, can_read(d) ? -EINVAL : -ENOTSUP);
        ck_assert_uint_eq(g.n, 0);
        ck_assert_int_eq(berth_logging_remove(d, &info, NOPE, &e), -EINVAL);
        driver_unload(d);
}
END_TEST

START_TEST(test_conf_features)
{
        struct driver *d = load(drivers[_i]);
        /* BERTH_LOG_F_READ is declared exactly when read() is there. */
        ck_assert_int_eq(can_read(d), DRIVER_HAS(d, berth_logging_ops, read));
        ck_assert(DRIVER_HAS(d, berth_logging_ops, validate));
        ck_assert(DRIVER_HAS(d, berth_logging_ops, open));
        ck_assert(DRIVER_HAS(d, berth_logging_ops, write));
        ck_assert(DRIVER_HAS(d, berth_logging_ops, close));
        ck_assert(DRIVER_HAS(d, berth_logging_ops, remove));
        driver_unload(d);
}
END_TEST

START_TEST(test_conf_bad_options)
{
        struct driver *d = load(drivers[_i]);
        const char *const opts[] = {"novalue", NULL};
        struct berth_log_info info = info_opts(opts);
        struct berth_err e = {0};
        void *w = NULL;
        ck_assert_int_eq(berth_logging_validate(d, &info, 0, &e), -EINVAL);
        ck_assert_msg(strstr(e.msg, "'novalue'"), "message does not name it: %s", e.msg);
        ck_assert_int_eq(berth_logging_open(d, &info, &w, 0, &e), -EINVAL);
        ck_assert_ptr_null(w);
        struct berth_log_info none = info_opts(NULL);
        ck_assert_int_eq(berth_logging_validate(d, &none, 0, &e), 0);
        driver_unload(d);
}
END_TEST

START_TEST(test_conf_round_trip)
{
        struct driver *d = load(drivers[_i]);
        void *w = open_writer(d, NULL);
        put(d, w, BERTH_LOG_STDOUT, T0 + 1, "one\n", 0);
        put(d, w, BERTH_LOG_STDERR, T0 + 2, "two\n", 0);
        put(d, w, BERTH_LOG_STDOUT, T0 + 3, "thr", 1);
        put(d, w, BERTH_LOG_STDOUT, T0 + 4, "ee\n", 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        struct got g;
        got_init(&g);
        if (!can_read(d)) {
                ck_assert_int_eq(berth_logging_read(d, &info, &READ_ALL, collect, &g, 0, &e),
                                 -ENOTSUP);
                ck_assert_ptr_nonnull(strstr(e.msg, "does not support read"));
        } else {
                ck_assert_int_eq(read_all(d, &READ_ALL, &g), 0);
                ck_assert_uint_eq(g.n, 4);
                const char *want[] = {"one\n", "two\n", "thr", "ee\n"};
                for (size_t i = 0; i < 4; i++) {
                        ck_assert_str_eq(g.m[i].line, want[i]);
                        ck_assert_int_eq(g.m[i].time_ns, T0 + 1 + (int64_t)i);
                        ck_assert_uint_eq(g.m[i].partial, i == 2);
                        ck_assert_uint_eq(g.m[i].stream,
                                          i == 1 ? BERTH_LOG_STDERR : BERTH_LOG_STDOUT);
                }
        }
        /* remove: nothing is left to read */
        ck_assert_int_eq(berth_logging_remove(d, &info, 0, &e), 0);
        if (can_read(d)) {
                got_free(&g);
                got_init(&g);
                ck_assert_int_eq(read_all(d, &READ_ALL, &g), 0);
                ck_assert_uint_eq(g.n, 0);
        }
        /* removing what is not there is fine */
        ck_assert_int_eq(berth_logging_remove(d, &info, 0, &e), 0);
        got_free(&g);
        driver_unload(d);
}
END_TEST

/* --- json-file ------------------------------------------------------------ */

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        ck_assert_msg(f != NULL, "open %s", path);
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        char tmp[4096];
        size_t n;
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
                fwrite(tmp, 1, n, m);
        fclose(f);
        fclose(m);
        return buf;
}

/* The writer formats dates by arithmetic: the same as gmtime_r() on every
 * day from 1900 to 2257, the range of int64 nanoseconds (leap years, 2000
 * and 2100, before 1970). */
START_TEST(test_json_dates)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        const int64_t day = 86400, first = -25567 * day, last = 105000 * day; /* 1900, 2257 */
        int n = 0;
        for (int64_t t = first; t <= last; t += day + 3607, n++) /* and the hours move */
                put(d, w, BERTH_LOG_STDOUT, t * SEC, "x\n", 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        _cleanup_free_ char *path = log_file("");
        _cleanup_free_ char *text = slurp(path);
        char *save = NULL, *l = strtok_r(text, "\n", &save);
        for (int64_t t = first; t <= last; t += day + 3607, l = strtok_r(NULL, "\n", &save)) {
                ck_assert_ptr_nonnull(l);
                time_t tt = (time_t)t;
                struct tm tm;
                char want[64];
                gmtime_r(&tt, &tm);
                strftime(want, sizeof(want), "\"time\":\"%Y-%m-%dT%H:%M:%SZ\"}", &tm);
                ck_assert_msg(strstr(l, want), "%lld: want %s in %s", (long long)t, want, l);
        }
        ck_assert_int_gt(n, 100000);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_line_format)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        put(d, w, BERTH_LOG_STDOUT, T0 + 123456789, "hello\n", 0);
        put(d, w, BERTH_LOG_STDERR, T0 + 120000000, "oops\n", 0);
        put(d, w, BERTH_LOG_STDOUT, T0, "no newline", 0);     /* Docker adds it */
        put(d, w, BERTH_LOG_STDOUT, T0 + 1, "a partial ", 1); /* kept as is */
        put(d, w, BERTH_LOG_STDOUT, T0 + 2, "end\n", 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        _cleanup_free_ char *path = log_file("");
        _cleanup_free_ char *text = slurp(path);
        ck_assert_str_eq(
            text,
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20."
            "123456789Z\"}\n"
            "{\"log\":\"oops\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:13:20.12Z\"}\n"
            "{\"log\":\"no newline\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20Z\"}\n"
            "{\"log\":\"a partial "
            "\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20.000000001Z\"}\n"
            "{\"log\":\"end\\n\",\"stream\":\"stdout\",\"time\":\"2023-11-14T22:13:20.000000002Z\"}"
            "\n");

        /* and every line is a JSON object with exactly log, stream, time */
        const char *want_log[] = {"hello\n", "oops\n", "no newline\n", "a partial ", "end\n"};
        const char *want_stream[] = {"stdout", "stderr", "stdout", "stdout", "stdout"};
        char *save = NULL;
        int i = 0;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
                json_error_t je;
                json_t *o = json_loads(l, 0, &je);
                ck_assert_msg(o != NULL, "line %d: %s", i, je.text);
                ck_assert_int_eq(json_object_size(o), 3);
                ck_assert_str_eq(json_string_value(json_object_get(o, "log")), want_log[i]);
                ck_assert_str_eq(json_string_value(json_object_get(o, "stream")), want_stream[i]);
                ck_assert_ptr_nonnull(json_string_value(json_object_get(o, "time")));
                json_decref(o);
        }
        ck_assert_int_eq(i, 5);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_escaping)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        /* quote, backslash, tab, control bytes, HTML characters, DEL, valid
         * UTF-8, a stray byte, a truncated sequence, U+2028, a 4-byte
         * character, an encoded surrogate, a carriage return */
        const char in[] = "q\"b\\s\t\x01\x1f<>&\x7f \xc3\xa9 \xff \xe2\x82 \xe2\x80\xa8 "
                          "\xf0\x9f\x90\xb3 \xed\xa0\x80 \r\n";
        put(d, w, BERTH_LOG_STDOUT, T0, in, 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        _cleanup_free_ char *path = log_file("");
        _cleanup_free_ char *text = slurp(path);
        const char want[] = "{\"log\":\"q\\\"b\\\\s\\u0009\\u0001\\u001f\\u003c\\u003e\\u0026\x7f "
                            "\xc3\xa9 \\ufffd \\ufffd\\ufffd \\u2028 \xf0\x9f\x90\xb3 "
                            "\\ufffd\\ufffd\\ufffd \\r\\n\",\"stream\":\"stdout\",\"time\":"
                            "\"2023-11-14T22:13:20Z\"}\n";
        ck_assert_str_eq(text, want);

        /* what a JSON parser (and read()) gets back: invalid bytes as U+FFFD */
        const char decoded[] = "q\"b\\s\t\x01\x1f<>&\x7f \xc3\xa9 \xef\xbf\xbd "
                               "\xef\xbf\xbd\xef\xbf\xbd \xe2\x80\xa8 \xf0\x9f\x90\xb3 "
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \r\n";
        json_error_t je;
        json_t *o = json_loads(text, 0, &je);
        ck_assert_msg(o != NULL, "%s", je.text);
        ck_assert_str_eq(json_string_value(json_object_get(o, "log")), decoded);
        json_decref(o);

        struct got g;
        got_init(&g);
        read_all(d, &READ_ALL, &g);
        ck_assert_uint_eq(g.n, 1);
        ck_assert_str_eq(g.m[0].line, decoded);

        /* a NUL byte goes through as \u0000 and comes back */
        w = open_writer(d, NULL);
        struct berth_log_msg m = {
            .stream = BERTH_LOG_STDERR, .time_ns = T0 + SEC, .line = "a\0b\n", .len = 4};
        struct berth_err e = {0};
        ck_assert_int_eq(berth_logging_write(d, w, &m, 0, &e), 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        got_free(&g);
        got_init(&g);
        read_all(d, &READ_ALL, &g);
        ck_assert_uint_eq(g.n, 2);
        ck_assert_uint_eq(g.m[1].len, 4);
        ck_assert_mem_eq(g.m[1].line, "a\0b\n", 4);
        got_free(&g);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_rotation)
{
        struct driver *d = load("json-file");
        const char *const opts[] = {"max-size=1k", "max-file=3", NULL};
        void *w = open_writer(d, opts);
        write_numbered(d, w, 0, 100);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        _cleanup_free_ char *cur = log_file(""), *one = log_file(".1"), *two = log_file(".2"),
                            *three = log_file(".3");
        ck_assert_int_ge(file_size(cur), 0);
        ck_assert_int_eq(file_size(three), -1); /* max-file=3: the log and two more */
        /* a rotated file reached max-size, and by at most one entry more */
        off_t entry = file_size(one) / 7 + 1;
        for (const char *p = one; p; p = p == one ? two : NULL) {
                ck_assert_int_ge(file_size(p), 1024);
                ck_assert_int_lt(file_size(p), 1024 + 200);
        }
        ck_assert_int_lt(file_size(cur), 1024 + entry);

        struct got g;
        got_init(&g);
        read_all(d, &READ_ALL, &g);
        assert_run_to(&g, 99);
        /* exactly what the three files hold */
        size_t lines = 0;
        for (const char *p = cur; p; p = p == cur ? one : p == one ? two : NULL) {
                _cleanup_free_ char *t = slurp(p);
                for (char *c = t; (c = strchr(c, '\n')); c++)
                        lines++;
        }
        ck_assert_uint_eq(g.n, lines);
        got_free(&g);

        /* max-file=1: the log starts over, nothing else is kept */
        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        ck_assert_int_eq(berth_logging_remove(d, &info, 0, &e), 0);
        const char *const one_file[] = {"max-size=1k", "max-file=1", NULL};
        w = open_writer(d, one_file);
        write_numbered(d, w, 0, 50);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        ck_assert_int_eq(file_size(one), -1);
        ck_assert_int_lt(file_size(cur), 1024 + 200);
        got_init(&g);
        read_all(d, &READ_ALL, &g);
        assert_run_to(&g, 49);
        ck_assert_uint_lt(g.n, 10);
        got_free(&g);
        driver_unload(d);
}
END_TEST

static bool is_gzip(const char *path)
{
        unsigned char magic[2] = {0};
        FILE *f = fopen(path, "rb");
        if (!f)
                return false;
        size_t n = fread(magic, 1, 2, f);
        fclose(f);
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

START_TEST(test_json_compress)
{
        struct driver *d = load("json-file");
        const char *const opts[] = {"max-size=2k", "max-file=4", "compress=true", NULL};
        void *w = open_writer(d, opts);
        write_numbered(d, w, 0, 200);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        _cleanup_free_ char *one = log_file(".1"), *one_gz = log_file(".1.gz"),
                            *three_gz = log_file(".3.gz"), *four_gz = log_file(".4.gz");
        ck_assert_int_eq(file_size(one), -1); /* close() waited for the compression */
        ck_assert(is_gzip(one_gz));
        ck_assert(is_gzip(three_gz));
        ck_assert_int_eq(file_size(four_gz), -1);
        ck_assert_int_lt(file_size(one_gz), 2048);

        /* the .gz content is the rotated file as it was */
        gzFile gz = gzopen(three_gz, "rb");
        char buf[8192];
        int n = gzread(gz, buf, sizeof(buf) - 1);
        gzclose(gz);
        ck_assert_int_ge(n, 2048);
        buf[n] = '\0';
        ck_assert_ptr_nonnull(strstr(buf, "{\"log\":\"line "));

        struct got g;
        got_init(&g);
        read_all(d, &READ_ALL, &g);
        assert_run_to(&g, 199);
        size_t all = g.n;
        ck_assert_uint_gt(all, 40);
        got_free(&g);

        /* tail reaching into the compressed files */
        struct berth_log_read rc = {.tail = (int64_t)all - 3};
        got_init(&g);
        read_all(d, &rc, &g);
        ck_assert_uint_eq(g.n, all - 3);
        assert_run_to(&g, 199);
        got_free(&g);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_tail)
{
        struct driver *d = load("json-file");
        const char *const opts[] = {"max-size=500", "max-file=5", NULL};
        void *w = open_writer(d, opts);
        write_numbered(d, w, 0, 20); /* about 3 entries a file */
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        struct got g;
        const int64_t tails[] = {0, 1, 5, 10, 1000};
        for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
                struct berth_log_read rc = {.tail = tails[k]};
                got_init(&g);
                read_all(d, &rc, &g);
                if (tails[k] == 0)
                        ck_assert_uint_eq(g.n, 0);
                else {
                        if (tails[k] <= 10)
                                ck_assert_uint_eq(g.n, (size_t)tails[k]);
                        assert_run_to(&g, 19);
                }
                got_free(&g);
        }
        driver_unload(d);
}
END_TEST

START_TEST(test_json_since_until)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        write_numbered(d, w, 0, 10); /* entry i at T0 + i s */
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);

        struct got g;
        struct berth_log_read rc = {.since_ns = T0 + 3 * SEC, .until_ns = T0 + 6 * SEC, .tail = -1};
        got_init(&g);
        read_all(d, &rc, &g);
        ck_assert_uint_eq(g.n, 4);
        assert_run_to(&g, 6);
        got_free(&g);

        rc = (struct berth_log_read){.since_ns = T0 + 7 * SEC + 1, .tail = -1};
        got_init(&g);
        read_all(d, &rc, &g);
        ck_assert_uint_eq(g.n, 2);
        assert_run_to(&g, 9);
        got_free(&g);

        /* tail picks the last entries, since then filters them (Docker) */
        rc = (struct berth_log_read){.since_ns = T0 + 8 * SEC, .tail = 5};
        got_init(&g);
        read_all(d, &rc, &g);
        ck_assert_uint_eq(g.n, 2);
        got_free(&g);
        driver_unload(d);
}
END_TEST

struct follower {
        struct driver *d;
        struct got g;
        struct berth_log_read rc;
        int ret;
};

static void *follow_main(void *arg)
{
        struct follower *f = arg;
        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        f->ret = berth_logging_read(f->d, &info, &f->rc, collect, &f->g, 0, &e);
        return NULL;
}

static void wait_for(struct got *g, size_t n)
{
        for (int i = 0; i < 1000 && got_count(g) < n; i++)
                usleep(5000);
        ck_assert_uint_ge(got_count(g), n);
}

static int64_t now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

START_TEST(test_json_follow)
{
        struct driver *d = load("json-file");
        /* small files: the follower has to cross rotations */
        const char *const opts[] = {"max-size=300", "max-file=3", NULL};
        void *w = open_writer(d, opts);
        write_numbered(d, w, 0, 3);

        struct follower f = {.d = d, .rc = {.tail = -1, .follow = 1}};
        got_init(&f.g);
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, follow_main, &f), 0);
        wait_for(&f.g, 3);

        /* lines written after it started, across several rotations */
        char buf[128];
        for (int i = 3; i < 30; i++) {
                numbered(buf, i);
                put(d, w, BERTH_LOG_STDOUT, now(), buf, 0);
                wait_for(&f.g, (size_t)i + 1);
        }
        _cleanup_free_ char *two = log_file(".2");
        ck_assert_int_gt(file_size(two), 0);
        ck_assert_uint_eq(got_count(&f.g), 30);

        /* the writer closes: the follower delivers the rest and returns 0 */
        put(d, w, BERTH_LOG_STDERR, now(), "last words\n", 0);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(f.ret, 0);
        ck_assert_uint_eq(f.g.n, 31);
        for (int i = 0; i < 30; i++)
                ck_assert_int_eq(number_of(&f.g.m[i]), i);
        ck_assert_str_eq(f.g.m[30].line, "last words\n");
        got_free(&f.g);

        /* following a log nobody writes returns at once */
        struct follower idle = {.d = d, .rc = {.tail = 2, .follow = 1}};
        got_init(&idle.g);
        follow_main(&idle);
        ck_assert_int_eq(idle.ret, 0);
        ck_assert_uint_eq(idle.g.n, 2);
        got_free(&idle.g);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_follow_stop)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        write_numbered(d, w, 0, 1);
        /* the callback's non-zero return ends a follow, and is returned */
        struct follower f = {.d = d, .rc = {.tail = -1, .follow = 1}};
        got_init(&f.g);
        f.g.stop_at = 3;
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, follow_main, &f), 0);
        wait_for(&f.g, 1);
        char buf[128];
        for (int i = 1; i < 3; i++) {
                numbered(buf, i);
                put(d, w, BERTH_LOG_STDOUT, now(), buf, 0);
        }
        pthread_join(t, NULL);
        ck_assert_int_eq(f.ret, 7);
        ck_assert_uint_eq(f.g.n, 3);
        got_free(&f.g);

        /* until in the past ends a follow although the writer is there */
        struct follower u = {.d = d, .rc = {.tail = -1, .follow = 1, .until_ns = now() - SEC}};
        got_init(&u.g);
        follow_main(&u);
        ck_assert_int_eq(u.ret, 0);
        got_free(&u.g);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_remove)
{
        struct driver *d = load("json-file");
        const char *const opts[] = {"max-size=1k", "max-file=3", "compress=true", NULL};
        void *w = open_writer(d, opts);
        write_numbered(d, w, 0, 60);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        _cleanup_free_ char *other = xasprintf("%s/config.v2.json", logdir);
        _cleanup_free_ char *other_log = xasprintf(
            "%s/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210-json.log", logdir);
        _cleanup_free_ char *stale = log_file(".7.gz"); /* from a larger max-file */
        _cleanup_free_ char *similar = log_file("x");   /* not one of ours */
        const char *const keep[] = {other, other_log, similar};
        for (size_t i = 0; i < 3; i++)
                fclose(fopen(keep[i], "w"));
        fclose(fopen(stale, "w"));

        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        ck_assert_int_eq(berth_logging_remove(d, &info, 0, &e), 0);
        DIR *dir = opendir(logdir);
        struct dirent *de;
        int left = 0;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                left++;
                ck_assert_msg(strncmp(de->d_name, CID "-json.log", strlen(CID) + 9) != 0 ||
                                  strcmp(de->d_name, CID "-json.logx") == 0,
                              "left behind: %s", de->d_name);
        }
        closedir(dir);
        ck_assert_int_eq(left, 3);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_options)
{
        struct driver *d = load("json-file");
        struct {
                const char *opt, *key;
        } bad[] = {
            {"max-size=10x", "max-size"},   {"max-size=0", "max-size"},
            {"max-size=-5", "max-size"},    {"max-size=", "max-size"},
            {"max-file=0", "max-file"},     {"max-file=abc", "max-file"},
            {"compress=maybe", "compress"}, {"labels=a,b", "'labels'"},
            {"tag={{.Name}}", "'tag'"},
        };
        struct berth_err e = {0};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                const char *const opts[] = {bad[i].opt, NULL};
                struct berth_log_info info = info_opts(opts);
                ck_assert_msg(berth_logging_validate(d, &info, 0, &e) == -EINVAL, "%s accepted",
                              bad[i].opt);
                ck_assert_msg(strstr(e.msg, bad[i].key), "%s: message does not name it: %s",
                              bad[i].opt, e.msg);
                void *w = NULL;
                ck_assert_int_eq(berth_logging_open(d, &info, &w, 0, &e), -EINVAL);
        }
        /* Docker's rule: compress needs something to compress */
        const char *const nothing[][3] = {{"max-file=1", "compress=true", NULL},
                                          {"max-size=-1", "compress=true", NULL}};
        for (size_t i = 0; i < 2; i++) {
                struct berth_log_info info = info_opts(nothing[i]);
                ck_assert_int_eq(berth_logging_validate(d, &info, 0, &e), -EINVAL);
                ck_assert_msg(strstr(e.msg, "compress"), "%s", e.msg);
        }
        const char *const good[] = {"max-size=10m",  "max-file=5",      "compress=true",
                                    "max-size=1.5g", "max-size=512KiB", NULL};
        struct berth_log_info info = info_opts(good);
        ck_assert_msg(berth_logging_validate(d, &info, 0, &e) == 0, "%s", e.msg);

        /* none accepts (and ignores) any key=value, as Docker does */
        struct driver *none = load("none");
        const char *const some[] = {"max-size=10m", "labels=a", NULL};
        info = info_opts(some);
        ck_assert_int_eq(berth_logging_validate(none, &info, 0, &e), 0);
        driver_unload(none);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_ini_defaults)
{
        struct driver *d = load_ini("json-file", "[logging.json-file]\nmax-size = 1k\n"
                                                 "max-file = 2\n");
        void *w = open_writer(d, NULL);
        write_numbered(d, w, 0, 40);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        _cleanup_free_ char *one = log_file(".1"), *two = log_file(".2");
        ck_assert_int_gt(file_size(one), 0);
        ck_assert_int_eq(file_size(two), -1);

        /* --log-opt over berth.ini */
        const char *const opts[] = {"max-file=3", NULL};
        w = open_writer(d, opts);
        write_numbered(d, w, 40, 80);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        ck_assert_int_gt(file_size(two), 0);
        driver_unload(d);
}
END_TEST

START_TEST(test_json_ini_bad)
{
        struct berth_err e = {0};
        struct driver *d = NULL;
        ck_assert_int_eq(
            config_load_string(&cfg, "t.ini", "[logging.json-file]\nmax-size = lots\n", &e), 0);
        ck_assert_int_eq(driver_load(&cfg, BERTH_KIND_LOGGING, "json-file", &d, &e), -EINVAL);
        ck_assert_ptr_null(d);
        ck_assert_msg(strstr(e.msg, "max-size 'lots' (t.ini:2)"), "%s", e.msg);
}
END_TEST

START_TEST(test_json_busy)
{
        /* one writer per log: a second open is refused, not interleaved */
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        struct berth_log_info info = info_opts(NULL);
        struct berth_err e = {0};
        void *w2 = NULL;
        ck_assert_int_eq(berth_logging_open(d, &info, &w2, 0, &e), -EBUSY);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        driver_unload(d);
}
END_TEST

/* Not a check: the number for the issue note (100-byte lines, one write(2)
 * each, to the test's directory). */
START_TEST(test_json_throughput)
{
        struct driver *d = load("json-file");
        void *w = open_writer(d, NULL);
        char buf[128];
        numbered(buf, 0);
        struct berth_log_msg m = {.stream = BERTH_LOG_STDOUT, .line = buf, .len = 100};
        const int n = 200000;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < n; i++) {
                m.time_ns = T0 + i * 1000;
                ck_assert_int_eq(berth_logging_write(d, w, &m, 0, NULL), 0);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        ck_assert_int_eq(berth_logging_close(d, w, 0), 0);
        double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        fprintf(stderr, "json-file write: %d lines of 100 bytes in %.3f s: %.0f lines/s\n", n, s,
                n / s);

        struct got g;
        got_init(&g);
        clock_gettime(CLOCK_MONOTONIC, &a);
        read_all(d, &READ_ALL, &g);
        clock_gettime(CLOCK_MONOTONIC, &b);
        s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        fprintf(stderr, "json-file read: %zu lines in %.3f s: %.0f lines/s\n", g.n, s, g.n / s);
        ck_assert_uint_eq(g.n, (size_t)n);
        got_free(&g);
        driver_unload(d);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("logging");
        TCase *tc = tcase_create("conformance");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_conf_unknown_flags, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_conf_features, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_conf_bad_options, 0, N_DRIVERS);
        tcase_add_loop_test(tc, test_conf_round_trip, 0, N_DRIVERS);
        suite_add_tcase(s, tc);

        tc = tcase_create("json-file");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_json_line_format);
        tcase_add_test(tc, test_json_dates);
        tcase_add_test(tc, test_json_escaping);
        tcase_add_test(tc, test_json_rotation);
        tcase_add_test(tc, test_json_compress);
        tcase_add_test(tc, test_json_tail);
        tcase_add_test(tc, test_json_since_until);
        tcase_add_test(tc, test_json_follow);
        tcase_add_test(tc, test_json_follow_stop);
        tcase_add_test(tc, test_json_remove);
        tcase_add_test(tc, test_json_options);
        tcase_add_test(tc, test_json_ini_defaults);
        tcase_add_test(tc, test_json_ini_bad);
        tcase_add_test(tc, test_json_busy);
        tcase_add_test(tc, test_json_throughput);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
