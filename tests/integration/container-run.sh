#!/bin/bash
# Running containers through the berth CLI and the docker CLI: run (attached,
# -i, --rm, -d), exit codes (the container's, 127, 126), logs, stop, kill,
# wait, start, restart, rm -f, restart policies, and a container that
# outlives a kill -9 of berthd.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }

out=$(tb run busybox echo hello 2>&1); rc=$?
expect_eq "run prints the output" "$out" "hello"
expect_eq "run exit status 0" "$rc" 0
out=$(tb run --rm busybox sh -c 'echo out; echo err >&2; exit 3' 2>"$T/err"); rc=$?
expect_eq "run stdout" "$out" "out"
expect_eq "run stderr" "$(cat "$T/err")" "err"
expect_eq "run exit status is the container's" "$rc" 3
out=$(echo piped | tb run -i --rm busybox cat); rc=$?
expect_eq "run -i pipes stdin" "$out" "piped"
expect_eq "run -i exit status" "$rc" 0
expect_eq "--rm containers are gone" "$(b ps -aq --filter ancestor=busybox | wc -l)" 1
out=$(tb run --name nocmd busybox nosuchcmd 2>&1); rc=$?
expect_eq "unknown command exits 127" "$rc" 127
expect_contains "unknown command message" "$out" 'executable file not found in $PATH'
expect_eq "unknown command: the record's ExitCode" "$(b inspect -f '{{.State.ExitCode}}' nocmd)" 127
out=$(tb run --name noexec busybox /etc/passwd 2>&1); rc=$?
expect_eq "non-executable command exits 126" "$rc" 126
expect_contains "non-executable command message" "$out" "permission denied"
expect_eq "non-executable command: the record's ExitCode" "$(b inspect -f '{{.State.ExitCode}}' noexec)" 126
b rm nocmd noexec > /dev/null

# --rm and a start that fails: Docker removes the container before the start
# answers (a wait for "removed" returns), with 127/126 as above; neither
# mounts nor network namespaces are left behind
# (no container runs here: a veth may still be on its way out, the kernel
# deletes those of a dead namespace in the background)
leftovers() {
        for _ in $(seq 30); do [ -z "$(net_leftovers | grep '^veth ')" ] && break; sleep 0.1; done
        net_leftovers | grep -v -e '^bridge ' -e '^nft-table '
        grep -c " $DATA/" /proc/mounts
}
before=$(leftovers)
nbefore=$(b ps -aq | wc -l)
failrm() { # CLI DESCRIPTION STATUS ARGS...
        local cli=$1 what=$2 want=$3; shift 3
        out=$(timeout -s KILL 20 "$cli" -H "unix://$SOCK" run --rm "$@" 2>&1); rc=$?
        expect_eq "$what exits $want" "$rc" "$want"
        expect_eq "$what: the --rm container is gone" "$(b ps -aq | wc -l)" "$nbefore"
        expect_eq "$what: no mount or netns left" "$(leftovers)" "$before"
}
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
for cli in "$BERTH" /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$cli" ] || continue
        failrm "$cli" "$cli run --rm of a missing command" 127 busybox nosuchcommand
        expect_contains "$cli: the missing command's message" "$out" 'executable file not found in $PATH'
        failrm "$cli" "$cli run --rm of a non-executable file" 126 busybox /etc/passwd
        expect_contains "$cli: the non-executable file's message" "$out" "permission denied"
        failrm "$cli" "$cli run --rm with a bad mount" 125 -v /etc/hostname:/etc busybox true
done
out=$(tb run -d --rm busybox nosuchcommand 2>&1); rc=$?
expect_eq "run -d --rm of a missing command exits 127" "$rc" 127
expect_eq "run -d --rm of a missing command: gone" "$(b ps -aq | wc -l)" "$nbefore"

# kill (SIGKILL) answers once the container is dead: an inspect right after
# it sees the exit
bad=0
for i in $(seq 20); do
        kid=$(tb run -d busybox sleep 100)
        api POST "/v1.41/containers/$kid/kill"
        [ "$API_STATUS" = 204 ] || { bad=$((bad + 1)); continue; }
        api GET "/v1.41/containers/$kid/json"
        st=$(jq -r '"\(.State.Running) \(.State.ExitCode) \(.State.Status)"' <<< "$API_BODY")
        [ "$st" = "false 137 exited" ] || { bad=$((bad + 1)); echo "kill $i: $st" >&2; }
        b rm "$kid" > /dev/null
