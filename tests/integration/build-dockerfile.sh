#!/bin/bash
# The builder through the docker CLI 20.10's classic path (DOCKER_BUILDKIT=0)
# against berthd: the stream, the images (intermediates, parents, history,
# dangling), the cache hits and misses, and the Dockerfile's instructions,
# each asserted on the built image (files, modes, owners, config) and by
# running it.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || skip "the docker CLI 20.10 (/usr/bin/docker, Debian's docker.io) is not installed"
d() { DOCKER_BUILDKIT=0 "$DOCKER" -H "unix://$SOCK" "$@"; }
inspect() { d image inspect -f "$2" "$1"; }
# never a pull from a registry: an image a failed build did not make is an error here
run() { b run --rm --pull never "$@"; }

# --- the six steps of bench/run: the stream, the result, the cache ---------
C=$T/ctx; mkdir -p "$C"
echo "a file for COPY" > "$C/file.txt"
cat > "$C/Dockerfile" << 'EOF'
FROM busybox
RUN echo one > /one
COPY file.txt /file.txt
RUN cat /file.txt > /two
ENV BENCH=1
WORKDIR /data
RUN echo three > three
EOF
out=$(d build -t six "$C" 2>&1)
check "docker build (classic) of six steps succeeds" [ $? -eq 0 ]
expect_contains "Step 1/7 : FROM busybox" "$out" "Step 1/7 : FROM busybox"
expect_contains "Step 7/7 is the last RUN" "$out" "Step 7/7 : RUN echo three > three"
expect_contains "RUN says where it runs" "$out" " ---> Running in "
expect_contains "step containers are removed" "$out" "Removing intermediate container"
expect_contains "the result is named" "$out" "Successfully built "
expect_contains "and tagged" "$out" "Successfully tagged six:latest"
expect_eq "RUN's file is in the image" "$(run six cat /one)" "one"
expect_eq "COPY then RUN" "$(run six cat /two)" "a file for COPY"
expect_eq "WORKDIR is the working directory" "$(run six pwd)" "/data"
expect_eq "a relative path in RUN is under WORKDIR" "$(run six cat /data/three)" "three"
expect_contains "ENV is in the config" "$(inspect six '{{json .Config.Env}}')" '"BENCH=1"'
id1=$(inspect six '{{.Id}}')
parent1=$(inspect six '{{.Parent}}')
expect_contains "Successfully built names the image" "$out" "Successfully built ${id1:7:12}"

out=$(d build -t six "$C" 2>&1)
expect_eq "a rebuild hits the cache at every step" "$(grep -c -- ' ---> Using cache' <<< "$out")" 6
expect_eq "and makes the same image" "$(inspect six '{{.Id}}')" "$id1"
expect_not_contains "and runs nothing" "$out" "Running in"

touch -d '2001-01-01' "$C/file.txt"
out=$(d build -t six "$C" 2>&1)
expect_eq "an mtime change still hits" "$(grep -c -- ' ---> Using cache' <<< "$out")" 6
chmod 0600 "$C/file.txt"
out=$(d build -t six "$C" 2>&1)
expect_eq "a mode change misses from COPY on" "$(grep -c -- ' ---> Using cache' <<< "$out")" 1
chmod 0644 "$C/file.txt"

# images: parents, intermediates, history
hist=$(b image history --no-trunc --format '{{.CreatedBy}}' six)
expect_contains "history has the ENV step" "$hist" "/bin/sh -c #(nop)  ENV BENCH=1"
expect_contains "history has the COPY step with its digest" "$hist" "/bin/sh -c #(nop) COPY file:"
expect_contains "history has the RUN" "$hist" "/bin/sh -c echo three > three"
expect_eq "history has a row per step and the base's" "$(wc -l <<< "$hist")" 7
parent=$(inspect six '{{.Parent}}')
check "the image names its parent" [ -n "$parent" ]
expect_not_contains "image ls hides intermediate images" "$(b images -q --no-trunc)" "$parent"
expect_contains "image ls -a shows them" "$(b images -a -q --no-trunc)" "$parent"
echo "changed" > "$C/file.txt"
d build -q -t six "$C" > /dev/null
expect_contains "a rebuilt tag leaves the old image dangling" \
        "$(b images -q --no-trunc -f dangling=true)" "$id1"
