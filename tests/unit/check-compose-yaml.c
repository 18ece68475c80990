/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compose-yaml.c: scalars typed as go-yaml v3 types them, anchors, "<<"
 * merge keys, tags, marks, syntax errors; and the writer's block YAML as
 * `docker compose config` prints it. */
#include "check-main.h"
#include "compose/compose-yaml.h"

#include "base/util.h"

#include <errno.h>
#include <string.h>

static json_t *parse(const char *text)
{
        json_t *doc = NULL;
        struct berth_err err = {0};
        int r = compose_yaml_parse("t.yaml", text, strlen(text), &doc, NULL, &err);
        ck_assert_msg(r == 0, "%s", err_msg(&err));
        return doc;
}

static void assert_json(const json_t *v, const char *expect)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ck_assert_str_eq(s, expect);
}

START_TEST(scalars)
{
        json_auto_t *d = parse("a: yes\nb: true\nc: 010\nd: 0x1F\ne: 1.5\nf: ~\ng: \"1\"\n"
                               "h: 1_000\ni: !!str 5\nj:\nk: NULL\nl: 'true'\nm: off\nn: -7\n"
                               "o: 0o17\np: 1e3\nq: 12:30\nr: False\ns: .5\nt: 2001-01-01\n");
        assert_json(d, "{\"a\":\"yes\",\"b\":true,\"c\":8,\"d\":31,\"e\":1.5,\"f\":null,"
                       "\"g\":\"1\",\"h\":1000,\"i\":\"5\",\"j\":null,\"k\":null,\"l\":\"true\","
                       "\"m\":\"off\",\"n\":-7,\"o\":15,\"p\":1000.0,\"q\":\"12:30\","
                       "\"r\":false,\"s\":0.5,\"t\":\"2001-01-01\"}");
}
END_TEST

START_TEST(anchors_and_merge_keys)
{
        json_auto_t *d = parse("x-base: &base\n  image: busybox\n  restart: always\n"
                               "x-more: &more\n  restart: 'no'\n  tty: true\n"
                               "services:\n"
                               "  a:\n    <<: *base\n    restart: on-failure\n"
                               "  b:\n    <<: [*more, *base]\n"
                               "  c:\n    environment: &env {A: 1}\n    labels: *env\n");
        json_t *s = json_object_get(d, "services");
        assert_json(json_object_get(s, "a"), "{\"restart\":\"on-failure\",\"image\":\"busybox\"}");
        /* the first mapping of the list wins over the later ones */
        assert_json(json_object_get(s, "b"),
                    "{\"restart\":\"no\",\"tty\":true,\"image\":\"busybox\"}");
        assert_json(json_object_get(s, "c"), "{\"environment\":{\"A\":1},\"labels\":{\"A\":1}}");
        /* an alias is a copy */
        ck_assert_ptr_ne(json_object_get(json_object_get(s, "c"), "environment"),
                         json_object_get(json_object_get(s, "c"), "labels"));
}
END_TEST

START_TEST(tags)
{
        json_auto_t *d = parse("a: !reset []\nb: !override\n  - x\nc: !reset null\n");
        assert_json(d, "{\"a\":{\"\\u0001reset\":[]},\"b\":{\"\\u0001override\":[\"x\"]},"
                       "\"c\":{\"\\u0001reset\":null}}");
}
END_TEST

START_TEST(marks)
{
        const char *text = "services:\n  web:\n    image: nginx\n    ports:\n      - 80\n";
        json_t *doc = NULL;
        struct compose_marks *m = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_yaml_parse("c.yaml", text, strlen(text), &doc, &m, &err), 0);
        json_t *web = json_object_get(json_object_get(doc, "services"), "web");
        ck_assert_int_eq(compose_marks_line(m, web), 3);
        ck_assert_int_eq(compose_marks_line(m, json_object_get(web, "image")), 3);
        ck_assert_int_eq(compose_marks_line(m, json_array_get(json_object_get(web, "ports"), 0)),
                         5);
        ck_assert_str_eq(compose_marks_file(m), "c.yaml");
        json_decref(doc);
        compose_marks_free(m);
}
END_TEST

