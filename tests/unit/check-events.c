/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event bus: since/until replay from the ring, in order, filters,
 * the legacy fields, and a ring that wrapped. */
#include "check-main.h"
#include "base/filters.h"
#include "base/events.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

/* The events between since and until, as "Type Action ID" lines. */
static char *collect(int64_t since, int64_t until, const char *filters)
{
        json_t *f = NULL;
        struct berth_err err = {0};
        if (filters)
                ck_assert_int_eq(filters_parse(filters, NULL, &f, &err), 0);
        char path[] = "/tmp/check-events-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        unlink(path);
        ck_assert_int_eq(events_stream(since, until, f, fd, -1), 0);
        json_decref(f);
        lseek(fd, 0, SEEK_SET);
        char *out = xstrdup("");
        FILE *fp = fdopen(fd, "r");
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, fp) > 0) {
                json_error_t je;
                json_t *e = json_loads(line, 0, &je);
                ck_assert_ptr_nonnull(e);
                char *n = xasprintf("%s%s %s %s\n", out, json_get_str(e, "Type", ""),
                                    json_get_str(e, "Action", ""),
                                    json_get_str(json_object_get(e, "Actor"), "ID", ""));
                free(out);
                out = n;
                json_decref(e);
        }
        free(line);
        fclose(fp);
        return out;
}

START_TEST(test_replay_and_filters)
{
        int64_t t0 = now_ns();
        json_t *rec = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "Id", "c1", "Name", "/web",
                                "Config", "Image", "busybox", "Labels", "team", "blue");
        events_container(rec, "create", NULL);
        events_container(rec, "start", NULL);
        events_container(rec, "exec_start: sh -c true", NULL);
        events_container(rec, "die", json_pack("{s:s}", "exitCode", "3"));
        events_emit("image", "tag", "sha256:abc", json_pack("{s:s}", "name", "x:1"));
        json_decref(rec);
        int64_t t1 = now_ns();

        _cleanup_free_ char *all = collect(t0, t1, NULL);
        ck_assert_str_eq(all, "container create c1\ncontainer start c1\n"
                              "container exec_start: sh -c true c1\ncontainer die c1\n"
                              "image tag sha256:abc\n");
        _cleanup_free_ char *img = collect(t0, t1, "{\"type\":[\"image\"]}");
        ck_assert_str_eq(img, "image tag sha256:abc\n");
        _cleanup_free_ char *ev = collect(t0, t1, "{\"event\":[\"exec_start\",\"die\"]}");
        ck_assert_str_eq(ev, "container exec_start: sh -c true c1\ncontainer die c1\n");
        _cleanup_free_ char *byname =
            collect(t0, t1, "{\"container\":[\"web\"],\"event\":[\"start\"]}");
        ck_assert_str_eq(byname, "container start c1\n");
        _cleanup_free_ char *lab =
            collect(t0, t1, "{\"label\":{\"team=blue\":true},\"event\":[\"create\"]}");
        ck_assert_str_eq(lab, "container create c1\n");
        _cleanup_free_ char *nolab = collect(t0, t1, "{\"label\":[\"team=red\"]}");
        ck_assert_str_eq(nolab, "");
        _cleanup_free_ char *byimage =
            collect(t0, t1, "{\"image\":[\"busybox\"],\"event\":[\"die\"]}");
        ck_assert_str_eq(byimage, "container die c1\n");
        /* until before the events: nothing */
        _cleanup_free_ char *none = collect(t0 - 2000000000, t0 - 1000000000, NULL);
        ck_assert_str_eq(none, "");
}
END_TEST

START_TEST(test_shape)
{
        int64_t t0 = now_ns();
        json_t *rec = json_pack("{s:s, s:s, s:{s:s}}", "Id", "c2", "Name", "/db", "Config", "Image",
                                "busybox");
        events_container(rec, "die", json_pack("{s:s}", "exitCode", "0"));
        json_decref(rec);
        char path[] = "/tmp/check-events-XXXXXX";
        int fd = mkstemp(path);
        unlink(path);
        ck_assert_int_eq(events_stream(t0, now_ns(), NULL, fd, -1), 0);
        lseek(fd, 0, SEEK_SET);
        char buf[2048] = {0};
        ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
        close(fd);
        json_error_t je;
        json_t *e = json_loads(buf, JSON_DISABLE_EOF_CHECK, &je);
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(json_get_str(e, "status", ""), "die");
        ck_assert_str_eq(json_get_str(e, "id", ""), "c2");
        ck_assert_str_eq(json_get_str(e, "from", ""), "busybox");
        ck_assert_str_eq(json_get_str(e, "scope", ""), "local");
        json_t *attrs = json_object_get(json_object_get(e, "Actor"), "Attributes");
        ck_assert_str_eq(json_get_str(attrs, "name", ""), "db");
        ck_assert_str_eq(json_get_str(attrs, "exitCode", ""), "0");
        ck_assert_int_eq(json_get_int(e, "time", 0), json_get_int(e, "timeNano", 0) / 1000000000);
        json_decref(e);
}
END_TEST

