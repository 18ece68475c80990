/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth network create/ls/inspect/rm/connect/disconnect/prune, berth port. */
#include "cli.h"

static int fail(struct berth_err *err)
{
        fprintf(stderr, "Error response from daemon: %s\n", err->msg);
        return 1;
}

static const struct cli_opt create_opts[] = {
    {"driver", 'd', CLI_STRING, "Driver to manage the Network", "bridge"},
    {"gateway", 0, CLI_LIST, "IPv4 or IPv6 Gateway for the master subnet", NULL},
    {"internal", 0, CLI_BOOL, "Restrict external access to the network", NULL},
    {"ip-range", 0, CLI_LIST, "Allocate container ip from a sub-range", NULL},
    {"ipv6", 0, CLI_BOOL, "Enable or disable IPv6 networking", NULL},
    {"attachable", 0, CLI_BOOL, "Enable manual container attachment", NULL},
    {"label", 0, CLI_LIST, "Set metadata on a network", NULL},
    {"opt", 'o', CLI_LIST, "Set driver specific options", NULL},
    {"subnet", 0, CLI_LIST, "Subnet in CIDR format that represents a network segment", NULL},
    {0},
};

static int cmd_create(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        json_t *cfg = json_array();
        for (char **l = cli_list(a, "subnet"); l && *l; l++)
                json_array_append_new(cfg, json_pack("{s:s}", "Subnet", *l));
        /* a gateway or range goes with the first subnet of its family, as
         * it is inside that subnet when it is valid */
        const char *keys[] = {"gateway", "ip-range"}, *fields[] = {"Gateway", "IPRange"};
        for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                for (char **l = cli_list(a, keys[k]); l && *l; l++) {
                        bool v6 = strchr(*l, ':') != NULL;
                        json_t *c = NULL, *x;
                        size_t i;
                        json_array_foreach (cfg, i, x)
                                if (!c &&
                                    (strchr(json_get_str(x, "Subnet", ""), ':') != NULL) == v6 &&
                                    !json_object_get(x, fields[k]))
                                        c = x;
                        if (!c) {
                                json_decref(cfg);
                                fprintf(stderr, "berth: no matching subnet for %s %s\n",
                                        streq(keys[k], "gateway") ? "gateway" : "range", *l);
                                return 1;
                        }
                        json_object_set_new(c, fields[k], json_string(*l));
                }
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:b, s:s, s:b, s:{s:s, s:{}, s:o}, s:b, s:b, s:o, s:o}", "Name",
                      a->pos[0], "CheckDuplicate", 1, "Driver", cli_str(a, "driver"), "EnableIPv6",
                      cli_flag(a, "ipv6"), "IPAM", "Driver", "default", "Options", "Config", cfg,
                      "Internal", cli_flag(a, "internal"), "Attachable", cli_flag(a, "attachable"),
                      "Options", cli_kv_object(cli_list(a, "opt"), false, NULL), "Labels",
                      cli_kv_object(cli_list(a, "label"), false, NULL));
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *res = NULL;
        r = client_json(&cli->client, "POST", "/networks/create", body, NULL, &res, &err);
        if (r < 0)
                return fail(&err);
        puts(json_get_str(res, "Id", ""));
        return 0;
}

static const struct cli_opt ls_opts[] = {
    {"filter", 'f', CLI_LIST, "Provide filter values (e.g. \"driver=bridge\")", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"no-trunc", 0, CLI_BOOL, "Do not truncate the output", NULL},
    {"quiet", 'q', CLI_BOOL, "Only display network IDs", NULL},
    {0},
};

