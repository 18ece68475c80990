/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_REMOTE_H
#define BERTH_BUILD_BUILD_REMOTE_H

/* POST /build?remote=URL (docker-py sends it; the docker CLI fetches such
 * contexts itself): the daemon fetches the build context, as moby's
 * builder/remotecontext does.
 *
 *  - A git URL (build_remote_is_git) is cloned by the `git` binary: `git
 *    clone --depth 1 --recurse-submodules [--branch REF] -- URL`, run
 *    without a shell in a clean environment (PATH, HOME, LC_ALL=C,
 *    GIT_TERMINAL_PROMPT=0, ssh in batch mode: nothing ever prompts). A
 *    URL's "#REF:SUBDIR" fragment picks the branch or tag and the
 *    directory of the repository that is the context (".git" stays in the
 *    context when there is no SUBDIR, as in moby).
 *  - Another http(s) URL is downloaded (registry_fetch, in berth-registry):
 *    a text/plain body is the Dockerfile itself (the context is only that
 *    file); anything else must be a tar, plain or compressed, unpacked as
 *    the request body would be (tar_context_unpack). A body sent as
 *    application/octet-stream or without a Content-Type is sniffed, as
 *    moby does: an archive's magic, else text is the Dockerfile.
 */

#include <stdbool.h>

#include "base/err.h"
#include "registry/registry.h"

/* Docker's rule (urlutil.IsGitURL): "git://", "git@" and "github.com/"
 * prefixes, or an http(s) URL whose path ends in ".git" (before an
 * optional "#fragment"). */
bool build_remote_is_git(const char *remote);

/* Whether these first bytes (up to 512) are an archive's: gzip, bzip2, xz,
 * zstd or a tar header; for ADD's local archives and remote= bodies. */
bool build_archive_magic(const void *data, size_t n);

/* Fetch the context `remote` into `dir`, an empty directory the caller
 * made. `scratch` is a directory the caller owns and removes afterwards
 * (with everything in it): the download and a clone whose SUBDIR is the
 * context are kept there. `o` are the [registry] options (CA, insecure
 * hosts, timeout) for the download. *ret_dockerfile: "Dockerfile" when the
 * remote was a Dockerfile (text/plain; the caller must use that name,
 * whatever dockerfile= says, as moby does), else NULL (the caller's
 * dockerfile= applies). On failure `dir` may hold part of the context.
 *
 * Errors (-EINVAL unless said; the caller answers 400 for -EINVAL and
 * -ENOENT, 500 otherwise):
 *   "remote context 'X' is neither a git URL nor an http(s) URL"
 *   "unable to prepare context: unable to 'git clone' to temporary context
 *    directory: <git's stderr>" (-EIO; -ENOENT when git is not installed:
 *    "... : the git program is not installed")
 *   "unable to prepare context: subdirectory 'S' of 'URL' <why>"
 *   "downloading context from 'URL': " + registry_fetch's error (its code)
 *   "downloading context from 'URL': empty response"
 *   "downloading context from 'URL': unsupported Content-Type \"text/html\""
 *   "downloading context from 'URL': " + tar_context_unpack's error */
int build_remote_fetch(const struct registry_opts *o, const char *remote, const char *dir,
                       const char *scratch, char **ret_dockerfile, struct berth_err *err);

/* ADD <url>: the body of `url` as a file of `dir` (an empty directory the
 * caller made, in its build scratch, and removes), ready to be copied as a
 * context file would be: mode 0600, its mtime the Last-Modified header
 * (the epoch without one), not unpacked whatever it is. The file is named
 * as Docker names it: *ret_name is the URL path's last segment, else
 * Content-Disposition's filename, else NULL (the file is then "download":
 * the caller refuses a destination that needs a name, "cannot determine a
 * file name for ADD <url>"). *ret_file (the name in dir) and *ret_digest
 * ("sha256:<hex>" of the content: the cache key, so a changed download
 * misses and an unchanged one hits) are set on success. Errors are
 * registry_fetch's, prefixed "ADD failed: " ("ADD failed: GET URL: 404
 * Not Found"). fn (may be NULL): Docker's "Downloading" progress. */
int build_remote_download(const struct registry_opts *o, const char *url, const char *dir,
                          registry_progress_fn fn, void *userdata, char **ret_name, char **ret_file,
                          char ret_digest[72], struct berth_err *err);

#endif
