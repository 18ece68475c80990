/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Dockerfile variables: the word expansion, the ARG/ENV scopes of a build,
 * the unconsumed-build-arg warning, and stage selection for a target. */
#include "check-main.h"
#include "build/build-expand.h"
#include "build/build-parse.h"

/* A lookup over "K=V" strings, NULL-terminated. */
static const char *kv_lookup(void *ud, const char *name)
{
        char *const *v = ud;
        size_t n = strlen(name);
        for (; *v; v++)
                if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
                        return *v + n + 1;
        return NULL;
}

static char *const vars[] = {"a=1", "e=", "sp=x y", "ports=443 8080", "p=/usr", NULL};

static void exp_ok(const char *word, char esc, const char *want)
{
        char *got = NULL;
        struct berth_err e = {0};
        ck_assert_msg(build_expand_word(word, esc, kv_lookup, (void *)vars, &got, &e) == 0,
                      "%s: %s", word, e.msg);
        ck_assert_msg(streq(got, want), "%s: got '%s', want '%s'", word, got, want);
        free(got);
}

static void exp_bad(const char *word, const char *msg)
{
        char *got = NULL;
        struct berth_err e = {0};
        ck_assert_msg(build_expand_word(word, '\\', kv_lookup, (void *)vars, &got, &e) == -EINVAL,
                      "%s: expanded to '%s'", word, got);
        ck_assert_msg(streq(e.msg, msg), "%s: got '%s', want '%s'", word, e.msg, msg);
}

START_TEST(forms)
{
        exp_ok("$a", '\\', "1");
        exp_ok("${a}", '\\', "1");
        exp_ok("x${a}y$a.$a", '\\', "x1y1.1");
        exp_ok("$unset", '\\', "");
        exp_ok("${unset}", '\\', "");
        exp_ok("$", '\\', "$");
        exp_ok("a$-b $ c $/", '\\', "ab $ c $/"); /* $- is a special parameter: unset */
        exp_ok("$1abc", '\\', "abc");             /* positional: digits only */
        exp_ok("${1}x", '\\', "x");
        exp_ok("$p/bin", '\\', "/usr/bin");
        /* :- and - */
        exp_ok("${a:-d}", '\\', "1");
        exp_ok("${u:-d}", '\\', "d");
        exp_ok("${e:-d}", '\\', "d");
        exp_ok("${e-d}", '\\', "");
        exp_ok("${u-d}", '\\', "d");
        exp_ok("${a-d}", '\\', "1");
        /* :+ and + */
        exp_ok("${a:+s}", '\\', "s");
        exp_ok("${e:+s}", '\\', "");
        exp_ok("${u:+s}", '\\', "");
        exp_ok("${e+s}", '\\', "s");
        exp_ok("${u+s}", '\\', "");
        /* :? and ? */
        exp_ok("${a:?boom}", '\\', "1");
        exp_ok("${e?boom}", '\\', "");
        exp_bad("${u:?boom}", "u: boom");
        exp_bad("${e:?}", "e: is not allowed to be empty");
        exp_bad("${u?}", "u: is not allowed to be unset");
        /* the word of a modifier is expanded too, nested */
        exp_ok("${u:-$a}", '\\', "1");
        exp_ok("${u:-${v:-${a}}}", '\\', "1");
        exp_ok("${u:-a b}", '\\', "a b");
        exp_ok("${a:+${sp}!}", '\\', "x y!");
}
END_TEST

