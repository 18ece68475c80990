#!/bin/bash
# The daemon's own kernel objects, removed behind its back, come back where
# a container needs them: a bridge deleted by hand (ip link del) and the
# nftables table (nft delete table) are made again by the next start on
# the network, with a warning, and running containers are plugged back in
# with their published ports. Bridges say whose they are (their alias,
# "berth <data-root> network <name>"), and a daemon that starts after a
# kill -9 removes the bridges of its own that no network of its needs.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
command -v nft > /dev/null || skip "needs nft(8) to look at the table"
TABLE=berth_$TEST_BRIDGE
NA=$TEST_NET_PREFIX.128/26
NB=$TEST_NET_PREFIX.192/26
alias_of() { cat "/sys/class/net/$1/ifalias" 2>/dev/null; }
master_of() { basename "$(readlink "/sys/class/net/$1/master" 2>/dev/null)"; }

# --- whose bridges these are ---------------------------------------------------
expect_eq "default bridge carries its owner" "$(alias_of "$TEST_BRIDGE")" "berth $DATA network bridge"
ida=$(b network create --subnet "$NA" repa)
idb=$(b network create --subnet "$NB" repb)
BRA=br-${ida:0:12}
BRB=br-${idb:0:12}
expect_eq "user network's bridge carries its owner" "$(alias_of "$BRA")" "berth $DATA network repa"
out=$(ip link show "$BRA")
expect_contains "ip link show says whose it is" "$out" "alias berth $DATA network repa"

# --- a bridge deleted by hand --------------------------------------------------
cid=$(b run -d -p 127.0.0.1::8080 busybox sleep 300)
veth=$(for l in /sys/class/net/"$TEST_BRIDGE"/brif/*; do echo "${l##*/}"; done | head -1)
port=$(b port "$cid" 8080 | sed 's/.*://')
ip link del "$TEST_BRIDGE"
check "bridge gone" test ! -e "/sys/class/net/$TEST_BRIDGE"
out=$(b run --rm busybox ip -4 addr show eth0 2>&1); rc=$?
expect_eq "run on the default network after its bridge was deleted ($out)" "$rc" 0
expect_contains "the container got its address" "$out" "inet $TEST_NET_PREFIX."
check "the bridge is back" test -e "/sys/class/net/$TEST_BRIDGE"
expect_eq "with its alias" "$(alias_of "$TEST_BRIDGE")" "berth $DATA network bridge"
expect_eq "the running container's veth is plugged in again" "$(master_of "$veth")" "$TEST_BRIDGE"
expect_contains "a warning in the daemon's log" "$(cat "$DAEMON_LOG")" "bridge '$TEST_BRIDGE' of network"
out=$(b exec "$cid" ping -c1 -W2 "$TEST_NET_PREFIX.1" 2>&1); rc=$?
expect_eq "the running container reaches its gateway again" "$rc" 0

# --- the table deleted by hand -------------------------------------------------
nft delete table ip "$TABLE"
check "table gone" bash -c "! nft list table ip $TABLE > /dev/null 2>&1"
out=$(b run --rm --network repa busybox true 2>&1); rc=$?
expect_eq "run after the table was deleted ($out)" "$rc" 0
tbl=$(nft list table ip "$TABLE" 2>&1)
expect_contains "the table is back" "$tbl" "chain postrouting"
expect_contains "with the bridges of every network" "$tbl" "\"$BRB\""
expect_contains "with the subnets" "$tbl" "${NA%/*}/26"
expect_contains "with the running container's published port" "$tbl" ". $port :"
expect_contains "a warning in the daemon's log" "$(cat "$DAEMON_LOG")" "nftables table ip $TABLE has gone"
b rm -f "$cid" > /dev/null

# --- a kill -9, a network whose record did not survive -------------------------
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
DAEMON_PID=
check "bridges stay after a kill -9" test -e "/sys/class/net/$BRB"
# as after a crash between making the bridge and writing the record
rm "$DATA/networks/$idb.json"
start_daemon
check "no stale bridge of a network that does not exist" test ! -e "/sys/class/net/$BRB"
expect_contains "its removal is logged" "$(cat "$DAEMON_LOG")" "bridge '$BRB'"
check "the bridge of a network that exists is there" test -e "/sys/class/net/$BRA"
expect_eq "with its alias" "$(alias_of "$BRA")" "berth $DATA network repa"
out=$(b run --rm --network repa busybox ip -4 addr show eth0 2>&1)
expect_contains "the user network works after the restart" "$out" "inet ${NA%.*}."
out=$(b run --rm busybox ip -4 addr show eth0 2>&1)
expect_contains "the default network works after the restart" "$out" "inet $TEST_NET_PREFIX."
check "network rm" bash -c "'$BERTH' -H unix://$SOCK network rm repa > /dev/null"
check "its bridge went" test ! -e "/sys/class/net/$BRA"

finish
