#!/bin/bash
# A granted capability opens the syscalls it needs in the default seccomp
# profile, as Docker's does: --cap-add SYS_ADMIN lets mount and unshare
# through, SYS_TIME clock_settime, SYS_BOOT reboot; without them seccomp
# refuses with EPERM. The probes only
# make calls the kernel refuses (bad clock, bad magic), so nothing on the
# host changes. Driven through the docker CLIs.
. "$(dirname "$0")/lib.sh"
PROBE=$BERTH_BUILD_DIR/tests/berth-sysprobe
[ -x "$PROBE" ] || { echo "berth-sysprobe is not built" >&2; exit 1; }
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
# (through sh: the probe is bind-mounted, and berth looks for the command
# in the image before the mounts are there)
P=(-v "$PROBE:/probe:ro")

host_bnd=$(awk '/^CapBnd:/ {print $2}' "/proc/$DAEMON_PID/status")
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        v=$("$d" --version | cut -d, -f1)
        dk() { "$d" -H "unix://$SOCK" "$@"; }
        out=$(dk run --rm --cap-add SYS_ADMIN busybox sh -c 'mkdir -p /mnt && mount -t tmpfs none /mnt && echo hi > /mnt/f && cat /mnt/f && umount /mnt && echo umounted' 2>&1)
        expect_eq "$v: --cap-add SYS_ADMIN: mount and umount work" "$out" "hi
umounted"
        out=$(dk run --rm busybox sh -c 'mkdir -p /mnt; mount -t tmpfs none /mnt' 2>&1)
        expect_contains "$v: without it mount is refused" "$out" "permission denied"
        out=$(dk run --rm --cap-add SYS_ADMIN busybox sh -c 'unshare -m true && unshare -u sh -c "hostname inner && hostname"' 2>&1)
        expect_eq "$v: --cap-add SYS_ADMIN: unshare works" "$out" "inner"
        out=$(dk run --rm busybox unshare -m true 2>&1)
        expect_contains "$v: without it unshare is refused" "$out" "Operation not permitted"
        out=$(dk run --rm "${P[@]}" --cap-add SYS_TIME busybox sh -c '/probe clock_settime' 2>&1)
        expect_eq "$v: --cap-add SYS_TIME: clock_settime reaches the kernel" "$out" "EINVAL"
        out=$(dk run --rm "${P[@]}" busybox sh -c '/probe clock_settime' 2>&1)
        expect_eq "$v: without it seccomp refuses clock_settime" "$out" "EPERM"
        out=$(dk run --rm "${P[@]}" --cap-add SYS_BOOT busybox sh -c '/probe reboot' 2>&1)
        expect_eq "$v: --cap-add SYS_BOOT: reboot reaches the kernel" "$out" "EINVAL"
        out=$(dk run --rm "${P[@]}" busybox sh -c '/probe reboot' 2>&1)
        expect_eq "$v: without it reboot is refused" "$out" "EPERM"
        out=$(dk run --rm busybox grep Seccomp: /proc/self/status)
        expect_eq "$v: the default: a filter" "$out" "Seccomp:	2"
        # --privileged: every capability the host's bounding set allows
        # (this machine's lacks CAP_SYS_RESOURCE: asking for it failed the
        # start with EPERM), and no seccomp filter
        out=$(dk run --rm --privileged busybox grep -E '^(CapBnd|CapEff|Seccomp):' /proc/self/status 2>&1)
        expect_eq "$v: --privileged: the host's bounding set, effective, no filter" "$out" \
                "$(printf 'CapEff:\t%s\nCapBnd:\t%s\nSeccomp:\t0' "$host_bnd" "$host_bnd")"
done
finish
