#!/bin/bash
# Escape classes, each tried from inside a container (DESIGN.md's list of
# escape classes names the test of every class):
# - the runtime's binary reached through /proc/PID/exe (CVE-2019-5736): a
#   probe in the container races `berth exec` and tries to open the exec
#   child's exe for reading and writing, and to reopen it for writing after
#   the exec; the child is non-dumpable before it enters the container, the
#   shim runs from a sealed memfd copy of berth-shim, and the host binaries
#   are unchanged (checksums); berth-runtime's create, run and exec run from
#   a sealed copy of berth-runtime (runtime-lifecycle)
# - /proc and /sys control files: masked or read-only in a default container
# - a leaked host fd reached as the working directory of exec or run
#   (CVE-2024-21626)
# - docker cp racing a symlink swap in the container (CVE-2018-15664)
# - an authorization plugin bypassed by a body it was not shown
#   (CVE-2024-41110)
. "$(dirname "$0")/lib.sh"
PROBE=$BERTH_BUILD_DIR/tests/berth-exeprobe
[ -x "$PROBE" ] || skip "berth-exeprobe is not built"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 60 "$BERTH" -H "unix://$SOCK" "$@"; }

# --- CVE-2019-5736: /proc/PID/exe of the runtime's exec child ---------------
sums() { sha256sum "$BERTH_BUILD_DIR"/bin/berth-shim* "$BERTH_BUILD_DIR/bin/berthd" "$BERTH_BUILD_DIR/bin/berth-runtime"; }
before=$(sums)
tb run -d --name x1 --network none -v "$PROBE:/probe:ro" busybox sleep 1000 > /dev/null
tb exec x1 /probe 12 /bin/true > "$T/probe.out" &
probe=$!
sleep 0.3
n=0
while kill -0 "$probe" 2> /dev/null && [ $n -lt 300 ]; do
        tb exec x1 true > /dev/null 2>&1
        n=$((n + 1))
done
wait "$probe"
out=$(cat "$T/probe.out")
echo "# $n execs raced; the probe: $out"
v() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$out"; }
check "the probe saw the exec child before its exec ($out)" test "$(v seen)" -gt 0
expect_eq "its exe link cannot be read from the container" "$(v link)" 0
expect_eq "its exe cannot be opened for reading" "$(v read)" 0
expect_eq "its exe cannot be opened for writing" "$(v write)" 0
expect_eq "nor reopened for writing after the exec" "$(v reopen)" 0
expect_eq "the host's binaries are unchanged" "$(sums)" "$before"
# what the exec child is a fork of: the shim, from a sealed copy of berth-shim
spid=$(cat "$RUN/containers/$(tb inspect -f '{{.Id}}' x1)/shim.pid" 2> /dev/null)
expect_eq "the shim runs from a memfd copy" "$(readlink "/proc/$spid/exe")" "/memfd:berth-shim (deleted)"
out=$(python3 - "$spid" <<'EOF'
import errno, fcntl, os, sys
fd = os.open("/proc/%s/exe" % sys.argv[1], os.O_RDONLY)
seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
print("seals=%s" % ("all" if seals & 15 == 15 else seals), end=" ")
try:
    os.close(os.open("/proc/%s/exe" % sys.argv[1], os.O_WRONLY))
    print("write=opened")
except OSError as e:
    print("write=" + errno.errorcode[e.errno])
EOF
)
expect_contains "the copy is sealed against writing, shrinking and growing" "$out" "seals=all"
expect_not_contains "even host root cannot open it for writing ($out)" "$out" "write=opened"

