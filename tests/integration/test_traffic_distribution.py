#!/usr/bin/env python3
"""spec.trafficDistribution: PreferClose (issue 18), as kube-proxy does it: two svcproxy
"nodes" (node-a in zone-a, node-b in zone-b), four nginx pods, two on each node. Through
a PreferClose Service's ClusterIP each node reaches only the pods of its own zone while one
of them is ready, every zone's pods when its zone has none ready (the probes decide, at
once: no blackhole), and its zone's again once one is back; a Service without
trafficDistribution reaches every pod. The API's EndpointSlices show each endpoint's zone
and, for PreferClose, the hints (forZones) Kubernetes' EndpointSlice controller writes.
In cluster mode the nodes register their zone as their Node's topology.kubernetes.io/zone
label and learn each other's from there."""
import os

import admin
import etcd_harness
import harness
from etcd_harness import apply_ok, start_node
from harness import test

NODES = {"web-1": "node-a", "web-2": "node-a", "web-3": "node-b", "web-4": "node-b"}
ZONES = {"node-a": "zone-a", "node-b": "zone-b"}
PROBE = harness.http_probe("/files/ready", period=1, failures=1, successes=1, timeout=1)
REQUESTS = 16


def node_documents(node, pods, port, cluster_ips, admin_port):
    """node's ProxyConfig (its own zone, the other node's in nodes[]), the pods on their
    nodes, and the Services "close" (PreferClose) and "plain" on this node's ClusterIPs."""
    other = next(name for name in ZONES if name != node)
    docs = [harness.proxy_config_doc(admin_port, nodeName=node, zone=ZONES[node],
                                     outlierDetection={"enabled": False},
                                     nodes=[{"name": other, "zone": ZONES[other]}])]
    for pod in harness.pod_docs(pods, readiness_probe=PROBE):
        pod["spec"]["nodeName"] = NODES[pod["metadata"]["name"]]
        docs.append(pod)
    for name, extra in (("close", {"trafficDistribution": "PreferClose"}), ("plain", {})):
        service = harness.service_doc(name, port, pods[0].port, cluster_ip=cluster_ips[name],
                                      **extra)
        service["spec"]["ports"][0]["appProtocol"] = "http"
        docs.append(service)
    return docs


def answering(cluster_ip, port):
    return set(harness.pods_answering((cluster_ip, port), REQUESTS))


def set_ready(pod, ready):
    path = os.path.join(pod.files, "ready")
    if ready:
        open(path, "w").close()
    elif os.path.exists(path):
        os.remove(path)


def slice_endpoints(admin_port, service):
    status, body = admin.get_json(admin_port, "/apis/discovery.k8s.io/v1/endpointslices")
    assert status == 200, body
    [item] = [s for s in body["items"]
              if s["metadata"]["labels"]["kubernetes.io/service-name"] == service]
    return {e["targetRef"]["name"]: e for e in item["endpoints"]}


def wait_for_answers(cluster_ip, port, expected, timeout=6):
    """Until the pods answering are `expected` (a probe period or two after a change)."""
    seen = []

    def settled():
        seen[:] = [answering(cluster_ip, port)]
        return seen[0] == expected
    try:
        harness.wait_until(settled, timeout, interval=0.2, what=f"answers from {expected}")
    except TimeoutError:
        raise AssertionError(f"answered by {seen[0]}, expected {expected}") from None


