// One timer for every HTTP session's deadline of a worker (and every TLS handshake's),
// rather than one per connection:
// a watcher coroutine and timer per connection cost a Connection: close request 8,500 of
// its 44,800 instructions (callgrind) and its frames stayed with every idle connection. A
// deadline fires up to one tick late; the tick is a tenth of the smallest timeout, within
// 10 ms-1 s. Parked (no wake-ups) while the worker has no HTTP session. Worker-local.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>

#include "conf/model.hpp"
#include "server/worker/routing_table.hpp"

namespace svcproxy::server {

// A session the watch looks after: asked to close when it is between requests (drain),
// and to act on its deadline once that has passed.
class WatchedSession : public boost::intrusive::list_base_hook<
                           boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual void close_if_idle() = 0;
  virtual void check_deadline(std::chrono::steady_clock::time_point now) = 0;

 protected:
  ~WatchedSession() = default;
};

// A tenth of the smallest configured timeout, within 10 ms-1 s. (The closing grace is a
// backstop whose precision does not matter.) Each tick walks every HTTP session: 5,000
// idle ones cost 0.9% of a core at a 100 ms tick, 0.1% at the 1 s of the defaults.
conf::Duration deadline_tick(const conf::Timeouts& timeouts);

class DeadlineWatch {
 public:
  // A new session: watched until it is destroyed (the hook unlinks itself).
  void join(WatchedSession& session);
  // Drain: every session between requests closes now.
  void close_idle_sessions();
  // Runs on the worker until its io_context stops; ticks by `routes`' timeouts.
  boost::asio::awaitable<void> run(const RoutingTablePtr& routes);

 private:
  boost::intrusive::list<WatchedSession, boost::intrusive::constant_time_size<false>> sessions_;
  boost::asio::steady_timer* timer_ = nullptr;  // run()'s, in its frame
  bool parked_ = false;                         // waiting for the first session, not a tick
};

}  // namespace svcproxy::server
