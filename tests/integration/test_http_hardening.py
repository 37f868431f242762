#!/usr/bin/env python3
"""What a proxy must refuse or drop (issue 13): CONNECT is 405 and never reaches a pod; an
h2c upgrade is stripped so the pod answers plain HTTP/1.1 (never a 101 through svcproxy),
while WebSocket upgrades still tunnel and a 101 nobody asked for stays a 502; the request
target and Host are validated (RFC 9112/3986); Proxy-* fields and, by default, names with
`_` never reach a pod. Every rejection is svcproxy's own short answer with an access-log
line `error=REASON` and a count in svcproxy_http_rejected_requests_total{reason}.

The pod is a backend.py pod that logs every request head it received (harness.PythonPod
record=True), so "never reached a pod" and "which fields arrived" are read from its log."""
import socket
import time

import harness
from harness import test
from http_support import assert_rejected, exchange, read_response, rejected_total, start


def recording_pod(env):
    ip = "127.0.1.1"
    return env.python_pod("rec-1", ip, harness.free_port(ip), record=True)


def request(target="/", host="a", method="GET", extra=b""):
    line = f"{method} {target} HTTP/1.1\r\n".encode()
    host_field = b"" if host is None else b"Host: " + host.encode() + b"\r\n"
    return line + host_field + extra + b"\r\n"


def fields(head):
    """{lower-case name: [values]} of a head the pod logged."""
    found = {}
    for name, value in head["headers"]:
        found.setdefault(name.lower(), []).append(value)
    return found


def connection_tokens(head):
    return {token.strip().lower() for value in fields(head).get("connection", [])
            for token in value.split(",") if token.strip()}


def last_head(pod, count):
    harness.wait_until(lambda: len(pod.heads()) >= count, 5, what=f"{count} heads at the pod")
    heads = pod.heads()
    assert len(heads) == count, heads
    return heads[-1]


def expect_rejections(proxy, pod, address, cases):
    """Each (label, raw request, status, reason or reasons) is refused by svcproxy itself
    and never reaches `pod`; then each reason's metric counts exactly its rejections."""
    logged = []
    for label, data, status, reasons in cases:
        since = len(proxy.log_text())
        response, _ = exchange(address, data)
        try:
            logged.append(assert_rejected(proxy, response, status, reasons, since))
        except AssertionError as error:
            raise AssertionError(f"{label}: {data[:120]!r}: {error}") from None
    time.sleep(0.2)  # a request that slipped through would be in the pod's log by now
    assert pod.heads() == [], f"rejected requests reached the pod: {pod.heads()}"
    for reason, count in harness.tally(logged).items():
        assert rejected_total(proxy, reason) == count, (reason, count)


@test(timeout=60)
def connect_is_405_and_never_reaches_a_pod(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    since = len(proxy.log_text())
    response, _ = exchange(address, b"CONNECT example.com:443 HTTP/1.1\r\n"
                                    b"Host: example.com:443\r\n\r\n")
    assert_rejected(proxy, response, 405, "method_not_allowed", since)
    allowed = {m.strip().upper() for m in response.headers.get("allow", "").split(",")}
    assert "allow" in response.headers and "GET" in allowed and "CONNECT" not in allowed, \
        response.headers
    # With a body-looking tail and on a connection that already carried a request.
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request("/before"))
        assert read_response(sock).status == 200
        since = len(proxy.log_text())
        sock.sendall(b"CONNECT 127.0.1.1:22 HTTP/1.1\r\nHost: 127.0.1.1:22\r\n\r\n"
                     b"SSH-2.0-OpenSSH_9.2\r\n")
        assert_rejected(proxy, read_response(sock), 405, "method_not_allowed", since)
    time.sleep(0.2)
    assert [h["method"] for h in pod.heads()] == ["GET"], pod.heads()
    assert rejected_total(proxy, "method_not_allowed") == 2


