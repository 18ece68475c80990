#!/bin/bash
# Networks through the real docker CLIs (28.x and Debian's 20.10): network
# create/ls/inspect/rm/connect/disconnect/prune, run -p/-P, docker port,
# and name resolution between containers of a network made by docker.
. "$(dirname "$0")/lib.sh"
clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }

UDPECHO=$BERTH_BUILD_DIR/tests/berth-udpecho bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" web "$T/web.tar" > /dev/null
start_daemon
b load -q -i "$T/web.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get() {
        local i out
        for i in $(seq 30); do
                out=$(curl -sS -m 5 "http://127.0.0.1:$1/hostname" 2>&1) && break
                sleep 0.1
        done
        echo "$out"
}

i=0
for d in "${clis[@]}"; do
        i=$((i + 1))
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        net=dn$i
        sub=$TEST_NET_PREFIX.$((64 + 64 * i))/26 # .128/26, .192/26

        id=$(D network create --subnet "$sub" --label k=v "$net" 2>&1); rc=$?
        expect_eq "$cv: network create" "$rc" 0
        expect_eq "$cv: network create prints the ID" "${#id}" 64
        out=$(D network ls 2>&1)
        expect_contains "$cv: network ls" "$out" "$net"
        expect_contains "$cv: network ls shows bridge" "$out" "bridge"
        expect_eq "$cv: network ls -q --filter name" "$(D network ls -q --no-trunc --filter name=$net)" "$id"
        out=$(D network inspect -f '{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels.k}}' "$net" 2>&1)
        expect_eq "$cv: network inspect" "$out" "$net bridge $sub v"
        out=$(D network create "$net" 2>&1); rc=$?
        expect_eq "$cv: a duplicate network fails" "$rc" 1
        expect_contains "$cv: duplicate message" "$out" "already exists"

        D run -d --name "srv$i" --network "$net" --network-alias svc web > /dev/null
        out=$(D run --rm --network "$net" web wget -q -O - http://svc/hostname 2>&1)
        expect_eq "$cv: a container reaches another by alias" "$out" "$(D inspect -f '{{.Config.Hostname}}' "srv$i")"
        out=$(D run --rm --network "$net" web nslookup "srv$i" 2>&1)
        expect_contains "$cv: nslookup by name" "$out" "Address: $(D inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "srv$i")"

        out=$(D run --rm --network "container:srv$i" web wget -q -O - http://127.0.0.1/hostname 2>&1)
        expect_eq "$cv: --network container:X reaches X's server on 127.0.0.1" "$out" "$(D inspect -f '{{.Config.Hostname}}' "srv$i")"

        D create --name "cc$i" web > /dev/null
        D network connect --alias other "$net" "cc$i"
        expect_contains "$cv: network connect (created container)" "$(D inspect -f '{{json .NetworkSettings.Networks}}' "cc$i")" "\"$net\""
        D start "cc$i" > /dev/null
        out=$(D exec "cc$i" wget -q -O - http://svc/hostname 2>&1)
        expect_eq "$cv: the connected container reaches the network" "$out" "$(D inspect -f '{{.Config.Hostname}}' "srv$i")"
        D network disconnect "$net" "cc$i"
        expect_eq "$cv: network disconnect" "$(D inspect -f "{{index .NetworkSettings.Networks \"$net\"}}" "cc$i")" "<nil>"
        out=$(D network rm "$net" 2>&1); rc=$?
        expect_eq "$cv: network rm in use fails" "$rc" 1
        expect_contains "$cv: network rm in use message" "$out" "active endpoints"

        # -p, -P, docker port
        p=$(free_port)
        D run -d --name "pp$i" -p "$p:80" -p "127.0.0.1::80" web > /dev/null
        expect_eq "$cv: run -p answers on 127.0.0.1" "$(get "$p")" "$(D inspect -f '{{.Config.Hostname}}' "pp$i")"
        out=$(D port "pp$i" 2>&1)
        expect_contains "$cv: docker port" "$out" "80/tcp -> 0.0.0.0:$p"
        expect_contains "$cv: docker port (127.0.0.1::80)" "$out" "80/tcp -> 127.0.0.1:"
        out=$(D port "pp$i" 80/tcp 2>&1)
        expect_contains "$cv: docker port 80/tcp" "$out" "0.0.0.0:$p"
        D run -d --name "pa$i" -P web > /dev/null
        hp=$(D port "pa$i" 80/tcp | head -1)
        expect_contains "$cv: run -P publishes the EXPOSEd port" "$hp" "0.0.0.0:"
        expect_eq "$cv: run -P answers" "$(get "${hp##*:}")" "$(D inspect -f '{{.Config.Hostname}}' "pa$i")"
        out=$(D ps --format '{{.Names}} {{.Ports}}' --filter "name=pp$i")
        expect_contains "$cv: ps shows the ports" "$out" "0.0.0.0:$p->80/tcp"

        D rm -f "srv$i" "cc$i" "pp$i" "pa$i" > /dev/null
        expect_eq "$cv: network rm" "$(D network rm "$net" 2>&1)" "$net"
        D network create "pr$i" > /dev/null
        out=$(D network prune -f 2>&1)
        expect_contains "$cv: network prune" "$out" "pr$i"
done
finish
