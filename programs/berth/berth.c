/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth: the CLI. A client of the Engine API; commands and flags follow the
 * docker CLI's. */
#include "cli.h"
#include "compose.h"

#include <signal.h>

static const struct cli_opt global_opts[] = {
    {"config", 0, CLI_STRING, "Location of client config files", "~/.berth"},
    {"debug", 'D', CLI_BOOL, "Enable debug mode", NULL},
    {"host", 'H', CLI_STRING,
     "Daemon socket to connect to (default \"" CLIENT_DEFAULT_HOST "\", or $BERTH_HOST)", NULL},
    {"log-level", 'l', CLI_STRING,
     "Set the logging level (\"debug\"|\"info\"|\"warn\"|\"error\"|\"fatal\")", "info"},
    {"version", 'v', CLI_BOOL, "Print version information and quit", NULL},
    {0},
};

static const struct cli_command top_sub[] = {
    {"create", NULL, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", "common",
     cli_create_opts, cli_cmd_create, NULL, 1, -1, true},
    {"run", NULL, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
     "Create and run a new container from an image", "common", cli_create_opts, cli_cmd_run, NULL,
     1, -1, true},
    {"exec", NULL, "[OPTIONS] CONTAINER COMMAND [ARG...]",
     "Execute a command in a running container", "common", cli_exec_opts, cli_cmd_exec, NULL, 2, -1,
     true},
    {"ps", NULL, "[OPTIONS]", "List containers", "common", cli_ps_opts, cli_cmd_ps, NULL, 0, 0,
     false},

    {"build", NULL, "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", "common",
     cli_build_opts, cli_cmd_build, NULL, 1, 1, false},
    {"pull", NULL, "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", "common",
     cli_pull_opts, cli_cmd_pull, NULL, 1, 1, false},
    {"push", NULL, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry", "common", cli_push_opts,
     cli_cmd_push, NULL, 1, 1, false},
    {"images", NULL, "[OPTIONS] [REPOSITORY[:TAG]]", "List images", "common", cli_images_opts,
     cli_cmd_images, NULL, 0, 1, false},
    {"login", NULL, "[OPTIONS] [SERVER]", "Log in to a registry", "common", cli_login_opts,
     cli_cmd_login, NULL, 0, 1, false},
    {"logout", NULL, "[SERVER]", "Log out from a registry", "common", NULL, cli_cmd_logout, NULL, 0,
     1, false},
    {"info", NULL, "[OPTIONS]", "Display system-wide information", "common", cli_info_opts,
     cli_cmd_info, NULL, 0, 0, false},
    {"version", NULL, "[OPTIONS]", "Show the berth version information", "common", cli_version_opts,
     cli_cmd_version, NULL, 0, 0, false},

    {"compose", NULL, "[OPTIONS] COMMAND", "Define and run multi-container applications",
     "management", cli_compose_opts, cli_cmd_compose, NULL, 0, -1, true},
    {"builder", NULL, "COMMAND", "Manage builds", "management", NULL, NULL, cli_builder_sub, 0, -1,
     false},
    {"container", NULL, "COMMAND", "Manage containers", "management", NULL, NULL, cli_container_sub,
     0, -1, false},
    {"image", NULL, "COMMAND", "Manage images", "management", NULL, NULL, cli_image_sub, 0, -1,
     false},
    {"network", NULL, "COMMAND", "Manage networks", "management", NULL, NULL, cli_network_sub, 0,
     -1, false},
    {"system", NULL, "COMMAND", "Manage berth", "management", NULL, NULL, cli_system_sub, 0, -1,
     false},
    {"volume", NULL, "COMMAND", "Manage volumes", "management", NULL, NULL, cli_volume_sub, 0, -1,
     false},

    {"attach", NULL, "[OPTIONS] CONTAINER",
     "Attach local standard input, output, and error streams to a running container", NULL,
     cli_attach_opts, cli_cmd_attach, NULL, 1, 1, false},
    {"commit", NULL, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
     "Create a new image from a container's changes", NULL, cli_commit_opts, cli_cmd_commit, NULL,
     1, 2, false},
    {"diff", NULL, "CONTAINER",
     "Inspect changes to files or directories on a container's filesystem", NULL, NULL,
     cli_cmd_diff, NULL, 1, 1, false},
    {"export", NULL, "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive",
     NULL, cli_export_opts, cli_cmd_export, NULL, 1, 1, false},
    {"history", NULL, "[OPTIONS] IMAGE", "Show the history of an image", NULL, cli_history_opts,
     cli_cmd_history, NULL, 1, 1, false},
    {"import", NULL, "[OPTIONS] file|- [REPOSITORY[:TAG]]",
     "Import the contents from a tarball to create a filesystem image", NULL, cli_import_opts,
     cli_cmd_import, NULL, 1, 2, false},
    {"inspect", NULL, "[OPTIONS] NAME|ID [NAME|ID...]",
     "Return low-level information on berth objects", NULL, cli_inspect_opts, cli_cmd_inspect, NULL,
     1, -1, false},
    {"kill", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
     NULL, cli_kill_opts, cli_cmd_kill, NULL, 1, -1, false},
    {"logs", NULL, "[OPTIONS] CONTAINER", "Fetch the logs of a container", NULL, cli_logs_opts,
     cli_cmd_logs, NULL, 1, 1, false},
    {"pause", NULL, "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers",
     NULL, NULL, cli_cmd_pause, NULL, 1, -1, false},
    {"top", NULL, "CONTAINER [ps OPTIONS]", "Display the running processes of a container", NULL,
     NULL, cli_cmd_top, NULL, 1, -1, false},
    {"cp", NULL,
     "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  berth cp [OPTIONS] SRC_PATH|- "
     "CONTAINER:DEST_PATH",
     "Copy files/folders between a container and the local filesystem", NULL, cli_cp_opts,
     cli_cmd_cp, NULL, 2, 2, false},
    {"events", NULL, "[OPTIONS]", "Get real time events from the server", NULL, cli_events_opts,
     cli_cmd_events, NULL, 0, 0, false},
    {"stats", NULL, "[OPTIONS] [CONTAINER...]",
     "Display a live stream of container(s) resource usage statistics", NULL, cli_stats_opts,
     cli_cmd_stats, NULL, 0, -1, false},
    {"unpause", NULL, "CONTAINER [CONTAINER...]",
     "Unpause all processes within one or more containers", NULL, NULL, cli_cmd_unpause, NULL, 1,
     -1, false},
    {"restart", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers", NULL,
     cli_stop_opts, cli_cmd_restart, NULL, 1, -1, false},
    {"start", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
     NULL, cli_start_opts, cli_cmd_start, NULL, 1, -1, false},
    {"stop", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
     NULL, cli_stop_opts, cli_cmd_stop, NULL, 1, -1, false},
    {"wait", NULL, "CONTAINER [CONTAINER...]",
     "Block until one or more containers stop, then print their exit codes", NULL, NULL,
     cli_cmd_wait, NULL, 1, -1, false},
    {"load", NULL, "[OPTIONS]", "Load an image from a tar archive or STDIN", NULL, cli_load_opts,
     cli_cmd_load, NULL, 0, 0, false},
    {"port", NULL, "CONTAINER [PRIVATE_PORT[/PROTO]]",
     "List port mappings or a specific mapping for the container", NULL, NULL, cli_cmd_port, NULL,
     1, 2, false},
    {"rename", NULL, "CONTAINER NEW_NAME", "Rename a container", NULL, NULL, cli_cmd_rename, NULL,
     2, 2, false},
    {"rm", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", NULL,
     cli_rm_opts, cli_cmd_rm, NULL, 1, -1, false},
    {"rmi", NULL, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", NULL, cli_rmi_opts,
     cli_cmd_rmi, NULL, 1, -1, false},
    {"save", NULL, "[OPTIONS] IMAGE [IMAGE...]",
     "Save one or more images to a tar archive (streamed to STDOUT by default)", NULL,
     cli_save_opts, cli_cmd_save, NULL, 1, -1, false},
    {"tag", NULL, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
     "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", NULL, NULL, cli_cmd_tag, NULL, 2, 2,
     false},
    {0},
};

