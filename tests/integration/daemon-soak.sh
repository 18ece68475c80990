#!/bin/bash
# Mixed Engine API traffic for a bounded time: several event streams at
# once (curl and the Python SDK in threads), attach and exec streams, and
# the container life cycle from several clients. berthd must stay up,
# answer /_ping, and every event stream must see the life cycle events.
. "$(dirname "$0")/lib.sh"
python3 -c 'import docker' 2> /dev/null || skip "needs python3-docker"
SOAK_SECONDS=${SOAK_SECONDS:-20}

bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
b run -d --name soak-srv busybox sleep 600 > /dev/null

# two live streams (only what happens from now on: ended by us) and one
# that replays from a time and ends by itself at until=
start=$(date +%s)
end=$((start + SOAK_SECONDS + 20))
livepids=()
for i in 1 2; do
        timeout $((end - start + 20)) curl -sSN --unix-socket "$SOCK" \
                "http://localhost/v1.41/events" > "$T/curl-events-$i" 2>&1 &
        livepids+=($!)
done
timeout $((end - start + 20)) curl -sSN --unix-socket "$SOCK" \
        "http://localhost/v1.41/events?since=$start&until=$end" > "$T/curl-events-3" 2>&1 &
untilpid=$!

cat > "$T/soak.py" << 'PY'
import json, os, sys, threading, time
import docker

sock, out_dir, seconds, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
deadline = time.time() + seconds
errors = []
lost_output = []
closing = False

def client():
    return docker.DockerClient(base_url="unix://" + sock, timeout=30)

def events(n, stream):
    seen = []
    try:
        for e in stream:
            seen.append([e.get("Type"), e.get("Action"), e.get("Actor", {}).get("Attributes", {}).get("name")])
    except Exception as ex:  # the daemon went away, or close() below
        if not closing:
            errors.append("events %d: %r" % (n, ex))
    with open(os.path.join(out_dir, "py-events-%d" % n), "w") as f:
        json.dump(seen, f)

def lifecycle(n):
    c = client()
    i = 0
    while time.time() < deadline and i < 200:
        name = "soak-%d-%d" % (n, i)
        try:
            ct = c.containers.create("busybox", ["sleep", "30"], name=name)
            ct.start()
            ct.stop(timeout=1)
            ct.remove()
        except Exception as ex:
            errors.append("lifecycle %s: %r" % (name, ex))
            if not alive():
                return
        i += 1

def attach(n):
    c = client()
    i = 0
    while time.time() < deadline and i < 200:
        try:
            out = c.containers.run("busybox", ["sh", "-c", "echo attach-%d; seq 1 200" % i],
                                   name="soak-att-%d-%d" % (n, i), remove=True)
            if b"attach-%d" % i not in out:
                lost_output.append("attach-%d" % i)
        except Exception as ex:
            errors.append("attach %d: %r" % (i, ex))
            if not alive():
                return
        i += 1

def execs(n):
    c = client()
    i = 0
    while time.time() < deadline and i < 400:
        try:
            ct = c.containers.get("soak-srv")
            r = ct.exec_run(["sh", "-c", "echo exec-%d" % i])
            if r.exit_code != 0:
                errors.append("exec %d: %r" % (i, r))
            elif (b"exec-%d" % i) not in r.output:
                lost_output.append("exec-%d" % i)
            for chunk in ct.exec_run(["seq", "1", "100"], stream=True).output:
                pass
            # a long command with non-ASCII text: its exec events' action
            # is cut short, maybe inside a character
            r = ct.exec_run(["sh", "-c", "true " + "\u00e9" * (300 + i % 3)])
            if r.exit_code != 0:
                errors.append("exec long %d: %r" % (i, r))
            c.api.inspect_container("soak-srv")
            c.api.containers(all=True)
        except Exception as ex:
            errors.append("exec %d: %r" % (i, ex))
            if not alive():
                return
        i += 1

def alive():
    try:
        return client().ping()
    except Exception:
        return False

# live streams, as the SDK opens them by default
streams = [client().events(decode=True) for n in range(3)]
threads = [threading.Thread(target=events, args=(n, streams[n])) for n in range(3)]
for t in threads:
    t.start()