b rmi "$id1" > /dev/null
expect_not_contains "rmi of the dangling image prunes its untagged parents" \
        "$(b images -a -q --no-trunc)" "$parent1"

# -q and --iidfile
out=$(d build -q --iidfile "$T/iid" "$C" 2>&1)
expect_eq "-q prints only the ID" "$out" "$(cat "$T/iid")"
check "the ID is a digest" grep -qE '^sha256:[0-9a-f]{64}$' "$T/iid"

# --- --cache-from: a loaded image (no parent links here) gives its steps ---------
CF=$T/cf; mkdir -p "$CF"; echo "only here" > "$CF/file.txt"; cp "$C/Dockerfile" "$CF/"
d build -q -t cf-src "$CF" > /dev/null
b save -o "$T/cf.tar" cf-src
b rmi cf-src > /dev/null
d builder prune -a -f > /dev/null 2>&1
b load -q -i "$T/cf.tar" > /dev/null
expect_eq "the loaded image has no parent here" "$(inspect cf-src '{{.Parent}}')" ""
out=$(d build -t cf-none "$CF" 2>&1)
expect_eq "without --cache-from, nothing hits" "$(grep -c -- ' ---> Using cache' <<< "$out")" 0
b rmi cf-none > /dev/null
d builder prune -a -f > /dev/null 2>&1
out=$(d build --cache-from cf-src -t cf-new "$CF" 2>&1)
expect_eq "--cache-from of a loaded image hits every step" "$(grep -c -- ' ---> Using cache' <<< "$out")" 6
expect_eq "and the result has the same files" "$(run cf-new cat /two)" "only here"
out=$(d build --cache-from nosuch:image -t cf-new2 "$CF" 2>&1)
check "a --cache-from image that is not here is skipped" [ $? -eq 0 ]

# --- the instructions --------------------------------------------------------
I=$T/instr; mkdir -p "$I/dir/sub" "$I/glob"
echo a > "$I/dir/a"; echo b > "$I/dir/sub/b"; echo x > "$I/glob/x.txt"; echo y > "$I/glob/y.txt"
echo z > "$I/glob/z.dat"; echo exec > "$I/tool"; chmod 0750 "$I/tool"
touch -d '2020-02-02 02:02:02' "$I/dir/a"
mkdir -p "$I/tarsrc/inner"; echo intar > "$I/tarsrc/inner/f"
tar -C "$I/tarsrc" -czf "$I/arch.tar.gz" inner
ln -s dir/a "$I/link-to-a"; ln -s /etc/passwd "$I/link-out"
cat > "$I/Dockerfile" << 'EOF'
# a comment
ARG BASE=busybox
FROM ${BASE} AS base
LABEL org.test.one="1" two=2
ENV A=1 B="two words"
ENV C=${A}-${B:-none}-${UNSET:-dflt}-${A:+set}
ARG WHO=world
ARG EMPTY
RUN echo "hello $WHO" > /hello && \
    echo continued >> /hello
