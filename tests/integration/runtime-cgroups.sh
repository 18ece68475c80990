#!/bin/bash
# cgroups (v1 controllers on this hybrid host, v2 on a pure v2 host): limits
# from the spec land in the container's cgroup, a fork bomb is bounded by
# pids.max, an allocation over the memory limit is OOM-killed and reported,
# and the cgroup is removed on delete.
source "$(dirname "$0")/runtime-lib.sh"
v2=false; [ -f /sys/fs/cgroup/cgroup.controllers ] && v2=true

mkbundle res "c['process']['args']=['sleep','100']" \
        "c['linux']['resources'].update({'memory':{'limit':67108864,'reservation':33554432},'cpu':{'shares':512,'quota':50000,'period':100000,'cpus':'0'},'pids':{'limit':50}})"
rt run -d -b "$T/res" res </dev/null
if $v2; then
        d=$(cgdir x)
        [ "$(cat "$d/memory.max")" = 67108864 ] || fail "memory.max"
        [ "$(cat "$d/pids.max")" = 50 ] || fail "pids.max"
        [ "$(cat "$d/cpu.max")" = "50000 100000" ] || fail "cpu.max"
else
        [ "$(cat "$(cgdir memory)/memory.limit_in_bytes")" = 67108864 ] || fail "memory.limit_in_bytes"
        [ "$(cat "$(cgdir memory)/memory.soft_limit_in_bytes")" = 33554432 ] || fail "soft limit"
        [ "$(cat "$(cgdir cpu)/cpu.shares")" = 512 ] || fail "cpu.shares"
        [ "$(cat "$(cgdir cpu)/cpu.cfs_quota_us")" = 50000 ] || fail "cfs_quota"
        [ "$(cat "$(cgdir cpuset)/cpuset.cpus")" = 0 ] || fail "cpuset.cpus"
        [ "$(cat "$(cgdir pids)/pids.max")" = 50 ] || fail "pids.max"
        pid=$(rt state res | jq -r .pid)
        grep -qx "$pid" "$(cgdir freezer)/cgroup.procs" || fail "not in the freezer cgroup"
        # The container sees its own cgroup at /sys/fs/cgroup/<ctrl>.
        inside=$(rt exec res cat /sys/fs/cgroup/pids/pids.max) || fail "exec: $inside"
        [ "$inside" = 50 ] || fail "cgroup mount inside: $inside"
        # an exec'd process joins every cgroup of the container's init
        same=$(rt exec res sh -c 'a=$(cat /proc/self/cgroup); b=$(cat /proc/1/cgroup); [ "$a" = "$b" ] && echo same || { echo "$a"; echo ---; echo "$b"; }')
        [ "$same" = same ] || fail "exec'd process outside the container's cgroups: $same"
fi
rt delete --force res
assert_clean "delete"
ok "memory, cpu, cpuset, pids limits applied; cgroup visible inside; removed on delete"

mkbundle bomb "c['linux']['resources']['pids']={'limit':20}" \
        "c['process']['args']=['sh','-c','(i=0; while [ \$i -lt 60 ]; do sleep 5 & i=\$((i+1)); done) 2>/dev/null; set -- /proc/[0-9]*; echo \$#']"
n=$(rt run -b "$T/bomb" bomb </dev/null 2>/dev/null | tail -n1)
[ "$n" -le 20 ] || fail "fork bomb made $n processes with pids.max 20"
assert_clean "fork bomb"
ok "a fork bomb is bounded by the pids limit ($n processes with pids.max 20)"

mkbundle oom "c['linux']['resources']['memory']={'limit':33554432,'swap':33554432}" \
        "c['process']['args']=['dd','if=/dev/zero','of=/dev/null','bs=64M','count=1']"
rc=0; rt run -b "$T/oom" oom </dev/null 2>"$T/err" || rc=$?
[ $rc = 137 ] || fail "OOM: exit code $rc, want 137 ($(cat "$T/err"))"
grep -q "killed by the OOM killer" "$T/err" || fail "OOM not reported: $(cat "$T/err")"
assert_clean "oom"
ok "an allocation over the memory limit is OOM-killed and reported: $(cat "$T/err")"

mkbundle sd "c['linux']['cgroupsPath']='system.slice:berth:x'"
if rt run -b "$T/sd" sd 2>"$T/err"; then fail "a systemd cgroupsPath was accepted"; fi
grep -q "systemd" "$T/err" || fail "systemd cgroupsPath error: $(cat "$T/err")"
assert_clean
ok "a systemd-style cgroupsPath is refused clearly"
