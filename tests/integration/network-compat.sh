#!/bin/bash
# Network details clients rely on, through the docker CLIs (28.x and 20.10)
# and the API with the bodies they send (docker-api.md §3.5, §5): IPAM
# configs with a gateway and an ip range, CheckDuplicate, Options as {},
# names Docker accepts (spaces), --mac-address, legacy --link, and the
# IPv6 requests that are refused.
. "$(dirname "$0")/lib.sh"
clis=()
for c in /usr/local/bin/docker /usr/bin/docker; do [ -x "$c" ] && clis+=("$c"); done
[ ${#clis[@]} -gt 0 ] || { echo "no docker CLI installed (apt-get install docker.io)" >&2; exit 1; }

bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" web "$T/web.tar" > /dev/null
start_daemon
b load -q -i "$T/web.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
P=$TEST_NET_PREFIX
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(eval(sys.argv[1])))" "$1"; }
post() { api POST "$1" -H 'Content-Type: application/json' -d "$2"; }

# docker-compose 1.29's body (§5) with a full IPAM config (compose's ipam:
# subnet, gateway, ip_range, aux_addresses)
post /v1.41/networks/create "{\"Name\":\"c1\",\"CheckDuplicate\":true,\"Driver\":\"bridge\",\"Options\":{},
  \"IPAM\":{\"Driver\":\"default\",\"Options\":{},\"Config\":[{\"Subnet\":\"$P.128/26\",\"IPRange\":\"$P.160/27\",
  \"Gateway\":\"$P.130\",\"AuxiliaryAddresses\":{\"host1\":\"$P.160\"}}]},\"Internal\":false,\"Attachable\":true,
  \"Labels\":{\"com.docker.compose.network\":\"c1\"}}"
expect_eq "create with CheckDuplicate, Gateway and IPRange: 201" "$API_STATUS" 201
api GET /v1.41/networks/c1
expect_eq "inspect: the IPAM config kept" "$(jq_ 'd["IPAM"]["Config"]' <<< "$API_BODY")" \
        "[{\"Subnet\": \"$P.128/26\", \"Gateway\": \"$P.130\", \"IPRange\": \"$P.160/27\", \"AuxiliaryAddresses\": {\"host1\": \"$P.160\"}}]"
expect_eq "inspect: Options is {}" "$(jq_ 'd["Options"]' <<< "$API_BODY")" "{}"
api GET /v1.41/networks
expect_eq "list: Options of every network is an object" \
        "$(jq_ 'sorted(set(type(n["Options"]).__name__ for n in d))' <<< "$API_BODY")" '["dict"]'
post /v1.41/networks/create '{"Name":"c1","CheckDuplicate":true}'
expect_eq "a duplicate with CheckDuplicate: 409" "$API_STATUS" 409
expect_contains "duplicate message" "$API_BODY" "network with name c1 already exists"
for d in "${clis[@]}"; do
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        out=$(D run --rm --network c1 web sh -c 'ip -o -4 addr show eth0; ip route' 2>&1)
        expect_contains "$cv: the address comes from IPRange (the aux address skipped)" "$out" "inet $P.161/26"
        expect_contains "$cv: the gateway is the given one" "$out" "default via $P.130"
done
out=$(/usr/local/bin/docker -H "unix://$SOCK" network rm c1 2>&1)
expect_eq "network rm c1" "$out" c1

d=${clis[0]}
D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
out=$(D network create --subnet "$P.192/26" --gateway "$P.250" --ip-range "$P.224/28" c2 2>&1)
expect_eq "CLI: network create --gateway --ip-range" "${#out}" 64
post /v1.41/networks/create "{\"Name\":\"bad\",\"IPAM\":{\"Config\":[{\"Subnet\":\"$P.128/26\",\"IPRange\":\"$P.64/28\"}]}}"
expect_eq "API: an ip range outside the subnet: 400" "$API_STATUS" 400
expect_contains "API: an ip range outside the subnet: message" "$API_BODY" "invalid ip range"
D run -d --name r1 --network c2 web > /dev/null
expect_eq "CLI: inspect IPAddress from the range" "$(D inspect -f '{{.NetworkSettings.Networks.c2.IPAddress}}' r1)" "$P.224"
expect_eq "CLI: inspect Gateway" "$(D inspect -f '{{.NetworkSettings.Networks.c2.Gateway}}' r1)" "$P.250"
D run -d --name r2 --network c2 --ip "$P.193" web > /dev/null
expect_eq "CLI: --ip outside the range but in the subnet" "$(D inspect -f '{{.NetworkSettings.Networks.c2.IPAddress}}' r2)" "$P.193"
D rm -f r1 r2 > /dev/null
D network rm c2 > /dev/null

# Names: Docker refuses only empty or blank ones
post /v1.41/networks/create "{\"Name\":\"my net\",\"CheckDuplicate\":true,\"IPAM\":{\"Config\":[{\"Subnet\":\"$P.128/26\"}]}}"
expect_eq "API: a name with a space: 201" "$API_STATUS" 201
post /v1.41/networks/create '{"Name":"  "}'
expect_eq "API: a blank name: 400" "$API_STATUS" 400
expect_contains "API: a blank name: message" "$API_BODY" "invalid name"
for d in "${clis[@]}"; do
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        expect_eq "$cv: inspect a name with a space" "$(D network inspect -f '{{.Name}}' 'my net' 2>&1)" "my net"
        out=$(D run --rm --network 'my net' web ip -o -4 addr show eth0 2>&1)
        expect_contains "$cv: run --network 'my net'" "$out" "inet $P.130/26"
done
D network create --subnet "$P.192/26" 'dn @+x' > /dev/null
expect_contains "CLI: network ls shows names with spaces" "$(D network ls --format '{{.Name}}')" "dn @+x"
expect_eq "CLI: network rm of names with spaces" "$(D network rm 'my net' 'dn @+x' 2>&1 | sort | tr '\n' ,)" "dn @+x,my net,"
# --mac-address: Config.MacAddress (API 1.41), and EndpointSettings.MacAddress.
# CLI 28 puts --mac-address in the endpoint settings, which its client
# library sends only to daemons of API 1.44 and later; 20.10 sends Config.
for d in "${clis[@]}"; do
        [ "$d" = /usr/local/bin/docker ] && continue
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        out=$(D run --rm --mac-address 02:42:ac:11:00:99 web ip link show eth0 2>&1)
        expect_contains "$cv: run --mac-address sets eth0's address" "$out" "link/ether 02:42:ac:11:00:99"
        D run -d --name m1 --mac-address 02:42:ac:11:00:98 web > /dev/null
        expect_eq "$cv: inspect NetworkSettings.MacAddress" "$(D inspect -f '{{.NetworkSettings.MacAddress}}' m1)" "02:42:ac:11:00:98"
        expect_eq "$cv: inspect Networks.bridge.MacAddress" "$(D inspect -f '{{.NetworkSettings.Networks.bridge.MacAddress}}' m1)" "02:42:ac:11:00:98"
        D restart -t 0 m1 > /dev/null
        expect_contains "$cv: the address stays after a restart" "$(D exec m1 ip link show eth0 2>&1)" "link/ether 02:42:ac:11:00:98"
        D rm -f m1 > /dev/null
        out=$(D run --rm web ip link show eth0 2>&1)
        expect_contains "$cv: without --mac-address the derived address" "$out" "link/ether 02:42:"
        expect_not_contains "$cv: without --mac-address not the old one" "$out" "02:42:ac:11:00:9"
done
post /v1.41/containers/create?name=m2 '{"Image":"web","Cmd":["sleep","60"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"MacAddress":"02:42:ac:11:00:97"}}}}'
expect_eq "API: create with EndpointSettings.MacAddress" "$API_STATUS" 201
api POST /v1.41/containers/m2/start
expect_contains "API: EndpointSettings.MacAddress on eth0" "$(b exec m2 ip link show eth0 2>&1)" "link/ether 02:42:ac:11:00:97"
b rm -f m2 > /dev/null
# Legacy links on the default bridge: /etc/hosts, the variables, inspect,
# rm --link
i=0
for d in "${clis[@]}"; do
        i=$((i + 1))
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        D run -d --name "db$i" -e SECRET=s3 web > /dev/null
        ip=$(D inspect -f '{{.NetworkSettings.IPAddress}}' "db$i")
        short=$(D inspect -f '{{.Config.Hostname}}' "db$i")
        out=$(D run --rm --link "db$i:my-db" web sh -c 'grep my-db /etc/hosts; env | sort' 2>&1)
        expect_contains "$cv: /etc/hosts has the alias, hostname and name" "$out" "$ip	my-db $short db$i"
        expect_contains "$cv: MY_DB_PORT, the lowest port" "$out" "MY_DB_PORT=udp://$ip:53"
        expect_contains "$cv: MY_DB_PORT_80_TCP" "$out" "MY_DB_PORT_80_TCP=tcp://$ip:80"
        expect_contains "$cv: MY_DB_PORT_80_TCP_ADDR" "$out" "MY_DB_PORT_80_TCP_ADDR=$ip"
        expect_contains "$cv: MY_DB_PORT_80_TCP_PORT" "$out" "MY_DB_PORT_80_TCP_PORT=80"
        expect_contains "$cv: MY_DB_PORT_80_TCP_PROTO" "$out" "MY_DB_PORT_80_TCP_PROTO=tcp"
        expect_contains "$cv: MY_DB_PORT_53_UDP_PROTO" "$out" "MY_DB_PORT_53_UDP_PROTO=udp"
        expect_contains "$cv: MY_DB_ENV_SECRET" "$out" "MY_DB_ENV_SECRET=s3"
        expect_contains "$cv: MY_DB_NAME" "$out" "MY_DB_NAME=/"
        D create --name "app$i" --link "db$i" web > /dev/null
        expect_eq "$cv: inspect HostConfig.Links" "$(D inspect -f '{{json .HostConfig.Links}}' "app$i")" "[\"/db$i:/app$i/db$i\"]"
        D start "app$i" > /dev/null
        expect_contains "$cv: a link without alias: the name" "$(D exec "app$i" cat /etc/hosts)" "$ip	db$i $short"
        expect_contains "$cv: DB${i}_NAME" "$(D exec "app$i" env)" "DB${i}_NAME=/app$i/db$i"
        out=$(D rm --link "/app$i/db$i" 2>&1); rc=$?
        expect_eq "$cv: rm --link ($out)" "$rc" 0
        expect_eq "$cv: the link is gone from inspect" "$(D inspect -f '{{json .HostConfig.Links}}' "app$i")" "[]"
        expect_eq "$cv: the containers stay" "$(D ps -q --filter "name=app$i" | wc -l)" 1
        out=$(D run --rm --link nosuch:x web true 2>&1); rc=$?
        expect_eq "$cv: a link to a missing container fails" "$rc" 125
        expect_contains "$cv: a link to a missing container: message" "$out" "could not get container for nosuch"
        D rm -f "db$i" "app$i" > /dev/null
done
# IPv6 (network-ipv6.sh has the rest): what is refused, with a message
# that says why (no network or container made)
V6=fd$(printf '%02x' $(($$ & 255))):$(printf '%x' $(($$ >> 8 & 65535)))::/64
post /v1.41/networks/create '{"Name":"v6a","CheckDuplicate":true,"EnableIPv6":true}'
expect_eq "API: EnableIPv6 without an IPv6 subnet: 400" "$API_STATUS" 400
expect_contains "API: EnableIPv6 without an IPv6 subnet: message" "$API_BODY" "no IPv6 subnet"
for d in "${clis[@]}"; do
        cv=$("$d" --version | cut -d, -f1)
        D() { timeout -s KILL 60 "$d" -H "unix://$SOCK" "$@"; }
        out=$(D network create --ipv6 v6b 2>&1); rc=$?
        expect_eq "$cv: network create --ipv6 without a subnet fails" "$rc" 1
        expect_contains "$cv: network create --ipv6 without a subnet: message" "$out" "no IPv6 subnet"
done
post /v1.41/networks/create "{\"Name\":\"v6c\",\"IPAM\":{\"Config\":[{\"Subnet\":\"$V6\"}]}}"
expect_eq "API: an IPv6 subnet without EnableIPv6: 400" "$API_STATUS" 400
expect_contains "API: an IPv6 subnet without EnableIPv6: message" "$API_BODY" "EnableIPv6"
post /v1.41/containers/create?name=v6d '{"Image":"web","NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":{"IPv6Address":"fd00::5"}}}}}'
expect_eq "API: --ip6 on a network without IPv6: 400" "$API_STATUS" 400
expect_contains "API: --ip6 on a network without IPv6: message" "$API_BODY" "has no IPv6 subnet"
expect_eq "nothing was made" "$(b network ls -q --filter name=v6 | wc -l) $(b ps -aq | wc -l)" "0 0"
finish
