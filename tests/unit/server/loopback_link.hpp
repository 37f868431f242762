// A connected TCP pair on 127.0.0.1 for socket tests.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "server/net/drained_read.hpp"

namespace svcproxy::server {

// `outside` is the test's end; `inside` is the end the code under test gets, set up as
// the proxy sets up its sockets (non-blocking, TCP_INQ).
struct LoopbackLink {
  boost::asio::ip::tcp::socket outside;
  boost::asio::ip::tcp::socket inside;
};

inline LoopbackLink make_loopback_link(boost::asio::io_context& context) {
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  tcp::socket outside(context);
  outside.connect(acceptor.local_endpoint());
  tcp::socket inside = acceptor.accept();
  inside.non_blocking(true);
  enable_inq(inside.native_handle());
  return {std::move(outside), std::move(inside)};
}

}  // namespace svcproxy::server
