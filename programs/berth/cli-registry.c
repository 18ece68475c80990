/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth pull, push, login, logout. Credentials live in a docker-style
 * config.json ({"auths": {"SERVER": {"auth": base64("user:password")}}},
 * mode 0600) under --config, $BERTH_CONFIG or ~/.berth. */
#include "cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>

#include "image/image.h"
#include "registry/registry.h"

/* --- config.json --------------------------------------------------------- */

static char *config_path(struct cli *cli)
{
        const char *dir = cli->config_dir;
        if (!dir)
                dir = getenv("BERTH_CONFIG");
        if (!dir || !*dir) {
                const char *home = getenv("HOME");
                return xasprintf("%s/.berth/config.json", home && *home ? home : "/root");
        }
        return xasprintf("%s/config.json", dir);
}

static json_t *auths_load(struct cli *cli)
{
        _cleanup_free_ char *p = config_path(cli);
        json_t *j = NULL;
        if (json_load_path(p, &j, NULL) < 0 || !json_is_object(j)) {
                json_decref(j);
                j = json_object();
        }
        return j;
}

static int auths_save(struct cli *cli, json_t *j, struct berth_err *err)
{
        _cleanup_free_ char *p = config_path(cli);
        _cleanup_free_ char *dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return err_errno(err, r, "create '%s'", dir);
        return json_save_path(p, j, 0600, err);
}

/* The key config.json uses for a registry: Docker Hub is the v1 URL. */
static char *server_key(const char *domain)
{
        if (streq(domain, "docker.io"))
                return xstrdup("https://index.docker.io/v1/");
        return xstrdup(domain);
}

static json_t *auth_entry(json_t *cfg, const char *domain)
{
        json_t *auths = json_object_get(cfg, "auths");
        _cleanup_free_ char *key = server_key(domain);
        json_t *e = json_object_get(auths, key);
        if (e)
                return e;
        const char *k;
        json_t *v;
        json_object_foreach (auths, k, v) {
                _cleanup_free_ char *name = registry_server_name(k);
                if (streq(name, domain))
                        return v;
        }
        return NULL;
}

