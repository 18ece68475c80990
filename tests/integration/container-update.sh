#!/bin/bash
# docker update (limits into a running container's cgroup and its record,
# Docker's refusals), docker diff (on overlay2 and vfs, running and stopped),
# HostConfig.Runtime, --device-cgroup-rule, and an unknown logging driver,
# through both docker CLIs, docker-py and the API.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
DOCKERS=()
for d in /usr/local/bin/docker /usr/bin/docker; do [ -x "$d" ] && DOCKERS+=("$d"); done
[ ${#DOCKERS[@]} -gt 0 ] || skip "no docker CLI"
dk() { "$DOCKER" -H "unix://$SOCK" "$@"; }

# The container's cgroup directory of controller ctrl (v1) from the host's
# view of its init process.
cg_dir() { # name ctrl
        local pid line
        pid=$(b inspect -f '{{.State.Pid}}' "$1")
        line=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" "/proc/$pid/cgroup" | head -n 1)
        local mnt
        mnt=$(awk -v c="$2" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") {print $2; exit}' /proc/mounts)
        echo "$mnt${line#*:*:}"
}
cg_read() { cat "$(cg_dir "$1" "$2")/$3" 2>/dev/null; }

for driver in overlay2 vfs; do
        DATA=$T/data-$driver
        write_config <<< "[storage]
driver = $driver"
        start_daemon
        b load -q -i "$T/bb.tar" > /dev/null
        for DOCKER in "${DOCKERS[@]}"; do
                v=$("$DOCKER" -v | awk '{print $3}' | tr -d ,)
                # docker diff: added, changed, deleted, sorted by path.
                dk run -d --name df busybox sh -c 'mkdir /x && echo 1 > /x/f && rm /bin/true && sleep 300' > /dev/null
                sleep 0.5
                out=$(dk diff df 2>&1)
                expect_eq "$driver $v docker diff of a running container" "$out" "C /bin
D /bin/true
A /x
A /x/f"
                dk stop -t 0 df > /dev/null
                out=$(dk diff df 2>&1)
                expect_contains "$driver $v docker diff of a stopped one" "$out" "D /bin/true"
                dk rm -f df > /dev/null
                dk diff nosuch > /dev/null 2>&1
                check "$driver $v docker diff of a missing container fails" [ $? -ne 0 ]
        done
        api GET /containers/nosuch/changes
        expect_eq "$driver changes of a missing container is 404" "$API_STATUS" 404
        b run -d --name etc busybox sh -c 'echo x >> /etc/passwd; sleep 300' > /dev/null
        sleep 0.5
        api GET /containers/etc/changes
        expect_eq "$driver changes: the runtime's mount points are not changes" "${API_BODY%$'\n'}" \
                '[{"Path":"/etc","Kind":0},{"Path":"/etc/passwd","Kind":0}]'
        b rm -f etc > /dev/null
        stop_daemon
done

DATA=$T/data
write_config < /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
for DOCKER in "${DOCKERS[@]}"; do
        v=$("$DOCKER" -v | awk '{print $3}' | tr -d ,)
        dk run -d --name up busybox sleep 300 > /dev/null
        out=$(dk update --memory 64m --memory-swap -1 --cpus 0.5 --pids-limit 50 \
                --restart on-failure:3 up 2>&1)
        expect_eq "$v docker update prints the name" "$out" "up"
        expect_eq "$v memory.limit_in_bytes" "$(cg_read up memory memory.limit_in_bytes)" 67108864
        expect_eq "$v cpu.cfs_quota_us" "$(cg_read up cpu cpu.cfs_quota_us)" 50000
        expect_eq "$v cpu.cfs_period_us" "$(cg_read up cpu cpu.cfs_period_us)" 100000
        expect_eq "$v pids.max" "$(cg_read up pids pids.max)" 50
        out=$(dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' up)
        expect_eq "$v inspect shows the update" "$out" "67108864 500000000 50 on-failure:3"
        dk update --cpu-shares 512 --cpuset-cpus 0 --memory-reservation 32m up > /dev/null
        expect_eq "$v cpu.shares" "$(cg_read up cpu cpu.shares)" 512
        expect_eq "$v cpuset.cpus" "$(cg_read up cpuset cpuset.cpus)" 0
        expect_eq "$v memory.soft_limit_in_bytes" "$(cg_read up memory memory.soft_limit_in_bytes)" 33554432
        dk restart -t 0 up > /dev/null
        expect_eq "$v a restart keeps the memory limit" "$(cg_read up memory memory.limit_in_bytes)" 67108864
        expect_eq "$v a restart keeps pids.max" "$(cg_read up pids pids.max)" 50
        dk update --pids-limit -1 up > /dev/null
        expect_eq "$v --pids-limit -1 lifts the limit" "$(cg_read up pids pids.max)" max
        expect_eq "$v inspect after --pids-limit -1" "$(dk inspect -f '{{.HostConfig.PidsLimit}}' up)" 0
        out=$(dk update --memory 4m up 2>&1)
        expect_contains "$v memory below 6MB is refused" "$out" "Minimum memory limit allowed is 6MB"
        out=$(dk update --cpu-quota 20000 up 2>&1)
        expect_contains "$v quota after --cpus is refused" "$out" \
                "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
        dk rm -f up > /dev/null

        # The policy an update sets is the one the next exit follows.
        dk run -d --name rs busybox sh -c 'sleep 1; exit 3' > /dev/null
        dk update --restart on-failure:1 rs > /dev/null
        for _ in $(seq 50); do
                [ "$(dk inspect -f '{{.RestartCount}}' rs)" = 1 ] && break
                sleep 0.2
        done
        expect_eq "$v an updated restart policy restarts the container" \
                "$(dk inspect -f '{{.RestartCount}}' rs)" 1
        dk rm -f rs > /dev/null

        dk create --name stopped busybox true > /dev/null
        dk update --memory 32m --memory-swap -1 --restart always stopped > /dev/null
        expect_eq "$v a stopped container gets the record change" \
                "$(dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}' stopped)" "33554432 always"
        dk rm -f stopped > /dev/null
        dk create --rm --name auto busybox true > /dev/null
        out=$(dk update --restart always auto 2>&1)
        expect_contains "$v restart policy on an AutoRemove container" "$out" \
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
        dk rm -f auto > /dev/null

        expect_eq "$v HostConfig.Runtime" "$(dk create --name rt busybox true > /dev/null && dk inspect -f '{{.HostConfig.Runtime}}' rt)" "runc"
        dk rm -f rt > /dev/null

        out=$(dk run --rm --log-driver asdf busybox true 2>&1)
        expect_contains "$v unknown logging driver" "$out" "logger: no log driver named 'asdf' is registered"

        out=$(dk run --rm --device-cgroup-rule 'c 42:* rmw' busybox sh -c 'mknod /tmp/d c 42 0 && echo made' 2>&1)
        expect_eq "$v --device-cgroup-rule allows mknod" "$out" "made"
        out=$(dk run --rm busybox sh -c 'mknod /tmp/d c 42 0 && echo made' 2>&1)
        expect_contains "$v without the rule mknod is denied" "$out" "Operation not permitted"
done

if python3 -c 'import docker' 2> /dev/null; then
        out=$(python3 - "$SOCK" <<'PY' 2>&1
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="1.41")
ct = c.containers.run("busybox", "sleep 300", detach=True, name="py")
r = ct.update(mem_limit="48m", memswap_limit=-1, cpu_shares=256)
ct.reload()
print(r, ct.attrs["HostConfig"]["Memory"], ct.attrs["HostConfig"]["CpuShares"])
print(sorted((d["Kind"], d["Path"]) for d in (c.api.diff(ct.id) or [])))
ct.remove(force=True)
PY
)
        expect_eq "docker-py update and diff" "$out" "{'Warnings': []} 50331648 256
[]"
fi

api POST /containers/nosuch/update -H 'Content-Type: application/json' -d '{"Memory":67108864}'
expect_eq "update of a missing container is 404" "$API_STATUS" 404
b rm -f $(b ps -aq) > /dev/null 2>&1
stop_daemon
finish
