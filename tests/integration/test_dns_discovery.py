#!/usr/bin/env python3
"""DNS discovery against a real DNS server: dnsmasq on 127.0.0.1 and a free port, serving a
hosts file the test rewrites and reloads with SIGHUP. A Deployment annotated
svcproxy.io/dns follows the name while traffic flows through an L4 Service:

- the name served with 3, then 5, then 2 addresses: no failed request, every pod that
  exists receives traffic within refresh + 1 s, a removed pod receives none after that;
- the DNS server stopped for 10 s: traffic continues to the last good set;
- a name that does not resolve at start: svcproxy starts, closes connections at once (no
  endpoint), and serves once the name appears.

Never asks a real DNS server: dnsServers always points at our dnsmasq.
"""
import os
import shutil
import signal
import threading
import time

import admin
import harness
from harness import test

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
NAME = "web.svcproxy.test"  # a dot: tried as is, before any resolv.conf search domain
REFRESH = 1.0  # seconds; svcproxy.io/dns-refresh
WITHIN = REFRESH + 1.0  # the bound for a change to reach traffic
SETTLE = 0.5  # margin for requests already in flight when the bound passes


class DnsServer(harness.Process):
    """dnsmasq answering NAME from a hosts file; NXDOMAIN for other *.svcproxy.test."""

    def __init__(self, workdir, port):
        self.dir = os.path.join(workdir, "dnsmasq")
        os.makedirs(self.dir, exist_ok=True)
        self.hosts = os.path.join(self.dir, "hosts")
        self.port = port
        self.serve([])
        super().__init__([DNSMASQ, "--no-daemon", f"--port={port}",
                          "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                          "--no-hosts", f"--addn-hosts={self.hosts}", "--local=/svcproxy.test/",
                          "--local-ttl=1", "--log-queries",
                          f"--pid-file={os.path.join(self.dir, 'dnsmasq.pid')}"],
                         os.path.join(self.dir, "dnsmasq.log"))

    def serve(self, ips):
        """Rewrite the hosts file (atomically); reload() makes dnsmasq read it."""
        temporary = self.hosts + ".tmp"
        with open(temporary, "w") as f:
            f.writelines(f"{ip} {NAME}\n" for ip in ips)
        os.replace(temporary, self.hosts)

    def reload(self):
        since = len(self.log_text())
        self.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: "read " + self.hosts in self.log_text()[since:], 5,
                           what="dnsmasq re-reading its hosts file")

    def start(self, timeout=5):
        super().start()
        harness.wait_until(lambda: "read " + self.hosts in self.log_text() or not self.running(),
                           timeout, what="dnsmasq started")
        if not self.running():
            raise RuntimeError(f"dnsmasq exited:\n{self.log_text()}")
        return self


class Traffic:
    """Clients sending one HTTP/1.0 GET per connection through the Service until stopped;
    records (start time, pod or None) and every failure."""

    def __init__(self, address, clients=2):
        self.address = address
        self.results = []
        self.failures = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def run(self):
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                response = harness.http10_get(self.address, timeout=5)
                pod = response.headers.get("x-pod") if response.status == 200 else None
                outcome = pod or f"status {response.status}"
            except Exception as error:  # noqa: BLE001  (every failure is recorded)
                pod, outcome = None, repr(error)
            with self.lock:
                self.results.append((started, pod))
                if pod is None:
                    self.failures.append((started, outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)

    def pods_since(self, since):
        with self.lock:
            return {pod for started, pod in self.results if started >= since and pod}

    def wait_for_pods(self, expected, since, timeout):
        harness.wait_until(lambda: expected <= self.pods_since(since), timeout,
                           what=f"traffic to every pod of {sorted(expected)}")


def start(env, ips_at_start, pod_count, drain="10s"):
    pods = env.web_pods(pod_count)
    dns = env.track(DnsServer(env.workdir, harness.free_port()))
    dns.serve(ips_at_start)
    dns.start()
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {
            "svcproxy.io/dns": NAME, "svcproxy.io/dns-refresh": f"{int(REFRESH * 1000)}ms"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "ports": [
                                  {"name": "http", "containerPort": pods[0].port}]}]}}}}
    admin_port = harness.free_port()
    docs = [harness.proxy_config_doc(admin_port, drain=drain,
                                     dnsServers=[f"127.0.0.1:{dns.port}"]),
            harness.service_doc("web", port, pods[0].port, cluster_ip=cluster_ip), deployment]
    proxy = env.svcproxy(docs)
    proxy.admin_port = admin_port
    if ips_at_start:
        # "ready" comes before the first answer: traffic before it finds no endpoint.
        proxy.wait_for_log(rf"deployment default/web: {len(ips_at_start)}/3 pods resolved",
                           timeout=WITHIN)
    by_ip = {pod.ip: pod.name for pod in pods}
    return dns, proxy, (cluster_ip, port), by_ip


