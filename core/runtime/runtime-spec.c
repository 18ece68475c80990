/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json -> struct runtime_spec. Everything the child needs is parsed
 * and validated here, before anything is created, so a bad config fails with
 * a message naming the field and leaves nothing behind. */

#include <limits.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime-internal.h"

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static const char *hook_names[RT_HOOK_MAX] = {
    [RT_HOOK_PRESTART] = "prestart",
    [RT_HOOK_CREATE_RUNTIME] = "createRuntime",
    [RT_HOOK_CREATE_CONTAINER] = "createContainer",
    [RT_HOOK_START_CONTAINER] = "startContainer",
    [RT_HOOK_POSTSTART] = "poststart",
    [RT_HOOK_POSTSTOP] = "poststop",
};

static int bad_type(struct berth_err *err, const char *field, const char *want)
{
        return err_set(err, -EINVAL, "'%s' must be %s", field, want);
}

/* Optional string member: NULL if absent, error if not a string. */
static int get_str(json_t *o, const char *key, const char *field, char **ret, struct berth_err *err)
{
        json_t *v = json_object_get(o, key);
        *ret = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return bad_type(err, field, "a string");
        *ret = xstrdup(json_string_value(v));
        return 0;
}

static int get_int(json_t *o, const char *key, const char *field, int64_t *ret,
                   struct berth_err *err)
{
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v))
                return bad_type(err, field, "an integer");
        *ret = json_integer_value(v);
        return 0;
}

static int get_bool(json_t *o, const char *key, const char *field, bool *ret, struct berth_err *err)
{
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return bad_type(err, field, "a boolean");
        *ret = json_is_true(v);
        return 0;
}

static int get_strv(json_t *o, const char *key, const char *field, char ***ret,
                    struct berth_err *err)
{
        json_t *v = json_object_get(o, key), *e;
        size_t i;
        char **l = xzalloc(sizeof(char *));
        *ret = NULL;
        if (!v || json_is_null(v)) {
                *ret = l;
                return 0;
        }
        if (!json_is_array(v)) {
                strv_free(l);
                return bad_type(err, field, "an array of strings");
        }
        json_array_foreach (v, i, e) {
                if (!json_is_string(e)) {
                        strv_free(l);
                        return bad_type(err, field, "an array of strings");
                }
                l = strv_push(l, xstrdup(json_string_value(e)));
        }
        *ret = l;
        return 0;
}

static int parse_rlimits(json_t *arr, struct runtime_process *p, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, "process.rlimits", "an array");
        p->rlimits = xzalloc(sizeof(*p->rlimits) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                const char *type = json_string_value(json_object_get(e, "type"));
                json_t *soft = json_object_get(e, "soft"), *hard = json_object_get(e, "hard");
                size_t k;
                if (!type || !json_is_integer(soft) || !json_is_integer(hard))
                        return err_set(err, -EINVAL,
                                       "process.rlimits[%zu] needs 'type', 'soft' and 'hard'", i);
                for (k = 0; k < ELEMENTSOF(rlimit_names); k++)
                        if (streq(rlimit_names[k].name, type))
                                break;
                if (k == ELEMENTSOF(rlimit_names))
                        return err_set(err, -EINVAL, "process.rlimits: unknown type '%s'", type);
                p->rlimits[p->n_rlimits++] = (struct runtime_rlimit){
                    .resource = rlimit_names[k].resource,
                    .soft = (uint64_t)json_integer_value(soft),
                    .hard = (uint64_t)json_integer_value(hard),
                };
                if (p->rlimits[p->n_rlimits - 1].soft > p->rlimits[p->n_rlimits - 1].hard)
                        return err_set(err, -EINVAL,
                                       "process.rlimits: '%s' soft limit above its hard limit",
                                       type);
        }
        return 0;
}

const char *rt_rlimit_name(int resource)
{
        for (size_t k = 0; k < ELEMENTSOF(rlimit_names); k++)
                if (rlimit_names[k].resource == resource)
                        return rlimit_names[k].name;
        return "?";
}

