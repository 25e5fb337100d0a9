/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A readable name for a cgroup v2 path, from the path alone (no API
 * server, no container runtime): docs/containers.md lists the patterns. */
#ifndef NETTUNE_LIB_CGROUPNAME_H
#define NETTUNE_LIB_CGROUPNAME_H

#include <stddef.h>

/* PATH is relative to the cgroup2 root ("/system.slice/nginx.service").
 * Writes, by the first pattern that matches:
 *   "pod <uid> container <id12>"   Kubernetes (systemd or cgroupfs driver)
 *   "pod <uid>"                    a Kubernetes pod's own cgroup
 *   "docker <id12>"                Docker (docker-<id>.scope, /docker/<id>)
 *   "containerd <id12>"            containerd, nerdctl (containerd-, nerdctl-)
 *   "cri-o <id12>", "podman <id12>"
 *   "<unit>"                       the deepest systemd unit (.service, .scope...)
 *   PATH itself                    anything else ("/" for the root)
 * Always NUL-terminates when LEN > 0. Returns BUF. */
char *cgroup__name(const char *path, char *buf, size_t len);

#endif
