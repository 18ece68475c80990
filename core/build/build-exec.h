/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_EXEC_H
#define BERTH_BUILD_BUILD_EXEC_H

/* Shared by build-run.c (the build: context, stages, stream, cache,
 * metadata steps) and build-step.c (the steps that need a container: RUN,
 * COPY, ADD, WORKDIR). Not for other subsystems. */

#include "build.h"
#include "build-expand.h"
#include "build-parse.h"

struct build {
        const struct build_deps *d;
        const struct build_opts *o;
        build_out_fn out;
        void *ud;
        bool streaming; /* a message went out */
        bool cancelled;
        json_t *held;           /* quiet: the messages, sent only on failure */
        char *scratch;          /* <data_root>/build/tmp/<random> */
        char *ctx;              /* scratch/ctx: the context */
        int ctxfd;              /* O_PATH of ctx */
        const char *dockerfile; /* its name in the context (dockerfile=, or remote='s) */
        struct build_file *f;
        struct build_args *args;
        size_t step, nsteps;
        char **stage_ids;   /* the image each built stage ended with */
        unsigned nfiles;    /* heredoc files written to scratch */
        int exit_code;      /* a failed RUN's, for errorDetail.code */
        json_t *cf_ids;     /* --cache-from: the images and their ancestors (a set) */
        json_t *cf_configs; /* --cache-from: the images' configs */
};

/* A stage being built. */
struct stage_state {
        size_t index;
        char *image;    /* the current image ("sha256:..."), NULL: scratch, nothing yet */
        json_t *config; /* its "config" (Docker's Config shape) */
        char *author;   /* MAINTAINER */
        bool cmd_set;   /* a CMD in this stage (an ENTRYPOINT then keeps it) */
};

/* The stream. */
int bout(struct build *b, json_t *msg);
int boutf(struct build *b, const char *fmt, ...) _printf_(2, 3);
/* Whether the client went away (asks the server now and then). */
bool bgone(struct build *b);

/* The shell of the stage: SHELL, or ["/bin/sh", "-c"] (new reference). */
json_t *stage_shell(struct stage_state *st);

/* Commit a step: look its key up in the cache (a hit moves the stage on,
 * prints " ---> Using cache"), else call make to produce the new image
 * (make NULL: a metadata step, the stage's config on the same layers).
 * cache_cmd: the step's ContainerConfig.Cmd (stolen); srcdigest: COPY/ADD's
 * sources, or NULL. */
typedef int (*step_make_fn)(struct build *b, struct stage_state *st, void *arg,
                            json_t *container_config, const char *created_by, char **ret_id,
                            struct berth_err *err);
int step_commit(struct build *b, struct stage_state *st, json_t *cache_cmd, const char *srcdigest,
                step_make_fn make, void *make_arg, struct berth_err *err);

/* build-step.c */
int step_run(struct build *b, struct stage_state *st, const struct build_instr *in,
             struct berth_err *err);
int step_copy(struct build *b, struct stage_state *st, const struct build_instr *in, bool add,
              struct berth_err *err);
int step_workdir(struct build *b, struct stage_state *st, const char *dir, struct berth_err *err);

/* "a b c" as Go's %q prints a []string: ["a" "b" "c"] (new string). */
char *go_quote_strv(json_t *arr);
/* Go's time.Duration String(): "1m30s", "500ms", "0s". */
void go_duration(int64_t ns, char *buf, size_t len);

#endif
