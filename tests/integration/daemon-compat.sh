#!/bin/bash
# Engine API compatibility: daemon-compat.py drives every endpoint and
# parameter of the compatibility map (docker-api.md) against a test daemon,
# classifies each as served, partial or not served, and fails when a row is
# worse than compat/baseline.json. BERTH_COMPAT_UPDATE=1 rewrites the
# baseline and the table in README.md instead.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
command -v python3 > /dev/null || skip "needs python3"

# push, pull and auth go to Debian's docker-registry on loopback when it is
# installed; otherwise the script marks those rows "not checked"
REGISTRY=
if [ -x "${REGISTRY_BIN:-/usr/bin/docker-registry}" ] && command -v skopeo > /dev/null; then
        . "$HERE/registry-lib.sh"
        P=$(free_port)
        start_registry "$T/reg" "$P" && REGISTRY=127.0.0.1:$P
fi

bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
write_config <<< $'[registry]\ntimeout = 5'
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

SOCK=$SOCK TMPDIR_TEST=$T TEST_NET_PREFIX=$TEST_NET_PREFIX REGISTRY=$REGISTRY BB_TAR=$T/bb.tar \
        python3 "$HERE/daemon-compat.py"
rc=$?
check "compatibility is not worse than compat/baseline.json" [ "$rc" = 0 ]
finish
