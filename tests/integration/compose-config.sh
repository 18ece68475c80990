#!/bin/bash
# berth compose config: the loader end to end through the CLI (no daemon):
# discovery, .env, interpolation, anchors and merge keys, the override file,
# profiles, the list flags, and the errors with their file:line.
. "$(dirname "$0")/lib.sh"

P=$T/My_Proj
mkdir -p "$P/sub/deeper" "$P/lib"
cat > "$P/compose.yaml" <<'EOF'
version: "3.9"
x-common: &common
  restart: unless-stopped
  labels:
    tier: ${TIER:-back}
services:
  web:
    <<: *common
    image: "nginx:${TAG}"
    command: ["nginx", "-g", "daemon off;"]
    environment:
      - MODE=${MODE:?MODE must be set}
      - HOME_DIR=$$HOME
    ports:
      - "${PORT:-8080}:80"
    depends_on: [db]
    x-note: dropped
  db:
    <<: *common
    image: postgres:16
    volumes:
      - dbdata:/var/lib/postgresql/data
  debug:
    image: busybox
    profiles: [debug]
volumes:
  dbdata: {}
x-unused: 1
EOF
cat > "$P/compose.override.yaml" <<'EOF'
services:
  web:
    environment:
      EXTRA: "yes"
    ports:
      - "9443:443"
EOF
printf 'TAG=1.27\nMODE=prod\nTIER=front\n' > "$P/.env"

cd "$P/sub/deeper" || exit 1

# The files are found walking up, the override is added, the name is the
# directory's, normalized; the shell beats .env.
out=$(TAG=shell "$BERTH" compose config --no-normalize 2>"$T/err"); rc=$?
expect_eq "config exit status" "$rc" 0
expect_eq "config --no-normalize output" "$out" "name: my_proj
services:
  db:
    image: postgres:16
    labels:
      tier: front
    restart: unless-stopped
    volumes:
      - dbdata:/var/lib/postgresql/data
  web:
    command:
      - nginx
      - -g
      - daemon off;
    depends_on:
      - db
    environment:
      EXTRA: \"yes\"
      HOME_DIR: \$\$HOME
      MODE: prod
    image: nginx:shell
    labels:
      tier: front
    ports:
      - 8080:80
      - 9443:443
    restart: unless-stopped
volumes:
  dbdata: {}"
expect_eq "version warning" "$(cat "$T/err")" "WARN[0000] $P/compose.yaml: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion"

# json reads back as the same document
out=$("$BERTH" compose config --no-normalize --format json 2>/dev/null)
expect_eq "json output: image" "$(jq -r .services.web.image <<<"$out")" "nginx:1.27"
expect_eq "json output: no extension fields" "$(jq -c '[.["x-unused"], .services.web["x-note"]]' <<<"$out")" "[null,null]"

# the lists
expect_eq "--services" "$("$BERTH" compose config --services 2>/dev/null)" "db
web"
expect_eq "--services with a profile" "$("$BERTH" compose --profile debug config --services 2>/dev/null)" "db
debug
web"
expect_eq "--profiles" "$("$BERTH" compose config --profiles 2>/dev/null)" "debug"
expect_eq "--volumes" "$("$BERTH" compose config --volumes 2>/dev/null)" "dbdata"
expect_eq "--images" "$("$BERTH" compose config --images 2>/dev/null)" "postgres:16
nginx:1.27"
expect_eq "-q prints nothing" "$("$BERTH" compose config -q 2>/dev/null; echo "rc=$?")" "rc=0"
"$BERTH" compose config --no-normalize -o "$T/out.yaml" 2>/dev/null
expect_contains "-o writes the file" "$(cat "$T/out.yaml")" "image: nginx:1.27"
out=$("$BERTH" compose config --environment 2>/dev/null)
expect_contains "--environment: .env values" "$out" "MODE=prod"
expect_contains "--environment: the project name" "$out" "COMPOSE_PROJECT_NAME=my_proj"
out=$("$BERTH" compose config --no-interpolate --no-normalize 2>/dev/null)
expect_contains "--no-interpolate keeps the template" "$out" "image: nginx:\${TAG}"
out=$("$BERTH" compose config --variables 2>/dev/null)
expect_contains "--variables header" "$out" "NAME"
expect_contains "--variables: required" "$(grep '^MODE ' <<<"$out")" "true"
expect_contains "--variables: default" "$(grep '^PORT ' <<<"$out")" "8080"
out=$("$BERTH" compose config --variables --format json 2>/dev/null | jq -c .PORT)
expect_eq "--variables --format json" "$out" '{"Name":"PORT","DefaultValue":"8080","PresenceValue":"","Required":false}'
out=$("$BERTH" compose config --variables --format yaml 2>/dev/null | grep -A4 '^PORT:')
expect_eq "--variables --format yaml" "$out" 'PORT:
    name: PORT
    defaultvalue: "8080"
    presencevalue: ""
    required: false'
# a service named on the command line: itself and its dependencies
out=$("$BERTH" compose config --no-normalize web 2>/dev/null | grep -c '^  [a-z]*:$')
expect_eq "config SERVICE keeps its dependencies" "$out" "2"

# -p, --project-directory, -f, stdin, COMPOSE_FILE, --env-file
cd "$T" || exit 1
out=$("$BERTH" compose -f My_Proj/compose.yaml -p other config --no-normalize 2>/dev/null | head -1)
expect_eq "-p names the project" "$out" "name: other"
printf 'TAG=alt\nMODE=dev\n' > "$T/alt.env"
out=$("$BERTH" compose --project-directory My_Proj --env-file alt.env config --images 2>/dev/null)
expect_eq "--env-file replaces .env" "$out" "postgres:16
nginx:alt"
out=$(printf 'services:\n  s:\n    image: "from-${SRC}"\n' | SRC=stdin "$BERTH" compose -f - -p piped config --no-normalize 2>/dev/null)
expect_eq "-f - reads stdin" "$out" "name: piped
services:
  s:
    image: from-stdin"
