#!/bin/bash
# Create/start/stop/rm cycles of a container with a published port
# (-p 127.0.0.1::80), a named volume and a user network leave the host and
# berthd exactly as they were: the same counts of mounts and network
# namespaces under the test's root, links on the test's bridges, cgroup
# directories of the test's containers, rules in the test's nftables
# tables, children of berthd and shims, berthd's open fds and threads, and
# /info's container count. Counts, not timings.
#
# A warm-up of CHURN_WARMUP cycles comes first (the first containers load
# code pages, the libraries' caches and the stores' first allocations);
# every count is then taken, CHURN_CYCLES more cycles run, and the counts
# must be the same. berthd's RSS after the cycles must be within
# CHURN_RSS_SLACK_KB (1 MB) of its RSS after the warm-up: what N containers
# used must come back, while the bound leaves room for heap fragmentation
# that malloc_trim cannot return (a few live pages spread over the heap).
#
# CI (2 cores) runs 300 cycles, 45-60 s here; CHURN_CYCLES=1000 for the
# long run (3-4 min on the same machine, beyond the ctest TIMEOUT: run the
# script itself, with BERTH_BUILD_DIR and BERTH_SOURCE_DIR set).
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || skip "needs nft"
CYCLES=${CHURN_CYCLES:-300}
WARMUP=${CHURN_WARMUP:-30}
RSS_SLACK_KB=${CHURN_RSS_SLACK_KB:-1024}

bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
NET=churn-net
VOL=churn-vol
netid=$(b network create --subnet "$TEST_NET_PREFIX.128/26" "$NET") || { fail "network create"; finish; }
b volume create "$VOL" > /dev/null || { fail "volume create"; finish; }
BRIDGES=("$TEST_BRIDGE" "br-${netid:0:12}")
TABLES=("berth_$TEST_BRIDGE") # the user network's rules are in the same table
IDS=$T/ids

# The container: sh as pid 1 ends at SIGTERM, so stop takes its ordinary
# path (TERM, the exit, the teardown) without waiting for a KILL.
cycle() {
        local id
        id=$(b create -p 127.0.0.1::80 -v "$VOL:/data" --network "$NET" busybox \
                sh -c 'trap "exit 0" TERM; while :; do sleep 1 & wait; done') || return 1
        echo "$id" >> "$IDS"
        b start "$id" > /dev/null || return 1
        b stop -t 5 "$id" > /dev/null || return 1
        b rm "$id" > /dev/null || return 1
}

