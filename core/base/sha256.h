/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_SHA256_H
#define BERTH_BASE_SHA256_H

/* sha256 and the "sha256:<hex>" digests of the content store and the image
 * formats (nettle: small, and no more than a hash is needed; OpenSSL's
 * libcrypto alone would cost berthd 1.4 MB of RSS). berthd and berth-tar
 * both hash. */

#include <nettle/sha2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#undef sha256_digest /* nettle's name for its final step: ours is below */
struct hasher {
        struct sha256_ctx ctx;
};
void hasher_init(struct hasher *h);
void hasher_update(struct hasher *h, const void *p, size_t n);
/* "sha256:<hex>" into buf (72 bytes) */
void hasher_final(struct hasher *h, char buf[72]);
void hasher_done(struct hasher *h);
void sha256_digest(const void *p, size_t n, char buf[72]);
/* Hash what fd holds from its offset to its end, copying it to copy_fd if
 * that is not -1; -errno. */
int hash_fd(int fd, int copy_fd, char ret[72], int64_t *ret_size);
bool digest_valid(const char *d);      /* sha256:<64 lowercase hex> */
const char *digest_hex(const char *d); /* the hex part */

#endif
