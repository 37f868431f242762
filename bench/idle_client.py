#!/usr/bin/python3
"""Open N keep-alive HTTP connections to HOST:PORT, send one GET on each, read the whole
answer (head and Content-Length body), then hold them all open and idle until SIGTERM.

bench/run's idle-memory client, started as a harness.Process (stopped by its PID with
SIGTERM, killed with its parent): a separate process, so the descriptors and memory of
the client side are not counted with anything we measure. Prints "open N" once every
connection has had its 200 answer, or "failed after K connections: ..." and exits 1.

  idle_client.py HOST PORT N [--path /] [--batch 500] [--timeout 60] [--tls]

--tls: each connection does a TLS handshake first (no certificate check: the benchmark's
certificate is self-signed), so the proxy holds N idle TLS sessions.
"""
import argparse
import errno
import resource
import selectors
import signal
import socket
import ssl
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def open_batch(selector, host, port, count):
    """Start `count` non-blocking connects; each socket waits to become writable."""
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex((host, port))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            raise OSError(code, f"connect: {errno.errorcode.get(code, code)}")
        selector.register(sock, selectors.EVENT_WRITE, {"sent": False, "got": b""})


def answered(data):
    """True once `data` holds a whole response: its head and Content-Length bytes of body
    (the pods answer every GET with a Content-Length)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    if not head.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(f"unexpected answer {head[:40]!r}")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    raise ConnectionError(f"answer without Content-Length {head[:200]!r}")


def handshake_step(selector, sock, state):
    """One step of a non-blocking TLS handshake; True once it is done."""
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        selector.modify(sock, selectors.EVENT_READ, state)
        return False
    except ssl.SSLWantWriteError:
        selector.modify(sock, selectors.EVENT_WRITE, state)
        return False
    state["handshaken"] = True
    return True


def complete(selector, request, deadline, tls):
    """Drive the registered sockets until each has read one whole response. Returns the
    finished sockets."""
    done = []
    while selector.get_map():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(selector.get_map())} connections unanswered")
        for key, _ in selector.select(timeout=1.0):
            sock, state = key.fileobj, key.data
            if not state.get("connected"):
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, f"connect: {errno.errorcode.get(error, error)}")
                state["connected"] = True
                if tls:
                    selector.unregister(sock)
                    sock = tls.wrap_socket(sock, do_handshake_on_connect=False)
                    selector.register(sock, selectors.EVENT_WRITE, state)
            if tls and not state.get("handshaken") and not handshake_step(selector, sock, state):
                continue
            if not state["sent"]:
                sock.send(request)
                state["sent"] = True
                selector.modify(sock, selectors.EVENT_READ, state)
                continue
            try:
                data = sock.recv(65536)
                while tls and sock.pending():
                    data += sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            if not data:
                raise ConnectionError("the proxy closed a connection before answering")
            state["got"] += data
            if answered(state["got"]):
                selector.unregister(sock)
                done.append(sock)
    return done


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--path", default="/")
    parser.add_argument("--batch", type=int, default=500, help="connects in flight at once")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--tls", action="store_true")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    raise_nofile()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\n\r\n".encode()
    deadline = time.monotonic() + args.timeout
    held = []
    try:
        with selectors.DefaultSelector() as selector:
            while len(held) < args.count:
                open_batch(selector, args.host, args.port,
                           min(args.batch, args.count - len(held)))
                held += complete(selector, request, deadline, tls)
    except (OSError, TimeoutError, ConnectionError) as failure:
        print(f"failed after {len(held)} connections: {failure}", flush=True)
        sys.exit(1)
    print(f"open {len(held)}", flush=True)
    while True:  # until bench/run has measured and stops us (SIGTERM)
        signal.pause()


if __name__ == "__main__":
    main()
