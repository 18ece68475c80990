/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log-jsonfile: Docker's json-file logging driver.
 *
 * Format. <log_dir>/<container_id>-json.log holds one JSON object per
 * message, exactly as Docker writes it:
 *     {"log":"hello\n","stream":"stdout","time":"2023-11-14T22:13:20.123456789Z"}
 * "log" is escaped as Docker's jsonlog does: \" \\ \n \r, every other byte
 * below 0x20 and < > & as \u00XX, U+2028/U+2029 as \u2028/\u2029, each byte
 * that does not start a valid UTF-8 sequence (Go's utf8.DecodeRune rules) as
 * \ufffd; everything else verbatim. "log" is left out when empty, as Go's
 * omitempty does. "time" is RFC 3339 with nanoseconds, trailing zeros of the
 * fraction dropped (Go's time.RFC3339Nano), always UTC ("Z"). A message
 * with time_ns 0 is stamped with the current time.
 *
 * Partial messages. Docker's json-file does not join the pieces of a long
 * line: each piece is its own entry, and only the last piece ends in "\n".
 * We do the same: a message with partial=1 is written as it came; a complete
 * message gets a trailing "\n" if it has none (Docker's copier strips the
 * newline and the driver adds it back to every complete message, so a last
 * line without one, at EOF, is stored with one). read() hands entries back
 * one by one, with partial=1 for those whose "log" does not end in "\n".
 *
 * Writing. One write(2) per message (more only for a message whose escaped
 * form exceeds the writer's 16 KiB buffer), built in a buffer allocated once
 * per writer: no stdio, no allocation per line. The escaper is written by
 * hand because this is the shim's hot path: jansson would build a json_t
 * per line (several mallocs) and cannot produce Docker's exact escaping
 * (< > & and U+2028/9, U+FFFD for invalid bytes) anyway. We flush at the end
 * of every write() because the ABI has no "more follows" hint and `logs -f`
 * must see a line as soon as the container printed it, as with Docker.
 *
 * Rotation (max-size, max-file). Before a write, if the file has reached
 * max-size, the writer creates "<name>.new", locks it, shifts .1 ... .N-2 up
 * by one (dropping .N-1), renames the file to .1 and "<name>.new" to the
 * file; with max-file=1 the new file simply replaces the old (Docker
 * truncates instead; the effect on disk is the same and a follower keeps
 * its open file). As in Docker a file can exceed max-size by one message.
 * Unlike Docker's json-file, the default is bounded: 20m x 5 files, the
 * defaults of Docker's local driver.
 * With compress=true, .1 is gzipped to .1.gz by a thread of the writer
 * (Docker: a goroutine) that writes .1.gz.tmp, renames it and unlinks .1; the
 * next rotation and close() wait for it. zlib's memory for it comes from mmap
 * and is returned when done, so the shim's RSS does not keep it.
 *
 * Writer liveness, for follow. A writer holds flock(LOCK_EX) on the file it
 * writes, from open() to close() (also across rotations: the new file is
 * locked before it takes the name). The kernel drops the lock when the
 * writer closes it or its process dies. A following reader at the end of
 * its file checks the name: a different inode means a rotation (it drains
 * the old file and moves on to the new one); the same inode and no lock held
 * means the writer closed the log: read() delivers what is left and returns
 * 0. A reader more than one rotation behind loses the files in between.
 * Waiting uses inotify on log_dir, with a 200 ms poll as a safety net (and
 * as the only wakeup where inotify is unavailable).
 *
 * read(): tail counts entries over all files, newest last (plain files are
 * scanned backwards, .gz files are counted by decompressing); since/until
 * then filter the chosen entries (time >= since, and read() stops at the
 * first entry with time > until), as Docker does. Options outside max-size,
 * max-file and compress (Docker's labels, env, tag: "attrs") are refused.
 */
#include <berth/logging.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define WBUF_SIZE   16384
#define LOG_SUFFIX  "-json.log"
#define FOLLOW_POLL 200 /* ms */

struct opts {
        int64_t max_size; /* bytes; -1: never rotate */
        int64_t max_file; /* >= 1 */
        bool compress;
};

struct drv {
        const struct berth_host *host;
        struct opts defaults; /* from berth.ini */
};

struct writer {
        struct drv *drv;
        struct opts opts;
        int fd;
        int64_t size;
        char *path; /* <dir>/<id>-json.log; the other names below are derived */
        size_t path_len;
        char *zsrc, *ztmp, *zdst; /* the compression job's files */
        pthread_t zthread;
        bool zrunning;
        int64_t ts_sec;     /* the second ts_prefix was formatted for */
        char ts_prefix[32]; /* "2023-11-14T22:13:20" */
        size_t len;
        char buf[WBUF_SIZE];
};

#define ERR(d, err, code, ...) berth_host_err((d)->host, (err), (code), __VA_ARGS__)

/* --- options ------------------------------------------------------------ */

/* Docker's units.RAMInBytes: "10m", "1.5g", "512k", "10MiB", "100", binary
 * multiples; "-1" means no limit. */
static int parse_size(const char *s, int64_t *ret)
{
        if (strcmp(s, "-1") == 0) {
                *ret = -1;
                return 0;
        }
        const char *p = s;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        while (*p >= '0' && *p <= '9')
                p++;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end != p)
                return -EINVAL;
        if (*p == ' ')
                p++;
        double mult = 1;
        const char *units = "kmgtp";
        const char *u = *p ? strchr(units, *p | 0x20) : NULL;
        if (u) {
                for (const char *q = units; q <= u; q++)
                        mult *= 1024;
                p++;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        v *= mult;
        if (v < 1 || v > (double)INT64_MAX / 2)
                return -ERANGE;
        *ret = (int64_t)v;
        return 0;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Apply one option; `where` ("berth.ini:12" or "--log-opt") goes into
 * messages. */
static int set_opt(struct drv *d, struct opts *o, const char *key, const char *val,
                   const char *where, struct berth_err *err)
{
        if (strcmp(key, "max-size") == 0) {
                if (parse_size(val, &o->max_size) < 0)
                        return ERR(d, err, -EINVAL,
                                   "invalid log option max-size '%s' (%s): must be a positive "
                                   "size like 10m, 1g, 512k, or -1 for no limit",
                                   val, where);
                return 0;
        }
        if (strcmp(key, "max-file") == 0) {
                char *end;
                errno = 0;
                long long v = strtoll(val, &end, 10);
                if (errno || end == val || *end)
                        return ERR(d, err, -EINVAL,
                                   "invalid log option max-file '%s' (%s): not a number", val,
                                   where);
                if (v < 1)
                        return ERR(d, err, -EINVAL,
                                   "invalid log option max-file '%s' (%s): max-file cannot be "
                                   "less than 1",
                                   val, where);
                o->max_file = v;
                return 0;
        }
        if (strcmp(key, "compress") == 0) {
                if (parse_bool(val, &o->compress) < 0)
                        return ERR(d, err, -EINVAL,
                                   "invalid log option compress '%s' (%s): must be true or false",
                                   val, where);
                return 0;
        }
        return ERR(d, err, -EINVAL,
                   "unknown log option '%s' (%s) for logging driver 'json-file' (it knows "
                   "max-size, max-file, compress)",
                   key, where);
}

static int check_opts(struct drv *d, const struct opts *o, struct berth_err *err)
{
        /* Docker's rule: nothing would ever be compressed. */
        if (o->compress && (o->max_file < 2 || o->max_size < 0))
                return ERR(d, err, -EINVAL,
                           "invalid log option compress 'true': compress cannot be true when "
                           "max-file is less than 2 or max-size is not set");
        return 0;
}

/* The defaults overridden by the container's "key=value" options. */
static int container_opts(struct drv *d, const struct berth_log_info *info, struct opts *ret,
                          struct berth_err *err)
{
        struct opts o = d->defaults;
        for (const char *const *p = info->options; p && *p; p++) {
                const char *eq = strchr(*p, '=');
                if (!eq || eq == *p)
                        return ERR(d, err, -EINVAL, "invalid log option '%s': not key=value", *p);
                char key[64];
                size_t kl = (size_t)(eq - *p);
                if (kl >= sizeof(key))
                        return ERR(d, err, -EINVAL,
                                   "unknown log option '%.*s' for logging driver 'json-file'",
                                   (int)kl, *p);
                memcpy(key, *p, kl);
                key[kl] = '\0';
                int r = set_opt(d, &o, key, eq + 1, "--log-opt", err);
                if (r < 0)
                        return r;
        }
        int r = check_opts(d, &o, err);
        if (r < 0)
                return r;
        *ret = o;
        return 0;
}

static int check_info(struct drv *d, const struct berth_log_info *info, struct berth_err *err)
{
        if (!info || !info->container_id || !info->container_id[0] || !info->log_dir ||
            strchr(info->container_id, '/'))
                return ERR(d, err, -EINVAL, "no container id or log directory given");
        return 0;
}

static char *log_path(const struct berth_log_info *info)
{
        char *p;
        if (asprintf(&p, "%s/%s" LOG_SUFFIX, info->log_dir, info->container_id) < 0)
                return NULL;
        return p;
}

/* --- init ----------------------------------------------------------------- */

#define DEFAULT_MAX_SIZE (20 * 1024 * 1024)
#define DEFAULT_MAX_FILE 5

static int drv_init(const struct berth_host *host, void **ret_state, struct berth_err *err)
{
        struct drv *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->host = host;
        /* Bounded unless told otherwise: Docker's json-file never rotates
         * by default and fills disks; these are its local driver's. */
        d->defaults = (struct opts){
            .max_size = DEFAULT_MAX_SIZE, .max_file = DEFAULT_MAX_FILE, .compress = false};
        static const char *const keys[] = {"max-size", "max-file", "compress"};
        for (size_t i = 0; i < 3; i++) {
                const char *where = NULL;
                const char *v = host->config_get(host->ctx, keys[i], &where);
                if (!v)
                        continue;
                int r = set_opt(d, &d->defaults, keys[i], v, where ? where : "berth.ini", err);
                if (r < 0) {
                        free(d);
                        return r;
                }
        }
        int r = check_opts(d, &d->defaults, err);
        if (r < 0) {
                free(d);
                return r;
        }
        *ret_state = d;
        return 0;
}

static void drv_fini(void *state)
{
        free(state);
}

static int drv_validate(void *drv, const struct berth_log_info *info, uint64_t flags,
                        struct berth_err *err)
{
        BERTH_CHECK_FLAGS(flags, 0);
        struct opts o;
        return container_opts(drv, info, &o, err);
}

/* --- writing -------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

static int wflush(struct writer *w)
{
        if (w->len == 0)
                return 0;
        int r = write_all(w->fd, w->buf, w->len);
        w->size += (int64_t)w->len;
        w->len = 0;
        return r;
}

static int emit(struct writer *w, const void *p, size_t n)
{
        const char *s = p;
        while (n > 0) {
                if (w->len == WBUF_SIZE) {
                        int r = wflush(w);
                        if (r < 0)
                                return r;
                }
                size_t k = WBUF_SIZE - w->len;
                if (k > n)
                        k = n;
                memcpy(w->buf + w->len, s, k);
                w->len += k;
                s += k;
                n -= k;
        }
        return 0;
}

/* Room for one escape sequence (at most 6 bytes). */
static int room(struct writer *w)
{
        return WBUF_SIZE - w->len < 8 ? wflush(w) : 0;
}

/* ASCII bytes Docker escapes. */
static const unsigned char must_escape[128] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, ['<'] = 1, ['>'] = 1, ['&'] = 1,
};

/* Length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        unsigned char b = s[0];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf)
                len = 2;
        else if (b >= 0xe0 && b <= 0xef) {
                len = 3;
                if (b == 0xe0)
                        lo = 0xa0;
                else if (b == 0xed)
                        hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
                len = 4;
                if (b == 0xf0)
                        lo = 0x90;
                else if (b == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

static int put_escaped(struct writer *w, const unsigned char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        size_t i = 0, start = 0;
        int r;

        while (i < n) {
                unsigned char b = s[i];
                const char *rep = NULL;
                char tmp[8];
                size_t skip = 1;
                if (b < 0x80) {
                        if (!must_escape[b]) {
                                i++;
                                continue;
                        }
                        if (b == '"' || b == '\\') {
                                tmp[0] = '\\';
                                tmp[1] = (char)b;
                                tmp[2] = '\0';
                        } else if (b == '\n')
                                memcpy(tmp, "\\n", 3);
                        else if (b == '\r')
                                memcpy(tmp, "\\r", 3);
                        else {
                                memcpy(tmp, "\\u00", 4);
                                tmp[4] = hex[b >> 4];
                                tmp[5] = hex[b & 0xf];
                                tmp[6] = '\0';
                        }
                        rep = tmp;
                } else {
                        size_t l = utf8_len(s + i, n - i);
                        if (l == 0)
                                rep = "\\ufffd";
                        else if (l == 3 && b == 0xe2 && s[i + 1] == 0x80 &&
                                 (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
                                rep = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
                                skip = 3;
                        } else {
                                i += l;
                                continue;
                        }
                }
                if (start < i && (r = emit(w, s + start, i - start)) < 0)
                        return r;
                if ((r = room(w)) < 0)
                        return r;
                size_t rl = strlen(rep);
                memcpy(w->buf + w->len, rep, rl);
                w->len += rl;
                i += skip;
                start = i;
        }
        return start < n ? emit(w, s + start, n - start) : 0;
}

/* The proleptic Gregorian date of a day count since 1970-01-01 (Howard
 * Hinnant's civil_from_days). By hand rather than gmtime_r(): glibc's
 * gmtime_r() initialises the time zone first (reads /etc/localtime through
 * stdio), which is most of what a writer would touch in a long-lived
 * shim. */
static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;                                      /* [0, 146096] */
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
        int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
        *ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *ret_y = yoe + era * 400 + (*ret_m <= 2);
}

static char *put_digits(char *p, int64_t v, int width)
{
        for (int i = width - 1; i >= 0; i--, v /= 10)
                p[i] = (char)('0' + v % 10);
        return p + width;
}

/* Go's time.RFC3339Nano in UTC: fraction without trailing zeros, none at
 * all for a whole second. The date part is cached per second. */
static size_t format_time(struct writer *w, int64_t ns, char *out)
{
        int64_t sec = ns / 1000000000, frac = ns % 1000000000;
        if (frac < 0) {
                frac += 1000000000;
                sec--;
        }
        if (sec != w->ts_sec || !w->ts_prefix[0]) {
                int64_t days = sec / 86400, tod = sec % 86400, y;
                int m, d;
                if (tod < 0) {
                        tod += 86400;
                        days--;
                }
                civil_from_days(days, &y, &m, &d);
                if (y >= 0 && y <= 9999) {
                        char *p = put_digits(w->ts_prefix, y, 4);
                        *p++ = '-';
                        p = put_digits(p, m, 2);
                        *p++ = '-';
                        p = put_digits(p, d, 2);
                        *p++ = 'T';
                        p = put_digits(p, tod / 3600, 2);
                        *p++ = ':';
                        p = put_digits(p, tod / 60 % 60, 2);
                        *p++ = ':';
                        p = put_digits(p, tod % 60, 2);
                        *p = '\0';
                } else
                        snprintf(w->ts_prefix, sizeof(w->ts_prefix),
                                 "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                                 (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60));
                w->ts_sec = sec;
        }
        size_t n = strlen(w->ts_prefix);
        memcpy(out, w->ts_prefix, n);
        if (frac) {
                char digits[9];
                put_digits(digits, frac, 9);
                int nd = 9;
                while (digits[nd - 1] == '0')
                        nd--;
                out[n++] = '.';
                memcpy(out + n, digits, (size_t)nd);
                n += (size_t)nd;
        }
        out[n++] = 'Z';
        return n;
}

/* The rotated file names: "<path>.<i>" with an optional ".gz". */
static void rotated_name(char *buf, size_t len, const char *path, int64_t i, bool gz)
{
        snprintf(buf, len, "%s.%lld%s", path, (long long)i, gz ? ".gz" : "");
}

static voidpf zalloc_mmap(voidpf opaque, uInt items, uInt size)
{
        size_t n = (size_t)items * size + 16;
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return Z_NULL;
        *(size_t *)p = n;
        return (char *)p + 16;
}

static void zfree_mmap(voidpf opaque, voidpf ptr)
{
        if (!ptr)
                return;
        char *b = (char *)ptr - 16;
        munmap(b, *(size_t *)b);
}

/* gzip src into dst. A 16 KiB window and memLevel 7 keep zlib at about
 * 130 KiB while it runs (the defaults take 256 KiB), for a few percent of
 * ratio on log text. */
static int gzip_file(const char *src, const char *dst)
{
        int r = 0, in = -1, out = -1;
        unsigned char *ibuf = zalloc_mmap(NULL, 2, 16384);
        unsigned char *obuf = ibuf ? ibuf + 16384 : NULL;
        z_stream z = {.zalloc = zalloc_mmap, .zfree = zfree_mmap};
        bool zinit = false;

        if (!ibuf)
                return -ENOMEM;
        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                r = -errno;
                goto cleanup;
        }
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (out < 0) {
                r = -errno;
                goto cleanup;
        }
        if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + 14, 7, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
                r = -ENOMEM;
                goto cleanup;
        }
        zinit = true;
        for (;;) {
                ssize_t n = read(in, ibuf, 16384);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto cleanup;
                }
                z.next_in = ibuf;
                z.avail_in = (uInt)n;
                int fl = n == 0 ? Z_FINISH : Z_NO_FLUSH;
                int zr;
                do {
                        z.next_out = obuf;
                        z.avail_out = 16384;
                        zr = deflate(&z, fl);
                        if (zr == Z_STREAM_ERROR) {
                                r = -EIO;
                                goto cleanup;
                        }
                        r = write_all(out, (char *)obuf, 16384 - z.avail_out);
                        if (r < 0)
                                goto cleanup;
                } while (z.avail_out == 0);
                if (fl == Z_FINISH)
                        break;
        }
        if (close(out) < 0)
                r = -errno;
        out = -1;
cleanup:
        if (zinit)
                deflateEnd(&z);
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        zfree_mmap(NULL, ibuf);
        return r;
}

static void *compress_main(void *arg)
{
        struct writer *w = arg;
        int r = gzip_file(w->zsrc, w->ztmp);
        if (r == 0 && rename(w->ztmp, w->zdst) < 0)
                r = -errno;
        if (r == 0)
                unlink(w->zsrc);
        else {
                unlink(w->ztmp);
                berth_log(w->drv->host, BERTH_LOG_WARNING,
                          "cannot compress rotated log '%s': %s, keeping it uncompressed", w->zsrc,
                          strerror(-r));
        }
        return NULL;
}

static void compress_wait(struct writer *w)
{
        if (w->zrunning) {
                pthread_join(w->zthread, NULL);
                w->zrunning = false;
        }
}

static int open_locked(const char *path, int extra_flags)
{
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | extra_flags, 0640);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void compress_start(struct writer *w)
{
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        int r = pthread_create(&w->zthread, &attr, compress_main, w);
        pthread_attr_destroy(&attr);
        if (r == 0)
                w->zrunning = true;
        else
                berth_log(w->drv->host, BERTH_LOG_WARNING,
                          "cannot start compressing '%s': %s, keeping it uncompressed", w->zsrc,
                          strerror(r));
}

static int rotate(struct writer *w, struct berth_err *err)
{
        struct drv *d = w->drv;
        char from[PATH_MAX], to[PATH_MAX];
        bool gz = w->opts.compress;
        int64_t n = w->opts.max_file;

        compress_wait(w);

        snprintf(to, sizeof(to), "%s.new", w->path);
        int fd = open_locked(to, O_TRUNC);
        if (fd < 0)
                return ERR(d, err, fd, "cannot create log file '%s': %s", to, strerror(-fd));

        if (n >= 2) {
                rotated_name(from, sizeof(from), w->path, n - 1, gz);
                if (unlink(from) < 0 && errno != ENOENT)
                        goto fail;
                for (int64_t i = n - 1; i > 1; i--) {
                        rotated_name(from, sizeof(from), w->path, i - 1, gz);
                        rotated_name(to, sizeof(to), w->path, i, gz);
                        if (rename(from, to) < 0 && errno != ENOENT)
                                goto fail;
                }
                rotated_name(to, sizeof(to), w->path, 1, false);
                if (rename(w->path, to) < 0 && errno != ENOENT)
                        goto fail;
        }
        snprintf(from, sizeof(from), "%s.new", w->path);
        if (rename(from, w->path) < 0)
                goto fail;

        /* Only now: a follower takes an unlocked file under the name as
         * "writer gone". */
        close(w->fd);
        w->fd = fd;
        w->size = 0;

        if (gz && n >= 2)
                compress_start(w);
        return 0;

fail:;
        int r = -errno;
        snprintf(to, sizeof(to), "%s.new", w->path);
        unlink(to);
        close(fd);
        return ERR(d, err, r, "cannot rotate log '%s': %s", w->path, strerror(-r));
}

static int drv_open(void *drv, const struct berth_log_info *info, void **ret_writer, uint64_t flags,
                    struct berth_err *err)
{
        struct drv *d = drv;
        struct opts o;
        int r;

        BERTH_CHECK_FLAGS(flags, 0);
        r = check_info(d, info, err);
        if (r < 0)
                return r;
        r = container_opts(d, info, &o, err);
        if (r < 0)
                return r;

        struct writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->drv = d;
        w->opts = o;
        w->fd = -1;
        w->path = log_path(info);
        if (!w->path) {
                free(w);
                return -ENOMEM;
        }
        w->path_len = strlen(w->path);
        if (asprintf(&w->zsrc, "%s.1", w->path) < 0 ||
            asprintf(&w->ztmp, "%s.1.gz.tmp", w->path) < 0 ||
            asprintf(&w->zdst, "%s.1.gz", w->path) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        /* Appending to what is there, as Docker does for a restarted
         * container. */
        w->fd = open_locked(w->path, 0);
        if (w->fd < 0) {
                if (w->fd == -EBUSY)
                        r = ERR(d, err, -EBUSY, "log '%s' is already open by another writer",
                                w->path);
                else
                        r = ERR(d, err, w->fd, "cannot open log '%s': %s", w->path,
                                strerror(-w->fd));
                goto fail;
        }
        struct stat st;
        if (fstat(w->fd, &st) < 0) {
                r = ERR(d, err, -errno, "cannot stat log '%s': %s", w->path, strerror(errno));
                goto fail;
        }
        w->size = st.st_size;
        /* A writer that died while compressing left .1 uncompressed: finish
         * the job, or the next rotation would overwrite it. */
        if (o.compress && o.max_file >= 2 && access(w->zsrc, F_OK) == 0 &&
            access(w->zdst, F_OK) < 0)
                compress_start(w);
        *ret_writer = w;
        return 0;
fail:
        if (w->fd >= 0)
                close(w->fd);
        free(w->path);
        free(w->zsrc);
        free(w->ztmp);
        free(w->zdst);
        free(w);
        return r;
}

static int drv_write(void *drv, void *writer, const struct berth_log_msg *msg, uint64_t flags,
                     struct berth_err *err)
{
        struct writer *w = writer;
        struct drv *d = drv;
        int r;

        BERTH_CHECK_FLAGS(flags, 0);
        if (!w || !msg || (!msg->line && msg->len))
                return ERR(d, err, -EINVAL, "no writer or message given");
        const char *stream;
        if (msg->stream == BERTH_LOG_STDOUT)
                stream = "\",\"stream\":\"stdout\",\"time\":\"";
        else if (msg->stream == BERTH_LOG_STDERR)
                stream = "\",\"stream\":\"stderr\",\"time\":\"";
        else
                return ERR(d, err, -EINVAL, "unknown stream %u in a log message", msg->stream);

        if (w->opts.max_size > 0 && w->size >= w->opts.max_size) {
                r = rotate(w, err);
                if (r < 0)
                        return r;
        }

        bool add_nl = !msg->partial && (msg->len == 0 || msg->line[msg->len - 1] != '\n');
        int64_t ns = msg->time_ns;
        if (ns == 0) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        }

        w->len = 0;
        if (msg->len || add_nl) {
                memcpy(w->buf, "{\"log\":\"", 8);
                w->len = 8;
                r = put_escaped(w, (const unsigned char *)msg->line, msg->len);
                if (r < 0)
                        goto fail;
                if (add_nl && (r = emit(w, "\\n", 2)) < 0)
                        goto fail;
        } else {
                /* Go's omitempty: no "log" at all; `stream` without its
                 * leading quote and comma. */
                w->buf[w->len++] = '{';
                stream += 2;
        }
        r = emit(w, stream, strlen(stream));
        if (r < 0)
                goto fail;
        char tail[64];
        size_t n = format_time(w, ns, tail);
        memcpy(tail + n, "\"}\n", 3);
        r = emit(w, tail, n + 3);
        if (r < 0)
                goto fail;
        r = wflush(w);
        if (r < 0)
                goto fail;
        return 0;
fail:
        w->len = 0;
        return ERR(d, err, r, "cannot write log '%s': %s", w->path, strerror(-r));
}

static int drv_close(void *drv, void *writer, uint64_t flags)
{
        struct writer *w = writer;
        BERTH_CHECK_FLAGS(flags, 0);
        if (!w)
                return 0;
        compress_wait(w);
        int r = 0;
        if (w->fd >= 0 && close(w->fd) < 0)
                r = -errno;
        free(w->path);
        free(w->zsrc);
        free(w->ztmp);
        free(w->zdst);
        free(w);
        return r;
}

/* --- reading -------------------------------------------------------------- */

struct src {
        int fd;
        gzFile gz; /* a rotated, compressed file */
};

struct reader {
        struct drv *drv;
        const struct berth_log_read *cfg;
        berth_log_msg_fn fn;
        void *userdata;
        struct berth_err *err;
        const char *path;
        char *buf; /* bytes read, not yet a complete line */
        size_t len, cap;
        int64_t skip; /* entries still to pass over (tail in a .gz file) */
        int stop;     /* the callback's non-zero return */
        bool done;    /* an entry after `until` was seen */
};

static ssize_t src_read(struct src *s, void *buf, size_t n)
{
        if (s->gz) {
                int k = gzread(s->gz, buf, (unsigned)n);
                if (k < 0) {
                        errno = EIO;
                        return -1;
                }
                return k;
        }
        for (;;) {
                ssize_t k = read(s->fd, buf, n);
                if (k >= 0 || errno != EINTR)
                        return k;
        }
}

static void src_close(struct src *s)
{
        if (s->gz)
                gzclose(s->gz);
        else if (s->fd >= 0)
                close(s->fd);
        s->gz = NULL;
        s->fd = -1;
}

/* "2023-11-14T22:13:20.123456789Z" (or an offset for "Z") to ns. */
static int parse_time(const char *s, int64_t *ret)
{
        struct tm tm = {0};
        int n = 0;
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
            n != 19)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        const char *p = s + n;
        int64_t frac = 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 9)
                                frac = frac * 10 + (*p - '0');
                if (digits == 0)
                        return -EINVAL;
                for (; digits < 9; digits++)
                        frac *= 10;
        }
        int64_t off = 0;
        if (*p == '+' || *p == '-') {
                int hh, mm;
                if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
                        return -EINVAL;
                off = (int64_t)(hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
        } else if (strcmp(p, "Z") != 0)
                return -EINVAL;
        *ret = ((int64_t)timegm(&tm) - off) * 1000000000 + frac;
        return 0;
}

