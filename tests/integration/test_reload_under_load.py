#!/usr/bin/env python3
"""Hitless reload (issue 5): wrk runs through L7 Service A while the configuration is
rewritten ten times — Service B added and removed on its own ClusterIP:port, A's
load-balancing annotation flipped between round-robin and least-connections — half of the
rewrites applied by SIGHUP, half by the file watcher. A sees no error; B's port opens and
closes as the files say; a WebSocket through A and an L4 tunnel opened before the first
reload still carry data after the last. A syntactically broken file is rejected with its
FILE:LINE:COL, counted in /metrics, and A keeps serving.

The file svcproxy is given is a symlink in a directory it watches (live/config.yaml)
pointing into a directory it does not (store/), as a Kubernetes ConfigMap mount is laid
out. A SIGHUP step rewrites the file in store/, which the watcher cannot see, so only the
signal can apply it; a watcher step swaps the symlink, and no signal is sent."""
import hashlib
import http.client
import os
import re
import signal
import socket
import time

import admin
import harness
from harness import test
from http_support import http_service
from reload_support import Wrk, echo_round_trip, open_websocket, port_state

APPLY_WITHIN = 10.0  # debounce + load + apply on a loaded 2-core machine
POLICY = "svcproxy.io/load-balancing"


class Layout:
    """Addresses and pods of the test, and the documents of each configuration."""

    def __init__(self, env, web_pods, extra_pods=(), stream_pod=None):
        self.admin_port = harness.free_port()
        self.a = self._address()
        self.b = self._address()
        self.l4 = self._address()
        self.web_pods = list(web_pods) + list(extra_pods)
        self.target = web_pods[0].port
        self.stream_pod = stream_pod

    @staticmethod
    def _address():
        ip = harness.random_ip()
        return ip, harness.free_port(ip)

    def documents(self, with_b, policy):
        a = http_service("a", self.a[1], self.target, cluster_ip=self.a[0])
        a["metadata"]["annotations"] = {POLICY: policy}
        docs = [harness.proxy_config_doc(self.admin_port, workers=2), a,
                *harness.pod_docs(self.web_pods)]
        if self.stream_pod:
            docs.append(harness.service_doc("stream", self.l4[1], self.stream_pod.port,
                                            cluster_ip=self.l4[0], selector={"app": "stream"}))
            docs.append(harness.pod_doc(self.stream_pod.name, self.stream_pod.ip,
                                        self.stream_pod.port, {"app": "stream"}))
        if with_b:
            docs.append(http_service("b", self.b[1], self.target, cluster_ip=self.b[0]))
        return docs


class ConfigMapFiles:
    """live/config.yaml -> store/gen-N.yaml; svcproxy watches live/ only."""

    def __init__(self, workdir):
        self.live = os.path.join(workdir, "live")
        self.store = os.path.join(workdir, "store")
        os.makedirs(self.live)
        os.makedirs(self.store)
        self.path = os.path.join(self.live, "config.yaml")
        self.generation = 0

    def first(self, documents):
        target = self._write_generation(documents)
        os.symlink(target, self.path)

    def rewrite_unseen(self, text_or_documents):
        """Replace the symlink's target in store/ (by rename, as an editor saves)."""
        target = os.readlink(self.path)
        temporary = target + ".tmp"
        self._write(temporary, text_or_documents)
        os.replace(temporary, target)

    def swap(self, documents):
        """A new generation, then an atomic symlink swap in live/ (what kubelet does)."""
        target = self._write_generation(documents)
        temporary = os.path.join(self.live, ".config.yaml.new")
        os.symlink(target, temporary)
        os.replace(temporary, self.path)

    def _write_generation(self, documents):
        self.generation += 1
        target = os.path.join(self.store, f"gen-{self.generation}.yaml")
        self._write(target, documents)
        return target

    @staticmethod
    def _write(path, text_or_documents):
        if isinstance(text_or_documents, str):
            with open(path, "w") as f:
                f.write(text_or_documents)
        else:
            harness.write_yaml(path, text_or_documents)


def start_proxy(env, files, documents):
    files.first(documents)
    proxy = harness.Svcproxy(env.binary, env.workdir, documents)
    proxy.argv[proxy.argv.index("--config") + 1] = files.path
    return env.track(proxy).start()


def apply_step(proxy, files, documents, by_signal):
    """Rewrites the configuration, triggers a reload, waits for its outcome line."""
    since = len(proxy.log_text())
    if by_signal:
        files.rewrite_unseen(documents)
        proxy.send_signal(signal.SIGHUP)
    else:
        files.swap(documents)
    return proxy.wait_for_log(r"reload applied|reload rejected", timeout=APPLY_WITHIN,
                              since=since).group(0)


def wait_port(address, expected):
    states = []

    def reached():
        states.append(port_state(*address))
        return states[-1] == expected
    harness.wait_until(reached, APPLY_WITHIN, interval=0.1,
                       what=f"{address} {expected} (last: {states[-1:]})")


