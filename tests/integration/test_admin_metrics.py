#!/usr/bin/env python3
"""/metrics: after N L4 connections through a Service the counters say exactly N (and the
bytes exactly what moved); promtool accepts a real scrape; reloads are counted."""
import signal
import subprocess

import admin
import harness
from harness import test

CONNECTIONS = 12
LABELS = {"namespace": "default", "service": "web", "port": None}


def start(env, pods=3):
    pods = env.web_pods(pods)
    admin_port = harness.free_port()
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    node_port = harness.free_node_port()
    docs = [harness.proxy_config_doc(admin_port),
            harness.service_doc("web", port, pods[0].port, type="NodePort",
                                cluster_ip=cluster_ip, node_port=node_port),
            *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs)
    return proxy, admin_port, ("127.0.0.1", node_port), dict(LABELS, port=port)


@test(timeout=60)
def counters_match_connections_exactly(env):
    proxy, admin_port, address, labels = start(env)
    request = f"GET / HTTP/1.0\r\nHost: {address[0]}\r\n\r\n".encode()
    received = sum(len(harness.tcp_exchange(address, request, half_close=False))
                   for _ in range(CONNECTIONS))

    def settled():  # sessions count their bytes and close when both sides are done
        text = admin.scrape(admin_port)
        return admin.value(text, "svcproxy_connections_active", **labels) == 0 and \
            admin.value(text, "svcproxy_bytes_total", direction="sent", **labels) == received
    harness.wait_until(settled, 5, what="every connection closed and counted")
    text = admin.scrape(admin_port)
    assert admin.value(text, "svcproxy_connections_total", **labels) == CONNECTIONS, text
    assert admin.value(text, "svcproxy_bytes_total", direction="received", **labels) == \
        CONNECTIONS * len(request), text
    assert admin.value(text, "svcproxy_upstream_connect_failures_total", reason="refused",
                       **labels) == 0
    assert admin.value(text, "svcproxy_endpoints", state="ready", **labels) == 3, text
    for pod in ("web-1", "web-2", "web-3"):
        assert admin.value(text, "svcproxy_endpoint_ready", pod=f"default/{pod}", **labels) == 1


@test(timeout=60)
def dead_pod_counts_a_connect_failure(env):
    proxy, admin_port, address, labels = start(env, pods=2)
    env.processes[0].stop()  # web-1: refuses from now on
    answered = harness.pods_answering(address, 4)
    assert answered == ["web-2"] * 4, answered
    # However many times the balancer tried web-1 first, each refusal is logged and counted.
    refused = proxy.log_text().count("connect to default/web-1")
    text = admin.scrape(admin_port)
    assert refused >= 1, proxy.log_text()
    assert admin.value(text, "svcproxy_upstream_connect_failures_total", reason="refused",
                       **labels) == refused, text
    assert admin.value(text, "svcproxy_upstream_connect_failures_total", reason="timeout",
                       **labels) == 0, text
    assert admin.value(text, "svcproxy_connections_total", **labels) == 4, text


@test(timeout=300)
def promtool_accepts_a_real_scrape(env):
    tool = admin.promtool()
    proxy, admin_port, address, labels = start(env)
    harness.pods_answering(address, 3)
    text = admin.scrape(admin_port)
    for family in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                   "process_open_fds", "process_start_time_seconds",
                   "svcproxy_config_last_reload_success_timestamp_seconds"):
        assert admin.value(text, family) is not None, f"{family} missing:\n{text}"
    checked = subprocess.run([tool, "check", "metrics"], input=text, text=True,
                             capture_output=True, timeout=30)
    assert checked.returncode == 0 and not checked.stdout.strip() and \
        not checked.stderr.strip(), f"{checked.stdout}{checked.stderr}\n{text}"


@test(timeout=60)
def reloads_are_counted_by_result(env):
    proxy, admin_port, address, labels = start(env)
    before = admin.value(admin.scrape(admin_port),
                         "svcproxy_config_last_reload_success_timestamp_seconds")
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log("reload applied")
    with open(proxy.config_path, "a") as f:
        f.write("---\nkind: Service\napiVersion: v1\nmetadata: {name: broken}\nspec: 7\n")
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log("reload rejected")
    text = admin.scrape(admin_port)
    assert admin.value(text, "svcproxy_config_reloads_total", result="success") == 1, text
    assert admin.value(text, "svcproxy_config_reloads_total", result="failure") == 1, text
    after = admin.value(text, "svcproxy_config_last_reload_success_timestamp_seconds")
    assert after >= before > 0, (before, after)


if __name__ == "__main__":
    harness.main()
