#!/usr/bin/env python3
"""timeouts.requestBody (issue 13): an inactivity timer between reads of a request body.
A client that stops sending its body part-way gets 408 (error=body_timeout, counted), and
the pod's connection is broken off so the pod sees an aborted request, never a complete
one it could act on. A body that keeps coming, however slowly, is not cut off."""
import os
import socket
import time

import harness
from harness import test
from http_support import assert_rejected, read_response, rejected_total, start

# requestBody is 1s; the proxy checks its timeouts every tenth of the smallest, so the 408
# is due at about 1.1s. Generous upper bounds for a slow or sanitized build.
EARLIEST = 0.8
LATEST = 6.0 if os.environ.get("SVCPROXY_SANITIZED") else 4.0


def recording_pod(env):
    ip = "127.0.1.1"
    return env.python_pod("rec-1", ip, harness.free_port(ip), record=True)


def stall(proxy, address, data):
    """Send `data` (a head and part of its body), then nothing: the 408 and how long it took
    from the last byte sent."""
    since = len(proxy.log_text())
    with socket.create_connection(address, timeout=15) as sock:
        sock.sendall(data)
        started = time.monotonic()
        response = read_response(sock, timeout=15)
        took = time.monotonic() - started
    assert EARLIEST < took < LATEST, f"408 after {took:.2f}s"
    assert_rejected(proxy, response, 408, "body_timeout", since, before_pod=False)
    return took


def assert_pod_saw_abort(pod, request):
    harness.wait_until(lambda: any(a.startswith(request + ":") for a in pod.aborted()), 5,
                       what=f"the pod to see {request!r} aborted")
    assert request not in pod.seen(), f"{request!r} reached the pod whole: {pod.seen()}"


@test(timeout=60)
def stalled_body_is_408_and_the_pod_sees_the_abort(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod], timeouts={"requestBody": "1s"})
    stall(proxy, address, b"POST /length HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" +
          b"0123456789")
    assert_pod_saw_abort(pod, "POST /length")
    stall(proxy, address, b"POST /chunked HTTP/1.1\r\nHost: a\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n")
    assert_pod_saw_abort(pod, "POST /chunked")
    # Stalled inside a chunk, and before the first body byte.
    stall(proxy, address, b"PUT /mid-chunk HTTP/1.1\r\nHost: a\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n64\r\n01234")
    stall(proxy, address, b"POST /no-body-yet HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
    assert rejected_total(proxy, "body_timeout") == 4
    time.sleep(0.3)
    assert not [s for s in pod.seen() if "mid-chunk" in s or "no-body-yet" in s], pod.seen()
    # The proxy and the pod still serve.
    assert harness.http_request(address, "POST", "/after", body=b"x" * 100).status == 200


@test(timeout=60)
def slow_but_steady_body_is_not_cut_off(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod], timeouts={"requestBody": "1s"})
    body = b"0123456789"
    with socket.create_connection(address, timeout=15) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"POST /steady HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
                     % len(body))
        started = time.monotonic()
        for byte in body:  # 10 bytes over ~3.5s: far longer than requestBody, never idle 1s
            time.sleep(0.35)
            sock.sendall(bytes([byte]))
        response = read_response(sock, timeout=10)
    assert time.monotonic() - started > 3
    assert response.status == 200 and response.headers["x-body-length"] == "10", response
    assert "POST /steady" in pod.seen()
    assert rejected_total(proxy, "body_timeout") == 0
    # Chunked the same way: one small chunk every 0.35s.
    with socket.create_connection(address, timeout=15) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"POST /steady-chunks HTTP/1.1\r\nHost: a\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        for byte in body:
            time.sleep(0.35)
            sock.sendall(b"1\r\n" + bytes([byte]) + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        response = read_response(sock, timeout=10)
    assert response.status == 200 and response.headers["x-body-length"] == "10", response
    assert rejected_total(proxy, "body_timeout") == 0


if __name__ == "__main__":
    harness.main()
