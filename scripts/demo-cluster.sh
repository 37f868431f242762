#!/usr/bin/env bash
# The cluster demo: one etcd, two svcproxy nodes and an edge on loopback, three nginx pods
# (web-1..3 on 127.0.1.1-3:8080), the manifests of conf/examples/cluster applied with
# `svcproxy apply`, and the commands to try. Ctrl-C stops everything this script started,
# by PID.
#
# Environment: SVCPROXY (binary; default: build it), PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXAMPLES=$ROOT/conf/examples/cluster
PYTHON=${PYTHON:-/usr/bin/python3}
WORKDIR=$(mktemp -d /tmp/svcproxy-demo-cluster.XXXXXX)
PIDS=()

# shellcheck source=scripts/demo-lib.sh
source "$ROOT/scripts/demo-lib.sh"

cleanup() {
  trap - EXIT INT TERM
  echo
  log "stopping the edge, the nodes, etcd and the pods"
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  echo "logs kept in $WORKDIR"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_pods() {
  log "starting nginx pods web-1..3 on 127.0.1.1-3:8080"
  "$PYTHON" "$ROOT/tests/integration/pods.py" up --dir "$WORKDIR" \
    --pod web-1=127.0.1.1:8080 --pod web-2=127.0.1.2:8080 --pod web-3=127.0.1.3:8080 \
    >"$WORKDIR/pods.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 "the nginx pods" grep -q "pods ready" "$WORKDIR/pods.log" ||
    { cat "$WORKDIR/pods.log" >&2; exit 1; }
}

etcd_answers() { curl -sf -X POST "$ETCD/v3/kv/range" -d '{"key":"Lw=="}' >/dev/null; }

start_etcd() {
  local client peer
  client=$(free_port) peer=$(free_port)
  ETCD=http://127.0.0.1:$client
  log "starting etcd at $ETCD"
  etcd --name demo --data-dir "$WORKDIR/etcd" --listen-client-urls "$ETCD" \
    --advertise-client-urls "$ETCD" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "demo=http://127.0.0.1:$peer" --log-level warn \
    >"$WORKDIR/etcd.log" 2>&1 &
  PIDS+=($!)
  wait_for 20 "etcd" etcd_answers || { cat "$WORKDIR/etcd.log" >&2; exit 1; }
}

start_instance() {
  local name=$1 admin=$2
  "$SVCPROXY" --config "$EXAMPLES/$name.yaml" --etcd "$ETCD" 2>"$WORKDIR/$name.log" &
  PIDS+=($!)
  wait_for 20 "$name ready" curl -sf "http://127.0.0.1:$admin/readyz" -o /dev/null ||
    { cat "$WORKDIR/$name.log" >&2; exit 1; }
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  build_if_needed
  start_pods
  start_etcd
  log "svcproxy apply -f conf/examples/cluster/manifests.yaml --etcd $ETCD"
  "$SVCPROXY" apply -f "$EXAMPLES/manifests.yaml" --etcd "$ETCD"
  log "starting node-1 (127.0.2.11), node-2 (127.0.2.12) and the edge (127.0.2.1)"
  start_instance node-1 10251
  start_instance node-2 10252
  start_instance edge 10249
  log "try:"
  cat <<MSG
  Edge (LoadBalancer -> live nodes):  curl -si http://127.0.2.1/
  NodePort on each node:              curl -si http://127.0.2.11:30080/   curl -si http://127.0.2.12:30080/
  What etcd holds:                    ETCDCTL_API=3 etcdctl --endpoints $ETCD get --prefix /registry --keys-only
  Change something:                   edit conf/examples/cluster/manifests.yaml, then
                                      $SVCPROXY apply -f conf/examples/cluster/manifests.yaml --etcd $ETCD
  Cluster health:                     curl -s http://127.0.0.1:10251/healthz

Logs: $WORKDIR/{node-1,node-2,edge,etcd}.log. Ctrl-C stops everything.
MSG
  tail -n 0 -f "$WORKDIR/edge.log" &
  PIDS+=($!)
  wait "${PIDS[3]}" || true
}

main "$@"
