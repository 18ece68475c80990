#!/bin/bash
# The default bridge network and published ports: the container's address,
# route and /etc/hosts; --network none and host; every -p form answering on
# 127.0.0.1 (tcp and udp); -P with the image's EXPOSE; berth port; a port in
# use; hairpin; cleanup at stop and rm; a berthd restart with a container
# running. Only 127.0.0.1 and addresses of containers made here are used.
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || { echo "nft is needed to look at the rules (apt-get install nftables)" >&2; exit 1; }
UDPECHO=$BERTH_BUILD_DIR/tests/berth-udpecho bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" web "$T/web.tar" > /dev/null
start_daemon
b load -q -i "$T/web.tar" > /dev/null
tb() { timeout -s KILL 30 "$BERTH" -H "unix://$SOCK" "$@"; }
GW=$TEST_NET_PREFIX.1
# an exited container's veth goes with its namespace, which the kernel
# cleans up asynchronously: wait a little for it
gone() { local i; for i in $(seq 50); do [ -e "$1" ] || return 0; sleep 0.1; done; return 1; }

# a free port on 127.0.0.1 (the kernel's pick; nothing listens on it after)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
get() { # port: the container's hostname through the published port, once it listens
        local i out
        for i in $(seq 30); do
                out=$(curl -sS -m 5 "http://127.0.0.1:$1/hostname" 2>&1) && break
                sleep 0.1
        done
        echo "$out"
}
udp() { # port message: the echo, asking again while the server starts
        python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(0.5)
for i in range(10):
    s.sendto(sys.argv[2].encode(),("127.0.0.1",int(sys.argv[1])))
    try:
        print(s.recv(100).decode()); break
    except socket.timeout:
        pass' "$1" "$2" 2>&1
}

