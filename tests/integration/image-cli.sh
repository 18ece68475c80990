#!/bin/bash
# The image commands of the berth CLI against a private berthd: load, save,
# import, images (filters, formats), tag, rmi, inspect, history, prune,
# system df, and refusals that leave the store as it was.
. "$(dirname "$0")/lib.sh"
MKIMAGE=$BERTH_SOURCE_DIR/tests/lib/mkimage.sh
bash "$MKIMAGE" busybox "$T/bb.tar" > /dev/null
bash "$MKIMAGE" multi "$T/multi.tar" > /dev/null

start_daemon

out=$(b load -i "$T/bb.tar" 2>&1); rc=$?
expect_eq "load -i exit status" "$rc" 0
expect_eq "load -i message" "$out" "Loaded image: busybox:latest"
out=$(b load < "$T/multi.tar" 2>&1)
expect_eq "load from stdin" "$out" "Loaded image: multi:latest"
out=$(b load -q -i "$T/bb.tar" 2>&1); rc=$?
expect_eq "loading the same image again works" "$rc" 0

out=$(b images)
expect_contains "images header" "$(head -1 <<<"$out")" "REPOSITORY   TAG      IMAGE ID       CREATED"
expect_contains "images lists busybox" "$out" "busybox      latest"
expect_contains "images lists multi" "$out" "multi        latest"
bbid=$(b image inspect --format '{{.Id}}' busybox)
check "inspect gives a sha256 ID" bash -c "[[ '$bbid' =~ ^sha256:[0-9a-f]{64}$ ]]"
expect_eq "images -q --no-trunc" "$(b images -q --no-trunc busybox)" "$bbid"
expect_eq "images -q truncates to 12" "$(b images -q busybox)" "${bbid:7:12}"
expect_eq "images REPO filter" "$(b images --format '{{.Repository}}:{{.Tag}}' multi)" "multi:latest"
expect_eq "images --filter reference" "$(b images --format '{{.Repository}}' --filter reference=bus*)" "busybox"

