/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cgroup v2 resource files. The spec speaks v1 (shares, memory+swap,
 * blkio weight); the conversions below are the ones runc and crun use, so a
 * spec means the same on either kind of host. v2 has no devices.allow:
 * device rules become a small BPF_PROG_TYPE_CGROUP_DEVICE program. */

#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "runtime-internal.h"

uint64_t rt_cg_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

static int set(const struct rt_cgroup_layout *l, const char *dir, const char *file,
               struct berth_err *err, const char *fmt, ...) _printf_(5, 6);
static int set(const struct rt_cgroup_layout *l, const char *dir, const char *file,
               struct berth_err *err, const char *fmt, ...)
{
        _cleanup_free_ char *val = NULL;
        va_list ap;
        int r;
        va_start(ap, fmt);
        if (vasprintf(&val, fmt, ap) < 0)
                val = NULL;
        va_end(ap);
        if (!val)
                return err_set(err, -ENOMEM, "out of memory");
        if ((r = rt_cg_write(l, dir, file, val)) < 0) {
                if (r == -ENOENT)
                        return err_set(err, r,
                                       "'%s/%s' does not exist: is its controller enabled in "
                                       "this cgroup?",
                                       dir, file);
                return err_errno(err, r, "write '%s' to '%s/%s'", val, dir, file);
        }
        return 0;
}

/* Enable in every ancestor the controllers the hierarchy offers, so the
 * leaf gets their files ("no internal processes" allows this for the
 * ancestors we create; they hold no processes). */
int rt_cg_v2_enable_controllers(const struct rt_cgroup_layout *l, const char *path,
                                struct berth_err *err)
{
        _cleanup_free_ char *avail = NULL,
                            *rootctl = xasprintf("%s/cgroup.controllers", l->unified);
        _cleanup_free_ char *p = xstrdup(path), *cur = xstrdup(l->unified);
        _cleanup_strv_ char **ctrls = NULL;
        char buf[256] = "";
        char *save = NULL, *next_tok;
        if (read_full_file(rootctl, &avail, NULL) < 0)
                return 0;
        ctrls = strv_split(avail, " \n");
        for (char **c = ctrls; *c; c++) {
                if (!streq(*c, "cpu") && !streq(*c, "cpuset") && !streq(*c, "memory") &&
                    !streq(*c, "pids") && !streq(*c, "io"))
                        continue;
                size_t len = strlen(buf);
                snprintf(buf + len, sizeof(buf) - len, "%s+%s", len ? " " : "", *c);
        }
        if (!buf[0])
                return 0;
        char *tok = strtok_r(p, "/", &save);
        while (tok) {
                next_tok = strtok_r(NULL, "/", &save);
                int r = rt_cg_write(l, cur, "cgroup.subtree_control", buf);
                if (r < 0 && r != -EBUSY)
                        return err_errno(err, r, "enable controllers '%s' in '%s'", buf, cur);
                char *n = xasprintf("%s/%s", cur, tok);
                free(cur);
                cur = n;
                tok = next_tok;
        }
        return 0;
}

/* The device program. The kernel hands it struct bpf_cgroup_dev_ctx
 * {access_type = access << 16 | type, major, minor}; it returns 1 to allow.
 * OCI rules are ordered and the last match wins, so they are emitted last
 * first and the first match returns; nothing matching means deny. */
#define INSN(c, d, s_, o, i) \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i)})

struct prog {
        struct bpf_insn *v;
        size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
        if (p->n == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 64;
                p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
        }
        p->v[p->n++] = i;
}

