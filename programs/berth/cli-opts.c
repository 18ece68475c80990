/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cli.h"

#include <ctype.h>

static const char *type_word(enum cli_opt_type t)
{
        switch (t) {
        case CLI_STRING:
                return "string";
        case CLI_INT:
                return "int";
        case CLI_LIST:
                return "list";
        default:
                return "";
        }
}

static size_t n_opts(const struct cli_command *cmd)
{
        size_t n = 0;
        while (cmd->opts && cmd->opts[n].name)
                n++;
        return n;
}

static int find_long(const struct cli_command *cmd, const char *name, size_t len)
{
        for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
                if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
                        return (int)i;
        return -1;
}

static int find_short(const struct cli_command *cmd, char c)
{
        for (size_t i = 0; cmd->opts && cmd->opts[i].name; i++)
                if (cmd->opts[i].shortname == c)
                        return (int)i;
        return -1;
}

static int bad(const char *path, const char *fmt, const char *what)
{
        fprintf(stderr, "berth: ");
        fprintf(stderr, fmt, what);
        fprintf(stderr, "\nSee '%s --help'.\n", path);
        return -EINVAL;
}

static int set_value(const struct cli_opt *o, struct cli_value *v, const char *val,
                     const char *path)
{
        if (o->type == CLI_INT) {
                int64_t x;
                if (parse_int64(val, &x) < 0) {
                        fprintf(stderr,
                                "berth: invalid argument \"%s\" for \"--%s\" flag: not a "
                                "number\nSee '%s --help'.\n",
                                val, o->name, path);
                        return -EINVAL;
                }
        }
        v->set = true;
        if (o->type == CLI_LIST) {
                if (!v->list)
                        v->list = xzalloc(sizeof(char *));
                v->list = strv_push(v->list, xstrdup(val));
        } else {
                free(v->str);
                v->str = xstrdup(val);
        }
        return 0;
}

int cli_parse(const struct cli_command *cmd, const char *path, int argc, char **argv,
              struct cli_args *a)
{
        *a = (struct cli_args){.cmd = cmd, .path = path};
        a->values = xzalloc((n_opts(cmd) + 1) * sizeof(*a->values));
        a->pos = xzalloc((size_t)(argc + 1) * sizeof(char *));
        bool flags_done = false;

        for (int i = 0; i < argc; i++) {
                char *arg = argv[i];
                if (flags_done || arg[0] != '-' || streq(arg, "-")) {
                        a->pos[a->n_pos++] = arg;
                        if (cmd->stop_at_positional)
                                flags_done = true;
                        continue;
                }
                if (streq(arg, "--")) {
                        flags_done = true;
                        continue;
                }
                if (arg[1] == '-') {
                        const char *name = arg + 2;
                        const char *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);
                        if (len == 4 && strncmp(name, "help", 4) == 0) {
                                cli_help(cmd, path, stdout);
                                exit(0);
                        }
                        int k = find_long(cmd, name, len);
                        if (k < 0)
                                return bad(path, "unknown flag: %s", arg);
                        const struct cli_opt *o = &cmd->opts[k];
                        if (o->type == CLI_BOOL) {
                                bool b = true;
                                if (eq && parse_bool(eq + 1, &b) < 0)
                                        return bad(path, "invalid boolean value in %s", arg);
                                a->values[k].set = true;
                                a->values[k].flag = b;
                                continue;
                        }
                        const char *val = eq ? eq + 1 : NULL;
                        if (!val) {
                                if (i + 1 >= argc)
                                        return bad(path, "flag needs an argument: %s", arg);
                                val = argv[++i];
                        }
                        if (set_value(o, &a->values[k], val, path) < 0)
                                return -EINVAL;
                        continue;
                }
                /* -abc, -n5, -n 5 */
                for (const char *s = arg + 1; *s; s++) {
                        if (*s == 'h' && find_short(cmd, 'h') < 0) {
                                cli_help(cmd, path, stdout);
                                exit(0);
                        }
                        int k = find_short(cmd, *s);
                        if (k < 0) {
                                char what[64];
                                snprintf(what, sizeof(what), "'%c' in %s", *s, arg);
                                return bad(path, "unknown shorthand flag: %s", what);
                        }
                        const struct cli_opt *o = &cmd->opts[k];
                        if (o->type == CLI_BOOL && s[1] == '=') {
                                /* -H=false, as pflag takes it */
                                bool b;
                                if (parse_bool(s + 2, &b) < 0)
                                        return bad(path, "invalid boolean value in %s", arg);
                                a->values[k].set = true;
                                a->values[k].flag = b;
                                break;
                        }
                        if (o->type == CLI_BOOL) {
                                a->values[k].set = true;
                                a->values[k].flag = true;
                                continue;
                        }
                        const char *val = s[1] ? s + 1 : NULL;
                        if (!val) {
                                if (i + 1 >= argc) {
                                        char what[64];
                                        snprintf(what, sizeof(what), "'%c' in %s", *s, arg);
                                        return bad(path, "flag needs an argument: %s", what);
                                }
                                val = argv[++i];
                        }
                        if (set_value(o, &a->values[k], val, path) < 0)
                                return -EINVAL;
                        break;
                }
        }
        if ((int)a->n_pos < cmd->min_args ||
            (cmd->max_args >= 0 && (int)a->n_pos > cmd->max_args)) {
                const char *want = cmd->max_args == 0               ? "no arguments"
                                   : cmd->min_args == cmd->max_args ? "exactly %d argument(s)"
                                   : cmd->max_args < 0              ? "at least %d argument(s)"
                                                                    : "between %d and %d arguments";
                fprintf(stderr, "\"%s\" requires ", path);
                fprintf(stderr, want, cmd->min_args, cmd->max_args);
                fprintf(stderr, ".\nSee '%s --help'.\n\nUsage:  %s %s\n\n%s\n", path, path,
                        strempty(cmd->usage), strempty(cmd->summary));
                return -EINVAL;
        }
        return 0;
}

