#!/bin/bash
# berth compose run against a real berthd: one-off containers (name, oneoff
# and slug labels), the exit code, --rm, -e, -u, -w, --entrypoint, -l,
# --name, -d, -T with stdin, ports published only with -p / --service-ports,
# the dependencies started and waited on (a healthy database) unless
# --no-deps, and the service's networks with its peers resolving.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

port=$(free_port)
mkdir -p "$T/rp"
cat > "$T/rp/compose.yaml" << EOF
name: rp
services:
  db:
    image: busybox
    command: sh -c 'sleep 1; touch /tmp/ready; exec sleep 1000'
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 5
  app:
    image: busybox
    command: echo default-command
    environment:
      FROM_FILE: file
    working_dir: /etc
    ports:
      - "127.0.0.1:$port:80"
    depends_on:
      db:
        condition: service_healthy
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
bc() { (cd "$T/rp" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }

out=$(bc run --rm app 2> "$T/err"); rc=$?
expect_eq "run: the service's command" "$(tr -d '\r' <<< "$out")" "default-command"
expect_eq "run: exit code 0" "$rc" 0
expect_eq "run starts the dependency" "$(b inspect -f '{{.State.Running}}' rp-db-1)" "true"
expect_eq "and waits until it is healthy" "$(b inspect -f '{{.State.Health.Status}}' rp-db-1)" "healthy"
expect_eq "--rm leaves no one-off" "$(b ps -aq --filter label=com.docker.compose.oneoff=True)" ""

out=$(bc run -T app sh -c 'echo $FROM_FILE; pwd; exit 7' 2> /dev/null); rc=$?
expect_eq "run: the container's exit code" "$rc" 7
expect_eq "run: environment and working_dir of the service" "$(tr -d '\r' <<< "$out" | tr '\n' ' ')" "file /etc "
name=$(b ps -a --filter label=com.docker.compose.oneoff=True --format '{{.Names}}')
check "one-off name is rp-app-run-<12 hex>" bash -c "[[ \$0 =~ ^rp-app-run-[0-9a-f]{12}$ ]]" "$name"
expect_eq "oneoff label" "$(b inspect -f '{{index .Config.Labels "com.docker.compose.oneoff"}}' "$name")" "True"
slug=$(b inspect -f '{{index .Config.Labels "com.docker.compose.slug"}}' "$name")
check "slug label: 64 hex, the name's suffix its start" bash -c "[[ \$0 =~ ^[0-9a-f]{64}$ && \$0 == \${1##*-}* ]]" "$slug" "$name"
expect_eq "a one-off has no container number" "$(b inspect -f '{{index .Config.Labels "com.docker.compose.container-number"}}' "$name")" ""
expect_eq "a one-off does not restart" "$(b inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$name")" "no"
b rm -f "$name" > /dev/null

out=$(bc run --rm -T --no-deps -e X=1 -e FROM_FILE=cli -u 1234 -w /tmp -l k=v --name chosen app sh -c 'echo $X $FROM_FILE $(id -u) $(pwd)' 2> /dev/null)
expect_eq "-e (over the file's), -u, -w" "$(tr -d '\r' <<< "$out")" "1 cli 1234 /tmp"
out=$(bc run --rm -T --entrypoint 'echo entry' app 2> /dev/null)
expect_eq "--entrypoint replaces the command too" "$(tr -d '\r' <<< "$out")" "entry"
out=$(echo piped-in | bc run --rm -T app cat 2> /dev/null)
expect_eq "stdin reaches the one-off" "$(tr -d '\r' <<< "$out")" "piped-in"
check "the one-off reaches db by its service name" bash -c "cd $T/rp && $BERTH -H unix://$SOCK compose run --rm -T app ping -c 1 -W 2 db > /dev/null 2>&1"

# -d: the ID printed, the container running; ports only with -P or -p
id=$(bc run -d app sh -c 'mkdir -p /w; echo served > /w/i; exec httpd -f -p 80 -h /w' 2> /dev/null)
check "-d prints the container ID" bash -c "[[ \$0 =~ ^[0-9a-f]{64}$ ]]" "$id"
expect_eq "-d: running" "$(b inspect -f '{{.State.Running}}' "$id")" "true"
expect_not_contains "the service's ports are not published by default" "$(b inspect -f '{{json .HostConfig.PortBindings}}' "$id")" "$port"
b rm -f "$id" > /dev/null
id=$(bc run -d --service-ports app sh -c 'mkdir -p /w; echo served > /w/i; exec httpd -f -p 80 -h /w' 2> /dev/null)
wait_port "$port"
expect_eq "--service-ports publishes them" "$(curl -s --max-time 5 "http://127.0.0.1:$port/i")" "served"
b rm -f "$id" > /dev/null
p2=$(free_port)
id=$(bc run -d -p "127.0.0.1:$p2:80" app sh -c 'mkdir -p /w; echo by-p > /w/i; exec httpd -f -p 80 -h /w' 2> /dev/null)
wait_port "$p2"
expect_eq "-p publishes a port" "$(curl -s --max-time 5 "http://127.0.0.1:$p2/i")" "by-p"
b rm -f "$id" > /dev/null

# --no-deps: the dependency is not started
bc down -t 0 > /dev/null 2>&1
out=$(bc run --rm -T --no-deps app true 2>&1); rc=$?
expect_eq "--no-deps run" "$rc" 0
check "--no-deps: db was not created" bash -c "! $BERTH -H unix://$SOCK inspect rp-db-1 > /dev/null 2>&1"
out=$(bc down -t 0 --remove-orphans 2>&1)
expect_eq "down leaves nothing" "$(b ps -aq)" ""
finish
