#!/usr/bin/env python3
"""IPv6 and dual-stack ClusterIPs, end to end, inside a network namespace of this test's own.

serviceCIDR "127.96.0.0/12,fd00:10:96::/112" makes the cluster dual-stack (IPv4 primary).
The IPv6 range is made deliverable as the README says, with a local route on lo
(`ip -6 route add local fd00:10:96::/112 dev lo`); svcproxy binds its ClusterIPs there with
IPV6_FREEBIND, no address on any interface. One pod listens on IPv4, one on IPv6 (::1), so
both the listener side and the upstream side of the IPv6 path are crossed.

Root only (namespaces need CAP_SYS_ADMIN; skipped with the reason otherwise, as the other
topology tests). Without IPv6 inside the namespace the test fails: it is what is tested.
"""
import json
import os
import random
import subprocess

import harness
from harness import test
from netns_support import inside, require_root_and_netns

DUAL_CIDR = "127.96.0.0/12,fd00:10:96::/112"
V6_RANGE = "fd00:10:96::/112"
POD_PORT = 8080
ADMIN_PORT = 10249


def run(*argv):
    result = subprocess.run(argv, capture_output=True, timeout=10)
    assert result.returncode == 0, f"{argv}: {result.stderr.decode().strip()}"
    return result.stdout.decode()


class Namespace:
    """One namespace with lo up and the IPv6 service range routed locally on lo."""

    def __init__(self):
        self.name = f"spv6{os.getpid() % 10000}{random.randint(0, 99)}"

    def __enter__(self):
        run("ip", "netns", "add", self.name)
        try:
            run("ip", "-n", self.name, "link", "set", "lo", "up")
            # Fails loudly (not a skip) when the namespace has no IPv6.
            assert "inet6 ::1" in run("ip", "-n", self.name, "-6", "addr", "show", "dev", "lo"), \
                "no IPv6 on lo in the test namespace"
            run("ip", "-n", self.name, "-6", "route", "add", "local", V6_RANGE, "dev", "lo")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)

    def curl(self, url):
        """(status, X-Pod) of a GET from inside the namespace; -g: [v6] literals."""
        out = run("ip", "netns", "exec", self.name, "curl", "-sg", "--max-time", "5", "-D", "-",
                  "-o", "/dev/null", url)
        status = int(out.split()[1])
        pod = next((line.split(":", 1)[1].strip() for line in out.splitlines()
                    if line.lower().startswith("x-pod:")), None)
        return status, pod

    def get_json(self, url):
        return json.loads(run("ip", "netns", "exec", self.name, "curl", "-sg", "--max-time", "5",
                              url))


def url(ip, port, path="/"):
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:{port}{path}"


def config(service_cidr, services):
    pods = [harness.pod_doc("web-v4", "127.0.1.1", POD_PORT),
            harness.pod_doc("web-v6", "::1", POD_PORT)]
    return [harness.proxy_config_doc(ADMIN_PORT, workers=2, service_cidr=service_cidr),
            *services, *pods]


def start(env, ns, documents):
    for name, ip in (("web-v4", "127.0.1.1"), ("web-v6", "::1")):
        env.track(inside(ns.name, harness.PythonPod(name, ip, POD_PORT, env.workdir))).start()
    proxy = harness.Svcproxy(env.binary, env.workdir, documents)
    return env.track(inside(ns.name, proxy)).start()


def api_service(ns, name):
    return ns.get_json(f"http://127.0.0.1:{ADMIN_PORT}/api/v1/namespaces/default/services/{name}")


def pods_through(ns, ip, count=6):
    answers = [ns.curl(url(ip, 80)) for _ in range(count)]
    assert all(status == 200 for status, _ in answers), answers
    return {pod for _, pod in answers}


@test(timeout=90)
def dual_stack_service_answers_on_both_cluster_ips(env):
    require_root_and_netns()
    dual = harness.service_doc("web", 80, POD_PORT, ipFamilyPolicy="RequireDualStack")
    v6_only = harness.service_doc("web6", 80, POD_PORT, ipFamilies=["IPv6"])
    with Namespace() as ns:
        start(env, ns, config(DUAL_CIDR, [dual, v6_only]))
        spec = api_service(ns, "web")["spec"]
        assert spec["ipFamilyPolicy"] == "RequireDualStack", spec
        assert spec["ipFamilies"] == ["IPv4", "IPv6"], spec
        v4, v6 = spec["clusterIPs"]
        assert spec["clusterIP"] == v4 and v4.startswith("127."), spec
        assert v6.startswith("fd00:10:96::"), spec
        # Round-robin over an IPv4 and an IPv6 pod, through either ClusterIP.
        assert pods_through(ns, v4) == {"web-v4", "web-v6"}
        assert pods_through(ns, v6) == {"web-v4", "web-v6"}

        spec6 = api_service(ns, "web6")["spec"]
        assert spec6["ipFamilies"] == ["IPv6"] and spec6["ipFamilyPolicy"] == "SingleStack", spec6
        assert len(spec6["clusterIPs"]) == 1 and spec6["clusterIP"] == spec6["clusterIPs"][0]
        assert pods_through(ns, spec6["clusterIP"]) == {"web-v4", "web-v6"}


@test(timeout=90)
def explicit_ipv6_cluster_ip_is_honoured(env):
    require_root_and_netns()
    web = harness.service_doc("web", 80, POD_PORT, cluster_ip="fd00:10:96::80",
                              clusterIPs=["fd00:10:96::80", "127.96.0.80"],
                              ipFamilyPolicy="PreferDualStack")
    with Namespace() as ns:
        start(env, ns, config("fd00:10:96::/112,127.96.0.0/12", [web]))
        spec = api_service(ns, "web")["spec"]
        assert spec["clusterIPs"] == ["fd00:10:96::80", "127.96.0.80"], spec
        assert spec["ipFamilies"] == ["IPv6", "IPv4"], spec
        assert pods_through(ns, "fd00:10:96::80", 2) <= {"web-v4", "web-v6"}
        assert pods_through(ns, "127.96.0.80", 2) <= {"web-v4", "web-v6"}


@test(timeout=30)
def require_dual_stack_on_a_single_stack_cluster_is_rejected(env):
    documents = [harness.proxy_config_doc(ADMIN_PORT, service_cidr=V6_RANGE),
                 harness.service_doc("web", 80, POD_PORT, ipFamilyPolicy="RequireDualStack")]
    path = harness.write_yaml(os.path.join(env.workdir, "single.yaml"), documents)
    check = harness.run_binary(env.binary, ["--check", "--config", path])
    assert check.returncode == 1, check
    assert ('spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not '
            'configured for dual-stack services') in check.stdout + check.stderr, check


if __name__ == "__main__":
    harness.main()
