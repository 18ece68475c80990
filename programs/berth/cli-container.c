/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth create, ps, rm, rename, inspect, container prune/ls/... */
#include "cli.h"

#include <fcntl.h>
#include <time.h>

/* Whether the daemon lacks the image: a create's 404 may as well be a
 * missing network or volume, so ask by the image's own inspect (its code),
 * not by the words of create's message. */
static bool image_missing(struct cli *cli, const char *image)
{
        _cleanup_free_ char *e = cli_escape(image);
        _cleanup_free_ char *path = xasprintf("/images/%s/json", e);
        struct berth_err err = {0};
        return client_json(&cli->client, "GET", path, NULL, NULL, NULL, &err) == -ENOENT;
}

int cli_create(struct cli *cli, struct cli_args *a, char ret_id[65], struct berth_err *err)
{
        _cleanup_json_ json_t *body = NULL;
        _cleanup_free_ char *name = NULL;
        if (cli_create_body(a, 0, &body, &name) < 0) {
                /* already reported, flag by flag */
                err->code = -EINVAL;
                err->msg[0] = '\0';
                return -EINVAL;
        }
        int r = cli_connect(cli, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *q = name ? cli_escape(name) : NULL;
        _cleanup_free_ char *path =
            xasprintf("/containers/create%s%s", q ? "?name=" : "", strempty(q));
        _cleanup_json_ json_t *res = NULL;
        long status = 0;
        /* --pull: always, missing (the default: pull when create finds no
         * image, then create again), never */
        const char *pull = cli_str(a, "pull");
        if (pull && streq(pull, "always")) {
                r = cli_pull_image(cli, a->pos[0], cli_str(a, "platform"), err);
                if (r < 0)
                        return r;
        }
        r = client_json(&cli->client, "POST", path, body, &status, &res, err);
        if (r < 0 && status == 404 && image_missing(cli, a->pos[0])) {
                fprintf(stderr, "Unable to find image '%s' locally\n", a->pos[0]);
                if (pull && streq(pull, "never"))
                        return r;
                err_clear(err);
                r = cli_pull_image(cli, a->pos[0], cli_str(a, "platform"), err);
                if (r < 0)
                        return r;
                r = client_json(&cli->client, "POST", path, body, &status, &res, err);
        }
        if (r < 0)
                return r;
        snprintf(ret_id, 65, "%s", json_get_str(res, "Id", ""));
        json_t *w;
        size_t i;
        json_array_foreach (json_object_get(res, "Warnings"), i, w)
                fprintf(stderr, "WARNING: %s\n", json_string_value(w));
        const char *cidfile = cli_str(a, "cidfile");
        if (cidfile) {
                int fd = open(cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        return err_errno(err, -errno, "cannot write the container ID file '%s'",
                                         cidfile);
                loop_write(fd, ret_id, 64);
                close(fd);
        }
        return 0;
}

/* `berth create` and `berth run` report daemon errors with exit status 125,
 * as docker does. */
int cli_fail125(const struct berth_err *err)
{
        if (err->msg[0])
                fprintf(stderr, "berth: %s%s.\nSee 'berth run --help'.\n",
                        err->code == -ECONNREFUSED || err->code == -ETIMEDOUT
                            ? ""
                            : "Error response from daemon: ",
                        err->msg);
        return 125;
}

int cli_cmd_create(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        char id[65];
        if (cli_create(cli, a, id, &err) < 0) {
                /* docker create exits 1 where docker run exits 125 */
                if (err.msg[0])
                        cli_fail(&err);
                return err.msg[0] ? 1 : 125;
        }
        puts(id);
        return 0;
}

/* --- ps -------------------------------------------------------------------- */

const struct cli_opt cli_ps_opts[] = {
    {"all", 'a', CLI_BOOL, "Show all containers (default shows just running)", NULL},
    {"filter", 'f', CLI_LIST, "Filter output based on conditions provided", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"last", 'n', CLI_INT, "Show n last created containers (includes all states)", "-1"},
    {"latest", 'l', CLI_BOOL, "Show the latest created container (includes all states)", NULL},
    {"no-trunc", 0, CLI_BOOL, "Don't truncate output", NULL},
    {"quiet", 'q', CLI_BOOL, "Only display container IDs", NULL},
    {"size", 's', CLI_BOOL, "Display total file sizes", NULL},
    {0},
};

static char *ports_text(json_t *ports)
{
        char *out = xstrdup("");
        size_t i;
        json_t *p;
        json_array_foreach (ports, i, p) {
                char *one;
                if (json_get_int(p, "PublicPort", 0))
                        one = xasprintf("%s:%lld->%lld/%s", json_get_str(p, "IP", "0.0.0.0"),
                                        (long long)json_get_int(p, "PublicPort", 0),
                                        (long long)json_get_int(p, "PrivatePort", 0),
                                        json_get_str(p, "Type", "tcp"));
                else
                        one = xasprintf("%lld/%s", (long long)json_get_int(p, "PrivatePort", 0),
                                        json_get_str(p, "Type", "tcp"));
                char *n = xasprintf("%s%s%s", out, *out ? ", " : "", one);
                free(out);
                free(one);
                out = n;
        }
        return out;
}

int cli_cmd_ps(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        int64_t last = atoll(cli_str(a, "last"));
        if (cli_flag(a, "latest"))
                last = 1;
        bool all = cli_flag(a, "all") || last > 0;
        for (char **i = cli_list(a, "filter"); i && *i; i++)
                if (!strchr(*i, '=')) {
                        fprintf(stderr,
                                "berth: invalid argument \"%s\" for \"-f, --filter\" flag: bad "
                                "format of filter (expected name=value)\n",
                                *i);
                        return 125;
                }
        char *fj = cli_filters_json(cli_list(a, "filter"), NULL, NULL);
        _cleanup_free_ char *fs = fj ? fj : xstrdup("{}");
        _cleanup_free_ char *fq = cli_escape(fs);
        _cleanup_free_ char *path =
            xasprintf("/containers/json?all=%d&size=%d%s%lld&filters=%s", all, cli_flag(a, "size"),
                      last > 0 ? "&limit=" : "", last > 0 ? (long long)last : 0LL, fq);
        if (last <= 0) {
                free(path);
                path = xasprintf("/containers/json?all=%d&size=%d&filters=%s", all,
                                 cli_flag(a, "size"), fq);
        }
        _cleanup_json_ json_t *list = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &list, &err);
        if (r < 0)
                return cli_fail(&err);
        bool no_trunc = cli_flag(a, "no-trunc");
        size_t i;
        json_t *c;
        if (cli_flag(a, "quiet")) {
                json_array_foreach (list, i, c)
                        printf("%.*s\n", no_trunc ? 64 : 12, json_get_str(c, "Id", ""));
                return 0;
        }
        const char *fmt = cli_str(a, "format");
        struct cli_table *t = cli_table_new(cli_flag(a, "size") ? 8 : 7);
        if (!fmt) {
                if (cli_flag(a, "size"))
                        cli_table_add(t, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                      "PORTS", "NAMES", "SIZE");
                else
                        cli_table_add(t, "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                      "PORTS", "NAMES");
        }
        int rc = 0;
        json_array_foreach (list, i, c) {
                char id[65], created[64], command[80], size[64] = "";
                snprintf(id, sizeof(id), "%.*s", no_trunc ? 64 : 12, json_get_str(c, "Id", ""));
                cli_time_ago(json_get_int(c, "Created", 0), created, sizeof(created));
                const char *cmd = json_get_str(c, "Command", "");
                if (!no_trunc && strlen(cmd) > 20)
                        snprintf(command, sizeof(command), "\"%.19s…\"", cmd);
                else
                        snprintf(command, sizeof(command), "\"%s\"", cmd);
                _cleanup_free_ char *ports = ports_text(json_object_get(c, "Ports"));
                const char *name =
                    json_string_value(json_array_get(json_object_get(c, "Names"), 0));
                name = name ? (name[0] == '/' ? name + 1 : name) : "";
                if (cli_flag(a, "size")) {
                        char rw[32], root[32];
                        cli_bytes_decimal(json_get_int(c, "SizeRw", 0), rw, sizeof(rw));
                        cli_bytes_decimal(json_get_int(c, "SizeRootFs", 0), root, sizeof(root));
                        snprintf(size, sizeof(size), "%s (virtual %s)", rw, root);
                }
                if (fmt) {
                        struct berth_err ferr = {0};
                        _cleanup_json_ json_t *row = json_pack(
                            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "ID", id,
                            "Image", json_get_str(c, "Image", ""), "Command", command, "RunningFor",
                            created, "CreatedAt", created, "Status", json_get_str(c, "Status", ""),
                            "State", json_get_str(c, "State", ""), "Ports", ports, "Names", name,
                            "Size", size, "Labels", json_object_get(c, "Labels") ?: json_object());
                        if (streq(fmt, "json")) {
                                (void)json_print(stdout, row, JSON_COMPACT);
                        } else if (cli_format(fmt, row, stdout, &ferr) < 0) {
                                fprintf(stderr, "berth: %s\n", ferr.msg);
                                rc = 64;
                                break;
                        }
                        continue;
                }
                if (cli_flag(a, "size"))
                        cli_table_add(t, id, json_get_str(c, "Image", ""), command, created,
                                      json_get_str(c, "Status", ""), ports, name, size);
                else
                        cli_table_add(t, id, json_get_str(c, "Image", ""), command, created,
                                      json_get_str(c, "Status", ""), ports, name);
        }
        if (!fmt)
                cli_table_print(t, stdout);
        cli_table_free(t);
        return rc;
}

/* --- rm, rename, prune ------------------------------------------------------ */

const struct cli_opt cli_rm_opts[] = {
    {"force", 'f', CLI_BOOL, "Force the removal of a running container (uses SIGKILL)", NULL},
    {"link", 'l', CLI_BOOL, "Remove the specified link", NULL},
    {"volumes", 'v', CLI_BOOL, "Remove anonymous volumes associated with the container", NULL},
    {0},
};

int cli_cmd_rm(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        bool force = cli_flag(a, "force");
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path =
                    xasprintf("/containers/%s?force=%d&v=%d&link=%d", e, force,
                              cli_flag(a, "volumes"), cli_flag(a, "link"));
                long status = 0;
                r = client_json(&cli->client, "DELETE", path, NULL, &status, NULL, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        /* rm -f of a container that is not there still exits 0 */
                        if (!(force && status == 404))
                                rc = 1;
                        continue;
                }
                puts(a->pos[i]);
        }
        return rc;
}

int cli_cmd_rename(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *n = cli_escape(a->pos[1]);
        _cleanup_free_ char *path = xasprintf("/containers/%s/rename?name=%s", e, n);
        r = client_json(&cli->client, "POST", path, NULL, NULL, NULL, &err);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

static const struct cli_opt prune_opts[] = {
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. \"until=<timestamp>\")", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {0},
};

static int cmd_container_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        if (!cli_flag(a, "force") &&
            !cli_confirm("WARNING! This will remove all stopped containers."))
                return 0;
        int64_t reclaimed = 0;
        if (cli_connect(cli, &err) < 0 ||
            cli_prune(cli, "/containers/prune", cli_list(a, "filter"), NULL, NULL,
                      "ContainersDeleted", "Deleted Containers", &reclaimed, &err) < 0)
                return cli_fail(&err);
        cli_print_reclaimed(reclaimed);
        return 0;
}

/* --- inspect: containers, then images (docker's fall-through) ------------- */

const struct cli_opt cli_inspect_opts[] = {
    {"format", 'f', CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"size", 's', CLI_BOOL, "Display total file sizes if the type is container", NULL},
    {"type", 0, CLI_STRING, "Return JSON for specified type", NULL},
    {0},
};

static int inspect_kind(struct cli *cli, struct cli_args *a, const char *only)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        const char *type = only ? only : cli_str(a, "type");
        if (type && !streq(type, "container") && !streq(type, "image") && !streq(type, "volume") &&
            !streq(type, "network")) {
                fprintf(stderr, "berth: \"%s\" is not a valid value for --type\n", type);
                return 1;
        }
        _cleanup_json_ json_t *all = json_array();
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                static const char *const kinds[][2] = {{"container", "/containers/%s/json"},
                                                       {"image", "/images/%s/json"},
                                                       {"volume", "/volumes/%s"},
                                                       {"network", "/networks/%s"}};
                json_t *found = NULL;
                for (size_t k = 0; k < ELEMENTSOF(kinds) && !found; k++) {
                        if (type && !streq(type, kinds[k][0]))
                                continue;
                        _cleanup_free_ char *path = xasprintf(kinds[k][1], e);
                        long status = 0;
                        r = client_json(&cli->client, "GET", path, NULL, &status, &found, &err);
                        if (r < 0 && status != 404) {
                                fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                                break;
                        }
                }
                if (!found) {
                        if (type)
                                fprintf(stderr, "Error: No such %s: %s\n", type, a->pos[i]);
                        else
                                fprintf(stderr, "Error: No such object: %s\n", a->pos[i]);
                        rc = 1;
                        continue;
                }
                json_array_append_new(all, found);
        }
        const char *fmt = cli_str(a, "format");
        if (fmt && !streq(fmt, "json")) {
                size_t i;
                json_t *x;
                json_array_foreach (all, i, x) {
                        if (cli_format(fmt, x, stdout, &err) < 0) {
                                fprintf(stderr, "berth: %s\n", err.msg);
                                return 64;
                        }
                }
                return rc;
        }
        if (json_array_size(all) || !rc) {
                (void)json_print(stdout, all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        }
        return rc;
}

