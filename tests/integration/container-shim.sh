#!/bin/bash
# The shim of a running container: berth-shim is static (no libc.so and no
# dynamic loader in its maps) with the json-file and none logging drivers
# built in; a logging driver that is a plugin runs under berth-shim-dynamic,
# which dlopens it. Logs (with rotation and compression), exec, attach, wait
# and the exit code work after the shim has given the runtime's pages back.
# Each shim's VmRSS, Pss and Private are printed, not asserted: weight is
# measured (bench/shim-memory), not a pass/fail line.
. "$(dirname "$0")/lib.sh"
[ -x "$BERTH_BUILD_DIR/bin/berth-shim-dynamic" ] ||
        skip "berth-shim is built dynamic here (sanitizer build, or no static libraries)"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
P=$T/plugins
mkdir -p "$P"
cp "$PLUGINS"/*.so "$BERTH_TEST_PLUGIN_DIR/log-testlines.so" "$P"/
write_config <<< $'[logging]\ndrivers = json-file none test-lines'
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }

shim_of() { cat "$RUN/containers/$1/shim.pid" 2> /dev/null || find "$RUN" -path "*$1*" -name shim.pid -exec cat {} \;; }
mem() { # LABEL PID
        local rss pss priv
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$2/status")
        pss=$(awk '/^Pss:/ {print $2}' "/proc/$2/smaps_rollup")
        priv=$(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$2/smaps_rollup")
        printf '# shim %-22s VmRSS %5s kB  Pss %5s kB  Private %5s kB\n' "$1:" "$rss" "$pss" "$priv"
}
# argv[0] of a shim: the file it runs a sealed copy of
argv0() { tr '\0' '\n' < "/proc/$1/cmdline" | head -1; }
# static: its executable is (the sealed copy of) berth-shim, and no shared
# object is mapped
is_static_shim() { # PID
        [ "$(readlink "/proc/$1/exe")" = "/memfd:berth-shim (deleted)" ] &&
                [ "$(argv0 "$1")" = "$(readlink -f "$BERTH_BUILD_DIR/bin/berth-shim")" ] &&
                ! grep -qE '\.so(\.[0-9]+)*$' "/proc/$1/maps"
}

# an idle container, json-file
id=$(tb run -d --network none busybox sh -c 'echo started; sleep 1000')
pid=$(shim_of "$id")
check "the shim of a json-file container runs" test -n "$pid"
check "it is the static berth-shim: no libc.so, no ld.so mapped" is_static_shim "$pid"
sleep 0.3
mem "idle" "$pid"
expect_eq "its log (built-in json-file)" "$(tb logs "$id")" "started"

# exec after the shim dropped the runtime's pages, twice, and with a TTY
expect_eq "exec" "$(tb exec "$id" sh -c 'echo in; exit 0')" "in"
tb exec "$id" sh -c 'exit 7'
expect_eq "exec's exit code" "$?" 7
out=$(tb exec -t "$id" tty 2>&1 | tr -d '\r')
expect_contains "exec -t gets a terminal" "$out" "/dev/pts/"
mem "after 3 execs" "$pid"
check "still static after the execs" is_static_shim "$pid"

# attach, then the exit code through wait
id2=$(tb run -d -i --network none busybox sh -c 'read x; echo "got $x"; exit 3')
out=$(echo hello | tb attach "$id2"); rc=$?
expect_eq "attach: stdin to the container, its output back" "$out" "got hello"
expect_eq "attach returns the exit code" "$rc" 3
expect_eq "wait" "$(tb wait "$id2")" 3

# 1000 log lines, with rotation and compression (the writer's thread) by the
# built-in json-file
id3=$(tb run -d --network none --log-opt max-size=8k --log-opt max-file=3 --log-opt compress=true \
        busybox sh -c 'i=0; while [ $i -lt 1000 ]; do echo "log line $i"; i=$((i+1)); done; sleep 1000')
pid=$(shim_of "$id3")
for _ in $(seq 50); do [ "$(tb logs --tail 1 "$id3")" = "log line 999" ] && break; sleep 0.1; done
expect_eq "the last of 1000 lines is logged" "$(tb logs --tail 1 "$id3")" "log line 999"
ls "$DATA/containers/$id3"/*-json.log.1.gz > /dev/null 2>&1 ||
        sleep 1 # the compression runs in the writer's thread
check "rotated and compressed (.1.gz)" ls "$DATA/containers/$id3/$id3-json.log.1.gz"
check "the shim is still static" is_static_shim "$pid"
mem "after 1000 log lines" "$pid"

# a TTY container
id4=$(tb run -d -t --network none busybox sh -c 'tty; sleep 1000')
pid=$(shim_of "$id4")
check "a TTY container's shim is static" is_static_shim "$pid"
sleep 0.3
mem "TTY" "$pid"
out=$(tb logs "$id4" | tr -d '\r')
expect_contains "its log has the terminal's output" "$out" "/dev/pts/"

# --log-driver none: built in too
id5=$(tb run -d --network none --log-driver none busybox sleep 1000)
check "--log-driver none: the static shim" is_static_shim "$(shim_of "$id5")"

# a logging driver that is a plugin: berth-shim hands over to
# berth-shim-dynamic, which dlopens it
id6=$(tb run -d --network none --log-driver test-lines busybox sh -c 'echo out; echo err >&2; sleep 1000')
pid=$(shim_of "$id6")
expect_eq "a plugin logging driver: berth-shim-dynamic runs" "$(argv0 "$pid")" \
        "$(readlink -f "$BERTH_BUILD_DIR/bin/berth-shim-dynamic")"
expect_eq "... from a sealed copy" "$(readlink "/proc/$pid/exe")" "/memfd:berth-shim-dynamic (deleted)"
check "... and has the plugin mapped" grep -q "log-testlines.so" "/proc/$pid/maps"
f=$DATA/containers/$id6/test-lines.log
for _ in $(seq 50); do [ "$(wc -l < "$f" 2> /dev/null)" = 2 ] && break; sleep 0.1; done
expect_eq "the plugin got the container's output" "$(sort "$f" 2> /dev/null | xargs)" "stderr err stdout out"
expect_eq "exec under the dynamic shim" "$(tb exec "$id6" echo ok)" "ok"
mem "plugin (dynamic)" "$pid"
tb rm -f "$id6" > /dev/null
check "... and its container is removed" test ! -e "$RUN/containers/$id6"

# run --rm and the exit code with the static shim
tb run --rm --network none busybox sh -c 'exit 5'
expect_eq "run --rm: the container's exit code" "$?" 5

tb rm -f "$id" "$id2" "$id3" "$id4" "$id5" > /dev/null
finish
