# What scripts/demo.sh and scripts/demo-cluster.sh share: sourced, not run.

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Runs `test_command...` every 0.1 s for at most `seconds` until it succeeds.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local tries=$((seconds * 10))
  until "$@"; do
    ((tries-- > 0)) || { echo "${0##*/}: timed out waiting for $what" >&2; return 1; }
    sleep 0.1
  done
}

# Sends SIGTERM to one PID we started and waits up to 10 s before SIGKILL.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# SVCPROXY, or build it; then whatever the demo needs that is missing.
build_if_needed() {
  if [[ -z ${SVCPROXY:-} ]]; then
    make -C "$ROOT" build
    SVCPROXY=$ROOT/build/svcproxy
  fi
  "$ROOT/scripts/install-deps.sh"
}
