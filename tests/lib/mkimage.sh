#!/bin/bash
# mkimage.sh KIND OUT.tar [NAME:TAG] — a docker-archive (the `docker save`
# format: manifest.json, repositories, <config>.json, <diff id>/layer.tar)
# built from Debian's busybox-static, for tests and benchmarks.
#
# KIND:
#   busybox   one layer: the busybox rootfs of mkrootfs.sh       (busybox:latest)
#   multi     four layers exercising layering                       (multi:latest)
#               1: busybox rootfs, /etc/deleteme, /opt/dir/{a,b}, /data/file
#               2: /etc/.wh.deleteme (whiteout), /opt/dir opaque with only c,
#                  /data/file2 and its hard link /data/hard, symlink /data/link
#               3: /etc/motd
#               4: /data/.wh.file (whiteout of a file of layer 1)
#   big       five layers, about 50 MB of incompressible data   (big:latest)
#   gz        like busybox, but the layer gzip-compressed        (gz:latest)
#   volume    busybox with VOLUME /data and content there:      (volume:latest)
#               /data/hello (mode 0640), /data/sub/file, symlink /data/link -> hello
#   hostile   busybox whose /data is a symlink to /etc            (hostile:latest)
#   web       like busybox, with EXPOSE 80/tcp 53/udp and the command
#             httpd -f -p 80 -h /etc, and /bin/udpecho if $UDPECHO
#             names the built tests/lib/udpecho.c                (web:latest)
set -euo pipefail
kind=${1:?usage: mkimage.sh busybox|multi|big|gz|volume|hostile|web OUT.tar [NAME:TAG]}
out=${2:?usage: mkimage.sh KIND OUT.tar [NAME:TAG]}
here=$(cd "$(dirname "$0")" && pwd)
case $kind in
busybox) name=${3:-busybox:latest} ;;
multi) name=${3:-multi:latest} ;;
big) name=${3:-big:latest} ;;
gz) name=${3:-gz:latest} ;;
volume) name=${3:-volume:latest} ;;
hostile) name=${3:-hostile:latest} ;;
web) name=${3:-web:latest} ;;
*) echo "mkimage.sh: unknown kind '$kind'" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/berth-mkimage.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out" "$work/l"
diff_ids=()
layer_paths=()
history=()
created=2024-01-01T00:00:00Z
extra_config=

# add_layer DIR "created_by" [gzip]
add_layer() {
        local dir=$1 by=$2 gz=${3:-}
        local t="$work/l/layer.tar"
        tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@1704067200 \
                --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
                -C "$dir" -cf "$t" .
        local d
        d=$(sha256sum "$t" | cut -d' ' -f1)
        diff_ids+=("sha256:$d")
        mkdir -p "$work/out/$d"
        if [ -n "$gz" ]; then
                gzip -n -c "$t" > "$work/out/$d/layer.tar"
        else
                mv "$t" "$work/out/$d/layer.tar"
        fi
        rm -f "$t"
        printf '1.0' > "$work/out/$d/VERSION"
        layer_paths+=("$d/layer.tar")
        history+=("{\"created\":\"$created\",\"created_by\":\"$by\"}")
}

case $kind in
busybox | gz | web)
        "$here/mkrootfs.sh" "$work/r1" >/dev/null
        # web: the static UDP echo helper, when the caller built it
        if [ "$kind" = web ] && [ -n "${UDPECHO:-}" ]; then cp "$UDPECHO" "$work/r1/bin/udpecho"; fi
        add_layer "$work/r1" "ADD busybox rootfs" "$([ "$kind" = gz ] && echo gz)"
        ;;
multi)
        "$here/mkrootfs.sh" "$work/r1" >/dev/null
        echo "delete me" > "$work/r1/etc/deleteme"
        mkdir -p "$work/r1/opt/dir" "$work/r1/data"
        echo a > "$work/r1/opt/dir/a"
        echo b > "$work/r1/opt/dir/b"
        echo "layer one" > "$work/r1/data/file"
        add_layer "$work/r1" "ADD rootfs and files"

        mkdir -p "$work/r2/etc" "$work/r2/opt/dir" "$work/r2/data"
        : > "$work/r2/etc/.wh.deleteme"
        : > "$work/r2/opt/dir/.wh..wh..opq"
        echo c > "$work/r2/opt/dir/c"
        echo "layer two" > "$work/r2/data/file2"
        ln "$work/r2/data/file2" "$work/r2/data/hard"
        ln -s file2 "$work/r2/data/link"
        add_layer "$work/r2" "RUN rm /etc/deleteme && ..."

        mkdir -p "$work/r3/etc"
        echo "welcome to multi" > "$work/r3/etc/motd"
        add_layer "$work/r3" "RUN echo welcome > /etc/motd"

        mkdir -p "$work/r4/data"
        : > "$work/r4/data/.wh.file"
        add_layer "$work/r4" "RUN rm /data/file"
        ;;
volume)
        "$here/mkrootfs.sh" "$work/r1" >/dev/null
        mkdir -p "$work/r1/data/sub"
        echo "from the image" > "$work/r1/data/hello"
        chmod 0640 "$work/r1/data/hello"
        echo "nested" > "$work/r1/data/sub/file"
        ln -s hello "$work/r1/data/link"
        add_layer "$work/r1" "ADD rootfs and /data"
        extra_config=',"Volumes":{"/data":{}}'
        ;;
hostile)
        "$here/mkrootfs.sh" "$work/r1" >/dev/null
        rm -rf "$work/r1/data"
        ln -s /etc "$work/r1/data"
        add_layer "$work/r1" "ADD rootfs with /data -> /etc"
        ;;
big)
        "$here/mkrootfs.sh" "$work/r1" >/dev/null
        add_layer "$work/r1" "ADD busybox rootfs"
        for i in 2 3 4 5; do
                mkdir -p "$work/r$i/data$i"
                for j in 1 2 3 4 5 6; do
                        head -c $((2 * 1024 * 1024)) /dev/urandom > "$work/r$i/data$i/blob$j"
                done
                add_layer "$work/r$i" "RUN make data$i"
        done
        ;;
esac

ids=$(printf '"%s",' "${diff_ids[@]}")
hist=$(printf '%s,' "${history[@]}")
extra='"Cmd":["sh"]'
[ "$kind" = web ] && extra='"Cmd":["httpd","-f","-p","80","-h","/etc"],"ExposedPorts":{"80/tcp":{},"53/udp":{}}'
printf '{"architecture":"amd64","os":"linux","created":"%s","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],%s,"Labels":{"org.berth.test":"%s"}%s},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
        "$created" "$extra" "$kind" "$extra_config" "${ids%,}" "${hist%,}" > "$work/config.json"
cid=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/out/$cid.json"
paths=$(printf '"%s",' "${layer_paths[@]}")
repo=${name%:*}
tag=${name##*:}
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":[%s]}]' "$cid" "$name" "${paths%,}" \
        > "$work/out/manifest.json"
top=${layer_paths[-1]%/layer.tar}
printf '{"%s":{"%s":"%s"}}' "$repo" "$tag" "$top" > "$work/out/repositories"
tar --sort=name --numeric-owner --owner=0 --group=0 -C "$work/out" -cf "$out" .
