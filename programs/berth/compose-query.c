/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth compose ps, ls, images, port, top, events, version: read-only views
 * of a project's containers, each from as few requests as the output needs
 * (ps and ls: one /containers/json; v2 inspects every container for ps). */
#include "compose-ops.h"

#include <ctype.h>
#include <regex.h>
#include <time.h>
#include <unistd.h>

/* --- shared with compose-exec.c and compose-image.c ------------------------- */

const char *ops_label(const json_t *c, const char *key)
{
        return json_string_value(json_object_get(json_object_get(c, "Labels"), key));
}

const char *ops_name(const json_t *c)
{
        const char *n = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        if (!n)
                return "";
        return *n == '/' ? n + 1 : n;
}

static int64_t label_int(const json_t *c, const char *key)
{
        int64_t n = 0;
        const char *s = ops_label(c, key);
        return s && parse_int64(s, &n) == 0 ? n : 0;
}

int ops_service_container(struct compose_cli *cc, const char *service, int64_t index, bool oneoff,
                          bool all, json_t **ret, struct berth_err *err)
{
        _cleanup_json_ json_t *list = NULL;
        int r = compose_containers(cc, service, all, oneoff, &list, err);
        if (r < 0)
                return r;
        json_t *best = NULL;
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                bool c_oneoff = streq_ptr(ops_label(c, LABEL_ONEOFF), "True");
                int64_t n = label_int(c, LABEL_NUMBER);
                if (index > 0 && (c_oneoff || n != index))
                        continue;
                if (!best) {
                        best = c;
                        continue;
                }
                bool b_oneoff = streq_ptr(ops_label(best, LABEL_ONEOFF), "True");
                if ((b_oneoff && !c_oneoff) ||
                    (b_oneoff == c_oneoff && n < label_int(best, LABEL_NUMBER)))
                        best = c;
        }
        if (!best) {
                if (index > 0)
                        return err_set(err, -ESRCH, "service \"%s\" is not running container #%lld",
                                       service, (long long)index);
                return err_set(err, -ESRCH, "service \"%s\" is not running", service);
        }
        *ret = json_incref(best);
        return 0;
}

void ops_table_print(json_t *rows, int minwidth, int padding, FILE *f)
{
        size_t ncols = 0, i, k;
        json_t *row, *cell;
        json_array_foreach (rows, i, row)
                if (json_array_size(row) > ncols)
                        ncols = json_array_size(row);
        size_t *w = xzalloc((ncols + 1) * sizeof(size_t));
        json_array_foreach (rows, i, row)
                json_array_foreach (row, k, cell) {
                        size_t l = 0;
                        for (const char *s = json_string_value(cell) ?: ""; *s; s++)
                                if (((unsigned char)*s & 0xC0) != 0x80)
                                        l++;
                        if (l > w[k])
                                w[k] = l;
                }
        json_array_foreach (rows, i, row) {
                size_t n = json_array_size(row);
                json_array_foreach (row, k, cell) {
                        const char *s = json_string_value(cell) ?: "";
                        fputs(s, f);
                        if (k + 1 == n)
                                break;
                        size_t l = 0;
                        for (const char *p = s; *p; p++)
                                if (((unsigned char)*p & 0xC0) != 0x80)
                                        l++;
                        size_t cw = w[k] + (size_t)padding;
                        if (cw < (size_t)minwidth)
                                cw = (size_t)minwidth;
                        fprintf(f, "%*s", (int)(cw - l), "");
                }
                fputc('\n', f);
        }
        free(w);
}

/* --- formatting helpers ------------------------------------------------------ */

static bool want_service(const json_t *c, char **services, size_t n)
{
        if (n == 0)
                return true;
        const char *s = ops_label(c, LABEL_SERVICE);
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(s, services[i]))
                        return true;
        return false;
}

/* With a compose file loaded, a named service must be one of its. */
static int check_services(struct compose_cli *cc, char **services, size_t n, struct berth_err *err)
{
        json_t *defs = cc->project ? json_object_get(cc->project->model, "services") : NULL;
        if (!defs)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (!json_object_get(defs, services[i]))
                        return err_set(err, -ESRCH, "no such service: %s", services[i]);
        return 0;
}

/* Go's strconv.Quote for the text docker puts in COMMAND. */
static char *go_quote(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n * 4 + 3), *o = out;
        *o++ = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                case '\\':
                        *o++ = '\\';
                        *o++ = (char)*p;
                        break;
                case '\n':
                        o += sprintf(o, "\\n");
                        break;
                case '\t':
                        o += sprintf(o, "\\t");
                        break;
                case '\r':
                        o += sprintf(o, "\\r");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                o += sprintf(o, "\\x%02x", *p);
                        else
                                *o++ = (char)*p;
                }
        }
        *o++ = '"';
        *o = '\0';
        return out;
}

/* The first max-1 characters and "…" when longer (Go formatter.Ellipsis). */
static char *ellipsis(const char *s, size_t max)
{
        size_t chars = 0;
        const char *p = s;
        for (; *p; p++)
                if (((unsigned char)*p & 0xC0) != 0x80)
                        chars++;
        if (chars <= max)
                return xstrdup(s);
        size_t keep = 0, seen = 0;
        for (p = s; *p; p++) {
                if (((unsigned char)*p & 0xC0) != 0x80) {
                        if (seen == max - 1)
                                break;
                        seen++;
                }
                keep++;
        }
        return xasprintf("%.*s…", (int)keep, s);
}

