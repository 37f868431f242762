// A TCP socket lent to a layered stream: an Asio async stream that reads, writes and waits
// through a socket it does not own. TLS to a pod (upstream/upstream_tls.hpp) layers OpenSSL over
// the pod connection's own socket this way, so connecting, pooling, cancelling and
// resetting stay what they are for a plain connection; whoever moves the socket re-points
// the reference (bind).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <utility>

namespace svcproxy::server {

class SocketRef {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using lowest_layer_type = boost::asio::ip::tcp::socket::lowest_layer_type;

  explicit SocketRef(boost::asio::ip::tcp::socket& socket) : socket_(&socket) {}

  void bind(boost::asio::ip::tcp::socket& socket) { socket_ = &socket; }
  boost::asio::ip::tcp::socket& socket() const { return *socket_; }

  executor_type get_executor() { return socket_->get_executor(); }
  int native_handle() { return socket_->native_handle(); }
  lowest_layer_type& lowest_layer() { return socket_->lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_->lowest_layer(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return socket_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_->async_write_some(buffers, std::forward<Token>(token));
  }
  template <class Token>
  auto async_wait(boost::asio::ip::tcp::socket::wait_type type, Token&& token) {
    return socket_->async_wait(type, std::forward<Token>(token));
  }

 private:
  boost::asio::ip::tcp::socket* socket_;
};

// The socket under a stream layered on a SocketRef (byte_stream.hpp's lowest_socket).
inline boost::asio::ip::tcp::socket& lowest_socket(SocketRef& ref) {
  return ref.socket();
}

}  // namespace svcproxy::server
