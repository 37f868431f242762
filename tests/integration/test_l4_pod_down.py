#!/usr/bin/env python3
"""A pod that is down (its nginx stopped) is skipped: every client connection still gets
an answer from a live pod."""
import harness
from harness import test

CONNECTIONS = 30


@test(timeout=90)
def stopped_pod_is_skipped_without_client_errors(env):
    pods = env.web_pods(3)
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    service = harness.service_doc("web", harness.free_port(cluster_ip), pods[0].port,
                                  type="NodePort", cluster_ip=cluster_ip, node_port=node_port)
    env.svcproxy([harness.proxy_config_doc(harness.free_port()), service,
                  *harness.pod_docs(pods)])
    assert pods[1].stop() is not None, "web-2 did not stop"

    answered = harness.pods_answering(("127.0.0.1", node_port), CONNECTIONS)
    counts = harness.tally(answered)
    assert sum(counts.values()) == CONNECTIONS and None not in counts, counts
    assert set(counts) == {"web-1", "web-3"}, counts


if __name__ == "__main__":
    harness.main()