START_TEST(quotes_and_escapes)
{
        exp_ok("\\$a", '\\', "$a");
        exp_ok("\\${a}", '\\', "${a}");
        exp_ok("a\\ b", '\\', "a b");
        exp_ok("a\\", '\\', "a");
        exp_ok("'$a'", '\\', "$a");
        exp_ok("'a\\b'", '\\', "a\\b");
        exp_ok("\"$a\"", '\\', "1");
        exp_ok("\"a\\\"b\"", '\\', "a\"b");
        exp_ok("\"a\\$a\"", '\\', "a$a");
        exp_ok("\"a\\nb\"", '\\', "a\\nb"); /* only " $ and the escape are escaped */
        exp_ok("\"a\\\\b\"", '\\', "a\\b");
        exp_ok("'x'\"y\"z", '\\', "xyz");
        exp_ok("\"it's\"", '\\', "it's");
        exp_ok("'say \"hi\"'", '\\', "say \"hi\"");
        /* with escape=` the backslash is an ordinary character */
        exp_ok("`$a", '`', "$a");
        exp_ok("\\$a", '`', "\\1");
        exp_ok("c:\\dir\\$a", '`', "c:\\dir\\1");
        exp_ok("\"`\"\"", '`', "\"");
        exp_bad("'abc", "unexpected end of statement while looking for matching single-quote");
        exp_bad("\"abc", "unexpected end of statement while looking for matching double-quote");
        exp_bad("${a", "missing ':' in substitution");
        exp_bad("${", "syntax error: missing '}'");
        exp_bad("${}", "syntax error: bad substitution");
        exp_bad("${:-x}", "syntax error: bad substitution");
        exp_bad("${a:x}", "unsupported modifier (:x) in substitution");
        exp_bad("${a#x}", "unsupported modifier (#) in substitution");
        exp_bad("${a@x}", "missing ':' in substitution");
        exp_bad("${u:-x", "syntax error: missing '}'");
}
END_TEST

START_TEST(words)
{
        char **w = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(build_expand_words("80 $ports \"$sp\"  '9 0' ${u}", '\\', kv_lookup,
                                            (void *)vars, &w, &e),
                         0);
        ck_assert_uint_eq(strv_length(w), 5);
        ck_assert_str_eq(w[0], "80");
        ck_assert_str_eq(w[1], "443");
        ck_assert_str_eq(w[2], "8080");
        ck_assert_str_eq(w[3], "x y");
        ck_assert_str_eq(w[4], "9 0");
        strv_free(w);
        ck_assert_int_eq(build_expand_words("$u", '\\', kv_lookup, (void *)vars, &w, &e), 0);
        ck_assert_uint_eq(strv_length(w), 0);
        strv_free(w);
        ck_assert_int_eq(build_expand_words("\"\"", '\\', kv_lookup, (void *)vars, &w, &e), 0);
        ck_assert_uint_eq(strv_length(w), 1);
        ck_assert_str_eq(w[0], "");
        strv_free(w);
        ck_assert_int_eq(build_expand_words("'a", '\\', kv_lookup, (void *)vars, &w, &e), -EINVAL);
}
END_TEST

