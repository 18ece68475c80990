#!/bin/bash
# kill -9 in the middle of a load, many times at different moments: the next
# open lists no half image, leaves no temp files, and loads again cleanly;
# removing everything then leaves no layer behind.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
tool=$BERTH_BUILD_DIR/tests/image-tool
lib=$BERTH_SOURCE_DIR/tests/lib
work=$(mktemp -d /tmp/berth-image-crash.XXXXXX)
cleanup() {
        grep -o " $work[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$lib/mkimage.sh" big "$work/big.tar"
"$lib/mkimage.sh" multi "$work/multi.tar"
for drv in vfs overlay2; do
        root=$work/root-$drv
        t() { "$tool" -r "$root" -d "$drv" "$@"; }
        t load "$work/multi.tar" >/dev/null
        for delay in 0.02 0.05 0.1 0.15 0.2 0.3 0.4 0.6; do
                "$tool" -r "$root" -d "$drv" load "$work/big.tar" >/dev/null 2>&1 &
                pid=$!
                sleep "$delay"
                kill -9 "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
                # the next open repairs: only whole images are listed
                list=$(t ls)
                echo "$list" | grep -q '"multi:latest"' || fail "$drv: the earlier image is gone"
                if echo "$list" | grep -q '"big:latest"'; then
                        rootfs=$(t mount big)
                        for i in 2 3 4 5; do
                                [ "$(stat -c %s "$rootfs/data$i/blob6")" = 2097152 ] ||
                                        fail "$drv: big is listed but incomplete"
                        done
                        t umount big
                        t rm big >/dev/null
                fi
                [ -z "$(ls -A "$root/image/$drv/tmp")" ] || fail "$drv: leftovers in image/tmp: $(ls "$root/image/$drv/tmp")"
        done
        t load "$work/big.tar" | grep -qx "Loaded image: big:latest" || fail "$drv: load after crashes"
        t rm big >/dev/null
        t rm multi >/dev/null
        [ "$(t ls)" = "[]" ] || fail "$drv: images left"
        left=$(find "$root/$drv" -mindepth 2 -maxdepth 2 ! -path '*/l/*' | wc -l)
        [ "$left" = 0 ] || fail "$drv: $left driver layers left: $(find "$root/$drv" -mindepth 2 -maxdepth 2 ! -path "*/l/*"; ls -la "$root/image/$drv/layers" "$root/image/$drv/tmp")"
        [ "$(find "$root/image/$drv/blobs" -type f | wc -l)" = 0 ] || fail "$drv: blobs left"
done
echo "image-crash: ok"
