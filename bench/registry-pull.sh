#!/bin/bash
# registry-pull.sh BUILD_DIR — pull of a ~50 MB five-layer image from a local
# registry (Debian's docker-registry on loopback) into an empty store:
# berth pull (download, verify, unpack, ready to run) against skopeo copy to
# an OCI directory (download and verify only), and podman pull if present.
# Needs root, hyperfine, docker-registry, skopeo.
set -euo pipefail
build=$(cd "${1:?usage: registry-pull.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-15}
t=$(mktemp -d /tmp/berth-bench-registry.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
        wait 2> /dev/null || true
        awk -v t="$t" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
        rm -rf "$t"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$t/reg.yml" << YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $t/store
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$t/reg.yml" > "$t/reg.log" 2>&1 &
pids+=($!)
sleep 0.5
bash "$here/../tests/lib/mkimage.sh" big "$t/big.tar" > /dev/null
skopeo copy -q --dest-tls-verify=false "docker-archive:$t/big.tar" "docker://127.0.0.1:$port/bench/big:latest"
printf '[daemon]\ndata-root = %s/data\nexec-root = %s/run\nhost = unix://%s/b.sock\nplugin-dir = %s/plugins\n' \
        "$t" "$t" "$t" "$build" > "$t/berth.ini"
"$build/bin/berthd" --config-file "$t/berth.ini" > "$t/berthd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$t/b.sock" ] && break; sleep 0.05; done
b="$build/bin/berth -H unix://$t/b.sock"
img=127.0.0.1:$port/bench/big:latest
cmds=(-n "berth pull" -p "$b rmi -f $img > /dev/null 2>&1; $b image prune -af > /dev/null 2>&1; true" "$b pull -q $img"
      -n "skopeo copy (OCI dir)" -p "rm -rf $t/oci" "skopeo copy -q --src-tls-verify=false docker://$img oci:$t/oci:big")
if command -v podman > /dev/null && [ -z "${NO_PODMAN:-}" ]; then
        pod="podman --root $t/podman --runroot $t/podman-run"
        cmds+=(-n "podman pull" -p "$pod rmi -af > /dev/null 2>&1; true" "$pod pull -q --tls-verify=false $img")
fi
hyperfine -w 2 -r "$runs" "${cmds[@]}"