out=$(tb run --rm web sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/hosts; hostname')
expect_contains "address from the bridge's subnet" "$out" "inet $TEST_NET_PREFIX.2/25"
expect_contains "default route via the gateway" "$out" "default via $GW dev eth0"
host=$(tail -1 <<< "$out")
expect_contains "/etc/hosts has the container's name" "$out" "$TEST_NET_PREFIX.2	$host"
out=$(tb run --rm web ping -c1 -W2 "$GW" 2>&1)
expect_contains "the gateway answers" "$out" "1 packets received"

out=$(tb run --rm --network none web sh -c 'ls /sys/class/net; ip -o link show lo')
expect_eq "--network none has only lo" "$(head -1 <<< "$out")" "lo"
expect_contains "lo is up in --network none" "$out" "UP"
out=$(tb run --rm --network host web ls /sys/class/net)
expect_contains "--network host sees the host's interfaces" "$out" "$TEST_BRIDGE"

# -p hostPort:containerPort, tcp and udp
p1=$(free_port); p2=$(free_port)
tb run -d --name p1 -p "$p1:80" -p "$p2:5353/udp" web sh -c 'udpecho 5353 & exec httpd -f -p 80 -h /etc' > /dev/null
id1=$(b inspect -f '{{.Id}}' p1)
expect_eq "-p H:C answers on 127.0.0.1" "$(get "$p1")" "$(b inspect -f '{{.Config.Hostname}}' p1)"
expect_eq "-p H:C/udp answers on 127.0.0.1" "$(udp "$p2" hi)" "echo:hi"
out=$(b port p1)
expect_contains "berth port lists tcp" "$out" "80/tcp -> 0.0.0.0:$p1"
expect_contains "berth port lists udp" "$out" "5353/udp -> 0.0.0.0:$p2"
expect_eq "berth port CONTAINER PORT" "$(b port p1 80)" "0.0.0.0:$p1"
expect_eq "inspect Ports" "$(b inspect p1 | jq -c '.[0].NetworkSettings.Ports["80/tcp"]')" "[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"$p1\"}]"
ip1=$(b inspect -f '{{.NetworkSettings.IPAddress}}' p1)
expect_eq "inspect Networks.bridge.IPAddress" "$(b inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' p1)" "$ip1"
expect_eq "inspect Networks.bridge.Gateway" "$(b inspect -f '{{.NetworkSettings.Networks.bridge.Gateway}}' p1)" "$GW"
expect_contains "inspect MacAddress" "$(b inspect -f '{{.NetworkSettings.Networks.bridge.MacAddress}}' p1)" "02:42:"
out=$(tb run --rm web wget -q -O - "http://$GW:$p1/hostname" 2>&1)
expect_eq "hairpin: a container reaches a published port through the host" "$out" "$(b inspect -f '{{.Config.Hostname}}' p1)"

# a port in use: a clear error, nothing left half made
out=$(tb run -d --name busy -p "$p1:80" web 2>&1); rc=$?
expect_eq "a taken port fails the start" "$rc" 125
expect_contains "the error names the port" "$out" "0.0.0.0:$p1/tcp"
expect_contains "the error says it is allocated" "$out" "port is already allocated"
expect_eq "the failed container holds no address" "$(b inspect -f '{{.NetworkSettings.IPAddress}}' busy)" ""
bid=$(b inspect -f '{{.Id}}' busy)
check "the failed container's netns is gone" test ! -e "$RUN/netns/$bid"
b rm busy > /dev/null
pl=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(30)' "$pl" &
lp=$!
for _ in $(seq 50); do curl -s -m 1 "http://127.0.0.1:$pl/" > /dev/null 2>&1; [ $? = 7 ] || break; sleep 0.1; done
out=$(tb run -d --name busy2 -p "$pl:80" web 2>&1); rc=$?
expect_eq "a port a host process listens on fails the start" "$rc" 125
expect_contains "that error names the port" "$out" "0.0.0.0:$pl/tcp"
b rm -f busy2 > /dev/null
kill "$lp" 2>/dev/null

# -p ip:hostPort:containerPort, -p ip::containerPort, -P with EXPOSE
p3=$(free_port)
tb run -d --name p2 -p "127.0.0.1:$p3:80" -p 127.0.0.1::80 web > /dev/null
expect_eq "-p 127.0.0.1:H:C answers" "$(get "$p3")" "$(b inspect -f '{{.Config.Hostname}}' p2)"
p4=$(b inspect p2 | jq -r '.[0].NetworkSettings.Ports["80/tcp"][1].HostPort')
expect_eq "-p 127.0.0.1::C gets a port" "$( [ "$p4" -gt 1024 ] 2>/dev/null && echo yes)" "yes"
expect_eq "-p 127.0.0.1::C answers" "$(get "$p4")" "$(b inspect -f '{{.Config.Hostname}}' p2)"
expect_contains "berth port shows the host ip" "$(b port p2)" "80/tcp -> 127.0.0.1:$p3"
tb run -d --name pa -P web sh -c 'udpecho 53 & exec httpd -f -p 80 -h /etc' > /dev/null
pt=$(b port pa 80/tcp); pu=$(b port pa 53/udp)
expect_contains "-P publishes the EXPOSEd tcp port" "$pt" "0.0.0.0:"
expect_contains "-P publishes the EXPOSEd udp port" "$pu" "0.0.0.0:"
expect_eq "-P tcp answers" "$(get "${pt##*:}")" "$(b inspect -f '{{.Config.Hostname}}' pa)"
expect_eq "-P udp answers" "$(udp "${pu##*:}" x)" "echo:x"
tb run -d --name np web > /dev/null
expect_eq "exposed but not published: null" "$(b inspect np | jq -c '.[0].NetworkSettings.Ports["80/tcp"]')" "null"

# stop: the veth, the netns and the rules go; the port is free again
veth=vb$(b inspect -f '{{.NetworkSettings.Networks.bridge.EndpointID}}' p1 | cut -c1-11)
check "the host end of the veth is on the bridge" test -e "/sys/class/net/$TEST_BRIDGE/brif/$veth"
tb stop -t 1 p1 > /dev/null
check "stop removes the veth" gone "/sys/class/net/$veth"
check "stop removes the netns" test ! -e "$RUN/netns/$id1"
expect_not_contains "stop removes the DNAT rule" "$(nft list table ip "berth_$TEST_BRIDGE")" ": $ip1 . 80"
expect_eq "stop clears the address" "$(b inspect -f '{{.NetworkSettings.IPAddress}}' p1)" ""
python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0",int(sys.argv[1])))' "$p1"
check "stop frees the host port" test $? = 0
tb start p1 > /dev/null
expect_eq "a restarted container publishes again" "$(get "$p1")" "$(b inspect -f '{{.Config.Hostname}}' p1)"

# disconnect from the network that publishes: the ports go with it
p5=$(free_port)
tb run -d --name dp -p "$p5:80" web > /dev/null
expect_eq "-p before disconnect" "$(get "$p5")" "$(b inspect -f '{{.Config.Hostname}}' dp)"
b network disconnect bridge dp
python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0",int(sys.argv[1])))' "$p5"
check "disconnect frees the published port" test $? = 0
expect_eq "disconnect clears Ports" "$(b inspect dp | jq -c '.[0].NetworkSettings.Ports')" "{}"
b rm -f dp > /dev/null

# berthd restarts while containers run: addresses, ports and cleanup survive
ip2=$(b inspect -f '{{.NetworkSettings.IPAddress}}' p2)
h2=$(b inspect -f '{{.Config.Hostname}}' p2)
stop_daemon
expect_eq "a published port still answers without berthd" "$(get "$p3")" "$h2"
start_daemon
expect_eq "after the restart the port answers" "$(get "$p3")" "$(b inspect -f '{{.Config.Hostname}}' p2)"
python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1])))' "$p3" 2> /dev/null
check "after the restart the port is reserved again" test $? != 0
out=$(tb run --rm web ip -4 -o addr show eth0)
expect_not_contains "a new container does not get a running one's address" "$out" "$ip2/"
veth=vb$(b inspect -f '{{.NetworkSettings.Networks.bridge.EndpointID}}' p2 | cut -c1-11)
b rm -f p1 p2 pa np > /dev/null
check "rm -f after a restart removes the veth" gone "/sys/class/net/$veth"
expect_eq "no endpoint is left on the network" "$(b network inspect bridge | jq '.[0].Containers|length')" "0"
check "no netns is left" test -z "$(ls "$RUN/netns")"

stop_daemon
check "berthd removes its bridge at exit" test ! -e "/sys/class/net/$TEST_BRIDGE"
check "berthd removes its nftables table at exit" bash -c "! nft list table ip berth_$TEST_BRIDGE 2>/dev/null"
finish
