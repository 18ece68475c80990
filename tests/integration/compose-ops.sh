#!/bin/bash
# berth compose logs, ps, ls, images, port, top, events, version, exec, cp,
# wait against a project's containers. They are made with `berth run` and
# the labels compose puts on them, so that these commands are tested apart
# from `up`; every command finds them by label, with -p alone.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
port=$(free_port)

P=ops
mk() { # SERVICE NUMBER [berth run flags...] -- COMMAND...
        local svc=$1 num=$2
        shift 2
        b run -d --name "$P-$svc-$num" \
                --label com.docker.compose.project=$P --label com.docker.compose.service="$svc" \
                --label com.docker.compose.container-number="$num" \
                --label com.docker.compose.oneoff=False \
                --label com.docker.compose.config-hash=0123 \
                --label com.docker.compose.project.config_files=/srv/$P/compose.yaml \
                "$@" > /dev/null
}
mk web 1 -p "127.0.0.1:$port:80" busybox sh -c 'echo hello-web-1; echo oops-web-1 >&2; mkdir -p /srv; echo page > /srv/index.html; exec httpd -f -p 80 -h /srv'
mk web 2 busybox sh -c 'echo hello-web-2; exec sleep 1000'
mk db 1 busybox sh -c 'echo dbline; exec sleep 1000'
mk job 1 busybox sh -c 'echo jobline; exit 3'
mk tty 1 -t busybox sh -c 'echo ttyline; exec sleep 1000'
# another project, and a container that is no project's
b run -d --name other-app-1 --label com.docker.compose.project=other \
        --label com.docker.compose.service=app --label com.docker.compose.container-number=1 \
        --label com.docker.compose.oneoff=False --label com.docker.compose.config-hash=1 \
        --label com.docker.compose.project.config_files=/srv/other/compose.yaml \
        busybox sleep 1000 > /dev/null
b run -d --name loose busybox sleep 1000 > /dev/null
b wait "$P-job-1" > /dev/null
wait_port "$port"
dc() { timeout 30 "$BERTH" -H "unix://$SOCK" compose -p "$P" "$@"; }

# --- logs ---------------------------------------------------------------------
out=$(dc logs 2> /dev/null); rc=$?
expect_eq "logs: exit 0" "$rc" 0
expect_contains "logs: the prefix is padded to the longest name" "$out" "web-1  | hello-web-1"
expect_contains "logs: shorter names padded too" "$out" "db-1   | dbline"
expect_contains "logs: stderr demultiplexed into lines" "$out" "web-1  | oops-web-1"
expect_contains "logs: a TTY container's raw stream" "$out" "tty-1  | ttyline"
expect_contains "logs: stopped containers too" "$out" "job-1  | jobline"
expect_not_contains "logs: no frame header bytes" "$out" $'\x01'
expect_not_contains "logs: no colour without a terminal" "$out" $'\033['
expect_not_contains "logs: other projects' containers are not shown" "$out" "other"
expect_eq "logs SERVICE: padded to the names shown" "$(dc logs db)" "db-1  | dbline"
expect_eq "logs --no-log-prefix" "$(dc logs --no-log-prefix db)" "dbline"
expect_eq "logs --index" "$(dc logs --index 2 web)" "web-2  | hello-web-2"
out=$(dc --ansi always logs db)
expect_eq "logs --ansi always: the prefix is coloured (cyan first)" "$out" $'\033[36mdb-1  | \033[0mdbline'
expect_not_contains "logs --no-color" "$(dc --ansi always logs --no-color db)" $'\033['
out=$(dc logs -t db)
check "logs -t: an RFC 3339 timestamp" grep -Eq '^db-1  \| 20[0-9-]+T[0-9:.]+Z dbline$' <<< "$out"
expect_eq "logs --tail 1" "$(dc logs --tail 1 web | wc -l)" 2

# -f: whole lines from two chatty containers, and the exit line
mk chat 1 busybox sh -c 'sleep 0.5; i=0; while [ $i -lt 300 ]; do echo "line-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; i=$((i+1)); done; exit 5'
mk chat 2 busybox sh -c 'sleep 0.5; i=0; while [ $i -lt 300 ]; do echo "line-$i-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" >&2; i=$((i+1)); done; exit 0'
out=$(dc logs -f chat); rc=$?
expect_eq "logs -f: ends when the containers stop" "$rc" 0
expect_eq "logs -f: every line whole" "$(grep -Evc '^chat-[12]  \| line-[0-9]+-(a{40}|b{40})$|exited with code' <<< "$out")" 0
expect_eq "logs -f: all the lines" "$(grep -c '| line-' <<< "$out")" 600
expect_contains "logs -f: the exit line" "$out" "chat-1 exited with code 5"
expect_contains "logs -f: the exit line of the other" "$out" "chat-2 exited with code 0"
b rm -f "$P-chat-1" "$P-chat-2" > /dev/null

