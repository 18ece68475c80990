/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <time.h>

bool endswith(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static _noreturn_ void oom(void)
{
        static const char msg[] = "berth: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xzalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                oom();
        return p;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *p;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom();
        return p;
}

char **strv_free(char **v)
{
        if (!v)
                return NULL;
        for (char **i = v; *i; i++)
                free(*i);
        free(v);
        return NULL;
}

size_t strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_push(char **v, char *s)
{
        size_t n = strv_length(v);
        v = xrealloc(v, (n + 2) * sizeof(char *));
        v[n] = s;
        v[n + 1] = NULL;
        return v;
}

char **strv_split(const char *s, const char *separators)
{
        char **v = xzalloc(sizeof(char *));
        while (s && *s) {
                size_t skip = strspn(s, separators);
                s += skip;
                if (!*s)
                        break;
                size_t l = strcspn(s, separators);
                v = strv_push(v, xstrndup(s, l));
                s += l;
        }
        return v;
}

bool strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (streq(*v, s))
                        return true;
        return false;
}

int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"1", "true", "yes", "on"};
        static const char *const no[] = {"0", "false", "no", "off"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_int64(const char *s, int64_t *ret)
{
        char *end;
        if (isempty(s) || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
        char *end;
        if (isempty(s) || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        uint64_t mul = 1;
        switch (tolower((unsigned char)*end)) {
        case '\0':
                break;
        case 'b':
                mul = 1;
                break;
        case 'k':
                mul = 1ull << 10;
                break;
        case 'm':
                mul = 1ull << 20;
                break;
        case 'g':
                mul = 1ull << 30;
                break;
        case 't':
                mul = 1ull << 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end) {
                end++;
                /* accept "k", "kb", "kib" */
                if (mul > 1 && tolower((unsigned char)*end) == 'i')
                        end++;
                if (mul > 1 && tolower((unsigned char)*end) == 'b')
                        end++;
                if (*end)
                        return -EINVAL;
        }
        if (v > UINT64_MAX / mul)
                return -ERANGE;
        *ret = v * mul;
        return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int read_full_file(const char *path, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap >= (64u << 20))
                                return -EFBIG;
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_one_line(const char *path, char **ret)
{
        char *s;
        int r = read_full_file(path, &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        *ret = s;
        return 0;
}

int loop_write(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

ssize_t loop_read(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t)n;
        }
        return (ssize_t)done;
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_free_ char *dir = xstrdup(path);
        int r;

        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, data, len);
        if (r >= 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        if (!durable)
                return 0;
        _cleanup_close_ int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void)fsync(dfd);
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
        return write_replace(path, data, len, mode, true);
}

int write_file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
        return write_replace(path, data, len, mode, false);
}

void human_duration(int64_t seconds, char *buf, size_t len)
{
        int64_t s = seconds < 0 ? 0 : seconds;
        if (s < 1)
                snprintf(buf, len, "Less than a second");
        else if (s == 1)
                snprintf(buf, len, "1 second");
        else if (s < 60)
                snprintf(buf, len, "%lld seconds", (long long)s);
        else if (s / 60 == 1)
                snprintf(buf, len, "About a minute");
        else if (s / 60 < 60)
                snprintf(buf, len, "%lld minutes", (long long)(s / 60));
        else if ((s + 1800) / 3600 == 1)
                snprintf(buf, len, "About an hour");
        else if (s / 3600 < 48)
                snprintf(buf, len, "%lld hours", (long long)((s + 1800) / 3600));
        else if (s / 3600 < 24 * 7 * 2)
                snprintf(buf, len, "%lld days", (long long)(s / 86400));
        else if (s / 3600 < 24 * 30 * 2)
                snprintf(buf, len, "%lld weeks", (long long)(s / (86400 * 7)));
        else if (s / 3600 < 24 * 365 * 2)
                snprintf(buf, len, "%lld months", (long long)(s / (86400 * 30)));
        else
                snprintf(buf, len, "%lld years", (long long)(s / (86400 * 365)));
}

/* Go's time.ParseDuration for the units Docker users write. */
static int parse_duration_ns(const char *s, int64_t *ret)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},  {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;
        bool neg = *s == '-';
        if (*s == '-' || *s == '+')
                s++;
        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                if (!(*s >= '0' && *s <= '9') && *s != '.')
                        return -EINVAL;
                errno = 0;
                double v = strtod(s, &end);
                if (errno || end == s)
                        return -EINVAL;
                s = end;
                size_t best = 0, bi = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        if (l > best && strncmp(s, units[i].unit, l) == 0) {
                                best = l;
                                bi = i;
                        }
                }
                if (!best)
                        return -EINVAL;
                total += v * units[bi].ns;
                s += best;
        }
        if (total > 9.2e18)
                return -ERANGE;
        *ret = (int64_t)(neg ? -total : total);
        return 0;
}

