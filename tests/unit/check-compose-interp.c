/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compose-interp.c: the interpolation table of the Compose Specification
 * (12-interpolation.md) and compose-go's template.go; the env-file syntax. */
#include "check-main.h"
#include "compose/compose-interp.h"

#include "base/util.h"

#include <errno.h>
#include <string.h>

static json_t *test_env(void)
{
        return json_pack("{s:s,s:s,s:s,s:s}", "FOO", "foo", "EMPTY", "", "BAR", "bar", "lower",
                         "lo");
}

START_TEST(interpolation_table)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
            {"plain", "plain"},
            {"$FOO", "foo"},
            {"${FOO}", "foo"},
            {"x${FOO}y", "xfooy"},
            {"$FOO$BAR", "foobar"},
            {"$FOO-x", "foo-x"},
            {"$lower", "lo"},
            {"${UNSET}", ""},
            {"${UNSET:-def}", "def"},
            {"${EMPTY:-def}", "def"},
            {"${EMPTY-def}", ""},
            {"${UNSET-def}", "def"},
            {"${FOO:-def}", "foo"},
            {"${FOO-def}", "foo"},
            {"${FOO:+alt}", "alt"},
            {"${EMPTY:+alt}", ""},
            {"${EMPTY+alt}", "alt"},
            {"${UNSET+alt}", ""},
            {"${FOO:?err}", "foo"},
            {"${EMPTY?err}", ""},
            {"${UNSET:-${BAR}}", "bar"},
            {"${UNSET:-${UNSET2:-deep}}", "deep"},
            {"${UNSET:-a-b:c}", "a-b:c"},
            {"${UNSET:-}", ""},
            {"$$FOO", "$FOO"},
            {"$${FOO}", "${FOO}"},
            {"$$$FOO", "$foo"},
            {"a $ b", "a $ b"},
            {"cost: 5$", "cost: 5$"},
            {"$1", "$1"},
            {"$2b$12$Pg8A", "$2b$12"},
            {"${FOO}${BAR:-x}", "foobar"},
            {"${UNSET:-x} and ${BAR}", "x and bar"},
            {"{$FOO}", "{foo}"},
        };
        json_auto_t *env = test_env();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct compose_interp ip = {.env = env};
                struct berth_err err = {0};
                _cleanup_free_ char *out = NULL;
                int r = compose_interp_string(&ip, cases[i].in, &out, &err);
                ck_assert_msg(r == 0, "%s: %s", cases[i].in, err_msg(&err));
                ck_assert_msg(streq(out, cases[i].out), "%s -> '%s', want '%s'", cases[i].in, out,
                              cases[i].out);
        }
}
END_TEST

/* The cases of compose-go's template tests (FOO=first, BAR empty), as
 * behaviour to match. */
