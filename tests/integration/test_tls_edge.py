#!/usr/bin/env python3
"""TLS at the edge (issue 17): a Service with svcproxy.io/tls-secret terminates HTTPS on its
ports. openssl s_client and curl against certificates made for the test: SNI picks the
certificate, TLS 1.0/1.1 and weak ciphers are refused, sessions resume, a plain HTTP
request gets a 400, pods see X-Forwarded-Proto: https, and a reload swaps the certificate
while a download on an old connection finishes; a Secret whose key is not its
certificate's is refused and the old one keeps serving."""
import base64
import os
import re
import shutil
import signal
import hashlib
import socket
import subprocess

import admin
import harness
import reload_support
import tls_support
from harness import Skip, test

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")


def s_client(port, *args, data=b""):
    """`openssl s_client -connect 127.0.0.1:PORT ARGS`: (exit code, stdout+stderr)."""
    if not OPENSSL:
        raise Skip("openssl is not installed")
    done = subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", *args],
                          input=data, capture_output=True, timeout=20,
                          preexec_fn=harness._die_with_parent)
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")


def subject(output):
    found = re.search(r"^subject=.*CN\s*=\s*(\S+)", output, re.M)
    return found.group(1) if found else None


def curl(port, path="/", name="web.example.com", ca=None, extra=()):
    """curl over https to 127.0.0.1:PORT as `name`: (http code, body)."""
    if not CURL:
        raise Skip("curl is not installed")
    argv = [CURL, "-s", "--max-time", "20", "--resolve", f"{name}:{port}:127.0.0.1",
            *(["--cacert", ca] if ca else ["-k"]), "-w", "\n%{http_code}", *extra,
            f"https://{name}:{port}{path}"]
    done = subprocess.run(argv, capture_output=True, timeout=30, preexec_fn=harness._die_with_parent)
    body, _, code = done.stdout.decode(errors="replace").rpartition("\n")
    return code, body


def tls_documents(secrets, pods, node_port, annotations=None):
    service = harness.service_doc("web", 443, pods[0].port, type="NodePort", node_port=node_port,
                                  annotations={"svcproxy.io/tls-secret": ",".join(
                                      name for name, _ in secrets), **(annotations or {})})
    service["spec"]["ports"][0]["appProtocol"] = "http"
    config = harness.proxy_config_doc(harness.free_port(), timeouts={
        "connect": "1s", "idle": "60s", "drain": "5s", "tlsHandshake": "1s"})
    return [config, service, *harness.pod_docs(pods),
            *(tls_support.secret_doc(name, *pem) for name, pem in secrets)]


def start(env, pods, secrets, annotations=None):
    node_port = harness.free_node_port()
    docs = tls_documents(secrets, pods, node_port, annotations)
    proxy = env.svcproxy(docs)
    return proxy, node_port, docs


@test(timeout=90)
def sni_picks_the_certificate_and_weak_protocols_are_refused(env):
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com", "www.example.com"])
    api = tls_support.make_certificate(env.workdir, "api", ["api.example.com",
                                                            "*.api.example.com"], key="rsa")
    pods = env.web_pods(1)
    proxy, port, docs = start(env, pods, [("web-tls", web), ("api-tls", api)])

    for name, expected in [("web.example.com", "web.example.com"),
                           ("WWW.example.com", "web.example.com"),
                           ("v2.api.example.com", "api.example.com"),
                           ("api.example.com", "api.example.com"),
                           ("a.b.api.example.com", "web.example.com"),  # one label only
                           ("other.test", "web.example.com")]:
        _, out = s_client(port, "-servername", name)
        assert subject(out) == expected, (name, out)
    _, out = s_client(port, "-noservername")
    assert subject(out) == "web.example.com", out  # no SNI: the first Secret

    # Verified end to end: the right certificate for each name, HTTP inside.
    code, body = curl(port, name="web.example.com", ca=os.path.join(env.workdir, "web.crt"))
    assert (code, body.strip()) == ("200", pods[0].name), (code, body)
    code, _ = curl(port, name="x.api.example.com", ca=os.path.join(env.workdir, "api.crt"))
    assert code == "200"

    # TLS 1.0 and 1.1 (allowed on the client side for the test) and a CBC cipher: refused.
    for version in ("-tls1", "-tls1_1"):
        code, out = s_client(port, version, "-cipher", "DEFAULT@SECLEVEL=0")
        assert code != 0 and "Cipher is (NONE)" in out, (version, out)
    code, out = s_client(port, "-tls1_2", "-cipher", "AES128-SHA")
    assert code != 0 and "Cipher is (NONE)" in out, out
    # The server's order: OpenSSL clients list AES-256 first and get AES-128; a client
    # listing ChaCha20 first (no AES instructions) gets ChaCha20.
    code, out = s_client(port, "-tls1_2")
    assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256" in out or \
        "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in out, out
    _, out = s_client(port, "-tls1_3")
    assert "Cipher is TLS_AES_128_GCM_SHA256" in out, out
    _, out = s_client(port, "-tls1_3", "-ciphersuites",
                      "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256")
    assert "Cipher is TLS_CHACHA20_POLY1305_SHA256" in out, out
    # ALPN: http/1.1 is chosen; a client that offers only h2 gets a fatal alert.
    _, out = s_client(port, "-alpn", "h2,http/1.1")
    assert "ALPN protocol: http/1.1" in out, out
    code, out = s_client(port, "-alpn", "h2")
    assert "no application protocol" in out, out

    scrape = admin.scrape(int(docs[0]["spec"]["adminAddress"].rsplit(":", 1)[1]))
    assert admin.value(scrape, "svcproxy_tls_handshakes_total", result="full",
                       version="TLSv1.3") >= 8
    assert admin.value(scrape, "svcproxy_tls_handshake_errors_total",
                       reason="protocol_version") >= 2
    assert admin.value(scrape, "svcproxy_tls_handshake_errors_total",
                       reason="no_application_protocol") >= 1


