#!/usr/bin/python3
"""Cluster mode figures (issue 15), measured, not asserted:

  propagation  time from `svcproxy apply` returning to every node serving the change
               (a new NodePort Service accepting connections), p50/p99 over --rounds, for
               2 and 10 nodes (processes on loopback, one etcd member)
  scale        10,000 Services and 50,000 Pods in etcd (written by gateway transactions,
               as apply would store them, with a ClusterIP claim key per Service): a node's initial sync, one Service changed
               reaching the node, and the etcd requests one change costs

  bench/cluster_propagation.py --binary build/svcproxy [--rounds 20] [--nodes 2,10] [--no-scale]
                               [--changes 10]   (--nodes "": the scale figures only)
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import etcd_harness  # noqa: E402
import harness  # noqa: E402
from etcd_harness import b64  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def propagation(env, nodes, rounds):
    etcd = etcd_harness.Etcd(env)
    pod = env.nginx_pod("web-1", "127.0.1.1", harness.free_port("127.0.1.1"))
    addresses = [f"127.0.4.{i}" for i in range(1, nodes + 1)]
    for i, address in enumerate(addresses, 1):
        etcd_harness.start_node(env, etcd, harness.free_port(), f"node-{i}", address,
                                workers=1, accessLog={"enabled": False})
    samples = []
    for round_ in range(rounds):
        node_port = harness.free_node_port(tuple(addresses))
        doc = harness.service_doc(f"svc-{round_}", 80, pod.port, type="NodePort",
                                  node_port=node_port)
        path = harness.write_yaml(os.path.join(env.workdir, f"svc-{round_}.yaml"),
                                  [doc, harness.pod_doc("web-1", pod.ip, pod.port)])
        code, out, err = etcd_harness.svcproxy_apply(env, etcd, [path])
        assert code == 0, err
        applied = time.monotonic()
        pending = set(addresses)
        while pending:
            pending = {a for a in pending if not harness.can_connect(a, node_port, timeout=0.05)}
            if time.monotonic() - applied > 10:
                raise RuntimeError(f"not propagated in 10 s to {pending}")
        samples.append((time.monotonic() - applied) * 1000)
    return samples


def put_many(etcd, items):
    for start in range(0, len(items), 100):
        ops = [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in items[start:start + 100]]
        etcd.call("/v3/kv/txn", {"success": ops}, timeout=30)


def metric(admin_port, name):
    import admin
    return admin.value(admin.scrape(admin_port), name)


def scale(env, services, pods_per_service, changes):
    etcd = etcd_harness.Etcd(env)
    items = []
    for s in range(services):
        name = f"svc-{s}"
        ip = f"127.{100 + (s + 1) // 65536}.{(s + 1) // 256 % 256}.{(s + 1) % 256}"
        items.append((f"/registry/services/specs/default/{name}", json.dumps({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                     "selector": {"app": name},
                     "ports": [{"port": 8000 + s % 1000, "targetPort": 8080, "protocol": "TCP"}]}})))
        items.append((f"/registry/ranges/serviceips/{ip}", f"default/{name}"))  # apply's claim
        for p in range(pods_per_service):
            pod = f"{name}-{p}"
            items.append((f"/registry/pods/default/{pod}", json.dumps({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod, "namespace": "default", "labels": {"app": name}},
                "status": {"podIP": f"10.{(s * pods_per_service + p) // 65536 % 256}."
                                    f"{(s * pods_per_service + p) // 256 % 256}."
                                    f"{(s * pods_per_service + p) % 256}"}})))
    started = time.monotonic()
    put_many(etcd, items)
    written = time.monotonic() - started
    admin_port = harness.free_port()
    # Listeners for 10,000 ClusterIPs: the node binds each, as it would in production.
    start = time.monotonic()
    node = etcd_harness.start_node(env, etcd, admin_port, "node-1", "127.0.4.1",
                                   serviceCIDR="127.96.0.0/12", accessLog={"enabled": False},
                                   workers=1)
    node.wait_for_log(r"reload (applied|rejected)", timeout=120)
    assert "reload rejected" not in node.log_text(), node.log_text()[-2000:]
    sync = time.monotonic() - start
    for line in node.log_text().splitlines():  # where the time went
        if "cluster:" in line or "reload applied" in line:
            print("  node:", line, flush=True)
    # One Service changed, `changes` times: from the write (wall clock, before the put) to
    # the node's own "reload applied" line (its timestamp: no log polling in the figure).
    changed_key, changed_value = items[0]
    value = json.loads(changed_value)
    samples, requests = [], []
    for round_ in range(changes):
        since = len(node.log_text())
        value["spec"]["ports"][0]["targetPort"] = 8081 + round_
        requests_before = etcd_requests(etcd)
        written_at = time.time()
        put_many(etcd, [(changed_key, json.dumps(value))])
        node.wait_for_log(r"reload applied", timeout=30, since=since)
        applied_at, line = node.log_lines(r"reload applied", since=since)[0]
        samples.append((applied_at - written_at) * 1000)
        print("  node, a change:", line, flush=True)
        requests.append(etcd_requests(etcd) - requests_before - 1)  # minus our own put
    return {"objects": len(items) - services, "write_s": written, "initial_sync_s": sync,
            "change_p50_ms": percentile(samples, 0.5), "change_max_ms": max(samples),
            "changes": changes, "samples_ms": samples,
            # The node's own 1/s heartbeat and its lease renewals land in some windows.
            "etcd_requests_per_change": statistics.median(requests),
            "etcd_requests_max": max(requests)}


def etcd_requests(etcd):
    """gRPC requests etcd has handled so far, from its own /metrics."""
    import urllib.request
    total = 0
    with urllib.request.urlopen(etcd.members[0].client_url + "/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith("grpc_server_handled_total{"):
                total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "svcproxy"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--nodes", default="2,10")
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--pods-per-service", type=int, default=5)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--no-scale", action="store_true")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    for count in [int(n) for n in args.nodes.split(",") if n]:  # --nodes "": only the scale figures
        env = harness.Env(binary, os.path.join(HERE, ".."), f"bench-propagation-{count}")
        try:
            samples = propagation(env, count, args.rounds)
        finally:
            env.close(keep_dir=False)
        print(f"propagation, {count} nodes: p50 {percentile(samples, 0.5):.1f} ms, "
              f"p99 {percentile(samples, 0.99):.1f} ms, max {max(samples):.1f} ms "
              f"({len(samples)} applies)", flush=True)
    if not args.no_scale:
        env = harness.Env(binary, os.path.join(HERE, ".."), "bench-scale")
        try:
            result = scale(env, args.services, args.pods_per_service, args.changes)
        finally:
            env.close(keep_dir=False)
        print(f"scale, {result['objects']} objects: written in {result['write_s']:.1f} s; "
              f"node initial sync {result['initial_sync_s']:.2f} s; one Service changed "
              f"reaches the node in p50 {result['change_p50_ms']:.0f} ms, max "
              f"{result['change_max_ms']:.0f} ms ({result['changes']} changes: "
              f"{', '.join(f'{v:.0f}' for v in result['samples_ms'])}); etcd requests per change "
              f"besides the write: median {result['etcd_requests_per_change']:.0f}, max "
              f"{result['etcd_requests_max']:.0f} (heartbeat, lease renewal)", flush=True)


if __name__ == "__main__":
    main()
