// Which addresses svcproxy listens on for a configuration, and what each one serves.
// Pure: no sockets, so reload can diff two plans before touching any.
#pragma once

#include <compare>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::server {

struct ListenAddress {
  std::string ip;
  int port = 0;
  bool udp = false;  // a UDP port's socket; TCP and UDP of one ip:port are two addresses

  std::string to_string() const;
  friend auto operator<=>(const ListenAddress&, const ListenAddress&) = default;
};

enum class ListenerRole { ClusterIP, NodePort, LoadBalancer };

class TlsTerminator;

struct ListenerSpec {
  ListenAddress address;
  std::string backend_key;  // discovery::route_key() of the route it serves
  conf::AppProtocol protocol = conf::AppProtocol::Tcp;
  ListenerRole role = ListenerRole::ClusterIP;
  // A TLS port: "namespace/name:port" of the Service port, which the Proxy turns into the
  // terminator every listener of that port shares; "" and null for a plain port.
  std::string tls_port = {};
  std::shared_ptr<TlsTerminator> tls = {};

  friend bool operator==(const ListenerSpec&, const ListenerSpec&) = default;
};

// Every listener of the snapshot, sorted by address: ClusterIP at clusterIP:port (none for
// headless services), NodePort at each nodePortAddresses address :nodePort, LoadBalancer at
// each load-balancer IP (default: the nodePortAddresses) :port.
std::vector<ListenerSpec> plan_listeners(const conf::Snapshot& snapshot);

const char* to_string(ListenerRole role);

}  // namespace svcproxy::server

namespace svcproxy::server {

// Two service ports on the same address and port: one message per clash, naming both.
std::vector<std::string> find_listener_conflicts(const std::vector<ListenerSpec>& plan);

}  // namespace svcproxy::server
