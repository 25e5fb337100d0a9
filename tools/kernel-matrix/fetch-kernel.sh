#!/usr/bin/env bash
# fetch-kernel.sh SERIES CACHE_DIR: the newest Debian linux-image package of a
# kernel series (6.1, 6.12, or a full package name), downloaded with
# `apt-get download` and unpacked once into CACHE_DIR/<package>/. Prints that
# directory. Reruns find it there and download nothing.
#
# The standard -amd64 flavour, not -cloud-amd64: the cloud kernel has no 9p,
# and the VM's root filesystem is shared from the host over 9p.
set -euo pipefail

die() { printf 'fetch-kernel: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: fetch-kernel.sh SERIES CACHE_DIR (SERIES: 6.1, 6.12 or a package name)"
series=$1 cache=$2

if [[ $series == linux-image-* ]]; then
	pkg=$series
else
	[[ $series =~ ^[0-9]+\.[0-9]+$ ]] || die "'$series' is neither a series like 6.1 nor a package name"
	# 6.1 -> linux-image-6.1.0-57-amd64; 6.12 -> linux-image-6.12.107+deb12-amd64.
	# The series must be followed by '.' or '-' and a digit, so 6.1 never
	# matches 6.12, and meta packages (linux-image-6.12-amd64) are left out.
	re="^linux-image-${series//./\\.}[.-][0-9][^ ]*-amd64\$"
	pkg=$(apt-cache search --names-only "$re" | awk '{ print $1 }' |
		grep -vE -- '-(cloud|rt)-amd64$|-unsigned$|-dbg$' | sort -V | tail -n 1) || true
	[ -n "$pkg" ] || die "Debian's archive offers no linux-image-$series*-amd64 (run apt-get update?)"
fi

dir=$cache/$pkg
if [ -e "$dir/.unpacked" ]; then
	printf '%s\n' "$dir"
	exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'fetch-kernel: downloading %s from Debian'\''s archive\n' "$pkg" >&2
# apt's sandbox user cannot write into root-owned build directories.
(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
	die "apt-get download $pkg failed"
dpkg-deb -x "$tmp"/*.deb "$tmp/root"
kver=$(ls "$tmp/root/lib/modules")
[ -n "$kver" ] && [ -e "$tmp/root/boot/vmlinuz-$kver" ] || die "$pkg holds no kernel image"
# The package ships modules without modules.dep (its postinst runs depmod).
depmod -b "$tmp/root" "$kver"
printf '%s\n' "$kver" > "$tmp/root/KVER"
rm -rf "$dir"
mv "$tmp/root" "$dir"
touch "$dir/.unpacked"
printf '%s\n' "$dir"
