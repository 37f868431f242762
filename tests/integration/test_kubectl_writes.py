#!/usr/bin/env python3
"""kubectl writes to a cluster-mode node (issue 16): apply (client-side and --server-side),
create, replace with a stale resourceVersion, scale and delete go through the node's API
into etcd, with `svcproxy apply`'s validation and allocation, and the node then serves what
was written. A bad manifest is refused with the field path; with apiTokenFile set a write
without the token is 401 and stores nothing. The real kubectl and a real etcd; skipped with
the reason when either is missing."""
import copy
import json
import os
import re

import yaml

import etcd_harness
import harness
from harness import test
from kubectl_support import kubectl

PREFIX = "/registry"


def manifests(env, pods, node_port):
    service = harness.service_doc("web", 80, pods[0].port, type="NodePort", node_port=node_port)
    service["spec"]["ports"][0]["appProtocol"] = "http"
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "web", "namespace": "default"},
                  "spec": {"replicas": len(pods), "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{
                                            "name": "nginx",
                                            "ports": [{"name": "http",
                                                       "containerPort": pods[0].port}]}]}}}}
    docs = [service, deployment] + harness.pod_docs(pods)
    return harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)


def start(env, **spec):
    etcd_harness.require_etcd()
    etcd = etcd_harness.Etcd(env)
    admin_port = harness.free_port()
    node = etcd_harness.start_node(env, etcd, admin_port, "node-1", "127.0.0.1", **spec)
    return etcd, admin_port, node


def start_with_manifests(env, pod_count):
    """A node with `pod_count` nginx pods and the manifests for them (not applied yet)."""
    pods = env.web_pods(pod_count)
    etcd, admin_port, node = start(env)
    node_port = harness.free_node_port()
    return pods, etcd, admin_port, node, node_port, manifests(env, pods, node_port)


def serving(address, pods):
    etcd_harness.wait_serving(address, [p.name for p in pods], timeout=10)


@test(timeout=120)
def kubectl_apply_writes_through_the_node_and_the_node_serves_it(env):
    pods, etcd, admin_port, node, node_port, path = start_with_manifests(env, 2)

    _, out, err = kubectl(env, admin_port, "apply", "-f", path)
    assert out.splitlines() == ["service/web created", "deployment.apps/web created",
                                "pod/web-1 created", "pod/web-2 created"], (out, err)
    stored = etcd.get_json(f"{PREFIX}/services/specs/default/web")
    ip = stored["spec"]["clusterIP"]
    assert stored["spec"]["ports"][0]["nodePort"] == node_port, stored
    assert etcd.get_prefix(f"{PREFIX}/ranges/serviceips/") == {
        f"{PREFIX}/ranges/serviceips/{ip}": "default/web"}
    # kubectl keeps what it applied on the object, for its next three-way patch.
    assert "kubectl.kubernetes.io/last-applied-configuration" in stored["metadata"]["annotations"]
    serving(("127.0.0.1", node_port), pods)

    # The object's resourceVersion is its etcd revision: what a PUT must send back.
    _, shown, _ = kubectl(env, admin_port, "get", "svc", "web", "-o", "json")
    shown = json.loads(shown)
    assert int(shown["metadata"]["resourceVersion"]) > 0, shown["metadata"]

    # The same file again changes nothing; a changed field is a patch of that field only,
    # keeping the allocated ClusterIP and NodePort.
    _, out, err = kubectl(env, admin_port, "apply", "-f", path)
    assert "service/web unchanged" in out.splitlines(), (out, err)
    docs = _documents(path)
    docs[0]["spec"]["publishNotReadyAddresses"] = True
    docs[0]["metadata"]["labels"] = {"tier": "front"}
    harness.write_yaml(path, docs)
    _, out, err = kubectl(env, admin_port, "apply", "-f", path)
    assert "service/web configured" in out.splitlines(), (out, err)
    again = etcd.get_json(f"{PREFIX}/services/specs/default/web")
    assert again["spec"]["publishNotReadyAddresses"] is True, again
    assert again["spec"]["clusterIP"] == ip and again["spec"]["ports"][0]["nodePort"] == node_port
    assert again["metadata"]["uid"] == stored["metadata"]["uid"]
    harness.wait_until(lambda: "web" in kubectl(env, admin_port, "get", "svc", "-l",
                                                  "tier=front")[1], 10,
                       what="the node showing the patched Service")
    serving(("127.0.0.1", node_port), pods)
    assert re.search(r"api: PATCH /api/v1/namespaces/default/services/web\?\S* -> 200",
                     node.log_text()), "every write is logged"

    _, out, err = kubectl(env, admin_port, "delete", "-f", path)
    assert 'service "web" deleted' in out, (out, err)
    assert etcd.get_prefix(f"{PREFIX}/services/") == {}
    assert etcd.get_prefix(f"{PREFIX}/ranges/") == {}, "a deleted Service frees its addresses"
    harness.wait_until(lambda: not harness.can_connect("127.0.0.1", node_port), 10,
                       what="the NodePort closed after the delete")


