/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_PROGRAMS_BERTH_COMPOSE_H
#define BERTH_PROGRAMS_BERTH_COMPOSE_H

/* `berth compose`: the commands that act on a Compose project through the
 * Engine API. The project itself is loaded by core/compose (compose.h).
 * State lives in the engine as docker compose v2 keeps it: the labels below
 * on containers, networks and volumes; nothing is written on the client.
 *
 *   cli-compose.c         the global flags, the command table, the shared
 *                         helpers below
 *   compose-up.c          up, create, run, down; the plan (what to create,
 *                         recreate, remove and why), the dependency graph,
 *                         waits
 *   compose-life.c        start, stop, restart, rm, kill, pause, unpause
 *   compose-service.c     a service -> a container create body, labels, hash
 *   compose-query.c       ps, ls, images, port, top, events, version, config
 *   compose-logs.c        logs, and the log streams of an attached up
 *   compose-exec.c        exec, cp, wait
 *   compose-image.c       build, pull, push
 */

#include "cli.h"
#include "compose/compose.h"

#define COMPOSE_VERSION "2.29.7" /* com.docker.compose.version we write: v2's format */

#define LABEL_PROJECT "com.docker.compose.project"
#define LABEL_SERVICE "com.docker.compose.service"
#define LABEL_NUMBER  "com.docker.compose.container-number"
#define LABEL_ONEOFF  "com.docker.compose.oneoff"
#define LABEL_HASH    "com.docker.compose.config-hash"
#define LABEL_WORKDIR "com.docker.compose.project.working_dir"
#define LABEL_FILES   "com.docker.compose.project.config_files"
#define LABEL_ENVFILE "com.docker.compose.project.environment_file"
#define LABEL_VERSION "com.docker.compose.version"
#define LABEL_DEPENDS "com.docker.compose.depends_on"
#define LABEL_IMAGE   "com.docker.compose.image"
#define LABEL_SLUG    "com.docker.compose.slug"
#define LABEL_REPLACE "com.docker.compose.replace"
#define LABEL_NETWORK "com.docker.compose.network"
#define LABEL_VOLUME  "com.docker.compose.volume"

struct compose_cli {
        struct cli *cli;
        struct compose_options opts;     /* from the global flags and COMPOSE_* */
        struct compose_project *project; /* loaded on first compose_project() */
        char *name;                      /* the project name, once known */
        bool dry_run;
        bool ansi;            /* colour and in-place progress (--ansi, a TTY) */
        const char *progress; /* auto|tty|plain|json|quiet */
        int parallel;         /* --parallel / COMPOSE_PARALLEL_LIMIT; <= 0: 4 x CPUs */
};

/* The compose context of the running `berth compose` command. */
struct compose_cli *compose_cli(struct cli *cli);

/* Load the project (once): the files from the global flags. Prints the
 * loader's warnings on stderr as compose does. */
int compose_project(struct compose_cli *cc, struct compose_project **ret, struct berth_err *err);

/* The project name without loading the files when it is given (-p or
 * COMPOSE_PROJECT_NAME), else from the loaded project: ps, logs, down and the
 * like work with -p alone, as compose's do. */
int compose_project_name(struct compose_cli *cc, const char **ret, struct berth_err *err);

/* The project's containers: one GET /containers/json with label filters
 * (project, and service when given). all: stopped ones too; oneoff: "run"
 * containers too. Sorted by service, then container number. */
int compose_containers(struct compose_cli *cc, const char *service, bool all, bool oneoff,
                       json_t **ret, struct berth_err *err);

/* "project-service-N" ("project_service_N" with --compatibility). */
char *compose_container_name(struct compose_cli *cc, const char *project, const char *service,
                             int number);

/* The log streams of several containers at once, prefixed "web-1  | " and
 * coloured as compose does (compose-logs.c). `up` adds containers as it
 * starts them. */
struct compose_logs_opts {
        bool follow, timestamps, no_color, no_prefix;
        const char *tail; /* "all" or N; NULL: all */
        const char *since, *until;
};
struct compose_logs;
int compose_logs_open(struct compose_cli *cc, const struct compose_logs_opts *o,
                      struct compose_logs **ret, struct berth_err *err);
/* Start streaming one container (JSON from /containers/json). */
int compose_logs_add(struct compose_logs *l, const json_t *container, struct berth_err *err);
/* Block until every stream has ended (its container stopped, or no follow). */
void compose_logs_wait(struct compose_logs *l);
/* Stop every stream and free. */
void compose_logs_close(struct compose_logs *l);

/* A service as an Engine API container create body (compose-service.c):
 * Config, HostConfig and NetworkingConfig (the first network; the others
 * are connected by the caller with compose_service_networks), the compose
 * labels (project, service, number, oneoff, config-hash, working_dir,
 * config_files, environment_file, version, depends_on, image) and the
 * user's. image_id is the image's ID for the image label (NULL: unknown).
 * number 0 makes a one-off ("run") container. */
