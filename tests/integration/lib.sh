# lib.sh — shared by the integration tests (bash). Each test gets a private
# data root, exec root, socket and config under one temp directory, and
# removes everything it made when it exits, whatever the outcome.
set -uo pipefail

: "${BERTH_BUILD_DIR:?run through ctest (BERTH_BUILD_DIR is not set)}"
BERTH=$BERTH_BUILD_DIR/bin/berth
BERTHD=$BERTH_BUILD_DIR/bin/berthd
PLUGINS=${BERTH_PLUGIN_DIR:-$BERTH_BUILD_DIR/plugins}
TEST_NAME=$(basename "$0" .sh)
PASSED=0
FAILED=0

skip() { echo "SKIP $TEST_NAME: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"

T=$(mktemp -d "/tmp/berth-it-$TEST_NAME.XXXXXX")
SOCK=$T/berth.sock
DATA=$T/data
RUN=$T/run
CONF=$T/berth.ini
DAEMON_PID=
DAEMON_LOG=$T/berthd.log

# Each test daemon has a bridge, subnet and nftables table of its own, so
# that tests run in parallel (ctest -j2): names from this shell's pid, which
# no other running test shares; subnets in 10.64.0.0/10, apart from the
# defaults (10.213.0.0/16, user networks from 10.214.0.0/15). The bridge
# has the lower half of TEST_NET_PREFIX.0/24; tests give user networks
# TEST_NET_PREFIX.128/26 and .192/26.
TEST_BRIDGE=bt$$
TEST_SUBNET=10.$((64 + ($$ >> 8 & 63))).$(($$ & 255)).0/25
TEST_NET_PREFIX=10.$((64 + ($$ >> 8 & 63))).$(($$ & 255))

write_config() { # extra ini text on stdin is appended
        {
                printf '[daemon]\ndata-root = %s\nexec-root = %s\nhost = unix://%s\nplugin-dir = %s\n' \
                        "$DATA" "$RUN" "$SOCK" "$PLUGINS"
                cat
                # after the caller's text, so that its FILE:LINE stay put
                printf '\n[network.bridge]\nbridge = %s\nsubnet = %s\n' "$TEST_BRIDGE" "$TEST_SUBNET"
        } > "$CONF"
}
write_config < /dev/null

# What berth should have removed and did not: one line per object in
# $BERTH_BUILD_DIR/network-leaks.txt, which the network-leaks test (run
# after the suite) reports. Recorded only when this cleanup stopped the
# daemon itself after removing the containers (a test that killed berthd
# -9 leaves its network on purpose); removed in every case.
net_leftovers() { # print the test's leftover kernel objects, one per line
        local f id br l
        local bridges=("$TEST_BRIDGE")
        for f in "$DATA"/networks/*.json; do
                [ -e "$f" ] || continue
                id=$(basename "$f" .json)
                bridges+=("br-${id:0:12}")
        done
        for br in "${bridges[@]}"; do
                [ -e "/sys/class/net/$br" ] || continue
                for l in /sys/class/net/$br/brif/*; do [ -e "$l" ] && echo "veth ${l##*/}"; done
                echo "bridge $br"
        done
        if command -v nft > /dev/null && nft list table ip "berth_$TEST_BRIDGE" > /dev/null 2>&1; then
                echo "nft-table berth_$TEST_BRIDGE"
        fi
        if command -v nft > /dev/null && nft list table ip6 "berth_$TEST_BRIDGE" > /dev/null 2>&1; then
                echo "nft-table6 berth_$TEST_BRIDGE"
        fi
        awk -v t="$T" '$3 == "nsfs" && index($2, t) == 1 {print "netns " $2}' /proc/mounts
}

