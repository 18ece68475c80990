/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BUILD_BUILD_PARSE_H
#define BERTH_BUILD_BUILD_PARSE_H

/* The Dockerfile parser: bytes in, stages of instructions out. Nothing is
 * expanded or executed here (build-expand.h does variables, the builder
 * runs the steps); the result keeps each instruction as written, so that the
 * builder can print "Step i/N : <original>" and build the history text.
 *
 * Rules (Docker's classic parser, plus the BuildKit syntax berth accepts on
 * the legacy protocol: heredocs and the BuildKit flags, left to the builder
 * to honour or refuse):
 *  - parser directives (# syntax=, # escape=) only at the very top; the
 *    first line that is not a known directive ends them;
 *  - a line whose first non-blank is '#' is a comment; inside a
 *    continuation comment lines and blank lines are dropped (blank ones
 *    with a warning); the escape character at the end of a line continues it;
 *  - flags (--name[=value]) are taken from the front of every instruction
 *    and checked against the ones the instruction takes;
 *  - RUN, CMD, ENTRYPOINT: a valid JSON array of strings is the exec form,
 *    anything else (even invalid JSON) the shell form; SHELL must be JSON;
 *  - heredocs (<<EOF, <<-EOF, quoted names) on RUN (shell form), COPY, ADD,
 *    also as ONBUILD triggers; the bodies follow the instruction.
 *
 * Errors are -EINVAL with Docker's words, "dockerfile parse error line N:
 * <cause>". The entry point is a pure function of its input (no I/O, no
 * global state), bounded in time (linear in the input) and in recursion:
 * it is the fuzz target. */

#include <stdbool.h>
#include <stdint.h>
#include "base/err.h"

/* Docker's bufio.Scanner limit: a longer physical line is an error. */
#define BUILD_LINE_MAX 65535u

enum build_form {
        BUILD_FORM_NONE,  /* no arguments (CMD alone) or not applicable */
        BUILD_FORM_SHELL, /* args[0]: the rest of the line, as written */
        BUILD_FORM_EXEC,  /* args: the JSON array's strings */
        BUILD_FORM_WORDS, /* args: whitespace-separated words, as written */
        BUILD_FORM_KV,    /* kv: ENV, LABEL, ARG */
};

struct build_flag {
        char *name;  /* without "--" */
        char *value; /* bool flags: "true" or "false" (bare "--link" is "true") */
};

struct build_kv {
        char *key;
        char *value; /* as written (quotes kept, unexpanded); NULL: ARG without default */
};

struct build_heredoc {
        char *name;  /* the delimiter, quotes removed */
        char *body;  /* the lines between, each ending in "\n"; tabs stripped for <<- */
        bool expand; /* false when the delimiter was quoted */
        bool strip_tabs;
        int fd; /* the digits before << (a file descriptor), or -1 if none */
};

struct build_health {
        bool none;                                                           /* HEALTHCHECK NONE */
        int64_t interval_ns, timeout_ns, start_period_ns, start_interval_ns; /* 0: not given */
        int64_t retries;                                                     /* 0: not given */
};

struct build_instr {
        char *keyword;     /* upper-cased: "RUN" */
        unsigned line;     /* first physical line, 1-based */
        unsigned end_line; /* last physical line (heredoc terminators included) */
        char *original;    /* the logical line: continuations joined, as written */
        struct build_flag *flags;
        size_t n_flags;
        enum build_form form;
        char **args; /* NULL-terminated; see form */
        size_t n_args;
        struct build_kv *kv;
        size_t n_kv;
        struct build_heredoc *heredocs;
        size_t n_heredocs;
        struct build_health health; /* HEALTHCHECK; args hold the CMD */
        char *trigger;              /* ONBUILD: the wrapped instruction's text */
        char *trigger_keyword;      /* ONBUILD: its keyword, upper-cased */
};

struct build_stage {
        char *name;     /* lower-cased "AS" name, or NULL */
        char *base;     /* the image or stage name as written (unexpanded) */
        char *platform; /* --platform, or NULL */
        struct build_instr *from;
        struct build_instr *instrs; /* after FROM */
        size_t n_instrs;
};

struct build_file {
        char escape;  /* '\\' or '`' */
        char *syntax; /* "# syntax=" value, or NULL (the classic builder ignores it) */
        struct build_instr *meta_args; /* ARGs before the first FROM */
        size_t n_meta_args;
        struct build_stage *stages;
        size_t n_stages;
        char **warnings; /* NULL-terminated or NULL: Docker's "[WARNING]: ..." lines */
        void *priv;      /* the parser's: an index of the stage names */
};

/* Parse a Dockerfile of len bytes (not NUL-terminated; NULs are data).
 * name is the Dockerfile's name for the empty-file error ("Dockerfile" if
 * NULL). 0 and *ret (build_file_free), or -EINVAL and err. */
int build_parse(const void *data, size_t len, const char *name, struct build_file **ret,
                struct berth_err *err);
struct build_file *build_file_free(struct build_file *f);

/* A deep copy (build_instr_free). */
struct build_instr *build_instr_dup(const struct build_instr *in);
struct build_instr *build_instr_free(struct build_instr *in);

/* A flag of an instruction by name (the last one given), or NULL. */
const struct build_flag *build_instr_flag(const struct build_instr *in, const char *name);

/* A stage by name (case-insensitive) or decimal index, among the first
 * `before` stages; -1 if none. FROM and COPY --from= resolve this way. */
int build_file_stage_index(const struct build_file *f, const char *name_or_index, size_t before);

/* Parse a Go duration ("1m30s", "250ms", "0"): 0 or -EINVAL with Go's words. */
int build_parse_duration(const char *s, int64_t *ret_ns, struct berth_err *err);

#endif
