#!/bin/bash
# berth-runtime: run, create/start/state/kill/delete, list, ps, exec,
# pause/resume, spec, features, and the global flags.
source "$(dirname "$0")/runtime-lib.sh"

mkbundle b "c['process']['args']=['sh','-c','exit 3']"
rc=0; rt run -b "$T/b" c1 || rc=$?
[ $rc = 3 ] || fail "run: exit code $rc, want 3"
assert_clean "run"
ok "run returns the container's exit code and removes the container"

mkbundle sleeper "c['process']['args']=['sleep','1000']"
rt create -b "$T/sleeper" --pid-file "$T/pid" c2 </dev/null
[ "$(rt state c2 | jq -r .status)" = created ] || fail "state after create"
pid=$(rt state c2 | jq -r .pid)
[ "$pid" = "$(cat "$T/pid")" ] || fail "pid file"
# until its exec, the init runs berth-runtime's code from a sealed copy:
# the container cannot write the host's binary through /proc/PID/exe
[ "$(readlink "/proc/$pid/exe")" = "/memfd:berth-runtime (deleted)" ] ||
        fail "the created init runs from $(readlink "/proc/$pid/exe"), not a sealed copy"
[ "$(rt list -q)" = c2 ] || fail "list -q"
rt list --format json | jq -e '.[0].id == "c2"' >/dev/null || fail "list json"
rt start c2
[ "$(rt state c2 | jq -r .status)" = running ] || fail "state after start"
grep -q sleep "/proc/$pid/cmdline" || fail "the container's process is not sleep"
rt ps --format json c2 | jq -e "index($pid) != null" >/dev/null || fail "ps"
ok "create, start, state, list, ps"

out=$(rt exec c2 sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "')
echo "$out" | grep -q "sleep 1000" || fail "exec does not see pid 1 of the container: $out"
rc=0; rt exec c2 sh -c 'exit 7' || rc=$?
[ $rc = 7 ] || fail "exec exit code $rc"
ok "exec joins the container and returns its exit code"

rt pause c2
[ "$(rt state c2 | jq -r .status)" = paused ] || fail "pause"
rt resume c2
[ "$(rt state c2 | jq -r .status)" = running ] || fail "resume"
ok "pause and resume through the freezer"

if rt delete c2 2>"$T/err"; then fail "delete of a running container without --force"; fi
grep -q "running" "$T/err" || fail "delete error: $(cat "$T/err")"
rt kill c2 KILL
for i in $(seq 100); do [ "$(rt state c2 | jq -r .status)" = stopped ] && break; sleep 0.05; done
[ "$(rt state c2 | jq -r .status)" = stopped ] || fail "kill"
rt delete c2
assert_clean "delete"
ok "kill and delete"

rt create -b "$T/sleeper" c3 </dev/null
rt start c3
rt delete --force c3
assert_clean "delete --force"
ok "delete --force of a running container"

rt run -d -b "$T/sleeper" c4 </dev/null
[ "$(rt state c4 | jq -r .status)" = running ] || fail "run -d"
rt kill --all c4 KILL
rt delete --force c4
assert_clean "run -d"
ok "run --detach, kill --all"

rt features | jq -e '.linux.namespaces | index("pid") != null' >/dev/null || fail "features"
if "$RT_BIN" --systemd-cgroup --root "$STATE" state x 2>"$T/err"; then fail "--systemd-cgroup accepted"; fi
grep -q "systemd-cgroup is not supported" "$T/err" || fail "--systemd-cgroup message"
if "$RT_BIN" --root "$STATE" --log "$T/log.json" --log-format json state nosuch 2>/dev/null; then
        fail "state of a missing container"
fi
jq -e 'select(.level=="error") | .msg | test("nosuch")' "$T/log.json" >/dev/null || fail "json log"
ok "features, --systemd-cgroup refused, --log --log-format json"

# Hooks: each gets the state on stdin and runs where the spec says.
hk() { # NAME [IN-CONTAINER]: a hook that logs NAME and the state it was given
        local log=$T/hooks.log
        [ -n "${2:-}" ] && log=/hooks-$$.log
        echo "{'path':'/bin/sh','args':['sh','-c','echo $1 \$(cat) >> $log']}"
}
mkbundle hooks "c['process']['args']=['sh','-c','cat /hooks-$$.log']" \
        "c['hooks']={'prestart':[$(hk prestart)],'createRuntime':[$(hk createRuntime)],'createContainer':[$(hk createContainer)],'startContainer':[$(hk startContainer in)],'poststart':[$(hk poststart)],'poststop':[$(hk poststop)]}"
rt create -b "$T/hooks" h1 </dev/null >"$T/hooks.out"
pid=$(rt state h1 | jq -r .pid)
rt start h1
for i in $(seq 100); do [ "$(rt state h1 | jq -r .status)" = stopped ] && break; sleep 0.05; done
rt delete h1
rm -f "$T/rootfs/hooks-$$.log"
names=$(cut -d' ' -f1 "$T/hooks.log" | tr '\n' ' ')
[ "$names" = "prestart createRuntime createContainer poststart poststop " ] || fail "hooks ran: $names"
[ "$(grep -c "\"pid\":$pid," "$T/hooks.log")" = 5 ] || fail "hook state: $(cat "$T/hooks.log")"
grep -q '^poststop .*"status":"stopped"' "$T/hooks.log" || fail "poststop state"
grep -q "^startContainer .*\"pid\":$pid," "$T/hooks.out" || fail "startContainer: $(cat "$T/hooks.out")"
assert_clean "hooks"
ok "hooks: prestart, createRuntime, createContainer, startContainer (inside), poststart, poststop"

# Only stdio and --preserve-fds reach the container.
mkbundle fds "c['process']['args']=['sh','-c','ls /proc/self/fd | tr \"\\n\" \" \"']"
out=$(rt run -b "$T/fds" f1 </dev/null 7>/dev/null 8>/dev/null)
[ "$out" = "0 1 2 3 " ] || fail "leaked fds: $out"   # 3: ls's own directory fd
out=$(rt run --preserve-fds 1 -b "$T/fds" f2 </dev/null 3>/dev/null 8>/dev/null)
[ "$out" = "0 1 2 3 4 " ] || fail "--preserve-fds 1: $out"
assert_clean "fds"
ok "inherited fds are closed; --preserve-fds passes fd 3 on"
