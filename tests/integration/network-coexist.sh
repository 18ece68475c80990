#!/bin/bash
# Two daemons on one host: each claims its bridge, its nftables table and
# its subnets host-wide (flock'd files in /run/berth/locks); a second daemon
# that needs a name the first holds refuses to start and names the first's
# data root; with names of its own it runs beside it, and its exit leaves
# the first's networking alone. User networks get no subnet that another
# daemon holds or that an interface on the host has an address in.
. "$(dirname "$0")/lib.sh"

LOCKS=/run/berth/locks
B=$T/second
B_PID=
B_BRIDGE=bu$$
B_SUBNET=$TEST_NET_PREFIX.192/26
DUMMY=bd$$
mkdir -p "$B"

b2_conf() { # BRIDGE SUBNET
        printf '[daemon]\ndata-root = %s\nexec-root = %s\nhost = unix://%s\nplugin-dir = %s\n' \
                "$B/data" "$B/run" "$B/sock" "$PLUGINS" > "$B/berth.ini"
        printf '\n[network.bridge]\nbridge = %s\nsubnet = %s\n' "$1" "$2" >> "$B/berth.ini"
}
b2() { "$BERTH" -H "unix://$B/sock" "$@"; }
quiet() { "$@" > /dev/null; }
subnet_of() { # b|b2 NETWORK
        "$1" network inspect "$2" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["IPAM"]["Config"][0]["Subnet"])'
}
b2_start() { # 0 when it serves, 1 when it exited (its output in $B/log)
        "$BERTHD" --config-file "$B/berth.ini" > "$B/log" 2>&1 &
        B_PID=$!
        for _ in $(seq 300); do
                curl -s --unix-socket "$B/sock" -o /dev/null http://localhost/_ping 2>/dev/null && return 0
                kill -0 "$B_PID" 2>/dev/null || { wait "$B_PID"; B_PID=; return 1; }
                sleep 0.05
        done
        return 1
}
b2_stop() {
        [ -n "$B_PID" ] || return 0
        kill -TERM "$B_PID" 2>/dev/null
        wait "$B_PID"
        B_PID=
}
cleanup_second() {
        local f id
        if [ -n "$B_PID" ]; then
                timeout 20 "$BERTH" -H "unix://$B/sock" rm -f $(timeout 10 "$BERTH" -H "unix://$B/sock" ps -aq 2>/dev/null) > /dev/null 2>&1
                b2_stop
        fi
        for f in "$B"/data/networks/*.json; do
                [ -e "$f" ] || continue
                id=$(basename "$f" .json)
                ip link del "br-${id:0:12}" 2>/dev/null
        done
        ip link del "$B_BRIDGE" 2>/dev/null
        ip link del "$DUMMY" 2>/dev/null
        nft delete table ip "berth_$B_BRIDGE" 2>/dev/null
        awk -v t="$B" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
}
trap 'cleanup_second; cleanup' EXIT

bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
check "busybox image" b load -q -i "$T/bb.tar"

# --- the first daemon's claims ----------------------------------------------
expect_eq "bridge lock names the owner" "$(head -1 "$LOCKS/bridge-$TEST_BRIDGE" 2>&1)" "$DATA"
expect_eq "table lock names the owner" "$(head -1 "$LOCKS/nftables_table-berth_$TEST_BRIDGE" 2>&1)" "$DATA"
sub_file=subnet-${TEST_SUBNET%/*}_${TEST_SUBNET#*/}
expect_eq "subnet lock names the owner" "$(head -1 "$LOCKS/$sub_file" 2>&1)" "$DATA"

# --- a second daemon with the same names refuses to start -------------------
b2_conf "$TEST_BRIDGE" "$B_SUBNET"
if b2_start; then fail "second daemon on the same bridge started"; b2_stop; else pass "second daemon on the same bridge refused"; fi
expect_contains "refusal names the bridge and the first daemon" "$(cat "$B/log")" \
        "bridge $TEST_BRIDGE is in use by the daemon of $DATA; give this daemon its own [network.bridge] bridge and subnet"

b2_conf "$B_BRIDGE" "$TEST_SUBNET"
if b2_start; then fail "second daemon on the same subnet started"; b2_stop; else pass "second daemon on the same subnet refused"; fi
expect_contains "refusal names the subnet and the first daemon" "$(cat "$B/log")" \
        "subnet $TEST_SUBNET is in use by the daemon of $DATA"
# an overlapping subnet is as bad as the same one
b2_conf "$B_BRIDGE" "${TEST_SUBNET%/*}/24"
if b2_start; then fail "second daemon on an overlapping subnet started"; b2_stop; else pass "second daemon on an overlapping subnet refused"; fi
expect_contains "overlap named" "$(cat "$B/log")" "in use by the daemon of $DATA (its subnet $TEST_SUBNET)"
check "the refused daemon left no bridge" test ! -e "/sys/class/net/$B_BRIDGE"

check "first daemon's table still there" bash -c "nft list table ip berth_$TEST_BRIDGE > /dev/null"
out=$(b run --rm busybox ip -4 addr show eth0 2>&1)
expect_contains "first daemon still runs containers on its bridge" "$out" "inet ${TEST_NET_PREFIX}."

