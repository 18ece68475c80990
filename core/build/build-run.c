/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The build: the context unpacked, the Dockerfile parsed, the stages the
 * target needs built in file order, each step looked up in the cache or
 * made, the stream written as Docker's classic builder writes it
 * (builder-notes.md §1.4), the result tagged. The steps that need a
 * container are in build-step.c. */
#include "build-exec.h"
#include "build-internal.h"
#include "build-cache.h"
#include "build-ignore.h"
#include "build-remote.h"
#include "base/config.h"
#include "base/json.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"
#include "container/container.h"
#include "image/image.h"
#include "registry/registry.h"
#include "tar/tar-helper.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <strings.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- the stream ------------------------------------------------------------------- */

int bout(struct build *b, json_t *msg)
{
        if (b->cancelled) {
                json_decref(msg);
                return -ECANCELED;
        }
        if (b->o->quiet && !json_object_get(msg, "errorDetail")) {
                json_array_append_new(b->held, msg);
                return 0;
        }
        b->streaming = true;
        if (b->out(b->ud, msg) < 0) {
                b->cancelled = true;
                return -ECANCELED;
        }
        return 0;
}

int boutf(struct build *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        json_t *j = json_object();
        json_object_set_new(j, "stream", json_stringn_nocheck(s, (size_t)n));
        free(s);
        return bout(b, j);
}

bool bgone(struct build *b)
{
        if (!b->cancelled && b->out(b->ud, NULL) < 0)
                b->cancelled = true;
        return b->cancelled;
}

static const char *short_id(const char *id)
{
        static __thread char buf[13];
        const char *h = startswith(id, "sha256:") ? id + 7 : id;
        snprintf(buf, sizeof(buf), "%.12s", h);
        return buf;
}

/* --- Go's formatting, for the history texts ------------------------------------- */

/* Go's strconv.Quote, for the ASCII controls it escapes. */
static void go_quote(FILE *f, const char *s)
{
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\x%02x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

char *go_quote_strv(json_t *arr)
{
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);
        if (!f)
                abort();
        fputc('[', f);
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                if (i)
                        fputc(' ', f);
                go_quote(f, strempty(json_string_value(v)));
        }
        fputc(']', f);
        fclose(f);
        return s;
}

void go_duration(int64_t ns, char *buf, size_t len)
{
        if (ns == 0) {
                snprintf(buf, len, "0s");
                return;
        }
        if (ns < 1000000000) {
                if (ns % 1000000 == 0)
                        snprintf(buf, len, "%" PRId64 "ms", ns / 1000000);
                else if (ns % 1000 == 0)
                        snprintf(buf, len, "%" PRId64 "µs", ns / 1000);
                else
                        snprintf(buf, len, "%" PRId64 "ns", ns);
                return;
        }
        int64_t h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
        int64_t s = ns / 1000000000 % 60, frac = ns % 1000000000;
        char sec[48];
        if (frac) {
                char f[16];
                snprintf(f, sizeof(f), "%09" PRId64, frac);
                for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--)
                        f[k - 1] = '\0';
                snprintf(sec, sizeof(sec), "%" PRId64 ".%ss", s, f);
        } else
                snprintf(sec, sizeof(sec), "%" PRId64 "s", s);
        if (h)
                snprintf(buf, len, "%" PRId64 "h%" PRId64 "m%s", h, m, sec);
        else if (m)
                snprintf(buf, len, "%" PRId64 "m%s", m, sec);
        else
                snprintf(buf, len, "%s", sec);
}

/* --- steps ------------------------------------------------------------------------ */

json_t *stage_shell(struct stage_state *st)
{
        json_t *sh = json_object_get(st->config, "Shell");
        if (json_array_size(sh))
                return json_deep_copy(sh);
        return json_pack("[s,s]", "/bin/sh", "-c");
}

/* ["/bin/sh", "-c", "#(nop) ", text] */
static json_t *nop_cmd(struct stage_state *st, const char *text)
{
        json_t *c = stage_shell(st);
        json_array_append_new(c, json_string("#(nop) "));
        json_array_append_new(c, json_string(text));
        return c;
}

static char *join_cmd(json_t *cmd)
{
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);
        if (!f)
                abort();
        size_t i;
        json_t *v;
        json_array_foreach (cmd, i, v)
                fprintf(f, "%s%s", i ? " " : "", strempty(json_string_value(v)));
        fclose(f);
        return s;
}

static void cache_key(const char *parent, json_t *container_config, const char *srcdigest,
                      char ret[65])
{
        struct hasher h;
        hasher_init(&h);
        const char *p = parent ? parent : "scratch";
        hasher_update(&h, p, strlen(p) + 1);
        char *cc = json_dumps(container_config, JSON_COMPACT | JSON_SORT_KEYS);
        if (cc)
                hasher_update(&h, cc, strlen(cc) + 1);
        free(cc);
        if (srcdigest)
                hasher_update(&h, srcdigest, strlen(srcdigest));
        char d[72];
        hasher_final(&h, d);
        hasher_done(&h);
        snprintf(ret, 65, "%s", digest_hex(d));
}

/* Move the stage on to image id (its config loaded from the store). */
static int stage_set_image(struct build *b, struct stage_state *st, const char *id,
                           struct berth_err *err)
{
        _cleanup_json_ json_t *cfg = NULL;
        int r = image_config(b->d->images, id, &cfg, err);
        if (r < 0)
                return r;
        json_t *c = json_object_get(cfg, "config");
        json_decref(st->config);
        st->config = json_is_object(c) ? json_deep_copy(c) : json_object();
        free(st->image);
        st->image = xstrdup(id);
        return 0;
}

