#!/bin/bash
# berthd's HTTP/1.1 server (core/api/api-server.c): malformed requests, limits
# (431, 413, 501), Expect: 100-continue, keep-alive, HTTP/1.0, HEAD, the
# upgrade without Upgrade of old clients, a stalled client that blocks no
# one, and threads freed when a client leaves a stream (events, logs -f).
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

# raw REQUEST: send it (printf escapes) and print what comes back until the
# server closes or 3 s pass
raw() {
        python3 - "$SOCK" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(3)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
end = time.time() + 3
try:
    while time.time() < end:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
EOF
}

out=$(raw 'GARBAGE\r\n\r\n')
expect_contains "malformed request line is 400" "$out" "HTTP/1.1 400 Bad Request"
expect_contains "400 is Docker's JSON" "$out" '{"message":"malformed HTTP request"}'
out=$(raw 'GET /_ping HTTP/1.1\r\nBad Header\r\n\r\n')
expect_contains "malformed header is 400" "$out" "HTTP/1.1 400"
out=$(raw 'GET /_ping HTTP/3.0\r\n\r\n')
expect_contains "unknown HTTP version is 400" "$out" "HTTP/1.1 400"
out=$(raw "GET /_ping HTTP/1.1\r\nX-Big: $(head -c 70000 /dev/zero | tr '\0' a)\r\n\r\n")
expect_contains "oversized head is 431" "$out" "HTTP/1.1 431"
out=$(raw 'POST /containers/create HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n')
expect_contains "unknown transfer coding is 501" "$out" "HTTP/1.1 501"
out=$(raw 'POST /containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
expect_contains "bad chunk size is 400" "$out" "HTTP/1.1 400"
out=$(raw 'POST /containers/create HTTP/1.1\r\nContent-Length: x\r\n\r\n')
expect_contains "bad Content-Length is 400" "$out" "HTTP/1.1 400"

# 413: a declared length over the limit is refused before the body is sent
out=$(head -c $((64 * 1024 * 1024 + 1)) /dev/zero | curl -sS -v --unix-socket "$SOCK" \
        -H 'Content-Type: application/json' --data-binary @- http://localhost/containers/create 2>&1)
expect_contains "body over the limit is 413" "$out" "HTTP/1.1 413"
expect_not_contains "413 without 100 Continue" "$out" "100 Continue"
# and a chunked one once it passes the limit
out=$(python3 - "$SOCK" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"POST /containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
try:
    for _ in range(70):
        s.sendall(chunk)
except OSError:
    pass
print(s.recv(4096).decode())
EOF
)
expect_contains "chunked body over the limit is 413" "$out" "HTTP/1.1 413"

# Expect: 100-continue
out=$(curl -sS -v --unix-socket "$SOCK" -H 'Expect: 100-continue' -H 'Content-Type: application/json' \
        -d '{"Name":"expect1"}' http://localhost/volumes/create 2>&1)
expect_contains "100 Continue sent" "$out" "HTTP/1.1 100 Continue"
expect_contains "then the reply" "$out" "HTTP/1.1 201"
expect_eq "the body arrived" "$(b volume ls -q | grep -c expect1)" 1
out=$(curl -sS -v --unix-socket "$SOCK" -H 'Expect: 100-continue' -d '{}' http://localhost/nosuch 2>&1)
expect_contains "no 100 Continue for a request refused at once" "$out" "HTTP/1.1 404"
expect_not_contains "(404 without 100)" "$out" "100 Continue"

# keep-alive: several requests on one connection, with bodies in between
out=$(curl -sS -v --unix-socket "$SOCK" http://localhost/_ping http://localhost/version \
        -: --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' -d '{"Name":"ka1"}' \
        http://localhost/volumes/create -: --unix-socket "$SOCK" http://localhost/nosuch \
        -: --unix-socket "$SOCK" http://localhost/_ping 2>&1)
expect_eq "connection re-used for each request" "$(grep -c 'Re-using existing connection' <<<"$out")" 4
expect_eq "one connection" "$(grep -c 'Connected to' <<<"$out")" 1
# a body left unread by an early reply is skipped, the connection goes on
out=$(raw 'POST /nosuch HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /_ping HTTP/1.1\r\n\r\n')
expect_contains "pipelined request after a refused body" "$out" "OK"
expect_eq "two replies" "$(grep -c '^HTTP/1.1' <<<"$out")" 2

# HTTP/1.0 closes after the reply
out=$(curl -sS -v -0 --unix-socket "$SOCK" http://localhost/_ping 2>&1)
expect_contains "HTTP/1.0 answered" "$out" "< Connection: close"
expect_contains "HTTP/1.0 body" "$out" "OK"
out=$(raw 'GET /_ping HTTP/1.0\r\n\r\n')
expect_contains "HTTP/1.0: the server closes" "$out" "OK"

# HEAD: headers only
out=$(raw 'HEAD /_ping HTTP/1.1\r\n\r\nHEAD /version HTTP/1.1\r\n\r\n')
expect_contains "HEAD /_ping" "$out" "HTTP/1.1 200 OK"
expect_not_contains "HEAD has no body" "$out" "OK\r\nHTTP"
expect_eq "HEAD on keep-alive: two replies" "$(grep -c '^HTTP/1.1 200' <<<"$out")" 2
out=$(raw 'GET /_ping?x=%zz&a+b=c%20d HTTP/1.1\r\nConnection: close\r\n\r\n')
expect_contains "odd query strings pass" "$out" "HTTP/1.1 200"

# a half-sent request does not block another client
python3 - "$SOCK" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"POST /containers/create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"Ima")
time.sleep(4)
EOF
stall=$!
sleep 0.5
check "another client is served meanwhile" timeout 2 curl -sf --unix-socket "$SOCK" http://localhost/_ping -o /dev/null
kill "$stall" 2>/dev/null; wait "$stall" 2>/dev/null

# a request line whose head never ends (HTTP/0.9 style, no blank line) is
# answered with 400 after the head timeout (10 s), not held for the
# connection's 300-s idle timeout; the same head cut by the client's EOF at once
out=$(python3 - "$SOCK" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.settimeout(30)
t0 = time.time()
s.sendall(b"GET /_ping\r\n")
out = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        out += d
except socket.timeout:
    pass
print("%d %s" % (int(time.time() - t0), out.decode("latin-1").split("\r\n")[0]))
EOF
)
expect_contains "an unended head is answered with 400" "$out" "HTTP/1.1 400"
check "within the head timeout, not the idle one ($out s)" test "${out%% *}" -le 12
out=$(printf 'GET /_ping\r\n' | timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
print(s.recv(4096).decode("latin-1"))' "$SOCK")
expect_contains "an unended head cut by EOF is answered with 400 at once" "$out" "HTTP/1.1 400"

# threads: a client that leaves a stream frees its threads
threads() { ls "/proc/$DAEMON_PID/task" | wc -l; }
settle() { # wait until the thread count is $1 (up to 5 s)
        for _ in $(seq 50); do [ "$(threads)" -le "$1" ] && return 0; sleep 0.1; done
        return 1
}
sleep 0.3
base=$(threads)
curl -sS -N --unix-socket "$SOCK" http://localhost/events > /dev/null 2>&1 &
ev=$!
sleep 0.5
check "events stream has its threads" test "$(threads)" -gt "$base"
kill "$ev"; wait "$ev" 2>/dev/null
check "events client gone: threads freed" settle "$base"

b run -d --name talker busybox sh -c 'while :; do echo hi; sleep 0.2; done' > /dev/null
sleep 0.3
base=$(threads)
curl -sS -N --unix-socket "$SOCK" "http://localhost/containers/talker/logs?stdout=1&follow=1" > "$T/logs.out" &
lg=$!
sleep 0.5
check "logs -f streams" grep -q hi "$T/logs.out"
kill "$lg"; wait "$lg" 2>/dev/null
check "logs -f client gone: threads freed" settle "$base"

# attach without Upgrade (old clients): 200 and the raw stream
out=$(raw 'POST /containers/talker/attach?stream=1&stdout=1&logs=1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n' | tr -d '\0')
expect_contains "attach without Upgrade is 200" "$out" "HTTP/1.1 200 OK"
expect_contains "with the stream's content type" "$out" "application/vnd.docker"
expect_contains "and the raw stream" "$out" "hi"
out=$(raw 'POST /containers/talker/attach?stream=1&stdout=1&logs=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n' | tr -d '\0')
expect_contains "attach with Upgrade is 101" "$out" "HTTP/1.1 101 UPGRADED"
expect_contains "101 says Upgrade: tcp" "$out" "Upgrade: tcp"
b rm -f talker > /dev/null

# the docker CLI's idle connections and open streams do not hold up a stop
curl -sS -N --unix-socket "$SOCK" http://localhost/events > /dev/null 2>&1 &
ev=$!
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(30)' "$SOCK" &
idle=$!
sleep 0.5
t0=$(date +%s%N)
stop_daemon
expect_eq "berthd exits 0 with open connections" "$DAEMON_STATUS" 0
check "and at once" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000
wait "$ev" 2>/dev/null
kill "$idle" 2>/dev/null; wait "$idle" 2>/dev/null
finish
