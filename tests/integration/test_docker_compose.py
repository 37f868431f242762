#!/usr/bin/env python3
"""docker-compose.yml is a valid Compose file (no engine is needed to check that)."""
import shutil
import subprocess

import harness
from harness import test


@test(timeout=60)
def compose_file_is_valid(env):
    compose = shutil.which("docker-compose")
    if not compose:
        raise harness.Skip("docker-compose is not installed (scripts/install-deps.sh installs it)")
    result = subprocess.run([compose, "-f", "docker-compose.yml", "config", "-q"],
                            cwd=env.source_dir, capture_output=True, text=True, timeout=50,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr


if __name__ == "__main__":
    harness.main()
