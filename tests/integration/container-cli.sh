#!/bin/bash
# Container records through the berth CLI and the docker CLI: create (the
# flag → field map, defaults, refusals), ps (filters, formats), inspect,
# rename, rm, prune; images in use are not removed.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null

id=$(b create --name web -e A=1 -e B -l tier=front -p 8080:80 -p 127.0.0.1:9000:90/udp --expose 7000 \
        -m 64m --cpus 1.5 --restart on-failure:3 -w /tmp -u 1000:1000 -h myhost --init \
        --cap-add NET_ADMIN --cap-drop MKNOD --read-only --tmpfs /run:size=1m \
        --ulimit nofile=512:1024 --health-cmd 'true' --health-interval 5s \
        --log-opt max-size=1m busybox sleep 100 2>&1); rc=$?
expect_eq "create exit status" "$rc" 0
check "create prints a 64-hex ID" bash -c "[[ '$id' =~ ^[0-9a-f]{64}$ ]]"
j=$(b inspect web)
q() { jq -r ".[0]$1" <<<"$j"; }
expect_eq "Name" "$(q .Name)" "/web"
expect_eq "State created" "$(q .State.Status)" "created"
expect_eq "Path" "$(q .Path)" "sleep"
expect_eq "Args" "$(q '.Args|join(",")')" "100"
expect_eq "Env has A=1" "$(q '.Config.Env|index("A=1") != null')" "true"
expect_eq "Env has image's PATH" "$(q '.Config.Env|map(select(startswith("PATH=")))|length')" "1"
expect_eq "Labels" "$(q .Config.Labels.tier)" "front"
expect_eq "WorkingDir" "$(q .Config.WorkingDir)" "/tmp"
expect_eq "User" "$(q .Config.User)" "1000:1000"
expect_eq "Hostname" "$(q .Config.Hostname)" "myhost"
expect_eq "ExposedPorts" "$(q '.Config.ExposedPorts|keys|join(",")')" "7000/tcp,80/tcp,90/udp"
expect_eq "PortBindings 80" "$(q '.HostConfig.PortBindings["80/tcp"][0].HostPort')" "8080"
expect_eq "PortBindings 90 ip" "$(q '.HostConfig.PortBindings["90/udp"][0].HostIp')" "127.0.0.1"
expect_eq "Memory" "$(q .HostConfig.Memory)" "67108864"
expect_eq "NanoCpus" "$(q .HostConfig.NanoCpus)" "1500000000"
expect_eq "RestartPolicy" "$(q '.HostConfig.RestartPolicy|"\(.Name):\(.MaximumRetryCount)"')" "on-failure:3"
expect_eq "Init" "$(q .HostConfig.Init)" "true"
expect_eq "CapAdd" "$(q '.HostConfig.CapAdd|join(",")')" "NET_ADMIN"
expect_eq "ReadonlyRootfs" "$(q .HostConfig.ReadonlyRootfs)" "true"
expect_eq "Tmpfs" "$(q '.HostConfig.Tmpfs["/run"]')" "size=1m"
expect_eq "Ulimits" "$(q '.HostConfig.Ulimits[0]|"\(.Name)=\(.Soft):\(.Hard)"')" "nofile=512:1024"
expect_eq "Healthcheck" "$(q '.Config.Healthcheck.Test|join(" ")')" "CMD-SHELL true"
expect_eq "Healthcheck interval" "$(q .Config.Healthcheck.Interval)" "5000000000"
expect_eq "LogConfig default type" "$(q .HostConfig.LogConfig.Type)" "json-file"
expect_eq "LogConfig opts" "$(q '.HostConfig.LogConfig.Config["max-size"]')" "1m"
expect_eq "Image is the image ID" "$(q .Image)" "$(b image inspect -f '{{.Id}}' busybox)"
expect_eq "GraphDriver" "$(q .GraphDriver.Name)" "overlay2"

# defaults, names, entrypoint rules
id2=$(b create busybox)
n2=$(b inspect -f '{{.Name}}' "$id2")
check "generated name" bash -c "[[ '$n2' =~ ^/[a-z]+_[a-z]+$ ]]"
expect_eq "image CMD used when none given" "$(b inspect -f '{{json .Config.Cmd}}' "$id2")" '["sh"]'
expect_eq "hostname defaults to the short ID" "$(b inspect -f '{{.Config.Hostname}}' "$id2")" "${id2:0:12}"
id3=$(b create --entrypoint /bin/echo busybox hello)
expect_eq "entrypoint and args" "$(b inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$id3")" '["/bin/echo"] ["hello"]'
expect_eq "short-ID prefix lookup" "$(b inspect -f '{{.Id}}' "${id3:0:10}")" "$id3"