int cli_cmd_inspect(struct cli *cli, struct cli_args *a)
{
        return inspect_kind(cli, a, NULL);
}

/* berth diff: GET /containers/ID/changes, one "C|A|D PATH" line each */
int cli_cmd_diff(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *path = xasprintf("/containers/%s/changes", e);
        _cleanup_json_ json_t *changes = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &changes, &err);
        if (r < 0)
                return cli_fail(&err);
        /* in the daemon's order, as the docker CLI prints them */
        size_t i;
        json_t *x;
        json_array_foreach (changes, i, x) {
                int64_t kind = json_get_int(x, "Kind", -1);
                const char *k = kind == 0 ? "C" : kind == 1 ? "A" : kind == 2 ? "D" : "?";
                printf("%s %s\n", k, json_get_str(x, "Path", ""));
        }
        return 0;
}

static int cmd_container_inspect(struct cli *cli, struct cli_args *a)
{
        return inspect_kind(cli, a, "container");
}

const struct cli_command cli_container_sub[] = {
    {"create", NULL, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", NULL,
     cli_create_opts, cli_cmd_create, NULL, 1, -1, true},
    {"diff", NULL, "CONTAINER",
     "Inspect changes to files or directories on a container's filesystem", NULL, NULL,
     cli_cmd_diff, NULL, 1, 1, false},
    {"inspect", NULL, "[OPTIONS] CONTAINER [CONTAINER...]",
     "Display detailed information on one or more containers", NULL, cli_inspect_opts,
     cmd_container_inspect, NULL, 1, -1, false},
    {"kill", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers",
     NULL, cli_kill_opts, cli_cmd_kill, NULL, 1, -1, false},
    {"logs", NULL, "[OPTIONS] CONTAINER", "Fetch the logs of a container", NULL, cli_logs_opts,
     cli_cmd_logs, NULL, 1, 1, false},
    {"restart", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers", NULL,
     cli_stop_opts, cli_cmd_restart, NULL, 1, -1, false},
    {"run", NULL, "[OPTIONS] IMAGE [COMMAND] [ARG...]",
     "Create and run a new container from an image", NULL, cli_create_opts, cli_cmd_run, NULL, 1,
     -1, true},
    {"start", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers",
     NULL, cli_start_opts, cli_cmd_start, NULL, 1, -1, false},
    {"stop", NULL, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers",
     NULL, cli_stop_opts, cli_cmd_stop, NULL, 1, -1, false},
    {"wait", NULL, "CONTAINER [CONTAINER...]",
     "Block until one or more containers stop, then print their exit codes", NULL, NULL,
     cli_cmd_wait, NULL, 1, -1, false},
    {"ls", "ps list", "[OPTIONS]", "List containers", NULL, cli_ps_opts, cli_cmd_ps, NULL, 0, 0,

     false},
    {"prune", NULL, "[OPTIONS]", "Remove all stopped containers", NULL, prune_opts,
     cmd_container_prune, NULL, 0, 0, false},
    {"rename", NULL, "CONTAINER NEW_NAME", "Rename a container", NULL, NULL, cli_cmd_rename, NULL,
     2, 2, false},
    {"rm", "remove", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", NULL,
     cli_rm_opts, cli_cmd_rm, NULL, 1, -1, false},
    {"cp", NULL, "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
     "Copy files/folders between a container and the local filesystem", NULL, cli_cp_opts,
     cli_cmd_cp, NULL, 2, 2, false},
    {"stats", NULL, "[OPTIONS] [CONTAINER...]",
     "Display a live stream of container(s) resource usage statistics", NULL, cli_stats_opts,
     cli_cmd_stats, NULL, 0, -1, false},
    {0},
};

