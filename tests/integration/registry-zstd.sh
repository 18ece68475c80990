#!/bin/bash
# zstd layers (application/vnd.oci.image.layer.v1.tar+zstd): an OCI archive
# made here from the busybox image, its layer compressed with zstd, loaded,
# run, saved and loaded back; the same layout copied to a real registry by
# skopeo, pulled, run and pushed by berth; a zstd blob that does not hold the
# layer its config names is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
command -v zstd > /dev/null || { echo "FAIL: zstd is not installed" >&2; exit 1; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# mkoci DIR NAME:TAG [BAD]: an OCI layout of the busybox image with its layer
# as zstd; with BAD the layer is another tar than the config's diff ID names
mkoci() {
        local dir=$1 name=$2 bad=${3:-}
        local w=$T/mk.$RANDOM
        mkdir -p "$w" "$dir/blobs/sha256"
        tar -C "$w" -xf "$T/busybox.tar"
        local m cfg layer
        m=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))[0]; print(m["Config"], m["Layers"][0])' "$w/manifest.json")
        cfg=$w/${m%% *}
        layer=$w/${m#* }
        if [ -n "$bad" ]; then
                mkdir -p "$w/x" && echo other > "$w/x/file"
                tar -C "$w/x" -cf "$w/other.tar" file
                layer=$w/other.tar
        fi
        zstd -q -19 -c "$layer" > "$w/layer.zst"
        local ld cd md
        ld=$(sha "$w/layer.zst"); cp "$w/layer.zst" "$dir/blobs/sha256/$ld"
        cd=$(sha "$cfg"); cp "$cfg" "$dir/blobs/sha256/$cd"
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:%s","size":%s}]}' \
                "$cd" "$(size "$cfg")" "$ld" "$(size "$w/layer.zst")" > "$w/manifest"
        md=$(sha "$w/manifest"); cp "$w/manifest" "$dir/blobs/sha256/$md"
        printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"docker.io/library/%s","org.opencontainers.image.ref.name":"%s"}}]}' \
                "$md" "$(size "$w/manifest")" "$name" "${name#*:}" > "$dir/index.json"
        echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
        ZSTD_BLOB=sha256:$ld
        CONFIG_DIGEST=sha256:$cd
        DIFF_IDS=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["rootfs"]["diff_ids"], separators=(",",":")))' "$cfg")
        rm -rf "$w"
}

bash "$MKIMAGE" busybox "$T/busybox.tar" > /dev/null
mkoci "$T/oci" zstd:latest
tar -C "$T/oci" -cf "$T/zstd.tar" .
check "the test layout's layer is zstd data" bash -c "zstd -t -q '$T/oci/blobs/sha256/${ZSTD_BLOB#sha256:}'"
mkoci "$T/bad" bad:latest bad
tar -C "$T/bad" -cf "$T/bad.tar" .

P=$(free_port)
R=127.0.0.1:$P
start_registry "$T/reg" "$P" || exit 1
write_config <<< $'[registry]\ntimeout = 5'
start_daemon

# load: an OCI archive with a zstd layer
out=$(b load -i "$T/zstd.tar" 2>&1); rc=$?
expect_eq "load of a zstd OCI archive: exit status" "$rc" 0
expect_contains "load names the image" "$out" "Loaded image: zstd:latest"
id=$(b image inspect -f '{{.Id}}' zstd:latest)
expect_eq "the image ID is the config's digest" "$id" "$CONFIG_DIGEST"
expect_eq "its layer is the uncompressed tar's diff ID" \
        "$(b image inspect -f '{{json .RootFS.Layers}}' zstd:latest)" "$DIFF_IDS"
out=$(timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" run --rm zstd:latest sh -c 'echo from-zstd; ls /bin/busybox' 2>&1)
expect_eq "a container of the zstd image runs" "$out" $'from-zstd\n/bin/busybox'

out=$(b load -i "$T/bad.tar" 2>&1); rc=$?
expect_eq "a zstd layer that is not the config's diff ID: load fails" "$rc" 1
check "and no image is left" bash -c "! '$BERTH' -H 'unix://$SOCK' image inspect bad:latest > /dev/null 2>&1"

# save and load back
check "save of the zstd image" b save -o "$T/saved.tar" zstd:latest
b rmi zstd:latest > /dev/null
out=$(b load -i "$T/saved.tar" 2>&1); rc=$?
expect_eq "the saved archive loads back" "$rc" 0
expect_eq "with the same image ID" "$(b image inspect -f '{{.Id}}' zstd:latest)" "$id"
expect_eq "and runs" "$(timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" run --rm zstd:latest echo again 2>&1)" "again"
b rmi zstd:latest > /dev/null

# pull: skopeo puts the layout in the registry as it is (zstd layer)
skopeo copy -q --dest-tls-verify=false "oci:$T/oci:latest" "docker://$R/z/zstd:v1"
expect_contains "the registry holds the zstd layer" \
        "$(skopeo inspect --raw --tls-verify=false "docker://$R/z/zstd:v1")" "application/vnd.oci.image.layer.v1.tar+zstd"
out=$(b pull "$R/z/zstd:v1" 2>&1); rc=$?
expect_eq "pull of a zstd image: exit status" "$rc" 0
expect_contains "pull verifies the layer" "$out" "Pull complete"
expect_eq "the pulled image has the loaded image's ID" "$(b image inspect -f '{{.Id}}' "$R/z/zstd:v1")" "$id"
expect_eq "a container of the pulled image runs" \
        "$(timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" run --rm "$R/z/zstd:v1" echo pulled 2>&1)" "pulled"

# push: to another repository of the registry that has the zstd blob; then
# back into berth from there
b tag "$R/z/zstd:v1" "$R/y/zstd:v2"
out=$(b push "$R/y/zstd:v2" 2>&1); rc=$?
expect_eq "push of the zstd image: exit status" "$rc" 0
raw=$(skopeo inspect --raw --tls-verify=false "docker://$R/y/zstd:v2")
expect_contains "the pushed manifest keeps the zstd layer" "$raw" '"application/vnd.oci.image.layer.v1.tar+zstd"'
expect_contains "in an OCI manifest" "$raw" '"application/vnd.oci.image.manifest.v1+json"'
check "skopeo can copy what berth pushed" skopeo copy -q --src-tls-verify=false "docker://$R/y/zstd:v2" "oci:$T/back:v2"
b rmi "$R/z/zstd:v1" "$R/y/zstd:v2" > /dev/null
out=$(b pull "$R/y/zstd:v2" 2>&1); rc=$?
expect_eq "the pushed image pulls back" "$rc" 0
expect_eq "with the same image ID" "$(b image inspect -f '{{.Id}}' "$R/y/zstd:v2")" "$id"
expect_eq "and runs" "$(timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" run --rm "$R/y/zstd:v2" echo round 2>&1)" "round"
b rmi "$R/y/zstd:v2" > /dev/null

# pull: a zstd blob that holds another tar than the config's diff ID
skopeo copy -q --dest-tls-verify=false "oci:$T/bad:latest" "docker://$R/z/bad:v1"
out=$(b pull "$R/z/bad:v1" 2>&1); rc=$?
expect_eq "pull of a zstd layer that is not the config's: exit status" "$rc" 1
expect_contains "names the mismatch" "$out" "is not the layer the image config names"

stop_daemon
finish
