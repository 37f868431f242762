#!/usr/bin/python3
"""svcproxy next to HAProxy 2.6 (one worker / nbthread 1), interleaved, CPU per request.

The perf branch's measuring script (bench/run is the full harness; this one is small and
answers "did this change make svcproxy cheaper than HAProxy, right now"). One nginx pod
(access_log off, keepalive_requests 1000000) on 127.0.1.11; each proxy in turn in front of
it; rounds interleaved (svcproxy, haproxy, svcproxy, haproxy ...) so the machine's drift
hits both alike. CPU time is utime+stime of the proxy from /proc/PID/stat around the wrk
run, which is robust to load from other processes where wall-clock req/s is not.

  bench/l7_vs_haproxy.py                                  all scenarios, 3 rounds of 10 s
  bench/l7_vs_haproxy.py --scenarios small,large --rounds 5 --duration 8
  bench/l7_vs_haproxy.py --binary build/svcproxy

Scenarios (svcproxy mode vs HAProxy mode):
  small      GET /ok (2-byte body) keep-alive, wrk -c50          L7 vs http
  small-log  the same with both proxies writing an access log    L7 vs http (+log)
  large      GET /files/1m.bin keep-alive, wrk -c10              L7 vs http, per MiB
  close      GET /ok with Connection: close, wrk -c50            L7 vs http
  l4small    GET /ok keep-alive through an L4 Service            L4 vs tcp
  l4close    GET /ok with Connection: close through an L4 Service   L4 vs tcp
  l4bulk     GET /files/16m.bin through an L4 Service, wrk -c4   L4 vs tcp, per MiB
  idle       RSS per idle keep-alive connection (9,000; the hard RLIMIT_NOFILE here is 20,000 and HAProxy needs 2 per connection)       L7 vs http
"""
import argparse
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
POD_IP, LISTEN_IP = "127.0.1.11", "127.0.0.1"

SCENARIOS = {
    "small": dict(path="/ok", c=50, l7=True),
    "small-log": dict(path="/ok", c=50, l7=True, log=True),
    "large": dict(path="/files/1m.bin", c=10, l7=True, per_mib=True),
    "close": dict(path="/ok", c=50, l7=True, headers=["Connection: close"]),
    "l4small": dict(path="/ok", c=50, l7=False),
    "l4close": dict(path="/ok", c=50, l7=False, headers=["Connection: close"]),
    "l4bulk": dict(path="/files/16m.bin", c=4, l7=False, per_mib=True),
    "idle": dict(idle=9000, l7=True),
}

POD_CONF = """\
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  server {{
    listen {ip}:{port};
    location /ok {{ return 200 "ok"; }}
    location /files/ {{ alias {dir}/files/; }}
  }}
}}
"""

