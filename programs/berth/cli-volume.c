/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth volume create|ls|inspect|rm|prune */
#include "cli.h"

static int bad_filters(char **flags)
{
        for (char **i = flags; i && *i; i++)
                if (!strchr(*i, '=')) {
                        fprintf(stderr,
                                "berth: invalid argument \"%s\" for \"-f, --filter\" flag: bad "
                                "format of filter (expected name=value)\n",
                                *i);
                        return 1;
                }
        return 0;
}

static const struct cli_opt create_opts[] = {
    {"driver", 'd', CLI_STRING, "Specify volume driver name", "local"},
    {"label", 0, CLI_LIST, "Set metadata for a volume", NULL},
    {"name", 0, CLI_STRING, "Specify volume name", NULL},
    {"opt", 'o', CLI_LIST, "Set driver specific options", NULL},
    {0},
};

static int cmd_create(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        const char *name = a->n_pos ? a->pos[0] : cli_str(a, "name");
        if (a->n_pos && cli_str(a, "name") && !streq(cli_str(a, "name"), a->pos[0])) {
                fprintf(stderr, "berth: conflicting options: either specify --name or provide "
                                "positional arg, not both\n");
                return 1;
        }
        const char *bad = NULL;
        json_t *opts = cli_kv_object(cli_list(a, "opt"), true, &bad);
        if (!opts) {
                fprintf(stderr,
                        "berth: invalid argument \"%s\" for \"-o\" flag: invalid key value pair "
                        "format in driver options\n",
                        bad);
                return 125;
        }
        json_t *labels = cli_kv_object(cli_list(a, "label"), false, NULL);
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:s, s:o, s:o}", "Name", strempty(name), "Driver",
                      cli_str(a, "driver"), "DriverOpts", opts, "Labels", labels);
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *res = NULL;
        r = client_json(&cli->client, "POST", "/volumes/create", body, NULL, &res, &err);
        if (r < 0)
                return cli_fail(&err);
        puts(json_get_str(res, "Name", ""));
        return 0;
}

static const struct cli_opt ls_opts[] = {
    {"filter", 'f', CLI_LIST, "Provide filter values (e.g. \"dangling=true\")", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"quiet", 'q', CLI_BOOL, "Only display volume names", NULL},
    {0},
};

static int by_name(const void *a, const void *b)
{
        return strcmp(json_get_str(*(json_t *const *)a, "Name", ""),
                      json_get_str(*(json_t *const *)b, "Name", ""));
}

static int cmd_ls(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        if (bad_filters(cli_list(a, "filter")))
                return 125;
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        char *fj = cli_filters_json(cli_list(a, "filter"), NULL, NULL);
        _cleanup_free_ char *fs = fj ? fj : xstrdup("{}");
        _cleanup_free_ char *fq = cli_escape(fs);
        _cleanup_free_ char *path = xasprintf("/volumes?filters=%s", fq);
        _cleanup_json_ json_t *res = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &res, &err);
        if (r < 0)
                return cli_fail(&err);
        json_t *vols = json_object_get(res, "Volumes");
        size_t n = json_array_size(vols);
        json_t **v = xzalloc((n + 1) * sizeof(*v));
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(vols, i);
        qsort(v, n, sizeof(*v), by_name);
        const char *fmt = cli_str(a, "format");
        int rc = 0;
        struct cli_table *t = cli_table_new(2);
        if (!fmt && !cli_flag(a, "quiet"))
                cli_table_add(t, "DRIVER", "VOLUME NAME");
        for (size_t i = 0; i < n && rc == 0; i++) {
                if (cli_flag(a, "quiet")) {
                        puts(json_get_str(v[i], "Name", ""));
                        continue;
                }
                if (fmt) {
                        struct berth_err ferr = {0};
                        if (streq(fmt, "json")) {
                                (void)json_print(stdout, v[i], JSON_COMPACT);
                        } else if (cli_format(fmt, v[i], stdout, &ferr) < 0) {
                                fprintf(stderr, "berth: %s\n", ferr.msg);
                                rc = 64;
                        }
                        continue;
                }
                cli_table_add(t, json_get_str(v[i], "Driver", ""), json_get_str(v[i], "Name", ""));
        }
        if (!fmt && !cli_flag(a, "quiet"))
                cli_table_print(t, stdout);
        cli_table_free(t);
        free(v);
        return rc;
}

