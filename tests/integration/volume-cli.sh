#!/bin/bash
# Volumes through the berth CLI: volume create/ls/inspect/rm/prune, named
# volumes shared and outliving containers, binds of a directory and of a
# file, read-only mounts, tmpfs limits, image VOLUME copy-up, rm -v,
# --volumes-from, refusals of bad specs, and a hostile image whose /data is
# a symlink to /etc.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" volume "$T/vol.tar" > /dev/null
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" hostile "$T/hostile.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
b load -q -i "$T/vol.tar" > /dev/null
b load -q -i "$T/hostile.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }
# mounts CONTAINER JQ-EXPR: the container's inspect Mounts through jq, one line per mount
mounts() { b inspect -f '{{json .Mounts}}' "$1" | jq -r ".[] | $2"; }

# --- volume create / ls / inspect ------------------------------------------
expect_eq "volume create prints the name" "$(b volume create --label team=a v1)" "v1"
expect_eq "volume create of an existing name returns it" "$(b volume create v1)" "v1"
check "data directory under the data root" test -d "$DATA/volumes/v1/_data"
expect_eq "inspect" "$(b volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}}' v1)" \
        "v1 local local $DATA/volumes/v1/_data"
expect_eq "berth inspect falls through to volumes" "$(b inspect -f '{{.Mountpoint}}' v1)" "$DATA/volumes/v1/_data"
expect_eq "inspect --type volume" "$(b inspect --type volume -f '{{.Name}}' v1)" "v1"
expect_eq "inspect labels" "$(b volume inspect -f '{{.Labels.team}}' v1)" "a"
gen=$(b volume create)
check "volume create without a name makes a 64-hex name" bash -c "[[ '$gen' =~ ^[0-9a-f]{64}$ ]]"
b volume create -o type=tmpfs -o o=size=1m tv > /dev/null
expect_eq "driver options kept" "$(b volume inspect -f '{{.Options.type}} {{.Options.o}}' tv)" "tmpfs size=1m"
out=$(b volume create -o foo=bar bad 2>&1); rc=$?
expect_eq "unknown driver option refused" "$rc" 1
expect_contains "unknown driver option named" "$out" '"foo"'
check "refused volume left nothing" test ! -e "$DATA/volumes/bad"
out=$(b volume create 'a/b' 2>&1); rc=$?
expect_eq "bad volume name refused" "$rc" 1
expect_contains "bad volume name message" "$out" "includes invalid characters"
expect_eq "ls -q" "$(b volume ls -q | sort | tr '\n' ' ')" "$(printf '%s\n' v1 tv "$gen" | sort | tr '\n' ' ')"
expect_eq "ls --filter label" "$(b volume ls -q --filter label=team=a)" "v1"
expect_eq "ls --filter name" "$(b volume ls -q --filter name=tv)" "tv"
expect_eq "ls --format" "$(b volume ls --filter name=v1 --format '{{.Driver}}/{{.Name}}')" "local/v1"
hdr=$(b volume ls | head -1)
check "ls table header" bash -c "[[ '$hdr' =~ ^DRIVER\ +VOLUME\ NAME\$ ]]"
out=$(b volume inspect nope 2>&1); rc=$?
expect_eq "inspect of a missing volume fails" "$rc" 1
expect_contains "inspect of a missing volume says so" "$out" "No such volume: nope"

# --- named volumes: shared, outliving containers --------------------------
tb run --name writer -v v1:/data busybox sh -c 'echo persisted > /data/f' ; rc=$?
expect_eq "write through a named volume" "$rc" 0
expect_eq "Mounts in inspect" "$(mounts writer '"\(.Type) \(.Name) \(.Destination) \(.Driver) \(.Mode) \(.RW)"')" \
        "volume v1 /data local z true"
