#!/bin/bash
# Terminals, driven through a pseudo-terminal (script): berth run -it and
# docker run -it (the PTY, its window size, typed input, the exit code),
# and ctrl-p ctrl-q detaching with the container left running.
. "$(dirname "$0")/lib.sh"
command -v script > /dev/null || skip "script (util-linux) is not installed"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"

out=$(sleep 2 | timeout -s KILL 30 script -qec "stty cols 100 rows 30; $BERTH -H unix://$SOCK run -it --rm busybox sh -c 'tty; stty size; exit 6'" /dev/null | tr -d '\r')

expect_contains "run -it gets a PTY" "$out" "/dev/pts/"
expect_contains "run -it passes the window size" "$out" "30 100"
out=$( (sleep 0.5; printf 'echo typed-$((6*7))\n'; sleep 0.5; printf 'exit 3\n') |
        timeout -s KILL 30 script -qec "$BERTH -H unix://$SOCK run -it --rm busybox sh" /dev/null | tr -d '\r')
rc=${PIPESTATUS[0]}
expect_contains "typed input runs in the container" "$out" "typed-42"
(sleep 0.5; printf 'exit 3\n') | timeout -s KILL 30 script -qec "$BERTH -H unix://$SOCK run -it --rm busybox sh" /dev/null > /dev/null
expect_eq "run -it exits with the shell's code" "$?" 3
(sleep 0.7; printf '\x10\x11') | timeout -s KILL 30 script -qec "$BERTH -H unix://$SOCK run -it --name det busybox sh" /dev/null > /dev/null
expect_eq "ctrl-p ctrl-q detaches with status 0" "$?" 0
expect_eq "the detached container runs on" "$(b inspect -f '{{.State.Running}}' det)" "true"
b rm -f det > /dev/null
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$(sleep 2 | timeout -s KILL 30 script -qec "stty cols 90 rows 20; $d -H unix://$SOCK run -it --rm busybox sh -c 'tty; exit 5'" /dev/null | tr -d '\r\000')

        expect_contains "$d run -it gets a PTY" "$out" "/dev/pts/"
        (sleep 0.5; printf 'exit 4\n') | timeout -s KILL 30 script -qec "$d -H unix://$SOCK run -it --rm busybox sh" /dev/null > /dev/null
        expect_eq "$d run -it exit code" "$?" 4
done
stop_daemon
finish
