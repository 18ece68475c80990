#!/bin/bash
# The builder's real clients against berthd: the docker CLI 20.10 (classic
# with DOCKER_BUILDKIT=0 and unset, as ping says Builder-Version 1), the
# docker CLI 28 without buildx (the legacy POST /build after its DEPRECATED
# warning), berth build (its flags, stdin contexts, .dockerignore on the
# client side, the exit code of a failing RUN), docker-compose 1.29 (build
# and up --build, build args from .env, through the docker CLI and through
# docker-py) and docker-py itself (an outside Dockerfile, uids kept in the
# context tar). Each built image is checked by running it. Nothing is pulled.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"
unset DOCKER_BUILDKIT DOCKER_HOST COMPOSE_DOCKER_CLI_BUILD
run() { b run --rm --pull never "$@"; }
inspect() { b image inspect -f "$2" "$1"; }

C=$T/ctx; mkdir -p "$C"
echo "context file" > "$C/f.txt"
cat > "$C/Dockerfile" << 'EOF'
FROM busybox
ARG WHO=nobody
RUN echo "hi $WHO" > /who
COPY f.txt /f.txt
EOF

# --- the docker CLI 20.10 ------------------------------------------------------
D20=/usr/bin/docker
if [ -x "$D20" ]; then
        out=$(DOCKER_BUILDKIT=0 "$D20" -H "unix://$SOCK" build --build-arg WHO=d20 -t d20:zero "$C" 2>&1)
        check "docker 20.10, DOCKER_BUILDKIT=0: the build succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker 20.10, DOCKER_BUILDKIT=0: the classic stream" "$out" "Step 1/4 : FROM busybox"
        expect_contains "docker 20.10, DOCKER_BUILDKIT=0: tagged" "$out" "Successfully tagged d20:zero"
        expect_eq "docker 20.10, DOCKER_BUILDKIT=0: the image runs" "$(run d20:zero cat /who /f.txt | tr '\n' ' ')" "hi d20 context file "
        out=$(env -u DOCKER_BUILDKIT "$D20" -H "unix://$SOCK" build --build-arg WHO=d20u -t d20:unset "$C" 2>&1)
        check "docker 20.10, DOCKER_BUILDKIT unset: the build succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker 20.10, DOCKER_BUILDKIT unset: classic (ping says builder 1)" "$out" "Step 1/4 : FROM busybox"
        expect_not_contains "docker 20.10, DOCKER_BUILDKIT unset: no DEPRECATED warning" "$out" "DEPRECATED"
        expect_not_contains "docker 20.10, DOCKER_BUILDKIT unset: no BuildKit output" "$out" "[internal]"
        expect_eq "docker 20.10, DOCKER_BUILDKIT unset: the image runs" "$(run d20:unset cat /who)" "hi d20u"
else
        fail "the docker CLI 20.10 ($D20, Debian's docker.io) is not installed"
fi

# --- the docker CLI 28 (no buildx) ---------------------------------------------
D28=/usr/local/bin/docker
if [ -x "$D28" ]; then
        out=$(DOCKER_BUILDKIT=0 "$D28" -H "unix://$SOCK" build --build-arg WHO=d28 -t d28:zero "$C" 2>&1)
        check "docker 28, DOCKER_BUILDKIT=0: the build succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker 28, DOCKER_BUILDKIT=0: warns DEPRECATED" "$out" "DEPRECATED: The legacy builder is deprecated"
        expect_contains "docker 28, DOCKER_BUILDKIT=0: the legacy stream" "$out" "Step 3/4 : RUN echo \"hi \$WHO\" > /who"
        expect_contains "docker 28, DOCKER_BUILDKIT=0: tagged" "$out" "Successfully tagged d28:zero"
        expect_eq "docker 28, DOCKER_BUILDKIT=0: the image runs" "$(run d28:zero cat /who)" "hi d28"
        out=$(env -u DOCKER_BUILDKIT "$D28" -H "unix://$SOCK" build --build-arg WHO=d28u -t d28:unset "$C" 2>&1)
        check "docker 28, DOCKER_BUILDKIT unset: the build succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker 28, DOCKER_BUILDKIT unset: warns DEPRECATED (no buildx)" "$out" "DEPRECATED"
        expect_contains "docker 28, DOCKER_BUILDKIT unset: and names buildx" "$out" "buildx"
        expect_contains "docker 28, DOCKER_BUILDKIT unset: the legacy stream" "$out" "Successfully built "
        expect_eq "docker 28, DOCKER_BUILDKIT unset: the image runs" "$(run d28:unset cat /who /f.txt | tr '\n' ' ')" "hi d28u context file "
        id=$(inspect d28:unset '{{.Id}}')
        expect_contains "docker 28: Successfully built names the image" "$out" "Successfully built ${id:7:12}"
