#!/usr/bin/env python3
"""The admin listener's Kubernetes-shaped API, health endpoints and HTTP manners: JSON in
the shape a Kubernetes client expects, 404 for unknown paths, 405 with Allow for other
methods, /readyz 200 when serving and 503 while draining."""
import http.client
import json
import signal
import socket
import time

import admin
import harness
from harness import test


def start(env, **proxy_spec):
    pods = env.web_pods(2)
    admin_port = harness.free_port()
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    node_port = harness.free_node_port()
    docs = [harness.proxy_config_doc(admin_port, drain="10s", **proxy_spec),
            harness.service_doc("web", port, pods[0].port, type="NodePort",
                                cluster_ip=cluster_ip, node_port=node_port),
            *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs)
    return proxy, admin_port, {"cluster_ip": cluster_ip, "port": port, "node_port": node_port,
                               "target": pods[0].port}


@test(timeout=60)
def service_list_has_kubernetes_shape(env):
    proxy, admin_port, expected = start(env)
    status, body = admin.get_json(admin_port, "/api/v1/services")
    assert status == 200 and body["kind"] == "ServiceList" and body["apiVersion"] == "v1", body
    [item] = body["items"]
    assert item["metadata"]["name"] == "web" and item["metadata"]["namespace"] == "default"
    spec = item["spec"]
    assert spec["type"] == "NodePort" and spec["clusterIP"] == expected["cluster_ip"], spec
    assert spec["clusterIPs"] == [expected["cluster_ip"]]
    [port] = spec["ports"]
    assert (port["port"], port["nodePort"], port["targetPort"], port["protocol"]) == \
        (expected["port"], expected["node_port"], expected["target"], "TCP"), port
    status, one = admin.get_json(admin_port, "/api/v1/namespaces/default/services/web")
    assert status == 200 and one["kind"] == "Service" and one["spec"] == spec
    status, other = admin.get_json(admin_port, "/api/v1/namespaces/elsewhere/services")
    assert status == 200 and other["items"] == []


@test(timeout=60)
def endpoints_list_has_kubernetes_shape(env):
    proxy, admin_port, expected = start(env)
    status, body = admin.get_json(admin_port, "/api/v1/endpoints")
    assert status == 200 and body["kind"] == "EndpointsList", body
    [item] = body["items"]
    assert (item["metadata"]["name"], item["metadata"]["namespace"]) == ("web", "default")
    assert item["metadata"]["creationTimestamp"].endswith("Z"), item["metadata"]
    [subset] = item["subsets"]
    assert "notReadyAddresses" not in subset, subset
    assert [a["ip"] for a in subset["addresses"]] == ["127.0.1.1", "127.0.1.2"]
    assert [a["targetRef"] for a in subset["addresses"]] == [
        {"kind": "Pod", "name": f"web-{i}", "namespace": "default"} for i in (1, 2)]
    assert all(a["conditions"] == {"ready": True, "serving": True, "terminating": False}
               for a in subset["addresses"])
    assert subset["ports"] == [{"name": "main", "port": expected["target"], "protocol": "TCP"}]
    status, one = admin.get_json(admin_port, "/api/v1/namespaces/default/endpoints/web")
    assert status == 200 and one["kind"] == "Endpoints" and one["subsets"] == item["subsets"]


def watch_lines(admin_port, query, timeout=10):
    """GET /api/v1/endpoints?QUERY (a watch) to its end: (seconds it took, its JSON lines)."""
    conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=timeout)
    started = time.monotonic()
    conn.request("GET", f"/api/v1/endpoints?{query}")
    reply = conn.getresponse()
    assert reply.status == 200 and reply.getheader("transfer-encoding") == "chunked", reply.status
    lines = [json.loads(line) for line in reply.read().decode().splitlines() if line]
    conn.close()
    return time.monotonic() - started, lines


