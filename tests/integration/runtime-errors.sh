#!/bin/bash
# Every failure path names its cause and leaves no mount, cgroup, state or
# process behind.
source "$(dirname "$0")/runtime-lib.sh"

expect_fail() { # NAME PATTERN: run bundle NAME, which must fail with PATTERN
        local name=$1 pattern=$2
        if rt run -b "$T/$name" "$name" </dev/null >/dev/null 2>"$T/err"; then
                fail "$name: succeeded"
        fi
        grep -q -- "$pattern" "$T/err" || fail "$name: error '$(cat "$T/err")' lacks '$pattern'"
        assert_clean "$name"
        ok "$name: $(cat "$T/err")"
}
nprocs() { ls -d /proc/[0-9]* | wc -l; }
# this test's own runtime processes: other suites may run berth-runtime
# at the same time
mine() { pgrep -c -f -- "--root $STATE" || true; }
before=$(mine)

mkbundle badjson
echo '{"ociVersion": "1.0.2", "process": {' >"$T/badjson/config.json"
expect_fail badjson "config.json': line"

mkbundle badtype "c['process']['args']='true'"
expect_fail badtype "'process.args' must be an array of strings"

mkbundle noroot "c['root']['path']='$T/nonexistent'"
expect_fail noroot "rootfs '$T/nonexistent': No such file or directory"

mkbundle nons \
        "[n.update(path='$T/no-such-ns') for n in c['linux']['namespaces'] if n['type']=='network']"
expect_fail nons "network namespace path '$T/no-such-ns': No such file or directory"

mkbundle notns "[n.update(path='$T/rootfs/etc/passwd') for n in c['linux']['namespaces'] if n['type']=='uts']"
expect_fail notns "join uts namespace '$T/rootfs/etc/passwd': Invalid argument"

mkbundle unkns "c['linux']['namespaces'].append({'type':'bogus'})"
expect_fail unkns "unknown type 'bogus'"

mkbundle badseccomp "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_NOPE'}]}"
expect_fail badseccomp "unknown action 'SCMP_ACT_NOPE'"

mkbundle badcap "c['process']['capabilities']['bounding'].append('CAP_BOGUS')"
expect_fail badcap "unknown capability 'CAP_BOGUS'"

mkbundle noexe "c['process']['args']=['/no/such/program']"
expect_fail noexe "stat /no/such/program: no such file or directory"

mkbundle badmount "c['mounts'].append({'destination':'/mnt','type':'bind','source':'$T/no-such-dir','options':['rbind']})"
expect_fail badmount "source '$T/no-such-dir': No such file or directory"

mkbundle badcg "c['linux']['resources']['cpu']={'cpus':'999'}"
expect_fail badcg "cpuset.cpus"

mkbundle dup "c['process']['args']=['sleep','100']"
rt run -d -b "$T/dup" dup </dev/null
if rt run -d -b "$T/dup" dup 2>"$T/err"; then fail "a second container with the same id"; fi
grep -q "container 'dup' already exists" "$T/err" || fail "duplicate id: $(cat "$T/err")"
rt delete --force dup
assert_clean
ok "duplicate id: $(cat "$T/err")"

[ "$(mine)" = "$before" ] || fail "berth-runtime processes left behind"
ok "no runtime process left behind"
