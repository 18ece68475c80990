#!/bin/bash
# run --init: berth-init (static) is bind-mounted at /sbin/docker-init and is
# pid 1; the command runs as its child, signals reach it (stop is quick where
# a shell as pid 1 would ignore SIGTERM), orphans are reaped, the exit code
# passes through; docker run --init works against berthd.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"

check "berth-init is a static program" sh -c "file -L '$BERTH_BUILD_DIR/bin/berth-init' | grep -q 'statically linked' || ! ldd '$BERTH_BUILD_DIR/bin/berth-init' > /dev/null 2>&1"
out=$(b run --rm --init busybox sh -c 'sleep 100 & sleep 0.3; ps -o pid,ppid,args')
expect_contains "pid 1 is the init, running the command" "$out" "    1     0 /sbin/docker-init -- sh -c sleep 100 & sleep 0.3; ps"
check "the command is the init's child" grep -qE '^ +[0-9]+ +1 +(\{ps\} )?sh -c sleep 100' <<< "$out"
check "and its children below it" grep -qE '^ +[0-9]+ +[2-9] +(\{[a-z]+\} )?sleep 100' <<< "$out"
out=$(b run --rm busybox sh -c 'ps -o pid,args' | sed -n 2p)
check "without --init the command is pid 1" grep -qE '^ +1 .*sh -c ps' <<< "$out"

b run --rm --init busybox sh -c 'exit 7'
expect_eq "the exit code passes through" "$?" 7
b run --rm --init busybox nosuchcommand 2> /dev/null
expect_eq "a missing command is 127" "$?" 127

# orphans: a grandchild whose parent is gone is reaped by the init
out=$(b run --rm --init busybox sh -c '(sleep 0.2 &); sleep 1; ps -o stat,args | grep -c "^Z" || true')
expect_eq "no zombies left behind" "$out" "0"

# signals: sh -c 'sleep 100' as pid 1 would ignore SIGTERM; under the init
# it is an ordinary process and stops at once
b run -d --name i1 --init busybox sh -c 'sleep 100' > /dev/null
start=$(date +%s%N)
b stop -t 5 i1 > /dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "stop ends it quickly (${ms} ms)" [ "$ms" -lt 2500 ]
expect_eq "killed by SIGTERM: 143" "$(b inspect -f '{{.State.ExitCode}}' i1)" 143
b start i1 > /dev/null
expect_eq "a restart keeps the init" "$(b exec i1 cat /proc/1/cmdline | tr '\0' ' ')" "/sbin/docker-init -- sh -c sleep 100 "
b kill -s USR1 i1 > /dev/null
sleep 0.3
expect_eq "other signals are forwarded (USR1 ends sh)" "$(b inspect -f '{{.State.Running}}' i1)" "false"
b rm -f i1 > /dev/null

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$("$d" -H "unix://$SOCK" run --rm --init busybox cat /proc/1/cmdline | tr '\0' ' ')
        expect_eq "$d run --init" "$out" "/sbin/docker-init -- cat /proc/1/cmdline "
done
stop_daemon
finish
