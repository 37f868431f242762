#!/usr/bin/env python3
"""Graceful drain at L7 (issue 5). SIGTERM while a 2 s request is in flight: the client
gets its full 200 (with Connection: close), an idle keep-alive connection is closed, a
request that arrives on a kept-alive connection during the drain is answered with
Connection: close, new connections are refused, and svcproxy exits 0 as soon as the work
is done — well before timeouts.drain. A second SIGTERM during a drain exits at once."""
import signal
import socket
import time

import harness
from harness import test
from http_support import http_service, start
from reload_support import port_state, read_head

DRAIN = "30s"
DRAIN_S = 30


def keep_alive_connection(address, path="/"):
    """A connection that has completed one HTTP/1.1 request and is kept alive."""
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    response, rest = read_head(sock)
    body = read_body(sock, response, rest)
    assert response.status == 200 and body, response
    assert response.headers.get("connection", "").lower() != "close", response.headers
    return sock


def read_body(sock, response, rest):
    length = int(response.headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"body ended after {len(rest)} of {length} bytes")
        rest += chunk
    assert len(rest) == length, f"{len(rest) - length} bytes after the body"
    return rest


def closed_by_peer(sock, within):
    """True if the peer closes (EOF or reset) within `within` seconds, sending nothing."""
    sock.settimeout(within)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
    assert data == b"", f"unexpected bytes on an idle connection: {data!r}"
    return True


@test(timeout=60)
def sigterm_finishes_requests_and_closes_keep_alive(env):
    ip = "127.0.1.1"
    pod = env.python_pod("slow-1", ip, harness.free_port(ip))
    proxy, address = start(env, [pod], workers=2, drain=DRAIN)

    idle = keep_alive_connection(address)
    late = keep_alive_connection(address)
    body_size = 300_000
    busy = socket.create_connection(address, timeout=15)
    busy.sendall(f"GET /?delay=2&bytes={body_size} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
    # The next request on `late` has begun to arrive (half a head) when the drain starts.
    late.sendall(b"GET /?delay=0.5 HTTP/1.1\r\n")
    time.sleep(0.5)  # the slow request is at the pod, its answer 1.5 s away

    signalled = time.monotonic()
    proxy.send_signal(signal.SIGTERM)
    proxy.wait_for_log(r"draining: no new connections", timeout=5)
    assert closed_by_peer(idle, within=3), "idle keep-alive connection left open while draining"
    idle.close()
    harness.wait_until(lambda: port_state(*address) == "refused", 3,
                       what="new connections refused while draining")

    late.sendall(b"Host: a\r\n\r\n")
    response, rest = read_head(late)
    assert response.status == 200 and read_body(late, response, rest) == b"slow-1\n"
    assert response.headers.get("connection", "").lower() == "close", response.headers
    assert closed_by_peer(late, within=3), "connection kept open after Connection: close"
    late.close()

    response, rest = read_head(busy)
    body = read_body(busy, response, rest)
    assert response.status == 200, response
    assert body == harness.pattern_bytes(body_size), "in-flight response body corrupted"
    assert response.headers.get("connection", "").lower() == "close", response.headers
    assert closed_by_peer(busy, within=3)
    busy.close()

    code = proxy.wait(timeout=DRAIN_S)
    took = time.monotonic() - signalled
    assert code == 0, f"exit code {code}\n{proxy.log_text()}"
    assert took < DRAIN_S / 2, f"exit took {took:.1f}s: waited for timeouts.drain"


@test(timeout=60)
def second_sigterm_exits_at_once(env):
    ip = "127.0.1.1"
    pod = env.python_pod("slow-1", ip, harness.free_port(ip))
    proxy, address = start(env, [pod], workers=2, drain=DRAIN)
    busy = socket.create_connection(address, timeout=15)
    busy.sendall(b"GET /?delay=20 HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(0.5)
    proxy.send_signal(signal.SIGTERM)
    proxy.wait_for_log(r"draining: no new connections", timeout=5)
    time.sleep(0.5)
    assert proxy.running(), "exited with a 20 s request in flight"

    signalled = time.monotonic()
    proxy.send_signal(signal.SIGTERM)
    code = proxy.wait(timeout=DRAIN_S)
    took = time.monotonic() - signalled
    assert code is not None and took < 3, f"second SIGTERM: still running after {took:.1f}s"
    # An exit, not a crash.
    assert code == 0, f"exit code {code}\n{proxy.log_text()}"
    assert closed_by_peer(busy, within=3), "client connection outlived the process"
    busy.close()


@test(timeout=45)
def drain_timeout_ends_what_is_left_and_exits_zero(env):
    ip = "127.0.1.1"
    pod = env.python_pod("slow-1", ip, harness.free_port(ip))
    proxy, address = start(env, [pod], workers=2, drain="2s")
    busy = socket.create_connection(address, timeout=15)
    busy.sendall(b"GET /?delay=20 HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(0.5)
    signalled = time.monotonic()
    proxy.send_signal(signal.SIGTERM)
    code = proxy.wait(timeout=15)
    took = time.monotonic() - signalled
    assert code == 0, f"exit code {code}\n{proxy.log_text()}"
    assert 1.5 <= took < 8, f"exited {took:.1f}s after SIGTERM with timeouts.drain 2s"
    assert closed_by_peer(busy, within=3), "client connection outlived the process"
    busy.close()


@test(timeout=60)
def reload_during_drain_opens_no_listener(env):
    """A SIGHUP (a config tool, a log rotator) arriving during a drain must not open the
    ports a new file adds: a draining proxy takes no new connections."""
    ip = "127.0.1.1"
    pod = env.python_pod("slow-1", ip, harness.free_port(ip))
    admin_port = harness.free_port()
    a_ip, b_ip = harness.random_ip(), harness.random_ip()
    a, b = (a_ip, harness.free_port(a_ip)), (b_ip, harness.free_port(b_ip))

    def documents(with_b):
        docs = [harness.proxy_config_doc(admin_port, workers=2, drain=DRAIN),
                http_service("a", a[1], pod.port, cluster_ip=a_ip), *harness.pod_docs([pod])]
        return docs + ([http_service("b", b[1], pod.port, cluster_ip=b_ip)] if with_b else [])
    proxy = env.svcproxy(documents(False))
    busy = socket.create_connection(a, timeout=15)
    busy.sendall(b"GET /?delay=3 HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(0.5)
    proxy.send_signal(signal.SIGTERM)
    proxy.wait_for_log(r"draining: no new connections", timeout=5)

    since = len(proxy.log_text())
    harness.write_yaml(proxy.config_path, documents(True))
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload applied|reload rejected|SIGHUP ignored", timeout=5, since=since)
    time.sleep(0.5)  # a listener posted to the workers would be accepting by now
    assert port_state(*b) == "refused", "a port opened during the drain"
    assert port_state(*a) == "refused"

    response, rest = read_head(busy)
    assert response.status == 200 and read_body(busy, response, rest) == b"slow-1\n"
    busy.close()
    assert proxy.wait(timeout=DRAIN_S) == 0, proxy.log_text()


if __name__ == "__main__":
    harness.main()