START_TEST(compose_go_cases)
{
        static const struct {
                const char *in, *out;
                int warnings;
        } ok[] = {
            {"$${foo}", "${foo}", 0},
            {"a $ string", "a $ string", 0},
            {"^REGEX$", "^REGEX$", 0},
            {"$}", "$}", 0},
            {"$", "$", 0},
            {"$FOO-bar", "first-bar", 0},
            {"This ${missing} var", "This  var", 1},
            {"This ${BAR} var", "This  var", 0},
            {"ok ${missing-def}", "ok def", 0},
            {"${A:+${A},}B", "B", 0},
            {"${A:-${B}}", "", 1},
            {"-ok ${BAR:-defaultValue}", "-ok defaultValue", 0},
            {"+ok ${UNSET:-${BAR-defaultValue}}", "+ok ", 0},
            {":-ok ${BAR-defaultValue}", ":-ok ", 0},
            {"ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first", 0},
            {"ok ${BAR+$FOO ${FOO:+second}}", "ok first second", 0},
            {"ok ${BAR?err}", "ok ", 0},
            {"${UNSET_VAR-myerror?msg}", "myerror?msg", 0},
            {"${FOO?bar-baz}", "first", 0},
        };
        json_auto_t *env = json_pack("{s:s,s:s}", "FOO", "first", "BAR", "");
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                json_auto_t *w = json_array();
                struct compose_interp ip = {.env = env, .warnings = w};
                struct berth_err err = {0};
                _cleanup_free_ char *out = NULL;
                ck_assert_msg(compose_interp_string(&ip, ok[i].in, &out, &err) == 0, "%s: %s",
                              ok[i].in, err_msg(&err));
                ck_assert_msg(streq(out, ok[i].out), "%s -> '%s'", ok[i].in, out);
                ck_assert_msg((int)json_array_size(w) == ok[i].warnings, "%s: %zu warnings",
                              ok[i].in, json_array_size(w));
        }
        static const char *const invalid[] = {"${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"};
        for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
                struct compose_interp ip = {.env = env};
                struct berth_err err = {0};
                _cleanup_free_ char *out = NULL;
                ck_assert_int_eq(compose_interp_string(&ip, invalid[i], &out, &err), -EINVAL);
                ck_assert_msg(startswith(err_msg(&err), "Invalid template: "), "%s", invalid[i]);
        }
        static const struct {
                const char *in, *msg;
        } bad[] = {
            {"not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
             "required variable UNSET_VAR is missing a value: Mandatory Variable first"},
            {"not ok ${BAR:?Mandatory Variable Empty}",
             "required variable BAR is missing a value: Mandatory Variable Empty"},
            {"not ok ${UNSET_VAR?}", "required variable UNSET_VAR is missing a value"},
            {"${UNSET_VAR?bar-baz}", "required variable UNSET_VAR is missing a value: bar-baz"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct compose_interp ip = {.env = env};
                struct berth_err err = {0};
                _cleanup_free_ char *out = NULL;
                ck_assert_int_eq(compose_interp_string(&ip, bad[i].in, &out, &err), -ENOENT);
                ck_assert_str_eq(err_msg(&err), bad[i].msg);
        }
}
END_TEST

START_TEST(interpolation_errors)
{
        static const struct {
                const char *in, *msg;
                int code;
        } cases[] = {
            {"${UNSET:?need it}", "required variable UNSET is missing a value: need it", -ENOENT},
            {"${EMPTY:?}", "required variable EMPTY is missing a value", -ENOENT},
            {"${UNSET?no $FOO}", "required variable UNSET is missing a value: no foo", -ENOENT},
            {"${}", "Invalid template: \"${}\"", -EINVAL},
            {"a ${FOO", "Invalid template: \"a ${FOO\"", -EINVAL},
            {"${FOO BAR}", "Invalid template: \"${FOO BAR}\"", -EINVAL},
            {"${FOO:x}", "Invalid template: \"${FOO:x}\"", -EINVAL},
            {"${9A}", "Invalid template: \"${9A}\"", -EINVAL},
            {"${FOO/a/b}", "Invalid template: \"${FOO/a/b}\"", -EINVAL},
        };
        json_auto_t *env = test_env();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct compose_interp ip = {.env = env};
                struct berth_err err = {0};
                _cleanup_free_ char *out = NULL;
                int r = compose_interp_string(&ip, cases[i].in, &out, &err);
                ck_assert_msg(r == cases[i].code, "%s: %d", cases[i].in, r);
                ck_assert_str_eq(err_msg(&err), cases[i].msg);
        }
}
END_TEST