@test(timeout=150)
def ten_reloads_under_load_drop_nothing(env):
    port = harness.free_port_on_all(["127.0.1.1", "127.0.1.2", "127.0.1.3"])
    web = [env.nginx_pod(f"web-{i}", f"127.0.1.{i}", port) for i in (1, 2)]
    # A WebSocket-capable pod of Service A (it also answers plain GETs with 200).
    ws = env.python_pod("ws-1", "127.0.1.3", port)
    stream = env.python_pod("stream-1", "127.0.1.4", harness.free_port("127.0.1.4"),
                            mode="eof")
    layout = Layout(env, web, [ws], stream)
    files = ConfigMapFiles(env.workdir)
    proxy = start_proxy(env, files, layout.documents(False, "round-robin"))
    assert port_state(*layout.b) == "refused"

    # Long-lived connections, opened before any reload. Round-robin reaches ws-1 within
    # three upgrade attempts; nginx answers the others with a plain 200.
    websocket = None
    for _ in range(6):
        websocket, response = open_websocket(layout.a)
        if websocket:
            break
    assert websocket, "no upgrade reached the WebSocket pod"
    assert response.status == 101 and response.headers["x-pod"] == "ws-1", response
    assert echo_round_trip(websocket, b"\x81\x05hello")
    tunnel = socket.create_connection(layout.l4, timeout=15)
    payload = harness.pattern_bytes(300_000)
    tunnel.sendall(payload[:100_000])

    # Kept-alive connections see routing change under them; one request per connection
    # (Connection: close) keeps A's listener accepting throughout.
    url = f"http://{layout.a[0]}:{layout.a[1]}/"
    loads = [env.track(Wrk(url, env.workdir, connections=6, name="wrk-keepalive")).start(),
             env.track(Wrk(url, env.workdir, connections=2, name="wrk-close",
                           headers=["Connection: close"])).start()]
    try:
        time.sleep(1.5)  # wrk is up to speed before the first reload
        assert all(wrk.running() for wrk in loads), [wrk.log_text() for wrk in loads]
        for step in range(1, 11):
            with_b = step % 2 == 1
            policy = "least-connections" if step % 2 == 1 else "round-robin"
            by_signal = (step // 2) % 2 == 1  # 1 watcher, 2-3 SIGHUP, 4-5 watcher, ...
            outcome = apply_step(proxy, files, layout.documents(with_b, policy), by_signal)
            how = "SIGHUP" if by_signal else "file watcher"
            assert outcome == "reload applied", f"step {step} ({how}): {outcome}"
            wait_port(layout.b, "open" if with_b else "refused")
            if with_b:
                assert harness.http10_get(layout.b).status == 200, f"step {step}: B not serving"
            assert echo_round_trip(websocket, f"step {step}".encode()), \
                f"WebSocket broken by reload {step} ({how})"
            tunnel.sendall(payload[90_000 + step * 10_000:100_000 + step * 10_000])
        time.sleep(1.0)
    finally:
        results = [wrk.finish() for wrk in loads]

    for result, minimum in zip(results, (500, 100)):
        print(f"  {result['requests']} requests, {result['non_2xx']} non-2xx, "
              f"socket errors {result['socket_errors']}", flush=True)
        assert result["requests"] >= minimum, result["text"]
        assert result["non_2xx"] == 0, result["text"]
        assert result["socket_errors"] == dict.fromkeys(("connect", "read", "write", "timeout"),
                                                        0), result["text"]
    # A's pods all took wrk's traffic across the reloads.
    served = harness.tally(proxy.access_log_pods())
    assert {"default/web-1", "default/web-2", "default/ws-1"} <= set(served), served

    # After all ten reloads: the WebSocket echoes a large message, the L4 tunnel delivers
    # the rest of the payload and its half-close, and the pod's answer comes back.
    big = harness.pattern_bytes(200_000)
    assert echo_round_trip(websocket, big), "WebSocket broken after the reloads"
    websocket.close()
    tunnel.sendall(payload[200_000:])
    tunnel.shutdown(socket.SHUT_WR)
    answer = harness.recv_all(tunnel, timeout=15).decode()
    tunnel.close()
    assert answer == (f"stream-1 length={len(payload)} "
                      f"sha256={hashlib.sha256(payload).hexdigest()}\n"), answer
    assert proxy.running()


@test(timeout=90)
def broken_file_is_rejected_and_a_keeps_serving(env):
    web = env.web_pods(2)
    layout = Layout(env, web)
    files = ConfigMapFiles(env.workdir)
    good = layout.documents(False, "round-robin")
    proxy = start_proxy(env, files, good)
    before = admin.value(admin.scrape(layout.admin_port), "svcproxy_config_reloads_total",
                         result="failure")
    assert before == 0, before

    client = http.client.HTTPConnection(*layout.a, timeout=10)
    client.request("GET", "/")
    reply = client.getresponse()
    assert reply.status == 200 and reply.read()

    valid = harness.yaml.safe_dump_all(good, sort_keys=False)
    # A mis-indented key, the typo a hand edit makes: line 6 of the appended document.
    broken = valid + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n   labels: x\n"
    broken_line = len(valid.splitlines()) + 6
    since = len(proxy.log_text())
    outcome = apply_step(proxy, files, broken, by_signal=True)
    assert outcome == "reload rejected", outcome
    log = proxy.log_text()[since:]
    where = re.search(r"(\S*(?:config|gen-\d+)\.yaml):(\d+):(\d+): ", log)
    assert where, f"no FILE:LINE:COL in the log:\n{log}"
    assert int(where.group(2)) == broken_line, \
        f"line {where.group(2)} is not the broken line {broken_line}:\n{valid}{log}"

    after = admin.value(admin.scrape(layout.admin_port), "svcproxy_config_reloads_total",
                        result="failure")
    assert after == before + 1, after
    # The kept-alive client connection and new ones are still served by A.
    client.request("GET", "/")
    reply = client.getresponse()
    assert reply.status == 200 and reply.read()
    client.close()
    assert set(harness.pods_answering(layout.a, 4)) == {"web-1", "web-2"}
    assert proxy.running()

    # A fixed file is taken again.
    outcome = apply_step(proxy, files, layout.documents(True, "round-robin"), by_signal=True)
    assert outcome == "reload applied", outcome
    wait_port(layout.b, "open")


if __name__ == "__main__":
    harness.main()