struct port_text {
        int64_t priv;
        char *s;
};

static int port_cmp(const void *a, const void *b)
{
        const struct port_text *x = a, *y = b;
        if (x->priv != y->priv)
                return x->priv < y->priv ? -1 : 1;
        return strcmp(x->s, y->s);
}

/* "127.0.0.1:8080->80/tcp, [::]:8080->80/tcp, 443/tcp" */
static char *ports_text(json_t *ports)
{
        size_t n = json_array_size(ports), i;
        struct port_text *v = xzalloc((n + 1) * sizeof(*v));
        json_t *p;
        json_array_foreach (ports, i, p) {
                const char *ip = json_get_str(p, "IP", "");
                int64_t pub = json_get_int(p, "PublicPort", 0);
                v[i].priv = json_get_int(p, "PrivatePort", 0);
                const char *type = json_get_str(p, "Type", "tcp");
                if (pub && strchr(ip, ':'))
                        v[i].s = xasprintf("[%s]:%lld->%lld/%s", ip, (long long)pub,
                                           (long long)v[i].priv, type);
                else if (pub)
                        v[i].s = xasprintf("%s:%lld->%lld/%s", ip, (long long)pub,
                                           (long long)v[i].priv, type);
                else
                        v[i].s = xasprintf("%lld/%s", (long long)v[i].priv, type);
        }
        qsort(v, n, sizeof(*v), port_cmp);
        char *out = xstrdup("");
        for (i = 0; i < n; i++) {
                char *x = xasprintf("%s%s%s", out, i ? ", " : "", v[i].s);
                free(out);
                free(v[i].s);
                out = x;
        }
        free(v);
        return out;
}

/* Go's time.Time.String() of a Unix time, in the local zone. */
static void go_time(int64_t t, char *buf, size_t len)
{
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(buf, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}

static char *join_object_keys(json_t *o)
{
        char *out = xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach (o, k, v) {
                char *x = xasprintf("%s%s%s", out, *out ? "," : "", k);
                free(out);
                out = x;
        }
        return out;
}

/* The row v2's ps prints for a container, under the names its templates
 * and --format json use. */
static json_t *ps_row(json_t *c, bool trunc)
{
        const char *id = json_get_str(c, "Id", "");
        const char *state = json_get_str(c, "State", "");
        const char *status = json_get_str(c, "Status", "");
        char created[64], ago[64];
        go_time(json_get_int(c, "Created", 0), created, sizeof(created));
        cli_time_ago(json_get_int(c, "Created", 0), ago, sizeof(ago));
        _cleanup_free_ char *cmd0 = trunc ? ellipsis(json_get_str(c, "Command", ""), 20)
                                          : xstrdup(json_get_str(c, "Command", ""));
        _cleanup_free_ char *cmd = go_quote(cmd0);
        _cleanup_free_ char *ports = ports_text(json_object_get(c, "Ports"));
        /* health and exit code from the status text: no inspect needed */
        const char *health = "";
        if (streq(state, "running")) {
                if (strstr(status, "(healthy)"))
                        health = "healthy";
                else if (strstr(status, "(unhealthy)"))
                        health = "unhealthy";
                else if (strstr(status, "(health: starting)"))
                        health = "starting";
        }
        int64_t exit_code = 0;
        const char *ex = startswith(status, "Exited (");
        if ((streq(state, "exited") || streq(state, "dead")) && ex)
                exit_code = strtoll(ex, NULL, 10);
        json_t *publishers = json_array();
        size_t i;
        json_t *p;
        json_array_foreach (json_object_get(c, "Ports"), i, p)
                json_array_append_new(
                    publishers,
                    json_pack("{s:s, s:I, s:I, s:s}", "URL", json_get_str(p, "IP", ""),
                              "TargetPort", (json_int_t)json_get_int(p, "PrivatePort", 0),
                              "PublishedPort", (json_int_t)json_get_int(p, "PublicPort", 0),
                              "Protocol", json_get_str(p, "Type", "tcp")));
        char *labels = xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(c, "Labels"), k, v) {
                char *x = xasprintf("%s%s%s=%s", labels, *labels ? "," : "", k,
                                    json_string_value(v) ?: "");
                free(labels);
                labels = x;
        }
        char *mounts = xstrdup("");
        int local = 0;
        json_array_foreach (json_object_get(c, "Mounts"), i, p) {
                const char *name = json_get_str(p, "Name", "");
                if (!*name)
                        name = json_get_str(p, "Source", "");
                if (streq(json_get_str(p, "Driver", ""), "local"))
                        local++;
                _cleanup_free_ char *nm = trunc ? ellipsis(name, 15) : xstrdup(name);
                char *x = xasprintf("%s%s%s", mounts, *mounts ? "," : "", nm);
                free(mounts);
                mounts = x;
        }
        char *networks =
            join_object_keys(json_object_get(json_object_get(c, "NetworkSettings"), "Networks"));
        char sz[32];
        cli_bytes_decimal(json_get_int(c, "SizeRw", 0), sz, sizeof(sz));
        char id12[65];
        snprintf(id12, sizeof(id12), "%.*s", trunc ? 12 : 64, id);
        char lv[16];
        snprintf(lv, sizeof(lv), "%d", local);
        json_t *row = json_object();
        json_object_set_new(row, "Command", json_string(cmd));
        json_object_set_new(row, "CreatedAt", json_string(created));
        json_object_set_new(row, "ExitCode", json_integer(exit_code));
        json_object_set_new(row, "Health", json_string(health));
        json_object_set_new(row, "ID", json_string(id12));
        json_object_set_new(row, "Image", json_string(json_get_str(c, "Image", "")));
        json_object_set_new(row, "Labels", json_string_lossy(labels));
        json_object_set_new(row, "LocalVolumes", json_string(lv));
        json_object_set_new(row, "Mounts", json_string_lossy(mounts));
        json_object_set_new(row, "Name", json_string(ops_name(c)));
        json_object_set_new(row, "Names", json_string(ops_name(c)));
        json_object_set_new(row, "Networks", json_string_lossy(networks));
        json_object_set_new(row, "Ports", json_string(ports));
        json_object_set_new(row, "Project", json_string(ops_label(c, LABEL_PROJECT) ?: ""));
        json_object_set_new(row, "Publishers", publishers);
        json_object_set_new(row, "RunningFor", json_string(ago));
        json_object_set_new(row, "Service", json_string(ops_label(c, LABEL_SERVICE) ?: ""));
        json_object_set_new(row, "Size", json_string(sz));
        json_object_set_new(row, "State", json_string(state));
        json_object_set_new(row, "Status", json_string(status));
        free(labels);
        free(mounts);
        free(networks);
        return row;
}

