# Shared by tests/integration/runtime-*.sh (sourced, not a test itself).
# Each test gets a temp dir /tmp/berth-rt-<name>.XXXXXX with a busybox rootfs,
# a state root inside it, and cgroup paths /berth-rt-test-<pid>-<n> (one
# level, so removing the container's cgroup leaves nothing). On exit every
# container under the state root is force-deleted and the checks below fail
# the test if a mount, cgroup or process is left behind.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
BERTH_BUILD_DIR=${BERTH_BUILD_DIR:?}
BERTH_SOURCE_DIR=${BERTH_SOURCE_DIR:?}
RT_BIN=$BERTH_BUILD_DIR/bin/berth-runtime
[ -x "$RT_BIN" ] || { echo "SKIP: $RT_BIN not built"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/berth-rt-$TEST_NAME.XXXXXX")
chmod 0755 "$T" # a user-namespaced root (host uid 100000) must reach the rootfs
STATE=$T/state
CG_PREFIX=berth-rt-test-$$
N_CG=0
bash "$BERTH_SOURCE_DIR/tests/lib/mkrootfs.sh" "$T/rootfs"

rt() { "$RT_BIN" --root "$STATE" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

leftovers() {
        local bad=0
        if grep -q "$T" /proc/self/mountinfo; then
                echo "LEFTOVER mounts:" >&2; grep "$T" /proc/self/mountinfo >&2; bad=1
        fi
        if ls -d /sys/fs/cgroup/*/"$CG_PREFIX"* /sys/fs/cgroup/"$CG_PREFIX"* 2>/dev/null | grep -q .; then
                echo "LEFTOVER cgroups:" >&2
                ls -d /sys/fs/cgroup/*/"$CG_PREFIX"* /sys/fs/cgroup/"$CG_PREFIX"* 2>/dev/null >&2; bad=1
        fi
        if [ -d "$STATE" ] && [ -n "$(ls "$STATE")" ]; then
                echo "LEFTOVER state: $(ls "$STATE")" >&2; bad=1
        fi
        return $bad
}

cleanup() {
        local rc=$?
        if [ -d "$STATE" ]; then
                for c in $(ls "$STATE" 2>/dev/null); do rt delete --force "$c" >/dev/null 2>&1 || true; done
        fi
        for d in /sys/fs/cgroup/*/"$CG_PREFIX"* /sys/fs/cgroup/"$CG_PREFIX"*; do
                [ -d "$d" ] && rmdir "$d" 2>/dev/null
        done
        rm -rf "$T"
        exit $rc
}
trap cleanup EXIT

# assert_clean: nothing of ours is left on the host now.
assert_clean() { leftovers || fail "resources left behind${1:+ after $1}"; }

# mkbundle NAME [PYTHON-STATEMENT...]: a bundle in $T/NAME whose config is
# runc's default template, non-interactive, with the shared rootfs and a
# test-unique cgroup, then each statement applied to the dict `c`.
mkbundle() {
        local name=$1; shift
        local b=$T/$name
        N_CG=$((N_CG + 1))
        mkdir -p "$b"
        rt spec --bundle "$b"
        python3 - "$b/config.json" "$T/rootfs" "/$CG_PREFIX-$N_CG" "$@" <<'PY'
import json, sys
path, rootfs, cg = sys.argv[1:4]
c = json.load(open(path))
c['process']['terminal'] = False
c['process']['args'] = ['true']
c['root'] = {'path': rootfs, 'readonly': False}
c['linux']['cgroupsPath'] = cg
def docker_caps():
    return ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD',
            'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP',
            'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']
def docker_seccomp(caps=None):
    # Docker's default profile, resolved for x86_64 and the given capabilities
    # the way dockerd does it (includes/excludes), from the containers-common
    # copy on this machine, with Docker's CAP_SYS_ADMIN-only calls (mount,
    # unshare, setns, ...) moved out of the plain allow list as Docker has them.
    caps = set(caps if caps is not None else docker_caps())
    p = json.load(open('/usr/share/containers/seccomp.json'))
    admin_only = {'mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'name_to_handle_at',
                  'fsconfig', 'fsmount', 'fsopen', 'fspick', 'move_mount', 'open_tree',
                  'mount_setattr', 'syslog', 'quotactl', 'quotactl_fd', 'clone3', 'clone'}
    out = {'defaultAction': p['defaultAction'], 'defaultErrnoRet': 1,  # Docker's: EPERM
           'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], 'syscalls': []}
    for s in p['syscalls']:
        inc, exc = s.get('includes') or {}, s.get('excludes') or {}
        if inc.get('arches') and 'amd64' not in inc['arches']: continue
        if exc.get('arches') and 'amd64' in exc['arches']: continue
        if inc.get('caps') and not set(inc['caps']) <= caps: continue
        if exc.get('caps') and set(exc['caps']) <= caps: continue
        r = {k: v for k, v in s.items() if k in ('names', 'action', 'args', 'errnoRet')}
        if 'CAP_SYS_ADMIN' not in caps and r['action'] == 'SCMP_ACT_ALLOW' and not r.get('args'):
            r['names'] = [n for n in r['names'] if n not in admin_only]
        if r['names']: out['syscalls'].append(r)
    if 'CAP_SYS_ADMIN' not in caps:
        # Docker: clone without namespace flags; clone3 says ENOSYS so libc falls back
        out['syscalls'].append({'names': ['clone'], 'action': 'SCMP_ACT_ALLOW',
                                'args': [{'index': 0, 'value': 2114060288, 'op': 'SCMP_CMP_MASKED_EQ', 'valueTwo': 0}]})
        out['syscalls'].append({'names': ['clone3'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38})
    return out
def docker_spec():
    caps = docker_caps()
    c['process']['capabilities'] = {k: list(caps) for k in ('bounding', 'effective', 'permitted')}
    c['process']['noNewPrivileges'] = False
    c['linux']['seccomp'] = docker_seccomp(caps)
for stmt in sys.argv[4:]:
    exec(stmt)
json.dump(c, open(path, 'w'), indent=1)
PY
}

# The cgroup directory of the last bundle for a v1 controller (or v2).
cgdir() {
        local ctrl=$1
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup/$CG_PREFIX-$N_CG"
        else echo "/sys/fs/cgroup/$ctrl/$CG_PREFIX-$N_CG"; fi
}
