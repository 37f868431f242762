// Moving a large body socket -> pipe -> socket with splice(2): the pages travel by
// reference, so the proxy copies nothing (a 1 MiB response was 96% kernel time, most of it
// the two copies of recv and send).
//
// How: reading into the pipe and writing out of it are Asio operations on the sockets,
// with Asio's receive and send operations specialised for two marker "buffers" (as in
// drained_read.hpp): the reactor performs splice(2) where it would perform recvmsg(2) or
// sendmsg(2), speculatively, and waits for epoll only when the kernel says EAGAIN, with no
// extra system call per wait. Compiled only for Boost 1.81 with epoll on Linux; elsewhere
// `splice_supported` is false and bodies are copied as before.
// Thread affinity: pipes belong to one worker.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <memory>
#include <vector>

#include "server/net/asio_internals.hpp"
#include "server/net/drained_read.hpp"

namespace svcproxy::server {

// The read end and the write end of a non-blocking pipe, and how much it holds at most.
class SplicePipe {
 public:
  SplicePipe(int read_fd, int write_fd, std::size_t capacity)
      : read_fd_(read_fd), write_fd_(write_fd), capacity_(capacity) {}
  ~SplicePipe();
  SplicePipe(const SplicePipe&) = delete;
  SplicePipe& operator=(const SplicePipe&) = delete;

  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  std::size_t capacity() const { return capacity_; }

 private:
  int read_fd_;
  int write_fd_;
  std::size_t capacity_;
};

// Empty pipes kept by a worker: a large response costs no pipe2(2) in the steady state.
class PipePool {
 public:
  // A pipe, or nullptr when none can be made (descriptor limit): then copy instead.
  std::unique_ptr<SplicePipe> take();
  // Only pipes known to be empty come back; others are closed.
  void give_back(std::unique_ptr<SplicePipe> pipe);
  std::size_t idle() const { return free_.size(); }

 private:
  static constexpr std::size_t kMaxFree = 16;
  std::vector<std::unique_ptr<SplicePipe>> free_;
};

// Marker buffers: what the specialised operations splice (their `size` is the most to move).
struct SpliceIntoPipe : boost::asio::mutable_buffer {
  SpliceIntoPipe(int pipe_write_fd, std::size_t most)
      : mutable_buffer(nullptr, most), pipe_fd(pipe_write_fd) {}
  int pipe_fd;
};

struct SpliceFromPipe : boost::asio::const_buffer {
  SpliceFromPipe(int pipe_read_fd, std::size_t most, bool more_follows)
      : const_buffer(nullptr, most), pipe_fd(pipe_read_fd), more(more_follows) {}
  int pipe_fd;
  bool more;  // SPLICE_F_MORE: the body goes on, let TCP fill segments
};

namespace detail {
ssize_t splice_some(int from, int to, std::size_t size, bool more);
}  // namespace detail

}  // namespace svcproxy::server

#if defined(SVCPROXY_ASIO_INTERNALS)
#include <boost/asio/detail/reactive_socket_send_op.hpp>

namespace svcproxy::server {
inline constexpr bool splice_supported = true;
}  // namespace svcproxy::server

namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<svcproxy::server::SpliceIntoPipe> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type, const svcproxy::server::SpliceIntoPipe& into,
                               socket_base::message_flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        into_(into) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    const ssize_t n =
        svcproxy::server::detail::splice_some(o->socket_, o->into_.pipe_fd, o->into_.size(),
                                              /*more=*/false);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
    o->bytes_transferred_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    o->ec_ = n > 0    ? boost::system::error_code()
             : n == 0 ? boost::system::error_code(boost::asio::error::eof)
                      : boost::system::error_code(errno, boost::asio::error::get_system_category());
    return n == 0 ? done_and_exhausted : done;
  }

 private:
  socket_type socket_;
  svcproxy::server::SpliceIntoPipe into_;
};

template <>
class reactive_socket_send_op_base<svcproxy::server::SpliceFromPipe> : public reactor_op {
 public:
  reactive_socket_send_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type, const svcproxy::server::SpliceFromPipe& from,
                               socket_base::message_flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_send_op_base::do_perform, complete_func),
        socket_(socket),
        from_(from) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_send_op_base*>(base);
    const ssize_t n = svcproxy::server::detail::splice_some(o->from_.pipe_fd, o->socket_,
                                                            o->from_.size(), o->from_.more);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
    o->bytes_transferred_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    o->ec_ = n >= 0 ? boost::system::error_code()
                    : boost::system::error_code(errno, boost::asio::error::get_system_category());
    return done;
  }

 private:
  socket_type socket_;
  svcproxy::server::SpliceFromPipe from_;
};

}  // namespace boost::asio::detail
#else
namespace svcproxy::server {
inline constexpr bool splice_supported = false;
}  // namespace svcproxy::server
#endif