mkdir -p "$T/cf"
printf 'services:\n  a:\n    image: a\n' > "$T/cf/one.yaml"
printf 'services:\n  b:\n    image: b\n' > "$T/cf/two.yaml"
out=$(cd "$T/cf" && COMPOSE_FILE=one.yaml,two.yaml COMPOSE_PATH_SEPARATOR=, "$BERTH" compose config --services 2>/dev/null)
expect_eq "COMPOSE_FILE with COMPOSE_PATH_SEPARATOR" "$out" "a
b"

# The normalized model, as docker compose v2 prints it for a small project.
G=$T/golden
mkdir -p "$G"
cat > "$G/compose.yaml" <<'EOF'
services:
  web:
    image: nginx:1.27
    ports:
      - "8080:80"
    depends_on: [db]
    environment:
      - A=1
      - PASS=$$secret
  db:
    image: postgres:16
    volumes:
      - data:/var/lib/postgresql/data
volumes:
  data: {}
EOF
out=$(cd "$G" && "$BERTH" compose config 2>&1)
expect_eq "normalized golden" "$out" "name: golden
services:
  db:
    image: postgres:16
    networks:
      default: null
    volumes:
      - type: volume
        source: data
        target: /var/lib/postgresql/data
        volume: {}
  web:
    depends_on:
      db:
        condition: service_started
        required: true
    environment:
      A: \"1\"
      PASS: \$\$secret
    image: nginx:1.27
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: \"8080\"
        protocol: tcp
networks:
  default:
    name: golden_default
volumes:
  data:
    name: golden_data"
out=$(cd "$G" && "$BERTH" compose config --format json 2>/dev/null | jq -c '.services.web.ports')
expect_eq "normalized json ports" "$out" '[{"mode":"ingress","target":80,"published":"8080","protocol":"tcp"}]'
# what config prints loads back as the same project
(cd "$G" && "$BERTH" compose config > "$T/again.yaml" 2>/dev/null)
out=$("$BERTH" compose -f "$T/again.yaml" --project-directory "$G" config 2>&1)
expect_eq "config output loads back" "$out" "$(cd "$G" && "$BERTH" compose config 2>&1)"

# Errors: exit 1, the message names the file and line.
E=$T/errors
mkdir -p "$E"
printf 'services:\n  web:\n    image: nginx\n    ports: [80\n' > "$E/syntax.yaml"
out=$("$BERTH" compose -f "$E/syntax.yaml" config 2>&1); rc=$?
expect_eq "syntax error exit status" "$rc" 1
expect_eq "syntax error message" "$out" "$E/syntax.yaml:5:1: did not find expected ',' or ']' while parsing a flow sequence"
printf 'services:\n  web:\n    image: nginx\n    environment:\n      A: ${NEEDED:?set NEEDED}\n' > "$E/required.yaml"
out=$("$BERTH" compose -f "$E/required.yaml" config 2>&1); rc=$?
expect_eq "required variable exit status" "$rc" 1
expect_eq "required variable message" "$out" "$E/required.yaml:5: error while interpolating services.web.environment.A: required variable NEEDED is missing a value: set NEEDED"
printf 'services:\n  web:\n    image: "${BROKEN"\n' > "$E/template.yaml"
out=$("$BERTH" compose -f "$E/template.yaml" config 2>&1)
expect_eq "invalid template message" "$out" "$E/template.yaml:3: invalid interpolation format for services.web.image.
You may need to escape any \$ with another \$.
\${BROKEN"
printf 'services:\n  web:\n    image: nginx\n    depends_on: [ghost]\n' > "$E/deps.yaml"
out=$("$BERTH" compose -f "$E/deps.yaml" config 2>&1)
expect_eq "unknown dependency" "$out" "service \"web\" depends on undefined service \"ghost\": invalid compose project"
printf 'services:\n  web:\n    image: nginx\n    env_file: missing.env\n' > "$E/envfile.yaml"
out=$("$BERTH" compose -f "$E/envfile.yaml" config 2>&1)
expect_eq "missing env_file" "$out" "env file $E/missing.env not found: stat $E/missing.env: no such file or directory"
printf 'services:\n  web:\n    image: nginx\n    env_file: /doesnotexist/.env\n  other:\n    image: busybox\n' > "$E/lazy.yaml"
out=$("$BERTH" compose -f "$E/lazy.yaml" config --hash other 2>&1); rc=$?
expect_eq "--hash of another service ignores a missing env_file" "$rc" 0
out=$("$BERTH" compose -f "$E/lazy.yaml" config --hash '*' 2>&1); rc=$?
expect_eq "--hash '*' fails on the missing env_file" "$rc:$out" "1:env file /doesnotexist/.env not found: stat /doesnotexist/.env: no such file or directory"
out=$("$BERTH" compose -f "$E/deps.yaml" -p Bad config 2>&1)
expect_contains "invalid project name" "$out" "invalid project name \"Bad\": must consist only of lowercase alphanumeric characters"
out=$(cd / && "$BERTH" compose config 2>&1); rc=$?
expect_eq "no file exit status" "$rc" 1
expect_eq "no file message" "$out" "no configuration file provided: not found"
out=$("$BERTH" compose -f "$E/nope.yaml" config 2>&1)
expect_eq "missing -f file" "$out" "open $E/nope.yaml: no such file or directory"

finish