void runtime_process_done(struct runtime_process *p)
{
        free(p->gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        memset(p, 0, sizeof(*p));
}

int runtime_process_parse(json_t *j, struct runtime_process *p, struct berth_err *err)
{
        json_t *user, *v;
        int64_t n;
        int r;

        memset(p, 0, sizeof(*p));
        if (!json_is_object(j))
                return bad_type(err, "process", "an object");
        if ((r = get_bool(j, "terminal", "process.terminal", &p->terminal, err)) < 0)
                return r;
        json_t *cs = json_object_get(j, "consoleSize");
        if (json_is_object(cs)) {
                int64_t h = json_integer_value(json_object_get(cs, "height"));
                int64_t w = json_integer_value(json_object_get(cs, "width"));
                if (h > 0 && h <= 65535 && w > 0 && w <= 65535) {
                        p->console_height = (unsigned short)h;
                        p->console_width = (unsigned short)w;
                }
        }
        user = json_object_get(j, "user");
        if (user) {
                n = 0;
                if ((r = get_int(user, "uid", "process.user.uid", &n, err)) < 0)
                        return r;
                p->uid = (uint32_t)n;
                n = 0;
                if ((r = get_int(user, "gid", "process.user.gid", &n, err)) < 0)
                        return r;
                p->gid = (uint32_t)n;
                n = -1;
                if ((r = get_int(user, "umask", "process.user.umask", &n, err)) < 0)
                        return r;
                if (n >= 0) {
                        p->has_umask = true;
                        p->umask = (uint32_t)n & 0777;
                }
                v = json_object_get(user, "additionalGids");
                if (v) {
                        json_t *e;
                        size_t i;
                        if (!json_is_array(v))
                                return bad_type(err, "process.user.additionalGids", "an array");
                        p->gids = xzalloc(sizeof(uint32_t) * (json_array_size(v) + 1));
                        json_array_foreach (v, i, e) {
                                if (!json_is_integer(e))
                                        return bad_type(err, "process.user.additionalGids",
                                                        "an array of integers");
                                p->gids[p->n_gids++] = (uint32_t)json_integer_value(e);
                        }
                }
        }
        if ((r = get_strv(j, "args", "process.args", &p->args, err)) < 0)
                return r;
        if (strv_length(p->args) == 0)
                return err_set(err, -EINVAL, "process.args must name the program to run");
        if ((r = get_strv(j, "env", "process.env", &p->env, err)) < 0)
                return r;
        if ((r = get_str(j, "cwd", "process.cwd", &p->cwd, err)) < 0)
                return r;
        if (!p->cwd)
                p->cwd = xstrdup("/");
        if (p->cwd[0] != '/')
                return err_set(err, -EINVAL, "process.cwd '%s' must be an absolute path", p->cwd);
        v = json_object_get(j, "capabilities");
        if (v) {
                if ((r = rt_caps_parse(v, p->caps, err)) < 0)
                        return err_wrap(err, r, "process.capabilities");
                p->has_caps = true;
        }
        if ((r = parse_rlimits(json_object_get(j, "rlimits"), p, err)) < 0)
                return r;
        if ((r = get_bool(j, "noNewPrivileges", "process.noNewPrivileges", &p->no_new_privileges,
                          err)) < 0)
                return r;
        v = json_object_get(j, "oomScoreAdj");
        if (v) {
                if (!json_is_integer(v) || json_integer_value(v) < -1000 ||
                    json_integer_value(v) > 1000)
                        return bad_type(err, "process.oomScoreAdj",
                                        "an integer from -1000 to 1000");
                p->has_oom_score_adj = true;
                p->oom_score_adj = (int)json_integer_value(v);
        }
        return 0;
}

unsigned long rt_mount_flag(const char *o, bool *ret_clear, bool *ret_prop)
{
        static const struct {
                const char *name;
                unsigned long flag;
                bool clear, prop;
        } t[] = {
            {"ro", MS_RDONLY, false, false},
            {"rw", MS_RDONLY, true, false},
            {"nosuid", MS_NOSUID, false, false},
            {"suid", MS_NOSUID, true, false},
            {"nodev", MS_NODEV, false, false},
            {"dev", MS_NODEV, true, false},
            {"noexec", MS_NOEXEC, false, false},
            {"exec", MS_NOEXEC, true, false},
            {"sync", MS_SYNCHRONOUS, false, false},
            {"async", MS_SYNCHRONOUS, true, false},
            {"dirsync", MS_DIRSYNC, false, false},
            {"remount", MS_REMOUNT, false, false},
            {"mand", MS_MANDLOCK, false, false},
            {"nomand", MS_MANDLOCK, true, false},
            {"noatime", MS_NOATIME, false, false},
            {"atime", MS_NOATIME, true, false},
            {"nodiratime", MS_NODIRATIME, false, false},
            {"diratime", MS_NODIRATIME, true, false},
            {"relatime", MS_RELATIME, false, false},
            {"norelatime", MS_RELATIME, true, false},
            {"strictatime", MS_STRICTATIME, false, false},
            {"nostrictatime", MS_STRICTATIME, true, false},
            {"bind", MS_BIND, false, false},
            {"rbind", MS_BIND | MS_REC, false, false},
            {"private", MS_PRIVATE, false, true},
            {"rprivate", MS_PRIVATE | MS_REC, false, true},
            {"shared", MS_SHARED, false, true},
            {"rshared", MS_SHARED | MS_REC, false, true},
            {"slave", MS_SLAVE, false, true},
            {"rslave", MS_SLAVE | MS_REC, false, true},
            {"unbindable", MS_UNBINDABLE, false, true},
            {"runbindable", MS_UNBINDABLE | MS_REC, false, true},
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(t[i].name, o)) {
                        *ret_clear = t[i].clear;
                        *ret_prop = t[i].prop;
                        return t[i].flag;
                }
        return 0;
}

static int parse_mounts(json_t *arr, struct runtime_spec *s, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, "mounts", "an array");
        s->mounts = xzalloc(sizeof(*s->mounts) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                struct runtime_mount *m = &s->mounts[s->n_mounts++];
                _cleanup_strv_ char **opts = NULL;
                int r;
                if (!json_is_object(e))
                        return bad_type(err, "mounts[]", "an object");
                if ((r = get_str(e, "destination", "mounts[].destination", &m->destination, err)) <
                        0 ||
                    (r = get_str(e, "type", "mounts[].type", &m->type, err)) < 0 ||
                    (r = get_str(e, "source", "mounts[].source", &m->source, err)) < 0 ||
                    (r = get_strv(e, "options", "mounts[].options", &opts, err)) < 0)
                        return r;
                if (!m->destination || m->destination[0] != '/')
                        return err_set(err, -EINVAL,
                                       "mounts[%zu].destination '%s' must be an absolute path", i,
                                       strempty(m->destination));
                if (!m->type)
                        m->type = xstrdup("none");
                if (streq(m->type, "bind"))
                        m->bind = true;
                for (char **o = opts; *o; o++) {
                        bool clear, prop;
                        unsigned long f = rt_mount_flag(*o, &clear, &prop);
                        if (f == 0) {
                                if (streq(*o, "tmpcopyup") || streq(*o, "defaults"))
                                        continue;
                                char *d = m->data ? xasprintf("%s,%s", m->data, *o) : xstrdup(*o);
                                free(m->data);
                                m->data = d;
                        } else if (prop) {
                                m->propagation = f;
                        } else if (clear) {
                                m->clear_flags |= f;
                                m->flags &= ~f;
                        } else {
                                m->flags |= f;
                        }
                }
                if (m->flags & MS_BIND)
                        m->bind = true;
                if (m->bind) {
                        m->flags |= MS_BIND;
                        if (!m->source)
                                return err_set(err, -EINVAL,
                                               "mounts[%zu] ('%s'): a bind mount needs a source", i,
                                               m->destination);
                        if (m->source[0] != '/') {
                                char *a = xasprintf("%s/%s", s->bundle, m->source);
                                free(m->source);
                                m->source = a;
                        }
                }
        }
        return 0;
}