time.sleep(0.5)
work = ([threading.Thread(target=lifecycle, args=(n,)) for n in range(2)] +
        [threading.Thread(target=attach, args=(0,)), threading.Thread(target=execs, args=(0,))])
for t in work:
    t.start()
for t in work:
    t.join()
# a marker after the traffic that every stream must see whole
try:
    c = client()
    ct = c.containers.create("busybox", ["sleep", "30"], name="soak-mark")
    ct.start(); ct.stop(timeout=1); ct.remove()
except Exception as ex:
    errors.append("marker: %r" % ex)
time.sleep(1)
closing = True
for s in streams:
    s.close()
for t in threads:
    t.join(timeout=15)
with open(os.path.join(out_dir, "py-errors"), "w") as f:
    f.write("\n".join(errors))
with open(os.path.join(out_dir, "py-lost-output"), "w") as f:
    f.write(" ".join(lost_output))
PY

# the CLI too, in parallel: attach (run) and exec from another client
(
        i=0
        while [ "$(date +%s)" -lt $((start + SOAK_SECONDS)) ] && [ $i -lt 100 ]; do
                timeout 30 "$BERTH" -H "unix://$SOCK" run --rm --name "soak-cli-$i" busybox echo cli > /dev/null 2>&1
                timeout 30 "$BERTH" -H "unix://$SOCK" exec soak-srv true > /dev/null 2>&1
                i=$((i + 1))
        done
) &
clipid=$!

timeout $((end - start + 60)) python3 "$T/soak.py" "$SOCK" "$T" "$SOAK_SECONDS" "$start" "$end"
wait $clipid
sleep 1
kill "${livepids[@]}" 2> /dev/null
wait "${livepids[@]}" "$untilpid"

if kill -0 "$DAEMON_PID" 2> /dev/null; then pass "berthd is alive after the soak"; else
        fail "berthd died during the soak"
        # a sanitizer's report from its start, else the log's end
        if grep -q 'ERROR: ' "$DAEMON_LOG"; then sed -n '/ERROR: /,$p' "$DAEMON_LOG" | head -100 >&2
        else tail -20 "$DAEMON_LOG" >&2; fi
fi
api GET /_ping
expect_eq "berthd answers /_ping" "$API_BODY" "OK"
api GET /v1.41/containers/soak-srv/json
expect_eq "berthd still serves requests" "$API_STATUS" 200
errs=$(cat "$T/py-errors" 2> /dev/null)
expect_eq "no SDK call failed" "$errs" ""
# a run or exec whose output did not reach the client under this load is a
# known flaw of the attach and exec streams, apart from the daemon's
# survival: shown, not failed
lost=$(cat "$T/py-lost-output" 2> /dev/null)
[ -z "$lost" ] || echo "NOTE: exited 0, but their output did not arrive: $lost"

# each stream saw the marker's whole life cycle, and every create of the
# SDK's life cycle threads (soak-N-I), which began after the streams
want="create start die stop destroy"
ncreate=
for i in 1 2 3; do
        got=$(jq -r 'select(.Actor.Attributes.name == "soak-mark") | .Action' "$T/curl-events-$i" 2> /dev/null | tr '\n' ' ')
        for a in $want; do expect_contains "curl stream $i saw soak-mark $a" " $got" " $a "; done
        n=$(jq -r 'select(.Action == "create") | .Actor.Attributes.name' "$T/curl-events-$i" 2> /dev/null |
                grep -cE '^soak-[0-9]+-[0-9]+$')
        [ -z "$ncreate" ] && ncreate=$n
        expect_eq "curl stream $i saw as many creates as stream 1" "$n" "$ncreate"
done
check "the streams saw the traffic (more than 10 creates)" test "${ncreate:-0}" -gt 10
for i in 0 1 2; do
        got=$(jq -r '.[] | select(.[2] == "soak-mark") | .[1]' "$T/py-events-$i" 2> /dev/null | tr '\n' ' ')
        for a in $want; do expect_contains "SDK stream $i saw soak-mark $a" " $got" " $a "; done
        n=$(jq -r '.[] | select(.[1] == "create") | .[2]' "$T/py-events-$i" 2> /dev/null |
                grep -cE '^soak-[0-9]+-[0-9]+$')
        expect_eq "SDK stream $i saw as many creates as curl stream 1" "$n" "$ncreate"
done
finish
