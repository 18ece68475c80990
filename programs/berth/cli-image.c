/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth images / image ls|inspect|history|rm|prune|tag|load|save|import,
 * berth tag, rmi, load, save, import, system df. */
#include "cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

/* "sha256:abc..." -> "abc..." (12 chars unless no_trunc) */
static void short_id(const char *id, bool no_trunc, char *buf, size_t len)
{
        if (no_trunc) {
                snprintf(buf, len, "%s", id);
                return;
        }
        const char *h = startswith(id, "sha256:");
        snprintf(buf, len, "%.12s", h ? h : id);
}

/* Split "repo:tag" at the last ':' after the last '/'. */
static void split_repo_tag(const char *ref, char **repo, char **tag)
{
        const char *slash = strrchr(ref, '/');
        const char *colon = strrchr(ref, ':');
        if (colon && (!slash || colon > slash)) {
                *repo = xstrndup(ref, (size_t)(colon - ref));
                *tag = xstrdup(colon + 1);
        } else {
                *repo = xstrdup(ref);
                *tag = xstrdup("");
        }
}

static int check_filter_syntax(char **flags)
{
        for (char **i = flags; i && *i; i++)
                if (!strchr(*i, '=')) {
                        fprintf(stderr,
                                "berth: invalid argument \"%s\" for \"-f, --filter\" flag: bad "
                                "format of filter (expected name=value)\n",
                                *i);
                        return -EINVAL;
                }
        return 0;
}