/* RFC 3339 and its shorter forms, without a zone UTC; -EINVAL unless the
 * whole string is one. */
static int parse_rfc3339(const char *s, int64_t *ret_ns)
{
        struct tm tm = {0};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!p) {
                memset(&tm, 0, sizeof(tm));
                p = strptime(s, "%Y-%m-%dT%H:%M", &tm);
        }
        if (!p) {
                memset(&tm, 0, sizeof(tm));
                p = strptime(s, "%Y-%m-%d", &tm);
                if (!p || *p)
                        return -EINVAL;
        }
        int64_t ns = 0;
        if (*p == '.') {
                int64_t scale = 100000000;
                const char *f = ++p;
                for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
                        ns += (*p - '0') * scale;
                if (p == f)
                        return -EINVAL;
        }
        int64_t t = (int64_t)timegm(&tm);
        if (*p == 'Z' || *p == 'z')
                p++;
        else if (*p == '+' || *p == '-') {
                int hh, mm, n = 0;
                if (sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || hh > 23 || mm > 59)
                        return -EINVAL;
                t -= (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
                p += 1 + n;
        }
        if (*p)
                return -EINVAL;
        *ret_ns = t * 1000000000 + ns;
        return 0;
}

int64_t parse_rfc3339_ns(const char *s)
{
        int64_t t;
        return s && parse_rfc3339(s, &t) == 0 ? t : 0;
}

int parse_timestamp_ns(const char *s, int64_t now, int64_t *ret_ns)
{
        if (isempty(s))
                return -EINVAL;
        int64_t d;
        if (parse_duration_ns(s, &d) == 0) {
                *ret_ns = now - d;
                return 0;
        }
        /* Unix seconds, with an optional fraction */
        char *end;
        errno = 0;
        long long sec = strtoll(s, &end, 10);
        if (!errno && end != s && (*end == '\0' || *end == '.')) {
                int64_t ns = 0;
                if (*end == '.') {
                        const char *f = end + 1;
                        int digits = 0;
                        for (; *f >= '0' && *f <= '9'; f++, digits++)
                                if (digits < 9)
                                        ns = ns * 10 + (*f - '0');
                        if (*f || f == end + 1)
                                return -EINVAL;
                        for (; digits < 9; digits++)
                                ns *= 10;
                }
                *ret_ns = (int64_t)sec * 1000000000 + ns;
                return 0;
        }
        return parse_rfc3339(s, ret_ns);
}

int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t monotonic_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int unix_sockaddr(const char *path, struct sockaddr_un *sa, int *ret_dirfd)
{
        *ret_dirfd = -1;
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (strlen(path) < sizeof(sa->sun_path)) {
                strcpy(sa->sun_path, path);
                return 0;
        }
        const char *slash = strrchr(path, '/');
        if (!slash || strlen(slash + 1) > 64)
                return -ENAMETOOLONG;
        _cleanup_free_ char *dir = xstrndup(path, (size_t)(slash - path));
        int fd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", fd, slash + 1);
        *ret_dirfd = fd;
        return 0;
}

/* Room for one descriptor, aligned for a cmsghdr. */
union fd_cmsg {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
};

