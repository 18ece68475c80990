#!/bin/bash
# Bad input to POST /build, and nothing left behind: hostile context tars
# (../ names, absolute names, a symlink then a file through it, hard links
# out of the context, a device node) each fail with a message naming the
# entry and write nothing outside; a truncated tar and a gzip of garbage are
# refused; a client that hangs up mid-RUN stops the build (no step
# container, scratch directory, mount or process is left); a RUN over its
# --memory limit fails with a message and a non-zero code.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"

# names outside the test dir that a broken extractor would write: made
# unique by this shell's pid, removed at exit whatever happens
OUT=/tmp/berth-hostile-$$
ESC=berth-escape-$$
trap 'rm -rf "$OUT" "/$ESC" "/tmp/$ESC" "$(dirname "$T")/$ESC" "$DATA/build/$ESC" "$DATA/$ESC"; cleanup' EXIT
mkdir -p "$OUT"
passwd_sum=$(sha256sum /etc/passwd)

# mktar FILE KIND: a context with a Dockerfile (COPY . /ctx) and one hostile entry
mktar() {
        python3 - "$1" "$2" "$ESC" "$OUT" << 'EOF'
import io, sys, tarfile
path, kind, esc, out = sys.argv[1:5]
t = tarfile.open(path, "w")
def add(name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
add("Dockerfile", b"FROM busybox\nCOPY . /ctx\nRUN echo built > /built\n")
if kind == "dotdot":
    add("../" + esc, b"escaped\n")
elif kind == "deep-dotdot":
    add("a/../../../../../../../../../../tmp/" + esc, b"escaped\n")
elif kind == "absolute":
    add("/tmp/" + esc, b"escaped\n")
elif kind == "symlink-dir":
    add("link", type=tarfile.SYMTYPE, linkname=out)
    add("link/pwned", b"through the link\n")
elif kind == "symlink-rel":
    add("up", type=tarfile.SYMTYPE, linkname="../../../../../../../../.." + out)
    add("up/pwned-rel", b"through the link\n")
elif kind == "hardlink-abs":
    add("hl", type=tarfile.LNKTYPE, linkname="/etc/passwd")
elif kind == "hardlink-rel":
    add("hl", type=tarfile.LNKTYPE, linkname="../../../../../../../../../etc/passwd")
elif kind == "hardlink-then-write":
    add("hl", type=tarfile.LNKTYPE, linkname="/etc/passwd")
    add("hl", b"overwritten\n")
elif kind == "device":
    add("null2", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
elif kind == "blockdev":
    add("disk", type=tarfile.BLKTYPE, devmajor=7, devminor=0, mode=0o666)
t.close()
EOF
}

nothing_outside() { # DESCRIPTION
        local left
        left=$(ls -d "/$ESC" "/tmp/$ESC" "$(dirname "$T")/$ESC" "$DATA/build/$ESC" "$DATA/$ESC" "$T/$ESC" \
                "$OUT/pwned" "$OUT/pwned-rel" 2> /dev/null)
        expect_eq "$1: nothing is written outside the context" "$left" ""
        expect_eq "$1: /etc/passwd is untouched" "$(sha256sum /etc/passwd)" "$passwd_sum"
        expect_eq "$1: the build's scratch is removed" "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ""
}

# post_ctx FILE: POST /build?t=hostile with FILE as the body; sets API_STATUS,
# API_BODY and MSG (the HTTP error's message or the stream's errorDetail)
post_ctx() {
        api POST "/build?t=hostile&rm=1&forcerm=1" -H 'Content-Type: application/x-tar' --data-binary "@$1"
        if [ "$API_STATUS" = 200 ]; then
                MSG=$(jq -r 'select(.errorDetail) | .errorDetail.message' <<< "$API_BODY" 2> /dev/null)
        else
                MSG=$(jq -r .message <<< "$API_BODY" 2> /dev/null)
        fi
}

refused() { # DESCRIPTION KIND TEXT-THE-MESSAGE-NAMES
        mktar "$T/$2.tar" "$2"
        post_ctx "$T/$2.tar"
        check "$1: refused (HTTP $API_STATUS, message: $MSG)" [ "$API_STATUS" = 400 ] || [ -n "$MSG" ]
        expect_contains "$1: the message names the entry" "$MSG" "$3"
        expect_not_contains "$1: no step ran" "$API_BODY" "Successfully built"
        check "$1: no image is tagged" bash -c "! $BERTH -H unix://$SOCK image inspect hostile > /dev/null 2>&1"
        nothing_outside "$1"
}

refused "a ../ name" dotdot "$ESC"
refused "a name that climbs out through a/../../.." deep-dotdot "$ESC"
refused "an absolute name" absolute "/tmp/$ESC"
refused "a symlink out, then a file through it" symlink-dir "link/pwned"
refused "a relative symlink out, then a file through it" symlink-rel "up/pwned-rel"
refused "a hard link to /etc/passwd" hardlink-abs "hl"
refused "a hard link climbing to /etc/passwd" hardlink-rel "hl"
refused "a hard link to /etc/passwd, then a write to it" hardlink-then-write "hl"
refused "a character device" device "null2"
refused "a block device" blockdev "disk"

# a truncated tar: cut inside a file's data
dd if=/dev/urandom of="$T/big" bs=64k count=4 2> /dev/null
printf 'FROM busybox\nCOPY big /big\n' > "$T/Dockerfile"
tar -C "$T" -cf "$T/full.tar" Dockerfile big
head -c 150000 "$T/full.tar" > "$T/trunc.tar"
post_ctx "$T/trunc.tar"
check "a truncated tar: refused (HTTP $API_STATUS, message: $MSG)" [ "$API_STATUS" = 400 ] || [ -n "$MSG" ]
expect_contains "a truncated tar: the message says so" "${MSG,,}" "truncated"
check "a truncated tar: no image" bash -c "! $BERTH -H unix://$SOCK image inspect hostile > /dev/null 2>&1"
nothing_outside "a truncated tar"
head -c 150000 "$T/full.tar" | gzip -c > "$T/trunc.tar.gz"
post_ctx "$T/trunc.tar.gz"
check "a truncated tar, gzipped: refused (HTTP $API_STATUS, message: $MSG)" [ "$API_STATUS" = 400 ] || [ -n "$MSG" ]
expect_contains "a truncated tar, gzipped: the message says so" "${MSG,,}" "truncated"

# a gzip of garbage; a gzip stream cut short
head -c 100000 /dev/urandom | gzip -c > "$T/garbage.gz"
post_ctx "$T/garbage.gz"
expect_eq "a gzip of garbage: HTTP 400" "$API_STATUS" 400
check "a gzip of garbage: a message ($MSG)" [ -n "$MSG" ]
gzip -c "$T/full.tar" | head -c 20000 > "$T/cut.gz"
post_ctx "$T/cut.gz"
check "a gzip cut short: refused (HTTP $API_STATUS, message: $MSG)" [ "$API_STATUS" = 400 ] || [ -n "$MSG" ]
check "a gzip cut short: no image" bash -c "! $BERTH -H unix://$SOCK image inspect hostile > /dev/null 2>&1"
nothing_outside "garbage and cut gzip streams"

# --- a client that hangs up mid-build ------------------------------------------
mounts_before=$(grep -c " $DATA" /proc/mounts)
H=$T/hang; mkdir -p "$H"
printf 'FROM busybox\nRUN echo started; sleep 37\n' > "$H/Dockerfile"
tar -C "$H" -cf "$T/hang.tar" Dockerfile
curl -sS -N --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' \
        --data-binary "@$T/hang.tar" "http://localhost/build?t=hung" > "$T/hang.out" 2>&1 &
CURL=$!
for _ in $(seq 100); do grep -q "Running in" "$T/hang.out" && break; sleep 0.1; done
check "the sleeping RUN started" grep -q "Running in" "$T/hang.out"
for _ in $(seq 30); do [ -n "$(b ps -q)" ] && break; sleep 0.1; done
check "its step container runs" [ -n "$(b ps -q)" ]
sleep 1
kill "$CURL"; wait "$CURL" 2> /dev/null
gone=
for _ in $(seq 50); do
        if [ -z "$(b ps -aq)" ] && [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]; then gone=1; break; fi
        sleep 0.1
done
check "a hang-up stops the build within 5 s: no step container, running or not" [ -n "$gone" ]
expect_eq "a hang-up: no step container is left (berth ps -a)" "$(b ps -aq)" ""
expect_eq "a hang-up: no scratch directory is left in build/tmp" "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ""
expect_eq "a hang-up: no mount under the data root is left" "$(grep -c " $DATA" /proc/mounts)" "$mounts_before"
expect_eq "a hang-up: the RUN's processes are gone" "$(pgrep -f 'sleep 37' | wc -l)" 0
check "a hang-up: no image is tagged" bash -c "! $BERTH -H unix://$SOCK image inspect hung > /dev/null 2>&1"
check "a hang-up: the daemon still answers" b version > /dev/null
out=$(printf 'FROM busybox\nRUN echo after the hang-up > /ok\n' | b build -t after - 2>&1)
check "a hang-up: a later build works" [ $? -eq 0 ] || echo "$out" >&2

# --- a RUN over its memory limit -----------------------------------------------
if out=$(b run --rm --pull never -m 8m busybox sh -c 'head -c 64m /dev/zero | tail > /dev/null && echo survived' 2>&1) &&
        [[ "$out" == *survived* ]]; then
        echo "SKIP - a RUN over --memory: this machine does not enforce a container's memory limit ('berth run -m 8m' survived a 64 MB allocation: $out)"
else
        M=$T/oom; mkdir -p "$M"
        printf 'FROM busybox\nRUN head -c 64m /dev/zero | tail > /dev/null\n' > "$M/Dockerfile"
        DOCKER=/usr/bin/docker
        out=$(DOCKER_BUILDKIT=0 "$DOCKER" -H "unix://$SOCK" build --memory 8m --memory-swap 8m -t oom "$M" 2>&1); rc=$?
        check "docker build --memory 8m, a RUN that allocates 64 MB: fails (rc $rc)" [ "$rc" -ne 0 ]
        expect_contains "and says the RUN failed" "$out" "returned a non-zero code"
        check "and no image" bash -c "! $BERTH -H unix://$SOCK image inspect oom > /dev/null 2>&1"
        out=$(b build --memory 8m --memory-swap 8m -t oom "$M" 2>&1); rc=$?
        check "berth build --memory 8m: fails (rc $rc)" [ "$rc" -ne 0 ]
        expect_contains "berth build --memory 8m: says the RUN failed" "$out" "returned a non-zero code"
        out=$(b build --memory 64m -t oomok - <<< $'FROM busybox\nRUN head -c 8m /dev/zero | tail > /dev/null' 2>&1)
        check "berth build --memory 64m, a RUN that allocates 8 MB: succeeds" [ $? -eq 0 ] || echo "$out" >&2
fi
expect_eq "at the end: the build's scratch is empty" "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ""
finish
