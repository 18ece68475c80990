#!/bin/bash
# POST /build?remote=URL as docker-py sends it (no body: the daemon fetches
# the context) and ADD <url>, against servers on 127.0.0.1 only: a context
# tar.gz and a Dockerfile from python3's http.server, a repository from git
# daemon (git://, with #ref and #ref:subdir).
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip "python3 is not installed"
command -v git > /dev/null || skip "git is not installed"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null

urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# --- the servers -------------------------------------------------------------
W=$T/www
mkdir -p "$W" "$T/ctx/d"
printf 'FROM busybox\nCOPY a.txt /a.txt\nCOPY d /d\nRUN cat /a.txt /d/b.txt > /both\n' > "$T/ctx/Dockerfile"
echo "from the tar" > "$T/ctx/a.txt"
echo "deep" > "$T/ctx/d/b.txt"
tar -C "$T/ctx" -czf "$W/ctx.tar.gz" .
printf 'FROM busybox\nRUN echo plain > /plain\n' > "$W/Dockerfile"
echo "downloaded" > "$W/file.txt"
touch -d '2020-02-02 02:02:02 UTC' "$W/file.txt"
HP=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$W" "$HP" > "$T/http.log" 2>&1 &
BG_PIDS+=($!)
wait_port "$HP" || exit 1
H=http://127.0.0.1:$HP

G=$T/git
git init -q -b main "$G/repo"
(
        cd "$G/repo" || exit 1
        printf 'FROM busybox\nCOPY top.txt /top.txt\n' > Dockerfile
        echo "top of main" > top.txt
        mkdir sub
        printf 'FROM busybox\nCOPY s.txt /s.txt\n' > sub/Dockerfile
        echo "in sub" > sub/s.txt
        git add -A && git -c user.name=t -c user.email=t@t commit -q -m one
        git checkout -q -b other
        echo "top of other" > top.txt
        echo "other's sub" > sub/s.txt
        git add -A && git -c user.name=t -c user.email=t@t commit -q -m two
        git checkout -q main
)
GP=$(free_port)
git daemon --base-path="$G" --export-all --reuseaddr --port="$GP" --listen=127.0.0.1 "$G" > "$T/git.log" 2>&1 &
BG_PIDS+=($!)
wait_port "$GP" || exit 1
GURL=git://127.0.0.1:$GP/repo

start_daemon
b load -q -i "$T/bb.tar" > /dev/null
run() { b run --rm --pull never "$@"; }

# remote_build URL TAG: POST /build?remote=URL&t=TAG with no body
remote_build() { api POST "/build?remote=$(urlq "$1")&t=$2&rm=1"; }

# --- remote= ---------------------------------------------------------------------
remote_build "$H/ctx.tar.gz" rtar
expect_eq "remote= a tar.gz: 200" "$API_STATUS" 200
expect_contains "and it builds" "$API_BODY" "Successfully tagged rtar:latest"
expect_eq "the tar was the context" "$(run rtar cat /both)" "from the tar
deep"

remote_build "$H/Dockerfile" rplain
expect_contains "remote= a Dockerfile (sniffed as text)" "$API_BODY" "Successfully tagged rplain:latest"
expect_eq "it was the Dockerfile" "$(run rplain cat /plain)" "plain"

remote_build "$GURL" rgit
expect_contains "remote= git://: the clone builds" "$API_BODY" "Successfully tagged rgit:latest"
expect_eq "from the default branch" "$(run rgit cat /top.txt)" "top of main"
remote_build "$GURL#other" rgit2
expect_eq "#ref picks the branch" "$(run rgit2 cat /top.txt)" "top of other"
remote_build "$GURL#other:sub" rgit3
expect_eq "#ref:subdir is the context" "$(run rgit3 cat /s.txt)" "other's sub"
remote_build "$GURL#:sub" rgit4
expect_eq "#:subdir on the default branch" "$(run rgit4 cat /s.txt)" "in sub"

remote_build "$GURL#nosuchref" rbad
expect_contains "a ref git does not find: git's words" "$API_BODY" \
        "unable to prepare context: unable to 'git clone' to temporary context directory: "
remote_build "$H/missing.tar.gz" rbad
expect_contains "a 404 names the URL and the status" "$API_BODY" "GET $H/missing.tar.gz: 404"
remote_build "ftp://127.0.0.1/x" rbad
expect_eq "neither git nor http(s): 400" "$API_STATUS" 400
expect_contains "and says so" "$API_BODY" "is neither a git URL nor an http(s) URL"

# --- ADD <url> -------------------------------------------------------------------
A=$T/addctx; mkdir -p "$A"
printf 'FROM busybox\nADD %s/file.txt /dl/\nADD %s/ctx.tar.gz /dl/\n' "$H" "$H" > "$A/Dockerfile"
tar -C "$A" -cf "$T/add.tar" .
add_build() { api POST "/build?t=addurl&rm=1" -H 'Content-Type: application/x-tar' --data-binary @"$T/add.tar"; }
add_build
expect_contains "ADD <url> builds" "$API_BODY" "Successfully tagged addurl:latest"
expect_eq "the file is named after the URL's last segment" "$(run addurl cat /dl/file.txt)" "downloaded"
expect_eq "with mode 0600 and mtime = Last-Modified" "$(run addurl stat -c '%a %Y' /dl/file.txt)" \
        "600 $(date -d '2020-02-02 02:02:02 UTC' +%s)"
check "a downloaded tar is not unpacked" run addurl test -f /dl/ctx.tar.gz
add_build
expect_eq "unchanged, both ADDs hit the cache" "$(grep -o 'Using cache' <<< "$API_BODY" | wc -l)" 2
echo "changed" > "$W/file.txt"
add_build
expect_eq "downloaded on every build: a changed body misses" \
        "$(grep -o 'Using cache' <<< "$API_BODY" | wc -l)" 0
expect_eq "and the image has it" "$(run addurl cat /dl/file.txt)" "changed"
printf 'FROM busybox\nADD %s/missing /x\n' "$H" > "$A/Dockerfile"
tar -C "$A" -cf "$T/add.tar" .
add_build
expect_contains "ADD of a 404 fails naming the URL and status" "$API_BODY" "GET $H/missing: 404"

check "no build scratch is left" [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]
finish
