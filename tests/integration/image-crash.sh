#!/bin/bash
# kill -9 in the middle of a load, many times at different moments: the next
# open lists no half image, leaves no temp files, and loads again cleanly;
# removing everything then leaves no layer behind. And the tar helper
# (berth-tar) killed while it spools the archive and while it unpacks a
# layer: the load fails with a message that names what happened, and the
# store is as it was (the earlier image whole, no half layer, nothing in
# tmp/).
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

# The helper kills run a copy of image-tool with a berth-tar of the test's
# own beside it (found first: find_program looks next to the program). For
# the subcommand named by HOLD_TAR it runs the real berth-tar on its input
# through a feeder that stops after 1 MiB: the helper is then mid-spool or
# mid-unpack however loaded the machine is, and the test kills it there.
mkdir -p "$work/bin"
cp "$tool" "$work/bin/image-tool"
cat > "$work/bin/berth-tar" << EOF
#!/bin/sh
[ "\$1" = "\$HOLD_TAR" ] || exec $BERTH_BUILD_DIR/bin/berth-tar "\$@"
sh -c 'head -c 1048576; kill -STOP \$\$; exec cat' | $BERTH_BUILD_DIR/bin/berth-tar "\$@"
EOF
chmod +x "$work/bin/berth-tar"

# kill -9 the berth-tar child of $1 running subcommand $2, once it has
# read 1 MiB (the real helper then dies with its parent: PDEATHSIG)
kill_helper() {
        local parent=$1 sub=$2 hp feeder
        for _ in $(seq 2000); do
                hp=$(pgrep -P "$parent" -f "berth-tar $sub" || true)
                feeder=$([ -n "$hp" ] && pgrep -P "$hp" -f "head -c 1048576" || true)
                if [ -n "$hp" ] && [ -n "$feeder" ] &&
                        grep -q '^State:[[:space:]]*T' "/proc/$feeder/status" 2> /dev/null; then
                        kill -9 "$hp"
                        kill -9 "$feeder"
                        return 0
                fi
                kill -0 "$parent" 2> /dev/null || return 1
                sleep 0.005
        done
        return 1
}

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
                # its berth-tar dies of PDEATHSIG, but not at once: under
                # load it may still write into tmp/ after the next open
                # emptied it (a real daemon restarts much later)
                for _ in $(seq 200); do
                        pgrep -f "berth-tar .*$root" > /dev/null || break
                        sleep 0.01
                done
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
        layers_before=$(find "$root/$drv" -mindepth 2 -maxdepth 2 ! -path '*/l/*' | sort)
        for sub in spool unpack; do
                HOLD_TAR=$sub "$work/bin/image-tool" -r "$root" -d "$drv" load "$work/big.tar" \
                        > "$work/out" 2>&1 &
                pid=$!
                kill_helper "$pid" "$sub" || fail "$drv: no berth-tar $sub seen"
                st=0
                wait "$pid" || st=$?
                [ "$st" != 0 ] || fail "$drv/$sub: the load succeeded with its helper killed"
                grep -q "tar helper killed by signal 9" "$work/out" ||
                        fail "$drv/$sub: the message does not say so: $(cat "$work/out")"
                list=$(t ls)
                echo "$list" | grep -q '"multi:latest"' || fail "$drv/$sub: the earlier image is gone"
                ! echo "$list" | grep -q '"big:latest"' || fail "$drv/$sub: big is listed"
                [ -z "$(ls -A "$root/image/$drv/tmp")" ] ||
                        fail "$drv/$sub: leftovers in image/tmp: $(ls "$root/image/$drv/tmp")"
                layers=$(find "$root/$drv" -mindepth 2 -maxdepth 2 ! -path '*/l/*' | sort)
                [ "$layers" = "$layers_before" ] || fail "$drv/$sub: driver layers changed: $layers"
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
