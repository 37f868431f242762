#!/usr/bin/env python3
"""Cluster mode readiness (issue 15): a pod is probed only by the node named in its
spec.nodeName, which writes the Ready condition into the stored Pod; other nodes follow
that verdict. A node whose lease is gone for nodeGracePeriod has its pods turn not ready
everywhere (Kubernetes' node lifecycle rule). Real etcd, nginx pods."""
import os
import time

import etcd_harness
import harness
from etcd_harness import start_node, svcproxy_apply
from harness import test

PROBE = harness.http_probe("/files/ready", period=1, failures=1, successes=1)


def ready_condition(etcd, pod):
    stored = etcd.get_json(f"/registry/pods/default/{pod}") or {}
    for condition in stored.get("status", {}).get("conditions", []):
        if condition.get("type") == "Ready":
            return condition.get("status")
    return None


@test(timeout=120)
def the_owning_node_probes_and_the_others_follow_its_verdict(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(2)
    for pod in pods:
        open(os.path.join(pod.files, "ready"), "w").close()
    node_port = harness.free_node_port(("127.0.2.1", "127.0.2.2"))
    docs = [harness.service_doc("web", 80, pods[0].port, type="NodePort", node_port=node_port),
            *harness.pod_docs(pods, readiness_probe=PROBE)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    for doc, node in zip(docs[1:], ("node-1", "node-2")):
        doc["spec"]["nodeName"] = node
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 0, err
    timing = {"leaseTTL": "2s", "nodeGracePeriod": "3s"}
    nodes = [start_node(env, etcd, harness.free_port(), f"node-{i}", f"127.0.2.{i}", etcd=timing)
             for i in (1, 2)]
    addresses = [(f"127.0.2.{i}", node_port) for i in (1, 2)]
    harness.wait_until(lambda: ready_condition(etcd, "web-1") == "True" and
                       ready_condition(etcd, "web-2") == "True", 10, what="Ready written")
    for address in addresses:
        harness.wait_until(lambda: set(harness.pods_answering(address, 6)) == {"web-1", "web-2"},
                           10, what=f"{address} serving both pods")

    # web-2 fails its probe: node-2 says so in etcd, and node-1 follows without probing it.
    os.remove(os.path.join(pods[1].files, "ready"))
    harness.wait_until(lambda: ready_condition(etcd, "web-2") == "False", 10,
                       what="node-2 writing web-2 not ready")
    for address in addresses:
        harness.wait_until(lambda: set(harness.pods_answering(address, 6)) == {"web-1"}, 5,
                           what=f"{address} leaving web-2 out")
    # Until node-2 registered, node-1 probed web-2 itself (a node it did not know); once it
    # knew, it stopped: the failure was node-2's to see.
    assert "pod default/web-2" in nodes[1].log_text() and "not ready" in nodes[1].log_text()
    assert not nodes[0].log_lines(r"pod default/web-2 .* not ready"), \
        "node-1 must not probe node-2's pod"

    # node-1 dies: its pod stays ready on node-2 for the grace, then turns not ready.
    nodes[0].stop(timeout=5, signum=9)
    died = time.monotonic()
    nodes[1].wait_for_log(r"node node-1 lost its lease", timeout=10)
    harness.wait_until(lambda: harness.http10_get(addresses[1]).status == 503, 10,
                       interval=0.2, what="web-1 not ready on node-2 after the grace")
    assert time.monotonic() - died >= 3, "not before the grace period"


if __name__ == "__main__":
    harness.main()
