#include "server/net/native_socket.hpp"

#include <doctest/doctest.h>

using namespace svcproxy::server;
namespace asio = boost::asio;

namespace {

PeerAddress described(const char* ip, unsigned short port) {
  return describe_peer({asio::ip::make_address(ip), port});
}

}  // namespace

TEST_CASE("a peer is described as ip and ip:port, IPv6 in brackets") {
  CHECK(described("10.0.0.9", 8080).ip == "10.0.0.9");
  CHECK(described("10.0.0.9", 8080).ip_port == "10.0.0.9:8080");
  CHECK(described("0.0.0.0", 0).ip_port == "0.0.0.0:0");
  CHECK(described("255.255.255.255", 65535).ip_port == "255.255.255.255:65535");
  CHECK(described("127.100.7.30", 1).ip == "127.100.7.30");
  CHECK(described("::1", 80).ip == "::1");
  CHECK(described("::1", 80).ip_port == "[::1]:80");
  CHECK(described("fd00::12:3", 443).ip_port == "[fd00::12:3]:443");
}
