#!/usr/bin/python3
"""Write a large svcproxy configuration: N ClusterIP Services and M Pods in one file.

  gen_scale_config.py --out DIR [--services 10000] [--pods 50000] [--admin-port P] [--change]

Every Service has an explicit clusterIP (127.100.0.0/14, inside the default serviceCIDR)
and port, and selects its own pods (app: svc-N), so --check, start-up and reload see the
full cross-product of selectors without any allocation. Pods are spread evenly over the
Services; their addresses are never contacted (10.0.0.0/8, port 8080). `workers: 1`: each
ClusterIP is one listening socket per worker, and the hard RLIMIT_NOFILE here is 20,000.

--change writes the same configuration with one Service (svc-0) moved to port 81: the
one-Service difference a reload has to apply. Stdlib only; the YAML is written by hand.
"""
import argparse
import os


def cluster_ip(i):
    return f"127.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"


def service(i, port):
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: scale\n"
            f"spec:\n  clusterIP: {cluster_ip(i + 1)}\n  selector:\n    app: svc-{i}\n"
            f"  ports:\n    - name: http\n      port: {port}\n      targetPort: 8080\n")


def pod(j, service_index):
    return (f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{j}\n  namespace: scale\n"
            f"  labels:\n    app: svc-{service_index}\nstatus:\n"
            f"  podIP: 10.{j >> 16}.{(j >> 8) & 255}.{j & 255}\n"
            "spec:\n  containers:\n    - name: main\n      ports:\n"
            "        - name: http\n          containerPort: 8080\n")


def proxy_config(admin_port):
    return ("apiVersion: svcproxy.io/v1\nkind: ProxyConfig\nmetadata:\n  name: scale\n"
            "spec:\n  workers: 1\n  nodePortAddresses: [\"127.0.0.1\"]\n"
            f"  adminAddress: 127.0.0.1:{admin_port}\n"
            "  accessLog:\n    path: /dev/null\n"
            "  timeouts:\n    drain: 1s\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory; writes DIR/scale.yaml")
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--pods", type=int, default=50000)
    parser.add_argument("--admin-port", type=int, default=10249)
    parser.add_argument("--change", action="store_true", help="svc-0 on port 81 instead of 80")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    documents = [proxy_config(args.admin_port)]
    documents += [service(i, 81 if args.change and i == 0 else 80)
                  for i in range(args.services)]
    documents += [pod(j, j % args.services) for j in range(args.pods)]
    path = os.path.join(args.out, "scale.yaml")
    # Written next to the target and renamed: a reload never reads a half-written file.
    with open(path + ".tmp", "w") as f:
        f.write("---\n".join(documents))
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
