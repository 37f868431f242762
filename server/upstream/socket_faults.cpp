#include "server/upstream/socket_faults.hpp"

#include <boost/asio/error.hpp>
#include <cerrno>

namespace svcproxy::server {

SocketFault classify_socket_error(const boost::system::error_code& error) {
  // Categories compared by address, not with operator== (which reads their members): this
  // runs when descriptors ran out, and UBSan's check of a polymorphic object it has not
  // seen yet needs a pipe(2) it cannot get then, reporting a false "invalid vptr".
  const boost::system::error_category* category = &error.category();
  if (category == &boost::asio::error::get_misc_category())
    return error.value() == boost::asio::error::eof ? SocketFault::Reset : SocketFault::Other;
  if (category != &boost::system::system_category() &&
      category != &boost::system::generic_category())
    return SocketFault::Other;
  switch (error.value()) {
    case ECONNREFUSED:
      return SocketFault::Refused;
    case ETIMEDOUT:
      return SocketFault::Timeout;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
      return SocketFault::Unreachable;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
    case ENOTCONN:
      return SocketFault::Reset;
    case EMFILE:
    case ENFILE:
      return SocketFault::FileDescriptors;
    case ENOBUFS:
    case ENOMEM:
      return SocketFault::Memory;
    case EADDRNOTAVAIL:
    case EADDRINUSE:
      return SocketFault::LocalPorts;
    default:
      return SocketFault::Other;
  }
}

const char* to_string(SocketFault fault) {
  switch (fault) {
    case SocketFault::Refused:
      return "refused";
    case SocketFault::Timeout:
      return "timeout";
    case SocketFault::Unreachable:
      return "unreachable";
    case SocketFault::Reset:
      return "reset";
    case SocketFault::Tls:
      return "tls";
    case SocketFault::Other:
      return "other";
    case SocketFault::FileDescriptors:
      return "file_descriptors";
    case SocketFault::Memory:
      return "memory";
    case SocketFault::LocalPorts:
      return "local_ports";
  }
  return "?";
}

LocalFaultCounters& local_fault_counters() {
  static LocalFaultCounters counters;
  return counters;
}

void count_local_resource_error(SocketFault fault) {
  local_fault_counters().local_resource_errors[static_cast<std::size_t>(fault)].fetch_add(
      1, std::memory_order_relaxed);
}

void count_accept_error(SocketFault fault) {
  local_fault_counters().accept_errors[static_cast<std::size_t>(fault)].fetch_add(
      1, std::memory_order_relaxed);
}

}  // namespace svcproxy::server
