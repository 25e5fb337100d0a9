#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Test client: N connections, one after another, to ADDR PORT (IPv4 or
IPv6); each sends one line and waits for the server to close it. Prints how
many connected: the client's own count, a truth the tests compare with.

usage: connectloop.py ADDR PORT N
"""
import socket
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ok = 0
    for _ in range(n):
        try:
            with socket.create_connection((addr, port), timeout=5) as s:
                ok += 1
                s.sendall(b"x\n")
                s.recv(1)
        except OSError as e:
            print(f"connectloop: {addr} port {port}: {e}", file=sys.stderr)
    print(ok)


if __name__ == "__main__":
    main()
