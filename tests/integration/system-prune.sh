#!/bin/bash
# berth system prune: stopped containers, unused networks, dangling images
# (all unused ones with -a) and, with --volumes, unused volumes;
# what a running container uses stays.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

b network create keepnet > /dev/null
b network create dropnet > /dev/null
b volume create named > /dev/null
b run -d --name keeper --network keepnet -v /anon-kept busybox sleep 100 > /dev/null
b run --name stopped -v /anon-dropped busybox true
anon_dropped=$(b inspect -f '{{range .Mounts}}{{.Name}}{{end}}' stopped)
b commit stopped dangling:1 > /dev/null
b tag busybox extra:1
b rmi dangling:1 > /dev/null 2>&1 || true

out=$(echo n | b system prune)
expect_contains "asks first" "$out" "Are you sure you want to continue? [y/N]"
check "n keeps everything" b inspect stopped

out=$(b system prune -f --volumes)
expect_contains "deleted containers listed" "$out" "Deleted Containers:"
expect_contains "deleted networks listed" "$out" "dropnet"
expect_contains "deleted volumes listed" "$out" "$anon_dropped"
expect_contains "total reclaimed" "$out" "Total reclaimed space:"
check "the stopped container is gone" bash -c "! $BERTH -H unix://$SOCK inspect stopped > /dev/null 2>&1"
check "the unused network is gone" bash -c "! $BERTH -H unix://$SOCK network inspect dropnet > /dev/null 2>&1"
check "the used network stays" b network inspect keepnet
check "the running container stays" b inspect keeper
# API 1.41 (berthd's): a volume prune takes every unused volume, named too
check "an unused named volume goes too at API 1.41" bash -c "! $BERTH -H unix://$SOCK volume inspect named > /dev/null 2>&1"
check "tagged images stay without -a" b image inspect extra:1

b rm -f keeper > /dev/null
out=$(b system prune -af)
expect_contains "-a removes unused images" "$out" "untagged: extra:1"
check "no image is left" bash -c "[ -z \"\$($BERTH -H unix://$SOCK images -q)\" ]"
# the docker CLIs compose the same prunes (and ask for the build cache's)
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
b load -q -i "$T/bb.tar" > /dev/null
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        b network create dnet > /dev/null
        b run --name dstopped busybox true
        out=$("$d" -H "unix://$SOCK" system prune -f 2>&1)
        expect_contains "$d system prune removes the stopped container" "$out" "Deleted Containers:"
        expect_contains "$d system prune removes the unused network" "$out" "dnet"
done

# until: only what was created before that time (a timestamp, or a
# duration before now); what came after stays
b create --name old busybox true > /dev/null
b network create oldnet > /dev/null
sleep 1.2
cut=$(date +%s.%N)
sleep 1.2
b create --name new busybox true > /dev/null
b network create newnet > /dev/null
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        "$d" -H "unix://$SOCK" container prune -f --filter "until=$cut" > /dev/null
        "$d" -H "unix://$SOCK" network prune -f --filter "until=$cut" > /dev/null
        break
done
check "container prune until: the older container goes" bash -c "! $BERTH -H unix://$SOCK inspect old > /dev/null 2>&1"
check "container prune until: the newer container stays" b inspect new
check "network prune until: the older network goes" bash -c "! $BERTH -H unix://$SOCK network inspect oldnet > /dev/null 2>&1"
check "network prune until: the newer network stays" b network inspect newnet
api POST '/containers/prune?filters=%7B%22until%22%3A%5B%221h%22%5D%7D'
expect_eq "until=1h (a duration) keeps what is younger" "$(jq -r .ContainersDeleted <<< "$API_BODY")" null
check "the young container is still there" b inspect new
api POST '/containers/prune?filters=%7B%22until%22%3A%5B%22soon%22%5D%7D'
expect_eq "a bad until is refused with 400" "$API_STATUS" 400
expect_contains "a bad until names the value" "$API_BODY" "invalid filter 'until=soon'"
b rm new > /dev/null
b network rm newnet > /dev/null
finish
