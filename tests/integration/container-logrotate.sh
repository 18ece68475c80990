#!/bin/bash
# json-file logs are bounded by default: a log rotates at 20 MB and five
# files are kept (Docker's local driver's defaults), unless berth.ini's
# [logging.json-file] or --log-opt says otherwise.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
check "busybox image" bash -c "'$BERTH' -H unix://$SOCK load -q -i $T/bb.tar > /dev/null"

# KIB kibibytes of output, in lines of 1023 'a's
spew() { echo "dd if=/dev/zero bs=1024 count=$1 2>/dev/null | tr '\\0' a | fold -w 1023"; }
log_path() { b inspect -f '{{.LogPath}}' "$1"; }
size_of() { stat -c %s "$1" 2>/dev/null || echo missing; }

# --- the default: rotation at 20 MB ------------------------------------------
id=$(b run -d --network none busybox sh -c "$(spew 22000)")
b wait "$id" > /dev/null
lp=$(log_path "$id")
lc=$(b inspect -f '{{json .HostConfig.LogConfig}}' "$id")
expect_contains "json-file by default" "$lc" '"Type":"json-file"'
s1=$(size_of "$lp.1")
if [ "$s1" != missing ] && [ "$s1" -ge $((20 * 1048576)) ] && [ "$s1" -le $((20 * 1048576 + 4096)) ]; then
        pass "with no option the log rotated at 20 MB (.1 has $s1 bytes)"
else
        fail "no rotation at 20 MB by default: $lp.1: $s1, $lp: $(size_of "$lp")"
fi
s0=$(size_of "$lp")
[ "$s0" != missing ] && [ "$s0" -lt $((20 * 1048576)) ] && pass "the current file is below 20 MB ($s0)" ||
        fail "current file: $s0"
last=$(b logs --tail 1 "$id" | head -c 5)
expect_eq "logs still reads the newest line" "$last" "aaaaa"
b rm "$id" > /dev/null

# --- berth.ini's [logging.json-file] -------------------------------------------
stop_daemon
write_config <<< $'[logging.json-file]\nmax-size = 10k\nmax-file = 3'
start_daemon
id=$(b run -d --network none busybox sh -c "$(spew 100)")
b wait "$id" > /dev/null
lp=$(log_path "$id")
check "configured max-size rotates (.1)" test -s "$lp.1"
check "configured max-file keeps three files (.2)" test -s "$lp.2"
check "configured max-file keeps no fourth (.3)" test ! -e "$lp.3"
s1=$(size_of "$lp.1")
[ "$s1" -ge 10240 ] && [ "$s1" -le $((10240 + 2048)) ] && pass "a rotated file is max-size plus at most a line ($s1)" ||
        fail "rotated file size $s1"

# --- --log-opt over berth.ini ----------------------------------------------------
id2=$(b run -d --network none --log-opt max-size=-1 busybox sh -c "$(spew 100)")
b wait "$id2" > /dev/null
lp=$(log_path "$id2")
check "--log-opt max-size=-1: no rotation" test ! -e "$lp.1"
[ "$(size_of "$lp")" -gt 100000 ] && pass "--log-opt max-size=-1: one file holds it all" || fail "size $(size_of "$lp")"

finish
