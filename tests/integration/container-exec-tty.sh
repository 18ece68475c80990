#!/bin/bash
# exec with a TTY, driven through a pseudo-terminal (script): berth exec -it
# and docker exec -it get a PTY inside the container, its window size (and
# POST /exec/{id}/resize), typed input, the exit code; exec -t without -i.
. "$(dirname "$0")/lib.sh"
command -v script > /dev/null || skip "script (util-linux) is not installed"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
b run -d --name xt busybox sleep 300 > /dev/null

out=$(sleep 2 | timeout -s KILL 30 script -qec "stty cols 101 rows 31; $BERTH -H unix://$SOCK exec -it xt sh -c 'tty; stty size; exit 6'" /dev/null | tr -d '\r')
expect_contains "exec -it gets a PTY" "$out" "/dev/pts/"
expect_contains "exec -it passes the window size" "$out" "31 101"
out=$( (sleep 0.5; printf 'echo typed-$((6*7))\n'; sleep 0.5; printf 'exit 3\n') |
        timeout -s KILL 30 script -qec "$BERTH -H unix://$SOCK exec -it xt sh" /dev/null | tr -d '\r')
expect_contains "typed input runs in the exec's shell" "$out" "typed-42"
(sleep 0.5; printf 'exit 3\n') | timeout -s KILL 30 script -qec "$BERTH -H unix://$SOCK exec -it xt sh" /dev/null > /dev/null
expect_eq "exec -it exits with the shell's code" "$?" 3
out=$(b exec -t xt sh -c 'test -t 1 && echo is-a-tty; exit 2' | tr -d '\r')
rc=${PIPESTATUS[0]}
expect_eq "exec -t without -i: output over the PTY" "$out" "is-a-tty"
expect_eq "exec -t without -i: the exit code" "$rc" 2
out=$(b exec xt sh -c 'test -t 1 || echo no-tty')
expect_eq "exec without -t has no PTY" "$out" "no-tty"

# the API: a TTY exec streams raw, and resize reaches its PTY
api POST /containers/xt/exec -H 'Content-Type: application/json' \
        -d '{"Cmd":["sh","-c","sleep 1; stty size"],"Tty":true,"AttachStdout":true,"AttachStderr":true}'
eid=$(echo "$API_BODY" | sed -n 's/.*"Id": *"\([0-9a-f]*\)".*/\1/p')
(sleep 0.4; curl -sS --unix-socket "$SOCK" -X POST "http://localhost/exec/$eid/resize?h=12&w=34" > /dev/null) &
rpid=$!
out=$(curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
        -d '{"Detach":false,"Tty":true}' "http://localhost/exec/$eid/start" | tr -d '\r')
wait $rpid
expect_eq "resize of a TTY exec reaches its PTY; the stream is raw" "$out" "12 34"
api POST "/exec/$eid/resize?h=x&w=1"
expect_eq "a bad resize is 400" "$API_STATUS" 400
api GET "/exec/$eid/json"
expect_contains "exec inspect shows the tty" "$API_BODY" '"tty":true'

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$(sleep 2 | timeout -s KILL 30 script -qec "stty cols 90 rows 20; $d -H unix://$SOCK exec -it xt sh -c 'tty; sleep 1; stty size; exit 5'" /dev/null | tr -d '\r\000')
        expect_contains "$d exec -it gets a PTY" "$out" "/dev/pts/"
        expect_contains "$d exec -it gets the window size" "$out" "20 90"
        (sleep 0.5; printf 'exit 4\n') | timeout -s KILL 30 script -qec "$d -H unix://$SOCK exec -it xt sh" /dev/null > /dev/null
        expect_eq "$d exec -it exit code" "$?" 4
done
b rm -f xt > /dev/null
stop_daemon
finish
