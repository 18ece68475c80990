#!/bin/bash
# terminal: true. With --console-socket the PTY master is sent over the
# socket (SCM_RIGHTS) as runc does; `run` without one proxies the PTY itself.
source "$(dirname "$0")/runtime-lib.sh"

mkbundle term "c['process']['terminal']=True" \
        "c['process']['args']=['sh','-c','tty; [ -t 0 ] && [ -t 1 ] && echo is-a-tty; ls -l /dev/console | cut -c1']"

python3 - "$T/console.sock" "$T/console.out" <<'PY' &
import os, socket, sys
path, out = sys.argv[1:3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
open(path + '.ready', 'w').close()
conn, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 16, 1)
data = b''
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
open(out, 'wb').write(data)
PY
receiver=$!
for i in $(seq 100); do [ -e "$T/console.sock.ready" ] && break; sleep 0.05; done
rt create -b "$T/term" --console-socket "$T/console.sock" t1
rt start t1
wait $receiver
tr -d '\r' <"$T/console.out" >"$T/console.txt"
grep -q '^/dev/pts/0$' "$T/console.txt" || fail "console socket: $(cat "$T/console.txt")"
grep -qx is-a-tty "$T/console.txt" || fail "console socket: not a tty: $(cat "$T/console.txt")"
grep -qx c "$T/console.txt" || fail "/dev/console is not the pty: $(cat "$T/console.txt")"
rt delete --force t1
assert_clean
ok "console socket: the PTY master arrives by SCM_RIGHTS, the container's stdio is /dev/pts/0"

out=$(rt run -b "$T/term" t2 </dev/null | tr -d '\r')
echo "$out" | grep -qx is-a-tty || fail "run with a terminal: $out"
assert_clean
ok "run with terminal: true and no console socket proxies the PTY"
