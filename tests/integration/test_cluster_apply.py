#!/usr/bin/env python3
"""Cluster mode, the writing side (issue 15): `svcproxy apply -f` validates like --check,
allocates ClusterIPs and NodePorts cluster-wide in etcd transactions and prints kubectl's
lines; `svcproxy delete -f` removes objects and frees their allocations. A real etcd."""
import concurrent.futures
import ipaddress
import os
import re
import time

import etcd_harness
import harness
import tls_support
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
    # FILE:LINE:COL of the bad value itself, as --check says it.
    line = next(n for n, text in enumerate(open(path), 1) if "70000" in text)
    where = re.search(rf"^{re.escape(path)}:(\d+):(\d+): Service \"broken\" is invalid: "
                      rf"spec\.ports\[0\]\.port: ", err, re.M)
    assert where and int(where.group(1)) == line, (line, err)
    # Nothing at all, not even the good Service and Pod that came before it.
    assert etcd.get_prefix("/") == {}, "a bad file must store nothing"


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


@test(timeout=60)
def a_directory_of_every_kind_under_another_prefix(env):
    etcd = etcd_harness.Etcd(env)
    manifests = os.path.join(env.workdir, "manifests")
    os.makedirs(manifests)
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                 "template": {"metadata": {"labels": {"app": "api"}},
                              "spec": {"containers": [{"name": "api", "ports": [
                                  {"name": "http", "containerPort": 8080}]}]}}}}
    secret = tls_support.secret_doc(
        "tls", *tls_support.make_certificate(env.workdir, "tls", ["web.example.com"]))
    # A ProxyConfig among the files sets the ranges and is itself never stored.
    config = harness.proxy_config_doc(harness.free_port(), service_cidr="127.99.0.0/24",
                                      nodePortRange="31000-31039")
    harness.write_yaml(os.path.join(manifests, "a-config.yaml"), [config])
    harness.write_yaml(os.path.join(manifests, "b-api.yaml"),
                       [harness.service_doc("api", 80, 8080, type="NodePort",
                                            selector={"app": "api"}), deployment])
    harness.write_yaml(os.path.join(manifests, "c-tls.yaml"), [secret])
    code, out, err = svcproxy_apply(env, etcd, [manifests], extra=["--prefix", "/custom"])
    assert code == 0, (out, err)
    assert sorted(out.splitlines()) == ["deployment.apps/api created", "secret/tls created",
                                        "service/api created"], out
    stored = etcd.get_prefix("/")
    assert all(key.startswith("/custom/") for key in stored), sorted(stored)
    assert {"/custom/services/specs/default/api", "/custom/deployments/default/api",
            "/custom/secrets/default/tls"} <= set(stored), sorted(stored)
    assert not [key for key in stored if "proxyconfig" in key.lower() or "/test" in key]
    service = etcd.get_json("/custom/services/specs/default/api")
    assert service["spec"]["clusterIP"].startswith("127.99.0."), service
    assert 31000 <= service["spec"]["ports"][0]["nodePort"] <= 31039, service
    code, out, err = svcproxy_apply(env, etcd, [manifests], extra=["--prefix", "/custom"])
    assert code == 0 and sorted(out.splitlines()) == [
        "deployment.apps/api unchanged", "secret/tls unchanged", "service/api unchanged"], (out, err)


@test(timeout=60)
def pools_smaller_than_the_reserved_band_still_allocate_inside_them(env):
    # Both pools keep a low band of 16 for explicit values (conf/allocation.hpp); a pool
    # smaller than that is all band, and what apply picks must still come from the pool,
    # as --check's allocation does for the same files.
    etcd = etcd_harness.Etcd(env)
    config = harness.proxy_config_doc(harness.free_port(), service_cidr="127.99.1.0/28",
                                      nodePortRange="31000-31009")
    services = [harness.service_doc(f"small-{i}", 80, 8080, type="NodePort") for i in range(3)]
    path = harness.write_yaml(os.path.join(env.workdir, "small.yaml"), [config, *services])
    check = harness.run_binary(env.binary, ["--check", "--config", path])
    assert check.returncode == 0, check
    code, out, err = svcproxy_apply(env, etcd, [path])
    assert code == 0, (out, err)
    for i in range(3):
        spec = etcd.get_json(f"{PREFIX}/services/specs/default/small-{i}")["spec"]
        ip, node_port = spec["clusterIP"], spec["ports"][0]["nodePort"]
        assert ipaddress.ip_address(ip) in ipaddress.ip_network("127.99.1.0/28"), \
            f"small-{i}: clusterIP {ip} outside serviceCIDR 127.99.1.0/28 (--check: {check.stdout})"
        assert 31000 <= node_port <= 31009, \
            f"small-{i}: nodePort {node_port} outside 31000-31009 (--check: {check.stdout})"


@test(timeout=30)
def usage_errors_exit_2_and_an_unreachable_etcd_exits_1(env):
    path = harness.write_yaml(os.path.join(env.workdir, "web.yaml"), web_documents())
    no_etcd = harness.run_binary(env.binary, ["apply", "-f", path])
    assert no_etcd.returncode == 2 and "--etcd" in no_etcd.stderr, no_etcd
    no_file = harness.run_binary(env.binary, ["apply", "--etcd", "http://127.0.0.1:1"])
    assert no_file.returncode == 2 and "-f" in no_file.stderr, no_file
    # Nothing listens there: refused at once, said on stderr, exit 1.
    closed = f"http://127.0.0.1:{harness.free_port()}"
    started = time.monotonic()
    refused = harness.run_binary(env.binary, ["apply", "-f", path, "--etcd", closed])
    assert refused.returncode == 1 and refused.stdout == "", refused
    assert closed in refused.stderr, refused.stderr
    assert time.monotonic() - started < 10


if __name__ == "__main__":
    harness.main()
