#!/usr/bin/env bash
# mkinitramfs.sh KERNEL_DIR OUT: a small initramfs for the kernel unpacked in
# KERNEL_DIR (by fetch-kernel.sh): busybox-static, guest-init.sh as /init, and
# the modules that mount the host's root over 9p with an overlay on top
# (virtio_pci, 9pnet_virtio, 9p, overlay), each with its dependencies in
# load order, resolved from the kernel's own modules.dep.
set -euo pipefail

die() { printf 'mkinitramfs: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: mkinitramfs.sh KERNEL_DIR OUT"
kdir=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
kver=$(cat "$kdir/KVER")
mdir=$kdir/lib/modules/$kver
BUSYBOX=${BUSYBOX:-/bin/busybox}
WANT=(virtio_pci 9pnet_virtio 9p overlay)

[ -f "$mdir/modules.dep" ] || die "$mdir/modules.dep is missing (run fetch-kernel.sh)"
# A dynamically linked busybox would need the host's libc inside the initramfs.
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$BUSYBOX" 2>&1 | grep -q 'not a dynamic' ||
	die "$BUSYBOX is not statically linked: install busybox-static"

# deps NAME: the module's path and, depth first, those it needs, each after
# what it needs. modules.dep lists a module's full dependency closure.
declare -A seen=()
order=()
add() {
	local path=$1 dep
	[ -n "${seen[$path]:-}" ] && return
	seen[$path]=1
	for dep in $(awk -F: -v m="$path" '$1 == m { print $2 }' "$mdir/modules.dep"); do
		add "$dep"
	done
	order+=("$path")
}
for m in "${WANT[@]}"; do
	path=$(awk -F: -v m="$m" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n)
		gsub(/-/, "_", n) } n == m { print $1; exit }' "$mdir/modules.dep")
	if [ -z "$path" ]; then
		# Built into this kernel rather than a module: nothing to load.
		grep -q "/$m.ko" "$mdir/modules.builtin" && continue
		die "kernel $kver has no module $m (the -cloud flavour has no 9p; use -amd64)"
	fi
	add "$path"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,modules}
cp "$BUSYBOX" "$stage/bin/busybox"
cp "$here/guest-init.sh" "$stage/init"
chmod 755 "$stage/init"
# busybox insmod takes plain .ko files: decompress where the package compressed.
for path in "${order[@]}"; do
	name=$(basename "$path"); name=${name%%.ko*}
	case $path in
	*.ko) cp "$mdir/$path" "$stage/modules/$name.ko" ;;
	*.ko.xz) xz -dc "$mdir/$path" > "$stage/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$mdir/$path" > "$stage/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$mdir/$path" > "$stage/modules/$name.ko" ;;
	*) die "unknown module format: $path" ;;
	esac
	printf '%s\n' "$name" >> "$stage/modules/order"
done
(cd "$stage" && find . | sort | cpio --quiet -o -H newc -R 0:0) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