static int parse_idmaps(json_t *arr, const char *field, struct runtime_idmap **ret, size_t *ret_n,
                        struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, field, "an array");
        *ret = xzalloc(sizeof(**ret) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                json_t *c = json_object_get(e, "containerID"), *h = json_object_get(e, "hostID"),
                       *z = json_object_get(e, "size");
                if (!json_is_integer(c) || !json_is_integer(h) || !json_is_integer(z))
                        return err_set(err, -EINVAL,
                                       "%s[%zu] needs 'containerID', 'hostID' and 'size'", field,
                                       i);
                (*ret)[(*ret_n)++] = (struct runtime_idmap){(uint32_t)json_integer_value(c),
                                                            (uint32_t)json_integer_value(h),
                                                            (uint32_t)json_integer_value(z)};
        }
        return 0;
}

static int parse_namespaces(json_t *arr, struct runtime_spec *s, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, "linux.namespaces", "an array");
        json_array_foreach (arr, i, e) {
                const char *type = json_string_value(json_object_get(e, "type"));
                const char *path = json_string_value(json_object_get(e, "path"));
                int ns;
                if (!type)
                        return err_set(err, -EINVAL, "linux.namespaces[%zu] has no 'type'", i);
                ns = rt_ns_from_name(type);
                if (ns < 0)
                        return err_set(err, -EINVAL, "linux.namespaces: unknown type '%s'", type);
                if (s->ns[ns].enabled)
                        return err_set(err, -EINVAL, "linux.namespaces: '%s' listed twice", type);
                s->ns[ns].enabled = true;
                if (path && *path)
                        s->ns[ns].path = xstrdup(path);
        }
        return 0;
}