COPY dir /copied/
COPY dir/a /deep/missing/parents/a
COPY glob/*.txt /globbed/
COPY --chown=1000:1001 --chmod=0751 tool /opt/tool
COPY tool glob/z.dat /multi/
COPY --parents dir/sub/b glob/x.txt /parents/
COPY link-to-a /linked
COPY link-to-a /linkdir/
COPY --exclude=*.dat --exclude=y.txt glob /excl/
ADD arch.tar.gz /extracted
ADD arch.tar.gz /kept.tar.gz.d/
WORKDIR rel
WORKDIR sub
COPY dir/a here
EXPOSE 80 53/udp 8000-8001
VOLUME ["/vol"]
USER 1000:1001
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD true
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered > /tmp/onbuild
MAINTAINER someone
ENTRYPOINT ["/bin/echo"]
CMD ["default", "cmd"]
EOF
out=$(d build --build-arg WHO=berth --build-arg UNUSED=1 -t instr "$I" 2>&1)
check "the instruction build succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_contains "an unused build arg is warned about" "$out" "[Warning] One or more build-args [UNUSED] were not consumed"
r() { run --entrypoint "" -u 0 instr "$@"; }
expect_eq "RUN with a continuation and a build arg" "$(r cat /hello | tr '\n' ' ')" "hello berth continued "
expect_eq "COPY of a directory copies its contents" "$(r cat /copied/sub/b)" "b"
expect_eq "COPY makes missing parents" "$(r cat /deep/missing/parents/a)" "a"
expect_eq "COPY keeps the mtime" "$(r stat -c %Y /copied/a)" "$(stat -c %Y "$I/dir/a")"
expect_eq "COPY from the context is owned by root" "$(r stat -c %u:%g /copied/a)" "0:0"
expect_eq "COPY with a glob" "$(r ls /globbed | tr '\n' ' ')" "x.txt y.txt "
expect_eq "COPY --chown --chmod" "$(r stat -c %u:%g:%a /opt/tool)" "1000:1001:751"
expect_eq "COPY keeps the mode" "$(r stat -c %a /multi/tool)" "750"
expect_eq "COPY --parents keeps the source's directories" "$(r cat /parents/dir/sub/b /parents/glob/x.txt | tr '\n' ' ')" "b x "
expect_eq "COPY of a symlink copies what it points to" "$(r cat /linked)" "a"
expect_eq "under the link's own name" "$(r cat /linkdir/link-to-a)" "a"
expect_eq "COPY --exclude leaves files out" "$(r ls /excl | tr '\n' ' ')" "x.txt "
expect_eq "ADD extracts a local tar.gz" "$(r cat /extracted/inner/f)" "intar"
expect_eq "relative WORKDIRs join" "$(inspect instr '{{.Config.WorkingDir}}')" "/rel/sub"
expect_eq "a relative COPY goes under WORKDIR" "$(r cat /rel/sub/here)" "a"
expect_eq "ENV with substitutions" "$(r sh -c 'echo $C')" "1-two words-dflt-set"
expect_eq "LABEL" "$(inspect instr '{{index .Config.Labels "org.test.one"}}{{index .Config.Labels "two"}}')" "12"
expect_eq "EXPOSE" "$(inspect instr '{{range $k, $v := .Config.ExposedPorts}}{{$k}} {{end}}')" "53/udp 80/tcp 8000/tcp 8001/tcp "
expect_eq "VOLUME" "$(inspect instr '{{range $k, $v := .Config.Volumes}}{{$k}}{{end}}')" "/vol"
expect_eq "USER" "$(inspect instr '{{.Config.User}}')" "1000:1001"
expect_eq "STOPSIGNAL" "$(inspect instr '{{.Config.StopSignal}}')" "SIGUSR1"
expect_eq "HEALTHCHECK" "$(inspect instr '{{json .Config.Healthcheck}}')" '{"Test":["CMD-SHELL","true"],"Interval":5000000000,"Timeout":2000000000,"Retries":4}'
expect_eq "SHELL" "$(inspect instr '{{json .Config.Shell}}')" '["/bin/sh","-ec"]'
expect_eq "ONBUILD" "$(inspect instr '{{json .Config.OnBuild}}')" '["RUN echo triggered > /tmp/onbuild"]'
expect_eq "MAINTAINER sets Author" "$(inspect instr '{{.Author}}')" "someone"
expect_eq "ENTRYPOINT and CMD" "$(run instr)" "default cmd"
expect_eq "the user is USER" "$(run --entrypoint id instr -u)" "1000"
expect_contains "history shows ARG steps" "$(b image history --no-trunc --format '{{.CreatedBy}}' instr)" "ARG WHO=world"

# ONBUILD triggers run in a child build
O=$T/onb; mkdir -p "$O"
printf 'FROM instr\nRUN test -f /tmp/onbuild\n' > "$O/Dockerfile"
out=$(d build -t child "$O" 2>&1)
expect_contains "the base's trigger is announced" "$out" "# Executing 1 build trigger"
expect_eq "and ran" "$(run --entrypoint cat child /tmp/onbuild)" "triggered"
expect_eq "and is not inherited further" "$(inspect child '{{json .Config.OnBuild}}')" "null"

# --- multi-stage ---------------------------------------------------------------
M=$T/multi; mkdir -p "$M"
cat > "$M/Dockerfile" << 'EOF'
FROM busybox AS builder
RUN echo built > /artifact
FROM busybox AS unused
RUN echo unused stage >&2; exit 3
FROM busybox
COPY --from=builder /artifact /from-builder
COPY --from=0 /artifact /from-index
EOF
out=$(d build -t multi "$M" 2>&1)
check "a multi-stage build skips the stage nobody needs" [ $? -eq 0 ]
expect_not_contains "and never runs it" "$out" "unused stage"
expect_eq "COPY --from a stage name" "$(run multi cat /from-builder)" "built"
expect_eq "COPY --from a stage index" "$(run multi cat /from-index)" "built"
out=$(d build --target builder -t multi-t "$M" 2>&1)
expect_eq "--target builds up to the target" "$(run multi-t cat /artifact)" "built"
expect_contains "and counts only its steps" "$out" "Step 2/2 : RUN echo built"
out=$(d build --target nosuch "$M" 2>&1)
expect_contains "an unknown target is an error" "$out" "failed to reach build target nosuch in Dockerfile"

# --- .dockerignore, heredocs, labels -------------------------------------------
G=$T/ign; mkdir -p "$G/keep" "$G/skip"
echo k > "$G/keep/k"; echo s > "$G/skip/s"; echo t > "$G/top.log"; echo n > "$G/keep/n.log"
printf 'skip\n**/*.log\n!keep/n.log\n' > "$G/.dockerignore"
cat > "$G/Dockerfile" << 'EOF'
FROM busybox
COPY . /ctx
RUN <<EOT
echo from heredoc > /here
EOT
COPY <<EOT /heredoc-file
file body
EOT
EOF
out=$(d build --label b=2 --label a=1 -t ign "$G" 2>&1)
check "a build with .dockerignore, heredocs and --label" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "excluded files are not in the context" "$(run ign ls /ctx | tr '\n' ' ')" "Dockerfile keep "
expect_eq "an exception re-includes" "$(run ign ls /ctx/keep | tr '\n' ' ')" "k n.log "
expect_eq "RUN <<EOT runs the heredoc" "$(run ign cat /here)" "from heredoc"
expect_eq "COPY <<EOT writes the heredoc" "$(run ign cat /heredoc-file)" "file body"
expect_contains "--label adds a LABEL step" "$out" "LABEL \"a\"='1' \"b\"='2'"
expect_eq "--label labels the image" "$(inspect ign '{{.Config.Labels.a}}{{.Config.Labels.b}}')" "12"

