"""Integration-test harness: real nginx pods on loopback, the svcproxy binary, sockets, and a
tiny test runner. Used by tests/integration/test_*.py, scripts/demo.sh (through pods.py)
and bench/.

Every process started here is tracked by PID, stopped by PID with a bounded wait, and
killed by the kernel if this Python process dies first (PR_SET_PDEATHSIG), so a failed or
timed-out test never leaves an nginx or svcproxy behind. Every wait is bounded.
"""
import argparse
import ctypes
import dataclasses
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from backend import pattern_bytes  # noqa: E402  (re-exported for tests)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PYTHON = sys.executable or "/usr/bin/python3"
POD_PATTERN = re.compile(r"\bpod=(\S+)")

# ---------------------------------------------------------------------------------------
# Addresses and ports
# ---------------------------------------------------------------------------------------


def port_is_free(ip, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


def free_port(ip="127.0.0.1"):
    """A port the kernel says is free on `ip` right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def free_port_on_all(ips, attempts=50):
    """One port free on every address: pods of a Service share a targetPort, as in a cluster."""
    for _ in range(attempts):
        port = free_port(ips[0])
        if all(port_is_free(ip, port) for ip in ips):
            return port
    raise RuntimeError(f"no common free port on {ips}")


def free_node_port(ips=("127.0.0.1",), first=30000, last=32767, attempts=200):
    """A NodePort inside the range (the ephemeral range starts above it, so pick at random)."""
    for _ in range(attempts):
        port = random.randint(first, last)
        if all(port_is_free(ip, port) for ip in ips):
            return port
    raise RuntimeError("no free NodePort")


def random_ip(network="127.96.0.0/12"):
    """A random host address of `network`, never 127.0.0.1 nor the pods' 127.0.1.0/24."""
    net = ipaddress.ip_network(network)
    reserved = ipaddress.ip_network("127.0.0.0/16")
    while True:
        ip = net[random.randint(1, net.num_addresses - 2)]
        if ip not in reserved and int(ip) & 0xFF not in (0, 255):
            return str(ip)


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL when we die (even by SIGKILL from a ctest timeout)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def can_connect(ip, port, timeout=0.2):
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


class Process:
    """A child process in its own session, stopped by its PID only. `nofile` sets its
    RLIMIT_NOFILE (soft and hard) before it runs, as `ulimit -n` would."""

    def __init__(self, argv, log_path, cwd=None, nofile=None):
        self.argv = argv
        self.log_path = log_path
        self.cwd = cwd
        self.nofile = nofile
        self.popen = None

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def start(self):
        nofile = self.nofile

        def prepare():
            _die_with_parent()
            if nofile is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.cwd,
                start_new_session=True, preexec_fn=prepare)
        return self

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def send_signal(self, signum):
        if self.running():
            os.kill(self.popen.pid, signum)

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=5, signum=signal.SIGTERM):
        """Signal, wait up to `timeout`, then SIGKILL the process group we created."""
        if self.popen is None:
            return None
        if self.running():
            os.kill(self.popen.pid, signum)
        code = self.wait(timeout)
        if code is None:
            self._kill_group()
            code = self.wait(5)
        return code

    def _kill_group(self):
        # start_new_session made the child the leader of a group whose id is its PID; this
        # also reaps nginx workers whose master we had to kill.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


# ---------------------------------------------------------------------------------------
# Pods
# ---------------------------------------------------------------------------------------