def _documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


@test(timeout=120)
def create_conflicts_replace_and_server_side_apply_answer_as_kubernetes_does(env):
    pods, etcd, admin_port, _, node_port, path = start_with_manifests(env, 1)

    _, out, err = kubectl(env, admin_port, "create", "-f", path)
    assert "service/web created" in out, (out, err)
    code, out, err = kubectl(env, admin_port, "create", "-f", path, check=False)
    assert code != 0 and 'services "web" already exists' in err, (out, err)

    # kubectl edit's PUT: with the resourceVersion it read, it lands; with an older one
    # it is a 409 Conflict and nothing changes.
    _, shown, _ = kubectl(env, admin_port, "get", "svc", "web", "-o", "json")
    current = json.loads(shown)
    stale = copy.deepcopy(current)
    current["metadata"].setdefault("labels", {})["edited"] = "yes"
    edited = os.path.join(env.workdir, "edited.json")
    with open(edited, "w") as f:
        json.dump(current, f)
    _, out, err = kubectl(env, admin_port, "replace", "-f", edited)
    assert "service/web replaced" in out, (out, err)
    assert etcd.get_json(f"{PREFIX}/services/specs/default/web")["metadata"]["labels"] == {
        "edited": "yes"}
    stale["metadata"].setdefault("labels", {})["edited"] = "stale"
    with open(edited, "w") as f:
        json.dump(stale, f)
    code, out, err = kubectl(env, admin_port, "replace", "-f", edited, check=False)
    assert code != 0 and "the object has been modified" in err, (out, err)
    assert etcd.get_json(f"{PREFIX}/services/specs/default/web")["metadata"]["labels"] == {
        "edited": "yes"}

    # Server-side apply: the applied object replaces the stored one, allocations kept.
    ip = etcd.get_json(f"{PREFIX}/services/specs/default/web")["spec"]["clusterIP"]
    _, out, err = kubectl(env, admin_port, "apply", "--server-side", "-f", path)
    assert "service/web serverside-applied" in out, (out, err)
    stored = etcd.get_json(f"{PREFIX}/services/specs/default/web")
    assert stored["spec"]["clusterIP"] == ip and "labels" not in stored["metadata"], stored

    # kubectl scale: spec.replicas is stored, and svcproxy says what it means here.
    _, out, err = kubectl(env, admin_port, "scale", "deployment", "web", "--replicas=3")
    assert "deployment.apps/web scaled" in out, (out, err)
    assert "svcproxy runs no pods" in err, err
    deployment = etcd.get_json(f"{PREFIX}/deployments/default/web")
    assert deployment["spec"]["replicas"] == 3, deployment


