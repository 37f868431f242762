#!/usr/bin/env python3
"""least-connections: with one pod that answers after 500 ms and two that answer at once,
20 concurrent clients send the slow pod under 10% of their requests; round-robin, on the
same pods, gives it a third (the control that shows the setup tells the two apart).
L4: every request is its own connection, so a connection's life is its request's.
L7 (appProtocol: http): each client keeps one connection, and every request is balanced
on the in-flight requests per pod."""
import http.client
import threading
import time

import harness
import http_support
from harness import test

CLIENTS = 20
DURATION = 4.0
SLOW_DELAY = 0.5


def start(env, policy, l7=False):
    ips = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
    port = harness.free_port_on_all(ips)
    fast = [env.nginx_pod(f"fast-{i}", ip, port) for i, ip in enumerate(ips[:2], 1)]
    slow = env.python_pod("slow", ips[2], port, delay=SLOW_DELAY)
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc(
        "web", harness.free_port(cluster_ip), port, type="NodePort", cluster_ip=cluster_ip,
        node_port=node_port, annotations={"svcproxy.io/load-balancing": policy})
    if l7:
        service["spec"]["ports"][0]["appProtocol"] = "http"
    env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                  *harness.pod_docs([*fast, slow])], log_level="info")
    return ("127.0.0.1", node_port)


def hammer(address, keep_alive=False):
    """CLIENTS threads sending requests back to back for DURATION seconds, each on its own
    connection, or (keep_alive) all of a client's on one HTTP/1.1 connection."""
    answered, errors = [], []
    deadline = time.monotonic() + DURATION

    def one_shot_client():
        while time.monotonic() < deadline:
            try:
                answered.append(harness.http10_get(address, timeout=5).headers.get("x-pod"))
            except (OSError, ValueError) as error:
                errors.append(repr(error))

    def keep_alive_client():
        connection = http.client.HTTPConnection(*address, timeout=5)
        while time.monotonic() < deadline:
            try:
                connection.request("GET", "/")
                reply = connection.getresponse()
                reply.read()
                answered.append(reply.getheader("x-pod") if reply.status == 200 else
                                f"status {reply.status}")
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
        connection.close()

    client = keep_alive_client if keep_alive else one_shot_client

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 10)
    return harness.tally(answered), errors


@test(timeout=60)
def least_connections_starves_the_slow_pod(env):
    counts, errors = hammer(start(env, "least-connections"))
    total = sum(counts.values())
    assert not errors, errors[:5]
    assert total >= 200, counts  # enough requests for a share to mean something
    assert counts.get("slow", 0) < 0.10 * total, counts
    assert counts.get("slow", 0) > 0, counts  # it still gets its turn when others are busy


@test(timeout=60)
def least_connections_starves_the_slow_pod_per_request_at_l7(env):
    counts, errors = hammer(start(env, "least-connections", l7=True), keep_alive=True)
    total = sum(counts.values())
    assert not errors, errors[:5]
    assert total >= 200 and set(counts) <= {"fast-1", "fast-2", "slow"}, counts
    assert counts.get("slow", 0) < 0.10 * total, counts


@test(timeout=60)
def round_robin_gives_the_slow_pod_a_third(env):
    counts, errors = hammer(start(env, "round-robin"))
    total = sum(counts.values())
    assert not errors, errors[:5]
    assert 0.28 * total <= counts.get("slow", 0) <= 0.38 * total, counts


if __name__ == "__main__":
    harness.main()
