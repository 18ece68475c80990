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

finish
