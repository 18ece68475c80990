/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `berth compose`: the global flags, the command table and the helpers the
 * commands share (compose.h). */
#include "compose.h"

#include <unistd.h>

const struct cli_opt cli_compose_opts[] = {
    {"ansi", 0, CLI_STRING,
     "Control when to print ANSI control characters (\"never\"|\"always\"|\"auto\")", "auto"},
    {"compatibility", 0, CLI_BOOL, "Run compose in backward compatibility mode", NULL},
    {"dry-run", 0, CLI_BOOL, "Execute command in dry run mode", NULL},
    {"env-file", 0, CLI_LIST, "Specify an alternate environment file", NULL},
    {"file", 'f', CLI_LIST, "Compose configuration files", NULL},
    {"parallel", 0, CLI_INT, "Control max parallelism, -1 for unlimited", "-1"},
    {"profile", 0, CLI_LIST, "Specify a profile to enable", NULL},
    {"progress", 0, CLI_STRING, "Set type of progress output (auto, tty, plain, json, quiet)",
     "auto"},
    {"project-directory", 0, CLI_STRING,
     "Specify an alternate working directory (default: the path of the, first specified, Compose "
     "file)",
     NULL},
    {"project-name", 'p', CLI_STRING, "Project name", NULL},
    {0},
};

const struct cli_command cli_compose_sub[] = {
    {"build", NULL, "[OPTIONS] [SERVICE...]", "Build or rebuild services", NULL, compose_build_opts,
     compose_cmd_build, NULL, 0, -1, false},
    {"config", "convert", "[OPTIONS] [SERVICE...]",
     "Parse, resolve and render compose file in canonical format", NULL, compose_config_opts,
     compose_cmd_config, NULL, 0, -1, false},
    {"cp", NULL,
     "[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n  berth compose cp [OPTIONS] SRC_PATH|- "
     "SERVICE:DEST_PATH",
     "Copy files/folders between a service container and the local filesystem", NULL,
     compose_cp_opts, compose_cmd_cp, NULL, 2, 2, false},
    {"create", NULL, "[OPTIONS] [SERVICE...]", "Creates containers for a service", NULL,
     compose_create_opts, compose_cmd_create, NULL, 0, -1, false},
    {"down", NULL, "[OPTIONS] [SERVICES]", "Stop and remove containers, networks", NULL,
     compose_down_opts, compose_cmd_down, NULL, 0, -1, false},
    {"events", NULL, "[OPTIONS] [SERVICE...]", "Receive real time events from containers", NULL,
     compose_events_opts, compose_cmd_events, NULL, 0, -1, false},
    {"exec", NULL, "[OPTIONS] SERVICE COMMAND [ARGS...]",
     "Execute a command in a running container", NULL, compose_exec_opts, compose_cmd_exec, NULL, 2,
     -1, true},
    {"images", NULL, "[OPTIONS] [SERVICE...]", "List images used by the created containers", NULL,
     compose_images_opts, compose_cmd_images, NULL, 0, -1, false},
    {"kill", NULL, "[OPTIONS] [SERVICE...]", "Force stop service containers", NULL,
     compose_kill_opts, compose_cmd_kill, NULL, 0, -1, false},
    {"logs", NULL, "[OPTIONS] [SERVICE...]", "View output from containers", NULL, compose_logs_opts,
     compose_cmd_logs, NULL, 0, -1, false},
    {"ls", NULL, "[OPTIONS]", "List running compose projects", NULL, compose_ls_opts,
     compose_cmd_ls, NULL, 0, 0, false},
    {"pause", NULL, "[SERVICE...]", "Pause services", NULL, compose_pause_opts, compose_cmd_pause,
     NULL, 0, -1, false},
    {"port", NULL, "[OPTIONS] SERVICE PRIVATE_PORT", "Print the public port for a port binding",
     NULL, compose_port_opts, compose_cmd_port, NULL, 2, 2, false},
    {"ps", NULL, "[OPTIONS] [SERVICE...]", "List containers", NULL, compose_ps_opts, compose_cmd_ps,
     NULL, 0, -1, false},
    {"pull", NULL, "[OPTIONS] [SERVICE...]", "Pull service images", NULL, compose_pull_opts,
     compose_cmd_pull, NULL, 0, -1, false},
    {"push", NULL, "[OPTIONS] [SERVICE...]", "Push service images", NULL, compose_push_opts,
     compose_cmd_push, NULL, 0, -1, false},
    {"restart", NULL, "[OPTIONS] [SERVICE...]", "Restart service containers", NULL,
     compose_restart_opts, compose_cmd_restart, NULL, 0, -1, false},
    {"rm", NULL, "[OPTIONS] [SERVICE...]", "Removes stopped service containers", NULL,
     compose_rm_opts, compose_cmd_rm, NULL, 0, -1, false},
    {"run", NULL, "[OPTIONS] SERVICE [COMMAND] [ARGS...]", "Run a one-off command on a service",
     NULL, compose_run_opts, compose_cmd_run, NULL, 1, -1, true},
    {"start", NULL, "[SERVICE...]", "Start services", NULL, compose_start_opts, compose_cmd_start,
     NULL, 0, -1, false},
    {"stop", NULL, "[OPTIONS] [SERVICE...]", "Stop services", NULL, compose_stop_opts,
     compose_cmd_stop, NULL, 0, -1, false},
    {"top", NULL, "[SERVICES...]", "Display the running processes", NULL, compose_top_opts,
     compose_cmd_top, NULL, 0, -1, false},
    {"unpause", NULL, "[SERVICE...]", "Unpause services", NULL, compose_pause_opts,
     compose_cmd_unpause, NULL, 0, -1, false},
    {"up", NULL, "[OPTIONS] [SERVICE...]", "Create and start containers", NULL, compose_up_opts,
     compose_cmd_up, NULL, 0, -1, false},
    {"version", NULL, "[OPTIONS]", "Show the Docker Compose version information", NULL,
     compose_version_opts, compose_cmd_version, NULL, 0, 0, false},
    {"wait", NULL, "SERVICE [SERVICE...] [OPTIONS]",
     "Block until containers of all (or specified) services stop.", NULL, compose_wait_opts,
     compose_cmd_wait, NULL, 1, -1, false},
    {0},
};