static int handle_line(struct reader *rd, const char *line, size_t len)
{
        if (rd->skip > 0) {
                rd->skip--;
                return 0;
        }
        json_error_t jerr;
        json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
        if (!o)
                return 0; /* a torn or foreign line: Docker would stop; we go on */
        json_t *jlog = json_object_get(o, "log");
        const char *stream = json_string_value(json_object_get(o, "stream"));
        const char *time = json_string_value(json_object_get(o, "time"));
        struct berth_log_msg m = {.stream = BERTH_LOG_STDOUT};
        if (!time || parse_time(time, &m.time_ns) < 0) {
                json_decref(o);
                return 0;
        }
        if (stream && strcmp(stream, "stderr") == 0)
                m.stream = BERTH_LOG_STDERR;
        m.line = json_string_value(jlog) ? json_string_value(jlog) : "";
        m.len = json_string_value(jlog) ? json_string_length(jlog) : 0;
        m.partial = m.len == 0 || m.line[m.len - 1] != '\n';

        int r = 0;
        if (rd->cfg->until_ns > 0 && m.time_ns > rd->cfg->until_ns) {
                rd->done = true;
                r = 1;
        } else if (m.time_ns >= rd->cfg->since_ns) {
                int k = rd->fn(rd->userdata, &m);
                if (k != 0) {
                        rd->stop = k;
                        r = 1;
                }
        }
        json_decref(o);
        return r;
}