void cli_args_done(struct cli_args *a)
{
        size_t n = n_opts(a->cmd);
        for (size_t i = 0; i < n && a->values; i++) {
                free(a->values[i].str);
                strv_free(a->values[i].list);
        }
        free(a->values);
        free(a->pos);
}

static int index_of(struct cli_args *a, const char *name)
{
        int k = find_long(a->cmd, name, strlen(name));
        if (k < 0) {
                fprintf(stderr, "berth: internal error: no option '%s' in '%s'\n", name, a->path);
                abort();
        }
        return k;
}

bool cli_flag(struct cli_args *a, const char *name)
{
        int k = index_of(a, name);
        if (a->values[k].set)
                return a->values[k].flag;
        bool b = false;
        if (a->cmd->opts[k].def)
                parse_bool(a->cmd->opts[k].def, &b);
        return b;
}

const char *cli_str(struct cli_args *a, const char *name)
{
        int k = index_of(a, name);
        return a->values[k].set ? a->values[k].str : a->cmd->opts[k].def;
}

char **cli_list(struct cli_args *a, const char *name)
{
        int k = index_of(a, name);
        return a->values[k].list;
}

static void print_opts(const struct cli_opt *opts, FILE *f)
{
        size_t width = 0;
        char col[128];
        for (size_t i = 0; opts && opts[i].name; i++) {
                size_t l = 4 + 2 + strlen(opts[i].name) + 1 + strlen(type_word(opts[i].type));
                if (l > width)
                        width = l;
        }
        for (size_t i = 0; opts && opts[i].name; i++) {
                const struct cli_opt *o = &opts[i];
                if (o->shortname)
                        snprintf(col, sizeof(col), "-%c, --%s %s", o->shortname, o->name,
                                 type_word(o->type));
                else
                        snprintf(col, sizeof(col), "    --%s %s", o->name, type_word(o->type));
                fprintf(f, "  %-*s   %s", (int)width, col, o->help);
                if (o->def && o->type != CLI_BOOL)
                        fprintf(f, o->type == CLI_STRING ? " (default \"%s\")" : " (default %s)",
                                o->def);
                fputc('\n', f);
        }
}

static void print_commands(const struct cli_command *sub, const char *group, FILE *f)
{
        for (const struct cli_command *c = sub; c->name; c++) {
                if (!streq_ptr(c->group, group))
                        continue;
                fprintf(f, "  %-11s %s\n", c->name, c->summary);
        }
}

static bool has_group(const struct cli_command *sub, const char *group)
{
        for (const struct cli_command *c = sub; c->name; c++)
                if (streq_ptr(c->group, group))
                        return true;
        return false;
}

void cli_help(const struct cli_command *cmd, const char *path, FILE *f)
{
        fprintf(f, "\nUsage:  %s %s\n", path, strempty(cmd->usage));
        if (cmd->aliases && *cmd->aliases) {
                fprintf(f, "\nAliases:\n  %s", path);
                _cleanup_strv_ char **al = strv_split(cmd->aliases, " ");
                const char *base = strrchr(path, ' ');
                size_t prefix = base ? (size_t)(base - path) : 0;
                for (char **x = al; *x; x++)
                        fprintf(f, ", %.*s %s", (int)prefix, path, *x);
                fputc('\n', f);
        }
        fprintf(f, "\n%s\n", cmd->summary);
        if (cmd->sub) {
                static const struct {
                        const char *group, *title;
                } groups[] = {{"common", "Common Commands"},
                              {"management", "Management Commands"},
                              {NULL, "Commands"}};
                for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                        if (!has_group(cmd->sub, groups[g].group))
                                continue;
                        fprintf(f, "\n%s:\n", groups[g].title);
                        print_commands(cmd->sub, groups[g].group, f);
                }
        }
        if (cmd->opts && cmd->opts[0].name) {
                fprintf(f, "\n%s:\n",
                        cmd->sub && strchr(path, ' ') == NULL ? "Global Options" : "Options");
                print_opts(cmd->opts, f);
        }
        if (cmd->sub)
                fprintf(f, "\nRun '%s COMMAND --help' for more information on a command.\n", path);
}

