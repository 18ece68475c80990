#!/bin/bash
# One regression test per escape class, each written so that it fails on a
# vulnerable design without harming the host. The classes, and where each
# is tested (here unless named) or why it cannot happen:
# - the runtime's binary overwritten through /proc/PID/exe (CVE-2019-5736):
#   a probe in the container races `berth exec` and tries to read, open for
#   writing and reopen for writing the exe of the runtime's exec child; the
#   child is non-dumpable before it enters the container, the shim runs from
#   a sealed memfd copy of berth-shim (checked here, and in container-shim),
#   berth-runtime's create, run and exec from a sealed copy of berth-runtime
#   (runtime-lifecycle); the host's binaries are unchanged (checksums)
# - a leaked host fd or cwd reached from exec or run (CVE-2024-21626): a cwd
#   of /proc/self/fd/N for every fd the runtime's child may hold; that no fd
#   but stdio reaches the container: runtime-lifecycle ("leaked fds")
# - mount targets swapped for symlinks during set-up (CVE-2021-30465): by
#   construction, runtime-mount.c resolves every destination with
#   openat2(RESOLVE_IN_ROOT) and mounts on /proc/self/fd/N of what it
#   resolved, so no later swap redirects a mount; symlinked mount points
#   (an image's, a volume's nested one) stay inside: volume-cli ("hostile
#   image")
# - docker cp racing a symlink swap (CVE-2018-15664): both directions, here
# - a helper binary or library loaded from the container's root
#   (CVE-2019-14271): by construction, berthd and berth-tar never chroot or
#   enter a container's mount namespace; they reach its files by descriptor
#   (openat2 RESOLVE_IN_ROOT, container-archive.c), and user names are read
#   from the container's /etc/passwd and /etc/group as text
#   (container-spec.c), never through NSS, so no code is loaded from it
# - tar slip: cp (container-cp, "hostile tar"), load and import through the
#   daemon (here), the unpacker with both storage drivers
#   (check-image-hostile); build contexts: build-hostile (../ and absolute
#   names, files through symlinks, hard links and devices out of the
#   context, a Dockerfile or COPY source that points out of it) and
#   check-build-context (the context unpacker itself)
# - a volume or bind target that is a symlink out of the root: volume-cli
#   ("hostile image: /data -> /etc", a volume's planted symlink)
# - /proc and /sys paths that must stay masked or read-only: here (with
#   berthd's default spec), and runtime-isolation (the runtime's own)
# - an auth plugin bypassed by a request whose body it was not shown
#   (CVE-2024-41110): here, with tests/plugins/test-auth-body.c
. "$(dirname "$0")/lib.sh"
PROBE=$BERTH_BUILD_DIR/tests/berth-exeprobe
[ -x "$PROBE" ] || skip "berth-exeprobe is not built"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 60 "$BERTH" -H "unix://$SOCK" "$@"; }

# --- CVE-2019-5736: /proc/PID/exe of the runtime's exec child ---------------
sums() { sha256sum "$BERTH_BUILD_DIR"/bin/berth-shim* "$BERTH_BUILD_DIR/bin/berthd" "$BERTH_BUILD_DIR/bin/berth-runtime"; }
before=$(sums)
tb run -d --name x1 --network none -v "$PROBE:/probe:ro" busybox sleep 1000 > /dev/null
tb exec x1 /probe 12 /bin/true > "$T/probe.out" &
probe=$!
sleep 0.3
n=0
while kill -0 "$probe" 2> /dev/null && [ $n -lt 300 ]; do
        tb exec x1 true > /dev/null 2>&1
        n=$((n + 1))
done
wait "$probe"
out=$(cat "$T/probe.out")
echo "# $n execs raced; the probe: $out"
v() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$out"; }
check "the probe saw the exec child before its exec ($out)" test "$(v seen)" -gt 0
expect_eq "its exe link cannot be read from the container" "$(v link)" 0
expect_eq "its exe cannot be opened for reading" "$(v read)" 0
expect_eq "its exe cannot be opened for writing" "$(v write)" 0
expect_eq "nor reopened for writing after the exec" "$(v reopen)" 0
expect_eq "the host's binaries are unchanged" "$(sums)" "$before"
# what the exec child is a fork of: the shim, from a sealed copy of berth-shim
spid=$(cat "$RUN/containers/$(tb inspect -f '{{.Id}}' x1)/shim.pid" 2> /dev/null)
expect_eq "the shim runs from a memfd copy" "$(readlink "/proc/$spid/exe")" "/memfd:berth-shim (deleted)"
out=$(python3 - "$spid" <<'EOF'
import errno, fcntl, os, sys
fd = os.open("/proc/%s/exe" % sys.argv[1], os.O_RDONLY)
seals = fcntl.fcntl(fd, 1034)  # F_GET_SEALS
print("seals=%s" % ("all" if seals & 15 == 15 else seals), end=" ")
try:
    os.close(os.open("/proc/%s/exe" % sys.argv[1], os.O_WRONLY))
    print("write=opened")
except OSError as e:
    print("write=" + errno.errorcode[e.errno])
EOF
)
expect_contains "the copy is sealed against writing, shrinking and growing" "$out" "seals=all"
expect_not_contains "even host root cannot open it for writing ($out)" "$out" "write=opened"