int fd_send(int sock, int fd)
{
        char data = 'T';
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union fd_cmsg u = {0};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int fd_recv(int sock)
{
        char data;
        struct iovec iov = {.iov_base = &data, .iov_len = 1};
        union fd_cmsg u;
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = u.buf,
                             .msg_controllen = sizeof(u.buf)};
        while (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
                if (errno != EINTR)
                        return -errno;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG;
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
        const unsigned char *p = data;
        char *out = xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < len)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < len)
                        v |= p[i + 2];
                *o++ = b64[v >> 18];
                *o++ = b64[(v >> 12) & 63];
                *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? b64[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

int base64url_decode(const char *s, unsigned char **ret, size_t *ret_len)
{
        size_t n = strlen(s);
        _cleanup_free_ char *b = xzalloc(n + 4);
        for (size_t i = 0; i < n; i++)
                b[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        while (n % 4)
                b[n++] = '=';
        return base64_decode(b, n, ret, ret_len);
}

int base64_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len)
{
        unsigned char *out = xmalloc(len / 4 * 3 + 3), *o = out;
        uint32_t v = 0;
        int bits = 0;
        size_t i = 0;
        for (; i < len && s[i] != '='; i++) {
                const char *c = memchr(b64, s[i], 64);
                if (!c || !s[i]) {
                        free(out);
                        return -EINVAL;
                }
                v = (v << 6) | (uint32_t)(c - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        *o++ = (unsigned char)(v >> bits);
                }
        }
        /* only padding may follow, and no more than it takes */
        size_t pad = 0;
        for (; i < len; i++, pad++)
                if (s[i] != '=' || pad >= 2) {
                        free(out);
                        return -EINVAL;
                }
        *ret = out;
        *ret_len = (size_t)(o - out);
        return 0;
}

int openat_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        while (*path == '/')
                path++;
        int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

void spawnattr_init_clean(posix_spawnattr_t *at, short extra_flags)
{
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_init(at);
        posix_spawnattr_setsigmask(at, &none);
        posix_spawnattr_setsigdefault(at, &all);
        posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | extra_flags);
}

static const char *program_path;

void program_path_set(const char *path)
{
        program_path = path;
}

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int sealed_copy(const char *path, const char *name)
{
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        struct stat st;
        if (fstat(in, &st) < 0)
                return -errno;
        _cleanup_free_ char *base = xstrdup(path);
        _cleanup_close_ int fd =
            memfd_create(name ?: basename(base), MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = sendfile(fd, in, NULL, (size_t)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                left -= n;
        }
        if (fchmod(fd, 0555) < 0 || fcntl(fd, F_ADD_SEALS, SEALS) < 0)
                return -errno;
        return TAKE_FD(fd);
}

bool running_sealed(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        int seals = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & SEALS) == SEALS;
}

char *find_program(const char *name, const char *const *rel_dirs, const char *installed_dir)
{
        char self[4096];
        ssize_t n = program_path ? (ssize_t)strlen(program_path)
                                 : readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (program_path && (size_t)n < sizeof(self))
                memcpy(self, program_path, (size_t)n);
        if (n > 0 && (size_t)n < sizeof(self)) {
                self[n] = '\0';
                const char *dir = dirname(self);
                for (size_t i = 0; rel_dirs && rel_dirs[i]; i++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s/%s", dir, rel_dirs[i], name);
                        if (access(p, X_OK) == 0)
                                return realpath(p, NULL);
                }
        }
        _cleanup_free_ char *p = xasprintf("%s/%s", installed_dir, name);
        return access(p, X_OK) == 0 ? TAKE_PTR(p) : NULL;
}

char *find_libexec_program(const char *name)
{
        static const char *const rel[] = {".", "../bin", "../libexec/berth", NULL};
        return find_program(name, rel, BERTH_LIBEXECDIR "/berth");
}

/* --- files ----------------------------------------------------------- */

int rm_rf_at(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                DIR *d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return -errno;
                }
                struct dirent *de;
                int r = 0;
                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                if ((r = rm_rf_at(dirfd(d), de->d_name)) < 0)
                                        break;
                closedir(d);
                if (r < 0)
                        return r;
                return unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
        }
        return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

int rm_rf_path(const char *path)
{
        return rm_rf_at(AT_FDCWD, path);
}

char *path_clean(const char *path)
{
        bool rooted = path[0] == '/';
        size_t n = strlen(path);
        char *out = xmalloc(n + 2);
        size_t w = 0, dotdot = 0; /* dotdot: where ".." can no longer back up */
        if (rooted) {
                out[w++] = '/';
                dotdot = 1;
        }
        for (size_t r = rooted ? 1 : 0; r < n;) {
                if (path[r] == '/') {
                        r++;
                } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
                        r++;
                } else if (path[r] == '.' && path[r + 1] == '.' &&
                           (r + 2 == n || path[r + 2] == '/')) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if ((rooted && w != 1) || (!rooted && w != 0))
                                out[w++] = '/';
                        for (; r < n && path[r] != '/'; r++)
                                out[w++] = path[r];
                }
        }
        if (w == 0)
                out[w++] = '.';
        out[w] = 0;
        return out;
}
