#include "server/control/listen_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/net/drained_read.hpp"

namespace svcproxy::server {
namespace {

ListenError error_for(const ListenAddress& address, const char* step, int error) {
  return {std::string("cannot listen on ") + address.to_string() + ": " + step + ": " +
          std::strerror(error)};
}

bool fill_sockaddr(const ListenAddress& address, sockaddr_storage& storage, socklen_t& length) {
  std::memset(&storage, 0, sizeof storage);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  if (inet_pton(AF_INET, address.ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(address.port));
    length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET6, address.ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(address.port));
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

}  // namespace

std::variant<int, ListenError> open_listen_socket(const ListenAddress& address, int backlog) {
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!fill_sockaddr(address, storage, length))
    return ListenError{"cannot listen on " + address.to_string() + ": not an IP address"};
  const int type = address.udp ? SOCK_DGRAM : SOCK_STREAM;
  const int fd = ::socket(storage.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return error_for(address, "socket", errno);
  const int on = 1;
  const bool options_ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
                          ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0;
  const int level = storage.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
  const int freebind = storage.ss_family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND;
  ::setsockopt(fd, level, freebind, &on, sizeof on);  // best effort: only helps non-local IPs
  if (storage.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (!address.udp) {
    // Accepted sockets inherit both: no setsockopt(2) per connection.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    enable_inq(fd);
  } else {
    // Bursts of datagrams wait here while the worker is busy; the kernel caps the size
    // at net.core.rmem_max.
    const int buffer = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  const char* failed_step = !options_ok ? "setsockopt"
                            : ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0
                                ? "bind"
                            : !address.udp && ::listen(fd, backlog) != 0 ? "listen"
                                                                         : nullptr;
  if (!failed_step) return fd;
  const int error = errno;
  ::close(fd);
  return error_for(address, failed_step, error);
}

}  // namespace svcproxy::server
