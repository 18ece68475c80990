#!/bin/bash
# Pull from a real registry (Debian's docker-registry on loopback) that an
# independent client (skopeo) filled: berth pull, run, pull by digest, -a,
# the API's progress stream, the docker CLI against berthd, and the faults:
# unknown names, a corrupt blob, a dropped connection (resumed by Range), a
# registry killed mid-pull, the registry helper killed or stopped mid-pull, an
# unknown manifest type, a huge manifest, and a registry that does not answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"

P=$(free_port)
R=127.0.0.1:$P
start_registry "$T/reg" "$P" || exit 1
bash "$MKIMAGE" busybox "$T/bb.tar" > /dev/null
bash "$MKIMAGE" multi "$T/multi.tar" > /dev/null
skopeo_put "$T/bb.tar" "$R/test/busybox:latest" || { echo "skopeo copy failed" >&2; exit 1; }
skopeo_put "$T/bb.tar" "$R/test/busybox:second"
skopeo_put "$T/multi.tar" "$R/test/multi:latest"

write_config <<< $'[registry]\ntimeout = 2'
start_daemon

# --- pull and run ----------------------------------------------------------
t0=$(date +%s.%N)
out=$(b pull "$R/test/busybox" 2>&1)
check "pull from the registry succeeds" [ $? = 0 ]
ev=$(b events --since "$t0" --until "$(date +%s.%N)" --filter event=pull --format '{{.Type}} {{.Action}} {{.Actor.ID}}')
expect_eq "a pull event names the reference" "$ev" "image pull $R/test/busybox:latest"
expect_contains "pull shows the layer completing" "$out" "Pull complete"
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/test/busybox:latest")
expect_contains "pull shows the manifest digest" "$out" "Digest: $digest"
expect_contains "pull shows the final status" "$out" "Status: Downloaded newer image for $R/test/busybox:latest"
expect_eq "the pulled image has the ID a load gives" \
        "$(b image inspect -f '{{.Id}}' "$R/test/busybox")" "$(archive_id "$T/bb.tar")"
expect_contains "RepoDigests has the manifest digest" \
        "$(b image inspect -f '{{json .RepoDigests}}' "$R/test/busybox")" "$R/test/busybox@$digest"
expect_eq "the pulled image runs" "$(b run --rm --network none "$R/test/busybox" echo pulled)" "pulled"

out=$(b pull "$R/test/busybox" 2>&1)
expect_contains "a second pull is up to date" "$out" "Status: Image is up to date for $R/test/busybox:latest"

out=$(b pull "$R/test/multi:latest" 2>&1)
check "pull of a four-layer image succeeds" [ $? = 0 ]
expect_eq "the four-layer image has the ID a load gives" \
        "$(b image inspect -f '{{.Id}}' "$R/test/multi")" "$(archive_id "$T/multi.tar")"
expect_eq "layers, whiteouts and opaque dirs are applied" \
        "$(b run --rm --network none "$R/test/multi" sh -c 'cat /etc/motd; ls /opt/dir; ls /data; test -e /etc/deleteme || echo gone')" \
        "$(printf 'welcome to multi\nc\nfile2\nhard\nlink\ngone')"
mdigest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/test/multi:latest")

b rmi -f "$R/test/busybox" "$R/test/busybox:latest" > /dev/null 2>&1
out=$(b pull "$R/test/busybox@$digest" 2>&1)
check "pull by digest succeeds" [ $? = 0 ]
expect_contains "pull by digest names the digest" \
        "$(b image inspect -f '{{json .RepoDigests}}' "$R/test/busybox@$digest")" "$digest"

out=$(b pull -q "$R/test/busybox:second")
expect_eq "pull -q prints only the name" "$out" "$R/test/busybox:second"
b rmi "$R/test/busybox:second" > /dev/null
out=$(b pull -a "$R/test/busybox" 2>&1)
check "pull -a succeeds" [ $? = 0 ]
tags=$(b images --format '{{.Tag}}' "$R/test/busybox" | sort | tr '\n' ' ')
expect_eq "pull -a pulls every tag" "$tags" "latest second "
out=$(b pull -a "$R/test/busybox:latest" 2>&1)
check "pull -a with a tag is refused" [ $? != 0 ]

b rmi "$R/test/busybox:second" > /dev/null
out=$(b run --rm --network none --pull never "$R/test/busybox:second" echo auto 2>&1)
check "run --pull never does not pull a missing image" [ $? != 0 ]
out=$(b run --rm --network none "$R/test/busybox:second" echo auto 2> "$T/run.err")
expect_eq "run pulls a missing image and runs it" "$out" "auto"
expect_contains "run says it pulls" "$(cat "$T/run.err")" "Unable to find image '$R/test/busybox:second' locally"