@test(timeout=60)
def h2c_upgrade_never_reaches_a_pod(env):
    # The pod would switch to h2c (101) if Upgrade: h2c with HTTP2-Settings reached it.
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    variants = [
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
        b"Upgrade: H2C\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
        b"Connection: http2-settings, upgrade, keep-alive\r\n",
    ]
    with socket.create_connection(address, timeout=10) as sock:
        for count, extra in enumerate(variants, 1):
            sock.sendall(request(f"/h2c-{count}", extra=extra))
            response = read_response(sock)
            assert response.status == 200 and response.headers.get("x-pod") == "rec-1", \
                response
            head = last_head(pod, count)
            got = fields(head)
            assert "upgrade" not in got and "http2-settings" not in got, head
            assert not connection_tokens(head) & {"upgrade", "http2-settings"}, head
        # The connection went on as HTTP/1.1: the next request is answered on it.
        sock.sendall(request("/after"))
        assert read_response(sock).status == 200
    # A WebSocket upgrade still reaches the pod as one, and tunnels.
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(request("/ws", extra=b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                          b"Sec-WebSocket-Version: 13\r\n"
                                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"))
        response = read_response(sock)
        assert response.status == 101, response
        assert response.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        sock.sendall(b"\x81\x05hello")
        echoed = response.body
        while len(echoed) < 7:
            echoed += sock.recv(100)
        assert echoed == b"\x81\x05hello", echoed
    head = last_head(pod, 4)
    assert fields(head).get("upgrade") == ["websocket"] and "upgrade" in \
        connection_tokens(head), head


@test(timeout=60)
def unsolicited_101_is_502(env):
    pod = recording_pod(env)  # ?switch=1: the pod answers 101 whatever was asked
    proxy, address = start(env, [pod])
    for extra in (b"", b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                       b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"):
        since = len(proxy.log_text())
        response, _ = exchange(address, request("/?switch=1", extra=extra))
        assert response.status == 502 and response.body == b"502 Bad Gateway\n", response
        proxy.wait_for_log(r"status=502 .*error=bad_response", since=since)
    assert len(pod.heads()) == 2


@test(timeout=60)
def request_target_is_validated(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    expect_rejections(proxy, pod, address, [
        ("authority differs from Host", request("http://other/", "a"), 400,
         {"bad_target", "bad_host"}),
        ("port differs from Host", request("http://a:81/", "a:80"), 400,
         {"bad_target", "bad_host"}),
        ("* with GET", request("*"), 400, "bad_target"),
        ("fragment", request("/page#section"), 400, "bad_target"),
        ("fragment in absolute-form", request("http://a/page#x", "a"), 400, "bad_target"),
        ("whitespace in target", b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
         {"bad_target", "malformed"}),
        ("tab in target", b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400,
         {"bad_target", "malformed"}),
    ])
    # Forwarded: absolute-form naming Host's authority, in origin-form (RFC 9112 3.2.1: a
    # pod gets /path, "/" for an empty one), and OPTIONS *.
    for count, (data, method, target) in enumerate([
            (request("http://a/abs?q=1", "a"), "GET", ("/abs?q=1",)),
            (request("http://a:8080/abs", "a:8080"), "GET", ("/abs",)),
            (request("http://a", "a"), "GET", ("/",)),
            (request("HTTP://a?x", "a"), "GET", ("/?x",)),
            (request("*", method="OPTIONS"), "OPTIONS", ("*",))], 1):
        response, _ = exchange(address, data)
        assert response.status == 200 and response.headers.get("x-pod") == "rec-1", \
            (data, response)
        head = last_head(pod, count)
        assert head["method"] == method and head["target"] in target, head
        assert fields(head)["host"] == [data.split(b"Host: ")[1].split(b"\r\n")[0].decode()], \
            head


@test(timeout=60)
def host_is_validated(env):
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    expect_rejections(proxy, pod, address, [
        (f"Host {host!r}", request("/", host), 400, "bad_host")
        for host in ("a b", "a@b", "[::1", "a:b", "a:99999", "")] + [
        ("two Hosts", request("/", "a", extra=b"Host: b\r\n"), 400, "bad_host"),
        ("no Host", request("/", None), 400, "bad_host")])
    for count, host in enumerate(("[::1]:8080", "example.com:80", "10.0.0.1",
                                  "web.default.svc.cluster.local"), 1):
        response, _ = exchange(address, request(f"/host-{count}", host))
        assert response.status == 200 and response.headers.get("x-pod") == "rec-1", \
            (host, response)
        assert fields(last_head(pod, count))["host"] == [host]


@test(timeout=60)
def proxy_fields_and_underscores_never_reach_a_pod(env):
    pod = recording_pod(env)
    extra = (b"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
             b"Proxy-Connection: keep-alive\r\n"
             b"Proxy: http://evil.example:3128\r\n"
             b"Proxy-Foo: bar\r\n"
             b"X_Forwarded_User: admin\r\n"
             b"x_api_key: stolen\r\n"
             b"X-Forwarded-User: real\r\n"
             b"X-Normal: y\r\n")
    proxy, address = start(env, [pod])
    response, _ = exchange(address, request("/fields", extra=extra))
    assert response.status == 200 and response.headers.get("x-pod") == "rec-1", response
    got = fields(last_head(pod, 1))
    assert not [name for name in got if name.startswith("proxy")], got
    assert not [name for name in got if "_" in name], got
    assert got["x-normal"] == ["y"] and got["x-forwarded-user"] == ["real"], got
    proxy.stop()

    # limits.allowUnderscoresInHeaders: true keeps `_` names as sent; Proxy-* still go.
    pod2 = env.python_pod("rec-2", "127.0.1.2", harness.free_port("127.0.1.2"), record=True)
    proxy, address = start(env, [pod2], name="underscores",
                           limits={"allowUnderscoresInHeaders": True})
    response, _ = exchange(address, request("/fields", extra=extra))
    assert response.status == 200, response
    head = last_head(pod2, 1)
    got = fields(head)
    assert not [name for name in got if name.startswith("proxy")], got
    assert got.get("x_forwarded_user") == ["admin"] and got.get("x_api_key") == ["stolen"], \
        got
    assert ["X_Forwarded_User", "admin"] in head["headers"], head  # the name as sent
    assert got["x-forwarded-user"] == ["real"], got




@test(timeout=60)
def close_in_a_second_connection_field_closes(env):
    """Connection: close counts in whichever Connection field it stands (RFC 9110 7.6.1
    makes them one list): the response says close and the connection ends, so a request
    pipelined behind it is not answered."""
    pod = recording_pod(env)
    proxy, address = start(env, [pod])
    closing = request("/first", extra=b"Connection: x-other\r\nX-Between: 1\r\n"
                                        b"Connection: close\r\n")
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(closing + request("/second"))
        response = read_response(sock)
        assert response.status == 200 and response.headers.get("connection") == "close", \
            response
        sock.settimeout(5)
        assert sock.recv(65536) == b"", "the connection stayed open after Connection: close"
    assert [head["target"] for head in pod.heads()] == ["/first"]


if __name__ == "__main__":
    harness.main()