done
expect_eq "kill then inspect at once: exited with 137, 20 times" "$bad" 0
id=$(tb run -d busybox sh -c 'trap "exit 3" HUP; while true; do sleep 0.1; done')
sleep 0.3
api POST "/v1.41/containers/$id/kill?signal=HUP"
expect_eq "kill -s HUP: 204" "$API_STATUS" 204
expect_eq "kill -s HUP: the trap ran" "$(tb wait "$id")" 3
b rm "$id" > /dev/null

# detached: logs, stop, wait, start, kill, restart, rm -f
id=$(tb run -d --name srv busybox sh -c 'trap "echo bye; exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done')
check "run -d prints the full ID" bash -c "[[ '$id' =~ ^[0-9a-f]{64}$ ]]"
sleep 0.5
expect_eq "ps shows it running" "$(b ps --format '{{.Names}} {{.State}}')" "srv running"
expect_eq "inspect Running" "$(b inspect -f '{{.State.Running}} {{.State.Status}}' srv)" "true running"
check "inspect Pid is a live process" kill -0 "$(b inspect -f '{{.State.Pid}}' srv)"
out=$(tb logs --tail 1 srv)
check "logs --tail 1" bash -c "[[ '$out' =~ ^tick\ [0-9]+$ ]]"
check "json-file log on disk" grep -q '"stream":"stdout"' "$DATA/containers/$id/$id-json.log"
out=$(tb logs -t --tail 1 srv)
check "logs -t prefixes an RFC 3339 time" bash -c "[[ '$out' =~ ^20[0-9-]+T[0-9:.]+Z\ tick ]]"
out=$(tb stop -t 5 srv); rc=$?
expect_eq "stop" "$out" "srv"
expect_eq "stopped by its StopSignal handler: exit 0" "$(tb wait srv)" 0
expect_contains "the handler's last words are logged" "$(tb logs --tail 2 srv)" "bye"
expect_eq "state after stop" "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' srv)" "exited 0"
out=$(tb stop srv 2>&1); rc=$?
expect_eq "stop of a stopped container succeeds (304)" "$rc" 0
check "start again" tb start srv
expect_eq "running again" "$(b inspect -f '{{.State.Running}}' srv)" "true"
out=$(tb kill srv)
expect_eq "kill" "$out" "srv"
expect_eq "killed: 137" "$(tb wait srv)" 137
out=$(tb kill srv 2>&1); rc=$?
expect_eq "kill of a stopped container fails" "$rc" 1
expect_contains "kill of a stopped container says why" "$out" "is not running"
check "restart" tb restart -t 1 srv
expect_eq "running after restart" "$(b inspect -f '{{.State.Running}}' srv)" "true"
out=$(tb exec srv echo hello); rc=$?
expect_eq "exec output" "$out" "hello"
expect_eq "exec exit status" "$rc" 0
out=$(tb exec srv sh -c 'echo out; echo err >&2; exit 7' 2>"$T/eerr"); rc=$?
expect_eq "exec stdout" "$out" "out"
expect_eq "exec stderr" "$(cat "$T/eerr")" "err"
expect_eq "exec exit status is the command's" "$rc" 7
expect_eq "exec -i pipes stdin" "$(echo piped | tb exec -i srv cat)" "piped"
expect_eq "exec -u" "$(tb exec -u 65534 srv id -u)" "65534"
expect_eq "exec -w -e" "$(tb exec -w /etc -e FOO=bar srv sh -c 'echo $(pwd) $FOO')" "/etc bar"
check "exec -d" tb exec -d srv sh -c 'touch /tmp/detached'
for _ in $(seq 50); do tb exec srv test -e /tmp/detached && break; sleep 0.1; done
check "exec -d ran" tb exec srv test -e /tmp/detached
out=$(tb exec srv nosuchcmd 2>&1); rc=$?
expect_eq "exec of a missing command exits 126" "$rc" 126
expect_contains "exec of a missing command says why" "$out" 'executable file not found in $PATH'
expect_eq "ExecIDs recorded" "$(b inspect -f '{{json .ExecIDs}}' srv | jq 'length >= 8')" true
check "pause" tb pause srv

expect_eq "paused state" "$(b inspect -f '{{.State.Status}} {{.State.Paused}}' srv)" "paused true"
expect_contains "ps shows (Paused)" "$(b ps --format '{{.Status}}')" "(Paused)"
out=$(tb pause srv 2>&1); rc=$?
expect_contains "pause of a paused container" "$out" "is already paused"
out=$(tb top srv)
expect_contains "top header" "$out" "UID"
expect_contains "top lists the container's shell" "$out" "sh -c trap"
check "unpause" tb unpause srv
expect_eq "running after unpause" "$(b inspect -f '{{.State.Status}}' srv)" "running"
out=$(tb rm srv 2>&1); rc=$?

