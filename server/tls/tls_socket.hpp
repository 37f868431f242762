// A TLS connection as an Asio async stream, with OpenSSL reading and writing the socket
// itself, as nginx and HAProxy do: no BIO pair and no Asio record buffers between them.
// asio::ssl::stream keeps two 17 KiB record buffers and a BIO pair of two more per
// connection whether or not bytes move (76 KiB per idle TLS connection, against HAProxy's
// 24.5 KiB), and copies every record once more on its way. Here OpenSSL's own buffers are
// all there is, released while a connection is idle (SSL_MODE_RELEASE_BUFFERS), and the
// socket BIO reads with TCP_INQ, so the stream knows when the kernel has nothing left and
// an idle keep-alive connection can wait without a buffer (may_be_readable).
//
// Each operation is one non-blocking OpenSSL call, retried when the socket is ready for
// what OpenSSL asked (SSL_ERROR_WANT_READ/WRITE); a read and a write may be in flight at
// once (the tunnel, the L4 relay), as OpenSSL allows on one thread. Errors are Asio's
// ssl::stream's: eof for a close_notify, ssl::error::stream_truncated for an end without
// one, the socket's errno, or OpenSSL's error in the SSL category.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <cstring>
#include <memory>
#include <optional>

namespace svcproxy::server {

struct TlsSocketIo;  // what the socket BIO reads and writes through (tls_socket.cpp)

// One TLS connection's OpenSSL state over a socket descriptor: the steps the stream's
// operations are made of. Not a template, so OpenSSL stays in tls_socket.cpp.
class TlsEngine {
 public:
  // What one non-blocking OpenSSL call did: finished (an error or `bytes`), or it waits
  // for the socket to be readable or writable.
  struct Step {
    enum class Wait : unsigned char { None, Read, Write };
    Wait wait = Wait::None;
    boost::system::error_code error;
    std::size_t bytes = 0;
  };

  TlsEngine(int fd, boost::asio::ssl::context& context);
  TlsEngine(TlsEngine&& other) noexcept;
  TlsEngine& operator=(TlsEngine&&) = delete;
  ~TlsEngine();

  SSL* ssl() const { return ssl_; }
  // False only when a read would surely wait: OpenSSL holds no bytes and the kernel had
  // none left after the last read.
  bool may_have_bytes() const;

  Step handshake_step(boost::asio::ssl::stream_base::handshake_type type);
  Step read_step(void* data, std::size_t size);
  Step write_step(const void* data, std::size_t size);
  // Our close_notify, then the peer's, as asio::ssl::stream's shutdown (a caller that
  // marked the peer's as received (SSL_RECEIVED_SHUTDOWN) waits only for ours to go out).
  Step shutdown_step();

 private:
  void start_call();
  Step result_of(int ret, std::size_t bytes);

  SSL* ssl_ = nullptr;
  std::unique_ptr<TlsSocketIo> io_;  // where the BIO points: stays put when this moves
  bool handshake_started_ = false;
};

// The stream over `Socket`: a tcp::socket it owns (the client side), or a SocketRef to a
// pod connection's socket (upstream/upstream_tls.hpp). It needs of it the descriptor,
// readiness waits and the executor.
template <class Socket>
class BasicTlsSocket {
 public:
  using Step = TlsEngine::Step;
  using executor_type = typename Socket::executor_type;
  using next_layer_type = Socket;
  using lowest_layer_type = typename Socket::lowest_layer_type;

  BasicTlsSocket(Socket socket, boost::asio::ssl::context& context)
      : socket_(std::move(socket)), engine_(socket_.native_handle(), context) {}
  BasicTlsSocket(BasicTlsSocket&&) noexcept = default;
  BasicTlsSocket& operator=(BasicTlsSocket&&) = delete;