# --- /proc and /sys: masked or read-only --------------------------------------
# Only opens for writing (no byte is written: `: >`) and reads, so that a
# vulnerable design fails the test without harming the host.
out=$(tb run --rm --network none busybox sh -c '
for f in /proc/sysrq-trigger /proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches \
        /proc/irq/default_smp_affinity /proc/bus/pci/devices /sys/kernel/uevent_helper \
        /sys/power/state; do
        [ -e "$f" ] || continue
        (: > "$f") 2> /dev/null && echo "writable $f"
done
mkdir /sys/berth-escape 2> /dev/null && echo "writable /sys"
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do
        [ -e "$f" ] || continue
        echo "read $f $(head -c 64 "$f" 2> /dev/null | wc -c)"
done
echo "firmware $(ls /sys/firmware 2> /dev/null | wc -l)"
grep -E " /(sys|proc/sys|proc/sysrq-trigger) " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1' 2>&1)
echo "$out" | sed 's/^/# /'
expect_not_contains "no /proc or /sys control file opens for writing" "$out" "writable"
# (what this kernel has: this machine's has no /proc/kcore, no sysrq)
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        [ -e "$f" ] && expect_contains "$f is masked (reads nothing)" "$out" "read $f 0"
done
expect_contains "/sys/firmware is masked (empty)" "$out" "firmware 0"
expect_contains "/sys is mounted read-only" "$out" "/sys ro"
expect_contains "/proc/sys is read-only" "$out" "/proc/sys ro"
[ -e /proc/sysrq-trigger ] &&
        expect_contains "/proc/sysrq-trigger is read-only" "$out" "/proc/sysrq-trigger ro"

# --- CVE-2024-21626: a host fd reached as the working directory --------------
# The runtime's child holds host fds until its exec; a cwd of
# /proc/self/fd/N is resolved while it does. None of them may be a host
# directory: the exec or start fails, or the cwd is inside the root (where
# getcwd works; outside it getcwd fails).
bad=
for i in $(seq 3 40); do
        out=$(tb exec -w "/proc/self/fd/$i" x1 sh -c 'pwd || echo CWD-OUTSIDE-ROOT' 2>&1)
        [[ $out == *CWD-OUTSIDE-ROOT* ]] && bad="$bad exec:$i"
done
for i in $(seq 3 24); do
        out=$(tb run --rm --network none -w "/proc/self/fd/$i" busybox sh -c 'pwd || echo CWD-OUTSIDE-ROOT' 2>&1)
        [[ $out == *CWD-OUTSIDE-ROOT* ]] && bad="$bad run:$i"
done
expect_eq "no exec or run gets a working directory outside its root" "$bad" ""

# --- CVE-2018-15664: docker cp racing a symlink swap -------------------------
# The container swaps /w/d between a directory and a symlink to / while the
# host copies /w/d/tmp/M out of it and into it: the copy must resolve in the
# container's root every time, never the host's (where M holds HOST).
M=berth-cp-race-$$
echo HOST > "/tmp/$M"
tb run -d --name racer --network none busybox sh -c "
echo CONTAINER > /tmp/$M
while :; do rm -rf /w/d; mkdir -p /w/d/tmp; echo DIR > /w/d/tmp/$M; rm -rf /w/d; mkdir -p /w; ln -s / /w/d; done" > /dev/null
sleep 0.3
host_seen=0 seen=
for i in $(seq 40); do
        tb cp "racer:/w/d/tmp/$M" "$T/got" > /dev/null 2>&1 && seen="$seen $(cat "$T/got")"
        grep -qs HOST "$T/got" && host_seen=$((host_seen + 1))
        rm -f "$T/got"
        echo "IN$i" > "$T/$M"
        tb cp "$T/$M" "racer:/w/d/tmp/" > /dev/null 2>&1
done
echo "# cp out read, in turn:$(tr ' ' '\n' <<< "$seen" | sort | uniq -c | tr -s ' \n' ' ')"
expect_eq "cp out never read the host's file" "$host_seen" 0
expect_eq "cp in never wrote the host's file" "$(cat "/tmp/$M")" "HOST"
tb rm -f racer > /dev/null
rm -f "/tmp/$M"

# --- tar slip on import and load, through the daemon --------------------------
# (the unpacker's own cases, with both storage drivers: check-image-hostile;
# docker cp: container-cp)
mkdir -p "$T/slip"
(cd "$T/slip" && python3 - "berth-slip-$$" << 'PY'
import io, json, hashlib, sys, tarfile
m = sys.argv[1]
def add(t, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
layers = {
    "benign": [("etc/ok",)],
    "dotdot": [("../../../../../../tmp/%s-1" % m,)],
    "abs": [("/tmp/%s-2" % m,)],
    "symlink": [("esc", tarfile.SYMTYPE, "/"), ("esc/tmp/%s-3" % m,)],
    "hardlink": [("hl", tarfile.LNKTYPE, "/tmp/%s-host" % m)],
}
for k, entries in layers.items():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for e in entries:
            add(t, e[0], kind=e[1] if len(e) > 1 else tarfile.REGTYPE, link=e[2] if len(e) > 2 else "")
    layer = buf.getvalue()
    open("import-%s.tar" % k, "wb").write(layer)
    # the same layer in a docker-archive for load
    diff = "sha256:" + hashlib.sha256(layer).hexdigest()
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
    cname = hashlib.sha256(cfg).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cname, "RepoTags": ["slip-%s:latest" % k],
                            "Layers": ["l/layer.tar"]}]).encode()
    with tarfile.open("load-%s.tar" % k, "w") as t:
        for name, data in ((cname, cfg), ("l/layer.tar", layer), ("manifest.json", manifest)):
            i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
)
echo HOST > "/tmp/berth-slip-$$-host"
tb import "$T/slip/import-benign.tar" slip-imp-benign > /dev/null
check "(the same import of a benign tar works)" test -n "$(b images -q slip-imp-benign)"
tb load -i "$T/slip/load-benign.tar" > /dev/null
check "(the same load of a benign layer works)" test -n "$(b images -q slip-benign)"
for k in dotdot abs symlink hardlink; do
        tb import "$T/slip/import-$k.tar" "slip-imp-$k" > /dev/null 2>&1
        check "import of a hostile tar ($k) is refused" test -z "$(b images -q "slip-imp-$k")"
        tb load -i "$T/slip/load-$k.tar" > /dev/null 2>&1
        check "load of a hostile layer ($k) is refused" test -z "$(b images -q "slip-$k")"