static int parse_dev_rules(json_t *arr, struct runtime_resources *res, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, "linux.resources.devices", "an array");
        res->devices = xzalloc(sizeof(*res->devices) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                struct runtime_dev_rule *d = &res->devices[res->n_devices++];
                const char *type = json_string_value(json_object_get(e, "type"));
                const char *access = json_string_value(json_object_get(e, "access"));
                json_t *maj = json_object_get(e, "major"), *min = json_object_get(e, "minor");
                d->allow = json_is_true(json_object_get(e, "allow"));
                d->type = type && *type ? type[0] : 'a';
                if (!strchr("abc", d->type))
                        return err_set(err, -EINVAL, "linux.resources.devices: bad type '%s'",
                                       type);
                d->major = json_is_integer(maj) ? json_integer_value(maj) : -1;
                d->minor = json_is_integer(min) ? json_integer_value(min) : -1;
                snprintf(d->access, sizeof(d->access), "%s", access ? access : "rwm");
                if (strspn(d->access, "rwm") != strlen(d->access))
                        return err_set(err, -EINVAL, "linux.resources.devices: bad access '%s'",
                                       access);
        }
        return 0;
}

static int parse_throttle(json_t *arr, const char *field, struct runtime_blkio_dev **ret,
                          size_t *ret_n, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, field, "an array");
        *ret = xzalloc(sizeof(**ret) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                json_t *maj = json_object_get(e, "major"), *min = json_object_get(e, "minor"),
                       *rate = json_object_get(e, "rate");
                if (!json_is_integer(maj) || !json_is_integer(min) || !json_is_integer(rate))
                        return err_set(err, -EINVAL, "%s[%zu] needs 'major', 'minor', 'rate'",
                                       field, i);
                (*ret)[(*ret_n)++] =
                    (struct runtime_blkio_dev){json_integer_value(maj), json_integer_value(min),
                                               (uint64_t)json_integer_value(rate)};
        }
        return 0;
}

void rt_resources_done(struct runtime_resources *res)
{
        free(res->cpuset_cpus);
        free(res->cpuset_mems);
        for (int k = 0; k < 4; k++)
                free(res->throttle[k]);
        free(res->devices);
        *res = (struct runtime_resources){0};
}

