#!/usr/bin/env python3
"""sessionAffinity: ClientIP. One client address sticks to one pod; other addresses are
balanced (round-robin: three new clients land on three pods); a client whose pod fails its
readinessProbe (while still answering, kubernetes/kubernetes#110302) moves at once; after
sessionAffinityConfig.clientIP.timeoutSeconds idle, a client is balanced anew.

Clients are told apart by source address: 127.0.0.1, .2, .3 ... bound before connect."""
import os
import time

import harness
from harness import test

AFFINITY_TIMEOUT = 2
CONNECTIONS = 50


def start(env, probe=None):
    pods = env.web_pods(3)
    for pod in pods:  # /files/ready answers 200 while it exists, 404 once removed
        open(os.path.join(pod.files, "ready"), "w").close()
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc(
        "web", harness.free_port(cluster_ip), pods[0].port, type="NodePort",
        cluster_ip=cluster_ip, node_port=node_port, sessionAffinity="ClientIP",
        sessionAffinityConfig={"clientIP": {"timeoutSeconds": AFFINITY_TIMEOUT}})
    proxy = env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                          *harness.pod_docs(pods, readiness_probe=probe)])
    if probe:
        for pod in pods:
            proxy.wait_for_log(rf"pod default/{pod.name} \S+ ready: ", timeout=5)
    return pods, proxy, ("127.0.0.1", node_port)


def sticky_pod(address, client, count=CONNECTIONS):
    """The one pod that answered all `count` connections from `client`; fails if several."""
    answered = harness.pods_answering(address, count, source_ip=client)
    assert len(set(answered)) == 1, (client, harness.tally(answered))
    return answered[0]


@test(timeout=60)
def one_client_one_pod_and_idle_clients_rebalance(env):
    pods, proxy, address = start(env)
    first = sticky_pod(address, "127.0.0.1")
    # Round-robin picks only for clients without an entry: the next two go elsewhere.
    second = sticky_pod(address, "127.0.0.2")
    third = sticky_pod(address, "127.0.0.3")
    assert len({first, second, third}) == 3, (first, second, third)
    # A fourth client takes the round-robin turn that wraps to `first`'s pod, so the next
    # fresh pick is `second`'s pod — where 127.0.0.1 goes only if it is balanced anew.
    assert sticky_pod(address, "127.0.0.4", 1) == first

    time.sleep(AFFINITY_TIMEOUT / 2)  # idle less than the timeout: stays
    stayed = sticky_pod(address, "127.0.0.1", 1)
    assert stayed == first, f"left {first} for {stayed} before the timeout"
    time.sleep(AFFINITY_TIMEOUT + 0.5)  # idle longer: a fresh round-robin pick
    rebalanced = sticky_pod(address, "127.0.0.1", 1)
    assert rebalanced == second, f"expected {second} after the timeout, got {rebalanced}"
    # ... and it sticks to the new pod.
    assert sticky_pod(address, "127.0.0.1", 20) == second


@test(timeout=60)
def client_moves_when_its_pod_fails_the_probe(env):
    probe = harness.http_probe("/files/ready", period=1, failures=1)
    pods, proxy, address = start(env, probe)
    by_name = {pod.name: pod for pod in pods}
    first = sticky_pod(address, "127.0.0.1")
    other = sticky_pod(address, "127.0.0.2")

    os.remove(os.path.join(by_name[first].files, "ready"))  # still serves "/"
    proxy.wait_for_log(rf"pod default/{first} \S+ not ready: ", timeout=4)
    moved = sticky_pod(address, "127.0.0.1")
    assert moved != first, moved
    assert sticky_pod(address, "127.0.0.2", 10) == other  # untouched

    # The old pod's return does not pull the client back: its entry now names `moved`.
    open(os.path.join(by_name[first].files, "ready"), "w").close()
    proxy.wait_for_log(rf"pod default/{first} \S+ ready: ", since=0, timeout=4)
    harness.wait_until(lambda: len(proxy.log_lines(rf"pod default/{first} \S+ ready: ")) == 2,
                       4, what=f"{first} ready again")
    assert sticky_pod(address, "127.0.0.1", 20) == moved


if __name__ == "__main__":
    harness.main()
