#include "server/net/native_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <cerrno>
#include <cstdint>

#include "server/net/asio_internals.hpp"
#include "server/net/drained_read.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

boost::system::error_code last_error() {
  return {errno, asio::error::get_system_category()};
}

#ifdef SVCPROXY_ASIO_INTERNALS  // Boost 1.81's epoll reactor (asio_internals.hpp)
// basic_socket keeps its implementation in a protected member; a derived class may name it.
struct SocketImplementation : tcp::socket {
  static auto& of(tcp::socket& socket) {
    return (socket.*(&SocketImplementation::impl_)).get_implementation();
  }
};

// The descriptor is ours alone and already non-blocking: skip FIONBIO before the first
// operation and the epoll_ctl(DEL) kept for dup'ed descriptors.
void mark_nonblocking_and_unshared(tcp::socket& socket) {
  namespace ops = asio::detail::socket_ops;
  auto& state = SocketImplementation::of(socket).state_;
  state = static_cast<ops::state_type>((state | ops::internal_non_blocking) & ~ops::possible_dup);
}

// Private members of the reactor, named in explicit instantiations (where the language
// does not check access) and handed out through a friend function of a tag.
template <class Tag, typename Tag::type Member>
struct Reach {
  friend typename Tag::type reach(Tag) { return Member; }
};
using Reactor = asio::detail::epoll_reactor;
using ReactorState = Reactor::descriptor_state;
struct EpollDescriptor {
  using type = int Reactor::*;
  friend type reach(EpollDescriptor);
};
template struct Reach<EpollDescriptor, &Reactor::epoll_fd_>;
struct RegisteredEvents {
  using type = std::uint32_t ReactorState::*;
  friend type reach(RegisteredEvents);
};
template struct Reach<RegisteredEvents, &ReactorState::registered_events_>;
struct LastEvents {
  using type = unsigned int asio::detail::scheduler_operation::*;
  friend type reach(LastEvents);
};
template struct Reach<LastEvents, &asio::detail::scheduler_operation::task_result_>;
struct TrySpeculative {
  using type = bool (ReactorState::*)[Reactor::max_ops];
  friend type reach(TrySpeculative);
};
template struct Reach<TrySpeculative, &ReactorState::try_speculative_>;
#else
void mark_nonblocking_and_unshared(tcp::socket&) {}
#endif

}  // namespace

tcp::socket adopt_nonblocking(const asio::any_io_executor& executor, const tcp& protocol, int fd,
                              boost::system::error_code& error) {
  tcp::socket socket(executor);
  socket.assign(protocol, fd, error);
  if (error) {
    ::close(fd);
    return socket;
  }
  mark_nonblocking_and_unshared(socket);
  return socket;
}

#ifdef SVCPROXY_ASIO_INTERNALS
bool watch_peer_shutdown(tcp::socket& socket) {
  auto& implementation = SocketImplementation::of(socket);
  ReactorState* state = implementation.reactor_data_;
  if (!state) return false;
  auto& reactor =
      asio::use_service<Reactor>(asio::query(socket.get_executor(), asio::execution::context));
  std::uint32_t& registered = state->*reach(RegisteredEvents{});
  // Set before the reactor's own change (EPOLLOUT) and so carried by it.
  if ((registered & EPOLLRDHUP) && (registered & EPOLLOUT)) return true;
  epoll_event event{};
  event.events = registered | EPOLLRDHUP;
  event.data.ptr = state;
  if (::epoll_ctl(reactor.*reach(EpollDescriptor{}), EPOLL_CTL_MOD, implementation.socket_,
                  &event) != 0)
    return false;
  registered = event.events;  // kept when the reactor adds EPOLLOUT later
  return true;
}

void watch_peer_shutdown_later(tcp::socket& socket) {
  if (ReactorState* state = SocketImplementation::of(socket).reactor_data_)
    state->*reach(RegisteredEvents{}) |= EPOLLRDHUP;
}

ReactorRecord reactor_record(tcp::socket& socket) {
  return {SocketImplementation::of(socket).reactor_data_};
}

// The reactor's own record that a read drained the socket (see may_be_readable).
static void mark_drained(tcp::socket& socket) {
  if (ReactorState* state = SocketImplementation::of(socket).reactor_data_)
    (state->*reach(TrySpeculative{}))[Reactor::read_op] = false;
}

bool may_be_readable(tcp::socket& socket) {
  const ReactorState* state = SocketImplementation::of(socket).reactor_data_;
  // The reactor clears the flag when a read reports the socket drained and sets it again
  // with the next readiness edge.
  return !state || (state->*reach(TrySpeculative{}))[Reactor::read_op];
}

bool peer_shutdown_seen(ReactorRecord record) {
  // descriptor_state derives privately from scheduler_operation, which holds the flags of
  // the last event until the next one; a C-style cast may name a private base.
  const auto* operation =
      (const asio::detail::scheduler_operation*)(static_cast<const ReactorState*>(record.state));
  return (operation->*reach(LastEvents{}) & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
}
#else
bool watch_peer_shutdown(tcp::socket&) {
  return false;
}
void watch_peer_shutdown_later(tcp::socket&) {}
ReactorRecord reactor_record(tcp::socket&) {
  return {};
}
bool peer_shutdown_seen(ReactorRecord) {
  return true;
}
bool may_be_readable(tcp::socket&) {
  return true;
}
static void mark_drained(tcp::socket&) {}
#endif

std::size_t receive_now(tcp::socket& socket, asio::mutable_buffer buffer,
                        boost::system::error_code& error) {
  error = {};
  for (;;) {
    int left = -1;
    const ssize_t n = detail::receive_with_inq(socket.native_handle(), buffer.data(), buffer.size(),
                                               MSG_DONTWAIT, left);
    if (n > 0) {
      if (left == 0) mark_drained(socket);
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      error = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    error = errno == EAGAIN || errno == EWOULDBLOCK ? asio::error::would_block : last_error();
    return 0;
  }
}

int accept_nonblocking(int listening_fd, tcp::endpoint& peer, boost::system::error_code& error) {
  for (;;) {
    socklen_t length = static_cast<socklen_t>(peer.capacity());
    const int fd = ::accept4(listening_fd, peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      peer.resize(length);
      error.clear();
      return fd;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;  // the peer gave up: next one
    error = (errno == EAGAIN || errno == EWOULDBLOCK) ? asio::error::would_block : last_error();
    return -1;
  }
}

int open_upstream_socket(const tcp& protocol, boost::system::error_code& error) {
  const int fd = ::socket(protocol.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = last_error();
    return -1;
  }
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  enable_inq(fd);
  error.clear();
  return fd;
}

namespace {

void append_decimal(std::string& out, unsigned value) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0)
    out += digits[--n];
}

}  // namespace

PeerAddress describe_peer(const tcp::endpoint& peer) {
  PeerAddress described;
  const auto address = peer.address();
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    described.ip.reserve(15);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (i > 0) described.ip += '.';
      append_decimal(described.ip, bytes[i]);
    }
    described.ip_port = described.ip;  // up to 15 bytes ("127.0.0.1:54321") need no allocation
  } else {
    described.ip = address.to_string();
    described.ip_port = "[" + described.ip + "]";
  }
  described.ip_port += ':';
  append_decimal(described.ip_port, peer.port());
  return described;
}

void close_quietly(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.close(ignored);
}

void reset_connection(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace svcproxy::server