int rt_resources_parse(json_t *j, struct runtime_resources *res, struct berth_err *err)
{
        json_t *m, *c, *p, *b;
        int r;
        static const char *thr[4] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                     "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};

        res->mem_limit = res->mem_swap = res->mem_reservation = -1;
        res->cpu_shares = res->cpu_quota = res->cpu_period = -1;
        res->pids_limit = res->blkio_weight = -1;
        if (!j)
                return 0;
        if (!json_is_object(j))
                return bad_type(err, "linux.resources", "an object");
        if ((m = json_object_get(j, "memory"))) {
                if ((r = get_int(m, "limit", "linux.resources.memory.limit", &res->mem_limit,
                                 err)) < 0 ||
                    (r = get_int(m, "swap", "linux.resources.memory.swap", &res->mem_swap, err)) <
                        0 ||
                    (r = get_int(m, "reservation", "linux.resources.memory.reservation",
                                 &res->mem_reservation, err)) < 0)
                        return r;
        }
        if ((c = json_object_get(j, "cpu"))) {
                if ((r = get_int(c, "shares", "linux.resources.cpu.shares", &res->cpu_shares,
                                 err)) < 0 ||
                    (r = get_int(c, "quota", "linux.resources.cpu.quota", &res->cpu_quota, err)) <
                        0 ||
                    (r = get_int(c, "period", "linux.resources.cpu.period", &res->cpu_period,
                                 err)) < 0 ||
                    (r = get_str(c, "cpus", "linux.resources.cpu.cpus", &res->cpuset_cpus, err)) <
                        0 ||
                    (r = get_str(c, "mems", "linux.resources.cpu.mems", &res->cpuset_mems, err)) <
                        0)
                        return r;
        }
        if ((p = json_object_get(j, "pids"))) {
                if ((r = get_int(p, "limit", "linux.resources.pids.limit", &res->pids_limit, err)) <
                    0)
                        return r;
                json_t *lim = json_object_get(p, "limit");
                if (json_is_integer(lim) && json_integer_value(lim) < 0)
                        res->pids_max = true; /* as runc: negative is "max", 0 unchanged */
                if (res->pids_limit <= 0)
                        res->pids_limit = -1;
        }
        if ((b = json_object_get(j, "blockIO"))) {
                if ((r = get_int(b, "weight", "linux.resources.blockIO.weight", &res->blkio_weight,
                                 err)) < 0)
                        return r;
                for (int k = 0; k < 4; k++) {
                        _cleanup_free_ char *f = xasprintf("linux.resources.blockIO.%s", thr[k]);
                        if ((r = parse_throttle(json_object_get(b, thr[k]), f, &res->throttle[k],
                                                &res->n_throttle[k], err)) < 0)
                                return r;
                }
        }
        return parse_dev_rules(json_object_get(j, "devices"), res, err);
}

static int parse_devices(json_t *arr, struct runtime_spec *s, struct berth_err *err)
{
        json_t *e;
        size_t i;
        if (!arr)
                return 0;
        if (!json_is_array(arr))
                return bad_type(err, "linux.devices", "an array");
        s->devices = xzalloc(sizeof(*s->devices) * (json_array_size(arr) + 1));
        json_array_foreach (arr, i, e) {
                struct runtime_device *d = &s->devices[s->n_devices++];
                const char *path = json_string_value(json_object_get(e, "path"));
                const char *type = json_string_value(json_object_get(e, "type"));
                int64_t v;
                int r;
                if (!path || path[0] != '/' || !type || !strchr("cbup", type[0]))
                        return err_set(err, -EINVAL,
                                       "linux.devices[%zu] needs an absolute 'path' and a 'type' "
                                       "of c, b, u or p",
                                       i);
                d->path = xstrdup(path);
                d->type = type[0];
                d->major = d->minor = 0;
                if ((r = get_int(e, "major", "linux.devices[].major", &d->major, err)) < 0 ||
                    (r = get_int(e, "minor", "linux.devices[].minor", &d->minor, err)) < 0)
                        return r;
                v = 0666;
                if ((r = get_int(e, "fileMode", "linux.devices[].fileMode", &v, err)) < 0)
                        return r;
                d->mode = (uint32_t)v;
                v = 0;
                if ((r = get_int(e, "uid", "linux.devices[].uid", &v, err)) < 0)
                        return r;
                d->uid = (uint32_t)v;
                v = 0;
                if ((r = get_int(e, "gid", "linux.devices[].gid", &v, err)) < 0)
                        return r;
                d->gid = (uint32_t)v;
        }
        return 0;
}

static int parse_hooks(json_t *j, struct runtime_spec *s, struct berth_err *err)
{
        if (!j)
                return 0;
        for (int h = 0; h < RT_HOOK_MAX; h++) {
                json_t *arr = json_object_get(j, hook_names[h]), *e;
                size_t i;
                if (!arr)
                        continue;
                if (!json_is_array(arr))
                        return err_set(err, -EINVAL, "'hooks.%s' must be an array", hook_names[h]);
                s->hooks[h] = xzalloc(sizeof(struct runtime_hook) * (json_array_size(arr) + 1));
                json_array_foreach (arr, i, e) {
                        struct runtime_hook *k = &s->hooks[h][s->n_hooks[h]++];
                        int64_t t = 0;
                        int r;
                        if ((r = get_str(e, "path", "hooks[].path", &k->path, err)) < 0 ||
                            (r = get_strv(e, "args", "hooks[].args", &k->args, err)) < 0 ||
                            (r = get_strv(e, "env", "hooks[].env", &k->env, err)) < 0 ||
                            (r = get_int(e, "timeout", "hooks[].timeout", &t, err)) < 0)
                                return r;
                        if (!k->path || k->path[0] != '/')
                                return err_set(err, -EINVAL,
                                               "hooks.%s[%zu] needs an absolute 'path'",
                                               hook_names[h], i);
                        k->timeout = (int)t;
                }
        }
        return 0;
}

