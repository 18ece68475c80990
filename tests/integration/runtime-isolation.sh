#!/bin/bash
# Each namespace isolates; rootfs, masked and read-only paths; the process
# spec (user, groups, env, cwd, umask, rlimits, no_new_privs, capabilities).
source "$(dirname "$0")/runtime-lib.sh"

run_out() { rt run -b "$T/$1" "$1" </dev/null; }

mkbundle ns "c['hostname']='box1'" \
        "c['process']['args']=['sh','-c','echo pid=\$\$; hostname; ls /sys/class/net | tr \"\\n\" \" \"; echo; for n in ipc mnt net uts pid; do readlink /proc/self/ns/\$n; done; mount -t tmpfs none /tmp && echo mounted']" \
        "c['process']['capabilities']['bounding'].append('CAP_SYS_ADMIN')" \
        "c['process']['capabilities']['effective'].append('CAP_SYS_ADMIN')" \
        "c['process']['capabilities']['permitted'].append('CAP_SYS_ADMIN')"
out=$(run_out ns)
echo "$out" | grep -qx "pid=1" || fail "not pid 1: $out"
echo "$out" | grep -qx "box1" || fail "hostname: $out"
[ "$(hostname)" != box1 ] || fail "the host's hostname changed"
echo "$out" | grep -qx "lo " || fail "network namespace has more than lo: $out"
for n in ipc mnt net uts pid; do
        inside=$(echo "$out" | grep "^$n:")
        [ "$inside" != "$(readlink /proc/self/ns/$n)" ] || fail "$n namespace is the host's"
done
echo "$out" | grep -qx mounted || fail "mount inside: $out"
grep -q " $T/rootfs/tmp " /proc/self/mountinfo && fail "a mount inside leaked to the host"
ok "pid 1, own hostname, only lo, own ipc/mnt/net/uts/pid namespaces, mounts stay inside"

mkbundle caps "docker_spec()" "c['process']['args']=['sh','-c','grep CapEff /proc/self/status']"
out=$(run_out caps)
[ "$out" = "CapEff:	00000000a80425fb" ] || fail "docker's capability set gives '$out'"
ok "CapEff with Docker's default set is 00000000a80425fb"

# runc spec's own bundle: ambient capabilities that are not inheritable are
# left out (the kernel cannot raise them), as runc does, not refused
mkbundle amb "c['process']['capabilities']={'bounding':['CAP_KILL','CAP_CHOWN'],'effective':['CAP_KILL','CAP_CHOWN'],'permitted':['CAP_KILL','CAP_CHOWN'],'inheritable':['CAP_CHOWN'],'ambient':['CAP_KILL','CAP_CHOWN']}" \
        "c['process']['args']=['sh','-c','grep CapAmb /proc/self/status']"
out=$(run_out amb) || fail "a bundle with non-inheritable ambient capabilities is refused: $out"
[ "$out" = "CapAmb:	0000000000000001" ] || fail "ambient set: '$out' (want CAP_CHOWN only)"
ok "ambient capabilities: the inheritable ones raised, the others left out"

mkbundle ro "c['root']['readonly']=True" \
        "c['process']['args']=['sh','-c','touch /x 2>/dev/null && echo rootfs-writable; (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys-writable; wc -c < /proc/timer_list; ls /sys/firmware | wc -l; touch /dev/shm/ok && echo shm-ok']"
out=$(run_out ro)
echo "$out" | grep -q writable && fail "read-only paths are writable: $out"
[ "$(echo "$out" | sed -n 1p)" = 0 ] || fail "/proc/timer_list is not masked: $out"
[ "$(echo "$out" | sed -n 2p)" = 0 ] || fail "/sys/firmware is not masked: $out"
echo "$out" | grep -qx shm-ok || fail "/dev/shm: $out"
ok "read-only rootfs, read-only /proc/sys, masked /proc/timer_list and /sys/firmware"

mkbundle proc "c['process']['user']={'uid':1000,'gid':1000,'additionalGids':[10,20],'umask':0o077}" \
        "c['process']['cwd']='/tmp'" "c['process']['env'].append('FOO=bar baz')" \
        "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':321,'hard':654},{'type':'RLIMIT_NPROC','soft':1000,'hard':1000}]" \
        "c['process']['args']=['sh','-c','id -u; id -g; id -G; pwd; echo \$FOO; umask; ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; ls -l /dev/null | cut -c1-10']"
out=$(run_out proc)
expect="1000
1000
1000 10 20
/tmp
bar baz
0077
321
654
NoNewPrivs:	1
crw-rw-rw-"
[ "$out" = "$expect" ] || fail "process spec: got
$out"
ok "uid, gid, additional gids, cwd, env, umask, rlimits, no_new_privs, /dev nodes"

big=$(( $(ulimit -Hn) + 1 ))
mkbundle rl "c['process']['rlimits']=[{'type':'RLIMIT_NOFILE','soft':1024,'hard':$big}]"
if rt run -b "$T/rl" rl 2>"$T/err"; then fail "an rlimit above the hard limit was accepted"; fi
grep -q "RLIMIT_NOFILE hard limit $big is above this host's hard limit" "$T/err" ||
        fail "rlimit error: $(cat "$T/err")"
assert_clean "rlimit refusal"
ok "an rlimit above the host's hard limit is refused clearly: $(cat "$T/err")"

mkbundle sys "c['linux']['sysctl']={'net.ipv4.ip_forward':'1'}" "c['process']['oomScoreAdj']=500" \
        "c['process']['args']=['sh','-c','cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj']"
out=$(run_out sys | tr '\n' ' ')
[ "$out" = "1 500 " ] || fail "sysctl/oomScoreAdj: $out"
ok "sysctl and oomScoreAdj"

mkbundle init "c['process']['args']=['sh','-c','sleep 0.1 & sleep 0.1 & wait; echo \$\$; cat /proc/1/comm']"
out=$(rt run --init -b "$T/init" init </dev/null | tr '\n' ' ')
[ "$out" = "2 berth-init " ] || fail "--init: $out"
mkbundle init2 "c['process']['args']=['sh','-c','trap \"echo got-term; exit 0\" TERM; while :; do sleep 0.05; done']"
rt run -d --init -b "$T/init2" init2 >"$T/init2.out" </dev/null
sleep 0.3
rt kill init2 TERM
for i in $(seq 100); do [ "$(rt state init2 | jq -r .status)" = stopped ] && break; sleep 0.05; done
[ "$(rt state init2 | jq -r .status)" = stopped ] || fail "--init did not forward SIGTERM"
grep -q got-term "$T/init2.out" || fail "--init: the child did not get SIGTERM"
rt delete init2
ok "--init: pid 1 is berth-init, reaps, forwards signals"
assert_clean
