#!/bin/bash
# docker-compose 1.29 (Debian's) against berthd: a project with two
# services, its default network (service names resolve), a named volume, a
# published port on 127.0.0.1, depends_on; ps, logs, exec, run, stop/start,
# and down -v removing everything it made.
. "$(dirname "$0")/lib.sh"
command -v docker-compose > /dev/null || { echo "FAIL: docker-compose is not installed (.ci/packages)" >&2; exit 1; }
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG" "$T/proj"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$T/proj/docker-compose.yml" << EOF2
version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /srv; echo hello-from-web > /srv/index.html; date > /data/started; exec httpd -f -p 80 -h /srv'
    volumes:
      - data:/data
    ports:
      - "127.0.0.1:$port:80"
  client:
    image: busybox
    command: sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://web/index.html && break; sleep 0.3; done; exec sleep 1000'
    depends_on:
      - web
volumes:
  data:
EOF2
dc() { (cd "$T/proj" && timeout 60 docker-compose "$@"); }

out=$(dc up -d 2>&1); rc=$?
expect_eq "up -d" "$rc" 0
expect_contains "up creates the project's network" "$out" 'Creating network "proj_default"'
expect_contains "up creates the named volume" "$out" 'Creating volume "proj_data"'
out=$(dc ps 2>&1)
expect_contains "ps: web is up with its port" "$out" "127.0.0.1:$port->80/tcp"
check "ps: both services up" test "$(echo "$out" | grep -c ' Up ')" = 2
for i in $(seq 30); do dc logs client 2>/dev/null | grep -q hello-from-web && break; sleep 0.2; done
expect_contains "client reaches web by its service name" "$(dc logs client 2>&1)" "hello-from-web"
expect_eq "the published port answers on 127.0.0.1" "$(curl -s "http://127.0.0.1:$port/index.html")" "hello-from-web"
expect_eq "exec" "$(dc exec -T web cat /srv/index.html 2>&1)" "hello-from-web"
expect_eq "run --rm shares the network" "$(dc run --rm client wget -qO- http://web/index.html 2>/dev/null | tr -d '\r')" "hello-from-web"
dc stop -t 1 web > /dev/null 2>&1
check "stop" bash -c "$BERTH -H unix://$SOCK inspect -f '{{.State.Status}}' proj_web_1 | grep -qx exited"
dc start web > /dev/null 2>&1
check "start again, the volume kept" dc exec -T web test -s /data/started

out=$(dc down -v -t 1 2>&1); rc=$?
expect_eq "down -v" "$rc" 0
expect_eq "down removes the containers" "$(b ps -aq)" ""
check "down removes the network" bash -c "! $BERTH -H unix://$SOCK network inspect proj_default > /dev/null 2>&1"
check "down -v removes the volume" bash -c "! $BERTH -H unix://$SOCK volume inspect proj_data > /dev/null 2>&1"
finish
