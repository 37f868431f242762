#!/usr/bin/env python3
"""No request runs twice (issue 13). A pod that read a POST (or PATCH, or a PUT whose body was
streamed) and then reset or closed the connection without answering may have acted on it:
the client gets 502 and the request is never sent again, to that pod or another, whether
the proxy used a fresh connection or one from its keep-alive pool. Retrying stays where it
is safe: a GET that a pod reset goes once more to another pod, and a connect that nobody
answered (nothing sent) is retried for any method.

The pods are backend.py pods that log `seen METHOD TARGET` for every request they read
whole: across all pods' logs each failed request must appear exactly once."""
import http.client
import socket

import admin
import harness
from harness import test
from http_support import read_response, start

DEAD_IP = "127.0.1.9"  # nothing listens there: a connect is refused


def seen_everywhere(pods):
    """'METHOD TARGET' of every request any pod read whole, all pods together."""
    return [request for pod in pods for request in pod.seen()]


def failing_pods(env, count, how, fail="POST,PATCH,PUT"):
    ips = [f"127.0.1.{i}" for i in range(1, count + 1)]
    port = harness.free_port_on_all(ips)
    return [env.python_pod(f"fail-{i}", ip, port, fail=fail, fail_how=how[i - 1])
            for i, ip in enumerate(ips, 1)]


