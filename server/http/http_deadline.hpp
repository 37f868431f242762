// One deadline per HTTP connection: what it waits for and until when. The request loop and
// the forwarder move it as the connection changes state (expect); the worker's deadline
// watch asks it once per tick what is due. Both run on the worker thread. No I/O here, so
// every transition is unit-tested: HttpConnection does what due() says.
#pragma once

#include <chrono>

namespace svcproxy::server {

// What the connection is waiting for, which decides what happens at its deadline.
enum class Waiting {
  Nothing,       // no deadline (an upgrade tunnel has its own)
  NextRequest,   // keep-alive, nothing buffered: timeouts.idle, then a quiet close
  RequestHead,   // timeouts.requestHeader, then 408
  RequestBody,   // the next bytes of a request body: timeouts.requestBody, then 408
  Transfer,      // a body moving either way: timeouts.idle of inactivity, then a close
  UpstreamHead,  // request sent: timeouts.upstreamResponse, then 504
  Closing,       // writing an error or lingering: a short grace, then a hard close
};

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Due {
    Nothing,  // not yet (or no deadline)
    Cancel,   // cancel what is awaited: the request loop answers 408/504 or closes;
              // fired() says what it was, and the closing grace has begun
    Close,    // the grace is over too: close the sockets now
  };

  void expect(Waiting what, Clock::time_point at) {
    waiting_ = what;
    at_ = at;
  }
  void expect_nothing() { expect(Waiting::Nothing, Clock::time_point::max()); }

  // What is due at `now`; a Cancel moves the deadline to Closing, `grace` from `now`.
  Due due(Clock::time_point now, Clock::duration grace) {
    if (at_ > now) return Due::Nothing;
    if (waiting_ == Waiting::Closing) {
      at_ = Clock::time_point::max();
      return Due::Close;
    }
    fired_ = waiting_;
    expect(Waiting::Closing, now + grace);
    return Due::Cancel;
  }

  Waiting waiting() const { return waiting_; }
  // What was awaited when the deadline passed; Nothing while none has.
  Waiting fired() const { return fired_; }
  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_ = Clock::time_point::max();
  Waiting waiting_ = Waiting::Nothing;
  Waiting fired_ = Waiting::Nothing;
};

}  // namespace svcproxy::server