/* Deliver every complete line up to EOF. 0 at EOF, 1 when read() is to stop
 * (callback or until), -errno on error. An incomplete last line stays in
 * the buffer for the next call (a follower may see the rest later). */
static int drain(struct reader *rd, struct src *s)
{
        for (;;) {
                if (rd->cap - rd->len < 65536) {
                        size_t cap = rd->cap ? rd->cap * 2 : 131072;
                        char *b = realloc(rd->buf, cap);
                        if (!b)
                                return -ENOMEM;
                        rd->buf = b;
                        rd->cap = cap;
                }
                ssize_t n = src_read(s, rd->buf + rd->len, rd->cap - rd->len);
                if (n < 0)
                        return ERR(rd->drv, rd->err, -errno, "cannot read log of '%s': %s",
                                   rd->path, strerror(errno));
                if (n == 0)
                        return 0;
                size_t scan = rd->len, start = 0;
                rd->len += (size_t)n;
                char *nl;
                while ((nl = memchr(rd->buf + scan, '\n', rd->len - scan))) {
                        size_t end = (size_t)(nl - rd->buf);
                        if (handle_line(rd, rd->buf + start, end - start))
                                return 1;
                        start = scan = end + 1;
                }
                memmove(rd->buf, rd->buf + start, rd->len - start);
                rd->len -= start;
        }
}