static int cmd_ls(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *filters = cli_filters_json(cli_list(a, "filter"), NULL, NULL);
        _cleanup_free_ char *q = filters ? cli_escape(filters) : NULL;
        _cleanup_free_ char *path = xasprintf("/networks%s%s", q ? "?filters=" : "", strempty(q));
        _cleanup_json_ json_t *list = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &list, &err);
        if (r < 0)
                return fail(&err);
        bool no_trunc = cli_flag(a, "no-trunc");
        const char *fmt = cli_str(a, "format");
        struct cli_table *t = cli_table_new(4);
        if (!cli_flag(a, "quiet") && !fmt)
                cli_table_add(t, "NETWORK ID", "NAME", "DRIVER", "SCOPE");
        size_t i;
        json_t *n;
        json_array_foreach (list, i, n) {
                char id[65];
                snprintf(id, sizeof(id), "%.*s", no_trunc ? 64 : 12, json_get_str(n, "Id", ""));
                if (cli_flag(a, "quiet")) {
                        puts(id);
                        continue;
                }
                if (fmt) {
                        _cleanup_json_ json_t *row = json_pack(
                            "{s:s, s:s, s:s, s:s, s:b}", "ID", id, "Name",
                            json_get_str(n, "Name", ""), "Driver", json_get_str(n, "Driver", ""),
                            "Scope", json_get_str(n, "Scope", ""), "Internal",
                            json_get_bool(n, "Internal", false));
                        if (streq(fmt, "json")) {
                                (void)json_print(stdout, row, JSON_COMPACT);
                        } else if (cli_format(fmt, row, stdout, &err) < 0) {
                                cli_table_free(t);
                                return cli_fail(&err);
                        }
                        continue;
                }
                cli_table_add(t, id, json_get_str(n, "Name", ""), json_get_str(n, "Driver", ""),
                              json_get_str(n, "Scope", ""));
        }
        if (!cli_flag(a, "quiet") && !fmt)
                cli_table_print(t, stdout);
        cli_table_free(t);
        return 0;
}

static const struct cli_opt inspect_opts[] = {
    {"format", 'f', CLI_STRING, "Format output using a custom template", NULL},
    {"verbose", 'v', CLI_BOOL, "Verbose output for diagnostics", NULL},
    {0},
};

static int cmd_inspect(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        const char *fmt = cli_str(a, "format");
        _cleanup_json_ json_t *all = json_array();
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path = xasprintf("/networks/%s", e);
                json_t *res = NULL;
                r = client_json(&cli->client, "GET", path, NULL, NULL, &res, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                if (fmt) {
                        if (cli_format(fmt, res, stdout, &err) < 0) {
                                json_decref(res);
                                return cli_fail(&err);
                        }
                        json_decref(res);
                        continue;
                }
                json_array_append_new(all, res);
        }
        if (!fmt) {
                (void)json_print(stdout, all, JSON_INDENT(4));
        }
        return rc;
}

static int cmd_rm(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path = xasprintf("/networks/%s", e);
                r = client_json(&cli->client, "DELETE", path, NULL, NULL, NULL, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                puts(a->pos[i]);
        }
        return rc;
}

static const struct cli_opt connect_opts[] = {
    {"alias", 0, CLI_LIST, "Add network-scoped alias for the container", NULL},
    {"ip", 0, CLI_STRING, "IPv4 address (e.g., \"172.30.100.104\")", NULL},
    {"ip6", 0, CLI_STRING, "IPv6 address (e.g., \"2001:db8::33\")", NULL},
    {0},
};

static int connect_cmd(struct cli *cli, struct cli_args *a, bool connect)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *body = json_pack("{s:s}", "Container", a->pos[1]);
        if (connect) {
                json_t *ep = json_object();
                json_t *al = json_array();
                for (char **l = cli_list(a, "alias"); l && *l; l++)
                        json_array_append_new(al, json_string(*l));
                json_object_set_new(ep, "Aliases", al);
                json_t *ipam = json_object();
                if (cli_str(a, "ip"))
                        json_object_set_new(ipam, "IPv4Address", json_string(cli_str(a, "ip")));
                if (cli_str(a, "ip6"))
                        json_object_set_new(ipam, "IPv6Address", json_string(cli_str(a, "ip6")));
                if (json_object_size(ipam))
                        json_object_set(ep, "IPAMConfig", ipam);
                json_decref(ipam);
                json_object_set_new(body, "EndpointConfig", ep);
        } else
                json_object_set_new(body, "Force", json_boolean(cli_flag(a, "force")));
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *path =
            xasprintf("/networks/%s/%s", e, connect ? "connect" : "disconnect");
        r = client_json(&cli->client, "POST", path, body, NULL, NULL, &err);
        if (r < 0)
                return fail(&err);
        return 0;
}

