#!/usr/bin/env python3
"""Cluster mode on real hosts (issue 15, "Netns topology"): etcd, two worker nodes, an edge
and a client, each a network namespace on one bridge in a switch namespace.

    client --> edge :80 --> node NodePort 30080 (svcproxy per node) --> pod
                 |              |
                 +---- etcd ----+   (the Service, the Pods, each node's Lease and Node)

The state lives in etcd, which only the namespaces can reach: `svcproxy apply` runs in the
client namespace, every svcproxy gets `--etcd http://ETCD:2379`, the nodes register a Lease
and a Node with their bridge address, and the edge (ProxyConfig etcd.edge) learns the nodes
from there. Then node1 goes away under a stream of requests through the edge, in one of two
ways loopback (test_cluster_nodes.py) cannot tell apart:

  - its svcproxy and its pod crash (SIGKILL): node1's kernel still refuses connections and
    resets the ones it had, so svcproxy fails over at once and no request sent after the
    crash may fail;
  - the machine dies: its link goes down (nothing answers, no RST, no FIN), then its
    processes are SIGKILLed. A connect into it times out (timeouts.connect) and is retried
    elsewhere; a request already sent into it, or sent later over a kept-alive connection
    to it, waits timeouts.upstreamResponse for a 504 (one whose answer had begun, for
    timeouts.idle).

Either way the edge must drop node1 once its lease runs out, and node2 must turn node1's
pod not ready when nodeGracePeriod ends, not before.

Root only (namespaces need CAP_SYS_ADMIN) and etcd; skipped with the reason otherwise.
Every address (10.231.20-21.x, apart from test_topology_netns.py's) lives inside namespaces
this test creates, and the namespaces are deleted at the end.
"""
import contextlib
import json
import os
import re
import signal
import subprocess
import time

import etcd_harness
import harness
from harness import test
from netns_support import Topology, client_get, inside, require_root_and_netns

SUBNET = "10.231.{}.{}"  # only ever configured inside this test's own namespaces
NODE_PORT = 30080
POD_PORT = 8080
ADMIN_PORT = 10249  # each namespace has its own loopback
ETCD_PORT = 2379
LEASE_TTL, GRACE = 2, 3
CONNECT, UPSTREAM_RESPONSE = 1, 2  # timeouts, seconds
CLIENTS = 4  # request loops in the stream: one stuck on the dead machine leaves three going
IN_FLIGHT = 0.05  # a request started this long after the kill was already on its way
FAST = 0.5  # a request that waited for no connect timeout takes far less than this

# argv: URL [BODY TIMEOUT]; prints the answer's body. POST when there is a body, as etcd's
# gateway wants; any failure exits non-zero with the reason on stderr.
FETCH = ("import sys, urllib.request\n"
         "body = sys.argv[2].encode() if len(sys.argv) > 2 else None\n"
         "timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 5\n"
         "request = urllib.request.Request(sys.argv[1], body,\n"
         "                                 {'Content-Type': 'application/json'})\n"
         "with urllib.request.urlopen(request, timeout=timeout) as reply:\n"
         "    sys.stdout.write(reply.read().decode())\n")

# argv: HARNESS_DIR IP PORT SECONDS TIMEOUT CLIENTS. CLIENTS threads, each sending one
# HTTP/1.0 GET per connection after the other; each printed as it ends, "START END STATUS
# X-POD" or "START END error WHAT" (an exception, or a body shorter than its Content-Length).
# SIGTERM: no new requests, the ones on their way finish.
STREAM = ("import signal, sys, threading, time\n"
          "sys.path.insert(0, sys.argv[1])\n"
          "import harness\n"
          "address, end = (sys.argv[2], int(sys.argv[3])), time.time() + float(sys.argv[4])\n"
          "stop, lock = threading.Event(), threading.Lock()\n"
          "signal.signal(signal.SIGTERM, lambda *_: stop.set())\n"
          "def client():\n"
          "    while time.time() < end and not stop.is_set():\n"
          "        started = time.time()\n"
          "        try:\n"
          "            reply = harness.http10_get(address, timeout=float(sys.argv[5]))\n"
          "            what = f\"{reply.status} {reply.headers.get('x-pod', '-')}\"\n"
          "            length = reply.headers.get('content-length', len(reply.body))\n"
          "            if int(length) != len(reply.body):\n"
          "                what = f'error truncated: {what} {len(reply.body)} of {length} bytes'\n"
          "        except (OSError, ValueError) as error:\n"
          "            what = f'error {error!r}'\n"
          "        with lock:\n"
          "            sys.stdout.write(f'{started:.3f} {time.time():.3f} {what}\\n')\n"
          "            sys.stdout.flush()\n"
          "        stop.wait(0.02)\n"
          "threads = [threading.Thread(target=client) for _ in range(int(sys.argv[6]))]\n"
          "for thread in threads: thread.start()\n"
          "for thread in threads: thread.join()\n")


