#!/usr/bin/env python3
"""30 sequential TCP connections through each kind of Service address reach the three
pods exactly 10/10/10 (round-robin, one pick per connection)."""
import harness
from harness import test

CONNECTIONS = 30
PODS = {"web-1": 10, "web-2": 10, "web-3": 10}


def start_proxy(env, service):
    pods = env.web_pods(3)
    docs = [harness.proxy_config_doc(harness.free_port()), service(pods[0].port),
            *harness.pod_docs(pods)]
    return env.svcproxy(docs)


@test(timeout=60)
def node_port_spreads_evenly(env):
    node_port = harness.free_node_port()
    cluster_ip = harness.random_ip()
    proxy = start_proxy(env, lambda target: harness.service_doc(
        "web-nodeport", harness.free_port(cluster_ip), target, type="NodePort",
        cluster_ip=cluster_ip, node_port=node_port))
    answered = harness.pods_answering(("127.0.0.1", node_port), CONNECTIONS)
    assert harness.tally(answered) == PODS, harness.tally(answered)
    # The access log names the same pods, one line per connection.
    harness.wait_until(lambda: len(proxy.access_log_pods()) >= CONNECTIONS, 5,
                       what="one access-log line per connection")
    logged = [pod.split("/")[-1] for pod in proxy.access_log_pods()]
    assert harness.tally(logged) == PODS, proxy.log_text()


@test(timeout=60)
def cluster_ip_spreads_evenly(env):
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    start_proxy(env, lambda target: harness.service_doc(
        "web-clusterip", port, target, cluster_ip=cluster_ip))
    answered = harness.pods_answering((cluster_ip, port), CONNECTIONS)
    assert harness.tally(answered) == PODS, harness.tally(answered)


def load_balancer_service(lb_field):
    """A LoadBalancer Service whose external address comes from `lb_field`."""
    cluster_ip, lb_ip = harness.random_ip(), harness.random_ip("127.200.0.0/16")
    port = harness.free_port_on_all([cluster_ip, lb_ip])
    options = {"load_balancer_ip": lb_ip} if lb_field == "loadBalancerIP" else \
        {"ingress_ips": [lb_ip]}

    def make(target):
        return harness.service_doc("web-loadbalancer", port, target, type="LoadBalancer",
                                   cluster_ip=cluster_ip, node_port=harness.free_node_port(),
                                   **options)
    return make, (lb_ip, port)


@test(timeout=60)
def load_balancer_ip_spreads_evenly(env):
    make, address = load_balancer_service("loadBalancerIP")
    start_proxy(env, make)
    answered = harness.pods_answering(address, CONNECTIONS)
    assert harness.tally(answered) == PODS, harness.tally(answered)


@test(timeout=60)
def load_balancer_ingress_ip_spreads_evenly(env):
    make, address = load_balancer_service("status.loadBalancer.ingress")
    start_proxy(env, make)
    answered = harness.pods_answering(address, CONNECTIONS)
    assert harness.tally(answered) == PODS, harness.tally(answered)


if __name__ == "__main__":
    harness.main()
