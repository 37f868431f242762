#!/usr/bin/env python3
"""Run nginx pods from the command line (demo, bench, poking around by hand).

  pods.py up --dir DIR --pod web-1=127.0.1.1:8080 --pod web-2=127.0.1.2:8080 [--keepalive-timeout 75s]

Starts one nginx master per pod (same pods as the tests use), prints "pods ready", and
keeps running until SIGINT/SIGTERM, then stops each pod by PID. Each pod's files (conf,
logs, pid) are under DIR/pods/NAME.
"""
import argparse
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


def up(args):
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    pods = []
    try:
        for name, ip, port in args.pod:
            pods.append(harness.NginxPod(name, ip, port, args.dir,
                                         keepalive_timeout=args.keepalive_timeout).start())
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
    args = parser.parse_args()
    sys.exit(up(args))


if __name__ == "__main__":
    main()
