#!/bin/bash
# berth compose up and down against a real berthd: the create / keep /
# recreate decisions (container IDs and labels), scale, networks with
# aliases resolving between services, a named volume shared by services, a
# published port answering on 127.0.0.1, depends_on service_healthy and
# service_completed_successfully (a dependent starts only after), --wait,
# --abort-on-container-exit and --exit-code-from, orphans, the rollback of a
# failed first up (a port taken, an unhealthy dependency, an image that does
# not exist: nothing left behind), down (-v, with -p alone and no file), and
# the containers of docker-compose 1.29 found by `berth compose down`.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

port=$(free_port)
mkdir -p "$T/up"
write_up() { # extra text for the web service's environment on stdin
        cat > "$T/up/compose.yaml" << EOF
name: up
services:
  db:
    image: busybox
    command: sh -c 'sleep 1; touch /tmp/ready; exec sleep 1000'
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 1s
      retries: 5
  init:
    image: busybox
    command: sh -c 'echo from-init > /data/init'
    volumes:
      - data:/data
  web:
    image: busybox
    command: sh -c 'mkdir -p /www; cat /data/init > /www/index.html; exec httpd -f -p 80 -h /www'
    stop_signal: SIGKILL
    environment:
      MARK: "$(cat)"
    ports:
      - "127.0.0.1:$port:80"
    volumes:
      - data:/data
      - /cache
    depends_on:
      db:
        condition: service_healthy
      init:
        condition: service_completed_successfully
    networks:
      - default
      - back
  worker:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
    networks:
      back:
        aliases:
          - wk
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
  back:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.192/26
volumes:
  data:
EOF
}
echo one | write_up
bc() { (cd "$T/up" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
id_of() { b inspect -f '{{.Id}}' "$1" 2> /dev/null; }
anon_of() { # the volume mounted at $2 in container $1
        b inspect -f '{{json .Mounts}}' "$1" | python3 -c 'import json,sys; print([m.get("Name") for m in json.load(sys.stdin) if m["Destination"]==sys.argv[1]][0])' "$2"
}
label() { b inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2> /dev/null; }

# --- first up: everything is created, in order ---------------------------------
out=$(bc up -d 2>&1); rc=$?
expect_eq "up -d succeeds" "$rc" 0
expect_contains "the default network is created" "$out" " Network up_default  Created"
expect_contains "the second network is created" "$out" " Network up_back  Created"
expect_contains "the volume is created" "$out" " Volume up_data  Created"
expect_contains "web's container is created" "$out" " Container up-web-1  Created"
expect_contains "db reported healthy" "$out" " Container up-db-1  Healthy"
# web starts only after db is healthy
first=$(grep -m1 -e 'up-db-1  Healthy' -e 'up-web-1  Starting' <<< "$out")
expect_contains "db is reported healthy before web starts" "$first" "up-db-1  Healthy"
expect_eq "web is running" "$(b inspect -f '{{.State.Running}}' up-web-1)" "true"
expect_eq "init ran to completion (exit 0)" "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' up-init-1)" "exited 0"
expect_eq "db is healthy" "$(b inspect -f '{{.State.Health.Status}}' up-db-1)" "healthy"
expect_eq "project label" "$(label up-web-1 com.docker.compose.project)" "up"
expect_eq "service label" "$(label up-web-1 com.docker.compose.service)" "web"
expect_eq "container-number label" "$(label up-web-1 com.docker.compose.container-number)" "1"
expect_eq "oneoff label" "$(label up-web-1 com.docker.compose.oneoff)" "False"
check "config-hash label is a sha256" bash -c "[[ \$0 =~ ^[0-9a-f]{64}$ ]]" "$(label up-web-1 com.docker.compose.config-hash)"
expect_eq "network labels" "$(b network inspect -f '{{index .Labels "com.docker.compose.project"}}/{{index .Labels "com.docker.compose.network"}}' up_back)" "up/back"
expect_contains "network IPAM from the file" "$(b network inspect -f '{{json .IPAM.Config}}' up_back)" "\"$TEST_NET_PREFIX.192/26\""
expect_eq "volume labels" "$(b volume inspect -f '{{index .Labels "com.docker.compose.project"}}/{{index .Labels "com.docker.compose.volume"}}' up_data)" "up/data"
expect_eq "the published port answers on 127.0.0.1 with what init wrote in the volume" \
        "$(curl -s --max-time 5 "http://127.0.0.1:$port/index.html")" "from-init"
check "worker reaches web by its service name on the shared network" bash -c "$BERTH -H unix://$SOCK exec up-worker-1 ping -c 1 -W 2 web > /dev/null"
check "web reaches worker by its alias" bash -c "$BERTH -H unix://$SOCK exec up-web-1 ping -c 1 -W 2 wk > /dev/null"
check "web reaches db by its service name" bash -c "$BERTH -H unix://$SOCK exec up-web-1 ping -c 1 -W 2 db > /dev/null"
check "worker is not on the default network: db does not resolve there" bash -c "! $BERTH -H unix://$SOCK exec up-worker-1 ping -c 1 -W 1 db > /dev/null 2>&1"

# --- second up: nothing changes ------------------------------------------------
web1=$(id_of up-web-1) db1=$(id_of up-db-1) wk1=$(id_of up-worker-1)
anon1=$(anon_of up-web-1 /cache)
out=$(bc up -d 2>&1); rc=$?
expect_eq "second up succeeds" "$rc" 0
expect_contains "an unchanged running container is kept" "$out" " Container up-web-1  Running"
expect_not_contains "nothing is recreated" "$out" "Recreate"
expect_eq "web kept (same ID)" "$(id_of up-web-1)" "$web1"
expect_eq "db kept (same ID)" "$(id_of up-db-1)" "$db1"

# --- a changed service is recreated, the others kept ----------------------------
echo two | write_up
out=$(bc --dry-run up -d 2>&1)
expect_contains "dry run says why web would be recreated" "$out" "config hash differs"
expect_eq "dry run changes nothing" "$(id_of up-web-1)" "$web1"
out=$(bc up -d 2>&1); rc=$?
expect_eq "up after a change succeeds" "$rc" 0
expect_contains "web is recreated" "$out" " Container up-web-1  Recreated"
expect_contains "up says why it recreates" "$out" "Container up-web-1  Recreate reason: config hash differs"
web2=$(id_of up-web-1)
check "web has a new container" test -n "$web2" -a "$web2" != "$web1"
expect_contains "the new web has the new environment" "$(b inspect -f '{{json .Config.Env}}' up-web-1)" '"MARK=two"'
expect_eq "db is kept across web's change" "$(id_of up-db-1)" "$db1"
check "web's anonymous volume has a name" test -n "$anon1"
expect_eq "the anonymous volume goes to the replacement" "$(anon_of up-web-1 /cache)" "$anon1"
expect_eq "worker is kept" "$(id_of up-worker-1)" "$wk1"
check "the old web is gone" bash -c "! $BERTH -H unix://$SOCK inspect $web1 > /dev/null 2>&1"
expect_eq "no temporary name left" "$(b ps -a --format '{{.Names}}' | grep -c _up-)" "0"
expect_eq "the port answers from the new web" "$(curl -s --max-time 5 "http://127.0.0.1:$port/index.html")" "from-init"
out=$(bc up -d --no-deps --force-recreate worker 2>&1)
check "--force-recreate makes a new worker" test "$(id_of up-worker-1)" != "$wk1"
expect_eq "--force-recreate on one service keeps the others" "$(id_of up-db-1)" "$db1"
out=$(bc up -d --no-recreate 2>&1)
expect_not_contains "--no-recreate" "$out" "Recreate"

# --- scale ---------------------------------------------------------------------
out=$(bc up -d --no-deps --scale worker=3 worker 2>&1); rc=$?
expect_eq "scale up" "$rc" 0
expect_eq "three workers, numbered" "$(b ps --filter label=com.docker.compose.service=worker --format '{{.Names}}' | sort | tr '\n' ' ')" "up-worker-1 up-worker-2 up-worker-3 "
expect_eq "a scaled container's number label" "$(label up-worker-3 com.docker.compose.container-number)" "3"
out=$(bc up -d --no-deps --scale worker=1 worker 2>&1)
expect_eq "scale down removes the highest numbers" "$(b ps -a --filter label=com.docker.compose.service=worker --format '{{.Names}}')" "up-worker-1"

# --- orphans -------------------------------------------------------------------
sed -i '/^  worker:/,/^networks:/{/^networks:/!d}' "$T/up/compose.yaml"
out=$(bc up -d 2>&1)
expect_contains "an orphan is reported" "$out" "Found orphan containers ([up-worker-1])"
check "without --remove-orphans it stays" b inspect up-worker-1 > /dev/null
out=$(bc up -d --remove-orphans 2>&1)
check "--remove-orphans removes it" bash -c "! $BERTH -H unix://$SOCK inspect up-worker-1 > /dev/null 2>&1"

# --- --wait, with a one-shot that exited 0 ---------------------------------------
bc down -t 0 > /dev/null 2>&1
out=$(bc up -d --wait --wait-timeout 30 2>&1); rc=$?
expect_eq "--wait: healthy services and a one-shot that exited 0 count as ready" "$rc" 0
expect_eq "--wait: db is healthy when up returns" "$(b inspect -f '{{.State.Health.Status}}' up-db-1)" "healthy"

# --- down ----------------------------------------------------------------------
out=$(bc down -v -t 0 2>&1); rc=$?
expect_eq "down -v" "$rc" 0
expect_contains "down removes web" "$out" " Container up-web-1  Removed"
expect_contains "down removes the network" "$out" " Network up_default  Removed"
expect_eq "no container left" "$(b ps -aq --filter label=com.docker.compose.project=up)" ""
check "networks gone" bash -c "! $BERTH -H unix://$SOCK network inspect up_default up_back > /dev/null 2>&1"
check "volume gone with -v" bash -c "! $BERTH -H unix://$SOCK volume inspect up_data > /dev/null 2>&1"
out=$(bc down 2>&1); rc=$?
expect_eq "down again" "$rc" 0
expect_contains "down with nothing left warns" "$out" 'Warning: No resource found to remove for project "up".'

# create: the containers made, none started
out=$(bc create 2>&1); rc=$?
expect_eq "create" "$rc" 0
expect_eq "create makes db without starting it" "$(b inspect -f '{{.State.Status}}' up-db-1)" "created"
expect_eq "create makes web without starting it" "$(b inspect -f '{{.State.Status}}' up-web-1)" "created"
bc down -t 0 > /dev/null 2>&1

# down -p with no compose file: everything by label
bc up -d --no-deps init db > /dev/null 2>&1
check "project up again" b inspect up-db-1 > /dev/null
out=$(cd "$T" && timeout 60 "$BERTH" -H "unix://$SOCK" compose -p up down -t 0 2>&1); rc=$?
expect_eq "down -p without a file" "$rc" 0
expect_eq "down -p removed the containers" "$(b ps -aq --filter label=com.docker.compose.project=up)" ""
check "down -p removed the network" bash -c "! $BERTH -H unix://$SOCK network inspect up_default > /dev/null 2>&1"

# --- rollback: a failed first up leaves nothing -----------------------------------
mkdir -p "$T/rb"
hold=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1',$hold)); s.listen(); time.sleep(60)" &
BG_PIDS+=($!)
wait_port "$hold"
cat > "$T/rb/compose.yaml" << EOF
services:
  a:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
  b:
    image: busybox
    command: sleep 1000
    ports:
      - "127.0.0.1:$hold:80"
    depends_on: [a]
    volumes:
      - scratch:/s
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
volumes:
  scratch:
EOF
rb() { (cd "$T/rb" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
out=$(rb up -d 2>&1); rc=$?
expect_eq "up with a port taken fails" "$rc" 1
expect_contains "the failing service is named" "$out" 'service "b"'
expect_eq "rollback: no container left" "$(b ps -aq --filter label=com.docker.compose.project=rb)" ""
check "rollback: no network left" bash -c "! $BERTH -H unix://$SOCK network inspect rb_default > /dev/null 2>&1"
check "rollback: no volume left" bash -c "! $BERTH -H unix://$SOCK volume inspect rb_scratch > /dev/null 2>&1"
out=$(rb up -d --no-rollback 2>&1); rc=$?
expect_eq "--no-rollback: still fails" "$rc" 1
check "--no-rollback keeps what was made" b inspect rb-a-1 > /dev/null
sed -i "s/$hold:80/$(free_port):80/" "$T/rb/compose.yaml"
out=$(rb up -d 2>&1); rc=$?
expect_eq "a second up fixes a half state" "$rc" 0
expect_eq "b runs after the fix" "$(b inspect -f '{{.State.Running}}' rb-b-1)" "true"
rb down -v -t 0 > /dev/null 2>&1

# an unhealthy dependency
cat > "$T/rb/compose.yaml" << EOF
services:
  sick:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
  app:
    image: busybox
    command: sleep 1000
    depends_on:
      sick:
        condition: service_healthy
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
out=$(rb up -d 2>&1); rc=$?
expect_eq "an unhealthy dependency fails up" "$rc" 1
expect_contains "and says so" "$out" "dependency failed to start: container rb-sick-1 is unhealthy"
expect_eq "nothing left after an unhealthy dependency" "$(b ps -aq --filter label=com.docker.compose.project=rb)" ""

# an image that does not exist
cat > "$T/rb/compose.yaml" << EOF
services:
  ghost:
    image: no-such-image-here:1
    pull_policy: never
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
out=$(rb up -d 2>&1); rc=$?
expect_eq "a missing image fails up" "$rc" 1
check "no network left after a missing image" bash -c "! $BERTH -H unix://$SOCK network inspect rb_default > /dev/null 2>&1"

# --wait: a timeout, and an unhealthy service, are failures (exit 1)
cat > "$T/rb/compose.yaml" << EOF
services:
  slowcheck:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "sleep", "30"]
      interval: 1s
      timeout: 60s
  sick:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
t0=$(date +%s)
out=$(rb up -d --wait --wait-timeout 2 slowcheck 2>&1); rc=$?
expect_eq "--wait-timeout: exit 1" "$rc" 1
expect_contains "--wait-timeout: says so" "$out" "application not healthy after 2s"
check "--wait-timeout: returns in time" test $(($(date +%s) - t0)) -lt 10
expect_eq "--wait does not undo: the container stays" "$(b inspect -f '{{.State.Running}}' rb-slowcheck-1)" "true"
out=$(rb up -d --wait sick 2>&1); rc=$?
expect_eq "--wait on an unhealthy service: exit 1" "$rc" 1
expect_contains "--wait: names the unhealthy container" "$out" "container rb-sick-1 is unhealthy"
rb down -t 0 > /dev/null 2>&1

# --- attached: --abort-on-container-exit, --exit-code-from ------------------------
cat > "$T/rb/compose.yaml" << EOF
services:
  quick:
    image: busybox
    command: sh -c 'echo quick-says-hi; exit 3'
  slow:
    image: busybox
    command: sleep 1000
    stop_signal: SIGKILL
  judge:
    image: busybox
    command: sh -c 'sleep 1; exit 5'
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
out=$(rb up --abort-on-container-exit quick slow 2> "$T/err"); rc=$?
expect_eq "--abort-on-container-exit returns the first exit code" "$rc" 3
expect_contains "attached mode names its containers" "$out" "Attaching to "
expect_contains "the exit is reported" "$out" "quick-1 exited with code 3"
expect_contains "the abort is said" "$(cat "$T/err")" "Aborting on container exit..."
expect_eq "the others were stopped" "$(b inspect -f '{{.State.Running}}' rb-slow-1)" "false"
out=$(rb up --exit-code-from judge 2> /dev/null); rc=$?
expect_eq "--exit-code-from returns that service's code" "$rc" 5
out=$(rb up quick 2> /dev/null); rc=$?
expect_eq "attached up ends when its containers have exited" "$rc" 0
# Ctrl-C: the containers are stopped, the exit status is 130
(cd "$T/rb" && exec "$BERTH" -H "unix://$SOCK" compose up -t 1 slow > "$T/int.out" 2> "$T/int.err") &
upid=$!
for _ in $(seq 100); do [ "$(b inspect -f '{{.State.Running}}' rb-slow-1 2> /dev/null)" = true ] && break; sleep 0.1; done
sleep 0.3
kill -INT "$upid"
for _ in $(seq 150); do kill -0 "$upid" 2> /dev/null || break; sleep 0.1; done
kill -KILL "$upid" 2> /dev/null
wait "$upid"; rc=$?
expect_eq "Ctrl-C on an attached up: 130" "$rc" 130
expect_contains "Ctrl-C: says it stops gracefully" "$(cat "$T/int.err")" "Gracefully Stopping... press Ctrl+C again to force"
expect_eq "Ctrl-C: the container is stopped" "$(b inspect -f '{{.State.Running}}' rb-slow-1)" "false"
rb down -t 0 > /dev/null 2>&1

# --- interop: docker-compose 1.29's containers are found by berth compose down ------
if command -v docker-compose > /dev/null; then
        mkdir -p "$T/dc"
        cat > "$T/dc/docker-compose.yml" << EOF
version: "3.8"
services:
  one:
    image: busybox
    command: sleep 1000
networks:
  default:
    ipam:
      config:
        - subnet: $TEST_NET_PREFIX.128/26
EOF
        mkdir -p "$T/docker-config"
        (cd "$T/dc" && DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/docker-config timeout 60 docker-compose up -d > /dev/null 2>&1)
        check "docker-compose made its container" b inspect dc_one_1 > /dev/null
        out=$(cd "$T/dc" && timeout 60 "$BERTH" -H "unix://$SOCK" compose down -t 0 2>&1); rc=$?
        expect_eq "berth compose down on a docker-compose project" "$rc" 0
        check "its container is gone" bash -c "! $BERTH -H unix://$SOCK inspect dc_one_1 > /dev/null 2>&1"
        check "its network is gone" bash -c "! $BERTH -H unix://$SOCK network inspect dc_default > /dev/null 2>&1"
        # and the other way: docker-compose 1.29 sees berth compose's project
        out=$(cd "$T/dc" && timeout 60 "$BERTH" -H "unix://$SOCK" compose up -d 2>&1); rc=$?
        expect_eq "berth compose up on the same file" "$rc" 0
        out=$(cd "$T/dc" && DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/docker-config timeout 60 docker-compose ps 2>&1)
        expect_contains "docker-compose ps lists berth's container" "$out" "dc-one-1"
        out=$(cd "$T/dc" && DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/docker-config timeout 60 docker-compose down -t 0 2>&1); rc=$?
        expect_eq "docker-compose down on berth's project" "$rc" 0
        check "docker-compose removed berth's container" bash -c "! $BERTH -H unix://$SOCK inspect dc-one-1 > /dev/null 2>&1"
fi

# --compatibility: v1's names ("_"), found again by the same flag
mkdir -p "$T/compat"
printf 'services:\n  one:\n    image: busybox\n    command: sleep 1000\n    init: true\n' > "$T/compat/compose.yaml"
cc() { (cd "$T/compat" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
out=$(cc --compatibility up -d 2>&1); rc=$?
expect_eq "up --compatibility" "$rc" 0
check "--compatibility names the container compat_one_1" b inspect compat_one_1 > /dev/null
expect_eq "ps --compatibility finds it" "$(cc --compatibility ps -q | wc -l)" 1
out=$(cc --compatibility down -t 0 2>&1); rc=$?
expect_eq "down --compatibility" "$rc" 0
check "its container is gone" bash -c "! $BERTH -H unix://$SOCK inspect compat_one_1 > /dev/null 2>&1"
finish