expect_eq "rm of a running container is refused" "$rc" 1
expect_contains "rm refusal message" "$out" "You cannot remove a running container"
pid=$(b inspect -f '{{.State.Pid}}' srv)
check "rm -f" tb rm -f srv
check "rm -f killed the process" bash -c "! kill -0 $pid 2>/dev/null"
expect_eq "nothing left in the exec root" "$(ls "$RUN/containers" | wc -l)" 0

# health checks: starting -> unhealthy -> healthy, the log kept, timeouts
tb run -d --name hc --health-cmd 'test -e /tmp/ok' --health-interval 200ms --health-retries 2 busybox sleep 100 > /dev/null
expect_eq "health starts as starting" "$(b inspect -f '{{.State.Health.Status}}' hc)" "starting"
expect_contains "ps shows health: starting" "$(b ps --filter name=hc --format '{{.Status}}')" "(health: starting)"
for _ in $(seq 50); do [ "$(b inspect -f '{{.State.Health.Status}}' hc)" = unhealthy ] && break; sleep 0.1; done
expect_eq "failing probes make it unhealthy" "$(b inspect -f '{{.State.Health.Status}}' hc)" "unhealthy"
tb exec hc touch /tmp/ok
for _ in $(seq 50); do [ "$(b inspect -f '{{.State.Health.Status}}' hc)" = healthy ] && break; sleep 0.1; done
expect_eq "a passing probe makes it healthy" "$(b inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' hc)" "healthy 0"
expect_contains "ps shows (healthy)" "$(b ps --filter name=hc --format '{{.Status}}')" "(healthy)"
expect_eq "ps --filter health=healthy" "$(b ps --filter health=healthy --format '{{.Names}}')" "hc"

expect_eq "at most 5 results are kept" "$(b inspect -f '{{json .State.Health.Log}}' hc | jq 'length <= 5')" true
tb run -d --name hto --health-cmd 'sleep 5' --health-timeout 200ms --health-interval 200ms --health-retries 1 busybox sleep 100 > /dev/null
for _ in $(seq 50); do [ "$(b inspect -f '{{.State.Health.Status}}' hto)" = unhealthy ] && break; sleep 0.1; done
expect_eq "a probe over its timeout fails" "$(b inspect -f '{{.State.Health.Status}}' hto)" "unhealthy"
expect_contains "the timeout is in the log" "$(b inspect -f '{{json .State.Health.Log}}' hto)" "Health check exceeded timeout (200ms)"
tb rm -f hc hto > /dev/null

# export: the container's filesystem, with its changes
tb run --name exp busybox sh -c 'echo exported > /root/mark' > /dev/null
check "export -o" tb export -o "$T/exp.tar" exp
check "export holds the busybox binary" bash -c "tar tf '$T/exp.tar' | grep -qx 'bin/busybox'"
expect_eq "export holds the container's own change" "$(tar xOf "$T/exp.tar" root/mark)" "exported"
tb export exp > "$T/exp2.tar"
check "export to stdout" cmp "$T/exp.tar" "$T/exp2.tar"
out=$(tb export nosuch 2>&1); rc=$?
expect_eq "export of a missing container fails" "$rc" 1
# commit: the container's changes become a layer of a new image
out=$(tb commit -m "my change" -a "me" -c 'CMD ["cat", "/root/mark"]' exp committed:1); rc=$?
expect_eq "commit exit status" "$rc" 0
check "commit prints the new ID" bash -c "[[ '$out' =~ ^sha256:[0-9a-f]{64}$ ]]"
expect_eq "the new image has one more layer" "$(b image inspect -f '{{json .RootFS.Layers}}' committed:1 | jq length)" 2
expect_eq "commit --change applies" "$(b image inspect -f '{{json .Config.Cmd}}' committed:1)" '["cat","/root/mark"]'
expect_eq "commit message in the history" "$(b image history --format '{{.Comment}}' committed:1 | head -1)" "my change"
expect_eq "commit -m is the image's Comment" "$(b image inspect -f '{{.Comment}}' committed:1)" "my change"
expect_eq "commit -a is the image's Author" "$(b image inspect -f '{{.Author}}' committed:1)" "me"
expect_eq "ContainerConfig is the container's config, before --change" \
        "$(b image inspect -f '{{json .ContainerConfig.Cmd}}' committed:1)" '["sh","-c","echo exported > /root/mark"]'
expect_eq "the base image shows an empty ContainerConfig" \
        "$(b image inspect -f '{{json .ContainerConfig}}' busybox | jq -c '[.Hostname, .Cmd, .Image, .Tty]')" '["",null,"",false]'
expect_eq "a container of the new image sees the change" "$(tb run --rm committed:1)" "exported"
tb rm exp > /dev/null


