/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Variable expansion, ARG/ENV scopes and stage selection (build-expand.h).
 * The lexer is one left-to-right pass; ${...} nesting recurses and is
 * bounded by EXPAND_DEPTH_MAX. */
#include <ctype.h>
#include <stdarg.h>

#include "build-expand.h"
#include "build-internal.h"

#define EXPAND_DEPTH_MAX 64

/* --- the lexer -------------------------------------------------------------- */

struct lex {
        const char *p;
        char esc;
        build_lookup_fn lookup;
        void *ud;
        struct berth_err *err;
};

/* Where characters go: a plain string, or words split at unquoted blanks. */
struct out {
        struct build_sbuf buf;
        struct build_strlist *words; /* NULL: one string */
        bool in_word;                /* words mode: a word has started (even an empty "") */
};

static void out_add(struct out *o, char c, bool raw)
{
        if (o->words && !raw && build_isspace(c)) {
                if (o->in_word)
                        build_strlist_push(o->words, build_sb_take(&o->buf));
                o->in_word = false;
                return;
        }
        o->in_word = true;
        build_sb_addc(&o->buf, c);
}

static void out_adds(struct out *o, const char *s, bool raw)
{
        for (; *s; s++)
                out_add(o, *s, raw);
}

static bool name_char(char c)
{
        return isalnum((unsigned char)c) || c == '_';
}

static int lex_run(struct lex *lx, struct out *o, char stop, int depth);

/* A variable name after '$' or "${", as Docker reads it: digits alone (a
 * positional parameter), one special parameter character, or letters,
 * digits and '_'. "" when none. */
static char *read_name(struct lex *lx)
{
        const char *s = lx->p;
        if (isdigit((unsigned char)*s)) {
                while (isdigit((unsigned char)*lx->p))
                        lx->p++;
        } else if (*s && strchr("@*#?-$!0", *s)) {
                lx->p++;
        } else {
                while (name_char(*lx->p))
                        lx->p++;
        }
        return xstrndup(s, (size_t)(lx->p - s));
}

static int dollar(struct lex *lx, struct out *o, bool raw, int depth)
{
        lx->p++; /* '$' */
        if (*lx->p != '{') {
                _cleanup_free_ char *name = read_name(lx);
                if (!*name)
                        out_add(o, '$', raw);
                else
                        out_adds(o, strempty(lx->lookup(lx->ud, name)), raw);
                return 0;
        }
        lx->p++; /* '{' */
        if (!*lx->p)
                return err_set(lx->err, -EINVAL, "syntax error: missing '}'");
        if (*lx->p == '{' || *lx->p == '}' || *lx->p == ':')
                return err_set(lx->err, -EINVAL, "syntax error: bad substitution");
        _cleanup_free_ char *name = read_name(lx);
        const char *val = lx->lookup(lx->ud, name);
        char c = *lx->p;
        if (c == '}') {
                lx->p++;
                out_adds(o, strempty(val), raw);
                return 0;
        }
        bool colon = c == ':';
        if (colon)
                c = *++lx->p;
        if (c != '-' && c != '+' && c != '?') {
                if (colon || c == '#' || c == '%' || c == '/')
                        return err_set(lx->err, -EINVAL,
                                       "unsupported modifier (%s%c) in substitution",
                                       colon ? ":" : "", c ? c : ' ');
                return err_set(lx->err, -EINVAL, "missing ':' in substitution");
        }
        lx->p++;
        if (depth >= EXPAND_DEPTH_MAX)
                return err_set(lx->err, -EINVAL, "bad substitution: nested deeper than %d levels",
                               EXPAND_DEPTH_MAX);
        struct out w = {0};
        int r = lex_run(lx, &w, '}', depth + 1);
        if (r < 0) {
                free(w.buf.p);
                return r;
        }
        _cleanup_free_ char *word = build_sb_take(&w.buf);
        bool set = val && (!colon || *val);
        switch (c) {
        case '-':
                out_adds(o, set ? val : word, raw);
                break;
        case '+':
                out_adds(o, set ? word : "", raw);
                break;
        case '?':
                if (!set)
                        return err_set(lx->err, -EINVAL, "%s: %s", name,
                                       *word ? word
                                       : val ? "is not allowed to be empty"
                                             : "is not allowed to be unset");
                out_adds(o, val, raw);
                break;
        }
        return 0;
}