def send(sock, method, path, body=b"", chunked=False):
    head = f"{method} {path} HTTP/1.1\r\nHost: web\r\n"
    if chunked:
        payload = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                           for part in (body[:len(body) // 2], body[len(body) // 2:]) if part)
        sock.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + payload +
                     b"0\r\n\r\n")
    else:
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return read_response(sock, timeout=15)


def one_request(address, method, path, body=b"", chunked=False):
    with socket.create_connection(address, timeout=15) as sock:
        return send(sock, method, path, body, chunked)


def assert_ran_once(pods, requests):
    seen = seen_everywhere(pods)
    for request in requests:
        assert seen.count(request) == 1, \
            f"{request!r} reached the pods {seen.count(request)} times: {seen}"


@test(timeout=60)
def post_reset_or_closed_by_every_pod_runs_once(env):
    # Two pods reset (RST), one closes (FIN); round-robin spreads the requests over all
    # three, so a retry, to whichever pod, would show as a second `seen` line.
    pods = failing_pods(env, 3, how=["reset", "reset", "close"])
    proxy, address = start(env, pods)
    sent = []
    for i in range(6):
        sent.append((f"POST /post-{i}", one_request(address, "POST", f"/post-{i}",
                                                   b"order=%d" % i)))
    sent.append(("PATCH /patch-1", one_request(address, "PATCH", "/patch-1", b"x" * 100)))
    # A PUT is idempotent, but its chunked body was streamed: it cannot be sent again.
    sent.append(("PUT /put-1", one_request(address, "PUT", "/put-1", b"y" * 200_000,
                                           chunked=True)))
    for request, response in sent:
        assert response.status == 502, (request, response)
        assert response.body == b"502 Bad Gateway\n", (request, response)
    harness.wait_until(lambda: len(seen_everywhere(pods)) >= len(sent), 5,
                       what="every request in a pod's log")
    assert_ran_once(pods, [request for request, _ in sent])
    assert len(seen_everywhere(pods)) == len(sent), seen_everywhere(pods)
    harness.wait_until(lambda: proxy.log_text().count(" status=502 ") >= len(sent), 5,
                       what="an access-log line per 502")
    text = admin.scrape(proxy.admin_port)
    assert admin.value(text, "svcproxy_upstream_retries_total", **proxy.service_labels) == 0, \
        text


@test(timeout=60)
def post_on_a_pooled_connection_runs_once(env):
    # The proxy's pool holds a connection to each pod (a GET answered on it) when the POST
    # comes; the pod reads the POST and resets that connection. Once was too many already.
    pods = failing_pods(env, 2, how=["reset", "reset"], fail="POST,PATCH")
    proxy, address = start(env, pods)  # one worker: one pool
    with socket.create_connection(address, timeout=15) as sock:
        for i in range(2):  # round-robin: one GET to each pod, each leaves a pooled connection
            response = send(sock, "GET", f"/warm-{i}")
            assert response.status == 200, response
        response = send(sock, "POST", "/same-connection", b"pay=1")
        assert response.status == 502, response
    # A new client connection, over connections pooled anew.
    with socket.create_connection(address, timeout=15) as sock:
        for i in range(2):
            assert send(sock, "GET", f"/rewarm-{i}").status == 200
    for method, path in (("POST", "/new-connection"), ("PATCH", "/patch")):
        with socket.create_connection(address, timeout=15) as sock:
            response = send(sock, method, path, b"pay=2")
            assert response.status == 502, (path, response)
    requests = ["POST /same-connection", "POST /new-connection", "PATCH /patch"]
    harness.wait_until(lambda: all(r in seen_everywhere(pods) for r in requests), 5,
                       what="every POST in a pod's log")
    # Let a wrongly retried copy arrive before counting.
    harness.wait_until(lambda: proxy.log_text().count(" status=502 ") >= 3, 5,
                       what="three 502 access-log lines")
    assert_ran_once(pods, requests)
    # Each POST rode a connection that had already carried a GET: a pooled one.
    heads = [dict(h, pod=pod.name) for pod in pods for h in pod.heads()]
    warmed = {(h["pod"], h["peer"]) for h in heads if h["method"] == "GET"}
    for head in heads:
        if head["method"] != "GET":
            assert (head["pod"], head["peer"]) in warmed, \
                f"{head['method']} {head['target']} came on a fresh connection: {heads}"
    # The GETs were answered where they went: the pooled connections were real.
    assert sorted(r for r in seen_everywhere(pods) if r.startswith("GET")) == \
        sorted(f"GET /{w}-{i}" for w in ("warm", "rewarm") for i in range(2))


@test(timeout=60)
def get_reset_by_a_pod_is_retried_once_on_another(env):
    ips = ["127.0.1.1", "127.0.1.2"]
    port = harness.free_port_on_all(ips)
    good = env.python_pod("good-1", ips[0], port, record=True)
    bad = env.python_pod("reset-1", ips[1], port, fail="*")
    proxy, address = start(env, [good, bad])
    paths = [f"/get-{i}" for i in range(10)]
    for path in paths:
        response = harness.http_request(address, path=path)
        assert response.status == 200 and response.headers["x-pod"] == "good-1", \
            (path, response)
    harness.wait_until(lambda: len(good.seen()) >= len(paths), 5, what="every GET at good-1")
    assert sorted(good.seen()) == sorted(f"GET {p}" for p in paths), good.seen()
    tried_bad = bad.seen()
    assert tried_bad, "the resetting pod never got a GET: the retry was not exercised"
    assert len(set(tried_bad)) == len(tried_bad), f"a GET went twice to reset-1: {tried_bad}"
    # Each GET reset-1 dropped is one retry, counted.
    text = admin.scrape(proxy.admin_port)
    assert admin.value(text, "svcproxy_upstream_retries_total", **proxy.service_labels) == \
        len(tried_bad), text


@test(timeout=60)
def post_to_a_pod_nobody_listens_on_is_retried(env):
    live = env.python_pod("live-1", "127.0.1.1", harness.free_port_on_all(["127.0.1.1",
                                                                           DEAD_IP]),
                          record=True)
    dead = harness.PythonPod("dead-1", DEAD_IP, live.port, env.workdir)  # never started
    proxy, address = start(env, [dead, live])
    bodies = {f"/post-{i}": harness.pattern_bytes(1000 + i) for i in range(8)}
    for path, body in bodies.items():
        conn = http.client.HTTPConnection(*address, timeout=15)
        conn.request("POST", path, body=body)
        reply = conn.getresponse()
        answer = reply.read()
        conn.close()
        assert reply.status == 200, (path, reply.status, answer)
        assert reply.getheader("X-Body-Length") == str(len(body)), (path, answer)
    assert sorted(live.seen()) == sorted(f"POST {p}" for p in bodies), live.seen()
    # The proxy did try dead-1 (and says so), so the retries were exercised.
    assert "connect to default/dead-1" in proxy.log_text(), proxy.log_text()


if __name__ == "__main__":
    harness.main()
