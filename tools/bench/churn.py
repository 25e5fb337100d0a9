#!/usr/bin/env python3
"""Listeners for the serve benchmark: holds N listening sockets, each of
which has accepted one connection, and replaces the oldest on request.

    churn.py N

Protocol on stdin/stdout, one line each: prints "ready N" once the N
listeners are up and have each accepted a connection; "churn K" closes the
K oldest and opens K new ones, each on an address and port never used
before (a new listener to nettune, a new label set to Prometheus), each
accepting one connection, then prints "ok K"; "touch" makes every held
listener accept one more connection (so a tracer attached since has seen
each), then prints "ok N"; "quit" or end of input exits.
Run inside the bench's network namespace: addresses are 127.2.0.B, ports
20000-59999. Connections are closed once accepted: a listener holds one
descriptor.
"""
import collections
import resource
import socket
import sys

PORTS = 40000


def address(i):
    return "127.2.0.%d" % (1 + i // PORTS), 20000 + i % PORTS


def accept_one(s):
    c = socket.create_connection(s.getsockname())
    a, _ = s.accept()
    a.close()
    c.close()


def open_listener(i):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(address(i))
    s.listen(16)
    accept_one(s)
    return s


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = int(sys.argv[1])
    held = collections.deque(open_listener(i) for i in range(n))
    nxt = n
    print("ready %d" % n, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "touch":
            for s in held:
                accept_one(s)
            print("ok %d" % len(held), flush=True)
            continue
        k = int(words[1])
        for _ in range(k):
            held.popleft().close()
            held.append(open_listener(nxt))
            nxt += 1
        print("ok %d" % k, flush=True)


if __name__ == "__main__":
    main()
