#!/usr/bin/env python3
"""TLS to the pods (issue 17): a Service with svcproxy.io/backend-protocol: https reaches its
nginx pods over TLS, verifying their certificates against the CA of backend-ca-secret for the
name in backend-tls-hostname. Bodies pass both ways intact over pooled TLS connections; a pod
whose certificate is for another name or signed by another CA, or that speaks plain HTTP, is
never sent a request: the client gets 502, the log says why and /metrics counts it."""
import hashlib
import http.client
import os
import re
import signal

import admin
import harness
import reload_support
import tls_support
from harness import test


def https_pods(env, count, names=("web.internal",), ca="pods-ca", prefix="web", **options):
    """`count` nginx pods speaking HTTPS with one certificate for `names` signed by `ca`."""
    crt, key = tls_support.make_signed_certificate(env.workdir, f"{prefix}-pod", list(names), ca)
    return env.web_pods(count, prefix=prefix, tls=(crt, key), **options)


def start(env, pods, annotations, ca_bundle=None, service_name="web", readiness_probe=None):
    """svcproxy with one HTTP ClusterIP Service over `pods` with `annotations`, plus the
    pods-ca Secret when `ca_bundle`; returns (proxy, address, admin port, labels)."""
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    admin_port = harness.free_port()
    service = harness.service_doc(service_name, port, pods[0].port, cluster_ip=cluster_ip,
                                  annotations=annotations)
    service["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [harness.proxy_config_doc(admin_port, workers=2), service,
            *harness.pod_docs(pods, readiness_probe=readiness_probe)]
    if ca_bundle:
        docs.append(tls_support.ca_secret_doc("pods-ca", ca_bundle))
    proxy = env.svcproxy(docs, name=f"svcproxy-{service_name}")
    proxy.docs = docs
    labels = {"namespace": "default", "service": service_name, "port": port}
    return proxy, (cluster_ip, port), admin_port, labels


def verified(hostname="web.internal"):
    return {"svcproxy.io/backend-protocol": "https", "svcproxy.io/backend-ca-secret": "pods-ca",
            "svcproxy.io/backend-tls-hostname": hostname}


@test(timeout=120)
def pods_over_tls_get_requests_and_bodies_intact(env):
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    pods = https_pods(env, 2)
    digest = harness.make_file(os.path.join(pods[0].files, "large.bin"), 4 * 1024 * 1024)
    for pod in pods[1:]:
        harness.make_file(os.path.join(pod.files, "large.bin"), 4 * 1024 * 1024)
    proxy, address, admin_port, labels = start(env, pods, verified(), ca)

    conn = http.client.HTTPConnection(*address, timeout=20)
    answered, reused = set(), 0
    for _ in range(12):
        conn.request("GET", "/")
        reply = conn.getresponse()
        body = reply.read().decode().strip()
        assert reply.status == 200, (reply.status, body)
        answered.add(body)
        # nginx counts the requests of its (TLS) connection: above 1, svcproxy's pool
        # reused a verified TLS connection instead of a new handshake.
        reused += int(reply.getheader("X-Echo-Connection-Requests", "1")) > 1
        assert reply.getheader("X-Echo-Host") is not None
    assert answered == {pod.name for pod in pods}, answered
    assert reused >= 6, reused

    # A 4 MiB download and a 1 MiB upload (Content-Length and chunked) through TLS.
    conn.request("GET", "/files/large.bin")
    reply = conn.getresponse()
    data = reply.read()
    assert reply.status == 200 and hashlib.sha256(data).hexdigest() == digest, len(data)
    body = harness.pattern_bytes(1024 * 1024)
    conn.request("POST", "/files/large.bin", body=body)
    reply = conn.getresponse()
    reply.read()
    assert reply.status in (200, 405), reply.status  # nginx: static files refuse POST
    conn.request("PUT", "/", body=iter([body[:500_000], body[500_000:]]), encode_chunked=True)
    reply = conn.getresponse()
    text = reply.read().strip().decode()
    assert reply.status == 200 and text in answered, (reply.status, text)
    conn.close()

    scrape = admin.scrape(admin_port)
    assert admin.value(scrape, "svcproxy_upstream_connect_failures_total", reason="tls",
                       **labels) == 0
    assert "TLS to" not in proxy.log_text()