@test(timeout=60)
def watches_start_from_a_list_version_end_on_time_and_refuse_a_stale_version(env):
    proxy, admin_port, expected = start(env)
    status, listed = admin.get_json(admin_port, "/api/v1/endpoints")
    version = listed["metadata"]["resourceVersion"]
    # From the list's version: nothing happened since, so nothing is sent; timeoutSeconds
    # ends it (with the chunked terminator: the client sees a clean end).
    took, lines = watch_lines(admin_port, f"watch=true&resourceVersion={version}&timeoutSeconds=2")
    assert lines == [] and 1.5 < took < 5, (took, lines)
    # From no version: every object ADDED first, as Kubernetes does.
    took, lines = watch_lines(admin_port, "watch=1&timeoutSeconds=1")
    assert [(l["type"], l["object"]["metadata"]["name"]) for l in lines] == [("ADDED", "web")]
    # From a version that is not the state any more: one ERROR event, 410 Expired.
    took, lines = watch_lines(admin_port, "watch=true&resourceVersion=12345")
    assert [(l["type"], l["object"]["code"], l["object"]["reason"]) for l in lines] == \
        [("ERROR", 410, "Expired")] and took < 2, (took, lines)


@test(timeout=60)
def unknown_paths_404_other_methods_405(env):
    proxy, admin_port, expected = start(env)
    address = admin.admin_address(admin_port)
    for path in ("/", "/nope", "/api/v1/secrets", "/api/v2/pods", "/apis/batch/v1/jobs"):
        assert harness.http_request(address, path=path).status == 404, path
    status, namespace = admin.get_json(admin_port, "/api/v1/namespaces/default")
    assert status == 200 and namespace["kind"] == "Namespace", namespace
    status, missing = admin.get_json(admin_port, "/api/v1/namespaces/default/services/nope")
    assert status == 404 and missing["kind"] == "Status" and missing["reason"] == "NotFound"
    for method in ("POST", "PUT", "DELETE"):
        reply = harness.http_request(address, method=method, path="/metrics", body=b"")
        assert reply.status == 405 and reply.headers["allow"] == "GET, HEAD", (method, reply)
    # On an API path, as the Kubernetes API refuses a verb: a Status kubectl can print.
    reply = harness.http_request(address, method="DELETE",
                                 path="/api/v1/namespaces/default/services/web", body=b"")
    assert reply.status == 405 and b'"kind":"Status"' in reply.body, reply
    # The admin port never proxies: a request for a pod's path is just a 404.
    assert b"web-" not in harness.http_request(address, path="/").body
    for path in ("/healthz", "/livez", "/readyz"):
        reply = harness.http_request(address, path=path)
        assert (reply.status, reply.body) == (200, b"ok\n"), (path, reply)


@test(timeout=60)
def oversized_request_is_refused(env):
    proxy, admin_port, expected = start(env)
    reply = harness.http_request(admin.admin_address(admin_port), path="/healthz",
                                 headers={"X-Big": "x" * 20000})
    assert reply.status == 431, reply


@test(timeout=60)
def admin_limits_come_from_the_proxy_config(env):
    """ProxyConfig spec.admin: a smaller body and head limit, and a shorter longest watch."""
    proxy, admin_port, expected = start(env, admin={
        "maxBodyBytes": 4096, "maxHeaderBytes": 2048, "maxWatchDuration": "2s"})
    address = admin.admin_address(admin_port)
    reply = harness.http_request(address, method="POST", path="/api/v1/namespaces/default/services",
                                 body=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert reply.status == 413, reply
    # Under the limit the request is read and answered (405: file mode writes nothing).
    reply = harness.http_request(address, method="POST", path="/api/v1/namespaces/default/services",
                                 body=b"{}", headers={"Content-Type": "application/json"})
    assert reply.status == 405, reply
    reply = harness.http_request(address, path="/healthz", headers={"X-Big": "x" * 3000})
    assert reply.status == 431, reply
    # timeoutSeconds asks for a minute; maxWatchDuration ends it after 2s.
    took, lines = watch_lines(admin_port, "watch=true&timeoutSeconds=60")
    assert 1.5 < took < 6, took


@test(timeout=60)
def readyz_is_503_while_draining(env):
    proxy, admin_port, expected = start(env)
    address = admin.admin_address(admin_port)
    assert harness.http_request(address, path="/readyz").status == 200
    # An open, idle client connection keeps the drain going while we look.
    with socket.create_connection(("127.0.0.1", expected["node_port"]), timeout=5):
        time.sleep(0.2)
        proxy.send_signal(signal.SIGTERM)
        proxy.wait_for_log("draining")
        reply = harness.http_request(address, path="/readyz")
        assert reply.status == 503 and b"draining" in reply.body, reply
        assert harness.http_request(address, path="/healthz").status == 200
    assert proxy.wait(timeout=15) == 0, proxy.log_text()


if __name__ == "__main__":
    harness.main()
