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

# attach through the API, with the exact requests the clients send: logs=1
# replays what the container wrote (from its log), then ends (stream=0) or
# goes on live (stream=1); the detach keys end the stream and leave the
# container running
b run -d --name lg busybox sh -c 'echo one; echo two >&2; sleep 100' > /dev/null
b run -d -i --name lg2 busybox sh -c 'echo early; read x; echo late $x' > /dev/null
b create -it --name dk busybox sh > /dev/null && b start dk > /dev/null
for _ in $(seq 50); do [ "$(b logs lg 2>&1 | wc -l)" = 2 ] && [ -n "$(b logs lg2)" ] && break; sleep 0.1; done
py_checks() { local st msg; while read -r st msg; do case $st in ok) pass "${msg#- }" ;; FAIL) fail "${msg#- }" ;; *) echo "$st $msg" ;; esac; done; }
PYTHONPATH=$BERTH_SOURCE_DIR/tests/lib timeout -s KILL 120 python3 - "$SOCK" > "$T/py.out" 2>&1 <<'EOF'
import sys, time, docker
from hijack import hijack, read_until_eof, read_for, demux, check
sock = sys.argv[1]

s, st, rest = hijack(sock, "POST", "/v1.41/containers/lg/attach?logs=1&stdout=1&stderr=1&stream=0")
data = read_until_eof(s, rest)
check("attach logs=1&stream=0: 101", st == 101, st)
check("attach logs=1&stream=0 ends", data is not None)
check("attach logs=1&stream=0: the output so far, framed",
      data is not None and demux(data) == (b"one\n", b"two\n"), data)
s, st, rest = hijack(sock, "POST", "/v1.41/containers/lg/attach?logs=1&stdout=1&stream=0")
data = read_until_eof(s, rest)
check("attach logs=1 stdout only", data is not None and demux(data) == (b"one\n", b""), data)
s, st, rest = hijack(sock, "POST", "/v1.41/containers/lg/attach?logs=0&stdout=1&stderr=1&stream=0")
check("attach logs=0&stream=0: nothing, ended", read_until_eof(s, rest) == b"")

c = docker.DockerClient(base_url="unix://" + sock, version="1.41")
# docker-py reads the 101 through a buffer, then takes the raw socket: the
# log must not come along with the head (20 times: it is a race)
outs = [c.containers.get("lg").attach(logs=True, stream=False) for _ in range(20)]
bad = [o for o in outs if sorted(o.splitlines()) != [b"one", b"two"]]
check("docker-py attach(logs=True, stream=False), 20 times", not bad, bad[:3])

s, st, rest = hijack(sock, "POST", "/v1.41/containers/lg2/attach?logs=1&stdin=1&stdout=1&stderr=1&stream=1")
early = read_for(s, rest, 0.5)
check("attach logs=1&stream=1: the output so far first", demux(early)[0] == b"early\n", early)
s.sendall(b"typed\n")
data = read_until_eof(s)
check("attach logs=1&stream=1: then live, until the exit",
      data is not None and demux(data)[0] == b"late typed\n", data)

def detach(query, keys, what):
    s, st, rest = hijack(sock, "POST", "/v1.41/containers/dk/attach?stdin=1&stdout=1&stderr=1&stream=1" + query)
    s.sendall(b"echo mark-$((6*7))\n")
    out = read_for(s, rest, 0.5)
    check(what + ": input reaches the TTY", b"mark-42" in out, out)
    s.sendall(keys)
    check(what + ": the sequence ends the stream", read_until_eof(s, timeout=5) is not None)
    check(what + ": the container runs on", c.containers.get("dk").attrs["State"]["Running"])
detach("", b"\x10\x11", "attach, default detach keys ctrl-p,ctrl-q")
detach("&detachKeys=ctrl-x,y", b"\x18y", "attach detachKeys=ctrl-x,y")
detach("&detachKeys=ctrl-%5C,%40", b"\x1c@", "attach detachKeys=ctrl-\\,@")
s, st, rest = hijack(sock, "POST", "/v1.41/containers/dk/attach?stdin=1&stdout=1&stream=1&detachKeys=ctrl-1")
check("attach with bad detachKeys: 400", st == 400, st)
# a sequence split over several writes, and a false start passed on
s, st, rest = hijack(sock, "POST", "/v1.41/containers/dk/attach?stdin=1&stdout=1&stderr=1&stream=1&detachKeys=a,b")
s.sendall(b"echo xa")
time.sleep(0.2)
s.sendall(b"c\n")
out = read_for(s, rest, 0.5)
check("a partial sequence is passed on", b"xac" in out, out)
s.sendall(b"a")
time.sleep(0.2)
s.sendall(b"b")
check("a sequence over two writes detaches", read_until_eof(s, timeout=5) is not None)
EOF
expect_eq "the python checks ran to the end" "$?" 0
py_checks < "$T/py.out"
b rm -f lg lg2 dk > /dev/null
stop_daemon
finish
