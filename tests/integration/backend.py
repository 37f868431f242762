#!/usr/bin/env python3
"""A tiny pod for what nginx cannot do: hash an uploaded body, answer slowly, or answer
only after the client's EOF. Runs as its own process so a test can stop it by PID.

  backend.py --name sink-1 --listen 127.0.1.1:8080 [--mode http|eof|reset] [--delay S]
             [--record] [--fail METHODS [--fail-how reset|close]]

http mode (HTTP/1.1, keep-alive): every request gets X-Pod: NAME. A request body
(Content-Length or chunked) is read in small pieces and answered with its length and
sha256. Query parameters: delay=SECONDS waits before answering; bytes=N answers with N
bytes of pattern_bytes() instead of the pod name, and truncate=M then sends only the first M
of them before closing (a pod dying mid-body). --delay S delays every answer by S
seconds (a slow pod, whatever the request). A request with `Upgrade: websocket` is
answered 101 (Sec-WebSocket-Accept as RFC 6455 says) and every byte after it is echoed
until the client closes. A request with `Upgrade: h2c` and an HTTP2-Settings field is
answered 101 (as an h2c-capable server would), and switch=1 in the query gets a 101 whatever
the request (a pod switching protocols unasked); either way the connection then closes.

--record writes to the log (stderr) one line per request head as it arrived,
`head {"peer" (the client's port: which connection), "method", "target", "version",
"headers": [[name, value], ...]}`, then
`seen METHOD TARGET` once the whole request (body included) was read, or
`aborted METHOD TARGET: WHY` when the connection broke before the request was complete.
--fail METHODS (comma-separated, or `*`): a request with one of these methods is read whole,
logged as `seen` (so it "ran"), and then, without any answer, the connection is reset
(SO_LINGER 0; --fail-how reset) or closed (--fail-how close). Implies --record.

eof mode (raw TCP): reads until the client shuts down its write side, then answers
"NAME length=N sha256=HEX\n" and closes — it can only answer if half-close got through.

udp mode: HTTP as in http mode on TCP, and on UDP at the same address every datagram is
answered with "NAME:" followed by the datagram (an echo that names the pod)

reset mode (raw TCP): accepts every connection and closes it at once with an RST
(SO_LINGER 0) — a broken pod whose port is open.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

CHUNK = 64 * 1024
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def pattern_bytes(size):
    """Deterministic, incompressible-enough content both sides can regenerate."""
    block = hashlib.sha256(b"svcproxy").digest() * (CHUNK // 32)
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def body_summary(name, length, digest):
    return f"{name} length={length} sha256={digest}\n".encode()


class BodyReader:
    """Reads a request body in CHUNK pieces, hashing as it goes (never whole in memory)."""

    def __init__(self, rfile):
        self.rfile = rfile
        self.hash = hashlib.sha256()
        self.length = 0
        self.trailers = []

    def _consume(self, data):
        self.hash.update(data)
        self.length += len(data)

    def read_fixed(self, remaining):
        while remaining > 0:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                raise ConnectionError("body ended early")
            self._consume(data)
            remaining -= len(data)

    def _line(self):
        line = self.rfile.readline(1 << 20)
        if not line.endswith(b"\n"):
            raise ConnectionError("connection ended inside the chunked framing")
        return line

    def read_chunked(self):
        """A chunked body up to the end of its trailer section; a connection that ends
        anywhere before that is an aborted request (ConnectionError), never a short body."""
        while True:
            size = int(self._line().split(b";")[0].strip(), 16)
            if size == 0:
                self.trailers = []
                while (line := self._line()) not in (b"\r\n", b"\n"):
                    self.trailers.append(line.rstrip(b"\r\n").decode("latin-1"))
                return
            self.read_fixed(size)
            self._line()  # CRLF after each chunk


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pod_name = "backend"
    default_delay = 0.0
    record = False
    fail_methods = frozenset()
    fail_how = "reset"
    log_lock = threading.Lock()

    def _record(self, line):
        if self.record:
            with self.log_lock:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

    def _record_head(self):
        self._record("head " + json.dumps({
            "peer": self.client_address[1],
            "method": self.command, "target": self.path, "version": self.request_version,
            "headers": [[name, value] for name, value in self.headers.items()]}))

    def _fails(self):
        return "*" in self.fail_methods or self.command in self.fail_methods

    def _drop_connection(self):
        """No answer at all: RST (SO_LINGER 0) or a plain close (FIN)."""
        self.close_connection = True
        sock = self.connection
        if self.fail_how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(sock.detach())  # the fd itself, whatever rfile/wfile still hold
        else:
            sock.shutdown(socket.SHUT_RDWR)

    def log_message(self, fmt, *args):  # keep test output quiet; stderr is the log file
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _read_body(self):
        reader = BodyReader(self.rfile)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            reader.read_chunked()
        elif self.headers.get("Content-Length"):
            reader.read_fixed(int(self.headers["Content-Length"]))
        else:
            return None
        return reader

    def _echo_upgraded(self):
        key = self.headers.get("Sec-WebSocket-Key", "").encode()
        accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Pod", self.pod_name)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while data := self.rfile.read1(CHUNK):
                self.connection.sendall(data)
        except OSError:
            pass

    def _switch_unasked(self):
        self.send_response(101)
        self.send_header("Upgrade", "h2c")
        self.send_header("Connection", "Upgrade")
        self.send_header("X-Pod", self.pod_name)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

    def _answer(self):
        self._record_head()
        upgrade = self.headers.get("Upgrade", "").lower()
        if upgrade == "websocket":
            self._record(f"seen {self.command} {self.path}")
            return self._echo_upgraded()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        try:
            reader = self._read_body()
        except (OSError, ValueError) as error:  # ConnectionError is an OSError
            self._record(f"aborted {self.command} {self.path}: {error!r}")
            self.close_connection = True
            return
        self._record(f"seen {self.command} {self.path}")
        if self._fails():
            return self._drop_connection()
        if (upgrade == "h2c" and "HTTP2-Settings" in self.headers) or "switch" in query:
            return self._switch_unasked()
        time.sleep(float(query.get("delay", [self.default_delay])[0]))
        if reader is not None:
            body = body_summary(self.pod_name, reader.length, reader.hash.hexdigest())
        elif "bytes" in query:
            body = pattern_bytes(int(query["bytes"][0]))
        else:
            body = f"{self.pod_name}\n".encode()
        self.send_response(200)
        self.send_header("X-Pod", self.pod_name)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if reader is not None:
            self.send_header("X-Body-Length", str(reader.length))
            self.send_header("X-Body-Sha256", reader.hash.hexdigest())
        self.end_headers()
        if self.command == "HEAD":
            return
        if "truncate" in query:  # a pod that dies mid-body: fewer bytes than announced
            self.wfile.write(body[:int(query["truncate"][0])])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _answer


class ThreadingHTTPServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128  # a proxy opening a burst of pooled connections is not refused


def serve_eof_connection(conn, name):
    """Read to EOF, then answer: proves the client's half-close reached us."""
    with conn:
        digest, length = hashlib.sha256(), 0
        while data := conn.recv(CHUNK):
            digest.update(data)
            length += len(data)
        try:
            conn.sendall(body_summary(name, length, digest.hexdigest()))
        except OSError:
            pass  # a readiness probe that already left


