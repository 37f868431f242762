"""Shared pieces of the L7 (appProtocol: http) integration tests: an http Service, a proxy
in front of pods, raw-socket requests and a tiny WebSocket-style echo pod."""
import base64
import hashlib
import socket
import threading

import harness


def http_service(name, port, target_port, cluster_ip, **options):
    doc = harness.service_doc(name, port, target_port, cluster_ip=cluster_ip, **options)
    doc["spec"]["ports"][0]["appProtocol"] = "http"
    return doc


def start(env, pods, workers=1, **proxy_spec):
    """svcproxy with one http ClusterIP service over `pods`; returns (proxy, address)."""
    cluster_ip = harness.random_ip()
    port = harness.free_port(cluster_ip)
    docs = [harness.proxy_config_doc(harness.free_port(), workers=workers, **proxy_spec),
            http_service("web", port, pods[0].port, cluster_ip), *harness.pod_docs(pods)]
    return env.svcproxy(docs), (cluster_ip, port)


def raw_exchange(address, data, timeout=10):
    """Send `data` on a fresh connection and read until the proxy closes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        return harness.recv_all(sock, timeout)


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