else
        fail "the docker CLI 28 ($D28) is not installed"
fi

# --- berth build ---------------------------------------------------------------
out=$(b build -t bb:one -t bb:two --build-arg WHO=berth "$C" 2>&1)
check "berth build: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_contains "berth build: prints Sending build context" "$out" "Sending build context to Docker daemon"
expect_contains "berth build: the steps' output" "$out" "Step 4/4 : COPY f.txt /f.txt"
expect_contains "berth build -t twice: the first tag" "$out" "Successfully tagged bb:one"
expect_contains "berth build -t twice: the second tag" "$out" "Successfully tagged bb:two"
expect_eq "berth build -t twice: one image" "$(inspect bb:one '{{.Id}}')" "$(inspect bb:two '{{.Id}}')"
expect_eq "berth build: the image runs" "$(run bb:one cat /who /f.txt | tr '\n' ' ')" "hi berth context file "

# -f outside the context
printf 'FROM busybox\nCOPY f.txt /outside-df\nRUN echo outside > /how\n' > "$T/Outside.Dockerfile"
out=$(b build -f "$T/Outside.Dockerfile" -t bb:outside "$C" 2>&1)
check "berth build -f FILE outside the context: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "berth build -f FILE outside the context: its steps ran" "$(run bb:outside cat /how /outside-df | tr '\n' ' ')" "outside context file "

# -f - (the Dockerfile on stdin, the context a directory)
out=$(printf 'FROM busybox\nCOPY f.txt /stdin-df\nRUN echo fdash > /how\n' | b build -f - -t bb:fdash "$C" 2>&1)
check "berth build -f -: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "berth build -f -: the stdin Dockerfile with the directory's files" "$(run bb:fdash cat /how /stdin-df | tr '\n' ' ')" "fdash context file "

# the context as a tar on stdin
S=$T/tarctx; mkdir -p "$S"
echo "from the tar" > "$S/t.txt"
printf 'FROM busybox\nCOPY t.txt /t.txt\n' > "$S/Dockerfile"
tar -C "$S" -cf "$T/ctx.tar" .
out=$(b build -t bb:tar - < "$T/ctx.tar" 2>&1)
check "berth build - < tar: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "berth build - < tar: the tar's file" "$(run bb:tar cat /t.txt)" "from the tar"
gzip -c "$T/ctx.tar" > "$T/ctx.tar.gz"
out=$(b build -t bb:targz - < "$T/ctx.tar.gz" 2>&1)
check "berth build - < tar.gz: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "berth build - < tar.gz: the tar's file" "$(run bb:targz cat /t.txt)" "from the tar"

# a bare Dockerfile on stdin (no context)
out=$(printf 'FROM busybox\nRUN echo bare > /bare\n' | b build -t bb:bare - 2>&1)
check "berth build - < Dockerfile: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "berth build - < Dockerfile: the image" "$(run bb:bare cat /bare)" "bare"

# --build-arg K (from the environment) and K=V, --target, --label
A=$T/args; mkdir -p "$A"
cat > "$A/Dockerfile" << 'EOF'
FROM busybox AS first
ARG FROMENV
ARG GIVEN
RUN echo "$FROMENV/$GIVEN" > /args
FROM busybox AS second
RUN echo second > /second
EOF
out=$(FROMENV=env-value b build --build-arg FROMENV --build-arg GIVEN=given --target first \
        --label org.test.l=lv -t bb:args "$A" 2>&1)