out=$(b tag busybox mybox:v1 2>&1); rc=$?
expect_eq "tag exit status" "$rc" 0
expect_eq "tagged image has the same ID" "$(b images -q --no-trunc mybox:v1)" "$bbid"
out=$(b image ls --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')
expect_eq "image ls after tag" "$out" "busybox:latest multi:latest mybox:v1 "
out=$(b rmi mybox:v1)
expect_eq "rmi of one of two tags only untags" "$out" "Untagged: mybox:v1"
expect_eq "image still there" "$(b images -q --no-trunc busybox)" "$bbid"

# inspect, history
j=$(b image inspect multi)
expect_eq "inspect is a JSON array of one" "$(jq length <<<"$j")" 1
expect_eq "inspect RootFS layers of multi" "$(jq '.[0].RootFS.Layers|length' <<<"$j")" 4
expect_eq "inspect has ContainerConfig (compose v1 needs it)" "$(jq '.[0]|has("ContainerConfig")' <<<"$j")" true
expect_eq "inspect RepoTags" "$(jq -r '.[0].RepoTags[0]' <<<"$j")" "multi:latest"
expect_eq "inspect Os" "$(jq -r '.[0].Os' <<<"$j")" "linux"
out=$(b image inspect nosuchimage 2>&1); rc=$?
expect_eq "inspect of a missing image exit status" "$rc" 1
expect_contains "inspect of a missing image message" "$out" "No such image: nosuchimage"
out=$(b image history multi)
expect_eq "history has 4 rows and a header" "$(wc -l <<<"$out")" 5
expect_contains "history header" "$out" "IMAGE          CREATED       CREATED BY"

# save and load round trip
out=$(b save -o "$T/saved.tar" busybox multi 2>&1); rc=$?
expect_eq "save -o exit status" "$rc" 0
check "save wrote manifest.json" bash -c "tar tf '$T/saved.tar' | grep -qx manifest.json"
check "save wrote an OCI index.json" bash -c "tar tf '$T/saved.tar' | grep -qx index.json"
expect_eq "manifest.json lists both images" "$(tar xOf "$T/saved.tar" manifest.json | jq -r '[.[].RepoTags[0]]|sort|join(",")')" "busybox:latest,multi:latest"
b save busybox > "$T/stdout.tar"
check "save to stdout" test -s "$T/stdout.tar"
out=$(b save busybox 2>&1 < /dev/null | head -c 0; script -qec "$BERTH -H unix://$SOCK save busybox" /dev/null 2>&1 | tr -d '\r')
expect_contains "save refuses a terminal" "$out" "cowardly refusing to save to a terminal"
out=$(b rmi multi)
expect_contains "rmi by name deletes" "$out" "Deleted: sha256:"
out=$(b load -i "$T/saved.tar")
expect_contains "load of berth's own save" "$out" "Loaded image: multi:latest"
expect_eq "round trip keeps the ID" "$(b images -q --no-trunc busybox)" "$bbid"

# import with changes
mkdir -p "$T/rootfs/etc"; echo hi > "$T/rootfs/etc/hello"; tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
out=$(b import -c 'CMD ["sh"]' -c 'ENV A=b' -c 'WORKDIR /etc' -m "my import" "$T/rootfs.tar" imp:1 2>&1); rc=$?
expect_eq "import exit status" "$rc" 0
check "import prints the new ID" bash -c "[[ '$out' =~ ^sha256:[0-9a-f]{64}$ ]]"
j=$(b image inspect imp:1)
expect_eq "import CMD" "$(jq -c '.[0].Config.Cmd' <<<"$j")" '["sh"]'
expect_eq "import ENV" "$(jq -r '.[0].Config.Env|index("A=b") != null' <<<"$j")" true
expect_eq "import WORKDIR" "$(jq -r '.[0].Config.WorkingDir' <<<"$j")" "/etc"
expect_eq "import comment" "$(b image history --format '{{.Comment}}' imp:1)" "my import"
out=$(b import - < "$T/rootfs.tar"); dang=$out
expect_eq "dangling filter shows the untagged import" "$(b images -q --no-trunc --filter dangling=true)" "$dang"
expect_contains "dangling image shows <none>" "$(b images)" "<none>       <none>"
out=$(b image prune -f)
expect_contains "prune deletes the dangling image" "$out" "deleted: $dang"
expect_contains "prune reports space" "$out" "Total reclaimed space:"
expect_eq "no dangling images left" "$(b images -q --filter dangling=true)" ""

# system df
out=$(b system df)
expect_contains "system df header" "$out" "TYPE            TOTAL   ACTIVE   SIZE"
expect_contains "system df counts 3 images" "$out" "Images          3       0"
expect_contains "system df counts containers" "$out" "Containers      0       0"

# refusals leave the store unchanged
before=$(b images -q --no-trunc | sort | tr '\n' ' ')
head -c 10000 /dev/urandom > "$T/garbage.tar"
out=$(b load -i "$T/garbage.tar" 2>&1); rc=$?
check "load of garbage exits non-zero" test "$rc" -ne 0
expect_contains "load of garbage names the problem" "$out" "Error response from daemon:"
head -c 300000 "$T/bb.tar" > "$T/truncated.tar"
out=$(b load -i "$T/truncated.tar" 2>&1); rc=$?
check "load of a truncated archive exits non-zero" test "$rc" -ne 0
expect_eq "store unchanged after refused loads" "$(b images -q --no-trunc | sort | tr '\n' ' ')" "$before"
out=$(b tag busybox 'Bad:Name!' 2>&1); rc=$?
check "tag to an invalid name exits non-zero" test "$rc" -ne 0
out=$(b rmi nosuch 2>&1); rc=$?
expect_eq "rmi of a missing image exit status" "$rc" 1
expect_contains "rmi of a missing image message" "$out" "No such image: nosuch"
out=$(b images --filter colour=red 2>&1); rc=$?
check "unknown filter exits non-zero" test "$rc" -ne 0
expect_contains "unknown filter message" "$out" "invalid filter 'colour'"

# The store survives a daemon restart.
stop_daemon
start_daemon
expect_eq "images after restart" "$(b images -q --no-trunc | sort | tr '\n' ' ')" "$before"
stop_daemon
finish