def assert_closed_at_once(address):
    """L4 with no endpoint: the connection is closed (or reset) without an answer."""
    try:
        raw = harness.tcp_exchange(address, b"GET / HTTP/1.0\r\n\r\n", timeout=5)
    except OSError:  # reset, or already closed when we half-close
        raw = b""
    assert raw == b"", raw[:200]


def names(by_ip, ips):
    return {by_ip[ip] for ip in ips}


@test(timeout=90)
def scale_3_5_2_reaches_every_pod(env):
    steps = [["127.0.1.1", "127.0.1.2", "127.0.1.3"],
             ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.1.5"],
             ["127.0.1.4", "127.0.1.5"]]
    dns, proxy, address, by_ip = start(env, steps[0], 5)
    with Traffic(address) as traffic:
        traffic.wait_for_pods(names(by_ip, steps[0]), 0, WITHIN + 5)  # includes start-up
        for ips in steps[1:]:
            changed = time.monotonic()
            dns.serve(ips)
            dns.reload()
            traffic.wait_for_pods(names(by_ip, ips), changed, WITHIN)
            time.sleep(WITHIN + SETTLE - (time.monotonic() - changed))
            settled = time.monotonic()
            time.sleep(1.0)
            assert traffic.pods_since(settled) == names(by_ip, ips), \
                (sorted(traffic.pods_since(settled)), ips)
    assert not traffic.failures, traffic.failures[:5]
    assert len(traffic.results) > 100, len(traffic.results)
    proxy.wait_for_log(r"deployment default/web: 2/3 pods resolved")


@test(timeout=90)
def dns_server_down_keeps_the_last_good_set(env):
    ips = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
    dns, proxy, address, by_ip = start(env, ips, 3)
    with Traffic(address) as traffic:
        traffic.wait_for_pods(names(by_ip, ips), 0, WITHIN + 5)
        since = len(proxy.log_text())
        assert dns.stop(timeout=5) == 0
        stopped = time.monotonic()
        proxy.wait_for_log(r"dns: .*(timeout|servfail)", timeout=5, since=since)
        time.sleep(10 - (time.monotonic() - stopped))
        assert traffic.pods_since(stopped + 2 * WITHIN) == names(by_ip, ips)
        # Back up, the same answer: still the same pods, nothing lost.
        dns.popen = None
        dns.start()
        back = time.monotonic()
        time.sleep(WITHIN + SETTLE)
        assert traffic.pods_since(back) == names(by_ip, ips)
    assert not traffic.failures, traffic.failures[:5]


@test(timeout=60)
def name_that_resolves_later(env):
    dns, proxy, address, by_ip = start(env, [], 2)
    proxy.wait_for_log(r"dns: .*nxdomain")
    proxy.wait_for_log(r"deployment default/web: 0/3 pods resolved")
    assert_closed_at_once(address)
    ips = ["127.0.1.1", "127.0.1.2"]
    dns.serve(ips)
    dns.reload()
    appeared = time.monotonic()
    with Traffic(address) as traffic:
        traffic.wait_for_pods(names(by_ip, ips), appeared, WITHIN + SETTLE)
    assert proxy.running()
    metrics = admin.scrape(proxy.admin_port)
    for result in ("nxdomain", "success"):
        count = admin.value(metrics, "svcproxy_dns_resolutions_total", result=result)
        assert count and count >= 1, (result, count)


@test(timeout=60)
def nxdomain_twice_empties_the_set(env):
    ips = ["127.0.1.1", "127.0.1.2"]
    grace_s = 2  # timeouts.drain: how long removed pods stay terminating
    dns, proxy, address, by_ip = start(env, ips, 2, drain=f"{grace_s}s")
    assert set(harness.pods_answering(address, 4)) == names(by_ip, ips)
    since = len(proxy.log_text())
    dns.serve([])
    dns.reload()
    # The first NXDOMAIN keeps the set; the second, a refresh later, empties it.
    proxy.wait_for_log(r"dns: .*nxdomain; keeping the last 2 addresses", timeout=WITHIN,
                       since=since)
    proxy.wait_for_log(r"dns: .*0 addresses", timeout=WITHIN + SETTLE, since=since)
    emptied = time.monotonic()
    # Kubernetes' terminating-endpoint rule: with no other endpoint, the removed pods still
    # serve until their grace ends; then the service has nothing and closes at once.
    assert set(harness.pods_answering(address, 2)) <= names(by_ip, ips)
    time.sleep(max(0.0, grace_s + 1 - (time.monotonic() - emptied)))
    assert_closed_at_once(address)


if __name__ == "__main__":
    harness.main()
