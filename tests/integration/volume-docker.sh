#!/bin/bash
# The real docker CLI against berthd for volumes: docker volume
# create/ls/inspect/rm/prune, docker run -v and --mount.
. "$(dirname "$0")/lib.sh"
clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG" "$T/host"
echo "host file" > "$T/host/f"
for d in "${clis[@]}"; do
        cv=$("$d" --version)
        dk() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        expect_eq "$cv: volume create" "$(dk volume create --label k=v -d local dv 2>&1)" "dv"
        expect_eq "$cv: volume create -o" "$(dk volume create -o type=tmpfs -o device=tmpfs -o o=size=1m dt 2>&1)" "dt"
        expect_eq "$cv: volume ls -q" "$(dk volume ls -q | sort | tr '\n' ' ')" "dt dv "
        expect_contains "$cv: volume ls table" "$(dk volume ls 2>&1 | tr -s ' ')" "local dv"
        expect_eq "$cv: volume ls --filter label" "$(dk volume ls -q --filter label=k=v)" "dv"
        expect_eq "$cv: volume ls --filter dangling" "$(dk volume ls -q --filter dangling=true | sort | tr '\n' ' ')" "dt dv "
        expect_eq "$cv: volume inspect" "$(dk volume inspect -f '{{.Name}} {{.Driver}} {{.Labels.k}} {{.Scope}}' dv 2>&1)" "dv local v local"
        expect_eq "$cv: volume inspect options" "$(dk volume inspect -f '{{.Options.type}} {{.Options.o}}' dt 2>&1)" "tmpfs size=1m"
        expect_eq "$cv: inspect falls through to volumes" "$(dk inspect -f '{{.Mountpoint}}' dv 2>&1)" "$DATA/volumes/dv/_data"
        out=$(dk volume inspect nope 2>&1); rc=$?
        expect_eq "$cv: inspect of a missing volume fails" "$rc" 1
        expect_contains "$cv: missing volume message" "$out" "o such volume"

        out=$(dk run --rm -v dv:/data busybox sh -c 'echo via-docker > /data/f; cat /data/f' 2>&1)
        expect_eq "$cv: run -v NAME" "$out" "via-docker"
        expect_eq "$cv: run --mount type=volume" \
                "$(dk run --rm --mount type=volume,source=dv,target=/m,readonly busybox cat /m/f 2>&1)" "via-docker"
        expect_eq "$cv: run -v host path" "$(dk run --rm -v "$T/host:/h:ro" busybox cat /h/f 2>&1)" "host file"
        expect_eq "$cv: run --mount type=bind" \
                "$(dk run --rm --mount type=bind,source="$T/host",target=/h busybox cat /h/f 2>&1)" "host file"
        out=$(dk run --rm --mount type=tmpfs,target=/t,tmpfs-size=1048576 busybox sh -c 'dd if=/dev/zero of=/t/x bs=1k count=2048 2>&1; echo rc=$?' 2>&1)
        expect_contains "$cv: run --mount type=tmpfs limits size" "$out" "rc=1"
        out=$(dk run --rm --mount type=bind,source="$T/nope",target=/x busybox true 2>&1); rc=$?
        expect_eq "$cv: missing bind source: exit 125" "$rc" 125
        expect_contains "$cv: missing bind source message" "$out" "bind source path does not exist"

        dk create --name holder -v dv:/data busybox true > /dev/null
        expect_eq "$cv: inspect Mounts" \
                "$(dk inspect -f '{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}{{end}}' holder 2>&1)" "volume dv /data true"
        expect_contains "$cv: system df counts volumes" "$(dk system df 2>&1 | tr -s ' ')" "Local Volumes 2 1"
        out=$(dk volume rm dv 2>&1); rc=$?
        expect_eq "$cv: volume rm in use fails" "$rc" 1
        expect_contains "$cv: volume rm in use message" "$out" "volume is in use"
        expect_eq "$cv: dangling=true excludes used" "$(dk volume ls -q --filter dangling=true)" "dt"
        out=$(dk volume prune -f 2>&1); rc=$?
        expect_eq "$cv: volume prune exit status" "$rc" 0
        expect_contains "$cv: volume prune removes unused" "$out" "dt"
        expect_contains "$cv: volume prune reports space" "$out" "Total reclaimed space"
        check "$cv: volume prune keeps volumes in use" test -d "$DATA/volumes/dv/_data"
        dk rm holder > /dev/null
        expect_eq "$cv: volume rm" "$(dk volume rm dv 2>&1)" "dv"
        expect_eq "$cv: nothing left" "$(dk volume ls -q)" ""
done
stop_daemon
finish
