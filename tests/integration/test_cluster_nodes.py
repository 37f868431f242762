#!/usr/bin/env python3
"""Cluster mode, the serving side (issue 15): nodes list and watch the state in etcd and
serve it through the hitless reload; an edge sends LoadBalancer traffic to the live
registered nodes; etcd being away never takes traffic down. Real etcd, nginx pods."""
import os
import time

import admin
import etcd_harness
import harness
from etcd_harness import admin_status, admin_text, start_node, svcproxy_apply
from harness import test


def manifests(env, pods, node_port, name="web", type="NodePort", **service):
    docs = [harness.service_doc(name, 80, pods[0].port, type=type, node_port=node_port,
                                annotations={}, **service)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    docs += harness.pod_docs(pods)
    return harness.write_yaml(os.path.join(env.workdir, f"{name}.yaml"), docs)


def apply(env, etcd, path, command="apply"):
    code, out, err = svcproxy_apply(env, etcd, [path], command=command)
    assert code == 0, (out, err)
    return time.monotonic()


def wait_serving(address, pods, timeout=5):
    harness.wait_until(lambda: set(harness.pods_answering(address, len(pods) * 2)) == set(pods),
                       timeout, interval=0.05, what=f"{address} serving {pods}")


@test(timeout=120)
def two_nodes_serve_what_apply_stored_and_follow_changes_under_load(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(3)
    node_port = harness.free_node_port(("127.0.2.1", "127.0.2.2"))
    path = manifests(env, pods, node_port)
    apply(env, etcd, path)
    admins = [harness.free_port(), harness.free_port()]
    nodes = [start_node(env, etcd, admins[i], f"node-{i + 1}", f"127.0.2.{i + 1}")
             for i in range(2)]
    for i in range(2):
        address = (f"127.0.2.{i + 1}", node_port)
        wait_serving(address, ["web-1", "web-2", "web-3"])
        counts = harness.tally(harness.pods_answering(address, 30))
        assert counts == {"web-1": 10, "web-2": 10, "web-3": 10}, counts
    # Each node registered itself under a lease.
    leases = etcd.get_prefix("/registry/leases/kube-node-lease/")
    assert set(leases) == {f"/registry/leases/kube-node-lease/node-{i}" for i in (1, 2)}, leases
    node = etcd.get_json("/registry/minions/node-2")
    assert {"type": "InternalIP", "address": "127.0.2.2"} in node["status"]["addresses"], node
    text = admin.scrape(admins[0])
    assert admin.value(text, "svcproxy_cluster_connected") == 1
    assert admin.value(text, "svcproxy_cluster_relists_total", reason="initial") == 1

    # Remove a pod, then add it back, while both nodes carry a steady stream.
    streams = [harness.RequestStream((f"127.0.2.{i + 1}", node_port)) for i in range(2)]
    for stream in streams:
        stream.__enter__()
    try:
        time.sleep(0.5)
        removed = harness.write_yaml(os.path.join(env.workdir, "web-3.yaml"),
                                     harness.pod_docs(pods[2:]))
        applied = apply(env, etcd, removed, command="delete")
        for i in range(2):
            harness.wait_until(
                lambda: set(harness.pods_answering((f"127.0.2.{i + 1}", node_port), 6)) ==
                {"web-1", "web-2"}, 1.5, interval=0.02, what="web-3 gone")
        assert time.monotonic() - applied < 1.5
        apply(env, etcd, path)
        for i in range(2):
            wait_serving((f"127.0.2.{i + 1}", node_port), ["web-1", "web-2", "web-3"], timeout=1.5)
        time.sleep(0.3)
    finally:
        for stream in streams:
            stream.__exit__(None, None, None)
    for stream in streams:
        assert stream.errors() == [], stream.errors()[:5]
        assert len(stream.results) > 20
    for proxy in nodes:
        assert "reload rejected" not in proxy.log_text()


@test(timeout=120)
def etcd_paused_under_load_loses_no_request_and_the_node_catches_up(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(2)
    node_port = harness.free_node_port(("127.0.2.1",))
    path = manifests(env, pods, node_port)
    apply(env, etcd, path)
    admin_port = harness.free_port()
    node = start_node(env, etcd, admin_port, "node-1", "127.0.2.1",
                      etcd={"requestTimeout": "2s"})
    address = ("127.0.2.1", node_port)
    wait_serving(address, ["web-1", "web-2"])
    with harness.RequestStream(address) as stream:
        etcd.pause()
        try:
            harness.wait_until(lambda: "disconnected" in admin_text(admin_port, "/healthz"), 8,
                               interval=0.2, what="/healthz saying disconnected")
            assert admin.value(admin.scrape(admin_port), "svcproxy_cluster_connected") == 0
            assert admin_status(admin_port, "/readyz") == 200
            time.sleep(10)
        finally:
            etcd.resume()
    assert stream.errors() == [], stream.errors()[:5]
    assert len(stream.results) > 100
    # A change made after etcd is back reaches the node.
    since = len(node.log_text())
    only_one = harness.write_yaml(os.path.join(env.workdir, "web-2.yaml"),
                                  harness.pod_docs(pods[1:]))
    apply(env, etcd, only_one, command="delete")
    node.wait_for_log(r"reload applied", timeout=10, since=since)
    wait_serving(address, ["web-1"], timeout=5)
    harness.wait_until(lambda: "connected to" in admin_text(admin_port, "/healthz"), 10,
                       what="reconnected")


@test(timeout=90)
def a_delete_hidden_by_compaction_is_still_noticed(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(1)
    node_port = harness.free_node_port(("127.0.2.1",))
    other_port = harness.free_node_port(("127.0.2.1",))
    path = manifests(env, pods, node_port)
    other = manifests(env, pods, other_port, name="other")
    apply(env, etcd, path)
    apply(env, etcd, other)
    admin_port = harness.free_port()
    node = start_node(env, etcd, admin_port, "node-1", "127.0.2.1")
    wait_serving(("127.0.2.1", other_port), ["web-1"])
    # The node misses the delete (paused), and compaction removes it from history.
    node.send_signal(19)  # SIGSTOP
    try:
        apply(env, etcd, other, command="delete")
        apply(env, etcd, path)  # more history after the delete
        etcd.compact()
    finally:
        node.send_signal(18)  # SIGCONT
    harness.wait_until(lambda: not harness.can_connect("127.0.2.1", other_port), 15,
                       what="the deleted Service's NodePort closed")
    assert harness.pods_answering(("127.0.2.1", node_port), 2) == ["web-1", "web-1"]


@test(timeout=120)
def an_edge_sends_only_to_live_nodes(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(2)
    node_port = harness.free_node_port(("127.0.2.1", "127.0.2.2"))
    edge_ip = "127.0.3.1"
    lb_port = harness.free_port_on_all([edge_ip, "127.0.2.1", "127.0.2.2"])
    # Without ingress IPs a LoadBalancer listens on each instance's nodePortAddresses: the
    # edge on 127.0.3.1, each node on its own address.
    docs = [harness.service_doc("web", lb_port, pods[0].port, type="LoadBalancer",
                                node_port=node_port), *harness.pod_docs(pods)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)
    apply(env, etcd, path)
    nodes = [start_node(env, etcd, harness.free_port(), f"node-{i}", f"127.0.2.{i}",
                        etcd={"leaseTTL": "3s"}) for i in (1, 2)]
    edge = start_node(env, etcd, harness.free_port(), "edge", edge_ip, etcd={"edge": True})
    address = (edge_ip, lb_port)
    # Through both nodes' NodePorts: the edge's access log names the node it forwarded to.
    harness.wait_until(lambda: {"node-1", "node-2"} <= set(edge.access_log_pods()) or
                       harness.http10_get(address) is None, 10, interval=0.02,
                       what="the edge using both nodes")
    assert all(n.access_log_pods() for n in nodes)
    nodes[0].stop(timeout=5, signum=9)  # SIGKILL: no goodbye, the lease must run out
    killed_at = time.monotonic()
    harness.wait_until(lambda: not etcd.get_prefix("/registry/leases/kube-node-lease/node-1"),
                       10, what="node-1's lease expired")
    edge.wait_for_log(r"node node-1 lost its lease", timeout=5)
    time.sleep(0.3)
    assert time.monotonic() - killed_at < 3 + 5, "dropped within the lease TTL (and a bit)"
    before = len(edge.access_log_pods())
    results = [harness.http10_get(address).status for _ in range(20)]
    assert results == [200] * 20, results
    assert edge.access_log_pods()[before:] == ["node-2"] * 20, edge.access_log_pods()[before:]


if __name__ == "__main__":
    harness.main()