START_TEST(unset_warnings)
{
        json_auto_t *env = test_env();
        json_auto_t *w = json_array();
        struct compose_interp ip = {.env = env, .warnings = w};
        struct berth_err err = {0};
        _cleanup_free_ char *out = NULL;
        ck_assert_int_eq(
            compose_interp_string(&ip, "$NOPE ${NOPE} ${ALSO} ${DEF:-x} ${ALT:+y}", &out, &err), 0);
        ck_assert_str_eq(out, "   x ");
        ck_assert_int_eq(json_array_size(w), 2);
        ck_assert_str_eq(json_string_value(json_array_get(w, 0)),
                         "The \"NOPE\" variable is not set. Defaulting to a blank string.");
        ck_assert_str_eq(json_string_value(json_array_get(w, 1)),
                         "The \"ALSO\" variable is not set. Defaulting to a blank string.");
}
END_TEST

START_TEST(tree)
{
        json_auto_t *env =
            json_pack("{s:s,s:s,s:s,s:s}", "P", "8080", "N", "3", "B", "yes", "IMG", "nginx");
        json_auto_t *doc = json_loads(
            "{\"services\":{\"web\":{\"image\":\"${IMG}:1\",\"ports\":[{\"target\":\"${P}\"},"
            "\"${P}:80\"],\"deploy\":{\"replicas\":\"${N}\"},\"tty\":\"${B}\","
            "\"labels\":{\"$$KEY\":\"$$v\"},\"cpus\":\"0.${N}\"}}}",
            0, NULL);
        struct compose_interp ip = {.env = env};
        struct berth_err err = {0};
        ck_assert_int_eq(compose_interp_tree(&ip, doc, NULL, &err), 0);
        _cleanup_free_ char *s = json_dumps(doc, JSON_COMPACT);
        /* keys are never interpolated; typed paths are re-typed */
        ck_assert_str_eq(s, "{\"services\":{\"web\":{\"image\":\"nginx:1\",\"ports\":[{\"target\":"
                            "8080},\"8080:80\"],\"deploy\":{\"replicas\":3},\"tty\":true,"
                            "\"labels\":{\"$$KEY\":\"$v\"},\"cpus\":0.29999999999999999}}}");
}
END_TEST

START_TEST(tree_errors)
{
        const char *text = "services:\n  web:\n    image: ${IMG:?set IMG}\n    ports:\n"
                           "      - target: ${P}\n";
        json_t *doc = NULL;
        struct compose_marks *m = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_yaml_parse("compose.yaml", text, strlen(text), &doc, &m, &err), 0);
        json_auto_t *env = json_pack("{s:s}", "P", "eighty");
        struct compose_interp ip = {.env = env};
        ck_assert_int_eq(compose_interp_tree(&ip, doc, m, &err), -ENOENT);
        ck_assert_str_eq(err_msg(&err), "compose.yaml:3: error while interpolating "
                                        "services.web.image: required variable IMG is missing a "
                                        "value: set IMG");
        json_object_set_new(env, "IMG", json_string("x"));
        err_clear(&err);
        ck_assert_int_lt(compose_interp_tree(&ip, doc, m, &err), 0);
        ck_assert_str_eq(err_msg(&err),
                         "compose.yaml:5: error while interpolating services.web.ports.[].target: "
                         "failed to cast to expected type: strconv.ParseInt: parsing \"eighty\": "
                         "invalid syntax");
        json_decref(doc);
        compose_marks_free(m);

        text = "services:\n  web:\n    image: \"${IMG\"\n";
        ck_assert_int_eq(compose_yaml_parse("c.yaml", text, strlen(text), &doc, &m, &err), 0);
        ck_assert_int_eq(compose_interp_tree(&ip, doc, m, &err), -EINVAL);
        ck_assert_str_eq(err_msg(&err), "c.yaml:3: invalid interpolation format for "
                                        "services.web.image.\nYou may need to escape any $ with "
                                        "another $.\n${IMG");
        json_decref(doc);
        compose_marks_free(m);
}
END_TEST