static int print_json_or_format(const char *fmt, json_t *items)
{
        struct berth_err err = {0};
        size_t i;
        json_t *x;
        if (!fmt || streq(fmt, "json")) {
                if (fmt) {
                        json_array_foreach (items, i, x) {
                                (void)json_print(stdout, x, JSON_COMPACT);
                        }
                        return 0;
                }
                (void)json_print(stdout, items, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                return 0;
        }
        json_array_foreach (items, i, x)
                if (cli_format(fmt, x, stdout, &err) < 0) {
                        fprintf(stderr, "berth: %s\n", err.msg);
                        return 64;
                }
        return 0;
}

/* --- images -------------------------------------------------------------- */

const struct cli_opt cli_images_opts[] = {
    {"all", 'a', CLI_BOOL, "Show all images (default hides intermediate images)", NULL},
    {"digests", 0, CLI_BOOL, "Show digests", NULL},
    {"filter", 'f', CLI_LIST, "Filter output based on conditions provided", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"no-trunc", 0, CLI_BOOL, "Don't truncate output", NULL},
    {"quiet", 'q', CLI_BOOL, "Only show image IDs", NULL},
    {0},
};

int cli_cmd_images(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_json_ json_t *list = NULL;
        if (check_filter_syntax(cli_list(a, "filter")) < 0)
                return 125;
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *filters = cli_filters_json(
            cli_list(a, "filter"), a->n_pos ? "reference" : NULL, a->n_pos ? a->pos[0] : NULL);
        _cleanup_free_ char *fq = filters ? cli_escape(filters) : NULL;
        _cleanup_free_ char *path = xasprintf("/images/json?all=%d%s%s", cli_flag(a, "all"),
                                              fq ? "&filters=" : "", strempty(fq));
        r = client_json(&cli->client, "GET", path, NULL, NULL, &list, &err);
        if (r < 0)
                return cli_fail(&err);

        bool no_trunc = cli_flag(a, "no-trunc"), digests = cli_flag(a, "digests");
        size_t i;
        json_t *img;
        if (cli_flag(a, "quiet")) {
                _cleanup_strv_ char **seen = xzalloc(sizeof(char *));
                json_array_foreach (list, i, img) {
                        char id[80];
                        short_id(json_get_str(img, "Id", ""), no_trunc, id, sizeof(id));
                        if (!strv_contains(seen, id)) {
                                puts(id);
                                seen = strv_push(seen, xstrdup(id));
                        }
                }
                return 0;
        }
        const char *fmt = cli_str(a, "format");
        struct cli_table *t = cli_table_new(digests ? 6 : 5);
        if (!fmt) {
                if (digests)
                        cli_table_add(t, "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED",
                                      "SIZE");
                else
                        cli_table_add(t, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        }
        _cleanup_json_ json_t *rows = json_array();
        json_array_foreach (list, i, img) {
                char id[80], created[64], size[32];
                short_id(json_get_str(img, "Id", ""), no_trunc, id, sizeof(id));
                cli_time_ago(json_get_int(img, "Created", 0), created, sizeof(created));
                cli_bytes_decimal(json_get_int(img, "Size", 0), size, sizeof(size));
                json_t *tags = json_object_get(img, "RepoTags");
                json_t *dig = json_object_get(img, "RepoDigests");
                const char *digest = "<none>";
                json_t *d0 = json_array_get(dig, 0);
                if (d0 && strchr(json_string_value(d0), '@') &&
                    !streq(json_string_value(d0), "<none>@<none>"))
                        digest = strchr(json_string_value(d0), '@') + 1;
                size_t n = json_array_size(tags), k;
                for (k = 0; k < (n ? n : 1); k++) {
                        const char *rt =
                            n ? json_string_value(json_array_get(tags, k)) : "<none>:<none>";
                        _cleanup_free_ char *repo = NULL, *tag = NULL;
                        split_repo_tag(rt, &repo, &tag);
                        if (fmt) {
                                json_array_append_new(
                                    rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                                    "Repository", repo, "Tag", tag, "ID", id,
                                                    "CreatedSince", created, "Size", size, "Digest",
                                                    digest, "CreatedAt", created));
                                continue;
                        }
                        if (digests)
                                cli_table_add(t, repo, tag, digest, id, created, size);
                        else
                                cli_table_add(t, repo, tag, id, created, size);
                }
        }
        int rc = 0;
        if (fmt)
                rc = print_json_or_format(fmt, rows);
        else
                cli_table_print(t, stdout);
        cli_table_free(t);
        return rc;
}

/* --- inspect, history ----------------------------------------------------- */

static const struct cli_opt inspect_opts[] = {
    {"format", 'f', CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {0},
};

static int cmd_image_inspect(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *all = json_array();
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path = xasprintf("/images/%s/json", e);
                json_t *j = NULL;
                r = client_json(&cli->client, "GET", path, NULL, NULL, &j, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                json_array_append_new(all, j);
        }
        const char *fmt = cli_str(a, "format");
        if (json_array_size(all) || !rc) {
                int fr = print_json_or_format(fmt && streq(fmt, "json") ? NULL : fmt, all);
                if (fr)
                        return fr;
        }
        return rc;
}

const struct cli_opt cli_history_opts[] = {
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"human", 'H', CLI_BOOL, "Print sizes and dates in human readable format", "true"},
    {"no-trunc", 0, CLI_BOOL, "Don't truncate output", NULL},
    {"quiet", 'q', CLI_BOOL, "Only show image IDs", NULL},
    {0},
};

/* docker's CREATED BY: tabs as spaces; truncated to 45 columns with "…"
 * (stringutils.Ellipsis, counting code points) */
static char *created_by(const char *by, bool trunc)
{
        char *s = xstrdup(by);
        for (char *c = s; *c; c++)
                if (*c == '\t')
                        *c = ' ';
        if (!trunc)
                return s;
        size_t n = 0, cut = 0;
        for (size_t i = 0; s[i]; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80) {
                        if (++n == 45)
                                cut = i;
                }
        if (n <= 45)
                return s;
        s[cut] = '\0';
        char *r = xasprintf("%s…", s);
        free(s);
        return r;
}

int cli_cmd_history(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *path = xasprintf("/images/%s/history", e);
        _cleanup_json_ json_t *h = NULL;
        r = client_json(&cli->client, "GET", path, NULL, NULL, &h, &err);
        if (r < 0)
                return cli_fail(&err);
        bool no_trunc = cli_flag(a, "no-trunc"), human = cli_flag(a, "human");
        size_t i;
        json_t *x;
        /* the rows with the fields docker's --format knows */
        _cleanup_json_ json_t *rows = json_array();
        json_array_foreach (h, i, x) {
                char id[80], since[64], at[64], size[32];
                const char *hid = json_get_str(x, "Id", "<missing>");
                if (streq(hid, "<missing>"))
                        snprintf(id, sizeof(id), "<missing>");
                else
                        short_id(hid, no_trunc, id, sizeof(id));
                int64_t c = json_get_int(x, "Created", 0);
                cli_time_ago(c, since, sizeof(since));
                struct tm tm;
                time_t tt = (time_t)c;
                localtime_r(&tt, &tm);
                strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S%z", &tm);
                /* RFC 3339: "Z" for UTC, else "+hh:mm" */
                size_t al = strlen(at);
                if (al > 5 && streq(at + al - 5, "+0000"))
                        strcpy(at + al - 5, "Z");
                else if (al > 5) {
                        memmove(at + al - 1, at + al - 2, 3);
                        at[al - 2] = ':';
                }
                if (human)
                        cli_bytes_decimal(json_get_int(x, "Size", 0), size, sizeof(size));
                else
                        snprintf(size, sizeof(size), "%lld", (long long)json_get_int(x, "Size", 0));
                _cleanup_free_ char *by = created_by(json_get_str(x, "CreatedBy", ""), !no_trunc);
                json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id,
                                                      "CreatedSince", since, "CreatedAt", at,
                                                      "CreatedBy", by, "Size", size, "Comment",
                                                      json_get_str(x, "Comment", "")));
        }
        if (cli_flag(a, "quiet")) {
                json_array_foreach (rows, i, x)
                        puts(json_get_str(x, "ID", ""));
                return 0;
        }
        const char *fmt = cli_str(a, "format");
        if (fmt)
                return print_json_or_format(fmt, rows);
        struct cli_table *t = cli_table_new(5);
        cli_table_add(t, "IMAGE", human ? "CREATED" : "CREATED AT", "CREATED BY", "SIZE",
                      "COMMENT");
        json_array_foreach (rows, i, x)
                cli_table_add(t, json_get_str(x, "ID", ""),
                              json_get_str(x, human ? "CreatedSince" : "CreatedAt", ""),
                              json_get_str(x, "CreatedBy", ""), json_get_str(x, "Size", ""),
                              json_get_str(x, "Comment", ""));
        cli_table_print(t, stdout);
        cli_table_free(t);
        return 0;
}

