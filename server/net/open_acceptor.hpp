// How the control thread's TCP listeners (admin, healthCheckNodePort, cluster DNS) open:
// SO_REUSEADDR so a restart binds at once, the system's backlog. One place for all three.
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace svcproxy::server {

// Opens, binds and listens; on failure `failure` says why and the acceptor is closed again.
inline void open_acceptor(boost::asio::ip::tcp::acceptor& acceptor,
                          const boost::asio::ip::tcp::endpoint& endpoint,
                          boost::system::error_code& failure) {
  using boost::asio::ip::tcp;
  if (!failure) acceptor.open(endpoint.protocol(), failure);
  if (!failure) acceptor.set_option(tcp::acceptor::reuse_address(true), failure);
  if (!failure) acceptor.bind(endpoint, failure);
  if (!failure) acceptor.listen(boost::asio::socket_base::max_listen_connections, failure);
  if (failure) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
}

}  // namespace svcproxy::server
