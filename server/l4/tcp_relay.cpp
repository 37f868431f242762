#include "server/l4/tcp_relay.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>

#include "server/net/asio_internals.hpp"
#include "server/net/drained_read.hpp"
#include "server/net/native_socket.hpp"
#include "server/net/splice_pipe.hpp"

#ifdef SVCPROXY_ASIO_INTERNALS
#define SVCPROXY_LENDING_READ 1
#endif

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const char* to_string(RelayEnd end) {
  switch (end) {
    case RelayEnd::BothClosed:
      return "eof";
    case RelayEnd::ClientReset:
      return "client_reset";
    case RelayEnd::UpstreamReset:
      return "upstream_reset";
    case RelayEnd::IdleTimeout:
      return "idle_timeout";
  }
  return "?";
}

namespace {

// Reads into a buffer borrowed from the worker's pool only when bytes are there: see the
// receive operation specialised for it below. `socket` is set when the socket's epoll
// entry reports peer shutdown (watch_peer_shutdown): the read is then a plain recv(2),
// otherwise recvmsg(2) with TCP_INQ.
struct LendingRead : asio::mutable_buffer {
  LendingRead(RelayBufferPool& pool, RelayBufferPool::Lease& into, ReactorRecord socket)
#ifdef SVCPROXY_LENDING_READ
      : mutable_buffer(nullptr, RelayBufferPool::kSize), pool(&pool), into(&into), socket(socket) {
  }
#else
      // Elsewhere async_read_lent (below) borrows the buffer around each recv(2).
      : mutable_buffer(nullptr, RelayBufferPool::kSize), pool(&pool), into(&into), socket(socket) {
  }
#endif
  RelayBufferPool* pool;
  RelayBufferPool::Lease* into;
  ReactorRecord socket;
};

#ifndef SVCPROXY_LENDING_READ
// The portable lending read, with public Asio only: a non-blocking recv(2) into a borrowed
// buffer; when nothing is there the buffer goes back and the read waits for readability
// holding none, then borrows one again. One more recv(2) and epoll wake-up per wait than
// the specialised receive operation, and the same promise: an idle relay holds no buffer.

// One recv(2): false when nothing is there yet (the buffer went back); else true with the
// outcome in `error` and `n`: bytes (in the lease), end of stream or a socket error.
bool try_receive(tcp::socket& from, const LendingRead& read, boost::system::error_code& error,
                 std::size_t& n) {
  auto& lease = *read.into;
  if (!lease) lease = read.pool->lease();
  for (;;) {
    const ssize_t got = ::recv(from.native_handle(), lease.data(), read.size(), MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got > 0) {
      error = {};
      n = static_cast<std::size_t>(got);
      return true;
    }
    lease = {};
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    n = 0;
    error = got == 0 ? boost::system::error_code(asio::error::eof)
                     : boost::system::error_code(errno, asio::error::get_system_category());
    return true;
  }
}

template <class Handler>
void wait_and_receive(tcp::socket& from, LendingRead read, Handler handler) {
  from.async_wait(tcp::socket::wait_read, [&from, read, handler = std::move(handler)](
                                              const boost::system::error_code& error) mutable {
    if (error) return handler(error, std::size_t{0});
    boost::system::error_code outcome;
    std::size_t n = 0;
    if (!try_receive(from, read, outcome, n))
      return wait_and_receive(from, read, std::move(handler));  // woken with nothing to read
    handler(outcome, n);
  });
}

// As from.async_read_some(read, handler): the handler runs once, never inside this call.
template <class Handler>
void async_read_lent(tcp::socket& from, LendingRead read, Handler handler) {
  boost::system::error_code outcome;
  std::size_t n = 0;
  if (!try_receive(from, read, outcome, n)) return wait_and_receive(from, read, std::move(handler));
  asio::post(from.get_executor(),
             [handler = std::move(handler), outcome, n]() mutable { handler(outcome, n); });
}
#endif

}  // namespace
}  // namespace svcproxy::server

