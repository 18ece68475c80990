/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host-wide name claims: flock'd files in a shared directory (hostlock.h). */
#include "hostlock.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct hostlock {
        struct hostlock *next;
        char *dir;
        char *file; /* "bridge-berth0", "subnet-10.213.0.0_16" */
        int fd;
};

/* This process's claims: its own locks are not "another daemon's", and
 * flock() on a second open of a file it holds would fail. */
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hostlock *held;

static bool held_here(const char *dir, const char *file)
{
        bool found = false;
        pthread_mutex_lock(&held_lock);
        for (struct hostlock *l = held; l; l = l->next)
                if (streq(l->dir, dir) && streq(l->file, file))
                        found = true;
        pthread_mutex_unlock(&held_lock);
        return found;
}

/* The directory's own lock, for the short time files are looked at,
 * created or unlinked. */
static int dir_lock(const char *dir, struct berth_err *err)
{
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return err_errno(err, r, "cannot create lock directory '%s'", dir);
        _cleanup_free_ char *p = xasprintf("%s/.lock", dir);
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return err_errno(err, -errno, "cannot open '%s'", p);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        close(fd);
                        return err_errno(err, r, "cannot lock '%s'", p);
                }
        return fd;
}

/* The data root written into a lock file by its holder. */
static void read_owner(int fd, char *buf, size_t len)
{
        ssize_t n = pread(fd, buf, len - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (!*buf)
                snprintf(buf, len, "(unknown)");
}

/* Open dir/file and try its lock: 1 and the fd if this process now holds
 * it, 0 and the holder's data root in `owner` if another does. */
static int try_file(const char *dir, const char *file, int flags, int *ret_fd, char *owner,
                    size_t owner_len, struct berth_err *err)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
        _cleanup_close_ int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
        if (fd < 0)
                return err_errno(err, -errno, "cannot open lock file '%s'", p);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return err_errno(err, -errno, "cannot lock '%s'", p);
                read_owner(fd, owner, owner_len);
                return 0;
        }
        *ret_fd = TAKE_FD(fd);
        return 1;
}

static bool file_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
}

static char *file_name(const char *what, const char *name)
{
        char *f = xasprintf("%s-%s", what, name);
        for (char *c = f; *c; c++)
                if (!file_char_ok(*c))
                        *c = '_';
        return f;
}

static int parse_subnet_file(const char *f, uint32_t *ret_base, int *ret_prefix)
{
        const char *s = startswith(f, "subnet-");
        const char *u = s ? strrchr(s, '_') : NULL;
        if (!u || u - s >= 16)
                return -EINVAL;
        char ip[16];
        snprintf(ip, sizeof(ip), "%.*s", (int)(u - s), s);
        struct in_addr a;
        int64_t p;
        if (inet_pton(AF_INET, ip, &a) != 1 || parse_int64(u + 1, &p) < 0 || p < 0 || p > 32)
                return -EINVAL;
        *ret_base = ntohl(a.s_addr);
        *ret_prefix = (int)p;
        return 0;
}

static bool overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
        int p = pa < pb ? pa : pb;
        uint32_t m = p == 0 ? 0 : 0xffffffffu << (32 - p);
        return (a & m) == (b & m);
}

/* With the directory locked: remove the files of claims whose daemons are
 * gone (killed: nobody released them), and when `subnet`, find the first
 * held subnet file of another process that overlaps base/prefix (1). */
static int scan(const char *dir, bool subnet, uint32_t base, int prefix, char *ret_file,
                size_t file_len, char *owner, size_t owner_len, struct berth_err *err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return err_errno(err, -errno, "cannot read lock directory '%s'", dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || held_here(dir, de->d_name))
                        continue;
                int fd = -1;
                struct berth_err e = {0};
                int r = try_file(dir, de->d_name, 0, &fd, owner, owner_len, &e);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return err_set(err, r, "%s", err_msg(&e));
                if (r > 0) {
                        unlinkat(dirfd(d), de->d_name, 0);
                        close(fd);
                        continue;
                }
                uint32_t b;
                int p;
                if (subnet && parse_subnet_file(de->d_name, &b, &p) == 0 &&
                    overlaps(base, prefix, b, p)) {
                        snprintf(ret_file, file_len, "%s", de->d_name);
                        return 1;
                }
        }
        return 0;
}

