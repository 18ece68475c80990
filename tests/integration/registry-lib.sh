# registry-lib.sh — Debian's docker-registry (distribution) for the registry
# tests: started on 127.0.0.1 with a config of the test's own, its storage in
# the test's temp dir; stopped by the EXIT trap. Source after lib.sh.
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
[ -x "$REGISTRY_BIN" ] || { echo "FAIL: $REGISTRY_BIN (docker-registry) is not installed" >&2; exit 1; }
command -v skopeo > /dev/null || { echo "FAIL: skopeo is not installed" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MKIMAGE=$HERE/../lib/mkimage.sh
FAKE=$HERE/registry-fake.py
# start_registry DIR PORT: options through REG_HTPASSWD, REG_TLS_CERT/KEY,
# REG_TOKEN_REALM/SERVICE/ISSUER/ROOTCERT. Sets REG_PID.
start_registry() {
        local dir=$1 port=$2
        mkdir -p "$dir/store"
        {
                printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
                printf 'storage:\n  filesystem:\n    rootdirectory: %s/store\n  delete:\n    enabled: true\n' "$dir"
                printf 'http:\n  addr: 127.0.0.1:%s\n  secret: berth-test\n' "$port"
                if [ -n "${REG_TLS_CERT:-}" ]; then
                        printf '  tls:\n    certificate: %s\n    key: %s\n' "$REG_TLS_CERT" "$REG_TLS_KEY"
                fi
                if [ -n "${REG_HTPASSWD:-}" ]; then
                        printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$REG_HTPASSWD"
                elif [ -n "${REG_TOKEN_REALM:-}" ]; then
                        printf 'auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' \
                                "$REG_TOKEN_REALM" "$REG_TOKEN_SERVICE" "$REG_TOKEN_ISSUER" "$REG_TOKEN_ROOTCERT"
                fi
        } > "$dir/config.yml"
        "$REGISTRY_BIN" serve "$dir/config.yml" > "$dir/log" 2>&1 &
        REG_PID=$!
        BG_PIDS+=("$REG_PID")
        wait_port "$port" || { cat "$dir/log" >&2; return 1; }
}

# skopeo_put ARCHIVE DEST(host:port/repo:tag): an image into a registry by an
# independent client
skopeo_put() {
        skopeo copy -q --dest-tls-verify=false "docker-archive:$1" "docker://$2"
}

# the image ID a docker-archive's config has (sha256:<hex>)
archive_id() {
        python3 - "$1" << 'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
m = next(n for n in t.getnames() if n.lstrip("./") == "manifest.json")
c = json.load(t.extractfile(m))[0]["Config"]
print("sha256:" + c.split("/")[-1].split(".")[0])
PY
}
