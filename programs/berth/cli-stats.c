/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* berth stats: docker's columns, computed as the docker CLI does from two
 * samples (CPU % from the deltas of the container's and the host's CPU
 * time; memory without the inactive page cache). Every round takes one-shot
 * samples of all containers at once, so N containers cost one second, not
 * N. */
#include "cli.h"

#include <time.h>

const struct cli_opt cli_stats_opts[] = {
    {"all", 'a', CLI_BOOL, "Show all containers (default shows just running)", NULL},
    {"format", 0, CLI_STRING, "Format output using a custom template ('json', or a Go template)",
     NULL},
    {"no-stream", 0, CLI_BOOL, "Disable streaming stats and only pull the first result", NULL},
    {"no-trunc", 0, CLI_BOOL, "Do not truncate output", NULL},
    {0},
};

struct target {
        char *ref; /* as asked, or the id */
        json_t *prev, *cur;
        bool failed;
};

static json_t *get_stats(struct cli *cli, const char *ref)
{
        _cleanup_free_ char *e = cli_escape(ref);
        _cleanup_free_ char *p = xasprintf("/containers/%s/stats?stream=0&one-shot=1", e);
        json_t *j = NULL;
        struct berth_err err = {0};
        if (client_json(&cli->client, "GET", p, NULL, NULL, &j, &err) < 0)
                return NULL;
        return j;
}

static double cpu_percent(json_t *prev, json_t *cur)
{
        json_t *pc = json_object_get(prev, "cpu_stats"), *cc = json_object_get(cur, "cpu_stats");
        double cpu = (double)json_get_int(json_object_get(cc, "cpu_usage"), "total_usage", 0) -
                     (double)json_get_int(json_object_get(pc, "cpu_usage"), "total_usage", 0);
        double sys = (double)json_get_int(cc, "system_cpu_usage", 0) -
                     (double)json_get_int(pc, "system_cpu_usage", 0);
        int64_t online = json_get_int(cc, "online_cpus", 0);
        if (!online)
                online = (int64_t)json_array_size(
                    json_object_get(json_object_get(cc, "cpu_usage"), "percpu_usage"));
        if (sys <= 0 || cpu <= 0)
                return 0;
        return cpu / sys * (double)online * 100.0;
}

static void blkio(json_t *j, int64_t *r, int64_t *w)
{
        size_t i;
        json_t *e;
        *r = *w = 0;
        json_array_foreach (
            json_object_get(json_object_get(j, "blkio_stats"), "io_service_bytes_recursive"), i,
            e) {
                const char *op = json_get_str(e, "op", "");
                if (strcasecmp(op, "read") == 0)
                        *r += json_get_int(e, "value", 0);
                else if (strcasecmp(op, "write") == 0)
                        *w += json_get_int(e, "value", 0);
        }
}

static void net(json_t *j, int64_t *rx, int64_t *tx)
{
        const char *k;
        json_t *v;
        *rx = *tx = 0;
        json_object_foreach (json_object_get(j, "networks"), k, v) {
                *rx += json_get_int(v, "rx_bytes", 0);
                *tx += json_get_int(v, "tx_bytes", 0);
        }
}

/* One row in docker's words: the fields of its --format too. */
static json_t *row(struct target *t, bool no_trunc)
{
        json_t *c = t->cur;
        const char *id = json_get_str(c, "id", t->ref), *name = json_get_str(c, "name", "");
        if (*name == '/')
                name++;
        char cid[65], cpu[32], mem[64], memp[32], netio[64], bio[64], pids[32];
        snprintf(cid, sizeof(cid), "%.*s", no_trunc ? 64 : 12, id);
        json_t *ms = json_object_get(c, "memory_stats");
        int64_t usage = json_get_int(ms, "usage", 0), limit = json_get_int(ms, "limit", 0);
        json_t *mst = json_object_get(ms, "stats");
        /* cgroup v1 names it total_inactive_file, v2 inactive_file */
        json_t *inact =
            json_object_get(mst, "total_inactive_file") ?: json_object_get(mst, "inactive_file");
        if (inact && json_integer_value(inact) < usage)
                usage -= json_integer_value(inact);
        bool running = !startswith(json_get_str(c, "read", ""), "0001-");
        if (!running || t->failed) {
                snprintf(cpu, sizeof(cpu), "--");
                snprintf(mem, sizeof(mem), "-- / --");
                snprintf(memp, sizeof(memp), "--");
                snprintf(netio, sizeof(netio), "--");
                snprintf(bio, sizeof(bio), "--");
                snprintf(pids, sizeof(pids), "--");
        } else {
                char a[32], b[32];
                snprintf(cpu, sizeof(cpu), "%.2f%%", t->prev ? cpu_percent(t->prev, c) : 0.0);
                cli_bytes_binary(usage, a, sizeof(a));
                cli_bytes_binary(limit, b, sizeof(b));
                snprintf(mem, sizeof(mem), "%s / %s", a, b);
                snprintf(memp, sizeof(memp), "%.2f%%",
                         limit ? (double)usage / (double)limit * 100.0 : 0.0);
                int64_t rx, tx, rd, wr;
                net(c, &rx, &tx);
                cli_bytes_decimal(rx, a, sizeof(a));
                cli_bytes_decimal(tx, b, sizeof(b));
                snprintf(netio, sizeof(netio), "%s / %s", a, b);
                blkio(c, &rd, &wr);
                cli_bytes_decimal(rd, a, sizeof(a));
                cli_bytes_decimal(wr, b, sizeof(b));
                snprintf(bio, sizeof(bio), "%s / %s", a, b);
                snprintf(pids, sizeof(pids), "%lld",
                         (long long)json_get_int(json_object_get(c, "pids_stats"), "current", 0));
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", t->ref, "ID",
                         cid, "Name", name, "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp,
                         "NetIO", netio, "BlockIO", bio, "PIDs", pids);
}

