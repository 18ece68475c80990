/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /events?since=&until=&filters= (docker-api.md 6.5) */
#include "base/filters.h"
#include "api.h"
#include "base/events.h"

#include <fcntl.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

/* "seconds[.nanoseconds]" as the clients send it; RFC3339 is accepted too. */
static int parse_ts(const char *s, int64_t *ret)
{
        *ret = 0;
        if (isempty(s))
                return 0;
        char *end;
        errno = 0;
        long long sec = strtoll(s, &end, 10);
        if (!errno && end != s && (*end == '\0' || *end == '.')) {
                int64_t ns = 0;
                if (*end == '.') {
                        const char *f = end + 1;
                        int digits = 0;
                        for (; *f >= '0' && *f <= '9' && digits < 9; f++, digits++)
                                ns = ns * 10 + (*f - '0');
                        for (; digits < 9; digits++)
                                ns *= 10;
                }
                *ret = (int64_t)sec * 1000000000 + ns;
                return 0;
        }
        struct tm tm = {0};
        if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                return -EINVAL;
        *ret = (int64_t)timegm(&tm) * 1000000000;
        return 0;
}

struct events_job {
        int64_t since, until;
        json_t *filters;
        int fd, client_fd;
};

static void *events_main(void *p)
{
        struct events_job *j = p;
        events_stream(j->since, j->until, j->filters, j->fd, j->client_fd);
        close(j->fd);
        json_decref(j->filters);
        free(j);
        return NULL;
}

int api_events(struct api_request *req, struct berth_err *err)
{
        static const char *const allowed[] = {"type",    "event",   "container", "image",  "label",
                                              "network", "volume",  "daemon",    "scope",  "plugin",
                                              "node",    "service", "secret",    "config", NULL};
        int64_t since, until;
        if (parse_ts(api_query(req, "since"), &since) < 0)
                return err_set(err, -EINVAL, "invalid value for since: '%s'",
                               api_query(req, "since"));
        if (parse_ts(api_query(req, "until"), &until) < 0)
                return err_set(err, -EINVAL, "invalid value for until: '%s'",
                               api_query(req, "until"));
        json_t *f = NULL;
        int r = filters_parse(api_query(req, "filters"), allowed, &f, err);
        if (r < 0)
                return r;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                json_decref(f);
                return err_errno(err, -errno, "pipe");
        }
        struct events_job *j = xzalloc(sizeof(*j));
        /* the client's socket, to notice when it leaves an idle stream; it
         * stays open while this stream's pipe does */
        *j = (struct events_job){.since = since,
                                 .until = until,
                                 .filters = f,
                                 .fd = p[1],
                                 .client_fd = api_conn_fd(req)};
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &a, events_main, j);
        pthread_attr_destroy(&a);
        if (r != 0) {
                close(p[0]);
                close(p[1]);
                json_decref(f);
                free(j);
                return err_set(err, -EAGAIN, "cannot start a thread");
        }
        return api_reply_stream(req, 200, "application/json", p[0]);
}
