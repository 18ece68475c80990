#!/bin/bash
# mkrootfs.sh DIR — a minimal busybox root filesystem from Debian's
# busybox-static: /bin/busybox, one link per applet in /bin, /etc/passwd,
# /etc/group, and the usual empty directories. Used by tests and bench.
set -euo pipefail
dir=${1:?usage: mkrootfs.sh DIR}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkrootfs.sh: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
        { echo "mkrootfs.sh: $bb is not static (install busybox-static)" >&2; exit 1; }
mkdir -p "$dir"/{bin,etc,dev,proc,sys,tmp,root,home,var,run,usr/bin,usr/sbin,sbin}
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for a in $("$bb" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
done
cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