static int make_meta(struct build *b, struct stage_state *st, void *arg, json_t *container_config,
                     const char *created_by, char **ret_id, struct berth_err *err)
{
        (void)arg;
        struct image_child c = {
            .parent_id = st->image,
            .config = st->config,
            .container_config = container_config,
            .created_by = created_by,
            .author = st->author,
        };
        return image_add_child(b->d->images, &c, ret_id, err);
}

/* --cache-from by history, for images with no parent links here (pulled
 * or loaded): one whose history and layers begin with the parent's, and
 * whose next history entry is this step, gives the step (moby's
 * restoreCachedImage). 1 and *ret_id, or 0. */
static int cache_from_restore(struct build *b, struct stage_state *st, json_t *cc,
                              const char *created_by, char **ret_id)
{
        struct berth_err e = {0};
        _cleanup_json_ json_t *pcfg = NULL;
        if (st->image && image_config(b->d->images, st->image, &pcfg, &e) < 0)
                return 0;
        json_t *hp = json_object_get(pcfg, "history");
        json_t *dp = json_object_get(json_object_get(pcfg, "rootfs"), "diff_ids");
        size_t nh = json_array_size(hp), nd = json_array_size(dp), i;
        json_t *scfg;
        json_array_foreach (b->cf_configs, i, scfg) {
                json_t *hs = json_object_get(scfg, "history");
                json_t *ds = json_object_get(json_object_get(scfg, "rootfs"), "diff_ids");
                if (json_array_size(hs) <= nh || json_array_size(ds) < nd)
                        continue;
                bool same = true;
                for (size_t k = 0; same && k < nh; k++) {
                        json_t *a = json_array_get(hp, k), *c = json_array_get(hs, k);
                        same = streq(json_get_str(a, "created_by", ""),
                                     json_get_str(c, "created_by", "")) &&
                               json_get_bool(a, "empty_layer", false) ==
                                   json_get_bool(c, "empty_layer", false);
                }
                for (size_t k = 0; same && k < nd; k++)
                        same = json_equal(json_array_get(dp, k), json_array_get(ds, k));
                json_t *h = json_array_get(hs, nh);
                if (!same || !streq(json_get_str(h, "created_by", ""), created_by))
                        continue;
                _cleanup_free_ char *tar = NULL;
                if (!json_get_bool(h, "empty_layer", false)) {
                        const char *diff = json_string_value(json_array_get(ds, nd));
                        if (!diff || image_layer_path(b->d->images, diff, &tar, &e) < 0)
                                continue;
                }
                struct image_child c = {
                    .parent_id = st->image,
                    .config = st->config,
                    .container_config = cc,
                    .created_by = created_by,
                    .author = st->author,
                    .layer_tar = tar,
                };
                if (image_add_child(b->d->images, &c, ret_id, &e) == 0)
                        return 1;
                log_warn("build: --cache-from: %s", err_msg(&e));
        }
        return 0;
}

int step_commit(struct build *b, struct stage_state *st, json_t *cache_cmd, const char *srcdigest,
                step_make_fn make, void *make_arg, struct berth_err *err)
{
        _cleanup_json_ json_t *cc = json_deep_copy(st->config);
        json_object_set_new(cc, "Cmd", cache_cmd);
        if (st->image)
                json_object_set_new(cc, "Image", json_string(st->image));
        char key[65];
        cache_key(st->image, cc, srcdigest, key);
        _cleanup_free_ char *created_by = join_cmd(json_object_get(cc, "Cmd"));

        _cleanup_free_ char *id = NULL;
        bool hit = b->d->cache && !b->o->nocache && build_cache_get(b->d->cache, key, &id) == 1;
        /* with --cache-from, a local hit counts only if it is one of those
         * images or their ancestors (moby's rule); else their history may
         * give the step */
        if (hit && b->cf_ids && !json_object_get(b->cf_ids, id)) {
                hit = false;
                free(TAKE_PTR(id));
        }
        if (!hit && b->cf_configs && !b->o->nocache)
                hit = cache_from_restore(b, st, cc, created_by, &id) > 0;
        if (hit) {
                int r = stage_set_image(b, st, id, err);
                if (r >= 0) {
                        boutf(b, " ---> Using cache\n");
                        return boutf(b, " ---> %s\n", short_id(id));
                }
                free(TAKE_PTR(id));
                err_clear(err);
        }
        int r = (make ? make : make_meta)(b, st, make_arg, cc, created_by, &id, err);
        if (r < 0)
                return r;
        if (b->d->cache) {
                struct berth_err cerr = {0};
                if (build_cache_put(b->d->cache, key, id, st->image, created_by, &cerr) < 0)
                        log_warn("build cache: %s", err_msg(&cerr));
        }
        r = stage_set_image(b, st, id, err);
        if (r < 0)
                return r;
        return boutf(b, " ---> %s\n", short_id(id));
}

/* --- metadata instructions --------------------------------------------------------- */

