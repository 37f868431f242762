"""etcd for the cluster-mode tests: one or three members on loopback ports picked at run time,
data in the test's own directory, each member started and stopped by its PID (and killed by
the kernel if the test process dies: harness.Process). The helpers speak etcd's v3 JSON
gateway with urllib, as a user with curl would."""
import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import admin
import harness

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


def require_etcd():
    if not os.path.exists(ETCD):
        raise harness.Skip("etcd is not installed (Debian etcd-server: scripts/install-deps.sh)")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def unb64(text):
    return base64.b64decode(text).decode()


def prefix_end(prefix):
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class EtcdMember(harness.Process):
    def __init__(self, name, workdir, client_port, peer_port, initial_cluster, state="new",
                 host="127.0.0.1"):
        self.name = name
        self.client_port = client_port
        self.client_url = f"http://{host}:{client_port}"
        self.peer_url = f"http://{host}:{peer_port}"
        data_dir = os.path.join(workdir, f"etcd-{name}")
        argv = [ETCD, "--name", name, "--data-dir", data_dir,
                "--listen-client-urls", self.client_url,
                "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url,
                "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", initial_cluster,
                "--initial-cluster-state", state,
                "--initial-cluster-token", f"svcproxy-test-{os.getpid()}",
                # Quick elections: a killed leader is replaced within a second or two.
                "--heartbeat-interval", "100", "--election-timeout", "1000",
                "--log-level", "warn"]
        super().__init__(argv, os.path.join(workdir, f"etcd-{name}.log"))