expect_eq "HostConfig.Binds as given" "$(b inspect -f '{{json .HostConfig.Binds}}' writer)" '["v1:/data"]'
out=$(b volume rm v1 2>&1); rc=$?
expect_eq "rm of a volume in use refused" "$rc" 1
expect_contains "in-use message names the container" "$out" "volume is in use - [$(b inspect -f '{{.Id}}' writer)]"
expect_eq "dangling=false lists it" "$(b volume ls -q --filter dangling=false)" "v1"
expect_eq "ps --filter volume=NAME" "$(b ps -a --filter volume=v1 --format '{{.Names}}')" "writer"
expect_eq "ps --filter volume=DESTINATION" "$(b ps -a --filter volume=/data --format '{{.Names}}')" "writer"
expect_eq "ps --filter volume of an unused volume" "$(b ps -a --filter volume=tv --format '{{.Names}}')" ""
b rm writer > /dev/null
expect_eq "read in a second container after the first is gone" \
        "$(tb run --rm -v v1:/d:ro busybox cat /d/f)" "persisted"
id1=$(tb run -d -v v1:/data busybox sleep 30)
id2=$(tb run -d -v v1:/data busybox sleep 30)
tb exec "$id1" sh -c 'echo shared > /data/s'
expect_eq "two running containers share a volume" "$(tb exec "$id2" cat /data/s)" "shared"
b rm -f "$id1" "$id2" > /dev/null
out=$(tb run --rm -v v1:/data:ro busybox sh -c 'echo x > /data/g' 2>&1); rc=$?
check "read-only volume refuses writes" test "$rc" -ne 0
expect_contains "read-only file system" "$out" "Read-only file system"
out=$(tb run --rm --mount type=volume,source=v1,target=/data,readonly busybox sh -c 'echo x > /data/g' 2>&1); rc=$?
check "--mount readonly refuses writes" test "$rc" -ne 0
expect_eq "-v auto-creates a named volume" "$(tb run --rm -v autov:/x busybox true; b volume ls -q --filter name=autov)" "autov"

# --- binds ------------------------------------------------------------------
mkdir -p "$T/host"
echo "from host" > "$T/host/in"
echo "single" > "$T/file.txt"
expect_eq "bind of a directory" "$(tb run --rm -v "$T/host:/h" busybox cat /h/in)" "from host"
tb run --rm -v "$T/host:/h" busybox sh -c 'echo back > /h/out'
expect_eq "writes through a bind reach the host" "$(cat "$T/host/out")" "back"
expect_eq "bind of a single file" "$(tb run --rm -v "$T/file.txt:/etc/single.txt:ro" busybox cat /etc/single.txt)" "single"
expect_eq "--mount bind of a single file" \
        "$(tb run --rm --mount type=bind,source="$T/file.txt",target=/f.txt busybox cat /f.txt)" "single"
out=$(tb run --rm -v "$T/host:/h:ro" busybox sh -c 'echo x > /h/y' 2>&1); rc=$?
check "read-only bind refuses writes" test "$rc" -ne 0
check "nothing written through a read-only bind" test ! -e "$T/host/y"
tb run --rm -v "$T/made/by/v:/m" busybox true
check "-v creates a missing host directory" test -d "$T/made/by/v"
cid=$(b create --mount type=bind,source="$T/host",target=/h,bind-propagation=rslave busybox true)
expect_eq "bind Mounts entry" "$(mounts "$cid" '"\(.Type) \(.Source) \(.Destination) \(.Propagation) \(.RW)"')" \
        "bind $T/host /h rslave true"
b rm "$cid" > /dev/null

