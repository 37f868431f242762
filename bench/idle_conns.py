#!/usr/bin/python3
"""Holds N idle keep-alive connections to HOST:PORT for bench/l7_vs_haproxy.py.

One connection does one request and the client prints "warm"; after a line on stdin it
opens N more, each with one GET /ok answered, prints "open N" and holds them until stdin
closes. A separate process, so its descriptors and memory are not the proxy's.

  idle_conns.py HOST PORT N
"""
import resource
import selectors
import socket
import sys
import time

REQUEST = b"GET /ok HTTP/1.1\r\nHost: bench\r\n\r\n"


def one_request(sock):
    sock.sendall(REQUEST)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk


def open_many(host, port, count, deadline):
    selector = selectors.DefaultSelector()
    done = []
    pending = 0
    started = 0
    while len(done) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)} of {count} answered")
        while started < count and pending < 500:
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex((host, port))
            selector.register(sock, selectors.EVENT_WRITE, [False, b""])
            started += 1
            pending += 1
        for key, _ in selector.select(timeout=1.0):
            sock, state = key.fileobj, key.data
            if not state[0]:
                sock.send(REQUEST)
                state[0] = True
                selector.modify(sock, selectors.EVENT_READ, state)
                continue
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed before the answer")
            state[1] += chunk
            if b"\r\n\r\n" in state[1]:
                selector.unregister(sock)
                done.append(sock)
                pending -= 1
    return done


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    first = socket.create_connection((host, port), timeout=10)
    one_request(first)
    print("warm", flush=True)
    sys.stdin.readline()
    try:
        held = open_many(host, port, count, time.monotonic() + 120)
        print(f"open {len(held)}", flush=True)
    except Exception as failure:  # noqa: BLE001 - reported to the parent
        print(f"failed: {failure}", flush=True)
        return 1
    sys.stdin.read()  # until the parent closes stdin
    return 0


if __name__ == "__main__":
    sys.exit(main())
