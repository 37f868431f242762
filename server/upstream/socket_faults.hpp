// Whose fault a failed socket operation is. A pod that refuses, times out or resets is at
// fault, and that feeds outlier detection; svcproxy running out of its own resources
// (descriptors, socket buffers, local ports) is not the pod's doing: the client gets 503,
// no pod is ejected and no retry is spent on another pod as if this one were bad. The one
// place that decides, for every caller (connect, exchange, accept).
#pragma once

#include <array>
#include <atomic>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>

namespace svcproxy::server {

enum class SocketFault : std::uint8_t {
  // The pod's, or the network's on the way to it.
  Refused,      // ECONNREFUSED: nothing listens on the pod's port
  Timeout,      // no answer within timeouts.connect (or ETIMEDOUT from the kernel)
  Unreachable,  // EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN: no route to the pod
  Reset,        // ECONNRESET, EPIPE, ECONNABORTED, end of stream: the pod went away
  Tls,          // connected, but the TLS handshake failed (backend TLS: certificate, protocol)
  Other,        // anything else, e.g. a malformed pod IP
  // svcproxy's own.
  FileDescriptors,  // EMFILE, ENFILE: RLIMIT_NOFILE or the system's file table
  Memory,           // ENOBUFS, ENOMEM: socket buffers or kernel memory
  LocalPorts,       // EADDRNOTAVAIL, EADDRINUSE on connect: no ephemeral port left
};
inline constexpr std::size_t kSocketFaults = static_cast<std::size_t>(SocketFault::LocalPorts) + 1;
inline constexpr std::size_t kPodFaults = static_cast<std::size_t>(SocketFault::Other) + 1;

SocketFault classify_socket_error(const boost::system::error_code& error);

constexpr bool is_local(SocketFault fault) {
  return fault >= SocketFault::FileDescriptors;
}

// The `reason` label of pod faults, the `kind` label of local ones.
const char* to_string(SocketFault fault);

// svcproxy_local_resource_errors_total and svcproxy_accept_errors_total. Process-wide, as
// the resources are (one descriptor table); written by any worker, so atomic adds, which
// cost nothing on the data path: they happen only when something failed.
struct LocalFaultCounters {
  std::array<std::atomic<std::uint64_t>, kSocketFaults> local_resource_errors{};  // by kind
  std::array<std::atomic<std::uint64_t>, kSocketFaults> accept_errors{};          // by fault
};

LocalFaultCounters& local_fault_counters();

// Count one failure; call only with a local fault for the first.
void count_local_resource_error(SocketFault fault);
void count_accept_error(SocketFault fault);

}  // namespace svcproxy::server