/* A template as a table: "table " prefix gives a header made of the
 * fields' names (upper-cased, or from `headers`), the rows aligned. */
static int print_template(const char *fmt, json_t *rows, json_t *headers, struct berth_err *err)
{
        const char *body = startswith(fmt, "table ");
        if (!body) {
                size_t i;
                json_t *r;
                json_array_foreach (rows, i, r) {
                        int e = cli_format(fmt, r, stdout, err);
                        if (e < 0)
                                return e;
                }
                return 0;
        }
        json_auto_t *table = json_array();
        /* the header: each {{.Field}} replaced by its title */
        json_t *hdr = json_object();
        const char *k;
        json_t *v;
        json_object_foreach (headers, k, v)
                json_object_set(hdr, k, v);
        size_t i;
        json_t *r;
        json_auto_t *rows_all = json_array();
        json_array_append_new(rows_all, hdr);
        json_array_foreach (rows, i, r)
                json_array_append(rows_all, r);
        json_array_foreach (rows_all, i, r) {
                char *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);
                if (!f)
                        return err_set(err, -ENOMEM, "out of memory");
                int e = cli_format(body, r, f, err);
                fclose(f);
                if (e < 0) {
                        free(text);
                        return e;
                }
                if (len > 0 && text[len - 1] == '\n')
                        text[len - 1] = '\0';
                json_t *cells = json_array();
                char *save = NULL, *s = text;
                for (char *cell = s; cell; cell = save) {
                        save = strchr(cell, '\t');
                        if (save)
                                *save++ = '\0';
                        json_array_append_new(cells, json_string(cell));
                }
                free(text);
                json_array_append_new(table, cells);
        }
        ops_table_print(table, 10, 3, stdout);
        return 0;
}

/* --- ps ---------------------------------------------------------------------- */

const struct cli_opt compose_ps_opts[] = {
    {"all", 'a', CLI_BOOL,
     "Show all stopped containers (including those created by the run command)", NULL},
    {"filter", 0, CLI_STRING, "Filter services by a property (supported filters: status)", NULL},
    {"format", 0, CLI_STRING,
     "Format output using a custom template:\n'table': Print output in table format with column "
     "headers (default)\n'table TEMPLATE': Print output in table format using the given Go "
     "template\n'json': Print in JSON format\n'TEMPLATE': Print output using the given Go "
     "template",
     "table"},
    {"no-trunc", 0, CLI_BOOL, "Don't truncate output", NULL},
    {"orphans", 0, CLI_BOOL, "Include orphaned services (not declared by project)", NULL},
    {"quiet", 'q', CLI_BOOL, "Only display IDs", NULL},
    {"services", 0, CLI_BOOL, "Display services", NULL},
    {"status", 0, CLI_LIST,
     "Filter services by status. Values: [paused | restarting | removing | running | dead | "
     "created | exited]",
     NULL},
    {0},
};

static int by_name(const void *x, const void *y)
{
        return strcmp(ops_name(*(json_t *const *)x), ops_name(*(json_t *const *)y));
}

static json_t *ps_headers(void)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                         "s:s, s:s, s:s, s:s}",
                         "ID", "CONTAINER ID", "Name", "NAME", "Names", "NAMES", "Project",
                         "PROJECT", "Service", "SERVICE", "Image", "IMAGE", "Command", "COMMAND",
                         "CreatedAt", "CREATED AT", "RunningFor", "CREATED", "Ports", "PORTS",
                         "State", "STATE", "Status", "STATUS", "Size", "SIZE", "Labels", "LABELS",
                         "Health", "HEALTH", "ExitCode", "EXIT CODE", "Mounts", "MOUNTS",
                         "Networks", "NETWORKS");
}

