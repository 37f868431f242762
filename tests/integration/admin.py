"""Helpers for the admin-listener tests: scrape /metrics, read one sample, fetch JSON."""
import json
import re
import shutil

import harness

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def admin_address(port):
    return ("127.0.0.1", port)


def scrape(port):
    response = harness.http_request(admin_address(port), path="/metrics")
    assert response.status == 200, response
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.body.decode()


def samples(text):
    """[(name, {label: value}, float)] of every sample line."""
    found = []
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(LABEL.findall(match.group(2) or ""))
            found.append((match.group(1), labels, float(match.group(3))))
    return found


def value(text, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`; None if absent."""
    matches = [v for n, l, v in samples(text)
               if n == name and all(l.get(k) == str(w) for k, w in labels.items())]
    assert len(matches) <= 1, f"{name}{labels} matches {len(matches)} samples"
    return matches[0] if matches else None


def get_json(port, path):
    response = harness.http_request(admin_address(port), path=path)
    assert response.headers.get("content-type") == "application/json", response.headers
    return response.status, json.loads(response.body)


def promtool():
    """promtool (Debian's prometheus package, which scripts/install-deps.sh installs); Skip,
    saying so, when it is missing: tests never install anything."""
    found = shutil.which("promtool")
    if not found:
        raise harness.Skip("promtool is not installed (scripts/install-deps.sh installs the "
                           "prometheus package)")
    return found
