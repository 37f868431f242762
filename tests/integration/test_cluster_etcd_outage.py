#!/usr/bin/env python3
"""Cluster mode when etcd is away or has forgotten history (issue 15): a node keeps serving
its last state while etcd is paused (/readyz 200, /healthz and svcproxy_cluster_connected
say disconnected) and catches up when it is back; a delete that compaction removed from
etcd's history is still noticed, whether the node was watching at the time or had to
start its watch again from a revision etcd no longer has. Real etcd, nginx pods."""
import os
import signal
import time

import etcd_harness
from etcd_harness import (admin_status, admin_text, apply_ok, http_manifests, metric,
                          start_node, wait_serving)
import harness
from harness import test


@test(timeout=60)
def etcd_paused_under_load_loses_no_request_and_the_node_catches_up(env):
    etcd = etcd_harness.Etcd(env)
    pods = env.web_pods(2)
    node_port = harness.free_node_port(("127.0.2.1",))
    path = http_manifests(env, pods, node_port)
    apply_ok(env, etcd, path)
    admin_port = harness.free_port()
    node = start_node(env, etcd, admin_port, "node-1", "127.0.2.1",
                      etcd={"requestTimeout": "2s"})
    address = ("127.0.2.1", node_port)
    wait_serving(address, ["web-1", "web-2"])
    assert metric(admin_port, "svcproxy_cluster_connected") == 1
    with harness.RequestStream(address) as stream:
        etcd.pause()
        try:
            harness.wait_until(lambda: "disconnected" in admin_text(admin_port, "/healthz"), 8,
                               interval=0.2, what="/healthz saying disconnected")
            assert metric(admin_port, "svcproxy_cluster_connected") == 0
            assert admin_status(admin_port, "/readyz") == 200
            time.sleep(10)
            assert admin_status(admin_port, "/readyz") == 200
        finally:
            etcd.resume()
    assert stream.errors() == [], stream.errors()[:5]
    assert len(stream.results) > 100, len(stream.results)
    assert set(stream.pods_between(0)) == {"web-1", "web-2"}
    # A change made after etcd is back reaches the node within a few seconds.
    since = len(node.log_text())
    only_one = harness.write_yaml(os.path.join(env.workdir, "web-2.yaml"),
                                  harness.pod_docs(pods[1:]))
    apply_ok(env, etcd, only_one, command="delete")
    node.wait_for_log(r"reload applied", timeout=10, since=since)
    wait_serving(address, ["web-1"], timeout=5)
    harness.wait_until(lambda: metric(admin_port, "svcproxy_cluster_connected") == 1, 10,
                       what="svcproxy_cluster_connected 1 again")
    assert "disconnected" not in admin_text(admin_port, "/healthz")
    assert "reload rejected" not in node.log_text()


def two_services(env, etcd):
    """web and other, both http NodePorts over one pod, applied; the node serving both."""
    pods = env.web_pods(1)
    web_port = harness.free_node_port(("127.0.2.1",))
    other_port = web_port
    while other_port == web_port:
        other_port = harness.free_node_port(("127.0.2.1",))
    web = http_manifests(env, pods, web_port)
    other = http_manifests(env, pods, other_port, name="other")
    apply_ok(env, etcd, web)
    apply_ok(env, etcd, other)
    admin_port = harness.free_port()
    node = start_node(env, etcd, admin_port, "node-1", "127.0.2.1")
    wait_serving(("127.0.2.1", web_port), ["web-1"])
    wait_serving(("127.0.2.1", other_port), ["web-1"])
    return node, admin_port, (web, web_port), (other, other_port)


@test(timeout=60)
def compaction_right_after_a_delete_while_the_node_watches(env):
    etcd = etcd_harness.Etcd(env)
    node, admin_port, (web, web_port), (other, other_port) = two_services(env, etcd)
    with harness.RequestStream(("127.0.2.1", web_port)) as stream:
        time.sleep(0.3)
        deleted = apply_ok(env, etcd, other, command="delete")
        etcd.compact()
        harness.wait_until(lambda: not harness.can_connect("127.0.2.1", other_port), 3,
                           interval=0.05, what="the deleted Service's NodePort closed")
        print(f"  other's NodePort closed {time.time() - deleted:.2f}s after delete returned",
              flush=True)
        time.sleep(0.5)
    assert stream.errors() == [], stream.errors()[:5]
    assert set(stream.pods_between(0)) == {"web-1"}
    assert metric(admin_port, "svcproxy_cluster_connected") == 1
    # Later changes still arrive: the watch survived the compaction (or listed again).
    since = len(node.log_text())
    apply_ok(env, etcd, other)
    node.wait_for_log(r"reload applied", timeout=5, since=since)
    wait_serving(("127.0.2.1", other_port), ["web-1"], timeout=5)
    assert "reload rejected" not in node.log_text()


@test(timeout=60)
def a_watch_resumed_from_a_compacted_revision_lists_again(env):
    etcd = etcd_harness.Etcd(env)
    node, admin_port, (web, web_port), (other, other_port) = two_services(env, etcd)
    assert metric(admin_port, "svcproxy_cluster_relists_total", reason="compacted") in (None, 0)
    # The node is frozen while etcd restarts (its watch connection is gone), the Service is
    # deleted, more history follows, and compaction removes the delete from the history.
    # Thawed, the node must watch again from the revision after the last it saw, which
    # etcd has compacted away: only a new list can tell it that `other` is gone.
    node.send_signal(signal.SIGSTOP)
    try:
        etcd.restart(etcd.members[0])
        apply_ok(env, etcd, other, command="delete")
        apply_ok(env, etcd, web)  # unchanged: no write; a key of our own adds history
        etcd.put("/unrelated/key", "x")
        etcd.compact()
    finally:
        node.send_signal(signal.SIGCONT)
    with harness.RequestStream(("127.0.2.1", web_port)) as stream:
        harness.wait_until(lambda: not harness.can_connect("127.0.2.1", other_port), 15,
                           interval=0.1, what="the deleted Service's NodePort closed")
        time.sleep(0.3)
    assert stream.errors() == [], stream.errors()[:5]
    assert set(stream.pods_between(0)) == {"web-1"}
    harness.wait_until(lambda: metric(admin_port, "svcproxy_cluster_relists_total",
                                      reason="compacted") == 1, 5,
                       what="one relist for a compacted watch revision")
    assert node.log_lines(r"was compacted; listing again"), node.log_text()[-2000:]
    harness.wait_until(lambda: metric(admin_port, "svcproxy_cluster_connected") == 1, 10,
                       what="connected again")
    assert "reload rejected" not in node.log_text()


if __name__ == "__main__":
    harness.main()
