#!/bin/bash
# berthd refuses to start, with a clear message naming the cause, on a bad
# configuration or plugin; a second berthd on the same data root refuses.
. "$(dirname "$0")/lib.sh"

# run_refused DESCRIPTION NEEDLE [berthd args]: berthd must exit non-zero
# (quickly) and print NEEDLE, leaving no socket behind.
run_refused() {
        local d=$1 needle=$2 out rc; shift 2
        out=$(timeout 20 "$BERTHD" --config-file "$CONF" "$@" 2>&1); rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then pass "$d: exit $rc"; else fail "$d: exit $rc"; fi
        expect_contains "$d: message" "$out" "$needle"
        check "$d: no socket left" test ! -e "$SOCK"
}

write_config <<< $'[storage]\ndriver = nosuch'
run_refused "missing storage plugin" "plugin file '$PLUGINS/storage-nosuch.so' is missing"

# A corrupt plugin file in a private plugin directory.
P=$T/plugins; mkdir -p "$P"; cp "$PLUGINS"/*.so "$P"/
head -c 4096 /dev/urandom > "$P/storage-overlay2.so"
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
sed -i 's/^driver = nosuch$/driver = overlay2/' "$CONF"
run_refused "corrupt plugin" "cannot load plugin '$P/storage-overlay2.so'"

# A plugin of the wrong kind under a storage name.
cp "$PLUGINS/net-bridge.so" "$P/storage-overlay2.so"
out=$(timeout 20 "$BERTHD" --config-file "$CONF" 2>&1)
expect_contains "plugin of the wrong kind" "$out" "storage-overlay2.so' is a network driver, not a storage driver"
cp "$PLUGINS/log-none.so" "$P/storage-none.so"
write_config <<< $'[storage]\ndriver = none'
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
run_refused "logging plugin as storage" "is a logging driver, not a storage driver"

# A missing logging plugin named in the list.
write_config <<< $'[logging]\ndrivers = json-file journald'
run_refused "missing logging plugin" "$PLUGINS/log-journald.so' is missing"

# Invalid values: error with FILE:LINE.
write_config <<< $'[daemon]\nlog-level = loud'
run_refused "invalid log-level" "$CONF:7: invalid value 'loud' for 'log-level'"
write_config <<< $'[network]\ndefault = macvlan'
run_refused "default network not loaded" "[network] default = macvlan is not in drivers"
run_refused "relative --data-root flag" "--data-root 'rel/dir': must be an absolute path" --data-root rel/dir
run_refused "explicit config file missing" "cannot read config file '$T/none.ini'" --config-file "$T/none.ini"
out=$("$BERTHD" --frobnicate 2>&1); rc=$?
expect_eq "unknown flag exit status" "$rc" 125
expect_contains "unknown flag message" "$out" "unknown flag: --frobnicate"

# Unknown keys and sections warn with FILE:LINE and the daemon starts.
write_config <<< $'[daemon]\ncolour = red\n[frobnicator]\nx = 1\n[logging.json-file]\nmax-size = 10m\nwibble = 3'
start_daemon
log=$(cat "$DAEMON_LOG")
expect_contains "unknown key warning" "$log" "$CONF:7: unknown key 'colour' in [daemon], ignoring"
expect_contains "unknown section warning" "$log" "$CONF:9: unknown section [frobnicator], ignoring"
expect_contains "unknown driver option warning" "$log" "$CONF:12: unknown key 'wibble' in [logging.json-file]"
expect_not_contains "known driver option not warned" "$log" "'max-size'"

# A second daemon on the same data root refuses and leaves the first alone.
out=$(timeout 20 "$BERTHD" --config-file "$CONF" -H "unix://$T/other.sock" --exec-root "$T/run2" 2>&1); rc=$?
check "second berthd on the same data root exits non-zero" test $rc -ne 0 -a $rc -ne 124
expect_contains "second berthd message" "$out" "another berthd (pid $DAEMON_PID) is already using data root '$DATA'"
check "second berthd left no socket" test ! -e "$T/other.sock"
# A second daemon on another data root but the same socket refuses too
# (with a bridge and subnet of its own: the first's would be refused first).
sed "s|^bridge = .*|bridge = bs$$|; s|^subnet = .*|subnet = $TEST_NET_PREFIX.192/26|" "$CONF" > "$T/conf2.ini"
out=$(timeout 20 "$BERTHD" --config-file "$T/conf2.ini" --data-root "$T/data2" --exec-root "$T/run2" 2>&1); rc=$?
check "second berthd on the same socket exits non-zero" test $rc -ne 0 -a $rc -ne 124
expect_contains "socket in use message" "$out" "socket '$SOCK' is in use by another daemon"
check "first daemon still answers" curl -sf --unix-socket "$SOCK" -o /dev/null http://localhost/_ping
stop_daemon
expect_eq "first daemon exit status" "$DAEMON_STATUS" 0

# A stale socket file (a crashed daemon) does not stop a new start.
write_config < /dev/null
start_daemon
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=
check "socket left by a killed daemon" test -S "$SOCK"
start_daemon
check "restart after kill -9 answers" curl -sf --unix-socket "$SOCK" -o /dev/null http://localhost/_ping
stop_daemon
finish