@test(timeout=120)
def unverifiable_pods_get_no_request_and_the_client_a_502(env):
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    tls_support.make_ca(env.workdir, "other-ca")
    cases = [
        # (what the pods present, the hostname svcproxy expects, what the log says)
        ("wrong", https_pods(env, 1, prefix="wrong"), "api.internal",
         "hostname mismatch: the certificate is not for api.internal"),
        ("foreign", https_pods(env, 1, ca="other-ca", prefix="foreign"), "web.internal",
         "unable to get local issuer certificate"),
        ("plain", env.web_pods(1, prefix="plain"), "web.internal", "TLS handshake failed"),
    ]
    for name, pods, hostname, reason in cases:
        proxy, address, admin_port, labels = start(env, pods, verified(hostname), ca,
                                                   service_name=name)
        for _ in range(2):
            code = harness.http_request(address, path="/").status
            assert code == 502, (name, code)
        proxy.wait_for_log(f"service default/{name}:.*: TLS to .*{reason}")
        scrape = admin.scrape(admin_port)
        assert admin.value(scrape, "svcproxy_upstream_connect_failures_total", reason="tls",
                           **labels) >= 2, name
        # Nothing reached the pod: the handshake failed before any request was written.
        assert not [line for line in pods[0].requests_seen() if '"GET / ' in line], name
        proxy.stop()


@test(timeout=90)
def https_in_and_https_out(env):
    # Client TLS at the edge (tls-secret) and TLS to the pods on one port: both streams are
    # TLS sessions of svcproxy's own, a request and a 4 MiB body pass through both.
    import socket
    import ssl
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    pods = https_pods(env, 1)
    digest = harness.make_file(os.path.join(pods[0].files, "large.bin"), 4 * 1024 * 1024)
    edge = tls_support.make_certificate(env.workdir, "edge", ["web.example.com"])
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    service = harness.service_doc("web", port, pods[0].port, cluster_ip=cluster_ip,
                                  annotations={**verified(), "svcproxy.io/tls-secret": "edge"})
    service["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [harness.proxy_config_doc(harness.free_port(), workers=2), service,
            *harness.pod_docs(pods), tls_support.ca_secret_doc("pods-ca", ca),
            tls_support.secret_doc("edge", *edge)]
    env.svcproxy(docs)
    context = ssl.create_default_context(cafile=os.path.join(env.workdir, "edge.crt"))
    conn = http.client.HTTPSConnection(cluster_ip, port, timeout=20, context=context)
    conn.sock = context.wrap_socket(socket.create_connection((cluster_ip, port), timeout=20),
                                    server_hostname="web.example.com")
    for path, check in (("/", lambda body: body.strip() == pods[0].name.encode()),
                        ("/files/large.bin",
                         lambda body: hashlib.sha256(body).hexdigest() == digest),
                        ("/", lambda body: body.strip() == pods[0].name.encode())):
        conn.request("GET", path, headers={"Host": "web.example.com"})
        reply = conn.getresponse()
        body = reply.read()
        assert reply.status == 200 and check(body), (path, reply.status, len(body))
        assert reply.getheader("X-Echo-Forwarded-Proto") == "https"
    conn.close()


@test(timeout=60)
def a_pod_that_never_finishes_the_handshake_is_a_502_after_tls_handshake(env):
    # A "pod" that accepts and then says nothing: the handshake is bounded by
    # timeouts.tlsHandshake (1s here), the client gets 502 soon after, and the log says why.
    import socket
    import threading
    import time
    ip = "127.0.1.1"
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((ip, 0))
    listener.listen(8)
    held = []
    threading.Thread(target=lambda: [held.append(listener.accept()) for _ in range(4)],
                     daemon=True).start()
    pod = type("SilentPod", (), {"name": "silent-1", "ip": ip, "port": listener.getsockname()[1]})
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    service = harness.service_doc("silent", port, pod.port, cluster_ip=cluster_ip,
                                  annotations={"svcproxy.io/backend-protocol": "https",
                                               "svcproxy.io/backend-tls-hostname": "web.internal"})
    service["spec"]["ports"][0]["appProtocol"] = "http"
    docs = [harness.proxy_config_doc(harness.free_port(), workers=1,
                                     timeouts={"connect": "1s", "idle": "60s", "drain": "5s",
                                               "tlsHandshake": "1s"}),
            service, *harness.pod_docs([pod])]
    proxy = env.svcproxy(docs)
    started = time.monotonic()
    reply = harness.http_request((cluster_ip, port), path="/", timeout=10)
    waited = time.monotonic() - started
    assert reply.status == 502, reply.status
    assert 0.9 <= waited < 5, waited
    proxy.wait_for_log(r"service default/silent:.*: TLS to .*TLS handshake timed out")
    listener.close()


@test(timeout=90)
def a_reload_changes_what_the_pods_must_prove(env):
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    pods = https_pods(env, 1)
    proxy, address, _, _ = start(env, pods, verified(), ca)
    conn = http.client.HTTPConnection(*address, timeout=20)

    def status():
        conn.request("GET", "/")
        reply = conn.getresponse()
        reply.read()
        return reply.status

    def reload(hostname):
        proxy.docs[1]["metadata"]["annotations"] = verified(hostname)
        since = len(proxy.log_text())
        reload_support.save_by_rename(proxy.config_path, proxy.docs)
        proxy.send_signal(signal.SIGHUP)
        proxy.wait_for_log(r"reload applied", since=since)

    assert [status() for _ in range(3)] == [200] * 3  # a verified connection is pooled
    # Another hostname: the pooled connection was verified for the old one and is not used.
    reload("api.internal")
    assert status() == 502
    reload("web.internal")
    assert [status() for _ in range(3)] == [200] * 3
    conn.close()



