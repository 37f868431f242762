#!/usr/bin/env python3
"""The proxy's own faults are not the pod's (issue 20). Out of file descriptors (a low
RLIMIT_NOFILE, the table filled with held client connections), requests get 503, not 502;
svcproxy_local_resource_errors_total counts them and no pod is blamed: no connect failure
counted, no ejection, every endpoint still ready. Once descriptors are free again, service
resumes within a second. And a pod killed under load shows in
svcproxy_upstream_connect_failures_total{reason="refused"}, even though retries hide every
failure from the clients."""
import re
import socket
import time

import admin
import harness
from harness import test
from http_support import hold_connections, read_response, start

NOFILE = 64
REQUESTS = 12  # more than outlier detection's 5 consecutive failures


def first_ok_after(address, deadline_seconds):
    """Seconds until a request answered 200 again (raises when none did in time)."""
    start_time = time.monotonic()
    while True:
        try:
            response = harness.http_request(address, timeout=1)
            if response.status == 200:
                return time.monotonic() - start_time
        except OSError:
            pass
        if time.monotonic() - start_time > deadline_seconds:
            raise AssertionError(f"no 200 within {deadline_seconds}s of freeing descriptors")
        time.sleep(0.02)


def walk_the_paths_once(address):
    """One full exchange with each pod while a keep-alive connection spans deadline ticks,
    then time for the pods (keepalive_timeout 1s) to close their idle connections and the
    proxy's pool sweep to drop them: no pooled connection is left, so each request under
    test needs a new socket. Why walk first: under the sanitize build, UBSan checks a
    polymorphic object's type the first time it meets it with a pipe(2), which a full
    descriptor table refuses, and reports a false "invalid vptr"."""
    assert {harness.http_request(address).headers.get("x-pod") for _ in range(2)} == \
        {"web-1", "web-2"}
    with socket.create_connection(address, timeout=5) as held:
        held.sendall(f"GET / HTTP/1.1\r\nHost: {address[0]}\r\n\r\n".encode())
        assert read_response(held).status == 200
        time.sleep(3.0)
    time.sleep(0.5)  # the proxy closes its end too before the table is filled


@test(timeout=90)
def out_of_descriptors_is_503_and_blames_no_pod(env):
    pods = env.web_pods(2, keepalive_timeout="1s")
    proxy, address = start(env, pods, nofile=NOFILE)
    labels = proxy.service_labels
    walk_the_paths_once(address)
    since = len(proxy.log_text())
    held = hold_connections(address, 2 * NOFILE)
    statuses = []
    try:
        proxy.wait_for_log(r"accept on .*Too many open files", timeout=5, since=since)
        # The first connections held were accepted (they were first in the backlog).
        request = f"GET / HTTP/1.1\r\nHost: {address[0]}\r\n\r\n".encode()
        for sock in held[:REQUESTS]:
            sock.sendall(request)
            statuses.append(read_response(sock, timeout=5).status)
    finally:
        for sock in held:
            sock.close()
    resumed_after = first_ok_after(address, 5)
    assert 502 not in statuses, statuses
    assert statuses.count(503) >= REQUESTS - 2, statuses  # a freed descriptor may serve one
    assert resumed_after < 1.0, f"service resumed only {resumed_after:.2f}s after descriptors freed"

    text = admin.scrape(proxy.admin_port)
    local = admin.value(text, "svcproxy_local_resource_errors_total", kind="file_descriptors")
    assert local >= statuses.count(503), text
    assert admin.value(text, "svcproxy_accept_errors_total", reason="file_descriptors") >= 1, text
    for reason in ("refused", "timeout", "unreachable", "reset", "other"):
        assert admin.value(text, "svcproxy_upstream_connect_failures_total", reason=reason,
                           **labels) == 0, (reason, text)
    for pod in ("web-1", "web-2"):
        assert admin.value(text, "svcproxy_endpoint_ready", pod=f"default/{pod}", **labels) == 1, \
            text
    assert "ejecting" not in proxy.log_text(), proxy.log_text()
    # The failures are logged at most about once a second, not once per request.
    lines = [line for _, line in proxy.log_lines(r"svcproxy's own limit", since=since)]
    assert 1 <= len(lines) <= 5, "\n".join(lines)
    # Both pods still take traffic.
    answered = {harness.http_request(address).headers.get("x-pod") for _ in range(6)}
    assert answered == {"web-1", "web-2"}, answered


@test(timeout=60)
def killed_pod_counts_refused_connects_that_retries_hide(env):
    pods = env.web_pods(2)
    proxy, address = start(env, pods, workers=2)
    labels = proxy.service_labels
    assert harness.http_request(address).status == 200
    with harness.RequestStream(address, interval=0.01) as stream:
        time.sleep(0.3)
        killed_at = time.time()
        env.processes[0].stop(signum=9)  # web-1
        time.sleep(1.5)
    after = stream.pods_between(killed_at + 0.2)
    assert after and set(after) == {"web-2"}, harness.tally(after)
    assert not stream.errors(), stream.errors()
    refused = admin.value(admin.scrape(proxy.admin_port), "svcproxy_upstream_connect_failures_total",
                          reason="refused", **labels)
    logged = len(re.findall(r"connect to default/web-1 .*refused", proxy.log_text()))
    assert refused >= 1 and refused == logged, (refused, logged, proxy.log_text()[-2000:])


if __name__ == "__main__":
    harness.main()
