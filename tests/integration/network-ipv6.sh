#!/bin/bash
# IPv6 on bridge networks: network create --ipv6 with an IPv6 subnet
# (berth and the docker CLI), addresses from the IPv6 IPAM (the gateway
# ::1, then in order; --ip6 honoured, checked and unique), inspect fields,
# containers reaching each other over IPv6 by address and by name (AAAA
# from the embedded DNS), isolation between networks, a port published on
# [::1], and no leftover after removal. Only unique-local prefixes of this
# test (fdXX:b7:<pid>:N::/64, never the host's) and ::1 are used.
. "$(dirname "$0")/lib.sh"
[ -d /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6"
[ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6)" = 0 ] || skip "IPv6 is disabled on this host"

pfx=fd$(printf '%02x:b7:%x' $(($$ >> 16 & 255)) $(($$ & 65535)))
P1=$pfx:1 # the networks' /64 prefixes
P2=$pfx:2
S4a=$TEST_NET_PREFIX.128/26
S4b=$TEST_NET_PREFIX.192/26

UDPECHO=$BERTH_BUILD_DIR/tests/berth-udpecho bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" web "$T/web.tar" > /dev/null
start_daemon
b load -q -i "$T/web.tar" > /dev/null

# refusals: Docker has no IPv6 pool unless one is configured; berth has none
out=$(b network create --ipv6 nosub 2>&1); rc=$?
expect_eq "--ipv6 without an IPv6 subnet fails" "$rc" 1
expect_contains "... saying an IPv6 subnet is needed" "$out" "no IPv6 subnet"
out=$(b network create --subnet "$P1::/64" nov6 2>&1); rc=$?
expect_eq "an IPv6 subnet without --ipv6 fails" "$rc" 1
expect_contains "... naming EnableIPv6" "$out" "EnableIPv6"
out=$(b network create --ipv6 --subnet "$P1::/64" --gateway "$P2::1" badgw 2>&1); rc=$?
expect_eq "a gateway outside the IPv6 subnet fails" "$rc" 1

# a network with both families, made by berth
check "network create --ipv6 --subnet v4 --subnet v6" b network create --ipv6 --subnet "$S4a" --subnet "$P1::/64" n6 > /dev/null
out=$(b network inspect n6 | jq -r '.[0] | "\(.EnableIPv6)|" + ([.IPAM.Config[] | "\(.Subnet) \(.Gateway);"] | join(""))' 2>&1)
expect_eq "network inspect: EnableIPv6 and both IPAM configs" "$out" "true|$S4a $TEST_NET_PREFIX.129;$P1::/64 $P1::1;"
out=$(b network create --ipv6 --subnet "$P1:0:0:1::/80" overlap 2>&1); rc=$?
expect_eq "an overlapping IPv6 subnet fails" "$rc" 1
expect_contains "... as a pool overlap" "$out" "overlaps"

b run -d --name a6 --network n6 web > /dev/null
b run -d --name c6 --network n6 --ip6 "$P1::10" web > /dev/null
out=$(b inspect a6 | jq -r '.[0].NetworkSettings.Networks.n6 | "\(.GlobalIPv6Address)/\(.GlobalIPv6PrefixLen) via \(.IPv6Gateway)"' 2>&1)
expect_eq "the first container gets ::2 (::1 is the gateway's)" "$out" "$P1::2/64 via $P1::1"
out=$(b inspect c6 | jq -r '.[0].NetworkSettings.Networks.n6 | "\(.GlobalIPv6Address) \(.IPAMConfig.IPv6Address)"' 2>&1)
expect_eq "--ip6 is honoured and kept in IPAMConfig" "$out" "$P1::10 $P1::10"
out=$(b inspect -f '{{.NetworkSettings.GlobalIPv6Address}}' a6 2>&1)
expect_eq "NetworkSettings.GlobalIPv6Address" "$out" "$P1::2"
out=$(b network inspect n6 | jq -r '[.[0].Containers[] | "\(.Name)=\(.IPv6Address)"] | join(" ")' 2>&1)
expect_contains "network inspect: the endpoint's IPv6Address" "$out" "a6=$P1::2/64"
out=$(b exec a6 cat /proc/net/if_inet6 2>&1)
expect_contains "the address is on eth0 in the container" "$out" "eth0"
out=$(b exec a6 ip -6 route 2>&1)
expect_contains "a default IPv6 route via the gateway" "$out" "default via $P1::1"

out=$(b run --rm --network n6 --ip6 "$P1::10" web true 2>&1); rc=$?
expect_eq "an --ip6 in use fails" "$rc" 125
expect_contains "... as in use" "$out" "in use"
out=$(b run --rm --network n6 --ip6 "$P2::10" web true 2>&1); rc=$?
expect_eq "an --ip6 outside the subnet fails" "$rc" 125
out=$(b run --rm --network n6 --ip6 "not-an-address" web true 2>&1); rc=$?
expect_eq "an invalid --ip6 fails" "$rc" 125

check "c6 pings a6 over IPv6 by address" b exec c6 ping -6 -c 1 -W 3 "$P1::2"
check "c6 pings the gateway" b exec c6 ping -6 -c 1 -W 3 "$P1::1"
out=$(b exec c6 nslookup -type=AAAA a6 2>&1)
expect_contains "the embedded DNS answers AAAA with the IPv6 address" "$out" "$P1::2"
check "c6 pings a6 over IPv6 by name" b exec c6 ping -6 -c 1 -W 3 a6
out=$(b exec c6 wget -q -O - "http://[$P1::2]/hostname" 2>&1)
expect_eq "c6 fetches from a6's server over IPv6" "$out" "$(b inspect -f '{{.Config.Hostname}}' a6)"
out=$(b exec c6 wget -q -O - "http://a6/hostname" 2>&1)
expect_eq "... and over IPv4 still" "$out" "$(b inspect -f '{{.Config.Hostname}}' a6)"

# a second IPv6 network, made through the docker CLI: isolated from the first
if [ -x /usr/local/bin/docker ]; then
        D() { DOCKER_CONFIG=$T/docker-config DOCKER_HOST=unix://$SOCK timeout -s KILL 60 /usr/local/bin/docker "$@"; }
        mkdir -p "$T/docker-config"
        out=$(D network create --ipv6 --subnet "$P2::/64" --subnet "$S4b" d6 2>&1); rc=$?
        expect_eq "docker network create --ipv6 --subnet" "$rc" 0
        out=$(D network inspect -f '{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}},{{.Gateway}} {{end}}' d6 2>&1)
        expect_contains "docker network inspect: EnableIPv6" "$out" "true"
        expect_contains "docker network inspect: the IPv6 config" "$out" "$P2::/64,$P2::1"
        out=$(D run -d --name d6c --network d6 --ip6 "$P2::20" web 2>&1); rc=$?
        expect_eq "docker run --ip6" "$rc" 0
        out=$(D inspect -f '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}} {{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}' d6c 2>&1)
        expect_eq "docker inspect: the IPv6 fields" "$out" "$P2::20 64 $P2::1"
        check "a container of d6 pings its own network's gateway" D exec d6c ping -6 -c 1 -W 3 "$P2::1"
        if D exec d6c ping -6 -c 1 -W 2 "$P1::2" > /dev/null 2>&1; then
                fail "a container of d6 reaches n6 over IPv6 (networks are not isolated)"
        else
                pass "a container of d6 does not reach n6 over IPv6"
        fi
        D rm -f d6c > /dev/null
        check "docker network rm" D network rm d6
else
        echo "no docker CLI at /usr/local/bin/docker: its part skipped" >&2
fi

# ports: on an IPv6 address of the host (the network's gateway; traffic
# from the host to it never leaves the host), DNAT'd to the container's
# IPv6 address. [::1] is refused: IPv6 has no route_localnet, and berth
# no userland proxy.
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])')
out=$(b run -d --name p6 --network n6 -p "[$P1::1]:$port:80" web 2>&1); rc=$?
expect_eq "run -p [IPv6 host address]:PORT:80 on an IPv6 network" "$rc" 0
got=
for _ in $(seq 20); do got=$(curl -sS -m 2 "http://[$P1::1]:$port/hostname" 2>&1) && break; sleep 0.1; done
expect_eq "the port published on the IPv6 address answers" "$got" "$(b inspect -f '{{.Config.Hostname}}' p6)"
out=$(b port p6 2>&1)
expect_eq "berth port writes [ip]:port" "$out" "80/tcp -> [$P1::1]:$port"

