#!/usr/bin/env python3
"""kubectl against svcproxy's API (issue 16): the real kubectl binary, `--server` at the
admin listener, reads what svcproxy serves with its usual columns and output formats.
Skipped with the reason when kubectl is not installed (Debian: kubernetes-client,
scripts/install-deps.sh). kubectl's cache and config live in the test's own directory."""
import os
import re

import harness
from harness import Skip, test
from kubectl_support import KUBECTL, kubectl, table

def start(env):
    pods = env.web_pods(2)
    admin_port = harness.free_port()
    node_port = harness.free_node_port()
    docs = [harness.proxy_config_doc(admin_port, nodeName="node-1"),
            harness.service_doc("web", 80, pods[0].port, type="NodePort", node_port=node_port),
            harness.service_doc("api", 8080, pods[0].port, namespace="shop",
                                selector={"app": "api"}),
            *harness.pod_docs(pods)]
    docs[1]["metadata"]["labels"] = {"tier": "front"}
    for doc in docs[3:]:
        doc["spec"]["nodeName"] = "node-1"
    proxy = env.svcproxy(docs)
    return proxy, admin_port, pods, node_port


@test(timeout=90)
def kubectl_get_prints_services_with_their_allocated_addresses(env):
    proxy, admin_port, pods, node_port = start(env)
    _, out, err = kubectl(env, admin_port, "get", "svc")
    assert "couldn't get current server API group list" not in err, err
    names, rows = table(out)
    assert names == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], out
    [web] = rows  # the default namespace only
    assert web[:2] == ["web", "NodePort"] and web[3] == "<none>", out
    assert web[4] == f"80:{node_port}/TCP", out
    assert re.fullmatch(r"\d+s", web[5]), out  # created when svcproxy read it, seconds ago
    _, ip, _ = kubectl(env, admin_port, "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}")
    assert re.fullmatch(r"127\.\d+\.\d+\.\d+", ip), ip
    assert web[2] == ip

    # -A adds the NAMESPACE column; -o wide the selector; -n one namespace.
    _, out, _ = kubectl(env, admin_port, "get", "svc", "-A", "-o", "wide")
    names, rows = table(out)
    assert names[0] == "NAMESPACE" and names[-1] == "SELECTOR", out
    assert sorted((r[0], r[1]) for r in rows) == [("default", "web"), ("shop", "api")], out
    _, out, _ = kubectl(env, admin_port, "get", "svc", "-n", "shop")
    assert [r[0] for r in table(out)[1]] == ["api"], out
    # Selectors go to the server; -o yaml is the object itself.
    _, out, _ = kubectl(env, admin_port, "get", "svc", "-A", "-l", "tier=front")
    assert [r[1] for r in table(out)[1]] == ["web"], out
    _, out, _ = kubectl(env, admin_port, "get", "svc", "-A", "--field-selector",
                        "metadata.namespace=shop")
    assert [r[1] for r in table(out)[1]] == ["api"], out
    _, out, _ = kubectl(env, admin_port, "get", "svc", "web", "-o", "yaml")
    assert f"clusterIP: {ip}" in out and f"nodePort: {node_port}" in out, out
    code, out, err = kubectl(env, admin_port, "get", "svc", "nope", check=False)
    assert code == 1 and 'services "nope" not found' in err, (code, out, err)