static json_t *strv_to_json(char **v)
{
        json_t *a = json_array();
        for (char **p = v; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

static json_t *args_to_json(const struct build_instr *in)
{
        json_t *a = json_array();
        for (char **p = in->args; p && *p; p++)
                json_array_append_new(a, json_string(*p));
        return a;
}

/* CMD / ENTRYPOINT / HEALTHCHECK's command: exec form as is, shell form
 * under the stage's shell. */
static json_t *command_of(struct stage_state *st, const struct build_instr *in)
{
        if (in->form == BUILD_FORM_EXEC)
                return args_to_json(in);
        if (in->form == BUILD_FORM_NONE || !in->args || !in->args[0])
                return json_array();
        json_t *c = stage_shell(st);
        json_array_append_new(c, json_string(in->args[0]));
        return c;
}

static int kv_text(FILE *f, const struct build_instr *x)
{
        for (size_t i = 0; i < x->n_kv; i++)
                fprintf(f, " %s=%s", x->kv[i].key, strempty(x->kv[i].value));
        return 0;
}

static int port_add(json_t *ports, const char *w, struct berth_err *err)
{
        _cleanup_free_ char *p = xstrdup(w);
        char *slash = strchr(p, '/');
        if (slash)
                *slash = '\0';
        _cleanup_free_ char *proto = xstrdup(slash ? slash + 1 : "tcp");
        for (char *c = proto; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
                return err_set(err, -EINVAL, "invalid proto: %s", proto);
        char *dash = strchr(p, '-');
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || (dash ? end != dash : *end))
                return err_set(err, -EINVAL, "invalid containerPort: %s", p);
        if (dash) {
                hi = strtol(dash + 1, &end, 10);
                if (end == dash + 1 || *end || hi < lo)
                        return err_set(err, -EINVAL, "invalid containerPort: %s", p);
        }
        if (lo < 0 || hi > 65535)
                return err_set(err, -EINVAL, "invalid containerPort: %s", p);
        for (long n = lo; n <= hi; n++) {
                char k[32];
                snprintf(k, sizeof(k), "%ld/%s", n, proto);
                json_object_set_new(ports, k, json_object());
        }
        return 0;
}

static int sort_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool signal_valid(const char *s)
{
        static const char *const names[] = {
            "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",  "ILL",
            "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",  "QUIT",
            "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN", "TTOU",
            "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ"};
        char *end;
        long n = strtol(s, &end, 10);
        if (*s && !*end)
                return n > 0 && n < 65;
        const char *p = s;
        if (strncasecmp(p, "SIG", 3) == 0)
                p += 3;
        if (strncasecmp(p, "RTMIN", 5) == 0 || strncasecmp(p, "RTMAX", 5) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(p, names[i]) == 0)
                        return true;
        return false;
}

/* The metadata instructions: each edits the stage's config and writes the
 * text its history entry has after "#(nop) " (moby's commit message), then
 * dispatch() commits. in: as written; x: expanded. */
struct instr_ctx {
        struct build *b;
        struct stage_state *st;
        const struct build_instr *in, *x;
        FILE *text;
};

static json_t *config_object(json_t *cfg, const char *key)
{
        json_t *o = json_object_get(cfg, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(cfg, key, o);
        }
        return o;
}

static const char *first_arg(const struct build_instr *x)
{
        return x->args && x->args[0] ? x->args[0] : "";
}

static int instr_env(struct instr_ctx *c, struct berth_err *err)
{
        int r = build_args_env(c->b->args, c->in, c->b->f->escape, err);
        if (r < 0)
                return r;
        _cleanup_strv_ char **env = build_args_env_list(c->b->args);
        json_object_set_new(c->st->config, "Env", strv_to_json(env));
        return kv_text(c->text, c->x);
}

static int instr_arg(struct instr_ctx *c, struct berth_err *err)
{
        int r = build_args_declare(c->b->args, c->in, c->b->f->escape, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->x->n_kv; i++)
                fprintf(c->text, " %s%s%s", c->x->kv[i].key, c->x->kv[i].value ? "=" : "",
                        strempty(c->x->kv[i].value));
        return 0;
}

static int instr_label(struct instr_ctx *c, struct berth_err *err)
{
        (void)err;
        json_t *l = config_object(c->st->config, "Labels");
        for (size_t i = 0; i < c->x->n_kv; i++)
                json_object_set_new(l, c->x->kv[i].key, json_string(strempty(c->x->kv[i].value)));
        return kv_text(c->text, c->x);
}

static int instr_maintainer(struct instr_ctx *c, struct berth_err *err)
{
        (void)err;
        free(c->st->author);
        c->st->author = xstrdup(first_arg(c->x));
        fprintf(c->text, " %s", c->st->author);
        return 0;
}

static int instr_cmd(struct instr_ctx *c, struct berth_err *err)
{
        (void)err;
        bool cmd = streq(c->in->keyword, "CMD");
        json_t *v = command_of(c->st, c->in);
        _cleanup_free_ char *q = go_quote_strv(v);
        fprintf(c->text, " %s", q);
        json_object_set_new(c->st->config, cmd ? "Cmd" : "Entrypoint", v);
        /* an ENTRYPOINT drops the CMD the base image had, unless this
         * stage set one */
        if (!cmd && !c->st->cmd_set)
                json_object_set_new(c->st->config, "Cmd", json_null());
        if (cmd)
                c->st->cmd_set = true;
        return 0;
}

static int instr_shell(struct instr_ctx *c, struct berth_err *err)
{
        json_t *v = args_to_json(c->in);
        if (c->in->form != BUILD_FORM_EXEC || !json_array_size(v)) {
                json_decref(v);
                return err_set(err, -EINVAL, "SHELL requires the arguments to be in JSON form");
        }
        _cleanup_free_ char *q = go_quote_strv(v);
        fprintf(c->text, " %s", q);
        json_object_set_new(c->st->config, "Shell", v);
        return 0;
}

static int instr_user(struct instr_ctx *c, struct berth_err *err)
{
        (void)err;
        json_object_set_new(c->st->config, "User", json_string(first_arg(c->x)));
        fprintf(c->text, " %s", first_arg(c->x));
        return 0;
}

static int instr_stopsignal(struct instr_ctx *c, struct berth_err *err)
{
        const char *sig = first_arg(c->x);
        if (!signal_valid(sig))
                return err_set(err, -EINVAL, "Invalid signal: %s", sig);
        json_object_set_new(c->st->config, "StopSignal", json_string(sig));
        fprintf(c->text, " %s", sig);
        return 0;
}

static int instr_expose(struct instr_ctx *c, struct berth_err *err)
{
        _cleanup_json_ json_t *mine = json_object();
        for (char **w = c->x->args; w && *w; w++) {
                int r = port_add(mine, *w, err);
                if (r < 0)
                        return r;
        }
        json_object_update(config_object(c->st->config, "ExposedPorts"), mine);
        size_t n = json_object_size(mine), i = 0;
        _cleanup_free_ const char **keys = xzalloc((n + 1) * sizeof(char *));
        const char *key;
        json_t *v;
        json_object_foreach (mine, key, v)
                keys[i++] = key;
        qsort(keys, n, sizeof(char *), sort_str);
        for (i = 0; i < n; i++)
                fprintf(c->text, " %s", keys[i]);
        return 0;
}

static int instr_volume(struct instr_ctx *c, struct berth_err *err)
{
        json_t *vols = config_object(c->st->config, "Volumes");
        fputs(" [", c->text);
        size_t n = 0;
        for (char **w = c->x->args; w && *w; w++, n++) {
                if (!**w)
                        return err_set(err, -EINVAL, "VOLUME specified can not be an empty string");
                json_object_set_new(vols, *w, json_object());
                fprintf(c->text, "%s%s", n ? " " : "", *w);
        }
        if (!n)
                return err_set(err, -EINVAL, "VOLUME requires at least one argument");
        fputc(']', c->text);
        return 0;
}

static int instr_healthcheck(struct instr_ctx *c, struct berth_err *err)
{
        json_t *cfg = c->st->config;
        if (json_object_get(cfg, "Healthcheck")) {
                int r = boutf(c->b, "Note: overriding previous HEALTHCHECK\n");
                if (r < 0)
                        return err_set(err, r, "Build cancelled");
        }
        const struct build_health *h = &c->in->health;
        json_t *hc;
        if (h->none)
                hc = json_pack("{s:[s]}", "Test", "NONE");
        else {
                json_t *test =
                    json_pack("[s]", c->in->form == BUILD_FORM_EXEC ? "CMD" : "CMD-SHELL");
                for (char **a = c->in->args; a && *a; a++)
                        json_array_append_new(test, json_string(*a));
                hc = json_pack("{s:o}", "Test", test);
                static const struct {
                        const char *key;
                        size_t off;
                } durations[] = {
                    {"Interval", offsetof(struct build_health, interval_ns)},
                    {"Timeout", offsetof(struct build_health, timeout_ns)},
                    {"StartPeriod", offsetof(struct build_health, start_period_ns)},
                    {"StartInterval", offsetof(struct build_health, start_interval_ns)},
                };
                for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                        int64_t ns = *(const int64_t *)((const char *)h + durations[i].off);
                        if (ns)
                                json_object_set_new(hc, durations[i].key, json_integer(ns));
                }
                if (h->retries)
                        json_object_set_new(hc, "Retries", json_integer(h->retries));
        }
        /* as Go's %q prints the *HealthConfig */
        _cleanup_free_ char *q = go_quote_strv(json_object_get(hc, "Test"));
        char d1[32], d2[32], d3[32];
        go_duration(h->interval_ns, d1, sizeof(d1));
        go_duration(h->timeout_ns, d2, sizeof(d2));
        go_duration(h->start_period_ns, d3, sizeof(d3));
        fprintf(c->text, " &{%s \"%s\" \"%s\" \"%s\" '\\x%02x'}", q, d1, d2, d3,
                (unsigned)(h->retries & 0xff));
        json_object_set_new(cfg, "Healthcheck", hc);
        return 0;
}

static int instr_onbuild(struct instr_ctx *c, struct berth_err *err)
{
        (void)err;
        json_t *ob = json_object_get(c->st->config, "OnBuild");
        if (!json_is_array(ob)) {
                ob = json_array();
                json_object_set_new(c->st->config, "OnBuild", ob);
        }
        json_array_append_new(ob, json_string(strempty(c->in->trigger)));
        fprintf(c->text, " %s", strempty(c->in->trigger));
        return 0;
}

static const struct {
        const char *keyword;
        int (*fn)(struct instr_ctx *c, struct berth_err *err);
} metadata_instrs[] = {
    {"ENV", instr_env},
    {"ARG", instr_arg},
    {"LABEL", instr_label},
    {"MAINTAINER", instr_maintainer},
    {"CMD", instr_cmd},
    {"ENTRYPOINT", instr_cmd},
    {"SHELL", instr_shell},
    {"USER", instr_user},
    {"STOPSIGNAL", instr_stopsignal},
    {"EXPOSE", instr_expose},
    {"VOLUME", instr_volume},
    {"HEALTHCHECK", instr_healthcheck},
    {"ONBUILD", instr_onbuild},
};

/* WORKDIR: relative to the previous one, cleaned as Go's filepath.Clean. */
static int instr_workdir(struct build *b, struct stage_state *st, const struct build_instr *x,
                         struct berth_err *err)
{
        const char *w = first_arg(x);
        if (!*w)
                return err_set(err, -EINVAL, "WORKDIR requires exactly one argument");
        const char *cur = json_get_str(st->config, "WorkingDir", "");
        _cleanup_free_ char *dir = w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", cur, w);
        _cleanup_free_ char *clean = path_clean(dir);
        json_object_set_new(st->config, "WorkingDir", json_string(clean));
        return step_workdir(b, st, clean, err);
}

/* One instruction of a stage, expanded (x) from the original (in). */
static int dispatch(struct build *b, struct stage_state *st, const struct build_instr *in,
                    const struct build_instr *x, struct berth_err *err)
{
        const char *k = in->keyword;
        if (streq(k, "RUN"))
                return step_run(b, st, in, err);
        if (streq(k, "COPY") || streq(k, "ADD"))
                return step_copy(b, st, x, streq(k, "ADD"), err);
        if (streq(k, "WORKDIR"))
                return instr_workdir(b, st, x, err);
        for (size_t i = 0; i < ELEMENTSOF(metadata_instrs); i++) {
                if (!streq(k, metadata_instrs[i].keyword))
                        continue;
                _cleanup_free_ char *text = NULL;
                size_t tl = 0;
                struct instr_ctx c = {.b = b, .st = st, .in = in, .x = x};
                c.text = open_memstream(&text, &tl);
                if (!c.text)
                        abort();
                fputs(k, c.text);
                int r = metadata_instrs[i].fn(&c, err);
                fclose(c.text);
                if (r < 0)
                        return r;
                return step_commit(b, st, nop_cmd(st, text), NULL, NULL, NULL, err);
        }
        return err_set(err, -EINVAL, "unknown instruction: %s", k);
}

/* --- FROM ---------------------------------------------------------------------------- */

static int pull_progress(void *ud, json_t *msg)
{
        return bout(ud, msg);
}

/* The credentials X-Registry-Config has for the registry of ref. */
static void auth_for(struct build *b, const char *ref, struct registry_auth *ret)
{
        memset(ret, 0, sizeof(*ret));
        json_t *rc = b->o->registry_config;
        if (!json_is_object(rc))
                return;
        struct image_ref pr;
        struct berth_err e = {0};
        if (image_ref_parse(ref, &pr, &e) < 0)
                return;
        const char *key;
        json_t *v;
        json_object_foreach (rc, key, v) {
                _cleanup_free_ char *host = registry_server_name(key);
                if (host && streq(host, pr.domain)) {
                        registry_auth_from_json(v, ret, &e);
                        break;
                }
        }
        image_ref_done(&pr);
}

static int stage_from(struct build *b, struct stage_state *st, const struct build_stage *sg,
                      struct berth_err *err)
{
        _cleanup_free_ char *base = NULL;
        int r = build_expand_word(sg->base, b->f->escape, build_lookup_meta, b->args, &base, err);
        if (r < 0)
                return r;
        if (isempty(base))
                return err_set(err, -EINVAL, "base name (%s) should not be blank", sg->base);
        build_args_stage(b->args, NULL);
        if (strcasecmp(base, "scratch") == 0) {
                st->config = json_object();
                return boutf(b, " ---> \n");
        }
        int si = build_file_stage_index(b->f, base, st->index);
        const char *id = NULL;
        _cleanup_free_ char *pulled = NULL;
        if (si >= 0 && b->stage_ids[si])
                id = b->stage_ids[si];
        else {
                _cleanup_free_ char *plat = NULL;
                if (sg->platform) {
                        r = build_expand_word(sg->platform, b->f->escape, build_lookup_meta,
                                              b->args, &plat, err);
                        if (r < 0)
                                return r;
                }
                const char *platform = !isempty(plat) ? plat : b->o->platform;
                r = b->o->pull ? -ENOENT : image_resolve(b->d->images, base, &pulled, err);
                if (r == -ENOENT) {
                        err_clear(err);
                        free(TAKE_PTR(pulled));
                        struct registry_auth auth;
                        auth_for(b, base, &auth);
                        r = registry_pull(b->d->images, b->d->registry, base, false,
                                          isempty(platform) ? NULL : platform, &auth, pull_progress,
                                          b, &pulled, err);
                        registry_auth_done(&auth);
                        if (r < 0 && b->cancelled)
                                return -ECANCELED;
                        if (r < 0)
                                return r;
                } else if (r < 0)
                        return r;
                id = pulled;
        }
        r = stage_set_image(b, st, id, err);
        if (r < 0)
                return r;
        /* the base's environment is the stage's */
        _cleanup_strv_ char **env = NULL;
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(st->config, "Env"), i, v)
                env = strv_push(env, xstrdup(json_string_value(v)));
        build_args_stage(b->args, env);
        return boutf(b, " ---> %s\n", short_id(id));
}