check "berth build --build-arg --target --label: succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq "--build-arg K takes K from the environment, K=V its value" "$(run bb:args cat /args)" "env-value/given"
expect_eq "--target: the first stage is the image" "$(run bb:args sh -c 'test -e /second && echo second || echo first')" "first"
expect_not_contains "--target: the later stage never ran" "$out" "echo second"
expect_eq "--label: the image's label (berth inspect's {{index}})" "$(inspect bb:args '{{index .Config.Labels "org.test.l"}}')" "lv"
expect_eq "berth inspect's {{index}} of a missing key is empty" "$(inspect bb:args '[{{index .Config.Labels "nope"}}]')" "[]"
out=$(env -u FROMENV "$BERTH" -H "unix://$SOCK" build --build-arg FROMENV --build-arg GIVEN=g2 --target first -t bb:args2 "$A" 2>&1)
expect_eq "--build-arg K with K unset: the Dockerfile's (empty) value" "$(run bb:args2 cat /args)" "/g2"

# -q, --iidfile
out=$(b build -q --build-arg WHO=berth --iidfile "$T/iid" "$C" 2> "$T/q.err")
check "berth build -q: succeeds" [ $? -eq 0 ]
expect_eq "-q prints only the image ID" "$out" "$(cat "$T/iid")"
check "--iidfile holds an image ID" grep -qE '^sha256:[0-9a-f]{64}$' "$T/iid"
expect_not_contains "-q: no Sending build context line" "$out$(cat "$T/q.err")" "Sending build context"
expect_eq "--iidfile names bb:one (the same build, cached)" "$(cat "$T/iid")" "$(inspect bb:one '{{.Id}}')"

# --no-cache
out=$(b build --build-arg WHO=berth "$C" 2>&1)
expect_contains "a rebuild hits the cache" "$out" "Using cache"
out=$(b build --no-cache --build-arg WHO=berth "$C" 2>&1)
check "--no-cache: succeeds" [ $? -eq 0 ]
expect_not_contains "--no-cache: nothing from the cache" "$out" "Using cache"
expect_contains "--no-cache: the RUN ran" "$out" "Running in"

# .dockerignore on berth's side: the excluded 4 MB never leaves the client
G=$T/ign; mkdir -p "$G/keep"
echo k > "$G/keep/k"; head -c 4M /dev/urandom > "$G/big.bin"; echo s > "$G/secret.txt"
printf 'big.bin\n*.txt\n' > "$G/.dockerignore"
printf 'FROM busybox\nCOPY . /ctx\n' > "$G/Dockerfile"
out=$(b build -t bb:ign "$G" 2>&1)
check ".dockerignore: the build succeeds" [ $? -eq 0 ] || echo "$out" >&2
expect_eq ".dockerignore: excluded files are not in the image" "$(run bb:ign ls -a /ctx | tr '\n' ' ')" ". .. .dockerignore Dockerfile keep "
sent=$(sed -n 's/^Sending build context to Docker daemon *//p' <<< "$out" | tail -1)
small_size() { [[ $1 =~ ^[0-9.]+k?B$ ]]; }
check ".dockerignore: applied before sending (sent $sent, not 4MB)" small_size "$sent"

# a failing RUN: its exit code is berth's
F=$T/fail; mkdir -p "$F"
printf 'FROM busybox\nRUN echo failing; exit 7\n' > "$F/Dockerfile"
out=$(b build "$F" 2>&1); rc=$?
expect_eq "a failing RUN's exit code is berth build's" "$rc" 7
expect_contains "and the message names the command" "$out" "returned a non-zero code: 7"

# --- docker-compose 1.29 ---------------------------------------------------------
if command -v docker-compose > /dev/null; then
        P=$T/proj; mkdir -p "$P/app"
        echo "GREETING=from-dotenv" > "$P/.env"
        printf 'FROM busybox\nARG GREETING=unset\nENV GREETING=$GREETING\nRUN echo "$GREETING" > /greet\nCOPY app.txt /app.txt\n' > "$P/app/Build.dockerfile"
        echo "app file" > "$P/app/app.txt"
        cat > "$P/docker-compose.yml" << 'EOF'
