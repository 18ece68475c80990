/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Dockerfile parser: lines, directives, continuations, each
 * instruction's forms and flags, heredocs, Docker's error texts, and
 * hostile input (long lines, random bytes, many stages). */
#include <inttypes.h>
#include <time.h>

#include "check-main.h"
#include "build/build-expand.h"
#include "build/build-parse.h"

static struct build_file *parse_ok(const char *s)
{
        struct berth_err e = {0};
        struct build_file *f = NULL;
        int r = build_parse(s, strlen(s), NULL, &f, &e);
        ck_assert_msg(r == 0, "%.200s: %s", s, e.msg);
        return f;
}

static void parse_bad(const char *s, const char *msg)
{
        struct berth_err e = {0};
        struct build_file *f = NULL;
        int r = build_parse(s, strlen(s), NULL, &f, &e);
        ck_assert_msg(r == -EINVAL, "%.200s: parsed", s);
        ck_assert_ptr_null(f);
        ck_assert_msg(streq(e.msg, msg), "%.200s:\n got  '%s'\n want '%s'", s, e.msg, msg);
}

/* The first stage's instruction i. */
static const struct build_instr *I(const struct build_file *f, size_t i)
{
        ck_assert_uint_ge(f->n_stages, 1);
        ck_assert_uint_lt(i, f->stages[0].n_instrs);
        return &f->stages[0].instrs[i];
}

START_TEST(basic)
{
        struct build_file *f = parse_ok("FROM busybox\nRUN echo hi\nCMD [\"sh\", \"-c\"]\n");
        ck_assert_uint_eq(f->n_stages, 1);
        ck_assert_str_eq(f->stages[0].base, "busybox");
        ck_assert_ptr_null(f->stages[0].name);
        ck_assert_str_eq(f->stages[0].from->keyword, "FROM");
        ck_assert_uint_eq(f->stages[0].from->line, 1);
        ck_assert_uint_eq(f->stages[0].n_instrs, 2);
        ck_assert_str_eq(I(f, 0)->keyword, "RUN");
        ck_assert_int_eq(I(f, 0)->form, BUILD_FORM_SHELL);
        ck_assert_str_eq(I(f, 0)->args[0], "echo hi");
        ck_assert_str_eq(I(f, 0)->original, "RUN echo hi");
        ck_assert_uint_eq(I(f, 0)->line, 2);
        ck_assert_int_eq(I(f, 1)->form, BUILD_FORM_EXEC);
        ck_assert_uint_eq(I(f, 1)->n_args, 2);
        ck_assert_str_eq(I(f, 1)->args[0], "sh");
        ck_assert_str_eq(I(f, 1)->args[1], "-c");
        ck_assert_ptr_null(I(f, 1)->args[2]);
        ck_assert_ptr_null(f->warnings);
        ck_assert_int_eq(f->escape, '\\');
        build_file_free(f);
}
END_TEST

START_TEST(case_blanks_comments)
{
        struct build_file *f =
            parse_ok("# top comment\n\n  from Alpine:3 As Build\n\t  run x # not a comment\n"
                     "   # an indented comment\nworkDir /w\n");
        ck_assert_str_eq(f->stages[0].name, "build");
        ck_assert_str_eq(f->stages[0].base, "Alpine:3");
        ck_assert_uint_eq(f->stages[0].from->line, 3);
        ck_assert_str_eq(I(f, 0)->keyword, "RUN");
        ck_assert_str_eq(I(f, 0)->args[0], "x # not a comment");
        ck_assert_str_eq(I(f, 1)->keyword, "WORKDIR");
        ck_assert_uint_eq(I(f, 1)->line, 6);
        build_file_free(f);
        /* CRLF and a BOM */
        f = parse_ok("\xef\xbb\xbf"
                     "FROM a\r\nRUN x  \r\n");
        ck_assert_str_eq(I(f, 0)->args[0], "x");
        build_file_free(f);
}
END_TEST

START_TEST(continuations)
{
        struct build_file *f = parse_ok("FROM a\nRUN echo \\\n  hello \\\n# a comment\n"
                                        "   # indented comment\n\n  world\nCMD x\n");
        ck_assert_str_eq(I(f, 0)->args[0], "echo   hello   world");
        ck_assert_uint_eq(I(f, 0)->line, 2);
        ck_assert_uint_eq(I(f, 0)->end_line, 7);
        ck_assert_uint_eq(I(f, 1)->line, 8);
        /* the empty line warns, as Docker does */
        ck_assert_ptr_nonnull(f->warnings);
        ck_assert_str_eq(
            f->warnings[0],
            "[WARNING]: Empty continuation line found in:\n    RUN echo   hello   world");
        ck_assert_str_eq(f->warnings[1],
                         "[WARNING]: Empty continuation lines will become errors in a future "
                         "release.");
        ck_assert_ptr_null(f->warnings[2]);
        build_file_free(f);
        /* blanks after the escape still continue; '#' inside a line is text */
        f = parse_ok("FROM a\nRUN a \\  \t\n b # c \\\nRUN d\n");
        ck_assert_str_eq(I(f, 0)->args[0], "a  b # c RUN d");
        build_file_free(f);
        /* a continuation at the end of the file ends the instruction */
        f = parse_ok("FROM a\nRUN x \\");
        ck_assert_str_eq(I(f, 0)->args[0], "x");
        build_file_free(f);
        /* a doubled escape at the end is text; a lone one on its line continues */
        f = parse_ok("FROM a\nRUN echo \\\\\nRUN b \\\n\\\n c\n");
        ck_assert_str_eq(I(f, 0)->args[0], "echo \\\\");
        ck_assert_str_eq(I(f, 1)->args[0], "b  c");
        build_file_free(f);
        /* comments never continue */
        f = parse_ok("FROM a\n# c \\\nRUN y\n");
        ck_assert_str_eq(I(f, 0)->args[0], "y");
        build_file_free(f);
}
END_TEST

