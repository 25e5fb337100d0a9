#!/bin/busybox sh
# /init of the kernel-matrix initramfs (built by mkinitramfs.sh), run by the
# guest kernel as PID 1. It loads the 9p, virtio and overlay modules, mounts
# the host's root filesystem (shared read-only over 9p, tag "hostroot") under
# a tmpfs overlay, and hands PID 1 to the guest runner on that root.
# Kernel command line:
#   nt.mode=probe    print NT-PROBE-OK and power off (is this accelerator usable?)
#   nt.run=PATH      the runner to exec on the new root (guest-run.sh)
#   nt.overlay=SIZE  size of the tmpfs that takes every write (default 2g)
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

fail() {
	echo "NT-GUEST-ERROR: init: $*"
	poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

mode=run run= size=2g
for arg in $(cat /proc/cmdline); do
	case $arg in
	nt.mode=*) mode=${arg#nt.mode=} ;;
	nt.run=*) run=${arg#nt.run=} ;;
	nt.overlay=*) size=${arg#nt.overlay=} ;;
	esac
done

if [ "$mode" = probe ]; then
	echo NT-PROBE-OK
	poweroff -f
fi

for m in $(cat /modules/order); do
	insmod "/modules/$m.ko" || fail "insmod $m failed"
done

# msize: larger 9p messages make reading binaries from the host much faster.
# cache=loose is safe: this view of the host's root is read-only.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower ||
	fail "cannot mount the host's root (9p tag hostroot)"
mount -t tmpfs -o size="$size",mode=755 overlay-rw /rw || fail "tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	fail "cannot mount the overlay over the host's root"
[ -x "/newroot$run" ] || fail "runner '$run' is not on the shared root"
umount /proc /sys
umount /dev
exec switch_root /newroot "$run"
