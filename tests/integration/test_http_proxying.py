#!/usr/bin/env python3
"""L7 proxying (issue 3): keep-alive reuse towards pods, forwarded headers, per-request
round-robin, pods closing idle keep-alive connections, pipelining, chunked upload,
Expect: 100-continue and a WebSocket-style upgrade tunnel."""
import http.client
import socket
import time

import harness
from harness import test
from http_support import EchoUpgradePod, raw_exchange, split_responses, start


def keep_alive_get(address, count, path="/"):
    """`count` requests on one client connection; the responses' headers."""
    conn = http.client.HTTPConnection(*address, timeout=10)
    try:
        replies = []
        for _ in range(count):
            conn.request("GET", path)
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
            replies.append({k.lower(): v for k, v in reply.getheaders()})
        return replies
    finally:
        conn.close()


@test(timeout=60)
def round_robin_per_request_on_one_connection(env):
    proxy, address = start(env, env.web_pods(3))
    replies = keep_alive_get(address, 30)
    assert harness.tally(r["x-pod"] for r in replies) == {"web-1": 10, "web-2": 10, "web-3": 10}
    harness.wait_until(lambda: len(proxy.access_log_pods()) >= 30, 5, what="30 access lines")
    line = proxy.wait_for_log(r"http service=default/web:\d+ client=\S+ pod=default/web-\d "
                              r"method=GET target=/ status=200 received=\d+ sent=\d+ "
                              r"duration_ms=\d+ upstream_ms=\d+")
    assert line


@test(timeout=60)
def upstream_connections_are_reused(env):
    _, address = start(env, env.web_pods(1))
    replies = keep_alive_get(address, 20)
    # One pooled connection carries them all: nginx counts requests per connection.
    assert [int(r["x-echo-connection-requests"]) for r in replies] == list(range(1, 21))
    assert len({r["x-echo-connection"] for r in replies}) == 1
    # Reuse across client connections too.
    again = keep_alive_get(address, 1)[0]
    assert int(again["x-echo-connection-requests"]) == 21, again


@test(timeout=60)
def forwarded_headers_and_host(env):
    _, address = start(env, env.web_pods(1))
    reply = harness.http_request(address, headers={"Host": "shop.example:8080",
                                                   "X-Forwarded-For": "203.0.113.7",
                                                   "Connection": "keep-alive, X-Hop",
                                                   "X-Hop": "secret"})
    assert reply.status == 200
    assert reply.headers["x-echo-forwarded-for"] == "203.0.113.7, 127.0.0.1", reply.headers
    assert reply.headers["x-echo-forwarded-proto"] == "http"
    assert reply.headers["x-echo-forwarded-host"] == "shop.example:8080"
    assert reply.headers["x-echo-host"] == "shop.example"
    # HTTP/1.0 client: answered, then closed.
    old = harness.http10_get(address)
    assert old.status == 200 and old.body == b"web-1\n", old


@test(timeout=60)
def pod_closing_idle_connections_gives_no_errors(env):
    pods = env.web_pods(1, keepalive_timeout="1s")
    proxy, address = start(env, pods)
    for _ in range(4):
        assert harness.http_request(address).status == 200
        assert harness.http_request(address, "POST", body=b"x" * 1000).status == 200
        time.sleep(1.5)
    assert "status=502" not in proxy.log_text(), proxy.log_text()


@test(timeout=60)
def pipelined_requests_are_answered_in_order(env):
    _, address = start(env, env.web_pods(3))
    requests = b"".join(f"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n".encode() for i in range(5))
    requests += b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    responses = split_responses(raw_exchange(address, requests))
    assert [r.status for r in responses] == [200] * 6
    assert [r.headers["x-pod"] for r in responses] == ["web-1", "web-2", "web-3"] * 2


@test(timeout=60)
def chunked_upload_and_expect_continue(env):
    pod = env.python_pod("sink-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    _, address = start(env, [pod])
    body = harness.pattern_bytes(3 * 1024 * 1024 + 17)
    digest = __import__("hashlib").sha256(body).hexdigest()

    def chunks():
        for i in range(0, len(body), 100_000):
            yield body[i:i + 100_000]
    conn = http.client.HTTPConnection(*address, timeout=20)
    conn.request("POST", "/", body=chunks(), encode_chunked=True)
    reply = conn.getresponse()
    assert reply.read() == f"sink-1 length={len(body)} sha256={digest}\n".encode()
    conn.close()
    # Expect: 100-continue: the 100 comes at once, not after a client-side wait.
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        started = time.monotonic()
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        assert time.monotonic() - started < 0.5
        sock.sendall(b"hello")
        final = harness.parse_response(sock.recv(4096))
        assert final.status == 200 and final.headers["x-body-length"] == "5", final


@test(timeout=60)
def websocket_upgrade_is_tunnelled(env):
    ip = "127.0.1.1"
    echo = EchoUpgradePod(ip, harness.free_port(ip))
    try:
        _, address = start(env, [echo])
        with socket.create_connection(address, timeout=10) as sock:
            sock.sendall(b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                         b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(4096)
            response = harness.parse_response(head)
            assert response.status == 101, response
            assert response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
            for message in (b"\x81\x05hello", b"x" * 100_000):
                sock.sendall(message)
                echoed = b""
                while len(echoed) < len(message):
                    echoed += sock.recv(65536)
                assert echoed == message
    finally:
        echo.close()


if __name__ == "__main__":
    harness.main()
