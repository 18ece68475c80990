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

# --- the host's files stay out of reach once the tar is in ----------------------
# a file outside that a builder following links on the host would read or write
echo "host secret" > "$OUT/secret"
printf 'FROM busybox\nRUN echo leaked-host-dockerfile\n' > "$OUT/Dockerfile.host"
no_secret() { # DESCRIPTION IMAGE PATH: the image's PATH is not the host's file
        local got
        got=$(b run --rm --pull never "$2" cat "$3" 2> /dev/null)
        expect_not_contains "$1" "$got" "host secret"
}
# mkctx DIR: a context tar of DIR (as the docker CLI sends it, owners 0:0)
mkctx() { tar -C "$1" --owner=0 --group=0 -cf "$1.tar" .; }

X=$T/dflink; mkdir -p "$X"
ln -s "$OUT/Dockerfile.host" "$X/Dockerfile"
mkctx "$X"
post_ctx "$X.tar"
expect_not_contains "a Dockerfile that is a symlink to a host file: the host file is not read" "$API_BODY" "leaked-host-dockerfile"
check "a Dockerfile that is a symlink to a host file: the build fails ($MSG)" [ -n "$MSG" ]
ln -sf "../../../../../../../../..$OUT/Dockerfile.host" "$X/Dockerfile"
mkctx "$X"
post_ctx "$X.tar"
expect_not_contains "a Dockerfile that is a relative symlink out: the host file is not read" "$API_BODY" "leaked-host-dockerfile"
rm "$X/Dockerfile"; printf 'FROM busybox\n' > "$X/Dockerfile"; mkctx "$X"
for q in "$OUT/Dockerfile.host" "../../../../../../../../..$OUT/Dockerfile.host"; do
        api POST "/build?t=hostile&dockerfile=$(jq -rn --arg v "$q" '$v|@uri')" -H 'Content-Type: application/x-tar' --data-binary "@$X.tar"
        expect_not_contains "dockerfile=$q: the host file is not read" "$API_BODY" "leaked-host-dockerfile"
        check "dockerfile=$q: refused (HTTP $API_STATUS)" [ "$API_STATUS" -ge 400 ]
done
check "no Dockerfile from the host was built" bash -c "! $BERTH -H unix://$SOCK image inspect hostile > /dev/null 2>&1"

# a symlink out is a link in the context: kept as a link, never followed
L=$T/linkctx; mkdir -p "$L"
ln -s "$OUT" "$L/hostdir"; ln -s "$OUT/secret" "$L/hostfile"
echo in-ctx > "$L/real"; ln "$L/real" "$L/hard"
printf 'FROM busybox\nCOPY . /ctx\n' > "$L/Dockerfile"
mkctx "$L"
post_ctx "$L.tar"
expect_eq "a context with symlinks out (not followed) and an inner hard link: builds" "$MSG" ""
id=$(b image inspect -f '{{.Id}}' hostile 2> /dev/null)
expect_eq "the symlink is copied as a link" "$(b run --rm --pull never hostile readlink /ctx/hostdir)" "$OUT"
no_secret "the symlink to a host file is not followed" hostile /ctx/hostfile
expect_eq "the inner hard link has its file's content" "$(b run --rm --pull never hostile cat /ctx/hard)" "in-ctx"
[ -n "$id" ] && b rmi -f hostile > /dev/null
for src in hostfile hostdir/secret; do
        printf 'FROM busybox\nCOPY %s /got\n' "$src" > "$L/Dockerfile"
        mkctx "$L"
        post_ctx "$L.tar"
        no_secret "COPY $src (through a context symlink to the host): the host's file is not copied" hostile /got
        b rmi -f hostile > /dev/null 2>&1
done