/* Until stop ('}' inside ${...}) or the end of the word. */
static int lex_run(struct lex *lx, struct out *o, char stop, int depth)
{
        int r;
        while (*lx->p) {
                char c = *lx->p;
                if (stop && c == stop) {
                        lx->p++;
                        return 0;
                }
                if (c == '\'') {
                        o->in_word = true;
                        const char *e = strchr(lx->p + 1, '\'');
                        if (!e)
                                return err_set(lx->err, -EINVAL,
                                               "unexpected end of statement while looking for "
                                               "matching single-quote");
                        for (const char *q = lx->p + 1; q < e; q++)
                                out_add(o, *q, true);
                        lx->p = e + 1;
                } else if (c == '"') {
                        o->in_word = true;
                        lx->p++;
                        for (;;) {
                                char d = *lx->p;
                                if (!d)
                                        return err_set(lx->err, -EINVAL,
                                                       "unexpected end of statement while looking "
                                                       "for matching double-quote");
                                if (d == '"') {
                                        lx->p++;
                                        break;
                                }
                                if (d == '$') {
                                        r = dollar(lx, o, true, depth);
                                        if (r < 0)
                                                return r;
                                        continue;
                                }
                                if (d == lx->esc &&
                                    (lx->p[1] == '"' || lx->p[1] == '$' || lx->p[1] == lx->esc)) {
                                        out_add(o, lx->p[1], true);
                                        lx->p += 2;
                                        continue;
                                }
                                out_add(o, d, true);
                                lx->p++;
                        }
                } else if (c == '$') {
                        r = dollar(lx, o, false, depth);
                        if (r < 0)
                                return r;
                } else if (c == lx->esc) {
                        lx->p++;
                        if (!*lx->p)
                                break; /* a trailing escape is dropped */
                        out_add(o, *lx->p++, true);
                } else {
                        out_add(o, c, false);
                        lx->p++;
                }
        }
        if (stop)
                return err_set(lx->err, -EINVAL, "syntax error: missing '%c'", stop);
        return 0;
}

int build_expand_word(const char *word, char escape, build_lookup_fn lookup, void *userdata,
                      char **ret, struct berth_err *err)
{
        struct lex lx = {word, escape, lookup, userdata, err};
        struct out o = {0};
        int r = lex_run(&lx, &o, 0, 0);
        if (r < 0) {
                free(o.buf.p);
                return r;
        }
        *ret = build_sb_take(&o.buf);
        return 0;
}

int build_expand_words(const char *word, char escape, build_lookup_fn lookup, void *userdata,
                       char ***ret, struct berth_err *err)
{
        struct build_strlist words = {0};
        struct lex lx = {word, escape, lookup, userdata, err};
        struct out o = {.words = &words};
        int r = lex_run(&lx, &o, 0, 0);
        if (r < 0) {
                free(o.buf.p);
                build_strlist_done(&words);
                return r;
        }
        if (o.in_word)
                build_strlist_push(&words, build_sb_take(&o.buf));
        free(o.buf.p);
        if (!words.v)
                words.v = xzalloc(sizeof(char *));
        *ret = words.v;
        return 0;
}

bool build_instr_expands(const char *keyword)
{
        static const char *const kw[] = {"ADD",        "COPY", "ENV",    "EXPOSE",  "FROM", "LABEL",
                                         "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"};
        for (size_t i = 0; i < ELEMENTSOF(kw); i++)
                if (strcasecmp(kw[i], keyword) == 0)
                        return true;
        return false;
}

