#!/bin/bash
# User-defined networks through the berth CLI: create/ls/inspect/rm/prune,
# name resolution by name, alias and short ID through the network's DNS
# responder, isolation between networks, --internal, --ip, connect and
# disconnect (with --alias) of running and stopped containers, --network
# container:X, rm refused
# while in use, and a berthd restart. Only addresses of the networks and
# containers made here are used; no name is ever resolved outside.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }
NA=$TEST_NET_PREFIX.128/26
NB=$TEST_NET_PREFIX.192/26

ida=$(b network create --subnet "$NA" --label team=a neta); rc=$?
expect_eq "network create" "$rc" 0
expect_eq "network create prints the ID" "${#ida}" 64
b network create --subnet "$NB" --gateway "$TEST_NET_PREFIX.254" --internal netb > /dev/null
out=$(b network create --subnet "$NA" other 2>&1); rc=$?
expect_eq "an overlapping subnet is refused" "$rc" 1
expect_contains "the overlap is named" "$out" "overlaps"
out=$(b network create neta 2>&1); rc=$?
expect_eq "a duplicate name is refused" "$rc" 1
expect_contains "duplicate message" "$out" "network with name neta already exists"
out=$(b network create ' ' 2>&1)
expect_contains "a blank name is refused" "$out" "invalid name: name is empty"
out=$(b network create -d host h2 2>&1)
expect_contains "host allows one network only" "$out" "only one instance"
out=$(b network ls)
for n in bridge host none neta netb; do expect_contains "ls lists $n" "$out" " $n "; done
expect_eq "ls --filter label" "$(b network ls -q --no-trunc --filter label=team=a)" "$ida"
expect_eq "ls --filter type=custom" "$(b network ls --format '{{.Name}}' --filter type=custom | sort | tr '\n' ' ')" "neta netb "
j=$(b network inspect neta)
expect_eq "inspect Subnet" "$(jq -r '.[0].IPAM.Config[0].Subnet' <<< "$j")" "$NA"
expect_eq "inspect Gateway" "$(jq -r '.[0].IPAM.Config[0].Gateway' <<< "$j")" "$TEST_NET_PREFIX.129"
expect_eq "inspect Labels" "$(jq -r '.[0].Labels.team' <<< "$j")" "a"
expect_eq "berth inspect falls through to networks" "$(b inspect -f '{{.Name}}' neta)" "neta"
expect_eq "inspect netb Internal" "$(b network inspect -f '{{.Internal}}' netb)" "true"
expect_eq "inspect netb Gateway" "$(b network inspect netb | jq -r '.[0].IPAM.Config[0].Gateway')" "$TEST_NET_PREFIX.254"
out=$(b network inspect nosuch 2>&1); rc=$?
expect_eq "inspect of a missing network fails" "$rc" 1
expect_contains "missing network message" "$out" "network nosuch not found"
out=$(tb run --rm --network nosuch busybox true 2>&1)
expect_contains "run --network of a missing network" "$out" "network nosuch not found"

