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

struct registry_opts;

/* Docker's rule (urlutil.IsGitURL): "git://", "git@" and "github.com/"
 * prefixes, or an http(s) URL whose path ends in ".git" (before an
 * optional "#fragment"). */
bool build_remote_is_git(const char *remote);

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

#endif
