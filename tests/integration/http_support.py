"""Shared pieces of the L7 (appProtocol: http) integration tests: an http Service, a proxy
in front of pods, raw-socket requests, svcproxy's own rejections (status, access-log line,
metric) and a tiny WebSocket-style echo pod."""
import base64
import hashlib
import socket
import threading
import time

import admin
import harness

# What svcproxy writes for a request it refused itself: `error=REASON` in the access log and
# svcproxy_http_rejected_requests_total{reason="REASON"} (issue 13).
REJECT_REASONS = {
    "malformed", "bad_framing", "bad_chunk", "chunk_line_too_long", "bad_target", "bad_host",
    "method_not_allowed", "uri_too_long", "header_too_large", "too_many_headers",
    "trailers_too_large", "body_too_large", "unsupported_version", "not_implemented",
    "header_timeout", "body_timeout"}
REJECTED_METRIC = "svcproxy_http_rejected_requests_total"


def http_service(name, port, target_port, cluster_ip, **options):
    doc = harness.service_doc(name, port, target_port, cluster_ip=cluster_ip, **options)
    doc["spec"]["ports"][0]["appProtocol"] = "http"
    return doc


def start(env, pods, workers=1, name="svcproxy", nofile=None, **proxy_spec):
    """svcproxy with one http ClusterIP service over `pods`; returns (proxy, address). The
    proxy also carries admin_port and service_labels (for admin.value on /metrics). A
    second proxy in one test needs its own `name` (its directory and log)."""
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    admin_port = harness.free_port()
    docs = [harness.proxy_config_doc(admin_port, workers=workers, **proxy_spec),
            http_service("web", port, pods[0].port, cluster_ip), *harness.pod_docs(pods)]
    proxy = env.svcproxy(docs, name=name, nofile=nofile)
    proxy.admin_port = admin_port
    proxy.service_labels = {"namespace": "default", "service": "web", "port": port}
    return proxy, (cluster_ip, port)


def raw_exchange(address, data, timeout=10):
    """Send `data` on a fresh connection and read until the proxy closes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        return harness.recv_all(sock, timeout)


def read_response(sock, timeout=10, head_request=False):
    """One response from `sock`: its head, then a Content-Length body (or, without one, what
    comes until the peer closes; none for a HEAD request). Raises TimeoutError when it does
    not come in time and ConnectionError when the connection ends before a complete head."""
    deadline = time.monotonic() + timeout
    data = b""

    def more():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete response within {timeout}s; got {data[:300]!r}")
        sock.settimeout(remaining)
        try:
            return sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"no complete response within {timeout}s; got {data[:300]!r}")
    while b"\r\n\r\n" not in data:
        chunk = more()
        if not chunk:
            raise ConnectionError(f"closed before a complete response head: {data[:300]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    response = harness.parse_response(head + b"\r\n\r\n")
    if head_request:
        pass
    elif "content-length" in response.headers:
        length = int(response.headers["content-length"])
        while len(body) < length and (chunk := more()):
            body += chunk
    elif response.status // 100 != 1 and response.status not in (204, 304):
        try:
            while chunk := more():
                body += chunk
        except ConnectionResetError:
            pass
    response.body = body
    return response


def exchange(address, data, timeout=10):
    """Send `data` on a fresh connection and read one response (the connection may stay
    open: this does not wait for the close). Returns (response, seconds it took)."""
    with socket.create_connection(address, timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(data)
        response = read_response(sock, timeout, head_request=data.startswith(b"HEAD "))
        return response, time.monotonic() - started


def rejected_total(proxy, reason):
    """svcproxy_http_rejected_requests_total{reason} of the proxy's one service (0 if the
    sample is not there yet)."""
    text = admin.scrape(proxy.admin_port)
    return admin.value(text, REJECTED_METRIC, reason=reason, **proxy.service_labels) or 0


def assert_rejected(proxy, response, status, reasons, since, before_pod=True):
    """`response` is svcproxy's own `status` (short text/plain body, no pod's X-Pod), and an
    access-log line after offset `since` says status=STATUS with error=REASON, REASON one of
    `reasons` (a name or a set), and (before_pod) pod=-: no pod was chosen. A request
    refused while its body was on its way to a pod (a stalled body, trailers) may name the
    pod. Returns the REASON logged."""
    reasons = {reasons} if isinstance(reasons, str) else set(reasons)
    assert response.status == status, (status, response)
    assert "x-pod" not in response.headers, f"a pod answered: {response}"
    assert response.headers.get("content-type") == "text/plain", response
    assert response.body.startswith(str(status).encode()) and len(response.body) < 100, response
    pod = r"pod=- " if before_pod else r"pod=\S+ "
    match = proxy.wait_for_log(rf"^\S+ http .*\b{pod}.*\bstatus={status} .*\berror=(\S+)",
                               since=since)
    reason = match.group(1)
    assert reason in reasons, f"error={reason}, expected one of {sorted(reasons)}: " \
                              f"{match.group(0)}"
    assert reason in REJECT_REASONS, match.group(0)
    return reason


def split_responses(raw):
    """Every response of a keep-alive or pipelined exchange (Content-Length bodies)."""
    responses = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        response = harness.parse_response(head + sep)
        length = int(response.headers.get("content-length", "0"))
        response.body, raw = rest[:length], rest[length:]
        responses.append(response)
    return responses


class EchoUpgradePod:
    """Answers an Upgrade request with 101 (Sec-WebSocket-Accept computed as RFC 6455 says),
    then echoes every byte until the client closes. Runs in a thread of the test."""

    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, ip, port):
        self.listener = socket.create_server((ip, port))
        self.listener.settimeout(15)
        self.ip, self.port, self.name = ip, port, "echo-1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(15)
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            request, _, rest = head.partition(b"\r\n\r\n")
            key = next(line.split(b":", 1)[1].strip() for line in request.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key:"))
            accept = base64.b64encode(hashlib.sha1(key + self.GUID).digest())
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            if rest:
                conn.sendall(rest)
            while data := conn.recv(65536):
                conn.sendall(data)

    def close(self):
        self.listener.close()
        self.thread.join(timeout=5)


def hold_connections(address, count):
    """Up to `count` connections to `address`, held open (the kernel completes them in the
    listen backlog even when the proxy cannot accept them); stops at the first that fails."""
    held = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            break
        held.append(sock)
    return held
