#!/usr/bin/env python3
"""A request or response head that arrives in pieces (a slow client, a pod that writes
its status line before its headers) is parsed as one head: 200, not 400 or 502."""
import socket
import threading
import time

import harness
from harness import test
from http_support import start
from reload_support import read_head


class SplitStatusPod:
    """Answers every request on a connection with its status line first and the rest of
    the response 200 ms later, as two writes. Runs in threads of the test."""

    def __init__(self, ip, port):
        self.listener = socket.create_server((ip, port))
        self.listener.settimeout(0.5)
        self.ip, self.port, self.name = ip, port, "split-1"
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _serve(conn):
        with conn:
            conn.settimeout(15)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffered = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buffered:
                        data = conn.recv(4096)
                        if not data:
                            return
                        buffered += data
                    _, _, buffered = buffered.partition(b"\r\n\r\n")
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    time.sleep(0.2)
                    conn.sendall(b"X-Pod: split-1\r\nContent-Length: 9\r\n\r\nsplit-1\n\n")
            except OSError:
                return

    def close(self):
        self.stopped = True
        self.listener.close()
        self.thread.join(timeout=5)


def read_response(sock):
    response, rest = read_head(sock)
    length = int(response.headers.get("content-length", "0"))
    while len(rest) < length:
        rest += sock.recv(65536)
    return response, rest


@test(timeout=60)
def request_head_in_two_segments(env):
    pod = env.nginx_pod("web-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    _, address = start(env, [pod])
    with socket.create_connection(address, timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(2):  # a fresh connection, then a kept-alive one
            sock.sendall(b"GET / HTTP/1.1\r\n")
            time.sleep(0.2)
            sock.sendall(b"Host: a\r\nUser-Agent: slow\r\n")
            time.sleep(0.2)
            sock.sendall(b"\r\n")
            response, body = read_response(sock)
            assert response.status == 200 and body == b"web-1\n", (response, body)


@test(timeout=60)
def response_head_in_two_segments(env):
    ip = "127.0.1.1"
    pod = SplitStatusPod(ip, harness.free_port(ip))
    try:
        _, address = start(env, [pod])
        with socket.create_connection(address, timeout=10) as sock:
            for _ in range(2):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                response, body = read_response(sock)
                assert response.status == 200 and body == b"split-1\n\n", (response, body)
                assert response.headers["x-pod"] == "split-1"
    finally:
        pod.close()


if __name__ == "__main__":
    harness.main()