# --- bad specs: clear errors, exit 125, nothing created ---------------------
n_before=$(b ps -aq | wc -l); v_before=$(b volume ls -q | wc -l)
out=$(tb run --rm --mount type=bind,source="$T/nonexistent",target=/x busybox true 2>&1); rc=$?
expect_eq "missing bind source: exit 125" "$rc" 125
expect_contains "missing bind source message" "$out" "invalid mount config for type \"bind\": bind source path does not exist: $T/nonexistent"
out=$(tb run --rm --mount type=volume,source=zz busybox true 2>&1); rc=$?
expect_eq "missing target: exit 125" "$rc" 125
expect_contains "missing target message" "$out" "field Target must not be empty"
out=$(tb run --rm --mount type=bind,source=rel,target=/x busybox true 2>&1); rc=$?
expect_eq "relative bind source: exit 125" "$rc" 125
expect_contains "relative bind source message" "$out" "must be absolute"
out=$(tb run --rm --mount type=volume,target=/x,bogus=1 busybox true 2>&1); rc=$?
expect_eq "unknown --mount key: exit 125" "$rc" 125
expect_contains "unknown --mount key named" "$out" "bogus"
out=$(tb run --rm -v zz:/x:bogus busybox true 2>&1); rc=$?
expect_eq "unknown -v option: exit 125" "$rc" 125
expect_contains "unknown -v option message" "$out" "invalid mode: bogus"
out=$(tb run --rm -v zz:rel busybox true 2>&1); rc=$?
expect_eq "relative -v target: exit 125" "$rc" 125
out=$(tb run --rm -v v1:/x -v "$T/host:/x" busybox true 2>&1); rc=$?
expect_eq "duplicate mount point: exit 125" "$rc" 125
expect_contains "duplicate mount point message" "$out" "Duplicate mount point: /x"
out=$(tb run --rm -v newa:/a --mount type=volume,source=newb,target=/b,volume-opt=foo=bar busybox true 2>&1); rc=$?
expect_eq "a volume option the driver refuses: exit 125" "$rc" 125
expect_contains "the refused option is named" "$out" '"foo"'
check "volumes made before the refusal are removed again" test ! -e "$DATA/volumes/newa"
expect_eq "no container left by refusals" "$(b ps -aq | wc -l)" "$n_before"
expect_eq "no volume left by refusals" "$(b volume ls -q | wc -l)" "$v_before"

# the Engine API's statuses
api POST /v1.41/containers/create -H 'Content-Type: application/json' \
        -d '{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"bind","Source":"/nonexistent-berth","Target":"/x"}]}}'
expect_eq "API: bad mount spec is 400" "$API_STATUS" 400
expect_contains "API: bad mount spec message" "$API_BODY" "bind source path does not exist: /nonexistent-berth"
api POST /v1.41/containers/create -H 'Content-Type: application/json' \
        -d '{"Image":"busybox","HostConfig":{"Binds":["relative/path:/x"]}}'
expect_eq "API: relative bind source is 400" "$API_STATUS" 400
api POST /v1.41/volumes/create -H 'Content-Type: application/json' -d '{"Name":"x/y"}'
expect_eq "API: bad volume name is 400" "$API_STATUS" 400
api POST /v1.41/volumes/create -H 'Content-Type: application/json' -d '{"Name":"apiv","Labels":{"a":"b"}}'
expect_eq "API: volume create is 201" "$API_STATUS" 201
expect_eq "API: created volume" "$(jq -r '"\(.Name) \(.Driver) \(.Scope) \(.Labels.a)"' <<<"$API_BODY")" "apiv local local b"
api GET /v1.41/volumes/nosuch
expect_eq "API: missing volume is 404" "$API_STATUS" 404
expect_eq "API: missing volume message" "$(jq -r .message <<<"$API_BODY")" "get nosuch: no such volume"
api GET '/v1.41/volumes?filters=%7B%22name%22%3A%7B%22apiv%22%3Atrue%7D%7D'
expect_eq "API: list shape" "$(jq -c '[(.Volumes | map(.Name)), .Warnings]' <<<"$API_BODY")" '[["apiv"],null]'
api GET '/v1.41/volumes?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D'
expect_eq "API: unknown filter is 400" "$API_STATUS" 400
holder=$(b create -v v1:/data busybox true)
api DELETE /v1.41/volumes/v1
expect_eq "API: rm in use is 409" "$API_STATUS" 409
expect_eq "API: rm in use message" "$(jq -r .message <<<"$API_BODY")" "remove v1: volume is in use - [$holder]"
b rm "$holder" > /dev/null
api DELETE /v1.41/volumes/apiv
expect_eq "API: rm is 204" "$API_STATUS" 204

# --- tmpfs --------------------------------------------------------------------
out=$(tb run --rm --mount type=tmpfs,target=/t,tmpfs-size=1m busybox sh -c 'dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1; echo rc=$?')
expect_contains "--mount tmpfs-size limits writes" "$out" "No space left on device"
expect_contains "--mount tmpfs-size write fails" "$out" "rc=1"
expect_eq "--mount tmpfs is a tmpfs" "$(tb run --rm --mount type=tmpfs,target=/t,tmpfs-mode=1770 busybox sh -c 'grep " /t " /proc/mounts | cut -d" " -f3; stat -c %a /t')" \
        "$(printf 'tmpfs\n1770')"
