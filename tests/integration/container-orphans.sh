#!/bin/bash
# A container whose shim is killed (SIGKILL) does not outlive it: its
# processes die, its cgroups, veth, address and published port are
# released, and `ps -a` says it exited; the same when the shim dies while
# berthd is down (seen at the next start). A new container then gets the
# same address and port.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }
NA=$TEST_NET_PREFIX.128/26
IP=$TEST_NET_PREFIX.140
PORT=$((20000 + $$ % 20000))

netid=$(tb network create --subnet "$NA" orph)
BR=br-${netid:0:12}

shim_of() { cat "$RUN/containers/$1/shim.pid" 2> /dev/null || find "$RUN" -path "*$1*" -name shim.pid -exec cat {} \;; }
cgroups_of() { ls -d /sys/fs/cgroup/*/berth/"$1"* /sys/fs/cgroup/berth/"$1"* 2> /dev/null; }
procs_of() { cat $(cgroups_of "$1" | sed 's|$|/cgroup.procs|') 2> /dev/null; }
veths() { ls "/sys/class/net/$BR/brif" 2> /dev/null; }
wait_exited() { # ID
        for _ in $(seq 100); do
                [ "$(tb inspect -f '{{.State.Status}}' "$1")" = exited ] && return 0
                sleep 0.1
        done
        return 1
}
gone() { ! kill -0 "$1" 2> /dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" = Z ]; }

# victim ID: kill its shim, check that nothing of it is left
victim_checks() {
        local id=$1 pid=$2 what=$3
        check "$what: ps -a says exited" wait_exited "$id"
        expect_contains "$what: ps -a row" "$(tb ps -a --filter "id=$id" --format '{{.Status}}')" "Exited"
        for _ in $(seq 50); do gone "$pid" && break; sleep 0.1; done
        check "$what: its process (pid $pid) is gone" gone "$pid"
        expect_eq "$what: no process left in its cgroups" "$(procs_of "$id")" ""
        expect_eq "$what: its cgroup folders are removed" "$(cgroups_of "$id")" ""
        expect_eq "$what: its veth is gone from the bridge" "$(veths)" ""
        out=$(tb run -d --name "next$4" --network orph --ip "$IP" -p "127.0.0.1:$PORT:80" busybox sleep 1000 2>&1)
        check "$what: a new container gets its address and port ($out)" test "${#out}" = 64
        tb rm -f "next$4" > /dev/null
}

run_victim() { # NAME
        tb run -d --name "$1" --network orph --ip "$IP" -p "127.0.0.1:$PORT:80" busybox \
                sh -c 'sleep 1000 & sleep 1000'
}

# the shim killed while berthd watches it
id=$(run_victim v1)
pid=$(tb inspect -f '{{.State.Pid}}' "$id")
check "the victim runs in its cgroup" test -n "$(procs_of "$id")"
check "its veth is on the bridge" test -n "$(veths)"
spid=$(shim_of "$id")
check "its shim runs" kill -0 "$spid"
kill -KILL "$spid"
victim_checks "$id" "$pid" "shim killed" 1
tb rm v1 > /dev/null

# the shim killed while berthd is down
id=$(run_victim v2)
pid=$(tb inspect -f '{{.State.Pid}}' "$id")
spid=$(shim_of "$id")
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
kill -KILL "$spid"
start_daemon
victim_checks "$id" "$pid" "shim killed while berthd was down" 2

finish