static const struct cli_command top = {
    "berth",
    NULL,
    "[OPTIONS] COMMAND",
    "A self-sufficient runtime for containers",
    NULL,
    global_opts,
    NULL,
    top_sub,
    0,
    -1,
    true,
};

int cli_connect(struct cli *cli, struct berth_err *err)
{
        if (cli->connected)
                return 0;
        int r = client_init(&cli->client, cli->host, err);
        if (r < 0)
                return r;
        r = client_connect(&cli->client, err);
        if (r < 0)
                return r;
        cli->connected = true;
        return 0;
}

int cli_fail(const struct berth_err *err)
{
        switch (-err->code) {
        case ECONNREFUSED:
        case ETIMEDOUT:
        case EPROTO:
        case EBADMSG: /* a file the user wrote is wrong: the message names it */
                fprintf(stderr, "%s\n", err->msg);
                break;
        case ENOENT:
        case EEXIST:
        case EINVAL:
        case EACCES:
        case ENOTSUP:
        case EIO:
                fprintf(stderr, "Error response from daemon: %s\n", err->msg);
                break;
        case ECHILD: /* a helper program reported it on our stderr */
                break;
        default:
                fprintf(stderr, "berth: %s\n", err_msg(err));
        }
        return 1;
}

static const struct cli_command *find(const struct cli_command *sub, const char *name)
{
        for (const struct cli_command *c = sub; c && c->name; c++) {
                if (streq(c->name, name))
                        return c;
                if (c->aliases) {
                        _cleanup_strv_ char **al = strv_split(c->aliases, " ");
                        if (strv_contains(al, name))
                                return c;
                }
        }
        return NULL;
}

