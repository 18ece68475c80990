#!/bin/bash
# A user namespace with uid/gid mappings: the container's root is the
# configured host uid, from inside and from the host.
source "$(dirname "$0")/runtime-lib.sh"

mkbundle u "c['linux']['namespaces'].append({'type':'user'})" \
        "c['linux']['uidMappings']=[{'containerID':0,'hostID':100000,'size':65536}]" \
        "c['linux']['gidMappings']=[{'containerID':0,'hostID':100000,'size':65536}]" \
        "c['mounts']=[m for m in c['mounts'] if m['destination'] != '/sys/fs/cgroup']" \
        "c['process']['args']=['sh','-c','id -u; cat /proc/self/uid_map; ls /dev/null >/dev/null && echo dev-ok; sleep 100']"
rt run -d -b "$T/u" u >"$T/out" </dev/null
for i in $(seq 50); do grep -q dev-ok "$T/out" && break; sleep 0.05; done
pid=$(rt state u | jq -r .pid)
host_uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$host_uid" = 100000 ] || fail "container root is host uid $host_uid, want 100000"
[ "$(sed -n 1p "$T/out")" = 0 ] || fail "uid inside: $(cat "$T/out")"
grep -q "0 *100000 *65536" "$T/out" || fail "uid_map inside: $(cat "$T/out")"
grep -qx dev-ok "$T/out" || fail "/dev/null in a user namespace: $(cat "$T/out")"
[ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ] || fail "no new user namespace"
[ "$(rt exec u id -u)" = 0 ] || fail "exec into the user namespace"
rt delete --force u
assert_clean
ok "user namespace: root inside is host uid 100000"
