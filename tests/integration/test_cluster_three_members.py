#!/usr/bin/env python3
"""Cluster mode on a three-member etcd (issue 15): the node is connected to the raft
leader, and the leader is killed under load. No client request is lost, the node moves
to a surviving member, and changes applied through the survivors still reach it."""
import os
import time

import etcd_harness
import harness
from etcd_harness import KeepAliveStream, admin_text, start_node, svcproxy_apply
from harness import test


@test(timeout=60)
def killing_the_etcd_leader_under_load_loses_nothing_and_changes_still_propagate(env):
    etcd = etcd_harness.Etcd(env, members=3)
    pods = env.web_pods(3)
    node_port = harness.free_node_port(("127.0.2.1",))
    docs = [harness.service_doc("web", 80, pods[0].port, type="NodePort", node_port=node_port),
            *harness.pod_docs(pods)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 0, err
    harness.wait_until(lambda: etcd.leader() is not None, 10, what="an etcd leader")
    leader = etcd.leader()
    # The leader first in the node's list: the member it is connected to is the one killed.
    urls = [leader.client_url] + [url for url in etcd.urls if url != leader.client_url]
    admin_port = harness.free_port()
    node = start_node(env, etcd, admin_port, "node-1", "127.0.2.1", endpoints=urls,
                      etcd={"requestTimeout": "2s"})
    harness.wait_until(lambda: f"connected to {leader.client_url}" in
                       admin_text(admin_port, "/healthz"), 10,
                       what=f"node connected to the leader {leader.client_url}")
    address = ("127.0.2.1", node_port)
    harness.wait_until(lambda: set(harness.pods_answering(address, 6)) ==
                       {"web-1", "web-2", "web-3"}, 10, what="serving all three pods")
    with harness.RequestStream(address) as stream, KeepAliveStream(address) as kept:
        time.sleep(0.5)
        etcd.kill(leader)
        harness.wait_until(lambda: etcd.leader() is not None, 15, interval=0.2,
                           what="a new etcd leader")
        survivors = [m.client_url for m in etcd.alive()]
        harness.wait_until(lambda: any(f"connected to {url}" in admin_text(admin_port, "/healthz")
                                       for url in survivors), 15, interval=0.2,
                           what="the node connected to a surviving member")
        since = len(node.log_text())
        only_two = harness.write_yaml(os.path.join(env.workdir, "web-3.yaml"),
                                      harness.pod_docs(pods[2:]))
        code, out, err = svcproxy_apply(env, etcd, [only_two], command="delete",
                                        endpoints=survivors)
        assert code == 0 and "pod/web-3 deleted" in out, (out, err)
        node.wait_for_log(r"reload applied", timeout=10, since=since)
        harness.wait_until(lambda: set(harness.pods_answering(address, 6)) == {"web-1", "web-2"},
                           5, what="web-3 gone after the leader change")
        # The dead member still first in the list: apply moves past it.
        code, out, err = svcproxy_apply(env, etcd, [path], endpoints=urls)
        assert code == 0 and "pod/web-3 created" in out, (out, err)
        harness.wait_until(lambda: set(harness.pods_answering(address, 6)) ==
                           {"web-1", "web-2", "web-3"}, 5, what="web-3 back")
        time.sleep(0.3)
    for s in (stream, kept):
        assert s.errors() == [], (type(s).__name__, s.errors()[:5])
    assert kept.reconnects == [], kept.reconnects
    assert len(stream.results) > 50, len(stream.results)
    assert "reload rejected" not in node.log_text()


if __name__ == "__main__":
    harness.main()
