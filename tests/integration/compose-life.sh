#!/bin/bash
# berth compose start, stop, restart, rm, kill, pause and unpause on a
# project's containers found by their labels (-p alone: the project is
# rebuilt from the labels, depends_on included): dependency order, the
# selected services only (start also starts what they depend on, restart
# also restarts what depends on them with restart: true), one-offs and
# other projects left alone, v2's progress lines and messages; then a
# project from its compose file, brought up by `up`: the model's order and
# conditions, secrets copied in, hooks, profiles.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

# a process that ends on SIGTERM at once
loop='trap "exit 0" TERM; while true; do sleep 1 & wait; done'
mk() { # project service number oneoff depends_on [name]
        local name=${6:-$1-$2-$3}
        b run -d --name "$name" --label com.docker.compose.project="$1" \
                --label com.docker.compose.service="$2" \
                --label com.docker.compose.container-number="$3" \
                --label com.docker.compose.oneoff="$4" \
                --label com.docker.compose.depends_on="$5" \
                --label com.docker.compose.config-hash=0 \
                busybox sh -c "$loop" > /dev/null
}
st() { b inspect -f '{{.State.Status}}' "$1" 2>&1; }
# until a container is in a state (kill only sends the signal)
wait_st() { for _ in $(seq 100); do [ "$(st "$1")" = "$2" ] && return 0; sleep 0.05; done; return 1; }
started() { b inspect -f '{{.State.StartedAt}}' "$1"; }
dc() { timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"; }

mk demo db 1 False ""
mk demo web 1 False "db:service_started:true"
mk demo web 2 False "db:service_started:true"
mk demo web 0 True "db:service_started:true" demo-web-run-0123456789ab
mk other db 1 False ""

# stop: everything of the project, dependents first; one-offs and the other project stay
out=$(dc -p demo stop 2>&1); rc=$?
expect_eq "stop exits 0" "$rc" 0
expect_eq "stop: db exited" "$(st demo-db-1)" exited
expect_eq "stop: web-1 exited" "$(st demo-web-1)" exited
expect_eq "stop: web-2 exited" "$(st demo-web-2)" exited
expect_eq "stop leaves the one-off" "$(st demo-web-run-0123456789ab)" running
expect_eq "stop leaves the other project" "$(st other-db-1)" running
expect_contains "stop prints v2's plain progress" "$out" " Container demo-web-1  Stopping"
expect_contains "stop prints Stopped" "$out" " Container demo-db-1  Stopped"
lw=$(grep -n 'demo-web-2  Stopped' <<< "$out" | cut -d: -f1)
ld=$(grep -n 'demo-db-1  Stopping' <<< "$out" | cut -d: -f1)
check "stop: web is stopped before db is" test "${lw:-99}" -lt "${ld:-0}"

# start: dependencies first
out=$(dc -p demo start 2>&1); rc=$?
expect_eq "start exits 0" "$rc" 0
for c in demo-db-1 demo-web-1 demo-web-2; do expect_eq "start: $c running" "$(st $c)" running; done
ld=$(grep -n 'demo-db-1  Started' <<< "$out" | cut -d: -f1)
lw=$(grep -n 'demo-web-1  Starting' <<< "$out" | cut -d: -f1)
check "start: db is started before web" test "${ld:-99}" -lt "${lw:-0}"

# stop one service: only it
dc -p demo stop web > /dev/null 2>&1
expect_eq "stop web: web-1 exited" "$(st demo-web-1)" exited
expect_eq "stop web: db still running" "$(st demo-db-1)" running
# start a service: its dependencies too
dc -p demo stop db > /dev/null 2>&1
out=$(dc -p demo start web 2>&1); rc=$?
expect_eq "start web exits 0" "$rc" 0
expect_eq "start web also starts db" "$(st demo-db-1)" running
expect_eq "start web starts web-2" "$(st demo-web-2)" running

# restart: the dependents that restart with it, unless --no-deps
before=$(started demo-web-1)
sleep 1.1
out=$(dc -p demo restart -t 1 db 2>&1); rc=$?
expect_eq "restart exits 0" "$rc" 0
expect_contains "restart prints Restarting" "$out" " Container demo-db-1  Restarting"
check "restart db restarts web (restart: true)" test "$(started demo-web-1)" != "$before"
before=$(started demo-web-1)
dbbefore=$(started demo-db-1)
sleep 1.1
dc -p demo restart --no-deps db > /dev/null 2>&1
check "restart --no-deps restarts db" test "$(started demo-db-1)" != "$dbbefore"
expect_eq "restart --no-deps leaves web" "$(started demo-web-1)" "$before"

# pause, unpause
out=$(dc -p demo pause web 2>&1); rc=$?
expect_eq "pause exits 0" "$rc" 0
expect_eq "pause: web-1 paused" "$(st demo-web-1)" paused
expect_eq "pause: db not paused" "$(st demo-db-1)" running
expect_contains "pause prints Paused" "$out" " Container demo-web-2  Paused"
dc -p demo unpause > /dev/null 2>&1
expect_eq "unpause: web-1 running" "$(st demo-web-1)" running

# kill: SIGKILL by default, one-offs included
out=$(dc -p demo kill db 2>&1); rc=$?
wait_st demo-db-1 exited
expect_eq "kill exits 0" "$rc" 0
expect_eq "kill: db exit code 137" "$(b inspect -f '{{.State.ExitCode}}' demo-db-1)" 137
expect_contains "kill prints Killed" "$out" " Container demo-db-1  Killed"
dc -p demo kill -s SIGTERM > /dev/null 2>&1
wait_st demo-web-1 exited
wait_st demo-web-run-0123456789ab exited
expect_eq "kill -s SIGTERM: web-1 exited 0" "$(b inspect -f '{{.State.Status}} {{.State.ExitCode}}' demo-web-1)" "exited 0"
expect_eq "kill reaches the one-off" "$(st demo-web-run-0123456789ab)" exited
expect_eq "kill leaves the other project" "$(st other-db-1)" running
out=$(dc -p demo kill 2>&1); rc=$?
expect_eq "kill with nothing running exits 0" "$rc" 0
expect_contains "kill with nothing running says so" "$out" "No container to kill"

# rm: stopped containers only, after a prompt
dc -p demo start db > /dev/null 2>&1
out=$(echo n | dc -p demo rm 2>/dev/null); rc=$?
expect_eq "rm answered no exits 0" "$rc" 0
expect_contains "rm prompts with the stopped containers" "$out" "Going to remove demo-web-1, demo-web-2"
expect_eq "rm answered no removes nothing" "$(st demo-web-1)" exited
out=$(echo y | dc -p demo rm -v web 2>&1); rc=$?
expect_eq "rm answered yes exits 0" "$rc" 0
check "rm removed web-1" bash -c "! $BERTH -H unix://$SOCK inspect demo-web-1 > /dev/null 2>&1"
expect_eq "rm leaves the running db" "$(st demo-db-1)" running
out=$(dc -p demo rm -f 2>&1); rc=$?
expect_eq "rm with nothing stopped exits 0" "$rc" 0
expect_contains "rm with nothing stopped says so" "$out" "No stopped containers"
out=$(dc -p demo rm -s -f db 2>&1); rc=$?
expect_eq "rm -s -f exits 0" "$rc" 0
expect_contains "rm -f prints what it removes" "$out" "Going to remove demo-db-1"
expect_contains "rm -s stops first" "$out" " Container demo-db-1  Stopped"
check "rm -s removed db" bash -c "! $BERTH -H unix://$SOCK inspect demo-db-1 > /dev/null 2>&1"
expect_eq "rm leaves the one-off" "$(st demo-web-run-0123456789ab)" exited

# a dependency whose containers are gone: no edge (the order does not fail on it)
mk demo web 1 False "db:service_started:true"
out=$(dc -p demo stop -t 1 2>&1); rc=$?
expect_eq "stop with the dependency's containers gone exits 0" "$rc" 0
expect_eq "stop with the dependency's containers gone stops web" "$(st demo-web-1)" exited
b rm -f demo-web-1 > /dev/null

# quiet progress and dry runs
mk demo db 1 False ""
out=$(dc -p demo --progress quiet stop 2>&1)
expect_eq "--progress quiet prints nothing" "$out" ""
out=$(dc -p demo --dry-run start 2>&1)
expect_contains "--dry-run prints what it would do" "$out" " DRY-RUN MODE -  Container demo-db-1  Started"
expect_eq "--dry-run changes nothing" "$(st demo-db-1)" exited

out=$(dc -p demo --progress json --dry-run start 2>&1)
expect_contains "--progress json prints v2's JSON lines" "$out" '{"dry-run":true,"id":"Container demo-db-1","status":"Started"}'

# start waits on the depends_on conditions: healthy, completed successfully
b run -d --name hp-db-1 --label com.docker.compose.project=hp --label com.docker.compose.service=db \
        --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
        --health-cmd 'test -e /tmp/ready' --health-interval 200ms --health-retries 50 \
        busybox sh -c "sleep 1; touch /tmp/ready; $loop" > /dev/null
mk hp web 1 False "db:service_healthy:false"
b stop -t 0 hp-web-1 > /dev/null
out=$(dc -p hp start 2>&1); rc=$?
expect_eq "start waiting on a healthy dependency exits 0" "$rc" 0
expect_contains "start says it waits" "$out" " Container hp-db-1  Waiting"
lh=$(grep -n 'hp-db-1  Healthy' <<< "$out" | cut -d: -f1)
lw=$(grep -n 'hp-web-1  Starting' <<< "$out" | cut -d: -f1)
check "web starts once db is healthy" test "${lh:-99}" -lt "${lw:-0}"
expect_eq "start: hp-web-1 running" "$(st hp-web-1)" running
dc -p hp stop -t 1 > /dev/null 2>&1
out=$(dc -p hp start --wait --wait-timeout 20 2>&1); rc=$?
expect_eq "start --wait exits 0 once all are running or healthy" "$rc" 0
expect_eq "start --wait: db is healthy when it returns" \
        "$(b inspect -f '{{.State.Health.Status}}' hp-db-1)" healthy
b run -d --name bad-db-1 --label com.docker.compose.project=bad --label com.docker.compose.service=db \
        --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
        --health-cmd false --health-interval 200ms --health-retries 1 busybox sh -c "$loop" > /dev/null
mk bad web 1 False "db:service_healthy:false"
b stop -t 0 bad-web-1 > /dev/null
out=$(dc -p bad start 2>&1); rc=$?
expect_eq "start with an unhealthy dependency exits 1" "$rc" 1
expect_contains "start names the unhealthy dependency" "$out" "dependency failed to start: container bad-db-1 is unhealthy"
expect_eq "the dependent is not started" "$(st bad-web-1)" exited
b create --name once-job-1 --label com.docker.compose.project=once --label com.docker.compose.service=job \
        --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
        busybox sh -c 'exit 3' > /dev/null
mk once app 1 False "job:service_completed_successfully:false"
b stop -t 0 once-app-1 > /dev/null
out=$(dc -p once start 2>&1); rc=$?
expect_eq "start with a failed one-shot dependency exits 1" "$rc" 1
expect_contains "start says the one-shot failed" "$out" 'service "job" didn'"'"'t complete successfully: exit 3'
expect_eq "the app is not started" "$(st once-app-1)" exited

# A project from its compose file: the model gives the order and the conditions; start copies the secrets given
# by the environment in again.
mkdir -p "$T/p"
echo filesecret > "$T/p/token.txt"
cat > "$T/p/compose.yaml" << EOF2
services:
  db:
    image: busybox
    command: sh -c 'touch /tmp/ready; $loop'
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 300ms
      retries: 20
  web:
    image: busybox
    command: sh -c '$loop'
    depends_on:
      db:
        condition: service_healthy
        restart: true
    secrets: [pw, token]
    volumes: ["./out:/out"]
    post_start:
      - command: sh -c 'echo started >> /out/post_start'
    pre_stop:
      - command: sh -c 'echo stopping >> /out/pre_stop'
  side:
    image: busybox
    network_mode: service:web
    command: sh -c '$loop'
  dbg:
    image: busybox
    profiles: [debug]
    command: sh -c '$loop'
secrets:
  pw:
    environment: PW
  token:
    file: ./token.txt
EOF2
pdc() { (cd "$T/p" && PW=${PW:-one} timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
out=$(pdc up -d 2>&1); rc=$?
expect_eq "up -d (for the lifecycle verbs)" "$rc" 0
out=$(pdc stop 2>&1); rc=$?
expect_eq "file: stop exits 0" "$rc" 0
ls=$(grep -n 'p-side-1  Stopped' <<< "$out" | cut -d: -f1)
lw=$(grep -n 'p-web-1  Stopping' <<< "$out" | cut -d: -f1)
ld=$(grep -n 'p-db-1  Stopping' <<< "$out" | cut -d: -f1)
check "file: side (network_mode service:web) stops before web, web before db" \
        test "${ls:-99}" -lt "${lw:-0}" -a "${lw:-99}" -lt "${ld:-0}"
expect_eq "file: stop runs the pre_stop hook in the container first" \
        "$(tail -n1 "$T/p/out/pre_stop" 2>&1)" stopping
n=$(wc -l < "$T/p/out/post_start" 2> /dev/null || echo 0)
out=$(PW=two pdc start web 2>&1); rc=$?
expect_eq "file: start web exits 0" "$rc" 0
expect_eq "file: start runs the post_start hook" \
        "$(wc -l < "$T/p/out/post_start" 2>&1)" $((n + 1))
expect_contains "file: start web waits for db to be healthy" "$out" " Container p-db-1  Healthy"
expect_eq "file: start web started db" "$(st p-db-1)" running
expect_eq "file: start web leaves side" "$(st p-side-1)" exited
expect_eq "file: start copies the secret from the environment again" \
        "$(b exec p-web-1 cat /run/secrets/pw)" two
expect_eq "file: the file secret is mounted" "$(b exec p-web-1 cat /run/secrets/token)" filesecret
pdc start > /dev/null 2>&1
before=$(started p-web-1)
sleep 1.1
out=$(pdc restart db 2>&1); rc=$?
expect_eq "file: restart db exits 0" "$rc" 0
check "file: restart db restarts web (restart: true)" test "$(started p-web-1)" != "$before"
out=$(pdc stop nope 2>&1); rc=$?
expect_eq "file: stop of an unknown service exits 1" "$rc" 1
expect_eq "file: stop of an unknown service: the loader's message" "$out" "no such service: nope"
# a service whose profile is off is left alone, unless named
pdc --profile debug up -d dbg > /dev/null 2>&1
expect_eq "file: dbg up with its profile" "$(st p-dbg-1)" running
pdc stop > /dev/null 2>&1
expect_eq "file: stop leaves a service whose profile is off" "$(st p-dbg-1)" running
pdc stop -t 1 dbg > /dev/null 2>&1
expect_eq "file: stop of a named service enables its profile" "$(st p-dbg-1)" exited
b rm -f p-dbg-1 > /dev/null
out=$(pdc rm -s -f 2>&1); rc=$?
expect_eq "file: rm -s -f exits 0" "$rc" 0
expect_contains "file: rm -s -f removes all" "$out" "Going to remove p-db-1, p-side-1, p-web-1"
expect_eq "file: nothing left" "$(b ps -aq --filter label=com.docker.compose.project=p)" ""
out=$(pdc start 2>&1); rc=$?
expect_eq "file: start with no container exits 1" "$rc" 1
expect_eq "file: start with no container: v2's message" "$out" 'service "db" has no container to start'

# errors
out=$(dc -p nothing start 2>&1); rc=$?
expect_eq "start of an unknown project exits 1" "$rc" 1
expect_eq "start of an unknown project: v2's message" "$out" 'no container found for project "nothing": not found'
out=$(dc -p demo start nope 2>&1); rc=$?
expect_eq "start of an unknown service exits 1" "$rc" 1
expect_contains "start of an unknown service names it" "$out" 'no such service: "nope"'
finish