/* The base image's ONBUILD triggers, run right after FROM, then cleared. */
static int run_triggers(struct build *b, struct stage_state *st, struct berth_err *err)
{
        _cleanup_json_ json_t *ob = json_incref(json_object_get(st->config, "OnBuild"));
        size_t n = json_array_size(ob);
        if (!n)
                return 0;
        json_object_set_new(st->config, "OnBuild", json_null());
        int r = boutf(b, "# Executing %zu build trigger%s\n", n, n > 1 ? "s" : "");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *t = json_string_value(json_array_get(ob, i));
                _cleanup_free_ char *doc = xasprintf("FROM scratch\n%s\n", strempty(t));
                struct build_file *tf = NULL;
                r = build_parse(doc, strlen(doc), "ONBUILD trigger", &tf, err);
                if (r < 0)
                        return r;
                if (tf->n_stages != 1 || tf->stages[0].n_instrs != 1) {
                        build_file_free(tf);
                        return err_set(err, -EINVAL, "invalid ONBUILD trigger: %s", strempty(t));
                }
                const struct build_instr *in = &tf->stages[0].instrs[0];
                struct build_instr *x = NULL;
                r = build_expand_instr(in, b->f->escape, build_lookup_stage, b->args, &x, err);
                if (r >= 0)
                        r = dispatch(b, st, in, x, err);
                build_instr_free(x);
                build_file_free(tf);
        }
        return r;
}