int compose_cmd_ps(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        _cleanup_strv_ char **status = NULL;
        for (char **s = cli_list(a, "status"); s && *s; s++)
                status = strv_push(status, xstrdup(*s));
        const char *filter = cli_str(a, "filter");
        if (filter) {
                const char *eq = strchr(filter, '=');
                if (!eq) {
                        fprintf(stderr, "arguments to --filter should be in form KEY=VAL\n");
                        return 1;
                }
                if (strncmp(filter, "status", (size_t)(eq - filter)) != 0 || eq - filter != 6) {
                        fprintf(stderr, "unknown filter %.*s\n", (int)(eq - filter), filter);
                        return 1;
                }
                status = strv_push(status, xstrdup(eq + 1));
        }
        bool all = cli_flag(a, "all") || status;
        _cleanup_json_ json_t *list = NULL;
        if (compose_containers(cc, NULL, all, all, &list, &err) < 0)
                return cli_fail(&err);
        if (check_services(cc, a->pos, a->n_pos, &err) < 0)
                return cli_fail(&err);

        size_t n = json_array_size(list), m = 0, i;
        _cleanup_free_ json_t **v = xzalloc((n + 1) * sizeof(json_t *));
        json_t *c;
        json_array_foreach (list, i, c) {
                if (!want_service(c, a->pos, a->n_pos))
                        continue;
                if (status && !strv_contains(status, json_get_str(c, "State", "")))
                        continue;
                v[m++] = c;
        }
        qsort(v, m, sizeof(json_t *), by_name);

        if (cli_flag(a, "quiet")) {
                for (i = 0; i < m; i++)
                        printf("%s\n", json_get_str(v[i], "Id", ""));
                return 0;
        }
        if (cli_flag(a, "services")) {
                _cleanup_strv_ char **seen = NULL;
                for (i = 0; i < m; i++) {
                        const char *s = ops_label(v[i], LABEL_SERVICE) ?: "";
                        if (!strv_contains(seen, s))
                                seen = strv_push(seen, xstrdup(s));
                }
                for (char **s = seen; s && *s; s++)
                        printf("%s%s", *s, s[1] ? "\n" : "");
                putchar('\n');
                return 0;
        }
        bool trunc = !cli_flag(a, "no-trunc");
        const char *fmt = cli_str(a, "format");
        json_auto_t *rows = json_array();
        for (i = 0; i < m; i++)
                json_array_append_new(rows, ps_row(v[i], trunc));
        if (streq(fmt, "json")) {
                json_t *r;
                json_array_foreach (rows, i, r)
                        (void)json_print(stdout, r, JSON_COMPACT | JSON_SORT_KEYS);
                return 0;
        }
        if (streq(fmt, "table") || streq(fmt, "pretty") || isempty(fmt))
                fmt = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t"
                      "{{.Status}}\t{{.Ports}}";
        json_auto_t *headers = ps_headers();
        if (print_template(fmt, rows, headers, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        return 0;
}

/* --- ls ---------------------------------------------------------------------- */

const struct cli_opt compose_ls_opts[] = {
    {"all", 'a', CLI_BOOL, "Show all stopped Compose projects", NULL},
    {"filter", 0, CLI_LIST, "Filter output based on conditions provided", NULL},
    {"format", 0, CLI_STRING, "Format the output. Values: [table | json]", "table"},
    {"quiet", 'q', CLI_BOOL, "Only display project names", NULL},
    {0},
};

/* name=X matches exactly, or as a regular expression, as v2's does. */
static bool name_matches(char **names, const char *project)
{
        if (!names)
                return true;
        for (char **n = names; *n; n++) {
                if (streq(*n, project))
                        return true;
                regex_t re;
                if (regcomp(&re, *n, REG_EXTENDED | REG_NOSUB) != 0)
                        continue;
                bool ok = regexec(&re, project, 0, NULL, 0) == 0;
                regfree(&re);
                if (ok)
                        return true;
        }
        return false;
}

static int str_cmp(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

int compose_cmd_ls(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_strv_ char **names = NULL;
        for (char **f = cli_list(a, "filter"); f && *f; f++) {
                const char *v = startswith(*f, "name=");
                if (!v) {
                        _cleanup_free_ char *key = xstrndup(*f, strcspn(*f, "="));
                        fprintf(stderr, "invalid filter '%s'\n", key);
                        return 1;
                }
                names = strv_push(names, xstrdup(v));
        }
        const char *fmt = cli_str(a, "format");
        if (!streq(fmt, "table") && !streq(fmt, "json") && !streq(fmt, "pretty")) {
                fprintf(stderr, "format value \"%s\" could not be parsed: parsing failed\n", fmt);
                return 1;
        }
        if (cli_connect(cli, &err) < 0)
                return cli_fail(&err);
        _cleanup_free_ char *q =
            cli_escape("{\"label\":[\"" LABEL_PROJECT "\",\"" LABEL_HASH "\"]}");
        _cleanup_free_ char *path =
            xasprintf("/containers/json?all=%d&filters=%s", cli_flag(a, "all"), q);
        _cleanup_json_ json_t *list = NULL;
        if (client_json(&cli->client, "GET", path, NULL, NULL, &list, &err) < 0)
                return cli_fail(&err);

        /* project -> {"states": {state: n}, "files": [..]} */
        json_auto_t *projects = json_object();
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                const char *p = ops_label(c, LABEL_PROJECT);
                if (!p)
                        continue;
                json_t *e = json_object_get(projects, p);
                if (!e) {
                        e = json_pack("{s:{}, s:[], s:b}", "states", "files", "na", 0);
                        json_object_set_new(projects, p, e);
                }
                json_t *states = json_object_get(e, "states");
                const char *st = json_get_str(c, "State", "");
                json_object_set_new(
                    states, st, json_integer(json_integer_value(json_object_get(states, st)) + 1));
                const char *files = ops_label(c, LABEL_FILES);
                if (!files) {
                        json_object_set_new(e, "na", json_true());
                        continue;
                }
                _cleanup_strv_ char **fv = strv_split(files, ",");
                json_t *fl = json_object_get(e, "files");
                for (char **f = fv; f && *f; f++) {
                        bool have = false;
                        size_t k;
                        json_t *x;
                        json_array_foreach (fl, k, x)
                                have = have || streq(json_string_value(x), *f);
                        if (!have)
                                json_array_append_new(fl, json_string(*f));
                }
        }
        size_t np = json_object_size(projects);
        _cleanup_free_ char **keys = xzalloc((np + 1) * sizeof(char *));
        const char *k;
        json_t *e;
        size_t n = 0;
        json_object_foreach (projects, k, e)
                keys[n++] = (char *)k;
        qsort(keys, n, sizeof(char *), str_cmp);

        json_auto_t *out = json_array();
        for (i = 0; i < n; i++) {
                if (!name_matches(names, keys[i]))
                        continue;
                e = json_object_get(projects, keys[i]);
                json_t *states = json_object_get(e, "states");
                size_t ns = json_object_size(states), m = 0;
                _cleanup_free_ char **sk = xzalloc((ns + 1) * sizeof(char *));
                const char *s;
                json_t *cnt;
                json_object_foreach (states, s, cnt)
                        sk[m++] = (char *)s;
                qsort(sk, m, sizeof(char *), str_cmp);
                char *status = xstrdup("");
                for (size_t j = 0; j < m; j++) {
                        char *x = xasprintf(
                            "%s%s%s(%lld)", status, j ? ", " : "", sk[j],
                            (long long)json_integer_value(json_object_get(states, sk[j])));
                        free(status);
                        status = x;
                }
                char *files = xstrdup("");
                if (json_is_true(json_object_get(e, "na"))) {
                        fprintf(stderr,
                                "WARN[0000] no label \"%s\" set on a container of compose project "
                                "%s\n",
                                LABEL_FILES, keys[i]);
                        free(files);
                        files = xstrdup("N/A");
                } else {
                        size_t fi;
                        json_t *f;
                        json_array_foreach (json_object_get(e, "files"), fi, f) {
                                char *x =
                                    xasprintf("%s%s%s", files, fi ? "," : "", json_string_value(f));
                                free(files);
                                files = x;
                        }
                }
                json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "Name", keys[i], "Status",
                                                     status, "ConfigFiles", files));
                free(status);
                free(files);
        }
        if (cli_flag(a, "quiet")) {
                json_array_foreach (out, i, e)
                        printf("%s\n", json_get_str(e, "Name", ""));
                return 0;
        }
        if (streq(fmt, "json")) {
                _cleanup_free_ char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", s ? s : "[]");
                return 0;
        }
        json_auto_t *rows = json_pack("[[s, s, s]]", "NAME", "STATUS", "CONFIG FILES");
        json_array_foreach (out, i, e)
                json_array_append_new(rows, json_pack("[s, s, s]", json_get_str(e, "Name", ""),
                                                      json_get_str(e, "Status", ""),
                                                      json_get_str(e, "ConfigFiles", "")));
        ops_table_print(rows, 20, 3, stdout);
        return 0;
}

