#!/usr/bin/env python3
"""Every status a client can get from svcproxy itself at L7 (issue 3), over raw sockets:
each has a short text body and an access-log line whose error= names the reason, counted in
svcproxy_http_rejected_requests_total{reason} (issue 13), and a rejected request never
reaches a pod (its nginx access log stays empty)."""
import socket
import time

import harness
from harness import test
from http_support import http_service, raw_exchange, rejected_total, start

# Request smuggling and malformed requests: status, then the bytes sent.
REJECTED = {
    "cl_and_te": (400, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "te_and_cl": (400, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                       b"Content-Length: 5\r\n\r\n0\r\n\r\n"),
    "differing_content_lengths": (400, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                                       b"Content-Length: 6\r\n\r\nhello!"),
    "bad_chunk_size": (400, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"zz\r\nabc\r\n0\r\n\r\n"),
    "obs_fold": (400, b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"),
    "space_before_colon": (400, b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
    "bare_cr": (400, b"GET / HTTP/1.1\r\nHost: a\rX-B: c\r\n\r\n"),
    "missing_host": (400, b"GET / HTTP/1.1\r\n\r\n"),
    "garbage": (400, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    "unknown_transfer_encoding": (501, b"POST / HTTP/1.1\r\nHost: a\r\n"
                                       b"Transfer-Encoding: gzip\r\n\r\n"),
    "chunked_twice": (400, b"POST / HTTP/1.1\r\nHost: a\r\n"
                           b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    "chunked_not_last": (400, b"POST / HTTP/1.1\r\nHost: a\r\n"
                              b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    "http2_preface": (505, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    "http_1_2": (505, b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"),
    "uri_too_long": (414, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"),
    "headers_too_large": (431, b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 70_000 +
                               b"\r\n\r\n"),
    "body_too_large": (413, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n"),
}


# The access log's error= (and the metric's reason) for each of REJECTED.
REASONS = {
    "cl_and_te": "bad_framing", "te_and_cl": "bad_framing",
    "differing_content_lengths": "bad_framing", "bad_chunk_size": "bad_chunk",
    "obs_fold": "malformed", "space_before_colon": "malformed", "bare_cr": "malformed",
    "missing_host": "bad_host", "garbage": "malformed",
    "unknown_transfer_encoding": "not_implemented", "chunked_twice": "bad_framing",
    "chunked_not_last": "bad_framing", "http2_preface": "unsupported_version",
    "http_1_2": "unsupported_version", "uri_too_long": "uri_too_long",
    "headers_too_large": "header_too_large", "body_too_large": "body_too_large",
}


def assert_error(raw, status):
    response = harness.parse_response(raw)
    assert response.status == status, raw[:200]
    assert response.headers["content-type"] == "text/plain"
    assert response.body.startswith(str(status).encode()) and len(response.body) < 100
    return response


@test(timeout=120)
def malformed_and_smuggling_requests_never_reach_a_pod(env):
    pods = env.web_pods(1)
    proxy, address = start(env, pods, limits={"maxHeaderBytes": 65536, "maxBodyBytes": 1000})
    for name, (status, data) in REJECTED.items():
        since = len(proxy.log_text())
        response = assert_error(raw_exchange(address, data), status)
        assert response.headers.get("connection") == "close", name
        line = proxy.wait_for_log(rf"http service=\S+ client=\S+ pod=- .*status={status} ",
                                  since=since).string
        assert f" error={REASONS[name]}" in line, (name, line)
    assert pods[0].requests_seen() == [], pods[0].requests_seen()
    for reason, count in harness.tally(REASONS.values()).items():
        assert rejected_total(proxy, reason) == count, reason
    # A good request afterwards still works: the rejections broke nothing.
    assert harness.http_request(address).status == 200


@test(timeout=60)
def request_header_timeout_is_408(env):
    proxy, address = start(env, env.web_pods(1), timeouts={"requestHeader": "1s"})
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never finished
        started = time.monotonic()
        raw = harness.recv_all(sock, 10)
    assert 0.9 < time.monotonic() - started < 5
    assert_error(raw, 408)
    proxy.wait_for_log(r"status=408 .*error=header_timeout")
    assert rejected_total(proxy, "header_timeout") == 1


@test(timeout=60)
def no_ready_endpoint_is_503(env):
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    proxy = env.svcproxy([harness.proxy_config_doc(harness.free_port(), workers=1),
                          http_service("web", port, 8080, cluster_ip)])
    response = harness.http_request((cluster_ip, port))
    assert response.status == 503 and response.body == b"503 Service Unavailable\n"
    proxy.wait_for_log(r"status=503 .*error=no_endpoint")


@test(timeout=60)
def refused_pod_is_502_and_dead_pod_skipped(env):
    live = env.web_pods(1)[0]
    dead_ip = "127.0.1.9"
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    only_dead = [harness.proxy_config_doc(harness.free_port(), workers=1),
                 http_service("web", port, live.port, cluster_ip),
                 harness.pod_doc("dead-1", dead_ip, live.port)]
    proxy = env.svcproxy(only_dead, name="dead")
    response = harness.http_request((cluster_ip, port))
    assert response.status == 502 and response.body == b"502 Bad Gateway\n"
    proxy.wait_for_log(r"status=502 .*error=connect_failed")
    proxy.stop()
    # With a live pod as well, a refused connect moves on: every request succeeds.
    proxy = env.svcproxy(only_dead + [harness.pod_doc(live.name, live.ip, live.port)],
                         name="mixed")
    assert [harness.http_request((cluster_ip, port)).status for _ in range(6)] == [200] * 6


@test(timeout=60)
def slow_pod_is_504(env):
    pod = env.python_pod("slow-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    proxy, address = start(env, [pod], timeouts={"upstreamResponse": "1s"})
    started = time.monotonic()
    response = harness.http_request(address, path="/?delay=3")
    assert response.status == 504 and response.body == b"504 Gateway Timeout\n"
    assert time.monotonic() - started < 2.5
    proxy.wait_for_log(r"status=504 .*error=upstream_timeout")


if __name__ == "__main__":
    harness.main()
