/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BASE_HOSTLOCK_H
#define BERTH_BASE_HOSTLOCK_H

/* Host-wide names claimed by one daemon: a bridge, an nftables table, a
 * subnet. Two daemons on one host (two data roots) must not share any of
 * them, or each tears down what the other runs on.
 *
 * A claim is a lock file "<what>-<name>" in a directory every daemon on the
 * host shares (HOSTLOCK_DIR, not an exec root), held with flock(LOCK_EX)
 * for as long as the claim lives and holding the owner's data root, so
 * that a refusal can say which daemon is in the way. The kernel drops the
 * lock when the daemon exits, also on SIGKILL; a file left behind by a
 * dead daemon is stale and taken over. Creating, testing and unlinking
 * files happen under one lock on the directory (".lock"), so that an
 * unlink never races with another daemon's open.
 *
 * Subnets clash when they overlap, not only when they are equal: a subnet
 * claim looks at every held "subnet-" file. */

#include <stdint.h>
#include "err.h"

#define HOSTLOCK_DIR "/run/berth/locks"

struct hostlock;

/* Claim `name` ("berth0") of kind `what` ("bridge", "nftables table") for
 * `owner` (the data root). -EBUSY when another process holds it, with the
 * message "<what> <name> is in use by the daemon of <its owner>". */
int hostlock_claim(const char *dir, const char *what, const char *name, const char *owner,
                   struct hostlock **ret, struct berth_err *err);

/* Claim the IPv4 subnet base/prefix (host order); -EBUSY when a subnet
 * that overlaps it is held by another process ("subnet 10.1.0.0/16 is in
 * use by the daemon of /x (its subnet 10.1.2.0/24)"). */
int hostlock_claim_subnet(const char *dir, uint32_t base, int prefix, const char *owner,
                          struct hostlock **ret, struct berth_err *err);

/* Give the claim up and remove its file. NULL is fine. */
struct hostlock *hostlock_release(struct hostlock *l);

/* Give up every claim of this process, at its exit, so that no file is
 * left behind (the kernel drops the locks anyway; a killed daemon's files
 * are removed by the next claim anywhere on the host). The handles stay
 * valid: hostlock_release() then only frees them. */
void hostlock_release_all(void);

#endif
