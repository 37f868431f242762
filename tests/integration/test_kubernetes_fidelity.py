#!/usr/bin/env python3
"""Kubernetes fidelity (issue 18), as a user sees it: internalTrafficPolicy Local keeps
ClusterIP traffic on this node's pods, terminated pods get no traffic, a LoadBalancer with
allocateLoadBalancerNodePorts false has no NodePort, and manifests Kubernetes refuses are
refused by `svcproxy --check` with Kubernetes' field path."""
import json
import subprocess

import admin
import harness
from harness import test


def l7_service(name, port, target_port, selector, **spec):
    doc = harness.service_doc(name, port, target_port, cluster_ip=harness.random_ip(),
                              selector=selector, **spec)
    doc["spec"]["ports"][0]["appProtocol"] = "http"
    return doc


@test(timeout=60)
def internal_traffic_policy_local_and_terminated_pods(env):
    pods = env.web_pods(4)
    docs = [harness.proxy_config_doc(harness.free_port(), nodeName="node-a")]
    nodes = {"web-1": "node-a", "web-2": "node-b", "web-3": "node-a", "web-4": "node-a"}
    for pod in harness.pod_docs(pods):
        pod["spec"]["nodeName"] = nodes[pod["metadata"]["name"]]
        if pod["metadata"]["name"] == "web-4":
            pod["status"]["phase"] = "Failed"  # a finished pod keeps its IP; no traffic
        docs.append(pod)
    port = harness.free_port()
    local = l7_service("local", port, pods[0].port, {"app": "web"},
                       internalTrafficPolicy="Local")
    everywhere = l7_service("everywhere", port, pods[0].port, {"app": "web"})
    # Only node-b's pod selected: with Local, this node has none to send to.
    elsewhere = l7_service("elsewhere", port, pods[0].port, {"app": "web"},
                           internalTrafficPolicy="Local")
    docs[2]["metadata"]["labels"]["side"] = "b"  # web-2
    elsewhere["spec"]["selector"] = {"side": "b"}
    docs += [local, everywhere, elsewhere]
    env.svcproxy(docs)

    def address(doc):
        return (doc["spec"]["clusterIP"], port)

    answered = set(harness.pods_answering(address(local), 12))
    assert answered == {"web-1", "web-3"}, answered
    answered = set(harness.pods_answering(address(everywhere), 12))
    assert answered == {"web-1", "web-2", "web-3"}, answered
    assert harness.http_request(address(elsewhere), timeout=5).status == 503


@test(timeout=60)
def a_load_balancer_with_allocate_node_ports_false_has_no_node_port(env):
    pods = env.web_pods(1)
    admin_port = harness.free_port()
    service = harness.service_doc("lb", harness.free_port(), pods[0].port, type="LoadBalancer",
                                  allocateLoadBalancerNodePorts=False)
    env.svcproxy([harness.proxy_config_doc(admin_port), service, *harness.pod_docs(pods)])
    _, services = admin.get_json(admin_port, "/api/v1/services")
    ports = next(s for s in services["items"] if s["metadata"]["name"] == "lb")["spec"]["ports"]
    assert "nodePort" not in ports[0], ports


@test(timeout=60)
def an_external_name_service_is_listed_and_listens_nowhere(env):
    admin_port = harness.free_port()
    external = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
                "spec": {"type": "ExternalName", "externalName": "db.example.com",
                         "ports": [{"port": 5432}]}}
    proxy = env.svcproxy([harness.proxy_config_doc(admin_port), external])
    _, services = admin.get_json(admin_port, "/api/v1/services")
    spec = next(s for s in services["items"] if s["metadata"]["name"] == "db")["spec"]
    assert spec["type"] == "ExternalName" and spec["externalName"] == "db.example.com", spec
    assert "clusterIP" not in spec, spec
    assert "svcproxy ready: 0 listeners" in proxy.log_text(), proxy.log_text()


