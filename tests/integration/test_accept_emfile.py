#!/usr/bin/env python3
"""Out of file descriptors (issue 13): when accept(2) fails with EMFILE the proxy keeps
retrying (every 100 ms) but logs about one `accept on ADDR: ...` line per second, with a
count of the failures it did not log, not one line per retry; once descriptors are free
again it serves as before.

svcproxy runs with a low RLIMIT_NOFILE (harness.Process nofile=) and one worker, and the
test holds client connections open until accept fails for ~3 s."""
import os
import re
import time

import harness
from harness import test
from http_support import hold_connections, start

NOFILE = 48
HOLD_SECONDS = 3.0


@test(timeout=60)
def emfile_is_logged_about_once_a_second(env):
    pods = env.web_pods(1)
    proxy, address = start(env, pods, nofile=NOFILE)
    assert harness.http_request(address).status == 200
    open_fds = len(os.listdir(f"/proc/{proxy.pid}/fd"))
    assert open_fds < NOFILE - 10, f"{open_fds} descriptors open before the test"
    pattern = rf"accept on \S*{re.escape(address[0])}:{address[1]}\S*: "
    since = len(proxy.log_text())
    held = hold_connections(address, 2 * NOFILE)
    try:
        first = proxy.wait_for_log(pattern, timeout=5, since=since)
        assert "Too many open files" in first.string, first.string
        first_time = time.monotonic()
        time.sleep(HOLD_SECONDS)
        exhausted_for = time.monotonic() - first_time
        lines = [line for _, line in proxy.log_lines(pattern, since=since)]
    finally:
        for sock in held:
            sock.close()
    assert 1 <= len(lines) <= 5, \
        f"{len(lines)} accept lines in {exhausted_for:.1f}s:\n" + "\n".join(lines)
    # The lines after the first say how many failures they stand for (~10 retries a second).
    def count(line):
        message = line[re.search(pattern, line).end():].replace("100ms", "")
        return max((int(n) for n in re.findall(r"\b\d+\b", message)), default=0)
    counts = [count(line) for line in lines[1:]]
    assert lines[1:] and max(counts) >= 2, \
        "no count of the failures not logged:\n" + "\n".join(lines)
    # Descriptors free again: the proxy accepts and serves.
    deadline = time.monotonic() + 10
    while True:
        try:
            response = harness.http_request(address, timeout=3)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert response.status == 200 and response.body == b"web-1\n", response
    assert proxy.running()


if __name__ == "__main__":
    harness.main()