# One "name count" line per thing counted.
counts() {
        local pid=$DAEMON_PID br t n
        echo "mounts-under-root $(awk -v t="$T" 'index($5, t) == 1' /proc/self/mountinfo | wc -l)"
        echo "berthd-mounts-under-root $(awk -v t="$T" 'index($5, t) == 1' "/proc/$pid/mountinfo" | wc -l)"
        echo "netns-mounts $(awk -v t="$T" '$9 == "nsfs" && index($5, t) == 1' /proc/self/mountinfo | wc -l)"
        echo "netns-files $(find "$RUN" -path '*netns*' -type f 2> /dev/null | wc -l)"
        for br in "${BRIDGES[@]}"; do
                echo "links-on-$br $(ip -o link show master "$br" 2> /dev/null | wc -l)"
                echo "bridge-$br $(ip -o link show "$br" 2> /dev/null | wc -l)"
        done
        # veths are named vb<endpoint id>: none of the test's may be left
        # anywhere, on a bridge or not
        n=0
        if [ -s "$IDS" ]; then
                n=$(ip -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -c '^vb' || true)
        fi
        echo "vb-links-on-host-info $n"
        n=0
        if [ -s "$IDS" ]; then
                n=$(find /sys/fs/cgroup/*/berth /sys/fs/cgroup/berth -mindepth 1 -maxdepth 1 \
                        -type d -printf '%f\n' 2> /dev/null | grep -cFxf "$IDS" || true)
        fi
        echo "cgroup-dirs $n"
        for t in "${TABLES[@]}"; do
                echo "nft-lines-$t $(nft -a list table ip "$t" 2> /dev/null | wc -l)"
        done
        echo "berthd-children $(pgrep -P "$pid" | wc -l)"
        echo "shims $(pgrep -f "berth-shim[^ ]* $RUN/" | wc -l)"
        # the sealed copy of the shim (and of the runtime) that the first
        # start makes is kept on purpose, and is not counted
        echo "berthd-fds $(find "/proc/$pid/fd" -mindepth 1 -printf '%l\n' | grep -vc '^/memfd:berth-')"
        echo "berthd-threads $(ls "/proc/$pid/task" | wc -l)"
        api GET /info
        echo "info-containers $(jq -r .Containers <<< "$API_BODY")"
        echo "container-dirs $(ls "$DATA/containers" 2> /dev/null | wc -l)"
}
# The rules, handles aside: the same rules, not only as many.
rules() {
        local t
        for t in "${TABLES[@]}"; do nft list table ip "$t" 2> /dev/null; done
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$DAEMON_PID/status"; }

# Counts settle once the last client's connection thread has gone and the
# kernel has finished an exited namespace's teardown: wait for them to
# match (at most about 5 s), then compare.
settled() { # EXPECTED-FILE OUT-FILE
        local i
        for i in $(seq 25); do
                counts | grep -v -- '-info ' > "$2"
                cmp -s "$1" "$2" && return 0
                sleep 0.1
        done
        return 1
}

same() { # DESCRIPTION EXPECTED-FILE GOT-FILE
        if cmp -s "$2" "$3"; then pass "$1"; else fail "$1"; diff "$2" "$3" >&2; fi
}

counts | grep -v -- '-info ' > "$T/before"
rules > "$T/rules-before"

# The counts see what a running container holds (else a leak of it would
# pass unseen): each of these differs from the start while one runs.
id=$(b create -p 127.0.0.1::80 -v "$VOL:/data" --network "$NET" busybox sleep 1000)
echo "$id" >> "$IDS"
b start "$id" > /dev/null
counts | grep -v -- '-info ' > "$T/running"
for what in mounts-under-root netns-mounts "links-on-${BRIDGES[1]}" cgroup-dirs \
        "nft-lines-${TABLES[0]}" berthd-children shims berthd-fds info-containers container-dirs; do
        before=$(awk -v w="$what" '$1 == w {print $2}' "$T/before")
        running=$(awk -v w="$what" '$1 == w {print $2}' "$T/running")
        check "a running container shows in $what ($before -> $running)" [ "$running" -gt "$before" ]
done
b rm -f "$id" > /dev/null

failed_cycles=0
for i in $(seq "$WARMUP"); do cycle || failed_cycles=$((failed_cycles + 1)); done
settled "$T/before" "$T/warm"
same "after $WARMUP warm-up cycles the counts are as before" "$T/before" "$T/warm"
sleep 0.5
rss_warm=$(rss_kb)

for i in $(seq "$CYCLES"); do cycle || failed_cycles=$((failed_cycles + 1)); done
expect_eq "every create/start/stop/rm cycle succeeded" "$failed_cycles" 0
settled "$T/before" "$T/after"
same "after $CYCLES more cycles the counts are as before" "$T/before" "$T/after"
rules > "$T/rules-after"
same "the test's nftables tables hold the same rules" "$T/rules-before" "$T/rules-after"
sed 's/^/# /' "$T/after"
sleep 0.5
rss_after=$(rss_kb)
echo "# berthd VmRSS: after warm-up ${rss_warm} kB, after $CYCLES cycles ${rss_after} kB"
check "berthd's RSS after $CYCLES cycles is within $RSS_SLACK_KB kB of its RSS after the warm-up" \
        [ "$rss_after" -le $((rss_warm + RSS_SLACK_KB)) ]

# the volume and the network are still in use-able shape and go cleanly
check "the volume is removed" b volume rm "$VOL"
check "the network is removed" b network rm "$NET"
finish
