/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose exec, cp, wait: the container commands of the CLI applied to
 * a service's container(s). exec and cp hand a rewritten argument list to
 * `berth exec` / `berth cp` (cli-run.c, cli-cp.c) so that the streaming, the
 * terminal and the archive handling are the CLI's own. */
#include "compose-ops.h"

#include <poll.h>
#include <unistd.h>

/* Run one of the CLI's commands on an argument vector built here. */
static int run_cli(struct cli *cli, const struct cli_opt *opts,
                   int (*run)(struct cli *, struct cli_args *), const char *path, char **argv)
{
        const struct cli_command cmd = {.name = path,
                                        .usage = "",
                                        .summary = "",
                                        .opts = opts,
                                        .run = run,
                                        .min_args = 0,
                                        .max_args = -1,
                                        .stop_at_positional = true};
        struct cli_args a;
        int argc = (int)strv_length(argv);
        if (cli_parse(&cmd, path, argc, argv, &a) < 0) {
                cli_args_done(&a);
                return 1;
        }
        int r = run(cli, &a);
        cli_args_done(&a);
        return r;
}

/* --- exec -------------------------------------------------------------------- */

const struct cli_opt compose_exec_opts[] = {
    {"detach", 'd', CLI_BOOL, "Detached mode: Run command in the background", NULL},
    {"env", 'e', CLI_LIST, "Set environment variables", NULL},
    {"index", 0, CLI_INT, "Index of the container if service has multiple replicas", "0"},
    {"interactive", 'i', CLI_BOOL, "Keep STDIN open even if not attached (default true)", NULL},
    {"no-TTY", 'T', CLI_BOOL,
     "Disable pseudo-TTY allocation. By default 'berth compose exec' allocates a TTY.", NULL},
    {"privileged", 0, CLI_BOOL, "Give extended privileges to the process", NULL},
    {"tty", 't', CLI_BOOL, "Allocate a pseudo-TTY (default when stdin and stdout are terminals)",
     NULL},
    {"user", 'u', CLI_STRING, "Run the command as this user", NULL},
    {"workdir", 'w', CLI_STRING, "Path to workdir directory for this command", NULL},
    {0},
};

static int64_t index_arg(struct cli_args *a, bool *ok)
{
        int64_t n = 0;
        *ok = parse_int64(cli_str(a, "index"), &n) == 0 && n >= 0;
        if (!*ok)
                fprintf(stderr, "invalid argument \"%s\" for \"--index\" flag\n",
                        cli_str(a, "index"));
        return n;
}

int compose_cmd_exec(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        bool ok;
        int64_t index = index_arg(a, &ok);
        if (!ok)
                return 1;
        _cleanup_json_ json_t *c = NULL;
        if (ops_service_container(cc, a->pos[0], index, true, false, &c, &err) < 0)
                return cli_fail(&err);

        bool detach = cli_flag(a, "detach");
        /* a TTY unless -T, when both ends are terminals (v2 looks at stdout
         * only, and then fails on a piped stdin) */
        bool tty = !cli_flag(a, "no-TTY") && !detach &&
                   (cli_flag(a, "tty") || (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)));
        _cleanup_strv_ char **argv = NULL;
        if (detach)
                argv = strv_push(argv, xstrdup("-d"));
        else
                argv = strv_push(argv, xstrdup("-i"));
        if (tty)
                argv = strv_push(argv, xstrdup("-t"));
        if (cli_flag(a, "privileged"))
                argv = strv_push(argv, xstrdup("--privileged"));
        if (cli_str(a, "user"))
                argv = strv_push(argv, xasprintf("--user=%s", cli_str(a, "user")));
        if (cli_str(a, "workdir"))
                argv = strv_push(argv, xasprintf("--workdir=%s", cli_str(a, "workdir")));
        for (char **e = cli_list(a, "env"); e && *e; e++) {
                /* KEY alone takes its value from our environment, or is dropped */
                if (!strchr(*e, '=')) {
                        const char *v = getenv(*e);
                        if (v)
                                argv = strv_push(argv, xasprintf("--env=%s=%s", *e, v));
                        continue;
                }
                argv = strv_push(argv, xasprintf("--env=%s", *e));
        }
        argv = strv_push(argv, xstrdup(json_get_str(c, "Id", "")));
        for (size_t i = 1; i < a->n_pos; i++)
                argv = strv_push(argv, xstrdup(a->pos[i]));
        return run_cli(cli, cli_exec_opts, cli_cmd_exec, "berth compose exec", argv);
}

/* --- cp ---------------------------------------------------------------------- */

const struct cli_opt compose_cp_opts[] = {
    {"all", 0, CLI_BOOL, "Include containers created by the run command", NULL},
    {"archive", 'a', CLI_BOOL, "Archive mode (copy all uid/gid information)", NULL},
    {"follow-link", 'L', CLI_BOOL, "Always follow symbol link in SRC_PATH", NULL},
    {"index", 0, CLI_INT, "Index of the container if service has multiple replicas", "0"},
    {0},
};

/* "SERVICE:PATH" names a service's path; a path with '/' or '.' before any
 * ':' is local (as in `docker cp`). */
static char *split_service(const char *arg, const char **ret_path)
{
        const char *colon = strchr(arg, ':');
        if (!colon || colon == arg || arg[0] == '/' || arg[0] == '.' ||
            memchr(arg, '/', (size_t)(colon - arg)))
                return NULL;
        *ret_path = colon + 1;
        return xstrndup(arg, (size_t)(colon - arg));
}