/* Whether a writer still holds the log open (see the top of the file). */
static bool writer_holds(int fd)
{
        if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
                flock(fd, LOCK_UN);
                return false;
        }
        return errno == EWOULDBLOCK;
}

static void wait_change(int ifd)
{
        struct pollfd p = {.fd = ifd, .events = POLLIN};
        if (ifd < 0) {
                poll(NULL, 0, 50);
                return;
        }
        if (poll(&p, 1, FOLLOW_POLL) > 0) {
                char ev[4096];
                while (read(ifd, ev, sizeof(ev)) > 0)
                        ;
        }
}

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int follow(struct reader *rd, struct src *cur, const char *dir)
{
        int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd >= 0 &&
            inotify_add_watch(
                ifd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE) < 0) {
                close(ifd);
                ifd = -1;
        }
        int r;
        for (;;) {
                r = drain(rd, cur);
                if (r != 0)
                        break;
                if (rd->cfg->until_ns > 0 && now_ns() > rd->cfg->until_ns)
                        break;
                struct stat a, b;
                bool held = writer_holds(cur->fd);
                if (fstat(cur->fd, &a) < 0) {
                        r = -errno;
                        break;
                }
                int sr = stat(rd->path, &b);
                bool same = sr == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
                if (sr == 0 && !same) {
                        /* Rotated: whatever went into the old file before the
                         * rename, then the new one. */
                        r = drain(rd, cur);
                        if (r != 0)
                                break;
                        int fd = open(rd->path, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                continue; /* rotated again meanwhile */
                        src_close(cur);
                        cur->fd = fd;
                        rd->len = 0; /* a torn line of the old file stays torn */
                        continue;
                }
                if (!held) {
                        /* The writer closed (or died) and its file still has
                         * the name, or the name is gone (removed): done. */
                        r = drain(rd, cur);
                        break;
                }
                wait_change(ifd);
        }
        if (ifd >= 0)
                close(ifd);
        return r;
}

