#!/bin/bash
# cp: GET/HEAD/PUT /containers/{id}/archive and berth cp both ways (files,
# directories, "dir/." contents, existing and missing destinations, "-" for
# a tar), a stopped container (its rootfs mounted for the copy), hostile
# tars refused or confined, and docker cp both ways against berthd.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
b run -d --name c1 busybox sh -c 'mkdir -p /data/sub; echo one > /data/a; echo two > /data/sub/b; ln -s /data/a /data/link; sleep 300' > /dev/null
sleep 0.3
H=$T/host; mkdir -p "$H"

# HEAD: the stat header
hdr=$(curl -sS -I --unix-socket "$SOCK" "http://localhost/containers/c1/archive?path=/data/a" | tr -d '\r' | sed -n 's/^X-Docker-Container-Path-Stat: //Ip')
st=$(echo "$hdr" | base64 -d)
expect_contains "HEAD gives the stat header" "$st" '"name":"a","size":4'
st=$(curl -sS -I --unix-socket "$SOCK" "http://localhost/containers/c1/archive?path=/data/link" | tr -d '\r' | sed -n 's/^X-Docker-Container-Path-Stat: //Ip' | base64 -d)
expect_contains "a symlink's stat names its target" "$st" '"linkTarget":"/data/a"'
api HEAD "/containers/c1/archive?path=/nonexistent" -I
expect_eq "HEAD of a missing path is 404" "$API_STATUS" 404
api GET "/containers/nosuch/archive?path=/"
expect_eq "an unknown container is 404" "$API_STATUS" 404

# container -> host
b cp c1:/data/a "$H/a.txt"
expect_eq "cp a file to a new name" "$(cat "$H/a.txt")" "one"
mkdir "$H/existing"
b cp c1:/data/a "$H/existing"
expect_eq "cp a file into an existing directory" "$(cat "$H/existing/a")" "one"
b cp c1:/data "$H/newdir"
expect_eq "cp a directory to a new name" "$(cat "$H/newdir/sub/b")" "two"
b cp c1:/data "$H/existing"
expect_eq "cp a directory into an existing one" "$(cat "$H/existing/data/sub/b")" "two"
mkdir "$H/contents"
b cp c1:/data/. "$H/contents"
expect_eq "cp dir/. copies the contents" "$(cat "$H/contents/sub/b")" "two"
expect_eq "a symlink is copied as a link" "$(readlink "$H/contents/link")" "/data/a"
b cp c1:/data/a "$H/nodir/" 2> /dev/null
check "a file to a missing dir/ fails" [ $? -ne 0 ]
b cp c1:/data/nothing "$H/x" 2> "$T/err"
check "a missing source fails" [ $? -ne 0 ]
expect_contains "and says so" "$(cat "$T/err")" "Could not find the file /data/nothing"
b cp c1:/data - | tar -tf - > "$T/list"
expect_contains "cp to - writes a tar" "$(cat "$T/list")" "data/sub/b"
echo "replaced" > "$H/file"
b cp c1:/data/a "$H/file"
expect_eq "an existing file is overwritten" "$(cat "$H/file")" "one"
b cp c1:/data "$H/file" 2> /dev/null
check "a directory onto a file fails" [ $? -ne 0 ]

# host -> container
mkdir -p "$H/up/deep"; echo up > "$H/up/deep/f"; echo single > "$H/single"
b cp "$H/single" c1:/tmp/renamed
expect_eq "cp a file to a new name in the container" "$(b exec c1 cat /tmp/renamed)" "single"
b cp "$H/single" c1:/tmp
expect_eq "cp a file into a directory" "$(b exec c1 cat /tmp/single)" "single"
b cp "$H/up" c1:/tmp/newup
expect_eq "cp a directory to a new name" "$(b exec c1 cat /tmp/newup/deep/f)" "up"
b cp "$H/up" c1:/tmp
expect_eq "cp a directory into a directory" "$(b exec c1 cat /tmp/up/deep/f)" "up"
b exec c1 mkdir /tmp/into
b cp "$H/up/." c1:/tmp/into
expect_eq "cp dir/. into a directory" "$(b exec c1 cat /tmp/into/deep/f)" "up"
expect_eq "files become root's without -a" "$(b exec c1 stat -c %u /tmp/single)" "0"
tar -C "$H" -cf - single | b cp - c1:/opt 2> /dev/null
check "cp - into a missing directory fails" [ $? -ne 0 ]
tar -C "$H" -cf - single | b cp - c1:/home
expect_eq "cp - extracts a tar" "$(b exec c1 cat /home/single)" "single"
b cp "$H/up" c1:/tmp/single 2> /dev/null
check "a directory onto a file in the container fails" [ $? -ne 0 ]

