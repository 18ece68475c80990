#!/bin/bash
# seccomp from the spec: a deny rule, Docker's default profile, argument
# conditions, and a bad rule refused before anything is created.
source "$(dirname "$0")/runtime-lib.sh"

# unshare and mount, run with CAP_SYS_ADMIN so only seccomp can refuse them.
probe="unshare -u true 2>&1; echo unshare=\$?; mount -t tmpfs none /mnt 2>&1; echo mount=\$?; echo alive"
admin="for s in ('bounding','effective','permitted'): c['process']['capabilities'][s].append('CAP_SYS_ADMIN')"

mkbundle deny "$admin" "c['process']['args']=['sh','-c','$probe']" \
        "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64'],'syscalls':[{'names':['unshare','mount'],'action':'SCMP_ACT_ERRNO','errnoRet':1}]}"
out=$(rt run -b "$T/deny" deny </dev/null)
echo "$out" | grep -q "unshare=1" || fail "unshare was not refused: $out"
echo "$out" | grep -q "Operation not permitted" || fail "not EPERM: $out"
echo "$out" | grep -q "mount=255\|mount=1" || fail "mount was not refused: $out"
echo "$out" | grep -qx alive || fail "$out"
ok "a rule denying unshare and mount gives EPERM inside"

mkbundle docker "docker_spec()" "c['process']['args']=['sh','-c','$probe; grep Seccomp: /proc/self/status; ls / >/dev/null && echo ls-ok']"
out=$(rt run -b "$T/docker" docker </dev/null)
echo "$out" | grep -q "unshare=1" || fail "docker profile: unshare allowed: $out"
echo "$out" | grep -q "mount=255\|mount=1" || fail "docker profile: mount allowed: $out"
echo "$out" | grep -q "Operation not permitted" || fail "docker profile: not EPERM: $out"
echo "$out" | grep -q "Seccomp:.*2" || fail "no filter: $out"
echo "$out" | grep -qx ls-ok || fail "docker profile breaks ls: $out"
ok "Docker's default profile: unshare and mount fail with EPERM, ordinary commands work"

# Cached: the second run must reuse the compiled filter.
ls "$STATE/.seccomp-cache/"*.bpf >/dev/null 2>&1 || fail "no compiled filter in the cache"
rt run -b "$T/docker" docker2 </dev/null >/dev/null
ok "the compiled filter is cached under the state root"

# Argument conditions: personality(0xffffffff) allowed only with arg0 == 0xffffffff.
mkbundle args "c['process']['args']=['sh','-c','unshare -u true 2>/dev/null; echo \$?']" "$admin" \
        "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['unshare'],'action':'SCMP_ACT_ERRNO','errnoRet':1,'args':[{'index':0,'value':0x04000000,'valueTwo':0x04000000,'op':'SCMP_CMP_MASKED_EQ'}]}]}"
out=$(rt run -b "$T/args" args </dev/null)
[ "$out" = 1 ] || fail "masked-eq condition on unshare(CLONE_NEWUTS): $out"
ok "argument conditions (SCMP_CMP_MASKED_EQ)"

for bad in "{'defaultAction':'SCMP_ACT_BOGUS'}" \
           "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':9,'value':1,'op':'SCMP_CMP_EQ'}]}]}" \
           "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'SCMP_CMP_SOMETIMES'}]}]}" \
           "{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_PDP11']}"; do
        mkbundle bad "c['linux']['seccomp']=$bad"
        if rt run -b "$T/bad" bad 2>"$T/err"; then fail "bad seccomp $bad accepted"; fi
        grep -q "seccomp" "$T/err" || fail "error does not name seccomp: $(cat "$T/err")"
        assert_clean "bad seccomp rule"
        echo "   $(cat "$T/err")"
        rm -rf "$T/bad"
done
ok "bad seccomp rules are refused clearly and leave nothing behind"
