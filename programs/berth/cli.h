/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PROGRAMS_BERTH_CLI_H
#define BERTH_PROGRAMS_BERTH_CLI_H

/* The berth CLI: commands and flags follow the docker CLI's. One table per
 * command drives both the parsing and the help text. */

#include "client/client.h"

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
        const char *config_dir; /* --config (client config files), or NULL */
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

/* Percent-escape for a URL query or path part (malloc'ed). */
char *cli_escape(const char *s);
/* -f/--filter key=value flags (and one more key=value, if extra_key) as the
 * API's filters JSON; NULL when there are none. */
char *cli_filters_json(char **flags, const char *extra_key, const char *extra_value);

/* Connect (and start berthd if needed) on first use. */
int cli_connect(struct cli *cli, struct berth_err *err);

/* Print "berth: message" (or docker's "Error response from daemon: ...")
 * and return the exit status to use. */
int cli_fail(const struct berth_err *err);
/* "WARNING! ...\nAre you sure you want to continue? [y/N] ": true for y. */
bool cli_confirm(const char *warning);
/* "k=v" flag values (--label, --opt, --sysctl ...) as a JSON object, "k"
 * alone as "k": "". With need_eq, an entry without '=' makes it NULL and is
 * put in *ret_bad for the caller's message. */
json_t *cli_kv_object(char **list, bool need_eq, const char **ret_bad);
/* POST path?filters=... (the --filter flags, plus extra_key=extra_value if
 * set); prints the list under `key` as "title:" lines as docker does and adds
 * SpaceReclaimed to *ret_reclaimed (if given). */
int cli_prune(struct cli *cli, const char *path, char **filters, const char *extra_key,
              const char *extra_value, const char *key, const char *title, int64_t *ret_reclaimed,
              struct berth_err *err);
void cli_print_reclaimed(int64_t bytes);

/* Go-template-like formatting: {{.A.B}}, {{json .X}}, {{.}}, with "table"
 * for headers; enough for the placeholders docker users write. */
int cli_format(const char *tmpl, json_t *data, FILE *out, struct berth_err *err);

/* Human sizes as docker prints them: "23.5GiB" (binary) / "1.2MB" (decimal). */
void cli_bytes_binary(int64_t n, char *buf, size_t len);
void cli_bytes_decimal(int64_t n, char *buf, size_t len);

/* A JSON message stream being printed (cli-stream.c): feed it with
 * cli_stream_data (a client_data_fn). The first error message is kept. */
struct cli_stream {
        bool quiet;
        char error[BERTH_ERR_MSG_MAX];
        void (*on_aux)(void *userdata, json_t *aux);
        void (*on_status)(void *userdata, const char *status);
        void *userdata;
        char *buf;
        size_t len, cap;
};
int cli_stream_data(void *userdata, const char *data, size_t len);
void cli_stream_done(struct cli_stream *s);

/* Columns as docker prints them (cli-table.c). */
struct cli_table;
struct cli_table *cli_table_new(size_t n_cols);
void cli_table_add(struct cli_table *t, ...); /* n_cols strings (NULL: empty) */
void cli_table_print(struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);
/* "2 minutes", "About an hour", "3 days" (Go's units.HumanDuration). */
void cli_human_duration(int64_t seconds, char *buf, size_t len);
/* "2 minutes ago" */
void cli_time_ago(int64_t unix_seconds, char *buf, size_t len);

/* Commands (cli-*.c). */
extern const struct cli_opt cli_pull_opts[], cli_push_opts[], cli_login_opts[];
int cli_cmd_pull(struct cli *cli, struct cli_args *a);
int cli_cmd_push(struct cli *cli, struct cli_args *a);
int cli_cmd_login(struct cli *cli, struct cli_args *a);
int cli_cmd_logout(struct cli *cli, struct cli_args *a);
/* Pull an image for run/create, progress on stderr (cli-registry.c). */
int cli_pull_image(struct cli *cli, const char *name, const char *platform, struct berth_err *err);
/* X-Registry-Config: base64url of the JSON of every credential in
 * config.json ("e30=" when there are none), as the docker CLI sends it
 * with a build (cli-registry.c). */
char *cli_registry_config(struct cli *cli);
extern const struct cli_opt cli_build_opts[];
int cli_cmd_build(struct cli *cli, struct cli_args *a); /* cli-build.c */
extern const struct cli_command cli_builder_sub[];
int cli_cmd_diff(struct cli *cli, struct cli_args *a);
int cli_cmd_history(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_history_opts[];
extern const struct cli_command cli_system_sub[];
extern const struct cli_command cli_image_sub[];
extern const struct cli_command cli_container_sub[];
extern const struct cli_command cli_volume_sub[]; /* cli-volume.c */
extern const struct cli_command cli_network_sub[];
int cli_cmd_port(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_create_opts[], cli_ps_opts[], cli_rm_opts[], cli_inspect_opts[];
/* The create body from create/run flags; the image is a->pos[image_index]. */
int cli_create_body(struct cli_args *a, size_t image_index, json_t **ret_body, char **ret_name);
int cli_create(struct cli *cli, struct cli_args *a, char ret_id[65], struct berth_err *err);
int cli_fail125(const struct berth_err *err);
int cli_cmd_create(struct cli *cli, struct cli_args *a);
int cli_cmd_ps(struct cli *cli, struct cli_args *a);
int cli_cmd_rm(struct cli *cli, struct cli_args *a);
int cli_cmd_rename(struct cli *cli, struct cli_args *a);
int cli_cmd_inspect(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_start_opts[], cli_stop_opts[], cli_kill_opts[], cli_logs_opts[];
int cli_cmd_run(struct cli *cli, struct cli_args *a);
int cli_cmd_start(struct cli *cli, struct cli_args *a);
int cli_cmd_stop(struct cli *cli, struct cli_args *a);
int cli_cmd_restart(struct cli *cli, struct cli_args *a);
int cli_cmd_kill(struct cli *cli, struct cli_args *a);
int cli_cmd_wait(struct cli *cli, struct cli_args *a);
int cli_cmd_logs(struct cli *cli, struct cli_args *a);
int cli_cmd_pause(struct cli *cli, struct cli_args *a);
int cli_cmd_unpause(struct cli *cli, struct cli_args *a);
int cli_cmd_top(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_exec_opts[];
int cli_cmd_exec(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_export_opts[];
int cli_cmd_export(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_commit_opts[];
int cli_cmd_commit(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_attach_opts[];
int cli_cmd_attach(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_stats_opts[];
extern const struct cli_opt cli_events_opts[];
int cli_cmd_events(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_cp_opts[];
int cli_cmd_cp(struct cli *cli, struct cli_args *a);
int cli_cmd_stats(struct cli *cli, struct cli_args *a);

extern const struct cli_opt cli_images_opts[], cli_rmi_opts[], cli_load_opts[], cli_save_opts[],
    cli_import_opts[], cli_df_opts[];
int cli_cmd_images(struct cli *cli, struct cli_args *a);
int cli_cmd_tag(struct cli *cli, struct cli_args *a);
int cli_cmd_rmi(struct cli *cli, struct cli_args *a);
int cli_cmd_load(struct cli *cli, struct cli_args *a);
int cli_cmd_save(struct cli *cli, struct cli_args *a);
int cli_cmd_import(struct cli *cli, struct cli_args *a);
int cli_cmd_system_df(struct cli *cli, struct cli_args *a);
int cli_cmd_version(struct cli *cli, struct cli_args *a);
int cli_cmd_info(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_version_opts[];
extern const struct cli_opt cli_info_opts[];

#endif