NGINX_CONF = """\
{user}master_process {master_process};
worker_processes 1;
{worker_rlimit}pid {dir}/nginx.pid;
error_log {dir}/error.log {error_level};
events {{ worker_connections {worker_connections}; }}
http {{
  access_log {access_log};
  client_body_temp_path {dir}/tmp/body;
  proxy_temp_path {dir}/tmp/proxy;
  fastcgi_temp_path {dir}/tmp/fastcgi;
  uwsgi_temp_path {dir}/tmp/uwsgi;
  scgi_temp_path {dir}/tmp/scgi;
  default_type text/plain;
  keepalive_timeout {keepalive_timeout};
  keepalive_requests {keepalive_requests};
  client_max_body_size 0;
  server {{
    listen {ip}:{port}{ssl};
    server_name _;{certificate}
    root {files};
    # Echo what arrived so tests can see what the proxy sent. nginx omits a header whose
    # value is empty: an absent X-Echo-* means the request had no such header.
    add_header X-Pod "{name}" always;
    add_header X-Echo-Forwarded-For $http_x_forwarded_for always;
    add_header X-Echo-Forwarded-Proto $http_x_forwarded_proto always;
    add_header X-Echo-Forwarded-Host $http_x_forwarded_host always;
    add_header X-Echo-Host $host always;
    add_header X-Echo-Method $request_method always;
    add_header X-Echo-Connection $connection always;
    add_header X-Echo-Connection-Requests $connection_requests always;
    add_header X-Echo-Ssl-Session-Reused $ssl_session_reused always;
    location / {{ return 200 "{name}\\n"; }}
    # Static files under root (e.g. /large.bin from NginxPod(files=...)); a body sent to
    # them is read and discarded.
    location /files/ {{ alias {files}/; }}
  }}
}}
"""


class NginxPod(Process):
    """One pod = one nginx (daemon off) with its own prefix, conf, pid and logs.

    Answers every request with its name in the body and an X-Pod header; /files/NAME
    serves files from `files` (see make_file). By default nginx runs as a single process
    (master_process off): if the test process is SIGKILLed (a ctest timeout), the kernel
    kills that one process through PDEATHSIG, whereas a master's orphaned worker would keep
    the port. A benchmark can ask for a real master with workers, no access log (tests
    read it; a benchmark would measure its writes), more connections (worker_connections
    and the worker's RLIMIT_NOFILE) and more requests per connection."""

    def __init__(self, name, ip, port, workdir, keepalive_timeout="75s", files=None,
                 master_process=False, access_log=True, keepalive_requests=100000,
                 worker_connections=1024, tls=None, tls_protocols=None):
        self.name, self.ip, self.port = name, ip, port
        self.tls = tls  # (certificate path, key path): the pod speaks HTTPS
        self.tls_protocols = tls_protocols  # nginx's ssl_protocols, e.g. "TLSv1.3"
        self.dir = os.path.join(workdir, "pods", name)
        self.files = files or os.path.join(self.dir, "files")
        self.keepalive_timeout = keepalive_timeout
        self.master_process = master_process
        self.access_log = access_log
        self.keepalive_requests = keepalive_requests
        self.worker_connections = worker_connections
        conf = os.path.join(self.dir, "nginx.conf")
        super().__init__([NGINX, "-p", self.dir, "-c", conf, "-e", f"{self.dir}/error.log",
                          "-g", "daemon off;"], os.path.join(self.dir, "stderr.log"))

    @property
    def address(self):
        return (self.ip, self.port)

    def write_conf(self):
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        os.makedirs(self.files, exist_ok=True)
        # Root with workers: run them as root so they can read our 0700 temp dirs. Without
        # root nginx cannot switch users, and a single process never does.
        user = "user root;\n" if os.geteuid() == 0 and self.master_process else ""
        certificate = (f"\n    ssl_certificate {self.tls[0]};\n    ssl_certificate_key {self.tls[1]};"
                       if self.tls else "")
        if self.tls and self.tls_protocols:
            certificate += f"\n    ssl_protocols {self.tls_protocols};"
        text = NGINX_CONF.format(user=user, dir=self.dir, ip=self.ip, port=self.port,
                                 ssl=" ssl" if self.tls else "", certificate=certificate,
                                 name=self.name, files=self.files,
                                 master_process="on" if self.master_process else "off",
                                 keepalive_timeout=self.keepalive_timeout,
                                 keepalive_requests=self.keepalive_requests,
                                 worker_connections=self.worker_connections,
                                 worker_rlimit=self._worker_rlimit(),
                                 error_level="info" if self.access_log else "warn",
                                 access_log=os.path.join(self.dir, "access.log")
                                 if self.access_log else "off")
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(text)

    def _worker_rlimit(self):
        # Above the default 1024 descriptors a worker needs its limit raised; nginx can
        # raise it up to the hard limit it inherits (no further without CAP_SYS_RESOURCE).
        if self.worker_connections <= 1000:
            return ""
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        wanted = 2 * self.worker_connections + 64
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        return f"worker_rlimit_nofile {wanted};\n"

    def start(self, timeout=10):
        self.write_conf()
        super().start()
        wait_until(lambda: can_connect(self.ip, self.port) or not self.running(), timeout,
                   what=f"nginx pod {self.name} on {self.ip}:{self.port}")
        if not self.running():
            raise RuntimeError(f"nginx pod {self.name} exited:\n{self.log_text()}"
                               f"{_read(os.path.join(self.dir, 'error.log'))}")
        return self

    def requests_seen(self):
        """Lines of this pod's access log: what actually reached it."""
        return _read(os.path.join(self.dir, "access.log")).splitlines()

    def quit(self, timeout=10):
        """Graceful stop, as `nginx -s quit`: SIGQUIT, in-flight requests finish, then the
        process exits. Returns its exit code (None if it did not exit in time)."""
        self.send_signal(signal.SIGQUIT)
        return self.wait(timeout)