version: "3.7"
services:
  app:
    build:
      context: ./app
      dockerfile: Build.dockerfile
      args:
        GREETING: ${GREETING}
    image: composebuilt:latest
    command: sh -c 'cat /greet /app.txt; sleep 300'
EOF
        dc() { (cd "$P" && DOCKER_HOST="unix://$SOCK" timeout 120 docker-compose -p "bc$$" "$@"); }
        out=$(dc build 2>&1)
        check "docker-compose build: succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_eq "docker-compose build: the image has the .env arg" "$(run composebuilt cat /greet)" "from-dotenv"
        b rmi -f composebuilt > /dev/null
        out=$(dc up -d --build 2>&1)
        check "docker-compose up -d --build: succeeds" [ $? -eq 0 ] || echo "$out" >&2
        ct=$(b ps -q --filter "label=com.docker.compose.project=bc$$")
        check "docker-compose up: the service's container runs" [ -n "$ct" ]
        expect_eq "the container runs the built image" "$(b inspect -f '{{.Config.Image}}' "$ct" 2> /dev/null)" "composebuilt:latest"
        expect_eq "the container sees the build's file" "$(b exec "$ct" cat /greet /app.txt 2>&1 | tr '\n' ' ')" "from-dotenv app file "
        expect_eq "and the ENV from the build arg" "$(b exec "$ct" sh -c 'echo $GREETING' 2>&1)" "from-dotenv"
        out=$(dc down 2>&1)
        check "docker-compose down: succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_eq "docker-compose down: no container left" "$(b ps -aq --filter "label=com.docker.compose.project=bc$$")" ""
        # docker-py inside compose: the ID from "Successfully built"
        b rmi -f composebuilt > /dev/null
        echo "GREETING=through-docker-py" > "$P/.env"
        out=$(COMPOSE_DOCKER_CLI_BUILD=0 dc build 2>&1)
        check "COMPOSE_DOCKER_CLI_BUILD=0 docker-compose build: succeeds" [ $? -eq 0 ] || echo "$out" >&2
        expect_eq "COMPOSE_DOCKER_CLI_BUILD=0: the image has the .env arg" "$(run composebuilt cat /greet)" "through-docker-py"
        out=$(COMPOSE_DOCKER_CLI_BUILD=0 dc up -d --build 2>&1)
        check "COMPOSE_DOCKER_CLI_BUILD=0 docker-compose up -d --build: succeeds" [ $? -eq 0 ] || echo "$out" >&2
        ct=$(b ps -q --filter "label=com.docker.compose.project=bc$$")
        expect_eq "COMPOSE_DOCKER_CLI_BUILD=0: the container sees the build's file" "$(b exec "$ct" cat /greet 2>&1)" "through-docker-py"
        out=$(dc down 2>&1)
        check "docker-compose down (docker-py build): succeeds" [ $? -eq 0 ] || echo "$out" >&2
else
        fail "docker-compose is not installed"
fi

