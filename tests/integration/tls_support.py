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


def make_ca(workdir, name):
    """A CA (ECDSA P-256) in `workdir`: NAME.crt / NAME.key; returns the certificate PEM."""
    crt = os.path.join(workdir, f"{name}.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                    os.path.join(workdir, f"{name}.key"), "-out", crt, "-days", "2",
                    "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True, timeout=30)
    with open(crt) as c:
        return c.read()


def make_signed_certificate(workdir, name, dns_names, ca):
    """A certificate for `dns_names` signed by the CA `ca` (see make_ca): NAME.crt /
    NAME.key in `workdir`; returns their paths."""
    crt = os.path.join(workdir, f"{name}.crt")
    key = os.path.join(workdir, f"{name}.key")
    csr = os.path.join(workdir, f"{name}.csr")
    extensions = os.path.join(workdir, f"{name}.ext")
    with open(extensions, "w") as f:
        f.write("subjectAltName=" + ",".join(f"DNS:{n}" for n in dns_names) + "\n")
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={dns_names[0]}"],
                   check=True, capture_output=True, timeout=30)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(workdir, f"{ca}.crt"),
                    "-CAkey", os.path.join(workdir, f"{ca}.key"), "-CAcreateserial", "-out", crt,
                    "-days", "2", "-extfile", extensions],
                   check=True, capture_output=True, timeout=30)
    return crt, key


def ca_secret_doc(name, bundle, namespace="default"):
    """An Opaque Secret with the CA bundle in ca.crt (svcproxy.io/backend-ca-secret)."""
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace}, "type": "Opaque",
            "data": {"ca.crt": base64.b64encode(bundle.encode()).decode()}}


def make_ocsp_response(workdir, name, ca):
    """A DER OCSP response, signed by the CA `ca`, saying NAME.crt (signed by it) is good
    for a day: what a CA's responder answers, made with `openssl ocsp` from an index."""
    import datetime
    crt = os.path.join(workdir, f"{name}.crt")
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", crt], check=True,
                            capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "compat",
                              "-in", crt], check=True, capture_output=True,
                             text=True).stdout.strip().split("=", 1)[1].strip()
    expiry = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%y%m%d%H%M%SZ")
    index = os.path.join(workdir, f"{ca}-index.txt")
    with open(index, "w") as f:
        f.write(f"V\t{expiry}\t\t{serial}\tunknown\t{subject}\n")
    out = os.path.join(workdir, f"{name}.ocsp.der")
    ca_crt, ca_key = os.path.join(workdir, f"{ca}.crt"), os.path.join(workdir, f"{ca}.key")
    subprocess.run(["openssl", "ocsp", "-index", index, "-rsigner", ca_crt, "-rkey", ca_key,
                    "-CA", ca_crt, "-issuer", ca_crt, "-cert", crt, "-respout", out,
                    "-ndays", "1"], check=True, capture_output=True, timeout=30)
    with open(out, "rb") as f:
        return f.read()