# name resolution on neta
tb run -d --name web --network neta --network-alias www busybox sleep 300 > /dev/null
# the bridge's MAC is fixed (02:42 and its gateway address), not the lowest
# of its ports: containers coming and going must not move it under the
# others' neighbour entries for the gateway
brn=br-${ida:0:12}
IFS=. read -r g1 g2 g3 _ <<< "$TEST_NET_PREFIX"
want_mac=$(printf '02:42:%02x:%02x:%02x:%02x' "$g1" "$g2" "$g3" 129)
expect_eq "the bridge's MAC comes from its gateway" "$(cat "/sys/class/net/$brn/address")" "$want_mac"
for i in 1 2 3; do tb run --rm --network neta busybox true; done
expect_eq "the bridge's MAC stays as containers come and go" "$(cat "/sys/class/net/$brn/address")" "$want_mac"
idw=$(b inspect -f '{{.Id}}' web)
ipw=$(b inspect -f '{{.NetworkSettings.Networks.neta.IPAddress}}' web)
expect_eq "the container has an address of neta" "$ipw" "$TEST_NET_PREFIX.130"
expect_contains "its aliases hold the short ID" "$(b inspect -f '{{json .NetworkSettings.Networks.neta.Aliases}}' web)" "\"${idw:0:12}\""
out=$(tb run --rm --network neta busybox cat /etc/resolv.conf)
expect_contains "resolv.conf points at the network's responder" "$out" "nameserver $TEST_NET_PREFIX.129"
out=$(tb run --rm --network neta busybox nslookup web 2>&1)
expect_contains "nslookup by name" "$out" "Address: $ipw"
out=$(tb run --rm --network neta busybox nslookup www 2>&1)
expect_contains "nslookup by alias" "$out" "Address: $ipw"
out=$(tb run --rm --network neta busybox nslookup "${idw:0:12}" 2>&1)
expect_contains "nslookup by short ID" "$out" "Address: $ipw"
out=$(tb run --rm --network neta busybox ping -c1 -W2 web 2>&1)
expect_contains "ping by name" "$out" "1 packets received"
# the responder over TCP too (asked from the host, on the network's gateway)
out=$(python3 - "$TEST_NET_PREFIX.129" web << 'PY' 2>&1
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in sys.argv[2].split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.create_connection((sys.argv[1], 53), timeout=3)
s.sendall(struct.pack(">H", len(q)) + q)
data = b""
while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(socket.inet_ntoa(data[-4:]) if struct.unpack(">H", data[8:10])[0] else "no answer")
PY
)
expect_eq "the responder answers over TCP" "$out" "$ipw"
out=$(tb run --rm --network neta busybox nslookup nosuchname 2>&1)
expect_contains "an unknown single name is NXDOMAIN" "$out" "NXDOMAIN"
out=$(tb run --rm --network neta --ip "$TEST_NET_PREFIX.140" busybox ip -4 -o addr show eth0)
expect_contains "--ip" "$out" "inet $TEST_NET_PREFIX.140/26"
out=$(tb run --rm --network neta --ip "$ipw" busybox true 2>&1); rc=$?
expect_eq "--ip of an address in use fails" "$rc" 125
expect_contains "--ip in use message" "$out" "Address already in use"

# isolation: netb (internal) and the default bridge cannot reach neta
out=$(tb run --rm --network netb busybox nslookup web 2>&1)
expect_contains "another network does not resolve the name" "$out" "NXDOMAIN"
tb run --rm --network netb busybox ping -c1 -W1 "$ipw" > /dev/null 2>&1
check "another network cannot reach the container" test $? != 0
tb run --rm busybox ping -c1 -W1 "$ipw" > /dev/null 2>&1
check "the default bridge cannot reach the container" test $? != 0
out=$(tb run --rm --network netb busybox ip route)
expect_not_contains "an internal network has no default route" "$out" "default"
tb run --rm --network netb busybox ping -c1 -W1 "$TEST_NET_PREFIX.1" > /dev/null 2>&1
check "an internal network has no way out" test $? != 0
out=$(tb run --rm --network neta busybox ping -c1 -W2 "$TEST_NET_PREFIX.1" 2>&1)
expect_contains "a non-internal network routes out (to the host)" "$out" "1 packets received"

