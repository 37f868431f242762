#!/usr/bin/env python3
"""Half-close: a client that writes its request and then shutdown(SHUT_WR) still gets the
full answer, and the pod sees the EOF."""
import hashlib
import os

import harness
from harness import test


def proxied_address(env, pods):
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc("half", harness.free_port(cluster_ip), pods[0].port,
                                  type="NodePort", cluster_ip=cluster_ip, node_port=node_port)
    env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                  *harness.pod_docs(pods)])
    return ("127.0.0.1", node_port)


@test(timeout=60)
def pod_answering_after_eof_gets_through(env):
    # This pod answers only once it has read EOF: the FIN must cross the proxy while the
    # pod-to-client direction stays open.
    ip = "127.0.1.1"
    pod = env.python_pod("eof-1", ip, harness.free_port(ip), mode="eof")
    address = proxied_address(env, [pod])
    payload = os.urandom(1 << 20)
    answer = harness.tcp_exchange(address, payload, half_close=True)
    expected = f"eof-1 length={len(payload)} sha256={hashlib.sha256(payload).hexdigest()}\n"
    assert answer.decode() == expected, answer[:200]


@test(timeout=60)
def full_response_after_client_shutdown(env):
    # A Python pod, not nginx: nginx itself cuts a response short when it reads the
    # client's EOF (seen directly, without the proxy), which would hide what we test.
    ip = "127.0.1.1"
    pods = [env.python_pod("big-1", ip, harness.free_port(ip))]
    digest = hashlib.sha256(harness.pattern_bytes(4 << 20)).hexdigest()
    address = proxied_address(env, pods)
    response = harness.http10_get(address, f"/?bytes={4 << 20}", half_close=True)
    assert response.status == 200, response.status
    assert len(response.body) == 4 << 20, len(response.body)
    assert hashlib.sha256(response.body).hexdigest() == digest


if __name__ == "__main__":
    harness.main()
