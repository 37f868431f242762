#!/usr/bin/env python3
"""`svcproxy --check`: the examples validate with one line per service port; a broken file
gets every error as FILE:LINE:COL: and exit 1."""
import glob
import os
import re

import yaml

import harness
from harness import test

ERROR_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def example_service_ports(examples_dir):
    """{namespace/name: number of ports} for every Service in the examples."""
    ports = {}
    files = glob.glob(os.path.join(examples_dir, "*.yaml")) + \
        glob.glob(os.path.join(examples_dir, "*.yml"))
    for path in files:
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc and doc.get("kind") == "Service":
                    meta = doc["metadata"]
                    key = f"{meta.get('namespace', 'default')}/{meta['name']}"
                    ports[key] = len(doc["spec"]["ports"])
    return ports


def lines_naming(output, key):
    pattern = re.compile(rf"(?<![\w/.-]){re.escape(key)}(?![\w.-])")
    return [line for line in output.splitlines() if pattern.search(line)]


@test(timeout=30)
def examples_validate_with_one_line_per_service_port(env):
    examples = os.path.join(env.source_dir, "conf", "examples")
    expected = example_service_ports(examples)
    assert expected, f"no Service in {examples}"
    result = harness.run_binary(env.binary, ["--check", "--config", examples])
    assert result.returncode == 0, result.stdout + result.stderr
    for key, count in expected.items():
        found = lines_naming(result.stdout, key)
        assert len(found) == count, f"{key}: {count} port(s), lines: {found}\n{result.stdout}"


@test(timeout=30)
def compose_config_validates(env):
    # The file docker-compose mounts into the svcproxy node must stay valid too.
    compose = os.path.join(env.source_dir, "conf", "compose")
    result = harness.run_binary(env.binary, ["--check", "--config", compose])
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines_naming(result.stdout, "default/web-nodeport")) == 1, result.stdout


BROKEN = """\
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  ports:
  - name: a
    port: 70000
  - name: b
    port: 53
    protocol: SCTP
---
apiVersion: v1
kind: Pod
metadata:
  name: Bad_Name
status:
  podIP: not-an-ip
"""
# line number -> a word the field path or message must contain (case-insensitive)
BROKEN_ERRORS = {8: "port", 11: "protocol", 16: "name", 18: "podip"}


def errors_in(output):
    return [m for m in map(ERROR_LINE.match, output.splitlines()) if m]


@test(timeout=30)
def broken_file_reports_every_error_with_position(env):
    path = os.path.join(env.workdir, "broken.yaml")
    with open(path, "w") as f:
        f.write(BROKEN)
    result = harness.run_binary(env.binary, ["--check", "--config", path])
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"exit {result.returncode}\n{output}"
    errors = [m for m in errors_in(output) if m["file"] == path]
    for line, word in BROKEN_ERRORS.items():
        matching = [m for m in errors if int(m["line"]) == line
                    and word in m["message"].lower()]
        assert matching, f"no error at {path}:{line} mentioning {word!r}:\n{output}"


@test(timeout=30)
def yaml_syntax_error_has_position(env):
    path = os.path.join(env.workdir, "syntax.yaml")
    with open(path, "w") as f:
        f.write("apiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: {}\n")
    result = harness.run_binary(env.binary, ["--check", "--config", path])
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"exit {result.returncode}\n{output}"
    assert any(m["file"] == path for m in errors_in(output)), output


if __name__ == "__main__":
    harness.main()
