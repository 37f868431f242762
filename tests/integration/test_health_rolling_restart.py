#!/usr/bin/env python3
"""Rolling restart under load, through an L7 (appProtocol: http) Service of three nginx
pods with readiness probes and round-robin: wrk runs for 20 s while each pod in turn is
stopped gracefully (nginx -s quit), left down 3 s and restarted — wrk must report zero
non-2xx/3xx responses and zero socket errors. With kill -9 of one pod instead, at most the
requests in flight on that pod may fail."""
import re
import shutil
import time

import harness
import http_support
from harness import test

WRK_SECONDS = 20
WRK_CONNECTIONS = 12
DOWN_SECONDS = 3


def start(env):
    if not shutil.which("wrk"):
        raise harness.Skip("wrk is not installed")
    pods = env.web_pods(3)
    probe = harness.http_probe("/", period=1, failures=1, successes=1)
    cluster_ip = harness.random_ip()
    service = http_support.http_service("web", harness.free_port(cluster_ip), pods[0].port,
                                        cluster_ip)
    # The access log would be a line per request: keep only the prober's info lines.
    config = harness.proxy_config_doc(harness.free_port(), accessLog={"path": "/dev/null"})
    proxy = env.svcproxy([config, service, *harness.pod_docs(pods, readiness_probe=probe)],
                         log_level="info")
    for pod in pods:
        harness.wait_until(lambda: harness.http_request(pod.address).status == 200, 5,
                           what=f"{pod.name} answering")
    time.sleep(1.5)  # every probe has succeeded once (period 1 s)
    address = (cluster_ip, service["spec"]["ports"][0]["port"])
    return pods, proxy, address


def run_wrk(env, address):
    out = f"{env.workdir}/wrk.txt"
    wrk = harness.Process(["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s",
                           "--timeout", "5s", f"http://{address[0]}:{address[1]}/"], out)
    return env.track(wrk.start())


def wrk_summary(wrk):
    """{requests, non_2xx, socket_errors} from wrk's summary."""
    assert wrk.wait(WRK_SECONDS + 20) == 0, wrk.log_text()
    text = wrk.log_text()
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    return {"requests": requests, "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0, "text": text}


def restarted_ready(proxy, pod, count):
    return len(proxy.log_lines(rf"pod default/{pod.name} \S+ ready: ")) >= count


@test(timeout=90)
def graceful_rolling_restart_loses_nothing(env):
    pods, proxy, address = start(env)
    wrk = run_wrk(env, address)
    time.sleep(2)
    for pod in pods:
        assert pod.quit() == 0, f"{pod.name} did not quit"
        time.sleep(DOWN_SECONDS)
        pod.start()
        time.sleep(1.5)  # its probe succeeds within a period
    summary = wrk_summary(wrk)
    assert summary["requests"] > 1000, summary["text"]
    assert summary["non_2xx"] == 0 and summary["socket_errors"] == 0, summary["text"]
    # The pods really went away and came back, as the prober saw it.
    for pod in pods:
        assert proxy.log_lines(rf"pod default/{pod.name} \S+ not ready: "), proxy.log_text()
        assert restarted_ready(proxy, pod, 1), proxy.log_text()


@test(timeout=90)
def kill_9_fails_at_most_the_requests_in_flight_on_that_pod(env):
    pods, proxy, address = start(env)
    wrk = run_wrk(env, address)
    time.sleep(4)
    pods[1].stop(signum=9)
    time.sleep(DOWN_SECONDS)
    pods[1].start()
    summary = wrk_summary(wrk)
    assert summary["requests"] > 1000, summary["text"]
    # A request is in flight on one connection at a time: of WRK_CONNECTIONS, the share
    # on one of three pods (rounded up) at most.
    failed = summary["non_2xx"] + summary["socket_errors"]
    assert failed <= -(-WRK_CONNECTIONS // 3), summary["text"]


if __name__ == "__main__":
    harness.main()