static const struct cli_opt inspect_opts[] = {
    {"format", 'f', CLI_STRING, "Format output using a custom template", NULL},
    {0},
};

static int cmd_inspect(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        const char *fmt = cli_str(a, "format");
        json_t *all = json_array();
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path = xasprintf("/volumes/%s", e);
                json_t *res = NULL;
                r = client_json(&cli->client, "GET", path, NULL, NULL, &res, &err);
                if (r < 0) {
                        if (r == -ENOENT)
                                fprintf(stderr, "Error: No such volume: %s\n", a->pos[i]);
                        else
                                cli_fail(&err);
                        rc = 1;
                        continue;
                }
                if (fmt) {
                        struct berth_err ferr = {0};
                        if (cli_format(fmt, res, stdout, &ferr) < 0) {
                                fprintf(stderr, "berth: %s\n", ferr.msg);
                                rc = 64;
                        }
                        json_decref(res);
                } else
                        json_array_append_new(all, res);
        }
        if (!fmt) {
                (void)json_print(stdout, all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        }
        json_decref(all);
        return rc;
}

static const struct cli_opt rm_opts[] = {
    {"force", 'f', CLI_BOOL, "Force the removal of one or more volumes", NULL},
    {0},
};

static int cmd_rm(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path =
                    xasprintf("/volumes/%s?force=%d", e, cli_flag(a, "force"));
                r = client_json(&cli->client, "DELETE", path, NULL, NULL, NULL, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err_msg(&err));
                        rc = 1;
                        continue;
                }
                puts(a->pos[i]);
        }
        return rc;
}

static const struct cli_opt prune_opts[] = {
    {"all", 'a', CLI_BOOL, "Remove all unused volumes, not just anonymous ones", NULL},
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. \"label=<label>\")", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {0},
};

static int cmd_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        bool all = cli_flag(a, "all");
        if (bad_filters(cli_list(a, "filter")))
                return 125;
        if (!cli_flag(a, "force") &&
            !cli_confirm(all ? "WARNING! This will remove all local volumes not used by at least "
                               "one container."
                             : "WARNING! This will remove anonymous local volumes not used by at "
                               "least one container."))
                return 0;
        int64_t reclaimed = 0;
        if (cli_connect(cli, &err) < 0 ||
            cli_prune(cli, "/volumes/prune", cli_list(a, "filter"), "all", all ? "true" : "false",
                      "VolumesDeleted", "Deleted Volumes", &reclaimed, &err) < 0)
                return cli_fail(&err);
        cli_print_reclaimed(reclaimed);
        return 0;
}

const struct cli_command cli_volume_sub[] = {
    {"create", NULL, "[OPTIONS] [VOLUME]", "Create a volume", NULL, create_opts, cmd_create, NULL,
     0, 1, false},
    {"inspect", NULL, "[OPTIONS] VOLUME [VOLUME...]",
     "Display detailed information on one or more volumes", NULL, inspect_opts, cmd_inspect, NULL,
     1, -1, false},
    {"ls", "list", "[OPTIONS]", "List volumes", NULL, ls_opts, cmd_ls, NULL, 0, 0, false},
    {"prune", NULL, "[OPTIONS]", "Remove unused local volumes", NULL, prune_opts, cmd_prune, NULL,
     0, 0, false},
    {"rm", "remove", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", NULL, rm_opts,
     cmd_rm, NULL, 1, -1, false},
    {0},
};