out=$(tb run --rm --tmpfs /t:size=1m busybox sh -c 'dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1; echo rc=$?')
expect_contains "--tmpfs size limits writes" "$out" "rc=1"
out=$(tb run --rm -v tv:/t busybox sh -c 'grep " /t " /proc/mounts | cut -d" " -f3; dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1; echo rc=$?')
expect_contains "volume with -o type=tmpfs is a tmpfs" "$out" "tmpfs"
expect_contains "volume with -o o=size=1m is limited" "$out" "rc=1"

# --- image VOLUME: anonymous volumes, copy-up, rm -v ---------------------------
cid=$(b create volume cat /data/hello)
anon=$(mounts "$cid" .Name)
check "image VOLUME gets an anonymous volume" bash -c "[[ '$anon' =~ ^[0-9a-f]{64}$ ]]"
expect_eq "anonymous volume Mounts entry" "$(mounts "$cid" '"\(.Type) \(.Destination) \(.RW)"')" "volume /data true"
expect_eq "copy-up: the image's content is in the volume" "$(tb start -a "$cid")" "from the image"
vp=$DATA/volumes/$anon/_data
expect_eq "copy-up keeps modes" "$(stat -c %a "$vp/hello")" "640"
expect_eq "copy-up keeps symlinks" "$(readlink "$vp/link")" "hello"
expect_eq "copy-up copies subdirectories" "$(cat "$vp/sub/file")" "nested"
b rm -v "$cid" > /dev/null
check "rm -v removes the anonymous volume" test ! -e "$DATA/volumes/$anon"
expect_eq "rm -v removed its record" "$(b volume ls -q | grep -c "$anon")" "0"
b volume create filled > /dev/null
expect_eq "an empty named volume is filled from the image" "$(tb run --rm -v filled:/data volume cat /data/hello)" "from the image"
b volume create empty2 > /dev/null
expect_eq "volume-nocopy leaves it empty" \
        "$(tb run --rm --mount type=volume,source=empty2,target=/data,volume-nocopy volume ls /data | wc -l)" "0"
echo mine > "$DATA/volumes/filled/_data/hello"
expect_eq "a volume with data is not overwritten" "$(tb run --rm -v filled:/data volume cat /data/hello)" "mine"
cid=$(b create -v /anon busybox true)
anon=$(mounts "$cid" .Name)
b rm "$cid" > /dev/null
check "rm without -v keeps the anonymous volume" test -d "$DATA/volumes/$anon/_data"
n_vols=$(b volume ls -q | wc -l)
tb run --rm -v /anon2 -v named2:/n busybox true
expect_eq "--rm keeps named volumes" "$(b volume ls -q --filter name=named2)" "named2"
# As in Docker, the volumes go just after the container (the wait for
# "removed" may return in between).
for _ in $(seq 50); do [ "$(b volume ls -q | wc -l)" = "$((n_vols + 1))" ] && break; sleep 0.1; done
expect_eq "--rm removes anonymous volumes" "$(b volume ls -q | wc -l)" "$((n_vols + 1))"

# copy-up keeps owners: an image made by commit with VOLUME /owned
tb run --name prep busybox sh -c 'mkdir /owned && echo x > /owned/f && chown 1000:1001 /owned && chown 1002:1003 /owned/f && chmod 0750 /owned'
b commit -c 'VOLUME /owned' prep owned:latest > /dev/null
b rm prep > /dev/null
cid=$(b create owned:latest true)
oanon=$(mounts "$cid" .Name)
tb start -a "$cid" > /dev/null
vp=$DATA/volumes/$oanon/_data
expect_eq "copy-up keeps the directory's owner and mode" "$(stat -c '%u:%g %a' "$vp")" "1000:1001 750"
expect_eq "copy-up keeps file owners" "$(stat -c '%u:%g' "$vp/f")" "1002:1003"
b rm -v "$cid" > /dev/null

