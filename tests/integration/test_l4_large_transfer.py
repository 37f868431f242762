#!/usr/bin/env python3
"""50 MiB each way through the L4 relay arrives intact (sha256)."""
import hashlib
import os
import socket

import harness
from harness import test

SIZE = 50 << 20


def proxied_address(env, pods):
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc("bulk", harness.free_port(cluster_ip), pods[0].port,
                                  type="NodePort", cluster_ip=cluster_ip, node_port=node_port)
    env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                  *harness.pod_docs(pods)])
    return ("127.0.0.1", node_port)


@test(timeout=120)
def download_50_mib_intact(env):
    pods = env.web_pods(1)
    digest = harness.make_file(os.path.join(pods[0].files, "50m.bin"), SIZE)
    response = harness.http10_get(proxied_address(env, pods), "/files/50m.bin", timeout=60)
    assert response.status == 200, response.status
    assert len(response.body) == SIZE, len(response.body)
    assert hashlib.sha256(response.body).hexdigest() == digest


def post_raw(address, body, timeout=60):
    """An HTTP/1.0 POST written in pieces, answer read to EOF."""
    head = (f"POST /upload HTTP/1.0\r\nHost: {address[0]}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(head)
        view = memoryview(body)
        for offset in range(0, len(body), 1 << 20):
            sock.sendall(view[offset:offset + (1 << 20)])
        return harness.parse_response(harness.recv_all(sock, timeout))


@test(timeout=120)
def upload_50_mib_intact(env):
    ip = "127.0.1.1"
    sink = env.python_pod("sink-1", ip, harness.free_port(ip))
    body = harness.pattern_bytes(SIZE)
    response = post_raw(proxied_address(env, [sink]), body)
    assert response.status == 200, response
    assert response.headers.get("x-body-length") == str(SIZE), response.headers
    assert response.headers.get("x-body-sha256") == hashlib.sha256(body).hexdigest()


if __name__ == "__main__":
    harness.main()
