#!/usr/bin/env python3
"""A Service that selects no pods closes a new connection at once, and the log says why."""
import socket
import time

import harness
from harness import test


@test(timeout=30)
def connection_to_service_without_pods_is_closed_at_once(env):
    pods = env.web_pods(1)  # running, but labelled app=other: the Service selects nothing
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    service = harness.service_doc("empty", port, pods[0].port, cluster_ip=cluster_ip)
    proxy = env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                          *harness.pod_docs(pods, labels={"app": "other"})])

    log_before = len(proxy.log_text())  # startup lines may list "0 endpoints": skip them
    started = time.monotonic()
    with socket.create_connection((cluster_ip, port), timeout=5) as sock:
        sock.settimeout(1)
        try:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = sock.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        except socket.timeout:
            raise AssertionError("connection still open after 1 s")
    assert data == b"", f"got data from a service without pods: {data[:100]!r}"
    assert time.monotonic() - started < 1.5
    # Wording is the server's; it must name the service and say there is nothing to pick.
    proxy.wait_for_log(r"(?i)default/empty.*\b(no|zero|0|without)[ _-]+(ready[ _-]+)?"
                       r"(endpoints?|pods?|backends?)\b", timeout=3, since=log_before)
    assert pods[0].requests_seen() == [], "the unselected pod got traffic"


if __name__ == "__main__":
    harness.main()
