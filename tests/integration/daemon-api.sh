#!/bin/bash
# berthd serves the Engine API handshake: _ping, version, info, errors,
# version prefixes; SIGTERM leaves nothing behind.
. "$(dirname "$0")/lib.sh"

start_daemon
check "pid file written" test -s "$RUN/berthd.pid"
expect_eq "pid file holds the daemon's pid" "$(cat "$RUN/berthd.pid")" "$DAEMON_PID"

hdr=$(curl -sS -I --unix-socket "$SOCK" http://localhost/_ping)
expect_contains "HEAD /_ping is 200" "$hdr" "HTTP/1.1 200"
expect_contains "HEAD /_ping Api-Version" "$hdr" "Api-Version: 1.41"
expect_contains "HEAD /_ping Builder-Version 1" "$hdr" "Builder-Version: 1"
expect_contains "HEAD /_ping Ostype" "$hdr" "Ostype: linux"
expect_contains "HEAD /_ping Content-Length 0" "$hdr" "Content-Length: 0"
expect_contains "HEAD /_ping text/plain" "$hdr" "Content-Type: text/plain; charset=utf-8"
api GET /_ping; body=$API_BODY
expect_eq "GET /_ping body" "$body" "OK"
api GET /v1.41/_ping; body=$API_BODY
expect_eq "GET /v1.41/_ping body" "$body" "OK"

api GET /version; v=$API_BODY
expect_eq "GET /version status" "$API_STATUS" 200
expect_eq "ApiVersion" "$(jq -r .ApiVersion <<<"$v")" "1.41"
expect_eq "MinAPIVersion" "$(jq -r .MinAPIVersion <<<"$v")" "1.24"
expect_eq "Engine component" "$(jq -r '.Components[0].Name' <<<"$v")" "Engine"
expect_eq "KernelVersion" "$(jq -r .KernelVersion <<<"$v")" "$(uname -r)"
api GET /v1.30/version; v2=$API_BODY
expect_eq "older prefix accepted" "$API_STATUS" 200

api GET /v1.50/version; e=$API_BODY
expect_eq "too new prefix is 400" "$API_STATUS" 400
expect_contains "too new message" "$e" "client version 1.50 is too new. Maximum supported API version is 1.41"
api GET /v1.12/version; e=$API_BODY
expect_eq "too old prefix is 400" "$API_STATUS" 400
expect_contains "too old message" "$e" "Minimum supported API version is 1.24"
api GET /v1.41/no/such/route; e=$API_BODY
expect_eq "unknown route is 404" "$API_STATUS" 404
expect_eq "unknown route JSON" "$(jq -r .message <<<"$e")" "page not found"
ct=$(curl -sS -o /dev/null -w '%{content_type}' --unix-socket "$SOCK" http://localhost/nope)
expect_eq "error Content-Type exactly application/json" "$ct" "application/json"
api POST /v1.41/info; e=$API_BODY
expect_eq "wrong method is 405" "$API_STATUS" 405

api GET /v1.41/info; i=$API_BODY
expect_eq "GET /info status" "$API_STATUS" 200
expect_eq "info Driver" "$(jq -r .Driver <<<"$i")" "overlay2"
expect_eq "info DockerRootDir" "$(jq -r .DockerRootDir <<<"$i")" "$DATA"
expect_eq "info network plugins" "$(jq -r '.Plugins.Network|join(",")' <<<"$i")" "bridge,host,none"
expect_eq "info log plugins" "$(jq -r '.Plugins.Log|join(",")' <<<"$i")" "json-file,none"
expect_eq "info swarm inactive" "$(jq -r .Swarm.LocalNodeState <<<"$i")" "inactive"
expect_eq "info NCPU" "$(jq -r .NCPU <<<"$i")" "$(nproc)"
expect_eq "info lists 7 loaded drivers" "$(jq -r '.BerthDrivers|length' <<<"$i")" 7
expect_contains "info names each plugin file" "$(jq -r '.BerthDrivers[].Path' <<<"$i")" "$PLUGINS/log-jsonfile.so"
expect_eq "info ID is stable 64-hex" "$(jq -r .ID <<<"$i")" "$(cat "$DATA/engine-id")"

# Several connections at once, kept alive.
out=$(curl -sS --unix-socket "$SOCK" http://localhost/_ping http://localhost/_ping http://localhost/v1.41/_ping)
expect_eq "keep-alive: three requests on one connection" "$out" "OKOKOK"

old=$DAEMON_PID
stop_daemon
expect_eq "SIGTERM exit status 0" "$DAEMON_STATUS" 0
check "no berthd process left" bash -c "! kill -0 $old 2>/dev/null"
check "socket removed" test ! -e "$SOCK"
check "pid file removed" test ! -e "$RUN/berthd.pid"
expect_contains "shutdown logged" "$(cat "$DAEMON_LOG")" "shutting down"

# A restart on the same data root keeps the engine ID.
id1=$(cat "$DATA/engine-id")
start_daemon
api GET /info
expect_eq "engine ID survives a restart" "$(jq -r .ID <<<"$API_BODY")" "$id1"
stop_daemon
finish