static const char *const columns[][2] = {
    {"CONTAINER ID", "ID"},   {"NAME", "Name"},
    {"CPU %", "CPUPerc"},     {"MEM USAGE / LIMIT", "MemUsage"},
    {"MEM %", "MemPerc"},     {"NET I/O", "NetIO"},
    {"BLOCK I/O", "BlockIO"}, {"PIDS", "PIDs"},
};

static int print_round(struct target *ts, size_t n, struct cli_args *a)
{
        const char *fmt = cli_str(a, "format");
        bool no_trunc = cli_flag(a, "no-trunc");
        struct cli_table *t = cli_table_new(ELEMENTSOF(columns));
        if (!fmt)
                cli_table_add(t, columns[0][0], columns[1][0], columns[2][0], columns[3][0],
                              columns[4][0], columns[5][0], columns[6][0], columns[7][0]);
        int rc = 0;
        for (size_t i = 0; i < n; i++) {
                if (!ts[i].cur)
                        continue;
                _cleanup_json_ json_t *r = row(&ts[i], no_trunc);
                if (fmt && streq(fmt, "json")) {
                        (void)json_print(stdout, r, JSON_COMPACT);
                } else if (fmt) {
                        struct berth_err err = {0};
                        if (cli_format(fmt, r, stdout, &err) < 0) {
                                fprintf(stderr, "berth: %s\n", err.msg);
                                rc = 64;
                                break;
                        }
                } else {
                        const char *v[ELEMENTSOF(columns)];
                        for (size_t k = 0; k < ELEMENTSOF(columns); k++)
                                v[k] = json_get_str(r, columns[k][1], "");
                        cli_table_add(t, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
                }
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        fflush(stdout);
        return rc;
}

static void sample_all(struct cli *cli, struct target *ts, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                json_decref(ts[i].prev);
                ts[i].prev = ts[i].cur;
                ts[i].cur = get_stats(cli, ts[i].ref);
                ts[i].failed = !ts[i].cur;
                if (!ts[i].cur && ts[i].prev)
                        ts[i].cur = json_incref(ts[i].prev);
        }
}

int cli_cmd_stats(struct cli *cli, struct cli_args *a)
{
        struct berth_err err = {0};
        int r = cli_connect(cli, &err);
        if (r < 0)
                return cli_fail(&err);
        size_t n = 0;
        struct target *ts = NULL;
        bool explicit = a->n_pos > 0;
        if (explicit) {
                ts = xzalloc(sizeof(*ts) * a->n_pos);
                for (size_t i = 0; i < a->n_pos; i++) {
                        /* a container that does not exist is an error, as docker's */
                        _cleanup_free_ char *e = cli_escape(a->pos[i]);
                        _cleanup_free_ char *p = xasprintf("/containers/%s/json", e);
                        if (client_json(&cli->client, "GET", p, NULL, NULL, NULL, &err) < 0) {
                                r = cli_fail(&err);
                                for (size_t k = 0; k < n; k++)
                                        free(ts[k].ref);
                                free(ts);
                                return r;
                        }
                        ts[n++].ref = xstrdup(a->pos[i]);
                }
        } else {
                _cleanup_json_ json_t *list = NULL;
                if (client_json(&cli->client, "GET",
                                cli_flag(a, "all") ? "/containers/json?all=1" : "/containers/json",
                                NULL, NULL, &list, &err) < 0)
                        return cli_fail(&err);
                ts = xzalloc(sizeof(*ts) * (json_array_size(list) + 1));
                size_t i;
                json_t *c;
                json_array_foreach (list, i, c)
                        ts[n++].ref = xstrdup(json_get_str(c, "Id", ""));
        }
        bool stream = !cli_flag(a, "no-stream");
        sample_all(cli, ts, n);
        int rc = 0;
        for (;;) {
                struct timespec one = {1, 0};
                nanosleep(&one, NULL);
                sample_all(cli, ts, n);
                if (stream && isatty(STDOUT_FILENO))
                        fputs("\033[2J\033[H", stdout);
                rc = print_round(ts, n, a);
                if (!stream || rc)
                        break;
        }
        for (size_t i = 0; i < n; i++) {
                free(ts[i].ref);
                json_decref(ts[i].prev);
                json_decref(ts[i].cur);
        }
        free(ts);
        return rc;
}
