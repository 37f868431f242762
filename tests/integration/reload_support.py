"""Shared pieces of the reload and drain tests (issue 5): wrk in the background, whether a
port is open or refused, a WebSocket opened with a raw handshake, a raw L4 stream, and
rewriting the configuration the way an editor or a ConfigMap update does."""
import errno
import os
import re
import shutil
import signal
import socket

import harness

WRK = shutil.which("wrk") or "/usr/bin/wrk"


def port_state(ip, port, timeout=2):
    """'open', 'refused', or the errno name of whatever else happened."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            code = s.connect_ex((ip, port))
        except socket.timeout:
            return "timeout"
    if code == 0:
        return "open"
    return "refused" if code == errno.ECONNREFUSED else errno.errorcode.get(code, str(code))


# ---------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------


class Wrk(harness.Process):
    """wrk for up to `duration`; stop() with SIGINT makes it print its summary early."""

    def __init__(self, url, workdir, threads=1, connections=8, duration="120s",
                 timeout="5s", name="wrk", headers=()):
        argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}",
                "--timeout", timeout, *(a for h in headers for a in ("-H", h)), url]
        super().__init__(argv, os.path.join(workdir, f"{name}.log"))

    def finish(self, timeout=15):
        """Stops wrk (SIGINT: it prints its summary) and returns the parsed summary."""
        code = self.stop(timeout=timeout, signum=signal.SIGINT)
        return parse_wrk(self.log_text(), code)


def parse_wrk(text, code=0):
    """{'requests', 'non_2xx', 'socket_errors': {...}, 'text'} from wrk's summary."""
    requests = re.search(r"^\s*(\d+) requests in ", text, re.M)
    if code not in (0, None) or not requests:
        raise AssertionError(f"wrk failed (exit {code}):\n{text}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    names = ("connect", "read", "write", "timeout")
    return {"requests": int(requests.group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": dict(zip(names, map(int, errors.groups()))) if errors
            else dict.fromkeys(names, 0),
            "text": text}


# ---------------------------------------------------------------------------------------
# Long-lived connections
# ---------------------------------------------------------------------------------------


def read_head(sock):
    """Reads one response head (and whatever followed it in the same reads)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return harness.parse_response(head + b"\r\n\r\n"), rest


def open_websocket(address, timeout=10):
    """A raw-socket WebSocket handshake; returns (socket, response) — 101 or not."""
    sock = socket.create_connection(address, timeout=timeout)
    sock.sendall(b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    response, rest = read_head(sock)
    if response.status != 200 and response.status != 101:
        sock.close()
        raise AssertionError(f"upgrade answered {response.status}")
    if response.status == 200:
        # A pod without WebSocket support answered (Content-Length body); not ours.
        sock.close()
        return None, response
    assert not rest, rest
    return sock, response


def echo_round_trip(sock, message):
    """Sends `message` and reads back exactly as many bytes; True if they are the same."""
    sock.sendall(message)
    echoed = b""
    while len(echoed) < len(message):
        chunk = sock.recv(65536)
        if not chunk:
            return False
        echoed += chunk
    return echoed == message


# ---------------------------------------------------------------------------------------
# Configuration files
# ---------------------------------------------------------------------------------------


def save_by_rename(path, documents):
    """An editor's save: write a temporary next to the file, rename it over the file."""
    temporary = path + ".swp~"
    harness.write_yaml(temporary, documents)
    os.replace(temporary, path)


def write_text_by_rename(path, text):
    temporary = path + ".swp~"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)