int compose_cmd_cp(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        bool ok;
        int64_t index = index_arg(a, &ok);
        if (!ok)
                return 1;
        const char *src_path = NULL, *dst_path = NULL;
        _cleanup_free_ char *src_svc = split_service(a->pos[0], &src_path);
        _cleanup_free_ char *dst_svc = split_service(a->pos[1], &dst_path);
        if (src_svc && dst_svc) {
                fprintf(stderr, "copying between services is not supported\n");
                return 1;
        }
        if (!src_svc && !dst_svc) {
                fprintf(stderr, "unknown copy direction\n");
                return 1;
        }
        const char *svc = src_svc ? src_svc : dst_svc;

        /* the containers: --index's, else the first one to copy from, or
         * every one to copy to */
        _cleanup_json_ json_t *targets = json_array();
        if (index > 0) {
                json_t *c = NULL;
                if (ops_service_container(cc, svc, index, false, true, &c, &err) < 0)
                        return cli_fail(&err);
                json_array_append_new(targets, c);
        } else {
                _cleanup_json_ json_t *list = NULL;
                if (compose_containers(cc, svc, true, cli_flag(a, "all"), &list, &err) < 0)
                        return cli_fail(&err);
                if (json_array_size(list) == 0) {
                        fprintf(stderr, "no container found for service \"%s\"\n", svc);
                        return 1;
                }
                if (src_svc)
                        json_array_append(targets, json_array_get(list, 0));
                else
                        json_array_extend(targets, list);
        }
        size_t i;
        json_t *c;
        int rc = 0;
        json_array_foreach (targets, i, c) {
                _cleanup_strv_ char **argv = NULL;
                argv = strv_push(argv, xstrdup("-q"));
                if (cli_flag(a, "archive"))
                        argv = strv_push(argv, xstrdup("-a"));
                if (cli_flag(a, "follow-link"))
                        argv = strv_push(argv, xstrdup("-L"));
                const char *id = json_get_str(c, "Id", "");
                if (src_svc) {
                        argv = strv_push(argv, xasprintf("%s:%s", id, src_path));
                        argv = strv_push(argv, xstrdup(a->pos[1]));
                } else {
                        argv = strv_push(argv, xstrdup(a->pos[0]));
                        argv = strv_push(argv, xasprintf("%s:%s", id, dst_path));
                }
                int r = run_cli(cli, cli_cp_opts, cli_cmd_cp, "berth compose cp", argv);
                if (r != 0)
                        rc = r;
        }
        return rc;
}

/* --- wait -------------------------------------------------------------------- */

const struct cli_opt compose_wait_opts[] = {
    {"down-project", 0, CLI_BOOL, "Drops project when the first container stops", NULL},
    {0},
};

int compose_cmd_wait(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        _cleanup_json_ json_t *list = NULL;
        if (compose_containers(cc, NULL, false, true, &list, &err) < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *mine = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                const char *s = ops_label(c, LABEL_SERVICE);
                for (size_t k = 0; k < a->n_pos; k++)
                        if (streq_ptr(s, a->pos[k])) {
                                json_array_append(mine, c);
                                break;
                        }
        }
        size_t n = json_array_size(mine);
        if (n == 0) {
                const char *name = "";
                (void)compose_project_name(cc, &name, &err);
                fprintf(stderr, "no containers for project \"%s\"\n", name);
                return 1;
        }
        /* one wait per container, each on its own connection; report them
         * as they end */
        struct pollfd *p = xzalloc(n * sizeof(*p));
        bool *chunked = xzalloc(n * sizeof(bool));
        int rc = 0;
        size_t open = 0;
        json_array_foreach (mine, i, c) {
                _cleanup_free_ char *e = cli_escape(json_get_str(c, "Id", ""));
                _cleanup_free_ char *path = xasprintf("/containers/%s/wait", e);
                p[i].fd = -1;
                if (client_raw(&cli->client, "POST", path, NULL, false, &p[i].fd, NULL, &chunked[i],
                               &err) < 0) {
                        cli_fail(&err);
                        rc = 42;
                        continue;
                }
                p[i].events = POLLIN;
                open++;
        }
        int64_t code = 0;
        while (open > 0) {
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (i = 0; i < n; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        _cleanup_free_ char *body = NULL;
                        client_read_body(p[i].fd, chunked[i], &body, NULL);
                        p[i].fd = safe_close(p[i].fd);
                        open--;
                        json_error_t je;
                        _cleanup_json_ json_t *j = json_loads(body, 0, &je);
                        const char *msg =
                            json_get_str(json_object_get(j, "Error"), "Message", NULL);
                        if (!j || msg) {
                                fprintf(stderr, "%s\n", msg ? msg : "invalid wait response");
                                rc = 42;
                                continue;
                        }
                        code = json_get_int(j, "StatusCode", 0);
                        printf("container \"%s\" exited with status code %lld\n",
                               json_get_str(json_array_get(mine, i), "Id", ""), (long long)code);
                        fflush(stdout);
                }
        }
        for (i = 0; i < n; i++)
                safe_close(p[i].fd);
        free(p);
        free(chunked);
        if (rc)
                return rc;
        if (cli_flag(a, "down-project")) {
                _cleanup_strv_ char **argv = strv_push(NULL, xstrdup("--remove-orphans"));
                int r =
                    run_cli(cli, compose_down_opts, compose_cmd_down, "berth compose down", argv);
                if (r != 0)
                        return r;
        }
        return (int)code;
}