# connect / disconnect
b network create netc > /dev/null # a subnet from the default pool
tb run -d --name c1 --network netc busybox sleep 300 > /dev/null
b network connect --alias extra neta c1
ipc=$(b inspect -f '{{.NetworkSettings.Networks.neta.IPAddress}}' c1)
out=$(tb exec c1 ip -4 -o addr 2>&1)
expect_contains "connect adds an interface in the running container" "$out" "$ipc/26"
out=$(tb run --rm --network neta busybox nslookup extra 2>&1)
expect_contains "the connect alias resolves" "$out" "Address: $ipc"
out=$(tb exec c1 ping -c1 -W2 web 2>&1)
expect_contains "the connected container reaches neta by name" "$out" "1 packets received"
out=$(b network connect neta c1 2>&1); rc=$?
expect_eq "a second connect fails" "$rc" 1
out=$(b network rm neta 2>&1); rc=$?
expect_eq "rm of a network in use fails" "$rc" 1
expect_contains "rm in use message" "$out" "has active endpoints"
b network disconnect neta c1
expect_eq "disconnect removes the network from inspect" "$(b inspect c1 | jq -c '.[0].NetworkSettings.Networks.neta')" "null"
out=$(tb exec c1 ip -4 -o addr 2>&1)
expect_not_contains "disconnect removes the interface" "$out" "$ipc/26"
tb create --name s1 busybox true > /dev/null
b network connect --alias sa netc s1
expect_eq "connect on a created container" "$(b inspect -f '{{json .NetworkSettings.Networks.netc.Aliases}}' s1)" '["sa"]'
b network disconnect netc s1
b rm s1 > /dev/null

# restart: DNS and endpoints survive
stop_daemon
start_daemon
out=$(tb run --rm --network neta busybox nslookup www 2>&1)
expect_contains "after a berthd restart the alias resolves" "$out" "Address: $ipw"
# --network container:X: X's namespace, its address and names; X's stays
tb run -d --name side --network container:web busybox sh -c 'echo hello > /tmp/i; exec httpd -f -p 8080 -h /tmp' > /dev/null
out=$(tb run --rm --network container:web busybox ip -4 addr show eth0)
expect_contains "container:X has X's address" "$out" "inet $ipw/"
out=$(tb run --rm --network container:web busybox sh -c 'for i in 1 2 3 4 5; do wget -qO- http://127.0.0.1:8080/i && break; sleep 0.2; done')
expect_eq "containers in X's namespace reach each other on 127.0.0.1" "$out" "hello"
out=$(tb run --rm --network container:web busybox nslookup www 2>&1)
expect_contains "and resolve the names of X's network" "$out" "Address: $ipw"
b rm -f side > /dev/null
check "X's namespace outlives those that joined it" b exec web ip -4 addr show eth0
out=$(b run --rm --network container:nosuch busybox true 2>&1); rc=$?
expect_eq "container:X of a missing X fails" "$rc" 125
expect_contains "and names it" "$out" "No such container: nosuch"
out=$(b run --rm -p 8081:80 --network container:web busybox true 2>&1)
expect_contains "container:X with -p is refused" "$out" "conflicting options: port publishing"
b create --name idle busybox true > /dev/null
out=$(b run --rm --network container:idle busybox true 2>&1)
expect_contains "container:X of a stopped X is refused" "$out" "cannot join network of a non running container"
b create --name joined --network container:web busybox true > /dev/null
out=$(b network connect neta joined 2>&1)
expect_contains "a container in X's namespace cannot be connected" "$out" "cannot be connected to any other network"
b rm idle joined > /dev/null
b rm -f web c1 > /dev/null
expect_eq "rm releases the endpoint" "$(b network inspect neta | jq '.[0].Containers|length')" "0"
brA=br-${ida:0:12}
check "the network's bridge exists" test -e "/sys/class/net/$brA"
expect_eq "rm of the network" "$(b network rm neta)" "neta"
check "rm removes the bridge" test ! -e "/sys/class/net/$brA"
out=$(b network rm bridge 2>&1)
expect_contains "a predefined network cannot be removed" "$out" "pre-defined network"
out=$(b network prune -f)
expect_contains "prune removes unused networks" "$out" "netb"
expect_contains "prune removes unused networks (netc)" "$out" "netc"
expect_eq "only the predefined networks are left" "$(b network ls --format '{{.Name}}' | sort | tr '\n' ' ')" "bridge host none "
finish