/* --- tag, rmi, prune ------------------------------------------------------ */

int cli_cmd_tag(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        split_repo_tag(a->pos[1], &repo, &tag);
        _cleanup_free_ char *src = cli_escape(a->pos[0]);
        _cleanup_free_ char *er = cli_escape(repo);
        _cleanup_free_ char *et = cli_escape(*tag ? tag : "latest");
        _cleanup_free_ char *path = xasprintf("/images/%s/tag?repo=%s&tag=%s", src, er, et);
        r = client_json(&cli->client, "POST", path, NULL, NULL, NULL, &err);
        if (r < 0)
                return cli_fail(&err);
        return 0;
}

const struct cli_opt cli_rmi_opts[] = {
    {"force", 'f', CLI_BOOL, "Force removal of the image", NULL},
    {"no-prune", 0, CLI_BOOL, "Do not delete untagged parents", NULL},
    {0},
};

static void print_deleted(json_t *items)
{
        size_t i;
        json_t *x;
        json_array_foreach (items, i, x) {
                const char *u = json_get_str(x, "Untagged", NULL);
                const char *d = json_get_str(x, "Deleted", NULL);
                if (u)
                        printf("Untagged: %s\n", u);
                if (d)
                        printf("Deleted: %s\n", d);
        }
}

int cli_cmd_rmi(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err), rc = 0;
        if (r < 0)
                return cli_fail(&err);
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                _cleanup_free_ char *path =
                    xasprintf("/images/%s?force=%d&noprune=%d", e, cli_flag(a, "force"),
                              cli_flag(a, "no-prune"));
                _cleanup_json_ json_t *res = NULL;
                r = client_json(&cli->client, "DELETE", path, NULL, NULL, &res, &err);
                if (r < 0) {
                        fprintf(stderr, "Error response from daemon: %s\n", err.msg);
                        rc = 1;
                        continue;
                }
                print_deleted(res);
        }
        return rc;
}