struct compose_service_args {
        const struct compose_project *project;
        const char *service;
        int number;
        const char *image_id;
        const char *replace; /* name of the container this one replaces, or NULL */
};
int compose_service_body(struct compose_cli *cc, const struct compose_service_args *sa,
                         json_t **ret_body, struct berth_err *err);
/* The networks after the first, as POST /networks/{id}/connect bodies:
 * [{"network": NAME, "body": {...EndpointConfig...}}]. */
int compose_service_networks(struct compose_cli *cc, const struct compose_service_args *sa,
                             const char *container_name, json_t **ret, struct berth_err *err);
/* Files to copy into the container before it starts (secrets and configs
 * from environment/content): [{"target": path, "content": text, "mode": n}]. */
int compose_service_files(struct compose_cli *cc, const struct compose_service_args *sa,
                          json_t **ret, struct berth_err *err);
/* The image a service runs: image:, else "<project>-<service>" (v1 "_"). */
char *compose_service_image(struct compose_cli *cc, const struct compose_project *p,
                            const char *service);

/* The commands (one cli_command each in cli_compose_sub). */
extern const struct cli_command cli_compose_sub[];
/* Flag tables and commands, each in its file (see the top of this header). */
extern const struct cli_opt compose_up_opts[], compose_create_opts[], compose_run_opts[],
    compose_down_opts[], compose_start_opts[], compose_stop_opts[], compose_restart_opts[],
    compose_rm_opts[], compose_kill_opts[], compose_pause_opts[], compose_ps_opts[],
    compose_ls_opts[], compose_images_opts[], compose_port_opts[], compose_top_opts[],
    compose_events_opts[], compose_version_opts[], compose_config_opts[], compose_logs_opts[],
    compose_exec_opts[], compose_cp_opts[], compose_wait_opts[], compose_build_opts[],
    compose_pull_opts[], compose_push_opts[];
int compose_cmd_up(struct cli *cli, struct cli_args *a);
int compose_cmd_create(struct cli *cli, struct cli_args *a);
int compose_cmd_run(struct cli *cli, struct cli_args *a);
int compose_cmd_down(struct cli *cli, struct cli_args *a);
int compose_cmd_start(struct cli *cli, struct cli_args *a);
int compose_cmd_stop(struct cli *cli, struct cli_args *a);
int compose_cmd_restart(struct cli *cli, struct cli_args *a);
int compose_cmd_rm(struct cli *cli, struct cli_args *a);
int compose_cmd_kill(struct cli *cli, struct cli_args *a);
int compose_cmd_pause(struct cli *cli, struct cli_args *a);
int compose_cmd_unpause(struct cli *cli, struct cli_args *a);
int compose_cmd_ps(struct cli *cli, struct cli_args *a);
int compose_cmd_ls(struct cli *cli, struct cli_args *a);
int compose_cmd_images(struct cli *cli, struct cli_args *a);
int compose_cmd_port(struct cli *cli, struct cli_args *a);
int compose_cmd_top(struct cli *cli, struct cli_args *a);
int compose_cmd_events(struct cli *cli, struct cli_args *a);
int compose_cmd_version(struct cli *cli, struct cli_args *a);
int compose_cmd_config(struct cli *cli, struct cli_args *a);
int compose_cmd_logs(struct cli *cli, struct cli_args *a);
int compose_cmd_exec(struct cli *cli, struct cli_args *a);
int compose_cmd_cp(struct cli *cli, struct cli_args *a);
int compose_cmd_wait(struct cli *cli, struct cli_args *a);
int compose_cmd_build(struct cli *cli, struct cli_args *a);
int compose_cmd_pull(struct cli *cli, struct cli_args *a);
int compose_cmd_push(struct cli *cli, struct cli_args *a);
extern const struct cli_opt cli_compose_opts[];
int cli_cmd_compose(struct cli *cli, struct cli_args *a);

/* Copy the service's secrets and configs from environment or content into
 * a created container (PUT /containers/{id}/archive), as v2 does before
 * every start (compose-service.c). */
int compose_service_copy_files(struct compose_cli *cc, const struct compose_service_args *sa,
                               const char *container_id, struct berth_err *err);

/* The config-hash label compose_service_body writes: the hash of the
 * service with its references (network_mode/ipc/pid "service:X",
 * volumes_from) resolved to the containers the engine has, as v2 compares
 * it; the raw service's when a referenced container is missing. up compares
 * this, not compose_service_hash of the model, with a container's label. */
int compose_service_resolved_hash(struct compose_cli *cc, const struct compose_service_args *sa,
                                  char hex[65], struct berth_err *err);
/* Build the services that have a build section (all of them, or those named
 * in services, NULL-terminated), as `berth compose build [-q]` does
 * (compose-image.c): for `up --build` and missing images. */
int compose_build_services(struct compose_cli *cc, char **services, bool quiet,
                           struct berth_err *err);

#endif
