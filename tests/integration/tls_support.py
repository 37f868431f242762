"""Certificates for the TLS tests, made with the openssl CLI in the test's own directory
(never used outside it), and the kubernetes.io/tls Secrets that carry them."""
import base64
import os
import subprocess


def make_certificate(workdir, name, dns_names, key="ec"):
    """A self-signed certificate for `dns_names` (ECDSA P-256, or RSA 2048 with key="rsa"):
    (certificate PEM, key PEM), also written to NAME.crt / NAME.key in `workdir`."""
    crt = os.path.join(workdir, f"{name}.crt")
    key_path = os.path.join(workdir, f"{name}.key")
    new_key = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] if key == "ec"
               else ["-newkey", "rsa:2048"])
    subprocess.run(["openssl", "req", "-x509", *new_key, "-nodes", "-keyout", key_path,
                    "-out", crt, "-days", "2", "-subj", f"/CN={dns_names[0]}",
                    "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in dns_names)],
                   check=True, capture_output=True, timeout=30)
    with open(crt) as c, open(key_path) as k:
        return c.read(), k.read()


def secret_doc(name, certificate, key, namespace="default"):
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(certificate.encode()).decode(),
                     "tls.key": base64.b64encode(key.encode()).decode()}}