START_TEST(errors)
{
        static const struct {
                const char *text, *msg;
        } cases[] = {
            {"services:\n  a:\n    image: [a\n",
             "t.yaml:4:1: did not find expected ',' or ']' while parsing a flow sequence"},
            {"a: 1\na: 2\n", "t.yaml:2: mapping key \"a\" already defined at line 1"},
            {"a: *nope\n", "t.yaml:1: unknown anchor 'nope' referenced"},
            {"a: b\n---\nc: d\n", "t.yaml:2: only one YAML document is supported"},
            {"a:\n  <<: 5\n", "t.yaml:2: map merge requires map or sequence of maps as the value"},
            {"a: \"x\n", "t.yaml:2:1: found unexpected end of stream while scanning a quoted "
                         "scalar"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *doc = NULL;
                struct berth_err err = {0};
                int r = compose_yaml_parse("t.yaml", cases[i].text, strlen(cases[i].text), &doc,
                                           NULL, &err);
                ck_assert_int_lt(r, 0);
                ck_assert_str_eq(err_msg(&err), cases[i].msg);
        }
}
END_TEST

START_TEST(hostile)
{
        /* alias expansion is bounded */
        char *bomb = xstrdup("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for (char c = 'b'; c <= 'h'; c++) {
                char *n =
                    xasprintf("%s%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", bomb, c, c,
                              c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
                free(bomb);
                bomb = n;
        }
        json_t *doc = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_yaml_parse("t.yaml", bomb, strlen(bomb), &doc, NULL, &err),
                         -E2BIG);
        ck_assert_str_eq(err_msg(&err), "t.yaml:5: compose file exceeds maximum node visit limit "
                                        "(100000)");
        free(bomb);
        /* nesting is bounded */
        char deep[2001];
        memset(deep, '[', 1000);
        memset(deep + 1000, ']', 1000);
        deep[2000] = 0;
        ck_assert_int_lt(compose_yaml_parse("t.yaml", deep, strlen(deep), &doc, NULL, &err), 0);
        /* every prefix of a document parses or fails cleanly */
        const char *text = "x-a: &a {k: [1, \"two\", {t: !reset null}]}\nservices:\n  w:\n"
                           "    <<: *a\n    command: |\n      sh -c 'x'\n    env: {A: ~}\n";
        for (size_t n = 0; n <= strlen(text); n++) {
                struct compose_marks *m = NULL;
                doc = NULL;
                if (compose_yaml_parse("t.yaml", text, n, &doc, &m, &err) == 0) {
                        json_decref(doc);
                        compose_marks_free(m);
                }
        }
}
END_TEST

START_TEST(documents)
{
        const char *text = "a: &x 1\nb: *x\n---\n---\nc: 2\n";
        json_t *docs = NULL;
        struct compose_marks *m = NULL;
        struct berth_err err = {0};
        ck_assert_int_eq(compose_yaml_parse_all("t.yaml", text, strlen(text), &docs, &m, &err), 0);
        assert_json(docs, "[{\"a\":1,\"b\":1},null,{\"c\":2}]");
        ck_assert_int_eq(compose_marks_line(m, json_object_get(json_array_get(docs, 2), "c")), 5);
        json_decref(docs);
        compose_marks_free(m);
        /* anchors end with their document */
        text = "a: &x 1\n---\nb: *x\n";
        ck_assert_int_lt(compose_yaml_parse_all("t.yaml", text, strlen(text), &docs, NULL, &err),
                         0);
        ck_assert_str_eq(err_msg(&err), "t.yaml:3: unknown anchor 'x' referenced");
}
END_TEST

static char *write_str(const json_t *v)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct berth_err err = {0};
        ck_assert_int_eq(compose_yaml_write(v, f, &err), 0);
        fclose(f);
        return buf;
}