# --- with names of its own it runs beside the first -------------------------
b2_conf "$B_BRIDGE" "$B_SUBNET"
if b2_start; then pass "second daemon with its own bridge and subnet started"; else fail "second daemon did not start: $(cat "$B/log")"; fi
check "second daemon's image" b2 load -q -i "$T/bb.tar"
a_net=$(b network create coexist-a 2>&1)
b_net=$(b2 network create coexist-b 2>&1)
a_sub=$(subnet_of b coexist-a)
b_sub=$(subnet_of b2 coexist-b)
[[ "$a_sub" == 10.21[45].* ]] && [[ "$b_sub" == 10.21[45].* ]] && [ "$a_sub" != "$b_sub" ] &&
        pass "user networks of two daemons get different subnets ($a_sub, $b_sub)" ||
        fail "user network subnets: '$a_sub' '$b_sub' ($a_net $b_net)"
expect_eq "user network's subnet lock" "$(head -1 "$LOCKS/subnet-${b_sub%/*}_24" 2>&1)" "$B/data"
out=$(b2 network create --subnet "$a_sub" coexist-clash 2>&1)
expect_contains "explicit subnet held by the other daemon refused" "$out" "in use by the daemon of $DATA"
out=$(b2 run --rm busybox ip -4 addr show eth0 2>&1)
expect_contains "second daemon runs containers" "$out" "inet ${B_SUBNET%.*}."
check "second daemon removes its network" quiet b2 network rm coexist-b
check "its subnet lock went with it" test ! -e "$LOCKS/subnet-${b_sub%/*}_24"

b2_stop
check "second daemon's exit removed its own table" bash -c "! nft list table ip berth_$B_BRIDGE > /dev/null 2>&1"
check "second daemon's locks went with it" test ! -e "$LOCKS/bridge-$B_BRIDGE"
check "first daemon's table survived the second's exit" bash -c "nft list table ip berth_$TEST_BRIDGE > /dev/null"
check "first daemon's bridge survived the second's exit" test -e "/sys/class/net/$TEST_BRIDGE"
out=$(b run --rm -p 127.0.0.1::80 busybox true 2>&1)
rc=$?
expect_eq "first daemon publishes ports after the second left ($out)" "$rc" 0

# --- no subnet that an interface on the host has an address in --------------
check "network rm" quiet b network rm coexist-a
# the subnet the pool would hand out next: one made and removed
b network create coexist-probe > /dev/null
p_sub=$(subnet_of b coexist-probe)
b network rm coexist-probe > /dev/null
# (a bridge: this kernel has no dummy links)
ip link add "$DUMMY" type bridge && ip addr add "${p_sub%.*}.7/24" dev "$DUMMY"
check "network create beside the dummy" quiet b network create coexist-dummy
d_sub=$(subnet_of b coexist-dummy)
[[ "$d_sub" == 10.21[45].*/24 ]] && [ "$d_sub" != "$p_sub" ] &&
        pass "pool skipped $p_sub, where an interface has an address ($d_sub)" ||
        fail "pool handed out '$d_sub' though $DUMMY has ${p_sub%.*}.7"
ip link del "$DUMMY"
check "network rm" quiet b network rm coexist-dummy

# --- a user network's subnet, taken while its daemon was stopped ------------
check "network with an explicit subnet" quiet b network create --subnet "$TEST_NET_PREFIX.128/26" coexist-keep
stop_daemon
check "second daemon starts" b2_start
check "second daemon takes that subnet while the first is stopped" \
        quiet b2 network create --subnet "$TEST_NET_PREFIX.128/26" coexist-took
start_daemon
expect_contains "first daemon warns about the network it cannot build" "$(cat "$DAEMON_LOG")" \
        "subnet $TEST_NET_PREFIX.128/26 is in use by the daemon of $B/data"
out=$(b run --rm --network coexist-keep busybox true 2>&1)
expect_contains "a container on it is refused, naming the other daemon" "$out" \
        "network coexist-keep: subnet $TEST_NET_PREFIX.128/26 is in use by the daemon of $B/data"
out=$(b run --rm busybox true 2>&1); rc=$?
expect_eq "the first daemon's other networks work ($out)" "$rc" 0
check "second daemon gives the subnet up" quiet b2 network rm coexist-took
out=$(b run --rm --network coexist-keep busybox ip -4 addr show eth0 2>&1)
expect_contains "then the network works" "$out" "inet $TEST_NET_PREFIX.1"
check "network rm" quiet b network rm coexist-keep
b2_stop

# --- a daemon killed with SIGKILL leaves no claim behind --------------------
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
DAEMON_PID=
b2_conf "$TEST_BRIDGE" "$TEST_SUBNET"
if b2_start; then pass "names of a killed daemon are free"; else fail "names of a killed daemon still held: $(cat "$B/log")"; fi
expect_eq "bridge lock has the new owner" "$(head -1 "$LOCKS/bridge-$TEST_BRIDGE" 2>&1)" "$B/data"
b2_stop

finish
