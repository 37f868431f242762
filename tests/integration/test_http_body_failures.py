#!/usr/bin/env python3
"""A response body that breaks off midway, at either end, ends that one exchange and
nothing else: a pod closing before its Content-Length is reached gets the client
connection closed (never a hang, never a padded body), and a client vanishing mid-body
leaves later responses intact (large bodies move through splice(2) pipes that a worker
reuses; one with bytes left in it must never be reused)."""
import socket
import struct

import harness
from backend import pattern_bytes
from harness import test
from http_support import start

MIB = 1024 * 1024


def read_response(sock, timeout=10):
    """(status, declared length, body bytes read until the length or EOF/reset)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the head: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines
                  if line.lower().startswith("content-length:"))
    try:
        while len(body) < length:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
    except ConnectionResetError:
        pass
    return status, length, body


def get(address, path):
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: web\r\n\r\n".encode())
        return read_response(sock)


@test(timeout=60)
def pod_closing_mid_body_closes_the_client_connection(env):
    pod = env.python_pod("web-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    proxy, address = start(env, [pod])
    status, length, body = get(address, f"/?bytes={4 * MIB}&truncate={MIB}")
    assert status == 200 and length == 4 * MIB
    assert len(body) < length, "the proxy made up bytes the pod never sent"
    assert body == pattern_bytes(4 * MIB)[:len(body)]
    # The same worker still serves whole bodies afterwards.
    for size in (300 * 1024, 2 * MIB):
        status, length, body = get(address, f"/?bytes={size}")
        assert status == 200 and body == pattern_bytes(size), f"{size}: {len(body)} bytes"


@test(timeout=60)
def client_gone_mid_body_leaves_later_responses_intact(env):
    pod = env.python_pod("web-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    proxy, address = start(env, [pod])
    for _ in range(3):
        sock = socket.create_connection(address, timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(f"GET /?bytes={32 * MIB} HTTP/1.1\r\nHost: web\r\n\r\n".encode())
        received = 0
        while received < 256 * 1024:
            received += len(sock.recv(65536))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # RST with most of the body still on its way
    for size in (100 * 1024, 3 * MIB, 5 * MIB):
        status, length, body = get(address, f"/?bytes={size}")
        assert status == 200 and len(body) == size, f"{size}: {len(body)} bytes"
        assert body == pattern_bytes(size), f"{size}: stale or misplaced bytes in the body"
    assert proxy.running()


if __name__ == "__main__":
    harness.main()