static int claim(const char *dir, const char *what, const char *name, const char *file,
                 const char *owner, bool subnet, uint32_t base, int prefix, struct hostlock **ret,
                 struct berth_err *err)
{
        if (held_here(dir, file))
                return err_set(err, -EBUSY, "%s %s is already in use by this daemon", what, name);
        _cleanup_close_ int dfd = dir_lock(dir, err);
        if (dfd < 0)
                return dfd;
        char holder[4096], other[300];
        int r = scan(dir, subnet, base, prefix, other, sizeof(other), holder, sizeof(holder), err);
        if (r < 0)
                return r;
        if (r > 0) {
                uint32_t ob;
                int op;
                char ot[16];
                parse_subnet_file(other, &ob, &op);
                struct in_addr ia = {htonl(ob)};
                inet_ntop(AF_INET, &ia, ot, sizeof(ot));
                return err_set(err, -EBUSY,
                               "%s %s is in use by the daemon of %s (its subnet %s/%d)", what, name,
                               holder, ot, op);
        }
        int fd = -1;
        r = try_file(dir, file, O_CREAT, &fd, holder, sizeof(holder), err);
        if (r < 0)
                return r;
        if (r == 0)
                return err_set(err, -EBUSY, "%s %s is in use by the daemon of %s", what, name,
                               holder);
        _cleanup_free_ char *text = xasprintf("%s\n%d\n", owner, (int)getpid());
        if (ftruncate(fd, 0) < 0 || loop_write(fd, text, strlen(text)) < 0) {
                r = -errno;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
                unlink(p);
                close(fd);
                return err_errno(err, r, "cannot write lock file '%s'", p);
        }
        struct hostlock *l = xzalloc(sizeof(*l));
        l->dir = xstrdup(dir);
        l->file = xstrdup(file);
        l->fd = fd;
        pthread_mutex_lock(&held_lock);
        l->next = held;
        held = l;
        pthread_mutex_unlock(&held_lock);
        *ret = l;
        return 0;
}

int hostlock_claim(const char *dir, const char *what, const char *name, const char *owner,
                   struct hostlock **ret, struct berth_err *err)
{
        if (isempty(name))
                return err_set(err, -EINVAL, "no %s name to claim", what);
        _cleanup_free_ char *file = file_name(what, name);
        return claim(dir, what, name, file, owner, false, 0, 0, ret, err);
}

int hostlock_claim_subnet(const char *dir, uint32_t base, int prefix, const char *owner,
                          struct hostlock **ret, struct berth_err *err)
{
        char ip[16], name[32];
        struct in_addr ia = {htonl(base)};
        inet_ntop(AF_INET, &ia, ip, sizeof(ip));
        snprintf(name, sizeof(name), "%s/%d", ip, prefix);
        _cleanup_free_ char *file = xasprintf("subnet-%s_%d", ip, prefix);
        return claim(dir, "subnet", name, file, owner, true, base, prefix, ret, err);
}

/* Unlink the file and drop the lock. The file goes under the directory's
 * lock: nobody is between open and flock of it then. Without that lock it
 * stays, stale, for the next claim to remove. */
static void drop(struct hostlock *l)
{
        int dfd = dir_lock(l->dir, NULL);
        if (dfd >= 0) {
                _cleanup_free_ char *p = xasprintf("%s/%s", l->dir, l->file);
                unlink(p);
                close(dfd);
        }
        l->fd = safe_close(l->fd);
}

static bool unlist(struct hostlock *l)
{
        bool found = false;
        pthread_mutex_lock(&held_lock);
        for (struct hostlock **pp = &held; *pp; pp = &(*pp)->next)
                if (*pp == l) {
                        *pp = l->next;
                        found = true;
                        break;
                }
        pthread_mutex_unlock(&held_lock);
        return found;
}

struct hostlock *hostlock_release(struct hostlock *l)
{
        if (!l)
                return NULL;
        /* after hostlock_release_all() the name may be another's already */
        if (unlist(l))
                drop(l);
        free(l->dir);
        free(l->file);
        free(l);
        return NULL;
}

void hostlock_release_all(void)
{
        for (;;) {
                pthread_mutex_lock(&held_lock);
                struct hostlock *l = held;
                if (l)
                        held = l->next;
                pthread_mutex_unlock(&held_lock);
                if (!l)
                        return;
                drop(l);
        }
}
