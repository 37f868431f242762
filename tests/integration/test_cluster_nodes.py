#!/usr/bin/env python3
"""Cluster mode, the serving side (issue 15): nodes list and watch the state in etcd and
serve it through the hitless reload, register themselves (a Lease and a Node), and an edge
sends LoadBalancer traffic to the live registered nodes. Real etcd, nginx pods. (etcd
away or compacted: test_cluster_etcd_outage.py.)"""
import os
import time

import admin
import etcd_harness
import harness
from etcd_harness import KeepAliveStream, apply_ok, http_manifests, start_node, wait_serving
from harness import test


CHANGE_WITHIN = 1.0  # seconds from `apply` returning to every node routing by it


def streams_on(addresses):
    """A one-shot and a kept-alive request stream per address, started."""
    streams = []
    for address in addresses:
        streams += [harness.RequestStream(address), KeepAliveStream(address)]
    for stream in streams:
        stream.__enter__()
    return streams


def pods_of(streams, address, since):
    return [pod for stream in streams if stream.address == address
            for pod in stream.pods_between(since)]


@test(timeout=60)
def two_nodes_serve_what_apply_stored_and_follow_changes_under_load(env):
    etcd = etcd_harness.Etcd(env)
    ips = [f"127.0.1.{i}" for i in range(1, 5)]
    port = harness.free_port_on_all(ips)
    pods = [env.nginx_pod(f"web-{i}", ip, port) for i, ip in enumerate(ips, 1)]
    node_port = harness.free_node_port(("127.0.2.1", "127.0.2.2"))
    apply_ok(env, etcd, http_manifests(env, pods[:3], node_port))
    admins = [harness.free_port(), harness.free_port()]
    nodes = [start_node(env, etcd, admins[i], f"node-{i + 1}", f"127.0.2.{i + 1}")
             for i in range(2)]
    addresses = [(f"127.0.2.{i + 1}", node_port) for i in range(2)]
    for address in addresses:
        wait_serving(address, ["web-1", "web-2", "web-3"])
    for address in addresses:
        counts = harness.tally(harness.pods_answering(address, 30))
        assert counts == {"web-1": 10, "web-2": 10, "web-3": 10}, (address, counts)
    # Each node registered itself: a Lease on an etcd lease, and a Node with its address.
    leases = etcd.get_prefix("/registry/leases/kube-node-lease/")
    assert set(leases) == {f"/registry/leases/kube-node-lease/node-{i}" for i in (1, 2)}, leases
    for i in (1, 2):
        node = etcd.get_json(f"/registry/minions/node-{i}")
        assert node is not None, f"/registry/minions/node-{i} missing"
        assert {"type": "InternalIP", "address": f"127.0.2.{i}"} in \
            node["status"]["addresses"], node
    for admin_port in admins:
        text = admin.scrape(admin_port)
        assert admin.value(text, "svcproxy_cluster_connected") == 1
        assert admin.value(text, "svcproxy_cluster_relists_total", reason="initial") == 1

    # Under load on both nodes: add web-4, then remove web-1.
    streams = streams_on(addresses)
    try:
        time.sleep(0.5)
        added = apply_ok(env, etcd, harness.write_yaml(os.path.join(env.workdir, "web-4.yaml"),
                                                       harness.pod_docs(pods[3:])))
        # Per node, over both its streams: two clients in step on one round-robin can each
        # keep meeting the same half of the pods for a while.
        for address in addresses:
            harness.wait_until(lambda: "web-4" in pods_of(streams, address, added), 3,
                               interval=0.02, what=f"web-4 answering through {address}")
        removed = apply_ok(env, etcd, harness.write_yaml(os.path.join(env.workdir, "web-1.yaml"),
                                                         harness.pod_docs(pods[:1])),
                           command="delete")
        time.sleep(CHANGE_WITHIN + 0.7)
    finally:
        for stream in streams:
            stream.__exit__(None, None, None)
    for stream in streams:
        kind = type(stream).__name__
        assert stream.errors() == [], (kind, stream.address, stream.errors()[:5])
        assert getattr(stream, "reconnects", []) == [], (kind, stream.address, stream.reconnects)
        last_web1 = max(t for t, pod, _ in stream.results if pod == "web-1") - removed
        print(f"  {kind} {stream.address}: {len(stream.results)} requests, web-1 last sent "
              f"{last_web1:+.3f}s after the delete returned", flush=True)
        late = stream.pods_between(removed + CHANGE_WITHIN)
        assert late and "web-1" not in late, (kind, stream.address, harness.tally(late))
    for address in addresses:
        late = pods_of(streams, address, removed + CHANGE_WITHIN)
        assert set(late) == {"web-2", "web-3", "web-4"}, (address, harness.tally(late))
        mine = [r for stream in streams if stream.address == address for r in stream.results]
        first_web4 = min(t for t, pod, _ in mine if pod == "web-4") - added
        print(f"  {address}: web-4 first sent {first_web4:+.3f}s after apply returned",
              flush=True)
        assert first_web4 < CHANGE_WITHIN, (address, first_web4)
    for proxy in nodes:
        assert "reload rejected" not in proxy.log_text()


@test(timeout=60)
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
    apply_ok(env, etcd, path)
    nodes = [start_node(env, etcd, harness.free_port(), f"node-{i}", f"127.0.2.{i}",
                        etcd={"leaseTTL": "3s"}) for i in (1, 2)]
    edge = start_node(env, etcd, harness.free_port(), "edge", edge_ip, etcd={"edge": True})
    address = (edge_ip, lb_port)
    # Through both nodes' NodePorts: the edge's access log names the node it forwarded to.
    harness.wait_until(lambda: {"node-1", "node-2"} <= set(edge.access_log_pods()) or
                       harness.http10_get(address) is None, 10, interval=0.02,
                       what="the edge using both nodes")
    # Each node's own line for the request it carried (written after its answer went out).
    harness.wait_until(lambda: all(n.access_log_pods() for n in nodes), 5,
                       what="both nodes' access logs naming a pod")
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
    # An access-log line is written after its response went out: wait for the 20th.
    harness.wait_until(lambda: len(edge.access_log_pods()) >= before + 20, 5,
                       what="20 access-log lines on the edge")
    assert edge.access_log_pods()[before:] == ["node-2"] * 20, edge.access_log_pods()[before:]


if __name__ == "__main__":
    harness.main()