class Etcd:
    """A cluster of `members` etcd processes; `endpoints` is the comma-separated URL list."""

    def __init__(self, env, members=1):
        require_etcd()
        ports = []
        while len(ports) < members * 2:
            port = harness.free_port()
            if port not in ports:
                ports.append(port)
        names = [f"m{i}" for i in range(members)]
        initial = ",".join(f"{n}=http://127.0.0.1:{ports[2 * i + 1]}" for i, n in enumerate(names))
        self.members = [env.track(EtcdMember(n, env.workdir, ports[2 * i], ports[2 * i + 1], initial))
                        for i, n in enumerate(names)]
        for member in self.members:
            member.start()
        harness.wait_until(self.healthy, 30, interval=0.2, what="etcd answering")

    @property
    def urls(self):
        """Every member's client URL (http://127.0.0.1:PORT), as a list."""
        return [m.client_url for m in self.members]

    @property
    def endpoints(self):
        """The same URLs as one comma-separated string: what --etcd takes."""
        return ",".join(self.urls)

    def alive(self):
        return [m for m in self.members if m.running()]

    def healthy(self):
        try:
            self.call("/v3/kv/range", {"key": b64("/")}, timeout=1)
            return True
        except OSError:
            return False

    def call(self, path, body, timeout=5):
        """POST to the first live member that answers; the decoded JSON answer."""
        failure = None
        for member in self.alive():
            request = urllib.request.Request(member.client_url + path, json.dumps(body).encode(),
                                             {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as reply:
                    return json.loads(reply.read())
            except OSError as error:
                failure = error
        raise failure or OSError("no etcd member is running")

    def get_prefix(self, prefix):
        """{key: value} of every key under `prefix`."""
        answer = self.call("/v3/kv/range", {"key": b64(prefix), "range_end": b64(prefix_end(prefix))})
        return {unb64(kv["key"]): unb64(kv.get("value", "")) for kv in answer.get("kvs", [])}

    def get_json(self, key):
        value = self.get_prefix(key).get(key)
        return json.loads(value) if value is not None else None

    def revision(self):
        return int(self.call("/v3/kv/range", {"key": b64("/")})["header"]["revision"])

    def compact(self):
        revision = self.revision()
        self.call("/v3/kv/compaction", {"revision": str(revision), "physical": True})
        return revision

    def put(self, key, value):
        """Write `value` (a str) at `key`; the revision of the write."""
        answer = self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(answer["header"]["revision"])

    def delete(self, key):
        """Delete `key`; how many keys went (0 or 1). etcd 3.4 omits a zero `deleted`."""
        return int(self.call("/v3/kv/deleterange", {"key": b64(key)}).get("deleted", "0"))

    def leader(self):
        """The member that is the raft leader now (None while there is none). A member that
        does not answer (paused, or killed a moment ago) is passed over."""
        for member in self.alive():
            request = urllib.request.Request(member.client_url + "/v3/maintenance/status", b"{}",
                                             {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=2) as reply:
                    status = json.loads(reply.read())
            except (OSError, ValueError):
                continue
            # The gateway writes uint64s as strings; leader is absent while none is elected.
            if status.get("leader") and status.get("leader") == status["header"].get("member_id"):
                return member
        return None

    def pause(self, member=None):
        (member or self.members[0]).send_signal(signal.SIGSTOP)

    def resume(self, member=None):
        (member or self.members[0]).send_signal(signal.SIGCONT)

    def kill(self, member):
        member.stop(timeout=5, signum=signal.SIGKILL)

    def restart(self, member):
        """Start a stopped or killed member again on its ports and data dir (it rejoins with
        what it had: same member, same revisions)."""
        member.stop(timeout=5)
        member.start()  # etcd binds with SO_REUSEADDR: its old connections do not block it
        harness.wait_until(lambda: self._answers(member), 30, interval=0.2,
                           what=f"etcd {member.name} answering again")

    @staticmethod
    def _answers(member):
        request = urllib.request.Request(member.client_url + "/v3/kv/range",
                                         json.dumps({"key": b64("/")}).encode(),
                                         {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=1) as reply:
                json.loads(reply.read())
            return True
        except (OSError, ValueError):
            return False


def svcproxy_apply(env, etcd, paths, command="apply", extra=(), timeout=60, endpoints=None):
    """`svcproxy apply|delete -f PATH... --etcd URLS`: (exit code, stdout, stderr). URLS
    are every member's unless `endpoints` (a list) says which."""
    argv = [env.binary, command]
    for path in paths:
        argv += ["-f", path]
    argv += ["--etcd", ",".join(endpoints) if endpoints else etcd.endpoints, *extra]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=harness._die_with_parent)
    return done.returncode, done.stdout, done.stderr


def node_config(admin_port, node_name, node_address, **extra_spec):
    spec = {"nodeName": node_name, "nodePortAddresses": [node_address], "healthzAddress": "",
            "adminAddress": f"127.0.0.1:{admin_port}", "workers": 1,
            "timeouts": {"connect": "1s", "idle": "60s", "drain": "2s"}}
    spec.update(extra_spec)
    return {"apiVersion": "svcproxy.io/v1", "kind": "ProxyConfig",
            "metadata": {"name": node_name}, "spec": spec}


def start_node(env, cluster, admin_port, node_name, node_address, endpoints=None,
               **extra_spec):
    """A node: `svcproxy --config node.yaml --etcd URLS`, waited for until /readyz is 200.
    URLS are every member's, in order, unless `endpoints` (a list) says which."""
    proxy = harness.Svcproxy(env.binary, env.workdir,
                             [node_config(admin_port, node_name, node_address, **extra_spec)],
                             name=node_name)
    proxy.argv += ["--etcd", ",".join(endpoints) if endpoints else cluster.endpoints]
    env.track(proxy).start()
    harness.wait_until(lambda: admin_status(admin_port, "/readyz") == 200, 15,
                       what=f"{node_name} ready")
    return proxy


def admin_status(admin_port, path):
    try:
        return harness.http_request(("127.0.0.1", admin_port), path=path, timeout=2).status
    except OSError:
        return None


def admin_text(admin_port, path):
    return harness.http_request(("127.0.0.1", admin_port), path=path, timeout=5).body.decode()


# ---------------------------------------------------------------------------------------
# What the node tests share: manifests of an http NodePort Service over pods, apply that
# must succeed, waiting until an address answers from exactly a set of pods.
# ---------------------------------------------------------------------------------------


def http_manifests(env, pods, node_port, name="web", type="NodePort", **service):
    """A file with an appProtocol http Service `name` (port 80 -> the pods' port, the given
    nodePort) and a Pod document per pod; its path."""
    docs = [harness.service_doc(name, 80, pods[0].port, type=type, node_port=node_port,
                                annotations={}, **service)]
    docs[0]["spec"]["ports"][0]["appProtocol"] = "http"
    docs += harness.pod_docs(pods)
    return harness.write_yaml(os.path.join(env.workdir, f"{name}.yaml"), docs)


def apply_ok(env, cluster, path, command="apply"):
    """apply (or delete) that must exit 0; time.time() when it returned."""
    code, out, err = svcproxy_apply(env, cluster, [path], command=command)
    assert code == 0, (command, path, out, err)
    return time.time()


def wait_serving(address, pods, timeout=5):
    """Until `address` answers from every pod named in `pods` and from no other."""
    harness.wait_until(lambda: set(harness.pods_answering(address, len(pods) * 2)) == set(pods),
                       timeout, interval=0.05, what=f"{address} serving {pods}")


def metric(admin_port, name, **labels):
    """One sample of the node's /metrics (None if absent)."""
    return admin.value(admin.scrape(admin_port), name, **labels)


class KeepAliveStream(harness.RequestStream):
    """RequestStream's interface (results, pods_between, errors), but HTTP/1.1 requests on
    one kept-alive connection, opened again only when the proxy closes it (as a browser or
    an HTTP client pool would). A request that fails on a fresh connection is an error; one
    that fails on a reused connection is retried once on a fresh one, as clients do, and
    counted in `reconnects` (svcproxy should not close a kept-alive client connection
    because the routing changed)."""

    def __init__(self, address, interval=0.02, timeout=5):
        super().__init__(address, interval, timeout)
        self.reconnects = []

    def _run(self):
        conn = None
        while not self._stop.is_set():
            started = time.time()
            fresh = conn is None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(*self.address, timeout=self.timeout)
                conn.request("GET", "/")
                reply = conn.getresponse()
                reply.read()
                if reply.status != 200:
                    self.results.append((started, None, f"status {reply.status}"))
                else:
                    self.results.append((started, reply.getheader("x-pod"), None))
                if reply.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = None
                if fresh:
                    self.results.append((started, None, repr(error)))
                    self._stop.wait(self.interval)
                else:
                    self.reconnects.append((started, repr(error)))
                continue
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()
