#!/bin/bash
# stats from the container's cgroup: the API's Docker shape (stream=0 with
# precpu filled, one-shot, stream=1), berth stats --no-stream (columns,
# --format, --no-trunc, a busy container's CPU, a memory limit, pids), and
# docker stats --no-stream against berthd.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
b run -d --name busy -m 64m busybox sh -c 'while :; do :; done' > /dev/null
b run -d --name idle busybox sh -c 'sleep 300 & sleep 300 & wait' > /dev/null
b create --name never busybox true > /dev/null
sleep 0.5

api GET "/containers/busy/stats?stream=0"
expect_eq "stats stream=0 is 200" "$API_STATUS" 200
j=$API_BODY
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$j" "$1"; }
expect_eq "name with the slash" "$(field 'd["name"]')" "/busy"
expect_eq "memory limit from -m" "$(field 'd["memory_stats"]["limit"]')" 67108864
check "memory usage is counted" [ "$(field 'd["memory_stats"]["usage"]')" -gt 0 ]
check "cpu total_usage grows between the samples" [ "$(field 'd["cpu_stats"]["cpu_usage"]["total_usage"] > d["precpu_stats"]["cpu_usage"]["total_usage"] > 0')" = True ]
check "system_cpu_usage and online_cpus" [ "$(field 'd["cpu_stats"]["system_cpu_usage"] > d["precpu_stats"]["system_cpu_usage"] > 0 and d["cpu_stats"]["online_cpus"] >= 1')" = True ]
expect_eq "pids_stats.current" "$(field 'd["pids_stats"]["current"]')" 1
check "blkio_stats is there" [ "$(field '"io_service_bytes_recursive" in d["blkio_stats"]')" = True ]
api GET "/containers/idle/stats?stream=0&one-shot=1"
j=$API_BODY
expect_eq "pids of a container with children" "$(field 'd["pids_stats"]["current"]')" 3
api GET "/containers/never/stats?stream=0"
j=$API_BODY
expect_eq "a container that is not running gives zeros" "$(field 'd["read"]')" "0001-01-01T00:00:00Z"
api GET "/containers/nosuch/stats?stream=0"
expect_eq "stats of an unknown container is 404" "$API_STATUS" 404
n=$(timeout 10 curl -sS -N --unix-socket "$SOCK" "http://localhost/containers/idle/stats" 2>/dev/null | head -n 2 | wc -l)
expect_eq "stream=1 sends one object a second" "$n" 2

out=$(b stats --no-stream)
check "docker's columns" grep -qE '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' <<< "$out"
expect_contains "running containers listed" "$out" "busy"
expect_not_contains "only running ones" "$out" "never"
cpu=$(b stats --no-stream --format '{{.CPUPerc}}' busy | tr -d '%')
check "a busy loop uses CPU ($cpu%)" python3 -c "import sys; sys.exit(0 if float('$cpu') > 5 else 1)"
expect_contains "memory limit column" "$(b stats --no-stream busy)" "/ 64MiB"
expect_eq "--format with the name and pids" "$(b stats --no-stream --format '{{.Name}} {{.PIDs}}' idle)" "idle 3"
id=$(b inspect -f '{{.Id}}' idle)
expect_eq "--no-trunc ID" "$(b stats --no-stream --no-trunc --format '{{.ID}}' idle)" "$id"
b stats --no-stream nosuch > /dev/null 2>&1
check "stats of an unknown container fails" [ $? -ne 0 ]

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        out=$("$d" -H "unix://$SOCK" stats --no-stream 2>&1)
        expect_contains "$d stats --no-stream lists busy" "$out" "busy"
        expect_contains "$d stats --no-stream shows the limit" "$out" "/ 64MiB"
        out=$("$d" -H "unix://$SOCK" stats --no-stream --format '{{.Name}} {{.PIDs}}' idle 2>&1)
        expect_eq "$d stats of one container" "$out" "idle 3"
done
b rm -f busy idle never > /dev/null
stop_daemon
finish