# ps
out=$(b ps)
expect_eq "ps without -a hides created containers" "$(wc -l <<<"$out")" 1
out=$(b ps -a)
expect_contains "ps -a header" "$out" "CONTAINER ID   IMAGE     COMMAND"
expect_contains "ps -a shows web" "$out" "web"
expect_eq "ps -aq count" "$(b ps -aq | wc -l)" 3
expect_eq "ps -a --no-trunc -q" "$(b ps -a --no-trunc -q --filter name=^web$)" "$id"
expect_eq "ps --filter label" "$(b ps -a --filter label=tier=front --format '{{.Names}}')" "web"
expect_eq "ps --filter status" "$(b ps -a --filter status=created -q | wc -l)" 3
expect_eq "ps --filter ancestor" "$(b ps -a --filter ancestor=busybox -q | wc -l)" 3
expect_eq "ps -n 1 is the newest" "$(b ps -n 1 -q --no-trunc)" "$id3"
expect_eq "ps --format Status" "$(b ps -a --filter name=web --format '{{.Status}}')" "Created"

# refusals
out=$(b create --name web busybox 2>&1); rc=$?
expect_eq "duplicate name exit status" "$rc" 1
expect_contains "duplicate name message" "$out" 'The container name "/web" is already in use'
out=$(b create -m 1k busybox 2>&1); rc=$?
expect_eq "tiny memory exit status" "$rc" 1
expect_contains "tiny memory message" "$out" "Minimum memory limit allowed is 6MB"
out=$(b create --restart sometimes busybox 2>&1)
expect_contains "bad restart policy" "$out" "invalid restart policy 'sometimes'"
out=$(b create --rm --restart always busybox 2>&1)
expect_contains "--rm with restart" "$out" "can't create 'AutoRemove' container with restart policy"
out=$(b create --name 'bad name' busybox 2>&1)
expect_contains "invalid name" "$out" "Invalid container name (bad name)"
# --pull never: create would otherwise try to pull it from Docker Hub
out=$(b create --pull never nosuchimage 2>&1); rc=$?
expect_eq "unknown image exit status" "$rc" 1
expect_contains "unknown image message" "$out" "No such image: nosuchimage"
out=$(b create --frobnicate busybox 2>&1); rc=$?
expect_eq "unknown flag exit status" "$rc" 125
out=$(b create -p 99999:80 busybox 2>&1); rc=$?
expect_eq "bad port exit status" "$rc" 125
expect_eq "no container left by refusals" "$(b ps -aq | wc -l)" 3

# images in use
out=$(b rmi busybox 2>&1); rc=$?
expect_eq "rmi of an image in use exit status" "$rc" 1
expect_contains "rmi of an image in use message" "$out" "is using its referenced image"

# rename, rm, prune
check "rename" b rename web web2
expect_eq "renamed" "$(b inspect -f '{{.Name}}' web2)" "/web2"
out=$(b rename web2 "$(basename "$n2")" 2>&1); rc=$?
check "rename onto a used name fails" test "$rc" -ne 0
out=$(b rm web2)
expect_eq "rm prints the name" "$out" "web2"
check "rm removed the record" test ! -e "$DATA/containers/$id"
out=$(b rm nosuch 2>&1); rc=$?
expect_eq "rm of a missing container exit status" "$rc" 1
out=$(b rm -f nosuch 2>&1); rc=$?
expect_eq "rm -f of a missing container exits 0" "$rc" 0
out=$(b container prune -f)
expect_contains "prune lists what it deleted" "$out" "$id2"
expect_eq "prune removed everything stopped" "$(b ps -aq | wc -l)" 0
# Unnamed creates never clash: 400 containers draw from 1,920 word pairs,
# so about 40 draws collide and must be drawn again.
b load -q -i "$T/bb.tar" > /dev/null
fails=0
for _ in $(seq 400); do b create busybox true > /dev/null 2>&1 || fails=$((fails + 1)); done
expect_eq "400 unnamed creates succeed" "$fails" 0
expect_eq "400 distinct generated names" "$(b ps -a --format '{{.Names}}' | sort -u | wc -l)" 400
# shellcheck disable=SC2046
b rm $(b ps -aq) > /dev/null
check "rmi works once no container uses the image" b rmi busybox

# docker CLI
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        D() { "$d" -H "unix://$SOCK" "$@"; }
        cid=$(D create --name dk -e X=1 busybox echo hi)
        check "$d create" bash -c "[[ '$cid' =~ ^[0-9a-f]{64}$ ]]"
        expect_contains "$d ps -a" "$(D ps -a)" "dk"
        expect_eq "$d inspect" "$(D inspect -f '{{.State.Status}} {{.Config.Image}}' dk)" "created busybox"
        out=$(D create --name dk busybox 2>&1); rc=$?
        expect_eq "$d duplicate name exit status" "$rc" 1
        D rename dk dk2
        expect_eq "$d rename" "$(D inspect -f '{{.Name}}' dk2)" "/dk2"
        expect_eq "$d rm" "$(D rm dk2)" "dk2"
done
stop_daemon
finish