# -f follows a container started while it runs, and ends when all have stopped
mk hold 1 busybox sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
dc logs -f hold late > "$T/follow.out" 2>&1 &
fpid=$!
BG_PIDS+=("$fpid")
sleep 0.5
mk late 1 busybox sh -c 'echo late-line; sleep 0.5; exit 2'
for _ in $(seq 50); do grep -q 'late-1 exited' "$T/follow.out" && break; sleep 0.1; done
b stop -t 2 "$P-hold-1" > /dev/null
for _ in $(seq 50); do kill -0 "$fpid" 2> /dev/null || break; sleep 0.1; done
check "logs -f: ends once every container followed has stopped" bash -c "! kill -0 $fpid 2> /dev/null"
out=$(cat "$T/follow.out")
expect_contains "logs -f: a container started later is followed" "$out" "late-1  | late-line"
expect_contains "logs -f: and its exit told" "$out" "late-1 exited with code 2"
expect_contains "logs -f: the first one's exit" "$out" "hold-1 exited with code 0"
b rm -f "$P-hold-1" "$P-late-1" > /dev/null

# --- ps -----------------------------------------------------------------------
out=$(dc ps)
expect_eq "ps: v2's columns" "$(head -1 <<< "$out" | tr -s ' ')" "NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS"
expect_eq "ps: the running containers, by name" "$(tail -n +2 <<< "$out" | awk '{print $1}' | tr '\n' ' ')" "ops-db-1 ops-tty-1 ops-web-1 ops-web-2 "
expect_contains "ps: the ports" "$out" "127.0.0.1:$port->80/tcp"
expect_contains "ps: the command quoted and cut" "$out" '"sh -c echo dbline; …"'
expect_contains "ps -a: the exited one" "$(dc ps -a)" "Exited (3)"
expect_eq "ps -q: full IDs" "$(dc ps -q | grep -Ec '^[0-9a-f]{64}$')" 4
expect_eq "ps --services" "$(dc ps --services | tr '\n' ' ')" "db tty web "
expect_eq "ps --status exited" "$(dc ps --status exited --format '{{.Name}}')" "ops-job-1"
expect_eq "ps --filter status=exited" "$(dc ps --filter status=exited -q)" "$(b inspect -f '{{.Id}}' ops-job-1)"
expect_eq "ps SERVICE" "$(dc ps web --format '{{.Name}}' | tr '\n' ' ')" "ops-web-1 ops-web-2 "
out=$(dc ps -a --format json)
expect_eq "ps --format json: one object per line" "$(wc -l <<< "$out")" 5
check "ps --format json: v2's fields" python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
job = [r for r in rows if r["Name"] == "ops-job-1"][0]
web = [r for r in rows if r["Name"] == "ops-web-1"][0]
assert job["Service"] == "job" and job["State"] == "exited" and job["ExitCode"] == 3, job
assert job["Project"] == "ops" and len(job["ID"]) == 12
assert web["Publishers"] == [{"URL": "127.0.0.1", "TargetPort": 80, "PublishedPort": int(sys.argv[2]), "Protocol": "tcp"}], web
for k in ("Command", "CreatedAt", "Health", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size", "Status"):
    assert k in web, k
' "$out" "$port"
out=$(dc ps --format 'table {{.Service}}\t{{.State}}')
expect_eq "ps --format table TEMPLATE: a header" "$(head -1 <<< "$out" | tr -s ' ')" "SERVICE STATE"
check "ps --no-trunc: the whole command" grep -q 'exec httpd' <<< "$(dc ps --no-trunc)"

# --- ls -----------------------------------------------------------------------
out=$(b compose ls)
expect_eq "ls: v2's columns" "$(head -1 <<< "$out" | tr -s ' ')" "NAME STATUS CONFIG FILES"
expect_contains "ls: a project's running containers" "$out" "running(4)"
check "ls: the config files" grep -Eq '^ops +running\(4\) +/srv/ops/compose.yaml$' <<< "$out"
check "ls -a: the states counted" grep -Eq '^ops +exited\(1\), running\(4\) ' <<< "$(b compose ls -a)"
expect_eq "ls -q" "$(b compose ls -q | tr '\n' ' ')" "ops other "
expect_eq "ls --filter name=" "$(b compose ls -q --filter name=oth)" "other"
expect_eq "ls --format json" "$(b compose ls --filter name=other --format json)" '[{"Name":"other","Status":"running(1)","ConfigFiles":"/srv/other/compose.yaml"}]'

# --- images, port, top, version -------------------------------------------------
out=$(dc images)
expect_eq "images: v2's columns" "$(head -1 <<< "$out" | tr -s ' ')" "CONTAINER REPOSITORY TAG PLATFORM IMAGE ID SIZE CREATED"
check "images: a row per container" grep -Eq '^ops-web-1 +busybox +latest +linux/' <<< "$out"
expect_eq "images -q: the image once" "$(dc images -q)" "$(b image inspect -f '{{.Id}}' busybox | sed 's/^sha256://')"
expect_eq "port" "$(dc port web 80)" "127.0.0.1:$port"
dc port web 81 > /dev/null 2>&1
expect_eq "port: none published is an error" "$?" 1
dc port --index 2 web 80 > /dev/null 2>&1
expect_eq "port --index: the second container has none" "$?" 1
out=$(dc top db)
check "top: SERVICE, #, then ps's columns with CMD last" grep -Eq '^SERVICE +# +UID +PID .* CMD$' <<< "$(head -1 <<< "$out")"
check "top: the process" grep -Eq '^db +1 .*sleep 1000$' <<< "$out"
expect_eq "version --short" "$(b compose version --short)" "2.29.7"
check "version: a v2 version scripts recognise" grep -Eq 'version v2\.[0-9]+\.[0-9]+' <<< "$(b compose version)"

# --- events -------------------------------------------------------------------
dc events --json db > "$T/events" 2>&1 &
ev=$!
BG_PIDS+=("$ev")
sleep 0.5
b restart -t 1 ops-db-1 > /dev/null
b restart -t 1 ops-web-2 > /dev/null
for _ in $(seq 40); do grep -q '"action":"restart"' "$T/events" && break; sleep 0.1; done
kill "$ev" 2> /dev/null
check "events --json: the service's events, v2's fields" python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert evs, "no events"
assert all(e["service"] == "db" and e["type"] == "container" for e in evs), evs
assert any(e["action"] == "restart" for e in evs), evs
assert all(not k.startswith("com.docker.compose.") for e in evs for k in e["attributes"]), evs
assert set(evs[0]) == {"action", "attributes", "id", "service", "time", "type"}, evs[0]
' "$T/events"

# --- exec, cp, wait -------------------------------------------------------------
dc exec -T db sh -c 'exit 7'
expect_eq "exec: the command's exit code" "$?" 7
expect_eq "exec -e -w -u" "$(FOO=from-env dc exec -T -e FOO -e BAR=1 -w /tmp -u 1000 db sh -c 'echo $FOO $BAR $(pwd) $(id -u)')" "from-env 1 /tmp 1000"
expect_eq "exec --index" "$(dc exec -T --index 2 web hostname)" "$(b inspect -f '{{.Config.Hostname}}' ops-web-2)"
dc exec -T nosuch true > /dev/null 2>&1
expect_eq "exec: an unknown service fails" "$?" 1
dc exec -d db sh -c 'echo detached > /tmp/d'
sleep 0.3
expect_eq "exec -d" "$(dc exec -T db cat /tmp/d)" "detached"
echo copied-in > "$T/in.txt"
dc cp "$T/in.txt" web:/tmp/in.txt
expect_eq "cp to a service: every container" "$(b exec ops-web-1 cat /tmp/in.txt)$(b exec ops-web-2 cat /tmp/in.txt)" "copied-incopied-in"
dc cp --index 1 db:/tmp/d "$T/out.txt"
expect_eq "cp from a service" "$(cat "$T/out.txt")" "detached"
(sleep 0.5; b stop -t 1 ops-db-1 > /dev/null) &
out=$(dc wait db); rc=$?
expect_eq "wait: the container's exit code" "$rc" 137
expect_contains "wait: v2's line" "$out" "exited with status code 137"

# --- logs -f prints nothing for a stopped container and returns ----------------
out=$(dc logs -f job)
expect_eq "logs -f on a stopped container" "$out" "job-1  | jobline"
b rm -f $(b ps -aq) > /dev/null

# --- a project from its file: berth compose up -d, then the commands -----------
mkdir -p "$T/proj/ctx"
port2=$(free_port)
cat > "$T/proj/compose.yaml" << EOF
services:
  web:
    image: busybox
    command: sh -c 'echo web-says-hi; mkdir -p /srv; echo page > /srv/index.html; exec httpd -f -p 80 -h /srv'
    ports:
      - "127.0.0.1:$port2:80"
  quiet:
    image: busybox
    attach: false
    command: sh -c 'echo quiet-line; exec sleep 1000'
  app:
    build:
      context: ./ctx
      args:
        GREETING: from-file
        FROM_ENV:
      target: final
      labels:
        org.example.built-by: compose
    command: sh -c 'cat /greeting /from-env; exec sleep 1000'
EOF
cat > "$T/proj/ctx/Dockerfile" << 'EOF'
FROM busybox AS base
RUN echo never > /never
FROM busybox AS final
ARG GREETING
ARG FROM_ENV
RUN echo "$GREETING" > /greeting && echo "$FROM_ENV" > /from-env
EOF
pc() { (cd "$T/proj" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
out=$(FROM_ENV=env-value pc build -q 2>&1); rc=$?
expect_eq "build -q: exit 0, nothing printed" "$rc:$out" "0:"
expect_eq "build: the image named <project>-<service>, the args (KEY alone from the environment) and target" \
        "$(b run --rm proj-app cat /greeting /from-env)" "from-file
env-value"
expect_eq "build: the labels" "$(b image inspect -f '{{index .Config.Labels "org.example.built-by"}}' proj-app)" "compose"
check "build: the target stage only" bash -c "! $BERTH -H unix://$SOCK run --rm proj-app test -e /never"
FROM_ENV=x pc build --build-arg GREETING=from-flag app > /dev/null 2>&1
expect_eq "build --build-arg over the file's" "$(b run --rm proj-app cat /greeting)" "from-flag"
pc build nosuch > /dev/null 2>&1
expect_eq "build: an unknown service fails" "$?" 1
expect_eq "pull --policy missing: nothing to fetch, no network" "$(pc pull -q --policy missing web quiet 2>&1; echo $?)" 0

out=$(pc up -d 2>&1); rc=$?
expect_eq "up -d" "$rc" 0
expect_eq "ps from the project's directory" "$(pc ps --format '{{.Service}}' | tr '\n' ' ')" "app quiet web "
pc ps nosuch > /dev/null 2>&1
expect_eq "ps: a service not in the file fails" "$?" 1
for _ in $(seq 50); do pc logs app 2> /dev/null | grep -q from-flag && break; sleep 0.2; done
out=$(pc logs)
expect_contains "logs: the attached services" "$out" "web-1  | web-says-hi"
expect_contains "logs: the built one" "$out" "app-1  | from-flag"
expect_not_contains "logs: not attach: false ones, unless named" "$out" "quiet-line"
expect_eq "logs SERVICE names an attach: false one" "$(pc logs quiet)" "quiet-1  | quiet-line"
expect_eq "port" "$(pc port web 80)" "127.0.0.1:$port2"
expect_eq "exec" "$(pc exec -T web cat /srv/index.html)" "page"
check "ls: the project and its file" grep -Eq "^proj +running\(3\) +$T/proj/compose.yaml\$" <<< "$(b compose ls)"
pc down -t 1 > /dev/null 2>&1
expect_eq "down: the project's containers gone" "$(b ps -aq)" ""

# --- push and pull through a registry on 127.0.0.1 ------------------------------
. "$(dirname "$0")/registry-lib.sh"
rport=$(free_port)
start_registry "$T/reg" "$rport" || fail "the registry did not start"
R=127.0.0.1:$rport
mkdir -p "$T/reg-proj/ctx"
printf 'FROM busybox\nRUN echo pushed > /mark\n' > "$T/reg-proj/ctx/Dockerfile"
cat > "$T/reg-proj/compose.yaml" << EOF
services:
  app:
    image: $R/ops/app:1
    build:
      context: ./ctx
      tags: ["$R/ops/app:extra"]
  user:
    image: $R/ops/app:1
  gone:
    image: $R/ops/missing:1
    profiles: [broken]
EOF
rc() { (cd "$T/reg-proj" && timeout 60 "$BERTH" -H "unix://$SOCK" compose "$@"); }
rc build -q > /dev/null 2>&1
out=$(rc push -q 2>&1); code=$?
expect_eq "push -q: exit 0, nothing printed" "$code:$out" "0:"
expect_eq "push: the image and its build tags in the registry" \
        "$(curl -s "http://$R/v2/ops/app/tags/list" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin)["tags"])))')" "1 extra"
b rmi -f "$R/ops/app:1" "$R/ops/app:extra" > /dev/null 2>&1
out=$(rc pull -q user 2>&1); code=$?
expect_eq "pull -q SERVICE: exit 0, nothing printed" "$code:$out" "0:"
expect_eq "pull: the image is back" "$(b run --rm "$R/ops/app:1" cat /mark)" "pushed"
out=$(rc pull user 2>&1)
expect_contains "pull: a line per service" "$out" " user Pulled"
rc --profile broken pull gone > /dev/null 2>&1
expect_eq "pull: a missing image fails" "$?" 1
rc --profile broken pull --ignore-pull-failures gone > /dev/null 2>&1
expect_eq "pull --ignore-pull-failures" "$?" 0
finish
