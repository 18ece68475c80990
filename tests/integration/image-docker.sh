#!/bin/bash
# The docker CLI (28.x and 20.10) against berthd's image endpoints: load,
# save, images, tag, rmi, image inspect, history, system df.
. "$(dirname "$0")/lib.sh"
clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
start_daemon
for d in "${clis[@]}"; do
        v=$("$d" --version | cut -d, -f1)
        D() { "$d" -H "unix://$SOCK" "$@"; }
        out=$(D load -i "$T/bb.tar" 2>&1)
        expect_eq "$v: docker load" "$out" "Loaded image: busybox:latest"
        out=$(D images)
        expect_contains "$v: docker images" "$out" "busybox      latest"
        id=$(D image inspect --format '{{.Id}}' busybox)
        check "$v: docker image inspect --format" bash -c "[[ '$id' =~ ^sha256:[0-9a-f]{64}$ ]]"
        out=$(D tag busybox dock/er:t1 2>&1); rc=$?
        expect_eq "$v: docker tag exit status" "$rc" 0
        expect_eq "$v: docker images REPO:TAG" "$(D images -q --no-trunc dock/er:t1)" "$id"
        out=$(D rmi dock/er:t1)
        expect_eq "$v: docker rmi of a second tag" "$out" "Untagged: dock/er:t1"
        out=$(D history busybox)
        expect_contains "$v: docker history" "$out" "ADD busybox rootfs"
        out=$(D system df)
        expect_contains "$v: docker system df" "$out" "Images          1         0"
        D save -o "$T/d.tar" busybox
        check "$v: docker save writes an archive" bash -c "tar tf '$T/d.tar' | grep -qx manifest.json"
        out=$(D rmi busybox)
        expect_contains "$v: docker rmi deletes" "$out" "Deleted: $id"
        out=$(D image inspect busybox 2>&1); rc=$?
        check "$v: inspect after rmi fails" test "$rc" -ne 0
        expect_contains "$v: inspect after rmi says No such image" "$out" "No such image: busybox"
        out=$(D load < "$T/d.tar" 2>&1)
        expect_eq "$v: docker load of docker save output" "$out" "Loaded image: busybox:latest"
        expect_eq "$v: same ID after the round trip" "$(D image inspect --format '{{.Id}}' busybox)" "$id"
        D rmi busybox > /dev/null
done
stop_daemon
finish
