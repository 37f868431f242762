#!/usr/bin/env bash
# The quick-start demo: three nginx pods (web-deployment-1..3 on 127.0.1.1-3:8080),
# svcproxy serving conf/examples/demo.yaml, and the curl commands to try. Ctrl-C stops
# everything this script started, by PID.
#
# Environment: SVCPROXY (binary; default: build it), CONFIG (default conf/examples/demo.yaml),
# PYTHON (default /usr/bin/python3).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONFIG=${CONFIG:-$ROOT/conf/examples/demo.yaml}
# Debian's python3: install-deps puts python3-yaml there (a pyenv python may lack it).
PYTHON=${PYTHON:-/usr/bin/python3}
PODS=(web-deployment-1=127.0.1.1:8080 web-deployment-2=127.0.1.2:8080 web-deployment-3=127.0.1.3:8080)
WORKDIR=$(mktemp -d /tmp/svcproxy-demo.XXXXXX)
PODS_PID="" PROXY_PID="" TAIL_PID=""

# shellcheck source=scripts/demo-lib.sh
source "$ROOT/scripts/demo-lib.sh"

cleanup() {
  trap - EXIT INT TERM
  echo
  log "stopping svcproxy and the pods"
  stop_pid "$PROXY_PID"
  stop_pid "$PODS_PID"
  stop_pid "$TAIL_PID"
  echo "logs kept in $WORKDIR"
}

start_pods() {
  local args=() pod
  for pod in "${PODS[@]}"; do args+=(--pod "$pod"); done
  log "starting nginx pods: ${PODS[*]}"
  "$PYTHON" "$ROOT/tests/integration/pods.py" up --dir "$WORKDIR" "${args[@]}" \
    >"$WORKDIR/pods.log" 2>&1 &
  PODS_PID=$!
  wait_for 20 "the nginx pods" grep -q "pods ready" "$WORKDIR/pods.log" ||
    { cat "$WORKDIR/pods.log" >&2; exit 1; }
}

proxy_ready() {
  kill -0 "$PROXY_PID" 2>/dev/null || { cat "$WORKDIR/svcproxy.log" >&2; exit 1; }
  grep -q "svcproxy ready" "$WORKDIR/svcproxy.log"
}

start_proxy() {
  log "starting svcproxy --config ${CONFIG#"$ROOT"/}"
  "$SVCPROXY" --config "$CONFIG" 2>"$WORKDIR/svcproxy.log" &
  PROXY_PID=$!
  wait_for 20 "svcproxy ready" proxy_ready
}

# The ClusterIP is allocated from serviceCIDR; --check prints it as CLUSTER_IP:PORT.
cluster_address() {
  grep -E '(^|[[:space:]])default/web-clusterip(:[^[:space:]]+)?([[:space:]]|$)' <<<"$1" |
    grep -oE '[0-9]+(\.[0-9]+){3}:[0-9]+' | head -n1 || true
}

show_services() {
  local table
  table=$("$SVCPROXY" --check --config "$CONFIG")
  log "services (svcproxy --check)"
  echo "$table"
  CLUSTER=$(cluster_address "$table")
}

show_commands() {
  log "try (each request is a new TCP connection, so you see round-robin):"
  cat <<MSG
  ClusterIP:     curl -si http://${CLUSTER:-<clusterIP:80 from the table>}/
  NodePort:      curl -si http://127.0.0.1:30080/
  LoadBalancer:  curl -si http://127.0.2.1/
  Round-robin:   for i in 1 2 3 4 5 6; do curl -s http://127.0.0.1:30080/; done
  kubectl:       kubectl --server http://127.0.0.1:10249 get svc,endpointslices,pods -o wide

The access log follows below (also $WORKDIR/svcproxy.log). Ctrl-C stops everything.
MSG
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  build_if_needed
  start_pods
  start_proxy
  show_services
  show_commands
  tail -n 0 -f "$WORKDIR/svcproxy.log" &
  TAIL_PID=$!
  wait "$PROXY_PID" || true
  echo "demo: svcproxy exited" >&2
}

main "$@"
