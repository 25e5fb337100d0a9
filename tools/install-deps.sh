#!/usr/bin/env bash
# Installs, from Debian's archive, every package nettune needs to build, test,
# demo and bench. Idempotent: asks dpkg first and installs only what is missing.
#   tools/install-deps.sh                 what make, make test, demo and bench need
#   tools/install-deps.sh kernel-matrix   plus the VM of make test-kernel (qemu,
#                                         busybox-static...): heavy, so only on demand
set -euo pipefail

PKGS=(
	# build
	clang llvm make gcc pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libjson-c-dev libcapstone-dev libncurses-dev libmicrohttpd-dev
	# unit tests
	libcmocka-dev
	# integration tests: namespaces, links, firewall, probes of truth
	iproute2 iputils-ping ethtool nftables procps python3 curl jq tmux
	# nettune serve: Debian's Prometheus scrapes it, promtool lints it; YAML checks
	prometheus python3-yaml
	# workloads: Go servers (uprobes), nginx and wrk (load), bpftrace (bench anchor)
	golang-go nginx-light wrk bpftrace
)
# make test-kernel: a VM (TCG or KVM) and its initramfs; the kernels
# themselves are fetched with apt-get download by tools/kernel-matrix.
KERNEL_MATRIX_PKGS=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd file)

case ${1:-} in
'') ;;
kernel-matrix) PKGS+=("${KERNEL_MATRIX_PKGS[@]}") ;;
*) echo "usage: tools/install-deps.sh [kernel-matrix]" >&2; exit 2 ;;
esac

missing=()
for p in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's nginx package starts a host nginx on port 80; nettune never wants
# a service it did not start, and tests run their own in namespaces.
if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
	systemctl disable --now nginx >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true
fi
# Debian's prometheus package starts a host Prometheus on :9090 (and pulls
# in nothing else with --no-install-recommends); tests start their own on
# loopback with a private config and storage.
if [[ " ${missing[*]} " == *" prometheus "* ]]; then
	systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true
fi
