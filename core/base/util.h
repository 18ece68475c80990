/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_UTIL_H
#define BERTH_BASE_UTIL_H

/* Small things every part of the core uses: scope-bound cleanup (systemd's
 * _cleanup_ / TAKE_PTR), string and file helpers. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <spawn.h>

#define _cleanup_(f)       __attribute__((cleanup(f)))
#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_strv_     _cleanup_(strv_freep)
#define _unused_           __attribute__((unused))
#define _printf_(a, b)     __attribute__((format(printf, a, b)))
#define _noreturn_         __attribute__((noreturn))
#define _likely_(x)        __builtin_expect(!!(x), 1)
#define _unlikely_(x)      __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Destructors take NULL and return NULL, so `p = foo_free(p);` is safe. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
static inline const char *strempty(const char *s)
{
        return s ? s : "";
}
static inline bool isempty(const char *s)
{
        return !s || !*s;
}
/* The rest of `s` after `prefix`, or NULL if `s` does not start with it. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}
bool endswith(const char *s, const char *suffix);

/* Allocation that cannot fail: berth aborts on out-of-memory, as systemd's
 * programs effectively do; a container engine that cannot allocate a few
 * bytes cannot report anything useful either. */
void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* NULL-terminated string vectors. */
char **strv_free(char **v);
static inline void strv_freep(char ***v)
{
        strv_free(*v);
}
size_t strv_length(char *const *v);
char **strv_push(char **v, char *s);                      /* takes s; returns the new vector */
char **strv_split(const char *s, const char *separators); /* empty fields dropped */
bool strv_contains(char *const *v, const char *s);

/* Parse helpers: 0 or -EINVAL/-ERANGE. */
int parse_bool(const char *s, bool *ret); /* true/false/yes/no/on/off/1/0 */
int parse_int64(const char *s, int64_t *ret);
int parse_size(const char *s, uint64_t *ret); /* "10", "10k", "64m", "1g" (1024-based) */

/* Files. */
/* Go's path.Clean for '/' paths (malloc'd; "." for an empty result). */
char *path_clean(const char *path);
int mkdir_p(const char *path, mode_t mode);
/* rm -rf without following symlinks; a missing path is not an error. */
int rm_rf_at(int dfd, const char *name);
int rm_rf_path(const char *path);
int read_full_file(const char *path, char **ret, size_t *ret_len);
int read_one_line(const char *path, char **ret); /* first line, without the newline */
/* Write atomically: temp file in the same directory, fsync, rename, fsync dir. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same without the fsyncs: readers never see a partial file, but a power
 * loss may lose it. For state that does not outlive a boot (the exec root, a
 * tmpfs) or that is written again before it is used (a container's /etc
 * files, made at each start). */
int write_file_replace(const char *path, const void *data, size_t len, mode_t mode);

int loop_write(int fd, const void *buf, size_t len);
ssize_t loop_read(int fd, void *buf, size_t len); /* until len or EOF */

/* "2 minutes", "About an hour", "3 days" (Go's units.HumanDuration, as
 * docker prints "Up 2 minutes" and "3 days ago"). */
void human_duration(int64_t seconds, char *buf, size_t len);

/* Fill a sockaddr_un for `path`. A path longer than sun_path (deep exec
 * roots and 64-hex IDs get there) is reached through /proc/self/fd/N/NAME
 * with N an O_PATH descriptor of its directory, returned in *ret_dirfd (-1
 * when not needed) for the caller to close after bind() or connect(). */
struct sockaddr_un;
int unix_sockaddr(const char *path, struct sockaddr_un *sa, int *ret_dirfd);

/* Pass a descriptor over a Unix socket (SCM_RIGHTS, with one data byte):
 * fd_send returns 0 or -errno; fd_recv returns the descriptor (close on
 * exec), or -errno, -EBADMSG when the message carried none. */
int fd_send(int sock, int fd);
int fd_recv(int sock);

/* Standard base64 (RFC 4648 §4), with padding. decode refuses a character
 * outside the alphabet; *ret (malloc'd) holds *ret_len bytes. */
char *base64_encode(const void *data, size_t len);
int base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);
/* The URL-safe alphabet ('-' '_'), padded or not: X-Registry-Auth and
 * X-Registry-Config. */
int base64url_decode(const char *s, unsigned char **ret, size_t *ret_len);

/* openat2() of path below rootfd with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
 * and O_CLOEXEC: ".." and absolute symlinks stay inside the root. A leading
 * "/" is dropped, "" or "/" opens the root itself. The fd, or -errno. */
int openat_in_root(int rootfd, const char *path, int flags);

/* One of berth's programs: `name` in each of rel_dirs (NULL-terminated,
 * relative to the directory of the running program: "." for beside it, as
 * in a build tree), then in installed_dir. NULL if none is executable. */
char *find_program(const char *name, const char *const *rel_dirs, const char *installed_dir);
/* Where find_program looks from when this program runs from a copy (a
 * sealed memfd, whose /proc/self/exe names no directory): the path of the
 * file it was copied from. */
void program_path_set(const char *path);

/* A sealed memfd copy of the program at path (CLOEXEC; named after it): a
 * process that runs from it has no /proc/PID/exe on the host's file system
 * for a container to write through (CVE-2019-5736), and the copy itself
 * cannot be written, shrunk or grown. name: the memfd's (NULL: the file's
 * base name). Exec it with fexecve() or by the path
 * /proc/self/fd/N. -errno on failure. */
int sealed_copy(const char *path, const char *name);
/* Does this process run from such a sealed copy? */
bool running_sealed(void);
/* One of berth's helpers (berth-tar, berth-registry, berth-init,
 * berth-shim-dynamic): beside the running program (a build tree: bin/, or
 * ../bin for the test programs), in ../libexec/berth from it, or in
 * <libexecdir>/berth. */
char *find_libexec_program(const char *name);

/* posix_spawn attributes for one of berth's helpers: every signal at its
 * default and none blocked (berthd's threads block its shutdown signals),
 * plus extra_flags (POSIX_SPAWN_SETSID ...). */
void spawnattr_init_clean(posix_spawnattr_t *at, short extra_flags);

int64_t now_ns(void);
/* CLOCK_REALTIME */
/* A point in time as the Engine API takes it in since=, until= and the
 * `until` filters (Docker's timetypes.GetTimestamp): Unix seconds with an
 * optional fraction ("1700000000.5"), RFC 3339 with or without a fraction
 * and zone ("2026-12-07T10:00:00Z", "...+02:00", "2026-12-07T10:00:00"),
 * a date ("2026-12-07"), or a duration before now_ns ("10m", "1h30m",
 * "1.5h", "300ms"). -EINVAL for anything else. */
int parse_timestamp_ns(const char *s, int64_t now, int64_t *ret_ns);
/* A time berth wrote itself (RFC 3339, as json_time_ns() writes it) in
 * nanoseconds since the epoch; 0 for NULL or anything else. */
int64_t parse_rfc3339_ns(const char *s);
int64_t monotonic_ns(void); /* CLOCK_MONOTONIC */

#endif