# --- BuildKit syntax on the classic protocol: RUN --mount -----------------------
N=$T/mnt; mkdir -p "$N/src"; echo bound > "$N/src/f"
cat > "$N/Dockerfile" << 'EOF'
FROM busybox
RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /count
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo t > /scratch/t && cat /scratch/t > /from-tmpfs'
RUN --mount=type=bind,source=src,target=/src cat /src/f > /from-bind && ! touch /src/g
EOF
out=$(d build -t mnt "$N" 2>&1)
check "RUN --mount cache, tmpfs and bind build" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "a bind mount shows the context's files" "$(run mnt cat /from-bind)" "bound"
expect_eq "a tmpfs mount works" "$(run mnt cat /from-tmpfs)" "t"
expect_eq "the tmpfs's files are not in the image" "$(run mnt ls /scratch)" ""
d build --no-cache -q -t mnt "$N" > /dev/null
expect_eq "a cache mount keeps its files from build to build" "$(run mnt cat /count)" "2"
expect_eq "and they are not in the image" "$(run mnt ls /cache)" ""
echo changed > "$N/src/f"
d build -q -t mnt "$N" > /dev/null
expect_eq "a change under a bind mount's source misses the cache" "$(run mnt cat /from-bind)" "changed"
printf 'FROM busybox\nRUN --mount=type=secret,id=x true\n' > "$N/Dockerfile"
out=$(d build "$N" 2>&1)
expect_contains "a secret mount is refused, saying why" "$out" "needs a BuildKit session"
printf 'FROM busybox\nRUN --mount=type=bind,source=../..,target=/x ls /x > /list\n' > "$N/Dockerfile"
d build -q -t mnt2 "$N" > /dev/null 2>&1
expect_not_contains "a bind source cannot climb out of the context" "$(run mnt2 cat /list 2> /dev/null)" "berth.sock"