/* --- images ------------------------------------------------------------------ */

const struct cli_opt compose_images_opts[] = {
    {"format", 0, CLI_STRING, "Format the output. Values: [table | json]", "table"},
    {"quiet", 'q', CLI_BOOL, "Only display IDs", NULL},
    {0},
};

/* "busybox" -> "busybox:latest" (the tag part after the last '/'). */
static char *with_tag(const char *ref)
{
        const char *slash = strrchr(ref, '/');
        if (strchr(slash ? slash : ref, ':') || strchr(ref, '@'))
                return xstrdup(ref);
        return xasprintf("%s:latest", ref);
}

int compose_cmd_images(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        const char *fmt = cli_str(a, "format");
        if (!streq(fmt, "table") && !streq(fmt, "json") && !streq(fmt, "pretty")) {
                fprintf(stderr, "format value \"%s\" could not be parsed: parsing failed\n", fmt);
                return 1;
        }
        _cleanup_json_ json_t *list = NULL;
        if (compose_containers(cc, NULL, true, true, &list, &err) < 0)
                return cli_fail(&err);
        json_auto_t *inspected = json_object(); /* image ID -> inspect */
        json_auto_t *out = json_array();
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                if (!want_service(c, a->pos, a->n_pos))
                        continue;
                const char *iid = json_get_str(c, "ImageID", "");
                json_t *img = json_object_get(inspected, iid);
                if (!img && *iid) {
                        _cleanup_free_ char *e = cli_escape(iid);
                        _cleanup_free_ char *p = xasprintf("/images/%s/json", e);
                        struct berth_err ierr = {0};
                        if (client_json(&cli->client, "GET", p, NULL, NULL, &img, &ierr) < 0)
                                img = json_object();
                        json_object_set_new(inspected, iid, img);
                }
                _cleanup_free_ char *ref = with_tag(json_get_str(c, "Image", ""));
                const char *tagged = NULL;
                size_t k;
                json_t *t;
                json_array_foreach (json_object_get(img, "RepoTags"), k, t) {
                        if (streq(json_string_value(t), ref) || !tagged)
                                tagged = json_string_value(t);
                        if (streq(json_string_value(t), ref))
                                break;
                }
                _cleanup_free_ char *repo = NULL, *tag = NULL;
                if (tagged) {
                        const char *slash = strrchr(tagged, '/');
                        const char *colon = strrchr(slash ? slash : tagged, ':');
                        repo = colon ? xstrndup(tagged, (size_t)(colon - tagged)) : xstrdup(tagged);
                        tag = xstrdup(colon ? colon + 1 : "");
                } else {
                        repo = xstrdup("");
                        tag = xstrdup("");
                }
                const char *variant = json_get_str(img, "Variant", "");
                _cleanup_free_ char *platform =
                    xasprintf("%s/%s%s%s", json_get_str(img, "Os", "linux"),
                              json_get_str(img, "Architecture", ""), *variant ? "/" : "", variant);
                json_array_append_new(out,
                                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "ID", iid,
                                                "ContainerName", ops_name(c), "Repository", repo,
                                                "Tag", tag, "Platform", platform, "Size",
                                                (json_int_t)json_get_int(img, "Size", 0), "Created",
                                                json_get_str(img, "Created", "")));
        }
        json_t *e;
        if (cli_flag(a, "quiet")) {
                _cleanup_strv_ char **seen = NULL;
                json_array_foreach (out, i, e) {
                        const char *id = json_get_str(e, "ID", "");
                        const char *colon = strchr(id, ':');
                        if (colon)
                                id = colon + 1;
                        if (!strv_contains(seen, id)) {
                                seen = strv_push(seen, xstrdup(id));
                                printf("%s\n", id);
                        }
                }
                return 0;
        }
        if (streq(fmt, "json")) {
                _cleanup_free_ char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf("%s\n", json_array_size(out) ? s : "null");
                return 0;
        }
        json_auto_t *rows = json_pack("[[s, s, s, s, s, s, s]]", "CONTAINER", "REPOSITORY", "TAG",
                                      "PLATFORM", "IMAGE ID", "SIZE", "CREATED");
        /* sorted by container name */
        size_t n = json_array_size(out), m = 0;
        _cleanup_free_ json_t **v = xzalloc((n + 1) * sizeof(json_t *));
        json_array_foreach (out, i, e)
                v[m++] = e;
        for (size_t x = 1; x < m; x++)
                for (size_t y = x; y > 0 && strcmp(json_get_str(v[y - 1], "ContainerName", ""),
                                                   json_get_str(v[y], "ContainerName", "")) > 0;
                     y--) {
                        json_t *t = v[y];
                        v[y] = v[y - 1];
                        v[y - 1] = t;
                }
        for (i = 0; i < m; i++) {
                e = v[i];
                const char *id = json_get_str(e, "ID", "");
                const char *colon = strchr(id, ':');
                char id12[13], size[32], created[64] = "N/A";
                snprintf(id12, sizeof(id12), "%.12s", colon ? colon + 1 : id);
                cli_bytes_decimal(json_get_int(e, "Size", 0), size, sizeof(size));
                int64_t cns =
                    parse_timestamp_ns(json_get_str(e, "Created", ""), now_ns(), &cns) == 0 ? cns
                                                                                            : 0;
                if (cns > 0)
                        cli_time_ago(cns / 1000000000, created, sizeof(created));
                const char *repo = json_get_str(e, "Repository", "");
                const char *tag = json_get_str(e, "Tag", "");
                json_array_append_new(
                    rows, json_pack("[s, s, s, s, s, s, s]", json_get_str(e, "ContainerName", ""),
                                    *repo ? repo : "<none>", *tag ? tag : "<none>",
                                    json_get_str(e, "Platform", ""), id12, size, created));
        }
        ops_table_print(rows, 20, 3, stdout);
        return 0;
}

