#!/bin/bash
# Every process berth starts in a container (run, exec, run --init and what
# berth-init starts, a health probe) begins with no signal ignored and none
# blocked, as in Docker: an ignored SIGPIPE would survive execve and make a
# `yes | head` pipeline spin forever.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

zeros=0000000000000000
sig_lines() { grep -E '^Sig(Ign|Blk):' | tr -s ' \t' ' '; }
want=$(printf 'SigBlk: %s\nSigIgn: %s' $zeros $zeros)

expect_eq "run: nothing ignored or blocked" "$(b run --rm busybox cat /proc/self/status | sig_lines)" "$want"
expect_eq "run --init: the command's process" \
        "$(b run --rm --init busybox cat /proc/self/status | sig_lines)" "$want"
expect_eq "run --init: berth-init itself blocks what it forwards, ignores nothing" \
        "$(b run --rm --init busybox cat /proc/1/status | grep '^SigIgn:' | tr -s ' \t' ' ')" "SigIgn: $zeros"

# "; true": busybox sh would exec a lone command itself, with SIGQUIT
# ignored as the shell has it
b run -d --name sig --health-cmd 'cat /proc/self/status > /tmp/probe-status; true' \
        --health-interval 200ms busybox sleep 100 > /dev/null
expect_eq "exec: nothing ignored or blocked" "$(b exec sig cat /proc/self/status | sig_lines)" "$want"
expect_eq "exec of pid 1's status: the container's first process" \
        "$(b exec sig cat /proc/1/status | sig_lines)" "$want"
for _ in $(seq 50); do b exec sig test -s /tmp/probe-status 2> /dev/null && break; sleep 0.2; done
expect_eq "health probe: nothing ignored or blocked" "$(b exec sig cat /tmp/probe-status | sig_lines)" "$want"

out=$(timeout 20 "$BERTH" -H "unix://$SOCK" run --rm busybox sh -c 'yes | head -c 8000000 | wc -c'); rc=$?
expect_eq "yes | head ends: SIGPIPE kills yes" "$rc" 0
expect_eq "yes | head passes 8000000 bytes" "$(tr -d ' ' <<< "$out")" 8000000
# busybox's yes stops at a write error; a shell loop does not: with SIGPIPE
# ignored it would write into the closed pipe forever
out=$(timeout 20 "$BERTH" -H "unix://$SOCK" run --rm busybox sh -c 'while :; do echo y; done | head -c 1000 | wc -c'); rc=$?
expect_eq "a shell loop into a closed pipe ends" "$rc" 0
expect_eq "the loop's first 1000 bytes" "$(tr -d ' ' <<< "$out")" 1000
out=$(timeout 20 "$BERTH" -H "unix://$SOCK" exec sig sh -c 'yes | head -c 8000000 | wc -c'); rc=$?
expect_eq "exec: yes | head ends" "$rc" 0
expect_eq "exec: yes | head passes 8000000 bytes" "$(tr -d ' ' <<< "$out")" 8000000
finish
