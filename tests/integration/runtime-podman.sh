#!/bin/bash
# Interop: Debian's podman drives berth-runtime (through conmon) for a plain
# and an interactive (-it, console socket) container. podman asks for
# RLIMIT_NOFILE 1048576 by default, above this host's hard limit: that is
# refused clearly, and works once the limits are lowered as MACHINE.md says.
source "$(dirname "$0")/runtime-lib.sh"
command -v podman >/dev/null && command -v conmon >/dev/null || { echo "SKIP: podman/conmon not installed"; exit 77; }
command -v script >/dev/null || { echo "SKIP: script(1) missing"; exit 77; }

had_libpod=$( (ls -d /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent 2>/dev/null || true) | wc -l)
# --tmpdir: podman's lock and alive files in $T, not in /run/libpod. (podman
# 4.3 still makes an empty /run/containers/networks, netavark's run directory,
# whatever its flags; it is podman's shared state, left alone.)
P=(podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp" --cgroup-manager cgroupfs
   --events-backend file --runtime "$RT_BIN" --runtime-flag "root=$T/podman/rt")
podman_cleanup() {
        "${P[@]}" rm -af >/dev/null 2>&1 || true
        "${P[@]}" system reset -f >/dev/null 2>&1 || true
        grep "$T" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        if [ "$had_libpod" = 0 ]; then # podman's own parent cgroup, made for this test
                for d in /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent; do
                        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
                done
        fi
        return 0
}
trap 'rc=$?; podman_cleanup; (exit $rc); cleanup' EXIT

tar -C "$T/rootfs" -c . | "${P[@]}" import - localhost/berth-rt-busybox >/dev/null 2>&1
limits=(--ulimit nofile=20000:20000 --ulimit nproc=32768:32768)

if "${P[@]}" run --rm --network none localhost/berth-rt-busybox true 2>"$T/err"; then
        echo "note: podman's default rlimits fit this host"
else
        grep -q "RLIMIT_NOFILE hard limit .* is above this host's hard limit" "$T/err" ||
                fail "podman default rlimits: $(cat "$T/err")"
        ok "podman's default RLIMIT_NOFILE is refused clearly: $(tail -n1 "$T/err")"
fi

out=$("${P[@]}" run --rm --network none "${limits[@]}" localhost/berth-rt-busybox \
        sh -c 'echo pid=$$; grep CapEff /proc/self/status')
echo "$out" | grep -qx "pid=1" || fail "podman run: $out"
echo "$out" | grep -q "CapEff:	00000000800405fb" || fail "podman's default capabilities: $out"
ok "podman --runtime berth-runtime run --rm IMAGE works"

# script's stdin stays open (a sleep) so that script does not end the session
# at its EOF before the container has spoken.
set +e
sleep 2 | script -qec "${P[*]} run --rm -it --network none ${limits[*]} localhost/berth-rt-busybox sh -c 'tty; exit 5'" /dev/null > "$T/podman-it.out"
rc=${PIPESTATUS[1]}
set -e

out=$(tr -d '\r\000' < "$T/podman-it.out")


echo "$out" | grep -q "/dev/pts/[0-9]" || fail "podman -it: $out"
[ "${rc:-0}" = 5 ] || fail "podman -it exit code ${rc:-0}"
ok "podman run -it (console socket) works and returns the exit code"
podman_cleanup
assert_clean "podman"