static void emit_rule(struct prog *p, const struct runtime_dev_rule *d)
{
        size_t start = p->n;
        uint32_t acc = 0;
        for (const char *a = d->access; *a; a++)
                acc |= *a == 'm'   ? BPF_DEVCG_ACC_MKNOD
                       : *a == 'r' ? BPF_DEVCG_ACC_READ
                                   : BPF_DEVCG_ACC_WRITE;
        /* Jumps out of the block get off = -1 now, fixed below. */
        if (d->type != 'a')
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 3, 0, -1,
                             d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
        if (d->major >= 0)
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, -1, (int32_t)d->major));
        if (d->minor >= 0)
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, -1, (int32_t)d->minor));
        emit(p, INSN(BPF_ALU | BPF_MOV | BPF_X, 7, 4, 0, 0));
        if (d->allow) {
                /* allow only if every requested access is allowed */
                emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, 7, 0, 0, (int32_t)~acc));
                emit(p, INSN(BPF_JMP | BPF_JNE | BPF_K, 7, 0, -1, 0));
        } else {
                /* deny if any requested access is denied */
                emit(p, INSN(BPF_ALU | BPF_AND | BPF_K, 7, 0, 0, (int32_t)acc));
                emit(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, 7, 0, -1, 0));
        }
        emit(p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0));
        emit(p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        for (size_t i = start; i < p->n; i++)
                if (BPF_CLASS(p->v[i].code) == BPF_JMP && BPF_OP(p->v[i].code) != BPF_EXIT &&
                    p->v[i].off == -1)
                        p->v[i].off = (int16_t)(p->n - i - 1);
}

int rt_cg_v2_devices(const char *dir, const struct runtime_dev_rule *rules, size_t n,
                     struct berth_err *err)
{
        static const struct runtime_dev_rule defaults[] = {
            {true, 'c', 1, 3, "rwm"},   {true, 'c', 1, 5, "rwm"}, {true, 'c', 1, 7, "rwm"},
            {true, 'c', 1, 8, "rwm"},   {true, 'c', 1, 9, "rwm"}, {true, 'c', 5, 0, "rwm"},
            {true, 'c', 5, 1, "rwm"},   {true, 'c', 5, 2, "rwm"}, {true, 'c', 136, -1, "rwm"},
            {true, 'c', 10, 200, "rwm"}};
        struct prog p = {0};
        char log[4096] = "";
        int r = 0;

        /* r2 = access_type, r3 = type, r4 = access, r5 = major, r6 = minor */
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0));
        emit(&p, INSN(BPF_ALU | BPF_MOV | BPF_X, 3, 2, 0, 0));
        emit(&p, INSN(BPF_ALU | BPF_AND | BPF_K, 3, 0, 0, 0xFFFF));
        emit(&p, INSN(BPF_ALU | BPF_MOV | BPF_X, 4, 2, 0, 0));
        emit(&p, INSN(BPF_ALU | BPF_RSH | BPF_K, 4, 0, 0, 16));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, 4, 0));
        emit(&p, INSN(BPF_LDX | BPF_MEM | BPF_W, 6, 1, 8, 0));
        for (size_t i = ELEMENTSOF(defaults); i > 0; i--)
                emit_rule(&p, &defaults[i - 1]);
        for (size_t i = n; i > 0; i--)
                emit_rule(&p, &rules[i - 1]);
        emit(&p, INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
        emit(&p, INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));

        union bpf_attr load = {0};
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (uint64_t)(uintptr_t)p.v;
        load.insn_cnt = (uint32_t)p.n;
        load.license = (uint64_t)(uintptr_t) "GPL";
        int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
        if (prog < 0) {
                /* Again with the verifier's log, for the message only (with
                 * a log the load can fail just because the log is full). */
                r = -errno;
                load.log_buf = (uint64_t)(uintptr_t)log;
                load.log_size = sizeof(log);
                load.log_level = 1;
                int again = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
                safe_close(again);
                free(p.v);
                return err_errno(err, r, "load the device cgroup program (%.200s)",
                                 log[0] ? log : "no verifier log");
        }
        free(p.v);
        int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0) {
                r = err_errno(err, -errno, "open cgroup '%s'", dir);
        } else {
                union bpf_attr at = {0};
                at.target_fd = (uint32_t)cg;
                at.attach_bpf_fd = (uint32_t)prog;
                at.attach_type = BPF_CGROUP_DEVICE;
                at.attach_flags = BPF_F_ALLOW_MULTI;
                if (syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at)) < 0)
                        r = err_errno(err, -errno, "attach the device program to '%s'", dir);
                safe_close(cg);
        }
        /* The attachment holds the program; the cgroup's removal drops it. */
        safe_close(prog);
        return r;
}

