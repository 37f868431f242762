// Asynchronous A + AAAA lookups. The production resolver is c-ares driven by an Asio
// io_context (the control context: never a worker's); tests substitute their own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "discovery/dns_answer.hpp"

namespace boost::asio {
class io_context;
}

namespace svcproxy::discovery {

class DnsResolver {
 public:
  using Handler = std::function<void(DnsLookup)>;

  virtual ~DnsResolver() = default;

  // Which servers to ask: "ip[:port]" each ("[v6]:port" for IPv6 with a port); empty: the
  // system's /etc/resolv.conf. Lookups in flight are cancelled (their handlers see
  // `cancelled`). Returns an error message, empty on success.
  virtual std::string set_servers(const std::vector<std::string>& servers) = 0;

  // Looks `name` up (A and AAAA, with the resolv.conf search rules) and calls `handler`
  // once, later, on the io_context's thread — never from inside this call.
  virtual void resolve(const std::string& name, Handler handler) = 0;
};

// c-ares on `io`: its sockets are waited on with Asio, its timeouts with a timer; no
// blocking call and no extra thread. Not thread-safe: use it on `io`'s thread only.
std::unique_ptr<DnsResolver> make_cares_resolver(boost::asio::io_context& io);

}  // namespace svcproxy::discovery
