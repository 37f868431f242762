#!/usr/bin/env python3
"""accessLog: JSON lines to a file, one per L4 connection, and SIGUSR1 reopens the file so
logrotate can move it away."""
import json
import os
import signal
import time

import harness
from harness import test


@test(timeout=60)
def json_access_log_to_file_reopened_on_sigusr1(env):
    pods = env.web_pods(1)
    path = os.path.join(env.workdir, "access.log")
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    docs = [harness.proxy_config_doc(harness.free_port(),
                                     accessLog={"format": "json", "path": path}),
            harness.service_doc("web", harness.free_port(cluster_ip), pods[0].port,
                                type="NodePort", cluster_ip=cluster_ip, node_port=node_port),
            *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs)
    address = ("127.0.0.1", node_port)

    def lines(file):
        try:
            with open(file) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    harness.pods_answering(address, 2)
    harness.wait_until(lambda: len(lines(path)) == 2, 5, what="two JSON access-log lines")
    first = lines(path)[0]
    service_port = docs[1]["spec"]["ports"][0]["port"]
    assert first["kind"] == "l4" and first["service"] == f"default/web:{service_port}", first
    assert first["pod"] == "default/web-1" and first["bytes_sent"] > 0, first
    assert "pod=" not in proxy.log_text(), "access lines still go to stderr"

    os.rename(path, path + ".1")  # what logrotate does
    proxy.send_signal(signal.SIGUSR1)
    harness.wait_until(lambda: os.path.exists(path), 5, what="access log reopened")
    harness.pods_answering(address, 1)
    harness.wait_until(lambda: len(lines(path)) == 1, 5, what="a line in the new file")
    assert len(lines(path + ".1")) == 2


@test(timeout=60)
def access_log_switched_off_writes_nothing(env):
    pods = env.web_pods(1)
    path = os.path.join(env.workdir, "access.log")
    l4_ip, l7_ip = harness.random_ip(), harness.random_ip()
    l4 = harness.service_doc("tcp", harness.free_port(l4_ip), pods[0].port, cluster_ip=l4_ip)
    l7 = harness.service_doc("web", harness.free_port(l7_ip), pods[0].port, cluster_ip=l7_ip)
    l7["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [harness.proxy_config_doc(harness.free_port(),
                                     accessLog={"enabled": False, "path": path}),
            l4, l7, *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs)
    for ip, service in ((l4_ip, l4), (l7_ip, l7)):
        assert all(harness.pods_answering((ip, service["spec"]["ports"][0]["port"]), 3))
    proxy.send_signal(signal.SIGUSR1)  # a reopen must not start logging either
    assert all(harness.pods_answering((l7_ip, l7["spec"]["ports"][0]["port"]), 2))
    time.sleep(0.5)  # lines are written at the end of an event-loop round
    assert not os.path.exists(path) or os.path.getsize(path) == 0, open(path).read()
    assert "pod=" not in proxy.log_text(), "access lines went to stderr"


if __name__ == "__main__":
    harness.main()