/* --- port -------------------------------------------------------------------- */

const struct cli_opt compose_port_opts[] = {
    {"index", 0, CLI_INT, "Index of the container if service has multiple replicas", "0"},
    {"protocol", 0, CLI_STRING, "tcp or udp", "tcp"},
    {0},
};

int compose_cmd_port(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        int64_t port = 0, index = 0;
        if (parse_int64(a->pos[1], &port) < 0 || port < 0 || port > 65535) {
                fprintf(stderr, "strconv.ParseUint: parsing \"%s\": invalid syntax\n", a->pos[1]);
                return 1;
        }
        if (parse_int64(cli_str(a, "index"), &index) < 0) {
                fprintf(stderr, "invalid argument \"%s\" for \"--index\" flag\n",
                        cli_str(a, "index"));
                return 1;
        }
        _cleanup_free_ char *proto = xstrdup(cli_str(a, "protocol"));
        for (char *p = proto; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        _cleanup_json_ json_t *c = NULL;
        if (ops_service_container(cc, a->pos[0], index, true, false, &c, &err) < 0)
                return cli_fail(&err);
        size_t i;
        json_t *p;
        json_array_foreach (json_object_get(c, "Ports"), i, p) {
                if (json_get_int(p, "PrivatePort", 0) == port &&
                    streq(json_get_str(p, "Type", "tcp"), proto)) {
                        printf("%s:%lld\n", json_get_str(p, "IP", ""),
                               (long long)json_get_int(p, "PublicPort", 0));
                        return 0;
                }
        }
        char *have = xstrdup("");
        json_array_foreach (json_object_get(c, "Ports"), i, p) {
                char *x = xasprintf("%s%s%lld/%s", have, i ? ", " : "",
                                    (long long)json_get_int(p, "PrivatePort", 0),
                                    json_get_str(p, "Type", "tcp"));
                free(have);
                have = x;
        }
        fprintf(stderr, "no port %lld/%s for container %s: %s\n", (long long)port, proto,
                ops_name(c), have);
        free(have);
        return 1;
}

/* --- top --------------------------------------------------------------------- */

const struct cli_opt compose_top_opts[] = {{0}};

int compose_cmd_top(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        _cleanup_json_ json_t *list = NULL;
        if (compose_containers(cc, NULL, false, false, &list, &err) < 0)
                return cli_fail(&err);
        size_t n = json_array_size(list), m = 0, i;
        _cleanup_free_ json_t **v = xzalloc((n + 1) * sizeof(json_t *));
        json_t *c;
        json_array_foreach (list, i, c)
                if (want_service(c, a->pos, a->n_pos))
                        v[m++] = c;
        qsort(v, m, sizeof(json_t *), by_name);

        /* one table over every container: SERVICE, #, then the titles in
         * the order met, CMD last */
        json_auto_t *titles = json_pack("[s, s]", "SERVICE", "#");
        json_auto_t *entries = json_array();
        for (i = 0; i < m; i++) {
                _cleanup_free_ char *e = cli_escape(json_get_str(v[i], "Id", ""));
                _cleanup_free_ char *p = xasprintf("/containers/%s/top", e);
                _cleanup_json_ json_t *top = NULL;
                if (client_json(&cli->client, "GET", p, NULL, NULL, &top, &err) < 0)
                        return cli_fail(&err);
                json_t *tt = json_object_get(top, "Titles");
                size_t k, pi;
                json_t *t, *proc;
                json_array_foreach (tt, k, t) {
                        bool have = false;
                        size_t x;
                        json_t *h;
                        json_array_foreach (titles, x, h)
                                have = have || streq(json_string_value(h), json_string_value(t));
                        if (!have)
                                json_array_append(titles, t);
                }
                json_array_foreach (json_object_get(top, "Processes"), pi, proc) {
                        json_t *entry =
                            json_pack("{s:s, s:s}", "SERVICE", ops_label(v[i], LABEL_SERVICE) ?: "",
                                      "#", ops_label(v[i], LABEL_NUMBER) ?: "");
                        json_array_foreach (tt, k, t)
                                json_object_set(entry, json_string_value(t),
                                                json_array_get(proc, k) ?: json_string(""));
                        json_array_append_new(entries, entry);
                }
        }
        if (json_array_size(entries) == 0)
                return 0;
        size_t x;
        json_t *h;
        json_array_foreach (titles, x, h)
                if (streq(json_string_value(h), "CMD")) {
                        json_incref(h);
                        json_array_remove(titles, x);
                        json_array_append_new(titles, h);
                        break;
                }
        json_auto_t *rows = json_array();
        json_array_append(rows, titles);
        json_t *entry;
        json_array_foreach (entries, i, entry) {
                json_t *r = json_array();
                json_array_foreach (titles, x, h) {
                        json_t *val = json_object_get(entry, json_string_value(h));
                        json_array_append_new(
                            r, json_string(val ? json_string_value(val) ?: "" : "-"));
                }
                json_array_append_new(rows, r);
        }
        ops_table_print(rows, 4, 2, stdout);
        return 0;
}

/* --- events ------------------------------------------------------------------ */

const struct cli_opt compose_events_opts[] = {
    {"json", 0, CLI_BOOL, "Output events as a stream of json objects", NULL},
    {"since", 0, CLI_STRING, "Show all events created since timestamp", NULL},
    {"until", 0, CLI_STRING, "Stream events until this timestamp", NULL},
    {0},
};

struct events_ctx {
        char **services;
        size_t n_services;
        bool json;
        char *buf;
        size_t len;
};

static int key_cmp(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void print_event(struct events_ctx *e, json_t *ev)
{
        if (!streq(json_get_str(ev, "Type", ""), "container"))
                return;
        json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
        if (streq(json_get_str(attrs, LABEL_ONEOFF, ""), "True"))
                return;
        const char *service = json_get_str(attrs, LABEL_SERVICE, "");
        if (e->n_services) {
                bool ok = false;
                for (size_t i = 0; i < e->n_services; i++)
                        ok = ok || streq(e->services[i], service);
                if (!ok)
                        return;
        }
        /* the attributes but compose's own labels, sorted */
        size_t na = json_object_size(attrs), n = 0;
        _cleanup_free_ const char **keys = xzalloc((na + 1) * sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach (attrs, k, v)
                if (!startswith(k, "com.docker.compose."))
                        keys[n++] = k;
        qsort(keys, n, sizeof(char *), key_cmp);
        int64_t ns = json_get_int(ev, "timeNano", 0);
        if (!ns)
                ns = json_get_int(ev, "time", 0) * 1000000000;
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        localtime_r(&t, &tm);
        const char *id = json_get_str(json_object_get(ev, "Actor"), "ID", "");
        const char *action = json_get_str(ev, "Action", json_get_str(ev, "status", ""));
        if (e->json) {
                char ts[64], zone[8];
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
                strftime(zone, sizeof(zone), "%z", &tm);
                /* Go's RFC 3339 with nanoseconds, trailing zeros dropped */
                char frac[16];
                snprintf(frac, sizeof(frac), ".%09lld", (long long)(ns % 1000000000));
                size_t fl = strlen(frac);
                while (fl > 1 && frac[fl - 1] == '0')
                        frac[--fl] = '\0';
                if (fl == 1)
                        frac[0] = '\0';
                char tz[8];
                if (streq(zone, "+0000"))
                        snprintf(tz, sizeof(tz), "Z");
                else
                        snprintf(tz, sizeof(tz), "%.3s:%.2s", zone, zone + 3);
                json_t *a = json_object();
                for (size_t i = 0; i < n; i++)
                        json_object_set(a, keys[i], json_object_get(attrs, keys[i]));
                _cleanup_json_ json_t *o = json_pack(
                    "{s:s, s:o, s:s, s:s++, s:s, s:s}", "action", action, "attributes", a, "id", id,
                    "time", ts, frac, tz, "type", "container", "service", service);
                (void)json_print(stdout, o, JSON_COMPACT | JSON_SORT_KEYS);
        } else {
                char ts[64];
                strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
                printf("%s.%06lld container %s %s (", ts, (long long)(ns % 1000000000 / 1000),
                       action, id);
                for (size_t i = 0; i < n; i++)
                        printf("%s%s=%s", i ? ", " : "", keys[i],
                               json_string_value(json_object_get(attrs, keys[i])) ?: "");
                /* v2 prints the event's text with its own newline, then one more */
                printf(")\n\n");
        }
        fflush(stdout);
}

static int on_events(void *userdata, const char *data, size_t len)
{
        struct events_ctx *e = userdata;
        e->buf = xrealloc(e->buf, e->len + len + 1);
        memcpy(e->buf + e->len, data, len);
        e->len += len;
        char *start = e->buf, *nl;
        while ((nl = memchr(start, '\n', e->len - (size_t)(start - e->buf)))) {
                *nl = '\0';
                json_error_t je;
                json_t *ev = json_loads(start, 0, &je);
                if (ev) {
                        print_event(e, ev);
                        json_decref(ev);
                }
                start = nl + 1;
        }
        e->len -= (size_t)(start - e->buf);
        memmove(e->buf, start, e->len);
        return 0;
}

int compose_cmd_events(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct berth_err err = {0};
        const char *name;
        if (compose_project_name(cc, &name, &err) < 0 || cli_connect(cli, &err) < 0)
                return cli_fail(&err);
        json_auto_t *filters = json_pack("{s:[s+]}", "label", LABEL_PROJECT "=", name);
        _cleanup_free_ char *fj = json_dumps(filters, JSON_COMPACT);
        _cleanup_free_ char *fq = cli_escape(fj);
        char since[40] = "", until[40] = "";
        int64_t ns;
        if (cli_str(a, "since")) {
                if (parse_timestamp_ns(cli_str(a, "since"), now_ns(), &ns) < 0) {
                        fprintf(stderr, "invalid value for --since: \"%s\"\n", cli_str(a, "since"));
                        return 1;
                }
                snprintf(since, sizeof(since), "&since=%lld.%09lld", (long long)(ns / 1000000000),
                         (long long)(ns % 1000000000));
        }
        if (cli_str(a, "until")) {
                if (parse_timestamp_ns(cli_str(a, "until"), now_ns(), &ns) < 0) {
                        fprintf(stderr, "invalid value for --until: \"%s\"\n", cli_str(a, "until"));
                        return 1;
                }
                snprintf(until, sizeof(until), "&until=%lld.%09lld", (long long)(ns / 1000000000),
                         (long long)(ns % 1000000000));
        }
        _cleanup_free_ char *path = xasprintf("/events?filters=%s%s%s", fq, since, until);
        struct events_ctx e = {
            .services = a->pos, .n_services = a->n_pos, .json = cli_flag(a, "json")};
        int r = client_stream(&cli->client, "GET", path, NULL, -1, on_events, &e, NULL, &err);
        free(e.buf);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

/* --- version ----------------------------------------------------------------- */

const struct cli_opt compose_version_opts[] = {
    {"format", 'f', CLI_STRING, "Format the output. Values: [pretty | json]. (Default: pretty)",
     NULL},
    {"short", 0, CLI_BOOL, "Shows only Compose's version number", NULL},
    {0},
};

/* Scripts read v2's "Docker Compose version v2.x.y" with a pattern on
 * "version v?N.N.N", or --short's bare number: both keep that shape. */
int compose_cmd_version(struct cli *cli, struct cli_args *a)
{
        (void)cli;
        if (cli_flag(a, "short")) {
                printf("%s\n", COMPOSE_VERSION);
                return 0;
        }
        const char *fmt = cli_str(a, "format");
        if (fmt && streq(fmt, "json")) {
                printf("{\"version\":\"v%s\"}\n", COMPOSE_VERSION);
                return 0;
        }
        printf("berth compose version v%s (berth %s)\n", COMPOSE_VERSION, BERTH_VERSION);
        return 0;
}
