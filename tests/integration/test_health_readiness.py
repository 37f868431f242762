#!/usr/bin/env python3
"""readinessProbe end to end with real nginx pods: a pod that stops answering its probe
stops getting new traffic within periodSeconds x failureThreshold + timeoutSeconds and is
shown not ready by the admin API and /metrics; after successThreshold successes it gets
traffic again. Each transition is logged once."""
import os
import time

import admin
import harness
from harness import test

PERIOD, FAILURES, SUCCESSES, TIMEOUT = 1, 2, 2, 1
# When a pod must be out of rotation at the latest, counted from the moment it broke.
BOUND = PERIOD * FAILURES + TIMEOUT
SLACK = 0.5  # log-line and scheduling latency
PROBE_AGENT = "svcproxy-probe/"


def start(env, probe_path="/"):
    """Three nginx pods with an httpGet probe; outlier ejection off so that only readiness
    can take a pod out (ejection would hide whether the probe did it)."""
    pods = env.web_pods(3)
    for pod in pods:  # /files/ready answers 200 while it exists, 404 once removed
        open(os.path.join(pod.files, "ready"), "w").close()
    admin_port = harness.free_port()
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    probe = harness.http_probe(probe_path, period=PERIOD, failures=FAILURES,
                               successes=SUCCESSES, timeout=TIMEOUT)
    docs = [harness.proxy_config_doc(admin_port, outlierDetection={"enabled": False}),
            harness.service_doc("web", harness.free_port(cluster_ip), pods[0].port,
                                type="NodePort", cluster_ip=cluster_ip, node_port=node_port),
            *harness.pod_docs(pods, readiness_probe=probe)]
    proxy = env.svcproxy(docs)
    for pod in pods:
        proxy.wait_for_log(rf"pod default/{pod.name} \S+ ready: ", timeout=5)
    return pods, proxy, admin_port, ("127.0.0.1", node_port)


def transitions(proxy, pod):
    """(ready lines, not-ready lines) the prober logged for `pod`."""
    ready = proxy.log_lines(rf"pod default/{pod} \S+ ready: ")
    not_ready = proxy.log_lines(rf"pod default/{pod} \S+ not ready: ")
    return ready, not_ready


def endpoint_states(admin_port):
    """{pod name: "ready" | "notReady"} from /api/v1/endpoints."""
    status, body = admin.get_json(admin_port, "/api/v1/endpoints")
    assert status == 200, body
    states = {}
    for item in body["items"]:
        for subset in item["subsets"]:
            for key, state in (("addresses", "ready"), ("notReadyAddresses", "notReady")):
                for address in subset.get(key, []):
                    states[address["targetRef"]["name"]] = state
    return states


def ready_metric(admin_port, pod):
    return admin.value(admin.scrape(admin_port), "svcproxy_endpoint_ready",
                       pod=f"default/{pod}")


@test(timeout=90)
def stopped_pod_leaves_and_restarted_pod_returns(env):
    pods, proxy, admin_port, address = start(env)
    web2 = pods[1]
    with harness.RequestStream(address) as stream:
        time.sleep(1)
        assert set(stream.pods_between(0)) == {"web-1", "web-2", "web-3"}, stream.results
        stopped_at = time.time()
        assert web2.stop() is not None, "web-2 did not stop"

        proxy.wait_for_log(r"pod default/web-2 \S+ not ready: ", timeout=BOUND + 2)
        [(not_ready_at, line)] = transitions(proxy, "web-2")[1]
        assert not_ready_at - stopped_at <= BOUND + SLACK, (not_ready_at - stopped_at, line)
        time.sleep(1.5)
        # Not ready means not even tried: no connect attempt (and refusal) after the flip.
        late_attempts = [entry for entry in proxy.log_lines(r"connect to default/web-2 ")
                         if entry[0] > not_ready_at + 0.1]
        assert not late_attempts, late_attempts
        assert endpoint_states(admin_port) == \
            {"web-1": "ready", "web-2": "notReady", "web-3": "ready"}
        assert ready_metric(admin_port, "web-2") == 0
        assert ready_metric(admin_port, "web-1") == 1

        access_lines_before = len(web2.requests_seen())
        restarted_at = time.time()
        web2.start()
        proxy.wait_for_log(r"pod default/web-2 \S+ ready: ", since=0, timeout=10)
        harness.wait_until(lambda: len(transitions(proxy, "web-2")[0]) == 2,
                           PERIOD * SUCCESSES + TIMEOUT + 2, what="web-2 ready again")
        ready_at = transitions(proxy, "web-2")[0][-1][0]
        time.sleep(1.5)

    # While web-2 was down, the stream never failed: its share went to the others. This is
    # an L4 Service, so the one connection web-2's kernel had accepted when nginx was killed
    # may end unanswered (reset or closed), as through kube-proxy or HAProxy's TCP mode: an
    # L4 relay retries failed connects only. Nothing started after the kill may fail.
    killed_in_flight = [(t, error) for t, error in stream.errors()
                        if stopped_at - 0.2 <= t <= stopped_at + 0.2]
    assert len(killed_in_flight) <= 1 and stream.errors() == killed_in_flight, \
        (stopped_at, stream.errors())
    assert "web-2" not in stream.pods_between(stopped_at, ready_at - 0.1), stream.results
    # Back in rotation after readiness returned.
    back = stream.pods_between(ready_at + 0.1)
    assert back.count("web-2") >= len(back) // 3 - 2, harness.tally(back)
    # successThreshold: its first client request came after SUCCESSES probe successes.
    after_restart = web2.requests_seen()[access_lines_before:]
    first_client = next(i for i, line in enumerate(after_restart) if PROBE_AGENT not in line)
    assert first_client >= SUCCESSES, after_restart[:first_client + 1]
    assert ready_at - restarted_at >= (SUCCESSES - 1) * PERIOD - 0.2, ready_at - restarted_at
    # Once per transition: ready at start, not ready, ready again.
    ready, not_ready = transitions(proxy, "web-2")
    assert len(ready) == 2 and len(not_ready) == 1, proxy.log_text()
    assert endpoint_states(admin_port)["web-2"] == "ready"
    assert ready_metric(admin_port, "web-2") == 1


@test(timeout=90)
def live_pod_failing_its_probe_gets_no_new_traffic(env):
    """The pod still answers, but its probe path says not ready: the client must stop
    seeing it (a connect retry cannot hide this, as it can for a stopped pod)."""
    pods, proxy, admin_port, address = start(env, probe_path="/files/ready")
    web3 = pods[2]
    with harness.RequestStream(address) as stream:
        time.sleep(1)
        broken_at = time.time()
        os.remove(os.path.join(web3.files, "ready"))
        proxy.wait_for_log(r"pod default/web-3 \S+ not ready: .*returned 404", timeout=BOUND + 2)
        [(not_ready_at, _)] = transitions(proxy, "web-3")[1]
        time.sleep(2)
    assert not stream.errors(), stream.errors()
    assert not_ready_at - broken_at <= BOUND + SLACK, not_ready_at - broken_at
    # web-3 still answers, so only readiness can keep the stream away from it.
    after = stream.pods_between(not_ready_at + 0.1)
    assert len(after) > 20 and "web-3" not in after, harness.tally(after)
    before = stream.pods_between(0, broken_at)
    assert harness.tally(before).get("web-3", 0) >= len(before) // 3 - 2, harness.tally(before)
    assert endpoint_states(admin_port)["web-3"] == "notReady"
    assert ready_metric(admin_port, "web-3") == 0


if __name__ == "__main__":
    harness.main()
