#include "server/udp/udp_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// The largest UDP payload over IPv4 (65,535 - 8 - 20): any datagram passes whole.
constexpr std::size_t kMaxDatagram = 65507;

std::string address_key(const udp::endpoint& endpoint) {
  return std::string(reinterpret_cast<const char*>(endpoint.data()), endpoint.size());
}

// Whether a session may keep sending to its pod: the same test Backend::pick applies to a
// new pick, so a session never stays where a new one would not go.
bool serving(const lb::Endpoint& endpoint, lb::Clock::time_point now) {
  return endpoint.ready() && !endpoint.terminating() && !endpoint.ejected(now);
}

}  // namespace

struct UdpRelay::Session {
  Session(asio::io_context& io, udp::endpoint client_address, std::string key)
      : client(std::move(client_address)), key(std::move(key)), upstream(io) {}

  udp::endpoint client;
  std::string key;
  lb::ActiveGuard pod;  // counts the session as active on its pod (least connections)
  udp::socket upstream;
  lb::Clock::time_point last_active;
  std::list<Session*>::iterator activity;
  bool ended = false;
};

UdpCounters& udp_counters() {
  static UdpCounters counters;
  return counters;
}

UdpRelay::UdpRelay(asio::io_context& io, udp::socket listener, BackendLookup backend,
                   UdpRelaySettings settings, UdpCounters& counters)
    : io_(io),
      listener_(std::move(listener)),
      backend_(std::move(backend)),
      settings_(settings),
      buffer_(kMaxDatagram + 1),
      sweeper_(io),
      counters_(counters) {
  boost::system::error_code ignored;
  listener_.non_blocking(true, ignored);  // replies are sent without waiting; a full buffer drops
}

UdpRelay::~UdpRelay() = default;

void UdpRelay::start() {
  asio::co_spawn(io_, receive_loop(shared_from_this()), asio::detached);
  asio::co_spawn(io_, sweep_loop(shared_from_this()), asio::detached);
}

void UdpRelay::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  listener_.close(ignored);
  sweeper_.cancel();
  while (!by_activity_.empty())
    end_session(sessions_.at(by_activity_.back()->key));
}

asio::awaitable<void> UdpRelay::receive_loop(std::shared_ptr<UdpRelay> self) {
  udp::endpoint client;
  while (!self->closed_) {
    auto [error, size] = co_await self->listener_.async_receive_from(
        asio::buffer(self->buffer_), client, asio::as_tuple(asio::use_awaitable));
    if (self->closed_ || error == asio::error::operation_aborted) co_return;
    if (error) continue;  // an ICMP error for an earlier reply, ENOBUFS: the next one
    self->forward(client, size, lb::Clock::now());
  }
}

