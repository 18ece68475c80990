/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `berth compose config`: the project as the loader sees it, printed as
 * docker compose v2 prints it (the model in yaml or json), or one of its
 * lists (--services, --volumes, ...). */
#include "compose.h"
#include "compose/compose-yaml.h"

#include <errno.h>
#include <string.h>

const struct cli_opt compose_config_opts[] = {
    {"environment", 0, CLI_BOOL, "Print environment used for interpolation.", NULL},
    {"format", 0, CLI_STRING, "Format the output. Values: [yaml | json]", NULL},
    {"hash", 0, CLI_STRING, "Print the service config hash, one per line.", NULL},
    {"images", 0, CLI_BOOL, "Print the image names, one per line.", NULL},
    {"networks", 0, CLI_BOOL, "Print the network names, one per line.", NULL},
    {"no-consistency", 0, CLI_BOOL,
     "Don't check model consistency - warning: may produce invalid Compose output", NULL},
    {"no-env-resolution", 0, CLI_BOOL, "Don't resolve service env files", NULL},
    {"no-interpolate", 0, CLI_BOOL, "Don't interpolate environment variables", NULL},
    {"no-normalize", 0, CLI_BOOL, "Don't normalize compose model", NULL},
    {"no-path-resolution", 0, CLI_BOOL, "Don't resolve file paths", NULL},
    {"output", 'o', CLI_STRING, "Save to file (default to stdout)", NULL},
    {"profiles", 0, CLI_BOOL, "Print the profile names, one per line.", NULL},
    {"quiet", 'q', CLI_BOOL, "Only validate the configuration, don't print anything", NULL},
    {"services", 0, CLI_BOOL, "Print the service names, one per line.", NULL},
    {"variables", 0, CLI_BOOL, "Print model variables and default values.", NULL},
    {"volumes", 0, CLI_BOOL, "Print the volume names, one per line.", NULL},
    {0},
};

static void project_freep(struct compose_project **p)
{
        compose_project_free(*p);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of an object, sorted, one per line. */
static void print_keys(const json_t *o, FILE *f)
{
        size_t n = json_object_size(o), i = 0;
        _cleanup_free_ const char **v = xzalloc((n + 1) * sizeof(char *));
        const char *k;
        json_t *x;
        json_object_foreach ((json_t *)o, k, x)
                v[i++] = k;
        qsort(v, n, sizeof(char *), cmp_str);
        for (i = 0; i < n; i++)
                fprintf(f, "%s\n", v[i]);
}

static void print_sorted(json_t *set, FILE *f)
{
        print_keys(set, f);
}

/* What `--variables` shows: each ${...} of the files, with its default
 * or alternate value and whether it is required. */
struct var {
        char *name, *def, *alt;
        bool required;
};

static void vars_add(json_t *vars, const char *name, bool required, const char *def,
                     const char *alt)
{
        json_t *v = json_object_get(vars, name);
        if (!v) {
                v = json_object();
                json_object_set_new(vars, name, v);
        }
        if (required)
                json_object_set_new(v, "required", json_true());
        if (def && !json_object_get(v, "default"))
                json_object_set_new(v, "default", json_string(def));
        if (alt && !json_object_get(v, "alt"))
                json_object_set_new(v, "alt", json_string(alt));
}

static ssize_t close_brace(const char *s)
{
        int open = 0;
        for (size_t i = 0; s[i]; i++) {
                if (s[i] == '}' && --open == 0)
                        return (ssize_t)i;
                if (s[i] == '{') {
                        open++;
                        if (!s[i + 1])
                                break;
                        i++;
                }
        }
        return -1;
}

static bool name_char(char c, bool first)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (!first && c >= '0' && c <= '9');
}

