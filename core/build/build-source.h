/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_SOURCE_H
#define BERTH_BUILD_BUILD_SOURCE_H

/* The sources of COPY and ADD in an unpacked build context (or in the
 * rootfs of a stage or image, for COPY --from): finding them (globs, paths
 * kept inside the root) and the digest the cache keys on.
 *
 * Paths are resolved with openat2(RESOLVE_IN_ROOT): ".." and absolute
 * symlinks stay inside the root, as they do for Docker's COPY (a source
 * "../x" is the root's "x" once cleaned; the executor refuses a source that
 * climbs out before cleaning, as Docker: "forbidden path outside the build
 * context"). */

#include <stdbool.h>
#include "base/err.h"

/* The paths in rootfd that the COPY source `pattern` names, cleaned as if
 * rooted ("../x" and "/x" are "x"). Without an unescaped glob character
 * (* ? [, Docker's containsWildcards; a '\' alone does not make a glob):
 * the cleaned path itself, which must exist (its parents resolved inside
 * the root, itself not followed). Else every path whose components match
 * the pattern's (Go's filepath.Match per component), found by walking
 * real directories only (a symlink to a directory is not entered, as Go's
 * filepath.Walk does not), in walk order (sorted component by component).
 * NULL-terminated vector in *ret (strv_free), relative to the root ("."
 * for the root itself); the paths are as cleaned, not resolved:
 * build_source_digest() and tar_pack_copy() resolve them the same way.
 * No match: -ENOENT "no source files were specified" for a glob, "file not
 * found in build context or excluded by .dockerignore: stat X: file does
 * not exist" for a plain path; a bad pattern: -EINVAL "syntax error in
 * pattern". */
int build_source_glob(int rootfd, const char *pattern, char ***ret, struct berth_err *err);

/* path (relative to rootfd) with every symlink resolved inside the root,
 * the last component's too: what Docker's COPY and ADD copy when a source
 * names a symlink (the classic builder's FollowSymlinkInScope, BuildKit's
 * FollowSymlinks), and what to give build_source_digest() and
 * tar_pack_copy() then (they do not follow a top-level link). Relative to
 * the root ("." for the root itself) in *ret. A dangling link: -ENOENT
 * "file not found in build context or excluded by .dockerignore: stat X:
 * file does not exist". */
int build_source_resolve(int rootfd, const char *path, char **ret, struct berth_err *err);

/* The digest the cache keys a source on: sha256 over every entry under
 * `path` (relative to rootfd, its parents resolved inside the root; a
 * file, symlink (not followed) or directory walked in name order): its
 * name relative to path ("." for path itself, so the source's own name
 * does not count: a caller keying several sources adds their paths), type,
 * permission bits, size, link target, device numbers, xattrs (sorted; not
 * trusted.* or security.*) and content (a hard link's content too). mtimes
 * never count; owners only when keep_owner (a COPY from the context sets
 * the owner itself, so the context's uids would only cause misses; COPY
 * --from keeps them). "sha256:<64 hex>" in ret. */
int build_source_digest(int rootfd, const char *path, bool keep_owner, char ret[72],
                        struct berth_err *err);

#endif
