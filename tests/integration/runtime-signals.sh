#!/bin/bash
# berth-runtime run: the container's process starts with no signal ignored
# and none blocked, even when its caller ignores SIGPIPE (as berthd and the
# shim do), with and without --init.
. "$(dirname "$0")/runtime-lib.sh"

zeros=0000000000000000
mkbundle st "c['process']['args'] = ['cat', '/proc/self/status']"
for init in "" --init; do
        out=$(bash -c 'trap "" PIPE; exec "$@"' _ "$RT_BIN" --root "$STATE" run $init -b "$T/st" "st${init:+i}" < /dev/null |
                grep -E '^Sig(Ign|Blk):' | tr -s ' \t' ' ')
        [ "$out" = "$(printf 'SigBlk: %s\nSigIgn: %s' $zeros $zeros)" ] ||
                fail "run $init: signals of the container's process: $out"
        ok "run $init: nothing ignored or blocked"
done
mkbundle yes "c['process']['args'] = ['sh', '-c', 'yes | head -c 8000000 | wc -c']"
out=$(bash -c 'trap "" PIPE; exec timeout 20 "$@"' _ "$RT_BIN" --root "$STATE" run -b "$T/yes" y1 < /dev/null) ||
        fail "yes | head did not end"
[ "$(tr -d ' ' <<< "$out")" = 8000000 ] || fail "yes | head: $out"
ok "yes | head ends"
# busybox's yes stops at a write error; a shell loop would not
mkbundle loop "c['process']['args'] = ['sh', '-c', 'while :; do echo y; done | head -c 1000 | wc -c']"
out=$(bash -c 'trap "" PIPE; exec timeout 20 "$@"' _ "$RT_BIN" --root "$STATE" run -b "$T/loop" l1 < /dev/null) ||
        fail "a shell loop into a closed pipe did not end"
[ "$(tr -d ' ' <<< "$out")" = 1000 ] || fail "shell loop | head: $out"
ok "a shell loop into a closed pipe ends"
assert_clean
