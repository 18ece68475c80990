#!/bin/bash
# Push to a real registry: berth push (fresh uploads, blobs the registry has,
# cross-repository mounts), checked by independent clients (skopeo inspect
# and copy, podman pull) and pulled back into berth with the same digest;
# the docker CLI pushing through berthd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"

P=$(free_port)
R=127.0.0.1:$P
start_registry "$T/reg" "$P" || exit 1
bash "$MKIMAGE" multi "$T/multi.tar" > /dev/null
write_config <<< $'[registry]\ntimeout = 5'
start_daemon

b load -q -i "$T/multi.tar" > /dev/null
id=$(b image inspect -f '{{.Id}}' multi:latest)
b tag multi:latest "$R/pushed/multi:v1"
out=$(b push "$R/pushed/multi:v1" 2>&1)
check "push succeeds" [ $? = 0 ]
expect_contains "push names the repository" "$out" "The push refers to repository [$R/pushed/multi]"
expect_contains "push uploads the layers" "$out" "Pushed"
pdigest=$(sed -n 's/^v1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*$/\1/p' <<< "$out")
check "push reports the manifest digest" [ -n "$pdigest" ]
expect_eq "skopeo sees the digest berth pushed" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/pushed/multi:v1")" "$pdigest"
skopeo copy -q --src-tls-verify=false "docker://$R/pushed/multi:v1" "docker-archive:$T/back.tar:back:v1"
expect_eq "skopeo's copy has berth's image ID" "$(archive_id "$T/back.tar")" "$id"
expect_contains "the local image has the pushed digest" \
        "$(b image inspect -f '{{json .RepoDigests}}' "$R/pushed/multi:v1")" "$R/pushed/multi@$pdigest"

out=$(b push "$R/pushed/multi:v1" 2>&1)
check "a second push succeeds" [ $? = 0 ]
expect_eq "a second push finds every layer there" "$(grep -c 'Layer already exists' <<< "$out")" "4"
expect_contains "a second push gives the same digest" "$out" "v1: digest: $pdigest"

b tag multi:latest "$R/other/multi:v2"
out=$(b push "$R/other/multi:v2" 2>&1)
check "a push to another repository succeeds" [ $? = 0 ]
expect_eq "its layers are mounted from the first" "$(grep -c "Mounted from pushed/multi" <<< "$out")" "4"

# pull back into berth: the same image, the same digest
b rmi -f "$id" > /dev/null
out=$(b pull "$R/pushed/multi:v1" 2>&1)
check "the pushed image pulls back" [ $? = 0 ]
expect_contains "it pulls back with the pushed digest" "$out" "Digest: $pdigest"
expect_eq "it pulls back as the same image" "$(b image inspect -f '{{.Id}}' "$R/pushed/multi:v1")" "$id"
expect_eq "the pulled-back image runs" "$(b run --rm --network none "$R/pushed/multi:v1" cat /etc/motd)" "welcome to multi"

# layers over 8 MiB go up in chunks (PATCH, then PUT)
bash "$MKIMAGE" big "$T/big.tar" > /dev/null
b load -q -i "$T/big.tar" > /dev/null
b tag big:latest "$R/pushed/big:v1"
out=$(b push "$R/pushed/big:v1" 2>&1)
check "push of a 50 MB five-layer image succeeds" [ $? = 0 ]
bdigest=$(sed -n 's/^v1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*$/\1/p' <<< "$out")
expect_eq "skopeo sees the big image's digest" \
        "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$R/pushed/big:v1")" "$bdigest"
skopeo copy -q --src-tls-verify=false "docker://$R/pushed/big:v1" "oci:$T/bigoci:v1"
check "skopeo copies the chunked uploads back (digests verified)" [ $? = 0 ]
bid=$(b image inspect -f '{{.Id}}' big:latest)
b rmi -f "$bid" > /dev/null
out=$(b pull "$R/pushed/big:v1" 2>&1)
check "the big image pulls back" [ $? = 0 ]
expect_eq "as the same image" "$(b image inspect -f '{{.Id}}' "$R/pushed/big:v1")" "$bid"

out=$(b push "$R/no/such:v1" 2>&1)
check "pushing an image that does not exist fails" [ $? != 0 ]
expect_contains "and says so" "$out" "does not exist locally"
api POST "/v1.41/images/$R/no/such/push?tag=v1"
expect_eq "over the API a missing image answers 200" "$API_STATUS" "200"
expect_contains "and the error is inside the stream" "$API_BODY" "An image does not exist locally with the tag: $R/no/such"

if command -v podman > /dev/null; then
        pod() { podman --root "$T/podman/root" --runroot "$T/podman/run" --tmpdir "$T/podman/tmp" --storage-driver vfs "$@"; }
        out=$(pod pull -q --tls-verify=false "$R/pushed/multi:v1" 2>&1)
        check "podman pulls what berth pushed" [ $? = 0 ]
        expect_eq "podman sees the pushed digest" "$(pod image inspect --format '{{.Digest}}' "$R/pushed/multi:v1")" "$pdigest"
        expect_eq "podman sees berth's image ID" "sha256:$(pod image inspect --format '{{.Id}}' "$R/pushed/multi:v1")" "$id"
        pod rmi -af > /dev/null 2>&1
fi

if [ -x /usr/local/bin/docker ]; then
        export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/dockercfg
        /usr/local/bin/docker tag "$R/pushed/multi:v1" "$R/bydocker/multi:v3" > /dev/null
        out=$(/usr/local/bin/docker push "$R/bydocker/multi:v3" 2>&1)
        check "docker push through berthd succeeds" [ $? = 0 ]
        expect_contains "docker push shows the digest" "$out" "v3: digest: $pdigest"
        unset DOCKER_HOST DOCKER_CONFIG
fi

finish