@test(timeout=90)
def kubectl_reads_pods_endpoints_slices_and_describes_a_service(env):
    proxy, admin_port, pods, node_port = start(env)
    _, out, _ = kubectl(env, admin_port, "get", "pods", "-o", "wide")
    names, rows = table(out)
    assert names[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], out
    assert [(r[0], r[1], r[2], r[5], r[6]) for r in rows] == [
        (p.name, "1/1", "Running", p.ip, "node-1") for p in pods], out
    _, out, _ = kubectl(env, admin_port, "get", "endpoints", "web")
    names, [row] = table(out)
    assert names == ["NAME", "ENDPOINTS", "AGE"], out
    assert row[1] == ",".join(f"{p.ip}:{p.port}" for p in pods), out
    _, out, _ = kubectl(env, admin_port, "get", "endpointslices", "-l",
                        "kubernetes.io/service-name=web")
    names, [row] = table(out)
    assert names == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], out
    assert row[1:4] == ["IPv4", str(pods[0].port), ",".join(p.ip for p in pods)], out
    _, out, err = kubectl(env, admin_port, "describe", "svc", "web")
    assert re.search(r"Endpoints:\s+" + re.escape(f"{pods[0].ip}:{pods[0].port}"), out), out
    assert re.search(r"NodePort:\s+\S+\s+" + str(node_port) + "/TCP", out), out
    assert re.search(r"IP Families:\s+IPv4", out), out
    _, out, _ = kubectl(env, admin_port, "get", "nodes")
    names, [row] = table(out)
    assert names[:2] == ["NAME", "STATUS"] and row[:2] == ["node-1", "Ready"], out
    _, out, _ = kubectl(env, admin_port, "get", "namespaces")
    assert [r[0] for r in table(out)[1]] == ["default", "shop"], out
    _, out, _ = kubectl(env, admin_port, "get", "all")
    assert "service/web" in out and f"pod/{pods[0].name}" in out, out


@test(timeout=90)
def kubectl_get_watch_streams_endpoints_as_pods_turn_ready_and_not(env):
    if not KUBECTL:
        raise Skip("kubectl is not installed (Debian: kubernetes-client)")
    pods = env.web_pods(2)
    for pod in pods:
        open(os.path.join(pod.files, "ready"), "w").close()
    admin_port = harness.free_port()
    probe = harness.http_probe("/files/ready", period=1, failures=1, successes=1)
    docs = [harness.proxy_config_doc(admin_port),
            harness.service_doc("web", 80, pods[0].port),
            *harness.pod_docs(pods, readiness_probe=probe)]
    env.svcproxy(docs)
    both = ",".join(f"{p.ip}:{p.port}" for p in pods)
    harness.wait_until(lambda: table(kubectl(env, admin_port, "get", "ep", "web")[1])[1][0][1]
                       == both, 10, what="both pods ready")
    home = os.path.join(env.workdir, "kubectl-home")
    watch = harness.Process([KUBECTL, "--server", f"http://127.0.0.1:{admin_port}",
                             "--cache-dir", os.path.join(home, "cache"), "get", "endpoints",
                             "web", "-w"], os.path.join(env.workdir, "kubectl-watch.log"))
    env.track(watch).start()
    harness.wait_until(lambda: both in watch.log_text(), 10, what="the watch's first line")
    os.remove(os.path.join(pods[1].files, "ready"))
    one = f"{pods[0].ip}:{pods[0].port}"

    def rows():
        return [table(line)[0][1] for line in watch.log_text().splitlines()
                if line.startswith("web")]
    # A line for the change: the probe's period, then the watch's one-second look.
    harness.wait_until(lambda: one in rows(), 6, what="the watch printing web with one pod")
    open(os.path.join(pods[1].files, "ready"), "w").close()
    harness.wait_until(lambda: rows()[-1] == both and rows().index(one) < len(rows()) - 1, 6,
                       what="the watch printing web with both pods again")
    assert watch.running(), watch.log_text()  # a watch runs until its client leaves
    # The list, then one line per change: the watch started from the list's version.
    assert rows() == [both, one, both], watch.log_text()


@test(timeout=60)
def a_write_in_file_mode_is_refused_saying_the_files_are_the_source_of_truth(env):
    proxy, admin_port, pods, node_port = start(env)
    code, out, err = kubectl(env, admin_port, "delete", "svc", "web", check=False)
    assert code != 0 and "MethodNotAllowed" in err and "source of truth" in err, (out, err)
    assert harness.http10_get(("127.0.0.1", node_port)).status == 200
    _, out, _ = kubectl(env, admin_port, "get", "svc", "web", "-o", "name")
    assert out.strip() == "service/web", out


if __name__ == "__main__":
    harness.main()