#ifdef SVCPROXY_LENDING_READ
// Asio's receive operation for LendingRead (Boost 1.81, epoll; see drained_read.hpp for the
// same technique): the buffer is taken from the pool when the reactor performs the read
// and handed back at once if nothing was there, so a connection waiting for bytes holds
// no buffer. As with DrainingBuffer, TCP_INQ's "nothing left" ends speculation.
namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<svcproxy::server::LendingRead> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type, const svcproxy::server::LendingRead& read,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        read_(read),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    auto& lease = *o->read_.into;
    if (!lease) lease = o->read_.pool->lease();
    const bool plain = o->read_.socket.state != nullptr;
    for (;;) {
      int left = -1;
      const ssize_t n = plain ? ::recv(o->socket_, lease.data(), o->read_.size(), o->flags_)
                              : svcproxy::server::detail::receive_with_inq(
                                    o->socket_, lease.data(), o->read_.size(), o->flags_, left);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        o->ec_ = boost::system::error_code();
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        const bool drained = plain ? static_cast<std::size_t>(n) < o->read_.size() &&
                                         !svcproxy::server::peer_shutdown_seen(o->read_.socket)
                                   : left == 0;
        return drained ? done_and_exhausted : done;
      }
      lease = {};
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
      o->bytes_transferred_ = 0;
      if (n < 0) {
        o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
        return done;
      }
      o->ec_ = boost::asio::error::eof;
      return done_and_exhausted;
    }
  }

 private:
  socket_type socket_;
  svcproxy::server::LendingRead read_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif

namespace svcproxy::server {
namespace {

// One direction: bytes read from `from` wait in `pending` until `to` has taken them all.
struct Direction {
  tcp::socket& from;
  tcp::socket& to;
  std::uint64_t& bytes;
  RelayEnd from_failed;  // how the relay ends if reading fails
  RelayEnd to_failed;    // how the relay ends if writing fails
  RelayBufferPool::Lease pending;
  // Set once the direction proved to be bulk (a read filled a whole buffer): bytes then
  // move through this pipe with splice(2), and [begin, end) counts what it holds.
  std::unique_ptr<SplicePipe> pipe;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool finished = false;        // EOF passed on, or the relay failed
  ReactorRecord from_record{};  // set when reads may use plain recv(2) (LendingRead)
  int reads = 0;                // until from_record is set
};

constexpr int kReadsBeforeWatch = 3;

// Both directions as callbacks: reads through Asio (speculative until a read finds the
// socket drained: TCP_INQ, or a short read while epoll has not seen the peer's FIN),
// writes straight to the descriptor and wait for writability only when the kernel's
// buffer is full. A buffer is borrowed only while bytes are in flight. The callbacks
// capture `this`: the owner keeps the Relay until finished(), that is until every
// operation it started has completed.
class Relay {
 public:
  Relay(tcp::socket& client, tcp::socket& upstream, RelayPools pools, asio::steady_timer& wake,
        RelayResult& result)
      : client_(client),
        upstream_(upstream),
        buffers_(pools.buffers),
        pipes_(pools.pipes),
        wake_(wake),
        result_(result),
        to_upstream_{client,
                     upstream,
                     result.client_to_upstream,
                     RelayEnd::ClientReset,
                     RelayEnd::UpstreamReset,
                     {},
                     {}},
        to_client_{upstream,
                   client,
                   result.upstream_to_client,
                   RelayEnd::UpstreamReset,
                   RelayEnd::ClientReset,
                   {},
                   {}} {}

  void start() {
    watch(to_client_);  // the pod's socket: free after the connect (upstream_connect.cpp)
    read(to_upstream_);
    read(to_client_);
  }

  // Both directions have ended; operations may still be completing.
  bool ending() const { return to_upstream_.finished && to_client_.finished; }
  bool finished() const { return ending() && operations_ == 0; }
  Clock::time_point last_activity() const { return last_activity_; }

  // Resets both sockets; every pending operation completes with operation_aborted.
  void abort(RelayEnd end) {
    if (result_.end == RelayEnd::BothClosed) result_.end = end;
    for (Direction* d : {&to_upstream_, &to_client_})
      d->finished = true;
    reset_connection(client_);
    reset_connection(upstream_);
  }

 private:
  // Reads of `d` become plain recv(2) (see watch_peer_shutdown).
  static void watch(Direction& d) {
    if (watch_peer_shutdown(d.from)) d.from_record = reactor_record(d.from);
  }