def serve_eof(address, name):
    server = socket.create_server(address, reuse_port=False)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_eof_connection, args=(conn, name), daemon=True).start()


def serve_reset(address):
    server = socket.create_server(address, reuse_port=False)
    print("ready", flush=True)
    linger = struct.pack("ii", 1, 0)
    while True:
        conn, _ = server.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        conn.close()


def serve_udp_echo(address, name):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(address)
    prefix = name.encode() + b":"
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(prefix + data, peer)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--listen", required=True, help="IP:PORT")
    parser.add_argument("--mode", choices=["http", "eof", "reset", "udp"], default="http")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds before every answer (http mode)")
    parser.add_argument("--record", action="store_true",
                        help="log every request head and whether the request completed")
    parser.add_argument("--fail", default="",
                        help="METHOD,METHOD or *: read these requests whole, then no answer")
    parser.add_argument("--fail-how", choices=["reset", "close"], default="reset")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    host = host.strip("[]")  # "[fd00::1]:8080" or "fd00::1:8080": an IPv6 pod
    if args.mode == "eof":
        serve_eof((host, int(port)), args.name)
        return
    if args.mode == "reset":
        serve_reset((host, int(port)))
        return
    Handler.default_delay = args.delay
    Handler.fail_methods = frozenset(m for m in args.fail.split(",") if m)
    Handler.fail_how = args.fail_how
    Handler.record = args.record or bool(Handler.fail_methods)
    Handler.pod_name = args.name
    if args.mode == "udp":
        threading.Thread(target=serve_udp_echo, args=((host, int(port)), args.name),
                         daemon=True).start()
    server_class = ThreadingHTTPServer
    if ":" in host:
        server_class = type("ThreadingHTTPServer6", (ThreadingHTTPServer,),
                            {"address_family": socket.AF_INET6})
    server = server_class((host, int(port)), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