# --- errors --------------------------------------------------------------------
E=$T/err; mkdir -p "$E"
bad() { # DESCRIPTION EXPECTED-TEXT DOCKERFILE
        printf '%s\n' "$3" > "$E/Dockerfile"
        local o
        o=$(d build "$E" 2>&1)
        local rc=$?
        check "$1: fails" [ "$rc" -ne 0 ]
        expect_contains "$1: says why" "$o" "$2"
}
bad "an unknown instruction" "line 2: unknown instruction: HELLO" $'FROM busybox\nHELLO world'
bad "no FROM" "no build stage in current context" 'RUN true'
bad "COPY of a missing file" "COPY failed" $'FROM busybox\nCOPY nothing /'
bad "COPY from outside the context" "forbidden path outside the build context" $'FROM busybox\nCOPY ../x /'
bad "an unknown --from" "No such image" $'FROM busybox\nCOPY --from=nosuchstage /x /'
ln -sf /etc/shadow "$E/out"
bad "a symlink source pointing out of the context" "COPY failed" $'FROM busybox\nCOPY out /stolen'
printf 'FROM busybox\nRUN echo before; exit 3\n' > "$E/Dockerfile"
o=$(d build "$E" 2>&1); rc=$?
expect_eq "a failing RUN's exit code is the CLI's" "$rc" 3
expect_contains "and its message names the command" "$o" "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3"
expect_contains "its output came first" "$o" "before"
kept=$(b ps -a -q --filter status=exited | wc -l)
check "the failed step's container is kept (no --force-rm)" [ "$kept" -ge 1 ]
o=$(d build --force-rm "$E" 2>&1)
expect_eq "--force-rm removes it" "$(b ps -a -q --filter status=exited | wc -l)" "$kept"
api POST "/build" -H 'Content-Type: application/x-tar' --data-binary 'not a tar at all'
expect_eq "a body that is not a tar is a 400" "$API_STATUS" 400
expect_contains "that says so" "$API_BODY" "not a tar"
api POST "/build?version=2" --data-binary ''
expect_eq "BuildKit (version=2) is refused" "$API_STATUS" 400
expect_contains "with a hint" "$API_BODY" "DOCKER_BUILDKIT=0"
api POST "/build?t=UPPER:bad" --data-binary ''
expect_eq "a bad tag is refused before the build" "$API_STATUS" 400

# nothing is left: no scratch directory, no step container but the kept one
check "no build scratch is left" [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]
finish
