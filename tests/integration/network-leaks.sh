#!/bin/bash
# Runs after the whole suite (FIXTURES_CLEANUP, tests/integration/): no
# test may have left a bridge, veth, network namespace, nftables table or
# container cgroup of berth's behind. lib.sh's cleanup records what a test's daemon left (and
# removes it so the machine stays clean); here the records are reported,
# and the host is checked for berth objects no record names: veths "vb*"
# without a bridge and network namespaces mounted under a removed test
# directory.
: "${BERTH_BUILD_DIR:?run through ctest (BERTH_BUILD_DIR is not set)}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
rc=0
f=$BERTH_BUILD_DIR/network-leaks.txt
if [ -s "$f" ]; then
        echo "FAIL - left behind by tests:" >&2
        cat "$f" >&2
        rc=1
fi
rm -f "$f"
# An exited container's veth goes with its namespace in the kernel's
# asynchronous cleanup, possibly just after its bridge: only a veth that
# stays without a bridge for two seconds is a leak.
orphans() { local l; for l in /sys/class/net/vb*; do [ -e "$l" ] && [ ! -e "$l/master" ] && echo "${l##*/}"; done; }
first=$(orphans)
if [ -n "$first" ]; then
        sleep 2
        for v in $(orphans); do
                if grep -qx "$v" <<< "$first"; then
                        echo "FAIL - veth $v without a bridge" >&2
                        rc=1
                fi
        done
fi
while read -r _ mp fstype _; do
        [ "$fstype" = nsfs ] || continue
        case $mp in
        /tmp/berth-it-*) [ -d "${mp%/run/netns/*}" ] || { echo "FAIL - netns $mp of a removed test" >&2; rc=1; } ;;
        esac
done < /proc/mounts
[ "$rc" = 0 ] && echo "ok - no bridge, veth, netns or nftables table left behind"
exit $rc
