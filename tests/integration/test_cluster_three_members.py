#!/usr/bin/env python3
"""Cluster mode on a three-member etcd (issue 15): killing the leader under load costs no
client request, and changes still reach the node through the surviving members."""
import os
import time

import etcd_harness
import harness
from etcd_harness import start_node, svcproxy_apply
from harness import test


@test(timeout=150)
def killing_the_etcd_leader_under_load_loses_nothing_and_changes_still_propagate(env):
    etcd = etcd_harness.Etcd(env, members=3)
    pods = env.web_pods(2)
    node_port = harness.free_node_port(("127.0.2.1",))
    docs = [harness.service_doc("web", 80, pods[0].port, type="NodePort", node_port=node_port),
            *harness.pod_docs(pods)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 0, err
    node = start_node(env, etcd, harness.free_port(), "node-1", "127.0.2.1",
                      etcd={"requestTimeout": "2s"})
    address = ("127.0.2.1", node_port)
    harness.wait_until(lambda: set(harness.pods_answering(address, 4)) == {"web-1", "web-2"}, 10,
                       what="serving both pods")
    with harness.RequestStream(address) as stream:
        leader = etcd.leader()
        assert leader is not None
        etcd.kill(leader)
        harness.wait_until(lambda: etcd.leader() is not None, 15, interval=0.2,
                           what="a new etcd leader")
        time.sleep(1)
        since = len(node.log_text())
        only_one = harness.write_yaml(os.path.join(env.workdir, "web-2.yaml"),
                                      harness.pod_docs(pods[1:]))
        code, out, err = svcproxy_apply(env, etcd, [only_one], command="delete")
        assert code == 0 and "pod/web-2 deleted" in out, (out, err)
        node.wait_for_log(r"reload applied", timeout=15, since=since)
        harness.wait_until(lambda: set(harness.pods_answering(address, 4)) == {"web-1"}, 5,
                           what="web-2 gone after the leader change")
    assert stream.errors() == [], stream.errors()[:5]
    assert len(stream.results) > 50


if __name__ == "__main__":
    harness.main()