START_TEST(directives)
{
        struct build_file *f = parse_ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n"
                                        "RUN dir c:\\ `\n  && echo x\n");
        ck_assert_str_eq(f->syntax, "docker/dockerfile:1");
        ck_assert_int_eq(f->escape, '`');
        ck_assert_str_eq(I(f, 0)->args[0], "dir c:\\   && echo x");
        build_file_free(f);
        /* case-insensitive, blanks allowed */
        f = parse_ok("#  ESCAPE = `  \nFROM a\n");
        ck_assert_int_eq(f->escape, '`');
        build_file_free(f);
        /* after a blank line, a comment, an unknown directive or an
         * instruction, "# escape=" is a plain comment */
        static const char *const late[] = {
            "\n# escape=`\nFROM a\nRUN a \\\n b\n",
            "# hello\n# escape=`\nFROM a\nRUN a \\\n b\n",
            "# foo=bar\n# escape=`\nFROM a\nRUN a \\\n b\n",
            "FROM a\n# escape=`\nRUN a \\\n b\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(late); i++) {
                f = parse_ok(late[i]);
                ck_assert_int_eq(f->escape, '\\');
                ck_assert_str_eq(I(f, 0)->args[0], "a  b");
                build_file_free(f);
        }
        parse_bad("# escape=x\nFROM a\n", "invalid escape token 'x' does not match ` or \\");
        parse_bad("# escape=`\n# escape=\\\nFROM a\n",
                  "only one escape parser directive can be used");
}
END_TEST

START_TEST(json_forms)
{
        struct build_file *f =
            parse_ok("FROM a\nCMD [ \"a\" , \"b c\" ]\nCMD ['a']\nENTRYPOINT [\"x\"] y\n"
                     "RUN []\nRUN [\"echo\", \"\\u00e9\\n\"]\nCMD\nRUN [not json\n");
        ck_assert_int_eq(I(f, 0)->form, BUILD_FORM_EXEC);
        ck_assert_str_eq(I(f, 0)->args[1], "b c");
        /* invalid JSON silently becomes the shell form */
        ck_assert_int_eq(I(f, 1)->form, BUILD_FORM_SHELL);
        ck_assert_str_eq(I(f, 1)->args[0], "['a']");
        ck_assert_int_eq(I(f, 2)->form, BUILD_FORM_SHELL);
        ck_assert_str_eq(I(f, 2)->args[0], "[\"x\"] y");
        ck_assert_int_eq(I(f, 3)->form, BUILD_FORM_EXEC);
        ck_assert_uint_eq(I(f, 3)->n_args, 0);
        ck_assert_str_eq(I(f, 4)->args[1], "\xc3\xa9\n");
        ck_assert_int_eq(I(f, 5)->form, BUILD_FORM_NONE);
        ck_assert_int_eq(I(f, 6)->form, BUILD_FORM_SHELL);
        build_file_free(f);
        parse_bad("FROM a\nCMD [\"a\", 1]\n",
                  "dockerfile parse error line 2: when using JSON array syntax, arrays must be "
                  "comprised of strings only");
        parse_bad("FROM a\n\nENTRYPOINT [[\"a\"]]\n",
                  "dockerfile parse error line 3: when using JSON array syntax, arrays must be "
                  "comprised of strings only");
        f = parse_ok("FROM a\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\n");
        ck_assert_uint_eq(I(f, 0)->n_args, 4);
        build_file_free(f);
        parse_bad("FROM a\nSHELL /bin/bash -c\n",
                  "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form");
        parse_bad("FROM a\nSHELL []\n",
                  "dockerfile parse error line 2: SHELL requires at least one argument");
}
END_TEST

START_TEST(from_and_stages)
{
        struct build_file *f = parse_ok("ARG V=1\nARG W\nFROM --platform=linux/arm64 alpine:$V AS "
                                        "b1\nFROM b1\nFROM scratch as Final\n");
        ck_assert_uint_eq(f->n_meta_args, 2);
        ck_assert_str_eq(f->meta_args[0].kv[0].key, "V");
        ck_assert_str_eq(f->meta_args[0].kv[0].value, "1");
        ck_assert_ptr_null(f->meta_args[1].kv[0].value);
        ck_assert_uint_eq(f->n_stages, 3);
        ck_assert_str_eq(f->stages[0].platform, "linux/arm64");
        ck_assert_str_eq(f->stages[0].base, "alpine:$V");
        ck_assert_str_eq(f->stages[0].name, "b1");
        ck_assert_ptr_null(f->stages[1].platform);
        ck_assert_str_eq(f->stages[2].name, "final");
        ck_assert_int_eq(build_file_stage_index(f, "B1", 3), 0);
        ck_assert_int_eq(build_file_stage_index(f, "FINAL", 3), 2);
        ck_assert_int_eq(build_file_stage_index(f, "final", 2), -1);
        ck_assert_int_eq(build_file_stage_index(f, "1", 3), 1);
        ck_assert_int_eq(build_file_stage_index(f, "1", 1), -1);
        ck_assert_int_eq(build_file_stage_index(f, "nope", 3), -1);
        build_file_free(f);
        parse_bad("FROM a b\n",
                  "dockerfile parse error line 1: FROM requires either one or three arguments");
        parse_bad("FROM\n",
                  "dockerfile parse error line 1: FROM requires either one or three arguments");
        parse_bad("FROM a IS b\n",
                  "dockerfile parse error line 1: FROM requires either one or three arguments");
        parse_bad("FROM a AS 1x\n",
                  "dockerfile parse error line 1: invalid name for build stage: \"1x\", name can't "
                  "start with a number or contain symbols");
        parse_bad("FROM a AS b$c\n",
                  "dockerfile parse error line 1: invalid name for build stage: \"b$c\", name "
                  "can't start with a number or contain symbols");
        parse_bad("FROM a AS x\nFROM b AS X\n",
                  "dockerfile parse error line 2: x stage name already used");
        parse_bad("FROM a --platform=x\n",
                  "dockerfile parse error line 1: FROM requires either one or three arguments");
}
END_TEST

