#include "server/upstream/upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "server/net/native_socket.hpp"
#include "server/upstream/upstream_tls.hpp"
#include "server/worker/coarse_clock.hpp"

namespace svcproxy::server {
using asio_socket = boost::asio::ip::tcp::socket;
using Clock = std::chrono::steady_clock;

bool idle_connection_usable(asio_socket& socket) {
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // 0: the pod closed; >0: bytes nobody asked for (the connection is out of step); an
  // error other than "nothing to read": reset.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

UpstreamPool::UpstreamPool() = default;
UpstreamPool::UpstreamPool(Settings settings) : settings_(settings) {}
UpstreamPool::~UpstreamPool() = default;

namespace {

bool usable(UpstreamPool::Connection& connection) {
  return idle_connection_usable(connection.socket) &&
         (!connection.tls || upstream_tls_idle(*connection.tls));
}

}  // namespace

std::optional<UpstreamPool::Connection> UpstreamPool::take(const lb::Endpoint& endpoint,
                                                           bool may_skip_check,
                                                           const UpstreamTls* tls) {
  const auto found = entries_.find(&endpoint);
  if (found == entries_.end()) return std::nullopt;
  auto& idle = found->second.idle;
  const auto now = may_skip_check ? coarse_now() : Clock::time_point{};
  while (!idle.empty()) {
    const bool fresh = may_skip_check && now - idle.back().since < settings_.verify_after;
    Connection connection = std::move(idle.back().connection);
    idle.pop_back();
    const UpstreamTls* made_for = connection.tls ? connection.tls->config.get() : nullptr;
    if (made_for == tls && (fresh || usable(connection))) return connection;
    close_quietly(connection.socket);
  }
  return std::nullopt;
}

void UpstreamPool::put(const lb::EndpointPtr& endpoint, asio_socket socket,
                       std::unique_ptr<UpstreamTlsSession> tls) {
  if (endpoint->terminating() || settings_.max_idle_per_endpoint == 0) {
    close_quietly(socket);
    return;
  }
  Entry& entry = entries_[endpoint.get()];
  if (!entry.endpoint) entry.endpoint = endpoint;
  if (entry.idle.size() >= settings_.max_idle_per_endpoint) {
    close_quietly(entry.idle.front().connection.socket);
    entry.idle.erase(entry.idle.begin());
  }
  entry.idle.push_back({{std::move(socket), std::move(tls)}, coarse_now()});
}

void UpstreamPool::sweep(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& idle = it->second.idle;
    std::erase_if(idle, [&](Idle& connection) {
      const bool keep = now - connection.since < settings_.idle_timeout &&
                        !it->second.endpoint->terminating() && usable(connection.connection);
      if (!keep) close_quietly(connection.connection.socket);
      return !keep;
    });
    it = idle.empty() ? entries_.erase(it) : std::next(it);
  }
}

void UpstreamPool::clear() {
  for (auto& [key, entry] : entries_)
    for (auto& idle : entry.idle)
      close_quietly(idle.connection.socket);
  entries_.clear();
}

std::size_t UpstreamPool::idle_count() const {
  std::size_t count = 0;
  for (const auto& [key, entry] : entries_)
    count += entry.idle.size();
  return count;
}

}  // namespace svcproxy::server