/* Where the last `want` entries of a plain file begin, and how many there
 * are (fewer than `want` if the file has fewer). */
static int tail_scan(int fd, int64_t want, int64_t *ret_off, int64_t *ret_count)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        char *buf = malloc(65536);
        if (!buf)
                return -ENOMEM;
        int64_t pos = st.st_size, seen = 0;
        while (pos > 0) {
                size_t n = pos < 65536 ? (size_t)pos : 65536;
                pos -= (int64_t)n;
                ssize_t k = pread(fd, buf, n, pos);
                if (k != (ssize_t)n) {
                        free(buf);
                        return k < 0 ? -errno : -EIO;
                }
                for (size_t i = n; i-- > 0;)
                        if (buf[i] == '\n' && ++seen == want + 1) {
                                *ret_off = pos + (int64_t)i + 1;
                                *ret_count = want;
                                free(buf);
                                return 0;
                        }
        }
        free(buf);
        *ret_off = 0;
        *ret_count = seen;
        return 0;
}

static int gz_count(struct src *s, int64_t *ret)
{
        char buf[65536];
        int64_t n = 0;
        int k;
        while ((k = gzread(s->gz, buf, sizeof(buf))) > 0)
                for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + k - p))); p++)
                        n++;
        if (k < 0 || gzrewind(s->gz) < 0)
                return -EIO;
        *ret = n;
        return 0;
}