  next_layer_type& next_layer() { return socket_; }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  executor_type get_executor() { return socket_.get_executor(); }
  SSL* native_handle() const { return engine_.ssl(); }
  bool may_have_bytes() const { return engine_.may_have_bytes(); }

  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    return run<false>(std::forward<Token>(token),
                      [type](TlsEngine& e) { return e.handshake_step(type); });
  }

  template <class Token>
  auto async_shutdown(Token&& token) {
    return run<false>(std::forward<Token>(token), [](TlsEngine& e) { return e.shutdown_step(); });
  }

  // Into the first non-empty buffer, as asio::ssl::stream.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return run<true>(std::forward<Token>(token), [buffers](TlsEngine& e) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const boost::asio::mutable_buffer piece(*it);
        if (piece.size() > 0) return e.read_step(piece.data(), piece.size());
      }
      return Step{};
    });
  }

  // Small pieces go as one record (up to kGather bytes copied together, as asio's stream
  // linearises); a large first piece as it is. A retry after WANT_WRITE presents the same
  // bytes, as OpenSSL requires.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return run<true>(std::forward<Token>(token), [buffers](TlsEngine& e) {
      auto it = boost::asio::buffer_sequence_begin(buffers);
      const auto end = boost::asio::buffer_sequence_end(buffers);
      while (it != end && boost::asio::const_buffer(*it).size() == 0)
        ++it;
      if (it == end) return Step{};
      const boost::asio::const_buffer first(*it);
      if (first.size() >= kGather || std::next(it) == end)
        return e.write_step(first.data(), first.size());
      std::array<char, kGather> gathered;
      std::size_t size = 0;
      for (; it != end && size < kGather; ++it) {
        const boost::asio::const_buffer piece(*it);
        const std::size_t n = std::min(piece.size(), kGather - size);
        std::memcpy(gathered.data() + size, piece.data(), n);
        size += n;
      }
      return e.write_step(gathered.data(), size);
    });
  }

 private:
  static constexpr std::size_t kGather = 8 * 1024;

  // Runs `step` until it no longer waits. A step that finishes on the initiating call is
  // completed through a post, so no operation completes before its initiating function
  // returns (Asio's rule; awaitables resumed inside it would nest without bound).
  template <class StepFn, bool WithBytes>
  struct Operation {
    BasicTlsSocket& stream;
    StepFn step;
    bool waited = false;
    std::optional<Step> finished;

    template <class Self>
    void operator()(Self& self, boost::system::error_code wait_error = {}) {
      if (finished) return complete(self, *finished);
      if (wait_error) return complete(self, {Step::Wait::None, wait_error, 0});
      const Step result = step(stream.engine_);
      if (result.wait != Step::Wait::None) {
        waited = true;
        stream.socket_.async_wait(result.wait == Step::Wait::Read
                                      ? boost::asio::ip::tcp::socket::wait_read
                                      : boost::asio::ip::tcp::socket::wait_write,
                                  std::move(self));
        return;
      }
      if (waited) return complete(self, result);
      finished = result;
      boost::asio::post(stream.socket_.get_executor(), std::move(self));
    }

    template <class Self>
    static void complete(Self& self, const Step& result) {
      if constexpr (WithBytes)
        self.complete(result.error, result.bytes);
      else
        self.complete(result.error);
    }
  };

  template <bool WithBytes, class Token, class StepFn>
  auto run(Token&& token, StepFn step) {
    using Signature = std::conditional_t<WithBytes, void(boost::system::error_code, std::size_t),
                                         void(boost::system::error_code)>;
    return boost::asio::async_compose<Token, Signature>(
        Operation<StepFn, WithBytes>{*this, step, false, std::nullopt}, token, socket_);
  }

  Socket socket_;
  TlsEngine engine_;
};

// TLS from clients, on the socket svcproxy accepted.
using TlsSocket = BasicTlsSocket<boost::asio::ip::tcp::socket>;

// The HTTP session's bufferless wait between requests (byte_stream.hpp).
inline bool may_be_readable(TlsSocket& stream) {
  return stream.may_have_bytes();
}

}  // namespace svcproxy::server