# The cgroups of the containers named in $CT_IDS (IDs or their prefixes),
# one "cgroup PATH" line each; containers go under /berth by default.
cgroup_leftovers() {
        local id d
        for id in $CT_IDS; do
                for d in /sys/fs/cgroup/*/berth/"$id"* /sys/fs/cgroup/berth/"$id"*; do
                        [ -d "$d" ] && echo "cgroup $d"
                done
        done
}

# Background helpers a test starts (servers on 127.0.0.1): their pids in
# BG_PIDS are killed by the cleanup.
BG_PIDS=()
stop_bg() {
        local p
        for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2> /dev/null; done
        for p in "${BG_PIDS[@]}"; do wait "$p" 2> /dev/null; done
        BG_PIDS=()
}

# A free TCP port on 127.0.0.1.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts connections on 127.0.0.1:PORT
wait_port() {
        local i
        for i in $(seq 200); do
                (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
                sleep 0.05
        done
        echo "nothing listens on 127.0.0.1:$1" >&2
        return 1
}

cleanup() {
        local pid clean_stop= d
        stop_bg
        # every container this test's daemon knew, as it left them: those a
        # dead daemon left running, and those a live one removes below
        CT_IDS=$(ls "$DATA/containers" 2>/dev/null)
        if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
                # containers hold veths and rules; remove them through berth
                local ids
                ids=$(timeout 20 "$BERTH" -H "unix://$SOCK" ps -aq 2>/dev/null)
                CT_IDS="$CT_IDS $ids"
                # shellcheck disable=SC2086
                [ -n "$ids" ] && timeout 60 "$BERTH" -H "unix://$SOCK" rm -f $ids > /dev/null 2>&1
                kill -TERM "$DAEMON_PID" 2>/dev/null
                for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
                kill -0 "$DAEMON_PID" 2>/dev/null || clean_stop=1
                kill -KILL "$DAEMON_PID" 2>/dev/null
        fi
        # any berthd started on our config (auto-start tests)
        for pid in $(pgrep -f "berthd.*$T" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        if [ -f "$RUN/berthd.pid" ]; then kill -KILL "$(cat "$RUN/berthd.pid")" 2>/dev/null; fi
        # a daemon that died (or that the test killed) leaves its containers
        # running under their shims: end them, so their cgroups can go
        for pid in $(pgrep -f "berth-shim[^ ]* $RUN/" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        local left
        left=$(net_leftovers; cgroup_leftovers)
        if [ -n "$left" ] && [ -n "$clean_stop" ]; then
                sed "s|^|$TEST_NAME: |" <<< "$left" >> "$BERTH_BUILD_DIR/network-leaks.txt"
        fi
        grep -q " $T" /proc/mounts && awk -v t="$T" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
        while read -r kind name; do
                case $kind in
                veth | bridge) ip link del "$name" 2>/dev/null ;;
                nft-table) nft delete table ip "$name" 2>/dev/null ;;
                nft-table6) nft delete table ip6 "$name" 2>/dev/null ;;
                cgroup)
                        # its processes first (the shim's container, if alive)
                        xargs -r kill -KILL < "$name/cgroup.procs" 2>/dev/null
                        for _ in $(seq 20); do rmdir "$name" 2>/dev/null && break; sleep 0.1; done
                        ;;
                esac
        done <<< "$left"
        rm -rf "$T"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*" >&2; }

# check DESCRIPTION COMMAND... : passes when the command succeeds
check() { local _what=$1; shift; if "$@"; then pass "$_what"; else fail "$_what"; fi; }
# expect_contains DESCRIPTION HAYSTACK NEEDLE
expect_contains() {
        if [[ "$2" == *"$3"* ]]; then pass "$1"; else fail "$1: '$3' not in: $2"; fi
}
expect_not_contains() {
        if [[ "$2" != *"$3"* ]]; then pass "$1"; else fail "$1: '$3' unexpectedly in: $2"; fi
}
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$3', got '$2'"; fi; }

# api METHOD PATH [curl args...]: the body in $API_BODY, the status in $API_STATUS
api() {
        local m=$1 p=$2; shift 2
        local out
        out=$(curl -sS --unix-socket "$SOCK" -X "$m" -w '\n%{http_code}' "$@" "http://localhost$p")
        API_STATUS=${out##*$'\n'}
        API_BODY=${out%$'\n'*}
}

wait_for_socket() { # seconds
        local i
        for i in $(seq $(( ${1:-10} * 20 ))); do
                if curl -s --unix-socket "$SOCK" -o /dev/null http://localhost/_ping 2>/dev/null; then return 0; fi
                [ -n "$DAEMON_PID" ] && ! kill -0 "$DAEMON_PID" 2>/dev/null && return 1
                sleep 0.05
        done
        return 1
}

start_daemon() { # extra berthd flags
        "$BERTHD" --config-file "$CONF" "$@" > "$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        if ! wait_for_socket 15; then
                echo "berthd did not start; its log:" >&2
                cat "$DAEMON_LOG" >&2
                exit 1
        fi
}

stop_daemon() {
        [ -n "$DAEMON_PID" ] || return 0
        kill -TERM "$DAEMON_PID"
        wait "$DAEMON_PID"
        DAEMON_STATUS=$?
        DAEMON_PID=
}

b() { "$BERTH" -H "unix://$SOCK" "$@"; }

finish() {
        echo "$TEST_NAME: $PASSED passed, $FAILED failed"
        [ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
        exit $?
}