int runtime_spec_parse(json_t *json, const char *bundle, struct runtime_spec **ret,
                       struct berth_err *err)
{
        _cleanup_(runtime_spec_freep) struct runtime_spec *s = xzalloc(sizeof(*s));
        json_t *root, *linux_, *v;
        _cleanup_free_ char *rootpath = NULL, *prop = NULL;
        char buf[PATH_MAX];
        int r;

        s->json = json_incref(json);
        s->bundle = xstrdup(bundle);
        if (!json_is_object(json))
                return err_set(err, -EINVAL, "config.json must be a JSON object");
        v = json_object_get(json, "ociVersion");
        if (!json_is_string(v))
                return err_set(err, -EINVAL, "'ociVersion' is missing");
        if (!startswith(json_string_value(v), "1."))
                return err_set(err, -EINVAL, "unsupported ociVersion '%s' (want 1.x)",
                               json_string_value(v));

        root = json_object_get(json, "root");
        if (!json_is_object(root))
                return err_set(err, -EINVAL, "'root' is missing");
        if ((r = get_str(root, "path", "root.path", &rootpath, err)) < 0)
                return r;
        if (!rootpath)
                return err_set(err, -EINVAL, "'root.path' is missing");
        if ((r = get_bool(root, "readonly", "root.readonly", &s->rootfs_readonly, err)) < 0)
                return r;
        {
                _cleanup_free_ char *p =
                    rootpath[0] == '/' ? xstrdup(rootpath) : xasprintf("%s/%s", bundle, rootpath);
                struct stat st;
                if (!realpath(p, buf))
                        return err_errno(err, -errno, "rootfs '%s'", p);
                if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
                        return err_set(err, -ENOTDIR, "rootfs '%s' is not a directory", p);
                s->rootfs = xstrdup(buf);
        }

        v = json_object_get(json, "process");
        if (!v)
                return err_set(err, -EINVAL, "'process' is missing");
        if ((r = runtime_process_parse(v, &s->process, err)) < 0)
                return r;
        if ((r = get_str(json, "hostname", "hostname", &s->hostname, err)) < 0)
                return r;
        if ((r = parse_mounts(json_object_get(json, "mounts"), s, err)) < 0)
                return r;
        if ((r = parse_hooks(json_object_get(json, "hooks"), s, err)) < 0)
                return r;