class PythonPod(Process):
    """A backend.py pod: hashes uploaded bodies, answers slowly (?delay=, or every request
    with delay=SECONDS), (mode='eof') answers a raw TCP stream only after the client's
    half-close, or (mode='reset') resets every connection it accepts.

    record=True: the pod logs every request head it received and whether the request
    arrived whole (heads(), seen(), aborted()). fail="POST,PATCH" (or "*"): such requests
    are read whole, logged as seen, and then get no answer: the connection is reset
    (fail_how="reset") or closed (fail_how="close")."""

    def __init__(self, name, ip, port, workdir, mode="http", delay=0, record=False, fail="",
                 fail_how="reset"):
        self.name, self.ip, self.port, self.mode = name, ip, port, mode
        self.dir = os.path.join(workdir, "pods", name)
        os.makedirs(self.dir, exist_ok=True)
        argv = [PYTHON, os.path.join(HERE, "backend.py"), "--name", name,
                "--listen", f"{ip}:{port}", "--mode", mode, "--delay", str(delay)]
        if record:
            argv.append("--record")
        if fail:
            argv += ["--fail", fail, "--fail-how", fail_how]
        super().__init__(argv, os.path.join(self.dir, "backend.log"))

    @property
    def address(self):
        return (self.ip, self.port)

    def start(self, timeout=10):
        super().start()
        wait_until(lambda: "ready" in self.log_text() or not self.running(), timeout,
                   what=f"python pod {self.name}")
        if not self.running():
            raise RuntimeError(f"python pod {self.name} exited:\n{self.log_text()}")
        return self

    def _records(self, kind):
        prefix = kind + " "
        return [line[len(prefix):] for line in self.log_text().splitlines()
                if line.startswith(prefix)]

    def heads(self):
        """Request heads as they reached the pod (record=True): dicts with method, target,
        version and headers ([name, value] pairs in arrival order, names as sent)."""
        return [json.loads(line) for line in self._records("head")]

    def seen(self):
        """'METHOD TARGET' of every request the pod read whole (and so could act on)."""
        return self._records("seen")

    def aborted(self):
        """'METHOD TARGET: why' of every request whose connection broke before it was whole."""
        return self._records("aborted")


