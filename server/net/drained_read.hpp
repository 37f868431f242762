// A read buffer that lets the kernel say "this socket is drained", so the next read on the
// socket waits for epoll's readiness edge instead of first failing with EAGAIN.
//
// Why: Asio's epoll reactor tries every read speculatively (a recv(2) before waiting) and
// only stops speculating after a read of 0 bytes. On a proxy's request/response exchanges
// nearly every read after a write finds nothing yet: measured, 3.9 recvfrom per keep-alive
// request against HAProxy's 2.0 (HAProxy tracks readiness itself and waits for the poller).
//
// How: the reactor's decision comes from the receive operation's perform() status. We
// specialise Asio's receive operation base (a detail class of Boost 1.81's epoll reactor)
// for this buffer type only: it reads with recvmsg(2) and TCP_INQ (enable_inq() on the
// socket), whose control message says how many bytes are left, and non-zero once a FIN is
// pending. Left 0 means drained: `done_and_exhausted`, and any byte (or FIN) arriving later
// raises a new edge-triggered event that makes the reactor read again. A short read alone
// would not do: data and FIN taken in one read leave no edge to wait for. Without TCP_INQ
// (option refused, other Boost, other reactor) reads behave exactly as before.
// Thread affinity: the socket's worker (whose reactor runs without per-descriptor locks,
// worker.hpp); the operation touches only its own state and the descriptor.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "server/net/asio_internals.hpp"

namespace svcproxy::server {

struct DrainingBuffer : boost::asio::mutable_buffer {
  explicit DrainingBuffer(boost::asio::mutable_buffer buffer) : mutable_buffer(buffer) {}
};

inline DrainingBuffer draining(boost::asio::mutable_buffer buffer) {
  return DrainingBuffer(buffer);
}

// Asks the kernel to report the bytes left after each read (Linux 4.18+). Best effort.
inline void enable_inq(int fd) {
#ifdef TCP_INQ
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, sizeof on);
#endif
}

namespace detail {

// recvmsg(2) of one buffer; `left` is TCP_INQ's count, or -1 when the kernel sent none.
// Returns bytes read, or -1 with errno.
inline ssize_t receive_with_inq(int fd, void* data, std::size_t size, int flags, int& left) {
  iovec piece{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr message{};
  message.msg_iov = &piece;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  left = -1;
  const ssize_t n = ::recvmsg(fd, &message, flags);
#ifdef TCP_CM_INQ
  if (n > 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ)
        std::memcpy(&left, CMSG_DATA(c), sizeof left);
    }
  }
#endif
  return n;
}

}  // namespace detail

}  // namespace svcproxy::server

#ifdef SVCPROXY_ASIO_INTERNALS
#include <boost/asio/detail/reactive_socket_recv_op.hpp>

namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<svcproxy::server::DrainingBuffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const svcproxy::server::DrainingBuffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffers_(buffers),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
    for (;;) {
      int left = -1;
      const ssize_t n = svcproxy::server::detail::receive_with_inq(
          o->socket_, o->buffers_.data(), o->buffers_.size(), o->flags_, left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
      if (n < 0) {
        o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
        o->bytes_transferred_ = 0;
        return done;
      }
      o->bytes_transferred_ = static_cast<std::size_t>(n);
      if (n == 0 && stream && o->buffers_.size() > 0) {
        o->ec_ = boost::asio::error::eof;
        return done_and_exhausted;  // as Asio's own receive operation
      }
      o->ec_ = boost::system::error_code();
      return left == 0 ? done_and_exhausted : done;
    }
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  svcproxy::server::DrainingBuffer buffers_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif
