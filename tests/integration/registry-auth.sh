#!/bin/bash
# Registry auth and TLS: basic auth through htpasswd (login, logout, wrong
# credentials with the registry's message, config.json 0600), TLS with a
# certificate made here and its CA given in berth.ini, and the bearer-token
# flow against a token server on loopback (docker-registry's token auth).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry-lib.sh"
command -v htpasswd > /dev/null || { echo "FAIL: htpasswd (apache2-utils) is not installed" >&2; exit 1; }
bash "$MKIMAGE" busybox "$T/bb.tar" > /dev/null
CFG=$T/client
bc() { "$BERTH" -H "unix://$SOCK" --config "$CFG" "$@"; }

# --- basic auth ---------------------------------------------------------------
htpasswd -Bbn alice s3cret > "$T/htpasswd"
P=$(free_port)
R=127.0.0.1:$P
REG_HTPASSWD=$T/htpasswd start_registry "$T/basic" "$P" || exit 1
skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "docker-archive:$T/bb.tar" "docker://$R/private/bb:latest"
write_config <<< $'[registry]\ntimeout = 5'
start_daemon

out=$(bc pull "$R/private/bb" 2>&1)
check "pull without credentials fails" [ $? != 0 ]
expect_contains "the failure is unauthorized" "$out" "unauthorized"
out=$(printf 'wrong\n' | bc login -u alice --password-stdin "$R" 2>&1)
check "login with a wrong password fails" [ $? != 0 ]
expect_contains "the wrong password gets the registry's message" "$out" "unauthorized: authentication required"
check "no credentials stored after a failed login" [ ! -e "$CFG/config.json" ]
out=$(printf 's3cret\n' | bc login -u alice --password-stdin "$R" 2>&1)
check "login with the right password succeeds" [ $? = 0 ]
expect_contains "login says so" "$out" "Login Succeeded"
expect_eq "config.json is private" "$(stat -c %a "$CFG/config.json")" "600"
expect_contains "config.json has the registry" "$(cat "$CFG/config.json")" "\"$R\""
out=$(bc pull "$R/private/bb" 2>&1)
check "pull with the stored credentials succeeds" [ $? = 0 ]
expect_eq "the image runs" "$(bc run --rm --network none "$R/private/bb" echo private)" "private"
bc tag "$R/private/bb" "$R/private/copy:v1"
out=$(bc push "$R/private/copy:v1" 2>&1)
check "push with the stored credentials succeeds" [ $? = 0 ]
expect_contains "push reports the digest" "$out" "v1: digest: sha256:"
api POST /v1.41/auth -H 'Content-Type: application/json' -d "{\"username\":\"alice\",\"password\":\"nope\",\"serveraddress\":\"$R\"}"
expect_eq "POST /auth with wrong credentials answers 401" "$API_STATUS" "401"
api POST /v1.41/auth -H 'Content-Type: application/json' -d "{\"username\":\"alice\",\"password\":\"s3cret\",\"serveraddress\":\"$R\"}"
expect_contains "POST /auth with the right credentials succeeds" "$API_BODY" "Login Succeeded"
out=$(bc logout "$R")
expect_contains "logout removes the credentials" "$out" "Removing login credentials for $R"
expect_not_contains "config.json no longer has the registry" "$(cat "$CFG/config.json")" "\"$R\""
bc rmi "$R/private/bb" > /dev/null
out=$(bc pull "$R/private/bb" 2>&1)
check "pull after logout fails again" [ $? != 0 ]
if [ -x /usr/local/bin/docker ]; then
        out=$(DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/dockercfg /usr/local/bin/docker login -u alice --password-stdin "$R" <<< s3cret 2>&1)
        check "docker login through berthd succeeds" [ $? = 0 ]
        out=$(DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/dockercfg /usr/local/bin/docker pull "$R/private/bb" 2>&1)
        check "docker pull with docker's credentials through berthd succeeds" [ $? = 0 ]
fi
# the registry client ran in berth-registry: the daemon never loaded it
expect_eq "after pull, push and login berthd maps no libcurl or libssl" \
        "$(grep -E 'libcurl|libssl' "/proc/$DAEMON_PID/maps")" ""
stop_daemon

# --- TLS with a CA of our own ---------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj /CN=berth-test-ca 2> /dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" -subj /CN=127.0.0.1 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$T/san.ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -out "$T/srv.pem" -days 2 -extfile "$T/san.ext" 2> /dev/null
TP=$(free_port)
REG_TLS_CERT=$T/srv.pem REG_TLS_KEY=$T/srv.key start_registry "$T/tls" "$TP" || exit 1
skopeo_put "$T/bb.tar" "127.0.0.1:$TP/secure/bb:latest"
start_daemon
out=$(bc pull "127.0.0.1:$TP/secure/bb" 2>&1)
check "pull over TLS with an unknown CA fails" [ $? != 0 ]
expect_contains "the failure names the certificate" "$out" "certificate"
stop_daemon
start_daemon --insecure-registry "127.0.0.1:$TP"
out=$(bc pull "127.0.0.1:$TP/secure/bb" 2>&1)
check "pull from a registry marked --insecure-registry skips verification" [ $? = 0 ]
bc rmi "127.0.0.1:$TP/secure/bb" > /dev/null
stop_daemon
write_config <<< $'[registry]\ntimeout = 5\nca = '"$T/ca.pem"
start_daemon
out=$(bc pull "127.0.0.1:$TP/secure/bb" 2>&1)
check "pull over TLS with the CA from berth.ini succeeds" [ $? = 0 ]
bc tag "127.0.0.1:$TP/secure/bb" "127.0.0.1:$TP/secure/again:v2"
out=$(bc push "127.0.0.1:$TP/secure/again:v2" 2>&1)
check "push over TLS succeeds" [ $? = 0 ]
expect_eq "after TLS pulls and pushes berthd maps no libcurl or libssl" \
        "$(grep -E 'libcurl|libssl' "/proc/$DAEMON_PID/maps")" ""

# --- bearer tokens --------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tok.key" -out "$T/tok.pem" -days 2 -subj /CN=berth-token 2> /dev/null
KP=$(free_port)
python3 "$HERE/registry-token.py" "$KP" "$T/tok.key" "$T/tok.pem" berth-issuer bob:t0ken "$T/token.log" &
BG_PIDS+=($!)
wait_port "$KP"
BP=$(free_port)
REG_TOKEN_REALM=http://127.0.0.1:$KP/token REG_TOKEN_SERVICE=berth-registry REG_TOKEN_ISSUER=berth-issuer \
        REG_TOKEN_ROOTCERT=$T/tok.pem start_registry "$T/token" "$BP" || exit 1
B=127.0.0.1:$BP
out=$(printf 'bad\n' | bc login -u bob --password-stdin "$B" 2>&1)
check "token login with a wrong password fails" [ $? != 0 ]
expect_contains "the token server's message is shown" "$out" "invalid username or password"
out=$(printf 't0ken\n' | bc login -u bob --password-stdin "$B" 2>&1)
check "token login succeeds" [ $? = 0 ]
bc tag "127.0.0.1:$TP/secure/bb" "$B/tok/bb:v1"
out=$(bc push "$B/tok/bb:v1" 2>&1)
check "push with a bearer token succeeds" [ $? = 0 ]
expect_contains "the token was asked for the push scope" "$(cat "$T/token.log")" "scope=repository:tok/bb:pull,push"
bc rmi "$B/tok/bb:v1" > /dev/null
out=$(bc pull "$B/tok/bb:v1" 2>&1)
check "pull with a bearer token succeeds" [ $? = 0 ]
expect_contains "the token was asked for the pull scope" "$(cat "$T/token.log")" "scope=repository:tok/bb:pull auth=Basic"
bc logout "$B" > /dev/null
bc rmi "$B/tok/bb:v1" > /dev/null
out=$(bc pull "$B/tok/bb:v1" 2>&1)
check "pull without a token fails" [ $? != 0 ]

finish