static void scan_vars(const char *s, json_t *vars)
{
        for (const char *p = s; (p = strchr(p, '$'));) {
                if (p[1] == '$') {
                        p += 2;
                        continue;
                }
                if (name_char(p[1], true)) {
                        size_t n = 1;
                        while (name_char(p[1 + n], false))
                                n++;
                        _cleanup_free_ char *name = strndup(p + 1, n);
                        vars_add(vars, name, false, NULL, NULL);
                        p += 1 + n;
                        continue;
                }
                if (p[1] != '{') {
                        p++;
                        continue;
                }
                ssize_t c = close_brace(p + 1);
                if (c < 0)
                        return;
                _cleanup_free_ char *body = strndup(p + 2, (size_t)c - 1);
                size_t n = 0;
                while (name_char(body[n], n == 0))
                        n++;
                _cleanup_free_ char *name = strndup(body, n);
                const char *op = body + n;
                const char *word = op + (op[0] == ':' ? 2 : op[0] ? 1 : 0);
                if (!*name) {
                } else if (!*op)
                        vars_add(vars, name, false, NULL, NULL);
                else if (strstr(op, "?") == op || startswith(op, ":?"))
                        vars_add(vars, name, true, NULL, NULL);
                else if (op[0] == '-' || startswith(op, ":-"))
                        vars_add(vars, name, false, word, NULL);
                else if (op[0] == '+' || startswith(op, ":+"))
                        vars_add(vars, name, false, NULL, word);
                if (*name && *op)
                        scan_vars(word, vars);
                p += 1 + c + 1;
        }
}

static void walk_vars(const json_t *v, json_t *vars)
{
        if (json_is_string(v))
                scan_vars(json_string_value(v), vars);
        else if (json_is_object(v)) {
                const char *k;
                json_t *x;
                json_object_foreach ((json_t *)v, k, x)
                        walk_vars(x, vars);
        } else if (json_is_array(v)) {
                size_t i;
                json_t *x;
                json_array_foreach (v, i, x)
                        walk_vars(x, vars);
        }
}

/* docker's table: tabwriter with a minimum cell width of 20 and a padding
 * of 3. */
static int cell(size_t len)
{
        return (int)(len + 3 > 20 ? len + 3 : 20);
}

static void print_variables(const json_t *vars, FILE *f)
{
        size_t w[3] = {strlen("NAME"), strlen("REQUIRED"), strlen("DEFAULT VALUE")};
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)vars, k, v) {
                if (strlen(k) > w[0])
                        w[0] = strlen(k);
                const char *d = json_string_value(json_object_get(v, "default"));
                if (d && strlen(d) > w[2])
                        w[2] = strlen(d);
        }
        size_t n = json_object_size(vars), i = 0;
        _cleanup_free_ const char **names = xzalloc((n + 1) * sizeof(char *));
        json_object_foreach ((json_t *)vars, k, v)
                names[i++] = k;
        qsort(names, n, sizeof(char *), cmp_str);
        fprintf(f, "%-*s%-*s%-*s%s\n", cell(w[0]), "NAME", cell(w[1]), "REQUIRED", cell(w[2]),
                "DEFAULT VALUE", "ALTERNATE VALUE");
        for (i = 0; i < n; i++) {
                v = json_object_get(vars, names[i]);
                fprintf(f, "%-*s%-*s%-*s%s\n", cell(w[0]), names[i], cell(w[1]),
                        json_is_true(json_object_get(v, "required")) ? "true" : "false", cell(w[2]),
                        json_string_value(json_object_get(v, "default")) ?: "",
                        json_string_value(json_object_get(v, "alt")) ?: "");
        }
}

/* A copy with the keys of every object in byte order. */
static json_t *sort_keys(const json_t *v)
{
        if (json_is_array(v)) {
                json_t *a = json_array();
                size_t i;
                json_t *x;
                json_array_foreach (v, i, x)
                        json_array_append_new(a, sort_keys(x));
                return a;
        }
        if (!json_is_object(v))
                return json_incref((json_t *)v);
        size_t n = json_object_size(v), i = 0;
        _cleanup_free_ const char **keys = xzalloc((n + 1) * sizeof(char *));
        const char *k;
        json_t *x;
        json_object_foreach ((json_t *)v, k, x)
                keys[i++] = k;
        qsort(keys, n, sizeof(char *), cmp_str);
        json_t *o = json_object();
        for (i = 0; i < n; i++)
                json_object_set_new(o, keys[i], sort_keys(json_object_get(v, keys[i])));
        return o;
}