done
check "nothing landed on the host" test -z "$(ls /tmp/berth-slip-$$-[0-9] 2> /dev/null)"
expect_eq "the host file a hard link named is unchanged" "$(cat "/tmp/berth-slip-$$-host")" "HOST"
rm -f /tmp/berth-slip-$$-*

# --- CVE-2024-41110: an auth plugin bypassed by a body it was not shown -------
# auth-nopriv wants bodies and denies "Privileged": true; it allows a request
# that reaches it without a body. A body the daemon acts on must have been
# shown to it, or the request is denied: a body that is not declared JSON,
# one over the 1 MiB a plugin is shown, a chunked one, one after a
# Content-Length of 0.
AUTH_SO=$BERTH_BUILD_DIR/tests/plugins-auth/auth-nopriv.so
tb rm -f x1 > /dev/null
stop_daemon
P=$T/plugins
mkdir -p "$P"
cp "$PLUGINS"/*.so "$AUTH_SO" "$P"/
write_config <<< $'[auth]\ndrivers = nopriv'
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
start_daemon
priv='{"Image":"busybox","Cmd":["true"],"HostConfig":{"Privileged":true}}'
create() { # NAME CURL-ARGS...: the status of a create
        local n=$1
        shift
        api POST "/containers/create?name=$n" "$@"
        echo "$API_STATUS"
}
expect_eq "the plugin denies a privileged create (JSON)" \
        "$(create p1 -H 'Content-Type: application/json' -d "$priv")" 403
check "a body not declared JSON is not acted on unseen" \
        test "$(create p2 -H 'Content-Type: text/plain' -d "$priv")" -ge 400
check "nor a body without a Content-Type" \
        test "$(create p3 -H 'Content-Type:' -d "$priv")" -ge 400
python3 -c 'import sys; b=sys.argv[1]; print(b[:-1] + " " * (1 << 20) + "}")' "$priv" > "$T/big.json"
check "nor a JSON body over 1 MiB" \
        test "$(create p4 -H 'Content-Type: application/json' --data-binary "@$T/big.json")" -ge 400
expect_eq "a chunked JSON body is shown to it" \
        "$(create p5 -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' -d "$priv")" 403
python3 - "$SOCK" "$priv" <<'EOF' > /dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
b = sys.argv[2].encode()
s.sendall(b"POST /containers/create?name=p6 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 0\r\n\r\n" + b)
try:
    s.recv(65536)
except OSError:
    pass
EOF
check "a body after a Content-Length of 0 is not a create's body" \
        test "$(b inspect -f '{{.HostConfig.Privileged}}' p6 2> /dev/null)" != true
privs=$(for c in $(b ps -aq); do b inspect -f '{{.Name}} {{.HostConfig.Privileged}}' "$c"; done)
expect_not_contains "no privileged container was created" "$privs" "true"

finish