int rt_cg_v2_apply(const struct rt_cgroup_layout *l, const char *path,
                   const struct runtime_resources *res, struct berth_err *err)
{
        _cleanup_free_ char *dir = xasprintf("%s%s", l->unified, path);
        static const char *thr_keys[4] = {"rbps", "wbps", "riops", "wiops"};
        int r;
        if (res->mem_limit > 0 &&
            (r = set(l, dir, "memory.max", err, "%" PRId64, res->mem_limit)) < 0)
                return r;
        if (res->mem_reservation > 0 &&
            (r = set(l, dir, "memory.low", err, "%" PRId64, res->mem_reservation)) < 0)
                return r;
        /* The spec's swap is memory+swap (v1); v2 limits swap alone. */
        if (res->mem_swap == -1 && res->mem_limit > 0) {
                if ((r = set(l, dir, "memory.swap.max", err, "max")) < 0 && r != -ENOENT)
                        return r;
        } else if (res->mem_swap > 0 && res->mem_limit > 0) {
                if (res->mem_swap < res->mem_limit)
                        return err_set(err, -EINVAL,
                                       "memory.swap (%" PRId64 ") is below memory.limit "
                                       "(%" PRId64 ")",
                                       res->mem_swap, res->mem_limit);
                if ((r = set(l, dir, "memory.swap.max", err, "%" PRId64,
                             res->mem_swap - res->mem_limit)) < 0)
                        return r;
        }
        if (res->cpu_shares > 0 && (r = set(l, dir, "cpu.weight", err, "%" PRIu64,
                                            rt_cg_shares_to_weight((uint64_t)res->cpu_shares))) < 0)
                return r;
        if ((res->cpu_quota > 0 || res->cpu_period > 0)) {
                char q[32];
                if (res->cpu_quota > 0)
                        snprintf(q, sizeof(q), "%" PRId64, res->cpu_quota);
                else
                        snprintf(q, sizeof(q), "max");
                if ((r = set(l, dir, "cpu.max", err, "%s %" PRId64, q,
                             res->cpu_period > 0 ? res->cpu_period : 100000)) < 0)
                        return r;
        }
        if (res->cpuset_cpus && *res->cpuset_cpus &&
            (r = set(l, dir, "cpuset.cpus", err, "%s", res->cpuset_cpus)) < 0)
                return r;
        if (res->cpuset_mems && *res->cpuset_mems &&
            (r = set(l, dir, "cpuset.mems", err, "%s", res->cpuset_mems)) < 0)
                return r;
        if (res->pids_max && (r = set(l, dir, "pids.max", err, "max")) < 0)
                return r;
        if (res->pids_limit > 0 &&
            (r = set(l, dir, "pids.max", err, "%" PRId64, res->pids_limit)) < 0)
                return r;
        if (res->blkio_weight > 0) {
                /* blkio weight 10..1000 -> io weight 1..10000 */
                uint64_t w = 1 + ((uint64_t)res->blkio_weight - 10) * 9999 / 990;
                if ((r = set(l, dir, "io.weight", err, "default %" PRIu64, w)) < 0 &&
                    (r = set(l, dir, "io.bfq.weight", err, "%" PRId64, res->blkio_weight)) < 0)
                        return r;
        }
        for (int k = 0; k < 4; k++)
                for (size_t i = 0; i < res->n_throttle[k]; i++)
                        if ((r = set(l, dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                                     res->throttle[k][i].major, res->throttle[k][i].minor,
                                     thr_keys[k], res->throttle[k][i].rate)) < 0)
                                return r;
        if (res->n_devices > 0 && !l->fake)
                return rt_cg_v2_devices(dir, res->devices, res->n_devices, err);
        return 0;
}