@test(timeout=120)
def a_bad_manifest_is_refused_with_its_field_path_and_stores_nothing(env):
    pods = env.web_pods(1)
    etcd, admin_port, _ = start(env)
    bad = harness.service_doc("broken", 70000, pods[0].port)
    path = harness.write_yaml(os.path.join(env.workdir, "bad.yaml"), [bad])
    code, out, err = kubectl(env, admin_port, "apply", "-f", path, check=False)
    assert code != 0, (out, err)
    assert re.search(r'Service "broken" is invalid: .*spec\.ports\[0\]\.port', err), err
    assert etcd.get_prefix(f"{PREFIX}/services/") == {}

    # A clusterIP another Service holds: refused at the field, as Kubernetes does.
    one = harness.service_doc("one", 80, pods[0].port)
    path = harness.write_yaml(os.path.join(env.workdir, "one.yaml"), [one])
    kubectl(env, admin_port, "apply", "-f", path)
    taken = etcd.get_json(f"{PREFIX}/services/specs/default/one")["spec"]["clusterIP"]
    two = harness.service_doc("two", 80, pods[0].port, cluster_ip=taken)
    path = harness.write_yaml(os.path.join(env.workdir, "two.yaml"), [two])
    code, out, err = kubectl(env, admin_port, "apply", "-f", path, check=False)
    assert code != 0 and "spec.clusterIP" in err and "default/one" in err, (out, err)
    assert f"{PREFIX}/services/specs/default/two" not in etcd.get_prefix(f"{PREFIX}/services/")


def post_service(port, token=None, name="web"):
    """POST a Service to the API on `port` (kubectl sends a token only over TLS, so the
    token is checked with a plain client here); the response's status and body."""
    body = json.dumps(harness.service_doc(name, 80, 8080)).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    reply = harness.http_request(("127.0.0.1", port), method="POST",
                                 path="/api/v1/namespaces/default/services", body=body,
                                 headers=headers)
    return reply.status, json.loads(reply.body or b"{}")


@test(timeout=120)
def with_an_api_token_a_write_without_it_is_401_and_stores_nothing(env):
    token_file = os.path.join(env.workdir, "api-token")
    with open(token_file, "w") as f:
        f.write("s3cret-token\n")
    api_port = harness.free_port()
    pods = env.web_pods(1)
    etcd, admin_port, node = start(env, apiAddress=f"127.0.0.1:{api_port}",
                                   apiTokenFile=token_file)
    path = manifests(env, pods, harness.free_node_port())

    # kubectl without a token: refused, nothing stored.
    code, out, err = kubectl(env, api_port, "apply", "-f", path, check=False)
    assert code != 0 and "Unauthorized" in err, (out, err)
    assert etcd.get_prefix(f"{PREFIX}/services/") == {}
    for token in (None, "wrong", "s3cret-token-but-longer", ""):
        status, body = post_service(api_port, token)
        assert status == 401 and body.get("reason") == "Unauthorized", (token, status, body)
    assert etcd.get_prefix(f"{PREFIX}/services/") == {}
    assert "refused: unauthorized" in node.log_text()
    # Reads need no token; the right token writes (the trailing newline of the file is not
    # part of it), on the apiAddress listener and on the admin one alike.
    kubectl(env, api_port, "get", "svc")
    status, body = post_service(api_port, "s3cret-token")
    assert status == 201, body
    assert etcd.get_json(f"{PREFIX}/services/specs/default/web")["spec"]["clusterIP"]
    assert post_service(admin_port, name="other")[0] == 401
    assert post_service(admin_port, "s3cret-token", name="other")[0] == 201


@test(timeout=120)
def off_loopback_without_a_token_file_every_write_is_401(env):
    # Bound to every address (reached here over loopback, as any client would be reached):
    # with no apiTokenFile nothing can write there, while the loopback admin listener can.
    api_port = harness.free_port("0.0.0.0")
    etcd, admin_port, node = start(env, apiAddress=f"0.0.0.0:{api_port}")
    status, body = post_service(api_port)
    assert status == 401 and "apiTokenFile" in body["message"], body
    assert post_service(api_port, "anything")[0] == 401
    assert etcd.get_prefix(f"{PREFIX}/services/") == {}
    assert post_service(admin_port)[0] == 201
    # Reads need no token there; the node shows the Service once its watch delivers it.
    harness.wait_until(lambda: b'"name":"web"' in harness.http_request(
        ("127.0.0.1", api_port), path="/api/v1/services").body, 10,
        what="the written Service listed on the apiAddress listener")


if __name__ == "__main__":
    harness.main()
