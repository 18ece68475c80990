#!/bin/bash
# Swarm mode: berthd is never in a swarm and answers every swarm endpoint as
# Docker does on a node outside one (503), through the API, both docker CLIs
# and docker-py.
. "$(dirname "$0")/lib.sh"

NOT_MANAGER='This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'
NOT_IN_SWARM='This node is not part of a swarm'

start_daemon

api GET /info
expect_contains "info: Swarm.LocalNodeState is inactive" "$API_BODY" '"LocalNodeState":"inactive"'

for ep in "GET /swarm" "POST /swarm/init" "POST /swarm/join" "POST /swarm/update" \
        "GET /swarm/unlockkey" "POST /swarm/unlock" \
        "GET /nodes" "GET /nodes/n1" "DELETE /nodes/n1" "POST /nodes/n1/update" \
        "GET /services" "POST /services/create" "GET /services/s1" "DELETE /services/s1" \
        "POST /services/s1/update" "GET /services/s1/logs" \
        "GET /tasks" "GET /tasks/t1" "GET /tasks/t1/logs" \
        "GET /secrets" "POST /secrets/create" "GET /secrets/x1" "DELETE /secrets/x1" \
        "POST /secrets/x1/update" \
        "GET /configs" "POST /configs/create" "GET /configs/c1" "DELETE /configs/c1" \
        "POST /configs/c1/update" "GET /v1.41/services"; do
        set -- $ep
        api "$1" "$2"
        expect_eq "$ep: status" "$API_STATUS" 503
        m=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["message"])' "$API_BODY" 2>&1)
        expect_eq "$ep: message" "$m" "$NOT_MANAGER"
done
api POST /swarm/leave
expect_eq "POST /swarm/leave: status" "$API_STATUS" 503
m=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["message"])' "$API_BODY" 2>&1)
expect_eq "POST /swarm/leave: message" "$m" "$NOT_IN_SWARM"
api POST "/swarm/leave?force=1"
expect_eq "POST /swarm/leave?force=1: status" "$API_STATUS" 503

clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
for d in "${clis[@]}"; do
        cv=$("$d" --version)
        for cmd in "node ls" "service ls" "secret ls" "config ls"; do
                out=$("$d" -H "unix://$SOCK" $cmd 2>&1); rc=$?
                expect_eq "$cv: $cmd exit status" "$rc" 1
                expect_eq "$cv: $cmd message" "$out" "Error response from daemon: $NOT_MANAGER"
        done
        out=$("$d" -H "unix://$SOCK" swarm leave 2>&1); rc=$?
        expect_eq "$cv: swarm leave exit status" "$rc" 1
        expect_eq "$cv: swarm leave message" "$out" "Error response from daemon: $NOT_IN_SWARM"
done

out=$(python3 - "$SOCK" <<'PY' 2>&1
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
# docker-py's Swarm model takes a 503 (only) as "not in a swarm"
print("attrs", c.swarm.attrs)
for what, f in (("swarm", lambda: c.swarm.reload()), ("services", c.services.list),
                ("nodes", c.nodes.list), ("secrets", c.secrets.list)):
    try:
        f()
        print(what, "no error")
    except docker.errors.APIError as e:
        print(what, e.status_code, e.explanation)
print("leave", end=" ")
try:
    c.swarm.leave()
except docker.errors.APIError as e:
    print(e.status_code, e.explanation)
PY
)
expect_contains "docker-py: swarm.attrs is empty outside a swarm" "$out" "attrs {}"
expect_contains "docker-py: swarm.reload raises APIError 503" "$out" "swarm 503 $NOT_MANAGER"
expect_contains "docker-py: services.list raises APIError 503" "$out" "services 503 $NOT_MANAGER"
expect_contains "docker-py: nodes.list raises APIError 503" "$out" "nodes 503 $NOT_MANAGER"
expect_contains "docker-py: secrets.list raises APIError 503" "$out" "secrets 503 $NOT_MANAGER"
expect_contains "docker-py: swarm.leave raises APIError 503" "$out" "leave 503 $NOT_IN_SWARM"

stop_daemon
finish
