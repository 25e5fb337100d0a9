#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Test server for listener identity: several listeners in one process (IPv4
wildcard, IPv4 address, IPv6, dual-stack), each connection accepted on the
next CPU in turn (sched_setaffinity before every accept), so that the
accept-side BPF rows of one listener are written on every CPU. It reads
what a client sends (one line or EOF), closes, and on SIGTERM prints its own
count of accepts per listener as JSON: {"ADDR:PORT": N, ...}.

usage: spreadserver.py SPEC... where SPEC is v4:ADDR:PORT, v6:ADDR:PORT
(IPV6_V6ONLY on) or dual:ADDR:PORT (an IPv6 socket that takes IPv4 clients
as v4-mapped addresses). It prints "listening" once every socket listens.
"""
import json
import os
import selectors
import signal
import socket
import sys


def listener(spec):
    kind, rest = spec.split(":", 1)
    addr, port = rest.rsplit(":", 1)
    addr = addr.strip("[]")
    family = socket.AF_INET if kind == "v4" else socket.AF_INET6
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if kind == "v6" else 0)
    s.bind((addr, int(port)))
    s.listen(4096)
    return s


def main():
    specs = sys.argv[1:]
    if not specs:
        sys.exit(__doc__)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    cpus = sorted(os.sched_getaffinity(0))
    sel = selectors.DefaultSelector()
    counts = {}
    for spec in specs:
        s = listener(spec)
        name = spec.split(":", 1)[1]
        counts[name] = 0
        sel.register(s, selectors.EVENT_READ, name)
    print("listening", flush=True)
    turn = 0
    while not stop:
        try:
            ready = sel.select(timeout=0.2)
        except InterruptedError:
            continue
        for key, _ in ready:
            # The accept() syscall, and so its exit probe, runs on this CPU.
            os.sched_setaffinity(0, {cpus[turn % len(cpus)]})
            turn += 1
            try:
                conn, _ = key.fileobj.accept()
            except (BlockingIOError, InterruptedError):
                continue
            counts[key.data] += 1
            conn.settimeout(2)
            try:
                conn.recv(64)
            except OSError:
                pass
            conn.close()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