def https_probe(path):
    probe = harness.http_probe(path, period=1)
    probe["httpGet"]["scheme"] = "HTTPS"
    return probe


@test(timeout=90)
def https_readiness_probes_decide_which_tls_pods_serve(env):
    """httpGet probes with scheme HTTPS go over TLS without checking the pod's certificate,
    as the kubelet's do (this one is signed by a CA svcproxy is never told of): the pod whose
    probe path answers 200 serves, the one answering 404 gets no request until it says
    ready too. An HTTPS probe at a pod that speaks plain HTTP fails its handshake, logged."""
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    pods = https_pods(env, 2)
    open(os.path.join(pods[0].files, "ready"), "w").close()
    proxy, address, _, _ = start(env, pods, verified(), ca,
                                 readiness_probe=https_probe("/files/ready"))
    proxy.wait_for_log(r"pod default/web-1 \S+ ready: httpGet HTTPS /files/ready returned 200",
                       timeout=10)
    proxy.wait_for_log(r"pod default/web-2 \S+ not ready: httpGet HTTPS /files/ready "
                       r"returned 404", timeout=10)
    answered = [harness.http_request(address, timeout=5).body.decode().strip()
                for _ in range(8)]
    assert set(answered) == {pods[0].name}, answered

    open(os.path.join(pods[1].files, "ready"), "w").close()
    proxy.wait_for_log(r"pod default/web-2 \S+ ready: httpGet HTTPS /files/ready returned 200",
                       timeout=10)
    answered = {harness.http_request(address, timeout=5).body.decode().strip()
                for _ in range(8)}
    assert answered == {pod.name for pod in pods}, answered

    plain = env.web_pods(1, prefix="plain")
    open(os.path.join(plain[0].files, "ready"), "w").close()
    proxy2, address2, _, _ = start(env, plain, {}, service_name="plain",
                                   readiness_probe=https_probe("/files/ready"))
    line = proxy2.wait_for_log(r"pod default/plain-1 \S+ not ready: httpGet HTTPS "
                               r"/files/ready: TLS handshake: ", timeout=10)
    assert re.search("wrong version number|packet length too long", line.string), line.string
    assert harness.http_request(address2, timeout=5).status == 503


@test(timeout=90)
def a_new_connection_to_a_pod_resumes_its_last_tls_session(env):
    """Pods that close after each request (keepalive_requests 1) make every request a new
    TLS connection: after the first to each pod, they resume the session the pod gave
    (nginx says so in $ssl_session_reused), with TLS 1.2 (the ticket kept) and TLS 1.3 (each
    ticket used once, the next one from the connection it resumed). /metrics counts full
    and resumed handshakes with pods. A reload that changes the hostname starts again with
    a full handshake: a session never outlives a change of what the pod must prove."""
    ca = tls_support.make_ca(env.workdir, "pods-ca")
    for version in ("TLSv1.2", "TLSv1.3"):
        name = "web" + version[-1]
        pods = https_pods(env, 2, names=("web.internal", "api.internal"), prefix=name,
                          keepalive_requests=1, tls_protocols=version)
        proxy, address, admin_port, _ = start(env, pods, verified(), ca, service_name=name)
        reused = []
        for _ in range(10):
            reply = harness.http_request(address, timeout=5)
            assert reply.status == 200, reply
            reused.append(reply.headers.get("x-echo-ssl-session-reused"))
        # Round robin over two pods: the first request to each is a full handshake.
        assert reused == [".", "."] + ["r"] * 8, (version, reused)
        scrape = admin.scrape(admin_port)
        counted = {result: admin.value(scrape, "svcproxy_upstream_tls_handshakes_total",
                                       result=result, version=version)
                   for result in ("full", "resumed")}
        assert counted == {"full": 2, "resumed": 8}, (version, counted)

        proxy.docs[1]["metadata"]["annotations"] = verified("api.internal")
        since = len(proxy.log_text())
        reload_support.save_by_rename(proxy.config_path, proxy.docs)
        proxy.send_signal(signal.SIGHUP)
        proxy.wait_for_log(r"reload applied", since=since)
        reply = harness.http_request(address, timeout=5)
        assert reply.status == 200 and \
            reply.headers.get("x-echo-ssl-session-reused") == ".", (version, reply)

if __name__ == "__main__":
    harness.main()