# the image's own symlinks: COPY, WORKDIR and ADD resolve them in the rootfs
R=$T/rootfs-links; mkdir -p "$R"
echo "ctx file" > "$R/f"
python3 - "$R/evil.tar" "$OUT" "$ESC" << 'EOF'
import io, sys, tarfile
path, out, esc = sys.argv[1:4]
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
add("../../../../../../../.." + out + "/added-dotdot", b"x\n")
add(out + "/added-abs", b"x\n")
add("l", type=tarfile.SYMTYPE, linkname=out)
add("l/added-through-link", b"x\n")
add("/" + esc, b"x\n")
t.close()
EOF
# rootlinks DESCRIPTION STEP: a build whose RUN makes links to $OUT, / and
# an existing /real, then STEP; nothing may land on the host
rootlinks() {
        printf 'FROM busybox\nRUN mkdir /real /addhere && ln -s %s /target && ln -s / /rootlink && ln -s /real /alias\n%s\n' \
                "$OUT" "$2" > "$R/Dockerfile"
        out=$(b build -t rootlinks "$R" 2>&1); rc=$?
        echo "$out" | sed 's/^/    | /'
        left=$(find "$OUT" -mindepth 1 -maxdepth 1 ! -name secret ! -name Dockerfile.host)
        expect_eq "$1: nothing lands on the host" "$left" ""
        check "$1: nothing lands in /" test ! -e "/$ESC"
}
rootlinks "COPY to an image symlink to a host path" "COPY f /target/copied"
[ "$rc" = 0 ] && expect_eq "COPY to an image symlink to a path: lands in the rootfs" \
        "$(b run --rm --pull never rootlinks cat "$OUT/copied")" "ctx file"
rootlinks "COPY through an image symlink to /" "COPY f /rootlink$OUT/copied-root"
[ "$rc" = 0 ] && expect_eq "COPY through an image symlink to /: lands in the rootfs" \
        "$(b run --rm --pull never rootlinks cat "$OUT/copied-root")" "ctx file"
rootlinks "WORKDIR through an image symlink to a host path" "WORKDIR /target/wd"
rootlinks "ADD of a tar with ../, absolute names and a file through a symlink out" "ADD evil.tar /addhere/"
if [ "$rc" = 0 ]; then
        expect_eq "ADD of a hostile tar: the absolute name lands in the rootfs" \
                "$(b run --rm --pull never rootlinks cat "/addhere/$ESC")" "x"
else
        expect_contains "ADD of a hostile tar: fails with a message naming an entry" "$out" "added-"
fi
# symlinks to directories of the image are followed in the image, as Docker does
rootlinks "COPY to an image symlink to an image directory" "COPY f /alias/x"
check "COPY to an image symlink to an image directory: builds" [ "$rc" = 0 ]
expect_eq "COPY to an image symlink to an image directory: the file is in its target" \
        "$(b run --rm --pull never rootlinks cat /real/x)" "ctx file"
rootlinks "COPY through an image symlink to / into an image directory" "COPY f /rootlink/real/y"
check "COPY through an image symlink to / into an image directory: builds" [ "$rc" = 0 ]
expect_eq "COPY through an image symlink to /: the file is in the image's /real" \
        "$(b run --rm --pull never rootlinks cat /real/y)" "ctx file"
M2=$T/fromlink; mkdir -p "$M2"
cat > "$M2/Dockerfile" << EOF
FROM busybox AS s
RUN ln -s $OUT/secret /secretlink && ln -s / /rootlink && mkdir -p $OUT && echo stage-own > $OUT/own
FROM busybox
COPY --from=s /rootlink$OUT/secret /got1
COPY --from=s /secretlink /got2
EOF
out=$(b build -t fromlinks "$M2" 2>&1); rc=$?
echo "$out" | sed 's/^/    | /'
for g in /got1 /got2; do
        no_secret "COPY --from a stage's symlink to a host path ($g): not the host's file" fromlinks "$g"
done
nothing_outside "builds through symlinks"

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