static int expand_in_place(char **s, char escape, build_lookup_fn lookup, void *ud,
                           struct berth_err *err)
{
        if (!*s)
                return 0;
        char *x = NULL;
        int r = build_expand_word(*s, escape, lookup, ud, &x, err);
        if (r < 0)
                return r;
        free(*s);
        *s = x;
        return 0;
}

static int expand_fields(struct build_instr *c, char escape, build_lookup_fn lookup, void *ud,
                         struct berth_err *err)
{
        const char *kw = c->keyword;
        int r = 0;
        if (streq(kw, "FROM")) {
                _cleanup_free_ char *raw = xstrdup(c->args[0]);
                r = expand_in_place(&c->args[0], escape, lookup, ud, err);
                for (size_t i = 0; r >= 0 && i < c->n_flags; i++)
                        if (streq(c->flags[i].name, "platform"))
                                r = expand_in_place(&c->flags[i].value, escape, lookup, ud, err);
                if (r >= 0 && !*c->args[0])
                        r = err_set(err, -EINVAL, "base name (%s) should not be blank", raw);
                return r;
        }
        if (streq(kw, "ENV") || streq(kw, "LABEL") || streq(kw, "ARG")) {
                for (size_t i = 0; r >= 0 && i < c->n_kv; i++) {
                        r = expand_in_place(&c->kv[i].key, escape, lookup, ud, err);
                        if (r >= 0)
                                r = expand_in_place(&c->kv[i].value, escape, lookup, ud, err);
                }
                return r;
        }
        if (streq(kw, "EXPOSE")) {
                struct build_strlist out = {0};
                for (size_t i = 0; r >= 0 && i < c->n_args; i++) {
                        char **w = NULL;
                        r = build_expand_words(c->args[i], escape, lookup, ud, &w, err);
                        for (size_t k = 0; r >= 0 && w[k]; k++)
                                build_strlist_push(&out, TAKE_PTR(w[k]));
                        free(w);
                }
                if (r < 0) {
                        build_strlist_done(&out);
                        return r;
                }
                for (size_t i = 0; i < c->n_args; i++)
                        free(c->args[i]);
                free(c->args);
                c->args = out.v ? out.v : xzalloc(sizeof(char *));
                c->n_args = out.n;
                return 0;
        }
        bool copy = streq(kw, "ADD") || streq(kw, "COPY");
        if (copy || streq(kw, "VOLUME") || streq(kw, "WORKDIR") || streq(kw, "USER") ||
            streq(kw, "STOPSIGNAL")) {
                for (size_t i = 0; r >= 0 && i < c->n_args; i++)
                        r = expand_in_place(&c->args[i], escape, lookup, ud, err);
                for (size_t i = 0; copy && r >= 0 && i < c->n_flags; i++)
                        if (streq(c->flags[i].name, "chown") || streq(c->flags[i].name, "chmod"))
                                r = expand_in_place(&c->flags[i].value, escape, lookup, ud, err);
        }
        return r;
}

