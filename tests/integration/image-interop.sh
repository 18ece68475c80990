#!/bin/bash
# docker-archive and OCI layout interop with skopeo, through both storage
# drivers: mkimage.sh's docker-archive -> skopeo -> OCI layout -> berth;
# berth save -> skopeo inspect/copy (docker-archive and OCI).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
command -v skopeo >/dev/null || { echo "skopeo is not installed"; exit 77; }
tool=$BERTH_BUILD_DIR/tests/image-tool
lib=$BERTH_SOURCE_DIR/tests/lib
work=$(mktemp -d /tmp/berth-image-interop.XXXXXX)
cleanup() {
        grep -o " $work[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$lib/mkimage.sh" multi "$work/multi.tar"
skopeo --insecure-policy copy -q docker-archive:"$work/multi.tar" oci:"$work/oci":multi:latest
tar -C "$work/oci" -cf "$work/oci.tar" .
skopeo --insecure-policy copy -q docker-archive:"$work/multi.tar" oci-archive:"$work/oci-gz.tar":docker.io/library/multi:latest

for drv in vfs overlay2; do
        root=$work/root-$drv
        t() { "$tool" -r "$root" -d "$drv" "$@"; }
        # the docker-archive, then the same image through skopeo's OCI layout
        t load "$work/multi.tar" | grep -qx "Loaded image: multi:latest" || fail "$drv: load docker-archive"
        id=$(t inspect multi | sed -n 's/^ "Id": "\(.*\)",$/\1/p')
        [ -n "$id" ] || fail "$drv: no Id"
        diffs=$(t inspect multi | grep -A6 '"Layers"' | grep -o 'sha256:[0-9a-f]*' | tr '\n' ' ')
        [ -n "$diffs" ] || fail "$drv: no layers"
        t rm multi >/dev/null
        out=$(t load "$work/oci.tar")
        # ref.name "multi:latest" is a name: it tags the image
        echo "$out" | grep -qx "Loaded image: multi:latest" || fail "$drv: load OCI layout: $out"
        # skopeo rewrites the config into the OCI shape (a new ID); the
        # layers must be the very same
        diffs2=$(t inspect multi | grep -A6 '"Layers"' | grep -o 'sha256:[0-9a-f]*' | tr '\n' ' ')
        [ "$diffs" = "$diffs2" ] || fail "$drv: OCI layout gives layers $diffs2, docker-archive $diffs"
        [ "$(t ls | grep -c '"Id"')" = 1 ] || fail "$drv: the docker-archive's image was not replaced"
        t rm -f multi >/dev/null
        # skopeo's oci-archive (compressed layers possible)
        t load "$work/oci-gz.tar" | grep -q "Loaded image" || fail "$drv: load oci-archive"

        # the layering, through the driver's mount
        rootfs=$(t mount multi)
        [ -x "$rootfs/bin/busybox" ] || fail "$drv: no busybox"
        [ ! -e "$rootfs/etc/deleteme" ] || fail "$drv: whiteout ignored"
        [ ! -e "$rootfs/opt/dir/a" ] && [ -e "$rootfs/opt/dir/c" ] || fail "$drv: opaque dir ignored"
        [ "$(stat -c %i "$rootfs/data/file2")" = "$(stat -c %i "$rootfs/data/hard")" ] || fail "$drv: hard link"
        [ "$(readlink "$rootfs/data/link")" = file2 ] || fail "$drv: symlink"
        [ "$(chroot "$rootfs" /bin/cat /etc/motd)" = "welcome to multi" ] || fail "$drv: chroot cat"
        t umount multi

        # berth save is readable by skopeo, both as docker-archive and OCI
        saved_id=$(t inspect multi | sed -n 's/^ "Id": "\(.*\)",$/\1/p')
        t save "$work/saved-$drv.tar" multi
        skopeo inspect docker-archive:"$work/saved-$drv.tar" | grep -q '"org.berth.test": "multi"' ||
                fail "$drv: skopeo inspect docker-archive of berth save"
        skopeo --insecure-policy copy -q docker-archive:"$work/saved-$drv.tar" oci:"$work/oci-$drv":x ||
                fail "$drv: skopeo copy of berth save"
        t save --oci "$work/saved-oci-$drv.tar" multi
        skopeo inspect oci-archive:"$work/saved-oci-$drv.tar" | grep -q '"org.berth.test": "multi"' ||
                fail "$drv: skopeo inspect oci-archive of berth save --oci"
        # podman (storage only, no containers: fine on this host) reads it,
        # keeps the ID, and its own save loads back into berth
        if command -v podman >/dev/null; then
                P() { timeout 120 podman --root "$work/podman-$drv" --runroot "$work/pr-$drv" --tmpdir "$work/pt-$drv" --storage-driver vfs "$@"; }
                P load -i "$work/saved-$drv.tar" >"$work/podman.log" 2>&1 || fail "$drv: podman load of berth save: $(tail -3 "$work/podman.log")"
                [ "$(P images --noheading --format '{{.ID}}' docker.io/library/multi:latest)" = "${saved_id:7:12}" ] ||
                        fail "$drv: podman sees another ID than $saved_id"
                P save -o "$work/podman-$drv.tar" docker.io/library/multi:latest >/dev/null 2>&1 || fail "$drv: podman save"
                t load "$work/podman-$drv.tar" | grep -qx "Loaded image: multi:latest" || fail "$drv: load of podman save"
        fi
        # and it loads back, same ID
        t rm multi >/dev/null
        t prune -a >/dev/null
        t load "$work/saved-$drv.tar" >/dev/null
        id3=$(t inspect multi | sed -n 's/^ "Id": "\(.*\)",$/\1/p')
        [ "$saved_id" = "$id3" ] || fail "$drv: reload of berth save gives $id3, not $saved_id"
        t rm multi >/dev/null
        t prune -a >/dev/null
        [ "$(t ls)" = "[]" ] || fail "$drv: images left"
        left=$(find "$root/$drv" -mindepth 2 -maxdepth 2 ! -path '*/l/*' | wc -l)
        [ "$left" = 0 ] || fail "$drv: $left driver layers left"
done
echo "image-interop: ok"