/* Keep the named services and what they depend on. */
static void select_services(json_t *model, char **only)
{
        json_t *services = json_object_get(model, "services");
        json_auto_t *keep = json_object();
        json_auto_t *todo = json_array();
        for (char **s = only; s && *s; s++)
                json_array_append_new(todo, json_string(*s));
        while (json_array_size(todo)) {
                json_auto_t *n = json_incref(json_array_get(todo, 0));
                json_array_remove(todo, 0);
                const char *name = json_string_value(n);
                if (json_object_get(keep, name))
                        continue;
                json_t *svc = json_object_get(services, name);
                if (!svc)
                        continue;
                json_object_set_new(keep, name, json_true());
                json_t *deps = json_object_get(svc, "depends_on");
                const char *d;
                json_t *x;
                size_t i;
                if (json_is_object(deps))
                        json_object_foreach (deps, d, x)
                                json_array_append_new(todo, json_string(d));
                json_array_foreach (deps, i, x)
                        json_array_append(todo, x);
        }
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe (services, tmp, k, v)
                if (!json_object_get(keep, k))
                        json_object_del(services, k);
}

static int load_raw_vars(const struct compose_project *p, json_t *vars, struct berth_err *err)
{
        for (char **f = p->config_files; f && *f; f++) {
                if (streq(*f, "-"))
                        continue;
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r = read_full_file(*f, &text, &len);
                if (r < 0)
                        return err_errno(err, r, "open %s", *f);
                json_t *doc = NULL;
                r = compose_yaml_parse(*f, text, len, &doc, NULL, err);
                if (r < 0)
                        return r;
                walk_vars(doc, vars);
                json_decref(doc);
        }
        return 0;
}