        linux_ = json_object_get(json, "linux");
        if (linux_ && !json_is_object(linux_))
                return bad_type(err, "linux", "an object");
        if ((r = parse_namespaces(json_object_get(linux_, "namespaces"), s, err)) < 0 ||
            (r = parse_idmaps(json_object_get(linux_, "uidMappings"), "linux.uidMappings",
                              &s->uid_maps, &s->n_uid_maps, err)) < 0 ||
            (r = parse_idmaps(json_object_get(linux_, "gidMappings"), "linux.gidMappings",
                              &s->gid_maps, &s->n_gid_maps, err)) < 0 ||
            (r = get_str(linux_, "cgroupsPath", "linux.cgroupsPath", &s->cgroups_path, err)) < 0 ||
            (r = rt_resources_parse(json_object_get(linux_, "resources"), &s->resources, err)) <
                0 ||
            (r = get_strv(linux_, "maskedPaths", "linux.maskedPaths", &s->masked_paths, err)) < 0 ||
            (r = get_strv(linux_, "readonlyPaths", "linux.readonlyPaths", &s->readonly_paths,
                          err)) < 0 ||
            (r = parse_devices(json_object_get(linux_, "devices"), s, err)) < 0 ||
            (r = get_str(linux_, "rootfsPropagation", "linux.rootfsPropagation", &prop, err)) < 0)
                return r;
        if (s->ns[RT_NS_USER].enabled && !s->ns[RT_NS_USER].path &&
            (s->n_uid_maps == 0 || s->n_gid_maps == 0))
                return err_set(err, -EINVAL,
                               "a new user namespace needs linux.uidMappings and "
                               "linux.gidMappings");
        if (s->hostname && *s->hostname && !s->ns[RT_NS_UTS].enabled)
                return err_set(err, -EINVAL, "'hostname' needs a new uts namespace");
        if (prop) {
                bool clear, isprop;
                s->rootfs_propagation = rt_mount_flag(prop, &clear, &isprop);
                if (!isprop)
                        return err_set(err, -EINVAL, "linux.rootfsPropagation: unknown '%s'", prop);
        }
        v = json_object_get(linux_, "sysctl");
        s->sysctl = xzalloc(sizeof(char *));
        if (v) {
                const char *k;
                json_t *val;
                if (!json_is_object(v))
                        return bad_type(err, "linux.sysctl", "an object");
                json_object_foreach (v, k, val) {
                        if (!json_is_string(val))
                                return err_set(err, -EINVAL, "linux.sysctl '%s' must be a string",
                                               k);
                        if (strstr(k, ".."))
                                return err_set(err, -EINVAL, "linux.sysctl: bad key '%s'", k);
                        s->sysctl = strv_push(s->sysctl, xstrdup(k));
                        s->sysctl = strv_push(s->sysctl, xstrdup(json_string_value(val)));
                }
        }
        v = json_object_get(linux_, "seccomp");
        if (v && !json_is_null(v)) {
                if (!json_is_object(v))
                        return bad_type(err, "linux.seccomp", "an object");
                s->seccomp = json_incref(v);
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int runtime_spec_load(const char *bundle, struct runtime_spec **ret, struct berth_err *err)
{
        char abs[PATH_MAX];
        _cleanup_free_ char *path = NULL;
        json_error_t jerr;
        json_t *j;
        int r;

        if (!realpath(bundle, abs))
                return err_errno(err, -errno, "bundle '%s'", bundle);
        path = xasprintf("%s/config.json", abs);
        j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
                if (access(path, F_OK) < 0)
                        return err_errno(err, -errno, "'%s'", path);
                return err_set(err, -EINVAL, "'%s': line %d column %d: %s", path, jerr.line,
                               jerr.column, jerr.text);
        }
        r = runtime_spec_parse(j, abs, ret, err);
        json_decref(j);
        if (r < 0)
                return err_wrap(err, r, "'%s'", path);
        return 0;
}

struct runtime_spec *runtime_spec_free(struct runtime_spec *s)
{
        if (!s)
                return NULL;
        json_decref(s->json);
        json_decref(s->seccomp);
        free(s->bundle);
        free(s->rootfs);
        free(s->hostname);
        runtime_process_done(&s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        for (int i = 0; i < RT_NS_MAX; i++)
                free(s->ns[i].path);
        free(s->uid_maps);
        free(s->gid_maps);
        free(s->cgroups_path);
        rt_resources_done(&s->resources);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        strv_free(s->sysctl);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        for (int h = 0; h < RT_HOOK_MAX; h++) {
                for (size_t i = 0; i < s->n_hooks[h]; i++) {
                        free(s->hooks[h][i].path);
                        strv_free(s->hooks[h][i].args);
                        strv_free(s->hooks[h][i].env);
                }
                free(s->hooks[h]);
        }
        free(s);
        return NULL;
}

/* runc's `spec` template: what a user edits to make a bundle. */
json_t *runtime_spec_default(bool rootless)
{
        static const char *tmpl =
            "{\"ociVersion\":\"" RUNTIME_OCI_VERSION "\","
            "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
            "\"args\":[\"sh\"],"
            "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
            "\"TERM=xterm\"],\"cwd\":\"/\","
            "\"capabilities\":{"
            "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
            "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
            "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
            "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
            "\"noNewPrivileges\":true},"
            "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
            "\"hostname\":\"berth\","
            "\"mounts\":["
            "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
            "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
            "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
            "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
            "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\","
            "\"mode=0620\",\"gid=5\"]},"
            "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
            "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
            "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
            "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
            "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
            "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
            "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
            "{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
            "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
            "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
            "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
            "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
            "\"/proc/sysrq-trigger\"]}}";
        json_t *j = json_loads(tmpl, 0, NULL);
        if (j && rootless) {
                json_t *linux_ = json_object_get(j, "linux");
                json_t *ns = json_object_get(linux_, "namespaces");
                json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
                json_object_set_new(linux_, "uidMappings",
                                    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
                                              (int)getuid(), "size", 1));
                json_object_set_new(linux_, "gidMappings",
                                    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
                                              (int)getgid(), "size", 1));
                json_object_del(linux_, "resources");
        }
        return j;
}
