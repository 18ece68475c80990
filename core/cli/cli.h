/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

/* The berth CLI: commands and flags follow the docker CLI's. One table per
 * command drives both the parsing and the help text. */

#include "client.h"

enum cli_opt_type { CLI_BOOL, CLI_STRING, CLI_INT, CLI_LIST };

struct cli_opt {
        const char *name; /* long name without "--" */
        char shortname;   /* 0: none */
        enum cli_opt_type type;
        const char *help;
        const char *def; /* shown as (default "x"); NULL: none */
};

struct cli_value {
        bool set;
        bool flag;
        char *str;
        char **list;
};

struct cli_command;

struct cli_args {
        const struct cli_command *cmd;
        const char *path;         /* "berth image ls" for messages */
        struct cli_value *values; /* parallel to cmd->opts */
        char **pos;               /* positional arguments */
        size_t n_pos;
};

struct cli {
        struct client client;
        const char *host; /* -H, or NULL */
        bool connected;
        bool debug;
};

struct cli_command {
        const char *name;
        const char *aliases; /* space-separated, e.g. "ls list" */
        const char *usage;   /* after the command path: "[OPTIONS] IMAGE [COMMAND] [ARG...]" */
        const char *summary;
        const char *group;          /* top level only: "common", "management", NULL: plain */
        const struct cli_opt *opts; /* name == NULL terminated, may be NULL */
        int (*run)(struct cli *cli, struct cli_args *a);
        const struct cli_command *sub; /* for management commands */
        int min_args, max_args;        /* max -1: unlimited */
        bool stop_at_positional;       /* flags end at the first argument (run, exec) */
};

/* Parse argv for cmd into a; on error print it docker-style and return -EINVAL. */
int cli_parse(const struct cli_command *cmd, const char *path, int argc, char **argv,
              struct cli_args *a);
void cli_args_done(struct cli_args *a);
void cli_help(const struct cli_command *cmd, const char *path, FILE *f);

bool cli_flag(struct cli_args *a, const char *name);
const char *cli_str(struct cli_args *a, const char *name); /* value or default or NULL */
char **cli_list(struct cli_args *a, const char *name);

/* Connect (and start berthd if needed) on first use. */
int cli_connect(struct cli *cli, struct berth_err *err);

/* Print "berth: message" (or docker's "Error response from daemon: ...")
 * and return the exit status to use. */
int cli_fail(const struct berth_err *err);

/* Go-template-like formatting: {{.A.B}}, {{json .X}}, {{.}}, with "table"
 * for headers; enough for the placeholders docker users write. */
int cli_format(const char *tmpl, json_t *data, FILE *out, struct berth_err *err);

/* Human sizes as docker prints them: "23.5GiB" (binary) / "1.2MB" (decimal). */
void cli_bytes_binary(int64_t n, char *buf, size_t len);
void cli_bytes_decimal(int64_t n, char *buf, size_t len);

/* Commands (cli-*.c). */
extern const struct cli_command cli_system_cmd;
int cli_cmd_version(struct cli *cli, struct cli_args *a);
int cli_cmd_info(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_version_opts[];
extern const struct cli_opt cli_info_opts[];

#endif