START_TEST(env_file_syntax)
{
        const char *text = "# a comment\n"
                           "A=1\n"
                           "export B=two\n"
                           "C = spaced  \n"
                           "D=x #comment\n"
                           "E=x#notcomment\n"
                           "F=\"dq \\\"esc\\\" \\n nl \\t tab \\\\ $A ${B}\"\n"
                           "G='sq \\n $A ${B}'\n"
                           "H=\"multi\n"
                           "line\"\n"
                           "I=\n"
                           "J: yamlish\n"
                           "K=${A}-$B-${NOPE:-d}\n"
                           "INHERITED\n"
                           "MISSING\n"
                           "L=\"quoted\" # trailing comment\n"
                           "M=a=b=c\n"
                           "  N=indented\n"
                           "O=\\$notvar\n"
                           "P=\"\\$notvar\"\n"
                           "Q=$$lit\n"
                           "  # indented comment\n";
        json_auto_t *lookup = json_pack("{s:s,s:s}", "INHERITED", "from-shell", "A", "shell-A");
        json_auto_t *out = json_object();
        struct berth_err err = {0};
        ck_assert_int_eq(compose_env_parse(".env", text, lookup, out, &err), 0);
        static const char *const want[][2] = {
            {"A", "1"},
            {"B", "two"},
            {"C", "spaced"},
            {"D", "x"},
            {"E", "x#notcomment"},
            {"F", "dq \"esc\" \n nl \t tab \\ shell-A two"},
            {"G", "sq \\n $A ${B}"},
            {"H", "multi\nline"},
            {"I", ""},
            {"J", "yamlish"},
            {"K", "shell-A-two-d"},
            {"INHERITED", "from-shell"},
            {"L", "quoted"},
            {"M", "a=b=c"},
            {"N", "indented"},
            {"O", "\\"},
            {"P", "$notvar"},
            {"Q", "$lit"},
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                const char *v = json_string_value(json_object_get(out, want[i][0]));
                ck_assert_msg(v && streq(v, want[i][1]), "%s = '%s', want '%s'", want[i][0],
                              v ?: "(unset)", want[i][1]);
        }
        ck_assert_ptr_null(json_object_get(out, "MISSING"));
        json_auto_t *bom = json_object();
        ck_assert_int_eq(compose_env_parse(".env",
                                           "\xef\xbb\xbf"
                                           "A=1\nB=2\n",
                                           NULL, bom, &err),
                         0);
        _cleanup_free_ char *bs = json_dumps(bom, JSON_COMPACT);
        ck_assert_str_eq(bs, "{\"A\":\"1\",\"B\":\"2\"}");
}
END_TEST

START_TEST(env_file_errors)
{
        static const struct {
                const char *text, *msg;
        } cases[] = {
            {"A=1\nB C=2\n", "failed to read .env: line 2: key cannot contain a space"},
            {"A=1\nB$=2\n",
             "failed to read .env: line 2: unexpected character \"$\" in variable name \"B$=2\""},
            {"A=\"open\n", "failed to read .env: line 1: unterminated quoted value \"open"},
            {"A=${B:?need B}\n", "failed to read .env: required variable B is missing a value: "
                                 "need B"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_auto_t *out = json_object();
                struct berth_err err = {0};
                ck_assert_int_lt(compose_env_parse(".env", cases[i].text, NULL, out, &err), 0);
                ck_assert_str_eq(err_msg(&err), cases[i].msg);
        }
        json_auto_t *out = json_object();
        struct berth_err err = {0};
        ck_assert_int_eq(compose_env_read("/nonexistent/.env", NULL, false, out, &err), -ENOENT);
        ck_assert_str_eq(err_msg(&err), "couldn't find env file: /nonexistent/.env");
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-interp");
        TCase *tc = tcase_create("all");
        tcase_add_test(tc, interpolation_table);
        tcase_add_test(tc, compose_go_cases);
        tcase_add_test(tc, interpolation_errors);
        tcase_add_test(tc, unset_warnings);
        tcase_add_test(tc, tree);
        tcase_add_test(tc, tree_errors);
        tcase_add_test(tc, env_file_syntax);
        tcase_add_test(tc, env_file_errors);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