/* --- the context -------------------------------------------------------------------- */

static int read_dockerfile(struct build *b, char **ret, size_t *ret_len, char **ret_name,
                           struct berth_err *err)
{
        const char *name = b->dockerfile;
        bool dflt = isempty(name);
        if (dflt)
                name = "Dockerfile";
        int fd = openat_in_root(b->ctxfd, name, O_RDONLY);
        if (fd == -ENOENT && dflt) {
                name = "dockerfile";
                fd = openat_in_root(b->ctxfd, name, O_RDONLY);
                if (fd == -ENOENT)
                        name = "Dockerfile";
        }
        if (fd < 0)
                return err_set(err, -EINVAL, "Cannot locate specified Dockerfile: %s", name);
        struct stat sb;
        if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
                close(fd);
                return err_set(err, -EINVAL, "Cannot locate specified Dockerfile: %s", name);
        }
        if (sb.st_size > (16 << 20)) {
                close(fd);
                return err_set(err, -EINVAL, "the Dockerfile (%s) is larger than 16 MiB", name);
        }
        char *buf = xmalloc((size_t)sb.st_size + 1);
        ssize_t n = loop_read(fd, buf, (size_t)sb.st_size);
        close(fd);
        if (n < 0) {
                free(buf);
                return err_errno(err, (int)n, "read the Dockerfile %s", name);
        }
        if (n == 0) {
                free(buf);
                return err_set(err, -EINVAL, "the Dockerfile (%s) cannot be empty", name);
        }
        buf[n] = '\0';
        *ret = buf;
        *ret_len = (size_t)n;
        *ret_name = xstrdup(name);
        return 0;
}

