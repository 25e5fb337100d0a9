#!/usr/bin/env python3
"""Holds N listening sockets, and on request one established connection to
each, so the bench can measure nettune with many listeners and connections.

    sockets.py N [ADDR] [FIRST_PORT]

Protocol on stdin/stdout, one word a line: prints "ready N" once the N
listeners are up; on "connect" it connects to every listener once, accepts
each connection and keeps both ends open, then prints "connected N"; on
"quit" or end of input it exits (the kernel closes everything).
Run it inside the bench's network namespace: it binds ADDR (127.0.0.2)
ports FIRST_PORT (20000) and up. Each listener with its connection takes
three descriptors; when that is more than the descriptor limit allows, the
sockets are spread over several forked processes.
"""
import os
import resource
import socket
import sys


def fd_budget():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 64


def worker(addr, ports, cmd_r, ans_w):
    """Listens on ports; on "connect" connects to each and accepts."""
    listeners = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(16)
        listeners.append(s)
    os.write(ans_w, b"r")
    held = []
    cmds = os.fdopen(cmd_r)
    for line in cmds:
        if line.strip() == "connect":
            for port, s in zip(ports, listeners):
                held.append(socket.create_connection((addr, port)))
                held.append(s.accept()[0])
            os.write(ans_w, b"c")
        else:
            break
    os._exit(0)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    addr = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.2"
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    if n < 1 or first + n > 65536:
        print(f"sockets: {n} ports from {first} do not fit", file=sys.stderr)
        return 2
    per = max(1, fd_budget() // 3)
    kids = []
    for lo in range(0, n, per):
        ports = list(range(first + lo, first + min(n, lo + per)))
        cmd_r, cmd_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(cmd_w)
            os.close(ans_r)
            for _, w, r in kids:
                os.close(w)
                os.close(r)
            try:
                worker(addr, ports, cmd_r, ans_w)
            finally:
                os._exit(1)
        os.close(cmd_r)
        os.close(ans_w)
        kids.append((pid, cmd_w, ans_r))

    def wait_all(what):
        for _, _, r in kids:
            if os.read(r, 1) != what:
                raise SystemExit("sockets: a worker failed (see above)")
    wait_all(b"r")
    print(f"ready {n}", flush=True)
    for line in sys.stdin:
        word = line.strip()
        if word == "connect":
            for _, w, _ in kids:
                os.write(w, b"connect\n")
            wait_all(b"c")
            print(f"connected {n}", flush=True)
        elif word == "quit":
            break
    for pid, w, _ in kids:
        os.close(w)
    for pid, _, _ in kids:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