@test(timeout=60)
def kube_proxy_healthz_answers_with_its_json(env):
    """healthzAddress (kube-proxy's 10256 by default) answers /healthz and /livez as
    kube-proxy does, so a load balancer's node check works against svcproxy unchanged."""
    health_port = harness.free_port()
    config = harness.proxy_config_doc(harness.free_port(),
                                      healthzAddress=f"127.0.0.1:{health_port}")
    proxy = env.svcproxy([config])
    proxy.wait_for_log(r"kube-proxy health \(/healthz, /livez\) listening on", timeout=5)
    for path in ("/healthz", "/livez"):
        reply = harness.http_request(("127.0.0.1", health_port), path=path, timeout=5)
        assert reply.status == 200, reply
        assert reply.headers["content-type"] == "application/json", reply.headers
        assert reply.headers["x-content-type-options"] == "nosniff", reply.headers
        body = json.loads(reply.body)
        assert body["healthy"] is True and "currentTime" in body and "lastUpdated" in body, body
        assert body.get("nodeEligible", path == "/livez") is True, body
    assert harness.http_request(("127.0.0.1", health_port), path="/metrics",
                                timeout=5).status == 404


@test(timeout=60)
def health_check_node_port_counts_this_nodes_ready_pods(env):
    """A LoadBalancer with externalTrafficPolicy Local: its healthCheckNodePort answers as
    kube-proxy's does, 200 with localEndpoints while this node holds a ready pod and 503
    once it holds none (node-b's pod does not count), so a load balancer stops sending."""
    pods = env.web_pods(3)
    admin_port = harness.free_port()
    health_port = harness.free_node_port()
    docs = [harness.proxy_config_doc(admin_port, nodeName="node-a")]
    for pod, node in zip(harness.pod_docs(pods, readiness_probe=harness.http_probe(period=1)),
                         ("node-a", "node-a", "node-b")):
        pod["spec"]["nodeName"] = node
        docs.append(pod)
    docs.append(harness.service_doc("lb", harness.free_port(), pods[0].port, type="LoadBalancer",
                                    externalTrafficPolicy="Local",
                                    healthCheckNodePort=health_port))
    proxy = env.svcproxy(docs)
    proxy.wait_for_log(rf"healthCheckNodePort listening on 127.0.0.1:{health_port} for default/lb",
                       timeout=5)

    def check():
        reply = harness.http_request(("127.0.0.1", health_port), path="/healthz", timeout=5)
        assert reply.headers["content-type"] == "application/json", reply.headers
        body = json.loads(reply.body)
        assert body["service"] == {"namespace": "default", "name": "lb"}, body
        assert reply.headers["x-load-balancing-endpoint-weight"] == str(body["localEndpoints"])
        return reply.status, body["localEndpoints"], body["serviceProxyHealthy"]

    harness.wait_until(lambda: check() == (200, 2, True), timeout=10, what="two local pods")
    pods[0].stop()
    harness.wait_until(lambda: check() == (200, 1, True), timeout=10, what="one local pod")
    pods[1].stop()
    harness.wait_until(lambda: check() == (503, 0, True), timeout=10, what="no local pod")
    _, services = admin.get_json(admin_port, "/api/v1/services")
    spec = next(s for s in services["items"] if s["metadata"]["name"] == "lb")["spec"]
    assert spec["healthCheckNodePort"] == health_port, spec


@test(timeout=60)
def manifests_kubernetes_refuses_are_refused_with_its_field_path(env):
    service = harness.service_doc("web", 80, 8080)
    service["spec"]["selector"] = {"app": "web", "version": 1}
    service["spec"]["externalTrafficPolicy"] = "Local"
    service["spec"]["ports"][0]["appProtocol"] = "kubernetes.io/h2c"
    path = f"{env.workdir}/bad.yaml"
    harness.write_yaml(path, [service])
    done = subprocess.run([env.binary, "--check", "--config", path], capture_output=True,
                          text=True, timeout=30)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "spec.selector.version: expected a string, got 1" in out, out
    assert ("spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for "
            "externally-accessible services") in out, out
    assert "appProtocol \"kubernetes.io/h2c\" is relayed at L4" in out, out


if __name__ == "__main__":
    harness.main()
