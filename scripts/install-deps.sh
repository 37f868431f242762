#!/usr/bin/env bash
# Installs what svcproxy needs to build, test and demo on Debian 12 — only what is
# missing, so a second run does nothing (and needs no network). Tests never install
# anything themselves: a tool they need is listed here, and a test that finds it missing
# skips, saying so.
#   scripts/install-deps.sh           build, test, demo (make deps; every make target)
#   scripts/install-deps.sh --bench   also what bench/run compares against and plots with
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libboost1.81-dev libboost-json1.81-dev libyaml-cpp-dev prometheus-cpp-dev doctest-dev libssl-dev
  libc-ares-dev
  clang-14 libclang-rt-14-dev  # make fuzz: clang++-14 and libFuzzer (libclang_rt.fuzzer)
  nginx-light curl wrk python3 python3-yaml iproute2 docker-compose dnsmasq-base
  dnsutils  # test_cluster_dns asks the cluster DNS server with dig
  prometheus  # promtool: test_admin_metrics checks a real /metrics scrape with it
  etcd-server etcd-client  # cluster mode: the test_cluster_* tests run real etcd members
  testssl.sh sslscan  # test_tls_scan: no weak protocol, cipher or vulnerability on TLS ports
)
# test_kubectl drives the real kubectl; Debian's is kubernetes-client (1.20). A kubectl
# already on PATH (a newer one, e.g. from the Google Cloud SDK) is used as it is.
if ! command -v kubectl >/dev/null; then PACKAGES+=(kubernetes-client); fi
BENCH_PACKAGES=(haproxy gnuplot-nox)  # bench/run: HAProxy 2.6 to compare with, the chart

missing_packages() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
      echo "$pkg"
    fi
  done
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "install-deps: need root (or sudo) to run: $*" >&2
    exit 1
  fi
}

# nginx's package would start the system nginx on :80; we run our own per-pod masters
# instead. A policy-rc.d that says "no" (exit 101) keeps every service from starting
# during the install. We add one only if none exists and remove only the one we added.
install_without_starting_services() {
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
    { [[ $added -eq 1 ]] && as_root rm -f "$policy"; exit 1; }
  if [[ $added -eq 1 ]]; then as_root rm -f "$policy"; fi
}

main() {
  case "${1:-}" in
    "") ;;
    --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
    *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
  esac
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    return
  fi
  echo "install-deps: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  install_without_starting_services "${missing[@]}"
}

main "$@"
