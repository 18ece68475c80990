/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_EXPAND_H
#define BERTH_BUILD_BUILD_EXPAND_H

/* Variables in a Dockerfile: the word expansion Docker's builder applies
 * (not a shell: no globbing, no command substitution), the ARG/ENV scopes a
 * build walks through, the unconsumed-build-arg warning, and which stages a
 * target needs.
 *
 * Expansion: $a ${a} ${a:-w} ${a:+w} ${a:?msg} and, as moby 28 and
 * BuildKit, ${a-w} ${a+w} ${a?msg} (unset only). The escape character
 * (\ or `) makes the next character literal ("\$a" is "$a"); single quotes
 * keep everything literal; inside double quotes the escape character only
 * escapes " $ and itself. Quotes are removed. An unset variable is "".
 *
 * Scopes (moby's BuildArgs):
 *  - build args from the client override ARG defaults; one given without a
 *    value (NULL) overrides nothing but still counts as given;
 *  - ARGs before the first FROM (meta args) are visible in FROM lines only,
 *    unless a stage declares "ARG NAME" again, which takes the meta value
 *    when it has no default of its own;
 *  - in a stage, ENV wins over ARG of the same name;
 *  - the proxy args (HTTP_PROXY ... ALL_PROXY, both cases) need no ARG:
 *    given by the client they are visible, but stay out of the commit and
 *    the cache key unless declared.
 *
 * Errors are -EINVAL with Docker's words. */

#include <stdbool.h>
#include "base/err.h"
#include "build-parse.h"

/* A variable's value, or NULL when unset. */
typedef const char *(*build_lookup_fn)(void *userdata, const char *name);

/* Expand one word (ENV/LABEL values, paths, USER ...) into *ret. */
int build_expand_word(const char *word, char escape, build_lookup_fn lookup, void *userdata,
                      char **ret, struct berth_err *err);
/* Expand and split at unquoted blanks, as EXPOSE does: *ret is a
 * NULL-terminated vector (strv_free); an expansion to nothing gives no word. */
int build_expand_words(const char *word, char escape, build_lookup_fn lookup, void *userdata,
                       char ***ret, struct berth_err *err);

/* Whether the builder expands this instruction's arguments: ADD COPY ENV
 * EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG. RUN, CMD and
 * ENTRYPOINT are left to the shell; ONBUILD's trigger is expanded when it
 * fires, not where it is written. */
bool build_instr_expands(const char *keyword);

/* A copy of in with what the builder expands expanded, all against the
 * scope as it is before the instruction (lookup: build_lookup_meta for
 * FROM, build_lookup_stage otherwise):
 *  - FROM: the base name and --platform (not the stage name);
 *  - ADD, COPY: every source and the destination, --chown and --chmod
 *    (not --from, as moby 20.10);
 *  - ENV, LABEL, ARG: keys and values;
 *  - EXPOSE: each word, split again after expansion;
 *  - VOLUME, WORKDIR, USER, STOPSIGNAL: each argument;
 *  - anything else: an unchanged copy (RUN, CMD and ENTRYPOINT belong to
 *    the shell; ONBUILD's trigger is expanded where it fires).
 * Heredoc bodies are left as written: the builder expands those whose
 * expand flag is set when it writes them. */
int build_expand_instr(const struct build_instr *in, char escape, build_lookup_fn lookup,
                       void *userdata, struct build_instr **ret, struct berth_err *err);

/* Docker's predefined proxy args. */
bool build_arg_is_proxy(const char *name);

struct build_args;

struct build_args *build_args_new(void);
struct build_args *build_args_free(struct build_args *a);
/* A --build-arg from the client; value NULL: given without a value. */
void build_args_set(struct build_args *a, const char *name, const char *value);

/* An ARG before the first FROM: its defaults are expanded with the meta
 * args so far (build_lookup_meta), then declared. */
int build_args_meta(struct build_args *a, const struct build_instr *arg, char escape,
                    struct berth_err *err);
/* A new stage: forget the previous stage's ARGs and ENV; env ("K=V",
 * NULL-terminated, may be NULL) is the base image's Env. */
void build_args_stage(struct build_args *a, char *const *env);
/* ARG in a stage: defaults expanded in the stage scope, then declared. */
int build_args_declare(struct build_args *a, const struct build_instr *arg, char escape,
                       struct berth_err *err);
/* ENV in a stage: every key and value is expanded against the scope as it
 * was before the instruction ("ENV a=1 b=$a" sees the old a), then set;
 * an existing key keeps its place. */
int build_args_env(struct build_args *a, const struct build_instr *env, char escape,
                   struct berth_err *err);

/* Lookups for build_expand_*(); userdata is the struct build_args *. */
const char *build_lookup_meta(void *a, const char *name);  /* FROM lines */
const char *build_lookup_stage(void *a, const char *name); /* in a stage */

/* The stage's environment, "K=V" in order (strv_free). */
char **build_args_env_list(const struct build_args *a);
/* The ARGs in scope for a RUN: "K=V", sorted, leaving out those ENV
 * overrides and those without a value; with_proxies adds the client's
 * undeclared proxy args (for the process environment, not the cache key). */
char **build_args_run_env(const struct build_args *a, bool with_proxies);
/* The client's build args no ARG declared (proxy args never count), sorted
 * (strv_free; NULL if none). */
char **build_args_unconsumed(const struct build_args *a);
/* "[Warning] One or more build-args [A B] were not consumed\n", or NULL. */
char *build_args_unconsumed_warning(const struct build_args *a);

/* Which stages building `target` (a stage name, case-insensitive; NULL or
 * "" for the last stage) needs: the target and, transitively, the stages it
 * names in FROM (expanded with meta_lookup), COPY --from= and RUN
 * --mount=from=. A --from= that still holds a '$' depends, to be safe, on
 * every earlier stage. needed[] has f->n_stages entries. -EINVAL "failed to
 * reach build target X in Dockerfile" for an unknown target. */
int build_stages_needed(const struct build_file *f, const char *target, build_lookup_fn meta_lookup,
                        void *userdata, bool *needed, size_t *ret_target, struct berth_err *err);

#endif