@test(timeout=90)
def strict_sni_refuses_unknown_names_and_sessions_resume(env):
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com"])
    pods = env.web_pods(1)
    proxy, port, docs = start(env, pods, [("web-tls", web)], {
        "svcproxy.io/tls-strict-sni": "true"})
    code, out = s_client(port, "-servername", "other.test")
    assert code != 0 and "unrecognized name" in out, out
    code, out = s_client(port, "-noservername")
    assert code != 0, out

    # Resumption (TLS 1.2 session tickets; the context is shared by both workers).
    session = os.path.join(env.workdir, "session.pem")
    _, out = s_client(port, "-tls1_2", "-servername", "web.example.com", "-sess_out", session)
    assert "New, TLSv1.2" in out, out
    for _ in range(4):  # whichever worker accepts it
        _, out = s_client(port, "-tls1_2", "-servername", "web.example.com", "-sess_in", session)
        assert "Reused, TLSv1.2" in out, out
    # TLS 1.3 resumes from its tickets (PSK) too; they come after the handshake, so the
    # first client stays for an answer.
    _, out = s_client(port, "-tls1_3", "-servername", "web.example.com", "-sess_out", session,
                      "-ign_eof", data=b"GET / HTTP/1.0\r\n\r\n")
    # A client uses a TLS 1.3 ticket once; each resumption brings the next one, so a chain
    # of connections all resume (without it, every other one was a full handshake).
    for i in range(3):
        ticket = f"{session}.{i}"  # written only when this connection got a new ticket
        _, out = s_client(port, "-tls1_3", "-servername", "web.example.com", "-sess_in", session,
                          "-sess_out", ticket, "-ign_eof", data=b"GET / HTTP/1.0\r\n\r\n")
        assert "Reused, TLSv1.3" in out, out
        assert os.path.exists(ticket), "a resumed TLS 1.3 connection brings a new ticket"
        session = ticket
    scrape = admin.scrape(int(docs[0]["spec"]["adminAddress"].rsplit(":", 1)[1]))
    assert admin.value(scrape, "svcproxy_tls_handshakes_total", result="resumed",
                       version="TLSv1.2") == 4
    assert admin.value(scrape, "svcproxy_tls_handshakes_total", result="resumed",
                       version="TLSv1.3") == 3


@test(timeout=90)
def plain_http_gets_400_and_pods_see_https_forwarded(env):
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com"])
    pod = env.python_pod("echo-1", "127.0.1.1", harness.free_port("127.0.1.1"), record=True)
    proxy, port, docs = start(env, [pod], [("web-tls", web)])
    # The test's config file is world-readable (umask 022), and holds a private key.
    assert "which other users can read (chmod o-r it)" in proxy.log_text()
    reply = harness.http_request(("127.0.0.1", port), path="/")
    assert reply.status == 400 and b"plain HTTP request was sent to HTTPS port" in reply.body
    code, _ = curl(port, "/hello")
    assert code == "200"
    [head] = [h for h in pod.heads() if h["target"] == "/hello"]
    assert ["X-Forwarded-Proto", "https"] in head["headers"], head

    # Garbage is closed at once; a client that sends nothing is closed after tlsHandshake.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"\x00\x01\x02garbage")
        try:
            # closed with the garbage unread: a reset, or an end of stream
            assert harness.recv_all(s, timeout=5) == b""
        except ConnectionResetError:
            pass
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        assert harness.recv_all(s, timeout=5) == b""  # closed after 1s
    scrape = admin.scrape(int(docs[0]["spec"]["adminAddress"].rsplit(":", 1)[1]))
    for reason in ("plain_http", "not_tls", "timeout"):
        assert admin.value(scrape, "svcproxy_tls_handshake_errors_total", reason=reason) >= 1


