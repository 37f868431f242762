#!/usr/bin/env python3
"""Run nginx pods from the command line (demo, bench, poking around by hand).

  pods.py up --dir DIR --pod web-1=127.0.1.1:8080 --pod web-2=127.0.1.2:8080 [--keepalive-timeout 75s]
            [--master-process] [--no-access-log] [--keepalive-requests N]
            [--worker-connections N] [--file NAME=BYTES ...]

Starts one nginx per pod (same pods as the tests use), prints "pods ready", and
keeps running until SIGINT/SIGTERM, then stops each pod by PID. Each pod's files (conf,
logs, pid) are under DIR/pods/NAME.
"""
import argparse
import os
import signal
import sys
import threading

import harness


def parse_pod(spec):
    name, _, address = spec.partition("=")
    ip, _, port = address.rpartition(":")
    if not (name and ip and port.isdigit()):
        raise argparse.ArgumentTypeError(f"expected NAME=IP:PORT, got {spec!r}")
    return name, ip, int(port)


def parse_file(spec):
    name, _, size = spec.partition("=")
    if not (name and size.isdigit()):
        raise argparse.ArgumentTypeError(f"expected NAME=BYTES, got {spec!r}")
    return name, int(size)


def up(args):
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    pods = []
    files = os.path.join(args.dir, "files")
    for name, size in args.file:
        harness.make_file(os.path.join(files, name), size)
    try:
        for name, ip, port in args.pod:
            pods.append(harness.NginxPod(
                name, ip, port, args.dir, keepalive_timeout=args.keepalive_timeout,
                files=files, master_process=args.master_process,
                access_log=not args.no_access_log, keepalive_requests=args.keepalive_requests,
                worker_connections=args.worker_connections).start())
            print(f"pod {name} on {ip}:{port} (pid {pods[-1].pid})", flush=True)
        print("pods ready", flush=True)
        while not stop.wait(0.5):
            if not all(pod.running() for pod in pods):
                print("a pod exited unexpectedly", file=sys.stderr)
                return 1
        return 0
    finally:
        for pod in reversed(pods):
            pod.stop(timeout=5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", help="start pods and wait for a signal")
    up_parser.add_argument("--dir", required=True, help="where pod files go")
    up_parser.add_argument("--pod", type=parse_pod, action="append", required=True,
                           metavar="NAME=IP:PORT")
    up_parser.add_argument("--keepalive-timeout", default="75s")
    up_parser.add_argument("--master-process", action="store_true",
                           help="nginx master + one worker (default: a single process)")
    up_parser.add_argument("--no-access-log", action="store_true")
    up_parser.add_argument("--keepalive-requests", type=int, default=100000)
    up_parser.add_argument("--worker-connections", type=int, default=1024)
    up_parser.add_argument("--file", type=parse_file, action="append", default=[],
                           metavar="NAME=BYTES", help="serve /files/NAME of this size")
    args = parser.parse_args()
    sys.exit(up(args))


if __name__ == "__main__":
    main()