static const struct cli_opt prune_opts[] = {
    {"all", 'a', CLI_BOOL, "Remove all unused images, not just dangling ones", NULL},
    {"filter", 0, CLI_LIST, "Provide filter values (e.g. \"until=<timestamp>\")", NULL},
    {"force", 'f', CLI_BOOL, "Do not prompt for confirmation", NULL},
    {0},
};

static int cmd_image_prune(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        bool all = cli_flag(a, "all");
        if (check_filter_syntax(cli_list(a, "filter")) < 0)
                return 125;
        if (!cli_flag(a, "force") &&
            !cli_confirm(all ? "WARNING! This will remove all images without at least one "
                               "container associated to them."
                             : "WARNING! This will remove all dangling images."))
                return 0;
        int64_t reclaimed = 0;
        if (cli_connect(cli, &err) < 0 ||
            cli_prune(cli, "/images/prune", cli_list(a, "filter"), "dangling",
                      all ? "false" : "true", "ImagesDeleted", "Deleted Images", &reclaimed,
                      &err) < 0)
                return cli_fail(&err);
        cli_print_reclaimed(reclaimed);
        return 0;
}

/* --- load, save, import --------------------------------------------------- */

const struct cli_opt cli_load_opts[] = {
    {"input", 'i', CLI_STRING, "Read from tar archive file, instead of STDIN", NULL},
    {"quiet", 'q', CLI_BOOL, "Suppress the load output", NULL},
    {0},
};

static int open_input(const char *path, const char *what, int *ret_fd)
{
        if (!path || streq(path, "-")) {
                if (isatty(STDIN_FILENO)) {
                        fprintf(stderr, "berth: requested %s from stdin, but stdin is a terminal\n",
                                what);
                        return -EINVAL;
                }
                *ret_fd = dup(STDIN_FILENO);
                return 0;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "berth: open %s: %s\n", path, strerror(errno));
                return -errno;
        }
        *ret_fd = fd;
        return 0;
}

int cli_cmd_load(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_close_ int fd = -1;
        if (open_input(cli_str(a, "input"), "load", &fd) < 0)
                return 1;
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        struct cli_stream s = {.quiet = false};
        r = client_stream(&cli->client, "POST",
                          cli_flag(a, "quiet") ? "/images/load?quiet=1" : "/images/load?quiet=0",
                          "application/x-tar", fd, cli_stream_data, &s, NULL, &err);
        cli_stream_done(&s);
        if (r < 0)
                return cli_fail(&err);
        if (s.error[0]) {
                fprintf(stderr, "Error response from daemon: %s\n", s.error);
                return 1;
        }
        return 0;
}

const struct cli_opt cli_save_opts[] = {
    {"output", 'o', CLI_STRING, "Write to a file, instead of STDOUT", NULL},
    {0},
};

struct save_out {
        int fd;
        int error;
};

static int save_data(void *ud, const char *data, size_t len)
{
        struct save_out *o = ud;
        int r = loop_write(o->fd, data, len);
        if (r < 0) {
                o->error = r;
                return 1;
        }
        return 0;
}

/* GET `path` into the file `out` (written beside its name, fsynced and
 * renamed into place when whole) or to stdout, which must not be a terminal.
 * `what` names the operation in messages ("save image"). */
