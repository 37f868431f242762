// One UDP Service listener of one worker (kube-proxy's UDP forwarding, without its
// conntrack pitfalls): a session per client address, each with one connected socket to
// the pod it picked; replies go back from the listener's socket, so from the Service
// address. A session whose pod is removed, not ready or ejected moves to another pod on
// its next datagram; idle sessions expire; at the bound the oldest idle one is evicted.
// Everything runs on the worker's io_context; nothing here is thread-safe.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/model.hpp"
#include "lb/backend.hpp"
#include "server/udp/udp_counters.hpp"

namespace svcproxy::server {

struct UdpRelaySettings {
  conf::Duration idle_timeout = std::chrono::seconds(30);  // timeouts.udpIdle
  // limits.maxUdpSessions: across every relay counting into the same UdpCounters. At the
  // bound a relay evicts its least recently active session; one with none drops.
  std::int64_t max_sessions = 100000;
};

class UdpRelay : public std::enable_shared_from_this<UdpRelay> {
 public:
  // The Backend of the route in force, looked up per new session (a reload replaces it).
  using BackendLookup = std::function<lb::BackendPtr()>;

  UdpRelay(boost::asio::io_context& io, boost::asio::ip::udp::socket listener,
           BackendLookup backend, UdpRelaySettings settings,
           UdpCounters& counters = udp_counters());
  ~UdpRelay();
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  void start();
  // Stops receiving and ends every session.
  void close();
  void set_settings(UdpRelaySettings settings) { settings_ = settings; }
  void set_backend(BackendLookup backend) { backend_ = std::move(backend); }

  std::size_t session_count() const { return sessions_.size(); }
  const UdpCounters& counters() const { return counters_; }

 private:
  struct Session;
  using SessionPtr = std::shared_ptr<Session>;

  static boost::asio::awaitable<void> receive_loop(std::shared_ptr<UdpRelay> self);
  static boost::asio::awaitable<void> reply_loop(std::shared_ptr<UdpRelay> self,
                                                 SessionPtr session);
  static boost::asio::awaitable<void> sweep_loop(std::shared_ptr<UdpRelay> self);

  void forward(const boost::asio::ip::udp::endpoint& client, std::size_t size,
               lb::Clock::time_point now);
  SessionPtr open_session(const boost::asio::ip::udp::endpoint& client, std::string key,
                          lb::Clock::time_point now);
  void end_session(const SessionPtr& session);
  void touch(Session& session, lb::Clock::time_point now);
  void expire_idle(lb::Clock::time_point now);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket listener_;
  BackendLookup backend_;
  UdpRelaySettings settings_;
  // By the client's raw socket address.
  std::unordered_map<std::string, SessionPtr> sessions_;
  std::list<Session*> by_activity_;  // most recently active first
  std::vector<char> buffer_;
  boost::asio::steady_timer sweeper_;
  UdpCounters& counters_;
  bool closed_ = false;
};

}  // namespace svcproxy::server
