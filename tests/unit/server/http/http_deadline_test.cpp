// An HTTP connection's deadline: what the worker's watch does at each tick.
#include "server/http/http_deadline.hpp"

#include <doctest/doctest.h>

using namespace svcproxy::server;
using namespace std::chrono_literals;
using Due = Deadline::Due;

namespace {
const Deadline::Clock::time_point t0 = Deadline::Clock::time_point() + 1000s;
}

TEST_CASE("no deadline: nothing is ever due") {
  Deadline d;
  CHECK(d.due(t0 + 10000h, 2s) == Due::Nothing);
  CHECK(d.fired() == Waiting::Nothing);
}

TEST_CASE("a passed deadline cancels once, then closes after the grace") {
  Deadline d;
  d.expect(Waiting::UpstreamHead, t0 + 5s);
  CHECK(d.due(t0 + 4s, 2s) == Due::Nothing);
  CHECK(d.due(t0 + 5s, 2s) == Due::Cancel);
  CHECK(d.fired() == Waiting::UpstreamHead);  // the forwarder answers 504 from this
  CHECK(d.waiting() == Waiting::Closing);
  CHECK(d.due(t0 + 6s, 2s) == Due::Nothing);  // writing the 504 within the grace
  CHECK(d.due(t0 + 7s, 2s) == Due::Close);
  CHECK(d.due(t0 + 100s, 2s) == Due::Nothing);  // closed once
  CHECK(d.fired() == Waiting::UpstreamHead);
}

TEST_CASE("moving the deadline on the data path postpones it") {
  Deadline d;
  d.expect(Waiting::RequestBody, t0 + 1s);
  d.expect(Waiting::Transfer, t0 + 60s);  // the body moved: idle timeout again
  CHECK(d.due(t0 + 30s, 2s) == Due::Nothing);
  d.expect_nothing();  // a tunnel keeps its own
  CHECK(d.due(t0 + 10000s, 2s) == Due::Nothing);
  CHECK(d.fired() == Waiting::Nothing);
}

TEST_CASE("a Closing deadline (an error being written) goes straight to a close") {
  Deadline d;
  d.expect(Waiting::Closing, t0 + 2s);
  CHECK(d.due(t0 + 2s, 2s) == Due::Close);
  CHECK(d.fired() == Waiting::Nothing);  // nothing timed out; the grace ended
}

TEST_CASE("a request-head timeout is remembered for the 408") {
  Deadline d;
  d.expect(Waiting::NextRequest, t0 + 60s);
  d.expect(Waiting::RequestHead, t0 + 10s);  // first bytes of the next request
  CHECK(d.due(t0 + 10s, 2s) == Due::Cancel);
  CHECK(d.fired() == Waiting::RequestHead);
}