@test(timeout=120)
def a_reload_swaps_the_certificate_while_an_old_download_finishes(env):
    first = tls_support.make_certificate(env.workdir, "first", ["web.example.com"])
    pods = env.web_pods(1)
    digest = harness.make_file(os.path.join(pods[0].files, "big"), 8 << 20)
    proxy, port, docs = start(env, pods, [("web-tls", first)])
    _, out = s_client(port, "-servername", "web.example.com")
    fingerprint_before = fingerprint(out)

    # A slow download over TLS, started before the reload.
    download = os.path.join(env.workdir, "download.bin")
    slow = subprocess.Popen([CURL, "-sk", "--limit-rate", "2M", "-o", download,
                             "--resolve", f"web.example.com:{port}:127.0.0.1",
                             f"https://web.example.com:{port}/files/big"],
                            preexec_fn=harness._die_with_parent)
    harness.wait_until(lambda: os.path.exists(download) and os.path.getsize(download) > 0, 10,
                       what="the download under way")

    second = tls_support.make_certificate(env.workdir, "second", ["web.example.com"])
    docs[-1] = tls_support.secret_doc("web-tls", *second)
    since = len(proxy.log_text())
    reload_support.save_by_rename(proxy.config_path, docs)
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload applied", since=since)
    _, out = s_client(port, "-servername", "web.example.com")
    assert fingerprint(out) != fingerprint_before, "new handshakes get the new certificate"

    # A Secret whose key is another certificate's: the reload is refused, the old stays.
    bad = tls_support.make_certificate(env.workdir, "bad", ["web.example.com"])
    docs[-1] = tls_support.secret_doc("web-tls", second[0], bad[1])
    since = len(proxy.log_text())
    reload_support.save_by_rename(proxy.config_path, docs)
    proxy.send_signal(signal.SIGHUP)
    proxy.wait_for_log(r"reload rejected", since=since)
    assert "the private key is not the key of the certificate" in proxy.log_text()[since:]
    _, out = s_client(port, "-servername", "web.example.com")
    assert fingerprint(out) == fingerprint(s_client(port, "-servername", "web.example.com")[1])
    assert fingerprint(out) != fingerprint_before

    assert slow.wait(timeout=60) == 0
    with open(download, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, "the old download is whole"


@test(timeout=90)
def an_l4_port_relays_the_decrypted_bytes(env):
    """TLS on a port that is not appProtocol http: svcproxy terminates TLS and relays the
    bytes inside untouched to the pod (no X-Forwarded-Proto: it does not parse them), in both
    directions and in bulk, and the pod's close ends the session with a close_notify."""
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com"])
    pods = env.web_pods(1)
    digest = harness.make_file(os.path.join(pods[0].files, "big"), 4 << 20)
    echo = env.python_pod("echo-1", "127.0.1.9", harness.free_port("127.0.1.9"), record=True)
    node_port, echo_port = harness.free_node_port(), harness.free_node_port()
    docs = tls_documents([("web-tls", web)], pods, node_port)
    del docs[1]["spec"]["ports"][0]["appProtocol"]  # L4
    echo_service = harness.service_doc("echo", 443, echo.port, type="NodePort",
                                       node_port=echo_port, selector={"app": "echo"},
                                       annotations={"svcproxy.io/tls-secret": "web-tls"})
    echo_pod = harness.pod_doc(echo.name, echo.ip, echo.port, {"app": "echo"})
    proxy = env.svcproxy([*docs, echo_service, echo_pod])

    # 4 MiB from the pod, whole, over TLS through the L4 relay.
    download = os.path.join(env.workdir, "download.bin")
    code, _ = curl(node_port, "/files/big", extra=("-o", download))
    assert code == "200"
    with open(download, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, "the download is whole"
    # An upload of 1 MiB reaches the pod byte for byte; the request head is the client's
    # own (an L4 relay adds nothing).
    body = os.urandom(1 << 20)
    upload = os.path.join(env.workdir, "upload.bin")
    with open(upload, "wb") as f:
        f.write(body)
    code, reply = curl(echo_port, "/upload", extra=(
        "-i", "--data-binary", f"@{upload}", "-H", "Content-Type: application/octet-stream"))
    assert code == "200", code
    assert f"X-Body-Sha256: {hashlib.sha256(body).hexdigest()}" in reply, reply[:600]
    [head] = [h for h in echo.heads() if h["target"] == "/upload"]
    assert not any(name.lower() == "x-forwarded-proto" for name, _ in head["headers"]), head

    # HTTP/1.0 through s_client: the pod answers and closes; the session ends cleanly (the
    # client's stdin ends first: its close_notify reaches the pod as a half-close).
    since = len(proxy.log_text())
    status, out = s_client(node_port, "-servername", "web.example.com", "-ign_eof", "-quiet",
                           data=b"GET /files/big HTTP/1.0\r\nHost: web\r\n\r\n")
    assert status == 0 and "HTTP/1.1 200 OK" in out, out[-600:]
    [match] = [proxy.wait_for_log(r"l4 service=default/web:443 .*close=eof", since=since)]
    sent = int(re.search(r"sent=(\d+)", match.group(0)).group(1))
    assert sent > 4 << 20, match.group(0)


@test(timeout=120)
def every_new_connection_under_churn_completes_its_handshake(env):
    """Eight clients, each a new TLS connection per request (Connection: close), 3,200 in
    all: every one is answered. (A wake-up that found no byte yet once closed about one new
    connection in 200 under wrk -c4: wrk's "connect" errors.)"""
    import ssl
    import threading
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com"])
    proxy, port, docs = start(env, env.web_pods(1), [("web-tls", web)])
    context = ssl.create_default_context(cafile=os.path.join(env.workdir, "web.crt"))
    failures, answered = [], []

    def client():
        for _ in range(400):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                        context.wrap_socket(raw, server_hostname="web.example.com") as tls:
                    tls.sendall(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
                    reply = b""
                    while chunk := tls.recv(65536):  # ends at our close_notify
                        reply += chunk
                    if not reply.startswith(b"HTTP/1.1 200 "):
                        failures.append(reply[:60])
                    answered.append(1)
            except (OSError, ssl.SSLError) as error:
                failures.append(repr(error))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    assert not failures and len(answered) == 3200, (len(answered), failures[:5])
    scrape = admin.scrape(int(docs[0]["spec"]["adminAddress"].rsplit(":", 1)[1]))
    assert admin.value(scrape, "svcproxy_tls_handshake_errors_total", reason="closed") == 0


@test(timeout=60)
def a_kept_alive_tls_connection_serves_requests_after_idle_pauses(env):
    # Between requests the connection waits for bytes without a buffer; the TLS stream
    # learns from its reads whether the kernel holds more, so each wait must end when the
    # next request comes, however long the pause.
    import http.client
    import ssl
    import time
    web = tls_support.make_certificate(env.workdir, "web", ["web.example.com"])
    pods = env.web_pods(1)
    proxy, port, docs = start(env, pods, [("web-tls", web)])
    context = ssl.create_default_context(cafile=os.path.join(env.workdir, "web.crt"))
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                    server_hostname="web.example.com")
    for pause in (0, 0.3, 1.2, 0.05, 2.5):
        time.sleep(pause)
        conn.request("GET", "/", headers={"Host": "web.example.com"})
        reply = conn.getresponse()
        assert (reply.status, reply.read().decode().strip()) == (200, pods[0].name), pause
    conn.close()
    assert "http session" not in proxy.log_text() or "failed" not in proxy.log_text()


@test(timeout=90)
def an_ocsp_response_in_the_secret_is_stapled(env):
    ca = tls_support.make_ca(env.workdir, "ca")
    crt, key = tls_support.make_signed_certificate(env.workdir, "web", ["web.example.com"], "ca")
    response = tls_support.make_ocsp_response(env.workdir, "web", "ca")
    with open(crt) as c, open(key) as k:
        pem = (c.read(), k.read())
    other = tls_support.make_certificate(env.workdir, "api", ["api.example.com"])
    pods = env.web_pods(1)
    docs_secrets = [("web-tls", pem), ("api-tls", other)]
    node_port = harness.free_node_port()
    docs = tls_documents(docs_secrets, pods, node_port)
    docs[-2]["data"]["tls.ocsp"] = base64.b64encode(response).decode()
    env.svcproxy(docs)

    _, out = s_client(node_port, "-servername", "web.example.com", "-status", "-CAfile",
                      os.path.join(env.workdir, "ca.crt"))
    assert "OCSP Response Status: successful" in out and "Cert Status: good" in out, out
    assert "Verify return code: 0 (ok)" in out, out
    # The other Secret (chosen by SNI) has none: nothing is stapled, nothing breaks.
    _, out = s_client(node_port, "-servername", "api.example.com", "-status")
    assert "OCSP response: no response sent" in out, out
    assert ca  # the CA signed both the certificate and the response


def fingerprint(s_client_output):
    """The server certificate's PEM as s_client printed it (what identifies it here)."""
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                      s_client_output, re.S)
    return found.group(0) if found else None


if __name__ == "__main__":
    harness.main()
