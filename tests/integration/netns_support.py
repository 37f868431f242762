"""Network namespaces as hosts, for the topology tests: namespaces on one bridge in a switch
namespace, processes started inside them, and a client that sends requests from its own.
Root only (namespaces need CAP_SYS_ADMIN): require_root_and_netns() skips with the reason
otherwise. Every address lives inside namespaces a test creates; none routes anywhere
else, and the namespaces are deleted when the Topology closes."""
import os
import random
import subprocess

import harness
from harness import Skip


def run(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=10)


class Topology:
    """Namespaces on one bridge; `hosts` maps a name to its address on the bridge."""

    def __init__(self, hosts):
        self.tag = f"sp{os.getpid() % 10000}{random.randint(0, 99)}"
        self.switch = f"{self.tag}-sw"
        self.hosts = hosts
        self.created = []

    def ns(self, host):
        return f"{self.tag}-{host}"

    def __enter__(self):
        try:
            self._add_namespace(self.switch)
            run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
            run("ip", "-n", self.switch, "link", "set", "br0", "up")
            for index, (host, addresses) in enumerate(self.hosts.items()):
                self._attach(host, index, addresses)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _add_namespace(self, name):
        run("ip", "netns", "add", name)
        self.created.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")

    def _attach(self, host, index, addresses):
        ns = self.ns(host)
        self._add_namespace(ns)
        outside, inside = f"{self.tag}v{index}", f"{self.tag}h{index}"
        run("ip", "link", "add", outside, "netns", self.switch, "type", "veth", "peer", "name",
            inside, "netns", ns)
        run("ip", "-n", self.switch, "link", "set", outside, "master", "br0", "up")
        run("ip", "-n", ns, "link", "set", inside, "up")
        for address in addresses:
            run("ip", "-n", ns, "addr", "add", f"{address}/16", "dev", inside)

    def __exit__(self, *exc):
        for name in reversed(self.created):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


def inside(ns, process):
    """Run a harness process inside namespace `ns`."""
    process.argv = ["ip", "netns", "exec", ns, *process.argv]
    return process


def require_root_and_netns():
    if os.geteuid() != 0:
        raise Skip("topology tests need root for network namespaces")
    probe = f"spprobe{os.getpid()}"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, timeout=10)
    if result.returncode != 0:
        raise Skip(f"cannot create a network namespace: {result.stderr.decode().strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10)


def client_fetch(topology, address, path="/"):
    """One GET from the client namespace: (status code, body)."""
    script = ("import socket,sys\n"
              "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
              "s.sendall(b'GET ' + sys.argv[3].encode() + b' HTTP/1.0\\r\\n\\r\\n'); data = b''\n"
              "while chunk := s.recv(65536): data += chunk\n"
              "sys.stdout.buffer.write(data)\n")
    result = subprocess.run(["ip", "netns", "exec", topology.ns("client"), harness.PYTHON, "-c",
                             script, address[0], str(address[1]), path],
                            capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    head, _, body = result.stdout.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


def client_get(topology, address, count):
    """`count` requests from the client namespace, one connection each; the X-Pod values."""
    script = ("import socket,sys\n"
              "for _ in range(int(sys.argv[3])):\n"
              "    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
              "    s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); data = b''\n"
              "    while chunk := s.recv(65536): data += chunk\n"
              "    s.close()\n"
              "    print(data.split(b'\\r\\n\\r\\n', 1)[1].decode().strip())\n")
    result = subprocess.run(["ip", "netns", "exec", topology.ns("client"), harness.PYTHON, "-c",
                             script, address[0], str(address[1]), str(count)],
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().split()
