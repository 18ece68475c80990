#!/bin/bash
# The API refuses what Docker refuses, with Docker's status and words: a
# body field of the wrong type (Go's "json: cannot unmarshal ..."), values
# out of range at create, invalid image references and tags on every path
# that names an image, a NUL in a query parameter, unknown filter keys and
# filter values of the wrong shape. Nothing refused is stored. The expected
# texts are dockerd 20.10's for the same requests (its status for a type
# error is 500; newer dockerd and berth answer 400).
. "$(dirname "$0")/lib.sh"
start_daemon
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
check "load busybox" b load -i "$T/bb.tar"

GO="json: cannot unmarshal"
# refused DESCRIPTION STATUS MESSAGE METHOD PATH [BODY]
refused() {
        local d=$1 st=$2 msg=$3 m=$4 p=$5 body=${6-}
        if [ $# -ge 6 ]; then
                api "$m" "$p" -H 'Content-Type: application/json' --data-binary "$body"
        else
                api "$m" "$p"
        fi
        expect_eq "$d: status" "$API_STATUS" "$st"
        expect_eq "$d: message" "$(jq -r .message <<< "$API_BODY" 2>/dev/null)" "$msg"
}
create() { refused "create $1" 400 "$2" POST /containers/create "$3"; }
hc() { create "$1" "$2" "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":$3}"; }

# --- container create: types ---------------------------------------------------
hc "Memory as a string" "$GO string into Go struct field HostConfig.HostConfig.Memory of type int64" '{"Memory":"64m"}'
hc "Memory not an integer" "$GO number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64" '{"Memory":1.5}'
hc "Privileged as a string" "$GO string into Go struct field HostConfig.HostConfig.Privileged of type bool" '{"Privileged":"yes"}'
hc "ReadonlyRootfs as a number" "$GO number into Go struct field HostConfig.HostConfig.ReadonlyRootfs of type bool" '{"ReadonlyRootfs":1}'
hc "AutoRemove as a string" "$GO string into Go struct field HostConfig.HostConfig.AutoRemove of type bool" '{"AutoRemove":"true"}'
hc "PidsLimit as a string" "$GO string into Go struct field HostConfig.HostConfig.PidsLimit of type int64" '{"PidsLimit":"5"}'
hc "NanoCpus as a bool" "$GO bool into Go struct field HostConfig.HostConfig.NanoCpus of type int64" '{"NanoCpus":true}'
hc "CpuShares as a string" "$GO string into Go struct field HostConfig.HostConfig.CpuShares of type int64" '{"CpuShares":"2"}'
hc "MemorySwap as an array" "$GO array into Go struct field HostConfig.HostConfig.MemorySwap of type int64" '{"MemorySwap":[]}'
hc "ShmSize as a string" "$GO string into Go struct field HostConfig.HostConfig.ShmSize of type int64" '{"ShmSize":"1"}'
hc "BlkioWeight out of uint16" "$GO number 70000 into Go struct field HostConfig.HostConfig.BlkioWeight of type uint16" '{"BlkioWeight":70000}'
hc "CapDrop as a number" "$GO number into Go struct field HostConfig.HostConfig.CapDrop of type string" '{"CapDrop":5}'
hc "CapAdd as a list of numbers" "$GO array into Go struct field HostConfig.HostConfig.CapAdd of type string" '{"CapAdd":[5]}'
hc "Binds as a string" "$GO string into Go struct field HostConfig.HostConfig.Binds of type []string" '{"Binds":"/a:/b"}'
hc "Binds of numbers" "$GO number into Go struct field HostConfig.HostConfig.Binds of type string" '{"Binds":[1]}'
hc "PortBindings of a string" "$GO string into Go struct field HostConfig.HostConfig.PortBindings of type []nat.PortBinding" '{"PortBindings":{"80/tcp":"8080"}}'
hc "HostPort as a number" "$GO number into Go struct field PortBinding.HostConfig.PortBindings.HostPort of type string" '{"PortBindings":{"80/tcp":[{"HostPort":8080}]}}'
hc "RestartPolicy as a string" "$GO string into Go struct field HostConfig.HostConfig.RestartPolicy of type container.RestartPolicy" '{"RestartPolicy":"always"}'
hc "MaximumRetryCount as a string" "$GO string into Go struct field RestartPolicy.HostConfig.RestartPolicy.MaximumRetryCount of type int" '{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":"3"}}'
hc "LogConfig options of numbers" "$GO number into Go struct field LogConfig.HostConfig.LogConfig.Config of type string" '{"LogConfig":{"Type":"json-file","Config":{"max-size":1}}}'
hc "Mounts as an object" "$GO object into Go struct field HostConfig.HostConfig.Mounts of type []mount.Mount" '{"Mounts":{}}'
hc "Mount Target as a number" "$GO number into Go struct field Mount.HostConfig.Mounts.Target of type string" '{"Mounts":[{"Type":"tmpfs","Target":5}]}'
hc "HostConfig as a list" "$GO array into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig" '[]'
create "Env as a string" "$GO string into Go struct field ContainerConfigWrapper.Env of type []string" '{"Image":"busybox","Env":"A=1"}'
create "Env of numbers" "$GO number into Go struct field ContainerConfigWrapper.Env of type string" '{"Image":"busybox","Env":[1]}'
create "Cmd of numbers" "$GO array into Go struct field ContainerConfigWrapper.Cmd of type string" '{"Image":"busybox","Cmd":[1]}'
create "Entrypoint as an object" "$GO object into Go struct field ContainerConfigWrapper.Entrypoint of type string" '{"Image":"busybox","Entrypoint":{}}'
create "Labels of numbers" "$GO number into Go struct field ContainerConfigWrapper.Labels of type string" '{"Image":"busybox","Labels":{"a":1}}'
create "ExposedPorts as a list" "$GO array into Go struct field ContainerConfigWrapper.ExposedPorts of type nat.PortSet" '{"Image":"busybox","ExposedPorts":["80/tcp"]}'
create "Volumes of numbers" "$GO number into Go struct field ContainerConfigWrapper.Volumes of type struct {}" '{"Image":"busybox","Volumes":{"/a":1}}'
create "Image as a number" "$GO number into Go struct field ContainerConfigWrapper.Image of type string" '{"Image":5}'
create "body a list" "$GO array into Go value of type runconfig.ContainerConfigWrapper" '[]'
create "EndpointsConfig Aliases as a string" "$GO string into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type []string" '{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":"a"}}}}'

# --- container create: ranges ----------------------------------------------------
hc "ShmSize -1" "SHM size can not be less than 0" '{"ShmSize":-1}'
hc "HostPort 99999" 'invalid port specification: "99999"' '{"PortBindings":{"80/tcp":[{"HostPort":"99999"}]}}'
hc "HostPort abc" 'invalid port specification: "abc"' '{"PortBindings":{"80/tcp":[{"HostPort":"abc"}]}}'
hc "container port abc" 'invalid port specification: "abc"' '{"PortBindings":{"abc/tcp":[{"HostPort":"80"}]}}'
hc "Memory negative" "Minimum memory limit allowed is 6MB" '{"Memory":-5}'
ncpu=$(nproc)
hc "NanoCpus above the CPUs" "Range of CPUs is from 0.01 to $ncpu.00, as there are only $ncpu CPUs available" "{\"NanoCpus\":$((ncpu + 1))000000000}"

create "ShmSize -1 before the image is looked up" "SHM size can not be less than 0" '{"Image":"nosuch","HostConfig":{"ShmSize":-1}}'
create "type error before the image is looked up" "$GO string into Go struct field HostConfig.HostConfig.Memory of type int64" '{"Image":"nosuch","HostConfig":{"Memory":"1"}}'

api GET "/containers/json?all=1"
expect_eq "no container was created by a refused body" "$(jq length <<< "$API_BODY")" 0

# What Go takes still passes: a string Cmd or CapDrop (strslice), null,
# unknown keys, port ranges and empty host ports; CapDrop "ALL" drops them all.
api POST "/containers/create?name=strslice" -H 'Content-Type: application/json' --data-binary \
        '{"Image":"busybox","Cmd":"cat /proc/self/status","Entrypoint":["sh","-c"],"Frobnicate":[1],"Labels":{"a":null},"HostConfig":{"CapDrop":"ALL","Memory":null}}'
expect_eq "strslice strings accepted" "$API_STATUS" 201
api POST "/containers/create?name=ports" -H 'Content-Type: application/json' --data-binary \
        '{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8000-8010"},{"HostPort":""},{"HostPort":"0"}]}}}'
expect_eq "port ranges and empty host ports accepted" "$API_STATUS" 201
api GET /containers/strslice/json
expect_eq "CapDrop string stored as a list" "$(jq -c .HostConfig.CapDrop <<< "$API_BODY")" '["ALL"]'
expect_eq "Cmd string stored as a list" "$(jq -c .Config.Cmd <<< "$API_BODY")" '["cat /proc/self/status"]'
expect_eq "null label value stored as empty" "$(jq -c .Config.Labels.a <<< "$API_BODY")" '""'
check "start the strslice container" b start strslice
check "wait for it" b wait strslice
expect_eq "CapDrop ALL applied: no effective capability" \
        "$(b logs strslice 2>&1 | awk '/^CapEff:/ {print $2}')" "0000000000000000"

# --- container update, exec, commit ------------------------------------------------
refused "update Memory as a string" 400 "$GO string into Go struct field UpdateConfig.Memory of type int64" \
        POST /containers/strslice/update '{"Memory":"64m"}'
refused "update RestartPolicy Name as a number" 400 "$GO number into Go struct field RestartPolicy.RestartPolicy.Name of type string" \
        POST /containers/strslice/update '{"RestartPolicy":{"Name":1}}'
refused "update body a list" 400 "$GO array into Go value of type container.UpdateConfig" \
        POST /containers/strslice/update '[]'
api GET /containers/strslice/json
expect_eq "refused update left Memory alone" "$(jq '.HostConfig.Memory // 0' <<< "$API_BODY")" 0
refused "exec Cmd of numbers" 400 "$GO number into Go struct field ExecConfig.Cmd of type string" \
        POST /containers/strslice/exec '{"Cmd":["ls",1]}'
refused "exec Cmd as a string" 400 "$GO string into Go struct field ExecConfig.Cmd of type []string" \
        POST /containers/strslice/exec '{"Cmd":"ls"}'
refused "exec Tty as a string" 400 "$GO string into Go struct field ExecConfig.Tty of type bool" \
        POST /containers/strslice/exec '{"Cmd":["ls"],"Tty":"yes"}'
refused "commit config Env as a string" 400 "$GO string into Go struct field Config.Env of type []string" \
        POST "/commit?container=strslice&repo=c1" '{"Env":"A=1"}'
refused "commit tag a/b" 400 "invalid tag format: 'a/b'" POST "/commit?container=strslice&repo=c1&tag=a/b"
refused "commit repo ../x" 400 "invalid reference format: bad domain in '../x'" POST "/commit?container=strslice&repo=../x"

# --- networks and volumes ------------------------------------------------------------
nw() { refused "network create $1" 400 "$2" POST /networks/create "$3"; }
nw "IPAM as a string" "$GO string into Go struct field NetworkCreateRequest.IPAM of type network.IPAM" '{"Name":"v1","IPAM":"x"}'
nw "IPAM Config as an object" "$GO object into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig" '{"Name":"v1","IPAM":{"Config":{}}}'
nw "Subnet as a number" "$GO number into Go struct field IPAMConfig.IPAM.Config.Subnet of type string" '{"Name":"v1","IPAM":{"Config":[{"Subnet":5}]}}'
nw "Labels as a list" "$GO array into Go struct field NetworkCreateRequest.Labels of type map[string]string" '{"Name":"v1","Labels":[]}'
nw "Labels of numbers" "$GO number into Go struct field NetworkCreateRequest.Labels of type string" '{"Name":"v1","Labels":{"a":1}}'
nw "Internal as a string" "$GO string into Go struct field NetworkCreateRequest.Internal of type bool" '{"Name":"v1","Internal":"yes"}'
nw "Attachable as a number" "$GO number into Go struct field NetworkCreateRequest.Attachable of type bool" '{"Name":"v1","Attachable":1}'
nw "body a list" "$GO array into Go value of type types.NetworkCreateRequest" '[]'
api GET /networks/v1
expect_eq "no network was created by a refused body" "$API_STATUS" 404
refused "network connect EndpointConfig as a string" 400 "$GO string into Go struct field NetworkConnect.EndpointConfig of type network.EndpointSettings" \
        POST /networks/bridge/connect '{"Container":"strslice","EndpointConfig":"x"}'

vol() { refused "volume create $1" 400 "$2" POST /volumes/create "$3"; }
vol "body a list" "$GO array into Go value of type volume.VolumeCreateBody" '[]'
vol "body a string" "$GO string into Go value of type volume.VolumeCreateBody" '"x"'
vol "body a number" "$GO number into Go value of type volume.VolumeCreateBody" '5'
vol "Name as a number" "$GO number into Go struct field VolumeCreateBody.Name of type string" '{"Name":5}'
vol "Driver as a bool" "$GO bool into Go struct field VolumeCreateBody.Driver of type string" '{"Driver":true}'
vol "DriverOpts of numbers" "$GO number into Go struct field VolumeCreateBody.DriverOpts of type string" '{"DriverOpts":{"size":1}}'
vol "Labels as a string" "$GO string into Go struct field VolumeCreateBody.Labels of type map[string]string" '{"Labels":"x"}'
api GET /volumes
expect_eq "no volume was created by a refused body" "$(jq '.Volumes | length' <<< "$API_BODY")" 0

# --- image references ------------------------------------------------------------------
long=$(printf 'a%.0s' $(seq 300))
refused "tag ../x:latest" 400 "invalid reference format: bad domain in '../x:latest'" POST "/images/busybox/tag?repo=../x&tag=latest"
refused "tag repo:../y" 400 "invalid tag format: '../y'" POST "/images/busybox/tag?repo=repo&tag=../y"
refused "tag repo:a/b" 400 "invalid tag format: 'a/b'" POST "/images/busybox/tag?repo=repo&tag=a/b"
refused "tag repo:a/b in repo" 400 "invalid reference format: bad domain in 'repo:a/b'" POST "/images/busybox/tag?repo=repo:a/b"
refused "tag 5000/x (would name img:5000/x)" 400 "invalid tag format: '5000/x'" POST "/images/busybox/tag?repo=img&tag=5000/x"
refused "tag of 129 characters" 400 "invalid tag format: '$(printf 't%.0s' $(seq 129))'" POST "/images/busybox/tag?repo=r&tag=$(printf 't%.0s' $(seq 129))"
refused "tag .x" 400 "invalid tag format: '.x'" POST "/images/busybox/tag?repo=r&tag=.x"
refused "name of 300 characters" 400 "repository name must not be more than 255 characters" POST "/images/busybox/tag?repo=$long&tag=x"
refused "name of 238 characters (255 as stored)" 400 "repository name must not be more than 255 characters" POST "/images/busybox/tag?repo=${long:0:238}"
refused "upper case name" 400 "invalid reference format: repository name must be lowercase in 'Repo:x'" POST "/images/busybox/tag?repo=Repo&tag=x"
refused "NUL in a query parameter" 400 "malformed query: a NUL byte (%00) in a parameter" POST "/images/busybox/tag?repo=app/x%00y"
refused "NUL in the path" 400 "malformed path '/images/busy%00box/json'" GET "/images/busy%00box/json"
api POST "/images/busybox/tag?repo=${long:0:237}"
expect_eq "name of 237 characters tagged" "$API_STATUS" 201
api POST "/images/busybox/tag?repo=localhost:5000/ok/name&tag=v1.0_rc-1"
expect_eq "registry name with port tagged" "$API_STATUS" 201
refused "import repo ../x" 400 "invalid reference format: bad domain in '../x'" POST "/images/create?fromSrc=-&repo=../x" ""
refused "import tag a/b" 400 "invalid tag format: 'a/b'" POST "/images/create?fromSrc=-&repo=x&tag=a/b" ""
refused "pull ../x" 400 "invalid reference format: bad domain in '../x:latest'" POST "/images/create?fromImage=../x&tag=latest"
refused "pull tag a/b" 400 "invalid tag format: 'a/b'" POST "/images/create?fromImage=busybox&tag=a/b"
refused "pull name of 300 characters" 400 "repository name must not be more than 255 characters" POST "/images/create?fromImage=$long&tag=x"
refused "push tag a/b" 400 "invalid tag format: 'a/b'" POST "/images/busybox/push?tag=a/b"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bad.tar" 'repo:a/b' > /dev/null
api POST /images/load --data-binary "@$T/bad.tar"
expect_contains "load of a tag repo:a/b refused" "$API_BODY" "invalid reference format: bad domain in 'repo:a/b'"
api GET /images/json
tags=$(jq -r '.[].RepoTags[]?' <<< "$API_BODY" | sort | tr '\n' ' ')
expect_eq "only the valid names are in the store" "$tags" "${long:0:237}:latest busybox:latest localhost:5000/ok/name:v1.0_rc-1 "

# --- filters ---------------------------------------------------------------------------
q() { jq -rn --arg v "$1" '$v|@uri'; }
for p in /containers/json /images/json /networks /volumes; do
        refused "unknown filter key on $p" 400 "invalid filter 'x'" GET "$p?filters=$(q '{"x":["a"]}')"
        refused "filter of numbers on $p" 400 "invalid filter 'label': values must be strings" GET "$p?filters=$(q '{"label":[5]}')"
        refused "filter map of strings on $p" 400 "invalid filter 'label': values must be true or false" GET "$p?filters=$(q '{"label":{"a":"yes"}}')"
        refused "filter of a bare string on $p" 400 "invalid filter 'label'" GET "$p?filters=$(q '{"label":"a"}')"
done
for p in /containers/prune /images/prune /networks/prune /volumes/prune; do
        refused "unknown filter key on $p" 400 "invalid filter 'x'" POST "$p?filters=$(q '{"x":["a"]}')"
done
api GET "/networks?filters=$(q '{"label":null}')"
expect_eq "a null filter value is no filter" "$API_STATUS" 200
api GET "/containers/json?all=1&filters=$(q '{"name":{"strslice":true}}')"
expect_eq "the Go CLI's filter encoding still works" "$(jq -r '.[0].Names[0]' <<< "$API_BODY")" "/strslice"
api GET "/containers/json?all=1&filters=$(q '{"name":["strslice"]}')"
expect_eq "docker-py's filter encoding still works" "$(jq -r '.[0].Names[0]' <<< "$API_BODY")" "/strslice"

b rm -f strslice ports > /dev/null
stop_daemon
finish
