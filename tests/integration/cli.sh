#!/bin/bash
# The berth CLI: version, info, help, flag errors, and the embedded default
# (no daemon answering: berth starts berthd itself and goes on).
. "$(dirname "$0")/lib.sh"

out=$("$BERTH" --help); rc=$?
expect_eq "--help exit status" "$rc" 0
expect_contains "--help usage line" "$out" "Usage:  berth [OPTIONS] COMMAND"
expect_contains "--help lists info" "$out" "info        Display system-wide information"
expect_contains "--help lists global -H" "$out" "-H, --host string"
out=$("$BERTH" version --help)
expect_contains "version --help" "$out" "Usage:  berth version [OPTIONS]"
expect_contains "version --help lists --format" "$out" "-f, --format string"
out=$("$BERTH" help info)
expect_contains "help info" "$out" "Usage:  berth info [OPTIONS]"
out=$("$BERTH" system info --help)
expect_contains "system info --help" "$out" "Usage:  berth system info [OPTIONS]"
out=$("$BERTH" version --bogus 2>&1); rc=$?
expect_eq "unknown flag exit status" "$rc" 125
expect_contains "unknown flag message" "$out" "unknown flag: --bogus"
expect_contains "unknown flag hint" "$out" "See 'berth version --help'."
out=$("$BERTH" frob 2>&1); rc=$?
expect_eq "unknown command exit status" "$rc" 1
expect_contains "unknown command message" "$out" "'frob' is not a berth command."
out=$("$BERTH" info extra 2>&1); rc=$?
expect_eq "extra argument exit status" "$rc" 125
expect_contains "extra argument message" "$out" "\"berth info\" requires no arguments."
out=$("$BERTH" -v)
expect_contains "berth -v" "$out" "berth version 0.1.0"

# An explicit host with nothing behind it is an error, never an auto-start.
out=$("$BERTH" -H "unix://$T/nothing.sock" info 2>&1); rc=$?
expect_eq "explicit dead host exit status" "$rc" 1
expect_contains "explicit dead host message" "$out" "Cannot connect to the berth daemon at unix://$T/nothing.sock. Is the berth daemon running?"
out=$(BERTH_HOST="unix://$T/nothing.sock" "$BERTH" version 2>&1); rc=$?
expect_eq "BERTH_HOST dead host exit status" "$rc" 1
expect_contains "BERTH_HOST is honoured" "$out" "unix://$T/nothing.sock"
check "no daemon was started for an explicit host" test ! -e "$T/nothing.sock"

# The embedded default: the configuration names our private socket; nothing
# answers there; berth starts berthd (found next to itself) and goes on.
export BERTH_CONFIG_FILE=$CONF
out=$("$BERTH" info 2>&1); rc=$?
expect_eq "auto-start: info exit status" "$rc" 0
expect_contains "auto-start: info shows the drivers" "$out" "storage  overlay2"
expect_contains "auto-start: info shows our data root" "$out" "Berth Root Dir: $DATA"
check "auto-start: daemon socket exists" test -S "$SOCK"
check "auto-start: daemon logs to the exec root" test -s "$RUN/berthd.log"
pid=$(cat "$RUN/berthd.pid")
check "auto-start: daemon is running" kill -0 "$pid"
out=$("$BERTH" version --format '{{.Server.Version}}')
expect_eq "second command reuses the daemon" "$out" "0.1.0"
expect_eq "same daemon pid" "$(cat "$RUN/berthd.pid")" "$pid"
out=$("$BERTH" -H "unix://$SOCK" info --format '{{json .Plugins.Volume}}')
expect_eq "info --format json" "$out" '["local"]'
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
check "auto-started daemon stops on SIGTERM" bash -c "! kill -0 $pid 2>/dev/null"
check "auto-started daemon removed its socket" test ! -e "$SOCK"

# An auto-start that fails (a bad config) is reported with the daemon's log.
write_config <<< $'[storage]\ndriver = nosuch'
out=$("$BERTH" info 2>&1); rc=$?
expect_eq "failed auto-start exit status" "$rc" 1
expect_contains "failed auto-start reports berthd's error" "$out" "storage-nosuch.so' is missing"
unset BERTH_CONFIG_FILE
# the CLI stays light: every command pays for the libraries it loads
libs=$(ldd "$BERTH")
for l in libcurl libarchive libcrypto libssl libmicrohttpd libseccomp; do
        expect_not_contains "berth does not load $l" "$libs" "$l"
done
finish