# berthd restarts while the containers run: the IPv6 network, addresses,
# names and the published port come back
stop_daemon
start_daemon
got=
for _ in $(seq 20); do got=$(curl -sS -m 2 "http://[$P1::1]:$port/hostname" 2>&1) && break; sleep 0.1; done
expect_eq "after a restart the IPv6 port answers" "$got" "$(b inspect -f '{{.Config.Hostname}}' p6)"
out=$(b network inspect n6 | jq -r '[.[0].Containers[] | "\(.Name)=\(.IPv6Address)"] | join(" ")' 2>&1)
expect_contains "after a restart the endpoints keep their IPv6 addresses" "$out" "a6=$P1::2/64"
# (a few tries: once, under ASan, the first query after the restart timed out)
for _ in 1 2 3; do
        out=$(b exec c6 nslookup -type=AAAA a6 2>&1)
        case $out in *"$P1::2"*) break ;; esac
done
expect_contains "after a restart the DNS answers AAAA" "$out" "$P1::2"
out=$(b run --rm --network n6 web cat /proc/net/if_inet6 2>&1)
expect_not_contains "a new container does not get a running one's IPv6 address" "$out" "$(printf '%s' "$P1::2" | python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.stdin.read()).exploded.replace(":",""))')"

# the ip6 table removed behind berthd's back comes back at the next start
# of a container, with the published port
nft delete table ip6 "berth_$TEST_BRIDGE"
b run --rm --network n6 web true
check "the ip6 table is made again" nft list table ip6 "berth_$TEST_BRIDGE" > /dev/null
got=$(curl -sS -m 2 "http://[$P1::1]:$port/hostname" 2>&1)
expect_eq "... with the published port" "$got" "$(b inspect -f '{{.Config.Hostname}}' p6)"
b rm -f p6 > /dev/null
out=$(curl -sS -m 2 "http://[$P1::1]:$port/hostname" 2>&1); rc=$?
check "the port is gone with the container" [ "$rc" != 0 ]
out=$(b run --rm --network n6 -p "[::1]:$port:80" web true 2>&1); rc=$?
expect_eq "-p [::1]:PORT is refused" "$rc" 125
expect_contains "... saying why" "$out" "userland proxy"
out=$(b run --rm -p "[$P1::1]:$port:80" web true 2>&1); rc=$?
expect_eq "-p on an IPv6 address without an IPv6 network is refused" "$rc" 125
expect_contains "... saying why" "$out" "no IPv6 address"

# removal leaves nothing
b rm -f a6 c6 > /dev/null
check "network rm n6" b network rm n6 > /dev/null
out=$(nft list table ip6 "berth_$TEST_BRIDGE" 2>&1); rc=$?
check "the ip6 table goes with the last IPv6 network" [ "$rc" != 0 ]
stop_daemon
left=$(net_leftovers)
expect_eq "nothing left on the host" "$left" ""
finish
