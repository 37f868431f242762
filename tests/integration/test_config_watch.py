#!/usr/bin/env python3
"""A change to a config file reloads svcproxy without SIGHUP (inotify, debounced): an
editor-style save (write a temporary, rename it over the file) adds a Service whose port
opens, a second save removes it again, and a broken file is rejected while the running
configuration keeps serving."""
import time

import harness
from harness import test
from reload_support import save_by_rename, write_text_by_rename

WITHIN = 3.0  # debounce (200 ms) + load + apply, with a wide margin


@test(timeout=60)
def file_change_reloads(env):
    pods = env.web_pods(2)
    a_ip, b_ip = harness.random_ip(), harness.random_ip()
    a_port, b_port = harness.free_port(a_ip), harness.free_port(b_ip)
    base = [harness.proxy_config_doc(harness.free_port()),
            harness.service_doc("a", a_port, pods[0].port, cluster_ip=a_ip),
            *harness.pod_docs(pods)]
    with_b = base + [harness.service_doc("b", b_port, pods[0].port, cluster_ip=b_ip)]
    proxy = env.svcproxy(base)
    a, b = (a_ip, a_port), (b_ip, b_port)
    assert set(harness.pods_answering(a, 2)) == {"web-1", "web-2"}
    assert not harness.can_connect(*b)

    since = len(proxy.log_text())
    save_by_rename(proxy.config_path, with_b)
    harness.wait_until(lambda: harness.can_connect(*b), WITHIN, what="service b's port open")
    assert harness.http10_get(b).status == 200
    # One burst of events, one reload.
    time.sleep(0.5)
    assert proxy.log_text()[since:].count("reloading configuration") == 1, proxy.log_text()

    save_by_rename(proxy.config_path, base)
    harness.wait_until(lambda: not harness.can_connect(*b), WITHIN, what="service b closed")
    assert harness.http10_get(a).status == 200

    since = len(proxy.log_text())
    write_text_by_rename(proxy.config_path, "apiVersion: v1\nkind: Service\nmetadata: [\n")
    proxy.wait_for_log(r"reload rejected", timeout=WITHIN, since=since)
    assert set(harness.pods_answering(a, 2)) == {"web-1", "web-2"}
    assert proxy.running()


if __name__ == "__main__":
    harness.main()
