// steady_clock's time (CLOCK_MONOTONIC) at the kernel tick's resolution (4 ms here), for
// deadlines and idle stamps that are checked at a coarser grain anyway. Measured on this
// VM: 4.7 ns a read against 23 ns for a precise one, and an L7 request stamps several.
// Durations that are reported (access log, metrics) keep the precise clock.
#pragma once

#include <time.h>

#include <chrono>

namespace svcproxy::server {

inline std::chrono::steady_clock::time_point coarse_now() {
  timespec now;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec)));
}

}  // namespace svcproxy::server