START_TEST(no_stage_and_empty)
{
        parse_bad("RUN x\n", "dockerfile parse error line 1: no build stage in current context");
        parse_bad("ARG a\n\nENV b=1\nFROM c\n",
                  "dockerfile parse error line 3: no build stage in current context");
        parse_bad("", "the Dockerfile (Dockerfile) cannot be empty");
        struct berth_err e = {0};
        struct build_file *f = NULL;
        ck_assert_int_eq(build_parse("", 0, "Dockerfile.dev", &f, &e), -EINVAL);
        ck_assert_str_eq(e.msg, "the Dockerfile (Dockerfile.dev) cannot be empty");
        parse_bad("# only\n\n   \n# comments\n",
                  "failed to parse Dockerfile: file with no instructions");
        parse_bad("ARG a=1\n", "No image was generated. Is your Dockerfile empty?");
        parse_bad("FROM a\nFOO bar\n", "dockerfile parse error line 2: unknown instruction: FOO");
        parse_bad("from a\n\n\nhello world\n",
                  "dockerfile parse error line 4: unknown instruction: HELLO");
        parse_bad("FROM a\nRUN a\\\n  b\nfoo\n",
                  "dockerfile parse error line 4: unknown instruction: FOO");
}
END_TEST

START_TEST(env_label_arg)
{
        struct build_file *f =
            parse_ok("FROM a\nENV a=1 b=\"x y\" c=z\\ w d=\nENV ONE TWO= THREE=world\n"
                     "LABEL \"com.x\"=\"v 1\" k=v\nLABEL legacy  some value\nARG x=1 y\n"
                     "ENV e='it''s' f=$a\n");
        const struct build_instr *in = I(f, 0);
        ck_assert_int_eq(in->form, BUILD_FORM_KV);
        ck_assert_uint_eq(in->n_kv, 4);
        ck_assert_str_eq(in->kv[0].key, "a");
        ck_assert_str_eq(in->kv[0].value, "1");
        ck_assert_str_eq(in->kv[1].value, "\"x y\"");
        ck_assert_str_eq(in->kv[2].value, "z\\ w");
        ck_assert_str_eq(in->kv[3].value, "");
        /* the legacy form takes the rest of the line */
        in = I(f, 1);
        ck_assert_uint_eq(in->n_kv, 1);
        ck_assert_str_eq(in->kv[0].key, "ONE");
        ck_assert_str_eq(in->kv[0].value, "TWO= THREE=world");
        in = I(f, 2);
        ck_assert_str_eq(in->kv[0].key, "\"com.x\"");
        ck_assert_str_eq(in->kv[0].value, "\"v 1\"");
        ck_assert_str_eq(I(f, 3)->kv[0].key, "legacy");
        ck_assert_str_eq(I(f, 3)->kv[0].value, "some value");
        in = I(f, 4);
        ck_assert_uint_eq(in->n_kv, 2);
        ck_assert_str_eq(in->kv[0].value, "1");
        ck_assert_str_eq(in->kv[1].key, "y");
        ck_assert_ptr_null(in->kv[1].value);
        ck_assert_str_eq(I(f, 5)->kv[0].value, "'it''s'");
        build_file_free(f);
        /* the escape keeps a quote outside quotes, not in single quotes */
        f = parse_ok("FROM a\nENV a='x\\' b=2\nENV c=\\\" d=1\n");
        ck_assert_uint_eq(I(f, 0)->n_kv, 2);
        ck_assert_str_eq(I(f, 0)->kv[0].value, "'x\\'");
        ck_assert_uint_eq(I(f, 1)->n_kv, 2);
        ck_assert_str_eq(I(f, 1)->kv[0].value, "\\\"");
        build_file_free(f);
        parse_bad("FROM a\nENV a\n", "dockerfile parse error line 2: ENV must have two arguments");
        parse_bad("FROM a\nENV\n",
                  "dockerfile parse error line 2: ENV requires at least one argument");
        parse_bad("FROM a\nLABEL\n",
                  "dockerfile parse error line 2: LABEL requires at least one argument");
        parse_bad("FROM a\nENV a=1 b\n",
                  "dockerfile parse error line 2: Syntax error - can't find = in \"b\". Must be "
                  "of the form: name=value");
        parse_bad("FROM a\nLABEL a=1 \"b c\"\n",
                  "dockerfile parse error line 2: Syntax error - can't find = in \"\"b c\"\". "
                  "Must be of the form: name=value");
        parse_bad("FROM a\nENV =x\n", "dockerfile parse error line 2: ENV names can not be blank");
        parse_bad("FROM a\nARG\n",
                  "dockerfile parse error line 2: ARG requires at least one argument");
        parse_bad("FROM a\nARG =1\n", "dockerfile parse error line 2: ARG names can not be blank");
}
END_TEST