START_TEST(writer)
{
        json_auto_t *v = json_loads(
            "{\"name\":\"demo\",\"services\":{\"web\":{\"command\":[\"echo\",\"a: b\",\"yes\","
            "\"8080\",\"\",\"- x\",\"#c\",\"x #y\",\"it's\",\"tab\\there\",\"null\",\"1.5\","
            "\"0x1F\",\"12:30\",\"-\",\"a:b\",\"@x\",\" lead\"],"
            "\"ports\":[{\"mode\":\"ingress\",\"target\":80,\"published\":\"8080\","
            "\"protocol\":\"tcp\"}],\"environment\":{\"A\":\"1\",\"B\":null,\"8\":\"x\"},"
            "\"tty\":true,\"cpus\":0.5,\"networks\":{\"default\":null},\"labels\":{},"
            "\"dns\":[],\"entrypoint\":\"line1\\nline2\\n\",\"healthcheck\":{\"test\":"
            "[\"CMD\",\"true\"]},\"x\":[[1,2],{}]}},\"networks\":{\"default\":{\"name\":"
            "\"demo_default\"}}}",
            0, NULL);
        ck_assert_ptr_nonnull(v);
        _cleanup_free_ char *s = write_str(v);
        ck_assert_str_eq(s, "name: demo\n"
                            "services:\n"
                            "  web:\n"
                            "    command:\n"
                            "      - echo\n"
                            "      - 'a: b'\n"
                            "      - \"yes\"\n"
                            "      - \"8080\"\n"
                            "      - \"\"\n"
                            "      - '- x'\n"
                            "      - '#c'\n"
                            "      - 'x #y'\n"
                            "      - it's\n"
                            "      - \"tab\\there\"\n"
                            "      - \"null\"\n"
                            "      - \"1.5\"\n"
                            "      - \"0x1F\"\n"
                            "      - \"12:30\"\n"
                            "      - '-'\n"
                            "      - a:b\n"
                            "      - '@x'\n"
                            "      - ' lead'\n"
                            "    ports:\n"
                            "      - mode: ingress\n"
                            "        target: 80\n"
                            "        published: \"8080\"\n"
                            "        protocol: tcp\n"
                            "    environment:\n"
                            "      A: \"1\"\n"
                            "      B: null\n"
                            "      \"8\": x\n"
                            "    tty: true\n"
                            "    cpus: 0.5\n"
                            "    networks:\n"
                            "      default: null\n"
                            "    labels: {}\n"
                            "    dns: []\n"
                            "    entrypoint: |\n"
                            "      line1\n"
                            "      line2\n"
                            "    healthcheck:\n"
                            "      test:\n"
                            "        - CMD\n"
                            "        - \"true\"\n"
                            "    x:\n"
                            "      - - 1\n"
                            "        - 2\n"
                            "      - {}\n"
                            "networks:\n"
                            "  default:\n"
                            "    name: demo_default\n");
        /* what it writes reads back as the same tree */
        json_auto_t *back = parse(s);
        ck_assert(json_equal(back, v));
}
END_TEST

START_TEST(round_trip_strings)
{
        static const char *const strs[] = {
            "plain", "with space",  "trailing ", "a\nb",       "a\nb\n", "a\n\n", "\"q\"",
            "'s'",   "back\\slash", "ü nicode",  "key: value", "[x]",    "{y}",   "*star",
            "&amp",  "!bang",       "|pipe",     ">gt",        "%pct",   "`tick", "~",
            "Yes",   "ON",          "-1",        "+1",         "1e5",    "0b101", ".inf",
            "<<",    "a\tb",        "\x01ctl",   "---",        "...x",   "x\n y", "x \n"};
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
                json_auto_t *v = json_pack("{s:s}", "k", strs[i]);
                _cleanup_free_ char *s = write_str(v);
                json_auto_t *back = parse(s);
                ck_assert_msg(json_equal(back, v), "%zu: %s -> %s", i, strs[i], s);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("compose-yaml");
        TCase *tc = tcase_create("all");
        tcase_add_test(tc, scalars);
        tcase_add_test(tc, anchors_and_merge_keys);
        tcase_add_test(tc, tags);
        tcase_add_test(tc, marks);
        tcase_add_test(tc, errors);
        tcase_add_test(tc, documents);
        tcase_add_test(tc, hostile);
        tcase_add_test(tc, writer);
        tcase_add_test(tc, round_trip_strings);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