/* Open "<path>.<i>" or "<path>.<i>.gz". -ENOENT if neither exists. */
static int open_rotated(const char *path, int64_t i, struct src *ret)
{
        char name[PATH_MAX];
        rotated_name(name, sizeof(name), path, i, false);
        int fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                *ret = (struct src){.fd = fd};
                return 0;
        }
        if (errno != ENOENT)
                return -errno;
        rotated_name(name, sizeof(name), path, i, true);
        fd = open(name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        gzFile gz = gzdopen(fd, "rb");
        if (!gz) {
                close(fd);
                return -ENOMEM;
        }
        *ret = (struct src){.fd = fd, .gz = gz};
        return 0;
}

static int drv_read(void *drv, const struct berth_log_info *info, const struct berth_log_read *cfg,
                    berth_log_msg_fn fn, void *userdata, uint64_t flags, struct berth_err *err)
{
        struct drv *d = drv;
        struct src *files = NULL;
        size_t n = 0;
        int r;

        BERTH_CHECK_FLAGS(flags, 0);
        r = check_info(d, info, err);
        if (r < 0)
                return r;
        if (!cfg || !fn)
                return ERR(d, err, -EINVAL, "no read configuration or callback given");

        char *path = log_path(info);
        if (!path)
                return -ENOMEM;
        struct reader rd = {
            .drv = d, .cfg = cfg, .fn = fn, .userdata = userdata, .err = err, .path = path};

        /* Newest first while opening (the order rotation shifts them in),
         * then reversed: oldest first. */
        bool have_current = false;
        for (int64_t i = 0;; i++) {
                struct src s = {.fd = -1};
                if (i == 0) {
                        s.fd = open(path, O_RDONLY | O_CLOEXEC);
                        r = s.fd < 0 ? -errno : 0;
                } else
                        r = open_rotated(path, i, &s);
                if (r == -ENOENT && i > 0)
                        break;
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        r = ERR(d, err, r, "cannot open log of '%s': %s", path, strerror(-r));
                        goto out;
                }
                struct src *f = realloc(files, (n + 1) * sizeof(*files));
                if (!f) {
                        src_close(&s);
                        r = -ENOMEM;
                        goto out;
                }
                files = f;
                files[n++] = s;
                if (i == 0)
                        have_current = true;
        }
        for (size_t i = 0; i < n / 2; i++) {
                struct src t = files[i];
                files[i] = files[n - 1 - i];
                files[n - 1 - i] = t;
        }

        /* tail: find the file and place where the last N entries begin. */
        size_t first = 0;
        int64_t first_off = 0, first_skip = 0;
        if (cfg->tail >= 0) {
                int64_t want = cfg->tail;
                first = n; /* nothing, if there are no files */
                for (size_t i = n; i-- > 0;) {
                        int64_t off = 0, count;
                        if (files[i].gz)
                                r = gz_count(&files[i], &count);
                        else
                                r = tail_scan(files[i].fd, want, &off, &count);
                        if (r < 0) {
                                r = ERR(d, err, r, "cannot read log of '%s': %s", path,
                                        strerror(-r));
                                goto out;
                        }
                        first = i;
                        if (count >= want) {
                                first_off = off;
                                first_skip = files[i].gz ? count - want : 0;
                                break;
                        }
                        want -= count;
                }
        }

        r = 0;
        for (size_t i = first; i < n; i++) {
                rd.len = 0;
                rd.skip = i == first ? first_skip : 0;
                if (i == first && first_off > 0 && lseek(files[i].fd, first_off, SEEK_SET) < 0) {
                        r = ERR(d, err, -errno, "cannot read log of '%s': %s", path,
                                strerror(errno));
                        goto out;
                }
                bool is_current = have_current && i == n - 1;
                if (is_current && cfg->follow)
                        r = follow(&rd, &files[i], info->log_dir);
                else
                        r = drain(&rd, &files[i]);
                if (r != 0)
                        break;
        }
        if (r == 1)
                r = rd.done ? 0 : rd.stop;