int compose_cmd_config(struct cli *cli, struct cli_args *a)
{
        struct compose_cli *cc = compose_cli(cli);
        struct compose_options o = cc->opts;
        struct berth_err err = {0};
        _cleanup_(project_freep) struct compose_project *p = NULL;
        const char *format = cli_str(a, "format");
        const char *out = cli_str(a, "output");
        int r;

        if (format && !streq(format, "yaml") && !streq(format, "json")) {
                fprintf(stderr, "unsupported format \"%s\"\n", format);
                return 1;
        }
        o.no_interpolate = cli_flag(a, "no-interpolate");
        /* the variables are those of the files as written, whatever the
         * environment or the profiles */
        static char *all_profiles[] = {"*", NULL};
        if (cli_flag(a, "variables")) {
                o.no_interpolate = true;
                o.profiles = all_profiles;
        }
        /* compose's config does not normalize under --compatibility */
        o.no_normalize = cli_flag(a, "no-normalize") || o.compatibility;
        o.no_path_resolution = cli_flag(a, "no-path-resolution");
        _cleanup_(strv_freep) char **services = NULL;
        if (a->n_pos) {
                for (size_t i = 0; i < a->n_pos; i++)
                        services = strv_push(services, xstrdup(a->pos[i]));
                o.services = services;
        }
        /* --hash narrows the project to the services hashed, as compose
         * does: another service's broken env_file is no error */
        _cleanup_(strv_freep) char **hashed = NULL;
        const char *hash_arg = cli_str(a, "hash");
        if (hash_arg && !streq(hash_arg, "*") && !services) {
                hashed = strv_split(hash_arg, ",");
                o.services = hashed;
        }
        /* no service selected: env files are read only where they exist */
        static char *none[] = {NULL};
        if (cli_flag(a, "no-env-resolution") && !o.services)
                o.services = none;
        if (services && cli_flag(a, "variables"))
                fprintf(stderr, "WARN[0000] service filtering is not applied when --variables is "
                                "set, variables from the full model will be rendered\n");
        else if (services && o.no_interpolate)
                fprintf(stderr, "WARN[0000] service filtering is not applied when "
                                "--no-interpolate is set, the full model will be rendered\n");
        r = compose_load(&o, &p, &err);
        if (r < 0 && o.no_interpolate && !o.no_normalize) {
                /* compose normalizes what it can of an uninterpolated model
                 * and keeps the rest as written ("${PORT}:80"); when the
                 * normalizer cannot, the model is shown as merged */
                err_clear(&err);
                o.no_normalize = true;
                r = compose_load(&o, &p, &err);
        }
        if (r < 0) {
                fprintf(stderr, "%s\n", err_msg(&err));
                return 1;
        }
        size_t i;
        json_t *w;
        json_array_foreach (p->warnings, i, w)
                fprintf(stderr, "WARN[0000] %s\n", json_string_value(w));
        for (char **s = services; s && *s; s++)
                if (!json_object_get(json_object_get(p->model, "services"), *s)) {
                        fprintf(stderr, "no such service: %s\n", *s);
                        return 1;
                }

        _cleanup_fclose_ FILE *file = NULL;
        FILE *f = stdout;
        if (out && *out) {
                file = fopen(out, "w");
                if (!file) {
                        fprintf(stderr, "open %s: %s\n", out, strerror(errno));
                        return 1;
                }
                f = file;
        }
        json_t *model = p->model;
        if (cli_flag(a, "quiet"))
                return 0;
        if (cli_flag(a, "services")) {
                print_keys(json_object_get(model, "services"), f);
                return 0;
        }
        if (cli_flag(a, "volumes")) {
                print_keys(json_object_get(model, "volumes"), f);
                return 0;
        }
        if (cli_flag(a, "networks")) {
                print_keys(json_object_get(model, "networks"), f);
                return 0;
        }
        /* the lists above are of the whole project, as compose prints them */
        if (services && !o.no_interpolate && !cli_flag(a, "variables"))
                select_services(p->model, services);
        if (cli_flag(a, "profiles")) {
                json_auto_t *set = json_object();
                const json_t *groups[] = {json_object_get(model, "services"), p->disabled};
                for (size_t g = 0; g < 2; g++) {
                        const char *k;
                        json_t *svc;
                        json_object_foreach ((json_t *)groups[g], k, svc) {
                                json_t *x;
                                size_t j;
                                json_array_foreach (json_object_get(svc, "profiles"), j, x)
                                        if (json_is_string(x))
                                                json_object_set_new(set, json_string_value(x),
                                                                    json_true());
                        }
                }
                print_sorted(set, f);
                return 0;
        }
        if (cli_flag(a, "images")) {
                json_t *svcs = json_object_get(model, "services");
                size_t n = json_object_size(svcs), j = 0;
                _cleanup_free_ const char **names = xzalloc((n + 1) * sizeof(char *));
                const char *k;
                json_t *svc;
                json_object_foreach (svcs, k, svc)
                        names[j++] = k;
                qsort(names, n, sizeof(char *), cmp_str);
                for (j = 0; j < n; j++) {
                        const char *img = json_string_value(
                            json_object_get(json_object_get(svcs, names[j]), "image"));
                        if (img)
                                fprintf(f, "%s\n", img);
                        else
                                fprintf(f, "%s%c%s\n", p->name, p->compatibility ? '_' : '-',
                                        names[j]);
                }
                return 0;
        }
        const char *hash = cli_str(a, "hash");
        if (hash) {
                json_t *svcs = json_object_get(model, "services");
                _cleanup_(strv_freep) char **names = NULL;
                if (streq(hash, "*")) {
                        const char *k;
                        json_t *svc;
                        json_object_foreach (svcs, k, svc)
                                names = strv_push(names, xstrdup(k));
                        if (names)
                                qsort(names, strv_length(names), sizeof(char *), cmp_str);
                } else
                        names = strv_split(hash, ",");
                for (char **s = names; s && *s; s++) {
                        json_t *svc = json_object_get(svcs, *s);
                        if (!svc) {
                                fprintf(stderr, "no such service: %s\n", *s);
                                return 1;
                        }
                        char hex[65];
                        r = compose_service_hash(svc, hex, &err);
                        if (r < 0) {
                                fprintf(stderr, "%s\n", err_msg(&err));
                                return 1;
                        }
                        fprintf(f, "%s %s\n", *s, hex);
                }
                return 0;
        }
        if (cli_flag(a, "environment")) {
                const char *k;
                json_t *v;
                size_t n = json_object_size(p->environment), j = 0;
                _cleanup_free_ const char **names = xzalloc((n + 1) * sizeof(char *));
                json_object_foreach (p->environment, k, v)
                        names[j++] = k;
                qsort(names, n, sizeof(char *), cmp_str);
                for (j = 0; j < n; j++)
                        fprintf(f, "%s=%s\n", names[j],
                                json_string_value(json_object_get(p->environment, names[j])) ?: "");
                return 0;
        }
        if (cli_flag(a, "variables")) {
                json_auto_t *vars = json_object();
                r = load_raw_vars(p, vars, &err);
                if (r < 0) {
                        fprintf(stderr, "%s\n", err_msg(&err));
                        return 1;
                }
                if (streq_ptr(format, "json") || streq_ptr(format, "yaml")) {
                        /* {NAME: {Name, DefaultValue, PresenceValue, Required}}, sorted */
                        size_t n = json_object_size(vars), j = 0;
                        _cleanup_free_ const char **names = xzalloc((n + 1) * sizeof(char *));
                        const char *k;
                        json_t *v;
                        json_object_foreach (vars, k, v)
                                names[j++] = k;
                        qsort(names, n, sizeof(char *), cmp_str);
                        json_auto_t *o2 = json_object();
                        bool yaml = streq(format, "yaml");
                        for (j = 0; j < n; j++) {
                                v = json_object_get(vars, names[j]);
                                /* go's struct field names: as is in json,
                                 * lowercased by yaml.Marshal */
                                json_object_set_new(
                                    o2, names[j],
                                    json_pack("{s:s,s:s,s:s,s:b}", yaml ? "name" : "Name", names[j],
                                              yaml ? "defaultvalue" : "DefaultValue",
                                              json_string_value(json_object_get(v, "default"))
                                                  ?: "",
                                              yaml ? "presencevalue" : "PresenceValue",
                                              json_string_value(json_object_get(v, "alt")) ?: "",
                                              yaml ? "required" : "Required",
                                              json_is_true(json_object_get(v, "required"))));
                        }
                        if (!yaml) {
                                json_print(f, o2, JSON_INDENT(4));
                                return 0;
                        }
                        /* yaml.Marshal indents by four */
                        _cleanup_free_ char *ybuf = NULL;
                        size_t ylen = 0;
                        FILE *mem = open_memstream(&ybuf, &ylen);
                        if (!mem)
                                return 1;
                        compose_yaml_write(o2, mem, &err);
                        fclose(mem);
                        for (size_t c = 0; c < ylen; c++) {
                                if ((c == 0 || ybuf[c - 1] == '\n') && ybuf[c] == ' ')
                                        fputs("  ", f);
                                fputc(ybuf[c], f);
                        }
                } else
                        print_variables(vars, f);
                return 0;
        }
        /* into memory first: an interpolated model has its '$' doubled, so
         * that what config prints loads back as the same project */
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        if (!mem) {
                fprintf(stderr, "out of memory\n");
                return 1;
        }
        if (o.no_interpolate) {
                /* compose renders this one as a Go map: keys sorted at every
                 * level, json indented by two */
                json_auto_t *sorted = sort_keys(model);
                if (streq_ptr(format, "json")) {
                        r = json_dumpf(sorted, mem, JSON_INDENT(2) | JSON_SORT_KEYS) < 0
                                ? err_set(&err, -EIO, "write failed")
                                : 0;
                } else
                        r = compose_yaml_write(sorted, mem, &err);
        } else
                r = compose_model_write(model, streq_ptr(format, "json"), mem, &err);
        fclose(mem);
        if (r < 0) {
                fprintf(stderr, "%s\n", err_msg(&err));
                return 1;
        }
        for (size_t j = 0; j < len; j++) {
                if (buf[j] == '$' && !o.no_interpolate)
                        fputc('$', f);
                fputc(buf[j], f);
        }
        if (fflush(f) != 0 || ferror(f)) {
                fprintf(stderr, "write: %s\n", strerror(errno));
                return 1;
        }
        return 0;
}
