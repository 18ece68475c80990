/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /events?since=&until=&filters= (docker-api.md 6.5) */
#include "base/filters.h"
#include "api.h"
#include "base/events.h"

#include <time.h>
#include <unistd.h>

/* "seconds[.nanoseconds]" as the clients send it; RFC3339 is accepted too. */
/* since= and until=: empty is "none" (0) */
static int parse_ts(const char *s, int64_t *ret)
{
        *ret = 0;
        return isempty(s) ? 0 : parse_timestamp_ns(s, now_ns(), ret);
}

struct events_job {
        int64_t since, until;
        json_t *filters;
        int client_fd;
};

static void events_main(void *p, int fd)
{
        struct events_job *j = p;
        events_stream(j->since, j->until, j->filters, fd, j->client_fd);
}

static void events_job_free(void *p)
{
        struct events_job *j = p;
        json_decref(j->filters);
        free(j);
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
        struct events_job *j = xzalloc(sizeof(*j));
        /* the client's socket, to notice when it leaves an idle stream; it
         * stays open while this stream's pipe does */
        *j = (struct events_job){
            .since = since, .until = until, .filters = f, .client_fd = api_conn_fd(req)};
        return api_reply_from_thread(req, "application/json", events_main, j, events_job_free, err);
}