const struct cli_opt cli_commit_opts[] = {
    {"author", 'a', CLI_STRING, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
     NULL},
    {"change", 'c', CLI_LIST, "Apply Dockerfile instruction to the created image", NULL},
    {"message", 'm', CLI_STRING, "Commit message", NULL},
    {"pause", 'p', CLI_BOOL, "Pause container during commit", "true"},
    {0},
};

int cli_cmd_commit(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *c = cli_escape(a->pos[0]);
        char *q = xasprintf("/commit?container=%s&pause=%d", c, cli_flag(a, "pause"));
        const char *opts[][2] = {{"author", "author"}, {"message", "comment"}};
        for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
                const char *v = cli_str(a, opts[i][0]);
                if (!v)
                        continue;
                _cleanup_free_ char *e = cli_escape(v);
                char *n = xasprintf("%s&%s=%s", q, opts[i][1], e);
                free(q);
                q = n;
        }
        for (char **ch = cli_list(a, "change"); ch && *ch; ch++) {
                _cleanup_free_ char *e = cli_escape(*ch);
                char *n = xasprintf("%s&changes=%s", q, e);
                free(q);
                q = n;
        }
        if (a->n_pos > 1) {
                _cleanup_free_ char *e = cli_escape(a->pos[1]);
                char *n = xasprintf("%s&repo=%s", q, e);
                free(q);
                q = n;
        }
        _cleanup_free_ char *path = q;
        _cleanup_json_ json_t *res = NULL;
        if (client_json(&cli->client, "POST", path, NULL, NULL, &res, &err) < 0)
                return cli_fail(&err);
        puts(json_get_str(res, "Id", ""));
        return 0;
}
