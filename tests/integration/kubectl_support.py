"""The real kubectl against svcproxy's API, for the kubectl tests: its cache and config in
the test's own directory, skipped with the reason when kubectl is not installed (Debian:
kubernetes-client, scripts/install-deps.sh)."""
import os
import re
import shutil
import subprocess

import harness
from harness import Skip

# SVCPROXY_KUBECTL picks another kubectl (e.g. Debian's 1.20 beside a newer one on PATH).
KUBECTL = os.environ.get("SVCPROXY_KUBECTL") or shutil.which("kubectl")


def kubectl(env, admin_port, *args, check=True):
    """`kubectl --server http://127.0.0.1:ADMIN ARGS`: (exit code, stdout, stderr)."""
    if not KUBECTL:
        raise Skip("kubectl is not installed (Debian: kubernetes-client)")
    home = os.path.join(env.workdir, "kubectl-home")
    os.makedirs(home, exist_ok=True)
    done = subprocess.run([KUBECTL, "--server", f"http://127.0.0.1:{admin_port}",
                           "--cache-dir", os.path.join(home, "cache"), *args],
                          capture_output=True, text=True, timeout=30,
                          env={"HOME": home, "PATH": os.environ.get("PATH", ""),
                               "KUBECONFIG": os.path.join(home, "config")},
                          stdin=subprocess.DEVNULL, preexec_fn=harness._die_with_parent)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.returncode, done.stdout, done.stderr


def table(text):
    """A kubectl table: the header's column names and each row's cells, split where the
    header's columns start (cells may hold single spaces, as '<none>' and ages do not)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", header)]
    starts = [0] + [s for s in starts if s > 0]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
    rows = [[line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
            for line in lines[1:]]
    return names, rows