START_TEST(test_ring_wraps)
{
        int64_t t0 = now_ns();
        for (int i = 0; i < EVENTS_RING + 10; i++) {
                char id[16];
                snprintf(id, sizeof(id), "n%d", i);
                events_emit("network", "create", id, NULL);
        }
        _cleanup_free_ char *all = collect(t0, now_ns(), NULL);
        size_t lines = 0;
        for (char *p = all; *p; p++)
                lines += *p == '\n';
        ck_assert_uint_eq(lines, EVENTS_RING); /* the oldest are gone */
        ck_assert(strstr(all, "network create n10\n") == all);
}
END_TEST

/* Large events wrap the ring's bytes before its slots: the replay has the
 * newest whole, in order, and as many as fit in its bytes (a 4 KiB
 * attribute each: about 64 in 256 KiB), never a cut or mixed line. */
START_TEST(test_ring_bytes_wrap)
{
        char big[4096];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        int64_t t0 = now_ns();
        for (int i = 0; i < 300; i++) {
                char id[16];
                snprintf(id, sizeof(id), "v%d", i);
                events_emit("volume", "create", id, json_pack("{s:s}", "big", big));
        }
        _cleanup_free_ char *all = collect(t0, now_ns(), NULL);
        size_t lines = 0;
        for (char *p = all; *p; p++)
                lines += *p == '\n';
        ck_assert_uint_gt(lines, 40);
        ck_assert_uint_lt(lines, 70);
        /* the newest, in order, up to the last */
        char want[64];
        snprintf(want, sizeof(want), "volume create v%zu\n", 300 - lines);
        ck_assert(strstr(all, want) == all);
        ck_assert(strstr(all, "volume create v299\n") ==
                  all + strlen(all) - strlen("volume create v299\n"));
        /* a small event after them is kept as well */
        events_emit("volume", "remove", "small", NULL);
        _cleanup_free_ char *last = collect(t0, now_ns(), NULL);
        ck_assert(strstr(last, "volume create v299\nvolume remove small\n") != NULL);
}
END_TEST

/* An action cut in the middle of a UTF-8 character (a long exec command)
 * is still an event, and every stream open then goes on. */
START_TEST(test_invalid_utf8)
{
        int64_t t0 = now_ns();
        events_emit("container", "exec_start: echo \xc3", "c9", NULL);
        events_emit("container", "die", "c9", NULL);
        _cleanup_free_ char *all = collect(t0, now_ns(), NULL);
        ck_assert_str_eq(all, "container exec_start: echo ? c9\ncontainer die c9\n");
}
END_TEST

/* Several streams write the same events at once, each whole. */
static void *stream_main(void *p)
{
        int64_t *t = p;
        return collect(t[0], t[1], NULL);
}

START_TEST(test_concurrent_streams)
{
        int64_t t[2] = {now_ns(), 0};
        json_t *rec = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "Id", "c2", "Name", "/db", "Config",
                                "Image", "busybox", "Labels", "team", "red");
        for (int i = 0; i < 200; i++)
                events_container(rec, "start", NULL);
        json_decref(rec);
        t[1] = now_ns();
        pthread_t th[4];
        for (int i = 0; i < 4; i++)
                ck_assert_int_eq(pthread_create(&th[i], NULL, stream_main, t), 0);
        char *first = NULL;
        for (int i = 0; i < 4; i++) {
                char *out;
                pthread_join(th[i], (void **)&out);
                ck_assert_uint_eq(strlen(out), 200 * strlen("container start c2\n"));
                if (first)
                        ck_assert_str_eq(out, first);
                free(first);
                first = out;
        }
        free(first);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("events");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_replay_and_filters);
        tcase_add_test(tc, test_shape);
        tcase_add_test(tc, test_ring_wraps);
        tcase_add_test(tc, test_ring_bytes_wrap);
        tcase_add_test(tc, test_invalid_utf8);
        tcase_add_test(tc, test_concurrent_streams);
        suite_add_tcase(s, tc);
        return s;
}

BERTH_CHECK_MAIN(suite)