/* X-Registry-Auth for `domain` from config.json, or NULL. */
static char *registry_auth_for(struct cli *cli, const char *domain)
{
        _cleanup_json_ json_t *cfg = auths_load(cli);
        json_t *e = auth_entry(cfg, domain);
        if (!e)
                return NULL;
        struct registry_auth a;
        if (registry_auth_from_json(e, &a, NULL) < 0)
                return NULL;
        _cleanup_free_ char *key = server_key(domain);
        char *r = NULL;
        if (a.identitytoken) {
                _cleanup_json_ json_t *j =
                    json_pack("{s:s, s:s}", "identitytoken", a.identitytoken, "serveraddress", key);
                _cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
                r = s ? base64_encode(s, strlen(s)) : NULL;
                for (char *p = r; p && *p; p++)
                        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        } else if (a.username)
                r = registry_auth_encode(a.username, a.password, key);
        registry_auth_done(&a);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *cli_registry_config(struct cli *cli)
{
        _cleanup_json_ json_t *cfg = auths_load(cli);
        json_t *auths = json_object_get(cfg, "auths");
        /* Go's json.Marshal: the map's keys sorted, each AuthConfig's
         * fields in the struct's order */
        size_t n = json_is_object(auths) ? json_object_size(auths) : 0, i = 0;
        _cleanup_free_ const char **keys = xzalloc((n + 1) * sizeof(char *));
        const char *k;
        json_t *v;
        json_object_foreach (auths, k, v)
                keys[i++] = k;
        qsort(keys, n, sizeof(char *), cmp_str);
        _cleanup_json_ json_t *all = json_object();
        for (i = 0; i < n; i++) {
                struct registry_auth a;
                if (registry_auth_from_json(json_object_get(auths, keys[i]), &a, NULL) < 0)
                        continue;
                json_t *e = json_object();
                if (a.username)
                        json_object_set_new(e, "username", json_string(a.username));
                if (a.password)
                        json_object_set_new(e, "password", json_string(a.password));
                json_object_set_new(e, "serveraddress", json_string(keys[i]));
                if (a.identitytoken)
                        json_object_set_new(e, "identitytoken", json_string(a.identitytoken));
                json_object_set_new(all, keys[i], e);
                registry_auth_done(&a);
        }
        _cleanup_free_ char *s = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *r = base64_encode(s ? s : "{}", s ? strlen(s) : 2);
        for (char *p = r; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
        return r;
}

/* --- progress ------------------------------------------------------------ */

/* Docker's display: on a terminal one line per layer, rewritten in place;
 * otherwise a line per status change, without the bars. */
struct progress {
        FILE *out;
        bool tty, quiet;
        char **ids; /* lines on screen, in order */
        char error[BERTH_ERR_MSG_MAX];
        char *buf;
        size_t len, cap;
        char *digest; /* "sha256:..." from push's aux */
};

static void show(struct progress *pg, json_t *m)
{
        const char *error = json_get_str(m, "error", NULL);
        json_t *detail = json_object_get(m, "errorDetail");
        if (error || detail) {
                if (!pg->error[0])
                        snprintf(pg->error, sizeof(pg->error), "%s",
                                 json_get_str(detail, "message", error ? error : "unknown error"));
                return;
        }
        const char *status = json_get_str(m, "status", NULL);
        if (!status || pg->quiet)
                return;
        const char *id = json_get_str(m, "id", NULL);
        const char *bar = json_get_str(m, "progress", NULL);
        if (!pg->tty) {
                if (bar)
                        return;
                if (id)
                        fprintf(pg->out, "%s: %s\n", id, status);
                else
                        fprintf(pg->out, "%s\n", status);
                fflush(pg->out);
                return;
        }
        if (!id) {
                fprintf(pg->out, "%s\n", status);
                strv_free(pg->ids);
                pg->ids = NULL;
                fflush(pg->out);
                return;
        }
        size_t n = strv_length(pg->ids), i;
        for (i = 0; i < n && !streq(pg->ids[i], id); i++)
                ;
        if (i == n) {
                pg->ids = strv_push(pg->ids, xstrdup(id));
                fprintf(pg->out, "%s: %s %s\n", id, status, strempty(bar));
        } else {
                size_t up = n - i;
                fprintf(pg->out, "\033[%zuA\r\033[2K%s: %s %s\033[%zuB\r", up, id, status,
                        strempty(bar), up);
        }
        fflush(pg->out);
}

static int progress_data(void *ud, const char *data, size_t len)
{
        struct progress *pg = ud;
        if (pg->len + len + 1 > pg->cap) {
                pg->cap = (pg->len + len + 1) * 2;
                pg->buf = xrealloc(pg->buf, pg->cap);
        }
        memcpy(pg->buf + pg->len, data, len);
        pg->len += len;
        pg->buf[pg->len] = '\0';
        char *start = pg->buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(pg->buf + pg->len - start)))) {
                *nl = '\0';
                json_error_t je;
                json_t *m = json_loads(start, 0, &je);
                if (m)
                        show(pg, m);
                json_decref(m);
                start = nl + 1;
        }
        pg->len = (size_t)(pg->buf + pg->len - start);
        memmove(pg->buf, start, pg->len);
        return 0;
}