/* Run `cmd` (a leaf or a management command) with argv after its name. */
static int dispatch(struct cli *cli, const struct cli_command *cmd, const char *path, int argc,
                    char **argv)
{
        if (cmd->sub) {
                /* management command: skip to the first non-flag word */
                if (argc == 0 || streq(argv[0], "--help") || streq(argv[0], "-h")) {
                        cli_help(cmd, path, argc == 0 ? stderr : stdout);
                        return argc == 0 ? 1 : 0;
                }
                const struct cli_command *c = find(cmd->sub, argv[0]);
                if (!c) {
                        fprintf(stderr, "berth: '%s' is not a berth command.\nSee '%s --help'\n",
                                argv[0], path);
                        return 1;
                }
                _cleanup_free_ char *p = xasprintf("%s %s", path, c->name);
                return dispatch(cli, c, p, argc - 1, argv + 1);
        }
        struct cli_args a;
        if (cli_parse(cmd, path, argc, argv, &a) < 0) {
                cli_args_done(&a);
                return 125;
        }
        int r = cmd->run(cli, &a);
        cli_args_done(&a);
        return r;
}

int main(int argc, char **argv)
{
        struct cli cli = {0};
        struct cli_args g;
        int r;

        signal(SIGPIPE, SIG_IGN);

        /* Global flags stop at the command word. */
        if (cli_parse(&top, "berth", argc - 1, argv + 1, &g) < 0)
                return 125;
        if (cli_flag(&g, "version")) {
                printf("berth version %s, build %s\n", BERTH_VERSION, BERTH_GIT_COMMIT);
                cli_args_done(&g);
                return 0;
        }
        cli.host = cli_str(&g, "host");
        cli.debug = cli_flag(&g, "debug");
        for (size_t i = 0; global_opts[i].name; i++)
                if (streq(global_opts[i].name, "config") && g.values[i].set)
                        cli.config_dir = g.values[i].str;
        if (g.n_pos == 0) {
                cli_help(&top, "berth", stdout);
                cli_args_done(&g);
                return 0;
        }
        /* argv from the command word on */
        int cmd_index = 0;
        while (cmd_index < argc && argv[cmd_index] != g.pos[0])
                cmd_index++;
        const struct cli_command *cmd = find(top.sub, g.pos[0]);
        if (streq(g.pos[0], "help")) {
                const struct cli_command *c = g.n_pos > 1 ? find(top.sub, g.pos[1]) : NULL;
                if (c) {
                        _cleanup_free_ char *p = xasprintf("berth %s", c->name);
                        cli_help(c, p, stdout);
                } else
                        cli_help(&top, "berth", stdout);
                cli_args_done(&g);
                return 0;
        }
        if (!cmd) {
                fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n",
                        g.pos[0]);
                cli_args_done(&g);
                return 1;
        }
        _cleanup_free_ char *path = xasprintf("berth %s", cmd->name);
        r = dispatch(&cli, cmd, path, argc - cmd_index - 1, argv + cmd_index + 1);
        if (cli.connected)
                client_done(&cli.client);
        cli_args_done(&g);
        return r;
}
