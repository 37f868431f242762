#!/usr/bin/env python3
"""Removing a pod from the file (issue 5): the pod becomes terminating. The request in
flight on it completes; new requests go to the remaining pod only; keep-alive client
connections are not broken by it; /api/v1/endpoints shows it terminating or no longer
lists it."""
import http.client
import signal
import threading
import time

import admin
import harness
from harness import test
from http_support import http_service

DELAY_S = 3


def documents(admin_port, address, pods, drain="10s", target_port=None):
    return [harness.proxy_config_doc(admin_port, workers=1, drain=drain),
            http_service("web", address[1], target_port or pods[0].port, cluster_ip=address[0]),
            *harness.pod_docs(pods)]


def endpoint_addresses(admin_port):
    """{pod name: conditions} of every address of default/web, ready or not."""
    status, body = admin.get_json(admin_port, "/api/v1/namespaces/default/endpoints/web")
    assert status == 200, body
    found = {}
    for subset in body["subsets"]:
        for address in subset.get("addresses", []) + subset.get("notReadyAddresses", []):
            found[address["targetRef"]["name"]] = address["conditions"]
    return found


class SlowRequest(threading.Thread):
    """GET /?delay=DELAY_S on its own keep-alive connection, in the background."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection(*address, timeout=20)
        self.result = None

    def run(self):
        try:
            self.conn.request("GET", f"/?delay={DELAY_S}")
            reply = self.conn.getresponse()
            self.result = (reply.status, reply.getheader("X-Pod"), reply.read(),
                           reply.getheader("Connection"))
        except Exception as failure:  # reported by the assertion in the test
            self.result = failure


def get(conn):
    """A request on `conn`; fails if the proxy had closed the connection or closes it now
    (http.client would otherwise reconnect silently)."""
    before = conn.sock
    conn.request("GET", "/")
    reply = conn.getresponse()
    result = reply.status, reply.getheader("X-Pod"), reply.read()
    assert before is None or conn.sock is before, "the kept-alive connection was replaced"
    assert conn.sock is not None, f"the proxy closed the connection: {reply.getheaders()}"
    return result


@test(timeout=90)
def removed_pod_finishes_in_flight_and_takes_no_new_requests(env):
    port = harness.free_port_on_all(["127.0.1.1", "127.0.1.2"])
    pods = [env.python_pod(f"slow-{i}", f"127.0.1.{i}", port) for i in (1, 2)]
    admin_port = harness.free_port()
    ip = harness.random_ip()
    address = (ip, harness.free_port(ip))
    proxy = env.svcproxy(documents(admin_port, address, pods))
    assert set(endpoint_addresses(admin_port)) == {"slow-1", "slow-2"}

    # A keep-alive client connection that has been served and now sits idle.
    idle = http.client.HTTPConnection(*address, timeout=10)
    assert get(idle)[0] == 200
    # One slow request on each pod (round-robin), both in flight during the reload.
    slow = [SlowRequest(address), SlowRequest(address)]
    for request in slow:
        request.start()
        time.sleep(0.2)
    time.sleep(0.5)

    since = len(proxy.log_text())
    harness.write_yaml(proxy.config_path, documents(admin_port, address, pods[1:]))
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload applied", timeout=10, since=since)
    removed_at = time.monotonic()
    # While slow-1's request is still in flight, the API says it is terminating or gone.
    listed = endpoint_addresses(admin_port)
    assert time.monotonic() - removed_at < DELAY_S - 1, "the request may have finished already"
    assert listed.get("slow-2") == {"ready": True, "serving": True, "terminating": False}, listed
    assert "slow-1" not in listed or listed["slow-1"]["terminating"] is True, listed

    # New requests, on new and on kept-alive connections, go to slow-2 only.
    assert harness.pods_answering(address, 6) == ["slow-2"] * 6
    for _ in range(4):
        assert get(idle)[:2] == (200, "slow-2")

    for request in slow:
        request.join(timeout=DELAY_S + 10)
    results = [request.result for request in slow]
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[1] for r in results) == ["slow-1", "slow-2"], results
    for status, pod, body, connection in results:
        assert status == 200 and body == f"{pod}\n".encode(), results
    # Both client connections stay usable, including the one whose pod was removed.
    for request in slow:
        assert get(request.conn)[:2] == (200, "slow-2")
        request.conn.close()
    idle.close()
    assert "slow-1" not in endpoint_addresses(admin_port) or \
        endpoint_addresses(admin_port)["slow-1"]["terminating"] is True


@test(timeout=60)
def when_every_pod_is_removed_they_serve_until_the_grace_ends(env):
    """Kubernetes' terminating-endpoint rule: with no other endpoint left, terminating ones
    still serve (for timeouts.drain here) instead of an instant 503."""
    port = harness.free_port_on_all(["127.0.1.1"])
    pods = [env.python_pod("last-1", "127.0.1.1", port)]
    admin_port = harness.free_port()
    ip = harness.random_ip()
    address = (ip, harness.free_port(ip))
    grace_s = 3
    proxy = env.svcproxy(documents(admin_port, address, pods, drain=f"{grace_s}s"))
    assert harness.pods_answering(address, 2) == ["last-1"] * 2

    since = len(proxy.log_text())
    harness.write_yaml(proxy.config_path, documents(admin_port, address, [], f"{grace_s}s", port))
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload applied", timeout=10, since=since)
    removed_at = time.monotonic()
    assert harness.pods_answering(address, 3) == ["last-1"] * 3
    assert endpoint_addresses(admin_port)["last-1"]["terminating"] is True
    assert time.monotonic() - removed_at < grace_s - 0.5, "too slow to observe the grace"

    time.sleep(grace_s + 1 - (time.monotonic() - removed_at))
    reply = harness.http_request(address, path="/")
    assert reply.status == 503, (reply.status, reply.body)
    assert "last-1" not in endpoint_addresses(admin_port)


if __name__ == "__main__":
    harness.main()