static int download(struct cli *cli, const char *path, const char *out, const char *what)
{
        struct berth_err err = {0};
        if (!out && isatty(STDOUT_FILENO)) {
                fprintf(stderr, "berth: cowardly refusing to save to a terminal. Use the -o flag "
                                "or redirect\n");
                return 1;
        }
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_free_ char *tmp = out ? xasprintf("%s.berth-tmp", out) : NULL;
        struct save_out o = {.fd = STDOUT_FILENO};
        if (out) {
                o.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (o.fd < 0) {
                        fprintf(stderr, "berth: failed to %s: open %s: %s\n", what, out,
                                strerror(errno));
                        return 1;
                }
        }
        r = client_stream(&cli->client, "GET", path, NULL, -1, save_data, &o, NULL, &err);
        if (out) {
                if (r >= 0 && !o.error && fsync(o.fd) < 0)
                        o.error = -errno;
                close(o.fd);
                if (r < 0 || o.error)
                        unlink(tmp);
                else if (rename(tmp, out) < 0)
                        o.error = -errno;
        }
        if (r < 0)
                return cli_fail(&err);
        if (o.error) {
                fprintf(stderr, "berth: failed to %s: %s\n", what, strerror(-o.error));
                return 1;
        }
        return 0;
}

int cli_cmd_save(struct cli *cli, struct cli_args *a)
{
        char *q = xstrdup("");
        for (size_t i = 0; i < a->n_pos; i++) {
                _cleanup_free_ char *e = cli_escape(a->pos[i]);
                char *n = xasprintf("%s%snames=%s", q, i ? "&" : "", e);
                free(q);
                q = n;
        }
        _cleanup_free_ char *path = xasprintf("/images/get?%s", q);
        free(q);
        return download(cli, path, cli_str(a, "output"), "save image");
}

const struct cli_opt cli_import_opts[] = {
    {"change", 'c', CLI_LIST, "Apply Dockerfile instruction to the created image", NULL},
    {"message", 'm', CLI_STRING, "Set commit message for imported image", NULL},
    {"platform", 0, CLI_STRING, "Set platform if server is multi-platform capable", NULL},
    {0},
};

static void import_status(void *ud, const char *status)
{
        (void)ud;
        (void)status;
}

int cli_cmd_import(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        _cleanup_close_ int fd = -1;
        if (open_input(a->pos[0], "import", &fd) < 0)
                return 1;
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        char *q = xstrdup("fromSrc=-");
        if (a->n_pos > 1) {
                _cleanup_free_ char *e = cli_escape(a->pos[1]);
                char *n = xasprintf("%s&repo=%s", q, e);
                free(q);
                q = n;
        }
        const char *msg = cli_str(a, "message");
        if (msg) {
                _cleanup_free_ char *e = cli_escape(msg);
                char *n = xasprintf("%s&message=%s", q, e);
                free(q);
                q = n;
        }
        for (char **c = cli_list(a, "change"); c && *c; c++) {
                _cleanup_free_ char *e = cli_escape(*c);
                char *n = xasprintf("%s&changes=%s", q, e);
                free(q);
                q = n;
        }
        _cleanup_free_ char *path = xasprintf("/images/create?%s", q);
        free(q);
        struct cli_stream s = {.on_status = import_status};
        r = client_stream(&cli->client, "POST", path, "application/x-tar", fd, cli_stream_data, &s,
                          NULL, &err);
        cli_stream_done(&s);
        if (r < 0)
                return cli_fail(&err);
        if (s.error[0]) {
                fprintf(stderr, "Error response from daemon: %s\n", s.error);
                return 1;
        }
        return 0;
}

/* --- system df ------------------------------------------------------------ */

const struct cli_opt cli_df_opts[] = {
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"verbose", 'v', CLI_BOOL, "Show detailed information on space usage", NULL},
    {0},
};

