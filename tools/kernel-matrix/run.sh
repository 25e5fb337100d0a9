#!/usr/bin/env bash
# run.sh: boot Debian kernels in a VM and run nettune's integration suite in
# each, with the binaries built once on the host. See --help and docs/kernels.md.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
KERNELS=() TESTS= ACCEL=auto MEM=4G SMP=2 SCALE= LIMIT=1800
CACHE=$REPO/build/kernels OUT=$REPO/build/kernel-matrix

usage() {
	cat <<'USAGE'
Usage: tools/kernel-matrix/run.sh [options] SERIES...
Boot each kernel SERIES (6.1, 6.12, or a linux-image-* package name), the
newest Debian linux-image-SERIES*-amd64 from Debian's archive, in a VM whose
root is the host's root filesystem (read-only 9p, tmpfs overlay), and run
`nettune doctor` and tests/integration/run.sh in it. Binaries come from the
host's build/ (run `make` and the fixtures first: `make test-kernel` does).

Options:
  --tests "T..."   integration tests to run (test_connect.sh ...; default all)
  --accel A        auto (KVM if a probe guest really runs, else TCG), kvm, tcg
  --limit SEC      time limit for each kernel's VM, boot included (default 1800)
  --scale N        multiply the per-test limit (240 s) by N (default 4 on TCG, 1 on KVM)
  --mem SIZE       guest memory (default 4G); --smp N guest CPUs (default 2)
  --cache DIR      where kernels are downloaded and unpacked (default build/kernels)
  --out DIR        results: DIR/<kernel>/{run.log,doctor.txt,doctor.json,console.log}
  -h, --help       this text

Exit status: 0 when every kernel's suite passed, 1 when a test failed or a
VM failed or timed out, 2 on a usage error.

EXAMPLES
  make test-kernel KERNEL=6.1
  make test-kernel KERNELS="6.1 6.12" TESTS="test_connect.sh test_drops.sh"
  tools/kernel-matrix/run.sh --accel tcg --tests test_cli.sh 6.1
USAGE
}

die() { printf 'kernel-matrix: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'kernel-matrix: %s (see --help)\n' "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--tests) TESTS=${2-}; shift ;;
	--accel) ACCEL=${2-}; shift ;;
	--limit) LIMIT=${2-}; shift ;;
	--scale) SCALE=${2-}; shift ;;
	--mem) MEM=${2-}; shift ;;
	--smp) SMP=${2-}; shift ;;
	--cache) CACHE=${2-}; shift ;;
	--out) OUT=${2-}; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) usage_error "unknown option $1" ;;
	*) KERNELS+=("$1") ;;
	esac
	shift