START_TEST(flags)
{
        struct build_file *f =
            parse_ok("FROM a\nCOPY --from=build --chown=1:2 --chmod=755 --link a b /d/\n"
                     "RUN --mount=type=cache,target=/x --mount=\"type=tmpfs,target=/t\" "
                     "--network=none make\n"
                     "COPY --link=false --exclude=*.md --exclude=x --parents . /\n"
                     "ADD --checksum=sha256:ab --keep-git-dir --unpack=true u /\nRUN -- --x\n");
        const struct build_instr *in = I(f, 0);
        ck_assert_uint_eq(in->n_flags, 4);
        ck_assert_str_eq(build_instr_flag(in, "from")->value, "build");
        ck_assert_str_eq(build_instr_flag(in, "chown")->value, "1:2");
        ck_assert_str_eq(build_instr_flag(in, "chmod")->value, "755");
        ck_assert_str_eq(build_instr_flag(in, "link")->value, "true");
        ck_assert_int_eq(in->form, BUILD_FORM_WORDS);
        ck_assert_uint_eq(in->n_args, 3);
        ck_assert_str_eq(in->args[2], "/d/");
        in = I(f, 1);
        ck_assert_uint_eq(in->n_flags, 3);
        ck_assert_str_eq(in->flags[0].value, "type=cache,target=/x");
        ck_assert_str_eq(in->flags[1].value, "type=tmpfs,target=/t");
        ck_assert_str_eq(in->args[0], "make");
        in = I(f, 2);
        ck_assert_str_eq(build_instr_flag(in, "link")->value, "false");
        ck_assert_str_eq(in->flags[2].value, "x");
        ck_assert_str_eq(build_instr_flag(in, "parents")->value, "true");
        ck_assert_uint_eq(I(f, 3)->n_flags, 3);
        /* "--" ends the flags */
        ck_assert_uint_eq(I(f, 4)->n_flags, 0);
        ck_assert_str_eq(I(f, 4)->args[0], "--x");
        build_file_free(f);

        parse_bad("FROM a\nCOPY --foo=x a b\n", "dockerfile parse error line 2: Unknown flag: foo");
        parse_bad("FROM a\nCOPY --from a b\n",
                  "dockerfile parse error line 2: Missing a value on flag: from");
        parse_bad("FROM a\nCOPY --link= a b\n",
                  "dockerfile parse error line 2: Missing a value on flag: link");
        parse_bad(
            "FROM a\nCOPY --link=maybe a b\n",
            "dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe");
        parse_bad("FROM a\nCOPY --from=a --from=b x y\n",
                  "dockerfile parse error line 2: Duplicate flag specified: from");
        parse_bad("FROM a\nENV --x=1 a=b\n", "dockerfile parse error line 2: Unknown flag: x");
        parse_bad("FROM a\nCMD --help\n", "dockerfile parse error line 2: Unknown flag: help");
        parse_bad("FROM a\nADD --from=x a b\n",
                  "dockerfile parse error line 2: Unknown flag: from");
        parse_bad("FROM --foo=x a\n", "dockerfile parse error line 1: Unknown flag: foo");
        parse_bad("FROM a\nCOPY a\n",
                  "dockerfile parse error line 2: COPY requires at least two arguments, but only "
                  "one was provided. Destination could not be determined.");
        parse_bad("FROM a\nADD [\"a\"]\n",
                  "dockerfile parse error line 2: ADD requires at least two arguments, but only "
                  "one was provided. Destination could not be determined.");
}
END_TEST

START_TEST(simple_instructions)
{
        struct build_file *f =
            parse_ok("FROM a\nWORKDIR /a b\nUSER 1000:1000\nSTOPSIGNAL SIGKILL\n"
                     "MAINTAINER Me <me@example.com>\nEXPOSE 80  443/tcp\n"
                     "VOLUME [\"/a\", \"/b\"]\nVOLUME /c /d\nCOPY [\"a b\", \"/c\"]\n");
        ck_assert_str_eq(I(f, 0)->args[0], "/a b");
        ck_assert_uint_eq(I(f, 0)->n_args, 1);
        ck_assert_str_eq(I(f, 1)->args[0], "1000:1000");
        ck_assert_str_eq(I(f, 2)->args[0], "SIGKILL");
        ck_assert_str_eq(I(f, 3)->args[0], "Me <me@example.com>");
        ck_assert_uint_eq(I(f, 4)->n_args, 2);
        ck_assert_str_eq(I(f, 4)->args[1], "443/tcp");
        ck_assert_int_eq(I(f, 5)->form, BUILD_FORM_EXEC);
        ck_assert_uint_eq(I(f, 5)->n_args, 2);
        ck_assert_int_eq(I(f, 6)->form, BUILD_FORM_WORDS);
        ck_assert_str_eq(I(f, 6)->args[1], "/d");
        ck_assert_int_eq(I(f, 7)->form, BUILD_FORM_EXEC);
        ck_assert_str_eq(I(f, 7)->args[0], "a b");
        build_file_free(f);
        parse_bad("FROM a\nWORKDIR\n",
                  "dockerfile parse error line 2: WORKDIR requires exactly one argument");
        parse_bad("FROM a\nUSER\n",
                  "dockerfile parse error line 2: USER requires exactly one argument");
        parse_bad("FROM a\nEXPOSE\n",
                  "dockerfile parse error line 2: EXPOSE requires at least one argument");
        parse_bad("FROM a\nVOLUME\n",
                  "dockerfile parse error line 2: VOLUME requires at least one argument");
        parse_bad("FROM a\nVOLUME [\"/a\", \" \"]\n",
                  "dockerfile parse error line 2: VOLUME specified can not be an empty string");
}
END_TEST

