/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_IGNORE_H
#define BERTH_BUILD_BUILD_IGNORE_H

/* .dockerignore: Docker's pattern file and matcher (moby/patternmatcher and
 * its ignorefile reader, as the docker CLI applies them to the context).
 *
 * Reading: a UTF-8 BOM is dropped; a line starting with '#' in column 1 is
 * a comment ("  # x" is a pattern); lines are trimmed; a leading '!' makes
 * an exception; each pattern is cleaned as Go's filepath.Clean does and
 * loses a leading "/" (so "./a", "/a" and "a/" are all "a").
 *
 * Matching: patterns are anchored at the context root; '*' and '?' never
 * match '/'; "**" matches any number of directories (zero included);
 * [...] classes and the '\' escape as Go's filepath.Match. A path is
 * excluded when it or one of its parent directories matches, and the last
 * pattern that matches decides (an exception re-includes). Files and
 * directories match alike.
 *
 * Errors: -EINVAL "illegal exclusion pattern: \"!\"" for a lone '!', and
 * "syntax error in pattern" (Go's filepath.ErrBadPattern) for a bad glob. */

#include <stdbool.h>
#include "base/err.h"

struct build_ignore;

/* Parse the bytes of a .dockerignore (len 0: no patterns). */
int build_ignore_parse(const void *data, size_t len, struct build_ignore **ret,
                       struct berth_err *err);
struct build_ignore *build_ignore_free(struct build_ignore *ig);
/* Append one pattern line, read as a line of the file is. */
int build_ignore_add(struct build_ignore *ig, const char *line, struct berth_err *err);

/* Whether relpath (relative to the context root, '/'-separated) is
 * excluded. is_dir does not change the answer (Docker does not look at the
 * type); a walker that gets true for a directory asks
 * build_ignore_may_include_under() whether to go in anyway. */
bool build_ignore_match(const struct build_ignore *ig, const char *relpath, bool is_dir);

/* Whether an exception could re-include something under the excluded
 * directory dir: Docker's walker test, an exception pattern that starts
 * with "dir/" (so an exception that starts with "**" does not reach into
 * an excluded directory, as in Docker). false: the walker skips the whole subtree. */
bool build_ignore_may_include_under(const struct build_ignore *ig, const char *dir);

/* The CLI still sends the Dockerfile and .dockerignore when the patterns
 * exclude them: add "!.dockerignore" and "!<dockerfile>" exceptions as it
 * does (dockerfile: its path in the context; NULL: "Dockerfile"). */
void build_ignore_keep_build_files(struct build_ignore *ig, const char *dockerfile);

/* The patterns after cleaning ("!" kept on exceptions); i < count. */
size_t build_ignore_count(const struct build_ignore *ig);
const char *build_ignore_pattern(const struct build_ignore *ig, size_t i);

#endif
