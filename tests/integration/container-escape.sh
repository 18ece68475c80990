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

finish