def make_file(path, size):
    """Write `size` bytes of pattern_bytes() to `path`; returns the sha256 hex digest."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = pattern_bytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------------------------------
# Kubernetes documents
# ---------------------------------------------------------------------------------------


def pod_doc(name, ip, port, labels=None, namespace="default", port_name="http",
            readiness_probe=None):
    container = {"name": "main", "ports": [{"name": port_name, "containerPort": port}]}
    if readiness_probe:
        container["readinessProbe"] = readiness_probe
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": labels or {"app": "web"}},
            "spec": {"containers": [container]},
            "status": {"podIP": ip}}


def http_probe(path="/", port="http", period=1, failures=1, successes=1, timeout=1,
               initial_delay=0):
    """A readinessProbe (httpGet) as in a Pod spec; durations in seconds."""
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period,
            "failureThreshold": failures, "successThreshold": successes,
            "timeoutSeconds": timeout, "initialDelaySeconds": initial_delay}


def service_doc(name, port, target_port, type="ClusterIP", cluster_ip=None, node_port=None,
                selector=None, load_balancer_ip=None, ingress_ips=(), namespace="default",
                annotations=None, **extra_spec):
    """A one-port Service; `extra_spec` adds spec fields as written in YAML (e.g.
    sessionAffinity="ClientIP", publishNotReadyAddresses=True)."""
    port_spec = {"name": "main", "protocol": "TCP", "port": port, "targetPort": target_port}
    if node_port is not None:
        port_spec["nodePort"] = node_port
    spec = {"type": type, "selector": selector or {"app": "web"}, "ports": [port_spec]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    if load_balancer_ip:
        spec["loadBalancerIP"] = load_balancer_ip
    spec.update(extra_spec)
    doc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    if annotations:
        doc["metadata"]["annotations"] = annotations
    if ingress_ips:
        doc["status"] = {"loadBalancer": {"ingress": [{"ip": ip} for ip in ingress_ips]}}
    return doc


def proxy_config_doc(admin_port, workers=2, drain="10s", service_cidr="127.96.0.0/12",
                     **extra_spec):
    # No kube-proxy health listener unless a test asks: instances would contend for 10256.
    spec = {"nodePortAddresses": ["127.0.0.1"], "serviceCIDR": service_cidr,
            "adminAddress": f"127.0.0.1:{admin_port}", "healthzAddress": "", "workers": workers,
            "timeouts": {"connect": "1s", "idle": "60s", "drain": drain}}
    spec.update(extra_spec)
    return {"apiVersion": "svcproxy.io/v1", "kind": "ProxyConfig",
            "metadata": {"name": "test"}, "spec": spec}


def write_yaml(path, documents):
    with open(path, "w") as f:
        yaml.safe_dump_all(documents, f, sort_keys=False)
    return path


# ---------------------------------------------------------------------------------------
# svcproxy
# ---------------------------------------------------------------------------------------


class Svcproxy(Process):
    """The binary under test with a generated config; stderr (the log) goes to a file."""

    READY = "svcproxy ready"

    def __init__(self, binary, workdir, documents, log_level="debug", name="svcproxy",
                 nofile=None):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_path = write_yaml(os.path.join(self.dir, "config.yaml"), documents)
        super().__init__([binary, "--config", self.config_path, "--log-level", log_level],
                         os.path.join(self.dir, "svcproxy.log"), nofile=nofile)

    def start(self, timeout=15):
        """Start and wait for the ready line (logged once every listener is bound). No
        probe connections: they would take a turn of the round-robin."""
        super().start()
        wait_until(lambda: self.READY in self.log_text() or not self.running(), timeout,
                   what="'svcproxy ready' in the log")
        if not self.running():
            raise RuntimeError(f"svcproxy exited with {self.popen.returncode}:\n"
                               f"{self.log_text()}")
        return self

    def wait_for_log(self, pattern, timeout=5, since=0):
        """Wait until `pattern` (regex) matches a log line after character offset `since`
        (len(log_text()) taken before an action); returns the match."""
        found = []

        def matched():
            found[:] = [m for m in map(re.compile(pattern).search,
                                       self.log_text()[since:].splitlines()) if m]
            return bool(found)
        wait_until(matched, timeout, what=f"log line matching {pattern!r}")
        return found[0]

    def log_lines(self, pattern, since=0):
        """[(time, line)] of the log lines after offset `since` matching `pattern` (regex);
        time is the line's own timestamp as seconds since the epoch (time.time() scale)."""
        found = []
        for line in self.log_text()[since:].splitlines():
            if re.search(pattern, line):
                found.append((log_time(line), line))
        return found

    def access_log_pods(self):
        """Pods named by the access-log lines, in order."""
        return [m.group(1) for m in map(POD_PATTERN.search, self.log_text().splitlines())
                if m]