static void human(int64_t n, double base, const char *const *units, size_t n_units, char *buf,
                  size_t len)
{
        double v = (double)n;
        size_t i = 0;
        while (v >= base && i + 1 < n_units) {
                v /= base;
                i++;
        }
        snprintf(buf, len, base == 1000 ? "%.3g%s" : "%.4g%s", v, units[i]);
}

void cli_bytes_binary(int64_t n, char *buf, size_t len)
{
        static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        human(n, 1024, u, ELEMENTSOF(u), buf, len);
}

void cli_bytes_decimal(int64_t n, char *buf, size_t len)
{
        static const char *const u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        human(n, 1000, u, ELEMENTSOF(u), buf, len);
}

char *cli_escape(const char *s)
{
        /* percent-encode all but RFC 3986's unreserved characters */
        char *r = xmalloc(strlen(s) * 3 + 1), *o = r;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (isalnum(*p) || strchr("-._~", *p))
                        *o++ = (char)*p;
                else
                        o += sprintf(o, "%%%02X", *p);
        }
        *o = '\0';
        return r;
}

/* -f/--filter k=v ... -> the API's filters JSON (NULL when none). */
char *cli_filters_json(char **flags, const char *extra_key, const char *extra_value)
{
        if (!flags && !extra_key)
                return NULL;
        json_t *f = json_object();
        for (char **i = flags; i && *i; i++) {
                const char *eq = strchr(*i, '=');
                _cleanup_free_ char *k = eq ? xstrndup(*i, (size_t)(eq - *i)) : xstrdup(*i);
                json_t *m = json_object_get(f, k);
                if (!m) {
                        m = json_object();
                        json_object_set_new(f, k, m);
                }
                json_object_set_new(m, eq ? eq + 1 : "", json_true());
        }
        if (extra_key) {
                json_t *m = json_object_get(f, extra_key);
                if (!m) {
                        m = json_object();
                        json_object_set_new(f, extra_key, m);
                }
                json_object_set_new(m, extra_value, json_true());
        }
        char *s = json_dumps(f, JSON_COMPACT);
        json_decref(f);
        if (!s) { /* never read as "no filters": a prune would take everything */
                fputs("berth: cannot encode the filters\n", stderr);
                exit(1);
        }
        return s;
}

bool cli_confirm(const char *warning)
{
        char line[16];
        printf("%s\nAre you sure you want to continue? [y/N] ", warning);
        fflush(stdout);
        return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

int cli_prune(struct cli *cli, const char *path, char **filters, const char *extra_key,
              const char *extra_value, const char *key, const char *title, int64_t *ret_reclaimed,
              struct berth_err *err)
{
        char *fj = cli_filters_json(filters, extra_key, extra_value);
        _cleanup_free_ char *fs = fj ? fj : xstrdup("{}");
        _cleanup_free_ char *fq = cli_escape(fs);
        _cleanup_free_ char *p = xasprintf("%s?filters=%s", path, fq);
        _cleanup_json_ json_t *res = NULL;
        int r = client_json(&cli->client, "POST", p, NULL, NULL, &res, err);
        if (r < 0)
                return r;
        json_t *del = json_object_get(res, key);
        if (json_array_size(del)) {
                size_t i;
                json_t *x;
                printf("%s:\n", title);
                json_array_foreach (del, i, x) {
                        if (json_is_string(x)) {
                                printf("%s\n", json_string_value(x));
                                continue;
                        }
                        const char *u = json_get_str(x, "Untagged", NULL);
                        const char *d = json_get_str(x, "Deleted", NULL);
                        if (u)
                                printf("untagged: %s\n", u);
                        if (d)
                                printf("deleted: %s\n", d);
                }
                printf("\n");
        }
        if (ret_reclaimed)
                *ret_reclaimed += json_get_int(res, "SpaceReclaimed", 0);
        return 0;
}

void cli_print_reclaimed(int64_t bytes)
{
        char sz[32];
        cli_bytes_decimal(bytes, sz, sizeof(sz));
        printf("Total reclaimed space: %s\n", sz);
}

json_t *cli_kv_object(char **list, bool need_eq, const char **ret_bad)
{
        json_t *o = json_object();
        for (char **i = list; i && *i; i++) {
                const char *eq = strchr(*i, '=');
                if (need_eq && !eq) {
                        if (ret_bad)
                                *ret_bad = *i;
                        json_decref(o);
                        return NULL;
                }
                _cleanup_free_ char *k = eq ? xstrndup(*i, (size_t)(eq - *i)) : xstrdup(*i);
                json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
        }
        return o;
}