@test(timeout=120)
def prefer_close_keeps_traffic_in_the_zone_while_a_pod_there_is_ready(env):
    pods = env.web_pods(4)
    by_name = {pod.name: pod for pod in pods}
    for pod in pods:
        set_ready(pod, True)
    port = harness.free_port()
    nodes = {}
    for node in ZONES:
        cluster_ips = {"close": harness.random_ip(), "plain": harness.random_ip()}
        admin_port = harness.free_port()
        proxy = env.svcproxy(node_documents(node, pods, port, cluster_ips, admin_port),
                             name=f"svcproxy-{node}")
        nodes[node] = (proxy, cluster_ips, admin_port)
    for proxy, _, _ in nodes.values():
        for pod in pods:
            proxy.wait_for_log(rf"pod default/{pod.name} \S+ ready: ", timeout=5)
    (proxy_a, ips_a, admin_a), (_, ips_b, _) = nodes["node-a"], nodes["node-b"]

    # Each node its own zone's pods; without trafficDistribution, every pod.
    assert answering(ips_a["close"], port) == {"web-1", "web-2"}
    assert answering(ips_b["close"], port) == {"web-3", "web-4"}
    assert answering(ips_a["plain"], port) == {"web-1", "web-2", "web-3", "web-4"}

    # One pod of zone-a left ready: it takes all of node-a's traffic.
    set_ready(by_name["web-1"], False)
    wait_for_answers(ips_a["close"], port, {"web-2"})
    # None left: every zone's ready pods, rather than nothing.
    set_ready(by_name["web-2"], False)
    wait_for_answers(ips_a["close"], port, {"web-3", "web-4"})
    assert answering(ips_b["close"], port) == {"web-3", "web-4"}
    # Back in zone-a: back to it.
    set_ready(by_name["web-1"], True)
    wait_for_answers(ips_a["close"], port, {"web-1"})

    # The EndpointSlices as Kubernetes' controller writes them: zones from the pods' nodes,
    # hints only for PreferClose and only on ready endpoints.
    close = slice_endpoints(admin_a, "close")
    assert {name: e.get("zone") for name, e in close.items()} == {
        "web-1": "zone-a", "web-2": "zone-a", "web-3": "zone-b", "web-4": "zone-b"}, close
    assert close["web-1"]["hints"] == {"forZones": [{"name": "zone-a"}]}, close["web-1"]
    assert close["web-3"]["hints"] == {"forZones": [{"name": "zone-b"}]}, close["web-3"]
    assert "hints" not in close["web-2"], close["web-2"]  # not ready
    plain = slice_endpoints(admin_a, "plain")
    assert plain["web-1"]["zone"] == "zone-a" and "hints" not in plain["web-1"], plain
    status, services = admin.get_json(admin_a, "/api/v1/services")
    spec = next(s for s in services["items"] if s["metadata"]["name"] == "close")["spec"]
    assert spec["trafficDistribution"] == "PreferClose", spec
    assert "not honoured" not in proxy_a.log_text(), proxy_a.log_text()


@test(timeout=60)
def a_ready_pod_of_no_known_zone_turns_the_preference_off(env):
    """kube-proxy uses zone hints only when every ready endpoint has one."""
    pods = env.web_pods(3)
    for pod in pods:
        set_ready(pod, True)
    port = harness.free_port()
    cluster_ips = {"close": harness.random_ip(), "plain": harness.random_ip()}
    docs = node_documents("node-a", pods, port, cluster_ips, harness.free_port())
    for doc in docs:
        if doc["kind"] == "Pod" and doc["metadata"]["name"] == "web-3":
            doc["spec"]["nodeName"] = "node-c"  # in no nodes[] entry: no zone
    proxy = env.svcproxy(docs)
    for pod in pods:
        proxy.wait_for_log(rf"pod default/{pod.name} \S+ ready: ", timeout=5)
    assert answering(cluster_ips["close"], port) == {"web-1", "web-2", "web-3"}
    set_ready(pods[2], False)  # web-3 not ready: the hints of the others hold again
    wait_for_answers(cluster_ips["close"], port, {"web-1", "web-2"})


@test(timeout=90)
def cluster_nodes_register_their_zones_and_route_by_them(env):
    """Only the ProxyConfigs say zones: each node learns the other's from its Node."""
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(4)
    node_port = harness.free_node_port(("127.0.2.1", "127.0.2.2"))
    service = harness.service_doc("web", 80, pods[0].port, type="NodePort",
                                  node_port=node_port, trafficDistribution="PreferClose")
    service["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [service]
    for pod in harness.pod_docs(pods):  # web-1, web-2 on node-1; web-3, web-4 on node-2
        pod["spec"]["nodeName"] = "node-1" if pod["metadata"]["name"] < "web-3" else "node-2"
        docs.append(pod)
    apply_ok(env, etcd, harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs))
    for i in (1, 2):
        start_node(env, etcd, harness.free_port(), f"node-{i}", f"127.0.2.{i}",
                   zone=f"zone-{'ab'[i - 1]}")
    for i in (1, 2):
        node = etcd.get_json(f"/registry/minions/node-{i}")
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"] == \
            f"zone-{'ab'[i - 1]}", node
    expected = {1: {"web-1", "web-2"}, 2: {"web-3", "web-4"}}
    for i in (1, 2):  # NodePort traffic with externalTrafficPolicy Cluster: the zone too
        wait_for_answers(f"127.0.2.{i}", node_port, expected[i], timeout=10)


if __name__ == "__main__":
    harness.main()
