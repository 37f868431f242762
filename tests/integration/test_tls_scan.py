#!/usr/bin/env python3
"""TLS scanners against svcproxy's TLS ports (issue 17): sslscan and testssl.sh find no
weak protocol, cipher, renegotiation or known vulnerability, with an ECDSA P-256 and an
RSA 2048 certificate. Their summaries are printed, so CTest's log keeps them.

Findings about the certificate itself (self-signed, two days valid, no OCSP URI: made by
the test) are not svcproxy's and are listed, not failed on. Everything else fails the
test, testssl's "no server cipher order" (HIGH) included: svcproxy orders the ciphers
itself (a client listing ChaCha20 first still gets it)."""
import json
import os
import re
import shutil
import subprocess
import threading

import harness
import tls_support
from harness import Skip, test

SSLSCAN = shutil.which("sslscan")
TESTSSL = shutil.which("testssl") or shutil.which("testssl.sh")

# testssl ids that describe the test's certificate, or a check testssl could not run.
CERTIFICATE_FINDINGS = re.compile(r"^cert_|^engine_problem$|^sessionresumption_ticket$")


def start(env):
    """Two NodePort Services over one nginx pod: one with an ECDSA certificate, one RSA."""
    pods = env.web_pods(1)
    ports, docs = {}, [harness.proxy_config_doc(harness.free_port(), workers=1)]
    for key in ("ec", "rsa"):
        certificate = tls_support.make_certificate(env.workdir, key, ["web.example.com"], key=key)
        ports[key] = harness.free_node_port()
        service = harness.service_doc(f"web-{key}", 443, pods[0].port, type="NodePort",
                                      node_port=ports[key],
                                      annotations={"svcproxy.io/tls-secret": f"tls-{key}"})
        service["spec"]["ports"][0]["appProtocol"] = "http"
        docs += [service, tls_support.secret_doc(f"tls-{key}", *certificate)]
    docs += harness.pod_docs(pods)
    env.svcproxy(docs)
    return ports


def sslscan(port):
    done = subprocess.run([SSLSCAN, "--no-colour", f"127.0.0.1:{port}"], capture_output=True,
                          text=True, timeout=120, preexec_fn=harness._die_with_parent)
    assert done.returncode == 0, done.stderr
    return done.stdout


def check_sslscan(key, out):
    summary = [line for line in out.splitlines()
               if re.match(r"^(SSLv|TLSv|Preferred|Accepted|Session renegotiation|Secure|"
                           r"Insecure|Compression|.*heartbleed)", line.strip())]
    print(f"--- sslscan, {key} certificate\n" + "\n".join(summary))
    for version in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"):
        assert re.search(rf"^{re.escape(version)}\s+disabled", out, re.M), (version, out)
    for version in ("TLSv1.2", "TLSv1.3"):
        assert re.search(rf"^{re.escape(version)}\s+enabled", out, re.M), (version, out)
    accepted = re.findall(r"^(?:Preferred|Accepted)\s+(TLSv1\.[23])\s+\d+ bits\s+(\S+)", out, re.M)
    assert accepted, out
    for version, cipher in accepted:
        assert "GCM" in cipher or "CHACHA20" in cipher, (version, cipher)  # AEAD only
        if version == "TLSv1.2":
            assert cipher.startswith("ECDHE-"), cipher  # forward secrecy, no RSA key exchange
    assert "Session renegotiation not supported" in out, out
    assert "Insecure session renegotiation supported" not in out
    heartbleed = [line for line in out.splitlines() if "heartbleed" in line]
    assert heartbleed and all("not vulnerable" in line for line in heartbleed), heartbleed


def testssl(port, json_path):
    # --nodns none: no DNS lookups at all; -p protocols, -s cipher categories, -S server
    # defaults, -P preferences, -U vulnerabilities (ROBOT, renegotiation, CRIME, ...).
    done = subprocess.run([TESTSSL, "--quiet", "--color", "0", "--warnings", "off",
                           "--nodns", "none", "-p", "-s", "-S", "-P", "-U",
                           "--jsonfile", json_path, f"127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=400,
                          preexec_fn=harness._die_with_parent)
    return done


def check_testssl(key, json_path):
    with open(json_path) as f:
        findings = json.load(f)
    assert len(findings) > 50, f"testssl reported almost nothing: {findings}"
    notable = [f for f in findings if f.get("severity") not in ("OK", "INFO")]
    print(f"--- testssl.sh, {key} certificate: {len(findings)} findings, "
          f"{len(notable)} above INFO")
    for finding in notable:
        print(f"  {finding['severity']:8} {finding['id']}: {finding['finding'][:100]}")
    weak = [f for f in notable
            if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
            and not CERTIFICATE_FINDINGS.search(f["id"])]
    assert not weak, weak
    by_id = {f["id"]: f for f in findings}
    for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert "not offered" in by_id[protocol]["finding"], by_id[protocol]
    assert by_id["secure_client_renego"]["severity"] == "OK", by_id["secure_client_renego"]


@test(timeout=400)
def scanners_find_no_weak_protocol_cipher_or_vulnerability(env):
    if not SSLSCAN or not TESTSSL:
        raise Skip("sslscan or testssl.sh is not installed (scripts/install-deps.sh)")
    ports = start(env)
    for key, port in ports.items():
        check_sslscan(key, sslscan(port))
    # Both testssl runs at once: each is a shell script waiting on openssl most of the time.
    runs, threads = {}, []
    for key, port in ports.items():
        path = os.path.join(env.workdir, f"testssl-{key}.json")
        thread = threading.Thread(target=lambda k=key, p=port, j=path: runs.update(
            {k: (testssl(p, j), j)}))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=420)
    for key in ports:
        done, path = runs[key]
        assert os.path.exists(path), (done.returncode, done.stdout[-2000:], done.stderr[-1000:])
        check_testssl(key, path)


if __name__ == "__main__":
    harness.main()