# --- manifest lists and OCI indexes: the platform asked for, else linux/amd64 ---
skopeo_put "$T/bb.tar" "$R/test/list:bb"
skopeo_put "$T/multi.tar" "$R/test/list:multi"
python3 - "$R" << 'PY'
import hashlib, json, sys, urllib.request
r = sys.argv[1]
def desc(tag, arch):
    q = urllib.request.Request("http://%s/v2/test/list/manifests/%s" % (r, tag),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    b = urllib.request.urlopen(q).read()
    return {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": len(b),
            "digest": "sha256:" + hashlib.sha256(b).hexdigest(),
            "platform": {"architecture": arch, "os": "linux"}}
for tag, mt in (("list", "application/vnd.docker.distribution.manifest.list.v2+json"),
                ("index", "application/vnd.oci.image.index.v1+json")):
    body = json.dumps({"schemaVersion": 2, "mediaType": mt,
                       "manifests": [desc("bb", "arm64"), desc("multi", "amd64")]}).encode()
    q = urllib.request.Request("http://%s/v2/test/list/manifests/%s" % (r, tag), data=body,
                               method="PUT", headers={"Content-Type": mt})
    urllib.request.urlopen(q)
PY
check "a manifest list and an OCI index are in the registry" [ $? = 0 ]
for kind in list index; do
        out=$(b pull "$R/test/list:$kind" 2>&1)
        check "pull of a $kind succeeds" [ $? = 0 ]
        expect_eq "a $kind gives the linux/amd64 image" "$(b image inspect -f '{{.Id}}' "$R/test/list:$kind")" "$(archive_id "$T/multi.tar")"
        out=$(b pull --platform linux/arm64 "$R/test/list:$kind" 2>&1)
        check "pull --platform linux/arm64 of a $kind succeeds" [ $? = 0 ]
        expect_eq "--platform picks the arm64 image of a $kind" "$(b image inspect -f '{{.Id}}' "$R/test/list:$kind")" "$(archive_id "$T/bb.tar")"
done
out=$(b pull --platform linux/s390x "$R/test/list:list" 2>&1)
check "a platform the list lacks fails" [ $? != 0 ]
expect_contains "and says so" "$out" "no matching manifest for linux/s390x"

# --- an OCI manifest with uncompressed layers (put by a client of our own) ---
python3 - "$R" "$T/multi.tar" << 'PY'
import hashlib, json, sys, tarfile, urllib.request
r, archive = sys.argv[1], sys.argv[2]
t = tarfile.open(archive)
names = {n.lstrip("./"): n for n in t.getnames()}
m = json.load(t.extractfile(names["manifest.json"]))[0]
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    q = urllib.request.Request("http://%s/v2/test/oci/blobs/uploads/" % r, data=b"", method="POST")
    loc = urllib.request.urlopen(q).headers["Location"]
    if loc.startswith("/"):
        loc = "http://" + r + loc
    q = urllib.request.Request(loc + ("&" if "?" in loc else "?") + "digest=" + d, data=data,
                               method="PUT", headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(q)
    return d, len(data)
cd, cs = put(t.extractfile(names[m["Config"]]).read())
layers = []
for l in m["Layers"]:
    d, n = put(t.extractfile(names[l]).read())
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n})
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                  "layers": layers}).encode()
q = urllib.request.Request("http://%s/v2/test/oci/manifests/plain" % r, data=man, method="PUT",
                           headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
urllib.request.urlopen(q)
PY
check "an OCI image with uncompressed layers is in the registry" [ $? = 0 ]
b rmi -f "$(archive_id "$T/multi.tar")" > /dev/null 2>&1
out=$(b pull "$R/test/oci:plain" 2>&1)
check "pull of an OCI manifest with uncompressed layers succeeds" [ $? = 0 ]
expect_eq "it is the same image" "$(b image inspect -f '{{.Id}}' "$R/test/oci:plain")" "$(archive_id "$T/multi.tar")"
expect_eq "it runs" "$(b run --rm --network none "$R/test/oci:plain" cat /etc/motd)" "welcome to multi"
b rmi -f "$(archive_id "$T/multi.tar")" > /dev/null

# --- the API: Docker's progress messages ------------------------------------
b rmi -f "$R/test/multi" > /dev/null 2>&1
api POST "/v1.41/images/create?fromImage=$R/test/multi&tag=latest"
expect_eq "API pull answers 200" "$API_STATUS" "200"
expect_contains "API pull streams Pulling fs layer" "$API_BODY" '"status":"Pulling fs layer"'
expect_contains "API pull streams download progress" "$API_BODY" '"progressDetail":{"current":'
expect_contains "API pull streams Download complete" "$API_BODY" '"status":"Download complete"'
expect_contains "API pull ends with the status" "$API_BODY" "Downloaded newer image for $R/test/multi:latest"

# --- the docker CLI against berthd -------------------------------------------
if [ -x /usr/local/bin/docker ]; then
        b rmi -f "$R/test/multi" > /dev/null
        out=$(DOCKER_HOST=unix://$SOCK /usr/local/bin/docker pull "$R/test/multi:latest" 2>&1)
        check "docker pull through berthd succeeds" [ $? = 0 ]
        expect_contains "docker pull shows the digest" "$out" "Digest: $mdigest"
        expect_eq "docker sees the image" \
                "$(DOCKER_HOST=unix://$SOCK /usr/local/bin/docker image inspect -f '{{.Id}}' "$R/test/multi")" \
                "$(archive_id "$T/multi.tar")"
fi

# --- not found ----------------------------------------------------------------
out=$(b pull "$R/test/busybox:nope" 2>&1)
check "an unknown tag fails" [ $? != 0 ]
expect_contains "an unknown tag says not found" "$out" "manifest for $R/test/busybox:nope not found"
api POST "/v1.41/images/create?fromImage=$R/test/busybox&tag=nope"
expect_eq "API pull of an unknown tag is a 404 before any progress" "$API_STATUS" "404"
expect_contains "with Docker's message" "$API_BODY" "manifest unknown"
out=$(b pull "$R/no/such" 2>&1)
check "an unknown repository fails" [ $? != 0 ]
expect_contains "an unknown repository says so" "$out" "not found"

count_layers() { ls "$DATA"/image/*/layers | wc -l; }
count_tmp() { ls "$DATA"/image/*/tmp | wc -l; }

# --- a corrupt blob: refused, nothing stored ---------------------------------
# an image of its own, so that no other test shares its blobs
mkdir -p "$T/u"
echo "unique $RANDOM$RANDOM" > "$T/u/only"
tar -C "$T/u" -cf "$T/u.tar" only
b import "$T/u.tar" corrupt:latest > /dev/null
b save -o "$T/corrupt.tar" corrupt:latest
b rmi corrupt:latest > /dev/null
skopeo_put "$T/corrupt.tar" "$R/test/corrupt:latest"
ldigest=$(skopeo inspect --tls-verify=false --format '{{index .Layers 0}}' "docker://$R/test/corrupt:latest")
lfile=$T/reg/store/docker/registry/v2/blobs/sha256/${ldigest:7:2}/${ldigest#sha256:}/data
python3 - "$lfile" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xff
open(p, "wb").write(bytes(b))
PY
layers_before=$(count_layers)
out=$(b pull "$R/test/corrupt:latest" 2>&1)
check "a blob that does not match its digest is refused" [ $? != 0 ]
expect_contains "the refusal names the verification" "$out" "verification failed for digest $ldigest"
check "no image from the corrupt pull" bash -c "! '$BERTH' -H unix://$SOCK image inspect $R/test/corrupt > /dev/null 2>&1"
expect_eq "no layer from the corrupt pull" "$(count_layers)" "$layers_before"
expect_eq "no temp files left" "$(count_tmp)" "0"

# --- a dropped connection is resumed with Range --------------------------------
FP=$(free_port)
python3 "$FAKE" proxy-drop "$FP" "$P" "$T/drop.log" &
BG_PIDS+=($!)
wait_port "$FP"
b rmi -f "$R/test/multi" > /dev/null 2>&1
out=$(b pull "127.0.0.1:$FP/test/multi:latest" 2>&1)
check "a pull whose blobs are cut off half-way succeeds" [ $? = 0 ]
expect_contains "the download resumed with a Range request" "$(cat "$T/drop.log")" "bytes="
expect_eq "the resumed image is the same image" \
        "$(b image inspect -f '{{.Id}}' "127.0.0.1:$FP/test/multi")" "$(archive_id "$T/multi.tar")"
b rmi -f "127.0.0.1:$FP/test/multi" > /dev/null

# --- the registry killed mid-pull: clear error, nothing left, a retry works ------
HP=$(free_port)
python3 "$FAKE" proxy-hang "$HP" "$P" "$T/hung" &
hang_pid=$!
BG_PIDS+=($hang_pid)
wait_port "$HP"
layers_before=$(count_layers)
b pull "127.0.0.1:$HP/test/multi:latest" > "$T/killed.out" 2>&1 &
pull_pid=$!
for _ in $(seq 100); do [ -e "$T/hung" ] && break; sleep 0.05; done
kill -KILL "$hang_pid"; wait "$hang_pid" 2> /dev/null
wait "$pull_pid"
check "a pull from a registry killed mid-way fails" [ $? != 0 ]
expect_contains "the failure says the registry went away" "$(cat "$T/killed.out")" "cannot connect to registry"
check "no image from the killed pull" bash -c "! '$BERTH' -H unix://$SOCK image inspect 127.0.0.1:$HP/test/multi > /dev/null 2>&1"
expect_eq "no layer from the killed pull" "$(count_layers)" "$layers_before"
expect_eq "no temp files left after the killed pull" "$(count_tmp)" "0"
python3 "$FAKE" proxy-drop "$HP" "$P" &
BG_PIDS+=($!)
wait_port "$HP"
out=$(b pull "127.0.0.1:$HP/test/multi:latest" 2>&1)
check "the retry after the registry came back succeeds" [ $? = 0 ]

# --- the registry helper (berth-registry) killed or stuck mid-pull: berthd says
# so, rolls the store back, and leaves no helper behind ---------------------------
b rmi -f "$(archive_id "$T/multi.tar")" > /dev/null 2>&1
for how in KILL STOP; do
        SP=$(free_port)
        python3 "$FAKE" proxy-hang "$SP" "$P" "$T/stall-$how" &
        BG_PIDS+=($!)
        wait_port "$SP"
        images_before=$(b image ls -q --no-trunc | sort)
        layers_before=$(count_layers)
        b pull "127.0.0.1:$SP/test/multi:latest" > "$T/helper-$how.out" 2>&1 &
        pull_pid=$!
        for _ in $(seq 100); do [ -e "$T/stall-$how" ] && break; sleep 0.05; done
        helper=$(pgrep -P "$DAEMON_PID" -x berth-registry)
        check "a berth-registry process does the pull ($how)" [ -n "$helper" ]
        [ -n "$helper" ] && kill -"$how" $helper
        start=$(date +%s)
        wait "$pull_pid"
        check "the pull fails when its helper is sent SIG$how" [ $? != 0 ]
        took=$(($(date +%s) - start))
        expect_eq "image ls is unchanged after SIG$how" "$(b image ls -q --no-trunc | sort)" "$images_before"
        expect_eq "no layer is left after SIG$how" "$(count_layers)" "$layers_before"
        expect_eq "the store's tmp dir is empty after SIG$how" "$(count_tmp)" "0"
        check "no berth-registry process is left after SIG$how" bash -c "! pgrep -P $DAEMON_PID -x berth-registry"
done
expect_contains "the failure names the killed helper" "$(cat "$T/helper-KILL.out")" "registry helper killed by signal 9"
expect_contains "a stuck helper is ended after the timeout (2 s) and a margin" "$(cat "$T/helper-STOP.out")" "registry helper sent nothing for 12 s, killed"
check "berthd did not wait for the stuck helper much longer ($took s)" [ "$took" -lt 25 ]

# --- bad manifests and a silent registry ------------------------------------------
XP=$(free_port)
python3 "$FAKE" badtype "$XP" &
BG_PIDS+=($!)
wait_port "$XP"
out=$(b pull "127.0.0.1:$XP/x/y:latest" 2>&1)
check "a manifest of an unknown media type is refused" [ $? != 0 ]
expect_contains "the refusal names the media type" "$out" "application/vnd.example.unknown+json"
XP=$(free_port)
python3 "$FAKE" huge "$XP" &
BG_PIDS+=($!)
wait_port "$XP"
out=$(b pull "127.0.0.1:$XP/x/y:latest" 2>&1)
check "a 64 MiB manifest is refused" [ $? != 0 ]
expect_contains "the refusal says it is too large" "$out" "larger than"
XP=$(free_port)
python3 "$FAKE" silent "$XP" &
BG_PIDS+=($!)
wait_port "$XP"
start=$(date +%s)
out=$(b pull "127.0.0.1:$XP/x/y:latest" 2>&1)
rc=$?
took=$(($(date +%s) - start))
check "a registry that does not answer fails the pull" [ $rc != 0 ]
expect_contains "the failure is a timeout" "$out" "timed out"
check "the timeout comes in time ($took s)" [ "$took" -lt 15 ]
expect_eq "no temp files left at the end" "$(count_tmp)" "0"

finish
