#!/usr/bin/env python3
"""Readiness at start: a pod with a readinessProbe gets no traffic until its first success,
a pod without one is ready at once, and publishNotReadyAddresses: true sends traffic to
pods whatever their probe says."""
import time

import admin
import harness
from harness import test

INITIAL_DELAY = 2


def node_port_service(name, target_port, **extra):
    cluster_ip = harness.random_ip()
    node_port = harness.free_node_port()
    doc = harness.service_doc(name, harness.free_port(cluster_ip), target_port, type="NodePort",
                              cluster_ip=cluster_ip, node_port=node_port, **extra)
    return doc, ("127.0.0.1", node_port)


@test(timeout=60)
def probed_pod_waits_for_its_first_success(env):
    pods = env.web_pods(3)
    probe = harness.http_probe("/", initial_delay=INITIAL_DELAY)
    service, address = node_port_service("web", pods[0].port)
    admin_port = harness.free_port()
    docs = [harness.proxy_config_doc(admin_port), service,
            harness.pod_doc("web-1", pods[0].ip, pods[0].port, readiness_probe=probe),
            *harness.pod_docs(pods[1:])]
    started = time.time()
    proxy = env.svcproxy(docs)

    early = harness.pods_answering(address, 12)
    assert harness.tally(early) == {"web-2": 6, "web-3": 6}, early
    status, body = admin.get_json(admin_port, "/api/v1/namespaces/default/endpoints/web")
    [subset] = body["subsets"]
    assert [a["targetRef"]["name"] for a in subset["notReadyAddresses"]] == ["web-1"], subset

    proxy.wait_for_log(r"pod default/web-1 \S+ ready: ", timeout=INITIAL_DELAY + 3)
    [(ready_at, _)] = proxy.log_lines(r"pod default/web-1 \S+ ready: ")
    assert ready_at - started >= INITIAL_DELAY - 0.1, ready_at - started
    later = harness.pods_answering(address, 30)
    assert harness.tally(later) == {"web-1": 10, "web-2": 10, "web-3": 10}, harness.tally(later)


@test(timeout=60)
def publish_not_ready_addresses_ignores_readiness(env):
    pods = env.web_pods(3)
    never_ready = harness.http_probe("/files/missing")  # nginx answers 404
    published, published_address = node_port_service("published", pods[0].port,
                                                      publishNotReadyAddresses=True)
    # The same pods through an ordinary Service: proves the probes really fail.
    ordinary, ordinary_address = node_port_service("ordinary", pods[0].port)
    proxy = env.svcproxy([harness.proxy_config_doc(harness.free_port()), published, ordinary,
                          *harness.pod_docs(pods, readiness_probe=never_ready)])
    for pod in pods:
        proxy.wait_for_log(rf"pod default/{pod.name} \S+ not ready: .*returned 404", timeout=5)

    answered = harness.pods_answering(published_address, 30)
    assert harness.tally(answered) == {"web-1": 10, "web-2": 10, "web-3": 10}, answered
    try:
        reply = harness.http10_get(ordinary_address, timeout=5)
    except (ValueError, ConnectionError) as expected:  # closed without an answer
        reply = expected
    assert not isinstance(reply, harness.Response), reply


if __name__ == "__main__":
    harness.main()