# attach: stdin in, output out, the container's exit code back
tb run -d -i --name att busybox sh -c 'read x; echo got $x; exit 9' > /dev/null
out=$(echo hello | tb attach att); rc=$?
expect_eq "attach passes stdin and shows the output" "$out" "got hello"
expect_eq "attach returns the container's exit code" "$rc" 9
out=$(tb attach att 2>&1); rc=$?
expect_eq "attach to a stopped container fails" "$rc" 1
expect_contains "attach to a stopped container says why" "$out" "You cannot attach to a stopped container, start it first"
tb rm att > /dev/null

# restart policy



tb run -d --name flaky --restart on-failure:2 busybox sh -c 'exit 1' > /dev/null
for _ in $(seq 100); do [ "$(b inspect -f '{{.RestartCount}} {{.State.Running}}' flaky)" = "2 false" ] && break; sleep 0.1; done
expect_eq "on-failure:2 restarts twice" "$(b inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)" "2 exited"
tb rm flaky > /dev/null

# the docker CLI
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        D() { timeout -s KILL 30 "$d" -H "unix://$SOCK" "$@"; }
        out=$(D run --rm busybox sh -c 'echo hi; exit 5'); rc=$?
        expect_eq "$d run --rm output" "$out" "hi"
        expect_eq "$d run --rm exit status" "$rc" 5
        out=$(echo in | D run -i --rm busybox cat)
        expect_eq "$d run -i" "$out" "in"
        cid=$(D run -d busybox sh -c 'echo started; sleep 100')
        sleep 0.3
        expect_eq "$d logs" "$(D logs "$cid")" "started"
        expect_contains "$d ps" "$(D ps)" "${cid:0:12}"
        expect_eq "$d exec" "$(D exec "$cid" sh -c 'echo ex; exit 0')" "ex"
        D exec "$cid" sh -c 'exit 4'
        expect_eq "$d exec exit status" "$?" 4
        expect_eq "$d exec -i" "$(echo in | D exec -i "$cid" cat)" "in"
        out=$(D exec "$cid" nosuch 2>&1); rc=$?
        expect_eq "$d exec of a missing command exits 126" "$rc" 126
        check "$d export" bash -c "timeout -s KILL 30 '$d' -H 'unix://$SOCK' export '$cid' | tar t | grep -qx bin/busybox"
        out=$(D commit -m "msg ${d##*/}" -a "au ${d##*/}" "$cid" "dk/commit:${d##*/}"); rc=$?
        expect_eq "$d commit exit status" "$rc" 0
        check "$d commit made an image" D image inspect "dk/commit:${d##*/}"
        expect_eq "$d commit -m, -a: Comment and Author" \
                "$(D image inspect -f '{{.Comment}}|{{.Author}}' "dk/commit:${d##*/}")" "msg ${d##*/}|au ${d##*/}"
        expect_eq "$d commit: ContainerConfig.Cmd is the container's" \
                "$(D image inspect -f '{{json .ContainerConfig.Cmd}}' "dk/commit:${d##*/}")" '["sh","-c","echo started; sleep 100"]'
        expect_eq "$d commit: the message in history" \
                "$(D history --format '{{.Comment}}' "dk/commit:${d##*/}" | head -1)" "msg ${d##*/}"
        D rmi "dk/commit:${d##*/}" > /dev/null
        check "$d pause" D pause "$cid"



        expect_contains "$d ps (Paused)" "$(D ps)" "(Paused)"
        expect_contains "$d top" "$(D top "$cid")" "sleep 100"
        check "$d unpause" D unpause "$cid"

        out=$(D stop -t 1 "$cid" 2>&1); rc=$?
        expect_eq "$d stop ($out)" "$rc" 0

        expect_eq "$d wait" "$(D wait "$cid")" 137
        out=$(D rm -f "$cid")
        expect_eq "$d rm -f" "$out" "$cid"
done

# a container outlives its daemon
tb run -d --name survivor busybox sh -c 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done' > /dev/null
sleep 0.3
spid=$(b inspect -f '{{.State.Pid}}' survivor)
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "the container runs without its daemon" kill -0 "$spid"

start_daemon
expect_eq "ps after the restart shows it running" "$(b ps --format '{{.Names}} {{.State}}')" "survivor running"
n1=$(tb logs survivor | wc -l); sleep 0.5; n2=$(tb logs survivor | wc -l)
check "its logs kept flowing ($n1 -> $n2)" test "$n2" -gt "$n1"
check "stop works after the restart" tb stop -t 1 survivor
expect_eq "its exit code is recorded" "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' survivor)" "exited 137"
check "the process is gone" bash -c "! kill -0 $spid 2>/dev/null"
tb rm survivor > /dev/null
stop_daemon
finish