static int cmd_connect(struct cli *cli, struct cli_args *a)
{
        return connect_cmd(cli, a, true);
}

static const struct cli_opt disconnect_opts[] = {
    {"force", 'f', CLI_BOOL, "Force the container to disconnect from a network", NULL},
    {0},
};

static int cmd_disconnect(struct cli *cli, struct cli_args *a)
{
        return connect_cmd(cli, a, false);
}

static const struct cli_opt prune_opts[] = {
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. \"label=<key>=<value>\")", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {0},
};

static int cmd_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        if (!cli_flag(a, "force") && !cli_confirm("WARNING! This will remove all custom networks "
                                                  "not used by at least one container."))
                return 0;
        if (cli_connect(cli, &err) < 0)
                return cli_fail(&err);
        if (cli_prune(cli, "/networks/prune", cli_list(a, "filter"), NULL, NULL, "NetworksDeleted",
                      "Deleted Networks", NULL, &err) < 0)
                return fail(&err);
        return 0;
}

const struct cli_command cli_network_sub[] = {
    {"connect", NULL, "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", NULL,
     connect_opts, cmd_connect, NULL, 2, 2, false},
    {"create", NULL, "[OPTIONS] NETWORK", "Create a network", NULL, create_opts, cmd_create, NULL,
     1, 1, false},
    {"disconnect", NULL, "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network",
     NULL, disconnect_opts, cmd_disconnect, NULL, 2, 2, false},
    {"inspect", NULL, "[OPTIONS] NETWORK [NETWORK...]",
     "Display detailed information on one or more networks", NULL, inspect_opts, cmd_inspect, NULL,
     1, -1, false},
    {"ls", "list", "[OPTIONS]", "List networks", NULL, ls_opts, cmd_ls, NULL, 0, 0, false},
    {"prune", NULL, "[OPTIONS]", "Remove all unused networks", NULL, prune_opts, cmd_prune, NULL, 0,
     0, false},
    {"rm", "remove", "NETWORK [NETWORK...]", "Remove one or more networks", NULL, NULL, cmd_rm,
     NULL, 1, -1, false},
    {0},
};

/* berth port CONTAINER [PRIVATE_PORT[/PROTO]] */
int cli_cmd_port(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *path = xasprintf("/containers/%s/json", e);
        _cleanup_json_ json_t *c = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &c, &err);
        if (r < 0)
                return fail(&err);
        json_t *ports = json_object_get(json_object_get(c, "NetworkSettings"), "Ports");
        _cleanup_free_ char *want = NULL;
        if (a->n_pos > 1)
                want = strchr(a->pos[1], '/') ? xstrdup(a->pos[1]) : xasprintf("%s/tcp", a->pos[1]);
        bool found = false;
        const char *key;
        json_t *v;
        json_object_foreach (ports, key, v) {
                if (want && !streq(key, want))
                        continue;
                size_t i;
                json_t *b;
                json_array_foreach (v, i, b) {
                        found = true;
                        const char *ip = json_get_str(b, "HostIp", "");
                        /* host:port as Go's net.JoinHostPort writes it */
                        bool v6 = strchr(ip, ':') != NULL;
                        _cleanup_free_ char *hp =
                            xasprintf("%s%s%s:%s", v6 ? "[" : "", *ip ? ip : "0.0.0.0",
                                      v6 ? "]" : "", json_get_str(b, "HostPort", ""));
                        if (want)
                                puts(hp);
                        else
                                printf("%s -> %s\n", key, hp);
                }
        }
        if (want && !found) {
                fprintf(stderr, "Error: No public port '%s' published for %s\n", want, a->pos[0]);
                return 1;
        }
        return 0;
}