static struct compose_cli *current;

struct compose_cli *compose_cli(struct cli *cli)
{
        (void)cli;
        return current;
}

static const struct cli_command *find_sub(const char *name)
{
        for (const struct cli_command *c = cli_compose_sub; c->name; c++) {
                if (streq(c->name, name))
                        return c;
                if (c->aliases && streq(c->aliases, name))
                        return c;
        }
        return NULL;
}

/* COMPOSE_* switches that are booleans ("1", "true"). */
static bool env_true(const char *name)
{
        const char *v = getenv(name);
        bool b = false;
        return v && parse_bool(v, &b) == 0 && b;
}

int cli_cmd_compose(struct cli *cli, struct cli_args *a)
{
        struct compose_cli cc = {.cli = cli};
        int r;

        if (a->n_pos == 0) {
                static const struct cli_command self = {
                    "compose",
                    NULL,
                    "[OPTIONS] COMMAND",
                    "Define and run multi-container applications",
                    NULL,
                    cli_compose_opts,
                    NULL,
                    cli_compose_sub,
                    0,
                    -1,
                    true};
                cli_help(&self, "berth compose", stdout);
                return 0;
        }
        const struct cli_command *cmd = find_sub(a->pos[0]);
        if (!cmd) {
                fprintf(stderr,
                        "berth: 'compose %s' is not a berth command.\nSee 'berth compose --help'\n",
                        a->pos[0]);
                return 1;
        }

        cc.opts.files = cli_list(a, "file");
        cc.opts.project_name = cli_str(a, "project-name");
        cc.opts.project_dir = cli_str(a, "project-directory");
        cc.opts.env_files = cli_list(a, "env-file");
        cc.opts.profiles = cli_list(a, "profile");
        cc.opts.compatibility = cli_flag(a, "compatibility") || env_true("COMPOSE_COMPATIBILITY");
        cc.dry_run = cli_flag(a, "dry-run");
        cc.progress = cli_str(a, "progress");
        if (streq(cc.progress, "auto") && getenv("COMPOSE_PROGRESS"))
                cc.progress = getenv("COMPOSE_PROGRESS");
        const char *ansi = cli_str(a, "ansi");
        if (streq(ansi, "auto") && getenv("COMPOSE_ANSI"))
                ansi = getenv("COMPOSE_ANSI");
        cc.ansi = streq(ansi, "always") ||
                  (streq(ansi, "auto") && isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
        const char *par = cli_str(a, "parallel");
        if (streq(par, "-1") && getenv("COMPOSE_PARALLEL_LIMIT"))
                par = getenv("COMPOSE_PARALLEL_LIMIT");
        int64_t n = -1;
        if (parse_int64(par, &n) < 0) {
                fprintf(stderr, "invalid --parallel value %s\n", par);
                return 1;
        }
        cc.parallel = n > 0 && n < 1024 ? (int)n : 4 * (int)sysconf(_SC_NPROCESSORS_ONLN);

        current = &cc;
        _cleanup_free_ char *path = xasprintf("berth compose %s", cmd->name);
        struct cli_args sa;
        if (cli_parse(cmd, path, (int)a->n_pos - 1, a->pos + 1, &sa) < 0) {
                cli_args_done(&sa);
                r = 1;
        } else {
                /* the services a command names: their profiles are enabled
                 * and only their env files must exist, as compose loads it */
                _cleanup_free_ char **named = NULL;
                if (streq(cmd->name, "run") || streq(cmd->name, "exec") ||
                    streq(cmd->name, "port")) {
                        if (sa.n_pos > 0) {
                                named = xzalloc(2 * sizeof(char *));
                                named[0] = sa.pos[0];
                        }
                } else if (!streq(cmd->name, "cp") && !streq(cmd->name, "ls") &&
                           !streq(cmd->name, "version") && sa.n_pos > 0) {
                        named = xzalloc((sa.n_pos + 1) * sizeof(char *));
                        memcpy(named, sa.pos, sa.n_pos * sizeof(char *));
                }
                cc.opts.services = named;
                r = cmd->run(cli, &sa);
                cc.opts.services = NULL;
                cli_args_done(&sa);
        }
        current = NULL;
        compose_project_free(cc.project);
        free(cc.name);
        return r;
}

int compose_project(struct compose_cli *cc, struct compose_project **ret, struct berth_err *err)
{
        if (!cc->project) {
                int r = compose_load(&cc->opts, &cc->project, err);
                if (r < 0) {
                        /* the loader's words, printed as compose prints them
                         * (cli_fail: not a daemon's answer) */
                        err->code = -EBADMSG;
                        return -EBADMSG;
                }
                size_t i;
                json_t *w;
                json_array_foreach (cc->project->warnings, i, w)
                        fprintf(stderr, "WARN[0000] %s\n", json_string_value(w));
                if (!cc->name)
                        cc->name = xstrdup(cc->project->name);
        }
        *ret = cc->project;
        return 0;
}

int compose_project_name(struct compose_cli *cc, const char **ret, struct berth_err *err)
{
        if (cc->name) {
                *ret = cc->name;
                return 0;
        }
        const char *n = cc->opts.project_name;
        if (!n)
                n = getenv("COMPOSE_PROJECT_NAME");
        if (n && *n) {
                if (!compose_name_valid(n))
                        return err_set(
                            err, -EINVAL,
                            "invalid project name \"%s\": must consist only of lowercase "
                            "alphanumeric characters, hyphens, and underscores as well "
                            "as start with a letter or number",
                            n);
                cc->name = xstrdup(n);
                *ret = cc->name;
                return 0;
        }
        struct compose_project *p;
        int r = compose_project(cc, &p, err);
        if (r < 0)
                return r;
        *ret = cc->name;
        return 0;
}

static int64_t label_number(json_t *c)
{
        const char *s =
            json_string_value(json_object_get(json_object_get(c, "Labels"), LABEL_NUMBER));
        int64_t n = 0;
        return s && parse_int64(s, &n) == 0 ? n : INT64_MAX;
}

static int by_service_number(const void *x, const void *y)
{
        json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
        const char *sa =
            json_string_value(json_object_get(json_object_get(a, "Labels"), LABEL_SERVICE));
        const char *sb =
            json_string_value(json_object_get(json_object_get(b, "Labels"), LABEL_SERVICE));
        int c = strcmp(sa ?: "", sb ?: "");
        if (c)
                return c;
        int64_t na = label_number(a), nb = label_number(b);
        return na < nb ? -1 : na > nb;
}

int compose_containers(struct compose_cli *cc, const char *service, bool all, bool oneoff,
                       json_t **ret, struct berth_err *err)
{
        const char *name;
        int r = compose_project_name(cc, &name, err);
        if (r < 0)
                return r;
        r = cli_connect(cc->cli, err);
        if (r < 0)
                return r;
        json_auto_t *labels = json_array();
        json_array_append_new(labels, json_sprintf(LABEL_PROJECT "=%s", name));
        if (service)
                json_array_append_new(labels, json_sprintf(LABEL_SERVICE "=%s", service));
        if (!oneoff)
                json_array_append_new(labels, json_string(LABEL_ONEOFF "=False"));
        json_auto_t *filters = json_pack("{s:O}", "label", labels);
        _cleanup_free_ char *fj = json_dumps(filters, JSON_COMPACT);
        if (!fj)
                return err_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ char *q = cli_escape(fj);
        _cleanup_free_ char *path = xasprintf("/containers/json?all=%d&filters=%s", all ? 1 : 0, q);
        json_t *list = NULL;
        r = client_json(&cc->cli->client, "GET", path, NULL, NULL, &list, err);
        if (r < 0)
                return r;
        if (!json_is_array(list)) {
                json_decref(list);
                return err_set(err, -EPROTO, "GET /containers/json: not a list");
        }
        size_t n = json_array_size(list);
        _cleanup_free_ json_t **v = xzalloc((n + 1) * sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(list, i));
        qsort(v, n, sizeof(json_t *), by_service_number);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, v[i]);
        *ret = list;
        return 0;
}

char *compose_container_name(struct compose_cli *cc, const char *project, const char *service,
                             int number)
{
        char sep = cc->opts.compatibility ? '_' : '-';
        return xasprintf("%s%c%s%c%d", project, sep, service, sep, number);
}
