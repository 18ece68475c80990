#!/bin/bash
# berth compose and docker-compose 1.29 (Debian's) on one berthd: a project
# brought up by docker-compose is listed by berth compose ps/ls, its logs
# read, exec'd into and its port found, by label (v1's "_" names and all);
# and a project brought up by berth compose is listed by docker-compose ps
# and its logs read by docker-compose logs.
. "$(dirname "$0")/lib.sh"
command -v docker-compose > /dev/null || { echo "FAIL: docker-compose is not installed (.ci/packages)" >&2; exit 1; }
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG" "$T/iop"
port=$(free_port)
cat > "$T/iop/docker-compose.yml" << EOF2
version: "3.8"
services:
  web:
    image: busybox
    command: sh -c 'mkdir -p /srv; echo page > /srv/index.html; exec httpd -f -p 80 -h /srv'
    ports:
      - "127.0.0.1:$port:80"
  worker:
    image: busybox
    command: sh -c 'echo worker-line-1; echo worker-line-2; exec sleep 1000'
    depends_on:
      - web
EOF2
dc1() { (cd "$T/iop" && timeout 60 docker-compose "$@"); }
bc() { (cd "$T/iop" && timeout 30 "$BERTH" -H "unix://$SOCK" compose "$@"); }

out=$(dc1 up -d 2>&1); rc=$?
expect_eq "docker-compose up -d" "$rc" 0

# the project name from the directory, as docker-compose chose it
out=$(bc ps)
expect_eq "berth compose ps: v2's columns" "$(head -1 <<< "$out" | tr -s ' ')" "NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS"
check "berth compose ps: docker-compose's web container" grep -Eq "^iop_web_1 +busybox .* web +.* Up .*127.0.0.1:$port->80/tcp" <<< "$out"
check "berth compose ps: and its worker" grep -Eq '^iop_worker_1 +busybox .* worker ' <<< "$out"
expect_eq "berth compose ps --services" "$(bc ps --services | tr '\n' ' ')" "web worker "
out=$(bc ps --format json)
check "berth compose ps --format json: project and service from the labels" python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert sorted((r["Project"], r["Service"], r["State"]) for r in rows) == [("iop", "web", "running"), ("iop", "worker", "running")], rows
' "$out"
out=$("$BERTH" -H "unix://$SOCK" compose ls)
# (1.29 writes the file names as given, relative)
check "berth compose ls: the project, its state and file" grep -Eq "^iop +running\(2\) +docker-compose.yml\$" <<< "$out"
for _ in $(seq 30); do bc logs worker 2> /dev/null | grep -q worker-line-2 && break; sleep 0.2; done
out=$(bc logs worker)
expect_eq "berth compose logs: v1 names shown whole, every line" "$out" "iop_worker_1  | worker-line-1
iop_worker_1  | worker-line-2"
expect_eq "berth compose exec into a docker-compose container" "$(bc exec -T web cat /srv/index.html)" "page"
expect_eq "berth compose port" "$(bc port web 80)" "127.0.0.1:$port"
expect_eq "berth compose -p works without the file" "$(cd / && "$BERTH" -H "unix://$SOCK" compose -p iop ps --format '{{.Name}}' | tr '\n' ' ')" "iop_web_1 iop_worker_1 "

out=$(dc1 down -t 1 2>&1); rc=$?
expect_eq "docker-compose down" "$rc" 0
expect_eq "berth compose ps: nothing left" "$(bc ps -a -q)" ""

# --- the other way: berth compose up, docker-compose ps -----------------------
out=$(bc up -d 2>&1); rc=$?
expect_eq "berth compose up -d" "$rc" 0
out=$(dc1 ps 2>&1)
check "docker-compose ps lists berth's web container" grep -Eq '^iop-web-1 .* Up ' <<< "$out"
check "docker-compose ps lists berth's worker container" grep -Eq '^iop-worker-1 .* Up ' <<< "$out"
expect_contains "docker-compose logs reads it" "$(dc1 logs worker 2>&1)" "worker-line-1"
bc down -t 1 > /dev/null 2>&1
expect_eq "berth compose down" "$(b ps -aq)" ""
finish
