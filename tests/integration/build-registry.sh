#!/bin/bash
# The builder's pulls: FROM an image that is not local is pulled from its
# registry (Debian's docker-registry on loopback, basic auth), with the
# credentials the client sends in X-Registry-Config (the docker CLI's and
# berth's stored logins); without them the build fails saying why; --pull
# pulls again an image that is local.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
command -v htpasswd > /dev/null || { echo "FAIL: htpasswd (apache2-utils) is not installed" >&2; exit 1; }
bash "$MKIMAGE" busybox "$T/bb.tar" > /dev/null
htpasswd -Bbn alice s3cret > "$T/htpasswd"
P=$(free_port)
R=127.0.0.1:$P
REG_HTPASSWD=$T/htpasswd start_registry "$T/basic" "$P" || exit 1
skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "docker-archive:$T/bb.tar" "docker://$R/private/bb:latest"
write_config <<< $'[registry]\ntimeout = 5'
start_daemon
CFG=$T/client
bc() { "$BERTH" -H "unix://$SOCK" --config "$CFG" "$@"; }
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
d() { DOCKER_BUILDKIT=0 /usr/bin/docker -H "unix://$SOCK" "$@"; }

C=$T/ctx; mkdir -p "$C"
printf 'FROM %s/private/bb\nRUN echo built > /built\n' "$R" > "$C/Dockerfile"
out=$(bc build -t frompriv "$C" 2>&1)
check "a build FROM a private image without credentials fails" [ $? -ne 0 ]
expect_contains "and says the registry refused" "$out" "unauthorized"

printf 's3cret\n' | bc login -u alice --password-stdin "$R" > /dev/null 2>&1
out=$(bc build -t frompriv "$C" 2>&1)
check "berth build sends its stored credentials (X-Registry-Config)" [ $? -eq 0 ] || echo "$out" >&2
expect_contains "the pull is in the stream" "$out" "Pulling from private/bb"
expect_eq "the built image runs" "$(bc run --rm --pull never --network none frompriv cat /built)" "built"

bc rmi frompriv "$R/private/bb" > /dev/null
printf 's3cret\n' | /usr/bin/docker --config "$DOCKER_CONFIG" login -u alice --password-stdin "$R" > /dev/null 2>&1
out=$(d build -t frompriv2 "$C" 2>&1)
check "the docker CLI's credentials reach the pull too" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "its image runs" "$(bc run --rm --pull never --network none frompriv2 cat /built)" "built"

# --pull: the registry's image, though a local one has the name
bash "$MKIMAGE" volume "$T/vol.tar" "$R/private/bb:latest" > /dev/null
bc load -q -i "$T/vol.tar" > /dev/null
printf 'FROM %s/private/bb\nRUN test -d /data && echo local > /which || echo registry > /which\n' "$R" > "$C/Dockerfile"
d build -q -t which "$C" > /dev/null 2>&1
expect_eq "without --pull the local image is the base" "$(bc run --rm --pull never --network none which cat /which)" "local"
d build -q --pull -t which "$C" > /dev/null 2>&1
expect_eq "with --pull the registry's is" "$(bc run --rm --pull never --network none which cat /which)" "registry"
finish
