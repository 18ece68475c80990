/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <root>/<id>/state.json. The status is never stored: it is derived from
 * the process (alive, and the same process: its start time matches), the
 * exec fifo (present while "created") and the freezer. */

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime-internal.h"

const char *runtime_status_to_string(enum runtime_status s)
{
        static const char *n[] = {"creating", "created", "running", "paused", "stopped"};
        return n[s];
}

int rt_valid_id(const char *id, struct berth_err *err)
{
        if (isempty(id))
                return err_set(err, -EINVAL, "a container id is required");
        if (strlen(id) > 1024 || streq(id, ".") || streq(id, "..") ||
            strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+") !=
                strlen(id))
                return err_set(err, -EINVAL,
                               "invalid container id '%s': use letters, digits and _ . - +", id);
        return 0;
}

char *rt_state_dir(const char *root, const char *id)
{
        return xasprintf("%s/%s", root ? root : RUNTIME_DEFAULT_ROOT, id);
}

int rt_proc_start_time(pid_t pid, uint64_t *ret)
{
        char path[64];
        _cleanup_free_ char *s = NULL;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        int r = read_full_file(path, &s, NULL);
        if (r < 0)
                return r;
        /* comm may hold spaces and parentheses: count fields after the last ')' */
        char *p = strrchr(s, ')');
        if (!p)
                return -EIO;
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        if (!p)
                return -EIO;
        *ret = strtoull(p, NULL, 10);
        return 0;
}

int rt_state_save(const char *root, const struct runtime_state *s, struct berth_err *err)
{
        _cleanup_free_ char *dir = rt_state_dir(root, s->id);
        _cleanup_free_ char *path = xasprintf("%s/state.json", dir);
        json_t *j =
            json_pack("{s:s,s:i,s:I,s:s,s:I,s:s,s:b,s:O}", "id", s->id, "pid", (int)s->pid,
                      "startTime", (json_int_t)s->start_time, "bundle", s->bundle, "created",
                      (json_int_t)s->created_ns, "cgroupsPath", strempty(s->cgroups_path), "init",
                      s->init, "annotations", s->annotations ? s->annotations : json_object());
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!text)
                return err_set(err, -EINVAL, "cannot encode the state of '%s'", s->id);
        int r = write_file_replace(path, text, strlen(text), 0600);
        if (r < 0)
                return err_errno(err, r, "write '%s'", path);
        return 0;
}

struct runtime_state *runtime_state_free(struct runtime_state *s)
{
        if (!s)
                return NULL;
        free(s->id);
        free(s->bundle);
        free(s->cgroups_path);
        json_decref(s->annotations);
        free(s);
        return NULL;
}

int runtime_state_load(const char *root, const char *id, struct runtime_state **ret,
                       struct berth_err *err)
{
        _cleanup_free_ char *dir = NULL, *path = NULL, *fifo = NULL;
        _cleanup_(runtime_state_freep) struct runtime_state *s = NULL;
        json_error_t jerr;
        json_t *j;
        int r;

        if ((r = rt_valid_id(id, err)) < 0)
                return r;
        dir = rt_state_dir(root, id);
        path = xasprintf("%s/state.json", dir);
        j = json_load_file(path, 0, &jerr);
        if (!j) {
                if (access(dir, F_OK) < 0)
                        return err_set(err, -ENOENT, "container '%s' does not exist", id);
                return err_set(err, -EIO, "container '%s': broken state file '%s': %s", id, path,
                               jerr.text);
        }
        s = xzalloc(sizeof(*s));
        s->id = xstrdup(id);
        s->bundle = xstrdup(strempty(json_string_value(json_object_get(j, "bundle"))));
        s->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
        s->start_time = (uint64_t)json_integer_value(json_object_get(j, "startTime"));
        s->created_ns = json_integer_value(json_object_get(j, "created"));
        s->cgroups_path = xstrdup(strempty(json_string_value(json_object_get(j, "cgroupsPath"))));
        s->init = json_is_true(json_object_get(j, "init"));
        s->annotations = json_incref(json_object_get(j, "annotations"));
        json_decref(j);

        uint64_t st;
        fifo = xasprintf("%s/exec.fifo", dir);
        if (s->pid <= 0 || rt_proc_start_time(s->pid, &st) < 0 || st != s->start_time) {
                s->status = RT_STATUS_STOPPED;
        } else {
                /* A zombie is as good as stopped. */
                char p[64];
                _cleanup_free_ char *stat = NULL;
                snprintf(p, sizeof(p), "/proc/%d/stat", (int)s->pid);
                char *e = read_full_file(p, &stat, NULL) >= 0 ? strrchr(stat, ')') : NULL;
                if (e && e[1] == ' ' && (e[2] == 'Z' || e[2] == 'X'))
                        s->status = RT_STATUS_STOPPED;
                else if (access(fifo, F_OK) == 0)
                        s->status = RT_STATUS_CREATED;
                else {
                        struct rt_cgroup_layout l;
                        bool frozen = false;
                        s->status = RT_STATUS_RUNNING;
                        if (rt_cgroup_layout_detect(&l, NULL) >= 0) {
                                if (rt_cgroup_is_frozen(&l, s->cgroups_path, &frozen) >= 0 &&
                                    frozen)
                                        s->status = RT_STATUS_PAUSED;
                                rt_cgroup_layout_done(&l);
                        }
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

json_t *runtime_state_to_json(const struct runtime_state *s)
{
        char created[64];
        time_t t = (time_t)(s->created_ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(created + n, sizeof(created) - n, ".%09lldZ",
                 (long long)(s->created_ns % 1000000000));
        json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "ociVersion", RUNTIME_OCI_VERSION,
                              "id", s->id, "status", runtime_status_to_string(s->status), "pid",
                              s->status == RT_STATUS_STOPPED ? 0 : (int)s->pid, "bundle", s->bundle,
                              "created", created, "owner", "");
        if (s->annotations)
                json_object_set(j, "annotations", s->annotations);
        return j;
}

int runtime_list(const char *root, char ***ret, struct berth_err *err)
{
        _cleanup_closedir_ DIR *d = opendir(root ? root : RUNTIME_DEFAULT_ROOT);
        char **v = xzalloc(sizeof(char *));
        struct dirent *de;
        if (!d) {
                if (errno == ENOENT) {
                        *ret = v;
                        return 0;
                }
                strv_free(v);
                return err_errno(err, -errno, "open '%s'", root);
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p =
                    xasprintf("%s/%s/state.json", root ? root : RUNTIME_DEFAULT_ROOT, de->d_name);
                if (access(p, F_OK) == 0)
                        v = strv_push(v, xstrdup(de->d_name));
        }
        *ret = v;
        return 0;
}