done
[ ${#KERNELS[@]} -gt 0 ] || usage_error "name at least one kernel series (e.g. 6.1)"
[[ $ACCEL =~ ^(auto|kvm|tcg)$ ]] || usage_error "--accel must be auto, kvm or tcg"
[[ $LIMIT =~ ^[0-9]+$ ]] && [ "$LIMIT" -ge 60 ] || usage_error "--limit must be >= 60 seconds"
[[ -z $SCALE || $SCALE =~ ^[1-9][0-9]*$ ]] || usage_error "--scale must be a positive integer"
[[ $SMP =~ ^[1-9][0-9]*$ ]] || usage_error "--smp must be a positive integer"
for t in $TESTS; do
	[ -f "$REPO/tests/integration/$t" ] || usage_error "no test $t in tests/integration"
done
[ "$(id -u)" -eq 0 ] || die "needs root (the guest runs the suite as root on the host's files)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: tools/install-deps.sh kernel-matrix"
[ -x "$REPO/build/nettune" ] || die "build/nettune is missing: run make first"
[ -e "$REPO/build/fixtures/truth.txt" ] || die "build/fixtures is missing: make build/fixtures/truth.txt"

QEMU_PID=
cleanup() {
	# Every exit path ends here: no VM outlives the script.
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null
		sleep 1
		kill -KILL "$QEMU_PID" 2>/dev/null
	fi
	QEMU_PID=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# qemu ARGS...: the common command line: no network device at all, serial
# console only, the host's root as tag hostroot, read-only.
qemu_cmd() {
	printf '%s\0' nice -n 10 qemu-system-x86_64 -machine q35 -m "$MEM" -smp "$SMP" \
		-nodefaults -display none -no-reboot -nic none \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot "$@"
}

# vm_start LOG ARGS...: start qemu in the background, its serial console
# in LOG; its pid is in QEMU_PID (killed by cleanup on any exit).
vm_start() {
	local log=$1; shift
	local -a cmd
	: > "$log"
	mapfile -d '' cmd < <(qemu_cmd -serial "file:$log" "$@")
	"${cmd[@]}" </dev/null >"$log.qemu" 2>&1 &
	QEMU_PID=$!
}

# vm_wait SECONDS: wait for the VM to power off; kill it after SECONDS.
# Returns 0 if it ended by itself, 124 if it was killed.
vm_wait() {
	local waited=0
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if [ "$waited" -ge "$1" ]; then
			cleanup
			return 124
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	return 0
}

# pick_accel KDIR: set ACCEL_USED to the accelerator to use. KVM only if a
# guest really runs under it: on some hosts /dev/kvm opens but vCPUs abort
# or never start. The probe boots this kernel to its initramfs and back.
pick_accel() {
	local kdir=$1 kver log
	ACCEL_USED=$ACCEL
	[ "$ACCEL" != auto ] && return
	ACCEL_USED=tcg
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return
	kver=$(cat "$kdir/KVER")
	log=$OUT/kvm-probe.log
	mkdir -p "$OUT"
	vm_start "$log" -accel kvm -cpu host -kernel "$kdir/boot/vmlinuz-$kver" \
		-initrd "$kdir/nt-initramfs.img" -append "console=ttyS0 quiet panic=-1 nt.mode=probe"
	# bash reports the aborting qemu ("Aborted"): expected here, not news.
	{ vm_wait 30; } 2>/dev/null
	if grep -q NT-PROBE-OK "$log"; then
		ACCEL_USED=kvm
	else
		printf 'kernel-matrix: /dev/kvm is there but a KVM guest does not run (%s): using TCG\n' \
			"$log" >&2
	fi
}

# follow LOG: print the guest's progress lines as they come, until qemu ends.
follow() {
	tail -n +1 -F --pid="$QEMU_PID" "$1" 2>/dev/null | sed -u 's/\r$//' | grep --line-buffered -E \
		'^(NT-|== |   (passed|skipped|FAILED)|failed: |integration: )|Kernel panic|Oops|BUG:' |
		sed -u 's/^/  /'
}

# run_kernel SERIES: fetch, boot, run, report. Returns 0 if the suite passed.
run_kernel() {
	local series=$1 kdir kver res accel scale t0 rc took vmlinuz
	kdir=$("$HERE/fetch-kernel.sh" "$series" "$CACHE") || return 1
	kver=$(cat "$kdir/KVER")
	vmlinuz=$kdir/boot/vmlinuz-$kver
	"$HERE/mkinitramfs.sh" "$kdir" "$kdir/nt-initramfs.img" || return 1
	pick_accel "$kdir"
	accel=$ACCEL_USED
	scale=${SCALE:-$([ "$accel" = kvm ] && echo 1 || echo 4)}
	res=$OUT/$kver
	rm -rf "$res" && mkdir -p "$res"
	cat > "$res/config.env" <<-CONF
	NT_REPO='$REPO'
	NT_TESTS='$TESTS'
	NT_TEST_TIMEOUT=$((240 * scale))
	NT_KMOD='$kdir/lib/modules/$kver'
	CONF
	printf '== kernel %s (%s): %s, %s CPUs, %s, per-test limit %ss, VM limit %ss\n' \
		"$kver" "$(basename "$kdir")" "$accel" "$SMP" "$MEM" $((240 * scale)) "$LIMIT"
	t0=$(date +%s)
	local -a acc=(-accel tcg,thread=multi -cpu max)
	[ "$accel" = kvm ] && acc=(-accel kvm -cpu host)
	vm_start "$res/console.log" "${acc[@]}" -kernel "$vmlinuz" \
		-initrd "$kdir/nt-initramfs.img" \
		-append "console=ttyS0 loglevel=4 panic=1 nt.run=$HERE/guest-run.sh nt.overlay=2g" \
		-fsdev "local,id=results,path=$res,security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=results,mount_tag=results
	follow "$res/console.log" &
	vm_wait "$LIMIT"; rc=$?
	wait
	took=$(( $(date +%s) - t0 ))
	echo "$took" > "$res/seconds"
	if [ "$rc" = 124 ]; then
		printf 'kernel-matrix: %s: the VM hit its %ss limit and was killed\n' "$kver" "$LIMIT" >&2
		return 1
	fi
	grep -q '^NT-GUEST-ERROR' "$res/console.log" && {
		grep '^NT-GUEST-ERROR' "$res/console.log" >&2; return 1; }
	if [ ! -s "$res/exit" ]; then
		printf 'kernel-matrix: %s: the guest stopped before the suite ended (see %s)\n' \
			"$kver" "$res/console.log" >&2
		return 1
	fi
	printf '== kernel %s: %s in %ss (%s)\n' "$kver" \
		"$(grep '^integration: ' "$res/run.log" | tail -n 1)" "$took" "$res"
	[ "$(cat "$res/exit")" = 0 ]
}

status=0
for k in "${KERNELS[@]}"; do
	run_kernel "$k" || status=1
done
exit $status
