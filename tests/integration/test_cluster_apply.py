#!/usr/bin/env python3
"""Cluster mode, the writing side (issue 15): `svcproxy apply -f` validates like --check,
allocates ClusterIPs and NodePorts cluster-wide in etcd transactions and prints kubectl's
lines; `svcproxy delete -f` removes objects and frees their allocations. A real etcd."""
import concurrent.futures
import os

import etcd_harness
import harness
from etcd_harness import svcproxy_apply
from harness import test

PREFIX = "/registry"


def web_documents(port=80, target_port=8080, type="NodePort", name="web"):
    return [harness.service_doc(name, port, target_port, type=type, selector={"app": name}),
            harness.pod_doc(f"{name}-1", "127.0.1.1", target_port, labels={"app": name})]


@test(timeout=60)
def apply_creates_then_reports_unchanged_and_configured(env):
    etcd = etcd_harness.Etcd(env)
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), web_documents())
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 0, (out, err)
    assert out.splitlines() == ["service/web created", "pod/web-1 created"], out
    stored = etcd.get_json(f"{PREFIX}/services/specs/default/web")
    ip = stored["spec"]["clusterIP"]
    node_port = stored["spec"]["ports"][0]["nodePort"]
    assert stored["spec"]["clusterIPs"] == [ip]
    assert 30000 <= node_port <= 32767, stored
    assert stored["metadata"]["uid"] and stored["metadata"]["namespace"] == "default"
    ranges = etcd.get_prefix(f"{PREFIX}/ranges/")
    assert ranges == {f"{PREFIX}/ranges/serviceips/{ip}": "default/web",
                      f"{PREFIX}/ranges/servicenodeports/{node_port}": "default/web"}, ranges

    code, out, err = svcproxy_apply(env, etcd, [path])
    assert (code, out.splitlines()) == (0, ["service/web unchanged", "pod/web-1 unchanged"]), err

    harness.write_yaml(path, web_documents(target_port=8081))
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert (code, out.splitlines()) == (0, ["service/web configured", "pod/web-1 configured"]), err
    again = etcd.get_json(f"{PREFIX}/services/specs/default/web")
    # A change keeps what the Service was given.
    assert again["spec"]["clusterIP"] == ip and again["spec"]["ports"][0]["nodePort"] == node_port
    assert again["metadata"]["uid"] == stored["metadata"]["uid"]


@test(timeout=60)
def a_bad_file_stores_nothing_and_names_the_field(env):
    etcd = etcd_harness.Etcd(env)
    documents = web_documents()
    bad = harness.service_doc("broken", 80, 8080)
    bad["spec"]["ports"][0]["port"] = 70000
    path = harness.write_yaml(os.path.join(env.workdir, "mixed.yaml"), documents + [bad])
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 1, (out, err)
    assert out == "", out
    assert f"{path}:" in err and "spec.ports[0].port" in err, err
    assert etcd.get_prefix(f"{PREFIX}/") == {}, "a bad file must store nothing"


@test(timeout=60)
def an_explicit_node_port_held_by_another_service_is_refused_before_any_write(env):
    etcd = etcd_harness.Etcd(env)
    first = web_documents(name="one")
    path = harness.write_yaml(os.path.join(env.workdir, "one.yaml"), first)
    assert svcproxy_apply(env, etcd, [path])[0] == 0
    taken = etcd.get_json(f"{PREFIX}/services/specs/default/one")["spec"]["ports"][0]["nodePort"]
    second = web_documents(name="two")
    second[0]["spec"]["ports"][0]["nodePort"] = taken
    path = harness.write_yaml(os.path.join(env.workdir, "two.yaml"), second)
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 1, (out, err)
    assert "spec.ports[0].nodePort" in err and "default/one" in err, err
    assert etcd.get_json(f"{PREFIX}/services/specs/default/two") is None
    assert etcd.get_json(f"{PREFIX}/pods/default/two-1") is None


@test(timeout=60)
def delete_removes_objects_and_frees_their_allocations(env):
    etcd = etcd_harness.Etcd(env)
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), web_documents())
    assert svcproxy_apply(env, etcd, [path])[0] == 0
    code, out, err = svcproxy_apply(env, etcd, [path], command="delete")
    assert (code, out.splitlines()) == (0, ["service/web deleted", "pod/web-1 deleted"]), err
    assert etcd.get_prefix(f"{PREFIX}/") == {}
    code, out, err = svcproxy_apply(env, etcd, [path], command="delete")
    assert code == 1 and "service/web not found" in err, (out, err)
    code, out, err = svcproxy_apply(env, etcd, [path], command="delete",
                                    extra=["--ignore-not-found"])
    assert code == 0, err


@test(timeout=120)
def concurrent_applies_of_different_services_get_distinct_addresses(env):
    etcd = etcd_harness.Etcd(env)
    # A small pool makes collisions between the 20 writers likely, not just possible.
    config = harness.proxy_config_doc(harness.free_port(), service_cidr="127.96.0.0/27",
                                      nodePortRange="30000-30031")
    paths = [harness.write_yaml(os.path.join(env.workdir, f"svc-{i}.yaml"),
                                [config, harness.service_doc(f"svc-{i}", 80, 8080, type="NodePort")])
             for i in range(20)]
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda p: svcproxy_apply(env, etcd, [p]), paths))
    for code, out, err in results:
        assert code == 0, (out, err)
    services = [etcd.get_json(f"{PREFIX}/services/specs/default/svc-{i}") for i in range(20)]
    ips = {s["spec"]["clusterIP"] for s in services}
    node_ports = {s["spec"]["ports"][0]["nodePort"] for s in services}
    assert len(ips) == 20 and len(node_ports) == 20, (ips, node_ports)
    ranges = etcd.get_prefix(f"{PREFIX}/ranges/")
    assert len(ranges) == 40, ranges


if __name__ == "__main__":
    harness.main()