def hosts_plan():
    return {"etcd": [SUBNET.format(20, 5)],
            "node1": [SUBNET.format(20, 11), SUBNET.format(21, 21)],
            "node2": [SUBNET.format(20, 12), SUBNET.format(21, 22)],
            "edge": [SUBNET.format(20, 2)],
            "client": [SUBNET.format(20, 3)]}


def ns_fetch(topology, host, url, body=None, timeout=5):
    """GET (or POST `body`) `url` from inside namespace `host`; the answer's body. OSError
    when it fails, as urllib's own errors are."""
    argv = ["ip", "netns", "exec", topology.ns(host), harness.PYTHON, "-c", FETCH, url]
    if body is not None:
        argv += [body, str(timeout)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5,
                              preexec_fn=harness._die_with_parent)
    except subprocess.TimeoutExpired as error:
        raise OSError(f"{url} from {host}: {error}") from None
    if done.returncode != 0:
        raise OSError(f"{url} from {host}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


class NetnsEtcd(etcd_harness.Etcd):
    """One etcd member inside namespace `host`, listening on its bridge address; Etcd's
    helpers (healthy, get_prefix, ...) reach it through `ip netns exec`, since the test's
    own namespace has no route to it."""

    def __init__(self, env, topology, host="etcd"):
        etcd_harness.require_etcd()
        self.topology, self.host = topology, host
        ip = topology.hosts[host][0]
        member = etcd_harness.EtcdMember("m0", env.workdir, ETCD_PORT, ETCD_PORT + 1,
                                         f"m0=http://{ip}:{ETCD_PORT + 1}", host=ip)
        self.members = [env.track(inside(topology.ns(host), member))]
        member.start()
        harness.wait_until(self.healthy, 30, interval=0.2, what="etcd answering in its namespace")

    def call(self, path, body, timeout=5):
        return json.loads(ns_fetch(self.topology, self.host, self.members[0].client_url + path,
                                   json.dumps(body), timeout))


def apply_from(env, topology, host, etcd, path):
    """`svcproxy apply -f PATH --etcd URL` run in namespace `host`; must exit 0."""
    done = subprocess.run(["ip", "netns", "exec", topology.ns(host), env.binary, "apply", "-f",
                           path, "--etcd", etcd.endpoints], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30,
                          preexec_fn=harness._die_with_parent)
    assert done.returncode == 0, (done.stdout, done.stderr)


def start_proxy(env, topology, etcd, host, **etcd_spec):
    """svcproxy `--config node.yaml --etcd URL` in namespace `host`, nodePortAddresses its
    bridge address, until its ready line. upstreamResponse is short so that a request
    stuck on the dead machine is answered while the test watches."""
    config = etcd_harness.node_config(ADMIN_PORT, host, topology.hosts[host][0],
                                      etcd={"leaseTTL": f"{LEASE_TTL}s",
                                            "nodeGracePeriod": f"{GRACE}s", **etcd_spec})
    config["spec"]["timeouts"].update(connect=f"{CONNECT}s",
                                      upstreamResponse=f"{UPSTREAM_RESPONSE}s")
    proxy = harness.Svcproxy(env.binary, env.workdir, [config], name=f"svcproxy-{host}")
    proxy.argv += ["--etcd", etcd.endpoints]
    return env.track(inside(topology.ns(host), proxy)).start()


def manifests(env, pods):
    """An appProtocol http LoadBalancer Service (no ingress IPs: it listens on port 80 of
    each instance's nodePortAddresses) and the pods, each with its spec.nodeName."""
    service = harness.service_doc("web", 80, POD_PORT, type="LoadBalancer",
                                  node_port=NODE_PORT)
    service["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [service]
    for node, pod in pods.items():
        doc = harness.pod_doc(pod.name, pod.ip, pod.port)
        doc["spec"]["nodeName"] = node
        docs.append(doc)
    return harness.write_yaml(os.path.join(env.workdir, "web.yaml"), docs)


class ClientStream(harness.Process):
    """STREAM from the client namespace; stop() lets the requests on their way end."""

    def __init__(self, env, topology, address, seconds=30, timeout=5):
        self.timeout = timeout
        super().__init__([harness.PYTHON, "-c", STREAM, harness.HERE, address[0],
                          str(address[1]), str(seconds), str(timeout), str(CLIENTS)],
                         os.path.join(env.workdir, "client-stream.log"))
        inside(topology.ns("client"), self)

    def stop(self, timeout=None, signum=signal.SIGTERM):
        return super().stop(timeout or self.timeout + 5, signum)

    def results(self):
        """[(start, end, status or None, X-Pod or error)] in the order they ended."""
        found = []
        for line in self.log_text().splitlines():
            fields = line.split(" ", 3)
            try:
                started, ended = float(fields[0]), float(fields[1])
                status = None if fields[2] == "error" else int(fields[2])
            except (IndexError, ValueError):
                continue  # not a result line (a traceback would show in the log)
            found.append((started, ended, status, fields[3]))
        return found


def pod_serving(topology, node, pod):
    """conditions.serving of `pod` in `node`'s /api/v1 endpoints of web (None if absent)."""
    answer = json.loads(ns_fetch(topology, node, f"http://127.0.0.1:{ADMIN_PORT}"
                                 "/api/v1/namespaces/default/endpoints/web", timeout=2))
    for subset in answer["subsets"]:
        for address in subset.get("addresses", []) + subset.get("notReadyAddresses", []):
            if address["targetRef"]["name"] == pod:
                return address["conditions"]["serving"]
    return None


def start_cluster(env, topology):
    """etcd, the pods, apply, node1, node2 and the edge; until the client reaches both pods
    through the edge and the edge's access log names both nodes."""
    hosts = topology.hosts
    etcd = NetnsEtcd(env, topology)
    pods = {}
    for node, name in (("node1", "web-a"), ("node2", "web-b")):
        pod = harness.PythonPod(name, hosts[node][1], POD_PORT, env.workdir)
        pods[node] = env.track(inside(topology.ns(node), pod)).start()
    apply_from(env, topology, "client", etcd, manifests(env, pods))
    nodes = {node: start_proxy(env, topology, etcd, node) for node in ("node1", "node2")}
    edge = start_proxy(env, topology, etcd, "edge", edge=True)
    # Each node registered itself: a Lease, and a Node with its bridge address.
    harness.wait_until(lambda: set(etcd.get_prefix("/registry/leases/kube-node-lease/")) ==
                       {f"/registry/leases/kube-node-lease/{n}" for n in nodes}, 10,
                       what="both nodes' leases in etcd")
    for node in nodes:
        stored = etcd.get_json(f"/registry/minions/{node}")
        assert {"type": "InternalIP", "address": hosts[node][0]} in \
            stored["status"]["addresses"], stored
    address = (hosts["edge"][0], 80)
    harness.wait_until(lambda: set(client_get(topology, address, 4)) == {"web-a", "web-b"}, 10,
                       interval=0.2, what="the edge reaching both pods")
    harness.wait_until(lambda: {"node1", "node2"} <= set(edge.access_log_pods()), 5,
                       what="the edge's access log naming both nodes")
    return pods, nodes, edge


def lease_lost(proxy, timeout):
    """When `proxy` logged that node1 lost its lease (its own timestamp)."""
    proxy.wait_for_log(r"cluster: node node1 lost its lease", timeout=timeout)
    return proxy.log_lines(r"cluster: node node1 lost its lease")[0][0]


def node1_goes_away(env, topology, pods, nodes, edge, unplug):
    """Under a stream through the edge, node1 crashes (its svcproxy, then its pod, SIGKILLed
    by PID) or, with `unplug`, dies as a machine does: its link goes down first, so nothing
    it does afterwards reaches anyone. Watches node2's view of web-a until the grace is
    over; the moments and the stream's results, in a dict."""
    stream = env.track(ClientStream(env, topology, (topology.hosts["edge"][0], 80))).start()
    harness.wait_until(lambda: len(stream.results()) >= 40, 10, what="the stream going")
    ns = topology.ns("node1")
    if unplug:
        links = subprocess.run(["ip", "-n", ns, "-o", "link", "show", "type", "veth"],
                               capture_output=True, text=True, check=True, timeout=10).stdout
        [link] = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
        subprocess.run(["ip", "-n", ns, "link", "set", link, "down"], check=True, timeout=10)
    else:
        nodes["node1"].send_signal(signal.SIGKILL)
    died = time.time()
    for process in (nodes["node1"], pods["node1"]):
        process.stop(timeout=5, signum=signal.SIGKILL)
    gone = time.time()  # the pod too
    dropped = lease_lost(edge, timeout=LEASE_TTL + 3)
    lost_on_node2 = lease_lost(nodes["node2"], timeout=5)
    serving = []  # (asked, answered, web-a's conditions.serving on node2)
    while time.time() < lost_on_node2 + GRACE + 1.5:
        asked = time.time()
        ready = pod_serving(topology, "node2", "web-a")
        serving.append((asked, time.time(), ready))
        time.sleep(0.02)
    stream.stop()
    return {"died": died, "gone": gone, "dropped": dropped, "lost_on_node2": lost_on_node2,
            "serving": serving, "results": sorted(stream.results())}


def split(run):
    """The results of requests on their way when node1 went, and of those sent after."""
    cut = run["gone"] + IN_FLIGHT
    return ([r for r in run["results"] if r[0] < cut],
            [r for r in run["results"] if r[0] >= cut])


def describe(run):
    died = run["died"]
    failed = [(round(s - died, 3), round(e - s, 3), status, what)
              for s, e, status, what in run["results"] if status != 200]
    slow = [(round(s - died, 3), round(e - s, 3)) for s, e, status, _ in run["results"]
            if status == 200 and e - s >= FAST]
    print(f"  {len(run['results'])} requests through the edge; node1's pod gone "
          f"{run['gone'] - died:+.3f}s after the kill, the edge dropped node1 "
          f"{run['dropped'] - died:+.3f}s after, node2 {run['lost_on_node2'] - died:+.3f}s",
          flush=True)
    print(f"  failed (start since kill, seconds taken, status, what): {failed}", flush=True)
    print(f"  slow successes (start since kill, seconds taken): {slow}", flush=True)


def check_in_flight(run, how):
    """A request on its way when node1 went may fail, and only as `how(status, what)` says;
    each client loop had at most one on its way."""
    on_the_way, _ = split(run)
    failed = [r for r in on_the_way if r[2] != 200]
    assert len(failed) <= CLIENTS, failed
    assert all(how(status, what) for _, _, status, what in failed), failed


def check_edge_and_grace(topology, nodes, edge, run):
    """What holds however node1 went: the edge drops it within the lease TTL (and a bit)
    and sends it nothing afterwards; once dropped and past the grace every request succeeds
    at once from web-b; node2 keeps web-a serving until GRACE after it saw the lease go,
    then turns it not ready, and its NodePort answers from web-b only."""
    died, dropped, lost = run["died"], run["dropped"], run["lost_on_node2"]
    assert dropped - died < LEASE_TTL + 3, dropped - died
    # An access-log line is written when its request ended: started = time - duration.
    for when, line in edge.log_lines(r"\bpod=node1\b"):
        started = when - int(re.search(r"duration_ms=(\d+)", line).group(1)) / 1000
        assert started < dropped + 0.01, ("sent to node1 after the drop", dropped, line)
    _, sent_after = split(run)
    assert all(pod == "web-b" for _, _, status, pod in sent_after if status == 200), sent_after
    settled = [r for r in sent_after if r[0] >= max(dropped, lost + GRACE) + 0.1]
    assert len(settled) >= 20, settled
    assert all(status == 200 and end - start < FAST for start, end, status, _ in settled), \
        settled

    # An answer saying serving shows it was so when asked; one saying not, when it came.
    serving = run["serving"]
    flipped = next((answered for _, answered, ready in serving if ready is False), None)
    still = [asked for asked, _, ready in serving if ready]
    assert flipped and still, serving
    print(f"  node2: web-a still serving {still[-1] - lost:+.3f}s, not serving by "
          f"{flipped - lost:+.3f}s after it saw the lease go (grace {GRACE}s)", flush=True)
    assert flipped >= lost + GRACE, "not before the grace period"
    assert still[-1] >= lost + GRACE - 0.6, serving
    assert flipped < lost + GRACE + 1, "within a second of the grace ending"
    assert all(ready is False for asked, _, ready in serving if asked >= flipped), serving
    # node2's NodePort from the client: node2's pod only, and no more tries at web-a.
    since = len(nodes["node2"].log_text())
    answers = client_get(topology, (topology.hosts["node2"][0], NODE_PORT), 10)
    assert answers == ["web-b"] * 10, answers
    assert not nodes["node2"].log_lines(r"connect to default/web-a", since=since)


@contextlib.contextmanager
def node1_gone(env, unplug):
    """The cluster up and node1 gone (node1_goes_away), described; the topology stays up
    for the checks inside the `with`."""
    require_root_and_netns()
    etcd_harness.require_etcd()
    with Topology(hosts_plan()) as topology:
        pods, nodes, edge = start_cluster(env, topology)
        run = node1_goes_away(env, topology, pods, nodes, edge, unplug=unplug)
        describe(run)
        yield topology, nodes, edge, run


@test(timeout=45)
def a_crashed_node_is_dropped_without_failing_a_request_sent_after(env):
    with node1_gone(env, unplug=False) as (topology, nodes, edge, run):
        # A response node1's svcproxy or pod had begun ends short (the client sees its
        # Content-Length unmet); nothing else on its way fails.
        check_in_flight(run, lambda status, what: what.startswith("truncated: 200 "))
        # node1's kernel refuses new connections and resets the ones it had: a request
        # that met node1, or web-a through node2, is retried elsewhere at once.
        _, sent_after = split(run)
        assert all(status == 200 and end - start < FAST
                   for start, end, status, _ in sent_after), sent_after
        check_edge_and_grace(topology, nodes, edge, run)


@test(timeout=45)
def a_dead_machine_costs_a_connect_timeout_per_hop_or_a_504(env):
    with node1_gone(env, unplug=True) as (topology, nodes, edge, run):
        # Waiting for a response head: 504 after upstreamResponse; in the middle of a body:
        # open until timeouts.idle (60s here), so the client gives up first.
        check_in_flight(run, lambda status, what: status == 504 or "timed out" in what)
        dropped, lost = run["dropped"], run["lost_on_node2"]
        _, sent_after = split(run)
        for start, end, status, what in sent_after:
            # A connect into the dead machine times out and is retried elsewhere: one
            # timeout at most per hop (edge->node1 until the drop, node2->web-a until the
            # grace).
            hops = (start < dropped) + (start < lost + GRACE)
            if status == 200:
                assert end - start < hops * CONNECT + FAST, (start - run["died"], end - start)
                continue
            # Sent over a kept-alive connection into the dead machine: svcproxy waits
            # upstreamResponse and answers 504, although it is a GET of which no byte was
            # answered (retry_policy.hpp: a response timeout is never retried).
            assert status == 504 and hops, (start - run["died"], status, what)
            assert end - start < UPSTREAM_RESPONSE + (hops - 1) * CONNECT + FAST, \
                (start - run["died"], end - start)
        check_edge_and_grace(topology, nodes, edge, run)


if __name__ == "__main__":
    harness.main()
