// Opening listening sockets. Done on the control thread with plain syscalls so a bind
// error is known (and reported) before any worker is told about the listener.
#pragma once

#include <string>
#include <variant>

#include "server/control/listen_plan.hpp"

namespace svcproxy::server {

struct ListenError {
  std::string message;  // "cannot listen on 127.0.0.1:80: Address already in use"
};

// A bound, listening, non-blocking TCP socket with SO_REUSEPORT (one per worker, so the
// kernel spreads connections over workers) and IP_FREEBIND (a ClusterIP need not be
// configured on an interface yet). The caller owns the returned descriptor.
std::variant<int, ListenError> open_listen_socket(const ListenAddress& address, int backlog);

}  // namespace svcproxy::server
