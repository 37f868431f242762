#!/usr/bin/env python3
"""The seed's picture with real hosts: network namespaces as two worker nodes, an edge
load balancer and a client, joined by a bridge in a switch namespace.

    client --> edge LoadBalancer IP:80 --> node NodePort 30080 (svcproxy per node) --> pod

Each node runs its own svcproxy (kube-proxy's job) and one pod; the edge runs svcproxy
with ProxyConfig nodes[] and forwards LoadBalancer traffic to the nodes' NodePorts.
Root only (namespaces need CAP_SYS_ADMIN); skipped with the reason otherwise. Every
address lives inside namespaces this test creates, none of them routes anywhere else,
and the namespaces are deleted at the end.
"""
import json

import harness
from harness import test
from netns_support import Topology, client_fetch, client_get, inside, require_root_and_netns

SUBNET = "10.231.{}.{}"  # only ever configured inside this test's own namespaces
NODE_PORT = 30080
POD_PORT = 8080
HEALTH_CHECK_NODE_PORT = 30555


def node_config(node, node_ip, pods, external_traffic_policy="Cluster", type="NodePort"):
    service = harness.service_doc("web", 80, POD_PORT, type=type,
                                  cluster_ip="127.100.0.10", node_port=NODE_PORT)
    service["spec"]["externalTrafficPolicy"] = external_traffic_policy
    if type == "LoadBalancer" and external_traffic_policy == "Local":
        service["spec"]["healthCheckNodePort"] = HEALTH_CHECK_NODE_PORT
    docs = [harness.proxy_config_doc(10249, workers=1, nodeName=node,
                                     nodePortAddresses=[node_ip]), service]
    for name, (ip, pod_node) in pods.items():
        pod = harness.pod_doc(name, ip, POD_PORT)
        pod["spec"]["nodeName"] = pod_node
        docs.append(pod)
    return docs


def edge_config(lb_ip, nodes, external_traffic_policy="Cluster"):
    service = harness.service_doc("web", 80, POD_PORT, type="LoadBalancer",
                                  cluster_ip="127.100.0.10", node_port=NODE_PORT,
                                  load_balancer_ip=lb_ip,
                                  externalTrafficPolicy=external_traffic_policy)
    if external_traffic_policy == "Local":
        service["spec"]["healthCheckNodePort"] = HEALTH_CHECK_NODE_PORT
    return [harness.proxy_config_doc(10249, workers=1, nodeName="edge",
                                     nodePortAddresses=["127.0.0.1"],
                                     nodes=[{"name": n, "address": ip} for n, ip in nodes.items()]),
            service]


def start_cluster(env, topology, hosts, external_traffic_policy="Cluster", type="NodePort",
                  pod_nodes=("node1", "node2")):
    pods = {"web-a": (hosts["node1"][1], "node1"), "web-b": (hosts["node2"][1], "node2")}
    pods = {name: where for name, where in pods.items() if where[1] in pod_nodes}
    for name, (ip, node) in pods.items():
        pod = inside(topology.ns(node), harness.PythonPod(name, ip, POD_PORT, env.workdir))
        env.track(pod).start()
    proxies = {}
    for node in ("node1", "node2"):
        proxy = harness.Svcproxy(env.binary, env.workdir,
                                 node_config(node, hosts[node][0], pods, external_traffic_policy,
                                             type),
                                 name=f"svcproxy-{node}")
        proxies[node] = env.track(inside(topology.ns(node), proxy)).start()
    return pods, proxies


def hosts_plan():
    return {"node1": [SUBNET.format(0, 11), SUBNET.format(1, 21)],
            "node2": [SUBNET.format(0, 12), SUBNET.format(1, 22)],
            "edge": [SUBNET.format(0, 2), SUBNET.format(2, 100)],
            "client": [SUBNET.format(0, 3)]}


@test(timeout=90)
def client_through_edge_load_balancer_reaches_pods_on_both_nodes(env):
    require_root_and_netns()
    hosts = hosts_plan()
    with Topology(hosts) as topology:
        start_cluster(env, topology, hosts)
        lb_ip = hosts["edge"][1]
        edge = harness.Svcproxy(env.binary, env.workdir,
                                edge_config(lb_ip, {"node1": hosts["node1"][0],
                                                    "node2": hosts["node2"][0]}),
                                name="svcproxy-edge")
        env.track(inside(topology.ns("edge"), edge)).start()
        answers = client_get(topology, (lb_ip, 80), 8)
        # Edge round-robins over nodes, each node round-robins over both pods.
        assert sorted(set(answers)) == ["web-a", "web-b"], answers
        assert len(answers) == 8
        edge_nodes = set(harness.POD_PATTERN.findall(edge.log_text()))
        assert edge_nodes == {"node1", "node2"}, edge_nodes


@test(timeout=90)
def node_port_with_local_policy_keeps_traffic_on_the_node(env):
    require_root_and_netns()
    hosts = hosts_plan()
    with Topology(hosts) as topology:
        start_cluster(env, topology, hosts, external_traffic_policy="Local")
        for node, pod in (("node1", "web-a"), ("node2", "web-b")):
            answers = client_get(topology, (hosts[node][0], NODE_PORT), 6)
            assert answers == [pod] * 6, (node, answers)


@test(timeout=90)
def node_port_with_cluster_policy_reaches_the_other_node_too(env):
    require_root_and_netns()
    hosts = hosts_plan()
    with Topology(hosts) as topology:
        start_cluster(env, topology, hosts)
        answers = client_get(topology, (hosts["node1"][0], NODE_PORT), 6)
        assert sorted(set(answers)) == ["web-a", "web-b"], answers


@test(timeout=90)
def edge_skips_nodes_whose_health_check_node_port_reports_no_local_pod(env):
    """LoadBalancer + externalTrafficPolicy Local with the only pod on node1: node2 would
    drop what it gets (no local pod), so its healthCheckNodePort says 503 with kube-proxy's
    JSON, and the edge, checking it as a cloud load balancer does, sends everything to
    node1: no client request is lost."""
    require_root_and_netns()
    hosts = hosts_plan()
    with Topology(hosts) as topology:
        _, proxies = start_cluster(env, topology, hosts, external_traffic_policy="Local",
                                   type="LoadBalancer", pod_nodes=("node1",))
        for node, expected_status, expected_count in (("node1", 200, 1), ("node2", 503, 0)):
            proxies[node].wait_for_log(r"healthCheckNodePort listening on", timeout=5)
            status, body = client_fetch(topology, (hosts[node][0], HEALTH_CHECK_NODE_PORT))
            assert status == expected_status, (node, status, body)
            answer = json.loads(body)
            assert answer == {"service": {"namespace": "default", "name": "web"},
                              "localEndpoints": expected_count,
                              "serviceProxyHealthy": True}, (node, answer)
        lb_ip = hosts["edge"][1]
        edge = harness.Svcproxy(env.binary, env.workdir,
                                edge_config(lb_ip, {"node1": hosts["node1"][0],
                                                    "node2": hosts["node2"][0]},
                                            external_traffic_policy="Local"),
                                name="svcproxy-edge")
        env.track(inside(topology.ns("edge"), edge)).start()
        edge.wait_for_log(r"node node1 \S+ ready: ", timeout=10)
        edge.wait_for_log(r"node node2 \S+ not ready: httpGet /healthz returned 503", timeout=10)
        answers = client_get(topology, (lb_ip, 80), 12)
        assert answers == ["web-a"] * 12, answers
        # No pod listens on the edge: the health ports are a node's, not an edge's.
        assert "healthCheckNodePort listening" not in edge.log_text()


if __name__ == "__main__":
    harness.main()