# --- docker-py -------------------------------------------------------------------
if python3 -c 'import docker' 2> /dev/null; then
        Y=$T/py/ctx; mkdir -p "$Y/sub"
        echo "py file" > "$Y/sub/p.txt"; echo "top" > "$Y/top.txt"
        chown -R 1234:2345 "$Y"
        printf 'FROM busybox\nARG PYARG=none\nCOPY sub /sub\nCOPY top.txt /top.txt\nRUN echo "$PYARG" > /pyarg\n' > "$T/py/Outside.Dockerfile"
        out=$(python3 - "$SOCK" "$Y" "$T/py/Outside.Dockerfile" << 'EOF' 2>&1
import json, sys, docker
sock, ctx, df = sys.argv[1:4]
c = docker.APIClient(base_url="unix://" + sock)
for m in c.build(path=ctx, dockerfile=df, tag="pyimg:api", buildargs={"PYARG": "from-py"}, decode=True):
    print(json.dumps(m))
EOF
)
        check "docker-py APIClient.build: runs" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker-py APIClient.build: Successfully built" "$out" "Successfully built "
        expect_not_contains "docker-py APIClient.build: no error" "$out" "errorDetail"
        expect_eq "docker-py: the outside Dockerfile and the build arg" "$(run pyimg:api cat /pyarg /top.txt /sub/p.txt | tr '\n' ' ')" "from-py top py file "
        expect_eq "docker-py: COPY'd files are owned by root (the tar had 1234:2345)" \
                "$(run pyimg:api stat -c %u:%g /top.txt /sub /sub/p.txt | tr '\n' ' ')" "0:0 0:0 0:0 "
        cp "$T/py/Outside.Dockerfile" "$Y/Dockerfile"; chown 1234:2345 "$Y/Dockerfile"
        out=$(DOCKER_HOST="unix://$SOCK" python3 - "$Y" << 'EOF' 2>&1
import sys, docker
img, logs = docker.from_env().images.build(path=sys.argv[1], tag="pyimg:env", buildargs={"PYARG": "env"})
for m in logs:
    if "stream" in m:
        sys.stdout.write(m["stream"])
print("ID", img.id)
EOF
)
        check "docker-py images.build: runs" [ $? -eq 0 ] || echo "$out" >&2
        expect_contains "docker-py images.build: Successfully built" "$out" "Successfully built "
        expect_contains "docker-py images.build: the image object is the tagged image" "$out" "ID $(inspect pyimg:env '{{.Id}}')"
        expect_eq "docker-py images.build: the image works" "$(run pyimg:env cat /pyarg)" "env"
        expect_eq "docker-py images.build: COPY'd files are owned by root" "$(run pyimg:env stat -c %u:%g /top.txt /sub/p.txt | tr '\n' ' ')" "0:0 0:0 "
        out=$(python3 - "$SOCK" "$Y" << 'EOF' 2>&1
import io, json, sys, docker
c = docker.APIClient(base_url="unix://" + sys.argv[1])
def run(**kw):
    msgs = []
    try:
        for m in c.build(decode=True, **kw):
            msgs.append(m)
    except docker.errors.APIError as e:
        msgs.append({"apierror": e.response.status_code, "explanation": e.explanation})
    except Exception as e:
        msgs.append({"exception": repr(e)})
    return msgs
for what, kw in [
    ("gzip", dict(path=sys.argv[2], tag="pyimg:gz", gzip=True, buildargs={"PYARG": "gz"})),
    ("fileobj", dict(fileobj=io.BytesIO(b"FROM busybox\nRUN echo fileobj > /fo\n"), tag="pyimg:fo")),
    ("remote", dict(path="http://127.0.0.1:1/ctx.tar", tag="pyimg:remote")),
]:
    print(what, json.dumps(run(**kw)))
EOF
)
        gz=$(sed -n 's/^gzip //p' <<< "$out")
        expect_contains "docker-py build(gzip=True) (Content-Encoding: gzip): Successfully built" "$gz" "Successfully built "
        expect_eq "docker-py build(gzip=True): the image works" "$(run pyimg:gz cat /pyarg)" "gz"
        fo=$(sed -n 's/^fileobj //p' <<< "$out")
        expect_contains "docker-py build(fileobj=a Dockerfile): Successfully built" "$fo" "Successfully built "
        expect_eq "docker-py build(fileobj=...): the image works" "$(run pyimg:fo cat /fo)" "fileobj"
        rm=$(sed -n 's/^remote //p' <<< "$out")
        expect_not_contains "docker-py build(remote=an unreachable URL): fails" "$rm" "Successfully built"
        expect_contains "docker-py build(remote=an unreachable URL): says which URL" "$rm" "127.0.0.1:1"
else
        fail "python3's docker module (docker-py) is not installed"
fi

check "no build scratch is left" [ -z "$(ls -A "$DATA/build/tmp" 2> /dev/null)" ]
finish