# the docker CLI interrupted (Ctrl-C) mid-RUN: the same
printf 'FROM busybox\nRUN echo started; sleep 38\n' > "$H/Dockerfile"
DOCKER_BUILDKIT=0 setsid /usr/bin/docker -H "unix://$SOCK" build -t hung "$H" > "$T/cli.out" 2>&1 &
CLI=$!
for _ in $(seq 100); do grep -q "Running in" "$T/cli.out" && break; sleep 0.1; done
check "docker build: the sleeping RUN started" grep -q "Running in" "$T/cli.out"
sleep 1
kill -INT "$CLI"; wait "$CLI" 2> /dev/null
gone=
for _ in $(seq 50); do
        if [ -z "$(b ps -aq)" ] && [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]; then gone=1; break; fi
        sleep 0.1
done
check "docker build interrupted: within 5 s no step container and no scratch" [ -n "$gone" ]
expect_eq "docker build interrupted: no mount under the data root is left" "$(grep -c " $DATA" /proc/mounts)" "$mounts_before"
expect_eq "docker build interrupted: the RUN's processes are gone" "$(pgrep -f 'sleep 38' | wc -l)" 0

# a client that hangs up while sending the context
python3 - "$SOCK" "$T/full.tar" << 'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = open(sys.argv[2], "rb").read()
s.sendall(b"POST /build?t=halfsent HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
          b"Content-Length: %d\r\n\r\n" % (len(body) * 4))
s.sendall(body[:100000])
time.sleep(0.5)
s.close()
EOF
gone=
for _ in $(seq 50); do [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ] && gone=1 && break; sleep 0.1; done
check "a hang-up while sending the context: the scratch is removed within 5 s" [ -n "$gone" ]
check "a hang-up while sending the context: no image" bash -c "! $BERTH -H unix://$SOCK image inspect halfsent > /dev/null 2>&1"
check "a hang-up while sending the context: the daemon still answers" b version > /dev/null
python3 - "$SOCK" "$T/full.tar" << 'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /build?t=halfsent HTTP/1.1\r\nHost: d\r\nContent-Type: application/x-tar\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n")
body = open(sys.argv[2], "rb").read()[:70000]
s.sendall(b"%x\r\n" % len(body) + body + b"\r\n")
time.sleep(0.5)
s.close()
EOF
gone=
for _ in $(seq 50); do [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ] && gone=1 && break; sleep 0.1; done
check "a hang-up in a chunked body: the scratch is removed within 5 s" [ -n "$gone" ]
check "a hang-up in a chunked body: the daemon still answers" b version > /dev/null

# the daemon killed (-9) mid-RUN: the next start sweeps what the build left
printf 'FROM busybox\nCOPY Dockerfile /df\nRUN echo started; sleep 39\n' > "$H/Dockerfile"
b build -t crashed "$H" > "$T/crash.out" 2>&1 &
BC=$!
for _ in $(seq 100); do grep -q "Running in" "$T/crash.out" && break; sleep 0.1; done
check "the daemon crash: the RUN started" grep -q "Running in" "$T/crash.out"
check "the daemon crash: the build has scratch" [ -n "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2> /dev/null; DAEMON_PID=
wait "$BC" 2> /dev/null
# the step's processes outlive berthd under their shim, as any container's do
start_daemon
gone=
for _ in $(seq 100); do
        if [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ] && [ "$(pgrep -f 'sleep 39' | wc -l)" = 0 ]; then gone=1; break; fi
        sleep 0.1
done
check "after a crash mid-build, the next start removes the scratch and ends the step within 10 s" [ -n "$gone" ]
expect_eq "after a crash mid-build: no scratch in build/tmp" "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ""
expect_eq "after a crash mid-build: the RUN's processes are gone" "$(pgrep -f 'sleep 39' | wc -l)" 0
expect_eq "after a crash mid-build: no step container is running" "$(b ps -q)" ""
b ps -aq | xargs -r "$BERTH" -H "unix://$SOCK" rm -f > /dev/null 2>&1
mounts_now=$(grep " $DATA" /proc/mounts | grep -v -e "$DATA/containers/" -e '/merged ' | wc -l)
check "after a crash mid-build and a cleanup: no build mount is left ($mounts_now)" [ "$mounts_now" -le "$mounts_before" ]
out=$(b build -t aftercrash "$R" 2>&1)
check "after a crash mid-build: the next build works" [ $? -eq 0 ] || echo "$out" >&2

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
