#!/usr/bin/env python3
"""Cluster DNS (issue 19): with ProxyConfig `dns` svcproxy answers the Kubernetes DNS
specification's names from its configuration, over UDP and TCP, asked with dig: A of a
ClusterIP Service, SRV of a named port, NXDOMAIN for an unknown Service, REFUSED outside
the zone, CNAME of an ExternalName, PTR of a ClusterIP, a headless Service's endpoints.
A reload shows on the next query, and malformed datagrams (truncated, a compression loop,
QDCOUNT 50) get FORMERR or nothing while the server keeps answering."""
import re
import shutil
import signal
import socket
import struct
import subprocess

import harness
from harness import test

DIG = shutil.which("dig")


class Dig:
    def __init__(self, port):
        self.port = port

    def ask(self, name, rtype="A", tcp=False):
        """(status, flags, answer records as [name, ttl, class, type, data...])."""
        argv = [DIG, "@127.0.0.1", "-p", str(self.port), name, rtype, "+noall", "+comments",
                "+answer", "+tries=1", "+time=2"]
        if tcp:
            argv.append("+tcp")
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
        status = re.search(r"status: (\w+)", out)
        flags = re.search(r"flags: ([a-z ]*);", out)
        answers = [line.split() for line in out.splitlines()
                   if line.strip() and not line.startswith(";")]
        return (status.group(1) if status else out, flags.group(1).split() if flags else [],
                answers)


def dns_config(admin_port, dns_port, **extra):
    return harness.proxy_config_doc(
        admin_port, workers=1,
        dns={"address": f"127.0.0.1:{dns_port}", "domain": "cluster.local", "ttl": "7s"},
        **extra)


def documents(dns_port, web_ip, pod_port, extra=()):
    external = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "ext", "namespace": "default"},
                "spec": {"type": "ExternalName", "externalName": "www.example.com"}}
    db = harness.service_doc("db", 5432, pod_port, cluster_ip="None", selector={"app": "db"})
    pods = [harness.pod_doc("db-0", "127.0.1.40", pod_port, labels={"app": "db"}),
            harness.pod_doc("db-1", "127.0.1.41", pod_port, labels={"app": "db"})]
    return [dns_config(harness.free_port(), dns_port),
            harness.service_doc("web", 8080, pod_port, cluster_ip=web_ip),
            external, db, *pods, *extra]


def start(env):
    if not DIG:
        raise harness.Skip("dig is not installed (Debian dnsutils; scripts/install-deps.sh)")
    dns_port = harness.free_port()
    web_ip = harness.random_ip()
    docs = documents(dns_port, web_ip, harness.free_port())
    proxy = env.svcproxy(docs)
    proxy.wait_for_log(r"cluster DNS for cluster.local listening", timeout=5)
    return proxy, Dig(dns_port), web_ip, docs


@test(timeout=60)
def answers_the_specification_names(env):
    _, dig, web_ip, _ = start(env)
    status, flags, answers = dig.ask("web.default.svc.cluster.local")
    assert status == "NOERROR", status
    assert "aa" in flags and "ra" not in flags, flags
    assert [a[1] for a in answers] == ["7"] and answers[0][4] == web_ip, answers

    status, _, answers = dig.ask("_main._tcp.web.default.svc.cluster.local", "SRV")
    assert status == "NOERROR" and len(answers) == 1, (status, answers)
    assert answers[0][3] == "SRV" and answers[0][6] == "8080", answers
    assert answers[0][7] == "web.default.svc.cluster.local.", answers

    assert dig.ask("nothing.default.svc.cluster.local")[0] == "NXDOMAIN"
    assert dig.ask("web.nowhere.svc.cluster.local")[0] == "NXDOMAIN"
    status, _, answers = dig.ask("web.default.svc.cluster.local", "AAAA")
    assert status == "NOERROR" and not answers, (status, answers)  # NODATA
    status, flags, answers = dig.ask("example.com")
    assert status == "REFUSED" and not answers and "ra" not in flags, (status, flags)

    status, _, answers = dig.ask("ext.default.svc.cluster.local")
    assert status == "NOERROR", status
    assert answers[0][3] == "CNAME" and answers[0][4] == "www.example.com.", answers

    reverse = ".".join(reversed(web_ip.split("."))) + ".in-addr.arpa"
    status, _, answers = dig.ask(reverse, "PTR")
    assert status == "NOERROR", status
    assert answers[0][4] == "web.default.svc.cluster.local.", answers

    status, _, answers = dig.ask("db.default.svc.cluster.local")
    assert status == "NOERROR", status
    assert sorted(a[4] for a in answers) == ["127.0.1.40", "127.0.1.41"], answers
    status, _, answers = dig.ask("127-0-1-41.db.default.svc.cluster.local")
    assert [a[4] for a in answers] == ["127.0.1.41"], (status, answers)

    status, _, answers = dig.ask("dns-version.cluster.local", "TXT")
    assert answers and answers[0][4] == '"1.1.0"', answers

    status, _, answers = dig.ask("web.default.svc.cluster.local", tcp=True)
    assert status == "NOERROR" and answers[0][4] == web_ip, (status, answers)


@test(timeout=60)
def a_reload_shows_on_the_next_query(env):
    proxy, dig, _, docs = start(env)
    assert dig.ask("late.default.svc.cluster.local")[0] == "NXDOMAIN"
    late_ip = harness.random_ip()
    since = len(proxy.log_text())
    harness.write_yaml(proxy.config_path,
                       docs + [harness.service_doc("late", 80, 8080, cluster_ip=late_ip)])
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload applied", timeout=10, since=since)
    status, _, answers = dig.ask("late.default.svc.cluster.local")
    assert status == "NOERROR" and answers[0][4] == late_ip, (status, answers)


def malformed_datagrams():
    header = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    question = b"\x03web\x07default\x03svc\x07cluster\x05local\x00" + struct.pack(">HH", 1, 1)
    loop = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + b"\x01a\xc0\x0c" + \
        struct.pack(">HH", 1, 1)
    fifty = struct.pack(">HHHHHH", 0x4242, 0, 50, 0, 0, 0) + question
    return {"truncated": header + question[:9], "compression loop": loop,
            "QDCOUNT 50": fifty, "no header": b"\x42\x42\x01"}


@test(timeout=60)
def malformed_queries_are_formerr_or_dropped(env):
    proxy, dig, web_ip, _ = start(env)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for what, datagram in malformed_datagrams().items():
            s.sendto(datagram, ("127.0.0.1", dig.port))
            try:
                reply, _ = s.recvfrom(4096)
            except socket.timeout:
                assert what == "no header", f"{what}: no answer"
                continue
            assert what != "no header", "a message without a header was answered"
            assert reply[:2] == b"\x42\x42", (what, reply)
            assert reply[3] & 0x0F == 1, f"{what}: rcode {reply[3] & 0x0F}, not FORMERR"
    assert proxy.running()
    status, _, answers = dig.ask("web.default.svc.cluster.local")
    assert status == "NOERROR" and answers[0][4] == web_ip, (status, answers)


if __name__ == "__main__":
    harness.main()