START_TEST(onbuild)
{
        struct build_file *f =
            parse_ok("FROM a\nONBUILD RUN echo hi\nonbuild copy --from=x . /app\nONBUILD FOO x\n");
        ck_assert_str_eq(I(f, 0)->keyword, "ONBUILD");
        ck_assert_str_eq(I(f, 0)->trigger, "RUN echo hi");
        ck_assert_str_eq(I(f, 0)->trigger_keyword, "RUN");
        ck_assert_str_eq(I(f, 1)->trigger, "copy --from=x . /app");
        ck_assert_str_eq(I(f, 1)->trigger_keyword, "COPY");
        /* an unknown trigger only fails when it fires, as in Docker */
        ck_assert_str_eq(I(f, 2)->trigger_keyword, "FOO");
        build_file_free(f);
        parse_bad("FROM a\nONBUILD ONBUILD RUN x\n",
                  "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't "
                  "allowed");
        parse_bad("FROM a\nONBUILD from x\n",
                  "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger");
        parse_bad("FROM a\nONBUILD MAINTAINER x\n",
                  "dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
        parse_bad("FROM a\nONBUILD\n",
                  "dockerfile parse error line 2: ONBUILD requires at least one argument");
        parse_bad("FROM a\nONBUILD CMD [1]\n",
                  "dockerfile parse error line 2: when using JSON array syntax, arrays must be "
                  "comprised of strings only");
}
END_TEST

START_TEST(healthcheck)
{
        struct build_file *f =
            parse_ok("FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --interval=30s --timeout=1m30s "
                     "--start-period=5s --start-interval=250ms --retries=3 CMD curl -f http://x/\n"
                     "healthcheck cmd [\"/bin/check\", \"-q\"]\nHEALTHCHECK --interval=0 CMD x\n");
        ck_assert(I(f, 0)->health.none);
        const struct build_instr *in = I(f, 1);
        ck_assert(!in->health.none);
        ck_assert_int_eq(in->health.interval_ns, 30000000000ll);
        ck_assert_int_eq(in->health.timeout_ns, 90000000000ll);
        ck_assert_int_eq(in->health.start_period_ns, 5000000000ll);
        ck_assert_int_eq(in->health.start_interval_ns, 250000000ll);
        ck_assert_int_eq(in->health.retries, 3);
        ck_assert_int_eq(in->form, BUILD_FORM_SHELL);
        ck_assert_str_eq(in->args[0], "curl -f http://x/");
        ck_assert_int_eq(I(f, 2)->form, BUILD_FORM_EXEC);
        ck_assert_str_eq(I(f, 2)->args[1], "-q");
        ck_assert_int_eq(I(f, 3)->health.interval_ns, 0);
        build_file_free(f);
        parse_bad("FROM a\nHEALTHCHECK NONE x\n",
                  "dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments");
        parse_bad("FROM a\nHEALTHCHECK\n",
                  "dockerfile parse error line 2: HEALTHCHECK requires at least one argument");
        parse_bad("FROM a\nHEALTHCHECK CMD\n",
                  "dockerfile parse error line 2: Missing command after HEALTHCHECK CMD");
        parse_bad("FROM a\nHEALTHCHECK foo x\n",
                  "dockerfile parse error line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)");
        parse_bad("FROM a\nHEALTHCHECK --retries=0 CMD x\n",
                  "dockerfile parse error line 2: --retries must be at least 1 (not 0)");
        parse_bad("FROM a\nHEALTHCHECK --retries=x CMD x\n",
                  "dockerfile parse error line 2: strconv.ParseInt: parsing \"x\": invalid syntax");
        parse_bad("FROM a\nHEALTHCHECK --interval=1x CMD x\n",
                  "dockerfile parse error line 2: time: unknown unit \"x\" in duration \"1x\"");
        parse_bad("FROM a\nHEALTHCHECK --timeout=5 CMD x\n",
                  "dockerfile parse error line 2: time: missing unit in duration \"5\"");
        parse_bad("FROM a\nHEALTHCHECK --interval=100us CMD x\n",
                  "dockerfile parse error line 2: Interval \"interval\" cannot be less than 1ms");
        parse_bad("FROM a\nHEALTHCHECK --foo=1 CMD x\n",
                  "dockerfile parse error line 2: Unknown flag: foo");
}
END_TEST

START_TEST(durations)
{
        static const struct {
                const char *s;
                int64_t ns;
        } ok[] = {
            {"0", 0},
            {"1s", 1000000000ll},
            {"1.5s", 1500000000ll},
            {"1h2m3s", 3723000000000ll},
            {".5ms", 500000},
            {"10us", 10000},
            {"10\xc2\xb5s", 10000},
            {"-1m", -60000000000ll},
            {"+2ns", 2},
            {"1.s", 1000000000ll},
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                int64_t v;
                struct berth_err e = {0};
                ck_assert_msg(build_parse_duration(ok[i].s, &v, &e) == 0, "%s: %s", ok[i].s, e.msg);
                ck_assert_msg(v == ok[i].ns, "%s: %" PRId64, ok[i].s, v);
        }
        static const char *const bad[] = {"", "s", ".s", "1", "1x", "99999999999h", "1s-"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int64_t v;
                struct berth_err e = {0};
                ck_assert_msg(build_parse_duration(bad[i], &v, &e) == -EINVAL, "%s", bad[i]);
                ck_assert(startswith(e.msg, "time: "));
        }
}
END_TEST

START_TEST(heredocs)
{
        struct build_file *f = parse_ok("FROM a\nRUN <<EOF\necho hi\n  echo there\nEOF\nCMD x\n");
        const struct build_instr *in = I(f, 0);
        ck_assert_uint_eq(in->n_heredocs, 1);
        ck_assert_str_eq(in->heredocs[0].name, "EOF");
        ck_assert_str_eq(in->heredocs[0].body, "echo hi\n  echo there\n");
        ck_assert(in->heredocs[0].expand);
        ck_assert(!in->heredocs[0].strip_tabs);
        ck_assert_int_eq(in->heredocs[0].fd, -1);
        ck_assert_str_eq(in->args[0], "<<EOF");
        ck_assert_uint_eq(in->line, 2);
        ck_assert_uint_eq(in->end_line, 5);
        ck_assert_uint_eq(I(f, 1)->line, 6);
        build_file_free(f);

        /* <<- strips leading tabs (of the terminator too); quoting turns off expansion */
        f = parse_ok("FROM a\nRUN <<-EOT bash\n\techo $a\n\t\tb\n\tEOT\nRUN <<'Q' cat\n$x\nQ\n"
                     "RUN cat <<\"D\"\n\\$y\nD\n");
        ck_assert_str_eq(I(f, 0)->heredocs[0].body, "echo $a\nb\n");
        ck_assert(I(f, 0)->heredocs[0].strip_tabs);
        ck_assert(!I(f, 1)->heredocs[0].expand);
        ck_assert_str_eq(I(f, 1)->heredocs[0].name, "Q");
        ck_assert_str_eq(I(f, 2)->heredocs[0].body, "\\$y\n");
        ck_assert(!I(f, 2)->heredocs[0].expand);
        build_file_free(f);

        /* several on one line, bodies in order; comments and blank lines in a body are data */
        f = parse_ok("FROM a\nRUN cat <<A && cat 3<<B > f\na\n# not a comment\n\nA\nb\nB\nRUN y\n");
        in = I(f, 0);
        ck_assert_uint_eq(in->n_heredocs, 2);
        ck_assert_str_eq(in->heredocs[0].body, "a\n# not a comment\n\n");
        ck_assert_str_eq(in->heredocs[1].body, "b\n");
        ck_assert_int_eq(in->heredocs[1].fd, 3);
        ck_assert_str_eq(I(f, 1)->args[0], "y");
        build_file_free(f);

        /* COPY and ADD take heredocs as sources; exec-form RUN does not */
        f = parse_ok("FROM a\nCOPY <<EOF /dest\nhello\nEOF\nRUN [\"cat\", \"<<EOF\"]\n"
                     "ADD <<one <<two /d/\n1\none\n2\ntwo\n");
        ck_assert_uint_eq(I(f, 0)->n_heredocs, 1);
        ck_assert_str_eq(I(f, 0)->args[0], "<<EOF");
        ck_assert_str_eq(I(f, 0)->args[1], "/dest");
        ck_assert_uint_eq(I(f, 1)->n_heredocs, 0);
        ck_assert_uint_eq(I(f, 2)->n_heredocs, 2);
        ck_assert_str_eq(I(f, 2)->heredocs[1].body, "2\n");
        build_file_free(f);

        /* an ONBUILD trigger's bodies belong to the ONBUILD */
        f = parse_ok("FROM a\nONBUILD RUN <<EOF\nonbuild body\nEOF\nRUN x\n");
        ck_assert_str_eq(I(f, 0)->trigger, "RUN <<EOF");
        ck_assert_uint_eq(I(f, 0)->n_heredocs, 1);
        ck_assert_str_eq(I(f, 0)->heredocs[0].body, "onbuild body\n");
        ck_assert_uint_eq(I(f, 0)->end_line, 4);
        ck_assert_str_eq(I(f, 1)->args[0], "x");
        build_file_free(f);

        /* not heredocs: a<<b, <<, CMD */
        f = parse_ok("FROM a\nRUN echo a<<b\nRUN echo << x\nCMD cat <<EOF\n");
        ck_assert_uint_eq(I(f, 0)->n_heredocs, 0);
        ck_assert_uint_eq(I(f, 1)->n_heredocs, 0);
        ck_assert_uint_eq(I(f, 2)->n_heredocs, 0);
        build_file_free(f);

        parse_bad("FROM a\nRUN <<EOF\nx\n", "dockerfile parse error line 2: unterminated heredoc");
        parse_bad("FROM a\nRUN <<A <<B\nx\nA\n",
                  "dockerfile parse error line 2: unterminated heredoc");
}
END_TEST

START_TEST(line_limit)
{
        size_t n = BUILD_LINE_MAX + 1;
        char *s = xmalloc(n + 32);
        strcpy(s, "FROM a\nRUN ");
        memset(s + 11, 'x', n - 4);
        s[11 + n - 4] = 0; /* the RUN line is n bytes */
        parse_bad(s, "dockerfile parse error line 2: dockerfile line greater than max allowed size "
                     "of 65535");
        s[11 + n - 5] = 0; /* one less: fine */
        struct build_file *f = parse_ok(s);
        ck_assert_uint_eq(strlen(I(f, 0)->args[0]), n - 5);
        build_file_free(f);
        free(s);
        struct berth_err e = {0};
        ck_assert_int_eq(build_parse("FROM a\nRUN a\0b\n", 14, NULL, &f, &e), -EINVAL);
        ck_assert_str_eq(e.msg, "dockerfile parse error line 2: unexpected NUL byte");
}
END_TEST

/* --- hostile input --------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void parse_any(const char *data, size_t len)
{
        struct berth_err e = {0};
        struct build_file *f = NULL;
        int r = build_parse(data, len, NULL, &f, &e);
        if (r < 0) {
                ck_assert_int_eq(r, -EINVAL);
                ck_assert_msg(e.msg[0], "a failure without a message");
                ck_assert_ptr_null(f);
                return;
        }
        /* whatever parsed must be walkable, and expandable without a crash */
        struct build_args *a = build_args_new();
        for (size_t i = 0; i < f->n_meta_args; i++)
                build_args_meta(a, &f->meta_args[i], f->escape, &e);
        bool *needed = xzalloc(f->n_stages);
        size_t t;
        build_stages_needed(f, NULL, build_lookup_meta, a, needed, &t, &e);
        for (size_t s = 0; s < f->n_stages; s++)
                for (size_t i = 0; i < f->stages[s].n_instrs; i++) {
                        const struct build_instr *in = &f->stages[s].instrs[i];
                        ck_assert_ptr_nonnull(in->keyword);
                        ck_assert_ptr_nonnull(in->args);
                        for (size_t k = 0; k < in->n_args; k++) {
                                char *x = NULL;
                                if (build_expand_word(in->args[k], f->escape, build_lookup_stage, a,
                                                      &x, &e) == 0)
                                        free(x);
                        }
                }
        free(needed);
        build_args_free(a);
        build_file_free(f);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(hostile_long_lines)
{
        double t0 = now_s();
        /* a 1 MB physical line: refused at once */
        size_t n = 1 << 20;
        char *s = xmalloc(n + 64);
        strcpy(s, "FROM a\nRUN ");
        memset(s + 11, 'a', n);
        s[11 + n] = 0;
        parse_any(s, strlen(s));
        /* 1 MB of 60 KB continuation lines: one logical line, accepted */
        size_t at = 11, chunk = 60000;
        while (at + chunk + 3 < n) {
                memset(s + at, 'b', chunk);
                at += chunk;
                memcpy(s + at, " \\\n", 3);
                at += 3;
        }
        memcpy(s + at, "end\n", 5);
        struct build_file *f = parse_ok(s);
        ck_assert_uint_gt(strlen(I(f, 0)->args[0]), 900000);
        build_file_free(f);
        /* 1 MB of one ENV with many keys, of many heredocs, of many flags */
        struct sbuf_t {
                char *p;
                size_t len;
        } b = {xmalloc(n + 1024), 0};
#define ADD(str) (memcpy(b.p + b.len, str, strlen(str)), b.len += strlen(str))
        ADD("FROM a\nENV ");
        for (int i = 0; b.len < n; i++)
                b.len += (size_t)sprintf(b.p + b.len, "k%d=v%d \\\n", i, i);
        ADD("last=1\nRUN ");
        b.p[b.len] = 0;
        f = parse_ok(b.p);
        ck_assert_uint_gt(I(f, 0)->n_kv, 50000);
        struct build_args *a = build_args_new();
        struct berth_err e = {0};
        ck_assert_int_eq(build_args_env(a, I(f, 0), '\\', &e), 0);
        build_args_free(a);
        build_file_free(f);
        b.len = 0;
        ADD("FROM a\nRUN cat");
        for (int i = 0; b.len < 60000; i++)
                ADD(" <<E");
        ADD("\n");
        while (b.len < n)
                ADD("E\n");
        b.p[b.len] = 0;
        parse_any(b.p, b.len);
        b.len = 0;
        ADD("FROM a\nRUN");
        while (b.len < 60000)
                ADD(" --mount=type=tmpfs,target=/t");
        ADD(" x\n");
        b.p[b.len] = 0;
        parse_any(b.p, b.len);
        /* a 1 MB JSON-looking nest, through continuations: jansson's depth
         * limit refuses it, so it is the shell form */
        b.len = 0;
        ADD("FROM a\nCMD ");
        while (b.len < n) {
                for (int i = 0; i < 1000; i++)
                        ADD("[");
                ADD("\\\n");
        }
        ADD("\n");
        b.p[b.len] = 0;
        f = parse_ok(b.p);
        ck_assert_int_eq(I(f, 0)->form, BUILD_FORM_SHELL);
        build_file_free(f);
#undef ADD
        free(b.p);
        free(s);
        /* linear work: well under the test timeout even under ASan */
        ck_assert_msg(now_s() - t0 < 20, "took %.1f s", now_s() - t0);
}
END_TEST

START_TEST(hostile_many_stages)
{
        double t0 = now_s();
        size_t n = 1 << 20, len = 0;
        char *s = xmalloc(n + 128);
        for (int i = 0; len < n; i++) {
                if (i == 0)
                        len += (size_t)sprintf(s + len, "FROM a AS s0\n");
                else
                        len += (size_t)sprintf(s + len, "FROM s%d AS s%d\nCOPY --from=$X a b\n",
                                               i - 1, i);
        }
        struct build_file *f = parse_ok(s);
        ck_assert_uint_gt(f->n_stages, 20000);
        struct build_args *a = build_args_new();
        bool *needed = xzalloc(f->n_stages);
        size_t t;
        struct berth_err e = {0};
        ck_assert_int_eq(build_stages_needed(f, NULL, build_lookup_meta, a, needed, &t, &e), 0);
        ck_assert_uint_eq(t, f->n_stages - 1);
        for (size_t i = 0; i < f->n_stages; i++)
                ck_assert(needed[i]);
        free(needed);
        build_args_free(a);
        build_file_free(f);
        free(s);
        ck_assert_msg(now_s() - t0 < 20, "took %.1f s", now_s() - t0);
}
END_TEST

START_TEST(hostile_deep_nesting)
{
        /* ${a:-${a:-${a:-...}}} 100k deep: refused, no stack overflow */
        size_t depth = 100000;
        char *s = xmalloc(depth * 6 + 64);
        size_t len = (size_t)sprintf(s, "FROM a\nENV x=");
        /* physical lines stay under the limit; the logical line is 600 KB */
        s = xrealloc(s, depth * 8 + 64);
        for (size_t i = 0; i < depth; i++) {
                len += (size_t)sprintf(s + len, "${a:-");
                if (i % 1000 == 999)
                        len += (size_t)sprintf(s + len, "\\\n");
        }
        for (size_t i = 0; i < depth; i++) {
                s[len++] = '}';
                if (i % 1000 == 999)
                        len += (size_t)sprintf(s + len, "\\\n");
        }
        s[len++] = '\n';
        s[len] = 0;
        struct build_file *f = parse_ok(s);
        struct build_args *a = build_args_new();
        struct berth_err e = {0};
        ck_assert_int_eq(build_args_env(a, I(f, 0), '\\', &e), -EINVAL);
        ck_assert_str_eq(e.msg, "bad substitution: nested deeper than 64 levels");
        build_args_free(a);
        build_file_free(f);
        free(s);
}
END_TEST

START_TEST(hostile_random)
{
        static const char *const seeds[] = {
            "# escape=`\nARG B=busybox\nFROM $B AS base\nRUN echo `\n  hi\nCOPY --from=0 a b\n",
            "FROM a\nRUN <<EOF\nx\nEOF\nCMD [\"a\"]\nENV a=1 b=\"2 3\"\nONBUILD RUN x\n",
            "FROM a\nHEALTHCHECK --interval=1s CMD x\nLABEL a b\nVOLUME [\"/v\"]\nSHELL [\"sh\"]\n",
            "FROM a AS b\nFROM b\nCOPY --from=b --chown=${U:-1} . /\nRUN --mount=from=b,target=/x "
            "y\n",
        };
        static const char alphabet[] = "FROMRUNCOPY \n\t\\`$'\"{}[]:-+?<=#!,\r\x01\xff";
        char buf[4096];
        for (int iter = 0; iter < 20000; iter++) {
                size_t len;
                if (iter % 2) { /* random bytes from an alphabet that hits the syntax */
                        len = next() % sizeof(buf);
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (next() % 8) ? alphabet[next() % (sizeof(alphabet) - 1)]
                                                      : (char)next();
                } else { /* mutations of valid files */
                        const char *seed = seeds[next() % ELEMENTSOF(seeds)];
                        len = strlen(seed);
                        memcpy(buf, seed, len);
                        for (int k = 0, m = 1 + (int)(next() % 6); k < m && len; k++) {
                                size_t at = next() % len;
                                if (next() % 3 == 0 && len < sizeof(buf) - 1)
                                        memmove(buf + at + 1, buf + at, len++ - at);
                                buf[at] = alphabet[next() % (sizeof(alphabet) - 1)];
                        }
                        if (next() % 5 == 0)
                                len = next() % (len + 1);
                }
                parse_any(buf, len);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("build-parse");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, basic);
        tcase_add_test(tc, case_blanks_comments);
        tcase_add_test(tc, continuations);
        tcase_add_test(tc, directives);
        tcase_add_test(tc, json_forms);
        tcase_add_test(tc, from_and_stages);
        tcase_add_test(tc, no_stage_and_empty);
        tcase_add_test(tc, env_label_arg);
        tcase_add_test(tc, flags);
        tcase_add_test(tc, simple_instructions);
        tcase_add_test(tc, onbuild);
        tcase_add_test(tc, healthcheck);
        tcase_add_test(tc, durations);
        tcase_add_test(tc, heredocs);
        tcase_add_test(tc, line_limit);
        suite_add_tcase(s, tc);
        tc = tcase_create("hostile");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, hostile_long_lines);
        tcase_add_test(tc, hostile_many_stages);
        tcase_add_test(tc, hostile_deep_nesting);
        tcase_add_test(tc, hostile_random);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
