#!/bin/bash
# The build cache through the API, without the builder: POST /build/prune
# and /system/df's BuildCache on an empty cache (Docker's answers), then an
# entry on disk (the format build-cache.h describes) over a dangling commit:
# loaded at start, counted by df, removed with its image by prune; an entry
# whose image is gone is dropped at start. Also: commit records the base
# image as the parent. Then the cache through the builder: a build arg's new
# value misses at its first use and not before, an undeclared proxy arg
# hits, --no-cache misses everything, the cache survives a restart, a failed
# build keeps the steps before the failure, df counts the entries, berth's
# and docker's builder prune and POST /build/prune remove them (a rebuild
# then misses), and [build] cache-max bounds the cache, oldest first.
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

# --- through the builder -----------------------------------------------------
D20=/usr/bin/docker
[ -x "$D20" ] || { fail "the docker CLI 20.10 ($D20) is not installed"; finish; }
d() { DOCKER_BUILDKIT=0 "$D20" -H "unix://$SOCK" "$@"; }
# the steps of a build's output that hit the cache, as "N/M" words
hits() { awk '/^Step [0-9]+\/[0-9]+ :/ {s = $2} / ---> Using cache/ {printf "%s ", s}' <<< "$1"; }
df_count() { api GET /system/df; jq '.BuildCache | length' <<< "$API_BODY"; }

