#!/usr/bin/env python3
"""SIGTERM with a connection open: svcproxy stops accepting, lets the in-flight answer
finish, and exits 0."""
import signal
import socket
import time

import harness
from harness import test

DELAY_S = 2
BODY = 1 << 20


def new_connection_is_served(address):
    """True if a fresh connection still reaches a pod after SIGTERM."""
    try:
        return harness.http10_get(address, timeout=1).status == 200
    except (OSError, ValueError):
        return False  # refused, reset, closed or timed out: not served


@test(timeout=60)
def sigterm_drains_open_connection_and_exits_zero(env):
    ip = "127.0.1.1"
    pod = env.python_pod("slow-1", ip, harness.free_port(ip))
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc("slow", harness.free_port(cluster_ip), pod.port,
                                  type="NodePort", cluster_ip=cluster_ip, node_port=node_port)
    proxy = env.svcproxy([harness.proxy_config_doc(harness.free_port(), drain="10s"),
                          service, *harness.pod_docs([pod])])
    address = ("127.0.0.1", node_port)

    with socket.create_connection(address, timeout=15) as client:
        client.sendall(f"GET /?delay={DELAY_S}&bytes={BODY} HTTP/1.0\r\n\r\n".encode())
        time.sleep(0.5)  # the request is at the pod, its answer still 1.5 s away
        sent_at = time.monotonic()
        proxy.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert not new_connection_is_served(address), "still accepting after SIGTERM"
        response = harness.parse_response(harness.recv_all(client, timeout=15))

    assert response.status == 200 and len(response.body) == BODY, response.headers
    assert response.body == harness.pattern_bytes(BODY), "body corrupted"
    code = proxy.wait(timeout=15)
    assert code == 0, f"exit code {code}\n{proxy.log_text()}"
    assert time.monotonic() - sent_at < 10, "exit waited for the drain timeout"


if __name__ == "__main__":
    harness.main()