START_TEST(which_instructions)
{
        static const char *const yes[] = {"ADD",    "COPY",    "ENV",        "EXPOSE",
                                          "FROM",   "LABEL",   "STOPSIGNAL", "USER",
                                          "VOLUME", "WORKDIR", "ARG",        "copy"};
        static const char *const no[] = {"RUN",   "CMD",         "ENTRYPOINT", "ONBUILD",
                                         "SHELL", "HEALTHCHECK", "MAINTAINER"};
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ck_assert_msg(build_instr_expands(yes[i]), "%s", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ck_assert_msg(!build_instr_expands(no[i]), "%s", no[i]);
        ck_assert(build_arg_is_proxy("HTTP_PROXY"));
        ck_assert(build_arg_is_proxy("no_proxy"));
        ck_assert(build_arg_is_proxy("all_proxy"));
        ck_assert(!build_arg_is_proxy("Http_Proxy"));
        ck_assert(!build_arg_is_proxy("PROXY"));
}
END_TEST

/* --- scopes ------------------------------------------------------------------- */

static struct build_file *parse(const char *s)
{
        struct berth_err e = {0};
        struct build_file *f = NULL;
        ck_assert_msg(build_parse(s, strlen(s), NULL, &f, &e) == 0, "%s", e.msg);
        return f;
}

/* Walk a Dockerfile's ARG and ENV steps as the builder will. */
static struct build_args *walk(const struct build_file *f, size_t stage, size_t upto,
                               struct build_args *a)
{
        struct berth_err e = {0};
        for (size_t i = 0; i < f->n_meta_args; i++)
                ck_assert_int_eq(build_args_meta(a, &f->meta_args[i], f->escape, &e), 0);
        for (size_t s = 0; s <= stage; s++) {
                build_args_stage(a, NULL);
                const struct build_stage *st = &f->stages[s];
                for (size_t i = 0; i < (s == stage ? upto : st->n_instrs); i++) {
                        const struct build_instr *in = &st->instrs[i];
                        if (streq(in->keyword, "ARG"))
                                ck_assert_int_eq(build_args_declare(a, in, f->escape, &e), 0);
                        else if (streq(in->keyword, "ENV"))
                                ck_assert_int_eq(build_args_env(a, in, f->escape, &e), 0);
                }
        }
        return a;
}

static void expect(const char *got, const char *want, const char *what)
{
        ck_assert_msg(streq_ptr(got, want), "%s: got '%s', want '%s'", what, strempty(got),
                      strempty(want));
}

START_TEST(meta_args)
{
        struct build_file *f = parse("ARG V=1\nARG W=${V}2\nARG X\nFROM img:$V-$W\nRUN x\n"
                                     "ARG V\nARG W=own\nRUN y\n");
        struct build_args *a = walk(f, 0, 1, build_args_new());
        /* FROM lines see the meta args */
        expect(build_lookup_meta(a, "V"), "1", "meta V");
        expect(build_lookup_meta(a, "W"), "12", "meta W");
        expect(build_lookup_meta(a, "X"), NULL, "meta X");
        char *base = NULL;
        struct berth_err e = {0};
        ck_assert_int_eq(
            build_expand_word(f->stages[0].base, f->escape, build_lookup_meta, a, &base, &e), 0);
        ck_assert_str_eq(base, "img:1-12");
        free(base);
        /* a stage does not, until it declares them */
        expect(build_lookup_stage(a, "V"), NULL, "stage V before ARG");
        build_args_free(a);
        a = walk(f, 0, 3, build_args_new());
        expect(build_lookup_stage(a, "V"), "1", "stage V after ARG V");
        expect(build_lookup_stage(a, "W"), "own", "stage W with its own default");
        build_args_free(a);
        /* the client overrides defaults, in FROM and in the stage */
        a = build_args_new();
        build_args_set(a, "V", "9");
        build_args_set(a, "W", NULL); /* given without a value: overrides nothing */
        walk(f, 0, 3, a);
        expect(build_lookup_meta(a, "V"), "9", "meta V from the client");
        expect(build_lookup_meta(a, "W"), "92", "meta W");
        expect(build_lookup_stage(a, "V"), "9", "stage V from the client");
        expect(build_lookup_stage(a, "W"), "own", "stage W");
        ck_assert_ptr_null(build_args_unconsumed(a));
        build_args_free(a);
        build_file_free(f);
}
END_TEST

START_TEST(env_over_arg)
{
        struct build_file *f = parse("FROM a\nARG X=a\nARG Y=y\nENV X=b\nENV abc=hello\n"
                                     "ENV abc=bye def=$abc\nENV ghi=$abc Z=\"$Y z\"\nARG B=$X\n");
        struct build_args *a = build_args_new();
        build_args_set(a, "Y", "client");
        walk(f, 0, f->stages[0].n_instrs, a);
        expect(build_lookup_stage(a, "X"), "b", "ENV wins over ARG");
        /* old values within one instruction, new ones after */
        expect(build_lookup_stage(a, "def"), "hello", "def");
        expect(build_lookup_stage(a, "ghi"), "bye", "ghi");
        expect(build_lookup_stage(a, "Z"), "client z", "Z");
        expect(build_lookup_stage(a, "B"), "b", "ARG default sees ENV");
        _cleanup_strv_ char **env = build_args_env_list(a);
        ck_assert_uint_eq(strv_length(env), 5);
        ck_assert_str_eq(env[0], "X=b");
        ck_assert_str_eq(env[1], "abc=bye"); /* replaced in place */
        ck_assert_str_eq(env[2], "def=hello");
        /* RUN sees the args ENV does not override, sorted */
        _cleanup_strv_ char **run = build_args_run_env(a, false);
        ck_assert_uint_eq(strv_length(run), 2);
        ck_assert_str_eq(run[0], "B=b");
        ck_assert_str_eq(run[1], "Y=client");
        build_args_free(a);
        build_file_free(f);
}
END_TEST

START_TEST(stage_reset)
{
        struct build_file *f = parse("FROM a\nARG S=1\nENV E=2\nFROM b\nRUN x\n");
        struct build_args *a = walk(f, 1, 1, build_args_new());
        expect(build_lookup_stage(a, "S"), NULL, "ARG of the previous stage");
        expect(build_lookup_stage(a, "E"), NULL, "ENV of the previous stage");
        char *const image_env[] = {"PATH=/bin", "E=img", NULL};
        build_args_stage(a, image_env);
        expect(build_lookup_stage(a, "E"), "img", "the base image's Env");
        expect(build_lookup_stage(a, "PATH"), "/bin", "PATH");
        build_args_free(a);
        build_file_free(f);
}
END_TEST

START_TEST(proxies_and_unconsumed)
{
        struct build_file *f = parse("ARG M\nFROM a\nARG USED\nARG no_proxy\nRUN x\n");
        struct build_args *a = build_args_new();
        build_args_set(a, "HTTP_PROXY", "http://p:3128");
        build_args_set(a, "no_proxy", "localhost");
        build_args_set(a, "FOO", "1");
        build_args_set(a, "BAR", NULL);
        build_args_set(a, "USED", "u");
        build_args_set(a, "M", "m");
        walk(f, 0, 2, a);
        /* usable without ARG ... */
        expect(build_lookup_stage(a, "HTTP_PROXY"), "http://p:3128", "HTTP_PROXY");
        expect(build_lookup_meta(a, "HTTP_PROXY"), "http://p:3128", "HTTP_PROXY in FROM");
        /* ... but out of the cache key unless declared */
        _cleanup_strv_ char **key = build_args_run_env(a, false);
        ck_assert_uint_eq(strv_length(key), 2);
        ck_assert_str_eq(key[0], "USED=u");
        ck_assert_str_eq(key[1], "no_proxy=localhost");
        _cleanup_strv_ char **run = build_args_run_env(a, true);
        ck_assert_uint_eq(strv_length(run), 3);
        ck_assert_str_eq(run[0], "HTTP_PROXY=http://p:3128");
        /* the warning: undeclared, non-proxy, sorted; NULL-valued ones too */
        _cleanup_strv_ char **u = build_args_unconsumed(a);
        ck_assert_uint_eq(strv_length(u), 2);
        ck_assert_str_eq(u[0], "BAR");
        ck_assert_str_eq(u[1], "FOO");
        _cleanup_free_ char *w = build_args_unconsumed_warning(a);
        ck_assert_str_eq(w, "[Warning] One or more build-args [BAR FOO] were not consumed\n");
        build_args_free(a);
        a = build_args_new();
        ck_assert_ptr_null(build_args_unconsumed_warning(a));
        build_args_free(a);
        build_file_free(f);
}
END_TEST

START_TEST(instructions)
{
        struct build_file *f =
            parse("ARG IMG=alpine\nARG PL=linux/amd64\nFROM --platform=$PL ${IMG}:3 AS Base\n"
                  "ENV D=/app U=1000\n"
                  "COPY --chown=$U:$U --chmod=${M:-755} --from=$S \"$D/src\" $D/\n"
                  "COPY [\"$D/a\", \"/b\"]\n"
                  "RUN echo $D\nCMD [\"$D\"]\nWORKDIR $D/w\nUSER $U\nEXPOSE $P 53/udp\n"
                  "VOLUME $D/data\nSTOPSIGNAL ${SIG:-SIGTERM}\nLABEL \"$D\"=\"$U x\"\n"
                  "ONBUILD RUN $D\nARG X=$D\nFROM ${NONE}\n");
        struct build_args *a = build_args_new();
        build_args_set(a, "P", "80 443");
        struct berth_err e = {0};
        for (size_t i = 0; i < f->n_meta_args; i++)
                ck_assert_int_eq(build_args_meta(a, &f->meta_args[i], f->escape, &e), 0);
        struct build_instr *x = NULL;
        ck_assert_int_eq(
            build_expand_instr(f->stages[0].from, f->escape, build_lookup_meta, a, &x, &e), 0);
        ck_assert_str_eq(x->args[0], "alpine:3");
        ck_assert_str_eq(x->args[2], "Base");
        ck_assert_str_eq(build_instr_flag(x, "platform")->value, "linux/amd64");
        build_instr_free(x);
        build_args_stage(a, NULL);
        const struct build_stage *st = &f->stages[0];
        ck_assert_int_eq(build_args_env(a, &st->instrs[0], f->escape, &e), 0);
        struct build_instr *out[32] = {0};
        for (size_t i = 1; i < st->n_instrs; i++)
                ck_assert_msg(build_expand_instr(&st->instrs[i], f->escape, build_lookup_stage, a,
                                                 &out[i], &e) == 0,
                              "%s: %s", st->instrs[i].original, e.msg);
        /* COPY: sources, dest, --chown, --chmod; --from stays as written */
        ck_assert_str_eq(out[1]->args[0], "/app/src");
        ck_assert_str_eq(out[1]->args[1], "/app/");
        ck_assert_str_eq(build_instr_flag(out[1], "chown")->value, "1000:1000");
        ck_assert_str_eq(build_instr_flag(out[1], "chmod")->value, "755");
        ck_assert_str_eq(build_instr_flag(out[1], "from")->value, "$S");
        ck_assert_str_eq(out[2]->args[0], "/app/a");
        /* RUN and CMD are the shell's */
        ck_assert_str_eq(out[3]->args[0], "echo $D");
        ck_assert_str_eq(out[4]->args[0], "$D");
        ck_assert_str_eq(out[5]->args[0], "/app/w");
        ck_assert_str_eq(out[6]->args[0], "1000");
        /* EXPOSE splits what it expands; P is a build arg no ARG declared */
        ck_assert_uint_eq(out[7]->n_args, 1);
        ck_assert_str_eq(out[7]->args[0], "53/udp");
        ck_assert_str_eq(out[8]->args[0], "/app/data");
        ck_assert_str_eq(out[9]->args[0], "SIGTERM");
        ck_assert_str_eq(out[10]->kv[0].key, "/app");
        ck_assert_str_eq(out[10]->kv[0].value, "1000 x");
        ck_assert_str_eq(out[11]->trigger, "RUN $D");
        ck_assert_str_eq(out[12]->kv[0].value, "/app");
        for (size_t i = 0; i < ELEMENTSOF(out); i++)
                build_instr_free(out[i]);
        /* EXPOSE with a declared arg holding two ports */
        ck_assert_int_eq(build_args_declare(
                             a,
                             &(struct build_instr){
                                 .keyword = "ARG", .kv = &(struct build_kv){"P", NULL}, .n_kv = 1},
                             f->escape, &e),
                         0);
        ck_assert_int_eq(
            build_expand_instr(&st->instrs[7], f->escape, build_lookup_stage, a, &x, &e), 0);
        ck_assert_uint_eq(x->n_args, 3);
        ck_assert_str_eq(x->args[1], "443");
        build_instr_free(x);
        /* a base name that expands to nothing */
        ck_assert_int_eq(
            build_expand_instr(f->stages[1].from, f->escape, build_lookup_meta, a, &x, &e),
            -EINVAL);
        ck_assert_str_eq(e.msg, "base name (${NONE}) should not be blank");
        build_args_free(a);
        build_file_free(f);
}
END_TEST

/* --- stage selection ------------------------------------------------------------ */

static const char *const multi = "ARG BASE=alpine\nARG TOOLS=tools\n"
                                 "FROM $BASE AS base\n"       /* 0 */
                                 "FROM busybox AS tools\n"    /* 1 */
                                 "FROM base AS build\n"       /* 2 */
                                 "COPY --from=tools /x /x\n"  /* (1) */
                                 "FROM scratch AS unused\n"   /* 3 */
                                 "FROM scratch AS viamount\n" /* 4 */
                                 "RUN --mount=type=bind,from=unused,target=/u true\n"
                                 "FROM scratch AS Final\n" /* 5 */
                                 "COPY --from=build /a /a\n"
                                 "COPY --from=0 /b /b\n"
                                 "COPY --from=alpine:3 /c /c\n";

static void needed_of(const char *dockerfile, const char *target, const char *want)
{
        struct build_file *f = parse(dockerfile);
        struct build_args *a = build_args_new();
        struct berth_err e = {0};
        for (size_t i = 0; i < f->n_meta_args; i++)
                build_args_meta(a, &f->meta_args[i], f->escape, &e);
        bool needed[64];
        size_t t;
        ck_assert_uint_le(f->n_stages, 64);
        ck_assert_msg(build_stages_needed(f, target, build_lookup_meta, a, needed, &t, &e) == 0,
                      "%s", e.msg);
        char got[65] = {0};
        for (size_t i = 0; i < f->n_stages; i++)
                got[i] = needed[i] ? '1' : '0';
        ck_assert_msg(streq(got, want), "target %s: got %s, want %s", strempty(target), got, want);
        ck_assert(needed[t]);
        build_args_free(a);
        build_file_free(f);
}

START_TEST(stages_needed)
{
        needed_of(multi, "final", "111001");
        needed_of(multi, NULL, "111001");
        needed_of(multi, "", "111001");
        needed_of(multi, "BUILD", "111000");
        needed_of(multi, "tools", "010000");
        needed_of(multi, "viamount", "000110");
        /* FROM through a meta arg that names a stage */
        needed_of("ARG S=one\nFROM a AS one\nFROM b AS two\nFROM $S\n", NULL, "101");
        /* FROM by index is an image, not a stage */
        needed_of("FROM a\nFROM 0\n", NULL, "01");
        /* a --from= that still needs expanding: every earlier stage, to be safe */
        needed_of("FROM a AS x\nFROM b AS y\nFROM c AS z\nCOPY --from=$X / /\nFROM d\n", "z",
                  "1110");
        /* a later stage cannot be a dependency */
        needed_of("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\n", "x", "10");

        struct build_file *f = parse(multi);
        bool needed[8];
        size_t t;
        struct berth_err e = {0};
        ck_assert_int_eq(build_stages_needed(f, "nope", build_lookup_meta, NULL, needed, &t, &e),
                         -EINVAL);
        ck_assert_str_eq(e.msg, "failed to reach build target nope in Dockerfile");
        ck_assert_int_eq(build_stages_needed(f, "0", build_lookup_meta, NULL, needed, &t, &e),
                         -EINVAL);
        build_file_free(f);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-expand");
        TCase *tc = tcase_create("expand");
        tcase_add_test(tc, forms);
        tcase_add_test(tc, quotes_and_escapes);
        tcase_add_test(tc, words);
        tcase_add_test(tc, which_instructions);
        suite_add_tcase(s, tc);
        tc = tcase_create("scope");
        tcase_add_test(tc, meta_args);
        tcase_add_test(tc, env_over_arg);
        tcase_add_test(tc, stage_reset);
        tcase_add_test(tc, proxies_and_unconsumed);
        tcase_add_test(tc, instructions);
        tcase_add_test(tc, stages_needed);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
