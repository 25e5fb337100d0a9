// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Names derived from cgroup v2 paths (user/lib/sys/cgroupname.c), for the
 * layouts docs/containers.md lists. The paths are the shapes systemd,
 * Docker, containerd, CRI-O, podman and the kubelet's two cgroup drivers
 * make. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "cgroupname.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID12 "0123456789ab"
#define UID "8d3b9f1c-2a4e-4b7d-9c1f-5e6a7b8c9d0e"
#define UID_ "8d3b9f1c_2a4e_4b7d_9c1f_5e6a7b8c9d0e"

static void expect(const char *path, const char *want)
{
	char buf[128];

	assert_string_equal(cgroup__name(path, buf, sizeof(buf)), want);
}

static void test_systemd_units(void **state)
{
	(void)state;
	expect("/system.slice/nginx.service", "nginx.service");
	expect("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service");
	expect("/user.slice/user-1000.slice/session-3.scope", "session-3.scope");
	/* The deepest unit: a service a user manager runs. */
	expect("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service",
	       "foo.service");
	/* A unit's own sub-cgroup (delegation) still names the unit. */
	expect("/system.slice/nettune-serve.service/worker", "nettune-serve.service");
	expect("/system.slice", "system.slice");
	expect("/init.scope", "init.scope");
}

static void test_docker(void **state)
{
	(void)state;
	expect("/system.slice/docker-" ID64 ".scope", "docker " ID12);	/* systemd driver */
	expect("/docker/" ID64, "docker " ID12);				/* cgroupfs driver */
	/* Not 64 hex digits: no container id, the unit then. */
	expect("/system.slice/docker-" ID12 ".scope", "docker-" ID12 ".scope");
	expect("/system.slice/docker.service", "docker.service");
}

static void test_containerd_and_others(void **state)
{
	(void)state;
	expect("/system.slice/containerd-" ID64 ".scope", "containerd " ID12);
	expect("/system.slice/nerdctl-" ID64 ".scope", "containerd " ID12);
	expect("/machine.slice/libpod-" ID64 ".scope", "podman " ID12);
	expect("/system.slice/crio-" ID64 ".scope", "cri-o " ID12);
	/* The runtime's own daemon is a unit. */
	expect("/system.slice/containerd.service", "containerd.service");
}

static void test_kubernetes(void **state)
{
	(void)state;
	/* systemd driver, each QoS class */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	       ".slice/cri-containerd-" ID64 ".scope",
	       "pod " UID " container " ID12);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	       ".slice/crio-" ID64 ".scope",
	       "pod " UID " container " ID12);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID64 ".scope",
	       "pod " UID " container " ID12);	/* Guaranteed */
	/* cgroupfs driver */
	expect("/kubepods/burstable/pod" UID "/" ID64, "pod " UID " container " ID12);
	expect("/kubepods/pod" UID "/" ID64, "pod " UID " container " ID12);
	/* The pod's own cgroup, without a container. */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
	       "pod " UID);
	expect("/kubepods/besteffort/pod" UID, "pod " UID);
	/* A QoS class's slice, above any pod: the slice. */
	expect("/kubepods.slice/kubepods-burstable.slice", "kubepods-burstable.slice");
}

static void test_other_paths(void **state)
{
	char small[8];

	(void)state;
	expect("/", "/");
	expect("", "/");
	expect("/nettune-test/a/b", "/nettune-test/a/b");
	/* "pod" outside kubepods is no pod. */
	expect("/pod" UID, "/pod" UID);
	/* Truncated, NUL-terminated. */
	assert_string_equal(cgroup__name("/system.slice/nginx.service", small, sizeof(small)),
			    "nginx.s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_units),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_containerd_and_others),
		cmocka_unit_test(test_kubernetes),
		cmocka_unit_test(test_other_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
