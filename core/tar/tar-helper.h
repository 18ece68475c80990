/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_TAR_TAR_HELPER_H
#define BERTH_TAR_TAR_HELPER_H

/* All tar work runs in berth-tar (programs/berth-tar/), a process of its
 * own: berthd and the berth CLI then never map libarchive and what it brings
 * (libxml2, ICU, libstdc++, the compressors), and a hostile tar that crashes
 * the reader takes down the helper, not the daemon.
 *
 * The protocol: the caller gives the helper its fds (stdin, stdout, a
 * directory as fd 3) and arguments; the helper writes one JSON object on
 * fd 4 before it exits: its result, or {"error": MESSAGE, "errno": -N}. */

#include <jansson.h>

#include "base/err.h"

#define TAR_HELPER_DIR_FD    3
#define TAR_HELPER_RESULT_FD 4

struct tar_helper_io {
        int in;            /* its stdin; -1: /dev/null (or `input`) */
        int out;           /* its stdout; -1: /dev/null */
        int dir;           /* its fd 3; -1: none */
        const char *input; /* when in is -1 and this is set: bytes for its stdin */
};

/* Run "berth-tar ARGS..." with those fds and wait for it. 0 and its result
 * object (in *ret if not NULL), or its error as it said it, or a message
 * naming what happened to it ("tar helper killed by signal 9"). */
int tar_helper_run(const char *const *args, const struct tar_helper_io *io, json_t **ret,
                   struct berth_err *err);

/* berth-tar pack: a tar of `name` in dirfd ("" for dirfd itself), its top
 * entry called `top`, to out_fd (archive_write_tree in tar-archive.h). */
int tar_pack_tree(int dirfd, const char *name, const char *top, int out_fd, struct berth_err *err);

/* berth-tar decompress (tar_decompress in tar-archive.h): in_fd's data,
 * decompressed if it is gzip, xz, bzip2 or zstd, to out_fd (-1: nowhere),
 * its digest and size. */
int tar_decompress_run(int in_fd, int out_fd, const char *read_msg, const char *data_msg,
                       const char *write_msg, char ret_digest[72], int64_t *ret_size,
                       struct berth_err *err);

/* The build context (POST /build's body): a tar, plain or gzip, bzip2, xz
 * or zstd (sniffed from the bytes, whatever Content-Type says), from in_fd
 * unpacked into dest (an empty directory the caller made). Hardened as a
 * layer unpack: nothing lands outside dest or passes through a symlink,
 * hard links stay inside; ".wh." names are plain files; device files,
 * FIFOs and sockets are refused. Every refusal is -EINVAL "build context:
 * ..." ("build context: 'dev/x' is a device file", "... tar entry '../x'
 * would land outside the context (absolute path or '..')"), but for what
 * the host ran out of (-ENOSPC, -EDQUOT, -EFBIG, -EIO ...). Input that is
 * not a tar is -EINVAL "the build context is not a tar archive
 * (Unrecognized archive format)", a truncated or corrupt one -EINVAL "the
 * build context tar is truncated or corrupt (<libarchive's words>)". An
 * empty body is an empty context. On failure dest holds what was unpacked
 * so far: the caller removes it. Owners, modes, mtimes and xattrs are
 * kept. *ret_size (may be NULL): bytes of file content. */
int tar_context_unpack(int in_fd, const char *dest, int64_t *ret_size, struct berth_err *err);

/* COPY and ADD: the source `name` (relative to dirfd; its parents are
 * resolved inside dirfd with RESOLVE_IN_ROOT, itself never followed) as a
 * tar on out_fd, for the hardened unpacker to write into the destination:
 *  - a file or symlink: one entry named `top` (its own name when top is "");
 *  - a directory: its contents, not the directory under its own name, as
 *    COPY does: an entry `top` for the directory itself (its mode and
 *    mtime, with the overrides; so a destination the unpack creates gets
 *    them) then top/child/..., or only child/... when top is "" (the
 *    destination directory keeps what it has);
 * in name order; symlinks are stored, never followed (a top-level one too:
 * the link is copied); modes, mtimes and xattrs kept (not trusted.* or
 * security.selinux); hard links within the source become separate files;
 * sockets are left out. */
struct tar_copy_opts {
        int64_t uid, gid; /* every entry's owner; -1: the file's own */
        int mode;         /* --chmod: permission bits for every entry but
                           * symlinks; -1: the file's own */
        /* COPY --exclude patterns (Docker's .dockerignore syntax, '!'
         * exceptions included), NULL-terminated or NULL; matched against
         * paths relative to a directory source ("sub/x.log"), or against
         * a file source's own name; a bad one fails the pack with -EINVAL
         * "COPY --exclude: syntax error in pattern ..." */
        const char *const *exclude;
};
int tar_pack_copy(int dirfd, const char *name, const char *top, const struct tar_copy_opts *o,
                  int out_fd, struct berth_err *err);

/* The build context on the client side (berth build PATH): a tar of the
 * directory dirfd on out_fd, as the docker CLI makes it: entries in byte
 * order of their names, owners 0:0, modes and mtimes kept, symlinks stored,
 * the context's .dockerignore (read from dirfd) applied with the Dockerfile
 * (dockerfile: its path in the context, NULL "Dockerfile") and the
 * .dockerignore always kept. A Dockerfile from outside the context or from
 * stdin: extra_fd's content (read to its end) is added last as extra_name
 * (".dockerfile.<hex>", mode 0600) and that name is appended to the
 * .dockerignore sent (one is added when the context has none); dockerfile
 * is not kept then. gzip: the tar gzip-compressed (build --compress).
 * *ret_files (may be NULL): entries written; *ret_bytes (may be NULL): the
 * bytes written to out_fd. */
int tar_pack_context(int dirfd, const char *dockerfile, const char *extra_name, int extra_fd,
                     bool gzip, int out_fd, int64_t *ret_files, int64_t *ret_bytes,
                     struct berth_err *err);

/* The helper's side: write the reply for r (result, or err's message when
 * r < 0) on fd 4; returns the exit status to use. */
int tar_helper_reply(int r, json_t *result, const struct berth_err *err);

#endif