int cli_cmd_system_df(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        _cleanup_json_ json_t *df = NULL;
        r = client_json(&cli->client, "GET", "/system/df", NULL, NULL, &df, &err);
        if (r < 0)
                return cli_fail(&err);
        json_t *images = json_object_get(df, "Images");
        int64_t total = json_get_int(df, "LayersSize", 0), reclaim = 0, active = 0;
        size_t i;
        json_t *x;
        json_array_foreach (images, i, x) {
                if (json_get_int(x, "Containers", 0) > 0)
                        active++;
                else
                        reclaim +=
                            json_get_int(x, "Size", 0) - json_get_int(x, "SharedSize", 0) > 0
                                ? json_get_int(x, "Size", 0) - json_get_int(x, "SharedSize", 0)
                                : 0;
        }
        if (active == 0)
                reclaim = total;
        char tsz[32], rsz[32], rline[64];
        cli_bytes_decimal(total, tsz, sizeof(tsz));
        cli_bytes_decimal(reclaim, rsz, sizeof(rsz));
        snprintf(rline, sizeof(rline), "%s (%lld%%)", rsz,
                 total ? (long long)(reclaim * 100 / total) : 0LL);
        char nimg[16], nact[16];
        snprintf(nimg, sizeof(nimg), "%zu", json_array_size(images));
        snprintf(nact, sizeof(nact), "%lld", (long long)active);
        /* containers: their writable layers; running ones are active */
        json_t *cs = json_object_get(df, "Containers");
        int64_t csize = 0, cactive = 0, creclaim = 0;
        json_array_foreach (cs, i, x) {
                int64_t sz = json_get_int(x, "SizeRw", 0);
                csize += sz;
                if (streq(json_get_str(x, "State", ""), "running"))
                        cactive++;
                else
                        creclaim += sz;
        }
        char ncont[16], ncact[16], csz[32], crsz[32], crline[64];
        snprintf(ncont, sizeof(ncont), "%zu", json_array_size(cs));
        snprintf(ncact, sizeof(ncact), "%lld", (long long)cactive);
        cli_bytes_decimal(csize, csz, sizeof(csz));
        cli_bytes_decimal(creclaim, crsz, sizeof(crsz));
        snprintf(crline, sizeof(crline), "%s (%lld%%)", crsz,
                 csize ? (long long)(creclaim * 100 / csize) : 0LL);
        /* the build cache: its records' sizes, shared ones counted once
         * (in BuilderSize), in use ones not reclaimable (docker's df) */
        json_t *bc = json_object_get(df, "BuildCache");
        int64_t bsize = 0, binuse = 0, bactive = 0;
        json_array_foreach (bc, i, x) {
                bool shared = json_is_true(json_object_get(x, "Shared"));
                bool inuse = json_is_true(json_object_get(x, "InUse"));
                if (!shared)
                        bsize += json_get_int(x, "Size", 0);
                if (inuse)
                        bactive++;
                if (inuse && !shared)
                        binuse += json_get_int(x, "Size", 0);
        }
        char nbc[16], nbact[16], bsz[32], brsz[32];
        snprintf(nbc, sizeof(nbc), "%zu", json_array_size(bc));
        snprintf(nbact, sizeof(nbact), "%lld", (long long)bactive);
        cli_bytes_decimal(bsize, bsz, sizeof(bsz));
        cli_bytes_decimal(json_get_int(df, "BuilderSize", 0) - binuse, brsz, sizeof(brsz));
        const char *fmt = cli_str(a, "format");
        json_t *rows = json_pack(
            "[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, "
            "s:s}, {s:s, s:s, s:s, s:s, s:s}]",
            "Type", "Images", "TotalCount", nimg, "Active", nact, "Size", tsz, "Reclaimable", rline,
            "Type", "Containers", "TotalCount", ncont, "Active", ncact, "Size", csz, "Reclaimable",
            csize ? crline : "0B", "Type", "Local Volumes", "TotalCount", "0", "Active", "0",
            "Size", "0B", "Reclaimable", "0B", "Type", "Build Cache", "TotalCount", nbc, "Active",
            nbact, "Size", bsz, "Reclaimable", brsz);
        if (fmt) {
                int fr = print_json_or_format(fmt, rows);
                json_decref(rows);
                return fr;
        }
        struct cli_table *t = cli_table_new(5);
        cli_table_add(t, "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
        json_array_foreach (rows, i, x)
                cli_table_add(t, json_get_str(x, "Type", ""), json_get_str(x, "TotalCount", ""),
                              json_get_str(x, "Active", ""), json_get_str(x, "Size", ""),
                              json_get_str(x, "Reclaimable", ""));
        cli_table_print(t, stdout);
        cli_table_free(t);
        json_decref(rows);
        if (cli_flag(a, "verbose")) {
                printf("\nImages space usage:\n\n");
                t = cli_table_new(7);
                cli_table_add(t, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE",
                              "UNIQUE SIZE");
                json_array_foreach (images, i, x) {
                        char id[32], created[64], size[32], shared[32], unique[32];
                        short_id(json_get_str(x, "Id", ""), false, id, sizeof(id));
                        cli_time_ago(json_get_int(x, "Created", 0), created, sizeof(created));
                        int64_t s = json_get_int(x, "Size", 0),
                                sh = json_get_int(x, "SharedSize", 0);
                        cli_bytes_decimal(s, size, sizeof(size));
                        cli_bytes_decimal(sh > 0 ? sh : 0, shared, sizeof(shared));
                        cli_bytes_decimal(s - (sh > 0 ? sh : 0), unique, sizeof(unique));
                        json_t *tags = json_object_get(x, "RepoTags");
                        const char *rt = json_array_size(tags)
                                             ? json_string_value(json_array_get(tags, 0))
                                             : "<none>:<none>";
                        _cleanup_free_ char *repo = NULL, *tag = NULL;
                        split_repo_tag(rt, &repo, &tag);
                        cli_table_add(t, repo, tag, id, created, size, shared, unique);
                }
                cli_table_print(t, stdout);
                cli_table_free(t);
        }
        return 0;
}

/* --- the `image` management command -------------------------------------- */

const struct cli_command cli_image_sub[] = {
    {"build", NULL, "[OPTIONS] PATH | URL | -", "Build an image from a Dockerfile", NULL,
     cli_build_opts, cli_cmd_build, NULL, 1, 1, false},
    {"history", NULL, "[OPTIONS] IMAGE", "Show the history of an image", NULL, cli_history_opts,
     cli_cmd_history, NULL, 1, 1, false},
    {"import", NULL, "[OPTIONS] file|- [REPOSITORY[:TAG]]",
     "Import the contents from a tarball to create a filesystem image", NULL, cli_import_opts,
     cli_cmd_import, NULL, 1, 2, false},
    {"inspect", NULL, "[OPTIONS] IMAGE [IMAGE...]",
     "Display detailed information on one or more images", NULL, inspect_opts, cmd_image_inspect,
     NULL, 1, -1, false},
    {"load", NULL, "[OPTIONS]", "Load an image from a tar archive or STDIN", NULL, cli_load_opts,
     cli_cmd_load, NULL, 0, 0, false},
    {"ls", "images list", "[OPTIONS] [REPOSITORY[:TAG]]", "List images", NULL, cli_images_opts,
     cli_cmd_images, NULL, 0, 1, false},
    {"prune", NULL, "[OPTIONS]", "Remove unused images", NULL, prune_opts, cmd_image_prune, NULL, 0,
     0, false},
    {"pull", NULL, "[OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", NULL,
     cli_pull_opts, cli_cmd_pull, NULL, 1, 1, false},
    {"push", NULL, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry", NULL, cli_push_opts,
     cli_cmd_push, NULL, 1, 1, false},
    {"rm", "rmi remove", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", NULL,
     cli_rmi_opts, cli_cmd_rmi, NULL, 1, -1, false},
    {"save", NULL, "[OPTIONS] IMAGE [IMAGE...]",
     "Save one or more images to a tar archive (streamed to STDOUT by default)", NULL,
     cli_save_opts, cli_cmd_save, NULL, 1, -1, false},
    {"tag", NULL, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
     "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", NULL, NULL, cli_cmd_tag, NULL, 2, 2,
     false},
    {0},
};

/* berth export: GET /containers/ID/export into a file or stdout, the file
 * written beside its name and renamed into place when complete. */
const struct cli_opt cli_export_opts[] = {
    {"output", 'o', CLI_STRING, "Write to a file, instead of STDOUT", NULL},
    {0},
};

int cli_cmd_export(struct cli *cli, struct cli_args *a)
{
        _cleanup_free_ char *e = cli_escape(a->pos[0]);
        _cleanup_free_ char *path = xasprintf("/containers/%s/export", e);
        return download(cli, path, cli_str(a, "output"), "export container");
}