HAPROXY_CONF = """\
global
  nbthread 1
  maxconn 9900
  pidfile {dir}/haproxy.pid
{log_global}defaults
  mode {mode}
{log_defaults}  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend fe
  bind {ip}:{port}
  default_backend pods
backend pods
{reuse}  server s1 {pod_ip}:{pod_port}
"""


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_pod(workdir, port):
    pod_dir = os.path.join(workdir, "pod")
    os.makedirs(os.path.join(pod_dir, "files"), exist_ok=True)
    os.makedirs(os.path.join(pod_dir, "tmp"), exist_ok=True)
    for name, size in (("1m.bin", MIB), ("16m.bin", 16 * MIB)):
        with open(os.path.join(pod_dir, "files", name), "wb") as f:
            f.write(os.urandom(size))
    conf = os.path.join(pod_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(POD_CONF.format(dir=pod_dir, ip=POD_IP, port=port))
    pod = harness.Process([harness.NGINX, "-p", pod_dir, "-c", conf, "-e",
                           f"{pod_dir}/error.log", "-g", "daemon off;"],
                          os.path.join(pod_dir, "stderr.log")).start()
    harness.wait_until(lambda: harness.can_connect(POD_IP, port), 10, what="nginx pod")
    return pod


def start_svcproxy(binary, workdir, name, port, pod_port, l7, log):
    service = harness.service_doc("web", port, pod_port, cluster_ip=LISTEN_IP)
    if l7:
        service["spec"]["ports"][0]["appProtocol"] = "http"
    access_log = ({"path": os.path.join(workdir, f"{name}-access.log")} if log
                  else {"enabled": False})  # as HAProxy without `log`
    config = harness.proxy_config_doc(harness.free_port(), workers=1, drain="1s",
                                      service_cidr="127.0.0.0/8",
                                      accessLog=access_log,
                                      outlierDetection={"enabled": False})
    pod = harness.pod_doc("web-1", POD_IP, pod_port)
    proxy = harness.Svcproxy(binary, workdir, [config, service, pod], log_level="info",
                             name=name).start()
    harness.wait_until(lambda: harness.can_connect(LISTEN_IP, port), 10, what=name)
    return proxy


def start_haproxy(workdir, name, port, pod_port, l7, log):
    hdir = os.path.join(workdir, name)
    os.makedirs(hdir, exist_ok=True)
    conf = os.path.join(hdir, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(HAPROXY_CONF.format(
            dir=hdir, mode="http" if l7 else "tcp", ip=LISTEN_IP, port=port, pod_ip=POD_IP,
            pod_port=pod_port, reuse="  http-reuse always\n" if l7 else "",
            # -db keeps stdout: the log lines go to the log file like svcproxy's.
            log_global="  log stdout format raw local0\n" if log else "",
            log_defaults="  log global\n  option httplog\n" if log else ""))
    proxy = harness.Process(["haproxy", "-db", "-f", conf],
                            os.path.join(hdir, "haproxy.log")).start()
    harness.wait_until(lambda: harness.can_connect(LISTEN_IP, port), 10, what=name)
    return proxy


def run_wrk(port, scenario, seconds):
    argv = ["wrk", "-t1", f"-c{scenario['c']}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    for header in scenario.get("headers", []):
        argv += ["-H", header]
    argv.append(f"http://{LISTEN_IP}:{port}{scenario['path']}")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)s, ([\d.]+)(\w+) read", out)
    unit = {"B": 1, "KB": 1024, "MB": MIB, "GB": 1024 * MIB}[m.group(4)]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": int(m.group(1)), "seconds": float(m.group(2)),
            "mib": float(m.group(3)) * unit / MIB, "p99": p99.group(1) if p99 else "?",
            "errors": (int(errors.group(1)) if errors else 0),
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def measure_idle(pid, port, count):
    """RSS growth of the proxy with `count` idle keep-alive connections (one request each)."""
    client = subprocess.Popen([sys.executable, os.path.join(ROOT, "bench", "idle_conns.py"),
                               LISTEN_IP, str(port), str(count)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        before = None
        line = client.stdout.readline()  # "warm": one request done on a first connection
        before = rss_kib(pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        line = client.stdout.readline()
        if not line.startswith("open"):
            raise RuntimeError(f"idle client: {line}")
        time.sleep(1)
        after = rss_kib(pid)
        return {"kib_per_conn": (after - before) / count, "rss_before": before,
                "rss_after": after}
    finally:
        client.stdin.close()
        client.wait(timeout=60)


def one_run(args, workdir, proxy_kind, name, scenario, pod_port):
    port = harness.free_port(LISTEN_IP)
    if proxy_kind == "svcproxy":
        proxy = start_svcproxy(args.binary, workdir, name, port, pod_port, scenario["l7"],
                               scenario.get("log"))
    else:
        proxy = start_haproxy(workdir, name, port, pod_port, scenario["l7"], scenario.get("log"))
    try:
        pid = proxy.pid
        if "idle" in scenario:
            return measure_idle(pid, port, scenario["idle"])
        run_wrk(port, scenario, 2)  # warm-up: pools, allocator, page cache
        before = cpu_ticks(pid)
        result = run_wrk(port, scenario, args.duration)
        result["cpu_us"] = (cpu_ticks(pid) - before) * 1e6 / CLK_TCK
        result["rps"] = result["requests"] / result["seconds"]
        result["mibps"] = result["mib"] / result["seconds"]
        result["us_per_req"] = result["cpu_us"] / max(result["requests"], 1)
        result["us_per_mib"] = result["cpu_us"] / max(result["mib"], 1e-9)
        result["peak_rss"] = rss_kib(pid)
        return result
    finally:
        proxy.stop(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "svcproxy"))
    parser.add_argument("--scenarios", default="small,small-log,large,close,l4small,l4bulk,idle")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    workdir = tempfile.mkdtemp(prefix="l7-vs-haproxy-")
    pod_port = harness.free_port(POD_IP)
    pod = start_pod(workdir, pod_port)
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}  load {open('/proc/loadavg').read().strip()}"
          f"  binary {args.binary}", flush=True)
    results = {}
    try:
        for scenario_name in args.scenarios.split(","):
            scenario = SCENARIOS[scenario_name]
            for r in range(args.rounds):
                for kind in ("svcproxy", "haproxy"):
                    res = one_run(args, workdir, kind, f"{kind}-{scenario_name}-{r}", scenario,
                                  pod_port)
                    results.setdefault((scenario_name, kind), []).append(res)
                    print(scenario_name, kind, r, {k: (round(v, 2) if isinstance(v, float) else v)
                                                   for k, v in res.items()}, flush=True)
    finally:
        pod.stop(timeout=10)
    print(f"\n# load at end {open('/proc/loadavg').read().strip()}")
    print("| scenario | proxy | req/s | MiB/s | CPU µs/req | CPU µs/MiB | p99 | KiB/idle conn |")
    print("|---|---|---|---|---|---|---|---|")
    for (scenario_name, kind), runs in results.items():
        def med(key):
            values = [run[key] for run in runs if key in run]
            return statistics.median(values) if values else None
        fmt = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"  # noqa: E731
        per_mib = SCENARIOS[scenario_name].get("per_mib")
        print(f"| {scenario_name} | {kind} | {fmt(med('rps'), 0)} | {fmt(med('mibps'))} | "
              f"{fmt(med('us_per_req'))} | {fmt(med('us_per_mib'), 0) if per_mib else '-'} | "
              f"{runs[len(runs) // 2].get('p99', '-')} | {fmt(med('kib_per_conn'), 2)} |")


if __name__ == "__main__":
    main()
