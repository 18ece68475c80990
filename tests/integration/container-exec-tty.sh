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

# docker-py: exec inspect reports what Docker does (ProcessConfig.tty tells
# a client not to demultiplex a TTY's raw stream); the exec's DetachKeys end
# its stream and leave the process running
py_checks() { local st msg; while read -r st msg; do case $st in ok) pass "${msg#- }" ;; FAIL) fail "${msg#- }" ;; *) echo "$st $msg" ;; esac; done; }
PYTHONPATH=$BERTH_SOURCE_DIR/tests/lib timeout -s KILL 120 python3 - "$SOCK" > "$T/py.out" 2>&1 <<'EOF'
import sys, time, docker
from hijack import hijack, read_until_eof, read_for, check
sock = sys.argv[1]
c = docker.DockerClient(base_url="unix://" + sock, version="1.41")
api = c.api

e = api.exec_create("xt", ["sh", "-c", "echo 0123456789abcdef"], tty=True, user="root")
ins = api.exec_inspect(e)
keys = {"ID", "Running", "ExitCode", "ProcessConfig", "OpenStdin", "OpenStderr", "OpenStdout",
        "CanRemove", "ContainerID", "DetachKeys", "Pid"}
check("exec_inspect has Docker's fields", keys <= set(ins), sorted(keys - set(ins)))
pc = ins.get("ProcessConfig", {})
check("exec_inspect ProcessConfig", pc == {"tty": True, "entrypoint": "sh",
      "arguments": ["-c", "echo 0123456789abcdef"], "privileged": False, "user": "root"}, pc)
check("exec_inspect before the start", ins["Running"] is False and ins["ExitCode"] is None
      and ins["ContainerID"] == c.containers.get("xt").id, ins)
sk = api.exec_start(e, tty=True, socket=True)
raw = sk._sock if hasattr(sk, "_sock") else sk
data = read_until_eof(raw)
check("exec_start(socket=True) with a TTY: the raw output intact", data == b"0123456789abcdef\r\n", data)
ins = api.exec_inspect(e)
check("exec_inspect after the end", ins["Running"] is False and ins["ExitCode"] == 0, ins)
r = c.containers.get("xt").exec_run(["sh", "-c", "echo abcdefghij"], tty=True)
check("exec_run(tty=True) output intact", r.output == b"abcdefghij\r\n", r.output)

def detach_exec(dk, seq, what):
    e = api.exec_create("xt", ["sh"], stdin=True, tty=True, detach_keys=dk)
    check(what + ": DetachKeys in exec_inspect", api.exec_inspect(e)["DetachKeys"] == (dk or ""))
    s, st, rest = hijack(sock, "POST", "/v1.41/exec/%s/start" % e["Id"], {"Detach": False, "Tty": True})
    check(what + ": 101", st == 101, st)
    s.sendall(b"echo mark-$((6*7))\n")
    out = read_for(s, rest, 0.5)
    check(what + ": input reaches the TTY", b"mark-42" in out, out)
    s.sendall(seq)
    check(what + ": the sequence ends the stream", read_until_eof(s, timeout=5) is not None)
    time.sleep(1)
    ins = api.exec_inspect(e)
    check(what + ": the process runs on", ins["Running"] is True and ins["ExitCode"] is None, ins)
    top = c.containers.get("xt").top()["Processes"]
    check(what + ": its pid is alive in the container", any(p[1] == str(ins["Pid"]) for p in top), top)
detach_exec(None, b"\x10\x11", "exec, default detach keys")
detach_exec("ctrl-a,ctrl-_", b"\x01\x1f", "exec DetachKeys=ctrl-a,ctrl-_")
try:
    api.exec_create("xt", ["sh"], stdin=True, tty=True, detach_keys="ctrl-é")
    check("exec_create with bad DetachKeys: 400", False, "accepted")
except docker.errors.APIError as ex:
    check("exec_create with bad DetachKeys: 400", ex.status_code == 400, ex)
EOF
expect_eq "the python checks ran to the end" "$?" 0
py_checks < "$T/py.out"
b rm -f xt > /dev/null
stop_daemon
finish
