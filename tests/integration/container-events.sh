#!/bin/bash
# GET /events: Docker's event JSON (legacy status/id/from too), since/until
# replay, live streaming, filters (type, container, event, label, image);
# berth events --since/--until/--filter/--format; docker events against
# berthd.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"

t0=$(date +%s.%N)
sleep 0.05
b run --rm --name ev1 --label team=blue busybox sh -c 'exit 3' > /dev/null
sleep 0.3
t1=$(date +%s.%N)

out=$(timeout 10 "$BERTH" -H "unix://$SOCK" events --since "$t0" --until "$t1" --filter type=container --format '{{.Action}}' | tr '\n' ' ')
expect_eq "run --rm: create, attach, start, die, destroy in order" "$out" "create attach start die destroy "
api GET "/events?since=$t0&until=$t1&filters=%7B%22event%22%3A%5B%22die%22%5D%7D"
ev=$API_BODY
expect_contains "die carries the exit code" "$ev" '"exitCode":"3"'
expect_contains "the container's labels are attributes" "$ev" '"team":"blue"'
expect_contains "the legacy fields" "$ev" '"status":"die"'
expect_contains "from is the image" "$ev" '"from":"busybox"'
expect_contains "scope and timeNano" "$ev" '"scope":"local"'
out=$(b events --since "$t0" --until "$t1" --filter label=team=blue --filter event=start)
expect_contains "default format: time type action id (attributes)" "$out" "container start "
expect_contains "attributes sorted" "$out" "(image=busybox, name=ev1, org.berth.test=busybox, team=blue)"
out=$(b events --since "$t0" --until "$t1" --filter label=team=red)
expect_eq "a label filter that matches nothing" "$out" ""
out=$(b events --since "$t0" --until "$t1" --filter container=ev1 --format '{{.Type}}' | sort -u)
expect_eq "container filter by name" "$out" "container"
api GET "/events?since=$t0&until=$t1&filters=%7B%22bad%22%3A%5B%22x%22%5D%7D"
expect_eq "an unknown filter is 400" "$API_STATUS" 400

# live: a stream opened before the events sees them, with their timing
"$BERTH" -H "unix://$SOCK" events --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}}' > "$T/live" &
epid=$!
sleep 0.5
b run -d --name ev2 busybox sleep 100 > /dev/null
b pause ev2 > /dev/null; b unpause ev2 > /dev/null
b rename ev2 ev3
b exec ev3 true
b kill ev3 > /dev/null
sleep 0.5
b rm ev3 > /dev/null
sleep 0.5
kill $epid; wait $epid 2>/dev/null
live=$(cat "$T/live" | tr '\n' ',')
expect_contains "live: create and start" "$live" "create ev2,start ev2,"
expect_contains "live: pause, unpause, rename" "$live" "pause ev2,unpause ev2,rename ev3,"
expect_contains "live: exec_create and exec_start with the command" "$live" "exec_create: true ev3,exec_start: true ev3,"
expect_contains "live: kill, die, destroy" "$live" "kill ev3,die ev3,destroy ev3,"

t2=$(date +%s.%N)
b tag busybox evtag:1 > /dev/null
b rmi evtag:1 > /dev/null
sleep 0.2
out=$(b events --since "$t2" --until "$(date +%s.%N)" --filter type=image --format '{{.Action}}' | tr '\n' ' ')
expect_eq "image tag and untag" "$out" "tag untag "

# networks and volumes report their life too
t3=$(date +%s.%N)
b network create evnet > /dev/null
b volume create evvol > /dev/null
b run --rm --network evnet -v evvol:/data busybox true
b network rm evnet > /dev/null
b volume rm evvol > /dev/null
sleep 0.2
out=$(b events --since "$t3" --until "$(date +%s.%N)" --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}' | tr '\n' ',')
expect_eq "network events: create, connect, disconnect, destroy" "$out" "create evnet,connect evnet,disconnect evnet,destroy evnet,"
out=$(b events --since "$t3" --until "$(date +%s.%N)" --filter type=volume --format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.driver}}' | tr '\n' ',')
expect_eq "volume events: create, destroy" "$out" "create evvol local,destroy evvol local,"

# a client that leaves an idle stream: its stream ends (no thread left behind)
n0=$(ls /proc/$DAEMON_PID/task | wc -l)
for i in 1 2 3 4; do timeout 0.3 curl -sN --unix-socket "$SOCK" http://localhost/events > /dev/null; done
sleep 1.5
n1=$(ls /proc/$DAEMON_PID/task | wc -l)
check "idle streams end when their clients leave ($n0 -> $n1 threads)" [ "$n1" -le "$n0" ]

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$(timeout 10 "$d" -H "unix://$SOCK" events --since "$t0" --until "$t1" --filter type=container --format '{{.Status}} {{.Actor.Attributes.name}}' | tr '\n' ',')
        expect_eq "$d events --since --until" "$out" "create ev1,attach ev1,start ev1,die ev1,destroy ev1,"
done
stop_daemon
finish