def log_time(line):
    """The leading UTC timestamp of a log line (2024-05-01T12:00:00.123Z) as epoch seconds."""
    stamp = line.split(" ", 1)[0]
    moment = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def rss_kib(pid):
    """VmRSS of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


class PeakRss:
    """The largest VmRSS of `pid` seen every 50 ms until stop()."""

    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.done.wait(0.05):
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:  # the process exited; the test reports why
                return

    def stop(self):
        self.done.set()
        self.thread.join(timeout=5)
        return self.peak


def run_binary(binary, args, timeout=30):
    """Run svcproxy to completion (e.g. --check); stdout and stderr are kept apart."""
    return subprocess.run([binary, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout, preexec_fn=_die_with_parent)


# ---------------------------------------------------------------------------------------
# Sockets and HTTP
# ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Response:
    status: int
    headers: dict  # lower-case names; the last value wins
    body: bytes


def recv_all(sock, timeout=10):
    """Read until EOF; raises TimeoutError if the peer neither sends nor closes in time."""
    sock.settimeout(timeout)
    chunks = []
    while data := sock.recv(256 * 1024):
        chunks.append(data)
    return b"".join(chunks)


def tcp_exchange(address, data, half_close=True, timeout=10, source_ip=None):
    """Connect (from `source_ip` if given, e.g. 127.0.0.2), send `data`, optionally
    shutdown(SHUT_WR), read the answer to EOF."""
    source = (source_ip, 0) if source_ip else None
    with socket.create_connection(address, timeout=timeout, source_address=source) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return recv_all(sock, timeout)


def parse_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"no complete HTTP response in {raw[:200]!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


def http10_get(address, path="/", half_close=False, timeout=10, source_ip=None):
    """A raw HTTP/1.0 GET: one request per TCP connection, read until the server closes."""
    request = f"GET {path} HTTP/1.0\r\nHost: {address[0]}\r\n\r\n".encode()
    return parse_response(tcp_exchange(address, request, half_close, timeout, source_ip))


def http_request(address, method="GET", path="/", body=None, headers=None, timeout=10):
    """One request with http.client (HTTP/1.1)."""
    conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()},
                        reply.read())
    finally:
        conn.close()


def pods_answering(address, count, path="/", source_ip=None):
    """X-Pod of `count` sequential one-shot connections."""
    return [http10_get(address, path, source_ip=source_ip).headers.get("x-pod")
            for _ in range(count)]


class RequestStream:
    """A steady stream of one-shot HTTP/1.0 requests from a background thread, one every
    `interval` seconds, each recorded as (time.time(), X-Pod or None, error or None).
    Use as a context manager; the thread stops (bounded) on exit."""

    def __init__(self, address, interval=0.02, timeout=5, source_ip=None):
        self.address, self.interval, self.timeout = address, interval, timeout
        self.source_ip = source_ip
        self.results = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            started = time.time()
            try:
                pod = http10_get(self.address, timeout=self.timeout,
                                 source_ip=self.source_ip).headers.get("x-pod")
                self.results.append((started, pod, None))
            except (OSError, ValueError) as error:
                self.results.append((started, None, repr(error)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(self.timeout + 5)

    def pods_between(self, start, end=float("inf")):
        """X-Pod of the requests sent in [start, end)."""
        return [pod for t, pod, error in list(self.results) if start <= t < end and not error]

    def errors(self):
        return [(t, error) for t, pod, error in list(self.results) if error]


def tally(names):
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------
# Per-test environment
# ---------------------------------------------------------------------------------------


class Env:
    """What a test gets: a temp dir, the binary, and factories whose processes are all
    stopped by PID when the test ends, passed or not."""

    def __init__(self, binary, source_dir, name):
        self.binary = binary
        self.source_dir = source_dir
        self.workdir = tempfile.mkdtemp(prefix=f"svcproxy-{name}-")
        self.processes = []

    def track(self, process):
        self.processes.append(process)
        return process

    def nginx_pod(self, name, ip, port, **options):
        return self.track(NginxPod(name, ip, port, self.workdir, **options)).start()

    def python_pod(self, name, ip, port, mode="http", delay=0, **options):
        return self.track(PythonPod(name, ip, port, self.workdir, mode, delay,
                                    **options)).start()

    def web_pods(self, count=3, prefix="web", **options):
        """`count` nginx pods web-1.. on 127.0.1.1.. sharing one free port, like a Deployment."""
        ips = [f"127.0.1.{i}" for i in range(1, count + 1)]
        port = free_port_on_all(ips)
        return [self.nginx_pod(f"{prefix}-{i}", ip, port, **options)
                for i, ip in enumerate(ips, 1)]

    def svcproxy(self, documents, **options):
        return self.track(Svcproxy(self.binary, self.workdir, documents, **options)).start()

    def close(self, keep_dir):
        for process in reversed(self.processes):
            process.stop(timeout=5)
        if not keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def pod_docs(pods, labels=None, readiness_probe=None):
    return [pod_doc(p.name, p.ip, p.port, labels, readiness_probe=readiness_probe)
            for p in pods]


# ---------------------------------------------------------------------------------------
# Test runner
# ---------------------------------------------------------------------------------------


class Skip(Exception):
    """Raise to skip a test; the message says why."""


class TestTimeout(Exception):
    pass


_TESTS = []


def test(timeout=60):
    """Register `fn(env)` as a test, bounded by `timeout` seconds."""
    def register(fn):
        _TESTS.append((fn, timeout))
        return fn
    return register


def _on_alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def _run_one(fn, timeout, args):
    env = Env(args.binary, args.source_dir, fn.__name__)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    outcome = "FAIL"
    interrupted = False
    try:
        fn(env)
        outcome = "PASS"
    except KeyboardInterrupt:
        interrupted = True
        print(f"FAIL {fn.__name__}: interrupted", flush=True)
    except Skip as skip:
        outcome = "SKIP"
        print(f"SKIP {fn.__name__}: {skip}", flush=True)
    except BaseException:
        print(f"FAIL {fn.__name__}", flush=True)
        traceback.print_exc()
        print(f"  (files kept in {env.workdir})", flush=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        env.close(keep_dir=outcome == "FAIL")
    if interrupted:
        raise KeyboardInterrupt  # stop the whole file; its processes are already stopped
    if outcome == "PASS":
        print(f"PASS {fn.__name__}", flush=True)
    return outcome


def _stop_on_signal(signum, frame):
    # ctest or a user stopping us: unwind so every Env closes its processes by PID.
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="the svcproxy binary under test")
    parser.add_argument("--source-dir", required=True, help="the repository root")
    parser.add_argument("-k", dest="only", help="run only tests whose name contains this")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    results = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for fn, timeout in _TESTS:
        if args.only and args.only not in fn.__name__:
            continue
        results[_run_one(fn, timeout, args)] += 1
    line = f"{results['PASS']} passed, {results['FAIL']} failed"
    if results["SKIP"]:
        line += f", {results['SKIP']} skipped"
    print(line, flush=True)
    sys.exit(1 if results["FAIL"] else 0)
