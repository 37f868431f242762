#include "server/worker/deadline_watch.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "server/worker/coarse_clock.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;

conf::Duration deadline_tick(const conf::Timeouts& timeouts) {
  const conf::Duration smallest =
      std::min({timeouts.idle, timeouts.request_header, timeouts.upstream_response,
                timeouts.request_body, timeouts.tls_handshake});
  return std::clamp(smallest / 10, conf::Duration(10), conf::Duration(1000));
}

void DeadlineWatch::join(WatchedSession& session) {
  sessions_.push_back(session);
  if (!parked_ || !timer_) return;
  parked_ = false;
  timer_->cancel();
}

void DeadlineWatch::close_idle_sessions() {
  for (auto& session : sessions_)
    session.close_if_idle();
}

asio::awaitable<void> DeadlineWatch::run(const RoutingTablePtr& routes) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer_ = &timer;
  for (;;) {
    parked_ = sessions_.empty() || !routes;
    if (parked_)
      timer.expires_at(asio::steady_timer::time_point::max());
    else
      timer.expires_after(deadline_tick(routes->settings.timeouts));
    auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (error && error != asio::error::operation_aborted) break;
    const auto now = coarse_now();
    for (auto& session : sessions_)
      session.check_deadline(now);
  }
  timer_ = nullptr;
}

}  // namespace svcproxy::server
