#!/bin/bash
# The kernel-matrix guest runner: PID 1 inside the VM, on the host's root
# filesystem (read-only 9p with a tmpfs overlay, set up by guest-init.sh).
# It mounts what the tests need, runs `nettune doctor` and the integration
# suite from the repository on the shared root, writes everything into the
# results share (9p tag "results", writable) and powers the VM off.
# What to run comes from results/config.env, written by the host (run.sh):
#   NT_REPO           the repository on the host's root (with build/ inside)
#   NT_TESTS          test scripts to run (empty: every test)
#   NT_TEST_TIMEOUT   per-test limit, already scaled for an emulated CPU
#   NT_KMOD           the unpacked modules of this kernel (on the host's root)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
R=/mnt/nt-results

say() { printf '%s\n' "$*" > /dev/console; }
halt() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 60	# PID 1 must not exit: that would panic the kernel
}
fail() { say "NT-GUEST-ERROR: $*"; halt; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# udev makes these on a normal boot; bash's <(...) needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts -o newinstance,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The shared root as it is before /run and /tmp get fresh tmpfs: a
# repository in one of them (a clone in /tmp) is bound back from here.
mkdir -p /mnt/nt-root
mount --bind / /mnt/nt-root || fail "cannot bind the root"
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lock
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
echo 1 > /proc/sys/kernel/sysrq
mkdir -p "$R"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$R" ||
	fail "cannot mount the results share"
[ -r "$R/config.env" ] || fail "no config.env in the results share"
. "$R/config.env"
case $NT_REPO in
/tmp/*|/run/*)
	mkdir -p "$NT_REPO"
	mount --bind "/mnt/nt-root$NT_REPO" "$NT_REPO" || fail "cannot bind $NT_REPO"
	;;
esac

# The host has no modules for this kernel: bind its own unpacked ones where
# modprobe looks, so veth, nftables and the rest load on demand as usual.
kver=$(uname -r)
mkdir -p "/lib/modules/$kver"
mount --bind "$NT_KMOD" "/lib/modules/$kver" || fail "cannot bind $NT_KMOD"
echo /sbin/modprobe > /proc/sys/kernel/modprobe
hostname nt-guest
ip link set lo up
# The kernel's own clock is fine; user space expects a few files in /etc
# that the host's root provides already (passwd, resolv.conf unused: no network).

cd "$NT_REPO" || fail "no repository at $NT_REPO"
export NT_BUILD=$NT_REPO/build NT_FIXTURES=$NT_REPO/build/fixtures NT_TEST_TIMEOUT
say "NT-GUEST: kernel $kver, $(nproc) CPUs, tests: ${NT_TESTS:-all}, limit ${NT_TEST_TIMEOUT}s per test"
uname -a > "$R/uname.txt"
# The kernel's BTF, for bpftool on the host (what types and fields it has).
cp /sys/kernel/btf/vmlinux "$R/vmlinux.btf" 2>/dev/null
"$NT_BUILD/nettune" doctor > "$R/doctor.txt" 2>&1
echo "exit $?" >> "$R/doctor.txt"
"$NT_BUILD/nettune" doctor --json > "$R/doctor.json" 2>/dev/null
sed 's/^/NT-DOCTOR: /' "$R/doctor.txt" > /dev/console

# run.sh prints "== test", each verdict and the summary line; each line goes
# to the console as it comes (the host follows it) and to run.log.
# shellcheck disable=SC2086
tests/integration/run.sh $NT_TESTS 2>&1 | tee "$R/run.log" | grep --line-buffered -E \
	'^(== |   (passed|skipped|FAILED)|failed: |integration: |(PASS|FAIL|SKIP) )' > /dev/console
rc=${PIPESTATUS[0]}
dmesg > "$R/dmesg.txt"
echo "$rc" > "$R/exit"
say "NT-GUEST-DONE: exit $rc"
halt
