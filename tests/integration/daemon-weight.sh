#!/bin/bash
# What berthd keeps mapped: none of the heavy libraries, whatever it has
# done. Registry work runs in berth-registry, tar work in berth-tar, the
# nftables library only while a batch runs; so after a load, a save, an
# export, a commit, cp both ways, a pull and a push through a local
# registry, a login and a container with a published port, berthd's
# mappings hold none of them, and a running berth-shim maps no shared libc.
# The RSS figures are printed, not asserted (the bench measures them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"

HEAVY="libcurl libssl libcrypto libarchive libmicrohttpd libgnutls libnftables libxml2 libicuuc libstdc++"

heavy_maps() { # PID: the heavy libraries it maps, one per line
        local l
        for l in $HEAVY; do
                grep -q "/$l[.-]" "/proc/$1/maps" && echo "$l"
        done
}
rss() { awk '/^VmRSS:/ {print $2 " kB"}' "/proc/$1/status"; }

P=$(free_port)
R=127.0.0.1:$P
start_registry "$T/reg" "$P" || exit 1
bash "$MKIMAGE" busybox "$T/bb.tar" > /dev/null
bash "$MKIMAGE" web "$T/web.tar" > /dev/null
start_daemon

echo "# berthd VmRSS fresh: $(rss "$DAEMON_PID")"
expect_eq "a fresh berthd maps no heavy library" "$(heavy_maps "$DAEMON_PID")" ""

check "load" b load -q -i "$T/bb.tar"
check "load (web)" b load -q -i "$T/web.tar"
check "save" b save -o "$T/saved.tar" busybox:latest
b tag busybox:latest "$R/w/busybox:v1"
check "push" b push "$R/w/busybox:v1"
b rmi "$R/w/busybox:v1" > /dev/null
check "pull" b pull "$R/w/busybox:v1"
printf 'pw\n' | b --config "$T/cfg" login -u u --password-stdin "$R" > /dev/null
check "login" [ $? = 0 ]
cid=$(b run -d -p 127.0.0.1::80 web:latest)
check "a container with a published port runs" [ -n "$cid" ]
echo hello > "$T/hello.txt"
check "cp into the container" b cp "$T/hello.txt" "$cid:/hello.txt"
check "cp out of the container" b cp "$cid:/hello.txt" "$T/back.txt"
check "export" b export -o "$T/export.tar" "$cid"
check "commit" b commit "$cid" weight:committed
shim=$(pgrep -f "berth-shim.*$cid" | head -1)
if [ -n "$shim" ]; then
        echo "# berth-shim VmRSS: $(rss "$shim")"
        check "the running shim maps no shared libc" bash -c "! grep -q '/libc\\.so' /proc/$shim/maps"
else
        fail "no berth-shim found for $cid"
fi
b rm -f "$cid" > /dev/null

echo "# berthd VmRSS after use: $(rss "$DAEMON_PID")"
expect_eq "after registry, tar and port work berthd maps no heavy library" \
        "$(heavy_maps "$DAEMON_PID")" ""
check "no berth-registry or berth-tar helper of this daemon is left" \
        bash -c "! pgrep -P $DAEMON_PID -f 'berth-(registry|tar)' > /dev/null"

finish