static int stream_request(struct cli *cli, const char *path, const char *domain, bool quiet,
                          FILE *out, struct berth_err *err)
{
        int r = cli_connect(cli, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *ra = registry_auth_for(cli, domain);
        cli->client.registry_auth = ra;
        struct progress pg = {.out = out, .tty = isatty(fileno(out)), .quiet = quiet};
        r = client_stream(&cli->client, "POST", path, NULL, -1, progress_data, &pg, NULL, err);
        cli->client.registry_auth = NULL;
        free(pg.buf);
        strv_free(pg.ids);
        if (r == 0 && pg.error[0])
                r = err_set(err, -EIO, "%s", pg.error);
        return r;
}

static char *pull_path(const struct image_ref *ref, bool all, const char *platform)
{
        _cleanup_free_ char *repo = image_ref_repo(ref);
        _cleanup_free_ char *er = cli_escape(repo);
        _cleanup_free_ char *et = cli_escape(all ? "" : ref->digest ? ref->digest : ref->tag);
        _cleanup_free_ char *ep = platform ? cli_escape(platform) : NULL;
        return xasprintf("/images/create?fromImage=%s&tag=%s%s%s", er, et, ep ? "&platform=" : "",
                         strempty(ep));
}

int cli_pull_image(struct cli *cli, const char *name, const char *platform, struct berth_err *err)
{
        struct image_ref ref;
        int r = image_ref_parse(name, &ref, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = pull_path(&ref, false, platform);
        r = stream_request(cli, path, ref.domain, false, stderr, err);
        image_ref_done(&ref);
        return r;
}

/* --- pull / push --------------------------------------------------------- */

const struct cli_opt cli_pull_opts[] = {
    {"all-tags", 'a', CLI_BOOL, "Download all tagged images in the repository", NULL},
    {"platform", 0, CLI_STRING, "Set platform if server is multi-platform capable", NULL},
    {"quiet", 'q', CLI_BOOL, "Suppress verbose output", NULL},
    {0},
};

int cli_cmd_pull(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        struct image_ref ref;
        const char *name = a->pos[0];
        if (image_ref_parse(name, &ref, &err) < 0)
                return cli_fail(&err);
        bool all = cli_flag(a, "all-tags");
        const char *last = strrchr(name, '/');
        bool tagged = ref.digest || strchr(last ? last : name, ':');
        if (all && tagged) {
                image_ref_done(&ref);
                fprintf(stderr, "berth: tag can't be used with --all-tags/-a\n");
                return 1;
        }
        _cleanup_free_ char *repo = image_ref_repo(&ref);
        _cleanup_free_ char *path = pull_path(&ref, all, cli_str(a, "platform"));
        _cleanup_free_ char *domain = xstrdup(ref.domain);
        _cleanup_free_ char *full = image_ref_full(&ref);
        image_ref_done(&ref);
        bool quiet = cli_flag(a, "quiet");
        int r = stream_request(cli, path, domain, quiet, stdout, &err);
        if (r < 0)
                return cli_fail(&err);
        if (quiet) {
                _cleanup_free_ char *fam = image_ref_familiar(all ? repo : full);
                printf("%s\n", fam);
        }
        return 0;
}

const struct cli_opt cli_push_opts[] = {
    {"quiet", 'q', CLI_BOOL, "Suppress verbose output", NULL},
    {0},
};

int cli_cmd_push(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        struct image_ref ref;
        if (image_ref_parse(a->pos[0], &ref, &err) < 0)
                return cli_fail(&err);
        _cleanup_free_ char *repo = image_ref_repo(&ref);
        _cleanup_free_ char *er = cli_escape(repo);
        _cleanup_free_ char *et = cli_escape(strempty(ref.tag));
        _cleanup_free_ char *path = xasprintf("/images/%s/push?tag=%s", er, et);
        _cleanup_free_ char *domain = xstrdup(ref.domain);
        _cleanup_free_ char *full = image_ref_full(&ref);
        image_ref_done(&ref);
        bool quiet = cli_flag(a, "quiet");
        int r = stream_request(cli, path, domain, quiet, stdout, &err);
        if (r < 0)
                return cli_fail(&err);
        if (quiet) {
                _cleanup_free_ char *fam = image_ref_familiar(full);
                printf("%s\n", fam);
        }
        return 0;
}

/* --- login / logout ------------------------------------------------------ */

const struct cli_opt cli_login_opts[] = {
    {"password", 'p', CLI_STRING, "Password", NULL},
    {"password-stdin", 0, CLI_BOOL, "Take the password from stdin", NULL},
    {"username", 'u', CLI_STRING, "Username", NULL},
    {0},
};

static char *read_line(FILE *f, bool echo)
{
        struct termios old, noecho;
        bool restore = false;
        if (!echo && isatty(fileno(f)) && tcgetattr(fileno(f), &old) == 0) {
                noecho = old;
                noecho.c_lflag &= ~(tcflag_t)ECHO;
                restore = tcsetattr(fileno(f), TCSANOW, &noecho) == 0;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n = getline(&line, &cap, f);
        if (restore) {
                tcsetattr(fileno(f), TCSANOW, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(line);
                return NULL;
        }
        line[strcspn(line, "\r\n")] = '\0';
        return line;
}

int cli_cmd_login(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        const char *server = a->n_pos > 0 ? a->pos[0] : NULL;
        _cleanup_free_ char *domain = registry_server_name(server);
        _cleanup_free_ char *key = server_key(domain);
        _cleanup_free_ char *user = cli_str(a, "username") ? xstrdup(cli_str(a, "username")) : NULL;
        _cleanup_free_ char *pass = cli_str(a, "password") ? xstrdup(cli_str(a, "password")) : NULL;
        if (cli_flag(a, "password-stdin")) {
                if (pass) {
                        fprintf(stderr, "berth: --password and --password-stdin are mutually "
                                        "exclusive\n");
                        return 1;
                }
                if (!user) {
                        fprintf(stderr, "berth: must provide --username with --password-stdin\n");
                        return 1;
                }
                pass = read_line(stdin, true);
                if (!pass)
                        pass = xstrdup("");
        }
        if (!user) {
                if (!isatty(STDIN_FILENO)) {
                        fprintf(stderr, "berth: cannot perform an interactive login from a "
                                        "non TTY device\n");
                        return 1;
                }
                fprintf(stderr, "Username: ");
                user = read_line(stdin, true);
        }
        if (!pass) {
                if (!isatty(STDIN_FILENO)) {
                        fprintf(stderr, "berth: cannot perform an interactive login from a "
                                        "non TTY device\n");
                        return 1;
                }
                fprintf(stderr, "Password: ");
                pass = read_line(stdin, false);
        }
        if (isempty(user) || !pass) {
                fprintf(stderr, "berth: username and password are required\n");
                return 1;
        }
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *body =
            json_pack("{s:s, s:s, s:s}", "username", user, "password", pass, "serveraddress", key);
        _cleanup_json_ json_t *resp = NULL;
        r = client_json(&cli->client, "POST", "/auth", body, NULL, &resp, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *cfg = auths_load(cli);
        json_t *auths = json_object_get(cfg, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                json_object_set_new(cfg, "auths", auths);
        }
        const char *tok = json_get_str(resp, "IdentityToken", NULL);
        json_t *entry;
        if (!isempty(tok))
                entry = json_pack("{s:s, s:s}", "auth", "", "identitytoken", tok);
        else {
                _cleanup_free_ char *up = xasprintf("%s:%s", user, pass);
                _cleanup_free_ char *b = base64_encode(up, strlen(up));
                entry = json_pack("{s:s}", "auth", b);
        }
        json_object_set_new(auths, key, entry);
        r = auths_save(cli, cfg, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *p = config_path(cli);
        fprintf(stderr, "WARNING! Your password will be stored unencrypted in %s.\n", p);
        printf("Login Succeeded\n");
        return 0;
}

int cli_cmd_logout(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        const char *server = a->n_pos > 0 ? a->pos[0] : NULL;
        _cleanup_free_ char *domain = registry_server_name(server);
        _cleanup_free_ char *key = server_key(domain);
        _cleanup_json_ json_t *cfg = auths_load(cli);
        json_t *auths = json_object_get(cfg, "auths");
        bool found = false;
        const char *k;
        json_t *v, *tmp;
        json_object_foreach_safe (auths, tmp, k, v) {
                _cleanup_free_ char *name = registry_server_name(k);
                if (streq(name, domain)) {
                        json_object_del(auths, k);
                        found = true;
                }
        }
        if (!found) {
                printf("Not logged in to %s\n", key);
                return 0;
        }
        printf("Removing login credentials for %s\n", key);
        int r = auths_save(cli, cfg, &err);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}