# --- /proc and /sys: masked or read-only --------------------------------------
# Only opens for writing (no byte is written: `: >`) and reads, so that a
# vulnerable design fails the test without harming the host.
out=$(tb run --rm --network none busybox sh -c '
for f in /proc/sysrq-trigger /proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches \
        /proc/irq/default_smp_affinity /proc/bus/pci/devices /sys/kernel/uevent_helper \
        /sys/power/state; do
        [ -e "$f" ] || continue
        (: > "$f") 2> /dev/null && echo "writable $f"
done
mkdir /sys/berth-escape 2> /dev/null && echo "writable /sys"
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do
        [ -e "$f" ] || continue
        echo "read $f $(head -c 64 "$f" 2> /dev/null | wc -c)"
done
echo "firmware $(ls /sys/firmware 2> /dev/null | wc -l)"
grep -E " /(sys|proc/sys|proc/sysrq-trigger) " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1' 2>&1)
echo "$out" | sed 's/^/# /'
expect_not_contains "no /proc or /sys control file opens for writing" "$out" "writable"
# (what this kernel has: this machine's has no /proc/kcore, no sysrq)
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        [ -e "$f" ] && expect_contains "$f is masked (reads nothing)" "$out" "read $f 0"
done
expect_contains "/sys/firmware is masked (empty)" "$out" "firmware 0"
expect_contains "/sys is mounted read-only" "$out" "/sys ro"
expect_contains "/proc/sys is read-only" "$out" "/proc/sys ro"
[ -e /proc/sysrq-trigger ] &&
        expect_contains "/proc/sysrq-trigger is read-only" "$out" "/proc/sysrq-trigger ro"

# --- CVE-2024-21626: a host fd reached as the working directory --------------
# The runtime's child holds host fds until its exec; a cwd of
# /proc/self/fd/N is resolved while it does. None of them may be a host
# directory: the exec or start fails, or the cwd is inside the root (where
# getcwd works; outside it getcwd fails).
bad=
for i in $(seq 3 40); do
        out=$(tb exec -w "/proc/self/fd/$i" x1 sh -c 'pwd || echo CWD-OUTSIDE-ROOT' 2>&1)
        [[ $out == *CWD-OUTSIDE-ROOT* ]] && bad="$bad exec:$i"
done
for i in $(seq 3 24); do
        out=$(tb run --rm --network none -w "/proc/self/fd/$i" busybox sh -c 'pwd || echo CWD-OUTSIDE-ROOT' 2>&1)
        [[ $out == *CWD-OUTSIDE-ROOT* ]] && bad="$bad run:$i"
done
expect_eq "no exec or run gets a working directory outside its root" "$bad" ""

# --- CVE-2018-15664: docker cp racing a symlink swap -------------------------
# The container swaps /w/d between a directory and a symlink to / while the
# host copies /w/d/tmp/M out of it and into it: the copy must resolve in the
# container's root every time, never the host's (where M holds HOST).
M=berth-cp-race-$$
echo HOST > "/tmp/$M"
tb run -d --name racer --network none busybox sh -c "
echo CONTAINER > /tmp/$M
while :; do rm -rf /w/d; mkdir -p /w/d/tmp; echo DIR > /w/d/tmp/$M; rm -rf /w/d; mkdir -p /w; ln -s / /w/d; done" > /dev/null
sleep 0.3
host_seen=0 seen=
for i in $(seq 40); do
        tb cp "racer:/w/d/tmp/$M" "$T/got" > /dev/null 2>&1 && seen="$seen $(cat "$T/got")"
        grep -qs HOST "$T/got" && host_seen=$((host_seen + 1))
        rm -f "$T/got"
        echo "IN$i" > "$T/$M"
        tb cp "$T/$M" "racer:/w/d/tmp/" > /dev/null 2>&1
done
echo "# cp out read, in turn:$(tr ' ' '\n' <<< "$seen" | sort | uniq -c | tr -s ' \n' ' ')"
expect_eq "cp out never read the host's file" "$host_seen" 0
expect_eq "cp in never wrote the host's file" "$(cat "/tmp/$M")" "HOST"
tb rm -f racer > /dev/null
rm -f "/tmp/$M"

# --- CVE-2024-41110: an auth plugin bypassed by a body it was not shown -------
# auth-nopriv wants bodies and denies "Privileged": true; it allows a request
# that reaches it without a body. A body the daemon acts on must have been
# shown to it, or the request is denied: a body that is not declared JSON,
# one over the 1 MiB a plugin is shown, a chunked one, one after a
# Content-Length of 0.
AUTH_SO=$BERTH_BUILD_DIR/tests/plugins-auth/auth-nopriv.so
tb rm -f x1 > /dev/null
stop_daemon
P=$T/plugins
mkdir -p "$P"
cp "$PLUGINS"/*.so "$AUTH_SO" "$P"/
write_config <<< $'[auth]\ndrivers = nopriv'
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
start_daemon
priv='{"Image":"busybox","Cmd":["true"],"HostConfig":{"Privileged":true}}'
create() { # NAME CURL-ARGS...: the status of a create
        local n=$1
        shift
        api POST "/containers/create?name=$n" "$@"
        echo "$API_STATUS"
}
expect_eq "the plugin denies a privileged create (JSON)" \
        "$(create p1 -H 'Content-Type: application/json' -d "$priv")" 403
check "a body not declared JSON is not acted on unseen" \
        test "$(create p2 -H 'Content-Type: text/plain' -d "$priv")" -ge 400
check "nor a body without a Content-Type" \
        test "$(create p3 -H 'Content-Type:' -d "$priv")" -ge 400
python3 -c 'import sys; b=sys.argv[1]; print(b[:-1] + " " * (1 << 20) + "}")' "$priv" > "$T/big.json"
check "nor a JSON body over 1 MiB" \
        test "$(create p4 -H 'Content-Type: application/json' --data-binary "@$T/big.json")" -ge 400
expect_eq "a chunked JSON body is shown to it" \
        "$(create p5 -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' -d "$priv")" 403
python3 - "$SOCK" "$priv" <<'EOF' > /dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
b = sys.argv[2].encode()
s.sendall(b"POST /containers/create?name=p6 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 0\r\n\r\n" + b)
try:
    s.recv(65536)
except OSError:
    pass
EOF
check "a body after a Content-Length of 0 is not a create's body" \
        test "$(b inspect -f '{{.HostConfig.Privileged}}' p6 2> /dev/null)" != true
privs=$(for c in $(b ps -aq); do b inspect -f '{{.Name}} {{.HostConfig.Privileged}}' "$c"; done)
expect_not_contains "no privileged container was created" "$privs" "true"

finish
