#!/usr/bin/env python3
"""Raw HTTP/TCP client for the refserver and loadgen integration tests.

Speaks bytes, not HTTP, so a test can send malformed requests and compare
responses byte for byte. Every mode is bounded in time and count.

  httpraw.py send HOST PORT [WAIT]   send stdin's bytes as one write; print
        what comes back until the server closes (exit 0) or stays silent for
        WAIT seconds (default 1) with the connection open (exit 3)
  httpraw.py seq HOST PORT N         N GET requests one after the other on one
        connection, each after the previous response; prints how many full
        responses came back (Content-Length framing)
  httpraw.py idle HOST PORT N HOLD   open N connections, send nothing, hold
        them HOLD seconds; prints "opened closed_by_server seconds_to_last_close"
  httpraw.py slowloris HOST PORT INTERVAL MAX
        send a request head one header line every INTERVAL seconds, never
        ending it; prints the seconds until the server closed the connection,
        or "open" after MAX seconds
"""
import resource
import select
import socket
import sys
import time


def recv_until_close(s, wait):
    s.settimeout(wait)
    out = bytearray()
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return bytes(out), True
            out += b
    except socket.timeout:
        return bytes(out), False
    except ConnectionResetError:
        return bytes(out), True


def mode_send(host, port, wait=1.0):
    data = sys.stdin.buffer.read()
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(data)
    out, closed = recv_until_close(s, wait)
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    return 0 if closed else 3


def read_response(s):
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            return False
        buf += b
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        b = s.recv(65536)
        if not b:
            return False
        body += b
    return len(body) == length


def mode_seq(host, port, n):
    s = socket.create_connection((host, port), timeout=5)
    got = 0
    for _ in range(n):
        s.sendall(b"GET /seq HTTP/1.1\r\nHost: t\r\n\r\n")
        if not read_response(s):
            break
        got += 1
    print(got)
    return 0


def mode_idle(host, port, n, hold):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    start = time.monotonic()
    open_socks = {s.fileno(): s for s in socks}
    closed, last = 0, 0.0
    poll = select.poll()
    for fd in open_socks:
        poll.register(fd, select.POLLIN)
    while open_socks and time.monotonic() - start < hold:
        for fd, _ in poll.poll(100):
            s = open_socks.pop(fd)
            poll.unregister(fd)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed += 1
                last = time.monotonic() - start
            s.close()
    for s in open_socks.values():
        s.close()
    print("%d %d %.2f" % (n, closed, last))
    return 0


def mode_slowloris(host, port, interval, limit):
    s = socket.create_connection((host, port), timeout=5)
    start = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\n")
    i = 0
    while time.monotonic() - start < limit:
        r, _, _ = select.select([s], [], [], interval)
        if r:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                print("%.2f" % (time.monotonic() - start))
                return 0
        try:
            s.sendall(b"X-Slow-%d: x\r\n" % i)
        except OSError:
            print("%.2f" % (time.monotonic() - start))
            return 0
        i += 1
    print("open")
    return 0


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    mode, host, port = argv[1], argv[2], int(argv[3])
    if mode == "send":
        return mode_send(host, port, float(argv[4]) if len(argv) > 4 else 1.0)
    if mode == "seq":
        return mode_seq(host, port, int(argv[4]))
    if mode == "idle":
        return mode_idle(host, port, int(argv[4]), float(argv[5]))
    if mode == "slowloris":
        return mode_slowloris(host, port, float(argv[4]), float(argv[5]))
    sys.stderr.write("httpraw.py: unknown mode %s\n" % mode)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
