#!/bin/bash
# cmake --install lays out programs, plugins, SDK headers, berth-sdk.pc and
# berth.ini; the SDK's example driver builds out of tree with pkg-config,
# passes its own test against the SDK's mock host, and berthd loads it and
# enforces it.
. "$(dirname "$0")/lib.sh"

STAGE=$T/stage
out=$(DESTDIR=$STAGE cmake --install "$BERTH_BUILD_DIR" 2>&1); rc=$?
expect_eq "cmake --install exit status" "$rc" 0
prefix=$(grep -m1 '^CMAKE_INSTALL_PREFIX:' "$BERTH_BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
libdir=$(grep -m1 '^CMAKE_INSTALL_LIBDIR:' "$BERTH_BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
confdir=$(grep -m1 '^BERTH_CONFDIR:' "$BERTH_BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
check "berth in bin" test -x "$STAGE$prefix/bin/berth"
check "berthd in sbin" test -x "$STAGE$prefix/sbin/berthd"
check "berth-shim in sbin" test -x "$STAGE$prefix/sbin/berth-shim"
if [ -x "$BERTH_BUILD_DIR/bin/berth-shim-dynamic" ]; then # the shim is static
        libexecdir=$(grep -m1 '^CMAKE_INSTALL_LIBEXECDIR:' "$BERTH_BUILD_DIR/CMakeCache.txt" | cut -d= -f2)
        check "berth-shim-dynamic, for plugin logging drivers, in libexec/berth" \
                test -x "$STAGE$prefix/$libexecdir/berth/berth-shim-dynamic"
        check "the installed berth-shim is static" \
                bash -c "file -L '$STAGE$prefix/sbin/berth-shim' | grep -q 'statically linked'"
fi
for p in storage-overlay2 storage-vfs net-bridge net-host net-none volume-local log-jsonfile log-none; do
        check "plugin $p installed" test -f "$STAGE$prefix/$libdir/berth/plugins/$p.so"
done
check "SDK header installed" test -f "$STAGE$prefix/include/berth/plugin.h"
check "SDK mock host installed" test -f "$STAGE$prefix/include/berth/mock-host.h"
check "berth-sdk.pc installed" test -f "$STAGE$prefix/$libdir/pkgconfig/berth-sdk.pc"
check "berth.ini installed" cmp "$STAGE$confdir/berth.ini" "$BERTH_SOURCE_DIR/conf/berth.ini"
check "example installed" test -f "$STAGE$prefix/share/berth-sdk/example/auth-readonly.c"

export PKG_CONFIG_PATH=$STAGE$prefix/$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE
cflags=$(pkg-config --cflags berth-sdk | xargs)
expect_eq "pkg-config --cflags" "$cflags" "-I$STAGE$prefix/include"
cp -r "$STAGE$prefix/share/berth-sdk/example" "$T/ex"
out=$(make -C "$T/ex" test 2>&1); rc=$?
expect_eq "example's own test (mock host) exit status" "$rc" 0
expect_contains "example's own test ran" "$out" "auth-readonly: 5 passed, 0 failed"
out=$(make -C "$T/ex" auth-readonly.so 2>&1); rc=$?
expect_eq "example driver builds out of tree" "$rc" 0

P=$T/plugins; mkdir -p "$P"; cp "$PLUGINS"/*.so "$T/ex/auth-readonly.so" "$P"/
write_config <<< $'[auth]\ndrivers = readonly\n[auth.readonly]\nwriters = 4242'
sed -i "s|^plugin-dir = .*|plugin-dir = $P|" "$CONF"
start_daemon
api GET /v1.41/info
expect_eq "reads are allowed" "$API_STATUS" 200
expect_eq "auth driver listed" "$(jq -r '.Plugins.Authorization|join(",")' <<<"$API_BODY")" "readonly"
api POST /v1.41/containers/create -H 'Content-Type: application/json' -d '{}'
expect_eq "writes are refused with 403" "$API_STATUS" 403
expect_eq "denial names the plugin and reason" "$(jq -r .message <<<"$API_BODY")" \
        "authorization denied by plugin readonly: uid 0 may only read (POST /v1.41/containers/create refused)"
stop_daemon
finish