# hostile tars through PUT: nothing lands outside the container
mkdir -p "$T/evil"; ( cd "$T/evil" && python3 - << 'PY'
import io, tarfile
def add(t, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open("dotdot.tar", "w") as t: add(t, "../../../../../../tmp/berth-cp-escape-1")
with tarfile.open("abs.tar", "w") as t: add(t, "/tmp/berth-cp-escape-2")
with tarfile.open("symlink.tar", "w") as t:
    add(t, "esc", kind=tarfile.SYMTYPE, link="/")
    add(t, "esc/tmp/berth-cp-escape-3")
with tarfile.open("hardlink.tar", "w") as t: add(t, "hl", kind=tarfile.LNKTYPE, link="../../../etc/passwd")
PY
)
rm -f /tmp/berth-cp-escape-*
for f in dotdot abs symlink hardlink; do
        api PUT "/containers/c1/archive?path=/tmp" -T "$T/evil/$f.tar"
        expect_eq "a hostile tar ($f) is refused with 400" "$API_STATUS" 400
done
check "nothing escaped to the host" [ -z "$(ls /tmp/berth-cp-escape-* 2> /dev/null)" ]
b exec c1 sh -c 'ln -s / /tmp/hostroot; mkdir -p /tmp/realdir'
curl -sS --unix-socket "$SOCK" -X PUT -T "$H/../evil/dotdot.tar" "http://localhost/containers/c1/archive?path=/tmp/hostroot/tmp" > /dev/null
( cd "$T" && tar -cf plain.tar -C "$H" single )
api PUT "/containers/c1/archive?path=/tmp/hostroot/tmp/realdir" -T "$T/plain.tar"
expect_eq "a symlink in the destination path resolves inside the container" "$API_STATUS" 200
expect_eq "and the file lands in the container" "$(b exec c1 cat /tmp/realdir/single)" "single"
check "not on the host" [ ! -e /tmp/realdir/single ]
api PUT "/containers/c1/archive?path=/tmp/single" -T "$T/plain.tar"
expect_eq "PUT into a file is 400" "$API_STATUS" 400
mkdir -p "$T/dirtar/single"; tar -C "$T/dirtar" -cf "$T/dir.tar" single
api PUT "/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=1" -T "$T/dir.tar"
check "noOverwriteDirNonDir refuses a directory over a file ($API_STATUS)" [ "$API_STATUS" -ge 400 ]

# a stopped container
b stop -t 1 c1 > /dev/null
b cp c1:/tmp/renamed "$H/from-stopped"
expect_eq "cp from a stopped container" "$(cat "$H/from-stopped")" "single"
b cp "$H/single" c1:/tmp/while-stopped
b start c1 > /dev/null
expect_eq "cp into a stopped container" "$(b exec c1 cat /tmp/while-stopped)" "single"

b create --name ro --read-only busybox true > /dev/null
b cp "$H/single" ro:/tmp 2> "$T/err"
check "cp into a stopped read-only container fails" [ $? -ne 0 ]
expect_contains "and says why" "$(cat "$T/err")" "read-only"
b rm ro > /dev/null

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        rm -rf "$H/d"; mkdir "$H/d"
        "$d" -H "unix://$SOCK" cp c1:/data "$H/d/data"
        expect_eq "$d cp from the container" "$(cat "$H/d/data/sub/b")" "two"
        "$d" -H "unix://$SOCK" cp "$H/up" c1:/tmp/docker-up-$(basename $d)
        expect_eq "$d cp into the container" "$(b exec c1 cat /tmp/docker-up-$(basename $d)/deep/f)" "up"
        "$d" -H "unix://$SOCK" cp c1:/data/. "$H/d/contents"
        expect_eq "$d cp dir/. to a new dir" "$(cat "$H/d/contents/a")" "one"
done
# A created container: its rootfs is mounted for the copy, both ways.
H2=$T/h2; mkdir -p "$H2/bind"; echo bound > "$H2/bind/b.txt"; echo in > "$H2/in.txt"
b volume create cpvol > /dev/null
b run --name filler -v cpvol:/vol1 busybox sh -c 'echo voldata > /vol1/data.txt' > /dev/null
clis=("$BERTH")
for d in /usr/local/bin/docker /usr/bin/docker; do [ -x "$d" ] && clis+=("$d"); done
n=0
for d in "${clis[@]}"; do
        n=$((n + 1)); v=$d
        dk() { "$d" -H "unix://$SOCK" "$@"; }
        dk create --name cr$n -v cpvol:/vol1 -v "$H2/bind:/bnd:ro" busybox cat /in.txt /vol1/in.txt > /dev/null
        dk cp "$H2/in.txt" cr$n:/in.txt
        expect_eq "$v: cp into a created container" "$?" 0
        dk cp "$H2/in.txt" cr$n:/vol1/in.txt
        expect_eq "$v: cp into a volume of a created container" "$?" 0
        rm -rf "$H2/o"; mkdir "$H2/o"
        dk cp cr$n:/etc/passwd "$H2/o/passwd"
        expect_contains "$v: cp out of a created container" "$(cat "$H2/o/passwd" 2>&1)" "root:x:0:0"
        dk cp cr$n:/vol1/data.txt "$H2/o/vol.txt"
        expect_eq "$v: cp out of a named volume, created container" "$(cat "$H2/o/vol.txt" 2>&1)" "voldata"
        dk cp cr$n:/bnd/b.txt "$H2/o/bnd.txt"
        expect_eq "$v: cp out of a bind mount, created container" "$(cat "$H2/o/bnd.txt" 2>&1)" "bound"
        dk cp "$H2/in.txt" cr$n:/bnd/ 2> /dev/null
        check "$v: a read-only bind mount refuses a copy" [ $? -ne 0 ]
        out=$(dk start -a cr$n 2>&1)
        expect_eq "$v: the copies are there when it starts" "$out" "in
in"
        dk cp cr$n:/vol1/data.txt "$H2/o/vol2.txt"
        expect_eq "$v: cp out of a named volume, stopped container" "$(cat "$H2/o/vol2.txt" 2>&1)" "voldata"
        dk cp cr$n:/bnd/b.txt "$H2/o/bnd2.txt"
        expect_eq "$v: cp out of a bind mount, stopped container" "$(cat "$H2/o/bnd2.txt" 2>&1)" "bound"
        dk cp cr$n:/ - | tar -tf - > "$H2/o/list"
        expect_contains "$v: a copy of / holds the volume's files" "$(cat "$H2/o/list")" "vol1/data.txt"
done
b run -d --name crun -v cpvol:/vol1 -v "$H2/bind:/bnd:ro" busybox sleep 300 > /dev/null
for d in "${clis[@]}"; do
        v=$d
        rm -f "$H2/o/r1" "$H2/o/r2"
        "$d" -H "unix://$SOCK" cp crun:/vol1/data.txt "$H2/o/r1"
        expect_eq "$v: cp out of a named volume, running container" "$(cat "$H2/o/r1" 2>&1)" "voldata"
        "$d" -H "unix://$SOCK" cp crun:/bnd/b.txt "$H2/o/r2"
        expect_eq "$v: cp out of a bind mount, running container" "$(cat "$H2/o/r2" 2>&1)" "bound"
done
b rm -f crun > /dev/null
b stop -t 1 c1 > /dev/null
# Every container is stopped now: no rootfs and no volume bind of theirs
# may stay mounted after the copies.
left=$(awk -v t="$T" 'index($2, t) == 1 {print $2}' /proc/mounts)
expect_eq "nothing of the copies stays mounted" "$left" ""
b rm -f c1 > /dev/null
stop_daemon
finish
