#!/usr/bin/env python3
"""UDP Services (issue 19) as a client sees them: protocol UDP on ClusterIP and NodePort,
TCP and UDP on one port number of one Service, a session per client socket that keeps its
pod, replies from the Service address, large datagrams whole, a client that keeps its socket
while its pod is removed moves to another pod (kube-proxy's stale-conntrack blackhole), and a
Service without endpoints drops and counts."""
import signal
import socket
import time

import admin
import harness
from harness import test


def udp_pods(env, count=2):
    ips = [f"127.0.1.{i}" for i in range(1, count + 1)]
    port = harness.free_port_on_all(ips)
    pods = [env.track(harness.PythonPod(f"dns-{i}", ip, port, env.workdir, mode="udp")).start()
            for i, ip in enumerate(ips, 1)]
    return pods


def dns_like_service(port, target_port, cluster_ip, **spec):
    """Like kube-dns: one port number, UDP and TCP."""
    doc = harness.service_doc("dns", port, target_port, cluster_ip=cluster_ip, **spec)
    doc["spec"]["ports"] = [
        {"name": "dns", "protocol": "UDP", "port": port, "targetPort": target_port},
        {"name": "dns-tcp", "protocol": "TCP", "port": port, "targetPort": target_port}]
    return doc


def exchange(sock, address, payload, timeout=2):
    """One datagram out; the reply and where it came from, or (None, None)."""
    sock.settimeout(timeout)
    sock.sendto(payload, address)
    try:
        data, source = sock.recvfrom(70000)
        return data, source
    except socket.timeout:
        return None, None


def pod_of(reply):
    return reply.split(b":", 1)[0].decode() if reply else None


def client():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@test(timeout=60)
def udp_and_tcp_on_one_port_with_sessions_per_client(env):
    pods = udp_pods(env)
    admin_port = harness.free_port()
    port = harness.free_port()
    service = dns_like_service(port, pods[0].port, harness.random_ip())
    docs = [harness.proxy_config_doc(admin_port), service, *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs)
    address = (service["spec"]["clusterIP"], port)
    proxy.wait_for_log(rf"listening on {address[0]}:{port}/udp for default/dns:{port}/UDP")
    seen = set()
    clients = [client() for _ in range(4)]
    for sock in clients:
        first, source = exchange(sock, address, b"query-1")
        assert source == address, (source, address)  # the reply comes from the Service address
        assert first.endswith(b":query-1"), first
        for n in range(2, 5):
            reply, _ = exchange(sock, address, f"query-{n}".encode())
            assert pod_of(reply) == pod_of(first), (reply, first)  # one session, one pod
        seen.add(pod_of(first))
    assert seen == {"dns-1", "dns-2"}, seen
    # A datagram near the IPv4 maximum passes whole, both ways.
    large = bytes(range(256)) * 250
    reply, _ = exchange(clients[0], address, large)
    assert reply is not None and reply.split(b":", 1)[1] == large, len(reply or b"")
    # TCP on the same number reaches the same pods over HTTP.
    assert harness.http_request(address, timeout=5).headers["x-pod"] in {"dns-1", "dns-2"}
    _, services = admin.get_json(admin_port, "/api/v1/services")
    ports = next(s for s in services["items"] if s["metadata"]["name"] == "dns")["spec"]["ports"]
    assert [(p["name"], p["protocol"]) for p in ports] == [("dns", "UDP"), ("dns-tcp", "TCP")]
    text = admin.scrape(admin_port)
    assert admin.value(text, "svcproxy_udp_sessions") == 4, text
    assert admin.value(text, "svcproxy_udp_datagrams_total", direction="to_pods") == 17


@test(timeout=60)
def a_client_whose_pod_is_removed_moves_on_its_next_datagram(env):
    pods = udp_pods(env)
    admin_port = harness.free_port()
    port = harness.free_port()
    service = dns_like_service(port, pods[0].port, harness.random_ip())
    proxy = env.svcproxy([harness.proxy_config_doc(admin_port, drain="1s"), service,
                          *harness.pod_docs(pods)])
    address = (service["spec"]["clusterIP"], port)
    sock = client()
    before = pod_of(exchange(sock, address, b"a")[0])
    assert before in {"dns-1", "dns-2"}
    remaining = [p for p in pods if p.name != before]
    harness.write_yaml(proxy.config_path, [harness.proxy_config_doc(admin_port, drain="1s"),
                                           service, *harness.pod_docs(remaining)])
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log("reload applied", timeout=5)
    # The same socket, so the same session: kube-proxy's conntrack entry would still point
    # at the removed pod; here the next datagram reaches the one that is left.
    harness.wait_until(lambda: pod_of(exchange(sock, address, b"b", timeout=0.5)[0])
                       == remaining[0].name, timeout=5, what="the session moved")
    text = admin.scrape(admin_port)
    assert admin.value(text, "svcproxy_udp_sessions_ended_total", reason="moved") >= 1, text


@test(timeout=60)
def udp_node_port_and_a_service_without_endpoints(env):
    pods = udp_pods(env, 1)
    admin_port = harness.free_port()
    node_port = harness.free_node_port()
    service = harness.service_doc("echo", harness.free_port(), pods[0].port, type="NodePort",
                                  node_port=node_port)
    service["spec"]["ports"][0]["protocol"] = "UDP"
    empty = harness.service_doc("empty", harness.free_port(), pods[0].port,
                                cluster_ip=harness.random_ip(), selector={"app": "nothing"})
    empty["spec"]["ports"][0]["protocol"] = "UDP"
    env.svcproxy([harness.proxy_config_doc(admin_port, timeouts={"udpIdle": "1s"}), service,
                  empty, *harness.pod_docs(pods)])
    sock = client()
    reply, source = exchange(sock, ("127.0.0.1", node_port), b"via-node-port")
    assert reply == b"dns-1:via-node-port" and source == ("127.0.0.1", node_port), (reply, source)
    empty_address = (empty["spec"]["clusterIP"], empty["spec"]["ports"][0]["port"])
    assert exchange(sock, empty_address, b"nobody", timeout=1) == (None, None)
    text = admin.scrape(admin_port)
    assert admin.value(text, "svcproxy_udp_dropped_total", reason="no_endpoint") == 1, text
    # timeouts.udpIdle: the NodePort session ends after a second of silence.
    harness.wait_until(lambda: admin.value(admin.scrape(admin_port), "svcproxy_udp_sessions") == 0,
                       timeout=5, what="the idle session expired")
    assert admin.value(admin.scrape(admin_port), "svcproxy_udp_sessions_ended_total",
                       reason="expired") == 1


if __name__ == "__main__":
    harness.main()
