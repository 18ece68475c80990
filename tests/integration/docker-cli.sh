#!/bin/bash
# The real docker CLI (28.x and Debian's 20.10) against berthd.
. "$(dirname "$0")/lib.sh"

clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }

start_daemon
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
for d in "${clis[@]}"; do
        cv=$("$d" --version)
        out=$("$d" -H "unix://$SOCK" version 2>&1); rc=$?
        expect_eq "$cv: version exit status" "$rc" 0
        expect_contains "$cv: server is berth" "$out" "Server: berth 0.1.0"
        expect_contains "$cv: API version" "$out" "API version:      1.41 (minimum version 1.24)"
        out=$("$d" -H "unix://$SOCK" version --format '{{.Server.Version}} {{.Server.APIVersion}}' 2>&1)
        expect_eq "$cv: version --format" "$out" "0.1.0 1.41"
        out=$("$d" -H "unix://$SOCK" info 2>&1); rc=$?
        expect_eq "$cv: info exit status" "$rc" 0
        expect_contains "$cv: info storage driver" "$out" "Storage Driver: overlay2"
        expect_contains "$cv: info network drivers" "$out" "Network: bridge host none"
        expect_contains "$cv: info log drivers" "$out" "Log: json-file none"
        expect_contains "$cv: info root dir" "$out" "Docker Root Dir: $DATA"
        out=$("$d" -H "unix://$SOCK" info --format '{{.Driver}} {{.LoggingDriver}}' 2>&1)
        expect_eq "$cv: info --format" "$out" "overlay2 json-file"
done
stop_daemon
finish
