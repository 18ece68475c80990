/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp -> a BPF program. libseccomp compiles it once, in the
 * caller, before clone(): a bad rule fails `create` before anything exists,
 * and the child only has to hand the finished program to the kernel. */

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

static int parse_action(const char *name, uint32_t errno_ret, uint32_t *ret)
{
        if (streq(name, "SCMP_ACT_KILL") || streq(name, "SCMP_ACT_KILL_THREAD"))
                *ret = SCMP_ACT_KILL_THREAD;
        else if (streq(name, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (streq(name, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (streq(name, "SCMP_ACT_ERRNO"))
                *ret = SCMP_ACT_ERRNO(errno_ret);
        else if (streq(name, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE(errno_ret);
        else if (streq(name, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (streq(name, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else
                return -EINVAL;
        return 0;
}

static int parse_op(const char *name, enum scmp_compare *ret)
{
        static const struct {
                const char *n;
                enum scmp_compare op;
        } t[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                 {"SCMP_CMP_LT", SCMP_CMP_LT},
                 {"SCMP_CMP_LE", SCMP_CMP_LE},
                 {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                 {"SCMP_CMP_GE", SCMP_CMP_GE},
                 {"SCMP_CMP_GT", SCMP_CMP_GT},
                 {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (streq(t[i].n, name)) {
                        *ret = t[i].op;
                        return 0;
                }
        return -EINVAL;
}

static int parse_arch(const char *name, uint32_t *ret)
{
        const char *s = startswith(name, "SCMP_ARCH_");
        char buf[32];
        size_t i;
        if (!s)
                return -EINVAL;
        for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
                buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        buf[i] = '\0';
        *ret = seccomp_arch_resolve_name(buf);
        return *ret ? 0 : -EINVAL;
}

static int parse_flag(const char *name, unsigned *ret)
{
        if (streq(name, "SECCOMP_FILTER_FLAG_TSYNC"))
                *ret = SECCOMP_FILTER_FLAG_TSYNC;
        else if (streq(name, "SECCOMP_FILTER_FLAG_LOG"))
                *ret = SECCOMP_FILTER_FLAG_LOG;
        else if (streq(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                *ret = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        else
                return -EINVAL;
        return 0;
}

static void ctx_releasep(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

static int add_rule(scmp_filter_ctx ctx, json_t *rule, size_t idx, uint32_t def_action,
                    uint32_t def_errno, struct berth_err *err)
{
        const char *action_name = json_string_value(json_object_get(rule, "action"));
        json_t *names = json_object_get(rule, "names"), *args = json_object_get(rule, "args");
        json_t *errno_ret = json_object_get(rule, "errnoRet"), *e;
        struct scmp_arg_cmp cmp[6];
        unsigned n_cmp = 0;
        bool dup_index = false;
        uint32_t action;
        size_t i;

        if (!action_name)
                return err_set(err, -EINVAL, "syscalls[%zu] has no 'action'", idx);
        if (parse_action(action_name,
                         json_is_integer(errno_ret) ? (uint32_t)json_integer_value(errno_ret)
                                                    : def_errno,
                         &action) < 0)
                return err_set(err, -EINVAL, "syscalls[%zu]: unknown action '%s'", idx,
                               action_name);
        if (!json_is_array(names) || json_array_size(names) == 0)
                return err_set(err, -EINVAL, "syscalls[%zu] needs 'names'", idx);
        if (json_is_null(args))
                args = NULL;
        if (args && !json_is_array(args))
                return err_set(err, -EINVAL, "syscalls[%zu].args must be an array", idx);
        if (json_array_size(args) > ELEMENTSOF(cmp))
                return err_set(err, -EINVAL, "syscalls[%zu]: more than 6 args", idx);
        json_array_foreach (args, i, e) {
                json_t *index = json_object_get(e, "index"), *value = json_object_get(e, "value");
                json_t *two = json_object_get(e, "valueTwo");
                const char *op = json_string_value(json_object_get(e, "op"));
                enum scmp_compare o;
                if (!json_is_integer(index) || json_integer_value(index) < 0 ||
                    json_integer_value(index) > 5 || !json_is_integer(value) || !op)
                        return err_set(err, -EINVAL,
                                       "syscalls[%zu].args[%zu] needs 'index' (0-5), 'value', "
                                       "'op'",
                                       idx, i);
                if (parse_op(op, &o) < 0)
                        return err_set(err, -EINVAL, "syscalls[%zu].args[%zu]: unknown op '%s'",
                                       idx, i, op);
                cmp[n_cmp] = (struct scmp_arg_cmp){
                    .arg = (unsigned)json_integer_value(index),
                    .op = o,
                    .datum_a = (scmp_datum_t)json_integer_value(value),
                    .datum_b = json_is_integer(two) ? (scmp_datum_t)json_integer_value(two) : 0,
                };
                for (unsigned k = 0; k < n_cmp; k++)
                        if (cmp[k].arg == cmp[n_cmp].arg)
                                dup_index = true;
                n_cmp++;
        }
        /* libseccomp refuses a rule whose action is the default one; it would
         * change nothing anyway. */
        if (action == def_action)
                return 0;

        json_array_foreach (names, i, e) {
                const char *name = json_string_value(e);
                int nr, r;
                if (!name)
                        return err_set(err, -EINVAL, "syscalls[%zu].names must be strings", idx);
                nr = seccomp_syscall_resolve_name(name);
                /* Profiles list syscalls newer than this libseccomp or not on
                 * this architecture (Docker's does): skip them, as runc does. */
                if (nr == __NR_SCMP_ERROR)
                        continue;
                if (dup_index) {
                        /* Several conditions on one argument can only be an
                         * "or": one rule each (the spec's semantics). */
                        for (unsigned k = 0; k < n_cmp; k++) {
                                r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[k]);
                                if (r < 0)
                                        return err_errno(err, r, "syscalls[%zu]: rule for '%s'",
                                                         idx, name);
                        }
                        continue;
                }
                r = seccomp_rule_add_array(ctx, action, nr, n_cmp, cmp);
                if (r < 0)
                        return err_errno(err, r, "syscalls[%zu]: rule for '%s'", idx, name);
        }
        return 0;
}

int rt_seccomp_compile(json_t *sc, struct rt_bpf *ret, struct berth_err *err)
{
        _cleanup_(ctx_releasep) scmp_filter_ctx ctx = NULL;
        const char *def = json_string_value(json_object_get(sc, "defaultAction"));
        json_t *def_errno_j = json_object_get(sc, "defaultErrnoRet"), *e;
        uint32_t def_errno =
            json_is_integer(def_errno_j) ? (uint32_t)json_integer_value(def_errno_j) : EPERM;
        uint32_t def_action;
        size_t i;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!def)
                return err_set(err, -EINVAL, "linux.seccomp: 'defaultAction' is missing");
        if (parse_action(def, def_errno, &def_action) < 0)
                return err_set(err, -EINVAL, "linux.seccomp: unknown defaultAction '%s'", def);
        if (json_object_get(sc, "listenerPath"))
                return err_set(err, -EOPNOTSUPP,
                               "linux.seccomp: listenerPath (SCMP_ACT_NOTIFY) is not supported");
        ctx = seccomp_init(def_action);
        if (!ctx)
                return err_set(err, -ENOMEM, "seccomp_init failed");
        /* no_new_privs is the process spec's decision, made separately. */
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        json_array_foreach (json_object_get(sc, "architectures"), i, e) {
                const char *a = json_string_value(e);
                uint32_t arch;
                if (!a || parse_arch(a, &arch) < 0)
                        return err_set(err, -EINVAL, "linux.seccomp: unknown architecture '%s'",
                                       a ? a : "(not a string)");
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return err_errno(err, r, "linux.seccomp: add architecture '%s'", a);
        }
        json_array_foreach (json_object_get(sc, "flags"), i, e) {
                const char *f = json_string_value(e);
                unsigned flag;
                if (!f || parse_flag(f, &flag) < 0)
                        return err_set(err, -EINVAL, "linux.seccomp: unknown flag '%s'",
                                       f ? f : "(not a string)");
                ret->flags |= flag;
        }
        json_array_foreach (json_object_get(sc, "syscalls"), i, e)
                if ((r = add_rule(ctx, e, i, def_action, def_errno, err)) < 0)
                        return err_wrap(err, r, "linux.seccomp");

        /* libseccomp 2.5 exports only to a file descriptor. */
        _cleanup_close_ int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return err_errno(err, -errno, "linux.seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return err_errno(err, r, "linux.seccomp: compile the filter");
        if (fstat(fd, &st) < 0)
                return err_errno(err, -errno, "linux.seccomp: fstat");
        if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return err_set(err, -E2BIG, "linux.seccomp: the compiled filter has %lld bytes",
                               (long long)st.st_size);
        ret->insns = xmalloc((size_t)st.st_size);
        if (pread(fd, ret->insns, (size_t)st.st_size, 0) != st.st_size) {
                rt_bpf_done(ret);
                return err_errno(err, -EIO, "linux.seccomp: read the compiled filter");
        }
        ret->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
        return 0;
}

/* The compiled-filter cache. libseccomp needs ~30 ms for Docker's profile
 * (three architectures, ~350 syscalls), more than the rest of `run`, and
 * every container of an engine uses the same few profiles. The file name is
 * a hash of the canonical JSON, and the file holds the JSON itself, which is
 * compared in full, so a hash collision can only cost a recompile. */
#define CACHE_MAGIC "BRTSECC1"

struct cache_hdr {
        char magic[8];
        uint32_t key_len, flags, n_insns, libseccomp;
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = UINT64_C(14695981039346656037);
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= UINT64_C(1099511628211);
        }
        return h;
}

static uint32_t libseccomp_version(void)
{
        const struct scmp_version *v = seccomp_version();
        return v ? (v->major << 16) | (v->minor << 8) | v->micro : 0;
}

int rt_seccomp_compile_cached(json_t *sc, const char *cache_dir, struct rt_bpf *ret,
                              struct berth_err *err)
{
        _cleanup_free_ char *key = json_dumps(sc, JSON_COMPACT | JSON_SORT_KEYS);
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t key_len, len = 0;
        struct cache_hdr h;
        int r;

        if (!key || !cache_dir)
                return rt_seccomp_compile(sc, ret, err);
        key_len = strlen(key);
        path = xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long)fnv1a(key, key_len));
        if (read_full_file(path, &data, &len) >= 0 && len >= sizeof(h)) {
                memcpy(&h, data, sizeof(h));
                if (memcmp(h.magic, CACHE_MAGIC, 8) == 0 && h.key_len == key_len &&
                    h.libseccomp == libseccomp_version() && h.n_insns > 0 &&
                    h.n_insns <= BPF_MAXINSNS &&
                    len == sizeof(h) + key_len + h.n_insns * sizeof(struct sock_filter) &&
                    memcmp(data + sizeof(h), key, key_len) == 0) {
                        memset(ret, 0, sizeof(*ret));
                        ret->flags = h.flags;
                        ret->len = (unsigned short)h.n_insns;
                        ret->insns = xmalloc(h.n_insns * sizeof(struct sock_filter));
                        memcpy(ret->insns, data + sizeof(h) + key_len,
                               h.n_insns * sizeof(struct sock_filter));
                        return 0;
                }
        }
        if ((r = rt_seccomp_compile(sc, ret, err)) < 0)
                return r;
        /* A cache that cannot be written only costs speed. */
        memset(&h, 0, sizeof(h));
        memcpy(h.magic, CACHE_MAGIC, 8);
        h.key_len = (uint32_t)key_len;
        h.flags = ret->flags;
        h.n_insns = ret->len;
        h.libseccomp = libseccomp_version();
        size_t blen = sizeof(h) + key_len + ret->len * sizeof(struct sock_filter);
        _cleanup_free_ char *buf = xmalloc(blen);
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), key, key_len);
        memcpy(buf + sizeof(h) + key_len, ret->insns, ret->len * sizeof(struct sock_filter));
        if (mkdir_p(cache_dir, 0700) >= 0)
                (void)write_file_atomic(path, buf, blen, 0600);
        return 0;
}

void rt_bpf_done(struct rt_bpf *bpf)
{
        free(bpf->insns);
        bpf->insns = NULL;
        bpf->len = 0;
}

int rt_seccomp_load(const struct rt_bpf *bpf, struct berth_err *err)
{
        struct sock_fprog prog = {.len = bpf->len, .filter = bpf->insns};
        if (!bpf->insns)
                return 0;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, bpf->flags, &prog) < 0)
                return err_errno(err, -errno, "load the seccomp filter");
        return 0;
}