int build_expand_instr(const struct build_instr *in, char escape, build_lookup_fn lookup,
                       void *userdata, struct build_instr **ret, struct berth_err *err)
{
        struct build_instr *c = build_instr_dup(in);
        int r = expand_fields(c, escape, lookup, userdata, err);
        if (r < 0) {
                build_instr_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

bool build_arg_is_proxy(const char *name)
{
        static const char *const proxies[] = {
            "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
            "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};
        for (size_t i = 0; i < ELEMENTSOF(proxies); i++)
                if (streq(proxies[i], name))
                        return true;
        return false;
}

/* --- scopes ----------------------------------------------------------------- */

struct var {
        char *name;
        char *value; /* NULL: no value */
        bool given;  /* build args: the client named it */
};

struct vars {
        struct var *v;
        size_t n, cap;
        struct build_smap idx;
};

struct build_args {
        struct vars client;     /* --build-arg */
        struct vars meta;       /* ARGs before FROM, defaults expanded */
        struct vars stage_args; /* ARGs declared in this stage */
        struct vars env;        /* the stage's ENV */
        struct build_strlist consumed;
        struct build_smap consumed_idx;
};

static struct var *vars_find(const struct vars *vs, const char *name)
{
        ssize_t i = build_smap_get(&vs->idx, name);
        return i >= 0 ? &vs->v[i] : NULL;
}

/* Set, keeping an existing entry's place. */
static void vars_set(struct vars *vs, const char *name, const char *value)
{
        struct var *v = vars_find(vs, name);
        if (v) {
                free(v->value);
                v->value = value ? xstrdup(value) : NULL;
                return;
        }
        vs->v = build_grow(vs->v, &vs->cap, vs->n + 1, sizeof(*vs->v));
        vs->v[vs->n] = (struct var){xstrdup(name), value ? xstrdup(value) : NULL, true};
        build_smap_put(&vs->idx, vs->v[vs->n].name, vs->n);
        vs->n++;
}

static void vars_done(struct vars *vs)
{
        for (size_t i = 0; i < vs->n; i++) {
                free(vs->v[i].name);
                free(vs->v[i].value);
        }
        free(vs->v);
        build_smap_done(&vs->idx);
        *vs = (struct vars){0};
}

struct build_args *build_args_new(void)
{
        return xzalloc(sizeof(struct build_args));
}

struct build_args *build_args_free(struct build_args *a)
{
        if (!a)
                return NULL;
        vars_done(&a->client);
        vars_done(&a->meta);
        vars_done(&a->stage_args);
        vars_done(&a->env);
        build_strlist_done(&a->consumed);
        build_smap_done(&a->consumed_idx);
        free(a);
        return NULL;
}

void build_args_set(struct build_args *a, const char *name, const char *value)
{
        vars_set(&a->client, name, value);
}

static void consume(struct build_args *a, const char *name)
{
        if (build_smap_get(&a->consumed_idx, name) >= 0)
                return;
        build_strlist_push(&a->consumed, xstrdup(name));
        build_smap_put(&a->consumed_idx, a->consumed.v[a->consumed.n - 1], a->consumed.n - 1);
}

/* The client's value when it gave one. */
static const char *client_value(const struct build_args *a, const char *name)
{
        const struct var *v = vars_find(&a->client, name);
        return v ? v->value : NULL;
}

const char *build_lookup_meta(void *ud, const char *name)
{
        const struct build_args *a = ud;
        const struct var *m = vars_find(&a->meta, name);
        if (m || build_arg_is_proxy(name)) {
                const char *c = client_value(a, name);
                if (c)
                        return c;
        }
        return m ? m->value : NULL;
}

/* An ARG declared in the stage: the client's value, its own default, or
 * the meta arg's. */
static const char *stage_arg_value(const struct build_args *a, const struct var *v)
{
        const char *c = client_value(a, v->name);
        if (c)
                return c;
        if (v->value)
                return v->value;
        const struct var *m = vars_find(&a->meta, v->name);
        return m ? m->value : NULL;
}

const char *build_lookup_stage(void *ud, const char *name)
{
        const struct build_args *a = ud;
        const struct var *e = vars_find(&a->env, name);
        if (e)
                return e->value;
        const struct var *v = vars_find(&a->stage_args, name);
        if (v)
                return stage_arg_value(a, v);
        if (build_arg_is_proxy(name))
                return client_value(a, name);
        return NULL;
}

static int declare(struct build_args *a, struct vars *into, build_lookup_fn lookup,
                   const struct build_instr *arg, char escape, struct berth_err *err)
{
        for (size_t i = 0; i < arg->n_kv; i++) {
                _cleanup_free_ char *name = NULL, *value = NULL;
                int r = build_expand_word(arg->kv[i].key, escape, lookup, a, &name, err);
                if (r < 0)
                        return r;
                if (arg->kv[i].value) {
                        r = build_expand_word(arg->kv[i].value, escape, lookup, a, &value, err);
                        if (r < 0)
                                return r;
                }
                vars_set(into, name, value);
                consume(a, name);
        }
        return 0;
}

int build_args_meta(struct build_args *a, const struct build_instr *arg, char escape,
                    struct berth_err *err)
{
        return declare(a, &a->meta, build_lookup_meta, arg, escape, err);
}

int build_args_declare(struct build_args *a, const struct build_instr *arg, char escape,
                       struct berth_err *err)
{
        return declare(a, &a->stage_args, build_lookup_stage, arg, escape, err);
}

void build_args_stage(struct build_args *a, char *const *env)
{
        vars_done(&a->stage_args);
        vars_done(&a->env);
        for (size_t i = 0; env && env[i]; i++) {
                const char *eq = strchr(env[i], '=');
                _cleanup_free_ char *k =
                    eq ? xstrndup(env[i], (size_t)(eq - env[i])) : xstrdup(env[i]);
                vars_set(&a->env, k, eq ? eq + 1 : "");
        }
}

int build_args_env(struct build_args *a, const struct build_instr *env, char escape,
                   struct berth_err *err)
{
        struct build_strlist kv = {0};
        int r = 0;
        for (size_t i = 0; i < env->n_kv && r >= 0; i++) {
                char *k = NULL, *v = NULL;
                r = build_expand_word(env->kv[i].key, escape, build_lookup_stage, a, &k, err);
                if (r >= 0)
                        r = build_expand_word(strempty(env->kv[i].value), escape,
                                              build_lookup_stage, a, &v, err);
                if (r >= 0 && !*k)
                        r = err_set(err, -EINVAL, "ENV names can not be blank");
                if (r < 0) {
                        free(k);
                        free(v);
                        break;
                }
                build_strlist_push(&kv, k);
                build_strlist_push(&kv, v);
        }
        for (size_t i = 0; r >= 0 && i + 1 < kv.n; i += 2)
                vars_set(&a->env, kv.v[i], kv.v[i + 1]);
        build_strlist_done(&kv);
        return r;
}

char **build_args_env_list(const struct build_args *a)
{
        struct build_strlist l = {0};
        for (size_t i = 0; i < a->env.n; i++)
                build_strlist_push(
                    &l, xasprintf("%s=%s", a->env.v[i].name, strempty(a->env.v[i].value)));
        return l.v ? l.v : xzalloc(sizeof(char *));
}

static int cmpstr(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

char **build_args_run_env(const struct build_args *a, bool with_proxies)
{
        struct build_strlist l = {0};
        for (size_t i = 0; i < a->stage_args.n; i++) {
                const struct var *v = &a->stage_args.v[i];
                const char *val = stage_arg_value(a, v);
                if (val && !vars_find(&a->env, v->name))
                        build_strlist_push(&l, xasprintf("%s=%s", v->name, val));
        }
        for (size_t i = 0; with_proxies && i < a->client.n; i++) {
                const struct var *c = &a->client.v[i];
                if (build_arg_is_proxy(c->name) && c->value &&
                    !vars_find(&a->stage_args, c->name) && !vars_find(&a->env, c->name))
                        build_strlist_push(&l, xasprintf("%s=%s", c->name, c->value));
        }
        if (l.n)
                qsort(l.v, l.n, sizeof(char *), cmpstr);
        return l.v ? l.v : xzalloc(sizeof(char *));
}

char **build_args_unconsumed(const struct build_args *a)
{
        struct build_strlist l = {0};
        for (size_t i = 0; i < a->client.n; i++) {
                const char *n = a->client.v[i].name;
                if (build_smap_get(&a->consumed_idx, n) < 0 && !build_arg_is_proxy(n))
                        build_strlist_push(&l, xstrdup(n));
        }
        if (l.n)
                qsort(l.v, l.n, sizeof(char *), cmpstr);
        return l.v;
}

char *build_args_unconsumed_warning(const struct build_args *a)
{
        _cleanup_strv_ char **u = build_args_unconsumed(a);
        if (!u)
                return NULL;
        struct build_sbuf b = {0};
        build_sb_addn(&b, "[Warning] One or more build-args [", 34);
        for (size_t i = 0; u[i]; i++) {
                if (i)
                        build_sb_addc(&b, ' ');
                build_sb_addn(&b, u[i], strlen(u[i]));
        }
        const char *tail = "] were not consumed\n";
        build_sb_addn(&b, tail, strlen(tail));
        return build_sb_take(&b);
}

/* --- stage selection -------------------------------------------------------- */

/* The value of key= in a --mount spec ("type=bind,from=x,target=/y"). */
static char *mount_from(const char *spec)
{
        const char *p = spec;
        while (*p) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n > 5 && strncmp(p, "from=", 5) == 0)
                        return xstrndup(p + 5, n - 5);
                p += n + (e ? 1 : 0);
        }
        return NULL;
}

/* *all_below: every stage under it is already marked (a '$' reference marks
 * them all, once). */
static void depend(const struct build_file *f, size_t stage, const char *ref, bool *deps,
                   size_t *all_below)
{
        if (strchr(ref, '$')) {
                for (size_t i = *all_below; i < stage; i++)
                        deps[i] = true;
                if (stage > *all_below)
                        *all_below = stage;
                return;
        }
        int ix = build_file_stage_index(f, ref, stage);
        if (ix >= 0)
                deps[ix] = true;
}

static int stage_deps(const struct build_file *f, size_t i, build_lookup_fn meta_lookup,
                      void *userdata, bool *needed, size_t *all_below, struct berth_err *err)
{
        const struct build_stage *s = &f->stages[i];
        _cleanup_free_ char *base = NULL;
        int r = build_expand_word(s->base, f->escape, meta_lookup, userdata, &base, err);
        if (r < 0)
                return r;
        int ix = build_file_stage_index(f, base, i);
        /* FROM names a stage by name only; "FROM 0" is an image */
        if (ix >= 0 && f->stages[ix].name && strcasecmp(f->stages[ix].name, base) == 0)
                needed[ix] = true;
        for (size_t k = 0; k < s->n_instrs; k++) {
                const struct build_instr *in = &s->instrs[k];
                for (size_t m = 0; m < in->n_flags; m++) {
                        const struct build_flag *fl = &in->flags[m];
                        if (streq(fl->name, "from") &&
                            (streq(in->keyword, "COPY") || streq(in->keyword, "ADD")))
                                depend(f, i, fl->value, needed, all_below);
                        if (streq(fl->name, "mount") && streq(in->keyword, "RUN")) {
                                _cleanup_free_ char *from = mount_from(fl->value);
                                if (from)
                                        depend(f, i, from, needed, all_below);
                        }
                }
        }
        return 0;
}

int build_stages_needed(const struct build_file *f, const char *target, build_lookup_fn meta_lookup,
                        void *userdata, bool *needed, size_t *ret_target, struct berth_err *err)
{
        size_t n = f->n_stages, t = n - 1;
        if (n == 0)
                return err_set(err, -EINVAL, "no build stage in current context");
        if (!isempty(target)) {
                int ix = build_file_stage_index(f, target, n);
                if (ix < 0 || !f->stages[ix].name || strcasecmp(f->stages[ix].name, target) != 0)
                        return err_set(err, -EINVAL,
                                       "failed to reach build target %s in Dockerfile", target);
                t = (size_t)ix;
        }
        memset(needed, 0, n * sizeof(bool));
        needed[t] = true;
        size_t all_below = 0;
        /* dependencies point backwards only: one downward sweep closes them */
        for (size_t i = t + 1; i-- > 0;)
                if (needed[i]) {
                        int r = stage_deps(f, i, meta_lookup, userdata, needed, &all_below, err);
                        if (r < 0)
                                return r;
                }
        *ret_target = t;
        return 0;
}