out:
        for (size_t i = 0; i < n; i++)
                src_close(&files[i]);
        free(files);
        free(rd.buf);
        free(path);
        return r;
}

/* --- remove --------------------------------------------------------------- */

static int drv_remove(void *drv, const struct berth_log_info *info, uint64_t flags,
                      struct berth_err *err)
{
        struct drv *d = drv;
        BERTH_CHECK_FLAGS(flags, 0);
        int r = check_info(d, info, err);
        if (r < 0)
                return r;

        DIR *dir = opendir(info->log_dir);
        if (!dir) {
                if (errno == ENOENT)
                        return 0;
                return ERR(d, err, -errno, "cannot open log directory '%s': %s", info->log_dir,
                           strerror(errno));
        }
        /* The log, its rotated and compressed files, and leftovers of an
         * interrupted rotation or compression. */
        size_t il = strlen(info->container_id), sl = strlen(LOG_SUFFIX);
        struct dirent *de;
        r = 0;
        while ((de = readdir(dir))) {
                const char *nm = de->d_name;
                if (strncmp(nm, info->container_id, il) != 0 ||
                    strncmp(nm + il, LOG_SUFFIX, sl) != 0 ||
                    (nm[il + sl] != '\0' && nm[il + sl] != '.'))
                        continue;
                if (unlinkat(dirfd(dir), nm, 0) < 0 && errno != ENOENT && r == 0)
                        r = ERR(d, err, -errno, "cannot remove log file '%s/%s': %s", info->log_dir,
                                nm, strerror(errno));
        }
        closedir(dir);
        return r;
}

static const struct berth_option drv_options[] = {
    {"max-size", "20m", "rotate the log when it reaches this size (10m, 1g; -1: never)"},
    {"max-file", "5", "how many log files to keep when rotating"},
    {"compress", "false", "gzip rotated files"},
    {0},
};

static const struct berth_logging_ops drv_ops = {
    .size = sizeof(struct berth_logging_ops),
    .validate = drv_validate,
    .open = drv_open,
    .write = drv_write,
    .close = drv_close,
    .read = drv_read,
    .remove = drv_remove,
};

BERTH_PLUGIN_DEFINE(.kind = BERTH_KIND_LOGGING, .name = "json-file", .version = "1.0.0",
                    .description =
                        "one JSON object per line in the container's directory, with rotation",
                    .features = BERTH_LOG_F_READ, .init = drv_init, .fini = drv_fini,
                    .options = drv_options, .ops = &drv_ops);
