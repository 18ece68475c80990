#!/bin/bash
# --user and --group-add as Docker resolves them in the image: the primary
# group, the groups /etc/group lists the user's name in, --group-add (names
# or numbers) on top; HOME from the image's /etc/passwd (else "/"), and an
# explicit -e HOME wins. Driven through the docker CLIs.
. "$(dirname "$0")/lib.sh"
bash "$BERTH_SOURCE_DIR/tests/lib/mkimage.sh" busybox "$T/bb.tar" > /dev/null
start_daemon
b load -q -i "$T/bb.tar" > /dev/null
export DOCKER_CONFIG=$T/docker-config; mkdir -p "$DOCKER_CONFIG"

# busybox's id lists getgroups(), which the kernel keeps sorted.

# An image with users: app (empty GECOS field, as adduser writes it) is a
# member of sudo and of audio; 1001 has no name.
b run --name mk busybox sh -c '
echo "app:x:1000:1000::/home/app:/bin/sh" >> /etc/passwd
printf "app:x:1000:\nsudo:x:27:app\naudio:x:29:root,app\nstaff:x:50:\n" >> /etc/group
mkdir -p /home/app' > /dev/null
b commit mk users:latest > /dev/null
b rm mk > /dev/null

for d in /usr/local/bin/docker /usr/bin/docker; do
        [ -x "$d" ] || continue
        v=$("$d" --version | cut -d, -f1)
        dk() { "$d" -H "unix://$SOCK" "$@"; }
        out=$(dk run --rm --user app users sh -c 'id; echo $HOME')
        expect_eq "$v: --user NAME: the user's groups from /etc/group, HOME from passwd" "$out" \
                "uid=1000(app) gid=1000(app) groups=27(sudo),29(audio),1000(app)
/home/app"
        out=$(dk run --rm --user 1000 users sh -c 'id; echo $HOME')
        expect_eq "$v: --user UID that resolves: the same" "$out" \
                "uid=1000(app) gid=1000(app) groups=27(sudo),29(audio),1000(app)
/home/app"
        out=$(dk run --rm --user 1000:50 users sh -c 'id; echo $HOME')
        expect_eq "$v: --user UID:GID: that group only" "$out" \
                "uid=1000(app) gid=50(staff) groups=50(staff)
/home/app"
        out=$(dk run --rm --user 1001 users sh -c 'id; echo $HOME')
        expect_eq "$v: --user UID without an entry: gid 0, HOME=/" "$out" \
                "uid=1001 gid=0(root) groups=0(root)
/"
        out=$(dk run --rm --user app --group-add staff --group-add 4242 users id)
        expect_eq "$v: --group-add by name and by number, on top" "$out" \
                "uid=1000(app) gid=1000(app) groups=27(sudo),29(audio),50(staff),1000(app),4242"
        out=$(dk run --rm --user app -e HOME=/x users sh -c 'echo $HOME')
        expect_eq "$v: -e HOME wins" "$out" "/x"
        out=$(dk run --rm users sh -c 'id; echo $HOME')
        expect_eq "$v: root: its groups too" "$out" "uid=0(root) gid=0(root) groups=0(root),29(audio)
/root"
        out=$(dk run --user app --group-add nosuch users id 2>&1)
        expect_contains "$v: an unknown --group-add name is refused" "$out" "unable to find group nosuch"
done
finish