/* Docker removes the Dockerfile and .dockerignore from the context when
 * .dockerignore excludes them (the client had to send them). */
static void remove_build_files(struct build *b, const char *dockerfile)
{
        _cleanup_free_ char *path = xasprintf("%s/.dockerignore", b->ctx);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        if (read_full_file(path, &data, &len) < 0)
                return;
        struct build_ignore *ig = NULL;
        struct berth_err e = {0};
        if (build_ignore_parse(data, len, &ig, &e) < 0)
                return;
        if (build_ignore_match(ig, dockerfile, false)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", b->ctx, dockerfile);
                unlink(p);
        }
        if (build_ignore_match(ig, ".dockerignore", false))
                unlink(path);
        build_ignore_free(ig);
}

void build_sweep(const char *data_root)
{
        _cleanup_free_ char *tmp = xasprintf("%s/build/tmp", data_root);
        rm_rf_path(tmp);
}

void build_reap(struct container_store *containers)
{
        _cleanup_free_ char *filters = xasprintf("{\"label\":[\"%s\"]}", BUILD_STEP_LABEL);
        struct container_list_opts lo = {.all = true, .filters = filters};
        _cleanup_json_ json_t *list = NULL;
        struct berth_err err = {0};
        if (container_list(containers, &lo, &list, &err) < 0) {
                log_warn("build: cannot list step containers: %s", err_msg(&err));
                return;
        }
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
                const char *state = json_get_str(c, "State", "");
                if (!streq(state, "running") && !streq(state, "created"))
                        continue;
                const char *id = json_get_str(c, "Id", "");
                log_info("build: removing step container %.12s of a build that did not end", id);
                if (container_remove(containers, id, true, true, &err) < 0)
                        log_warn("build: remove step container %.12s: %s", id, err_msg(&err));
        }
}