void UdpRelay::forward(const udp::endpoint& client, std::size_t size, lb::Clock::time_point now) {
  std::string key = address_key(client);
  SessionPtr session;
  if (auto found = sessions_.find(key); found != sessions_.end()) {
    session = found->second;
    if (!serving(*session->pod.endpoint(), now)) {
      // Its pod was removed, failed readiness or was ejected: the next datagram goes to a pod
      // that serves (kube-proxy's stale conntrack entry would blackhole it instead).
      const lb::BackendPtr backend = backend_ ? backend_() : nullptr;
      const std::string ip = client.address().to_string();
      lb::EndpointPtr next = backend ? backend->pick({ip, now, {}}) : nullptr;
      if (next != session->pod.endpoint()) {
        end_session(session);
        session = nullptr;
        counters_.sessions_moved.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  if (!session) session = open_session(client, std::move(key), now);
  if (!session) return;  // counted where it was refused
  touch(*session, now);
  boost::system::error_code error;
  session->upstream.send(asio::buffer(buffer_.data(), size), 0, error);
  if (error) {
    counters_.dropped_send_failed.fetch_add(1, std::memory_order_relaxed);
    if (error == asio::error::connection_refused) end_session(session);  // the pod's port is shut
    return;
  }
  counters_.datagrams_to_pods.fetch_add(1, std::memory_order_relaxed);
  counters_.bytes_to_pods.fetch_add(size, std::memory_order_relaxed);
}

UdpRelay::SessionPtr UdpRelay::open_session(const udp::endpoint& client, std::string key,
                                            lb::Clock::time_point now) {
  const lb::BackendPtr backend = backend_ ? backend_() : nullptr;
  if (!backend) {
    counters_.dropped_no_endpoint.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const std::string ip = client.address().to_string();
  lb::EndpointPtr pod = backend->pick({ip, now, {}});
  if (!pod) {
    counters_.dropped_no_endpoint.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  boost::system::error_code error;
  const auto address = asio::ip::make_address(pod->address().ip, error);
  if (error) return nullptr;
  if (counters_.sessions.load(std::memory_order_relaxed) >= settings_.max_sessions) {
    if (by_activity_.empty()) {
      counters_.dropped_session_limit.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    end_session(sessions_.at(by_activity_.back()->key));
    counters_.sessions_evicted.fetch_add(1, std::memory_order_relaxed);
  }
  auto session = std::make_shared<Session>(io_, client, key);
  const udp::endpoint target(address, static_cast<unsigned short>(pod->address().port));
  session->upstream.open(target.protocol(), error);
  if (!error) session->upstream.connect(target, error);
  if (!error) session->upstream.non_blocking(true, error);
  if (error) return nullptr;
  session->pod = lb::ActiveGuard(std::move(pod));
  session->last_active = now;
  by_activity_.push_front(session.get());
  session->activity = by_activity_.begin();
  sessions_.emplace(std::move(key), session);
  counters_.sessions.fetch_add(1, std::memory_order_relaxed);
  counters_.sessions_opened.fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(io_, reply_loop(shared_from_this(), session), asio::detached);
  return session;
}

asio::awaitable<void> UdpRelay::reply_loop(std::shared_ptr<UdpRelay> self, SessionPtr session) {
  std::vector<char> buffer(kMaxDatagram + 1);
  while (!session->ended) {
    auto [error, size] = co_await session->upstream.async_receive(
        asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (session->ended) co_return;
    if (error == asio::error::connection_refused) {
      // ICMP port unreachable from the pod: nobody listens there now. Counted against the
      // pod like a refused TCP connect; the client's next datagram picks again.
      if (const lb::BackendPtr backend = self->backend_ ? self->backend_() : nullptr)
        backend->report(*session->pod.endpoint(), lb::Outcome::ConnectFailure);
      self->end_session(session);
      co_return;
    }
    if (error) continue;
    self->touch(*session, lb::Clock::now());
    boost::system::error_code send_error;
    self->listener_.send_to(asio::buffer(buffer.data(), size), session->client, 0, send_error);
    if (send_error) {
      self->counters_.dropped_send_failed.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    self->counters_.datagrams_to_clients.fetch_add(1, std::memory_order_relaxed);
    self->counters_.bytes_to_clients.fetch_add(size, std::memory_order_relaxed);
  }
}

asio::awaitable<void> UdpRelay::sweep_loop(std::shared_ptr<UdpRelay> self) {
  while (!self->closed_) {
    // Often enough that a session outlives its timeout by at most a tenth of it.
    const auto period = std::clamp<conf::Duration>(
        self->settings_.idle_timeout / 10, std::chrono::milliseconds(10), std::chrono::seconds(1));
    self->sweeper_.expires_after(period);
    co_await self->sweeper_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (self->closed_) co_return;
    self->expire_idle(lb::Clock::now());
  }
}

void UdpRelay::expire_idle(lb::Clock::time_point now) {
  while (!by_activity_.empty() &&
         now - by_activity_.back()->last_active >= settings_.idle_timeout) {
    end_session(sessions_.at(by_activity_.back()->key));
    counters_.sessions_expired.fetch_add(1, std::memory_order_relaxed);
  }
}

void UdpRelay::touch(Session& session, lb::Clock::time_point now) {
  session.last_active = now;
  by_activity_.splice(by_activity_.begin(), by_activity_, session.activity);
}

void UdpRelay::end_session(const SessionPtr& ending) {
  // A copy: `ending` may be the map's own pointer, which the erase below destroys.
  const SessionPtr session = ending;
  if (session->ended) return;
  session->ended = true;
  boost::system::error_code ignored;
  session->upstream.close(ignored);
  session->pod.release();
  by_activity_.erase(session->activity);
  sessions_.erase(session->key);
  counters_.sessions.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace svcproxy::server