# --- --volumes-from -----------------------------------------------------------
tb run --name src -v v1:/data -v "$T/host:/h" busybox true
expect_eq "--volumes-from sees the volume" "$(tb run --rm --volumes-from src busybox cat /data/f /h/in)" "$(printf 'persisted\nfrom host')"
out=$(tb run --rm --volumes-from src:ro busybox sh -c 'echo x > /data/z' 2>&1); rc=$?
check "--volumes-from :ro is read-only" test "$rc" -ne 0
expect_eq "-v overrides a --volumes-from mount point" \
        "$(tb run --rm --volumes-from src -v autov:/data busybox sh -c 'test -e /data/f && echo inherited || echo own')" "own"
out=$(tb run --rm --volumes-from nosuch busybox true 2>&1); rc=$?
expect_eq "--volumes-from of a missing container: exit 125" "$rc" 125
b rm src > /dev/null

# --- hostile image: /data -> /etc ---------------------------------------------
marker=berth-volume-escape-$$
tb run --rm -v v1:/data hostile sh -c "echo x > /data/$marker" 2>&1
check "a symlinked mount point stays inside the rootfs" test ! -e "/etc/$marker"
check "the write landed in the volume" test -e "$DATA/volumes/v1/_data/$marker"
tb run --rm -v "$T/host:/data" hostile sh -c "echo y > /data/$marker.b" 2>&1
check "a bind on a symlinked mount point stays inside" test ! -e "/etc/$marker.b"
check "the bind write reached the bind source" test -e "$T/host/$marker.b"
# a volume whose content plants a symlink where a nested mount point goes
b volume create planted > /dev/null
ln -s "/etc/$marker.dir" "$DATA/volumes/planted/_data/sub"
tb run --rm -v planted:/data -v "$T/host:/data/sub" busybox true > /dev/null 2>&1
check "a nested mount point never follows a volume's symlink out" test ! -e "/etc/$marker.dir"
rm -rf "/etc/$marker" "/etc/$marker.b" "/etc/$marker.dir"

# --- a restart of berthd keeps volumes and their users ------------------------
keep=$(b create -v v1:/data busybox true)
b volume create -o type=tmpfs -o o=size=1m tmpv > /dev/null
t1=$(tb run -d -v tmpv:/t busybox sh -c 'echo one > /t/f; sleep 60')
stop_daemon
start_daemon
t2=$(tb run -d -v tmpv:/t busybox sleep 60)
b rm -f "$t2" > /dev/null
expect_eq "a tmpfs volume stays mounted for a container from before the restart" \
        "$(tb run --rm -v tmpv:/t busybox cat /t/f)" "one"
b rm -f "$t1" > /dev/null
b volume rm tmpv > /dev/null
expect_eq "volumes survive a restart" "$(b volume inspect -f '{{.Name}} {{.Labels.team}}' v1)" "v1 a"
out=$(b volume rm v1 2>&1); rc=$?
expect_eq "in use after a restart" "$rc" 1
expect_eq "data survives a restart" "$(tb run --rm -v v1:/d busybox cat /d/f)" "persisted"

# --- prune --------------------------------------------------------------------
out=$(b volume prune -f); rc=$?
expect_eq "prune exit status" "$rc" 0
expect_contains "prune removes unused anonymous volumes" "$out" "$anon"
check "prune without -a keeps named volumes" test -d "$DATA/volumes/tv"
out=$(b volume prune -af)
expect_contains "prune -a removes unused named volumes" "$out" "tv"
check "prune -a removed its data" test ! -e "$DATA/volumes/tv"
check "prune keeps volumes in use" test -d "$DATA/volumes/v1/_data"
expect_contains "prune reports space" "$out" "Total reclaimed space:"
b rm "$keep" > /dev/null
out=$(b volume rm v1); rc=$?
expect_eq "rm once unused" "$out" "v1"
out=$(b volume rm v1 2>&1); rc=$?
expect_eq "rm of a missing volume fails" "$rc" 1
check "rm -f of a missing volume succeeds" b volume rm -f v1

stop_daemon
finish
