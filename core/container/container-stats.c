/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GET /containers/{id}/stats: samples of the container's cgroup (through the
 * runtime) plus its network counters, in Docker's stats shape. Each sample
 * carries the one before it as precpu_stats, which is what clients compute
 * the CPU percentage from. */
#include "container-internal.h"
#include "runtime/runtime.h"

#include <time.h>

/* rx/tx counters of the container's interfaces (but lo), from its network
 * namespace as its init sees it. NULL when it has none. */
static json_t *net_stats(pid_t pid)
{
        _cleanup_free_ char *p = xasprintf("/proc/%d/net/dev", (int)pid), *data = NULL;
        if (pid <= 0 || read_full_file(p, &data, NULL) < 0)
                return NULL;
        json_t *o = NULL;
        _cleanup_strv_ char **lines = strv_split(data, "\n");
        for (char **l = lines; *l; l++) {
                char *colon = strchr(*l, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                char *name = *l + strspn(*l, " ");
                unsigned long long v[16] = {0};
                if (streq(name, "lo") ||
                    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                           &v[10], &v[11]) != 12)
                        continue;
                if (!o)
                        o = json_object();
                json_object_set_new(
                    o, name,
                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes",
                              (json_int_t)v[0], "rx_packets", (json_int_t)v[1], "rx_errors",
                              (json_int_t)v[2], "rx_dropped", (json_int_t)v[3], "tx_bytes",
                              (json_int_t)v[8], "tx_packets", (json_int_t)v[9], "tx_errors",
                              (json_int_t)v[10], "tx_dropped", (json_int_t)v[11]));
        }
        return o;
}

static json_t *empty_cpu(void)
{
        return json_pack("{s:{s:i, s:i, s:i}, s:i, s:i, s:{s:i, s:i, s:i}}", "cpu_usage",
                         "total_usage", 0, "usage_in_kernelmode", 0, "usage_in_usermode", 0,
                         "system_cpu_usage", 0, "online_cpus", 0, "throttling_data", "periods", 0,
                         "throttled_periods", 0, "throttled_time", 0);
}

/* One sample; a container that is not running gives Docker's zeroed one. */
static json_t *sample(struct container_store *s, const char *id)
{
        pthread_mutex_lock(&s->lock);
        int code;
        struct record *r = ct_find_locked(s, id, &code);
        bool running = r && r->shim_socket && ct_is_running(r->j);
        pid_t pid = r ? (pid_t)json_get_int(json_object_get(r->j, "State"), "Pid", 0) : 0;
        _cleanup_free_ char *name = xstrdup(r ? r->name : "");
        pthread_mutex_unlock(&s->lock);
        json_t *o = NULL;
        struct berth_err err = {0};
        if (running && runtime_stats(s->runtime_root, id, &o, &err) < 0)
                o = NULL;
        if (!o)
                return json_pack("{s:s, s:s, s:s, s:i, s:{}, s:o, s:{}, s:{}, s:{}}", "read",
                                 "0001-01-01T00:00:00Z", "name", name, "id", id, "num_procs", 0,
                                 "pids_stats", "cpu_stats", empty_cpu(), "memory_stats",
                                 "blkio_stats", "storage_stats");
        _cleanup_free_ char *now = json_time_ns(now_ns());
        json_object_set_new(o, "read", json_string(now));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "num_procs", json_integer(0));
        json_object_set_new(o, "storage_stats", json_object());
        json_t *net = net_stats(pid);
        if (net)
                json_object_set_new(o, "networks", net);
        return o;
}

static bool gone(struct container_store *s, const char *id)
{
        pthread_mutex_lock(&s->lock);
        int code;
        struct record *r = ct_find_locked(s, id, &code);
        bool g = !r || r->removed;
        pthread_mutex_unlock(&s->lock);
        return g;
}

static int emit(int fd, json_t *cur, json_t *prev)
{
        if (prev) {
                json_object_set(cur, "precpu_stats", json_object_get(prev, "cpu_stats"));
                json_object_set(cur, "preread", json_object_get(prev, "read"));
        } else {
                json_object_set_new(cur, "precpu_stats", empty_cpu());
                json_object_set_new(cur, "preread", json_string("0001-01-01T00:00:00Z"));
        }
        char *t = json_dumps(cur, JSON_COMPACT);
        if (!t)
                return -EINVAL;
        int r = loop_write(fd, t, strlen(t));
        if (r >= 0)
                r = loop_write(fd, "\n", 1);
        free(t);
        return r;
}

int container_stats(struct container_store *s, const char *id, bool stream, bool one_shot,
                    int out_fd)
{
        _cleanup_json_ json_t *prev = NULL;
        if (!stream && one_shot) {
                _cleanup_json_ json_t *cur = sample(s, id);
                return emit(out_fd, cur, NULL);
        }
        for (;;) {
                json_t *cur = sample(s, id);
                /* stream=0: two samples a second apart, so precpu is real */
                if (!stream && !prev) {
                        prev = cur;
                        struct timespec ts = {1, 0};
                        nanosleep(&ts, NULL);
                        continue;
                }
                int r = emit(out_fd, cur, prev);
                json_decref(prev);
                prev = cur;
                if (r < 0 || !stream)
                        return r;
                struct timespec ts = {1, 0};
                nanosleep(&ts, NULL);
                if (gone(s, id))
                        return 0;
        }
}
