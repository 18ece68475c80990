/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sha256.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

void hasher_init(struct hasher *h)
{
        sha256_init(&h->ctx);
}

void hasher_update(struct hasher *h, const void *p, size_t n)
{
        sha256_update(&h->ctx, n, p);
}

void hasher_final(struct hasher *h, char buf[72])
{
        uint8_t md[SHA256_DIGEST_SIZE];
        nettle_sha256_digest(&h->ctx, sizeof(md), md);
        strcpy(buf, "sha256:");
        for (unsigned i = 0; i < sizeof(md); i++)
                sprintf(buf + 7 + 2 * i, "%02x", md[i]);
}

void hasher_done(struct hasher *h)
{
        (void)h; /* nettle's context holds nothing to free */
}

void sha256_digest(const void *p, size_t n, char buf[72])
{
        struct hasher h;
        hasher_init(&h);
        hasher_update(&h, p, n);
        hasher_final(&h, buf);
}

int hash_fd(int fd, int copy_fd, char ret[72], int64_t *ret_size)
{
        struct hasher h;
        hasher_init(&h);
        _cleanup_free_ char *buf = xmalloc(256 * 1024);
        ssize_t n;
        int64_t total = 0;
        while ((n = read(fd, buf, 256 * 1024)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                hasher_update(&h, buf, (size_t)n);
                total += n;
                if (copy_fd >= 0) {
                        int r = loop_write(copy_fd, buf, (size_t)n);
                        if (r < 0)
                                return r;
                }
        }
        hasher_final(&h, ret);
        if (ret_size)
                *ret_size = total;
        return 0;
}

bool digest_valid(const char *d)
{
        const char *h = d ? startswith(d, "sha256:") : NULL;
        return h && strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

const char *digest_hex(const char *d)
{
        const char *h = startswith(d, "sha256:");
        return h ? h : d;
}