static int scratch_make(struct build *b, struct berth_err *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s/build/tmp", b->d->cfg->data_root);
        int r = mkdir_p(tmp, 0700);
        if (r < 0)
                return err_errno(err, r, "create '%s'", tmp);
        unsigned char rnd[8];
        if (getentropy(rnd, sizeof(rnd)) < 0)
                return err_errno(err, -errno, "getentropy");
        b->scratch = xasprintf("%s/%02x%02x%02x%02x%02x%02x%02x%02x", tmp, rnd[0], rnd[1], rnd[2],
                               rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
        if (mkdir(b->scratch, 0700) < 0)
                return err_errno(err, -errno, "create '%s'", b->scratch);
        b->ctx = xasprintf("%s/ctx", b->scratch);
        if (mkdir(b->ctx, 0755) < 0)
                return err_errno(err, -errno, "create '%s'", b->ctx);
        return 0;
}

/* --- the build ------------------------------------------------------------------------ */

/* An image of --cache-from: its ID and its ancestors' as hits it allows,
 * its config for history matches. Not local: skipped, as moby does. */
static void cache_from_add(struct build *b, const char *ref)
{
        struct berth_err e = {0};
        _cleanup_free_ char *id = NULL;
        if (image_resolve(b->d->images, ref, &id, &e) < 0) {
                log_info("build: --cache-from %s: %s, skipped", ref, err_msg(&e));
                return;
        }
        if (!b->cf_ids) {
                b->cf_ids = json_object();
                b->cf_configs = json_array();
        }
        json_t *cfg = NULL;
        if (image_config(b->d->images, id, &cfg, &e) == 0)
                json_array_append_new(b->cf_configs, cfg);
        for (int depth = 0; id && depth < 10000; depth++) {
                json_object_set_new(b->cf_ids, id, json_true());
                _cleanup_json_ json_t *insp = NULL;
                if (image_inspect(b->d->images, id, &insp, &e) < 0)
                        break;
                const char *p = json_get_str(insp, "Parent", "");
                free(id);
                id = *p ? xstrdup(p) : NULL;
        }
}

static int validate_tags(const struct build_opts *o, char ***ret, struct berth_err *err)
{
        char **full = NULL;
        for (char **t = o->tags; t && *t; t++) {
                struct image_ref pr;
                if (image_ref_parse(*t, &pr, err) < 0) {
                        strv_free(full);
                        return err_set(err, -EINVAL, "invalid reference format: %s", *t);
                }
                if (pr.digest) {
                        image_ref_done(&pr);
                        strv_free(full);
                        return err_set(err, -EINVAL, "build tag cannot contain a digest");
                }
                char *s = image_ref_full(&pr);
                image_ref_done(&pr);
                if (strv_contains(full, s))
                        free(s);
                else
                        full = strv_push(full, s);
        }
        *ret = full;
        return 0;
}

static int build_stage(struct build *b, size_t si, bool last, struct berth_err *err)
{
        const struct build_stage *sg = &b->f->stages[si];
        struct stage_state st = {.index = si};
        int r = boutf(b, "Step %zu/%zu : %s", ++b->step, b->nsteps, sg->from->original);
        if (r >= 0)
                r = boutf(b, "\n");
        if (r >= 0)
                r = stage_from(b, &st, sg, err);
        if (r >= 0)
                r = run_triggers(b, &st, err);
        for (size_t i = 0; r >= 0 && i < sg->n_instrs; i++) {
                const struct build_instr *in = &sg->instrs[i];
                r = boutf(b, "Step %zu/%zu : %s", ++b->step, b->nsteps, in->original);
                if (r >= 0)
                        r = boutf(b, "\n");
                struct build_instr *x = NULL;
                if (r >= 0)
                        r = build_expand_instr(in, b->f->escape, build_lookup_stage, b->args, &x,
                                               err);
                if (r >= 0)
                        r = dispatch(b, &st, in, x, err);
                build_instr_free(x);
        }
        /* --label: one LABEL step at the end of the target stage */
        if (r >= 0 && last && json_object_size(b->o->labels)) {
                size_t n = json_object_size(b->o->labels), i = 0;
                _cleanup_free_ const char **keys = xzalloc((n + 1) * sizeof(char *));
                const char *key;
                json_t *v;
                json_object_foreach (b->o->labels, key, v)
                        keys[i++] = key;
                qsort(keys, n, sizeof(char *), sort_str);
                _cleanup_free_ char *line = NULL;
                size_t ll = 0;
                FILE *f = open_memstream(&line, &ll);
                fputs("LABEL", f);
                json_t *l = json_object_get(st.config, "Labels");
                if (!json_is_object(l)) {
                        l = json_object();
                        json_object_set_new(st.config, "Labels", l);
                }
                for (i = 0; i < n; i++) {
                        const char *val =
                            strempty(json_string_value(json_object_get(b->o->labels, keys[i])));
                        fprintf(f, " \"%s\"='%s'", keys[i], val);
                        json_object_set_new(l, keys[i], json_string(val));
                }
                fclose(f);
                r = boutf(b, "Step %zu/%zu : %s", ++b->step, b->nsteps, line);
                if (r >= 0)
                        r = boutf(b, "\n");
                if (r >= 0) {
                        _cleanup_free_ char *text = NULL;
                        size_t tl = 0;
                        FILE *g = open_memstream(&text, &tl);
                        fputs("LABEL", g);
                        for (i = 0; i < n; i++)
                                fprintf(g, " %s=%s", keys[i],
                                        strempty(json_string_value(
                                            json_object_get(b->o->labels, keys[i]))));
                        fclose(g);
                        r = step_commit(b, &st, nop_cmd(&st, text), NULL, NULL, NULL, err);
                }
        }
        if (r >= 0 && !st.image)
                r = err_set(err, -EINVAL, "No image was generated. Is your Dockerfile empty?");
        if (r >= 0) {
                b->stage_ids[si] = xstrdup(st.image);
                if (b->o->want_aux)
                        r = bout(b, json_pack("{s:{s:s}}", "aux", "ID", st.image));
        }
        free(st.image);
        free(st.author);
        json_decref(st.config);
        return r;
}

static json_t *error_message(int code, const char *msg)
{
        json_t *detail = json_pack("{s:s}", "message", msg);
        if (code)
                json_object_set_new(detail, "code", json_integer(code));
        return json_pack("{s:o, s:s}", "errorDetail", detail, "error", msg);
}

int build_run(const struct build_deps *d, const struct build_opts *o, int context_fd,
              build_out_fn out, void *userdata, char **ret_id, struct berth_err *err)
{
        struct build b = {.d = d, .o = o, .out = out, .ud = userdata, .ctxfd = -1};
        _cleanup_strv_ char **tags = NULL;
        _cleanup_free_ char *dfdata = NULL, *dfname = NULL;
        size_t dflen = 0;
        int r = validate_tags(o, &tags, err);
        if (r < 0)
                return r;
        b.held = json_array();
        b.dockerfile = o->dockerfile;
        for (char **cf = o->cache_from; cf && *cf; cf++)
                cache_from_add(&b, *cf);
        r = scratch_make(&b, err);
        _cleanup_free_ char *remote_df = NULL;
        if (r >= 0 && !isempty(o->remote)) {
                /* remote=: the daemon fetches the context (docker-py) */
                _cleanup_free_ char *rs = xasprintf("%s/remote", b.scratch);
                r = mkdir(rs, 0700) < 0 ? err_errno(err, -errno, "create '%s'", rs) : 0;
                if (r >= 0)
                        r = build_remote_fetch(d->registry, o->remote, b.ctx, rs, &remote_df, err);
                if (remote_df)
                        b.dockerfile = remote_df;
        } else if (r >= 0) {
                /* a context that is not a tar, or a hostile one, is the
                 * client's mistake (-EINVAL); a full disk is not */
                r = tar_context_unpack(context_fd, b.ctx, NULL, err);
                if (r < 0 && r != -EINVAL)
                        err_prefix(err, "build context");
        }
        if (r >= 0) {
                b.ctxfd = open(b.ctx, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (b.ctxfd < 0)
                        r = err_errno(err, -errno, "open '%s'", b.ctx);
        }
        if (r >= 0)
                r = read_dockerfile(&b, &dfdata, &dflen, &dfname, err);
        if (r >= 0)
                r = build_parse(dfdata, dflen, dfname, &b.f, err);
        if (r >= 0)
                remove_build_files(&b, dfname);

        /* build args, the meta ARGs, the stages the target needs */
        _cleanup_free_ bool *needed = NULL;
        size_t target = 0;
        if (r >= 0) {
                b.args = build_args_new();
                const char *key;
                json_t *v;
                json_object_foreach (o->buildargs, key, v)
                        build_args_set(b.args, key,
                                       json_is_string(v) ? json_string_value(v) : NULL);
                for (size_t i = 0; r >= 0 && i < b.f->n_meta_args; i++)
                        r = build_args_meta(b.args, &b.f->meta_args[i], b.f->escape, err);
        }
        if (r >= 0) {
                needed = xzalloc((b.f->n_stages + 1) * sizeof(bool));
                r = build_stages_needed(b.f, o->target, build_lookup_meta, b.args, needed, &target,
                                        err);
        }
        if (r >= 0) {
                b.stage_ids = xzalloc((b.f->n_stages + 1) * sizeof(char *));
                b.nsteps = b.f->n_meta_args + (json_object_size(o->labels) ? 1 : 0);
                for (size_t i = 0; i <= target; i++)
                        if (needed[i])
                                b.nsteps += 1 + b.f->stages[i].n_instrs;
        }

        /* the stream begins */
        for (char **w = b.f ? b.f->warnings : NULL; r >= 0 && w && *w; w++)
                r = boutf(&b, "\033[91m%s\n\033[0m", *w);
        for (size_t i = 0; r >= 0 && b.f && i < b.f->n_meta_args; i++) {
                r = boutf(&b, "Step %zu/%zu : %s", ++b.step, b.nsteps, b.f->meta_args[i].original);
                if (r >= 0)
                        r = boutf(&b, "\n");
        }
        for (size_t i = 0; r >= 0 && b.f && i <= target; i++)
                if (needed[i])
                        r = build_stage(&b, i, i == target, err);

        /* the context goes before the last messages: a client that has
         * read them finds nothing of the build left */
        b.ctxfd = safe_close(b.ctxfd);
        if (b.scratch)
                rm_rf_path(b.scratch);

        _cleanup_free_ char *id = NULL;
        if (r >= 0) {
                id = xstrdup(b.stage_ids[target]);
                _cleanup_free_ char *warn = build_args_unconsumed_warning(b.args);
                if (warn)
                        r = boutf(&b, "%s", warn);
        }
        if (r >= 0)
                r = boutf(&b, "Successfully built %s\n", short_id(id));
        for (char **t = tags; r >= 0 && t && *t; t++) {
                r = image_tag(d->images, id, *t, err);
                if (r >= 0) {
                        _cleanup_free_ char *fam = image_ref_familiar(*t);
                        r = boutf(&b, "Successfully tagged %s\n", fam);
                }
        }
        if (r >= 0 && d->cache) {
                struct berth_err gerr = {0};
                if (build_cache_gc(d->cache, &gerr) < 0)
                        log_warn("build cache: %s", err_msg(&gerr));
        }

        /* the end: quiet gets only the ID; a failure once the stream has
         * begun is a message in it */
        if (r >= 0 && o->quiet) {
                b.streaming = true;
                json_t *m = json_pack("{s:s+}", "stream", id, "\n");
                if (out(userdata, m) < 0)
                        r = -ECANCELED;
        }
        int ret = r;
        if (r < 0 && b.cancelled) {
                log_info("build cancelled: the client went away");
                ret = err_set(err, -ECANCELED, "Build cancelled");
        } else if (r < 0 && (b.streaming || json_array_size(b.held))) {
                size_t i;
                json_t *m;
                json_array_foreach (b.held, i, m)
                        out(userdata, json_incref(m));
                out(userdata, error_message(b.exit_code, err_msg(err)));
                ret = 1;
        }
        if (r >= 0 && ret_id)
                *ret_id = TAKE_PTR(id);

        safe_close(b.ctxfd);
        if (b.scratch)
                rm_rf_path(b.scratch);
        free(b.scratch);
        free(b.ctx);
        for (size_t i = 0; b.f && b.stage_ids && i < b.f->n_stages; i++)
                free(b.stage_ids[i]);
        free(b.stage_ids);
        build_args_free(b.args);
        build_file_free(b.f);
        json_decref(b.held);
        json_decref(b.cf_ids);
        json_decref(b.cf_configs);
        return ret;
}