  void read(Direction& d) {
    // A client's socket costs an epoll_ctl(2) to watch: worth it once the connection does
    // more than one request and its end of stream.
    if (!d.from_record.state && ++d.reads == kReadsBeforeWatch) watch(d);
    ++operations_;
    auto on_read = [this, &d](const boost::system::error_code& error, std::size_t n) {
      --operations_;
      if (!d.finished) {
        if (!error) {
          d.begin = 0;
          d.end = n;
          write(d);
        } else if (error == asio::error::eof) {
          pass_on_eof(d);
        } else {
          abort(d.from_failed);
        }
      }
      done_if_finished();
    };
    if (d.pipe) {
      d.from.async_read_some(SpliceIntoPipe(d.pipe->write_fd(), d.pipe->capacity()), on_read);
    } else {
#ifdef SVCPROXY_LENDING_READ
      d.from.async_read_some(LendingRead(buffers_, d.pending, d.from_record), on_read);
#else
      async_read_lent(d.from, LendingRead(buffers_, d.pending, d.from_record), on_read);
#endif
    }
  }

  void write(Direction& d) {
    while (d.begin < d.end) {
      const ssize_t n =
          d.pipe ? detail::splice_some(d.pipe->read_fd(), d.to.native_handle(), d.end - d.begin,
                                       /*more=*/false)
                 : ::send(d.to.native_handle(), d.pending.data() + d.begin, d.end - d.begin,
                          MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        d.begin += static_cast<std::size_t>(n);
        d.bytes += static_cast<std::uint64_t>(n);
        last_activity_ = Clock::now();
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return wait_writable(d);
      } else if (errno != EINTR) {
        return abort(d.to_failed);
      }
    }
    if (splice_supported && !d.pipe && d.end == RelayBufferPool::kSize)
      d.pipe = pipes_.take();  // bulk: no more copies through user space
    // Back to the worker: a read that waits for epoll (the socket said it was drained)
    // must not sit on a buffer; the next read that finds bytes borrows one again.
    d.pending = {};
    read(d);
  }

  void wait_writable(Direction& d) {
    ++operations_;
    d.to.async_wait(tcp::socket::wait_write, [this, &d](const boost::system::error_code& error) {
      --operations_;
      if (!d.finished) {
        if (error) {
          abort(d.to_failed);
        } else {
          write(d);
        }
      }
      done_if_finished();
    });
  }

  void pass_on_eof(Direction& d) {
    d.finished = true;
    d.pending = {};
    pipes_.give_back(std::move(d.pipe));  // empty: reads happen only once all was written
    const Direction& other = &d == &to_upstream_ ? to_client_ : to_upstream_;
    boost::system::error_code ignored;
    if (!other.finished) {
      d.to.shutdown(tcp::socket::shutdown_send, ignored);  // the half-close travels on
    } else {
      close_quietly(d.to);  // both ends said goodbye: close(2) sends the FIN
    }
  }

  void done_if_finished() {
    if (finished()) wake_.cancel();
  }

  tcp::socket& client_;
  tcp::socket& upstream_;
  RelayBufferPool& buffers_;
  PipePool& pipes_;
  asio::steady_timer& wake_;
  RelayResult& result_;
  Direction to_upstream_;
  Direction to_client_;
  int operations_ = 0;
  Clock::time_point last_activity_ = Clock::now();
};

}  // namespace

asio::awaitable<RelayResult> relay(tcp::socket& client, tcp::socket& upstream,
                                   conf::Duration idle_timeout, RelayPools pools) {
  RelayResult result;
  // Doubles as the idle watchdog and as the signal that the relay finished.
  asio::steady_timer wake(client.get_executor());
  Relay relay(client, upstream, pools, wake, result);
  relay.start();
  while (!relay.finished()) {
    wake.expires_at(relay.ending() ? Clock::time_point::max()
                                   : relay.last_activity() + idle_timeout);
    auto [error] = co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!error && !relay.ending() && Clock::now() >= relay.last_activity() + idle_timeout)
      relay.abort(RelayEnd::IdleTimeout);
  }
  co_return result;
}

}  // namespace svcproxy::server
