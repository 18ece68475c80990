#!/bin/bash
# The build cache through the API, without the builder: POST /build/prune
# and /system/df's BuildCache on an empty cache (Docker's answers), then an
# entry on disk (the format build-cache.h describes) over a dangling commit:
# loaded at start, counted by df, removed with its image by prune; an entry
# whose image is gone is dropped at start. Also: commit records the base
# image as the parent.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

api POST /build/prune
expect_eq "empty prune: 200" "$API_STATUS" 200
expect_eq "empty prune: Docker's answer" "$(jq -c . <<< "$API_BODY")" '{"CachesDeleted":null,"SpaceReclaimed":0}'
api GET /system/df
expect_eq "df: BuildCache is an empty array" "$(jq -c .BuildCache <<< "$API_BODY")" '[]'
expect_eq "df: BuilderSize 0" "$(jq -c .BuilderSize <<< "$API_BODY")" 0
api POST '/build/prune?keep-storage=lots'
expect_eq "a bad keep-storage: 400" "$API_STATUS" 400
api POST '/build/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D'
expect_eq "an unknown filter: 400" "$API_STATUS" 400

# an untagged commit of a container that wrote 3 bytes: a dangling image
# whose parent is busybox
b run --name mk busybox sh -c 'echo hi > /f'
img=$(b commit mk)
b rm mk > /dev/null
bb=$(b image inspect -f '{{.Id}}' busybox)
expect_eq "commit: the base image is the parent" "$(b image inspect -f '{{.Parent}}' "$img")" "$bb"

stop_daemon
key=$(printf 'step one' | sha256sum | cut -c1-64)
gone=$(printf 'step two' | sha256sum | cut -c1-64)
now=$(date +%s%N)
printf '{"image":"%s","parent":"%s","created":%s,"last_used":%s,"uses":1,"description":"RUN echo hi > /f"}' \
        "$img" "$bb" "$now" "$now" > "$DATA/build/cache/$key"
printf '{"image":"sha256:%064d","parent":null,"created":%s,"last_used":%s,"uses":1,"description":"x"}' \
        0 "$now" "$now" > "$DATA/build/cache/$gone"
start_daemon
check "an entry whose image is gone is dropped at start" test ! -e "$DATA/build/cache/$gone"
api GET /system/df
expect_eq "df: one cache entry" "$(jq '.BuildCache | length' <<< "$API_BODY")" 1
expect_eq "df: its ID, Type, Description, Shared" \
        "$(jq -r '.BuildCache[0] | "\(.ID) \(.Type) \(.Description) \(.Shared) \(.InUse)"' <<< "$API_BODY")" \
        "${key:0:25} regular RUN echo hi > /f false false"
expect_eq "df: its size is the layer only the cache keeps" "$(jq '.BuildCache[0].Size' <<< "$API_BODY")" 3
expect_eq "df: BuilderSize is the total" "$(jq .BuilderSize <<< "$API_BODY")" 3

api POST '/build/prune?keep-storage=1000000'
expect_eq "keep-storage above the size: nothing goes" "$(jq -c .CachesDeleted <<< "$API_BODY")" null
api POST '/build/prune?filters=%7B%22until%22%3A%5B%221h%22%5D%7D'
expect_eq "until=1h: the entry is younger, it stays" "$(jq -c .CachesDeleted <<< "$API_BODY")" null
check "the image is still there" b image inspect "$img"

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
        out=$(DOCKER_BUILDKIT=0 "$d" -H "unix://$SOCK" system df 2>&1)
        expect_contains "$d system df has a Build Cache row" "$out" "Build Cache"
        break
done

api POST /build/prune
expect_eq "prune: the entry's ID" "$(jq -c .CachesDeleted <<< "$API_BODY")" "[\"${key:0:25}\"]"
expect_eq "prune: the space of its layer" "$(jq -c .SpaceReclaimed <<< "$API_BODY")" 3
check "prune removed the image only the cache kept" bash -c "! $BERTH -H unix://$SOCK image inspect $img > /dev/null 2>&1"
check "the tagged base stays" b image inspect busybox
check "the entry's file is gone" test ! -e "$DATA/build/cache/$key"
api GET /system/df
expect_eq "df: the cache is empty again" "$(jq -c .BuildCache <<< "$API_BODY")" '[]'
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$(DOCKER_BUILDKIT=0 "$d" -H "unix://$SOCK" builder prune -f 2>&1)
        expect_contains "$d builder prune on an empty cache" "$out" "Total reclaimed space: 0B"
done
finish
