// The cluster DNS server (ProxyConfig `dns`): UDP and TCP on one address, on the control
// io_context like the admin listener, so it reads the control thread's snapshot and
// backends without locks and a reload or a probe flip shows on the very next query. Every
// answer comes from dns/ (pure); this file only moves bytes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "conf/model.hpp"
#include "discovery/backends.hpp"

namespace svcproxy::server {

class ClusterDnsServer {
 public:
  // Reads `snapshot` and `backends` by reference on every query: the owner replaces what
  // they hold, on the control thread.
  ClusterDnsServer(boost::asio::io_context& control, const conf::Snapshot& snapshot,
                   const discovery::BackendMapPtr& backends);
  ClusterDnsServer(const ClusterDnsServer&) = delete;
  ClusterDnsServer& operator=(const ClusterDnsServer&) = delete;

  // Binds snapshot.proxy.dns.address for UDP and TCP. False with `error` set when either
  // cannot be bound (nothing then listens).
  bool start(std::string& error);
  // Closes both sockets; TCP connections end after their current query.
  void stop();

 private:
  boost::asio::awaitable<void> udp_loop();
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> tcp_session(boost::asio::ip::tcp::socket socket);
  // The response to one message, or nothing; `max_size` 0 for UDP (see answer_message).
  std::optional<std::vector<std::uint8_t>> answer(std::span<const std::uint8_t> message,
                                                  std::size_t max_size) const;

  boost::asio::io_context& control_;
  const conf::Snapshot& snapshot_;
  const discovery::BackendMapPtr& backends_;
  boost::asio::ip::udp::socket udp_{control_};
  boost::asio::ip::tcp::acceptor acceptor_{control_};
  std::uint32_t serial_ = 1;  // the SOA's serial: when the server started
  int sessions_ = 0;
  bool stopped_ = false;
};

}  // namespace svcproxy::server
