// Whose fault a socket error is: every errno a connect, send or accept can report.
#include "server/upstream/socket_faults.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <cerrno>
#include <set>
#include <string>

#include "server/http_message/http_errors.hpp"

using namespace svcproxy::server;

namespace {

boost::system::error_code sys(int code) {
  return {code, boost::system::system_category()};
}

}  // namespace

TEST_CASE("every errno is classified as the pod's or svcproxy's own") {
  struct Case {
    int code;
    SocketFault fault;
  };
  const Case cases[] = {
      {ECONNREFUSED, SocketFault::Refused},
      {ETIMEDOUT, SocketFault::Timeout},
      {EHOSTUNREACH, SocketFault::Unreachable},
      {ENETUNREACH, SocketFault::Unreachable},
      {EHOSTDOWN, SocketFault::Unreachable},
      {ENETDOWN, SocketFault::Unreachable},
      {ECONNRESET, SocketFault::Reset},
      {EPIPE, SocketFault::Reset},
      {ECONNABORTED, SocketFault::Reset},
      {ENOTCONN, SocketFault::Reset},
      {EMFILE, SocketFault::FileDescriptors},
      {ENFILE, SocketFault::FileDescriptors},
      {ENOBUFS, SocketFault::Memory},
      {ENOMEM, SocketFault::Memory},
      {EADDRNOTAVAIL, SocketFault::LocalPorts},
      {EADDRINUSE, SocketFault::LocalPorts},
      {EINVAL, SocketFault::Other},
      {EACCES, SocketFault::Other},
  };
  for (const Case& c : cases) {
    CAPTURE(c.code);
    CHECK(classify_socket_error(sys(c.code)) == c.fault);
    CHECK(classify_socket_error({c.code, boost::system::generic_category()}) == c.fault);
  }
}

TEST_CASE("Asio's own codes: a timeout and an end of stream are the pod's") {
  CHECK(classify_socket_error(boost::asio::error::timed_out) == SocketFault::Timeout);
  CHECK(classify_socket_error(boost::asio::error::eof) == SocketFault::Reset);
  CHECK(classify_socket_error(boost::asio::error::connection_refused) == SocketFault::Refused);
  CHECK(classify_socket_error(boost::asio::error::no_descriptors) == SocketFault::FileDescriptors);
  CHECK(classify_socket_error(boost::asio::error::no_buffer_space) == SocketFault::Memory);
  // A Beast parse error is not a socket error: the pod's (a bad response), never local.
  CHECK(classify_socket_error(boost::beast::http::error::bad_version) == SocketFault::Other);
}

TEST_CASE("only descriptor, memory and port exhaustion are svcproxy's own") {
  std::set<std::string> local, pod;
  for (std::size_t i = 0; i < kSocketFaults; ++i) {
    const auto fault = static_cast<SocketFault>(i);
    (is_local(fault) ? local : pod).insert(to_string(fault));
    CHECK(is_local(fault) == (i >= kPodFaults));
  }
  CHECK(local == std::set<std::string>{"file_descriptors", "memory", "local_ports"});
  CHECK(pod == std::set<std::string>{"refused", "timeout", "unreachable", "reset", "tls", "other"});
}

TEST_CASE("an exchange that fails for svcproxy's own lack of buffers answers 503") {
  CHECK(classify_upstream_error(sys(ENOBUFS), false) == UpstreamFailure::LocalResource);
  CHECK(classify_upstream_error(sys(EMFILE), false) == UpstreamFailure::LocalResource);
  CHECK(to_http_error(UpstreamFailure::LocalResource) == HttpError::ServiceUnavailable);
  CHECK(classify_upstream_error(sys(ECONNRESET), false) == UpstreamFailure::Reset);
  CHECK(to_http_error(UpstreamFailure::ConnectFailed) == HttpError::BadGateway);
}

TEST_CASE("accept and local resource errors are counted by kind") {
  LocalFaultCounters& counters = local_fault_counters();
  const auto before =
      counters.local_resource_errors[static_cast<std::size_t>(SocketFault::FileDescriptors)].load();
  count_local_resource_error(SocketFault::FileDescriptors);
  count_accept_error(SocketFault::FileDescriptors);
  CHECK(counters.local_resource_errors[static_cast<std::size_t>(SocketFault::FileDescriptors)]
            .load() == before + 1);
  CHECK(counters.accept_errors[static_cast<std::size_t>(SocketFault::FileDescriptors)].load() >= 1);
}