K=$T/argctx; mkdir -p "$K"
cat > "$K/Dockerfile" << 'EOF'
FROM busybox
RUN echo before > /before
ARG V=dflt
LABEL unrelated=1
RUN echo "$V" > /v
RUN echo after > /after
EOF
out=$(d build --build-arg V=one -t argimg "$K" 2>&1)
check "a first build succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "a first build hits nothing" "$(hits "$out")" ""
out=$(d build --build-arg V=one -t argimg "$K" 2>&1)
expect_eq "the same build hits every step" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "a new build arg value misses at its first use (step 5), not before" "$(hits "$out")" "2/6 3/6 4/6 "
expect_eq "and the image has the new value" "$(b run --rm --pull never argimg cat /v)" "two"
out=$(d build --build-arg V=two --build-arg HTTP_PROXY=http://127.0.0.1:9 -t argimg "$K" 2>&1)
expect_eq "an undeclared HTTP_PROXY build arg is not part of the key" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
out=$(d build --no-cache --build-arg V=two -t argimg "$K" 2>&1)
check "--no-cache: succeeds" [ $? -eq 0 ]
expect_eq "--no-cache misses everything" "$(hits "$out")" ""
expect_eq "--no-cache runs every RUN" "$(grep -c ' ---> Running in' <<< "$out")" 3

out=$(d build --build-arg V=two --build-arg UNDECLARED=x -t argimg "$K" 2>&1)
expect_eq "an undeclared (unused) build arg is not part of the key" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
expect_contains "and is warned about" "$out" "[Warning] One or more build-args [UNDECLARED] were not consumed"
# an expanding ENV is the first use; a declared proxy arg is in the key
E=$T/envctx; mkdir -p "$E"
printf 'FROM busybox\nARG V=dflt\nARG HTTP_PROXY\nRUN echo pre > /pre\nENV E=$V\nRUN echo "$E $HTTP_PROXY" > /e\n' > "$E/Dockerfile"
d build --build-arg V=one -t envimg "$E" > /dev/null 2>&1
out=$(d build --build-arg V=one -t envimg "$E" 2>&1)
expect_eq "ENV from an ARG: a rebuild hits" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
out=$(d build --build-arg V=other -t envimg "$E" 2>&1)
expect_eq "ENV from an ARG: a new value misses at the first RUN, the ENV after it too" "$(hits "$out")" "2/6 3/6 "
out=$(d build --build-arg V=other --build-arg HTTP_PROXY=http://127.0.0.1:9 -t envimg "$E" 2>&1)
expect_eq "a declared HTTP_PROXY is part of the key (misses at the first RUN)" "$(hits "$out")" "2/6 3/6 "
expect_eq "and reaches RUN" "$(b run --rm --pull never envimg cat /e)" "other http://127.0.0.1:9"
expect_contains "declared, it is in the RUN's history (as Docker's |N prefix)" \
        "$(b image history --no-trunc --format '{{.CreatedBy}}' envimg)" "HTTP_PROXY=http://127.0.0.1:9"
P=$T/proxyctx; mkdir -p "$P"
printf 'FROM busybox\nRUN echo "proxy=$HTTP_PROXY" > /p\n' > "$P/Dockerfile"
out=$(d build --no-cache --build-arg HTTP_PROXY=http://127.0.0.1:8 -t proxyimg "$P" 2>&1)
expect_eq "an undeclared HTTP_PROXY reaches RUN" "$(b run --rm --pull never proxyimg cat /p)" "proxy=http://127.0.0.1:8"
expect_not_contains "and is not warned about as unused" "$out" "not consumed"
expect_eq "and is not in the image's history" \
        "$(b image history --no-trunc --format '{{.CreatedBy}}' proxyimg | grep -c '127.0.0.1:8')" 0

# two builds of one Dockerfile at once: both succeed, and agree afterwards
W=$T/concurrent; mkdir -p "$W"
printf 'FROM busybox\nRUN echo conc-1 > /c1\nRUN sleep 1; echo conc-2 > /c2\n' > "$W/Dockerfile"
d build -t conc:a "$W" > "$T/conc-a.out" 2>&1 &
ca=$!
b build -t conc:b "$W" > "$T/conc-b.out" 2>&1 &
cb=$!
wait "$ca"; ra=$?
wait "$cb"; rb=$?
check "two builds of one Dockerfile at once: both succeed ($ra $rb)" [ "$ra" = 0 ] && [ "$rb" = 0 ] || cat "$T/conc-a.out" "$T/conc-b.out" >&2
expect_eq "both images work" "$(b run --rm --pull never conc:a cat /c2)$(b run --rm --pull never conc:b cat /c2)" "conc-2conc-2"
out=$(d build -t conc:c "$W" 2>&1)
expect_eq "a third build after them hits every step" "$(hits "$out")" "2/3 3/3 "

# a restart keeps the cache
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
id=$(b image inspect -f '{{.Id}}' argimg)
stop_daemon
start_daemon
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "after a daemon restart, a rebuild hits every step" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
expect_eq "and makes the same image" "$(b image inspect -f '{{.Id}}' argimg)" "$id"

# and a crash right after a build keeps it too
printf 'FROM busybox\nRUN echo crash-1 > /k1\nRUN echo crash-2 > /k2\n' > "$W/Dockerfile"
d build -t crashcache "$W" > /dev/null 2>&1
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2> /dev/null; DAEMON_PID=
b ps -aq > /dev/null 2>&1
start_daemon
out=$(d build -t crashcache "$W" 2>&1)
expect_eq "after berthd is killed (-9) right after a build, a rebuild hits every step" "$(hits "$out")" "2/3 3/3 "

# a failed build keeps the steps before the failure
F=$T/failctx; mkdir -p "$F"
printf 'FROM busybox\nRUN echo fail-a > /a\nRUN echo fail-b > /b\nRUN echo broken; exit 4\n' > "$F/Dockerfile"
out=$(d build "$F" 2>&1)
check "a build whose third step fails: fails" [ $? -ne 0 ]
printf 'FROM busybox\nRUN echo fail-a > /a\nRUN echo fail-b > /b\nRUN echo fixed > /c\n' > "$F/Dockerfile"
out=$(d build -t fixed "$F" 2>&1)
check "the fixed build succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "the fixed build hits the steps before the failure" "$(hits "$out")" "2/4 3/4 "
expect_eq "and runs the fixed step" "$(b run --rm --pull never fixed cat /a /b /c | tr '\n' ' ')" "fail-a fail-b fixed "

# df counts the entries
n=$(df_count)
check "GET /system/df: BuildCache entries after the builds ($n)" [ "$n" -ge 8 ]
api GET /system/df
expect_contains "GET /system/df: an entry describes its step" "$(jq -r '.BuildCache[].Description' <<< "$API_BODY")" 'echo fail-b > /b'
out=$(b system df 2>&1)
expect_eq "berth system df: the Build Cache row counts them" "$(awk '/^Build Cache/ {print $3}' <<< "$out")" "$n"

# berth builder prune -f: the dangling cache of an untagged build goes
U=$T/untagged; mkdir -p "$U"
printf 'FROM busybox\nRUN echo untagged-1 > /u1\nRUN head -c 100000 /dev/urandom > /u2\n' > "$U/Dockerfile"
out=$(d build "$U" 2>&1)
uid=$(sed -n 's/^Successfully built //p' <<< "$out")
out=$(d build "$U" 2>&1)
expect_eq "an untagged build is cached" "$(hits "$out")" "2/3 3/3 "
api GET /system/df
size=$(jq .BuilderSize <<< "$API_BODY")
check "the untagged build's layer counts in BuilderSize ($size)" [ "$size" -ge 100000 ]
before=$(df_count)
out=$(b builder prune -f 2>&1)
check "berth builder prune -f: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_contains "berth builder prune -f: reports the space" "$out" "Total reclaimed space:"
expect_not_contains "berth builder prune -f: reclaims something" "$out" "Total reclaimed space: 0B"
check "berth builder prune -f: the untagged build's entries are gone" [ "$(df_count)" -lt "$before" ]
check "berth builder prune -f: and its image" bash -c "! $BERTH -H unix://$SOCK image inspect $uid > /dev/null 2>&1"
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "berth builder prune -f keeps the tagged build's cache" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
out=$(d build "$U" 2>&1)
expect_eq "after berth builder prune -f, the untagged build misses" "$(hits "$out")" ""

printf 'FROM busybox\nRUN echo untagged-docker > /ud\n' > "$U/Dockerfile"
d build "$U" > /dev/null 2>&1
out=$(d build "$U" 2>&1)
expect_eq "another untagged build is cached" "$(hits "$out")" "2/2 "
out=$(d builder prune -f 2>&1)
check "docker builder prune -f: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_contains "docker builder prune -f: names what it deleted" "$out" "Deleted build cache objects:"
out=$(d build "$U" 2>&1)
expect_eq "after docker builder prune -f, the untagged build misses" "$(hits "$out")" ""
out=$(b builder prune -f --filter until=1h 2>&1)
expect_contains "berth builder prune --filter until=1h: nothing that young goes" "$out" "Total reclaimed space: 0B"
out=$(d build "$U" 2>&1)
expect_eq "after prune --filter until=1h, the build still hits" "$(hits "$out")" "2/2 "
out=$(b builder prune -f --keep-storage 10GB 2>&1)
expect_contains "berth builder prune --keep-storage 10GB: nothing goes" "$out" "Total reclaimed space: 0B"
out=$(d build "$U" 2>&1)
expect_eq "after prune --keep-storage 10GB, the build still hits" "$(hits "$out")" "2/2 "

# docker builder prune -a -f (all=1): every entry goes
out=$(d builder prune -a -f 2>&1)
check "docker builder prune -a -f: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "docker builder prune -a -f: no entry is left" "$(df_count)" 0
check "the tagged images stay" eval "b image inspect argimg fixed > /dev/null"
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "after docker builder prune -a -f, a rebuild misses" "$(hits "$out")" ""
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "and caches again" "$(hits "$out")" "2/6 3/6 4/6 5/6 6/6 "
api POST '/build/prune?all=1'
expect_eq "POST /build/prune?all=1: 200" "$API_STATUS" 200
check "POST /build/prune?all=1: names the entries" [ "$(jq '.CachesDeleted | length' <<< "$API_BODY")" -ge 5 ]
expect_eq "POST /build/prune?all=1: no entry is left" "$(df_count)" 0
out=$(d build --build-arg V=two -t argimg "$K" 2>&1)
expect_eq "after POST /build/prune?all=1, a rebuild misses" "$(hits "$out")" ""

# keep-storage: three untagged 100 kB layers, keep about one
for i in 1 2 3; do
        printf 'FROM busybox\nRUN head -c 100000 /dev/urandom > /ks%s\n' "$i" > "$U/Dockerfile"
        d build -q "$U" > /dev/null 2>&1
done
api GET /system/df
check "three untagged layers: BuilderSize at least 300000" [ "$(jq .BuilderSize <<< "$API_BODY")" -ge 300000 ]
api POST '/build/prune?keep-storage=150000'
expect_eq "keep-storage=150000: 200" "$API_STATUS" 200
api GET /system/df
bs=$(jq .BuilderSize <<< "$API_BODY")
check "keep-storage=150000: what is left is at most that ($bs)" [ "$bs" -le 150000 ]
check "keep-storage=150000: something is left ($bs)" [ "$bs" -ge 100000 ]
out=$(d build "$U" 2>&1)
expect_eq "keep-storage: the last used entry stays" "$(hits "$out")" "2/2 "

# [build] cache-max bounds the cache, oldest first
stop_daemon
printf '[build]\ncache-max = 250k\n' | write_config
start_daemon
for i in 1 2 3 4 5; do
        printf 'FROM busybox\nRUN head -c 100000 /dev/urandom > /cm%s\n' "$i" > "$U/Dockerfile"
        d build -q "$U" > /dev/null 2>&1
        api GET /system/df
        bs=$(jq .BuilderSize <<< "$API_BODY")
        check "cache-max 250k: after build $i, BuilderSize $bs <= 256000" [ "$bs" -le 256000 ]
done
check "cache-max: the cache is not emptied ($bs)" [ "$bs" -ge 200000 ]
out=$(d build "$U" 2>&1)
expect_eq "cache-max: the newest build still hits" "$(hits "$out")" "2/2 "
printf 'FROM busybox\nRUN head -c 100000 /dev/urandom > /cm1\n' > "$U/Dockerfile"
out=$(d build "$U" 2>&1)
expect_eq "cache-max: the oldest build was collected" "$(hits "$out")" ""
finish
